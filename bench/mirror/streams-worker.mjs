// Ways a Worker can move a 1 GiB upstream body, for streams.mjs: the
// measurements behind the mirror's pump (worker/src/streams.rs). The mode is
// the query `?mode=`; UPSTREAM is the upstream's base URL and R2 an R2 binding.
//
//   native     the upstream body as the response body (the runtime pipes it)
//   fixed      piped natively through a FixedLengthStream (length enforced)
//   transform  through a JavaScript TransformStream that counts bytes
//   pump       read in JS with BYOB readAtLeast into pooled 1 MiB buffers,
//              written to a FixedLengthStream (the mirror's pump, no copies)
//   pump-r2    the same, plus a copy into R2 abandoned when it falls 16 MiB
//              behind the client (the mirror's policy)
//   paced-r2   the same, but the client waits for R2 (never abandoned)
//   tee-r2     the body tee()d natively: one branch to the client, one to R2
//   r2         piped natively into R2 only; answers once stored
const CHUNK = 1 << 20;
const WINDOW = 16 << 20;

class Sink {
  constructor(stream, window, paced) {
    this.writer = stream.writable.getWriter();
    Object.assign(this, { window, paced, pending: 0, dead: false, wake: null });
  }
  write(chunk, settled) {
    this.pending += chunk.byteLength;
    this.writer.write(chunk).then(
      () => { this.pending -= chunk.byteLength; settled(); if (this.pending <= this.window) this.release(); },
      () => { settled(); this.kill(); },
    );
  }
  drained() {
    return this.dead || this.pending <= this.window ? Promise.resolve() : new Promise((r) => { this.wake = r; });
  }
  release() { const w = this.wake; this.wake = null; w?.(); }
  kill() { if (!this.dead) { this.dead = true; this.writer.abort(new Error("abandoned")).catch(() => {}); this.release(); } }
}

async function pump(body, sinks) {
  const reader = body.getReader({ mode: "byob" });
  const pool = [];
  for (;;) {
    for (const s of sinks) {
      if (s.dead || s.pending <= s.window) continue;
      if (s.paced) await s.drained();
      else s.kill();
    }
    const next = await reader.readAtLeast(64 << 10, pool.pop() ?? new Uint8Array(CHUNK));
    if (next.done) break;
    const live = sinks.filter((s) => !s.dead);
    let left = live.length;
    const v = next.value;
    for (const s of live) s.write(v, () => { if (--left === 0 && v.buffer.byteLength === CHUNK) pool.push(new Uint8Array(v.buffer)); });
  }
  for (const s of sinks) if (!s.dead) await s.writer.close();
}

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
      const sinks = [new Sink(client, 4 << 20, true)];
      if (mode !== "pump") {
        const copy = fixed();
        sinks.push(new Sink(copy, WINDOW, mode === "paced-r2"));
        store(copy.readable);
      }
      ctx.waitUntil(pump(body, sinks).catch(() => {}));
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
