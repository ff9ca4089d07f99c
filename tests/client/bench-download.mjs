// Benchmark (not a test): downloading a 200 MB file through the browser
// symbol client's fetchSymbol versus a plain fetch() of the same URL, in the
// same page and run, in Debian's Chromium, from an upstream on 127.0.0.1.
// Also the page's peak JS heap during each download.
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
await new Promise((ok) => upstream.listen(0, "127.0.0.1", ok));
const store = `http://127.0.0.1:${upstream.address().port}/store`;
const page_server = await serve(join(ROOT, "web"), 0);
const browser = await launch(["--enable-precise-memory-info"]);
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${page_server.address().port}/`);
await page.evaluate(async () => { window.sympathClient = await import("./pkg/client.js"); });

/** Runs one download kind in the page; returns seconds, bytes and the JS heap's peak growth. */
function once(kind) {
  return page.evaluate(async ({ kind, store, key }) => {
    const { SymbolClient } = window.sympathClient;
    if (window.gc) window.gc();
    const base = performance.memory.usedJSHeapSize;
    let peak = base;
    const timer = setInterval(() => { peak = Math.max(peak, performance.memory.usedJSHeapSize); }, 20);
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
    } else {
      const client = new SymbolClient({ symbolPath: `srv*${store}`, cacheName: kind === "fetchSymbol" ? "bench" : null });
      await client.clear();
      const res = await client.fetchSymbol({ name: "big.pdb", debugId: "B16B16B16B16B16B16B16B16B16B16B11" }, { onProgress: (loaded) => { bytes = loaded; } });
      bytes = res.size;
    }
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, performance.memory.usedJSHeapSize);
    if (kind === "fetchSymbol") await new SymbolClient({ symbolPath: `srv*${store}`, cacheName: "bench" }).clear();
    return { seconds, bytes, heap: peak - base };
  }, { kind, store, key: KEY });
}

const kinds = ["fetch", "fetchSymbol", "fetchSymbol-nocache"];
const results = Object.fromEntries(kinds.map((k) => [k, []]));
await once("fetch"); // warm up (wasm, JIT)
for (let i = 0; i < RUNS; i++) for (const k of kinds) results[k].push(await once(k));
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mbps = (r) => r.bytes / 1e6 / r.seconds;
const base = median(results.fetch.map(mbps));
console.log(`| download of ${SIZE / 1e6} MB (median of ${RUNS}) | MB/s | × plain fetch | peak JS heap growth |`);
console.log("|---|---|---|---|");
for (const k of kinds) {
  const label = { fetch: "plain `fetch()`, body read and discarded", fetchSymbol: "`fetchSymbol`, into Cache Storage (default)", "fetchSymbol-nocache": "`fetchSymbol`, `cacheName: null` (into a Blob)" }[k];
  const m = median(results[k].map(mbps));
  const heap = Math.max(...results[k].map((r) => r.heap));
  console.log(`| ${label} | ${m.toFixed(0)} | ${(m / base).toFixed(2)} | ${(heap / 1e6).toFixed(1)} MB |`);
}
await browser.close();
page_server.close();
upstream.close();
