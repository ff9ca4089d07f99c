#![allow(dead_code)] // each test file uses a part
//! The bindings' decoder (`decode` in crates/sympath-wasm/src/js.rs),
//! written again on `serde_json` values so that the tests can compare what
//! it makes with `serde_json`'s own output.

use serde_json::{Map, Number, Value};
use sympath_wire::encode::{ARRAY, FALSE, NULL, NUMBER, OBJECT, STRING, TRUE};
use sympath_wire::Wire;

/// `text` between two UTF-16 offsets, as JavaScript's `slice`.
fn slice(utf16: &[u16], a: f64, b: f64) -> String {
    String::from_utf16(&utf16[a as usize..b as usize]).expect("whole characters")
}

pub fn decode(w: &Wire) -> Value {
    let utf16: Vec<u16> = w.text.encode_utf16().collect();
    let keys: Vec<String> = w.keys.chunks(2).map(|k| slice(&utf16, k[0], k[1])).collect();
    let mut i = 0;
    let v = value(&w.ops, &mut i, &utf16, &keys);
    assert_eq!(i, w.ops.len(), "every op read");
    v
}

fn value(ops: &[f64], i: &mut usize, utf16: &[u16], keys: &[String]) -> Value {
    let next = |i: &mut usize| {
        *i += 1;
        ops[*i - 1]
    };
    let tag = next(i);
    if tag == OBJECT {
        let n = next(i) as usize;
        let mut m = Map::new();
        for _ in 0..n {
            let k = keys[next(i) as usize].clone();
            m.insert(k, value(ops, i, utf16, keys));
        }
        Value::Object(m)
    } else if tag == ARRAY {
        let n = next(i) as usize;
        Value::Array((0..n).map(|_| value(ops, i, utf16, keys)).collect())
    } else if tag == NUMBER {
        Value::Number(Number::from_f64(next(i)).expect("finite"))
    } else if tag == STRING {
        let (a, b) = (next(i), next(i));
        Value::String(slice(utf16, a, b))
    } else if tag == TRUE {
        Value::Bool(true)
    } else if tag == FALSE {
        Value::Bool(false)
    } else {
        assert_eq!(tag, NULL, "a tag");
        Value::Null
    }
}

/// `v` with every number a double, as JavaScript has them.
pub fn js(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::Number(Number::from_f64(n.as_f64().expect("a number")).expect("finite")),
        Value::Array(a) => Value::Array(a.into_iter().map(js).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, js(v))).collect()),
        v => v,
    }
}

/// What `JSON.parse` makes of `serde_json`'s text for `v` (read with
/// `float_roundtrip`, exact as `JSON.parse` is).
pub fn json_parse<T: serde::Serialize + ?Sized>(v: &T) -> Value {
    js(serde_json::from_str(&serde_json::to_string(v).expect("serializable")).expect("JSON"))
}
