//! LogME transferability scores with a choice of linear-algebra backend.
//!
//! This facade re-exports [`logme_core`] and adds what a user needs to run it: a [`Backend`]
//! chosen by cargo feature (and at run time when several are compiled), the [`LogMe`] builder,
//! and `ndarray` interop for f32 and f64 features. The project README follows.
//!
#![doc = include_str!("../README.md")]

use ndarray::ArrayView2;

pub use logme_core::*;

/// The linear-algebra backend that runs the dense kernels.
///
/// Variants exist for the backends compiled in through cargo features (`faer`, the default;
/// `nalgebra`; `lapack`), plus [`Backend::Naive`], a slow plain-loop reference that is always
/// there. [`Backend::default`] is the first compiled of faer, LAPACK, nalgebra.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Backend {
    /// faer: pure Rust, multi-threaded through rayon.
    #[cfg(feature = "faer")]
    Faer(logme_faer::FaerBackend),
    /// nalgebra: pure Rust, single-threaded.
    #[cfg(feature = "nalgebra")]
    Nalgebra(logme_nalgebra::NalgebraBackend),
    /// LAPACK and BLAS through ndarray-linalg, linked against the system OpenBLAS.
    #[cfg(feature = "lapack")]
    Lapack(logme_lapack::LapackBackend),
    /// Triple loops and a Jacobi eigen-solver; for tests on tiny inputs only.
    Naive(NaiveBackend),
}

impl Default for Backend {
    fn default() -> Self {
        Self::default_with_threads(0)
    }
}

impl Backend {
    /// Names of the backends compiled into this build, the default first (`naive` only when no
    /// library backend is compiled; [`Backend::from_name`] accepts it in any build).
    pub fn available() -> Vec<&'static str> {
        let compiled = [
            (cfg!(feature = "faer"), "faer"),
            (cfg!(feature = "lapack"), "lapack"),
            (cfg!(feature = "nalgebra"), "nalgebra"),
        ];
        let mut names: Vec<&'static str> = compiled
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| *name)
            .collect();
        if names.is_empty() {
            names.push("naive");
        }
        names
    }

    fn default_with_threads(threads: usize) -> Self {
        let name = Self::available()[0];
        Self::from_name(name, threads).unwrap_or(Backend::Naive(NaiveBackend))
    }

    /// The backend called `name` (`faer`, `nalgebra`, `lapack` or `naive`).
    ///
    /// `threads` is the number of threads for the products and decompositions; 0 means all
    /// cores. faer honours it exactly; nalgebra is single-threaded; OpenBLAS reads
    /// `OPENBLAS_NUM_THREADS` when the process starts.
    ///
    /// # Errors
    /// [`LogmeError::InvalidArgument`] naming the backends this build has.
    pub fn from_name(name: &str, threads: usize) -> Result<Self, LogmeError> {
        let _ = threads;
        match name {
            #[cfg(feature = "faer")]
            "faer" => Ok(Backend::Faer(if threads == 0 {
                logme_faer::FaerBackend::new()
            } else {
                logme_faer::FaerBackend::with_threads(threads)
            })),
            #[cfg(feature = "nalgebra")]
            "nalgebra" => Ok(Backend::Nalgebra(logme_nalgebra::NalgebraBackend)),
            #[cfg(feature = "lapack")]
            "lapack" => Ok(Backend::Lapack(logme_lapack::LapackBackend)),
            "naive" => Ok(Backend::Naive(NaiveBackend)),
            other => {
                let hint = if ["faer", "nalgebra", "lapack"].contains(&other) {
                    format!(" (rebuild with the cargo feature `{other}` to add it)")
                } else {
                    String::new()
                };
                Err(LogmeError::InvalidArgument(format!(
                    "backend '{other}' is not in this build{hint}; this build has: {}",
                    Self::available().join(", ")
                )))
            }
        }
    }

    /// Lowercase name of this backend, as `--backend` and the JSON output spell it.
    pub fn name(&self) -> &'static str {
        self.inner().name()
    }

    fn inner(&self) -> &dyn LinalgBackend {
        match self {
            #[cfg(feature = "faer")]
            Backend::Faer(b) => b,
            #[cfg(feature = "nalgebra")]
            Backend::Nalgebra(b) => b,
            #[cfg(feature = "lapack")]
            Backend::Lapack(b) => b,
            Backend::Naive(b) => b,
        }
    }
}

impl LinalgBackend for Backend {
    fn name(&self) -> &'static str {
        self.inner().name()
    }
    fn syrk(&self, a: MatView<'_>, g: MatMut<'_>) {
        self.inner().syrk(a, g);
    }
    fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        self.inner().gemm_tn(a, b, c);
    }
    fn gemm(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        self.inner().gemm(a, b, c);
    }
    fn gram_rows(&self, a: MatView<'_>, k: MatMut<'_>) {
        self.inner().gram_rows(a, k);
    }
    fn eigh(
        &self,
        a: MatView<'_>,
        values: &mut [f64],
        vectors: MatMut<'_>,
    ) -> Result<(), BackendError> {
        self.inner().eigh(a, values, vectors)
    }
    fn cholesky(&self, a: MatMut<'_>) -> Result<(), BackendError> {
        self.inner().cholesky(a)
    }
    fn solve_lower_triangular(&self, l: MatView<'_>, b: MatMut<'_>) {
        self.inner().solve_lower_triangular(l, b);
    }
}

/// Builder-style entry point: choose method, mode and backend, then fit.
///
/// The task comes from the [`Targets`]: [`Targets::classes`] for classification,
/// [`Targets::multilabel`] and [`Targets::regression`] for the others.
#[derive(Clone, Debug, Default)]
pub struct LogMe {
    options: Options,
    backend: Backend,
}

impl LogMe {
    /// The official defaults: fixed-point method, reference mode, the default backend.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the algorithm.
    pub fn method(mut self, method: Method) -> Self {
        self.options.method = method;
        self
    }

    /// Sets reference or exact mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.options.mode = mode;
        self
    }

    /// Forces a decomposition path instead of the official choice (Gram when N > D).
    pub fn path(mut self, path: SolvePath) -> Self {
        self.options.path = Some(path);
        self
    }

    /// Sets the backend.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The options this builder holds.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The backend this builder holds.
    pub fn linalg(&self) -> &Backend {
        &self.backend
    }

    /// Fits on a borrowed feature matrix.
    ///
    /// # Errors
    /// See [`logme_core::fit()`].
    pub fn fit(&self, features: FeatureMatrix<'_>, targets: &Targets) -> Result<Fit, LogmeError> {
        logme_core::fit(&self.backend, &self.options, features, targets)
    }

    /// Fits on an `ndarray` view of f32 or f64 features, in C or Fortran order (or any layout
    /// with one unit stride); other layouts are refused rather than copied.
    ///
    /// # Errors
    /// [`LogmeError::InvalidArgument`] for an unsupported layout, then as [`LogMe::fit`].
    pub fn fit_array<T: FeatureElement>(
        &self,
        features: ArrayView2<'_, T>,
        targets: &Targets,
    ) -> Result<Fit, LogmeError> {
        self.fit(feature_matrix(&features)?, targets)
    }

    /// Fits from accumulated sufficient statistics.
    ///
    /// # Errors
    /// See [`logme_core::fit_stats`].
    pub fn fit_stats(&self, stats: &SufficientStats) -> Result<Fit, LogmeError> {
        logme_core::fit_stats(&self.backend, &self.options, stats)
    }

    /// Predicts with a fit on new features.
    ///
    /// # Errors
    /// See [`Fit::predict`].
    pub fn predict(
        &self,
        fit: &Fit,
        features: FeatureMatrix<'_>,
    ) -> Result<Prediction, LogmeError> {
        fit.predict(&self.backend, features)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Element types accepted as features: f32 (widened to f64 block by block) and f64.
pub trait FeatureElement: sealed::Sealed + Copy {
    #[doc(hidden)]
    fn elements(data: &[Self]) -> Elements<'_>;
}

impl FeatureElement for f32 {
    fn elements(data: &[Self]) -> Elements<'_> {
        Elements::F32(data)
    }
}

impl FeatureElement for f64 {
    fn elements(data: &[Self]) -> Elements<'_> {
        Elements::F64(data)
    }
}

/// Views an `ndarray` matrix as a [`FeatureMatrix`] without copying.
///
/// # Errors
/// [`LogmeError::InvalidArgument`] when neither stride is 1 or a stride is negative.
pub fn feature_matrix<'a, T: FeatureElement>(
    array: &ArrayView2<'a, T>,
) -> Result<FeatureMatrix<'a>, LogmeError> {
    let (n_rows, n_cols) = array.dim();
    let strides = array.strides();
    let layout_error = || {
        LogmeError::InvalidArgument(format!(
            "features with strides {strides:?} are neither row- nor column-contiguous; pass \
             `array.as_standard_layout()`"
        ))
    };
    if strides.iter().any(|&s| s < 0) {
        return Err(layout_error());
    }
    let (order, ld) = if strides[1] == 1 || n_cols <= 1 {
        (Order::RowMajor, (strides[0] as usize).max(n_cols.max(1)))
    } else if strides[0] == 1 || n_rows <= 1 {
        (Order::ColMajor, (strides[1] as usize).max(n_rows.max(1)))
    } else {
        return Err(layout_error());
    };
    let len = match order {
        Order::RowMajor if n_rows > 0 && n_cols > 0 => (n_rows - 1) * ld + n_cols,
        Order::ColMajor if n_rows > 0 && n_cols > 0 => (n_cols - 1) * ld + n_rows,
        _ => 0,
    };
    let ptr = array.as_ptr();
    // SAFETY: the view covers `len` elements from `ptr` with the strides checked above, and the
    // returned borrow carries the view's lifetime `'a`.
    let data: &'a [T] = unsafe { std::slice::from_raw_parts(ptr, len) };
    FeatureMatrix::new(T::elements(data), n_rows, n_cols, order, ld)
}
