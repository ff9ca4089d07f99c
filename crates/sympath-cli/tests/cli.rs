#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The `sympath` binary as a process: output contracts, exit codes, colour.

use std::process::{Command, Output};

use expect_test::expect;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sympath"))
        .args(args)
        .env_remove("_NT_SYMBOL_PATH")
        .env_remove("_NT_ALT_SYMBOL_PATH")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn expand_json_contract() {
    let o = run(&["expand", "--json", "--", r"cache*C:\c;srv*C:\sym*http://msdl.microsoft.com/download/symbols;;srv*"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let els = v["elements"].as_array().unwrap();
    assert_eq!(els.len(), 3);
    assert_eq!(els[0]["type"], "cache");
    assert_eq!(els[0]["path"], r"C:\c");
    assert_eq!(els[1]["type"], "chain");
    assert_eq!(els[1]["dll"], "symsrv.dll");
    assert_eq!(els[1]["stores"][0]["role"], "downstream");
    assert_eq!(els[1]["stores"][0]["kind"], "dir");
    assert_eq!(els[1]["stores"][1]["url"], "http://msdl.microsoft.com/download/symbols");
    assert_eq!(els[1]["cached_into"][0], r"C:\c");
    assert_eq!(els[2]["stores"][0]["implicit"], "default_symbol_server");
    let diags = v["diagnostics"].as_array().unwrap();
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["SP401", "SP101"]);
    for d in diags {
        assert!(d["severity"].is_string() && d["message"].is_string());
        let span = d["span"].as_array().unwrap();
        assert_eq!(span.len(), 2);
        assert!(span[0].as_u64().unwrap() <= span[1].as_u64().unwrap());
    }
    assert_eq!(
        v["explicit"],
        r"cache*C:\c;srv*C:\sym*http://msdl.microsoft.com/download/symbols;srv*https://msdl.microsoft.com/download/symbols"
    );
}

#[test]
fn exit_codes() {
    assert_eq!(run(&["expand", "--", r"srv*C:\sym*https://msdl.microsoft.com/download/symbols"]).status.code(), Some(0));
    assert_eq!(run(&["expand", "--", r"srv*https://h/s*C:\sym"]).status.code(), Some(1));
    assert_eq!(run(&["expand", "--bogus", "x"]).status.code(), Some(2));
    assert_eq!(run(&["expand"]).status.code(), Some(2), "no path and no _NT_SYMBOL_PATH");
    let o = run(&["key", "--kind", "pe", "--name", "a.dll", "--timestamp", "63E6C7F7", "--size-of-image", "0x8000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid timestamp \"63E6C7F7\""), "{}", stderr(&o));
    assert_eq!(run(&["key", "--kind", "nope", "--name", "a"]).status.code(), Some(2));
    assert_eq!(run(&["expand", "-c", ".reload", "--", "C:\\x"]).status.code(), Some(2));
}

#[test]
fn expand_reads_the_environment_when_no_path_is_given() {
    let o = Command::new(env!("CARGO_BIN_EXE_sympath"))
        .args(["expand", "--json"])
        .env("_NT_SYMBOL_PATH", r"srv*C:\s*https://h/s")
        .env("_NT_ALT_SYMBOL_PATH", r"C:\private")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["elements"][0]["path"], r"C:\private", "R45: ALT first");
    assert_eq!(v["origins"], serde_json::json!(["alt_env", "nt_env"]));
}

#[test]
fn key_json_matches_vector_k05() {
    let o =
        run(&["key", "--json", "--kind", "pe", "--name", "ShowSSEConfig.exe", "--timestamp", "0x63E6C7F7", "--size-of-image", "0x8000"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["one_tier"], "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe");
    assert_eq!(v["two_tier"], "Sh/ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe");
    assert_eq!(v["compressed"], "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.ex_");
    assert_eq!(v["ssqp"], "showsseconfig.exe/63E6C7F78000/showsseconfig.exe");
    let o = run(&["key", "--json", "--kind", "elf_debug", "--name", "x.so", "--build-id", "180a373d6afbabf0eb1f09be1bc45bd7"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["compressed"], Value::Null);
    assert_eq!(v["one_tier"], "_.debug/elf-buildid-sym-180a373d6afbabf0eb1f09be1bc45bd700000000/_.debug");
}

#[test]
fn key_from_breakpad_debug_id() {
    let o = run(&["key", "--kind", "pdb", "--name", "crash.pdb", "--debug-id", "3249D99D0C4049318610F4E4FB0B69361"]);
    expect![[r#"
        one-tier    crash.pdb/3249D99D0C4049318610F4E4FB0B69361/crash.pdb
        two-tier    cr/crash.pdb/3249D99D0C4049318610F4E4FB0B69361/crash.pdb
        compressed  crash.pdb/3249D99D0C4049318610F4E4FB0B69361/crash.pd_
        ssqp        crash.pdb/3249d99d0c4049318610f4e4fb0b69361/crash.pdb
        file.ptr    crash.pdb/3249D99D0C4049318610F4E4FB0B69361/file.ptr
        debug id    3249D99D0C4049318610F4E4FB0B69361
    "#]]
    .assert_eq(&stdout(&o));
}

#[test]
fn rendered_diagnostics_look_like_rustc() {
    let o = run(&["expand", "--", r"srv*https://h/s*C:\cache"]);
    expect![[r#"
        error[SP204]: an HTTP store cannot be written to, so it must be the right-most store: this chain is broken
         --> symbol path:1:5
          |
        1 | srv*https://h/s*C:\cache
          |     ^^^^^^^^^^^
          |
          = help: stores to its right never receive copies; symsrv supports one HTTP store, at the end
        help: Move HTTP stores to the end
          |
        1 - srv*https://h/s*C:\cache
        1 + srv*C:\cache*https://h/s
          |
        1 error(s), 0 warning(s), 0 note(s)
    "#]]
    .assert_eq(&stderr(&o));
    assert!(!o.stderr.contains(&0x1b), "NO_COLOR / non-TTY output must have no escape codes");
}

#[test]
fn plan_text() {
    let o = run(&[
        "plan",
        "--kind",
        "pdb",
        "--name",
        "ntdll.pdb",
        "--guid",
        "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE",
        "--age",
        "2",
        "--image",
        "ntdll.dll",
        "--tiers",
        "one",
        "--no-fallback",
        "--",
        r"C:\local;srv*C:\sym*https://msdl.microsoft.com/download/symbols",
    ]);
    expect![[r#"
        key: ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb
        ext: dll
          1. [el 1] dir        C:\local\ntdll.pdb
          2. [el 1] dir        C:\local\dll\ntdll.pdb
          3. [el 1] dir        C:\local\symbols\dll\ntdll.pdb
          4. [el 2] plain      C:\sym\ntdll.pdb\0F7FCF88442F4B0E9FB51DC4A754D9DE2\ntdll.pdb
          5. [el 2] compressed C:\sym\ntdll.pdb\0F7FCF88442F4B0E9FB51DC4A754D9DE2\ntdll.pd_
          6. [el 2] fileptr    C:\sym\ntdll.pdb\0F7FCF88442F4B0E9FB51DC4A754D9DE2\file.ptr
          7. [el 2] plain      https://msdl.microsoft.com/download/symbols/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb
                      on hit: copy into C:\sym (expanded, Downstream)
          8. [el 2] compressed https://msdl.microsoft.com/download/symbols/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pd_
                      on hit: copy into C:\sym (expanded, Downstream)
          9. [el 2] fileptr    https://msdl.microsoft.com/download/symbols/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/file.ptr
                      on hit: copy into C:\sym (expanded, Downstream)
    "#]]
    .assert_eq(&stdout(&o));
    let o = run(&[
        "plan",
        "--json",
        "--kind",
        "pe",
        "--name",
        "a.dll",
        "--code-id",
        "5AB380779000",
        "--mirror",
        "https://m.example",
        "--",
        "srv*",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let urls: Vec<&str> = v["plan"]["probes"].as_array().unwrap().iter().filter_map(|p| p["location"]["url"].as_str()).collect();
    assert_eq!(urls[0], "https://m.example/a.dll/5AB380779000/a.dll");
}

#[test]
fn explain_and_fix() {
    let o = run(&["explain", "--", r"cache*C:\c;srv*https://h/s"]);
    let out = stdout(&o);
    assert!(out.contains("1. Cache directive: cache*C:\\c"), "{out}");
    assert!(out.contains("copied into `C:\\c`"), "{out}");
    let o = run(&["fix", "--", r" http://msdl.microsoft.com/download/symbols ;;C:\a;C:\A"]);
    assert_eq!(stdout(&o).trim(), r"srv*https://msdl.microsoft.com/download/symbols;C:\a");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn clap_definition_is_consistent() {
    // Builds every subcommand's argument parser (catches duplicate flags).
    for sub in ["expand", "explain", "fix", "key", "plan"] {
        let o = run(&[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{sub}: {}", stderr(&o));
    }
}
