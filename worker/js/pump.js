// @ts-check
// Body streaming in the runtime's own streams, for the mirror (imported by
// worker/src/streams.rs through wasm-bindgen) and for its benchmark
// (bench/mirror/streams-worker.mjs).
//
// Bodies never pass through Rust chunk by chunk: every chunk crossing into
// wasm and back costs a copy each way and CPU time billed to the request.
// Rust reads only the first bytes of an answer (to judge it) and small bodies
// it must parse; this pump moves everything else.
//
// Every failure of a transfer is a `TransferError` with a `code` (see
// `TransferCode`); the Rust side maps the code once (streams.rs) and never
// looks at the message, which is for people.

/**
 * Why a transfer failed:
 * - `stalled`: no data within the idle timeout;
 * - `deadline`: the whole transfer took longer than its overall deadline (a
 *   slow drip that never stalls long enough to trip the idle timeout);
 * - `short`: the body ended before its announced length;
 * - `long`: the body ran past its announced length;
 * - `too_large`: a body read whole is over its limit;
 * - `reset`: the source failed (connection reset, runtime error);
 * - `aborted`: every output of the transfer went away, or a copy fell too
 *   far behind the client and was abandoned.
 * @typedef {"stalled" | "deadline" | "short" | "long" | "too_large" | "reset" | "aborted"} TransferCode
 */

export class TransferError extends Error {
  /**
   * @param {TransferCode} code
   * @param {string} message
   * @param {unknown} [cause]
   */
  constructor(code, message, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "TransferError";
    /** @type {TransferCode} */
    this.code = code;
  }
}

/**
 * A failure as a `TransferError`: the pump's own as they are, any other (a
 * source's read failing) as `reset` with the same message.
 * @param {unknown} e
 * @returns {TransferError}
 */
export function tagged(e) {
  if (e instanceof TransferError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new TransferError("reset", message, e);
}

/**
 * Resolves to `op`'s value, or rejects with a `stalled` error when `op` has
 * not settled within `idleMs`, or a `deadline` error when the transfer's
 * overall deadline `until` (a `Date.now()` time) comes first.
 * @template T
 * @param {Promise<T>} op
 * @param {number} idleMs
 * @param {() => string} why
 * @param {number} [until]
 * @returns {Promise<T>}
 */
function within(op, idleMs, why, until = Infinity) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const left = until - Date.now();
  const byDeadline = left < idleMs;
  /** @type {Promise<never>} */
  const stall = new Promise((_, fail) => {
    const fire = () =>
      fail(byDeadline ? new TransferError("deadline", "upstream transfer over its overall deadline") : new TransferError("stalled", why()));
    if (byDeadline && left <= 0) fire();
    else timer = setTimeout(fire, byDeadline ? left : idleMs);
  });
  return Promise.race([op, stall]).finally(() => clearTimeout(timer));
}

/**
 * Reads at least `min` bytes (or to the end) of `body`; resolves to
 * `{ head, rest }` with `rest` the same stream, unlocked, after `head`.
 * @param {ReadableStream<Uint8Array>} body
 * @param {number} min
 * @param {number} idleMs
 * @param {number} [until] the transfer's overall deadline (a `Date.now()` time)
 * @returns {Promise<{ head: Uint8Array, rest: ReadableStream<Uint8Array> }>}
 */
export async function readHead(body, min, idleMs, until = Infinity) {
  const reader = body.getReader();
  /** @type {Uint8Array[]} */
  const parts = [];
  let len = 0;
  try {
    while (len < min) {
      const next = await within(reader.read(), idleMs, () => `upstream stalled: no data within ${idleMs} ms`, until);
      if (next.done) break;
      parts.push(next.value);
      len += next.value.byteLength;
    }
  } catch (e) {
    const t = tagged(e);
    reader.cancel(t).catch(() => {});
    throw t;
  }
  reader.releaseLock();
  const head = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    head.set(p, at);
    at += p.byteLength;
  }
  return { head, rest: body };
}

/**
 * Reads a whole body of at most `limit` bytes.
 * @param {ReadableStream<Uint8Array>} body
 * @param {number} limit
 * @param {number} idleMs
 * @param {number} [until] the transfer's overall deadline (a `Date.now()` time)
 * @returns {Promise<Uint8Array>}
 */
export async function readAll(body, limit, idleMs, until = Infinity) {
  const { head } = await readHead(body, limit + 1, idleMs, until);
  if (head.byteLength > limit) throw new TransferError("too_large", `body over ${limit} bytes`);
  return head;
}

// `head` (may be empty) then the rest of `body`, to the client and to
// `copies` more streams (the stores), by one pump:
//
// - reads are BYOB `readAtLeast` into pooled 1 MiB buffers (workerd's native
//   byte streams; a JS TransformStream per chunk measured 11x slower), each
//   under the stall timer `idleMs`, and the whole transfer under its overall
//   deadline `until` (a drip just fast enough never to stall still ends);
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
// (true: it got every byte and was closed), and rejects with a TransferError
// when the transfer failed.
export const CHUNK = 1 << 20;
export const MIN_READ = 64 << 10;
export const CLIENT_WINDOW = 4 << 20;

/** One output of a transfer, with the bytes written to it and not yet taken. */
export class Sink {
  /**
   * @param {{ writable: WritableStream<Uint8Array> }} stream
   * @param {number} window bytes in flight past which the sink is behind
   * @param {"paced" | "abandoned"} whenBehind the pump waits for a `paced`
   *   sink that is behind, and abandons an `abandoned` one
   */
  constructor(stream, window, whenBehind) {
    this.writer = stream.writable.getWriter();
    this.window = window;
    this.whenBehind = whenBehind;
    this.pending = 0;
    this.dead = false;
    /** @type {(() => void) | null} */
    this.wake = null;
  }
  /**
   * @param {Uint8Array} chunk
   * @param {() => void} settled called once this sink is done with `chunk`
   */
  write(chunk, settled) {
    this.pending += chunk.byteLength;
    this.writer.write(chunk).then(
      () => {
        this.pending -= chunk.byteLength;
        settled();
        if (this.pending <= this.window) this.release();
      },
      (e) => {
        settled();
        this.kill(e);
      },
    );
  }
  /** Resolves once at most `window` bytes are in flight, or the sink is dead. */
  drained() {
    if (this.dead || this.pending <= this.window) return Promise.resolve();
    return new Promise((r) => {
      this.wake = () => r(undefined);
    });
  }
  release() {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }
  /** @param {unknown} e */
  kill(e) {
    if (this.dead) return;
    this.dead = true;
    this.writer.abort(e).catch(() => {});
    this.release();
  }
}

/** @param {number | undefined} length */
const output = (length) => (length === undefined ? new IdentityTransformStream() : new FixedLengthStream(length));

/**
 * @param {ReadableStream<Uint8Array>} body
 * @param {Uint8Array} head
 * @param {number | undefined} length
 * @param {number} idleMs
 * @param {number} copies
 * @param {number} window
 * @param {number} [until] the transfer's overall deadline (a `Date.now()` time)
 */
export function passBody(body, head, length, idleMs, copies, window, until = Infinity) {
  const client = output(length);
  const extra = Array.from({ length: copies }, () => output(length));
  const sinks = [new Sink(client, CLIENT_WINDOW, "paced"), ...extra.map((s) => new Sink(s, window, "abandoned"))];
  const done = pump(body, head, length, idleMs, sinks, until);
  done.catch(() => {});
  return { readable: client.readable, copies: extra.map((s) => s.readable), done };
}

/**
 * A reader of `body`: BYOB `readAtLeast` into pooled buffers on the
 * runtime's byte streams, plain reads otherwise.
 * @param {ReadableStream<Uint8Array>} body
 * @returns {{ read: () => Promise<ReadableStreamReadResult<Uint8Array>>, cancel: (e: unknown) => Promise<void>, pool: Uint8Array[] | null }}
 */
function reading(body) {
  try {
    const byob = body.getReader({ mode: "byob" });
    const readAtLeast = byob.readAtLeast;
    if (typeof readAtLeast === "function") {
      /** @type {Uint8Array[]} */
      const pool = [];
      const read = () => readAtLeast.call(byob, MIN_READ, pool.pop() ?? new Uint8Array(CHUNK));
      return { read, cancel: (e) => byob.cancel(e), pool };
    }
    byob.releaseLock();
  } catch {
    // Not a byte stream.
  }
  const reader = body.getReader();
  return { read: () => reader.read(), cancel: (e) => reader.cancel(e), pool: null };
}

/**
 * Moves `head` then `body` to every live sink (the first is the client).
 * Resolves to one boolean per sink after the first (whole or abandoned);
 * rejects with a TransferError, every sink killed, when the transfer failed.
 * @param {ReadableStream<Uint8Array>} body
 * @param {Uint8Array | undefined} head
 * @param {number | undefined} length
 * @param {number} idleMs
 * @param {Sink[]} sinks
 * @param {number} [until] the transfer's overall deadline (a `Date.now()` time)
 * @returns {Promise<boolean[]>}
 */
export async function pump(body, head, length, idleMs, sinks, until = Infinity) {
  /** @type {ReturnType<typeof reading> | undefined} */
  let reader;
  let seen = 0;
  const wrong = () => new TransferError(seen > (length ?? 0) ? "long" : "short", `body has ${seen} bytes, not ${length}`);
  const live = () => sinks.filter((s) => !s.dead);
  /**
   * Every live sink gets `chunk`; its buffer returns to the pool once all are done with it.
   * @param {Uint8Array} chunk
   * @param {boolean} pooled
   */
  const send = (chunk, pooled) => {
    const to = live();
    let left = to.length;
    const pool = reader?.pool;
    const settled = () => {
      if (--left === 0 && pooled && pool && chunk.buffer.byteLength === CHUNK) pool.push(new Uint8Array(chunk.buffer));
    };
    for (const s of to) s.write(chunk, settled);
  };
  try {
    reader = reading(body);
    if (head && head.byteLength) {
      seen = head.byteLength;
      if (length !== undefined && seen > length) throw wrong();
      send(head, false);
    }
    for (;;) {
      for (const s of sinks) {
        if (s.dead || s.pending <= s.window) continue;
        if (s.whenBehind === "paced") await s.drained();
        else s.kill(new TransferError("aborted", `copy abandoned: more than ${s.window} bytes behind the client`));
      }
      if (!live().length) throw new TransferError("aborted", "every output of the transfer went away");
      // A read waits for 64 KiB (or the end): a source slower than that per
      // `idleMs` counts as stalled.
      const next = await within(reader.read(), idleMs, () => `upstream stalled: under ${MIN_READ} bytes in ${idleMs} ms`, until);
      if (next.done) break;
      seen += next.value.byteLength;
      if (length !== undefined && seen > length) throw wrong();
      send(next.value, true);
    }
    if (length !== undefined && seen !== length) throw wrong();
    await Promise.all(live().map((s) => s.writer.close().catch((e) => s.kill(e))));
    return sinks.slice(1).map((s) => !s.dead);
  } catch (e) {
    const t = tagged(e);
    for (const s of sinks) s.kill(t);
    if (reader) reader.cancel(t).catch(() => {});
    else body.cancel(t).catch(() => {});
    throw t;
  }
}

/**
 * A stored body of a known length (edge cache, R2), piped by the runtime
 * alone (no JS per chunk): its FixedLengthStream fails the transfer on any
 * other total.
 * @param {ReadableStream<Uint8Array>} body
 * @param {number} length
 * @returns {ReadableStream<Uint8Array>}
 */
export function passStored(body, length) {
  const out = new FixedLengthStream(length);
  body.pipeTo(out.writable).catch(() => {});
  return out.readable;
}
