// The reference for run.mjs's diagnostic column: the smallest caching proxy a
// Worker can be, in plain JavaScript, on the same local runtime as the mirror.
// Hits come from the Cache API, misses are streamed from UPSTREAM (passed with
// `--var UPSTREAM:http://…`) and put in the cache when they fit its 512 MB
// object limit. No key validation, no magic-byte checks, no R2, no length
// guards: what it reaches is the ceiling of the runtime, not of the mirror.
export default {
  async fetch(req, env, ctx) {
    const cache = caches.default;
    const hit = await cache.match(req);
    if (hit) {
      const resp = new Response(hit.body, hit);
      resp.headers.set("X-Cache", "hit");
      return resp;
    }
    const up = await fetch(env.UPSTREAM + new URL(req.url).pathname);
    const resp = new Response(up.body, up);
    const length = Number(up.headers.get("Content-Length"));
    if (up.status === 200 && length > 0 && length <= 512e6) {
      resp.headers.set("Cache-Control", "public, max-age=31536000, immutable");
      ctx.waitUntil(cache.put(req, resp.clone()));
    }
    resp.headers.set("X-Cache", "miss");
    return resp;
  },
};
