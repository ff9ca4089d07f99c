//! Upstream requests, as the core's lookup engine asks for them: one
//! [`Fetch`] made, its answer reported to the engine, the body read as the
//! engine decides (first bytes, a whole `file.ptr`, a cabinet to expand),
//! until the engine takes the file or moves on. Every rule — which URL,
//! which variant, what a status or a magic number means, where a redirect
//! or a pointer may lead — is the engine's ([`sympath::lookup`]); this
//! module only moves bytes.

use futures_util::future;
use sympath::lookup::{Decision, Fetch, Head, Lookup, Problem, Take};
use worker::*;

use crate::streams::{self, Limits};
use crate::transfer::{TransferError, TransferKind};

/// The User-Agent sent upstream (R91).
const USER_AGENT: &str = concat!("Microsoft-Symbol-Server/10.0.0.0 (sympath-mirror/", env!("CARGO_PKG_VERSION"), ")");

/// A body verified as the requested file.
pub enum Body {
    /// Streamed from upstream: its first bytes (already checked) and the rest.
    Stream {
        /// The bytes read so far and the stream of the rest.
        head: streams::Head,
    },
    /// Expanded from a cabinet at the edge.
    Expanded(Vec<u8>),
    /// No body: the answer to a HEAD (the engine's [`sympath::lookup::Method::Head`]).
    Headers,
}

/// A file the engine took: its body and what the engine said of it.
pub struct Found {
    /// The bytes.
    pub body: Body,
    /// Its length, whether it may be stored, where it came from.
    pub take: Take,
    /// The transfer's limits (its overall deadline began with the request).
    pub limits: Limits,
    /// The answer's `ETag` and `Last-Modified` (the chunk cache's
    /// [`crate::rules::chunks::Version`] of the file).
    pub validators: (Option<String>, Option<String>),
}

/// Makes `fetch` and reports to `lk` until the engine takes the file (`Some`)
/// or says to go on (`None`: ask [`Lookup::next`]). Every pause is bounded by
/// `timeout_ms`, and the whole transfer (answer and body) by `deadline_ms`.
pub async fn run(lk: &mut Lookup, fetch: &Fetch, timeout_ms: u64, deadline_ms: u64) -> Option<Found> {
    let limits = Limits::starting_now(timeout_ms, deadline_ms);
    let sent = send_within(fetch, timeout_ms.min(deadline_ms), &Abort::default()).await;
    judge(lk, fetch, sent, limits).await
}

/// [`run`] from the answer (or failure) `sent` to `fetch`, already asked
/// for under `limits` (the first fetch of a miss, raced with R2).
pub async fn judge(lk: &mut Lookup, fetch: &Fetch, sent: Result<Response>, limits: Limits) -> Option<Found> {
    let resp = match sent {
        Ok(resp) => resp,
        Err(e) => {
            lk.problem(fetch.id, &Problem::Network(e.to_string()));
            return None;
        }
    };
    let mut decision = lk.headers(fetch.id, &head(&resp));
    let get = |name: &str| resp.headers().get(name).ok().flatten();
    let validators = (get("ETag"), get("Last-Modified"));
    let body = match resp.body() {
        ResponseBody::Stream(s) => Some(s.clone()),
        _ => None,
    };
    let mut read: Option<streams::Head> = None;
    loop {
        decision = match decision {
            Decision::Next => return None,
            Decision::Take(take) => {
                let body = match (read.take(), body.as_ref()) {
                    (Some(head), _) => Body::Stream { head },
                    (None, _) if fetch.method == sympath::lookup::Method::Head => Body::Headers,
                    (None, Some(s)) => Body::Stream { head: streams::Head::empty(s) },
                    (None, None) => Body::Headers,
                };
                return Some(Found { body, take, limits, validators });
            }
            Decision::Sniff { bytes } => match &body {
                None => lk.first_bytes(fetch.id, b""),
                Some(s) => match streams::read_head(s, bytes, limits).await {
                    Ok(h) => {
                        let d = lk.first_bytes(fetch.id, &h.bytes);
                        read = Some(h);
                        d
                    }
                    Err(e) => lk.problem(fetch.id, &problem(e, bytes as u64)),
                },
            },
            Decision::ReadAll { max } => match read_rest(body.as_ref(), read.take(), max, limits).await {
                Ok(bytes) => lk.body(fetch.id, &bytes),
                Err(p) => lk.problem(fetch.id, &p),
            },
            Decision::Expand { max_compressed, max_expanded } => {
                match read_rest(body.as_ref(), read.take(), max_compressed, limits).await {
                    Err(p) => lk.problem(fetch.id, &p),
                    Ok(cab) => match sympath_ident::decompress_cab_with_limit(&cab, max_expanded) {
                        Err(sympath_ident::IdentError::TooLarge { limit, .. }) => lk.problem(fetch.id, &Problem::TooLarge(limit)),
                        Err(e) => lk.problem(fetch.id, &Problem::Corrupt(e.to_string())),
                        Ok((inner, bytes)) => {
                            let first = bytes.get(..sympath::lookup::SNIFF_BYTES).unwrap_or(&bytes);
                            match lk.expanded(fetch.id, &inner, bytes.len() as u64, first) {
                                Decision::Take(take) => return Some(Found { body: Body::Expanded(bytes), take, limits, validators }),
                                other => other,
                            }
                        }
                    },
                }
            }
        };
    }
}

/// The answer's status and the headers the engine judges.
fn head(resp: &Response) -> Head {
    let get = |name: &str| resp.headers().get(name).ok().flatten();
    Head {
        status: resp.status_code(),
        content_type: get("Content-Type"),
        content_length: get("Content-Length").and_then(|v| v.trim().parse().ok()),
        content_encoding: get("Content-Encoding"),
        location: get("Location"),
        retry_after: get("Retry-After"),
        mirror: get(sympath::headers::CACHE),
    }
}

/// The body whole (the bytes already read, then the rest), at most `max` bytes.
async fn read_rest(
    body: Option<&web_sys::ReadableStream>,
    read: Option<streams::Head>,
    max: u64,
    limits: Limits,
) -> std::result::Result<Vec<u8>, Problem> {
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let (mut bytes, rest) = match (read, body) {
        (Some(h), _) => (h.bytes, h.rest),
        (None, Some(s)) => (Vec::new(), s.clone()),
        (None, None) => return Ok(Vec::new()),
    };
    if bytes.len() > limit {
        return Err(Problem::TooLarge(max));
    }
    let more = streams::read_all(&rest, limit - bytes.len(), limits).await.map_err(|e| problem(e, max))?;
    bytes.extend_from_slice(&more);
    Ok(bytes)
}

/// A failed transfer, as the engine knows it: over the bound `max`, or broken.
fn problem(e: TransferError, max: u64) -> Problem {
    match e.kind {
        TransferKind::TooLarge => Problem::TooLarge(max),
        _ => Problem::Transfer(e.message),
    }
}

/// Aborts a request from where it was started, by reference (the runtime's
/// `AbortController` is consumed by its `abort`).
#[derive(Default)]
pub struct Abort(std::cell::RefCell<Option<AbortController>>);

impl Abort {
    fn signal(&self) -> AbortSignal {
        self.0.borrow_mut().get_or_insert_with(AbortController::default).signal()
    }

    /// Aborts the request (once; later calls do nothing).
    pub fn abort(&self) {
        if let Some(c) = self.0.borrow_mut().take() {
            c.abort();
        }
    }
}

/// One upstream request with redirects off (the engine vets every redirect,
/// R88) that fails when no answer (status and headers) comes within
/// `timeout_ms`. The store's credentials go in `Authorization` (R28) only
/// when the engine hands them over. `controller` aborts it (a request whose
/// answer is no longer wanted).
pub async fn send_within(fetch: &Fetch, timeout_ms: u64, controller: &Abort) -> Result<Response> {
    let method = match fetch.method {
        sympath::lookup::Method::Get => Method::Get,
        sympath::lookup::Method::Head => Method::Head,
    };
    send(&fetch.url, method, fetch.authorization.as_deref(), None, timeout_ms, controller).await
}

/// A GET of one byte range (`range`, a validated `bytes=…` value) of a file
/// the engine has taken from `url` (see [`crate::ranged`]).
pub async fn send_range(url: &str, authorization: Option<&str>, range: &str, timeout_ms: u64) -> Result<Response> {
    send(url, Method::Get, authorization, Some(range), timeout_ms, &Abort::default()).await
}

async fn send(
    url: &str,
    method: Method,
    authorization: Option<&str>,
    range: Option<&str>,
    timeout_ms: u64,
    controller: &Abort,
) -> Result<Response> {
    let headers = Headers::new();
    headers.set("User-Agent", USER_AGENT)?;
    if let Some(auth) = authorization {
        headers.set("Authorization", auth)?;
    }
    if let Some(range) = range {
        headers.set("Range", range)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers).with_redirect(RequestRedirect::Manual);
    let req = Request::new_with_init(url, &init)?;
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
