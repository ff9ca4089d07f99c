#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // tests read the vector files
//! Runs the lookup vectors (`tests/data/lookup/lookups.tsv`) through the
//! core's lookup engine with scripted answers. Shared by the core's tests and
//! the mirror's host tests (`#[path]`), which pass the policies they run under.
//!
//! Answers: `URL => STATUS [type=…] [len=N|none] [enc=…] [loc=…] [retry=…]
//! [mirror=…] [body=NAME] [problem=network:…|transfer:…]`; URLs not listed
//! answer 404. Bodies: `pdb`, `pe` (headers out of reach: no identity),
//! `pe:TIMESTAMP:SIZEOFIMAGE` (hex: a PE image with that identity, R67),
//! `html`, `empty`, `big` (5000 bytes of text), `text:…`, `cab:INNER:BODY` (a cabinet holding INNER whose
//! expansion is BODY), `corruptcab` (a cabinet that does not expand).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::path::PathBuf;

use sympath::expand::{expand, Defaults, Environment, NoFacts};
use sympath::key::{RequestKey, StoreKey};
use sympath::lookup::{Decision, Done, Head, Lookup, Method, Policy, Problem, Step, Storable};
use sympath::plan::{plan_key, Fallback, PlanOptions, TierPolicy};
use sympath::target::Targets;

/// One row of the vectors.
pub struct Row {
    pub id: String,
    pub policy: String,
    pub path: String,
    pub key: String,
    pub answers: String,
    pub fetches: String,
    pub result: String,
}

/// The vectors.
pub fn rows() -> Vec<Row> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/lookup/lookups.tsv");
    let file = if file.exists() { file } else { PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/lookup/lookups.tsv") };
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 9, "{l}");
            Row {
                id: c[0].into(),
                policy: c[2].into(),
                path: c[3].into(),
                key: c[4].into(),
                answers: c[5].into(),
                fetches: c[6].into(),
                result: c[7].into(),
            }
        })
        .collect()
}

struct Answer {
    head: Head,
    body: Vec<u8>,
    cab: Option<(String, Vec<u8>)>,
    corrupt_cab: bool,
    problem: Option<Problem>,
}

fn body(name: &str) -> Vec<u8> {
    match name {
        "pdb" => {
            let mut b = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0".to_vec();
            b.resize(4096, 7);
            b
        }
        "pe" => {
            let mut b = b"MZ".to_vec();
            b.resize(1024, 1);
            b
        }
        pe if pe.starts_with("pe:") => {
            let (ts, size) = pe["pe:".len()..].split_once(':').unwrap();
            let mut b = b"MZ".to_vec();
            b.resize(1024, 0);
            b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
            b[0x80..0x84].copy_from_slice(b"PE\0\0");
            b[0x88..0x8c].copy_from_slice(&u32::from_str_radix(ts, 16).unwrap().to_le_bytes());
            b[0x80 + 24 + 56..0x80 + 24 + 60].copy_from_slice(&u32::from_str_radix(size, 16).unwrap().to_le_bytes());
            b
        }
        "html" => b"<!DOCTYPE html><html><body>Not here</body></html>".to_vec(),
        "empty" => Vec::new(),
        "big" => vec![b'P'; 5000],
        t => t.strip_prefix("text:").map(|t| t.as_bytes().to_vec()).unwrap_or_else(|| panic!("unknown body {t}")),
    }
}

fn answer(spec: &str) -> Answer {
    let mut words = spec.split_whitespace();
    let status: u16 = words.next().and_then(|s| if s.starts_with("problem=") { None } else { s.parse().ok() }).unwrap_or(0);
    let mut a = Answer { head: Head { status, ..Head::default() }, body: Vec::new(), cab: None, corrupt_cab: false, problem: None };
    let mut len: Option<Option<u64>> = None;
    for w in spec.split_whitespace() {
        let Some((k, v)) = w.split_once('=') else { continue };
        match k {
            "type" => a.head.content_type = Some(v.into()),
            "len" => len = Some(v.parse().ok()),
            "enc" => a.head.content_encoding = Some(v.into()),
            "loc" => a.head.location = Some(v.into()),
            "retry" => a.head.retry_after = Some(v.into()),
            "mirror" => a.head.mirror = Some(v.into()),
            "body" if v.starts_with("cab:") => {
                let (inner, what) = v["cab:".len()..].split_once(':').unwrap();
                a.body = b"MSCF\0\0\0\0".to_vec();
                a.body.resize(512, 3);
                a.cab = Some((inner.into(), body(what)));
            }
            "body" if v == "corruptcab" => {
                a.body = b"MSCF\0\0\0\0garbage".to_vec();
                a.corrupt_cab = true;
            }
            "body" => a.body = body(v),
            "problem" => {
                let (kind, m) = v.split_once(':').unwrap_or((v, ""));
                a.problem = Some(match kind {
                    "network" => Problem::Network(m.into()),
                    _ => Problem::Transfer(m.into()),
                });
            }
            _ => panic!("unknown answer field {k}"),
        }
    }
    a.head.content_length = match len {
        Some(l) => l,
        None if a.head.status == 200 => Some(a.body.len() as u64),
        None => None,
    };
    a
}

/// The policy a row names: `edge` or `browser`, with `+head`, `+any`
/// (any target), `+probe` (learn two-tier stores from index2.txt).
pub fn policy(name: &str, edge: &Policy, browser: &Policy) -> (Policy, TierPolicy) {
    let mut parts = name.split('+');
    let mut p = match parts.next() {
        Some("edge") => edge.clone(),
        _ => browser.clone(),
    };
    let mut tiers = TierPolicy::OneTier;
    for m in parts {
        match m {
            "head" => p.method = Method::Head,
            "any" => p.targets = Targets::Any,
            "probe" => tiers = TierPolicy::Probe,
            other => panic!("unknown policy modifier {other}"),
        }
    }
    (p, tiers)
}

/// Runs one row; `Err` says how it went wrong.
pub fn run(row: &Row, edge: &Policy, browser: &Policy) -> Result<(), String> {
    let (mut policy, tiers) = policy(&row.policy, edge, browser);
    let exp = expand(Some(&row.path), &Environment::default(), &[], &Defaults::default(), &Default::default(), &NoFacts);
    let request = RequestKey::parse(&row.key).map_err(|e| format!("key: {e}"))?;
    let (key, want) = StoreKey::from_request(&request).ok_or("not a file key")?;
    policy.want = want;
    let opts = PlanOptions { tiers, fallback: Fallback::None, ..PlanOptions::default() };
    let plan = plan_key(&exp, key, None, &opts);
    let answers: HashMap<String, String> = row
        .answers
        .split(" | ")
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let (u, a) = s.split_once(" => ").unwrap();
            (u.trim().to_string(), a.trim().to_string())
        })
        .collect();
    let mut lk = Lookup::new(&plan, policy);
    let mut fetched = Vec::new();
    let mut found: Option<String> = None;
    let done = loop {
        let f = match lk.next() {
            Step::Done(d) => break d,
            Step::Fetch(f) => f,
        };
        let m = match f.method {
            Method::Get => "GET",
            Method::Head => "HEAD",
        };
        fetched.push(format!("{m}{} {}", if f.authorization.is_some() { "*" } else { "" }, f.url));
        let a = answers.get(&f.url).map(|s| answer(s)).unwrap_or_else(|| answer("404"));
        if let (Some(p @ Problem::Network(_)), _) = (&a.problem, ()) {
            lk.problem(f.id, p);
            continue;
        }
        let mut d = lk.headers(f.id, &a.head);
        loop {
            d = match d {
                Decision::Next => break,
                Decision::Sniff { bytes } => lk.first_bytes(f.id, &a.body[..bytes.min(a.body.len())]),
                Decision::ReadAll { max } if a.body.len() as u64 > max => lk.problem(f.id, &Problem::TooLarge(max)),
                Decision::ReadAll { .. } => lk.body(f.id, &a.body),
                Decision::Expand { .. } => match &a.cab {
                    Some((inner, content)) if !a.corrupt_cab => {
                        lk.expanded(f.id, inner, content.len() as u64, &content[..content.len().min(sympath::lookup::SNIFF_BYTES)])
                    }
                    _ => lk.problem(f.id, &Problem::Corrupt("the cabinet does not expand".into())),
                },
                Decision::Take(t) => {
                    if let Some(p) = &a.problem {
                        lk.problem(f.id, p);
                        break;
                    }
                    let received = match (&a.cab, t.expanded) {
                        (Some((_, c)), true) => c.len() as u64,
                        _ => a.body.len() as u64,
                    };
                    let received = if f.method == Method::Head { t.length.unwrap_or(received) } else { received };
                    if lk.complete(t.id, received).is_ok() {
                        let mut s = format!("found {}", t.url);
                        if t.expanded {
                            s.push_str(" expanded");
                        }
                        if t.pointer.is_some() {
                            s.push_str(" pointer");
                        }
                        if matches!(t.store, Storable::No(_)) {
                            s.push_str(" store=no");
                        }
                        found = Some(s);
                    }
                    break;
                }
            };
        }
    };
    let want_fetches: Vec<&str> = row.fetches.split(" | ").map(str::trim).filter(|s| !s.is_empty()).collect();
    if fetched != want_fetches {
        return Err(format!("fetches:\n  got  {fetched:?}\n  want {want_fetches:?}\n  probes {:#?}", lk.probes()));
    }
    let (expected, reason) = match row.result.split_once(" ~") {
        Some((r, why)) => (r.trim(), Some(why)),
        None => (row.result.trim(), None),
    };
    let (got, said) = match &done {
        Done::Found { .. } => (found.clone().unwrap_or_default(), String::new()),
        Done::NotFound { reason } => ("not_found".to_string(), reason.clone()),
        Done::Failed { reason } => ("failed".to_string(), reason.clone()),
    };
    if got != expected {
        return Err(format!("result: got {got:?} ({said}), want {expected:?}\n  probes {:#?}", lk.probes()));
    }
    if let Some(why) = reason {
        if !said.contains(why) {
            return Err(format!("reason {said:?} does not say {why:?}"));
        }
    }
    Ok(())
}

/// Runs every row; the failures, by row id.
pub fn failures(edge: &Policy, browser: &Policy) -> Vec<String> {
    rows().iter().filter_map(|r| run(r, edge, browser).err().map(|e| format!("{}: {e}", r.id))).collect()
}
