//! The fetch handler: runs the [`crate::rules`] in the Workers runtime.
//!
//! Flow for a file: validate the key → Cache API (hit, or a cached miss unless
//! bypassed) → each upstream × attempt in order, judged by status, type and
//! the first bytes → stream the verified hit to the client while a tee of the
//! same bytes, length-checked, goes into the cache; misses are cached briefly,
//! failures never.

use futures_util::{future, StreamExt};
use worker::*;

use crate::rules::{self, ApiError, Route, Verdict};

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

/// Passes a cached body through, counting; a body shorter or longer than
/// recorded fails the transfer and deletes the entry.
fn guard_length(s: ByteStream, len: u64, key: String) -> impl futures_util::Stream<Item = Result<Vec<u8>>> {
    futures_util::stream::unfold((s, 0u64, Some(key)), move |(mut s, seen, key)| async move {
        let key = key?;
        match s.next().await {
            Some(Ok(chunk)) => {
                let seen = seen + chunk.len() as u64;
                if seen > len {
                    evict(key);
                    return Some((Err(Error::RustError(format!("cached entry longer than its recorded {len} bytes"))), (s, seen, None)));
                }
                Some((Ok(chunk), (s, seen, Some(key))))
            }
            Some(Err(e)) => {
                evict(key);
                Some((Err(e), (s, seen, None)))
            }
            None if seen == len => None,
            None => {
                evict(key);
                Some((Err(Error::RustError(format!("cached entry has {seen} of {len} bytes"))), (s, seen, None)))
            }
        }
    })
}

fn evict(key: String) {
    wasm_bindgen_futures::spawn_local(async move {
        let _ = Cache::default().delete(key.as_str(), true).await;
    });
}

/// A response whose body is the runtime's own `FixedLengthStream`: it has a
/// Content-Length, and the runtime fails the transfer (and so any `cache.put`
/// of a tee of it) when the source delivers fewer or more bytes.
fn fixed_length_response(body: impl futures_util::Stream<Item = Result<Vec<u8>>> + 'static, len: u64) -> Response {
    let sys: worker_sys::FixedLengthStream = FixedLengthStream::wrap(body, len).into();
    ResponseBuilder::new().stream(sys.readable())
}

/// A response whose headers can be changed: responses from the Cache API (and
/// from `fetch`) have immutable headers, so copy them onto a new response
/// around the same body stream.
fn mutable(resp: Response) -> Result<Response> {
    mutable_checked(resp, None)
}

/// [`mutable`] for a cache entry: if its body turns out shorter or longer than
/// recorded, the transfer fails and the entry is deleted, so a damaged entry
/// is never served as a file and the next request goes upstream again.
fn mutable_checked(mut resp: Response, cache_key: Option<String>) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        headers.set(&k, &v)?;
    }
    let status = resp.status_code();
    // The Cache API may hand back a stored body without Content-Length; the
    // mirror keeps the length in its own header too.
    let length: Option<u64> =
        ["Content-Length", "X-Sympath-Length"].iter().find_map(|h| resp.headers().get(h).ok().flatten().and_then(|v| v.parse().ok()));
    // A stream of known length keeps its Content-Length (and so HEAD and Range stay exact).
    if let Some(len) = length {
        headers.set("Content-Length", &len.to_string())?;
    }
    let body = match (resp.stream(), length) {
        (Ok(s), Some(len)) => match cache_key {
            Some(key) => fixed_length_response(guard_length(s, len, key), len),
            None => fixed_length_response(s, len),
        },
        (Ok(s), None) => Response::from_stream(s)?,
        (Err(_), _) => Response::empty()?,
    };
    Ok(body.with_status(status).with_headers(headers))
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

async fn serve_file(req: &Request, env: &Env, ctx: &Context, key: &sympath::key::RequestKey, path: &str) -> Result<Response> {
    let cache = Cache::default();
    let hit_key = format!("https://sympath.cache/hit/{path}");
    let miss_key = format!("https://sympath.cache/miss/{path}");
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
        Request::new_with_init(&hit_key, &init)?
    };
    if let Some(hit) = cache.get(&lookup, true).await? {
        let mut hit = mutable_checked(hit, Some(hit_key.clone()))?;
        hit.headers_mut().set("X-Sympath-Cache", "hit")?;
        return Ok(hit);
    }
    let bypassed = bypass(req);
    if !bypassed {
        if let Some(miss) = cache.get(miss_key.as_str(), true).await? {
            let mut miss = mutable(miss)?;
            miss.headers_mut().set("X-Sympath-Cache", "negative")?;
            return Ok(miss);
        }
    }
    let upstreams = match rules::upstreams(&symbol_path(env)) {
        Ok(u) => u,
        Err(e) => return json_error(&ApiError { status: 500, code: "bad_config", message: e }),
    };
    let miss_ttl = var(env, "MISS_TTL").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MISS_TTL);
    let timeout = var(env, "UPSTREAM_TIMEOUT_MS").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_MS);
    let mut failures = Vec::new();
    let mut misses = Vec::new();
    for up in &upstreams {
        for attempt in rules::attempts(key) {
            let expand = attempt.variant == sympath::key::Variant::Compressed && attempt.path != path;
            if attempt.variant == sympath::key::Variant::FilePtr && attempt.path != path {
                // Resolving file.ptr targets (R63, R64) is not done by this mirror yet.
                continue;
            }
            let target = up.join(attempt.path.split('/'));
            let allow_private = var(env, "ALLOW_PRIVATE_REDIRECTS").is_some_and(|v| v == "true");
            match fetch_upstream(&target, up, timeout, allow_private).await {
                Err(e) => failures.push(format!("{}: {e}", up.redacted())),
                Ok(mut resp) => {
                    let ctype = resp.headers().get("Content-Type").ok().flatten();
                    let length: Option<u64> = resp.headers().get("Content-Length").ok().flatten().and_then(|v| v.parse().ok());
                    let status = resp.status_code();
                    let mut body = resp.stream()?;
                    let first = match body.next().await {
                        Some(Ok(chunk)) => chunk,
                        Some(Err(e)) => {
                            failures.push(format!("{}: {e}", up.redacted()));
                            continue;
                        }
                        None => Vec::new(),
                    };
                    match rules::verdict(status, ctype.as_deref(), &first, attempt.variant) {
                        Verdict::Hit if expand => match expand_cab(first, body, length, key).await {
                            Ok(bytes) => {
                                let mut out = Response::from_bytes(bytes.clone())?;
                                let h = out.headers_mut();
                                h.set("Content-Type", "application/octet-stream")?;
                                h.set("Cache-Control", &rules::cache_control(&Verdict::Hit, miss_ttl))?;
                                h.set("ETag", &format!("\"{}\"", path.replace('"', "")))?;
                                h.set("Content-Length", &bytes.len().to_string())?;
                                h.set("X-Sympath-Length", &bytes.len().to_string())?;
                                h.set("X-Sympath-Upstream", &up.redacted())?;
                                h.set("X-Sympath-Expanded", "cab")?;
                                let copy = out.cloned()?;
                                let hk = hit_key.clone();
                                ctx.wait_until(async move {
                                    let _ = Cache::default().put(hk.as_str(), copy).await;
                                });
                                out.headers_mut().set("X-Sympath-Cache", if bypassed { "bypass" } else { "miss" })?;
                                return Ok(out);
                            }
                            Err(why) => misses.push(format!("{}: {why}", up.redacted())),
                        },
                        Verdict::Hit => {
                            let rest = futures_util::stream::once(future::ready(Ok(first))).chain(body);
                            let mut out = match length {
                                Some(len) => fixed_length_response(rest, len),
                                None => Response::from_stream(rest)?,
                            };
                            let h = out.headers_mut();
                            h.set("Content-Type", "application/octet-stream")?;
                            h.set("Cache-Control", &rules::cache_control(&Verdict::Hit, miss_ttl))?;
                            h.set("ETag", &format!("\"{}\"", path.replace('"', "")))?;
                            h.set("Accept-Ranges", "bytes")?;
                            h.set("X-Sympath-Upstream", &up.redacted())?;
                            if let Some(len) = length {
                                h.set("Content-Length", &len.to_string())?;
                                h.set("X-Sympath-Length", &len.to_string())?;
                                // Only a body of known length is cached: the length check of
                                // FixedLengthStream makes a truncated transfer fail the put.
                                let copy = out.cloned()?;
                                let cache = Cache::default();
                                let hk = hit_key.clone();
                                ctx.wait_until(async move {
                                    let _ = cache.put(hk.as_str(), copy).await;
                                });
                            }
                            out.headers_mut().set("X-Sympath-Cache", if bypassed { "bypass" } else { "miss" })?;
                            return Ok(out);
                        }
                        Verdict::Miss(why) => misses.push(format!("{}: {why}", up.redacted())),
                        Verdict::Failed(why) => failures.push(format!("{}: {why}", up.redacted())),
                    }
                }
            }
        }
    }
    if failures.is_empty() {
        let e = ApiError { status: 404, code: "not_found", message: format!("not in any upstream ({})", misses.join("; ")) };
        let mut resp = json_error(&e)?;
        resp.headers_mut().set("Cache-Control", &rules::cache_control(&Verdict::Miss(String::new()), miss_ttl))?;
        resp.headers_mut().set("X-Sympath-Cache", "miss")?;
        let copy = resp.cloned()?;
        ctx.wait_until(async move {
            let _ = Cache::default().put(miss_key.as_str(), copy).await;
        });
        Ok(resp)
    } else {
        let e = ApiError { status: 502, code: "upstream_failed", message: failures.join("; ") };
        json_error(&e)
    }
}

/// Buffers a verified compressed body (bounded) and expands it: the client asked
/// for the plain file, and only the expanded bytes are served and cached (R23).
async fn expand_cab(
    first: Vec<u8>,
    mut rest: ByteStream,
    length: Option<u64>,
    key: &sympath::key::RequestKey,
) -> std::result::Result<Vec<u8>, String> {
    let len = length.ok_or("a compressed body without Content-Length is not expanded at the edge")?;
    if len > rules::MAX_COMPRESSED_AT_EDGE {
        return Err(format!(
            "compressed body of {len} bytes is over the {}-byte limit for expanding at the edge",
            rules::MAX_COMPRESSED_AT_EDGE
        ));
    }
    let mut buf = first;
    buf.reserve(usize::try_from(len).unwrap_or(0).saturating_sub(buf.len()));
    while let Some(chunk) = rest.next().await {
        buf.extend_from_slice(&chunk.map_err(|e| format!("transfer failed: {e}"))?);
        if buf.len() as u64 > len {
            return Err("body longer than its Content-Length".into());
        }
    }
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

/// One upstream GET with a timeout. Credentials of the store URL go in
/// `Authorization` (R28); redirects are followed by hand so that they never
/// carry it (R88).
async fn fetch_upstream(target: &str, store: &sympath::url::StoreUrl, timeout_ms: u64, allow_private: bool) -> Result<Response> {
    let headers = Headers::new();
    headers.set("User-Agent", USER_AGENT)?;
    if let Some(auth) = store.basic_auth() {
        headers.set("Authorization", &auth)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers).with_redirect(RequestRedirect::Manual);
    let req = Request::new_with_init(target, &init)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(req);
    let send = Box::pin(fetch.send_with_signal(&signal));
    let delay = Box::pin(Delay::from(std::time::Duration::from_millis(timeout_ms)));
    let resp = match future::select(send, delay).await {
        future::Either::Left((r, _)) => r?,
        future::Either::Right(_) => {
            controller.abort();
            return Err(Error::RustError(format!("no answer within {timeout_ms} ms")));
        }
    };
    if (300..400).contains(&resp.status_code()) {
        let location = resp.headers().get("Location")?.ok_or_else(|| Error::RustError("redirect without Location".into()))?;
        let next = Url::parse(target).and_then(|u| u.join(&location)).map_err(|e| Error::RustError(format!("bad redirect: {e}")))?;
        rules::redirect_allowed(next.as_str(), allow_private).map_err(Error::RustError)?;
        let h = Headers::new();
        h.set("User-Agent", USER_AGENT)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(h);
        return Fetch::Request(Request::new_with_init(next.as_str(), &init)?).send_with_signal(&signal).await;
    }
    Ok(resp)
}
