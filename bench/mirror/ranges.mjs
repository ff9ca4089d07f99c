// Repeated range reads of a large PDB through the mirror (issue 11): what the
// upstream sends, with the chunked range cache and without it (the range
// forwarded upstream on every miss, nothing kept), measured in one run.
//
// The upstream is a Node server on 127.0.0.1 serving one 128 MiB PDB (the
// fixture PDB, its MSF directory intact, padded with a pattern) with Range,
// ETag and Last-Modified, bodies streamed with backpressure; every byte it
// writes to its sockets is counted (headers included). The reads model a PDB
// read block by block: CLUSTERS runs of BLOCKS consecutive 64 KiB reads at
// fixed pseudo-random places, done PASSES times (a crash symbolicated again).
// Two mirrors in `wrangler dev` (workerd), each with a fresh edge cache and
// R2: "chunks" with the defaults of wrangler.toml (files of 64 MiB and more
// kept as 1 MiB chunks, at most 16 per request), "forward" with
// RANGE_CACHE_MIN_BYTES above the file's size.
//
// Usage (after `cargo xtask test` or a worker build): node bench/mirror/ranges.mjs
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, startMirror } from "../../tests/mirror/harness.mjs";

const PDB = "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb";
const KEY = "big.pdb/A62592418D7807494C4C44205044422E1/big.pdb";
const SIZE = 128 << 20;
const BLOCK = 64 << 10;
const CLUSTERS = 20;
const BLOCKS = 10;
const PASSES = 3;

const fixture = await readFile(join(ROOT, "tests", "data", "store", PDB));
const body = Buffer.alloc(SIZE);
fixture.copy(body);
for (let i = fixture.length; i < SIZE; i++) body[i] = (i * 13 + (i >> 9)) & 255;

let written = 0;
let requests = 0;
/** Requests by kind: a GET of the whole file, a HEAD, a GET of a range. */
const kinds = { whole: 0, head: 0, range: 0 };
const sockets = new Set();
const upstream = createServer((req, res) => {
  if (new URL(req.url, "http://x").pathname.slice(1) !== KEY) return res.writeHead(404).end();
  requests++;
  kinds[req.method === "HEAD" ? "head" : req.headers.range ? "range" : "whole"]++;
  const common = { "content-type": "application/octet-stream", etag: '"bench"', "last-modified": "Tue, 01 Dec 2026 10:00:00 GMT", "accept-ranges": "bytes" };
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
  let [first, last] = [0, SIZE - 1];
  if (m) {
    [first, last] = [Number(m[1]), Math.min(Number(m[2]), SIZE - 1)];
    res.writeHead(206, { ...common, "content-length": String(last - first + 1), "content-range": `bytes ${first}-${last}/${SIZE}` });
  } else {
    res.writeHead(200, { ...common, "content-length": String(SIZE) });
  }
  if (req.method === "HEAD") return res.end();
  // 256 KiB at a time, waiting for the socket: a body the mirror drops costs only what was sent.
  let at = first;
  let gone = false;
  res.on("close", () => { gone = true; });
  const pump = () => {
    while (!gone && at <= last) {
      const piece = body.subarray(at, Math.min(at + (256 << 10), last + 1));
      at += piece.length;
      if (!res.write(piece)) return res.once("drain", pump);
    }
    if (!gone) res.end();
  };
  pump();
});
upstream.on("connection", (s) => {
  sockets.add(s);
  s.on("close", () => { written += s.bytesWritten; sockets.delete(s); });
});
await new Promise((ok) => upstream.listen(0, "127.0.0.1", ok));
const sent = () => written + [...sockets].reduce((n, s) => n + s.bytesWritten, 0);

// Fixed pseudo-random cluster starts, block-aligned.
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const starts = Array.from({ length: CLUSTERS }, () => Math.floor(rand() * (SIZE / BLOCK - BLOCKS)) * BLOCK);

async function run(name, vars, port) {
  const mirror = await startMirror({
    port,
    vars: { SYMBOL_PATH: `srv*http://127.0.0.1:${upstream.address().port}`, ALLOW_PRIVATE_REDIRECTS: "true", ...vars },
  });
  const rows = [];
  try {
    for (let pass = 1; pass <= PASSES; pass++) {
      const [b0, r0, t0] = [sent(), requests, performance.now()];
      const k0 = { ...kinds };
      for (const start of starts) {
        for (let k = 0; k < BLOCKS; k++) {
          const first = start + k * BLOCK;
          const r = await fetch(`${mirror.url}/${KEY}`, { headers: { Range: `bytes=${first}-${first + BLOCK - 1}` } });
          const got = Buffer.from(await r.arrayBuffer());
          if (r.status !== 206 || !got.equals(body.subarray(first, first + BLOCK))) throw new Error(`${name}: wrong answer at ${first} (${r.status})`);
        }
      }
      await new Promise((ok) => setTimeout(ok, 1500)); // the stores' writes run after the answers
      rows.push({ name, pass, upstreamBytes: sent() - b0, upstreamRequests: requests - r0, by: `${kinds.whole - k0.whole} / ${kinds.head - k0.head} / ${kinds.range - k0.range}`, ms: Math.round(performance.now() - t0 - 1500) });
    }
  } finally {
    await mirror.stop();
  }
  return rows;
}

const base = 18700 + (process.pid % 500);
const rows = [
  ...(await run("forward", { RANGE_CACHE_MIN_BYTES: String(SIZE + 1) }, base)),
  ...(await run("chunks", {}, base + 2)),
];
upstream.close();
for (const s of sockets) s.destroy();
const served = CLUSTERS * BLOCKS * BLOCK;
console.log(`${CLUSTERS * BLOCKS} reads of 64 KiB per pass (${(served / 2 ** 20).toFixed(1)} MiB served) of a ${SIZE >> 20} MiB PDB`);
console.log("| mode | pass | upstream bytes | upstream requests | whole GET / HEAD / Range GET | time (ms) |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.name} | ${r.pass} | ${r.upstreamBytes.toLocaleString("en")} | ${r.upstreamRequests} | ${r.by} | ${r.ms} |`);
const total = (name) => rows.filter((r) => r.name === name).reduce((n, r) => n + r.upstreamBytes, 0);
console.log(`total upstream bytes over ${PASSES} passes: forward ${total("forward").toLocaleString("en")}, chunks ${total("chunks").toLocaleString("en")}`);
