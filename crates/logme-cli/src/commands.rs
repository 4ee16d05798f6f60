//! What each subcommand does.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use logme::ranking::{self, RankCorrelations};
use logme::{Backend, Fit, LabelPolicy, LogMe, Method, Mode, Prediction, Targets};
use logme_cli::read::{self, FeatureFile, LabelFile, LabelValues};

use crate::args::{
    Cli, Command, FitArgs, LabelPolicyArg, MethodArg, ModeArg, PredictArgs, RankArgs, ScoreArgs,
    TaskArg,
};
use crate::output;

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Score(args) => score(&args),
        Command::Rank(args) => rank(&args),
        Command::Predict(args) => predict(&args),
        Command::Stats(args) => crate::shards::save(&args),
        Command::Merge(args) => crate::shards::merge(&args),
    }
}

/// The configured builder for these options.
pub fn builder(fit: &FitArgs) -> Result<LogMe> {
    let backend = Backend::from_name(&fit.backend, usize::from(fit.threads))?;
    let method = match fit.method {
        MethodArg::FixedPoint => Method::FixedPoint,
        MethodArg::Icml => Method::Icml,
    };
    let mode = match fit.mode {
        ModeArg::Reference => Mode::Reference,
        ModeArg::Exact => Mode::Exact,
    };
    Ok(LogMe::new().method(method).mode(mode).backend(backend))
}

/// Reads labels and turns them into targets for the task.
pub fn load_targets(path: &Path, fit: &FitArgs) -> Result<Targets> {
    let labels = LabelFile::open(path, fit.labels_key.as_deref())?;
    let context = || format!("labels in `{}`", path.display());
    let policy = match fit.label_policy {
        LabelPolicyArg::Reference => LabelPolicy::Reference,
        LabelPolicyArg::Reject => LabelPolicy::Reject,
        LabelPolicyArg::Remap => LabelPolicy::Remap,
    };
    match fit.task {
        TaskArg::Classification => {
            if labels.n_cols != 1 {
                bail!(
                    "labels in `{}` have shape [{}, {}], but classification needs one class id \
                     per sample; pass a 1-D array or use --task multilabel|regression",
                    path.display(),
                    labels.n_rows,
                    labels.n_cols
                );
            }
            let targets = match &labels.values {
                LabelValues::Int(v) => Targets::classes_with(v, policy),
                LabelValues::Float(v) => Targets::classes_with(v, policy),
            };
            targets.with_context(context)
        }
        TaskArg::Multilabel | TaskArg::Regression => {
            let values: Vec<f64> = match labels.values {
                LabelValues::Int(v) => v.iter().map(|&x| x as f64).collect(),
                LabelValues::Float(v) => v,
            };
            let targets = if fit.task == TaskArg::Multilabel {
                Targets::multilabel(&values, labels.n_rows, labels.n_cols)
            } else {
                Targets::regression(&values, labels.n_rows, labels.n_cols)
            };
            targets.with_context(context)
        }
    }
}

/// Refuses features and labels of different lengths, naming both files.
pub fn check_lengths(
    features: &FeatureFile,
    path: &Path,
    targets: &Targets,
    labels: &Path,
) -> Result<()> {
    if features.n_samples() != targets.n_samples() {
        bail!(
            "`{}` has {} rows but `{}` has {} labels; features and labels must describe the same \
             samples in the same order",
            path.display(),
            features.n_samples(),
            labels.display(),
            targets.n_samples()
        );
    }
    Ok(())
}

fn fit_file(
    logme: &LogMe,
    path: &Path,
    key: Option<&str>,
    targets: &Targets,
    labels: &Path,
) -> Result<(Fit, FeatureFile)> {
    let features = FeatureFile::open(path, key)?;
    check_lengths(&features, path, targets, labels)?;
    let fit = logme
        .fit(features.matrix(), targets)
        .with_context(|| format!("scoring `{}`", path.display()))?;
    Ok((fit, features))
}

fn score(args: &ScoreArgs) -> Result<()> {
    let logme = builder(&args.fit)?;
    let targets = load_targets(&args.labels, &args.fit)?;
    let start = Instant::now();
    let (fit, _features) = fit_file(
        &logme,
        &args.features,
        args.fit.key.as_deref(),
        &targets,
        &args.labels,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    for diagnostic in &fit.diagnostics {
        eprintln!("note: {diagnostic}");
    }
    output::print_score(&fit, logme.linalg().name(), seconds, args.format)
}

fn predict(args: &PredictArgs) -> Result<()> {
    let logme = builder(&args.fit)?;
    let targets = load_targets(&args.labels, &args.fit)?;
    let (fit, _features) = fit_file(
        &logme,
        &args.features,
        args.fit.key.as_deref(),
        &targets,
        &args.labels,
    )?;
    if let Some(path) = &args.output
        && path.extension().and_then(|e| e.to_str()) != Some("npy")
    {
        bail!(
            "predictions are written as .npy, but `{}` has another extension; name the output \
             file *.npy",
            path.display()
        );
    }
    let test = FeatureFile::open(&args.test, args.fit.key.as_deref())?;
    if test.n_samples() == 0 {
        bail!(
            "`{}` has no rows; give at least one test sample",
            args.test.display()
        );
    }
    let prediction = logme
        .predict(&fit, test.matrix())
        .with_context(|| format!("predicting on `{}`", args.test.display()))?;
    match (&args.output, prediction) {
        (Some(path), Prediction::Classes(classes)) => {
            let ints = classes
                .iter()
                .map(|&c| i64::try_from(c))
                .collect::<Result<Vec<i64>, _>>()
                .map_err(|_| anyhow!("a predicted label does not fit in int64"))?;
            read::write_npy_i64(path, &ints)?;
        }
        (
            Some(path),
            Prediction::Values {
                values,
                n_rows,
                n_cols,
            },
        ) => {
            read::write_npy_f64(path, &values, n_rows, n_cols)?;
        }
        (None, Prediction::Classes(classes)) => {
            let text: String = classes.iter().map(|c| format!("{c}\n")).collect();
            output::emit(&text)?;
        }
        (None, Prediction::Values { values, n_cols, .. }) => {
            let mut text = String::new();
            for row in values.chunks_exact(n_cols.max(1)) {
                let cells: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
                text.push_str(&cells.join(","));
                text.push('\n');
            }
            output::emit(&text)?;
        }
    }
    Ok(())
}

/// One candidate model to rank.
pub struct Candidate {
    pub name: String,
    pub path: PathBuf,
    /// DATASET_DIR/source_probs/<name>.npy, when present.
    pub source_probs: Option<PathBuf>,
}

/// A candidate as the metric dispatch sees it.
pub type CandidateRef<'a> = &'a Candidate;

/// Where `rank` reads from.
struct RankInputs {
    labels: PathBuf,
    candidates: Vec<Candidate>,
    transfer: Option<PathBuf>,
}

const FEATURE_EXTENSIONS: [&str; 6] = ["npy", "npz", "safetensors", "csv", "tsv", "txt"];

fn rank_inputs(args: &RankArgs) -> Result<RankInputs> {
    let mut dataset: Option<PathBuf> = None;
    let mut candidates = Vec::new();
    for input in &args.inputs {
        if let Some((name, file)) = input.split_once('=') {
            if name.is_empty() || file.is_empty() {
                bail!(
                    "`{input}` is not NAME=FILE; give each candidate as name=path/to/features.npy"
                );
            }
            candidates.push(Candidate {
                name: name.to_string(),
                path: PathBuf::from(file),
                source_probs: None,
            });
        } else if dataset.is_none() {
            dataset = Some(PathBuf::from(input));
        } else {
            bail!(
                "more than one DATASET_DIR given (`{input}`); give one folder, or NAME=FILE pairs"
            );
        }
    }
    let mut labels = args.labels.clone();
    let mut transfer = args.transfer.clone();
    if let Some(dir) = &dataset {
        if !dir.is_dir() {
            bail!(
                "`{}` is not a folder; give DATASET_DIR or NAME=FILE pairs with --labels",
                dir.display()
            );
        }
        if labels.is_none() {
            let found: Vec<PathBuf> = ["labels.npy", "labels.csv", "labels.txt", "labels.tsv"]
                .iter()
                .map(|f| dir.join(f))
                .filter(|p| p.is_file())
                .collect();
            if found.len() > 1 {
                bail!(
                    "`{}` has several label files ({}); keep one, or choose with --labels",
                    dir.display(),
                    found
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            labels = found.into_iter().next();
            if labels.is_none() {
                bail!(
                    "`{}` has no labels.npy (or labels.csv/.txt); add one or pass --labels",
                    dir.display()
                );
            }
        }
        let features_dir = dir.join("features");
        let entries = std::fs::read_dir(&features_dir).with_context(|| {
            format!(
                "cannot list `{}`; put one feature file per model there",
                features_dir.display()
            )
        })?;
        let mut found = Vec::new();
        for entry in entries {
            let path = entry
                .with_context(|| format!("listing `{}`", features_dir.display()))?
                .path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if path.is_file() && !hidden && FEATURE_EXTENSIONS.contains(&ext) {
                let name = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string();
                let probs = dir.join("source_probs").join(format!("{name}.npy"));
                let source_probs = probs.is_file().then_some(probs);
                found.push(Candidate {
                    name,
                    path,
                    source_probs,
                });
            }
        }
        if found.is_empty() {
            bail!(
                "`{}` holds no feature files (.npy, .npz, .safetensors, .csv, .tsv, .txt); add one per candidate model",
                features_dir.display()
            );
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        candidates.extend(found);
        if transfer.is_none() {
            let path = dir.join("transfer.csv");
            transfer = path.is_file().then_some(path);
        }
    }
    let Some(labels) = labels else {
        bail!("no labels: give DATASET_DIR, or --labels y.npy with NAME=FILE candidates");
    };
    if candidates.is_empty() {
        bail!("no candidate models: give DATASET_DIR or NAME=FILE pairs");
    }
    let mut seen = BTreeSet::new();
    for c in &candidates {
        if !seen.insert(c.name.clone()) {
            bail!(
                "model name `{}` is given twice (`{}`); give each candidate a unique name",
                c.name,
                c.path.display()
            );
        }
    }
    Ok(RankInputs {
        labels,
        candidates,
        transfer,
    })
}

/// One scored candidate.
pub struct Ranked {
    pub model: String,
    pub scores: BTreeMap<String, Option<f64>>,
    pub n_samples: usize,
    pub n_features: usize,
    pub seconds: f64,
    pub accuracy: Option<f64>,
}

fn rank(args: &RankArgs) -> Result<()> {
    let inputs = rank_inputs(args)?;
    let logme = builder(&args.fit)?;
    let metrics = crate::output::parse_metrics(&args.metrics)?;
    let targets = load_targets(&inputs.labels, &args.fit)?;
    let accuracies: BTreeMap<String, f64> = match &inputs.transfer {
        Some(path) => read::read_transfer_csv(path)?.into_iter().collect(),
        None => BTreeMap::new(),
    };
    let mut notes = output::Notes::default();
    if let Some(path) = &inputs.transfer {
        let extra: Vec<&str> = accuracies
            .keys()
            .filter(|m| !inputs.candidates.iter().any(|c| &c.name == *m))
            .map(String::as_str)
            .collect();
        if !extra.is_empty() {
            notes.important(format!(
                "`{}` lists models that are not candidates, ignored: {}",
                path.display(),
                extra.join(", ")
            ));
        }
        for c in &inputs.candidates {
            if !accuracies.contains_key(&c.name) {
                bail!(
                    "`{}` has no accuracy for model `{}`; add a row `{},<accuracy>`",
                    path.display(),
                    c.name,
                    c.name
                );
            }
        }
    }

    let progress = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(inputs.candidates.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut ranked = Vec::with_capacity(inputs.candidates.len());
    for candidate in &inputs.candidates {
        if let Some(bar) = &progress {
            bar.set_message(candidate.name.clone());
        }
        let start = Instant::now();
        let features = FeatureFile::open(&candidate.path, args.fit.key.as_deref())?;
        check_lengths(&features, &candidate.path, &targets, &inputs.labels)?;
        let mut scores = BTreeMap::new();
        for metric in &metrics {
            let value = crate::output::score_metric(
                &logme, metric, &features, &targets, candidate, args, &mut notes,
            )
            .with_context(|| format!("scoring `{}` with {metric}", candidate.path.display()))?;
            scores.insert(metric.clone(), value);
        }
        ranked.push(Ranked {
            model: candidate.name.clone(),
            scores,
            n_samples: features.n_samples(),
            n_features: features.n_features(),
            seconds: start.elapsed().as_secs_f64(),
            accuracy: accuracies.get(&candidate.name).copied(),
        });
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    // Sort best first by the first metric; undefined scores last.
    let key = metrics[0].clone();
    ranked.sort_by(|a, b| {
        let (x, y) = (a.scores[&key], b.scores[&key]);
        match (x, y) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
    let mut correlations = Vec::new();
    if !accuracies.is_empty() {
        for metric in &metrics {
            let pairs: Vec<(f64, f64)> = ranked
                .iter()
                .filter_map(|r| Some((r.scores[metric]?, r.accuracy?)))
                .filter(|(score, _)| score.is_finite())
                .collect();
            let (s, a): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
            let value: Option<RankCorrelations> = if s.len() >= 2 {
                ranking::all(&s, &a).ok()
            } else {
                None
            };
            correlations.push((metric.clone(), value));
        }
    }
    output::print_rank(&ranked, &metrics, &correlations, &logme, args.format)?;
    notes.print(args.verbose);
    Ok(())
}
