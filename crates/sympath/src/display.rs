//! The canonical form of a symbol path (`Display`).
//!
//! Keywords lower-case, whitespace and empty elements dropped, one `;` between
//! elements, stores as written. Invariant (property-tested):
//! `parse(format(parse(s)))` has the same elements as `parse(s)`.

use std::fmt::{self, Display, Formatter, Write};

use crate::model::*;

impl Display for SymbolPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, e) in self.elements.iter().enumerate() {
            if i > 0 {
                f.write_char(';')?;
            }
            e.kind.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for ElementKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ElementKind::Dir(d) => f.write_str(&d.path),
            ElementKind::Cache(c) => match &c.target {
                CacheTarget::Default => f.write_str("cache*"),
                CacheTarget::Dir(p) => write!(f, "cache*{p}"),
            },
            ElementKind::Chain(c) => c.fmt(f),
            ElementKind::Invalid(i) => f.write_str(&i.raw),
        }
    }
}

impl Display for Chain {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.is_symsrv() {
            f.write_str("srv")?;
        } else {
            write!(f, "symsrv*{}", self.dll)?;
        }
        for s in &self.stores {
            f.write_char('*')?;
            if s.implicit.is_none() {
                f.write_str(s.location.as_written().unwrap_or(""))?;
            }
        }
        Ok(())
    }
}
