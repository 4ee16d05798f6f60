//! LEEP: the log expected empirical prediction of a source model on the target labels.
//!
//! Nguyen, Hassner, Seeger and Archambeau, "LEEP: A New Measure to Evaluate Transferability of
//! Learned Representations", ICML 2020. With θ ∈ ℝᴺˣᶜˢ the source model's class probabilities
//! on the N target samples and y ∈ {0..C−1}ᴺ the target labels (C = max(y) + 1):
//!
//! ```text
//! J[c, j]  = (1/N) · Σ_{n : yₙ = c} θₙⱼ             empirical joint of target c and source j
//! P(c | j) = J[c, j] / Σ_c' J[c', j]                 empirical conditional
//! LEEP     = (1/N) · Σₙ ln Σⱼ θₙⱼ · P(yₙ | j)
//! ```
//!
//! LEEP ≤ 0; values closer to 0 predict better transfer. Rows of θ are not checked to sum to 1.
//!
//! # Never-predicted source classes
//!
//! A source column with zero total probability (hard one-hot predictions that never use class
//! j) makes P(· | j) = 0/0. The reference implementation (thuml/LogME `LEEP`, and the identical
//! tllib function) lets that NaN spread through its matrix product and returns LEEP = NaN. Such
//! a column contributes nothing to any sample's sum (its θₙⱼ are all 0), so [`leep`] drops it,
//! returns the value the formula means and lists the dropped columns in
//! [`LeepResult::dropped_source_classes`]. This equals Google's variant, which sets such
//! conditionals to 0.
//!
//! # Google's variant
//!
//! [`leep_google`] follows google-research `get_leep_score`, which NLEEP uses: the same
//! formula, with P(· | j) = 0 for a zero-mass column and −ln C as the contribution of a sample
//! whose inner sum is 0 (only an all-zero row of θ can do that). The reference runs in float32;
//! this port computes in f64, so it is closer to the exact value than the reference by the
//! float32 round-off (measured below 2·10⁻⁷ on the fixtures).

use crate::error::LogmeError;
use crate::metrics::SourceProbabilities;
use crate::metrics::common::{check_two_classes, unscorable};
use crate::targets::ClassLabels;

/// A LEEP value and the source classes left out of it.
#[derive(Clone, Debug, PartialEq)]
pub struct LeepResult {
    /// The LEEP score (≤ 0; closer to 0 is better).
    pub value: f64,
    /// Source classes with zero probability in every sample, dropped from the joint table (the
    /// reference code returns NaN when there are any).
    pub dropped_source_classes: Vec<usize>,
    /// Samples whose expected empirical prediction is 0 (all-zero probability rows); only
    /// [`leep_google`] accepts them, each contributing −ln C.
    pub rows_without_prediction: Vec<usize>,
}

/// LEEP of source-model probabilities on target labels (thuml/tllib definition, NaN-free).
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::LengthMismatch`], and
/// [`LogmeError::Unscorable`] when fewer than two classes have samples or a row of
/// probabilities is all zero (its logarithm would be −∞).
pub fn leep(
    probs: SourceProbabilities<'_>,
    labels: &ClassLabels,
) -> Result<LeepResult, LogmeError> {
    leep_impl("leep", probs, labels, false)
}

/// LEEP as Google's `get_leep_score` defines it: zero-mass source columns count as P = 0 and a
/// sample with a zero expected empirical prediction contributes −ln C.
///
/// Computed in f64 (the reference computes in float32; see the module docs).
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::LengthMismatch`], and
/// [`LogmeError::Unscorable`] when fewer than two classes have samples.
pub fn leep_google(
    probs: SourceProbabilities<'_>,
    labels: &ClassLabels,
) -> Result<LeepResult, LogmeError> {
    leep_impl("leep", probs, labels, true)
}

/// Shared body; `google` selects the −ln C rule for zero predictions instead of an error.
pub(crate) fn leep_impl(
    metric: &'static str,
    probs: SourceProbabilities<'_>,
    labels: &ClassLabels,
    google: bool,
) -> Result<LeepResult, LogmeError> {
    let n_samples = probs.n_samples();
    if n_samples < 2 {
        return Err(LogmeError::TooFewSamples { n_samples });
    }
    if labels.ids().len() != n_samples {
        return Err(LogmeError::LengthMismatch {
            features: n_samples,
            targets: labels.ids().len(),
        });
    }
    check_two_classes(metric, labels)?;
    let n_source = probs.n_source_classes();
    let n_classes = labels.n_classes();
    let ids = labels.ids();

    // Joint table J[c, j], each probability divided by N before it is summed (as the reference).
    let scale = n_samples as f64;
    let mut joint = vec![0.0; n_classes * n_source];
    for (row_idx, &id) in ids.iter().enumerate() {
        let dst = &mut joint[id as usize * n_source..(id as usize + 1) * n_source];
        for (j, p) in dst.iter_mut().zip(probs.row(row_idx)) {
            *j += p / scale;
        }
    }

    // Column masses; a zero-mass column is dropped (its conditional stays 0).
    let mut mass = vec![0.0; n_source];
    for row in joint.chunks_exact(n_source) {
        for (m, j) in mass.iter_mut().zip(row) {
            *m += j;
        }
    }
    let dropped_source_classes: Vec<usize> = mass
        .iter()
        .enumerate()
        .filter(|(_, m)| **m == 0.0)
        .map(|(j, _)| j)
        .collect();
    let mut conditional = joint;
    for row in conditional.chunks_exact_mut(n_source) {
        for (c, m) in row.iter_mut().zip(&mass) {
            *c = if *m == 0.0 { 0.0 } else { *c / m };
        }
    }

    // Mean log expected empirical prediction.
    let mut total = 0.0;
    let mut rows_without_prediction = Vec::new();
    for (row_idx, &id) in ids.iter().enumerate() {
        let cond = &conditional[id as usize * n_source..(id as usize + 1) * n_source];
        let eep: f64 = probs
            .row(row_idx)
            .iter()
            .zip(cond)
            .map(|(p, c)| p * c)
            .sum();
        if eep > 0.0 {
            total += eep.ln();
        } else if google {
            rows_without_prediction.push(row_idx);
            total -= (n_classes as f64).ln();
        } else {
            return Err(unscorable(
                metric,
                format!(
                    "the source probabilities of sample {row_idx} give its label probability 0, \
                     so its log is -inf (an all-zero probability row); pass probability rows"
                ),
            ));
        }
    }
    Ok(LeepResult {
        value: total / scale,
        dropped_source_classes,
        rows_without_prediction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::Targets;

    fn labels(ids: &[u32]) -> ClassLabels {
        Targets::classes(ids).unwrap().as_classes().unwrap().clone()
    }

    #[test]
    fn hard_predictions_with_a_never_predicted_class_are_finite() {
        // One-hot predictions of i mod 3 over 4 source classes; class 3 is never predicted.
        let n = 12;
        let mut probs = vec![0.0; n * 4];
        for i in 0..n {
            probs[i * 4 + i % 3] = 1.0;
        }
        let targets: Vec<u32> = (0..n as u32).map(|i| (i / 4) % 3).collect();
        let probs = SourceProbabilities::new(&probs, n, 4).unwrap();
        let result = leep(probs, &labels(&targets)).unwrap();
        assert_eq!(result.value, -1.0397207708399179);
        assert_eq!(result.dropped_source_classes, vec![3]);
        assert_eq!(leep_google(probs, &labels(&targets)).unwrap(), result);
    }

    #[test]
    fn an_all_zero_row_is_an_error_here_and_minus_log_c_for_google() {
        let probs = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0];
        let probs = SourceProbabilities::new(&probs, 4, 2).unwrap();
        let y = labels(&[0, 0, 1, 1]);
        assert!(matches!(
            leep(probs, &y),
            Err(LogmeError::Unscorable { .. })
        ));
        let google = leep_google(probs, &y).unwrap();
        assert_eq!(google.rows_without_prediction, vec![1]);
        let expected = (0.0 + -(2f64.ln()) + 0.0 + 0.0) / 4.0;
        assert!((google.value - expected).abs() < 1e-15);
    }

    #[test]
    fn bad_probabilities_are_refused() {
        assert!(SourceProbabilities::new(&[0.5, -0.1], 1, 2).is_err());
        assert!(SourceProbabilities::new(&[0.5, f64::NAN], 1, 2).is_err());
        assert!(SourceProbabilities::new(&[0.5, 0.5, 1.0], 1, 2).is_err());
    }
}
