//! Host tests of the upstream lookup driver (spec rule ids in the names).

use super::*;

const PDB: &str = "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb";
const DIR: &str = "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2";
const PDB_MAGIC: &[u8] = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0";
const CAB_MAGIC: &[u8] = b"MSCF\0\0\0\0";

fn probes(stores: &[&str], path: &str) -> Probes {
    let upstreams = stores.iter().map(|s| StoreUrl::parse(s).unwrap()).collect();
    Probes::new(upstreams, &RequestKey::parse(path).unwrap(), path, RedirectPolicy::PublicOnly)
}

fn fetch(p: &Probes) -> Fetch {
    match p.next() {
        Step::Fetch(f) => f,
        Step::Done(end) => panic!("ended early: {end:?}"),
    }
}

fn status(status: u16) -> Answer<'static> {
    Answer { status, content_type: None, body: None }
}

fn ok(body: &[u8]) -> Answer<'_> {
    Answer { status: 200, content_type: Some("application/octet-stream"), body: Some(body) }
}

#[test]
fn r24_r66_a_plain_request_tries_plain_cabinet_pointer_in_each_store_in_order() {
    let mut p = probes(&["https://a.example/s", "https://b.example/t"], PDB);
    let mut seen = Vec::new();
    while let Step::Fetch(f) = p.next() {
        seen.push((f.url.clone(), f.variant, f.read));
        assert_eq!(p.answer(status(404)), Decision::Next);
    }
    let expected: Vec<(String, Variant, Read)> = ["https://a.example/s", "https://b.example/t"]
        .iter()
        .flat_map(|s| {
            [
                (format!("{s}/{DIR}/ntdll.pdb"), Variant::Plain, Read::AsIs),
                (format!("{s}/{DIR}/ntdll.pd_"), Variant::Compressed, Read::ExpandCab),
                (format!("{s}/{DIR}/file.ptr"), Variant::FilePtr, Read::FollowPointer),
            ]
        })
        .collect();
    assert_eq!(seen, expected);
    let Step::Done(End::Miss(misses)) = p.next() else { panic!("not a miss") };
    assert_eq!(misses.len(), 6);
    assert_eq!(misses[0], "https://a.example/s: upstream answered 404");
    assert_eq!(misses[2], "https://a.example/s: file.ptr: upstream answered 404");
    assert!(misses[3].starts_with("https://b.example/t: "));
}

#[test]
fn a_variant_request_is_fetched_as_it_is() {
    let path = format!("{DIR}/ntdll.pd_");
    let mut p = probes(&["https://a.example/s"], &path);
    let f = fetch(&p);
    assert_eq!((f.variant, f.read), (Variant::Compressed, Read::AsIs));
    assert_eq!(p.answer(ok(CAB_MAGIC)), Decision::Serve, "a cabinet asked for is served as it is");
}

#[test]
fn r62_r89_a_verified_file_is_served_and_a_cabinet_of_the_plain_file_expanded() {
    let mut p = probes(&["https://a.example/s"], PDB);
    assert_eq!(p.answer(ok(PDB_MAGIC)), Decision::Serve);
    let mut p = probes(&["https://a.example/s"], PDB);
    p.answer(status(404));
    assert_eq!(p.answer(ok(CAB_MAGIC)), Decision::Expand, "R23");
    p.not_expanded("the cabinet holds other.pdb, not ntdll.pdb".into());
    assert_eq!(fetch(&p).variant, Variant::FilePtr, "a failed expansion is a miss: the next variant");
}

#[test]
fn r62_soft_404s_and_bodiless_answers_are_misses() {
    let mut p = probes(&["https://a.example/s"], PDB);
    let html = Answer { status: 200, content_type: Some("text/html; charset=utf-8"), body: Some(b"<html>") };
    assert_eq!(p.answer(html), Decision::Next);
    assert_eq!(p.answer(Answer { status: 200, content_type: None, body: None }), Decision::Next);
    assert_eq!(p.answer(ok(b"")), Decision::Next);
    let Step::Done(End::Miss(misses)) = p.next() else { panic!("not a miss") };
    assert!(misses[0].contains("soft 404"), "{misses:?}");
    assert!(misses[1].ends_with("upstream answered 200 with an empty body"), "{misses:?}");
}

#[test]
fn r95_a_failing_store_is_left_for_the_next_and_the_lookup_fails() {
    let mut p = probes(&["https://a.example/s", "https://b.example/t"], PDB);
    assert_eq!(p.answer(status(503)), Decision::Next);
    let f = fetch(&p);
    assert_eq!((f.upstream.as_str(), f.variant), ("https://b.example/t", Variant::Plain), "the next store, plain first");
    p.failed(Failure::Request("no answer within 2000 ms".into()));
    // A failure may hide a hit: the lookup fails rather than misses.
    assert_eq!(
        p.next(),
        Step::Done(End::Failed(vec![
            "https://a.example/s: upstream answered 503".into(),
            "https://b.example/t: no answer within 2000 ms".into()
        ]))
    );
}

#[test]
fn a_transfer_that_fails_while_judged_fails_the_store() {
    let mut p = probes(&["https://a.example/s"], PDB);
    let stalled = TransferError::from_code(Some("stalled"), "upstream stalled: no data within 5 ms".into());
    p.failed(Failure::Transfer(stalled));
    assert_eq!(
        p.next(),
        Step::Done(End::Failed(vec!["https://a.example/s: transfer failed: upstream stalled: no data within 5 ms".into()]))
    );
}

fn at_pointer(stores: &[&str]) -> Probes {
    let mut p = probes(stores, PDB);
    p.answer(status(404));
    p.answer(status(404));
    assert_eq!(fetch(&p).read, Read::FollowPointer);
    p
}

#[test]
fn r63_a_pointer_to_a_url_is_followed_without_credentials() {
    let mut p = at_pointer(&["https://u:pw@a.example/s"]);
    assert!(fetch(&p).auth.is_some(), "R28: the store itself gets its credentials");
    assert_eq!(p.answer(ok(b"PATH:https://blob.example/x/ntdll.pd_")), Decision::Next);
    let f = fetch(&p);
    assert_eq!(f.url, "https://blob.example/x/ntdll.pd_");
    assert_eq!((f.variant, f.read, f.auth.as_deref()), (Variant::Compressed, Read::ExpandCab, None), "R88: no credentials to a target");
    assert_eq!(f.pointer.as_deref(), Some("https://blob.example/x/ntdll.pd_"));
    assert_eq!(p.answer(ok(CAB_MAGIC)), Decision::Expand);
}

#[test]
fn a_pointer_targets_miss_names_the_target_and_the_lookup_goes_on() {
    let mut p = at_pointer(&["https://a.example/s", "https://b.example/t"]);
    p.answer(ok(b"PATH:https://blob.example/x/ntdll.pdb"));
    p.answer(status(404));
    let f = fetch(&p);
    assert_eq!((f.upstream.as_str(), f.variant), ("https://b.example/t", Variant::Plain));
    for _ in 0..3 {
        p.answer(status(404));
    }
    let Step::Done(End::Miss(misses)) = p.next() else { panic!("not a miss") };
    assert_eq!(misses[2], "https://a.example/s: file.ptr target https://blob.example/x/ntdll.pdb: upstream answered 404");
}

#[test]
fn a_pointer_target_that_does_not_answer_fails_naming_it() {
    let mut p = at_pointer(&["https://a.example/s"]);
    p.answer(ok(b"PATH:https://blob.example/x/ntdll.pdb"));
    p.failed(Failure::Request("no answer within 5 ms".into()));
    let Step::Done(End::Failed(failures)) = p.next() else { panic!() };
    assert_eq!(failures, ["https://a.example/s: file.ptr target https://blob.example/x/ntdll.pdb: no answer within 5 ms"]);
}

#[test]
fn r64_r88_unreachable_refused_oversized_and_message_pointers_are_misses() {
    for (body, why) in [
        (&b"PATH:\\\\server\\share\\ntdll.pdb"[..], "which the edge cannot reach (R64)"),
        (b"MSG: NoLongerIndexed", "file.ptr says: NoLongerIndexed"),
        (b"PATH:http://127.0.0.1/x/ntdll.pdb", "file.ptr: redirect to a private address refused: 127.0.0.1"),
    ] {
        let mut p = at_pointer(&["https://a.example/s"]);
        assert_eq!(p.answer(ok(body)), Decision::Next);
        let Step::Done(End::Miss(misses)) = p.next() else { panic!("not a miss") };
        assert!(misses[2].ends_with(why), "{misses:?}");
    }
    let mut p = at_pointer(&["https://a.example/s"]);
    p.failed(Failure::Transfer(TransferError::from_code(Some("too_large"), "body over 4096 bytes".into())));
    let Step::Done(End::Miss(misses)) = p.next() else { panic!("an oversized file.ptr is a miss, not a failure") };
    assert!(misses[2].ends_with("file.ptr over 4096 bytes is not a pointer"));
}

#[test]
fn a_refetched_answer_is_judged_like_the_first() {
    assert!(still_verified(ok(PDB_MAGIC), Variant::Plain));
    assert!(!still_verified(ok(b"<html>"), Variant::Plain));
    assert!(!still_verified(status(200), Variant::Plain));
    assert!(!still_verified(status(404), Variant::Plain));
}
