// The crash viewer's Web Worker: walks and symbolizes a minidump in
// WebAssembly (sympath-crash) without ever blocking the page.
//
// Files reach the synchronous walk in rounds: a round reports the module
// images and PDBs it asked for and did not have; the worker fetches them and
// runs another round. Images are fetched whole through the symbol client. A
// PDB found as a plain file at an HTTP store is never downloaded whole: the
// walk reads it through `pdbRead`, which fetches the blocks it lacks with a
// synchronous `XMLHttpRequest` and a `Range` header (allowed in workers, and
// what the synchronous PDB reader needs). Blocks are kept in Cache Storage, so
// a second look at a crash costs no traffic. A PDB already in the browser
// cache, compressed (`.pd_`) or behind `file.ptr` is fetched whole by the
// client instead.

import { SymbolClient, SymbolError } from "./client.js";
import init, { symbolicate } from "./crash/sympath_crash_wasm.js";

interface Start {
  dump: ArrayBuffer;
  symbolPath: string;
  mirror?: string;
  cacheName?: string | null;
  blockSize?: number;
}

interface ModuleArg {
  codeFile?: string;
  codeId?: string | null;
  debugFile?: string | null;
  debugId?: string | null;
  base: string;
}

interface Pdb {
  key: string;
  size: number;
  url?: string;
  whole?: Uint8Array;
  blocks: Map<number, Uint8Array>;
  fresh: Set<number>;
  fetched: number;
  requests: number;
}

const post = (m: unknown) => (globalThis as unknown as { postMessage(m: unknown): void }).postMessage(m);
const BLOCK_CACHE = "sympath-pdb-blocks";

let blockSize = 64 * 1024;
const modules = new Map<string, ModuleArg>();
const images = new Map<string, Uint8Array | string>();
const pdbs = new Map<string, Pdb | string>();

function remember(m: ModuleArg) {
  const known = modules.get(m.base);
  if (!known || (m.codeFile && !known.codeFile)) modules.set(m.base, m);
}

function xhrRange(url: string, from: number, to: number): { status: number; body: Uint8Array } {
  const xhr = new XMLHttpRequest();
  xhr.open("GET", url, false);
  xhr.responseType = "arraybuffer";
  xhr.timeout = 60_000; // a stalled store fails the read (the frame stays module+offset), never hangs
  xhr.setRequestHeader("Range", `bytes=${from}-${to - 1}`);
  xhr.send();
  return { status: xhr.status, body: new Uint8Array(xhr.response as ArrayBuffer) };
}

function read(p: Pdb, offset: number, length: number): Uint8Array {
  if (p.whole) return p.whole.subarray(offset, offset + length);
  const first = Math.floor(offset / blockSize);
  const last = Math.floor((offset + length - 1) / blockSize);
  // Fetch each run of missing blocks with one request.
  for (let b = first; b <= last; b++) {
    if (p.blocks.has(b)) continue;
    let end = b;
    while (end + 1 <= last && !p.blocks.has(end + 1)) end++;
    const from = b * blockSize;
    const to = Math.min((end + 1) * blockSize, p.size);
    const r = xhrRange(p.url as string, from, to);
    p.requests++;
    p.fetched += r.body.byteLength;
    if (r.status === 200 && r.body.byteLength === p.size) {
      p.whole = r.body; // the server ignored Range: the whole file came
      return p.whole.subarray(offset, offset + length);
    }
    if (r.status !== 206 || r.body.byteLength !== to - from) {
      throw new Error(`reading ${p.key} bytes ${from}-${to - 1}: HTTP ${r.status}, ${r.body.byteLength} bytes`);
    }
    for (let i = b; i <= end; i++) {
      p.blocks.set(i, r.body.subarray((i - b) * blockSize, Math.min((i - b + 1) * blockSize, to - from)));
      p.fresh.add(i);
    }
    b = end;
  }
  const out = new Uint8Array(length);
  for (let pos = offset; pos < offset + length;) {
    const b = Math.floor(pos / blockSize);
    const block = p.blocks.get(b) as Uint8Array;
    const inBlock = pos - b * blockSize;
    const n = Math.min(block.byteLength - inBlock, offset + length - pos);
    out.set(block.subarray(inBlock, inBlock + n), pos - offset);
    pos += n;
  }
  return out;
}

const host = {
  image(m: ModuleArg) {
    remember(m);
    return images.get(m.base) ?? null;
  },
  pdbSize(m: ModuleArg) {
    remember(m);
    const p = pdbs.get(m.base);
    if (p === undefined) return null;
    return typeof p === "string" ? p : p.size;
  },
  pdbRead(m: ModuleArg, offset: number, length: number) {
    const p = pdbs.get(m.base);
    if (!p || typeof p === "string") throw new Error("the PDB is not open");
    return read(p, offset, length);
  },
  progress(m: ModuleArg, what: string) {
    remember(m);
    post({ type: "progress", module: m.codeFile, what: what === "pdb" ? "reading symbols" : "reading unwind info" });
  },
};

const blockUrl = (key: string, b: number | "index") => `https://sympath.invalid/pdb-blocks/${blockSize}/${key}/${b}`;

async function loadBlocks(p: Pdb, cacheName: string | null) {
  if (cacheName === null) return;
  try {
    const cache = await caches.open(BLOCK_CACHE);
    const index = await cache.match(blockUrl(p.key, "index"));
    if (!index) return;
    const { size, blocks: list } = (await index.json()) as { size: number; blocks: number[] };
    p.size = size;
    await Promise.all(list.map(async (b) => {
      const r = await cache.match(blockUrl(p.key, b));
      if (r) p.blocks.set(b, new Uint8Array(await r.arrayBuffer()));
    }));
  } catch {
    // No cache (private mode, quota): read from the network.
  }
}

async function saveBlocks(cacheName: string | null) {
  if (cacheName === null) return;
  try {
    const cache = await caches.open(BLOCK_CACHE);
    for (const p of pdbs.values()) {
      if (typeof p === "string" || p.whole || p.fresh.size === 0) continue;
      await Promise.all([...p.fresh].map((b) => cache.put(blockUrl(p.key, b), new Response(p.blocks.get(b) as Uint8Array<ArrayBuffer>))));
      await cache.put(blockUrl(p.key, "index"), new Response(JSON.stringify({ size: p.size, blocks: [...p.blocks.keys()] })));
      p.fresh.clear();
    }
  } catch {
    // Caching is best effort.
  }
}

async function fetchImage(client: SymbolClient, m: ModuleArg) {
  if (!m.codeFile || !m.codeId) return images.set(m.base, "the dump records no code id for this module");
  post({ type: "progress", module: m.codeFile, what: "fetching the image" });
  try {
    const r = await client.fetchSymbol({ kind: "pe", name: m.codeFile, codeId: m.codeId });
    images.set(m.base, new Uint8Array(await (await r.blob()).arrayBuffer()));
  } catch (e) {
    images.set(m.base, `${m.codeFile} (${m.codeId}): ${e instanceof SymbolError ? e.message : String(e)}`);
  }
}

async function openPdb(client: SymbolClient, m: ModuleArg, cacheName: string | null) {
  const name = m.debugFile as string;
  const request = { kind: "pdb", name, debugId: m.debugId as string };
  const key = `${name}/${m.debugId}/${name}`;
  post({ type: "progress", module: m.codeFile, what: "locating symbols" });
  try {
    const found = await client.has(request);
    const hit = found.probes.find((p) => p.outcome === "hit");
    if (found.url && hit?.kind === "http" && hit.variant === "plain") {
      const p: Pdb = { key, size: 0, url: found.url, blocks: new Map(), fresh: new Set(), fetched: 0, requests: 0 };
      await loadBlocks(p, cacheName);
      if (p.size > 0 && p.blocks.has(0)) {
        pdbs.set(m.base, p); // known from an earlier run: no request needed to start
        return;
      }
      // The first block tells the size (Content-Range); a server without Range sends it all.
      const r = await fetch(found.url, { headers: { Range: `bytes=0-${blockSize - 1}` } });
      const body = new Uint8Array(await r.arrayBuffer());
      p.requests++;
      p.fetched += body.byteLength;
      const total = /\/(\d+)\s*$/.exec(r.headers.get("content-range") ?? "")?.[1];
      if (r.status === 206 && total) {
        p.size = Number(total);
        p.blocks.set(0, body);
        p.fresh.add(0);
      } else if (r.ok) {
        p.size = body.byteLength;
        p.whole = body;
      } else {
        throw new Error(`${found.url}: HTTP ${r.status}`);
      }
      pdbs.set(m.base, p);
      return;
    }
    if (!found.found) {
      pdbs.set(m.base, `${key} was not found (${found.probes.length} places tried)`);
      return;
    }
    // In the browser cache already, or compressed, or a file.ptr: the client fetches it whole.
    post({ type: "progress", module: m.codeFile, what: "fetching symbols" });
    const r = await client.fetchSymbol(request);
    const whole = new Uint8Array(await (await r.blob()).arrayBuffer());
    pdbs.set(m.base, { key, size: whole.byteLength, whole, blocks: new Map(), fresh: new Set(), fetched: r.source === "cache" ? 0 : whole.byteLength, requests: r.source === "cache" ? 0 : 1 });
  } catch (e) {
    pdbs.set(m.base, `${key}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function run(start: Start) {
  const t0 = performance.now();
  blockSize = start.blockSize ?? blockSize;
  await init();
  const client = new SymbolClient({ symbolPath: start.symbolPath, mirror: start.mirror, cacheName: start.cacheName });
  await client.ready;
  const dump = new Uint8Array(start.dump);
  const cacheName = start.cacheName === undefined ? "sympath-symbols" : start.cacheName;
  for (let round = 0; round < 16; round++) {
    const out = JSON.parse(symbolicate(dump, host)) as { report: unknown; pending: { images: string[]; pdbs: string[] } };
    const { images: wantImages, pdbs: wantPdbs } = out.pending;
    if (wantImages.length === 0 && wantPdbs.length === 0) {
      await saveBlocks(cacheName);
      const traffic = [...pdbs.values()].filter((p): p is Pdb => typeof p !== "string").map((p) => ({ key: p.key, size: p.size, fetched: p.fetched, requests: p.requests, ranged: !!p.url && !p.whole }));
      return { report: out.report, traffic, rounds: round + 1, ms: performance.now() - t0 };
    }
    post({ type: "partial", report: out.report });
    await Promise.all([
      ...wantImages.map((b) => fetchImage(client, modules.get(b) as ModuleArg)),
      ...wantPdbs.map((b) => openPdb(client, modules.get(b) as ModuleArg, cacheName)),
    ]);
  }
  throw new Error("symbolication did not settle after 16 rounds");
}

onmessage = async (e: MessageEvent<Start>) => {
  try {
    post({ type: "done", ...(await run(e.data)) });
  } catch (err) {
    post({ type: "error", code: (err as { code?: unknown })?.code, message: err instanceof Error ? err.message : String(err) });
  }
};
