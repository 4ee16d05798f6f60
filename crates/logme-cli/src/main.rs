//! The `logme` command-line tool.

fn main() {}
