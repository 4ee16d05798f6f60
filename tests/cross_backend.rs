//! Every pair of compiled backends gives the same fit: score, per-column evidence, α and β,
//! weights and predictions, for both methods and both modes, on seeded random inputs (proptest):
//! N and D in 1..=80 (N ≥ 2) on both sides of N = D, duplicated and all-zero feature columns,
//! features scaled by 10⁻⁶ to 10⁶, 1 to 12 targets of every task, empty classes. The naive
//! backend takes part only while N and D are at most 20. A wrapper backend, [`SubRounding`],
//! reports the rounding-level eigenvalues of a singular Gram matrix as sub-rounding values, as
//! LAPACK may; fits must not depend on that choice either.
//!
//! # Tolerances
//!
//! Every backend is backward stable: the spectral data it hands to the solver (eigenvalues σᵢ and
//! projections of y) are exact for FᵀF and Fᵀy perturbed by about c·(N + D)·ε relatively. To
//! first order the evidence, α, β and the weights of one target column then move by at most
//!
//! ```text
//! bound = ε·(N + D)·κ·ρ      κ = (σ_max + t)/(σ_min + t)      ρ = ‖y‖²/‖y − Fm‖²
//! ```
//!
//! where t = α/β (so κ is the condition number of A = αI + βFᵀF: directions with σ ≪ t barely
//! matter), σ_max and σ_min are the extreme eigenvalues of the decomposed Gram matrix (FᵀF when
//! N > D, FFᵀ otherwise; σ_min = 0 when it is singular; computed here by Jacobi), and ρ is the
//! cancellation in the residual ‖y‖² − Σ xᵢ²·(…) that the spectral formulas evaluate. Reference
//! mode adds one term when the decomposed Gram matrix is singular by construction (duplicated or
//! zero columns leave r rounding-level eigenvalues, |λ| ≲ (N + D)·ε·σ_max): both official
//! iterations start at t = α/β = 1 and count those eigenvalues in γ = Σ σ/(σ + t), each by up to
//! (N + D)·ε·σ_max/min(1, t), against N − γ ≥ 1:
//!
//! ```text
//! gamma_term = r·(N + D)·ε·σ_max/min(1, t)            (reference mode only)
//! tol        = max(1e-9, 100·(bound + gamma_term))
//! ```
//!
//! Every quantity of a column must agree within `tol` relatively (the evidence absolutely below 1,
//! like the score; decision values on the training features relative to ‖F‖_F·‖m‖). Inputs with
//! 100·(bound + gamma_term) ≤ 1e-9 are the well-conditioned ones and get the plain 1e-9. The
//! factor 100 stands for the constant c: over 400 random cases on four backends the largest ratio
//! to `bound` was 0.25 for the evidence, and up to 60 for α, β and the weights only where `bound`
//! is below 1e-13 and exact mode's own stopping rule (|Δt| ≤ 10⁻¹²·t) sets the difference.
//!
//! Two more terms and the exceptions, each measured:
//! - A reference column that stops at the 11-iteration cap (or after a different number of
//!   iterations on the two backends) is an iterate of a map that has not contracted; a rounding
//!   difference grows with the product of its Jacobians. Its `tol` gets a further factor 100
//!   (ratios up to 910 observed, for the weights).
//! - A retained rounding-level direction vᵣ adds vᵣ·xᵣ·√σᵣ/(t + σᵣ) to the weights, where
//!   ‖F vᵣ‖ = √σᵣ: up to √((N + D)·ε·σ_max)·‖y‖·√r/t, which no backend determines. The weights and
//!   decision values allow that much besides `tol`.
//! - Reference fixed-point mode with N > D counts the singular values above the official absolute
//!   cutoff 1e-10. A duplicated column leaves a rounding-level direction, counted or not depending
//!   on the backend's rounding, and each counted direction changes the evidence by ½·ln α/N. Pairs
//!   whose retained rank k differs are therefore compared only when k agrees;
//!   `retained_rank_census` measures how often it does not (on 650 rank-deficient inputs with
//!   four backends: none at feature scales up to 10⁻³, where the rounding-level eigenvalues fall
//!   under the cutoff; three in four at 10⁻², where they straddle it; a third to a half above)
//!   and asserts that inputs of clear full rank never differ.
//! - Exact-mode fits that miss the noise-free limit β → ∞ (the library defect pinned down by
//!   `exact_evidence_is_the_dense_maximum` in `tests/properties.rs`) are left out.
//!
//! Cases: `PROPTEST_CASES` when set, otherwise a small default sized for two cores.

mod common;

use common::close;
use common::props::{
    Case, CaseSpec, Limits, Rng, case_spec, config, gram_spectrum, misses_noise_free_limit,
    residual_ratios,
};
use logme::{
    Backend, BackendError, FeatureMatrix, Fit, LinalgBackend, MatMut, MatView, Method, Mode,
    Options, Prediction, Task,
};
use proptest::prelude::*;

/// The backends compared on a case of this size, by name.
fn backends(n: usize, d: usize) -> Vec<(&'static str, Backend)> {
    Backend::available()
        .into_iter()
        .filter(|&name| name != "naive" || n.max(d) <= 20)
        .map(|name| (name, Backend::from_name(name, 0).unwrap()))
        .collect()
}

/// A fit on one backend with its outputs on the training features.
struct Fitted {
    name: &'static str,
    fit: Fit,
    /// `[N, T]` row-major decision values.
    logits: Vec<f64>,
    prediction: Prediction,
}

fn fit_on<B: LinalgBackend + ?Sized>(
    name: &'static str,
    backend: &B,
    method: Method,
    mode: Mode,
    case: &Case,
) -> Fitted {
    let features = FeatureMatrix::from_f64(&case.features, case.n, case.d).unwrap();
    let options = Options {
        method,
        mode,
        path: None,
    };
    let fit = logme::fit(backend, &options, features, &case.targets).unwrap();
    let logits = fit.decision_function(backend, features).unwrap();
    let prediction = fit.predict(backend, features).unwrap();
    Fitted {
        name,
        fit,
        logits,
        prediction,
    }
}

/// The default backend, except that its eigen-solver reports every rounding-level eigenvalue
/// (|λ| ≤ 16·n·ε·λ_max) as −ε³·λ_max: a sub-rounding value of the kind LAPACK returns for an
/// exactly singular Gram matrix (−1.5e-59 seen), as valid from a backward-stable solver as the
/// ±1e-13 faer reports.
struct SubRounding(Backend);

impl LinalgBackend for SubRounding {
    fn name(&self) -> &'static str {
        "sub-rounding"
    }
    fn syrk(&self, a: MatView<'_>, g: MatMut<'_>) {
        self.0.syrk(a, g);
    }
    fn gemm_tn(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        self.0.gemm_tn(a, b, c);
    }
    fn gemm(&self, a: MatView<'_>, b: MatView<'_>, c: MatMut<'_>) {
        self.0.gemm(a, b, c);
    }
    fn gram_rows(&self, a: MatView<'_>, k: MatMut<'_>) {
        self.0.gram_rows(a, k);
    }
    fn eigh(
        &self,
        a: MatView<'_>,
        values: &mut [f64],
        vectors: MatMut<'_>,
    ) -> Result<(), BackendError> {
        self.0.eigh(a, values, vectors)?;
        let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let cutoff = 16.0 * values.len() as f64 * f64::EPSILON * largest;
        for value in values.iter_mut().filter(|v| v.abs() <= cutoff) {
            *value = -f64::EPSILON.powi(3) * largest;
        }
        Ok(())
    }
}

/// The extreme eigenvalues of the decomposed Gram matrix.
struct SpectrumInfo {
    largest: f64,
    /// Clamped at 0.
    smallest: f64,
    /// The smallest eigenvalue is far from every rank cutoff (relative 1e-12, absolute 1e-18).
    clear_full_rank: bool,
}

impl SpectrumInfo {
    fn of(case: &Case) -> Self {
        let spectrum = gram_spectrum(&case.features, case.n, case.d);
        let largest = spectrum[0];
        let smallest = spectrum.last().unwrap().max(0.0);
        let clear_full_rank =
            case.distinct_columns && smallest >= 1e-12 * largest && smallest >= 1e-18;
        SpectrumInfo {
            largest,
            smallest,
            clear_full_rank,
        }
    }

    /// κ = (σ_max + t)/(σ_min + t) for t = α/β.
    fn kappa(&self, t: f64) -> f64 {
        if t.is_infinite() {
            1.0
        } else {
            (self.largest + t) / (self.smallest + t)
        }
    }
}

/// What a pair comparison found, when it did not fail.
#[derive(Debug, PartialEq)]
enum Verdict {
    Agree,
    /// Reference mode kept a different number of rounding-level directions.
    RankDiffers,
}

fn norm(v: impl Iterator<Item = f64>) -> f64 {
    v.map(|x| x * x).sum::<f64>().sqrt()
}

/// Compares two fits of the same case and options; see the file docs for the tolerances.
fn compare(
    case: &Case,
    spectrum: &SpectrumInfo,
    a: &Fitted,
    b: &Fitted,
) -> Result<Verdict, String> {
    let (n, d) = (case.n, case.d);
    let (fa, fb) = (&a.fit, &b.fit);
    let mode = fa.mode;
    let who = format!("{} vs {} ({:?}, {:?})", a.name, b.name, fa.method, mode);
    if fa.columns.len() != fb.columns.len() || fa.path != fb.path {
        return Err(format!("{who}: shapes or paths differ"));
    }
    if fa.rank != fb.rank {
        if spectrum.clear_full_rank {
            return Err(format!(
                "{who}: rank {} vs {} on a full-rank input",
                fa.rank, fb.rank
            ));
        }
        if mode == Mode::Reference {
            return Ok(Verdict::RankDiffers);
        }
    }

    let rho = residual_ratios(case, fa.weights());
    let f_norm = norm(case.features.iter().copied());
    let t_cols = fa.columns.len();
    let mut score_tol: f64 = 0.0;
    let mut any_unbounded = false;
    for (col, (x, y)) in fa.columns.iter().zip(&fb.columns).enumerate() {
        let here = format!("{who}, column {col}: {x:?} vs {y:?}");
        if x.unbounded || y.unbounded {
            if x.unbounded != y.unbounded || x.evidence != y.evidence {
                return Err(format!("{here}: unbounded on one backend only"));
            }
            any_unbounded = true;
            continue;
        }
        let t = x.alpha / x.beta;
        let bound = f64::EPSILON * (n + d) as f64 * spectrum.kappa(t) * rho[col];
        let null_dirs = n.min(d) - case.structural_rank;
        let rounding_gamma = if mode == Mode::Reference && null_dirs > 0 {
            null_dirs as f64 * f64::EPSILON * (n + d) as f64 * spectrum.largest / t.min(1.0)
        } else {
            0.0
        };
        let irregular = mode == Mode::Reference
            && (!x.converged || !y.converged || x.iterations != y.iterations);
        let amplification = if irregular { 100.0 } else { 1.0 };
        let tol = 1e-9f64.max(amplification * 100.0 * (bound + rounding_gamma));
        score_tol = score_tol.max(tol);

        if !close(x.evidence, y.evidence, tol) {
            return Err(format!("{here}: evidence differs beyond {tol:e}"));
        }
        if x.alpha.is_infinite() != y.alpha.is_infinite() {
            return Err(format!("{here}: α = ∞ on one backend only"));
        }
        let rel = |p: f64, q: f64| p == q || (p - q).abs() <= tol * p.abs().max(q.abs());
        if !rel(x.alpha, y.alpha) || !rel(x.beta, y.beta) {
            return Err(format!("{here}: α or β differs beyond {tol:e}"));
        }

        // Weights, and the decision values on the training features. A retained rounding-level
        // direction vᵣ (|σᵣ| ≲ (N + D)·ε·σ_max) adds vᵣ·xᵣ·√σᵣ/(t + σᵣ) to the weights, where
        // ‖F vᵣ‖ = √σᵣ: a term of size up to √((N + D)·ε·σ_max)·‖y‖/t that no backend determines.
        let wa = &fa.weights()[col * d..(col + 1) * d];
        let wb = &fb.weights()[col * d..(col + 1) * d];
        let w_norm = norm(wa.iter().copied());
        let w_diff = norm(wa.iter().zip(wb).map(|(p, q)| p - q));
        if w_norm == 0.0 {
            if w_diff != 0.0 {
                return Err(format!("{here}: zero weights on one backend only"));
            }
            continue;
        }
        let rounding_dirs = if null_dirs > 0 {
            let y_norm = norm((0..n).map(|i| case.targets.value(i, col)));
            (f64::EPSILON * (n + d) as f64 * spectrum.largest).sqrt()
                * y_norm
                * (null_dirs as f64).sqrt()
                / t
                / w_norm
        } else {
            0.0
        };
        let tol_w = tol.max(rounding_dirs);
        if w_diff > tol_w * w_norm {
            return Err(format!(
                "{here}: weights differ by {:e} relatively (tolerance {tol_w:e})",
                w_diff / w_norm
            ));
        }
        let p_diff = norm((0..n).map(|i| a.logits[i * t_cols + col] - b.logits[i * t_cols + col]));
        if p_diff > tol_w * f_norm * w_norm {
            return Err(format!("{here}: decision values differ by {p_diff:e}"));
        }
    }
    if !any_unbounded && !close(fa.score, fb.score, score_tol) {
        return Err(format!(
            "{who}: score {} vs {} beyond {score_tol:e}",
            fa.score, fb.score
        ));
    }

    // Predicted classes agree wherever the runner-up is clearly behind.
    match (&a.prediction, &b.prediction) {
        (Prediction::Classes(ca), Prediction::Classes(cb)) => {
            let margin = 1e-6 * f_norm * norm(fa.weights().iter().copied());
            for (i, (p, q)) in ca.iter().zip(cb).enumerate() {
                let row = &a.logits[i * t_cols..(i + 1) * t_cols];
                let best = row[*p as usize];
                let runner_up = row
                    .iter()
                    .enumerate()
                    .filter(|(c, _)| *c != *p as usize)
                    .map(|(_, v)| *v)
                    .fold(f64::NEG_INFINITY, f64::max);
                if p != q && best - runner_up > margin {
                    return Err(format!("{who}: row {i} predicted {p} vs {q}"));
                }
            }
        }
        (Prediction::Values { values, .. }, Prediction::Values { .. }) => {
            if *values != a.logits {
                return Err(format!("{who}: predict and decision_function differ"));
            }
        }
        _ => return Err(format!("{who}: prediction kinds differ")),
    }
    Ok(Verdict::Agree)
}

/// Fits `case` with each of `options` on every backend and compares every pair.
fn check_case(case: &Case, options: &[(Method, Mode)]) -> Result<(), String> {
    let named = backends(case.n, case.d);
    if named.len() < 2 {
        return Ok(());
    }
    let spectrum = SpectrumInfo::of(case);
    for &(method, mode) in options {
        let fits: Vec<Fitted> = named
            .iter()
            .map(|(name, b)| fit_on(name, b, method, mode, case))
            .collect();
        if fits.iter().any(|f| misses_noise_free_limit(case, &f.fit)) {
            continue;
        }
        for (i, a) in fits.iter().enumerate() {
            for b in &fits[i + 1..] {
                compare(case, &spectrum, a, b)?;
            }
        }
    }
    Ok(())
}

/// Any size (N, D ≤ 80): the naive backend joins when both are at most 20.
fn any_size() -> impl Strategy<Value = CaseSpec> {
    case_spec(Limits {
        n_samples: 2..=80,
        n_features: 1..=80,
        n_targets: 1..=12,
        scale_exp: -6..=6,
        max_duplicated: 3,
        max_zero: 2,
        empty_class: true,
    })
}

/// N, D ≤ 20, where the naive backend always takes part.
fn small() -> impl Strategy<Value = CaseSpec> {
    case_spec(Limits {
        n_samples: 2..=20,
        n_features: 1..=20,
        n_targets: 1..=12,
        scale_exp: -6..=6,
        max_duplicated: 3,
        max_zero: 2,
        empty_class: true,
    })
}

/// Small and any-size cases, half and half.
fn sizes() -> impl Strategy<Value = CaseSpec> {
    prop_oneof![small(), any_size()]
}

const FIXED_POINT_REFERENCE: [(Method, Mode); 1] = [(Method::FixedPoint, Mode::Reference)];
const ICML_REFERENCE: [(Method, Mode); 1] = [(Method::Icml, Mode::Reference)];
const EXACT: [(Method, Mode); 2] = [
    (Method::FixedPoint, Mode::Exact),
    (Method::Icml, Mode::Exact),
];

proptest! {
    #![proptest_config(config(32))]

    /// Reference fixed-point fits agree on every pair of backends.
    #[test]
    fn backends_agree_in_reference_fixed_point_mode(spec in sizes()) {
        if let Err(msg) = check_case(&spec.build(), &FIXED_POINT_REFERENCE) {
            prop_assert!(false, "{}", msg);
        }
    }

    /// Reference ICML fits agree on every pair of backends. With rank-deficient features on the
    /// Gram path this fails against LAPACK, whose eigen-solver can return a sub-rounding
    /// eigenvalue such as −1.5e-59 that the library divides by (see the test report).
    #[test]
    fn backends_agree_in_reference_icml_mode(spec in sizes()) {
        if let Err(msg) = check_case(&spec.build(), &ICML_REFERENCE) {
            prop_assert!(false, "{}", msg);
        }
    }

    /// Exact fits (both methods) agree on every pair of backends.
    #[test]
    fn backends_agree_in_exact_mode(spec in sizes()) {
        if let Err(msg) = check_case(&spec.build(), &EXACT) {
            prop_assert!(false, "{}", msg);
        }
    }
}

/// Rank-deficient cases (at least one duplicated or zero column) of at most 40 x 20.
fn rank_deficient() -> impl Strategy<Value = CaseSpec> {
    case_spec(Limits {
        n_samples: 2..=40,
        n_features: 2..=20,
        n_targets: 1..=6,
        scale_exp: -6..=6,
        max_duplicated: 3,
        max_zero: 2,
        empty_class: true,
    })
    .prop_map(|spec| CaseSpec {
        duplicated: spec.duplicated.max(usize::from(spec.zero == 0)),
        ..spec
    })
}

/// The default backend against [`SubRounding`] on rank-deficient inputs, with `options`.
fn check_sub_rounding(case: &Case, options: &[(Method, Mode)]) -> Result<(), String> {
    let spectrum = SpectrumInfo::of(case);
    let plain = Backend::default();
    let shifted = SubRounding(Backend::default());
    for &(method, mode) in options {
        let a = fit_on(plain.name(), &plain, method, mode, case);
        let b = fit_on(shifted.name(), &shifted, method, mode, case);
        if misses_noise_free_limit(case, &a.fit) || misses_noise_free_limit(case, &b.fit) {
            continue;
        }
        compare(case, &spectrum, &a, &b)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(32))]

    /// How a backend reports the rounding-level eigenvalues of a singular Gram matrix does not
    /// change reference ICML fits. Fails: the library divides projections by √|λ| (see the
    /// test report).
    #[test]
    fn sub_rounding_eigenvalues_leave_reference_icml_unchanged(spec in rank_deficient()) {
        if let Err(msg) = check_sub_rounding(&spec.build(), &ICML_REFERENCE) {
            prop_assert!(false, "{}", msg);
        }
    }

    /// The same for reference fixed-point fits (compared where the retained rank agrees) and
    /// exact fits.
    #[test]
    fn sub_rounding_eigenvalues_leave_other_fits_unchanged(spec in rank_deficient()) {
        let options = [FIXED_POINT_REFERENCE[0], EXACT[0], EXACT[1]];
        if let Err(msg) = check_sub_rounding(&spec.build(), &options) {
            prop_assert!(false, "{}", msg);
        }
    }
}

/// How often backends retain a different rank in reference fixed-point mode (N > D), by feature
/// scale, on rank-deficient inputs (duplicated and zero columns) and on full-rank ones; prints the
/// table (`--nocapture`) and asserts that clear full-rank inputs never differ.
#[test]
fn retained_rank_census() {
    let per_scale = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(8, |cases| cases.div_ceil(4).max(1));
    let mut rng = Rng::new(0x00c0_ffee);
    let mut rows = Vec::new();
    let (mut deficient_total, mut deficient_differs) = (0, 0);
    let mut by_pair = std::collections::BTreeMap::new();
    for scale_exp in -6..=6 {
        let mut counts = [(0usize, 0usize); 2];
        for _ in 0..per_scale {
            for (kind, deficient) in [false, true].into_iter().enumerate() {
                let small = rng.below(2) == 0;
                let d = if small {
                    3 + rng.below(10)
                } else {
                    3 + rng.below(30)
                };
                let n = d
                    + 1
                    + if small {
                        rng.below(20 - d)
                    } else {
                        rng.below(40)
                    };
                let duplicated = if deficient {
                    1 + rng.below(3.min(d - 2))
                } else {
                    0
                };
                let zero = if deficient {
                    rng.below(2.min(d - 1 - duplicated) + 1)
                } else {
                    0
                };
                let spec = CaseSpec {
                    n_samples: n,
                    n_features: d,
                    n_targets: 1,
                    task: Task::Regression,
                    seed: rng.next_u64(),
                    scale_exp,
                    duplicated,
                    zero,
                    empty_class: false,
                };
                let case = spec.build();
                let spectrum = SpectrumInfo::of(&case);
                let ranks: Vec<(&str, usize)> = backends(n, d)
                    .iter()
                    .map(|(name, b)| {
                        (
                            *name,
                            fit_on(name, b, Method::FixedPoint, Mode::Reference, &case)
                                .fit
                                .rank,
                        )
                    })
                    .collect();
                let differs = ranks.iter().any(|(_, r)| *r != ranks[0].1);
                assert!(
                    !(differs && spectrum.clear_full_rank),
                    "ranks {ranks:?} differ on a full-rank input: {spec:?}"
                );
                counts[kind].0 += 1;
                counts[kind].1 += usize::from(differs);
                for (i, (a, ka)) in ranks.iter().enumerate() {
                    for (b, kb) in &ranks[i + 1..] {
                        let entry = by_pair.entry(format!("{a}-{b}")).or_insert((0, 0));
                        entry.0 += usize::from(deficient);
                        entry.1 += usize::from(deficient && ka != kb);
                    }
                }
            }
        }
        deficient_total += counts[1].0;
        deficient_differs += counts[1].1;
        rows.push(format!(
            "10^{scale_exp:>3}: full rank {}/{} differ, rank-deficient {}/{} differ",
            counts[0].1, counts[0].0, counts[1].1, counts[1].0
        ));
    }
    let pairs: Vec<String> = by_pair
        .iter()
        .map(|(pair, (total, differ))| format!("{pair} {differ}/{total}"))
        .collect();
    println!(
        "retained rank k, reference fixed-point, N > D, backends {:?}:\n{}\nrank-deficient \
         total: {deficient_differs}/{deficient_total}; by pair: {}",
        Backend::available(),
        rows.join("\n"),
        pairs.join(", ")
    );
}
