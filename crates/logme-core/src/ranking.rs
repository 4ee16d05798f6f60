//! Rank correlations between transferability scores and measured transfer accuracies.
//!
//! A transferability score is judged by how well it orders a set of candidate models: each model
//! i gets a score sᵢ (from LogME or a peer) and, after fine-tuning, a measured accuracy aᵢ. This
//! module compares the two orderings. Every correlation lies in [−1, 1]; 1 means the score orders
//! the models exactly as the accuracies do. The values agree with `scipy.stats` (`weightedtau`,
//! `kendalltau`, `spearmanr`, `pearsonr` with default arguments) to round-off.
//!
//! # Weighted τ
//!
//! The headline statistic is Kendall's τ in which a swap near the top costs more than one near
//! the bottom (Vigna 2015, "A weighted correlation index for rankings with ties", WWW '15). You et
//! al. (2022, "Ranking and tuning pre-trained models: a new paradigm for exploiting model hubs",
//! JMLR 23) judge transferability scores by it. Write x for the scores and y for the accuracies.
//! For one direction, order the models decreasingly by (x, y), lexicographically; model i sits at
//! place rᵢ ∈ {0, …, n−1} and weighs wᵢ = 1/(rᵢ + 1). A pair {i, j} weighs wᵢ + wⱼ.
//! Summing pair weights over
//!
//! ```text
//! all pairs                               → T
//! pairs tied in x                         → Tₓ
//! pairs tied in y                         → T_y
//! pairs tied in both                      → Tₓᵧ
//! discordant pairs, (xᵢ − xⱼ)(yᵢ − yⱼ) < 0  → D
//!
//! τ_w(x, y) = (T − Tₓ − T_y + Tₓᵧ − 2D) / √((T − Tₓ)(T − T_y))
//! τ_w       = (τ_w(x, y) + τ_w(y, x)) / 2
//! ```
//!
//! where τ_w(y, x) places the models by (y, x) instead. The numerator is the weight of concordant
//! pairs minus that of discordant ones. Models tied in both x and y take consecutive places in
//! some fixed order; they are interchangeable in every sum, so that order does not change τ_w.
//!
//! # Kendall's τ-b, Spearman's ρ, Pearson's r
//!
//! ```text
//! τ_b = (n_c − n_d) / √((n₀ − nₓ)(n₀ − n_y))       n₀ = n(n − 1)/2
//! r   = Σ (xᵢ − x̄)(yᵢ − ȳ) / √(Σ (xᵢ − x̄)² · Σ (yᵢ − ȳ)²)
//! ρ   = r(rank(x), rank(y))
//! ```
//!
//! n_c and n_d count concordant and discordant pairs, nₓ and n_y the pairs tied in x and in y.
//! rank gives 1 to the smallest value and tied values the mean of the ranks they span.
//!
//! # Top-k recall and top-1 regret
//!
//! ```text
//! recall@k = |top-k by score ∩ top-k by accuracy| / k
//! regret   = maxᵢ aᵢ − a_first,   first = the model with the highest score
//! ```
//!
//! Ties in score are broken against the score: among models with equal scores, the less accurate
//! one is taken first, so a score that cannot tell models apart gets no credit for a lucky input
//! order. Models with equal accuracy are interchangeable when recall compares the two sets. Every
//! statistic here therefore depends only on the (score, accuracy) pairs, not on their order.
//!
//! # Undefined values
//!
//! When all scores are equal, or all accuracies are, the correlations are undefined (the
//! denominators vanish); the functions return `None` for them, never NaN. Recall and regret are
//! always defined.
//!
//! # Limitations
//!
//! The pair statistics visit all n(n − 1)/2 pairs. That is instant for the tens to thousands of
//! models a ranking study compares; 10⁴ models mean 5·10⁷ pair visits.
//!
//! # Example
//!
//! ```
//! use logme_core::ranking;
//!
//! let scores = [0.62, 0.15, 0.91, 0.44, 0.30];
//! let accuracies = [71.2, 60.5, 80.1, 74.9, 58.3];
//! let report = ranking::all(&scores, &accuracies)?;
//! assert!((report.weighted_tau.unwrap() - 0.718978102189781).abs() < 1e-12);
//! assert!((report.kendall_tau.unwrap() - 0.6).abs() < 1e-12);
//! assert_eq!(report.top1_regret, 0.0);
//! # Ok::<(), logme_core::LogmeError>(())
//! ```

use std::cmp::Ordering;

use crate::error::LogmeError;

/// How well one transferability score ranks a set of models, against their measured accuracies.
///
/// Each correlation is `None` when it is undefined because all scores or all accuracies are
/// equal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankCorrelations {
    /// Weighted τ with hyperbolic weights, averaged over both orders; see [`weighted_tau`].
    pub weighted_tau: Option<f64>,
    /// Kendall's τ-b; see [`kendall_tau_b`].
    pub kendall_tau: Option<f64>,
    /// Spearman's ρ; see [`spearman`].
    pub spearman: Option<f64>,
    /// Pearson's r on the raw values; see [`pearson`].
    pub pearson: Option<f64>,
    /// Best accuracy minus the accuracy of the top-scored model; see [`top1_regret`].
    pub top1_regret: f64,
}

/// Every statistic of [`RankCorrelations`] for one score vector, validating the input once.
///
/// `scores[i]` and `accuracies[i]` belong to the same model.
///
/// # Errors
///
/// [`LogmeError::InvalidArgument`] if the lengths differ, there are fewer than 2 models, or a
/// value is NaN or infinite.
pub fn all(scores: &[f64], accuracies: &[f64]) -> Result<RankCorrelations, LogmeError> {
    validate(scores, accuracies)?;
    Ok(RankCorrelations {
        weighted_tau: weighted_tau_unchecked(scores, accuracies),
        kendall_tau: kendall_tau_b_unchecked(scores, accuracies),
        spearman: spearman_unchecked(scores, accuracies),
        pearson: pearson_unchecked(scores, accuracies),
        top1_regret: top1_regret_unchecked(scores, accuracies),
    })
}

/// Weighted τ with additive hyperbolic weights 1/(r + 1), averaged over the ranking by
/// (scores, accuracies) and the one by (accuracies, scores); see the module doc for the formula.
///
/// Symmetric in its two arguments. Returns `None` when either side is constant.
///
/// # Errors
///
/// [`LogmeError::InvalidArgument`] if the lengths differ, there are fewer than 2 models, or a
/// value is NaN or infinite.
pub fn weighted_tau(scores: &[f64], accuracies: &[f64]) -> Result<Option<f64>, LogmeError> {
    validate(scores, accuracies)?;
    Ok(weighted_tau_unchecked(scores, accuracies))
}

/// Kendall's τ-b, which corrects τ for ties on either side.
///
/// Returns `None` when either side is constant.
///
/// # Errors
///
/// [`LogmeError::InvalidArgument`] if the lengths differ, there are fewer than 2 models, or a
/// value is NaN or infinite.
pub fn kendall_tau_b(scores: &[f64], accuracies: &[f64]) -> Result<Option<f64>, LogmeError> {
    validate(scores, accuracies)?;
    Ok(kendall_tau_b_unchecked(scores, accuracies))
}

/// Spearman's ρ: Pearson's r between the ranks, tied values sharing their mean rank.
///
/// Returns `None` when either side is constant.
///
/// # Errors
///
/// [`LogmeError::InvalidArgument`] if the lengths differ, there are fewer than 2 models, or a
/// value is NaN or infinite.
pub fn spearman(scores: &[f64], accuracies: &[f64]) -> Result<Option<f64>, LogmeError> {
    validate(scores, accuracies)?;
    Ok(spearman_unchecked(scores, accuracies))
}

/// Pearson's linear correlation r between the raw values.
///
/// Returns `None` when either side is constant.
///
/// # Errors
///
/// [`LogmeError::InvalidArgument`] if the lengths differ, there are fewer than 2 models, or a
/// value is NaN or infinite.
pub fn pearson(scores: &[f64], accuracies: &[f64]) -> Result<Option<f64>, LogmeError> {
    validate(scores, accuracies)?;
    Ok(pearson_unchecked(scores, accuracies))
}

/// Fraction of the k most accurate models that are among the k best-scored ones, in [0, 1].
///
/// Ties in score are broken against the score: among equal scores the less accurate model is
/// picked first. Models with equal accuracy are interchangeable: the k picked accuracies are
/// matched against the k best accuracy values, each value counted as often as it occurs there.
/// With accuracies [0.9, 0.8, 0.8] and k = 2, picking both 0.8 models scores 1/2, and picking 0.9
/// with either 0.8 model scores 1.
///
/// # Errors
///
/// [`LogmeError::InvalidArgument`] if the lengths differ, there are fewer than 2 models, a value
/// is NaN or infinite, or k is not between 1 and the number of models.
pub fn top_k_recall(scores: &[f64], accuracies: &[f64], k: usize) -> Result<f64, LogmeError> {
    validate(scores, accuracies)?;
    let n_models = scores.len();
    if k == 0 || k > n_models {
        return Err(LogmeError::InvalidArgument(format!(
            "k is {k} but there are {n_models} models; pick k between 1 and {n_models}"
        )));
    }

    // Accuracies of the k best-scored models and the k best accuracies, both descending.
    let by_score = order_by_score(scores, accuracies);
    let mut picked: Vec<f64> = by_score[..k].iter().map(|&idx| accuracies[idx]).collect();
    picked.sort_by(|a, b| compare(*b, *a));
    let mut best = accuracies.to_vec();
    best.sort_by(|a, b| compare(*b, *a));
    best.truncate(k);

    // Size of the multiset intersection, by merging the two descending lists.
    let (mut picked_idx, mut best_idx, mut n_hits) = (0, 0, 0usize);
    while picked_idx < k && best_idx < k {
        match compare(picked[picked_idx], best[best_idx]) {
            Ordering::Equal => {
                n_hits += 1;
                picked_idx += 1;
                best_idx += 1;
            }
            Ordering::Greater => picked_idx += 1,
            Ordering::Less => best_idx += 1,
        }
    }
    Ok(n_hits as f64 / k as f64)
}

/// Accuracy of the most accurate model minus that of the top-scored model, in accuracy units.
///
/// Zero when the score picks a best model; never negative. When several models share the top
/// score, the least accurate of them counts as picked, so ties cannot hide a bad pick.
///
/// # Errors
///
/// [`LogmeError::InvalidArgument`] if the lengths differ, there are fewer than 2 models, or a
/// value is NaN or infinite.
pub fn top1_regret(scores: &[f64], accuracies: &[f64]) -> Result<f64, LogmeError> {
    validate(scores, accuracies)?;
    Ok(top1_regret_unchecked(scores, accuracies))
}

/// Checks what every statistic here needs: equal lengths, at least 2 models, finite values.
fn validate(scores: &[f64], accuracies: &[f64]) -> Result<(), LogmeError> {
    if scores.len() != accuracies.len() {
        return Err(LogmeError::InvalidArgument(format!(
            "scores has {} values but accuracies has {}; give one accuracy per model",
            scores.len(),
            accuracies.len()
        )));
    }
    if scores.len() < 2 {
        return Err(LogmeError::InvalidArgument(format!(
            "got {} models; ranking statistics need at least 2 models with a score and an accuracy",
            scores.len()
        )));
    }
    check_finite("scores", "score", scores)?;
    check_finite("accuracies", "accuracy", accuracies)
}

/// Names the first NaN or infinite entry of `values`.
fn check_finite(name: &str, what: &str, values: &[f64]) -> Result<(), LogmeError> {
    match values.iter().position(|value| !value.is_finite()) {
        None => Ok(()),
        Some(idx) => Err(LogmeError::InvalidArgument(format!(
            "{name}[{idx}] is {}; every model needs a finite {what}, so drop that model or \
             recompute its {what}",
            values[idx]
        ))),
    }
}

/// Orders two validated (finite) values; −0.0 and 0.0 are equal, as they are for `==`.
fn compare(a: f64, b: f64) -> Ordering {
    // Finite values always compare, so the fallback is never taken.
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// True when all values are equal, which leaves every correlation undefined.
fn is_constant(values: &[f64]) -> bool {
    values.iter().all(|&value| value == values[0])
}

/// Model indices by decreasing score; equal scores put the lower accuracy first, and models
/// equal in both keep their input order.
fn order_by_score(scores: &[f64], accuracies: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        compare(scores[b], scores[a]).then_with(|| compare(accuracies[a], accuracies[b]))
    });
    order
}

fn weighted_tau_unchecked(scores: &[f64], accuracies: &[f64]) -> Option<f64> {
    if is_constant(scores) || is_constant(accuracies) {
        return None;
    }
    let by_scores = weighted_tau_one_way(scores, accuracies);
    let by_accuracies = weighted_tau_one_way(accuracies, scores);
    Some((by_scores + by_accuracies) / 2.0)
}

/// τ_w with the weights taken from the decreasing order by (primary, secondary).
///
/// Both sides must be non-constant, which keeps the denominators positive.
fn weighted_tau_one_way(primary: &[f64], secondary: &[f64]) -> f64 {
    let n_models = primary.len();

    // Weight 1/(place + 1), place 0 being the largest (primary, secondary). The ascending sort is
    // stable and read backwards, so models tied in both keep a fixed, index-based order.
    let mut ascending: Vec<usize> = (0..n_models).collect();
    ascending.sort_by(|&a, &b| {
        compare(primary[a], primary[b]).then_with(|| compare(secondary[a], secondary[b]))
    });
    let mut weights = vec![0.0; n_models];
    for (position, &idx) in ascending.iter().enumerate() {
        let place = n_models - 1 - position;
        weights[idx] = 1.0 / (place as f64 + 1.0);
    }

    // Pair weights summed over all pairs, ties on each side, joint ties and discordant pairs.
    let (mut all_pairs, mut tied_primary, mut tied_secondary, mut tied_both, mut discordant) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..n_models {
        for j in i + 1..n_models {
            let pair_weight = weights[i] + weights[j];
            let primary_order = compare(primary[i], primary[j]);
            let secondary_order = compare(secondary[i], secondary[j]);
            all_pairs += pair_weight;
            match (primary_order, secondary_order) {
                (Ordering::Equal, Ordering::Equal) => {
                    tied_primary += pair_weight;
                    tied_secondary += pair_weight;
                    tied_both += pair_weight;
                }
                (Ordering::Equal, _) => tied_primary += pair_weight,
                (_, Ordering::Equal) => tied_secondary += pair_weight,
                (p, s) if p != s => discordant += pair_weight,
                _ => {}
            }
        }
    }

    let concordant_minus_discordant =
        (all_pairs - (tied_secondary + tied_primary - tied_both)) - 2.0 * discordant;
    let tau = concordant_minus_discordant
        / (all_pairs - tied_primary).sqrt()
        / (all_pairs - tied_secondary).sqrt();
    tau.clamp(-1.0, 1.0)
}

fn kendall_tau_b_unchecked(scores: &[f64], accuracies: &[f64]) -> Option<f64> {
    if is_constant(scores) || is_constant(accuracies) {
        return None;
    }
    let n_models = scores.len() as u64;

    // Count pairs exactly; only the final division rounds.
    let (mut n_concordant, mut n_discordant, mut n_tied_scores, mut n_tied_accuracies) =
        (0u64, 0u64, 0u64, 0u64);
    for i in 0..scores.len() {
        for j in i + 1..scores.len() {
            match (
                compare(scores[i], scores[j]),
                compare(accuracies[i], accuracies[j]),
            ) {
                (Ordering::Equal, Ordering::Equal) => {
                    n_tied_scores += 1;
                    n_tied_accuracies += 1;
                }
                (Ordering::Equal, _) => n_tied_scores += 1,
                (_, Ordering::Equal) => n_tied_accuracies += 1,
                (s, a) if s == a => n_concordant += 1,
                _ => n_discordant += 1,
            }
        }
    }

    let n_pairs = n_models * (n_models - 1) / 2;
    let numerator = n_concordant as f64 - n_discordant as f64;
    let tau = numerator
        / ((n_pairs - n_tied_scores) as f64).sqrt()
        / ((n_pairs - n_tied_accuracies) as f64).sqrt();
    Some(tau.clamp(-1.0, 1.0))
}

fn spearman_unchecked(scores: &[f64], accuracies: &[f64]) -> Option<f64> {
    // Ranks are constant exactly when the values are, so Pearson's check covers this case.
    pearson_unchecked(&average_ranks(scores), &average_ranks(accuracies))
}

/// 1-based ranks, ascending; tied values share the mean of the ranks they span.
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let n_values = values.len();
    let mut ascending: Vec<usize> = (0..n_values).collect();
    ascending.sort_by(|&a, &b| compare(values[a], values[b]));

    let mut ranks = vec![0.0; n_values];
    let mut start = 0;
    while start < n_values {
        let mut end = start + 1;
        while end < n_values && values[ascending[end]] == values[ascending[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start + 1 ..= end.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        for &idx in &ascending[start..end] {
            ranks[idx] = mean_rank;
        }
        start = end;
    }
    ranks
}

fn pearson_unchecked(x: &[f64], y: &[f64]) -> Option<f64> {
    if is_constant(x) || is_constant(y) {
        return None;
    }
    // Two distinct points lie on a line: r is the product of the signs of the steps.
    if x.len() == 2 {
        let x_step = compare(x[1], x[0]) as i8;
        let y_step = compare(y[1], y[0]) as i8;
        return Some(f64::from(x_step * y_step));
    }
    let x_unit = centered_unit(x)?;
    let y_unit = centered_unit(y)?;
    let r: f64 = x_unit.iter().zip(&y_unit).map(|(a, b)| a * b).sum();
    Some(r.clamp(-1.0, 1.0))
}

/// (v − v̄)/‖v − v̄‖, computed on v/max|v| so that no square overflows.
///
/// `None` only if the centered vector is zero, which a non-constant input cannot produce.
fn centered_unit(values: &[f64]) -> Option<Vec<f64>> {
    let scale = values
        .iter()
        .fold(0.0_f64, |max, value| max.max(value.abs()));
    let scaled: Vec<f64> = values.iter().map(|value| value / scale).collect();
    let mean = scaled.iter().sum::<f64>() / scaled.len() as f64;
    let centered: Vec<f64> = scaled.iter().map(|value| value - mean).collect();
    let norm = centered.iter().map(|c| c * c).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return None;
    }
    Some(centered.iter().map(|c| c / norm).collect())
}

fn top1_regret_unchecked(scores: &[f64], accuracies: &[f64]) -> f64 {
    let best = accuracies.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let first = order_by_score(scores, accuracies)[0];
    best - accuracies[first]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const TOLERANCE: f64 = 1e-12;

    fn assert_close(got: Option<f64>, expected: f64) {
        let got = got.expect("statistic should be defined");
        assert!(
            (got - expected).abs() <= TOLERANCE,
            "got {got}, expected {expected}"
        );
    }

    fn invalid_message(result: Result<Option<f64>, LogmeError>) -> String {
        match result {
            Err(LogmeError::InvalidArgument(message)) => message,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn weighted_tau_matches_reference_values() {
        let one_swap = weighted_tau(&[1., 2., 3., 4., 5.], &[1., 2., 3., 5., 4.]).unwrap();
        assert_close(one_swap, 0.6715328467153284);
        let reversed = weighted_tau(&[1., 2., 3., 4., 5.], &[5., 4., 3., 2., 1.]).unwrap();
        assert_close(reversed, -1.0);
        let with_ties = weighted_tau(&[1., 2., 2., 3.], &[1., 3., 2., 2.]).unwrap();
        assert_close(with_ties, 0.20992331125953925);
    }

    #[test]
    fn weighted_tau_is_symmetric() {
        let cases: [(&[f64], &[f64]); 3] = [
            (&[1., 2., 3., 4., 5.], &[1., 2., 3., 5., 4.]),
            (&[1., 2., 2., 3.], &[1., 3., 2., 2.]),
            (
                &[2., 7., 1., 8., 2., 8., 1., 8.],
                &[5., 6., 5., 9., 3., 9., 1., 6.],
            ),
        ];
        for (x, y) in cases {
            let forward = weighted_tau(x, y).unwrap().unwrap();
            let backward = weighted_tau(y, x).unwrap().unwrap();
            assert!(
                (forward - backward).abs() <= TOLERANCE,
                "{forward} vs {backward}"
            );
        }
    }

    #[test]
    fn weighted_tau_ignores_input_order() {
        let x = [2., 7., 1., 8., 2., 8., 1., 8., 2., 8.];
        let y = [5., 6., 5., 9., 3., 9., 1., 6., 5., 7.];
        let rotated_x: Vec<f64> = x.iter().cycle().skip(3).take(x.len()).copied().collect();
        let rotated_y: Vec<f64> = y.iter().cycle().skip(3).take(y.len()).copied().collect();
        let original = weighted_tau(&x, &y).unwrap().unwrap();
        let rotated = weighted_tau(&rotated_x, &rotated_y).unwrap().unwrap();
        assert!(
            (original - rotated).abs() <= TOLERANCE,
            "{original} vs {rotated}"
        );
    }

    #[test]
    fn perfect_agreement_gives_one_everywhere() {
        let report = all(&[0.1, 0.5, 0.3, 0.9], &[60.0, 80.0, 70.0, 90.0]).unwrap();
        assert_close(report.weighted_tau, 1.0);
        assert_close(report.kendall_tau, 1.0);
        assert_close(report.spearman, 1.0);
        assert_eq!(report.top1_regret, 0.0);
    }

    #[test]
    fn constant_side_is_undefined() {
        let report = all(&[0.5, 0.5, 0.5], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(report.weighted_tau, None);
        assert_eq!(report.kendall_tau, None);
        assert_eq!(report.spearman, None);
        assert_eq!(report.pearson, None);
        assert_eq!(
            weighted_tau(&[1.0, 2.0, 3.0], &[4.0, 4.0, 4.0]).unwrap(),
            None
        );
    }

    #[test]
    fn two_models_give_plus_or_minus_one() {
        assert_eq!(pearson(&[1.0, 3.0], &[10.0, 5.0]).unwrap(), Some(-1.0));
        assert_eq!(spearman(&[1.0, 3.0], &[5.0, 10.0]).unwrap(), Some(1.0));
        assert_eq!(kendall_tau_b(&[1.0, 3.0], &[5.0, 10.0]).unwrap(), Some(1.0));
    }

    #[test]
    fn negative_zero_ties_with_zero() {
        let with_negative_zero = kendall_tau_b(&[1.0, 2.0, 3.0], &[0.0, -0.0, 1.0]).unwrap();
        let with_zeros = kendall_tau_b(&[1.0, 2.0, 3.0], &[0.0, 0.0, 1.0]).unwrap();
        assert_eq!(with_negative_zero, with_zeros);
    }

    #[test]
    fn length_mismatch_names_both_lengths() {
        let message = invalid_message(weighted_tau(&[1., 2., 3., 4., 5.], &[1., 2., 3., 4.]));
        assert_eq!(
            message,
            "scores has 5 values but accuracies has 4; give one accuracy per model"
        );
    }

    #[test]
    fn too_few_models_is_rejected() {
        let message = invalid_message(spearman(&[1.0], &[2.0]));
        assert!(message.contains("at least 2"), "{message}");
        assert!(invalid_message(pearson(&[], &[])).contains("got 0 models"));
    }

    #[test]
    fn non_finite_value_names_its_position() {
        let message = invalid_message(kendall_tau_b(&[1.0, 2.0, 3.0], &[1.0, f64::NAN, 3.0]));
        assert!(message.starts_with("accuracies[1] is NaN;"), "{message}");
        let message = invalid_message(pearson(&[1.0, f64::INFINITY], &[1.0, 2.0]));
        assert!(message.starts_with("scores[1] is inf;"), "{message}");
    }

    #[test]
    fn top_k_recall_counts_shared_models() {
        let scores = [0.9, 0.8, 0.7, 0.6];
        let accuracies = [70.0, 90.0, 60.0, 80.0];
        assert_eq!(top_k_recall(&scores, &accuracies, 1).unwrap(), 0.0);
        assert_eq!(top_k_recall(&scores, &accuracies, 2).unwrap(), 0.5);
        assert_eq!(top_k_recall(&scores, &accuracies, 4).unwrap(), 1.0);
    }

    #[test]
    fn top_k_recall_treats_equal_accuracies_as_interchangeable() {
        let accuracies = [0.9, 0.8, 0.8];
        assert_eq!(top_k_recall(&[0.1, 0.9, 0.8], &accuracies, 2).unwrap(), 0.5);
        assert_eq!(top_k_recall(&[0.9, 0.1, 0.8], &accuracies, 2).unwrap(), 1.0);
    }

    #[test]
    fn top_k_recall_breaks_score_ties_against_the_score() {
        // Equal scores: the less accurate model is picked, whatever the input order.
        assert_eq!(
            top_k_recall(&[0.5, 0.5, 0.1], &[90.0, 60.0, 80.0], 1).unwrap(),
            0.0
        );
        assert_eq!(
            top_k_recall(&[0.5, 0.5, 0.1], &[60.0, 90.0, 80.0], 1).unwrap(),
            0.0
        );
    }

    #[test]
    fn top_k_recall_rejects_bad_k() {
        for k in [0, 4] {
            match top_k_recall(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], k) {
                Err(LogmeError::InvalidArgument(message)) => {
                    assert!(message.contains("pick k between 1 and 3"), "{message}");
                }
                other => panic!("expected InvalidArgument, got {other:?}"),
            }
        }
    }

    /// Small integer values, so ties on either side and in both are common.
    fn tied_pairs() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        prop::collection::vec((0_i32..5, 0_i32..5), 2..14).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(x, y)| (f64::from(x), f64::from(y)))
                .unzip()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn correlations_are_symmetric_order_free_and_bounded((x, y) in tied_pairs()) {
            let report = all(&x, &y).unwrap();
            let swapped = all(&y, &x).unwrap();
            let x_reversed: Vec<f64> = x.iter().rev().copied().collect();
            let y_reversed: Vec<f64> = y.iter().rev().copied().collect();
            let reversed = all(&x_reversed, &y_reversed).unwrap();
            let pairs = [
                (report.weighted_tau, swapped.weighted_tau, reversed.weighted_tau),
                (report.kendall_tau, swapped.kendall_tau, reversed.kendall_tau),
                (report.spearman, swapped.spearman, reversed.spearman),
                (report.pearson, swapped.pearson, reversed.pearson),
            ];
            for (value, value_swapped, value_reversed) in pairs {
                let defined = !is_constant(&x) && !is_constant(&y);
                prop_assert_eq!(value.is_some(), defined);
                if let (Some(a), Some(b), Some(c)) = (value, value_swapped, value_reversed) {
                    prop_assert!((-1.0..=1.0).contains(&a));
                    prop_assert!((a - b).abs() <= TOLERANCE, "swapped: {} vs {}", a, b);
                    prop_assert!((a - c).abs() <= TOLERANCE, "reversed: {} vs {}", a, c);
                }
            }
            prop_assert_eq!(report.top1_regret, reversed.top1_regret);
            prop_assert!(report.top1_regret >= 0.0);
        }

        #[test]
        fn self_correlation_is_one((x, _) in tied_pairs()) {
            prop_assume!(!is_constant(&x));
            let report = all(&x, &x).unwrap();
            let correlations =
                [report.weighted_tau, report.kendall_tau, report.spearman, report.pearson];
            for value in correlations {
                let value = value.unwrap();
                prop_assert!((value - 1.0).abs() <= TOLERANCE, "{}", value);
            }
            prop_assert_eq!(report.top1_regret, 0.0);
            prop_assert_eq!(top_k_recall(&x, &x, 1).unwrap(), 1.0);
        }

        #[test]
        fn top_k_recall_is_a_fraction((x, y) in tied_pairs(), k_seed in 0_usize..100) {
            let k = 1 + k_seed % x.len();
            let recall = top_k_recall(&x, &y, k).unwrap();
            prop_assert!((0.0..=1.0).contains(&recall));
            prop_assert_eq!(top_k_recall(&x, &y, x.len()).unwrap(), 1.0);
        }
    }

    #[test]
    fn top1_regret_takes_the_worst_of_tied_top_scores() {
        assert_eq!(
            top1_regret(&[0.2, 0.9, 0.5], &[80.0, 70.0, 75.0]).unwrap(),
            10.0
        );
        assert_eq!(
            top1_regret(&[0.9, 0.9, 0.5], &[80.0, 70.0, 75.0]).unwrap(),
            10.0
        );
        assert_eq!(
            top1_regret(&[0.9, 0.1, 0.5], &[80.0, 70.0, 75.0]).unwrap(),
            0.0
        );
    }
}
