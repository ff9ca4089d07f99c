//! The borrowed model: what [`crate::parse::parse_borrowed`] returns.
//!
//! The same elements, stores and caches as the owned [`SymbolPath`], but every
//! string is a slice of the parsed text (or a `'static` default such as
//! `symsrv.dll` or the default symbol server): parsing allocates the element,
//! store, cache and diagnostic vectors and nothing per element. The parser
//! never rewrites the text of an element, so no field needs an owned string;
//! comparison keys (case- and separator-insensitive, R24) are streamed by
//! [`crate::winpath::CompareKey`] and never built.
//!
//! The owned model (`SymbolPath`, `Element`, …, the serde/JSON shape of the
//! CLI, the wasm module and the worker) is made from this one by
//! [`SymbolPathRef::into_owned`]: there is one parser.

use std::ops::Range;
use std::sync::Arc;

use crate::diagnostic::Severity;
use crate::model::{
    CacheElement, CacheRef, CacheTarget, CachedInto, Chain, DirElement, Element, ElementKind, Implicit, ImplicitDownstream, InvalidElement,
    Role, Store, StoreLocation, SymbolPath, SYMSRV_DLL,
};
use crate::problem::DiagnosticRef;
use crate::span::Span;
use crate::winpath::DirForm;

/// A parsed symbol path that borrows its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolPathRef<'a> {
    /// The text that was parsed; all spans point into it.
    pub text: &'a str,
    /// Elements in search order; empty elements are not included (R5).
    pub elements: Elements<'a>,
    /// The stores of every chain, chain after chain ([`ChainRef::stores`] indexes it).
    pub stores: Stores<'a>,
    /// Every `cache*` directive's target, left to right ([`ElementRef::caches`] counts a prefix of it).
    pub caches: Caches<'a>,
    /// Problems, sorted by position; [`DiagnosticRef::render`] makes their text.
    pub diagnostics: Diagnostics<'a>,
}

// The vectors of a parsed path. Natively, the usual few items live inline
// (most paths have one to four elements, a chain two or three stores), so
// parsing a usual path allocates nothing; in WebAssembly they are `Vec`s, the
// smaller code. Both dereference to slices and share the methods the parser uses.

/// [`SymbolPathRef::elements`]: inline up to 4 natively.
#[cfg(not(target_arch = "wasm32"))]
pub type Elements<'a> = smallvec::SmallVec<[ElementRef<'a>; 4]>;
/// [`SymbolPathRef::stores`]: inline up to 4 natively.
#[cfg(not(target_arch = "wasm32"))]
pub type Stores<'a> = smallvec::SmallVec<[StoreRef<'a>; 4]>;
/// [`SymbolPathRef::caches`]: inline up to 2 natively.
#[cfg(not(target_arch = "wasm32"))]
pub type Caches<'a> = smallvec::SmallVec<[CacheTargetRef<'a>; 2]>;
/// [`SymbolPathRef::diagnostics`]: inline up to 2 natively.
#[cfg(not(target_arch = "wasm32"))]
pub type Diagnostics<'a> = smallvec::SmallVec<[DiagnosticRef<'a>; 2]>;
/// [`SymbolPathRef::elements`].
#[cfg(target_arch = "wasm32")]
pub type Elements<'a> = Vec<ElementRef<'a>>;
/// [`SymbolPathRef::stores`].
#[cfg(target_arch = "wasm32")]
pub type Stores<'a> = Vec<StoreRef<'a>>;
/// [`SymbolPathRef::caches`].
#[cfg(target_arch = "wasm32")]
pub type Caches<'a> = Vec<CacheTargetRef<'a>>;
/// [`SymbolPathRef::diagnostics`].
#[cfg(target_arch = "wasm32")]
pub type Diagnostics<'a> = Vec<DiagnosticRef<'a>>;

/// One `;`-separated element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementRef<'a> {
    /// What the element is.
    pub kind: ElementKindRef<'a>,
    /// How many `cache*` directives are to its left (the first `caches` of
    /// [`SymbolPathRef::caches`]); they receive what it finds (R2, R29, R30).
    pub caches: usize,
    /// The element's text without surrounding whitespace.
    pub span: Span,
}

/// The kinds of elements (R1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElementKindRef<'a> {
    /// A plain directory.
    Dir {
        /// The directory as written.
        path: &'a str,
        /// How it is anchored.
        form: DirForm,
        /// Known to hold `pingme.txt` (R55); only set from caller-supplied facts.
        maybe_store: bool,
    },
    /// A `cache*` directive.
    Cache {
        /// The cache directory.
        target: CacheTargetRef<'a>,
        /// Span of the directory token.
        target_span: Span,
    },
    /// A `srv*` or `symsrv*<dll>*` chain.
    Chain(ChainRef<'a>),
    /// Kept for diagnostics only.
    Invalid {
        /// The element's text.
        raw: &'a str,
        /// Why it cannot be used.
        reason: &'static str,
    },
}

/// What a `cache*` directive names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheTargetRef<'a> {
    /// `cache*` alone: the default symbol cache (R12).
    Default,
    /// `cache*<dir>`.
    Dir(&'a str),
}

/// A `srv*`/`symsrv*` chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRef<'a> {
    /// The symbol-server DLL (`symsrv.dll` for `srv*`).
    pub dll: &'a str,
    /// Its stores: a range of [`SymbolPathRef::stores`].
    pub stores: Range<usize>,
    /// The downstream store symsrv adds on its own (R21).
    pub implicit_downstream: Option<ImplicitDownstream>,
}

impl ChainRef<'_> {
    /// Whether the chain uses symsrv.dll.
    pub fn is_symsrv(&self) -> bool {
        crate::ascii::eq_ignore_case(self.dll, SYMSRV_DLL)
    }
}

/// One store of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreRef<'a> {
    /// Downstream or upstream.
    pub role: Role,
    /// Where the store is.
    pub location: StoreLocationRef<'a>,
    /// Set when the store was filled in (bare `srv*`).
    pub implicit: Option<Implicit>,
    /// The store's token.
    pub span: Span,
}

/// Where a store lives (R16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreLocationRef<'a> {
    /// A local or relative directory.
    Dir(&'a str),
    /// `\\server\share\...`.
    Unc(&'a str),
    /// `http://` or `https://`.
    Http(&'a str),
    /// An empty token: the default downstream store (R17).
    DefaultDownstream,
}

impl StoreLocationRef<'_> {
    /// Whether this is an HTTP store.
    pub fn is_http(&self) -> bool {
        matches!(self, StoreLocationRef::Http(_))
    }

    fn to_owned_location(self) -> StoreLocation {
        match self {
            StoreLocationRef::Dir(p) => StoreLocation::Dir { path: p.to_string() },
            StoreLocationRef::Unc(p) => StoreLocation::Unc { path: p.to_string() },
            StoreLocationRef::Http(u) => StoreLocation::Http { url: u.to_string() },
            StoreLocationRef::DefaultDownstream => StoreLocation::DefaultDownstream,
        }
    }
}

impl CacheTargetRef<'_> {
    fn to_owned_target(self) -> CacheTarget {
        match self {
            CacheTargetRef::Default => CacheTarget::Default,
            CacheTargetRef::Dir(p) => CacheTarget::Dir(p.to_string()),
        }
    }
}

impl<'a> SymbolPathRef<'a> {
    /// No elements yet: what [`crate::parse`] fills in.
    #[inline]
    pub(crate) fn empty(text: &'a str) -> SymbolPathRef<'a> {
        SymbolPathRef { text, elements: Elements::new(), stores: Stores::new(), caches: Caches::new(), diagnostics: Diagnostics::new() }
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity() == Severity::Error)
    }

    /// The stores of a chain.
    pub fn chain_stores(&self, chain: &ChainRef<'a>) -> &[StoreRef<'a>] {
        self.stores.get(chain.stores.clone()).unwrap_or(&[])
    }

    /// The `cache*` directives left of an element, left to right.
    pub fn cached_into(&self, element: &ElementRef<'a>) -> &[CacheTargetRef<'a>] {
        self.caches.get(..element.caches).unwrap_or(&self.caches)
    }

    /// The owned model (the serde/JSON shape), with a copy of the text.
    pub fn into_owned(self) -> SymbolPath {
        let all: Arc<[CacheRef]> = self.caches.iter().map(|c| CacheRef(c.to_owned_target())).collect();
        let elements = self
            .elements
            .iter()
            .map(|e| {
                let kind = match &e.kind {
                    ElementKindRef::Dir { path, form, maybe_store } => {
                        ElementKind::Dir(DirElement { path: path.to_string(), form: *form, maybe_store: *maybe_store })
                    }
                    ElementKindRef::Cache { target, target_span } => {
                        ElementKind::Cache(CacheElement { target: target.to_owned_target(), target_span: *target_span })
                    }
                    ElementKindRef::Chain(c) => ElementKind::Chain(Chain {
                        dll: c.dll.to_string(),
                        stores: self
                            .chain_stores(c)
                            .iter()
                            .map(|s| Store { role: s.role, location: s.location.to_owned_location(), implicit: s.implicit, span: s.span })
                            .collect(),
                        implicit_downstream: c.implicit_downstream,
                    }),
                    ElementKindRef::Invalid { raw, reason } => {
                        ElementKind::Invalid(InvalidElement { raw: raw.to_string(), reason: reason.to_string() })
                    }
                };
                let cached_into = if matches!(kind, ElementKind::Dir(_) | ElementKind::Chain(_)) && e.caches > 0 {
                    CachedInto::new(all.clone(), e.caches)
                } else {
                    CachedInto::default()
                };
                Element { kind, cached_into, span: e.span }
            })
            .collect();
        SymbolPath {
            text: self.text.to_string(),
            elements,
            diagnostics: self.diagnostics.into_iter().map(DiagnosticRef::into_diagnostic).collect(),
        }
    }
}
