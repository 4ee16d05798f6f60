//! The peer transferability metrics, each next to LogME behind one entry point.
//!
//! Every metric scores how well frozen features (or a source model's predictions) suit a target
//! classification task; larger is better for all of them. Each module states its formula, the
//! paper, what the published reference code does on inputs where it returns NaN or raises, and
//! what logme returns instead.
//!
//! | id                 | module                       | paper                     |
//! |--------------------|------------------------------|---------------------------|
//! | `logme`            | [`crate::fit()`]             | You et al. ICML 2021      |
//! | `leep`             | [`leep`][m-leep]             | Nguyen et al. ICML 2020   |
//! | `nce`              | [`nce`][m-nce]               | Tran et al. ICCV 2019     |
//! | `nleep`            | [`nleep`][m-nleep]           | Li et al. CVPR 2021       |
//! | `hscore`           | [`h_score`][m-hs]            | Bao et al. ICIP 2019      |
//! | `shrinkage-hscore` | [`shrinkage_h_score`][m-shs] | Ibrahim et al. ICLR 2023  |
//! | `transrate`        | [`transrate`][m-tr]          | Huang et al. ICML 2022    |
//! | `gbc-diagonal`     | [`gbc`][m-gbc]               | Pándy et al. CVPR 2022    |
//! | `gbc-spherical`    | [`gbc`][m-gbc]               | Pándy et al. CVPR 2022    |
//! | `parc`             | [`parc`][m-parc]             | Bolya et al. NeurIPS 2021 |
//! | `sfda`             | [`sfda`][m-sfda]             | Shao et al. ECCV 2022     |
//!
//! LEEP reads a source model's class probabilities and NCE their argmax, each with the target
//! labels; every other metric reads features and labels. Labels are [`ClassLabels`].
//!
//! [m-leep]: mod@leep
//! [m-nce]: mod@nce
//! [m-nleep]: mod@nleep
//! [m-hs]: mod@h_score
//! [m-shs]: mod@shrinkage_h_score
//! [m-tr]: mod@transrate
//! [m-gbc]: mod@gbc
//! [m-parc]: mod@parc
//! [m-sfda]: mod@sfda
//!
//! # Conventions shared by every metric
//!
//! - Features are read as f64 (f32 input is widened first), whatever their memory order; inputs
//!   are never modified.
//! - Inputs are validated as LogME validates them: at least 2 samples, at least 1 feature, one
//!   label per sample, finite features. A metric also needs at least two classes that have
//!   samples: with a single class every metric is degenerate (its best possible value), which
//!   would rank a model first for no reason, so [`LogmeError::Unscorable`] is returned instead.
//! - The class count is `C = max(label) + 1` where the reference code counts that way (LEEP,
//!   NCE, H-score, TransRate, NLEEP, PARC) and the classes that occur where it counts distinct
//!   labels (GBC, SFDA). Build labels with [`crate::LabelPolicy::Remap`] to drop absent ids.
//! - Results are deterministic: every reduction in this module runs sequentially in a fixed
//!   order, so the same input gives the same bits, whatever the memory order or thread count, as
//!   far as the backend's kernels are deterministic themselves. faer's multi-threaded kernels
//!   are not at D = 128: on a 2000 × 128 fixture, 1 and 2 threads differ by 2·10⁻¹⁶ (LogME),
//!   1.4·10⁻¹⁶ (H-score) and 6·10⁻¹⁵ (SFDA) relative; the other metrics agree bit for bit.
//!
//! ```
//! use logme_core::metrics::{MetricId, MetricParams, score_metric};
//! use logme_core::{FeatureMatrix, NaiveBackend, Targets};
//!
//! // Two well separated classes in two dimensions.
//! let features = [0.0, 0.1, 0.2, 0.0, 0.1, 0.3, 5.0, 5.1, 5.2, 4.9, 5.1, 5.3];
//! let targets = Targets::classes(&[0u8, 0, 0, 1, 1, 1])?;
//! let labels = targets.as_classes().expect("class labels");
//! let features = FeatureMatrix::from_f64(&features, 6, 2)?;
//! let id: MetricId = "gbc-diagonal".parse()?;
//! let score = score_metric(&NaiveBackend, id, features, labels, None, &MetricParams::default())?;
//! assert!(score.value > -1e-6 && score.value <= 0.0);
//! # Ok::<(), logme_core::LogmeError>(())
//! ```

mod common;
pub mod gbc;
pub mod h_score;
pub mod leep;
pub mod nce;
pub mod nleep;
pub mod parc;
pub mod sfda;
pub mod shrinkage_h_score;
pub mod transrate;

use std::fmt;
use std::str::FromStr;

use crate::backend::LinalgBackend;
use crate::error::LogmeError;
use crate::targets::{ClassLabels, Targets};
use crate::views::FeatureMatrix;

pub use gbc::{GbcKind, gbc};
pub use h_score::{h_score, h_score_google};
pub use leep::{LeepResult, leep, leep_google};
pub use nce::nce;
pub use nleep::{
    GaussianMixture, GmmFit, NleepOptions, NleepResult, fit_gmm, gmm_posteriors, nleep,
    nleep_from_posteriors,
};
pub use parc::{LabelDissimilarity, ParcOptions, ParcResult, parc};
pub use sfda::{SfdaResult, sfda};
pub use shrinkage_h_score::{ShrinkageHScore, shrinkage_h_score};
pub use transrate::{TransRate, transrate};

/// A transferability metric the command line can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetricId {
    /// LogME, the log maximum evidence of a Bayesian linear model ([`crate::fit()`]).
    Logme,
    /// Log expected empirical prediction over source-model probabilities ([`leep()`]).
    Leep,
    /// Negative conditional entropy of target given source labels ([`nce()`]).
    Nce,
    /// LEEP over the posteriors of a Gaussian mixture fitted to the features ([`nleep()`]).
    Nleep,
    /// H-score, the trace of the pseudo-inverse feature covariance times the class-mean
    /// covariance ([`h_score()`]).
    HScore,
    /// H-score with a Ledoit–Wolf shrunk feature covariance ([`shrinkage_h_score()`]).
    ShrinkageHScore,
    /// TransRate, the coding-rate gain of the labels ([`transrate()`]).
    TransRate,
    /// Gaussian Bhattacharyya coefficient with per-dimension class variances ([`gbc()`]).
    GbcDiagonal,
    /// Gaussian Bhattacharyya coefficient with one variance per class ([`gbc()`]).
    GbcSpherical,
    /// PARC, the Spearman correlation of feature and label dissimilarities ([`parc()`]).
    Parc,
    /// SFDA, the self-challenging Fisher discriminant score ([`sfda()`]).
    Sfda,
}

const ALL_METRICS: [MetricId; 11] = [
    MetricId::Logme,
    MetricId::Leep,
    MetricId::Nce,
    MetricId::Nleep,
    MetricId::HScore,
    MetricId::ShrinkageHScore,
    MetricId::TransRate,
    MetricId::GbcDiagonal,
    MetricId::GbcSpherical,
    MetricId::Parc,
    MetricId::Sfda,
];

impl MetricId {
    /// Lowercase identifier used by `--metrics` and the JSON output.
    pub fn id(&self) -> &'static str {
        match self {
            MetricId::Logme => "logme",
            MetricId::Leep => "leep",
            MetricId::Nce => "nce",
            MetricId::Nleep => "nleep",
            MetricId::HScore => "hscore",
            MetricId::ShrinkageHScore => "shrinkage-hscore",
            MetricId::TransRate => "transrate",
            MetricId::GbcDiagonal => "gbc-diagonal",
            MetricId::GbcSpherical => "gbc-spherical",
            MetricId::Parc => "parc",
            MetricId::Sfda => "sfda",
        }
    }

    /// Whether the metric reads source-model probabilities instead of features (LEEP, NCE).
    pub fn needs_source_probabilities(&self) -> bool {
        matches!(self, MetricId::Leep | MetricId::Nce)
    }

    /// Every metric, in the order of the table in the module docs.
    pub fn all() -> &'static [MetricId] {
        &ALL_METRICS
    }
}

impl fmt::Display for MetricId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for MetricId {
    type Err = LogmeError;

    /// Parses an id as [`MetricId::id`] spells it; case and `_` for `-` are tolerated.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        ALL_METRICS
            .iter()
            .copied()
            .find(|m| m.id() == wanted)
            .ok_or_else(|| {
                let known: Vec<&str> = ALL_METRICS.iter().map(MetricId::id).collect();
                LogmeError::InvalidArgument(format!(
                    "unknown metric '{s}'; use one of {}",
                    known.join(", ")
                ))
            })
    }
}

/// Parameters of the metrics that take any, for [`score_metric`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MetricParams {
    /// PARC: reduce the features to this many principal components first (clamped to
    /// min(N, D)); `None` uses the features as they are.
    pub parc_dims: Option<usize>,
    /// NLEEP: number of Gaussian-mixture components; `None` uses 5·(max(label) + 1).
    pub nleep_components: Option<usize>,
    /// NLEEP: seed of the k-means++ initialisation.
    pub seed: u64,
}

/// The value of one metric and what is worth knowing about how it was obtained.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricScore {
    /// The score; larger means the features (or source model) should transfer better.
    pub value: f64,
    /// Departures from the reference code and notable outcomes, one sentence each.
    pub notes: Vec<String>,
}

/// A borrowed `[n_samples, n_source_classes]` row-major matrix of source-model probabilities.
///
/// Rows are meant to be probability vectors but, as in the reference code, they are not checked
/// to sum to 1; values must be finite and non-negative.
#[derive(Clone, Copy, Debug)]
pub struct SourceProbabilities<'a> {
    data: &'a [f64],
    n_samples: usize,
    n_source_classes: usize,
}

impl<'a> SourceProbabilities<'a> {
    /// Views `data` as `[n_samples, n_source_classes]`, row-major, and checks its values.
    ///
    /// # Errors
    /// [`LogmeError::ShapeMismatch`] when `data` does not hold exactly `n_samples ·
    /// n_source_classes` values, [`LogmeError::InvalidArgument`] when there are no source classes
    /// or a value is negative or not finite.
    pub fn new(
        data: &'a [f64],
        n_samples: usize,
        n_source_classes: usize,
    ) -> Result<Self, LogmeError> {
        if n_samples.checked_mul(n_source_classes) != Some(data.len()) {
            return Err(LogmeError::ShapeMismatch {
                len: data.len(),
                n_rows: n_samples,
                n_cols: n_source_classes,
            });
        }
        if n_source_classes == 0 {
            return Err(LogmeError::InvalidArgument(
                "source probabilities have no columns; pass one column per source class".into(),
            ));
        }
        if let Some(pos) = data.iter().position(|v| !v.is_finite() || *v < 0.0) {
            return Err(LogmeError::InvalidArgument(format!(
                "source probability at row {}, column {} is {}; probabilities must be finite and \
                 non-negative",
                pos / n_source_classes,
                pos % n_source_classes,
                data[pos]
            )));
        }
        Ok(Self {
            data,
            n_samples,
            n_source_classes,
        })
    }

    /// Number of samples (rows).
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Number of source classes (columns).
    pub fn n_source_classes(&self) -> usize {
        self.n_source_classes
    }

    /// The row-major values.
    pub fn data(&self) -> &'a [f64] {
        self.data
    }

    /// Row `row_idx`.
    ///
    /// # Panics
    /// If `row_idx` is out of bounds.
    pub fn row(&self, row_idx: usize) -> &'a [f64] {
        &self.data[row_idx * self.n_source_classes..(row_idx + 1) * self.n_source_classes]
    }

    /// The predicted source class of every sample: the first maximum of its row.
    pub fn argmax(&self) -> Vec<u32> {
        (0..self.n_samples)
            .map(|row_idx| {
                let row = self.row(row_idx);
                let mut best = 0;
                for (col_idx, v) in row.iter().enumerate() {
                    if *v > row[best] {
                        best = col_idx;
                    }
                }
                best as u32
            })
            .collect()
    }
}

/// Hard source-model predictions, one source class id per sample (input of [`nce()`]).
#[derive(Clone, Copy, Debug)]
pub struct SourceLabels<'a> {
    ids: &'a [u32],
}

impl<'a> SourceLabels<'a> {
    /// Wraps one predicted source class id per sample; any ids are allowed, gaps included.
    pub fn new(ids: &'a [u32]) -> Self {
        Self { ids }
    }

    /// The source class ids.
    pub fn ids(&self) -> &'a [u32] {
        self.ids
    }
}

/// Scores one metric: the uniform entry point the command line uses.
///
/// LEEP and NCE read `source_probs` (NCE takes its argmax) and ignore `features`; every other
/// metric reads `features` and ignores `source_probs`. LogME runs [`crate::fit()`] with default
/// options and reports its diagnostics as notes.
///
/// # Errors
/// [`LogmeError::InvalidArgument`] when LEEP or NCE get no source probabilities; otherwise the
/// errors of the metric's own function.
pub fn score_metric<B: LinalgBackend + ?Sized>(
    backend: &B,
    metric: MetricId,
    features: FeatureMatrix<'_>,
    labels: &ClassLabels,
    source_probs: Option<SourceProbabilities<'_>>,
    params: &MetricParams,
) -> Result<MetricScore, LogmeError> {
    let need_probs = || {
        source_probs.ok_or_else(|| {
            LogmeError::InvalidArgument(format!(
                "{metric} scores a source model's predictions; pass its class probabilities"
            ))
        })
    };
    let plain = |value: f64| MetricScore {
        value,
        notes: Vec::new(),
    };
    match metric {
        MetricId::Logme => {
            let targets = Targets::Classes(labels.clone());
            let fitted = crate::fit::fit(backend, &Default::default(), features, &targets)?;
            let notes = fitted.diagnostics.iter().map(ToString::to_string).collect();
            Ok(MetricScore {
                value: fitted.score,
                notes,
            })
        }
        MetricId::Leep => {
            let result = leep(need_probs()?, labels)?;
            let mut notes = Vec::new();
            if !result.dropped_source_classes.is_empty() {
                notes.push(format!(
                    "dropped never-predicted source classes {:?} (zero probability in every \
                     sample; the reference code returns NaN here)",
                    result.dropped_source_classes
                ));
            }
            Ok(MetricScore {
                value: result.value,
                notes,
            })
        }
        MetricId::Nce => {
            let predicted = need_probs()?.argmax();
            Ok(plain(nce(SourceLabels::new(&predicted), labels)?))
        }
        MetricId::Nleep => {
            let options = NleepOptions {
                n_components: params.nleep_components,
                seed: params.seed,
                ..NleepOptions::default()
            };
            let result = nleep(backend, features, labels, &options)?;
            let mut notes = vec![format!(
                "Gaussian mixture with {} components, seed {}, {} EM iterations{}; the value \
                 depends on the seed and differs from scikit-learn's mixture",
                result.n_components,
                params.seed,
                result.n_iter,
                if result.converged {
                    ""
                } else {
                    " (not converged)"
                }
            )];
            if !result.dropped_components.is_empty() {
                notes.push(format!(
                    "mixture components {:?} received no posterior mass and were dropped",
                    result.dropped_components
                ));
            }
            Ok(MetricScore {
                value: result.value,
                notes,
            })
        }
        MetricId::HScore => Ok(plain(h_score(backend, features, labels)?)),
        MetricId::ShrinkageHScore => {
            let result = shrinkage_h_score(backend, features, labels)?;
            Ok(MetricScore {
                value: result.value,
                notes: vec![format!("Ledoit-Wolf shrinkage {:.6e}", result.shrinkage)],
            })
        }
        MetricId::TransRate => Ok(plain(transrate(backend, features, labels)?.value)),
        MetricId::GbcDiagonal => Ok(plain(gbc(features, labels, GbcKind::Diagonal)?)),
        MetricId::GbcSpherical => Ok(plain(gbc(features, labels, GbcKind::Spherical)?)),
        MetricId::Parc => {
            let options = ParcOptions {
                n_dims: params.parc_dims,
                ..ParcOptions::default()
            };
            let result = parc(backend, features, labels, &options)?;
            let mut notes = Vec::new();
            if let (Some(asked), Some(used)) = (params.parc_dims, result.n_dims) {
                if used < asked {
                    notes.push(format!(
                        "{asked} principal components asked for, {used} = min(N, D) used (the \
                         reference code raises here)"
                    ));
                }
                notes.push(
                    "exact PCA; the reference code's randomized PCA gives a slightly different \
                     value"
                        .into(),
                );
            }
            Ok(MetricScore {
                value: result.value,
                notes,
            })
        }
        MetricId::Sfda => {
            let result = sfda(backend, features, labels)?;
            let mut notes = vec![format!("shrinkage {:.6e}", result.shrinkage)];
            if result.labels_remapped {
                notes.push(
                    "labels with gaps were mapped onto 0..C-1 (the reference code fails on them)"
                        .into(),
                );
            }
            Ok(MetricScore {
                value: result.value,
                notes,
            })
        }
    }
}
