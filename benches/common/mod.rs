//! Shared helpers of the criterion benches: the shape list, seeded data and skip bookkeeping.
//!
//! Every bench builds its inputs here, once and outside the timed closure, from a fixed seed, so
//! two runs time the same numbers. The features follow a simple class model (a random mean per
//! class plus uniform noise) so that the fixed point meets a realistic spectrum; the timings do not
//! depend on the values beyond that.

use std::path::PathBuf;
use std::time::Duration;

/// One benchmark shape: N samples, D features, C classes.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Samples N.
    pub n_samples: usize,
    /// Features D.
    pub n_features: usize,
    /// Classes C (labels are `i mod C`).
    pub n_classes: usize,
}

impl Shape {
    const fn new(n_samples: usize, n_features: usize, n_classes: usize) -> Self {
        Self {
            n_samples,
            n_features,
            n_classes,
        }
    }

    /// The criterion parameter string, `NxDxC`.
    pub fn id(&self) -> String {
        format!("{}x{}x{}", self.n_samples, self.n_features, self.n_classes)
    }
}

/// The shapes of the default run: N ≫ D, N ≈ 10·D with many classes, and N < D.
const DEFAULT_SHAPES: [Shape; 4] = [
    Shape::new(2000, 512, 10),
    Shape::new(20000, 768, 2),
    Shape::new(10000, 1024, 100),
    Shape::new(1000, 4096, 10),
];

/// The shape added by `LOGME_BENCH_LONG=1` (`cargo xtask bench --long`).
const LONG_SHAPE: Shape = Shape::new(50000, 2048, 100);

/// The shapes to run: the default four, plus the long one when `LOGME_BENCH_LONG=1`.
pub fn shapes() -> Vec<Shape> {
    let mut shapes = DEFAULT_SHAPES.to_vec();
    if std::env::var("LOGME_BENCH_LONG").is_ok_and(|v| v == "1") {
        shapes.push(LONG_SHAPE);
    }
    shapes
}

/// The backends to compare: every compiled one except the plain-loop reference.
pub fn backend_names() -> Vec<&'static str> {
    logme::Backend::available()
        .into_iter()
        .filter(|name| *name != "naive")
        .collect()
}

/// The longest single iteration a bench accepts before it skips a (backend, shape) pair; set by
/// `LOGME_BENCH_MAX_ITER_SECS`, 60 s by default.
pub fn max_iteration() -> Duration {
    let secs = std::env::var("LOGME_BENCH_MAX_ITER_SECS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .unwrap_or(60.0);
    Duration::from_secs_f64(secs)
}

/// SplitMix64: a tiny, seeded, reproducible generator (no `rand` dependency needed).
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in [-1, 1).
    pub fn next_signed(&mut self) -> f32 {
        // The top 24 bits give every f32 in [0, 1) on a 2⁻²⁴ grid.
        let unit = (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32;
        2.0 * unit - 1.0
    }
}

/// Row-major f32 features `[N, D]` and class labels `i mod C`, from a fixed seed per shape.
pub fn class_data(shape: Shape) -> (Vec<f32>, Vec<u32>) {
    let (n, d, c) = (shape.n_samples, shape.n_features, shape.n_classes);
    let mut rng = SplitMix64::new(0x5EED ^ ((n as u64) << 32) ^ ((d as u64) << 16) ^ c as u64);
    let means: Vec<f32> = (0..c * d).map(|_| rng.next_signed()).collect();
    let labels: Vec<u32> = (0..n).map(|row_idx| (row_idx % c) as u32).collect();
    let mut features = vec![0.0f32; n * d];
    for (row, &label) in features.chunks_exact_mut(d).zip(&labels) {
        let mean = &means[label as usize * d..(label as usize + 1) * d];
        for (value, m) in row.iter_mut().zip(mean) {
            *value = 0.5 * m + rng.next_signed();
        }
    }
    (features, labels)
}

/// Wall time of one call of `f`: the pilot run that decides whether a pair fits the budget of
/// [`max_iteration`]; it also warms caches and thread pools.
pub fn pilot(mut f: impl FnMut()) -> Duration {
    let start = std::time::Instant::now();
    f();
    start.elapsed()
}

/// Applies the settings every group shares: 10 samples of equal iteration counts, short times,
/// so that the default run finishes on 2 cores.
pub fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(criterion::SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
}

/// Where criterion writes its results: `$CRITERION_HOME`, else `target/criterion`.
fn criterion_home() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// Records that `backend` was not measured on `shape` in `group`, so `cargo xtask bench` can say
/// why a table cell is empty; prints the reason too.
pub fn record_skip(group: &str, backend: &str, shape: &str, reason: &str) {
    eprintln!("skipping {group}/{backend}/{shape}: {reason}");
    let dir = criterion_home().join(group).join(backend).join(shape);
    if std::fs::create_dir_all(&dir).is_ok() {
        // The marker is a convenience for the report; failing to write it loses nothing else.
        let _ = std::fs::write(dir.join("skipped.txt"), reason);
    }
}

/// Removes a skip marker left by an earlier run once the pair is measured again.
pub fn clear_skip(group: &str, backend: &str, shape: &str) {
    let _ = std::fs::remove_file(
        criterion_home()
            .join(group)
            .join(backend)
            .join(shape)
            .join("skipped.txt"),
    );
}
