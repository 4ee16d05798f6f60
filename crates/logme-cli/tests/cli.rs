//! End-to-end tests of the `logme` binary: the example dataset, the reference fixtures, every
//! reader format giving the same score, and one clear error line for each kind of bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

fn logme(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logme"))
        .args(args)
        .output()
        .expect("run logme")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example() -> PathBuf {
    repo_root().join("examples/data/wordnet-supersenses")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "logme failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Asserts a failure with exactly one stderr line containing every `needle`, and no stdout.
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success; stderr: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "partial output on failure: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "`{needle}` missing from: {}",
            lines[0]
        );
    }
}

/// A minimal .npy writer: little-endian, version 1.0.
fn write_npy(path: &Path, descr: &str, fortran: bool, shape: &[usize], data: &[u8]) {
    let shape_text = match shape {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let fortran_text = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {fortran_text}, 'shape': {shape_text}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A seeded 50 x 6 matrix (row-major, exactly representable in f32) and labels i mod 3.
fn small_data() -> (Vec<f32>, Vec<i64>) {
    let mut state = 7u64;
    let data = (0..300)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((state >> 40) as f32) / (1u64 << 24) as f32 - 0.5;
            noise + if i % 6 == (i / 6) % 3 { 1.0 } else { 0.0 }
        })
        .collect();
    (data, (0..50).map(|i| i % 3).collect())
}

fn score_of(features: &Path, labels: &Path, extra: &[&str]) -> f64 {
    let mut args = vec![
        "score",
        "--features",
        features.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    json_of(&logme(&args))["score"].as_f64().unwrap()
}

#[test]
fn rank_example_dataset_prints_sorted_models_and_correlations() {
    let out = logme(&["rank", example().to_str().unwrap(), "--format", "json"]);
    let json = json_of(&out);
    let models = json["models"].as_array().unwrap();
    assert!(models.len() >= 7, "expected the example candidates");
    let scores: Vec<f64> = models
        .iter()
        .map(|m| m["scores"]["logme"].as_f64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "not sorted best first: {scores:?}"
    );
    let accuracies: Vec<f64> = models
        .iter()
        .map(|m| m["accuracy"].as_f64().unwrap())
        .collect();
    let tau = json["correlations"]["logme"]["weighted_tau"]
        .as_f64()
        .unwrap();
    let expected = logme::ranking::weighted_tau(&scores, &accuracies)
        .unwrap()
        .unwrap();
    assert!((tau - expected).abs() < 1e-12);
    for m in models {
        assert_eq!(m["n_samples"], 2400);
        assert!(m["seconds"].as_f64().unwrap() >= 0.0);
    }

    // The table and CSV formats carry the same ranking.
    let table = logme(&["rank", example().to_str().unwrap()]);
    assert!(table.status.success());
    let text = String::from_utf8(table.stdout).unwrap();
    let top = models[0]["model"].as_str().unwrap();
    assert!(text.lines().nth(1).unwrap().contains(top), "{text}");
    assert!(text.contains("weighted_tau"));
    let csv = logme(&["rank", example().to_str().unwrap(), "--format", "csv"]);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.starts_with("rank,model,logme,n_samples,n_features,seconds,accuracy"));
    assert_eq!(csv.lines().count(), models.len() + 1);
}

#[test]
fn rank_with_named_files_equals_rank_of_the_folder() {
    let dir = example();
    let labels = dir.join("labels.npy");
    let a = dir.join("features/tfidf-svd.npy");
    let b = dir.join("features/hashing-randproj.npy");
    let out = logme(&[
        "rank",
        "--labels",
        labels.to_str().unwrap(),
        &format!("tfidf={}", a.display()),
        &format!("hash={}", b.display()),
        "--format",
        "json",
    ]);
    let json = json_of(&out);
    let models = json["models"].as_array().unwrap();
    assert_eq!(models[0]["model"], "tfidf");
    let direct = score_of(&a, &labels, &[]);
    assert_eq!(models[0]["scores"]["logme"].as_f64().unwrap(), direct);
    assert!(json["correlations"].as_object().unwrap().is_empty());
}

#[test]
fn score_json_reports_every_field_and_predict_writes_npy() {
    let dir = example();
    let features = dir.join("features/tfidf-svd.npy");
    let labels = dir.join("labels.npy");
    let json = json_of(&logme(&[
        "score",
        "--features",
        features.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--format",
        "json",
    ]));
    for key in [
        "score",
        "task",
        "method",
        "mode",
        "backend",
        "n_samples",
        "n_features",
        "n_targets",
        "rank",
    ] {
        assert!(!json[key].is_null(), "missing {key}");
    }
    assert_eq!(json["n_targets"], 24);
    let columns = json["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 24);
    for c in columns {
        for key in ["evidence", "alpha", "beta", "iterations", "converged"] {
            assert!(!c[key].is_null(), "missing column {key}");
        }
    }
    let mean: f64 = columns
        .iter()
        .map(|c| c["evidence"].as_f64().unwrap())
        .sum::<f64>()
        / 24.0;
    assert!((mean - json["score"].as_f64().unwrap()).abs() < 1e-12);

    let tmp = TempDir::new().unwrap();
    let out_path = tmp.path().join("pred.npy");
    let out = logme(&[
        "predict",
        "--features",
        features.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--test",
        features.to_str().unwrap(),
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let predicted = logme_cli::read::LabelFile::open(&out_path, None).unwrap();
    let truth = logme_cli::read::LabelFile::open(&labels, None).unwrap();
    let (logme_cli::read::LabelValues::Int(p), logme_cli::read::LabelValues::Int(t)) =
        (predicted.values, truth.values)
    else {
        panic!("integer predictions expected");
    };
    assert_eq!(p.len(), 2400);
    let accuracy = p.iter().zip(&t).filter(|(a, b)| a == b).count() as f64 / 2400.0;
    assert!(
        accuracy > 0.3,
        "training accuracy {accuracy} is implausibly low"
    );
}

#[test]
fn every_reader_format_gives_the_same_score() {
    let tmp = TempDir::new().unwrap();
    let (data, labels) = small_data();
    let (n, d) = (50, 6);
    let labels_path = tmp.path().join("labels.npy");
    write_npy(
        &labels_path,
        "<i8",
        false,
        &[n],
        &labels
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    );

    let f32_path = tmp.path().join("f32.npy");
    write_npy(&f32_path, "<f4", false, &[n, d], &f32_bytes(&data));
    let widened: Vec<f64> = data.iter().map(|&v| f64::from(v)).collect();
    let f64_path = tmp.path().join("f64.npy");
    write_npy(&f64_path, "<f8", false, &[n, d], &f64_bytes(&widened));
    let mut fortran = vec![0.0f64; n * d];
    for i in 0..n {
        for j in 0..d {
            fortran[i + j * n] = widened[i * d + j];
        }
    }
    let fortran_path = tmp.path().join("fortran.npy");
    write_npy(&fortran_path, "<f8", true, &[n, d], &f64_bytes(&fortran));

    // .npz holding the f32 array under the key `feats`.
    let npz_path = tmp.path().join("features.npz");
    {
        let mut npy = Vec::new();
        let inner = tmp.path().join("inner.npy");
        write_npy(&inner, "<f4", false, &[n, d], &f32_bytes(&data));
        npy.extend(std::fs::read(&inner).unwrap());
        let file = std::fs::File::create(&npz_path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        zip.start_file("feats.npy", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&npy).unwrap();
        zip.finish().unwrap();
    }

    // .safetensors with one f32 tensor.
    let st_path = tmp.path().join("features.safetensors");
    let bytes = f32_bytes(&data);
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![n, d], &bytes).unwrap();
    let serialized = safetensors::serialize([("embeddings", view)], None).unwrap();
    std::fs::write(&st_path, serialized).unwrap();

    // CSV with a header; values printed with enough digits to round-trip f32.
    let csv_path = tmp.path().join("features.csv");
    let mut csv = (0..d)
        .map(|j| format!("f{j}"))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for row in widened.chunks(d) {
        csv += &row
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(",");
        csv.push('\n');
    }
    std::fs::write(&csv_path, csv).unwrap();

    let reference = score_of(&f32_path, &labels_path, &[]);
    assert!(reference.is_finite());
    for path in [&f64_path, &fortran_path, &npz_path, &st_path, &csv_path] {
        let s = score_of(path, &labels_path, &[]);
        assert!(
            (s - reference).abs() <= 1e-12 * reference.abs().max(1.0),
            "{}: {s} vs {reference}",
            path.display()
        );
    }
    let keyed = score_of(&npz_path, &labels_path, &["--key", "feats"]);
    assert!((keyed - reference).abs() <= 1e-12 * reference.abs().max(1.0));
}

#[test]
fn reference_fixtures_through_the_command_line() {
    let dir = repo_root().join("../shared/fixtures/reference");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json"))
            .expect("../shared/fixtures/reference/manifest.json is missing"),
    )
    .unwrap();
    for case in manifest["cases"].as_array().unwrap() {
        let features = dir.join(case["features"]["path"].as_str().unwrap());
        let labels = dir.join(case["labels"]["path"].as_str().unwrap());
        let task = case["task"].as_str().unwrap();
        for backend in logme::Backend::available() {
            if backend == "naive" {
                continue;
            }
            for (method, key) in [("fixed-point", "logme_fixed_point"), ("icml", "logme_icml")] {
                let json = json_of(&logme(&[
                    "score",
                    "--features",
                    features.to_str().unwrap(),
                    "--labels",
                    labels.to_str().unwrap(),
                    "--task",
                    task,
                    "--method",
                    method,
                    "--backend",
                    backend,
                    "--format",
                    "json",
                ]));
                assert_eq!(json["backend"], backend);
                let want = case[key]["score"].as_f64().unwrap();
                let got = json["score"].as_f64().unwrap();
                assert!(
                    (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{} {method} {backend}: {got} vs {want}",
                    case["name"]
                );
                let evidence = case[key]["per_target_evidence"].as_array().unwrap();
                for (c, e) in json["columns"].as_array().unwrap().iter().zip(evidence) {
                    let (g, w) = (c["evidence"].as_f64().unwrap(), e.as_f64().unwrap());
                    assert!(
                        (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                        "{} {method}: evidence {g} vs {w}",
                        case["name"]
                    );
                }
            }
        }
    }
}

#[test]
fn bad_inputs_give_one_clear_line_and_a_failure_code() {
    let tmp = TempDir::new().unwrap();
    let t = tmp.path();
    let (data, labels) = small_data();
    let labels_path = t.join("labels.npy");
    write_npy(
        &labels_path,
        "<i8",
        false,
        &[50],
        &labels
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let good = t.join("good.npy");
    write_npy(&good, "<f4", false, &[50, 6], &f32_bytes(&data));
    let lbl = labels_path.to_str().unwrap();
    let score = |features: &Path, extra: &[&str]| {
        let mut args = vec![
            "score",
            "--features",
            features.to_str().unwrap(),
            "--labels",
            lbl,
        ];
        args.extend_from_slice(extra);
        logme(&args)
    };

    // A missing file.
    let missing = t.join("missing.npy");
    assert_one_line_error(&score(&missing, &[]), &["missing.npy"]);

    // A truncated .npy.
    let truncated = t.join("truncated.npy");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    assert_one_line_error(&score(&truncated, &[]), &["truncated.npy", "truncated"]);

    // Not a .npy file at all.
    let text = t.join("text.npy");
    std::fs::write(&text, "hello, world\n").unwrap();
    assert_one_line_error(&score(&text, &[]), &["text.npy"]);

    // Features and labels of different lengths.
    let short = t.join("short.npy");
    write_npy(&short, "<f4", false, &[40, 6], &f32_bytes(&data[..240]));
    assert_one_line_error(&score(&short, &[]), &["short.npy", "40 rows", "50 labels"]);

    // NaN in the features.
    let mut with_nan = data.clone();
    with_nan[3 * 6 + 2] = f32::NAN;
    let nan = t.join("nan.npy");
    write_npy(&nan, "<f4", false, &[50, 6], &f32_bytes(&with_nan));
    assert_one_line_error(&score(&nan, &[]), &["nan.npy", "row 3, column 2"]);

    // A 3-D array.
    let cube = t.join("cube.npy");
    write_npy(&cube, "<f4", false, &[50, 3, 2], &f32_bytes(&data));
    assert_one_line_error(&score(&cube, &[]), &["cube.npy"]);

    // An unknown --key in an .npz.
    let npz = t.join("f.npz");
    {
        let file = std::fs::File::create(&npz).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        zip.start_file("feats.npy", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&bytes).unwrap();
        zip.finish().unwrap();
    }
    assert_one_line_error(
        &score(&npz, &["--key", "nope"]),
        &["f.npz", "nope", "feats"],
    );

    // Negative and fractional labels.
    let negative = t.join("negative.npy");
    let mut neg = labels.clone();
    neg[4] = -1;
    write_npy(
        &negative,
        "<i8",
        false,
        &[50],
        &neg.iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let out = logme(&[
        "score",
        "--features",
        good.to_str().unwrap(),
        "--labels",
        negative.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, &["negative.npy", "row 4", "-1"]);
    let fractional = t.join("fractional.npy");
    let frac: Vec<f64> = (0..50)
        .map(|i| if i == 7 { 0.5 } else { (i % 3) as f64 })
        .collect();
    write_npy(&fractional, "<f8", false, &[50], &f64_bytes(&frac));
    let out = logme(&[
        "score",
        "--features",
        good.to_str().unwrap(),
        "--labels",
        fractional.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, &["fractional.npy", "row 7"]);
    let huge = t.join("huge.npy");
    let mut big = labels.clone();
    big[0] = 1 << 40;
    write_npy(
        &huge,
        "<i8",
        false,
        &[50],
        &big.iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let out = logme(&[
        "score",
        "--features",
        good.to_str().unwrap(),
        "--labels",
        huge.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, &["huge.npy", "largest label"]);

    // rank: two label files, an empty features folder, and a model name given twice.
    let twice = t.join("twice");
    std::fs::create_dir_all(twice.join("features")).unwrap();
    std::fs::copy(&labels_path, twice.join("labels.npy")).unwrap();
    std::fs::write(twice.join("labels.csv"), "0\n1\n").unwrap();
    std::fs::copy(&good, twice.join("features/good.npy")).unwrap();
    assert_one_line_error(
        &logme(&["rank", twice.to_str().unwrap()]),
        &["several label files"],
    );

    let dataset = t.join("dataset");
    std::fs::create_dir_all(dataset.join("features")).unwrap();
    std::fs::copy(&labels_path, dataset.join("labels.npy")).unwrap();
    let out = logme(&["rank", dataset.to_str().unwrap()]);
    assert_one_line_error(&out, &["features", "no feature files"]);
    let out = logme(&[
        "rank",
        "--labels",
        lbl,
        &format!("a={}", good.display()),
        &format!("a={}", good.display()),
    ]);
    assert_one_line_error(&out, &["`a`", "twice"]);

    // Features whose Gram matrix overflows f64.
    let huge_scale: Vec<f64> = data.iter().map(|&v| f64::from(v) * 1e200).collect();
    let overflow = t.join("overflow.npy");
    write_npy(&overflow, "<f8", false, &[50, 6], &f64_bytes(&huge_scale));
    assert_one_line_error(
        &score(&overflow, &[]),
        &["overflow.npy", "range of f64", "rescale"],
    );

    // Predictions go to .npy files only, and nothing is written on refusal.
    let csv_out = t.join("pred.csv");
    let out = logme(&[
        "predict",
        "--features",
        good.to_str().unwrap(),
        "--labels",
        lbl,
        "--test",
        good.to_str().unwrap(),
        "--output",
        csv_out.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, &["pred.csv", ".npy"]);
    assert!(!csv_out.exists());

    // An absurd thread count is a usage error (exit code 2).
    let out = score(&good, &["--threads", "100000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());

    // rank fails as a whole, without partial output, when one candidate is bad.
    std::fs::copy(&good, dataset.join("features/good.npy")).unwrap();
    std::fs::copy(&nan, dataset.join("features/nan.npy")).unwrap();
    let out = logme(&["rank", dataset.to_str().unwrap()]);
    assert_one_line_error(&out, &["nan.npy", "row 3, column 2"]);
}

#[test]
fn stats_of_shards_merge_to_the_score_of_the_whole() {
    let tmp = TempDir::new().unwrap();
    let t = tmp.path();
    let (data, labels) = small_data();
    let whole_features = t.join("whole.npy");
    let whole_labels = t.join("labels.npy");
    write_npy(&whole_features, "<f4", false, &[50, 6], &f32_bytes(&data));
    let label_bytes = |l: &[i64]| l.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    write_npy(&whole_labels, "<i8", false, &[50], &label_bytes(&labels));
    let whole = score_of(&whole_features, &whole_labels, &[]);

    // Shard B holds only classes 0 and 1, so its own class count is smaller: merge pads it.
    let order: Vec<usize> = (0..50)
        .filter(|&i| labels[i] == 2)
        .chain((0..50).filter(|&i| labels[i] != 2))
        .collect();
    let (first, second) = order.split_at(20);
    let mut shard_dirs = Vec::new();
    for (name, rows) in [("a", first), ("b", second)] {
        let feats: Vec<f32> = rows
            .iter()
            .flat_map(|&i| data[i * 6..(i + 1) * 6].to_vec())
            .collect();
        let labs: Vec<i64> = rows.iter().map(|&i| labels[i]).collect();
        let f = t.join(format!("{name}.npy"));
        let l = t.join(format!("{name}-labels.npy"));
        write_npy(&f, "<f4", false, &[rows.len(), 6], &f32_bytes(&feats));
        write_npy(&l, "<i8", false, &[rows.len()], &label_bytes(&labs));
        let dir = t.join(format!("stats-{name}"));
        let out = logme(&[
            "stats",
            "--features",
            f.to_str().unwrap(),
            "--labels",
            l.to_str().unwrap(),
            "--output",
            dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        shard_dirs.push(dir);
    }
    let merged = json_of(&logme(&[
        "merge",
        shard_dirs[0].to_str().unwrap(),
        shard_dirs[1].to_str().unwrap(),
        "--format",
        "json",
    ]));
    let score = merged["score"].as_f64().unwrap();
    assert!(
        (score - whole).abs() <= 1e-10,
        "merged {score} vs whole {whole}"
    );
    assert_eq!(merged["n_samples"], 50);

    // A folder that is not a shard is refused with one line.
    let out = logme(&["merge", t.to_str().unwrap()]);
    assert_one_line_error(&out, &["meta.json", "logme stats"]);
}
