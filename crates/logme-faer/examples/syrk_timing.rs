//! Temporary sanity timing (not committed).
use logme_core::{LinalgBackend, MatMut, MatView};
use logme_faer::FaerBackend;
use std::time::Instant;

fn main() {
    let (n, d) = (20000usize, 1024usize);
    let mut s = 1u64;
    let a: Vec<f64> = (0..n * d)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    for threads in [0usize, 1] {
        let b = if threads == 0 { FaerBackend::new() } else { FaerBackend::with_threads(1) };
        for (label, view) in [
            ("row-major", MatView::row_major(&a, n, d)),
            ("col-major", MatView::col_major(&a, n, d)),
        ] {
            let mut g = vec![0.0; d * d];
            b.syrk(view, MatMut::col_major(&mut g, d, d)); // warm-up
            let reps = 3;
            let t = Instant::now();
            for _ in 0..reps {
                b.syrk(view, MatMut::col_major(&mut g, d, d));
            }
            let secs = t.elapsed().as_secs_f64() / reps as f64;
            let flops = (n * d * (d + 1)) as f64;
            println!(
                "syrk threads={} {label}: {:.3}s  {:.1} GFLOP/s (n·d·(d+1)), {:.1} GFLOP/s gemm-equivalent",
                b.n_threads(), secs, flops / secs / 1e9, 2.0 * (n * d * d) as f64 / secs / 1e9
            );
            let mut c = vec![0.0; d * d];
            let t = Instant::now();
            b.gemm_tn(view, view, MatMut::col_major(&mut c, d, d));
            let secs = t.elapsed().as_secs_f64();
            println!("  full gemm_tn: {:.3}s  {:.1} GFLOP/s", secs, 2.0 * (n * d * d) as f64 / secs / 1e9);
        }
    }
    let mut sym = vec![0.0; d * d];
    FaerBackend::new().syrk(MatView::row_major(&a[..4096 * d], 4096, d), MatMut::col_major(&mut sym, d, d));
    let mut vals = vec![0.0; d];
    let mut vecs = vec![0.0; d * d];
    let t = Instant::now();
    FaerBackend::new().eigh(MatView::col_major(&sym, d, d), &mut vals, MatMut::col_major(&mut vecs, d, d)).unwrap();
    println!("eigh {d}: {:.3}s", t.elapsed().as_secs_f64());
}
