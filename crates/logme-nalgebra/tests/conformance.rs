//! The logme-core conformance suite, run on the nalgebra backend.

use logme_nalgebra::NalgebraBackend;

logme_core::conformance_tests!(nalgebra, NalgebraBackend);
