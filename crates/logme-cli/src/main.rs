//! The `logme` command-line tool: score one feature file, rank many, predict with a fit.
//!
//! Tables and JSON go to stdout; progress and diagnostics go to stderr. Every error is one line on
//! stderr naming the file and the problem, with exit code 1 (2 for usage errors).

mod args;
mod commands;
mod output;
mod shards;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that closed the pipe early (`logme rank ... | head`) is not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
