//! The upstream lookup as a sans-io state machine: what to fetch next, and
//! what an answer decides. The handler's loop only asks [`Probes::next`],
//! makes the request ([`crate::upstream`]), and tells [`Probes::answer`] the
//! status, type and first bytes it got (or [`Probes::failed`] why it got
//! none). The order of stores and variants (R24, R66), the verdicts on
//! answers (R62, R89), `file.ptr` decisions (R63, R64, R88) and when to give
//! up on a store all live here, in one place, so that the core's lookup
//! engine can take them over behind the same loop.
//!
//! Today it walks [`rules::attempts`] over each upstream and judges with
//! [`rules::verdict`] and [`rules::pointer`].

use sympath::key::{RequestKey, Variant};
use sympath::url::StoreUrl;

use crate::config::RedirectPolicy;
use crate::rules::{self, Attempt, Verdict};
use crate::transfer::{TransferError, TransferKind};

/// One upstream request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// The store asked, credentials redacted (for `X-Sympath-Upstream` and messages).
    pub upstream: String,
    /// The URL to GET.
    pub url: String,
    /// The store URL's credentials, for `Authorization` (R28); never sent
    /// to a pointer's target.
    pub auth: Option<String>,
    /// Which variant of the file the URL names.
    pub variant: Variant,
    /// What the answer is for, and so what to read of it.
    pub read: Read,
    /// The `file.ptr` target this request follows, if it does (R63).
    pub pointer: Option<String>,
}

/// What an answer is for, and what to read of its body before
/// [`Probes::answer`] (only of a 200 with a body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The file to serve as it is: read its first bytes (its magic).
    AsIs,
    /// The client asked for the plain file and this is a cabinet of it: read
    /// its first bytes; a verified one is expanded and the expansion served (R23).
    ExpandCab,
    /// The client asked for the plain file and this is its `file.ptr`: read
    /// it whole, up to [`rules::MAX_POINTER_BYTES`], to follow it.
    FollowPointer,
}

/// What came back for a [`Fetch`].
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The HTTP status.
    pub status: u16,
    /// Its `Content-Type`.
    pub content_type: Option<&'a str>,
    /// What was read of the body ([`Read`]); `None` when nothing was (not a
    /// 200, or no body).
    pub body: Option<&'a [u8]>,
}

/// Why a [`Fetch`] got no [`Answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The request failed: no answer in time, a refused or broken redirect.
    Request(String),
    /// The answer's body failed while being read.
    Transfer(TransferError),
}

/// What the loop does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Make this request, then report it with [`Probes::answer`] or [`Probes::failed`].
    Fetch(Fetch),
    /// Every store has been asked.
    Done(End),
}

/// How a lookup without a hit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Every store answered that it does not have the file: a 404, cached
    /// briefly (R94). One reason per attempt, prefixed by its store.
    Miss(Vec<String>),
    /// Some store failed (5xx, timeout, reset): a 502, never cached (a
    /// failure may hide a hit). One reason per failed store.
    Failed(Vec<String>),
}

/// What an answer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A verified file: serve the body.
    Serve,
    /// A verified cabinet of the plain file: expand it and serve the
    /// expansion; report a failed expansion with [`Probes::not_expanded`].
    Expand,
    /// Ask [`Probes::next`] again.
    Next,
}

/// The state of one file's upstream lookup.
pub struct Probes {
    upstreams: Vec<StoreUrl>,
    attempts: Vec<Attempt>,
    /// The key's path as the client asked for it.
    requested: String,
    redirects: RedirectPolicy,
    store: usize,
    attempt: usize,
    /// A `file.ptr` target to fetch before the next attempt.
    follow: Option<Fetch>,
    misses: Vec<String>,
    failures: Vec<String>,
}

impl Probes {
    /// A lookup of `key` (requested as `requested`, `name/id/file`) in
    /// `upstreams`, in order; pointers are followed under `redirects`.
    pub fn new(upstreams: Vec<StoreUrl>, key: &RequestKey, requested: &str, redirects: RedirectPolicy) -> Probes {
        Probes {
            attempts: rules::attempts(key),
            upstreams,
            requested: requested.to_string(),
            redirects,
            store: 0,
            attempt: 0,
            follow: None,
            misses: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// The next request to make, or how the lookup ended.
    pub fn next(&self) -> Step {
        match self.current() {
            Some(fetch) => Step::Fetch(fetch),
            None => Step::Done(if self.failures.is_empty() { End::Miss(self.misses.clone()) } else { End::Failed(self.failures.clone()) }),
        }
    }

    fn current(&self) -> Option<Fetch> {
        if let Some(f) = &self.follow {
            return Some(f.clone());
        }
        let (up, attempt) = (self.upstreams.get(self.store)?, self.attempts.get(self.attempt)?);
        // The client asked for the plain file and this is another variant:
        // a cabinet is expanded, a pointer followed.
        let read = match attempt.variant {
            _ if attempt.path == self.requested => Read::AsIs,
            Variant::FilePtr => Read::FollowPointer,
            _ => Read::ExpandCab,
        };
        Some(Fetch {
            upstream: up.redacted(),
            url: up.join(attempt.path.split('/')),
            auth: up.basic_auth(),
            variant: attempt.variant,
            read,
            pointer: None,
        })
    }

    /// Judges the answer to the last [`Probes::next`] by status, type and
    /// first bytes (R62, R89): a verified file is served (or expanded); a
    /// `file.ptr` is followed (R63, R64, R88); a miss moves on to the store's
    /// next variant, a failure to the next store.
    pub fn answer(&mut self, answer: Answer<'_>) -> Decision {
        let Some(fetch) = self.current() else { return Decision::Next };
        if fetch.read == Read::FollowPointer {
            self.pointer(answer);
            return Decision::Next;
        }
        let verdict = match answer.body {
            Some(bytes) => rules::verdict(answer.status, answer.content_type, bytes, fetch.variant),
            None => match rules::verdict(answer.status, answer.content_type, b"", fetch.variant) {
                Verdict::Hit => Verdict::Miss("upstream answered without a body".into()),
                other => other,
            },
        };
        match (verdict, fetch.read) {
            (Verdict::Hit, Read::ExpandCab) => Decision::Expand,
            (Verdict::Hit, _) => Decision::Serve,
            (other, _) => {
                self.record(other);
                Decision::Next
            }
        }
    }

    /// A `file.ptr` read: followed when it points to an http(s) URL the
    /// redirect rules allow, a miss otherwise.
    fn pointer(&mut self, answer: Answer<'_>) {
        let text = answer.body.unwrap_or_default();
        match rules::verdict(answer.status, answer.content_type, text, Variant::FilePtr) {
            Verdict::Hit => {}
            Verdict::Miss(why) => return self.record(Verdict::Miss(format!("file.ptr: {why}"))),
            Verdict::Failed(why) => return self.record(Verdict::Failed(format!("file.ptr: {why}"))),
        }
        let (url, compressed) = match rules::pointer(text) {
            rules::Pointer::Follow { url, compressed } => (url, compressed),
            rules::Pointer::Miss(why) => return self.record(Verdict::Miss(why)),
        };
        // A pointer is the store sending the mirror elsewhere: the redirect rules apply.
        if let Err(why) = rules::redirect_allowed(&url, self.redirects) {
            return self.record(Verdict::Miss(format!("file.ptr: {why}")));
        }
        let (variant, read) = if compressed { (Variant::Compressed, Read::ExpandCab) } else { (Variant::Plain, Read::AsIs) };
        let upstream = self.upstreams.get(self.store).map(StoreUrl::redacted).unwrap_or_default();
        self.follow = Some(Fetch { upstream, url: url.clone(), auth: None, variant, read, pointer: Some(url) });
    }

    /// The last [`Probes::next`] got no answer: the store failed, except for
    /// a `file.ptr` too large to be one (a miss).
    pub fn failed(&mut self, failure: Failure) {
        let Some(fetch) = self.current() else { return };
        let verdict = match failure {
            Failure::Transfer(e) if fetch.read == Read::FollowPointer && e.kind == TransferKind::TooLarge => {
                Verdict::Miss(format!("file.ptr over {} bytes is not a pointer", rules::MAX_POINTER_BYTES))
            }
            Failure::Transfer(e) => Verdict::Failed(e.to_string()),
            Failure::Request(why) => match &fetch.pointer {
                Some(url) => Verdict::Failed(format!("file.ptr target {url}: {why}")),
                None => Verdict::Failed(why),
            },
        };
        self.record(verdict);
    }

    /// A verified cabinet ([`Decision::Expand`]) could not be expanded into
    /// the requested file: a miss, with the reason.
    pub fn not_expanded(&mut self, why: String) {
        self.record(Verdict::Miss(why));
    }

    /// Remembers a miss or failure of the current request and moves on: a
    /// miss to the store's next variant, a failure to the next store (a store
    /// that fails is not asked for the other variants). A pointer target's
    /// misses name the target.
    fn record(&mut self, verdict: Verdict) {
        let name = self.upstreams.get(self.store).map(StoreUrl::redacted).unwrap_or_default();
        let target = self.follow.take().and_then(|f| f.pointer);
        match verdict {
            Verdict::Hit => return,
            Verdict::Miss(why) => {
                match target {
                    Some(url) => self.misses.push(format!("{name}: file.ptr target {url}: {why}")),
                    None => self.misses.push(format!("{name}: {why}")),
                }
                self.attempt += 1;
            }
            Verdict::Failed(why) => {
                self.failures.push(format!("{name}: {why}"));
                self.attempt = self.attempts.len();
            }
        }
        if self.attempt >= self.attempts.len() {
            self.store += 1;
            self.attempt = 0;
        }
    }
}

/// Whether an answer fetched again (for the R2 store) is still a verified
/// file of `variant`, judged like the first time.
pub fn still_verified(answer: Answer<'_>, variant: Variant) -> bool {
    answer.body.is_some_and(|bytes| rules::verdict(answer.status, answer.content_type, bytes, variant) == Verdict::Hit)
}

#[cfg(test)]
mod tests;
