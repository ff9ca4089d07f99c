//! File identities: what identifies a file in a symbol store (spec §9).
//!
//! Identities are types, never loose strings: a [`Guid`] prints in the
//! Data1/Data2/Data3 little-endian-decoded order (R71), a PE identity is a
//! timestamp and a SizeOfImage (R67), and so on. [`IdentityInput`] builds an
//! identity from user text (CLI flags, the web page, JS), accepting decimal or
//! `0x` hex numbers, registry-format GUIDs and Breakpad debug/code ids.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A GUID as Windows prints it: `{Data1-Data2-Data3-Data4[0..2]-Data4[2..8]}`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid {
    /// First field (stored little-endian on disk).
    pub data1: u32,
    /// Second field (stored little-endian on disk).
    pub data2: u16,
    /// Third field (stored little-endian on disk).
    pub data3: u16,
    /// Last eight bytes, in order.
    pub data4: [u8; 8],
}

/// Why text could not be read as an identity value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// A GUID that is not 32 hex digits (with optional dashes and braces).
    #[error("invalid GUID {0:?}: expected 32 hex digits such as {{0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE}}")]
    BadGuid(String),
    /// A number that does not parse.
    #[error("invalid {field} {value:?}: expected a decimal number or 0x-prefixed hex")]
    BadNumber {
        /// Which field.
        field: &'static str,
        /// The text given.
        value: String,
    },
    /// Hex bytes that do not parse.
    #[error("invalid {field} {value:?}: expected an even number of hex digits")]
    BadHex {
        /// Which field.
        field: &'static str,
        /// The text given.
        value: String,
    },
    /// A field the kind needs is missing.
    #[error("a {kind} identity needs `{field}`")]
    Missing {
        /// The file kind.
        kind: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// An unknown file kind.
    #[error("unknown file kind {0:?}; known kinds: {known}", known = FileKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))]
    UnknownKind(String),
    /// A Breakpad debug id that does not parse.
    #[error("invalid debug id {0:?}: expected 33+ hex digits like 3249D99D0C4049318610F4E4FB0B69361 or a hyphenated form")]
    BadDebugId(String),
    /// A PE code id that does not parse.
    #[error("invalid PE code id {0:?}: expected 8 hex digits of TimeDateStamp followed by SizeOfImage in hex")]
    BadCodeId(String),
    /// A length out of range.
    #[error("{field} has {len} bytes; {expected}")]
    BadLength {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// What is allowed.
        expected: &'static str,
    },
}

impl Guid {
    /// From the 16 bytes as stored on disk (RSDS record, PDB info stream): the
    /// first three fields little-endian (R71).
    pub fn from_le_bytes(b: [u8; 16]) -> Guid {
        let [a0, a1, a2, a3, b0, b1, c0, c1, d0, d1, d2, d3, d4, d5, d6, d7] = b;
        Guid {
            data1: u32::from_le_bytes([a0, a1, a2, a3]),
            data2: u16::from_le_bytes([b0, b1]),
            data3: u16::from_le_bytes([c0, c1]),
            data4: [d0, d1, d2, d3, d4, d5, d6, d7],
        }
    }

    /// The 16 bytes as stored on disk.
    pub fn to_le_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        let parts = self.data1.to_le_bytes().into_iter().chain(self.data2.to_le_bytes()).chain(self.data3.to_le_bytes()).chain(self.data4);
        for (o, b) in out.iter_mut().zip(parts) {
            *o = b;
        }
        out
    }

    /// The 16 bytes in printed order (big-endian fields): a UUID's byte order.
    pub fn to_be_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        let parts = self.data1.to_be_bytes().into_iter().chain(self.data2.to_be_bytes()).chain(self.data3.to_be_bytes()).chain(self.data4);
        for (o, b) in out.iter_mut().zip(parts) {
            *o = b;
        }
        out
    }

    /// From 16 bytes in printed order.
    pub fn from_be_bytes(b: [u8; 16]) -> Guid {
        let [a0, a1, a2, a3, b0, b1, c0, c1, d0, d1, d2, d3, d4, d5, d6, d7] = b;
        Guid {
            data1: u32::from_be_bytes([a0, a1, a2, a3]),
            data2: u16::from_be_bytes([b0, b1]),
            data3: u16::from_be_bytes([c0, c1]),
            data4: [d0, d1, d2, d3, d4, d5, d6, d7],
        }
    }

    /// 32 upper-case hex digits, no dashes: the key form (R70).
    pub fn to_key_hex(&self) -> String {
        hex_upper(&self.to_be_bytes())
    }

    /// Whether every byte is zero (Tecken answers 404 for it; R83).
    pub fn is_nil(&self) -> bool {
        self.to_be_bytes() == [0; 16]
    }
}

impl FromStr for Guid {
    type Err = IdentityError;

    /// Accepts `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`, without braces, or 32 bare hex digits.
    fn from_str(s: &str) -> Result<Guid, IdentityError> {
        let bad = || IdentityError::BadGuid(s.to_string());
        let t = s.trim();
        let t = t.strip_prefix('{').and_then(|x| x.strip_suffix('}')).unwrap_or(t);
        let hex: String = t.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || t.len() != 32 && t.len() != 36 {
            return Err(bad());
        }
        if t.len() == 36 && [8, 13, 18, 23].iter().any(|&i| t.as_bytes().get(i) != Some(&b'-')) {
            return Err(bad());
        }
        let bytes = parse_hex(&hex).ok_or_else(bad)?;
        let arr: [u8; 16] = bytes.try_into().map_err(|_| bad())?;
        Ok(Guid::from_be_bytes(arr))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{:08X}-{:04X}-{:04X}-{}-{}",
            self.data1,
            self.data2,
            self.data3,
            hex_upper(d.get(..2).unwrap_or(&[])),
            hex_upper(d.get(2..).unwrap_or(&[]))
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Upper-case hex of bytes.
pub fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// Lower-case hex of bytes.
pub fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Bytes from hex digits (even count, either case); `None` if invalid.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok())).collect()
}

/// Parses a number given as decimal or `0x` hex.
pub fn parse_number(field: &'static str, s: &str) -> Result<u64, IdentityError> {
    let t = s.trim().replace('_', "");
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse::<u64>(),
    };
    r.map_err(|_| IdentityError::BadNumber { field, value: s.to_string() })
}

fn parse_u32(field: &'static str, s: &str) -> Result<u32, IdentityError> {
    u32::try_from(parse_number(field, s)?).map_err(|_| IdentityError::BadNumber { field, value: s.to_string() })
}

fn parse_hex_field(field: &'static str, s: &str) -> Result<Vec<u8>, IdentityError> {
    let t: String = s.trim().trim_start_matches("0x").chars().filter(|c| *c != '-').collect();
    match parse_hex(&t) {
        Some(b) if !b.is_empty() => Ok(b),
        _ => Err(IdentityError::BadHex { field, value: s.to_string() }),
    }
}

/// The kinds of files a symbol store holds (spec §9; the `file_kind` column of `vectors/keys.tsv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// PDB 7.0 (RSDS / MSF 7.00): GUID + age (R70).
    Pdb,
    /// PDB 2.0 (NB10): 32-bit signature + age (R73).
    Pdb20,
    /// PE image (exe/dll/sys/ocx...): TimeDateStamp + SizeOfImage (R67).
    Pe,
    /// `.dbg` file: keyed like its image (R69).
    Dbg,
    /// .NET portable PDB: GUID + `FFFFFFFF` (R74).
    PortablePdb,
    /// MSFZ ("PDZ") PDB container: PDB identity + `msfz0/` segment (R59).
    PdzMsfz,
    /// ELF image by GNU build-id (SSQP, R75).
    ElfCode,
    /// ELF debug file by build-id: `_.debug/elf-buildid-sym-…` (R75).
    ElfDebug,
    /// Mach-O image by UUID (R75).
    MachoCode,
    /// dSYM DWARF by UUID: `_.dwarf/mach-uuid-sym-…` (R75).
    MachoDsym,
    /// Source file by SHA-1 (R75).
    Sha1Source,
    /// ReadyToRun perfmap (R75).
    R2rPerfmap,
    /// WebAssembly module by build_id section (R75).
    Wasm,
    /// CLR-private PE (DAC/DBI/SOS) indexed under coreclr's PE id (R75).
    ClrSpecialPe,
}

impl FileKind {
    /// Every kind.
    pub const ALL: &'static [FileKind] = &[
        FileKind::Pdb,
        FileKind::Pdb20,
        FileKind::Pe,
        FileKind::Dbg,
        FileKind::PortablePdb,
        FileKind::PdzMsfz,
        FileKind::ElfCode,
        FileKind::ElfDebug,
        FileKind::MachoCode,
        FileKind::MachoDsym,
        FileKind::Sha1Source,
        FileKind::R2rPerfmap,
        FileKind::Wasm,
        FileKind::ClrSpecialPe,
    ];

    /// The snake_case name used in the vectors, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Pdb => "pdb",
            FileKind::Pdb20 => "pdb20",
            FileKind::Pe => "pe",
            FileKind::Dbg => "dbg",
            FileKind::PortablePdb => "portable_pdb",
            FileKind::PdzMsfz => "pdz_msfz",
            FileKind::ElfCode => "elf_code",
            FileKind::ElfDebug => "elf_debug",
            FileKind::MachoCode => "macho_code",
            FileKind::MachoDsym => "macho_dsym",
            FileKind::Sha1Source => "sha1_source",
            FileKind::R2rPerfmap => "r2r_perfmap",
            FileKind::Wasm => "wasm",
            FileKind::ClrSpecialPe => "clr_special_pe",
        }
    }

    /// Whether the kind uses the SymStore (symsrv) conventions, as opposed to the SSQP family only.
    pub fn is_symstore(self) -> bool {
        matches!(self, FileKind::Pdb | FileKind::Pdb20 | FileKind::Pe | FileKind::Dbg | FileKind::PortablePdb)
    }
}

impl FromStr for FileKind {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<FileKind, IdentityError> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        FileKind::ALL.iter().copied().find(|k| k.as_str() == norm).ok_or_else(|| IdentityError::UnknownKind(s.to_string()))
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identifying values of a file (what the key's id segment is made of).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Identity {
    /// PDB 7.0 or MSFZ: GUID and age (the DBI age, R72).
    GuidAge {
        /// Signature GUID.
        guid: Guid,
        /// Age.
        age: u32,
    },
    /// PDB 2.0: signature and age (R73).
    SignatureAge {
        /// 32-bit signature.
        signature: u32,
        /// Age.
        age: u32,
    },
    /// PE, .dbg and CLR-private files: TimeDateStamp and SizeOfImage (R67).
    TimestampSize {
        /// COFF TimeDateStamp.
        timestamp: u32,
        /// Optional-header SizeOfImage.
        size_of_image: u32,
    },
    /// Portable PDB: the PDB id GUID (age is always `FFFFFFFF`, R74).
    PortableGuid {
        /// PDB id GUID.
        guid: Guid,
    },
    /// ELF GNU build-id, wasm build_id section, or other raw id bytes.
    BuildId {
        /// The bytes.
        #[serde(serialize_with = "ser_hex")]
        #[cfg_attr(feature = "tsify", tsify(type = "string"))]
        build_id: Vec<u8>,
    },
    /// Mach-O LC_UUID.
    Uuid {
        /// The 16 bytes in printed order.
        #[serde(serialize_with = "ser_hex")]
        #[cfg_attr(feature = "tsify", tsify(type = "string"))]
        uuid: Vec<u8>,
    },
    /// SHA-1 of a source file.
    Sha1 {
        /// 20 bytes.
        #[serde(serialize_with = "ser_hex")]
        #[cfg_attr(feature = "tsify", tsify(type = "string"))]
        sha1: Vec<u8>,
    },
    /// R2R perfmap version and signature.
    Perfmap {
        /// Format version.
        version: u32,
        /// Signature bytes.
        #[serde(serialize_with = "ser_hex")]
        #[cfg_attr(feature = "tsify", tsify(type = "string"))]
        signature: Vec<u8>,
    },
}

fn ser_hex<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex_lower(b))
}

impl Identity {
    /// The Breakpad debug id of a GUID+age identity (`3249D99D…69361`).
    pub fn debug_id(&self) -> Option<debugid::DebugId> {
        match self {
            Identity::GuidAge { guid, age } => debugid::DebugId::from_guid_age(&guid.to_le_bytes(), *age).ok(),
            Identity::PortableGuid { guid } => debugid::DebugId::from_guid_age(&guid.to_le_bytes(), 0).ok(),
            Identity::BuildId { build_id } => {
                let mut b = [0u8; 16];
                for (o, x) in b.iter_mut().zip(build_id.iter()) {
                    *o = *x;
                }
                debugid::DebugId::from_guid_age(&b, 0).ok()
            }
            Identity::Uuid { uuid } => {
                let arr: [u8; 16] = uuid.as_slice().try_into().ok()?;
                debugid::DebugId::from_guid_age(&Guid::from_be_bytes(arr).to_le_bytes(), 0).ok()
            }
            _ => None,
        }
    }

    /// The code id: `TIMESTAMPsize` for PE identities, the build-id / UUID hex otherwise.
    pub fn code_id(&self) -> Option<debugid::CodeId> {
        match self {
            Identity::TimestampSize { timestamp, size_of_image } => Some(debugid::CodeId::new(format!("{timestamp:08X}{size_of_image:x}"))),
            Identity::BuildId { build_id } => Some(debugid::CodeId::from_binary(build_id)),
            Identity::Uuid { uuid } => Some(debugid::CodeId::from_binary(uuid)),
            _ => None,
        }
    }
}

/// Reads a Breakpad debug id (`3249D99D0C4049318610F4E4FB0B69361`, or
/// hyphenated `3249d99d-0c40-4931-8610-f4e4fb0b6936-1`) into GUID and age.
pub fn guid_age_from_debug_id(s: &str) -> Result<(Guid, u32), IdentityError> {
    let id = debugid::DebugId::from_str(s.trim()).map_err(|_| IdentityError::BadDebugId(s.to_string()))?;
    let bytes: [u8; 16] = *id.uuid().as_bytes();
    Ok((Guid::from_be_bytes(bytes), id.appendix()))
}

/// Reads a PE code id (`63E6C7F78000`: 8 hex digits of TimeDateStamp, then SizeOfImage).
pub fn pe_from_code_id(s: &str) -> Result<(u32, u32), IdentityError> {
    let t = s.trim();
    let bad = || IdentityError::BadCodeId(s.to_string());
    if t.len() < 9 || t.len() > 16 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let (ts, size) = t.split_at(8);
    Ok((u32::from_str_radix(ts, 16).map_err(|_| bad())?, u32::from_str_radix(size, 16).map_err(|_| bad())?))
}

/// Identity fields as text, the way users give them (CLI flags, web forms, JS objects).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(default, rename_all = "snake_case")]
pub struct IdentityInput {
    /// File name as recorded (a path is reduced to its basename).
    pub name: String,
    /// GUID (pdb, portable_pdb, pdz_msfz).
    pub guid: Option<String>,
    /// Age (pdb, pdb20, pdz_msfz).
    pub age: Option<String>,
    /// Signature (pdb20: a number; r2r_perfmap: hex).
    pub signature: Option<String>,
    /// TimeDateStamp (pe, dbg, clr_special_pe).
    pub timestamp: Option<String>,
    /// SizeOfImage (pe, dbg, clr_special_pe).
    pub size_of_image: Option<String>,
    /// Build id hex (elf_code, elf_debug, wasm).
    pub build_id: Option<String>,
    /// UUID (macho_code, macho_dsym).
    pub uuid: Option<String>,
    /// SHA-1 hex (sha1_source).
    pub sha1: Option<String>,
    /// Version (r2r_perfmap).
    pub version: Option<String>,
    /// Breakpad debug id instead of GUID + age.
    pub debug_id: Option<String>,
    /// Code id instead of timestamp + size (PE) or build-id/UUID.
    pub code_id: Option<String>,
}

impl IdentityInput {
    /// Builds the identity of a file of `kind`.
    pub fn identity(&self, kind: FileKind) -> Result<Identity, IdentityError> {
        let k = kind.as_str();
        let need = |v: &Option<String>, field: &'static str| v.clone().ok_or(IdentityError::Missing { kind: k, field });
        match kind {
            FileKind::Pdb | FileKind::PdzMsfz => {
                if let Some(d) = &self.debug_id {
                    let (guid, age) = guid_age_from_debug_id(d)?;
                    return Ok(Identity::GuidAge { guid, age });
                }
                let guid: Guid = need(&self.guid, "guid")?.parse()?;
                Ok(Identity::GuidAge { guid, age: parse_u32("age", &need(&self.age, "age")?)? })
            }
            FileKind::PortablePdb => {
                let guid = match (&self.guid, &self.debug_id) {
                    (Some(g), _) => g.parse()?,
                    (None, Some(d)) => guid_age_from_debug_id(d)?.0,
                    (None, None) => return Err(IdentityError::Missing { kind: k, field: "guid" }),
                };
                Ok(Identity::PortableGuid { guid })
            }
            FileKind::Pdb20 => Ok(Identity::SignatureAge {
                signature: parse_u32("signature", &need(&self.signature, "signature")?)?,
                age: parse_u32("age", &need(&self.age, "age")?)?,
            }),
            FileKind::Pe | FileKind::Dbg | FileKind::ClrSpecialPe => {
                if let Some(c) = &self.code_id {
                    let (timestamp, size_of_image) = pe_from_code_id(c)?;
                    return Ok(Identity::TimestampSize { timestamp, size_of_image });
                }
                Ok(Identity::TimestampSize {
                    timestamp: parse_u32("timestamp", &need(&self.timestamp, "timestamp")?)?,
                    size_of_image: parse_u32("size-of-image", &need(&self.size_of_image, "size-of-image")?)?,
                })
            }
            FileKind::ElfCode | FileKind::ElfDebug | FileKind::Wasm => {
                let src = self.build_id.as_ref().or(self.code_id.as_ref()).ok_or(IdentityError::Missing { kind: k, field: "build-id" })?;
                Ok(Identity::BuildId { build_id: parse_hex_field("build-id", src)? })
            }
            FileKind::MachoCode | FileKind::MachoDsym => {
                let src = self.uuid.as_ref().or(self.code_id.as_ref()).ok_or(IdentityError::Missing { kind: k, field: "uuid" })?;
                let uuid = parse_hex_field("uuid", src)?;
                if uuid.len() != 16 {
                    return Err(IdentityError::BadLength { field: "uuid", len: uuid.len(), expected: "a Mach-O UUID has 16" });
                }
                Ok(Identity::Uuid { uuid })
            }
            FileKind::Sha1Source => {
                let sha1 = parse_hex_field("sha1", &need(&self.sha1, "sha1")?)?;
                if sha1.len() != 20 {
                    return Err(IdentityError::BadLength { field: "sha1", len: sha1.len(), expected: "a SHA-1 has 20" });
                }
                Ok(Identity::Sha1 { sha1 })
            }
            FileKind::R2rPerfmap => Ok(Identity::Perfmap {
                version: parse_u32("version", &need(&self.version, "version")?)?,
                signature: parse_hex_field("signature", &need(&self.signature, "signature")?)?,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r70_r71_guid_prints_fields_not_disk_bytes() {
        let g: Guid = "{0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE}".parse().unwrap();
        assert_eq!(g.to_key_hex(), "0F7FCF88442F4B0E9FB51DC4A754D9DE");
        assert_eq!(g.to_string(), "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE");
        let disk = g.to_le_bytes();
        assert_eq!(&disk[..4], &[0x88, 0xCF, 0x7F, 0x0F]);
        assert_eq!(Guid::from_le_bytes(disk), g);
        assert_eq!("0f7fcf88442f4b0e9fb51dc4a754d9de".parse::<Guid>().unwrap(), g);
        assert!("0F7FCF88-442F-4B0E-9FB5".parse::<Guid>().is_err());
        assert!("0F7FCF8-8442F-4B0E-9FB5-1DC4A754D9DE".parse::<Guid>().is_err());
    }

    #[test]
    fn debug_id_round_trip() {
        let (g, age) = guid_age_from_debug_id("3249D99D0C4049318610F4E4FB0B69361").unwrap();
        assert_eq!(g.to_string(), "3249D99D-0C40-4931-8610-F4E4FB0B6936");
        assert_eq!(age, 1);
        let (g2, age2) = guid_age_from_debug_id("3249d99d-0c40-4931-8610-f4e4fb0b6936-a").unwrap();
        assert_eq!((g2, age2), (g, 10));
        let id = Identity::GuidAge { guid: g, age: 0x10 }.debug_id().unwrap();
        assert_eq!(id.breakpad().to_string(), "3249D99D0C4049318610F4E4FB0B693610");
        assert!(guid_age_from_debug_id("xyz").is_err());
    }

    #[test]
    fn pe_code_id() {
        assert_eq!(pe_from_code_id("63E6C7F78000").unwrap(), (0x63E6C7F7, 0x8000));
        assert!(pe_from_code_id("63E6C7F7").is_err());
        let id = Identity::TimestampSize { timestamp: 0x0001F2A3, size_of_image: 0x600 };
        assert_eq!(id.code_id().unwrap().as_str(), "0001f2a3600");
    }

    #[test]
    fn numbers_are_decimal_or_0x_hex() {
        assert_eq!(parse_number("age", "10").unwrap(), 10);
        assert_eq!(parse_number("age", "0x10").unwrap(), 16);
        assert!(parse_number("age", "1A").is_err());
        let input = IdentityInput { name: "a.pdb".into(), guid: Some("x".into()), age: Some("1".into()), ..Default::default() };
        assert!(matches!(input.identity(FileKind::Pdb), Err(IdentityError::BadGuid(_))));
        let input = IdentityInput { name: "a.pdb".into(), ..Default::default() };
        assert_eq!(input.identity(FileKind::Pdb), Err(IdentityError::Missing { kind: "pdb", field: "guid" }));
    }

    #[test]
    fn elf_breakpad_debug_id_is_first_16_build_id_bytes_as_le_guid() {
        // K71: libm-2.23.so, breakpad id E45DB8DFAF2D09FD640C8FE377D572DE0.
        let id = Identity::BuildId { build_id: parse_hex("dfb85de42daffd09640c8fe377d572de3e168920").unwrap() };
        assert_eq!(id.debug_id().unwrap().breakpad().to_string(), "E45DB8DFAF2D09FD640C8FE377D572DE0");
    }
}
