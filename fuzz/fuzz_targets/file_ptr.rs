//! `file.ptr` contents (R63): no panic on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sympath::fileptr::FilePtr;

fuzz_target!(|data: &[u8]| {
    let p = FilePtr::parse(data);
    let _ = p.target();
});
