//! LogME transferability scores with a choice of linear-algebra backend.

pub use logme_core::*;
