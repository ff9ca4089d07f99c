//! Lookup plans: the ordered probes a debugger makes for one file (spec §6, §12).
//!
//! A plan is data: executors (the CLI, the browser client, the edge worker)
//! run the probes in order, stop at the first hit, and make the copies the hit
//! lists. Nothing here touches a disk or a network.

use serde::Serialize;

use crate::expand::{Consumer, Expanded};
use crate::identity::{FileKind, Identity};
use crate::key::{KeyError, StoreKey, StoreLayout, Variant};
use crate::model::*;
use crate::url::StoreUrl;
use crate::winpath;

/// The file being looked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct FileRequest {
    /// Its kind.
    pub kind: FileKind,
    /// The name as recorded (for a PDB: the CodeView name, R82).
    pub name: String,
    /// Its identity.
    pub identity: Identity,
    /// The image the symbols are for, whose extension names the `<ext>`
    /// subdirectory of plain directories (R37). Defaults to `name` for images.
    pub image_name: Option<String>,
}

/// Order of the three locations probed in a plain directory (R36, D1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum DirOrder {
    /// `D`, `D\<ext>`, `D\symbols\<ext>`: what dbghelp's own verbose log, Wine
    /// and symchk show. The default: it is the observed behaviour.
    #[default]
    Observed,
    /// `D\symbols\<ext>`, `D\<ext>`, `D`: the order the debugger documentation lists.
    Documented,
}

/// What to do about two-tier stores (R52, R54).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum TierPolicy {
    /// Probe `index2.txt` first and carry two-tier alternatives (what symsrv does).
    #[default]
    Probe,
    /// Every store is one-tier (skip the probe; msdl is one-tier).
    OneTier,
    /// Every store is two-tier.
    TwoTier,
}

/// Whether to add the debugger's last-resort current-directory probes (R38).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Add them (debugger consumer only).
    #[default]
    CurrentDir,
    /// Leave them out.
    None,
}

/// Plan settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Plain-directory probe order.
    pub dir_order: DirOrder,
    /// Two-tier handling.
    pub tiers: TierPolicy,
    /// Current-directory fallback.
    pub fallback: Fallback,
    /// Rewrite every HTTP store through this base URL (a mirror such as the
    /// sympath edge worker): `<mirror>/<key>` instead of `<store>/<key>`.
    pub mirror: Option<StoreUrl>,
}

/// Where a probe looks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Location {
    /// A file path (Windows rules, or POSIX for POSIX stores).
    Path {
        /// The path.
        path: String,
    },
    /// An HTTP(S) URL (credentials never included, R28).
    Url {
        /// The URL.
        url: String,
        /// Whether the store URL carried credentials to send as `Authorization`.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        #[cfg_attr(feature = "tsify", tsify(optional))]
        authenticated: bool,
        /// The `Authorization` value for those credentials (R28): handed to
        /// the executor by the lookup engine, never serialized or shown.
        #[serde(skip)]
        authorization: Option<String>,
        /// The store's URL, credentials removed (or the mirror's): for
        /// reports such as the mirror's `X-Sympath-Upstream`.
        #[serde(skip)]
        store: String,
    },
}

impl Location {
    /// The path or URL.
    pub fn as_str(&self) -> &str {
        match self {
            Location::Path { path } => path,
            Location::Url { url, .. } => url,
        }
    }
}

/// What kind of place a probe belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A plain directory (flat layout).
    Dir,
    /// A `cache*` directory, searched as a store (R31).
    Cache,
    /// A store of a chain.
    Store,
    /// The debugger's last resort (R38).
    Fallback,
}

/// What a probe checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Whether the store has `index2.txt` (two-tier, R54): switches later probes
    /// of this store to their `two_tier` location.
    Index2,
    /// Whether the file exists.
    File,
}

/// The layout a probe uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Plain directory (`D\file`, `D\<ext>\file`, …).
    Flat,
    /// Store layout as planned (one-tier unless the policy says two-tier).
    Store,
}

/// In which form a copy is written (R23).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum CopyForm {
    /// As found (a compressed file stays compressed in intermediate stores).
    AsFound,
    /// Expanded (decompressed) — the left-most store and caches.
    Expanded,
}

/// Why a copy is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum CopyReason {
    /// A downstream store of the same chain (R20).
    Downstream,
    /// The default downstream store symsrv adds for HTTP stores and compressed files (R21).
    ImplicitDownstream,
    /// A `cache*` directive to the left (R29, R30).
    Cache,
}

/// A copy to make after a hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct CopyTo {
    /// The store directory receiving the copy.
    pub store: String,
    /// Form of the copy.
    pub form: CopyForm,
    /// Why.
    pub reason: CopyReason,
    /// Applies only when the hit was a compressed file (R21: a single-store
    /// chain copies compressed files into the default downstream store).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub only_if_compressed: bool,
}

/// One probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Probe {
    /// Index of the element in the expanded path (`None` for fallbacks).
    pub element: Option<usize>,
    /// Index of the store in its chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<usize>,
    /// What kind of place.
    pub source: Source,
    /// What is checked.
    pub check: Check,
    /// Which file variant (`None` for `index2.txt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<Variant>,
    /// Layout.
    pub layout: Layout,
    /// Where to look.
    pub location: Location,
    /// Where to look instead if the store turned out to be two-tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_tier: Option<Location>,
    /// Copies to make on a hit, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub on_hit: Vec<CopyTo>,
}

/// The probes for one file, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct LookupPlan {
    /// The file, when the plan was made for one ([`plan`]); a plan made for
    /// a key alone ([`plan_key`], a server's view) has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub request: Option<FileRequest>,
    /// Its key.
    pub key: StoreKey,
    /// The `<ext>` used for plain directories.
    pub ext: Option<String>,
    /// Probes in order.
    pub probes: Vec<Probe>,
    /// Elements skipped, and why.
    pub skipped: Vec<Skipped>,
}

/// An element the plan does not probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Skipped {
    /// Element index.
    pub element: usize,
    /// Why.
    pub reason: String,
}

struct Ctx<'a> {
    exp: &'a Expanded,
    key: &'a StoreKey,
    opts: &'a PlanOptions,
    probes: Vec<Probe>,
}

/// A store a probe looks into, as a place.
enum Place<'a> {
    Dir(&'a str),
    Http(StoreUrl),
}

/// Plans the lookup of `req` through `exp`.
pub fn plan(exp: &Expanded, req: &FileRequest, opts: &PlanOptions) -> Result<LookupPlan, KeyError> {
    let key = StoreKey::new(req.kind, &req.name, &req.identity)?;
    let ext = req.image_name.as_deref().or(Some(&req.name)).and_then(winpath::extension).filter(|e| {
        // A debug file's own extension is not an image extension.
        req.image_name.is_some() || !matches!(e.to_ascii_lowercase().as_str(), "pdb" | "dbg" | "sym" | "debug" | "dwarf")
    });
    let ext = ext.map(str::to_string);
    let mut p = plan_key(exp, key, ext, opts);
    p.request = Some(req.clone());
    Ok(p)
}

/// Plans the lookup of a file known only by its key (a server asked for
/// `name/id/file`, see [`StoreKey::from_request`]): the same probes as
/// [`plan`], with `ext` naming the plain directories' `<ext>` subdirectory.
pub fn plan_key(exp: &Expanded, key: StoreKey, ext: Option<String>, opts: &PlanOptions) -> LookupPlan {
    let mut cx = Ctx { exp, key: &key, opts, probes: Vec::new() };
    let mut skipped = Vec::new();
    let mut caches: Vec<&str> = Vec::new();
    for (i, e) in exp.path.elements.iter().enumerate() {
        let cache_copies: Vec<CopyTo> = caches
            .iter()
            .rev()
            .map(|c| CopyTo { store: (*c).to_string(), form: CopyForm::Expanded, reason: CopyReason::Cache, only_if_compressed: false })
            .collect();
        match &e.kind {
            ElementKind::Dir(d) if d.maybe_store => cx.store_probes(i, None, Source::Store, Place::Dir(&d.path), cache_copies),
            ElementKind::Dir(d) => cx.dir_probes(i, &d.path, ext.as_deref(), cache_copies),
            ElementKind::Cache(c) => {
                let dir = exp.cache_dir(&c.target);
                cx.store_probes(i, None, Source::Cache, Place::Dir(dir), cache_copies);
                caches.push(dir);
            }
            ElementKind::Chain(c) if !c.is_symsrv() => {
                skipped.push(Skipped { element: i, reason: format!("{} is a third-party symbol-server DLL", c.dll) });
            }
            ElementKind::Chain(c) => cx.chain_probes(i, c, &cache_copies, &mut skipped),
            ElementKind::Invalid(_) => skipped.push(Skipped { element: i, reason: "invalid element".into() }),
        }
    }
    if opts.fallback == Fallback::CurrentDir && exp.consumer == Consumer::Debugger {
        cx.fallback_probes(ext.as_deref());
    }
    let probes = cx.probes;
    LookupPlan { request: None, key, ext, probes, skipped }
}

impl Ctx<'_> {
    fn file_probe(&mut self, element: Option<usize>, source: Source, path: String, on_hit: Vec<CopyTo>) {
        self.probes.push(Probe {
            element,
            store: None,
            source,
            check: Check::File,
            variant: Some(Variant::Plain),
            layout: Layout::Flat,
            location: Location::Path { path },
            two_tier: None,
            on_hit,
        });
    }

    fn dir_probes(&mut self, i: usize, dir: &str, ext: Option<&str>, copies: Vec<CopyTo>) {
        let name = self.key.name.clone();
        let mut spots: Vec<Vec<&str>> = vec![vec![name.as_str()]];
        if let Some(ext) = ext {
            spots.push(vec![ext, name.as_str()]);
            spots.push(vec!["symbols", ext, name.as_str()]);
        }
        if self.opts.dir_order == DirOrder::Documented {
            spots.reverse();
        }
        for parts in spots {
            let path = winpath::join(dir, parts);
            self.file_probe(Some(i), Source::Dir, path, copies.clone());
        }
    }

    fn fallback_probes(&mut self, ext: Option<&str>) {
        let name = self.key.name.clone();
        self.file_probe(None, Source::Fallback, winpath::join(".", [name.as_str()]), Vec::new());
        if let Some(ext) = ext {
            self.file_probe(None, Source::Fallback, winpath::join("..", [ext, name.as_str()]), Vec::new());
        }
    }

    fn location(&self, place: &Place<'_>, layout: StoreLayout, variant: Option<Variant>) -> Option<Location> {
        let segs: Vec<String> = match variant {
            Some(v) => self.key.segments(layout, v)?,
            None => vec!["index2.txt".to_string()],
        };
        Some(match place {
            Place::Dir(d) => Location::Path { path: winpath::join(d, segs.iter().map(String::as_str)) },
            Place::Http(u) => {
                let base = self.opts.mirror.as_ref().unwrap_or(u);
                Location::Url {
                    url: base.join(segs.iter().map(String::as_str)),
                    authenticated: base.has_credentials(),
                    authorization: base.basic_auth(),
                    store: base.redacted(),
                }
            }
        })
    }

    fn store_probes(&mut self, i: usize, store: Option<usize>, source: Source, place: Place<'_>, on_hit: Vec<CopyTo>) {
        let (layout, two) = match self.opts.tiers {
            TierPolicy::Probe => (StoreLayout::OneTier, true),
            TierPolicy::OneTier => (StoreLayout::OneTier, false),
            TierPolicy::TwoTier => (StoreLayout::TwoTier, false),
        };
        // A mirror serves one flat namespace: never two-tier.
        let two = two && !(matches!(place, Place::Http(_)) && self.opts.mirror.is_some());
        if two {
            if let Some(location) = self.location(&place, layout, None) {
                self.probes.push(Probe {
                    element: Some(i),
                    store,
                    source,
                    check: Check::Index2,
                    variant: None,
                    layout: Layout::Store,
                    location,
                    two_tier: None,
                    on_hit: Vec::new(),
                });
            }
        }
        for variant in [Variant::Plain, Variant::Compressed, Variant::FilePtr] {
            let Some(location) = self.location(&place, layout, Some(variant)) else {
                continue;
            };
            let two_tier = if two { self.location(&place, StoreLayout::TwoTier, Some(variant)) } else { None };
            self.probes.push(Probe {
                element: Some(i),
                store,
                source,
                check: Check::File,
                variant: Some(variant),
                layout: Layout::Store,
                location,
                two_tier,
                on_hit: on_hit.clone(),
            });
        }
    }

    fn chain_probes(&mut self, i: usize, c: &Chain, cache_copies: &[CopyTo], skipped: &mut Vec<Skipped>) {
        let places: Vec<String> = c.stores.iter().map(|s| self.exp.store_place(&s.location).to_string()).collect();
        for (k, s) in c.stores.iter().enumerate() {
            // Copies: downstream stores right to left (R20), the left-most expanded (R23).
            let mut on_hit: Vec<CopyTo> = Vec::new();
            let leftmost_is_implicit = c.implicit_downstream.is_some();
            for (j, place) in places.iter().enumerate().take(k).rev() {
                if c.stores.get(j).is_some_and(|d| d.location.is_http()) {
                    continue; // HTTP stores cannot be written (R22).
                }
                let form = if j == 0 && !leftmost_is_implicit { CopyForm::Expanded } else { CopyForm::AsFound };
                on_hit.push(CopyTo { store: place.clone(), form, reason: CopyReason::Downstream, only_if_compressed: false });
            }
            let dds = self.exp.defaults.downstream_store.clone();
            if leftmost_is_implicit {
                on_hit.push(CopyTo {
                    store: dds,
                    form: CopyForm::Expanded,
                    reason: CopyReason::ImplicitDownstream,
                    only_if_compressed: false,
                });
            } else if c.stores.len() == 1 && cache_copies.is_empty() && !s.location.is_http() {
                // R21: a compressed file found in a lone store is expanded into the DDS.
                on_hit.push(CopyTo {
                    store: dds,
                    form: CopyForm::Expanded,
                    reason: CopyReason::ImplicitDownstream,
                    only_if_compressed: true,
                });
            }
            on_hit.extend(cache_copies.iter().cloned());
            let place = match &s.location {
                StoreLocation::Http { url } => match StoreUrl::parse(url) {
                    Ok(u) => Place::Http(u),
                    Err(e) => {
                        skipped.push(Skipped { element: i, reason: format!("store {} has an invalid URL: {e}", k + 1) });
                        continue;
                    }
                },
                other => Place::Dir(self.exp.store_place(other)),
            };
            self.store_probes(i, Some(k), Source::Store, place, on_hit);
        }
    }
}
