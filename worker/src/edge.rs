//! The edge cache (Cloudflare's Cache API) and the per-isolate queue.
//!
//! A key has one entry (`v2/<path>`), so that one lookup answers every
//! request: the whole file, or a remembered miss (the 404 to answer, marked
//! [`meta::MISS`]), or a marker saying that the R2 store holds a file too
//! large for the edge cache ([`meta::IN_R2`]), or nothing. A file's entry is written only once its bytes
//! are known whole and, for a PDB, of the key's identity, so its presence
//! means whole (see [`fill`]):
//!
//! - the copy of a transfer is put under a staging key (`v2-stage/<path>`):
//!   the runtime may keep part of a body that failed (the local one does:
//!   tested in workerd), so the staged copy is copied to the entry only once
//!   the transfer ended whole and, for a PDB (whose identity lies behind its
//!   MSF directory), its identity read from the staged copy is the key's
//!   ([`crate::verify`]);
//! - every served hit is checked against the length the mirror stored with
//!   it (`X-Sympath-Length`): an entry handed back with another length is
//!   never served, and goes.
//!
//! The key's version (`v2`) changes whenever what an entry's presence means
//! changes: entries written under an older scheme are never read.

use sympath::headers::{self, meta};
use worker::*;

use crate::handler::Job;
use crate::streams;
use crate::verify::{self, Checked, Verify};

/// The origin of every edge-cache key the mirror writes (never a real host:
/// entries are the mirror's own, not the client's URLs).
pub const ORIGIN: &str = "https://sympath.cache";

/// The edge-cache keys of one file.
pub struct Keys {
    /// Its entry: the whole file, or a remembered miss.
    pub entry: String,
    /// Where a PDB's copy waits for its identity check.
    pub stage: String,
}

impl Keys {
    /// The keys of the file at `path` (`name/id/file`).
    pub fn new(path: &str) -> Keys {
        Keys { entry: format!("{ORIGIN}/v2/{path}"), stage: format!("{ORIGIN}/v2-stage/{path}") }
    }
}

/// What the edge cache has for a request.
pub enum Cached {
    /// The whole file (or the part or 304 the client's conditional headers asked for).
    Hit(Response),
    /// A remembered miss.
    Miss(Response),
    /// Not here, but in the R2 store (too large for the edge cache).
    InR2,
    /// Nothing usable.
    Nothing,
}

/// The request property in which `worker/js/entry.mjs` (the fast path of a
/// hit) hands on the entry it looked up and could not serve as a hit: the
/// entry's `Response`, or `null` when there was none. Only a plain request
/// (GET or HEAD, no query string, no Range, conditional or Cache-Control
/// header) is looked up there, with the same key as [`lookup`]'s, so that
/// entry is what [`lookup`] would find. A client cannot set it: it is a
/// JavaScript property of the request object, not a header.
pub const LOOKED: &str = "sympathEntry";

/// The entry the fast path looked up for `req` ([`LOOKED`]): `None` when it
/// did not look, `Some(None)` when it found nothing.
pub fn looked_up(req: &Request) -> Option<Option<Response>> {
    use wasm_bindgen::JsCast;
    let value = js_sys::Reflect::get(req.inner(), &LOOKED.into()).ok()?;
    if value.is_null() {
        return Some(None);
    }
    value.dyn_into::<web_sys::Response>().ok().map(|r| Some(Response::from(r)))
}

/// Looks a file up: one lookup of its entry, answered as it is stored (its
/// headers are the answer's, CORS included: see [`fill`]). The Cache API answers Range
/// (206) and If-None-Match (304) itself when asked with the client's
/// conditional headers. A remembered miss counts only with [`Misses::Use`].
/// `looked`: the entry the fast path already looked up ([`looked_up`]).
pub async fn lookup(req: &Request, keys: &Keys, misses: Misses, looked: Option<Option<Response>>) -> Result<Cached> {
    let found = match looked {
        Some(entry) => entry,
        None => find(req, keys).await?,
    };
    let Some(found) = found else { return Ok(Cached::Nothing) };
    judge(found, keys, misses).await
}

/// One lookup of `keys`' entry with the client's conditional headers.
async fn find(req: &Request, keys: &Keys) -> Result<Option<Response>> {
    let headers = Headers::new();
    for name in ["Range", "If-None-Match", "If-Modified-Since"] {
        if let Some(v) = req.headers().get(name)? {
            headers.set(name, &v)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let lookup = Request::new_with_init(&keys.entry, &init)?;
    Cache::default().get(&lookup, true).await
}

/// What an entry found for `keys` means for the request.
async fn judge(mut found: Response, keys: &Keys, misses: Misses) -> Result<Cached> {
    if found.status_code() == 416 || (found.status_code() != 404 && found.headers().get(headers::META)?.is_some()) {
        // The cache may apply the client's Range to a miss or a marker (a
        // 206 of it, or a 416 of an empty one): read the entry as stored.
        if let Some(plain) = Cache::default().get(keys.entry.as_str(), true).await? {
            if plain.headers().get(headers::META)?.is_some() {
                cancel(&found);
                found = plain;
            } else {
                cancel(&plain);
            }
        }
    }
    match found.headers().get(headers::META)?.as_deref() {
        Some(meta::MISS) if found.status_code() == 404 => {
            return match misses {
                Misses::Use => Ok(Cached::Miss(negative_answer(found)?)),
                Misses::Ignore => Ok(Cached::Nothing),
            }
        }
        Some(meta::IN_R2) => return Ok(Cached::InR2),
        Some(_) => return Ok(Cached::Nothing),
        None => {}
    }
    match served(found)? {
        Some(hit) => Ok(Cached::Hit(hit)),
        None => {
            // Not whole: never served; gone, so that the next request refills it.
            let _ = Cache::default().delete(keys.entry.as_str(), true).await;
            Ok(Cached::Nothing)
        }
    }
}

/// Whether a lookup may answer with a remembered miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misses {
    /// Yes (the default).
    Use,
    /// No: the client bypassed the caches.
    Ignore,
}

/// Whether an entry is a remembered miss.
fn is_miss(entry: &Response) -> bool {
    entry.status_code() == 404 && entry.headers().get(headers::META).ok().flatten().as_deref() == Some(meta::MISS)
}

/// A remembered miss for `keys`, if there is one now.
pub async fn remembered_miss(keys: &Keys) -> Result<Option<Response>> {
    let entry = Cache::default().get(keys.entry.as_str(), true).await?;
    entry.filter(is_miss).map(negative_answer).transpose()
}

/// Remembers a miss: `answer` (a 404 with its `Cache-Control`) is what later
/// requests get. `turn` ends once it is stored, so that requests waiting
/// behind this one find it.
pub fn remember_miss(job: &Job<'_>, answer: &mut Response, turn: Option<Turn>) -> Result<()> {
    let mut copy = answer.cloned()?;
    copy.headers_mut().set(headers::META, meta::MISS)?;
    copy.headers_mut().set(headers::CACHE, headers::cache::NEGATIVE)?;
    let key = job.keys.entry.clone();
    job.ctx.wait_until(async move {
        let _ = Cache::default().put(key.as_str(), copy).await;
        drop(turn);
    });
    Ok(())
}

/// Remembers that the R2 store holds the file at `job`'s key, too large for
/// the edge cache: later requests at this location read R2 without asking an
/// upstream at the same time.
pub fn remember_in_r2(job: &Job<'_>) {
    let key = job.keys.entry.clone();
    job.ctx.wait_until(async move { mark_in_r2(&key).await });
}

/// Puts the marker saying that the R2 store holds the file whose entry is
/// `entry` (see [`remember_in_r2`]).
pub async fn mark_in_r2(entry: &str) {
    // A 404 (as a remembered miss): the cache applies no Range to it.
    let Ok(mut marker) = Response::empty().map(|r| r.with_status(404)) else { return };
    let h = marker.headers_mut();
    if h.set(headers::META, meta::IN_R2).is_err() || h.set("Cache-Control", crate::rules::CACHE_CONTROL_HIT).is_err() {
        return;
    }
    let _ = Cache::default().put(entry, marker).await;
}

/// A remembered miss, served (its entry says `negative` already).
fn negative_answer(miss: Response) -> Result<Response> {
    let mut miss = mutable(miss);
    miss.headers_mut().delete(headers::META)?;
    Ok(miss)
}

/// A response around a native stream.
pub fn streamed(body: web_sys::ReadableStream) -> Result<Response> {
    Response::from_body(ResponseBody::Stream(body))
}

/// A response whose headers can be changed: responses from the Cache API have
/// immutable headers; this is a native copy of them around the same body.
fn mutable(resp: Response) -> Response {
    let headers = resp.headers().clone();
    resp.with_headers(headers)
}

/// A file's entry as a hit, if it is whole: its length as the cache hands it
/// back (a 200's `Content-Length`, a 206's `Content-Range` total) must be the
/// file's (`X-Sympath-Length`, written with the entry). A 200 handed back
/// without a length is piped through a `FixedLengthStream` of the file's
/// length (which fails the client's transfer if the body is not that long);
/// a 304 has no body. `None`: not whole, never served.
fn served(entry: Response) -> Result<Option<Response>> {
    let get = |name: &str| entry.headers().get(name).ok().flatten();
    let file_length: Option<u64> = get(headers::LENGTH).and_then(|v| v.trim().parse().ok());
    let status = entry.status_code();
    let hit = match status {
        200 => match (get("Content-Length").and_then(|v| v.trim().parse::<u64>().ok()), file_length) {
            (Some(l), Some(f)) if l == f => mutable(entry),
            (None, Some(f)) => {
                let ResponseBody::Stream(s) = entry.body() else { return Ok(None) };
                let checked = streams::pass_stored(s, f).map_err(|e| Error::RustError(e.to_string()))?;
                let headers = entry.headers().clone();
                headers.set("Content-Length", &f.to_string())?;
                streamed(checked)?.with_headers(headers)
            }
            _ => return Ok(None),
        },
        206 => {
            let total = get("Content-Range").and_then(|v| v.rsplit_once('/').and_then(|(_, t)| t.trim().parse::<u64>().ok()));
            match (total, file_length) {
                (Some(t), Some(f)) if t == f => mutable(entry),
                _ => return Ok(None),
            }
        }
        // 304, 416: no file body.
        _ => mutable(entry),
    };
    // Entries carry `X-Sympath-Cache: hit` (see [`fill`]).
    Ok(Some(hit))
}

/// Puts a verified file in the edge cache. The copy goes to the staging key
/// first, and to the file's entry only once the transfer it was copied from
/// ended whole (and, with `verify`, a PDB's identity is the key's,
/// [`crate::verify`]): the runtime may keep part of a body that failed (the
/// local one does, tested in workerd), so nothing is ever put under the
/// entry's key but a copy of a whole staged entry. `transfer` is the transfer and this copy's index in it; `None`
/// for bytes already whole.
pub fn fill(job: &Job<'_>, mut copy: Response, transfer: Option<(js_sys::Promise, usize)>, verify: Option<Verify>) {
    // The entry is the hit's answer as it will be served: every header of it.
    let h = copy.headers_mut();
    let _ = h.set(headers::CACHE, headers::cache::HIT);
    for (k, v) in crate::rules::cors_headers() {
        let _ = h.set(k, &v);
    }
    let length: Option<u64> = copy.headers().get(headers::LENGTH).ok().flatten().and_then(|v| v.parse().ok());
    let (entry, stage) = (job.keys.entry.clone(), job.keys.stage.clone());
    let delay = crate::rules::store_delay_ms(length, transfer.is_some(), job.config.copy_window);
    job.ctx.wait_until(async move {
        // After the client's answer has gone out.
        Delay::from(std::time::Duration::from_millis(delay)).await;
        let cache = Cache::default();
        let stored = cache.put(stage.as_str(), copy).await.is_ok();
        let whole = match transfer {
            Some((done, i)) => streams::ended(done).await.is_some_and(|w| w.get(i) == Some(&true)),
            None => true,
        };
        let other = match (&verify, stored && whole) {
            (Some(v), true) => matches!(verify::check(v, |o, l| cached_range(&cache, &stage, o, l)).await, Checked::Other(_)),
            _ => false,
        };
        if stored && whole && !other {
            if let Some(length) = length {
                promote(&cache, &stage, &entry, length).await;
            }
        }
        let _ = cache.delete(stage.as_str(), true).await;
    });
}

/// Copies the whole staged entry to the file's entry.
async fn promote(cache: &Cache, stage: &str, entry: &str, length: u64) {
    let Ok(Some(staged)) = cache.get(stage, true).await else { return };
    if !handed_back_whole(&staged, length) {
        return;
    }
    // What the cache adds to an answer is not part of the entry.
    let headers = staged.headers().clone();
    for name in ["Age", "CF-Cache-Status", "Date"] {
        let _ = headers.delete(name);
    }
    // Not read back: every hit is checked against the length stored with it
    // (here, in the fast path and in [`lookup`]), and an entry handed back
    // with another goes then.
    if cache.put(entry, staged.with_headers(headers)).await.is_err() {
        let _ = cache.delete(entry, true).await;
    }
}

/// Whether the cache hands an entry back with `length` bytes (its
/// `Content-Length`, which a part kept of a failed put lacks).
fn handed_back_whole(e: &Response, length: u64) -> bool {
    e.status_code() == 200 && e.headers().get("Content-Length").ok().flatten().and_then(|v| v.trim().parse::<u64>().ok()) == Some(length)
}

fn cancel(e: &Response) {
    if let ResponseBody::Stream(s) = e.body() {
        let _ = s.cancel();
    }
}

/// `length` bytes at `offset` of the entry at `key` (a ranged read of the cache).
async fn cached_range(cache: &Cache, key: &str, offset: u64, length: u64) -> std::result::Result<Vec<u8>, String> {
    let fail = |e: Error| e.to_string();
    let headers = Headers::new();
    headers.set("Range", &format!("bytes={offset}-{}", offset + length.max(1) - 1)).map_err(fail)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = Request::new_with_init(key, &init).map_err(fail)?;
    let mut resp = cache.get(&req, true).await.map_err(fail)?.ok_or("gone from the cache")?;
    let bytes = resp.bytes().await.map_err(fail)?;
    match resp.status_code() {
        206 => Ok(bytes),
        // The whole entry: take the range from it.
        200 => {
            let from = usize::try_from(offset).map_err(|e| e.to_string())?;
            let to = from.saturating_add(usize::try_from(length).map_err(|e| e.to_string())?).min(bytes.len());
            Ok(bytes.get(from..to).unwrap_or_default().to_vec())
        }
        416 => Ok(Vec::new()),
        s => Err(format!("the cache answered {s}")),
    }
}

thread_local! {
    /// Keys this isolate is asking the upstreams for now, with the promise
    /// that settles when that lookup has an answer (see [`Turn`]).
    static INFLIGHT: std::cell::RefCell<std::collections::HashMap<String, (js_sys::Promise, js_sys::Function)>> =
        std::cell::RefCell::default();
}

/// One request's turn to ask the upstreams for a key: concurrent requests for
/// the same key in this isolate wait for it (a miss costs the upstreams one
/// chain of probes, not one per client) and then look at the edge cache
/// again. Dropping the turn lets them go on.
pub struct Turn(String);

/// Where a request stands in its isolate's queue for a key.
pub enum Queue {
    /// Its turn: no other request of this isolate is asking for the key.
    First(Turn),
    /// Settles when the request before ends its turn.
    Behind(js_sys::Promise),
}

impl Turn {
    /// Takes the turn for `path`, or the promise of the request before.
    pub fn take(path: &str) -> Queue {
        INFLIGHT.with(|m| {
            let mut m = m.borrow_mut();
            if let Some((promise, _)) = m.get(path) {
                return Queue::Behind(promise.clone());
            }
            let mut resolve = None;
            let promise = js_sys::Promise::new(&mut |res, _| resolve = Some(res));
            if let Some(resolve) = resolve {
                m.insert(path.to_string(), (promise, resolve));
            }
            Queue::First(Turn(path.to_string()))
        })
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some((_, resolve)) = INFLIGHT.with(|m| m.borrow_mut().remove(&self.0)) {
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    }
}
