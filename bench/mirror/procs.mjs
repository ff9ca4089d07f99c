// Helpers shared by the mirror benchmarks (run.mjs, streams.mjs): a free
// port on 127.0.0.1, and what /proc says about a process tree.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Every process: pid → { ppid, comm, ticks (utime + stime) }. */
export function processes() {
  const all = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      all.set(Number(d), { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited while we looked
    }
  }
  return all;
}

/** `root` and all its descendants: [pid, info]. */
export function tree(root, all = processes()) {
  const out = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift();
    if (all.has(pid)) out.push([pid, all.get(pid)]);
    for (const [p, info] of all) if (info.ppid === pid) queue.push(p);
  }
  return out;
}

/** A process's resident set (VmRSS) in KiB; 0 once it is gone. */
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The bytes of every file under `dir`. */
export function dirBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}
