//! Human output: diagnostics rendered like rustc's (annotate-snippets), the
//! expansion as a numbered list, plans as ordered probes. Colour follows the
//! terminal: `anstream` strips it for pipes and when `NO_COLOR` is set.

use std::io::Write;

use annotate_snippets::{AnnotationKind, Group, Level, Patch, Renderer, Snippet};
use sympath::expand::Expanded;
use sympath::model::{CacheTarget, ElementKind, Implicit, StoreLocation};
use sympath::plan::{Check, CopyForm, LookupPlan, Source};
use sympath::Severity;

/// Renders every diagnostic of `exp` to stderr, then a one-line summary.
pub fn diagnostics(exp: &Expanded) {
    let text = exp.text.as_str();
    let mut report: Vec<Group<'_>> = Vec::new();
    for d in &exp.path.diagnostics {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Info => Level::INFO,
        };
        let mut snippet = Snippet::source(text).path("symbol path").annotation(AnnotationKind::Primary.span(d.span.range()));
        if let Some(r) = d.related {
            snippet = snippet.annotation(AnnotationKind::Context.span(r.range()).label("first here"));
        }
        let mut group = level.primary_title(d.message.as_str()).id(d.code.as_str()).element(snippet);
        if let Some(h) = &d.help {
            group = group.element(Level::HELP.message(h.as_str()));
        }
        report.push(group);
        if let Some(fix) = &d.fix {
            let patched = Snippet::source(text)
                .path("symbol path")
                .patches(fix.edits.iter().map(|e| Patch::new(e.span.range(), e.replacement.as_str())));
            report.push(Level::HELP.secondary_title(fix.title.as_str()).element(patched));
        }
    }
    let mut err = anstream::stderr();
    if !report.is_empty() {
        let _ = writeln!(err, "{}", Renderer::styled().render(&report));
    }
    let (e, w, i) = exp.path.counts();
    if e + w + i > 0 {
        let _ = writeln!(err, "{e} error(s), {w} warning(s), {i} note(s)");
    }
}

/// Prints the expansion: canonical form, explicit form, and the elements.
pub fn expansion(exp: &Expanded) {
    let mut out = anstream::stdout();
    let _ = writeln!(out, "canonical: {}", exp.path);
    let _ = writeln!(out, "explicit:  {}", exp.explicit_text());
    for (i, e) in exp.path.elements.iter().enumerate() {
        let n = i + 1;
        let line = match &e.kind {
            ElementKind::Dir(d) => format!("directory {} ({}{})", d.path, d.form.as_str(), if d.maybe_store { ", store" } else { "" }),
            ElementKind::Cache(c) => match &c.target {
                CacheTarget::Default => format!("cache     {} (default symbol cache)", exp.defaults.symbol_cache),
                CacheTarget::Dir(p) => format!("cache     {p}"),
            },
            ElementKind::Chain(c) => {
                let mut stores: Vec<String> = Vec::new();
                if c.implicit_downstream.is_some() {
                    stores.push(format!("{} [implicit downstream]", exp.defaults.downstream_store));
                }
                for s in &c.stores {
                    let place = match (&s.implicit, &s.location) {
                        (Some(Implicit::DefaultSymbolServer), _) => format!("{} [default server]", exp.defaults.symbol_server),
                        (None, StoreLocation::DefaultDownstream) => format!("{} [default downstream]", exp.defaults.downstream_store),
                        (None, l) => l.as_written().unwrap_or("").to_string(),
                    };
                    stores.push(place);
                }
                format!("chain     {} -> {}", c.dll, stores.join(" -> "))
            }
            ElementKind::Invalid(inv) => format!("invalid   {} ({})", inv.raw, inv.reason),
        };
        let caches: Vec<&str> = e.cached_into.iter().map(|c| exp.cache_dir(&c.0)).collect();
        let _ = write!(out, "{n:>3}. {line}");
        if !caches.is_empty() {
            let _ = write!(out, "  [cached into {}]", caches.join(", "));
        }
        let _ = writeln!(out);
    }
}

/// Prints a plan as numbered probes.
pub fn plan(exp: &Expanded, p: &LookupPlan) {
    let mut out = anstream::stdout();
    let _ = writeln!(out, "key: {}", p.key.one_tier());
    if let Some(ext) = &p.ext {
        let _ = writeln!(out, "ext: {ext}");
    }
    for (i, pr) in p.probes.iter().enumerate() {
        let what = match (pr.check, pr.source) {
            (Check::Index2, _) => "index2?".to_string(),
            (Check::File, Source::Dir) => "dir".to_string(),
            (Check::File, Source::Fallback) => "fallback".to_string(),
            (Check::File, _) => format!("{:?}", pr.variant.unwrap_or(sympath::key::Variant::Plain)).to_lowercase(),
        };
        let el = pr.element.map_or("-".to_string(), |e| (e + 1).to_string());
        let _ = writeln!(out, "{:>3}. [el {el}] {what:<10} {}", i + 1, pr.location.as_str());
        if let Some(two) = &pr.two_tier {
            let _ = writeln!(out, "              two-tier: {}", two.as_str());
        }
        for c in &pr.on_hit {
            let form = match c.form {
                CopyForm::Expanded => "expanded",
                CopyForm::AsFound => "as found",
            };
            let cond = if c.only_if_compressed { ", if compressed" } else { "" };
            let _ = writeln!(out, "              on hit: copy into {} ({form}, {:?}{cond})", c.store, c.reason);
        }
    }
    for s in &p.skipped {
        let _ = writeln!(out, "skipped element {}: {}", s.element + 1, s.reason);
    }
    if p.probes.is_empty() {
        let _ = writeln!(out, "no probes: {}", if exp.path.elements.is_empty() { "the path is empty" } else { "no usable element" });
    }
}
