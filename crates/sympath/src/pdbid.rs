//! A PDB's identity read by ranges, without I/O (spec R70–R72): what a
//! store's copy of a PDB must be checked against before it is committed.
//!
//! A PDB 7.0 is an MSF file: its GUID lies in the PDB info stream (the
//! second stream) and the age of its key in the DBI stream (the fourth, R72), found
//! through the stream directory, whose blocks are listed in a block named by
//! the superblock. None of that is in the first bytes, so the reader asks
//! for ranges one at a time ([`PdbStep::Read`]) — the block map, the
//! directory blocks it needs, the first block of streams 1 and 3 — and the
//! executor answers from wherever the file now is (a cache, an object
//! store). A handful of reads, whatever the size of the PDB.

use crate::identity::Guid;

/// What the reader needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdbStep {
    /// The bytes at `offset`, `length` of them (fewer only at the end of the file).
    Read {
        /// Where.
        offset: u64,
        /// How many.
        length: u64,
    },
    /// The identity (GUID, age), or why it cannot be read.
    Done(Result<(Guid, u32), String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    BlockMap,
    Directory,
    Info,
    Dbi,
    Over,
}

/// Reads a PDB 7.0's identity by ranges (see the module doc).
#[derive(Debug, Clone)]
pub struct PdbIdentityReader {
    block_size: u64,
    directory_bytes: u64,
    directory_blocks: Vec<u64>,
    directory: Vec<u8>,
    want: Want,
    guid: Option<Guid>,
    info_age: u32,
    dbi_block: Option<u64>,
}

/// The largest stream count believed (the directory of a 4 GiB PDB has far fewer).
const MAX_STREAMS: u64 = 1 << 20;

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

impl PdbIdentityReader {
    /// Starts from the file's first bytes (at least its 56-byte superblock).
    pub fn start(first: &[u8]) -> (PdbIdentityReader, PdbStep) {
        let mut r = PdbIdentityReader {
            block_size: 0,
            directory_bytes: 0,
            directory_blocks: Vec::new(),
            directory: Vec::new(),
            want: Want::Over,
            guid: None,
            info_age: 0,
            dbi_block: None,
        };
        if !first.starts_with(b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0") {
            return (r, PdbStep::Done(Err("not an MSF 7.00 file".into())));
        }
        let (Some(bs), Some(dir_bytes), Some(map)) = (u32_at(first, 32), u32_at(first, 44), u32_at(first, 52)) else {
            return (r, PdbStep::Done(Err("the superblock is cut short".into())));
        };
        if !matches!(bs, 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768) {
            return (r, PdbStep::Done(Err(format!("an invalid block size {bs}"))));
        }
        let bs = u64::from(bs);
        r.block_size = bs;
        r.directory_bytes = u64::from(dir_bytes);
        let blocks = r.directory_bytes.div_ceil(bs);
        if blocks == 0 || blocks * 4 > bs * 1024 {
            return (r, PdbStep::Done(Err(format!("an invalid directory size {dir_bytes}"))));
        }
        r.want = Want::BlockMap;
        let step = PdbStep::Read { offset: u64::from(map) * bs, length: blocks * 4 };
        (r, step)
    }

    /// Reports the bytes of the last [`PdbStep::Read`].
    pub fn feed(&mut self, bytes: &[u8]) -> PdbStep {
        match self.feed_inner(bytes) {
            Ok(step) => step,
            Err(e) => {
                self.want = Want::Over;
                PdbStep::Done(Err(e))
            }
        }
    }

    fn feed_inner(&mut self, bytes: &[u8]) -> Result<PdbStep, String> {
        match self.want {
            Want::Over => Err("the reader is done".into()),
            Want::BlockMap => {
                let n = usize::try_from(self.directory_bytes.div_ceil(self.block_size)).map_err(|e| e.to_string())?;
                self.directory_blocks =
                    (0..n).map(|i| u32_at(bytes, i * 4).map(u64::from)).collect::<Option<_>>().ok_or("the block map is cut short")?;
                self.want = Want::Directory;
                self.next_directory_read()
            }
            Want::Directory => {
                self.directory.extend_from_slice(bytes);
                self.next_directory_read()
            }
            Want::Info => {
                let (Some(age), Some(g)) = (u32_at(bytes, 8), bytes.get(12..28)) else {
                    return Err("the PDB info stream is cut short".into());
                };
                let g: [u8; 16] = g.try_into().map_err(|_| "the PDB info stream is cut short")?;
                self.guid = Some(Guid::from_le_bytes(g));
                self.info_age = age;
                match self.dbi_block {
                    Some(b) => {
                        self.want = Want::Dbi;
                        Ok(PdbStep::Read { offset: b * self.block_size, length: 12 })
                    }
                    None => self.done(self.info_age),
                }
            }
            Want::Dbi => {
                // A DBI stream starts with signature -1, then its version and its age (R72).
                match (u32_at(bytes, 0), u32_at(bytes, 8)) {
                    (Some(0xffff_ffff), Some(age)) => self.done(age),
                    _ => self.done(self.info_age),
                }
            }
        }
    }

    fn done(&mut self, age: u32) -> Result<PdbStep, String> {
        self.want = Want::Over;
        let guid = self.guid.ok_or("no GUID was read")?;
        Ok(PdbStep::Done(Ok((guid, age))))
    }

    /// The directory bytes needed to know where streams 1 and 3 begin, if
    /// the bytes read so far say; `Ok(None)`: more are needed to tell.
    fn needed(&self) -> Result<Option<u64>, String> {
        let d = &self.directory;
        let Some(n) = u32_at(d, 0).map(u64::from) else { return Ok(None) };
        if !(2..=MAX_STREAMS).contains(&n) {
            return Err(format!("a directory of {n} streams"));
        }
        let sizes_end = 4 + 4 * n;
        if (d.len() as u64) < sizes_end {
            return Ok(Some(sizes_end));
        }
        let blocks = |i: u64| -> u64 {
            let size = u32_at(d, usize::try_from(4 + 4 * i).unwrap_or(usize::MAX)).unwrap_or(0);
            if size == u32::MAX {
                0
            } else {
                u64::from(size).div_ceil(self.block_size)
            }
        };
        // Through the first block index of stream 3 (or of stream 1 with no DBI stream).
        let last = if n > 3 && blocks(3) > 0 { 3 } else { 1 };
        let before: u64 = (0..last).map(blocks).sum();
        Ok(Some(sizes_end + 4 * (before + 1)))
    }

    fn next_directory_read(&mut self) -> Result<PdbStep, String> {
        let have = self.directory.len() as u64;
        let need = self.needed()?.unwrap_or(4);
        if have >= need {
            return self.locate();
        }
        if need > self.directory_bytes {
            return Err("the directory is shorter than its streams say".into());
        }
        // The directory blocks from the one holding byte `have`, as one read
        // while they are consecutive in the file, up to the bytes needed.
        let bs = self.block_size;
        let first = usize::try_from(have / bs).map_err(|e| e.to_string())?;
        let last = usize::try_from((need - 1) / bs).map_err(|e| e.to_string())?;
        let start = *self.directory_blocks.get(first).ok_or("the directory runs past its blocks")?;
        let mut run = 1;
        while first + run <= last && self.directory_blocks.get(first + run) == Some(&(start + run as u64)) {
            run += 1;
        }
        let skip = have % bs;
        Ok(PdbStep::Read { offset: start * bs + skip, length: run as u64 * bs - skip })
    }

    fn locate(&mut self) -> Result<PdbStep, String> {
        let d = &self.directory;
        let n = u64::from(u32_at(d, 0).ok_or("no stream count")?);
        let blocks = |i: u64| -> u64 {
            match u32_at(d, usize::try_from(4 + 4 * i).unwrap_or(usize::MAX)) {
                Some(u32::MAX) | None => 0,
                Some(s) => u64::from(s).div_ceil(self.block_size),
            }
        };
        let first_block = |stream: u64| -> Option<u64> {
            if blocks(stream) == 0 {
                return None;
            }
            let before: u64 = (0..stream).map(blocks).sum();
            let at = 4 + 4 * n + 4 * before;
            u32_at(d, usize::try_from(at).ok()?).map(u64::from)
        };
        let info = first_block(1).ok_or("no PDB info stream")?;
        self.dbi_block = if n > 3 { first_block(3) } else { None };
        self.want = Want::Info;
        Ok(PdbStep::Read { offset: info * self.block_size, length: 28 })
    }
}

/// Why a PDB whose identity is `(guid, age)` is not the file of the key
/// whose id is `key_id` (R70, R72); `None` when it is.
pub fn pdb_mismatch(key_id: &str, guid: &Guid, age: u32) -> Option<String> {
    let id = format!("{}{age:X}", guid.to_key_hex());
    (!id.eq_ignore_ascii_case(key_id))
        .then(|| format!("the file is a PDB with id {id} (GUID, age), not the key's {key_id}: the store is misconfigured (R70)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the reader over `file`, counting the reads.
    fn read(file: &[u8]) -> (Result<(Guid, u32), String>, usize) {
        let (mut r, mut step) = PdbIdentityReader::start(file.get(..4096).unwrap_or(file));
        let mut reads = 0;
        loop {
            match step {
                PdbStep::Done(d) => return (d, reads),
                PdbStep::Read { offset, length } => {
                    reads += 1;
                    let (o, l) = (offset as usize, length as usize);
                    step = r.feed(file.get(o..(o + l).min(file.len())).unwrap_or(&[]));
                }
            }
        }
    }

    #[test]
    fn r72_the_fixture_pdbs_identity_is_read_in_a_few_ranges() {
        let pdb = include_bytes!("../../../tests/data/store/ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb");
        let (got, reads) = read(pdb);
        let (guid, age) = got.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(format!("{}{age:X}", guid.to_key_hex()), "A62592418D7807494C4C44205044422E1");
        assert!(reads <= 5, "{reads} reads");
        assert_eq!(pdb_mismatch("A62592418D7807494C4C44205044422E1", &guid, age), None);
        assert_eq!(pdb_mismatch("a62592418d7807494c4c44205044422e1", &guid, age), None);
        let why = pdb_mismatch("A62592418D7807494C4C44205044422E2", &guid, age).unwrap_or_default();
        assert!(why.contains("not the key's A62592418D7807494C4C44205044422E2"), "{why}");
    }

    #[test]
    fn broken_pdbs_are_errors_not_panics() {
        assert!(read(b"MZ").0.is_err());
        assert!(read(b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0").0.is_err());
        let pdb = include_bytes!("../../../tests/data/store/ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb");
        for cut in [100usize, 4096, 8192, 100_000, pdb.len() - 10_000] {
            let _ = read(pdb.get(..cut).unwrap_or(pdb));
        }
        let mut bad = pdb.to_vec();
        if let Some(b) = bad.get_mut(52..56) {
            b.copy_from_slice(&u32::MAX.to_le_bytes());
        }
        assert!(read(&bad).0.is_err());
    }
}
