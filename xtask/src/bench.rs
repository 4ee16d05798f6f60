//! `cargo xtask bench`: the criterion benches and the performance report against the floor.
//!
//! Two reports, both under `benches/`, both opening with the machine and the exact command:
//!
//! - `RESULTS.md`: runs `cargo bench --bench kernels --bench score` (with `--all-features` when
//!   the system OpenBLAS is present, else `--features nalgebra`), reads each criterion median from
//!   `target/criterion/<group>/<backend>/<shape>/new/estimates.json` and tabulates, per shape,
//!   each backend's median and its ratio to the fastest backend.
//! - `PERFORMANCE.md`: on generated float32 `.npy` files, the whole `logme score` process
//!   (release build; wall time and peak memory of the child through `wait4`) against the floor
//!   (`benches/floor.rs`: the Gram product alone through faer, on the same data widened to f64)
//!   and against NumPy's float64 FᵀF, in interleaved rounds of one run.
//!
//! Generated data lives in a temporary directory that is removed when the command ends, on
//! success or failure. The machine is shared and noisy, so both reports lead with ratios measured
//! side by side in the same run, never with absolute claims.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};

use crate::{openblas_present, run};

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Add the 50000x2048x100 shape to the criterion benches (slow with nalgebra).
    #[arg(long)]
    long: bool,
    /// Also score a ~30 GB float32 file (4,000,000 x 2048); never in CI. Needs the disk space.
    #[arg(long)]
    large: bool,
    /// Rows of the `--large` file (2048 features each).
    #[arg(long, default_value_t = 4_000_000, requires = "large")]
    large_rows: usize,
    /// A Python scorer to time on the same files: a command template where `{features}` and
    /// `{labels}` are replaced by the shell-quoted .npy paths (leave them unquoted), run through
    /// `sh -c`.
    #[arg(long, value_name = "CMD")]
    vs_python: Option<String>,
    /// Rounds of `logme score` and the floor per shape in the performance report (median).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Skip the criterion benches and `RESULTS.md`.
    #[arg(long)]
    skip_criterion: bool,
    /// Skip the performance report `PERFORMANCE.md`.
    #[arg(long)]
    skip_report: bool,
}

/// Runs `benches/metrics.rs` and returns its section of `RESULTS.md`.
fn metrics_markdown() -> Result<String> {
    eprintln!("$ cargo bench --bench metrics");
    let output = std::process::Command::new("cargo")
        .args(["bench", "--bench", "metrics"])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !output.status.success() {
        anyhow::bail!(
            "`cargo bench --bench metrics` failed with {}",
            output.status
        );
    }
    let table = String::from_utf8_lossy(&output.stdout);
    Ok(format!(
        "\n## Transferability metrics, 10000 x 1024 x 100\n\nEach metric once on float32 class \
         clusters (labels i mod 100; 200 source classes for LEEP and NCE), faer backend, all \
         cores, same run as above (`benches/metrics.rs`).\n\n{table}"
    ))
}

/// Runs the benches and writes the reports.
///
/// # Errors
/// When a build or a bench fails, or a report cannot be written.
pub fn run_bench(root: &Path, args: &BenchArgs) -> Result<()> {
    let machine = Machine::describe();
    let command = std::iter::once("cargo xtask".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let lapack = openblas_present();
    let features: &[&str] = if lapack {
        &["--all-features"]
    } else {
        &["--features", "nalgebra"]
    };

    if !args.skip_criterion {
        let started = SystemTime::now();
        let mut cargo_args = vec!["bench"];
        cargo_args.extend_from_slice(features);
        cargo_args.extend_from_slice(&["--bench", "kernels", "--bench", "score"]);
        let home = root.join("target").join("criterion");
        let home_str = home.to_string_lossy().into_owned();
        let long = if args.long { "1" } else { "0" };
        run(
            "cargo",
            &cargo_args,
            &[("CRITERION_HOME", &home_str), ("LOGME_BENCH_LONG", long)],
        )?;

        let mut backends = vec!["faer"];
        if lapack {
            backends.push("lapack");
        }
        backends.push("nalgebra");
        let mut shapes = BENCH_SHAPES.to_vec();
        if args.long {
            shapes.push(LONG_BENCH_SHAPE);
        }
        let text = results_markdown(
            &machine,
            &command,
            &cargo_args.join(" "),
            &home,
            &backends,
            &shapes,
            started,
        );
        let metrics = metrics_markdown()?;
        std::fs::write(root.join("benches/RESULTS.md"), text + &metrics)?;
        eprintln!("bench: wrote benches/RESULTS.md");
    }

    if !args.skip_report {
        let text = performance_report(root, args, &machine, &command, features)?;
        std::fs::write(root.join("benches/PERFORMANCE.md"), text)?;
        eprintln!("bench: wrote benches/PERFORMANCE.md");
    }
    Ok(())
}

/// A shape N x D x C.
#[derive(Clone, Copy, Debug)]
struct Shape {
    n: usize,
    d: usize,
    c: usize,
}

impl Shape {
    const fn new(n: usize, d: usize, c: usize) -> Self {
        Self { n, d, c }
    }

    fn id(self) -> String {
        format!("{}x{}x{}", self.n, self.d, self.c)
    }

    /// The label of a shape in a table, marking the row Gram path.
    fn label(self) -> String {
        if self.n <= self.d {
            format!("{} (N < D)", self.id())
        } else {
            self.id()
        }
    }
}

/// The shapes of `benches/common/mod.rs`; keep the two lists in step.
const BENCH_SHAPES: [Shape; 4] = [
    Shape::new(2000, 512, 10),
    Shape::new(20000, 768, 2),
    Shape::new(10000, 1024, 100),
    Shape::new(1000, 4096, 10),
];
const LONG_BENCH_SHAPE: Shape = Shape::new(50000, 2048, 100);

/// The shapes of the performance report.
const REPORT_SHAPES: [Shape; 5] = [
    Shape::new(50000, 2048, 100),
    Shape::new(20000, 1024, 100),
    Shape::new(10000, 1024, 100),
    Shape::new(2000, 4096, 10),
    Shape::new(100000, 768, 2),
];

// ---------------------------------------------------------------------------------------------
// The machine.

/// What the reports say about the machine they ran on.
struct Machine {
    cpu: String,
    threads: usize,
    mem_gib: f64,
    rustc: String,
    date: String,
    load: String,
    openblas: Option<String>,
}

impl Machine {
    fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|line| line.starts_with("model name"))
            .and_then(|line| line.split_once(':'))
            .map_or_else(|| "unknown CPU".to_string(), |(_, v)| v.trim().to_string());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: f64 = meminfo
            .lines()
            .find(|line| line.starts_with("MemTotal:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let load = std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        Self {
            cpu,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mem_gib: mem_kib / (1024.0 * 1024.0),
            rustc: command_line("rustc", &["-V"]).unwrap_or_else(|| "rustc (unknown)".into()),
            date: command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default(),
            load,
            openblas: command_line("dpkg-query", &["-W", "-f", "${Version}", "libopenblas-dev"])
                .filter(|v| !v.is_empty()),
        }
    }

    /// The header lines both reports open with.
    fn header(&self, command: &str) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "- **Machine:** {}, {} hardware threads (nproc), {:.1} GiB RAM (MemTotal); {}; \
             system OpenBLAS {}; load average at start {}",
            self.cpu,
            self.threads,
            self.mem_gib,
            self.rustc,
            self.openblas.as_deref().unwrap_or("not installed"),
            self.load
        );
        let pins: Vec<String> = OPENBLAS_PINS
            .iter()
            .filter_map(|pin| std::env::var(pin).ok().map(|v| format!("{pin}={v}")))
            .collect();
        if !pins.is_empty() {
            let _ = writeln!(
                text,
                "- **Environment:** {} (the `lapack` backend runs the system OpenBLAS under this \
                 pin)",
                pins.join(", ")
            );
        }
        let _ = writeln!(text, "- **Date:** {}", self.date);
        let _ = writeln!(text, "- **Command:** `{command}`");
        text
    }
}

/// The first line of a command's stdout, when it runs and succeeds.
fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string(),
    )
}

// ---------------------------------------------------------------------------------------------
// RESULTS.md from criterion's estimates.

/// One cell of a criterion table.
enum Cell {
    /// The median, in nanoseconds.
    Measured(f64),
    /// The bench skipped the pair and said why.
    Skipped(String),
    /// No result from this run.
    Missing,
}

impl Cell {
    fn nanos(&self) -> Option<f64> {
        match self {
            Cell::Measured(ns) => Some(*ns),
            _ => None,
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The median of one (group, backend, shape), if this run (started at `since`) produced it.
fn read_cell(home: &Path, group: &str, backend: &str, shape: &str, since: SystemTime) -> Cell {
    let dir = home.join(group).join(backend).join(shape);
    let estimates = dir.join("new").join("estimates.json");
    if modified(&estimates).is_some_and(|t| t >= since) {
        let median = std::fs::read_to_string(&estimates)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|json| json["median"]["point_estimate"].as_f64());
        if let Some(ns) = median {
            return Cell::Measured(ns);
        }
    }
    let marker = dir.join("skipped.txt");
    if modified(&marker).is_some_and(|t| t >= since) {
        return Cell::Skipped(std::fs::read_to_string(marker).unwrap_or_default());
    }
    Cell::Missing
}

/// A duration in nanoseconds with a readable unit and three significant digits.
fn format_nanos(ns: f64) -> String {
    let (value, unit) = match ns.abs() {
        v if v >= 1e9 => (ns / 1e9, "s"),
        v if v >= 1e6 => (ns / 1e6, "ms"),
        v if v >= 1e3 => (ns / 1e3, "µs"),
        _ => (ns, "ns"),
    };
    let decimals = match value.abs() {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    format!("{value:.decimals$} {unit}").replace('-', "−")
}

fn format_seconds(seconds: f64) -> String {
    format_nanos(seconds * 1e9)
}

/// Ratio to the fastest, as `1.00×`.
fn format_ratio(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.1}×")
    } else {
        format!("{ratio:.2}×")
    }
}

/// The groups of a shape, in table order: the whole fit first, then its kernels.
fn groups_for(shape: Shape) -> Vec<&'static str> {
    let mut groups = vec!["score", "syrk", "gemm_tn"];
    if shape.n <= shape.d {
        groups.push("gram_rows");
    }
    groups.push("eigh");
    groups
}

/// What each group times, for the legend.
const GROUP_LEGEND: [(&str, &str); 5] = [
    (
        "score",
        "whole `LogMe::fit` on f32 features, labels `i mod C`, fixed point, reference mode \
         (`benches/score.rs`)",
    ),
    (
        "syrk",
        "G += FᵀF, lower triangle, F `[N, D]` row-major f64 (`benches/kernels.rs`)",
    ),
    (
        "gemm_tn",
        "B += FᵀY with the one-hot Y `[N, C]` (`benches/kernels.rs`)",
    ),
    (
        "gram_rows",
        "K += FFᵀ `[N, N]`, only when N < D (`benches/kernels.rs`)",
    ),
    (
        "eigh",
        "eigenvalues and eigenvectors of FᵀF (D x D), of FFᵀ (N x N) when N < D \
         (`benches/kernels.rs`)",
    ),
];

/// The fastest backend of a row of cells and its median.
fn fastest<'a>(backends: &[&'a str], cells: &[Cell]) -> Option<(&'a str, f64)> {
    backends
        .iter()
        .zip(cells)
        .filter_map(|(b, c)| c.nanos().map(|ns| (*b, ns)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// "faer, 1.9× ahead of lapack and 3.2× ahead of nalgebra".
fn winner_clause(backends: &[&str], cells: &[Cell]) -> Option<String> {
    let (winner, best) = fastest(backends, cells)?;
    let others: Vec<String> = backends
        .iter()
        .zip(cells)
        .filter(|(b, _)| **b != winner)
        .filter_map(|(b, c)| {
            c.nanos()
                .map(|ns| format!("{} ahead of {b}", format_ratio(ns / best)))
        })
        .collect();
    Some(if others.is_empty() {
        format!("{winner} (the only backend measured)")
    } else {
        format!("{winner}, {}", others.join(" and "))
    })
}

fn results_markdown(
    machine: &Machine,
    command: &str,
    cargo_command: &str,
    home: &Path,
    backends: &[&str],
    shapes: &[Shape],
    since: SystemTime,
) -> String {
    // cells[shape][group][backend]
    let cells: Vec<Vec<Vec<Cell>>> = shapes
        .iter()
        .map(|shape| {
            groups_for(*shape)
                .iter()
                .map(|group| {
                    backends
                        .iter()
                        .map(|b| read_cell(home, group, b, &shape.id(), since))
                        .collect()
                })
                .collect()
        })
        .collect();

    let mut text = String::from("# Benchmark results: backends side by side\n\n");
    text.push_str(&machine.header(command));
    let _ = writeln!(
        text,
        "- **Benches:** `cargo {cargo_command}` (criterion, 10 samples of equal iteration counts per \
         id); medians from `target/criterion/<group>/<backend>/<shape>/new/estimates.json`\n"
    );
    text.push_str(
        "Every number below comes from the one run above, on a shared 2-core machine where other \
         jobs ran too: read the ratios, not the absolute times. A ratio is a backend's median \
         over the fastest backend's median for the same group and shape. faer and OpenBLAS use \
         every core; nalgebra is single-threaded.\n\n",
    );

    // Ratios first: the whole fit, per shape and backend.
    text.push_str("## Whole fit, ratio to the fastest backend\n\n");
    let _ = writeln!(
        text,
        "| shape N x D x C | {} | fit ÷ floor |",
        backends.join(" | ")
    );
    let _ = writeln!(text, "|---|{}---|", "---|".repeat(backends.len()));
    for (shape, groups) in shapes.iter().zip(&cells) {
        let score = &groups[0];
        let best = fastest(backends, score).map(|(_, ns)| ns);
        let row: Vec<String> = score
            .iter()
            .map(|cell| match (cell, best) {
                (Cell::Measured(ns), Some(best)) => format_ratio(ns / best),
                (Cell::Skipped(_), _) => "skipped".to_string(),
                _ => "n/a".to_string(),
            })
            .collect();
        let floor = floor_nanos(*shape, backends, groups);
        let over_floor = match (best, floor) {
            (Some(best), Some(floor)) => format_ratio(best / floor),
            _ => "n/a".to_string(),
        };
        let _ = writeln!(
            text,
            "| {} | {} | {over_floor} |",
            shape.label(),
            row.join(" | ")
        );
    }
    text.push_str(
        "\n*fit ÷ floor*: the fastest whole fit over the floor measured in the same run, the \
         fastest `syrk` (FᵀF) for N > D, the fastest `gram_rows` plus the fastest `eigh` for \
         N < D (DESIGN.md §3).\n\n",
    );

    // Then one section per shape.
    text.push_str("## Per shape\n\n");
    for (shape, groups) in shapes.iter().zip(&cells) {
        let names = groups_for(*shape);
        let _ = writeln!(text, "### {}\n", shape.label());
        let _ = writeln!(
            text,
            "| backend | {} |",
            names
                .iter()
                .map(|g| format!("{g} | ratio"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(text, "|---|{}", "---:|---:|".repeat(names.len()));
        for (b_idx, backend) in backends.iter().enumerate() {
            let mut row = Vec::new();
            for group_cells in groups {
                let best = fastest(backends, group_cells).map(|(_, ns)| ns);
                match (&group_cells[b_idx], best) {
                    (Cell::Measured(ns), Some(best)) => {
                        row.push(format_nanos(*ns));
                        row.push(format_ratio(ns / best));
                    }
                    (Cell::Skipped(_), _) => {
                        row.push("skipped".into());
                        row.push("".into());
                    }
                    _ => {
                        row.push("n/a".into());
                        row.push("".into());
                    }
                }
            }
            let _ = writeln!(text, "| {backend} | {} |", row.join(" | "));
        }
        text.push('\n');
        match winner_clause(backends, &groups[0]) {
            Some(clause) => {
                let _ = write!(text, "Whole fit on {}: {clause}.", shape.id());
            }
            None => {
                let _ = write!(text, "Whole fit on {}: no backend measured.", shape.id());
            }
        }
        let kernels: Vec<String> = names
            .iter()
            .zip(groups)
            .skip(1)
            .filter_map(|(g, c)| winner_clause(backends, c).map(|w| format!("{g} {w}")))
            .collect();
        if !kernels.is_empty() {
            let _ = write!(text, " Kernels: {}.", kernels.join("; "));
        }
        text.push_str("\n\n");
        for (group, group_cells) in names.iter().zip(groups) {
            for (backend, cell) in backends.iter().zip(group_cells) {
                if let Cell::Skipped(reason) = cell {
                    let _ = writeln!(text, "- {group}/{backend} skipped: {}.", reason.trim());
                }
            }
        }
        if text.ends_with(".\n") && !text.ends_with("\n\n") {
            text.push('\n');
        }
    }

    text.push_str("## Legend\n\n");
    for (group, what) in GROUP_LEGEND {
        let _ = writeln!(text, "- `{group}`: {what}.");
    }
    text.push_str(
        "- *skipped*: the bench's untimed pilot iteration exceeded `LOGME_BENCH_MAX_ITER_SECS` \
         (60 s); *n/a*: not run in this invocation (the 50000x2048x100 shape needs `--long`).\n",
    );
    text
}

/// The in-run floor of a shape from the kernel groups: fastest `syrk` (N > D), or fastest
/// `gram_rows` + fastest `eigh` (N ≤ D).
fn floor_nanos(shape: Shape, backends: &[&str], groups: &[Vec<Cell>]) -> Option<f64> {
    let names = groups_for(shape);
    let best = |group: &str| {
        let idx = names.iter().position(|g| *g == group)?;
        fastest(backends, &groups[idx]).map(|(_, ns)| ns)
    };
    if shape.n > shape.d {
        best("syrk")
    } else {
        Some(best("gram_rows")? + best("eigh")?)
    }
}

// ---------------------------------------------------------------------------------------------
// Generated data.

/// A temporary directory removed on drop, so generated files go away on every exit path.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Result<Self> {
        let stamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("logme-{tag}-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.0) {
            eprintln!("warning: could not remove {}: {err}", self.0.display());
        }
    }
}

/// SplitMix64, seeded: the same files on every run.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Two uniform values in [-1, 1) from one draw.
    fn next_pair(&mut self) -> [f32; 2] {
        let bits = self.next_u64();
        let unit = |b: u64| (b & 0xFF_FFFF) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
        [unit(bits), unit(bits >> 32)]
    }
}

/// The header of a version 1.0 `.npy` file, padded so the data starts at a 64-byte boundary.
fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    let unpadded = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    dict.push('\n');
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    header.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header
}

/// Writes f32 features `[N, D]` (C order) and int64 labels `i mod C` into `dir`.
///
/// Rows follow a class model (a random mean per class plus uniform noise). With `pool`, rows are
/// drawn from that many precomputed rows instead, which writes tens of gigabytes at disk speed.
fn write_dataset(dir: &Path, shape: Shape, pool: Option<usize>) -> Result<(PathBuf, PathBuf)> {
    let Shape { n, d, c } = shape;
    let features = dir.join(format!("features-{}.npy", shape.id()));
    let labels = dir.join(format!("labels-{}.npy", shape.id()));
    let mut rng = SplitMix64(0x5EED ^ ((n as u64) << 32) ^ ((d as u64) << 16) ^ c as u64);
    let means: Vec<f32> = (0..c * d / 2 + 1)
        .flat_map(|_| rng.next_pair())
        .take(c * d)
        .collect();

    // One row as little-endian bytes.
    let make_row = |rng: &mut SplitMix64, class: usize, out: &mut Vec<u8>| {
        out.clear();
        let mean = &means[class * d..(class + 1) * d];
        for pair in mean.chunks(2) {
            let noise = rng.next_pair();
            for (m, e) in pair.iter().zip(noise) {
                out.extend_from_slice(&(0.5 * m + e).to_le_bytes());
            }
        }
    };
    let pool_rows: Vec<Vec<u8>> = match pool {
        Some(size) => (0..size)
            .map(|idx| {
                let mut row = Vec::with_capacity(4 * d);
                make_row(&mut rng, idx % c, &mut row);
                row
            })
            .collect(),
        None => Vec::new(),
    };

    let mut out = BufWriter::with_capacity(8 << 20, File::create(&features)?);
    out.write_all(&npy_header("<f4", &[n, d]))?;
    let mut row = Vec::with_capacity(4 * d);
    for row_idx in 0..n {
        if pool_rows.is_empty() {
            make_row(&mut rng, row_idx % c, &mut row);
            out.write_all(&row)?;
        } else {
            // An odd multiplier permutes the pool indices; the classes stay `i mod C`.
            let pick = row_idx.wrapping_mul(0x9E37_79B1) % pool_rows.len();
            out.write_all(&pool_rows[pick])?;
        }
    }
    out.flush()?;
    drop(out);

    let mut out = BufWriter::new(File::create(&labels)?);
    out.write_all(&npy_header("<i8", &[n]))?;
    for row_idx in 0..n {
        out.write_all(&((row_idx % c) as i64).to_le_bytes())?;
    }
    out.flush()?;
    Ok((features, labels))
}

// ---------------------------------------------------------------------------------------------
// Measuring a child process.

/// A finished child: wall time, memory peaks, output.
struct Measured {
    wall: Duration,
    /// `ru_maxrss` from `wait4`: peak resident set, file-backed pages included, in KiB.
    max_rss_kib: u64,
    /// Peak `RssAnon` (heap and stacks, no file pages), sampled every 5 ms, in KiB.
    peak_anon_kib: u64,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Peak `RssAnon` of `pid`, polled from `/proc/<pid>/status` until `stop` is set.
fn sample_anon(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let path = format!("/proc/{pid}/status");
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            if let Ok(status) = std::fs::read_to_string(&path) {
                let anon = status
                    .lines()
                    .find(|l| l.starts_with("RssAnon:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                peak = peak.max(anon);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        peak
    })
}

/// Runs `command` to completion, timing it and reading its memory peaks through `wait4`.
fn measure(command: &mut Command) -> Result<Measured> {
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {command:?}"))?;
    let pid = child.id();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_anon(pid, Arc::clone(&stop));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );

    let mut raw_status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not reaped yet (std never waits on it, since `child` is
        // only dropped); both pointers are valid for writes for the duration of the call.
        let ret = unsafe { libc::wait4(pid as libc::pid_t, &mut raw_status, 0, &mut usage) };
        if ret == pid as libc::pid_t {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            stop.store(true, Ordering::Relaxed);
            return Err(err).context("wait4 failed");
        }
    }
    let wall = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    drop(child);
    Ok(Measured {
        wall,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        peak_anon_kib: sampler.join().unwrap_or(0),
        status: ExitStatus::from_raw(raw_status),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Runs and measures `command`, failing with its stderr when it fails.
fn measure_ok(command: &mut Command, what: &str) -> Result<Measured> {
    let measured = measure(command)?;
    if !measured.status.success() {
        bail!(
            "{what} failed with {}: {}",
            measured.status,
            measured.stderr.trim()
        );
    }
    Ok(measured)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.is_empty() {
        f64::NAN
    } else if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        0.5 * (sorted[mid - 1] + sorted[mid])
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn format_mib(bytes: f64) -> String {
    let mib = bytes / (1024.0 * 1024.0);
    if mib >= 1024.0 {
        format!("{:.2} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

// ---------------------------------------------------------------------------------------------
// PERFORMANCE.md.

/// The NumPy script: load, widen to float64 (untimed), best of 3 of the product (and `eigh`).
const NUMPY_SCRIPT: &str = r#"
import json, sys, time
import numpy as np
f = np.load(sys.argv[1]).astype(np.float64)
n, d = f.shape
best_product = best_eigh = float("inf")
for _ in range(3):
    t = time.perf_counter()
    g = f.T @ f if n > d else f @ f.T
    best_product = min(best_product, time.perf_counter() - t)
    t = time.perf_counter()
    np.linalg.eigh(g)
    best_eigh = min(best_eigh, time.perf_counter() - t)
blas = "BLAS unknown (no threadpoolctl)"
try:
    import threadpoolctl
    for pool in threadpoolctl.threadpool_info():
        if pool.get("user_api") == "blas":
            blas = "%s %s, %s kernels, %s threads" % (pool.get("internal_api"),
                pool.get("version"), pool.get("architecture"), pool.get("num_threads"))
except ImportError:
    pass
print(json.dumps({"product_s": best_product, "eigh_s": best_eigh, "numpy": np.__version__,
                  "blas": blas}))
"#;

/// The environment variables this workplace sets to pin OpenBLAS's kernels for old builds; a
/// current NumPy runs slower with them, so the NumPy command alone runs without them.
const OPENBLAS_PINS: [&str; 2] = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

/// NumPy's answer: best product and `eigh` times, and which BLAS ran them.
struct NumpyRun {
    product_s: f64,
    eigh_s: f64,
    blas: String,
}

/// The floor binary's JSON answer.
struct Floor {
    product_s: f64,
    eigh_s: f64,
    floor_s: f64,
    gflops: f64,
    /// The library's phases in the same process: `SufficientStats::from_data` (Gram path only),
    /// `LogMe::fit_stats` (Gram path only) and the whole `LogMe::fit`.
    stats_s: Option<f64>,
    fit_stats_s: Option<f64>,
    fit_s: Option<f64>,
}

/// Everything measured on one shape.
struct ShapeReport {
    shape: Shape,
    file_bytes: u64,
    logme_walls: Vec<f64>,
    logme_fit_s: Vec<f64>,
    logme_score: f64,
    max_rss_kib: u64,
    peak_anon_kib: u64,
    floors: Vec<Floor>,
    numpy: Option<NumpyRun>,
    python: Option<(Vec<f64>, u64)>,
}

impl ShapeReport {
    fn logme_s(&self) -> f64 {
        median(&self.logme_walls)
    }
    fn floor_s(&self) -> f64 {
        median(&self.floors.iter().map(|f| f.floor_s).collect::<Vec<_>>())
    }
    fn product_s(&self) -> f64 {
        median(&self.floors.iter().map(|f| f.product_s).collect::<Vec<_>>())
    }
    fn eigh_s(&self) -> f64 {
        median(&self.floors.iter().map(|f| f.eigh_s).collect::<Vec<_>>())
    }
    fn gflops(&self) -> f64 {
        median(&self.floors.iter().map(|f| f.gflops).collect::<Vec<_>>())
    }
    /// The median of an optional floor phase, when every round has it.
    fn phase(&self, pick: impl Fn(&Floor) -> Option<f64>) -> Option<f64> {
        let values: Option<Vec<f64>> = self.floors.iter().map(pick).collect();
        values.filter(|v| !v.is_empty()).map(|v| median(&v))
    }
    /// 2·D²·8 bytes: the Gram matrix and its eigenvectors in f64.
    fn two_gram_bytes(&self) -> f64 {
        2.0 * (self.shape.d * self.shape.d * 8) as f64
    }
}

/// The path of the `floor` bench executable, built in release with `features`.
fn build_floor(features: &[&str]) -> Result<PathBuf> {
    let mut args = vec![
        "bench",
        "--no-run",
        "--bench",
        "floor",
        "--message-format=json",
    ];
    args.extend_from_slice(features);
    eprintln!("$ cargo {}", args.join(" "));
    let output = Command::new("cargo")
        .args(&args)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        bail!("building the floor bench failed with {}", output.status);
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "floor")
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .context("cargo did not report the floor executable")
}

fn run_floor(floor: &Path, features: &Path, labels: &Path) -> Result<Floor> {
    let measured = measure_ok(
        Command::new(floor)
            .arg(features)
            .arg("--labels")
            .arg(labels)
            .args(["--repeats", "1"]),
        "the floor bench",
    )?;
    let json: serde_json::Value =
        serde_json::from_str(measured.stdout.trim()).context("the floor printed no JSON")?;
    let get = |key: &str| {
        json[key]
            .as_f64()
            .with_context(|| format!("floor JSON lacks {key}"))
    };
    Ok(Floor {
        product_s: get("product_median_s")?,
        eigh_s: get("eigh_median_s")?,
        floor_s: get("floor_s")?,
        gflops: get("product_gflops")?,
        stats_s: json["stats_s"].as_f64(),
        fit_stats_s: json["fit_stats_s"].as_f64(),
        fit_s: json["fit_s"].as_f64(),
    })
}

/// NumPy's version, when `python3 -c "import numpy"` works.
fn numpy_version() -> Option<String> {
    command_line("python3", &["-c", "import numpy; print(numpy.__version__)"])
}

fn run_numpy(features: &Path) -> Result<NumpyRun> {
    let mut command = Command::new("python3");
    command.args(["-c", NUMPY_SCRIPT]).arg(features);
    for pin in OPENBLAS_PINS {
        command.env_remove(pin);
    }
    let measured = measure_ok(&mut command, "the NumPy product")?;
    let json: serde_json::Value =
        serde_json::from_str(measured.stdout.trim()).context("the NumPy script printed no JSON")?;
    Ok(NumpyRun {
        product_s: json["product_s"].as_f64().context("no product_s")?,
        eigh_s: json["eigh_s"].as_f64().context("no eigh_s")?,
        blas: json["blas"].as_str().unwrap_or("BLAS unknown").to_string(),
    })
}

/// `logme score` on one file pair, measured.
fn run_logme(logme: &Path, features: &Path, labels: &Path) -> Result<(Measured, f64, f64)> {
    let measured = measure_ok(
        Command::new(logme)
            .arg("score")
            .arg("--features")
            .arg(features)
            .arg("--labels")
            .arg(labels)
            .args(["--format", "json"]),
        "logme score",
    )?;
    let json: serde_json::Value = serde_json::from_str(&measured.stdout)
        .context("logme score --format json printed no JSON")?;
    let score = json["score"].as_f64().unwrap_or(f64::NAN);
    let fit_s = json["seconds"].as_f64().unwrap_or(f64::NAN);
    Ok((measured, score, fit_s))
}

fn python_command(template: &str, features: &Path, labels: &Path) -> Command {
    // Single quotes keep a path with spaces one word; a quote inside is closed and escaped.
    let quote = |path: &Path| format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"));
    let line = template
        .replace("{features}", &quote(features))
        .replace("{labels}", &quote(labels));
    let mut command = Command::new("sh");
    command.arg("-c").arg(line);
    command
}

fn measure_shape(
    dir: &Path,
    shape: Shape,
    args: &BenchArgs,
    logme: &Path,
    floor: &Path,
    numpy: bool,
) -> Result<ShapeReport> {
    eprintln!(
        "bench: generating {} (float32) in {}",
        shape.id(),
        dir.display()
    );
    let (features, labels) = write_dataset(dir, shape, None)?;
    let file_bytes = std::fs::metadata(&features)?.len();
    let mut report = ShapeReport {
        shape,
        file_bytes,
        logme_walls: Vec::new(),
        logme_fit_s: Vec::new(),
        logme_score: f64::NAN,
        max_rss_kib: 0,
        peak_anon_kib: 0,
        floors: Vec::new(),
        numpy: None,
        python: None,
    };

    // Interleaved rounds, so that a burst of load from other jobs hits both sides alike.
    for round in 0..args.repeats.max(1) {
        let (measured, score, fit_s) = run_logme(logme, &features, &labels)?;
        report.logme_walls.push(measured.wall.as_secs_f64());
        report.logme_fit_s.push(fit_s);
        report.logme_score = score;
        report.max_rss_kib = report.max_rss_kib.max(measured.max_rss_kib);
        report.peak_anon_kib = report.peak_anon_kib.max(measured.peak_anon_kib);
        let floor_result = run_floor(floor, &features, &labels)?;
        eprintln!(
            "bench: {} round {}: logme score {:.3} s, floor {:.3} s",
            shape.id(),
            round + 1,
            measured.wall.as_secs_f64(),
            floor_result.floor_s
        );
        report.floors.push(floor_result);
    }
    if numpy {
        report.numpy = Some(run_numpy(&features)?);
    }
    if let Some(template) = &args.vs_python {
        let mut walls = Vec::new();
        let mut rss = 0;
        // A Python scorer can take minutes: repeat it only while that stays cheap.
        for _ in 0..args.repeats.max(1) {
            let measured = measure_ok(
                &mut python_command(template, &features, &labels),
                "the Python scorer",
            )?;
            walls.push(measured.wall.as_secs_f64());
            rss = rss.max(measured.max_rss_kib);
            if measured.wall > Duration::from_secs(60) {
                break;
            }
        }
        report.python = Some((walls, rss));
    }
    Ok(report)
}

/// The `--large` run: one `logme score` on a ~30 GB file, then the file is removed.
struct LargeReport {
    shape: Shape,
    file_bytes: u64,
    measured: Measured,
    fit_s: f64,
}

fn free_bytes(dir: &Path) -> Option<u64> {
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: `statvfs` is plain old data, valid when zeroed.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a valid NUL-terminated string and `stat` is valid for writes.
    let ret = unsafe { libc::statvfs(path.as_ptr(), &mut stat) };
    (ret == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}

fn measure_large(args: &BenchArgs, logme: &Path) -> Result<LargeReport> {
    let shape = Shape::new(args.large_rows, 2048, 10);
    let dir = TempDir::new("large")?;
    let needed = (shape.n * shape.d * 4 + shape.n * 8) as u64;
    if let Some(free) = free_bytes(&dir.0)
        && free < needed + (1 << 30)
    {
        bail!(
            "--large needs {} free in {} but only {} is available; set TMPDIR to a larger disk",
            format_mib(needed as f64),
            dir.0.display(),
            format_mib(free as f64)
        );
    }
    eprintln!(
        "bench: writing the {} file ({})",
        shape.id(),
        format_mib(needed as f64)
    );
    let (features, labels) = write_dataset(&dir.0, shape, Some(8192))?;
    let file_bytes = std::fs::metadata(&features)?.len();
    let (measured, _score, fit_s) = run_logme(logme, &features, &labels)?;
    Ok(LargeReport {
        shape,
        file_bytes,
        measured,
        fit_s,
    })
}

fn performance_report(
    root: &Path,
    args: &BenchArgs,
    machine: &Machine,
    command: &str,
    features: &[&str],
) -> Result<String> {
    run("cargo", &["build", "--release", "-p", "logme-cli"], &[])?;
    let logme = root.join("target/release/logme");
    let floor = build_floor(features)?;
    let numpy = numpy_version();
    if numpy.is_none() {
        eprintln!("note: python3 cannot import numpy, so the NumPy column stays empty");
    }

    let dir = TempDir::new("bench")?;
    let mut reports = Vec::new();
    for shape in REPORT_SHAPES {
        let report = measure_shape(&dir.0, shape, args, &logme, &floor, numpy.is_some())?;
        // The files of a shape are removed as soon as it is measured.
        for entry in std::fs::read_dir(&dir.0)?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        reports.push(report);
    }
    drop(dir);
    let large = if args.large {
        Some(measure_large(args, &logme)?)
    } else {
        None
    };
    Ok(performance_markdown(
        machine,
        command,
        args,
        numpy.as_deref(),
        &reports,
        large.as_ref(),
    ))
}

fn performance_markdown(
    machine: &Machine,
    command: &str,
    args: &BenchArgs,
    numpy: Option<&str>,
    reports: &[ShapeReport],
    large: Option<&LargeReport>,
) -> String {
    let rounds = args.repeats.max(1);
    let mut text = String::from("# Performance at the floor\n\n");
    text.push_str(&machine.header(command));
    let _ = writeln!(
        text,
        "- **Measured:** the release `logme score --features F.npy --labels y.npy --format json` \
         (faer, all cores) on generated float32 files, {rounds} interleaved round(s) per shape with \
         the floor (`benches/floor.rs`); NumPy {}\n",
        numpy.map_or_else(
            || "not installed (no NumPy column)".to_string(),
            |v| {
                let blas = reports
                    .iter()
                    .find_map(|r| r.numpy.as_ref().map(|np| np.blas.as_str()))
                    .unwrap_or("BLAS unknown");
                format!(
                    "{v} ({blas}; run without {}), float64 product best of 3",
                    OPENBLAS_PINS.join(" and ")
                )
            }
        )
    );
    text.push_str(
        "The machine is shared with other jobs: every ratio below compares numbers taken side by \
         side in this one run. Absolute times are listed after the ratios only to explain them.\n\n",
    );

    // Ratios first.
    text.push_str("## Ratios\n\n");
    let python = args.vs_python.is_some();
    let _ = writeln!(
        text,
        "| shape N x D x C | logme score ÷ floor | logme score ÷ NumPy product | peak anon ÷ 2·D²·8 \
         | max RSS ÷ (file + 2·D²·8) |{}",
        if python {
            " Python scorer ÷ logme score |"
        } else {
            ""
        }
    );
    let _ = writeln!(
        text,
        "|---|---:|---:|---:|---:|{}",
        if python { "---:|" } else { "" }
    );
    for r in reports {
        let numpy_ratio = r.numpy.as_ref().map_or("n/a".to_string(), |np| {
            format_ratio(r.logme_s() / np.product_s)
        });
        let anon = mib(r.peak_anon_kib) * 1024.0 * 1024.0;
        let rss = mib(r.max_rss_kib) * 1024.0 * 1024.0;
        let _ = write!(
            text,
            "| {} | {} | {numpy_ratio} | {} | {} |",
            r.shape.label(),
            format_ratio(r.logme_s() / r.floor_s()),
            format_ratio(anon / r.two_gram_bytes()),
            format_ratio(rss / (r.file_bytes as f64 + r.two_gram_bytes())),
        );
        if let Some((walls, _)) = &r.python {
            let _ = write!(text, " {} |", format_ratio(median(walls) / r.logme_s()));
        } else if python {
            text.push_str(" n/a |");
        }
        text.push('\n');
    }
    text.push_str(
        "\n- *floor*: the Gram product alone, G = FᵀF through faer's `syrk` on the same data \
         already widened to f64 (N > D); for N < D the row Gram product FFᵀ plus its \
         eigen-decomposition, which that path cannot avoid. Median over the rounds.\n\
         - *NumPy product*: `f.T @ f` (`f @ f.T` when N < D) on `np.load(...).astype(float64)`, \
         widening untimed; NumPy hands it to its bundled OpenBLAS `dsyrk`. It times less than \
         the floor's scope for N < D (no `eigh`), so that ratio is pessimistic for logme.\n\
         - *peak anon*: the largest `RssAnon` (heap, no file pages) sampled every 5 ms; 2·D²·8 \
         bytes is one f64 Gram matrix plus its eigenvectors, the working set DESIGN.md §3 \
         implies. *max RSS* (`ru_maxrss` from `wait4`) also counts the memory-mapped feature \
         file's pages, which the kernel can drop.\n\n",
    );

    // Then the measurements behind them.
    text.push_str("## Measurements\n\n");
    let _ = writeln!(
        text,
        "| shape | file | logme score wall (median; min–max) | fit inside the CLI | floor product \
         | floor GFLOP/s | faer eigh | NumPy product | NumPy eigh | max RSS | peak anon | 2·D²·8 |"
    );
    let _ = writeln!(
        text,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in reports {
        let min = r.logme_walls.iter().copied().fold(f64::INFINITY, f64::min);
        let max = r.logme_walls.iter().copied().fold(0.0, f64::max);
        let (np_product, np_eigh) = r.numpy.as_ref().map_or(("n/a".into(), "n/a".into()), |np| {
            (format_seconds(np.product_s), format_seconds(np.eigh_s))
        });
        let _ = writeln!(
            text,
            "| {} | {} | {} ({}–{}) | {} | {} | {:.1} | {} | {np_product} | {np_eigh} | {} | {} | {} |",
            r.shape.label(),
            format_mib(r.file_bytes as f64),
            format_seconds(r.logme_s()),
            format_seconds(min),
            format_seconds(max),
            format_seconds(median(&r.logme_fit_s)),
            format_seconds(r.product_s()),
            r.gflops(),
            format_seconds(r.eigh_s()),
            format_mib(mib(r.max_rss_kib) * 1024.0 * 1024.0),
            format_mib(mib(r.peak_anon_kib) * 1024.0 * 1024.0),
            format_mib(r.two_gram_bytes()),
        );
    }
    text.push_str(
        "\n*fit inside the CLI*: the `seconds` field of the JSON output, from opening the feature \
         file to the fitted model; the rest of the wall time is process start, reading the \
         labels and printing. *floor GFLOP/s*: N·D² (D·N² when N < D) flops over the product's \
         time. *faer eigh*: the floor binary's `eigh` of the same Gram matrix.\n\n",
    );

    // Where the time goes: the library's phases timed in the floor process, same rounds.
    text.push_str("## Where the time goes\n\n");
    text.push_str(
        "Medians over the same rounds. The floor binary also times the library's own phases on \
         the f32 data in memory (`benches/floor.rs --labels`): *statistics overhead* is \
         `SufficientStats::from_data` minus the bare Gram product (finiteness check, widening \
         f32 to f64 block by block, one `syrk` call per block, class sums for FᵀY); *solve \
         overhead* is `LogMe::fit_stats` minus `eigh` (projections VᵀB, ordering, fixed point, \
         weights), or for N < D the whole fit minus product and `eigh`; *outside the fit* is \
         the `logme score` wall time minus the fit the CLI reports (process start, opening and \
         mapping the file, reading labels, output). Phases timed in different processes do not \
         add up exactly on a shared machine.\n\n",
    );
    text.push_str(
        "| shape | logme score | Gram product | eigh | statistics overhead | solve overhead \
         | outside the fit | in-process fit |\n",
    );
    text.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in reports {
        let (product, eigh) = (r.product_s(), r.eigh_s());
        let fit = r.phase(|f| f.fit_s);
        let stats_overhead = r.phase(|f| f.stats_s).map(|s| s - product);
        let solve_overhead = match r.phase(|f| f.fit_stats_s) {
            Some(fit_stats) => Some(fit_stats - eigh),
            None => fit.map(|fit| fit - product - eigh),
        };
        let cell = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), format_seconds);
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.shape.label(),
            format_seconds(r.logme_s()),
            format_seconds(product),
            format_seconds(eigh),
            cell(stats_overhead),
            cell(solve_overhead),
            format_seconds(r.logme_s() - median(&r.logme_fit_s)),
            cell(fit),
        );
    }
    text.push('\n');

    if let Some(template) = &args.vs_python {
        let _ = writeln!(text, "## Python scorer\n\n`{template}`\n");
        text.push_str("| shape | wall (median) | runs | max RSS |\n|---|---:|---:|---:|\n");
        for r in reports {
            if let Some((walls, rss)) = &r.python {
                let _ = writeln!(
                    text,
                    "| {} | {} | {} | {} |",
                    r.shape.label(),
                    format_seconds(median(walls)),
                    walls.len(),
                    format_mib(mib(*rss) * 1024.0 * 1024.0)
                );
            }
        }
        text.push('\n');
    }

    text.push_str("## Larger than memory (`--large`)\n\n");
    match large {
        Some(l) => {
            let flops = (l.shape.n * l.shape.d * l.shape.d) as f64;
            let rate = reports
                .iter()
                .find(|r| r.shape.d == l.shape.d && r.shape.n > r.shape.d)
                .map(ShapeReport::gflops);
            let _ = writeln!(
                text,
                "`logme score` on a {} float32 file of {} ({} rows drawn from 8192 distinct \
                 rows): wall {}, fit {}, max RSS {}, peak anon {}, throughput {:.2} GB/s of \
                 file{}.",
                l.shape.id(),
                format_mib(l.file_bytes as f64),
                l.shape.n,
                format_seconds(l.measured.wall.as_secs_f64()),
                format_seconds(l.fit_s),
                format_mib(mib(l.measured.max_rss_kib) * 1024.0 * 1024.0),
                format_mib(mib(l.measured.peak_anon_kib) * 1024.0 * 1024.0),
                l.file_bytes as f64 / l.measured.wall.as_secs_f64() / 1e9,
                rate.map_or(String::new(), |gflops| format!(
                    "; the floor rate measured above ({gflops:.1} GFLOP/s) predicts {} for \
                     N·D², so logme runs at {} of it",
                    format_seconds(flops / gflops / 1e9),
                    format_ratio(l.measured.wall.as_secs_f64() / (flops / gflops / 1e9))
                ))
            );
        }
        None => text.push_str(
            "Not run: pass `--large` to score a ~30 GB float32 file (4,000,000 x 2048; never in \
             CI). The file is written to `$TMPDIR` and removed afterwards.\n",
        ),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_aligns_the_data_at_64_bytes() {
        for shape in [&[3usize, 4][..], &[7], &[4_000_000, 2048]] {
            let header = npy_header("<f4", shape);
            assert_eq!(header.len() % 64, 0);
            assert_eq!(
                usize::from(u16::from_le_bytes([header[8], header[9]])),
                header.len() - 10
            );
            assert_eq!(header.last(), Some(&b'\n'));
        }
        let text = String::from_utf8_lossy(&npy_header("<i8", &[7])).into_owned();
        assert!(text.contains("'shape': (7,)"), "{text}");
    }

    #[test]
    fn datasets_are_valid_npy_files_of_the_requested_shape() {
        let dir = TempDir::new("test").unwrap();
        let shape = Shape::new(5, 3, 2);
        let (features, labels) = write_dataset(&dir.0, shape, None).unwrap();
        let bytes = std::fs::read(&features).unwrap();
        assert_eq!(bytes.len(), npy_header("<f4", &[5, 3]).len() + 5 * 3 * 4);
        let labels = std::fs::read(labels).unwrap();
        let data = &labels[npy_header("<i8", &[5]).len()..];
        let ids: Vec<i64> = data
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(ids, [0, 1, 0, 1, 0]);
        let path = dir.0.clone();
        drop(dir);
        assert!(!path.exists(), "the temporary directory is removed on drop");
    }

    #[test]
    fn results_rank_backends_and_report_skips() {
        let home = TempDir::new("criterion-test").unwrap();
        let since = SystemTime::now() - Duration::from_secs(1);
        let shape = Shape::new(2000, 512, 10);
        let write = |group: &str, backend: &str, ns: f64| {
            let dir = home
                .0
                .join(group)
                .join(backend)
                .join(shape.id())
                .join("new");
            std::fs::create_dir_all(&dir).unwrap();
            let json = format!("{{\"median\": {{\"point_estimate\": {ns}}}}}");
            std::fs::write(dir.join("estimates.json"), json).unwrap();
        };
        write("score", "faer", 2e6);
        write("score", "lapack", 3e6);
        write("syrk", "faer", 1e6);
        write("syrk", "lapack", 5e5);
        let marker = home.0.join("score/nalgebra").join(shape.id());
        std::fs::create_dir_all(&marker).unwrap();
        std::fs::write(marker.join("skipped.txt"), "one fit took 61.0 s").unwrap();

        let machine = Machine::describe();
        let text = results_markdown(
            &machine,
            "cargo xtask bench",
            "bench --bench kernels",
            &home.0,
            &["faer", "lapack", "nalgebra"],
            &[shape],
            since,
        );
        assert!(
            text.contains("| 2000x512x10 | 1.00× | 1.50× | skipped | 4.00× |"),
            "{text}"
        );
        assert!(
            text.contains("Whole fit on 2000x512x10: faer, 1.50× ahead of lapack."),
            "{text}"
        );
        assert!(text.contains("syrk lapack, 2.00× ahead of faer"), "{text}");
        assert!(
            text.contains("score/nalgebra skipped: one fit took 61.0 s."),
            "{text}"
        );
    }

    #[test]
    fn python_templates_get_quoted_paths() {
        let command = python_command(
            "scorer {features} {labels}",
            Path::new("/tmp/a b.npy"),
            Path::new("/x'y"),
        );
        let args: Vec<_> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["-c", r"scorer '/tmp/a b.npy' '/x'\''y'"]);
    }

    #[test]
    fn durations_keep_three_significant_digits() {
        assert_eq!(format_nanos(707.2e6), "707 ms");
        assert_eq!(format_nanos(3.912e9), "3.91 s");
        assert_eq!(format_nanos(-0.7e9), "−700 ms");
        assert_eq!(format_nanos(12.34e3), "12.3 µs");
    }
}
