//! Input checks and dense helpers shared by the feature-based metrics.
//!
//! Everything here runs sequentially in a fixed order, so results do not depend on threads.

use crate::backend::LinalgBackend;
use crate::error::LogmeError;
use crate::targets::ClassLabels;
use crate::views::{FeatureMatrix, MatMut, MatView};

/// Checks what every feature-based metric needs: N ≥ 2, D ≥ 1, one label per row, finite
/// features, and at least two classes with samples. Returns the per-class counts (`0..C`).
pub(crate) fn check_features_and_labels(
    metric: &'static str,
    features: &FeatureMatrix<'_>,
    labels: &ClassLabels,
) -> Result<Vec<usize>, LogmeError> {
    let n_samples = features.n_samples();
    if n_samples < 2 {
        return Err(LogmeError::TooFewSamples { n_samples });
    }
    if features.n_features() == 0 {
        return Err(LogmeError::NoFeatures);
    }
    if labels.ids().len() != n_samples {
        return Err(LogmeError::LengthMismatch {
            features: n_samples,
            targets: labels.ids().len(),
        });
    }
    features.validate()?;
    check_two_classes(metric, labels)
}

/// Checks that at least two classes have samples; returns the per-class counts.
pub(crate) fn check_two_classes(
    metric: &'static str,
    labels: &ClassLabels,
) -> Result<Vec<usize>, LogmeError> {
    let counts = labels.counts();
    let n_present = counts.iter().filter(|c| **c > 0).count();
    if n_present < 2 {
        return Err(LogmeError::Unscorable {
            metric,
            reason: format!(
                "{n_present} class has samples; a transferability score compares at least two \
                 classes, so pass labels of two or more classes"
            ),
        });
    }
    Ok(counts)
}

/// The features as a packed row-major f64 copy `[N, D]`.
pub(crate) fn widen(features: &FeatureMatrix<'_>) -> Vec<f64> {
    let (n_samples, n_features) = (features.n_samples(), features.n_features());
    let mut x = vec![0.0; n_samples * n_features];
    features.widen_rows_into(0, n_samples, &mut x);
    x
}

/// Column means of a packed row-major `[n_rows, n_cols]` matrix.
pub(crate) fn column_means(x: &[f64], n_rows: usize, n_cols: usize) -> Vec<f64> {
    let mut means = vec![0.0; n_cols];
    for row in x.chunks_exact(n_cols) {
        for (m, v) in means.iter_mut().zip(row) {
            *m += v;
        }
    }
    for m in &mut means {
        *m /= n_rows as f64;
    }
    means
}

/// Subtracts `means` from every row of a packed row-major matrix.
pub(crate) fn center_columns(x: &mut [f64], means: &[f64]) {
    for row in x.chunks_exact_mut(means.len()) {
        for (v, m) in row.iter_mut().zip(means) {
            *v -= m;
        }
    }
}

/// Per-class means `[C, D]` (row-major) of a packed row-major matrix; absent classes stay 0.
pub(crate) fn class_means(x: &[f64], n_cols: usize, ids: &[u32], counts: &[usize]) -> Vec<f64> {
    let mut means = vec![0.0; counts.len() * n_cols];
    for (row, &id) in x.chunks_exact(n_cols).zip(ids) {
        let dst = &mut means[id as usize * n_cols..(id as usize + 1) * n_cols];
        for (m, v) in dst.iter_mut().zip(row) {
            *m += v;
        }
    }
    for (class_idx, &count) in counts.iter().enumerate() {
        if count > 0 {
            for m in &mut means[class_idx * n_cols..(class_idx + 1) * n_cols] {
                *m /= count as f64;
            }
        }
    }
    means
}

/// `xᵀx` of a packed row-major `[n_rows, n_cols]` matrix, as a full symmetric row-major
/// `[n_cols, n_cols]` matrix.
pub(crate) fn gram<B: LinalgBackend + ?Sized>(
    backend: &B,
    x: &[f64],
    n_rows: usize,
    n_cols: usize,
) -> Vec<f64> {
    let mut g = vec![0.0; n_cols * n_cols];
    if n_rows > 0 {
        backend.syrk(
            MatView::row_major(x, n_rows, n_cols),
            MatMut::row_major(&mut g, n_cols, n_cols),
        );
    }
    mirror_lower(&mut g, n_cols);
    g
}

/// `xxᵀ` of a packed row-major `[n_rows, n_cols]` matrix, as a full symmetric row-major
/// `[n_rows, n_rows]` matrix.
pub(crate) fn row_gram<B: LinalgBackend + ?Sized>(
    backend: &B,
    x: &[f64],
    n_rows: usize,
    n_cols: usize,
) -> Vec<f64> {
    let mut k = vec![0.0; n_rows * n_rows];
    if n_cols > 0 {
        backend.gram_rows(
            MatView::row_major(x, n_rows, n_cols),
            MatMut::row_major(&mut k, n_rows, n_rows),
        );
    }
    mirror_lower(&mut k, n_rows);
    k
}

/// Copies the lower triangle of a row-major square matrix onto its upper triangle.
pub(crate) fn mirror_lower(a: &mut [f64], n: usize) {
    for row_idx in 0..n {
        for col_idx in 0..row_idx {
            a[col_idx * n + row_idx] = a[row_idx * n + col_idx];
        }
    }
}

/// Eigenvalues (ascending) and eigenvectors of a symmetric matrix.
pub(crate) struct SymmetricEigen {
    /// Eigenvalues, ascending.
    pub values: Vec<f64>,
    /// Eigenvectors as columns of a column-major `[n, n]` matrix: vector i is
    /// `vectors[i * n..(i + 1) * n]`.
    pub vectors: Vec<f64>,
}

impl SymmetricEigen {
    /// Eigenvector `idx` (in the ascending order of the values).
    pub fn vector(&self, idx: usize) -> &[f64] {
        let n = self.values.len();
        &self.vectors[idx * n..(idx + 1) * n]
    }

    /// The largest absolute eigenvalue.
    pub fn largest_abs(&self) -> f64 {
        self.values.iter().fold(0.0, |acc: f64, v| acc.max(v.abs()))
    }
}

/// Symmetric eigen-decomposition of a row-major `[n, n]` matrix (the lower triangle is read).
pub(crate) fn symmetric_eigen<B: LinalgBackend + ?Sized>(
    backend: &B,
    a: &[f64],
    n: usize,
) -> Result<SymmetricEigen, LogmeError> {
    let mut values = vec![0.0; n];
    let mut vectors = vec![0.0; n * n];
    backend.eigh(
        MatView::row_major(a, n, n),
        &mut values,
        MatMut::col_major(&mut vectors, n, n),
    )?;
    Ok(SymmetricEigen { values, vectors })
}

/// The pseudo-inverse cutoff used by the H-scores: the reference rcond times the largest
/// eigenvalue, raised to max(N, D)·ε times it so that directions which are zero up to
/// round-off (N ≤ D) never enter.
pub(crate) fn pinv_cutoff(
    largest_abs: f64,
    n_samples: usize,
    n_features: usize,
    rcond: f64,
) -> f64 {
    let rounding = n_samples.max(n_features) as f64 * f64::EPSILON;
    rcond.max(rounding) * largest_abs
}

/// Σ v², summed left to right in a plain loop.
pub(crate) fn sum_of_squares(v: &[f64]) -> f64 {
    let mut total = 0.0;
    let mut idx = 0;
    while idx < v.len() {
        total += v[idx] * v[idx];
        idx += 1;
    }
    total
}

/// The Unscorable error of a metric.
pub(crate) fn unscorable(metric: &'static str, reason: String) -> LogmeError {
    LogmeError::Unscorable { metric, reason }
}
