//! LogME and its peers: transferability scores of pre-trained models from frozen features.
//!
//! `logme-core` holds the algorithm, input validation and the [`LinalgBackend`] trait; it has no
//! linear-algebra dependency of its own. The `logme` facade crate picks a backend.

pub mod backend;
pub mod error;
pub mod ranking;
pub mod views;

pub use backend::{BackendError, BackendErrorKind, LinalgBackend, NaiveBackend};
pub use error::LogmeError;
pub use views::{Elements, FeatureMatrix, MatMut, MatView, Order};
