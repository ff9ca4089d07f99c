//! The fetch handler: runs the [`crate::rules`] in the Workers runtime.
//!
//! Flow for a file: validate the key → Cache API (hit, or a cached miss unless
//! bypassed) → the R2 store when bound → each upstream × attempt in order
//! (plain, compressed, `file.ptr`), judged by status, type and the first
//! bytes → stream the verified hit to the client while copies of the same
//! bytes, length-checked by the runtime, go into the edge cache and R2 (a
//! copy never slows the client: one that falls behind is abandoned, and R2
//! then gets the file by a second fetch); misses are cached briefly,
//! failures never.

use futures_util::future;
use worker::*;

use crate::rules::{self, ApiError, Route, Verdict};
use crate::streams;

/// The header of an edge-cache meta entry: `whole` or `miss` (see `Job::meta_key`).
const META: &str = "X-Sympath-Meta";

/// How many first bytes of an answer are read to judge it (magic bytes).
const SNIFF_BYTES: usize = 64;

/// Miss TTL when `MISS_TTL` is not set (seconds; SymProxy's default, R94).
const DEFAULT_MISS_TTL: u32 = 300;
/// Per-upstream timeout when `UPSTREAM_TIMEOUT_MS` is not set (SymProxy answers within 25 s, R95).
const DEFAULT_TIMEOUT_MS: u64 = 25_000;
/// The User-Agent sent upstream (R91).
const USER_AGENT: &str = concat!("Microsoft-Symbol-Server/10.0.0.0 (sympath-mirror/", env!("CARGO_PKG_VERSION"), ")");

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|s| !s.is_empty())
}

/// The configured upstreams: `SYMBOL_PATH`, by default Microsoft's server.
fn symbol_path(env: &Env) -> String {
    var(env, "SYMBOL_PATH").unwrap_or_else(|| format!("srv*{}", sympath::model::DEFAULT_SYMBOL_SERVER))
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
struct Turn(String);

enum Queue {
    First(Turn),
    /// Settles when the request before ends its turn.
    Behind(js_sys::Promise),
}

impl Turn {
    fn take(path: &str) -> Queue {
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

/// What an edge-cache meta entry says: `whole` or `miss`.
fn meta_kind(meta: &Response) -> Option<String> {
    meta.headers().get(META).ok().flatten()
}

/// A remembered miss, served.
fn negative_answer(miss: Response) -> Result<Response> {
    let mut miss = mutable(miss)?;
    miss.headers_mut().delete(META)?;
    miss.headers_mut().set("X-Sympath-Cache", "negative")?;
    Ok(miss)
}

/// A response around a native stream.
fn streamed(body: web_sys::ReadableStream) -> Result<Response> {
    Response::from_body(ResponseBody::Stream(body))
}

/// A response whose headers can be changed: responses from the Cache API (and
/// from `fetch`) have immutable headers, so copy them onto a new response
/// around the same body, piped by the runtime alone with its length enforced
/// (a `FixedLengthStream`) when the length is known.
fn mutable(resp: Response) -> Result<Response> {
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
        _ => &["Content-Length", "X-Sympath-Length"],
    };
    let length: Option<u64> = names.iter().find_map(|h| resp.headers().get(h).ok().flatten().and_then(|v| v.parse().ok()));
    let body = match (resp.body(), length) {
        (ResponseBody::Stream(s), Some(len)) => {
            headers.set("Content-Length", &len.to_string())?;
            streamed(streams::pass_stored(s, len).map_err(Error::RustError)?)?
        }
        (ResponseBody::Stream(s), None) => streamed(s.clone())?,
        _ => Response::empty()?,
    };
    Ok(body.with_status(status).with_headers(headers))
}

/// Puts a verified file in the edge cache, then — only once the transfer it
/// was copied from has ended whole, this copy included — its marker: an entry
/// without a marker is never served (see `lookup_file`).
fn fill_edge(job: &Job<'_>, copy: Response, transfer: Option<(js_sys::Promise, usize)>) {
    let (hit_key, meta_key) = (job.hit_key.clone(), job.meta_key.clone());
    job.ctx.wait_until(async move {
        let cache = Cache::default();
        // No longer a miss, and not yet known to be whole.
        let _ = cache.delete(meta_key.as_str(), true).await;
        let stored = cache.put(hit_key.as_str(), copy).await.is_ok();
        let whole = match transfer {
            Some((done, i)) => streams::ended(done).await.is_some_and(|w| w.get(i) == Some(&true)),
            None => true,
        };
        if stored && whole {
            if let Ok(mut marker) = Response::ok("whole") {
                let _ = marker.headers_mut().set("Cache-Control", "public, max-age=31536000, immutable");
                let _ = marker.headers_mut().set(META, "whole");
                let _ = cache.put(meta_key.as_str(), marker).await;
            }
        } else if stored {
            // Abandoned (it fell behind the client) or the transfer failed:
            // whatever the store kept goes.
            let _ = cache.delete(hit_key.as_str(), true).await;
        }
    });
}

fn with_cors(mut resp: Response) -> Result<Response> {
    let h = resp.headers_mut();
    for (k, v) in rules::cors_headers() {
        h.set(k, &v)?;
    }
    Ok(resp)
}

fn json_error(e: &ApiError) -> Result<Response> {
    let mut resp = Response::ok(e.body())?.with_status(e.status);
    resp.headers_mut().set("Content-Type", "application/json")?;
    resp.headers_mut().set("Cache-Control", "no-store")?;
    with_cors(resp)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let url = req.url()?;
    match rules::route(req.method().as_ref(), url.path()) {
        Err(e) => json_error(&e),
        Ok(Route::Preflight) => with_cors(Response::empty()?.with_status(204)),
        Ok(Route::Health) => {
            let body = match rules::upstreams(&symbol_path(&env)) {
                Ok(u) => serde_json::json!({ "ok": true, "upstreams": u.iter().map(|s| s.redacted()).collect::<Vec<_>>() }),
                Err(e) => serde_json::json!({ "ok": false, "error": e }),
            };
            with_cors(Response::from_json(&body)?)
        }
        Ok(Route::Index2) => json_error(&ApiError { status: 404, code: "one_tier", message: "this mirror serves a one-tier store".into() }),
        Ok(Route::File { key, path, .. }) => {
            // HEAD gets exactly GET's answer: the runtime sends the headers
            // (Content-Length included) and drops the body. A cold HEAD fills
            // the cache like a GET, as Cloudflare's own cache does.
            let resp = serve_file(&req, &env, &ctx, &key, &path).await?;
            with_cors(resp)
        }
    }
}

fn bypass(req: &Request) -> bool {
    req.headers().get("Cache-Control").ok().flatten().is_some_and(|v| v.to_ascii_lowercase().contains("no-cache"))
        || req.url().is_ok_and(|u| u.query_pairs().any(|(k, _)| k == "fresh"))
}

/// Everything one file request needs to know, read once from the environment.
struct Job<'a> {
    ctx: &'a Context,
    /// The key's path (`name/id/file`): the R2 object key too.
    path: &'a str,
    hit_key: String,
    /// What the edge cache knows of the file besides its bytes, in one entry
    /// (one lookup): `whole` once a file is whole in the edge cache (see
    /// [`fill_edge`]), or a remembered miss (the 404 to answer).
    meta_key: String,
    bypassed: bool,
    miss_ttl: u32,
    timeout_ms: u64,
    allow_private: bool,
    edge_max: u64,
    /// How far a store's copy may fall behind the client (`COPY_WINDOW_BYTES`).
    copy_window: u64,
    /// The persistent downstream store, when the `SYMBOLS` R2 bucket is bound.
    bucket: Option<Bucket>,
}

/// A body verified as the requested file.
enum Found {
    /// Streamed from upstream: its first bytes (already checked) and the rest.
    Stream { head: streams::Head, length: Option<u64> },
    /// Expanded from a cabinet at the edge.
    Bytes(Vec<u8>),
}

/// What one upstream attempt came to.
enum Outcome {
    Found { found: Found, expanded: bool, pointer: Option<String> },
    Miss(String),
    Failed(String),
}

/// Where a request's time went before its answer: one `Server-Timing` entry
/// per phase reached (edge-cache lookups, R2, upstreams), in milliseconds.
/// The runtime's clock advances only across I/O, which is what is measured.
struct Timing {
    last: f64,
    phases: Vec<(&'static str, f64)>,
}

impl Timing {
    fn new() -> Self {
        Timing { last: js_sys::Date::now(), phases: Vec::new() }
    }

    fn mark(&mut self, phase: &'static str) {
        let now = js_sys::Date::now();
        self.phases.push((phase, now - self.last));
        self.last = now;
    }

    fn header(&self) -> String {
        self.phases.iter().map(|(p, d)| format!("{p};dur={d}")).collect::<Vec<_>>().join(", ")
    }
}

async fn serve_file(req: &Request, env: &Env, ctx: &Context, key: &sympath::key::RequestKey, path: &str) -> Result<Response> {
    let mut timing = Timing::new();
    let mut resp = lookup_file(req, env, ctx, key, path, &mut timing).await?;
    resp.headers_mut().set("Server-Timing", &timing.header())?;
    Ok(resp)
}

async fn lookup_file(
    req: &Request,
    env: &Env,
    ctx: &Context,
    key: &sympath::key::RequestKey,
    path: &str,
    timing: &mut Timing,
) -> Result<Response> {
    let job = Job {
        ctx,
        path,
        hit_key: format!("https://sympath.cache/hit/{path}"),
        meta_key: format!("https://sympath.cache/meta/{path}"),
        bypassed: bypass(req),
        miss_ttl: var(env, "MISS_TTL").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MISS_TTL),
        timeout_ms: var(env, "UPSTREAM_TIMEOUT_MS").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_MS),
        allow_private: var(env, "ALLOW_PRIVATE_REDIRECTS").is_some_and(|v| v == "true"),
        edge_max: var(env, "EDGE_CACHE_MAX_BYTES").and_then(|v| v.parse().ok()).unwrap_or(rules::EDGE_CACHE_MAX),
        copy_window: var(env, "COPY_WINDOW_BYTES").and_then(|v| v.parse().ok()).unwrap_or(streams::COPY_WINDOW),
        bucket: env.bucket("SYMBOLS").ok(),
    };
    let cache = Cache::default();
    // The cache answers Range (206) and If-None-Match (304) itself when asked
    // with the client's conditional headers.
    let lookup = {
        let headers = Headers::new();
        for name in ["Range", "If-None-Match", "If-Modified-Since"] {
            if let Some(v) = req.headers().get(name)? {
                headers.set(name, &v)?;
            }
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        Request::new_with_init(&job.hit_key, &init)?
    };
    // Both edge-cache lookups at once (a miss pays for one round trip, not two).
    let (hit, meta) = future::join(cache.get(&lookup, true), cache.get(job.meta_key.as_str(), true)).await;
    let (hit, meta) = (hit?, meta?);
    let kind = meta.as_ref().and_then(meta_kind);
    let whole = kind.as_deref() == Some("whole");
    let negative = meta.filter(|_| kind.as_deref() == Some("miss") && !job.bypassed);
    timing.mark("edge");
    // An entry without its `whole` marker is not known to be whole (a store may
    // keep part of a failed transfer): it is fetched again, which replaces it.
    if let (Some(hit), true) = (hit, whole) {
        let mut hit = mutable(hit)?;
        hit.headers_mut().set("X-Sympath-Cache", "hit")?;
        return Ok(hit);
    }
    if let Some(miss) = negative {
        return negative_answer(miss);
    }
    if let Some(bucket) = &job.bucket {
        let found = from_r2(bucket, req, &job).await?;
        timing.mark("r2");
        if let Some(resp) = found {
            return Ok(resp);
        }
    }
    // Wait behind a request of this isolate already asking the upstreams for
    // this key; a miss it found is remembered in the edge cache by then. A
    // bypass asks for itself.
    let mut turn = None;
    if !job.bypassed {
        match Turn::take(job.path) {
            Queue::First(t) => turn = Some(t),
            Queue::Behind(before) => {
                let _ = wasm_bindgen_futures::JsFuture::from(before).await;
                timing.mark("queue");
                let meta = cache.get(job.meta_key.as_str(), true).await?;
                if let Some(miss) = meta.filter(|m| meta_kind(m).as_deref() == Some("miss")) {
                    return negative_answer(miss);
                }
            }
        }
    }
    let upstreams = match rules::upstreams(&symbol_path(env)) {
        Ok(u) => u,
        Err(e) => return json_error(&ApiError { status: 500, code: "bad_config", message: e }),
    };
    let mut failures = Vec::new();
    let mut misses = Vec::new();
    for up in &upstreams {
        let name = up.redacted();
        for attempt in rules::attempts(key) {
            // The client asked for the plain file and this is another variant:
            // a cabinet is expanded, a pointer followed.
            let other = attempt.path != path;
            let target = up.join(attempt.path.split('/'));
            let outcome = match fetch_upstream(&target, up.basic_auth(), job.timeout_ms, job.allow_private).await {
                Err(e) => Outcome::Failed(e.to_string()),
                Ok(resp) if other && attempt.variant == sympath::key::Variant::FilePtr => follow_pointer(resp, key, &job).await,
                Ok(resp) => judge(resp, attempt.variant, other, key, job.timeout_ms).await,
            };
            match outcome {
                Outcome::Found { found, expanded, pointer } => {
                    let source = match &pointer {
                        // A pointer's target is fetched without the store's credentials.
                        Some(url) => Source { url: url.clone(), auth: None, variant: sympath::key::Variant::Plain },
                        None => Source { url: target, auth: up.basic_auth(), variant: attempt.variant },
                    };
                    timing.mark("upstream");
                    return deliver(found, &job, &name, source, expanded, pointer.as_deref());
                }
                Outcome::Miss(why) => misses.push(format!("{name}: {why}")),
                Outcome::Failed(why) => {
                    // A store that fails (5xx, timeout, reset) is not asked for
                    // the other variants: the next store is.
                    failures.push(format!("{name}: {why}"));
                    break;
                }
            }
        }
    }
    timing.mark("upstream");
    if failures.is_empty() {
        let e = ApiError { status: 404, code: "not_found", message: format!("not in any upstream ({})", misses.join("; ")) };
        let mut resp = json_error(&e)?;
        resp.headers_mut().set("Cache-Control", &rules::cache_control(&Verdict::Miss(String::new()), job.miss_ttl))?;
        resp.headers_mut().set("X-Sympath-Cache", "miss")?;
        let mut copy = resp.cloned()?;
        copy.headers_mut().set(META, "miss")?;
        let meta_key = job.meta_key;
        ctx.wait_until(async move {
            let _ = Cache::default().put(meta_key.as_str(), copy).await;
            // Requests waiting for this key find the miss remembered now.
            drop(turn);
        });
        Ok(resp)
    } else {
        // A failure may hide a hit: nothing is cached.
        let e = ApiError { status: 502, code: "upstream_failed", message: failures.join("; ") };
        json_error(&e)
    }
}

/// Judges one upstream answer by status, type and first bytes (R62, R89); a
/// verified compressed body the client wanted plain is expanded (R23).
async fn judge(resp: Response, variant: sympath::key::Variant, expand: bool, key: &sympath::key::RequestKey, timeout_ms: u64) -> Outcome {
    let ctype = resp.headers().get("Content-Type").ok().flatten();
    let length: Option<u64> = resp.headers().get("Content-Length").ok().flatten().and_then(|v| v.parse().ok());
    let status = resp.status_code();
    let body = match resp.body() {
        ResponseBody::Stream(s) if status == 200 => s.clone(),
        _ => return verdict_only(status, ctype.as_deref(), variant),
    };
    let head = match streams::read_head(&body, SNIFF_BYTES, timeout_ms).await {
        Ok(h) => h,
        Err(e) => return Outcome::Failed(e),
    };
    match rules::verdict(status, ctype.as_deref(), &head.bytes, variant) {
        Verdict::Hit if expand => match expand_cab(head, length, key, timeout_ms).await {
            Ok(bytes) => Outcome::Found { found: Found::Bytes(bytes), expanded: true, pointer: None },
            Err(why) => Outcome::Miss(why),
        },
        Verdict::Hit => Outcome::Found { found: Found::Stream { head, length }, expanded: false, pointer: None },
        Verdict::Miss(why) => Outcome::Miss(why),
        Verdict::Failed(why) => Outcome::Failed(why),
    }
}

fn verdict_only(status: u16, ctype: Option<&str>, variant: sympath::key::Variant) -> Outcome {
    match rules::verdict(status, ctype, b"", variant) {
        Verdict::Failed(why) => Outcome::Failed(why),
        Verdict::Miss(why) => Outcome::Miss(why),
        Verdict::Hit => Outcome::Miss("upstream answered without a body".into()),
    }
}

/// A `file.ptr` found upstream for a plain-file request: read it (bounded),
/// and follow a pointer to an http(s) URL under the redirect rules (R63, R64, R88).
async fn follow_pointer(resp: Response, key: &sympath::key::RequestKey, job: &Job<'_>) -> Outcome {
    let status = resp.status_code();
    let ctype = resp.headers().get("Content-Type").ok().flatten();
    let text = match resp.body() {
        ResponseBody::Stream(s) if status == 200 => match streams::read_all(s, rules::MAX_POINTER_BYTES, job.timeout_ms).await {
            Ok(t) => t,
            Err(e) if e.contains("over") => {
                return Outcome::Miss(format!("file.ptr over {} bytes is not a pointer", rules::MAX_POINTER_BYTES))
            }
            Err(e) => return Outcome::Failed(e),
        },
        _ => Vec::new(),
    };
    match rules::verdict(status, ctype.as_deref(), &text, sympath::key::Variant::FilePtr) {
        Verdict::Hit => {}
        Verdict::Miss(why) => return Outcome::Miss(format!("file.ptr: {why}")),
        Verdict::Failed(why) => return Outcome::Failed(format!("file.ptr: {why}")),
    }
    let (url, compressed) = match rules::pointer(&text) {
        rules::Pointer::Follow { url, compressed } => (url, compressed),
        rules::Pointer::Miss(why) => return Outcome::Miss(why),
    };
    // A pointer is the store sending the mirror elsewhere: the redirect rules apply.
    if let Err(why) = rules::redirect_allowed(&url, job.allow_private) {
        return Outcome::Miss(format!("file.ptr: {why}"));
    }
    let variant = if compressed { sympath::key::Variant::Compressed } else { sympath::key::Variant::Plain };
    let outcome = match fetch_upstream(&url, None, job.timeout_ms, job.allow_private).await {
        Err(e) => Outcome::Failed(format!("file.ptr target {url}: {e}")),
        Ok(resp) => judge(resp, variant, compressed, key, job.timeout_ms).await,
    };
    match outcome {
        Outcome::Found { found, expanded, .. } => Outcome::Found { found, expanded, pointer: Some(url) },
        Outcome::Miss(why) => Outcome::Miss(format!("file.ptr target {url}: {why}")),
        failed => failed,
    }
}

/// Where a verified file came from, to fetch it again for the R2 store
/// when its first copy was abandoned (see [`fill_r2`]).
struct Source {
    url: String,
    auth: Option<String>,
    variant: sympath::key::Variant,
}

/// The headers of a file served from upstream (the client's answer and its
/// edge-cache copy alike).
fn file_headers(job: &Job<'_>, upstream: &str, expanded: bool, pointer: Option<&str>, length: Option<u64>) -> Result<Headers> {
    let h = Headers::new();
    h.set("Content-Type", "application/octet-stream")?;
    h.set("Cache-Control", &rules::cache_control(&Verdict::Hit, job.miss_ttl))?;
    h.set("ETag", &rules::etag(job.path))?;
    h.set("Accept-Ranges", "bytes")?;
    h.set("X-Sympath-Upstream", upstream)?;
    if expanded {
        h.set("X-Sympath-Expanded", "cab")?;
    }
    if let Some(url) = pointer {
        h.set("X-Sympath-Pointer", url)?;
    }
    if let Some(len) = length {
        h.set("Content-Length", &len.to_string())?;
        h.set("X-Sympath-Length", &len.to_string())?;
    }
    Ok(h)
}

/// Serves a verified file to the client while copies of the same bytes go to
/// the edge cache and the R2 store. Every copy is length-checked by the
/// runtime and written only if the transfer ends whole; a copy that falls
/// behind the client is abandoned rather than buffered (R2 then gets the file
/// by a second fetch once the client's transfer has ended).
fn deliver(found: Found, job: &Job<'_>, upstream: &str, source: Source, expanded: bool, pointer: Option<&str>) -> Result<Response> {
    let length = match &found {
        Found::Bytes(b) => Some(b.len() as u64),
        Found::Stream { length, .. } => *length,
    };
    let not_edge = rules::edge_uncacheable(length, job.edge_max);
    let to_edge = not_edge.is_none();
    // R2 needs the length up front.
    let to_r2 = job.bucket.is_some() && length.is_some();
    let headers = || file_headers(job, upstream, expanded, pointer, length);
    let (out, edge, r2, transfer) = match found {
        Found::Bytes(bytes) => {
            let edge = to_edge.then(|| Response::from_bytes(bytes.clone())).transpose()?;
            let r2 = to_r2.then(|| Data::Bytes(bytes.clone()));
            (Response::from_bytes(bytes)?, edge, r2, None)
        }
        Found::Stream { head, length } => {
            let copies = u32::from(to_edge) + u32::from(to_r2);
            let t = streams::pass_body(&head.rest, &head.js, length, job.timeout_ms, copies, job.copy_window).map_err(Error::RustError)?;
            let mut bodies = t.copies.into_iter();
            let edge = if to_edge { bodies.next().map(streamed).transpose()? } else { None };
            let r2 = if to_r2 { bodies.next().map(Data::ReadableStream) } else { None };
            // The pump lives as long as the transfer, client gone or not.
            let done = t.done.clone();
            job.ctx.wait_until(async move {
                let _ = streams::ended(done).await;
            });
            (streamed(t.readable)?, edge, r2, Some(t.done))
        }
    };
    if let Some(copy) = edge {
        fill_edge(job, copy.with_headers(headers()?), transfer.clone().map(|d| (d, 0)));
    }
    if let (Some(body), Some(len)) = (r2, length) {
        let mut meta = std::collections::HashMap::new();
        meta.insert("upstream".to_string(), upstream.to_string());
        if expanded {
            meta.insert("expanded".to_string(), "cab".to_string());
        }
        if let Some(url) = pointer {
            meta.insert("pointer".to_string(), url.to_string());
        }
        fill_r2(job, body, meta, transfer.map(|d| (d, usize::from(to_edge))), source, len);
    }
    let mut out = out.with_headers(headers()?);
    if let Some(why) = not_edge {
        out.headers_mut().set("X-Sympath-Note", &why)?;
    }
    out.headers_mut().set("X-Sympath-Cache", if job.bypassed { "bypass" } else { "miss" })?;
    Ok(out)
}

/// Writes a verified file to the R2 store. A copy of a streamed transfer is
/// kept only if the transfer ended whole; one abandoned for falling behind the
/// client is fetched again from `source` for R2 alone, after the client's
/// transfer has ended (so the two never compete).
fn fill_r2(
    job: &Job<'_>,
    body: Data,
    meta: std::collections::HashMap<String, String>,
    transfer: Option<(js_sys::Promise, usize)>,
    source: Source,
    length: u64,
) {
    let Some(bucket) = job.bucket.clone() else { return };
    let path = job.path.to_string();
    let (timeout_ms, allow_private) = (job.timeout_ms, job.allow_private);
    job.ctx.wait_until(async move {
        let stored = put_r2(&bucket, &path, body, meta.clone()).await;
        let Some((done, i)) = transfer else { return };
        match streams::ended(done).await {
            Some(whole) if whole.get(i) == Some(&true) => {}
            ended => {
                // The runtime fails a put whose body fails; should a store
                // keep a part anyway, it loses it here.
                if stored {
                    let _ = bucket.delete(path.clone()).await;
                }
                if ended.is_some() {
                    refill(&bucket, &path, meta, &source, length, timeout_ms, allow_private).await;
                }
            }
        }
    });
}

async fn put_r2(bucket: &Bucket, path: &str, body: Data, meta: std::collections::HashMap<String, String>) -> bool {
    let http = HttpMetadata { content_type: Some("application/octet-stream".into()), ..Default::default() };
    bucket.put(path.to_string(), body).http_metadata(http).custom_metadata(meta).execute().await.is_ok()
}

/// Fetches a file again for the R2 store alone, judged like the first time
/// and required to have the same length; R2 sets the pace.
async fn refill(
    bucket: &Bucket,
    path: &str,
    meta: std::collections::HashMap<String, String>,
    source: &Source,
    length: u64,
    timeout_ms: u64,
    allow_private: bool,
) {
    let Ok(resp) = fetch_upstream(&source.url, source.auth.clone(), timeout_ms, allow_private).await else { return };
    let Ok(key) = sympath::key::RequestKey::parse(path) else { return };
    let Outcome::Found { found: Found::Stream { head, length: Some(len) }, .. } =
        judge(resp, source.variant, false, &key, timeout_ms).await
    else {
        return;
    };
    if len != length {
        return;
    }
    let Ok(t) = streams::pass_body(&head.rest, &head.js, Some(len), timeout_ms, 0, 0) else { return };
    let stored = put_r2(bucket, path, Data::ReadableStream(t.readable), meta).await;
    if stored && streams::ended(t.done).await.is_none() {
        let _ = bucket.delete(path.to_string()).await;
    }
}

/// Serves a file from the R2 store if it is there: whole (200, also put in
/// the edge cache), one range (206, 416), or 304 for a matching ETag.
async fn from_r2(bucket: &Bucket, req: &Request, job: &Job<'_>) -> Result<Option<Response>> {
    let etag = rules::etag(job.path);
    let range = req.headers().get("Range")?.as_deref().and_then(rules::ByteRange::parse);
    if req.headers().get("If-None-Match")?.is_some_and(|v| rules::none_match(&v, &etag)) {
        let Some(head) = bucket.head(job.path).await? else { return Ok(None) };
        let mut resp = Response::empty()?.with_status(304);
        r2_headers(resp.headers_mut(), &head, &etag)?;
        return Ok(Some(resp));
    }
    let r2_range = range.map(|r| match r {
        rules::ByteRange::Closed(f, l) => Range::OffsetWithLength { offset: f, length: l - f + 1 },
        rules::ByteRange::From(f) => Range::OffsetToEnd { offset: f },
        rules::ByteRange::Suffix(n) => Range::Suffix { suffix: n },
    });
    let object = match &r2_range {
        // A range past the end makes R2 throw: answer 416 from the object's size.
        Some(rr) => match bucket.get(job.path).range(rr.clone()).execute().await {
            Ok(o) => o,
            Err(_) => {
                let Some(head) = bucket.head(job.path).await? else { return Ok(None) };
                let e = ApiError { status: 416, code: "range_not_satisfiable", message: format!("the file has {} bytes", head.size()) };
                let mut resp = json_error(&e)?;
                resp.headers_mut().set("Content-Range", &format!("bytes */{}", head.size()))?;
                return Ok(Some(resp));
            }
        },
        None => bucket.get(job.path).execute().await?,
    };
    let Some(object) = object else { return Ok(None) };
    let size = object.size();
    let Some(body) = object.body() else { return Ok(None) };
    let ResponseBody::Stream(stream) = body.response_body()? else { return Ok(None) };
    let span = range.and_then(|r| r.resolve(size));
    let (mut resp, len) = match span {
        Some((first, last)) => {
            let len = last - first + 1;
            let readable = streams::pass_stored(&stream, len).map_err(Error::RustError)?;
            let mut resp = streamed(readable)?.with_status(206);
            resp.headers_mut().set("Content-Range", &format!("bytes {first}-{last}/{size}"))?;
            (resp, len)
        }
        None => {
            // Whole and small enough: a copy goes into the edge cache, so that
            // the next request in this location is an edge-cache hit.
            let to_edge = rules::edge_uncacheable(Some(size), job.edge_max).is_none();
            let empty = js_sys::Uint8Array::new_with_length(0);
            let t = streams::pass_body(&stream, &empty, Some(size), job.timeout_ms, u32::from(to_edge), job.copy_window)
                .map_err(Error::RustError)?;
            if let Some(copy) = t.copies.into_iter().next() {
                let mut copy = streamed(copy)?;
                r2_headers(copy.headers_mut(), &object, &etag)?;
                copy.headers_mut().set("Content-Length", &size.to_string())?;
                fill_edge(job, copy, Some((t.done.clone(), 0)));
            }
            let done = t.done;
            job.ctx.wait_until(async move {
                let _ = streams::ended(done).await;
            });
            (streamed(t.readable)?, size)
        }
    };
    r2_headers(resp.headers_mut(), &object, &etag)?;
    resp.headers_mut().set("Content-Length", &len.to_string())?;
    resp.headers_mut().set("X-Sympath-Cache", "r2")?;
    Ok(Some(resp))
}

fn r2_headers(h: &mut Headers, object: &Object, etag: &str) -> Result<()> {
    h.set("Content-Type", "application/octet-stream")?;
    h.set("Cache-Control", &rules::cache_control(&Verdict::Hit, 0))?;
    h.set("ETag", etag)?;
    h.set("Accept-Ranges", "bytes")?;
    h.set("X-Sympath-Length", &object.size().to_string())?;
    let meta = object.custom_metadata().unwrap_or_default();
    if let Some(up) = meta.get("upstream") {
        h.set("X-Sympath-Upstream", up)?;
    }
    if meta.get("expanded").is_some_and(|v| v == "cab") {
        h.set("X-Sympath-Expanded", "cab")?;
    }
    if let Some(url) = meta.get("pointer") {
        h.set("X-Sympath-Pointer", url)?;
    }
    Ok(())
}

/// Buffers a verified compressed body (bounded) and expands it: the client asked
/// for the plain file, and only the expanded bytes are served and cached (R23).
async fn expand_cab(
    head: streams::Head,
    length: Option<u64>,
    key: &sympath::key::RequestKey,
    timeout_ms: u64,
) -> std::result::Result<Vec<u8>, String> {
    let len = length.ok_or("a compressed body without Content-Length is not expanded at the edge")?;
    if len > rules::MAX_COMPRESSED_AT_EDGE {
        return Err(format!(
            "compressed body of {len} bytes is over the {}-byte limit for expanding at the edge",
            rules::MAX_COMPRESSED_AT_EDGE
        ));
    }
    let rest = streams::read_all(&head.rest, usize::try_from(len).unwrap_or(usize::MAX), timeout_ms).await?;
    let mut buf = head.bytes;
    buf.extend_from_slice(&rest);
    if buf.len() as u64 != len {
        return Err(format!("short body: {} of {len} bytes", buf.len()));
    }
    let (inner, bytes) = sympath_ident::decompress_cab_with_limit(&buf, rules::MAX_EXPANDED_AT_EDGE).map_err(|e| e.to_string())?;
    let sympath::key::RequestKey::File { name, .. } = key else { return Err("not a file".into()) };
    if !inner.eq_ignore_ascii_case(name) {
        return Err(format!("the cabinet holds {inner}, not {name}"));
    }
    let magic = sympath_ident::sniff(&bytes);
    if !magic.is_symbol_file() || magic == sympath_ident::Magic::Cab {
        return Err(format!("the expanded file is not a symbol file ({})", magic.as_str()));
    }
    Ok(bytes)
}

/// One upstream GET with a timeout for the answer's headers. `auth` (the
/// store URL's credentials) goes in `Authorization` (R28); redirects are
/// followed by hand so that they never carry it (R88).
async fn fetch_upstream(target: &str, auth: Option<String>, timeout_ms: u64, allow_private: bool) -> Result<Response> {
    let headers = Headers::new();
    headers.set("User-Agent", USER_AGENT)?;
    if let Some(auth) = auth {
        headers.set("Authorization", &auth)?;
    }
    let resp = send_within(target, headers, timeout_ms).await?;
    if (300..400).contains(&resp.status_code()) {
        let location = resp.headers().get("Location")?.ok_or_else(|| Error::RustError("redirect without Location".into()))?;
        let next = Url::parse(target).and_then(|u| u.join(&location)).map_err(|e| Error::RustError(format!("bad redirect: {e}")))?;
        rules::redirect_allowed(next.as_str(), allow_private).map_err(Error::RustError)?;
        let h = Headers::new();
        h.set("User-Agent", USER_AGENT)?;
        let resp = send_within(next.as_str(), h, timeout_ms).await?;
        if (300..400).contains(&resp.status_code()) {
            return Err(Error::RustError(format!("{next} redirected again; the mirror follows one redirect")));
        }
        return Ok(resp);
    }
    Ok(resp)
}

/// A GET that fails when no answer (status and headers) comes within `timeout_ms`.
async fn send_within(url: &str, headers: Headers, timeout_ms: u64) -> Result<Response> {
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers).with_redirect(RequestRedirect::Manual);
    let req = Request::new_with_init(url, &init)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(req);
    let send = Box::pin(fetch.send_with_signal(&signal));
    let delay = Box::pin(Delay::from(std::time::Duration::from_millis(timeout_ms)));
    let answer = match future::select(send, delay).await {
        future::Either::Left((r, _)) => r,
        future::Either::Right(_) => {
            controller.abort();
            Err(Error::RustError(format!("no answer within {timeout_ms} ms")))
        }
    };
    answer
}
