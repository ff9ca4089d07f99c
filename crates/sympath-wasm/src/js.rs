//! How values and errors cross into JavaScript, shared by the wasm bindings
//! (`sympath-ident-wasm` includes this file too).

use serde::Serialize;
use sympath_wire::Wire;
use wasm_bindgen::prelude::*;

/// Every error crosses as one JS `Error` whose `code` property names what
/// was wrong (`bad-input`, `bad-key`, `corrupt`, …) and whose message says it
/// for a person.
pub fn error(code: &str, message: impl std::fmt::Display) -> JsValue {
    error_dyn(code, &message)
}

/// [`error`]'s body, compiled once rather than once per message type (size).
fn error_dyn(code: &str, message: &dyn std::fmt::Display) -> JsValue {
    let e = js_sys::Error::new(&message.to_string());
    let _ = js_sys::Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
    e.into()
}

// The decoder of sympath_wire::encode. `ops` and `keyOps` are views of the
// wasm memory, read before anything else runs in it.
#[wasm_bindgen(inline_js = r#"
export function decode(ops, strings, keyOps) {
  const keys = [];
  for (let k = 0; k < keyOps.length; k += 2) keys.push(strings.slice(keyOps[k], keyOps[k + 1]));
  let i = 0;
  // The tags of sympath_wire::encode: OBJECT 0, ARRAY 1, NUMBER 2, STRING 3,
  // TRUE 4, FALSE 5, NULL 6; tested in the order of their frequency.
  const value = () => {
    const tag = ops[i++];
    if (tag === 0) {
      const o = {};
      for (let n = ops[i++]; n > 0; n--) {
        const key = keys[ops[i++]];
        o[key] = value();
      }
      return o;
    }
    if (tag === 3) {
      const start = ops[i++];
      return strings.slice(start, ops[i++]);
    }
    if (tag === 2) return ops[i++];
    if (tag === 1) {
      const a = [];
      for (let n = ops[i++]; n > 0; n--) a.push(value());
      return a;
    }
    return tag === 4 ? true : tag === 5 ? false : null;
  };
  return value();
}
"#)]
extern "C" {
    fn decode(ops: &[f64], strings: &str, keys: &[f64]) -> JsValue;
}

/// Results cross into JS serialized by `sympath_wire::encode` and decoded
/// by a loop in JS: the same value `JSON.parse` would make of the result's
/// JSON (absent values are `null`, as the declarations say), about three
/// times faster than `JSON.parse` and several times faster than building
/// the objects field by field through the boundary; this matters for
/// validation on every keystroke.
pub fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    let w = sympath_wire::to_wire(v).map_err(|e| error("internal", e))?;
    Ok(from_wire(&w))
}

/// The value `w` holds, in JS.
pub fn from_wire(w: &Wire) -> JsValue {
    decode(&w.ops, &w.text, &w.keys)
}
