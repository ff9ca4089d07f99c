#![allow(clippy::disallowed_types, clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Data-driven test over the spec vectors (`tests/data/vectors/*.tsv`).
//!
//! Every row is checked; failures are collected and reported by row id, so a
//! regression names exactly which rules broke. Errata: `tests/data/vectors/ERRATA.md`.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;
use sympath::expand::{expand, Command, Consumer, Defaults, Environment, HostFacts, NoFacts};
use sympath::identity::{FileKind, IdentityInput};
use sympath::plan::{plan, DirOrder, FileRequest, PlanOptions, Source};
use sympath::winpath::Host;
use sympath::{Code, Dialect, ParseOptions, StoreKey};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/vectors").join(name)
}

fn read_tsv(name: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::ReaderBuilder::new().delimiter(b'\t').flexible(false).from_path(data(name)).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records().map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()).collect()
}

/// The vectors' free-text warnings, mapped to the code that must be reported.
fn warning_code(text: &str) -> Option<Code> {
    let table: &[(&str, Code)] = &[
        ("double quotes are not a quoting mechanism", Code::QuotedPath),
        ("duplicate element", Code::DuplicateElement),
        ("empty elements ignored", Code::EmptyElement),
        ("no server at all", Code::ChainWithoutUpstream),
        ("trailing \"*\" = empty token", Code::TrailingStar),
        ("more than 10 stores", Code::TooManyStores),
        ("HTTP store must be the right-most store", Code::HttpStoreNotLast),
        ("plain http: Microsoft recommends https", Code::MsdlPlainHttp),
        ("query string on a store URL", Code::UrlQueryString),
        ("non-symsrv DLL", Code::ThirdPartyDll),
        ("invalid element ignored", Code::SymsrvMissingDll),
        ("\"srv\" without \"*\"", Code::KeywordWithoutStar),
        ("\"symsrv\" without \"*\"", Code::KeywordWithoutStar),
        ("cache directive with nothing to its right", Code::CacheWithoutEffect),
        ("trailing cache* has nothing to its right", Code::CacheWithoutEffect),
        ("invalid directory from environment ignored", Code::EnvDirMissing),
    ];
    table.iter().find(|(t, _)| text.contains(t)).map(|(_, c)| *c)
}

struct Facts {
    store_roots: bool,
    missing: Vec<String>,
}

impl HostFacts for Facts {
    fn dir_exists(&self, path: &str) -> Option<bool> {
        Some(!self.missing.iter().any(|m| m.eq_ignore_ascii_case(path)))
    }
    fn is_store_root(&self, _path: &str) -> Option<bool> {
        Some(self.store_roots)
    }
}

fn env_value<'a>(ctx: &'a str, var: &str) -> Option<&'a str> {
    ctx.trim_start_matches("env:").split("; ").map(str::trim).find_map(|kv| kv.strip_prefix(var)?.strip_prefix('='))
}

#[test]
fn paths_tsv_every_row() {
    let rows = read_tsv("paths.tsv");
    assert!(rows.len() >= 60, "vectors missing: {} rows", rows.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in &rows {
        let id = row["id"].as_str();
        let ctx = row["context"].as_str();
        let input = if id == "P12" { format!("\"{}\"", row["input"]) } else { row["input"].clone() };
        let expected: Value = serde_json::from_str(&row["expected_json"]).unwrap_or_else(|e| panic!("{id}: bad JSON: {e}"));

        let mut opts = ParseOptions::default();
        let mode = ctx.split(';').next().unwrap_or("").trim();
        match mode {
            m if m.starts_with("mode=portable") => opts.host = Host::Posix,
            "mode=dotnet-diagnostics (SOS)" => opts.dialect = Dialect::DotnetDiagnostics,
            "mode=mstange/symsrv" => opts.dialect = Dialect::Samply,
            "mode=clrmd" => opts.dialect = Dialect::Clrmd,
            _ => {}
        }
        let mut env = Environment::default();
        let mut given: Option<String> = Some(input.clone());
        let mut commands = Vec::new();
        let mut facts = Facts { store_roots: ctx.contains("contains pingme.txt"), missing: Vec::new() };
        if ctx.starts_with("command") {
            commands.push(input.parse::<Command>().unwrap_or_else(|e| panic!("{id}: {e}")));
            given = ctx.split_once("existing path ").map(|(_, p)| p.trim().to_string());
        } else if ctx.starts_with("env:") {
            given = None;
            env.nt_symbol_path = env_value(ctx, "_NT_SYMBOL_PATH").map(str::to_string);
            env.alt_symbol_path = env_value(ctx, "_NT_ALT_SYMBOL_PATH").map(str::to_string);
            env.ignore_env = ctx.contains("-sins");
            if ctx.contains("consumer=dbghelp") {
                env.consumer = Consumer::Dbghelp;
            }
            if ctx.contains("C:\\does\\not\\exist") {
                facts.missing.push("C:\\does\\not\\exist".into());
            }
        }
        let exp = expand(given.as_deref(), &env, &commands, &Defaults::default(), &opts, &facts);

        let mut got = serde_json::to_value(&exp.path.elements).unwrap();
        common::strip_spans(&mut got);
        let mut want = expected["elements"].clone();
        let mut orders: Vec<(String, Value)> = Vec::new();
        if let Value::Array(els) = &mut want {
            for e in els.iter_mut() {
                if let Value::Object(m) = e {
                    for k in ["search_order_dbgeng_doc", "search_order_dbghelp_doc"] {
                        if let Some(v) = m.remove(k) {
                            orders.push((k.to_string(), v));
                        }
                    }
                    // R63-style reasons are prose; the element's type and raw text are the contract.
                    if m.get("type") == Some(&Value::from("invalid")) {
                        m.remove("reason");
                    }
                }
            }
        }
        if let Value::Array(els) = &mut got {
            for e in els.iter_mut().filter(|e| e["type"] == "invalid") {
                e.as_object_mut().unwrap().remove("reason");
            }
        }
        if got != want {
            failures.push(format!("{id}: elements\n  want {want}\n  got  {got}"));
        }
        for w in expected["warnings"].as_array().into_iter().flatten() {
            let text = w.as_str().unwrap_or("");
            match warning_code(text) {
                Some(code) if exp.path.diagnostics.iter().any(|d| d.code == code) => {}
                Some(code) => failures.push(format!(
                    "{id}: expected {code} ({text}); got {:?}",
                    exp.path.diagnostics.iter().map(|d| d.code.as_str()).collect::<Vec<_>>()
                )),
                None => failures.push(format!("{id}: no code mapped for warning {text:?}")),
            }
        }
        // R36/R37: "looking up X for Y" rows check the plain-directory probes.
        if let Some((file, image)) = ctx.split_once("looking up ").and_then(|(_, r)| r.split_once(" for ")) {
            let image = image.split_whitespace().next().unwrap_or(image);
            let ext = image.rsplit('.').next().unwrap();
            let input = IdentityInput {
                name: file.into(),
                guid: Some("00000001-0002-0003-0405-060708090A0B".into()),
                age: Some("1".into()),
                ..Default::default()
            };
            let req = FileRequest {
                kind: FileKind::Pdb,
                name: file.into(),
                identity: input.identity(FileKind::Pdb).unwrap(),
                image_name: Some(image.into()),
            };
            for (order, key) in [(DirOrder::Documented, "search_order_dbgeng_doc"), (DirOrder::Observed, "search_order_dbghelp_doc")] {
                let p = plan(&exp, &req, &PlanOptions { dir_order: order, ..Default::default() }).unwrap();
                let dirs: Vec<&str> = p.probes.iter().filter(|pr| pr.source == Source::Dir).map(|pr| pr.location.as_str()).collect();
                if let Some((_, want)) = orders.iter().find(|(k, _)| k == key) {
                    if Value::from(dirs.clone()) != *want {
                        failures.push(format!("{id}: {key}: want {want}, got {dirs:?}"));
                    }
                }
                let sub = format!("\\{ext}\\{file}");
                if dirs.len() != 3 || dirs.iter().filter(|d| d.ends_with(&sub)).count() != 2 {
                    failures.push(format!("{id}: R37 <ext> must be {ext:?} (from {image}); got {dirs:?}"));
                }
            }
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{} of {checked} rows failed:\n{}", failures.len(), failures.join("\n"));
}

fn strip_note(s: &str) -> String {
    s.split(" (").next().unwrap_or(s).trim().to_string()
}

fn field(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(strip_note(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn na(s: &str) -> Option<String> {
    (!s.starts_with("n/a")).then(|| s.to_string())
}

#[test]
fn keys_tsv_every_row() {
    let rows = read_tsv("keys.tsv");
    let errata: HashMap<String, HashMap<String, String>> = read_tsv("keys-errata.tsv").into_iter().map(|r| (r["id"].clone(), r)).collect();
    assert!(rows.len() >= 60, "vectors missing: {} rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let id = row["id"].as_str();
        let kind: FileKind = row["file_kind"].parse().unwrap_or_else(|e| panic!("{id}: {e}"));
        let ident: Value = serde_json::from_str(&row["identity_json"]).unwrap();
        let input = IdentityInput {
            name: field(&ident, "name").unwrap_or_default(),
            guid: field(&ident, "guid"),
            age: field(&ident, "age_dbi_stream")
                .or_else(|| field(&ident, "age"))
                .filter(|a| !a.starts_with("n/a") && kind != FileKind::PortablePdb),
            signature: field(&ident, "signature"),
            timestamp: field(&ident, "timestamp").or_else(|| field(&ident, "coreclr_timestamp")),
            size_of_image: field(&ident, "size_of_image").or_else(|| field(&ident, "coreclr_size_of_image")),
            build_id: field(&ident, "build_id"),
            uuid: field(&ident, "uuid"),
            sha1: field(&ident, "sha1"),
            version: field(&ident, "version"),
            ..Default::default()
        };
        let identity = match input.identity(kind) {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{id}: identity: {e}"));
                continue;
            }
        };
        let key = match StoreKey::new(kind, &input.name, &identity) {
            Ok(k) => k,
            Err(e) => {
                failures.push(format!("{id}: key: {e}"));
                continue;
            }
        };
        let fix = errata.get(id);
        let col = |c: &str| fix.and_then(|f| f.get(c)).unwrap_or(&row[c]).clone();
        let checks = [
            ("one_tier", Some(col("one_tier_path")), Some(key.one_tier())),
            ("two_tier", Some(col("two_tier_index2_path")), key.two_tier()),
            ("compressed", na(&col("compressed_path")), key.compressed()),
            ("ssqp", na(&row["ssqp_path"]), key.ssqp.clone()),
        ];
        for (what, want, got) in checks {
            if want != got {
                let why = fix.map(|f| format!(" [erratum: {}]", f["reason"])).unwrap_or_default();
                failures.push(format!("{id}: {what}: want {want:?}, got {got:?}{why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} rows failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn no_facts_keeps_env_dirs() {
    // R47 + R3: without file-system facts a pure expansion keeps every directory.
    let env = Environment { nt_symbol_path: Some(r"C:\does\not\exist;C:\sym".into()), ..Default::default() };
    let exp = expand(None, &env, &[], &Defaults::default(), &ParseOptions::default(), &NoFacts);
    assert_eq!(exp.path.elements.len(), 2);
}
