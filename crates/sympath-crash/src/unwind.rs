//! The symbol provider handed to rust-minidump's walker: call frame info for
//! x64 from the module's PE `.pdata`/`UNWIND_INFO` (`pe-unwind-info`), for
//! ARM64 from its PE `.pdata`/`.xdata` (`arm64.rs`), for x86 from its PDB's
//! FrameData/FPO records (as Breakpad `STACK WIN` records evaluated by
//! `breakpad-symbols`); names from the PDB.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use minidump::system_info::Cpu;
use minidump::Module;
use minidump_unwind::{FileError, FileKind, FillSymbolError, FrameSymbolizer, FrameWalker, SymbolProvider};
use pe_unwind_info::x86_64::{FunctionTableEntries, Register, UnwindState, XmmRegister};

use crate::arm64;
use crate::pdbsym::PdbSymbols;
use crate::report::SymbolState;
use crate::{ModuleRef, Statuses, Symbols};

/// A module's image: its bytes and where its sections are.
struct Image {
    bytes: Vec<u8>,
    /// (virtual address, virtual size, file offset, raw size) per section.
    sections: Vec<(u32, u32, u32, u32)>,
    /// RVA and size of the exception directory (`.pdata`).
    pdata: (u32, u32),
}

impl Image {
    /// Parses a PE32+ image of the dump's CPU (x64 or ARM64).
    fn parse(bytes: Vec<u8>, cpu: Cpu) -> Result<Image, String> {
        use object::read::pe::PeFile64;
        let (want, name) = match cpu {
            Cpu::Arm64 => (object::pe::IMAGE_FILE_MACHINE_ARM64, "ARM64"),
            _ => (object::pe::IMAGE_FILE_MACHINE_AMD64, "x64"),
        };
        let file = PeFile64::parse(&*bytes).map_err(|e| format!("not a 64-bit (PE32+) image: {e}"))?;
        let machine = file.nt_headers().file_header.machine.get(object::LittleEndian);
        if machine != want {
            return Err(format!("the image is for machine {machine:#06x}, not {name}"));
        }
        let sections = file
            .section_table()
            .iter()
            .map(|s| {
                (
                    s.virtual_address.get(object::LittleEndian),
                    s.virtual_size.get(object::LittleEndian),
                    s.pointer_to_raw_data.get(object::LittleEndian),
                    s.size_of_raw_data.get(object::LittleEndian),
                )
            })
            .collect();
        let dir = file
            .data_directory(object::pe::IMAGE_DIRECTORY_ENTRY_EXCEPTION)
            .map(|d| (d.virtual_address.get(object::LittleEndian), d.size.get(object::LittleEndian)))
            .unwrap_or((0, 0));
        Ok(Image { bytes, sections, pdata: dir })
    }

    /// The file's bytes from `rva` to the end of its section's raw data.
    fn at_rva(&self, rva: u32) -> Option<&[u8]> {
        let &(va, _vsize, raw, rsize) = self.sections.iter().find(|&&(va, vsize, _, rsize)| rva >= va && rva - va < vsize.max(rsize))?;
        let start = raw.checked_add(rva - va)? as usize;
        let end = (raw as usize).checked_add(rsize as usize)?.min(self.bytes.len());
        self.bytes.get(start..end)
    }

    fn pdata(&self) -> Option<&[u8]> {
        let (rva, size) = self.pdata;
        if size == 0 {
            return None;
        }
        self.at_rva(rva)?.get(..size as usize)
    }
}

thread_local! {
    static PDBS: std::cell::RefCell<HashMap<u64, Option<PdbSymbols>>> = std::cell::RefCell::new(HashMap::new());
}

/// Forgets the PDBs opened by a previous call.
pub(crate) fn clear_pdbs() {
    PDBS.with(|p| p.borrow_mut().clear());
}

/// What the provider loaded, per module base address.
pub(crate) struct State<'a> {
    symbols: &'a mut dyn Symbols,
    images: HashMap<u64, Option<Image>>,
    statuses: Statuses,
}

pub(crate) struct Provider<'a> {
    state: Mutex<State<'a>>,
    cpu: Cpu,
}

/// The store identity of a dump module.
pub(crate) fn module_ref(m: &(impl Module + ?Sized)) -> ModuleRef {
    let code_file = m.code_file();
    let name = code_file.rsplit(['\\', '/']).next().unwrap_or(&code_file).to_string();
    ModuleRef {
        code_file: name,
        code_id: m.code_identifier().map(|c| c.to_string()),
        debug_file: m.debug_file().map(|f| f.rsplit(['\\', '/']).next().unwrap_or(&f).to_string()).filter(|f| !f.is_empty()),
        debug_id: m.debug_identifier().filter(|d| !d.is_nil()).map(|d| d.breakpad().to_string()),
        base: m.base_address(),
        size: m.size(),
    }
}

impl<'a> Provider<'a> {
    pub(crate) fn new(symbols: &'a mut dyn Symbols, cpu: Cpu) -> Self {
        Provider { state: Mutex::new(State { symbols, images: HashMap::new(), statuses: HashMap::new() }), cpu }
    }

    pub(crate) fn statuses(&self) -> Statuses {
        self.state.lock().map(|s| s.statuses.clone()).unwrap_or_default()
    }
}

impl State<'_> {
    fn image(&mut self, module: &(dyn Module + Sync), cpu: Cpu) -> Option<&Image> {
        let base = module.base_address();
        if !self.images.contains_key(&base) {
            let r = module_ref(module);
            self.symbols.progress(&r, "image");
            let loaded = self.symbols.image(&r).and_then(|b| Image::parse(b, cpu));
            let status = self.statuses.entry(base).or_default();
            let image = match loaded {
                Ok(i) => {
                    status.image = SymbolState::Loaded;
                    Some(i)
                }
                Err(e) => {
                    status.image = SymbolState::Missing(e);
                    None
                }
            };
            self.images.insert(base, image);
        }
        self.images.get(&base)?.as_ref()
    }

    /// Runs `f` on the module's PDB, opening it on first use. The PDB reader's
    /// types are not `Send`, which the walker's provider must be: they live in a
    /// thread-local map for the length of one [`crate::symbolicate`] call.
    fn with_pdb<R>(&mut self, module: &(dyn Module + Sync), f: impl FnOnce(&mut PdbSymbols) -> R) -> Option<R> {
        let base = module.base_address();
        if !PDBS.with(|p| p.borrow().contains_key(&base)) {
            let r = module_ref(module);
            let loaded = if r.debug_file.is_none() || r.debug_id.is_none() {
                Err("the dump records no PDB for this module".to_string())
            } else {
                self.symbols.progress(&r, "pdb");
                self.symbols.pdb(&r).and_then(|reader| PdbSymbols::open(reader, base))
            };
            let status = self.statuses.entry(base).or_default();
            let pdb = match loaded {
                Ok(p) => {
                    status.pdb = SymbolState::Loaded;
                    Some(p)
                }
                Err(e) => {
                    status.pdb = SymbolState::Missing(e);
                    None
                }
            };
            PDBS.with(|p| p.borrow_mut().insert(base, pdb));
        }
        let (result, damage) = PDBS.with(|p| {
            let mut p = p.borrow_mut();
            let pdb = p.get_mut(&base)?.as_mut()?;
            let result = f(pdb);
            Some((result, pdb.damage()))
        })?;
        // Parts left out as damaged (so far): the status says which and why.
        if let Some(why) = damage {
            self.statuses.entry(base).or_default().pdb = SymbolState::Partial(why);
        }
        Some(result)
    }
}

#[async_trait]
impl SymbolProvider for Provider<'_> {
    async fn fill_symbol(&self, module: &(dyn Module + Sync), frame: &mut (dyn FrameSymbolizer + Send)) -> Result<(), FillSymbolError> {
        let mut state = self.state.lock().map_err(|_| FillSymbolError {})?;
        let address = frame.get_instruction();
        let base = module.base_address();
        let Some(rva) = address.checked_sub(base).and_then(|r| u32::try_from(r).ok()) else {
            return Err(FillSymbolError {});
        };
        // Err: no symbols for the module; Ok(None): symbols, but nothing at this address.
        let x86 = self.cpu == Cpu::X86;
        let Some((found, params)) = state.with_pdb(module, |pdb| {
            let found = pdb.lookup(rva);
            // On x86 the caller's unwinding needs the bytes of parameters it
            // pushed for this function (Breakpad reads it from STACK WIN too).
            let params = if x86 && found.is_some() { pdb.stack_win(rva).map_or(0, |w| w.params_size) } else { 0 };
            (found, params)
        }) else {
            return Err(FillSymbolError {});
        };
        let Some(found) = found else { return Ok(()) };
        frame.set_function(&found.function, base + u64::from(found.function_rva), params);
        if let Some((file, line, line_rva)) = &found.line {
            frame.set_source_file(file, *line, base + u64::from(*line_rva));
        }
        for inline in &found.inlines {
            frame.add_inline_frame(&inline.function, inline.file.as_deref(), inline.line);
        }
        Ok(())
    }

    async fn walk_frame(&self, module: &(dyn Module + Sync), walker: &mut (dyn FrameWalker + Send)) -> Option<()> {
        match self.cpu {
            Cpu::X86_64 => self.walk_x64(module, walker),
            Cpu::Arm64 => self.walk_arm64(module, walker),
            Cpu::X86 => self.walk_x86(module, walker),
            // Other CPUs are refused before the walk.
            _ => None,
        }
    }

    async fn get_file_path(&self, _module: &(dyn Module + Sync), _file_kind: FileKind) -> Result<PathBuf, FileError> {
        Err(FileError::NotFound)
    }
}

impl Provider<'_> {
    /// x64: the PE's `.pdata`/`UNWIND_INFO`, run by `pe-unwind-info`.
    fn walk_x64(&self, module: &(dyn Module + Sync), walker: &mut (dyn FrameWalker + Send)) -> Option<()> {
        let mut state = self.state.lock().ok()?;
        let image = state.image(module, Cpu::X86_64)?;
        let rva = u32::try_from(walker.get_instruction().checked_sub(module.base_address())?).ok()?;
        let table = FunctionTableEntries::parse(image.pdata()?);
        let function = table.lookup(rva)?;
        // pe-unwind-info slices an epilog's bytes without checking: make sure they are there.
        let end = function.end_address.get();
        let need = end.checked_sub(rva)? as usize;
        if image.at_rva(rva).is_none_or(|b| b.len() < need) {
            return None;
        }
        let mut regs = Regs::new(walker);
        let rip = table.unwind_frame(&mut regs, |r| image.at_rva(r), rva)?;
        let rsp = regs.read_register(Register::RSP);
        let written = regs.written;
        let values = regs.values;
        for (i, (name, value)) in NAMES.iter().zip(values).enumerate() {
            if written & (1 << i) != 0 && i != Register::RSP as usize {
                walker.set_caller_register(name, value)?;
            }
        }
        walker.set_cfa(rsp)?;
        walker.set_ra(rip)
    }

    /// ARM64: the PE's `.pdata`/`.xdata` (packed or full unwind data), run by
    /// `arm64::unwind`. The caller's `sp` is the CFA, its `pc` the restored
    /// `lr` (or the callee's `lr` where the function never saved it).
    fn walk_arm64(&self, module: &(dyn Module + Sync), walker: &mut (dyn FrameWalker + Send)) -> Option<()> {
        let mut state = self.state.lock().ok()?;
        let image = state.image(module, Cpu::Arm64)?;
        let rva = u32::try_from(walker.get_instruction().checked_sub(module.base_address())?).ok()?;
        let mut regs = arm64::Regs { x: [None; 31], sp: walker.get_callee_register("sp")?, restored: 0 };
        for (slot, name) in regs.x.iter_mut().skip(19).zip(ARM64_NAMES) {
            *slot = walker.get_callee_register(name);
        }
        {
            let reader: &(dyn FrameWalker + Send) = walker;
            arm64::unwind(image.pdata()?, |r| image.at_rva(r), rva, &mut regs, |a| reader.get_register_at_address(a))?;
        }
        let ra = regs.x.get(usize::from(arm64::LR)).copied().flatten()?;
        // x19-x28 and fp; lr is the return address, not a register the caller keeps.
        for (i, name) in (19..).zip(ARM64_NAMES.iter().take(11)) {
            if regs.restored & (1 << i) != 0 {
                if let Some(value) = regs.x.get(i).copied().flatten() {
                    walker.set_caller_register(name, value)?;
                }
            }
        }
        walker.set_cfa(regs.sp)?;
        walker.set_ra(ra)
    }

    /// x86: the PDB's FrameData/FPO record covering the address, as a
    /// Breakpad `STACK WIN` line, evaluated by `breakpad-symbols` (its
    /// postfix programs, `.raSearch`, the grand-callee parameter size).
    fn walk_x86(&self, module: &(dyn Module + Sync), walker: &mut (dyn FrameWalker + Send)) -> Option<()> {
        let mut state = self.state.lock().ok()?;
        let rva = u32::try_from(walker.get_instruction().checked_sub(module.base_address())?).ok()?;
        let record = state.with_pdb(module, |pdb| pdb.stack_win(rva))??;
        let mut text = record.line;
        text.push('\n');
        let file = breakpad_symbols::SymbolFile::from_bytes(text.as_bytes()).ok()?;
        file.walk_frame(module, walker)
    }
}

/// arm64 register names as rust-minidump spells them, x19 onwards.
const ARM64_NAMES: [&str; 12] = ["x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "fp", "lr"];

/// Register names as rust-minidump spells them, in `pe_unwind_info` order.
const NAMES: [&str; 16] = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

/// The register state the unwind codes run on.
struct Regs<'w> {
    walker: &'w (dyn FrameWalker + Send),
    values: [u64; 16],
    written: u32,
}

impl<'w> Regs<'w> {
    fn new(walker: &'w (dyn FrameWalker + Send)) -> Self {
        let mut values = [0; 16];
        for (v, name) in values.iter_mut().zip(NAMES) {
            *v = walker.get_callee_register(name).unwrap_or(0);
        }
        Regs { walker, values, written: 0 }
    }
}

impl UnwindState for Regs<'_> {
    fn read_register(&mut self, register: Register) -> u64 {
        self.values.get(register as usize).copied().unwrap_or(0)
    }
    fn read_stack(&mut self, addr: u64) -> Option<u64> {
        self.walker.get_register_at_address(addr)
    }
    fn write_register(&mut self, register: Register, value: u64) {
        if let Some(v) = self.values.get_mut(register as usize) {
            *v = value;
            self.written |= 1 << (register as u32);
        }
    }
    fn write_xmm_register(&mut self, _register: XmmRegister, _value: u128) {}
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// `middle` of tests/data/crash/arm64 (RVA 0x1054, full .xdata):
    /// `sub sp, sp, #64`; `stp x19, x20, [sp, #32]`; `stp x21, x30, [sp, #48]`;
    /// … its epilog at 0x10dc: `ldp x21, x30`; `ldp x19, x20`; `add sp`; `ret`.
    #[test]
    fn arm64_prolog_body_and_epilog_of_a_real_function() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/crash/arm64/crash-arm64.exe");
        let image = Image::parse(std::fs::read(path).unwrap(), Cpu::Arm64).unwrap();
        // Each stack slot holds its own address + 1; lr and x19 hold markers.
        let run = |rva: u32| {
            let mut x = [None; 31];
            x[19] = Some(0x19);
            x[30] = Some(0x1e);
            let mut regs = arm64::Regs { x, sp: 0x1000, restored: 0 };
            arm64::unwind(image.pdata().unwrap(), |r| image.at_rva(r), rva, &mut regs, |a| Some(a + 1)).unwrap();
            (regs.sp, regs.x[19], regs.x[30])
        };
        // At the first instruction nothing has run.
        assert_eq!(run(0x1054), (0x1000, Some(0x19), Some(0x1e)));
        // After `sub sp, sp, #64`.
        assert_eq!(run(0x1058), (0x1040, Some(0x19), Some(0x1e)));
        // After the x19/x20 store: x19 from sp + 32.
        assert_eq!(run(0x105c), (0x1040, Some(0x1021), Some(0x1e)));
        // In the body: lr from sp + 56 too.
        assert_eq!(run(0x10cc), (0x1040, Some(0x1021), Some(0x1039)));
        // In the epilog after `ldp x21, x30`: lr is back in its register.
        assert_eq!(run(0x10e0), (0x1040, Some(0x1021), Some(0x1e)));
        // At the `ret`: everything is restored.
        assert_eq!(run(0x10e8), (0x1000, Some(0x19), Some(0x1e)));
    }
}
