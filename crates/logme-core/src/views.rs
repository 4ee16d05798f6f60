//! Borrowed dense matrix views shared by the algorithm and the backends.
//!
//! A view is a slice, a shape, a memory order and a leading dimension: the one stride pattern
//! that BLAS, LAPACK, faer, nalgebra and ndarray all accept without a copy. In row-major order
//! element (i, j) sits at `data[i * ld + j]` with `ld >= n_cols`; in column-major order at
//! `data[i + j * ld]` with `ld >= n_rows`.

/// Memory order of a dense matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// Rows are contiguous (C order, NumPy's default).
    RowMajor,
    /// Columns are contiguous (Fortran order, LAPACK's native layout).
    ColMajor,
}

/// Minimum slice length for a matrix of this shape, order and leading dimension.
fn required_len(n_rows: usize, n_cols: usize, order: Order, ld: usize) -> usize {
    if n_rows == 0 || n_cols == 0 {
        return 0;
    }
    match order {
        Order::RowMajor => (n_rows - 1) * ld + n_cols,
        Order::ColMajor => (n_cols - 1) * ld + n_rows,
    }
}

#[track_caller]
fn check_shape(len: usize, n_rows: usize, n_cols: usize, order: Order, ld: usize) {
    let inner = match order {
        Order::RowMajor => n_cols,
        Order::ColMajor => n_rows,
    };
    assert!(
        ld >= inner.max(1),
        "leading dimension {ld} is smaller than {inner}"
    );
    let needed = required_len(n_rows, n_cols, order, ld);
    assert!(
        len >= needed,
        "slice of length {len} cannot hold a {n_rows} x {n_cols} matrix"
    );
}

/// A read-only view of a dense f64 matrix.
#[derive(Clone, Copy, Debug)]
pub struct MatView<'a> {
    data: &'a [f64],
    n_rows: usize,
    n_cols: usize,
    order: Order,
    ld: usize,
}

impl<'a> MatView<'a> {
    /// Views `data` as an `n_rows x n_cols` matrix in `order` with leading dimension `ld`.
    ///
    /// # Panics
    /// If `ld` is smaller than the contiguous dimension or `data` is too short.
    #[track_caller]
    pub fn new(data: &'a [f64], n_rows: usize, n_cols: usize, order: Order, ld: usize) -> Self {
        check_shape(data.len(), n_rows, n_cols, order, ld);
        Self {
            data,
            n_rows,
            n_cols,
            order,
            ld,
        }
    }

    /// Views a packed row-major matrix (`ld = n_cols`).
    #[track_caller]
    pub fn row_major(data: &'a [f64], n_rows: usize, n_cols: usize) -> Self {
        Self::new(data, n_rows, n_cols, Order::RowMajor, n_cols.max(1))
    }

    /// Views a packed column-major matrix (`ld = n_rows`).
    #[track_caller]
    pub fn col_major(data: &'a [f64], n_rows: usize, n_cols: usize) -> Self {
        Self::new(data, n_rows, n_cols, Order::ColMajor, n_rows.max(1))
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Memory order.
    pub fn order(&self) -> Order {
        self.order
    }

    /// Leading dimension (distance between consecutive rows, or columns, in elements).
    pub fn ld(&self) -> usize {
        self.ld
    }

    /// The underlying slice, starting at element (0, 0).
    pub fn data(&self) -> &'a [f64] {
        self.data
    }

    /// Offset of element (i, j) in `data`.
    #[inline]
    pub fn offset(&self, row_idx: usize, col_idx: usize) -> usize {
        match self.order {
            Order::RowMajor => row_idx * self.ld + col_idx,
            Order::ColMajor => row_idx + col_idx * self.ld,
        }
    }

    /// Element (i, j).
    ///
    /// # Panics
    /// If the index is out of bounds.
    #[inline]
    #[track_caller]
    pub fn get(&self, row_idx: usize, col_idx: usize) -> f64 {
        assert!(
            row_idx < self.n_rows && col_idx < self.n_cols,
            "index out of bounds"
        );
        self.data[self.offset(row_idx, col_idx)]
    }

    /// The transposed view (no copy: the order flips).
    pub fn transpose(self) -> MatView<'a> {
        let order = match self.order {
            Order::RowMajor => Order::ColMajor,
            Order::ColMajor => Order::RowMajor,
        };
        MatView {
            data: self.data,
            n_rows: self.n_cols,
            n_cols: self.n_rows,
            order,
            ld: self.ld,
        }
    }

    /// Rows `start..start + len` as a view.
    ///
    /// # Panics
    /// If the range is out of bounds.
    #[track_caller]
    pub fn rows(self, start: usize, len: usize) -> MatView<'a> {
        assert!(start + len <= self.n_rows, "row range out of bounds");
        if len == 0 || self.n_cols == 0 {
            return MatView {
                data: &[],
                n_rows: len,
                n_cols: self.n_cols,
                ..self
            };
        }
        let begin = self.offset(start, 0);
        let end = begin + required_len(len, self.n_cols, self.order, self.ld);
        MatView {
            data: &self.data[begin..end],
            n_rows: len,
            ..self
        }
    }

    /// Columns `start..start + len` as a view.
    ///
    /// # Panics
    /// If the range is out of bounds.
    #[track_caller]
    pub fn cols(self, start: usize, len: usize) -> MatView<'a> {
        self.transpose().rows(start, len).transpose()
    }
}

/// A mutable view of a dense f64 matrix; see [`MatView`] for the layout rules.
#[derive(Debug)]
pub struct MatMut<'a> {
    data: &'a mut [f64],
    n_rows: usize,
    n_cols: usize,
    order: Order,
    ld: usize,
}

impl<'a> MatMut<'a> {
    /// Views `data` mutably as an `n_rows x n_cols` matrix in `order` with leading dimension `ld`.
    ///
    /// # Panics
    /// If `ld` is smaller than the contiguous dimension or `data` is too short.
    #[track_caller]
    pub fn new(data: &'a mut [f64], n_rows: usize, n_cols: usize, order: Order, ld: usize) -> Self {
        check_shape(data.len(), n_rows, n_cols, order, ld);
        Self {
            data,
            n_rows,
            n_cols,
            order,
            ld,
        }
    }

    /// Views a packed column-major matrix (`ld = n_rows`).
    #[track_caller]
    pub fn col_major(data: &'a mut [f64], n_rows: usize, n_cols: usize) -> Self {
        Self::new(data, n_rows, n_cols, Order::ColMajor, n_rows.max(1))
    }

    /// Views a packed row-major matrix (`ld = n_cols`).
    #[track_caller]
    pub fn row_major(data: &'a mut [f64], n_rows: usize, n_cols: usize) -> Self {
        Self::new(data, n_rows, n_cols, Order::RowMajor, n_cols.max(1))
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Memory order.
    pub fn order(&self) -> Order {
        self.order
    }

    /// Leading dimension.
    pub fn ld(&self) -> usize {
        self.ld
    }

    /// The underlying slice, starting at element (0, 0).
    pub fn data(&mut self) -> &mut [f64] {
        self.data
    }

    /// Consumes the view and returns the slice with the view's lifetime.
    pub fn into_data(self) -> &'a mut [f64] {
        self.data
    }

    /// A read-only view of the same matrix.
    pub fn as_view(&self) -> MatView<'_> {
        MatView {
            data: self.data,
            n_rows: self.n_rows,
            n_cols: self.n_cols,
            order: self.order,
            ld: self.ld,
        }
    }

    /// A shorter-lived mutable view of the same matrix.
    pub fn reborrow(&mut self) -> MatMut<'_> {
        MatMut {
            data: self.data,
            n_rows: self.n_rows,
            n_cols: self.n_cols,
            order: self.order,
            ld: self.ld,
        }
    }

    /// Offset of element (i, j) in `data`.
    #[inline]
    pub fn offset(&self, row_idx: usize, col_idx: usize) -> usize {
        self.as_view().offset(row_idx, col_idx)
    }

    /// Element (i, j).
    ///
    /// # Panics
    /// If the index is out of bounds.
    #[inline]
    #[track_caller]
    pub fn get(&self, row_idx: usize, col_idx: usize) -> f64 {
        self.as_view().get(row_idx, col_idx)
    }

    /// Mutable reference to element (i, j).
    ///
    /// # Panics
    /// If the index is out of bounds.
    #[inline]
    #[track_caller]
    pub fn get_mut(&mut self, row_idx: usize, col_idx: usize) -> &mut f64 {
        assert!(
            row_idx < self.n_rows && col_idx < self.n_cols,
            "index out of bounds"
        );
        let offset = self.offset(row_idx, col_idx);
        &mut self.data[offset]
    }
}

/// Element storage of a feature matrix as handed over by the caller.
#[derive(Clone, Copy, Debug)]
pub enum Elements<'a> {
    /// Single precision, widened to f64 block by block inside.
    F32(&'a [f32]),
    /// Double precision, viewed in place where the layout allows.
    F64(&'a [f64]),
}

impl Elements<'_> {
    fn len(&self) -> usize {
        match self {
            Elements::F32(s) => s.len(),
            Elements::F64(s) => s.len(),
        }
    }

    #[inline]
    fn get(&self, offset: usize) -> f64 {
        match self {
            Elements::F32(s) => f64::from(s[offset]),
            Elements::F64(s) => s[offset],
        }
    }
}

/// A borrowed feature matrix `[n_samples, n_features]`, f32 or f64, either memory order.
///
/// Construction checks only the shape; [`FeatureMatrix::validate`] checks the values.
#[derive(Clone, Copy, Debug)]
pub struct FeatureMatrix<'a> {
    elements: Elements<'a>,
    n_rows: usize,
    n_cols: usize,
    order: Order,
    ld: usize,
}

impl<'a> FeatureMatrix<'a> {
    /// Views `elements` as a matrix with the given shape, order and leading dimension.
    ///
    /// # Errors
    /// [`crate::LogmeError::ShapeMismatch`] when the slice cannot hold the shape or `ld` is
    /// smaller than the contiguous dimension.
    pub fn new(
        elements: Elements<'a>,
        n_rows: usize,
        n_cols: usize,
        order: Order,
        ld: usize,
    ) -> Result<Self, crate::LogmeError> {
        let inner = match order {
            Order::RowMajor => n_cols,
            Order::ColMajor => n_rows,
        };
        let needed = required_len(n_rows, n_cols, order, ld);
        if ld < inner.max(1) || elements.len() < needed {
            return Err(crate::LogmeError::ShapeMismatch {
                len: elements.len(),
                n_rows,
                n_cols,
            });
        }
        Ok(Self {
            elements,
            n_rows,
            n_cols,
            order,
            ld,
        })
    }

    /// A packed row-major f64 matrix.
    ///
    /// # Errors
    /// [`crate::LogmeError::ShapeMismatch`] when `data.len() != n_rows * n_cols`.
    pub fn from_f64(
        data: &'a [f64],
        n_rows: usize,
        n_cols: usize,
    ) -> Result<Self, crate::LogmeError> {
        Self::packed(Elements::F64(data), n_rows, n_cols, Order::RowMajor)
    }

    /// A packed row-major f32 matrix.
    ///
    /// # Errors
    /// [`crate::LogmeError::ShapeMismatch`] when `data.len() != n_rows * n_cols`.
    pub fn from_f32(
        data: &'a [f32],
        n_rows: usize,
        n_cols: usize,
    ) -> Result<Self, crate::LogmeError> {
        Self::packed(Elements::F32(data), n_rows, n_cols, Order::RowMajor)
    }

    /// A packed matrix in either order (`ld` = the contiguous dimension).
    ///
    /// # Errors
    /// [`crate::LogmeError::ShapeMismatch`] when `elements` does not hold exactly
    /// `n_rows * n_cols` values.
    pub fn packed(
        elements: Elements<'a>,
        n_rows: usize,
        n_cols: usize,
        order: Order,
    ) -> Result<Self, crate::LogmeError> {
        if n_rows.checked_mul(n_cols) != Some(elements.len()) {
            return Err(crate::LogmeError::ShapeMismatch {
                len: elements.len(),
                n_rows,
                n_cols,
            });
        }
        let ld = match order {
            Order::RowMajor => n_cols,
            Order::ColMajor => n_rows,
        };
        Self::new(elements, n_rows, n_cols, order, ld.max(1))
    }

    /// Number of samples (rows).
    pub fn n_samples(&self) -> usize {
        self.n_rows
    }

    /// Number of features (columns).
    pub fn n_features(&self) -> usize {
        self.n_cols
    }

    /// Memory order.
    pub fn order(&self) -> Order {
        self.order
    }

    /// The element storage.
    pub fn elements(&self) -> Elements<'a> {
        self.elements
    }

    /// Element (i, j) widened to f64.
    ///
    /// # Panics
    /// If the index is out of bounds.
    #[inline]
    pub fn get(&self, row_idx: usize, col_idx: usize) -> f64 {
        assert!(
            row_idx < self.n_rows && col_idx < self.n_cols,
            "index out of bounds"
        );
        self.elements.get(self.offset(row_idx, col_idx))
    }

    #[inline]
    fn offset(&self, row_idx: usize, col_idx: usize) -> usize {
        match self.order {
            Order::RowMajor => row_idx * self.ld + col_idx,
            Order::ColMajor => row_idx + col_idx * self.ld,
        }
    }

    /// Checks that every value is finite; the error names the first bad row and column.
    ///
    /// Rows are scanned in order, so the reported position is the first in row-major order.
    ///
    /// # Errors
    /// [`crate::LogmeError::NonFiniteFeature`].
    pub fn validate(&self) -> Result<(), crate::LogmeError> {
        let first_bad = match (self.elements, self.order) {
            (Elements::F64(s), Order::RowMajor) => {
                first_non_finite_rows(s, self.n_rows, self.n_cols, self.ld, |v| v)
            }
            (Elements::F32(s), Order::RowMajor) => {
                first_non_finite_rows(s, self.n_rows, self.n_cols, self.ld, f64::from)
            }
            _ => {
                // Column-major: scan column by column for speed, then report the smallest row.
                let mut best: Option<(usize, usize)> = None;
                for col_idx in 0..self.n_cols {
                    for row_idx in 0..self.n_rows {
                        if best.is_some_and(|(r, _)| r <= row_idx) {
                            break;
                        }
                        if !self.get(row_idx, col_idx).is_finite() {
                            best = Some((row_idx, col_idx));
                            break;
                        }
                    }
                }
                best
            }
        };
        match first_bad {
            None => Ok(()),
            Some((row, col)) => Err(crate::LogmeError::NonFiniteFeature {
                row,
                col,
                value: self.get(row, col),
            }),
        }
    }

    /// Rows `start..start + len` as a feature matrix.
    ///
    /// # Panics
    /// If the range is out of bounds.
    pub fn rows(&self, start: usize, len: usize) -> FeatureMatrix<'a> {
        assert!(start + len <= self.n_rows, "row range out of bounds");
        let mut out = *self;
        out.n_rows = len;
        if len == 0 || self.n_cols == 0 {
            return out;
        }
        let begin = self.offset(start, 0);
        let end = begin + required_len(len, self.n_cols, self.order, self.ld);
        out.elements = match self.elements {
            Elements::F32(s) => Elements::F32(&s[begin..end]),
            Elements::F64(s) => Elements::F64(&s[begin..end]),
        };
        out
    }

    /// The f64 view of the matrix when it can be had without a copy.
    pub fn as_f64_view(&self) -> Option<MatView<'a>> {
        match self.elements {
            Elements::F64(s) => Some(MatView::new(
                s,
                self.n_rows,
                self.n_cols,
                self.order,
                self.ld,
            )),
            Elements::F32(_) => None,
        }
    }

    /// Writes rows `start..start + len` as a packed row-major f64 block into `out`.
    ///
    /// # Panics
    /// If the range is out of bounds or `out` is shorter than `len * n_features`.
    pub fn widen_rows_into(&self, start: usize, len: usize, out: &mut [f64]) {
        assert!(start + len <= self.n_rows, "row range out of bounds");
        let n_cols = self.n_cols;
        let out = &mut out[..len * n_cols];
        match (self.elements, self.order) {
            (Elements::F32(s), Order::RowMajor) => {
                for (row_idx, dst) in out.chunks_exact_mut(n_cols.max(1)).enumerate() {
                    let begin = (start + row_idx) * self.ld;
                    for (d, v) in dst.iter_mut().zip(&s[begin..begin + n_cols]) {
                        *d = f64::from(*v);
                    }
                }
            }
            (Elements::F64(s), Order::RowMajor) => {
                for (row_idx, dst) in out.chunks_exact_mut(n_cols.max(1)).enumerate() {
                    let begin = (start + row_idx) * self.ld;
                    dst.copy_from_slice(&s[begin..begin + n_cols]);
                }
            }
            _ => {
                for col_idx in 0..n_cols {
                    for row_idx in 0..len {
                        out[row_idx * n_cols + col_idx] = self.get(start + row_idx, col_idx);
                    }
                }
            }
        }
    }

    /// Writes columns `start..start + len` as a packed column-major f64 block `[n_samples, len]`.
    ///
    /// # Panics
    /// If the range is out of bounds or `out` is shorter than `n_samples * len`.
    pub fn widen_cols_into(&self, start: usize, len: usize, out: &mut [f64]) {
        assert!(start + len <= self.n_cols, "column range out of bounds");
        let n_rows = self.n_rows;
        let out = &mut out[..n_rows * len];
        match self.order {
            Order::ColMajor => {
                for (col_idx, dst) in out.chunks_exact_mut(n_rows.max(1)).enumerate() {
                    let begin = (start + col_idx) * self.ld;
                    for (row_idx, d) in dst.iter_mut().enumerate() {
                        *d = self.elements.get(begin + row_idx);
                    }
                }
            }
            Order::RowMajor => {
                for row_idx in 0..n_rows {
                    let begin = row_idx * self.ld + start;
                    for col_idx in 0..len {
                        out[row_idx + col_idx * n_rows] = self.elements.get(begin + col_idx);
                    }
                }
            }
        }
    }
}

fn first_non_finite_rows<T: Copy>(
    data: &[T],
    n_rows: usize,
    n_cols: usize,
    ld: usize,
    widen: impl Fn(T) -> f64,
) -> Option<(usize, usize)> {
    (0..n_rows).find_map(|row_idx| {
        let row = &data[row_idx * ld..row_idx * ld + n_cols];
        row.iter()
            .position(|v| !widen(*v).is_finite())
            .map(|col_idx| (row_idx, col_idx))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_and_ranges_address_the_same_elements() {
        let data: Vec<f64> = (0..12).map(f64::from).collect();
        let view = MatView::row_major(&data, 3, 4);
        assert_eq!(view.get(2, 1), 9.0);
        assert_eq!(view.transpose().get(1, 2), 9.0);
        assert_eq!(view.rows(1, 2).get(1, 1), 9.0);
        assert_eq!(view.cols(1, 2).get(2, 0), 9.0);
    }

    #[test]
    fn validate_reports_first_non_finite_in_row_order() {
        let mut data = vec![0.0f64; 20];
        data[3 * 4 + 2] = f64::NAN;
        data[4 * 4] = f64::INFINITY;
        let f = FeatureMatrix::from_f64(&data, 5, 4).unwrap();
        match f.validate() {
            Err(crate::LogmeError::NonFiniteFeature { row, col, .. }) => {
                assert_eq!((row, col), (3, 2))
            }
            other => panic!("unexpected {other:?}"),
        }
        // The same matrix in column-major order reports the same position.
        let mut col_major = vec![0.0f64; 20];
        for i in 0..5 {
            for j in 0..4 {
                col_major[i + j * 5] = data[i * 4 + j];
            }
        }
        let f = FeatureMatrix::packed(Elements::F64(&col_major), 5, 4, Order::ColMajor).unwrap();
        match f.validate() {
            Err(crate::LogmeError::NonFiniteFeature { row, col, .. }) => {
                assert_eq!((row, col), (3, 2))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
