//! Upstream requests: a [`Fetch`] made and the part of its answer that
//! judging needs read (the first bytes, or a whole `file.ptr`), and a
//! verified cabinet expanded (R23). What to fetch and what an answer means
//! is [`crate::probes`]'s.

use futures_util::future;
use sympath::key::RequestKey;
use worker::*;

use crate::config::RedirectPolicy;
use crate::probes::{Answer, Failure, Fetch, Read};
use crate::rules;
use crate::streams;

/// How many first bytes of an answer are read to judge it (magic bytes).
const SNIFF_BYTES: usize = 64;

/// The User-Agent sent upstream (R91).
const USER_AGENT: &str = concat!("Microsoft-Symbol-Server/10.0.0.0 (sympath-mirror/", env!("CARGO_PKG_VERSION"), ")");

/// The settings an upstream request needs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// For the answer's headers, and the longest pause within its body (R95).
    pub timeout_ms: u64,
    /// Where redirects may go (R88).
    pub redirects: RedirectPolicy,
}

/// An upstream answer, with what was read of its body.
pub struct Reply {
    status: u16,
    content_type: Option<String>,
    /// Its `Content-Length`.
    length: Option<u64>,
    body: Option<Sample>,
}

/// What was read of a body.
enum Sample {
    /// Its first bytes, and the rest to stream.
    Head(streams::Head),
    /// All of it (a `file.ptr`).
    Whole(Vec<u8>),
}

/// A body verified as the requested file.
pub enum Body {
    /// Streamed from upstream: its first bytes (already checked) and the rest.
    Stream { head: streams::Head, length: Option<u64> },
    /// Expanded from a cabinet at the edge.
    Expanded(Vec<u8>),
}

impl Reply {
    /// What [`crate::probes::Probes::answer`] judges.
    pub fn answer(&self) -> Answer<'_> {
        let body = self.body.as_ref().map(|b| match b {
            Sample::Head(h) => &h.bytes[..],
            Sample::Whole(bytes) => &bytes[..],
        });
        Answer { status: self.status, content_type: self.content_type.as_deref(), body }
    }

    /// The body to stream: its first bytes read and the rest, when they were read.
    pub fn into_stream(self) -> Option<Body> {
        match self.body {
            Some(Sample::Head(head)) => Some(Body::Stream { head, length: self.length }),
            _ => None,
        }
    }
}

/// Makes `fetch` and reads what judging its answer needs: of a 200 with a
/// body, the first bytes, or the whole `file.ptr` (bounded).
pub async fn ask(fetch: &Fetch, limits: Limits) -> std::result::Result<Reply, Failure> {
    let resp = fetch_upstream(&fetch.url, fetch.auth.clone(), limits).await.map_err(|e| Failure::Request(e.to_string()))?;
    let status = resp.status_code();
    let content_type = resp.headers().get("Content-Type").ok().flatten();
    let length: Option<u64> = resp.headers().get("Content-Length").ok().flatten().and_then(|v| v.parse().ok());
    let body = match resp.body() {
        ResponseBody::Stream(s) if status == 200 => Some(match fetch.read {
            Read::FollowPointer => {
                Sample::Whole(streams::read_all(s, rules::MAX_POINTER_BYTES, limits.timeout_ms).await.map_err(Failure::Transfer)?)
            }
            Read::AsIs | Read::ExpandCab => {
                Sample::Head(streams::read_head(s, SNIFF_BYTES, limits.timeout_ms).await.map_err(Failure::Transfer)?)
            }
        }),
        _ => None,
    };
    Ok(Reply { status, content_type, length, body })
}

/// Buffers a verified compressed body (bounded) and expands it: the client asked
/// for the plain file, and only the expanded bytes are served and cached (R23).
pub async fn expand_cab(reply: Reply, key: &RequestKey, timeout_ms: u64) -> std::result::Result<Vec<u8>, String> {
    let Some(Body::Stream { head, length }) = reply.into_stream() else {
        return Err("a compressed file without a body is not expanded".into());
    };
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
async fn fetch_upstream(target: &str, auth: Option<String>, limits: Limits) -> Result<Response> {
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
