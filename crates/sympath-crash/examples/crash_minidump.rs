//! Writes a test crash (see `tests/synth`) to the path given:
//! `cargo run -p sympath-crash --example crash_minidump -- crash.dmp [x64|x86|arm64]`
//! (x64, the default: ShowSSEConfig.exe; x86 and arm64: the tiny programs of
//! tests/data/crash, `tests/synth/small.rs`).
#![allow(clippy::expect_used, missing_docs)]

#[path = "../tests/synth/mod.rs"]
mod synth;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: crash_minidump <out.dmp> [x64|x86|arm64]");
    let dump = match args.next().as_deref() {
        None | Some("x64") => synth::minidump(),
        Some("x86") => synth::small::x86_minidump(),
        Some("arm64") => synth::small::arm64_minidump(),
        Some(other) => panic!("unknown architecture {other}: x64, x86 or arm64"),
    };
    std::fs::write(&out, dump).expect("write the dump");
}
