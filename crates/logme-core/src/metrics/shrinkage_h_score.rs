//! Shrinkage H-score: the H-score with a Ledoit–Wolf shrunk feature covariance.
//!
//! Ibrahim, Ponomareva and Mazumder, "Newer is not always better: Rethinking transferability
//! metrics, their peculiarities, stability and performance", ICLR 2023 (tllib
//! `regularized_h_score`). With X = F − μ the centred features (N × D):
//!
//! ```text
//! S   = XᵀX / N                       biased covariance
//! m   = tr(S) / D
//! δ₀  = Σᵢⱼ Sᵢⱼ²
//! β₀  = Σₙ ‖xₙ‖⁴ / N                  = Σ of the entries of (X∘X)ᵀ(X∘X), over N
//! β   = (β₀ − δ₀) / (D·N)
//! δ   = (δ₀ − 2m · Σⱼ (Σₙ xₙⱼ²) / N + D·m²) / D
//! a   = min(β, δ) / δ                 Ledoit–Wolf shrinkage (0 when β = 0 or δ = 0)
//! Σₐ  = (1 − a)·S + a·m·I
//! cov(G) = (1/(N−1)) · Σ_c n_c (μ_c − μ)(μ_c − μ)ᵀ
//! value  = tr( Σₐ⁺ · (1 − a)·cov(G) )
//! ```
//!
//! The shrinkage follows scikit-learn's `ledoit_wolf_shrinkage` term by term. The covariance of the
//! features is divided by N while that of the class means is divided by N − 1, as in the reference:
//! with a = 0 the value is N/(N − 1) times [`crate::metrics::h_score()`]. The mismatch is kept so
//! that published numbers are reproduced. Σₐ shares the eigenvectors of XᵀX, so one
//! eigen-decomposition gives everything; the pseudo-inverse cutoff is the one of the H-score. When
//! δ = 0 (S is already a multiple of the identity, where the reference divides 0 by 0) a = 0 is
//! used: shrinking towards m·I then changes nothing.

use crate::backend::LinalgBackend;
use crate::error::LogmeError;
use crate::metrics::common::pinv_cutoff;
use crate::metrics::h_score::{H_SCORE_RCOND, Scatter};
use crate::targets::ClassLabels;
use crate::views::FeatureMatrix;

/// A shrinkage H-score and the Ledoit–Wolf shrinkage it used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShrinkageHScore {
    /// The score.
    pub value: f64,
    /// The Ledoit–Wolf shrinkage a ∈ [0, 1].
    pub shrinkage: f64,
}

/// Shrinkage H-score of features on class labels (tllib `regularized_h_score`).
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::NoFeatures`], [`LogmeError::LengthMismatch`],
/// [`LogmeError::NonFiniteFeature`], [`LogmeError::Unscorable`] with fewer than two classes,
/// [`LogmeError::Backend`].
pub fn shrinkage_h_score<B: LinalgBackend + ?Sized>(
    backend: &B,
    features: FeatureMatrix<'_>,
    labels: &ClassLabels,
) -> Result<ShrinkageHScore, LogmeError> {
    let scatter = Scatter::new(backend, "shrinkage-hscore", features, labels)?;
    let (n, d) = (scatter.n_samples, scatter.n_features);
    let n_f = n as f64;
    let d_f = d as f64;

    // Ledoit–Wolf shrinkage, term by term.
    let mut column_sq = vec![0.0; d];
    let mut beta_sum = 0.0;
    for row in scatter.centred.chunks_exact(d) {
        let mut row_sq = 0.0;
        for (c, v) in column_sq.iter_mut().zip(row) {
            *c += v * v;
            row_sq += v * v;
        }
        beta_sum += row_sq * row_sq;
    }
    let trace_terms: Vec<f64> = column_sq.iter().map(|c| c / n_f).collect();
    let trace_sum: f64 = trace_terms.iter().sum();
    let mean_variance = trace_sum / d_f;
    let delta_sum = scatter.scatter.iter().map(|g| g * g).sum::<f64>() / (n_f * n_f);
    let beta = (beta_sum / n_f - delta_sum) / (d_f * n_f);
    let delta =
        (delta_sum - 2.0 * mean_variance * trace_sum + d_f * mean_variance * mean_variance) / d_f;
    let beta = beta.min(delta);
    let shrinkage = if beta == 0.0 || delta == 0.0 {
        0.0
    } else {
        beta / delta
    };

    // Eigenvalues of the shrunk covariance; its target m·I uses tr(S)/D as the reference does.
    let trace_s: f64 = (0..d).map(|i| scatter.scatter[i * d + i]).sum::<f64>() / n_f;
    let target = shrinkage * trace_s / d_f;
    let shrunk: Vec<f64> = scatter
        .eigen
        .values
        .iter()
        .map(|l| (1.0 - shrinkage) * l / n_f + target)
        .collect();
    let largest = shrunk.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    let cutoff = pinv_cutoff(largest, n, d, H_SCORE_RCOND);

    // tr(Σₐ⁺ · (1 − a)·B/(N − 1)) along the shared eigenvectors.
    let between = scatter.between_class_along_eigenvectors();
    let mut total = 0.0;
    for (e, b) in shrunk.iter().zip(&between) {
        if e.abs() > cutoff {
            total += b / e;
        }
    }
    let value = (1.0 - shrinkage) * total / (n_f - 1.0);
    Ok(ShrinkageHScore { value, shrinkage })
}
