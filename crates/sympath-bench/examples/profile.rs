//! `perf record target/release/examples/profile [corpus]`: where parse+expand spends its time,
//! on a 900 KB path (default) or on the 66 inputs of `tests/data/vectors/paths.tsv` (`corpus`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
use sympath::expand::{Defaults, Environment, ExpandedText, NoFacts};

fn main() {
    let defaults = Defaults::default();
    let mut n = 0;
    if std::env::args().nth(1).as_deref() == Some("corpus") {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/vectors/paths.tsv");
        let mut r = csv::ReaderBuilder::new().delimiter(b'\t').from_path(path).unwrap();
        let inputs: Vec<String> = r.records().map(|rec| rec.unwrap().get(1).unwrap().to_string()).collect();
        for _ in 0..200_000 {
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
