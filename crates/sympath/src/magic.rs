//! What a file is, by its first bytes (spec R61, R62, R89).
//!
//! The lookup engine ([`crate::lookup`]) judges every answer a store gives by
//! these bytes: a soft 404 (an HTML page, R89), an empty body (R62), a
//! cabinet where a plain file was asked for, or a symbol file.

use serde::Serialize;

/// What a file is, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Magic {
    /// `MZ`: a PE image (or a DOS program).
    Pe,
    /// `Microsoft C/C++ MSF 7.00`: a PDB 7.0.
    Pdb,
    /// `Microsoft C/C++ program database 2.00`: a PDB 2.0.
    Pdb20,
    /// `Microsoft MSFZ Container`: a compressed PDB container (R59).
    Msfz,
    /// `\x7fELF`.
    Elf,
    /// Mach-O, thin or fat.
    MachO,
    /// `BSJB`: ECMA-335 metadata (a portable PDB).
    PortablePdb,
    /// `MSCF`: a Microsoft Cabinet (`.pd_`, `.dl_`, `.ex_`).
    Cab,
    /// `<…`: an HTML (or XML) page — a soft 404 (R89).
    Html,
    /// Zero bytes (R62).
    Empty,
    /// Anything else.
    Unknown,
}

impl Magic {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Magic::Pe => "pe",
            Magic::Pdb => "pdb",
            Magic::Pdb20 => "pdb20",
            Magic::Msfz => "msfz",
            Magic::Elf => "elf",
            Magic::MachO => "macho",
            Magic::PortablePdb => "portable_pdb",
            Magic::Cab => "cab",
            Magic::Html => "html",
            Magic::Empty => "empty",
            Magic::Unknown => "unknown",
        }
    }

    /// Whether this could be a symbol file or image a store serves (not HTML, not empty, not unknown).
    pub fn is_symbol_file(self) -> bool {
        !matches!(self, Magic::Html | Magic::Empty | Magic::Unknown)
    }
}

/// Identifies a file by its first bytes; cheap (looks at ≤ 32 bytes, plus leading whitespace for HTML).
pub fn sniff(bytes: &[u8]) -> Magic {
    let starts = |p: &[u8]| bytes.starts_with(p);
    if bytes.is_empty() {
        Magic::Empty
    } else if starts(b"MZ") {
        Magic::Pe
    } else if starts(b"Microsoft C/C++ MSF 7.00\r\n\x1aDS") {
        Magic::Pdb
    } else if starts(b"Microsoft C/C++ program database 2.00") {
        Magic::Pdb20
    } else if starts(b"Microsoft MSFZ Container") {
        Magic::Msfz
    } else if starts(b"\x7fELF") {
        Magic::Elf
    } else if starts(b"BSJB") {
        Magic::PortablePdb
    } else if starts(b"MSCF") {
        Magic::Cab
    } else if [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xcf, 0xfa, 0xed, 0xfe],
        [0xca, 0xfe, 0xba, 0xbe],
    ]
    .iter()
    .any(|m| starts(m))
    {
        Magic::MachO
    } else if bytes.iter().take(512).find(|b| !b.is_ascii_whitespace() && **b != 0xef && **b != 0xbb && **b != 0xbf) == Some(&b'<') {
        Magic::Html
    } else {
        Magic::Unknown
    }
}
