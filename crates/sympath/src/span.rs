//! Byte spans into the symbol-path text that was parsed.

use serde::{Serialize, Serializer};

/// A half-open byte range `start..end` into the parsed text.
///
/// Spans always lie on UTF-8 character boundaries of the text they were
/// produced from, so `&text[span.range()]` never panics for that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// Creates a span; `end` is clamped so that it is never before `start`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end: end.max(start) }
    }

    /// An empty span at `at`.
    pub fn empty(at: usize) -> Self {
        Span { start: at, end: at }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The span as a `Range`, for slicing.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The text under the span, or `""` if it does not fit `text`.
    pub fn slice<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.range()).unwrap_or("")
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.start, self.end].serialize(s)
    }
}
