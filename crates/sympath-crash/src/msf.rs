//! Random access into a PDB's MSF container, for the streams the `pdb` crate
//! would read whole: the id stream (IPI), the public symbols and their
//! records, the string table, and the DBI stream's section contributions and
//! file info. The `pdb` crate maps a stream by reading
//! all of its pages into one buffer (its `SourceView` is one slice), which
//! for the IPI and the global symbol records of a large PDB is tens or
//! hundreds of megabytes; here a stream is its page list, and a read touches
//! only the pages under the bytes asked for. Lookups go through the tables
//! the format keeps for that: the IPI's type-index offsets, the publics'
//! address map, the string table's offsets, the section contributions'
//! order. The `pdb` crate itself reads through [`PdbSource`], which leaves
//! the DBI substreams searched here unread (zeros in its copy).
//!
//! Every count read from the file is checked against the stream it lives in;
//! a damaged PDB gives an error or `None`, never a panic or a huge allocation.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::sync::{Arc, Mutex};

use crate::PdbReader;

/// The PDB reader, shared by the `pdb` crate (through [`PdbSource`]) and these random reads.
pub(crate) type File = Arc<Mutex<Box<dyn PdbReader>>>;

fn lock(file: &File) -> std::io::Result<std::sync::MutexGuard<'_, Box<dyn PdbReader>>> {
    file.lock().map_err(|_| std::io::Error::other("the PDB reader was poisoned"))
}

/// What the `pdb` crate reads through: every byte it asks for, except the
/// file ranges in `skip` (left zero; nothing the crate is asked for reads them).
#[derive(Debug)]
pub(crate) struct PdbSource {
    file: File,
    /// Sorted, disjoint `[start, end)` file offsets.
    skip: Vec<(u64, u64)>,
    views: Views,
}

/// The bytes of one stream as handed to the `pdb` crate (shared, never copied).
pub(crate) type Bytes = Arc<Vec<u8>>;

#[derive(Debug)]
struct View(Bytes);

impl<'s> pdb::SourceView<'s> for View {
    fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

/// The views [`PdbSource`] makes for the `pdb` crate while [`Views::during`]
/// runs: the bytes of a stream the crate reads, for a check of ours before
/// the crate parses them, without reading them twice.
#[derive(Debug, Clone, Default)]
pub(crate) struct Views(Arc<Mutex<Option<Vec<Bytes>>>>);

impl Views {
    /// Runs `f`, and returns with its result the views made while it ran, in order.
    pub(crate) fn during<R>(&self, f: impl FnOnce() -> R) -> (R, Vec<Bytes>) {
        if let Ok(mut seen) = self.0.lock() {
            *seen = Some(Vec::new());
        }
        let result = f();
        let seen = self.0.lock().ok().and_then(|mut seen| seen.take()).unwrap_or_default();
        (result, seen)
    }

    fn record(&self, view: &Bytes) {
        if let Ok(mut seen) = self.0.lock() {
            if let Some(seen) = seen.as_mut() {
                seen.push(view.clone());
            }
        }
    }
}

impl<'s> pdb::Source<'s> for PdbSource {
    fn view(&mut self, slices: &[pdb::SourceSlice]) -> std::io::Result<Box<dyn pdb::SourceView<'s>>> {
        let len = slices.iter().try_fold(0usize, |a, s| a.checked_add(s.size)).ok_or_else(|| std::io::Error::other("view size"))?;
        let mut bytes = vec![0u8; len];
        let mut out = 0usize;
        for s in slices {
            let end = s.offset + s.size as u64;
            let mut at = s.offset;
            let first = self.skip.partition_point(|r| r.1 <= at);
            for &(a, b) in self.skip.get(first..).unwrap_or_default() {
                if at >= end || a >= end {
                    break;
                }
                if a > at {
                    let part = bytes
                        .get_mut(out + (at - s.offset) as usize..out + (a - s.offset) as usize)
                        .ok_or_else(|| std::io::Error::other("view"))?;
                    read_file(&self.file, at, part)?;
                }
                at = at.max(b);
            }
            if at < end {
                let part = bytes.get_mut(out + (at - s.offset) as usize..out + s.size).ok_or_else(|| std::io::Error::other("view"))?;
                read_file(&self.file, at, part)?;
            }
            out += s.size;
        }
        let bytes = Arc::new(bytes);
        self.views.record(&bytes);
        Ok(Box::new(View(bytes)))
    }
}

const MAGIC: &[u8; 32] = b"Microsoft C/C++ MSF 7.00\r\n\x1a\x44\x53\x00\x00\x00";

/// A stream: its size and the pages holding it.
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    pub size: u32,
    pub pages: Vec<u32>,
}

/// The MSF container: page size and the stream directory (read on demand).
pub(crate) struct Msf {
    file: File,
    page_size: u32,
    directory: Stream,
    /// Byte size of each stream (`u32::MAX` for a nil stream).
    sizes: Vec<u32>,
}

fn pages_for(size: u32, page_size: u32) -> u32 {
    if size == u32::MAX {
        0
    } else {
        size.div_ceil(page_size)
    }
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

/// A NUL-terminated string at `at` (lossy UTF-8).
pub(crate) fn cstr_at(b: &[u8], at: usize) -> Option<String> {
    let rest = b.get(at..)?;
    let end = rest.iter().position(|&c| c == 0)?;
    Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
}

impl Msf {
    /// Reads the header and the stream sizes (not the page lists).
    pub(crate) fn open(file: File) -> Result<Msf, String> {
        let mut header = [0u8; 56];
        read_file(&file, 0, &mut header).map_err(|e| format!("the PDB's header cannot be read: {e}"))?;
        if header.get(..32) != Some(MAGIC.as_slice()) {
            return Err("not an MSF 7.00 PDB".into());
        }
        let page_size = u32_at(&header, 32).unwrap_or(0);
        let page_count = u32_at(&header, 40).unwrap_or(0);
        let directory_size = u32_at(&header, 44).unwrap_or(0);
        if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) {
            return Err(format!("the PDB's page size {page_size} is not valid"));
        }
        let directory_pages = pages_for(directory_size, page_size);
        if u64::from(directory_size) > u64::from(page_count) * u64::from(page_size) {
            return Err("the PDB's stream directory is larger than the file".into());
        }
        // The pages listing the directory's pages, then the directory's pages.
        let map_pages = (directory_pages * 4).div_ceil(page_size);
        let mut map = vec![0u8; map_pages as usize * 4];
        read_file(&file, 52, &mut map).map_err(|e| format!("the PDB's directory map cannot be read: {e}"))?;
        let map_stream = Stream { size: directory_pages * 4, pages: map.chunks_exact(4).filter_map(|c| u32_at(c, 0)).collect() };
        let mut msf = Msf { file, page_size, directory: Stream { size: 0, pages: Vec::new() }, sizes: Vec::new() };
        let mut list = vec![0u8; directory_pages as usize * 4];
        msf.read(&map_stream, 0, &mut list).map_err(|e| format!("the PDB's directory map cannot be read: {e}"))?;
        msf.directory = Stream { size: directory_size, pages: list.chunks_exact(4).filter_map(|c| u32_at(c, 0)).collect() };
        let count = msf.u32(&msf.directory, 0).ok_or("the PDB's stream directory is empty")?;
        if u64::from(count) * 4 + 4 > u64::from(directory_size) {
            return Err("the PDB's stream count does not fit its directory".into());
        }
        let mut sizes = vec![0u8; count as usize * 4];
        msf.read(&msf.directory, 4, &mut sizes).map_err(|e| format!("the PDB's stream sizes cannot be read: {e}"))?;
        msf.sizes = sizes.chunks_exact(4).filter_map(|c| u32_at(c, 0)).collect();
        Ok(msf)
    }

    /// The stream `index`, or `None` when it is nil or missing.
    pub(crate) fn stream(&self, index: u32) -> Option<Stream> {
        let size = *self.sizes.get(index as usize)?;
        if size == u32::MAX {
            return None;
        }
        let before: u64 = self.sizes.get(..index as usize)?.iter().map(|&s| u64::from(pages_for(s, self.page_size))).sum();
        let at = 4 + 4 * self.sizes.len() as u64 + 4 * before;
        let n = pages_for(size, self.page_size);
        let mut list = vec![0u8; n as usize * 4];
        self.read(&self.directory, u32::try_from(at).ok()?, &mut list).ok()?;
        Some(Stream { size, pages: list.chunks_exact(4).filter_map(|c| u32_at(c, 0)).collect() })
    }

    /// The byte size of stream `index`, or `None` when it is nil or missing.
    pub(crate) fn stream_size(&self, index: u32) -> Option<u32> {
        self.sizes.get(index as usize).copied().filter(|&s| s != u32::MAX)
    }

    /// Reads `buf.len()` bytes of `stream` from `offset`.
    pub(crate) fn read(&self, stream: &Stream, offset: u32, buf: &mut [u8]) -> Result<(), String> {
        let end = u64::from(offset) + buf.len() as u64;
        if end > u64::from(stream.size) {
            return Err(format!("a read of {} bytes at {offset} passes the end of a stream of {} bytes", buf.len(), stream.size));
        }
        let ps = u64::from(self.page_size);
        let mut done = 0usize;
        let mut at = u64::from(offset);
        while done < buf.len() {
            let page = *stream.pages.get((at / ps) as usize).ok_or("a stream's page list is short")?;
            let within = at % ps;
            let n = ((ps - within) as usize).min(buf.len() - done);
            let part = buf.get_mut(done..done + n).ok_or("read length")?;
            read_file(&self.file, u64::from(page) * ps + within, part).map_err(|e| e.to_string())?;
            done += n;
            at += n as u64;
        }
        Ok(())
    }

    /// `len` bytes of `stream` from `offset`.
    pub(crate) fn bytes(&self, stream: &Stream, offset: u32, len: u32) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; len as usize];
        self.read(stream, offset, &mut buf).ok()?;
        Some(buf)
    }

    pub(crate) fn u32(&self, stream: &Stream, offset: u32) -> Option<u32> {
        u32_at(&self.bytes(stream, offset, 4)?, 0)
    }

    pub(crate) fn u16(&self, stream: &Stream, offset: u32) -> Option<u16> {
        u16_at(&self.bytes(stream, offset, 2)?, 0)
    }

    /// The file ranges holding bytes `[from, to)` of `stream`, merged.
    fn file_ranges(&self, stream: &Stream, from: u32, to: u32) -> Vec<(u64, u64)> {
        let ps = u64::from(self.page_size);
        let mut out: Vec<(u64, u64)> = Vec::new();
        let (mut at, to) = (u64::from(from), u64::from(to.min(stream.size)));
        while at < to {
            let Some(&page) = stream.pages.get((at / ps) as usize) else { break };
            let n = (ps - at % ps).min(to - at);
            let start = u64::from(page) * ps + at % ps;
            match out.last_mut() {
                Some(last) if last.1 == start => last.1 += n,
                _ => out.push((start, start + n)),
            }
            at += n;
        }
        out
    }

    /// A NUL-terminated string at `offset`, read in small steps (at most 64 KiB).
    pub(crate) fn cstr(&self, stream: &Stream, offset: u32) -> Option<String> {
        let mut out = Vec::new();
        let mut at = offset;
        while out.len() < 65536 && at < stream.size {
            let n = (stream.size - at).min(256);
            let chunk = self.bytes(stream, at, n)?;
            if let Some(end) = chunk.iter().position(|&c| c == 0) {
                out.extend_from_slice(chunk.get(..end)?);
                return Some(String::from_utf8_lossy(&out).into_owned());
            }
            out.extend_from_slice(&chunk);
            at += n;
        }
        None
    }

    #[cfg(test)]
    pub(crate) fn page_size(&self) -> u32 {
        self.page_size
    }
}

/// The DBI stream's header fields used here, and where its substreams are.
pub(crate) struct Dbi {
    stream: Stream,
    pub publics: u16,
    pub symbol_records: u16,
    /// Offset and size of the section contributions substream.
    contributions: (u32, u32),
    /// Offset and size of the file info substream.
    file_info: (u32, u32),
}

impl Dbi {
    pub(crate) fn open(msf: &Msf) -> Option<Dbi> {
        let stream = msf.stream(3)?;
        let h = msf.bytes(&stream, 0, 64)?;
        let size = |at: usize| -> Option<u32> { u32::try_from(i32::from_le_bytes(h.get(at..at + 4)?.try_into().ok()?)).ok() };
        let (modules, contributions, section_map, file_info) = (size(24)?, size(28)?, size(32)?, size(36)?);
        let sc_at = 64u32.checked_add(modules)?;
        let fi_at = sc_at.checked_add(contributions)?.checked_add(section_map)?;
        if u64::from(fi_at) + u64::from(file_info) > u64::from(stream.size) {
            return None;
        }
        Some(Dbi {
            publics: u16_at(&h, 16)?,
            symbol_records: u16_at(&h, 20)?,
            contributions: (sc_at, contributions),
            file_info: (fi_at, file_info),
            stream,
        })
    }

    /// The DBI stream's byte size.
    pub(crate) fn size(&self) -> u32 {
        self.stream.size
    }

    /// The `pdb` crate's source: the substreams searched here are not read for
    /// it; the views it is handed while `views` records are kept there.
    pub(crate) fn source(&self, msf: &Msf, views: Views) -> PdbSource {
        // The contributions after their version word, and the file info.
        let (sc_at, sc_len) = self.contributions;
        let (fi_at, fi_len) = self.file_info;
        let mut skip = msf.file_ranges(&self.stream, sc_at + 4.min(sc_len), sc_at + sc_len);
        skip.extend(msf.file_ranges(&self.stream, fi_at, fi_at + fi_len));
        skip.sort_unstable();
        PdbSource { file: msf.file.clone(), skip, views }
    }

    /// The module that contributed `offset` of `section`, by binary search of
    /// the section contributions (sorted by section and offset).
    pub(crate) fn module_at(&self, msf: &Msf, section: u16, offset: u32) -> Option<usize> {
        let (at, len) = self.contributions;
        let version = msf.u32(&self.stream, at)?;
        let entry = match version {
            0xF12E_BA2D => 28, // V60
            0xF131_51E4 => 32, // V2 (adds the COFF section index)
            _ => return None,
        };
        let count = len.checked_sub(4)? / entry;
        let get = |i: u32| -> Option<(u16, u32, u32, u16)> {
            let e = msf.bytes(&self.stream, at + 4 + i * entry, 20)?;
            Some((u16_at(&e, 0)?, u32_at(&e, 4)?, u32_at(&e, 8)?, u16_at(&e, 16)?))
        };
        // The first contribution past (section, offset).
        let (mut lo, mut hi) = (0u32, count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (s, o, _, _) = get(mid)?;
            if (s, o) <= (section, offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let (s, o, size, module) = get(lo.checked_sub(1)?)?;
        (s == section && offset - o < size).then_some(usize::from(module))
    }
}

fn read_file(file: &File, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
    let mut f = lock(file)?;
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(buf)
}

/// The stream named `name` in the name map of the PDB info stream (`info`:
/// that stream's bytes), read as the `pdb` crate's `stream_names` reads it
/// (after the 28-byte header: the names' size and the names, then a hash
/// map: count, capacity, the present and deleted bit sets, then `(name
/// offset, stream)` pairs), with every offset checked: the crate slices the
/// names at an offset it does not check (`pdbi.rs:140`, a panic in release
/// builds too).
pub(crate) fn named_stream(info: &[u8], name: &[u8]) -> Option<u32> {
    let names_size = usize::try_from(u32_at(info, 28)?).ok()?;
    let names = info.get(32..32usize.checked_add(names_size)?)?;
    let count = u32_at(info, 32 + names_size)?;
    // Count and capacity, then the two bit sets, each a word count and its words.
    let mut at = 32 + names_size + 8;
    for _set in 0..2 {
        let words = usize::try_from(u32_at(info, at)?).ok()?;
        at = at.checked_add(4)?.checked_add(words.checked_mul(4)?)?;
    }
    for i in 0..count as usize {
        let entry = at.checked_add(i.checked_mul(8)?)?;
        let (offset, stream) = (u32_at(info, entry)?, u32_at(info, entry + 4)?);
        if cstr_at(names, offset as usize).is_some_and(|n| n.as_bytes() == name) {
            // The crate keeps the low 16 bits; 0xFFFF is no stream.
            let stream = stream as u16;
            return (stream != u16::MAX).then_some(u32::from(stream));
        }
    }
    None
}

/// The string table (`/names`): a string by its offset, without reading the table.
pub(crate) struct Names {
    stream: Stream,
}

impl Names {
    pub(crate) fn new(msf: &Msf, stream: Stream) -> Option<Names> {
        (msf.u32(&stream, 0)? == 0xEFFE_EFFE).then_some(Names { stream })
    }

    pub(crate) fn get(&self, msf: &Msf, offset: u32) -> Option<String> {
        msf.cstr(&self.stream, offset.checked_add(12)?)
    }
}

/// The id stream (IPI): a function id's name by its index, through the
/// type-index offsets of its hash stream (one entry about every 8 KiB of
/// records), so a lookup reads one run of records, not the stream.
pub(crate) struct Ids {
    stream: Stream,
    header_size: u32,
    begin: u32,
    end: u32,
    record_bytes: u32,
    /// (type index, offset of its record), sorted, from the hash stream.
    offsets: Vec<(u32, u32)>,
}

const LF_FUNC_ID: u16 = 0x1601;
const LF_MFUNC_ID: u16 = 0x1602;
/// The most bytes read at once while stepping over records.
const RUN: u32 = 1 << 20;

impl Ids {
    pub(crate) fn open(msf: &Msf) -> Option<Ids> {
        let stream = msf.stream(4)?;
        let h = msf.bytes(&stream, 0, 56.min(stream.size))?;
        let header_size = u32_at(&h, 4)?;
        let (begin, end, record_bytes) = (u32_at(&h, 8)?, u32_at(&h, 12)?, u32_at(&h, 16)?);
        if u64::from(header_size) + u64::from(record_bytes) > u64::from(stream.size) {
            return None;
        }
        let hash_stream = u16_at(&h, 20)?;
        let (index_at, index_len) = (u32_at(&h, 40)?, u32_at(&h, 44)?);
        let mut offsets = Vec::new();
        if hash_stream != u16::MAX && index_len > 0 {
            if let Some(hash) = msf.stream(u32::from(hash_stream)) {
                // About 8 bytes per 8 KiB of records: 0.1 % of the stream.
                if let Some(raw) =
                    index_at.checked_add(index_len).filter(|&e| e <= hash.size).and_then(|_| msf.bytes(&hash, index_at, index_len))
                {
                    offsets = raw.chunks_exact(8).filter_map(|c| Some((u32_at(c, 0)?, u32_at(c, 4)?))).collect();
                    let ordered = offsets.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0 && a.1 < b.1));
                    if !ordered || offsets.iter().any(|o| o.1 >= record_bytes) {
                        offsets.clear();
                    }
                }
            }
        }
        Some(Ids { stream, header_size, begin, end, record_bytes, offsets })
    }

    /// The name of function id `id` (`LF_FUNC_ID` / `LF_MFUNC_ID`).
    pub(crate) fn name(&self, msf: &Msf, id: u32) -> Option<String> {
        if id < self.begin || id >= self.end {
            return None;
        }
        let at = self.offsets.partition_point(|o| o.0 <= id);
        let (mut index, mut offset) = at.checked_sub(1).and_then(|i| self.offsets.get(i)).copied().unwrap_or((self.begin, 0));
        let run_end = self.offsets.get(at).map_or(self.record_bytes, |o| o.1).min(self.record_bytes);
        // The run of records from the nearest offset entry, read at once when it is small.
        let run =
            if run_end.saturating_sub(offset) <= RUN { msf.bytes(&self.stream, self.header_size + offset, run_end - offset) } else { None };
        let record = |offset: u32| -> Option<Vec<u8>> {
            if let Some(run) = &run {
                let start = offset.checked_sub(run_end - run.len() as u32)? as usize;
                let len = usize::from(u16_at(run, start)?);
                return run.get(start..start + 2 + len).map(<[u8]>::to_vec);
            }
            let len = msf.u16(&self.stream, self.header_size + offset)?;
            msf.bytes(&self.stream, self.header_size + offset, 2 + u32::from(len))
        };
        while index < id {
            let len = match &run {
                Some(run) => u16_at(run, offset.checked_sub(run_end - run.len() as u32)? as usize)?,
                None => msf.u16(&self.stream, self.header_size + offset)?,
            };
            offset = offset.checked_add(2 + u32::from(len))?;
            if offset >= self.record_bytes {
                return None;
            }
            index += 1;
        }
        let r = record(offset)?;
        match u16_at(&r, 2)? {
            LF_FUNC_ID | LF_MFUNC_ID => cstr_at(&r, 12),
            _ => None,
        }
    }
}

/// The public symbols, searched by address through the publics stream's
/// address map (record offsets sorted by section and offset): a lookup reads
/// about log2(count) records, not the symbol records stream.
pub(crate) struct Publics {
    map: Stream,
    map_at: u32,
    count: u32,
    records: Stream,
}

/// One `S_PUB32` record.
pub(crate) struct Public {
    pub code: bool,
    pub section: u16,
    pub offset: u32,
    pub name_at: u32,
}

const S_PUB32: u16 = 0x110e;

impl Publics {
    /// `publics` and `records` are the stream numbers the DBI header names.
    pub(crate) fn open(msf: &Msf, publics: u16, records: u16) -> Option<Publics> {
        let map = msf.stream(u32::from(publics))?;
        let records = msf.stream(u32::from(records))?;
        let h = msf.bytes(&map, 0, 8)?;
        let (hash_size, map_size) = (u32_at(&h, 0)?, u32_at(&h, 4)?);
        let map_at = 28u32.checked_add(hash_size)?;
        if u64::from(map_at) + u64::from(map_size) > u64::from(map.size) {
            return None;
        }
        Some(Publics { map, map_at, count: map_size / 4, records })
    }

    pub(crate) fn len(&self) -> u32 {
        self.count
    }

    /// The `i`th public in address order.
    pub(crate) fn get(&self, msf: &Msf, i: u32) -> Option<Public> {
        let at = msf.u32(&self.map, self.map_at.checked_add(i.checked_mul(4)?)?)?;
        let head = msf.bytes(&self.records, at, 16.min(self.records.size.checked_sub(at)?))?;
        if u16_at(&head, 2)? != S_PUB32 {
            return None;
        }
        let flags = u32_at(&head, 4)?;
        Some(Public { code: flags & 3 != 0, offset: u32_at(&head, 8)?, section: u16_at(&head, 12)?, name_at: at + 14 })
    }

    pub(crate) fn name(&self, msf: &Msf, p: &Public) -> Option<String> {
        msf.cstr(&self.records, p.name_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PDB info stream whose name map has `entries` (name, offset, stream).
    fn info(names: &[u8], entries: &[(u32, u32)]) -> Vec<u8> {
        let mut b = vec![0u8; 28];
        b.extend_from_slice(&(names.len() as u32).to_le_bytes());
        b.extend_from_slice(names);
        for word in [entries.len() as u32, 8, 1, 0xff, 0] {
            b.extend_from_slice(&word.to_le_bytes());
        }
        for &(offset, stream) in entries {
            b.extend_from_slice(&offset.to_le_bytes());
            b.extend_from_slice(&stream.to_le_bytes());
        }
        b
    }

    #[test]
    fn named_streams_are_found_and_bad_offsets_are_none() {
        let names = b"/LinkInfo\0/names\0/src/headerblock\0";
        let good = info(names, &[(0, 5), (10, 7), (17, 9)]);
        assert_eq!(named_stream(&good, b"/names"), Some(7));
        assert_eq!(named_stream(&good, b"/src/headerblock"), Some(9));
        assert_eq!(named_stream(&good, b"/nothing"), None);
        // An offset past the names (the crate's `stream_names` panics on it), a nil stream.
        assert_eq!(named_stream(&info(names, &[(1000, 5), (10, 7)]), b"/names"), Some(7));
        assert_eq!(named_stream(&info(names, &[(10, 0xffff)]), b"/names"), None);
        // A count past the stream's end, sizes past it.
        let mut long = good.clone();
        long[32 + names.len()..36 + names.len()].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(named_stream(&long, b"/nothing"), None);
        let mut huge = good.clone();
        huge[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(named_stream(&huge, b"/names"), None);
        assert_eq!(named_stream(&good[..40], b"/names"), None);
    }

    #[test]
    fn a_damaged_header_is_an_error() {
        let file: File = Arc::new(Mutex::new(Box::new(std::io::Cursor::new(vec![0u8; 100]))));
        assert_eq!(Msf::open(file).err().as_deref(), Some("not an MSF 7.00 PDB"));
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[0u8; 24]);
        let file: File = Arc::new(Mutex::new(Box::new(std::io::Cursor::new(bytes))));
        assert!(Msf::open(file).err().unwrap_or_default().contains("page size 0"));
    }
}
