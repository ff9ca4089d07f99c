//! `sympath`: the command-line shell over the sympath core.
//!
//! All logic lives in the core; this file parses arguments, reads the process
//! environment when asked, renders results, and maps them to exit codes:
//! 0 = no errors, 1 = the path has errors, 2 = usage errors.

mod render;

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use sympath::expand::{expand, Command, Consumer, Defaults, Environment, Expanded, HostFacts, NoFacts};
use sympath::identity::{FileKind, IdentityInput};
use sympath::plan::{plan, DirOrder, Fallback, FileRequest, PlanOptions, TierPolicy};
use sympath::url::StoreUrl;
use sympath::winpath::Host;
use sympath::{Dialect, ParseOptions, StoreKey};

/// Validate, expand and explain Windows debugger symbol paths; compute symbol-store keys and lookup plans.
#[derive(Parser)]
#[command(name = "sympath", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
enum Cmd {
    /// Parse, validate and expand a symbol path (exit 1 if it has errors).
    Expand(PathArgs),
    /// Walk through a symbol path in plain English.
    Explain(PathArgs),
    /// Print the path with every machine-applicable fix applied.
    Fix(PathArgs),
    /// Compute the store keys of a file.
    Key {
        #[command(flatten)]
        file: KeyArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the probes a debugger makes for one file through a symbol path.
    Plan {
        #[command(flatten)]
        file: KeyArgs,
        /// The image the symbols are for; its extension names plain directories' <ext> subdirectory.
        #[arg(long)]
        image: Option<String>,
        /// Order of the three probes in a plain directory.
        #[arg(long, value_enum, default_value_t = DirOrderArg::Observed)]
        dir_order: DirOrderArg,
        /// Two-tier store handling.
        #[arg(long, value_enum, default_value_t = TiersArg::Probe)]
        tiers: TiersArg,
        /// Rewrite every HTTP store through this mirror base URL.
        #[arg(long)]
        mirror: Option<String>,
        /// Leave out the debugger's current-directory fallback probes.
        #[arg(long)]
        no_fallback: bool,
        #[command(flatten)]
        path: PathArgs,
    },
}

#[derive(Args, Clone)]
struct PathArgs {
    /// The symbol path (`_NT_SYMBOL_PATH`). Omitted: read _NT_SYMBOL_PATH and _NT_ALT_SYMBOL_PATH from the environment.
    #[arg(value_name = "PATH")]
    path: Option<String>,
    /// `_NT_ALT_SYMBOL_PATH`, searched before PATH (R45).
    #[arg(long, value_name = "ALT")]
    alt: Option<String>,
    /// Debugger commands applied in order: ".symfix [dir]", ".symfix+ [dir]", ".sympath X", ".sympath+ X".
    #[arg(long = "command", short = 'c', value_name = "CMD")]
    commands: Vec<String>,
    /// Who combines the environment variables.
    #[arg(long, value_enum, default_value_t = ConsumerArg::Debugger)]
    consumer: ConsumerArg,
    /// Whose semantics to reproduce where tools disagree.
    #[arg(long, value_enum, default_value_t = DialectArg::Dbgeng)]
    dialect: DialectArg,
    /// Path rules for plain directories.
    #[arg(long, value_enum, default_value_t = HostArg::Windows)]
    host: HostArg,
    /// The default downstream store (`<homedir>\sym`).
    #[arg(long, value_name = "DIR")]
    downstream_store: Option<String>,
    /// The default symbol cache (`cache*` alone).
    #[arg(long, value_name = "DIR")]
    symbol_cache: Option<String>,
    /// The default symbol server (bare `srv*`).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Check this machine's file system: drop missing directories from the environment (R47), detect pingme.txt stores (R55).
    #[arg(long)]
    probe_fs: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Clone)]
struct KeyArgs {
    /// File kind: pdb, pdb20, pe, dbg, portable_pdb, pdz_msfz, elf_code, elf_debug, macho_code, macho_dsym, sha1_source, r2r_perfmap, wasm, clr_special_pe.
    #[arg(long)]
    kind: String,
    /// File name as recorded (a path is reduced to its basename).
    #[arg(long)]
    name: String,
    /// GUID (registry format or 32 hex digits).
    #[arg(long)]
    guid: Option<String>,
    /// Age (decimal or 0x hex).
    #[arg(long)]
    age: Option<String>,
    /// PDB 2.0 signature (number) or perfmap signature (hex).
    #[arg(long)]
    signature: Option<String>,
    /// PE TimeDateStamp (decimal or 0x hex).
    #[arg(long)]
    timestamp: Option<String>,
    /// PE SizeOfImage (decimal or 0x hex).
    #[arg(long)]
    size_of_image: Option<String>,
    /// ELF/wasm build-id (hex).
    #[arg(long)]
    build_id: Option<String>,
    /// Mach-O UUID.
    #[arg(long)]
    uuid: Option<String>,
    /// Source-file SHA-1 (hex).
    #[arg(long)]
    sha1: Option<String>,
    /// Perfmap version.
    #[arg(long)]
    version: Option<String>,
    /// Breakpad debug id instead of GUID + age.
    #[arg(long)]
    debug_id: Option<String>,
    /// Code id instead of timestamp + size (PE), build-id or UUID.
    #[arg(long)]
    code_id: Option<String>,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum ConsumerArg {
    Debugger,
    Dbghelp,
}

#[derive(Copy, Clone, ValueEnum)]
enum DialectArg {
    Dbgeng,
    DotnetDiagnostics,
    Samply,
    Clrmd,
}

#[derive(Copy, Clone, ValueEnum)]
enum HostArg {
    Windows,
    Posix,
}

#[derive(Copy, Clone, ValueEnum)]
enum DirOrderArg {
    Observed,
    Documented,
}

#[derive(Copy, Clone, ValueEnum)]
enum TiersArg {
    Probe,
    One,
    Two,
}

/// A usage error: bad flag values (exit 2).
struct Usage(String);

/// File-system facts from this machine (only with `--probe-fs`).
struct LocalFs;

impl HostFacts for LocalFs {
    fn dir_exists(&self, path: &str) -> Option<bool> {
        Some(std::path::Path::new(path).is_dir())
    }
    fn is_store_root(&self, path: &str) -> Option<bool> {
        Some(std::path::Path::new(path).join("pingme.txt").is_file())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Expand(a) => cmd_expand(&a),
        Cmd::Explain(a) => cmd_explain(&a),
        Cmd::Fix(a) => cmd_fix(&a),
        Cmd::Key { file, json } => cmd_key(&file, json),
        Cmd::Plan { file, image, dir_order, tiers, mirror, no_fallback, path } => {
            let opts = (|| {
                Ok(PlanOptions {
                    dir_order: match dir_order {
                        DirOrderArg::Observed => DirOrder::Observed,
                        DirOrderArg::Documented => DirOrder::Documented,
                    },
                    tiers: match tiers {
                        TiersArg::Probe => TierPolicy::Probe,
                        TiersArg::One => TierPolicy::OneTier,
                        TiersArg::Two => TierPolicy::TwoTier,
                    },
                    fallback: if no_fallback { Fallback::None } else { Fallback::CurrentDir },
                    mirror: mirror.map(|m| StoreUrl::parse(&m).map_err(|e| Usage(format!("--mirror {m:?}: {e}")))).transpose()?,
                })
            })();
            opts.and_then(|o| cmd_plan(&file, image, &o, &path))
        }
    };
    match result {
        Ok(code) => code,
        Err(Usage(msg)) => {
            let _ = writeln!(anstream::stderr(), "error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn parse_options(a: &PathArgs) -> ParseOptions {
    ParseOptions {
        dialect: match a.dialect {
            DialectArg::Dbgeng => Dialect::Dbgeng,
            DialectArg::DotnetDiagnostics => Dialect::DotnetDiagnostics,
            DialectArg::Samply => Dialect::Samply,
            DialectArg::Clrmd => Dialect::Clrmd,
        },
        host: match a.host {
            HostArg::Windows => Host::Windows,
            HostArg::Posix => Host::Posix,
        },
    }
}

fn do_expand(a: &PathArgs) -> Result<Expanded, Usage> {
    let commands = a.commands.iter().map(|c| c.parse::<Command>().map_err(|e| Usage(e.to_string()))).collect::<Result<Vec<_>, _>>()?;
    let defaults = Defaults::with(a.downstream_store.as_deref(), a.symbol_cache.as_deref(), a.server.as_deref())
        .map_err(|e| Usage(format!("--server: {e}")))?;
    let consumer = match a.consumer {
        ConsumerArg::Debugger => Consumer::Debugger,
        ConsumerArg::Dbghelp => Consumer::Dbghelp,
    };
    // PATH alone is the path as given; with --alt (or without PATH) the two
    // environment variables are combined as the consumer does (R45).
    let (given, env) = match (&a.path, &a.alt) {
        (Some(p), None) if a.consumer == ConsumerArg::Debugger => (Some(p.as_str()), Environment::default()),
        (Some(p), alt) => {
            (None, Environment { nt_symbol_path: Some(p.clone()), alt_symbol_path: alt.clone(), consumer, ..Default::default() })
        }
        (None, alt) => {
            let env = Environment {
                nt_symbol_path: std::env::var("_NT_SYMBOL_PATH").ok(),
                alt_symbol_path: alt.clone().or_else(|| std::env::var("_NT_ALT_SYMBOL_PATH").ok()),
                consumer,
                ..Default::default()
            };
            if env.nt_symbol_path.is_none() && env.alt_symbol_path.is_none() && a.commands.is_empty() {
                return Err(Usage("no symbol path: pass PATH, or set _NT_SYMBOL_PATH".into()));
            }
            (None, env)
        }
    };
    let facts: &dyn HostFacts = if a.probe_fs { &LocalFs } else { &NoFacts };
    Ok(expand(given, &env, &commands, &defaults, &parse_options(a), facts))
}

fn exit_for(exp: &Expanded) -> ExitCode {
    if exp.path.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_json(v: &Value) {
    let _ = writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn expand_json(exp: &Expanded) -> Value {
    let mut v = serde_json::to_value(exp).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("canonical".into(), json!(exp.path.to_string()));
        m.insert("explicit".into(), json!(exp.explicit_text()));
    }
    v
}

fn cmd_expand(a: &PathArgs) -> Result<ExitCode, Usage> {
    let exp = do_expand(a)?;
    if a.json {
        print_json(&expand_json(&exp));
    } else {
        render::expansion(&exp);
        render::diagnostics(&exp);
    }
    Ok(exit_for(&exp))
}

fn cmd_explain(a: &PathArgs) -> Result<ExitCode, Usage> {
    let exp = do_expand(a)?;
    let ex = sympath::explain::explain(&exp);
    if a.json {
        print_json(&json!({ "explanation": ex, "diagnostics": exp.path.diagnostics }));
    } else {
        let _ = write!(anstream::stdout(), "{ex}");
        render::diagnostics(&exp);
    }
    Ok(exit_for(&exp))
}

fn cmd_fix(a: &PathArgs) -> Result<ExitCode, Usage> {
    let exp = do_expand(a)?;
    let fixed = sympath::fix_all(&exp.text, &parse_options(a));
    let after = sympath::parse_with(&fixed, &parse_options(a));
    if a.json {
        print_json(&json!({ "before": exp.text, "after": fixed, "diagnostics": after.diagnostics }));
    } else {
        let _ = writeln!(std::io::stdout(), "{fixed}");
    }
    Ok(if after.has_errors() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn file_request(k: &KeyArgs, image: Option<String>) -> Result<(FileRequest, StoreKey), Usage> {
    let kind: FileKind = k.kind.parse().map_err(|e: sympath::identity::IdentityError| Usage(e.to_string()))?;
    let input = IdentityInput {
        name: k.name.clone(),
        guid: k.guid.clone(),
        age: k.age.clone(),
        signature: k.signature.clone(),
        timestamp: k.timestamp.clone(),
        size_of_image: k.size_of_image.clone(),
        build_id: k.build_id.clone(),
        uuid: k.uuid.clone(),
        sha1: k.sha1.clone(),
        version: k.version.clone(),
        debug_id: k.debug_id.clone(),
        code_id: k.code_id.clone(),
    };
    let identity = input.identity(kind).map_err(|e| Usage(e.to_string()))?;
    let key = StoreKey::new(kind, &k.name, &identity).map_err(|e| Usage(e.to_string()))?;
    Ok((FileRequest { kind, name: k.name.clone(), identity, image_name: image }, key))
}

fn cmd_key(k: &KeyArgs, as_json: bool) -> Result<ExitCode, Usage> {
    let (req, key) = file_request(k, None)?;
    let v = json!({
        "one_tier": key.one_tier(),
        "two_tier": key.two_tier(),
        "compressed": key.compressed(),
        "ssqp": key.ssqp,
        "file_ptr": key.path(sympath::StoreLayout::OneTier, sympath::key::Variant::FilePtr),
        "debug_id": req.identity.debug_id().map(|d| d.breakpad().to_string()),
        "code_id": req.identity.code_id().map(|c| c.to_string()),
    });
    if as_json {
        print_json(&v);
    } else {
        let mut out = anstream::stdout();
        for (label, field) in [
            ("one-tier", "one_tier"),
            ("two-tier", "two_tier"),
            ("compressed", "compressed"),
            ("ssqp", "ssqp"),
            ("file.ptr", "file_ptr"),
            ("debug id", "debug_id"),
            ("code id", "code_id"),
        ] {
            if let Some(s) = v.get(field).and_then(Value::as_str) {
                let _ = writeln!(out, "{label:<11} {s}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_plan(k: &KeyArgs, image: Option<String>, opts: &PlanOptions, a: &PathArgs) -> Result<ExitCode, Usage> {
    let exp = do_expand(a)?;
    let (req, _) = file_request(k, image)?;
    let p = plan(&exp, &req, opts).map_err(|e| Usage(e.to_string()))?;
    if a.json {
        print_json(&json!({ "plan": p, "diagnostics": exp.path.diagnostics }));
    } else {
        render::plan(&exp, &p);
        render::diagnostics(&exp);
    }
    Ok(exit_for(&exp))
}
