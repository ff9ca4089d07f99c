//! Identity readers (PE, PDB, ELF, Mach-O, portable PDB, CAB, minidump) on arbitrary bytes:
//! no panic; every identity found makes keys that stay inside the store.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sympath_ident::sniff(data);
    if let Ok(info) = sympath_ident::read(data, Some("fuzz.bin")) {
        for id in &info.identities {
            assert!(!id.key.split('/').any(|s| s.is_empty() || s == "." || s == ".."), "{}", id.key);
        }
    }
    let _ = sympath_ident::decompress_cab(data);
    if let Ok(dump) = sympath_ident::read_minidump(data) {
        for id in dump.modules.iter().flat_map(|m| &m.identities) {
            assert!(!id.key.split('/').any(|s| s.is_empty() || s == "." || s == ".."), "{}", id.key);
        }
    }
});
