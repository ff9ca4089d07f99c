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

/// A PE image's identity from its first bytes: the COFF header's
/// `TimeDateStamp` and the optional header's `SizeOfImage` (R67), when the
/// headers lie within `bytes`. `None`: not a PE image, or its headers lie
/// further in (a DOS stub over the bytes read).
pub fn pe_identity(bytes: &[u8]) -> Option<(u32, u32)> {
    let u32_at = |at: usize| -> Option<u32> { Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?)) };
    if !bytes.starts_with(b"MZ") {
        return None;
    }
    let pe = usize::try_from(u32_at(0x3c)?).ok()?;
    if bytes.get(pe..pe.checked_add(4)?)? != b"PE\0\0" {
        return None;
    }
    let timestamp = u32_at(pe.checked_add(8)?)?;
    // The optional header follows the 20-byte COFF header; SizeOfImage is at
    // offset 56 in PE32 and PE32+ alike.
    let size_of_image = u32_at(pe.checked_add(24 + 56)?)?;
    Some((timestamp, size_of_image))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r67_a_pe_images_identity_is_read_from_its_first_bytes() {
        let exe = include_bytes!("../../../tests/data/store/ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe");
        let first = exe.get(..crate::lookup::SNIFF_BYTES).unwrap_or(exe);
        assert_eq!(pe_identity(first), Some((0x63E6_C7F7, 0x8000)), "the key's id is 63E6C7F78000");
        assert_eq!(pe_identity(b"MZ"), None, "headers out of reach");
        assert_eq!(pe_identity(b"Microsoft C/C++ MSF 7.00\r\n"), None);
        let mut stub = exe.get(..0x40).unwrap_or(exe).to_vec();
        stub.resize(0x200, 0);
        assert_eq!(pe_identity(&stub), None, "no PE header where e_lfanew points");
    }
}
