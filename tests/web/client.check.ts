// Type-checks the browser symbol client as a crash viewer would use it
// (`sympath/client`), and the identity module's minidump reader.
import { SymbolClient, SymbolError } from "../../web/pkg/client.js";
import type { CachedSymbol, ProbeRecord, SymbolResult } from "../../web/pkg/client.js";
import initIdent, { readMinidump } from "../../web/pkg/ident/sympath_ident_wasm.js";
import type { DumpInfo } from "../../web/pkg/ident/sympath_ident_wasm.js";

export async function viewer(dump: Uint8Array, signal: AbortSignal): Promise<Blob[]> {
  await initIdent();
  const info: DumpInfo = readMinidump(dump);
  const client = new SymbolClient({ symbolPath: "srv*https://msdl.microsoft.com/download/symbols", mirror: "https://mirror.example" });
  await client.ready;
  const blobs: Blob[] = [];
  for (const m of info.modules) {
    const pdb = m.identities.find((i) => i.kind === "pdb");
    if (!pdb) continue;
    try {
      const res: SymbolResult = await client.fetchSymbol(
        { name: pdb.name, guid: pdb.fields.guid, age: pdb.fields.age, imageName: m.name },
        { signal, onProgress: (loaded: number, total: number | null) => void [loaded, total] },
      );
      const from: "cache" | "network" = res.source;
      blobs.push(await res.blob());
      void from;
    } catch (e) {
      if (e instanceof SymbolError && e.code === "not_found") {
        const tried: ProbeRecord[] = e.probes;
        void tried;
      } else throw e;
    }
  }
  const urls: ProbeRecord[] = await client.locate({ name: "ntdll.dll", timestamp: 0x2b5c3f0e, sizeOfImage: 0x1f8000 });
  const has: boolean = (await client.has({ name: "ntdll.pdb", debugId: "0F7FCF88442F4B0E9FB51DC4A754D9DE2" })).found;
  const cached: CachedSymbol[] = await client.cached();
  // @ts-expect-error fetchSymbol needs a request with a name.
  await client.fetchSymbol({ guid: "x" });
  void [urls, has, cached];
  return blobs;
}
