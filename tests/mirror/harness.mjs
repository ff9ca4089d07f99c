// Starts the edge mirror in the real local Workers runtime (`wrangler dev` →
// workerd) on 127.0.0.1, with a fresh state directory (edge cache, R2), and
// waits until it answers /health. Shared by the mirror and client tests.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`mirror not ready at ${url}`);
}

/**
 * @param {{ port: number, vars: Record<string, string>, state?: string }} options
 *   `state`: a state directory (edge cache, R2) to use and keep, for a mirror
 *   restarted on another's stores; by default a fresh one, deleted by `stop`.
 * @returns {Promise<{ url: string, output: () => string, requests: (path: string) => number, stop: () => Promise<void> }>}
 */
export async function startMirror({ port, vars, state: given }) {
  const tools = join(process.env.HOME, ".cache", "sympath-tools");
  const state = given ?? await mkdtemp(join(tmpdir(), "sympath-mirror-")); // a fresh cache and R2 for every run
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(port + 1), "--persist-to", state];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(join(ROOT, "node_modules", ".bin", "wrangler"), args, {
    cwd: ROOT,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      PATH: `${join(tools, "worker-build-0.8.7", "bin")}:${process.env.PATH}`,
      WASM_BINDGEN_BIN: join(tools, "wasm-bindgen-0.2.129", "bin", "wasm-bindgen"),
      WASM_OPT_BIN: join(ROOT, "node_modules", ".bin", "wasm-opt"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${url}/health`, 600_000);
  } catch (e) {
    child.kill("SIGTERM");
    throw new Error(`${e.message}\n${out.slice(-3000)}`);
  }
  return {
    url,
    output: () => out,
    // wrangler dev logs every request the worker gets: "GET /<path> 200 OK (3ms)".
    requests: (path) => out.split("\n").filter((l) => l.includes(` /${path} `)).length,
    stop: async () => {
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      if (given) await exited; // its stores are reused
      else await rm(state, { recursive: true, force: true });
    },
  };
}
