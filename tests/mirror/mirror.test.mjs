// The edge mirror in the real local Workers runtime (wrangler dev → workerd),
// in front of an upstream on 127.0.0.1 that serves the fixture store and
// injects faults. Every case checks what the client gets and, through the
// upstream's request log, what the mirror asked and what it cached.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
const STORE = join(ROOT, "tests", "data", "store");
const PDB = "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb";
const EXE = "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe";

let upstream, second, mirror, wrangler, state;
const log = [];
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
    } else if (id === "C0MPRESSED0NLY00" && path.endsWith(".ex_")) {
      // A compressed-only store: the .ex_ of the fixture under another id.
      const body = await readFile(join(STORE, "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.ex_"));
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) }).end(body);
    } else if (id === "SHORT000000000000000000000000000001") {
      // Announces 100 000 bytes, sends a PDB header, then hangs up.
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "100000" });
      res.write(Buffer.from("Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0", "latin1"));
      setTimeout(() => res.socket.destroy(), 50);
    } else if (id === "FAIL0000000000000000000000000000001") {
      res.writeHead(500).end("boom");
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

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`mirror not ready at ${url}`);
}

/** The redirect target: serves the fixture PDB's bytes, records what it was sent. */
function startSecond() {
  const server = createServer(async (req, res) => {
    authSeen.second.push(req.headers.authorization ?? null);
    const body = await readFile(join(STORE, PDB));
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) }).end(body);
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

before(async () => {
  upstream = await startUpstream();
  second = await startSecond();
  const port = 18787 + (process.pid % 1000);
  mirror = `http://127.0.0.1:${port}`;
  const tools = join(process.env.HOME, ".cache", "sympath-tools");
  state = await mkdtemp(join(tmpdir(), "sympath-mirror-")); // a fresh cache for every run
  wrangler = spawn(join(ROOT, "node_modules", ".bin", "wrangler"), [
    "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(port + 1),
    "--persist-to", state,
    // Credentials in the store URL: sent to that store as Basic auth, never to a redirect target (R28, R88).
    "--var", `SYMBOL_PATH:srv*http://mirror-user:s3cret@127.0.0.1:${upstream.address().port}`, "--var", "MISS_TTL:60",
    "--var", "ALLOW_PRIVATE_REDIRECTS:true", // the second host is on 127.0.0.1 too
  ], {
    cwd: ROOT,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      PATH: `${join(tools, "worker-build-0.8.7", "bin")}:${process.env.PATH}`,
      WASM_BINDGEN_BIN: join(tools, "wasm-bindgen-0.2.129", "bin", "wasm-bindgen"),
      WASM_OPT_BIN: join(ROOT, "node_modules", ".bin", "wasm-opt"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  wrangler.stdout.on("data", (d) => { out += d; });
  wrangler.stderr.on("data", (d) => { out += d; });
  try {
    await waitFor(`${mirror}/health`, 600_000);
  } catch (e) {
    throw new Error(`${e.message}\n${out.slice(-3000)}`);
  }
});

after(async () => {
  wrangler?.kill("SIGTERM");
  upstream?.close();
  second?.close();
  if (state) await rm(state, { recursive: true, force: true });
});

const requested = (p) => log.filter((x) => x === p).length;

test("hit: streamed from upstream, byte for byte; the second request is served from the cache", async () => {
  const want = await readFile(join(STORE, PDB));
  const r1 = await fetch(`${mirror}/${PDB}`);
  assert.equal(r1.status, 200);
  assert.equal(r1.headers.get("x-sympath-cache"), "miss");
  assert.deepEqual(Buffer.from(await r1.arrayBuffer()), want);
  assert.equal(requested(PDB), 1);
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

test("a body cut short is never served as a file, and never stays in the cache", async () => {
  const key = "short.pdb/SHORT000000000000000000000000000001/short.pdb";
  const get = () => fetch(`${mirror}/${key}`).then((r) => r.arrayBuffer()).then(() => "complete", () => "failed");
  assert.equal(await get(), "failed", "the client sees the transfer fail, not a short file");
  // Whatever the runtime's cache kept of the failed transfer is never served
  // as complete, and is evicted: within two more requests the upstream is asked again.
  const n = requested(key);
  for (let i = 0; i < 3 && requested(key) === n; i++) {
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(await get(), "failed");
  }
  assert.ok(requested(key) > n, "the damaged entry did not stay in the cache");
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
