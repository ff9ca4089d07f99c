//! Benchmark inputs shared by `benches/core.rs` and `examples/profile.rs`.
//! Run the benchmarks with `cargo bench -p sympath-bench`.

/// A realistic symbol path of at least `size` bytes: chains to msdl and a
/// company server, `cache*` directives, local directories and shares, each
/// with a distinct directory so that nothing is a duplicate.
pub fn big_path(size: usize) -> String {
    let units = [
        r"srv*C:\sym{}*https://msdl.microsoft.com/download/symbols",
        r"cache*C:\c{}",
        r"C:\Program Files\x{}",
        r"\\server\share\sym{}",
        r"srv*\\corp\symbols{}*https://symbols.corp.example/store",
    ];
    let mut s = String::with_capacity(size + 64);
    let mut i = 0usize;
    while s.len() < size {
        if !s.is_empty() {
            s.push(';');
        }
        s.push_str(&units[i % units.len()].replace("{}", &i.to_string()));
        i += 1;
    }
    s
}

/// The symbol paths of the vector corpus (`tests/data/vectors/paths.tsv`,
/// second column), in file order.
pub fn vector_inputs() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/vectors/paths.tsv");
    let mut r = csv::ReaderBuilder::new().delimiter(b'\t').from_path(path).expect("the vector corpus is in the repository");
    r.records().map(|rec| rec.expect("a well-formed row").get(1).expect("a path column").to_string()).collect()
}
