//! The sympath edge mirror (Cloudflare Worker).
//!
//! Its HTTP rules — routes and key validation, CORS, which upstream URLs to
//! try for a request, what counts as a verified hit, cache lifetimes — are
//! plain functions in [`rules`] that unit-test on the host; `handler` (wasm32
//! only) runs them in the Workers runtime.
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod handler;
pub mod rules;
#[cfg(target_arch = "wasm32")]
mod streams;
