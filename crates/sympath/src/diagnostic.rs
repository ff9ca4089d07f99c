//! Diagnostics: stable codes, severities, spans, messages and machine-applicable fixes.
//!
//! Parsing never fails (spec R1/R3): every problem in a symbol path is reported
//! as a [`Diagnostic`] next to the elements that could be recovered. Codes are
//! stable: the CLI, the web page, the worker and the tests refer to them, and
//! `docs/diagnostics.md` lists every one of them (a test keeps it complete).

use serde::Serialize;

use crate::span::Span;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The element does not do what it looks like it does, or is ignored.
    Error,
    /// The element works but is risky, disputed, slow or likely unintended.
    Warning,
    /// Harmless noise that a tidy path would not contain.
    Info,
}

impl Severity {
    /// Lower-case name (`error`, `warning`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal, $sev:ident, $rule:literal; )*) => {
        /// Stable diagnostic codes. See `docs/diagnostics.md` for the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable code, e.g. `SP204`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// A stable kebab-case name, e.g. `http-store-not-last`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The severity this code is reported with.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }

            /// The spec rules (`R..`) this code enforces.
            pub fn rules(self) -> &'static str {
                match self { $(Code::$variant => $rule,)* }
            }

            /// Looks a code up by its `SPnnn` id or its kebab-case name.
            pub fn lookup(s: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(s) || c.name() == s)
            }
        }
    };
}

codes! {
    /// `;;`, a leading or a trailing `;`: the empty element is skipped.
    EmptyElement = "SP101", "empty-element", Info, "R5";
    /// Spaces or tabs around an element or a `*` token.
    SurroundingWhitespace = "SP102", "surrounding-whitespace", Info, "R6";
    /// Double quotes: there is no quoting in symbol paths.
    QuotedPath = "SP103", "quoted-path", Error, "R4";
    /// `srv`, `symsrv` or `cache` without `*` is a relative directory of that name.
    KeywordWithoutStar = "SP104", "keyword-without-star", Warning, "R8";
    /// A `*` in an element that does not start with `srv*`, `symsrv*` or `cache*`.
    StarOutsideKeyword = "SP105", "star-outside-keyword", Error, "R4, R8";
    /// An `http(s)://` element outside `srv*`: the debugger cannot use it.
    BareUrl = "SP106", "bare-url", Error, "R14";
    /// A relative (or drive-relative) directory: it depends on the debugger's current directory.
    RelativePath = "SP107", "relative-path", Warning, "R13";
    /// Characters that cannot occur in a Windows path (control characters, `<>|?`).
    InvalidPathChars = "SP108", "invalid-path-chars", Error, "R13, R83";
    /// `symsrv*` with no DLL name, or with something that is not a DLL name.
    SymsrvMissingDll = "SP201", "symsrv-missing-dll", Error, "R11";
    /// `symsrv*<dll>*` with a DLL other than symsrv.dll: an opaque third-party plug-in.
    ThirdPartyDll = "SP202", "third-party-dll", Warning, "R11";
    /// A chain with no store tokens at all (`symsrv*symsrv.dll`).
    ChainWithoutStores = "SP203", "chain-without-stores", Error, "R10, R11";
    /// A non-HTTP store to the right of an HTTP store: HTTP stores cannot be written.
    HttpStoreNotLast = "SP204", "http-store-not-last", Error, "R22";
    /// Several HTTP stores in one chain: symsrv supports one, right-most.
    MultipleHttpStores = "SP205", "multiple-http-stores", Warning, "R22";
    /// More than 10 stores in one chain (documented limit).
    TooManyStores = "SP206", "too-many-stores", Warning, "R15";
    /// A trailing `*` after a store: its meaning is disputed between sources.
    TrailingStar = "SP207", "trailing-star", Warning, "R19";
    /// The same store twice in one chain.
    DuplicateStore = "SP208", "duplicate-store", Warning, "R15";
    /// A chain that names no server or share to fetch from.
    ChainWithoutUpstream = "SP209", "chain-without-upstream", Warning, "R18";
    /// `cache*` with no element to its right: it caches nothing.
    CacheWithoutEffect = "SP301", "cache-without-effect", Warning, "R35";
    /// `cache*a*b`: only the first token is the cache directory.
    CacheExtraTokens = "SP302", "cache-extra-tokens", Warning, "R33";
    /// `cache*<url>`: a cache must be a writable directory.
    CacheIsUrl = "SP303", "cache-is-url", Error, "R29";
    /// One directory used both as a plain symbol directory and as a cache/downstream store.
    DirReusedAsStore = "SP304", "dir-reused-as-store", Warning, "R25, R36";
    /// `http://msdl.microsoft.com`: the public server is HTTPS-only (TLS 1.2+).
    MsdlPlainHttp = "SP401", "msdl-plain-http", Warning, "R41, R90";
    /// `user:password@` in a store URL.
    CredentialsInUrl = "SP402", "credentials-in-url", Warning, "R28";
    /// A query string on a store URL: keys must go before it.
    UrlQueryString = "SP403", "url-query-string", Warning, "R28, R84";
    /// A store URL without a host, with a bad port or with spaces.
    InvalidUrl = "SP404", "invalid-url", Error, "R16, R84";
    /// A URL scheme other than http/https in a chain: it would be read as a directory.
    UnsupportedScheme = "SP405", "unsupported-scheme", Error, "R16";
    /// The msdl host with a path other than `/download/symbols`.
    MsdlWrongPath = "SP406", "msdl-wrong-path", Warning, "R41, R89";
    /// The same element twice: the second one only costs time.
    DuplicateElement = "SP501", "duplicate-element", Warning, "R24";
    /// A directory from an environment variable that does not exist: the debugger ignores it.
    EnvDirMissing = "SP601", "env-dir-missing", Info, "R47";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One replacement of the text under `span` by `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct TextEdit {
    /// The bytes to replace (empty for an insertion).
    pub span: Span,
    /// The new text.
    pub replacement: String,
}

/// A machine-applicable fix: apply all edits (they never overlap) to the parsed text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Fix {
    /// What the fix does, imperative ("Use https").
    pub title: String,
    /// The edits, sorted by position, non-overlapping.
    pub edits: Vec<TextEdit>,
}

impl Fix {
    /// A fix made of one edit.
    pub fn replace(title: impl Into<String>, span: Span, replacement: impl Into<String>) -> Fix {
        Fix { title: title.into(), edits: vec![TextEdit { span, replacement: replacement.into() }] }
    }

    /// Applies the fix to `text` (the text that was parsed). Edits that do not
    /// fit the text are skipped, so a stale fix never panics.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for e in &self.edits {
            if e.span.start < at || text.get(at..e.span.start).is_none() || text.get(e.span.range()).is_none() {
                continue;
            }
            out.push_str(&text[at..e.span.start]);
            out.push_str(&e.replacement);
            at = e.span.end;
        }
        out.push_str(text.get(at..).unwrap_or(""));
        out
    }
}

/// A problem found in a symbol path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Diagnostic {
    /// Stable code.
    pub code: Code,
    /// Severity (derived from the code).
    pub severity: Severity,
    /// Where in the text.
    pub span: Span,
    /// What is wrong and why it matters.
    pub message: String,
    /// What to do about it, when there is more to say than the fix title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Another place that takes part (e.g. the first of two duplicates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<Span>,
    /// A machine-applicable fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// A diagnostic with the code's severity and no help, related span or fix.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic { code, severity: code.severity(), span, message: message.into(), help: None, related: None, fix: None }
    }

    /// Adds a help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a related span.
    pub fn with_related(mut self, related: Span) -> Self {
        self.related = Some(related);
        self
    }

    /// Adds a fix.
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}
