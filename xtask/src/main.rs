//! Project automation: `cargo xtask ci | tidy | bench`.
//!
//! `ci` runs the gates cheapest first and stops at the first failure, the same locally and in CI.

mod bench;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "logme project automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Format check, tidy, clippy, tests (with every backend), docs, bench compilation.
    Ci {
        /// Skip the LAPACK backend even when OpenBLAS is present.
        #[arg(long)]
        no_lapack: bool,
    },
    /// Checks file headers, placeholders, line width and trailing whitespace.
    Tidy,
    /// Runs the criterion benches and the performance report (`benches/*.md`).
    Bench(bench::BenchArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = project_root();
    std::env::set_current_dir(&root)?;
    match cli.command {
        Task::Ci { no_lapack } => ci(no_lapack),
        Task::Tidy => tidy::run(&root),
        Task::Bench(args) => bench::run_bench(&root, &args),
    }
}

/// The workspace root (the parent of this crate's folder).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Runs a command, echoing it, and fails if it fails.
pub fn run(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

/// Whether the system OpenBLAS (library and headers) is installed.
fn openblas_present() -> bool {
    let candidates = [
        "/usr/lib/x86_64-linux-gnu/libopenblas.so",
        "/usr/lib/aarch64-linux-gnu/libopenblas.so",
        "/usr/lib/libopenblas.so",
        "/usr/local/lib/libopenblas.so",
    ];
    candidates.iter().any(|p| Path::new(p).exists())
}

/// Installs OpenBLAS with apt-get when running as root on Debian; otherwise says what to do.
fn ensure_openblas() -> bool {
    if openblas_present() {
        return true;
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if is_root && Path::new("/usr/bin/apt-get").exists() {
        eprintln!("OpenBLAS is missing: installing libopenblas-dev with apt-get");
        let ok = run("apt-get", &["update", "-qq"], &[]).is_ok()
            && run(
                "apt-get",
                &["install", "-y", "-qq", "libopenblas-dev"],
                &[("DEBIAN_FRONTEND", "noninteractive")],
            )
            .is_ok();
        return ok && openblas_present();
    }
    eprintln!(
        "note: OpenBLAS is not installed, so the LAPACK backend is skipped; install it with \
         `sudo apt-get install libopenblas-dev` to test all three backends"
    );
    false
}

fn ci(no_lapack: bool) -> Result<()> {
    let lapack = !no_lapack && ensure_openblas();
    // With OpenBLAS every crate and backend is built; without it, the pure-Rust ones.
    let scope: &[&str] = if lapack {
        &["--workspace", "--all-features"]
    } else {
        &["--features", "nalgebra"]
    };
    let cargo = |base: &[&str], extra: &[&str], envs: &[(&str, &str)]| -> Result<()> {
        let args: Vec<&str> = base.iter().chain(scope).chain(extra).copied().collect();
        run("cargo", &args, envs)
    };

    run("cargo", &["fmt", "--all", "--check"], &[])?;
    tidy::run(&project_root())?;
    cargo(&["clippy", "--all-targets"], &["--", "-D", "warnings"], &[])?;

    // Each backend alone through the facade.
    run(
        "cargo",
        &["check", "-p", "logme", "--no-default-features"],
        &[],
    )?;
    run(
        "cargo",
        &[
            "check",
            "-p",
            "logme",
            "--no-default-features",
            "--features",
            "nalgebra",
        ],
        &[],
    )?;
    if lapack {
        run(
            "cargo",
            &[
                "check",
                "-p",
                "logme",
                "--no-default-features",
                "--features",
                "lapack",
            ],
            &[],
        )?;
    }

    cargo(&["test"], &[], &[])?;
    cargo(
        &["doc", "--no-deps"],
        &[],
        &[(
            "RUSTDOCFLAGS",
            "-D warnings -D rustdoc::broken_intra_doc_links",
        )],
    )?;
    cargo(&["bench", "--no-run"], &[], &[])?;
    eprintln!("ci: all gates passed");
    Ok(())
}
