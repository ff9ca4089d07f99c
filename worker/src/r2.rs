//! The persistent downstream store (the `SYMBOLS` R2 bucket): read when the
//! first upstream request of a miss has not answered within `R2_HEDGE_MS`
//! (or has not answered 2xx), written with every verified upstream hit.

use std::collections::HashMap;

use sympath::headers;
use worker::*;

use crate::config::Config;
use crate::edge;
use crate::handler::{json_error, Job};
use crate::rules::{self, ApiError};
use crate::streams;
use crate::upstream::{self, Body};
use crate::verify::{self, Checked, Verify};

/// What R2 said of the file before it was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Nothing to go on: R2 does not hold it, or was not asked.
    Absent,
    /// Not heard yet: the upstream answered first ([`crate::handler`]'s race),
    /// so R2 is asked again before the copy is written.
    Unheard,
}

/// A copy of a verified file on its way to R2.
pub struct Copy {
    /// The bytes, or a stream of them.
    pub body: Data,
    /// Its custom metadata (`upstream`, `expanded`, `pointer`).
    pub meta: HashMap<String, String>,
    /// The transfer it is a copy of, and its index in it; `None` for bytes already whole.
    pub transfer: Option<(js_sys::Promise, usize)>,
    /// Its length.
    pub length: u64,
    /// The identity check for a PDB ([`crate::verify`]).
    pub verify: Option<Verify>,
    /// What R2 said of the file before: [`Answer::Unheard`] makes the copy
    /// ask R2 first, so that a file R2 holds is not written again.
    pub r2: Answer,
}

/// Writes a verified file to the R2 store. A copy of a streamed transfer is
/// kept only if the transfer ended whole; one abandoned for falling behind the
/// client is fetched again from its source for R2 alone, after the client's
/// transfer has ended (so the two never compete). Once R2 holds a file too
/// large for the edge cache, the edge cache says so ([`edge::remember_in_r2`]):
/// later requests in this location read R2 alone.
pub fn fill(job: &Job<'_>, copy: Copy) {
    let Some(bucket) = job.bucket.clone() else { return };
    let path = job.path.to_string();
    let config = job.config.clone();
    let entry = job.keys.entry.clone();
    let delay = rules::store_delay_ms(Some(copy.length), copy.transfer.is_some(), config.copy_window);
    job.ctx.wait_until(async move {
        // After the client's answer has gone out.
        Delay::from(std::time::Duration::from_millis(delay)).await;
        let Copy { body, meta, transfer, length, verify, r2 } = copy;
        let too_large_for_edge = rules::edge_uncacheable(Some(length), config.edge_max).is_some();
        // The upstream answered before R2 said whether it holds the file:
        // a file R2 holds is not written again (its copy is let go).
        if r2 == Answer::Unheard && matches!(bucket.head(path.clone()).await, Ok(Some(_))) {
            if let Data::ReadableStream(s) = &body {
                let _ = s.cancel();
            }
            if too_large_for_edge {
                edge::mark_in_r2(&entry).await;
            }
            return;
        }
        let stored = put(&bucket, &path, body, meta.clone()).await;
        if stored {
            if let Some(v) = &verify {
                if let Checked::Other(_) = verify::check(v, |o, l| object_range(&bucket, &path, o, l)).await {
                    // Another file than the key's: neither kept nor fetched again.
                    let _ = bucket.delete(path.clone()).await;
                    return;
                }
            }
        }
        let kept = match transfer {
            None => stored,
            Some((done, i)) => match streams::ended(done).await.map(|w| w.get(i) == Some(&true)) {
                Some(true) => stored,
                ended => {
                    // The runtime fails a put whose body fails; should a store
                    // keep a part anyway, it loses it here.
                    if stored {
                        let _ = bucket.delete(path.clone()).await;
                    }
                    if ended.is_some() {
                        refill(&bucket, &path, meta, length, &config, verify).await;
                    }
                    false
                }
            },
        };
        if kept && too_large_for_edge {
            edge::mark_in_r2(&entry).await;
        }
    });
}

/// `length` bytes at `offset` of the object at `path` (a ranged R2 read).
async fn object_range(bucket: &Bucket, path: &str, offset: u64, length: u64) -> std::result::Result<Vec<u8>, String> {
    let range = Range::OffsetWithLength { offset, length };
    let object = bucket.get(path).range(range).execute().await.map_err(|e| e.to_string())?.ok_or("gone from R2")?;
    let body = object.body().ok_or("no body")?;
    body.bytes().await.map_err(|e| e.to_string())
}

async fn put(bucket: &Bucket, path: &str, body: Data, meta: HashMap<String, String>) -> bool {
    let http = HttpMetadata { content_type: Some("application/octet-stream".into()), ..Default::default() };
    bucket.put(path.to_string(), body).http_metadata(http).custom_metadata(meta).execute().await.is_ok()
}

/// Fetches a file again for the R2 store alone: the same lookup through the
/// core's engine (judged like the first time), whose file must have the same
/// length; R2 sets the pace.
async fn refill(bucket: &Bucket, path: &str, meta: HashMap<String, String>, length: u64, config: &Config, verify: Option<Verify>) {
    let Ok(key) = sympath::key::RequestKey::parse(path) else { return };
    let Some(mut lookup) = config.lookup(&key) else { return };
    while let sympath::lookup::Step::Fetch(fetch) = lookup.next() {
        let Some(found) = upstream::run(&mut lookup, &fetch, config.timeout_ms, config.deadline_ms).await else { continue };
        let Body::Stream { head } = found.body else { return };
        if found.take.length != Some(length) || found.take.store != sympath::lookup::Storable::Yes {
            return;
        }
        let Ok(t) = streams::pass_body(&head.rest, &head.js, Some(length), found.limits, 0, 0) else { return };
        let stored = put(bucket, path, Data::ReadableStream(t.readable), meta).await;
        let other = match (&verify, stored) {
            (Some(v), true) => matches!(verify::check(v, |o, l| object_range(bucket, path, o, l)).await, Checked::Other(_)),
            _ => false,
        };
        if stored && (other || streams::ended(t.done).await.is_none()) {
            let _ = bucket.delete(path.to_string()).await;
        }
        return;
    }
}

/// Serves a file from the R2 store if it is there: whole (200, also put in
/// the edge cache), one range (206, 416), or 304 for a matching ETag.
pub async fn serve(bucket: &Bucket, req: &Request, job: &Job<'_>) -> Result<Option<Response>> {
    let etag = rules::etag(job.path);
    let range = req.headers().get("Range")?.as_deref().and_then(rules::ByteRange::parse);
    if req.headers().get("If-None-Match")?.is_some_and(|v| rules::none_match(&v, &etag)) {
        let Some(head) = bucket.head(job.path).await? else { return Ok(None) };
        let mut resp = Response::empty()?.with_status(304);
        stored_headers(resp.headers_mut(), &head, &etag)?;
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
    let rust_error = |e: crate::transfer::TransferError| Error::RustError(e.to_string());
    let (mut resp, len) = match span {
        Some((first, last)) => {
            let len = last - first + 1;
            let readable = streams::pass_stored(&stream, len).map_err(rust_error)?;
            let mut resp = edge::streamed(readable)?.with_status(206);
            resp.headers_mut().set("Content-Range", &format!("bytes {first}-{last}/{size}"))?;
            (resp, len)
        }
        None => {
            // Whole and small enough: a copy goes into the edge cache, so that
            // the next request in this location is an edge-cache hit.
            let to_edge = rules::edge_uncacheable(Some(size), job.config.edge_max).is_none();
            let empty = js_sys::Uint8Array::new_with_length(0);
            let limits = streams::Limits::starting_now(job.config.timeout_ms, job.config.deadline_ms);
            let t =
                streams::pass_body(&stream, &empty, Some(size), limits, u32::from(to_edge), job.config.copy_window).map_err(rust_error)?;
            if let Some(copy) = t.copies.into_iter().next() {
                let mut copy = edge::streamed(copy)?;
                stored_headers(copy.headers_mut(), &object, &etag)?;
                copy.headers_mut().set("Content-Length", &size.to_string())?;
                // Checked when it was put in R2.
                edge::fill(job, copy, Some((t.done.clone(), 0)), None);
            }
            let done = t.done;
            job.ctx.wait_until(async move {
                let _ = streams::ended(done).await;
            });
            (edge::streamed(t.readable)?, size)
        }
    };
    stored_headers(resp.headers_mut(), &object, &etag)?;
    resp.headers_mut().set("Content-Length", &len.to_string())?;
    resp.headers_mut().set(headers::CACHE, headers::cache::R2)?;
    Ok(Some(resp))
}

/// The headers of a file from R2, from its object and custom metadata.
fn stored_headers(h: &mut Headers, object: &Object, etag: &str) -> Result<()> {
    h.set("Content-Type", "application/octet-stream")?;
    h.set("Cache-Control", rules::CACHE_CONTROL_HIT)?;
    h.set("ETag", etag)?;
    h.set("Accept-Ranges", "bytes")?;
    h.set(headers::LENGTH, &object.size().to_string())?;
    let meta = object.custom_metadata().unwrap_or_default();
    if let Some(up) = meta.get("upstream") {
        h.set(headers::UPSTREAM, up)?;
    }
    if meta.get("expanded").is_some_and(|v| v == headers::expanded::CAB) {
        h.set(headers::EXPANDED, headers::expanded::CAB)?;
    }
    if let Some(url) = meta.get("pointer") {
        h.set(headers::POINTER, url)?;
    }
    Ok(())
}
