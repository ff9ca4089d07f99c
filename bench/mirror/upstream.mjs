// The benchmark's upstream symbol store: a plain Node HTTP server on 127.0.0.1
// that serves synthetic PDBs at any store key whose file name gives the size,
//
//   GET /s<bytes>.pdb/<32 hex GUID><age>/s<bytes>.pdb  → 200, Content-Length: <bytes>
//
// The body starts with the PDB 7 magic ("Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0",
// so the mirror's magic-byte check accepts it) and continues with filler.
// Bodies up to 64 MiB are built once per size and sent from memory; bigger
// ones (the 1 GiB streamed miss) are generated on the fly in 1 MiB chunks,
// with backpressure, so they are never held in memory. Everything else
// (`.pd_`, `file.ptr`, other names) is a 404.
//
// `GET /__stats` answers `{"files": n}`: how many file requests were served
// so far. run.mjs reads it around each load phase to prove that a phase made
// no upstream request (every response was a cache hit).
//
// Usage: node upstream.mjs — prints `{"port": N}` on stdout once listening.
import { createServer } from "node:http";

const MAGIC = Buffer.from("Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0", "latin1");
const CHUNK = 1 << 20;
const IN_MEMORY_MAX = 64 << 20;
const FILE = /^\/(s(\d{1,12})\.pdb)\/[0-9A-Fa-f]{32}[0-9A-Fa-f]{1,8}\/(s\d{1,12}\.pdb)$/;

/** A filler chunk: printable, not compressible to nothing, not HTML. */
const filler = Buffer.alloc(CHUNK);
for (let i = 0; i < CHUNK; i++) filler[i] = 0x20 + ((i * 7 + (i >> 8)) % 95);

/** The first `n` bytes of the synthetic file (n ≤ IN_MEMORY_MAX), one copy per size. */
const bodies = new Map();
function body(n) {
  let b = bodies.get(n);
  if (!b) {
    b = Buffer.alloc(n);
    for (let off = 0; off < n; off += CHUNK) filler.copy(b, off, 0, Math.min(CHUNK, n - off));
    MAGIC.copy(b, 0, 0, Math.min(MAGIC.length, n));
    bodies.set(n, b);
  }
  return b;
}

/** Streams `n` bytes (magic, then filler) without holding them: 1 MiB at a time, waiting for `drain`. */
function stream(res, n) {
  const first = Buffer.from(filler);
  MAGIC.copy(first, 0);
  let sent = 0;
  const pump = () => {
    while (sent < n) {
      const len = Math.min(CHUNK, n - sent);
      const chunk = (sent === 0 ? first : filler).subarray(0, len);
      sent += len;
      if (!res.write(chunk)) return res.once("drain", pump);
    }
    res.end();
  };
  res.on("close", () => { sent = n; }); // client gone: stop generating
  pump();
}

let files = 0;
const server = createServer((req, res) => {
  if (req.url === "/__stats") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ files }));
    return;
  }
  const m = FILE.exec(req.url.split("?")[0]);
  if ((req.method !== "GET" && req.method !== "HEAD") || !m || m[1] !== m[3]) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  files++;
  const n = Number(m[2]);
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(n) });
  if (req.method === "HEAD") res.end();
  else if (n <= IN_MEMORY_MAX) res.end(body(n));
  else stream(res, n);
});
// Proxies keep their upstream connections open between requests.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
