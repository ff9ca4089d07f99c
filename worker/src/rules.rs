//! The mirror's HTTP rules, as plain functions (spec §11, §13).
//!
//! Nothing here touches the network: the fetch handler asks these functions
//! what to do and does it.

use serde::Serialize;
use sympath::key::{RequestError, RequestKey, Variant};
use sympath::model::{ElementKind, StoreLocation};
use sympath::url::StoreUrl;
use sympath_ident::{sniff, Magic};

pub use crate::config::RedirectPolicy;

/// Largest compressed (`.pd_`) body the mirror expands for a plain-name request:
/// the body and its expansion must fit in one isolate's 128 MB.
pub const MAX_COMPRESSED_AT_EDGE: u64 = 32 * 1024 * 1024;
/// Largest expanded size the mirror produces from a compressed body.
pub const MAX_EXPANDED_AT_EDGE: u64 = 64 * 1024 * 1024;

/// Largest `file.ptr` the mirror reads (they are one line of text).
pub const MAX_POINTER_BYTES: usize = 4096;

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

/// One upstream request to make for a client request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Key path to request upstream.
    pub path: String,
    /// Which variant that path is.
    pub variant: Variant,
}

/// The upstream requests for a key, in order (R66): a plain request also tries
/// the compressed file and `file.ptr`; a compressed or `file.ptr` request only itself.
pub fn attempts(key: &RequestKey) -> Vec<Attempt> {
    let RequestKey::File { name, id, container, variant, file, .. } = key else { return Vec::new() };
    let dir = match container {
        Some(c) => format!("{name}/{id}/{c}"),
        None => format!("{name}/{id}"),
    };
    match variant {
        Variant::Plain => vec![
            Attempt { path: format!("{dir}/{name}"), variant: Variant::Plain },
            Attempt { path: format!("{dir}/{}", sympath::key::compressed_name(name)), variant: Variant::Compressed },
            Attempt { path: format!("{dir}/file.ptr"), variant: Variant::FilePtr },
        ],
        other => vec![Attempt { path: format!("{dir}/{file}"), variant: *other }],
    }
}

/// What an upstream answer means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    /// A verified symbol file: serve and cache it.
    Hit,
    /// Not there (404, or a soft 404: HTML, an empty body, wrong magic): try the
    /// next attempt; cache the miss briefly.
    Miss(String),
    /// The upstream failed (5xx, timeout, bad redirect): try the next; never cache.
    Failed(String),
}

/// Judges an upstream answer from its status, its Content-Type and the first
/// bytes of its body (R62, R87, R89). For `file.ptr` any non-empty text is a hit.
pub fn verdict(status: u16, content_type: Option<&str>, first_bytes: &[u8], variant: Variant) -> Verdict {
    match status {
        200 => {}
        404 | 410 => return Verdict::Miss(format!("upstream answered {status}")),
        s if s >= 500 => return Verdict::Failed(format!("upstream answered {s}")),
        s => return Verdict::Failed(format!("unexpected upstream status {s}")),
    }
    if content_type.is_some_and(|t| t.to_ascii_lowercase().starts_with("text/html")) {
        return Verdict::Miss("upstream answered 200 with an HTML page (a soft 404)".into());
    }
    let magic = sniff(first_bytes);
    match (variant, magic) {
        (_, Magic::Empty) => Verdict::Miss("upstream answered 200 with an empty body".into()),
        (_, Magic::Html) => Verdict::Miss("upstream answered 200 with an HTML page (a soft 404)".into()),
        (Variant::FilePtr, _) => Verdict::Hit,
        (Variant::Compressed, Magic::Cab) => Verdict::Hit,
        (Variant::Compressed, m) => Verdict::Miss(format!("a compressed file must be a cabinet (MSCF), got {}", m.as_str())),
        (Variant::Plain, m) if m.is_symbol_file() && m != Magic::Cab => Verdict::Hit,
        (Variant::Plain, m) => Verdict::Miss(format!("not a symbol file (magic: {})", m.as_str())),
    }
}

/// Whether the mirror may follow an upstream's redirect to `url` (R88): only
/// over https, and never to a loopback, private or link-local address unless
/// the policy is [`RedirectPolicy::AllowPrivate`] (`ALLOW_PRIVATE_REDIRECTS`;
/// configured upstreams themselves are trusted as written).
pub fn redirect_allowed(url: &str, policy: RedirectPolicy) -> Result<(), String> {
    let allow_private = policy == RedirectPolicy::AllowPrivate;
    let parts = sympath::url::UrlParts::parse(url).map_err(|e| format!("redirect to {url}: {e}"))?;
    let host = parts.host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let private = host == "localhost"
        || host.ends_with(".localhost")
        || match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified(),
            Ok(std::net::IpAddr::V6(ip)) => {
                ip.is_loopback() || ip.is_unspecified() || (ip.segments()[0] & 0xfe00) == 0xfc00 || (ip.segments()[0] & 0xffc0) == 0xfe80
            }
            Err(_) => false,
        };
    if private && !allow_private {
        return Err(format!("redirect to a private address refused: {host}"));
    }
    if parts.scheme != sympath::url::Scheme::Https && !(private && allow_private) {
        return Err(format!("redirect to plain http refused: {url}"));
    }
    Ok(())
}

/// `Cache-Control` for what the mirror stores (R94): keys are content-addressed,
/// so hits are immutable; misses for `miss_ttl` seconds; failures never.
pub fn cache_control(v: &Verdict, miss_ttl: u32) -> String {
    match v {
        Verdict::Hit => "public, max-age=31536000, immutable".into(),
        Verdict::Miss(_) => format!("public, max-age={miss_ttl}"),
        Verdict::Failed(_) => "no-store".into(),
    }
}

/// What a `file.ptr` found upstream means for a client that asked for the
/// plain file (R63, R64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pointer {
    /// Fetch this URL (subject to [`redirect_allowed`]); `compressed` when it
    /// names a `.pd_`-style file that must be expanded.
    Follow {
        /// Absolute http(s) URL.
        url: String,
        /// Whether the target is a compressed (CAB) file.
        compressed: bool,
    },
    /// Not reachable from the edge, or not available: a miss, with the reason.
    Miss(String),
}

/// Reads a `file.ptr` body: `PATH:` (or a bare path) to an http(s) URL is
/// followed; a UNC or local path is unreachable from the edge (R64); `MSG:`
/// is the store saying the file is gone (R63).
pub fn pointer(bytes: &[u8]) -> Pointer {
    use sympath::fileptr::{FilePtr, PtrTarget};
    let ptr = FilePtr::parse(bytes);
    match (ptr.target(), &ptr) {
        (Some(PtrTarget::Url), FilePtr::Path(url)) => {
            let file = url.split(['?', '#']).next().unwrap_or("").rsplit('/').next().unwrap_or("");
            Pointer::Follow { url: url.clone(), compressed: file.ends_with('_') }
        }
        (Some(_), FilePtr::Path(p)) => Pointer::Miss(format!("file.ptr points to {p}, which the edge cannot reach (R64)")),
        (_, FilePtr::Message(m)) => Pointer::Miss(format!("file.ptr says: {m}")),
        _ => Pointer::Miss("file.ptr is empty".into()),
    }
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

#[cfg(test)]
mod tests;
