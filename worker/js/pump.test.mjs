// The mirror's pump (pump.js) on fake streams in Node: what reaches the
// client and the copies, and the tagged error of every way a transfer fails
// (the codes worker/src/streams.rs maps into its TransferError).
import { test } from "node:test";
import assert from "node:assert/strict";

// workerd's FixedLengthStream, faked: passes bytes and errors on any total
// other than `length` (as the runtime does), and IdentityTransformStream.
// Like the runtime's native streams, they copy what is written (a write that
// has settled leaves the writer's buffer free for reuse, which the pump's
// buffer pool relies on).
class FakeFixedLengthStream extends TransformStream {
  constructor(length) {
    let seen = 0;
    super({
      transform(chunk, ctl) {
        seen += chunk.byteLength;
        if (seen > length) throw new Error(`fixed-length stream: ${seen} > ${length}`);
        ctl.enqueue(chunk.slice());
      },
      flush() {
        if (seen !== length) throw new Error(`fixed-length stream: ${seen} != ${length}`);
      },
    });
  }
}
globalThis.FixedLengthStream = FakeFixedLengthStream;
globalThis.IdentityTransformStream = class extends TransformStream {
  constructor() {
    super({ transform: (chunk, ctl) => ctl.enqueue(chunk.slice()) });
  }
};

const { passBody, readAll, readHead, TransferError } = await import("./pump.js");

const bytes = (...xs) => new Uint8Array(xs);
const concat = (parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

/** A plain stream of `chunks`, then the end (or `end` as an error, or never). */
function source(chunks, end = "close") {
  return new ReadableStream({
    start(ctl) {
      for (const c of chunks) ctl.enqueue(c);
      if (end === "close") ctl.close();
      else if (end instanceof Error) ctl.error(end);
    },
  });
}

async function drain(readable) {
  const parts = [];
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(parts);
    parts.push(value);
  }
}

async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}

test("head then the rest reach the client and every copy; done says each copy is whole", async () => {
  const t = passBody(source([bytes(3, 4), bytes(5)]), bytes(1, 2), 5, 1000, 2, 1 << 20);
  const [client, a, b, done] = await Promise.all([drain(t.readable), drain(t.copies[0]), drain(t.copies[1]), t.done]);
  for (const got of [client, a, b]) assert.deepEqual(got, bytes(1, 2, 3, 4, 5));
  assert.deepEqual(done, [true, true]);
});

test("without a length the bytes pass through an identity stream", async () => {
  const t = passBody(source([bytes(7), bytes(8, 9)]), new Uint8Array(0), undefined, 1000, 0, 0);
  assert.deepEqual(await drain(t.readable), bytes(7, 8, 9));
  assert.deepEqual(await t.done, []);
});

test("a body shorter than its length fails as short, and the client sees an error", async () => {
  const t = passBody(source([bytes(1, 2)]), new Uint8Array(0), 4, 1000, 1, 1 << 20);
  const e = await rejection(t.done);
  assert.ok(e instanceof TransferError);
  assert.equal(e.code, "short");
  assert.equal(e.message, "body has 2 bytes, not 4");
  await assert.rejects(drain(t.readable));
});

test("a body longer than its length fails as long", async () => {
  const t = passBody(source([bytes(1, 2), bytes(3, 4)]), bytes(0), 3, 1000, 0, 0);
  const e = await rejection(t.done);
  assert.equal(e.code, "long");
  assert.match(e.message, /^body has \d bytes, not 3$/);
});

test("a head already longer than the length fails as long before any read", async () => {
  const t = passBody(source([]), bytes(1, 2, 3), 2, 1000, 0, 0);
  assert.equal((await rejection(t.done)).code, "long");
});

test("a source that sends nothing within the idle time fails as stalled", async () => {
  const t = passBody(source([bytes(1)], "never"), new Uint8Array(0), 10, 50, 0, 0);
  const e = await rejection(t.done);
  assert.equal(e.code, "stalled");
  assert.match(e.message, /^upstream stalled: under 65536 bytes in 50 ms$/);
});

test("a drip that never stalls still ends at the transfer's overall deadline", async () => {
  // A byte every 10 ms: each read beats the 1000 ms idle timer, forever.
  let timer;
  const drip = new ReadableStream({
    start(ctl) {
      timer = setInterval(() => ctl.enqueue(bytes(7)), 10);
    },
    cancel() {
      clearInterval(timer);
    },
  });
  const t0 = Date.now();
  const t = passBody(drip, new Uint8Array(0), 1_000_000, 1000, 0, 0, Date.now() + 150);
  const e = await rejection(t.done);
  clearInterval(timer);
  assert.equal(e.code, "deadline");
  assert.match(e.message, /overall deadline/);
  assert.ok(Date.now() - t0 < 1000, "ended by the deadline, not the idle timer");
  const h = await rejection(readAll(source([bytes(1)], "never"), 10, 1000, Date.now() + 20));
  assert.equal(h.code, "deadline");
});

test("a source that fails mid-body fails as reset, with its message and cause", async () => {
  const boom = new Error("connection reset by peer");
  const t = passBody(source([bytes(1)], boom), new Uint8Array(0), 10, 1000, 0, 0);
  const e = await rejection(t.done);
  assert.equal(e.code, "reset");
  assert.equal(e.message, "connection reset by peer");
  assert.equal(e.cause, boom);
});

test("a copy that falls more than its window behind is abandoned; the client still gets every byte", async () => {
  const chunks = Array.from({ length: 8 }, (_, i) => new Uint8Array(16).fill(i));
  // The copy is never read: its writes stay pending past a 16-byte window.
  const t = passBody(source(chunks), new Uint8Array(0), 128, 1000, 1, 16);
  const client = await drain(t.readable);
  assert.deepEqual(client, concat(chunks));
  assert.deepEqual(await t.done, [false], "the copy was abandoned");
  const e = await rejection(drain(t.copies[0]));
  assert.equal(e.code, "aborted");
  assert.match(e.message, /^copy abandoned: more than 16 bytes behind the client$/);
});

test("a client that goes away does not stop a copy", async () => {
  const chunks = [bytes(1), bytes(2), bytes(3)];
  const t = passBody(source(chunks), new Uint8Array(0), 3, 1000, 1, 1 << 20);
  await t.readable.cancel("gone");
  assert.deepEqual(await drain(t.copies[0]), bytes(1, 2, 3));
  assert.deepEqual(await t.done, [true]);
});

test("when every output went away the transfer fails as aborted", async () => {
  let pulls = 0;
  const endless = new ReadableStream({
    pull(ctl) {
      pulls += 1;
      ctl.enqueue(new Uint8Array(8));
    },
  });
  const t = passBody(endless, new Uint8Array(0), undefined, 1000, 0, 0);
  await t.readable.cancel("gone");
  const e = await rejection(t.done);
  assert.equal(e.code, "aborted");
  assert.equal(e.message, "every output of the transfer went away");
  assert.ok(pulls > 0);
});

test("byte streams are read with readAtLeast into pooled buffers", async () => {
  const proto = ReadableStreamBYOBReader.prototype;
  const calls = [];
  // workerd's readAtLeast, approximated by one BYOB read.
  proto.readAtLeast = function (min, view) {
    calls.push([min, view.byteLength]);
    return this.read(view);
  };
  try {
    const data = new Uint8Array(3 << 20).map((_, i) => i % 251);
    let at = 0;
    const body = new ReadableStream({
      type: "bytes",
      pull(ctl) {
        const n = Math.min(700_000, data.length - at);
        if (n === 0) {
          // A BYOB read pending at the end is answered with zero bytes.
          ctl.close();
          return ctl.byobRequest?.respond(0);
        }
        ctl.enqueue(data.slice(at, at + n));
        at += n;
      },
    });
    const t = passBody(body, new Uint8Array(0), data.length, 1000, 1, 32 << 20);
    const [client, copy] = await Promise.all([drain(t.readable), drain(t.copies[0])]);
    assert.deepEqual(client, data);
    assert.deepEqual(copy, data);
    assert.deepEqual(await t.done, [true]);
    assert.ok(calls.length > 1 && calls.every(([min, len]) => min === 64 << 10 && len === 1 << 20), JSON.stringify(calls));
  } finally {
    delete proto.readAtLeast;
  }
});

test("readHead reads the first bytes and leaves the rest readable", async () => {
  const { head, rest } = await readHead(source([bytes(1, 2), bytes(3), bytes(4, 5)]), 3, 1000);
  assert.deepEqual(head, bytes(1, 2, 3));
  assert.deepEqual(await drain(rest), bytes(4, 5));
});

test("readHead of a stalled source fails as stalled", async () => {
  const e = await rejection(readHead(source([], "never"), 4, 30));
  assert.equal(e.code, "stalled");
  assert.equal(e.message, "upstream stalled: no data within 30 ms");
});

test("readAll returns a body within its limit and fails a larger one as too_large", async () => {
  assert.deepEqual(await readAll(source([bytes(1), bytes(2, 3)]), 3, 1000), bytes(1, 2, 3));
  const e = await rejection(readAll(source([bytes(1, 2), bytes(3, 4)]), 3, 1000));
  assert.equal(e.code, "too_large");
  assert.equal(e.message, "body over 3 bytes");
});
