//! Windows minidump stack walking and PDB symbolication, with no I/O.
//!
//! [`symbolicate`] reads a minidump, walks every thread's stack with
//! rust-minidump's walker (`minidump-unwind`: the context frame, then call
//! frame info, then frame-pointer and stack-scan fallbacks, each frame marked
//! with how it was found), and names each frame from the module's PDB:
//! function, `file:line` and inlined frames. The caller supplies the bytes
//! through [`Symbols`]: a module's PE image (its `.pdata` with `UNWIND_INFO`
//! is the x64 call frame info, with `.xdata` the ARM64 one) and a
//! `Read + Seek` reader over its PDB (for x86, whose call frame info is the
//! PDB's FrameData/FPO records, the image is not needed). The PDB is
//! read through the `pdb` crate's paged `Source`, so a reader that fetches
//! byte ranges on demand costs only the streams a crash needs (the DBI
//! stream, the section map, the string table and the symbol/line streams of
//! the modules the frames fall in, and for x86 the frame data streams), not
//! the whole file.

mod arm64;
mod c13;
mod msf;
mod pdbsym;
mod report;
mod unwind;

use std::collections::HashMap;
use std::fmt::{self, Debug};
use std::io::{Read, Seek};

use minidump::{
    Minidump, MinidumpException, MinidumpMemory64List, MinidumpMemoryList, MinidumpMiscInfo, MinidumpModuleList, MinidumpSystemInfo,
    MinidumpThreadList, MinidumpThreadNames, Module, UnifiedMemoryList,
};
use minidump_unwind::{CallStack, SystemInfo};

pub use report::{CrashInfo, Frame, InlineFrame, ModuleStatus, Report, SymbolState, Thread};

/// A reader over a PDB's bytes (a file, a buffer, or ranges fetched on demand).
pub trait PdbReader: Read + Seek + Debug + Send {}
impl<T: Read + Seek + Debug + Send> PdbReader for T {}

/// The identity of one module of the dump, as the symbol store keys it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleRef {
    /// The image's file name (`ShowSSEConfig.exe`).
    pub code_file: String,
    /// Code id (TimeDateStamp and SizeOfImage, hex), when recorded.
    pub code_id: Option<String>,
    /// The PDB's file name, when recorded.
    pub debug_file: Option<String>,
    /// Breakpad debug id (GUID and age), when recorded.
    pub debug_id: Option<String>,
    /// Load address.
    pub base: u64,
    /// Mapped size.
    pub size: u64,
}

/// Where module images and PDBs come from. Each is asked for at most once per
/// module; an `Err` is the reason shown for the missing file.
pub trait Symbols: Send {
    /// The module's PE image (used for its x64 and ARM64 unwind info; never
    /// asked for in an x86 dump).
    fn image(&mut self, module: &ModuleRef) -> Result<Vec<u8>, String>;
    /// A reader over the module's PDB.
    fn pdb(&mut self, module: &ModuleRef) -> Result<Box<dyn PdbReader>, String>;
    /// Progress: `what` is being loaded for `module` (for a progress display).
    fn progress(&mut self, _module: &ModuleRef, _what: &str) {}
}

/// Why a dump could not be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrashError {
    /// The bytes are not a minidump, or a stream it needs is damaged.
    Corrupt(String),
    /// The dump is from an OS or CPU this walker does not handle.
    Unsupported(String),
}

impl fmt::Display for CrashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrashError::Corrupt(d) => write!(f, "not a readable minidump: {d}"),
            CrashError::Unsupported(d) => write!(f, "unsupported dump: {d}"),
        }
    }
}

impl std::error::Error for CrashError {}

/// Walks and symbolizes every thread of a Windows minidump.
pub fn symbolicate(dump: &[u8], symbols: &mut dyn Symbols) -> Result<Report, CrashError> {
    let dump = Minidump::read(dump).map_err(|e| CrashError::Corrupt(e.to_string()))?;
    let sys = dump.get_stream::<MinidumpSystemInfo>().map_err(|e| CrashError::Corrupt(format!("system info stream: {e}")))?;
    if sys.os != minidump::system_info::Os::Windows {
        return Err(CrashError::Unsupported(format!(
            "the dump is from {} ({}); only Windows dumps (x64, x86, ARM64) are supported",
            sys.os.long_name(),
            sys.cpu
        )));
    }
    use minidump::system_info::Cpu;
    if !matches!(sys.cpu, Cpu::X86_64 | Cpu::X86 | Cpu::Arm64) {
        return Err(CrashError::Unsupported(format!("CPU {}; supported: x64, x86, ARM64", sys.cpu)));
    }
    let threads = dump.get_stream::<MinidumpThreadList>().map_err(|e| CrashError::Corrupt(format!("thread list stream: {e}")))?;
    let modules = dump.get_stream::<MinidumpModuleList>().unwrap_or_default();
    let memory = dump
        .get_stream::<MinidumpMemoryList>()
        .map(UnifiedMemoryList::Memory)
        .or_else(|_| dump.get_stream::<MinidumpMemory64List>().map(UnifiedMemoryList::Memory64))
        .unwrap_or_default();
    let misc = dump.get_stream::<MinidumpMiscInfo>().ok();
    let names = dump.get_stream::<MinidumpThreadNames>().ok();
    let exception = dump.get_stream::<MinidumpException>().ok();
    let system_info = SystemInfo {
        os: sys.os,
        os_version: None,
        os_build: None,
        cpu: sys.cpu,
        cpu_info: None,
        cpu_microcode_version: None,
        cpu_count: usize::from(sys.raw.number_of_processors),
    };

    let crash = exception.as_ref().map(|e| CrashInfo {
        reason: e.get_crash_reason(sys.os, sys.cpu).to_string(),
        code: format!("{:#010x}", e.raw.exception_record.exception_code),
        address: format!("{:#x}", e.get_crash_address(sys.os, sys.cpu)),
        thread_id: e.get_crashing_thread_id(),
    });

    unwind::clear_pdbs();
    let provider = unwind::Provider::new(symbols, sys.cpu);
    let mut out_threads = Vec::new();
    for (index, thread) in threads.threads.iter().enumerate() {
        let id = thread.raw.thread_id;
        let crashed = crash.as_ref().is_some_and(|c| c.thread_id == id);
        // The crashing thread's registers at the exception, else the thread's own.
        let context = exception
            .as_ref()
            .filter(|_| crashed)
            .and_then(|e| e.context(&sys, misc.as_ref()))
            .or_else(|| thread.context(&sys, misc.as_ref()));
        let name = names.as_ref().and_then(|n| n.get_name(id)).map(|n| n.into_owned());
        let Some(context) = context else {
            out_threads.push(Thread::without_context(index, id, name, crashed));
            continue;
        };
        let mut stack = CallStack::with_context(context.into_owned());
        let stack_memory = thread.stack_memory(&memory);
        {
            let walk = minidump_unwind::walk_stack(index, (), &mut stack, stack_memory, &modules, &system_info, &provider);
            run_ready(walk);
        }
        out_threads.push(Thread::from_stack(index, id, name, crashed, &stack));
    }
    // The crashing thread first.
    out_threads.sort_by_key(|t| !t.crashed);

    let statuses = provider.statuses();
    unwind::clear_pdbs();
    let module_list = modules
        .iter()
        .map(|m| {
            let r = unwind::module_ref(m);
            let status = statuses.get(&m.base_address()).cloned().unwrap_or_default();
            ModuleStatus::new(&r, status)
        })
        .collect();
    Ok(Report::new(sys.os.long_name().to_string(), sys.cpu.to_string(), crash, out_threads, module_list))
}

/// Drives a future whose awaits never wait (our provider answers synchronously).
fn run_ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// What happened to one module's files while symbolizing (for the report).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FileStatus {
    pub image: SymbolState,
    pub pdb: SymbolState,
}

pub(crate) type Statuses = HashMap<u64, FileStatus>;
