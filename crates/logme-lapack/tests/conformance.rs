//! The logme-core conformance suite, run on the BLAS/LAPACK backend.

use logme_lapack::LapackBackend;

logme_core::conformance_tests!(lapack, LapackBackend);
