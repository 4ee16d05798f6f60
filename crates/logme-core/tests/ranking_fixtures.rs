//! Rank correlations against the golden values in `shared/fixtures/metrics/manifest.json`.
//!
//! Every rank case (`weightedtau`, `kendalltau`, `spearmanr`, `pearsonr`) is recomputed from its
//! `inline` x and y and compared with the expected value at the case's tolerance. An expected NaN
//! (a constant side) must come back as `None`.

use std::path::Path;

use logme_core::LogmeError;
use logme_core::ranking;
use serde_json::Value;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/metrics"
);

type Statistic = fn(&[f64], &[f64]) -> Result<Option<f64>, LogmeError>;

/// The function that reproduces a manifest metric id, if it is a rank correlation.
fn statistic_for(metric: &str) -> Option<Statistic> {
    match metric {
        "weightedtau" => Some(ranking::weighted_tau),
        "kendalltau" => Some(ranking::kendall_tau_b),
        "spearmanr" => Some(ranking::spearman),
        "pearsonr" => Some(ranking::pearson),
        _ => None,
    }
}

fn load_manifest() -> Value {
    let path = Path::new(FIXTURES).join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read the metric fixtures at {}: {err}; the shared/ folder must sit next to the \
             workspace root",
            path.display()
        )
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not valid JSON: {err}", path.display()))
}

fn float_array(case: &Value, role: &str) -> Vec<f64> {
    let id = case["id"].as_str().unwrap_or("?");
    case["inline"][role]
        .as_array()
        .unwrap_or_else(|| panic!("case {id} has no inline.{role} array"))
        .iter()
        .map(|value| {
            value
                .as_f64()
                .unwrap_or_else(|| panic!("case {id}: inline.{role} holds {value}"))
        })
        .collect()
}

/// Checks one side of a case; returns a description of the mismatch, if any.
fn check(id: &str, got: Option<f64>, expected: &Value, tolerance: &Value) -> Option<String> {
    match (expected["kind"].as_str(), got) {
        (Some("nan"), None) => None,
        (Some("nan"), Some(value)) => Some(format!("{id}: expected undefined (NaN), got {value}")),
        (Some("value"), None) => Some(format!("{id}: expected {expected}, got None")),
        (Some("value"), Some(value)) => {
            let target = expected["value"]
                .as_f64()
                .expect("expected.value is a number");
            let allowed = tolerance["abs"].as_f64().unwrap_or(0.0)
                + tolerance["rel"].as_f64().unwrap_or(0.0) * target.abs();
            let error = (value - target).abs();
            (error > allowed).then(|| {
                format!("{id}: got {value}, expected {target}, error {error:e} > {allowed:e}")
            })
        }
        (kind, _) => Some(format!("{id}: unexpected expected.kind {kind:?}")),
    }
}

#[test]
fn rank_cases_match_scipy() {
    let manifest = load_manifest();
    let cases = manifest["cases"]
        .as_array()
        .expect("manifest has a cases array");

    let mut n_checked = 0;
    let mut failures = Vec::new();
    let mut metrics_seen = Vec::new();
    for case in cases {
        let Some(statistic) = case["metric"].as_str().and_then(statistic_for) else {
            continue;
        };
        let id = case["id"].as_str().expect("case has an id");
        let x = float_array(case, "x");
        let y = float_array(case, "y");
        let got = statistic(&x, &y).unwrap_or_else(|err| panic!("{id}: {err}"));
        failures.extend(check(id, got, &case["expected"], &case["tolerance"]));

        // The manifest also records weighted τ with the arguments swapped.
        if let Some(swapped) = case["also"].get("symmetric_check_weightedtau_y_x") {
            let got_swapped = statistic(&y, &x).unwrap_or_else(|err| panic!("{id}: {err}"));
            let expected_swapped = match swapped.as_f64() {
                Some(value) => serde_json::json!({ "kind": "value", "value": value }),
                None => serde_json::json!({ "kind": "nan" }),
            };
            let swapped_id = format!("{id} (y, x)");
            failures.extend(check(
                &swapped_id,
                got_swapped,
                &expected_swapped,
                &case["tolerance"],
            ));
        }

        n_checked += 1;
        metrics_seen.push(case["metric"].as_str().unwrap_or_default().to_owned());
    }

    for metric in ["weightedtau", "kendalltau", "spearmanr", "pearsonr"] {
        assert!(
            metrics_seen.iter().any(|seen| seen == metric),
            "no {metric} case in {FIXTURES}/manifest.json; the rank fixtures are missing"
        );
    }
    let report = failures.join("\n");
    assert!(
        failures.is_empty(),
        "{} of {n_checked} rank cases differ:\n{report}",
        failures.len()
    );
}

#[test]
fn all_agrees_with_the_single_statistics() {
    let manifest = load_manifest();
    let cases = manifest["cases"]
        .as_array()
        .expect("manifest has a cases array");
    for case in cases.iter().filter(|case| case["metric"] == "weightedtau") {
        let x = float_array(case, "x");
        let y = float_array(case, "y");
        let report = ranking::all(&x, &y).expect("fixture input is valid");
        assert_eq!(report.weighted_tau, ranking::weighted_tau(&x, &y).unwrap());
        assert_eq!(report.kendall_tau, ranking::kendall_tau_b(&x, &y).unwrap());
        assert_eq!(report.spearman, ranking::spearman(&x, &y).unwrap());
        assert_eq!(report.pearson, ranking::pearson(&x, &y).unwrap());
        assert_eq!(report.top1_regret, ranking::top1_regret(&x, &y).unwrap());
    }
}
