//! Upstream requests: one [`Fetch`] made and its answer judged (R62, R89),
//! with a `file.ptr` followed (R63, R64, R88) or a cabinet expanded (R23)
//! when the client asked for the plain file. What to fetch, and what a
//! verdict decides, is [`crate::probes`]'s.

use futures_util::future;
use sympath::key::{RequestKey, Variant};
use worker::*;

use crate::config::RedirectPolicy;
use crate::probes::{Fetch, Read};
use crate::rules::{self, Verdict};
use crate::streams;
use crate::transfer::TransferKind;

/// How many first bytes of an answer are read to judge it (magic bytes).
const SNIFF_BYTES: usize = 64;

/// The User-Agent sent upstream (R91).
const USER_AGENT: &str = concat!("Microsoft-Symbol-Server/10.0.0.0 (sympath-mirror/", env!("CARGO_PKG_VERSION"), ")");

/// The settings an upstream request needs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// For the answer's headers, and the longest pause within its body (R95).
    pub timeout_ms: u64,
    /// Where redirects and pointers may go (R88).
    pub redirects: RedirectPolicy,
}

/// A body verified as the requested file.
pub enum Body {
    /// Streamed from upstream: its first bytes (already checked) and the rest.
    Stream { head: streams::Head, length: Option<u64> },
    /// Expanded from a cabinet at the edge.
    Expanded(Vec<u8>),
}

/// What one answer (or the pointer it led to) came to.
pub enum Judged {
    /// A verified file.
    Hit(Body),
    /// Not there (try the next variant).
    Miss(String),
    /// The store failed (try the next store).
    Failed(String),
}

impl Judged {
    /// The verdict alone, and the body of a hit.
    pub fn split(self) -> (Verdict, Option<Body>) {
        match self {
            Judged::Hit(body) => (Verdict::Hit, Some(body)),
            Judged::Miss(why) => (Verdict::Miss(why), None),
            Judged::Failed(why) => (Verdict::Failed(why), None),
        }
    }
}

/// Where a verified file came from: to name it in headers, and to fetch it
/// again for the R2 store when its first copy was abandoned.
pub struct Source {
    /// The URL that gave the file.
    pub url: String,
    /// Its credentials (none for a pointer's target).
    pub auth: Option<String>,
    /// Which variant the URL names.
    pub variant: Variant,
    /// The `file.ptr` target, when the file came through one.
    pub pointer: Option<String>,
}

/// Makes `fetch` and judges the answer; returns the verdict, and for a hit
/// its body and where it came from.
pub async fn probe(fetch: &Fetch, key: &RequestKey, limits: Limits) -> (Judged, Source) {
    let mut source = Source { url: fetch.url.clone(), auth: fetch.auth.clone(), variant: fetch.variant, pointer: None };
    let resp = match fetch_upstream(&fetch.url, fetch.auth.clone(), limits).await {
        Ok(resp) => resp,
        Err(e) => return (Judged::Failed(e.to_string()), source),
    };
    let judged = match fetch.read {
        Read::FollowPointer => {
            let (judged, url) = follow_pointer(resp, key, limits).await;
            if let Some(url) = url {
                // A pointer's target is fetched without the store's credentials.
                source = Source { url: url.clone(), auth: None, variant: Variant::Plain, pointer: Some(url) };
            }
            judged
        }
        read => judge(resp, fetch.variant, read, key, limits.timeout_ms).await,
    };
    (judged, source)
}

/// Judges one upstream answer by status, type and first bytes (R62, R89); a
/// verified cabinet the client wanted plain is expanded (R23).
pub async fn judge(resp: Response, variant: Variant, read: Read, key: &RequestKey, timeout_ms: u64) -> Judged {
    let ctype = resp.headers().get("Content-Type").ok().flatten();
    let length: Option<u64> = resp.headers().get("Content-Length").ok().flatten().and_then(|v| v.parse().ok());
    let status = resp.status_code();
    let body = match resp.body() {
        ResponseBody::Stream(s) if status == 200 => s.clone(),
        _ => return verdict_only(status, ctype.as_deref(), variant),
    };
    let head = match streams::read_head(&body, SNIFF_BYTES, timeout_ms).await {
        Ok(h) => h,
        Err(e) => return Judged::Failed(e.to_string()),
    };
    match rules::verdict(status, ctype.as_deref(), &head.bytes, variant) {
        Verdict::Hit if read == Read::ExpandCab => match expand_cab(head, length, key, timeout_ms).await {
            Ok(bytes) => Judged::Hit(Body::Expanded(bytes)),
            Err(why) => Judged::Miss(why),
        },
        Verdict::Hit => Judged::Hit(Body::Stream { head, length }),
        Verdict::Miss(why) => Judged::Miss(why),
        Verdict::Failed(why) => Judged::Failed(why),
    }
}

fn verdict_only(status: u16, ctype: Option<&str>, variant: Variant) -> Judged {
    match rules::verdict(status, ctype, b"", variant) {
        Verdict::Failed(why) => Judged::Failed(why),
        Verdict::Miss(why) => Judged::Miss(why),
        Verdict::Hit => Judged::Miss("upstream answered without a body".into()),
    }
}

/// A `file.ptr` found upstream for a plain-file request: read it (bounded),
/// and follow a pointer to an http(s) URL under the redirect rules (R63, R64,
/// R88). Returns the pointer's target too, once there is one.
async fn follow_pointer(resp: Response, key: &RequestKey, limits: Limits) -> (Judged, Option<String>) {
    let status = resp.status_code();
    let ctype = resp.headers().get("Content-Type").ok().flatten();
    let text = match resp.body() {
        ResponseBody::Stream(s) if status == 200 => match streams::read_all(s, rules::MAX_POINTER_BYTES, limits.timeout_ms).await {
            Ok(t) => t,
            Err(e) if e.kind == TransferKind::TooLarge => {
                return (Judged::Miss(format!("file.ptr over {} bytes is not a pointer", rules::MAX_POINTER_BYTES)), None)
            }
            Err(e) => return (Judged::Failed(e.to_string()), None),
        },
        _ => Vec::new(),
    };
    match rules::verdict(status, ctype.as_deref(), &text, Variant::FilePtr) {
        Verdict::Hit => {}
        Verdict::Miss(why) => return (Judged::Miss(format!("file.ptr: {why}")), None),
        Verdict::Failed(why) => return (Judged::Failed(format!("file.ptr: {why}")), None),
    }
    let (url, compressed) = match rules::pointer(&text) {
        rules::Pointer::Follow { url, compressed } => (url, compressed),
        rules::Pointer::Miss(why) => return (Judged::Miss(why), None),
    };
    // A pointer is the store sending the mirror elsewhere: the redirect rules apply.
    if let Err(why) = rules::redirect_allowed(&url, limits.redirects) {
        return (Judged::Miss(format!("file.ptr: {why}")), None);
    }
    let (variant, read) = if compressed { (Variant::Compressed, Read::ExpandCab) } else { (Variant::Plain, Read::AsIs) };
    let judged = match fetch_upstream(&url, None, limits).await {
        Err(e) => Judged::Failed(format!("file.ptr target {url}: {e}")),
        Ok(resp) => judge(resp, variant, read, key, limits.timeout_ms).await,
    };
    match judged {
        Judged::Miss(why) => (Judged::Miss(format!("file.ptr target {url}: {why}")), None),
        other => (other, Some(url)),
    }
}

/// Buffers a verified compressed body (bounded) and expands it: the client asked
/// for the plain file, and only the expanded bytes are served and cached (R23).
async fn expand_cab(head: streams::Head, length: Option<u64>, key: &RequestKey, timeout_ms: u64) -> std::result::Result<Vec<u8>, String> {
    let len = length.ok_or("a compressed body without Content-Length is not expanded at the edge")?;
    if len > rules::MAX_COMPRESSED_AT_EDGE {
        return Err(format!(
            "compressed body of {len} bytes is over the {}-byte limit for expanding at the edge",
            rules::MAX_COMPRESSED_AT_EDGE
        ));
    }
    let rest = streams::read_all(&head.rest, usize::try_from(len).unwrap_or(usize::MAX), timeout_ms).await.map_err(|e| e.to_string())?;
    let mut buf = head.bytes;
    buf.extend_from_slice(&rest);
    if buf.len() as u64 != len {
        return Err(format!("short body: {} of {len} bytes", buf.len()));
    }
    let (inner, bytes) = sympath_ident::decompress_cab_with_limit(&buf, rules::MAX_EXPANDED_AT_EDGE).map_err(|e| e.to_string())?;
    let RequestKey::File { name, .. } = key else { return Err("not a file".into()) };
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
pub async fn fetch_upstream(target: &str, auth: Option<String>, limits: Limits) -> Result<Response> {
    let headers = Headers::new();
    headers.set("User-Agent", USER_AGENT)?;
    if let Some(auth) = auth {
        headers.set("Authorization", &auth)?;
    }
    let resp = send_within(target, headers, limits.timeout_ms).await?;
    if (300..400).contains(&resp.status_code()) {
        let location = resp.headers().get("Location")?.ok_or_else(|| Error::RustError("redirect without Location".into()))?;
        let next = Url::parse(target).and_then(|u| u.join(&location)).map_err(|e| Error::RustError(format!("bad redirect: {e}")))?;
        rules::redirect_allowed(next.as_str(), limits.redirects).map_err(Error::RustError)?;
        let h = Headers::new();
        h.set("User-Agent", USER_AGENT)?;
        let resp = send_within(next.as_str(), h, limits.timeout_ms).await?;
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
    let fetch = worker::Fetch::Request(req);
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
