//! Host tests of the mirror's HTTP rules (spec rule ids in the names).

use super::*;

#[test]
fn r83_bad_keys_are_refused_before_any_upstream_request() {
    for (path, code) in [
        ("/../etc/passwd/x", "bad_key_traversal"),
        ("/a.pdb/%2e%2e/a.pdb", "bad_key_traversal"),
        ("/https://evil.example/a.pdb/1/a.pdb", "bad_key_traversal"),
        ("/a.pdb\\1\\a.pdb", "bad_key_traversal"),
        ("/a.pdb/1%00/a.pdb", "bad_key_traversal"),
        ("/a%01.pdb/1/a%01.pdb", "bad_key_chars"),
        ("/a.pdb/1", "not_a_key"),
        ("/a.pdb/1/b.pdb", "bad_key_file"),
    ] {
        let e = route("GET", path).unwrap_err();
        assert_eq!(e.code, code, "{path}");
        assert!(e.status >= 400 && e.status < 500);
        let body: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(body["code"], code);
    }
    assert_eq!(route("GET", &format!("/{}", "a/".repeat(600))).unwrap_err().status, 414);
    assert_eq!(route("POST", "/a.pdb/1/a.pdb").unwrap_err().status, 405);
}

#[test]
fn routes_and_alias() {
    assert_eq!(route("GET", "/health"), Ok(Route::Health));
    assert_eq!(route("OPTIONS", "/whatever"), Ok(Route::Preflight));
    assert_eq!(route("GET", "/index2.txt"), Ok(Route::Index2));
    let a = route("GET", "/ntdll.pdb/ABC1/ntdll.pdb").unwrap();
    let b = route("HEAD", "/download/symbols/ntdll.pdb/ABC1/ntdll.pdb").unwrap();
    match (a, b) {
        (Route::File { path: p1, head: false, .. }, Route::File { path: p2, head: true, .. }) => assert_eq!(p1, p2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn r94_hits_are_immutable_and_misses_remembered_briefly() {
    // (What counts as a hit or a miss is the core engine's: tests/data/lookup.)
    assert_eq!(cache_control_miss(300), "public, max-age=300");
    assert!(CACHE_CONTROL_HIT.contains("immutable"));
}

#[test]
fn upstreams_come_from_the_symbol_path() {
    let u = upstreams("srv*https://msdl.microsoft.com/download/symbols;srv*C:\\x*http://127.0.0.1:8000/s").unwrap();
    assert_eq!(
        u.iter().map(|s| s.redacted()).collect::<Vec<_>>(),
        ["https://msdl.microsoft.com/download/symbols", "http://127.0.0.1:8000/s"]
    );
    assert!(upstreams("srv*https://h/s*C:\\x").unwrap_err().contains("SP204"));
    assert!(upstreams("C:\\x").is_err());
}

#[test]
fn r92_cors_exposes_what_browsers_need_for_progress() {
    let h = cors_headers();
    let expose = &h.iter().find(|(k, _)| *k == "Access-Control-Expose-Headers").unwrap().1;
    for name in ["Content-Length", "Content-Range", "ETag", "X-Sympath-Cache"] {
        assert!(expose.contains(name), "{name}");
    }
}

#[test]
fn ranges_and_etags() {
    assert_eq!(ByteRange::parse("bytes=0-27"), Some(ByteRange::Closed(0, 27)));
    assert_eq!(ByteRange::parse("bytes=100-"), Some(ByteRange::From(100)));
    assert_eq!(ByteRange::parse("bytes=-10"), Some(ByteRange::Suffix(10)));
    for bad in ["bytes=0-1,4-5", "items=0-1", "bytes=5-1", "bytes=-0", "bytes=a-b", "bytes=-", "bytes=+1-2"] {
        assert_eq!(ByteRange::parse(bad), None, "{bad}");
    }
    assert_eq!(ByteRange::Closed(0, 27).resolve(10), Some((0, 9)));
    assert_eq!(ByteRange::Closed(10, 27).resolve(10), None);
    assert_eq!(ByteRange::Suffix(4).resolve(10), Some((6, 9)));
    assert_eq!(ByteRange::Suffix(40).resolve(10), Some((0, 9)));
    assert_eq!(ByteRange::From(3).resolve(0), None);
    let e = etag("a.pdb/ABC1/a.pdb");
    assert!(none_match(&e, &e) && none_match(&format!("W/{e}, \"x\""), &e) && none_match("*", &e));
    assert!(!none_match("\"b.pdb/ABC1/b.pdb\"", &e));
    assert!(edge_uncacheable(Some(10), 10).is_none());
    assert!(edge_uncacheable(Some(11), 10).unwrap().contains("over"));
    assert!(edge_uncacheable(None, 10).unwrap().contains("Content-Length"));
}

#[test]
fn a_copy_waits_for_the_answer_only_when_it_cannot_fall_behind() {
    // Bytes already whole, of any length.
    assert_eq!(store_delay_ms(Some(4096), false, 0), AFTER_ANSWER_MS);
    assert_eq!(store_delay_ms(Some(1 << 30), false, 1 << 20), AFTER_ANSWER_MS);
    // A streamed copy within the copy window, to the byte.
    assert_eq!(store_delay_ms(Some(4096), true, 16 << 20), AFTER_ANSWER_MS);
    assert_eq!(store_delay_ms(Some(16 << 20), true, 16 << 20), AFTER_ANSWER_MS);
    // Longer than the window, or of no known length: at once.
    assert_eq!(store_delay_ms(Some((16 << 20) + 1), true, 16 << 20), 0);
    assert_eq!(store_delay_ms(None, true, 16 << 20), 0);
    assert_eq!(store_delay_ms(Some(1), true, 0), 0);
}

#[test]
fn url_parts_of_a_normalized_url_are_the_whatwg_parsers() {
    for raw in [
        "http://127.0.0.1:8787/a.pdb/ABC1/a.pdb",
        "https://mirror.example/download/symbols/a.pdb/ABC1/a.pdb?fresh",
        "http://[::1]:8787/a.pdb/ABC1/a.pdb?a=1&fresh=2#frag",
        "http://u:p@host/x/../y/./z?q?r#s?t",
        "http://host",
        "http://host?",
        "http://host/?#",
        "http://host//a//b?x=%2F&y",
        "http://host/a%20b/%2e%2E/c",
        "http://host/a b/\\c?d e",
        "http://host/\u{e9}/\u{1F600}?\u{e9}",
    ] {
        let u = url::Url::parse(raw).unwrap();
        let (path, query) = url_parts(u.as_str());
        assert_eq!((path, query), (u.path(), u.query()), "{raw} -> {}", u.as_str());
    }
}

#[test]
fn fresh_in_the_query_bypasses_the_caches() {
    for (query, bypass) in [
        (None, false),
        (Some(""), false),
        (Some("fresh"), true),
        (Some("fresh=1"), true),
        (Some("a=b&fresh"), true),
        (Some("freshly=1"), false),
        (Some("a=fresh"), false),
    ] {
        assert_eq!(query_bypasses(query), bypass, "{query:?}");
    }
}
