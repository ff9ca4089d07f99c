// Benchmark (not a test): the crash viewer's `symbolicate` in Debian's
// Chromium (playwright-core) on the crash in bench/bigpdb's large program,
// its PE and PDB served by a symbol store on 127.0.0.1 that answers Range
// and counts the bytes it sends.
//
//   bench/bigpdb/build.sh /tmp/sympath-bigpdb
//   cargo run --release -p sympath-crash --example bigpdb -- /tmp/sympath-bigpdb 8   # writes big.dmp and expected.json
//   cargo xtask wasm
//   node bench/bigpdb/browser.mjs /tmp/sympath-bigpdb
//
// Runs the same crash with 64 KiB blocks (the page's default) and 4 KiB
// blocks, each with empty block caches, checks the frames against the names
// the example read from the PDB, and prints bytes served against the PDB's size.
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { launch, ROOT } from "../../tests/web/browser.mjs";
import { serve } from "../../tests/web/serve.mjs";

const DIR = resolve(process.argv[2] ?? "/tmp/sympath-bigpdb");
const expected = JSON.parse(await readFile(join(DIR, "expected.json"), "utf8"));
const dump = await readFile(join(DIR, "big.dmp"));
const pdbSize = (await stat(join(DIR, "big.pdb"))).size;

// The symbol store: big.exe/<code id>/big.exe and big.pdb/<debug id>/big.pdb, with Range and CORS.
const served = { pdb: 0, pdbRequests: 0, exe: 0 };
const store = createServer(async (req, res) => {
  const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "range", "access-control-expose-headers": "content-length, content-range, accept-ranges" };
  if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  // Keys compare case-insensitively, as on Microsoft's server (the code id's size is lower case there).
  const key = path.toLowerCase();
  const file = key === `/big.pdb/${expected.debugId}/big.pdb`.toLowerCase() ? "big.pdb" : key === `/big.exe/${expected.codeId}/big.exe`.toLowerCase() ? "big.exe" : null;
  if (!file) { if (process.env.DEBUG) console.log("404", req.method, path); return res.writeHead(404, cors).end(); }
  const size = (await stat(join(DIR, file))).size;
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  let [from, to, status] = [0, size - 1, 200];
  if (m) [from, to, status] = [Number(m[1]), Math.min(m[2] ? Number(m[2]) : size - 1, size - 1), 206];
  const headers = { ...cors, "content-type": "application/octet-stream", "accept-ranges": "bytes", "content-length": String(to - from + 1) };
  if (status === 206) headers["content-range"] = `bytes ${from}-${to}/${size}`;
  res.writeHead(status, headers);
  if (req.method === "HEAD") return res.end();
  if (file === "big.pdb") { served.pdb += to - from + 1; served.pdbRequests++; } else served.exe += to - from + 1;
  createReadStream(join(DIR, file), { start: from, end: to }).pipe(res);
});
await new Promise((ok) => store.listen(0, "127.0.0.1", ok));
const storeUrl = `http://127.0.0.1:${store.address().port}`;

const web = await serve(join(ROOT, "web"), 0);
const browser = await launch();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${web.address().port}/`);
  await page.waitForSelector("html[data-ready=true]");
  const rows = [];
  for (const blockSize of [65536, 4096]) {
    served.pdb = 0;
    served.pdbRequests = 0;
    served.exe = 0;
    const r = await page.evaluate(async ({ dump, symbolPath, blockSize }) => {
      await caches.delete("sympath-pdb-blocks");
      const { symbolicate } = await import("./pkg/crash.js");
      const t0 = performance.now();
      const out = await symbolicate(new Uint8Array(dump), { symbolPath, blockSize });
      return { ms: performance.now() - t0, report: out.report, traffic: out.traffic, module: out.report.modules[0] };
    }, { dump: [...dump], symbolPath: `srv*${storeUrl}`, blockSize });
    if (process.env.DEBUG) console.log(JSON.stringify(r.module));
    for (const [i, want] of expected.frames.entries()) {
      const f = r.report.threads[i].frames[0];
      const inline = f.inlines[0]?.function ?? null;
      if (f.function !== want.function || inline !== want.inline) throw new Error(`thread ${i}: ${f.function} / ${inline}, expected ${want.function} / ${want.inline}`);
    }
    const t = r.traffic.find((x) => x.key.startsWith("big.pdb/"));
    if (!t?.ranged || t.fetched !== served.pdb) throw new Error(`the worker counted ${t?.fetched} B (ranged ${t?.ranged}), the store sent ${served.pdb} B`);
    rows.push({ blockSize, ms: Math.round(r.ms), served: served.pdb, requests: served.pdbRequests, exe: served.exe });
  }
  console.log(`PDB ${pdbSize} B; ${expected.frames.length} frames equal to the whole-stream read's names`);
  console.log("| blocks | time to symbolized report | PDB bytes served | share of the PDB | PDB requests | PE image (whole) |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.blockSize / 1024} KiB | ${r.ms} ms | ${r.served} B | ${(r.served * 100 / pdbSize).toFixed(3)} % | ${r.requests} | ${r.exe} B |`);
  }
  await context.close();
} finally {
  await browser.close();
  web.close();
  store.close();
}
