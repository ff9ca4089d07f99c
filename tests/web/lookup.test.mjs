// The lookup vectors (tests/data/lookup/lookups.tsv) through the core's engine
// as the browser client and other JavaScript executors get it: the wasm
// binding's `Lookup`, driven by a scripted executor. The same rows run in
// the core's tests (crates/sympath/tests/lookup.rs) and the mirror's host
// tests, so every executor follows one set of rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./browser.mjs";
import init, * as sp from "../../web/pkg/sympath_wasm.js";

await init({ module_or_path: readFileSync(join(ROOT, "web/pkg/sympath_wasm_bg.wasm")) });

const te = new TextEncoder();

function body(name) {
  const filled = (head, size, fill) => {
    const b = new Uint8Array(size).fill(fill);
    b.set(head);
    return b;
  };
  switch (name) {
    case "pdb": return filled(te.encode("Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0"), 4096, 7);
    case "pe": return filled(te.encode("MZ"), 1024, 1);
    case "html": return te.encode("<!DOCTYPE html><html><body>Not here</body></html>");
    case "empty": return new Uint8Array(0);
    case "big": return new Uint8Array(5000).fill(0x50);
  }
  if (name.startsWith("text:")) return te.encode(name.slice(5));
  if (name.startsWith("pe:")) {
    // A PE image with that TimeDateStamp and SizeOfImage (hex), R67.
    const [ts, size] = name.slice(3).split(":");
    const b = filled(te.encode("MZ"), 1024, 0);
    const v = new DataView(b.buffer);
    v.setUint32(0x3c, 0x80, true);
    b.set(te.encode("PE\0\0"), 0x80);
    v.setUint32(0x88, parseInt(ts, 16), true);
    v.setUint32(0x80 + 24 + 56, parseInt(size, 16), true);
    return b;
  }
  throw new Error(`unknown body ${name}`);
}

/** `STATUS [k=v]…` → the answer a scripted store gives. */
function answer(spec) {
  const words = spec.trim().split(/\s+/);
  const a = { head: { status: /^\d+$/.test(words[0]) ? Number(words[0]) : 0 }, body: new Uint8Array(0), cab: null, corrupt: false, problem: null };
  let len;
  for (const w of words) {
    const i = w.indexOf("=");
    if (i < 0) continue;
    const [k, v] = [w.slice(0, i), w.slice(i + 1)];
    if (k === "type") a.head.content_type = v;
    else if (k === "len") len = v === "none" ? null : Number(v);
    else if (k === "enc") a.head.content_encoding = v;
    else if (k === "loc") a.head.location = v;
    else if (k === "retry") a.head.retry_after = v;
    else if (k === "mirror") a.head.mirror = v;
    else if (k === "body" && v.startsWith("cab:")) {
      const [, inner, ...what] = v.split(":");
      a.body = new Uint8Array(512).fill(3);
      a.body.set(te.encode("MSCF\0\0\0\0"));
      a.cab = { inner, content: body(what.join(":")) };
    } else if (k === "body" && v === "corruptcab") {
      a.body = te.encode("MSCF\0\0\0\0garbage");
      a.corrupt = true;
    } else if (k === "body") a.body = body(v);
    else if (k === "problem") {
      const [kind, message = ""] = v.split(/:(.*)/s);
      a.problem = { kind: kind === "network" ? "network" : "transfer", message };
    } else throw new Error(`unknown answer field ${k}`);
  }
  if (len !== undefined) { if (len !== null) a.head.content_length = len; }
  else if (a.head.status === 200) a.head.content_length = a.body.length;
  return a;
}

function policyOf(name) {
  const [base, ...mods] = name.split("+");
  const policy = base === "edge"
    ? { targets: "public_https", redirects: "engine", max_compressed_bytes: 32 * 1024 * 1024, max_expanded_bytes: 64 * 1024 * 1024 }
    : {};
  let tiers = "one";
  for (const m of mods) {
    if (m === "head") policy.method = "HEAD";
    else if (m === "any") policy.targets = "any";
    else if (m === "probe") tiers = "probe";
    else throw new Error(`unknown modifier ${m}`);
  }
  return { policy, tiers };
}

function run(row) {
  const { policy, tiers } = policyOf(row.policy);
  const answers = new Map(row.answers.split(" | ").filter((s) => s.trim()).map((s) => {
    const [u, a] = s.split(" => ");
    return [u.trim(), a.trim()];
  }));
  const lk = sp.Lookup.forKey({ path: row.path }, row.key, policy, { tiers, noFallback: true });
  const fetched = [];
  let found = null;
  let done;
  for (;;) {
    const step = lk.next();
    if (step.step === "done") { done = step; break; }
    fetched.push(`${step.method}${step.authorization ? "*" : ""} ${step.url}`);
    const a = answer(answers.get(step.url) ?? "404");
    if (a.problem?.kind === "network") { lk.problem(step.id, a.problem); continue; }
    let d = lk.headers(step.id, a.head);
    for (let more = true; more;) {
      switch (d.do) {
        case "next": more = false; break;
        case "sniff": d = lk.firstBytes(step.id, a.body.subarray(0, d.bytes)); break;
        case "read_all": d = a.body.length > d.max ? lk.problem(step.id, { kind: "too_large", message: d.max }) : lk.body(step.id, a.body); break;
        case "expand":
          d = a.cab && !a.corrupt
            ? lk.expanded(step.id, a.cab.inner, a.cab.content.length, a.cab.content.subarray(0, 4096))
            : lk.problem(step.id, { kind: "corrupt", message: "the cabinet does not expand" });
          break;
        case "take": {
          more = false;
          if (a.problem) { lk.problem(step.id, a.problem); break; }
          let received = a.cab && d.expanded ? a.cab.content.length : a.body.length;
          if (step.method === "HEAD") received = d.length ?? received;
          try {
            lk.complete(d.id, received);
            found = `found ${d.url}${d.expanded ? " expanded" : ""}${d.pointer ? " pointer" : ""}${d.store.store === "no" ? " store=no" : ""}`;
          } catch (e) {
            assert.equal(e.code, "short-body");
          }
          break;
        }
        default: throw new Error(`unknown decision ${JSON.stringify(d)}`);
      }
    }
  }
  const want = row.fetches.split(" | ").map((s) => s.trim()).filter(Boolean);
  assert.deepEqual(fetched, want, `${row.id}: fetches`);
  const [expected, why] = row.result.split(" ~");
  const got = done.result === "found" ? found : done.result;
  assert.equal(got, expected.trim(), `${row.id}: ${done.reason ?? ""}`);
  if (why) assert.ok(done.reason.includes(why), `${row.id}: ${done.reason} does not say ${why}`);
  const probes = lk.probes();
  assert.ok(!JSON.stringify(probes).includes("Basic "), "no credentials in the records");
  lk.free();
}

test("R20 R66 R88 R89: every lookup vector, through the wasm binding's Lookup", () => {
  const lines = readFileSync(join(ROOT, "tests/data/lookup/lookups.tsv"), "utf8").split("\n").filter((l) => l.trim());
  const header = lines[0].split("\t");
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split("\t").map((v, i) => [header[i], v])));
  assert.ok(rows.length >= 50);
  const failures = [];
  for (const row of rows) {
    try { run(row); } catch (e) { failures.push(`${row.id}: ${e.message}`); }
  }
  assert.deepEqual(failures, []);
});

test("Lookup: places in order before any fetch; a bad key is an Error with a code", () => {
  const lk = sp.Lookup.forKey({ path: String.raw`C:\local;srv*https://a.example` }, "a.pdb/A1/a.pdb", {}, { tiers: "one", noFallback: true });
  assert.equal(lk.key, "a.pdb/A1/a.pdb");
  const places = lk.places();
  assert.deepEqual(places.map((p) => [p.outcome, p.location]), [
    ["skipped", String.raw`C:\local\a.pdb`],
    ["pending", "https://a.example/a.pdb/A1/a.pdb"],
    ["pending", "https://a.example/a.pdb/A1/a.pd_"],
    ["pending", "https://a.example/a.pdb/A1/file.ptr"],
  ]);
  assert.deepEqual(lk.probes(), [], "places() fetches nothing");
  lk.free();
  assert.throws(() => sp.Lookup.forKey({ path: "srv*https://a.example" }, "../etc/passwd/x", {}), (e) => e instanceof Error && e.code === "bad-key");
  assert.throws(() => new sp.Lookup({ path: "srv*https://a.example" }, { kind: "pdb", identity: { name: "a.pdb", guid: "zz", age: "1" } }), (e) => e.code === "bad-identity");
});
