//! PARC: pairwise annotation representation comparison.
//!
//! Bolya, Mittapalli and Hoffman, "Scalable Diverse Model Selection for Accessible Transfer
//! Learning", NeurIPS 2021 (dbolya/parc `PARC`). With F the features
//! (optionally reduced to k principal components first) and Y the one-hot labels:
//!
//! ```text
//! Z      = StandardScaler(F)               centre each column, divide by its population std
//! R_f    = 1 − corr(Z rows)                N × N, Pearson correlation between samples
//! R_y    = 1 − corr(Y rows)                0 for equal labels, C/(C − 1) otherwise
//! PARC   = 100 · spearman( triu(R_f), triu(R_y) )      strict upper triangles, average ranks
//! ```
//!
//! Columns that are constant up to round-off (the scaler's own test: var ≤ N·ε·var + (N·ε·mean)²)
//! are set to 0, as the scaler leaves them. R_f's N(N − 1)/2 values are sorted once; R_y depends
//! only on the two labels of a pair, so its ranks are counted per class pair. Memory and time
//! are O(N²) (N = 2000 needs about 100 MB).
//!
//! # Label dissimilarities: reference round-off or exact ties
//!
//! Mathematically R_y takes two values, so Spearman's average ranks tie all equal-label pairs
//! and all different-label pairs. The reference computes R_y with `np.corrcoef` on the one-hot
//! rows (width C = max(label) + 1), and the BLAS dot products round differently for different
//! classes: with OpenBLAS's fused multiply-add kernels, the equal-label correlation comes out as
//! 1 for some classes and 1 − 2⁻⁵³ for others, and the different-label one varies by an ulp
//! between class pairs. Those ulps break the ties by class and move PARC by up to 2.4 points
//! (p01 of the fixtures: 59.24 instead of 61.69). [`LabelDissimilarity::Reference`] (the default)
//! recomputes R_y per class pair the way that pipeline rounds it — mean 1/C, centred entries,
//! dot products accumulated with fused multiply-add in class order, scaled by the rounded
//! 1/(C − 1), divided by the two standard deviations in turn, clipped to [−1, 1] — and
//! reproduces the reference on every fixture to 10⁻⁹ (x100 units). [`LabelDissimilarity::Exact`]
//! uses the exact two-valued R_y, the definition of the paper; prefer it when the score itself
//! matters rather than agreement with published numbers. The reference's value also depends on
//! the BLAS it ran with (a kernel without FMA rounds otherwise), which is one more reason the
//! exact ties are the well-defined choice.
//!
//! # PCA
//!
//! With `n_dims = Some(k)` the features are first projected onto their k leading principal
//! components, computed **exactly** from the eigen-decomposition of the centred scatter (FᵀF, or
//! FFᵀ when N < D), with scikit-learn's sign convention (the largest-magnitude loading of each
//! component is positive). Components whose eigenvalue is zero up to round-off (at most
//! max(N, D)·ε of the largest) are set to 0 rather than filled with round-off noise.
//!
//! The reference uses scikit-learn's **randomized** PCA (one power iteration, random_state
//! 1919), an approximation: the exact projection gives a different value. Measured on the
//! fixtures, |exact − reference| is 0.16 on a 400 × 64 input (21.140 vs 20.980, PARC ×100
//! units), 0.024 on 2000 × 128 and 0 where k ≥ the number of informative components; against
//! scikit-learn's exact (`svd_solver="full"`) PCA this module agrees to 10⁻⁹.
//!
//! The reference also fails (scikit-learn raises) when k > D; here k is clamped to min(N, D)
//! and [`ParcResult::n_dims`] reports the number used.
//!
//! # Limitations
//!
//! Time and memory grow as N²: the N × N correlation matrix and the N(N − 1)/2 sorted pairs
//! (about 100 MB and a sort of 2·10⁶ values at N = 2000). Subsample larger datasets. The
//! reference's randomized PCA is not reproduced (see above).

use crate::backend::LinalgBackend;
use crate::error::LogmeError;
use crate::metrics::common::{
    center_columns, check_features_and_labels, column_means, gram, row_gram, symmetric_eigen,
    unscorable, widen,
};
use crate::targets::ClassLabels;
use crate::views::{FeatureMatrix, MatMut, MatView};

/// How the label dissimilarities R_y are computed; see the module docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LabelDissimilarity {
    /// R_y rounded per class pair as the reference's NumPy/OpenBLAS pipeline rounds it, which
    /// splits the tied values by class; reproduces published numbers.
    #[default]
    Reference,
    /// The exact two-valued R_y (0 for equal labels, C/(C − 1) otherwise).
    Exact,
}

/// Options of PARC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ParcOptions {
    /// Reduce the features to this many principal components first (clamped to min(N, D));
    /// `None` scores the features as they are.
    pub n_dims: Option<usize>,
    /// Reference round-off or exact ties in the label dissimilarities.
    pub label_dissimilarity: LabelDissimilarity,
}

/// A PARC value and the number of principal components it used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParcResult {
    /// 100 × the Spearman correlation of the dissimilarities, in [−100, 100].
    pub value: f64,
    /// Principal components used (`min(k, N, D)`), or `None` without PCA.
    pub n_dims: Option<usize>,
}

/// PARC of features on class labels, optionally after an exact PCA.
///
/// # Errors
/// [`LogmeError::TooFewSamples`], [`LogmeError::NoFeatures`], [`LogmeError::LengthMismatch`],
/// [`LogmeError::NonFiniteFeature`], [`LogmeError::Backend`], [`LogmeError::InvalidArgument`]
/// for `n_dims = Some(0)`, and [`LogmeError::Unscorable`] with fewer than two classes, when a
/// sample's standardized features are constant (its correlation is undefined), when every class
/// has a single sample, or when all dissimilarities are equal.
pub fn parc<B: LinalgBackend + ?Sized>(
    backend: &B,
    features: FeatureMatrix<'_>,
    labels: &ClassLabels,
    options: &ParcOptions,
) -> Result<ParcResult, LogmeError> {
    let counts = check_features_and_labels("parc", &features, labels)?;
    let n_dims = options.n_dims;
    if n_dims == Some(0) {
        return Err(LogmeError::InvalidArgument(
            "PARC was asked for 0 principal components; pass at least 1 or none".into(),
        ));
    }
    let n = features.n_samples();
    let mut d = features.n_features();
    let mut x = widen(&features);
    let used_dims = n_dims.map(|k| k.min(n).min(d));
    if let Some(k) = used_dims {
        x = pca_scores(backend, &x, n, d, k)?;
        d = k;
    }

    standardize_columns(&mut x, n, d);
    let normalized = normalize_rows(&x, d).map_err(|row_idx| {
        unscorable(
            "parc",
            format!(
                "the standardized features of sample {row_idx} are all equal, so its correlation \
                 with other samples is undefined; pass features with at least two informative \
                 columns"
            ),
        )
    })?;
    let correlation = row_gram(backend, &normalized, n, d);
    drop(normalized);

    // Label dissimilarity levels per ordered class pair (first sample's class, second's).
    let present: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] > 0).collect();
    let mut compact = vec![0u32; counts.len()];
    for (idx, &c) in present.iter().enumerate() {
        compact[c] = idx as u32;
    }
    let (level_of_pair, level_values) =
        label_levels(&present, labels.n_classes(), options.label_dissimilarity);
    let n_present = present.len();

    // Strict upper triangle of R_f, each value tagged with its label-dissimilarity level.
    let ids = labels.ids();
    let mut pairs: Vec<(f64, u32)> = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        let row_level = compact[ids[i] as usize] as usize * n_present;
        for j in i + 1..n {
            // The correlation matrix is symmetric; read it from its lower triangle (j, i).
            let r = correlation[j * n + i].clamp(-1.0, 1.0);
            let level = level_of_pair[row_level + compact[ids[j] as usize] as usize];
            pairs.push((1.0 - r, level));
        }
    }
    drop(correlation);
    let rho = spearman_against_levels(&mut pairs, &level_values).ok_or_else(|| {
        unscorable(
            "parc",
            "the label dissimilarities or the feature dissimilarities are all equal (every class \
             has one sample, or every sample has the same correlation profile), so their rank \
             correlation is undefined"
                .into(),
        )
    })?;
    Ok(ParcResult {
        value: 100.0 * rho,
        n_dims: used_dims,
    })
}

/// The level of every ordered pair of present classes (`[P, P]`, row-major) and the R_y value
/// of every level.
fn label_levels(
    present: &[usize],
    n_classes: usize,
    mode: LabelDissimilarity,
) -> (Vec<u32>, Vec<f64>) {
    let n_present = present.len();
    let mut values = Vec::with_capacity(n_present * n_present);
    match mode {
        LabelDissimilarity::Exact => {
            for a in 0..n_present {
                for b in 0..n_present {
                    values.push(if a == b { 0.0 } else { 1.0 });
                }
            }
        }
        LabelDissimilarity::Reference => {
            // Centred one-hot entries: 1 − 1/C on the label, −1/C elsewhere.
            let mean = 1.0 / n_classes as f64;
            let entry = |class: usize, k: usize| if k == class { 1.0 - mean } else { 0.0 - mean };
            let scale = 1.0 / (n_classes as f64 - 1.0);
            let covariance = |a: usize, b: usize| {
                let mut acc = 0.0f64;
                for k in 0..n_classes {
                    acc = entry(a, k).mul_add(entry(b, k), acc);
                }
                acc * scale
            };
            let std: Vec<f64> = present.iter().map(|&c| covariance(c, c).sqrt()).collect();
            for (a, &class_a) in present.iter().enumerate() {
                for (b, &class_b) in present.iter().enumerate() {
                    let r = (covariance(class_a, class_b) / std[a] / std[b]).clamp(-1.0, 1.0);
                    values.push(1.0 - r);
                }
            }
        }
    }

    // Distinct values become levels.
    let mut distinct = values.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let levels = values
        .iter()
        .map(|v| distinct.partition_point(|d| d < v) as u32)
        .collect();
    (levels, distinct)
}

/// Scores on the `k` leading principal components: `[N, k]` row-major.
fn pca_scores<B: LinalgBackend + ?Sized>(
    backend: &B,
    x: &[f64],
    n: usize,
    d: usize,
    k: usize,
) -> Result<Vec<f64>, LogmeError> {
    let mut centred = x.to_vec();
    let means = column_means(&centred, n, d);
    center_columns(&mut centred, &means);

    // Loadings W (D × k, column-major): leading eigenvectors of FᵀF, or Fᵀu/σ from FFᵀ.
    let mut loadings = vec![0.0; d * k];
    let mut kept = vec![false; k];
    if d <= n {
        let eigen = symmetric_eigen(backend, &gram(backend, &centred, n, d), d)?;
        let threshold = eigen.largest_abs() * n.max(d) as f64 * f64::EPSILON;
        for comp in 0..k {
            let idx = d - 1 - comp;
            if eigen.values[idx] > threshold {
                kept[comp] = true;
                loadings[comp * d..(comp + 1) * d].copy_from_slice(eigen.vector(idx));
            }
        }
    } else {
        let eigen = symmetric_eigen(backend, &row_gram(backend, &centred, n, d), n)?;
        let threshold = eigen.largest_abs() * n.max(d) as f64 * f64::EPSILON;
        let mut left = vec![0.0; n * k];
        for comp in 0..k {
            let idx = n - 1 - comp;
            let lambda = eigen.values[idx];
            if lambda > threshold {
                kept[comp] = true;
                let inv_sigma = 1.0 / lambda.sqrt();
                for (l, u) in left[comp * n..(comp + 1) * n]
                    .iter_mut()
                    .zip(eigen.vector(idx))
                {
                    *l = u * inv_sigma;
                }
            }
        }
        backend.gemm_tn(
            MatView::row_major(&centred, n, d),
            MatView::col_major(&left, n, k),
            MatMut::col_major(&mut loadings, d, k),
        );
    }

    // Sign convention: the largest-magnitude loading of each component is positive.
    for comp in (0..k).filter(|&c| kept[c]) {
        let column = &mut loadings[comp * d..(comp + 1) * d];
        let mut best = 0;
        for (idx, v) in column.iter().enumerate() {
            if v.abs() > column[best].abs() {
                best = idx;
            }
        }
        if column[best] < 0.0 {
            for v in column.iter_mut() {
                *v = -*v;
            }
        }
    }

    let mut scores = vec![0.0; n * k];
    backend.gemm(
        MatView::row_major(&centred, n, d),
        MatView::col_major(&loadings, d, k),
        MatMut::row_major(&mut scores, n, k),
    );
    Ok(scores)
}

/// Centres every column and divides it by its population standard deviation; columns that are
/// constant up to round-off become 0.
fn standardize_columns(x: &mut [f64], n: usize, d: usize) {
    let means = column_means(x, n, d);
    let mut variances = vec![0.0; d];
    for row in x.chunks_exact(d) {
        for ((s, v), m) in variances.iter_mut().zip(row).zip(&means) {
            *s += (v - m) * (v - m);
        }
    }
    let n_f = n as f64;
    let scales: Vec<f64> = variances
        .iter()
        .zip(&means)
        .map(|(s, m)| {
            let var = s / n_f;
            let bound = n_f * f64::EPSILON * var + (n_f * m * f64::EPSILON).powi(2);
            if var <= bound { 0.0 } else { 1.0 / var.sqrt() }
        })
        .collect();
    for row in x.chunks_exact_mut(d) {
        for ((v, m), s) in row.iter_mut().zip(&means).zip(&scales) {
            *v = if *s == 0.0 { 0.0 } else { (*v - m) * s };
        }
    }
}

/// Centres every row over its columns and scales it to unit norm; `Err(row)` for a constant row.
fn normalize_rows(x: &[f64], d: usize) -> Result<Vec<f64>, usize> {
    let mut out = x.to_vec();
    for (row_idx, row) in out.chunks_exact_mut(d).enumerate() {
        let mean = row.iter().sum::<f64>() / d as f64;
        for v in row.iter_mut() {
            *v -= mean;
        }
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Err(row_idx);
        }
        for v in row.iter_mut() {
            *v /= norm;
        }
    }
    Ok(out)
}

/// Spearman's ρ between `pairs[..].0` and the level values `level_values[pairs[..].1]`
/// (increasing), with average ranks for ties on both sides. Sorts `pairs` by value.
///
/// `None` when either side is constant.
fn spearman_against_levels(pairs: &mut [(f64, u32)], level_values: &[f64]) -> Option<f64> {
    let m = pairs.len();
    let mean_rank = (m as f64 + 1.0) / 2.0;

    // Ranks of the levels: levels are sorted and distinct, so each is one tie group.
    let mut level_counts = vec![0usize; level_values.len()];
    for p in pairs.iter() {
        level_counts[p.1 as usize] += 1;
    }
    let mut level_ranks = vec![0.0; level_values.len()];
    let mut below = 0;
    for (rank, &count) in level_ranks.iter_mut().zip(&level_counts) {
        *rank = (2 * below + count + 1) as f64 / 2.0 - mean_rank;
        below += count;
    }
    let level_spread: f64 = level_ranks
        .iter()
        .zip(&level_counts)
        .map(|(r, &c)| c as f64 * r * r)
        .sum();
    if level_spread == 0.0 {
        return None;
    }

    // Average ranks of the values, centred; their spread and their sum per level.
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut spread = 0.0;
    let mut level_sums = vec![0.0; level_values.len()];
    let mut start = 0;
    while start < m {
        let value = pairs[start].0;
        let len = pairs[start..].iter().take_while(|p| p.0 == value).count();
        let centred = (2 * start + len + 1) as f64 / 2.0 - mean_rank;
        spread += len as f64 * centred * centred;
        for p in &pairs[start..start + len] {
            level_sums[p.1 as usize] += centred;
        }
        start += len;
    }
    if spread == 0.0 {
        return None;
    }
    let covariance: f64 = level_ranks
        .iter()
        .zip(&level_sums)
        .map(|(r, s)| r * s)
        .sum();
    Some(covariance / (spread * level_spread).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spearman with average ranks, computed the long way.
    fn spearman_reference(x: &[f64], y: &[f64]) -> f64 {
        fn ranks(v: &[f64]) -> Vec<f64> {
            v.iter()
                .map(|a| {
                    let below = v.iter().filter(|b| *b < a).count() as f64;
                    let equal = v.iter().filter(|b| *b == a).count() as f64;
                    below + (equal + 1.0) / 2.0
                })
                .collect()
        }
        let (rx, ry) = (ranks(x), ranks(y));
        let mx = rx.iter().sum::<f64>() / rx.len() as f64;
        let my = ry.iter().sum::<f64>() / ry.len() as f64;
        let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
        let vx: f64 = rx.iter().map(|a| (a - mx) * (a - mx)).sum();
        let vy: f64 = ry.iter().map(|b| (b - my) * (b - my)).sum();
        cov / (vx * vy).sqrt()
    }

    #[test]
    fn level_spearman_matches_the_long_way_with_ties() {
        let values = [0.3, 0.1, 0.3, 0.9, 0.5, 0.1, 0.7, 0.3, 0.2];
        let levels = [0u32, 0, 1, 2, 0, 1, 2, 0, 1];
        let level_values = [0.0, 1.5, 1.5000000000000002];
        let mut pairs: Vec<(f64, u32)> = values.iter().copied().zip(levels).collect();
        let got = spearman_against_levels(&mut pairs, &level_values).unwrap();
        let y: Vec<f64> = levels.iter().map(|l| level_values[*l as usize]).collect();
        let expected = spearman_reference(&values, &y);
        assert!((got - expected).abs() < 1e-14, "{got} vs {expected}");
    }

    #[test]
    fn constant_sides_are_undefined() {
        let mut pairs = vec![(0.1, 0), (0.2, 0)];
        assert_eq!(spearman_against_levels(&mut pairs, &[0.0, 1.0]), None);
        let mut pairs = vec![(0.1, 0), (0.1, 1)];
        assert_eq!(spearman_against_levels(&mut pairs, &[0.0, 1.0]), None);
    }
}
