#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The lookup vectors (`tests/data/lookup/lookups.tsv`) through the core's
//! engine, and properties of the engine no vector row can show.

mod lookup_driver;

use sympath::expand::{expand, Defaults, Environment, NoFacts};
use sympath::key::{RequestKey, StoreKey};
use sympath::lookup::{Decision, Head, Lookup, Policy, Problem, Step};
use sympath::plan::{plan_key, Fallback, PlanOptions, TierPolicy};

#[test]
fn r20_r66_r88_r89_lookup_vectors() {
    assert!(lookup_driver::rows().len() >= 50, "the vectors were not read");
    let failures = lookup_driver::failures(&Policy::edge(), &Policy::browser());
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), lookup_driver::rows().len(), failures.join("\n\n"));
}

fn lookup(path: &str, key: &str, policy: Policy) -> Lookup {
    let exp = expand(Some(path), &Environment::default(), &[], &Defaults::default(), &Default::default(), &NoFacts);
    let (key, want) = StoreKey::from_request(&RequestKey::parse(key).unwrap()).unwrap();
    let plan = plan_key(&exp, key, None, &PlanOptions { tiers: TierPolicy::OneTier, fallback: Fallback::None, ..Default::default() });
    Lookup::new(&plan, Policy { want, ..policy })
}

#[test]
fn r28_credentials_go_only_to_their_store_and_never_into_records() {
    let mut lk = lookup("srv*https://user:s3cret@a.example/s", "a.pdb/A1/a.pdb", Policy::edge());
    let Step::Fetch(f) = lk.next() else { panic!() };
    assert_eq!(f.authorization.as_deref(), Some("Basic dXNlcjpzM2NyZXQ="));
    assert!(!f.url.contains("s3cret") && !f.store.contains("s3cret"));
    lk.headers(f.id, &Head { status: 500, ..Head::default() });
    let Step::Done(done) = lk.next() else { panic!() };
    let text = format!("{done:?} {:?}", lk.probes());
    assert!(!text.contains("s3cret") && !text.contains("dXNlcjpzM2NyZXQ="), "{text}");
}

#[test]
fn reports_for_other_fetches_are_ignored() {
    let mut lk = lookup("srv*https://a.example", "a.pdb/A1/a.pdb", Policy::edge());
    let Step::Fetch(f) = lk.next() else { panic!() };
    assert_eq!(lk.headers(f.id + 7, &Head { status: 200, ..Head::default() }), Decision::Next);
    assert_eq!(lk.first_bytes(f.id + 7, b"MZ"), Decision::Next);
    assert!(matches!(lk.headers(f.id, &Head { status: 200, content_length: Some(2), ..Head::default() }), Decision::Sniff { .. }));
    assert!(matches!(lk.first_bytes(f.id, b"MZ"), Decision::Take(_)));
    assert!(lk.complete(f.id + 1, 2).is_err());
    assert!(lk.complete(f.id, 2).is_ok());
}

#[test]
fn a_fetch_never_reported_fails_its_store() {
    let mut lk = lookup("srv*https://a.example;srv*https://b.example", "a.pdb/A1/a.pdb", Policy::edge());
    let Step::Fetch(_) = lk.next() else { panic!() };
    let Step::Fetch(f) = lk.next() else { panic!() };
    assert!(f.url.starts_with("https://b.example/"), "{}", f.url);
}

#[test]
fn a_file_that_breaks_after_it_was_taken_lets_the_lookup_go_on() {
    let mut lk = lookup("srv*https://a.example;srv*https://b.example", "a.pdb/A1/a.pdb", Policy::browser());
    let Step::Fetch(f) = lk.next() else { panic!() };
    lk.headers(f.id, &Head { status: 200, content_length: Some(10), ..Head::default() });
    let Decision::Take(_) = lk.first_bytes(f.id, b"MZ\0\0") else { panic!() };
    lk.problem(f.id, &Problem::Transfer("reset".into()));
    let Step::Fetch(g) = lk.next() else { panic!("{:?}", lk.probes()) };
    assert!(g.url.starts_with("https://b.example/"), "{}", g.url);
}

#[test]
fn r94_a_busy_stores_longest_retry_after_is_kept_for_the_failure() {
    let mut lk = lookup("srv*https://a.example;srv*https://b.example", "a.pdb/A1/a.pdb", Policy::edge());
    while let Step::Fetch(f) = lk.next() {
        let (status, retry_after) = if f.url.starts_with("https://a.example/") { (429, "30") } else { (503, " 120 ") };
        lk.headers(f.id, &Head { status, retry_after: Some(retry_after.into()), ..Head::default() });
    }
    assert!(matches!(lk.next(), Step::Done(sympath::lookup::Done::Failed { .. })));
    assert_eq!(lk.retry_after(), Some(120), "the longest wait asked for, in seconds");
    let mut lk = lookup("srv*https://a.example", "a.pdb/A1/a.pdb", Policy::edge());
    while let Step::Fetch(f) = lk.next() {
        lk.headers(f.id, &Head { status: 503, retry_after: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()), ..Head::default() });
    }
    assert_eq!(lk.retry_after(), None, "only delta-seconds are passed on");
}
