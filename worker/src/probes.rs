//! The upstream lookup as a sans-io driver: what to fetch next, and what an
//! answer decides. The handler's loop only asks [`Probes::next`], fetches and
//! judges ([`crate::upstream`]) and tells [`Probes::answer`] the verdict;
//! the order of stores and variants (R24, R66) and when to give up on a store
//! live here, in one place, so the core's lookup engine can take them over.
//!
//! Today it walks [`rules::attempts`] over each upstream.

use sympath::key::{RequestKey, Variant};
use sympath::url::StoreUrl;

use crate::rules::{self, Attempt, Verdict};

/// One upstream request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// The store asked, credentials redacted (for `X-Sympath-Upstream` and messages).
    pub upstream: String,
    /// The URL to GET.
    pub url: String,
    /// The store URL's credentials, for `Authorization` (R28).
    pub auth: Option<String>,
    /// Which variant of the file the URL names.
    pub variant: Variant,
    /// What to do with a verified answer.
    pub read: Read,
}

/// What to do with an upstream answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Judge it and serve it as it is (the variant the client asked for).
    AsIs,
    /// The client asked for the plain file and this is its cabinet: judge it,
    /// expand it, serve the expansion (R23).
    ExpandCab,
    /// The client asked for the plain file and this is its `file.ptr`: read
    /// it and follow it (R63, R64).
    FollowPointer,
}

/// What the loop does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Make this request, then [`Probes::answer`] its verdict.
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

/// What a verdict decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A verified hit: serve it.
    Serve,
    /// Ask [`Probes::next`] again.
    Next,
}

/// The state of one file's upstream lookup.
pub struct Probes {
    upstreams: Vec<StoreUrl>,
    attempts: Vec<Attempt>,
    /// The key's path as the client asked for it.
    requested: String,
    store: usize,
    attempt: usize,
    misses: Vec<String>,
    failures: Vec<String>,
}

impl Probes {
    /// A lookup of `key` (requested as `requested`, `name/id/file`) in `upstreams`, in order.
    pub fn new(upstreams: Vec<StoreUrl>, key: &RequestKey, requested: &str) -> Probes {
        let attempts = rules::attempts(key);
        Probes { upstreams, attempts, requested: requested.to_string(), store: 0, attempt: 0, misses: Vec::new(), failures: Vec::new() }
    }

    /// The next request to make, or how the lookup ended.
    pub fn next(&self) -> Step {
        let (Some(up), Some(attempt)) = (self.upstreams.get(self.store), self.attempts.get(self.attempt)) else {
            return Step::Done(if self.failures.is_empty() { End::Miss(self.misses.clone()) } else { End::Failed(self.failures.clone()) });
        };
        // The client asked for the plain file and this is another variant:
        // a cabinet is expanded, a pointer followed.
        let read = match attempt.variant {
            _ if attempt.path == self.requested => Read::AsIs,
            Variant::FilePtr => Read::FollowPointer,
            _ => Read::ExpandCab,
        };
        Step::Fetch(Fetch {
            upstream: up.redacted(),
            url: up.join(attempt.path.split('/')),
            auth: up.basic_auth(),
            variant: attempt.variant,
            read,
        })
    }

    /// The verdict on the answer to the last [`Probes::next`]: a hit is
    /// served; a miss moves on to the store's next variant; a failure to the
    /// next store (a store that fails is not asked for the other variants).
    pub fn answer(&mut self, verdict: Verdict) -> Decision {
        let name = self.upstreams.get(self.store).map(StoreUrl::redacted).unwrap_or_default();
        match verdict {
            Verdict::Hit => return Decision::Serve,
            Verdict::Miss(why) => {
                self.misses.push(format!("{name}: {why}"));
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
        Decision::Next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDB: &str = "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb";

    fn probes(stores: &[&str], path: &str) -> Probes {
        let upstreams = stores.iter().map(|s| StoreUrl::parse(s).unwrap()).collect();
        Probes::new(upstreams, &RequestKey::parse(path).unwrap(), path)
    }

    fn fetch(p: &Probes) -> Fetch {
        match p.next() {
            Step::Fetch(f) => f,
            Step::Done(end) => panic!("ended early: {end:?}"),
        }
    }

    #[test]
    fn a_plain_request_tries_plain_cabinet_pointer_in_each_store_in_order() {
        // R24 (stores in order), R66 (plain, compressed, file.ptr).
        let mut p = probes(&["https://a.example/s", "https://b.example/t"], PDB);
        let mut seen = Vec::new();
        while let Step::Fetch(f) = p.next() {
            seen.push((f.url.clone(), f.variant, f.read));
            assert_eq!(p.answer(Verdict::Miss("upstream answered 404".into())), Decision::Next);
        }
        let expected: Vec<(String, Variant, Read)> = ["https://a.example/s", "https://b.example/t"]
            .iter()
            .flat_map(|s| {
                let dir = format!("{s}/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2");
                [
                    (format!("{dir}/ntdll.pdb"), Variant::Plain, Read::AsIs),
                    (format!("{dir}/ntdll.pd_"), Variant::Compressed, Read::ExpandCab),
                    (format!("{dir}/file.ptr"), Variant::FilePtr, Read::FollowPointer),
                ]
            })
            .collect();
        assert_eq!(seen, expected);
        let Step::Done(End::Miss(misses)) = p.next() else { panic!("not a miss") };
        assert_eq!(misses.len(), 6);
        assert_eq!(misses[0], "https://a.example/s: upstream answered 404");
        assert!(misses[3].starts_with("https://b.example/t: "));
    }

    #[test]
    fn a_variant_request_is_fetched_as_it_is() {
        let path = "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pd_";
        let p = probes(&["https://a.example/s"], path);
        let f = fetch(&p);
        assert_eq!((f.variant, f.read), (Variant::Compressed, Read::AsIs));
    }

    #[test]
    fn a_failing_store_is_left_for_the_next_and_the_lookup_fails() {
        let mut p = probes(&["https://a.example/s", "https://b.example/t"], PDB);
        assert_eq!(p.answer(Verdict::Failed("upstream answered 503".into())), Decision::Next);
        let f = fetch(&p);
        assert_eq!((f.upstream.as_str(), f.variant), ("https://b.example/t", Variant::Plain), "R95: the next store, plain first");
        for _ in 0..3 {
            p.answer(Verdict::Miss("upstream answered 404".into()));
        }
        // A failure may hide a hit: the lookup fails rather than misses.
        assert_eq!(p.next(), Step::Done(End::Failed(vec!["https://a.example/s: upstream answered 503".into()])));
    }

    #[test]
    fn a_hit_is_served_from_the_store_that_had_it() {
        let mut p = probes(&["https://a.example/s", "https://b.example/t"], PDB);
        p.answer(Verdict::Miss("404".into()));
        let f = fetch(&p);
        assert_eq!(f.variant, Variant::Compressed);
        assert_eq!(p.answer(Verdict::Hit), Decision::Serve);
    }

    #[test]
    fn credentials_go_in_auth_and_never_in_the_name() {
        // R28: the store URL's user info is sent as Authorization.
        let p = probes(&["https://user:secret@a.example/s"], PDB);
        let f = fetch(&p);
        assert!(f.auth.is_some());
        assert!(!f.upstream.contains("secret"));
    }
}
