//! The dense kernels LogME needs, as a trait each linear-algebra library implements.
//!
//! The algorithm owns memory and validation; a backend receives borrowed [`MatView`]s and writes
//! into caller buffers. Products accumulate (`+=`) so that row blocks and shards can be summed;
//! decompositions overwrite their outputs. The trait is dyn-compatible, so a backend can be chosen
//! at run time through `&dyn LinalgBackend`.
//!
//! | method      | faer                         | nalgebra                 | LAPACK / BLAS      |
//! |-------------|------------------------------|--------------------------|--------------------|
//! | `syrk`      | `matmul` (lower triangle)    | `gemm` / `syrk`-like     | `dsyrk`            |
//! | `gemm_tn`   | `matmul` on a transposed view| `gemm_tr`                | `dgemm` (`T`, `N`) |
//! | `gemm`      | `matmul`                     | `gemm`                   | `dgemm` (`N`, `N`) |
//! | `gram_rows` | `matmul` (lower triangle)    | `gemm`                   | `dsyrk` (`N`)      |
//! | `eigh`      | `self_adjoint_eigen`         | `SymmetricEigen` + sort  | `dsyevd`/`dsyevr`  |
//!
//! | method                   | faer                              | nalgebra            | LAPACK  |
//! |--------------------------|-----------------------------------|---------------------|---------|
//! | `cholesky`               | `llt::factor::cholesky_in_place`  | recursive on `gemm` | `dpotrf`|
//! | `solve_lower_triangular` | `solve_lower_triangular_in_place` | recursive on `gemm` | `dtrsm` |
//!
//! `cholesky` and `solve_lower_triangular` are provided as plain loops (the reference
//! [`NaiveBackend`] uses them); the library backends override them.

use crate::views::{MatMut, MatView};

/// The kind of failure a backend reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// The iterative eigen solver did not converge.
    NoConvergence,
    /// LAPACK returned a non-zero `info`; negative means an illegal argument (a bug), positive a
    /// numerical failure.
    Lapack {
        /// The raw `info` value, sign kept.
        info: i32,
    },
    /// A Cholesky factorization met a pivot that is not positive (zero, negative or NaN): the
    /// leading minor of order `index + 1` is not positive definite, to rounding.
    NotPositiveDefinite {
        /// The 0-based index of the failing pivot.
        index: usize,
    },
    /// Any other failure, described in words.
    Other(String),
}

/// A failure inside a linear-algebra backend.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the {backend} backend failed in {op}: {kind:?}; try another backend or report the input")]
pub struct BackendError {
    /// Backend name, as [`LinalgBackend::name`] returns it.
    pub backend: &'static str,
    /// The kernel that failed.
    pub op: &'static str,
    /// What went wrong.
    pub kind: BackendErrorKind,
}

/// Dense f64 kernels that LogME needs; everything else lives in `logme-core`.
///
/// Views are row- or column-major with a leading dimension; implementations must not copy them
/// where their library can view them in place. Every product accumulates into its output.
///
/// # Contract
/// - `syrk` and `gram_rows` update the **lower triangle** (entries with row >= column) only; the
///   strict upper triangle of the output is left untouched.
/// - `eigh` reads only the lower triangle, returns eigenvalues in **ascending** order and the
///   matching orthonormal eigenvectors as the columns of `vectors`.
/// - `cholesky` reads the lower triangle and overwrites it with the factor; the strict upper
///   triangle is neither read nor written. `solve_lower_triangular` reads only the lower triangle
///   of its factor and overwrites its right-hand sides.
/// - Shapes are checked by the caller; a mismatch is a bug and backends may panic on it.
pub trait LinalgBackend: Send + Sync {
    /// Lowercase identifier used by `--backend`, bench ids and error messages.
    fn name(&self) -> &'static str;

    /// `g += aᵀa` on the lower triangle, where `a` is `[n, d]` and `g` is `[d, d]`.
    fn syrk(&self, a: MatView<'_>, g: MatMut<'_>);

    /// `c += aᵀb`, where `a` is `[n, p]`, `b` is `[n, q]` and `c` is `[p, q]`.
    fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>);

    /// `c += ab`, where `a` is `[p, n]`, `b` is `[n, q]` and `c` is `[p, q]`.
    fn gemm(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>);

    /// `k += aaᵀ` on the lower triangle, where `a` is `[n, d]` and `k` is `[n, n]`.
    fn gram_rows(&self, a: MatView<'_>, k: MatMut<'_>) {
        self.syrk(a.transpose(), k);
    }

    /// Symmetric eigen-decomposition of the lower triangle of `a` (`[n, n]`).
    ///
    /// Writes the `n` eigenvalues in ascending order into `values` and the orthonormal
    /// eigenvectors, column by column, into `vectors` (`[n, n]`).
    ///
    /// # Errors
    /// [`BackendError`] when the solver fails.
    fn eigh(
        &self,
        a: MatView<'_>,
        values: &mut [f64],
        vectors: MatMut<'_>,
    ) -> Result<(), BackendError>;

    /// In-place Cholesky factorization A = L·Lᵀ of the symmetric positive definite `a` (`[n, n]`).
    ///
    /// Reads the lower triangle of `a` (diagonal included) and overwrites it with L, whose
    /// diagonal is positive. The strict upper triangle is neither read nor written, so it keeps
    /// whatever it held. On error the lower triangle holds unspecified values.
    ///
    /// The provided method copies the lower triangle into a packed scratch matrix and runs the
    /// unblocked left-looking algorithm (about n³/6 multiply-adds in plain loops).
    ///
    /// # Errors
    /// [`BackendErrorKind::NotPositiveDefinite`] with the index of the first pivot that is not
    /// positive (zero, negative or NaN); a backend may add its own kinds for other failures.
    ///
    /// # Panics
    /// If `a` is not square.
    #[track_caller]
    fn cholesky(&self, a: MatMut<'_>) -> Result<(), BackendError> {
        cholesky_plain(self.name(), a)
    }

    /// Forward substitution in place: `b ← L⁻¹b`, where `l` (`[n, n]`) is lower triangular with a
    /// non-zero diagonal and `b` is `[n, k]` (BLAS `trsm`, left side, lower, not transposed).
    ///
    /// Reads only the lower triangle of `l`, diagonal included. Entry (i, j) of the result depends
    /// on entries 0..=i of column j of `b` only, so zeros leading a column stay exactly zero: with
    /// B = I the result is L⁻¹, exactly lower triangular.
    ///
    /// The provided method copies the lower triangle of `l` into a packed scratch matrix and
    /// solves column by column in plain loops (about n²·k/2 multiply-adds).
    ///
    /// # Panics
    /// If `l` is not `[n, n]` for `b` of shape `[n, k]`.
    #[track_caller]
    fn solve_lower_triangular(&self, l: MatView<'_>, b: MatMut<'_>) {
        solve_lower_triangular_plain(l, b);
    }
}

/// The packed row-major copy of the lower triangle of a square matrix; the strict upper triangle
/// of the copy is zero.
fn packed_lower(a: MatView<'_>) -> Vec<f64> {
    let n = a.n_rows();
    let mut packed = vec![0.0; n * n];
    for row_idx in 0..n {
        for col_idx in 0..=row_idx {
            packed[row_idx * n + col_idx] = a.get(row_idx, col_idx);
        }
    }
    packed
}

/// The provided [`LinalgBackend::cholesky`]: unblocked left-looking factorization in plain loops.
#[track_caller]
fn cholesky_plain(backend: &'static str, mut a: MatMut<'_>) -> Result<(), BackendError> {
    let n = a.n_rows();
    assert!(
        a.n_cols() == n,
        "shape mismatch: cholesky of a [{n}x{}] matrix",
        a.n_cols()
    );

    // Factor a packed row-major copy: column j of L from rows 0..j, as indexed loops so that
    // unoptimized test builds stay fast.
    let mut l = packed_lower(a.as_view());
    for j in 0..n {
        let row_j = j * n;
        let mut pivot = l[row_j + j];
        let mut k = 0;
        while k < j {
            pivot -= l[row_j + k] * l[row_j + k];
            k += 1;
        }
        if pivot <= 0.0 || pivot.is_nan() {
            return Err(BackendError {
                backend,
                op: "cholesky",
                kind: BackendErrorKind::NotPositiveDefinite { index: j },
            });
        }
        let pivot = pivot.sqrt();
        l[row_j + j] = pivot;
        for i in j + 1..n {
            let row_i = i * n;
            let mut value = l[row_i + j];
            let mut k = 0;
            while k < j {
                value -= l[row_i + k] * l[row_j + k];
                k += 1;
            }
            l[row_i + j] = value / pivot;
        }
    }

    // Write the factor back into the lower triangle only.
    for row_idx in 0..n {
        for col_idx in 0..=row_idx {
            *a.get_mut(row_idx, col_idx) = l[row_idx * n + col_idx];
        }
    }
    Ok(())
}

/// The provided [`LinalgBackend::solve_lower_triangular`]: forward substitution column by column.
#[track_caller]
fn solve_lower_triangular_plain(l: MatView<'_>, mut b: MatMut<'_>) {
    let (n, k) = (b.n_rows(), b.n_cols());
    assert!(
        l.n_rows() == n && l.n_cols() == n,
        "shape mismatch: l [{}x{}] for b [{n}x{k}]",
        l.n_rows(),
        l.n_cols()
    );
    if n == 0 || k == 0 {
        return;
    }
    let l = packed_lower(l);
    let mut column = vec![0.0; n];
    for col_idx in 0..k {
        for (row_idx, v) in column.iter_mut().enumerate() {
            *v = b.get(row_idx, col_idx);
        }
        // x_i = (b_i − Σ_{j<i} L_ij x_j) / L_ii, row i of L being contiguous in the copy.
        for i in 0..n {
            let row = &l[i * n..i * n + i];
            let mut value = column[i];
            let mut j = 0;
            while j < i {
                value -= row[j] * column[j];
                j += 1;
            }
            column[i] = value / l[i * n + i];
        }
        for (row_idx, v) in column.iter().enumerate() {
            *b.get_mut(row_idx, col_idx) = *v;
        }
    }
}

/// Shape checks shared by every backend: a mismatch is a bug in the calling crate, so these
/// panic (pointing at the kernel's caller) rather than return an error.
pub mod shapes {
    use crate::views::{MatMut, MatView};

    /// `a` is `[n, n]`, `values` has n entries and `vectors` is `[n, n]`.
    ///
    /// # Panics
    /// On any other shape.
    #[track_caller]
    pub fn eigh(a: &MatView<'_>, values: &[f64], vectors: &MatMut<'_>) {
        let n = a.n_rows();
        assert!(
            a.n_cols() == n && vectors.n_rows() == n && vectors.n_cols() == n && values.len() == n,
            "shape mismatch: a [{}x{}], {} values, vectors [{}x{}]",
            a.n_rows(),
            a.n_cols(),
            values.len(),
            vectors.n_rows(),
            vectors.n_cols()
        );
    }

    /// `a` is square.
    ///
    /// # Panics
    /// If it is not.
    #[track_caller]
    pub fn cholesky(a: &MatMut<'_>) {
        assert!(
            a.n_cols() == a.n_rows(),
            "shape mismatch: cholesky of a [{}x{}] matrix",
            a.n_rows(),
            a.n_cols()
        );
    }

    /// `l` is `[n, n]` for `b` of shape `[n, k]`.
    ///
    /// # Panics
    /// On any other shape.
    #[track_caller]
    pub fn solve_lower_triangular(l: &MatView<'_>, b: &MatMut<'_>) {
        let (n, k) = (b.n_rows(), b.n_cols());
        assert!(
            l.n_rows() == n && l.n_cols() == n,
            "shape mismatch: l [{}x{}] for b [{n}x{k}]",
            l.n_rows(),
            l.n_cols()
        );
    }
}

/// Forwards every kernel through a pointer type, so `&B`, `Box<B>` and `&dyn LinalgBackend` are
/// backends too (and keep any override a backend makes).
macro_rules! forward_backend {
    ($($pointer:ty),*) => {$(
        impl<B: LinalgBackend + ?Sized> LinalgBackend for $pointer {
            fn name(&self) -> &'static str {
                (**self).name()
            }
            fn syrk(&self, a: MatView<'_>, g: MatMut<'_>) {
                (**self).syrk(a, g);
            }
            fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
                (**self).gemm_tn(a, b, c);
            }
            fn gemm(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
                (**self).gemm(a, b, c);
            }
            fn gram_rows(&self, a: MatView<'_>, k: MatMut<'_>) {
                (**self).gram_rows(a, k);
            }
            fn eigh(
                &self,
                a: MatView<'_>,
                values: &mut [f64],
                vectors: MatMut<'_>,
            ) -> Result<(), BackendError> {
                (**self).eigh(a, values, vectors)
            }
            fn cholesky(&self, a: MatMut<'_>) -> Result<(), BackendError> {
                (**self).cholesky(a)
            }
            fn solve_lower_triangular(&self, l: MatView<'_>, b: MatMut<'_>) {
                (**self).solve_lower_triangular(l, b);
            }
        }
    )*};
}

forward_backend!(&B, Box<B>);

/// A plain-loop reference implementation of every kernel.
///
/// Slow (triple loops, Jacobi eigen-solver) but obviously correct: the conformance suite checks
/// every real backend against it, and it lets `logme-core` test itself without a library.
#[derive(Clone, Copy, Debug, Default)]
pub struct NaiveBackend;

impl LinalgBackend for NaiveBackend {
    fn name(&self) -> &'static str {
        "naive"
    }

    fn syrk(&self, a: MatView<'_>, mut g: MatMut<'_>) {
        let (n, d) = (a.n_rows(), a.n_cols());
        for i in 0..d {
            for j in 0..=i {
                let mut acc = 0.0;
                for r in 0..n {
                    acc += a.get(r, i) * a.get(r, j);
                }
                *g.get_mut(i, j) += acc;
            }
        }
    }

    fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        self.gemm(a.transpose(), b, c);
    }

    fn gemm(&self, a: MatView<'_>, b: MatView<'_>, mut c: MatMut<'_>) {
        let (p, n, q) = (a.n_rows(), a.n_cols(), b.n_cols());
        for i in 0..p {
            for j in 0..q {
                let mut acc = 0.0;
                for r in 0..n {
                    acc += a.get(i, r) * b.get(r, j);
                }
                *c.get_mut(i, j) += acc;
            }
        }
    }

    fn eigh(
        &self,
        a: MatView<'_>,
        values: &mut [f64],
        mut vectors: MatMut<'_>,
    ) -> Result<(), BackendError> {
        let n = a.n_rows();
        let mut m = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                m[i * n + j] = a.get(i, j);
                m[j * n + i] = a.get(i, j);
            }
        }
        let mut v = vec![0.0; n * n];
        for i in 0..n {
            v[i * n + i] = 1.0;
        }
        // Cyclic Jacobi sweeps until the off-diagonal mass is at rounding level.
        for _sweep in 0..100 {
            let off: f64 = (0..n)
                .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
                .map(|(i, j)| m[i * n + j] * m[i * n + j])
                .sum();
            let total: f64 = m.iter().map(|x| x * x).sum();
            if off <= f64::EPSILON * f64::EPSILON * total || off == 0.0 {
                break;
            }
            for p in 0..n {
                for q in p + 1..n {
                    let apq = m[p * n + q];
                    if apq == 0.0 {
                        continue;
                    }
                    let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                    let t = if theta == 0.0 { 1.0 } else { t };
                    let c = 1.0 / (t * t + 1.0).sqrt();
                    let s = t * c;
                    for k in 0..n {
                        let mkp = m[k * n + p];
                        let mkq = m[k * n + q];
                        m[k * n + p] = c * mkp - s * mkq;
                        m[k * n + q] = s * mkp + c * mkq;
                    }
                    for k in 0..n {
                        let mpk = m[p * n + k];
                        let mqk = m[q * n + k];
                        m[p * n + k] = c * mpk - s * mqk;
                        m[q * n + k] = s * mpk + c * mqk;
                    }
                    for k in 0..n {
                        let vkp = v[k * n + p];
                        let vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| m[i * n + i].total_cmp(&m[j * n + j]));
        for (dst, &src) in order.iter().enumerate() {
            values[dst] = m[src * n + src];
            for k in 0..n {
                *vectors.get_mut(k, dst) = v[k * n + src];
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provided_cholesky_and_solve_reconstruct() {
        // A = B Bᵀ + I for a fixed B, row-major; the strict upper triangle holds NaN.
        let n = 5;
        let b: Vec<f64> = (0..n * n)
            .map(|i| ((i * 7 % 11) as f64 - 5.0) / 3.0)
            .collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum::<f64>();
            }
            a[i * n + i] += 1.0;
        }
        let mut l = a.clone();
        for i in 0..n {
            for j in i + 1..n {
                l[i * n + j] = f64::NAN;
            }
        }
        NaiveBackend
            .cholesky(MatMut::row_major(&mut l, n, n))
            .unwrap();
        let lower = |i: usize, j: usize| if j <= i { l[i * n + j] } else { 0.0 };
        for i in 0..n {
            assert!(l[i * n + i] > 0.0);
            for j in 0..n {
                let llt: f64 = (0..n).map(|k| lower(i, k) * lower(j, k)).sum();
                assert!((llt - a[i * n + j]).abs() < 1e-12, "LLᵀ[{i},{j}]");
                if j > i {
                    assert!(l[i * n + j].is_nan(), "upper [{i},{j}] was written");
                }
            }
        }

        // L X = I gives X = L⁻¹, lower triangular, with X L = I.
        let mut inv = vec![0.0; n * n];
        for i in 0..n {
            inv[i * n + i] = 1.0;
        }
        NaiveBackend.solve_lower_triangular(
            MatView::row_major(&l, n, n),
            MatMut::col_major(&mut inv, n, n),
        );
        for i in 0..n {
            for j in 0..n {
                let x = |r: usize, c: usize| inv[r + c * n];
                if j > i {
                    assert_eq!(x(i, j), 0.0, "L⁻¹[{i},{j}]");
                }
                let prod: f64 = (0..n).map(|k| x(i, k) * lower(k, j)).sum();
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((prod - expected).abs() < 1e-12, "L⁻¹L[{i},{j}]");
            }
        }

        // [[1, 1], [1, 1]] fails at the second pivot.
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        let err = NaiveBackend
            .cholesky(MatMut::row_major(&mut singular, 2, 2))
            .unwrap_err();
        assert_eq!(
            err,
            BackendError {
                backend: "naive",
                op: "cholesky",
                kind: BackendErrorKind::NotPositiveDefinite { index: 1 },
            }
        );
    }
}
