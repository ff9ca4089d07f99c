//! The synthetic crash (tests/synth) walked and symbolized with the fixture
//! store's real PE and PDB, compared with rust-minidump's own
//! `minidump-stackwalk` on the same dump with Breakpad symbols that
//! `dump_syms` made from the same PE and PDB (tests/expected/).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod synth;

use std::io::Read;
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

/// A reader that records which `block`-sized blocks of the file were read.
#[derive(Debug)]
struct Counting {
    file: std::io::Cursor<Vec<u8>>,
    block: u64,
    touched: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<u64>>>,
}

impl std::io::Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let at = self.file.position();
        let n = self.file.read(buf)?;
        if n > 0 {
            let mut t = self.touched.lock().unwrap();
            for b in at / self.block..=(at + n as u64 - 1) / self.block {
                t.insert(b);
            }
        }
        Ok(n)
    }
}

impl std::io::Seek for Counting {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.file.seek(to)
    }
}

/// The store, with the PDB read through [`Counting`].
struct CountingStore {
    inner: Store,
    block: u64,
    touched: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<u64>>>,
    size: u64,
}

impl Symbols for CountingStore {
    fn image(&mut self, m: &ModuleRef) -> Result<Vec<u8>, String> {
        self.inner.image(m)
    }
    fn pdb(&mut self, m: &ModuleRef) -> Result<Box<dyn PdbReader>, String> {
        let mut r = self.inner.pdb(m)?;
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        self.size = bytes.len() as u64;
        Ok(Box::new(Counting { file: std::io::Cursor::new(bytes), block: self.block, touched: self.touched.clone() }))
    }
}

#[test]
fn reads_a_part_of_the_pdb() {
    // What a Range reader with 4 KiB blocks (the PDB's page size) would fetch.
    for block in [4096u64, 16384, 65536] {
        let touched = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
        let mut store = CountingStore { inner: Store::new(), block, touched: touched.clone(), size: 0 };
        let report = symbolicate(&synth::minidump(), &mut store).unwrap();
        assert_eq!(report.threads[0].frames[0].function.as_deref(), Some("printf"));
        let read = touched.lock().unwrap().len() as u64 * block;
        println!("block {block}: {read} of {} bytes ({:.1} %)", store.size, read as f64 * 100.0 / store.size as f64);
        assert!(read < store.size, "less than the whole PDB is read");
    }
}

#[test]
fn prints() {
    let mut store = Store::new();
    let report = symbolicate(&synth::minidump(), &mut store).unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    println!("{}", report.text);
}
