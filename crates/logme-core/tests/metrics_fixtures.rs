//! Peer metrics against the golden values in `shared/fixtures/metrics/manifest.json`.
//!
//! Every non-rank case of the manifest is recomputed (rank cases live in `ranking_fixtures.rs`)
//! and compared at its stated tolerance; cases where the reference returned NaN or raised pin
//! what logme returns instead. Stages that cannot match end to end (NLEEP's own mixture, PARC's
//! exact PCA) are compared with measured bounds. Run with `--nocapture` to see the measured
//! differences.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use logme_core::metrics::{
    self, GaussianMixture, GbcKind, LabelDissimilarity, MetricId, MetricParams, NleepOptions,
    ParcOptions, SourceLabels, SourceProbabilities,
};
use logme_core::{ClassLabels, FeatureMatrix, LabelPolicy, LogmeError, Targets};
use logme_faer::FaerBackend;
use serde_json::Value;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/metrics"
);

// ---------------------------------------------------------------------------------------------
// A minimal reader for the NumPy 1.0 files of the fixtures (C order, little endian).

/// The values of one `.npy` file.
enum Npy {
    F64(Vec<f64>),
    F32(Vec<f32>),
    I64(Vec<i64>),
}

struct Array {
    shape: Vec<usize>,
    values: Npy,
}

impl Array {
    fn f64s(&self) -> Vec<f64> {
        match &self.values {
            Npy::F64(v) => v.clone(),
            Npy::F32(v) => v.iter().map(|x| f64::from(*x)).collect(),
            Npy::I64(v) => v.iter().map(|x| *x as f64).collect(),
        }
    }

    fn i64s(&self) -> Vec<i64> {
        match &self.values {
            Npy::I64(v) => v.clone(),
            _ => panic!("expected an int64 array"),
        }
    }
}

fn read_npy(path: &Path) -> Array {
    let bytes =
        std::fs::read(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    assert!(
        bytes.starts_with(b"\x93NUMPY"),
        "{} is not a .npy file",
        path.display()
    );
    assert_eq!(
        bytes[6],
        1,
        "{}: only .npy format 1.0 is supported",
        path.display()
    );
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).expect("ASCII header");
    let body = &bytes[10 + header_len..];
    assert!(
        header.contains("'fortran_order': False"),
        "{}: C order expected",
        path.display()
    );
    let descr = header.split("'descr':").nth(1).expect("descr").trim_start();
    let descr = &descr[1..descr[1..].find('\'').expect("descr end") + 1];
    let shape_text = header.split("'shape':").nth(1).expect("shape");
    let shape_text = &shape_text[shape_text.find('(').unwrap() + 1..shape_text.find(')').unwrap()];
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("shape entry"))
        .collect();
    let count: usize = shape.iter().product();
    let values = match descr {
        "<f8" => Npy::F64(
            body.chunks_exact(8)
                .take(count)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        "<f4" => Npy::F32(
            body.chunks_exact(4)
                .take(count)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        "<i8" => Npy::I64(
            body.chunks_exact(8)
                .take(count)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        other => panic!("{}: unsupported dtype {other}", path.display()),
    };
    Array { shape, values }
}

// ---------------------------------------------------------------------------------------------
// Manifest and datasets.

fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(FIXTURES);
    assert!(
        dir.join("manifest.json").is_file(),
        "the metric fixtures are missing at {}: the shared/ folder must sit next to the workspace \
         root",
        dir.display()
    );
    dir
}

fn manifest() -> Value {
    let path = fixtures_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path).expect("manifest readable");
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// Non-rank cases of one manifest metric id.
fn cases(manifest: &Value, metric: &str) -> Vec<Value> {
    let found: Vec<Value> = manifest["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["metric"] == metric)
        .cloned()
        .collect();
    assert!(!found.is_empty(), "no case for metric {metric}");
    found
}

/// Every array a case names, loaded once.
struct Dataset {
    name: String,
    n_samples: usize,
    n_features: usize,
    features: Array,
    labels: Vec<i64>,
    extra: BTreeMap<String, Array>,
}

impl Dataset {
    fn load(case: &Value) -> Self {
        let dir = fixtures_dir();
        let mut extra = BTreeMap::new();
        let mut features = None;
        let mut labels = None;
        for (role, path) in case["inputs"].as_object().expect("inputs") {
            let array = read_npy(&dir.join(path.as_str().expect("path")));
            match role.as_str() {
                "features" => features = Some(array),
                "labels" => labels = Some(array.i64s()),
                _ => {
                    extra.insert(role.clone(), array);
                }
            }
        }
        // Metrics that read no features still get the dataset's, for score_metric.
        let name = case["dataset"].as_str().expect("dataset").to_string();
        let features = features.unwrap_or_else(|| read_npy(&dir.join(&name).join("features.npy")));
        let labels = labels.expect("labels");
        let (n_samples, n_features) = (features.shape[0], features.shape[1]);
        Self {
            name,
            n_samples,
            n_features,
            features,
            labels,
            extra,
        }
    }

    fn features(&self) -> FeatureMatrix<'_> {
        match &self.features.values {
            Npy::F64(v) => FeatureMatrix::from_f64(v, self.n_samples, self.n_features).unwrap(),
            Npy::F32(v) => FeatureMatrix::from_f32(v, self.n_samples, self.n_features).unwrap(),
            Npy::I64(_) => panic!("integer features"),
        }
    }

    fn labels(&self) -> ClassLabels {
        Targets::classes(&self.labels)
            .unwrap()
            .as_classes()
            .unwrap()
            .clone()
    }

    fn extra(&self, role: &str) -> &Array {
        self.extra
            .get(role)
            .unwrap_or_else(|| panic!("{}: no {role} array", self.name))
    }

    /// The dataset's source probabilities, read from its folder when the case does not name them.
    fn source_probabilities(&self) -> (Vec<f64>, usize) {
        match self.extra.get("source_probabilities") {
            Some(array) => (array.f64s(), array.shape[1]),
            None => {
                let path = fixtures_dir()
                    .join(&self.name)
                    .join("source_probabilities.npy");
                let array = read_npy(&path);
                (array.f64s(), array.shape[1])
            }
        }
    }
}

/// Checks `got` against the case's expected value and tolerance; returns |got − expected|.
fn check_value(case: &Value, got: f64) -> f64 {
    let id = case["id"].as_str().unwrap();
    assert_eq!(case["expected"]["kind"], "value", "{id}: not a value case");
    let expected = case["expected"]["value"].as_f64().unwrap();
    check_close(id, got, expected, &case["tolerance"])
}

fn check_close(what: &str, got: f64, expected: f64, tolerance: &Value) -> f64 {
    let abs = tolerance["abs"].as_f64().unwrap_or(0.0);
    let rel = tolerance["rel"].as_f64().unwrap_or(0.0);
    let diff = (got - expected).abs();
    let allowed = abs.max(rel * expected.abs());
    println!("{what:<52} got {got:>24.17e} expected {expected:>24.17e} |diff| {diff:.2e}");
    assert!(
        diff <= allowed,
        "{what}: got {got}, expected {expected} (|diff| {diff:e} > {allowed:e})"
    );
    diff
}

fn backend() -> FaerBackend {
    FaerBackend::new()
}

// ---------------------------------------------------------------------------------------------
// Coverage of the manifest.

#[test]
fn every_non_rank_case_has_a_checker() {
    let known = [
        "leep",
        "leep_google",
        "nce",
        "h_score",
        "h_score_google",
        "regularized_h_score",
        "transrate",
        "gbc",
        "nleep",
        "parc",
        "sfda",
    ];
    let rank = ["weightedtau", "kendalltau", "spearmanr", "pearsonr"];
    let manifest = manifest();
    for case in manifest["cases"].as_array().unwrap() {
        let metric = case["metric"].as_str().unwrap();
        assert!(
            known.contains(&metric) || rank.contains(&metric),
            "case {} has metric {metric}, which no test checks",
            case["id"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// LEEP, NCE.

#[test]
fn leep_matches_the_reference_and_drops_never_predicted_classes() {
    let manifest = manifest();
    let google = cases(&manifest, "leep_google");
    for case in cases(&manifest, "leep") {
        let data = Dataset::load(&case);
        let (probs, n_source) = data.source_probabilities();
        let probs = SourceProbabilities::new(&probs, data.n_samples, n_source).unwrap();
        let result = metrics::leep(probs, &data.labels()).unwrap();
        match case["expected"]["kind"].as_str().unwrap() {
            "value" => {
                check_value(&case, result.value);
                assert!(result.dropped_source_classes.is_empty());
            }
            "nan" => {
                // The reference's NaN: logme drops the zero-mass columns and returns the value
                // Google's NaN-safe formula gives in float64.
                let twin = google
                    .iter()
                    .find(|g| g["dataset"] == case["dataset"])
                    .unwrap();
                let expected = twin["also"]["same_formula_float64_numpy"].as_f64().unwrap();
                let id = format!("{} (NaN in the reference)", case["id"].as_str().unwrap());
                check_close(&id, result.value, expected, &case["tolerance"]);
                assert_eq!(result.dropped_source_classes, vec![1, 3], "{}", data.name);
            }
            other => panic!("unexpected kind {other}"),
        }
        assert!(result.rows_without_prediction.is_empty());
    }
}

#[test]
fn leep_google_matches_the_float32_reference_and_its_float64_twin() {
    let manifest = manifest();
    for case in cases(&manifest, "leep_google") {
        let data = Dataset::load(&case);
        let (probs, n_source) = data.source_probabilities();
        let probs = SourceProbabilities::new(&probs, data.n_samples, n_source).unwrap();
        let result = metrics::leep_google(probs, &data.labels()).unwrap();
        check_value(&case, result.value);
        let f64_twin = case["also"]["same_formula_float64_numpy"].as_f64().unwrap();
        let id = format!("{} (float64 formula)", case["id"].as_str().unwrap());
        check_close(
            &id,
            result.value,
            f64_twin,
            &serde_json::json!({"abs": 1e-12}),
        );
    }
}

#[test]
fn nce_matches_the_reference_from_labels_and_from_probabilities() {
    let manifest = manifest();
    for case in cases(&manifest, "nce") {
        let data = Dataset::load(&case);
        let source: Vec<u32> = data
            .extra("source_labels")
            .i64s()
            .iter()
            .map(|&v| v as u32)
            .collect();
        let value = metrics::nce(SourceLabels::new(&source), &data.labels()).unwrap();
        check_value(&case, value);

        // The argmax of the stored probabilities gives the same labels.
        let (probs, n_source) = data.source_probabilities();
        let probs = SourceProbabilities::new(&probs, data.n_samples, n_source).unwrap();
        assert_eq!(probs.argmax(), source, "{}", data.name);
    }
}

#[test]
fn required_small_values() {
    let target = Targets::classes(&[0u8, 1, 1, 1]).unwrap();
    let value = metrics::nce(
        SourceLabels::new(&[0, 0, 1, 1]),
        target.as_classes().unwrap(),
    );
    assert_eq!(value.unwrap(), -0.34657359027997264);

    let n = 12;
    let mut probs = vec![0.0; n * 4];
    for i in 0..n {
        probs[i * 4 + i % 3] = 1.0;
    }
    let targets: Vec<u32> = (0..n as u32).map(|i| (i / 4) % 3).collect();
    let targets = Targets::classes(&targets).unwrap();
    let labels = targets.as_classes().unwrap();
    let probs = SourceProbabilities::new(&probs, n, 4).unwrap();
    let result = metrics::leep(probs, labels).unwrap();
    assert!(
        (result.value - -1.0397207708399179).abs() < 1e-15,
        "{}",
        result.value
    );
    assert_eq!(result.dropped_source_classes, vec![3]);

    // The same through the uniform entry point, with the drop reported as a note.
    let features = vec![0.0; n];
    let features = FeatureMatrix::from_f64(&features, n, 1).unwrap();
    let score = metrics::score_metric(
        &backend(),
        MetricId::Leep,
        features,
        labels,
        Some(probs),
        &MetricParams::default(),
    )
    .unwrap();
    assert_eq!(score.value, result.value);
    assert!(score.notes[0].contains("[3]"), "{:?}", score.notes);
}

// ---------------------------------------------------------------------------------------------
// H-scores, TransRate, GBC.

#[test]
fn h_score_matches_the_reference() {
    let manifest = manifest();
    for case in cases(&manifest, "h_score") {
        let data = Dataset::load(&case);
        let value = metrics::h_score(&backend(), data.features(), &data.labels()).unwrap();
        check_value(&case, value);
    }
}

#[test]
fn h_score_google_matches_the_reference() {
    let manifest = manifest();
    for case in cases(&manifest, "h_score_google") {
        let data = Dataset::load(&case);
        let value = metrics::h_score_google(&backend(), data.features(), &data.labels()).unwrap();
        check_value(&case, value);
    }
}

#[test]
fn shrinkage_h_score_matches_the_reference_and_its_shrinkage() {
    let manifest = manifest();
    for case in cases(&manifest, "regularized_h_score") {
        let data = Dataset::load(&case);
        let result =
            metrics::shrinkage_h_score(&backend(), data.features(), &data.labels()).unwrap();
        check_value(&case, result.value);
        let shrinkage = case["also"]["ledoit_wolf_shrinkage"].as_f64().unwrap();
        let id = format!("{} (shrinkage)", case["id"].as_str().unwrap());
        check_close(
            &id,
            result.shrinkage,
            shrinkage,
            &serde_json::json!({"rel": 1e-10}),
        );
    }
}

#[test]
fn transrate_matches_the_reference_and_refuses_absent_classes() {
    let manifest = manifest();
    for case in cases(&manifest, "transrate") {
        let data = Dataset::load(&case);
        let result = metrics::transrate(&backend(), data.features(), &data.labels());
        match case["expected"]["kind"].as_str().unwrap() {
            "value" => {
                let result = result.unwrap();
                check_value(&case, result.value);
                let all = case["also"]["coding_rate_all"].as_f64().unwrap();
                let tol = serde_json::json!({"rel": 1e-10});
                check_close("  coding rate R(Z)", result.coding_rate_all, all, &tol);
                let per_class = case["also"]["coding_rate_per_class"].as_array().unwrap();
                assert_eq!(per_class.len(), result.coding_rate_per_class.len());
                for (got, expected) in result.coding_rate_per_class.iter().zip(per_class) {
                    check_close(
                        "  coding rate R(Z_c)",
                        *got,
                        expected.as_f64().unwrap(),
                        &tol,
                    );
                }
            }
            "error" => {
                // The reference raises ZeroDivisionError on the absent class id 2.
                match result {
                    Err(LogmeError::Unscorable {
                        metric: "transrate",
                        reason,
                    }) => {
                        assert!(reason.contains("class id 2"), "{reason}");
                    }
                    other => panic!("{}: expected Unscorable, got {other:?}", data.name),
                }
                // With the labels remapped onto the classes that occur, it scores.
                let remapped = Targets::classes_with(&data.labels, LabelPolicy::Remap).unwrap();
                let result =
                    metrics::transrate(&backend(), data.features(), remapped.as_classes().unwrap())
                        .unwrap();
                assert!(result.value.is_finite());
            }
            other => panic!("unexpected kind {other}"),
        }
    }
}

#[test]
fn gbc_matches_the_reference() {
    let manifest = manifest();
    for case in cases(&manifest, "gbc") {
        let data = Dataset::load(&case);
        let kind = match case["params"]["gaussian_type"].as_str().unwrap() {
            "diagonal" => GbcKind::Diagonal,
            "spherical" => GbcKind::Spherical,
            other => panic!("unknown gaussian_type {other}"),
        };
        let value = metrics::gbc(data.features(), &data.labels(), kind).unwrap();
        check_value(&case, value);
    }
}

/// The engine generator: s₀ = seed, sₖ = (1664525 sₖ₋₁ + 1013904223) mod 2³², uₖ = sₖ/2³² − ½.
fn engine_features(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..n * d)
        .map(|_| {
            state = (1664525 * state + 1013904223) % (1 << 32);
            state as f64 / 4294967296.0 - 0.5
        })
        .collect()
}

#[test]
fn engine_generator_reference_values() {
    let data = engine_features(60, 8, 1);
    let features = FeatureMatrix::from_f64(&data, 60, 8).unwrap();
    let labels: Vec<u32> = (0..60).map(|i| i % 3).collect();
    let targets = Targets::classes(&labels).unwrap();
    let labels = targets.as_classes().unwrap();
    let faer = backend();
    let naive = logme_core::NaiveBackend;
    let checks: [(&str, f64, f64, f64); 6] = [
        (
            "hscore",
            metrics::h_score(&faer, features, labels).unwrap(),
            0.23824504824110573,
            1e-12,
        ),
        (
            "shrinkage-hscore",
            metrics::shrinkage_h_score(&faer, features, labels)
                .unwrap()
                .value,
            0.06663825084955732,
            1e-12,
        ),
        (
            "transrate",
            metrics::transrate(&faer, features, labels).unwrap().value,
            0.6210385032673855,
            1e-12,
        ),
        (
            "hscore naive",
            metrics::h_score(&naive, features, labels).unwrap(),
            0.23824504824110573,
            1e-12,
        ),
        (
            "shrinkage-hscore naive",
            metrics::shrinkage_h_score(&naive, features, labels)
                .unwrap()
                .value,
            0.06663825084955732,
            1e-12,
        ),
        (
            "transrate naive",
            metrics::transrate(&naive, features, labels).unwrap().value,
            0.6210385032673855,
            1e-12,
        ),
    ];
    for (what, got, expected, rel) in checks {
        check_close(what, got, expected, &serde_json::json!({ "rel": rel }));
    }
}

// ---------------------------------------------------------------------------------------------
// NLEEP.

#[test]
fn nleep_leep_stage_matches_on_the_reference_posteriors() {
    let manifest = manifest();
    for case in cases(&manifest, "nleep") {
        let data = Dataset::load(&case);
        let posteriors = data.extra("nleep_gmm_posteriors_f32");
        let (values, k) = (posteriors.f64s(), posteriors.shape[1]);
        assert_eq!(k as u64, case["params"]["num_components"].as_u64().unwrap());
        let probs = SourceProbabilities::new(&values, data.n_samples, k).unwrap();
        let result = metrics::nleep_from_posteriors(probs, &data.labels()).unwrap();
        check_value(&case, result.value);
        let official = case["also"]["official_leep_f64_on_stored_f32_posteriors"]
            .as_f64()
            .unwrap();
        let id = format!(
            "{} (thuml LEEP on the f32 posteriors)",
            case["id"].as_str().unwrap()
        );
        check_close(
            &id,
            result.value,
            official,
            &serde_json::json!({"abs": 1e-12}),
        );
    }
}

#[test]
fn gmm_e_step_reproduces_the_reference_posteriors() {
    let manifest = manifest();
    let mut n_checked = 0;
    for case in cases(&manifest, "nleep") {
        let data = Dataset::load(&case);
        if !data.extra.contains_key("nleep_gmm_weights") {
            continue;
        }
        let mixture = GaussianMixture::new(
            data.extra("nleep_gmm_weights").f64s(),
            data.extra("nleep_gmm_means").f64s(),
            data.extra("nleep_gmm_covariances").f64s(),
            data.n_features,
        )
        .unwrap();
        let got = metrics::gmm_posteriors(&backend(), data.features(), &mixture).unwrap();
        let expected = data.extra("nleep_gmm_posteriors_f32").f64s();
        let max_diff = got
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max);
        println!("{:<52} max |posterior diff| {max_diff:.2e}", data.name);
        // The stored posteriors are float32: half an ulp of 1 is 6e-8.
        assert!(
            max_diff < 1e-7,
            "{}: posteriors differ by {max_diff:e}",
            data.name
        );
        n_checked += 1;
    }
    assert_eq!(n_checked, 5, "the fixtures store five fitted mixtures");
}

/// |own NLEEP − reference| with seed 0, as measured on all eight datasets (largest 0.106); the
/// nleep module docs quote it.
const NLEEP_OWN_GMM_BOUND: f64 = 0.11;

#[test]
fn own_gmm_nleep_is_close_to_the_reference() {
    let manifest = manifest();
    for case in cases(&manifest, "nleep") {
        let data = Dataset::load(&case);
        let started = std::time::Instant::now();
        let options = NleepOptions::default();
        let result = metrics::nleep(&backend(), data.features(), &data.labels(), &options).unwrap();
        let expected = case["expected"]["value"].as_f64().unwrap();
        let diff = (result.value - expected).abs();
        println!(
            "{:<52} own {:.6} reference {:.6} |diff| {diff:.4} (K {}, {} EM iterations, {:?})",
            case["id"].as_str().unwrap(),
            result.value,
            expected,
            result.n_components,
            result.n_iter,
            started.elapsed()
        );
        assert_eq!(
            result.n_components as u64,
            case["params"]["num_components"].as_u64().unwrap()
        );
        assert!(result.converged);
        assert!(diff <= NLEEP_OWN_GMM_BOUND, "{}: |diff| {diff}", data.name);
    }
}

// ---------------------------------------------------------------------------------------------
// PARC.

/// |exact-PCA PARC − reference (randomized PCA)| bound, as measured on the fixtures.
const PARC_PCA_BOUND: f64 = 0.2;

/// |PARC with exact label ties − reference| bound, as measured on the fixtures.
const PARC_EXACT_TIES_BOUND: f64 = 2.5;

/// logme's own PARC with 32 components clamped to D, where the reference raises (pinned values).
const PARC_CLAMPED: [(&str, f64); 4] = [
    ("p01_c3_n40_d8", 27.35666142329506),
    ("p02_c2_n120_d16", 20.119977942993515),
    ("p06_absent_c6_n150_d20", 26.47340302389196),
    ("p07_hard_c3_n60_d12", 19.519502213152307),
];

/// logme's own SFDA on the gapped labels of p06, where the reference fails (pinned value).
const SFDA_REMAPPED_P06: f64 = 0.8230738580921052;

fn parc_options(n_dims: Option<usize>, label_dissimilarity: LabelDissimilarity) -> ParcOptions {
    ParcOptions {
        n_dims,
        label_dissimilarity,
    }
}

#[test]
fn parc_matches_the_reference() {
    let manifest = manifest();
    for case in cases(&manifest, "parc") {
        let data = Dataset::load(&case);
        let labels = data.labels();
        let id = case["id"].as_str().unwrap();
        let n_dims = case["params"]["n_dims"].as_u64().map(|v| v as usize);
        let reference = parc_options(n_dims, LabelDissimilarity::Reference);
        let result = metrics::parc(&backend(), data.features(), &labels, &reference).unwrap();
        let Some(n_dims) = n_dims else {
            check_value(&case, result.value);
            // Exact label ties: the paper's definition, off the reference by its round-off.
            let exact = parc_options(None, LabelDissimilarity::Exact);
            let exact = metrics::parc(&backend(), data.features(), &labels, &exact).unwrap();
            let diff = (exact.value - result.value).abs();
            println!(
                "{id:<52} exact label ties {:.9} |diff| {diff:.4}",
                exact.value
            );
            assert!(
                diff <= PARC_EXACT_TIES_BOUND,
                "{id}: exact ties move PARC by {diff}"
            );
            continue;
        };
        match case["expected"]["kind"].as_str().unwrap() {
            "value" => {
                // The core on the reference's own PCA output reproduces it exactly.
                let reduced = data.extra("parc_pca32_features");
                let values = reduced.f64s();
                let reduced_view =
                    FeatureMatrix::from_f64(&values, reduced.shape[0], reduced.shape[1]).unwrap();
                let core_options = parc_options(None, LabelDissimilarity::Reference);
                let core = metrics::parc(&backend(), reduced_view, &labels, &core_options).unwrap();
                check_value(&case, core.value);

                // Exact PCA: agrees with scikit-learn's exact solver, and is within the measured
                // bound of the randomized one.
                let exact = case["also"]["variant_exact_pca_value"].as_f64().unwrap();
                let what = format!("{id} (exact PCA vs sklearn full)");
                check_close(
                    &what,
                    result.value,
                    exact,
                    &serde_json::json!({"abs": 1e-9}),
                );
                let expected = case["expected"]["value"].as_f64().unwrap();
                let diff = (result.value - expected).abs();
                println!("{id:<52} exact PCA vs randomized reference |diff| {diff:.4}");
                assert!(diff <= PARC_PCA_BOUND, "{id}: |diff| {diff}");
                assert_eq!(result.n_dims, Some(n_dims.min(data.n_samples)));
            }
            "error" => {
                // The reference raises for 32 > D; logme clamps to D and scores.
                assert!(data.n_features < n_dims);
                assert_eq!(result.n_dims, Some(data.n_features), "{id}");
                let pinned = PARC_CLAMPED
                    .iter()
                    .find(|(name, _)| *name == data.name)
                    .unwrap()
                    .1;
                let what = format!("{id} (clamped to D, pinned)");
                check_close(
                    &what,
                    result.value,
                    pinned,
                    &serde_json::json!({"abs": 1e-9}),
                );
            }
            other => panic!("unexpected kind {other}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SFDA.

#[test]
fn sfda_matches_the_reference_and_remaps_gapped_labels() {
    let manifest = manifest();
    for case in cases(&manifest, "sfda") {
        let data = Dataset::load(&case);
        let labels = data.labels();
        let result = metrics::sfda(&backend(), data.features(), &labels).unwrap();
        match case["expected"]["kind"].as_str().unwrap() {
            "value" => {
                check_value(&case, result.value);
                assert!(!result.labels_remapped);
                let printed = case["also"]["adaptive_shrinkage_printed_by_peer"][0]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("Shrinkage: ")
                    .parse::<f64>()
                    .unwrap();
                let id = format!("{} (shrinkage)", case["id"].as_str().unwrap());
                check_close(
                    &id,
                    result.shrinkage,
                    printed,
                    &serde_json::json!({"rel": 1e-9}),
                );
            }
            "error" => {
                // The reference fails on labels with a gap; logme remaps them first, which is
                // the same as scoring explicitly remapped labels.
                assert!(result.labels_remapped);
                let remapped = Targets::classes_with(&data.labels, LabelPolicy::Remap).unwrap();
                let direct =
                    metrics::sfda(&backend(), data.features(), remapped.as_classes().unwrap())
                        .unwrap();
                assert_eq!(result.value.to_bits(), direct.value.to_bits());
                assert!(!direct.labels_remapped);
                let what = format!("{} (remapped, pinned)", case["id"].as_str().unwrap());
                check_close(
                    &what,
                    result.value,
                    SFDA_REMAPPED_P06,
                    &serde_json::json!({"abs": 1e-12}),
                );
                println!(
                    "{:<52} reference fails; logme remaps: {}",
                    case["id"].as_str().unwrap(),
                    result.value
                );
            }
            other => panic!("unexpected kind {other}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Entry point, determinism, inputs, validation.

#[test]
fn metric_ids_round_trip() {
    let ids: Vec<&str> = MetricId::all().iter().map(MetricId::id).collect();
    assert_eq!(
        ids,
        [
            "logme",
            "leep",
            "nce",
            "nleep",
            "hscore",
            "shrinkage-hscore",
            "transrate",
            "gbc-diagonal",
            "gbc-spherical",
            "parc",
            "sfda"
        ]
    );
    for id in MetricId::all() {
        assert_eq!(id.id().parse::<MetricId>().unwrap(), *id);
        assert_eq!(
            id.needs_source_probabilities(),
            matches!(id, MetricId::Leep | MetricId::Nce)
        );
    }
    assert_eq!(
        "GBC_Diagonal".parse::<MetricId>().unwrap(),
        MetricId::GbcDiagonal
    );
    assert!(matches!(
        "h-score".parse::<MetricId>(),
        Err(LogmeError::InvalidArgument(_))
    ));
}

/// Every metric through `score_metric` on one dataset, twice: identical bits, untouched inputs.
fn check_determinism(dataset: &str) {
    let manifest = manifest();
    let case = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["dataset"] == dataset && c["metric"] == "h_score")
        .unwrap()
        .clone();
    let mut case = case;
    case["inputs"]["source_probabilities"] = format!("{dataset}/source_probabilities.npy").into();
    let data = Dataset::load(&case);
    let labels = data.labels();
    let (probs, n_source) = data.source_probabilities();
    let features_before: Vec<u64> = data.features.f64s().iter().map(|v| v.to_bits()).collect();
    let probs_before = probs.clone();
    let labels_before = labels.clone();
    let params = MetricParams {
        parc_dims: Some(4),
        ..MetricParams::default()
    };
    for metric in MetricId::all() {
        let run = || {
            let source = SourceProbabilities::new(&probs, data.n_samples, n_source).unwrap();
            metrics::score_metric(
                &backend(),
                *metric,
                data.features(),
                &labels,
                Some(source),
                &params,
            )
            .unwrap_or_else(|err| panic!("{metric} on {dataset}: {err}"))
        };
        let (first, second) = (run(), run());
        assert_eq!(
            first.value.to_bits(),
            second.value.to_bits(),
            "{metric} on {dataset}"
        );
        assert_eq!(first.notes, second.notes);
        assert!(
            first.value.is_finite(),
            "{metric} on {dataset}: {}",
            first.value
        );
        println!(
            "{dataset:<28} {metric:<18} {:>22.15e} {:?}",
            first.value, first.notes
        );
    }
    let features_after: Vec<u64> = data.features.f64s().iter().map(|v| v.to_bits()).collect();
    assert_eq!(features_before, features_after);
    assert_eq!(probs_before, probs);
    assert_eq!(labels_before, labels);
}

#[test]
fn every_metric_is_deterministic_and_leaves_inputs_untouched() {
    check_determinism("p07_hard_c3_n60_d12");
    check_determinism("p03_c5_n200_d32_f32");
}

/// Small enough that faer runs its kernels sequentially: every bit is then logme's own, so neither
/// the memory order nor the thread setting may change it. (At D = 128 faer's parallel kernels
/// round differently with the thread count; see the metrics module docs.)
#[test]
fn memory_order_and_thread_count_do_not_change_scores() {
    let data = engine_features(50, 6, 7);
    let mut col_major = vec![0.0; data.len()];
    for i in 0..50 {
        for j in 0..6 {
            col_major[i + j * 50] = data[i * 6 + j];
        }
    }
    let row = FeatureMatrix::from_f64(&data, 50, 6).unwrap();
    let col = FeatureMatrix::packed(
        logme_core::Elements::F64(&col_major),
        50,
        6,
        logme_core::Order::ColMajor,
    )
    .unwrap();
    let labels: Vec<u32> = (0..50).map(|i| (i * 7 % 4) as u32).collect();
    let targets = Targets::classes(&labels).unwrap();
    let labels = targets.as_classes().unwrap();
    let params = MetricParams {
        parc_dims: Some(3),
        nleep_components: Some(4),
        seed: 5,
    };
    let single = FaerBackend::with_threads(1);
    for metric in MetricId::all()
        .iter()
        .filter(|m| !m.needs_source_probabilities())
    {
        let a = metrics::score_metric(&backend(), *metric, row, labels, None, &params).unwrap();
        let b = metrics::score_metric(&backend(), *metric, col, labels, None, &params).unwrap();
        let c = metrics::score_metric(&single, *metric, row, labels, None, &params).unwrap();
        assert_eq!(a.value.to_bits(), b.value.to_bits(), "{metric}: order");
        assert_eq!(a.value.to_bits(), c.value.to_bits(), "{metric}: threads");
    }
}

#[test]
fn invalid_inputs_get_typed_errors() {
    let faer = backend();
    let params = MetricParams::default();
    let data = engine_features(10, 3, 3);
    let targets = Targets::classes(&[0u8, 1, 0, 1, 0, 1, 0, 1, 0, 1]).unwrap();
    let labels = targets.as_classes().unwrap();
    let one_class = Targets::classes(&[0u8; 10]).unwrap();
    let mut bad = data.clone();
    bad[4] = f64::NAN;
    let good = FeatureMatrix::from_f64(&data, 10, 3).unwrap();
    let nan = FeatureMatrix::from_f64(&bad, 10, 3).unwrap();
    let short = FeatureMatrix::from_f64(&data[..27], 9, 3).unwrap();
    for metric in MetricId::all()
        .iter()
        .filter(|m| !m.needs_source_probabilities())
    {
        let run = |f, l| metrics::score_metric(&faer, *metric, f, l, None, &params);
        assert!(
            matches!(
                run(nan, labels),
                Err(LogmeError::NonFiniteFeature { row: 1, col: 1, .. })
            ),
            "{metric}"
        );
        assert!(
            matches!(run(short, labels), Err(LogmeError::LengthMismatch { .. })),
            "{metric}"
        );
        if *metric != MetricId::Logme {
            assert!(
                matches!(
                    run(good, one_class.as_classes().unwrap()),
                    Err(LogmeError::Unscorable { .. })
                ),
                "{metric}"
            );
        }
    }
    for metric in [MetricId::Leep, MetricId::Nce] {
        let err = metrics::score_metric(&faer, metric, good, labels, None, &params);
        assert!(
            matches!(err, Err(LogmeError::InvalidArgument(_))),
            "{metric}"
        );
    }
}
