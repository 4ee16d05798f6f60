//! Every case of `../shared/fixtures/reference` (values of the official LogME code) through the
//! library, on every compiled backend.

mod common;

use common::{close, fixtures_dir, manifest, read_f64, read_i64, read_matrix, read_matrix_f32};
use logme::{Backend, Elements, FeatureMatrix, LogMe, Method, Mode, Order, Prediction, Targets};
use serde_json::Value;

fn targets_of(case: &Value, dir: &std::path::Path) -> Targets {
    let labels = &case["labels"];
    let path = dir.join(labels["path"].as_str().unwrap());
    if case["task"] == "classification" {
        let y = read_i64(&path);
        Targets::classes(y.as_slice().unwrap()).unwrap()
    } else {
        let y = read_f64(&path);
        let n = y.shape()[0];
        let t = if y.ndim() == 1 { 1 } else { y.shape()[1] };
        let values: Vec<f64> = y.iter().copied().collect();
        if case["task"] == "multilabel" {
            Targets::multilabel(&values, n, t).unwrap()
        } else {
            Targets::regression(&values, n, t).unwrap()
        }
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn check_case(backend: &Backend, case: &Value) {
    let dir = fixtures_dir("reference");
    let name = case["name"].as_str().unwrap();
    let feat = &case["features"];
    let dtype = feat["dtype"].as_str().unwrap();
    let fpath = dir.join(feat["path"].as_str().unwrap());
    let targets = targets_of(case, &dir);
    let test = read_matrix(
        &dir.join(case["test_features"]["path"].as_str().unwrap()),
        dtype,
    );
    let test_fm =
        FeatureMatrix::from_f64(test.as_slice().unwrap(), test.nrows(), test.ncols()).unwrap();

    // f32 cases are handed over as f32 (widened inside), f64 as f64.
    let f32_data;
    let f64_data;
    let (n, d);
    let features = if dtype == "float32" {
        f32_data = read_matrix_f32(&fpath);
        (n, d) = f32_data.dim();
        FeatureMatrix::packed(
            Elements::F32(f32_data.as_slice().unwrap()),
            n,
            d,
            Order::RowMajor,
        )
        .unwrap()
    } else {
        f64_data = read_matrix(&fpath, dtype);
        (n, d) = f64_data.dim();
        FeatureMatrix::from_f64(f64_data.as_slice().unwrap(), n, d).unwrap()
    };

    for (method, key, prefix) in [
        (Method::FixedPoint, "logme_fixed_point", "fixed_point"),
        (Method::Icml, "logme_icml", "icml"),
    ] {
        let label = format!("{name} {key} on {}", backend.name());
        let expected = &case[key];
        let logme = LogMe::new()
            .method(method)
            .mode(Mode::Reference)
            .backend(backend.clone());
        let fit = logme
            .fit(features, &targets)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let score = expected["score"].as_f64().unwrap();
        assert!(
            close(fit.score, score, 1e-9),
            "{label}: score {} != {score}",
            fit.score
        );
        let evidence = floats(&expected["per_target_evidence"]);
        let alphas = floats(&expected["alphas"]);
        let betas = floats(&expected["betas"]);
        assert_eq!(fit.columns.len(), evidence.len(), "{label}: target count");
        for (t, c) in fit.columns.iter().enumerate() {
            assert!(
                close(c.evidence, evidence[t], 1e-9),
                "{label}: evidence[{t}] {} != {}",
                c.evidence,
                evidence[t]
            );
            assert!(
                (c.alpha - alphas[t]).abs() <= 1e-6 * alphas[t].abs(),
                "{label}: alpha[{t}] {} != {}",
                c.alpha,
                alphas[t]
            );
            assert!(
                (c.beta - betas[t]).abs() <= 1e-6 * betas[t].abs(),
                "{label}: beta[{t}] {} != {}",
                c.beta,
                betas[t]
            );
        }
        if method == Method::FixedPoint {
            assert_eq!(
                fit.rank as u64,
                case["fixed_point_rank_used"].as_u64().unwrap(),
                "{label}: rank"
            );
        }

        // Weights [T, D], relative to the largest.
        let ms = read_f64(&dir.join(format!("{name}/expected_{prefix}_ms.npy")));
        let largest = ms
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(f64::MIN_POSITIVE);
        for (got, want) in fit.weights().iter().zip(ms.iter()) {
            assert!(
                (got - want).abs() <= 1e-6 * largest,
                "{label}: weight {got} != {want}"
            );
        }

        // Predictions: logits, then classes identical except near-ties.
        let logits = read_f64(&dir.join(format!("{name}/expected_{prefix}_test_logits.npy")));
        let got_logits = fit.decision_function(backend, test_fm).unwrap();
        let lmax = logits
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(f64::MIN_POSITIVE);
        for (got, want) in got_logits.iter().zip(logits.iter()) {
            assert!(
                (got - want).abs() <= 1e-6 * lmax,
                "{label}: logit {got} != {want}"
            );
        }
        match fit.predict(backend, test_fm).unwrap() {
            Prediction::Classes(classes) => {
                let want = read_i64(&dir.join(format!("{name}/expected_{prefix}_predict.npy")));
                let t = fit.columns.len();
                for (row, (g, w)) in classes.iter().zip(want.iter()).enumerate() {
                    if *g != *w as i128 {
                        let r = &logits.as_slice().unwrap()[row * t..(row + 1) * t];
                        let gap = (r[*g as usize] - r[*w as usize]).abs();
                        assert!(
                            gap <= 1e-9 * lmax,
                            "{label}: row {row} predicts {g}, official {w}"
                        );
                    }
                }
            }
            Prediction::Values { values, .. } => {
                let want = read_f64(&dir.join(format!("{name}/expected_{prefix}_predict.npy")));
                for (g, w) in values.iter().zip(want.iter()) {
                    assert!(
                        (g - w).abs() <= 1e-6 * lmax,
                        "{label}: prediction {g} != {w}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_reference_case_matches_on_every_backend() {
    let manifest = manifest("reference");
    let cases = manifest["cases"].as_array().expect("cases");
    assert!(
        cases.len() >= 15,
        "expected the 15 public cases, found {}",
        cases.len()
    );
    for name in Backend::available() {
        if name == "naive" {
            continue;
        }
        let backend = Backend::from_name(name, 0).unwrap();
        for case in cases {
            check_case(&backend, case);
        }
    }
}
