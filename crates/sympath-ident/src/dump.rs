//! Minidump module lists (the crash viewer): which binaries and PDBs a crash
//! needs, with the identities their symbol-store keys are made of.

use serde::Serialize;
use sympath::identity::{FileKind, Identity};

use crate::{identity, FileIdentity, IdentError};

/// One loaded module of a minidump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct DumpModule {
    /// The image's file name (`ntdll.dll`).
    pub name: String,
    /// The image's path as recorded.
    pub path: String,
    /// File version from the version resource, when recorded (`10.0.19041.1`).
    pub version: Option<String>,
    /// Load address, hex (`0x7ff8…`; text, since addresses exceed JS numbers' exact range).
    pub base: String,
    /// Size of the mapped image in bytes.
    pub size: u64,
    /// The debug file's name (`ntdll.pdb`), from the CodeView record.
    pub debug_file: Option<String>,
    /// Breakpad debug id (GUID + age).
    pub debug_id: Option<String>,
    /// Code id (PE: TimeDateStamp + SizeOfImage).
    pub code_id: Option<String>,
    /// The store identities to fetch: the PDB first (when recorded), then the image.
    pub identities: Vec<FileIdentity>,
}

/// What [`read_minidump`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct DumpInfo {
    /// CPU architecture (`amd64`, `x86`, `arm64`…), when recorded.
    pub cpu: Option<String>,
    /// Operating system (`windows`, `linux`, `mac`…), when recorded.
    pub os: Option<String>,
    /// Modules in the order the dump lists them.
    pub modules: Vec<DumpModule>,
    /// Modules whose identity could not be used, and why.
    pub notes: Vec<String>,
}

fn corrupt(detail: impl std::fmt::Display) -> IdentError {
    IdentError::Corrupt { format: "minidump", detail: detail.to_string() }
}

/// Reads the module list (and system info) of a minidump.
pub fn read_minidump(bytes: &[u8]) -> Result<DumpInfo, IdentError> {
    use minidump::{Minidump, MinidumpModuleList, MinidumpSystemInfo, Module};
    let dump = Minidump::read(bytes).map_err(corrupt)?;
    let list = dump.get_stream::<MinidumpModuleList>().map_err(corrupt)?;
    let system = dump.get_stream::<MinidumpSystemInfo>().ok();
    let mut notes = Vec::new();
    let mut modules = Vec::new();
    for m in list.iter() {
        let path = m.code_file().into_owned();
        let name = sympath::winpath::basename(&path).to_string();
        let mut identities = Vec::new();
        let debug_file = m.debug_file().map(|f| sympath::winpath::basename(&f).to_string()).filter(|f| !f.is_empty());
        let debug_id = m.debug_identifier().filter(|d| !d.is_nil());
        if let (Some(pdb), Some(id)) = (&debug_file, &debug_id) {
            let made = sympath::identity::guid_age_from_debug_id(&id.breakpad().to_string())
                .map_err(|e| IdentError::Key(e.to_string()))
                .and_then(|(guid, age)| identity(FileKind::Pdb, pdb, Identity::GuidAge { guid, age }));
            match made {
                Ok(i) => identities.push(i),
                Err(e) => notes.push(format!("{name}: {e}")),
            }
        }
        let (timestamp, size_of_image) = (m.raw.time_date_stamp, m.raw.size_of_image);
        if !name.is_empty() && (timestamp != 0 || size_of_image != 0) {
            match identity(FileKind::Pe, &name, Identity::TimestampSize { timestamp, size_of_image }) {
                Ok(i) => identities.push(i),
                Err(e) => notes.push(format!("{name}: {e}")),
            }
        }
        modules.push(DumpModule {
            name,
            version: m.version().map(|v| v.into_owned()),
            base: format!("0x{:x}", m.base_address()),
            size: m.size(),
            debug_file,
            debug_id: debug_id.map(|d| d.breakpad().to_string()),
            code_id: m.code_identifier().map(|c| c.to_string().to_ascii_uppercase()),
            identities,
            path,
        });
    }
    Ok(DumpInfo { cpu: system.as_ref().map(|s| s.cpu.to_string()), os: system.as_ref().map(|s| s.os.to_string()), modules, notes })
}
