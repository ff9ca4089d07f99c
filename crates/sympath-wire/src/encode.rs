//! A serde serializer whose output a few lines of JavaScript turn into the
//! same value `JSON.parse` would make of `serde_json`'s output, about three
//! times faster (BENCHMARKS.md): V8's `JSON.parse` spends its time reading
//! text and creating ~600 objects and arrays for a 4 KB path; a loop reading
//! numbers from a `Float64Array` creates the same objects without reading
//! text.
//!
//! The output, [`Wire`], is three parts:
//! - `ops`: the value in prefix order, one tag per value, then its operands:
//!   [`OBJECT`] `n` then `n` pairs (key index, value); [`ARRAY`] `n` then
//!   `n` values; [`NUMBER`] `x`; [`STRING`] `start end` (UTF-16 offsets into
//!   `text`); [`TRUE`], [`FALSE`], [`NULL`].
//! - `text`: every string and key, one after another.
//! - `keys`: each distinct key as a pair of UTF-16 offsets into `text`, in
//!   the order of first use (an object's keys are indexes into this list, so
//!   the decoder makes each key's string once).
//!
//! Values map as `serde_json` maps them: structs and maps are objects (map
//! keys that are strings, chars or integers, as `serde_json` accepts);
//! sequences, tuples and bytes are arrays; `None`, `()` and unit structs are
//! `null`; non-finite floats are `null`; unit variants are strings, other
//! variants `{variant: value}`; newtypes are their value.

use serde::ser::{self, Impossible, Serialize};
use std::fmt;

/// An object: its number of entries follows, then each entry's key index and value.
pub const OBJECT: f64 = 0.0;
/// An array: its length follows, then each value.
pub const ARRAY: f64 = 1.0;
/// A number: its value follows.
pub const NUMBER: f64 = 2.0;
/// A string: its UTF-16 start and end in `text` follow.
pub const STRING: f64 = 3.0;
/// `true`.
pub const TRUE: f64 = 4.0;
/// `false`.
pub const FALSE: f64 = 5.0;
/// `null`.
pub const NULL: f64 = 6.0;

/// A value serialized for the JavaScript decoder (see the module doc).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wire {
    /// The value's tags and operands.
    pub ops: Vec<f64>,
    /// The strings and keys.
    pub text: String,
    /// Each key's UTF-16 start and end in `text`.
    pub keys: Vec<f64>,
}

/// Why a value could not be serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Serializes `value` (see the module doc).
pub fn to_wire<T: Serialize + ?Sized>(value: &T) -> Result<Wire, Error> {
    let mut w = Writer::new();
    value.serialize(&mut w)?;
    Ok(Wire { ops: w.ops, text: w.text, keys: w.keys })
}

/// Slots of the key cache: the keys of one result are a few dozen.
const CACHE: usize = 64;

#[derive(Default)]
struct Writer {
    ops: Vec<f64>,
    text: String,
    /// `text`'s length in UTF-16 units.
    utf16: usize,
    keys: Vec<f64>,
    /// Each key's byte range in `text`.
    key_bytes: Vec<(usize, usize)>,
    /// [`CACHE`] slots of keys by their address and length (struct field
    /// names are the same `&'static str` every time), checked against the
    /// text: key index + 1 (0: empty).
    cache: Vec<(usize, usize, u32)>,
}

impl Writer {
    #[inline(never)] // one copy, not one per serialized type (size)
    fn new() -> Writer {
        Writer { cache: vec![(0, 0, 0); CACHE], ..Writer::default() }
    }

    /// Appends `s` to `text`; its UTF-16 start and end.
    fn push_text(&mut self, s: &str) -> (usize, usize) {
        let start = self.utf16;
        self.text.push_str(s);
        self.utf16 += if s.is_ascii() { s.len() } else { s.encode_utf16().count() };
        (start, self.utf16)
    }

    #[inline(never)]
    fn string(&mut self, s: &str) {
        let (a, b) = self.push_text(s);
        self.ops.extend_from_slice(&[STRING, a as f64, b as f64]);
    }

    fn key_text(&self, i: usize) -> &str {
        let (a, b) = self.key_bytes.get(i).copied().unwrap_or_default();
        self.text.get(a..b).unwrap_or_default()
    }

    /// The index of key `k`, added to the key list when new.
    #[inline(never)] // one copy, not one per field of every type (size)
    fn key(&mut self, k: &str) -> f64 {
        let (addr, len) = (k.as_ptr() as usize, k.len());
        let slot = (addr >> 2 ^ len) % CACHE;
        let (a, l, id) = self.cache.get(slot).copied().unwrap_or_default();
        if id > 0 && a == addr && l == len && self.key_text(id as usize - 1) == k {
            return f64::from(id - 1);
        }
        let id = match (0..self.key_bytes.len()).find(|&i| self.key_text(i) == k) {
            Some(i) => i,
            None => {
                let byte_start = self.text.len();
                let (a, b) = self.push_text(k);
                self.key_bytes.push((byte_start, self.text.len()));
                self.keys.extend_from_slice(&[a as f64, b as f64]);
                self.key_bytes.len() - 1
            }
        };
        let id32 = u32::try_from(id).unwrap_or(u32::MAX - 1);
        if let Some(e) = self.cache.get_mut(slot) {
            *e = (addr, len, id32 + 1);
        }
        f64::from(id32)
    }

    /// Starts an object or array: its tag and a count filled in by [`Compound::end`].
    #[inline(never)]
    fn open(&mut self, tag: f64) -> Compound<'_> {
        self.ops.push(tag);
        self.ops.push(0.0);
        let slot = self.ops.len() - 1;
        Compound { w: self, slot, n: 0 }
    }

    /// `{variant: …}` around the value written next.
    fn variant(&mut self, variant: &'static str) {
        let k = self.key(variant);
        self.ops.extend_from_slice(&[OBJECT, 1.0, k]);
    }

    #[inline(never)]
    fn number(&mut self, x: f64) {
        if x.is_finite() {
            self.ops.extend_from_slice(&[NUMBER, x]);
        } else {
            self.ops.push(NULL);
        }
    }
}

/// An object or array being written.
pub struct Compound<'a> {
    w: &'a mut Writer,
    slot: usize,
    n: usize,
}

impl Compound<'_> {
    fn value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.n += 1;
        v.serialize(&mut *self.w)
    }

    fn entry<T: Serialize + ?Sized>(&mut self, k: &str, v: &T) -> Result<(), Error> {
        let k = self.w.key(k);
        self.w.ops.push(k);
        self.value(v)
    }

    fn end(self) -> Result<(), Error> {
        if let Some(slot) = self.w.ops.get_mut(self.slot) {
            *slot = self.n as f64;
        }
        Ok(())
    }
}

/// Numbers as `JSON.parse` reads them: doubles (a large integer loses its
/// low bits there too).
macro_rules! numbers {
    ($($method:ident: $t:ty),*) => {$(
        #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
        fn $method(self, v: $t) -> Result<(), Error> {
            self.serialize_f64(v as f64)
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.ops.push(if v { TRUE } else { FALSE });
        Ok(())
    }
    numbers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128);
    numbers!(serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // serde_json writes an f32 with its own shortest digits, which
        // JSON.parse reads back as this double (not `f64::from(v)`).
        self.number(v.to_string().parse().unwrap_or(f64::NAN));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.number(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.ops.extend_from_slice(&[ARRAY, v.len() as f64]);
        for b in v {
            self.number(f64::from(*b));
        }
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.ops.push(NULL);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.ops.push(NULL);
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.string(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant(variant);
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.open(ARRAY))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.open(ARRAY))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.open(ARRAY))
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        self.variant(variant);
        Ok(self.open(ARRAY))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.open(OBJECT))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.open(OBJECT))
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        self.variant(variant);
        Ok(self.open(OBJECT))
    }
}

/// The compound serializers: items of an array are values, items of an
/// object are fields.
macro_rules! compound {
    ($($trait:ident::$method:ident($($arg:ident: $ty:ty),*) => $item:ident;)*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, $($arg: $ty,)* v: &T) -> Result<(), Error> {
                self.$item($($arg,)* v)
            }
            fn end(self) -> Result<(), Error> {
                Compound::end(self)
            }
        }
    )*};
}

compound! {
    SerializeSeq::serialize_element() => value;
    SerializeTuple::serialize_element() => value;
    SerializeTupleStruct::serialize_field() => value;
    SerializeTupleVariant::serialize_field() => value;
    SerializeStruct::serialize_field(key: &'static str) => entry;
    SerializeStructVariant::serialize_field(key: &'static str) => entry;
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let k = key.serialize(KeyName(&mut *self.w))?;
        self.w.ops.push(k);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.value(v)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

/// Map keys as `serde_json` takes them (strings, chars and integers, as
/// their digits), interned in the writer's key list: the key's index.
struct KeyName<'a>(&'a mut Writer);

fn not_a_key<T>() -> Result<T, Error> {
    Err(Error("a map key must be a string, a char or an integer".into()))
}

/// Integer keys, as their digits.
macro_rules! digits {
    ($($method:ident: $t:ty),*) => {$(
        fn $method(self, v: $t) -> Result<f64, Error> {
            Ok(self.0.key(&v.to_string()))
        }
    )*};
}

/// Keys `serde_json` refuses.
macro_rules! refused {
    ($($method:ident: $t:ty),*) => {$(
        fn $method(self, _: $t) -> Result<f64, Error> {
            not_a_key()
        }
    )*};
}

impl ser::Serializer for KeyName<'_> {
    type Ok = f64;
    type Error = Error;
    type SerializeSeq = Impossible<f64, Error>;
    type SerializeTuple = Impossible<f64, Error>;
    type SerializeTupleStruct = Impossible<f64, Error>;
    type SerializeTupleVariant = Impossible<f64, Error>;
    type SerializeMap = Impossible<f64, Error>;
    type SerializeStruct = Impossible<f64, Error>;
    type SerializeStructVariant = Impossible<f64, Error>;

    fn serialize_str(self, v: &str) -> Result<f64, Error> {
        Ok(self.0.key(v))
    }
    fn serialize_char(self, v: char) -> Result<f64, Error> {
        Ok(self.0.key(&v.to_string()))
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<f64, Error> {
        Ok(self.0.key(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<f64, Error> {
        value.serialize(self)
    }
    digits!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128);
    digits!(serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);
    refused!(serialize_bool: bool, serialize_f32: f32, serialize_f64: f64, serialize_bytes: &[u8]);
    fn serialize_none(self) -> Result<f64, Error> {
        not_a_key()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<f64, Error> {
        not_a_key()
    }
    fn serialize_unit(self) -> Result<f64, Error> {
        not_a_key()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<f64, Error> {
        not_a_key()
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<f64, Error> {
        not_a_key()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        not_a_key()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        not_a_key()
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        not_a_key()
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Error> {
        not_a_key()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        not_a_key()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        not_a_key()
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Error> {
        not_a_key()
    }
}
