//! A module's C13 line data, checked before the `pdb` crate parses it.
//!
//! The `pdb` crate (0.8) trusts the sizes in a module stream: it cuts the
//! C13 bytes out of the stream with the DBI module info's sizes
//! (`modi/mod.rs`, a slice that panics when they pass the stream's end), and
//! splits each `DEBUG_S_LINES` block at `num_lines` entries
//! (`modi/c13.rs:561`/`:562`, `split_at`s that panic when the block's
//! `block_size` holds fewer line or column entries than `num_lines` says, in
//! release and wasm builds too; `:565` asserts in debug builds that nothing
//! is left over). Here the same bytes are walked the way the crate walks
//! them, and a module whose line data would trip it is refused with the
//! reason: its frames keep their function names but get no `file:line`.
//!
//! The layout (LLVM's `DebugSubsectionRecord`, `DebugLinesSubsection`):
//! subsections of `u32 kind, u32 length` and `length` bytes, lengths a
//! multiple of 4 in a PDB. A `DEBUG_S_LINES` (0xF2) subsection is a 12-byte
//! header (`u32 offset, u16 segment, u16 flags, u32 code size`; flag bit 0:
//! columns present), then blocks: `u32 file, u32 num_lines, u32 block_size`,
//! where `block_size` is the 12-byte block header plus `num_lines` 8-byte
//! line entries plus, with columns, `num_lines` 4-byte column entries.

use crate::msf::{u16_at, u32_at};

/// The `DEBUG_S_LINES` subsection kind.
const DEBUG_S_LINES: u32 = 0xF2;
/// `CV_LINES_HAVE_COLUMNS`: the lines subsection's blocks have column entries.
const HAVE_COLUMNS: u16 = 1;
/// Bytes of the DBI stream header (the module info substream follows it).
const DBI_HEADER: usize = 64;
/// Bytes of a module info entry before its two names.
const MODULE_INFO: usize = 64;

/// What the DBI stream's module info says about one module's stream: its
/// number and the sizes the `pdb` crate cuts it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModuleEntry {
    /// The module stream's number (`u16::MAX`: none).
    pub stream: u16,
    /// Bytes of symbols at the start of the stream.
    pub symbols: u32,
    /// Bytes of C11 line data after them.
    pub c11: u32,
    /// Bytes of C13 line data after those.
    pub c13: u32,
}

/// Entry `index` of the module info substream of `dbi` (the DBI stream's
/// bytes), found the way the `pdb` crate's `modules().nth(index)` finds it:
/// 64 bytes, two NUL-terminated names, padding to 4 bytes. `None` where the
/// crate finds no module either.
pub(crate) fn module_entry(dbi: &[u8], index: usize) -> Option<ModuleEntry> {
    let size = usize::try_from(u32_at(dbi, 24)?).ok()?;
    let list = dbi.get(DBI_HEADER..DBI_HEADER.checked_add(size)?)?;
    let mut at = 0usize;
    for i in 0..=index {
        let fixed = list.get(at..at.checked_add(MODULE_INFO)?)?;
        let mut end = at + MODULE_INFO;
        for _name in 0..2 {
            end += list.get(end..)?.iter().position(|&b| b == 0)? + 1;
        }
        let padded = end.next_multiple_of(4);
        if padded > list.len() {
            return None;
        }
        if i == index {
            return Some(ModuleEntry {
                stream: u16_at(fixed, 34)?,
                symbols: u32_at(fixed, 36)?,
                c11: u32_at(fixed, 40)?,
                c13: u32_at(fixed, 44)?,
            });
        }
        at = padded;
        if at >= list.len() {
            return None;
        }
    }
    None
}

/// What of a module's line data the `pdb` crate may be asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineCheck {
    /// `Ok`: its line program, lines and file names; `Err`: why not.
    pub lines: Result<(), String>,
    /// Its inlinees (their bytes are in the stream).
    pub inlinees: bool,
}

/// Checks the line data of the module stream `stream` that `entry` describes.
pub(crate) fn check_module(entry: &ModuleEntry, stream: &[u8]) -> LineCheck {
    // With C11 lines the crate reads no C13 bytes (it refuses C11 line programs itself).
    if entry.c11 > 0 {
        return LineCheck { lines: Ok(()), inlinees: true };
    }
    let (start, size) = (entry.symbols as usize, entry.c13 as usize);
    let Some(c13) = start.checked_add(size).and_then(|end| stream.get(start..end)) else {
        return LineCheck {
            lines: Err(format!(
                "its {size} bytes of C13 line data after {start} bytes of symbols pass the end of its {}-byte stream",
                stream.len()
            )),
            inlinees: false,
        };
    };
    LineCheck { lines: check(c13), inlinees: true }
}

/// Walks C13 debug subsections as the `pdb` crate does (one after another,
/// no padding between them) and checks every `DEBUG_S_LINES` subsection's
/// blocks: each must fit and its sizes must add up exactly.
pub(crate) fn check(c13: &[u8]) -> Result<(), String> {
    let mut at = 0usize;
    let mut index = 0usize;
    while let Some(rest) = c13.get(at..).filter(|r| !r.is_empty()) {
        let (Some(kind), Some(len)) = (u32_at(rest, 0), u32_at(rest, 4)) else {
            return Err(format!("C13 subsection {index} at byte {at}: its 8-byte header is cut short ({} bytes left)", rest.len()));
        };
        let body = rest.get(8..).unwrap_or_default();
        let Some(data) = body.get(..len as usize) else {
            return Err(format!("C13 subsection {index} (kind {kind:#x}) at byte {at} says {len} bytes, but {} are left", body.len()));
        };
        if len % 4 != 0 {
            return Err(format!("C13 subsection {index} (kind {kind:#x}) at byte {at} is {len} bytes long, not a multiple of 4"));
        }
        if kind == DEBUG_S_LINES {
            check_lines(data).map_err(|e| format!("the DEBUG_S_LINES subsection at byte {at} of the C13 data: {e}"))?;
        }
        at += 8 + data.len();
        index += 1;
    }
    Ok(())
}

/// One `DEBUG_S_LINES` subsection (after its subsection header).
fn check_lines(data: &[u8]) -> Result<(), String> {
    let (Some(offset), Some(section), Some(flags), Some(code_size)) = (u32_at(data, 0), u16_at(data, 4), u16_at(data, 6), u32_at(data, 8))
    else {
        return Err(format!("it is {} bytes, shorter than its 12-byte header", data.len()));
    };
    if offset.checked_add(code_size).is_none() {
        return Err(format!("its code {section:#x}:{offset:#x} of {code_size:#x} bytes passes the end of the address space"));
    }
    let columns = flags & HAVE_COLUMNS != 0;
    let entry: u64 = if columns { 12 } else { 8 };
    let mut at = 12usize;
    let mut block = 0usize;
    while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
        let (Some(file), Some(lines), Some(size)) = (u32_at(rest, 0), u32_at(rest, 4), u32_at(rest, 8)) else {
            return Err(format!("line block {block} at byte {at}: its 12-byte header is cut short ({} bytes left)", rest.len()));
        };
        let need = 12 + u64::from(lines) * entry;
        if u64::from(size) != need {
            let with = if columns { " with columns" } else { "" };
            return Err(format!(
                "line block {block} at byte {at} (file {file:#x}) says {lines} lines{with}, {need} bytes with its header, but its size is {size} bytes"
            ));
        }
        let Some(block_bytes) = rest.get(..size as usize) else {
            return Err(format!(
                "line block {block} at byte {at} (file {file:#x}) is {size} bytes long, but {} bytes are left",
                rest.len()
            ));
        };
        // The crate adds each line's offset to the subsection's.
        for line in 0..lines as usize {
            let line_offset = u32_at(block_bytes, 12 + 8 * line).unwrap_or(0);
            if offset.checked_add(line_offset).is_none() {
                return Err(format!("line {line} of block {block} at byte {at}: its code offset {offset:#x} + {line_offset:#x} overflows"));
            }
        }
        at += block_bytes.len();
        block += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use pdb::FallibleIterator;

    use super::*;

    /// A `DEBUG_S_LINES` subsection (with its subsection header) whose one
    /// block says `num_lines` lines and is `block_size` bytes long, holding
    /// `entries` line entries (and, with `columns`, as many column entries).
    fn lines(columns: bool, num_lines: u32, block_size: u32, entries: u32) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&0x10u32.to_le_bytes()); // offset
        body.extend_from_slice(&1u16.to_le_bytes()); // segment
        body.extend_from_slice(&u16::from(columns).to_le_bytes()); // flags
        body.extend_from_slice(&0x40u32.to_le_bytes()); // code size
        body.extend_from_slice(&0u32.to_le_bytes()); // file
        body.extend_from_slice(&num_lines.to_le_bytes());
        body.extend_from_slice(&block_size.to_le_bytes());
        for i in 0..entries {
            body.extend_from_slice(&(i * 4).to_le_bytes());
            body.extend_from_slice(&(0x8000_0000u32 | (10 + i)).to_le_bytes());
        }
        if columns {
            for _ in 0..entries {
                body.extend_from_slice(&[1, 0, 2, 0]);
            }
        }
        subsection(DEBUG_S_LINES, &body)
    }

    fn subsection(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut out = kind.to_le_bytes().to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn whole_line_blocks_pass() {
        assert_eq!(check(&lines(false, 3, 12 + 3 * 8, 3)), Ok(()));
        assert_eq!(check(&lines(true, 3, 12 + 3 * 12, 3)), Ok(()));
        assert_eq!(check(&lines(false, 0, 12, 0)), Ok(()));
        // Other subsections are stepped over; an empty C13 part is fine.
        let mut two = subsection(0xF4, &[0; 8]);
        two.extend(lines(false, 1, 20, 1));
        assert_eq!(check(&two), Ok(()));
        assert_eq!(check(&[]), Ok(()));
    }

    #[test]
    fn more_lines_than_the_block_holds_is_damage() {
        // The pdb crate would split_at 5 * 8 bytes of a 16-byte block (c13.rs:561).
        let e = check(&lines(false, 5, 12 + 2 * 8, 2)).unwrap_err();
        assert!(e.contains("says 5 lines, 52 bytes with its header, but its size is 28 bytes"), "{e}");
        assert!(e.starts_with("the DEBUG_S_LINES subsection at byte 0 of the C13 data: line block 0 at byte 12 (file 0x0)"), "{e}");
    }

    #[test]
    fn a_columns_flag_without_room_for_columns_is_damage() {
        // Room for the lines only: the crate's column split_at (c13.rs:562) would pass the end.
        let mut bytes = lines(false, 2, 12 + 2 * 8, 2);
        bytes[8 + 6] = 1;
        let e = check(&bytes).unwrap_err();
        assert!(e.contains("says 2 lines with columns, 36 bytes with its header, but its size is 28 bytes"), "{e}");
    }

    #[test]
    fn bytes_left_over_or_missing_are_damage() {
        // Sizes that add up, but the block passes the subsection's end.
        let mut bytes = lines(false, 2, 12 + 2 * 8, 2);
        bytes[4..8].copy_from_slice(&(12 + 12 + 8u32).to_le_bytes());
        bytes.truncate(8 + 12 + 12 + 8);
        assert!(check(&bytes).unwrap_err().contains("is 28 bytes long, but 20 bytes are left"));
        // More bytes than the lines need (the crate's debug_assert at c13.rs:565).
        let e = check(&lines(false, 1, 12 + 2 * 8, 2)).unwrap_err();
        assert!(e.contains("says 1 lines, 20 bytes with its header, but its size is 28 bytes"), "{e}");
        // A block size below its own header (the crate's `block_size - 12`).
        assert!(check(&lines(false, 0, 4, 0)).unwrap_err().contains("its size is 4 bytes"));
        // A block header cut short, a subsection header cut short.
        let mut short = lines(false, 0, 12, 0);
        short.extend_from_slice(&[0; 4]);
        short[4..8].copy_from_slice(&28u32.to_le_bytes());
        assert!(check(&short).unwrap_err().contains("line block 1 at byte 24: its 12-byte header is cut short (4 bytes left)"));
        let e = check(&subsection(DEBUG_S_LINES, &[0; 8])).unwrap_err();
        assert!(e.contains("it is 8 bytes, shorter than its 12-byte header"), "{e}");
        assert!(check(&[0xF2, 0, 0]).unwrap_err().contains("its 8-byte header is cut short (3 bytes left)"));
        // A subsection longer than what is left, or not a multiple of 4 long.
        let mut long = lines(false, 0, 12, 0);
        long[4..8].copy_from_slice(&100u32.to_le_bytes());
        assert!(check(&long).unwrap_err().contains("says 100 bytes, but 24 are left"));
        assert!(check(&subsection(0xF4, &[0; 6])).unwrap_err().contains("is 6 bytes long, not a multiple of 4"));
    }

    #[test]
    fn offsets_past_the_address_space_are_damage() {
        let mut bytes = lines(false, 1, 20, 1);
        bytes[8..12].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert!(check(&bytes).unwrap_err().contains("passes the end of the address space"));
        let mut bytes = lines(false, 1, 20, 1);
        bytes[8 + 8..8 + 12].copy_from_slice(&0u32.to_le_bytes()); // code size 0
        bytes[8 + 24..8 + 28].copy_from_slice(&0xFFFF_FFF8u32.to_le_bytes());
        assert!(check(&bytes).unwrap_err().contains("line 0 of block 0 at byte 12: its code offset 0x10 + 0xfffffff8 overflows"));
    }

    #[test]
    fn c13_bytes_past_the_stream_are_refused_and_c11_is_left_to_the_crate() {
        let data = lines(false, 1, 20, 1);
        let mut stream = vec![0u8; 16];
        stream.extend_from_slice(&data);
        let entry = ModuleEntry { stream: 7, symbols: 16, c11: 0, c13: data.len() as u32 };
        assert_eq!(check_module(&entry, &stream), LineCheck { lines: Ok(()), inlinees: true });
        let long = ModuleEntry { c13: data.len() as u32 + 4, ..entry };
        let refused = check_module(&long, &stream);
        assert!(!refused.inlinees);
        assert_eq!(refused.lines, Err("its 44 bytes of C13 line data after 16 bytes of symbols pass the end of its 56-byte stream".into()));
        let huge = ModuleEntry { symbols: u32::MAX, c13: u32::MAX, ..entry };
        assert!(check_module(&huge, &stream).lines.is_err());
        assert_eq!(check_module(&ModuleEntry { c11: 8, ..long }, &stream).lines, Ok(()));
    }

    #[test]
    fn module_entries_are_found_as_the_pdb_crate_finds_them() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/store/ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb"
        );
        let bytes = std::fs::read(path).unwrap();
        let mut pdb = pdb::PDB::open(std::io::Cursor::new(bytes.clone())).unwrap();
        let dbi_bytes = pdb.raw_stream(pdb::StreamIndex(3)).unwrap().unwrap().to_vec();
        let dbi = pdb.debug_information().unwrap();
        let mut modules = dbi.modules().unwrap().enumerate();
        let mut n = 0;
        while let Some((i, m)) = modules.next().unwrap() {
            let entry = module_entry(&dbi_bytes, i).unwrap();
            // The crate's module info stream is the entry's stream, cut at the entry's sizes.
            let info = pdb.module_info(&m).unwrap();
            let stream = pdb.raw_stream(pdb::StreamIndex(entry.stream)).unwrap();
            assert_eq!(info.is_some(), stream.is_some(), "module {i}");
            if let (Some(info), Some(stream)) = (info, stream) {
                assert_eq!(check_module(&entry, &stream), LineCheck { lines: Ok(()), inlinees: true }, "module {i}");
                assert_eq!(info.line_program().is_ok(), entry.c11 == 0, "module {i}");
                let c13 = &stream[entry.symbols as usize..][..entry.c13 as usize];
                assert!(entry.c13 == 0 || u32_at(c13, 0).is_some_and(|k| (0xF1..=0xFD).contains(&k) || k == 0x8000_0000), "module {i}");
            }
            n += 1;
        }
        assert!(n > 20, "{n} modules");
        assert_eq!(module_entry(&dbi_bytes, n), None, "past the last module");
        // A module list cut short inside an entry's names, or inside its first 64 bytes.
        let mut cut = dbi_bytes.clone();
        cut[24..28].copy_from_slice(&66u32.to_le_bytes());
        assert_eq!(module_entry(&cut, 0), None);
        cut[24..28].copy_from_slice(&60u32.to_le_bytes());
        assert_eq!(module_entry(&cut, 0), None);
        assert_eq!(module_entry(&[0; 10], 0), None);
    }
}
