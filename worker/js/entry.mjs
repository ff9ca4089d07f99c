// The worker's entry: the fast path of a plain cache hit in front of the Rust
// handler (worker/src/handler.rs, built by worker-build into ../build).
//
// A GET or HEAD of a valid key, with no query string and none of the headers
// that change what the edge cache answers (Range, If-None-Match,
// If-Modified-Since, Cache-Control), is looked up here, in the entry the Rust
// handler writes (its key from `hitKey`, the Rust rules): a whole file's
// entry is answered as stored, since the entry already carries every header
// of the answer (CORS included) and is written only once whole and checked.
// Everything else — no key, a miss, a marker, an entry whose length is not
// the file's, any other request — goes to the Rust handler, which decides
// (from the entry looked up here, handed on in a property of the request:
// a miss costs one edge-cache lookup, not two). This saves a hit the wasm glue (the entrypoint class
// built per request and its proxies, the request and response conversions),
// which cost more CPU than the whole hit (BENCHMARKS.md, issue 12).
import Mirror from "../build/index.js";

// worker-build puts the crate's exported functions on the entrypoint's prototype.
const { hitHeaders, hitKey } = Mirror.prototype;
const [META, LENGTH, LOOKED] = hitHeaders();
const BYPASS = ["range", "if-none-match", "if-modified-since", "cache-control"];

export default {
  /**
   * @param {Request} request
   * @param {unknown} env
   * @param {{ waitUntil(p: Promise<unknown>): void }} ctx
   */
  async fetch(request, env, ctx) {
    // hitKey says which method and path have an entry (the Rust routes).
    const key = BYPASS.some((h) => request.headers.has(h)) ? undefined : hitKey(request.method, request.url);
    if (key !== undefined) {
      const start = Date.now();
      const entry = await caches.default.match(key);
      if (entry) {
        const length = entry.headers.get("Content-Length");
        if (entry.status === 200 && !entry.headers.has(META) && length !== null && length === entry.headers.get(LENGTH)) {
          const hit = new Response(entry.body, entry);
          hit.headers.set("Server-Timing", `edge;dur=${Date.now() - start};desc="fast path"`);
          return hit;
        }
      }
      // The Rust handler judges what was found (a remembered miss, a marker,
      // an entry not whole) or that nothing was, without looking again.
      request[LOOKED] = entry ?? null;
    }
    return new Mirror(ctx, env).fetch(request);
  },
};
