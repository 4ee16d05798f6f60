//! The engine's specified cases, generated in-test from the LCG so no file is needed.

mod common;

use common::{close, feats, lcg};
use logme::{Diagnostic, FeatureMatrix, LabelPolicy, LogMe, LogmeError, Method, Mode, Targets};

fn labels_mod(n: usize, m: usize) -> Vec<usize> {
    (0..n).map(|i| i % m).collect()
}

fn score(
    data: &[f64],
    n: usize,
    d: usize,
    targets: &Targets,
    method: Method,
    mode: Mode,
) -> logme::Fit {
    let features = FeatureMatrix::from_f64(data, n, d).unwrap();
    LogMe::new()
        .method(method)
        .mode(mode)
        .fit(features, targets)
        .unwrap()
}

#[test]
fn generator_matches_its_published_check_values() {
    let u = lcg(3, 1);
    assert_eq!(
        u,
        vec![
            -0.2635444747284055,
            -0.1307293262798339,
            0.004242032300680876
        ]
    );
}

#[test]
fn sixty_by_eight_three_classes() {
    let f = feats(60, 8, 1);
    let t = Targets::classes(&labels_mod(60, 3)).unwrap();
    let fp = score(&f, 60, 8, &t, Method::FixedPoint, Mode::Reference);
    assert!(close(fp.score, -0.8681515006936614, 1e-12), "{}", fp.score);
    let alphas = [2424.7937198688237, 38.76570118319216, 552.129794409086];
    for (c, want) in fp.columns.iter().zip(alphas) {
        assert!(
            (c.alpha - want).abs() <= 1e-9 * want,
            "{} vs {want}",
            c.alpha
        );
    }
    let icml = score(&f, 60, 8, &t, Method::Icml, Mode::Reference);
    assert!(
        close(icml.score, -0.8682357854202162, 1e-12),
        "{}",
        icml.score
    );
    for method in [Method::FixedPoint, Method::Icml] {
        let exact = score(&f, 60, 8, &t, method, Mode::Exact);
        assert!(
            close(exact.score, -0.8679686270738735, 1e-10),
            "{}",
            exact.score
        );
        assert!(exact.columns.iter().all(|c| c.converged));
    }
}

#[test]
fn few_shot_reference_flaw_and_exact_value() {
    let f = feats(12, 30, 5);
    let t = Targets::classes(&labels_mod(12, 2)).unwrap();
    let fp = score(&f, 12, 30, &t, Method::FixedPoint, Mode::Reference);
    assert!(close(fp.score, 2.3263184448084275, 1e-9), "{}", fp.score);
    assert_eq!(fp.rank, 12);
    // The result says how much the official formula overstates the evidence.
    let gap = fp.columns.iter().map(|c| c.reference_gap).sum::<f64>() / 2.0;
    let expected_gap: f64 = fp
        .columns
        .iter()
        .map(|c| 18.0 / 2.0 * c.alpha.ln() / 12.0)
        .sum::<f64>()
        / 2.0;
    assert!((gap - expected_gap).abs() < 1e-12 && gap > 0.0);
    assert!(fp.diagnostics.iter().any(|d| matches!(
        d,
        Diagnostic::RankBelowFeatures {
            rank: 12,
            n_features: 30,
            ..
        }
    )));
    let exact = score(&f, 12, 30, &t, Method::FixedPoint, Mode::Exact);
    assert!(
        close(exact.score, -1.0340305366082005, 1e-10),
        "{}",
        exact.score
    );
}

#[test]
fn shifted_labels_under_each_policy() {
    let f = feats(60, 8, 1);
    let shifted: Vec<usize> = (0..60).map(|i| i % 3 + 1).collect();
    let t = Targets::classes(&shifted).unwrap();
    let fit = score(&f, 60, 8, &t, Method::FixedPoint, Mode::Reference);
    assert!(close(fit.score, 0.9955039973094437, 1e-12), "{}", fit.score);
    assert!(
        fit.diagnostics
            .contains(&Diagnostic::EmptyClasses { classes: vec![0] })
    );

    let remapped = Targets::classes_with(&shifted, LabelPolicy::Remap).unwrap();
    let fit = score(&f, 60, 8, &remapped, Method::FixedPoint, Mode::Reference);
    assert!(
        close(fit.score, -0.8681515006936614, 1e-12),
        "{}",
        fit.score
    );
    assert_eq!(fit.label_mapping, Some(vec![1, 2, 3]));

    let err = Targets::classes_with(&shifted, LabelPolicy::Reject).unwrap_err();
    assert_eq!(
        err,
        LogmeError::MissingLabel {
            missing: 0,
            max_label: 3
        }
    );
    assert!(err.to_string().contains("label 0 never occurs"), "{err}");
}

#[test]
fn tiny_features_reference_says_so_and_exact_is_scale_free() {
    let f = feats(60, 8, 1);
    let t = Targets::classes(&labels_mod(60, 3)).unwrap();
    let tiny: Vec<f64> = f.iter().map(|v| v * 1e-12).collect();
    let reference = score(&tiny, 60, 8, &t, Method::FixedPoint, Mode::Reference);
    assert_eq!(reference.score, f64::NEG_INFINITY);
    assert_eq!(reference.rank, 0);
    assert!(
        reference
            .diagnostics
            .contains(&Diagnostic::NoDirectionRetained)
    );

    let at_one = score(&f, 60, 8, &t, Method::FixedPoint, Mode::Exact).score;
    let milli: Vec<f64> = f.iter().map(|v| v * 1e-3).collect();
    let at_milli = score(&milli, 60, 8, &t, Method::FixedPoint, Mode::Exact).score;
    let at_tiny = score(&tiny, 60, 8, &t, Method::FixedPoint, Mode::Exact).score;
    assert!((at_one - at_milli).abs() <= 1e-9, "{at_one} vs {at_milli}");
    assert!((at_one - at_tiny).abs() <= 1e-9, "{at_one} vs {at_tiny}");
}

#[test]
fn perfect_fit_is_finite_in_reference_and_flagged_unbounded_in_exact() {
    let n = 30;
    let labels = labels_mod(n, 3);
    let mut onehot = vec![0.0; n * 3];
    for (i, &c) in labels.iter().enumerate() {
        onehot[i * 3 + c] = 1.0;
    }
    let t = Targets::classes(&labels).unwrap();
    let reference = score(&onehot, n, 3, &t, Method::FixedPoint, Mode::Reference);
    assert!(
        close(reference.score, 5.63480587567501, 1e-9),
        "{}",
        reference.score
    );
    let exact = score(&onehot, n, 3, &t, Method::FixedPoint, Mode::Exact);
    assert_eq!(exact.score, f64::INFINITY);
    assert!(
        exact
            .columns
            .iter()
            .all(|c| c.unbounded && !c.evidence.is_nan())
    );
    assert!(exact.diagnostics.contains(&Diagnostic::Unbounded {
        columns: vec![0, 1, 2]
    }));
}

#[test]
fn nan_feature_is_reported_by_position() {
    let mut f = feats(60, 8, 1);
    f[3 * 8 + 2] = f64::NAN;
    let t = Targets::classes(&labels_mod(60, 3)).unwrap();
    let features = FeatureMatrix::from_f64(&f, 60, 8).unwrap();
    let err = LogMe::new().fit(features, &t).unwrap_err();
    assert!(
        matches!(err, LogmeError::NonFiniteFeature { row: 3, col: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("row 3, column 2"), "{err}");
}

#[test]
fn same_thread_count_gives_the_same_bits_run_after_run() {
    let (n, d) = (3000, 160);
    let f: Vec<f32> = feats(n, d, 3).iter().map(|&v| v as f32).collect();
    let t = Targets::classes(&labels_mod(n, 7)).unwrap();
    let features = FeatureMatrix::from_f32(&f, n, d).unwrap();
    for threads in [1, 2] {
        let logme = LogMe::new().backend(logme::Backend::from_name("faer", threads).unwrap());
        let first = logme.fit(features, &t).unwrap();
        let second = logme.fit(features, &t).unwrap();
        assert_eq!(
            first.score.to_bits(),
            second.score.to_bits(),
            "{threads} threads"
        );
        assert_eq!(first, second, "{threads} threads");
    }
}
