//! The fetch handler: routes a request and runs a file's lookup.
//!
//! Flow for a file: validate the key → one edge-cache lookup
//! ([`crate::edge`]: hit, or a remembered miss unless bypassed) → the R2 store
//! when bound ([`crate::r2`]), read once the first upstream request has not
//! answered within `R2_HEDGE_MS` (or has answered other than 2xx) → the
//! upstream loop: the core's lookup engine ([`sympath::lookup`])
//! says what to fetch, [`crate::upstream`] fetches and reports, until the
//! engine takes the file (→ [`crate::deliver`]) or is done (a miss, cached
//! briefly, or a failure, never cached).

use sympath::headers;
use worker::*;

use crate::config::Config;
use crate::deliver::deliver;
use crate::edge::{self, Cached, Keys, Misses, Queue, Turn};
use crate::rules::{self, ApiError, Route};
use crate::upstream;
use futures_util::future;
use sympath::lookup::{Done, Fetch, Step};

/// The configuration, from the worker's `[vars]` (parsed once per isolate).
fn config(env: &Env) -> std::result::Result<Config, crate::config::ConfigError> {
    Config::from_vars_cached(|name| env.var(name).ok().map(|v| v.to_string()))
}

fn with_cors(mut resp: Response) -> Result<Response> {
    let h = resp.headers_mut();
    for (k, v) in rules::cors_headers() {
        h.set(k, &v)?;
    }
    Ok(resp)
}

/// An error answer: its JSON body, never stored, with CORS.
pub fn json_error(e: &ApiError) -> Result<Response> {
    let mut resp = Response::ok(e.body())?.with_status(e.status);
    resp.headers_mut().set("Content-Type", "application/json")?;
    resp.headers_mut().set("Cache-Control", "no-store")?;
    with_cors(resp)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let url = req.inner().url();
    let (path, query) = rules::url_parts(&url);
    // The method as sent: `worker::Method` reads any method it does not
    // know (PROPFIND, MKCOL, …) as GET.
    match rules::route(&req.inner().method(), path) {
        Err(e) => json_error(&e),
        Ok(Route::Preflight) => with_cors(Response::empty()?.with_status(204)),
        Ok(Route::Health) => {
            let body = match config(&env) {
                Ok(c) => serde_json::json!({ "ok": true, "upstreams": c.upstreams.iter().map(|s| s.redacted()).collect::<Vec<_>>() }),
                Err(e) => serde_json::json!({ "ok": false, "error": e.to_string() }),
            };
            with_cors(Response::from_json(&body)?)
        }
        Ok(Route::Index2) => json_error(&ApiError { status: 404, code: "one_tier", message: "this mirror serves a one-tier store".into() }),
        Ok(Route::File { key, path, head }) => {
            // HEAD gets GET's headers from the edge cache and R2 (the runtime
            // drops the body). On a miss the upstreams are asked with HEAD
            // (the engine's `Method::Head`): nothing is downloaded or stored.
            let mut timing = Timing::new();
            let keys = Keys::new(&path);
            let caching = caching(&req, query);
            // One lookup: the file's entry is there only once it is known
            // whole. A hit or a remembered miss is answered from its entry,
            // which carries every header of the answer (CORS included). The
            // fast path may have looked already (a plain request it could
            // not answer): its entry is used, not looked up again.
            let looked = edge::looked_up(&req);
            // `fast`: the entry came from the fast path's lookup.
            let phase = if looked.is_some() { "fast" } else { "edge" };
            let cached = edge::lookup(&req, &keys, caching, looked).await?;
            timing.mark(phase);
            let in_r2 = match cached {
                Cached::Hit(mut resp) | Cached::Miss(mut resp) => {
                    resp.headers_mut().set("Server-Timing", &timing.header())?;
                    return Ok(resp);
                }
                Cached::InR2 => true,
                Cached::Nothing => false,
            };
            // The configuration is needed from here on (the upstreams).
            let config = match config(&env) {
                Ok(c) => c,
                Err(e) => return json_error(&ApiError { status: 500, code: "bad_config", message: e.to_string() }),
            };
            let job = Job { ctx: &ctx, path: &path, keys, caching, config, bucket: env.bucket("SYMBOLS").ok(), head, in_r2 };
            let mut resp = lookup_file(&req, &job, &key, &mut timing).await?;
            resp.headers_mut().set("Server-Timing", &timing.header())?;
            with_cors(resp)
        }
    }
}

/// The edge-cache entry a plain request may be answered from without
/// entering the Rust handler (`worker/js/entry.mjs`, the fast path of a hit):
/// `Some` only for a GET or HEAD of a valid key ([`rules::route`]) with no
/// query string. The entry's key is [`Keys::new`]'s, so the fast path and
/// this handler read the same entry; the fast path serves only a whole file
/// entry and hands everything else (misses, markers, conditional or ranged
/// requests) to [`fetch`], which looks again.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = hitKey)]
pub fn hit_key(method: &str, url: &str) -> Option<String> {
    let (path, query) = rules::url_parts(url);
    if query.is_some() {
        return None;
    }
    match rules::route(method, path) {
        Ok(Route::File { path, .. }) => Some(Keys::new(&path).entry),
        _ => None,
    }
}

/// The names the fast path needs: the entry headers it reads — an entry
/// carrying [`headers::META`] is not a file (a remembered miss or a marker),
/// and a file entry is served only when its `Content-Length` is the file's
/// length the mirror stored with it ([`headers::LENGTH`]), as
/// [`edge::lookup`] requires — and the request property in which it hands
/// the entry it looked up, or `null` for none, to [`fetch`]
/// ([`edge::LOOKED`]), so that a miss costs one edge-cache lookup, not two.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = hitHeaders)]
pub fn hit_headers() -> Vec<String> {
    vec![headers::META.to_string(), headers::LENGTH.to_string(), edge::LOOKED.to_string()]
}

/// Whether the client bypassed the caches (`Cache-Control: no-cache` or `?fresh`).
fn caching(req: &Request, query: Option<&str>) -> Misses {
    let bypass = req.headers().get("Cache-Control").ok().flatten().is_some_and(|v| v.to_ascii_lowercase().contains("no-cache"))
        || rules::query_bypasses(query);
    if bypass {
        Misses::Ignore
    } else {
        Misses::Use
    }
}

/// Everything one file request needs to know, read once.
pub struct Job<'a> {
    /// For work that outlives the answer (`wait_until`).
    pub ctx: &'a Context,
    /// The key's path (`name/id/file`): the R2 object key too.
    pub path: &'a str,
    /// Its edge-cache entries.
    pub keys: Keys,
    /// Whether remembered misses count ([`Misses::Ignore`]: a bypass).
    pub caching: Misses,
    /// The mirror's settings.
    pub config: Config,
    /// The persistent downstream store, when the `SYMBOLS` R2 bucket is bound.
    pub bucket: Option<Bucket>,
    /// A HEAD request: the upstreams are asked with HEAD.
    pub head: bool,
    /// The edge cache says the R2 store holds the file ([`Cached::InR2`]).
    pub in_r2: bool,
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

/// A file the edge cache does not have (or a bypass): R2, then the upstreams.
async fn lookup_file(req: &Request, job: &Job<'_>, key: &sympath::key::RequestKey, timing: &mut Timing) -> Result<Response> {
    // A range (issue 11): the R2 store first when it is bound (it may hold
    // the whole file), then the chunks of a large file, held or — if its
    // version was checked — fetched after a HEAD (crate::chunks). A range
    // of neither goes on to the upstreams like any miss.
    let mut r2_read = false;
    if !job.head && req.headers().has("Range")? {
        if let Some(bucket) = &job.bucket {
            let stored = crate::r2::serve(bucket, req, job).await?;
            timing.mark("r2");
            r2_read = true;
            if let Some(resp) = stored {
                return Ok(resp);
            }
        }
        if let Some(resp) = crate::chunks::serve_cached(req, job, key).await? {
            timing.mark("chunks");
            return Ok(resp);
        }
    }
    // Wait behind a request of this isolate already asking the upstreams for
    // this key; a miss it found is remembered in the edge cache by then. A
    // bypass asks for itself.
    let mut turn = None;
    if job.caching == Misses::Use {
        match Turn::take(job.path) {
            Queue::First(t) => turn = Some(t),
            Queue::Behind(before) => {
                let _ = wasm_bindgen_futures::JsFuture::from(before).await;
                timing.mark("queue");
                if let Some(miss) = edge::remembered_miss(&job.keys).await? {
                    return Ok(miss);
                }
            }
        }
    }
    // The upstream loop: the engine says what to fetch → fetch and report → repeat.
    let method = if job.head { sympath::lookup::Method::Head } else { sympath::lookup::Method::Get };
    let Some(mut lookup) = job.config.lookup_with(key, method) else {
        return json_error(&ApiError { status: 404, code: "one_tier", message: "this mirror serves a one-tier store".into() });
    };
    let mut next = lookup.next();
    // The R2 store, read while the first upstream request is under way
    // (once the upstream has had `R2_HEDGE_MS` to answer): R2 adds no round
    // trip in front of a miss, and when it has the file the upstream's
    // answer is dropped (its request aborted).
    let mut first = None;
    // R2's answer when the upstream's first answer came first with a 2xx (a
    // read under way, or not begun): consulted only if the engine does not
    // take that answer.
    let mut r2_late: Option<R2Read<'_>> = None;
    if let Some(bucket) = job.bucket.as_ref().filter(|_| !r2_read) {
        match &next {
            Step::Fetch(fetch) if !job.in_r2 => {
                let raced = r2_or_first(bucket, req, job, fetch).await?;
                r2_late = raced.late;
                if raced.asked {
                    timing.mark("r2");
                }
                if let Some(resp) = raced.stored {
                    // Too large for the edge cache: say where it is, so
                    // that the next request here asks R2 alone.
                    let size = resp.headers().get(headers::LENGTH)?.and_then(|v| v.parse().ok());
                    if rules::edge_uncacheable(size, job.config.edge_max).is_some() {
                        edge::remember_in_r2(job);
                    }
                    return Ok(resp);
                }
                first = raced.sent;
            }
            _ => {
                let stored = crate::r2::serve(bucket, req, job).await?;
                timing.mark("r2");
                if let Some(resp) = stored {
                    return Ok(resp);
                }
            }
        }
    }
    // A client reading a part (one valid range) gets that part from the upstream.
    let range = match (job.head, req.headers().get("Range")?) {
        (false, Some(h)) => rules::ByteRange::parse(&h).map(|r| (h, r)),
        _ => None,
    };
    let done = loop {
        let fetch = match next {
            Step::Fetch(fetch) => fetch,
            Step::Done(done) => break done,
        };
        let found = match first.take() {
            Some((sent, limits)) => upstream::judge(&mut lookup, &fetch, sent, limits).await,
            None => upstream::run(&mut lookup, &fetch, job.config.timeout_ms, job.config.deadline_ms).await,
        };
        let Some(found) = found else {
            // The engine refused the answer: R2's read, if still under way, may have the file.
            let stored = match r2_late.take() {
                Some(late) => late.await?,
                None => None,
            };
            if let Some(resp) = stored {
                timing.mark("r2");
                return Ok(resp);
            }
            next = lookup.next();
            continue;
        };
        timing.mark("upstream");
        if let Some((header, r)) = &range {
            match crate::ranged::serve(found, &fetch, header, *r, job, &mut lookup).await? {
                Some(resp) => return Ok(resp),
                // Another file than the key's (R70): the engine was told; it goes on.
                None => {
                    next = lookup.next();
                    continue;
                }
            }
        }
        let r2 = if r2_late.is_some() { crate::r2::Answer::Unheard } else { crate::r2::Answer::Absent };
        return deliver(found, job, r2);
    };
    timing.mark("upstream");
    match done {
        Done::NotFound { reason } => {
            let e = ApiError { status: 404, code: "not_found", message: format!("not in any upstream ({reason})") };
            let mut resp = json_error(&e)?;
            resp.headers_mut().set("Cache-Control", &rules::cache_control_miss(job.config.miss_ttl))?;
            resp.headers_mut().set(headers::CACHE, headers::cache::MISS)?;
            // Requests waiting for this key find the miss remembered once their turn comes.
            edge::remember_miss(job, &mut resp, turn)?;
            Ok(resp)
        }
        // A failure may hide a hit: nothing is cached.
        Done::Failed { reason } | Done::Found { url: reason } => {
            let mut resp = json_error(&ApiError { status: 502, code: "upstream_failed", message: reason })?;
            // A busy store's wait is passed on (the answer is not cached).
            if let Some(secs) = lookup.retry_after() {
                resp.headers_mut().set("Retry-After", &secs.to_string())?;
            }
            Ok(resp)
        }
    }
}

/// The first upstream request's answer, asked for while the R2 store is read.
type Sent = (Result<Response>, crate::streams::Limits);

/// A read of the R2 store, under way or not yet begun (a future does nothing until polled).
type R2Read<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<Response>>> + 'a>>;

/// What the race of the R2 store and the first upstream request came to.
struct Raced<'a> {
    /// R2's file: the answer (the upstream's request aborted).
    stored: Option<Response>,
    /// The upstream's answer, to judge (unless R2 had the file).
    sent: Option<Sent>,
    /// R2's answer not heard yet: the upstream answered first with a 2xx.
    late: Option<R2Read<'a>>,
    /// Whether R2 was asked.
    asked: bool,
}

impl<'a> Raced<'a> {
    /// R2 had the file: the upstream's request is aborted, and its answer's
    /// body (if one came) cancelled.
    fn r2(resp: Response, controller: &upstream::Abort, sent: Option<&Result<Response>>) -> Self {
        controller.abort();
        if let Some(Ok(answer)) = sent {
            if let ResponseBody::Stream(s) = answer.body() {
                let _ = s.cancel();
            }
        }
        Raced { stored: Some(resp), sent: None, late: None, asked: true }
    }

    /// The upstream's answer to judge; `late`: R2's answer if not heard yet.
    fn upstream(sent: Sent, late: Option<R2Read<'a>>, asked: bool) -> Self {
        Raced { stored: None, sent: Some(sent), late, asked }
    }
}

/// R2's answer for the file and, unless R2 has it, the answer to `fetch` (the
/// engine's first request). The upstream request is sent first; R2 is asked
/// once the upstream has not answered within `R2_HEDGE_MS` (or has answered
/// other than 2xx), so that a miss an upstream answers at once costs no R2
/// read and R2 never adds a round trip: an upstream that is slower than R2
/// (Microsoft's server, with its redirect) gets R2's file after the hedge.
/// When R2 answers first with the file the upstream request is aborted (or
/// its answer's body cancelled); when the upstream answers first with a 2xx,
/// R2 is not waited for: its read, begun or not, is handed back, to be
/// consulted only if the engine does not take that answer.
async fn r2_or_first<'a>(bucket: &'a Bucket, req: &'a Request, job: &'a Job<'_>, fetch: &Fetch) -> Result<Raced<'a>> {
    let limits = crate::streams::Limits::starting_now(job.config.timeout_ms, job.config.deadline_ms);
    let controller = upstream::Abort::default();
    // Not polled yet: R2 is not asked until it is.
    let stored: R2Read<'a> = Box::pin(crate::r2::serve(bucket, req, job));
    let send = Box::pin(upstream::send_within(fetch, job.config.timeout_ms.min(job.config.deadline_ms), &controller));
    let hedge = Box::pin(Delay::from(std::time::Duration::from_millis(job.config.r2_hedge_ms)));
    let (sent, stored, asked) = match future::select(send, hedge).await {
        future::Either::Left((sent, _)) => (sent, stored, false),
        future::Either::Right(((), send)) => match future::select(send, stored).await {
            // R2 answered first.
            future::Either::Right((stored, send)) => {
                return Ok(match stored? {
                    Some(resp) => Raced::r2(resp, &controller, None),
                    None => Raced::upstream((send.await, limits), None, true),
                });
            }
            future::Either::Left((sent, stored)) => (sent, stored, true),
        },
    };
    // The upstream answered first. A 2xx is judged and served without
    // waiting for R2. Any other answer (a redirect, a 404, a failure) waits
    // for R2, which may hold a file the upstream does not, or no longer.
    if sent.as_ref().is_ok_and(|r| (200..300).contains(&r.status_code())) {
        return Ok(Raced::upstream((sent, limits), Some(stored), asked));
    }
    Ok(match stored.await? {
        Some(resp) => Raced::r2(resp, &controller, Some(&sent)),
        None => Raced::upstream((sent, limits), None, true),
    })
}
