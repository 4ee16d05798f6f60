//! LogME and its peers: transferability scores of pre-trained models from frozen features.
//!
//! `logme-core` holds the algorithm, input validation and the [`LinalgBackend`] trait; it has no
//! linear-algebra dependency of its own. The `logme` facade crate picks a backend.

pub mod backend;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod evidence;
pub mod fit;
pub mod metrics;
pub mod ranking;
pub mod spectrum;
pub mod stats;
pub mod targets;
pub mod views;

pub use backend::{BackendError, BackendErrorKind, LinalgBackend, NaiveBackend};
pub use error::LogmeError;
pub use evidence::ColumnFit;
pub use fit::{Diagnostic, Fit, Method, Mode, Options, Prediction, fit, fit_stats};
pub use spectrum::SolvePath;
pub use stats::SufficientStats;
pub use targets::{ClassLabels, Label, LabelPolicy, TargetRows, Targets, Task};
pub use views::{Elements, FeatureMatrix, MatMut, MatView, Order};
