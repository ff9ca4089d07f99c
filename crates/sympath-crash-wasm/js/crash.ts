// Symbolize a Windows minidump in the browser: `symbolicate(dump, { symbolPath, mirror })`.
// The work runs in a Web Worker (crash-worker.js): stack walk and PDB reads
// in WebAssembly, symbol files through the sympath symbol client, large PDBs
// read in Range blocks. The page never freezes.

/** How a frame was found: the register context, call frame info (unwind info), a frame pointer, or a stack scan. */
export type FrameTrust = "context" | "cfi" | "frame_pointer" | "scan" | "cfi_scan" | "prewalked" | "none";

export interface CrashInlineFrame {
  function: string;
  file: string | null;
  line: number | null;
}

export interface CrashFrame {
  index: number;
  trust: FrameTrust;
  /** Instruction address, hex. */
  address: string;
  module: string | null;
  module_offset: string | null;
  function: string | null;
  function_offset: string | null;
  file: string | null;
  line: number | null;
  /** Functions inlined at this address, innermost first. */
  inlines: CrashInlineFrame[];
}

export interface CrashThread {
  index: number;
  id: number;
  name: string | null;
  crashed: boolean;
  frames: CrashFrame[];
  note: string | null;
}

export type SymbolState =
  | { state: "not_needed" }
  | { state: "loaded" }
  | { state: "missing"; reason: string }
  // Loaded, but parts of it could not be read and were left out (a PDB: some modules' source lines).
  | { state: "partial"; reason: string };

export interface CrashModule {
  name: string;
  base: string;
  size: number;
  debug_file: string | null;
  debug_id: string | null;
  code_id: string | null;
  /** The PE image (x64 unwind info). */
  image: SymbolState;
  /** The PDB (function names, lines, inlinees). */
  pdb: SymbolState;
}

export interface CrashReport {
  os: string;
  cpu: string;
  crash: { reason: string; code: string; address: string; thread_id: number } | null;
  /** The crashing thread first. */
  threads: CrashThread[];
  modules: CrashModule[];
  /** Plain-text report. */
  text: string;
}

/** Bytes read per PDB: `ranged` when read in Range blocks rather than whole. */
export interface PdbTraffic {
  key: string;
  size: number;
  fetched: number;
  requests: number;
  ranged: boolean;
}

export interface SymbolicateResult {
  report: CrashReport;
  traffic: PdbTraffic[];
  /** Walk rounds (each fetched the files the previous one found it needed). */
  rounds: number;
  /** Milliseconds in the worker. */
  ms: number;
}

export interface CrashProgress {
  type: "progress" | "partial";
  module?: string;
  what?: string;
  /** A report with the symbols loaded so far (`partial`). */
  report?: CrashReport;
}

export interface SymbolicateOptions {
  /** The symbol path (`_NT_SYMBOL_PATH` syntax). */
  symbolPath: string;
  /** A sympath mirror every HTTP store is fetched through. */
  mirror?: string;
  /** Cache Storage cache for whole files (`null`: none). PDB blocks go to `sympath-pdb-blocks`. */
  cacheName?: string | null;
  /** Range block size in bytes (default 64 KiB). */
  blockSize?: number;
  onProgress?: (p: CrashProgress) => void;
  signal?: AbortSignal;
  /** Where the worker script is (default: next to this module). */
  workerUrl?: string | URL;
}

/** Walks and symbolizes every thread of a Windows minidump. Rejects with a clear message for a dump it cannot read. */
export async function symbolicate(dump: ArrayBuffer | Uint8Array | Blob, options: SymbolicateOptions): Promise<SymbolicateResult> {
  const bytes = dump instanceof Blob ? await dump.arrayBuffer() : dump instanceof Uint8Array ? dump.slice().buffer : dump.slice(0);
  const worker = new Worker(options.workerUrl ?? new URL("./crash-worker.js", import.meta.url), { type: "module" });
  try {
    return await new Promise<SymbolicateResult>((resolve, reject) => {
      options.signal?.addEventListener("abort", () => reject(new Error("symbolication was aborted")), { once: true });
      worker.onerror = (e) => reject(new Error(`the symbolication worker failed: ${e.message}`));
      worker.onmessage = (e: MessageEvent) => {
        const m = e.data as { type: string; code?: string; message?: string };
        if (m.type === "done") {
          const r = m as unknown as SymbolicateResult;
          resolve({ report: r.report, traffic: r.traffic, rounds: r.rounds, ms: r.ms });
        } else if (m.type === "error") reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
        else options.onProgress?.(m as CrashProgress);
      };
      worker.postMessage(
        { dump: bytes, symbolPath: options.symbolPath, mirror: options.mirror, cacheName: options.cacheName, blockSize: options.blockSize },
        [bytes as ArrayBuffer],
      );
    });
  } finally {
    worker.terminate();
  }
}
