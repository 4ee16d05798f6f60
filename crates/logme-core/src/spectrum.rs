//! From data to the spectral quantities the solvers need.
//!
//! Two paths give the same eigenvalues σᵢ of FᵀF and projections xᵢ = uᵢᵀy:
//!
//! - **Gram** (N > D): eigen-decompose G = FᵀF = V diag(σ) Vᵀ from the [`SufficientStats`];
//!   then xᵢ = vᵢᵀFᵀy / √σᵢ. U (N x k) is never formed.
//! - **Row Gram** (N ≤ D, few-shot): eigen-decompose K = FFᵀ = U diag(σ) Uᵀ (N x N), so that
//!   x = UᵀY directly; the weights come back through one product with Fᵀ.

use crate::backend::LinalgBackend;
use crate::error::LogmeError;
use crate::stats::SufficientStats;
use crate::targets::Targets;
use crate::views::{FeatureMatrix, MatMut, MatView};

/// Which decomposition produced the spectrum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SolvePath {
    /// Eigen-decomposition of the D x D Gram matrix FᵀF (used when N > D).
    Gram,
    /// Eigen-decomposition of the N x N row Gram matrix FFᵀ (used when N ≤ D).
    RowGram,
}

impl SolvePath {
    /// Lowercase identifier for reports.
    pub fn name(self) -> &'static str {
        match self {
            SolvePath::Gram => "gram",
            SolvePath::RowGram => "row-gram",
        }
    }
}

/// Every direction of the decomposition, ordered by decreasing |eigenvalue|.
pub(crate) struct Spectrum {
    pub path: SolvePath,
    pub n_samples: usize,
    pub n_features: usize,
    pub n_targets: usize,
    /// Eigenvalues as computed (may carry rounding-level negatives), length `n_dirs`.
    pub eigenvalues: Vec<f64>,
    /// Gram path: vᵢᵀFᵀy (`n_dirs x T`, column-major). Row Gram path: uᵢᵀy.
    pub proj: Vec<f64>,
    /// Gram path: V (`D x n_dirs`). Row Gram path: U (`N x n_dirs`). Column-major.
    pub vectors: Vec<f64>,
    /// ‖y‖² per column.
    pub y_sq: Vec<f64>,
}

impl Spectrum {
    pub fn n_dirs(&self) -> usize {
        self.eigenvalues.len()
    }

    /// Gram path from sufficient statistics.
    pub fn from_stats<B: LinalgBackend + ?Sized>(
        backend: &B,
        stats: &SufficientStats,
    ) -> Result<Self, LogmeError> {
        let d = stats.n_features();
        let t = stats.n_targets();
        check_range("features", stats.gram())?;
        check_range("targets", stats.target_sq_norms())?;
        let mut values = vec![0.0; d];
        let mut vectors = vec![0.0; d * d];
        backend.eigh(
            MatView::col_major(stats.gram(), d, d),
            &mut values,
            MatMut::col_major(&mut vectors, d, d),
        )?;
        let mut proj = vec![0.0; d * t];
        backend.gemm_tn(
            MatView::col_major(&vectors, d, d),
            MatView::col_major(stats.cross(), d, t),
            MatMut::col_major(&mut proj, d, t),
        );
        let mut spectrum = Spectrum {
            path: SolvePath::Gram,
            n_samples: stats.n_samples(),
            n_features: d,
            n_targets: t,
            eigenvalues: values,
            proj,
            vectors,
            y_sq: stats.target_sq_norms().to_vec(),
        };
        spectrum.sort_by_magnitude(d);
        Ok(spectrum)
    }

    /// Row Gram path from the features themselves.
    pub fn from_rows<B: LinalgBackend + ?Sized>(
        backend: &B,
        features: FeatureMatrix<'_>,
        targets: &Targets,
    ) -> Result<Self, LogmeError> {
        let n = features.n_samples();
        let d = features.n_features();
        let t = targets.n_targets();
        let mut k_mat = vec![0.0; n * n];
        for_each_column_block_at(features, |_, block| {
            backend.gram_rows(block, MatMut::col_major(&mut k_mat, n, n));
        });
        check_range("features", &k_mat)?;
        let mut values = vec![0.0; n];
        let mut u = vec![0.0; n * n];
        backend.eigh(
            MatView::col_major(&k_mat, n, n),
            &mut values,
            MatMut::col_major(&mut u, n, n),
        )?;
        drop(k_mat);

        // x = UᵀY; for classes a per-class sum of the rows of U.
        let mut proj = vec![0.0; n * t];
        match targets {
            Targets::Classes(c) => {
                for (row_idx, &id) in c.ids().iter().enumerate() {
                    let column = &mut proj[id as usize * n..(id as usize + 1) * n];
                    for (dir, acc) in column.iter_mut().enumerate() {
                        *acc += u[row_idx + dir * n];
                    }
                }
            }
            Targets::Matrix {
                values: y, n_cols, ..
            } => {
                backend.gemm_tn(
                    MatView::col_major(&u, n, n),
                    MatView::row_major(y, n, *n_cols),
                    MatMut::col_major(&mut proj, n, t),
                );
            }
        }
        let mut y_sq = vec![0.0; t];
        for (col, acc) in y_sq.iter_mut().enumerate() {
            *acc = (0..n).map(|row| targets.value(row, col).powi(2)).sum();
        }
        check_range("targets", &y_sq)?;
        let mut spectrum = Spectrum {
            path: SolvePath::RowGram,
            n_samples: n,
            n_features: d,
            n_targets: t,
            eigenvalues: values,
            proj,
            vectors: u,
            y_sq,
        };
        spectrum.sort_by_magnitude(n);
        Ok(spectrum)
    }

    /// Reorders directions by decreasing |eigenvalue|, as an SVD would list them.
    ///
    /// The eigenvector matrix is permuted in place (one spare column), so the peak memory of
    /// the Gram path stays at G plus V.
    fn sort_by_magnitude(&mut self, vector_len: usize) {
        let n_dirs = self.eigenvalues.len();
        let mut order: Vec<usize> = (0..n_dirs).collect();
        order.sort_by(|&a, &b| {
            self.eigenvalues[b]
                .abs()
                .total_cmp(&self.eigenvalues[a].abs())
        });
        self.eigenvalues = order.iter().map(|&i| self.eigenvalues[i]).collect();
        let mut proj = vec![0.0; self.proj.len()];
        for col in 0..self.n_targets {
            for (dst, &src) in order.iter().enumerate() {
                proj[dst + col * n_dirs] = self.proj[src + col * n_dirs];
            }
        }
        self.proj = proj;

        // Position `dst` takes column `order[dst]`: follow each cycle with one spare column.
        let mut done = vec![false; n_dirs];
        let mut spare = vec![0.0; vector_len];
        let column = |idx: usize| idx * vector_len..(idx + 1) * vector_len;
        for start in 0..n_dirs {
            if done[start] || order[start] == start {
                done[start] = true;
                continue;
            }
            spare.copy_from_slice(&self.vectors[column(start)]);
            let mut dst = start;
            loop {
                done[dst] = true;
                let src = order[dst];
                if src == start {
                    self.vectors[column(dst)].copy_from_slice(&spare);
                    break;
                }
                self.vectors.copy_within(column(src), dst * vector_len);
                dst = src;
            }
        }
    }
}

/// Refuses products that overflowed, or whose nonzero entries all underflowed to subnormals:
/// past either the decomposition would return noise.
fn check_range(what: &'static str, values: &[f64]) -> Result<(), LogmeError> {
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if !largest.is_finite() || (largest > 0.0 && largest < f64::MIN_POSITIVE * 1e10) {
        let shown = if largest.is_finite() {
            largest
        } else {
            f64::MAX
        };
        return Err(LogmeError::OutOfRange {
            what,
            magnitude: shown,
        });
    }
    Ok(())
}

/// Calls `f(start, block)` with the features as f64 column blocks `[N, width]` starting at column
/// `start`: the matrix itself when it is f64, otherwise blocks widened into one reused buffer.
pub(crate) fn for_each_column_block_at(
    features: FeatureMatrix<'_>,
    mut f: impl FnMut(usize, MatView<'_>),
) {
    if let Some(view) = features.as_f64_view() {
        f(0, view);
        return;
    }
    let n = features.n_samples();
    let d = features.n_features();
    let width = (crate::stats::DEFAULT_BLOCK_ELEMENTS / n.max(1)).clamp(1, d.max(1));
    let mut buffer = vec![0.0; n * width];
    let mut start = 0;
    while start < d {
        let len = width.min(d - start);
        features.widen_cols_into(start, len, &mut buffer);
        f(start, MatView::col_major(&buffer[..n * len], n, len));
        start += len;
    }
}
