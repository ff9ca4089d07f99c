//! Checking a stored copy of a PDB against its key before the copy is
//! committed (R70, R72). A PDB's GUID and age lie behind its MSF directory,
//! out of reach of the first bytes that the lookup engine judges, so the
//! streamed copy is checked once it is whole, by ranged reads of the store
//! that holds it, driven by the core's [`sympath::pdbid`] reader: the edge
//! cache's `whole` marker is written, and the R2 object kept, only if the
//! identity is the key's. The client of that first transfer has its bytes
//! already (they were streamed); no later client is served them.

use std::future::Future;

use sympath::magic::{sniff, Magic};
use sympath::pdbid::{pdb_mismatch, PdbIdentityReader, PdbStep};

/// What a stored copy must be: the key's id, and the file's first bytes.
#[derive(Debug, Clone)]
pub struct Verify {
    id: String,
    first: Vec<u8>,
}

impl Verify {
    /// The check for the file at `path` (`name/id/file`) whose first bytes
    /// are `first`: `None` unless it is a PDB 7.0 (a PE is checked by the
    /// engine from its first bytes).
    pub fn for_file(path: &str, first: &[u8]) -> Option<Verify> {
        if sniff(first) != Magic::Pdb {
            return None;
        }
        let id = path.split('/').nth(1)?.to_string();
        let first = first.get(..sympath::lookup::SNIFF_BYTES).unwrap_or(first).to_vec();
        Some(Verify { id, first })
    }
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The identity is the key's.
    Same,
    /// Another file: not to be committed.
    Other(String),
    /// Not readable (not a well-formed MSF file, or a read failed): kept,
    /// as before the check existed.
    Unknown(String),
}

/// Runs the check, reading ranges through `read(offset, length)`.
pub async fn check<F, Fut>(v: &Verify, mut read: F) -> Checked
where
    F: FnMut(u64, u64) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, String>>,
{
    let (mut reader, mut step) = PdbIdentityReader::start(&v.first);
    // The reader needs a handful of reads; a bound in case a file loops it.
    for _ in 0..64 {
        match step {
            PdbStep::Done(Ok((guid, age))) => {
                return match pdb_mismatch(&v.id, &guid, age) {
                    Some(why) => Checked::Other(why),
                    None => Checked::Same,
                }
            }
            PdbStep::Done(Err(e)) => return Checked::Unknown(e),
            PdbStep::Read { offset, length } => match read(offset, length).await {
                Ok(bytes) => step = reader.feed(&bytes),
                Err(e) => return Checked::Unknown(e),
            },
        }
    }
    Checked::Unknown("too many reads".into())
}
