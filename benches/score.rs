//! Whole LogME fits, backend against backend: `LogMe::fit` on float32 features.
//!
//! For every compiled backend (the plain-loop `naive` reference excepted) and every shape
//! N x D x C of [`common::shapes`], one fit in the default configuration (fixed-point method,
//! reference mode) on row-major f32 features with class labels `i mod C`. The fit includes
//! what a caller pays: the finiteness check, widening to f64 block by block, the Gram (or row
//! Gram) product, the eigen-decomposition, the per-column fixed point and the weights.
//!
//! Ids are `BenchmarkId::new(backend, "NxDxC")` in the group `score`. The 50000 x 2048 x 100
//! shape runs only with `LOGME_BENCH_LONG=1`. A pair whose single untimed pilot fit exceeds
//! `LOGME_BENCH_MAX_ITER_SECS` (60 s) is skipped and recorded as such; nalgebra, single-threaded,
//! is the usual one.

#[allow(dead_code)]
mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use logme::{Backend, FeatureMatrix, LogMe, Targets};

const GROUP: &str = "score";

fn score(c: &mut Criterion) {
    for shape in common::shapes() {
        let id = shape.id();
        let (features, labels) = common::class_data(shape);
        let targets = Targets::classes(&labels).expect("labels i mod C are valid classes");
        let matrix = FeatureMatrix::from_f32(&features, shape.n_samples, shape.n_features)
            .expect("the feature buffer holds N x D values");

        let mut group = c.benchmark_group(GROUP);
        common::configure(&mut group);
        for name in common::backend_names() {
            let logme =
                LogMe::new().backend(Backend::from_name(name, 0).expect("a compiled backend"));
            let mut score = f64::NAN;
            let pilot = common::pilot(|| {
                score = logme.fit(matrix, &targets).expect("the fit succeeds").score;
            });
            assert!(score.is_finite(), "{name} on {id}: score {score}");
            if pilot > common::max_iteration() {
                let reason = format!(
                    "one fit took {:.1} s, over the {:.0} s budget",
                    pilot.as_secs_f64(),
                    common::max_iteration().as_secs_f64()
                );
                common::record_skip(GROUP, name, &id, &reason);
                continue;
            }
            common::clear_skip(GROUP, name, &id);
            group.bench_function(BenchmarkId::new(name, &id), |b| {
                b.iter(|| {
                    logme
                        .fit(black_box(matrix), &targets)
                        .expect("the fit succeeds")
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, score);
criterion_main!(benches);
