//! GBC: the Gaussian Bhattacharyya coefficient between classes.
//!
//! Pándy, Agostinelli, Uijlings, Ferrari and Mensink, "Transferability Estimation using
//! Bhattacharyya Class Separability", CVPR 2022 (google-research `get_gbc_score`). Each class
//! that occurs is modelled as a Gaussian with mean μ_c and per-dimension population variance
//! v_c = max(var_c, 10⁻⁴) (floored). For two classes a, b with v̄ = (v_a + v_b)/2:
//!
//! ```text
//! D_B(a, b) = (1/8) · Σ_d (μ_a − μ_b)_d² / v̄_d
//!           + ½ · [ Σ_d ln v̄_d − ½ Σ_d ln v_a,d − ½ Σ_d ln v_b,d ]
//! GBC       = − Σ_{a ≠ b} exp(−D_B(a, b))          over ordered pairs: each pair counts twice
//! ```
//!
//! With [`GbcKind::Spherical`] each class's floored variance vector is averaged to one scalar
//! v_c; the mean term divides by it and the log term is ln v̄ − ½ ln v_a − ½ ln v_b, **not**
//! multiplied by D as the true isotropic distance would be. That is what the reference
//! computes, and it is kept to reproduce its values.
//!
//! GBC ∈ [−C(C − 1), 0] for C classes; values closer to 0 mean better separated classes. The
//! paper reduces the features with PCA first; this function scores the features it is given
//! (reduce them beforehand to follow the paper). No linear algebra is needed. All-zero columns
//! simply hit the variance floor, and a class with one sample has variance 0 before the floor,
//! so every input with two or more classes is scorable.

use crate::error::LogmeError;
use crate::metrics::common::{check_features_and_labels, widen};
use crate::targets::ClassLabels;
use crate::views::FeatureMatrix;

/// The floor on every per-dimension class variance.
pub const GBC_VARIANCE_FLOOR: f64 = 1e-4;

/// The covariance model of each class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GbcKind {
    /// A variance per dimension (diagonal covariance).
    Diagonal,
    /// One variance per class: the mean of its floored per-dimension variances.
    Spherical,
}

/// GBC of features on class labels; the classes are the labels that occur.
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::NoFeatures`], [`LogmeError::LengthMismatch`],
/// [`LogmeError::NonFiniteFeature`], [`LogmeError::Unscorable`] with fewer than two classes.
pub fn gbc(
    features: FeatureMatrix<'_>,
    labels: &ClassLabels,
    kind: GbcKind,
) -> Result<f64, LogmeError> {
    let metric = match kind {
        GbcKind::Diagonal => "gbc-diagonal",
        GbcKind::Spherical => "gbc-spherical",
    };
    let counts = check_features_and_labels(metric, &features, labels)?;
    let d = features.n_features();
    let x = widen(&features);
    let present: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] > 0).collect();

    // Per class: mean and floored population variance (two passes over the class's rows).
    let mut means = vec![0.0; counts.len() * d];
    for (row, &id) in x.chunks_exact(d).zip(labels.ids()) {
        for (m, v) in means[id as usize * d..(id as usize + 1) * d]
            .iter_mut()
            .zip(row)
        {
            *m += v;
        }
    }
    for &c in &present {
        for m in &mut means[c * d..(c + 1) * d] {
            *m /= counts[c] as f64;
        }
    }
    let mut variances = vec![0.0; counts.len() * d];
    for (row, &id) in x.chunks_exact(d).zip(labels.ids()) {
        let c = id as usize;
        let mean = &means[c * d..(c + 1) * d];
        for ((s, v), m) in variances[c * d..(c + 1) * d].iter_mut().zip(row).zip(mean) {
            *s += (v - m) * (v - m);
        }
    }
    for &c in &present {
        for s in &mut variances[c * d..(c + 1) * d] {
            *s = (*s / counts[c] as f64).max(GBC_VARIANCE_FLOOR);
        }
    }

    // Log-variance sums per class: over dimensions (diagonal) or of the averaged scalar.
    let spherical: Vec<f64> = (0..counts.len())
        .map(|c| variances[c * d..(c + 1) * d].iter().sum::<f64>() / d as f64)
        .collect();
    let log_sums: Vec<f64> = (0..counts.len())
        .map(|c| match kind {
            GbcKind::Diagonal => variances[c * d..(c + 1) * d].iter().map(|v| v.ln()).sum(),
            GbcKind::Spherical => spherical[c].ln(),
        })
        .collect();

    // −Σ over ordered pairs = −2 Σ over unordered pairs (the distance is symmetric).
    let mut total = 0.0;
    for (i, &a) in present.iter().enumerate() {
        for &b in &present[i + 1..] {
            let (mean_a, mean_b) = (&means[a * d..(a + 1) * d], &means[b * d..(b + 1) * d]);
            let distance = match kind {
                GbcKind::Diagonal => {
                    let (var_a, var_b) = (
                        &variances[a * d..(a + 1) * d],
                        &variances[b * d..(b + 1) * d],
                    );
                    let mut mahalanobis = 0.0;
                    let mut log_avg = 0.0;
                    for dim in 0..d {
                        let avg = 0.5 * (var_a[dim] + var_b[dim]);
                        let diff = mean_a[dim] - mean_b[dim];
                        mahalanobis += diff * diff / avg;
                        log_avg += avg.ln();
                    }
                    mahalanobis / 8.0 + 0.5 * (log_avg - 0.5 * log_sums[a] - 0.5 * log_sums[b])
                }
                GbcKind::Spherical => {
                    let avg = 0.5 * (spherical[a] + spherical[b]);
                    let sq_dist: f64 = mean_a
                        .iter()
                        .zip(mean_b)
                        .map(|(p, q)| (p - q) * (p - q))
                        .sum();
                    sq_dist / avg / 8.0 + 0.5 * (avg.ln() - 0.5 * log_sums[a] - 0.5 * log_sums[b])
                }
            };
            total += 2.0 * (-distance).exp();
        }
    }
    Ok(-total)
}
