//! Parsing: text → elements with spans + diagnostics (spec §2–§5).
//!
//! Parsing never fails and runs in linear time: the text is split once on `;`
//! and each element once on `*`; cross-element checks use hash maps.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;

use crate::diagnostic::{Code, Diagnostic, Fix, TextEdit};
use crate::model::*;
use crate::span::Span;
use crate::url::{is_http_url, other_scheme, UrlParts};
use crate::winpath::{self, DirForm, Host, Relativity};

/// Whose semantics the parser reproduces where implementations disagree (spec §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// WinDbg/cdb/kd + dbghelp/symsrv as documented by Microsoft (the reference).
    #[default]
    Dbgeng,
    /// SOS / dotnet-dump (`dotnet/diagnostics` SymbolService): no implicit downstream store.
    DotnetDiagnostics,
    /// The `symsrv` crate used by samply: bare `srv*` is the default downstream store only.
    Samply,
    /// ClrMD: lenient; bare URLs are servers, `cache*dir*url` is a cache plus a server.
    Clrmd,
}

impl Dialect {
    /// Parses `dbgeng`, `dotnet-diagnostics`, `samply` (or `mstange/symsrv`), `clrmd`.
    pub fn from_name(s: &str) -> Option<Dialect> {
        match s.to_ascii_lowercase().as_str() {
            "dbgeng" | "windbg" => Some(Dialect::Dbgeng),
            "dotnet-diagnostics" | "sos" => Some(Dialect::DotnetDiagnostics),
            "samply" | "mstange/symsrv" | "symsrv-crate" => Some(Dialect::Samply),
            "clrmd" => Some(Dialect::Clrmd),
            _ => None,
        }
    }
}

/// Parser settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Whose semantics to reproduce.
    pub dialect: Dialect,
    /// Whose path rules apply to plain directories.
    pub host: Host,
}

/// Parses with the default options (dbgeng semantics, Windows paths).
pub fn parse(text: &str) -> SymbolPath {
    parse_with(text, &ParseOptions::default())
}

/// Parses `text` into elements and diagnostics. Never fails, never panics.
pub fn parse_with(text: &str, opts: &ParseOptions) -> SymbolPath {
    let guess = text.bytes().filter(|&b| b == b';').count() + 1;
    let mut p = Parser {
        text,
        opts: *opts,
        elements: Vec::with_capacity(guess),
        cache_counts: Vec::with_capacity(guess),
        tok_buf: Vec::new(),
        diags: Vec::new(),
        active_caches: Vec::new(),
    };
    p.run();
    let all: std::sync::Arc<[CacheRef]> = p.active_caches.into();
    for (e, count) in p.elements.iter_mut().zip(&p.cache_counts) {
        e.cached_into = CachedInto::new(all.clone(), *count);
    }
    let mut diags = p.diags;
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    SymbolPath { text: text.to_string(), elements: p.elements, diagnostics: diags }
}

/// A `*`-token (or an element) with its trimmed and raw spans.
#[derive(Debug, Clone, Copy)]
struct Tok<'t> {
    text: &'t str,
    span: Span,
    raw: Span,
}

fn is_ws(c: char) -> bool {
    c.is_ascii_whitespace()
}

fn trimmed(text: &str, raw: Span) -> Tok<'_> {
    let s = raw.slice(text);
    let lead = s.len() - s.trim_start_matches(is_ws).len();
    let body = s.trim_matches(is_ws);
    let start = raw.start + lead;
    Tok { text: body, span: Span::new(start, start + body.len()), raw }
}

/// Splits `raw` (a span of `text`) on `sep`, yielding raw spans.
fn split_spans(text: &str, raw: Span, sep: char) -> impl Iterator<Item = Span> + '_ {
    let mut at = raw.start;
    raw.slice(text).split(sep).map(move |piece| {
        let s = Span::new(at, at + piece.len());
        at = s.end + sep.len_utf8();
        s
    })
}

struct Parser<'t> {
    text: &'t str,
    opts: ParseOptions,
    elements: Vec<Element>,
    /// For each element, how many `cache*` directives are to its left.
    cache_counts: Vec<usize>,
    /// Scratch space for an element's `*`-tokens.
    tok_buf: Vec<Tok<'t>>,
    diags: Vec<Diagnostic>,
    active_caches: Vec<CacheRef>,
}

impl<'t> Parser<'t> {
    fn run(&mut self) {
        let whole = Span::new(0, self.text.len());
        let raws: Vec<Span> = split_spans(self.text, whole, ';').collect();
        for (i, raw) in raws.iter().enumerate() {
            let tok = trimmed(self.text, *raw);
            if tok.text.is_empty() {
                self.empty_element(*raw, i, raws.len());
                if self.opts.dialect == Dialect::Samply && raws.len() > 1 {
                    // samply keeps each empty segment as an empty path (R5).
                    self.push(ElementKind::Dir(DirElement { path: String::new(), form: DirForm::Relative, maybe_store: false }), *raw);
                }
                continue;
            }
            self.whitespace(tok, "element");
            self.element(tok);
        }
        self.cross_element_checks();
    }

    fn push(&mut self, kind: ElementKind, span: Span) {
        // Only the count is known here; `parse_with` shares one cache list among all elements.
        let count = match kind {
            ElementKind::Dir(_) | ElementKind::Chain(_) => self.active_caches.len(),
            _ => 0,
        };
        self.cache_counts.push(count);
        self.elements.push(Element { kind, cached_into: CachedInto::default(), span });
    }

    fn diag(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn empty_element(&mut self, raw: Span, index: usize, count: usize) {
        if count == 1 {
            return; // An empty path is not an empty element.
        }
        // Delete the element and the `;` after it (or before it, for the last one).
        let del = if index + 1 < count { Span::new(raw.start, raw.end + 1) } else { Span::new(raw.start.saturating_sub(1), raw.end) };
        let what = if raw.is_empty() { "empty element" } else { "blank element" };
        self.diag(Diagnostic::new(Code::EmptyElement, raw, format!("{what}: skipped by the debugger")).with_fix(Fix::replace(
            "Remove the extra `;`",
            del,
            "",
        )));
    }

    fn whitespace(&mut self, tok: Tok<'_>, what: &str) {
        if tok.raw == tok.span || tok.text.is_empty() {
            return;
        }
        let edits = [Span::new(tok.raw.start, tok.span.start), Span::new(tok.span.end, tok.raw.end)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|span| TextEdit { span, replacement: String::new() })
            .collect();
        self.diag(
            Diagnostic::new(
                Code::SurroundingWhitespace,
                tok.raw,
                format!("whitespace around this {what}: the debuggers ignore it, but SOS and samply read it as part of the name"),
            )
            .with_fix(Fix { title: "Remove the whitespace".into(), edits }),
        );
    }

    fn tokens(&mut self, tok: Tok<'_>) -> Vec<Tok<'t>> {
        let mut v = std::mem::take(&mut self.tok_buf);
        v.clear();
        v.extend(split_spans(self.text, tok.span, '*').map(|raw| trimmed(self.text, raw)));
        v
    }

    fn element(&mut self, tok: Tok<'t>) {
        let toks = self.tokens(tok);
        self.element_tokens(tok, &toks);
        self.tok_buf = toks; // keep the allocation for the next element
    }

    fn element_tokens(&mut self, tok: Tok<'t>, toks: &[Tok<'t>]) {
        let (first, rest) = match toks.split_first() {
            Some((f, r)) if !r.is_empty() => (*f, r),
            _ => return self.single(tok),
        };
        let is = |k: &str| first.text.eq_ignore_ascii_case(k);
        if is("srv") {
            self.whitespace(first, "keyword");
            self.chain(tok, SYMSRV_DLL.to_string(), rest);
        } else if is("symsrv") {
            self.whitespace(first, "keyword");
            self.symsrv(tok, rest);
        } else if is("cache") {
            self.whitespace(first, "keyword");
            self.cache(tok, rest);
        } else {
            self.star_outside_keyword(tok, first);
        }
    }

    /// An element without `*`: a directory, a bare URL, or a keyword missing its `*`.
    fn single(&mut self, tok: Tok<'t>) {
        let lower = tok.text.to_ascii_lowercase();
        if matches!(lower.as_str(), "srv" | "symsrv" | "cache") {
            self.diag(
                Diagnostic::new(
                    Code::KeywordWithoutStar,
                    tok.span,
                    format!("`{}` without `*` is not a keyword: this is a relative directory named `{}`", tok.text, tok.text),
                )
                .with_help(match lower.as_str() {
                    "srv" => "`srv*` alone means the default symbol server (with the default downstream store)",
                    "cache" => "`cache*` alone means the default symbol cache",
                    _ => "`symsrv*symsrv.dll*<stores>` names a symbol-server DLL and its stores",
                })
                .with_fix(Fix::replace("Add the `*`", Span::empty(tok.span.end), "*")),
            );
            let raw = tok.text.to_string();
            let kind = match (self.opts.dialect, lower.as_str()) {
                // SOS refuses the element (R8).
                (Dialect::DotnetDiagnostics, _) => ElementKind::Invalid(InvalidElement { raw, reason: "keyword without `*`".into() }),
                // samply builds an empty chain for `srv` and drops `cache` (R8).
                (Dialect::Samply, "cache") => return,
                (Dialect::Samply, _) => ElementKind::Chain(Chain { dll: SYMSRV_DLL.into(), stores: Vec::new(), implicit_downstream: None }),
                _ => ElementKind::Dir(DirElement { path: raw, form: DirForm::Relative, maybe_store: false }),
            };
            self.push(kind, tok.span);
            return;
        }
        if is_http_url(tok.text) {
            if self.opts.dialect == Dialect::Clrmd {
                let store = self.store(tok, Role::Upstream);
                let chain = Chain { dll: SYMSRV_DLL.into(), stores: vec![store], implicit_downstream: self.implicit_downstream(true) };
                return self.push(ElementKind::Chain(chain), tok.span);
            }
            self.diag(
                Diagnostic::new(Code::BareUrl, tok.span, "a URL outside `srv*` is ignored: HTTP stores are only reachable through symsrv")
                    .with_fix(Fix::replace("Prefix it with `srv*`", Span::empty(tok.span.start), "srv*")),
            );
            let raw = tok.text.to_string();
            return self.push(ElementKind::Invalid(InvalidElement { raw, reason: "bare URL outside srv*".into() }), tok.span);
        }
        let form = self.dir_checks(tok, "directory");
        self.push(ElementKind::Dir(DirElement { path: tok.text.to_string(), form, maybe_store: false }), tok.span);
    }

    /// Checks shared by plain directories, cache directories and directory stores.
    fn dir_checks(&mut self, tok: Tok<'_>, what: &str) -> DirForm {
        let (form, why) = winpath::classify(tok.text, self.opts.host);
        // One pass decides whether any of the rarer checks need to look closer.
        let suspicious = tok.text.bytes().any(|b| b < 0x20 || matches!(b, b'"' | b'<' | b'>' | b'|' | b'?' | b':' | 0x7f..=0xff));
        if !suspicious {
            if let Some(why) = why {
                self.relative_path(tok, what, why);
            }
            return form;
        }
        if tok.text.contains('"') {
            let edits: Vec<TextEdit> = tok
                .text
                .match_indices('"')
                .map(|(i, _)| TextEdit { span: Span::new(tok.span.start + i, tok.span.start + i + 1), replacement: String::new() })
                .collect();
            self.diag(
                Diagnostic::new(
                    Code::QuotedPath,
                    tok.span,
                    format!("double quotes are part of the {what} name: symbol paths have no quoting, so this {what} will not exist"),
                )
                .with_help("spaces need no quoting: `C:\\Program Files\\sym` works as is")
                .with_fix(Fix { title: "Remove the quotes".into(), edits }),
            );
        } else if let Some((i, c)) = winpath::invalid_char(tok.text) {
            let at = tok.span.start + i;
            self.diag(Diagnostic::new(
                Code::InvalidPathChars,
                Span::new(at, at + c.len_utf8()),
                format!("{c:?} cannot appear in a Windows path: this {what} cannot exist"),
            ));
        } else if let Some(scheme) = other_scheme(tok.text) {
            self.diag(Diagnostic::new(
                Code::UnsupportedScheme,
                tok.span,
                format!(
                    "`{scheme}://` is not supported by symsrv: only http:// and https:// stores are; this is read as a relative directory"
                ),
            ));
        } else if let Some(why) = why {
            self.relative_path(tok, what, why);
        }
        form
    }

    fn relative_path(&mut self, tok: Tok<'_>, what: &str, why: Relativity) {
        let msg = match why {
            Relativity::CurrentDir => format!("relative {what}: resolved against the debugger's current directory, which changes"),
            Relativity::DriveRelative => format!("drive-relative {what}: resolved against that drive's current directory"),
            Relativity::DriveRooted => format!("{what} without a drive: resolved against the current drive (on Windows)"),
        };
        self.diag(Diagnostic::new(Code::RelativePath, tok.span, msg).with_help("use an absolute path such as `C:\\symbols`"));
    }

    fn star_outside_keyword(&mut self, tok: Tok<'t>, first: Tok<'t>) {
        let lower = first.text.to_ascii_lowercase();
        let fix = if matches!(lower.as_str(), "svr" | "sv" | "srvr" | "server" | "sym" | "symsrv.dll" | "srv:") {
            Fix::replace("Replace it with `srv`", first.span, "srv")
        } else {
            Fix::replace("Prefix the element with `srv*`", Span::empty(tok.span.start), "srv*")
        };
        self.diag(
            Diagnostic::new(
                Code::StarOutsideKeyword,
                first.span,
                format!(
                    "`*` only separates stores after `srv*`, `symsrv*` or `cache*`; `{}` is not one of them, so the element is ignored",
                    first.text
                ),
            )
            .with_fix(fix),
        );
        let raw = tok.text.to_string();
        self.push(ElementKind::Invalid(InvalidElement { raw, reason: "`*` outside srv*/symsrv*/cache*".into() }), tok.span);
    }

    fn symsrv(&mut self, tok: Tok<'t>, rest: &[Tok<'t>]) {
        let Some((dll, stores)) = rest.split_first() else {
            return;
        };
        match self.opts.dialect {
            // samply takes the second token as the DLL, whatever it is (P53).
            Dialect::Samply if stores.is_empty() => {
                let chain = Chain { dll: dll.text.to_string(), stores: Vec::new(), implicit_downstream: None };
                return self.push(ElementKind::Chain(chain), tok.span);
            }
            // ClrMD ignores the DLL token and even accepts `symsrv*<url>` (R11).
            Dialect::Clrmd if is_http_url(dll.text) => return self.chain(tok, SYMSRV_DLL.to_string(), rest),
            _ => {}
        }
        let looks_like_dll =
            !dll.text.is_empty() && !dll.text.contains("://") && !dll.text.contains(['\\', '/', ':']) && !dll.text.contains('"');
        if !looks_like_dll {
            let (msg, reason) = if dll.text.is_empty() {
                ("`symsrv*` needs a DLL name: `symsrv*symsrv.dll*<stores>`".to_string(), "missing DLL name")
            } else if stores.is_empty() {
                (
                    format!("`{}` is read as the DLL name, and no stores follow it", dll.text),
                    "second token must be a DLL name; no store tokens follow",
                )
            } else {
                (
                    format!("`{}` is not a DLL name: `symsrv*` must be followed by the symbol-server DLL", dll.text),
                    "second token must be a DLL name",
                )
            };
            let fix = if dll.text.is_empty() {
                Fix::replace("Use symsrv.dll", dll.span, "symsrv.dll")
            } else {
                Fix::replace("Use `srv*` instead", Span::new(tok.span.start, dll.span.start), "srv*")
            };
            self.diag(Diagnostic::new(Code::SymsrvMissingDll, dll.span, msg).with_fix(fix));
            let raw = tok.text.to_string();
            return self.push(ElementKind::Invalid(InvalidElement { raw, reason: reason.into() }), tok.span);
        }
        self.whitespace(*dll, "DLL name");
        if stores.is_empty() {
            self.diag(
                Diagnostic::new(Code::ChainWithoutStores, tok.span, format!("`symsrv*{}` names no stores, so it is ignored", dll.text))
                    .with_fix(Fix::replace("Add `*` for the default symbol server", Span::empty(tok.span.end), "*")),
            );
            let raw = tok.text.to_string();
            return self.push(ElementKind::Invalid(InvalidElement { raw, reason: "no store tokens".into() }), tok.span);
        }
        let name = if dll.text.eq_ignore_ascii_case(SYMSRV_DLL) { SYMSRV_DLL } else { dll.text };
        if name != SYMSRV_DLL {
            self.diag(
                Diagnostic::new(
                    Code::ThirdPartyDll,
                    dll.span,
                    format!("`{}` is a third-party symbol-server plug-in: its stores mean what that DLL says, and sympath skips the chain in lookup plans", dll.text),
                )
                .with_help("only symsrv.dll semantics are documented; `srv*` is short for `symsrv*symsrv.dll*`"),
            );
        }
        self.chain(tok, name.to_string(), stores);
    }

    fn store(&mut self, t: Tok<'t>, role: Role) -> Store {
        let location = if t.text.is_empty() {
            StoreLocation::DefaultDownstream
        } else if is_http_url(t.text) {
            self.url_checks(t);
            StoreLocation::Http { url: t.text.to_string() }
        } else if winpath::classify(t.text, self.opts.host).0 == DirForm::Unc {
            self.dir_checks(t, "store");
            StoreLocation::Unc { path: t.text.to_string() }
        } else {
            self.dir_checks(t, "store");
            StoreLocation::Dir { path: t.text.to_string() }
        };
        Store { role, location, implicit: None, span: t.span }
    }

    fn url_checks(&mut self, t: Tok<'_>) {
        let url = match UrlParts::parse(t.text) {
            Ok(u) => u,
            Err(e) => {
                return self.diag(Diagnostic::new(Code::InvalidUrl, t.span, format!("invalid store URL: {e}")));
            }
        };
        if url.is_msdl() && url.scheme == crate::url::Scheme::Http {
            self.diag(
                Diagnostic::new(
                    Code::MsdlPlainHttp,
                    t.span,
                    "Microsoft's symbol server is HTTPS-only (TLS 1.2+): plain http:// is not supported",
                )
                .with_fix(Fix::replace("Use https://", Span::new(t.span.start, t.span.start + 4), "https")),
            );
        }
        if url.is_msdl() && !url.path.trim_end_matches('/').eq_ignore_ascii_case("/download/symbols") {
            let end = t.span.end;
            let path_start = end - url.path.len() - url.query.as_ref().map_or(0, |q| q.len() + 1);
            self.diag(
                Diagnostic::new(
                    Code::MsdlWrongPath,
                    Span::new(path_start, end),
                    format!(
                        "Microsoft's symbol server lives at `/download/symbols`, not `{}`",
                        if url.path.is_empty() { "/" } else { &url.path }
                    ),
                )
                .with_fix(Fix::replace("Use /download/symbols", Span::new(path_start, end), "/download/symbols")),
            );
        }
        if url.username.is_some() {
            self.diag(
                Diagnostic::new(
                    Code::CredentialsInUrl,
                    t.span,
                    "credentials in a store URL end up in logs and in `.sympath` output, and WinDbg/cdb do not send them",
                )
                .with_help("sympath sends them as `Authorization: Basic` and never shows them; prefer a token-authenticating proxy"),
            );
        }
        if url.query.is_some() {
            self.diag(
                Diagnostic::new(
                    Code::UrlQueryString,
                    t.span,
                    "query string on a store URL: symsrv appends keys after it, and ClrMD drops it",
                )
                .with_help("sympath keeps the query after the key (`<base>/<key>?<query>`)"),
            );
        }
    }

    fn chain(&mut self, tok: Tok<'t>, dll: String, toks: &[Tok<'t>]) {
        let dialect = self.opts.dialect;
        // Bare `srv*`: one empty token (R18, disagreement D3).
        if let [only] = toks {
            if only.text.is_empty() {
                let chain = if dialect == Dialect::Samply {
                    self.diag(
                        Diagnostic::new(
                            Code::ChainWithoutUpstream,
                            tok.span,
                            "samply reads bare `srv*` as the default downstream store alone: no server at all",
                        )
                        .with_help("the debuggers read it as the default symbol server"),
                    );
                    let dds = Store { role: Role::Downstream, location: StoreLocation::DefaultDownstream, implicit: None, span: only.span };
                    Chain { dll, stores: vec![dds], implicit_downstream: None }
                } else {
                    let server = Store {
                        role: Role::Upstream,
                        location: StoreLocation::Http { url: DEFAULT_SYMBOL_SERVER.into() },
                        implicit: Some(Implicit::DefaultSymbolServer),
                        span: only.span,
                    };
                    Chain { dll, stores: vec![server], implicit_downstream: self.implicit_downstream(true) }
                };
                return self.push(ElementKind::Chain(chain), tok.span);
            }
        }
        if dialect == Dialect::Samply {
            return self.samply_chain(tok, dll, toks);
        }
        if let (Dialect::DotnetDiagnostics, Some((last, init))) = (dialect, toks.split_last()) {
            if last.text.is_empty() && !init.is_empty() {
                // SOS: a trailing empty token is the default server, the rest are caches (R19).
                let mut stores: Vec<Store> = init.iter().map(|t| self.store(*t, Role::Downstream)).collect();
                stores.push(Store {
                    role: Role::Upstream,
                    location: StoreLocation::Http { url: DEFAULT_SYMBOL_SERVER.into() },
                    implicit: Some(Implicit::DefaultSymbolServer),
                    span: last.span,
                });
                return self.push(ElementKind::Chain(Chain { dll, stores, implicit_downstream: None }), tok.span);
            }
        }
        for t in toks {
            self.whitespace(*t, "store");
        }
        // Roles: the right-most token is upstream; a trailing run of HTTP tokens
        // are all upstream, tried in order (R22 recommendation).
        let n = toks.len();
        let http_run = toks.iter().rev().take_while(|t| is_http_url(t.text)).count();
        let first_upstream = n - http_run.max(1);
        let stores: Vec<Store> = toks
            .iter()
            .enumerate()
            .map(|(i, t)| self.store(*t, if i >= first_upstream { Role::Upstream } else { Role::Downstream }))
            .collect();

        // HTTP store followed by a non-HTTP store (R22).
        let misplaced: Vec<&Tok<'t>> = toks.iter().take(first_upstream).filter(|t| is_http_url(t.text)).collect();
        if !misplaced.is_empty() {
            let (https, others): (Vec<&Tok<'t>>, Vec<&Tok<'t>>) = toks.iter().partition(|t| is_http_url(t.text));
            let reordered: Vec<&str> = others.iter().chain(https.iter()).map(|t| t.text).collect();
            let region = Span::new(toks.first().map_or(tok.span.end, |t| t.span.start), toks.last().map_or(tok.span.end, |t| t.span.end));
            for m in &misplaced {
                self.diag(
                    Diagnostic::new(
                        Code::HttpStoreNotLast,
                        m.span,
                        "an HTTP store cannot be written to, so it must be the right-most store: this chain is broken",
                    )
                    .with_help("stores to its right never receive copies; symsrv supports one HTTP store, at the end")
                    .with_fix(Fix::replace("Move HTTP stores to the end", region, reordered.join("*"))),
                );
            }
        }
        if http_run > 1 && dialect != Dialect::Clrmd {
            let downstream: Vec<&str> = toks.iter().take(first_upstream).map(|t| t.text).collect();
            let prefix = tok.text.get(..toks.first().map_or(0, |t| t.span.start - tok.span.start)).unwrap_or("srv*");
            let split: Vec<String> = toks
                .iter()
                .skip(first_upstream)
                .map(|u| {
                    let mut parts = downstream.clone();
                    parts.push(u.text);
                    format!("{prefix}{}", parts.join("*"))
                })
                .collect();
            let first_http = toks.get(first_upstream).map_or(tok.span, |t| t.span);
            self.diag(
                Diagnostic::new(
                    Code::MultipleHttpStores,
                    Span::new(first_http.start, tok.span.end),
                    format!("{http_run} HTTP stores in one chain: symsrv supports one; ClrMD and samply try them in order"),
                )
                .with_help("use one chain per server; each is tried in turn")
                .with_fix(Fix::replace("Split into one chain per server", tok.span, split.join(";"))),
            );
        }
        if n > 10 {
            self.diag(Diagnostic::new(
                Code::TooManyStores,
                tok.span,
                format!("{n} stores in one chain: symsrv documents at most 10, and what happens beyond is undefined"),
            ));
        }
        if n >= 2 {
            if let Some(last) = toks.last().filter(|t| t.text.is_empty()) {
                self.diag(
                    Diagnostic::new(
                        Code::TrailingStar,
                        Span::new(last.span.start.saturating_sub(1), last.span.end),
                        "a trailing `*` is an empty token whose meaning is disputed: the default downstream store (symsrv docs) or the default symbol server (SOS)",
                    )
                    .with_help("write the upstream explicitly, e.g. `srv*C:\\sym*https://msdl.microsoft.com/download/symbols`"),
                );
            }
        }
        self.duplicate_stores(&stores);
        let all_http = stores.iter().all(|s| s.location.is_http());
        let implicit_downstream = self.implicit_downstream(all_http);
        self.push(ElementKind::Chain(Chain { dll, stores, implicit_downstream }), tok.span);
    }

    /// samply (mstange/symsrv): URLs (matched case-sensitively, R9) are servers
    /// tried in order, everything else a cache, whatever the position (P42).
    fn samply_chain(&mut self, tok: Tok<'t>, dll: String, toks: &[Tok<'t>]) {
        let is_url = |t: &str| t.starts_with("https://") || t.starts_with("http://");
        let (urls, caches): (Vec<&Tok<'t>>, Vec<&Tok<'t>>) = toks.iter().partition(|t| is_url(t.text));
        let mut stores: Vec<Store> = caches
            .iter()
            .map(|t| {
                let location = match t.text {
                    "" => StoreLocation::DefaultDownstream,
                    p if winpath::classify(p, self.opts.host).0 == DirForm::Unc => StoreLocation::Unc { path: p.to_string() },
                    p => StoreLocation::Dir { path: p.to_string() },
                };
                Store { role: Role::Downstream, location, implicit: None, span: t.span }
            })
            .collect();
        stores.extend(urls.iter().map(|t| Store {
            role: Role::Upstream,
            location: StoreLocation::Http { url: t.text.to_string() },
            implicit: None,
            span: t.span,
        }));
        if urls.is_empty() {
            self.diag(Diagnostic::new(
                Code::ChainWithoutUpstream,
                tok.span,
                "samply finds no server URL in this chain: it only reads its caches",
            ));
        }
        self.push(ElementKind::Chain(Chain { dll, stores, implicit_downstream: None }), tok.span);
    }

    /// R21: symsrv copies HTTP hits into a downstream store; with none named
    /// (and no `cache*` in force) it uses the default downstream store.
    fn implicit_downstream(&self, all_http: bool) -> Option<ImplicitDownstream> {
        let emulates = matches!(self.opts.dialect, Dialect::Dbgeng | Dialect::Clrmd);
        (emulates && all_http && self.active_caches.is_empty()).then_some(ImplicitDownstream::DefaultDownstream)
    }

    fn cache(&mut self, tok: Tok<'t>, rest: &[Tok<'t>]) {
        let Some((dir, extra)) = rest.split_first() else {
            return;
        };
        self.whitespace(*dir, "cache directory");
        let target = if dir.text.is_empty() && self.opts.dialect == Dialect::Samply {
            CacheTarget::Dir(String::new()) // samply: `cache*` is an empty path, not the default (P65)
        } else if dir.text.is_empty() {
            CacheTarget::Default
        } else if is_http_url(dir.text) {
            self.diag(
                Diagnostic::new(Code::CacheIsUrl, dir.span, "a cache must be a writable directory, not a URL").with_fix(Fix::replace(
                    "Make it a server: `srv*`",
                    Span::new(tok.span.start, dir.span.start),
                    "srv*",
                )),
            );
            let raw = tok.text.to_string();
            return self.push(ElementKind::Invalid(InvalidElement { raw, reason: "cache* names a URL".into() }), tok.span);
        } else {
            self.dir_checks(*dir, "cache directory");
            CacheTarget::Dir(dir.text.to_string())
        };
        let cache = CacheElement { target: target.clone(), target_span: dir.span };
        self.push(ElementKind::Cache(cache), tok.span);
        self.active_caches.push(CacheRef(target));
        if extra.is_empty() {
            return;
        }
        let extra_span = Span::new(dir.span.end, tok.span.end);
        if self.opts.dialect == Dialect::DotnetDiagnostics {
            // SOS adds every token as a cache (R33).
            for t in extra.iter().filter(|t| !t.text.is_empty()) {
                if is_http_url(t.text) {
                    self.diag(Diagnostic::new(Code::CacheIsUrl, t.span, "a cache must be a writable directory, not a URL"));
                    continue;
                }
                self.dir_checks(*t, "cache directory");
                let target = CacheTarget::Dir(t.text.to_string());
                self.push(ElementKind::Cache(CacheElement { target: target.clone(), target_span: t.span }), t.span);
                self.active_caches.push(CacheRef(target));
            }
            return;
        }
        if self.opts.dialect == Dialect::Clrmd && extra.iter().all(|t| is_http_url(t.text)) {
            let stores: Vec<Store> = extra.iter().map(|t| self.store(*t, Role::Upstream)).collect();
            let span = Span::new(extra.first().map_or(extra_span.start, |t| t.span.start), tok.span.end);
            return self.push(ElementKind::Chain(Chain { dll: SYMSRV_DLL.into(), stores, implicit_downstream: None }), span);
        }
        let mut d = Diagnostic::new(
            Code::CacheExtraTokens,
            extra_span,
            "only the first token after `cache*` is the cache directory; tools disagree on the rest (symchk: part of the path, SOS: more caches, ClrMD: servers)",
        );
        let urls: Vec<&str> = extra.iter().map(|t| t.text).filter(|t| is_http_url(t)).collect();
        if urls.len() == extra.len() {
            let servers: Vec<String> = urls.iter().map(|u| format!(";srv*{u}")).collect();
            d = d.with_fix(Fix::replace("Make the URLs servers: `cache*dir;srv*url`", extra_span, servers.concat()));
        }
        self.diag(d);
    }

    fn cross_element_checks(&mut self) {
        // cache* with nothing to its right (R35).
        let mut seen_target = false;
        let mut useless = Vec::new();
        for e in self.elements.iter().rev() {
            match e.kind {
                ElementKind::Dir(_) | ElementKind::Chain(_) => seen_target = true,
                ElementKind::Cache(_) if !seen_target => useless.push(e.span),
                _ => {}
            }
        }
        for span in useless.into_iter().rev() {
            self.diag(
                Diagnostic::new(
                    Code::CacheWithoutEffect,
                    span,
                    "`cache*` only caches files found by elements to its right, and there are none",
                )
                .with_help("move it to the front, or append elements with `.sympath+`"),
            );
        }

        // Duplicate elements (R24: a later duplicate is only consulted after a miss of the same store).
        // One key per element; the maps borrow them (one allocation per element).
        let keys: Vec<String> = self.elements.iter().map(|e| element_key(&e.kind)).collect();
        let mut first_seen: FxMap<&str, Span> = FxMap::default();
        first_seen.reserve(keys.len());
        let mut dups = Vec::new();
        for (e, key) in self.elements.iter().zip(&keys) {
            match first_seen.get(key.as_str()) {
                Some(first) => dups.push((e.span, *first)),
                None => {
                    first_seen.insert(key, e.span);
                }
            }
        }
        for (span, first) in dups {
            let del = self.deletion_span(span);
            self.diag(
                Diagnostic::new(
                    Code::DuplicateElement,
                    span,
                    "duplicate element: it is searched again after the first one missed, which only costs time",
                )
                .with_related(first)
                .with_fix(Fix::replace("Remove the duplicate", del, "")),
            );
        }

        // A directory used both as a plain directory and as a cache/downstream store:
        // plain directories' keys are `d` + compare key, so stores look them up the same way.
        let mut reused = Vec::new();
        let mut buf = String::new();
        let mut probe = |path: &str, span: Span, what: &'static str, buf: &mut String| {
            buf.clear();
            buf.push('d');
            winpath::compare_key_append(path, buf);
            if let Some(dir) = first_seen.get(buf.as_str()) {
                reused.push((span, *dir, what));
            }
        };
        for e in &self.elements {
            match &e.kind {
                ElementKind::Cache(CacheElement { target: CacheTarget::Dir(p), target_span }) => probe(p, *target_span, "cache", &mut buf),
                ElementKind::Chain(c) => {
                    for s in &c.stores {
                        if let StoreLocation::Dir { path } | StoreLocation::Unc { path } = &s.location {
                            probe(path, s.span, "symbol store", &mut buf);
                        }
                    }
                }
                _ => {}
            }
        }
        for (span, dir, what) in reused {
            self.diag(
                Diagnostic::new(
                    Code::DirReusedAsStore,
                    span,
                    format!("this directory is also a plain symbol directory: a {what} has the store layout (`name/id/name`), a plain directory the flat one, and mixing them in one folder confuses both"),
                )
                .with_related(dir)
                .with_help("use separate directories for manually copied symbols and for downloaded ones"),
            );
        }
    }

    /// The same store twice in one chain (R15). Pairwise for ordinary chains,
    /// hashed for pathological ones, so it stays linear.
    fn duplicate_stores(&mut self, stores: &[Store]) {
        let mut found = Vec::new();
        if stores.len() <= 16 {
            for (i, s) in stores.iter().enumerate() {
                if let Some(first) = stores.iter().take(i).find(|f| same_store(&f.location, &s.location)) {
                    found.push((s.span, first.span));
                }
            }
        } else {
            let mut seen: FxMap<String, Span> = FxMap::default();
            for s in stores {
                let mut key = String::new();
                store_key_append(&s.location, &mut key);
                match seen.get(&key) {
                    Some(first) => found.push((s.span, *first)),
                    None => {
                        seen.insert(key, s.span);
                    }
                }
            }
        }
        for (span, first) in found {
            self.diag(Diagnostic::new(Code::DuplicateStore, span, "this store already appears in the chain").with_related(first));
        }
    }

    /// The span to delete to remove an element together with one adjacent `;`.
    fn deletion_span(&self, span: Span) -> Span {
        let bytes = self.text.as_bytes();
        let after = bytes.get(span.end..).and_then(|r| r.iter().position(|&b| b == b';')).map(|i| span.end + i);
        let before = bytes.get(..span.start).and_then(|r| r.iter().rposition(|&b| b == b';'));
        match (before, after) {
            (Some(b), _) => Span::new(b, span.end),
            (None, Some(a)) => Span::new(span.start, a + 1),
            (None, None) => span,
        }
    }
}

/// A key under which two elements count as the same (case-insensitive, separator-insensitive).
fn element_key(kind: &ElementKind) -> String {
    let mut k = String::with_capacity(match kind {
        ElementKind::Dir(d) => d.path.len() + 2,
        ElementKind::Chain(c) => c.dll.len() + c.stores.iter().map(|s| s.location.as_written().map_or(0, str::len) + 1).sum::<usize>() + 2,
        _ => 32,
    });
    match kind {
        ElementKind::Dir(d) => {
            k.push('d');
            winpath::compare_key_append(&d.path, &mut k);
        }
        ElementKind::Cache(c) => {
            k.push('c');
            if let CacheTarget::Dir(p) = &c.target {
                k.push(':');
                winpath::compare_key_append(p, &mut k);
            }
        }
        ElementKind::Chain(c) => {
            k.push('s');
            let at = k.len();
            k.push_str(&c.dll);
            if let Some(tail) = k.get_mut(at..) {
                tail.make_ascii_lowercase();
            }
            for s in &c.stores {
                k.push('*');
                store_key_append(&s.location, &mut k);
            }
        }
        ElementKind::Invalid(i) => {
            k.push('i');
            k.push_str(&i.raw);
        }
    }
    k
}

/// Appends a store's comparison key: URLs case-insensitive without trailing `/`, paths per [`winpath::compare_key`].
fn store_key_append(loc: &StoreLocation, k: &mut String) {
    match loc {
        StoreLocation::Http { url } => {
            let at = k.len();
            k.push_str(url.trim_end_matches('/'));
            if let Some(tail) = k.get_mut(at..) {
                tail.make_ascii_lowercase();
            }
        }
        StoreLocation::DefaultDownstream => {}
        StoreLocation::Dir { path } | StoreLocation::Unc { path } => winpath::compare_key_append(path, k),
    }
}

fn same_store(a: &StoreLocation, b: &StoreLocation) -> bool {
    match (a, b) {
        (StoreLocation::Http { url: x }, StoreLocation::Http { url: y }) => {
            x.trim_end_matches('/').eq_ignore_ascii_case(y.trim_end_matches('/'))
        }
        (StoreLocation::DefaultDownstream, StoreLocation::DefaultDownstream) => true,
        (
            StoreLocation::Dir { path: x } | StoreLocation::Unc { path: x },
            StoreLocation::Dir { path: y } | StoreLocation::Unc { path: y },
        ) => x.eq_ignore_ascii_case(y) || winpath::compare_key(x) == winpath::compare_key(y),
        _ => false,
    }
}

/// A fast non-cryptographic hasher (FxHash) for the parser's maps: keys come from
/// one path the user typed, so hash flooding is not a concern.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(chunk) {
                *d = *s;
            }
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;
/// Applies every machine-applicable fix, re-parsing until no fix applies
/// (overlapping fixes wait for the next round; at most 64 rounds, each linear).
pub fn fix_all(text: &str, opts: &ParseOptions) -> String {
    let mut current = text.to_string();
    for _ in 0..64 {
        let path = parse_with(&current, opts);
        let mut edits: Vec<&TextEdit> = Vec::new();
        let mut fixes: Vec<&Fix> = path.diagnostics.iter().filter_map(|d| d.fix.as_ref()).collect();
        fixes.sort_by_key(|f| f.edits.first().map(|e| e.span.start));
        let mut end = 0;
        for f in fixes {
            let (Some(first), Some(last)) = (f.edits.first(), f.edits.last()) else { continue };
            if first.span.start < end || (!edits.is_empty() && first.span.start == end && first.span.is_empty()) {
                continue;
            }
            end = last.span.end;
            edits.extend(f.edits.iter());
        }
        if edits.is_empty() {
            break;
        }
        let combined = Fix { title: String::new(), edits: edits.into_iter().cloned().collect() };
        let next = combined.apply(&current);
        if next == current {
            break;
        }
        current = next;
    }
    current
}
