//! Helpers shared by the integration tests: fixture paths, .npy loading, the LCG generator.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, ArrayD};
use serde_json::Value;

/// `../shared/fixtures/<which>` relative to the repository root; panics loudly when missing.
pub fn fixtures_dir(which: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(which);
    assert!(
        dir.join("manifest.json").is_file(),
        "fixtures missing: {} not found; the shared fixtures must sit beside the repository",
        dir.join("manifest.json").display()
    );
    dir
}

/// The parsed manifest of a fixture set.
pub fn manifest(which: &str) -> Value {
    let path = fixtures_dir(which).join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A float matrix stored as float32 or float64, widened to f64.
pub fn read_matrix(path: &Path, dtype: &str) -> Array2<f64> {
    match dtype {
        "float32" => ndarray_npy::read_npy::<_, Array2<f32>>(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .mapv(f64::from),
        _ => ndarray_npy::read_npy::<_, Array2<f64>>(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    }
}

/// A float32 matrix as stored.
pub fn read_matrix_f32(path: &Path) -> Array2<f32> {
    ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A float64 array of any rank.
pub fn read_f64(path: &Path) -> ArrayD<f64> {
    ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An int64 vector.
pub fn read_i64(path: &Path) -> Array1<i64> {
    ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The generator: s₀ = seed, sₖ = (1664525 sₖ₋₁ + 1013904223) mod 2³², uₖ = sₖ/2³² − ½.
pub fn lcg(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = (1_664_525u64.wrapping_mul(state).wrapping_add(1_013_904_223)) % (1u64 << 32);
            state as f64 / 4_294_967_296.0 - 0.5
        })
        .collect()
}

/// feats(N, D, seed)[i][j] = u_{i·D + j + 1}, row-major.
pub fn feats(n: usize, d: usize, seed: u64) -> Vec<f64> {
    lcg(n * d, seed)
}

/// |a − b| within `abs`, or within `rel`·|b| when |b| > 1.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    let scale = b.abs().max(1.0);
    (a - b).abs() <= tol * scale
}
