// The browser symbol client: fetches symbol files through a symbol path, the
// way symsrv does, with the browser's Cache Storage as the downstream store.
//
// The core (WebAssembly) parses and expands the path and makes the ordered
// lookup plan; this module only does the I/O the plan asks for: Cache Storage
// lookups, downloads, verification of what came back (status, type, length,
// magic bytes), expansion of `.pd_` files (in WebAssembly) and `file.ptr`
// pointers. A file is downloaded into a Blob (the browser's blob storage,
// not the JS heap), checked, then stored in Cache Storage: a short, bogus or
// aborted download is never stored. Only a compressed file being expanded is
// held in memory.

import init, { expand, parseFilePtr, plan } from "./sympath_wasm.js";

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
  /** `plain`, `compressed` or `file_ptr`. */
  variant: string;
  /** What happened. */
  outcome: "hit" | "miss" | "error" | "skipped";
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
  sniff(bytes: Uint8Array): string;
  decompressCab(bytes: Uint8Array): Uint8Array;
}

interface PlanProbe {
  source: string;
  check: string;
  variant?: string;
  location: { type: "path"; path: string } | { type: "url"; url: string; authenticated?: boolean };
}

interface Plan {
  key: { name: string; id: string };
  probes: PlanProbe[];
}

/** Cache Storage wants http(s) URLs; keys live under this made-up origin. */
const CACHE_ORIGIN = "https://sympath.cache/";
const DEFAULT_CACHE = "sympath-symbols";
const SNIFF_BYTES = 64;

let ready: Promise<unknown> | null = null;
let identModule: Promise<IdentModule> | null = null;

function loadCore(): Promise<unknown> {
  ready ??= init();
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

  private async plan(request: SymbolRequest): Promise<Plan> {
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
    try {
      return plan(
        { path: this.symbolPath },
        // A browser reaches no plain directory and no current directory; stores are one-tier
        // unless they say otherwise (the sympath mirror is).
        { kind, identity, imageName: request.imageName, mirror: this.mirror, noFallback: true, tiers: "one" } as never,
      ) as unknown as Plan;
    } catch (e) {
      throw new SymbolError("bad_request", String((e as Error).message ?? e));
    }
  }

  /** The ordered places a lookup tries, without fetching anything. */
  async locate(request: SymbolRequest): Promise<ProbeRecord[]> {
    const p = await this.plan(request);
    return this.steps(p).map(({ record }) => ({ ...record }));
  }

  private steps(p: Plan): Array<{ record: ProbeRecord; url?: string }> {
    const key = `${p.key.name}/${p.key.id}/${p.key.name}`;
    const out: Array<{ record: ProbeRecord; url?: string }> = [];
    // Cache Storage plays every cache* and downstream store, and the default
    // downstream store symsrv uses when a chain names none: it is looked at
    // first, and holds plain files only.
    if (this.cacheName !== null) out.push({ record: { location: `cache-storage:${key}`, kind: "cache", variant: "plain", outcome: "skipped" } });
    for (const probe of p.probes) {
      if (probe.check !== "file") continue;
      const variant = probe.variant ?? "plain";
      if (probe.location.type === "url") {
        out.push({ record: { location: probe.location.url, kind: "http", variant, outcome: "skipped" }, url: probe.location.url });
      } else if (probe.source !== "cache" && probe.source !== "store") {
        out.push({
          record: { location: probe.location.path, kind: "unreachable", variant, outcome: "skipped", reason: "a browser cannot read local or UNC paths" },
        });
      } else if (this.cacheName === null) {
        out.push({ record: { location: probe.location.path, kind: "unreachable", variant, outcome: "skipped", reason: "caching is off (cacheName: null)" } });
      }
    }
    return out;
  }

  /**
   * Fetches a file: follows the plan in order, verifies what it gets, expands
   * compressed files, follows `file.ptr` pointers to URLs. Resolves when the
   * file is complete and verified; its copy into Cache Storage finishes in
   * the background (later lookups of the key wait for it).
   */
  async fetchSymbol(request: SymbolRequest, options: FetchSymbolOptions = {}): Promise<SymbolResult> {
    const p = await this.plan(request);
    const key = `${p.key.name}/${p.key.id}/${p.key.name}`;
    const signal = options.signal;
    const probes: ProbeRecord[] = [];
    const aborted = () => new SymbolError("aborted", `fetching ${key} was aborted`, probes);
    let mirrorMissed: string | undefined;
    let failure: SymbolError | undefined;
    for (const { record, url } of this.steps(p)) {
      if (signal?.aborted) throw aborted();
      probes.push(record);
      if (record.kind === "unreachable") continue;
      if (record.kind === "cache") {
        const hit = await this.fromCache(key);
        record.outcome = hit ? "hit" : "miss";
        if (hit) {
          const size = Number(hit.headers.get("content-length") ?? NaN);
          options.onProgress?.(size, size);
          return result(hit, key, record.location, "cache", size, hit.headers.get("x-sympath-expanded") === "cab", probes);
        }
        continue;
      }
      const target = url as string;
      // A sympath mirror tries the compressed file and file.ptr itself.
      if (mirrorMissed && target.startsWith(mirrorMissed)) {
        record.reason = "the mirror already tried this variant";
        continue;
      }
      try {
        const found = await this.probe(target, record, key, options);
        if (found) return { ...found, probes };
      } catch (e) {
        if (signal?.aborted || (e instanceof SymbolError && e.code === "aborted")) throw aborted();
        // A failed store does not end the lookup (symsrv goes on to the next one).
        const err = networkError(e, target, probes);
        record.outcome = "error";
        record.reason = err.message;
        failure ??= err;
        continue;
      }
      // A 404 from a sympath mirror (it says so in X-Sympath-Cache) covers every variant of the key.
      if (record.variant === "plain" && record.outcome === "miss" && record.mirror) mirrorMissed = target.slice(0, target.lastIndexOf("/") + 1);
    }
    if (failure) throw failure;
    throw new SymbolError("not_found", `${key} is in none of the ${probes.length} places tried`, probes);
  }

  /** Whether a file exists: the browser cache, then a HEAD request to each URL in order. */
  async has(request: SymbolRequest, options: { signal?: AbortSignal } = {}): Promise<{ found: boolean; url: string | null; probes: ProbeRecord[] }> {
    const p = await this.plan(request);
    const key = `${p.key.name}/${p.key.id}/${p.key.name}`;
    const probes: ProbeRecord[] = [];
    for (const { record, url } of this.steps(p)) {
      probes.push(record);
      if (record.kind === "unreachable") continue;
      if (record.kind === "cache") {
        record.outcome = (await this.fromCache(key)) ? "hit" : "miss";
      } else {
        try {
          const r = await fetch(url as string, { ...this.fetchOptions, method: "HEAD", signal: options.signal });
          record.status = r.status;
          record.outcome = r.ok ? "hit" : r.status === 404 || r.status === 410 ? "miss" : "error";
        } catch (e) {
          if (options.signal?.aborted) throw new SymbolError("aborted", `checking ${key} was aborted`, probes);
          record.outcome = "error";
          record.reason = networkError(e, url as string, probes).message;
        }
      }
      if (record.outcome === "hit") return { found: true, url: record.location, probes };
    }
    return { found: false, url: null, probes };
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
    const key = typeof request === "string" ? request : await this.plan(request).then((p) => `${p.key.name}/${p.key.id}/${p.key.name}`);
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

  private async probe(url: string, record: ProbeRecord, key: string, options: FetchSymbolOptions): Promise<Omit<SymbolResult, "probes"> | null> {
    // An own controller, so a bad first chunk or a length error can stop the transfer too.
    const ctrl = new AbortController();
    const stop = () => ctrl.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      return await this.probeWith(url, record, key, options, ctrl);
    } finally {
      options.signal?.removeEventListener("abort", stop);
    }
  }

  private async probeWith(
    url: string, record: ProbeRecord, key: string, options: FetchSymbolOptions, ctrl: AbortController,
  ): Promise<Omit<SymbolResult, "probes"> | null> {
    if (record.variant === "plain") return this.downloadPlain(url, record, key, options, ctrl.signal);
    const r = await fetch(url, { ...this.fetchOptions, signal: ctrl.signal });
    record.status = r.status;
    if (r.status === 404 || r.status === 410) {
      record.outcome = "miss";
      if (r.headers.has("x-sympath-cache")) record.mirror = true;
      await r.body?.cancel();
      return null;
    }
    if (!r.ok || !r.body) {
      record.outcome = "error";
      record.reason = `the server answered ${r.status}`;
      await r.body?.cancel();
      return null;
    }
    if ((r.headers.get("content-type") ?? "").toLowerCase().startsWith("text/html") && record.variant !== "file_ptr") {
      record.outcome = "miss";
      record.reason = "an HTML page, not a symbol file (a soft 404)";
      await r.body.cancel();
      return null;
    }
    const total = r.headers.has("content-length") ? Number(r.headers.get("content-length")) : null;
    if (record.variant === "file_ptr") return this.followPointer(r, record, key, options);
    return this.expandCompressed(r, total, url, record, key, options);
  }

  /**
   * Downloads a plain file with XMLHttpRequest into a Blob: Chromium keeps
   * the bytes out of JavaScript (blob storage, on disk when large) and still
   * reports progress, which no JS-visible stream can match for speed. The
   * answer is judged on its headers before the body is taken; the Blob is
   * checked (length, magic bytes) before it is stored.
   */
  private downloadPlain(url: string, record: ProbeRecord, key: string, options: FetchSymbolOptions, signal: AbortSignal): Promise<Omit<SymbolResult, "probes"> | null> {
    type Got = { blob: Blob; total: number | null; expanded: boolean } | null;
    return new Promise<Got>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("GET", url);
      xhr.responseType = "blob";
      xhr.withCredentials = this.fetchOptions.credentials === "include";
      new Headers(this.fetchOptions.headers).forEach((v, k) => xhr.setRequestHeader(k, v));
      const giveUp = (outcome: ProbeRecord["outcome"], reason?: string) => {
        record.outcome = outcome;
        if (reason) record.reason = reason;
        resolve(null);
        xhr.abort();
      };
      xhr.onreadystatechange = () => {
        if (xhr.readyState !== XMLHttpRequest.HEADERS_RECEIVED) return;
        record.status = xhr.status;
        if (xhr.status === 404 || xhr.status === 410) {
          if (xhr.getResponseHeader("x-sympath-cache") !== null) record.mirror = true;
          giveUp("miss");
        } else if (xhr.status < 200 || xhr.status > 299) {
          giveUp("error", `the server answered ${xhr.status}`);
        } else if ((xhr.getResponseHeader("content-type") ?? "").toLowerCase().startsWith("text/html")) {
          giveUp("miss", "an HTML page, not a symbol file (a soft 404)");
        }
      };
      xhr.onprogress = (e) => options.onProgress?.(e.loaded, e.lengthComputable ? e.total : null);
      xhr.onload = () => {
        const length = xhr.getResponseHeader("content-length");
        resolve({ blob: xhr.response as Blob, total: length === null ? null : Number(length), expanded: xhr.getResponseHeader("x-sympath-expanded") === "cab" });
      };
      xhr.onerror = () => reject(new TypeError("network error"));
      xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send();
    }).then(async (got) => {
      if (!got) return null;
      const { blob, total, expanded } = got;
      // (Chromium already fails a transfer shorter than its Content-Length.)
      if (total !== null && blob.size !== total) throw new SymbolError("corrupt", `short body: ${blob.size} of ${total} bytes`);
      const ident = await loadIdent();
      const magic = ident.sniff(new Uint8Array(await blob.slice(0, SNIFF_BYTES).arrayBuffer()));
      if (magic === "html" || magic === "empty" || magic === "cab" || magic === "unknown") {
        record.outcome = "miss";
        record.reason = `not a symbol file (${magic})`;
        return null;
      }
      options.onProgress?.(blob.size, blob.size);
      const stored = this.store(key, blob, url, expanded);
      record.outcome = "hit";
      return result(stored, key, url, "network", blob.size, expanded, []);
    });
  }

  private async followPointer(r: Response, record: ProbeRecord, key: string, options: FetchSymbolOptions): Promise<Omit<SymbolResult, "probes"> | null> {
    const bytes = new Uint8Array(await r.arrayBuffer());
    const ptr = parseFilePtr(bytes) as unknown as { type: string; value?: string; target: string | null };
    if (ptr.type !== "path" || ptr.target !== "url" || !ptr.value) {
      record.outcome = "miss";
      record.reason = ptr.type === "message" ? `file.ptr says: ${ptr.value}` : ptr.type === "path" ? `file.ptr points to ${ptr.value}, which a browser cannot reach` : "file.ptr is empty";
      return null;
    }
    const target: ProbeRecord = { location: ptr.value, kind: "http", variant: /_(\?|#|$)/.test(ptr.value) ? "compressed" : "plain", outcome: "skipped", reason: "pointed to by file.ptr" };
    const found = await this.probe(ptr.value, target, key, options);
    record.outcome = found ? "hit" : "miss";
    record.reason = `file.ptr → ${ptr.value}: ${target.outcome}${target.reason ? ` (${target.reason})` : ""}`;
    return found;
  }

  private async expandCompressed(
    r: Response, total: number | null, url: string, record: ProbeRecord, key: string, options: FetchSymbolOptions,
  ): Promise<Omit<SymbolResult, "probes"> | null> {
    if (total !== null && total > this.maxCompressed) {
      record.outcome = "error";
      record.reason = `compressed file of ${total} bytes is over the ${this.maxCompressed}-byte limit for expanding in the browser`;
      await r.body?.cancel();
      return null;
    }
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      if (loaded > this.maxCompressed) {
        await reader.cancel();
        throw new SymbolError("corrupt", `compressed file over the ${this.maxCompressed}-byte limit`);
      }
      options.onProgress?.(loaded, total);
    }
    if (total !== null && loaded !== total) throw new SymbolError("corrupt", `short body: ${loaded} of ${total} bytes`);
    const cab = concat(chunks, loaded);
    const ident = await loadIdent();
    if (ident.sniff(cab) !== "cab") {
      record.outcome = "miss";
      record.reason = `a compressed file must be a cabinet, got ${ident.sniff(cab)}`;
      return null;
    }
    let plain: Uint8Array;
    try {
      plain = ident.decompressCab(cab);
    } catch (e) {
      throw new SymbolError("corrupt", `${url}: ${(e as Error).message}`);
    }
    const magic = ident.sniff(plain);
    if (magic === "html" || magic === "empty" || magic === "unknown" || magic === "cab") {
      record.outcome = "miss";
      record.reason = `the cabinet does not hold a symbol file (${magic})`;
      return null;
    }
    record.outcome = "hit";
    const stored = this.store(key, new Blob([plain as BlobPart]), url, true);
    return result(stored, key, url, "network", plain.length, true, []);
  }

  /**
   * Answers with the verified file at once and copies it into Cache Storage
   * in the background: the caller can use the file while the browser writes
   * it to disk. Lookups of the same key wait for that write (see `pending`).
   */
  private store(key: string, blob: Blob, url: string, expanded: boolean): Response {
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "content-length": String(blob.size),
      "x-sympath-url": url,
      "x-sympath-stored": new Date().toISOString(),
    };
    if (expanded) headers["x-sympath-expanded"] = "cab";
    if (this.cacheName !== null) {
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

/** Cache Storage writes in progress, by cache name and key (shared by every client of the page). */
const pending = new Map<string, Promise<void>>();

function result(response: Response, key: string, url: string, source: "cache" | "network", size: number, expanded: boolean, probes: ProbeRecord[]): SymbolResult {
  return { response, key, url, source, size, expanded, probes, blob: () => response.clone().blob() };
}

function networkError(e: unknown, url: string, probes: ProbeRecord[]): SymbolError {
  if (e instanceof SymbolError) return new SymbolError(e.code, `${url}: ${e.message}`, probes, url);
  const host = (() => { try { return new URL(url).host; } catch { return url; } })();
  const hint = /(^|\.)microsoft\.com$/i.test(host)
    ? "Microsoft's symbol server sends no CORS headers: set `mirror` to a sympath mirror"
    : "the server is unreachable, or refused CORS (it must send Access-Control-Allow-Origin)";
  return new SymbolError("network", `fetching ${url} failed (${(e as Error)?.message ?? e}): ${hint}`, probes, url);
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
