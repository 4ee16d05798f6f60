//! The dense kernels of LogME, backend against backend: `syrk`, `gemm_tn`, `gram_rows`, `eigh`.
//!
//! For every compiled backend (the plain-loop `naive` reference excepted) and every shape
//! N x D x C of [`common::shapes`]:
//!
//! - `syrk`: G += FᵀF on the lower triangle, F `[N, D]` row-major f64, G `[D, D]` column-major,
//!   the call the Gram path makes on every widened row block.
//! - `gemm_tn`: B += FᵀY with Y the one-hot `[N, C]` class matrix, row-major: the cross product
//!   the statistics form for multi-label and regression targets.
//! - `gram_rows`: K += FFᵀ `[N, N]`, only for N < D, where the row Gram path replaces `syrk`.
//! - `eigh`: eigenvalues and eigenvectors of G = FᵀF (D x D), or of K = FFᵀ (N x N) when N < D.
//!
//! Ids are `BenchmarkId::new(backend, "NxDxC")`. Inputs and outputs are allocated once per shape,
//! outside the timed closure; the products accumulate into their output and `eigh` overwrites only
//! its outputs, so no iteration needs fresh inputs. A pair whose single untimed pilot run exceeds
//! `LOGME_BENCH_MAX_ITER_SECS` (60 s) is skipped and recorded as such.

#[allow(dead_code)]
mod common;

use std::hint::black_box;

use common::Shape;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use logme::{Backend, LinalgBackend, MatMut, MatView};

/// One shape's inputs, widened to f64 once.
struct Inputs {
    shape: Shape,
    id: String,
    /// F `[N, D]`, row-major.
    features: Vec<f64>,
    /// One-hot Y `[N, C]`, row-major.
    one_hot: Vec<f64>,
    /// FᵀF (N > D) or FFᵀ (N ≤ D), column-major, lower triangle mirrored.
    gram: Vec<f64>,
}

impl Inputs {
    fn new(shape: Shape) -> Self {
        let (n, d, c) = (shape.n_samples, shape.n_features, shape.n_classes);
        let (features32, labels) = common::class_data(shape);
        let features: Vec<f64> = features32.iter().map(|&v| f64::from(v)).collect();
        drop(features32);
        let mut one_hot = vec![0.0; n * c];
        for (row_idx, &label) in labels.iter().enumerate() {
            one_hot[row_idx * c + label as usize] = 1.0;
        }

        // The matrix `eigh` decomposes, built with faer when compiled (any backend gives it).
        let builder = Backend::default();
        let f = MatView::row_major(&features, n, d);
        let m = if n > d { d } else { n };
        let mut gram = vec![0.0; m * m];
        if n > d {
            builder.syrk(f, MatMut::col_major(&mut gram, m, m));
        } else {
            builder.gram_rows(f, MatMut::col_major(&mut gram, m, m));
        }
        for col_idx in 0..m {
            for row_idx in col_idx + 1..m {
                gram[row_idx * m + col_idx] = gram[col_idx * m + row_idx];
            }
        }
        Self {
            shape,
            id: shape.id(),
            features,
            one_hot,
            gram,
        }
    }

    fn view(&self) -> MatView<'_> {
        MatView::row_major(&self.features, self.shape.n_samples, self.shape.n_features)
    }

    fn order(&self) -> usize {
        self.shape.n_samples.min(self.shape.n_features)
    }
}

/// Times `kernel` for every backend on one shape, under `group_name`, unless its pilot is too
/// slow.
///
/// `kernel` receives the backend and the mutable output; `output_len` sizes that output.
fn register(
    c: &mut Criterion,
    group_name: &str,
    inputs: &Inputs,
    output_len: usize,
    mut kernel: impl FnMut(&Backend, &mut [f64]),
) {
    let mut group = c.benchmark_group(group_name);
    common::configure(&mut group);
    for name in common::backend_names() {
        let backend = Backend::from_name(name, 0).expect("a compiled backend");
        let mut output = vec![0.0; output_len];
        let pilot = common::pilot(|| kernel(&backend, &mut output));
        if pilot > common::max_iteration() {
            let reason = format!(
                "one iteration took {:.1} s, over the {:.0} s budget",
                pilot.as_secs_f64(),
                common::max_iteration().as_secs_f64()
            );
            common::record_skip(group_name, name, &inputs.id, &reason);
            continue;
        }
        common::clear_skip(group_name, name, &inputs.id);
        group.bench_function(BenchmarkId::new(name, &inputs.id), |b| {
            b.iter(|| kernel(&backend, black_box(&mut output)));
        });
    }
    group.finish();
}

fn kernels(c: &mut Criterion) {
    for shape in common::shapes() {
        let inputs = Inputs::new(shape);
        let (n, d, n_classes) = (shape.n_samples, shape.n_features, shape.n_classes);

        // G += FᵀF (lower triangle).
        register(c, "syrk", &inputs, d * d, |backend, g| {
            backend.syrk(inputs.view(), MatMut::col_major(g, d, d));
        });

        // B += FᵀY with the one-hot class matrix.
        register(c, "gemm_tn", &inputs, d * n_classes, |backend, b| {
            let y = MatView::row_major(&inputs.one_hot, n, n_classes);
            backend.gemm_tn(inputs.view(), y, MatMut::col_major(b, d, n_classes));
        });

        // K += FFᵀ, the row Gram path's product, only where that path runs.
        if n <= d {
            register(c, "gram_rows", &inputs, n * n, |backend, k| {
                backend.gram_rows(inputs.view(), MatMut::col_major(k, n, n));
            });
        }

        // Eigen-decomposition of the Gram matrix; the eigenvalues go to a preallocated buffer.
        let m = inputs.order();
        let gram = MatView::col_major(&inputs.gram, m, m);
        let mut values = vec![0.0; m];
        register(c, "eigh", &inputs, m * m, |backend, vectors| {
            backend
                .eigh(gram, &mut values, MatMut::col_major(vectors, m, m))
                .expect("the eigen-decomposition of a Gram matrix converges");
            black_box(values[m - 1]);
        });
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
