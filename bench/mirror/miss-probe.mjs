// A diagnostic for the miss path: alternating misses on fresh keys against
// servers already running (e.g. several `wrangler dev` copies of the mirror
// built differently, and bench/mirror/reference-worker.mjs), all in front of
// bench/mirror/upstream.mjs. Prints, per server, the median time to first
// byte (curl %{time_starttransfer}) and the CPU its workerd processes used
// per miss (from /proc, until idle again). run.mjs is the benchmark; this is
// for trying changes quickly.
//
//   node bench/mirror/miss-probe.mjs [--idle] N PORT [PORT ...]
//
// --idle: before each request, wait until every server's workerd processes
// have used no CPU for 150 ms (a miss's own path, without the copies of
// earlier misses still running).
// Each PORT is a `wrangler dev --port PORT`; its workerd processes are the
// descendants of that wrangler process.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { processes, tree } from "./procs.mjs";

const args = process.argv.slice(2);
const idleFirst = args[0] === "--idle";
if (idleFirst) args.shift();
const [n, ...ports] = [Number(args[0]), ...args.slice(1)];
if (!(n > 0) || !ports.length) {
  console.error("usage: node bench/mirror/miss-probe.mjs [--idle] N PORT [PORT ...]");
  process.exit(2);
}
const CLK_TCK = 100;
const hex = () => Array.from({ length: 32 }, () => "0123456789ABCDEF"[Math.floor(Math.random() * 16)]).join("");
const cmdline = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
};
const all = processes();
const servers = ports.map((port) => {
  const root = [...all.keys()].find((pid) => all.get(pid).comm !== "workerd" && / dev /.test(cmdline(pid)) && cmdline(pid).includes("wrangler") && cmdline(pid).includes(`--port ${port}`));
  if (!root) throw new Error(`no wrangler dev --port ${port}`);
  return { port, root };
});
const ticks = (s) => [...tree(s.root)].filter(([, i]) => i.comm === "workerd").reduce((t, [, i]) => t + i.ticks, 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const settle = async (s) => {
  for (let i = 0; i < 30; i++) {
    const t = ticks(s);
    await sleep(1000);
    if (ticks(s) - t < 5) return;
  }
};
const res = servers.map(() => []);
const miss = (s) => Number(execFileSync("curl", ["-s", "-o", "/dev/null", "-w", "%{time_starttransfer}", `http://127.0.0.1:${s.port}/s4096.pdb/${hex()}1/s4096.pdb`]).toString()) * 1000;
for (const s of servers) for (let i = 0; i < 3; i++) miss(s); // warm-up
for (const s of servers) await settle(s);
const t0 = servers.map(ticks);
const idle = async () => {
  for (let i = 0; i < 200; i++) {
    const before = servers.reduce((t, s) => t + ticks(s), 0);
    await sleep(150);
    if (servers.reduce((t, s) => t + ticks(s), 0) === before) return;
  }
};
for (let i = 0; i < n; i++) {
  for (const [j, s] of servers.entries()) {
    if (idleFirst) await idle();
    res[j].push(miss(s));
  }
}
for (const s of servers) await settle(s);
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [j, s] of servers.entries()) {
  const cpuUs = ((ticks(s) - t0[j]) / CLK_TCK / n) * 1e6;
  console.log(`port ${s.port}: miss TTFB median ${med(res[j]).toFixed(2)} ms, workerd CPU per miss ${cpuUs.toFixed(0)} µs (${n} misses)`);
}
