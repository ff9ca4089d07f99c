#!/usr/bin/env node
// How a Worker can move a 1 GiB upstream body in the local Workers runtime:
// the measurements behind the mirror's pump (worker/js/pump.js). For each
// mode of streams-worker.mjs: a fresh `wrangler dev` (devtools inspector proxy
// off, no request log, fresh state), one 1 GiB GET with curl (body
// discarded), and the RSS of that wrangler's workerd processes sampled every
// 100 ms, until the response ended and until they were idle again (R2 writes
// finish in the background). Everything on 127.0.0.1; prints a markdown table.
//
//   node bench/mirror/streams.mjs [mode…]     (default: every mode)
//
// BENCH_BIG_BYTES sets the size (1 GiB). Children run in their own process
// groups and are killed on exit; the temp dir (/tmp/sympath-streams-*) goes.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dirBytes, freePort, rssKiB, tree } from "./procs.mjs";

const HERE = join(fileURLToPath(import.meta.url), "..");
const ROOT = join(HERE, "..", "..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const BIG = Number(process.env.BENCH_BIG_BYTES ?? 2 ** 30);
const MODES = process.argv.slice(2).length ? process.argv.slice(2) : ["native", "fixed", "transform", "pump", "pump-r2", "paced-r2", "tee-r2", "r2"];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`[streams] ${a.join(" ")}\n`);

const groups = [];
const tmp = mkdtempSync("/tmp/sympath-streams-");
const killAll = () => {
  for (const p of groups) try { process.kill(-p.pid, "SIGKILL"); } catch {}
  rmSync(tmp, { recursive: true, force: true });
};
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

const rssMiB = (root) => tree(root).filter(([, i]) => i.comm === "workerd").reduce((n, [pid]) => n + rssKiB(pid) / 1024, 0);
const ticks = (root) => tree(root).reduce((n, [, i]) => n + i.ticks, 0);

const up = spawn(process.execPath, [join(HERE, "upstream.mjs")], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
groups.push(up);
const upPort = await new Promise((ok) => up.stdout.once("data", (d) => ok(JSON.parse(d).port)));
const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))[1];
const config = join(tmp, "wrangler.toml");
writeFileSync(config, `name = "sympath-streams"\nmain = ${JSON.stringify(join(HERE, "streams-worker.mjs"))}\ncompatibility_date = "${date}"\n[[r2_buckets]]\nbinding = "R2"\nbucket_name = "sympath-streams"\n`);

const rows = [];
for (const mode of MODES) {
  const state = mkdtempSync(join(tmp, "state-"));
  const port = await freePort();
  const w = spawn(WRANGLER, ["dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()),
    "--persist-to", state, "--var", `UPSTREAM:http://127.0.0.1:${upPort}`, "--log-level", "warn"],
  { cwd: tmp, detached: true, stdio: "ignore", env: { ...process.env, VSCODE_INSPECTOR_OPTIONS: "{}", WRANGLER_SEND_METRICS: "false" } });
  groups.push(w);
  const probe = `http://127.0.0.1:${port}/s4096.pdb/${"A".repeat(32)}1/s4096.pdb`;
  for (let i = 0; i < 300; i++) {
    try { const r = await fetch(probe); await r.arrayBuffer(); if (r.ok) break; } catch {}
    await sleep(300);
  }
  await sleep(2000);
  const base = rssMiB(w.pid);
  let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, rssMiB(w.pid)); }, 100);
  const url = `http://127.0.0.1:${port}/s${BIG}.pdb/${"B".repeat(32)}1/s${BIG}.pdb?mode=${mode}`;
  const out = await new Promise((ok) => execFile("curl", ["-s", "-o", "/dev/null", "--max-time", "600", "-w", "%{http_code} %{size_download} %{time_total}", url], (e, so) => ok(so)));
  const [status, size, total] = out.trim().split(" ").map(Number);
  peak = Math.max(peak, rssMiB(w.pid));
  const during = peak - base;
  // Background work (an R2 write) counts until the processes are idle.
  for (let i = 0; i < 120; i++) {
    const t = ticks(w.pid);
    await sleep(1000);
    if (ticks(w.pid) - t < 5) break;
  }
  clearInterval(timer);
  const stored = dirBytes(state) / 2 ** 20;
  const moved = mode === "r2" ? BIG : size;
  const row = { mode, status, mbps: moved / total / 1e6, during, idle: peak - base, stored };
  rows.push(row);
  log(`${mode}: ${status}, ${size} B in ${total.toFixed(2)} s = ${row.mbps.toFixed(0)} MB/s, RSS +${during.toFixed(0)} MiB during, +${row.idle.toFixed(0)} MiB until idle, ${stored.toFixed(0)} MiB stored`);
  clearInterval(timer);
  try { process.kill(-w.pid, "SIGTERM"); } catch {}
  await sleep(2000);
  try { process.kill(-w.pid, "SIGKILL"); } catch {}
}

const f0 = (x) => Math.round(x).toLocaleString("en-US").replace(/,/g, " ");
process.stdout.write(
  `| mode (1 GiB miss) | MB/s to the client | RSS growth until the response ended (MiB) | until idle (MiB) | written to R2 (MiB) |\n|---|---:|---:|---:|---:|\n` +
    rows.map((r) => `| ${r.mode}${r.status === 200 ? "" : ` (status ${r.status})`} | ${r.mode === "r2" ? `${f0(r.mbps)} (into R2)` : f0(r.mbps)} | +${f0(r.during)} | +${f0(r.idle)} | ${f0(r.stored)} |`).join("\n") + "\n",
);
process.exit(0);
