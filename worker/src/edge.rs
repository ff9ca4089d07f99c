//! The edge cache (Cloudflare's Cache API) and the per-isolate queue.
//!
//! A key has two entries: its bytes (`hit/<path>`) and one meta entry
//! (`meta/<path>`) saying what the edge knows of it besides its bytes:
//! `whole` once the file is whole in the cache, or a remembered miss (the
//! 404 to answer). Bytes without a `whole` marker are never served (a store
//! may keep part of a failed transfer): the marker is written only once the
//! transfer it was copied from ended whole (see [`fill`]).

use futures_util::future;
use sympath::headers::{self, meta};
use worker::*;

use crate::handler::Job;
use crate::streams;
use crate::verify::{self, Checked, Verify};

/// The edge-cache keys of one file.
pub struct Keys {
    /// Its bytes.
    pub hit: String,
    /// Its meta entry (`whole` or a remembered miss).
    pub meta: String,
}

impl Keys {
    /// The keys of the file at `path` (`name/id/file`).
    pub fn new(path: &str) -> Keys {
        Keys { hit: format!("https://sympath.cache/hit/{path}"), meta: format!("https://sympath.cache/meta/{path}") }
    }
}

/// What the edge cache has for a request.
pub enum Cached {
    /// The whole file (or the part or 304 the client's conditional headers asked for).
    Hit(Response),
    /// A remembered miss.
    Miss(Response),
    /// Nothing usable.
    Nothing,
}

/// Looks a file up: its bytes and its meta entry at once (a miss pays for one
/// round trip, not two). The Cache API answers Range (206) and If-None-Match
/// (304) itself when asked with the client's conditional headers. A
/// remembered miss counts only with [`Misses::Use`].
pub async fn lookup(req: &Request, keys: &Keys, misses: Misses) -> Result<Cached> {
    let cache = Cache::default();
    let headers = Headers::new();
    for name in ["Range", "If-None-Match", "If-Modified-Since"] {
        if let Some(v) = req.headers().get(name)? {
            headers.set(name, &v)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let lookup = Request::new_with_init(&keys.hit, &init)?;
    let (hit, meta) = future::join(cache.get(&lookup, true), cache.get(keys.meta.as_str(), true)).await;
    let (hit, meta) = (hit?, meta?);
    let kind = meta.as_ref().and_then(meta_kind);
    if let (Some(hit), Some(meta::WHOLE)) = (hit, kind.as_deref()) {
        let mut hit = mutable(hit)?;
        hit.headers_mut().set(headers::CACHE, headers::cache::HIT)?;
        return Ok(Cached::Hit(hit));
    }
    match meta {
        Some(miss) if kind.as_deref() == Some(meta::MISS) && misses == Misses::Use => Ok(Cached::Miss(negative_answer(miss)?)),
        _ => Ok(Cached::Nothing),
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

/// A remembered miss for `keys`, if there is one now.
pub async fn remembered_miss(keys: &Keys) -> Result<Option<Response>> {
    let meta = Cache::default().get(keys.meta.as_str(), true).await?;
    meta.filter(|m| meta_kind(m).as_deref() == Some(meta::MISS)).map(negative_answer).transpose()
}

/// Remembers a miss: `answer` (a 404 with its `Cache-Control`) is what later
/// requests get. `turn` ends once it is stored, so that requests waiting
/// behind this one find it.
pub fn remember_miss(job: &Job<'_>, answer: &mut Response, turn: Option<Turn>) -> Result<()> {
    let mut copy = answer.cloned()?;
    copy.headers_mut().set(headers::META, meta::MISS)?;
    let meta_key = job.keys.meta.clone();
    job.ctx.wait_until(async move {
        let _ = Cache::default().put(meta_key.as_str(), copy).await;
        drop(turn);
    });
    Ok(())
}

/// What an edge-cache meta entry says: `whole` or `miss`.
fn meta_kind(meta: &Response) -> Option<String> {
    meta.headers().get(headers::META).ok().flatten()
}

/// A remembered miss, served.
fn negative_answer(miss: Response) -> Result<Response> {
    let mut miss = mutable(miss)?;
    miss.headers_mut().delete(headers::META)?;
    miss.headers_mut().set(headers::CACHE, headers::cache::NEGATIVE)?;
    Ok(miss)
}

/// A response around a native stream.
pub fn streamed(body: web_sys::ReadableStream) -> Result<Response> {
    Response::from_body(ResponseBody::Stream(body))
}

/// A response whose headers can be changed: responses from the Cache API (and
/// from `fetch`) have immutable headers, so copy them onto a new response
/// around the same body, piped by the runtime alone with its length enforced
/// (a `FixedLengthStream`) when the length is known.
pub fn mutable(resp: Response) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        headers.set(&k, &v)?;
    }
    let status = resp.status_code();
    // The Cache API may hand back a stored body without Content-Length; the
    // mirror keeps the length in its own header too (a 206's length is its
    // Content-Length, never the whole file's; a 304 has no body).
    let names: &[&str] = match status {
        206 => &["Content-Length"],
        304 => &[],
        _ => &["Content-Length", headers::LENGTH],
    };
    let length: Option<u64> = names.iter().find_map(|h| resp.headers().get(h).ok().flatten().and_then(|v| v.parse().ok()));
    let body = match (resp.body(), length) {
        (ResponseBody::Stream(s), Some(len)) => {
            headers.set("Content-Length", &len.to_string())?;
            streamed(streams::pass_stored(s, len).map_err(|e| Error::RustError(e.to_string()))?)?
        }
        (ResponseBody::Stream(s), None) => streamed(s.clone())?,
        _ => Response::empty()?,
    };
    Ok(body.with_status(status).with_headers(headers))
}

/// Puts a verified file in the edge cache, then — only once the transfer it
/// was copied from has ended whole, this copy included — its marker: an entry
/// without a marker is never served (see [`lookup`]). `transfer` is that
/// transfer and this copy's index in it; `None` for bytes already whole.
/// With `verify` (a PDB), the stored copy's identity must also be the key's
/// ([`crate::verify`]) before the marker is written.
pub fn fill(job: &Job<'_>, copy: Response, transfer: Option<(js_sys::Promise, usize)>, verify: Option<Verify>) {
    let (hit_key, meta_key) = (job.keys.hit.clone(), job.keys.meta.clone());
    job.ctx.wait_until(async move {
        let cache = Cache::default();
        // No longer a miss, and not yet known to be whole.
        let _ = cache.delete(meta_key.as_str(), true).await;
        let stored = cache.put(hit_key.as_str(), copy).await.is_ok();
        let whole = match transfer {
            Some((done, i)) => streams::ended(done).await.is_some_and(|w| w.get(i) == Some(&true)),
            None => true,
        };
        let other = match (&verify, stored && whole) {
            (Some(v), true) => matches!(verify::check(v, |o, l| cached_range(&cache, &hit_key, o, l)).await, Checked::Other(_)),
            _ => false,
        };
        if stored && whole && !other {
            if let Ok(mut marker) = Response::ok(meta::WHOLE) {
                let _ = marker.headers_mut().set("Cache-Control", "public, max-age=31536000, immutable");
                let _ = marker.headers_mut().set(headers::META, meta::WHOLE);
                let _ = cache.put(meta_key.as_str(), marker).await;
            }
        } else if stored {
            // Abandoned (it fell behind the client), the transfer failed, or
            // another file than the key's: whatever the store kept goes.
            let _ = cache.delete(hit_key.as_str(), true).await;
        }
    });
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
