//! Server-side key validation (R83): no panic; an accepted key never escapes the store.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sympath::key::RequestKey;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(RequestKey::File { prefix, name, id, container, file, .. }) = RequestKey::parse(s) {
        for seg in [Some(&name), Some(&id), Some(&file), prefix.as_ref(), container.as_ref()].into_iter().flatten() {
            assert!(seg != "." && seg != ".." && !seg.is_empty(), "{s:?}");
            assert!(!seg.contains('/') && !seg.contains('\\') && !seg.chars().any(char::is_control), "{s:?}");
        }
    }
});
