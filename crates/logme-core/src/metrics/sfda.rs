//! SFDA: self-challenging Fisher discriminant analysis.
//!
//! Shao, Zhao, Gong, Wang, Li, Zhang and Xu, "Not All Models Are Equal: Predicting Model
//! Transferability in a Self-challenging Fisher Space", ECCV 2022 (TencentARC/SFDA
//! `SFDA_Score`). With classes c = the labels that occur, priors π_c = n_c/N, class means m_c
//! and x̄ the features:
//!
//! ```text
//! S_w       = Σ_c π_c · (1/n_c) Σ_{n∈c} (xₙ − m_c)(xₙ − m_c)ᵀ        within-class covariance
//! λ̂         = 3 power iterations on S_w from its row sums:
//!             u = S_w·1; 3×: w = S_w u/‖S_w u‖, u = S_w w/‖S_w w‖;  λ̂ = uᵀ S_w w
//! λ         = max(exp(−5·λ̂), 10⁻¹⁰)
//! S_w'      = (1 − λ)·S_w + λ·(tr S_w / D)·I
//! sₙ_c      = xₙ·a_c − ½ m_c·a_c + ln π_c,     a_c = S_w'⁻¹ m_c          LDA scores
//! pₙ        = softmax(sₙ);  p'ₙ = softmax(pₙ)                            second softmax
//! x̃ₙ        = p'ₙ,yₙ · xₙ + (1 − p'ₙ,yₙ) · m̄₋yₙ,   m̄₋c = mean of the other classes' means
//! SFDA      = (1/N) Σₙ p̃ₙ,yₙ       p̃ = softmax of the LDA refitted on x̃ with the same λ
//! ```
//!
//! The reference solves the generalized eigenproblem (S_t' − S_w') v = ℓ S_w' v and keeps all D
//! eigenvectors, so its coefficients M·V·Vᵀ equal M·S_w'⁻¹: the classifier is LDA with the
//! shrunk within-class covariance, and the total covariance and the eigenvalues play no part.
//! This port forms S_w'⁻¹ from one symmetric eigen-decomposition instead. λ depends on the
//! feature scale and is about 10⁻¹⁰ for ordinary features, so S_w' can be nearly singular; with
//! N < D the score is 1 (every class separates perfectly). The score is a mean probability in
//! (0, 1], no logarithm.
//!
//! # Differences from the reference
//!
//! - The reference writes the mixed features x̃ into its argument; here the input is never
//!   modified.
//! - The reference needs labels exactly 0..C−1: with a gap its class loop compares re-indexed
//!   ids with original ones, a class gets no rows and it fails (scipy: "array must not contain
//!   infs or NaNs"). Here the labels that occur are mapped, in increasing order, onto 0..C−1
//!   first, which gives the reference's value on the relabelled input;
//!   [`SfdaResult::labels_remapped`] reports it.
//!
//! # Limitations
//!
//! The shrinkage λ = exp(−5·λ̂) depends on the scale of the features (rescaling them changes the
//! score), and with λ near 10⁻¹⁰ the shrunk covariance can have a condition number near 10¹⁰, so
//! scores of nearly separable classes saturate at 1; both are properties of the method, kept to
//! match the reference (agreement ≤ 2·10⁻¹⁰ on the fixtures).

use crate::backend::LinalgBackend;
use crate::error::LogmeError;
use crate::metrics::common::{check_features_and_labels, gram, symmetric_eigen, unscorable, widen};
use crate::targets::ClassLabels;
use crate::views::{FeatureMatrix, MatMut, MatView};

/// The floor on the adaptive shrinkage λ.
pub const SFDA_MIN_SHRINKAGE: f64 = 1e-10;

/// Power iterations used to estimate the largest eigenvalue of S_w.
pub const SFDA_POWER_ITERATIONS: usize = 3;

/// An SFDA score with the shrinkage it used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SfdaResult {
    /// Mean probability of the true class after the self-challenging refit, in (0, 1].
    pub value: f64,
    /// The adaptive shrinkage λ used in both fits.
    pub shrinkage: f64,
    /// Whether the labels had gaps and were mapped onto 0..C−1.
    pub labels_remapped: bool,
}

/// SFDA of features on class labels; the classes are the labels that occur.
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::NoFeatures`], [`LogmeError::LengthMismatch`],
/// [`LogmeError::NonFiniteFeature`], [`LogmeError::Backend`], and [`LogmeError::Unscorable`]
/// with fewer than two classes or when the shrunk within-class covariance is not positive
/// definite (all features constant within every class).
pub fn sfda<B: LinalgBackend + ?Sized>(
    backend: &B,
    features: FeatureMatrix<'_>,
    labels: &ClassLabels,
) -> Result<SfdaResult, LogmeError> {
    let counts = check_features_and_labels("sfda", &features, labels)?;
    let (n, d) = (features.n_samples(), features.n_features());

    // Contiguous class ids over the labels that occur.
    let mut contiguous = vec![u32::MAX; counts.len()];
    let mut class_counts = Vec::new();
    for (id, &count) in counts.iter().enumerate() {
        if count > 0 {
            contiguous[id] = class_counts.len() as u32;
            class_counts.push(count);
        }
    }
    let labels_remapped = class_counts.len() != counts.len();
    let ids: Vec<u32> = labels
        .ids()
        .iter()
        .map(|&id| contiguous[id as usize])
        .collect();
    let n_classes = class_counts.len();
    let log_priors: Vec<f64> = class_counts
        .iter()
        .map(|&c| (c as f64 / n as f64).ln())
        .collect();

    // First fit: adaptive shrinkage, LDA probabilities, then the softening second softmax.
    let x = widen(&features);
    let first = Lda::fit(backend, &x, n, d, &ids, &class_counts, &log_priors, None)?;
    let mut probs = first.probabilities(backend, &x, n);
    for row in probs.chunks_exact_mut(n_classes) {
        softmax_in_place(row);
    }

    // ConfMix: pull each sample towards the mean of the other classes' means.
    let mut mean_sum = vec![0.0; d];
    for mean in first.means.chunks_exact(d) {
        for (s, m) in mean_sum.iter_mut().zip(mean) {
            *s += m;
        }
    }
    let others: Vec<f64> = first
        .means
        .chunks_exact(d)
        .flat_map(|mean| {
            mean_sum
                .iter()
                .zip(mean)
                .map(|(s, m)| (s - m) / (n_classes - 1) as f64)
        })
        .collect();
    let mut mixed = x;
    for (row_idx, row) in mixed.chunks_exact_mut(d).enumerate() {
        let class_idx = ids[row_idx] as usize;
        let weight = probs[row_idx * n_classes + class_idx];
        for (v, o) in row
            .iter_mut()
            .zip(&others[class_idx * d..(class_idx + 1) * d])
        {
            *v = weight * *v + (1.0 - weight) * o;
        }
    }

    // Second fit with the same shrinkage; the score is the mean true-class probability.
    let second = Lda::fit(
        backend,
        &mixed,
        n,
        d,
        &ids,
        &class_counts,
        &log_priors,
        Some(first.shrinkage),
    )?;
    let probs = second.probabilities(backend, &mixed, n);
    let total: f64 = ids
        .iter()
        .enumerate()
        .map(|(row_idx, &c)| probs[row_idx * n_classes + c as usize])
        .sum();
    Ok(SfdaResult {
        value: total / n as f64,
        shrinkage: first.shrinkage,
        labels_remapped,
    })
}

/// A fitted LDA with shrunk within-class covariance.
struct Lda {
    n_classes: usize,
    n_features: usize,
    /// Class means `[C, D]`.
    means: Vec<f64>,
    /// Coefficients a_c = S_w'⁻¹ m_c, `[C, D]`.
    coef: Vec<f64>,
    /// −½ m_c·a_c + ln π_c.
    intercept: Vec<f64>,
    shrinkage: f64,
}

impl Lda {
    #[allow(clippy::too_many_arguments)]
    fn fit<B: LinalgBackend + ?Sized>(
        backend: &B,
        x: &[f64],
        n: usize,
        d: usize,
        ids: &[u32],
        class_counts: &[usize],
        log_priors: &[f64],
        shrinkage: Option<f64>,
    ) -> Result<Self, LogmeError> {
        let n_classes = class_counts.len();

        // Class means and the within-class covariance (1/N)·Σₙ (xₙ − m_yₙ)(xₙ − m_yₙ)ᵀ.
        let mut means = vec![0.0; n_classes * d];
        for (row, &c) in x.chunks_exact(d).zip(ids) {
            for (m, v) in means[c as usize * d..(c as usize + 1) * d]
                .iter_mut()
                .zip(row)
            {
                *m += v;
            }
        }
        for (mean, &count) in means.chunks_exact_mut(d).zip(class_counts) {
            for m in mean.iter_mut() {
                *m /= count as f64;
            }
        }
        let mut within = x.to_vec();
        for (row, &c) in within.chunks_exact_mut(d).zip(ids) {
            for (v, m) in row
                .iter_mut()
                .zip(&means[c as usize * d..(c as usize + 1) * d])
            {
                *v -= m;
            }
        }
        let mut s_w = gram(backend, &within, n, d);
        drop(within);
        for v in &mut s_w {
            *v /= n as f64;
        }

        // Adaptive shrinkage from a few power iterations, unless given.
        let shrinkage = match shrinkage {
            Some(s) => s,
            None => {
                let largest = power_iteration(&s_w, d, SFDA_POWER_ITERATIONS);
                (-5.0 * largest).exp().max(SFDA_MIN_SHRINKAGE)
            }
        };
        let trace_mean = (0..d).map(|i| s_w[i * d + i]).sum::<f64>() / d as f64;
        for v in &mut s_w {
            *v *= 1.0 - shrinkage;
        }
        for i in 0..d {
            s_w[i * d + i] += shrinkage * trace_mean;
        }

        // coef = M·S_w'⁻¹ = ((M·V)·Λ⁻¹)·Vᵀ.
        let eigen = symmetric_eigen(backend, &s_w, d)?;
        if let Some(bad) = eigen.values.iter().find(|l| **l <= 0.0 || l.is_nan()) {
            return Err(unscorable(
                "sfda",
                format!(
                    "the shrunk within-class covariance has eigenvalue {bad:e}, so it cannot be \
                     inverted; the features are constant within every class"
                ),
            ));
        }
        let vectors = MatView::col_major(&eigen.vectors, d, d);
        let mut projected = vec![0.0; n_classes * d];
        backend.gemm(
            MatView::row_major(&means, n_classes, d),
            vectors,
            MatMut::row_major(&mut projected, n_classes, d),
        );
        for row in projected.chunks_exact_mut(d) {
            for (p, l) in row.iter_mut().zip(&eigen.values) {
                *p /= l;
            }
        }
        let mut coef = vec![0.0; n_classes * d];
        backend.gemm(
            MatView::row_major(&projected, n_classes, d),
            vectors.transpose(),
            MatMut::row_major(&mut coef, n_classes, d),
        );
        let intercept = means
            .chunks_exact(d)
            .zip(coef.chunks_exact(d))
            .zip(log_priors)
            .map(|((m, a), lp)| -0.5 * m.iter().zip(a).map(|(p, q)| p * q).sum::<f64>() + lp)
            .collect();
        Ok(Self {
            n_classes,
            n_features: d,
            means,
            coef,
            intercept,
            shrinkage,
        })
    }

    /// Softmax of the LDA scores, `[N, C]` row-major.
    fn probabilities<B: LinalgBackend + ?Sized>(
        &self,
        backend: &B,
        x: &[f64],
        n: usize,
    ) -> Vec<f64> {
        let (c, d) = (self.n_classes, self.n_features);
        let mut logits = vec![0.0; n * c];
        backend.gemm(
            MatView::row_major(x, n, d),
            MatView::row_major(&self.coef, c, d).transpose(),
            MatMut::row_major(&mut logits, n, c),
        );
        for row in logits.chunks_exact_mut(c) {
            for (v, b) in row.iter_mut().zip(&self.intercept) {
                *v += b;
            }
            softmax_in_place(row);
        }
        logits
    }
}

/// λ̂ = uᵀ A w after `iterations` rounds of w = Au/‖Au‖, u = Aw/‖Aw‖ from u = A·1.
fn power_iteration(a: &[f64], d: usize, iterations: usize) -> f64 {
    let mat_vec = |v: &[f64]| -> Vec<f64> {
        a.chunks_exact(d)
            .map(|row| row.iter().zip(v).map(|(p, q)| p * q).sum())
            .collect()
    };
    let normalized = |v: Vec<f64>| -> Vec<f64> {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.into_iter().map(|x| x / norm).collect()
    };
    let mut u: Vec<f64> = a.chunks_exact(d).map(|row| row.iter().sum()).collect();
    let mut w = u.clone();
    for _ in 0..iterations {
        w = normalized(mat_vec(&u));
        u = normalized(mat_vec(&w));
    }
    let a_w = mat_vec(&w);
    u.iter().zip(&a_w).map(|(p, q)| p * q).sum()
}

/// Numerically stable softmax of one row.
fn softmax_in_place(row: &mut [f64]) {
    let max = row.iter().fold(f64::NEG_INFINITY, |acc, v| acc.max(*v));
    let mut total = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        total += *v;
    }
    for v in row.iter_mut() {
        *v /= total;
    }
}
