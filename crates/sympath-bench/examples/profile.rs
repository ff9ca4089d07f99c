//! `valgrind --tool=callgrind target/release/examples/profile`: where parse+expand spends its time.
#![allow(missing_docs)]
use sympath::expand::{Defaults, Environment, ExpandedText, NoFacts};

fn main() {
    let s = sympath_bench::big_path(900 << 10);
    let defaults = Defaults::default();
    let mut n = 0;
    for _ in 0..5 {
        let env = Environment::default();
        let t = ExpandedText::new(Some(&s), &env, &[]);
        n += t.parse(&defaults, &Default::default(), &NoFacts).path.elements.len();
    }
    println!("{n}");
}
