//! Identities from user text → keys in every layout: no panic, keys stay relative.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sympath::identity::{FileKind, IdentityInput};
use sympath::key::{StoreLayout, Variant};
use sympath::StoreKey;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1f}').map(str::to_string);
    let mut next = || parts.next();
    let kind = FileKind::ALL[usize::from(data.first().copied().unwrap_or(0)) % FileKind::ALL.len()];
    let input = IdentityInput {
        name: next().unwrap_or_default(),
        guid: next(),
        age: next(),
        signature: next(),
        timestamp: next(),
        size_of_image: next(),
        build_id: next(),
        uuid: next(),
        sha1: next(),
        version: next(),
        debug_id: next(),
        code_id: next(),
    };
    let Ok(id) = input.identity(kind) else { return };
    let _ = (id.debug_id(), id.code_id());
    let Ok(key) = StoreKey::new(kind, &input.name, &id) else { return };
    for layout in [StoreLayout::OneTier, StoreLayout::TwoTier, StoreLayout::Ssqp] {
        for variant in [Variant::Plain, Variant::Compressed, Variant::FilePtr] {
            if let Some(segs) = key.segments(layout, variant) {
                assert!(segs.iter().all(|s| !s.is_empty() && s != ".." && s != "." && !s.contains(['/', '\\'])), "{segs:?}");
            }
        }
    }
});
