// The sympath page: a thin UI over the WebAssembly core (./pkg).
// All symbol-path logic lives in Rust; this file reads inputs, calls the core,
// and renders results. State lives in the URL fragment so links can be shared.
import init, * as sp from "./pkg/sympath_wasm.js";
import { $, dropZone, el, errorText } from "./dom.js";

// Inputs whose values are the page state (and the URL fragment's keys).
const FIELDS = {
  path: "p", alt: "alt", commands: "cmd", consumer: "consumer", dialect: "dialect", dds: "dds", server: "server",
  kind: "kind", name: "name", guid: "guid", age: "age", "debug-id": "debugid", signature: "sig", timestamp: "ts",
  size: "size", "code-id": "codeid", "build-id": "buildid", uuid: "uuid", image: "image", mirror: "mirror", tiers: "tiers",
  "dir-order": "order",
};

const state = { last: null, segment: null, diags: [], timings: [] };
/** @type {any} */ (window).__sympath = state; // for tests and curious users

function expandInput() {
  const commands = $("commands").value.split("\n").map((s) => s.trim()).filter(Boolean);
  const input = { path: $("path").value, commands, consumer: $("consumer").value, dialect: $("dialect").value };
  if ($("alt").value.trim()) input.alt = $("alt").value;
  if ($("dds").value.trim()) input.downstreamStore = $("dds").value.trim();
  if ($("server").value.trim()) input.symbolServer = $("server").value.trim();
  return input;
}

/** The segment of the expanded text that is the textarea's content, if any. */
function pathSegment(out, input) {
  const origin = input.alt || input.consumer === "dbghelp" ? "nt_env" : "given";
  const seg = out.segments.find((s) => s.origin === origin);
  return seg ?? null;
}

function toUtf16(text, byteOffsets) {
  return Array.from(sp.utf16Offsets(text, Uint32Array.from(byteOffsets)));
}

// ---- validation on every keystroke -------------------------------------------------------

function update() {
  const input = expandInput();
  let out;
  const t0 = performance.now();
  try {
    out = sp.expand(input);
  } catch (e) {
    showSummary(errorText(e), "error");
    return;
  }
  state.timings.push(performance.now() - t0);
  if (state.timings.length > 1000) state.timings.shift();
  state.last = out;
  const seg = pathSegment(out, input);
  state.segment = seg;
  // Diagnostic spans (UTF-8 bytes of out.text) → UTF-16 offsets into the textarea.
  const offs = [];
  for (const d of out.diagnostics) offs.push(d.span[0], d.span[1]);
  const u16 = toUtf16(out.text, offs);
  const segStart = seg ? toUtf16(out.text, [seg.span[0]])[0] : 0;
  const segEnd = seg ? toUtf16(out.text, [seg.span[1]])[0] : -1;
  state.diags = out.diagnostics.map((d, i) => {
    const start = u16[2 * i], end = u16[2 * i + 1];
    const inPath = seg && start >= segStart && end <= segEnd;
    return { ...d, start: inPath ? start - segStart : null, end: inPath ? end - segStart : null };
  });
  renderBackdrop();
  renderDiagnostics(out);
  renderExpansion(out, input);
  renderLookup();
  saveStateSoon();
}

function showSummary(text, cls) {
  const s = $("summary");
  s.textContent = text;
  s.className = `summary ${cls}`;
}

function renderBackdrop() {
  const text = $("path").value;
  const marks = state.diags.map((d, i) => ({ ...d, i })).filter((d) => d.start !== null)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const bd = $("backdrop");
  bd.replaceChildren();
  let at = 0;
  for (const m of marks) {
    if (m.start < at) continue; // overlapping: the list still shows it
    bd.append(text.slice(at, m.start));
    const end = Math.max(m.end, m.start + 1); // zero-width spans get one visible cell
    bd.append(el("mark", { class: m.severity, "data-diag": m.i }, text.slice(m.start, end) || " "));
    at = Math.min(end, text.length);
  }
  bd.append(text.slice(at) + "\n");
  bd.scrollTop = $("path").scrollTop;
}

function counts(diags) {
  const c = { error: 0, warning: 0, info: 0 };
  for (const d of diags) c[d.severity]++;
  return c;
}

function renderDiagnostics(out) {
  const c = counts(out.diagnostics);
  if (!out.elements.length && !out.diagnostics.length) showSummary("Empty path: the debugger only looks in the current directory.", "ok");
  else if (!out.diagnostics.length) showSummary("No problems found.", "ok");
  else showSummary(`${c.error} error(s), ${c.warning} warning(s), ${c.info} note(s)`, c.error ? "error" : "warning");
  const list = $("diagnostics");
  list.replaceChildren();
  if (!state.diags.length) list.append(el("li", { class: "empty" }, "Nothing to report."));
  state.diags.forEach((d, i) => {
    const actions = el("div", { class: "diag-actions" });
    if (d.start !== null) {
      actions.append(el("button", { type: "button", onclick: () => selectDiag(i) }, "Show"));
    }
    if (d.fix && mappableFix(d.fix)) {
      actions.append(el("button", { type: "button", class: "fix", "data-code": d.code, onclick: () => applyFix(d.fix) }, d.fix.title));
    }
    list.append(el("li", { class: d.severity, "data-diag": i, id: `diag-${i}` },
      el("div", { class: "diag-head" },
        el("span", { class: `sev ${d.severity}` }, d.severity),
        el("span", { class: "code", title: "diagnostic code" }, d.code),
        d.start !== null ? el("span", { class: "code" }, `at ${d.start + 1}`) : el("span", { class: "code" }, "in the environment/commands")),
      el("p", { class: "diag-text" }, d.message),
      d.help ? el("p", { class: "diag-help" }, d.help) : null,
      actions));
  });
  $("fix-all").disabled = !state.diags.some((d) => d.fix && mappableFix(d.fix));
}

/** Fix edits are spans of out.text; they apply to the textarea only if they all fall inside it. */
function mappableFix(fix) {
  const seg = state.segment;
  if (!seg) return false;
  return fix.edits.every((e) => e.span[0] >= seg.span[0] && e.span[1] <= seg.span[1]);
}

function applyFix(fix) {
  const out = state.last, seg = state.segment;
  $("path").value = sp.applyFix(out.text, fix, seg.span[0], seg.span[1]);
  update();
  $("path").focus();
}

function selectDiag(i) {
  const d = state.diags[i];
  const ta = $("path");
  ta.focus();
  ta.setSelectionRange(d.start, Math.max(d.end, d.start));
  cursorDiag();
}

// ---- hover and keyboard access to the underlines ------------------------------------------

function diagAtOffset(offset) {
  // The caret is "in" a span from its start through its end (an empty span: at its position).
  return state.diags.findIndex((d) => d.start !== null && offset >= d.start && offset <= d.end);
}

function cursorDiag() {
  const ta = $("path");
  const i = diagAtOffset(ta.selectionStart);
  document.querySelectorAll("#backdrop mark.active, .diagnostics li.active").forEach((m) => m.classList.remove("active"));
  const line = $("cursor-diag");
  if (i < 0) {
    line.textContent = "";
    return;
  }
  const d = state.diags[i];
  line.textContent = `At the cursor: ${d.severity} ${d.code}: ${d.message}`;
  document.querySelector(`#backdrop mark[data-diag="${i}"]`)?.classList.add("active");
  $(`diag-${i}`)?.classList.add("active");
}

function hover(ev) {
  const tip = $("tooltip");
  const mark = /** @type {HTMLElement[]} */ (document.elementsFromPoint(ev.clientX, ev.clientY)).find((e) => e.tagName === "MARK" && e.dataset.diag);
  if (!mark) {
    tip.hidden = true;
    return;
  }
  const d = state.diags[Number(mark.dataset.diag)];
  tip.textContent = `${d.code}: ${d.message}`;
  tip.style.left = `${Math.min(ev.clientX + 12, window.innerWidth - 300)}px`;
  tip.style.top = `${ev.clientY + 18}px`;
  tip.hidden = false;
}

// ---- expansion -----------------------------------------------------------------------------

function storeText(out, s) {
  if (s.implicit === "default_symbol_server") return [out.defaults.symbol_server, "default server"];
  if (s.kind === "default_downstream") return [out.defaults.downstream_store, "default downstream store"];
  return [s.url ?? s.path, null];
}

function renderExpansion(out, input) {
  $("canonical").textContent = out.canonical;
  $("explicit").textContent = out.explicit;
  let ex = null;
  try {
    ex = sp.explain(input);
  } catch {
    ex = null;
  }
  $("explain-summary").textContent = ex ? ex.summary : "";
  const list = $("elements");
  list.replaceChildren();
  out.elements.forEach((e, i) => {
    const item = ex?.items[i];
    const head = el("div", { class: "el-head" }, el("span", { class: `badge ${e.type}` }, e.type), el("code", {}, item?.text ?? ""));
    const li = el("li", { "data-type": e.type }, head);
    if (e.type === "chain") {
      const stores = el("ul", { class: "stores", "aria-label": "stores, checked left to right" });
      const all = [];
      if (e.implicit_downstream) all.push([out.defaults.downstream_store, "implicit downstream", "downstream"]);
      for (const s of e.stores) {
        const [t, note] = storeText(out, s);
        all.push([t, note, s.role]);
      }
      all.forEach(([t, note, role], k) => {
        if (k) stores.append(el("li", { class: "arrow", "aria-hidden": "true" }, "→"));
        stores.append(el("li", {}, t, el("span", { class: "role" }, note ? `${role}, ${note}` : role)));
      });
      li.append(stores);
    }
    if (item) li.append(el("ul", { class: "el-lines" }, item.lines.map((l) => el("li", {}, l))));
    list.append(li);
  });
}

// ---- where will it look? -------------------------------------------------------------------

function lookupRequest() {
  const v = (id) => $(id).value.trim() || undefined;
  const kind = $("kind").value;
  const identity = {
    name: v("name") ?? "", guid: v("guid"), age: v("age"), debug_id: v("debug-id"), signature: v("signature"),
    timestamp: v("timestamp"), size_of_image: v("size"), code_id: v("code-id"), build_id: v("build-id"), uuid: v("uuid"),
  };
  if (identity.debug_id) delete identity.guid;
  return { kind, identity, imageName: v("image"), mirror: v("mirror"), tiers: $("tiers").value, dirOrder: $("dir-order").value };
}

function showKindFields() {
  const kind = $("kind").value;
  document.querySelectorAll("#lookup label[data-for]").forEach((/** @type {HTMLElement} */ l) => {
    l.hidden = !l.dataset.for.split(" ").includes(kind);
  });
}

function renderLookup() {
  showKindFields();
  const tbody = $("probes").tBodies[0];
  const err = $("lookup-error");
  const req = lookupRequest();
  tbody.replaceChildren();
  $("keys").replaceChildren();
  if (!req.identity.name) {
    err.hidden = true;
    tbody.append(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "Enter a file (or drop one) to see every place the debugger probes, in order.")));
    return;
  }
  let plan, keys;
  try {
    keys = sp.storeKey(req.kind, req.identity);
    plan = sp.plan(expandInput(), req);
  } catch (e) {
    err.textContent = errorText(e);
    err.hidden = false;
    return;
  }
  err.hidden = true;
  const dl = el("dl", {},
    el("dt", {}, "Key"), el("dd", { id: "key-one-tier" }, keys.one_tier),
    el("dt", {}, "Two-tier"), el("dd", {}, keys.two_tier),
    keys.compressed ? [el("dt", {}, "Compressed"), el("dd", {}, keys.compressed)] : null,
    keys.ssqp ? [el("dt", {}, "SSQP"), el("dd", {}, keys.ssqp)] : null,
    keys.debug_id ? [el("dt", {}, "Debug id"), el("dd", {}, keys.debug_id)] : null,
    keys.code_id ? [el("dt", {}, "Code id"), el("dd", {}, keys.code_id)] : null);
  $("keys").append(dl);
  plan.probes.forEach((p, i) => {
    const where = (/** @type {import("./pkg/sympath_wasm.js").Location} */ l) => (l.type === "url" ? l.url : l.path);
    const loc = where(p.location);
    const what = p.check === "index2" ? "index2.txt (two-tier?)" : p.source === "dir" ? "file (flat)" : p.source === "fallback" ? "file (last resort)" : p.variant.replace("file_ptr", "file.ptr");
    const locCell = el("td", { class: "loc" },
      p.location.type === "url" ? el("a", { href: loc, rel: "noreferrer noopener", target: "_blank" }, loc) : loc,
      p.two_tier ? el("small", {}, `two-tier: ${where(p.two_tier)}`) : null);
    const copies = (p.on_hit ?? []).map((c) => `${c.only_if_compressed ? "if compressed: " : ""}copy into ${c.store} (${c.form === "expanded" ? "expanded" : "as found"})`).join("; ");
    tbody.append(el("tr", { class: p.check === "index2" ? "tier" : "" },
      el("td", {}, String(i + 1)),
      el("td", {}, p.element === null || p.element === undefined ? "fallback" : String(p.element + 1)),
      el("td", {}, what), locCell, el("td", { class: "copies" }, copies)));
  });
  for (const s of plan.skipped) tbody.append(el("tr", {}, el("td", {}, "–"), el("td", {}, String(s.element + 1)), el("td", { colspan: 3, class: "empty" }, `skipped: ${s.reason}`)));
}

// ---- dropping a file -----------------------------------------------------------------------

let identModule = null;
async function loadIdent() {
  if (!identModule) {
    const m = await import("./pkg/ident/sympath_ident_wasm.js");
    await m.default();
    identModule = m;
  }
  return identModule;
}

async function readFile(file) {
  const box = $("identity");
  box.textContent = `Reading ${file.name}…`;
  try {
    const [m, bytes] = await Promise.all([loadIdent(), file.arrayBuffer()]);
    const info = m.readIdentity(new Uint8Array(bytes), file.name);
    showIdentity(info, file.name);
  } catch (e) {
    box.replaceChildren(el("p", { class: "error", role: "alert" }, `${file.name}: ${errorText(e)}`));
  }
}

function showIdentity(info, fileName) {
  const rows = [["File", fileName], ["Format", info.format]];
  for (const [k, v] of Object.entries(info.details ?? {})) if (v !== null && v !== undefined && v !== "") rows.push([k, String(v)]);
  for (const id of info.identities) rows.push([`${id.kind} key`, id.key]);
  for (const n of info.notes ?? []) rows.push(["Note", n]);
  $("identity").replaceChildren(el("dl", {}, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
  // Prefer the PDB (what a debugger looks for), else the file's own identity.
  const pick = info.identities.find((i) => i.kind === "pdb") ?? info.identities[0];
  if (!pick) return;
  const f = pick.fields;
  $("kind").value = pick.kind;
  for (const id of ["guid", "age", "debug-id", "signature", "timestamp", "size", "code-id", "build-id", "uuid"]) $(id).value = "";
  $("name").value = f.name ?? "";
  if (f.guid) $("guid").value = f.guid;
  if (f.age !== undefined) $("age").value = String(f.age);
  if (f.signature) $("signature").value = f.signature;
  if (f.timestamp) $("timestamp").value = f.timestamp;
  if (f.size_of_image) $("size").value = f.size_of_image;
  if (f.build_id) $("build-id").value = f.build_id;
  if (f.uuid) $("uuid").value = f.uuid;
  $("image").value = info.image_name ?? "";
  update();
}

// ---- state in the URL ----------------------------------------------------------------------

// The URL fragment follows the inputs once typing pauses: history.replaceState
// with a long path costs milliseconds in Chromium (which also throttles floods
// of it), far more than the validation itself.
let saveTimer = 0;
function saveStateSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveState, 250);
}

function saveState() {
  const params = new URLSearchParams();
  for (const [id, key] of Object.entries(FIELDS)) {
    const v = $(id).value;
    const def = $(id).tagName === "SELECT" ? $(id).options[0].value : "";
    if (v && v !== def) params.set(key, v);
  }
  const hash = params.toString();
  if (location.hash.slice(1) !== hash) history.replaceState(null, "", hash ? `#${hash}` : location.pathname + location.search);
}

function loadState() {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [id, key] of Object.entries(FIELDS)) if (params.has(key)) $(id).value = params.get(key);
  if (params.has("alt") || params.has("cmd") || params.has("dds") || params.has("server") || (params.get("consumer") ?? "debugger") !== "debugger" || (params.get("dialect") ?? "dbgeng") !== "dbgeng") {
    $("env").open = true;
  }
}

// ---- wiring --------------------------------------------------------------------------------

await init();
loadState();
// Text fields update on input; selects on change. (A textarea's "change" fires on blur,
// and re-rendering then would swallow the click that caused the blur.)
for (const id of Object.keys(FIELDS)) {
  $(id).addEventListener($(id).tagName === "SELECT" ? "change" : "input", update);
}
$("path").addEventListener("scroll", () => { $("backdrop").scrollTop = $("path").scrollTop; });
$("path").addEventListener("keyup", cursorDiag);
$("path").addEventListener("click", cursorDiag);
$("path").addEventListener("select", cursorDiag);
$("path").addEventListener("mousemove", hover);
$("path").addEventListener("mouseleave", () => { $("tooltip").hidden = true; });
$("preset").addEventListener("change", () => {
  if ($("preset").value) $("path").value = $("preset").value;
  $("preset").value = "";
  update();
});
$("fix-all").addEventListener("click", () => {
  $("path").value = sp.fixAll($("path").value, { dialect: $("dialect").value });
  update();
});
for (const b of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("button[data-copy]"))) {
  b.addEventListener("click", async () => {
    const text = $(b.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = "Copied";
    } catch {
      const r = document.createRange();
      r.selectNodeContents($(b.dataset.copy));
      getSelection().removeAllRanges();
      getSelection().addRange(r);
      b.textContent = "Selected";
    }
    setTimeout(() => { b.textContent = "Copy"; }, 1500);
  });
}
dropZone($("drop"), $("file"), readFile);
update();
document.documentElement.dataset.ready = "true";
