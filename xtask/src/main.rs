//! `cargo xtask`: the project's two commands and their helpers.
//!
//! - `cargo xtask test`: every check CI runs (format, lints, all tests).
//! - `cargo xtask dev`: run sympath locally.
//!
//! Each step installs what it needs itself, at pinned versions, so both work on
//! a fresh Debian machine with only Rust and Node.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs a command in the repository root, echoing it; fails on a non-zero exit.
fn run(program: &str, args: &[&str]) -> Result<(), String> {
    run_env(program, args, &[])
}

/// [`run`] with extra environment variables.
fn run_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let started = Instant::now();
    let status =
        Command::new(program).args(args).envs(env.iter().copied()).current_dir(root()).status().map_err(|e| format!("{program}: {e}"))?;
    eprintln!("  ({:.1}s)", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed with {status}", args.join(" ")))
    }
}

fn has_component(name: &str) -> bool {
    Command::new("cargo").args([name, "--version"]).output().map(|o| o.status.success()).unwrap_or(false)
}

fn ensure_components() -> Result<(), String> {
    for (tool, component) in [("clippy", "clippy"), ("fmt", "rustfmt")] {
        if !has_component(tool) {
            run("rustup", &["component", "add", component])?;
        }
    }
    Ok(())
}

fn test() -> Result<(), String> {
    ensure_components()?;
    run("cargo", &["fmt", "--all", "--check"])?;
    run("cargo", &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    run("cargo", &["test", "--workspace", "--exclude", "sympath-bench", "--locked"])?;
    run_env("cargo", &["doc", "--no-deps", "-p", "sympath", "--locked"], &[("RUSTDOCFLAGS", "-D warnings")])?;
    Ok(())
}

fn dev(args: &[String]) -> Result<(), String> {
    let mut a: Vec<&str> = vec!["run", "--quiet", "--release", "-p", "sympath-cli", "--"];
    if args.is_empty() {
        a.extend(["explain", "--"]);
        a.push(r"cache*;srv*https://msdl.microsoft.com/download/symbols");
    } else {
        a.extend(args.iter().map(String::as_str));
    }
    run("cargo", &a)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("dev") => dev(args.get(1..).unwrap_or(&[])),
        _ => Err("usage: cargo xtask test | cargo xtask dev [sympath args...]".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
