// Ways a Worker can move a 1 GiB upstream body, for streams.mjs: the
// measurements behind the mirror's pump (worker/js/pump.js, imported here:
// the pump modes run the mirror's own code). The mode is
// the query `?mode=`; UPSTREAM is the upstream's base URL and R2 an R2 binding.
//
//   native     the upstream body as the response body (the runtime pipes it)
//   fixed      piped natively through a FixedLengthStream (length enforced)
//   transform  through a JavaScript TransformStream that counts bytes
//   pump       the mirror's pump: BYOB readAtLeast into pooled 1 MiB buffers,
//              stall timer and length count, to a FixedLengthStream (no copies)
//   pump-r2    the same, plus a copy into R2 abandoned when it falls 16 MiB
//              behind the client (the mirror's policy)
//   paced-r2   the same, but the client waits for R2 (never abandoned)
//   tee-r2     the body tee()d natively: one branch to the client, one to R2
//   r2         piped natively into R2 only; answers once stored
import { CLIENT_WINDOW, Sink, pump } from "../../worker/js/pump.js";

// The mirror's copy window (COPY_WINDOW_BYTES' default) and upstream timeout.
const WINDOW = 16 << 20;
const IDLE_MS = 25_000;

export default {
  async fetch(req, env, ctx) {
    const url = new URL(req.url);
    const mode = url.searchParams.get("mode") ?? "native";
    const up = await fetch(env.UPSTREAM + url.pathname);
    const length = Number(up.headers.get("Content-Length"));
    const fixed = () => new FixedLengthStream(length);
    const store = (readable) => ctx.waitUntil(env.R2.put(`${mode}/${url.pathname}`, readable).catch(() => {}));
    let body = up.body;
    if (mode === "fixed") {
      const f = fixed();
      body.pipeTo(f.writable).catch(() => {});
      body = f.readable;
    } else if (mode === "transform") {
      let seen = 0;
      const t = new TransformStream({ transform(c, ctl) { seen += c.byteLength; ctl.enqueue(c); } });
      body.pipeTo(t.writable).catch(() => {});
      body = t.readable;
    } else if (mode === "pump" || mode === "pump-r2" || mode === "paced-r2") {
      const client = fixed();
      const sinks = [new Sink(client, CLIENT_WINDOW, "paced")];
      if (mode !== "pump") {
        const copy = fixed();
        sinks.push(new Sink(copy, WINDOW, mode === "paced-r2" ? "paced" : "abandoned"));
        store(copy.readable);
      }
      ctx.waitUntil(pump(body, undefined, length, IDLE_MS, sinks).catch(() => {}));
      body = client.readable;
    } else if (mode === "tee-r2") {
      const [a, b] = body.tee();
      const copy = fixed();
      b.pipeTo(copy.writable).catch(() => {});
      store(copy.readable);
      body = a;
    } else if (mode === "r2") {
      const copy = fixed();
      body.pipeTo(copy.writable).catch(() => {});
      await env.R2.put(`${mode}/${url.pathname}`, copy.readable);
      return new Response(`stored ${length} bytes\n`);
    }
    return new Response(body, { headers: { "Content-Length": String(length) } });
  },
};
