//! The chunked range cache (issue 11): ranges of large files kept as
//! aligned chunks, so that reading a 4 GB PDB block by block again costs the
//! upstream nothing. Its rules (which chunks, what answer is a chunk, the
//! version a chunk is tied to, the cap) are [`crate::rules::chunks`]; this
//! module does the I/O.
//!
//! - Keys: in the edge cache `chunk/<path>/<size>/<index>` and one
//!   `chunk/<path>/version` entry; in R2 (when bound) `<path>.chunks/<size>/<index>`
//!   and `<path>.chunks/version` (four path segments: never a key's path).
//!   Every chunk carries the [`Version`] it belongs to (length, `ETag`,
//!   `Last-Modified`); the `version` entry names the version whose chunks
//!   may be served and is written only once that version was checked.
//! - [`serve_cached`] (before the upstream lookup): a range whose every
//!   chunk is held, of the version named, is answered from them alone, with
//!   no upstream request. A range some of whose chunks are missing, of a file
//!   whose version was checked, runs the lookup engine with `Method::Head`:
//!   if the file it takes has that version's length, `ETag` and
//!   `Last-Modified`, only the missing chunks are fetched (from the URL it
//!   took), so the file's body is never downloaded to find it; otherwise
//!   (another version, no file, a chunk of another version) the handler's
//!   GET lookup runs as for a file never seen, and checks it.
//! - [`serve_miss`] (once the lookup engine has taken the file by a GET,
//!   its first bytes judged): the chunks
//!   held are read, the missing ones fetched from the URL the engine took the
//!   file from (each an exact 206 of exactly its length, or nothing is kept).
//!   Fetched chunks of another version than the one named drop it: the
//!   range is then made of the new version's chunks alone. A new version is
//!   checked before any chunk of it is served or kept: a PDB's GUID and age
//!   read through its chunks by the core's [`sympath::pdbid`] reader (R70,
//!   R72); another file is refused (the engine is told: a miss that says so).
//! - One request fetches at most `RANGE_CHUNKS_MAX` chunks, the identity
//!   check's included; a request that would need more is forwarded as it is
//!   ([`crate::ranged`]), nothing kept.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use futures_util::future;
use sympath::headers;
use sympath::key::RequestKey;
use sympath::lookup::{Step, Take};
use worker::*;

use crate::handler::Job;
use crate::rules::chunks::{ChunkPlan, Chunking, NotChunked, Part, Version};
use crate::rules::{self, ByteRange};
use crate::streams;
use crate::upstream::{self, Body, Found};
use crate::verify::{self, Checked, Verify};

/// The header (edge cache) holding a chunk's version. Internal: never sent to clients.
const VERSION_HEADER: &str = "X-Sympath-Chunk";
/// The R2 custom metadata field holding a chunk's version.
const VERSION_META: &str = "version";

/// Where a piece came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Edge,
    R2,
}

/// The pieces of a plan held, in order, and where each came from.
type Held = Vec<Option<(Vec<u8>, Source)>>;

/// The chunks of one file in the edge cache and R2.
#[derive(Clone)]
struct Store {
    path: String,
    bucket: Option<Bucket>,
}

impl Store {
    fn new(job: &Job<'_>) -> Store {
        Store { path: job.path.to_string(), bucket: job.bucket.clone() }
    }

    fn edge_version(&self) -> String {
        format!("{}/chunk/{}/version", crate::edge::ORIGIN, self.path)
    }

    fn edge_chunk(&self, size: u64, index: u64) -> String {
        format!("{}/chunk/{}/{size}/{index}", crate::edge::ORIGIN, self.path)
    }

    fn r2_version(&self) -> String {
        format!("{}.chunks/version", self.path)
    }

    fn r2_chunk(&self, size: u64, index: u64) -> String {
        format!("{}.chunks/{size}/{index}", self.path)
    }

    /// The version whose chunks may be served, if one was checked.
    async fn version(&self) -> Option<Version> {
        if let Ok(Some(entry)) = Cache::default().get(self.edge_version(), true).await {
            if let Some(v) = entry.headers().get(VERSION_HEADER).ok().flatten().and_then(|s| Version::decode(&s)) {
                return Some(v);
            }
        }
        let object = self.bucket.as_ref()?.head(self.r2_version()).await.ok()??;
        Version::decode(object.custom_metadata().ok()?.get(VERSION_META)?)
    }

    /// A piece of a chunk of version `v` (encoded `enc`), exactly its length:
    /// from the edge cache, else from R2.
    async fn piece(&self, v: &Version, enc: &str, p: Part) -> Option<(Vec<u8>, Source)> {
        if let Some(bytes) = self.edge_piece(v, enc, p).await {
            return Some((bytes, Source::Edge));
        }
        self.r2_piece(v, enc, p).await.map(|b| (b, Source::R2))
    }

    async fn edge_piece(&self, v: &Version, enc: &str, p: Part) -> Option<Vec<u8>> {
        let headers = Headers::new();
        headers.set("Range", &format!("bytes={}-{}", p.offset, p.offset + p.length - 1)).ok()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        let req = Request::new_with_init(&self.edge_chunk(v.size, p.index), &init).ok()?;
        let mut entry = Cache::default().get(&req, true).await.ok()??;
        if entry.headers().get(VERSION_HEADER).ok().flatten().as_deref() != Some(enc) {
            return None;
        }
        let status = entry.status_code();
        let bytes = entry.bytes().await.ok()?;
        let bytes = match status {
            206 => bytes,
            // The whole chunk: the piece is cut from it.
            200 => bytes.get(usize::try_from(p.offset).ok()?..usize::try_from(p.offset + p.length).ok()?)?.to_vec(),
            _ => return None,
        };
        (bytes.len() as u64 == p.length).then_some(bytes)
    }

    async fn r2_piece(&self, v: &Version, enc: &str, p: Part) -> Option<Vec<u8>> {
        let bucket = self.bucket.as_ref()?;
        let range = Range::OffsetWithLength { offset: p.offset, length: p.length };
        let object = bucket.get(self.r2_chunk(v.size, p.index)).range(range).execute().await.ok()??;
        if object.custom_metadata().ok()?.get(VERSION_META).map(String::as_str) != Some(enc) {
            return None;
        }
        let bytes = object.body()?.bytes().await.ok()?;
        (bytes.len() as u64 == p.length).then_some(bytes)
    }

    /// The pieces of `plan` held in version `v` (none without one, or of
    /// another length), in order.
    async fn held(&self, v: Option<&Version>, plan: &ChunkPlan) -> Held {
        match v.filter(|v| v.size == plan.size).and_then(|v| v.encode().map(|e| (v, e))) {
            Some((v, enc)) => future::join_all(plan.parts.iter().map(|p| self.piece(v, &enc, *p))).await,
            None => vec![None; plan.parts.len()],
        }
    }

    /// Keeps chunk `index` of version `v` (its length already checked).
    async fn put_chunk(&self, v: &Version, enc: &str, index: u64, bytes: Vec<u8>) {
        if let Some(bucket) = &self.bucket {
            let meta = HashMap::from([(VERSION_META.to_string(), enc.to_string())]);
            let _ = bucket.put(self.r2_chunk(v.size, index), Data::Bytes(bytes.clone())).custom_metadata(meta).execute().await;
        }
        let len = bytes.len();
        if let Ok(mut entry) = Response::from_bytes(bytes) {
            let h = entry.headers_mut();
            let _ = h.set("Cache-Control", rules::CACHE_CONTROL_HIT);
            let _ = h.set("Content-Length", &len.to_string());
            let _ = h.set(VERSION_HEADER, enc);
            let _ = Cache::default().put(self.edge_chunk(v.size, index), entry).await;
        }
    }

    /// Names `enc` as the version whose chunks may be served.
    async fn put_version(&self, enc: &str) {
        if let Some(bucket) = &self.bucket {
            let meta = HashMap::from([(VERSION_META.to_string(), enc.to_string())]);
            let _ = bucket.put(self.r2_version(), Data::Bytes(Vec::new())).custom_metadata(meta).execute().await;
        }
        if let Ok(mut entry) = Response::ok("") {
            let _ = entry.headers_mut().set("Cache-Control", rules::CACHE_CONTROL_HIT);
            let _ = entry.headers_mut().set(VERSION_HEADER, enc);
            let _ = Cache::default().put(self.edge_version(), entry).await;
        }
    }

    /// Forgets the version named: none of its chunks is served any more.
    async fn drop_version(&self) {
        let _ = Cache::default().delete(self.edge_version(), true).await;
        if let Some(bucket) = &self.bucket {
            let _ = bucket.delete(self.r2_version()).await;
        }
    }
}

/// A range served from chunks, its bytes assembled: the 206.
fn answer(job: &Job<'_>, plan: &ChunkPlan, bytes: Vec<u8>, cache: &str, upstream: Option<&str>, note: &str) -> Result<Response> {
    let mut out = Response::from_bytes(bytes)?.with_status(206);
    let h = out.headers_mut();
    h.set("Content-Type", "application/octet-stream")?;
    h.set("Cache-Control", rules::CACHE_CONTROL_HIT)?;
    h.set("ETag", &rules::etag(job.path))?;
    h.set("Accept-Ranges", "bytes")?;
    h.set("Content-Range", &plan.content_range())?;
    h.set("Content-Length", &plan.length().to_string())?;
    h.set(headers::LENGTH, &plan.size.to_string())?;
    if let Some(up) = upstream {
        h.set(headers::UPSTREAM, up)?;
    }
    h.set(headers::CACHE, cache)?;
    h.set(headers::NOTE, note)?;
    Ok(out)
}

/// Answers a GET's `Range` of a file whose version was checked (its
/// `version` entry held), before the upstream lookup: from the chunks held
/// alone if every chunk it needs is held (no upstream request); else the
/// engine's lookup runs with `Method::Head` and, if the file it takes is still
/// the version checked (its length, `ETag`, `Last-Modified`), only the missing
/// chunks are fetched, from the URL it took. `None`: go on with the lookup
/// (a GET, whose first bytes the engine judges): no version checked, another
/// version, or a range not served from chunks.
pub async fn serve_cached(req: &Request, job: &Job<'_>, key: &RequestKey) -> Result<Option<Response>> {
    if job.head {
        return Ok(None);
    }
    let Some(range) = req.headers().get("Range")?.as_deref().and_then(ByteRange::parse) else { return Ok(None) };
    let store = Store::new(job);
    let Some(v) = store.version().await else { return Ok(None) };
    let Ok(plan) = job.config.chunking.plan(range, Some(v.size)) else { return Ok(None) };
    let held = store.held(Some(&v), &plan).await;
    if held.iter().all(Option::is_some) {
        let from_r2 = held.iter().flatten().any(|(_, source)| *source == Source::R2);
        let bytes = held.into_iter().flatten().map(|(b, _)| b).collect::<Vec<_>>().concat();
        let (cache, from) = if from_r2 { (headers::cache::R2, "R2") } else { (headers::cache::HIT, "the edge cache") };
        let note = format!("a range assembled from {} chunk(s) of the file held in {from}", plan.parts.len());
        return answer(job, &plan, bytes, cache, None, &note).map(Some);
    }
    Ok(by_head(job, key, &store, v, &plan, held).await)
}

/// A range some of whose chunks are missing, of a file whose version `known`
/// was checked: the engine's lookup with `Method::Head` (its rules: which
/// stores, redirects, statuses), then the missing chunks from the URL it took
/// — if that answer is still `known`. `None` for anything else (the caller
/// falls back to a GET, which checks a new version).
async fn by_head(job: &Job<'_>, key: &RequestKey, store: &Store, known: Version, plan: &ChunkPlan, held: Held) -> Option<Response> {
    let mut lookup = job.config.lookup_with(key, sympath::lookup::Method::Head)?;
    let (fetch, found) = loop {
        let fetch = match lookup.next() {
            Step::Fetch(fetch) => fetch,
            Step::Done(_) => return None,
        };
        if let Some(found) = upstream::run(&mut lookup, &fetch, job.config.timeout_ms, job.config.deadline_ms).await {
            break (fetch, found);
        }
    };
    let Found { body, take, validators: (etag, modified), .. } = found;
    if !matches!(body, Body::Headers) || take.expanded {
        return None;
    }
    let seen = Version { size: take.length?, etag, modified };
    if seen != known {
        return None;
    }
    let auth = crate::ranged::credentials(&fetch, &take);
    match assemble(job, &take, auth, plan, store, Some(known), held, Taken::ByHead).await {
        Outcome::Served(resp) => Some(resp),
        Outcome::Refused(_) | Outcome::Unusable(_) => None,
    }
}

/// How [`serve_miss`] ended.
pub enum Outcome {
    /// The range, from chunks (some or all fetched now, and kept).
    Served(Response),
    /// The file is not the key's (R70): nothing served, nothing kept.
    Refused(String),
    /// Not served from chunks (the range is forwarded as it is, nothing
    /// kept): `Some` says why, when chunks were tried.
    Unusable(Option<String>),
}

/// Chunks fetched from the upstream by one request: the cap, the lengths,
/// one version among them.
struct Fetcher<'a> {
    url: &'a str,
    authorization: Option<&'a str>,
    chunking: Chunking,
    size: u64,
    timeout_ms: u64,
    deadline_ms: u64,
    chunks: RefCell<HashMap<u64, Vec<u8>>>,
    version: RefCell<Option<Version>>,
    count: Cell<u64>,
}

impl Fetcher<'_> {
    /// Fetches the chunks `indices` not fetched yet, all at once, within the cap.
    async fn fetch(&self, indices: &[u64]) -> std::result::Result<(), String> {
        let mut todo: Vec<u64> = indices.iter().copied().filter(|i| !self.chunks.borrow().contains_key(i)).collect();
        todo.dedup();
        if todo.is_empty() {
            return Ok(());
        }
        let count = self.count.get() + todo.len() as u64;
        if count > self.chunking.max_fetch {
            return Err(format!("more than RANGE_CHUNKS_MAX ({}) chunks for one request", self.chunking.max_fetch));
        }
        self.count.set(count);
        let got = future::join_all(todo.iter().map(|i| self.fetch_one(*i))).await;
        for (i, got) in todo.into_iter().zip(got) {
            let (version, bytes) = got?;
            let mut known = self.version.borrow_mut();
            match known.as_ref() {
                Some(k) if *k != version => return Err("the upstream's file changed during the request".into()),
                Some(_) => {}
                None => *known = Some(version),
            }
            self.chunks.borrow_mut().insert(i, bytes);
        }
        Ok(())
    }

    /// One chunk: an exact 206 of exactly its length, read whole.
    async fn fetch_one(&self, index: u64) -> std::result::Result<(Version, Vec<u8>), String> {
        let range = self.chunking.range_header(index, self.size).ok_or("a chunk past the end of the file")?;
        let resp = crate::upstream::send_range(self.url, self.authorization, &range, self.timeout_ms).await.map_err(|e| e.to_string())?;
        let get = |name: &str| resp.headers().get(name).ok().flatten();
        let checked = self.chunking.check_answer(
            index,
            self.size,
            resp.status_code(),
            get("Content-Range").as_deref(),
            get("Content-Length").as_deref(),
        );
        let ResponseBody::Stream(body) = resp.body() else { return Err("a chunk without a body".into()) };
        let length = match checked {
            Ok(l) => l,
            Err(e) => {
                let _ = body.cancel();
                return Err(e);
            }
        };
        let limits = streams::Limits::starting_now(self.timeout_ms, self.deadline_ms);
        let limit = usize::try_from(length).map_err(|e| e.to_string())?;
        let bytes = streams::read_all(body, limit, limits).await.map_err(|e| format!("chunk {index}: {e}"))?;
        if bytes.len() as u64 != length {
            return Err(format!("chunk {index} is short: {} of {length} bytes", bytes.len()));
        }
        Ok((Version { size: self.size, etag: get("ETag"), modified: get("Last-Modified") }, bytes))
    }

    /// `length` bytes at `offset` (fewer at the end of the file), through the
    /// chunks, fetching those not fetched yet (the identity check's reads).
    async fn read(&self, offset: u64, length: u64) -> std::result::Result<Vec<u8>, String> {
        let parts = self.chunking.parts_of(offset, length, self.size);
        self.fetch(&parts.iter().map(|p| p.index).collect::<Vec<_>>()).await?;
        let chunks = self.chunks.borrow();
        let mut out = Vec::new();
        for p in parts {
            out.extend_from_slice(
                slice(chunks.get(&p.index).ok_or("a chunk went missing")?, p).ok_or("a chunk is shorter than its piece")?,
            );
        }
        Ok(out)
    }
}

fn slice(chunk: &[u8], p: Part) -> Option<&[u8]> {
    chunk.get(usize::try_from(p.offset).ok()?..usize::try_from(p.offset + p.length).ok()?)
}

/// Serves `range` of the file the engine took (`take`, asked of its URL with
/// `authorization`) from chunks: those held, and those fetched now (see the
/// module doc). Runs before the client's range is forwarded.
pub async fn serve_miss(job: &Job<'_>, take: &Take, authorization: Option<&str>, range: ByteRange) -> Outcome {
    let chunking = job.config.chunking;
    let plan = match chunking.plan(range, take.length) {
        Ok(plan) => plan,
        Err(NotChunked::TooManyChunks(n)) => {
            return Outcome::Unusable(Some(format!("{n} chunks is over RANGE_CHUNKS_MAX ({})", chunking.max_fetch)))
        }
        Err(_) => return Outcome::Unusable(None),
    };
    let store = Store::new(job);
    let known = store.version().await;
    let held = store.held(known.as_ref(), &plan).await;
    assemble(job, take, authorization, &plan, &store, known, held, Taken::ByGet).await
}

/// How the engine took the file a range is assembled for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// A GET: the engine judged its first bytes.
    ByGet,
    /// A HEAD, its answer the version checked: chunks of any other version
    /// are not served (the range goes back to a GET, which checks it).
    ByHead,
}

/// The range of `plan` from the pieces `held` (of `known`) and the missing
/// chunks, fetched now from `take`'s URL (see the module doc).
#[allow(clippy::too_many_arguments)]
async fn assemble(
    job: &Job<'_>,
    take: &Take,
    authorization: Option<&str>,
    plan: &ChunkPlan,
    store: &Store,
    known: Option<Version>,
    held: Held,
    taken: Taken,
) -> Outcome {
    let fetcher = Fetcher {
        url: &take.url,
        authorization,
        chunking: job.config.chunking,
        size: plan.size,
        timeout_ms: job.config.timeout_ms,
        deadline_ms: job.config.deadline_ms,
        chunks: RefCell::default(),
        version: RefCell::default(),
        count: Cell::new(0),
    };
    let missing: Vec<u64> = plan.parts.iter().zip(&held).filter(|(_, h)| h.is_none()).map(|(p, _)| p.index).collect();
    if let Err(why) = fetcher.fetch(&missing).await {
        return Outcome::Unusable(Some(why));
    }
    let fetched_version = fetcher.version.borrow().clone();
    let Some(version) = fetched_version.or_else(|| known.clone()) else { return Outcome::Unusable(None) };
    let fresh = known.as_ref() != Some(&version);
    if fresh && taken == Taken::ByHead {
        return Outcome::Unusable(Some("the upstream's file changed since its HEAD".into()));
    }
    if fresh {
        // Another version than the one named (or none named): its chunks are
        // not mixed with these; this version is checked before anything of
        // it is served or kept.
        if known.is_some() {
            store.drop_version().await;
        }
        let all: Vec<u64> = plan.parts.iter().map(|p| p.index).collect();
        if let Err(why) = fetcher.fetch(&all).await {
            return Outcome::Unusable(Some(why));
        }
        let first = match fetcher.read(0, sympath::lookup::SNIFF_BYTES as u64).await {
            Ok(b) => b,
            Err(why) => return Outcome::Unusable(Some(why)),
        };
        if let Some(v) = Verify::for_file(job.path, &first) {
            let failed = Cell::new(false);
            let read = |o, l| {
                let (fetcher, failed) = (&fetcher, &failed);
                async move {
                    let r = fetcher.read(o, l).await;
                    failed.set(failed.get() || r.is_err());
                    r
                }
            };
            match verify::check(&v, read).await {
                Checked::Same => {}
                Checked::Other(why) => return Outcome::Refused(why),
                // A read that failed (the cap, the upstream): not checked, so not kept.
                Checked::Unknown(why) if failed.get() => return Outcome::Unusable(Some(format!("its identity was not read: {why}"))),
                // Not a well-formed MSF file: kept, as a whole file would be (crate::verify).
                Checked::Unknown(_) => {}
            }
        }
    }
    let mut bytes = Vec::with_capacity(usize::try_from(plan.length()).unwrap_or(0));
    {
        let chunks = fetcher.chunks.borrow();
        for (p, h) in plan.parts.iter().zip(held) {
            match (h, fresh) {
                (Some((b, _)), false) => bytes.extend_from_slice(&b),
                _ => match chunks.get(&p.index).and_then(|c| slice(c, *p)) {
                    Some(b) => bytes.extend_from_slice(b),
                    None => return Outcome::Unusable(Some("a chunk went missing".into())),
                },
            }
        }
    }
    let fetched = fetcher.count.get();
    let kept = fetcher.chunks.take();
    let note = match version.encode() {
        Some(enc) => {
            let how = match taken {
                Taken::ByGet => "",
                Taken::ByHead => " (the version checked, confirmed by a HEAD)",
            };
            let note = format!("a range assembled from {} chunk(s), {fetched} fetched upstream now and kept{how}", plan.parts.len());
            let store = store.clone();
            job.ctx.wait_until(async move {
                future::join_all(kept.into_iter().map(|(i, b)| store.put_chunk(&version, &enc, i, b))).await;
                if fresh {
                    store.put_version(&enc).await;
                }
            });
            note
        }
        None => "a range assembled from chunks, not kept: the upstream's ETag or Last-Modified is not a header value".into(),
    };
    match answer(job, plan, bytes, headers::cache::MISS, Some(&take.store_url), &note) {
        Ok(resp) => Outcome::Served(resp),
        Err(e) => Outcome::Unusable(Some(e.to_string())),
    }
}
