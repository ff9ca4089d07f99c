//! The mirror's configuration: every `[vars]` entry of `wrangler.toml`, read
//! by [`Config::from_vars`] (parsed once per isolate through
//! [`Config::from_vars_cached`]), with every default in one place.
//!
//! An unset or empty variable takes its default. A set but invalid one is an
//! error ([`ConfigError`]), never silently replaced by the default: `/health`
//! reports it (`"ok": false`) and every file request is answered 500
//! `bad_config` with the same message, so a typo in a deployment shows at once.

use std::fmt;

use sympath::expand::{Defaults, Environment, NoFacts};
use sympath::key::{RequestKey, StoreKey};
use sympath::lookup::{Lookup, Method, Policy};
use sympath::plan::{Fallback, PlanOptions, TierPolicy};
use sympath::target::Targets;
use sympath::url::StoreUrl;

use crate::rules;

/// `SYMBOL_PATH` when unset: Microsoft's public symbol server.
pub fn default_symbol_path() -> String {
    format!("srv*{}", sympath::model::DEFAULT_SYMBOL_SERVER)
}
/// `MISS_TTL` when unset: seconds a miss is remembered (SymProxy's default, R94).
pub const DEFAULT_MISS_TTL: u32 = 300;
/// `UPSTREAM_TIMEOUT_MS` when unset: per-upstream timeout (SymProxy answers within 25 s, R95).
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 25_000;
/// `UPSTREAM_DEADLINE_MS` when unset: the longest one upstream transfer
/// (answer and whole body) may take, however steadily it drips.
pub const DEFAULT_UPSTREAM_DEADLINE_MS: u64 = 600_000;
/// `EDGE_CACHE_MAX_BYTES` when unset: the Cache API stores objects up to 512 MB.
pub const DEFAULT_EDGE_CACHE_MAX_BYTES: u64 = 512 * 1000 * 1000;
/// `COPY_WINDOW_BYTES` when unset: how far a store's copy may fall behind the
/// client before it is abandoned; with the client's 4 MiB, what one transfer
/// can hold in memory.
pub const DEFAULT_COPY_WINDOW_BYTES: u64 = 16 << 20;
/// `RANGE_CACHE_MIN_BYTES` when unset: files of at least this many bytes read
/// by ranges on a miss are kept as chunks ([`rules::chunks`], issue 11);
/// smaller ones have their ranges forwarded, nothing kept.
pub const DEFAULT_RANGE_CACHE_MIN_BYTES: u64 = 64 << 20;
/// `RANGE_CHUNK_BYTES` when unset: the length of one chunk.
pub const DEFAULT_RANGE_CHUNK_BYTES: u64 = 1 << 20;
/// `RANGE_CHUNKS_MAX` when unset: the most chunks one request may fetch
/// upstream (a larger range is forwarded, not chunked).
pub const DEFAULT_RANGE_CHUNKS_MAX: u64 = 16;

/// `R2_HEDGE_MS` when unset: how long the first upstream request of a miss
/// may take before the R2 store is read too. Shorter than any internet
/// store's answer (Microsoft's server answers with a redirect first), so a
/// file R2 holds is served from R2 at most this much later than with R2
/// read at once; an upstream answering within it costs no R2 read.
pub const DEFAULT_R2_HEDGE_MS: u64 = 10;

/// Where upstream redirects and `file.ptr` targets may go (R88).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectPolicy {
    /// Only https, and never a loopback, private or link-local address (the default).
    PublicOnly,
    /// Loopback and private addresses too, over http or https
    /// (`ALLOW_PRIVATE_REDIRECTS = "true"`, for tests against local upstreams).
    AllowPrivate,
}

/// The mirror's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `SYMBOL_PATH`, planned by the core for every key (R24, R85).
    pub symbol_path: String,
    /// Its HTTP stores, in order (R24): for `/health`.
    pub upstreams: Vec<StoreUrl>,
    /// `MISS_TTL`: seconds a miss is remembered (R94).
    pub miss_ttl: u32,
    /// `UPSTREAM_TIMEOUT_MS`: how long an upstream may take to answer, and
    /// the longest pause within a body (R95).
    pub timeout_ms: u64,
    /// `UPSTREAM_DEADLINE_MS`: how long one upstream transfer may take in all.
    pub deadline_ms: u64,
    /// `ALLOW_PRIVATE_REDIRECTS`.
    pub redirects: RedirectPolicy,
    /// `EDGE_CACHE_MAX_BYTES`: largest object put in the edge cache; bigger
    /// ones stream through and go to R2 only.
    pub edge_max: u64,
    /// `COPY_WINDOW_BYTES`: how far a store's copy may fall behind the client.
    pub copy_window: u64,
    /// `R2_HEDGE_MS`: how long a miss's first upstream request may take
    /// before the R2 store is read too (0: both at once).
    pub r2_hedge_ms: u64,
    /// `RANGE_CACHE_MIN_BYTES`, `RANGE_CHUNK_BYTES`, `RANGE_CHUNKS_MAX`: the
    /// chunked range cache (issue 11).
    pub chunking: rules::chunks::Chunking,
}

/// A variable that is set but unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `SYMBOL_PATH` has errors or names no HTTP store; the message names it.
    SymbolPath(String),
    /// Another variable's value is not one it takes.
    Invalid {
        /// The variable's name.
        var: &'static str,
        /// What is wrong with its value.
        message: String,
    },
}

impl ConfigError {
    /// The variable at fault.
    pub fn var(&self) -> &'static str {
        match self {
            ConfigError::SymbolPath(_) => "SYMBOL_PATH",
            ConfigError::Invalid { var, .. } => var,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::SymbolPath(message) => f.write_str(message),
            ConfigError::Invalid { var, message } => write!(f, "{var}: {message}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every variable [`Config::from_vars`] reads.
pub const VARS: [&str; 11] = [
    "SYMBOL_PATH",
    "MISS_TTL",
    "UPSTREAM_TIMEOUT_MS",
    "UPSTREAM_DEADLINE_MS",
    "ALLOW_PRIVATE_REDIRECTS",
    "EDGE_CACHE_MAX_BYTES",
    "COPY_WINDOW_BYTES",
    "R2_HEDGE_MS",
    "RANGE_CACHE_MIN_BYTES",
    "RANGE_CHUNK_BYTES",
    "RANGE_CHUNKS_MAX",
];

type Parsed = (Vec<Option<String>>, Result<Config, ConfigError>);

thread_local! {
    /// The last values read and what they parsed to (an isolate keeps its
    /// variables for its whole life: they are parsed once, not per request).
    static LAST: std::cell::RefCell<Option<Parsed>> = const { std::cell::RefCell::new(None) };
}

impl Config {
    /// [`Config::from_vars`], parsed again only when a value differs from
    /// the last call's in this thread (the values are read every time).
    pub fn from_vars_cached(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let values: Vec<Option<String>> = VARS.iter().map(|v| get(v)).collect();
        LAST.with(|last| {
            if let Some((seen, parsed)) = &*last.borrow() {
                if *seen == values {
                    return parsed.clone();
                }
            }
            let parsed = Config::from_vars(|name| VARS.iter().position(|v| *v == name).and_then(|i| values.get(i).cloned().flatten()));
            *last.borrow_mut() = Some((values, parsed.clone()));
            parsed
        })
    }

    /// Reads the configuration through `get` (a variable's value, `None` when
    /// unset); empty values count as unset.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        let symbol_path = get("SYMBOL_PATH").unwrap_or_else(default_symbol_path);
        let upstreams = rules::upstreams(&symbol_path).map_err(ConfigError::SymbolPath)?;
        let redirects = match get("ALLOW_PRIVATE_REDIRECTS").as_deref() {
            None | Some("false") => RedirectPolicy::PublicOnly,
            Some("true") => RedirectPolicy::AllowPrivate,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    var: "ALLOW_PRIVATE_REDIRECTS",
                    message: format!("{v:?} is neither \"true\" nor \"false\""),
                })
            }
        };
        Ok(Config {
            symbol_path,
            upstreams,
            miss_ttl: number(&get, "MISS_TTL", DEFAULT_MISS_TTL, 0)?,
            timeout_ms: number(&get, "UPSTREAM_TIMEOUT_MS", DEFAULT_UPSTREAM_TIMEOUT_MS, 1)?,
            deadline_ms: number(&get, "UPSTREAM_DEADLINE_MS", DEFAULT_UPSTREAM_DEADLINE_MS, 1)?,
            redirects,
            edge_max: number(&get, "EDGE_CACHE_MAX_BYTES", DEFAULT_EDGE_CACHE_MAX_BYTES, 0)?,
            copy_window: number(&get, "COPY_WINDOW_BYTES", DEFAULT_COPY_WINDOW_BYTES, 0)?,
            r2_hedge_ms: number(&get, "R2_HEDGE_MS", DEFAULT_R2_HEDGE_MS, 0)?,
            chunking: rules::chunks::Chunking {
                min_file: number(&get, "RANGE_CACHE_MIN_BYTES", DEFAULT_RANGE_CACHE_MIN_BYTES, 0)?,
                chunk: number(&get, "RANGE_CHUNK_BYTES", DEFAULT_RANGE_CHUNK_BYTES, 4096)?,
                max_fetch: number(&get, "RANGE_CHUNKS_MAX", DEFAULT_RANGE_CHUNKS_MAX, 1)?,
            },
        })
    }
}

impl Config {
    /// The rules the core's lookup engine runs under for the mirror: a
    /// server fetching for others (public https redirect and pointer targets
    /// unless `ALLOW_PRIVATE_REDIRECTS`, bounded cabinets).
    pub fn policy(&self) -> Policy {
        let targets = match self.redirects {
            RedirectPolicy::PublicOnly => Targets::PublicHttps,
            RedirectPolicy::AllowPrivate => Targets::Any,
        };
        Policy { targets, ..Policy::edge() }
    }

    /// The lookup of a requested key through `SYMBOL_PATH` (R66: the variant
    /// the request names is the one delivered); `None` for `index2.txt`. The
    /// mirror is one-tier and serves its own stores from the edge cache and
    /// R2, so the plan has no `index2.txt` probes and no file-system probes.
    pub fn lookup(&self, request: &RequestKey) -> Option<Lookup> {
        self.lookup_with(request, Method::Get)
    }

    /// [`Config::lookup`] for `method`: a HEAD asks the upstreams with HEAD
    /// (the engine's [`Method::Head`]), so no body is downloaded.
    pub fn lookup_with(&self, request: &RequestKey, method: Method) -> Option<Lookup> {
        let (key, want) = StoreKey::from_request(request)?;
        let exp =
            sympath::expand(Some(&self.symbol_path), &Environment::default(), &[], &Defaults::default(), &Default::default(), &NoFacts);
        let opts = PlanOptions { tiers: TierPolicy::OneTier, fallback: Fallback::None, ..PlanOptions::default() };
        let plan = sympath::plan::plan_key(&exp, key, None, &opts);
        Some(Lookup::new(&plan, Policy { want, method, ..self.policy() }))
    }
}

/// A whole decimal number of at least `min`, or `default` when unset.
fn number<T>(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: T, min: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
    T::Err: fmt::Display,
{
    let Some(v) = get(var) else { return Ok(default) };
    let n: T = v.trim().parse().map_err(|e| ConfigError::Invalid { var, message: format!("{v:?} is not a whole number ({e})") })?;
    if n < min {
        return Err(ConfigError::Invalid { var, message: format!("{v:?} is below the least usable value, {min}") });
    }
    Ok(n)
}

#[cfg(test)]
#[path = "../../crates/sympath/tests/lookup_driver/mod.rs"]
mod lookup_driver;

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = Config::from_vars(vars(&[])).unwrap();
        assert_eq!(c.upstreams.len(), 1);
        assert_eq!(c.upstreams[0].redacted(), sympath::model::DEFAULT_SYMBOL_SERVER);
        assert_eq!(c.miss_ttl, 300, "R94: SymProxy's five minutes");
        assert_eq!(c.timeout_ms, 25_000, "R95");
        assert_eq!(c.deadline_ms, 600_000);
        assert_eq!(c.redirects, RedirectPolicy::PublicOnly, "R88");
        assert_eq!(c.edge_max, 512_000_000);
        assert_eq!(c.copy_window, 16 * 1024 * 1024);
        assert_eq!(c.r2_hedge_ms, 10, "the upstream's head start over R2");
        assert_eq!(c.chunking, rules::chunks::Chunking { min_file: 64 << 20, chunk: 1 << 20, max_fetch: 16 });
    }

    #[test]
    fn the_cached_configuration_is_parsed_again_when_a_value_changes() {
        let read = std::cell::Cell::new(0);
        let counting = |pairs: &'static [(&'static str, &'static str)]| {
            let get = vars(pairs);
            let read = &read;
            move |name: &str| {
                read.set(read.get() + 1);
                get(name)
            }
        };
        let a = Config::from_vars_cached(counting(&[("MISS_TTL", "7")])).unwrap();
        assert_eq!(a, Config::from_vars(vars(&[("MISS_TTL", "7")])).unwrap());
        assert_eq!(read.get(), VARS.len(), "every variable read once");
        assert_eq!(Config::from_vars_cached(counting(&[("MISS_TTL", "7")])).unwrap(), a);
        let b = Config::from_vars_cached(counting(&[("MISS_TTL", "8")])).unwrap();
        assert_eq!(b.miss_ttl, 8, "a changed value is parsed again");
        let e = Config::from_vars_cached(counting(&[("MISS_TTL", "x")])).unwrap_err();
        assert_eq!(e.var(), "MISS_TTL", "errors are remembered as they are");
    }

    #[test]
    fn every_variable_read_is_listed_in_vars() {
        let seen = std::cell::RefCell::new(Vec::new());
        let _ = Config::from_vars(|name| {
            seen.borrow_mut().push(name.to_string());
            None
        });
        for name in seen.borrow().iter() {
            assert!(VARS.contains(&name.as_str()), "{name} is read but not in VARS");
        }
        assert_eq!(seen.borrow().len(), VARS.len());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let pairs: Vec<(&str, &str)> = VARS.iter().map(|k| (*k, "")).collect();
        assert_eq!(Config::from_vars(vars(&pairs)), Config::from_vars(vars(&[])));
    }

    #[test]
    fn every_variable_is_read() {
        let c = Config::from_vars(vars(&[
            ("SYMBOL_PATH", "srv*https://a.example/s;srv*C:\\c*https://b.example/t"),
            ("MISS_TTL", "0"),
            ("UPSTREAM_TIMEOUT_MS", "1500"),
            ("UPSTREAM_DEADLINE_MS", "9000"),
            ("ALLOW_PRIVATE_REDIRECTS", "true"),
            ("EDGE_CACHE_MAX_BYTES", "1024"),
            ("COPY_WINDOW_BYTES", "65536"),
            ("R2_HEDGE_MS", "0"),
            ("RANGE_CACHE_MIN_BYTES", "3000000"),
            ("RANGE_CHUNK_BYTES", "262144"),
            ("RANGE_CHUNKS_MAX", "4"),
        ]))
        .unwrap();
        assert_eq!(c.chunking, rules::chunks::Chunking { min_file: 3_000_000, chunk: 262_144, max_fetch: 4 });
        // R24: the HTTP stores of every chain, in order.
        let names: Vec<String> = c.upstreams.iter().map(|u| u.redacted()).collect();
        assert_eq!(names, ["https://a.example/s", "https://b.example/t"]);
        assert_eq!((c.miss_ttl, c.timeout_ms, c.edge_max, c.copy_window), (0, 1500, 1024, 65536));
        assert_eq!(c.redirects, RedirectPolicy::AllowPrivate);
        assert_eq!(c.deadline_ms, 9000);
        assert_eq!(c.r2_hedge_ms, 0, "0: R2 read at once");
        let c = Config::from_vars(vars(&[("ALLOW_PRIVATE_REDIRECTS", "false")])).unwrap();
        assert_eq!(c.redirects, RedirectPolicy::PublicOnly);
    }

    #[test]
    fn invalid_values_are_errors_naming_the_variable() {
        for (var, value) in [
            ("MISS_TTL", "5m"),
            ("MISS_TTL", "-1"),
            ("UPSTREAM_TIMEOUT_MS", "0"),
            ("UPSTREAM_TIMEOUT_MS", "1e3"),
            ("UPSTREAM_DEADLINE_MS", "0"),
            ("EDGE_CACHE_MAX_BYTES", "512 MB"),
            ("COPY_WINDOW_BYTES", "lots"),
            ("R2_HEDGE_MS", "10ms"),
            ("R2_HEDGE_MS", "-5"),
            ("RANGE_CACHE_MIN_BYTES", "64MiB"),
            ("RANGE_CHUNK_BYTES", "4095"),
            ("RANGE_CHUNKS_MAX", "0"),
            ("ALLOW_PRIVATE_REDIRECTS", "yes"),
        ] {
            let e = Config::from_vars(vars(&[(var, value)])).unwrap_err();
            assert_eq!(e.var(), var);
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("{var}: ")) && shown.contains(value), "{shown}");
        }
    }

    #[test]
    fn a_symbol_path_without_http_stores_is_an_error() {
        let e = Config::from_vars(vars(&[("SYMBOL_PATH", "C:\\symbols")])).unwrap_err();
        assert_eq!(e.var(), "SYMBOL_PATH");
        assert_eq!(e.to_string(), "SYMBOL_PATH names no HTTP store");
    }

    #[test]
    fn r20_r66_r88_the_lookup_vectors_under_the_mirrors_policy() {
        // The same rows the core and the browser client run (tests/data/lookup):
        // the mirror's policy is the engine's edge policy.
        let c = Config::from_vars(vars(&[])).unwrap();
        assert_eq!(c.policy(), Policy::edge());
        assert!(lookup_driver::rows().len() >= 50);
        let failures = lookup_driver::failures(&c.policy(), &Policy::browser());
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    #[test]
    fn a_key_is_looked_up_through_every_http_store_of_the_symbol_path() {
        let c = Config::from_vars(vars(&[("SYMBOL_PATH", "srv*C:\\c*https://a.example/s;srv*https://u:p@b.example")])).unwrap();
        let key = RequestKey::parse("a.pdb/A1/a.pdb").unwrap();
        let mut lk = c.lookup(&key).unwrap();
        let mut urls = Vec::new();
        while let sympath::lookup::Step::Fetch(f) = lk.next() {
            urls.push((f.url.clone(), f.authorization.is_some(), f.store.clone()));
            lk.headers(f.id, &sympath::lookup::Head { status: 404, ..Default::default() });
        }
        let first = |u: &str| urls.iter().position(|(x, ..)| x == u).unwrap();
        assert_eq!(urls.len(), 6);
        assert!(first("https://a.example/s/a.pdb/A1/a.pdb") < first("https://a.example/s/a.pdb/A1/a.pd_"));
        assert_eq!(
            urls[3],
            ("https://b.example/a.pdb/A1/a.pdb".into(), true, "https://b.example".into()),
            "R28: credentials as a header, never in the URL or the store's name"
        );
        assert!(c.lookup(&RequestKey::Index2).is_none());
    }

    #[test]
    fn wrangler_toml_documents_the_defaults() {
        // The deployment's [vars] are the same values as the defaults here.
        let toml = include_str!("../../wrangler.toml");
        let default_path = default_symbol_path();
        for (var, value) in [
            ("SYMBOL_PATH", default_path.as_str()),
            ("MISS_TTL", &DEFAULT_MISS_TTL.to_string()),
            ("UPSTREAM_TIMEOUT_MS", &DEFAULT_UPSTREAM_TIMEOUT_MS.to_string()),
            ("UPSTREAM_DEADLINE_MS", &DEFAULT_UPSTREAM_DEADLINE_MS.to_string()),
            ("ALLOW_PRIVATE_REDIRECTS", "false"),
            ("EDGE_CACHE_MAX_BYTES", &DEFAULT_EDGE_CACHE_MAX_BYTES.to_string()),
            ("COPY_WINDOW_BYTES", &DEFAULT_COPY_WINDOW_BYTES.to_string()),
            ("R2_HEDGE_MS", &DEFAULT_R2_HEDGE_MS.to_string()),
            ("RANGE_CACHE_MIN_BYTES", &DEFAULT_RANGE_CACHE_MIN_BYTES.to_string()),
            ("RANGE_CHUNK_BYTES", &DEFAULT_RANGE_CHUNK_BYTES.to_string()),
            ("RANGE_CHUNKS_MAX", &DEFAULT_RANGE_CHUNKS_MAX.to_string()),
        ] {
            let line = format!("{var} = \"{value}\"");
            assert!(toml.lines().any(|l| l.trim() == line), "wrangler.toml lacks `{line}`");
        }
    }
}
