// The browser symbol client (`sympath/client`) and the crash-viewer page, in
// Debian's Chromium, against the edge mirror in the real local Workers runtime
// and an upstream on 127.0.0.1 serving the fixture store. What reaches the
// mirror is read from wrangler's request log; what reaches the upstream from
// its own log.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, startMirror } from "../mirror/harness.mjs";
import { launch } from "../web/browser.mjs";
import { cabinet, withTimestamp } from "../mirror/cab.mjs";

const STORE = join(ROOT, "tests", "data", "store");
const PDB = "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb";
const EXE = "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe";
const MSDL = "srv*https://msdl.microsoft.com/download/symbols";
const SLOW_SIZE = 8 * 1024 * 1024;
const SLOW_ID = "51005B160000000000000000000000001"; // an 8 MiB PDB served slowly
const CONLY_ID = "0C0FFEE08000"; // only the compressed-only store has it: the EXE with TimeDateStamp 0x0C0FFEE0 (R67)
const conlyExe = async () => withTimestamp(await readFile(join(STORE, EXE)), 0x0c0ffee0);
const SHORT_ID = `5D0D7${"0".repeat(27)}1`; // a body cut short (GUID + age 1)
const HTML_ID = `D7A1${"0".repeat(28)}1`; // an HTML "200"
// The `/div` store: the cases on which the mirror and the client once disagreed (issue 10).
const DIV = {
  htmlPtr: `D1${"0".repeat(30)}1`, // a file.ptr served as text/html
  wrongCab: `D2${"0".repeat(30)}1`, // a .pd_ whose cabinet holds another file
  bigPtr: `D3${"0".repeat(30)}1`, // a file.ptr of 5000 bytes, chunked
  partial: `D4${"0".repeat(30)}1`, // a 206 for a plain GET
  failing: `D5${"0".repeat(30)}1`, // a 503 for the plain file
};

let upstream, mirror, browser;
const log = [];
const sha256 = (b) => createHash("sha256").update(b).digest("hex");

/**
 * The upstream, with CORS (browsers may use it directly): `/full/…` is the
 * fixture store plus a slow 8 MiB file; `/conly/…` a store holding only
 * compressed files (and, under the id `CONLY_ID`, a cabinet of the EXE with
 * that id's TimeDateStamp).
 */
function startUpstream() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const [store, ...rest] = decodeURIComponent(url.pathname.slice(1)).split("/");
    const path = rest.join("/");
    log.push(`${store}/${path}`);
    const cors = { "access-control-allow-origin": "*", "access-control-expose-headers": "content-length" };
    const send = (body) => res.writeHead(200, { ...cors, "content-type": "application/octet-stream", "content-length": String(body.length) }).end(body);
    if (req.method === "OPTIONS") return res.writeHead(204, { ...cors, "access-control-allow-headers": "*" }).end();
    if (store === "full" && path.split("/")[1] === SLOW_ID) {
      // 8 MiB of "PDB", 64 KiB every 20 ms: slow enough to abort in the middle.
      res.writeHead(200, { ...cors, "content-type": "application/octet-stream", "content-length": String(SLOW_SIZE) });
      const magic = Buffer.from("Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0", "latin1");
      let sent = 0;
      const tick = () => {
        if (res.destroyed) return;
        const chunk = Buffer.alloc(Math.min(65536, SLOW_SIZE - sent), 0x5a);
        if (sent === 0) magic.copy(chunk);
        sent += chunk.length;
        res.write(chunk);
        if (sent < SLOW_SIZE) setTimeout(tick, 20);
        else res.end();
      };
      return tick();
    }
    const id = path.split("/")[1];
    if (id === SHORT_ID) {
      // Announces 100 000 bytes, sends a PDB header, hangs up.
      res.writeHead(200, { ...cors, "content-type": "application/octet-stream", "content-length": "100000" });
      res.write(Buffer.from("Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0", "latin1"));
      return setTimeout(() => res.socket.destroy(), 50);
    }
    if (id === HTML_ID) return res.writeHead(200, { ...cors, "content-type": "text/html" }).end("<html>Sign in</html>");
    if (store === "div") {
      const file = path.split("/")[2] ?? "";
      const pdb = await readFile(join(STORE, PDB));
      if (id === DIV.htmlPtr && file === "file.ptr") {
        return res.writeHead(200, { ...cors, "content-type": "text/html" }).end(`PATH:http://127.0.0.1:${server.address().port}/full/${PDB}`);
      }
      if (id === DIV.wrongCab && file.endsWith("_")) return send(await readFile(join(STORE, PDB.replace(/pdb$/, "pd_"))));
      if (id === DIV.bigPtr && file === "file.ptr") return res.writeHead(200, { ...cors, "content-type": "text/plain" }).end("P".repeat(5000));
      if (id === DIV.partial && file.endsWith(".pdb")) {
        return res.writeHead(206, { ...cors, "content-type": "application/octet-stream", "content-length": String(pdb.length) }).end(pdb);
      }
      if (id === DIV.failing && file.endsWith(".pdb")) return res.writeHead(503, { ...cors, "retry-after": "30" }).end();
      return res.writeHead(404, cors).end();
    }
    let file = path;
    if (store === "conly") {
      if (!path.endsWith("_")) return res.writeHead(404, cors).end();
      if (path.includes(`/${CONLY_ID}/`)) return send(cabinet("ShowSSEConfig.exe", await conlyExe()));
    }
    const body = await readFile(join(STORE, file)).catch(() => null);
    if (!body || store === "") return res.writeHead(404, cors).end();
    send(body);
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

before(async () => {
  upstream = await startUpstream();
  const up = `http://127.0.0.1:${upstream.address().port}`;
  mirror = await startMirror({
    port: 19787 + (process.pid % 1000),
    vars: { SYMBOL_PATH: `srv*${up}/full;srv*${up}/conly;srv*${up}/div`, MISS_TTL: "60", ALLOW_PRIVATE_REDIRECTS: "true" },
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await mirror?.stop();
  upstream?.closeAllConnections();
  upstream?.close();
});

/** A fresh browser context (empty Cache Storage) on a page served by the mirror, with the client loaded. */
async function page(path = "/") {
  const context = await browser.newContext();
  const p = await context.newPage();
  const requests = [];
  p.on("request", (r) => requests.push(r.url()));
  const errors = [];
  p.on("pageerror", (e) => errors.push(String(e)));
  await p.goto(mirror.url + path);
  await p.evaluate(async () => { window.sympathClient = await import("./pkg/client.js"); });
  return { p, requests, errors, close: () => context.close() };
}

/** Runs fetchSymbol in the page; returns what the test needs, with the bytes' SHA-256 computed in the page. */
function fetchIn(p, options, request, extra = {}) {
  return p.evaluate(async ({ options, request, extra }) => {
    const { SymbolClient, SymbolError } = window.sympathClient;
    const client = new SymbolClient(options);
    const progress = [];
    const controller = new AbortController();
    try {
      const res = await client.fetchSymbol(request, {
        signal: controller.signal,
        onProgress: (loaded, total) => {
          progress.push([loaded, total]);
          if (extra.abortAfter && loaded >= extra.abortAfter) controller.abort();
        },
      });
      const bytes = new Uint8Array(await (await res.blob()).arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      return {
        ok: true, source: res.source, url: res.url, size: res.size, length: bytes.length, expanded: res.expanded,
        sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""), probes: res.probes, progress,
        cached: (await client.cached()).map((c) => c.key),
      };
    } catch (e) {
      return {
        ok: false, isSymbolError: e instanceof SymbolError, code: e.code, message: e.message, probes: e.probes, progress,
        cached: (await client.cached()).map((c) => c.key),
      };
    }
  }, { options, request, extra });
}

test("fetches the fixture PDB by GUID/age through the mirror, with progress; the second fetch comes from Cache Storage with no request to the mirror", async () => {
  const want = await readFile(join(STORE, PDB));
  const { p, requests, errors, close } = await page();
  try {
    const options = { symbolPath: MSDL, mirror: mirror.url };
    const request = { name: "ShowSSEConfig.pdb", guid: "A6259241-8D78-0749-4C4C-44205044422E", age: 1 };
    const first = await fetchIn(p, options, request);
    assert.ok(first.ok, first.message);
    assert.equal(first.source, "network");
    assert.equal(first.url, `${mirror.url}/${PDB}`, "Microsoft's server rewritten through the mirror");
    assert.equal(first.sha256, sha256(want), "byte for byte the fixture PDB");
    assert.equal(first.size, want.length);
    // Progress: monotonic, with the total, ending at the file size.
    assert.ok(first.progress.length >= 1);
    for (let i = 1; i < first.progress.length; i++) assert.ok(first.progress[i][0] >= first.progress[i - 1][0]);
    assert.deepEqual(first.progress.at(-1), [want.length, want.length]);
    assert.deepEqual(first.cached, [PDB]);
    const atMirror = mirror.requests(PDB);
    assert.ok(atMirror >= 1, "the first fetch went to the mirror");

    const second = await fetchIn(p, options, request);
    assert.ok(second.ok, second.message);
    assert.equal(second.source, "cache");
    assert.equal(second.sha256, sha256(want));
    assert.equal(second.probes[0].kind, "cache");
    await new Promise((r) => setTimeout(r, 300)); // let wrangler's log catch up
    assert.equal(mirror.requests(PDB), atMirror, "the second fetch made no request to the mirror");
    assert.ok(requests.every((u) => u.startsWith(mirror.url)), `every request stayed on the mirror: ${requests.filter((u) => !u.startsWith(mirror.url))}`);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("by Breakpad debug id; a PE by code id", async () => {
  const { p, close } = await page();
  try {
    const byDebugId = await fetchIn(p, { symbolPath: `srv*${mirror.url}` }, { name: "ShowSSEConfig.pdb", debugId: "A6259241-8D78-0749-4C4C-44205044422E-1" });
    assert.ok(byDebugId.ok, byDebugId.message);
    assert.equal(byDebugId.sha256, sha256(await readFile(join(STORE, PDB))));
    const pe = await fetchIn(p, { symbolPath: `srv*${mirror.url}` }, { name: "ShowSSEConfig.exe", codeId: "63E6C7F78000" });
    assert.ok(pe.ok, pe.message);
    assert.equal(pe.sha256, sha256(await readFile(join(STORE, EXE))));
  } finally {
    await close();
  }
});

test("compressed-only stores: expanded by the mirror, or in the browser (WebAssembly) when fetched directly", async () => {
  const exe = await readFile(join(STORE, EXE));
  const pdb = await readFile(join(STORE, PDB));
  const { p, close } = await page();
  try {
    // Only the compressed-only store has this id (its .ex_ holds the EXE with that id's TimeDateStamp): the mirror expands it.
    const viaMirror = await fetchIn(p, { symbolPath: `srv*${mirror.url}` }, { name: "ShowSSEConfig.exe", timestamp: 0x0c0ffee0, sizeOfImage: 0x8000 });
    assert.ok(viaMirror.ok, viaMirror.message);
    assert.equal(viaMirror.url, `${mirror.url}/ShowSSEConfig.exe/${CONLY_ID}/ShowSSEConfig.exe`);
    assert.equal(viaMirror.expanded, true, "expanded at the edge");
    assert.equal(viaMirror.sha256, sha256(await conlyExe()));

    // Straight from the compressed-only store (it sends CORS headers): expanded in WebAssembly.
    const direct = await fetchIn(p, { symbolPath: `srv*http://127.0.0.1:${upstream.address().port}/conly` }, { name: "ShowSSEConfig.exe", codeId: "63E6C7F78000" });
    assert.ok(direct.ok, direct.message);
    assert.equal(direct.expanded, true);
    assert.equal(direct.sha256, sha256(exe), "the .ex_ expanded in the browser is the EXE, byte for byte");
    assert.deepEqual(direct.probes.map((x) => [x.kind, x.variant, x.outcome]), [["cache", "plain", "miss"], ["http", "plain", "miss"], ["http", "compressed", "hit"]]);
    const cab = await readFile(join(STORE, EXE.replace(/exe$/, "ex_")));
    assert.deepEqual(direct.progress.at(-1), [cab.length, cab.length], "progress counts the compressed bytes downloaded");
    // The .pd_ holds a separately source-indexed copy of the PDB (tests/data/store/README.md):
    // same size and identity as the plain one.
    const pdbCab = await fetchIn(p, { symbolPath: `srv*http://127.0.0.1:${upstream.address().port}/conly` }, { name: "ShowSSEConfig.pdb", guid: "A62592418D7807494C4C44205044422E", age: 1 });
    assert.ok(pdbCab.ok, pdbCab.message);
    assert.equal(pdbCab.length, pdb.length);
  } finally {
    await close();
  }
});

test("a miss names every place tried; an unreachable store names the URL and the likely cause", async () => {
  const { p, close } = await page();
  try {
    const miss = await fetchIn(p, { symbolPath: `cache*C:\\c;srv*${mirror.url}` }, { name: "nothere.pdb", guid: "00000000000000000000000000000001", age: 1 });
    assert.equal(miss.ok, false);
    assert.equal(miss.isSymbolError, true);
    assert.equal(miss.code, "not_found");
    assert.deepEqual(miss.probes.map((x) => [x.kind, x.outcome]), [["cache", "miss"], ["http", "miss"], ["http", "skipped"], ["http", "skipped"]]);
    assert.match(miss.probes[2].reason, /mirror already tried/);
    const down = await fetchIn(p, { symbolPath: "srv*http://127.0.0.1:9/store" }, { name: "a.pdb", guid: "00000000000000000000000000000001", age: 1 });
    assert.equal(down.code, "network");
    assert.match(down.message, /http:\/\/127\.0\.0\.1:9\/store\/a\.pdb\/000000000000000000000000000000011\/a\.pdb/);
    assert.match(down.message, /unreachable, or refused CORS/);
    const bad = await fetchIn(p, { symbolPath: "srv*https://h/s*C:\\x" }, { name: "a.pdb", guid: "00000000000000000000000000000001", age: 1 });
    assert.equal(bad.code, "bad_path");
    assert.match(bad.message, /SP204/);
  } finally {
    await close();
  }
});

test("an abort in the middle of a download rejects with `aborted` and stores nothing", async () => {
  const { p, close } = await page();
  try {
    const r = await fetchIn(p, { symbolPath: `srv*${mirror.url}` }, { name: "slow.pdb", guid: SLOW_ID.slice(0, 32), age: 1 }, { abortAfter: 256 * 1024 });
    assert.equal(r.ok, false);
    assert.equal(r.isSymbolError, true);
    assert.equal(r.code, "aborted", r.message);
    assert.ok(r.progress.length >= 1, "the download had started");
    assert.ok(r.progress.at(-1)[0] < SLOW_SIZE, "aborted before the end");
    assert.deepEqual(r.cached, [], "nothing is in Cache Storage");
  } finally {
    await close();
  }
});

test("a body cut short is never stored and an HTML 200 is a miss (straight from a store, no mirror)", async () => {
  const { p, close } = await page();
  try {
    const store = `srv*http://127.0.0.1:${upstream.address().port}/full`;
    const short = await fetchIn(p, { symbolPath: store }, { name: "short.pdb", guid: SHORT_ID.slice(0, 32), age: 1 });
    assert.equal(short.ok, false);
    assert.equal(short.code, "network", short.message);
    assert.match(short.message, /short\.pdb/);
    assert.deepEqual(short.cached, [], "nothing of the short body is in Cache Storage");
    const html = await fetchIn(p, { symbolPath: store }, { name: "page.pdb", guid: HTML_ID.slice(0, 32), age: 1 });
    assert.equal(html.code, "not_found");
    assert.match(html.probes[1].reason, /HTML/);
    assert.deepEqual(html.cached, []);
  } finally {
    await close();
  }
});

test("issue 10: the client and the mirror give the same answer where they once disagreed (one lookup engine)", async () => {
  const { p, close } = await page();
  const up = `http://127.0.0.1:${upstream.address().port}`;
  try {
    const cases = [
      ["htmlPtr", "not_found", 404, /file\.ptr: .*HTML|HTML page/],
      ["wrongCab", "not_found", 404, /the cabinet holds ShowSSEConfig\.pdb, not other\.pdb/],
      ["bigPtr", "not_found", 404, /over 4096 bytes is not a pointer/],
      ["partial", "network", 502, /unexpected status 206/],
      ["failing", "network", 502, /busy \(503/],
    ];
    for (const [name, clientCode, mirrorStatus, why] of cases) {
      const request = { name: "other.pdb", guid: DIV[name].slice(0, 32), age: 1 };
      const key = `other.pdb/${DIV[name]}/other.pdb`;
      // The client, straight from the store (the browser executor).
      const direct = await fetchIn(p, { symbolPath: `srv*${up}/div`, cacheName: null }, request);
      assert.equal(direct.ok, false, name);
      assert.equal(direct.code, clientCode, `${name}: ${direct.message}`);
      const said = [direct.message, ...direct.probes.map((x) => x.reason ?? "")].join(" | ");
      assert.match(said, why, `${name} (client): ${said}`);
      // The mirror (the edge executor), asked for the same key.
      const r = await fetch(`${mirror.url}/${key}`);
      const body = await r.json();
      assert.equal(r.status, mirrorStatus, `${name} (mirror): ${body.message}`);
      assert.match(body.message, why, `${name} (mirror)`);
    }
    // A failed store is not asked for its other variants, by either executor.
    const failing = log.filter((l) => l.startsWith("div/") && l.includes(DIV.failing));
    assert.ok(failing.length >= 2, "both executors asked");
    assert.ok(failing.every((l) => l.endsWith("/other.pdb")), `only the plain file was asked for: ${failing}`);
  } finally {
    await close();
  }
});

test("locate lists the places in order without fetching; has() checks with HEAD; the cache can be listed and evicted", async () => {
  const { p, close } = await page();
  try {
    const before = mirror.requests(PDB);
    const out = await p.evaluate(async ({ url }) => {
      const { SymbolClient } = window.sympathClient;
      const client = new SymbolClient({ symbolPath: "cache*C:\\c;C:\\local;srv*https://msdl.microsoft.com/download/symbols", mirror: url });
      const request = { name: "ShowSSEConfig.pdb", debugId: "A62592418D7807494C4C44205044422E1" };
      const located = await client.locate(request);
      const elf = await client.locate({ kind: "elf_debug", name: "libc.so.6", buildId: "ff00112233445566778899aabbccddeeff001122" });
      const has = await client.has(request);
      const none = await client.has({ name: "nothere.pdb", debugId: "00000000000000000000000000000000A" });
      const fetched = await client.fetchSymbol(request);
      const hasCached = await client.has(request);
      const listed = await client.cached();
      const evicted = await client.evict(request);
      const after = await client.cached();
      return { located, elf, has, none, source: fetched.source, hasCached, listed, evicted, after };
    }, { url: mirror.url });
    // cache* and the downstream store are the browser cache; the plain directory C:\local is out of reach.
    assert.deepEqual(out.located.map((x) => x.kind), ["cache", "unreachable", "http", "http", "http"]);
    assert.deepEqual(out.located.slice(2).map((x) => x.variant), ["plain", "compressed", "file_ptr"]);
    assert.equal(out.located[1].location, "C:\\local\\ShowSSEConfig.pdb");
    assert.equal(out.located[2].location, `${mirror.url}/${PDB}`);
    assert.match(out.located[1].reason, /cannot read local or UNC paths/);
    assert.equal(out.elf.find((x) => x.kind === "http").location, `${mirror.url}/_.debug/elf-buildid-sym-ff00112233445566778899aabbccddeeff001122/_.debug`, "ELF by build id (SSQP key)");
    assert.equal(out.has.found, true);
    assert.equal(out.has.url, `${mirror.url}/${PDB}`);
    assert.equal(out.has.probes.at(-1).status, 200);
    assert.equal(out.none.found, false);
    assert.equal(out.source, "network");
    assert.equal(out.hasCached.url, `cache-storage:${PDB}`, "found in the browser cache first");
    assert.deepEqual(out.listed.map((c) => [c.key, c.size, c.url]), [[PDB, 372736, `${mirror.url}/${PDB}`]]);
    assert.equal(out.evicted, true);
    assert.deepEqual(out.after, []);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(mirror.output().includes(`HEAD /${PDB}`), "has() asked with HEAD");
    assert.equal(mirror.requests(PDB), before + 2, "one HEAD and one GET reached the mirror");
  } finally {
    await close();
  }
});

test("the crash viewer: a synthesized minidump's modules, and the fixture program's PDB fetched (then served from the browser cache)", async () => {
  // rust-minidump's minidump-synth writes a dump whose module list holds the fixture program.
  const dir = await mkdtemp(join(tmpdir(), "sympath-dump-"));
  const dump = join(dir, "crash.dmp");
  execFileSync("cargo", ["run", "--quiet", "--locked", "-p", "sympath-ident", "--example", "synth_minidump", "--", dump], { cwd: ROOT, stdio: "inherit" });
  const want = await readFile(join(STORE, PDB));
  const { p, errors, close } = await page("/crash.html");
  try {
    await p.waitForSelector("html[data-ready=true]");
    assert.equal(await p.inputValue("#sympath"), `srv*${mirror.url}`, "by default the page's own mirror is the store");
    await p.setInputFiles("#file", dump);
    await p.waitForSelector('tr[data-module="2"]');
    const row = p.locator('tr[data-module="0"]');
    const text = await row.innerText();
    for (const s of ["ShowSSEConfig.exe", "0x7ff612340000", "ShowSSEConfig.pdb", "A62592418D7807494C4C44205044422E1", "63E6C7F78000"]) assert.ok(text.includes(s), `${s} in ${text}`);
    assert.match(await p.locator("#dump-facts").innerText(), /3 modules, amd64, windows/);
    assert.ok(await p.locator('tr[data-module="2"] button').count() === 0, "no fetch button without debug info");

    await row.getByRole("button", { name: /Fetch symbols for ShowSSEConfig.exe/ }).click();
    await p.waitForFunction(() => window.__crash.results["ShowSSEConfig.exe"]);
    const first = await p.evaluate(() => window.__crash.results["ShowSSEConfig.exe"]);
    assert.equal(first.status, "found", first.message);
    assert.equal(first.source, "network");
    assert.equal(first.sha256, sha256(want), "the PDB's bytes, verified");
    assert.equal(await row.locator("a[download]").getAttribute("download"), "ShowSSEConfig.pdb");

    await p.evaluate(() => { delete window.__crash.results["ShowSSEConfig.exe"]; });
    await row.getByRole("button", { name: /Fetch symbols for ShowSSEConfig.exe/ }).click();
    await p.waitForFunction(() => window.__crash.results["ShowSSEConfig.exe"]);
    const second = await p.evaluate(() => window.__crash.results["ShowSSEConfig.exe"]);
    assert.equal(second.source, "cache", "a second run is served from the browser cache");
    assert.match(await row.innerText(), /from the browser cache/);

    // ntdll's PDB is in no store here: shown as missing, with the reason.
    await p.locator('tr[data-module="1"] button').click();
    await p.waitForFunction(() => window.__crash.results["ntdll.dll"]);
    assert.equal((await p.evaluate(() => window.__crash.results["ntdll.dll"])).status, "missing");
    assert.match(await p.locator('tr[data-module="1"]').innerText(), /not found/);
    await p.screenshot({ path: join(ROOT, "test-output", "web", "crash-viewer.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

// ---- the crash viewer symbolizes: stack walk + PDB in a Web Worker, PDB read in Range blocks ----

/** The crashing thread's frames as minidump-stackwalk printed them (tests/data/crash/README.md), normalized. */
async function stackwalkFrames() {
  const out = JSON.parse(await readFile(join(ROOT, "tests", "data", "crash", "stackwalk.json"), "utf8"));
  const thread = out.threads[out.crashing_thread.threads_index];
  return thread.frames.map((f) => normalizeFrame({
    module: f.module ?? null, function: f.function ?? null, function_offset: f.function_offset ?? null,
    file: f.file ?? null, line: f.line ?? null, trust: f.trust, module_offset: f.module_offset ?? null,
    inlines: (f.inlines ?? []).map((i) => ({ function: i.function, file: i.file ?? null, line: i.line ?? null })),
  }));
}

/** dump_syms writes C++ names with their parameter lists (read from the type stream, which sympath does not fetch): compare names without them. */
function normalizeFrame(f) {
  const bare = (n) => (n === null ? null : n.replace(/\(.*\)$/, ""));
  const hex = (h) => (h === null ? null : `0x${BigInt(h).toString(16)}`);
  return {
    module: f.module, function: bare(f.function), function_offset: f.function ? hex(f.function_offset) : null, module_offset: hex(f.module_offset),
    file: f.file, line: f.line, trust: f.trust.replace("frame_pointer", "frame_pointer"),
    inlines: f.inlines.map((i) => ({ function: bare(i.function), file: i.file, line: i.line })),
  };
}

async function crashDump() {
  const dir = await mkdtemp(join(tmpdir(), "sympath-crash-"));
  const dump = join(dir, "crash.dmp");
  execFileSync("cargo", ["run", "--quiet", "--locked", "-p", "sympath-crash", "--example", "crash_minidump", "--", dump], { cwd: ROOT, stdio: "inherit" });
  return dump;
}

/**
 * Fetches the fixture PDB and EXE through the mirror once, until its cache
 * answers Range: the traffic measured is then the browser's alone (a cold
 * mirror would ask the upstream for each range, see the mirror's tests).
 */
async function warmMirror() {
  for (const key of [PDB, EXE]) await (await fetch(`${mirror.url}/${key}`)).arrayBuffer();
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${mirror.url}/${PDB}`, { headers: { Range: "bytes=0-4095" } });
    await r.arrayBuffer();
    if (r.status === 206) return;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  throw new Error("the mirror never answered Range for the fixture PDB");
}

test("the crash viewer symbolizes a crash: frames equal minidump-stackwalk's, the PDB read in Range blocks costs a part of a whole download, and a repeat costs nothing", async () => {
  const dump = await crashDump();
  await warmMirror();
  const expected = await stackwalkFrames();
  const wholeSize = (await readFile(join(STORE, PDB))).length;
  const { p, errors, close } = await page("/crash.html");
  try {
    await p.waitForSelector("html[data-ready=true]");
    const started = Date.now();
    await p.setInputFiles("#file", dump);
    await p.waitForFunction(() => window.__crash.crash || window.__crash.crashError, null, { timeout: 60_000 });
    const dropToSymbols = Date.now() - started;
    const state = await p.evaluate(() => ({ crash: window.__crash.crash, error: window.__crash.crashError, progress: window.__crash.progress }));
    assert.equal(state.error, null);
    const report = state.crash.report;
    assert.equal(report.crash.reason, "EXCEPTION_ACCESS_VIOLATION_READ");
    assert.equal(report.crash.code, "0xc0000005");
    assert.equal(report.threads[0].crashed, true, "the crashing thread comes first");
    assert.deepEqual(report.threads[0].frames.map(normalizeFrame), expected, "the crashing thread's frames equal minidump-stackwalk's");
    assert.ok(state.progress.some((s) => /ShowSSEConfig.exe: (reading symbols|locating symbols)/.test(s)), "progress was shown");

    // The page: summary, crashing thread open with module!function+off (file:line), missing symbols with reasons, per-frame probe links.
    assert.match(await p.locator("#crash-summary").innerText(), /EXCEPTION_ACCESS_VIOLATION_READ/);
    const crashed = p.locator(`details.thread[data-thread="${report.crash.thread_id}"]`);
    assert.equal(await crashed.getAttribute("open"), "");
    const text = await crashed.innerText();
    assert.match(text, /ShowSSEConfig\.exe!printf\+0x45 .*stdio\.h:958/);
    assert.match(text, /inlined ShowSSEConfig\.exe!invoke_main/);
    const link = await crashed.locator("a").first().getAttribute("href");
    assert.match(link, /#p=.*&kind=pdb&name=ShowSSEConfig\.pdb&debugid=A62592418D7807494C4C44205044422E1/);
    assert.match(await p.locator('#crash-modules li[data-module="kernel32.dll"]').innerText(), /symbols missing: kernel32\.pdb.*not found/);
    assert.match(await p.locator('#crash-modules li[data-module="nodebug.dll"]').innerText(), /symbols missing: the dump records no PDB/);
    assert.match(report.text, /Crash reason: EXCEPTION_ACCESS_VIOLATION_READ/);
    assert.match(report.text, /kernel32\.dll\+0x17033/);
    assert.equal(await p.locator("#copy-report").isDisabled(), false);

    // The PDB came in Range blocks (64 KiB by the page's default); a whole download is the file's size.
    const t = state.crash.traffic.find((x) => x.key === PDB);
    assert.equal(t.ranged, true, "read in Range blocks");
    assert.equal(t.size, wholeSize);

    // With 4 KiB blocks (the PDB's page size) and no cached blocks: measured against a whole-file download.
    const measured = await p.evaluate(async (PDB) => {
      await caches.delete("sympath-pdb-blocks");
      const { symbolicate } = await import("./pkg/crash.js");
      const { SymbolClient } = await import("./pkg/client.js");
      const dump = window.__crash.lastDump;
      const symbolPath = `srv*${location.origin}`;
      const t0 = performance.now();
      const ranged = await symbolicate(dump, { symbolPath, blockSize: 4096 });
      const rangedMs = performance.now() - t0;
      const again = await symbolicate(dump, { symbolPath, blockSize: 4096 });
      const t1 = performance.now();
      const whole = await new SymbolClient({ symbolPath, cacheName: null }).fetchSymbol({ name: "ShowSSEConfig.pdb", debugId: PDB.split("/")[1] });
      const wholeBytes = (await (await whole.blob()).arrayBuffer()).byteLength;
      return { ranged: ranged.traffic, rangedMs, again: again.traffic, frames: again.report.threads[0].frames, wholeBytes, wholeMs: performance.now() - t1 };
    }, PDB);
    const r = measured.ranged.find((x) => x.key === PDB);
    console.log(`# crash viewer: drop to symbolized ${dropToSymbols} ms; PDB by Range (4 KiB blocks): ${r.fetched} B in ${r.requests} requests, ${Math.round(measured.rangedMs)} ms; whole download ${measured.wholeBytes} B, ${Math.round(measured.wholeMs)} ms`);
    assert.equal(measured.wholeBytes, wholeSize);
    assert.ok(r.ranged && r.fetched <= 0.3 * measured.wholeBytes, `Range reads fetched ${r.fetched} of ${measured.wholeBytes} bytes`);
    assert.equal(measured.again.find((x) => x.key === PDB).fetched, 0, "a repeat reads the blocks from Cache Storage");
    assert.deepEqual(measured.frames.map(normalizeFrame), expected);
    assert.deepEqual(errors, []);
    await p.screenshot({ path: join(ROOT, "test-output", "web", "crash-symbolized.png"), fullPage: true });
  } finally {
    await close();
  }
});

test("the crash viewer says clearly what it cannot read: a truncated dump, random bytes", async () => {
  const dump = await readFile(await crashDump());
  const { p, close } = await page("/crash.html");
  try {
    await p.waitForSelector("html[data-ready=true]");
    const out = await p.evaluate(async (bytes) => {
      const { symbolicate } = await import("./pkg/crash.js");
      const results = [];
      for (const b of [new Uint8Array(bytes).slice(0, 200), new Uint8Array(4096).fill(0x41)]) {
        try {
          await symbolicate(b, { symbolPath: `srv*${location.origin}` });
          results.push("resolved");
        } catch (e) {
          results.push(`${e.code}: ${e.message}`);
        }
      }
      return results;
    }, [...dump]);
    // An Error with a code, the message for a person.
    assert.match(out[0], /^corrupt: not a readable minidump/);
    assert.match(out[1], /^corrupt: not a readable minidump/);
    await p.setInputFiles("#file", { name: "cut.dmp", mimeType: "application/octet-stream", buffer: dump.subarray(0, 300) });
    await p.waitForSelector("#dump-error:not([hidden])");
    assert.match(await p.locator("#dump-error").innerText(), /cut\.dmp/);
  } finally {
    await close();
  }
});
