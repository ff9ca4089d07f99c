#!/usr/bin/env node
// Load benchmark: the sympath edge mirror (worker/, run by the real local
// Workers runtime through `wrangler dev`) against Debian's nginx with
// `proxy_cache`, both in front of the same upstream (upstream.mjs), all on
// 127.0.0.1. One run measures, side by side:
//
//   1. cache hits: requests/s and latency percentiles of a 4 KB and a 1 MB
//      object at 64 connections (wrk --latency). The cache is warmed first
//      and every load phase is checked to be hits: the mirror's
//      X-Sympath-Cache and nginx's $upstream_cache_status (sent as
//      X-Cache-Status) say "hit" before, after and on probes sent every
//      250 ms during the load, every answer is a 2xx, and the upstream counts
//      no request during the phase;
//   2. a 1 GiB streamed miss (curl, body discarded): throughput, and the RSS
//      growth of the server's processes (the workerd children of wrangler for
//      the mirror), sampled every 200 ms from /proc/<pid>/status until the
//      server is idle again (background writes included);
//   3. time to first byte on a miss (distinct never-cached keys, curl
//      %{time_starttransfer}, median of 50, interleaved): direct upstream vs
//      each proxy;
//
// and prints a markdown table and one line per target of the issue.
//
// The mirror runs as `cargo xtask dev` runs it: `wrangler dev` without its
// devtools inspector proxy, which POSTs every devtools event of the worker's
// runtime (one `Network.dataReceived` per body chunk of a subrequest) to
// wrangler's Node process; with it, a 1 GiB miss crawled at 2 MB/s and took
// wrangler down. wrangler 4.86 has no flag for it; it skips the inspector
// proxy when it believes it runs in VS Code's debug terminal, i.e. when
// VSCODE_INSPECTOR_OPTIONS is set, so that is what both set. The run checks
// that nothing listens on the inspector port.
//
// Two diagnostic columns (BENCH_DIAGNOSTICS=0 leaves them out) say where the
// time goes, since `wrangler dev` is not production:
//   - the same mirror with `--log-level warn` too (no request log line, which
//     the runtime POSTs to wrangler's Node process for every request);
//   - reference-worker.mjs, a minimal JavaScript Cache API proxy, under the
//     same quiet `wrangler dev`: the ceiling of the local runtime itself; and,
//     once, the same worker piping a 1 GiB upstream body natively into R2
//     (`?r2`): what the local R2 simulator costs by itself.
// Targets are judged on the mirror as `cargo xtask dev` runs it.
//
// Usage (from anywhere; the worker must already be built by `cargo xtask test`
// or `cd worker && worker-build --release` — this script never builds it):
//
//   node bench/mirror/run.mjs > result.md
//
// Progress goes to stderr, the report to stdout. Knobs (environment):
// BENCH_DURATION (wrk seconds, 10), BENCH_CONNECTIONS (64), BENCH_THREADS
// (wrk threads, 2), BENCH_TTFB_N (50), BENCH_BIG_BYTES (1 GiB),
// BENCH_DIAGNOSTICS (1), BENCH_KEEP_TMP=1 (keep the temp dir and its logs).
// If worker/build/worker/shim.mjs or node_modules/.bin/wrangler is missing it
// is waited for (checked every 60 s, up to 40 minutes); after that the whole
// run is bounded by a 45-minute watchdog.
//
// The mirror runs from a copy of worker/build and web/ in a temp dir, with a
// copy of wrangler.toml minus its [build] section: wrangler dev would
// otherwise rebuild the worker (and reload on every edit of worker/src) in
// the middle of a measurement. wrangler's dev registry and logs go to the
// temp dir too. Every child process is started in its own process group, and
// all of them are killed on exit, error or signal; the temp dir
// (/tmp/sympath-bench-*) is removed.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dirBytes, freePort, processes, rssKiB, tree } from "./procs.mjs";

const HERE = join(fileURLToPath(import.meta.url), "..");
const ROOT = join(HERE, "..", "..");
const SHIM = join(ROOT, "worker", "build", "worker", "shim.mjs");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const NGINX = "/usr/sbin/nginx";
const WRK = "/usr/bin/wrk";
const CURL = "/usr/bin/curl";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const TTFB_N = Number(process.env.BENCH_TTFB_N ?? 50);
const TTFB_WARMUP = 5;
const BIG = Number(process.env.BENCH_BIG_BYTES ?? 2 ** 30);
const DIAGNOSTICS = process.env.BENCH_DIAGNOSTICS !== "0";
const WATCHDOG_MS = 45 * 60_000;
const SIZES = [
  { label: "4 KB", bytes: 4096 },
  { label: "1 MB", bytes: 1 << 20 },
];
const CLK_TCK = 100; // Linux USER_HZ: the unit of utime/stime in /proc/<pid>/stat

const log = (...a) => process.stderr.write(`[bench] ${a.join(" ")}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- processes

/** Children we started, each leading its own process group. */
const children = [];
/** Short-lived commands (wrk, curl) running now. */
const commands = new Set();
let tmp;
let stopping = false;

/** Starts a child in its own process group (so that it and its descendants can be killed together). */
function start(name, cmd, args, opts = {}) {
  const proc = spawn(cmd, args, { detached: true, ...opts });
  children.push({ name, proc });
  proc.on("exit", (code, sig) => {
    if (!stopping) log(`${name} exited (${code ?? sig})`);
  });
  return proc;
}

const alive = (p) => p.exitCode === null && p.signalCode === null;

/** Signals every command and the process group of every child still running. */
function signalAll(sig) {
  for (const proc of commands) proc.kill(sig);
  // A group outlives its leader (wrangler exiting leaves its workerd behind): signal it anyway.
  for (const { proc } of children) {
    try {
      process.kill(-proc.pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Stops every child (TERM, then KILL after 5 s) and removes the temp dir. */
async function cleanup() {
  stopping = true;
  signalAll("SIGTERM");
  for (let i = 0; i < 50 && children.some((c) => alive(c.proc)); i++) await sleep(100);
  signalAll("SIGKILL");
  removeTmp();
}

function removeTmp() {
  if (!tmp) return;
  if (process.env.BENCH_KEEP_TMP === "1") log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
}

// Last resort on any exit path: no child survives, no temp dir stays.
process.on("exit", () => {
  stopping = true;
  signalAll("SIGKILL");
  removeTmp();
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

/**
 * Runs a command to completion, killed after `timeout` ms; resolves with
 * { stdout, stderr, code }. A non-zero exit rejects unless `allowFail`.
 */
function run(cmd, args, timeout, allowFail = false) {
  return new Promise((ok, fail) => {
    const proc = execFile(cmd, args, { timeout, maxBuffer: 16 << 20, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      commands.delete(proc);
      if (err && !allowFail) fail(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`));
      else ok({ stdout, stderr, code: err ? (err.code ?? err.signal) : 0 });
    });
    commands.add(proc);
  });
}


/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port) {
  return new Promise((ok) => {
    const s = connect({ host: "127.0.0.1", port });
    const done = (v) => {
      s.destroy();
      ok(v);
    };
    s.on("connect", () => done(true));
    s.on("error", () => done(false));
    s.setTimeout(2000, () => done(false));
  });
}

async function waitForFile(path, what) {
  for (let waited = 0; !existsSync(path); waited++) {
    if (waited >= 40) throw new Error(`${what} (${path}) did not appear within 40 minutes`);
    log(`waiting for ${what} (${path}); checking again in 60 s`);
    await sleep(60_000);
  }
}

async function waitForHttp(url, ms, proc, logFile) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(proc)) break;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await sleep(300);
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-3000) : "";
  throw new Error(`${url} not ready within ${ms / 1000} s\n${tail}`);
}

// ------------------------------------------------------------- /proc reads



/**
 * What a process of a server's tree is: wrangler's Node process, the workerd
 * that runs wrangler's dev proxy (it owns the public port), the workerd that
 * runs the worker, or nginx.
 */
function role(server, pid, comm) {
  if (comm !== "workerd") return comm;
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    // exited
  }
  return cmdline.includes(`entry=127.0.0.1:${server.port}`) ? "workerd (dev proxy)" : "workerd (worker)";
}

/** CPU seconds used so far by each role in `server`'s process tree. */
function cpuByRole(server) {
  const out = {};
  for (const [pid, i] of tree(server.proc.pid)) {
    const r = role(server, pid, i.comm);
    out[r] = (out[r] ?? 0) + i.ticks / CLK_TCK;
  }
  return out;
}
const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
const diff = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));

/** Machine-wide busy CPU seconds (all cores) so far, from /proc/stat. */
function busySeconds() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return (f.reduce((a, b) => a + b, 0) - idle) / CLK_TCK;
}

/**
 * Waits until the machine is quiet (under 10 % of one core busy over 1 s),
 * at most `maxMs`; returns the seconds waited, or -1 if it never got quiet.
 */
async function quiesce(maxMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const b = busySeconds();
    await sleep(1000);
    if (busySeconds() - b < 0.1) return (Date.now() - t0) / 1000;
  }
  return -1;
}

/**
 * Waits until `server`'s own processes are idle (under 5 % of one core over
 * 1 s), at most `maxMs`; returns the seconds waited, or -1 if they never were.
 */
async function settle(server, maxMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const c = sum(cpuByRole(server));
    await sleep(1000);
    if (sum(cpuByRole(server)) - c < 0.05) return (Date.now() - t0) / 1000;
  }
  return -1;
}


/**
 * Samples, every 200 ms, the VmRSS of the processes of `server` whose name
 * matches `server.rssComm` (re-discovered each time). `stop()` returns the
 * summed baseline (at start), peak and growth in MiB, and the growth per role.
 */
function rssSampler(server) {
  const sample = () => {
    const by = {};
    for (const [pid, i] of tree(server.proc.pid)) {
      if (!server.rssComm.test(i.comm)) continue;
      const r = role(server, pid, i.comm);
      by[r] = (by[r] ?? 0) + rssKiB(pid);
    }
    return by;
  };
  const base = sample();
  let peak = sum(base);
  const peakBy = { ...base };
  let samples = 1;
  const take = () => {
    const s = sample();
    peak = Math.max(peak, sum(s));
    for (const [r, v] of Object.entries(s)) peakBy[r] = Math.max(peakBy[r] ?? 0, v);
    samples++;
  };
  const timer = setInterval(take, 200);
  let during;
  return {
    /** The peak growth so far (MiB): called when the response has ended. */
    mark() {
      take();
      during = (peak - sum(base)) / 1024;
    },
    stop() {
      clearInterval(timer);
      take();
      const byRole = Object.fromEntries(Object.entries(peakBy).map(([r, v]) => [r, (v - (base[r] ?? 0)) / 1024]));
      return { baseMiB: sum(base) / 1024, peakMiB: peak / 1024, growthMiB: (peak - sum(base)) / 1024, duringMiB: during, byRole, samples };
    },
  };
}


// ------------------------------------------------------------------ servers

const guid = () => randomBytes(16).toString("hex").toUpperCase();
/** A store key for a synthetic file of `bytes` bytes (upstream.mjs's naming), fresh unless `id` is given. */
const key = (bytes, id = guid()) => `s${bytes}.pdb/${id}1/s${bytes}.pdb`;

async function startUpstream() {
  const proc = start("upstream", process.execPath, [join(HERE, "upstream.mjs")], {
    stdio: ["ignore", "pipe", openSync(join(tmp, "upstream.log"), "w")],
  });
  const port = await new Promise((ok, fail) => {
    let out = "";
    proc.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) ok(JSON.parse(out).port);
    });
    proc.on("exit", () => fail(new Error("upstream exited before listening")));
    setTimeout(() => fail(new Error("upstream did not start within 10 s")), 10_000);
  });
  return { id: "direct", label: "direct upstream", proc, base: `http://127.0.0.1:${port}`, port };
}

/** The upstream's count of file requests served so far. */
async function upstreamFiles(up) {
  const r = await fetch(`${up.base}/__stats`);
  return (await r.json()).files;
}

/**
 * The repository's wrangler.toml with [build] removed, `main` and the assets
 * pointing at snapshots of worker/build and web/ (taken once per run).
 */
function mirrorConfig() {
  const config = join(tmp, "mirror.wrangler.toml");
  if (existsSync(config)) return config;
  // worker/js/entry.mjs imports ../build/index.js: the snapshot keeps that layout.
  const build = join(tmp, "worker", "build");
  const assets = join(tmp, "assets");
  cpSync(join(ROOT, "worker", "build"), build, { recursive: true });
  mkdirSync(join(tmp, "worker", "js"), { recursive: true });
  cpSync(join(ROOT, "worker", "js", "entry.mjs"), join(tmp, "worker", "js", "entry.mjs"));
  cpSync(join(ROOT, "web"), assets, { recursive: true });
  let section = "";
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
    .split("\n")
    .filter((line) => {
      const header = /^\s*\[+([^\]]+)\]+/.exec(line);
      if (header) section = header[1].trim();
      return section !== "build";
    })
    .map((line) =>
      line
        .replace(/^main\s*=.*$/, `main = ${JSON.stringify(join(tmp, "worker", "js", "entry.mjs"))}`)
        .replace(/^directory\s*=.*$/, `directory = ${JSON.stringify(assets)}`),
    )
    .join("\n");
  writeFileSync(config, toml);
  return config;
}

/** reference-worker.mjs with the mirror's compatibility date. */
function referenceConfig() {
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))?.[1] ?? "2026-04-01";
  const config = join(tmp, "reference.wrangler.toml");
  writeFileSync(
    config,
    `name = "sympath-bench-reference"\nmain = ${JSON.stringify(join(HERE, "reference-worker.mjs"))}\ncompatibility_date = "${date}"\n` +
      `[[r2_buckets]]\nbinding = "R2"\nbucket_name = "sympath-bench-reference"\n` +
      // BENCH_REFERENCE_ASSETS=1: the mirror's deployment shape (its page as
      // static assets, routed by the runtime before the worker), so that the
      // ratio is of the workers' own code only.
      (process.env.BENCH_REFERENCE_ASSETS === "1" ? `[assets]\ndirectory = ${JSON.stringify(join(ROOT, "web"))}\n` : ""),
  );
  return config;
}

/**
 * `wrangler dev` on 127.0.0.1 in front of the upstream. The devtools
 * inspector proxy is off unless `devtools` (as in `cargo xtask dev`; see the
 * top of this file); `quiet` also drops wrangler's per-request log line.
 */
async function startWrangler({ id, label, worker, devtools = false, quiet = false }, up) {
  const config = worker === "mirror" ? mirrorConfig() : referenceConfig();
  const port = await freePort();
  const inspector = await freePort();
  const dir = join(tmp, id);
  const state = join(dir, "state");
  mkdirSync(state, { recursive: true });
  const logFile = join(dir, "wrangler.log");
  const out = openSync(logFile, "w");
  const vars =
    worker === "mirror"
      ? ["--var", `SYMBOL_PATH:srv*http://127.0.0.1:${up.port}`, "--var", "ALLOW_PRIVATE_REDIRECTS:true"]
      : ["--var", `UPSTREAM:${up.base}`];
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_REGISTRY_PATH: join(dir, "registry"),
    WRANGLER_LOG_PATH: join(dir, "logs"),
  };
  delete env.VSCODE_INSPECTOR_OPTIONS;
  if (!devtools) env.VSCODE_INSPECTOR_OPTIONS = "{}";
  const proc = start(
    `wrangler (${id})`,
    WRANGLER,
    [
      "dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
      "--persist-to", state, ...vars, ...(quiet ? ["--log-level", "warn"] : []),
    ],
    { cwd: dir, env, stdio: ["ignore", out, out] },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(worker === "mirror" ? `${base}/health` : `${base}/${key(4096)}`, 180_000, proc, logFile);
  const inspectorUp = await listening(inspector);
  if (inspectorUp !== devtools) throw new Error(`${id}: the devtools inspector is ${inspectorUp ? "on" : "off"}, expected the opposite`);
  return {
    id, label, proc, base, port, state, logFile, inspectorUp,
    rssComm: /^workerd$/,
    cacheHeader: worker === "mirror" ? "x-sympath-cache" : "x-cache",
  };
}

/** nginx in the foreground, with a generated config: proxy_cache in front of the upstream. */
async function startNginx(up) {
  const dir = join(tmp, "nginx");
  const cache = join(dir, "cache");
  mkdirSync(cache, { recursive: true });
  const port = await freePort();
  // Debian's stock http settings (sendfile, tcp_nopush, keepalive_timeout 65,
  // worker_processes auto), no access log, and a plain proxy_cache setup with
  // keep-alive upstream connections. Statuses 200 are cached for a year (keys
  // are content-addressed). A request with `X-Bench-No-Store: 1` is proxied
  // without being stored, like the mirror's streamed large bodies.
  const user = process.getuid?.() === 0 ? "user root root;" : "";
  const conf = `${user}
worker_processes auto;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  types_hash_max_size 2048;
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  proxy_cache_path ${cache} levels=1:2 keys_zone=symbols:10m max_size=8g inactive=7d use_temp_path=off;
  upstream store {
    server 127.0.0.1:${up.port};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://store;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache symbols;
      proxy_cache_valid 200 365d;
      proxy_cache_lock on;
      proxy_no_cache $http_x_bench_no_store;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  const logFile = join(dir, "stderr.log");
  const out = openSync(logFile, "w");
  const proc = start("nginx", NGINX, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], {
    stdio: ["ignore", out, out],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/${key(4096)}`, 20_000, proc, logFile);
  return { id: "nginx", label: "nginx proxy_cache", proc, base, port, state: cache, logFile, rssComm: /^nginx$/, cacheHeader: "x-cache-status" };
}

const isHit = (status) => /^hit$/i.test(status ?? "");
const isMiss = (status) => /^miss$/i.test(status ?? "");

/** Requests `path` until the server answers it from its cache (the Workers cache is written after the response). */
async function warm(server, path) {
  let last;
  for (let i = 0; i < 40; i++) {
    const r = await fetch(`${server.base}/${path}`);
    await r.arrayBuffer();
    last = `${r.status} ${r.headers.get(server.cacheHeader)}`;
    if (r.status === 200 && isHit(r.headers.get(server.cacheHeader))) return true;
    await sleep(250);
  }
  log(`${server.id}: ${path} never became a cache hit (last answer: ${last})`);
  return false;
}

// ------------------------------------------------------------- measurements

const UNITS = { us: 1e-3, ms: 1, s: 1e3, m: 6e4 };
const toMs = (s) => {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  return m ? Number(m[1]) * UNITS[m[2]] : NaN;
};

/** One wrk load phase against `url`, with the CPU the server's processes used over it. */
async function wrk(url, server) {
  const cpu0 = cpuByRole(server);
  const { stdout: out } = await run(
    WRK,
    [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${DURATION}s`, "--timeout", "5s", "--latency", url],
    (DURATION + 60) * 1000,
  );
  const cpu = diff(cpu0, cpuByRole(server));
  const pct = (p) => toMs((new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(out) ?? [])[1] ?? "");
  const num = (re) => Number((re.exec(out) ?? [])[1] ?? 0);
  const requests = num(/^\s+(\d+) requests in/m);
  const perRequestUs = (s) => (requests ? (s / requests) * 1e6 : NaN);
  return {
    rps: num(/^Requests\/sec:\s+([\d.]+)/m),
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    requests,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: (/Socket errors: (.*)/.exec(out) ?? [])[1] ?? "none",
    cpuPerRequestUs: perRequestUs(sum(cpu)),
    cpuByRoleUs: Object.fromEntries(Object.entries(cpu).map(([r, s]) => [r, perRequestUs(s)])),
  };
}

/** One curl GET, body discarded; resolves with curl's figures (seconds) and the cache header. */
async function curl(url, extra = [], timeoutS = 30) {
  const fmt = "%{http_code} %{size_download} %{time_starttransfer} %{time_total} %header{x-sympath-cache}%header{x-cache-status}%header{x-cache}";
  const { stdout: out, code } = await run(CURL, ["-s", "-o", "/dev/null", "--max-time", String(timeoutS), "-w", fmt, ...extra, url], (timeoutS + 10) * 1000, true);
  const [status, size, ttfb, total, cache] = out.trim().split(" ");
  return { status: Number(status), size: Number(size), ttfb: Number(ttfb), total: Number(total), cache: cache ?? "", curlExit: code };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/**
 * While a load phase runs: GETs `url` every 250 ms and counts the cache
 * statuses the server answers with. The returned function stops and yields
 * the counts.
 */
function probe(server, url) {
  let stop = false;
  const seen = {};
  const count = (s) => {
    seen[s] = (seen[s] ?? 0) + 1;
  };
  const loop = (async () => {
    while (!stop) {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        await r.arrayBuffer();
        count(r.status === 200 ? (r.headers.get(server.cacheHeader) ?? "no header") : `status ${r.status}`);
      } catch {
        count("error");
      }
      await sleep(250);
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return seen;
  };
}

/** Phase 1: warm, load, verify — for one object size on one server. */
async function hitPhase(server, up, size) {
  const path = key(size.bytes, "B".repeat(32));
  const warmed = await warm(server, path);
  const quiet = await quiesce(30_000);
  const before = await upstreamFiles(up);
  log(`${server.id} ${size.label} hits: wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s`);
  const stopProbe = probe(server, `${server.base}/${path}`);
  const r = await wrk(`${server.base}/${path}`, server);
  const probes = await stopProbe();
  const probesHit = Object.entries(probes).every(([s]) => isHit(s));
  const upstreamDuring = (await upstreamFiles(up)) - before;
  const after = await fetch(`${server.base}/${path}`);
  await after.arrayBuffer();
  const afterStatus = after.headers.get(server.cacheHeader);
  r.verified = warmed && probesHit && upstreamDuring === 0 && r.non2xx === 0 && isHit(afterStatus);
  r.check =
    `hit before: ${warmed}, after: ${isHit(afterStatus)}; probes during the load (cache header: count): ` +
    `${Object.entries(probes).map(([k, v]) => `${k}: ${v}`).join(", ") || "none"}; upstream requests during the load: ${upstreamDuring}; ` +
    `non-2xx: ${r.non2xx}; socket errors: ${r.socketErrors}` +
    (quiet < 0 ? "; the machine was not quiet before the phase" : "");
  log(`  ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms; ${r.check}`);
  return r;
}

/**
 * Phase 2: one streamed miss of BIG bytes from `server` (the upstream
 * itself for the direct run), sampling the RSS of its processes until it is
 * idle again (at most 3 minutes after the response).
 */
async function bigMiss(server, extra = [], query = "") {
  await quiesce(60_000);
  const url = `${server.base}/${key(BIG)}${query}`;
  const state0 = server.state ? dirBytes(server.state) : 0;
  const sampler = server.rssComm ? rssSampler(server) : null;
  await sleep(1000); // a few idle samples
  const r = await curl(url, extra, 600);
  sampler?.mark();
  r.settleS = await settle(server, 180_000); // background work after the response (e.g. a store write) counts
  r.rss = sampler?.stop();
  r.stored = server.state ? dirBytes(server.state) - state0 : 0;
  // `?r2` (the reference worker storing into R2): BIG bytes moved, a short answer.
  const moved = query === "?r2" ? BIG : r.size;
  r.mbps = moved / r.total / 1e6;
  r.complete = r.status === 200 && moved === BIG;
  const rss = r.rss ? `, RSS +${r.rss.duringMiB.toFixed(1)} MiB during the response, +${r.rss.growthMiB.toFixed(1)} MiB until idle` : "";
  const idle = r.settleS < 0 ? "still busy 180 s later" : `idle ${r.settleS.toFixed(0)} s later`;
  log(`  ${server.id}${extra.length ? " (not stored)" : ""}: ${r.status}, ${r.size} B in ${r.total.toFixed(2)} s = ${r.mbps.toFixed(0)} MB/s, cache ${r.cache || "-"}${rss}, stored +${(r.stored / 2 ** 20).toFixed(1)} MiB, ${idle}`);
  return r;
}

/**
 * Phase 3: TTFB of misses on fresh keys, interleaved across the targets.
 * With `onIdle`, before each request every target's processes must have used
 * no CPU for 150 ms (the copies of the previous miss, its own or another
 * target's, done), so that a miss's time to first byte is its own path's and
 * not the background work of earlier misses sharing the two cores.
 */
async function ttfb(targets, { onIdle = false } = {}) {
  const busy = () => sum(targets.filter((t) => t.proc !== undefined).map((t) => sum(cpuByRole(t))));
  const idle = async () => {
    for (let i = 0; i < 200; i++) {
      const c = busy();
      await sleep(150);
      if (busy() - c < 0.005) return;
    }
  };
  const res = targets.map(() => []);
  const bad = targets.map(() => 0);
  // CPU per miss: each server's own processes from the first measured miss
  // until they are idle again (the copies kept after the answer included).
  const served = (t) => t.proc !== undefined && t.id !== "direct";
  let cpu0 = [];
  for (let i = 0; i < TTFB_WARMUP + TTFB_N; i++) {
    if (i === TTFB_WARMUP) cpu0 = targets.map((t) => (served(t) ? sum(cpuByRole(t)) : NaN));
    for (const [j, t] of targets.entries()) {
      if (onIdle) await idle();
      const r = await curl(`${t.base}/${key(4096)}`);
      if (r.status !== 200 || (t.id !== "direct" && !isMiss(r.cache))) bad[j]++;
      if (i >= TTFB_WARMUP) res[j].push(r.ttfb * 1000);
    }
  }
  for (const t of targets) if (served(t)) await settle(t, 30_000);
  const cpuUs = targets.map((t, j) => (served(t) ? ((sum(cpuByRole(t)) - cpu0[j]) / TTFB_N) * 1e6 : NaN));
  return Object.fromEntries(targets.map((t, j) => [t.id, { median: median(res[j]), p90: quantile(res[j], 0.9), bad: bad[j], cpuUs: cpuUs[j] }]));
}

// -------------------------------------------------------------------- report

const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US").replace(/,/g, " ") : "n/a");
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const ratio = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "n/a");
const roles = (o, fmt, unit) => Object.entries(o).filter(([, v]) => Number.isFinite(v)).map(([r, v]) => `${r} ${fmt(v)}${unit}`).join(", ");

async function main() {
  await waitForFile(SHIM, "the built worker");
  await waitForFile(WRANGLER, "wrangler (npm ci)");
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${WATCHDOG_MS / 60_000} minutes, giving up`);
    cleanup().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  watchdog.unref();
  tmp = mkdtempSync("/tmp/sympath-bench-");
  const started = new Date();
  const load0 = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const head = (await run("git", ["-C", ROOT, "log", "-1", "--format=%h %s"], 5000, true)).stdout.trim().slice(0, 72);
  const dirty = (await run("git", ["-C", ROOT, "status", "--porcelain", "--", "worker", "wrangler.toml"], 5000, true)).stdout.trim() !== "";

  const up = await startUpstream();
  log(`upstream on ${up.base}`);
  const nginx = await startNginx(up);
  log(`nginx on ${nginx.base}`);
  log("starting wrangler dev (no build: it runs a snapshot of worker/build)");
  const mirror = await startWrangler({ id: "mirror", label: "sympath mirror (as `cargo xtask dev` runs it)", worker: "mirror" }, up);
  log(`mirror on ${mirror.base}`);
  const diag = [];
  if (DIAGNOSTICS) {
    diag.push(await startWrangler({ id: "mirror-quiet", label: "mirror, no request log", worker: "mirror", quiet: true }, up));
    diag.push(await startWrangler({ id: "reference", label: "minimal JS worker, no request log", worker: "reference", quiet: true }, up));
    log(`diagnostics on ${diag.map((d) => `${d.id} ${d.base}`).join(", ")}`);
  }
  const proxies = [mirror, nginx, ...diag];
  const versions = {
    wrangler: (readFileSync(mirror.logFile, "utf8").match(/wrangler\s+(\d+\.\d+\.\d+)/) ?? [])[1] ?? "?",
    nginx: (await run(NGINX, ["-v"], 5000)).stderr.trim().replace("nginx version: ", ""),
    wrk: ((await run(WRK, ["-v"], 5000, true)).stdout.match(/wrk (\S+)/) ?? [])[1] ?? "?",
    build: statSync(SHIM).mtime.toISOString(),
  };

  // Sanity: the same bytes through every path.
  const k = key(4096);
  const want = Buffer.from(await (await fetch(`${up.base}/${k}`)).arrayBuffer());
  for (const p of proxies) {
    const got = Buffer.from(await (await fetch(`${p.base}/${k}`)).arrayBuffer());
    if (!(want.length === 4096 && got.equals(want))) throw new Error(`${p.id} does not serve the upstream's bytes`);
  }

  // 1. Cache hits, one server after the other for each size.
  const hits = {};
  for (const size of SIZES) for (const p of proxies) hits[`${p.id} ${size.label}`] = await hitPhase(p, up, size);

  // 3. Miss TTFB (before the 1 GiB transfers, so that they cannot disturb it).
  log(`TTFB: ${TTFB_WARMUP} warm-up + ${TTFB_N} misses on fresh keys per target, interleaved`);
  await quiesce(60_000);
  const t = await ttfb([up, ...proxies]);
  for (const [id, r] of Object.entries(t)) log(`  ${id}: median ${f2(r.median)} ms, p90 ${f2(r.p90)} ms, not a 200 miss: ${r.bad}`);
  log(`TTFB on idle servers: ${TTFB_WARMUP} warm-up + ${TTFB_N} misses per target, each once every server is idle`);
  const ti = await ttfb([up, ...proxies], { onIdle: true });
  for (const [id, r] of Object.entries(ti)) log(`  ${id}: median ${f2(r.median)} ms, p90 ${f2(r.p90)} ms, not a 200 miss: ${r.bad}`);

  // 2. One streamed miss of BIG bytes each.
  log(`${BIG} B streamed misses`);
  const big = {};
  big.direct = await bigMiss(up);
  big.mirror = await bigMiss(mirror);
  big.nginx = await bigMiss(nginx, ["-H", "X-Bench-No-Store: 1"]);
  big.nginxStored = await bigMiss(nginx);
  for (const d of diag) big[d.id] = await bigMiss(d);
  // What the local R2 simulator itself costs: the minimal worker piping the
  // upstream body natively into R2 (no client body, no JS per chunk).
  const reference = diag.find((d) => d.id === "reference");
  if (reference) big.referenceR2 = await bigMiss(reference, [], "?r2");
  const load1 = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

  // ---- the table: direct | mirror | nginx | mirror ÷ nginx | diagnostics…
  const h = (id, s) => hits[`${id} ${s.label}`];
  const bigLabel = BIG === 2 ** 30 ? "1 GiB" : `${BIG} B`;
  const flag = (r) => (r.verified ? "" : " (NOT all hits)");
  const rows = [];
  const row = (measure, direct, m, n, r, diagCell) => rows.push([measure, direct, m, n, r, ...diag.map(diagCell)]);
  for (const s of SIZES) {
    const [m, n] = [h("mirror", s), h("nginx", s)];
    row(`${s.label} hit: requests/s`, "—", f0(m.rps) + flag(m), f0(n.rps) + flag(n), ratio(m.rps, n.rps), (d) => f0(h(d.id, s).rps) + flag(h(d.id, s)));
    const lat = (r) => `${f2(r.p50)} / ${f2(r.p90)} / ${f2(r.p99)}`;
    row(`${s.label} hit: latency p50 / p90 / p99 (ms)`, "—", lat(m), lat(n), ratio(m.p99, n.p99), (d) => lat(h(d.id, s)));
    row(`${s.label} hit: server CPU per request (µs)`, "—", f0(m.cpuPerRequestUs), f0(n.cpuPerRequestUs), ratio(m.cpuPerRequestUs, n.cpuPerRequestUs), (d) => f0(h(d.id, s).cpuPerRequestUs));
  }
  const mbps = (r) => f0(r.mbps) + (r.complete ? "" : ` (INCOMPLETE: ${r.status}, ${r.size} B)`);
  row(`${bigLabel} miss: throughput (MB/s)`, mbps(big.direct), mbps(big.mirror), `${mbps(big.nginx)} not stored; ${mbps(big.nginxStored)} stored`, ratio(big.mirror.mbps, big.nginx.mbps), (d) => mbps(big[d.id]));
  const during = (r) => `+${f1(r.rss.duringMiB)}`;
  row(`${bigLabel} miss: max RSS growth until the response ended, MiB (workerd / nginx processes)`, "—", during(big.mirror), `${during(big.nginx)} not stored; ${during(big.nginxStored)} stored`, "", (d) => during(big[d.id]));
  const rss = (r) => `+${f1(r.rss.growthMiB)} (${f0(r.rss.baseMiB)} → ${f0(r.rss.peakMiB)})`;
  const refR2 = big.referenceR2 ? `; R2 only: ${rss(big.referenceR2)}` : "";
  row(`${bigLabel} miss: max RSS growth until idle again (store writes included), MiB`, "—", rss(big.mirror), `${rss(big.nginx)} not stored; ${rss(big.nginxStored)} stored`, "", (d) => rss(big[d.id]) + (d.id === "reference" ? refR2 : ""));
  const mib = (r) => f0(r.stored / 2 ** 20);
  row(`${bigLabel} miss: written to the cache / R2 (MiB)`, "—", mib(big.mirror), `${mib(big.nginx)} not stored; ${mib(big.nginxStored)} stored`, "", (d) => mib(big[d.id]) + (d.id === "reference" && big.referenceR2 ? `; R2 only: ${mib(big.referenceR2)}` : ""));
  if (big.referenceR2) row(`${bigLabel} into R2 alone, no client body (MB/s)`, "—", "", "", "", (d) => (d.id === "reference" ? mbps(big.referenceR2) : ""));
  const tt = (id) => `${f2(t[id].median)} / ${f2(t[id].p90)}`;
  row(`miss TTFB, median / p90 of ${TTFB_N} (ms)`, tt("direct"), tt("mirror"), tt("nginx"), "", (d) => tt(d.id));
  const added = (id) => t[id].median - t.direct.median;
  const ti2 = (id) => (ti[id] ? `${f2(ti[id].median)} / ${f2(ti[id].p90)}` : "n/a");
  row(`miss TTFB on idle servers, median / p90 of ${TTFB_N} (ms)`, ti2("direct"), ti2("mirror"), ti2("nginx"), "", (d) => ti2(d.id));
  row("miss: server CPU per miss, until idle (µs)", "—", f0(t.mirror.cpuUs), f0(t.nginx.cpuUs), "", (d) => f0(t[d.id].cpuUs));
  row("miss TTFB added vs direct, median (ms)", "—", `+${f2(added("mirror"))}`, `+${f2(added("nginx"))}`, "", (d) => `+${f2(added(d.id))}`);

  const headers = ["measure", "direct upstream", mirror.label, nginx.label, "mirror ÷ nginx", ...diag.map((d) => `diagnostic: ${d.label}`)];
  const table = [`| ${headers.join(" | ")} |`, `|---|${headers.slice(1).map(() => "---:").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

  const met = (ok) => (ok ? "met" : "missed");
  const [m4, m1, n4, n1] = [h("mirror", SIZES[0]), h("mirror", SIZES[1]), h("nginx", SIZES[0]), h("nginx", SIZES[1])];
  const rpsOk = (m, n) => m.verified && m.rps >= 0.5 * n.rps;
  const growth = big.mirror.rss.duringMiB * 2 ** 20;
  const growthIdle = big.mirror.rss.growthMiB * 2 ** 20;
  const targets = [
    `- **Hit requests/s ≥ 0.5× nginx: ${met(rpsOk(m4, n4) && rpsOk(m1, n1))}** — 4 KB ${ratio(m4.rps, n4.rps)}, 1 MB ${ratio(m1.rps, n1.rps)}.`,
    `- **Hit p99 ≤ 20 ms: ${met(m4.verified && m1.verified && m4.p99 <= 20 && m1.p99 <= 20)}** — 4 KB ${f2(m4.p99)} ms, 1 MB ${f2(m1.p99)} ms (nginx ${f2(n4.p99)} and ${f2(n1.p99)} ms).`,
    `- **${bigLabel} miss throughput ≥ 0.5× nginx: ${met(big.mirror.complete && big.mirror.mbps >= 0.5 * big.nginx.mbps)}** — ${ratio(big.mirror.mbps, big.nginx.mbps)} of nginx not storing it (${ratio(big.mirror.mbps, big.nginxStored.mbps)} of nginx storing it).`,
    `- **workerd RSS growth ≤ 64 MB during the ${bigLabel} miss: ${met(big.mirror.complete && growth <= 64e6)}** — ${f1(growth / 1e6)} MB until the response ended; ${f1(growthIdle / 1e6)} MB until idle again, the R2 write included (R2 alone in the minimal worker: ${big.referenceR2 ? f1((big.referenceR2.rss.growthMiB * 2 ** 20) / 1e6) : "n/a"} MB); max over ${big.mirror.rss.samples} samples every 200 ms, summed over wrangler's workerd processes.`,
    `- **Miss TTFB added ≤ 5 ms: ${met(t.mirror.bad === 0 && added("mirror") <= 5)}** — +${f2(added("mirror"))} ms (nginx +${f2(added("nginx"))} ms).`,
  ].join("\n");

  const checks = [
    ...Object.entries(hits).map(([name, r]) => `- ${name} hits: ${r.check}; CPU per request: ${roles(r.cpuByRoleUs, f0, " µs")}.`),
    `- TTFB requests that were not a 200 miss (of ${TTFB_WARMUP + TTFB_N} each, the first ${TTFB_WARMUP} unmeasured): ${Object.entries(t).map(([id, r]) => `${id} ${r.bad}`).join(", ")}.`,
    ...Object.entries(big).map(
      ([id, r]) =>
        `- ${bigLabel} miss, ${id}: ${r.status}, ${r.size} B in ${f2(r.total)} s, cache header ${r.cache || "-"}` +
        (r.rss ? `; RSS growth by process: ${roles(r.rss.byRole, f1, " MiB")}` : "") +
        `; its processes idle again ${r.settleS < 0 ? "not within 180" : f0(r.settleS)} s after the response.`,
    ),
    ...[mirror, ...diag].map((w) => `- ${w.id}: devtools inspector ${w.inspectorUp ? "on" : "off"}.`),
  ].join("\n");

  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB; load average ${load0} before, ${load1} after; wrk, the servers and the upstream share the cores`;
  process.stdout.write(
    `Run ${started.toISOString()} at ${head}${dirty ? " (worker/ or wrangler.toml modified)" : ""}; worker build of ${versions.build}; ` +
      `wrangler ${versions.wrangler}, nginx ${versions.nginx}, wrk ${versions.wrk}, Node ${process.version}.\n` +
      `Machine: ${machine}.\n` +
      `Load: wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s --latency; ${bigLabel} misses with curl -o /dev/null; TTFB with curl -w %{time_starttransfer}.\n\n` +
      `${table}\n\nTargets (the mirror as \`cargo xtask dev\` runs it):\n\n${targets}\n\nChecks:\n\n${checks}\n`,
  );
}

try {
  await main();
  await cleanup();
} catch (e) {
  log(`failed: ${e.stack ?? e}`);
  await cleanup();
  process.exit(1);
}
