//! Errors for everything a user can hand to logme.
//!
//! Every message starts lowercase, names the problem with the numbers that show it, and says what
//! to do about it.

use crate::backend::BackendError;

/// What can go wrong when scoring, fitting or predicting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LogmeError {
    /// The slice length does not match the declared shape.
    #[error(
        "a slice of {len} values cannot be a {n_rows} x {n_cols} matrix; pass the shape the data has"
    )]
    ShapeMismatch {
        /// Slice length.
        len: usize,
        /// Declared rows.
        n_rows: usize,
        /// Declared columns.
        n_cols: usize,
    },
    /// Fewer than two samples.
    #[error("features have {n_samples} rows; LogME needs at least 2 samples")]
    TooFewSamples {
        /// Rows given.
        n_samples: usize,
    },
    /// No feature columns.
    #[error("features have no columns; pass a matrix with at least one feature")]
    NoFeatures,
    /// Feature and target row counts differ.
    #[error(
        "features have {features} rows but targets have {targets}; give one target row per feature row"
    )]
    LengthMismatch {
        /// Feature rows.
        features: usize,
        /// Target rows.
        targets: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("feature at row {row}, column {col} is {value}; drop or impute non-finite values")]
    NonFiniteFeature {
        /// Row of the first bad value.
        row: usize,
        /// Column of the first bad value.
        col: usize,
        /// The value.
        value: f64,
    },
    /// A regression or multi-label target is NaN or infinite.
    #[error("target at row {row}, column {col} is {value}; drop or impute non-finite targets")]
    NonFiniteTarget {
        /// Row of the first bad value.
        row: usize,
        /// Column of the first bad value.
        col: usize,
        /// The value.
        value: f64,
    },
    /// A class label is negative.
    #[error(
        "label at row {row} is {value}; class labels must be non-negative integers, or remap them \
         (`--label-policy remap`, `LabelPolicy::Remap`)"
    )]
    NegativeLabel {
        /// Row of the first negative label.
        row: usize,
        /// The label.
        value: i128,
    },
    /// A class label given as a float is not an integer.
    #[error(
        "label at row {row} is {value}, not an integer; class labels must be whole numbers (for \
         real-valued targets use the regression task)"
    )]
    FractionalLabel {
        /// Row of the first bad label.
        row: usize,
        /// The label.
        value: f64,
    },
    /// The largest label would create more class columns than there are samples.
    #[error(
        "the largest label is {max_label} but there are only {n_samples} samples, so most of the \
         {max_label}+1 classes would be empty; pass labels 0..C-1 or ask for remapping"
    )]
    LabelTooLarge {
        /// The largest label.
        max_label: u128,
        /// Number of samples.
        n_samples: usize,
    },
    /// Labels are not exactly `0..C-1` and the policy rejects gaps.
    #[error(
        "label {missing} never occurs although labels go up to {max_label}; pass labels 0..C-1 \
         without gaps or remap them (`--label-policy remap`, `LabelPolicy::Remap`)"
    )]
    MissingLabel {
        /// The smallest absent label.
        missing: usize,
        /// The largest label.
        max_label: usize,
    },
    /// A multi-label target is not 0 or 1.
    #[error("multi-label target at row {row}, column {col} is {value}; use 0 or 1")]
    NonBinaryTarget {
        /// Row.
        row: usize,
        /// Column.
        col: usize,
        /// The value.
        value: f64,
    },
    /// The targets have no columns.
    #[error("targets have no columns; pass at least one target column")]
    NoTargets,
    /// Test features have a different width than the training features.
    #[error(
        "test features have {got} columns but the model was fitted on {expected}; extract both with the same model"
    )]
    FeatureCountMismatch {
        /// Columns of the fitted features.
        expected: usize,
        /// Columns given.
        got: usize,
    },
    /// Statistics with different shapes or tasks cannot be merged.
    #[error(
        "cannot merge statistics: {reason}; merge only shards of the same features and targets"
    )]
    IncompatibleStats {
        /// What differs.
        reason: String,
    },
    /// A metric cannot score this input.
    #[error("{metric} cannot score this input: {reason}")]
    Unscorable {
        /// The metric id.
        metric: &'static str,
        /// Why, and what to do.
        reason: String,
    },
    /// The values are so large or so small that FᵀF or ‖y‖² leaves the f64 range.
    #[error(
        "{what} leave the range of f64 (a magnitude of {magnitude:e}); rescale them (for example \
         standardize the columns) and score again"
    )]
    OutOfRange {
        /// `features` or `targets`.
        what: &'static str,
        /// The offending magnitude (a product entry, or a value whose square leaves the range).
        magnitude: f64,
    },
    /// An invalid argument.
    #[error("{0}")]
    InvalidArgument(String),
    /// A backend kernel failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
}
