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
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
