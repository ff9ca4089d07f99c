#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Properties of the parser: no panics, canonical round trip, spans and fixes
//! that always fit the text, and linear behaviour on megabyte-long paths.

mod common;

use proptest::prelude::*;
use serde_json::Value;
use sympath::{fix_all, parse, parse_with, Dialect, ParseOptions, SymbolPath};

fn model(p: &SymbolPath) -> Value {
    common::model(&p.elements)
}

/// Symbol-path-shaped text: fragments that exercise every rule, glued at random.
fn pathish() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        Just("srv*".to_string()),
        Just("SRV*".to_string()),
        Just("symsrv*".to_string()),
        Just("symsrv.dll*".to_string()),
        Just("cache*".to_string()),
        Just("srv".to_string()),
        Just(r"C:\sym".to_string()),
        Just(r"C:\Program Files\x".to_string()),
        Just(r"\\server\share".to_string()),
        Just(r"\\?\C:\long".to_string()),
        Just("/home/u/sym".to_string()),
        Just("https://msdl.microsoft.com/download/symbols".to_string()),
        Just("http://msdl.microsoft.com/download/symbols/".to_string()),
        Just("https://u:p@h:8080/s?q=1".to_string()),
        Just("ftp://x".to_string()),
        Just("*".to_string()),
        Just(";".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("\"".to_string()),
        Just("é€😀".to_string()),
        Just("<|>?".to_string()),
        Just("\u{0}".to_string()),
        "[a-z:.\\\\/]{0,6}",
    ];
    prop::collection::vec(frag, 0..24).prop_map(|v| v.concat())
}

fn dialects() -> impl Strategy<Value = Dialect> {
    prop_oneof![Just(Dialect::Dbgeng), Just(Dialect::DotnetDiagnostics), Just(Dialect::Samply), Just(Dialect::Clrmd)]
}

fn check_spans(p: &SymbolPath) {
    let t = &p.text;
    let ok = |s: sympath::Span| s.start <= s.end && s.end <= t.len() && t.is_char_boundary(s.start) && t.is_char_boundary(s.end);
    for e in &p.elements {
        assert!(ok(e.span), "element span {:?} in {t:?}", e.span);
    }
    for d in &p.diagnostics {
        assert!(ok(d.span), "{} span {:?} in {t:?}", d.code, d.span);
        if let Some(r) = d.related {
            assert!(ok(r));
        }
        if let Some(f) = &d.fix {
            for e in &f.edits {
                assert!(ok(e.span), "{} fix span {:?} in {t:?}", d.code, e.span);
            }
            let _ = f.apply(t);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_any_text(s in "\\PC{0,200}", dialect in dialects()) {
        let p = parse_with(&s, &ParseOptions { dialect, ..Default::default() });
        check_spans(&p);
    }

    #[test]
    fn canonical_form_round_trips(s in pathish(), dialect in dialects()) {
        let opts = ParseOptions { dialect, ..Default::default() };
        let first = parse_with(&s, &opts);
        check_spans(&first);
        let canonical = first.to_string();
        let second = parse_with(&canonical, &opts);
        prop_assert_eq!(model(&first), model(&second), "canonical {:?}", canonical);
        // Canonical form is a fixed point.
        prop_assert_eq!(second.to_string(), canonical);
    }

    #[test]
    fn fix_all_terminates_and_fixes_what_it_can(s in pathish()) {
        let fixed = fix_all(&s, &ParseOptions::default());
        let after = parse(&fixed);
        check_spans(&after);
        // Fixing is idempotent.
        prop_assert_eq!(fix_all(&fixed, &ParseOptions::default()), fixed.clone());
    }
}

#[test]
fn megabyte_paths_parse_completely() {
    let unit = r"srv*C:\sym*https://msdl.microsoft.com/download/symbols;cache*C:\c;C:\Program Files\x;\\server\share\sym;";
    let n = (1 << 20) / unit.len() + 1;
    let text = unit.repeat(n);
    let p = parse(&text);
    assert_eq!(p.elements.len(), 4 * n);
    // All but the first occurrence of each element are duplicates.
    assert_eq!(p.diagnostics.iter().filter(|d| d.code == sympath::Code::DuplicateElement).count(), 4 * (n - 1));
    // One element with a megabyte of stars and one with a megabyte of one token.
    let stars = format!("srv*{}", "*".repeat(1 << 20));
    assert_eq!(parse(&stars).elements.len(), 1);
    let long = "a".repeat(1 << 20);
    assert_eq!(parse(&long).elements.len(), 1);
}
