//! The fetch handler: routes a request and runs a file's lookup.
//!
//! Flow for a file: validate the key → the edge cache ([`crate::edge`]: hit,
//! or a remembered miss unless bypassed) → the R2 store when bound
//! ([`crate::r2`]) → the upstream loop: the core's lookup engine
//! ([`sympath::lookup`]) says what to fetch, [`crate::upstream`] fetches and
//! reports, until the engine takes the file (→ [`crate::deliver`]) or is done
//! (a miss, cached briefly, or a failure, never cached).

use sympath::headers;
use worker::*;

use crate::config::Config;
use crate::deliver::deliver;
use crate::edge::{self, Cached, Keys, Misses, Queue, Turn};
use crate::rules::{self, ApiError, Route};
use crate::upstream;
use sympath::lookup::{Done, Step};

/// The configuration, from the worker's `[vars]`.
fn config(env: &Env) -> std::result::Result<Config, crate::config::ConfigError> {
    Config::from_vars(|name| env.var(name).ok().map(|v| v.to_string()))
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
    let url = req.url()?;
    // The method as sent: `worker::Method` reads any method it does not
    // know (PROPFIND, MKCOL, …) as GET.
    match rules::route(&req.inner().method(), url.path()) {
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
            let config = match config(&env) {
                Ok(c) => c,
                Err(e) => return json_error(&ApiError { status: 500, code: "bad_config", message: e.to_string() }),
            };
            let job = Job {
                ctx: &ctx,
                path: &path,
                keys: Keys::new(&path),
                caching: caching(&req),
                config,
                bucket: env.bucket("SYMBOLS").ok(),
                head,
            };
            let mut timing = Timing::new();
            let mut resp = lookup_file(&req, &job, &key, &mut timing).await?;
            resp.headers_mut().set("Server-Timing", &timing.header())?;
            with_cors(resp)
        }
    }
}

/// Whether the client bypassed the caches (`Cache-Control: no-cache` or `?fresh`).
fn caching(req: &Request) -> Misses {
    let bypass = req.headers().get("Cache-Control").ok().flatten().is_some_and(|v| v.to_ascii_lowercase().contains("no-cache"))
        || req.url().is_ok_and(|u| u.query_pairs().any(|(k, _)| k == "fresh"));
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

async fn lookup_file(req: &Request, job: &Job<'_>, key: &sympath::key::RequestKey, timing: &mut Timing) -> Result<Response> {
    // An entry without its `whole` marker is not known to be whole (a store may
    // keep part of a failed transfer): it is fetched again, which replaces it.
    let cached = edge::lookup(req, &job.keys, job.caching).await?;
    timing.mark("edge");
    match cached {
        Cached::Hit(resp) | Cached::Miss(resp) => return Ok(resp),
        Cached::Nothing => {}
    }
    if let Some(bucket) = &job.bucket {
        let found = crate::r2::serve(bucket, req, job).await?;
        timing.mark("r2");
        if let Some(resp) = found {
            return Ok(resp);
        }
    }
    // Issue 11: a range of a large file whose chunks are held, or whose
    // version was checked (a HEAD and the missing chunks; crate::chunks).
    if let Some(resp) = crate::chunks::serve_cached(req, job, key).await? {
        timing.mark("chunks");
        return Ok(resp);
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
    // A client reading a part (one valid range) gets that part from the upstream.
    let range = match (job.head, req.headers().get("Range")?) {
        (false, Some(h)) => rules::ByteRange::parse(&h).map(|r| (h, r)),
        _ => None,
    };
    let done = loop {
        let fetch = match lookup.next() {
            Step::Fetch(fetch) => fetch,
            Step::Done(done) => break done,
        };
        if let Some(found) = upstream::run(&mut lookup, &fetch, job.config.timeout_ms, job.config.deadline_ms).await {
            timing.mark("upstream");
            if let Some((header, r)) = &range {
                match crate::ranged::serve(found, &fetch, header, *r, job, &mut lookup).await? {
                    Some(resp) => return Ok(resp),
                    // Another file than the key's (R70): the engine was told; it goes on.
                    None => continue,
                }
            }
            return deliver(found, job);
        }
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
            json_error(&ApiError { status: 502, code: "upstream_failed", message: reason })
        }
    }
}
