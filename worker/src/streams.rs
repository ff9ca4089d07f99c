//! Body streaming in the runtime's own streams (wasm32 only).
//!
//! Bodies never pass through Rust chunk by chunk: every chunk crossing into
//! wasm and back costs a copy each way and CPU time billed to the request
//! (about 16 ms per MB measured, against a 10 ms CPU budget on the free
//! plan). The Rust side reads only the first bytes of an answer (to judge
//! it) and small bodies it must parse; everything else is piped natively by
//! a few lines of JavaScript: a watchdog that fails a transfer stalling
//! longer than the per-upstream timeout, and the runtime's
//! `FixedLengthStream`, which fails a transfer that ends short or runs long.

use wasm_bindgen::prelude::*;
use worker::js_sys::{self, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::ReadableStream;

#[wasm_bindgen(inline_js = r#"
const stalled = (ms) => new Error(`upstream stalled: no data within ${ms} ms`);

// Reads at least `min` bytes (or to the end) of `body`; resolves to
// { head, rest } with `rest` the same stream, unlocked, after `head`.
export async function readHead(body, min, idleMs) {
  const reader = body.getReader();
  const parts = [];
  let len = 0;
  try {
    while (len < min) {
      let timer;
      const next = await Promise.race([
        reader.read(),
        new Promise((_, fail) => { timer = setTimeout(() => fail(stalled(idleMs)), idleMs); }),
      ]).finally(() => clearTimeout(timer));
      if (next.done) break;
      parts.push(next.value);
      len += next.value.byteLength;
    }
  } catch (e) {
    reader.cancel(e).catch(() => {});
    throw e;
  }
  reader.releaseLock();
  const head = new Uint8Array(len);
  let at = 0;
  for (const p of parts) { head.set(p, at); at += p.byteLength; }
  return { head, rest: body };
}

// Reads a whole body of at most `limit` bytes.
export async function readAll(body, limit, idleMs) {
  const { head } = await readHead(body, limit + 1, idleMs);
  if (head.byteLength > limit) throw new Error(`body over ${limit} bytes`);
  return head;
}

// `head` (may be empty) then the rest of `body`, piped natively. Fails when
// the source pauses longer than `idleMs`, and (with a `length`) when the
// total is not `length`. `done` settles when the transfer ends.
export function passBody(body, head, length, idleMs) {
  let timer, ctl;
  // A stall errors the watch stream: the pipes on both sides then fail.
  const arm = () => { clearTimeout(timer); timer = setTimeout(() => ctl.error(stalled(idleMs)), idleMs); };
  // The length is counted here too: the runtime's FixedLengthStream fails
  // the transfer, but its error does not reach `done`.
  let seen = head ? head.byteLength : 0;
  const wrong = () => new Error(`body has ${seen} bytes, not ${length}`);
  const watch = new TransformStream({
    start(c) { ctl = c; if (head && head.byteLength) c.enqueue(head); arm(); },
    transform(chunk, c) {
      arm();
      seen += chunk.byteLength;
      if (length !== undefined && seen > length) { clearTimeout(timer); c.error(wrong()); return; }
      c.enqueue(chunk);
    },
    flush(c) {
      clearTimeout(timer);
      if (length !== undefined && seen !== length) c.error(wrong());
    },
  });
  const out = length === undefined ? new TransformStream() : new FixedLengthStream(length);
  body.pipeTo(watch.writable).catch(() => {});
  const done = watch.readable.pipeTo(out.writable).finally(() => clearTimeout(timer));
  done.catch(() => {});
  return { readable: out.readable, done };
}

// A stored body of a known length (edge cache, R2), piped by the runtime
// alone (no JS per chunk): its FixedLengthStream fails the transfer on any
// other total.
export function passStored(body, length) {
  const out = new FixedLengthStream(length);
  body.pipeTo(out.writable).catch(() => {});
  return out.readable;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = readHead, catch)]
    fn read_head_js(body: &ReadableStream, min: f64, idle_ms: f64) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = readAll, catch)]
    fn read_all_js(body: &ReadableStream, limit: f64, idle_ms: f64) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = passStored, catch)]
    fn pass_stored_js(body: &ReadableStream, length: f64) -> Result<ReadableStream, JsValue>;
    #[wasm_bindgen(js_name = passBody, catch)]
    fn pass_body_js(body: &ReadableStream, head: &Uint8Array, length: Option<f64>, idle_ms: f64) -> Result<JsValue, JsValue>;
}

fn message(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

fn get(obj: &JsValue, key: &str) -> Result<JsValue, String> {
    Reflect::get(obj, &JsValue::from_str(key)).map_err(message)
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

/// Reads the first `min` bytes of `body`; fails when nothing comes for `idle_ms`.
pub async fn read_head(body: &ReadableStream, min: usize, idle_ms: u64) -> Result<Head, String> {
    let p = read_head_js(body, min as f64, idle_ms as f64).map_err(message)?;
    let out = JsFuture::from(p).await.map_err(|e| format!("transfer failed: {}", message(e)))?;
    let js: Uint8Array = get(&out, "head")?.dyn_into().map_err(message)?;
    let rest: ReadableStream = get(&out, "rest")?.dyn_into().map_err(message)?;
    Ok(Head { bytes: js.to_vec(), js, rest })
}

/// Reads a whole (small) body, at most `limit` bytes.
pub async fn read_all(body: &ReadableStream, limit: usize, idle_ms: u64) -> Result<Vec<u8>, String> {
    let p = read_all_js(body, limit as f64, idle_ms as f64).map_err(message)?;
    let out = JsFuture::from(p).await.map_err(|e| format!("transfer failed: {}", message(e)))?;
    Ok(Uint8Array::new(&out).to_vec())
}

/// `head` then the rest of `body`, piped by the runtime: fails on a pause
/// longer than `idle_ms` and, with a `length`, on any other total. The
/// promise settles when the transfer ends (rejects when it failed).
pub fn pass_body(body: &ReadableStream, head: &Uint8Array, length: Option<u64>, idle_ms: u64) -> Result<(ReadableStream, Promise), String> {
    // Lengths stay exact as f64 up to 2^53 bytes.
    let out = pass_body_js(body, head, length.map(|l| l as f64), idle_ms as f64).map_err(message)?;
    let readable: ReadableStream = get(&out, "readable")?.dyn_into().map_err(message)?;
    let done: Promise = get(&out, "done")?.dyn_into().map_err(message)?;
    Ok((readable, done))
}

/// A stored body of `length` bytes (edge cache, R2), piped by the runtime
/// alone with its length enforced.
pub fn pass_stored(body: &ReadableStream, length: u64) -> Result<ReadableStream, String> {
    pass_stored_js(body, length as f64).map_err(message)
}
