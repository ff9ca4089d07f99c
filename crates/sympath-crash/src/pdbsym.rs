//! Names from a PDB, reading only what a lookup needs: the DBI stream (module
//! list and section contributions), the section map, the string table, and
//! then, per address, the symbol and line stream of the one module that
//! contributed it. The type streams (TPI) are never read; the id stream (IPI)
//! only when an address falls in an inlined call, and the global symbol
//! records only for an address no procedure covers (public symbols).

use std::collections::HashMap;

use pdb::{
    AddressMap, DebugInformation, FallibleIterator, IdData, IdIndex, IdInformation, Inlinee, ModuleInfo, PdbInternalSectionOffset,
    StringTable, SymbolData, PDB,
};

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
    strings: Option<StringTable<'static>>,
    dbi: DebugInformation<'static>,
    /// (start RVA, end RVA, module index), sorted.
    contributions: Vec<(u32, u32, usize)>,
    modules: HashMap<usize, Option<ModuleInfo<'static>>>,
    ids: Option<Option<IdInformation<'static>>>,
    publics: Option<Vec<(u32, String)>>,
}

fn err(what: &str, e: pdb::Error) -> String {
    format!("the PDB's {what} cannot be read: {e}")
}

impl PdbSymbols {
    pub(crate) fn open(reader: Source, _base: u64) -> Result<PdbSymbols, String> {
        let mut pdb = PDB::open(reader).map_err(|e| err("header", e))?;
        let dbi = pdb.debug_information().map_err(|e| err("DBI stream", e))?;
        let address_map = pdb.address_map().map_err(|e| err("section map", e))?;
        let strings = pdb.string_table().ok();
        let mut contributions = Vec::new();
        let mut iter = dbi.section_contributions().map_err(|e| err("section contributions", e))?;
        while let Some(c) = iter.next().map_err(|e| err("section contributions", e))? {
            if let Some(rva) = c.offset.to_rva(&address_map) {
                contributions.push((rva.0, rva.0.saturating_add(c.size), c.module));
            }
        }
        contributions.sort_unstable();
        Ok(PdbSymbols { pdb, address_map, strings, dbi, contributions, modules: HashMap::new(), ids: None, publics: None })
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
            self.ids = Some(self.pdb.id_information().ok());
        }
        let ids = self.ids.as_ref()?.as_ref()?;
        let mut finder = ids.finder();
        let mut iter = ids.iter();
        while let Ok(Some(_)) = iter.next() {
            finder.update(&iter);
        }
        match finder.find(id).ok()?.parse().ok()? {
            IdData::Function(f) => Some(f.name.to_string().into_owned()),
            IdData::MemberFunction(f) => Some(f.name.to_string().into_owned()),
            _ => None,
        }
    }

    fn file_name(&self, module: &ModuleInfo<'_>, index: pdb::FileIndex) -> Option<String> {
        let program = module.line_program().ok()?;
        let info = program.get_file_info(index).ok()?;
        let strings = self.strings.as_ref()?;
        Some(strings.get(info.name).ok()?.to_string().into_owned())
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

    fn in_publics(&mut self, rva: u32) -> Option<Found> {
        if self.publics.is_none() {
            let mut publics = Vec::new();
            if let Ok(globals) = self.pdb.global_symbols() {
                let mut iter = globals.iter();
                while let Ok(Some(symbol)) = iter.next() {
                    if let Ok(SymbolData::Public(p)) = symbol.parse() {
                        if p.function || p.code {
                            if let Some(r) = self.rva(p.offset) {
                                publics.push((r, p.name.to_string().into_owned()));
                            }
                        }
                    }
                }
            }
            publics.sort_unstable();
            self.publics = Some(publics);
        }
        let publics = self.publics.as_ref()?;
        let at = publics.partition_point(|p| p.0 <= rva);
        let (start, name) = publics.get(at.checked_sub(1)?)?;
        Some(Found { function: name.clone(), function_rva: *start, line: None, inlines: Vec::new() })
    }
}
