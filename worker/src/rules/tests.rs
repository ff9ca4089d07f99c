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
fn r66_plain_requests_try_compressed_and_file_ptr() {
    let Ok(Route::File { key, .. }) = route("GET", "/ntdll.pdb/ABC1/ntdll.pdb") else { panic!() };
    let paths: Vec<String> = attempts(&key).into_iter().map(|a| a.path).collect();
    assert_eq!(paths, ["ntdll.pdb/ABC1/ntdll.pdb", "ntdll.pdb/ABC1/ntdll.pd_", "ntdll.pdb/ABC1/file.ptr"]);
    let Ok(Route::File { key, .. }) = route("GET", "/ntdll.pdb/ABC1/ntdll.pd_") else { panic!() };
    assert_eq!(attempts(&key).len(), 1);
}

#[test]
fn r62_r89_soft_404s_and_failures_are_never_hits() {
    let pdb = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0";
    assert_eq!(verdict(200, Some("application/octet-stream"), pdb, Variant::Plain), Verdict::Hit);
    assert!(matches!(verdict(200, Some("text/html; charset=utf-8"), pdb, Variant::Plain), Verdict::Miss(_)));
    assert!(matches!(verdict(200, None, b"", Variant::Plain), Verdict::Miss(_)));
    assert!(matches!(verdict(200, None, b"<!doctype html>", Variant::Plain), Verdict::Miss(_)));
    assert!(matches!(verdict(200, None, pdb, Variant::Compressed), Verdict::Miss(_)), "a .pd_ must be a cabinet");
    assert_eq!(verdict(200, None, b"MSCF\0\0\0\0", Variant::Compressed), Verdict::Hit);
    assert!(matches!(verdict(404, None, b"", Variant::Plain), Verdict::Miss(_)));
    assert!(matches!(verdict(503, None, b"", Variant::Plain), Verdict::Failed(_)));
    assert_eq!(cache_control(&Verdict::Failed("x".into()), 300), "no-store");
    assert_eq!(cache_control(&Verdict::Miss("x".into()), 300), "public, max-age=300");
    assert!(cache_control(&Verdict::Hit, 300).contains("immutable"));
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
fn r88_redirects_only_to_public_https() {
    assert!(redirect_allowed("https://vsblobprodscussu5shard2.blob.core.windows.net/b/x.blob?sig=1", RedirectPolicy::PublicOnly).is_ok());
    assert!(redirect_allowed("http://example.com/x", RedirectPolicy::PublicOnly).is_err());
    for private in [
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://192.168.0.1/x",
        "https://[::1]/x",
        "https://localhost/x",
        "https://169.254.169.254/x",
    ] {
        assert!(redirect_allowed(private, RedirectPolicy::PublicOnly).is_err(), "{private}");
    }
    assert!(redirect_allowed("http://127.0.0.1:9000/x", RedirectPolicy::AllowPrivate).is_ok(), "tests allow loopback with the var");
    assert!(redirect_allowed("ftp://x", RedirectPolicy::AllowPrivate).is_err());
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
fn r63_r64_pointers_to_urls_are_followed_and_unc_paths_are_misses() {
    assert_eq!(
        pointer(b"PATH:https://files.example/x/ntdll.pdb\r\n"),
        Pointer::Follow { url: "https://files.example/x/ntdll.pdb".into(), compressed: false }
    );
    assert_eq!(
        pointer(b"https://files.example/x/ntdll.pd_?sig=1"),
        Pointer::Follow { url: "https://files.example/x/ntdll.pd_?sig=1".into(), compressed: true }
    );
    for (body, why) in [
        (&b"PATH:\\\\builds\\sym\\ntdll.pdb"[..], "cannot reach"),
        (b"PATH:C:\\sym\\ntdll.pdb", "cannot reach"),
        (b"MSG:NoLongerIndexed", "NoLongerIndexed"),
        (b"  \r\n", "empty"),
    ] {
        match pointer(body) {
            Pointer::Miss(m) => assert!(m.contains(why), "{m}"),
            other => panic!("{other:?}"),
        }
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
