//! `valgrind --tool=callgrind target/release/examples/profile`: where parse+expand spends its time.
#![allow(missing_docs)]
use sympath::expand::{expand, Defaults, Environment, NoFacts};

fn main() {
    let s = sympath_bench::big_path(900 << 10);
    let mut n = 0;
    for _ in 0..5 {
        let exp = expand(Some(&s), &Environment::default(), &[], &Defaults::default(), &Default::default(), &NoFacts);
        n += exp.path.elements.len();
    }
    println!("{n}");
}
