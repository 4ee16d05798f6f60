//! Fitting LogME: options, the fitted result with its diagnostics, and prediction.

use std::fmt;

use crate::backend::LinalgBackend;
use crate::error::LogmeError;
use crate::evidence::{self, Column, ColumnFit};
use crate::spectrum::{SolvePath, Spectrum, for_each_column_block_at};
use crate::stats::SufficientStats;
use crate::targets::{Targets, Task};
use crate::views::{FeatureMatrix, MatMut, MatView};

/// Which published LogME algorithm to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Method {
    /// The fixed-point iteration on t = α/β (JMLR 2022); the official code's default.
    #[default]
    FixedPoint,
    /// Algorithm 1 of the ICML 2021 paper, iterating on α and β with all D eigenvalues.
    Icml,
}

impl Method {
    /// Lowercase identifier used by the command line and the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Method::FixedPoint => "fixed-point",
            Method::Icml => "icml",
        }
    }
}

/// Whether to reproduce the official code or to compute the true maximum evidence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Reproduce the official implementation exactly, quirks included: at most 11 iterations,
    /// its tolerances, the 1e-5 epsilons, the absolute 1e-10 singular-value cutoff and, for the
    /// fixed-point method, a log-determinant over the retained directions only. Use it to compare
    /// with published LogME numbers.
    #[default]
    Reference,
    /// The true maximum of the evidence: iterate to |Δt| ≤ 10⁻¹²·t, full D-term log-determinant,
    /// rank decided relative to the largest eigenvalue (scaling the features does not change the
    /// score), no epsilons. Use it when the score itself matters, for N ≤ D or rank-deficient
    /// features where the reference formula misstates the evidence.
    Exact,
}

impl Mode {
    /// Lowercase identifier used by the command line and the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Reference => "reference",
            Mode::Exact => "exact",
        }
    }
}

/// Options of a LogME fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Options {
    /// The algorithm.
    pub method: Method,
    /// Reference or exact.
    pub mode: Mode,
    /// Force a decomposition path instead of the official choice (Gram when N > D).
    pub path: Option<SolvePath>,
}

/// A notable numerical outcome of a fit, reported instead of logged.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Diagnostic {
    /// Reference fixed-point mode kept fewer directions than features, so the official formula
    /// overstates each column's per-sample evidence by (D − k)/2·ln α / N (see
    /// [`ColumnFit::reference_gap`]); `max_gap` is the largest over columns.
    RankBelowFeatures {
        /// Directions kept.
        rank: usize,
        /// Feature columns D.
        n_features: usize,
        /// Largest per-column overstatement.
        max_gap: f64,
    },
    /// Columns that stopped at the iteration cap instead of meeting the tolerance.
    IterationCap {
        /// Column indices.
        columns: Vec<usize>,
    },
    /// No singular value passed the official absolute cutoff 1e-10 (the features are tiny or
    /// all zero): the reference score is −∞. Rescale the features or use the exact mode.
    NoDirectionRetained,
    /// Exact mode: the evidence of these columns is unbounded (+∞): the column is all zero or
    /// lies in the span of fewer than N feature directions (a perfect fit).
    Unbounded {
        /// Column indices.
        columns: Vec<usize>,
    },
    /// Class ids inside `0..C` that no sample has; each is an all-zero target column.
    EmptyClasses {
        /// The absent class ids.
        classes: Vec<usize>,
    },
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diagnostic::RankBelowFeatures {
                rank,
                n_features,
                max_gap,
            } => write!(
                f,
                "only {rank} of {n_features} directions were kept, so the reference formula \
                 overstates the evidence by up to {max_gap:.6} per sample; use the exact mode for \
                 the true evidence"
            ),
            Diagnostic::IterationCap { columns } => write!(
                f,
                "{} target column(s) stopped at the iteration cap before converging: {:?}",
                columns.len(),
                columns
            ),
            Diagnostic::NoDirectionRetained => write!(
                f,
                "no singular value of the features exceeds the reference cutoff 1e-10, so the \
                 reference score is -inf; rescale the features or use the exact mode"
            ),
            Diagnostic::Unbounded { columns } => write!(
                f,
                "the evidence of target column(s) {columns:?} is unbounded (+inf): the column is \
                 all zero or fitted perfectly by the features"
            ),
            Diagnostic::EmptyClasses { classes } => write!(
                f,
                "class id(s) {classes:?} have no sample and count as all-zero targets, as the \
                 official code counts them; remap the labels to leave them out"
            ),
        }
    }
}

/// A fitted LogME model: the score, per-column evidence and the posterior-mean weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The LogME score: the mean over target columns of the per-sample log maximum evidence.
    pub score: f64,
    /// Per target column: evidence, α, β, iterations, convergence.
    pub columns: Vec<ColumnFit>,
    /// Directions of FᵀF the method used (k).
    pub rank: usize,
    /// The decomposition that produced the spectrum.
    pub path: SolvePath,
    /// Samples N.
    pub n_samples: usize,
    /// Features D.
    pub n_features: usize,
    /// The task of the targets.
    pub task: Task,
    /// The algorithm.
    pub method: Method,
    /// Reference or exact.
    pub mode: Mode,
    /// Original label of each class id, when labels were remapped.
    pub label_mapping: Option<Vec<i128>>,
    /// Notable numerical outcomes.
    pub diagnostics: Vec<Diagnostic>,
    weights: Vec<f64>,
}

/// Predictions on new features.
#[derive(Clone, Debug, PartialEq)]
pub enum Prediction {
    /// The predicted class of each sample (original labels when they were remapped).
    Classes(Vec<i128>),
    /// Linear outputs `[n_rows, n_cols]`, row-major, for regression and multi-label targets.
    Values {
        /// Row-major outputs.
        values: Vec<f64>,
        /// Samples.
        n_rows: usize,
        /// Target columns.
        n_cols: usize,
    },
}

impl Fit {
    /// Number of target columns T.
    pub fn n_targets(&self) -> usize {
        self.columns.len()
    }

    /// Posterior-mean weights as `[T, D]` row-major: row t is the weight vector of column t.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Linear outputs F·m for new features, `[n_rows, T]` row-major.
    ///
    /// # Errors
    /// [`LogmeError::FeatureCountMismatch`], [`LogmeError::NonFiniteFeature`].
    pub fn decision_function<B: LinalgBackend + ?Sized>(
        &self,
        backend: &B,
        features: FeatureMatrix<'_>,
    ) -> Result<Vec<f64>, LogmeError> {
        if features.n_features() != self.n_features {
            return Err(LogmeError::FeatureCountMismatch {
                expected: self.n_features,
                got: features.n_features(),
            });
        }
        features.validate()?;
        let n = features.n_samples();
        let d = self.n_features;
        let t = self.n_targets();
        let mut out = vec![0.0; n * t];
        let m = MatView::col_major(&self.weights, d, t);
        for_each_column_block_at(features, |start, block| {
            backend.gemm(
                block,
                m.rows(start, block.n_cols()),
                MatMut::row_major(&mut out, n, t),
            );
        });
        Ok(out)
    }

    /// Predicts on new features: the argmax class (first maximum) for classification, the
    /// linear outputs for regression and multi-label targets.
    ///
    /// # Errors
    /// As [`Fit::decision_function`].
    pub fn predict<B: LinalgBackend + ?Sized>(
        &self,
        backend: &B,
        features: FeatureMatrix<'_>,
    ) -> Result<Prediction, LogmeError> {
        let logits = self.decision_function(backend, features)?;
        let t = self.n_targets();
        if self.task != Task::Classification {
            return Ok(Prediction::Values {
                values: logits,
                n_rows: features.n_samples(),
                n_cols: t,
            });
        }
        let classes = logits
            .chunks_exact(t.max(1))
            .map(|row| {
                let mut best = 0;
                for (idx, v) in row.iter().enumerate() {
                    if *v > row[best] {
                        best = idx;
                    }
                }
                match &self.label_mapping {
                    Some(map) => map[best],
                    None => best as i128,
                }
            })
            .collect();
        Ok(Prediction::Classes(classes))
    }
}

/// Fits LogME on in-memory features and targets.
///
/// The path follows the official code: the Gram matrix FᵀF when N > D, the row Gram matrix FFᵀ
/// when N ≤ D (unless [`Options::path`] forces one).
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::NoFeatures`], [`LogmeError::NoTargets`],
/// [`LogmeError::LengthMismatch`], [`LogmeError::NonFiniteFeature`], [`LogmeError::Backend`].
pub fn fit<B: LinalgBackend + ?Sized>(
    backend: &B,
    options: &Options,
    features: FeatureMatrix<'_>,
    targets: &Targets,
) -> Result<Fit, LogmeError> {
    let n = features.n_samples();
    let d = features.n_features();
    check_sizes(n, d, targets.n_targets())?;
    if targets.n_samples() != n {
        return Err(LogmeError::LengthMismatch {
            features: n,
            targets: targets.n_samples(),
        });
    }
    let path = options.path.unwrap_or(if n > d {
        SolvePath::Gram
    } else {
        SolvePath::RowGram
    });
    let spectrum = match path {
        SolvePath::Gram => {
            let stats = SufficientStats::from_data(backend, features, targets)?;
            Spectrum::from_stats(backend, &stats)?
        }
        SolvePath::RowGram => {
            features.validate()?;
            Spectrum::from_rows(backend, features, targets)?
        }
    };
    let mut fit = solve(backend, options, &spectrum, targets.task(), Some(features))?;
    if let Some(classes) = targets.as_classes() {
        fit.label_mapping = classes.original_labels().map(<[i128]>::to_vec);
        let empty: Vec<usize> = classes
            .counts()
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == 0)
            .map(|(i, _)| i)
            .collect();
        if !empty.is_empty() {
            fit.diagnostics
                .push(Diagnostic::EmptyClasses { classes: empty });
        }
    }
    Ok(fit)
}

/// Fits LogME from accumulated sufficient statistics (the Gram path, for data streamed in
/// blocks or merged from shards).
///
/// # Errors
/// As [`fit`].
pub fn fit_stats<B: LinalgBackend + ?Sized>(
    backend: &B,
    options: &Options,
    stats: &SufficientStats,
) -> Result<Fit, LogmeError> {
    check_sizes(stats.n_samples(), stats.n_features(), stats.n_targets())?;
    let spectrum = Spectrum::from_stats(backend, stats)?;
    let mut fit = solve(backend, options, &spectrum, stats.task(), None)?;
    if stats.task() == Task::Classification {
        let empty: Vec<usize> = stats
            .target_sq_norms()
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == 0.0)
            .map(|(i, _)| i)
            .collect();
        if !empty.is_empty() {
            fit.diagnostics
                .push(Diagnostic::EmptyClasses { classes: empty });
        }
    }
    Ok(fit)
}

fn check_sizes(n: usize, d: usize, t: usize) -> Result<(), LogmeError> {
    if n < 2 {
        return Err(LogmeError::TooFewSamples { n_samples: n });
    }
    if d == 0 {
        return Err(LogmeError::NoFeatures);
    }
    if t == 0 {
        return Err(LogmeError::NoTargets);
    }
    Ok(())
}

/// The directions one (method, mode) pair uses, with σ, x and r₀ per column.
struct Selection {
    k: usize,
    sigma: Vec<f64>,
    /// Singular values √σ used to rebuild weights on the Gram path.
    s: Vec<f64>,
    /// `k x T` column-major.
    x: Vec<f64>,
    r0: Vec<f64>,
    extra_zero_directions: usize,
}

/// The official cutoff on singular values for the fixed-point method with N > D.
const REFERENCE_SINGULAR_CUTOFF: f64 = 1e-10;

fn select(spectrum: &Spectrum, options: &Options) -> Selection {
    let n = spectrum.n_samples;
    let d = spectrum.n_features;
    let n_dirs = spectrum.n_dirs();
    let lambda = &spectrum.eigenvalues;
    let gram = spectrum.path == SolvePath::Gram;

    // How many leading directions (by decreasing magnitude) each variant keeps.
    let k = match (options.mode, options.method, spectrum.path) {
        (Mode::Reference, Method::FixedPoint, SolvePath::Gram) if n > d => lambda
            .iter()
            .take_while(|l| l.abs().sqrt() > REFERENCE_SINGULAR_CUTOFF)
            .count(),
        (Mode::Reference, Method::FixedPoint, _) => n.min(d).min(n_dirs),
        (Mode::Reference, Method::Icml, _) => n_dirs,
        (Mode::Exact, _, _) => {
            let largest = lambda.first().map_or(0.0, |l| l.abs());
            let threshold = largest * n.max(d) as f64 * f64::EPSILON;
            lambda
                .iter()
                .take_while(|&&l| l > threshold && l > 0.0)
                .count()
        }
    };
    let sigma: Vec<f64> = match options.mode {
        Mode::Reference => lambda[..k].iter().map(|l| l.abs().sqrt().powi(2)).collect(),
        Mode::Exact => lambda[..k].to_vec(),
    };
    let s: Vec<f64> = lambda[..k].iter().map(|l| l.abs().sqrt()).collect();
    let t = spectrum.n_targets;
    let largest = lambda.first().map_or(0.0, |l| l.abs());
    let rounding_floor = match (options.mode, options.method) {
        // The fixed-point method divides as the official code does; its 1e-10 cutoff keeps
        // the quotient bounded.
        (Mode::Reference, Method::FixedPoint) => 0.0,
        _ => largest * (n + d) as f64 * f64::EPSILON,
    };
    let mut x = vec![0.0; k * t];
    let mut r0 = vec![0.0; t];
    for col in 0..t {
        let proj = &spectrum.proj[col * n_dirs..(col + 1) * n_dirs];
        let xs = &mut x[col * k..(col + 1) * k];
        for i in 0..k {
            xs[i] = if !gram {
                proj[i]
            } else if sigma[i] > rounding_floor {
                proj[i] / s[i]
            } else {
                // A direction at rounding level carries a projection that is rounding noise;
                // dividing it by √σ would blow that noise up, so it counts as zero.
                0.0
            };
        }
        let kept_sq: f64 = xs.iter().map(|v| v * v).sum();
        r0[col] = match options.mode {
            Mode::Reference => spectrum.y_sq[col] - kept_sq,
            Mode::Exact if !gram && k == n => 0.0,
            Mode::Exact if !gram => proj[k..].iter().map(|v| v * v).sum(),
            Mode::Exact => (spectrum.y_sq[col] - kept_sq).max(0.0),
        };
    }
    let extra_zero_directions = match (options.mode, options.method) {
        (Mode::Reference, Method::Icml) => d - k.min(d),
        _ => 0,
    };
    Selection {
        k,
        sigma,
        s,
        x,
        r0,
        extra_zero_directions,
    }
}

fn solve<B: LinalgBackend + ?Sized>(
    backend: &B,
    options: &Options,
    spectrum: &Spectrum,
    task: Task,
    features: Option<FeatureMatrix<'_>>,
) -> Result<Fit, LogmeError> {
    let n = spectrum.n_samples;
    let d = spectrum.n_features;
    let t = spectrum.n_targets;
    let sel = select(spectrum, options);
    let k = sel.k;

    // Solve every column on its spectral data.
    let columns: Vec<ColumnFit> = (0..t)
        .map(|col| {
            let column = Column {
                sigma: &sel.sigma,
                x: &sel.x[col * k..(col + 1) * k],
                r0: sel.r0[col],
                y_sq: spectrum.y_sq[col],
                n_samples: n,
                n_features: d,
                extra_zero_directions: sel.extra_zero_directions,
            };
            match (options.mode, options.method) {
                (Mode::Reference, Method::FixedPoint) => evidence::fixed_point_reference(&column),
                (Mode::Reference, Method::Icml) => evidence::icml_reference(&column),
                (Mode::Exact, _) => evidence::exact(&column),
            }
        })
        .collect();

    // Per-direction weight coefficients cᵢ = xᵢ / (t + σᵢ), then back to feature space.
    let mut coef = vec![0.0; k * t];
    for (col, fit) in columns.iter().enumerate() {
        let tw = fit.t_weights;
        for i in 0..k {
            let x = sel.x[col * k + i];
            let c = if tw.is_infinite() {
                0.0
            } else {
                x / (tw + sel.sigma[i])
            };
            coef[col * k + i] = if c.is_finite() { c } else { 0.0 };
        }
    }
    let mut weights = vec![0.0; d * t];
    match spectrum.path {
        SolvePath::Gram => {
            for col in 0..t {
                for i in 0..k {
                    coef[col * k + i] *= sel.s[i];
                }
            }
            backend.gemm(
                MatView::col_major(&spectrum.vectors, d, spectrum.n_dirs()).cols(0, k),
                MatView::col_major(&coef, k, t),
                MatMut::col_major(&mut weights, d, t),
            );
        }
        SolvePath::RowGram => {
            let mut w = vec![0.0; n * t];
            backend.gemm(
                MatView::col_major(&spectrum.vectors, n, spectrum.n_dirs()).cols(0, k),
                MatView::col_major(&coef, k, t),
                MatMut::col_major(&mut w, n, t),
            );
            if let Some(features) = features {
                let w_view = MatView::col_major(&w, n, t);
                for_each_column_block_at(features, |start, block| {
                    let mut out = MatMut::new(
                        &mut weights[start..],
                        block.n_cols(),
                        t,
                        crate::views::Order::ColMajor,
                        d,
                    );
                    backend.gemm_tn(block, w_view, out.reborrow());
                });
            }
        }
    }

    // Diagnostics.
    let mut diagnostics = Vec::new();
    if options.mode == Mode::Reference && options.method == Method::FixedPoint && k < d {
        if k == 0 {
            diagnostics.push(Diagnostic::NoDirectionRetained);
        } else {
            let max_gap = columns
                .iter()
                .map(|c| c.reference_gap)
                .fold(f64::NEG_INFINITY, f64::max);
            diagnostics.push(Diagnostic::RankBelowFeatures {
                rank: k,
                n_features: d,
                max_gap,
            });
        }
    }
    let capped: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.converged)
        .map(|(i, _)| i)
        .collect();
    if !capped.is_empty() {
        diagnostics.push(Diagnostic::IterationCap { columns: capped });
    }
    let unbounded: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.unbounded)
        .map(|(i, _)| i)
        .collect();
    if !unbounded.is_empty() {
        diagnostics.push(Diagnostic::Unbounded { columns: unbounded });
    }

    let score = columns.iter().map(|c| c.evidence).sum::<f64>() / t as f64;
    Ok(Fit {
        score,
        columns,
        rank: k,
        path: spectrum.path,
        n_samples: n,
        n_features: d,
        task,
        method: options.method,
        mode: options.mode,
        label_mapping: None,
        diagnostics,
        weights,
    })
}
