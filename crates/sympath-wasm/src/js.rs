//! How values and errors cross into JavaScript, shared by the wasm bindings
//! (`sympath-ident-wasm` includes this file too).

use serde::Serialize;
use wasm_bindgen::JsValue;

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

/// Results cross into JS as one JSON string that V8's `JSON.parse` turns into
/// objects: several times faster than building them field by field through
/// the boundary, which matters for validation on every keystroke. Absent
/// values are `null`, as the declarations say.
pub fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    let json = serde_json::to_string(v).map_err(|e| error("internal", e))?;
    js_sys::JSON::parse(&json).map_err(|_| error("internal", "JSON.parse failed"))
}
