//! Diagnostics of the borrowed model, rendered on demand.
//!
//! The parser records a [`DiagnosticRef`]: the code, the spans and the few
//! pieces of the text (slices, counts) that the message, help and fix are made
//! of. Nothing is formatted or allocated until [`DiagnosticRef::render`] turns
//! it into the owned [`Diagnostic`] (what the CLI, the wasm module and the
//! worker serialize), so validating a path costs no `String` per problem.
//! Every message text of the parser lives here.

use crate::diagnostic::{Code, Diagnostic, Fix, Severity, TextEdit};
use crate::span::Span;
use crate::url::{is_http_url, other_scheme, UrlParts};
use crate::winpath::Relativity;

/// A problem found in a symbol path, before its text is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticRef<'a> {
    /// Stable code.
    pub code: Code,
    /// Where in the text.
    pub span: Span,
    /// Another place that takes part (e.g. the first of two duplicates).
    pub related: Option<Span>,
    detail: Detail<'a>,
}

/// What the message, help and fix of a [`DiagnosticRef`] are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detail<'a> {
    /// SP101: the span to delete with its `;`.
    EmptyElement { del: Span },
    /// SP102: the token without its whitespace.
    Whitespace { what: &'static str, inner: Span },
    /// SP104: `srv`, `symsrv` or `cache` as written.
    KeywordWithoutStar { text: &'a str, keyword: &'static str },
    /// SP106.
    BareUrl,
    /// SP103: the quoted token.
    QuotedPath { what: &'static str, text: &'a str },
    /// SP108: the character under the span.
    InvalidPathChar { what: &'static str, c: char },
    /// SP405: the directory whose scheme is not http(s).
    UnsupportedScheme { text: &'a str },
    /// SP107.
    RelativePath { what: &'static str, why: Relativity },
    /// SP105: the first token; a typo of `srv` or the element's start for the `srv*` prefix.
    StarOutsideKeyword { first: &'a str, typo: bool, element_start: usize },
    /// SP201: the DLL token and where the element starts.
    SymsrvMissingDll { dll: &'a str, no_stores: bool, element_start: usize },
    /// SP203.
    ChainWithoutStores { dll: &'a str },
    /// SP202.
    ThirdPartyDll { dll: &'a str },
    /// SP404: the URL (parsed again to say why).
    InvalidUrl { url: &'a str },
    /// SP401.
    MsdlPlainHttp,
    /// SP406: the path as written.
    MsdlWrongPath { path: &'a str },
    /// SP402.
    CredentialsInUrl,
    /// SP403.
    UrlQueryString,
    /// SP209 for samply's bare `srv*`.
    SamplyBareSrv,
    /// SP209 for a samply chain without URL.
    SamplyNoUrl,
    /// SP206.
    TooManyStores { n: usize },
    /// SP207.
    TrailingStar,
    /// SP208.
    DuplicateStore,
    /// SP303: with a fix when the element starts at `fix_from`.
    CacheIsUrl { fix_from: Option<usize> },
    /// SP301.
    CacheWithoutEffect,
    /// SP501: the span to delete.
    DuplicateElement { del: Span },
    /// SP304.
    DirReusedAsStore { what: &'static str },
    /// SP601: the directory.
    EnvDirMissing { dir: &'a str },
    /// SP204: the text of the chain's store tokens and its span (what the fix reorders).
    HttpStoreNotLast { stores: &'a str, region: Span },
    /// SP205: the chain element, where it starts, where its store tokens start
    /// in it, the index of the first upstream store and how many HTTP stores end it.
    MultipleHttpStores { element: &'a str, element_start: usize, stores_at: usize, first_upstream: usize, http_run: usize },
    /// SP302: the text from the end of the cache directory to the end of the element.
    CacheExtraTokens { extra: &'a str },
}

impl<'a> DiagnosticRef<'a> {
    pub(crate) fn new(code: Code, span: Span, detail: Detail<'a>) -> Self {
        DiagnosticRef { code, span, related: None, detail }
    }

    pub(crate) fn with_related(mut self, related: Span) -> Self {
        self.related = Some(related);
        self
    }

    /// The severity (derived from the code).
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// The owned diagnostic, with its message, help and fix.
    pub fn render(&self) -> Diagnostic {
        self.clone().into_diagnostic()
    }

    /// [`DiagnosticRef::render`], consuming the diagnostic.
    pub fn into_diagnostic(self) -> Diagnostic {
        let (code, span) = (self.code, self.span);
        let d = |msg: String| Diagnostic::new(code, span, msg);
        let s = |msg: &str| Diagnostic::new(code, span, msg);
        let out = match self.detail {
            Detail::EmptyElement { del } => {
                let what = if span.is_empty() { "empty element" } else { "blank element" };
                d(format!("{what}: skipped by the debugger")).with_fix(Fix::replace("Remove the extra `;`", del, ""))
            }
            Detail::Whitespace { what, inner } => {
                let edits = [Span::new(span.start, inner.start), Span::new(inner.end, span.end)]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .map(|span| TextEdit { span, replacement: String::new() })
                    .collect();
                d(format!("whitespace around this {what}: the debuggers ignore it, but SOS and samply read it as part of the name"))
                    .with_fix(Fix { title: "Remove the whitespace".into(), edits })
            }
            Detail::KeywordWithoutStar { text, keyword } => {
                d(format!("`{text}` without `*` is not a keyword: this is a relative directory named `{text}`"))
                    .with_help(match keyword {
                        "srv" => "`srv*` alone means the default symbol server (with the default downstream store)",
                        "cache" => "`cache*` alone means the default symbol cache",
                        _ => "`symsrv*symsrv.dll*<stores>` names a symbol-server DLL and its stores",
                    })
                    .with_fix(Fix::replace("Add the `*`", Span::empty(span.end), "*"))
            }
            Detail::BareUrl => s("a URL outside `srv*` is ignored: HTTP stores are only reachable through symsrv")
                .with_fix(Fix::replace("Prefix it with `srv*`", Span::empty(span.start), "srv*")),
            Detail::QuotedPath { what, text } => {
                let edits = text
                    .match_indices('"')
                    .map(|(i, _)| TextEdit { span: Span::new(span.start + i, span.start + i + 1), replacement: String::new() })
                    .collect();
                d(format!("double quotes are part of the {what} name: symbol paths have no quoting, so this {what} will not exist"))
                    .with_help("spaces need no quoting: `C:\\Program Files\\sym` works as is")
                    .with_fix(Fix { title: "Remove the quotes".into(), edits })
            }
            Detail::InvalidPathChar { what, c } => d(format!("{c:?} cannot appear in a Windows path: this {what} cannot exist")),
            Detail::UnsupportedScheme { text } => d(format!(
                "`{}://` is not supported by symsrv: only http:// and https:// stores are; this is read as a relative directory",
                other_scheme(text).unwrap_or("")
            )),
            Detail::RelativePath { what, why } => d(match why {
                Relativity::CurrentDir => format!("relative {what}: resolved against the debugger's current directory, which changes"),
                Relativity::DriveRelative => format!("drive-relative {what}: resolved against that drive's current directory"),
                Relativity::DriveRooted => format!("{what} without a drive: resolved against the current drive (on Windows)"),
            })
            .with_help("use an absolute path such as `C:\\symbols`"),
            Detail::StarOutsideKeyword { first, typo, element_start } => {
                let fix = if typo {
                    Fix::replace("Replace it with `srv`", span, "srv")
                } else {
                    Fix::replace("Prefix the element with `srv*`", Span::empty(element_start), "srv*")
                };
                d(format!(
                    "`*` only separates stores after `srv*`, `symsrv*` or `cache*`; `{first}` is not one of them, so the element is ignored"
                ))
                .with_fix(fix)
            }
            Detail::SymsrvMissingDll { dll, no_stores, element_start } => {
                let msg = if dll.is_empty() {
                    "`symsrv*` needs a DLL name: `symsrv*symsrv.dll*<stores>`".to_string()
                } else if no_stores {
                    format!("`{dll}` is read as the DLL name, and no stores follow it")
                } else {
                    format!("`{dll}` is not a DLL name: `symsrv*` must be followed by the symbol-server DLL")
                };
                let fix = if dll.is_empty() {
                    Fix::replace("Use symsrv.dll", span, "symsrv.dll")
                } else {
                    Fix::replace("Use `srv*` instead", Span::new(element_start, span.start), "srv*")
                };
                d(msg).with_fix(fix)
            }
            Detail::ChainWithoutStores { dll } => d(format!("`symsrv*{dll}` names no stores, so it is ignored"))
                .with_fix(Fix::replace("Add `*` for the default symbol server", Span::empty(span.end), "*")),
            Detail::ThirdPartyDll { dll } => d(format!(
                "`{dll}` is a third-party symbol-server plug-in: its stores mean what that DLL says, and sympath skips the chain in lookup plans"
            ))
            .with_help("only symsrv.dll semantics are documented; `srv*` is short for `symsrv*symsrv.dll*`"),
            Detail::InvalidUrl { url } => match UrlParts::parse(url) {
                Err(e) => d(format!("invalid store URL: {e}")),
                Ok(_) => s("invalid store URL"),
            },
            Detail::MsdlPlainHttp => s("Microsoft's symbol server is HTTPS-only (TLS 1.2+): plain http:// is not supported")
                .with_fix(Fix::replace("Use https://", Span::new(span.start, span.start + 4), "https")),
            Detail::MsdlWrongPath { path } => {
                d(format!("Microsoft's symbol server lives at `/download/symbols`, not `{}`", if path.is_empty() { "/" } else { path }))
                    .with_fix(Fix::replace("Use /download/symbols", span, "/download/symbols"))
            }
            Detail::CredentialsInUrl => {
                s("credentials in a store URL end up in logs and in `.sympath` output, and WinDbg/cdb do not send them")
                    .with_help("sympath sends them as `Authorization: Basic` and never shows them; prefer a token-authenticating proxy")
            }
            Detail::UrlQueryString => s("query string on a store URL: symsrv appends keys after it, and ClrMD drops it")
                .with_help("sympath keeps the query after the key (`<base>/<key>?<query>`)"),
            Detail::SamplyBareSrv => s("samply reads bare `srv*` as the default downstream store alone: no server at all")
                .with_help("the debuggers read it as the default symbol server"),
            Detail::SamplyNoUrl => s("samply finds no server URL in this chain: it only reads its caches"),
            Detail::TooManyStores { n } => {
                d(format!("{n} stores in one chain: symsrv documents at most 10, and what happens beyond is undefined"))
            }
            Detail::TrailingStar => s(
                "a trailing `*` is an empty token whose meaning is disputed: the default downstream store (symsrv docs) or the default symbol server (SOS)",
            )
            .with_help("write the upstream explicitly, e.g. `srv*C:\\sym*https://msdl.microsoft.com/download/symbols`"),
            Detail::DuplicateStore => s("this store already appears in the chain"),
            Detail::CacheIsUrl { fix_from } => {
                let d = s("a cache must be a writable directory, not a URL");
                match fix_from {
                    Some(from) => d.with_fix(Fix::replace("Make it a server: `srv*`", Span::new(from, span.start), "srv*")),
                    None => d,
                }
            }
            Detail::CacheWithoutEffect => s("`cache*` only caches files found by elements to its right, and there are none")
                .with_help("move it to the front, or append elements with `.sympath+`"),
            Detail::DuplicateElement { del } => {
                s("duplicate element: it is searched again after the first one missed, which only costs time")
                    .with_fix(Fix::replace("Remove the duplicate", del, ""))
            }
            Detail::DirReusedAsStore { what } => d(format!("this directory is also a plain symbol directory: a {what} has the store layout (`name/id/name`), a plain directory the flat one, and mixing them in one folder confuses both"))
                .with_help("use separate directories for manually copied symbols and for downloaded ones"),
            Detail::HttpStoreNotLast { stores, region } => {
                let (https, others): (Vec<&str>, Vec<&str>) = store_tokens(stores).partition(|t| is_http_url(t));
                let reordered: Vec<&str> = others.into_iter().chain(https).collect();
                s("an HTTP store cannot be written to, so it must be the right-most store: this chain is broken")
                    .with_help("stores to its right never receive copies; symsrv supports one HTTP store, at the end")
                    .with_fix(Fix::replace("Move HTTP stores to the end", region, reordered.join("*")))
            }
            Detail::MultipleHttpStores { element, element_start, stores_at, first_upstream, http_run } => {
                let prefix = element.get(..stores_at).unwrap_or("srv*");
                let toks: Vec<&str> = store_tokens(element.get(stores_at..).unwrap_or("")).collect();
                let downstream = toks.get(..first_upstream).unwrap_or(&[]);
                let split: Vec<String> = toks
                    .iter()
                    .skip(first_upstream)
                    .map(|u| {
                        let mut parts = downstream.to_vec();
                        parts.push(u);
                        format!("{prefix}{}", parts.join("*"))
                    })
                    .collect();
                d(format!("{http_run} HTTP stores in one chain: symsrv supports one; ClrMD and samply try them in order"))
                    .with_help("use one chain per server; each is tried in turn")
                    .with_fix(Fix::replace("Split into one chain per server", Span::new(element_start, span.end), split.join(";")))
            }
            Detail::CacheExtraTokens { extra } => {
                let mut d = s(
                    "only the first token after `cache*` is the cache directory; tools disagree on the rest (symchk: part of the path, SOS: more caches, ClrMD: servers)",
                );
                let toks = store_tokens(extra.split_once('*').map_or("", |(_, rest)| rest));
                let servers: Option<Vec<String>> = toks.map(|t| is_http_url(t).then(|| format!(";srv*{t}"))).collect();
                if let Some(servers) = servers {
                    d = d.with_fix(Fix::replace("Make the URLs servers: `cache*dir;srv*url`", span, servers.concat()));
                }
                d
            }
            Detail::EnvDirMissing { dir } => {
                d(format!("`{dir}` does not exist; the debugger silently ignores missing directories from environment variables"))
            }
        };
        match self.related {
            Some(r) => out.with_related(r),
            None => out,
        }
    }
}

/// The `*`-separated tokens of `s`, trimmed as the parser trims them.
fn store_tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split('*').map(str::trim_ascii)
}
