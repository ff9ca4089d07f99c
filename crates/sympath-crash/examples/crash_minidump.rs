//! Writes the test crash (see `tests/synth`) to the path given:
//! `cargo run -p sympath-crash --example crash_minidump -- crash.dmp`.
#![allow(clippy::expect_used, missing_docs)]

#[path = "../tests/synth/mod.rs"]
mod synth;

fn main() {
    let out = std::env::args().nth(1).expect("usage: crash_minidump <out.dmp>");
    std::fs::write(&out, synth::minidump()).expect("write the dump");
}
