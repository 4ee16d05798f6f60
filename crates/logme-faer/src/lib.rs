//! faer backend for logme: pure Rust, SIMD and multi-threaded through rayon.
//!
//! Every [`MatView`] is handed to faer as a strided `MatRef` over the caller's slice (row stride
//! `ld` and column stride 1 for row-major, the reverse for column-major), so no kernel copies its
//! inputs or outputs. Kernel by kernel:
//!
//! | kernel      | faer routine                                                               |
//! |-------------|----------------------------------------------------------------------------|
//! | `syrk`      | `linalg::matmul::triangular::matmul`, destination `TriangularLower`: aᵀa   |
//! | `gram_rows` | the same on aaᵀ                                                            |
//! | `gemm_tn`   | `linalg::matmul::matmul` with `Accum::Add` on the transposed view of a     |
//! | `gemm`      | `linalg::matmul::matmul` with `Accum::Add`                                 |
//! | `eigh`      | `linalg::evd::self_adjoint_evd`: tridiagonal QR below n = 128, else D&C    |
//! | `cholesky`  | `linalg::cholesky::llt::factor::cholesky_in_place`, no regularization       |
//! | `solve_lower_triangular` | `linalg::triangular_solve::solve_lower_triangular_in_place`    |
//!
//! The triangular product computes only the lower triangle of the destination, half the flops of
//! a full product, and never touches the strict upper triangle. faer returns eigenvalues in
//! nondecreasing order; the backend still checks the order and sorts if it ever is not. The
//! Cholesky factorization is blocked and recursive (its updates are triangular products and
//! triangular solves) and, like the solve, reads and writes the lower triangle only.
//!
//! ```
//! use logme_core::{LinalgBackend, MatMut, MatView};
//! use logme_faer::FaerBackend;
//!
//! // g += aᵀa for a = [[1, 2], [3, 4]] (row-major); only the lower triangle is written.
//! let a = [1.0, 2.0, 3.0, 4.0];
//! let mut g = [0.0; 4];
//! FaerBackend::new().syrk(MatView::row_major(&a, 2, 2), MatMut::row_major(&mut g, 2, 2));
//! assert_eq!(g, [10.0, 0.0, 14.0, 20.0]);
//! ```

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::llt::factor::{self as llt, LltError};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Par};
use logme_core::{BackendError, BackendErrorKind, LinalgBackend, MatMut, MatView, Order};

const NAME: &str = "faer";

/// The faer backend; carries the thread setting faer's kernels run with.
#[derive(Clone, Copy, Debug)]
pub struct FaerBackend {
    par: Par,
}

impl FaerBackend {
    /// Runs on every thread of rayon's global pool.
    pub fn new() -> Self {
        Self { par: Par::rayon(0) }
    }

    /// Runs on `n_threads` threads of rayon's global pool; 1 (or 0) runs sequentially.
    ///
    /// More threads than the global pool holds add no parallelism.
    pub fn with_threads(n_threads: usize) -> Self {
        let par = if n_threads <= 1 {
            Par::Seq
        } else {
            Par::rayon(n_threads)
        };
        Self { par }
    }

    /// The number of threads the kernels run on.
    pub fn n_threads(&self) -> usize {
        self.par.degree()
    }
}

impl Default for FaerBackend {
    fn default() -> Self {
        Self::new()
    }
}

/// faer's view of a logme view: the same memory, strides from the order and leading dimension.
fn as_faer(a: MatView<'_>) -> faer::MatRef<'_, f64> {
    let (n_rows, n_cols, ld) = (a.n_rows(), a.n_cols(), a.ld());
    match a.order() {
        Order::RowMajor => {
            faer::MatRef::from_row_major_slice_with_stride(a.data(), n_rows, n_cols, ld)
        }
        Order::ColMajor => {
            faer::MatRef::from_column_major_slice_with_stride(a.data(), n_rows, n_cols, ld)
        }
    }
}

/// faer's mutable view of a logme view.
///
/// Row-major views are built as the transpose of a column-major one: faer 0.24.4's
/// `MatMut::from_row_major_slice_with_stride_mut` swaps the two strides (it returns the
/// column-major reading of the slice), which the conformance suite catches.
fn as_faer_mut(a: MatMut<'_>) -> faer::MatMut<'_, f64> {
    let (n_rows, n_cols, ld, order) = (a.n_rows(), a.n_cols(), a.ld(), a.order());
    let data = a.into_data();
    match order {
        Order::RowMajor => {
            faer::MatMut::from_column_major_slice_with_stride_mut(data, n_cols, n_rows, ld)
                .transpose_mut()
        }
        Order::ColMajor => {
            faer::MatMut::from_column_major_slice_with_stride_mut(data, n_rows, n_cols, ld)
        }
    }
}

/// Scratch space of `req` bytes for the kernel `op`, or the allocation failure as an error.
fn scratch(op: &'static str, req: StackReq) -> Result<MemBuffer, BackendError> {
    MemBuffer::try_new(req).map_err(|_| BackendError {
        backend: NAME,
        op,
        kind: BackendErrorKind::Other(format!(
            "could not allocate {} bytes of scratch space",
            req.size_bytes()
        )),
    })
}

impl FaerBackend {
    /// `dst += lhs · rhs` on the lower triangle of the square `dst`.
    #[track_caller]
    fn lower_product(
        &self,
        lhs: faer::MatRef<'_, f64>,
        rhs: faer::MatRef<'_, f64>,
        dst: MatMut<'_>,
    ) {
        let dst = as_faer_mut(dst);
        assert!(
            dst.nrows() == dst.ncols() && lhs.nrows() == dst.nrows() && rhs.ncols() == dst.ncols(),
            "shape mismatch: [{}x{}] += [{}x{}] · [{}x{}]",
            dst.nrows(),
            dst.ncols(),
            lhs.nrows(),
            lhs.ncols(),
            rhs.nrows(),
            rhs.ncols()
        );
        if dst.nrows() == 0 || lhs.ncols() == 0 {
            return;
        }
        triangular::matmul(
            dst,
            BlockStructure::TriangularLower,
            Accum::Add,
            lhs,
            BlockStructure::Rectangular,
            rhs,
            BlockStructure::Rectangular,
            1.0,
            self.par,
        );
    }

    /// `dst += lhs · rhs`.
    #[track_caller]
    fn product(&self, lhs: faer::MatRef<'_, f64>, rhs: faer::MatRef<'_, f64>, dst: MatMut<'_>) {
        let dst = as_faer_mut(dst);
        assert!(
            lhs.nrows() == dst.nrows() && rhs.ncols() == dst.ncols() && lhs.ncols() == rhs.nrows(),
            "shape mismatch: [{}x{}] += [{}x{}] · [{}x{}]",
            dst.nrows(),
            dst.ncols(),
            lhs.nrows(),
            lhs.ncols(),
            rhs.nrows(),
            rhs.ncols()
        );
        if dst.nrows() == 0 || dst.ncols() == 0 || lhs.ncols() == 0 {
            return;
        }
        faer::linalg::matmul::matmul(dst, Accum::Add, lhs, rhs, 1.0, self.par);
    }
}

impl LinalgBackend for FaerBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    /// # Panics
    /// If `g` is not `[d, d]` for `a` of shape `[n, d]`.
    #[track_caller]
    fn syrk(&self, a: MatView<'_>, g: MatMut<'_>) {
        let a = as_faer(a);
        self.lower_product(a.transpose(), a, g);
    }

    /// # Panics
    /// If `c` is not `[p, q]` for `a` of shape `[n, p]` and `b` of shape `[n, q]`.
    #[track_caller]
    fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        self.product(as_faer(a).transpose(), as_faer(b), c);
    }

    /// # Panics
    /// If `c` is not `[p, q]` for `a` of shape `[p, n]` and `b` of shape `[n, q]`.
    #[track_caller]
    fn gemm(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        self.product(as_faer(a), as_faer(b), c);
    }

    /// # Panics
    /// If `k` is not `[n, n]` for `a` of shape `[n, d]`.
    #[track_caller]
    fn gram_rows(&self, a: MatView<'_>, k: MatMut<'_>) {
        let a = as_faer(a);
        self.lower_product(a, a.transpose(), k);
    }

    /// # Panics
    /// If `a` or `vectors` is not `[n, n]` or `values` does not hold `n` values.
    #[track_caller]
    fn eigh(
        &self,
        a: MatView<'_>,
        values: &mut [f64],
        vectors: MatMut<'_>,
    ) -> Result<(), BackendError> {
        let n = a.n_rows();
        logme_core::backend::shapes::eigh(&a, values, &vectors);
        if n == 0 {
            return Ok(());
        }

        // faer reads the lower triangle only and writes the eigenvectors in place, whatever
        // their strides; the eigenvalues land in a faer column that is copied out.
        let mut vectors = as_faer_mut(vectors);
        let mut eigenvalues = faer::Col::<f64>::zeros(n);
        let scratch_req = evd::self_adjoint_evd_scratch::<f64>(
            n,
            ComputeEigenvectors::Yes,
            self.par,
            Default::default(),
        );
        let mut scratch = scratch("eigh", scratch_req)?;
        evd::self_adjoint_evd(
            as_faer(a),
            eigenvalues.as_mut().as_diagonal_mut(),
            Some(vectors.as_mut()),
            self.par,
            MemStack::new(&mut scratch),
            Default::default(),
        )
        .map_err(|err| BackendError {
            backend: NAME,
            op: "eigh",
            kind: match err {
                evd::EvdError::NoConvergence => BackendErrorKind::NoConvergence,
            },
        })?;
        for (dst, src) in values.iter_mut().zip(eigenvalues.iter()) {
            *dst = *src;
        }

        // faer documents nondecreasing eigenvalues; keep the contract even if that ever changes.
        if values.windows(2).any(|pair| pair[0] > pair[1]) {
            sort_ascending(values, vectors);
        }
        Ok(())
    }

    /// # Errors
    /// [`BackendErrorKind::NotPositiveDefinite`] with faer's failing pivot, or
    /// [`BackendErrorKind::Other`] when the scratch space cannot be allocated.
    ///
    /// # Panics
    /// If `a` is not square.
    #[track_caller]
    fn cholesky(&self, a: MatMut<'_>) -> Result<(), BackendError> {
        let n = a.n_rows();
        logme_core::backend::shapes::cholesky(&a);
        if n == 0 {
            return Ok(());
        }
        let scratch_req = llt::cholesky_in_place_scratch::<f64>(n, self.par, Default::default());
        let mut scratch = scratch("cholesky", scratch_req)?;
        llt::cholesky_in_place(
            as_faer_mut(a),
            Default::default(),
            self.par,
            MemStack::new(&mut scratch),
            Default::default(),
        )
        .map_err(|err| BackendError {
            backend: NAME,
            op: "cholesky",
            kind: match err {
                LltError::NonPositivePivot { index } => {
                    BackendErrorKind::NotPositiveDefinite { index }
                }
            },
        })?;
        Ok(())
    }

    /// # Panics
    /// If `l` is not `[n, n]` for `b` of shape `[n, k]`.
    #[track_caller]
    fn solve_lower_triangular(&self, l: MatView<'_>, b: MatMut<'_>) {
        let (n, k) = (b.n_rows(), b.n_cols());
        logme_core::backend::shapes::solve_lower_triangular(&l, &b);
        if n == 0 || k == 0 {
            return;
        }
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            as_faer(l),
            as_faer_mut(b),
            self.par,
        );
    }
}

/// Sorts `values` ascending and permutes the columns of `vectors` to match.
fn sort_ascending(values: &mut [f64], mut vectors: faer::MatMut<'_, f64>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let sorted_values: Vec<f64> = order.iter().map(|&idx| values[idx]).collect();
    let sorted_vectors =
        faer::Mat::from_fn(vectors.nrows(), vectors.ncols(), |row_idx, col_idx| {
            vectors[(row_idx, order[col_idx])]
        });
    values.copy_from_slice(&sorted_values);
    vectors.copy_from(&sorted_vectors);
}
