//! How the wasm bindings' results cross into JavaScript.
//!
//! [`encode`] serializes any `Serialize` value for a few lines of JavaScript
//! (`decode` in crates/sympath-wasm/src/js.rs) that make the same value
//! `JSON.parse` would make of `serde_json`'s text, about three times faster
//! than `JSON.parse` itself. With the `skeleton` feature, [`skeleton`] is the
//! result of sympath-wasm's `expand` (validation on every keystroke) without
//! its long texts and repeated lists, which the binding sets afterwards.
//!
//! A crate of its own so that this code, the keystroke's hot path, is
//! compiled for speed while the rest of the wasm build is compiled for size
//! (`[profile.wasm.package.sympath-wire]` in the workspace manifest): the
//! skeleton's serialization is instantiated here.

pub mod encode;
#[cfg(feature = "skeleton")]
mod skeleton;

pub use encode::{to_wire, Wire};
#[cfg(feature = "skeleton")]
pub use skeleton::{skeleton, Skeletons};

/// `a == b`, eight bytes at a time: the wasm build's `memcmp` goes a byte at
/// a time, and the binding compares the path's four texts (each as long as
/// the path) to send equal ones once.
pub fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let (x, y) = (a.chunks_exact(8), b.chunks_exact(8));
    let (xr, yr) = (x.remainder(), y.remainder());
    x.zip(y).all(|(p, q)| word(p) == word(q)) && xr == yr
}

fn word(b: &[u8]) -> u64 {
    b.try_into().map(u64::from_ne_bytes).unwrap_or_default()
}
