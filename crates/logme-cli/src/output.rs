//! Metric dispatch and the three output formats (table, JSON, CSV).

use std::fmt::Write as _;

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use logme::metrics::{self, MetricId, MetricParams, SourceProbabilities};
use logme::ranking::RankCorrelations;
use logme::{Fit, LogMe, LogmeError, Targets};
use logme_cli::read::FeatureFile;
use serde_json::{Value, json};

use crate::args::{Format, RankArgs};
use crate::commands::Ranked;

/// Notes gathered while ranking, printed on stderr after the table.
#[derive(Default)]
pub struct Notes {
    /// Notes printed always, in order, without repeats.
    important: Vec<String>,
    /// Metric and the models it was skipped for.
    skipped: Vec<(String, Vec<String>)>,
    /// Notes printed with `--verbose` only.
    detail: Vec<String>,
}

impl Notes {
    /// Adds a note printed always.
    pub fn important(&mut self, note: String) {
        if !self.important.contains(&note) {
            self.important.push(note);
        }
    }

    fn skipped(&mut self, metric: &str, model: &str) {
        match self.skipped.iter_mut().find(|(m, _)| m == metric) {
            Some((_, models)) => models.push(model.to_string()),
            None => self
                .skipped
                .push((metric.to_string(), vec![model.to_string()])),
        }
    }

    /// Prints the notes on stderr.
    pub fn print(&self, verbose: bool) {
        for note in &self.important {
            eprintln!("note: {note}");
        }
        for (metric, models) in &self.skipped {
            eprintln!(
                "note: {metric} skipped for {} model(s) without DATASET_DIR/source_probs/<model>.npy \
                 (the source model's class probabilities): {}",
                models.len(),
                models.join(", ")
            );
        }
        if verbose {
            for note in &self.detail {
                eprintln!("note: {note}");
            }
        } else if !self.detail.is_empty() {
            eprintln!(
                "note: {} more note(s) from the metrics; --verbose prints them",
                self.detail.len()
            );
        }
    }
}

/// Renders a CSV table with the csv crate, which quotes fields that need it.
fn csv_text(header: &[&str], rows: &[Vec<String>]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(row)?;
    }
    Ok(String::from_utf8(
        writer.into_inner().map_err(|e| anyhow!("{e}"))?,
    )?)
}

/// Writes `text` to stdout in one piece; a failed write is an error, not a panic.
pub fn emit(text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")
}

/// Metric ids, in display order.
pub fn metric_ids() -> Vec<&'static str> {
    MetricId::all().iter().map(|m| m.id()).collect()
}

/// Parses `--metrics`, expanding `all` and refusing unknown or repeated ids.
pub fn parse_metrics(requested: &[String]) -> Result<Vec<String>> {
    let known = metric_ids();
    let mut out: Vec<String> = Vec::new();
    for id in requested {
        let id = id.trim();
        let expanded: Vec<&str> = if id == "all" { known.clone() } else { vec![id] };
        for id in expanded {
            if !known.contains(&id) {
                bail!(
                    "unknown metric `{id}`; choose from {} or all",
                    known.join(", ")
                );
            }
            if !out.iter().any(|o| o == id) {
                out.push(id.to_string());
            }
        }
    }
    if out.is_empty() {
        bail!("--metrics is empty; name at least one metric, e.g. --metrics logme");
    }
    Ok(out)
}

/// Reads a source model's probabilities (or logits, softmaxed row by row) as row-major f64.
fn read_source_probabilities(
    path: &Path,
    logits: bool,
    n_samples: usize,
) -> Result<(Vec<f64>, usize)> {
    let file = FeatureFile::open(path, None)?;
    if file.n_samples() != n_samples {
        bail!(
            "`{}` has {} rows but the labels have {}; give one row of source-class \
             probabilities per sample",
            path.display(),
            file.n_samples(),
            n_samples
        );
    }
    let matrix = file.matrix();
    let n_cols = file.n_features();
    let mut data = vec![0.0; n_samples * n_cols];
    matrix.widen_rows_into(0, n_samples, &mut data);
    if let Some(pos) = data.iter().position(|v| !v.is_finite()) {
        bail!(
            "`{}` has a non-finite value at row {}, column {}; export finite {}",
            path.display(),
            pos / n_cols.max(1),
            pos % n_cols.max(1),
            if logits { "logits" } else { "probabilities" }
        );
    }
    if logits {
        for row in data.chunks_exact_mut(n_cols.max(1)) {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut sum = 0.0;
            for v in row.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            for v in row.iter_mut() {
                *v /= sum;
            }
        }
    }
    Ok((data, n_cols))
}

/// Scores one candidate with one metric; `None` when the metric does not apply to it.
pub fn score_metric(
    logme: &LogMe,
    metric: &str,
    features: &FeatureFile,
    targets: &Targets,
    candidate: crate::commands::CandidateRef<'_>,
    args: &RankArgs,
    notes: &mut Notes,
) -> Result<Option<f64>> {
    let id: MetricId = metric
        .parse()
        .map_err(|_| anyhow!("unknown metric `{metric}`"))?;
    if id == MetricId::Logme {
        let fit = logme.fit(features.matrix(), targets)?;
        for d in &fit.diagnostics {
            // The official code stops at 11 iterations routinely; one summary line says so.
            if matches!(d, logme::Diagnostic::IterationCap { .. }) {
                notes.important(
                    "some target columns stopped at the reference 11-iteration cap, as the \
                     official code does; --mode exact iterates to convergence"
                        .to_string(),
                );
            } else {
                notes.important(format!("{}: {d}", candidate.name));
            }
        }
        return Ok(Some(fit.score));
    }
    let Some(labels) = targets.as_classes() else {
        notes.important(format!(
            "{metric} scores classification labels only and was skipped for {} targets",
            targets.task().name()
        ));
        return Ok(None);
    };
    let source;
    let probabilities = if id.needs_source_probabilities() {
        let Some(path) = &candidate.source_probs else {
            notes.skipped(metric, &candidate.name);
            return Ok(None);
        };
        source = read_source_probabilities(path, args.source_logits, labels.ids().len())?;
        Some(SourceProbabilities::new(
            &source.0,
            labels.ids().len(),
            source.1,
        )?)
    } else {
        None
    };
    let params = MetricParams {
        parc_dims: args.parc_dims,
        ..MetricParams::default()
    };
    let score = match metrics::score_metric(
        logme.linalg(),
        id,
        features.matrix(),
        labels,
        probabilities,
        &params,
    ) {
        Ok(score) => score,
        // A metric that cannot score this candidate leaves its cell empty; bad input still fails.
        Err(err @ LogmeError::Unscorable { .. }) => {
            notes.important(format!("{}: {err}", candidate.name));
            return Ok(None);
        }
        Err(err) => return Err(err.into()),
    };
    for note in score.notes {
        notes
            .detail
            .push(format!("{}: {metric}: {note}", candidate.name));
    }
    Ok(Some(score.value))
}

fn number(v: f64) -> Value {
    // JSON has no infinity: non-finite values are written as null (see the README).
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn fmt_value(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.6}"),
        Some(v) if v > 0.0 => "+inf".to_string(),
        Some(v) if v < 0.0 => "-inf".to_string(),
        _ => "n/a".to_string(),
    }
}

/// Prints the result of `logme score`.
pub fn print_score(fit: &Fit, backend: &str, seconds: f64, format: Format) -> Result<()> {
    let columns: Vec<Value> = fit
        .columns
        .iter()
        .map(|c| {
            json!({
                "evidence": number(c.evidence),
                "alpha": number(c.alpha),
                "beta": number(c.beta),
                "iterations": c.iterations,
                "converged": c.converged,
                "reference_gap": c.reference_gap,
                "unbounded": c.unbounded,
            })
        })
        .collect();
    match format {
        Format::Json => {
            let value = json!({
                "score": number(fit.score),
                "task": fit.task.name(),
                "method": fit.method.name(),
                "mode": fit.mode.name(),
                "backend": backend,
                "path": fit.path.name(),
                "n_samples": fit.n_samples,
                "n_features": fit.n_features,
                "n_targets": fit.n_targets(),
                "rank": fit.rank,
                "seconds": seconds,
                "label_mapping": fit.label_mapping.as_ref().map(|m| m.iter().map(|v| v.to_string()).collect::<Vec<_>>()),
                "diagnostics": fit.diagnostics.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                "columns": columns,
            });
            emit(&(serde_json::to_string_pretty(&value)? + "\n"))?;
        }
        Format::Csv => {
            // One row per target column; the score (their mean) repeats on every row.
            let mut rows = Vec::new();
            for (i, c) in fit.columns.iter().enumerate() {
                rows.push(vec![
                    i.to_string(),
                    fit.score.to_string(),
                    c.evidence.to_string(),
                    c.alpha.to_string(),
                    c.beta.to_string(),
                    c.iterations.to_string(),
                    c.converged.to_string(),
                    c.reference_gap.to_string(),
                    c.unbounded.to_string(),
                ]);
            }
            let header = [
                "column",
                "score",
                "evidence",
                "alpha",
                "beta",
                "iterations",
                "converged",
                "reference_gap",
                "unbounded",
            ];
            emit(&csv_text(&header, &rows)?)?;
        }
        Format::Table => {
            let mut text = String::new();
            writeln!(text, "score     {}", fmt_value(Some(fit.score)))?;
            writeln!(text, "task      {}", fit.task.name())?;
            writeln!(
                text,
                "method    {} ({} mode)",
                fit.method.name(),
                fit.mode.name()
            )?;
            writeln!(text, "backend   {backend} ({} path)", fit.path.name())?;
            writeln!(
                text,
                "data      {} samples x {} features, {} targets, rank {}",
                fit.n_samples,
                fit.n_features,
                fit.n_targets(),
                fit.rank
            )?;
            writeln!(text, "seconds   {seconds:.3}")?;
            writeln!(text)?;
            writeln!(
                text,
                "{:>6}  {:>12}  {:>14}  {:>14}  {:>5}  {:>9}",
                "column", "evidence", "alpha", "beta", "iters", "converged"
            )?;
            for (i, c) in fit.columns.iter().enumerate() {
                writeln!(
                    text,
                    "{i:>6}  {:>12}  {:>14.6e}  {:>14.6e}  {:>5}  {:>9}",
                    fmt_value(Some(c.evidence)),
                    c.alpha,
                    c.beta,
                    c.iterations,
                    c.converged
                )?;
            }
            emit(&text)?;
        }
    }
    Ok(())
}

fn correlations_json(c: &Option<RankCorrelations>) -> Value {
    match c {
        None => Value::Null,
        Some(c) => json!({
            "weighted_tau": c.weighted_tau.map(number),
            "kendall_tau": c.kendall_tau.map(number),
            "spearman": c.spearman.map(number),
            "pearson": c.pearson.map(number),
            "top1_regret": number(c.top1_regret),
        }),
    }
}

/// Prints the result of `logme rank`.
pub fn print_rank(
    ranked: &[Ranked],
    metrics: &[String],
    correlations: &[(String, Option<RankCorrelations>)],
    logme: &LogMe,
    format: Format,
) -> Result<()> {
    let has_accuracy = ranked.iter().any(|r| r.accuracy.is_some());
    match format {
        Format::Json => {
            let models: Vec<Value> = ranked
                .iter()
                .map(|r| {
                    let scores: serde_json::Map<String, Value> = metrics
                        .iter()
                        .map(|m| (m.clone(), r.scores[m].map_or(Value::Null, number)))
                        .collect();
                    let mut obj = json!({
                        "model": r.model,
                        "scores": scores,
                        "n_samples": r.n_samples,
                        "n_features": r.n_features,
                        "seconds": r.seconds,
                    });
                    if let Some(a) = r.accuracy {
                        obj["accuracy"] = json!(a);
                    }
                    obj
                })
                .collect();
            let corr: serde_json::Map<String, Value> = correlations
                .iter()
                .map(|(m, c)| (m.clone(), correlations_json(c)))
                .collect();
            let value = json!({
                "models": models,
                "correlations": corr,
                "method": logme.options().method.name(),
                "mode": logme.options().mode.name(),
                "backend": logme.linalg().name(),
            });
            emit(&(serde_json::to_string_pretty(&value)? + "\n"))?;
        }
        Format::Csv => {
            let mut header = vec!["rank".to_string(), "model".to_string()];
            header.extend(metrics.iter().cloned());
            header.extend(["n_samples", "n_features", "seconds"].map(String::from));
            if has_accuracy {
                header.push("accuracy".to_string());
            }
            let mut rows = Vec::new();
            for (i, r) in ranked.iter().enumerate() {
                let mut row = vec![(i + 1).to_string(), r.model.clone()];
                row.extend(
                    metrics
                        .iter()
                        .map(|m| r.scores[m].map_or(String::new(), |v| v.to_string())),
                );
                row.extend([
                    r.n_samples.to_string(),
                    r.n_features.to_string(),
                    format!("{:.6}", r.seconds),
                ]);
                if has_accuracy {
                    row.push(r.accuracy.map_or(String::new(), |a| a.to_string()));
                }
                rows.push(row);
            }
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            emit(&csv_text(&header, &rows)?)?;
        }
        Format::Table => {
            let width = ranked
                .iter()
                .map(|r| r.model.len())
                .max()
                .unwrap_or(5)
                .max(5);
            let mut text = String::new();
            write!(text, "{:>4}  {:<width$}", "rank", "model")?;
            for m in metrics {
                write!(text, "  {m:>14}")?;
            }
            write!(text, "  {:>7}  {:>6}  {:>8}", "N", "D", "seconds")?;
            if has_accuracy {
                write!(text, "  {:>8}", "accuracy")?;
            }
            text.push('\n');
            for (i, r) in ranked.iter().enumerate() {
                write!(text, "{:>4}  {:<width$}", i + 1, r.model)?;
                for m in metrics {
                    write!(text, "  {:>14}", fmt_value(r.scores[m]))?;
                }
                write!(
                    text,
                    "  {:>7}  {:>6}  {:>8.3}",
                    r.n_samples, r.n_features, r.seconds
                )?;
                if has_accuracy {
                    write!(
                        text,
                        "  {:>8}",
                        r.accuracy.map_or("n/a".to_string(), |a| format!("{a:.4}"))
                    )?;
                }
                text.push('\n');
            }
            if !correlations.is_empty() {
                writeln!(text)?;
                writeln!(
                    text,
                    "{:<18}  {:>12}  {:>11}  {:>8}  {:>8}  {:>11}",
                    "metric vs accuracy",
                    "weighted_tau",
                    "kendall_tau",
                    "spearman",
                    "pearson",
                    "top1_regret"
                )?;
                for (m, c) in correlations {
                    match c {
                        Some(c) => writeln!(
                            text,
                            "{m:<18}  {:>12}  {:>11}  {:>8}  {:>8}  {:>11}",
                            fmt_value(c.weighted_tau),
                            fmt_value(c.kendall_tau),
                            fmt_value(c.spearman),
                            fmt_value(c.pearson),
                            fmt_value(Some(c.top1_regret))
                        )?,
                        None => writeln!(
                            text,
                            "{m:<18}  undefined: fewer than two models with a finite score and an accuracy"
                        )?,
                    }
                }
            }
            emit(&text)?;
        }
    }
    Ok(())
}
