// The browser symbol client: fetches symbol files through a symbol path, the
// way symsrv does, with the browser's Cache Storage as the downstream store.
//
// The core's lookup engine (WebAssembly, `Lookup`) decides everything: which
// URL to fetch next, whether an answer is the file (status, type, length,
// magic bytes), whether a cabinet holds the right file, where a `file.ptr`
// leads and whether a file may be stored. This module only does the I/O it
// asks for — Cache Storage (the downstream store), downloads, reading first
// bytes, expanding cabinets (in WebAssembly) — and reports what came back.
// A file is downloaded into a Blob (the browser's blob storage, not the JS
// heap) and stored in Cache Storage only once the engine says it is whole.
// Only a compressed file being expanded is held in memory.

import init, { expand, Lookup, mirrorHeaders } from "./sympath_wasm.js";
import type { Decision, Head, Fetch, ProbeRecord as CoreProbe, Step, Take, Policy } from "./sympath_wasm.js";

/** A file to fetch: its name and identity. */
export interface SymbolRequest {
  /** File kind; by default `pdb` for `*.pdb`, else `pe`. Also `elf_debug`, `elf_code`, `macho_dsym`, `macho_code`, `portable_pdb`, … */
  kind?: string;
  /** File name as recorded (`ntdll.pdb`, `ntdll.dll`); a path is reduced to its basename. */
  name: string;
  /** PDB: GUID (registry format or 32 hex digits) and age. */
  guid?: string;
  age?: number | string;
  /** PDB: a Breakpad debug id instead of GUID + age. */
  debugId?: string;
  /** PE: TimeDateStamp and SizeOfImage (numbers, or decimal/0x-hex text). */
  timestamp?: number | string;
  sizeOfImage?: number | string;
  /** PE: a code id instead of timestamp + size; ELF/Mach-O: the build id / UUID. */
  codeId?: string;
  /** ELF build id (hex). */
  buildId?: string;
  /** Mach-O UUID. */
  uuid?: string;
  /** The image the symbols belong to. */
  imageName?: string;
}

export interface SymbolClientOptions {
  /** The symbol path (`_NT_SYMBOL_PATH` syntax), parsed and expanded by the core. */
  symbolPath: string;
  /** Rewrite every HTTP store through this mirror base URL (Microsoft's server sends no CORS headers). */
  mirror?: string;
  /** Name of the Cache Storage cache playing the downstream store; `null`: no caching. Default `sympath-symbols`. */
  cacheName?: string | null;
  /** Extra `fetch` options (credentials, headers, mode…) for every request. */
  fetchOptions?: RequestInit;
  /** Largest compressed file expanded in the browser (bytes); default 256 MiB. */
  maxCompressedBytes?: number;
}

export interface FetchSymbolOptions {
  /** Called as bytes arrive: bytes so far and the total when the server said it. */
  onProgress?: (loaded: number, total: number | null) => void;
  /** Aborts the lookup and any download; the promise rejects with a `SymbolError` of code `aborted`. */
  signal?: AbortSignal;
}

/** One step of a lookup, in plan order. */
export interface ProbeRecord {
  /** Where: a URL, or `cache-storage:<key>` for the browser cache. */
  location: string;
  /** `cache` (Cache Storage), `http`, or `unreachable` (a local or UNC path a browser cannot read). */
  kind: "cache" | "http" | "unreachable";
  /** `plain`, `compressed` or `file_ptr`; `index2` for a two-tier probe; `pointed` for a `file.ptr` target. */
  variant: string;
  /** What happened: `followed` for a redirect or a `file.ptr` that sent the lookup elsewhere. */
  outcome: "hit" | "miss" | "error" | "skipped" | "followed";
  /** HTTP status, when there was one. */
  status?: number;
  /** Why, for a person. */
  reason?: string;
  /** The answer came from a sympath mirror (which tries every variant itself). */
  mirror?: boolean;
}

/** A file found. */
export interface SymbolResult {
  /** The file: backed by a Blob after a download, by Cache Storage on a cache hit; its body streams. */
  response: Response;
  /** The store key (`name/id/name`). */
  key: string;
  /** Where it came from: a URL, or `cache-storage:<key>`. */
  url: string;
  /** `cache` (no network) or `network`. */
  source: "cache" | "network";
  /** Size in bytes. */
  size: number;
  /** Whether it was a compressed file expanded in the browser or by the mirror. */
  expanded: boolean;
  /** Every probe made, in order. */
  probes: ProbeRecord[];
  /** The body as a Blob. */
  blob(): Promise<Blob>;
}

export type SymbolErrorCode = "not_found" | "network" | "aborted" | "bad_request" | "bad_path" | "corrupt";

/** Why a lookup failed, with the probes made. */
export class SymbolError extends Error {
  readonly code: SymbolErrorCode;
  readonly probes: ProbeRecord[];
  readonly url?: string;
  constructor(code: SymbolErrorCode, message: string, probes: ProbeRecord[] = [], url?: string) {
    super(message);
    this.name = "SymbolError";
    this.code = code;
    this.probes = probes;
    this.url = url;
  }
}

/** An entry of the browser cache. */
export interface CachedSymbol {
  key: string;
  size: number | null;
  /** The URL it was downloaded from. */
  url: string | null;
  /** When it was stored (ISO 8601). */
  stored: string | null;
}

interface IdentModule {
  expandCab(bytes: Uint8Array, limit: number): { name: string; bytes: Uint8Array };
}

/** Cache Storage wants http(s) URLs; keys live under this made-up origin. */
const CACHE_ORIGIN = "https://sympath.cache/";
const DEFAULT_CACHE = "sympath-symbols";

let ready: Promise<unknown> | null = null;
/** The mirror's header names, from the core (`sympath::headers`), once it is loaded. */
let names: ReturnType<typeof mirrorHeaders>;
let identModule: Promise<IdentModule> | null = null;

function loadCore(): Promise<unknown> {
  ready ??= init().then(() => { names = mirrorHeaders(); });
  return ready;
}

function loadIdent(): Promise<IdentModule> {
  identModule ??= import("./ident/sympath_ident_wasm.js").then(async (m) => {
    await m.default();
    return m as unknown as IdentModule;
  });
  return identModule;
}

function text(v: number | string | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

function hex(v: number | string | undefined): string | undefined {
  return typeof v === "number" ? `0x${v.toString(16)}` : v;
}

/** The answer's status and the headers the engine judges. */
function head(status: number, get: (name: string) => string | null): Head {
  const length = get("content-length");
  return {
    status,
    content_type: get("content-type") ?? undefined,
    content_length: length === null || !/^\d+$/.test(length.trim()) ? undefined : Number(length),
    content_encoding: get("content-encoding") ?? undefined,
    location: get("location") ?? undefined,
    retry_after: get("retry-after") ?? undefined,
    mirror: get(names.cache) ?? undefined,
  };
}

/** The engine's record of a probe, as this API shows it. */
function shown(r: CoreProbe): ProbeRecord {
  const http = /^https?:\/\//i.test(r.location);
  const outcome = r.outcome === "failed" ? "error" : r.outcome === "pending" ? "skipped" : r.outcome;
  const variant = r.variant ?? (r.purpose === "index2" ? "index2" : "pointed");
  const out: ProbeRecord = { location: r.location, kind: http ? "http" : "unreachable", variant, outcome };
  if (r.status !== undefined) out.status = r.status;
  if (r.reason !== undefined) out.reason = r.reason;
  if (r.mirror) out.mirror = true;
  return out;
}

/** Fetches symbol files through a symbol path. */
export class SymbolClient {
  readonly symbolPath: string;
  readonly mirror: string | undefined;
  readonly cacheName: string | null;
  private readonly fetchOptions: RequestInit;
  private readonly maxCompressed: number;
  /** Resolves when the core is loaded and the symbol path is valid; rejects with `bad_path` otherwise. */
  readonly ready: Promise<void>;

  constructor(options: SymbolClientOptions) {
    this.symbolPath = options.symbolPath;
    this.mirror = options.mirror?.replace(/\/+$/, "") || undefined;
    this.cacheName = options.cacheName === undefined ? DEFAULT_CACHE : options.cacheName;
    this.fetchOptions = options.fetchOptions ?? {};
    this.maxCompressed = options.maxCompressedBytes ?? 256 * 1024 * 1024;
    this.ready = loadCore().then(() => {
      const exp = expand({ path: this.symbolPath }) as unknown as { diagnostics: Array<{ severity: string; code: string; message: string }> };
      const errors = exp.diagnostics.filter((d) => d.severity === "error");
      if (errors.length) {
        throw new SymbolError("bad_path", `the symbol path has errors: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
      }
    });
    // A rejected `ready` is reported by the method that awaits it.
    this.ready.catch(() => {});
  }

  /** The core's lookup of `request`: a browser's policy, GET or HEAD. */
  private async lookup(request: SymbolRequest, method: "GET" | "HEAD"): Promise<Lookup> {
    await this.ready;
    const kind = request.kind ?? (/\.pdb$/i.test(request.name) ? "pdb" : "pe");
    const identity = {
      name: request.name,
      guid: request.guid,
      age: text(request.age),
      debug_id: request.debugId,
      timestamp: hex(request.timestamp),
      size_of_image: hex(request.sizeOfImage),
      code_id: request.codeId,
      build_id: request.buildId,
      uuid: request.uuid,
    };
    const policy: Partial<Policy> = {
      method,
      // Cache Storage plays every cache* and downstream store; without it they are out of reach.
      paths: this.cacheName === null ? "unreachable" : "own_cache",
      max_compressed_bytes: this.maxCompressed,
    };
    try {
      // A browser reaches no plain directory and no current directory; stores are one-tier
      // unless they say otherwise (the sympath mirror is).
      return new Lookup({ path: this.symbolPath }, { kind, identity, imageName: request.imageName, mirror: this.mirror, noFallback: true, tiers: "one" } as never, policy);
    } catch (e) {
      throw new SymbolError("bad_request", String((e as Error).message ?? e));
    }
  }

  /** The browser cache's place in the story of a lookup. */
  private cacheRecord(key: string): ProbeRecord[] {
    return this.cacheName === null ? [] : [{ location: `cache-storage:${key}`, kind: "cache", variant: "plain", outcome: "skipped" }];
  }

  /** The ordered places a lookup tries, without fetching anything. */
  async locate(request: SymbolRequest): Promise<ProbeRecord[]> {
    const lk = await this.lookup(request, "GET");
    try {
      return [...this.cacheRecord(lk.key), ...(lk.places() as CoreProbe[]).map(shown)];
    } finally {
      lk.free();
    }
  }

  /**
   * Fetches a file: runs the core's lookup, verifying what it gets, expanding
   * compressed files, following `file.ptr` pointers to URLs. Resolves when the
   * file is complete and verified; its copy into Cache Storage finishes in
   * the background (later lookups of the key wait for it).
   */
  async fetchSymbol(request: SymbolRequest, options: FetchSymbolOptions = {}): Promise<SymbolResult> {
    const lk = await this.lookup(request, "GET");
    const key = lk.key;
    const signal = options.signal;
    const [cached] = this.cacheRecord(key);
    const probes = (): ProbeRecord[] => [...(cached ? [cached] : []), ...(lk.probes() as CoreProbe[]).map(shown)];
    const aborted = () => new SymbolError("aborted", `fetching ${key} was aborted`, probes());
    try {
      if (cached) {
        const hit = await this.fromCache(key);
        cached.outcome = hit ? "hit" : "miss";
        if (hit) {
          const size = Number(hit.headers.get("content-length") ?? NaN);
          options.onProgress?.(size, size);
          return result(hit, key, cached.location, "cache", size, hit.headers.get(names.expanded) === names.expandedCab, probes());
        }
      }
      for (;;) {
        if (signal?.aborted) throw aborted();
        const step = lk.next() as Step;
        if (step.step === "done") {
          if (step.result === "failed") {
            const failed = probes().find((r) => r.outcome === "error");
            throw networkError(failed?.reason ?? step.reason, failed?.location ?? key, probes());
          }
          throw new SymbolError("not_found", `${key} is in none of the ${probes().length} places tried`, probes());
        }
        const got = await this.run(lk, step as Fetch, key, options).catch((e) => {
          if (signal?.aborted || (e as Error)?.name === "AbortError") throw aborted();
          throw e;
        });
        if (got) return { ...got, probes: probes() };
      }
    } finally {
      lk.free();
    }
  }

  /** Whether a file exists: the browser cache, then HEAD requests (a `file.ptr` is read and its target asked). */
  async has(request: SymbolRequest, options: { signal?: AbortSignal } = {}): Promise<{ found: boolean; url: string | null; probes: ProbeRecord[] }> {
    const lk = await this.lookup(request, "HEAD");
    const [cached] = this.cacheRecord(lk.key);
    const probes = (): ProbeRecord[] => [...(cached ? [cached] : []), ...(lk.probes() as CoreProbe[]).map(shown)];
    try {
      if (cached) {
        cached.outcome = (await this.fromCache(lk.key)) ? "hit" : "miss";
        if (cached.outcome === "hit") return { found: true, url: cached.location, probes: probes() };
      }
      for (;;) {
        const step = lk.next() as Step;
        if (step.step === "done") return { found: false, url: null, probes: probes() };
        const f = step as Fetch;
        const got = await this.run(lk, f, lk.key, { signal: options.signal }).catch((e) => {
          if (options.signal?.aborted) throw new SymbolError("aborted", `checking ${lk.key} was aborted`, probes());
          throw e;
        });
        if (got) return { found: true, url: got.url, probes: probes() };
      }
    } finally {
      lk.free();
    }
  }

  /** The files in the browser cache. */
  async cached(): Promise<CachedSymbol[]> {
    if (this.cacheName === null) return [];
    await this.settled();
    const cache = await caches.open(this.cacheName);
    const out: CachedSymbol[] = [];
    for (const req of await cache.keys()) {
      const r = await cache.match(req);
      if (!r) continue;
      out.push({
        key: decodeURI(req.url.slice(CACHE_ORIGIN.length)),
        size: r.headers.has("content-length") ? Number(r.headers.get("content-length")) : null,
        url: r.headers.get("x-sympath-url"),
        stored: r.headers.get("x-sympath-stored"),
      });
      await r.body?.cancel();
    }
    return out;
  }

  /** Removes one file (by request or key) from the browser cache; true if it was there. */
  async evict(request: SymbolRequest | string): Promise<boolean> {
    if (this.cacheName === null) return false;
    let key: string;
    if (typeof request === "string") {
      key = request;
    } else {
      const lk = await this.lookup(request, "GET");
      key = lk.key;
      lk.free();
    }
    await this.settled(key);
    return (await caches.open(this.cacheName)).delete(CACHE_ORIGIN + encodeURI(key));
  }

  /** Empties the browser cache. */
  async clear(): Promise<void> {
    await this.settled();
    if (this.cacheName !== null) await caches.delete(this.cacheName);
  }

  private async fromCache(key: string): Promise<Response | undefined> {
    if (this.cacheName === null) return undefined;
    await this.settled(key);
    return (await caches.open(this.cacheName)).match(CACHE_ORIGIN + encodeURI(key));
  }

  /** The request headers of a fetch: the caller's, plus the store's credentials (R28). */
  private headersFor(f: Fetch): Headers {
    const h = new Headers(this.fetchOptions.headers);
    if (f.authorization) h.set("authorization", f.authorization);
    return h;
  }

  /**
   * Makes one fetch the engine asked for and reports what came back, until
   * the engine takes the file (the result) or says to go on (`null`).
   */
  private async run(lk: Lookup, f: Fetch, key: string, options: FetchSymbolOptions): Promise<Omit<SymbolResult, "probes"> | null> {
    if (f.expect === "file" && f.method === "GET") return this.download(lk, f, key, options);
    // An own controller, so that a decision to drop the answer stops the transfer.
    const ctrl = new AbortController();
    const stop = () => ctrl.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      let r: Response;
      try {
        r = await fetch(f.url, { ...this.fetchOptions, method: f.method, headers: this.headersFor(f), signal: ctrl.signal });
      } catch (e) {
        if (options.signal?.aborted) throw e;
        lk.problem(f.id, { kind: "network", message: String((e as Error)?.message ?? e) });
        return null;
      }
      const body = new Reader(r, options.onProgress);
      let d = lk.headers(f.id, head(r.status, (n) => r.headers.get(n))) as Decision;
      for (;;) {
        switch (d.do) {
          case "next":
            return null;
          case "sniff":
            d = lk.firstBytes(f.id, await body.first(d.bytes)) as Decision;
            break;
          case "read_all": {
            const all = await body.all(d.max);
            d = (all === null ? lk.problem(f.id, { kind: "too_large", message: d.max }) : lk.body(f.id, all)) as Decision;
            break;
          }
          case "expand": {
            const cab = await body.all(d.max_compressed);
            if (cab === null) {
              d = lk.problem(f.id, { kind: "too_large", message: d.max_compressed }) as Decision;
              break;
            }
            try {
              const { name, bytes } = (await loadIdent()).expandCab(cab, d.max_expanded);
              body.expandedBytes = bytes;
              d = lk.expanded(f.id, name, bytes.length, bytes.subarray(0, 4096 /* the engine's SNIFF_BYTES */)) as Decision;
            } catch (e) {
              d = lk.problem(f.id, { kind: "corrupt", message: String((e as Error)?.message ?? e) }) as Decision;
            }
            break;
          }
          case "take":
            return this.taken(lk, d as Take & { do: "take" }, body, key, r);
        }
      }
    } finally {
      options.signal?.removeEventListener("abort", stop);
      ctrl.abort();
    }
  }

  /** A file the engine took from a `fetch` answer: HEAD's answer, or a cabinet expanded. */
  private async taken(lk: Lookup, t: Take, body: Reader, key: string, r: Response): Promise<Omit<SymbolResult, "probes"> | null> {
    const bytes = body.expandedBytes;
    if (!bytes) {
      // HEAD: the file is there; nothing to store.
      return result(new Response(null, { headers: { "content-length": String(t.length ?? "") } }), key, t.url, "network", t.length ?? NaN, t.expanded, []);
    }
    try {
      lk.complete(t.id, bytes.length);
    } catch {
      return null;
    }
    const expanded = t.expanded || r.headers.get(names.expanded) === names.expandedCab;
    const blob = new Blob([bytes as BlobPart]);
    return result(this.store(key, blob, t, expanded), key, t.url, "network", blob.size, expanded, []);
  }

  /**
   * Downloads a file with XMLHttpRequest into a Blob: Chromium keeps the
   * bytes out of JavaScript (blob storage, on disk when large) and still
   * reports progress, which no JS-visible stream can match for speed. The
   * engine judges the answer's headers before the body is taken, its first
   * bytes once it is, and its length.
   */
  private download(lk: Lookup, f: Fetch, key: string, options: FetchSymbolOptions): Promise<Omit<SymbolResult, "probes"> | null> {
    type Got = { blob: Blob; expanded: boolean } | null;
    return new Promise<Got>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("GET", f.url);
      xhr.responseType = "blob";
      xhr.withCredentials = this.fetchOptions.credentials === "include";
      this.headersFor(f).forEach((v, k) => xhr.setRequestHeader(k, v));
      let dropped = false;
      xhr.onreadystatechange = () => {
        if (xhr.readyState !== XMLHttpRequest.HEADERS_RECEIVED) return;
        const d = lk.headers(f.id, head(xhr.status, (n) => xhr.getResponseHeader(n))) as Decision;
        if (d.do !== "sniff") {
          dropped = true;
          resolve(null);
          xhr.abort();
        }
      };
      xhr.onprogress = (e) => options.onProgress?.(e.loaded, e.lengthComputable ? e.total : null);
      xhr.onload = () => resolve({ blob: xhr.response as Blob, expanded: xhr.getResponseHeader(names.expanded) === names.expandedCab });
      xhr.onerror = () => {
        lk.problem(f.id, { kind: "network", message: "the request failed (network error, CORS, or a broken transfer)" });
        resolve(null);
      };
      xhr.onabort = () => { if (!dropped) reject(new DOMException("aborted", "AbortError")); };
      options.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send();
    }).then(async (got) => {
      if (!got) return null;
      const { blob, expanded } = got;
      const d = lk.firstBytes(f.id, new Uint8Array(await blob.slice(0, 64).arrayBuffer())) as Decision;
      if (d.do !== "take") return null;
      try {
        lk.complete(f.id, blob.size);
      } catch {
        return null;
      }
      options.onProgress?.(blob.size, blob.size);
      return result(this.store(key, blob, d, expanded), key, d.url, "network", blob.size, expanded || d.expanded, []);
    });
  }

  /**
   * Answers with the verified file at once and copies it into Cache Storage
   * in the background when the engine says it may be stored: the caller can
   * use the file while the browser writes it to disk. Lookups of the same key
   * wait for that write (see `pending`).
   */
  private store(key: string, blob: Blob, t: Take, expanded: boolean): Response {
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "content-length": String(blob.size),
      "x-sympath-url": t.url,
      "x-sympath-stored": new Date().toISOString(),
    };
    if (expanded) headers[names.expanded.toLowerCase()] = names.expandedCab;
    if (this.cacheName !== null && t.store.store === "yes") {
      const id = `${this.cacheName}\n${key}`;
      const put = caches.open(this.cacheName)
        .then((cache) => cache.put(CACHE_ORIGIN + encodeURI(key), new Response(blob, { headers })))
        .catch((e) => console.warn(`sympath: ${key} was not stored in the browser cache: ${e}`))
        .finally(() => { if (pending.get(id) === put) pending.delete(id); });
      pending.set(id, put);
    }
    return new Response(blob, { headers });
  }

  /** Waits for the background writes into this client's cache (all, or one key's). */
  private async settled(key?: string): Promise<void> {
    if (this.cacheName === null) return;
    const prefix = `${this.cacheName}\n`;
    await Promise.all([...pending].filter(([id]) => (key === undefined ? id.startsWith(prefix) : id === prefix + key)).map(([, p]) => p));
  }
}

/** Reads a fetch answer's body as the engine asks: first bytes, then (bounded) all of it. */
class Reader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | null;
  private readonly chunks: Uint8Array[] = [];
  private loaded = 0;
  private done = false;
  private readonly total: number | null;
  /** The file a cabinet held, once expanded. */
  expandedBytes: Uint8Array | null = null;

  constructor(r: Response, private readonly onProgress?: (loaded: number, total: number | null) => void) {
    this.reader = r.body ? r.body.getReader() : null;
    const length = r.headers.get("content-length");
    this.total = length === null ? null : Number(length);
  }

  private async more(): Promise<boolean> {
    if (this.done || !this.reader) return false;
    const { done, value } = await this.reader.read();
    if (done) {
      this.done = true;
      return false;
    }
    this.chunks.push(value);
    this.loaded += value.length;
    this.onProgress?.(this.loaded, this.total);
    return true;
  }

  /** The first `n` bytes (fewer if the body is shorter). */
  async first(n: number): Promise<Uint8Array> {
    while (this.loaded < n && (await this.more()));
    return concat(this.chunks, this.loaded).subarray(0, n);
  }

  /** The whole body, or `null` when it is over `max` bytes (the transfer is then stopped). */
  async all(max: number): Promise<Uint8Array | null> {
    while (await this.more()) {
      if (this.loaded > max) {
        await this.reader?.cancel();
        return null;
      }
    }
    return concat(this.chunks, this.loaded);
  }
}

/** Cache Storage writes in progress, by cache name and key (shared by every client of the page). */
const pending = new Map<string, Promise<void>>();

function result(response: Response, key: string, url: string, source: "cache" | "network", size: number, expanded: boolean, probes: ProbeRecord[]): SymbolResult {
  return { response, key, url, source, size, expanded, probes, blob: () => response.clone().blob() };
}

/**
 * A failed lookup, for a person: which URL, what went wrong, and — when the
 * browser got no answer at all — the likely cause.
 */
function networkError(reason: string, url: string, probes: ProbeRecord[]): SymbolError {
  const host = (() => { try { return new URL(url).host; } catch { return url; } })();
  const hint = !reason.startsWith("no answer") ? ""
    : /(^|\.)microsoft\.com$/i.test(host)
      ? ": Microsoft's symbol server sends no CORS headers: set `mirror` to a sympath mirror"
      : ": the server is unreachable, or refused CORS (it must send Access-Control-Allow-Origin)";
  return new SymbolError("network", `fetching ${url} failed (${reason})${hint}`, probes, url);
}

function concat(chunks: Uint8Array[], len: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(len);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
