// DOM helpers shared by both pages: element lookup and creation, error
// text, and the drop zone.

/**
 * The element with this id. Typed loosely (`any`): pages know which element
 * kind each id is; calls into the core stay checked against its declarations.
 * @type {(id: string) => any}
 */
export const $ = (id) => document.getElementById(id);

/**
 * An element with attributes (`class`, `on<event>` handlers, others as
 * attributes; `true` is an empty attribute, null/undefined/false none) and children.
 */
export const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
};

/** An error for a person: the core's errors carry a `code` property. */
export function errorText(e) {
  if (e && typeof e === "object" && "message" in e) return e.code ? `${e.code}: ${e.message}` : String(e.message);
  return String(e);
}

// A drop zone that also opens its file chooser from the keyboard (Enter/Space):
// `onFile` gets the first file dropped or chosen.
export function dropZone(zone, input, onFile) {
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const f = e.dataTransfer?.files?.[0];
    if (f) onFile(f);
  });
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  input.addEventListener("change", () => { const f = input.files?.[0]; if (f) onFile(f); });
}
