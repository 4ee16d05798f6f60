//! Links the system OpenBLAS when the `openblas-system` feature is on.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_OPENBLAS_SYSTEM").is_some() {
        println!("cargo:rustc-link-lib=dylib=openblas");
    }
}
