//! The logme-core conformance suite, run on the faer backend with all threads and sequentially.

use logme_faer::FaerBackend;

logme_core::conformance_tests!(parallel, FaerBackend::new());
logme_core::conformance_tests!(sequential, FaerBackend::with_threads(1));

/// The suite also runs through dynamic dispatch, as the CLI holds its backend.
#[test]
fn check_all_through_dyn() {
    let backend: Box<dyn logme_core::LinalgBackend> = Box::new(FaerBackend::with_threads(2));
    logme_core::conformance::check_syrk(&backend);
    logme_core::conformance::check_gemm_tn(&*backend);
}
