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
