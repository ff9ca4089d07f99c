//! `perf record target/release/examples/profile [corpus]`: where parse+expand spends its time,
//! on a 900 KB path (default) or on the 66 inputs of `tests/data/vectors/paths.tsv` (`corpus`);
//! `big BYTES [N]` parses the benchmark's generated path of BYTES N times.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
use sympath::expand::{Defaults, Environment, ExpandedText, NoFacts};

fn main() {
    let defaults = Defaults::default();
    let mut n = 0;
    let mode = std::env::args().nth(1);
    if mode.as_deref() == Some("keystroke") {
        // The steps of the wasm `expand` on the page's 4 KB benchmark path, natively.
        let units = [
            r"srv*C:\symbols*https://msdl.microsoft.com/download/symbols",
            r"cache*C:\symcache",
            r"\\build-server\drops\symbols",
            r"srv*\\corp\symbols*https://symbols.corp.example/store",
            r"C:\Program Files\App\pdbs",
        ];
        let mut path = String::new();
        let mut i = 0;
        while path.len() < 4096 {
            if !path.is_empty() {
                path.push(';');
            }
            path.push_str(&format!("{}{i}", units[i % units.len()]));
            i += 1;
        }
        path.truncate(4096);
        let env = Environment::default();
        let time = |what: &str, f: &mut dyn FnMut() -> usize| {
            let t0 = std::time::Instant::now();
            let mut n = 0;
            for _ in 0..2000 {
                n += f();
            }
            println!("{what:>28}: {:>7.1} µs ({n})", t0.elapsed().as_secs_f64() * 1e6 / 2000.0);
        };
        time("borrowed parse", &mut || {
            ExpandedText::new(Some(&path), &env, &[]).parse(&defaults, &Default::default(), &NoFacts).path.elements.len()
        });
        time("owned expand", &mut || sympath::expand(Some(&path), &env, &[], &defaults, &Default::default(), &NoFacts).path.elements.len());
        let e = sympath::expand(Some(&path), &env, &[], &defaults, &Default::default(), &NoFacts);
        time("canonical", &mut || e.path.to_string().len());
        time("explicit", &mut || e.explicit_text().len());
        time("json of the expansion", &mut || serde_json::to_string(&e).unwrap().len());
        return;
    }
    if let (Some("one"), Some(s)) = (mode.as_deref(), std::env::args().nth(2)) {
        for _ in 0..std::env::args().nth(3).map_or(5_000_000, |n| n.parse().unwrap()) {
            let env = Environment::default();
            let t = ExpandedText::new(Some(std::hint::black_box(&s)), &env, &[]);
            n += t.parse(&defaults, &Default::default(), &NoFacts).path.diagnostics.len();
        }
    } else if let (Some("symsrv-one"), Some(s)) = (mode.as_deref(), std::env::args().nth(2)) {
        for _ in 0..std::env::args().nth(3).map_or(5_000_000, |n| n.parse().unwrap()) {
            n += symsrv::parse_nt_symbol_path(std::hint::black_box(&s)).len();
        }
    } else if mode.as_deref() == Some("each") {
        // Time per input, to see which vectors cost most.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/vectors/paths.tsv");
        let mut r = csv::ReaderBuilder::new().delimiter(b'\t').from_path(path).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            let s = rec.get(1).unwrap();
            let t0 = std::time::Instant::now();
            for _ in 0..100_000 {
                let env = Environment::default();
                let t = ExpandedText::new(Some(std::hint::black_box(s)), &env, &[]);
                n += t.parse(&defaults, &Default::default(), &NoFacts).path.diagnostics.len();
            }
            println!("{:>6} ns {} {}", t0.elapsed().as_nanos() / 100_000, rec.get(0).unwrap(), s);
        }
    } else if mode.as_deref() == Some("symsrv-corpus") {
        // The comparison, for instruction counts under callgrind.
        let inputs = sympath_bench::vector_inputs();
        for _ in 0..std::env::args().nth(2).map_or(200_000, |n| n.parse().unwrap()) {
            for s in &inputs {
                n += symsrv::parse_nt_symbol_path(std::hint::black_box(s)).len();
            }
        }
    } else if let (Some("big"), Some(size)) = (mode.as_deref(), std::env::args().nth(2)) {
        // `big BYTES [N]`: the benchmark's generated path of BYTES, N times.
        let s = sympath_bench::big_path(size.parse().unwrap());
        for _ in 0..std::env::args().nth(3).map_or(20, |n| n.parse().unwrap()) {
            let env = Environment::default();
            let t = ExpandedText::new(Some(std::hint::black_box(&s)), &env, &[]);
            n += t.parse(&defaults, &Default::default(), &NoFacts).path.diagnostics.len();
        }
    } else if mode.as_deref() == Some("symsrv-big") {
        let s = sympath_bench::big_path(900 << 10);
        for _ in 0..5 {
            n += symsrv::parse_nt_symbol_path(std::hint::black_box(&s)).len();
        }
    } else if mode.as_deref() == Some("corpus") {
        let inputs = sympath_bench::vector_inputs();
        for _ in 0..std::env::args().nth(2).map_or(200_000, |n| n.parse().unwrap()) {
            for s in &inputs {
                let env = Environment::default();
                let t = ExpandedText::new(Some(std::hint::black_box(s)), &env, &[]);
                let e = t.parse(&defaults, &Default::default(), &NoFacts);
                n += e.path.elements.len() + e.path.diagnostics.len();
            }
        }
    } else {
        let s = sympath_bench::big_path(900 << 10);
        for _ in 0..5 {
            let env = Environment::default();
            let t = ExpandedText::new(Some(&s), &env, &[]);
            n += t.parse(&defaults, &Default::default(), &NoFacts).path.elements.len();
        }
    }
    println!("{n}");
}
