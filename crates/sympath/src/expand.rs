//! Expansion: environment variables, debugger commands and defaults (spec §7).
//!
//! The caller passes everything in: `_NT_SYMBOL_PATH` values, commands, the
//! default stores, and optional [`HostFacts`] (does this directory exist? is it
//! a store?). Nothing here reads the environment or the file system (R3).

use std::fmt::Write;
use std::str::FromStr;

use serde::Serialize;

use crate::diagnostic::Code;
use crate::problem::{Detail, DiagnosticRef};
use std::borrow::Cow;

use crate::borrowed::{ElementKindRef, SymbolPathRef};
use crate::model::*;
use crate::parse::{parse_into, ParseOptions};
use crate::span::Span;

/// Who combines the environment variables (R45, disagreement D2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Consumer {
    /// WinDbg/cdb/kd: `_NT_ALT_SYMBOL_PATH;_NT_SYMBOL_PATH`.
    #[default]
    Debugger,
    /// A dbghelp client calling `SymInitialize(NULL)`: `.;_NT_SYMBOL_PATH;_NT_ALT_SYMBOL_PATH`.
    Dbghelp,
}

/// The environment a debugger starts in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `_NT_SYMBOL_PATH`.
    pub nt_symbol_path: Option<String>,
    /// `_NT_ALT_SYMBOL_PATH` (`_NT_ALTERNATE_SYMBOL_PATH` for SymInitialize).
    pub alt_symbol_path: Option<String>,
    /// `-y <path>` on the command line: replaces the environment (R46).
    pub command_line: Option<String>,
    /// `-sins`: ignore the environment variables (R46).
    pub ignore_env: bool,
    /// Who combines them.
    pub consumer: Consumer,
}

/// The concrete places behind the defaults (R40, R41).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Defaults {
    /// The default downstream store, `<homedir>\sym`.
    pub downstream_store: String,
    /// The default symbol cache (`cache*` alone, `.symfix` without a directory).
    pub symbol_cache: String,
    /// The default symbol server.
    pub symbol_server: String,
}

impl Default for Defaults {
    /// WinDbg (Store version) as observed: `C:\ProgramData\Dbg\sym` and msdl over HTTPS.
    fn default() -> Self {
        Defaults {
            downstream_store: r"C:\ProgramData\Dbg\sym".into(),
            symbol_cache: r"C:\ProgramData\Dbg\sym".into(),
            symbol_server: DEFAULT_SYMBOL_SERVER.into(),
        }
    }
}

impl Defaults {
    /// The defaults with any of the three replaced. The server must be an
    /// http(s) URL (R16).
    pub fn with(
        downstream_store: Option<&str>,
        symbol_cache: Option<&str>,
        symbol_server: Option<&str>,
    ) -> Result<Defaults, crate::url::UrlError> {
        let mut d = Defaults::default();
        if let Some(v) = downstream_store {
            d.downstream_store = v.to_string();
        }
        if let Some(v) = symbol_cache {
            d.symbol_cache = v.to_string();
        }
        if let Some(v) = symbol_server {
            crate::url::UrlParts::parse(v)?;
            d.symbol_server = v.to_string();
        }
        Ok(d)
    }
}

/// A debugger command that changes the symbol path (R42, R44).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "command", content = "argument", rename_all = "snake_case")]
pub enum Command {
    /// `.sympath X`: replace.
    Sympath(String),
    /// `.sympath+ X`: append `;X`.
    SympathAdd(String),
    /// `.symfix [dir]`: replace with `cache*[dir];srv*`.
    Symfix(Option<String>),
    /// `.symfix+ [dir]`: append `;cache*[dir];srv*`.
    SymfixAdd(Option<String>),
}

/// A command line that is not one of the symbol-path commands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown command {0:?}: expected .sympath X, .sympath+ X, .symfix [dir] or .symfix+ [dir]")]
pub struct CommandError(pub String);

impl FromStr for Command {
    type Err = CommandError;

    /// Parses `.sympath X`, `.sympath+ X`, `.symfix [dir]`, `.symfix+ [dir]`
    /// (case-insensitive; the argument is the rest of the line, R44).
    fn from_str(s: &str) -> Result<Command, CommandError> {
        let t = s.trim();
        let (word, arg) = t.split_once(char::is_whitespace).map_or((t, ""), |(w, a)| (w, a.trim()));
        let opt = || (!arg.is_empty()).then(|| arg.to_string());
        match word.to_ascii_lowercase().as_str() {
            ".sympath" if !arg.is_empty() => Ok(Command::Sympath(arg.into())),
            ".sympath+" if !arg.is_empty() => Ok(Command::SympathAdd(arg.into())),
            ".symfix" => Ok(Command::Symfix(opt())),
            ".symfix+" => Ok(Command::SymfixAdd(opt())),
            _ => Err(CommandError(s.to_string())),
        }
    }
}

/// Facts about the host's file system that the caller may know (R47, R55).
pub trait HostFacts {
    /// Whether the directory exists; `None` if unknown.
    fn dir_exists(&self, _path: &str) -> Option<bool> {
        None
    }
    /// Whether the directory holds `pingme.txt` at its root; `None` if unknown.
    fn is_store_root(&self, _path: &str) -> Option<bool> {
        None
    }
}

/// Knows nothing: every fact is unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFacts;

impl HostFacts for NoFacts {}

/// Where a part of the expanded text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The path given directly (`.sympath`, `-y`, a pasted path).
    Given,
    /// `_NT_ALT_SYMBOL_PATH`.
    AltEnv,
    /// `_NT_SYMBOL_PATH`.
    NtEnv,
    /// Added by `.sympath+`.
    SympathAdd,
    /// Added by `.symfix`/`.symfix+`.
    Symfix,
    /// Added by the consumer itself (dbghelp's current directory).
    Implicit,
}

/// A piece of the expanded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Segment {
    /// Where it came from.
    pub origin: Origin,
    /// Its bytes in [`Expanded::text`].
    pub span: Span,
}

/// The symbol path after environment, commands and defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Expanded {
    /// The raw path as `.sympath` would store it (`.symfix` stores `srv*`).
    pub raw: String,
    /// The effective text that was parsed; spans point into it.
    pub text: String,
    /// Parsed elements and diagnostics.
    #[serde(flatten)]
    pub path: SymbolPath,
    /// Where each part of `text` came from.
    pub segments: Vec<Segment>,
    /// Origin of each element, parallel to `path.elements`.
    pub origins: Vec<Origin>,
    /// The defaults the path was expanded with.
    pub defaults: Defaults,
    /// Who combined the environment variables.
    pub consumer: Consumer,
}

/// Expands a path: starts from `given` (a pasted path or `.sympath` value) or,
/// when `None`, from the environment; applies `commands` in order; parses with
/// `opts`; applies `facts`.
///
/// The owned result of [`ExpandedText::new`] + [`ExpandedText::parse`].
pub fn expand(
    given: Option<&str>,
    env: &Environment,
    commands: &[Command],
    defaults: &Defaults,
    opts: &ParseOptions,
    facts: &dyn HostFacts,
) -> Expanded {
    ExpandedText::new(given, env, commands).parse(defaults, opts, facts).into_owned()
}

/// The first step of [`expand`]: the text to parse, and where its parts came
/// from. Borrows the given path when it is the whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedText<'a> {
    /// The raw path as `.sympath` would store it.
    pub raw: Cow<'a, str>,
    /// The effective text.
    pub text: Cow<'a, str>,
    /// Where each part of `text` came from.
    pub segments: Segments,
    /// Who combined the environment variables.
    pub consumer: Consumer,
}

/// The segments of an [`ExpandedText`]: one without a vector (a path given
/// alone), or several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segments {
    /// No text at all.
    None,
    /// The whole text has one origin.
    One(Segment),
    /// Parts joined with `;`.
    Many(Vec<Segment>),
}

impl Segments {
    /// The segments as a slice, in text order.
    pub fn as_slice(&self) -> &[Segment] {
        match self {
            Segments::None => &[],
            Segments::One(s) => std::slice::from_ref(s),
            Segments::Many(v) => v,
        }
    }
}

impl<'a> ExpandedText<'a> {
    /// Combines `given` (or the environment) and `commands` (R42–R46).
    pub fn new(given: Option<&'a str>, env: &'a Environment, commands: &'a [Command]) -> ExpandedText<'a> {
        if let (Some(g), []) = (given.or(env.command_line.as_deref()), commands) {
            // The common case, a given path alone: it is the text and the raw path.
            let segments =
                if g.is_empty() { Segments::None } else { Segments::One(Segment { origin: Origin::Given, span: Span::new(0, g.len()) }) };
            return ExpandedText { raw: Cow::Borrowed(g), text: Cow::Borrowed(g), segments, consumer: env.consumer };
        }
        // (origin, text, raw text): `.symfix` parses as `cache*…;srv*` but stores `srv*`.
        let mut parts: Vec<(Origin, Cow<'a, str>, &'a str)> = Vec::new();
        let add = |parts: &mut Vec<(Origin, Cow<'a, str>, &'a str)>, o: Origin, text: Cow<'a, str>, raw_text: &'a str| {
            if !text.is_empty() || !raw_text.is_empty() {
                parts.push((o, text, raw_text));
            }
        };
        if let Some(g) = given.or(env.command_line.as_deref()) {
            add(&mut parts, Origin::Given, Cow::Borrowed(g), g);
        } else if !env.ignore_env {
            let alt = env.alt_symbol_path.as_deref().unwrap_or("");
            let nt = env.nt_symbol_path.as_deref().unwrap_or("");
            match env.consumer {
                Consumer::Debugger => {
                    add(&mut parts, Origin::AltEnv, Cow::Borrowed(alt), alt);
                    add(&mut parts, Origin::NtEnv, Cow::Borrowed(nt), nt);
                }
                Consumer::Dbghelp => {
                    add(&mut parts, Origin::Implicit, Cow::Borrowed("."), ".");
                    add(&mut parts, Origin::NtEnv, Cow::Borrowed(nt), nt);
                    add(&mut parts, Origin::AltEnv, Cow::Borrowed(alt), alt);
                }
            }
        }
        for c in commands {
            match c {
                Command::Sympath(x) => {
                    parts.clear();
                    add(&mut parts, Origin::Given, Cow::Borrowed(x), x);
                }
                Command::SympathAdd(x) => add(&mut parts, Origin::SympathAdd, Cow::Borrowed(x), x),
                Command::Symfix(dir) | Command::SymfixAdd(dir) => {
                    if matches!(c, Command::Symfix(_)) {
                        parts.clear();
                    }
                    let text = format!("cache*{};srv*", dir.as_deref().unwrap_or(""));
                    add(&mut parts, Origin::Symfix, Cow::Owned(text), "srv*");
                }
            }
        }
        let mut raws = parts.iter().map(|p| p.2).filter(|t| !t.is_empty());
        let raw = match (raws.next(), raws.next()) {
            (None, _) => Cow::Borrowed(""),
            (Some(one), None) => Cow::Borrowed(one),
            _ => Cow::Owned(parts.iter().map(|p| p.2).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(";")),
        };
        let mut segments = Vec::new();
        let text_parts: Vec<&(Origin, Cow<'a, str>, &'a str)> = parts.iter().filter(|p| !p.1.is_empty()).collect();
        let text = match text_parts.as_slice() {
            [] => Cow::Borrowed(""),
            [(origin, t, _)] => {
                segments.push(Segment { origin: *origin, span: Span::new(0, t.len()) });
                t.clone()
            }
            many => {
                let mut text = String::with_capacity(many.iter().map(|p| p.1.len() + 1).sum());
                for (origin, t, _) in many {
                    if !text.is_empty() {
                        text.push(';');
                    }
                    let start = text.len();
                    text.push_str(t);
                    segments.push(Segment { origin: *origin, span: Span::new(start, text.len()) });
                }
                Cow::Owned(text)
            }
        };
        let segments = match segments.as_slice() {
            [] => Segments::None,
            [one] => Segments::One(*one),
            _ => Segments::Many(segments),
        };
        ExpandedText { raw, text, segments, consumer: env.consumer }
    }

    /// The second step of [`expand`]: parses the text with `opts` and applies
    /// `facts`, into the [borrowed model](crate::borrowed).
    // Natively the result keeps its usual items inline (`borrowed::Elements`):
    // inlined, it is made where the caller keeps it and parsed there, not moved.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub fn parse<'s>(&'s self, defaults: &'s Defaults, opts: &ParseOptions, facts: &dyn HostFacts) -> ExpandedRef<'s> {
        let segments = self.segments.as_slice();
        let mut out = ExpandedRef {
            raw: &self.raw,
            text: &self.text,
            path: SymbolPathRef::empty(&self.text),
            segments,
            origins: Origins::All(Origin::Given),
            defaults,
            consumer: self.consumer,
        };
        parse_into(&mut out.path, opts);
        out.origins = finish(&mut out.path, segments, facts);
        out
    }
}

/// After parsing: each element's origin, and the facts applied.
fn finish(path: &mut SymbolPathRef<'_>, segments: &[Segment], facts: &dyn HostFacts) -> Origins {
    let origin_at = |at: usize| segments.iter().find(|s| s.span.start <= at && at <= s.span.end).map_or(Origin::Given, |s| s.origin);
    // The implicit "." of dbghelp is not the user's relative path.
    if segments.iter().any(|s| s.origin == Origin::Implicit) {
        path.diagnostics.retain(|d| !(d.code == Code::RelativePath && origin_at(d.span.start) == Origin::Implicit));
    }
    let mut origins = match segments {
        [only] => Origins::All(only.origin),
        _ => Origins::Each(path.elements.iter().map(|e| origin_at(e.span.start)).collect()),
    };
    apply_facts(path, &mut origins, facts);
    origins
}

/// Where each element of an [`ExpandedRef`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// Every element (the text is one segment): no vector.
    All(Origin),
    /// One origin per element, parallel to `path.elements`.
    Each(Vec<Origin>),
}

impl Origins {
    /// The origin of element `i`.
    pub fn get(&self, i: usize) -> Origin {
        match self {
            Origins::All(o) => *o,
            Origins::Each(v) => v.get(i).copied().unwrap_or(Origin::Given),
        }
    }

    /// One origin per element, for `elements` elements.
    pub fn into_vec(self, elements: usize) -> Vec<Origin> {
        match self {
            Origins::All(o) => vec![o; elements],
            Origins::Each(v) => v,
        }
    }
}

/// [`Expanded`] in the borrowed model: what [`ExpandedText::parse`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedRef<'a> {
    /// The raw path as `.sympath` would store it.
    pub raw: &'a str,
    /// The effective text that was parsed; spans point into it.
    pub text: &'a str,
    /// Parsed elements and diagnostics.
    pub path: SymbolPathRef<'a>,
    /// Where each part of `text` came from.
    pub segments: &'a [Segment],
    /// Origin of each element.
    pub origins: Origins,
    /// The defaults the path was expanded with.
    pub defaults: &'a Defaults,
    /// Who combined the environment variables.
    pub consumer: Consumer,
}

impl ExpandedRef<'_> {
    /// The owned model (the serde/JSON shape).
    pub fn into_owned(self) -> Expanded {
        let n = self.path.elements.len();
        Expanded {
            raw: self.raw.to_string(),
            text: self.text.to_string(),
            path: self.path.into_owned(),
            segments: self.segments.to_vec(),
            origins: self.origins.into_vec(n),
            defaults: self.defaults.clone(),
            consumer: self.consumer,
        }
    }
}

fn apply_facts<'a>(path: &mut SymbolPathRef<'a>, origins: &mut Origins, facts: &dyn HostFacts) {
    // In place: only a dropped directory moves anything.
    let mut dropped = Vec::new();
    for (i, e) in path.elements.iter_mut().enumerate() {
        let ElementKindRef::Dir { path: dir, maybe_store, .. } = &mut e.kind else { continue };
        let from_env = matches!(origins.get(i), Origin::AltEnv | Origin::NtEnv);
        if from_env && facts.dir_exists(dir) == Some(false) {
            path.diagnostics.push(DiagnosticRef::new(Code::EnvDirMissing, e.span, Detail::EnvDirMissing { dir }));
            dropped.push(i);
            continue;
        }
        if facts.is_store_root(dir) == Some(true) {
            *maybe_store = true;
        }
    }
    if dropped.is_empty() {
        return;
    }
    let mut keep = vec![true; path.elements.len()];
    for i in dropped {
        if let Some(k) = keep.get_mut(i) {
            *k = false;
        }
    }
    let mut flags = keep.iter();
    path.elements.retain(|_| flags.next().copied().unwrap_or(true));
    if let Origins::Each(origins) = origins {
        let mut flags = keep.iter();
        origins.retain(|_| flags.next().copied().unwrap_or(true));
    }
    path.diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
}

impl Expanded {
    /// The directory a cache target stands for.
    pub fn cache_dir<'a>(&'a self, t: &'a CacheTarget) -> &'a str {
        match t {
            CacheTarget::Default => &self.defaults.symbol_cache,
            CacheTarget::Dir(p) => p,
        }
    }

    /// The directory or URL a store stands for, defaults resolved.
    pub fn store_place<'a>(&'a self, s: &'a StoreLocation) -> &'a str {
        s.as_written().unwrap_or(&self.defaults.downstream_store)
    }

    /// The path with every default made explicit: `cache*` → `cache*<dir>`,
    /// empty tokens → the default downstream store, bare `srv*` → the server,
    /// implicit downstream stores inserted. This is what will actually happen.
    pub fn explicit_text(&self) -> String {
        let mut out = String::new();
        for (i, e) in self.path.elements.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            match &e.kind {
                ElementKind::Cache(c) => {
                    let _ = write!(out, "cache*{}", self.cache_dir(&c.target));
                }
                ElementKind::Chain(c) => {
                    out.push_str(if c.is_symsrv() { "srv" } else { "symsrv*" });
                    if !c.is_symsrv() {
                        out.push_str(&c.dll);
                    }
                    if c.implicit_downstream.is_some() {
                        let _ = write!(out, "*{}", self.defaults.downstream_store);
                    }
                    for s in &c.stores {
                        let place = match (&s.implicit, &s.location) {
                            (Some(Implicit::DefaultSymbolServer), _) => &self.defaults.symbol_server,
                            (None, loc) => self.store_place(loc),
                        };
                        let _ = write!(out, "*{place}");
                    }
                }
                other => {
                    let _ = write!(out, "{other}");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r42_symfix_commands() {
        let c: Command = ".symfix c:\\myCache".parse().unwrap();
        assert_eq!(c, Command::Symfix(Some("c:\\myCache".into())));
        assert_eq!(".SYMFIX+".parse::<Command>().unwrap(), Command::SymfixAdd(None));
        assert_eq!(".sympath+ \\\\a;b".parse::<Command>().unwrap(), Command::SympathAdd("\\\\a;b".into()));
        assert!(".reload".parse::<Command>().is_err());
        let e = expand(Some(r"c:\someSymbols"), &Environment::default(), &[c], &Defaults::default(), &ParseOptions::default(), &NoFacts);
        assert_eq!(e.raw, "srv*");
        assert_eq!(e.text, "cache*c:\\myCache;srv*");
        assert_eq!(e.explicit_text(), "cache*c:\\myCache;srv*https://msdl.microsoft.com/download/symbols");
    }

    #[test]
    fn r45_borrowed_expansion_borrows_a_given_path_and_matches_the_owned_one() {
        let env = Environment::default();
        let given = r"cache*C:\c;srv*C:\s*https://msdl.microsoft.com/download/symbols;C:\d;c:/D/";
        let t = ExpandedText::new(Some(given), &env, &[]);
        assert!(matches!(t.text, Cow::Borrowed(_)) && matches!(t.raw, Cow::Borrowed(_)));
        let d = Defaults::default();
        let b = t.parse(&d, &ParseOptions::default(), &NoFacts);
        assert_eq!(b.path.elements.len(), 4);
        assert_eq!(b.path.cached_into(&b.path.elements[1]), &[crate::borrowed::CacheTargetRef::Dir(r"C:\c")]);
        let crate::borrowed::ElementKindRef::Chain(c) = &b.path.elements[1].kind else { panic!("a chain") };
        assert_eq!(b.path.chain_stores(c).len(), 2);
        let owned = expand(Some(given), &env, &[], &d, &ParseOptions::default(), &NoFacts);
        assert_eq!(b.into_owned(), owned);
        assert_eq!(owned.path.diagnostics.iter().filter(|d| d.code == Code::DuplicateElement).count(), 1);
        // With commands the text is built.
        let cmds = [Command::SympathAdd(r"\\s\x".into()), Command::SymfixAdd(None)];
        let t = ExpandedText::new(Some(given), &env, &cmds);
        assert!(matches!(t.text, Cow::Owned(_)));
        assert_eq!(
            t.parse(&d, &ParseOptions::default(), &NoFacts).into_owned(),
            expand(Some(given), &env, &cmds, &d, &ParseOptions::default(), &NoFacts)
        );
        assert_eq!(t.raw, format!(r"{given};\\s\x;srv*"));
    }

    #[test]
    fn r40_explicit_text_resolves_defaults() {
        let e = expand(
            Some("cache*;srv**\\\\s\\x;srv*https://h/s"),
            &Environment::default(),
            &[],
            &Defaults::default(),
            &ParseOptions::default(),
            &NoFacts,
        );
        assert_eq!(e.explicit_text(), r"cache*C:\ProgramData\Dbg\sym;srv*C:\ProgramData\Dbg\sym*\\s\x;srv*https://h/s");
        let e = expand(Some("srv*https://h/s"), &Environment::default(), &[], &Defaults::default(), &ParseOptions::default(), &NoFacts);
        assert_eq!(e.explicit_text(), r"srv*C:\ProgramData\Dbg\sym*https://h/s");
    }
}
