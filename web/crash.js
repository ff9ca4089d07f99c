// The crash viewer: reads a dropped minidump's module list (WebAssembly, the
// rust-minidump reader) and fetches each module's PDB through a symbol path
// with the browser symbol client (Cache Storage as the downstream store).
import { SymbolClient, SymbolError } from "./pkg/client.js";
import { $, dropZone, el, errorText } from "./dom.js";

// What tests (and curious people) can look at.
const state = { modules: [], results: {}, client: null, crash: null, crashError: null, progress: [], lastDump: null };
/** @type {any} */ (window).__crash = state;

// By default the page's own origin is the store: served by the sympath mirror, that is the mirror.
const params = new URLSearchParams(location.hash.slice(1));
$("sympath").value = params.get("path") ?? `srv*${location.origin}`;
$("mirror").value = params.get("mirror") ?? "";

function client() {
  const symbolPath = $("sympath").value.trim();
  const mirror = $("mirror").value.trim() || undefined;
  if (!state.client || state.client.symbolPath !== symbolPath || state.client.mirror !== mirror?.replace(/\/+$/, "")) {
    state.client = new SymbolClient({ symbolPath, mirror });
    $("path-status").textContent = "";
    state.client.ready.catch((e) => { $("path-status").textContent = e.message; });
  }
  return state.client;
}

function hexSize(n) {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

async function openDump(file) {
  $("dump-error").hidden = true;
  try {
    const ident = await import("./pkg/ident/sympath_ident_wasm.js");
    await ident.default();
    const info = ident.readMinidump(new Uint8Array(await file.arrayBuffer()));
    state.modules = info.modules;
    state.results = {};
    $("dump-facts").textContent = `${file.name}: ${info.modules.length} modules${info.cpu ? `, ${info.cpu}` : ""}${info.os ? `, ${info.os}` : ""}`;
    render();
  } catch (e) {
    $("dump-error").textContent = `${file.name} is not a readable minidump: ${errorText(e)}`;
    $("dump-error").hidden = false;
    return;
  }
  await symbolize(file);
}

// ---- the crash: stack walk and symbols (a Web Worker, see pkg/crash.js) ----------------------

const PROBES = (m) => {
  const p = new URLSearchParams({ p: $("sympath").value.trim(), kind: "pdb", name: m.debug_file ?? "", debugid: m.debug_id ?? "", image: m.name });
  if ($("mirror").value.trim()) p.set("mirror", $("mirror").value.trim());
  return `./#${p}`;
};

function frameLine(f, modulesByName) {
  const li = el("li", { class: "frame", "data-trust": f.trust });
  const m = f.module ? modulesByName.get(f.module) : null;
  const inl = f.inlines.map((i) => el("div", { class: "inline mono" },
    el("span", { class: "muted" }, "inlined "), `${f.module}!${i.function}`, i.file ? el("small", {}, ` ${i.file}:${i.line ?? "?"}`) : null));
  const name = f.function ? `${f.module}!${f.function}+${f.function_offset}` : f.module ? `${f.module}+${f.module_offset}` : f.address;
  li.append(...inl, el("div", { class: "mono" },
    el("span", { class: "fno" }, `${f.index} `),
    m && m.debug_id ? el("a", { href: PROBES(m), title: `Where ${m.debug_file} is looked for` }, name) : name,
    f.file ? el("small", {}, ` ${f.file}:${f.line}`) : null,
    el("small", { class: "muted" }, ` [${f.trust.replace("_", " ")}]`)));
  return li;
}

function renderCrash(report, done) {
  $("crash-card").hidden = false;
  const modulesByName = new Map(report.modules.map((m) => [m.name, m]));
  const c = report.crash;
  const facts = [["Exception", c ? `${c.reason} (${c.code})` : "none recorded"], ["Address", c?.address ?? "—"], ["Crashing thread", c ? String(c.thread_id) : "—"], ["System", `${report.os}, ${report.cpu}`]];
  $("crash-summary").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: "mono" }, v)]));
  $("threads").replaceChildren(...report.threads.map((t) => {
    const d = el("details", { class: "thread", "data-thread": String(t.id), ...(t.crashed ? { open: "" } : {}) },
      el("summary", {}, `Thread ${t.index} (id ${t.id}${t.name ? `, ${t.name}` : ""})${t.crashed ? " — crashed" : ""}, ${t.frames.length} frame${t.frames.length === 1 ? "" : "s"}`),
      t.note ? el("p", { class: "muted" }, t.note) : null,
      el("ol", { class: "frames" }, ...t.frames.map((f) => frameLine(f, modulesByName))));
    return d;
  }));
  const state_ = (s) => s.state === "loaded" ? "loaded" : s.state === "missing" ? `missing: ${s.reason}`
    : s.state === "partial" ? `loaded in part: ${s.reason}` : "not needed";
  $("crash-modules").replaceChildren(...report.modules.map((m) => el("li", { "data-module": m.name },
    el("strong", { class: "mono" }, m.name), ` symbols ${state_(m.pdb)}; unwind info ${state_(m.image)}`)));
  $("copy-report").disabled = !done;
}

async function symbolize(file) {
  state.crash = null;
  state.crashError = null;
  state.progress = [];
  $("crash-card").hidden = false;
  $("threads").replaceChildren();
  $("crash-traffic").textContent = "";
  const started = performance.now();
  $("crash-progress").textContent = "Walking the stacks…";
  try {
    const { symbolicate } = await import("./pkg/crash.js");
    const mirror = $("mirror").value.trim() || undefined;
    const bytes = await file.arrayBuffer();
    state.lastDump = bytes.slice(0);
    const result = await symbolicate(bytes, {
      symbolPath: $("sympath").value.trim(),
      mirror,
      onProgress: (p) => {
        state.progress.push(p.type === "partial" ? "partial" : `${p.module}: ${p.what}`);
        if (p.type === "partial") renderCrash(p.report, false);
        else $("crash-progress").textContent = `${p.module}: ${p.what}…`;
      },
    });
    state.crash = result;
    renderCrash(result.report, true);
    const ms = Math.round(performance.now() - started);
    $("crash-progress").textContent = `Symbolized in ${ms} ms (${result.rounds} round${result.rounds === 1 ? "" : "s"}).`;
    $("crash-traffic").textContent = result.traffic.map((t) => `${t.key}: ${t.ranged ? `read ${hexSize(t.fetched)} of ${hexSize(t.size)} in ${t.requests} range request${t.requests === 1 ? "" : "s"}` : `${hexSize(t.fetched)} fetched whole`}`).join("; ");
  } catch (e) {
    state.crashError = errorText(e);
    $("crash-progress").textContent = "";
    $("dump-error").textContent = `${file.name}: ${state.crashError}`;
    $("dump-error").hidden = false;
  }
}

$("copy-report").addEventListener("click", async () => {
  if (!state.crash) return;
  try {
    await navigator.clipboard.writeText(state.crash.report.text);
    $("crash-progress").textContent = "Report copied.";
  } catch {
    $("crash-progress").textContent = "Copying failed; the report is in window.__crash.crash.report.text.";
  }
});

function render() {
  const tbody = $("modules").tBodies[0];
  tbody.replaceChildren();
  state.modules.forEach((m, i) => {
    const pdb = m.identities.find((x) => x.kind === "pdb");
    const button = el("button", { type: "button", "data-module": String(i), "aria-label": `Fetch symbols for ${m.name}` }, "Fetch");
    button.disabled = !pdb;
    button.addEventListener("click", () => fetchModule(i));
    tbody.append(el("tr", { "data-module": String(i) },
      el("td", { class: "mono" }, el("strong", {}, m.name), el("small", { class: "muted" }, m.path)),
      el("td", {}, m.version ?? "—"),
      el("td", { class: "mono" }, m.base),
      el("td", {}, hexSize(m.size)),
      el("td", { class: "mono" }, m.debug_file ?? "—"),
      el("td", { class: "mono" }, m.debug_id ?? "—", el("br"), el("small", {}, m.code_id ?? "")),
      el("td", { class: "sym" }, pdb ? button : el("span", { class: "muted" }, "no debug info recorded"), el("div", { class: "out", "aria-live": "polite" })),
    ));
  });
  $("fetch-all").disabled = !state.modules.some((m) => m.identities.some((x) => x.kind === "pdb"));
}

async function fetchModule(i) {
  const m = state.modules[i];
  const pdb = m.identities.find((x) => x.kind === "pdb");
  if (!pdb) return;
  const row = document.querySelector(`tr[data-module="${i}"]`);
  const out = row.querySelector(".out");
  const bar = el("progress", { max: "1", value: "0", "aria-label": `Downloading ${pdb.name}` });
  out.replaceChildren(bar);
  const started = performance.now();
  try {
    const res = await client().fetchSymbol(
      { kind: "pdb", name: pdb.name, guid: pdb.fields.guid, age: pdb.fields.age, imageName: m.name },
      { onProgress: (loaded, total) => { if (total) { bar.max = total; bar.value = loaded; } else bar.removeAttribute("value"); } },
    );
    const blob = await res.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: pdb.name }, `${pdb.name} (${hexSize(res.size)})`);
    const where = res.source === "cache" ? "from the browser cache" : `from ${res.url}`;
    out.replaceChildren(el("span", { class: "found" }, "found "), link, el("small", {}, `${where}${res.expanded ? ", expanded" : ""}, ${Math.round(performance.now() - started)} ms`));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
    state.results[m.name] = { status: "found", source: res.source, url: res.url, size: res.size, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""), probes: res.probes };
  } catch (e) {
    const missing = e instanceof SymbolError && e.code === "not_found";
    out.replaceChildren(el("span", { class: missing ? "missing" : "failed" }, missing ? "not found" : "failed"), el("small", {}, e.message));
    state.results[m.name] = { status: missing ? "missing" : "failed", code: e.code, message: e.message, probes: e.probes };
  }
  await showCache();
}

async function showCache() {
  const list = await client().cached();
  const bytes = list.reduce((n, x) => n + (x.size ?? 0), 0);
  $("cache-status").textContent = `Browser cache: ${list.length} file${list.length === 1 ? "" : "s"}, ${hexSize(bytes)}.`;
}

$("fetch-all").addEventListener("click", async () => {
  $("fetch-all").disabled = true;
  for (let i = 0; i < state.modules.length; i++) if (state.modules[i].identities.some((x) => x.kind === "pdb")) await fetchModule(i);
  $("fetch-all").disabled = false;
});
$("clear-cache").addEventListener("click", async () => { await client().clear(); await showCache(); });
dropZone($("drop"), $("file"), openDump);
for (const id of ["sympath", "mirror"]) $(id).addEventListener("change", () => client());
client();
showCache().finally(() => document.documentElement.setAttribute("data-ready", "true"));
