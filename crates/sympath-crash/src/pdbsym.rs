//! Names from a PDB, reading only what a lookup needs: the DBI stream (module
//! list and section contributions) and the section map through the `pdb`
//! crate, then, per address, the symbol and line stream of the one module
//! that contributed it. The type stream (TPI) is never read. The id stream
//! (IPI, inlinee names), the string table (file names) and the public symbols
//! (an address no procedure covers) are read at random through their offset
//! tables (`msf.rs`): a few pages each, not the stream.

use std::collections::HashMap;

use std::sync::{Arc, Mutex};

use pdb::{AddressMap, DebugInformation, FallibleIterator, IdIndex, Inlinee, ModuleInfo, PdbInternalSectionOffset, SymbolData, PDB};

use crate::msf::{Ids, Msf, Names, Publics, SharedReader};
use crate::PdbReader;

type Source = Box<dyn PdbReader>;

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

pub(crate) struct PdbSymbols {
    pdb: PDB<'static, Source>,
    address_map: AddressMap<'static>,
    msf: Msf,
    strings: Option<Names>,
    dbi: DebugInformation<'static>,
    /// The DBI header's publics and symbol records stream numbers.
    publics_streams: Option<(u16, u16)>,
    /// (start RVA, end RVA, module index), sorted.
    contributions: Vec<(u32, u32, usize)>,
    modules: HashMap<usize, Option<ModuleInfo<'static>>>,
    ids: Option<Option<Ids>>,
    publics: Option<Option<Publics>>,
}

fn err(what: &str, e: pdb::Error) -> String {
    format!("the PDB's {what} cannot be read: {e}")
}

impl PdbSymbols {
    pub(crate) fn open(reader: Source, _base: u64) -> Result<PdbSymbols, String> {
        let file = Arc::new(Mutex::new(reader));
        let mut pdb = PDB::open(Box::new(SharedReader::new(file.clone())) as Source).map_err(|e| err("header", e))?;
        let msf = Msf::open(file)?;
        let dbi = pdb.debug_information().map_err(|e| err("DBI stream", e))?;
        let address_map = pdb.address_map().map_err(|e| err("section map", e))?;
        let strings = pdb
            .pdb_information()
            .ok()
            .and_then(|info| {
                let names = info.stream_names().ok()?;
                let found = names.iter().find(|n| n.name.as_bytes() == b"/names")?.stream_id.0;
                (found != u16::MAX).then_some(u32::from(found))
            })
            .and_then(|n| msf.stream(n))
            .and_then(|s| Names::new(&msf, s));
        let publics_streams = msf.stream(3).and_then(|dbi| Some((msf.u16(&dbi, 16)?, msf.u16(&dbi, 20)?)));
        let mut contributions = Vec::new();
        let mut iter = dbi.section_contributions().map_err(|e| err("section contributions", e))?;
        while let Some(c) = iter.next().map_err(|e| err("section contributions", e))? {
            if let Some(rva) = c.offset.to_rva(&address_map) {
                contributions.push((rva.0, rva.0.saturating_add(c.size), c.module));
            }
        }
        contributions.sort_unstable();
        Ok(PdbSymbols {
            pdb,
            address_map,
            msf,
            strings,
            dbi,
            publics_streams,
            contributions,
            modules: HashMap::new(),
            ids: None,
            publics: None,
        })
    }

    fn rva(&self, offset: PdbInternalSectionOffset) -> Option<u32> {
        offset.to_rva(&self.address_map).map(|r| r.0)
    }

    fn module(&mut self, index: usize) -> Option<&ModuleInfo<'static>> {
        if !self.modules.contains_key(&index) {
            let info =
                self.dbi.modules().ok().and_then(|mut m| m.nth(index).ok().flatten()).and_then(|m| self.pdb.module_info(&m).ok().flatten());
            self.modules.insert(index, info);
        }
        self.modules.get(&index)?.as_ref()
    }

    fn id_name(&mut self, id: IdIndex) -> Option<String> {
        if self.ids.is_none() {
            self.ids = Some(Ids::open(&self.msf));
        }
        self.ids.as_ref()?.as_ref()?.name(&self.msf, id.0)
    }

    fn file_name(&self, module: &ModuleInfo<'_>, index: pdb::FileIndex) -> Option<String> {
        let program = module.line_program().ok()?;
        let info = program.get_file_info(index).ok()?;
        self.strings.as_ref()?.get(&self.msf, info.name.0)
    }

    /// The function, line and inlined calls at `rva`.
    pub(crate) fn lookup(&mut self, rva: u32) -> Option<Found> {
        self.in_procedure(rva).or_else(|| self.in_publics(rva))
    }

    fn in_procedure(&mut self, rva: u32) -> Option<Found> {
        let at = self.contributions.partition_point(|c| c.0 <= rva);
        let &(_, end, index) = self.contributions.get(at.checked_sub(1)?)?;
        if rva >= end {
            return None;
        }
        self.module(index)?;
        let module = self.modules.get(&index)?.as_ref()?;
        let mut symbols = module.symbols().ok()?;
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

        let program = module.line_program().ok()?;
        let mut best: Option<(u32, pdb::LineInfo)> = None;
        let mut lines = program.lines_for_symbol(offset);
        while let Ok(Some(l)) = lines.next() {
            let Some(start) = self.rva(l.offset) else { continue };
            if start <= rva && best.as_ref().is_none_or(|(s, _)| start >= *s) {
                best = Some((start, l));
            }
        }
        let line = best.and_then(|(start, l)| Some((self.file_name(module, l.file_index)?, l.line_start, start)));

        let mut inlinees: HashMap<IdIndex, Inlinee<'_>> = HashMap::new();
        if !sites.is_empty() {
            if let Ok(mut it) = module.inlinees() {
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
                    Some((_, l)) => (self.file_name(module, l.file_index), Some(l.line_start)),
                    None => (None, None),
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

    /// The nearest code public symbol at or below `rva`, by binary search of
    /// the publics' address map.
    fn in_publics(&mut self, rva: u32) -> Option<Found> {
        if self.publics.is_none() {
            let (publics, records) = self.publics_streams?;
            self.publics = Some(Publics::open(&self.msf, publics, records));
        }
        let publics = self.publics.as_ref()?.as_ref()?;
        let rva_of = |i: u32| -> Option<(u32, bool)> {
            let p = publics.get(&self.msf, i)?;
            let at = PdbInternalSectionOffset { section: p.section, offset: p.offset };
            Some((self.rva(at)?, p.code))
        };
        // The first public past rva (an unreadable or unmapped entry sorts first).
        let (mut lo, mut hi) = (0u32, publics.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if rva_of(mid).is_none_or(|(r, _)| r <= rva) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        // Back to the nearest code symbol (data publics share the map).
        for i in (lo.saturating_sub(64)..lo).rev() {
            let Some((start, true)) = rva_of(i) else { continue };
            if start > rva {
                continue;
            }
            let p = publics.get(&self.msf, i)?;
            let name = publics.name(&self.msf, &p)?;
            return Some(Found { function: name, function_rva: start, line: None, inlines: Vec::new() });
        }
        None
    }
}
