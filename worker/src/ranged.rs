//! `Range` on a miss (issue 11): a client that reads a part of a file the
//! mirror does not hold yet (the crash viewer reading a PDB's blocks) gets
//! that part from the upstream, not a whole download first. The lookup runs
//! as always — the engine judges the file by its status, type and first
//! bytes (and a PE by its identity) — then the range is asked of the URL the
//! engine took the file from, and the rest of the first answer is dropped.
//! Nothing of a range is stored. An upstream that does not answer the range
//! with exactly that range (206 and a matching `Content-Range`) gets the
//! whole file served and stored as on any miss.
//!
//! A large file's range is first tried through the chunk cache
//! ([`crate::chunks`]): aligned chunks fetched, checked and kept, the range
//! assembled from them. Only a range that is not served that way (a small
//! file, too many chunks, an upstream that does not answer chunks exactly) is
//! forwarded as above.

use sympath::headers;
use sympath::lookup::{Fetch, Lookup, Problem, Take};
use worker::*;

use crate::chunks::{self, Outcome};
use crate::deliver::deliver;
use crate::handler::Job;
use crate::rules::{self, ByteRange};
use crate::upstream::{self, Body, Found};

/// Serves `range` (the client's `Range` header value `header`, parsed) of a
/// file the engine took from `fetch`'s answer. `None`: the file is not the
/// key's (a PDB's identity read through its chunks, R70); `lookup` was told,
/// and goes on.
pub async fn serve(
    found: Found,
    fetch: &Fetch,
    header: &str,
    range: ByteRange,
    job: &Job<'_>,
    lookup: &mut Lookup,
) -> Result<Option<Response>> {
    let Found { body, take, limits, validators } = found;
    let Body::Stream { head } = body else {
        // Expanded at the edge: the whole file is here already.
        return deliver(Found { body, take, limits, validators }, job, crate::r2::Answer::Absent).map(Some);
    };
    let auth = credentials(fetch, &take);
    let why = match chunks::serve_miss(job, &take, auth, range).await {
        Outcome::Served(resp) => {
            let _ = head.rest.cancel();
            return Ok(Some(resp));
        }
        Outcome::Refused(why) => {
            let _ = head.rest.cancel();
            lookup.problem(take.id, &Problem::Corrupt(why));
            return Ok(None);
        }
        Outcome::Unusable(why) => why,
    };
    let answer = upstream::send_range(&take.url, auth, header, job.config.timeout_ms).await.ok();
    let Some((stream, span, length)) = answer.and_then(|r| exact(r, range)) else {
        return deliver(Found { body: Body::Stream { head }, take, limits, validators }, job, crate::r2::Answer::Absent).map(Some);
    };
    let _ = head.rest.cancel();
    let readable = crate::streams::pass_stored(&stream, length).map_err(|e| Error::RustError(e.to_string()))?;
    let mut out = crate::edge::streamed(readable)?.with_status(206);
    let h = out.headers_mut();
    h.set("Content-Type", "application/octet-stream")?;
    h.set("Cache-Control", rules::CACHE_CONTROL_HIT)?;
    h.set("ETag", &rules::etag(job.path))?;
    h.set("Accept-Ranges", "bytes")?;
    h.set("Content-Range", &span)?;
    h.set("Content-Length", &length.to_string())?;
    h.set(headers::UPSTREAM, &take.store_url)?;
    h.set(headers::CACHE, headers::cache::MISS)?;
    let note = match why {
        Some(why) => format!("a range of a file not held here, asked of the upstream: not cached (chunks: {why})"),
        None => "a range of a file not held here, asked of the upstream: not cached".into(),
    };
    h.set(headers::NOTE, &note)?;
    Ok(Some(out))
}

/// The `Authorization` for ranges of the file the engine took (`take`) in
/// answer to `fetch`: the store's credentials only for the store's own URL
/// (R28), never for a redirect or pointer target.
pub fn credentials<'a>(fetch: &'a Fetch, take: &Take) -> Option<&'a str> {
    if take.url == fetch.url {
        fetch.authorization.as_deref()
    } else {
        None
    }
}

/// The upstream's answer if it is exactly the range asked for: 206, a
/// `Content-Range` of `bytes first-last/size` equal to what `range` selects
/// in a file of that size, and a matching `Content-Length`. Any other
/// answer's body is cancelled (the file is then served whole).
fn exact(resp: Response, range: ByteRange) -> Option<(web_sys::ReadableStream, String, u64)> {
    let span = answered(&resp, range);
    match (span, resp.body()) {
        (Some((span, length)), ResponseBody::Stream(s)) => Some((s.clone(), span, length)),
        (_, ResponseBody::Stream(s)) => {
            let _ = s.cancel();
            None
        }
        _ => None,
    }
}

/// The `Content-Range` and length of an answer that is exactly `range`.
fn answered(resp: &Response, range: ByteRange) -> Option<(String, u64)> {
    if resp.status_code() != 206 {
        return None;
    }
    let span = resp.headers().get("Content-Range").ok().flatten()?;
    let (first, last, size) = rules::chunks::content_range_of(&span)?;
    if range.resolve(size) != Some((first, last)) {
        return None;
    }
    let length: u64 = resp.headers().get("Content-Length").ok().flatten()?.trim().parse().ok()?;
    (length == last - first + 1).then_some((span, length))
}
