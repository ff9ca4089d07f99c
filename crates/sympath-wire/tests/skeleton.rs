#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The skeleton, filled in as sympath-wasm's `fill` does, is the owned
//! model's JSON: on every path of the vector corpus, on paths with several
//! caches, and on a model whose cache lists are not prefixes of one list.

mod common;

use common::{decode, js};
use serde_json::{json, Value};
use std::sync::Arc;
use sympath::expand::{Command, Defaults, Environment, NoFacts};
use sympath::model::{CacheRef, CachedInto};
use sympath::{CacheTarget, Expanded, ParseOptions};

/// What `decode` (crates/sympath-wasm/src/js.rs) and `fill` (crates/sympath-wasm/src/wire.rs) do, on `serde_json` values.
fn filled(expanded: &Expanded) -> Value {
    let s = sympath_wire::skeleton(expanded).expect("serializable");
    let mut out = decode(&s.wire);
    let caches = serde_json::to_value(s.caches).expect("serializable");
    out["raw"] = json!(expanded.raw);
    out["text"] = json!(expanded.text);
    for e in out["elements"].as_array_mut().expect("elements") {
        if let Some(n) = e.get("cached_into").and_then(Value::as_f64) {
            let prefix = caches.as_array().expect("a list").get(..n as usize).expect("a prefix").to_vec();
            e["cached_into"] = Value::Array(prefix);
        }
    }
    js(out)
}

fn owned(expanded: &Expanded) -> Value {
    let mut v = serde_json::to_value(expanded).expect("serializable");
    // The skeleton also holds the binding's two forms, filled in by it.
    v["canonical"] = json!(0);
    v["explicit"] = json!(0);
    js(v)
}

fn expand(path: &str, commands: &[&str]) -> Expanded {
    let commands: Vec<Command> = commands.iter().map(|c| c.parse().expect("a command")).collect();
    sympath::expand(Some(path), &Environment::default(), &commands, &Defaults::default(), &ParseOptions::default(), &NoFacts)
}

#[test]
fn vector_corpus_paths_round_trip() {
    let tsv = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/vectors/paths.tsv");
    let mut r = csv::ReaderBuilder::new().delimiter(b'\t').from_path(tsv).expect("the vector corpus");
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.expect("a row");
        let path = rec.get(1).expect("a path");
        let e = expand(path, &[]);
        assert_eq!(filled(&e), owned(&e), "{path}");
        n += 1;
    }
    assert!(n > 50, "{n} vectors");
}

#[test]
fn cache_lists_are_prefixes_of_the_longest() {
    // R2, R29, R30: each element is cached into every cache* to its left.
    for path in [
        r"cache*C:\c;C:\x;cache*;srv*https://h/s;C:\y",
        r"cache*C:\c;cache*D:\d;\\share\s",
        r"C:\before;cache*C:\c",
        r"cache*;cache*C:\c;cache*C:\c;C:\dup",
    ] {
        for commands in [&[][..], &[".symfix+ C:\\fixed"], &[".sympath+ cache*E:\\e;E:\\f"]] {
            let e = expand(path, commands);
            let s = sympath_wire::skeleton(&e).expect("serializable");
            let skeleton = decode(&s.wire);
            for (i, el) in skeleton["elements"].as_array().expect("elements").iter().enumerate() {
                let mine = e.path.elements[i].cached_into.len();
                match el.get("cached_into") {
                    None => assert_eq!(mine, 0),
                    Some(v) => assert_eq!(v.as_f64(), Some(mine as f64), "{path}: a count, not a list"),
                }
            }
            assert_eq!(filled(&e), owned(&e), "{path} {commands:?}");
        }
    }
}

#[test]
fn the_four_texts_are_placeholders() {
    let e = expand(r"srv*C:\sym*https://msdl.microsoft.com/download/symbols", &[]);
    let s = sympath_wire::skeleton(&e).expect("serializable");
    assert!(!s.wire.text.contains("srv*C:\\sym*https"), "the path's text is not in the skeleton: {}", s.wire.text);
    let v = decode(&s.wire);
    for k in ["raw", "text", "canonical", "explicit"] {
        assert_eq!(v[k], json!(0.0), "{k}");
    }
    let keys: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 10, "{keys:?}");
}

#[test]
fn lists_from_different_parses_are_written_out() {
    let mut e = expand(r"cache*C:\c;C:\x;C:\y", &[]);
    let other: Arc<[CacheRef]> = Arc::from(vec![CacheRef(CacheTarget::Dir(r"Z:\z".into())), CacheRef(CacheTarget::Default)]);
    e.path.elements[2].cached_into = CachedInto::new(other, 2);
    let s = sympath_wire::skeleton(&e).expect("serializable");
    let v = decode(&s.wire);
    // The longest list is element 2's; element 1's is not a prefix of it.
    assert_eq!(v["elements"][1]["cached_into"], json!([r"C:\c"]));
    assert_eq!(v["elements"][2]["cached_into"], json!(2.0));
    assert_eq!(filled(&e), owned(&e));
}
