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
        if block == 4096 {
            // 94,208 B when the id stream was read whole (commit 40994cf, BENCHMARKS.md):
            // its index offsets now lead to the one page holding the inlinee names.
            assert!(read < 94_208, "{read} bytes");
        }
    }
}

/// A frame reduced to what both tools print. dump_syms writes C++ names with
/// their parameter lists, read from the PDB's type stream, which sympath does
/// not fetch (it would cost most of a large PDB's bytes): names are compared
/// without them.
fn normalize(f: &serde_json::Value) -> serde_json::Value {
    let bare = |v: &serde_json::Value| match v.as_str() {
        Some(n) => serde_json::Value::from(n.find('(').map_or(n, |i| &n[..i])),
        None => serde_json::Value::Null,
    };
    let hex = |v: &serde_json::Value| match v.as_str() {
        Some(h) => serde_json::Value::from(format!("{:#x}", u64::from_str_radix(h.trim_start_matches("0x"), 16).unwrap())),
        None => serde_json::Value::Null,
    };
    let function = bare(&f["function"]);
    serde_json::json!({
        "module": f["module"],
        "module_offset": hex(&f["module_offset"]),
        "function_offset": if function.is_null() { serde_json::Value::Null } else { hex(&f["function_offset"]) },
        "function": function,
        "file": f["file"],
        "line": f["line"],
        "trust": f["trust"],
        "inlines": f["inlines"].as_array().map(|v| v.iter().map(|i| serde_json::json!({
            "function": bare(&i["function"]), "file": i["file"], "line": i["line"],
        })).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

#[test]
fn crashing_thread_equals_minidump_stackwalk() {
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/crash/stackwalk.json")).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let index = theirs["crashing_thread"]["threads_index"].as_u64().unwrap() as usize;
    let want: Vec<_> = theirs["threads"][index]["frames"].as_array().unwrap().iter().map(normalize).collect();

    let mut store = Store::new();
    let report = symbolicate(&synth::minidump(), &mut store).unwrap();
    let ours = serde_json::to_value(&report).unwrap();
    assert_eq!(ours["threads"][0]["crashed"], true, "the crashing thread comes first");
    let got: Vec<_> = ours["threads"][0]["frames"].as_array().unwrap().iter().map(normalize).collect();
    assert_eq!(got, want);
    assert_eq!(report.crash.as_ref().unwrap().reason, theirs["crash_info"]["type"].as_str().unwrap());
    let number = |h: &str| u64::from_str_radix(h.trim_start_matches("0x"), 16).unwrap();
    assert_eq!(number(&report.crash.as_ref().unwrap().address), number(theirs["crash_info"]["address"].as_str().unwrap()));
    // The walk needed the PE's unwind info: the callers were found by call frame info.
    assert!(got[1..3].iter().all(|f| f["trust"] == "cfi"));
    assert!(store.asked.contains(&"image ShowSSEConfig.exe".to_string()));
}

#[test]
fn bad_dumps_are_errors_not_panics() {
    let dump = synth::minidump();
    for cut in [0, 4, 32, 100, 200, dump.len() / 2, dump.len() - 1] {
        let r = symbolicate(&dump[..cut], &mut Store::new());
        if let Err(e) = r {
            assert!(e.to_string().starts_with("not a readable minidump") || e.to_string().starts_with("unsupported"), "{e}");
        }
    }
    // Flipped bytes anywhere: never a panic.
    for i in (0..dump.len()).step_by(7) {
        let mut d = dump.clone();
        d[i] ^= 0xff;
        let _ = symbolicate(&d, &mut Store::new());
    }
}

#[test]
fn other_operating_systems_are_named() {
    // The same dump with the platform id of Linux (0x8201): the walker says what it supports.
    let mut dump = synth::minidump();
    let text = format!("{:?}", symbolicate(&dump, &mut Store::new()).map(|_| ()));
    assert_eq!(text, "Ok(())");
    let at = find_platform_id(&dump);
    dump[at..at + 4].copy_from_slice(&0x8201u32.to_le_bytes());
    let e = symbolicate(&dump, &mut Store::new()).unwrap_err();
    assert!(e.to_string().contains("only Windows dumps (x64, x86, ARM64) are supported"), "{e}");
}

/// The offset of the system info stream's platform id (MINIDUMP_SYSTEM_INFO + 20).
fn find_platform_id(dump: &[u8]) -> usize {
    let u32_at = |o: usize| u32::from_le_bytes(dump[o..o + 4].try_into().unwrap()) as usize;
    let (count, dir) = (u32_at(8), u32_at(12));
    (0..count)
        .map(|i| dir + i * 12)
        .find(|&e| u32_at(e) == 7) // SystemInfoStream
        .map(|e| u32_at(e + 8) + 20)
        .unwrap()
}

#[test]
fn prints() {
    let mut store = Store::new();
    let report = symbolicate(&synth::minidump(), &mut store).unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    println!("{}", report.text);
}
