//! # sympath-ident: identities of symbol files, read from their bytes
//!
//! Given the bytes of a PE image, a PDB, an ELF or Mach-O file, a .NET
//! portable PDB or a CAB-compressed `.pd_`/`.ex_`, [`read`] returns what
//! identifies it in a symbol store, as the core's types
//! ([`sympath::identity::Identity`], [`sympath::StoreKey`]), so every result
//! turns into keys, URLs and lookup plans through the core (spec §9).
//!
//! Formats are read with the field's crates (`object`, `pdb`, `cab`); only the
//! 20-byte portable-PDB id is read by hand. No I/O: bytes in, values out;
//! builds for `wasm32-unknown-unknown`. Truncated or corrupt input gives an
//! [`IdentError`], never a panic.
#![forbid(unsafe_code)]

mod dump;

pub use dump::{read_minidump, DumpInfo, DumpModule};

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile32, PeFile64};
use object::{LittleEndian as LE, Object, ObjectSection};
use serde::Serialize;
use sympath::identity::{hex_lower, FileKind, Guid, Identity};
use sympath::StoreKey;

/// Magic bytes live in the core (the lookup engine judges answers by them); re-exported here.
pub use sympath::magic::{sniff, Magic};

/// Largest decompressed size [`decompress_cab`] accepts (checked before allocating).
pub const MAX_CAB_OUTPUT: u64 = 512 * 1024 * 1024;

/// Why bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "code", content = "message", rename_all = "snake_case")]
pub enum IdentError {
    /// The format is recognised but the bytes end too early or contradict themselves.
    #[error("corrupt or truncated {format}: {detail}")]
    Corrupt {
        /// The format.
        format: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// Not a format sympath reads.
    #[error("unsupported file ({0}): expected a PE image, a PDB, an ELF or Mach-O file, a portable PDB or a CAB")]
    Unsupported(&'static str),
    /// A file that needs more memory than allowed.
    #[error("{what} is {size} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The identity read from the file does not make a valid key.
    #[error("the file's identity makes no valid key: {0}")]
    Key(String),
}

fn corrupt(format: &'static str, e: impl std::fmt::Display) -> IdentError {
    IdentError::Corrupt { format, detail: e.to_string() }
}

/// One identity of a file, as the core's types, with its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct FileIdentity {
    /// The kind of file the key is for (a PE yields a `pe` key and a `pdb` key).
    pub kind: FileKind,
    /// The name used in the key.
    pub name: String,
    /// The identity.
    pub identity: Identity,
    /// The one-tier key.
    pub key: String,
    /// The identity as text fields, ready for forms (`name`, `guid`, `age`, `timestamp`, …).
    #[cfg_attr(feature = "tsify", tsify(type = "Record<string, string>"))]
    pub fields: BTreeMap<&'static str, String>,
}

/// What [`read`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct FileInfo {
    /// The format.
    pub format: Magic,
    /// The image name (for PE files: the file name given), which names a plain directory's `<ext>`.
    pub image_name: Option<String>,
    /// Facts worth showing (machine, PDB path, sizes…).
    #[cfg_attr(feature = "tsify", tsify(type = "Record<string, string>"))]
    pub details: BTreeMap<&'static str, String>,
    /// The identities, most useful first.
    pub identities: Vec<FileIdentity>,
    /// Caveats (e.g. which age was used and why).
    pub notes: Vec<String>,
}

fn identity(kind: FileKind, name: &str, identity: Identity) -> Result<FileIdentity, IdentError> {
    let key = StoreKey::new(kind, name, &identity).map_err(|e| IdentError::Key(e.to_string()))?;
    let mut fields = BTreeMap::new();
    fields.insert("name", key.name.clone());
    match &identity {
        Identity::GuidAge { guid, age } => {
            fields.insert("guid", guid.to_string());
            fields.insert("age", age.to_string());
        }
        Identity::SignatureAge { signature, age } => {
            fields.insert("signature", format!("0x{signature:08X}"));
            fields.insert("age", age.to_string());
        }
        Identity::TimestampSize { timestamp, size_of_image } => {
            fields.insert("timestamp", format!("0x{timestamp:08X}"));
            fields.insert("size_of_image", format!("0x{size_of_image:X}"));
        }
        Identity::PortableGuid { guid } => {
            fields.insert("guid", guid.to_string());
        }
        Identity::BuildId { build_id } => {
            fields.insert("build_id", hex_lower(build_id));
        }
        Identity::Uuid { uuid } => {
            fields.insert("uuid", hex_lower(uuid));
        }
        Identity::Sha1 { .. } | Identity::Perfmap { .. } => {}
    }
    Ok(FileIdentity { kind, name: key.name.clone(), key: key.one_tier(), identity, fields })
}

/// Reads the identity of `bytes`. `file_name` names PE images and CAB contents
/// when the bytes do not (PE files do not record their own name reliably).
pub fn read(bytes: &[u8], file_name: Option<&str>) -> Result<FileInfo, IdentError> {
    let file_name = file_name.map(sympath::winpath::basename).filter(|n| !n.is_empty());
    match sniff(bytes) {
        Magic::Pe => read_pe(bytes, file_name),
        Magic::Pdb => read_pdb(bytes, file_name),
        Magic::Elf | Magic::MachO => read_object(bytes, file_name),
        Magic::PortablePdb => read_portable_pdb(bytes, file_name),
        Magic::Cab => {
            let (inner, data) = decompress_cab(bytes)?;
            let mut info = read(&data, Some(&inner))?;
            info.details.insert("compressed", format!("CAB ({} bytes, {} expanded)", bytes.len(), data.len()));
            Ok(info)
        }
        Magic::Pdb20 => Err(IdentError::Unsupported("PDB 2.0: read its signature and age from the image's NB10 record")),
        Magic::Msfz => Err(IdentError::Unsupported("MSFZ container: read its GUID and age from the image's CodeView record")),
        Magic::Html => Err(IdentError::Unsupported("an HTML page, not a symbol file")),
        Magic::Empty => Err(IdentError::Unsupported("an empty file")),
        Magic::Unknown => Err(IdentError::Unsupported("unknown format")),
    }
}

fn machine_name(m: u16) -> String {
    match m {
        0x014c => "x86".into(),
        0x8664 => "x86_64".into(),
        0xaa64 => "arm64".into(),
        0x01c4 => "arm".into(),
        0xa641 => "arm64ec".into(),
        0x0200 => "ia64".into(),
        other => format!("0x{other:04x}"),
    }
}

fn read_pe(bytes: &[u8], file_name: Option<&str>) -> Result<FileInfo, IdentError> {
    let kind = object::FileKind::parse(bytes).map_err(|e| corrupt("PE image", e))?;
    match kind {
        object::FileKind::Pe32 => pe_info(&PeFile32::parse(bytes).map_err(|e| corrupt("PE image", e))?, file_name),
        object::FileKind::Pe64 => pe_info(&PeFile64::parse(bytes).map_err(|e| corrupt("PE image", e))?, file_name),
        _ => Err(corrupt("PE image", "no PE header after the MZ stub")),
    }
}

fn pe_info<'d, Pe: ImageNtHeaders>(
    pe: &object::read::pe::PeFile<'d, Pe, &'d [u8]>,
    file_name: Option<&str>,
) -> Result<FileInfo, IdentError> {
    let nt = pe.nt_headers();
    let fh = nt.file_header();
    let timestamp = fh.time_date_stamp.get(LE);
    let size_of_image = nt.optional_header().size_of_image();
    let mut details = BTreeMap::new();
    details.insert("machine", machine_name(fh.machine.get(LE)));
    details.insert("TimeDateStamp", format!("0x{timestamp:08X}"));
    details.insert("SizeOfImage", format!("0x{size_of_image:X}"));
    let mut identities = Vec::new();
    let mut notes = Vec::new();
    match pe.pdb_info() {
        Ok(Some(cv)) => {
            let recorded = String::from_utf8_lossy(cv.path()).into_owned();
            details.insert("PDB path", recorded.clone());
            let guid = Guid::from_le_bytes(cv.guid());
            identities.push(identity(FileKind::Pdb, &recorded, Identity::GuidAge { guid, age: cv.age() })?);
        }
        Ok(None) => notes.push("no CodeView (RSDS) record: the image names no PDB".into()),
        Err(e) => notes.push(format!("unreadable debug directory: {e}")),
    }
    let image_name = file_name.map(str::to_string);
    match &image_name {
        Some(name) => identities.push(identity(FileKind::Pe, name, Identity::TimestampSize { timestamp, size_of_image })?),
        None => notes.push("no file name given: the image's own key needs it".into()),
    }
    Ok(FileInfo { format: Magic::Pe, image_name, details, identities, notes })
}

fn read_pdb(bytes: &[u8], file_name: Option<&str>) -> Result<FileInfo, IdentError> {
    let mut pdb = pdb::PDB::open(Cursor::new(bytes)).map_err(|e| corrupt("PDB", e))?;
    let info = pdb.pdb_information().map_err(|e| corrupt("PDB", e))?;
    let guid = Guid::from_be_bytes(*info.guid.as_bytes());
    let mut notes = Vec::new();
    // R72: the DBI age matches the image's CodeView age; pdbstr bumps the info-stream age.
    let age = match pdb.debug_information().map(|d| d.age()) {
        Ok(Some(age)) => {
            if age != info.age {
                notes.push(format!("DBI age {age} used; the PDB info stream says {} (bumped by tools such as pdbstr)", info.age));
            }
            age
        }
        _ => {
            notes.push(format!("no DBI stream: the info-stream age {} is used (symstore.exe would omit the age)", info.age));
            info.age
        }
    };
    let name = file_name.ok_or_else(|| corrupt("PDB", "a PDB does not record its own file name; pass it"))?;
    let mut details = BTreeMap::new();
    details.insert("PDB info age", info.age.to_string());
    details.insert("signature", format!("0x{:08X}", info.signature));
    let identities = vec![identity(FileKind::Pdb, name, Identity::GuidAge { guid, age })?];
    Ok(FileInfo { format: Magic::Pdb, image_name: None, details, identities, notes })
}

fn read_object(bytes: &[u8], file_name: Option<&str>) -> Result<FileInfo, IdentError> {
    let format = sniff(bytes);
    let what = if format == Magic::Elf { "ELF file" } else { "Mach-O file" };
    let obj = object::File::parse(bytes).map_err(|e| corrupt(what, e))?;
    let name = file_name.unwrap_or("a.out");
    let mut details = BTreeMap::new();
    details.insert("architecture", format!("{:?}", obj.architecture()).to_lowercase());
    let has_debug = obj.section_by_name(".debug_info").or_else(|| obj.section_by_name("__debug_info")).is_some_and(|s| s.size() > 0);
    details.insert("debug info", if has_debug { "yes" } else { "no" }.into());
    let mut identities = Vec::new();
    let mut notes = Vec::new();
    if format == Magic::Elf {
        match obj.build_id().map_err(|e| corrupt(what, e))? {
            Some(id) => {
                let id = Identity::BuildId { build_id: id.to_vec() };
                let (first, second) =
                    if has_debug { (FileKind::ElfDebug, FileKind::ElfCode) } else { (FileKind::ElfCode, FileKind::ElfDebug) };
                identities.push(identity(first, name, id.clone())?);
                identities.push(identity(second, name, id)?);
            }
            None => notes.push("no GNU build-id note: the file has no SSQP key".into()),
        }
    } else {
        match obj.mach_uuid().map_err(|e| corrupt(what, e))? {
            Some(uuid) => {
                let id = Identity::Uuid { uuid: uuid.to_vec() };
                identities.push(identity(FileKind::MachoCode, name, id.clone())?);
                identities.push(identity(FileKind::MachoDsym, name, id)?);
            }
            None => notes.push("no LC_UUID: the file has no SSQP key".into()),
        }
    }
    Ok(FileInfo { format, image_name: file_name.map(str::to_string), details, identities, notes })
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map(u32::from_le_bytes)
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).and_then(|s| s.try_into().ok()).map(u16::from_le_bytes)
}

/// Reads the 16-byte PDB id GUID of a portable PDB from its `#Pdb` stream (ECMA-335 metadata root).
fn portable_pdb_id(b: &[u8]) -> Option<Guid> {
    let version_len = usize::try_from(le_u32(b, 12)?).ok()?;
    let mut at = 16usize.checked_add(version_len)?;
    let streams = le_u16(b, at.checked_add(2)?)?;
    at = at.checked_add(4)?;
    for _ in 0..streams {
        let offset = usize::try_from(le_u32(b, at)?).ok()?;
        let name_start = at.checked_add(8)?;
        let name_len = b.get(name_start..)?.iter().position(|&c| c == 0)?;
        let name = b.get(name_start..name_start + name_len)?;
        if name == b"#Pdb" {
            let id: [u8; 16] = b.get(offset..offset.checked_add(16)?)?.try_into().ok()?;
            return Some(Guid::from_le_bytes(id));
        }
        at = name_start.checked_add((name_len + 4) & !3)?;
    }
    None
}

fn read_portable_pdb(bytes: &[u8], file_name: Option<&str>) -> Result<FileInfo, IdentError> {
    let guid = portable_pdb_id(bytes).ok_or_else(|| corrupt("portable PDB", "no readable #Pdb stream"))?;
    let name = file_name.ok_or_else(|| corrupt("portable PDB", "a PDB does not record its own file name; pass it"))?;
    let identities = vec![identity(FileKind::PortablePdb, name, Identity::PortableGuid { guid })?];
    Ok(FileInfo { format: Magic::PortablePdb, image_name: None, details: BTreeMap::new(), identities, notes: Vec::new() })
}

/// Expands a single-file cabinet (`.pd_`, `.ex_`, `.dl_`; MSZIP or LZX).
/// Returns the name stored inside and the bytes. Refuses files whose declared
/// size exceeds [`MAX_CAB_OUTPUT`] before allocating, and output that does not
/// match the declared size.
pub fn decompress_cab(bytes: &[u8]) -> Result<(String, Vec<u8>), IdentError> {
    decompress_cab_with_limit(bytes, MAX_CAB_OUTPUT)
}

/// [`decompress_cab`] with a caller's limit on the expanded size (an edge
/// worker has 128 MB for everything), checked before allocating.
pub fn decompress_cab_with_limit(bytes: &[u8], limit: u64) -> Result<(String, Vec<u8>), IdentError> {
    check_cab_layout(bytes)?;
    let mut cab = cab::Cabinet::new(Cursor::new(bytes)).map_err(|e| corrupt("CAB", e))?;
    let (name, size) = {
        let mut files = cab.folder_entries().flat_map(|f| f.file_entries());
        let first = files.next().ok_or_else(|| corrupt("CAB", "the cabinet holds no file"))?;
        (first.name().to_string(), u64::from(first.uncompressed_size()))
    };
    if size > limit {
        return Err(IdentError::TooLarge { what: "the compressed file's content", size, limit });
    }
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    cab.read_file(&name).map_err(|e| corrupt("CAB", e))?.read_to_end(&mut out).map_err(|e| corrupt("CAB", e))?;
    if out.len() as u64 != size {
        return Err(corrupt("CAB", format!("expanded to {} bytes, the header says {size}", out.len())));
    }
    Ok((name, out))
}

fn le_u8(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

/// Checks the cabinet's structure before the `cab` crate reads it: every
/// folder's data blocks lie inside the bytes, and every file lies inside its
/// folder's expanded data. (The crate indexes its block list without bounds
/// checks on such input; found by fuzzing.)
fn check_cab_layout(b: &[u8]) -> Result<(), IdentError> {
    let bad = |what: &str| corrupt("CAB", what);
    let header = || -> Option<(usize, usize, usize, usize, usize, usize)> {
        let coff_files = usize::try_from(le_u32(b, 16)?).ok()?;
        let folders = usize::from(le_u16(b, 26)?);
        let files = usize::from(le_u16(b, 28)?);
        let flags = le_u16(b, 30)?;
        let (mut at, mut folder_reserve, mut data_reserve) = (36usize, 0usize, 0usize);
        if flags & 0x0004 != 0 {
            let header_reserve = usize::from(le_u16(b, 36)?);
            folder_reserve = usize::from(le_u8(b, 38)?);
            data_reserve = usize::from(le_u8(b, 39)?);
            at = 40usize.checked_add(header_reserve)?;
        }
        if flags & 0x0003 != 0 {
            return None; // spans a previous or next cabinet: not a standalone .pd_
        }
        Some((coff_files, folders, files, at, folder_reserve, data_reserve))
    };
    let (coff_files, folders, files, mut at, folder_reserve, data_reserve) =
        header().ok_or_else(|| bad("truncated or multi-cabinet header"))?;
    if folders == 0 || files == 0 {
        return Err(bad("no folder or no file"));
    }
    let mut expanded = Vec::with_capacity(folders.min(64));
    for _ in 0..folders {
        let start = usize::try_from(le_u32(b, at).ok_or_else(|| bad("truncated folder table"))?).unwrap_or(usize::MAX);
        let blocks = usize::from(le_u16(b, at + 4).ok_or_else(|| bad("truncated folder table"))?);
        let compression = le_u16(b, at + 6).ok_or_else(|| bad("truncated folder table"))? & 0x000f;
        if !matches!(compression, 0 | 1 | 3) {
            return Err(IdentError::Unsupported("a cabinet compressed with Quantum or an unknown method (MSZIP and LZX are supported)"));
        }
        at = at.checked_add(8 + folder_reserve).ok_or_else(|| bad("folder table"))?;
        let mut pos = start;
        let mut total = 0u64;
        for _ in 0..blocks {
            let packed = le_u16(b, pos.saturating_add(4)).ok_or_else(|| bad("data block outside the file"))?;
            let unpacked = le_u16(b, pos.saturating_add(6)).ok_or_else(|| bad("data block outside the file"))?;
            // CAB blocks expand to at most 32 KiB; stored blocks are as long as they expand.
            if unpacked > 0x8000 || (compression == 0 && packed != unpacked) {
                return Err(bad("data block sizes contradict the compression method"));
            }
            pos = pos
                .checked_add(8 + data_reserve + usize::from(packed))
                .filter(|&p| p <= b.len())
                .ok_or_else(|| bad("data block outside the file"))?;
            total += u64::from(unpacked);
        }
        expanded.push(total);
    }
    let mut at = coff_files;
    for _ in 0..files {
        let size = u64::from(le_u32(b, at).ok_or_else(|| bad("truncated file table"))?);
        let offset = u64::from(le_u32(b, at + 4).ok_or_else(|| bad("truncated file table"))?);
        let folder = usize::from(le_u16(b, at + 8).ok_or_else(|| bad("truncated file table"))?);
        let name_len = b.get(at + 16..).and_then(|r| r.iter().position(|&c| c == 0)).ok_or_else(|| bad("truncated file name"))?;
        at += 16 + name_len + 1;
        let avail = expanded.get(folder).copied().ok_or_else(|| bad("file in a folder that does not exist"))?;
        // Sizes above the output limit are reported as TooLarge by the caller.
        if size <= MAX_CAB_OUTPUT && offset.saturating_add(size) > avail {
            return Err(bad("file extends past its folder's data"));
        }
    }
    Ok(())
}
