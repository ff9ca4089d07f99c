// Benchmark (not a test): downloading a 200 MB file through the browser
// symbol client's fetchSymbol versus a plain fetch() of the same URL, in the
// same page and run, in Debian's Chromium, from an upstream on 127.0.0.1.
// Also the page's peak live JS heap during each download, in separate runs
// that force a garbage collection every 50 ms before each sample (so the
// figure is what the page retains, not garbage not yet collected).
//
//   node tests/client/bench-download.mjs [runs=3] [megabytes=200]
//
// Needs the wasm package (`cargo xtask wasm`). Prints a markdown table.
import { createServer } from "node:http";
import { join } from "node:path";
import { launch, ROOT } from "../web/browser.mjs";
import { serve } from "../web/serve.mjs";

const RUNS = Number(process.argv[2] ?? 3);
const SIZE = Number(process.argv[3] ?? 200) * 1000 * 1000;
const KEY = "big.pdb/B16B16B16B16B16B16B16B16B16B16B11/big.pdb";

// The upstream: a synthetic PDB of SIZE bytes generated on the fly (1 MiB blocks), with CORS.
const block = Buffer.alloc(1 << 20, 0x42);
Buffer.from("Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0", "latin1").copy(block);
const upstream = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname.slice(1));
  const cors = { "access-control-allow-origin": "*", "access-control-expose-headers": "content-length" };
  if (path !== `store/${KEY}`) return res.writeHead(404, cors).end();
  res.writeHead(200, { ...cors, "content-type": "application/octet-stream", "content-length": String(SIZE) });
  let sent = 0;
  const pump = () => {
    while (sent < SIZE) {
      const n = Math.min(block.length, SIZE - sent);
      sent += n;
      if (!res.write(n === block.length ? block : block.subarray(0, n))) return res.once("drain", pump);
    }
    res.end();
  };
  pump();
});
upstream.keepAliveTimeout = 120_000; // an idle keep-alive connection closing under Chromium fails its next fetch
await new Promise((ok) => upstream.listen(0, "127.0.0.1", ok));
const store = `http://127.0.0.1:${upstream.address().port}/store`;
const page_server = await serve(join(ROOT, "web"), 0);
const browser = await launch(["--enable-precise-memory-info", "--js-flags=--expose-gc"]);
const pageUrl = `http://127.0.0.1:${page_server.address().port}/`;

/** Runs one download kind in the page; returns seconds, bytes and the JS heap's peak growth. */
/** Each run gets a fresh browser context (its blobs and caches are freed when it closes). */
async function once(kind, memory) {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(pageUrl);
    await page.evaluate(async () => { window.sympathClient = await import("./pkg/client.js"); });
    return await onceIn(page, kind, memory);
  } catch (e) {
    throw new Error(`${kind}${memory ? " (memory run)" : ""}: ${e.message}`);
  } finally {
    await context.close();
  }
}

function onceIn(page, kind, memory) {
  return page.evaluate(async ({ kind, store, key, memory }) => {
    const { SymbolClient } = window.sympathClient;
    window.gc();
    const base = performance.memory.usedJSHeapSize;
    let peak = base;
    const timer = memory ? setInterval(() => { window.gc(); peak = Math.max(peak, performance.memory.usedJSHeapSize); }, 50) : 0;
    const t0 = performance.now();
    let bytes = 0;
    if (kind === "fetch") {
      const r = await fetch(`${store}/${key}`);
      const reader = r.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
      }
    } else if (kind === "fetch-blob") {
      bytes = (await (await fetch(`${store}/${key}`)).blob()).size;
    } else {
      const client = new SymbolClient({ symbolPath: `srv*${store}`, cacheName: kind === "fetchSymbol-nocache" ? null : "bench" });
      await client.clear();
      const res = await client.fetchSymbol({ name: "big.pdb", debugId: "B16B16B16B16B16B16B16B16B16B16B11" }, { onProgress: (loaded) => { bytes = loaded; } });
      bytes = res.size;
      // Until the copy in Cache Storage is written too.
      if (kind === "fetchSymbol-stored" && (await client.cached()).length !== 1) throw new Error("not stored");
    }
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(timer);
    if (kind.startsWith("fetchSymbol")) await new SymbolClient({ symbolPath: `srv*${store}`, cacheName: "bench" }).clear();
    return { seconds, bytes, heap: peak - base };
  }, { kind, store, key: KEY, memory });
}

const kinds = ["fetch", "fetch-blob", "fetchSymbol", "fetchSymbol-stored", "fetchSymbol-nocache"];
const results = Object.fromEntries(kinds.map((k) => [k, []]));
const heaps = Object.fromEntries(kinds.map((k) => [k, 0]));
await once("fetch", false); // warm up (wasm, JIT)
for (let i = 0; i < RUNS; i++) for (const k of kinds) results[k].push(await once(k, false));
for (const k of kinds) heaps[k] = (await once(k, true)).heap;
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mbps = (r) => r.bytes / 1e6 / r.seconds;
const base = median(results.fetch.map(mbps));
console.log(`| download of ${SIZE / 1e6} MB (median of ${RUNS} runs) | MB/s | × plain fetch | peak live JS heap growth |`);
console.log("|---|---|---|---|");
const labels = {
  fetch: "plain `fetch()`, body read and discarded",
  "fetch-blob": "plain `fetch()` + `blob()`",
  fetchSymbol: "`fetchSymbol` (default: the file is returned, its Cache Storage copy written in the background)",
  "fetchSymbol-stored": "`fetchSymbol` until its Cache Storage copy is written too",
  "fetchSymbol-nocache": "`fetchSymbol`, `cacheName: null` (into a Blob)",
};
for (const k of kinds) {
  const m = median(results[k].map(mbps));
  console.log(`| ${labels[k]} | ${m.toFixed(0)} | ${(m / base).toFixed(2)} | ${(heaps[k] / 1e6).toFixed(1)} MB |`);
}
await browser.close();
page_server.close();
upstream.close();
