//! The skeleton of the result of sympath-wasm's `expand`, serialized for
//! the binding's decoder ([`crate::encode`]).
//!
//! `expand` returns the same object as the CLI's `expand --json` (same keys
//! and values; the keys in the order of the binding's `ExpandOutput`, where
//! the CLI sorts them) without sending it through one JSON string:
//! `JSON.parse` of that string was the largest part of a keystroke's
//! validation. Two things are left out of the skeleton: the path's text,
//! four times (`raw`, `text`, `canonical`, `explicit`), and each element's
//! `cached_into`, which repeats every cache to its left. The skeleton holds a
//! placeholder (`0`) for each of the four texts, so their keys keep their
//! places, and each `cached_into` that is a prefix of the path's longest cache
//! list as that prefix's length; the binding sets the values on the decoded
//! object.

use crate::encode::{self, to_wire, Wire};
use serde::Serialize;
use sympath::diagnostic::Diagnostic;
use sympath::expand::{Consumer, Defaults, Origin, Segment};
use sympath::model::CacheRef;
use sympath::{Element, ElementKind, Expanded, Span};

/// `Expanded` plus `canonical` and `explicit`, field for field in the order
/// of sympath-wasm's `ExpandOutput` (tests/skeleton.rs compares the filled-in
/// skeleton with `Expanded`'s own JSON, so a field added there and not here
/// fails), with placeholders for the values set afterwards.
#[derive(Serialize)]
struct Skeleton<'a> {
    raw: u8,
    text: u8,
    elements: Vec<ElementSkeleton<'a>>,
    diagnostics: &'a [Diagnostic],
    segments: &'a [Segment],
    origins: &'a [Origin],
    defaults: &'a Defaults,
    consumer: &'a Consumer,
    canonical: u8,
    explicit: u8,
}

/// An `Element` whose `cached_into` is, when it is a prefix of the path's
/// longest cache list, the prefix's length.
#[derive(Serialize)]
struct ElementSkeleton<'a> {
    #[serde(flatten)]
    kind: &'a ElementKind,
    #[serde(skip_serializing_if = "Caches::is_none")]
    cached_into: Caches<'a>,
    span: Span,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Caches<'a> {
    None,
    Prefix(usize),
    List(&'a [CacheRef]),
}

impl Caches<'_> {
    fn is_none(&self) -> bool {
        matches!(self, Caches::None)
    }
}

/// `e`'s `cached_into` as a prefix of `longest` where it is one.
fn caches<'a>(e: &'a Element, longest: &[CacheRef]) -> Caches<'a> {
    let mine = e.cached_into.as_slice();
    // Slices of one list share its start; compare values only otherwise.
    if mine.is_empty() {
        Caches::None
    } else if std::ptr::eq(mine.as_ptr(), longest.as_ptr()) || longest.starts_with(mine) {
        Caches::Prefix(mine.len())
    } else {
        Caches::List(mine)
    }
}

/// The skeleton of `expanded`'s result.
#[derive(Debug, Clone, PartialEq)]
pub struct Skeletons<'a> {
    /// The result with placeholders ([`crate::encode`]).
    pub wire: Wire,
    /// The longest cache list, which the numeric `cached_into` placeholders
    /// are prefixes of (empty without caches).
    pub caches: &'a [CacheRef],
}

/// The skeleton of `expanded`'s result (see the crate's documentation).
pub fn skeleton(expanded: &Expanded) -> Result<Skeletons<'_>, encode::Error> {
    let elements = &expanded.path.elements;
    let longest = elements.iter().map(|e| e.cached_into.as_slice()).max_by_key(|c| c.len()).unwrap_or(&[]);
    let skeleton = Skeleton {
        raw: 0,
        text: 0,
        elements: elements.iter().map(|e| ElementSkeleton { kind: &e.kind, cached_into: caches(e, longest), span: e.span }).collect(),
        diagnostics: &expanded.path.diagnostics,
        segments: &expanded.segments,
        origins: &expanded.origins,
        defaults: &expanded.defaults,
        consumer: &expanded.consumer,
        canonical: 0,
        explicit: 0,
    };
    Ok(Skeletons { wire: to_wire(&skeleton)?, caches: longest })
}
