// The npm package as `npm pack` would publish it (web/pkg/package.json's
// "files"): every relative import of every packaged module is packaged too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { ROOT } from "./browser.mjs";

test("every relative import of the packaged modules is in the package (wasm-bindgen snippets included)", () => {
  const pkg = join(ROOT, "web", "pkg");
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: pkg, encoding: "utf8" });
  const files = new Set(JSON.parse(out)[0].files.map((f) => f.path));
  const modules = [...files].filter((f) => f.endsWith(".js"));
  assert.ok(modules.includes("ident/sympath_ident_wasm.js") && modules.includes("sympath_wasm.js"), [...files].join(", "));
  let imports = 0;
  for (const m of modules) {
    const text = readFileSync(join(pkg, m), "utf8");
    for (const [, spec] of text.matchAll(/(?:from\s*|import\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
      imports++;
      const target = normalize(join(dirname(m), spec));
      assert.ok(files.has(target), `${m} imports ${spec}, which the package leaves out`);
    }
  }
  assert.ok(imports > 3, `${imports} relative imports`);
});
