// Benchmark (not a test): the wasm `expand` on bench-keystroke.mjs's 4 KB path in Node (V8),
// and JSON.parse of its result alone. Usage: node tests/web/bench-expand-node.mjs [pkg dir] (after cargo xtask wasm)
import { readFileSync } from "node:fs";
import { keystrokePath } from "./bench-path.mjs";
const pkg = new URL(process.argv[2] ?? "../../web/pkg", import.meta.url).pathname.replace(/\/$/, "");
const sp = await import(pkg + "/sympath_wasm.js");
sp.initSync({ module: readFileSync(pkg + "/sympath_wasm_bg.wasm") });
const path = keystrokePath();
const input = { path, commands: [], consumer: "debugger", dialect: "dbgeng" };
const t = [];
for (let i = 0; i < 2000; i++) {
  const t0 = performance.now();
  sp.expand({ ...input, path: path + "x".repeat(i % 7) });
  t.push(performance.now() - t0);
}
t.sort((a, b) => a - b);
const out = sp.expand(input);
console.log(JSON.stringify({ median_ms: t[1000].toFixed(3), p90_ms: t[1800].toFixed(3), json_bytes: JSON.stringify(out).length, elements: out.elements.length, diagnostics: out.diagnostics.length }));
{
  const s = JSON.stringify(out);
  const t2 = [];
  for (let i = 0; i < 2000; i++) { const t0 = performance.now(); JSON.parse(s); t2.push(performance.now() - t0); }
  t2.sort((a, b) => a - b);
  const t3 = [];
  for (let i = 0; i < 2000; i++) { const t0 = performance.now(); sp.fixAll(path + "x".repeat(i % 7), input); t3.push(performance.now() - t0); }
  t3.sort((a, b) => a - b);
  console.log(JSON.stringify({ json_parse_median_ms: t2[1000].toFixed(3), fixall_median_ms: t3[1000].toFixed(3) }));
}
