//! Targets: class labels, multi-label 0/1 matrices and regression outputs.
//!
//! Classification follows the official LogME code by default: the number of classes is
//! `C = max(label) + 1` and a label id that never occurs still counts as an (all-zero) target
//! column. [`LabelPolicy`] can instead reject such gaps or remap the labels that occur onto
//! `0..C-1`, reporting the mapping.

use crate::error::LogmeError;

/// The kind of prediction problem the targets describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    /// One integer class label per sample; one one-hot target column per class.
    Classification,
    /// A 0/1 matrix, one column per label; each column is scored as a regression target.
    MultiLabel,
    /// Real-valued outputs, one column per output.
    Regression,
}

impl Task {
    /// Lowercase identifier used by the command line and the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::MultiLabel => "multilabel",
            Task::Regression => "regression",
        }
    }
}

/// What to do with class labels that are not exactly `0..C-1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LabelPolicy {
    /// `C = max + 1`; absent ids are all-zero columns (what the official code does).
    #[default]
    Reference,
    /// Refuse labels with gaps, naming the smallest missing label.
    Reject,
    /// Map the distinct labels, in increasing order, onto `0..C-1` (negative labels such as
    /// `-1`/`1` included).
    Remap,
}

/// A label type: every primitive integer, and floats holding whole numbers.
pub trait Label: Copy {
    /// The label as an integer, or `Err(value)` when it is a float that is not a whole number.
    fn to_integer(self) -> Result<i128, f64>;
}

macro_rules! impl_label_int {
    ($($t:ty),*) => {$(
        impl Label for $t {
            #[inline]
            fn to_integer(self) -> Result<i128, f64> {
                Ok(self as i128)
            }
        }
    )*};
}
impl_label_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, usize);

impl Label for bool {
    fn to_integer(self) -> Result<i128, f64> {
        Ok(i128::from(self))
    }
}

impl Label for f64 {
    fn to_integer(self) -> Result<i128, f64> {
        // 2^100 bounds every value we could possibly accept; the range check comes later.
        if self.is_finite() && self.fract() == 0.0 && self.abs() < 1e30 {
            Ok(self as i128)
        } else {
            Err(self)
        }
    }
}

impl Label for f32 {
    fn to_integer(self) -> Result<i128, f64> {
        f64::from(self).to_integer()
    }
}

/// Validated class labels in `0..n_classes`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassLabels {
    ids: Vec<u32>,
    n_classes: usize,
    original: Option<Vec<i128>>,
}

impl ClassLabels {
    /// Class id of every sample.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Number of target columns `C`.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// When labels were remapped, the original label of each class id.
    pub fn original_labels(&self) -> Option<&[i128]> {
        self.original.as_deref()
    }

    /// Number of samples in each class.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.n_classes];
        for &id in &self.ids {
            counts[id as usize] += 1;
        }
        counts
    }
}

/// Targets for one dataset, with the task they imply.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Class labels.
    Classes(ClassLabels),
    /// A dense `[n_samples, n_targets]` row-major matrix of multi-label or regression targets.
    Matrix {
        /// Row-major values.
        values: Vec<f64>,
        /// Rows (samples).
        n_rows: usize,
        /// Columns (targets).
        n_cols: usize,
        /// [`Task::MultiLabel`] or [`Task::Regression`].
        task: Task,
    },
}

impl Targets {
    /// Class labels under the reference policy (`C = max + 1`).
    ///
    /// # Errors
    /// See [`Targets::classes_with`].
    pub fn classes<L: Label>(labels: &[L]) -> Result<Self, LogmeError> {
        Self::classes_with(labels, LabelPolicy::Reference)
    }

    /// Class labels under the given policy.
    ///
    /// # Errors
    /// [`LogmeError::NegativeLabel`] (except when remapping), [`LogmeError::FractionalLabel`],
    /// and under the reference
    /// policy [`LogmeError::LabelTooLarge`] when `max + 1` exceeds the number of samples (most
    /// classes would be empty: the labels are ids, not class indices); under
    /// [`LabelPolicy::Reject`], [`LogmeError::MissingLabel`].
    pub fn classes_with<L: Label>(labels: &[L], policy: LabelPolicy) -> Result<Self, LogmeError> {
        let mut ints = Vec::with_capacity(labels.len());
        for (row, label) in labels.iter().enumerate() {
            match label.to_integer() {
                Ok(v) if v < 0 && policy != LabelPolicy::Remap => {
                    return Err(LogmeError::NegativeLabel { row, value: v });
                }
                Ok(v) => ints.push(v),
                Err(value) => return Err(LogmeError::FractionalLabel { row, value }),
            }
        }
        let n_samples = ints.len();
        let max_label = ints.iter().copied().max().unwrap_or(0);
        if policy == LabelPolicy::Remap {
            let mut distinct = ints.clone();
            distinct.sort_unstable();
            distinct.dedup();
            let ids = ints
                .iter()
                .map(|v| distinct.partition_point(|d| d < v) as u32)
                .collect();
            let identity = distinct.iter().enumerate().all(|(i, &v)| v == i as i128);
            return Ok(Targets::Classes(ClassLabels {
                ids,
                n_classes: distinct.len(),
                original: (!identity).then_some(distinct),
            }));
        }
        if max_label >= n_samples.max(2) as i128 {
            return Err(LogmeError::LabelTooLarge {
                max_label: max_label as u128,
                n_samples,
            });
        }
        let n_classes = if n_samples == 0 {
            0
        } else {
            max_label as usize + 1
        };
        let ids: Vec<u32> = ints.iter().map(|&v| v as u32).collect();
        if policy == LabelPolicy::Reject {
            let mut seen = vec![false; n_classes];
            for &id in &ids {
                seen[id as usize] = true;
            }
            if let Some(missing) = seen.iter().position(|s| !s) {
                return Err(LogmeError::MissingLabel {
                    missing,
                    max_label: max_label as usize,
                });
            }
        }
        Ok(Targets::Classes(ClassLabels {
            ids,
            n_classes,
            original: None,
        }))
    }

    /// A multi-label 0/1 matrix, row-major `[n_rows, n_cols]`.
    ///
    /// # Errors
    /// [`LogmeError::ShapeMismatch`], [`LogmeError::NonBinaryTarget`].
    pub fn multilabel(values: &[f64], n_rows: usize, n_cols: usize) -> Result<Self, LogmeError> {
        check_matrix(values, n_rows, n_cols)?;
        if let Some(pos) = values.iter().position(|&v| v != 0.0 && v != 1.0) {
            let (row, col) = (pos / n_cols, pos % n_cols);
            return Err(LogmeError::NonBinaryTarget {
                row,
                col,
                value: values[pos],
            });
        }
        Ok(Targets::Matrix {
            values: values.to_vec(),
            n_rows,
            n_cols,
            task: Task::MultiLabel,
        })
    }

    /// Regression outputs, row-major `[n_rows, n_cols]` (use `n_cols = 1` for a 1-D vector).
    ///
    /// # Errors
    /// [`LogmeError::ShapeMismatch`], [`LogmeError::NonFiniteTarget`].
    pub fn regression(values: &[f64], n_rows: usize, n_cols: usize) -> Result<Self, LogmeError> {
        check_matrix(values, n_rows, n_cols)?;
        Ok(Targets::Matrix {
            values: values.to_vec(),
            n_rows,
            n_cols,
            task: Task::Regression,
        })
    }

    /// The task these targets describe.
    pub fn task(&self) -> Task {
        match self {
            Targets::Classes(_) => Task::Classification,
            Targets::Matrix { task, .. } => *task,
        }
    }

    /// Number of samples.
    pub fn n_samples(&self) -> usize {
        match self {
            Targets::Classes(c) => c.ids.len(),
            Targets::Matrix { n_rows, .. } => *n_rows,
        }
    }

    /// Number of target columns (classes, labels or outputs).
    pub fn n_targets(&self) -> usize {
        match self {
            Targets::Classes(c) => c.n_classes,
            Targets::Matrix { n_cols, .. } => *n_cols,
        }
    }

    /// The class labels, for classification targets.
    pub fn as_classes(&self) -> Option<&ClassLabels> {
        match self {
            Targets::Classes(c) => Some(c),
            Targets::Matrix { .. } => None,
        }
    }

    /// Rows `start..start + len`, as borrowed block for streaming.
    ///
    /// # Panics
    /// If the range is out of bounds.
    pub fn rows(&self, start: usize, len: usize) -> TargetRows<'_> {
        let all = match self {
            Targets::Classes(c) => TargetRows::Classes {
                ids: &c.ids,
                n_classes: c.n_classes,
            },
            Targets::Matrix { values, n_cols, .. } => TargetRows::Matrix {
                values,
                n_cols: *n_cols,
            },
        };
        all.rows(start, len)
    }

    /// Value of target column `col` for sample `row` (one-hot for classes).
    pub fn value(&self, row: usize, col: usize) -> f64 {
        match self {
            Targets::Classes(c) => f64::from(u8::from(c.ids[row] as usize == col)),
            Targets::Matrix { values, n_cols, .. } => values[row * n_cols + col],
        }
    }
}

/// A borrowed block of target rows.
#[derive(Clone, Copy, Debug)]
pub enum TargetRows<'a> {
    /// Class ids and the total class count.
    Classes {
        /// Class id per row.
        ids: &'a [u32],
        /// Number of classes.
        n_classes: usize,
    },
    /// Row-major target values.
    Matrix {
        /// Values, `len * n_cols`.
        values: &'a [f64],
        /// Columns.
        n_cols: usize,
    },
}

impl<'a> TargetRows<'a> {
    /// Rows `start..start + len` of this block.
    ///
    /// # Panics
    /// If the range is out of bounds.
    pub fn rows(self, start: usize, len: usize) -> TargetRows<'a> {
        match self {
            TargetRows::Classes { ids, n_classes } => TargetRows::Classes {
                ids: &ids[start..start + len],
                n_classes,
            },
            TargetRows::Matrix { values, n_cols } => TargetRows::Matrix {
                values: &values[start * n_cols..(start + len) * n_cols],
                n_cols,
            },
        }
    }

    /// Rows in the block.
    pub fn n_rows(&self) -> usize {
        match self {
            TargetRows::Classes { ids, .. } => ids.len(),
            TargetRows::Matrix { values, n_cols } => values.len() / (*n_cols).max(1),
        }
    }

    /// Target columns.
    pub fn n_cols(&self) -> usize {
        match self {
            TargetRows::Classes { n_classes, .. } => *n_classes,
            TargetRows::Matrix { n_cols, .. } => *n_cols,
        }
    }
}

fn check_matrix(values: &[f64], n_rows: usize, n_cols: usize) -> Result<(), LogmeError> {
    if n_rows.checked_mul(n_cols) != Some(values.len()) {
        return Err(LogmeError::ShapeMismatch {
            len: values.len(),
            n_rows,
            n_cols,
        });
    }
    if n_cols == 0 {
        return Err(LogmeError::NoTargets);
    }
    if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
        return Err(LogmeError::NonFiniteTarget {
            row: pos / n_cols,
            col: pos % n_cols,
            value: values[pos],
        });
    }
    // Squares of these would overflow or vanish, and ‖y‖² with them.
    if let Some(v) = values
        .iter()
        .find(|v| **v != 0.0 && !(1e-150..=1e150).contains(&v.abs()))
    {
        return Err(LogmeError::OutOfRange {
            what: "targets",
            magnitude: v.abs(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_policy_counts_absent_classes() {
        let t = Targets::classes(&[1u8, 2, 3, 1, 2, 3]).unwrap();
        assert_eq!(t.n_targets(), 4);
        assert_eq!(t.as_classes().unwrap().counts(), vec![0, 2, 2, 2]);
    }

    #[test]
    fn remap_reports_the_mapping_and_reject_names_the_gap() {
        let signs = Targets::classes_with(&[-1i8, 1, 1, -1], LabelPolicy::Remap).unwrap();
        assert_eq!(signs.as_classes().unwrap().ids(), &[0, 1, 1, 0]);
        let t = Targets::classes_with(&[10i64, 30, 20, 30], LabelPolicy::Remap).unwrap();
        let c = t.as_classes().unwrap();
        assert_eq!(c.ids(), &[0, 2, 1, 2]);
        assert_eq!(c.original_labels(), Some(&[10i128, 20, 30][..]));
        let err = Targets::classes_with(&[1u8, 2, 3, 3], LabelPolicy::Reject).unwrap_err();
        assert_eq!(
            err,
            LogmeError::MissingLabel {
                missing: 0,
                max_label: 3
            }
        );
    }

    #[test]
    fn bad_labels_are_refused() {
        assert!(matches!(
            Targets::classes(&[0i32, -1]),
            Err(LogmeError::NegativeLabel { row: 1, value: -1 })
        ));
        assert!(matches!(
            Targets::classes(&[0.0f64, 1.5]),
            Err(LogmeError::FractionalLabel { row: 1, .. })
        ));
        assert!(matches!(
            Targets::classes(&[0u64, 1 << 40]),
            Err(LogmeError::LabelTooLarge { .. })
        ));
        assert!(matches!(
            Targets::classes(&[0.0f64, f64::NAN]),
            Err(LogmeError::FractionalLabel { .. })
        ));
        assert!(Targets::multilabel(&[0.0, 0.5], 1, 2).is_err());
        assert!(Targets::regression(&[0.0, f64::INFINITY], 2, 1).is_err());
    }
}
