#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Identities of files built by the tests: ELF build-ids, Mach-O UUIDs, portable PDB ids (R74, R75).

use object::write::{Object, StandardSection};
use object::{Architecture, BinaryFormat, Endianness, SectionKind};
use sympath::identity::{FileKind, Guid};
use sympath_ident::{read, Magic};

fn elf_with_build_id(id: &[u8], debug: bool) -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let mut note = Vec::new();
    note.extend_from_slice(&4u32.to_le_bytes());
    note.extend_from_slice(&(id.len() as u32).to_le_bytes());
    note.extend_from_slice(&3u32.to_le_bytes()); // NT_GNU_BUILD_ID
    note.extend_from_slice(b"GNU\0");
    note.extend_from_slice(id);
    while note.len() % 4 != 0 {
        note.push(0);
    }
    let s = obj.add_section(Vec::new(), b".note.gnu.build-id".to_vec(), SectionKind::Note);
    obj.append_section_data(s, &note, 4);
    let t = obj.section_id(StandardSection::Text);
    obj.append_section_data(t, &[0xc3], 1);
    if debug {
        let d = obj.add_section(Vec::new(), b".debug_info".to_vec(), SectionKind::Debug);
        obj.append_section_data(d, &[1, 2, 3, 4], 1);
    }
    obj.write().unwrap()
}

#[test]
fn r75_elf_build_id_gives_code_and_debug_keys() {
    let id = hex("8f39a52a756311ab365090bfe9edef7ee8c44503");
    let info = read(&elf_with_build_id(&id, false), Some("/usr/lib/libcoreclr.so")).unwrap();
    assert_eq!(info.format, Magic::Elf);
    assert_eq!(info.identities[0].kind, FileKind::ElfCode);
    assert_eq!(info.identities[0].key, "libcoreclr.so/elf-buildid-8f39a52a756311ab365090bfe9edef7ee8c44503/libcoreclr.so");
    assert_eq!(info.identities[1].key, "_.debug/elf-buildid-sym-8f39a52a756311ab365090bfe9edef7ee8c44503/_.debug");
    // A file with debug info lists its debug key first; short ids are padded to 20 bytes (R75).
    let info = read(&elf_with_build_id(&hex("180a373d6afbabf0eb1f09be1bc45bd7"), true), Some("x.so.dbg")).unwrap();
    assert_eq!(info.identities[0].kind, FileKind::ElfDebug);
    assert_eq!(info.identities[0].key, "_.debug/elf-buildid-sym-180a373d6afbabf0eb1f09be1bc45bd700000000/_.debug");
    // No build-id: no key, a note says why.
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let t = obj.section_id(StandardSection::Text);
    obj.append_section_data(t, &[0xc3], 1);
    let info = read(&obj.write().unwrap(), Some("x.so")).unwrap();
    assert!(info.identities.is_empty());
    assert!(info.notes[0].contains("build-id"));
}

#[test]
fn r75_macho_uuid_gives_code_and_dsym_keys() {
    let uuid = hex("3e0f66c5527338b18141e9d63b8ab415");
    let mut m = Vec::new();
    for v in [0xfeed_facfu32, 0x0100_0007, 3, 6, 1, 24, 0, 0] {
        m.extend_from_slice(&v.to_le_bytes());
    }
    m.extend_from_slice(&0x1bu32.to_le_bytes()); // LC_UUID
    m.extend_from_slice(&24u32.to_le_bytes());
    m.extend_from_slice(&uuid);
    let info = read(&m, Some("libcoreclr.dylib")).unwrap();
    assert_eq!(info.format, Magic::MachO);
    assert_eq!(info.identities[0].key, "libcoreclr.dylib/mach-uuid-3e0f66c5527338b18141e9d63b8ab415/libcoreclr.dylib");
    assert_eq!(info.identities[1].key, "_.dwarf/mach-uuid-sym-3e0f66c5527338b18141e9d63b8ab415/_.dwarf");
    for n in 0..m.len() {
        let _ = read(&m[..n], Some("x"));
    }
}

#[test]
fn r74_portable_pdb_id() {
    let guid: Guid = "5E949D20-65C7-46A1-B510-DE28F35D114C".parse().unwrap();
    let mut b = Vec::new();
    b.extend_from_slice(b"BSJB");
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&12u32.to_le_bytes());
    b.extend_from_slice(b"PDB v1.0\0\0\0\0");
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    let offset = (b.len() + 16) as u32;
    b.extend_from_slice(&offset.to_le_bytes());
    b.extend_from_slice(&20u32.to_le_bytes());
    b.extend_from_slice(b"#Pdb\0\0\0\0");
    b.extend_from_slice(&guid.to_le_bytes());
    b.extend_from_slice(&0x1234_5678u32.to_le_bytes());
    let info = read(&b, Some("System.IO.pdb")).unwrap();
    assert_eq!(info.format, Magic::PortablePdb);
    assert_eq!(info.identities[0].key, "System.IO.pdb/5E949D2065C746A1B510DE28F35D114CFFFFFFFF/System.IO.pdb");
    // Every prefix that cuts the header or the id is an error (the 4-byte stamp is not needed).
    for n in 0..b.len() - 4 {
        assert!(read(&b[..n], Some("x.pdb")).is_err(), "{n}");
    }
}

fn hex(s: &str) -> Vec<u8> {
    sympath::identity::parse_hex(s).unwrap()
}
