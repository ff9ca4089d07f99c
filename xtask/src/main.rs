//! `cargo xtask`: the project's two commands and their helpers.
//!
//! - `cargo xtask test`: every check CI runs (format, lints, all tests,
//!   the wasm build and the browser tests).
//! - `cargo xtask dev`: build the page and run the mirror + page on 127.0.0.1:8787.
//!
//! Each step installs what it needs itself, at pinned versions (Rust tools into
//! `~/.cache/sympath-tools`, Node packages from `package-lock.json`, Chromium
//! from Debian), so both work on a fresh Debian machine with only Rust and Node.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// Must equal the `wasm-bindgen` pin in the root Cargo.toml.
const WASM_BINDGEN_VERSION: &str = "0.2.129";
/// worker-build for the `worker` crate version in worker/Cargo.toml.
const WORKER_BUILD_VERSION: &str = "0.8.7";

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

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().map(|o| o.status.success()).unwrap_or(false)
}

fn tools_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    home.join(".cache").join("sympath-tools")
}

fn ensure_components() -> Result<(), String> {
    for (tool, component) in [("clippy", "clippy"), ("fmt", "rustfmt")] {
        if !succeeds("cargo", &[tool, "--version"]) {
            run("rustup", &["component", "add", component])?;
        }
    }
    Ok(())
}

/// The pinned wasm-bindgen CLI, installed on first use.
fn wasm_bindgen() -> Result<PathBuf, String> {
    let dir = tools_dir().join(format!("wasm-bindgen-{WASM_BINDGEN_VERSION}"));
    let bin = dir.join("bin").join("wasm-bindgen");
    if !bin.exists() {
        let root = dir.to_string_lossy().into_owned();
        run("cargo", &["install", "--locked", "--version", WASM_BINDGEN_VERSION, "wasm-bindgen-cli", "--root", &root])?;
    }
    Ok(bin)
}

/// The pinned worker-build, installed on first use. It honours
/// `WASM_BINDGEN_BIN`/`WASM_OPT_BIN` instead of downloading them.
fn worker_build_env() -> Result<Vec<(String, String)>, String> {
    let dir = tools_dir().join(format!("worker-build-{WORKER_BUILD_VERSION}"));
    if !dir.join("bin").join("worker-build").exists() {
        let root = dir.to_string_lossy().into_owned();
        run("cargo", &["install", "--locked", "--version", WORKER_BUILD_VERSION, "worker-build", "--root", &root])?;
    }
    let path = format!("{}:{}", dir.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    Ok(vec![
        ("PATH".into(), path),
        ("WASM_BINDGEN_BIN".into(), wasm_bindgen()?.to_string_lossy().into_owned()),
        ("WASM_OPT_BIN".into(), root().join("node_modules/.bin/wasm-opt").to_string_lossy().into_owned()),
        ("WRANGLER_SEND_METRICS".into(), "false".into()),
    ])
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output().map_err(|e| format!("rustup: {e}"))?;
    if !String::from_utf8_lossy(&installed.stdout).lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    Ok(())
}

/// Node packages from package-lock.json (binaryen's wasm-opt, playwright-core).
fn ensure_node_modules() -> Result<(), String> {
    let marker = root().join("node_modules").join(".package-lock.json");
    let lock = root().join("package-lock.json");
    let fresh = match (marker.metadata().and_then(|m| m.modified()), lock.metadata().and_then(|m| m.modified())) {
        (Ok(m), Ok(l)) => m >= l,
        _ => false,
    };
    if !fresh {
        run("npm", &["ci", "--no-audit", "--no-fund"])?;
    }
    Ok(())
}

/// Debian's Chromium for the browser tests (never a downloaded browser).
fn ensure_chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    run("apt-get", &["update", "-q"])?;
    run("apt-get", &["install", "-y", "-q", "--no-install-recommends", "chromium"])
}

/// Builds the page's wasm packages: the core into `web/pkg` (loaded with the
/// page) and the identity readers into `web/pkg/ident` (loaded when a file is
/// dropped): cargo → wasm-bindgen → wasm-opt.
fn build_wasm() -> Result<(), String> {
    ensure_wasm_target()?;
    let bindgen = wasm_bindgen()?;
    ensure_node_modules()?;
    for (package, lib, dir) in [
        ("sympath-wasm", "sympath_wasm", "pkg"),
        ("sympath-ident-wasm", "sympath_ident_wasm", "pkg/ident"),
        // The crash viewer's stack walker and PDB reader: loaded only by its Web Worker.
        ("sympath-crash-wasm", "sympath_crash_wasm", "pkg/crash"),
    ] {
        run("cargo", &["build", "--locked", "-p", package, "--target", "wasm32-unknown-unknown", "--profile", "wasm"])?;
        let out = root().join("web").join(dir);
        let wasm = root().join(format!("target/wasm32-unknown-unknown/wasm/{lib}.wasm"));
        run(&bindgen.to_string_lossy(), &["--target", "web", "--out-dir", &out.to_string_lossy(), &wasm.to_string_lossy()])?;
        let bg = out.join(format!("{lib}_bg.wasm")).to_string_lossy().into_owned();
        let opt = root().join("node_modules/.bin/wasm-opt");
        let features = [
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
        ];
        // Rust's wasm32 stack is placed first and grows down from 1 MiB, so
        // the lowest 1 KiB is never addressed by a valid program: wasm-opt may
        // then fold constant offsets into loads and stores. The memory is the
        // module's own (not imported), so it starts zeroed and zero bytes of
        // data segments need not be stored. The producers and
        // target-features sections are for linkers, not for browsers.
        let mut args: Vec<&str> =
            vec!["-Oz", "--low-memory-unused", "--zero-filled-memory", "--strip-producers", "--strip-target-features"];
        args.extend(features);
        args.extend([bg.as_str(), "-o", bg.as_str()]);
        run(&opt.to_string_lossy(), &args)?;
    }
    build_client()?;
    build_crash()?;
    write_package_json(&root().join("web").join("pkg"))
}

/// Compiles the browser symbol client (`crates/sympath-wasm/js/client.ts`)
/// into the package with tsc, strict, declarations included.
fn build_client() -> Result<(), String> {
    compile_ts("crates/sympath-wasm/js", &["client.ts"])
}

/// Compiles `symbolicate()` (`crates/sympath-crash-wasm/js/crash.ts`) and
/// its Web Worker into the package, next to the client they import.
fn build_crash() -> Result<(), String> {
    compile_ts("crates/sympath-crash-wasm/js", &["crash.ts", "crash-worker.ts"])
}

/// Copies TypeScript sources from `dir` into `web/pkg` and compiles them
/// there with tsc (strict, ES2022 modules, declarations), then removes the copies.
fn compile_ts(dir: &str, names: &[&str]) -> Result<(), String> {
    let pkg = root().join("web").join("pkg");
    for n in names {
        std::fs::copy(root().join(dir).join(n), pkg.join(n)).map_err(|e| format!("{n}: {e}"))?;
    }
    let tsc = root().join("node_modules/.bin/tsc");
    let srcs: Vec<String> = names.iter().map(|n| pkg.join(n).to_string_lossy().into_owned()).collect();
    let mut args = vec![
        "--strict",
        "--target",
        "es2022",
        "--module",
        "es2022",
        "--moduleResolution",
        "bundler",
        "--lib",
        "es2022,dom,dom.iterable",
        "--declaration",
        "--skipLibCheck",
    ];
    args.extend(srcs.iter().map(String::as_str));
    let status = run(&tsc.to_string_lossy(), &args);
    for s in &srcs {
        let _ = std::fs::remove_file(s);
    }
    status
}

/// One npm package, `sympath`: the core module (`.`), the identity readers
/// loaded on demand (`./ident`) and the browser symbol client (`./client`).
fn write_package_json(out: &Path) -> Result<(), String> {
    let json = format!(
        r#"{{
  "name": "sympath",
  "version": "{version}",
  "description": "Windows symbol paths and symbol stores in WebAssembly: validate, expand and explain _NT_SYMBOL_PATH; store keys, URLs and lookup plans; read PE/PDB/minidump identities; fetch symbols from the browser",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "sympath_wasm.js",
  "types": "sympath_wasm.d.ts",
  "exports": {{
    ".": {{ "types": "./sympath_wasm.d.ts", "default": "./sympath_wasm.js" }},
    "./client": {{ "types": "./client.d.ts", "default": "./client.js" }},
    "./ident": {{ "types": "./ident/sympath_ident_wasm.d.ts", "default": "./ident/sympath_ident_wasm.js" }},
    "./crash": {{ "types": "./crash.d.ts", "default": "./crash.js" }}
  }},
  "files": ["sympath_wasm.js", "sympath_wasm.d.ts", "snippets/", "sympath_wasm_bg.wasm", "sympath_wasm_bg.wasm.d.ts", "client.js", "client.d.ts",
    "ident/sympath_ident_wasm.js", "ident/sympath_ident_wasm.d.ts", "ident/snippets/", "ident/sympath_ident_wasm_bg.wasm", "ident/sympath_ident_wasm_bg.wasm.d.ts",
    "crash.js", "crash.d.ts", "crash-worker.js", "crash-worker.d.ts", "crash/sympath_crash_wasm.js", "crash/sympath_crash_wasm.d.ts", "crash/snippets/", "crash/sympath_crash_wasm_bg.wasm", "crash/sympath_crash_wasm_bg.wasm.d.ts"],
  "sideEffects": false,
  "keywords": ["windbg", "symbols", "pdb", "symsrv", "minidump", "wasm"]
}}
"#,
        version = env!("CARGO_PKG_VERSION")
    );
    std::fs::write(out.join("package.json"), json).map_err(|e| format!("package.json: {e}"))
}

fn test() -> Result<(), String> {
    ensure_components()?;
    run("cargo", &["fmt", "--all", "--check"])?;
    run("cargo", &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    ensure_wasm_target()?;
    run(
        "cargo",
        &[
            "clippy",
            "--locked",
            "-p",
            "sympath-wasm",
            "-p",
            "sympath-ident-wasm",
            "-p",
            "sympath-crash-wasm",
            "-p",
            "sympath-worker",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run("cargo", &["test", "--workspace", "--exclude", "sympath-bench", "--locked"])?;
    run_env("cargo", &["doc", "--no-deps", "-p", "sympath", "--locked"], &[("RUSTDOCFLAGS", "-D warnings")])?;
    build_wasm()?;
    // The generated TypeScript declarations must type-check and be precise (no `any`).
    run("node_modules/.bin/tsc", &["-p", "tests/web/tsconfig.json"])?;
    // The pages' JavaScript, checked against the same declarations.
    run("node_modules/.bin/tsc", &["-p", "tests/web/tsconfig.pages.json"])?;
    // The mirror's pump: type-checked (`// @ts-check`) and unit-tested on fake streams.
    run("node_modules/.bin/tsc", &["-p", "worker/js/tsconfig.json"])?;
    run("node", &["--test", "worker/js/"])?;
    ensure_chromium()?;
    run("cargo", &["build", "--locked", "-p", "sympath-cli"])?;
    // Minidumps for the binding and crash-viewer tests come from the minidump-synth example.
    run("cargo", &["build", "--locked", "-p", "sympath-ident", "--example", "synth_minidump"])?;
    run("cargo", &["build", "--locked", "-p", "sympath-crash", "--example", "crash_minidump"])?;
    run_env("node", &["--test", "--test-concurrency=1", "tests/web/"], &[("SYMPATH_CLI", "target/debug/sympath")])?;
    // The edge mirror in the local Workers runtime (wrangler dev builds it with worker-build).
    let env = worker_build_env()?;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // Build once up front (a cold release build takes minutes); wrangler's own
    // build step in the tests is then a quick no-op rebuild.
    run_env("sh", &["-c", "cd worker && worker-build --release"], &env)?;
    // A symbol-server client no one here wrote (the symsrv crate), driven by the mirror tests.
    run("cargo", &["build", "--locked", "-p", "sympath-bench", "--example", "symsrv_get"])?;
    run_env("node", &["--test", "--test-concurrency=1", "tests/mirror/"], &env)?;
    // The browser symbol client and the crash viewer, in Chromium against the mirror.
    run_env("node", &["--test", "--test-concurrency=1", "tests/client/"], &env)?;
    Ok(())
}

/// Builds the page and runs the mirror (which also serves the page) with
/// `wrangler dev` on 127.0.0.1. Extra arguments go to wrangler, e.g.
/// `--var SYMBOL_PATH:srv*http://127.0.0.1:8000`.
///
/// wrangler's devtools inspector proxy is off unless `SYMPATH_DEVTOOLS=1`:
/// it forwards one devtools event per body chunk of every upstream request
/// to wrangler's Node process, which slowed a 1 GiB download through the
/// mirror to 2 MB/s and exhausted wrangler's memory (BENCHMARKS.md).
/// wrangler 4.86 has no flag for it; it skips the proxy when it believes it
/// runs in VS Code's debug terminal (`VSCODE_INSPECTOR_OPTIONS` set).
fn dev(args: &[String]) -> Result<(), String> {
    build_wasm()?;
    let mut env = worker_build_env()?;
    if std::env::var("SYMPATH_DEVTOOLS").as_deref() != Ok("1") {
        env.push(("VSCODE_INSPECTOR_OPTIONS".into(), "{}".into()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut a = vec!["dev", "--ip", "127.0.0.1", "--port", "8787"];
    a.extend(args.iter().map(String::as_str));
    run_env("node_modules/.bin/wrangler", &a, &env)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("dev") => dev(args.get(1..).unwrap_or(&[])),
        Some("wasm") => build_wasm(),
        _ => Err("usage: cargo xtask test | cargo xtask dev [wrangler args…] | cargo xtask wasm".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
