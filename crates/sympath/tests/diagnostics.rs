#![allow(clippy::disallowed_types, clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Every diagnostic code: an input that triggers it, its span, and its fix.

use sympath::expand::{expand, Defaults, Environment, HostFacts};
use sympath::{parse, parse_with, Code, Dialect, ParseOptions, Severity};

/// One example per code: (code, input, text under the primary span, text after applying the fix).
const EXAMPLES: &[(Code, &str, &str, Option<&str>)] = &[
    (Code::EmptyElement, r"C:\a;;C:\b", "", Some(r"C:\a;C:\b")),
    (Code::SurroundingWhitespace, r" C:\a ", r" C:\a ", Some(r"C:\a")),
    (Code::QuotedPath, r#""C:\Program Files\sym""#, r#""C:\Program Files\sym""#, Some(r"C:\Program Files\sym")),
    (Code::KeywordWithoutStar, "srv", "srv", Some("srv*")),
    (
        Code::StarOutsideKeyword,
        r"C:\sym*https://msdl.microsoft.com/download/symbols",
        r"C:\sym",
        Some(r"srv*C:\sym*https://msdl.microsoft.com/download/symbols"),
    ),
    (Code::StarOutsideKeyword, r"svr*C:\sym*https://h/s", "svr", Some(r"srv*C:\sym*https://h/s")),
    (
        Code::BareUrl,
        "https://msdl.microsoft.com/download/symbols",
        "https://msdl.microsoft.com/download/symbols",
        Some("srv*https://msdl.microsoft.com/download/symbols"),
    ),
    (Code::RelativePath, "symbols", "symbols", None),
    (Code::InvalidPathChars, r"C:\a|b", "|", None),
    (
        Code::SymsrvMissingDll,
        "symsrv*https://msdl.microsoft.com/download/symbols",
        "https://msdl.microsoft.com/download/symbols",
        Some("srv*https://msdl.microsoft.com/download/symbols"),
    ),
    (Code::ThirdPartyDll, r"symsrv*mysrv.dll*\\s\x", "mysrv.dll", None),
    (Code::ChainWithoutStores, "symsrv*symsrv.dll", "symsrv*symsrv.dll", Some("symsrv*symsrv.dll*")),
    (Code::HttpStoreNotLast, r"srv*https://h/s*C:\cache", "https://h/s", Some(r"srv*C:\cache*https://h/s")),
    (
        Code::MultipleHttpStores,
        r"srv*C:\c*https://a/s*https://b/s",
        "https://a/s*https://b/s",
        Some(r"srv*C:\c*https://a/s;srv*C:\c*https://b/s"),
    ),
    (
        Code::TooManyStores,
        r"srv*C:\1*C:\2*C:\3*C:\4*C:\5*C:\6*C:\7*C:\8*C:\9*C:\10*C:\11",
        r"srv*C:\1*C:\2*C:\3*C:\4*C:\5*C:\6*C:\7*C:\8*C:\9*C:\10*C:\11",
        None,
    ),
    (Code::TrailingStar, r"srv*C:\sym*", "*", None),
    (Code::DuplicateStore, r"srv*C:\a*c:\A\*https://h/s", r"c:\A\", None),
    (Code::ChainWithoutUpstream, "srv*", "srv*", None),
    (Code::CacheWithoutEffect, r"C:\a;cache*C:\c", r"cache*C:\c", None),
    (Code::CacheExtraTokens, r"cache*C:\c*https://h/s;C:\x", "*https://h/s", Some(r"cache*C:\c;srv*https://h/s;C:\x")),
    // The fixes built from several tokens (rendered from the element's text), with whitespace around tokens.
    (
        Code::HttpStoreNotLast,
        r"srv* https://a.example/s *C:\cache * https://b/x",
        "https://a.example/s",
        Some(r"srv* C:\cache*https://a.example/s*https://b/x"),
    ),
    (
        Code::MultipleHttpStores,
        r"SRV * c:\x * https://a * https://b ",
        "https://a * https://b",
        Some(r"SRV * c:\x*https://a;SRV * c:\x*https://b "),
    ),
    (Code::MultipleHttpStores, r"srv* *https://a*https://b", "https://a*https://b", Some(r"srv* *https://a;srv* *https://b")),
    (Code::CacheExtraTokens, r"cache**https://a", "*https://a", Some(r"cache*;srv*https://a")),
    (Code::CacheExtraTokens, r"cache*C:\c*https://a*C:\x", r"*https://a*C:\x", None),
    (Code::CacheIsUrl, "cache*https://h/s;C:\\x", "https://h/s", Some("srv*https://h/s;C:\\x")),
    (Code::DirReusedAsStore, r"C:\sym;srv*C:\sym*https://h/s", r"C:\sym", None),
    (
        Code::MsdlPlainHttp,
        r"srv*C:\s*http://msdl.microsoft.com/download/symbols",
        "http://msdl.microsoft.com/download/symbols",
        Some(r"srv*C:\s*https://msdl.microsoft.com/download/symbols"),
    ),
    (Code::CredentialsInUrl, r"srv*C:\s*https://user:pat@h/s", "https://user:pat@h/s", None),
    (Code::UrlQueryString, r"srv*C:\s*https://h/s?code=1", "https://h/s?code=1", None),
    (Code::InvalidUrl, r"srv*C:\s*https://h:0/s", "https://h:0/s", None),
    (Code::UnsupportedScheme, r"srv*C:\s*ftp://h/s", "ftp://h/s", None),
    (
        Code::MsdlWrongPath,
        r"srv*C:\s*https://msdl.microsoft.com/symbols",
        "/symbols",
        Some(r"srv*C:\s*https://msdl.microsoft.com/download/symbols"),
    ),
    (Code::DuplicateElement, r"C:\sym;C:\other;c:\SYM\", r"c:\SYM\", Some(r"C:\sym;C:\other")),
];

#[test]
fn every_code_has_an_example_that_triggers_it() {
    for code in Code::ALL {
        if *code == Code::EnvDirMissing {
            continue; // needs file-system facts: see env_dir_missing below
        }
        assert!(EXAMPLES.iter().any(|(c, ..)| c == code), "no example for {code} ({})", code.name());
    }
    for (code, input, under, fixed) in EXAMPLES {
        let dialect = if *code == Code::ChainWithoutUpstream { Dialect::Samply } else { Dialect::Dbgeng };
        let p = parse_with(input, &ParseOptions { dialect, ..Default::default() });
        let d = p
            .diagnostics
            .iter()
            .find(|d| d.code == *code)
            .unwrap_or_else(|| panic!("{code} not reported for {input:?}: {:?}", p.diagnostics));
        assert_eq!(d.severity, code.severity());
        assert_eq!(d.span.slice(input), *under, "{code} span for {input:?}");
        assert!(!d.message.is_empty());
        match (fixed, &d.fix) {
            (Some(want), Some(fix)) => {
                let got = fix.apply(input);
                assert_eq!(&got, want, "{code} fix for {input:?}");
                assert!(parse(&got).diagnostics.iter().all(|x| x.code != *code || x.span != d.span), "{code} fix did not fix {input:?}");
            }
            (None, None) => {}
            (want, got) => panic!("{code} for {input:?}: want fix {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn error_severity_is_what_makes_a_path_fail() {
    assert!(!parse(r"srv*C:\sym*https://msdl.microsoft.com/download/symbols").has_errors());
    assert!(parse(r"srv*https://h/s*C:\cache").has_errors());
    assert_eq!(Code::HttpStoreNotLast.severity(), Severity::Error);
}

struct Missing;
impl HostFacts for Missing {
    fn dir_exists(&self, path: &str) -> Option<bool> {
        Some(path != r"C:\gone")
    }
}

#[test]
fn r47_env_dir_missing() {
    let env = Environment { nt_symbol_path: Some(r"C:\gone;C:\sym".into()), ..Default::default() };
    let exp = expand(None, &env, &[], &Defaults::default(), &ParseOptions::default(), &Missing);
    let d = exp.path.diagnostics.iter().find(|d| d.code == Code::EnvDirMissing).unwrap();
    assert_eq!(d.span.slice(&exp.text), r"C:\gone");
    assert_eq!(exp.path.elements.len(), 1);
    // A directory given directly (not from the environment) is kept.
    let exp = expand(Some(r"C:\gone"), &Environment::default(), &[], &Defaults::default(), &ParseOptions::default(), &Missing);
    assert_eq!(exp.path.elements.len(), 1);
}

#[test]
fn codes_are_unique_and_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/diagnostics.md")).unwrap();
    let mut seen = std::collections::HashSet::new();
    for c in Code::ALL {
        assert!(seen.insert(c.as_str()), "duplicate code {c}");
        let row = format!("| {} | `{}` | {} |", c.as_str(), c.name(), c.severity().as_str());
        assert!(doc.contains(&row), "docs/diagnostics.md lacks the row starting {row:?}");
        assert_eq!(Code::lookup(c.name()), Some(*c));
        assert_eq!(Code::lookup(c.as_str()), Some(*c));
    }
}
