//! The per-column evidence maximisation, in the spectral basis of the features.
//!
//! Every solver works on the same data for one target column y: the eigenvalues σᵢ of FᵀF that
//! are kept (i = 1..k), the projections xᵢ = uᵢᵀy of y on the matching left singular vectors, and
//! r₀ = ‖y‖² − Σ xᵢ², the part of y outside the kept directions. Writing t = α/β:
//!
//! ```text
//! γ(t)        = Σ σᵢ / (σᵢ + t)                     effective number of parameters
//! ‖m‖²(t)     = Σ σᵢ xᵢ² / (t + σᵢ)²                squared norm of the posterior mean
//! ‖y−Fm‖²(t)  = Σ xᵢ² t² / (t + σᵢ)² + r₀            squared residual
//! log p(y|α,β) = D/2·ln α + N/2·ln β − N/2·ln 2π − β/2·‖y−Fm‖² − α/2·‖m‖² − 1/2·ln det A
//! ln det A    = Σᵢ ln(α + βσᵢ) + (D − k)·ln α         A = αI + βFᵀF
//! ```
//!
//! MacKay's updates α ← γ/‖m‖², β ← (N − γ)/‖y−Fm‖² have the maximisers of the evidence as their
//! fixed points. The reference solvers replay the official code step for step (including its
//! shortened log-determinant); the exact solver iterates to convergence without epsilons.

use std::f64::consts::PI;

/// Iteration cap of the official code.
pub const REFERENCE_MAX_ITERATIONS: usize = 11;
/// Epsilon the official code adds to both squared norms.
pub const REFERENCE_EPSILON: f64 = 1e-5;
/// Relative tolerance on t = α/β of the exact solver.
pub const EXACT_TOLERANCE: f64 = 1e-12;
/// Iteration cap of the exact solver; typical columns converge in 10 to 100 iterations.
pub const EXACT_MAX_ITERATIONS: usize = 100_000;

/// The fitted evidence of one target column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnFit {
    /// Maximised log evidence divided by N.
    pub evidence: f64,
    /// Prior precision α of the weights; `+inf` in exact mode when the maximum puts all weights
    /// at zero (y is pure noise to the features).
    pub alpha: f64,
    /// Noise precision β; `+inf` in exact mode when the maximum is the noise-free limit (F has
    /// full row rank, so y is fitted exactly, and the evidence is largest as β → ∞).
    pub beta: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the stopping rule was met before the iteration cap.
    pub converged: bool,
    /// Reference fixed-point mode only: how much the official formula overstates the evidence
    /// per sample at the returned α, β because its log-determinant skips the D − k directions it
    /// dropped: (D − k)/2·ln α / N. Zero when k = D and in the other modes.
    pub reference_gap: f64,
    /// Exact mode: the evidence grows without bound (a perfect fit, or an all-zero column); the
    /// `evidence` is then `+inf`.
    pub unbounded: bool,
    /// The t = α/β used for the posterior-mean weights.
    pub(crate) t_weights: f64,
}

/// The spectral data of one column.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column<'a> {
    /// Kept eigenvalues σᵢ of FᵀF.
    pub sigma: &'a [f64],
    /// Projections xᵢ.
    pub x: &'a [f64],
    /// ‖y‖² − Σ xᵢ².
    pub r0: f64,
    /// ‖y‖².
    pub y_sq: f64,
    /// N.
    pub n_samples: usize,
    /// D.
    pub n_features: usize,
    /// Directions with σ = 0 that the reference ICML log-determinant counts beyond `sigma`.
    pub extra_zero_directions: usize,
}

struct Norms {
    gamma: f64,
    m_sq: f64,
    residual_sq: f64,
}

fn norms(col: &Column<'_>, t: f64) -> Norms {
    let mut gamma = 0.0;
    let mut m_sq = 0.0;
    let mut res = 0.0;
    for (&sigma, &x) in col.sigma.iter().zip(col.x) {
        let x2 = x * x;
        gamma += sigma / (sigma + t);
        m_sq += sigma * x2 / ((t + sigma) * (t + sigma));
        let shrink = 1.0 + sigma / t;
        res += x2 / (shrink * shrink);
    }
    Norms {
        gamma,
        m_sq,
        residual_sq: res + col.r0,
    }
}

fn log_det_terms(col: &Column<'_>, alpha: f64, beta: f64) -> f64 {
    col.sigma.iter().map(|&s| (alpha + beta * s).ln()).sum()
}

/// The official fixed-point method (You et al., JMLR 2022), step for step.
pub(crate) fn fixed_point_reference(col: &Column<'_>) -> ColumnFit {
    let n = col.n_samples as f64;
    let d = col.n_features as f64;
    let (mut alpha, mut beta) = (1.0f64, 1.0f64);
    let mut t = 1.0;
    let mut last = Norms {
        gamma: 0.0,
        m_sq: 0.0,
        residual_sq: 0.0,
    };
    let mut iterations = 0;
    let mut converged = false;
    for _ in 0..REFERENCE_MAX_ITERATIONS {
        iterations += 1;
        t = alpha / beta;
        last = norms(col, t);
        alpha = last.gamma / (last.m_sq + REFERENCE_EPSILON);
        beta = (n - last.gamma) / (last.residual_sq + REFERENCE_EPSILON);
        let t_new = alpha / beta;
        if (t_new - t).abs() / t <= 1e-3 {
            converged = true;
            break;
        }
    }
    let evidence = d / 2.0 * alpha.ln() + n / 2.0 * beta.ln()
        - 0.5 * log_det_terms(col, alpha, beta)
        - beta / 2.0 * last.residual_sq
        - alpha / 2.0 * last.m_sq
        - n / 2.0 * (2.0 * PI).ln();
    let k = col.sigma.len() as f64;
    let reference_gap = if k < d {
        (d - k) / 2.0 * alpha.ln() / n
    } else {
        0.0
    };
    ColumnFit {
        evidence: evidence / n,
        alpha,
        beta,
        iterations,
        converged,
        reference_gap,
        unbounded: false,
        t_weights: t,
    }
}

/// The ICML 2021 algorithm (You et al., Algorithm 1), step for step.
pub(crate) fn icml_reference(col: &Column<'_>) -> ColumnFit {
    let n = col.n_samples as f64;
    let d = col.n_features as f64;
    let eps = REFERENCE_EPSILON;
    let (mut alpha, mut beta) = (1.0f64, 1.0f64);
    let mut lam = 1.0;
    let mut last = Norms {
        gamma: 0.0,
        m_sq: 0.0,
        residual_sq: 0.0,
    };
    let mut iterations = 0;
    let mut converged = false;
    let mut t_weights = lam;
    for _ in 0..REFERENCE_MAX_ITERATIONS {
        iterations += 1;
        t_weights = alpha / beta;
        last = norms(col, t_weights);
        // γ uses λ, which equals α/β at this point; the norms use the weights of the old α, β.
        last.gamma = col.sigma.iter().map(|&s| s / (s + lam)).sum();
        alpha = last.gamma / (last.m_sq + eps);
        beta = (n - last.gamma) / (last.residual_sq + eps);
        let lam_new = alpha / beta;
        if (lam_new - lam).abs() / lam < 0.01 {
            converged = true;
            break;
        }
        lam = lam_new;
    }
    let log_det = log_det_terms(col, alpha, beta) + col.extra_zero_directions as f64 * alpha.ln();
    let evidence = d / 2.0 * alpha.ln() + n / 2.0 * beta.ln()
        - 0.5 * log_det
        - beta / 2.0 * (last.residual_sq + eps)
        - alpha / 2.0 * (last.m_sq + eps)
        - n / 2.0 * (2.0 * PI).ln();
    ColumnFit {
        evidence: evidence / n,
        alpha,
        beta,
        iterations,
        converged,
        reference_gap: 0.0,
        unbounded: false,
        t_weights,
    }
}

/// Relative size of r₀ below which y counts as lying in the span of the kept directions.
const PERFECT_FIT_TOLERANCE: f64 = 1e-10;

/// The exact maximum evidence, with the full D-term log-determinant and no epsilons.
///
/// With α = tβ the evidence is maximised over β in closed form and MacKay's update is iterated on
/// t from the mean kept eigenvalue (a scale-aware start) until |Δt| ≤ 10⁻¹²·t. Boundary cases:
/// y = 0, or y in the span of k < N directions, make the evidence unbounded (`+inf`, flagged);
/// y orthogonal to every kept direction (or k = 0) puts the maximum at α = ∞ (the weights vanish)
/// and the evidence is that of pure noise.
pub(crate) fn exact(col: &Column<'_>) -> ColumnFit {
    // The exact evidence is invariant under σ → cσ with α → cα: solve on σ / σ_max, which keeps
    // (t + σ)² and its kin far from overflow and underflow at any feature scale.
    let sigma_max = col.sigma.iter().copied().fold(0.0, f64::max);
    if !(sigma_max > 0.0 && sigma_max.is_finite()) || sigma_max == 1.0 {
        return exact_unit_scale(col);
    }
    let scaled: Vec<f64> = col.sigma.iter().map(|s| s / sigma_max).collect();
    let mut fit = exact_unit_scale(&Column {
        sigma: &scaled,
        ..*col
    });
    fit.alpha *= sigma_max;
    fit.t_weights *= sigma_max;
    fit
}

/// [`exact`] on a spectrum whose largest eigenvalue is of order one.
fn exact_unit_scale(col: &Column<'_>) -> ColumnFit {
    let n = col.n_samples as f64;
    let k = col.sigma.len();
    let unbounded = ColumnFit {
        evidence: f64::INFINITY,
        alpha: f64::INFINITY,
        beta: f64::INFINITY,
        iterations: 0,
        converged: true,
        reference_gap: 0.0,
        unbounded: true,
        t_weights: 0.0,
    };
    if col.y_sq == 0.0 || (k < col.n_samples && col.r0 <= PERFECT_FIT_TOLERANCE * col.y_sq) {
        return unbounded;
    }
    let explained: f64 = col.sigma.iter().zip(col.x).map(|(s, x)| s * x * x).sum();
    let noise_only = |iterations: usize| {
        let beta = n / col.y_sq;
        ColumnFit {
            evidence: (n / 2.0 * beta.ln() - n / 2.0 - n / 2.0 * (2.0 * PI).ln()) / n,
            alpha: f64::INFINITY,
            beta,
            iterations,
            converged: true,
            reference_gap: 0.0,
            unbounded: false,
            t_weights: f64::INFINITY,
        }
    };
    if k == 0 || explained == 0.0 {
        return noise_only(0);
    }

    // With k = N directions (F of full row rank) y is fitted exactly for any α, and the
    // supremum may lie at β = ∞: there L(α) = −N/2·ln 2π + N/2·ln α − ½·Σ ln σᵢ − α/2·q with
    // q = Σ xᵢ²/σᵢ = yᵀ(FFᵀ)⁻¹y, maximised at α = N/q.
    let noise_free = (k == col.n_samples && col.r0 == 0.0).then(|| {
        let q: f64 = col.sigma.iter().zip(col.x).map(|(s, x)| x * x / s).sum();
        let alpha = n / q;
        let log_det: f64 = col.sigma.iter().map(|s| s.ln()).sum();
        let evidence = -n / 2.0 * (2.0 * PI).ln() + n / 2.0 * alpha.ln() - 0.5 * log_det - n / 2.0;
        ColumnFit {
            evidence: evidence / n,
            alpha,
            beta: f64::INFINITY,
            iterations: 0,
            converged: true,
            reference_gap: 0.0,
            unbounded: false,
            t_weights: 0.0,
        }
    });
    let sigma_max = col.sigma.iter().copied().fold(0.0, f64::max);
    let mut t = col.sigma.iter().sum::<f64>() / k as f64;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < EXACT_MAX_ITERATIONS {
        iterations += 1;
        let nm = norms(col, t);
        let alpha = nm.gamma / nm.m_sq;
        let beta = (n - nm.gamma) / nm.residual_sq;
        let t_new = alpha / beta;
        if let Some(limit) = noise_free.filter(|_| t_new.is_nan() || t_new <= sigma_max * 1e-14) {
            return ColumnFit {
                iterations,
                ..limit
            };
        }
        if !t_new.is_finite() || t_new > sigma_max * 1e30 {
            return noise_only(iterations);
        }
        let done = (t_new - t).abs() <= EXACT_TOLERANCE * t;
        t = t_new;
        if done {
            converged = true;
            break;
        }
    }

    // Evaluate at the returned α, β (both from the norms at the final t).
    let nm = norms(col, t);
    let beta = (n - nm.gamma) / nm.residual_sq;
    let alpha = t * beta;
    let nm = norms(col, alpha / beta);
    let log_det_rel: f64 = col.sigma.iter().map(|&s| (s / t).ln_1p()).sum();
    let evidence = -0.5 * log_det_rel + n / 2.0 * beta.ln()
        - beta / 2.0 * nm.residual_sq
        - alpha / 2.0 * nm.m_sq
        - n / 2.0 * (2.0 * PI).ln();
    let interior = ColumnFit {
        evidence: evidence / n,
        alpha,
        beta,
        iterations,
        converged,
        reference_gap: 0.0,
        unbounded: false,
        t_weights: t,
    };
    match noise_free {
        Some(limit) if interior.evidence.is_nan() || interior.evidence < limit.evidence => {
            ColumnFit {
                iterations,
                ..limit
            }
        }
        _ => interior,
    }
}
