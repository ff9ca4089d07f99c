#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Identities read from the real fixture store (tests/data/store, see its README):
//! each key must equal the directory the file is stored under.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use sympath::identity::{FileKind, Identity};
use sympath_ident::{decompress_cab, read, sniff, IdentError, Magic};

fn store() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/store")
}

/// The store key a file lives under: `<name>/<id>/<name>` relative to the store root.
fn key_of(rel: &str) -> String {
    let parts: Vec<&str> = rel.split('/').collect();
    format!("{}/{}/{}", parts[0], parts[1], parts[0])
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(store().join(rel)).unwrap()
}

const EXE: &str = "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe";
const EX_: &str = "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.ex_";
const PDB: &str = "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb";
const PD_: &str = "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pd_";

#[test]
fn r67_r70_pe_keys_are_the_store_directories() {
    let info = read(&fixture(EXE), Some("ShowSSEConfig.exe")).unwrap();
    assert_eq!(info.format, Magic::Pe);
    assert_eq!(info.details["machine"], "x86_64");
    let pe = info.identities.iter().find(|i| i.kind == FileKind::Pe).unwrap();
    assert_eq!(pe.key, key_of(EXE));
    let pdb = info.identities.iter().find(|i| i.kind == FileKind::Pdb).unwrap();
    assert_eq!(pdb.key, key_of(PDB), "CodeView name, GUID and age make the PDB's key (R81, R82)");
}

#[test]
fn r72_pdb_identity_matches_the_images_codeview_record() {
    let pdb = read(&fixture(PDB), Some("ShowSSEConfig.pdb")).unwrap();
    assert_eq!(pdb.format, Magic::Pdb);
    assert_eq!(pdb.identities[0].key, key_of(PDB));
    let exe = read(&fixture(EXE), Some("ShowSSEConfig.exe")).unwrap();
    let from_exe = exe.identities.iter().find(|i| i.kind == FileKind::Pdb).unwrap();
    assert_eq!(pdb.identities[0].identity, from_exe.identity);
    assert!(matches!(pdb.identities[0].identity, Identity::GuidAge { age: 1, .. }));
}

#[test]
fn r61_cab_expands_to_the_plain_files() {
    let (name, exe) = decompress_cab(&fixture(EX_)).unwrap();
    assert_eq!(name, "ShowSSEConfig.exe");
    assert_eq!(exe, fixture(EXE), "the .ex_ expands to exactly the .exe");
    let (name, pdb) = decompress_cab(&fixture(PD_)).unwrap();
    assert_eq!(name, "ShowSSEConfig.pdb");
    assert_eq!(format!("{:x}", Sha256::digest(&pdb)), "a27d126406d03980503176ff3f27125dc31c0002a01b8434193d2593502f7b52");
    // read() looks through the CAB: same identity as the plain PDB.
    let through = read(&fixture(PD_), Some("ShowSSEConfig.pd_")).unwrap();
    assert_eq!(through.identities[0].key, key_of(PDB));
    assert!(through.details["compressed"].starts_with("CAB"));
}

#[test]
fn r89_sniff_tells_soft_404s_from_symbol_files() {
    assert_eq!(sniff(b""), Magic::Empty);
    assert_eq!(sniff(b"  <!DOCTYPE html><html>"), Magic::Html);
    assert_eq!(sniff(b"\xef\xbb\xbf<html>"), Magic::Html);
    assert_eq!(sniff(&fixture(EX_)), Magic::Cab);
    assert_eq!(sniff(&fixture(PDB)), Magic::Pdb);
    assert_eq!(sniff(b"hello"), Magic::Unknown);
    assert!(!Magic::Html.is_symbol_file() && Magic::Cab.is_symbol_file());
    assert!(matches!(read(b"<html>404</html>", None), Err(IdentError::Unsupported(_))));
}

#[test]
fn truncated_and_corrupt_files_give_errors_not_panics() {
    let exe = fixture(EXE);
    for n in 0..exe.len() {
        let _ = read(&exe[..n], Some("x.exe"));
    }
    let pdb = fixture(PDB);
    for n in (0..pdb.len()).step_by(997) {
        let _ = read(&pdb[..n], Some("x.pdb"));
    }
    let cab = fixture(PD_);
    for n in (0..cab.len()).step_by(101) {
        assert!(read(&cab[..n], Some("x.pd_")).is_err(), "a truncated CAB ({n} bytes) must not expand");
    }
    // Deterministic byte flips (xorshift).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..300 {
        for (src, name) in [(&exe, "x.exe"), (&pdb, "x.pdb")] {
            let mut b = src.clone();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % b.len();
                b[i] ^= (seed >> 32) as u8 | 1;
            }
            let _ = read(&b, Some(name));
        }
    }
}

#[test]
fn cab_size_bound_is_checked_before_allocating() {
    // A cabinet header declaring a 4 GiB file is refused up front.
    let mut cab = fixture(EX_);
    // CFHEADER.coffFiles (u32 at offset 16) points at the first CFFILE, whose first field is cbFile.
    let cofffiles = u32::from_le_bytes(cab[16..20].try_into().unwrap()) as usize;
    cab[cofffiles..cofffiles + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(decompress_cab(&cab), Err(IdentError::TooLarge { .. })));
    // A caller's own limit is checked the same way.
    let exe = fixture(EX_);
    assert!(matches!(sympath_ident::decompress_cab_with_limit(&exe, 1000), Err(IdentError::TooLarge { size: 11264, limit: 1000, .. })));
    assert!(sympath_ident::decompress_cab_with_limit(&exe, 11264).is_ok());
}

#[test]
fn fuzz_regressions_are_errors_not_panics() {
    // Inputs the fuzzers found (fuzz/regressions/); each once panicked.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    for name in ["ident-cab-offset-past-folder", "ident-cab-next-cabinet", "ident-cab-stored-block-short"] {
        let cab = std::fs::read(dir.join(name)).unwrap();
        assert!(decompress_cab(&cab).is_err(), "{name}");
        assert!(read(&cab, Some("x.pd_")).is_err(), "{name}");
    }
}
