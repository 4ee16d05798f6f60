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
}

impl<B: LinalgBackend + ?Sized> LinalgBackend for &B {
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
}

impl<B: LinalgBackend + ?Sized> LinalgBackend for Box<B> {
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
}

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
