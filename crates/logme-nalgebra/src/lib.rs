//! nalgebra backend for logme: pure Rust, single-threaded.
//!
//! Every [`MatView`] is handed to nalgebra as a `MatrixView` with dynamic row and column strides
//! over the caller's slice, so products never copy their operands; nalgebra's `gemm` on dynamic
//! sizes runs `matrixmultiply::dgemm` with those strides. Kernel by kernel:
//!
//! | kernel      | nalgebra routine                                                            |
//! |-------------|-----------------------------------------------------------------------------|
//! | `syrk`      | `Matrix::gemm` (β = 1) on the blocks of the lower triangle, recursively     |
//! | `gram_rows` | the same on aaᵀ                                                             |
//! | `gemm_tn`   | `Matrix::gemm` (β = 1) on the transposed view of a (no copy)                |
//! | `gemm`      | `Matrix::gemm` (β = 1); `Matrix::gemm_tr` for thin row-major left operands  |
//! | `eigh`      | `SymmetricEigen::try_new` on a symmetrized copy, then sorted ascending      |
//! | `cholesky`  | recursive blocked factorization; the updates are `gemm` calls               |
//! | `solve_lower_triangular` | recursive blocked forward substitution on `gemm`               |
//!
//! nalgebra has no triangular product. `syrk` splits the output in halves: the lower-left block
//! is one full `gemm`, the two diagonal blocks recurse, and blocks of at most 64 columns are
//! computed whole into a scratch buffer whose lower triangle is added to the output. That spends
//! about d·64·n extra flops, and the strict upper triangle of the output is never written.
//!
//! nalgebra 0.35's `gemm` reads and writes out of bounds when a dimension is at most 5 and the left
//! operand is row-major (dimforge/nalgebra#1616, in its `gemv` fallback). Such products, with a
//! margin up to 16, go through `gemm_tr` on the transposed, column-major view instead: dot
//! products over contiguous rows, correct for any strides. Larger products stay on `gemm`, which
//! hands them to `matrixmultiply`.
//!
//! nalgebra's own `Cholesky` and `solve_lower_triangular_mut` are unblocked loops over columns:
//! at the sizes NLEEP meets (D = 768, N = 2400 right-hand sides) they took 28 and 160 ms, against
//! 5 and 26 ms for the recursive versions here. The backend splits both in halves, so that nearly
//! all the work is a product through `gemm`: `cholesky` factors L₁₁, solves L₂₁ = A₂₁L₁₁⁻ᵀ,
//! subtracts L₂₁L₂₁ᵀ from the lower triangle of A₂₂ and recurses on it, down to blocks of 32
//! factored in plain loops; `solve_lower_triangular` solves the top half, subtracts L₂₁X₁ from the
//! bottom half and recurses, down to blocks of 16 rows. Both run along contiguous columns
//! (`cholesky`) or rows (the solve), so a row-major `cholesky` input and column-major right-hand
//! sides go through a packed copy. Neither reads or writes the strict upper triangle.
//!
//! `SymmetricEigen` returns its eigenvalues unsorted; the backend sorts them ascending and
//! permutes the eigenvectors to match. It is a tridiagonal QR iteration with Givens rotations,
//! correct but slower than faer or LAPACK on large matrices.
//!
//! ```
//! use logme_core::{LinalgBackend, MatMut, MatView};
//! use logme_nalgebra::NalgebraBackend;
//!
//! // g += aᵀa for a = [[1, 2], [3, 4]] (row-major); only the lower triangle is written.
//! let a = [1.0, 2.0, 3.0, 4.0];
//! let mut g = [0.0; 4];
//! NalgebraBackend.syrk(MatView::row_major(&a, 2, 2), MatMut::row_major(&mut g, 2, 2));
//! assert_eq!(g, [10.0, 0.0, 14.0, 20.0]);
//! ```

use logme_core::{BackendError, BackendErrorKind, LinalgBackend, MatMut, MatView, Order};
use nalgebra::{DMatrix, Dyn, Matrix, MatrixView, MatrixViewMut, StorageMut, SymmetricEigen};

const NAME: &str = "nalgebra";

/// Output blocks of at most this many columns are computed whole in `syrk`.
const LOWER_LEAF: usize = 64;

/// Diagonal blocks of at most this size are factored in plain loops in `cholesky`.
const CHOLESKY_LEAF: usize = 32;

/// Diagonal blocks of at most this size are solved in plain loops in `solve_lower_triangular`.
const SOLVE_LEAF: usize = 16;

/// The nalgebra backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct NalgebraBackend;

/// A read-only nalgebra view with run-time shape and strides.
type View<'a> = MatrixView<'a, f64, Dyn, Dyn, Dyn, Dyn>;

/// A mutable nalgebra view with run-time shape and strides.
type ViewMut<'a> = MatrixViewMut<'a, f64, Dyn, Dyn, Dyn, Dyn>;

/// (row stride, column stride) of a view in `order` with leading dimension `ld`.
fn strides(order: Order, ld: usize) -> (usize, usize) {
    match order {
        Order::RowMajor => (ld, 1),
        Order::ColMajor => (1, ld),
    }
}

/// nalgebra's view of a non-empty logme view: the same memory, strides from the order.
fn as_nalgebra(a: MatView<'_>) -> View<'_> {
    let (row_stride, col_stride) = strides(a.order(), a.ld());
    View::from_slice_with_strides_generic(
        a.data(),
        Dyn(a.n_rows()),
        Dyn(a.n_cols()),
        Dyn(row_stride),
        Dyn(col_stride),
    )
}

/// nalgebra's mutable view of a non-empty logme view.
fn as_nalgebra_mut(a: MatMut<'_>) -> ViewMut<'_> {
    let (n_rows, n_cols) = (a.n_rows(), a.n_cols());
    let (row_stride, col_stride) = strides(a.order(), a.ld());
    ViewMut::from_slice_with_strides_generic(
        a.into_data(),
        Dyn(n_rows),
        Dyn(n_cols),
        Dyn(row_stride),
        Dyn(col_stride),
    )
}

/// Below this size in any dimension, a row-major left operand goes through `gemm_tr`.
///
/// nalgebra 0.35's `gemm` multiplies through `gemv` when a dimension is at most 5, and that path
/// indexes out of bounds when the left operand's rows are not contiguous: `axcpy_uninit` loops
/// over the strided slice's length instead of the vector's (dimforge/nalgebra#1616). `gemm_tr` on
/// the transposed view, whose columns are contiguous, computes the same product through dot
/// products with correct strides. The margin above 5 keeps clear of the threshold.
const SMALL_DIM: usize = 16;

/// `c += alpha · a · b` through nalgebra, avoiding its out-of-bounds `gemv` path.
fn gemm_acc<S>(c: &mut Matrix<f64, Dyn, Dyn, S>, alpha: f64, a: MatView<'_>, b: MatView<'_>)
where
    S: StorageMut<f64, Dyn, Dyn>,
{
    let (p, n, q) = (a.n_rows(), a.n_cols(), b.n_cols());
    // nalgebra's view constructors reject some empty views with short slices; nothing to add.
    if p == 0 || n == 0 || q == 0 {
        return;
    }
    let row_stride = strides(a.order(), a.ld()).0;
    if row_stride != 1 && p > 1 && p.min(n).min(q) <= SMALL_DIM {
        c.gemm_tr(alpha, &as_nalgebra(a.transpose()), &as_nalgebra(b), 1.0);
    } else {
        c.gemm(alpha, &as_nalgebra(a), &as_nalgebra(b), 1.0);
    }
}

/// `dst += alpha · lhs · rhs` on the lower triangle of the square `dst`, recursively.
fn lower_product(alpha: f64, lhs: MatView<'_>, rhs: MatView<'_>, mut dst: ViewMut<'_>) {
    let d = dst.nrows();
    if d <= LOWER_LEAF {
        let mut block = DMatrix::<f64>::zeros(d, d);
        gemm_acc(&mut block, alpha, lhs, rhs);
        for col_idx in 0..d {
            for row_idx in col_idx..d {
                dst[(row_idx, col_idx)] += block[(row_idx, col_idx)];
            }
        }
        return;
    }

    // Split at h: [[top-left, ·], [bottom-left, bottom-right]]; the strict upper block is skipped.
    let h = d / 2;
    let rest = d - h;
    lower_product(
        alpha,
        lhs.rows(0, h),
        rhs.cols(0, h),
        dst.view_mut((0, 0), (h, h)),
    );
    gemm_acc(
        &mut dst.view_mut((h, 0), (rest, h)),
        alpha,
        lhs.rows(h, rest),
        rhs.cols(0, h),
    );
    lower_product(
        alpha,
        lhs.rows(h, rest),
        rhs.cols(h, rest),
        dst.view_mut((h, h), (rest, rest)),
    );
}

/// Forward substitution `x ← L⁻¹x` on the row-major `[n, k]` matrix in `x` (row i at
/// `x[i * ld..i * ld + k]`), `l` being `[n, n]` lower triangular; recursive, as in
/// [`NalgebraBackend::solve_lower_triangular`].
fn solve_rows(l: MatView<'_>, x: &mut [f64], k: usize, ld: usize) {
    let n = l.n_rows();
    if n <= SOLVE_LEAF {
        // Row i −= L_ij · row j for j < i, then row i /= L_ii: contiguous axpys over k entries.
        for i in 0..n {
            let (done, rest) = x.split_at_mut(i * ld);
            let row = &mut rest[..k];
            for j in 0..i {
                let coef = l.get(i, j);
                for (v, w) in row.iter_mut().zip(&done[j * ld..j * ld + k]) {
                    *v -= coef * w;
                }
            }
            let pivot = l.get(i, i);
            for v in row.iter_mut() {
                *v /= pivot;
            }
        }
        return;
    }

    // [[L11, 0], [L21, L22]] [x1; x2] = [b1; b2]: x1 = L11⁻¹b1, then x2 = L22⁻¹(b2 − L21 x1).
    let h = n / 2;
    let (top, bottom) = x.split_at_mut(h * ld);
    solve_rows(l.rows(0, h).cols(0, h), top, k, ld);
    let x1 = MatView::new(top, h, k, Order::RowMajor, ld);
    let mut b2 =
        ViewMut::from_slice_with_strides_generic(&mut *bottom, Dyn(n - h), Dyn(k), Dyn(ld), Dyn(1));
    gemm_acc(&mut b2, -1.0, l.rows(h, n - h).cols(0, h), x1);
    solve_rows(l.rows(h, n - h).cols(h, n - h), bottom, k, ld);
}

/// In-place Cholesky factorization of the lower triangle of the column-major `[n, n]` matrix in
/// `a` (column j at `a[j * ld..]`); `offset` is added to a failing pivot's index. Recursive, as in
/// [`NalgebraBackend::cholesky`].
fn cholesky_cols(a: &mut [f64], n: usize, ld: usize, offset: usize) -> Result<(), usize> {
    if n <= CHOLESKY_LEAF {
        // Left-looking by columns: column j −= L_jp · column p for p < j, then scale by the pivot.
        for j in 0..n {
            let (done, rest) = a.split_at_mut(j * ld);
            let column = &mut rest[j..n];
            for p in 0..j {
                let coef = done[p * ld + j];
                for (v, w) in column.iter_mut().zip(&done[p * ld + j..p * ld + n]) {
                    *v -= coef * w;
                }
            }
            let pivot = column[0];
            if pivot <= 0.0 || pivot.is_nan() {
                return Err(offset + j);
            }
            let pivot = pivot.sqrt();
            column[0] = pivot;
            for v in &mut column[1..] {
                *v /= pivot;
            }
        }
        return Ok(());
    }

    // [[A11, ·], [A21, A22]]: L11 = chol(A11), L21 = A21 L11⁻ᵀ, L22 = chol(A22 − L21 L21ᵀ).
    let h = n / 2;
    let (left, right) = a.split_at_mut(h * ld);
    cholesky_cols(left, h, ld, offset)?;

    // A21 read as a row-major [h, n − h] matrix is A21ᵀ, so L21ᵀ = L11⁻¹A21ᵀ is a forward
    // substitution in place; L11 shares those columns and is copied out first.
    let mut l11 = vec![0.0; h * h];
    for col_idx in 0..h {
        for row_idx in col_idx..h {
            l11[row_idx * h + col_idx] = left[col_idx * ld + row_idx];
        }
    }
    let a21 = &mut left[h..];
    solve_rows(MatView::row_major(&l11, h, h), a21, n - h, ld);

    let l21 = MatView::new(a21, n - h, h, Order::ColMajor, ld);
    let a22 = ViewMut::from_slice_with_strides_generic(
        &mut right[h..],
        Dyn(n - h),
        Dyn(n - h),
        Dyn(1),
        Dyn(ld),
    );
    lower_product(-1.0, l21, l21.transpose(), a22);
    cholesky_cols(&mut right[h..], n - h, ld, offset + h)
}

impl NalgebraBackend {
    /// `g += lhs · rhs` on the lower triangle, after checking shapes.
    #[track_caller]
    fn lower(lhs: MatView<'_>, rhs: MatView<'_>, g: MatMut<'_>) {
        assert!(
            g.n_rows() == g.n_cols()
                && lhs.n_rows() == g.n_rows()
                && rhs.n_cols() == g.n_cols()
                && lhs.n_cols() == rhs.n_rows(),
            "shape mismatch: [{}x{}] += [{}x{}] · [{}x{}]",
            g.n_rows(),
            g.n_cols(),
            lhs.n_rows(),
            lhs.n_cols(),
            rhs.n_rows(),
            rhs.n_cols()
        );
        if g.n_rows() == 0 || lhs.n_cols() == 0 {
            return;
        }
        lower_product(1.0, lhs, rhs, as_nalgebra_mut(g));
    }
}

impl LinalgBackend for NalgebraBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    /// # Panics
    /// If `g` is not `[d, d]` for `a` of shape `[n, d]`.
    #[track_caller]
    fn syrk(&self, a: MatView<'_>, g: MatMut<'_>) {
        Self::lower(a.transpose(), a, g);
    }

    /// # Panics
    /// If `c` is not `[p, q]` for `a` of shape `[n, p]` and `b` of shape `[n, q]`.
    #[track_caller]
    fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        self.gemm(a.transpose(), b, c);
    }

    /// # Panics
    /// If `c` is not `[p, q]` for `a` of shape `[p, n]` and `b` of shape `[n, q]`.
    #[track_caller]
    fn gemm(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        assert!(
            a.n_rows() == c.n_rows() && b.n_cols() == c.n_cols() && a.n_cols() == b.n_rows(),
            "shape mismatch: [{}x{}] += [{}x{}] · [{}x{}]",
            c.n_rows(),
            c.n_cols(),
            a.n_rows(),
            a.n_cols(),
            b.n_rows(),
            b.n_cols()
        );
        if c.n_rows() == 0 || c.n_cols() == 0 || a.n_cols() == 0 {
            return;
        }
        gemm_acc(&mut as_nalgebra_mut(c), 1.0, a, b);
    }

    /// # Panics
    /// If `k` is not `[n, n]` for `a` of shape `[n, d]`.
    #[track_caller]
    fn gram_rows(&self, a: MatView<'_>, k: MatMut<'_>) {
        Self::lower(a, a.transpose(), k);
    }

    /// # Panics
    /// If `a` or `vectors` is not `[n, n]` or `values` does not hold `n` values.
    #[track_caller]
    fn eigh(
        &self,
        a: MatView<'_>,
        values: &mut [f64],
        mut vectors: MatMut<'_>,
    ) -> Result<(), BackendError> {
        let n = a.n_rows();
        logme_core::backend::shapes::eigh(&a, values, &vectors);
        // nalgebra's tridiagonalization panics on an empty matrix.
        if n == 0 {
            return Ok(());
        }

        // A symmetric copy built from the lower triangle alone.
        let symmetric = DMatrix::from_fn(n, n, |row_idx, col_idx| {
            if row_idx >= col_idx {
                a.get(row_idx, col_idx)
            } else {
                a.get(col_idx, row_idx)
            }
        });

        // LAPACK's dsteqr allows 30 QR sweeps per eigenvalue; so does this.
        let max_sweeps = 30 * n;
        let eigen =
            SymmetricEigen::try_new(symmetric, f64::EPSILON, max_sweeps).ok_or(BackendError {
                backend: NAME,
                op: "eigh",
                kind: BackendErrorKind::NoConvergence,
            })?;

        // Ascending order, eigenvectors permuted along.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| eigen.eigenvalues[i].total_cmp(&eigen.eigenvalues[j]));
        for (dst_idx, &src_idx) in order.iter().enumerate() {
            values[dst_idx] = eigen.eigenvalues[src_idx];
            for row_idx in 0..n {
                *vectors.get_mut(row_idx, dst_idx) = eigen.eigenvectors[(row_idx, src_idx)];
            }
        }
        Ok(())
    }

    /// # Errors
    /// [`BackendErrorKind::NotPositiveDefinite`] with the first pivot that is not positive.
    ///
    /// # Panics
    /// If `a` is not square.
    #[track_caller]
    fn cholesky(&self, mut a: MatMut<'_>) -> Result<(), BackendError> {
        let n = a.n_rows();
        logme_core::backend::shapes::cholesky(&a);
        let failure = |index| BackendError {
            backend: NAME,
            op: "cholesky",
            kind: BackendErrorKind::NotPositiveDefinite { index },
        };
        if n == 0 {
            return Ok(());
        }

        // Column-major views are factored in place; row-major ones through a packed copy of
        // their lower triangle.
        if a.order() == Order::ColMajor {
            let ld = a.ld();
            return cholesky_cols(a.data(), n, ld, 0).map_err(failure);
        }
        let mut packed = vec![0.0; n * n];
        for col_idx in 0..n {
            for row_idx in col_idx..n {
                packed[col_idx * n + row_idx] = a.get(row_idx, col_idx);
            }
        }
        cholesky_cols(&mut packed, n, n, 0).map_err(failure)?;
        for col_idx in 0..n {
            for row_idx in col_idx..n {
                *a.get_mut(row_idx, col_idx) = packed[col_idx * n + row_idx];
            }
        }
        Ok(())
    }

    /// # Panics
    /// If `l` is not `[n, n]` for `b` of shape `[n, k]`.
    #[track_caller]
    fn solve_lower_triangular(&self, l: MatView<'_>, mut b: MatMut<'_>) {
        let (n, k) = (b.n_rows(), b.n_cols());
        logme_core::backend::shapes::solve_lower_triangular(&l, &b);
        if n == 0 || k == 0 {
            return;
        }

        // Row-major right-hand sides are solved in place; column-major ones through a packed
        // row-major copy, so that the substitutions run along contiguous rows.
        if b.order() == Order::RowMajor {
            let ld = b.ld();
            solve_rows(l, b.data(), k, ld);
            return;
        }
        let mut packed = vec![0.0; n * k];
        for col_idx in 0..k {
            for row_idx in 0..n {
                packed[row_idx * k + col_idx] = b.get(row_idx, col_idx);
            }
        }
        solve_rows(l, &mut packed, k, k);
        for col_idx in 0..k {
            for row_idx in 0..n {
                *b.get_mut(row_idx, col_idx) = packed[row_idx * k + col_idx];
            }
        }
    }
}
