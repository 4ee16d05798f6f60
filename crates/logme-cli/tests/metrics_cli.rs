//! Every finite peer value of `../shared/fixtures/metrics` reproduced through
//! `logme rank --metrics`, one dataset folder per fixture dataset.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

fn fixtures() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/metrics");
    assert!(
        dir.join("manifest.json").is_file(),
        "fixtures missing: {} not found",
        dir.join("manifest.json").display()
    );
    dir
}

/// The CLI id of a fixture case, or `None` for cases the CLI does not offer.
fn cli_metric(case: &Value) -> Option<&'static str> {
    let kind = case["params"]["gaussian_type"].as_str();
    Some(match case["metric"].as_str()? {
        "leep" => "leep",
        "nce" => "nce",
        "h_score" => "hscore",
        "regularized_h_score" => "shrinkage-hscore",
        "transrate" => "transrate",
        "gbc" if kind == Some("diagonal") => "gbc-diagonal",
        "gbc" => "gbc-spherical",
        "parc" => "parc",
        "sfda" => "sfda",
        "nleep" => "nleep",
        _ => return None,
    })
}

fn rank(dir: &Path, metrics: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "rank",
        dir.to_str().unwrap(),
        "--metrics",
        metrics,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_logme"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn peer_values_through_rank() {
    let root = fixtures();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json")).unwrap())
            .unwrap();
    let tmp = TempDir::new().unwrap();
    let mut checked = 0;
    for dataset in manifest["datasets"].as_array().unwrap() {
        let name = dataset["name"].as_str().unwrap();
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(dir.join("features")).unwrap();
        std::fs::create_dir_all(dir.join("source_probs")).unwrap();
        std::fs::copy(root.join(name).join("labels.npy"), dir.join("labels.npy")).unwrap();
        std::fs::copy(
            root.join(name).join("features.npy"),
            dir.join("features").join("model.npy"),
        )
        .unwrap();
        std::fs::copy(
            root.join(name).join("source_probabilities.npy"),
            dir.join("source_probs").join("model.npy"),
        )
        .unwrap();
        let plain = rank(
            &dir,
            "leep,nce,hscore,shrinkage-hscore,transrate,gbc-diagonal,gbc-spherical,parc,sfda,nleep",
            &[],
        );
        let pca = rank(&dir, "parc", &["--parc-dims", "32"]);
        let scores = &plain["models"][0]["scores"];
        for case in manifest["cases"].as_array().unwrap() {
            if case["dataset"] != name || case["expected"]["kind"] != "value" {
                continue;
            }
            let Some(metric) = cli_metric(case) else {
                continue;
            };
            let want = case["expected"]["value"].as_f64().unwrap();
            let (got, tolerance) = match metric {
                // The PCA and the mixture are logme's own: documented bounds, not equality.
                "parc" if !case["params"]["n_dims"].is_null() => {
                    (pca["models"][0]["scores"]["parc"].as_f64().unwrap(), 0.2)
                }
                "nleep" => (scores["nleep"].as_f64().unwrap(), 0.11),
                _ => {
                    let tol = &case["tolerance"];
                    let abs = tol["abs"].as_f64().unwrap_or(0.0);
                    let rel = tol["rel"].as_f64().unwrap_or(0.0) * want.abs();
                    (scores[metric].as_f64().unwrap(), abs.max(rel).max(1e-12))
                }
            };
            assert!(
                (got - want).abs() <= tolerance,
                "{} via CLI: {got} vs {want}",
                case["id"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} cases were compared");
}
