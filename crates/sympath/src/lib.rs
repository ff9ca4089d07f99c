//! # sympath: Windows symbol paths and symbol stores
//!
//! A pure, I/O-free library that does what the Microsoft debuggers
//! (WinDbg, cdb, kd, and everything on dbghelp/symsrv) do with a symbol path:
//!
//! 1. [`parse()`] text into [`SymbolPath`] elements with byte [`Span`]s and
//!    [`Diagnostic`]s (parsing never fails; spec R1–R35);
//! 2. [`expand()`] it with the environment and debugger commands
//!    (`_NT_ALT_SYMBOL_PATH`, `.symfix`, `.sympath+`; R40–R47);
//! 3. compute store [keys](key) and URLs for every file kind (R50–R84);
//! 4. turn "this file, this path" into an ordered [`plan::LookupPlan`] of probes
//!    (R20–R38, R85), which executors (CLI, browser client, edge worker) run.
//!
//! ## Design constraints
//! - No I/O, no environment reads, no clocks: callers pass facts in.
//! - Windows paths are strings with Windows rules ([`winpath`]), never
//!   `std::path::Path`, so results are the same on Windows, Linux and wasm32.
//! - No panics on any input; linear time in the length of the input.
//!
//! ```
//! use sympath::expand::{expand, Defaults, Environment, NoFacts};
//! use sympath::identity::{FileKind, Identity};
//! use sympath::plan::{plan, FileRequest, PlanOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exp = expand(Some(r"cache*C:\c;srv*https://msdl.microsoft.com/download/symbols"),
//!     &Environment::default(), &[], &Defaults::default(), &Default::default(), &NoFacts);
//! assert!(!exp.path.has_errors());
//! let req = FileRequest {
//!     kind: FileKind::Pdb,
//!     name: "ntdll.pdb".into(),
//!     identity: Identity::GuidAge { guid: "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE".parse()?, age: 2 },
//!     image_name: Some("ntdll.dll".into()),
//! };
//! let probes = plan(&exp, &req, &PlanOptions::default())?.probes;
//! assert_eq!(probes[0].location.as_str(), r"C:\c\index2.txt");
//! # Ok(()) }
//! ```
//!
//! ```
//! let path = sympath::parse(r"srv*C:\sym*http://msdl.microsoft.com/download/symbols");
//! assert_eq!(path.diagnostics[0].code.as_str(), "SP401"); // msdl is HTTPS-only
//! let fixed = path.diagnostics[0].fix.as_ref().unwrap().apply(&path.text);
//! assert_eq!(fixed, r"srv*C:\sym*https://msdl.microsoft.com/download/symbols");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ascii;
pub mod borrowed;
pub mod diagnostic;
mod display;
pub mod expand;
pub mod explain;
pub mod fileptr;
pub mod headers;
pub mod identity;
pub mod key;
pub mod lookup;
pub mod magic;
pub mod model;
pub mod parse;
pub mod pdbid;
pub mod plan;
pub mod problem;
pub mod span;
pub mod target;
pub mod url;
pub mod winpath;

/// TypeScript declarations of the types that serialize by hand (feature `tsify`).
#[cfg(feature = "tsify")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_MANUAL_TYPES: &'static str = r#"
/** A byte range `[start, end)` into the parsed text, in UTF-8 bytes. */
export type Span = [number, number];
/** A stable diagnostic code such as `"SP204"` (see docs/diagnostics.md). */
export type Code = string;
/** A GUID in registry format, `0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE`. */
export type Guid = string;
/** A cache directory, or `"default_cache"` for `cache*` alone. */
export type CacheRef = string;
/** The `cache*` directives left of an element, left to right. */
export type CachedInto = CacheRef[];
/** What a `cache*` directive names. */
export type CacheElement = { path: string } | { default: true };
/** One `;`-separated element: its kind's fields, the caches it feeds, and where it is. */
export type Element = ElementKind & { cached_into?: CachedInto; span: Span };
/** One store of a chain: where it is, its role, and its token. */
export type Store = StoreLocation & { role: Role; implicit?: Implicit; span: Span };
"#;

pub use diagnostic::{Code, Diagnostic, Fix, Severity, TextEdit};
pub use expand::{expand, Command, Consumer, Defaults, Environment, Expanded, HostFacts};
pub use identity::{FileKind, Guid, Identity};
pub use key::{StoreKey, StoreLayout};
pub use model::{CacheTarget, Chain, Element, ElementKind, Role, Store, StoreLocation, SymbolPath};
pub use parse::{fix_all, parse, parse_with, Dialect, ParseOptions};
pub use plan::{plan, FileRequest, LookupPlan, PlanOptions, Probe};
pub use span::Span;
