// Kept for pages that still import it: the helpers live in dom.js.
export { dropZone } from "./dom.js";
