//! A plain-English walk-through of an expanded symbol path, element by element.

use std::fmt;

use serde::Serialize;

use crate::expand::{Expanded, Origin};
use crate::model::*;
use crate::span::Span;
use crate::winpath::DirForm;

/// The explanation of one element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Item {
    /// Element index.
    pub element: usize,
    /// Its span in the expanded text.
    pub span: Span,
    /// The element in canonical form.
    pub text: String,
    /// One-line title ("Symbol server chain").
    pub title: String,
    /// Sentences, in the order things happen.
    pub lines: Vec<String>,
}

/// The explanation of a whole path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Explanation {
    /// One sentence about the whole path.
    pub summary: String,
    /// One item per element, in search order.
    pub items: Vec<Item>,
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn origin_note(o: Origin) -> Option<&'static str> {
    match o {
        Origin::AltEnv => Some("From _NT_ALT_SYMBOL_PATH."),
        Origin::NtEnv => Some("From _NT_SYMBOL_PATH."),
        Origin::SympathAdd => Some("Appended by .sympath+."),
        Origin::Symfix => Some("Added by .symfix."),
        Origin::Implicit => Some("Added by dbghelp itself: the current directory is searched first."),
        Origin::Given => None,
    }
}

/// Explains `exp`.
pub fn explain(exp: &Expanded) -> Explanation {
    let els = &exp.path.elements;
    let mut items = Vec::with_capacity(els.len());
    for (i, e) in els.iter().enumerate() {
        let caches: Vec<String> = e.cached_into.iter().map(|c| format!("`{}`", exp.cache_dir(&c.0))).collect();
        let mut lines = Vec::new();
        if let Some(note) = exp.origins.get(i).copied().and_then(origin_note) {
            lines.push(note.to_string());
        }
        let title = match &e.kind {
            ElementKind::Dir(d) => {
                if d.maybe_store {
                    lines.push(format!("`{}` holds pingme.txt, so it is searched as a read-only symbol store (name/id/name).", d.path));
                } else {
                    lines.push(format!(
                        "Looks for the file directly in `{0}`, then in `{0}\\<ext>` and `{0}\\symbols\\<ext>`, where <ext> is the image's extension (dll, exe, sys…). Not recursive; the GUID/age is checked after loading.",
                        d.path
                    ));
                }
                match d.form {
                    DirForm::Relative => lines.push("The path is relative: it depends on the debugger's current directory.".into()),
                    DirForm::Unc => lines.push("A network share: every miss costs a round trip.".into()),
                    _ => {}
                }
                "Plain directory".to_string()
            }
            ElementKind::Cache(c) => {
                let dir = exp.cache_dir(&c.target);
                let right = els.len() - i - 1;
                lines.push(format!("Searched first as a symbol store: `{dir}`."));
                if right == 0 {
                    lines.push("Nothing is to its right, so nothing gets cached here.".into());
                } else {
                    lines.push(format!(
                        "Every file found by the {right} element(s) to its right is copied here, so the next lookup is local."
                    ));
                }
                if c.target == CacheTarget::Default {
                    lines.push(format!("`cache*` alone means the default symbol cache, `{dir}`."));
                }
                "Cache directive".to_string()
            }
            ElementKind::Chain(c) if !c.is_symsrv() => {
                lines.push(format!("Handled by the third-party DLL `{}`; its meaning is defined by that DLL.", c.dll));
                "Third-party symbol server".to_string()
            }
            ElementKind::Chain(c) => {
                let mut names = Vec::new();
                if c.implicit_downstream.is_some() {
                    names.push(format!(
                        "`{}` (default downstream store, added because HTTP stores cannot be written)",
                        exp.defaults.downstream_store
                    ));
                }
                for s in &c.stores {
                    let place = match s.implicit {
                        Some(Implicit::DefaultSymbolServer) => format!("`{}` (the default symbol server)", exp.defaults.symbol_server),
                        None => match &s.location {
                            StoreLocation::DefaultDownstream => format!("`{}` (default downstream store)", exp.defaults.downstream_store),
                            other => format!("`{}`", other.as_written().unwrap_or("")),
                        },
                    };
                    names.push(place);
                }
                lines.push(format!("Checks, in order: {}.", list(&names)));
                let downstream =
                    c.stores.iter().filter(|s| s.role == Role::Downstream).count() + usize::from(c.implicit_downstream.is_some());
                if downstream > 0 {
                    lines.push("A file found further right is copied into every store to its left and opened from the left-most one; compressed files are expanded only there.".into());
                } else if c.stores.iter().all(|s| !s.location.is_http()) {
                    lines.push(
                        "A single store: files are opened in place (compressed ones are expanded into the default downstream store)."
                            .into(),
                    );
                }
                if c.stores.iter().filter(|s| s.location.is_http()).count() > 1 {
                    lines.push("Several HTTP stores: symsrv supports one per chain; other tools try them in order.".into());
                }
                "Symbol server chain".to_string()
            }
            ElementKind::Invalid(inv) => {
                lines.push(format!("Ignored: {}.", inv.reason));
                "Invalid element".to_string()
            }
        };
        if !caches.is_empty() && !matches!(e.kind, ElementKind::Invalid(_)) {
            lines.push(format!("What it finds is also copied into {} (cache* to its left).", list(&caches)));
        }
        items.push(Item { element: i, span: e.span, text: e.kind.to_string(), title, lines });
    }
    let (errors, warnings, _) = exp.path.counts();
    let summary = if els.is_empty() {
        "The symbol path is empty: the debugger only looks in the current directory.".to_string()
    } else {
        format!("{} element(s), searched left to right until the file is found; {} error(s), {} warning(s).", els.len(), errors, warnings)
    };
    Explanation { summary, items }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary)?;
        for it in &self.items {
            writeln!(f, "\n{}. {}: {}", it.element + 1, it.title, it.text)?;
            for l in &it.lines {
                writeln!(f, "   {l}")?;
            }
        }
        Ok(())
    }
}
