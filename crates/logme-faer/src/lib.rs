//! faer backend for logme.
