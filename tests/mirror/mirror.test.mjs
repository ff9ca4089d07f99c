// The edge mirror in the real local Workers runtime (wrangler dev → workerd),
// in front of an upstream on 127.0.0.1 that serves the fixture store and
// injects faults. Every case checks what the client gets and, through the
// upstream's request log, what the mirror asked and what it cached.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, startMirror } from "./harness.mjs";

const STORE = join(ROOT, "tests", "data", "store");
const PDB = "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb";
const EXE = "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe";

let upstream, second, mirror, server;
const PDB_MAGIC = Buffer.from("Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0", "latin1");
// A 2 MB "PDB": magic, then a pattern a truncation or an offset error would break.
const BIG = Buffer.concat([PDB_MAGIC, Buffer.from(Array.from({ length: 2_000_000 - PDB_MAGIC.length }, (_, i) => (i * 7 + (i >> 8)) & 255))]);
const TIMEOUT_MS = 2000;
const log = [];
const secondLog = [];
const authSeen = { first: [], second: [] };

/** Upstream: the fixture store, plus fault paths keyed by the id segment. */
function startUpstream() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname.slice(1));
    log.push(path);
    authSeen.first.push(req.headers.authorization ?? null);
    const id = path.split("/")[1] ?? "";
    if (id === "A62592418D7807494C4C44205044422E1" && path.startsWith("moved.pdb/")) {
      // Like msdl: a 302 to another host (here a second server on 127.0.0.1).
      res.writeHead(302, { location: `http://127.0.0.1:${second.address().port}/blob/${PDB}?sig=x` }).end();
    } else if (id === "HTML0000000000000000000000000000001") {
      res.writeHead(200, { "content-type": "text/html" }).end("<html><body>Sign in</body></html>");
    } else if (id === "EMPTY000000000000000000000000000001") {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "0" }).end();
    } else if (id === "HUGECAB000000000000000000000000001" && path.endsWith(".pd_")) {
      // A cabinet announced at 40 MB: over the mirror's bound for expanding at the edge.
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "40000000" });
      res.write(Buffer.concat([Buffer.from("MSCF\0\0\0\0", "latin1"), Buffer.alloc(4096)]));
      setTimeout(() => res.destroy(), 2000);
    } else if (id === "C0MPRESSED0NLY00" && path.endsWith(".ex_")) {
      // A compressed-only store: the .ex_ of the fixture under another id.
      const body = await readFile(join(STORE, "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.ex_"));
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) }).end(body);
    } else if (id === "SHORT000000000000000000000000000001") {
      // Announces 100 000 bytes, sends a PDB header, then hangs up.
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "100000" });
      res.write(Buffer.concat([PDB_MAGIC, Buffer.alloc(4096, 7)]));
      setTimeout(() => res.socket.destroy(), 50);
    } else if (id === "FAIL0000000000000000000000000000001") {
      res.writeHead(500).end("boom");
    } else if (id === "SLOW0000000000000000000000000000001") {
      // Never answers: the mirror's per-upstream timeout must end the wait.
    } else if (id === "STALL000000000000000000000000000001") {
      // Headers and a valid first chunk, then silence.
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "100000" });
      res.write(Buffer.concat([PDB_MAGIC, Buffer.alloc(4096, 7)]));
    } else if (id === "RESET000000000000000000000000000001") {
      // A connection reset (TCP RST) in the middle of the body.
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "100000" });
      res.write(Buffer.concat([PDB_MAGIC, Buffer.alloc(20000, 7)]));
      setTimeout(() => res.socket.resetAndDestroy(), 50);
    } else if (id === "RESETHEAD0000000000000000000000001") {
      req.socket.resetAndDestroy(); // reset before any answer
    } else if (id === "BIG00000000000000000000000000000001") {
      // Over the test's EDGE_CACHE_MAX_BYTES: streamed through, kept in R2 only.
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(BIG.length) }).end(BIG);
    } else if (id === "COPY0000000000000000000000000000001") {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(BIG.length) }).end(BIG);
    } else if (id === "SLOWMISS00000000000000000000000001") {
      // Not here, and slow to say so (like msdl's 2–3 s per 404).
      setTimeout(() => res.writeHead(404).end(), 300);
    } else if (id === "CHUNKED000000000000000000000000001") {
      // No Content-Length: chunked transfer encoding, in three pieces.
      const body = BIG.subarray(0, 300_000);
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.write(body.subarray(0, 1000));
      setTimeout(() => { res.write(body.subarray(1000, 200_000)); res.end(body.subarray(200_000)); }, 20);
    } else if (id === "TRICKLE000000000000000000000000001") {
      // 800 kB (under the edge-cache limit) in 64 KiB pieces, 20 ms apart.
      const body = BIG.subarray(0, 800_000);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) });
      let at = 0;
      const next = () => {
        if (res.destroyed) return;
        res.write(body.subarray(at, at + 65536));
        at += 65536;
        if (at < body.length) setTimeout(next, 20);
        else res.end();
      };
      next();
    } else if (id.startsWith("PTR") && path.endsWith("/file.ptr")) {
      const target = {
        PTRURL000000000000000000000000000001: `PATH:http://127.0.0.1:${second.address().port}/blob/${PDB}`,
        PTRCAB000000000000000000000000000001: `PATH:http://127.0.0.1:${second.address().port}/blob/${EXE.replace(/exe$/, "ex_")}`,
        PTRUNC000000000000000000000000000001: "PATH:\\\\builds\\symbols\\ptr.pdb",
        PTRMSG000000000000000000000000000001: "MSG:NoLongerIndexed",
      }[id];
      res.writeHead(200, { "content-type": "text/plain" }).end(`${target}\r\n`);
    } else {
      try {
        const body = await readFile(join(STORE, path));
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

/**
 * The second host: a redirect and file.ptr target (`/blob/<fixture key>`) and
 * the second upstream of the chain, which has only `SECONDONLY…` keys.
 * Records what it was sent.
 */
function startSecond() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname.slice(1));
    authSeen.second.push(req.headers.authorization ?? null);
    secondLog.push(path);
    const file = path.startsWith("blob/") ? path.slice(5)
      : path.split("/")[1] === "SECONDONLY0000000000000000000000001" && path.endsWith(".pdb") ? PDB : null;
    const body = file && await readFile(join(STORE, file)).catch(() => null);
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) }).end(body);
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

before(async () => {
  upstream = await startUpstream();
  second = await startSecond();
  server = await startMirror({
    port: 18787 + (process.pid % 1000),
    vars: {
      // Two upstreams in a chain, tried in order (R24); credentials in the first store's URL are
      // sent to that store as Basic auth, never to a redirect target (R28, R88).
      SYMBOL_PATH: `srv*http://mirror-user:s3cret@127.0.0.1:${upstream.address().port};srv*http://127.0.0.1:${second.address().port}`,
      MISS_TTL: "60",
      UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
      EDGE_CACHE_MAX_BYTES: "1000000",
      ALLOW_PRIVATE_REDIRECTS: "true", // the second host is on 127.0.0.1 too
    },
  });
  mirror = server.url;
});

after(async () => {
  await server?.stop();
  upstream?.closeAllConnections();
  upstream?.close();
  second?.close();
});

const requested = (p) => log.filter((x) => x === p).length;

test("hit: streamed from upstream, byte for byte; the second request is served from the cache", async () => {
  const want = await readFile(join(STORE, PDB));
  const r1 = await fetch(`${mirror}/${PDB}`);
  assert.equal(r1.status, 200);
  assert.equal(r1.headers.get("x-sympath-cache"), "miss");
  assert.deepEqual(Buffer.from(await r1.arrayBuffer()), want);
  assert.equal(requested(PDB), 1);
  // Where the miss spent its time: every phase it went through, in order.
  assert.match(r1.headers.get("server-timing") ?? "", /^edge;dur=\d+(\.\d+)?, r2;dur=\d+(\.\d+)?, upstream;dur=\d+(\.\d+)?$/);
  // The cache write happens after the response (waitUntil): give it a moment.
  let r2;
  for (let i = 0; i < 20; i++) {
    r2 = await fetch(`${mirror}/download/symbols/${PDB}`);
    if (r2.headers.get("x-sympath-cache") === "hit") break;
    await r2.arrayBuffer();
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(r2.headers.get("x-sympath-cache"), "hit");
  assert.deepEqual(Buffer.from(await r2.arrayBuffer()), want);
  assert.equal(requested(PDB), 1, "a cache hit makes no upstream request");
  assert.match(r2.headers.get("server-timing") ?? "", /^edge;dur=\d+(\.\d+)?$/, "a hit is answered by the edge cache alone");
  assert.equal(r2.headers.get("access-control-allow-origin"), "*");
});

test("bad keys are refused with a JSON error and no upstream request", async () => {
  const before = log.length;
  for (const [path, status, code] of [
    ["/a.pdb/..%2fx/a.pdb", 400, "bad_key_traversal"],
    ["/a.pdb/%2e%2e/a.pdb", 404, "not_a_key"], // the URL parser resolves the dot segment first
    ["/a.pdb/ABC1/b.pdb", 404, "bad_key_file"],
    ["/a%01.pdb/ABC1/a%01.pdb", 400, "bad_key_chars"],
  ]) {
    const r = await fetch(mirror + path);
    assert.equal(r.status, status, path);
    assert.equal((await r.json()).code, code, path);
  }
  const r = await fetch(`${mirror}/${PDB}`, { method: "POST", body: "x" });
  assert.equal(r.status, 405);
  assert.equal(log.length, before, "nothing reached the upstream");
});

test("a miss is remembered briefly, and a client can bypass that", async () => {
  const key = "nothere.pdb/00000000000000000000000000000000A/nothere.pdb";
  const r1 = await fetch(`${mirror}/${key}`);
  assert.equal(r1.status, 404);
  assert.equal((await r1.json()).code, "not_found");
  const asked = requested(key);
  assert.ok(asked >= 1);
  let r2;
  for (let i = 0; i < 20; i++) {
    r2 = await fetch(`${mirror}/${key}`);
    await r2.text();
    if (r2.headers.get("x-sympath-cache") === "negative") break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(r2.headers.get("x-sympath-cache"), "negative");
  const cachedAsks = requested(key);
  const r3 = await fetch(`${mirror}/${key}`, { headers: { "cache-control": "no-cache" } });
  await r3.text();
  assert.equal(r3.status, 404);
  assert.ok(requested(key) > cachedAsks, "the bypass asks the upstream again");
});

test("soft 404s (HTML 200, zero-byte 200) and 500s are never served or cached as files", async () => {
  for (const id of ["HTML0000000000000000000000000000001", "EMPTY000000000000000000000000000001"]) {
    const key = `x.pdb/${id}/x.pdb`;
    const r = await fetch(`${mirror}/${key}`);
    assert.equal(r.status, 404, id);
    assert.match((await r.json()).message, /HTML|empty/);
  }
  const key = "x.pdb/FAIL0000000000000000000000000000001/x.pdb";
  const r1 = await fetch(`${mirror}/${key}`);
  assert.equal(r1.status, 502);
  assert.equal((await r1.json()).code, "upstream_failed");
  const n = requested(key);
  const r2 = await fetch(`${mirror}/${key}`);
  await r2.text();
  assert.equal(r2.status, 502);
  assert.ok(requested(key) > n, "a failure is not cached");
});

test("CORS preflight and HEAD parity", async () => {
  const pre = await fetch(`${mirror}/${EXE}`, { method: "OPTIONS", headers: { origin: "https://viewer.example", "access-control-request-method": "GET" } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  assert.match(pre.headers.get("access-control-expose-headers"), /Content-Length/);
  const get = await fetch(`${mirror}/${EXE}`);
  const body = Buffer.from(await get.arrayBuffer());
  const head = await fetch(`${mirror}/${EXE}`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(body.length));
  assert.equal(head.headers.get("etag"), get.headers.get("etag"));
});

test("a compressed-only upstream: the .ex_ is expanded at the edge and served under the plain name", async () => {
  const key = "ShowSSEConfig.exe/C0MPRESSED0NLY00/ShowSSEConfig.exe";
  const want = await readFile(join(STORE, EXE));
  const r = await fetch(`${mirror}/${key}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("x-sympath-expanded"), "cab");
  assert.equal(r.headers.get("content-length"), String(want.length));
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), want, "byte for byte the plain file");
  assert.equal(requested(key), 1, "the plain name was tried first");
  assert.equal(requested(key.replace(/exe$/, "ex_")), 1);
  let again;
  for (let i = 0; i < 20; i++) {
    again = await fetch(`${mirror}/${key}`);
    await again.arrayBuffer();
    if (again.headers.get("x-sympath-cache") === "hit") break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(again.headers.get("x-sympath-cache"), "hit", "the expanded file is cached");
});

test("a compressed file over the edge's expansion bound (32 MiB) is a miss that says so, not a failure", async () => {
  const key = "huge.pdb/HUGECAB000000000000000000000000001/huge.pdb";
  const r = await fetch(`${mirror}/${key}`);
  assert.equal(r.status, 404);
  assert.match((await r.json()).message, /huge\.pd_: the cabinet is over the 33554432-byte limit for expanding it here/);
  // Asking for the .pd_ itself streams it through unexpanded (no bound: it is not buffered).
  assert.equal(requested(key.replace(/pdb$/, "pd_")), 1);
});

test("Range and If-None-Match are answered from the cache (206, 304)", async () => {
  const want = await readFile(join(STORE, PDB));
  // Warm the cache (test 1 did; make sure regardless).
  let etag;
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${mirror}/${PDB}`);
    await r.arrayBuffer();
    etag = r.headers.get("etag");
    if (r.headers.get("x-sympath-cache") === "hit") break;
    await new Promise((res) => setTimeout(res, 250));
  }
  const asked = requested(PDB);
  const part = await fetch(`${mirror}/${PDB}`, { headers: { range: "bytes=0-27" } });
  assert.equal(part.status, 206);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), want.subarray(0, 28));
  assert.match(part.headers.get("content-range") ?? "", /^bytes 0-27\/372736$/);
  const same = await fetch(`${mirror}/${PDB}`, { headers: { "if-none-match": etag } });
  assert.equal(same.status, 304);
  assert.equal(requested(PDB), asked, "answered without the upstream");
});

/**
 * Asserts that a key whose upstream transfer breaks is never answered with a
 * complete body, and that nothing of it stays stored: whatever the local
 * runtime's cache kept of a failed transfer is never served as complete and is
 * evicted, so within three more requests the upstream is asked again.
 */
async function neverStored(key) {
  // A transfer that fails, or an error status, is "failed": only a complete 2xx body would be a file.
  const get = () => fetch(`${mirror}/${key}`).then(
    (r) => r.arrayBuffer().then(() => (r.ok ? `complete (${r.status}, ${r.headers.get("x-sympath-cache")})` : "failed"), () => "failed"),
    () => "failed",
  );
  assert.equal(await get(), "failed", `${key}: the client sees the transfer fail, not a short file`);
  const n = requested(key);
  for (let i = 0; i < 3 && requested(key) === n; i++) {
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(await get(), "failed", key);
  }
  assert.ok(requested(key) > n, `${key}: nothing stayed stored (edge cache or R2): the store is asked again`);
}

test("a body cut short is never served as a file, and never stays in the cache", async () => {
  await neverStored("short.pdb/SHORT000000000000000000000000000001/short.pdb");
});

test("a redirect to a second host is followed without the store's credentials", async () => {
  const key = "moved.pdb/A62592418D7807494C4C44205044422E1/moved.pdb";
  const want = await readFile(join(STORE, PDB));
  const r = await fetch(`${mirror}/${key}`);
  assert.equal(r.status, 200);
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), want);
  assert.ok(authSeen.first.includes(`Basic ${Buffer.from("mirror-user:s3cret").toString("base64")}`), "the store itself gets the credentials");
  assert.ok(authSeen.second.length >= 1, "the redirect was followed");
  assert.deepEqual([...new Set(authSeen.second)], [null], "no Authorization to the redirect target");
});

/** Requests `key` until the answer's X-Sympath-Cache is `want` (cache and R2 writes finish after the response). */
async function until(key, want, init, base = mirror) {
  let r;
  for (let i = 0; i < 40; i++) {
    r = await fetch(`${base}/${key}`, init);
    const body = Buffer.from(await r.arrayBuffer());
    if (r.headers.get("x-sympath-cache") === want) return { r, body };
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.fail(`${key}: X-Sympath-Cache never became ${want} (last: ${r.headers.get("x-sympath-cache")})`);
}

test("the upstream chain is tried in order: a key only the second store has is served by it", async () => {
  const key = "ShowSSEConfig.pdb/SECONDONLY0000000000000000000000001/ShowSSEConfig.pdb";
  const want = await readFile(join(STORE, PDB));
  const r = await fetch(`${mirror}/${key}`);
  assert.equal(r.status, 200);
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), want);
  assert.equal(r.headers.get("x-sympath-upstream"), `http://127.0.0.1:${second.address().port}`);
  const dir = key.slice(0, key.lastIndexOf("/"));
  // The first store was asked for every variant first (R66), then the second.
  for (const v of ["ShowSSEConfig.pdb", "ShowSSEConfig.pd_", "file.ptr"]) assert.equal(requested(`${dir}/${v}`), 1, v);
  assert.equal(secondLog.filter((p) => p === key).length, 1);
});

test("an upstream that never answers times out (502, not cached) and the next upstream is still asked", async () => {
  const key = "slow.pdb/SLOW0000000000000000000000000000001/slow.pdb";
  const t0 = Date.now();
  const r = await fetch(`${mirror}/${key}`);
  const took = Date.now() - t0;
  assert.equal(r.status, 502);
  const body = await r.json();
  assert.equal(body.code, "upstream_failed");
  assert.match(body.message, new RegExp(`no answer within ${TIMEOUT_MS} ms`));
  assert.ok(took < TIMEOUT_MS * 2 + 1500, `one timeout per store, not one per variant (${took} ms)`);
  assert.equal(requested(key), 1, "a store that timed out is not asked for the other variants");
  assert.equal(secondLog.filter((p) => p === key).length, 1, "the second store was asked");
  const again = await fetch(`${mirror}/${key}`);
  await again.arrayBuffer();
  assert.equal(again.status, 502);
  assert.equal(requested(key), 2, "a timeout is never cached");
});

test("a transfer that stalls mid-body or is reset fails for the client and is never stored", async () => {
  for (const id of ["STALL000000000000000000000000000001", "RESET000000000000000000000000000001"]) await neverStored(`x.pdb/${id}/x.pdb`);
  const key = "x.pdb/RESETHEAD0000000000000000000000001/x.pdb";
  const r = await fetch(`${mirror}/${key}`);
  assert.equal(r.status, 502, "a reset before the answer is an upstream failure");
  assert.equal((await r.json()).code, "upstream_failed");
});

test("file.ptr: a pointer to a URL is followed (expanding a .ex_ target); UNC and MSG pointers are misses (R63, R64)", async () => {
  const pdb = await readFile(join(STORE, PDB));
  const key = "ptr.pdb/PTRURL000000000000000000000000000001/ptr.pdb";
  const r = await fetch(`${mirror}/${key}`);
  assert.equal(r.status, 200);
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), pdb);
  assert.equal(r.headers.get("x-sympath-pointer"), `http://127.0.0.1:${second.address().port}/blob/${PDB}`);
  assert.ok(authSeen.second.at(-1) === null, "no credentials to a pointer target");
  const { body } = await until(key, "hit");
  assert.deepEqual(body, pdb, "served again from the cache under the requested key");

  const exe = await readFile(join(STORE, EXE));
  const cab = await fetch(`${mirror}/ShowSSEConfig.exe/PTRCAB000000000000000000000000000001/ShowSSEConfig.exe`);
  assert.equal(cab.status, 200);
  assert.equal(cab.headers.get("x-sympath-expanded"), "cab");
  assert.deepEqual(Buffer.from(await cab.arrayBuffer()), exe);

  for (const [id, why] of [["PTRUNC000000000000000000000000000001", /cannot reach/], ["PTRMSG000000000000000000000000000001", /NoLongerIndexed/]]) {
    const miss = await fetch(`${mirror}/ptr.pdb/${id}/ptr.pdb`);
    assert.equal(miss.status, 404, id);
    assert.match((await miss.json()).message, why);
  }
});

test("R2 downstream store: an object over the edge-cache limit streams through, says so, and is served from R2 (whole, Range, 304, HEAD)", async () => {
  const key = "big.pdb/BIG00000000000000000000000000000001/big.pdb";
  const r1 = await fetch(`${mirror}/${key}`);
  assert.equal(r1.status, 200);
  assert.equal(r1.headers.get("x-sympath-cache"), "miss");
  assert.match(r1.headers.get("x-sympath-note") ?? "", /not in the edge cache: 2000000 bytes is over its 1000000-byte/);
  assert.deepEqual(Buffer.from(await r1.arrayBuffer()), BIG);
  const { r: r2, body } = await until(key, "r2");
  assert.deepEqual(body, BIG);
  assert.equal(r2.headers.get("content-length"), String(BIG.length));
  assert.equal(r2.headers.get("x-sympath-upstream"), `http://127.0.0.1:${upstream.address().port}`);
  const asked = requested(key);
  assert.equal(asked, 1, "R2 is read before any upstream");

  const part = await fetch(`${mirror}/${key}`, { headers: { range: "bytes=1000-1999" } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 1000-1999/${BIG.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), BIG.subarray(1000, 2000));
  const tail = await fetch(`${mirror}/${key}`, { headers: { range: "bytes=-16" } });
  assert.equal(tail.status, 206);
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), BIG.subarray(BIG.length - 16));
  const past = await fetch(`${mirror}/${key}`, { headers: { range: `bytes=${BIG.length}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get("content-range"), `bytes */${BIG.length}`);
  await past.arrayBuffer();
  const same = await fetch(`${mirror}/${key}`, { headers: { "if-none-match": r2.headers.get("etag") } });
  assert.equal(same.status, 304);
  const head = await fetch(`${mirror}/${key}`, { method: "HEAD" });
  for (const h of ["content-length", "etag", "x-sympath-cache", "x-sympath-upstream"]) assert.equal(head.headers.get(h), r2.headers.get(h), h);
  assert.equal(requested(key), asked, "none of these reached the upstream");
});

test("concurrent requests for one missing key cost the upstream one chain of probes; the others wait and get the remembered miss", async () => {
  const key = "slowmiss.pdb/SLOWMISS00000000000000000000000001/slowmiss.pdb";
  const asked = () => log.filter((p) => p.startsWith("slowmiss.pdb/")).length;
  const answers = await Promise.all([0, 1, 2].map(() => fetch(`${mirror}/${key}`)));
  for (const r of answers) {
    assert.equal(r.status, 404);
    assert.equal((await r.json()).code, "not_found");
  }
  assert.deepEqual(answers.map((r) => r.headers.get("x-sympath-cache")).sort(), ["miss", "negative", "negative"]);
  assert.equal(asked(), 3, "one chain (plain, compressed, file.ptr) for the three clients");
  // A bypass asks for itself.
  const fresh = await fetch(`${mirror}/${key}`, { headers: { "cache-control": "no-cache" } });
  assert.equal(fresh.status, 404);
  assert.equal(fresh.headers.get("x-sympath-cache"), "miss");
  await fresh.arrayBuffer();
  assert.equal(asked(), 6);
});

test("an upstream answer without Content-Length (chunked) is streamed whole, and not cached: its length cannot be checked", async () => {
  const key = "chunked.pdb/CHUNKED000000000000000000000000001/chunked.pdb";
  for (let i = 1; i <= 2; i++) {
    const r = await fetch(`${mirror}/${key}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("x-sympath-cache"), "miss");
    assert.equal(r.headers.get("x-sympath-note"), "not cached: the store sent no Content-Length: its length cannot be checked");
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), BIG.subarray(0, 300_000));
    assert.equal(requested(key), i, "every request goes upstream");
  }
});

test("a client that goes away mid-transfer does not stop the copies: the file is cached whole", async () => {
  const key = "trickle.pdb/TRICKLE000000000000000000000000001/trickle.pdb";
  const ctl = new AbortController();
  const r1 = await fetch(`${mirror}/${key}`, { signal: ctl.signal });
  assert.equal(r1.status, 200);
  const reader = r1.body.getReader();
  const first = await reader.read();
  assert.ok(first.value.byteLength < 800_000, "the client left before the end");
  ctl.abort();
  await reader.cancel().catch(() => {});
  // The upstream takes about 0.3 s to send it all; a request before then would
  // be a second miss (the mirror does not coalesce concurrent misses).
  await new Promise((r) => setTimeout(r, 1500));
  const { r, body } = await until(key, "hit");
  assert.equal(r.headers.get("content-length"), "800000");
  assert.deepEqual(body, BIG.subarray(0, 800_000));
  assert.equal(requested(key), 1, "the upstream was asked once");
});

test("a store copy that falls behind the client is abandoned, never half-stored, and R2 gets the file by a second fetch", async () => {
  // COPY_WINDOW_BYTES=0: a copy with anything still unwritten when the next
  // chunk is read is abandoned, so both copies are abandoned at once.
  const slow = await startMirror({
    port: 18787 + (process.pid % 1000) + 500,
    vars: {
      SYMBOL_PATH: `srv*http://127.0.0.1:${upstream.address().port}`,
      UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
      ALLOW_PRIVATE_REDIRECTS: "true",
      COPY_WINDOW_BYTES: "0",
    },
  });
  try {
    const key = "copy.pdb/COPY0000000000000000000000000000001/copy.pdb";
    const r1 = await fetch(`${slow.url}/${key}`);
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get("x-sympath-cache"), "miss");
    assert.deepEqual(Buffer.from(await r1.arrayBuffer()), BIG, "the client gets every byte");
    // The refill: one more upstream request, for R2 alone, after the client's transfer.
    for (let i = 0; i < 40 && requested(key) < 2; i++) await new Promise((r) => setTimeout(r, 250));
    assert.equal(requested(key), 2, "R2 was filled by a second fetch");
    const { r, body } = await until(key, "r2", undefined, slow.url);
    assert.deepEqual(body, BIG);
    assert.equal(r.headers.get("content-length"), String(BIG.length));
    // The abandoned edge copy was never marked whole: R2 answers again, the upstream is not asked.
    const again = await fetch(`${slow.url}/${key}`);
    assert.equal(again.headers.get("x-sympath-cache"), "r2");
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), BIG);
    assert.equal(requested(key), 2);
  } finally {
    await slow.stop();
  }
});

test("a page on another origin fetches from the mirror in Chromium: preflight, bytes, exposed headers", async () => {
  const { launch } = await import("../web/browser.mjs");
  const page_server = createServer((req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>viewer</title>"));
  await new Promise((ok) => page_server.listen(0, "127.0.0.1", ok));
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${page_server.address().port}/`);
    const got = await page.evaluate(async (url) => {
      // If-None-Match is not CORS-safelisted: this GET needs a preflight.
      const r = await fetch(url, { headers: { "if-none-match": "\"something-else\"" } });
      const bytes = new Uint8Array(await r.arrayBuffer());
      return {
        status: r.status, length: bytes.length, head: new TextDecoder().decode(bytes.subarray(0, 24)),
        contentLength: r.headers.get("content-length"), cache: r.headers.get("x-sympath-cache"), etag: r.headers.get("etag"),
      };
    }, `${mirror}/${PDB}`);
    const want = await readFile(join(STORE, PDB));
    assert.equal(got.status, 200);
    assert.equal(got.length, want.length);
    assert.equal(got.head, "Microsoft C/C++ MSF 7.00");
    assert.equal(got.contentLength, String(want.length), "Content-Length is exposed (progress bars)");
    assert.ok(["hit", "r2", "miss"].includes(got.cache), `X-Sympath-Cache is exposed (${got.cache})`);
    assert.ok(got.etag, "ETag is exposed");
  } finally {
    await browser.close();
    page_server.close();
  }
});

test("an invalid variable is reported by /health and answered 500 bad_config, never silently defaulted", async () => {
  const bad = await startMirror({
    port: 18787 + (process.pid % 1000) + 600,
    vars: { SYMBOL_PATH: `srv*http://127.0.0.1:${upstream.address().port}`, MISS_TTL: "5m" },
  });
  try {
    const health = await (await fetch(`${bad.url}/health`)).json();
    assert.equal(health.ok, false);
    assert.match(health.error, /^MISS_TTL: "5m" is not a whole number/);
    const before = requested(PDB);
    const r = await fetch(`${bad.url}/${PDB}`);
    assert.equal(r.status, 500);
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
    const body = await r.json();
    assert.equal(body.code, "bad_config");
    assert.match(body.message, /^MISS_TTL: /);
    assert.equal(requested(PDB), before, "no upstream request");
  } finally {
    await bad.stop();
  }
});
