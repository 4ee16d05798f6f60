//! `logme stats` and `logme merge`: score data split over files or machines.
//!
//! The LogME statistics G = FᵀF, B = FᵀY, ‖y‖² and N are sums over rows, so each shard's can be
//! computed where the shard lives and the sums scored once. A shard folder holds `gram.npy`
//! (`[D, D]`), `cross.npy` (`[D, T]`), `target_sq_norms.npy` (`[1, T]`) and `meta.json`.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use logme::{SufficientStats, Task};
use logme_cli::read::{self, FeatureFile};
use serde_json::{Value, json};

use crate::args::{MergeArgs, StatsArgs};
use crate::commands::{builder, check_lengths, load_targets};

const FORMAT: &str = "logme-stats";

/// `logme stats`.
pub fn save(args: &StatsArgs) -> Result<()> {
    let logme = builder(&args.fit)?;
    let targets = load_targets(&args.labels, &args.fit)?;
    let features = FeatureFile::open(&args.features, args.fit.key.as_deref())?;
    check_lengths(&features, &args.features, &targets, &args.labels)?;
    let stats = SufficientStats::from_data(logme.linalg(), features.matrix(), &targets)
        .with_context(|| format!("accumulating `{}`", args.features.display()))?;
    let (d, t) = (stats.n_features(), stats.n_targets());

    // G is stored in full (mirrored from its lower triangle); B row-major [D, T].
    let mut gram = stats.gram().to_vec();
    for col in 0..d {
        for row in 0..col {
            gram[row + col * d] = gram[col + row * d];
        }
    }
    let mut cross = vec![0.0; d * t];
    for row in 0..d {
        for col in 0..t {
            cross[row * t + col] = stats.cross()[row + col * d];
        }
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create `{}`", args.output.display()))?;
    read::write_npy_f64(&args.output.join("gram.npy"), &gram, d, d)?;
    read::write_npy_f64(&args.output.join("cross.npy"), &cross, d, t)?;
    read::write_npy_f64(
        &args.output.join("target_sq_norms.npy"),
        stats.target_sq_norms(),
        1,
        t,
    )?;
    let meta = json!({
        "format": FORMAT,
        "version": 1,
        "n_samples": stats.n_samples(),
        "n_features": d,
        "n_targets": t,
        "task": stats.task().name(),
    });
    let meta_path = args.output.join("meta.json");
    std::fs::write(&meta_path, serde_json::to_string_pretty(&meta)?)
        .with_context(|| format!("cannot write `{}`", meta_path.display()))?;
    Ok(())
}

fn read_matrix(path: &Path, rows: usize, cols: usize) -> Result<Vec<f64>> {
    let file = FeatureFile::open(path, None)?;
    if file.n_samples() != rows || file.n_features() != cols {
        bail!(
            "`{}` is [{}, {}] but meta.json promises [{rows}, {cols}]; write the shard again with \
             `logme stats`",
            path.display(),
            file.n_samples(),
            file.n_features()
        );
    }
    let mut out = vec![0.0; rows * cols];
    file.matrix().widen_rows_into(0, rows, &mut out);
    Ok(out)
}

/// Reads one shard folder; classification shards are padded to `n_targets` classes.
fn load(dir: &Path) -> Result<(SufficientStats, usize)> {
    let meta_path = dir.join("meta.json");
    let text = std::fs::read_to_string(&meta_path).with_context(|| {
        format!(
            "cannot read `{}`; give folders written by `logme stats`",
            meta_path.display()
        )
    })?;
    let meta: Value = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not valid JSON", meta_path.display()))?;
    if meta["format"] != FORMAT || meta["version"] != 1 {
        bail!(
            "`{}` is not a logme-stats version 1 file; write it with `logme stats`",
            meta_path.display()
        );
    }
    let field = |key: &str| {
        meta[key].as_u64().map(|v| v as usize).with_context(|| {
            format!(
                "`{}` lacks the number `{key}`; write it with `logme stats`",
                meta_path.display()
            )
        })
    };
    let (n, d, t) = (
        field("n_samples")?,
        field("n_features")?,
        field("n_targets")?,
    );
    let task = match meta["task"].as_str() {
        Some("classification") => Task::Classification,
        Some("multilabel") => Task::MultiLabel,
        Some("regression") => Task::Regression,
        other => bail!("`{}` names an unknown task {other:?}", meta_path.display()),
    };
    let gram = read_matrix(&dir.join("gram.npy"), d, d)?;
    let cross_rows = read_matrix(&dir.join("cross.npy"), d, t)?;
    let norms = read_matrix(&dir.join("target_sq_norms.npy"), 1, t)?;
    let mut cross = vec![0.0; d * t];
    for row in 0..d {
        for col in 0..t {
            cross[row + col * d] = cross_rows[row * t + col];
        }
    }
    let stats = SufficientStats::from_parts(n, task, gram, cross, norms)
        .with_context(|| format!("shard `{}`", dir.display()))?;
    Ok((stats, t))
}

/// Adds all-zero class columns so shards whose largest label differs line up.
fn pad_classes(stats: SufficientStats, n_targets: usize) -> Result<SufficientStats> {
    let (d, t) = (stats.n_features(), stats.n_targets());
    if t == n_targets {
        return Ok(stats);
    }
    let mut cross = stats.cross().to_vec();
    cross.resize(d * n_targets, 0.0);
    let mut norms = stats.target_sq_norms().to_vec();
    norms.resize(n_targets, 0.0);
    Ok(SufficientStats::from_parts(
        stats.n_samples(),
        stats.task(),
        stats.gram().to_vec(),
        cross,
        norms,
    )?)
}

/// `logme merge`.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let logme = builder(&args.fit)?;
    let start = Instant::now();
    let mut shards = Vec::with_capacity(args.shards.len());
    for dir in &args.shards {
        shards.push(load(dir)?);
    }
    let n_targets = shards.iter().map(|(_, t)| *t).max().unwrap_or(0);
    let mut total: Option<SufficientStats> = None;
    for ((stats, t), dir) in shards.into_iter().zip(&args.shards) {
        if t != n_targets && stats.task() != Task::Classification {
            bail!(
                "shard `{}` has {t} targets but another has {n_targets}; merge shards of the same \
                 targets",
                dir.display()
            );
        }
        let stats = pad_classes(stats, n_targets)?;
        match &mut total {
            None => total = Some(stats),
            Some(sum) => sum
                .merge(&stats)
                .with_context(|| format!("merging `{}`", dir.display()))?,
        }
    }
    let Some(total) = total else {
        bail!("no shard folders given")
    };
    let fit = logme
        .fit_stats(&total)
        .context("scoring the merged statistics")?;
    for diagnostic in &fit.diagnostics {
        eprintln!("note: {diagnostic}");
    }
    crate::output::print_score(
        &fit,
        logme.linalg().name(),
        start.elapsed().as_secs_f64(),
        args.format,
    )
}
