//! The mirror's HTTP rules, as plain functions (spec §11, §13).
//!
//! Nothing here touches the network: the fetch handler asks these functions
//! what to do and does it. What a lookup fetches and what an upstream's
//! answer means are not here: they are the core's lookup engine's
//! ([`sympath::lookup`]), the same for the mirror and the browser client.

use serde::Serialize;
use sympath::key::{RequestError, RequestKey};
use sympath::model::{ElementKind, StoreLocation};
use sympath::url::StoreUrl;

/// A request the mirror answers with an error, before or instead of any upstream request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// HTTP status.
    #[serde(skip)]
    pub status: u16,
    /// Stable code (`bad_key`, `method_not_allowed`, …).
    pub code: &'static str,
    /// What was wrong, for a person.
    pub message: String,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    /// The JSON body: `{"code": …, "message": …}`.
    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| format!("{{\"code\":\"{}\"}}", self.code))
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`.
    Health,
    /// `OPTIONS` anything: a CORS preflight.
    Preflight,
    /// `index2.txt`: the mirror is one-tier (R54), answered locally.
    Index2,
    /// A file in the store: the validated key and its path relative to the store root.
    File {
        /// The validated key.
        key: RequestKey,
        /// The key's path (`name/id/file`), as it will be requested upstream.
        path: String,
        /// Whether the request is HEAD (same headers as GET, no body).
        head: bool,
    },
}

/// The path and the query (without `?`) of a request's URL as the runtime
/// hands it: absolute and already normalized by its WHATWG URL parser (dot
/// segments resolved, the path percent-encoded), so it is split, not parsed
/// again (the `url` crate's parse was a visible share of a request's CPU in
/// wasm). A fragment, which requests do not carry, is dropped; an empty
/// path is `/`.
pub fn url_parts(url: &str) -> (&str, Option<&str>) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.find(['/', '?', '#']).and_then(|i| rest.get(i..)).unwrap_or("");
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    (if path.is_empty() { "/" } else { path }, query)
}

/// Whether a query string asks to bypass the caches: a `fresh` parameter
/// (`?fresh`, `?fresh=1`, `?a=b&fresh`), as sent (not percent-decoded).
pub fn query_bypasses(query: Option<&str>) -> bool {
    query.is_some_and(|q| q.split('&').any(|pair| pair.split('=').next() == Some("fresh")))
}

/// Routes a request: method and URL path (still percent-encoded). Every key
/// is validated against the core's grammar (R83) before any upstream request.
/// `/download/symbols/…` is an alias of `/…` (msdl's layout).
pub fn route(method: &str, path: &str) -> Result<Route, ApiError> {
    if method.eq_ignore_ascii_case("OPTIONS") {
        return Ok(Route::Preflight);
    }
    let head = method.eq_ignore_ascii_case("HEAD");
    if !head && !method.eq_ignore_ascii_case("GET") {
        return Err(ApiError::new(405, "method_not_allowed", format!("{method} is not allowed: use GET or HEAD")));
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    let rest = rest.strip_prefix("download/symbols/").unwrap_or(rest);
    if rest == "health" {
        return Ok(Route::Health);
    }
    match RequestKey::parse(rest) {
        Ok(RequestKey::Index2) => Ok(Route::Index2),
        Ok(key) => Ok(Route::File { key, path: rest.to_string(), head }),
        Err(e) => Err(key_error(&e)),
    }
}

fn key_error(e: &RequestError) -> ApiError {
    let (status, code) = match e {
        RequestError::Traversal => (400, "bad_key_traversal"),
        RequestError::BadChars => (400, "bad_key_chars"),
        RequestError::TooLong => (414, "key_too_long"),
        RequestError::Shape => (404, "not_a_key"),
        RequestError::FileMismatch => (404, "bad_key_file"),
    };
    ApiError::new(status, code, format!("{e}; expected /<name>/<id>/<name> as in a symbol store"))
}

/// The CORS headers of every answer (R92), including preflights.
pub fn cors_headers() -> Vec<(&'static str, String)> {
    let mut expose = vec!["Content-Length", "Content-Range", "ETag", "Accept-Ranges", "Server-Timing"];
    expose.extend(sympath::headers::MIRROR_HEADERS);
    vec![
        ("Access-Control-Allow-Origin", "*".into()),
        ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS".into()),
        ("Access-Control-Allow-Headers", "Range, If-None-Match, Cache-Control".into()),
        ("Access-Control-Expose-Headers", expose.join(", ")),
        ("Access-Control-Max-Age", "86400".into()),
        // Lets a page on another origin see the mirror's Server-Timing in Resource Timing.
        ("Timing-Allow-Origin", "*".into()),
    ]
}

/// The upstream HTTP stores of a configured symbol path, in order (R24): the
/// HTTP stores of every symsrv chain. Errors name the diagnostics that make
/// the configuration unusable.
pub fn upstreams(symbol_path: &str) -> Result<Vec<StoreUrl>, String> {
    let parsed = sympath::parse(symbol_path);
    if parsed.has_errors() {
        let errs: Vec<String> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.severity == sympath::Severity::Error)
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        return Err(format!("SYMBOL_PATH has errors: {}", errs.join("; ")));
    }
    let mut out = Vec::new();
    for e in &parsed.elements {
        if let ElementKind::Chain(c) = &e.kind {
            for s in c.stores.iter().filter(|_| c.is_symsrv()) {
                if let StoreLocation::Http { url } = &s.location {
                    out.push(StoreUrl::parse(url).map_err(|e| format!("{url}: {e}"))?);
                }
            }
        }
    }
    if out.is_empty() {
        return Err("SYMBOL_PATH names no HTTP store".into());
    }
    Ok(out)
}

/// `Cache-Control` of a file the mirror serves (R94): keys are
/// content-addressed, so a file never changes.
pub const CACHE_CONTROL_HIT: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of a miss (R94): remembered for `miss_ttl` seconds.
/// (Failures are never stored: `no-store`.)
pub fn cache_control_miss(miss_ttl: u32) -> String {
    format!("public, max-age={miss_ttl}")
}

/// The ETag of a file: keys are content-addressed, so the key is the identity.
pub fn etag(path: &str) -> String {
    format!("\"{}\"", path.replace('"', ""))
}

/// Whether an `If-None-Match` header names `etag` (or `*`), weak or strong.
pub fn none_match(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// A `Range` request the mirror serves: one range of bytes. Multiple ranges,
/// other units and malformed headers get the whole file (RFC 9110 lets a
/// server ignore Range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last` (inclusive).
    Closed(u64, u64),
    /// `bytes=first-`.
    From(u64),
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a `Range` header value.
    pub fn parse(header: &str) -> Option<ByteRange> {
        let spec = header.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.split_once('-')?;
        let num = |s: &str| -> Option<u64> {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                None
            } else {
                s.parse().ok()
            }
        };
        match (a.trim(), b.trim()) {
            ("", n) => num(n).filter(|n| *n > 0).map(ByteRange::Suffix),
            (f, "") => num(f).map(ByteRange::From),
            (f, l) => match (num(f), num(l)) {
                (Some(f), Some(l)) if f <= l => Some(ByteRange::Closed(f, l)),
                _ => None,
            },
        }
    }

    /// The inclusive byte span this range selects in a file of `size` bytes;
    /// `None` when it is unsatisfiable (416).
    pub fn resolve(self, size: u64) -> Option<(u64, u64)> {
        match self {
            _ if size == 0 => None,
            ByteRange::Closed(f, l) if f < size => Some((f, l.min(size - 1))),
            ByteRange::From(f) if f < size => Some((f, size - 1)),
            ByteRange::Suffix(n) => Some((size.saturating_sub(n), size - 1)),
            _ => None,
        }
    }
}

/// Why a verified file is not put in the edge cache, if it is not: no length
/// known up front (a truncated transfer could not be told from a whole one),
/// or over the Cache API's object limit. `None`: cache it.
pub fn edge_uncacheable(length: Option<u64>, limit: u64) -> Option<String> {
    match length {
        None => Some("not cached: the upstream sent no Content-Length".into()),
        Some(n) if n > limit => Some(format!("not in the edge cache: {n} bytes is over its {limit}-byte object limit")),
        Some(_) => None,
    }
}

/// How long a store's write of a copy waits for the client's answer to go
/// out first, when the copy cannot fall behind: see [`store_delay_ms`].
pub const AFTER_ANSWER_MS: u64 = 10;

/// When a store (edge cache, R2) begins writing its copy of a file served
/// now, in milliseconds after the client's answer was handed to the runtime.
/// The runtime sends the answer's first bytes on the same thread as the
/// store's work (a cache put, an R2 head and put, identity checks), and says
/// nothing when they have gone, so a copy that can wait does:
/// [`AFTER_ANSWER_MS`] for bytes already whole (`streamed` false) or a
/// streamed copy of `length` at most `window` bytes (it cannot fall so far
/// behind the client that it is abandoned, whatever it waits). Any other
/// streamed copy starts at once (one turn of the event loop): it must keep
/// up with the client.
pub fn store_delay_ms(length: Option<u64>, streamed: bool, window: u64) -> u64 {
    match length {
        _ if !streamed => AFTER_ANSWER_MS,
        Some(n) if n <= window => AFTER_ANSWER_MS,
        _ => 0,
    }
}

pub mod chunks;

#[cfg(test)]
mod tests;
