//! Serving a verified upstream file: to the client, while copies of the same
//! bytes go to the edge cache and the R2 store.
//!
//! Every copy is length-checked by the runtime and written only if the
//! transfer ends whole; a copy that falls behind the client is abandoned
//! rather than buffered (R2 then gets the file by a second fetch once the
//! client's transfer has ended, see [`crate::r2::fill`]).

use sympath::headers;
use worker::*;

use crate::edge;
use crate::handler::Job;
use crate::r2;
use crate::rules;
use crate::upstream::{Body, Found};
use crate::verify::Verify;
use sympath::lookup::Storable;

/// The headers of a file served from upstream (the client's answer and its
/// edge-cache copy alike).
fn file_headers(job: &Job<'_>, upstream: &str, expanded: Option<&str>, pointer: Option<&str>, length: Option<u64>) -> Result<Headers> {
    let h = Headers::new();
    h.set("Content-Type", "application/octet-stream")?;
    h.set("Cache-Control", rules::CACHE_CONTROL_HIT)?;
    h.set("ETag", &rules::etag(job.path))?;
    h.set("Accept-Ranges", "bytes")?;
    h.set(headers::UPSTREAM, upstream)?;
    if let Some(how) = expanded {
        h.set(headers::EXPANDED, how)?;
    }
    if let Some(url) = pointer {
        h.set(headers::POINTER, url)?;
    }
    if let Some(len) = length {
        h.set("Content-Length", &len.to_string())?;
        h.set(headers::LENGTH, &len.to_string())?;
    }
    Ok(h)
}

/// Serves a file the lookup engine took (see the module doc): what it said
/// of the file (its length, whether it may be stored) decides the copies;
/// `r2_said` is what R2 said of it before ([`r2::Answer`]).
pub fn deliver(found: Found, job: &Job<'_>, r2_said: r2::Answer) -> Result<Response> {
    let Found { body, take, limits, .. } = found;
    let upstream = take.store_url.as_str();
    let (length, expanded) = match &body {
        // Only the expanded bytes of a cabinet are served in the file's place.
        Body::Expanded(b) => (Some(b.len() as u64), Some(headers::expanded::CAB)),
        Body::Stream { .. } | Body::Headers => (take.length, None),
    };
    if let Body::Headers = body {
        // A HEAD asked the upstream with HEAD: no bytes came, none are stored.
        let mut out = Response::empty()?.with_headers(file_headers(job, upstream, expanded, take.pointer.as_deref(), length)?);
        out.headers_mut().set(headers::NOTE, "not cached: a HEAD asks the upstream with HEAD and downloads nothing")?;
        out.headers_mut().set(headers::CACHE, headers::cache::MISS)?;
        return Ok(out);
    }
    let not_stored = match &take.store {
        Storable::Yes => None,
        Storable::No(why) => Some(format!("not cached: {why}")),
    };
    let not_edge = not_stored.clone().or_else(|| rules::edge_uncacheable(length, job.config.edge_max));
    let to_edge = not_edge.is_none();
    // R2 needs the length up front.
    let to_r2 = job.bucket.is_some() && not_stored.is_none() && length.is_some();
    let pointer = take.pointer.clone();
    let verify = match &body {
        Body::Stream { head } => Verify::for_file(job.path, &head.bytes),
        Body::Expanded(b) => Verify::for_file(job.path, b),
        Body::Headers => None,
    };
    let headers = || file_headers(job, upstream, expanded, pointer.as_deref(), length);
    // Bytes already whole: served and copied as they are, with no pump.
    let whole = |bytes: Vec<u8>| -> Result<_> {
        let edge = to_edge.then(|| Response::from_bytes(bytes.clone())).transpose()?;
        let r2 = to_r2.then(|| Data::Bytes(bytes.clone()));
        Ok((Response::from_bytes(bytes)?, edge, r2, None))
    };
    let (out, edge, r2, transfer) = match body {
        Body::Headers => return Err(Error::RustError("a HEAD answer has no body to deliver".into())),
        Body::Expanded(bytes) => whole(bytes)?,
        // A small file, read whole by the first read (its length is the
        // engine's, from Content-Length): what is left of the body is its end.
        Body::Stream { head } if length == Some(head.bytes.len() as u64) => {
            let _ = head.rest.cancel();
            whole(head.bytes)?
        }
        Body::Stream { head } => {
            let copies = u32::from(to_edge) + u32::from(to_r2);
            let t = crate::streams::pass_body(&head.rest, &head.js, length, limits, copies, job.config.copy_window)
                .map_err(|e| Error::RustError(e.to_string()))?;
            let mut bodies = t.copies.into_iter();
            let edge = if to_edge { bodies.next().map(edge::streamed).transpose()? } else { None };
            let r2 = if to_r2 { bodies.next().map(Data::ReadableStream) } else { None };
            // The pump lives as long as the transfer, client gone or not.
            let done = t.done.clone();
            job.ctx.wait_until(async move {
                let _ = crate::streams::ended(done).await;
            });
            (edge::streamed(t.readable)?, edge, r2, Some(t.done))
        }
    };
    if let Some(copy) = edge {
        edge::fill(job, copy.with_headers(headers()?), transfer.clone().map(|d| (d, 0)), verify.clone());
    }
    if let (Some(copy), Some(len)) = (r2, length) {
        let mut meta = std::collections::HashMap::new();
        meta.insert("upstream".to_string(), upstream.to_string());
        if let Some(how) = expanded {
            meta.insert("expanded".to_string(), how.to_string());
        }
        if let Some(url) = &pointer {
            meta.insert("pointer".to_string(), url.to_string());
        }
        r2::fill(
            job,
            r2::Copy { body: copy, meta, transfer: transfer.map(|d| (d, usize::from(to_edge))), length: len, verify, r2: r2_said },
        );
    }
    let mut out = out.with_headers(headers()?);
    if let Some(why) = not_edge {
        out.headers_mut().set(headers::NOTE, &why)?;
    }
    let status = match job.caching {
        edge::Misses::Use => headers::cache::MISS,
        edge::Misses::Ignore => headers::cache::BYPASS,
    };
    out.headers_mut().set(headers::CACHE, status)?;
    Ok(out)
}
