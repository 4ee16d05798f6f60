//! NCE: the negative conditional entropy of the target labels given the source labels.
//!
//! Tran, Nguyen and Hassner, "Transferability and Hardness of Supervised Classification Tasks",
//! ICCV 2019. With z ∈ ℕᴺ the source model's hard predictions (the argmax of its probabilities)
//! and y the target labels:
//!
//! ```text
//! J[t, s]  = #{n : yₙ = t, zₙ = s} / N          empirical joint
//! p(s)     = Σ_t J[t, s]
//! H(Y | Z) = −Σ_{s : p(s) > 0} p(s) · Σ_t q_ts · ln q_ts,   q_ts = J[t, s] / p(s)
//! NCE      = −H(Y | Z)
//! ```
//!
//! NCE ≤ 0; 0 means the source prediction determines the target label. Source classes that no
//! sample is predicted as (p(s) = 0) are skipped, as in the reference code (thuml/LogME `NCE`,
//! identical to tllib's), which only warns about the 0/0 it computes for them. The reference adds
//! 10⁻²⁰ to every q before the logarithm; here 0·ln 0 = 0 exactly, which differs by less than
//! 10⁻¹⁷.

use crate::error::LogmeError;
use crate::metrics::SourceLabels;
use crate::metrics::common::check_two_classes;
use crate::targets::ClassLabels;

/// NCE of hard source predictions on the target labels.
///
/// Any source class ids are accepted (gaps included); the target labels are the ones scored.
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::LengthMismatch`], and
/// [`LogmeError::Unscorable`] when fewer than two target classes have samples.
pub fn nce(source: SourceLabels<'_>, target: &ClassLabels) -> Result<f64, LogmeError> {
    let n_samples = source.ids().len();
    if n_samples < 2 {
        return Err(LogmeError::TooFewSamples { n_samples });
    }
    if target.ids().len() != n_samples {
        return Err(LogmeError::LengthMismatch {
            features: n_samples,
            targets: target.ids().len(),
        });
    }
    check_two_classes("nce", target)?;

    // Sort the (source, target) pairs so that each source class is one run and each joint cell
    // one sub-run; this needs no table sized by the largest source id.
    let mut pairs: Vec<(u32, u32)> = source
        .ids()
        .iter()
        .copied()
        .zip(target.ids().iter().copied())
        .collect();
    pairs.sort_unstable();

    let n = n_samples as f64;
    let mut conditional_entropy = 0.0;
    let mut start = 0;
    while start < pairs.len() {
        let source_id = pairs[start].0;
        let end = start
            + pairs[start..]
                .iter()
                .take_while(|p| p.0 == source_id)
                .count();
        let source_count = (end - start) as f64;

        // Entropy of the target labels among the samples predicted as this source class.
        let mut entropy = 0.0;
        let mut cell_start = start;
        while cell_start < end {
            let target_id = pairs[cell_start].1;
            let cell_len = pairs[cell_start..end]
                .iter()
                .take_while(|p| p.1 == target_id)
                .count();
            let q = cell_len as f64 / source_count;
            entropy -= q * q.ln();
            cell_start += cell_len;
        }
        conditional_entropy += source_count / n * entropy;
        start = end;
    }
    Ok(-conditional_entropy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::Targets;

    #[test]
    fn matches_the_hand_computed_value() {
        let target = Targets::classes(&[0u8, 1, 1, 1]).unwrap();
        let value = nce(
            SourceLabels::new(&[0, 0, 1, 1]),
            target.as_classes().unwrap(),
        )
        .unwrap();
        assert_eq!(value, -0.34657359027997264);
    }

    #[test]
    fn perfect_source_gives_zero_and_ids_may_have_gaps() {
        let target = Targets::classes(&[0u8, 1, 1, 0]).unwrap();
        let value = nce(
            SourceLabels::new(&[7, 900, 900, 7]),
            target.as_classes().unwrap(),
        );
        assert_eq!(value.unwrap(), 0.0);
    }
}
