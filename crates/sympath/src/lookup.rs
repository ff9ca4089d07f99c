//! The lookup engine: runs a [`LookupPlan`] without doing any I/O (spec §8, §12, §13).
//!
//! A sans-io state machine in the style of protocol crates: the executor (the
//! edge mirror, the browser symbol client) asks [`Lookup::next`] what to
//! fetch, does the fetch, and reports what came back — the status and the
//! headers that matter ([`Lookup::headers`]), then, when asked, the first
//! bytes ([`Lookup::first_bytes`]), a whole small body
//! ([`Lookup::body`]), the result of expanding a cabinet
//! ([`Lookup::expanded`]) or what went wrong ([`Lookup::problem`]). Each
//! report returns a [`Decision`]: read more, deliver the file ([`Take`]), or
//! drop it and ask `next` again.
//!
//! Every lookup rule lives here, once, for every executor:
//! - the order of the plan's probes, and of the variants in a key directory:
//!   plain, compressed, `file.ptr` (R66), or only the variant asked for;
//! - two-tier stores, learnt from `index2.txt` (R52, R54);
//! - verdicts: 200 only; 404/410 a miss; an HTML page, an empty body or the
//!   wrong magic a miss (R62, R89); 429/5xx a failure, never a miss (R94,
//!   R95); a store that failed is not asked for its other variants;
//!   a sympath mirror's 404 for the plain file covers every variant;
//! - redirects: one hop, resolved against the answering URL, never carrying
//!   the store's credentials, only to targets the [`Targets`] policy allows
//!   (R28, R88);
//! - `file.ptr`: read at most [`MAX_POINTER_BYTES`], URL targets followed
//!   under the same policy, a compressed target expanded, UNC/local targets
//!   and `MSG:` misses (R63, R64);
//! - cabinets: which file a cabinet must hold, and the bounds on expanding
//!   it (R23, R61);
//! - what may be stored: only a file whose length is known up front, so
//!   that a truncated transfer can never be stored as a whole file;
//! - integrity: a PE image whose `TimeDateStamp` + `SizeOfImage` (read
//!   from its first bytes) are not the key's id is a miss that says so (R67),
//!   so that a misconfigured store cannot poison a cache. A PDB's GUID and
//!   age lie in its MSF directory, past the first bytes: not checked here.

use serde::{Deserialize, Serialize};

use crate::fileptr::{FilePtr, PtrTarget};
use crate::key::Variant;
use crate::magic::{pe_identity, sniff, Magic};
use crate::plan::{Check, Location, LookupPlan, Source};
use crate::target::{self, Targets};

/// How many first bytes of an answer the engine judges ([`Decision::Sniff`],
/// and [`Lookup::expanded`]'s `first_bytes`): the magic, and a PE image's
/// headers for its identity (R67).
pub const SNIFF_BYTES: usize = 4096;
/// The largest `file.ptr` read: they are one line of text.
pub const MAX_POINTER_BYTES: u64 = 4096;
/// How many redirects one fetch follows (msdl sends one, to blob storage, R88).
pub const MAX_REDIRECTS: u8 = 1;

/// GET or HEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Fetch the file.
    #[default]
    Get,
    /// Only ask whether it is there (a `file.ptr` is still read with GET).
    Head,
}

/// Who follows redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Redirects {
    /// The executor fetches with redirects off and reports every 3xx: the
    /// engine decides (a server-side executor, which must vet targets).
    #[default]
    Engine,
    /// The executor's HTTP stack follows them (a browser, which drops
    /// credentials on cross-origin redirects itself); a 3xx reported is a failure.
    Executor,
}

/// What an executor does with the plan's file-system probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Paths {
    /// The executor's own store (Cache Storage, the edge cache and R2) plays
    /// every `cache*` directory and downstream store, and it looks there
    /// before it runs the engine: those probes are not listed. Plain
    /// directories are listed as unreachable.
    #[default]
    OwnCache,
    /// Every file-system probe is listed as unreachable.
    Unreachable,
}

/// The executor's rules: what it wants, what it can reach, its bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(default)]
pub struct Policy {
    /// The variant to deliver: `plain` (the file: cabinets expanded,
    /// pointers followed) or exactly `compressed` / `file_ptr` as stored.
    pub want: Variant,
    /// GET, or HEAD to ask only whether the file is there.
    pub method: Method,
    /// Where redirects and pointers may lead.
    pub targets: Targets,
    /// Who follows redirects.
    pub redirects: Redirects,
    /// File-system probes.
    pub paths: Paths,
    /// Largest cabinet expanded (bytes).
    pub max_compressed_bytes: u64,
    /// Largest file expanded from a cabinet (bytes).
    pub max_expanded_bytes: u64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::browser()
    }
}

impl Policy {
    /// A browser: redirects followed by the browser, any http(s) pointer
    /// target (the browser enforces its own rules), large cabinets.
    pub fn browser() -> Policy {
        Policy {
            want: Variant::Plain,
            method: Method::Get,
            targets: Targets::Any,
            redirects: Redirects::Executor,
            paths: Paths::OwnCache,
            max_compressed_bytes: 256 * 1024 * 1024,
            max_expanded_bytes: 512 * 1024 * 1024,
        }
    }

    /// A server fetching for others (the edge mirror): redirects vetted by
    /// the engine, public https targets only, cabinets bounded so that the
    /// body and its expansion fit one 128 MB isolate.
    pub fn edge() -> Policy {
        Policy {
            want: Variant::Plain,
            method: Method::Get,
            targets: Targets::PublicHttps,
            redirects: Redirects::Engine,
            paths: Paths::OwnCache,
            max_compressed_bytes: 32 * 1024 * 1024,
            max_expanded_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Why a fetch is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A probe of the plan.
    Probe,
    /// `index2.txt`: is the store two-tier (R54)?
    Index2,
    /// The target of a redirect (R88).
    Redirect,
    /// The target of a `file.ptr` (R63).
    Pointer,
}

/// What a fetched URL must turn out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// The symbol file itself.
    File,
    /// A cabinet, delivered as it is.
    Cabinet,
    /// A cabinet, expanded into the file (R23).
    CabinetToExpand,
    /// A `file.ptr`, delivered as it is.
    Pointer,
    /// A `file.ptr`, followed (R63, R64).
    PointerToFollow,
    /// `index2.txt`.
    Index2,
}

/// One fetch for the executor to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Fetch {
    /// Names this fetch in the reports about it.
    pub id: u32,
    /// The URL (never with credentials, R28).
    pub url: String,
    /// GET or HEAD.
    pub method: Method,
    /// The `Authorization` header to send, if the store's URL carried
    /// credentials (R28). Never set for a redirect or pointer target.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub authorization: Option<String>,
    /// Which variant of the key the URL holds (`None` for `index2.txt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub variant: Option<Variant>,
    /// Why.
    pub purpose: Purpose,
    /// What the answer must be.
    pub expect: Expect,
    /// The store's URL as configured, credentials removed: for reports.
    pub store: String,
}

/// The status and the headers of an answer that the engine judges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(default)]
pub struct Head {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub content_type: Option<String>,
    /// `Content-Length`.
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub content_length: Option<u64>,
    /// `Content-Encoding` (R93): the bytes delivered are decoded, so the
    /// length on the wire says nothing about them.
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub content_encoding: Option<String>,
    /// `Location`, for a redirect.
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub location: Option<String>,
    /// `Retry-After`, for 429/503.
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub retry_after: Option<String>,
    /// `X-Sympath-Cache`: the answer came from a sympath mirror, which tries
    /// every variant of a key itself.
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub mirror: Option<String>,
}

/// What went wrong on the executor's side of a fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum Problem {
    /// No answer: refused, reset, DNS, TLS, CORS, or no answer in time.
    Network(String),
    /// The answer's body broke off: stalled, reset, shorter or longer than said.
    Transfer(String),
    /// The body is over the bound the engine gave.
    TooLarge(u64),
    /// The body is not what it claims: a cabinet that does not expand.
    Corrupt(String),
}

/// Whether a delivered file may be kept in a downstream store or cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "store", content = "reason", rename_all = "snake_case")]
pub enum Storable {
    /// Yes, once the executor has every byte of it (see [`Lookup::complete`]).
    Yes,
    /// No: its length is not known up front, so a truncated transfer could
    /// not be told from a whole one.
    No(String),
}

/// A file to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Take {
    /// The fetch whose body it is.
    pub id: u32,
    /// The bytes it must have (`None`: not known up front).
    pub length: Option<u64>,
    /// Whether it may be stored.
    pub store: Storable,
    /// Whether it was expanded from a cabinet.
    pub expanded: bool,
    /// The URL a `file.ptr` pointed to, when it came through one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub pointer: Option<String>,
    /// The URL its bytes come from.
    pub url: String,
    /// The store that had it, credentials removed.
    pub store_url: String,
    /// The variant delivered.
    pub variant: Variant,
}

/// What the executor does next with the answer it reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Decision {
    /// Read the first `bytes` bytes (fewer if the body is shorter) and
    /// report them with [`Lookup::first_bytes`].
    Sniff {
        /// How many.
        bytes: usize,
    },
    /// Read the whole body, at most `max` bytes (more: report
    /// [`Problem::TooLarge`]), and report it with [`Lookup::body`].
    ReadAll {
        /// The bound.
        max: u64,
    },
    /// Read the whole cabinet (at most `max_compressed` bytes), expand it
    /// (at most `max_expanded` bytes out), and report the result with
    /// [`Lookup::expanded`] (or [`Problem::Corrupt`] / [`Problem::TooLarge`]).
    Expand {
        /// The bound on the cabinet.
        max_compressed: u64,
        /// The bound on the expanded file.
        max_expanded: u64,
    },
    /// Deliver this body: it is the file.
    Take(Take),
    /// Drop this answer and ask [`Lookup::next`].
    Next,
}

/// How a probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not answered yet.
    Pending,
    /// The file (or, for `index2.txt`, a two-tier store).
    Hit,
    /// Not there.
    Miss,
    /// The store failed: it may have the file.
    Failed,
    /// Not tried, with the reason.
    Skipped,
    /// Sent elsewhere (a redirect, a `file.ptr`).
    Followed,
}

/// One probe made (or skipped), in order: the lookup's story, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct ProbeRecord {
    /// The URL or path.
    pub location: String,
    /// Which variant (`None` for `index2.txt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub variant: Option<Variant>,
    /// Why it was made.
    pub purpose: Purpose,
    /// How it ended.
    pub outcome: Outcome,
    /// The HTTP status, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub status: Option<u16>,
    /// Why, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub reason: Option<String>,
    /// The answer came from a sympath mirror.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub mirror: bool,
}

/// How a lookup ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Done {
    /// Delivered (see the [`Take`] that said so).
    Found {
        /// Where its bytes came from.
        url: String,
    },
    /// No store has it: a miss that may be remembered (R94).
    NotFound {
        /// Every store's answer, for a person.
        reason: String,
    },
    /// No store had it, and at least one failed: it may have the file, so
    /// this must not be remembered as a miss.
    Failed {
        /// What failed.
        reason: String,
    },
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Make this fetch and report its answer.
    Fetch(Fetch),
    /// The lookup is over.
    Done(Done),
}

/// A store of the plan, by element and position in its chain.
type StoreRef = (Option<usize>, Option<usize>);

#[derive(Debug, Clone)]
struct Planned {
    store: StoreRef,
    check: Check,
    source: Source,
    variant: Option<Variant>,
    location: Location,
    two_tier: Option<Location>,
}

/// A fetch handed out and not yet settled.
#[derive(Debug, Clone)]
struct Current {
    fetch: Fetch,
    store: StoreRef,
    hops: u8,
    record: usize,
    pointer: Option<String>,
    length: Option<u64>,
    encoded: bool,
}

/// The lookup of one file through one plan. See the module docs.
#[derive(Debug, Clone)]
pub struct Lookup {
    name: String,
    id: String,
    policy: Policy,
    probes: Vec<Planned>,
    at: usize,
    queued: Option<Current>,
    current: Option<Current>,
    /// The fetch whose file was taken, and the length it must have.
    taken: Option<(Current, Option<u64>)>,
    records: Vec<ProbeRecord>,
    failed: Vec<StoreRef>,
    settled: Vec<StoreRef>,
    two_tier: Vec<StoreRef>,
    next_id: u32,
    /// The longest `Retry-After` (delta-seconds) of a busy store's answer.
    retry_after: Option<u32>,
}

impl Lookup {
    /// A lookup that runs `plan` under `policy`.
    pub fn new(plan: &LookupPlan, policy: Policy) -> Lookup {
        let probes = plan
            .probes
            .iter()
            .map(|p| Planned {
                store: (p.element, p.store),
                check: p.check,
                source: p.source,
                variant: p.variant,
                location: p.location.clone(),
                two_tier: p.two_tier.clone(),
            })
            .collect();
        Lookup {
            name: plan.key.name.clone(),
            id: plan.key.id.clone(),
            policy,
            probes,
            at: 0,
            queued: None,
            current: None,
            taken: None,
            records: Vec::new(),
            failed: Vec::new(),
            settled: Vec::new(),
            two_tier: Vec::new(),
            retry_after: None,
            next_id: 1,
        }
    }

    /// The policy it runs under.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Every probe so far, in order.
    pub fn probes(&self) -> &[ProbeRecord] {
        &self.records
    }

    /// The places this lookup would try, in order, if every store said no:
    /// what to show before anything is fetched. Fetches are `pending`;
    /// places out of reach are `skipped` with the reason.
    pub fn places(&self) -> Vec<ProbeRecord> {
        let mut dry = self.clone();
        while let Step::Fetch(f) = dry.next() {
            dry.headers(f.id, &Head { status: 404, ..Head::default() });
            if let Some(r) = dry.records.last_mut() {
                r.outcome = Outcome::Pending;
                r.status = None;
                r.reason = None;
            }
        }
        dry.records
    }

    /// What to do next. A fetch handed out and never reported is a failure
    /// of its store.
    // Not an Iterator: every step waits for the executor's reports.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Step {
        if let Some(cur) = self.current.take() {
            self.fail(&cur, "no answer was reported".into());
        }
        if let Some((cur, _)) = &self.taken {
            return Step::Done(Done::Found { url: cur.fetch.url.clone() });
        }
        if let Some(mut cur) = self.queued.take() {
            cur.record = self.record(&cur.fetch.url, cur.fetch.variant, cur.fetch.purpose);
            let fetch = cur.fetch.clone();
            self.current = Some(cur);
            return Step::Fetch(fetch);
        }
        while let Some(p) = self.probes.get(self.at).cloned() {
            self.at += 1;
            if let Some(fetch) = self.start(&p) {
                return Step::Fetch(fetch);
            }
        }
        Step::Done(self.verdict())
    }

    fn verdict(&self) -> Done {
        let say = |o: Outcome| -> Vec<String> {
            self.records
                .iter()
                .filter(|r| r.outcome == o && r.purpose != Purpose::Index2)
                .map(|r| format!("{}: {}", r.location, r.reason.as_deref().unwrap_or("not there")))
                .collect()
        };
        let failures = say(Outcome::Failed);
        if failures.is_empty() {
            let misses = say(Outcome::Miss);
            let reason = if misses.is_empty() { "no store to ask".to_string() } else { misses.join("; ") };
            Done::NotFound { reason }
        } else {
            Done::Failed { reason: failures.join("; ") }
        }
    }

    /// Starts a planned probe: a fetch, or `None` when it is skipped (and
    /// listed, if a person should know).
    fn start(&mut self, p: &Planned) -> Option<Fetch> {
        let variant = p.variant;
        if p.check == Check::File && self.policy.want != Variant::Plain && variant != Some(self.policy.want) {
            return None;
        }
        let location = match (&p.two_tier, self.two_tier.contains(&p.store)) {
            (Some(two), true) => two,
            _ => &p.location,
        };
        let (url, authorization, store) = match location {
            Location::Url { url, authorization, store, .. } => (url.clone(), authorization.clone(), store.clone()),
            Location::Path { path } => {
                let own = self.policy.paths == Paths::OwnCache && matches!(p.source, Source::Cache | Source::Store);
                if !own && p.check == Check::File {
                    let i = self.record(path, variant, Purpose::Probe);
                    self.settle(i, Outcome::Skipped, None, "a browser or an edge server cannot read local or UNC paths".into());
                }
                return None;
            }
        };
        let purpose = if p.check == Check::Index2 { Purpose::Index2 } else { Purpose::Probe };
        if let Some(why) = self.skipped_store(p.store) {
            let i = self.record(&url, variant, purpose);
            self.settle(i, Outcome::Skipped, None, why.into());
            return None;
        }
        let expect = match (p.check, variant) {
            (Check::Index2, _) | (_, None) => Expect::Index2,
            (_, Some(Variant::Plain)) => Expect::File,
            (_, Some(Variant::Compressed)) if self.policy.want == Variant::Plain => Expect::CabinetToExpand,
            (_, Some(Variant::Compressed)) => Expect::Cabinet,
            (_, Some(Variant::FilePtr)) if self.policy.want == Variant::Plain => Expect::PointerToFollow,
            (_, Some(Variant::FilePtr)) => Expect::Pointer,
        };
        let method = match expect {
            Expect::File | Expect::Cabinet | Expect::CabinetToExpand => self.policy.method,
            _ => Method::Get,
        };
        let id = self.id();
        let fetch = Fetch { id, url: url.clone(), method, authorization, variant, purpose, expect, store };
        let record = self.record(&url, variant, purpose);
        self.current = Some(Current { fetch: fetch.clone(), store: p.store, hops: 0, record, pointer: None, length: None, encoded: false });
        Some(fetch)
    }

    fn skipped_store(&self, store: StoreRef) -> Option<&'static str> {
        if self.failed.contains(&store) {
            Some("the store failed: its other variants are not asked for")
        } else if self.settled.contains(&store) {
            Some("the sympath mirror already tried every variant of the key")
        } else {
            None
        }
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    fn record(&mut self, location: &str, variant: Option<Variant>, purpose: Purpose) -> usize {
        self.records.push(ProbeRecord {
            location: location.to_string(),
            variant,
            purpose,
            outcome: Outcome::Pending,
            status: None,
            reason: None,
            mirror: false,
        });
        self.records.len() - 1
    }

    fn settle(&mut self, record: usize, outcome: Outcome, status: Option<u16>, reason: String) {
        if let Some(r) = self.records.get_mut(record) {
            r.outcome = outcome;
            if status.is_some() {
                r.status = status;
            }
            r.reason = Some(reason);
        }
    }

    /// The fetch `id` names, if it is the one in flight.
    fn take_current(&mut self, id: u32) -> Option<Current> {
        match &self.current {
            Some(c) if c.fetch.id == id => self.current.take(),
            _ => None,
        }
    }

    fn miss(&mut self, cur: &Current, reason: String) -> Decision {
        self.settle(cur.record, Outcome::Miss, None, reason);
        Decision::Next
    }

    fn fail(&mut self, cur: &Current, reason: String) -> Decision {
        self.settle(cur.record, Outcome::Failed, None, reason);
        if !self.failed.contains(&cur.store) {
            self.failed.push(cur.store);
        }
        Decision::Next
    }

    /// The longest wait a busy store (429 or 503) asked for with a
    /// `Retry-After` in seconds, for a lookup that ended
    /// [`Done::Failed`]: what to tell the client to wait.
    pub fn retry_after(&self) -> Option<u32> {
        self.retry_after
    }

    /// Reports the status and headers of fetch `id`'s answer.
    pub fn headers(&mut self, id: u32, head: &Head) -> Decision {
        let Some(mut cur) = self.take_current(id) else { return Decision::Next };
        let status = head.status;
        if let Some(r) = self.records.get_mut(cur.record) {
            r.status = Some(status);
            r.mirror = head.mirror.is_some();
        }
        let html = head.content_type.as_deref().is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/html"));
        match status {
            200 if cur.fetch.expect == Expect::Index2 => {
                let two = !html;
                if two && !self.two_tier.contains(&cur.store) {
                    self.two_tier.push(cur.store);
                }
                let (o, why) = if two { (Outcome::Hit, "the store is two-tier") } else { (Outcome::Miss, "one-tier (an HTML page)") };
                self.settle(cur.record, o, None, why.into());
                Decision::Next
            }
            _ if cur.fetch.expect == Expect::Index2 => {
                self.settle(cur.record, Outcome::Miss, None, format!("one-tier (the store answered {status})"));
                Decision::Next
            }
            200 if html => self.miss(&cur, "the store answered 200 with an HTML page (a soft 404, R89)".into()),
            200 => {
                cur.encoded = head.content_encoding.as_deref().is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
                cur.length = head.content_length;
                self.accept_head(cur)
            }
            404 | 410 => {
                let mirror_covers_all =
                    head.mirror.is_some() && cur.fetch.variant == Some(Variant::Plain) && self.policy.want == Variant::Plain;
                if mirror_covers_all && !self.settled.contains(&cur.store) {
                    self.settled.push(cur.store);
                }
                self.miss(&cur, format!("the store answered {status}"))
            }
            300..=399 => self.redirect(cur, head),
            429 | 503 => {
                if let Some(secs) = head.retry_after.as_deref().and_then(|r| r.trim().parse::<u32>().ok()) {
                    self.retry_after = Some(self.retry_after.map_or(secs, |s| s.max(secs)));
                }
                let after = head.retry_after.as_deref().map(|r| format!(", retry after {}", r.trim())).unwrap_or_default();
                self.fail(&cur, format!("the store is busy ({status}{after}): not a miss"))
            }
            500..=599 => self.fail(&cur, format!("the store answered {status}")),
            s => self.fail(&cur, format!("unexpected status {s} (only 200 is a file)")),
        }
    }

    fn accept_head(&mut self, cur: Current) -> Decision {
        let too_big = |max: u64| cur.length.is_some_and(|l| l > max);
        let decision = match cur.fetch.expect {
            Expect::PointerToFollow if too_big(MAX_POINTER_BYTES) => return self.too_large(&cur, MAX_POINTER_BYTES),
            Expect::PointerToFollow => Decision::ReadAll { max: MAX_POINTER_BYTES },
            Expect::CabinetToExpand if too_big(self.policy.max_compressed_bytes) => {
                return self.too_large(&cur, self.policy.max_compressed_bytes)
            }
            _ if cur.fetch.method == Method::Head => return self.take(cur, false),
            _ => Decision::Sniff { bytes: SNIFF_BYTES },
        };
        self.current = Some(cur);
        decision
    }

    fn redirect(&mut self, cur: Current, head: &Head) -> Decision {
        if self.policy.redirects == Redirects::Executor {
            return self.fail(&cur, format!("an unexpected redirect ({})", head.status));
        }
        let Some(location) = head.location.as_deref() else {
            return self.fail(&cur, format!("a redirect ({}) without Location", head.status));
        };
        if cur.hops >= MAX_REDIRECTS {
            return self.fail(&cur, format!("redirected again; {MAX_REDIRECTS} redirect is followed"));
        }
        let checked = target::resolve(&cur.fetch.url, location).and_then(|t| {
            if crate::url::UrlParts::parse(&t).is_ok_and(|p| p.username.is_some()) {
                return Err("a redirect target with credentials is refused".into());
            }
            target::allowed(&t, self.policy.targets).map(|()| t)
        });
        let target = match checked {
            Ok(t) => t,
            Err(why) => return self.fail(&cur, format!("redirect refused: {why}")),
        };
        self.settle(cur.record, Outcome::Followed, None, format!("redirected to {target}"));
        self.follow(cur, target, Purpose::Redirect, None);
        Decision::Next
    }

    /// Queues a fetch of `url` standing in for `cur` (a redirect or pointer target).
    fn follow(&mut self, cur: Current, url: String, purpose: Purpose, expect: Option<Expect>) {
        let id = self.id();
        let method = match expect.unwrap_or(cur.fetch.expect) {
            Expect::File | Expect::Cabinet | Expect::CabinetToExpand => self.policy.method,
            _ => Method::Get,
        };
        let hops = if purpose == Purpose::Redirect { cur.hops + 1 } else { 0 };
        let pointer = if purpose == Purpose::Pointer { Some(url.clone()) } else { cur.pointer.clone() };
        let fetch = Fetch {
            id,
            url,
            method,
            authorization: None,
            variant: if purpose == Purpose::Pointer { None } else { cur.fetch.variant },
            purpose,
            expect: expect.unwrap_or(cur.fetch.expect),
            store: cur.fetch.store.clone(),
        };
        self.queued = Some(Current { fetch, store: cur.store, hops, record: cur.record, pointer, length: None, encoded: false });
    }

    fn too_large(&mut self, cur: &Current, max: u64) -> Decision {
        let why = match cur.fetch.expect {
            Expect::PointerToFollow => format!("a file.ptr over {max} bytes is not a pointer"),
            _ => format!("the cabinet is over the {max}-byte limit for expanding it here"),
        };
        self.miss(cur, why)
    }

    /// Reports the first bytes of fetch `id`'s body (after [`Decision::Sniff`]).
    pub fn first_bytes(&mut self, id: u32, bytes: &[u8]) -> Decision {
        let Some(cur) = self.take_current(id) else { return Decision::Next };
        let magic = sniff(bytes);
        match (cur.fetch.expect, magic) {
            (_, Magic::Empty) => self.miss(&cur, "the store answered 200 with an empty body (R62)".into()),
            (_, Magic::Html) => self.miss(&cur, "the store answered 200 with an HTML page (a soft 404, R89)".into()),
            (Expect::File, m) if m.is_symbol_file() && m != Magic::Cab => match self.identity_mismatch(bytes) {
                Some(why) => self.miss(&cur, why),
                None => self.take(cur, false),
            },
            (Expect::File, m) => self.miss(&cur, format!("not a symbol file (magic: {})", m.as_str())),
            (Expect::Cabinet, Magic::Cab) => self.take(cur, false),
            (Expect::CabinetToExpand, Magic::Cab) => {
                let max_compressed = self.policy.max_compressed_bytes;
                let max_expanded = self.policy.max_expanded_bytes;
                self.current = Some(cur);
                Decision::Expand { max_compressed, max_expanded }
            }
            (Expect::Cabinet | Expect::CabinetToExpand, m) => {
                self.miss(&cur, format!("a compressed file must be a cabinet (MSCF), got {}", m.as_str()))
            }
            (Expect::Pointer, _) => self.take(cur, false),
            (Expect::PointerToFollow | Expect::Index2, _) => {
                self.current = Some(cur);
                Decision::ReadAll { max: MAX_POINTER_BYTES }
            }
        }
    }

    /// Reports the whole body of fetch `id` (after [`Decision::ReadAll`]): a `file.ptr`.
    pub fn body(&mut self, id: u32, bytes: &[u8]) -> Decision {
        let Some(cur) = self.take_current(id) else { return Decision::Next };
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_POINTER_BYTES {
            return self.too_large(&cur, MAX_POINTER_BYTES);
        }
        if let Some(why) = match sniff(bytes) {
            Magic::Html => Some("file.ptr is an HTML page (a soft 404, R89)"),
            Magic::Empty => Some("file.ptr is empty"),
            _ => None,
        } {
            return self.miss(&cur, why.into());
        }
        let ptr = FilePtr::parse(bytes);
        let url = match (&ptr, ptr.target()) {
            (FilePtr::Path(url), Some(PtrTarget::Url)) => url.clone(),
            (FilePtr::Path(p), _) => {
                return self.miss(&cur, format!("file.ptr points to {p}, which a browser or an edge server cannot reach (R64)"))
            }
            (FilePtr::Message(m), _) => return self.miss(&cur, format!("file.ptr says: {m} (R63)")),
            (FilePtr::Empty, _) => return self.miss(&cur, "file.ptr is empty".into()),
        };
        let checked = if crate::url::UrlParts::parse(&url).is_ok_and(|p| p.username.is_some()) {
            Err("a target with credentials is refused".to_string())
        } else {
            target::allowed(&url, self.policy.targets)
        };
        if let Err(why) = checked {
            return self.miss(&cur, format!("file.ptr target refused: {why}"));
        }
        let expect = if crate::fileptr::names_compressed(&url) { Expect::CabinetToExpand } else { Expect::File };
        self.settle(cur.record, Outcome::Followed, None, format!("file.ptr points to {url}"));
        self.follow(cur, url, Purpose::Pointer, Some(expect));
        Decision::Next
    }

    /// Reports the cabinet of fetch `id` expanded (after [`Decision::Expand`]):
    /// the name of the file it held, its size and its first bytes.
    pub fn expanded(&mut self, id: u32, inner: &str, size: u64, first_bytes: &[u8]) -> Decision {
        let Some(mut cur) = self.take_current(id) else { return Decision::Next };
        if !inner.eq_ignore_ascii_case(&self.name) {
            return self.miss(&cur, format!("the cabinet holds {inner}, not {}", self.name));
        }
        if size > self.policy.max_expanded_bytes {
            return self.miss(&cur, format!("the cabinet's file is over the {}-byte limit", self.policy.max_expanded_bytes));
        }
        let magic = sniff(first_bytes);
        if !magic.is_symbol_file() || magic == Magic::Cab {
            return self.miss(&cur, format!("the cabinet does not hold a symbol file ({})", magic.as_str()));
        }
        if let Some(why) = self.identity_mismatch(first_bytes) {
            return self.miss(&cur, format!("the cabinet's {why}"));
        }
        cur.length = Some(size);
        cur.encoded = false;
        self.take(cur, true)
    }

    /// Why the file whose first bytes are `first` is not the key's (R67): a
    /// PE image whose `TimeDateStamp` + `SizeOfImage` are not the key's id.
    /// `None` when it matches, or its identity is not within the bytes.
    fn identity_mismatch(&self, first: &[u8]) -> Option<String> {
        let (timestamp, size) = pe_identity(first)?;
        let (ts, rest) = (self.id.get(..8)?, self.id.get(8..)?);
        let same = u32::from_str_radix(ts, 16).ok() == Some(timestamp) && u32::from_str_radix(rest, 16).ok() == Some(size);
        (!same).then(|| {
            format!(
                "file is a PE image with id {timestamp:08X}{size:x} (TimeDateStamp, SizeOfImage), not the key's {}: the store is misconfigured (R67)",
                self.id
            )
        })
    }

    /// Reports what went wrong with fetch `id`. A network or transfer
    /// problem fails its store (its other variants are not asked for); a
    /// body over its bound or corrupt is a miss. A problem with a file
    /// already taken un-takes it: the lookup goes on with the next store.
    pub fn problem(&mut self, id: u32, problem: &Problem) -> Decision {
        let cur = match self.take_current(id) {
            Some(c) => c,
            None => match self.untake(id) {
                Some(c) => c,
                None => return Decision::Next,
            },
        };
        match problem {
            Problem::Network(m) => self.fail(&cur, format!("no answer: {m}")),
            Problem::Transfer(m) => self.fail(&cur, format!("the transfer broke: {m}")),
            Problem::TooLarge(max) => self.too_large(&cur, *max),
            Problem::Corrupt(m) => self.miss(&cur, format!("corrupt: {m}")),
        }
    }

    /// Reports that the executor has the whole body of the file taken from
    /// fetch `id`: `received` bytes. Anything but the length announced is a
    /// broken transfer: never stored, and the lookup goes on (`Err` says why).
    pub fn complete(&mut self, id: u32, received: u64) -> Result<(), String> {
        let Some((cur, length)) = &self.taken else { return Err("no file was taken".into()) };
        if cur.fetch.id != id {
            return Err(format!("fetch {id} was not the file taken"));
        }
        match *length {
            Some(l) if l != received => {
                let why = format!("short or long body: {received} of {l} bytes");
                self.problem(id, &Problem::Transfer(why.clone()));
                Err(why)
            }
            _ => Ok(()),
        }
    }

    /// The fetch whose file was taken, if it is `id`: no longer taken.
    fn untake(&mut self, id: u32) -> Option<Current> {
        match &self.taken {
            Some((cur, _)) if cur.fetch.id == id => self.taken.take().map(|(cur, _)| cur),
            _ => None,
        }
    }

    fn take(&mut self, cur: Current, expanded: bool) -> Decision {
        // A cabinet only seen by HEAD says nothing of the expanded file's length.
        let unexpanded = cur.fetch.expect == Expect::CabinetToExpand && !expanded;
        let length = if cur.encoded || unexpanded { None } else { cur.length };
        let store = match (length, cur.encoded) {
            (Some(_), _) => Storable::Yes,
            (None, true) => Storable::No("the store sent it encoded (Content-Encoding): its length cannot be checked".into()),
            (None, false) => Storable::No("the store sent no Content-Length: its length cannot be checked".into()),
        };
        let variant = match cur.fetch.expect {
            Expect::Cabinet => Variant::Compressed,
            Expect::Pointer => Variant::FilePtr,
            _ => Variant::Plain,
        };
        self.settle(cur.record, Outcome::Hit, None, if expanded { "expanded from a cabinet".into() } else { "found".into() });
        let take = Take {
            id: cur.fetch.id,
            length,
            store,
            expanded,
            pointer: cur.pointer.clone(),
            url: cur.fetch.url.clone(),
            store_url: cur.fetch.store.clone(),
            variant,
        };
        self.taken = Some((cur, length));
        Decision::Take(take)
    }
}
