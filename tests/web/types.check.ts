// Type-checks the generated TypeScript declarations of the wasm package:
// every export is typed (no `any`), and the shapes are usable as documented.
// Run by `cargo xtask test` with `tsc -p tests/web/tsconfig.json`.
import init, { codes, explain, expand, fixAll, plan, storeKey, utf16Offsets } from "../../web/pkg/sympath_wasm.js";
import type { Diagnostic, Element, ExpandOutput, KeyOutput, LookupPlan, Probe, Span } from "../../web/pkg/sympath_wasm.js";

export async function check(): Promise<void> {
  await init();
  const out: ExpandOutput = expand({ path: "srv*C:\\sym*https://msdl.microsoft.com/download/symbols", commands: [".symfix+"] });
  const first: Element = out.elements[0];
  if (first.type === "chain") {
    const dll: string = first.dll;
    const role: "downstream" | "upstream" = first.stores[0].role;
    const caches: string[] | undefined = first.cached_into;
    void [dll, role, caches];
  }
  const d: Diagnostic | undefined = out.diagnostics[0];
  const span: Span | undefined = d?.span;
  const canonical: string = out.canonical;
  // @ts-expect-error canonical is a string, not a number: fails if the export were `any`.
  const wrong: number = out.canonical;
  const keys: KeyOutput = storeKey("pdb", { name: "ntdll.pdb", guid: "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE", age: "2" });
  const compressed: string | null = keys.compressed;
  const p: LookupPlan = plan({ path: "srv*" }, { kind: "pdb", identity: { name: "ntdll.pdb", debug_id: "0F7FCF88442F4B0E9FB51DC4A754D9DE2" }, tiers: "one" });
  const probe: Probe = p.probes[0];
  const where: string = probe.location.type === "url" ? probe.location.url : probe.location.path;
  const summary: string = explain({ path: "srv*" }).summary;
  const fixed: string = fixAll("srv", undefined);
  const code: string = codes()[0].code;
  const offsets: Uint32Array = utf16Offsets("é", new Uint32Array([2]));
  void [span, canonical, wrong, compressed, where, summary, fixed, code, offsets];
}
