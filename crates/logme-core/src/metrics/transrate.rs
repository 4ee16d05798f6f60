//! TransRate: how much the labels reduce the coding rate of the features.
//!
//! Huang, Huang, Jiang, Zhang, Nie and Lee, "Frustratingly Easy Transferability Estimation",
//! ICML 2022 (tllib `transrate`). With Z = F − μ the centred features, Z_c its rows of class c
//! (centred globally, not per class), n_M the rows of a matrix M and ε = 10⁻⁴:
//!
//! ```text
//! R(M)      = ½ · ln det( I_D + MᵀM / (n_M · ε) )
//! TransRate = R(Z) − (1/C) · Σ_{c=0}^{C−1} R(Z_c),      C = max(label) + 1
//! ```
//!
//! ε is used as the reference uses it (the paper writes ε² for the same number). The
//! log-determinant comes from the Cholesky factor of I + MᵀM/(n_M ε), or of I + MMᵀ/(n_M ε)
//! when M has fewer rows than columns (the two determinants are equal); MᵀM, MMᵀ and the
//! factorization come from the backend. The matrix has eigenvalues ≥ 1, so the factorization
//! is always stable.
//!
//! # Absent class ids
//!
//! The sum runs over every id below max(label) + 1 and divides by that count, as the reference
//! does. An id without samples has n_M = 0: the reference divides by zero and raises
//! `ZeroDivisionError`. [`transrate`] returns [`LogmeError::Unscorable`] naming the id instead;
//! build the labels with [`crate::LabelPolicy::Remap`] to score the classes that occur.
//!
//! # Limitations
//!
//! The coding rate is not invariant to the feature scale (ε is absolute), so compare TransRate
//! only across models whose features have comparable scales, as the paper does.

use crate::backend::{BackendErrorKind, LinalgBackend};
use crate::error::LogmeError;
use crate::metrics::common::{
    center_columns, check_features_and_labels, column_means, gram, row_gram, unscorable, widen,
};
use crate::targets::ClassLabels;
use crate::views::{FeatureMatrix, MatMut};

/// The distortion ε of the coding rate, as the reference uses it.
pub const TRANSRATE_EPS: f64 = 1e-4;

/// A TransRate value with its coding rates.
#[derive(Clone, Debug, PartialEq)]
pub struct TransRate {
    /// R(Z) − (1/C) Σ_c R(Z_c).
    pub value: f64,
    /// R(Z), the coding rate of all centred features.
    pub coding_rate_all: f64,
    /// R(Z_c) for every class id `0..C`.
    pub coding_rate_per_class: Vec<f64>,
}

/// TransRate of features on class labels (tllib definition).
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::NoFeatures`], [`LogmeError::LengthMismatch`],
/// [`LogmeError::NonFiniteFeature`], [`LogmeError::Backend`], and [`LogmeError::Unscorable`]
/// with fewer than two classes or a class id in `0..max(label)` without samples.
pub fn transrate<B: LinalgBackend + ?Sized>(
    backend: &B,
    features: FeatureMatrix<'_>,
    labels: &ClassLabels,
) -> Result<TransRate, LogmeError> {
    let counts = check_features_and_labels("transrate", &features, labels)?;
    if let Some(absent) = counts.iter().position(|c| *c == 0) {
        return Err(unscorable(
            "transrate",
            format!(
                "class id {absent} has no samples although labels go up to {}, and the coding \
                 rate of an empty class is undefined (the reference divides by zero); pass \
                 labels 0..C-1 without gaps or remap them",
                counts.len() - 1
            ),
        ));
    }
    let (n_samples, n_features) = (features.n_samples(), features.n_features());
    let mut centred = widen(&features);
    let means = column_means(&centred, n_samples, n_features);
    center_columns(&mut centred, &means);

    let coding_rate_all = coding_rate(backend, &centred, n_samples, n_features)?;

    // Per class: gather its globally centred rows (no re-centring) and take their rate.
    let mut coding_rate_per_class = Vec::with_capacity(counts.len());
    let mut rows = Vec::new();
    for (class_idx, &count) in counts.iter().enumerate() {
        rows.clear();
        rows.reserve(count * n_features);
        for (row, &id) in centred.chunks_exact(n_features).zip(labels.ids()) {
            if id as usize == class_idx {
                rows.extend_from_slice(row);
            }
        }
        coding_rate_per_class.push(coding_rate(backend, &rows, count, n_features)?);
    }
    let mean_class_rate =
        coding_rate_per_class.iter().sum::<f64>() / coding_rate_per_class.len() as f64;
    Ok(TransRate {
        value: coding_rate_all - mean_class_rate,
        coding_rate_all,
        coding_rate_per_class,
    })
}

/// R(M) = ½ ln det(I + MᵀM/(n ε)) for a packed row-major `[n_rows, n_cols]` matrix, `n_rows ≥ 1`.
fn coding_rate<B: LinalgBackend + ?Sized>(
    backend: &B,
    m: &[f64],
    n_rows: usize,
    n_cols: usize,
) -> Result<f64, LogmeError> {
    let (product, size) = if n_rows < n_cols {
        (row_gram(backend, m, n_rows, n_cols), n_rows)
    } else {
        (gram(backend, m, n_rows, n_cols), n_cols)
    };
    // I + product/(n ε) has eigenvalues ≥ 1: its Cholesky factor always exists.
    let scale = 1.0 / (n_rows as f64 * TRANSRATE_EPS);
    let mut shifted: Vec<f64> = product.iter().map(|v| v * scale).collect();
    for i in 0..size {
        shifted[i * size + i] += 1.0;
    }
    backend
        .cholesky(MatMut::row_major(&mut shifted, size, size))
        .map_err(|err| match err.kind {
            BackendErrorKind::NotPositiveDefinite { index } => unscorable(
                "transrate",
                format!("I + MᵀM/(nε) lost positive definiteness at pivot {index} to round-off"),
            ),
            _ => LogmeError::Backend(err),
        })?;
    // ½ ln det = ½ · 2 Σ ln Lᵢᵢ.
    Ok((0..size).map(|i| shifted[i * size + i].ln()).sum())
}
