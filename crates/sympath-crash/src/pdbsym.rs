//! Names from a PDB, reading only what a lookup needs: the DBI stream (module
//! list and section contributions) and the section map through the `pdb`
//! crate, then, per address, the symbol and line stream of the one module
//! that contributed it. The type stream (TPI) is never read. The id stream
//! (IPI, inlinee names), the string table (file names) and the public symbols
//! (an address no procedure covers) are read at random through their offset
//! tables (`msf.rs`): a few pages each, not the stream.
//!
//! A module's line data is checked (`c13.rs`) before the `pdb` crate parses
//! it, on the bytes the crate was handed (no second read): a module whose
//! line data would make the crate panic keeps its function names, loses its
//! `file:line`, and [`PdbSymbols::damage`] says why.

use std::collections::HashMap;

use std::sync::{Arc, Mutex};

use pdb::{
    AddressMap, DebugInformation, FallibleIterator, FrameData, FrameTable, FrameType, IdIndex, Inlinee, ModuleInfo,
    PdbInternalSectionOffset, SymbolData, PDB,
};

use crate::c13::{self, LineCheck};
use crate::msf::{named_stream, Bytes, Dbi, Ids, Msf, Names, PdbSource, Publics, Views};
use crate::PdbReader;

/// An inlined call covering the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inline {
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// What a PDB says about one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub function: String,
    pub function_rva: u32,
    /// Source file, line, and the RVA where that line's code starts.
    pub line: Option<(String, u32, u32)>,
    /// Inlined calls, outermost first.
    pub inlines: Vec<Inline>,
}

/// One module (compiland) of the PDB, and what of its line data may be read.
struct Module {
    info: ModuleInfo<'static>,
    /// Its line program, lines and file names (`Err`: why not).
    lines: Result<(), String>,
    /// Its inlinees.
    inlinees: bool,
}

pub(crate) struct PdbSymbols {
    pdb: PDB<'static, PdbSource>,
    /// The views the `pdb` crate is handed, recorded around the calls whose bytes are checked here.
    views: Views,
    /// The DBI stream's bytes as the crate holds them (its module info), when found.
    dbi_bytes: Option<Bytes>,
    address_map: AddressMap<'static>,
    msf: Msf,
    strings: Option<Names>,
    dbi: DebugInformation<'static>,
    /// The DBI header and its section contributions, read at random.
    dbi_header: Dbi,
    modules: HashMap<usize, Option<Module>>,
    /// Why parts of the PDB were left out, one line per module.
    damage: Vec<String>,
    ids: Option<Option<Ids>>,
    publics: Option<Option<Publics>>,
    /// The x86 frame data (FPO and FrameData streams), read on first use.
    frames: Option<Option<FrameTable<'static>>>,
}

/// One x86 unwind record (PDB FrameData or FPO) covering an address, as the
/// Breakpad `STACK WIN` line Mozilla's `dump_syms` would write for it (for
/// FPO records that use EBP, with the program flag Breakpad's parser wants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StackWin {
    /// `STACK WIN 4 …` (FrameData, with its program) or `STACK WIN 0 …` (FPO).
    pub line: String,
    /// Bytes of parameters the function's caller pushed (what the walker
    /// needs to unwind that caller: its "grand callee parameter size").
    pub params_size: u32,
}

fn err(what: &str, e: pdb::Error) -> String {
    format!("the PDB's {what} cannot be read: {e}")
}

impl PdbSymbols {
    pub(crate) fn open(reader: Box<dyn PdbReader>, _base: u64) -> Result<PdbSymbols, String> {
        let msf = Msf::open(Arc::new(Mutex::new(reader)))?;
        let dbi_header = Dbi::open(&msf).ok_or("the PDB's DBI stream header cannot be read")?;
        let views = Views::default();
        let mut pdb = PDB::open(dbi_header.source(&msf, views.clone())).map_err(|e| err("header", e))?;
        let (dbi, seen) = views.during(|| pdb.debug_information());
        let dbi = dbi.map_err(|e| err("DBI stream", e))?;
        let dbi_bytes = seen.into_iter().rev().find(|v| v.len() == dbi_header.size() as usize);
        let address_map = pdb.address_map().map_err(|e| err("section map", e))?;
        // The string table's stream, from the name map of the PDB info stream as the
        // crate read it (its own `stream_names` slices at unchecked offsets).
        let (info, seen) = views.during(|| pdb.pdb_information());
        let info_size = msf.stream_size(1).map(|s| s as usize);
        let strings = info
            .ok()
            .and_then(|_| seen.iter().rev().find(|v| Some(v.len()) == info_size))
            .and_then(|info| named_stream(info, b"/names"))
            .and_then(|n| msf.stream(n))
            .and_then(|s| Names::new(&msf, s));
        Ok(PdbSymbols {
            pdb,
            views,
            dbi_bytes,
            address_map,
            msf,
            strings,
            dbi,
            dbi_header,
            modules: HashMap::new(),
            damage: Vec::new(),
            ids: None,
            publics: None,
            frames: None,
        })
    }

    /// Why parts of the PDB were left out (modules whose line data is
    /// damaged or cannot be read), or `None` when nothing was.
    pub(crate) fn damage(&self) -> Option<String> {
        (!self.damage.is_empty()).then(|| self.damage.join("; "))
    }

    fn rva(&self, offset: PdbInternalSectionOffset) -> Option<u32> {
        offset.to_rva(&self.address_map).map(|r| r.0)
    }

    fn module(&mut self, index: usize) -> Option<&Module> {
        if !self.modules.contains_key(&index) {
            let module = self.load_module(index);
            self.modules.insert(index, module);
        }
        self.modules.get(&index)?.as_ref()
    }

    /// Module `index`, its line data checked on the stream bytes the crate
    /// was handed for it (`c13.rs`); a module whose line data cannot be
    /// read is noted in [`PdbSymbols::damage`].
    fn load_module(&mut self, index: usize) -> Option<Module> {
        let m = self.dbi.modules().ok().and_then(|mut m| m.nth(index).ok().flatten())?;
        let (info, seen) = self.views.during(|| self.pdb.module_info(&m));
        let info = info.ok().flatten()?;
        let entry = self.dbi_bytes.as_deref().and_then(|dbi| c13::module_entry(dbi, index));
        let check = match entry {
            None => LineCheck { lines: Err("its DBI module info cannot be read".into()), inlinees: false },
            Some(entry) => {
                let size = self.msf.stream_size(u32::from(entry.stream));
                match seen.iter().rev().find(|v| size.is_some_and(|s| v.len() == s as usize)) {
                    Some(stream) => {
                        let check = c13::check_module(&entry, stream);
                        LineCheck { lines: check.lines.map_err(|e| format!("its line data is damaged: {e}")), ..check }
                    }
                    None => LineCheck {
                        lines: Err(format!("its stream {} was not read as its DBI module info says", entry.stream)),
                        inlinees: false,
                    },
                }
            }
        };
        let LineCheck { mut lines, inlinees } = check;
        if lines.is_ok() {
            if let Err(e) = info.line_program() {
                lines = Err(format!("its line program cannot be read: {e}"));
            }
        }
        if let Err(why) = &lines {
            self.damage.push(format!("no source lines for {}: {why}", m.module_name()));
        }
        Some(Module { info, lines, inlinees })
    }

    fn id_name(&mut self, id: IdIndex) -> Option<String> {
        if self.ids.is_none() {
            self.ids = Some(Ids::open(&self.msf));
        }
        self.ids.as_ref()?.as_ref()?.name(&self.msf, id.0)
    }

    fn file_name(&self, module: &Module, index: pdb::FileIndex) -> Option<String> {
        module.lines.as_ref().ok()?;
        let program = module.info.line_program().ok()?;
        let info = program.get_file_info(index).ok()?;
        self.strings.as_ref()?.get(&self.msf, info.name.0)
    }

    /// The function, line and inlined calls at `rva`.
    pub(crate) fn lookup(&mut self, rva: u32) -> Option<Found> {
        self.in_procedure(rva).or_else(|| self.in_publics(rva))
    }

    fn in_procedure(&mut self, rva: u32) -> Option<Found> {
        let at = pdb::Rva(rva).to_internal_offset(&self.address_map)?;
        let index = self.dbi_header.module_at(&self.msf, at.section, at.offset)?;
        self.module(index)?;
        let module = self.modules.get(&index)?.as_ref()?;
        let mut symbols = module.info.symbols().ok()?;
        // The procedure covering rva, then the inline sites inside it that cover rva.
        let mut procedure = None;
        let mut sites = Vec::new();
        while let Ok(Some(symbol)) = symbols.next() {
            match symbol.parse() {
                Ok(SymbolData::Procedure(p)) if procedure.is_none() => {
                    let Some(start) = self.rva(p.offset) else { continue };
                    if rva >= start && rva - start < p.len {
                        procedure = Some((p.name.to_string().into_owned(), start, p.offset, p.end));
                    }
                }
                Ok(SymbolData::InlineSite(site)) if procedure.is_some() => sites.push(site),
                _ => {}
            }
            if let Some((_, _, _, end)) = &procedure {
                if symbol.index() >= *end {
                    break;
                }
            }
        }
        let (function, function_rva, offset, _) = procedure?;

        // Lines only from line data that was checked (`load_module`).
        let program = module.lines.as_ref().ok().and_then(|()| module.info.line_program().ok());
        let mut best: Option<(u32, pdb::LineInfo)> = None;
        if let Some(program) = &program {
            let mut lines = program.lines_for_symbol(offset);
            while let Ok(Some(l)) = lines.next() {
                let Some(start) = self.rva(l.offset) else { continue };
                if start <= rva && best.as_ref().is_none_or(|(s, _)| start >= *s) {
                    best = Some((start, l));
                }
            }
        }
        let line = best.and_then(|(start, l)| Some((self.file_name(module, l.file_index)?, l.line_start, start)));

        let mut inlinees: HashMap<IdIndex, Inlinee<'_>> = HashMap::new();
        if !sites.is_empty() && module.inlinees {
            if let Ok(mut it) = module.info.inlinees() {
                while let Ok(Some(i)) = it.next() {
                    inlinees.insert(i.index(), i);
                }
            }
        }
        let mut found_sites = Vec::new();
        for site in &sites {
            let Some(inlinee) = inlinees.get(&site.inlinee) else { continue };
            let mut lines = inlinee.lines(offset, site);
            let mut hit: Option<(u32, pdb::LineInfo)> = None;
            let mut covers = false;
            while let Ok(Some(l)) = lines.next() {
                let Some(start) = self.rva(l.offset) else { continue };
                let len = l.length.unwrap_or(0);
                if rva >= start && rva - start < len {
                    covers = true;
                }
                if start <= rva && hit.as_ref().is_none_or(|(s, _)| start >= *s) {
                    hit = Some((start, l));
                }
            }
            if covers {
                let (file, line) = match hit {
                    Some((_, l)) if module.lines.is_ok() => (self.file_name(module, l.file_index), Some(l.line_start)),
                    _ => (None, None),
                };
                found_sites.push((site.inlinee, file, line));
            }
        }
        let mut inlines = Vec::new();
        for (id, file, line) in found_sites {
            let function = self.id_name(id).unwrap_or_else(|| format!("<inlinee {}>", id.0));
            inlines.push(Inline { function, file, line });
        }
        Some(Found { function, function_rva, line, inlines })
    }

    /// The x86 unwind record covering `rva`: the FrameData record ("new FPO")
    /// that starts last at or before it, else such an FPO record ("old FPO"),
    /// the one Breakpad's walker would pick from `dump_syms`'s lines (it
    /// prefers FrameData and cuts overlapping records at the next one's
    /// start). The frame data streams are read once, on first use.
    pub(crate) fn stack_win(&mut self, rva: u32) -> Option<StackWin> {
        if self.frames.is_none() {
            self.frames = Some(self.pdb.frame_table().ok());
        }
        let table = self.frames.as_ref()?.as_ref()?;
        let internal = pdb::Rva(rva).to_internal_rva(&self.address_map)?;
        let mut best: Option<(bool, FrameData, u32)> = None;
        let mut frames = table.iter_at_rva(internal);
        let mut seen = 0;
        while let Ok(Some(frame)) = frames.next() {
            seen += 1;
            // The iterator merges the two streams in address order: past rva,
            // no later record starts at or before it.
            if frame.code_start.0 > internal.0 {
                break;
            }
            // dump_syms skips records whose size is not a size (epilog records).
            if frame.code_size > i32::MAX as u32 {
                continue;
            }
            let Some(start) = frame.code_start.to_rva(&self.address_map).map(|r| r.0) else { continue };
            if rva < start || rva - start >= frame.code_size {
                continue;
            }
            let is_data = frame.ty == FrameType::FrameData;
            let better = match &best {
                None => true,
                Some((best_is_data, _, best_start)) => (is_data, start) > (*best_is_data, *best_start),
            };
            if better {
                best = Some((is_data, frame, start));
            }
            if seen > 4096 {
                break;
            }
        }
        let (_, frame, start) = best?;
        let program = match frame.program {
            Some(p) => Some(self.strings.as_ref()?.get(&self.msf, p.0)?),
            None => None,
        };
        let line = stack_win_line(&frame, start, program.as_deref());
        Some(StackWin { line, params_size: frame.params_size })
    }

    /// The nearest code public symbol at or below `rva`, by binary search of
    /// the publics' address map.
    fn in_publics(&mut self, rva: u32) -> Option<Found> {
        if self.publics.is_none() {
            self.publics = Some(Publics::open(&self.msf, self.dbi_header.publics, self.dbi_header.symbol_records));
        }
        let publics = self.publics.as_ref()?.as_ref()?;
        let rva_of = |i: u32| -> Option<(u32, bool, u16)> {
            let p = publics.get(&self.msf, i)?;
            let at = PdbInternalSectionOffset { section: p.section, offset: p.offset };
            Some((self.rva(at)?, p.code, p.section))
        };
        // The first public past rva (an unreadable or unmapped entry sorts first).
        let (mut lo, mut hi) = (0u32, publics.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if rva_of(mid).is_none_or(|(r, _, _)| r <= rva) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        // Back to the nearest code symbol of the same section (data publics share the map).
        let section = pdb::Rva(rva).to_internal_offset(&self.address_map)?.section;
        for i in (0..lo).rev() {
            let Some((start, code, in_section)) = rva_of(i) else { continue };
            if in_section != section {
                break;
            }
            if !code || start > rva {
                continue;
            }
            let p = publics.get(&self.msf, i)?;
            let name = publics.name(&self.msf, &p)?;
            return Some(Found { function: name, function_rva: start, line: None, inlines: Vec::new() });
        }
        None
    }
}

/// The Breakpad `STACK WIN` line for a frame data record starting at RVA
/// `start`, with the fields in `dump_syms`'s order: type, start, code size,
/// prolog size, epilog size (0), parameters, saved registers, locals, max
/// stack, then `1 program` (FrameData with a program), or `0 0|1` (FPO:
/// no program; whether EBP is used as a frame pointer). For FPO records that
/// use EBP, `dump_syms` 2.3.9 writes `1 1`, which `breakpad-symbols` discards
/// as inconsistent (a program flag on a type-0 record): here the flag means
/// what Breakpad's format says, a program follows.
fn stack_win_line(frame: &FrameData, start: u32, program: Option<&str>) -> String {
    let has_program = program.is_some();
    format!(
        "STACK WIN {:x} {:x} {:x} {:x} 0 {:x} {:x} {:x} {:x} {} {}",
        frame.ty as u8,
        start,
        frame.code_size,
        frame.prolog_size,
        frame.params_size,
        frame.saved_regs_size,
        frame.locals_size,
        frame.max_stack_size.unwrap_or(0),
        u8::from(has_program),
        match program {
            Some(p) => p.trim().to_string(),
            None => u8::from(frame.uses_base_pointer).to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::collections::BTreeSet;
    use std::io::{Read, Seek, SeekFrom};

    use super::*;

    /// The fixture store's real PDB (ShowSSEConfig, built by MSVC's linker).
    fn fixture() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/store/ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb"
        );
        std::fs::read(path).unwrap()
    }

    /// Records which 4 KiB pages are read.
    #[derive(Debug)]
    struct Counting {
        file: std::io::Cursor<Vec<u8>>,
        pages: Arc<Mutex<BTreeSet<u64>>>,
    }

    impl Read for Counting {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let at = self.file.position();
            let n = self.file.read(buf)?;
            if n > 0 {
                self.pages.lock().unwrap().extend(at / 4096..=(at + n as u64 - 1) / 4096);
            }
            Ok(n)
        }
    }

    impl Seek for Counting {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.file.seek(to)
        }
    }

    fn open(bytes: Vec<u8>) -> (PdbSymbols, Arc<Mutex<BTreeSet<u64>>>) {
        let pages = Arc::new(Mutex::new(BTreeSet::new()));
        let reader = Counting { file: std::io::Cursor::new(bytes), pages: pages.clone() };
        (PdbSymbols::open(Box::new(reader), 0).unwrap(), pages)
    }

    /// The pages of stream `n`, as the file's own directory lists them.
    fn stream_pages(bytes: &[u8], n: u32) -> BTreeSet<u64> {
        let file: crate::msf::File = Arc::new(Mutex::new(Box::new(std::io::Cursor::new(bytes.to_vec()))));
        let msf = Msf::open(file).unwrap();
        assert_eq!(msf.page_size(), 4096);
        msf.stream(n).unwrap().pages.iter().map(|&p| u64::from(p)).collect()
    }

    #[test]
    fn inlinee_names_come_from_a_few_pages_of_the_id_stream() {
        let bytes = fixture();
        let (mut pdb, pages) = open(bytes.clone());
        let setup: BTreeSet<u64> = pages.lock().unwrap().clone();
        // __scrt_common_main_seh's call of wmain, inside the inlined invoke_main.
        let found = pdb.lookup(0x1407).unwrap();
        assert_eq!(found.function, "__scrt_common_main_seh");
        assert_eq!(found.inlines.iter().map(|i| i.function.as_str()).collect::<Vec<_>>(), ["invoke_main"]);
        let ipi = stream_pages(&bytes, 4);
        let read: BTreeSet<u64> = pages.lock().unwrap().difference(&setup).copied().collect();
        let ipi_read = read.intersection(&ipi).count();
        assert!(ipi_read > 0 && ipi_read < ipi.len(), "{ipi_read} of the id stream's {} pages", ipi.len());
    }

    #[test]
    fn every_function_id_is_named_as_a_whole_stream_read_names_it() {
        let bytes = fixture();
        let (pdb, _) = open(bytes.clone());
        let ids = Ids::open(&pdb.msf).unwrap();
        let mut whole = PDB::open(std::io::Cursor::new(bytes)).unwrap();
        let info = whole.id_information().unwrap();
        let mut iter = info.iter();
        let mut next = 0;
        let mut named = 0;
        while let Some(id) = iter.next().unwrap() {
            let want = match id.parse() {
                Ok(pdb::IdData::Function(f)) => Some(f.name.to_string().into_owned()),
                Ok(pdb::IdData::MemberFunction(f)) => Some(f.name.to_string().into_owned()),
                _ => None,
            };
            named += usize::from(want.is_some());
            assert_eq!(ids.name(&pdb.msf, id.index().0), want, "id {:#x}", id.index().0);
            next = id.index().0 + 1;
        }
        assert!(named > 50, "{named} function ids");
        assert_eq!(ids.name(&pdb.msf, next), None, "past the last id");
        assert_eq!(ids.name(&pdb.msf, 0x10), None, "before the first id");
    }

    #[test]
    fn publics_are_found_by_binary_search_as_a_whole_stream_read_finds_them() {
        let bytes = fixture();
        // The reference: every code public, from the symbol records read whole.
        let mut whole = PDB::open(std::io::Cursor::new(bytes.clone())).unwrap();
        let map = whole.address_map().unwrap();
        let globals = whole.global_symbols().unwrap();
        let mut all = Vec::new();
        let mut iter = globals.iter();
        while let Some(s) = iter.next().unwrap() {
            if let Ok(SymbolData::Public(p)) = s.parse() {
                if let (true, Some(r)) = (p.function || p.code, p.offset.to_rva(&map)) {
                    all.push((r.0, p.name.to_string().into_owned(), p.offset.section));
                }
            }
        }
        all.sort();
        assert!(all.len() > 50);
        let (mut pdb, _) = open(bytes.clone());
        let mut in_text = 0;
        for rva in (0..0x9000).step_by(0x37) {
            // The nearest code public at or below rva in rva's own section.
            let section = pdb::Rva(rva).to_internal_offset(&map).map(|o| o.section);
            let want = all.iter().rev().find(|p| p.0 <= rva && Some(p.2) == section).map(|p| (p.1.clone(), p.0));
            in_text += usize::from(want.is_some());
            let got = pdb.in_publics(rva).map(|f| (f.function, f.function_rva));
            assert_eq!(got, want, "rva {rva:#x}");
        }
        // One lookup reads a few pages, not the symbol records.
        let (mut one, pages) = open(bytes.clone());
        let before = pages.lock().unwrap().len();
        one.in_publics(0x1180).unwrap();
        let records = stream_pages(&bytes, 8).len();
        let after = pages.lock().unwrap().len();
        assert!(after - before < records, "{} pages for one public; the records are {records}", after - before);
        assert!(in_text > 50, "{in_text} addresses named");
    }

    #[test]
    fn the_module_of_an_address_is_found_by_binary_search_as_a_scan_of_all_contributions_finds_it() {
        let bytes = fixture();
        let mut whole = PDB::open(std::io::Cursor::new(bytes.clone())).unwrap();
        let dbi = whole.debug_information().unwrap();
        let mut all = Vec::new();
        let mut iter = dbi.section_contributions().unwrap();
        while let Some(c) = iter.next().unwrap() {
            all.push((c.offset.section, c.offset.offset, c.size, c.module));
        }
        assert!(all.len() > 100, "{} contributions", all.len());
        let (pdb, _) = open(bytes.clone());
        let mut found = 0;
        for &(section, start, size, _) in &all {
            for offset in [start, start + size / 2, start + size.saturating_sub(1), start + size] {
                let want = all.iter().find(|c| c.0 == section && offset >= c.1 && offset - c.1 < c.2).map(|c| c.3);
                assert_eq!(pdb.dbi_header.module_at(&pdb.msf, section, offset), want, "{section:#x}:{offset:#x}");
                found += usize::from(want.is_some());
            }
        }
        assert!(found > 300);
        // The contributions substream was not read for the `pdb` crate at open, and one lookup
        // reads log2(n) entries of it.
        let (one, pages) = open(bytes.clone());
        let opened = pages.lock().unwrap().clone();
        one.dbi_header.module_at(&one.msf, all[all.len() / 2].0, all[all.len() / 2].1).unwrap();
        let lookup = pages.lock().unwrap().len() - opened.len();
        assert!(lookup <= 3, "{lookup} pages for one lookup");
    }

    #[test]
    fn x86_frame_data_becomes_the_stack_win_lines_dump_syms_writes() {
        // tests/data/crash/x86: clang-14's FrameData for crash-x86.exe, and the
        // Breakpad file Mozilla's dump_syms 2.3.9 made from the same PDB.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/crash/x86/");
        let pdb = std::fs::read(format!("{dir}crash-x86.pdb")).unwrap();
        let sym = std::fs::read_to_string(format!("{dir}crash-x86.sym")).unwrap();
        let mut pdb = PdbSymbols::open(Box::new(std::io::Cursor::new(pdb)), 0).unwrap();
        let lines: Vec<&str> = sym.lines().filter(|l| l.starts_with("STACK WIN ")).collect();
        assert_eq!(lines.len(), 13);
        for line in lines {
            // The record that starts at an address is the one that covers it last.
            let start = u32::from_str_radix(line.split(' ').nth(3).unwrap(), 16).unwrap();
            assert_eq!(pdb.stack_win(start).unwrap().line, line);
        }
        // Inside middle's body (0x10a0, the return address from leaf): the
        // record of 0x1046, after all three pushes and the allocation.
        let w = pdb.stack_win(0x10a0).unwrap();
        assert!(w.line.starts_with("STACK WIN 4 1046 70 0 0 4 c 18 0 1 "), "{}", w.line);
        assert_eq!(w.params_size, 4);
        // No record covers an address past the code.
        assert_eq!(pdb.stack_win(0x2000), None);
    }

    #[test]
    fn an_old_fpo_record_becomes_a_stack_win_0_line_breakpad_reads() {
        // clang/lld write FrameData only; MSVC's older PDBs have FPO records.
        let frame = FrameData {
            ty: FrameType::FPO,
            code_start: pdb::PdbInternalRva(0x2000),
            code_size: 0x30,
            locals_size: 8,
            params_size: 12,
            prolog_size: 3,
            saved_regs_size: 4,
            max_stack_size: None,
            has_structured_eh: false,
            has_cpp_eh: false,
            is_function_start: true,
            uses_base_pointer: true,
            program: None,
        };
        let line = stack_win_line(&frame, 0x2000, None);
        assert_eq!(line, "STACK WIN 0 2000 30 3 0 c 4 8 0 0 1");
        let file = breakpad_symbols::SymbolFile::from_bytes(format!("{line}\n").as_bytes()).unwrap();
        let info = file.win_stack_fpo_info.get(0x2010).unwrap();
        assert_eq!((info.parameter_size, info.saved_register_size, info.local_size), (12, 4, 8));
        assert!(file.win_stack_framedata_info.get(0x2010).is_none());
    }

    /// tests/data/crash/x86/crash-x86.pdb (clang-14/lld-14), with `leaf`'s
    /// line data changed by `damage`, given the file offsets of its
    /// `DEBUG_S_LINES` subsection's flags and of its first line block.
    fn x86_with_damaged_lines(damage: impl Fn(&mut [u8], usize, usize)) -> (Vec<u8>, usize) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/crash/x86/crash-x86.pdb");
        let mut bytes = std::fs::read(path).unwrap();
        let (pdb, _) = open(bytes.clone());
        // leaf is at RVA 0x1000: its module, the module's stream and C13 bytes.
        let at = pdb::Rva(0x1000).to_internal_offset(&pdb.address_map).unwrap();
        let index = pdb.dbi_header.module_at(&pdb.msf, at.section, at.offset).unwrap();
        let entry = c13::module_entry(pdb.dbi_bytes.as_deref().unwrap(), index).unwrap();
        let stream = pdb.msf.stream(u32::from(entry.stream)).unwrap();
        let c13 = pdb.msf.bytes(&stream, entry.symbols, entry.c13).unwrap();
        // The lines subsection covering leaf.
        let mut sub = 0usize;
        let found = loop {
            let (kind, len) = (crate::msf::u32_at(&c13, sub).unwrap(), crate::msf::u32_at(&c13, sub + 4).unwrap() as usize);
            let (offset, section) = (crate::msf::u32_at(&c13, sub + 8).unwrap(), crate::msf::u16_at(&c13, sub + 12).unwrap());
            if kind == 0xF2 && section == at.section && offset == at.offset {
                break sub;
            }
            sub += 8 + len;
        };
        let ps = pdb.msf.page_size() as usize;
        let file_at = |o: usize| {
            let o = entry.symbols as usize + o;
            stream.pages[o / ps] as usize * ps + o % ps
        };
        damage(&mut bytes, file_at(found + 8 + 6), file_at(found + 8 + 12));
        (bytes, index)
    }

    /// What the `pdb` crate does with module `index`'s lines for `leaf`, read on its own.
    fn crate_reads_leaf_lines(bytes: Vec<u8>, index: usize) -> std::thread::Result<usize> {
        std::panic::catch_unwind(move || {
            let mut pdb = PDB::open(std::io::Cursor::new(bytes)).unwrap();
            let dbi = pdb.debug_information().unwrap();
            let module = dbi.modules().unwrap().nth(index).unwrap().unwrap();
            let info = pdb.module_info(&module).unwrap().unwrap();
            let program = info.line_program().unwrap();
            let map = pdb.address_map().unwrap();
            let mut lines = program.lines_for_symbol(pdb::Rva(0x1000).to_internal_offset(&map).unwrap());
            let mut n = 0;
            while let Ok(Some(_)) = lines.next() {
                n += 1;
            }
            n
        })
    }

    #[test]
    fn a_damaged_line_block_loses_its_lines_not_its_names_and_says_why() {
        let (good, index) = x86_with_damaged_lines(|_, _, _| {});
        assert!(crate_reads_leaf_lines(good.clone(), index).unwrap() > 0);
        let (mut pdb, _) = open(good);
        let leaf = pdb.lookup(0x1025).unwrap();
        assert_eq!((leaf.function.as_str(), leaf.line), ("leaf", Some((r"C:\src\crash.c".to_string(), 17, 0x1025))));
        assert_eq!(pdb.damage(), None);

        type Damage = fn(&mut [u8], usize, usize);
        let cases: [(&str, Damage, &str); 2] = [
            // num_lines says 1000 more line entries than the block holds.
            (
                "more lines",
                |b, _, block| {
                    let n = u32::from_le_bytes(b[block + 4..block + 8].try_into().unwrap()) + 1000;
                    b[block + 4..block + 8].copy_from_slice(&n.to_le_bytes());
                },
                "says 1004 lines, 8044 bytes with its header, but its size is 44 bytes",
            ),
            // The columns flag set: no room for the column entries.
            ("columns", |b, flags, _| b[flags] |= 1, "says 4 lines with columns, 60 bytes with its header, but its size is 44 bytes"),
        ];
        for (what, damage, says) in cases {
            let (bad, index) = x86_with_damaged_lines(damage);
            // The pdb crate itself panics on these bytes (c13.rs:561, :562).
            assert!(crate_reads_leaf_lines(bad.clone(), index).is_err(), "{what}: the crate read it");
            let (mut pdb, _) = open(bad);
            for (rva, name) in [(0x1025, "leaf"), (0x1060, "middle"), (0x1165, "start")] {
                let found = pdb.lookup(rva).unwrap();
                assert_eq!((found.function.as_str(), &found.line), (name, &None), "{what}");
            }
            let why = pdb.damage().unwrap();
            assert!(why.starts_with("no source lines for "), "{what}: {why}");
            assert!(why.contains(says), "{what}: {why}");
            // Said once, not once per lookup.
            assert_eq!(why.matches("no source lines").count(), 1, "{why}");
        }
    }

    #[test]
    fn a_name_map_offset_past_the_names_is_not_a_panic() {
        // crash-x86.pdb's PDB info stream (stream 1, one page): each entry of its
        // name map in turn gets a name offset past the names.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/crash/x86/crash-x86.pdb");
        let good = std::fs::read(path).unwrap();
        let (pdb, _) = open(good.clone());
        let info = pdb.msf.stream(1).unwrap();
        let bytes = pdb.msf.bytes(&info, 0, info.size).unwrap();
        let at = info.pages[0] as usize * pdb.msf.page_size() as usize;
        let names_size = crate::msf::u32_at(&bytes, 28).unwrap() as usize;
        let map = 32 + names_size;
        let count = crate::msf::u32_at(&bytes, map).unwrap() as usize;
        let words = crate::msf::u32_at(&bytes, map + 8).unwrap() as usize;
        let deleted = crate::msf::u32_at(&bytes, map + 12 + 4 * words).unwrap() as usize;
        let entries = map + 16 + 4 * words + 4 * deleted;
        assert!(count >= 2, "{count} named streams");
        let mut kept = 0;
        for i in 0..count {
            let mut bad = good.clone();
            let offset = at + entries + 8 * i;
            let name = crate::msf::cstr_at(&bytes, 32 + crate::msf::u32_at(&bytes, entries + 8 * i).unwrap() as usize).unwrap();
            bad[offset..offset + 4].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
            // The pdb crate panics on it (pdbi.rs:140).
            let copy = bad.clone();
            let crate_read = std::panic::catch_unwind(move || {
                let mut pdb = PDB::open(std::io::Cursor::new(copy)).unwrap();
                pdb.pdb_information().unwrap().stream_names().map(|n| n.iter().count())
            });
            assert!(crate_read.is_err(), "{name}: the crate read it");
            // Here: the names still, file names unless the entry was /names'.
            let (mut pdb, _) = open(bad);
            let leaf = pdb.lookup(0x1025).unwrap();
            assert_eq!(leaf.function, "leaf");
            assert_eq!(leaf.line.is_some(), name != "/names", "{name}");
            kept += usize::from(leaf.line.is_some());
        }
        assert_eq!(kept, count - 1);
    }

    /// Counts the bytes read.
    #[derive(Debug)]
    struct Tally {
        file: std::io::Cursor<Vec<u8>>,
        read: Arc<Mutex<u64>>,
    }

    impl Read for Tally {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.file.read(buf)?;
            *self.read.lock().unwrap() += n as u64;
            Ok(n)
        }
    }

    impl Seek for Tally {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.file.seek(to)
        }
    }

    #[test]
    fn the_line_check_reads_nothing_more_than_the_pdb_crate() {
        // A module's first use reads its stream once, for the `pdb` crate; the
        // check works on those bytes.
        let read = Arc::new(Mutex::new(0));
        let reader = Tally { file: std::io::Cursor::new(fixture()), read: read.clone() };
        let mut pdb = PdbSymbols::open(Box::new(reader), 0).unwrap();
        let (mut modules, mut with_lines) = (BTreeSet::new(), 0);
        for rva in [0x1407, 0x11c5, 0x1019, 0x2040, 0x3692] {
            let at = pdb::Rva(rva).to_internal_offset(&pdb.address_map).unwrap();
            let index = pdb.dbi_header.module_at(&pdb.msf, at.section, at.offset).unwrap();
            if !modules.insert(index) {
                continue;
            }
            let entry = c13::module_entry(pdb.dbi_bytes.as_deref().unwrap(), index).unwrap();
            with_lines += usize::from(entry.c13 > 0);
            let before = *read.lock().unwrap();
            let module = pdb.module(index).unwrap();
            assert_eq!((&module.lines, module.inlinees), (&Ok(()), true), "{rva:#x}");
            let stream = pdb.msf.stream_size(u32::from(entry.stream)).unwrap();
            assert_eq!(*read.lock().unwrap() - before, u64::from(stream), "{rva:#x}");
        }
        assert!(with_lines >= 2, "{with_lines} of {modules:?}");
        assert_eq!(pdb.damage(), None);
    }

    #[test]
    fn a_damaged_pdb_gives_no_name_or_an_error_never_a_panic() {
        // The `pdb` crate has a `debug_assert!` on line ranges (compiled out of release and
        // wasm builds) that damaged line data trips in this debug test: panics are caught and
        // only one raised in this crate's code fails the test.
        let ours = Arc::new(Mutex::new(Vec::new()));
        let seen = ours.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            if at.contains("sympath-crash") {
                seen.lock().unwrap().push(format!("{at}: {info}"));
            }
        }));
        let good = fixture();
        let try_one = |bytes: Vec<u8>| {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if let Ok(mut pdb) = PdbSymbols::open(Box::new(std::io::Cursor::new(bytes)), 0) {
                    for rva in [0x11c5, 0x1019, 0x1407, 0x2040, 0x3692, 0x7fff_ffff] {
                        let _ = pdb.lookup(rva);
                    }
                }
            }));
        };
        for at in (0..good.len()).step_by(331) {
            for fill in [0xffu8, 0x00] {
                let mut bytes = good.clone();
                bytes[at..(at + 8).min(good.len())].fill(fill);
                try_one(bytes);
            }
        }
        // Cut short anywhere.
        for len in (0..good.len()).step_by(4099) {
            try_one(good[..len].to_vec());
        }
        std::panic::set_hook(previous);
        assert_eq!(*ours.lock().unwrap(), Vec::<String>::new());
    }
}
