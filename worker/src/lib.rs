//! The sympath edge mirror (Cloudflare Worker).
//!
//! What a lookup fetches and what an upstream's answer means are the core's
//! lookup engine's ([`sympath::lookup`], the same for the browser client).
//! The mirror's own rules — routes and key validation, CORS, cache lifetimes
//! ([`rules`]), the configuration and the engine's policy ([`config`]), how a
//! transfer failed ([`transfer`]) — are plain code that unit-tests on the
//! host. The rest (wasm32 only) does the I/O in the Workers runtime, one file
//! per concern: `handler` (routing and the lookup loop), `edge` (Cache API,
//! the per-isolate queue), `r2`, `upstream` (fetch and report to the engine),
//! `deliver` (client and store copies), `streams` (the binding to `js/pump.js`).
#![forbid(unsafe_code)]

pub mod config;
pub mod rules;
pub mod transfer;
pub mod verify;

#[cfg(target_arch = "wasm32")]
mod chunks;
#[cfg(target_arch = "wasm32")]
mod deliver;
#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod handler;
#[cfg(target_arch = "wasm32")]
mod r2;
#[cfg(target_arch = "wasm32")]
mod ranged;
#[cfg(target_arch = "wasm32")]
mod streams;
#[cfg(target_arch = "wasm32")]
mod upstream;
