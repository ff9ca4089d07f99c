//! The result of `expand`, built for validation on every keystroke: the
//! skeleton of `sympath-wire` decoded, then the long texts and the cache
//! lists set on it (see that crate for why).

use sympath::Expanded;
use wasm_bindgen::prelude::*;

use crate::js::{error, from_wire, to_js};

// One call puts the values into the decoded skeleton (a loop across the
// boundary would cost a call per element).
#[wasm_bindgen(inline_js = r#"
export function fill(out, raw, text, canonical, explicit, caches) {
  out.raw = raw;
  out.text = text;
  out.canonical = canonical;
  out.explicit = explicit;
  if (caches !== null) for (const e of out.elements) if (typeof e.cached_into === "number") e.cached_into = caches.slice(0, e.cached_into);
  return out;
}
"#)]
extern "C" {
    fn fill(out: JsValue, raw: &JsValue, text: &JsValue, canonical: &JsValue, explicit: &JsValue, caches: JsValue) -> JsValue;
}

/// The object `expand` returns for `expanded` and its two forms.
pub fn expand_output(expanded: &Expanded, canonical: &str, explicit: &str) -> Result<JsValue, JsValue> {
    let skeleton = sympath_wire::skeleton(expanded).map_err(|e| error("internal", e))?;
    // The four texts; equal ones cross once, as one JS string.
    let mut made: Vec<(&str, JsValue)> = Vec::with_capacity(4);
    let mut text = |s| -> JsValue {
        if let Some((_, v)) = made.iter().find(|(t, _)| sympath_wire::same_text(t, s)) {
            return v.clone();
        }
        let v = JsValue::from_str(s);
        made.push((s, v.clone()));
        v
    };
    let (raw, txt, can, exp) = (text(&expanded.raw), text(&expanded.text), text(canonical), text(explicit));
    let caches = if skeleton.caches.is_empty() { JsValue::NULL } else { to_js(&skeleton.caches)? };
    Ok(fill(from_wire(&skeleton.wire), &raw, &txt, &can, &exp, caches))
}
