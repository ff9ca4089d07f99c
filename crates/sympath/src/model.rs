//! The normalized model of a symbol path (spec R1, R2).
//!
//! Serialized with serde, the model has exactly the shape of the spec's
//! `vectors/paths.tsv` (`type`, `path`, `form`, `cached_into`, `default`,
//! `dll`, `stores` with `role`, `kind`, `path`/`url`, `implicit`,
//! `implicit_downstream`) plus `span` fields.

use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::diagnostic::{Diagnostic, Severity};
use crate::span::Span;
use crate::winpath::DirForm;

/// The default symbol server (R41).
pub const DEFAULT_SYMBOL_SERVER: &str = "https://msdl.microsoft.com/download/symbols";

/// The DLL of `srv*` chains (R10).
pub const SYMSRV_DLL: &str = "symsrv.dll";

/// A parsed symbol path: its text, its elements in order, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct SymbolPath {
    /// The text that was parsed; all spans point into it.
    #[serde(skip)]
    pub text: String,
    /// Elements in search order; empty elements are not included (R5).
    pub elements: Vec<Element>,
    /// Problems, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl SymbolPath {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    /// The number of diagnostics of each severity: `(errors, warnings, infos)`.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.diagnostics.iter().fold((0, 0, 0), |(e, w, i), d| match d.severity {
            Severity::Error => (e + 1, w, i),
            Severity::Warning => (e, w + 1, i),
            Severity::Info => (e, w, i + 1),
        })
    }
}

/// One `;`-separated element. (TypeScript: declared by hand in lib.rs.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Element {
    /// What the element is.
    #[serde(flatten)]
    pub kind: ElementKind,
    /// The `cache*` directives to its left, which receive what it finds (R2, R29, R30).
    #[serde(skip_serializing_if = "CachedInto::is_empty")]
    pub cached_into: CachedInto,
    /// The element's text without surrounding whitespace.
    pub span: Span,
}

/// The kinds of elements (R1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ElementKind {
    /// A plain directory, searched with the flat layout (§6).
    Dir(DirElement),
    /// A `cache*` directive (§5).
    Cache(CacheElement),
    /// A `srv*` or `symsrv*<dll>*` chain (§4).
    Chain(Chain),
    /// Kept for diagnostics only; never used for lookup.
    Invalid(InvalidElement),
}

/// A plain directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct DirElement {
    /// The directory as written.
    pub path: String,
    /// How it is anchored.
    pub form: DirForm,
    /// Known to hold `pingme.txt` at its root: searched as a store (R55). Only
    /// set when the caller supplied file-system facts.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub maybe_store: bool,
}

/// What a `cache*` directive names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheTarget {
    /// `cache*` with nothing after it: the default symbol cache (R12).
    Default,
    /// `cache*<dir>`.
    Dir(String),
}

/// A `cache*` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheElement {
    /// The cache directory.
    pub target: CacheTarget,
    /// Span of the directory token (empty at the end of `cache*` for the default).
    pub target_span: Span,
}

impl Serialize for CacheElement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match &self.target {
            CacheTarget::Default => m.serialize_entry("default", &true)?,
            CacheTarget::Dir(p) => m.serialize_entry("path", p)?,
        }
        m.end()
    }
}

/// The `cache*` directives left of an element: a prefix of the path's cache
/// list, shared by all elements so that parsing stays linear however many
/// caches and elements a path has.
#[derive(Clone, Default)]
pub struct CachedInto {
    all: Arc<[CacheRef]>,
    len: usize,
}

impl CachedInto {
    /// The first `len` of `all`.
    pub fn new(all: Arc<[CacheRef]>, len: usize) -> CachedInto {
        let len = len.min(all.len());
        CachedInto { all, len }
    }

    /// Whether no cache is in force.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The caches, left to right.
    pub fn as_slice(&self) -> &[CacheRef] {
        self.all.get(..self.len).unwrap_or(&[])
    }
}

impl std::ops::Deref for CachedInto {
    type Target = [CacheRef];
    fn deref(&self) -> &[CacheRef] {
        self.as_slice()
    }
}

impl PartialEq for CachedInto {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for CachedInto {}

impl std::fmt::Debug for CachedInto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Serialize for CachedInto {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

/// A reference to a `cache*` directive in `cached_into`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheRef(pub CacheTarget);

impl Serialize for CacheRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            CacheTarget::Default => s.serialize_str("default_cache"),
            CacheTarget::Dir(p) => s.serialize_str(p),
        }
    }
}

/// A `srv*`/`symsrv*` chain of stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Chain {
    /// The symbol-server DLL (`symsrv.dll` for `srv*`).
    pub dll: String,
    /// Stores, left (checked first) to right (upstream).
    pub stores: Vec<Store>,
    /// A downstream store symsrv adds on its own (R21): set when every store is
    /// HTTP and no `cache*` is active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implicit_downstream: Option<ImplicitDownstream>,
}

impl Chain {
    /// Whether the chain uses symsrv.dll (and so has the semantics sympath emulates).
    pub fn is_symsrv(&self) -> bool {
        self.dll.eq_ignore_ascii_case(SYMSRV_DLL)
    }
}

/// The downstream store symsrv adds implicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum ImplicitDownstream {
    /// `<homedir>\sym` (R40).
    DefaultDownstream,
}

/// One store of a chain. (TypeScript: declared by hand in lib.rs.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Store {
    /// Downstream (receives copies) or upstream (the source).
    pub role: Role,
    /// Where the store is.
    #[serde(flatten)]
    pub location: StoreLocation,
    /// Set when the store was not written but filled in (bare `srv*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implicit: Option<Implicit>,
    /// The store's token (empty span for empty tokens and implicit stores).
    pub span: Span,
}

/// A store's role in its chain (R15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Left of the upstream store: receives copies of what is found to its right.
    Downstream,
    /// The right-most store (or one of several right-most HTTP alternatives).
    Upstream,
}

/// Where a store lives (R16).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoreLocation {
    /// A local or relative directory.
    Dir {
        /// As written.
        path: String,
    },
    /// `\\server\share\...`.
    Unc {
        /// As written.
        path: String,
    },
    /// `http://` or `https://`.
    Http {
        /// As written.
        url: String,
    },
    /// An empty token: the default downstream store, `<homedir>\sym` (R17).
    DefaultDownstream,
}

impl StoreLocation {
    /// Whether this is an HTTP store.
    pub fn is_http(&self) -> bool {
        matches!(self, StoreLocation::Http { .. })
    }

    /// The directory or URL as written (`None` for the default downstream store).
    pub fn as_written(&self) -> Option<&str> {
        match self {
            StoreLocation::Dir { path } | StoreLocation::Unc { path } => Some(path),
            StoreLocation::Http { url } => Some(url),
            StoreLocation::DefaultDownstream => None,
        }
    }
}

/// Why a store is implicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Implicit {
    /// Bare `srv*`: the default symbol server (R18).
    DefaultSymbolServer,
}

/// An element that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct InvalidElement {
    /// The element's text.
    pub raw: String,
    /// Why it cannot be used.
    pub reason: String,
}
