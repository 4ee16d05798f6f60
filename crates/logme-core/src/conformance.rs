//! The conformance suite every [`LinalgBackend`] must pass.
//!
//! Each check runs one kernel on seeded pseudo-random inputs and panics with a message naming the
//! backend, the kernel, the shapes and layouts, the worst element and its tolerance. Inputs cover
//! both memory orders for every operand, padded leading dimensions (`ld` larger than the
//! contiguous dimension), 1 x 1, tall, wide and empty shapes, and sizes on both sides of the
//! block thresholds libraries switch algorithms at.
//!
//! What is pinned, kernel by kernel:
//!
//! - products (`syrk`, `gram_rows`, `gemm_tn`, `gemm`) accumulate onto a non-zero output; with an
//!   empty inner dimension the output is left bit-for-bit unchanged;
//! - `syrk` and `gram_rows` leave the strict upper triangle bit-for-bit unchanged;
//! - no kernel writes outside its output view (the padding between rows or columns is checked);
//! - no kernel reads the padding of its inputs (it holds NaN, which would spread into the result);
//! - `eigh` reads only the lower triangle (the strict upper one holds NaN), returns ascending
//!   eigenvalues and orthonormal eigenvectors with `A V = V diag(λ)`; repeated eigenvalues, an
//!   all-zero matrix, a multiple of the identity, a rank-deficient Gram matrix and badly scaled
//!   matrices are covered;
//! - `cholesky` reads and writes only the lower triangle (the strict upper one and the padding
//!   hold NaN and must keep their bits), leaves a positive diagonal, and reconstructs A = L Lᵀ;
//!   on a matrix whose leading minors are positive definite up to order p but not p + 1 it
//!   returns [`BackendErrorKind::NotPositiveDefinite`] with index p;
//! - `solve_lower_triangular` reads only the lower triangle of its factor, writes only its
//!   right-hand sides and solves L X = B; with B = I the result is L⁻¹, exactly lower triangular,
//!   with L⁻¹ L = I.
//!
//! Tolerances are relative and grow with the size. A product entry may differ from the exact sum
//! by
//!
//! ```text
//! |ĉᵢⱼ − cᵢⱼ| ≤ 4·(k + 2)·ε·(|c⁰ᵢⱼ| + Σᵣ |aᵢᵣ|·|bᵣⱼ|)
//! ```
//!
//! where k is the inner dimension and c⁰ the output before the call. For `eigh` on an n x n
//! matrix A, every entry of VᵀV − I must be below 8·n·ε, and every entry of A V − V diag(λ), and
//! every eigenvalue error where the spectrum is known, below 8·n·ε·‖A‖_F. The triangular kernels
//! are held to the componentwise backward-error bounds of the unblocked algorithms, with the same
//! factor:
//!
//! ```text
//! |(L Lᵀ − A)ᵢⱼ| ≤ 4·(n + 2)·ε·Σₖ |Lᵢₖ|·|Lⱼₖ|
//! |(L X − B)ᵢⱼ|  ≤ 4·(n + 2)·ε·(|Bᵢⱼ| + Σₖ |Lᵢₖ|·|Xₖⱼ|)
//! ```
//!
//! The module is compiled only with the `conformance` feature; a backend crate enables it as a
//! dev-dependency and instantiates the suite with [`conformance_tests!`](crate::conformance_tests),
//! one `#[test]` per check:
//!
//! ```
//! use logme_core::{conformance, NaiveBackend};
//!
//! conformance::check_syrk(&NaiveBackend);
//! conformance::check_gemm(&NaiveBackend);
//! ```

use crate::backend::{BackendErrorKind, LinalgBackend, NaiveBackend};
use crate::views::{MatMut, MatView, Order};

const EPS: f64 = f64::EPSILON;

/// Value written to every buffer position outside an output view; it must survive the call.
const OUTPUT_PAD: f64 = -7.25e77;

/// Value a decomposition output holds before the call; every entry must be overwritten.
const STALE: f64 = 3.5e33;

/// The two memory orders.
const ORDERS: [Order; 2] = [Order::RowMajor, Order::ColMajor];

/// Padding added to the leading dimension: packed, and padded.
const PADS: [usize; 2] = [0, 3];

/// Runs every check of the suite on `backend`.
///
/// # Panics
/// On the first kernel that does not conform, with a message describing the case.
pub fn check_all<B: LinalgBackend + ?Sized>(backend: &B) {
    check_syrk(backend);
    check_gram_rows(backend);
    check_gemm_tn(backend);
    check_gemm(backend);
    check_eigh(backend);
    check_eigh_degenerate(backend);
    check_cholesky(backend);
    check_cholesky_not_positive_definite(backend);
    check_solve_lower_triangular(backend);
}

/// Instantiates the conformance suite as one `#[test]` per check inside a module.
///
/// The backend expression is evaluated in each test; the module imports its parent's names, so
/// the backend type only has to be in scope where the macro is called.
///
/// In a backend crate's `tests/conformance.rs`:
///
/// ```
/// use logme_core::NaiveBackend;
///
/// logme_core::conformance_tests!(naive, NaiveBackend);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($module:ident, $backend:expr) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn syrk() {
                $crate::conformance::check_syrk(&$backend);
            }

            #[test]
            fn gram_rows() {
                $crate::conformance::check_gram_rows(&$backend);
            }

            #[test]
            fn gemm_tn() {
                $crate::conformance::check_gemm_tn(&$backend);
            }

            #[test]
            fn gemm() {
                $crate::conformance::check_gemm(&$backend);
            }

            #[test]
            fn eigh() {
                $crate::conformance::check_eigh(&$backend);
            }

            #[test]
            fn eigh_degenerate() {
                $crate::conformance::check_eigh_degenerate(&$backend);
            }

            #[test]
            fn cholesky() {
                $crate::conformance::check_cholesky(&$backend);
            }

            #[test]
            fn cholesky_not_positive_definite() {
                $crate::conformance::check_cholesky_not_positive_definite(&$backend);
            }

            #[test]
            fn solve_lower_triangular() {
                $crate::conformance::check_solve_lower_triangular(&$backend);
            }
        }
    };
}

/// Checks `g += aᵀa` on the lower triangle, `a` being `[n, d]`.
///
/// # Panics
/// When the backend does not conform.
pub fn check_syrk<B: LinalgBackend + ?Sized>(backend: &B) {
    // (n, d): 1 x 1, empty in each dimension, tall, wide (n < d), square, and sizes past the
    // 16 and 64 block thresholds.
    let shapes = [
        (1, 1),
        (0, 3),
        (4, 0),
        (0, 0),
        (9, 2),
        (50, 7),
        (5, 40),
        (33, 33),
        (130, 70),
    ];
    let mut rng = SplitMix64::new(0x5eed_0001);
    for (n, d) in shapes {
        for_each_layout(|orders: [Order; 2], pad| {
            let a = TestMat::random(&mut rng, n, d, orders[0], pad);
            let mut g = TestMat::output(&mut rng, d, d, orders[1], pad);
            let before = g.clone();
            backend.syrk(a.view(), g.view_mut());
            let ctx = format!(
                "{} syrk: a [{n}x{d}] {}, g [{d}x{d}] {}",
                backend.name(),
                a.layout(),
                before.layout()
            );
            let a = &a;
            let product = |i: usize, j: usize| (0..n).map(move |r| (a.get(r, i), a.get(r, j)));
            assert_accumulated(&ctx, &before, &g, n, Triangle::Lower, product);
        });
    }
}

/// Checks `k += aaᵀ` on the lower triangle, `a` being `[n, d]`.
///
/// # Panics
/// When the backend does not conform.
pub fn check_gram_rows<B: LinalgBackend + ?Sized>(backend: &B) {
    let shapes = [
        (1, 1),
        (0, 3),
        (4, 0),
        (0, 0),
        (2, 9),
        (7, 50),
        (40, 5),
        (33, 33),
        (70, 130),
    ];
    let mut rng = SplitMix64::new(0x5eed_0002);
    for (n, d) in shapes {
        for_each_layout(|orders: [Order; 2], pad| {
            let a = TestMat::random(&mut rng, n, d, orders[0], pad);
            let mut k = TestMat::output(&mut rng, n, n, orders[1], pad);
            let before = k.clone();
            backend.gram_rows(a.view(), k.view_mut());
            let ctx = format!(
                "{} gram_rows: a [{n}x{d}] {}, k [{n}x{n}] {}",
                backend.name(),
                a.layout(),
                before.layout()
            );
            let a = &a;
            let product = |i: usize, j: usize| (0..d).map(move |r| (a.get(i, r), a.get(j, r)));
            assert_accumulated(&ctx, &before, &k, d, Triangle::Lower, product);
        });
    }
}

/// Checks `c += aᵀb`, `a` being `[n, p]` and `b` `[n, q]`.
///
/// # Panics
/// When the backend does not conform.
pub fn check_gemm_tn<B: LinalgBackend + ?Sized>(backend: &B) {
    // (n, p, q)
    let shapes = [
        (1, 1, 1),
        (0, 3, 2),
        (5, 0, 3),
        (5, 3, 0),
        (60, 4, 1),
        (60, 1, 4),
        (3, 20, 17),
        (100, 33, 9),
        (70, 65, 66),
    ];
    let mut rng = SplitMix64::new(0x5eed_0003);
    for (n, p, q) in shapes {
        for_each_layout(|orders: [Order; 3], pad| {
            let a = TestMat::random(&mut rng, n, p, orders[0], pad);
            let b = TestMat::random(&mut rng, n, q, orders[1], pad);
            let mut c = TestMat::output(&mut rng, p, q, orders[2], pad);
            let before = c.clone();
            backend.gemm_tn(a.view(), b.view(), c.view_mut());
            let ctx = format!(
                "{} gemm_tn: a [{n}x{p}] {}, b [{n}x{q}] {}, c [{p}x{q}] {}",
                backend.name(),
                a.layout(),
                b.layout(),
                before.layout()
            );
            let (a, b) = (&a, &b);
            let product = |i: usize, j: usize| (0..n).map(move |r| (a.get(r, i), b.get(r, j)));
            assert_accumulated(&ctx, &before, &c, n, Triangle::Full, product);
        });
    }
}

/// Checks `c += ab`, `a` being `[p, n]` and `b` `[n, q]`.
///
/// # Panics
/// When the backend does not conform.
pub fn check_gemm<B: LinalgBackend + ?Sized>(backend: &B) {
    // (p, n, q)
    let shapes = [
        (1, 1, 1),
        (3, 0, 2),
        (0, 5, 3),
        (3, 5, 0),
        (60, 4, 1),
        (1, 4, 60),
        (20, 3, 17),
        (33, 100, 9),
        (65, 70, 66),
    ];
    let mut rng = SplitMix64::new(0x5eed_0004);
    for (p, n, q) in shapes {
        for_each_layout(|orders: [Order; 3], pad| {
            let a = TestMat::random(&mut rng, p, n, orders[0], pad);
            let b = TestMat::random(&mut rng, n, q, orders[1], pad);
            let mut c = TestMat::output(&mut rng, p, q, orders[2], pad);
            let before = c.clone();
            backend.gemm(a.view(), b.view(), c.view_mut());
            let ctx = format!(
                "{} gemm: a [{p}x{n}] {}, b [{n}x{q}] {}, c [{p}x{q}] {}",
                backend.name(),
                a.layout(),
                b.layout(),
                before.layout()
            );
            let (a, b) = (&a, &b);
            let product = |i: usize, j: usize| (0..n).map(move |r| (a.get(i, r), b.get(r, j)));
            assert_accumulated(&ctx, &before, &c, n, Triangle::Full, product);
        });
    }
}

/// Checks `eigh` on random symmetric matrices in every layout, against [`NaiveBackend`] where
/// that is affordable.
///
/// # Panics
/// When the backend does not conform.
pub fn check_eigh<B: LinalgBackend + ?Sized>(backend: &B) {
    let mut rng = SplitMix64::new(0x5eed_0005);

    // Small and medium sizes in all eight layouts.
    for n in [0, 1, 2, 3, 5, 8, 17, 40] {
        for_each_layout(|orders: [Order; 2], pad| {
            let case = EighCase::new("random", n, random_symmetric(&mut rng, n), None);
            check_eigh_case(backend, &case, orders, pad);
        });
    }

    // Past 128, where divide-and-conquer solvers stop recursing into QR; two layouts suffice.
    let n = 150;
    let case = EighCase::new("random", n, random_symmetric(&mut rng, n), None);
    check_eigh_case(backend, &case, [Order::ColMajor, Order::ColMajor], 0);
    check_eigh_case(backend, &case, [Order::RowMajor, Order::RowMajor], 3);
}

/// Checks `eigh` on matrices with repeated, zero or badly scaled eigenvalues.
///
/// # Panics
/// When the backend does not conform.
pub fn check_eigh_degenerate<B: LinalgBackend + ?Sized>(backend: &B) {
    let mut rng = SplitMix64::new(0x5eed_0006);
    let mut cases = Vec::new();

    // 1 x 1 and a diagonal given out of order.
    cases.push(EighCase::new("1x1", 1, vec![-4.0], Some(vec![-4.0])));
    let diag = [3.0, -1.0, 2.0, 0.0, -5.0, 2.0];
    cases.push(EighCase::new(
        "diagonal",
        6,
        diagonal(&diag),
        Some(diag.to_vec()),
    ));

    // All zero, and a multiple of the identity: every eigenvalue repeated.
    for n in [6, 33] {
        cases.push(EighCase::new(
            "zero",
            n,
            vec![0.0; n * n],
            Some(vec![0.0; n]),
        ));
    }
    cases.push(EighCase::new(
        "2.5 I",
        9,
        diagonal(&[2.5; 9]),
        Some(vec![2.5; 9]),
    ));

    // Clustered spectra, rotated by a random orthogonal matrix so the matrix is dense.
    let spectrum = vec![-2.0, -2.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 3.0];
    let a = rotated(&mut rng, &spectrum);
    cases.push(EighCase::new("repeated", 10, a, Some(spectrum)));
    let spectrum: Vec<f64> = (0..40).map(|i| f64::from(i / 8) - 2.0).collect();
    let a = rotated(&mut rng, &spectrum);
    cases.push(EighCase::new("clusters of 8", 40, a, Some(spectrum)));

    // A rank-deficient Gram matrix FᵀF with F [4, 12]: eight zero eigenvalues, as LogME meets
    // whenever there are fewer samples than features.
    let (n_rows, d) = (4, 12);
    let f: Vec<f64> = (0..n_rows * d).map(|_| rng.next_f64()).collect();
    let mut gram = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            gram[i * d + j] = (0..n_rows).map(|r| f[r * d + i] * f[r * d + j]).sum();
        }
    }
    cases.push(EighCase::new("rank-deficient gram", d, gram.clone(), None));

    // The same random matrix scaled far down and far up.
    let base = random_symmetric(&mut rng, 12);
    for (label, scale) in [("scaled by 1e-100", 1e-100), ("scaled by 1e100", 1e100)] {
        cases.push(EighCase::new(
            label,
            12,
            base.iter().map(|v| v * scale).collect(),
            None,
        ));
    }

    for case in &cases {
        check_eigh_case(backend, case, [Order::ColMajor, Order::ColMajor], 0);
        check_eigh_case(backend, case, [Order::RowMajor, Order::ColMajor], 2);
        check_eigh_case(backend, case, [Order::ColMajor, Order::RowMajor], 1);
    }

    // The rank-deficient Gram matrix has d − n_rows eigenvalues at zero, to tolerance.
    let mut values = vec![f64::NAN; d];
    let mut vectors = vec![0.0; d * d];
    let input = MatView::col_major(&gram, d, d);
    if let Err(err) = backend.eigh(input, &mut values, MatMut::col_major(&mut vectors, d, d)) {
        panic!(
            "{} eigh (rank-deficient gram): returned {err}",
            backend.name()
        );
    }
    let tol = 8.0 * d as f64 * EPS * frobenius(&gram);
    for (idx, value) in values.iter().take(d - n_rows).enumerate() {
        assert!(
            value.abs() <= tol,
            "{} eigh (rank-deficient gram): eigenvalue {idx} is {value:e}, expected 0 within \
             {tol:e}",
            backend.name()
        );
    }
}

/// Checks the in-place Cholesky factorization on symmetric positive definite matrices in every
/// layout.
///
/// # Panics
/// When the backend does not conform.
pub fn check_cholesky<B: LinalgBackend + ?Sized>(backend: &B) {
    let mut rng = SplitMix64::new(0x5eed_0007);

    // Small and medium sizes, and past the 64 and 128 block thresholds, in all four layouts.
    for n in [0, 1, 2, 3, 5, 8, 17, 40, 65, 150] {
        let a = random_spd(&mut rng, n);
        for pad in PADS {
            for order in ORDERS {
                check_cholesky_case(backend, "random", n, &a, order, pad);
            }
        }
    }

    // A diagonal matrix, whose factor is its square root, and badly scaled matrices.
    let diag = [4.0, 1e-6, 9.0, 2.5, 1e6];
    check_cholesky_case(backend, "diagonal", 5, &diagonal(&diag), Order::RowMajor, 1);
    let base = random_spd(&mut rng, 12);
    for (label, scale) in [("scaled by 1e-100", 1e-100), ("scaled by 1e100", 1e100)] {
        let a: Vec<f64> = base.iter().map(|v| v * scale).collect();
        check_cholesky_case(backend, label, 12, &a, Order::ColMajor, 0);
        check_cholesky_case(backend, label, 12, &a, Order::RowMajor, 2);
    }
}

/// Checks that `cholesky` refuses matrices whose pivot p is negative, naming p.
///
/// Each matrix is L Lᵀ for a random L with a positive diagonal, with L²ₚₚ + 1 taken off entry
/// (p, p): the leading minors of order 1..=p stay positive definite and pivot p becomes −1, far
/// from any rounding.
///
/// # Panics
/// When the backend does not conform.
pub fn check_cholesky_not_positive_definite<B: LinalgBackend + ?Sized>(backend: &B) {
    let mut rng = SplitMix64::new(0x5eed_0008);
    let cases = [
        (1, 0),
        (3, 0),
        (5, 2),
        (8, 7),
        (40, 39),
        (90, 70),
        (150, 0),
        (150, 100),
    ];
    for (n, pivot) in cases {
        let l = random_lower(&mut rng, n);
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let value: f64 = (0..=j).map(|k| l[i * n + k] * l[j * n + k]).sum();
                a[i * n + j] = value;
                a[j * n + i] = value;
            }
        }
        a[pivot * n + pivot] -= l[pivot * n + pivot] * l[pivot * n + pivot] + 1.0;
        for order in ORDERS {
            let mut m = TestMat::filled(n, n, order, 1, f64::NAN);
            for i in 0..n {
                for j in 0..=i {
                    m.set(i, j, a[i * n + j]);
                }
            }
            let ctx = format!(
                "{} cholesky (pivot {pivot} negative): a [{n}x{n}] {}",
                backend.name(),
                m.layout()
            );
            match backend.cholesky(m.view_mut()) {
                Ok(()) => panic!("{ctx}: succeeded on a matrix that is not positive definite"),
                Err(err) => assert!(
                    err.kind == BackendErrorKind::NotPositiveDefinite { index: pivot }
                        && err.op == "cholesky",
                    "{ctx}: returned {err:?}, expected op \"cholesky\" and NotPositiveDefinite \
                     {{ index: {pivot} }}"
                ),
            }
        }
    }
}

/// Runs `cholesky` on the lower triangle of the symmetric positive definite `a` (row-major,
/// n x n) stored in `order`, with NaN in the strict upper triangle and the padding.
fn check_cholesky_case<B: LinalgBackend + ?Sized>(
    backend: &B,
    label: &str,
    n: usize,
    a: &[f64],
    order: Order,
    pad: usize,
) {
    let mut m = TestMat::filled(n, n, order, pad, f64::NAN);
    for i in 0..n {
        for j in 0..=i {
            m.set(i, j, a[i * n + j]);
        }
    }
    let before = m.clone();
    let ctx = format!(
        "{} cholesky ({label}): a [{n}x{n}] {}",
        backend.name(),
        m.layout()
    );
    if let Err(err) = backend.cholesky(m.view_mut()) {
        panic!("{ctx}: returned {err}");
    }
    assert_padding_unchanged(&ctx, &before, &m);

    // The strict upper triangle keeps its bits; the factor is finite with a positive diagonal.
    for i in 0..n {
        for j in 0..n {
            let got = m.get(i, j);
            if j > i {
                assert!(
                    got.to_bits() == before.get(i, j).to_bits(),
                    "{ctx}: strict upper entry [{i}, {j}] changed to {got:e}"
                );
            } else {
                assert!(got.is_finite(), "{ctx}: L[{i}, {j}] is {got}");
            }
        }
        let pivot = m.get(i, i);
        assert!(
            pivot > 0.0,
            "{ctx}: diagonal L[{i}, {i}] = {pivot:e} is not positive"
        );
    }

    // L Lᵀ = A entry by entry, to the backward-error bound of the unblocked algorithm.
    let tol_factor = 4.0 * (n as f64 + 2.0) * EPS;
    for i in 0..n {
        for j in 0..=i {
            let (sum, bound) = (0..=j).fold((0.0, 0.0), |(sum, bound), k| {
                let term = m.get(i, k) * m.get(j, k);
                (sum + term, bound + term.abs())
            });
            let err = sum - a[i * n + j];
            let tol = tol_factor * bound;
            assert!(
                err.abs() <= tol,
                "{ctx}: (LLᵀ − A)[{i}, {j}] = {err:e} exceeds {tol:e}"
            );
        }
    }
}

/// Checks `b ← L⁻¹b` for lower-triangular factors in every layout, and L⁻¹ from B = I.
///
/// # Panics
/// When the backend does not conform.
pub fn check_solve_lower_triangular<B: LinalgBackend + ?Sized>(backend: &B) {
    // (n, k): empty in each dimension, 1 x 1, one right-hand side, many, and sizes past the
    // block thresholds.
    let shapes = [
        (0, 0),
        (0, 3),
        (3, 0),
        (1, 1),
        (5, 1),
        (17, 4),
        (40, 33),
        (70, 130),
        (130, 7),
    ];
    let mut rng = SplitMix64::new(0x5eed_0009);
    for (n, k) in shapes {
        let l_values = random_lower(&mut rng, n);
        for_each_layout(|orders: [Order; 2], pad| {
            let l = lower_test_mat(&l_values, n, orders[0], pad);
            let b = TestMat::output(&mut rng, n, k, orders[1], pad);
            let ctx = format!(
                "{} solve_lower_triangular: l [{n}x{n}] {}, b [{n}x{k}] {}",
                backend.name(),
                l.layout(),
                b.layout()
            );
            check_solve_case(backend, &ctx, &l, &l_values, b);
        });
    }

    // B = I: the inverse, exactly lower triangular, with L⁻¹ L = I (to the same bound, which
    // the well-conditioned factors allow for this left residual too).
    for n in [1, 4, 33, 100] {
        let l_values = random_lower(&mut rng, n);
        for (orders, pad) in [
            ([Order::RowMajor, Order::ColMajor], 0),
            ([Order::ColMajor, Order::RowMajor], 2),
        ] {
            let l = lower_test_mat(&l_values, n, orders[0], pad);
            let mut b = TestMat::filled(n, n, orders[1], pad, OUTPUT_PAD);
            for i in 0..n {
                for j in 0..n {
                    b.set(i, j, if i == j { 1.0 } else { 0.0 });
                }
            }
            let ctx = format!(
                "{} solve_lower_triangular (B = I): l [{n}x{n}] {}, b {}",
                backend.name(),
                l.layout(),
                b.layout()
            );
            let x = check_solve_case(backend, &ctx, &l, &l_values, b);
            let tol_factor = 4.0 * (n as f64 + 2.0) * EPS;
            for i in 0..n {
                for j in 0..n {
                    if j > i {
                        let got = x.get(i, j);
                        assert!(
                            got == 0.0,
                            "{ctx}: L⁻¹[{i}, {j}] = {got:e} above the diagonal"
                        );
                        continue;
                    }
                    let (sum, bound) = (j..=i).fold((0.0, 0.0), |(sum, bound), r| {
                        let term = x.get(i, r) * l_values[r * n + j];
                        (sum + term, bound + term.abs())
                    });
                    let err = sum - if i == j { 1.0 } else { 0.0 };
                    let tol = tol_factor * bound;
                    assert!(
                        err.abs() <= tol,
                        "{ctx}: (L⁻¹L − I)[{i}, {j}] = {err:e} exceeds {tol:e}"
                    );
                }
            }
        }
    }
}

/// Runs `solve_lower_triangular` with the factor `l` (holding `l_values`, row-major n x n) on
/// `b`, checks the padding and the residual L X − B, and returns X.
fn check_solve_case<B: LinalgBackend + ?Sized>(
    backend: &B,
    ctx: &str,
    l: &TestMat,
    l_values: &[f64],
    mut b: TestMat,
) -> TestMat {
    let before = b.clone();
    let (n, k) = (b.n_rows, b.n_cols);
    backend.solve_lower_triangular(l.view(), b.view_mut());
    assert_padding_unchanged(ctx, &before, &b);
    let tol_factor = 4.0 * (n as f64 + 2.0) * EPS;
    for i in 0..n {
        for j in 0..k {
            let rhs = before.get(i, j);
            let (sum, bound) = (0..=i).fold((-rhs, rhs.abs()), |(sum, bound), r| {
                let term = l_values[i * n + r] * b.get(r, j);
                (sum + term, bound + term.abs())
            });
            let tol = tol_factor * bound;
            assert!(
                sum.abs() <= tol,
                "{ctx}: (LX − B)[{i}, {j}] = {sum:e} exceeds {tol:e} (X[{i}, {j}] = {:e})",
                b.get(i, j)
            );
        }
    }
    b
}

/// The lower triangle of `values` (row-major n x n) in a test matrix with NaN in the strict
/// upper triangle and the padding, so that reading either spreads into the result.
fn lower_test_mat(values: &[f64], n: usize, order: Order, pad: usize) -> TestMat {
    let mut m = TestMat::filled(n, n, order, pad, f64::NAN);
    for i in 0..n {
        for j in 0..=i {
            m.set(i, j, values[i * n + j]);
        }
    }
    m
}

/// A random symmetric positive definite n x n matrix, row-major: M Mᵀ/n + I/2 with M uniform in
/// [-1, 1), whose eigenvalues lie in [0.5, 1.9] or so (Marchenko–Pastur).
fn random_spd(rng: &mut SplitMix64, n: usize) -> Vec<f64> {
    let m: Vec<f64> = (0..n * n).map(|_| rng.next_f64()).collect();
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let value: f64 = (0..n).map(|k| m[i * n + k] * m[j * n + k]).sum::<f64>() / n as f64;
            a[i * n + j] = value;
            a[j * n + i] = value;
        }
        a[i * n + i] += 0.5;
    }
    a
}

/// A random well-conditioned lower-triangular n x n matrix, row-major: diagonal uniform in
/// [1, 2), below it uniform in [-1, 1) scaled by 1/√n, zero above.
fn random_lower(rng: &mut SplitMix64, n: usize) -> Vec<f64> {
    let mut l = vec![0.0; n * n];
    let scale = 1.0 / (n.max(1) as f64).sqrt();
    for i in 0..n {
        for j in 0..i {
            l[i * n + j] = rng.next_f64() * scale;
        }
        l[i * n + i] = 1.5 + 0.5 * rng.next_f64();
    }
    l
}

/// One symmetric eigenproblem: the full matrix (row-major, n x n) and, if known, its spectrum
/// in any order.
struct EighCase {
    label: &'static str,
    n: usize,
    a: Vec<f64>,
    expected: Option<Vec<f64>>,
}

impl EighCase {
    fn new(label: &'static str, n: usize, a: Vec<f64>, expected: Option<Vec<f64>>) -> Self {
        debug_assert_eq!(a.len(), n * n);
        Self {
            label,
            n,
            a,
            expected,
        }
    }
}

/// Runs `eigh` on the lower triangle of `case.a` stored in `orders[0]`, eigenvectors in
/// `orders[1]`, and checks order, orthonormality, reconstruction and the spectrum.
fn check_eigh_case<B: LinalgBackend + ?Sized>(
    backend: &B,
    case: &EighCase,
    orders: [Order; 2],
    pad: usize,
) {
    let n = case.n;

    // The lower triangle holds the matrix, the strict upper one garbage.
    let mut a = TestMat::filled(n, n, orders[0], pad, f64::NAN);
    for i in 0..n {
        for j in 0..=i {
            a.set(i, j, case.a[i * n + j]);
        }
    }
    let mut vectors = TestMat::filled(n, n, orders[1], pad, OUTPUT_PAD);
    for i in 0..n {
        for j in 0..n {
            vectors.set(i, j, STALE);
        }
    }
    let before = vectors.clone();
    let mut values = vec![f64::NAN; n];
    let ctx = format!(
        "{} eigh ({}): a [{n}x{n}] {}, vectors {}",
        backend.name(),
        case.label,
        a.layout(),
        vectors.layout()
    );
    if let Err(err) = backend.eigh(a.view(), &mut values, vectors.view_mut()) {
        panic!("{ctx}: returned {err}");
    }
    assert_padding_unchanged(&ctx, &before, &vectors);

    // Eigenvalues are finite and ascending.
    for (idx, value) in values.iter().enumerate() {
        assert!(value.is_finite(), "{ctx}: eigenvalue {idx} is {value}");
    }
    for idx in 1..n {
        assert!(
            values[idx - 1] <= values[idx],
            "{ctx}: eigenvalues not ascending at {idx}: {:e} > {:e}",
            values[idx - 1],
            values[idx]
        );
    }

    // Eigenvectors are orthonormal: VᵀV = I.
    let orth_tol = 8.0 * n as f64 * EPS;
    for i in 0..n {
        for j in 0..n {
            let dot: f64 = (0..n).map(|r| vectors.get(r, i) * vectors.get(r, j)).sum();
            let err = dot - if i == j { 1.0 } else { 0.0 };
            assert!(
                err.abs() <= orth_tol,
                "{ctx}: (VᵀV − I)[{i}, {j}] = {err:e} exceeds {orth_tol:e}"
            );
        }
    }

    // A V = V diag(λ), A being the symmetric matrix the lower triangle describes.
    let norm = frobenius(&case.a).max(f64::MIN_POSITIVE);
    let tol = 8.0 * n as f64 * EPS * norm;
    for i in 0..n {
        for (j, value) in values.iter().enumerate() {
            let av: f64 = (0..n).map(|r| case.a[i * n + r] * vectors.get(r, j)).sum();
            let err = av - vectors.get(i, j) * value;
            assert!(
                err.abs() <= tol,
                "{ctx}: (AV − VΛ)[{i}, {j}] = {err:e} exceeds {tol:e} (‖A‖_F = {norm:e})"
            );
        }
    }

    // The spectrum matches the known one, or the reference solver's on small sizes.
    let reference = match &case.expected {
        Some(expected) => {
            let mut sorted = expected.to_vec();
            sorted.sort_by(f64::total_cmp);
            Some(sorted)
        }
        None if n <= 48 => {
            let mut reference = vec![0.0; n];
            let mut scratch = vec![0.0; n * n];
            let input = MatView::row_major(&case.a, n, n);
            let output = MatMut::col_major(&mut scratch, n, n);
            NaiveBackend
                .eigh(input, &mut reference, output)
                .ok()
                .map(|()| reference)
        }
        None => None,
    };
    if let Some(reference) = reference {
        for (idx, (got, want)) in values.iter().zip(&reference).enumerate() {
            assert!(
                (got - want).abs() <= tol,
                "{ctx}: eigenvalue {idx} is {got:e}, expected {want:e} within {tol:e}"
            );
        }
    }
}

/// Which entries of a product output a kernel updates.
#[derive(Clone, Copy, PartialEq)]
enum Triangle {
    /// Every entry.
    Full,
    /// Entries with row >= column; the strict upper triangle stays untouched.
    Lower,
}

/// Checks `out = before + Σ lhs·rhs` on the updated entries, and bit-for-bit `out = before`
/// everywhere else (strict upper triangle, padding).
///
/// `terms(i, j)` yields the `n_terms` factor pairs of entry (i, j).
fn assert_accumulated<I>(
    ctx: &str,
    before: &TestMat,
    out: &TestMat,
    n_terms: usize,
    triangle: Triangle,
    terms: impl Fn(usize, usize) -> I,
) where
    I: Iterator<Item = (f64, f64)>,
{
    assert_padding_unchanged(ctx, before, out);
    for i in 0..out.n_rows {
        for j in 0..out.n_cols {
            let old = before.get(i, j);
            let got = out.get(i, j);
            if triangle == Triangle::Lower && j > i {
                assert!(
                    got.to_bits() == old.to_bits(),
                    "{ctx}: strict upper entry [{i}, {j}] changed from {old:e} to {got:e}"
                );
                continue;
            }
            if n_terms == 0 {
                assert!(
                    got.to_bits() == old.to_bits(),
                    "{ctx}: empty inner dimension, yet entry [{i}, {j}] changed from {old:e} to \
                     {got:e}"
                );
                continue;
            }
            let (sum, bound) = terms(i, j).fold((old, old.abs()), |(sum, bound), (x, y)| {
                (sum + x * y, bound + (x * y).abs())
            });
            let tol = 4.0 * (n_terms as f64 + 2.0) * EPS * bound;
            assert!(
                (got - sum).abs() <= tol,
                "{ctx}: entry [{i}, {j}] is {got:e}, expected {sum:e} within {tol:e} (output \
                 before the call {old:e}; products must accumulate)"
            );
        }
    }
}

/// Checks that every buffer position outside the view kept its value.
fn assert_padding_unchanged(ctx: &str, before: &TestMat, out: &TestMat) {
    for (offset, (old, new)) in before.data.iter().zip(&out.data).enumerate() {
        if !out.in_view(offset) {
            assert!(
                old.to_bits() == new.to_bits(),
                "{ctx}: wrote {new:e} at buffer offset {offset}, outside the output view"
            );
        }
    }
}

/// An owned matrix for tests: a buffer with trailing padding after every row (or column).
#[derive(Clone)]
struct TestMat {
    data: Vec<f64>,
    n_rows: usize,
    n_cols: usize,
    order: Order,
    ld: usize,
}

impl TestMat {
    /// Every buffer position, in the view or not, holds `fill`.
    fn filled(n_rows: usize, n_cols: usize, order: Order, pad: usize, fill: f64) -> Self {
        let (outer, inner) = match order {
            Order::RowMajor => (n_rows, n_cols),
            Order::ColMajor => (n_cols, n_rows),
        };
        let ld = (inner + pad).max(1);
        Self {
            data: vec![fill; outer * ld],
            n_rows,
            n_cols,
            order,
            ld,
        }
    }

    /// An input: uniform entries in [-1, 1), NaN in the padding.
    fn random(
        rng: &mut SplitMix64,
        n_rows: usize,
        n_cols: usize,
        order: Order,
        pad: usize,
    ) -> Self {
        let mut m = Self::filled(n_rows, n_cols, order, pad, f64::NAN);
        m.fill_view(rng);
        m
    }

    /// An output: uniform entries in [-1, 1), a sentinel in the padding.
    fn output(
        rng: &mut SplitMix64,
        n_rows: usize,
        n_cols: usize,
        order: Order,
        pad: usize,
    ) -> Self {
        let mut m = Self::filled(n_rows, n_cols, order, pad, OUTPUT_PAD);
        m.fill_view(rng);
        m
    }

    fn fill_view(&mut self, rng: &mut SplitMix64) {
        for i in 0..self.n_rows {
            for j in 0..self.n_cols {
                self.set(i, j, rng.next_f64());
            }
        }
    }

    fn offset(&self, row_idx: usize, col_idx: usize) -> usize {
        match self.order {
            Order::RowMajor => row_idx * self.ld + col_idx,
            Order::ColMajor => row_idx + col_idx * self.ld,
        }
    }

    fn in_view(&self, offset: usize) -> bool {
        let inner = match self.order {
            Order::RowMajor => self.n_cols,
            Order::ColMajor => self.n_rows,
        };
        offset % self.ld < inner
    }

    fn get(&self, row_idx: usize, col_idx: usize) -> f64 {
        self.data[self.offset(row_idx, col_idx)]
    }

    fn set(&mut self, row_idx: usize, col_idx: usize, value: f64) {
        let offset = self.offset(row_idx, col_idx);
        self.data[offset] = value;
    }

    fn view(&self) -> MatView<'_> {
        MatView::new(&self.data, self.n_rows, self.n_cols, self.order, self.ld)
    }

    fn view_mut(&mut self) -> MatMut<'_> {
        MatMut::new(
            &mut self.data,
            self.n_rows,
            self.n_cols,
            self.order,
            self.ld,
        )
    }

    fn layout(&self) -> String {
        let order = match self.order {
            Order::RowMajor => "row-major",
            Order::ColMajor => "col-major",
        };
        format!("{order} ld {}", self.ld)
    }
}

/// Calls `f` with every assignment of the two orders to `N` operands, each packed and padded.
fn for_each_layout<const N: usize>(mut f: impl FnMut([Order; N], usize)) {
    for pad in PADS {
        for code in 0..1usize << N {
            let orders = std::array::from_fn(|bit| ORDERS[(code >> bit) & 1]);
            f(orders, pad);
        }
    }
}

/// A random symmetric n x n matrix, row-major, entries uniform in [-1, 1).
fn random_symmetric(rng: &mut SplitMix64, n: usize) -> Vec<f64> {
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let value = rng.next_f64();
            a[i * n + j] = value;
            a[j * n + i] = value;
        }
    }
    a
}

/// The diagonal matrix with `diag` on its diagonal, row-major.
fn diagonal(diag: &[f64]) -> Vec<f64> {
    let n = diag.len();
    let mut a = vec![0.0; n * n];
    for (idx, value) in diag.iter().enumerate() {
        a[idx * n + idx] = *value;
    }
    a
}

/// Q diag(spectrum) Qᵀ for a random orthogonal Q (a product of three Householder reflections),
/// row-major and exactly symmetric.
fn rotated(rng: &mut SplitMix64, spectrum: &[f64]) -> Vec<f64> {
    let n = spectrum.len();
    let mut q = diagonal(&vec![1.0; n]);
    for _ in 0..3 {
        // q ← q (I − 2vvᵀ/vᵀv)
        let v: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
        let v_sq: f64 = v.iter().map(|x| x * x).sum();
        for row in q.chunks_exact_mut(n) {
            let dot: f64 = row.iter().zip(&v).map(|(x, y)| x * y).sum();
            for (x, y) in row.iter_mut().zip(&v) {
                *x -= 2.0 * dot / v_sq * y;
            }
        }
    }
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let value: f64 = (0..n)
                .map(|r| q[i * n + r] * spectrum[r] * q[j * n + r])
                .sum();
            a[i * n + j] = value;
            a[j * n + i] = value;
        }
    }
    a
}

fn frobenius(a: &[f64]) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// SplitMix64: a tiny seeded generator, enough for test data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1), on a 2⁻⁵² grid.
    fn next_f64(&mut self) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        2.0 * unit - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_backend_conforms() {
        check_all(&NaiveBackend);
    }

    #[test]
    fn a_backend_writing_the_upper_triangle_is_caught() {
        struct FullSyrk;
        impl LinalgBackend for FullSyrk {
            fn name(&self) -> &'static str {
                "full-syrk"
            }
            fn syrk(&self, a: MatView<'_>, g: MatMut<'_>) {
                NaiveBackend.gemm(a.transpose(), a, g);
            }
            fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
                NaiveBackend.gemm_tn(a, b, c);
            }
            fn gemm(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
                NaiveBackend.gemm(a, b, c);
            }
            fn eigh(
                &self,
                a: MatView<'_>,
                values: &mut [f64],
                vectors: MatMut<'_>,
            ) -> Result<(), crate::BackendError> {
                NaiveBackend.eigh(a, values, vectors)
            }
        }
        let result = std::panic::catch_unwind(|| check_syrk(&FullSyrk));
        assert!(result.is_err());
    }

    #[test]
    fn a_cholesky_zeroing_the_upper_triangle_is_caught() {
        struct ZeroingCholesky;
        impl LinalgBackend for ZeroingCholesky {
            fn name(&self) -> &'static str {
                "zeroing-cholesky"
            }
            fn syrk(&self, a: MatView<'_>, g: MatMut<'_>) {
                NaiveBackend.syrk(a, g);
            }
            fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
                NaiveBackend.gemm_tn(a, b, c);
            }
            fn gemm(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
                NaiveBackend.gemm(a, b, c);
            }
            fn eigh(
                &self,
                a: MatView<'_>,
                values: &mut [f64],
                vectors: MatMut<'_>,
            ) -> Result<(), crate::BackendError> {
                NaiveBackend.eigh(a, values, vectors)
            }
            fn cholesky(&self, mut a: MatMut<'_>) -> Result<(), crate::BackendError> {
                NaiveBackend.cholesky(a.reborrow())?;
                for i in 0..a.n_rows() {
                    for j in i + 1..a.n_cols() {
                        *a.get_mut(i, j) = 0.0;
                    }
                }
                Ok(())
            }
        }
        let result = std::panic::catch_unwind(|| check_cholesky(&ZeroingCholesky));
        assert!(result.is_err());
    }
}
