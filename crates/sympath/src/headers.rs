//! The `X-Sympath-*` HTTP headers of a sympath mirror, named once for every
//! party: the mirror (`worker/`) sets them, the browser client reads them.
//!
//! Header names are case-insensitive in HTTP; these are the spellings the
//! mirror sends.

/// Where the mirror's answer came from: [`cache::HIT`] (the edge cache),
/// [`cache::R2`] (the persistent store), [`cache::MISS`] (fetched upstream),
/// [`cache::BYPASS`] (fetched upstream because the client asked to bypass the
/// caches), [`cache::NEGATIVE`] (a remembered miss). Its presence marks an
/// answer as a sympath mirror's.
pub const CACHE: &str = "X-Sympath-Cache";
/// The upstream store that served the file, credentials redacted.
pub const UPSTREAM: &str = "X-Sympath-Upstream";
/// `cab` when the mirror expanded a compressed (`.pd_`-style) file at the edge
/// and served the plain file in its place (R23).
pub const EXPANDED: &str = "X-Sympath-Expanded";
/// The URL a `file.ptr` pointed to, when the file was fetched through one (R63).
pub const POINTER: &str = "X-Sympath-Pointer";
/// Why an answer was not put in the edge cache (no length, over its limit).
pub const NOTE: &str = "X-Sympath-Note";
/// The whole file's length in bytes (kept beside `Content-Length`, which the
/// Cache API may drop and which a 206 sets to the range's length).
pub const LENGTH: &str = "X-Sympath-Length";
/// Internal to the mirror, never sent to clients: what an edge-cache entry
/// that is not the file says of a key, [`meta::MISS`] or [`meta::IN_R2`].
pub const META: &str = "X-Sympath-Meta";

/// The mirror's response headers exposed to browsers by CORS (R92).
pub const MIRROR_HEADERS: &[&str] = &[CACHE, UPSTREAM, EXPANDED, POINTER, NOTE, LENGTH];

/// Values of [`CACHE`].
pub mod cache {
    /// Served from the edge cache.
    pub const HIT: &str = "hit";
    /// Served from the persistent store (R2).
    pub const R2: &str = "r2";
    /// Fetched upstream (and now cached), or a miss just found upstream.
    pub const MISS: &str = "miss";
    /// Fetched upstream because the client bypassed the caches
    /// (`Cache-Control: no-cache` or `?fresh`).
    pub const BYPASS: &str = "bypass";
    /// A miss remembered from an earlier request (R94).
    pub const NEGATIVE: &str = "negative";
}

/// Values of [`EXPANDED`].
pub mod expanded {
    /// Expanded from a cabinet (`MSCF`).
    pub const CAB: &str = "cab";
}

/// Values of [`META`].
pub mod meta {
    /// A remembered miss: the entry is the 404 to answer.
    pub const MISS: &str = "miss";
    /// The R2 store holds the file (too large for the edge cache): it is read
    /// there first, without asking an upstream.
    pub const IN_R2: &str = "in-r2";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_headers_are_the_exposed_sympath_headers_without_meta() {
        // R92: every header the client reads is exposed; the internal one is not.
        assert!(MIRROR_HEADERS.iter().all(|h| h.starts_with("X-Sympath-")));
        assert!(!MIRROR_HEADERS.contains(&META));
        assert_eq!(MIRROR_HEADERS.len(), 6);
    }
}
