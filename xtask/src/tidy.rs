//! `cargo xtask tidy`: cheap textual checks over the project's Rust sources.
//!
//! Every Rust file opens with a `//!` doc, no placeholder macros, no trailing whitespace, and
//! doc comments wrapped at 100 columns.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// Problems found in one file's text.
pub fn check_text(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !text.trim_start().starts_with("//!") {
        problems.push("does not open with a `//!` module doc".to_string());
    }
    let placeholders = [
        concat!("to", "do!("),
        concat!("unimple", "mented!("),
        concat!("db", "g!("),
    ];
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        if line.ends_with(' ') || line.ends_with('\t') {
            problems.push(format!("line {line_no}: trailing whitespace"));
        }
        let trimmed = line.trim_start();
        if (trimmed.starts_with("///") || trimmed.starts_with("//!")) && line.chars().count() > 100
        {
            problems.push(format!(
                "line {line_no}: doc comment longer than 100 columns"
            ));
        }
        for p in placeholders {
            if line.contains(p) && !trimmed.starts_with("//") && !line.contains("concat!(") {
                problems.push(format!("line {line_no}: placeholder `{p}`"));
            }
        }
    }
    problems
}

/// Runs the checks over the workspace.
pub fn run(root: &Path) -> Result<()> {
    let mut files = Vec::new();
    for dir in ["src", "crates", "xtask", "tests", "benches", "examples"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut failures = 0;
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        for problem in check_text(&text) {
            eprintln!(
                "{}: {problem}",
                file.strip_prefix(root).unwrap_or(file).display()
            );
            failures += 1;
        }
    }
    if failures > 0 {
        bail!("tidy found {failures} problem(s)");
    }
    eprintln!("tidy: {} files clean", files.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_text;

    #[test]
    fn flags_missing_header_whitespace_and_placeholders() {
        let bad = format!("fn f() {{ {}(); }} \n", concat!("to", "do!"));
        let problems = check_text(&bad);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(check_text("//! Fine.\nfn f() {}\n").is_empty());
    }

    #[test]
    fn the_workspace_is_tidy() {
        super::run(&crate::project_root()).unwrap();
    }
}
