//! Body streaming in the runtime's own streams (wasm32 only): the binding
//! to the pump, `worker/js/pump.js`, whose tagged errors are mapped here,
//! once, into [`TransferError`].
//!
//! Bodies never pass through Rust chunk by chunk: every chunk crossing into
//! wasm and back costs a copy each way and CPU time billed to the request
//! (about 16 ms per MB measured, against a 10 ms CPU budget on the free
//! plan). The Rust side reads only the first bytes of an answer (to judge
//! it) and small bodies it must parse; everything else is moved by the
//! runtime: stored bodies by a native pipe into a `FixedLengthStream`
//! (which fails a transfer that ends short or runs long), upstream bodies by
//! a small JavaScript pump that reads 1 MiB at a time into pooled buffers
//! (the stall timer, the length count) and feeds the client and the stores
//! with bounded memory.

use wasm_bindgen::prelude::*;
use worker::js_sys::{self, Promise, Reflect, Uint8Array};

use crate::transfer::TransferError;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::ReadableStream;

#[wasm_bindgen(module = "/js/pump.js")]
extern "C" {
    #[wasm_bindgen(js_name = readHead, catch)]
    fn read_head_js(body: &ReadableStream, min: f64, idle_ms: f64, until: f64) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = readAll, catch)]
    fn read_all_js(body: &ReadableStream, limit: f64, idle_ms: f64, until: f64) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = passStored, catch)]
    fn pass_stored_js(body: &ReadableStream, length: f64) -> Result<ReadableStream, JsValue>;
    #[wasm_bindgen(js_name = passBody, catch)]
    fn pass_body_js(
        body: &ReadableStream,
        head: &Uint8Array,
        length: Option<f64>,
        idle_ms: f64,
        copies: u32,
        window: f64,
        until: f64,
    ) -> Result<JsValue, JsValue>;
}

/// How long an upstream transfer may take: no pause longer than `idle_ms`
/// (R95), and all of it (headers, body, every copy) before `until`, a
/// `Date.now()` time: a drip just fast enough never to stall still ends.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest pause.
    pub idle_ms: u64,
    /// The overall deadline.
    pub until: f64,
}

impl Limits {
    /// Limits for a transfer starting now that may take `deadline_ms` in all.
    pub fn starting_now(idle_ms: u64, deadline_ms: u64) -> Limits {
        Limits { idle_ms, until: js_sys::Date::now() + deadline_ms as f64 }
    }
}

fn message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// The one mapping of a JS failure: the pump's `code` when it has one.
fn transfer_error(e: JsValue) -> TransferError {
    let code = Reflect::get(&e, &JsValue::from_str("code")).ok().and_then(|c| c.as_string());
    TransferError::from_code(code.as_deref(), message(&e))
}

fn get(obj: &JsValue, key: &str) -> Result<JsValue, TransferError> {
    Reflect::get(obj, &JsValue::from_str(key)).map_err(transfer_error)
}

/// The first bytes of a body (at least `min`, unless it ends first), and the
/// body to continue from.
pub struct Head {
    /// The bytes read, as a JS array (passed on without a copy).
    pub js: Uint8Array,
    /// The same bytes in Rust, to judge.
    pub bytes: Vec<u8>,
    /// The rest of the body.
    pub rest: ReadableStream,
}

impl Head {
    /// No bytes read yet: all of `body` is the rest.
    pub fn empty(body: &ReadableStream) -> Head {
        Head { js: Uint8Array::new_with_length(0), bytes: Vec::new(), rest: body.clone() }
    }
}

/// Reads the first `min` bytes of `body`; fails on a pause or a deadline past `limits`.
pub async fn read_head(body: &ReadableStream, min: usize, limits: Limits) -> Result<Head, TransferError> {
    let p = read_head_js(body, min as f64, limits.idle_ms as f64, limits.until).map_err(transfer_error)?;
    let out = JsFuture::from(p).await.map_err(transfer_error)?;
    let js: Uint8Array = get(&out, "head")?.dyn_into().map_err(transfer_error)?;
    let rest: ReadableStream = get(&out, "rest")?.dyn_into().map_err(transfer_error)?;
    Ok(Head { bytes: js.to_vec(), js, rest })
}

/// Reads a whole (small) body, at most `limit` bytes.
pub async fn read_all(body: &ReadableStream, limit: usize, limits: Limits) -> Result<Vec<u8>, TransferError> {
    let p = read_all_js(body, limit as f64, limits.idle_ms as f64, limits.until).map_err(transfer_error)?;
    let out = JsFuture::from(p).await.map_err(transfer_error)?;
    Ok(Uint8Array::new(&out).to_vec())
}

/// A transfer under way (see [`pass_body`]).
pub struct Transfer {
    /// The client's body.
    pub readable: ReadableStream,
    /// One body per copy asked for, the same bytes.
    pub copies: Vec<ReadableStream>,
    /// Settles when the transfer has ended: to one boolean per copy (whole
    /// or abandoned), or rejects when the transfer failed.
    pub done: Promise,
}

/// `head` then the rest of `body`, to the client and to `copies` more
/// streams: fails every output on a pause longer than `limits.idle_ms`, past
/// the deadline `limits.until` and, with a `length`, on any other total; never makes the client wait for a copy
/// (a copy more than `window` bytes behind is abandoned).
pub fn pass_body(
    body: &ReadableStream,
    head: &Uint8Array,
    length: Option<u64>,
    limits: Limits,
    copies: u32,
    window: u64,
) -> Result<Transfer, TransferError> {
    // Lengths stay exact as f64 up to 2^53 bytes.
    let out = pass_body_js(body, head, length.map(|l| l as f64), limits.idle_ms as f64, copies, window as f64, limits.until)
        .map_err(transfer_error)?;
    let readable: ReadableStream = get(&out, "readable")?.dyn_into().map_err(transfer_error)?;
    let copies =
        js_sys::Array::from(&get(&out, "copies")?).iter().map(|c| c.dyn_into().map_err(transfer_error)).collect::<Result<_, _>>()?;
    let done: Promise = get(&out, "done")?.dyn_into().map_err(transfer_error)?;
    Ok(Transfer { readable, copies, done })
}

/// Waits for a transfer to end: `Some(wholes)` (one per copy) when it ended
/// whole, `None` when it failed.
pub async fn ended(done: Promise) -> Option<Vec<bool>> {
    let v = JsFuture::from(done).await.ok()?;
    Some(js_sys::Array::from(&v).iter().map(|b| b.as_bool() == Some(true)).collect())
}

/// A stored body of `length` bytes (edge cache, R2), piped by the runtime
/// alone with its length enforced.
pub fn pass_stored(body: &ReadableStream, length: u64) -> Result<ReadableStream, TransferError> {
    pass_stored_js(body, length as f64).map_err(transfer_error)
}
