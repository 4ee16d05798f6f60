//! Sufficient statistics of LogME, accumulated in one pass over row blocks.
//!
//! Everything LogME needs from features F `[N, D]` and targets Y `[N, T]` when N > D is
//!
//! ```text
//! G = FᵀF  (D x D, lower triangle)     B = FᵀY  (D x T)     ‖y_t‖² per column     N
//! ```
//!
//! Each is a sum over rows, so statistics of row shards add up: a file larger than memory is
//! streamed block by block, and shards scored on different machines merge into one exact score.
//! For one-hot class targets `B` is a per-class sum of feature rows; no product is formed.

use crate::backend::LinalgBackend;
use crate::error::LogmeError;
use crate::targets::{TargetRows, Targets, Task};
use crate::views::{FeatureMatrix, MatMut, MatView};

/// Upper bound on the f64 values of the widening buffer (32 MiB).
pub const DEFAULT_BLOCK_ELEMENTS: usize = 4 << 20;

/// Rows per block: D rows (at least 256), so each rank-k update of `G` has k ≈ D, which keeps the
/// product at full speed while the buffer holds at most D² values (and at most
/// [`DEFAULT_BLOCK_ELEMENTS`]); it is freed before the eigen-decomposition.
pub fn default_block_rows(n_features: usize) -> usize {
    let d = n_features.max(1);
    d.max(256).min((DEFAULT_BLOCK_ELEMENTS / d).max(64))
}

/// `G = FᵀF`, `B = FᵀY`, the target column norms and the sample count.
#[derive(Clone, Debug, PartialEq)]
pub struct SufficientStats {
    n_samples: usize,
    n_features: usize,
    n_targets: usize,
    task: Task,
    gram: Vec<f64>,
    cross: Vec<f64>,
    target_sq_norms: Vec<f64>,
    block_rows: usize,
}

impl SufficientStats {
    /// Empty statistics for `n_features` feature columns and `n_targets` target columns.
    pub fn new(n_features: usize, n_targets: usize, task: Task) -> Self {
        let block_rows = default_block_rows(n_features);
        Self {
            n_samples: 0,
            n_features,
            n_targets,
            task,
            gram: vec![0.0; n_features * n_features],
            cross: vec![0.0; n_features * n_targets],
            target_sq_norms: vec![0.0; n_targets],
            block_rows,
        }
    }

    /// Rebuilds statistics from their parts, as saved by [`SufficientStats::gram`],
    /// [`SufficientStats::cross`] and [`SufficientStats::target_sq_norms`].
    ///
    /// `gram` is `D x D` column-major (only the lower triangle is read), `cross` is `D x T`
    /// column-major.
    ///
    /// # Errors
    /// [`LogmeError::IncompatibleStats`] when the lengths do not fit one another or a value is
    /// not finite.
    pub fn from_parts(
        n_samples: usize,
        task: Task,
        gram: Vec<f64>,
        cross: Vec<f64>,
        target_sq_norms: Vec<f64>,
    ) -> Result<Self, LogmeError> {
        let n_targets = target_sq_norms.len();
        let n_features = (gram.len() as f64).sqrt().round() as usize;
        let bad = |reason: String| Err(LogmeError::IncompatibleStats { reason });
        if n_features * n_features != gram.len() || n_features == 0 {
            return bad(format!(
                "a Gram matrix of {} values is not square",
                gram.len()
            ));
        }
        if cross.len() != n_features * n_targets {
            return bad(format!(
                "FᵀY has {} values but {} features x {} targets need {}",
                cross.len(),
                n_features,
                n_targets,
                n_features * n_targets
            ));
        }
        let all = gram.iter().chain(&cross).chain(&target_sq_norms);
        if all.clone().any(|v| !v.is_finite()) {
            return bad("a statistic is not finite".to_string());
        }
        let mut stats = Self::new(n_features, n_targets, task);
        stats.n_samples = n_samples;
        stats.gram = gram;
        stats.cross = cross;
        stats.target_sq_norms = target_sq_norms;
        Ok(stats)
    }

    /// Sets how many rows are widened to f64 at a time (f32 or strided input); the result does
    /// not depend on it beyond rounding.
    pub fn with_block_rows(mut self, block_rows: usize) -> Self {
        self.block_rows = block_rows.max(1);
        self
    }

    /// Statistics of a whole dataset in one call.
    ///
    /// Rows are validated and accumulated one block at a time, so a memory-mapped file is read
    /// once: each block is checked and multiplied while its pages are fresh.
    ///
    /// # Errors
    /// As [`SufficientStats::accumulate`]; a non-finite value is reported by its row in the
    /// whole matrix.
    pub fn from_data<B: LinalgBackend + ?Sized>(
        backend: &B,
        features: FeatureMatrix<'_>,
        targets: &Targets,
    ) -> Result<Self, LogmeError> {
        let n = features.n_samples();
        if n != targets.n_samples() {
            return Err(LogmeError::LengthMismatch {
                features: n,
                targets: targets.n_samples(),
            });
        }
        let mut stats = Self::new(features.n_features(), targets.n_targets(), targets.task());
        let chunk = stats.block_rows;
        let mut scratch = Vec::new();
        let mut start = 0;
        while start < n {
            let len = chunk.min(n - start);
            let block = features.rows(start, len);
            block.validate().map_err(|err| match err {
                LogmeError::NonFiniteFeature { row, col, value } => LogmeError::NonFiniteFeature {
                    row: row + start,
                    col,
                    value,
                },
                other => other,
            })?;
            stats.add_rows(backend, block, targets.rows(start, len), &mut scratch);
            start += len;
        }
        Ok(stats)
    }

    /// Adds a block of rows: its features and the matching target rows.
    ///
    /// The block is validated before anything is added, so a failed call leaves the statistics
    /// unchanged.
    ///
    /// # Errors
    /// [`LogmeError::LengthMismatch`] when the row counts differ,
    /// [`LogmeError::IncompatibleStats`] when the widths differ from the statistics',
    /// [`LogmeError::NonFiniteFeature`] (row counted within the block).
    pub fn accumulate<B: LinalgBackend + ?Sized>(
        &mut self,
        backend: &B,
        features: FeatureMatrix<'_>,
        targets: TargetRows<'_>,
    ) -> Result<(), LogmeError> {
        if features.n_samples() != targets.n_rows() {
            return Err(LogmeError::LengthMismatch {
                features: features.n_samples(),
                targets: targets.n_rows(),
            });
        }
        if features.n_features() != self.n_features || targets.n_cols() != self.n_targets {
            return Err(LogmeError::IncompatibleStats {
                reason: format!(
                    "a block of {} features and {} targets does not fit statistics of {} and {}",
                    features.n_features(),
                    targets.n_cols(),
                    self.n_features,
                    self.n_targets
                ),
            });
        }
        features.validate()?;
        self.add_rows(backend, features, targets, &mut Vec::new());
        Ok(())
    }

    /// Adds validated rows; `scratch` is the reusable widening buffer.
    fn add_rows<B: LinalgBackend + ?Sized>(
        &mut self,
        backend: &B,
        features: FeatureMatrix<'_>,
        targets: TargetRows<'_>,
        scratch: &mut Vec<f64>,
    ) {
        let d = self.n_features;
        let n = features.n_samples();

        // Target norms do not depend on the features.
        match targets {
            TargetRows::Classes { ids, .. } => {
                for &id in ids {
                    self.target_sq_norms[id as usize] += 1.0;
                }
            }
            TargetRows::Matrix { values, n_cols } => {
                for row in values.chunks_exact(n_cols) {
                    for (acc, v) in self.target_sq_norms.iter_mut().zip(row) {
                        *acc += v * v;
                    }
                }
            }
        }

        // f64 input is handed to the backend in place; anything else is widened block by block.
        if let Some(view) = features.as_f64_view() {
            self.add_block(backend, view, targets);
        } else {
            let block_rows = self.block_rows.min(n.max(1));
            if scratch.len() < block_rows * d {
                scratch.resize(block_rows * d, 0.0);
            }
            let buffer = scratch;
            let mut start = 0;
            while start < n {
                let len = block_rows.min(n - start);
                features.widen_rows_into(start, len, buffer);
                let view = MatView::row_major(&buffer[..len * d], len, d);
                self.add_block(backend, view, targets.rows(start, len));
                start += len;
            }
        }
        self.n_samples += n;
    }

    fn add_block<B: LinalgBackend + ?Sized>(
        &mut self,
        backend: &B,
        block: MatView<'_>,
        targets: TargetRows<'_>,
    ) {
        let d = self.n_features;
        backend.syrk(block, MatMut::col_major(&mut self.gram, d, d));
        match targets {
            TargetRows::Classes { ids, .. } => {
                // FᵀY for one-hot Y: add each row to its class column.
                for (row_idx, &id) in ids.iter().enumerate() {
                    let column = &mut self.cross[id as usize * d..(id as usize + 1) * d];
                    match (block.order(), block.ld()) {
                        (crate::views::Order::RowMajor, ld) => {
                            let row = &block.data()[row_idx * ld..row_idx * ld + d];
                            for (acc, v) in column.iter_mut().zip(row) {
                                *acc += v;
                            }
                        }
                        _ => {
                            for (col_idx, acc) in column.iter_mut().enumerate() {
                                *acc += block.get(row_idx, col_idx);
                            }
                        }
                    }
                }
            }
            TargetRows::Matrix { values, n_cols } => {
                let y = MatView::row_major(values, block.n_rows(), n_cols);
                backend.gemm_tn(block, y, MatMut::col_major(&mut self.cross, d, n_cols));
            }
        }
    }

    /// Adds the statistics of another shard of the same dataset.
    ///
    /// # Errors
    /// [`LogmeError::IncompatibleStats`] when widths or tasks differ.
    pub fn merge(&mut self, other: &SufficientStats) -> Result<(), LogmeError> {
        if self.n_features != other.n_features
            || self.n_targets != other.n_targets
            || self.task != other.task
        {
            return Err(LogmeError::IncompatibleStats {
                reason: format!(
                    "{} features, {} targets ({}) against {} features, {} targets ({})",
                    self.n_features,
                    self.n_targets,
                    self.task.name(),
                    other.n_features,
                    other.n_targets,
                    other.task.name()
                ),
            });
        }
        self.n_samples += other.n_samples;
        for (a, b) in self.gram.iter_mut().zip(&other.gram) {
            *a += b;
        }
        for (a, b) in self.cross.iter_mut().zip(&other.cross) {
            *a += b;
        }
        for (a, b) in self.target_sq_norms.iter_mut().zip(&other.target_sq_norms) {
            *a += b;
        }
        Ok(())
    }

    /// Samples accumulated so far.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Feature columns D.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Target columns T.
    pub fn n_targets(&self) -> usize {
        self.n_targets
    }

    /// The task of the targets.
    pub fn task(&self) -> Task {
        self.task
    }

    /// `G = FᵀF`, `D x D` column-major; only the lower triangle is meaningful.
    pub fn gram(&self) -> &[f64] {
        &self.gram
    }

    /// `B = FᵀY`, `D x T` column-major.
    pub fn cross(&self) -> &[f64] {
        &self.cross
    }

    /// `‖y_t‖²` for each target column.
    pub fn target_sq_norms(&self) -> &[f64] {
        &self.target_sq_norms
    }
}
