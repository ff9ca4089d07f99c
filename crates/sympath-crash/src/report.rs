//! The symbolized crash, serializable (the wasm binding sends it as JSON).

use std::fmt::Write as _;

use minidump_unwind::{CallStack, FrameTrust, StackFrame};
use serde::Serialize;

use crate::{FileStatus, ModuleRef};

/// Whether a module's file was loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum SymbolState {
    /// No frame needed it.
    #[default]
    NotNeeded,
    /// Loaded and used.
    Loaded,
    /// Needed but unavailable, with the reason.
    Missing(String),
    /// Loaded, but parts of it could not be read (damaged, or a format not
    /// supported) and were left out (for a PDB: the source lines of some of
    /// its modules), with the reason.
    Partial(String),
}

/// The exception that ended the process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrashInfo {
    /// The reason by name (`EXCEPTION_ACCESS_VIOLATION_WRITE`).
    pub reason: String,
    /// The exception code, hex.
    pub code: String,
    /// The faulting address, hex (for access violations the data address).
    pub address: String,
    /// The thread that raised it.
    pub thread_id: u32,
}

/// A function inlined into a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InlineFrame {
    /// The inlined function.
    pub function: String,
    /// Its source file, when known.
    pub file: Option<String>,
    /// Its line, when known.
    pub line: Option<u32>,
}

/// One frame of a thread's stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// Position in the stack, 0 innermost.
    pub index: usize,
    /// How the frame was found: `context`, `cfi`, `frame_pointer`, `scan`, `cfi_scan`.
    pub trust: String,
    /// The instruction address, hex.
    pub address: String,
    /// The module's file name, when the address is in one.
    pub module: Option<String>,
    /// Offset in the module, hex.
    pub module_offset: Option<String>,
    /// The function, when symbols name it.
    pub function: Option<String>,
    /// Offset in the function, hex.
    pub function_offset: Option<String>,
    /// Source file.
    pub file: Option<String>,
    /// Source line.
    pub line: Option<u32>,
    /// Inlined calls at this address, innermost first.
    pub inlines: Vec<InlineFrame>,
}

/// One thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Thread {
    /// Position in the dump's thread list.
    pub index: usize,
    /// Thread id.
    pub id: u32,
    /// Thread name, when recorded.
    pub name: Option<String>,
    /// Whether this thread raised the exception.
    pub crashed: bool,
    /// Frames, innermost first.
    pub frames: Vec<Frame>,
    /// Why there are no frames, when there are none.
    pub note: Option<String>,
}

/// A module and what symbolization found for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleStatus {
    /// File name.
    pub name: String,
    /// Load address, hex.
    pub base: String,
    /// Mapped size.
    pub size: u64,
    /// PDB name.
    pub debug_file: Option<String>,
    /// Breakpad debug id.
    pub debug_id: Option<String>,
    /// Code id.
    pub code_id: Option<String>,
    /// The PE image (unwind info).
    pub image: SymbolState,
    /// The PDB (names, lines).
    pub pdb: SymbolState,
}

/// The whole result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Operating system.
    pub os: String,
    /// CPU.
    pub cpu: String,
    /// The exception, when the dump has one.
    pub crash: Option<CrashInfo>,
    /// Threads, the crashing one first.
    pub threads: Vec<Thread>,
    /// Modules in dump order.
    pub modules: Vec<ModuleStatus>,
    /// The plain-text report (what the page's copy button copies).
    pub text: String,
}

fn trust(t: FrameTrust) -> &'static str {
    match t {
        FrameTrust::Context => "context",
        FrameTrust::CallFrameInfo => "cfi",
        FrameTrust::FramePointer => "frame_pointer",
        FrameTrust::Scan => "scan",
        FrameTrust::CfiScan => "cfi_scan",
        FrameTrust::PreWalked => "prewalked",
        FrameTrust::None => "none",
    }
}

impl Frame {
    fn from_stack(index: usize, f: &StackFrame) -> Frame {
        use minidump::Module;
        let module = f.module.as_ref();
        Frame {
            index,
            trust: trust(f.trust).into(),
            address: format!("{:#x}", f.instruction),
            module: module.map(|m| {
                let c = m.code_file();
                c.rsplit(['\\', '/']).next().unwrap_or(&c).to_string()
            }),
            module_offset: module.map(|m| format!("{:#x}", f.instruction.wrapping_sub(m.base_address()))),
            function: f.function_name.clone(),
            function_offset: f.function_base.map(|b| format!("{:#x}", f.instruction.wrapping_sub(b))),
            file: f.source_file_name.clone(),
            line: f.source_line,
            inlines: f
                .inlines
                .iter()
                .map(|i| InlineFrame { function: i.function_name.clone(), file: i.source_file_name.clone(), line: i.source_line })
                .collect(),
        }
    }

    /// `module!function+0xoff (file:line)`, or `module+0xoff` without symbols.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        match (&self.module, &self.function) {
            (Some(m), Some(f)) => {
                let _ = write!(s, "{m}!{f}+{}", self.function_offset.as_deref().unwrap_or("0x0"));
            }
            (Some(m), None) => {
                let _ = write!(s, "{m}+{}", self.module_offset.as_deref().unwrap_or("0x0"));
            }
            (None, _) => s.push_str(&self.address),
        }
        if let (Some(file), Some(line)) = (&self.file, self.line) {
            let _ = write!(s, " ({file}:{line})");
        }
        s
    }
}

impl Thread {
    pub(crate) fn without_context(index: usize, id: u32, name: Option<String>, crashed: bool) -> Thread {
        Thread { index, id, name, crashed, frames: Vec::new(), note: Some("the dump records no register context for this thread".into()) }
    }

    pub(crate) fn from_stack(index: usize, id: u32, name: Option<String>, crashed: bool, stack: &CallStack) -> Thread {
        let frames = stack.frames.iter().enumerate().map(|(i, f)| Frame::from_stack(i, f)).collect();
        Thread { index, id, name, crashed, frames, note: None }
    }
}

impl ModuleStatus {
    pub(crate) fn new(m: &ModuleRef, status: FileStatus) -> ModuleStatus {
        ModuleStatus {
            name: m.code_file.clone(),
            base: format!("{:#x}", m.base),
            size: m.size,
            debug_file: m.debug_file.clone(),
            debug_id: m.debug_id.clone(),
            code_id: m.code_id.clone(),
            image: status.image,
            pdb: status.pdb,
        }
    }
}

impl Report {
    pub(crate) fn new(os: String, cpu: String, crash: Option<CrashInfo>, threads: Vec<Thread>, modules: Vec<ModuleStatus>) -> Report {
        let mut r = Report { os, cpu, crash, threads, modules, text: String::new() };
        r.text = r.render_text();
        r
    }

    /// The text report: crash summary, then every thread's frames (inlined calls
    /// as their own lines), then modules whose symbols are missing, or were
    /// read in part, and why.
    fn render_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Operating system: {}\nCPU: {}", self.os, self.cpu);
        if let Some(c) = &self.crash {
            let _ = writeln!(s, "Crash reason: {} ({})\nCrash address: {}\nCrashing thread: {}", c.reason, c.code, c.address, c.thread_id);
        } else {
            let _ = writeln!(s, "No exception recorded");
        }
        for t in &self.threads {
            let _ = writeln!(
                s,
                "\nThread {} (id {}{}){}",
                t.index,
                t.id,
                t.name.as_deref().map(|n| format!(", {n}")).unwrap_or_default(),
                if t.crashed { " (crashed)" } else { "" }
            );
            if let Some(note) = &t.note {
                let _ = writeln!(s, "    {note}");
            }
            for f in &t.frames {
                for i in &f.inlines {
                    let loc = match (&i.file, i.line) {
                        (Some(file), Some(line)) => format!(" ({file}:{line})"),
                        _ => String::new(),
                    };
                    let _ = writeln!(s, "{:>3}  {}!{}{loc} [inlined]", f.index, f.module.as_deref().unwrap_or("?"), i.function);
                }
                let _ = writeln!(s, "{:>3}  {}  [{}]", f.index, f.describe(), f.trust);
            }
        }
        let missing: Vec<_> = self
            .modules
            .iter()
            .filter_map(|m| match (&m.pdb, &m.image) {
                (SymbolState::Missing(r), _) => Some(format!("{}: no symbols: {r}", m.name)),
                (_, SymbolState::Missing(r)) => Some(format!("{}: no unwind info: {r}", m.name)),
                _ => None,
            })
            .collect();
        list(&mut s, "Modules without symbols", &missing);
        let partial: Vec<_> = self
            .modules
            .iter()
            .filter_map(|m| match &m.pdb {
                SymbolState::Partial(r) => Some(format!("{}: {r}", m.name)),
                _ => None,
            })
            .collect();
        list(&mut s, "Modules with symbols in part", &partial);
        s
    }
}

/// A titled list of the text report, left out when empty.
fn list(s: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n{title}:");
    for line in lines {
        let _ = writeln!(s, "    {line}");
    }
}
