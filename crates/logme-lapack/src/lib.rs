//! BLAS/LAPACK backend for logme: the reference Fortran interfaces, as OpenBLAS ships them.
//!
//! Products call CBLAS with the layout of the output (`CblasRowMajor` or `CblasColMajor`) and a
//! transpose flag per input whose order differs, so every view is passed in place with its own
//! leading dimension. Kernel by kernel:
//!
//! | kernel      | routine                                                                     |
//! |-------------|-----------------------------------------------------------------------------|
//! | `syrk`      | `cblas_dsyrk`, `CblasLower`, β = 1                                          |
//! | `gram_rows` | `cblas_dsyrk` on the transposed view (the trait's provided method)          |
//! | `gemm_tn`   | `cblas_dgemm` on the transposed view of a, β = 1                            |
//! | `gemm`      | `cblas_dgemm`, β = 1                                                        |
//! | `eigh`      | `dsyevd` (divide and conquer), `UPLO = 'L'`, after a workspace query        |
//! | `cholesky`  | `dpotrf`, `UPLO = 'L'` on a column-major view, `'U'` on a row-major one     |
//! | `solve_lower_triangular` | `cblas_dtrsm`: left side, lower (or upper, transposed), non-unit |
//!
//! LAPACK routines are column-major. A row-major matrix read in column-major order is its
//! transpose, so `dpotrf` factors a row-major view in place as Aᵀ = UᵀU with `UPLO = 'U'`, where
//! U = Lᵀ: the factor lands in the lower triangle of the row-major view, and the other triangle
//! is never touched. `dtrsm` is called in the layout of the right-hand sides; a factor stored in
//! the other order reads as the upper triangular Lᵀ and is passed as such, transposed.
//!
//! `dsyevd` overwrites its input with the eigenvectors, so `eigh` copies the lower triangle of
//! `a` into the eigenvector output when that is column-major (no other allocation than LAPACK's
//! workspace), and into a column-major scratch matrix otherwise. LAPACK returns the eigenvalues in
//! ascending order.
//!
//! # Providers
//! The crate declares the BLAS and LAPACK symbols (`cblas-sys`, `lapack-sys`) and links them
//! through the `openblas-system` feature, on by default: `build.rs` links the system OpenBLAS
//! (`apt-get install libopenblas-dev` on Debian and Ubuntu). A leaf crate that wants another
//! provider (MKL, netlib, a static OpenBLAS) turns default features off and links one itself,
//! for instance with the matching `*-src` crate.
//!
//! # Limitations
//! The interfaces take 32-bit integers (LP64): every dimension and leading dimension must stay
//! below 2³¹, and the kernels panic otherwise. OpenBLAS picks its own thread count; set
//! `OPENBLAS_NUM_THREADS` to bound it.
//!
//! ```
//! use logme_core::{LinalgBackend, MatMut, MatView};
//! use logme_lapack::LapackBackend;
//!
//! // g += aᵀa for a = [[1, 2], [3, 4]] (row-major); only the lower triangle is written.
//! let a = [1.0, 2.0, 3.0, 4.0];
//! let mut g = [0.0; 4];
//! LapackBackend.syrk(MatView::row_major(&a, 2, 2), MatMut::row_major(&mut g, 2, 2));
//! assert_eq!(g, [10.0, 0.0, 14.0, 20.0]);
//! ```

use std::ffi::{c_char, c_int};

use cblas_sys::{CBLAS_DIAG, CBLAS_LAYOUT, CBLAS_SIDE, CBLAS_TRANSPOSE, CBLAS_UPLO};
use logme_core::{BackendError, BackendErrorKind, LinalgBackend, MatMut, MatView, Order};

// Links the system OpenBLAS; the crate is otherwise unused.

const NAME: &str = "lapack";

/// The BLAS/LAPACK backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct LapackBackend;

/// A dimension as the 32-bit integer the interfaces take.
///
/// # Panics
/// If it does not fit.
#[track_caller]
fn blas_int(value: usize) -> c_int {
    match c_int::try_from(value) {
        Ok(value) => value,
        Err(_) => panic!("dimension {value} exceeds the 32-bit BLAS/LAPACK interface"),
    }
}

fn layout(order: Order) -> CBLAS_LAYOUT {
    match order {
        Order::RowMajor => CBLAS_LAYOUT::CblasRowMajor,
        Order::ColMajor => CBLAS_LAYOUT::CblasColMajor,
    }
}

/// `CblasNoTrans` when `a` is stored in the output's order, else `CblasTrans`: read in the
/// output's layout, the buffer of `a` then holds aᵀ.
fn transpose_flag(a: &MatView<'_>, output_order: Order) -> CBLAS_TRANSPOSE {
    if a.order() == output_order {
        CBLAS_TRANSPOSE::CblasNoTrans
    } else {
        CBLAS_TRANSPOSE::CblasTrans
    }
}

impl LinalgBackend for LapackBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    /// # Panics
    /// If `g` is not `[d, d]` for `a` of shape `[n, d]`, or a dimension exceeds 2³¹ − 1.
    #[track_caller]
    fn syrk(&self, a: MatView<'_>, mut g: MatMut<'_>) {
        let (n, d) = (a.n_rows(), a.n_cols());
        assert!(
            g.n_rows() == d && g.n_cols() == d,
            "shape mismatch: g [{}x{}] += aᵀa for a [{n}x{d}]",
            g.n_rows(),
            g.n_cols()
        );
        if n == 0 || d == 0 {
            return;
        }

        // Read in g's layout, a's buffer is a (n x d, use aᵀa) or aᵀ (d x n, use AAᵀ).
        let trans = match transpose_flag(&a, g.order()) {
            CBLAS_TRANSPOSE::CblasNoTrans => CBLAS_TRANSPOSE::CblasTrans,
            _ => CBLAS_TRANSPOSE::CblasNoTrans,
        };
        let (order, ldg) = (g.order(), g.ld());
        // SAFETY: both views were checked by their constructors to hold their shape with their
        // leading dimension, which is exactly what dsyrk reads (a) and writes (the lower triangle
        // of g); the dimensions are non-zero and fit in c_int.
        unsafe {
            cblas_sys::cblas_dsyrk(
                layout(order),
                cblas_sys::CBLAS_UPLO::CblasLower,
                trans,
                blas_int(d),
                blas_int(n),
                1.0,
                a.data().as_ptr(),
                blas_int(a.ld()),
                1.0,
                g.data().as_mut_ptr(),
                blas_int(ldg),
            );
        }
    }

    /// # Panics
    /// If `c` is not `[p, q]` for `a` of shape `[n, p]` and `b` of shape `[n, q]`, or a dimension
    /// exceeds 2³¹ − 1.
    #[track_caller]
    fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        self.gemm(a.transpose(), b, c);
    }

    /// # Panics
    /// If `c` is not `[p, q]` for `a` of shape `[p, n]` and `b` of shape `[n, q]`, or a dimension
    /// exceeds 2³¹ − 1.
    #[track_caller]
    fn gemm(&self, a: MatView<'_>, b: MatView<'_>, mut c: MatMut<'_>) {
        let (p, n, q) = (a.n_rows(), a.n_cols(), b.n_cols());
        assert!(
            b.n_rows() == n && c.n_rows() == p && c.n_cols() == q,
            "shape mismatch: c [{}x{}] += a [{p}x{n}] · b [{}x{q}]",
            c.n_rows(),
            c.n_cols(),
            b.n_rows()
        );
        if p == 0 || n == 0 || q == 0 {
            return;
        }
        let (order, ldc) = (c.order(), c.ld());
        // SAFETY: the views were checked by their constructors to hold their shapes with their
        // leading dimensions, which is what dgemm reads (a, b) and writes (c); the transpose
        // flags match how each buffer reads in c's layout; the dimensions are non-zero and fit.
        unsafe {
            cblas_sys::cblas_dgemm(
                layout(order),
                transpose_flag(&a, order),
                transpose_flag(&b, order),
                blas_int(p),
                blas_int(q),
                blas_int(n),
                1.0,
                a.data().as_ptr(),
                blas_int(a.ld()),
                b.data().as_ptr(),
                blas_int(b.ld()),
                1.0,
                c.data().as_mut_ptr(),
                blas_int(ldc),
            );
        }
    }

    /// # Errors
    /// [`BackendErrorKind::Lapack`] with `dsyevd`'s `info` when it fails: positive when the
    /// divide-and-conquer iteration did not converge.
    ///
    /// # Panics
    /// If `a` or `vectors` is not `[n, n]`, `values` does not hold `n` values, or n exceeds
    /// 2³¹ − 1.
    #[track_caller]
    fn eigh(
        &self,
        a: MatView<'_>,
        values: &mut [f64],
        mut vectors: MatMut<'_>,
    ) -> Result<(), BackendError> {
        let n = a.n_rows();
        logme_core::backend::shapes::eigh(&a, values, &vectors);
        if n == 0 {
            return Ok(());
        }

        // dsyevd works in place on a column-major matrix: the eigenvector output when it is
        // column-major, a scratch copy otherwise.
        if vectors.order() == Order::ColMajor {
            let ld = vectors.ld();
            let work = vectors.data();
            copy_lower_col_major(a, work, ld);
            dsyevd(n, work, ld, values)
        } else {
            let mut work = vec![0.0; n * n];
            copy_lower_col_major(a, &mut work, n);
            dsyevd(n, &mut work, n, values)?;
            for col_idx in 0..n {
                for row_idx in 0..n {
                    *vectors.get_mut(row_idx, col_idx) = work[row_idx + col_idx * n];
                }
            }
            Ok(())
        }
    }

    /// # Errors
    /// [`BackendErrorKind::NotPositiveDefinite`] when `dpotrf` reports a leading minor that is not
    /// positive definite (`info > 0`, the index being `info − 1`), [`BackendErrorKind::Lapack`]
    /// for an illegal argument (`info < 0`, a bug).
    ///
    /// # Panics
    /// If `a` is not square, or n exceeds 2³¹ − 1.
    #[track_caller]
    fn cholesky(&self, mut a: MatMut<'_>) -> Result<(), BackendError> {
        let n = a.n_rows();
        logme_core::backend::shapes::cholesky(&a);
        if n == 0 {
            return Ok(());
        }

        // The lower triangle of a row-major view is the upper triangle of the column-major
        // reading of its buffer.
        let uplo = match a.order() {
            Order::ColMajor => b'L',
            Order::RowMajor => b'U',
        } as c_char;
        let (n_int, lda) = (blas_int(n), blas_int(a.ld()));
        let mut info: c_int = 0;
        // SAFETY: the view was checked by its constructor to hold an n x n matrix with leading
        // dimension lda, which is what dpotrf reads and writes (one triangle of it); n >= 1 fits.
        unsafe {
            lapack_sys::dpotrf_(&uplo, &n_int, a.data().as_mut_ptr(), &lda, &mut info);
        }
        match info {
            0 => Ok(()),
            positive if positive > 0 => Err(BackendError {
                backend: NAME,
                op: "cholesky",
                kind: BackendErrorKind::NotPositiveDefinite {
                    index: positive as usize - 1,
                },
            }),
            negative => Err(BackendError {
                backend: NAME,
                op: "cholesky",
                kind: BackendErrorKind::Lapack { info: negative },
            }),
        }
    }

    /// # Panics
    /// If `l` is not `[n, n]` for `b` of shape `[n, k]`, or a dimension exceeds 2³¹ − 1.
    #[track_caller]
    fn solve_lower_triangular(&self, l: MatView<'_>, mut b: MatMut<'_>) {
        let (n, k) = (b.n_rows(), b.n_cols());
        logme_core::backend::shapes::solve_lower_triangular(&l, &b);
        if n == 0 || k == 0 {
            return;
        }

        // In b's layout, l's buffer holds L (lower) or, stored in the other order, Lᵀ (upper).
        let (uplo, trans) = match transpose_flag(&l, b.order()) {
            CBLAS_TRANSPOSE::CblasNoTrans => {
                (CBLAS_UPLO::CblasLower, CBLAS_TRANSPOSE::CblasNoTrans)
            }
            _ => (CBLAS_UPLO::CblasUpper, CBLAS_TRANSPOSE::CblasTrans),
        };
        let (order, ldb) = (b.order(), b.ld());
        // SAFETY: both views were checked by their constructors to hold their shapes with their
        // leading dimensions; dtrsm reads one triangle of the n x n l and overwrites the n x k b;
        // the dimensions are non-zero and fit in c_int.
        unsafe {
            cblas_sys::cblas_dtrsm(
                layout(order),
                CBLAS_SIDE::CblasLeft,
                uplo,
                trans,
                CBLAS_DIAG::CblasNonUnit,
                blas_int(n),
                blas_int(k),
                1.0,
                l.data().as_ptr(),
                blas_int(l.ld()),
                b.data().as_mut_ptr(),
                blas_int(ldb),
            );
        }
    }
}

/// Writes the lower triangle of `a` into the column-major `dst` with leading dimension `ld`.
fn copy_lower_col_major(a: MatView<'_>, dst: &mut [f64], ld: usize) {
    let n = a.n_rows();
    for col_idx in 0..n {
        for row_idx in col_idx..n {
            dst[row_idx + col_idx * ld] = a.get(row_idx, col_idx);
        }
    }
}

/// Runs `dsyevd` (`JOBZ = 'V'`, `UPLO = 'L'`) on the column-major n x n matrix in `a`.
fn dsyevd(n: usize, a: &mut [f64], lda: usize, values: &mut [f64]) -> Result<(), BackendError> {
    debug_assert!(n >= 1 && lda >= n && a.len() > (n - 1) * lda + n - 1 && values.len() == n);
    let jobz = b'V' as c_char;
    let uplo = b'L' as c_char;
    let (n_int, lda_int) = (blas_int(n), blas_int(lda));
    let failure = |info: c_int| BackendError {
        backend: NAME,
        op: "eigh",
        kind: BackendErrorKind::Lapack { info },
    };

    // Workspace query: LWORK = LIWORK = -1 returns the optimal sizes in WORK(1) and IWORK(1).
    let mut work_size = 0.0;
    let mut iwork_size: c_int = 0;
    let mut info: c_int = 0;
    // SAFETY: `a` holds an n x n column-major matrix with leading dimension lda (checked above),
    // `values` holds n entries, and a query touches only the first entry of each workspace.
    unsafe {
        lapack_sys::dsyevd_(
            &jobz,
            &uplo,
            &n_int,
            a.as_mut_ptr(),
            &lda_int,
            values.as_mut_ptr(),
            &mut work_size,
            &-1,
            &mut iwork_size,
            &-1,
            &mut info,
        );
    }
    if info != 0 {
        return Err(failure(info));
    }

    // The decomposition itself, with at least the documented minimum workspace.
    let min_work = 1 + 6 * n + 2 * n * n;
    let min_iwork = 3 + 5 * n;
    let mut work = vec![0.0; (work_size as usize).max(min_work)];
    let mut iwork: Vec<c_int> = vec![0; usize::try_from(iwork_size).unwrap_or(0).max(min_iwork)];
    let (lwork, liwork) = (blas_int(work.len()), blas_int(iwork.len()));
    // SAFETY: as above, with workspaces of the lengths passed in LWORK and LIWORK.
    unsafe {
        lapack_sys::dsyevd_(
            &jobz,
            &uplo,
            &n_int,
            a.as_mut_ptr(),
            &lda_int,
            values.as_mut_ptr(),
            work.as_mut_ptr(),
            &lwork,
            iwork.as_mut_ptr(),
            &liwork,
            &mut info,
        );
    }
    if info != 0 {
        return Err(failure(info));
    }
    Ok(())
}
