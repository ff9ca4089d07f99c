#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The encoder and the binding's decoder (written again in `common`) give
//! what `JSON.parse` makes of `serde_json`'s text: for every shape of serde's
//! data model, and for arbitrary JSON values.

mod common;

use common::{decode, json_parse};
use proptest::prelude::*;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Serialize)]
struct Unit;

#[derive(Serialize)]
struct Newtype(u16);

#[derive(Serialize)]
struct Pair(i32, &'static str);

#[derive(Serialize)]
enum External {
    Unit,
    Newtype(u8),
    Tuple(u8, bool),
    Struct { a: i64, b: Option<char> },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Internal {
    One { x: u32 },
    Two(Inner),
}

#[derive(Serialize)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    A(String),
    B { y: f64 },
}

#[derive(Serialize)]
#[serde(untagged)]
enum Untagged {
    N(u64),
    S(&'static str),
}

#[derive(Serialize)]
struct Inner {
    #[serde(skip_serializing_if = "Option::is_none")]
    maybe: Option<u8>,
    list: Vec<Vec<u8>>,
}

struct Bytes(&'static [u8]);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

#[derive(Serialize)]
struct Everything {
    t: bool,
    f: bool,
    i8: i8,
    i16: i16,
    i32: i32,
    i64: i64,
    i128: i128,
    u8: u8,
    u16: u16,
    u32: u32,
    u64: u64,
    u128: u128,
    f32: f32,
    f64: f64,
    nan: f64,
    inf: f32,
    c: char,
    ascii: String,
    wide: String,
    empty: String,
    bytes: Bytes,
    none: Option<u8>,
    some: Option<&'static str>,
    unit: (),
    unit_struct: Unit,
    newtype: Newtype,
    tuple: (u8, &'static str, ()),
    tuple_struct: Pair,
    external: Vec<External>,
    internal: Vec<Internal>,
    adjacent: Vec<Adjacent>,
    untagged: Vec<Untagged>,
    #[serde(flatten)]
    flat: Inner,
    int_keys: BTreeMap<i32, &'static str>,
    char_keys: BTreeMap<char, u8>,
    enum_keys: BTreeMap<&'static str, External>,
    empty_map: HashMap<String, u8>,
    empty_list: Vec<u8>,
}

#[test]
fn every_shape_of_serdes_data_model_as_json_parse_reads_it() {
    let v = Everything {
        t: true,
        f: false,
        i8: -8,
        i16: -16_000,
        i32: i32::MIN,
        i64: -(1 << 53),
        i128: 1 << 60,
        u8: 255,
        u16: 65_535,
        u32: u32::MAX,
        u64: u64::MAX,
        u128: 12_345,
        f32: 0.1,
        f64: -2.5e-300,
        nan: f64::NAN,
        inf: f32::INFINITY,
        c: '\u{1F600}',
        ascii: r"C:\sym\x".into(),
        wide: "été \u{1F600} \u{FFFF} \"q\" \n".into(),
        empty: String::new(),
        bytes: Bytes(&[0, 1, 255]),
        none: None,
        some: Some("s"),
        unit: (),
        unit_struct: Unit,
        newtype: Newtype(7),
        tuple: (1, "two", ()),
        tuple_struct: Pair(-3, "p"),
        external: vec![External::Unit, External::Newtype(9), External::Tuple(1, false), External::Struct { a: 5, b: Some('z') }],
        internal: vec![Internal::One { x: 1 }, Internal::Two(Inner { maybe: Some(2), list: vec![vec![], vec![3]] })],
        adjacent: vec![Adjacent::A("a".into()), Adjacent::B { y: 1.0 }],
        untagged: vec![Untagged::N(4), Untagged::S("u")],
        flat: Inner { maybe: None, list: vec![vec![5, 6]] },
        int_keys: [(-1, "minus"), (10, "ten")].into_iter().collect(),
        char_keys: [('k', 1)].into_iter().collect(),
        enum_keys: [("e", External::Unit)].into_iter().collect(),
        empty_map: HashMap::new(),
        empty_list: vec![],
    };
    let wire = sympath_wire::to_wire(&v).unwrap();
    assert_eq!(decode(&wire), json_parse(&v));
    // Each key once, however often it is used.
    let utf16: Vec<u16> = wire.text.encode_utf16().collect();
    let keys: Vec<String> = wire.keys.chunks(2).map(|k| String::from_utf16(&utf16[k[0] as usize..k[1] as usize]).unwrap()).collect();
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(keys.len(), unique.len(), "{keys:?}");
}

#[test]
fn keys_that_are_not_strings_are_refused_as_serde_json_refuses_them() {
    let m: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
    assert!(serde_json::to_string(&m).is_err());
    let e = sympath_wire::to_wire(&m).unwrap_err();
    assert!(e.to_string().contains("map key"), "{e}");
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            // Keys made at run time (the encoder's key cache cannot go by address).
            prop::collection::vec(("[a-c\u{e9}]{0,3}", inner), 0..8).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_json_values_round_trip(v in arbitrary_json()) {
        let wire = sympath_wire::to_wire(&v).unwrap();
        prop_assert_eq!(decode(&wire), json_parse(&v));
    }
}

#[test]
fn same_text_is_string_equality() {
    let base = "srv*C:\\sym*https://msdl.microsoft.com/download/symbols;été";
    for len in 0..base.len() {
        let Some(a) = base.get(..len) else { continue };
        let copy = String::from(a);
        assert!(sympath_wire::same_text(a, copy.as_str()));
        assert!(!sympath_wire::same_text(a, base), "{len}");
        // One byte changed at every position.
        for i in 0..a.len() {
            let mut b = a.as_bytes().to_vec();
            b[i] ^= 1;
            if let Ok(b) = std::str::from_utf8(&b) {
                assert!(!sympath_wire::same_text(a, b), "{a:?} {b:?}");
            }
        }
    }
}
