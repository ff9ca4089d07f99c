// The wasm binding itself, in Node's V8: every export, typed results, clear errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./browser.mjs";
import init, * as sp from "../../web/pkg/sympath_wasm.js";

await init({ module_or_path: readFileSync(join(ROOT, "web/pkg/sympath_wasm_bg.wasm")) });

test("expand: the same object as the CLI's JSON, each cache list a fresh array, equal texts one string", () => {
  const cli = process.env.SYMPATH_CLI ? join(ROOT, process.env.SYMPATH_CLI) : join(ROOT, "target", "debug", "sympath");
  // Every path of the vector corpus too (the decoder of js.rs on every shape they have).
  const corpus = readFileSync(join(ROOT, "tests/data/vectors/paths.tsv"), "utf8").split("\n").slice(1).filter(Boolean).map((l) => l.split("\t")[1]);
  assert.ok(corpus.length > 50, `${corpus.length} vectors`);
  const paths = [
    String.raw`cache*C:\c;C:\x;cache*;srv*https://h/s;C:\y;cache*D:\d;C:\z`,
    String.raw`srv*C:\sym*https://msdl.microsoft.com/download/symbols;;C:\sym`,
    "",
    "\u00e9t\u00e9;cache*C:\\\u00fc;srv*https://h/s",
    "\u{1F600}*;srv*\u{1F600}",
    ...corpus,
  ];
  for (const p of paths) {
    let json;
    try {
      json = execFileSync(cli, ["expand", "--json", "--", p], { encoding: "utf8" });
    } catch (e) {
      json = e.stdout; // exit 1 = the path has errors; the JSON is still printed
    }
    const out = sp.expand({ path: p });
    assert.deepEqual(out, JSON.parse(json), p);
  }
  const out = sp.expand({ path: String.raw`cache*C:\c;C:\x;C:\y` });
  assert.notEqual(out.elements[1].cached_into, out.elements[2].cached_into, "not one shared array");
  out.elements[1].cached_into.push("changed");
  assert.deepEqual(out.elements[2].cached_into, [String.raw`C:\c`]);
});

test("expand: elements in the vector shape, diagnostics with codes and byte spans", () => {
  const out = sp.expand({ path: String.raw`cache*C:\c;srv*C:\sym*http://msdl.microsoft.com/download/symbols` });
  assert.equal(out.elements.length, 2);
  assert.deepEqual(out.elements[1].cached_into, [String.raw`C:\c`]);
  assert.deepEqual(out.elements[1].stores.map((s) => [s.role, s.kind]), [["downstream", "dir"], ["upstream", "http"]]);
  const d = out.diagnostics.find((x) => x.code === "SP401");
  assert.equal(out.text.slice(d.span[0], d.span[1]), "http://msdl.microsoft.com/download/symbols");
  assert.equal(d.fix.edits[0].replacement, "https");
  assert.equal(out.canonical, String.raw`cache*C:\c;srv*C:\sym*http://msdl.microsoft.com/download/symbols`);
});

test("expand: environment, commands, defaults and dialects (R42, R45)", () => {
  const out = sp.expand({ path: "srv*https://h/s", alt: String.raw`C:\private`, commands: [".symfix+ C:\\cache"], downstreamStore: "D:\\dds" });
  assert.deepEqual(out.elements.map((e) => e.type), ["dir", "chain", "cache", "chain"]);
  assert.deepEqual(out.origins, ["alt_env", "nt_env", "symfix", "symfix"]);
  assert.equal(out.explicit, String.raw`C:\private;srv*D:\dds*https://h/s;cache*C:\cache;srv*https://msdl.microsoft.com/download/symbols`);
  assert.deepEqual(sp.expand({ path: "srv*", dialect: "samply" }).elements[0].stores, [{ role: "downstream", kind: "default_downstream", span: [4, 4] }]);
  assert.throws(() => sp.expand({ path: "x", dialect: "nope" }), (e) => e instanceof Error && e.code === "bad-input" && /unknown dialect/.test(e.message));
  assert.throws(() => sp.expand({ path: "x", commands: [".reload"] }), (e) => e instanceof Error && e.code === "bad-command");
});

test("storeKey: every layout, Breakpad ids, clear errors", () => {
  const k = sp.storeKey("pdb", { name: String.raw`C:\build\ShowSSEConfig.pdb`, guid: "A6259241-8D78-0749-4C4C-44205044422E", age: "1" });
  assert.equal(k.one_tier, "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb");
  assert.equal(k.compressed, "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pd_");
  assert.equal(k.debug_id, "A62592418D7807494C4C44205044422E1");
  const pe = sp.storeKey("pe", { name: "ShowSSEConfig.exe", code_id: "63E6C7F78000" });
  assert.equal(pe.two_tier, "Sh/ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe");
  assert.equal(sp.storeKey("elf_code", { name: "libx.so", build_id: "0102" }).compressed, null);
  assert.equal(sp.storeKey("pdb", { name: "..x.pdb", debug_id: "A62592418D7807494C4C44205044422E1" }).two_tier, null, "R83: no `.` directory");
  assert.throws(() => sp.storeKey("pdb", { name: "a.pdb", guid: "zz", age: "1" }), (e) => e instanceof Error && e.code === "bad-identity" && /invalid GUID/.test(e.message));
  assert.throws(() => sp.storeKey("nope", { name: "a" }), (e) => e instanceof Error && e.code === "bad-kind");
  assert.throws(() => sp.storeKey("pdb", { name: "..", debug_id: "A62592418D7807494C4C44205044422E1" }), (e) => e instanceof Error && e.code === "bad-key" && /invalid file name/.test(e.message));
});

test("plan: ordered probes with a mirror; explain; fixAll; utf16Offsets; codes", () => {
  const p = sp.plan({ path: "srv*C:\\s*https://msdl.microsoft.com/download/symbols" }, { kind: "pdb", identity: { name: "a.pdb", debug_id: "A62592418D7807494C4C44205044422E1" }, tiers: "one", mirror: "https://m.example", noFallback: true });
  assert.deepEqual(p.probes.map((x) => x.location.type), ["path", "path", "path", "url", "url", "url"]);
  assert.equal(p.probes[3].location.url, "https://m.example/a.pdb/A62592418D7807494C4C44205044422E1/a.pdb");
  assert.deepEqual(p.probes[3].on_hit, [{ store: "C:\\s", form: "expanded", reason: "downstream" }]);
  assert.match(sp.explain({ path: "cache*;srv*" }).items[0].title, /Cache/);
  assert.equal(sp.fixAll(" http://msdl.microsoft.com/download/symbols ;;", undefined), "srv*https://msdl.microsoft.com/download/symbols");
  assert.deepEqual(Array.from(sp.utf16Offsets("é😀x", new Uint32Array([0, 2, 6, 7]))), [0, 1, 3, 4]);
  const codes = sp.codes();
  assert.ok(codes.length >= 29 && codes.every((c) => /^SP\d{3}$/.test(c.code)));
});

test("hostile input never crashes the module", () => {
  for (const s of ["", ";;;", "*".repeat(10000), "\u0000\uffff", "srv*" + "é".repeat(5000), "cache*".repeat(2000)]) {
    const out = sp.expand({ path: s });
    for (const d of out.diagnostics) assert.ok(d.span[0] <= d.span[1] && d.span[1] <= new TextEncoder().encode(out.text).length);
  }
  assert.throws(() => sp.expand({ path: 42 }), (e) => e instanceof Error && e.code === "bad-input");
});

test("parseFilePtr (R63, R64): PATH keeps everything after the first colon; MSG is a message; targets classified", () => {
  const enc = (s) => new TextEncoder().encode(s);
  assert.deepEqual(sp.parseFilePtr(enc("PATH:C:\\x\\a.pdb\r\n")), { type: "path", value: "C:\\x\\a.pdb", target: "local" });
  assert.deepEqual(sp.parseFilePtr(enc("PATH:\\\\srv\\share\\a.pdb")), { type: "path", value: "\\\\srv\\share\\a.pdb", target: "unc" });
  assert.deepEqual(sp.parseFilePtr(enc("https://files.example/a.pdb")), { type: "path", value: "https://files.example/a.pdb", target: "url" });
  assert.deepEqual(sp.parseFilePtr(enc("MSG:NoLongerIndexed")), { type: "message", value: "NoLongerIndexed", target: null });
  assert.deepEqual(sp.parseFilePtr(enc(" \r\n")), { type: "empty", target: null });
});

test("readMinidump: the module list of a dump made by minidump-synth; bad dumps are clear errors", async () => {
  const { execFileSync } = await import("node:child_process");
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const id = await import("../../web/pkg/ident/sympath_ident_wasm.js");
  await id.default({ module_or_path: readFileSync(join(ROOT, "web/pkg/ident/sympath_ident_wasm_bg.wasm")) });
  const out = join(mkdtempSync(join(tmpdir(), "sympath-dmp-")), "a.dmp");
  execFileSync("cargo", ["run", "--quiet", "--locked", "-p", "sympath-ident", "--example", "synth_minidump", "--", out], { cwd: ROOT });
  const info = id.readMinidump(readFileSync(out));
  assert.equal(info.modules[0].name, "ShowSSEConfig.exe");
  assert.deepEqual(info.modules[0].identities.map((i) => i.key), [
    "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb",
    "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe",
  ]);
  assert.equal(info.modules[0].identities[0].fields.guid, "A6259241-8D78-0749-4C4C-44205044422E");
  assert.throws(() => id.readMinidump(new TextEncoder().encode("<html>")), (e) => e instanceof Error && e.code === "corrupt" && !/^corrupt:/.test(e.message));
});

test("applyFix: the core applies a diagnostic's fix to the part of the text asked for; edits outside it are a coded error", () => {
  const out = sp.expand({ path: "srv*C:\\sym*http://msdl.microsoft.com/download/symbols" });
  const d = out.diagnostics.find((x) => x.code === "SP401");
  assert.equal(sp.applyFix(out.text, d.fix, 0, new TextEncoder().encode(out.text).length), "srv*C:\\sym*https://msdl.microsoft.com/download/symbols");
  assert.throws(() => sp.applyFix(out.text, d.fix, 0, 3), (e) => e instanceof Error && e.code === "bad-fix");
  assert.throws(() => sp.applyFix(out.text, d.fix, 5, 2), (e) => e.code === "bad-fix");
  assert.throws(() => sp.applyFix(out.text, { edits: "nope" }, 0, 1), (e) => e.code === "bad-input");
});
