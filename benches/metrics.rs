//! Every transferability metric on one 10000 x 1024 x 100 problem, timed once each.
//!
//! Not a criterion bench (the slow metrics take tens of seconds, too long for repeated samples):
//! `cargo xtask bench` runs it and appends its markdown table to `benches/RESULTS.md`. The
//! features are float32 class clusters (seeded), the labels `i mod 100`, and the source-model
//! probabilities (for LEEP and NCE) a row softmax of seeded logits over 200 source classes with a
//! label-dependent shift. Each metric runs through the faer backend with all cores; the fast ones
//! are timed as the best of three runs.
//!
//! ```text
//! cargo bench --bench metrics            # prints the table on stdout
//! ```

use std::time::Instant;

use logme::metrics::{self, MetricId, MetricParams, SourceProbabilities};
use logme::{Backend, FeatureMatrix, Targets};

const N: usize = 10_000;
const D: usize = 1024;
const C: usize = 100;
const SOURCE_CLASSES: usize = 200;
/// NLEEP's mixture size here: one component per class, not the default five (see the table).
const NLEEP_COMPONENTS: usize = 100;

/// A small seeded generator (splitmix64), uniform in [-0.5, 0.5).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

fn main() {
    let mut rng = Rng(20_261_203);
    let labels: Vec<usize> = (0..N).map(|i| i % C).collect();
    let centres: Vec<f64> = (0..C * D).map(|_| rng.next()).collect();
    let features: Vec<f32> = (0..N * D)
        .map(|idx| {
            let (row, col) = (idx / D, idx % D);
            (centres[labels[row] * D + col] + 12.0 * rng.next()) as f32
        })
        .collect();
    let mut probabilities = vec![0.0f64; N * SOURCE_CLASSES];
    for (row, out) in probabilities.chunks_exact_mut(SOURCE_CLASSES).enumerate() {
        for (col, p) in out.iter_mut().enumerate() {
            let shift = if col % C == labels[row] { 2.0 } else { 0.0 };
            *p = (3.0 * rng.next() + shift).exp();
        }
        let total: f64 = out.iter().sum();
        out.iter_mut().for_each(|p| *p /= total);
    }

    let backend = Backend::default();
    let targets = Targets::classes(&labels).expect("labels are valid");
    let classes = targets.as_classes().expect("classification targets");
    let matrix = FeatureMatrix::from_f32(&features, N, D).expect("shape fits");
    let source =
        SourceProbabilities::new(&probabilities, N, SOURCE_CLASSES).expect("probabilities");
    let params = MetricParams {
        nleep_components: Some(NLEEP_COMPONENTS),
        ..Default::default()
    };

    println!("| metric | seconds | value | note |");
    println!("|---|---:|---:|---|");
    for &metric in MetricId::all() {
        let slow = matches!(metric, MetricId::Nleep | MetricId::Parc);
        let repeats = if slow { 1 } else { 3 };
        let mut best = f64::INFINITY;
        let mut value = f64::NAN;
        for _ in 0..repeats {
            let probs = metric.needs_source_probabilities().then_some(source);
            let start = Instant::now();
            let score = metrics::score_metric(&backend, metric, matrix, classes, probs, &params);
            best = best.min(start.elapsed().as_secs_f64());
            value = score.map_or(f64::NAN, |s| s.value);
        }
        let note = match metric {
            MetricId::Nleep => format!("K = {NLEEP_COMPONENTS} components (default 5·C = 500)"),
            MetricId::Parc => "no PCA; two N x N matrices".to_string(),
            _ if repeats > 1 => "best of 3".to_string(),
            _ => String::new(),
        };
        println!("| `{}` | {best:.3} | {value:.6} | {note} |", metric.id());
    }
}
