//! Helpers shared by the integration tests.
#![allow(dead_code)]

use serde_json::Value;

/// Removes every `span` key, recursively: spans are extra fields, welcome in
/// output but not part of the vectors' element model.
pub fn strip_spans(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("span");
            m.values_mut().for_each(strip_spans);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_spans),
        _ => {}
    }
}

/// The elements of a parsed path as JSON without spans.
pub fn model(elements: &[sympath::Element]) -> Value {
    let mut v = serde_json::to_value(elements).expect("elements serialize");
    strip_spans(&mut v);
    v
}
