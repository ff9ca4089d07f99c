//! Body streaming in the runtime's own streams (wasm32 only).
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

// `head` (may be empty) then the rest of `body`, to the client and to
// `copies` more streams (the stores), by one pump:
//
// - reads are BYOB `readAtLeast` into pooled 1 MiB buffers (workerd's native
//   byte streams; a JS TransformStream per chunk measured 11x slower), each
//   under the stall timer `idleMs`;
// - the bytes are counted against `length`; the runtime's FixedLengthStreams
//   enforce it again on every output;
// - the client is never made to wait for a store: the pump waits for the
//   client (at most CLIENT_WINDOW bytes in flight), and a copy that falls more
//   than `window` bytes behind is abandoned (its writer aborted, so its store
//   fails and keeps nothing). Memory per transfer is bounded by the windows,
//   whatever the speed of the client or of the stores;
// - a client that goes away does not stop the copies.
//
// `done` resolves, once the transfer ended whole, to one boolean per copy
// (true: it got every byte and was closed), and rejects when the transfer
// failed (stall, short, long, reset, or every output gone).
const CHUNK = 1 << 20;
const MIN_READ = 64 << 10;
const CLIENT_WINDOW = 4 << 20;

class Sink {
  constructor(stream, window, paced) {
    this.writer = stream.writable.getWriter();
    this.window = window;
    this.paced = paced;
    this.pending = 0;
    this.dead = false;
    this.wake = null;
  }
  write(chunk, settled) {
    this.pending += chunk.byteLength;
    this.writer.write(chunk).then(
      () => { this.pending -= chunk.byteLength; settled(); if (this.pending <= this.window) this.release(); },
      (e) => { settled(); this.kill(e); },
    );
  }
  // Resolves once at most `window` bytes are in flight, or the sink is dead.
  drained() {
    if (this.dead || this.pending <= this.window) return Promise.resolve();
    return new Promise((r) => { this.wake = r; });
  }
  release() { const w = this.wake; this.wake = null; if (w) w(); }
  kill(e) {
    if (this.dead) return;
    this.dead = true;
    this.writer.abort(e).catch(() => {});
    this.release();
  }
}

const output = (length) => (length === undefined ? new IdentityTransformStream() : new FixedLengthStream(length));

export function passBody(body, head, length, idleMs, copies, window) {
  const client = output(length);
  const extra = Array.from({ length: copies }, () => output(length));
  const sinks = [new Sink(client, CLIENT_WINDOW, true), ...extra.map((s) => new Sink(s, window, false))];
  const done = pump(body, head, length, idleMs, sinks, window);
  done.catch(() => {});
  return { readable: client.readable, copies: extra.map((s) => s.readable), done };
}

async function pump(body, head, length, idleMs, sinks, window) {
  let reader, read;
  try {
    reader = body.getReader({ mode: "byob" });
    const pool = [];
    read = () => reader.readAtLeast(MIN_READ, pool.pop() ?? new Uint8Array(CHUNK));
    read.pool = pool;
  } catch {
    // Not a byte stream: plain reads.
    reader = body.getReader();
    read = () => reader.read();
  }
  let seen = 0;
  const wrong = () => new Error(`body has ${seen} bytes, not ${length}`);
  const live = () => sinks.filter((s) => !s.dead);
  // Every live sink gets `chunk`; its buffer returns to the pool once all are done with it.
  const send = (chunk, pooled) => {
    const to = live();
    let left = to.length;
    const settled = () => {
      if (--left === 0 && pooled && read.pool && chunk.buffer.byteLength === CHUNK) read.pool.push(new Uint8Array(chunk.buffer));
    };
    for (const s of to) s.write(chunk, settled);
  };
  try {
    if (head && head.byteLength) {
      seen = head.byteLength;
      if (length !== undefined && seen > length) throw wrong();
      send(head, false);
    }
    for (;;) {
      for (const s of sinks) {
        if (s.dead || s.pending <= s.window) continue;
        if (s.paced) await s.drained();
        else s.kill(new Error(`copy abandoned: more than ${window} bytes behind the client`));
      }
      if (!live().length) throw new Error("every output of the transfer went away");
      let timer;
      const next = await Promise.race([
        read(),
        // A read waits for 64 KiB (or the end): a source slower than that per
        // `idleMs` counts as stalled.
        new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`upstream stalled: under ${MIN_READ} bytes in ${idleMs} ms`)), idleMs); }),
      ]).finally(() => clearTimeout(timer));
      if (next.done) break;
      seen += next.value.byteLength;
      if (length !== undefined && seen > length) throw wrong();
      send(next.value, true);
    }
    if (length !== undefined && seen !== length) throw wrong();
    await Promise.all(live().map((s) => s.writer.close().catch((e) => s.kill(e))));
    return sinks.slice(1).map((s) => !s.dead);
  } catch (e) {
    for (const s of sinks) s.kill(e);
    reader.cancel(e).catch(() => {});
    throw e;
  }
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
    fn pass_body_js(
        body: &ReadableStream,
        head: &Uint8Array,
        length: Option<f64>,
        idle_ms: f64,
        copies: u32,
        window: f64,
    ) -> Result<JsValue, JsValue>;
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

/// How far (bytes) a store's copy may fall behind the client before it is
/// abandoned (see `passBody`), unless `COPY_WINDOW_BYTES` says otherwise:
/// with the client's 4 MiB, what one transfer can hold in memory.
pub const COPY_WINDOW: u64 = 16 << 20;

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
/// streams: fails every output on a pause longer than `idle_ms` and, with a
/// `length`, on any other total; never makes the client wait for a copy
/// (a copy more than `window` bytes behind is abandoned).
pub fn pass_body(
    body: &ReadableStream,
    head: &Uint8Array,
    length: Option<u64>,
    idle_ms: u64,
    copies: u32,
    window: u64,
) -> Result<Transfer, String> {
    // Lengths stay exact as f64 up to 2^53 bytes.
    let out = pass_body_js(body, head, length.map(|l| l as f64), idle_ms as f64, copies, window as f64).map_err(message)?;
    let readable: ReadableStream = get(&out, "readable")?.dyn_into().map_err(message)?;
    let copies = js_sys::Array::from(&get(&out, "copies")?).iter().map(|c| c.dyn_into().map_err(message)).collect::<Result<_, _>>()?;
    let done: Promise = get(&out, "done")?.dyn_into().map_err(message)?;
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
pub fn pass_stored(body: &ReadableStream, length: u64) -> Result<ReadableStream, String> {
    pass_stored_js(body, length as f64).map_err(message)
}
