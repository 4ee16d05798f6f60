//! H-score: how much of the feature covariance the class means explain.
//!
//! Bao, Li, Huang, Wang, Wornell and Zheng, "An Information-Theoretic Approach to
//! Transferability in Task Transfer Learning", ICIP 2019. With F ∈ ℝᴺˣᴰ the features, μ their
//! mean, μ_c the mean of class c and n_c its size:
//!
//! ```text
//! cov(F) = (1/(N−1)) · Σₙ (fₙ − μ)(fₙ − μ)ᵀ
//! cov(G) = (1/(N−1)) · Σ_c n_c (μ_c − μ)(μ_c − μ)ᵀ    (G: each row replaced by its class mean)
//! H      = tr( cov(F)⁺ · cov(G) )
//! ```
//!
//! The N − 1 denominators cancel. With the eigen-decomposition Σₙ (fₙ − μ)(fₙ − μ)ᵀ = V Λ Vᵀ,
//! H = Σᵢ (Σ_c n_c (vᵢᵀ(μ_c − μ))²) / λᵢ over the directions the pseudo-inverse keeps. This is
//! the definition of tllib's `h_score` (the matrix-product trace). Absent class ids contribute
//! nothing (the reference only warns about an empty mean). H lies in [0, number of classes − 1]
//! and saturates at that bound when N − 1 ≤ D.
//!
//! # Pseudo-inverse cutoff
//!
//! The reference drops singular values ≤ 10⁻¹⁵ × the largest. Here a direction is dropped when
//! |λᵢ| ≤ max(10⁻¹⁵, max(N, D)·ε) × max |λ|: on well-posed inputs the two agree (they do on every
//! fixture), and the larger bound keeps eigenvalues that are zero up to round-off (N ≤ D) out of
//! the sum. Near-null directions above the cutoff are kept, so ill-conditioned features amplify
//! round-off (5·10⁻¹¹ relative agreement with the reference on a fixture with a feature
//! direction 4·10⁻⁸ below the largest, 10⁻¹² or better elsewhere).
//!
//! # Google's variant
//!
//! [`h_score_google`] follows google-research `get_hscore`: the trace of the **element-wise**
//! product, Σ_d cov(F)⁺_dd · cov(G)_dd, with a pseudo-inverse cutoff of 10⁻⁵. It is not the
//! H-score of the paper and its values differ widely from [`h_score`]; it is offered to
//! reproduce published numbers that used it.
//!
//! # Limitations
//!
//! With N − 1 ≤ D every model saturates at the same bound, so the H-score cannot rank models
//! there; use [`crate::metrics::shrinkage_h_score()`] instead.

use crate::backend::LinalgBackend;
use crate::error::LogmeError;
use crate::metrics::common::{
    SymmetricEigen, center_columns, check_features_and_labels, class_means, column_means, gram,
    pinv_cutoff, symmetric_eigen, widen,
};
use crate::targets::ClassLabels;
use crate::views::FeatureMatrix;

/// The reference pseudo-inverse cutoff of the H-score (relative to the largest eigenvalue).
pub const H_SCORE_RCOND: f64 = 1e-15;

/// The pseudo-inverse cutoff of Google's variant (relative to the largest eigenvalue).
pub const H_SCORE_GOOGLE_RCOND: f64 = 1e-5;

/// The centred scatter's eigen-decomposition and the centred class means.
pub(crate) struct Scatter {
    pub n_samples: usize,
    pub n_features: usize,
    /// Eigen-decomposition of Σₙ (fₙ − μ)(fₙ − μ)ᵀ.
    pub eigen: SymmetricEigen,
    /// μ_c − μ, `[C, D]` row-major (zero rows for absent classes).
    pub class_offsets: Vec<f64>,
    /// n_c.
    pub counts: Vec<usize>,
    /// The centred features, `[N, D]` row-major.
    pub centred: Vec<f64>,
    /// The scatter Σₙ (fₙ − μ)(fₙ − μ)ᵀ, full `[D, D]` row-major.
    pub scatter: Vec<f64>,
}

impl Scatter {
    /// Centres the features, forms their scatter and decomposes it.
    pub(crate) fn new<B: LinalgBackend + ?Sized>(
        backend: &B,
        metric: &'static str,
        features: FeatureMatrix<'_>,
        labels: &ClassLabels,
    ) -> Result<Self, LogmeError> {
        let counts = check_features_and_labels(metric, &features, labels)?;
        let (n_samples, n_features) = (features.n_samples(), features.n_features());
        let mut centred = widen(&features);
        let means = column_means(&centred, n_samples, n_features);
        center_columns(&mut centred, &means);
        let scatter = gram(backend, &centred, n_samples, n_features);
        let eigen = symmetric_eigen(backend, &scatter, n_features)?;
        let class_offsets = class_means(&centred, n_features, labels.ids(), &counts);
        Ok(Self {
            n_samples,
            n_features,
            eigen,
            class_offsets,
            counts,
            centred,
            scatter,
        })
    }

    /// vᵢᵀ B vᵢ with B = Σ_c n_c (μ_c − μ)(μ_c − μ)ᵀ, for every eigenvector i.
    pub(crate) fn between_class_along_eigenvectors(&self) -> Vec<f64> {
        let d = self.n_features;
        (0..d)
            .map(|i| {
                let v = self.eigen.vector(i);
                let mut total = 0.0;
                for (offset, &count) in self.class_offsets.chunks_exact(d).zip(&self.counts) {
                    if count > 0 {
                        let proj: f64 = v.iter().zip(offset).map(|(a, b)| a * b).sum();
                        total += count as f64 * proj * proj;
                    }
                }
                total
            })
            .collect()
    }

    /// Diagonal of B = Σ_c n_c (μ_c − μ)(μ_c − μ)ᵀ.
    fn between_class_diagonal(&self) -> Vec<f64> {
        let d = self.n_features;
        let mut diag = vec![0.0; d];
        for (offset, &count) in self.class_offsets.chunks_exact(d).zip(&self.counts) {
            for (b, o) in diag.iter_mut().zip(offset) {
                *b += count as f64 * o * o;
            }
        }
        diag
    }
}

/// H-score of features on class labels (tllib definition: matrix-product trace).
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::NoFeatures`], [`LogmeError::LengthMismatch`],
/// [`LogmeError::NonFiniteFeature`], [`LogmeError::Unscorable`] with fewer than two classes,
/// [`LogmeError::Backend`].
pub fn h_score<B: LinalgBackend + ?Sized>(
    backend: &B,
    features: FeatureMatrix<'_>,
    labels: &ClassLabels,
) -> Result<f64, LogmeError> {
    let scatter = Scatter::new(backend, "hscore", features, labels)?;
    let cutoff = pinv_cutoff(
        scatter.eigen.largest_abs(),
        scatter.n_samples,
        scatter.n_features,
        H_SCORE_RCOND,
    );
    let between = scatter.between_class_along_eigenvectors();
    let mut total = 0.0;
    for (lambda, b) in scatter.eigen.values.iter().zip(&between) {
        if lambda.abs() > cutoff {
            total += b / lambda;
        }
    }
    Ok(total)
}

/// Google's H-score variant: Σ_d cov(F)⁺_dd · cov(G)_dd with a 10⁻⁵ pseudo-inverse cutoff.
///
/// # Errors
/// As [`h_score`].
pub fn h_score_google<B: LinalgBackend + ?Sized>(
    backend: &B,
    features: FeatureMatrix<'_>,
    labels: &ClassLabels,
) -> Result<f64, LogmeError> {
    let scatter = Scatter::new(backend, "hscore", features, labels)?;
    let d = scatter.n_features;
    let cutoff = H_SCORE_GOOGLE_RCOND * scatter.eigen.largest_abs();

    // Diagonal of the pseudo-inverse: Σᵢ vᵢ[d]² / λᵢ over the kept directions.
    let mut pinv_diag = vec![0.0; d];
    for (i, lambda) in scatter.eigen.values.iter().enumerate() {
        if lambda.abs() > cutoff {
            for (p, v) in pinv_diag.iter_mut().zip(scatter.eigen.vector(i)) {
                *p += v * v / lambda;
            }
        }
    }
    let between = scatter.between_class_diagonal();
    Ok(pinv_diag.iter().zip(&between).map(|(p, b)| p * b).sum())
}
