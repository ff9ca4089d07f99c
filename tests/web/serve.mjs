// A small static file server for the page, bound to 127.0.0.1 only.
// Used by `cargo xtask dev` and by the browser tests.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ts": "text/plain; charset=utf-8",
};

/**
 * Serves `dir` on 127.0.0.1:`port` (0 = any free port). Resolves to the server.
 * `isolated` adds the headers that make the page cross-origin isolated, so
 * that `performance.now()` is precise to microseconds instead of the 100 µs
 * Chromium rounds to otherwise (for the benchmarks).
 */
export function serve(dir, port = 0, { isolated = false } = {}) {
  const extra = isolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {};
  const rootDir = resolve(dir);
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://127.0.0.1");
      let path = normalize(join(rootDir, decodeURIComponent(url.pathname)));
      if (!path.startsWith(rootDir)) {
        res.writeHead(403).end();
        return;
      }
      if ((await stat(path).catch(() => null))?.isDirectory()) path = join(path, "index.html");
      const body = await readFile(path);
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "cache-control": "no-store", ...extra });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir = "web", port = "8080"] = process.argv.slice(2);
  const server = await serve(dir, Number(port));
  console.log(`sympath page: http://127.0.0.1:${server.address().port}/`);
}
