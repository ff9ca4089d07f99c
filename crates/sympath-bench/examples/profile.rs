//! `valgrind --tool=callgrind target/release/examples/profile`: where parse+expand spends its time.
#![allow(missing_docs)]
use sympath::expand::{expand, Defaults, Environment, NoFacts};

fn main() {
    let units = [
        r"srv*C:\sym{}*https://msdl.microsoft.com/download/symbols",
        r"cache*C:\c{}",
        r"C:\Program Files\x{}",
        r"\\server\share\sym{}",
        r"srv*\\corp\symbols{}*https://symbols.corp.example/store",
    ];
    let mut s = String::new();
    for i in 0..20000 {
        if i > 0 {
            s.push(';');
        }
        s.push_str(&units[i % units.len()].replace("{}", &i.to_string()));
    }
    let mut n = 0;
    for _ in 0..5 {
        let exp = expand(Some(&s), &Environment::default(), &[], &Defaults::default(), &Default::default(), &NoFacts);
        n += exp.path.elements.len();
    }
    println!("{n}");
}
