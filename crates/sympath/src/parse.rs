//! Parsing: text → elements with spans + diagnostics (spec §2–§5).
//!
//! Parsing never fails and runs in linear time: the text is split once on `;`
//! and each element once on `*` (natively both in one scan); cross-element
//! checks are pairwise for a few elements and use hash tables beyond.

use serde::Serialize;

use crate::ascii::eq_ignore_case;
use crate::borrowed::*;
use crate::diagnostic::{Code, Fix, TextEdit};
use crate::model::{Implicit, ImplicitDownstream, Role, SymbolPath, DEFAULT_SYMBOL_SERVER, SYMSRV_DLL};
use crate::problem::{Detail, DiagnosticRef};
use crate::span::Span;
use crate::url::{has_scheme_separator, is_http_url, other_scheme, UrlParts};
use crate::winpath::{self, CompareKey, DirForm, Host, Relativity, StreamHash};

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
///
/// The owned model, made from [`parse_borrowed`].
pub fn parse_with(text: &str, opts: &ParseOptions) -> SymbolPath {
    parse_borrowed(text, opts).into_owned()
}

/// Parses `text` into the [borrowed model](crate::borrowed): the same
/// elements and diagnostics as [`parse_with`], with every string a slice of
/// `text`. Never fails, never panics; no allocation per element.
pub fn parse_borrowed<'t>(text: &'t str, opts: &ParseOptions) -> SymbolPathRef<'t> {
    let mut path = SymbolPathRef::empty(text);
    parse_into(&mut path, opts);
    path
}

/// [`parse_borrowed`] into `path` (made by [`SymbolPathRef::empty`]) where it
/// is: natively the model keeps its usual items inline, so it is filled where
/// it will stay rather than moved there ([`NATIVE`]).
pub(crate) fn parse_into<'t>(path: &mut SymbolPathRef<'t>, opts: &ParseOptions) {
    if path.text.len() > RESERVE_ABOVE {
        // A long path: its vectors are made the right size at once.
        let (semis, stars) = separators(path.text.as_bytes());
        path.elements.reserve(semis + 1);
        path.stores.reserve(stars + usize::from(stars > 0));
    }
    fill(path, opts);
}

/// Paths longer than this many bytes have their `;` and `*` counted first, to
/// size the vectors; shorter ones fill the inline room and grow from there.
const RESERVE_ABOVE: usize = 1024;

/// Parses `path.text` into `path`.
fn fill<'t>(path: &mut SymbolPathRef<'t>, opts: &ParseOptions) {
    let mut p = Parser { text: path.text, opts: *opts, out: path, tok_buf: Vec::new() };
    p.run();
    let diags = &mut p.out.diagnostics;
    if !diags.is_sorted_by_key(|d| (d.span.start, d.span.end)) {
        diags.sort_by_key(|d| (d.span.start, d.span.end));
    }
}

/// The number of `;` and of `*` in `b`, in one pass, eight bytes at a time.
fn separators(b: &[u8]) -> (usize, usize) {
    if !NATIVE {
        // Compact (see NATIVE).
        return b.iter().fold((0, 0), |(semis, stars), &c| (semis + usize::from(c == b';'), stars + usize::from(c == b'*')));
    }
    let mut chunks = b.chunks_exact(8);
    let (mut semis, mut stars) = (0, 0);
    while chunks.len() > 0 {
        // Per-byte counts (0 or 1 a word) summed in lanes, then across them:
        // no `count_ones`, which x86-64's baseline lacks. 31 words keep every
        // sum below 256.
        let (mut s, mut t) = (0u64, 0u64);
        for c in (&mut chunks).take(31) {
            let w = word(c);
            s += eq_mask(w, b';') >> 7;
            t += eq_mask(w, b'*') >> 7;
        }
        semis += lane_sum(s);
        stars += lane_sum(t);
    }
    for &c in chunks.remainder() {
        semis += usize::from(c == b';');
        stars += usize::from(c == b'*');
    }
    (semis, stars)
}

/// The sum of the eight bytes of `x` (a sum below 256).
fn lane_sum(x: u64) -> usize {
    (x.wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize
}

/// Eight bytes as a little-endian word (`c` has eight bytes).
fn word(c: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    for (d, s) in w.iter_mut().zip(c) {
        *d = *s;
    }
    u64::from_le_bytes(w)
}

/// The high bit of every byte of `w` that equals `b`, and no other bit (exact: no
/// carries between bytes), so `count_ones` counts them and `trailing_zeros / 8`
/// finds the first.
fn eq_mask(w: u64, b: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ (0x0101_0101_0101_0101 * u64::from(b));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The index of the first `needle` in `b`, eight bytes at a time.
fn find_byte(b: &[u8], needle: u8) -> Option<usize> {
    if !NATIVE {
        return b.iter().position(|&c| c == needle);
    }
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let m = eq_mask(word(c), needle);
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&c| c == needle).map(|i| at + i)
}

/// The index of the first `;` or `*` in `b`, eight bytes at a time.
fn find_separator(b: &[u8]) -> Option<usize> {
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let w = word(c);
        let m = eq_mask(w, b';') | eq_mask(w, b'*');
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&c| c == b';' || c == b'*').map(|i| at + i)
}

/// Elements with up to this many `*`-tokens keep them on the stack (a
/// `symsrv*<dll>*` chain of four stores; the array is made once a path).
///
/// Natively only ([`NATIVE`]).
const INLINE_TOKENS: usize = 6;

/// Whether the faster of two equivalent code paths is compiled (this,
/// [`SMALL`] and [`DIRECT_STORES`] choose; the tests run both): natively yes;
/// in WebAssembly the compact one, where the page's download size counts more.
pub(crate) const NATIVE: bool = !cfg!(target_arch = "wasm32");

/// A `*`-token (or an element) with its trimmed and raw spans.
#[derive(Debug, Clone, Copy)]
struct Tok<'t> {
    text: &'t str,
    span: Span,
    raw: Span,
}

fn trimmed(text: &str, raw: Span) -> Tok<'_> {
    // ASCII whitespace is single bytes, so trimming keeps char boundaries.
    let whole = raw.slice(text);
    let start = whole.trim_ascii_start();
    let t = start.trim_ascii_end();
    let lead = whole.len() - start.len();
    Tok { text: t, span: Span::new(raw.start + lead, raw.start + lead + t.len()), raw }
}

/// Splits `raw` (a span of `text`) on the ASCII byte `sep`, yielding raw spans.
/// Eight bytes at a time, with no set-up per piece (the pieces are short).
fn split_spans(text: &str, raw: Span, sep: u8) -> impl Iterator<Item = Span> + '_ {
    let bytes = text.as_bytes();
    let mut at = Some(raw.start);
    std::iter::from_fn(move || {
        let start = at?;
        let end = bytes.get(start..raw.end).and_then(|r| find_byte(r, sep)).map(|i| start + i);
        at = end.map(|e| e + 1);
        Some(Span::new(start, end.unwrap_or(raw.end)))
    })
}

struct Parser<'t, 'p> {
    text: &'t str,
    opts: ParseOptions,
    /// What is being parsed into: elements, every chain's stores (flat),
    /// the active caches and diagnostics.
    out: &'p mut SymbolPathRef<'t>,
    /// Scratch space for an element's `*`-tokens.
    tok_buf: Vec<Tok<'t>>,
}

impl<'t> Parser<'t, '_> {
    fn run(&mut self) {
        if NATIVE {
            self.run_one_scan();
        } else {
            self.run_split();
        }
        self.cross_element_checks();
    }

    /// The elements, split on `;`, then each on `*`.
    fn run_split(&mut self) {
        let whole = Span::new(0, self.text.len());
        for (i, raw) in split_spans(self.text, whole, b';').enumerate() {
            if let Some(tok) = self.piece(raw, i) {
                self.element(tok);
            }
        }
    }

    /// The `i`-th `;`-separated piece (raw span `raw`): an empty one is
    /// reported (R5); otherwise its trimmed token, to parse as an element.
    fn piece(&mut self, raw: Span, i: usize) -> Option<Tok<'t>> {
        let tok = trimmed(self.text, raw);
        // The last piece ends the text; the only one is also the first.
        let last = raw.end == self.text.len();
        let only = i == 0 && last;
        if tok.text.is_empty() {
            self.empty_element(raw, last, only);
            if self.opts.dialect == Dialect::Samply && !only {
                // samply keeps each empty segment as an empty path (R5).
                self.push(ElementKindRef::Dir { path: "", form: DirForm::Relative, maybe_store: false }, raw);
            }
            return None;
        }
        self.whitespace(tok, "element");
        Some(tok)
    }

    /// [`Parser::run`] natively: one scan finds `;` and `*` together, so an
    /// element's `*`-tokens are known when its end is (on the stack, up to
    /// [`INLINE_TOKENS`]); the same elements and tokens as splitting twice.
    fn run_one_scan(&mut self) {
        let text = self.text;
        let bytes = text.as_bytes();
        let blank = Tok { text: "", span: Span::default(), raw: Span::default() };
        let mut arr = [blank; INLINE_TOKENS];
        let (mut index, mut element_start, mut token_start, mut n) = (0, 0, 0, 0);
        loop {
            let found = bytes.get(token_start..).and_then(find_separator).map(|i| token_start + i);
            let token_end = found.unwrap_or(bytes.len());
            if let Some(slot) = arr.get_mut(n) {
                slot.raw = Span::new(token_start, token_end); // trimmed below
            }
            n += 1;
            if let Some(star) = found.filter(|&at| bytes.get(at) == Some(&b'*')) {
                token_start = star + 1;
                continue;
            }
            let raw = Span::new(element_start, token_end);
            if let Some(tok) = self.piece(raw, index) {
                match arr.get_mut(..n) {
                    Some(toks) => {
                        // Tokens are split from the trimmed element: the first starts
                        // and the last ends where it does.
                        let k = toks.len() - 1;
                        for (j, t) in toks.iter_mut().enumerate() {
                            let start = if j == 0 { tok.span.start } else { t.raw.start };
                            let end = if j == k { tok.span.end } else { t.raw.end };
                            *t = trimmed(text, Span::new(start, end));
                        }
                        self.element_tokens(tok, toks);
                    }
                    None => self.element(tok),
                }
            }
            let Some(semi) = found else { break };
            (index, element_start, token_start, n) = (index + 1, semi + 1, semi + 1, 0);
        }
    }

    fn push(&mut self, kind: ElementKindRef<'t>, span: Span) {
        // Only the count is kept: the caches are a prefix of the path's cache list.
        let caches = match kind {
            ElementKindRef::Dir { .. } | ElementKindRef::Chain(_) => self.out.caches.len(),
            _ => 0,
        };
        self.out.elements.push(ElementRef { kind, caches, span });
    }

    /// Appends a chain's stores to the flat store list.
    fn push_chain(
        &mut self,
        dll: &'t str,
        stores: impl IntoIterator<Item = StoreRef<'t>>,
        implicit_downstream: Option<ImplicitDownstream>,
        span: Span,
    ) {
        let start = self.out.stores.len();
        self.out.stores.extend(stores);
        let chain = ChainRef { dll, stores: start..self.out.stores.len(), implicit_downstream };
        self.push(ElementKindRef::Chain(chain), span);
    }

    fn diag(&mut self, d: DiagnosticRef<'t>) {
        self.out.diagnostics.push(d);
    }

    /// A problem without a related span.
    fn problem(&mut self, code: Code, span: Span, detail: Detail<'t>) {
        self.out.diagnostics.push(DiagnosticRef::new(code, span, detail));
    }

    /// An empty piece; `last` if it ends the text, `only` if it is the whole text.
    fn empty_element(&mut self, raw: Span, last: bool, only: bool) {
        if only {
            return; // An empty path is not an empty element.
        }
        // Delete the element and the `;` after it (or before it, for the last one).
        let del = if !last { Span::new(raw.start, raw.end + 1) } else { Span::new(raw.start.saturating_sub(1), raw.end) };
        self.problem(Code::EmptyElement, raw, Detail::EmptyElement { del });
    }

    fn whitespace(&mut self, tok: Tok<'_>, what: &'static str) {
        if tok.raw == tok.span || tok.text.is_empty() {
            return;
        }
        self.problem(Code::SurroundingWhitespace, tok.raw, Detail::Whitespace { what, inner: tok.span });
    }

    fn tokens(&mut self, tok: Tok<'_>) -> Vec<Tok<'t>> {
        let mut v = std::mem::take(&mut self.tok_buf);
        v.clear();
        v.extend(split_spans(self.text, tok.span, b'*').map(|raw| trimmed(self.text, raw)));
        v
    }

    fn element(&mut self, tok: Tok<'t>) {
        if NATIVE {
            // The usual element: its tokens on the stack, split in one pass.
            let mut arr = [Tok { text: "", span: Span::default(), raw: Span::default() }; INLINE_TOKENS];
            let mut pieces = split_spans(self.text, tok.span, b'*');
            let mut n = 0;
            for (slot, raw) in arr.iter_mut().zip(&mut pieces) {
                *slot = trimmed(self.text, raw);
                n += 1;
            }
            if pieces.next().is_none() {
                return self.element_tokens(tok, arr.get(..n).unwrap_or(&[]));
            }
        }
        let toks = self.tokens(tok);
        self.element_tokens(tok, &toks);
        self.tok_buf = toks; // keep the allocation for the next element
    }

    fn element_tokens(&mut self, tok: Tok<'t>, toks: &[Tok<'t>]) {
        let (first, rest) = match toks.split_first() {
            Some((f, r)) if !r.is_empty() => (*f, r),
            _ => return self.single(tok),
        };
        let is = |k: &str| eq_ignore_case(first.text, k);
        if is("srv") {
            self.whitespace(first, "keyword");
            self.chain(tok, SYMSRV_DLL, rest);
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
        let keyword = ["srv", "symsrv", "cache"].into_iter().find(|k| eq_ignore_case(tok.text, k));
        if let Some(keyword) = keyword {
            self.problem(Code::KeywordWithoutStar, tok.span, Detail::KeywordWithoutStar { text: tok.text, keyword });
            let raw = tok.text;
            match (self.opts.dialect, keyword) {
                // SOS refuses the element (R8).
                (Dialect::DotnetDiagnostics, _) => self.push(ElementKindRef::Invalid { raw, reason: "keyword without `*`" }, tok.span),
                // samply builds an empty chain for `srv` and drops `cache` (R8).
                (Dialect::Samply, "cache") => {}
                (Dialect::Samply, _) => self.push_chain(SYMSRV_DLL, [], None, tok.span),
                _ => self.push(ElementKindRef::Dir { path: raw, form: DirForm::Relative, maybe_store: false }, tok.span),
            }
            return;
        }
        if is_http_url(tok.text) {
            if self.opts.dialect == Dialect::Clrmd {
                let store = self.store(tok, Role::Upstream);
                let implicit = self.implicit_downstream(true);
                return self.push_chain(SYMSRV_DLL, [store], implicit, tok.span);
            }
            self.problem(Code::BareUrl, tok.span, Detail::BareUrl);
            return self.push(ElementKindRef::Invalid { raw: tok.text, reason: "bare URL outside srv*" }, tok.span);
        }
        let form = self.dir_checks(tok, "directory");
        self.push(ElementKindRef::Dir { path: tok.text, form, maybe_store: false }, tok.span);
    }

    /// Checks shared by plain directories, cache directories and directory stores.
    fn dir_checks(&mut self, tok: Tok<'t>, what: &'static str) -> DirForm {
        let (form, why) = winpath::classify(tok.text, self.opts.host);
        // One pass decides whether any of the rarer checks need to look closer.
        // `:` only matters as part of `<scheme>://` (the drive colon of `C:\` does not).
        let suspicious = suspicious(tok.text.as_bytes());
        if !suspicious {
            if let Some(why) = why {
                self.relative_path(tok, what, why);
            }
            return form;
        }
        if tok.text.contains('"') {
            self.problem(Code::QuotedPath, tok.span, Detail::QuotedPath { what, text: tok.text });
        } else if let Some((i, c)) = winpath::invalid_char(tok.text) {
            let at = tok.span.start + i;
            self.problem(Code::InvalidPathChars, Span::new(at, at + c.len_utf8()), Detail::InvalidPathChar { what, c });
        } else if other_scheme(tok.text).is_some() {
            self.problem(Code::UnsupportedScheme, tok.span, Detail::UnsupportedScheme { text: tok.text });
        } else if let Some(why) = why {
            self.relative_path(tok, what, why);
        }
        form
    }

    fn relative_path(&mut self, tok: Tok<'_>, what: &'static str, why: Relativity) {
        self.problem(Code::RelativePath, tok.span, Detail::RelativePath { what, why });
    }

    fn star_outside_keyword(&mut self, tok: Tok<'t>, first: Tok<'t>) {
        let typo = ["svr", "sv", "srvr", "server", "sym", "symsrv.dll", "srv:"].iter().any(|k| first.text.eq_ignore_ascii_case(k));
        self.problem(
            Code::StarOutsideKeyword,
            first.span,
            Detail::StarOutsideKeyword { first: first.text, typo, element_start: tok.span.start },
        );
        self.push(ElementKindRef::Invalid { raw: tok.text, reason: "`*` outside srv*/symsrv*/cache*" }, tok.span);
    }

    fn symsrv(&mut self, tok: Tok<'t>, rest: &[Tok<'t>]) {
        let Some((dll, stores)) = rest.split_first() else {
            return;
        };
        match self.opts.dialect {
            // samply takes the second token as the DLL, whatever it is (P53).
            Dialect::Samply if stores.is_empty() => return self.push_chain(dll.text, [], None, tok.span),
            // ClrMD ignores the DLL token and even accepts `symsrv*<url>` (R11).
            Dialect::Clrmd if is_http_url(dll.text) => return self.chain(tok, SYMSRV_DLL, rest),
            _ => {}
        }
        let looks_like_dll =
            !dll.text.is_empty() && !has_scheme_separator(dll.text) && !dll.text.contains(['\\', '/', ':']) && !dll.text.contains('"');
        if !looks_like_dll {
            let reason = if dll.text.is_empty() {
                "missing DLL name"
            } else if stores.is_empty() {
                "second token must be a DLL name; no store tokens follow"
            } else {
                "second token must be a DLL name"
            };
            let detail = Detail::SymsrvMissingDll { dll: dll.text, no_stores: stores.is_empty(), element_start: tok.span.start };
            self.problem(Code::SymsrvMissingDll, dll.span, detail);
            return self.push(ElementKindRef::Invalid { raw: tok.text, reason }, tok.span);
        }
        self.whitespace(*dll, "DLL name");
        if stores.is_empty() {
            self.problem(Code::ChainWithoutStores, tok.span, Detail::ChainWithoutStores { dll: dll.text });
            return self.push(ElementKindRef::Invalid { raw: tok.text, reason: "no store tokens" }, tok.span);
        }
        let name = if eq_ignore_case(dll.text, SYMSRV_DLL) { SYMSRV_DLL } else { dll.text };
        if name != SYMSRV_DLL {
            self.problem(Code::ThirdPartyDll, dll.span, Detail::ThirdPartyDll { dll: dll.text });
        }
        self.chain(tok, name, stores);
    }

    fn store(&mut self, t: Tok<'t>, role: Role) -> StoreRef<'t> {
        let location = if t.text.is_empty() {
            StoreLocationRef::DefaultDownstream
        } else if is_http_url(t.text) {
            self.url_checks(t);
            StoreLocationRef::Http(t.text)
        } else if self.dir_checks(t, "store") == DirForm::Unc {
            StoreLocationRef::Unc(t.text)
        } else {
            StoreLocationRef::Dir(t.text)
        };
        StoreRef { role, location, implicit: None, span: t.span }
    }

    fn url_checks(&mut self, t: Tok<'t>) {
        // The default symbol server as written by nearly every path (any case)
        // passes every check below: natively, one comparison ([`NATIVE`]).
        if NATIVE && eq_ignore_case(t.text, DEFAULT_SYMBOL_SERVER) {
            return;
        }
        let url = match UrlParts::parse(t.text) {
            Ok(u) => u,
            Err(_) => return self.problem(Code::InvalidUrl, t.span, Detail::InvalidUrl { url: t.text }),
        };
        let msdl = url.is_msdl();
        if msdl && url.scheme == crate::url::Scheme::Http {
            self.problem(Code::MsdlPlainHttp, t.span, Detail::MsdlPlainHttp);
        }
        if msdl && !eq_ignore_case(url.path.trim_end_matches('/'), "/download/symbols") {
            let end = t.span.end;
            let path_start = end - url.path.len() - url.query.as_ref().map_or(0, |q| q.len() + 1);
            self.problem(Code::MsdlWrongPath, Span::new(path_start, end), Detail::MsdlWrongPath { path: url.path });
        }
        if url.username.is_some() {
            self.problem(Code::CredentialsInUrl, t.span, Detail::CredentialsInUrl);
        }
        if url.query.is_some() {
            self.problem(Code::UrlQueryString, t.span, Detail::UrlQueryString);
        }
    }

    fn chain(&mut self, tok: Tok<'t>, dll: &'t str, toks: &[Tok<'t>]) {
        let dialect = self.opts.dialect;
        // Bare `srv*`: one empty token (R18, disagreement D3).
        if let [only] = toks {
            if only.text.is_empty() {
                if dialect == Dialect::Samply {
                    self.problem(Code::ChainWithoutUpstream, tok.span, Detail::SamplyBareSrv);
                    let dds =
                        StoreRef { role: Role::Downstream, location: StoreLocationRef::DefaultDownstream, implicit: None, span: only.span };
                    return self.push_chain(dll, [dds], None, tok.span);
                }
                let server = StoreRef {
                    role: Role::Upstream,
                    location: StoreLocationRef::Http(DEFAULT_SYMBOL_SERVER),
                    implicit: Some(Implicit::DefaultSymbolServer),
                    span: only.span,
                };
                let implicit = self.implicit_downstream(true);
                return self.push_chain(dll, [server], implicit, tok.span);
            }
        }
        if dialect == Dialect::Samply {
            return self.samply_chain(tok, dll, toks);
        }
        if let (Dialect::DotnetDiagnostics, Some((last, init))) = (dialect, toks.split_last()) {
            if last.text.is_empty() && !init.is_empty() {
                // SOS: a trailing empty token is the default server, the rest are caches (R19).
                let start = self.out.stores.len();
                for t in init {
                    let s = self.store(*t, Role::Downstream);
                    self.out.stores.push(s);
                }
                self.out.stores.push(StoreRef {
                    role: Role::Upstream,
                    location: StoreLocationRef::Http(DEFAULT_SYMBOL_SERVER),
                    implicit: Some(Implicit::DefaultSymbolServer),
                    span: last.span,
                });
                let chain = ChainRef { dll, stores: start..self.out.stores.len(), implicit_downstream: None };
                return self.push(ElementKindRef::Chain(chain), tok.span);
            }
        }
        for t in toks {
            self.whitespace(*t, "store");
        }
        // Each token is classified (and a URL parsed) once; roles come after.
        let n = toks.len();
        let start = self.out.stores.len();
        for t in toks {
            let s = self.store(*t, Role::Downstream);
            self.out.stores.push(s);
        }
        let end = self.out.stores.len();
        let stores = self.out.stores.get_mut(start..end).unwrap_or(&mut []);
        // Roles: the right-most token is upstream; a trailing run of HTTP tokens
        // are all upstream, tried in order (R22 recommendation).
        let http_run = stores.iter().rev().take_while(|s| s.location.is_http()).count();
        let first_upstream = n - http_run.max(1);
        for s in stores.iter_mut().skip(first_upstream) {
            s.role = Role::Upstream;
        }
        let misplaced_http = stores.iter().take(first_upstream).any(|s| s.location.is_http());

        // HTTP store followed by a non-HTTP store (R22).
        if misplaced_http {
            let region = Span::new(toks.first().map_or(tok.span.end, |t| t.span.start), toks.last().map_or(tok.span.end, |t| t.span.end));
            for t in toks.iter().take(first_upstream).filter(|t| is_http_url(t.text)) {
                self.problem(Code::HttpStoreNotLast, t.span, Detail::HttpStoreNotLast { stores: region.slice(self.text), region });
            }
        }
        if http_run > 1 && dialect != Dialect::Clrmd {
            let first_http = toks.get(first_upstream).map_or(tok.span, |t| t.span);
            let detail = Detail::MultipleHttpStores {
                element: tok.text,
                element_start: tok.span.start,
                stores_at: toks.first().map_or(0, |t| t.span.start - tok.span.start),
                first_upstream,
                http_run,
            };
            self.problem(Code::MultipleHttpStores, Span::new(first_http.start, tok.span.end), detail);
        }
        if n > 10 {
            self.problem(Code::TooManyStores, tok.span, Detail::TooManyStores { n });
        }
        if n >= 2 {
            if let Some(last) = toks.last().filter(|t| t.text.is_empty()) {
                let span = Span::new(last.span.start.saturating_sub(1), last.span.end);
                self.problem(Code::TrailingStar, span, Detail::TrailingStar);
            }
        }
        if n >= 2 {
            self.duplicate_stores(start..end);
        }
        // Every store is HTTP when the trailing run is the whole chain.
        let implicit_downstream = self.implicit_downstream(http_run == n);
        self.push(ElementKindRef::Chain(ChainRef { dll, stores: start..end, implicit_downstream }), tok.span);
    }

    /// samply (mstange/symsrv): URLs (matched case-sensitively, R9) are servers
    /// tried in order, everything else a cache, whatever the position (P42).
    fn samply_chain(&mut self, tok: Tok<'t>, dll: &'t str, toks: &[Tok<'t>]) {
        let is_url = |t: &str| t.starts_with("https://") || t.starts_with("http://");
        let host = self.opts.host;
        let caches = toks.iter().filter(|t| !is_url(t.text)).map(|t| {
            let location = match t.text {
                "" => StoreLocationRef::DefaultDownstream,
                p if winpath::classify(p, host).0 == DirForm::Unc => StoreLocationRef::Unc(p),
                p => StoreLocationRef::Dir(p),
            };
            StoreRef { role: Role::Downstream, location, implicit: None, span: t.span }
        });
        let urls = toks.iter().filter(|t| is_url(t.text)).map(|t| StoreRef {
            role: Role::Upstream,
            location: StoreLocationRef::Http(t.text),
            implicit: None,
            span: t.span,
        });
        let start = self.out.stores.len();
        self.out.stores.extend(caches.chain(urls));
        let chain = ChainRef { dll, stores: start..self.out.stores.len(), implicit_downstream: None };
        if !toks.iter().any(|t| is_url(t.text)) {
            self.problem(Code::ChainWithoutUpstream, tok.span, Detail::SamplyNoUrl);
        }
        self.push(ElementKindRef::Chain(chain), tok.span);
    }

    /// R21: symsrv copies HTTP hits into a downstream store; with none named
    /// (and no `cache*` in force) it uses the default downstream store.
    fn implicit_downstream(&self, all_http: bool) -> Option<ImplicitDownstream> {
        let emulates = matches!(self.opts.dialect, Dialect::Dbgeng | Dialect::Clrmd);
        (emulates && all_http && self.out.caches.is_empty()).then_some(ImplicitDownstream::DefaultDownstream)
    }

    fn cache(&mut self, tok: Tok<'t>, rest: &[Tok<'t>]) {
        let Some((dir, extra)) = rest.split_first() else {
            return;
        };
        self.whitespace(*dir, "cache directory");
        let target = if dir.text.is_empty() && self.opts.dialect == Dialect::Samply {
            CacheTargetRef::Dir("") // samply: `cache*` is an empty path, not the default (P65)
        } else if dir.text.is_empty() {
            CacheTargetRef::Default
        } else if is_http_url(dir.text) {
            self.problem(Code::CacheIsUrl, dir.span, Detail::CacheIsUrl { fix_from: Some(tok.span.start) });
            return self.push(ElementKindRef::Invalid { raw: tok.text, reason: "cache* names a URL" }, tok.span);
        } else {
            self.dir_checks(*dir, "cache directory");
            CacheTargetRef::Dir(dir.text)
        };
        self.push(ElementKindRef::Cache { target, target_span: dir.span }, tok.span);
        self.out.caches.push(target);
        if extra.is_empty() {
            return;
        }
        let extra_span = Span::new(dir.span.end, tok.span.end);
        if self.opts.dialect == Dialect::DotnetDiagnostics {
            // SOS adds every token as a cache (R33).
            for t in extra.iter().filter(|t| !t.text.is_empty()) {
                if is_http_url(t.text) {
                    self.problem(Code::CacheIsUrl, t.span, Detail::CacheIsUrl { fix_from: None });
                    continue;
                }
                self.dir_checks(*t, "cache directory");
                let target = CacheTargetRef::Dir(t.text);
                self.push(ElementKindRef::Cache { target, target_span: t.span }, t.span);
                self.out.caches.push(target);
            }
            return;
        }
        if self.opts.dialect == Dialect::Clrmd && extra.iter().all(|t| is_http_url(t.text)) {
            let start = self.out.stores.len();
            for t in extra {
                let s = self.store(*t, Role::Upstream);
                self.out.stores.push(s);
            }
            let span = Span::new(extra.first().map_or(extra_span.start, |t| t.span.start), tok.span.end);
            let chain = ChainRef { dll: SYMSRV_DLL, stores: start..self.out.stores.len(), implicit_downstream: None };
            return self.push(ElementKindRef::Chain(chain), span);
        }
        self.problem(Code::CacheExtraTokens, extra_span, Detail::CacheExtraTokens { extra: extra_span.slice(self.text) });
    }

    fn cross_element_checks(&mut self) {
        // cache* with nothing to its right (R35).
        let mut seen_target = false;
        let mut useless = Vec::new();
        for e in self.out.elements.iter().rev() {
            match e.kind {
                ElementKindRef::Dir { .. } | ElementKindRef::Chain(_) => seen_target = true,
                ElementKindRef::Cache { .. } if !seen_target => useless.push(e.span),
                _ => {}
            }
        }
        for span in useless.into_iter().rev() {
            self.problem(Code::CacheWithoutEffect, span, Detail::CacheWithoutEffect);
        }

        // Duplicate elements (R24: a later duplicate is only consulted after a miss of the same store).
        // Keys are views of the elements, compared as they stream and never built.
        let stores: &[StoreRef<'t>] = &self.out.stores;
        let elements: &[ElementRef<'t>] = &self.out.elements;
        let mut dups = Vec::new();
        // A directory used both as a plain directory and as a cache/downstream store:
        // stores look their directory up among the plain directories' keys.
        let mut reused = Vec::new();
        if elements.len() < 2 {
            // One element: nothing to repeat, no plain directory besides it.
        } else if NATIVE && elements.len() <= SMALL {
            // A few elements: pairwise, each key made once; no hash, no table.
            let mut keys = [Key::Invalid(""); SMALL];
            for (k, e) in keys.iter_mut().zip(elements) {
                *k = Key::of(&e.kind, stores);
            }
            let keys = keys.get(..elements.len()).unwrap_or(&[]);
            let span_of = |j: usize| elements.get(j).map(|f| f.span);
            for (i, (e, key)) in elements.iter().zip(keys).enumerate() {
                if let Some(first) = keys.get(..i).and_then(|ks| ks.iter().position(|k| k == key)).and_then(span_of) {
                    dups.push((e.span, first));
                }
            }
            // Only plain directories can be reused as stores.
            if keys.iter().any(|k| matches!(k, Key::Dir(_))) {
                store_dirs(elements, stores, |path, _, span, what| {
                    let key = Key::Dir(CompareKey::new(path));
                    if let Some(dir) = keys.iter().position(|k| *k == key).and_then(span_of) {
                        reused.push((span, dir, what));
                    }
                });
            }
        } else if !(NATIVE && elements.len() >= 2 * PART) {
            // One table. `duplicates_in_parts` would do the same with one part,
            // but its collected queries, counting sort and re-sorting cost
            // +1.5 KB gzip in the wasm build, which only ever takes this branch.
            // Each store's text is hashed once, and element hashes are made of store hashes.
            let store_hashes: Vec<u64> = stores.iter().map(|s| store_hash(s.location)).collect();
            let mut seen = Seen::with_capacity(elements.len());
            for (i, e) in elements.iter().enumerate() {
                let hash = element_hash(&e.kind, &store_hashes);
                let key = Key::of(&e.kind, stores);
                match seen.find(hash, |j| elements.get(j).is_some_and(|f| Key::of(&f.kind, stores) == key)) {
                    Some(first) => dups.push((e.span, elements.get(first).map_or(e.span, |f| f.span))),
                    None => seen.insert(hash, i),
                }
            }
            store_dirs(elements, stores, |path, store, span, what| {
                let key = Key::Dir(CompareKey::new(path));
                let hash = store.and_then(|i| store_hashes.get(i).copied()).unwrap_or_else(|| path_hash(path));
                let found = seen.find(dir_hash(hash), |j| elements.get(j).is_some_and(|f| Key::of(&f.kind, stores) == key));
                if let Some(dir) = found.and_then(|j| elements.get(j)) {
                    reused.push((span, dir.span, what));
                }
            });
        } else {
            // Many elements: the same in parts that fit in the cache.
            (dups, reused) = duplicates_in_parts(elements, stores);
        }
        for (span, first) in dups {
            let del = self.deletion_span(span);
            self.diag(DiagnosticRef::new(Code::DuplicateElement, span, Detail::DuplicateElement { del }).with_related(first));
        }
        for (span, dir, what) in reused {
            self.diag(DiagnosticRef::new(Code::DirReusedAsStore, span, Detail::DirReusedAsStore { what }).with_related(dir));
        }
    }

    /// The same store twice in one chain (R15). Pairwise for ordinary chains,
    /// hashed for pathological ones, so it stays linear.
    fn duplicate_stores(&mut self, range: std::ops::Range<usize>) {
        let stores = self.out.stores.get(range).unwrap_or(&[]);
        let mut found = Vec::new();
        if stores.len() < 2 {
            return;
        }
        if stores.len() <= DIRECT_STORES {
            // The usual chain: a handful of pairs, compared directly.
            for (i, s) in stores.iter().enumerate() {
                if let Some(first) = stores.iter().take(i).find(|f| same_store(f.location, s.location)) {
                    found.push((s.span, first.span));
                }
            }
        } else if stores.len() <= 16 {
            // Each store's comparison view made once, then pairwise.
            let mut keys = [StoreCmp::Default; 16];
            for (k, s) in keys.iter_mut().zip(stores) {
                *k = StoreCmp::of(s.location);
            }
            for (i, (s, key)) in stores.iter().zip(&keys).enumerate() {
                if let Some(first) = keys.get(..i).and_then(|ks| ks.iter().position(|k| k.same(key))).and_then(|j| stores.get(j)) {
                    found.push((s.span, first.span));
                }
            }
        } else if NATIVE && stores.len() >= 2 * PART {
            // A chain of thousands of stores: in parts that fit in the cache.
            let hashes: Vec<u64> = stores.iter().map(|s| store_hash(s.location)).collect();
            let same = |i: usize, j: usize| stores.get(i).zip(stores.get(j)).is_some_and(|(a, b)| same_store(a.location, b.location));
            let (firsts, _) = first_equal(&hashes, same, &[], |_, _| false);
            found.extend(firsts.into_iter().filter_map(|(i, j)| Some((stores.get(i)?.span, stores.get(j)?.span))));
        } else {
            // The element table's open addressing, keyed by store hashes.
            let mut seen = Seen::with_capacity(stores.len());
            for (i, s) in stores.iter().enumerate() {
                let hash = store_hash(s.location);
                match seen.find(hash, |j| stores.get(j).is_some_and(|f| same_store(f.location, s.location))).and_then(|j| stores.get(j)) {
                    Some(first) => found.push((s.span, first.span)),
                    None => seen.insert(hash, i),
                }
            }
        }
        for (span, first) in found {
            self.diag(DiagnosticRef::new(Code::DuplicateStore, span, Detail::DuplicateStore).with_related(first));
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

/// Up to this many elements, duplicates are found pairwise (no hash table;
/// natively only, [`NATIVE`]).
const SMALL: usize = 8;

/// Up to this many stores in a chain, they are compared pair by pair directly;
/// up to 16 through views made once ([`StoreCmp`]); beyond, through a hash map.
const DIRECT_STORES: usize = if cfg!(target_arch = "wasm32") { 16 } else { 4 };

/// Calls `f` with every cache directory and every directory store (UNC included):
/// the path, the store's index in the flat store list, its span and what it is.
fn store_dirs<'t>(elements: &[ElementRef<'t>], stores: &[StoreRef<'t>], mut f: impl FnMut(&'t str, Option<usize>, Span, &'static str)) {
    for e in elements {
        match &e.kind {
            ElementKindRef::Cache { target: CacheTargetRef::Dir(p), target_span } => f(p, None, *target_span, "cache"),
            ElementKindRef::Chain(c) => {
                for (i, s) in stores.iter().enumerate().take(c.stores.end).skip(c.stores.start) {
                    if let StoreLocationRef::Dir(path) | StoreLocationRef::Unc(path) = s.location {
                        f(path, Some(i), s.span, "symbol store");
                    }
                }
            }
            _ => {}
        }
    }
}

/// What two elements must share to count as the same (case-insensitive,
/// separator-insensitive): a view of the element, compared as it streams
/// ([`element_hash`] is its hash).
#[derive(Clone, Copy)]
enum Key<'p, 't> {
    Dir(CompareKey<'t>),
    Cache(Option<CompareKey<'t>>),
    Chain(&'t str, &'p [StoreRef<'t>]),
    Invalid(&'t str),
}

impl<'p, 't> Key<'p, 't> {
    fn of(kind: &ElementKindRef<'t>, stores: &'p [StoreRef<'t>]) -> Key<'p, 't> {
        match kind {
            ElementKindRef::Dir { path, .. } => Key::Dir(CompareKey::new(path)),
            ElementKindRef::Cache { target: CacheTargetRef::Default, .. } => Key::Cache(None),
            ElementKindRef::Cache { target: CacheTargetRef::Dir(p), .. } => Key::Cache(Some(CompareKey::new(p))),
            ElementKindRef::Chain(c) => Key::Chain(c.dll, stores.get(c.stores.clone()).unwrap_or(&[])),
            ElementKindRef::Invalid { raw, .. } => Key::Invalid(raw),
        }
    }
}

impl PartialEq for Key<'_, '_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Key::Dir(a), Key::Dir(b)) => a.same(*b),
            (Key::Cache(None), Key::Cache(None)) => true,
            (Key::Cache(Some(a)), Key::Cache(Some(b))) => a.same(*b),
            (Key::Chain(da, sa), Key::Chain(db, sb)) => {
                eq_ignore_case(da, db) && sa.len() == sb.len() && sa.iter().zip(sb.iter()).all(|(x, y)| same_store(x.location, y.location))
            }
            (Key::Invalid(a), Key::Invalid(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Key<'_, '_> {}

/// Combines two hashes (order matters).
fn combine(a: u64, b: u64) -> u64 {
    let mut h = StreamHash::default();
    h.word(a);
    h.word(b);
    h.finish()
}

/// The hash of a path's comparison key; Dir and UNC stores hash the same way.
fn path_hash(p: &str) -> u64 {
    let mut h = StreamHash::default();
    CompareKey::new(p).hash_into(&mut h);
    h.finish()
}

/// The hash of a plain directory element whose path hashes to `path_hash`.
fn dir_hash(path_hash: u64) -> u64 {
    combine(u64::from(b'd'), path_hash)
}

/// A hash of an element consistent with [`Key`]'s equality, made of the hashes of its stores.
fn element_hash(kind: &ElementKindRef<'_>, store_hashes: &[u64]) -> u64 {
    match kind {
        ElementKindRef::Dir { path, .. } => dir_hash(path_hash(path)),
        ElementKindRef::Cache { target: CacheTargetRef::Default, .. } => u64::from(b'c'),
        ElementKindRef::Cache { target: CacheTargetRef::Dir(p), .. } => combine(u64::from(b'C'), path_hash(p)),
        ElementKindRef::Chain(c) => {
            let mut h = StreamHash::default();
            h.byte(b's');
            hash_ascii_folded(c.dll.as_bytes(), &mut h);
            store_hashes.get(c.stores.clone()).unwrap_or(&[]).iter().for_each(|s| h.word(*s));
            h.finish()
        }
        ElementKindRef::Invalid { raw, .. } => {
            let mut h = StreamHash::default();
            h.byte(b'i');
            raw.bytes().for_each(|b| h.byte(b));
            h.finish()
        }
    }
}

/// Hashes bytes so that byte strings equal per `eq_ignore_ascii_case` hash the same
/// (ASCII strings eight bytes at a time).
fn hash_ascii_folded(b: &[u8], h: &mut StreamHash) {
    if b.is_ascii() {
        winpath::hash_folded_ascii(b, h);
    } else {
        b.iter().for_each(|b| h.byte(b.to_ascii_lowercase()));
    }
}

/// Duplicate elements and directories reused as stores (see
/// `cross_element_checks`) for a path of many elements, through
/// [`first_equal`]: `(element, first)` and `(store, directory, what)` spans.
#[inline(never)] // large paths only: kept out of the parse's hot loop
#[allow(clippy::type_complexity)]
fn duplicates_in_parts<'t>(elements: &[ElementRef<'t>], stores: &[StoreRef<'t>]) -> (Vec<(Span, Span)>, Vec<(Span, Span, &'static str)>) {
    let store_hashes: Vec<u64> = stores.iter().map(|s| store_hash(s.location)).collect();
    let hashes: Vec<u64> = elements.iter().map(|e| element_hash(&e.kind, &store_hashes)).collect();
    let mut queries = Vec::new();
    store_dirs(elements, stores, |path, store, span, what| {
        let hash = store.and_then(|i| store_hashes.get(i).copied()).unwrap_or_else(|| path_hash(path));
        queries.push((dir_hash(hash), path, span, what));
    });
    let query_hashes: Vec<u64> = queries.iter().map(|q| q.0).collect();
    let key_of = |j: usize| elements.get(j).map(|f| Key::of(&f.kind, stores));
    let (firsts, found) = first_equal(
        &hashes,
        |i, j| key_of(i).is_some_and(|k| key_of(j) == Some(k)),
        &query_hashes,
        |q, j| queries.get(q).is_some_and(|(_, path, _, _)| key_of(j) == Some(Key::Dir(CompareKey::new(path)))),
    );
    let span_of = |j: usize| elements.get(j).map(|f| f.span);
    let dups = firsts.into_iter().filter_map(|(i, first)| Some((span_of(i)?, span_of(first)?))).collect();
    let reused = found
        .into_iter()
        .filter_map(|(q, j)| {
            let (_, _, span, what) = queries.get(q)?;
            Some((*span, span_of(j)?, *what))
        })
        .collect();
    (dups, reused)
}

/// Index pairs: `(item, first)` or `(query, item)`.
type Pairs = Vec<(usize, usize)>;

/// Elements per part in [`first_equal`]: a part's table (8 bytes a slot,
/// half full) then takes 64 KiB, which a core's cache holds.
const PART: usize = 4096;

/// For each item (by `hashes`), the first earlier item equal to it per
/// `same`, and for each query (by `query_hashes`), the first item it equals
/// per `query_is`: `(item, first)` and `(query, item)` pairs, in order.
/// Equal things must hash the same.
///
/// A table for a large path does not fit in the cache, and a lookup in it
/// then costs a miss to memory: on a 4 MiB path it took 4× as long per
/// element as on a 1 MiB path. So the items and queries are first
/// split by the top bits of their hash into parts of about [`PART`] items
/// (a stable counting sort, sequential), and each part is looked up in its
/// own small table: equal hashes fall into the same part, in their order.
fn first_equal(
    hashes: &[u64],
    same: impl Fn(usize, usize) -> bool,
    query_hashes: &[u64],
    query_is: impl Fn(usize, usize) -> bool,
) -> (Pairs, Pairs) {
    let bits = (hashes.len() / PART).max(1).next_power_of_two().trailing_zeros();
    let part = |h: u64| h.checked_shr(64 - bits).unwrap_or(0) as usize;
    let mut firsts = Vec::new();
    let mut found = Vec::new();
    let mut seen = Seen::with_capacity(0);
    let mut run = |items: &[(u64, u32)], queries: &[(u64, u32)]| {
        seen.reset(items.len());
        for &(hash, i) in items {
            let i = i as usize;
            match seen.find(hash, |j| same(i, j)) {
                Some(first) => firsts.push((i, first)),
                None => seen.insert(hash, i),
            }
        }
        for &(hash, q) in queries {
            let q = q as usize;
            if let Some(j) = seen.find(hash, |j| query_is(q, j)) {
                found.push((q, j));
            }
        }
    };
    let parts = 1usize << bits;
    let (items, item_starts) = by_part(hashes, parts, part);
    let (queries, query_starts) = by_part(query_hashes, parts, part);
    for p in 0..parts {
        let range = |starts: &[usize]| starts.get(p).copied().unwrap_or(0)..starts.get(p + 1).copied().unwrap_or(0);
        let mine = items.get(range(&item_starts)).unwrap_or(&[]);
        let theirs = queries.get(range(&query_starts)).unwrap_or(&[]);
        run(mine, theirs);
    }
    // Parts were visited one after another: back to the items' order.
    firsts.sort_unstable();
    found.sort_unstable();
    (firsts, found)
}

/// `hashes` with their indices, grouped by `part` (stable, each with its
/// hash so that a part is read in sequence), and where each part starts.
fn by_part(hashes: &[u64], parts: usize, part: impl Fn(u64) -> usize) -> (Vec<(u64, u32)>, Vec<usize>) {
    let mut starts = vec![0usize; parts + 1];
    for &h in hashes {
        if let Some(c) = starts.get_mut(part(h) + 1) {
            *c += 1;
        }
    }
    for p in 1..starts.len() {
        let before = starts.get(p - 1).copied().unwrap_or(0);
        if let Some(c) = starts.get_mut(p) {
            *c += before;
        }
    }
    let mut next = starts.clone();
    let mut order = vec![(0, 0); hashes.len()];
    for (&h, i) in hashes.iter().zip(0..) {
        if let Some(at) = next.get_mut(part(h)) {
            if let Some(slot) = order.get_mut(*at) {
                *slot = (h, i);
            }
            *at += 1;
        }
    }
    (order, starts)
}

/// Element indices by hash: open addressing over `(index + 1, high hash bits)`
/// pairs, so the table stays small (8 bytes a slot) and a lookup only looks at
/// an element when 32 bits of its hash match.
struct Seen {
    slots: Vec<(u32, u32)>,
    mask: usize,
}

impl Seen {
    fn with_capacity(n: usize) -> Seen {
        let size = (n.max(4) * 2).next_power_of_two();
        Seen { slots: vec![(0, 0); size], mask: size - 1 }
    }

    /// Empties the table and sizes it for `n` indices.
    fn reset(&mut self, n: usize) {
        let size = (n.max(4) * 2).next_power_of_two();
        self.slots.clear();
        self.slots.resize(size, (0, 0));
        self.mask = size - 1;
    }

    fn find(&self, hash: u64, mut is: impl FnMut(usize) -> bool) -> Option<usize> {
        let tag = (hash >> 32) as u32;
        let mut at = hash as usize & self.mask;
        loop {
            match self.slots.get(at) {
                Some(&(0, _)) | None => return None,
                Some(&(idx, t)) if t == tag && is(idx as usize - 1) => return Some(idx as usize - 1),
                Some(_) => at = (at + 1) & self.mask,
            }
        }
    }

    /// Inserts an index not yet in the table (at most the capacity given).
    fn insert(&mut self, hash: u64, index: usize) {
        let tag = (hash >> 32) as u32;
        let mut at = hash as usize & self.mask;
        while let Some(slot) = self.slots.get_mut(at) {
            if slot.0 == 0 {
                *slot = (index as u32 + 1, tag);
                return;
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// Hashes a store so that stores equal per [`same_store`] hash the same:
/// URLs case-insensitive without trailing `/`, paths per [`CompareKey`].
fn store_hash(loc: StoreLocationRef<'_>) -> u64 {
    match loc {
        StoreLocationRef::Http(url) => {
            let mut h = StreamHash::default();
            h.byte(b'h');
            hash_ascii_folded(url.trim_end_matches('/').as_bytes(), &mut h);
            h.finish()
        }
        StoreLocationRef::DefaultDownstream => u64::from(b'-'),
        StoreLocationRef::Dir(p) | StoreLocationRef::Unc(p) => path_hash(p),
    }
}

/// A store location as [`same_store`] compares it, made once.
#[derive(Clone, Copy)]
enum StoreCmp<'t> {
    Http(&'t str),
    Default,
    /// The path, its key and the key's fingerprint.
    Path(&'t str, CompareKey<'t>, Option<(usize, u64)>),
}

impl<'t> StoreCmp<'t> {
    fn of(loc: StoreLocationRef<'t>) -> StoreCmp<'t> {
        match loc {
            StoreLocationRef::Http(u) => StoreCmp::Http(u.trim_end_matches('/')),
            StoreLocationRef::DefaultDownstream => StoreCmp::Default,
            StoreLocationRef::Dir(p) | StoreLocationRef::Unc(p) => {
                let key = CompareKey::new(p);
                StoreCmp::Path(p, key, key.fingerprint())
            }
        }
    }

    fn same(&self, other: &StoreCmp<'_>) -> bool {
        match (self, other) {
            (StoreCmp::Http(x), StoreCmp::Http(y)) => eq_ignore_case(x, y),
            (StoreCmp::Default, StoreCmp::Default) => true,
            (StoreCmp::Path(x, a, fa), StoreCmp::Path(y, b, fb)) => match (fa, fb) {
                // Both ASCII with the same prefix: the fingerprints decide unequal keys.
                (Some((pa, ha)), Some((pb, hb))) if pa == pb && ha != hb => false,
                _ => eq_ignore_case(x, y) || a.same(*b),
            },
            _ => false,
        }
    }
}

fn same_store(a: StoreLocationRef<'_>, b: StoreLocationRef<'_>) -> bool {
    match (a, b) {
        (StoreLocationRef::Http(x), StoreLocationRef::Http(y)) => eq_ignore_case(x.trim_end_matches('/'), y.trim_end_matches('/')),
        (StoreLocationRef::DefaultDownstream, StoreLocationRef::DefaultDownstream) => true,
        (StoreLocationRef::Dir(x) | StoreLocationRef::Unc(x), StoreLocationRef::Dir(y) | StoreLocationRef::Unc(y)) => {
            eq_ignore_case(x, y) || CompareKey::new(x).same(CompareKey::new(y))
        }
        _ => false,
    }
}

/// [`DIR_BYTES`]: a byte that needs no closer look.
const PLAIN: u8 = 0;
/// [`DIR_BYTES`]: a byte that makes [`Parser::dir_checks`] look closer.
const RARE: u8 = 1;
/// [`DIR_BYTES`]: `:`, which only matters as part of `://`.
const COLON: u8 = 2;

/// The class of every byte for [`suspicious`]: control characters, `"`, `<`,
/// `>`, `|`, `?` and everything that is not ASCII are rare.
// Evaluated at compile time: an index out of bounds would fail the build, never panic.
#[allow(clippy::indexing_slicing)]
const DIR_BYTES: [u8; 256] = {
    let mut t = [RARE; 256];
    let mut c = 0x20;
    while c < 0x7f {
        t[c as usize] = match c {
            b'"' | b'<' | b'>' | b'|' | b'?' => RARE,
            b':' => COLON,
            _ => PLAIN,
        };
        c += 1;
    }
    t
};

/// Whether a directory needs the rarer checks: a rare byte or `://`, eight
/// bytes at a time, then the last few through a table.
fn suspicious(b: &[u8]) -> bool {
    if !NATIVE {
        return suspicious_compact(b);
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let w = word(c);
        // A byte below 0x20 (exact for "any": borrows only reach bytes above
        // a true one), a byte of 0x80 or more, or one of the rare ASCII bytes.
        let ctrl = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let rare = [b'"', b'<', b'>', b'|', b'?', 0x7f].iter().fold(ctrl | (w & HIGH), |m, &r| m | eq_mask(w, r));
        if rare != 0 {
            return true;
        }
        // `:` only matters as part of `://` (the drive colon of `C:\` does not).
        let mut colons = eq_mask(w, b':');
        while colons != 0 {
            let i = at + (colons.trailing_zeros() / 8) as usize;
            if b.get(i + 1..i + 3) == Some(b"//") {
                return true;
            }
            colons &= colons - 1;
        }
        at += 8;
    }
    for (i, &c) in chunks.remainder().iter().enumerate() {
        match DIR_BYTES.get(usize::from(c)).copied().unwrap_or(RARE) {
            PLAIN => {}
            COLON if b.get(at + i + 1..at + i + 3) != Some(b"//") => {}
            _ => return true,
        }
    }
    false
}

/// [`suspicious`] without the table (see [`NATIVE`]).
fn suspicious_compact(b: &[u8]) -> bool {
    let rare = |c: u8| !(0x20..0x7f).contains(&c) || matches!(c, b'"' | b'<' | b'>' | b'|' | b'?');
    b.iter().enumerate().any(|(i, &c)| rare(c) || (c == b':' && b.get(i + 1..i + 3) == Some(b"//")))
}

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

#[cfg(test)]
mod byte_scan_tests {
    use super::*;

    /// The word-at-a-time scans agree with byte loops on every byte value and
    /// position (R1: `;` and `*` split the text; non-ASCII bytes never match).
    #[test]
    fn r1_word_scans_match_byte_loops() {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for len in 0..20 {
            for at in 0..len {
                for b in [b';', b'*', 0xbb, 0xaa, 0x3a, 0x00, 0xff, 0x2b] {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    if len > 3 {
                        v[len - 1] = b';';
                    }
                    inputs.push(v);
                }
            }
        }
        inputs.push((0..=255u8).collect());
        // Long runs: the counts are summed 31 words at a time.
        inputs.push(vec![b';'; 1000]);
        inputs.push(vec![b'*'; 777]);
        inputs.push(
            (0..5000u32)
                .map(|i| {
                    if i % 3 == 0 {
                        b';'
                    } else if i % 7 == 0 {
                        b'*'
                    } else {
                        b'x'
                    }
                })
                .collect(),
        );
        for v in &inputs {
            let naive = (v.iter().filter(|&&c| c == b';').count(), v.iter().filter(|&&c| c == b'*').count());
            assert_eq!(separators(v), naive, "{v:?}");
            for needle in [b';', b'*'] {
                assert_eq!(find_byte(v, needle), v.iter().position(|&c| c == needle), "{v:?}");
            }
        }
    }

    /// The table-driven directory scan agrees with the compact one on every
    /// byte value, alone and around `://` (SP103, SP108, SP405 look closer).
    #[test]
    fn table_scan_of_directories_matches_the_compact_one() {
        for b in 0..=255u8 {
            for v in [vec![b], vec![b'C', b, b'/', b'/'], vec![b'x', b':', b, b'/'], vec![b'a', b':', b'/', b]] {
                assert_eq!(suspicious(&v), suspicious_compact(&v), "{v:?}");
            }
        }
        for s in [r"C:\sym", "ftp://x", "a:/", "a:", "x://", r#"C:\a"b"#, r"\\s\é"] {
            assert_eq!(suspicious(s.as_bytes()), suspicious_compact(s.as_bytes()), "{s}");
        }
        // Words: every byte value at every position of 8- to 18-byte paths,
        // and `://` across word boundaries.
        for len in 8..19 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    assert_eq!(suspicious(&v), suspicious_compact(&v), "{v:?}");
                }
                for pat in [&b"://"[..], b":/", b"C:\\"] {
                    let mut v = vec![b'x'; len];
                    for (k, &p) in pat.iter().enumerate() {
                        if let Some(slot) = v.get_mut(at + k) {
                            *slot = p;
                        }
                    }
                    assert_eq!(suspicious(&v), suspicious_compact(&v), "{v:?}");
                }
            }
        }
    }
}

#[cfg(test)]
mod one_scan_tests {
    use super::*;

    fn parsed<'t>(text: &'t str, one_scan: bool) -> SymbolPathRef<'t> {
        let mut path = SymbolPathRef::empty(text);
        let mut p = Parser { text, opts: ParseOptions::default(), out: &mut path, tok_buf: Vec::new() };
        if one_scan {
            p.run_one_scan();
        } else {
            p.run_split();
        }
        p.cross_element_checks();
        path
    }

    /// R1, R5: the native one-scan split gives the elements, tokens and
    /// diagnostics of splitting on `;` then `*`, whitespace around tokens and
    /// elements included, past the inline tokens too.
    #[test]
    fn r1_one_scan_splits_as_splitting_twice() {
        let alphabet = [";", "*", " ", "\t", "srv", "cache", "C:\\s", "https://h/s", "x"];
        let mut inputs: Vec<String> = Vec::new();
        // Every string of up to four pieces, then longer ones made from them.
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for f in &frontier {
                for a in alphabet {
                    next.push(format!("{f}{a}"));
                }
            }
            inputs.extend(next.iter().cloned());
            frontier = next;
        }
        let long: Vec<String> = inputs.iter().step_by(97).map(|s| format!("{s}*{s};srv*a*b*c*d*e*f*g*h*i* {s} ;{s}")).collect();
        inputs.extend(long);
        for text in &inputs {
            assert_eq!(parsed(text, true), parsed(text, false), "{text:?}");
        }
    }
}

#[cfg(test)]
mod url_check_tests {
    use super::*;

    /// R16, SP401–SP406: the default symbol server, in any case, is a URL every
    /// check passes (what the native shortcut of `url_checks` assumes).
    #[test]
    fn r16_the_default_symbol_server_passes_every_url_check() {
        for url in [DEFAULT_SYMBOL_SERVER, "HTTPS://MSDL.MICROSOFT.COM/DOWNLOAD/SYMBOLS", "Https://Msdl.Microsoft.Com/Download/Symbols"] {
            let parts = UrlParts::parse(url).expect("a valid URL");
            assert_eq!(parts.scheme, crate::url::Scheme::Https, "{url}");
            assert!(parts.is_msdl() && eq_ignore_case(parts.path, "/download/symbols"), "{url}");
            assert!(parts.username.is_none() && parts.query.is_none(), "{url}");
            let text = format!(r"srv*C:\s*{url}");
            assert!(parse_borrowed(&text, &ParseOptions::default()).diagnostics.is_empty(), "{text}");
        }
        // Anything else is checked in full.
        for url in [
            "http://msdl.microsoft.com/download/symbols",
            "https://msdl.microsoft.com/download/symbol",
            "https://msdl.microsoft.com/download/symbols?x",
        ] {
            let text = format!(r"srv*C:\s*{url}");
            assert!(!parse_borrowed(&text, &ParseOptions::default()).diagnostics.is_empty(), "{text}");
        }
    }
}

#[cfg(test)]
mod duplicate_path_tests {
    use super::*;

    /// Directories that repeat every `period` with changes of case, separators
    /// and trailing separators, so duplicates are only equal by their keys.
    fn dir(i: usize, period: usize) -> String {
        let k = i % period;
        match i / period % 3 {
            0 => format!(r"C:\Sym\d{k}"),
            1 => format!(r"c:/SYM/D{k}/"),
            _ => format!(r"\\?\C:\sym\d{k}\"),
        }
    }

    fn codes(path: &SymbolPathRef<'_>, code: Code) -> Vec<(Span, Option<Span>)> {
        path.diagnostics.iter().filter(|d| d.code == code).map(|d| (d.span, d.related)).collect()
    }

    /// R15, R24, R25: chains of every length and paths of every element count
    /// (pair by pair, through views made once, through the hash table) report
    /// exactly the duplicates a naive comparison of `compare_key`s finds,
    /// each pointing at the first occurrence.
    #[test]
    fn r15_r24_r25_every_duplicate_path_agrees_with_compare_keys() {
        for n in 1..40 {
            for period in [1, 2, 3, 7, 100] {
                // One chain of n stores.
                let stores: Vec<String> = (0..n).map(|i| dir(i, period)).collect();
                let text = format!("srv*{}*https://h/s", stores.join("*"));
                let path = parse_borrowed(&text, &ParseOptions::default());
                let mut expected = Vec::new();
                let mut at = 4;
                let spans: Vec<Span> = stores
                    .iter()
                    .map(|s| {
                        let sp = Span::new(at, at + s.len());
                        at += s.len() + 1;
                        sp
                    })
                    .collect();
                for i in 0..n {
                    if let Some(j) = (0..i).find(|&j| winpath::compare_key(&stores[j]) == winpath::compare_key(&stores[i])) {
                        expected.push((spans[i], Some(spans[j])));
                    }
                }
                assert_eq!(codes(&path, Code::DuplicateStore), expected, "{text}");

                // n plain directories, then one store reusing the first directory.
                let text = format!("{};srv*{}*https://h/s", stores.join(";"), dir(0, period));
                let path = parse_borrowed(&text, &ParseOptions::default());
                let mut expected = Vec::new();
                for i in 0..n {
                    if let Some(j) = (0..i).find(|&j| winpath::compare_key(&stores[j]) == winpath::compare_key(&stores[i])) {
                        expected.push((spans[i].start - 4, spans[j].start - 4));
                    }
                }
                let got: Vec<(usize, usize)> =
                    codes(&path, Code::DuplicateElement).into_iter().map(|(s, r)| (s.start, r.map_or(usize::MAX, |r| r.start))).collect();
                assert_eq!(got, expected, "{text}");
                let reused = codes(&path, Code::DirReusedAsStore);
                assert_eq!(reused.len(), 1, "{text}");
                assert_eq!(reused[0].1.map(|r| r.start), Some(0), "{text}");
            }
        }
    }

    /// The parts of `first_equal` (many for ~40 000 items) give what one
    /// table gives: each item's first equal, each query's first item, in
    /// order; with a good hash and with one where different things collide.
    #[test]
    fn first_equal_by_parts_matches_a_naive_search() {
        fn mix(mut x: u64) -> u64 {
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        }
        for (n, modulus) in [(5, 3), (9_000, 2_000), (40_000, 15_000)] {
            let items: Vec<u64> = (0..n).map(|i| mix(i) % modulus).collect();
            let queries: Vec<u64> = (0..n / 2).map(|i| mix(i + 7) % (modulus * 2)).collect();
            for hash in [mix as fn(u64) -> u64, |k| mix(k % 97)] {
                let hashes: Vec<u64> = items.iter().map(|&k| hash(k)).collect();
                let query_hashes: Vec<u64> = queries.iter().map(|&k| hash(k)).collect();
                let (firsts, found) = first_equal(&hashes, |i, j| items[i] == items[j], &query_hashes, |q, j| queries[q] == items[j]);
                let mut first_of = std::collections::HashMap::new();
                let mut want_firsts = Vec::new();
                for (i, k) in items.iter().enumerate() {
                    match first_of.get(k) {
                        Some(&f) => want_firsts.push((i, f)),
                        None => {
                            first_of.insert(*k, i);
                        }
                    }
                }
                let want_found: Vec<(usize, usize)> =
                    queries.iter().enumerate().filter_map(|(q, k)| Some((q, *first_of.get(k)?))).collect();
                assert_eq!(firsts, want_firsts, "{n}");
                assert_eq!(found, want_found, "{n}");
            }
        }
    }

    /// R24, R25 on a path of 12 000 elements (its duplicate check runs in
    /// parts): every duplicate directory points at its first occurrence, and
    /// a store reusing a directory is found.
    #[test]
    fn r24_r25_duplicates_in_a_path_of_many_elements() {
        let dirs: Vec<String> =
            (0..12_000).map(|i| if i % 5 == 0 { format!(r"C:\D{}", i % 700) } else { format!(r"c:/d{}", i % 3_001) }).collect();
        let text = format!(r"{};srv*C:\d17*https://h/s", dirs.join(";"));
        let path = parse_borrowed(&text, &ParseOptions::default());
        let mut starts = Vec::new();
        let mut at = 0;
        for d in &dirs {
            starts.push(at);
            at += d.len() + 1;
        }
        let mut first_of = std::collections::HashMap::new();
        let mut expected = Vec::new();
        for (i, d) in dirs.iter().enumerate() {
            match first_of.get(&winpath::compare_key(d)) {
                Some(&f) => expected.push((starts[i], starts[f])),
                None => {
                    first_of.insert(winpath::compare_key(d), i);
                }
            }
        }
        assert!(expected.len() > 8_000, "{}", expected.len());
        let got: Vec<(usize, usize)> =
            codes(&path, Code::DuplicateElement).into_iter().map(|(s, r)| (s.start, r.map_or(usize::MAX, |r| r.start))).collect();
        assert_eq!(got, expected);
        let reused = codes(&path, Code::DirReusedAsStore);
        let first_d17 = first_of[&winpath::compare_key(r"c:\d17")];
        assert_eq!(reused.iter().map(|r| r.1.map(|s| s.start)).collect::<Vec<_>>(), vec![Some(starts[first_d17])]);
    }

    /// R15 in one chain of 12 000 stores (checked in parts): each repeated
    /// store points at its first occurrence.
    #[test]
    fn r15_duplicate_stores_in_a_chain_of_many_stores() {
        let stores: Vec<String> =
            (0..12_000).map(|i| if i % 3 == 0 { format!(r"C:\S{}", i % 1_000) } else { format!(r"c:/s{}", i % 5_000) }).collect();
        let text = format!("srv*{}*https://h/s", stores.join("*"));
        let path = parse_borrowed(&text, &ParseOptions::default());
        let mut at = 4;
        let mut first_of = std::collections::HashMap::new();
        let mut expected = Vec::new();
        for s in &stores {
            match first_of.get(&winpath::compare_key(s)) {
                Some(&f) => expected.push((Span::new(at, at + s.len()), Some(f))),
                None => {
                    first_of.insert(winpath::compare_key(s), Span::new(at, at + s.len()));
                }
            }
            at += s.len() + 1;
        }
        assert!(expected.len() > 5_000, "{}", expected.len());
        assert_eq!(codes(&path, Code::DuplicateStore), expected);
    }
}
