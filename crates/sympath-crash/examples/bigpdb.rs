//! Symbolizes a crash in the large generated program of `bench/bigpdb`
//! through the crash viewer's own code path (`sympath_crash::symbolicate`,
//! the PDB read through a `Read + Seek` reader as the worker's Range reader
//! is) and counts the bytes of the PDB it reads:
//!
//! ```text
//! bench/bigpdb/build.sh /tmp/sympath-bigpdb
//! cargo run --release -p sympath-crash --example bigpdb -- /tmp/sympath-bigpdb [THREADS]
//! ```
//!
//! It also writes the dump (`big.dmp`) and the expected names and store keys
//! (`expected.json`) next to the PDB, for `bench/bigpdb/browser.mjs`, which
//! runs the same crash in Chromium.
//!
//! The dump is made here with `minidump-synth`: one module (`big.exe`, with
//! its PE image and the PDB's GUID and age), and THREADS threads (default 8),
//! each stopped in a different unit of the program, spread over the module:
//! most inside an inlined call (`mix_*` inlined into `work_*`), one in the
//! padding after a function (no procedure covers it: named from the public
//! symbols). Before the measured run, the expected names are read from the
//! PDB independently, with the `pdb` crate reading whole streams (not
//! counted). The reader counts every byte range asked for; what the worker
//! would fetch is then the blocks (4 KiB, 64 KiB = the worker's default)
//! those ranges touch.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing, missing_docs, clippy::print_stdout)]

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use minidump_synth::{amd64_context, Memory, Module, SynthMinidump, SystemInfo, Thread};
use pdb::FallibleIterator;
use sympath_crash::{symbolicate, ModuleRef, PdbReader, Symbols};
use test_assembler::{Endian, Section};

const BASE: u64 = 0x1_4000_0000;

/// Byte ranges read, shared with the harness.
type Reads = Arc<Mutex<Vec<(u64, u64)>>>;

#[derive(Debug)]
struct Counting {
    file: std::fs::File,
    reads: Reads,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let at = self.file.stream_position()?;
        let n = self.file.read(buf)?;
        self.reads.lock().unwrap().push((at, n as u64));
        Ok(n)
    }
}

impl Seek for Counting {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.file.seek(to)
    }
}

struct Files {
    dir: PathBuf,
    reads: Reads,
}

impl Symbols for Files {
    fn image(&mut self, _: &ModuleRef) -> Result<Vec<u8>, String> {
        std::fs::read(self.dir.join("big.exe")).map_err(|e| e.to_string())
    }
    fn pdb(&mut self, _: &ModuleRef) -> Result<Box<dyn PdbReader>, String> {
        let file = std::fs::File::open(self.dir.join("big.pdb")).map_err(|e| e.to_string())?;
        Ok(Box::new(Counting { file, reads: self.reads.clone() }))
    }
}

/// A point to symbolize and what the whole-stream read of the PDB says is there.
struct Target {
    rva: u32,
    function: String,
    inline: Option<String>,
}

/// Reads the expected names with the `pdb` crate, whole streams, uncounted.
fn targets(pdb_path: &PathBuf, threads: usize) -> (Vec<Target>, usize) {
    let mut pdb = pdb::PDB::open(std::fs::File::open(pdb_path).unwrap()).unwrap();
    let map = pdb.address_map().unwrap();
    let ids = pdb.id_information().unwrap();
    let mut finder = ids.finder();
    let mut it = ids.iter();
    while it.next().unwrap().is_some() {
        finder.update(&it);
    }
    let dbi = pdb.debug_information().unwrap();
    let modules: Vec<_> = dbi.modules().unwrap().collect().unwrap();
    let units: Vec<_> = modules.iter().filter(|m| m.module_name().ends_with(".obj")).collect();
    let mut out = Vec::new();
    for k in 0..threads {
        let m = units[(k * units.len() / threads + units.len() / (2 * threads)).min(units.len() - 1)];
        let info = pdb.module_info(m).unwrap().unwrap();
        let mut procs = Vec::new();
        let mut symbols = info.symbols().unwrap();
        let mut last = None;
        while let Some(s) = symbols.next().unwrap() {
            match s.parse() {
                Ok(pdb::SymbolData::Procedure(p)) => {
                    last = Some(procs.len());
                    procs.push((p, None));
                }
                Ok(pdb::SymbolData::InlineSite(site)) => {
                    if let Some(i) = last {
                        if procs[i].1.is_none() {
                            procs[i].1 = Some(site);
                        }
                    }
                }
                _ => {}
            }
        }
        // The middle one of the procedures with an inlined call.
        let with_site: Vec<_> = procs.iter().filter(|p| p.1.is_some()).collect();
        let (p, site) = with_site[with_site.len() / 2];
        let start = p.offset.to_rva(&map).unwrap().0;
        if k == threads - 1 {
            // After the function's last byte: padding no procedure covers, named by the publics.
            let globals = pdb.global_symbols().unwrap();
            let mut best: Option<(u32, String)> = None;
            let mut it = globals.iter();
            let rva = start + p.len;
            while let Some(s) = it.next().unwrap() {
                if let Ok(pdb::SymbolData::Public(pb)) = s.parse() {
                    let Some(r) = pb.offset.to_rva(&map) else { continue };
                    if (pb.function || pb.code) && r.0 <= rva && best.as_ref().is_none_or(|b| r.0 >= b.0) {
                        best = Some((r.0, pb.name.to_string().into_owned()));
                    }
                }
            }
            out.push(Target { rva, function: best.unwrap().1, inline: None });
            continue;
        }
        let site = site.as_ref().expect("the function has an inline site");
        let inlinees: Vec<_> = info.inlinees().unwrap().collect().unwrap();
        let inlinee = inlinees.iter().find(|i| i.index() == site.inlinee).unwrap();
        let first = inlinee.lines(p.offset, site).next().unwrap().unwrap();
        let rva = first.offset.to_rva(&map).unwrap().0;
        let name = match finder.find(site.inlinee).unwrap().parse().unwrap() {
            pdb::IdData::Function(f) => f.name.to_string().into_owned(),
            pdb::IdData::MemberFunction(f) => f.name.to_string().into_owned(),
            other => panic!("{other:?}"),
        };
        out.push(Target { rva, function: p.name.to_string().into_owned(), inline: Some(name) });
    }
    (out, units.len())
}

/// The PE's code id parts and CodeView record (GUID, age).
fn pe_identity(image: &[u8]) -> (u32, u32, [u8; 16], u32) {
    use object::read::pe::ImageNtHeaders;
    let dos = object::pe::ImageDosHeader::parse(image).unwrap();
    let mut offset = dos.nt_headers_offset().into();
    let (nt, _) = object::pe::ImageNtHeaders64::parse(image, &mut offset).unwrap();
    let file = object::read::pe::PeFile64::parse(image).unwrap();
    let cv = object::Object::pdb_info(&file).unwrap().unwrap();
    let h = nt.file_header();
    let o = object::read::pe::ImageOptionalHeader::size_of_image(nt.optional_header());
    (h.time_date_stamp.get(object::LittleEndian), o, cv.guid(), cv.age())
}

fn dump(image: &[u8], rvas: &[u32]) -> Vec<u8> {
    let (timestamp, size, guid, age) = pe_identity(image);
    let name = minidump_synth::DumpString::new(r"C:\bigpdb\big.exe", Endian::Little);
    let cv = Section::with_endian(Endian::Little).D32(0x5344_5352).append_bytes(&guid).D32(age).append_bytes(b"big.pdb").D8(0);
    let module = Module::new(Endian::Little, BASE, size, &name, timestamp, 0, None).cv_record(&cv);
    let mut d = SynthMinidump::with_endian(Endian::Little)
        .add_system_info(SystemInfo::new(Endian::Little).set_processor_architecture(9).set_platform_id(2))
        .add_module(module)
        .add(name)
        .add(cv);
    for (i, &rva) in rvas.iter().enumerate() {
        let stack_at = 0x10_0000_0000u64 + (i as u64) * 0x1_0000;
        let stack = Memory::with_section(Section::with_endian(Endian::Little).append_repeated(0, 0x100), stack_at);
        let context = amd64_context(Endian::Little, BASE + u64::from(rva), stack_at + 0x20);
        d = d.add_thread(Thread::new(Endian::Little, 0x100 + i as u32, &stack, &context)).add(context).add_memory(stack);
    }
    d.finish().unwrap()
}

/// Bytes and requests if the reads, in order, were served as the crash
/// worker's `read` serves them: the blocks it lacks fetched with one Range
/// request per run of missing blocks, then kept.
fn blocks(reads: &[(u64, u64)], block: u64) -> (u64, usize) {
    let mut have = std::collections::BTreeSet::new();
    let mut requests = 0;
    for &(at, n) in reads.iter().filter(|r| r.1 > 0) {
        let mut run = false;
        for b in at / block..=(at + n - 1) / block {
            let missing = have.insert(b);
            if missing && !run {
                requests += 1;
            }
            run = missing;
        }
    }
    (have.len() as u64 * block, requests)
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "/tmp/sympath-bigpdb".into()));
    let threads: usize = std::env::args().nth(2).map_or(8, |n| n.parse().unwrap());
    let pdb_path = dir.join("big.pdb");
    let size = std::fs::metadata(&pdb_path).unwrap().len();
    let t = Instant::now();
    let (want, units) = targets(&pdb_path, threads);
    println!("expected names read whole-stream (uncounted) in {:.1} s; {units} units", t.elapsed().as_secs_f64());
    let image = std::fs::read(dir.join("big.exe")).unwrap();
    let rvas: Vec<u32> = want.iter().map(|t| t.rva).collect();
    let dump = dump(&image, &rvas);
    std::fs::write(dir.join("big.dmp"), &dump).unwrap();
    let (timestamp, size_of_image, guid, age) = pe_identity(&image);
    let g = |r: std::ops::Range<usize>| guid[r].iter().rev().map(|b| format!("{b:02X}")).collect::<String>();
    let debug_id = format!("{}{}{}{}{age:X}", g(0..4), g(4..6), g(6..8), guid[8..].iter().map(|b| format!("{b:02X}")).collect::<String>());
    let expected = serde_json::json!({
        "debugId": debug_id,
        "codeId": format!("{timestamp:08X}{size_of_image:X}"),
        "frames": want.iter().map(|t| serde_json::json!({ "rva": t.rva, "function": t.function, "inline": t.inline })).collect::<Vec<_>>(),
    });
    std::fs::write(dir.join("expected.json"), expected.to_string()).unwrap();

    let reads: Reads = Arc::default();
    let mut files = Files { dir: dir.clone(), reads: reads.clone() };
    let t = Instant::now();
    let report = symbolicate(&dump, &mut files).unwrap();
    let took = t.elapsed();
    for (thread, w) in report.threads.iter().zip(&want) {
        let f = &thread.frames[0];
        let inline = f.inlines.first().map(|i| i.function.clone());
        let at =
            |file: &Option<String>, line: Option<u32>| file.as_deref().map(|p| format!(" ({p}:{})", line.unwrap_or(0))).unwrap_or_default();
        let inlines: String = f.inlines.iter().map(|i| format!(" [inlined {}{}]", i.function, at(&i.file, i.line))).collect();
        println!("  rva {:#x}: {}{}{inlines}", w.rva, f.function.as_deref().unwrap_or("?"), at(&f.file, f.line));
        assert_eq!(f.function.as_deref(), Some(w.function.as_str()), "function at {:#x}", w.rva);
        assert_eq!(inline, w.inline, "inlined call at {:#x}", w.rva);
    }
    let reads = reads.lock().unwrap();
    let exact: u64 = reads.iter().map(|r| r.1).sum();
    println!("PDB {size} bytes; {} frames symbolized in {:.0} ms", want.len(), took.as_secs_f64() * 1000.0);
    println!("  bytes asked for: {exact} ({:.3} %) in {} reads", exact as f64 * 100.0 / size as f64, reads.len());
    for block in [4096u64, 65536] {
        let (bytes, n) = blocks(&reads, block);
        println!("  {} KiB blocks: {bytes} bytes ({:.3} %), {n} Range requests", block / 1024, bytes as f64 * 100.0 / size as f64);
    }
}
