//! WebAssembly binding of `sympath-crash`, run by the crash viewer's Web
//! Worker (`web/pkg/crash/worker.js`). The walk is synchronous; the worker
//! supplies files through a host object:
//!
//! - `image(module)`: the PE image's bytes (`Uint8Array`), or a string saying
//!   why there is none, or `null` when it has not been fetched yet;
//! - `pdbSize(module)`: the PDB's size in bytes (it is then read in ranges),
//!   or a string saying why there is none, or `null` when not located yet;
//! - `pdbRead(module, offset, length)`: bytes of the PDB (synchronous: the
//!   worker reads Range blocks with a synchronous `XMLHttpRequest`);
//! - `progress(module, what)`.
//!
//! Files not fetched yet are returned in the result's `pending` list; the
//! worker fetches them (asynchronously, through the symbol client) and calls
//! again, until nothing is pending.
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::io::{Read, Seek, SeekFrom};

use serde::Serialize;
use sympath_crash::{ModuleRef, PdbReader, Report, Symbols};
use wasm_bindgen::prelude::*;

// Errors with a code, as every binding throws them (this binding returns JSON text itself).
#[path = "../../sympath-wasm/src/js.rs"]
#[allow(dead_code)]
mod js;

thread_local! {
    /// The host object of the running call (JS values are not `Send`, which the
    /// walker's provider must be, so it is reached through this instead).
    static HOST: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

fn module_js(m: &ModuleRef) -> JsValue {
    let o = js_sys::Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    };
    set("codeFile", JsValue::from_str(&m.code_file));
    set("codeId", m.code_id.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL));
    set("debugFile", m.debug_file.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL));
    set("debugId", m.debug_id.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL));
    set("base", JsValue::from_str(&format!("{:#x}", m.base)));
    o.into()
}

fn call(method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    HOST.with(|h| {
        let host = h.borrow();
        let host = host.as_ref().ok_or("no host")?;
        let f: js_sys::Function = js_sys::Reflect::get(host, &JsValue::from_str(method))
            .map_err(|_| format!("host.{method} is missing"))?
            .dyn_into()
            .map_err(|_| format!("host.{method} is not a function"))?;
        let arr: js_sys::Array = args.iter().collect();
        f.apply(host, &arr).map_err(|e| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}")))
    })
}

/// The files asked for that the worker has not fetched yet.
#[derive(Default, Serialize)]
struct Pending {
    images: Vec<String>,
    pdbs: Vec<String>,
}

struct Host {
    pending: Pending,
}

const NOT_YET: &str = "not fetched yet";

impl Symbols for Host {
    fn image(&mut self, m: &ModuleRef) -> Result<Vec<u8>, String> {
        let v = call("image", &[module_js(m)])?;
        if v.is_null() || v.is_undefined() {
            self.pending.images.push(format!("{:#x}", m.base));
            return Err(NOT_YET.into());
        }
        if let Some(s) = v.as_string() {
            return Err(s);
        }
        Ok(js_sys::Uint8Array::new(&v).to_vec())
    }

    fn pdb(&mut self, m: &ModuleRef) -> Result<Box<dyn PdbReader>, String> {
        let v = call("pdbSize", &[module_js(m)])?;
        if v.is_null() || v.is_undefined() {
            self.pending.pdbs.push(format!("{:#x}", m.base));
            return Err(NOT_YET.into());
        }
        if let Some(s) = v.as_string() {
            return Err(s);
        }
        let size = v.as_f64().ok_or("host.pdbSize returned no size")? as u64;
        Ok(Box::new(RangeReader { base: m.base, size, pos: 0 }))
    }

    fn progress(&mut self, m: &ModuleRef, what: &str) {
        let _ = call("progress", &[module_js(m), JsValue::from_str(what)]);
    }
}

/// A PDB read through `host.pdbRead` (ranges, cached in blocks by the worker).
#[derive(Debug)]
struct RangeReader {
    base: u64,
    size: u64,
    pos: u64,
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let len = (buf.len() as u64).min(self.size.saturating_sub(self.pos));
        if len == 0 {
            return Ok(0);
        }
        let module = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&module, &JsValue::from_str("base"), &JsValue::from_str(&format!("{:#x}", self.base)));
        let v = call("pdbRead", &[module.into(), JsValue::from_f64(self.pos as f64), JsValue::from_f64(len as f64)])
            .map_err(std::io::Error::other)?;
        let bytes = js_sys::Uint8Array::new(&v);
        let n = (bytes.length() as usize).min(buf.len());
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the PDB ended early"));
        }
        bytes.subarray(0, n as u32).copy_to(buf.get_mut(..n).ok_or_else(|| std::io::Error::other("length"))?);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangeReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let next = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = next.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

#[derive(Serialize)]
struct Round<'a> {
    report: &'a Report,
    pending: &'a Pending,
}

/// One round of walking and symbolizing `dump` with the files `host` has.
/// Returns JSON `{ report, pending: { images: [base…], pdbs: [base…] } }`;
/// throws an `Error` with a `code` (`corrupt`, `unsupported`) for a dump it cannot read.
#[wasm_bindgen]
pub fn symbolicate(dump: &[u8], host: JsValue) -> Result<String, JsValue> {
    HOST.with(|h| *h.borrow_mut() = Some(host));
    let mut symbols = Host { pending: Pending::default() };
    let result = sympath_crash::symbolicate(dump, &mut symbols);
    HOST.with(|h| *h.borrow_mut() = None);
    let report = result.map_err(|e| {
        let code = match e {
            sympath_crash::CrashError::Corrupt(_) => "corrupt",
            sympath_crash::CrashError::Unsupported(_) => "unsupported",
        };
        js::error(code, e)
    })?;
    serde_json::to_string(&Round { report: &report, pending: &symbols.pending }).map_err(|e| js::error("internal", e))
}
