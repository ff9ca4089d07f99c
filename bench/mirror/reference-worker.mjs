// The reference for run.mjs's diagnostic column: the smallest caching proxy a
// Worker can be, in plain JavaScript, on the same local runtime as the mirror.
// Hits come from the Cache API, misses are streamed from UPSTREAM (passed with
// `--var UPSTREAM:http://…`) and put in the cache when they fit its 512 MB
// object limit. No key validation, no magic-byte checks, no R2, no length
// guards: what it reaches is the ceiling of the runtime, not of the mirror.
//
// `?r2` instead pipes the upstream body natively into the R2 binding `R2` and
// answers once it is stored: what the local R2 simulator itself costs.
export default {
  async fetch(req, env, ctx) {
    const url = new URL(req.url);
    if (url.searchParams.has("r2")) {
      const up = await fetch(env.UPSTREAM + url.pathname);
      const length = Number(up.headers.get("Content-Length"));
      const body = new FixedLengthStream(length);
      up.body.pipeTo(body.writable).catch(() => {});
      await env.R2.put(url.pathname.slice(1), body.readable);
      return new Response(`stored ${length} bytes\n`, { headers: { "X-Cache": "miss" } });
    }
    const cache = caches.default;
    const hit = await cache.match(req);
    if (hit) {
      const resp = new Response(hit.body, hit);
      resp.headers.set("X-Cache", "hit");
      return resp;
    }
    const up = await fetch(env.UPSTREAM + url.pathname);
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
