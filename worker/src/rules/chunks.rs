//! The chunked range cache's rules (issue 11), as plain functions: which
//! aligned chunks a client's range needs, what an upstream's answer for one
//! chunk must be to be kept, and the version of a file a chunk belongs to.
//! The I/O is `crate::chunks` (wasm32 only).
//!
//! A large file read by ranges (a PDB the crash viewer reads block by block)
//! is kept as chunks of `RANGE_CHUNK_BYTES` at offsets that are multiples of
//! it, each tied to one [`Version`] of the file (its length and the upstream's
//! `ETag` and `Last-Modified`): chunks of two versions are never mixed.

use serde::{Deserialize, Serialize};

use super::ByteRange;

/// One version of a file: what every chunk of it is tied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The whole file's length.
    pub size: u64,
    /// The upstream's `ETag`, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The upstream's `Last-Modified`, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
}

impl Version {
    /// The form kept beside a chunk (a header value, R2 metadata): JSON, or
    /// `None` when it would not fit in a header (only visible ASCII is kept).
    pub fn encode(&self) -> Option<String> {
        let s = serde_json::to_string(self).ok()?;
        s.bytes().all(|b| (0x20..0x7f).contains(&b)).then_some(s)
    }

    /// The version [`Version::encode`] wrote; `None` for anything else.
    pub fn decode(s: &str) -> Option<Version> {
        serde_json::from_str(s).ok()
    }
}

/// The chunks' settings (`RANGE_CACHE_MIN_BYTES`, `RANGE_CHUNK_BYTES`,
/// `RANGE_CHUNKS_MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// Files of at least this many bytes are kept as chunks when read by ranges.
    pub min_file: u64,
    /// A chunk's length (the last one of a file may be shorter).
    pub chunk: u64,
    /// The most chunks one request may fetch from the upstream.
    pub max_fetch: u64,
}

/// Why a range is not served from chunks (it is then forwarded upstream as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotChunked {
    /// The file's length is not known up front.
    NoLength,
    /// The file is under `RANGE_CACHE_MIN_BYTES`.
    Small,
    /// The range selects nothing in the file (416).
    Unsatisfiable,
    /// The range needs more chunks than one request may fetch.
    TooManyChunks(u64),
}

/// One piece of a client's range: `length` bytes at `offset` within chunk `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// The chunk.
    pub index: u64,
    /// Where in the chunk.
    pub offset: u64,
    /// How many bytes.
    pub length: u64,
}

/// What a client's range needs: its span in the file and the chunk pieces
/// that make it, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPlan {
    /// The first and last byte (inclusive) of the answer.
    pub first: u64,
    /// The last byte, inclusive.
    pub last: u64,
    /// The whole file's length.
    pub size: u64,
    /// The pieces, one per chunk, in order.
    pub parts: Vec<Part>,
}

impl ChunkPlan {
    /// The answer's `Content-Range`.
    pub fn content_range(&self) -> String {
        format!("bytes {}-{}/{}", self.first, self.last, self.size)
    }

    /// The answer's length.
    pub fn length(&self) -> u64 {
        self.last - self.first + 1
    }
}

impl Chunking {
    /// The chunks `range` of a file of `size` bytes needs, or why it is not
    /// served from chunks. A range needing more than `max_fetch` chunks is
    /// not chunked at all: no request makes the mirror fetch more than that.
    pub fn plan(&self, range: ByteRange, size: Option<u64>) -> Result<ChunkPlan, NotChunked> {
        let size = size.ok_or(NotChunked::NoLength)?;
        if size < self.min_file || self.chunk == 0 {
            return Err(NotChunked::Small);
        }
        let (first, last) = range.resolve(size).ok_or(NotChunked::Unsatisfiable)?;
        let (a, b) = (first / self.chunk, last / self.chunk);
        let count = b - a + 1;
        if count > self.max_fetch {
            return Err(NotChunked::TooManyChunks(count));
        }
        let parts = (a..=b)
            .map(|index| {
                let start = index * self.chunk;
                let from = first.max(start);
                let to = last.min(start + self.chunk - 1);
                Part { index, offset: from - start, length: to - from + 1 }
            })
            .collect();
        Ok(ChunkPlan { first, last, size, parts })
    }

    /// Where chunk `index` of a file of `size` bytes begins and how long it
    /// is (the last one is cut at the end of the file); `None` past the end.
    pub fn bounds(&self, index: u64, size: u64) -> Option<(u64, u64)> {
        let start = index.checked_mul(self.chunk)?;
        (start < size).then(|| (start, self.chunk.min(size - start)))
    }

    /// The chunks holding bytes `offset..offset + length` of a file of
    /// `size` bytes (clipped at its end), as pieces.
    pub fn parts_of(&self, offset: u64, length: u64, size: u64) -> Vec<Part> {
        let end = offset.saturating_add(length).min(size);
        if offset >= end || self.chunk == 0 {
            return Vec::new();
        }
        (offset / self.chunk..=(end - 1) / self.chunk)
            .map(|index| {
                let start = index * self.chunk;
                let from = offset.max(start);
                let to = end.min(start + self.chunk);
                Part { index, offset: from - start, length: to - from }
            })
            .collect()
    }

    /// The `Range` header value that asks for chunk `index`.
    pub fn range_header(&self, index: u64, size: u64) -> Option<String> {
        let (start, len) = self.bounds(index, size)?;
        Some(format!("bytes={start}-{}", start + len - 1))
    }

    /// Whether an upstream's answer to [`Chunking::range_header`] is exactly
    /// chunk `index` of a file of `size` bytes: status 206, a
    /// `Content-Range` of exactly that span and size, and a `Content-Length`
    /// of its length. `Err` says why not (the chunk is then not kept).
    pub fn check_answer(
        &self,
        index: u64,
        size: u64,
        status: u16,
        content_range: Option<&str>,
        content_length: Option<&str>,
    ) -> Result<u64, String> {
        let (start, len) = self.bounds(index, size).ok_or("a chunk past the end of the file")?;
        if status != 206 {
            return Err(format!("the upstream answered {status}, not 206, to a chunk's range"));
        }
        let got = content_range.and_then(content_range_of).ok_or("no valid Content-Range")?;
        if got != (start, start + len - 1, size) {
            return Err(format!("Content-Range {} is not bytes {start}-{}/{size}", content_range.unwrap_or_default(), start + len - 1));
        }
        let n: u64 = content_length.and_then(|v| v.trim().parse().ok()).ok_or("no valid Content-Length")?;
        if n != len {
            return Err(format!("Content-Length {n} is not the chunk's {len}"));
        }
        Ok(len)
    }
}

/// `bytes first-last/size` → its numbers (`None` for anything else,
/// including `*` sizes and a last byte before the first or past the end).
pub fn content_range_of(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (span, size) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let (first, last, size): (u64, u64, u64) = (first.trim().parse().ok()?, last.trim().parse().ok()?, size.trim().parse().ok()?);
    (first <= last && last < size).then_some((first, last, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const C: Chunking = Chunking { min_file: 64 * MIB, chunk: MIB, max_fetch: 16 };

    #[test]
    fn a_range_inside_one_chunk_needs_that_chunk_only() {
        let p = C.plan(ByteRange::Closed(MIB + 10, MIB + 65_545), Some(4096 * MIB)).unwrap();
        assert_eq!(p.parts, [Part { index: 1, offset: 10, length: 65_536 }]);
        assert_eq!(p.content_range(), format!("bytes {}-{}/{}", MIB + 10, MIB + 65_545, 4096 * MIB));
        assert_eq!(p.length(), 65_536);
    }

    #[test]
    fn a_range_across_chunks_is_pieces_of_each_in_order() {
        let p = C.plan(ByteRange::Closed(MIB - 1, 3 * MIB), Some(100 * MIB)).unwrap();
        assert_eq!(
            p.parts,
            [
                Part { index: 0, offset: MIB - 1, length: 1 },
                Part { index: 1, offset: 0, length: MIB },
                Part { index: 2, offset: 0, length: MIB },
                Part { index: 3, offset: 0, length: 1 },
            ]
        );
        assert_eq!(p.parts.iter().map(|x| x.length).sum::<u64>(), p.length());
    }

    #[test]
    fn suffix_and_open_ranges_end_at_the_files_last_byte() {
        let size = 64 * MIB + 100;
        let p = C.plan(ByteRange::Suffix(200), Some(size)).unwrap();
        assert_eq!((p.first, p.last), (size - 200, size - 1));
        assert_eq!(p.parts, [Part { index: 63, offset: MIB - 100, length: 100 }, Part { index: 64, offset: 0, length: 100 }]);
        assert_eq!(C.bounds(64, size), Some((64 * MIB, 100)), "the last chunk is cut at the end");
        assert_eq!(C.bounds(65, size), None);
        let p = C.plan(ByteRange::From(size - 1), Some(size)).unwrap();
        assert_eq!(p.parts, [Part { index: 64, offset: 99, length: 1 }]);
    }

    #[test]
    fn small_unknown_unsatisfiable_and_huge_ranges_are_not_chunked() {
        assert_eq!(C.plan(ByteRange::Closed(0, 9), None), Err(NotChunked::NoLength));
        assert_eq!(C.plan(ByteRange::Closed(0, 9), Some(64 * MIB - 1)), Err(NotChunked::Small));
        assert_eq!(C.plan(ByteRange::From(64 * MIB), Some(64 * MIB)), Err(NotChunked::Unsatisfiable));
        // A client cannot make one request fetch more than max_fetch chunks.
        assert_eq!(C.plan(ByteRange::Closed(0, 16 * MIB), Some(100 * MIB)), Err(NotChunked::TooManyChunks(17)));
        assert_eq!(C.plan(ByteRange::From(0), Some(100 * MIB)), Err(NotChunked::TooManyChunks(100)));
        assert!(C.plan(ByteRange::Closed(0, 16 * MIB - 1), Some(100 * MIB)).is_ok());
    }

    #[test]
    fn reads_for_the_identity_check_map_to_chunk_pieces() {
        let size = 2 * MIB + 5;
        assert_eq!(C.parts_of(0, 56, size), [Part { index: 0, offset: 0, length: 56 }]);
        assert_eq!(C.parts_of(MIB - 4, 8, size), [Part { index: 0, offset: MIB - 4, length: 4 }, Part { index: 1, offset: 0, length: 4 }]);
        assert_eq!(C.parts_of(2 * MIB, 100, size), [Part { index: 2, offset: 0, length: 5 }], "clipped at the end");
        assert!(C.parts_of(size, 4, size).is_empty());
        assert!(C.parts_of(u64::MAX - 1, 4, size).is_empty());
    }

    #[test]
    fn a_chunk_is_kept_only_from_an_exact_206() {
        let size = 3 * MIB;
        assert_eq!(C.range_header(1, size).as_deref(), Some("bytes=1048576-2097151"));
        let ok = format!("bytes {}-{}/{size}", MIB, 2 * MIB - 1);
        assert_eq!(C.check_answer(1, size, 206, Some(&ok), Some("1048576")), Ok(MIB));
        // The whole file (a store that ignores Range), another span, another size, a short length.
        assert!(C.check_answer(1, size, 200, Some(&ok), Some("1048576")).is_err());
        assert!(C.check_answer(1, size, 206, Some(&format!("bytes 0-{}/{size}", MIB - 1)), Some("1048576")).is_err());
        let other = format!("bytes {}-{}/{}", MIB, 2 * MIB - 1, size + 1);
        assert!(C.check_answer(1, size, 206, Some(&other), Some("1048576")).unwrap_err().contains("is not bytes"));
        assert!(C.check_answer(1, size, 206, Some(&ok), Some("1000")).unwrap_err().contains("Content-Length 1000"));
        assert!(C.check_answer(1, size, 206, Some(&ok), None).is_err());
        assert!(C.check_answer(1, size, 206, None, Some("1048576")).is_err());
        assert!(C.check_answer(3, size, 206, Some(&ok), Some("1048576")).is_err(), "past the end");
    }

    #[test]
    fn content_ranges_are_parsed_strictly() {
        assert_eq!(content_range_of("bytes 0-9/10"), Some((0, 9, 10)));
        assert_eq!(content_range_of(" bytes 5-5/6 "), Some((5, 5, 6)));
        for bad in ["bytes */10", "bytes 9-0/10", "bytes 0-10/10", "items 0-9/10", "bytes 0-9/*", "bytes -1-9/10", ""] {
            assert_eq!(content_range_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_version_round_trips_and_tells_files_apart() {
        let v = Version { size: 10, etag: Some("\"0x8D\"".into()), modified: Some("Tue, 01 Dec 2026 10:00:00 GMT".into()) };
        assert_eq!(Version::decode(&v.encode().unwrap()), Some(v.clone()));
        let bare = Version { size: 10, etag: None, modified: None };
        assert_eq!(bare.encode().as_deref(), Some("{\"size\":10}"));
        assert_ne!(v, bare);
        assert_ne!(Version { size: 11, ..bare.clone() }, bare);
        assert_eq!(Version { etag: Some("caf\u{e9}".into()), ..bare }.encode(), None, "not a header value");
        assert_eq!(Version::decode("size=10"), None);
    }
}
