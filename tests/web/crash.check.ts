// Type-checks `symbolicate` (`sympath/crash`) as another crash viewer would use it.
import { symbolicate } from "../../web/pkg/crash.js";
import type { CrashFrame, CrashReport, FrameTrust, PdbTraffic, SymbolState } from "../../web/pkg/crash.js";

export async function crashingFrames(dump: Blob, signal: AbortSignal): Promise<string[]> {
  const { report, traffic, rounds, ms } = await symbolicate(dump, {
    symbolPath: "srv*https://msdl.microsoft.com/download/symbols",
    mirror: "https://mirror.example",
    signal,
    onProgress: (p) => void [p.module, p.what, p.report?.threads.length],
  });
  const r: CrashReport = report;
  const reason: string | undefined = r.crash?.reason;
  const frames: CrashFrame[] = r.threads.find((t) => t.crashed)?.frames ?? [];
  const trust: FrameTrust[] = frames.map((f) => f.trust);
  const pdbs: SymbolState[] = r.modules.map((m) => m.pdb);
  const bytes: number = traffic.reduce((n: number, t: PdbTraffic) => n + t.fetched, 0);
  void [reason, trust, pdbs, bytes, rounds, ms];
  return frames.map((f) => `${f.module}!${f.function ?? "?"}+${f.function_offset ?? f.module_offset} ${f.inlines.map((i) => i.function).join(",")}`);
}
