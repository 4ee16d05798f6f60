//! The performance floor of a LogME score: the Gram product alone, timed on a feature file.
//!
//! Not a criterion bench: `cargo xtask bench` builds it in release (`cargo bench --no-run`) and
//! runs it on the same `.npy` files it hands to `logme score`, so the report can state the whole
//! command's time as a ratio to this floor measured in the same run.
//!
//! ```text
//! floor FEATURES.npy [--labels LABELS.npy] [--repeats R] [--threads T]
//! ```
//!
//! The f32 (or f64) features `[N, D]` are read and widened to row-major f64 before any timing.
//! Then, `R` times (3 by default), through the faer backend on `T` threads (0, all cores, as
//! `logme score` uses by default):
//!
//! - N > D: G += FᵀF (`syrk`, lower triangle, N·D² flops); `eigh(G)` is timed too, and reported
//!   apart, but is not part of the floor.
//! - N ≤ D: K += FFᵀ (`gram_rows`, D·N² flops) plus `eigh(K)`, both part of the floor, since the
//!   row Gram path cannot avoid either.
//!
//! With int64 class labels, each repeat also times the library's own phases on the f32 data in
//! memory, so the report can say where a fit spends the time beyond the floor: the whole
//! `LogMe::fit`, the finiteness check alone and, on the Gram path, the statistics pass
//! (`SufficientStats::from_data`: check, widening, `syrk` per block, class sums) and the rest of
//! the fit from the statistics (`LogMe::fit_stats`: `eigh`, projections, fixed point, weights).
//!
//! It prints one JSON object on stdout with the medians and minima in seconds. Run without a
//! file (as `cargo bench` does, passing `--bench`), it prints a note and exits successfully.

use std::path::{Path, PathBuf};
use std::time::Instant;

use logme::{
    Backend, FeatureMatrix, LinalgBackend, LogMe, MatMut, MatView, SufficientStats, Targets,
};
use ndarray::{Array1, Array2};

struct Args {
    path: PathBuf,
    labels: Option<PathBuf>,
    repeats: usize,
    threads: usize,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut path = None;
    let mut labels = None;
    let mut repeats = 3;
    let mut threads = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // Cargo passes `--bench` to every harness-less bench target.
            "--bench" => {}
            "--labels" => labels = Some(PathBuf::from(args.next().ok_or("--labels needs a file")?)),
            "--repeats" | "--threads" => {
                let value = args
                    .next()
                    .and_then(|v| v.parse::<usize>().ok())
                    .ok_or_else(|| format!("{arg} needs a non-negative integer"))?;
                if arg == "--repeats" {
                    repeats = value.max(1);
                } else {
                    threads = value;
                }
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other => path = Some(PathBuf::from(other)),
        }
    }
    Ok(path.map(|path| Args {
        path,
        labels,
        repeats,
        threads,
    }))
}

/// A feature matrix as read (f32 kept when the file holds f32) and widened to row-major f64.
struct Features {
    f32: Option<Vec<f32>>,
    f64: Vec<f64>,
    n: usize,
    d: usize,
}

/// Reads an f32 or f64 `.npy` matrix; the f64 copy is what the floor times.
fn read_features(path: &Path) -> Result<Features, String> {
    match ndarray_npy::read_npy::<_, Array2<f32>>(path) {
        Ok(array) => {
            let (n, d) = array.dim();
            let f32: Vec<f32> = array.as_standard_layout().iter().copied().collect();
            let f64 = f32.iter().map(|&v| f64::from(v)).collect();
            Ok(Features {
                f32: Some(f32),
                f64,
                n,
                d,
            })
        }
        Err(_) => match ndarray_npy::read_npy::<_, Array2<f64>>(path) {
            Ok(array) => {
                let (n, d) = array.dim();
                let f64 = array.as_standard_layout().iter().copied().collect();
                Ok(Features {
                    f32: None,
                    f64,
                    n,
                    d,
                })
            }
            Err(err) => Err(format!(
                "cannot read {} as an f32 or f64 matrix: {err}",
                path.display()
            )),
        },
    }
}

/// Reads int64 class labels.
fn read_labels(path: &Path) -> Result<Vec<i64>, String> {
    ndarray_npy::read_npy::<_, Array1<i64>>(path)
        .map(|labels| labels.iter().copied().collect())
        .map_err(|err| format!("cannot read {} as int64 labels: {err}", path.display()))
}

/// Seconds of one call, and its result.
fn time<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed().as_secs_f64(), out)
}

/// The library's phases on the data as a caller hands it over, each timed once.
fn time_phases(
    backend: &Backend,
    features: FeatureMatrix<'_>,
    targets: &Targets,
) -> Result<Vec<(&'static str, f64)>, String> {
    let logme = LogMe::new().backend(backend.clone());
    let mut phases = Vec::new();
    let (seconds, checked) = time(|| features.validate());
    checked.map_err(|err| err.to_string())?;
    phases.push(("validate_s", seconds));
    if features.n_samples() > features.n_features() {
        let (seconds, stats) = time(|| SufficientStats::from_data(backend, features, targets));
        let stats = stats.map_err(|err| err.to_string())?;
        phases.push(("stats_s", seconds));
        let (seconds, fit) = time(|| logme.fit_stats(&stats));
        fit.map_err(|err| err.to_string())?;
        phases.push(("fit_stats_s", seconds));
    }
    let (seconds, fit) = time(|| logme.fit(features, targets));
    fit.map_err(|err| err.to_string())?;
    phases.push(("fit_s", seconds));
    Ok(phases)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        0.5 * (values[mid - 1] + values[mid])
    }
}

fn minimum(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("floor: {message}");
    std::process::exit(1);
}

fn main() {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            eprintln!(
                "floor: no feature file given; `cargo xtask bench` runs this target on generated \
                 files (floor FEATURES.npy [--labels LABELS.npy] [--repeats R] [--threads T])"
            );
            return;
        }
        Err(message) => {
            eprintln!("floor: {message}");
            std::process::exit(2);
        }
    };
    let features = read_features(&args.path).unwrap_or_else(|m| fail(m));
    let (n, d) = (features.n, features.d);
    let targets = args.labels.as_ref().map(|path| {
        let labels = read_labels(path).unwrap_or_else(|m| fail(m));
        Targets::classes(&labels).unwrap_or_else(|err| fail(err))
    });
    let backend = Backend::from_name("faer", args.threads).unwrap_or_else(|err| fail(err));
    let f = MatView::row_major(&features.f64, n, d);
    let gram_path = n > d;
    let m = if gram_path { d } else { n };

    // The product and the decomposition, each timed on its own, `repeats` times.
    let mut gram = vec![0.0; m * m];
    let mut values = vec![0.0; m];
    let mut vectors = vec![0.0; m * m];
    let mut product_times = Vec::with_capacity(args.repeats);
    let mut eigh_times = Vec::with_capacity(args.repeats);
    let mut phase_times: Vec<(&'static str, Vec<f64>)> = Vec::new();
    for _ in 0..args.repeats {
        gram.fill(0.0);
        let (seconds, ()) = time(|| {
            if gram_path {
                backend.syrk(f, MatMut::col_major(&mut gram, m, m));
            } else {
                backend.gram_rows(f, MatMut::col_major(&mut gram, m, m));
            }
        });
        product_times.push(seconds);

        let (seconds, solved) = time(|| {
            backend.eigh(
                MatView::col_major(&gram, m, m),
                &mut values,
                MatMut::col_major(&mut vectors, m, m),
            )
        });
        eigh_times.push(seconds);
        solved.unwrap_or_else(|err| fail(err));

        // The library's own phases, on the data as the caller hands it over.
        if let Some(targets) = &targets {
            let matrix = match &features.f32 {
                Some(values) => FeatureMatrix::from_f32(values, n, d),
                None => FeatureMatrix::from_f64(&features.f64, n, d),
            }
            .unwrap_or_else(|err| fail(err));
            for (name, seconds) in
                time_phases(&backend, matrix, targets).unwrap_or_else(|m| fail(m))
            {
                match phase_times.iter_mut().find(|(known, _)| *known == name) {
                    Some((_, times)) => times.push(seconds),
                    None => phase_times.push((name, vec![seconds])),
                }
            }
        }
    }

    let flops = if gram_path { n * d * d } else { d * n * n } as f64;
    let product_min = minimum(&product_times);
    let eigh_min = minimum(&eigh_times);
    let product_median = median(&mut product_times);
    let eigh_median = median(&mut eigh_times);
    let floor = if gram_path {
        product_median
    } else {
        product_median + eigh_median
    };
    let mut phases = String::new();
    for (name, times) in &mut phase_times {
        phases.push_str(&format!(", \"{name}\": {}", median(times)));
    }
    println!(
        "{{\"n_samples\": {n}, \"n_features\": {d}, \"path\": \"{}\", \"threads\": {}, \
         \"repeats\": {}, \"product_median_s\": {product_median}, \"product_min_s\": \
         {product_min}, \"eigh_median_s\": {eigh_median}, \"eigh_min_s\": {eigh_min}, \
         \"floor_s\": {floor}, \"product_flops\": {flops}, \"product_gflops\": {}{phases}}}",
        if gram_path { "gram" } else { "row-gram" },
        args.threads,
        args.repeats,
        flops / product_median / 1e9,
    );
}
