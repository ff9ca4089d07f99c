//! The sympath edge mirror (Cloudflare Worker).
//!
//! Its HTTP rules — routes and key validation, CORS, which upstream URLs to
//! try for a request, what counts as a verified hit, cache lifetimes — are
//! plain functions in [`rules`] that unit-test on the host. The fetch handler
//! that runs them in the Workers runtime is the next step of the edge-mirror
//! issue.
#![forbid(unsafe_code)]

pub mod rules;
