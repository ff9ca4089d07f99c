//! Minidump module lists read back from a dump made by rust-minidump's
//! `minidump-synth` (the crash viewer's input).

mod synth;

use sympath::identity::FileKind;

#[test]
fn module_list_gives_pdb_and_image_identities_and_their_keys() {
    let info = sympath_ident::read_minidump(&synth::minidump()).unwrap();
    assert_eq!(info.cpu.as_deref(), Some("amd64"));
    assert_eq!(info.os.as_deref(), Some("windows"));
    assert_eq!(info.modules.len(), synth::MODULES.len());
    let prog = &info.modules[0];
    assert_eq!(prog.name, "ShowSSEConfig.exe");
    assert_eq!(prog.base, "0x7ff612340000");
    assert_eq!(prog.size, 0x8000);
    assert_eq!(prog.debug_file.as_deref(), Some("ShowSSEConfig.pdb"));
    assert_eq!(prog.debug_id.as_deref(), Some("A62592418D7807494C4C44205044422E1"));
    assert_eq!(prog.code_id.as_deref(), Some("63E6C7F78000"));
    // The keys are the fixture store's directories (tests/data/store).
    let keys: Vec<(FileKind, &str)> = prog.identities.iter().map(|i| (i.kind, i.key.as_str())).collect();
    assert_eq!(
        keys,
        [
            (FileKind::Pdb, "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb"),
            (FileKind::Pe, "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe"),
        ]
    );
    let store = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/store");
    for (_, key) in &keys {
        assert!(store.join(key).is_file(), "{key} is in the fixture store");
    }
    assert_eq!(info.modules[1].identities[0].key, "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb");
    let bare = &info.modules[2];
    assert_eq!((bare.debug_file.as_deref(), bare.identities.len()), (None, 1), "no CodeView: only the image key");
}

#[test]
fn truncated_or_bogus_dumps_are_errors_not_panics() {
    let dump = synth::minidump();
    for len in (0..dump.len()).step_by(7) {
        let _ = sympath_ident::read_minidump(&dump[..len]);
    }
    assert!(sympath_ident::read_minidump(b"MDMP").is_err());
    assert!(sympath_ident::read_minidump(b"<html>").is_err());
}
