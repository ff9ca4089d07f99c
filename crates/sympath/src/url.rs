//! HTTP store URLs: parsing, credentials, and safe key joining (spec R28, R84).
//!
//! A deliberately small parser for `http(s)://[user[:pass]@]host[:port][/path][?query]`:
//! store URLs are nothing more, and a general URL crate would triple the wasm size.

use serde::Serialize;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Why a URL is not a usable store URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not `http://` or `https://`.
    #[error("not an http:// or https:// URL")]
    NotHttp,
    /// Nothing between `://` and the path.
    #[error("the URL has no host")]
    MissingHost,
    /// A port that is not a number from 1 to 65535.
    #[error("invalid port {0:?}")]
    BadPort(String),
    /// Whitespace, control characters or backslashes where they cannot be.
    #[error("invalid character {0:?} in the URL")]
    BadChar(char),
}

/// A parsed HTTP store URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreUrl {
    /// The scheme.
    pub scheme: Scheme,
    /// The user name of `user:pass@`, percent-decoded as written.
    pub username: Option<String>,
    /// The password of `user:pass@`.
    pub password: Option<String>,
    /// Host as written (case preserved); IPv6 hosts keep their brackets.
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// Path as written, `""` or starting with `/`.
    pub path: String,
    /// Query without the `?`, if any.
    pub query: Option<String>,
}

/// The host of Microsoft's public symbol server.
pub const MSDL_HOST: &str = "msdl.microsoft.com";

/// Whether `s` starts with `http://` or `https://` (case-insensitive, R9).
pub fn is_http_url(s: &str) -> bool {
    scheme_of(s).is_some()
}

/// The scheme of an `http(s)://` URL and the length of its `<scheme>://`:
/// one eight-byte word compared, letters folded by setting their `0x20` bit
/// (exact: only `H`/`h` become `h`, and so on).
fn scheme_of(s: &str) -> Option<(Scheme, usize)> {
    const HTTPS: u64 = u64::from_le_bytes(*b"https://");
    const HTTP: u64 = u64::from_le_bytes(*b"http://\0");
    // The 0x20 bit of each letter of the scheme (bytes 0–4, resp. 0–3).
    const HTTPS_LETTERS: u64 = 0x0000_0020_2020_2020;
    const HTTP_LETTERS: u64 = 0x0000_0000_2020_2020;
    const SEVEN: u64 = 0x00ff_ffff_ffff_ffff;
    let b = s.as_bytes();
    if let Some(w) = b.get(..8).filter(|_| crate::parse::NATIVE).and_then(|c| <[u8; 8]>::try_from(c).ok()).map(u64::from_le_bytes) {
        return if w | HTTPS_LETTERS == HTTPS {
            Some((Scheme::Https, 8))
        } else if (w | HTTP_LETTERS) & SEVEN == HTTP {
            Some((Scheme::Http, 7))
        } else {
            None
        };
    }
    // Shorter than eight bytes (only a bare `http://` can match), or compact (see `parse::NATIVE`).
    let starts = |p: &[u8]| b.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if starts(b"https://") {
        Some((Scheme::Https, 8))
    } else if starts(b"http://") {
        Some((Scheme::Http, 7))
    } else {
        None
    }
}

/// If `s` starts with `<scheme>://` for a scheme other than http(s), that scheme.
pub fn other_scheme(s: &str) -> Option<&str> {
    let colon = s.find(':')?;
    let scheme = s.get(..colon)?;
    if !s.get(colon..)?.starts_with("://") {
        return None;
    }
    let ok = scheme.len() > 1
        && scheme.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    (ok && !is_http_url(s)).then_some(scheme)
}

/// A store URL's parts, borrowed from the text: validation without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// The scheme.
    pub scheme: Scheme,
    /// User name of `user[:pass]@`.
    pub username: Option<&'a str>,
    /// Password of `user:pass@`.
    pub password: Option<&'a str>,
    /// Host as written.
    pub host: &'a str,
    /// Port, if given.
    pub port: Option<u16>,
    /// Path as written.
    pub path: &'a str,
    /// Query without `?`.
    pub query: Option<&'a str>,
}

impl<'a> UrlParts<'a> {
    /// Parses an `http(s)://` store URL.
    pub fn parse(s: &'a str) -> Result<UrlParts<'a>, UrlError> {
        let (scheme, skip) = scheme_of(s).ok_or(UrlError::NotHttp)?;
        let rest = s.get(skip..).unwrap_or("");
        // The one-scan parse natively; the general one alone in WebAssembly (see `parse::NATIVE`).
        let plain = if crate::parse::NATIVE { Self::plain(scheme, rest) } else { None };
        plain.unwrap_or_else(|| Self::general(scheme, rest))
    }

    /// Any store URL after its `<scheme>://`.
    fn general(scheme: Scheme, rest: &'a str) -> Result<UrlParts<'a>, UrlError> {
        // ASCII bytes decide alone; from the first other byte on, characters do.
        match rest.bytes().position(|b| b <= b' ' || b >= 0x7f || b == b'\\') {
            Some(i) if rest.as_bytes().get(i).is_some_and(|b| b.is_ascii()) => {
                return Err(UrlError::BadChar(char::from(rest.as_bytes().get(i).copied().unwrap_or(0))));
            }
            Some(i) => {
                let tail = rest.get(i..).unwrap_or("");
                if let Some(c) = tail.chars().find(|c| c.is_whitespace() || c.is_control() || *c == '\\') {
                    return Err(UrlError::BadChar(c));
                }
            }
            None => {}
        }
        let rest = split_byte(rest, b'#').map_or(rest, |(a, _)| a);
        let auth_end = rest.bytes().position(|b| b == b'/' || b == b'?').unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(auth_end);
        let (userinfo, hostport) = match rsplit_byte(authority, b'@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, password) = match userinfo.map(|u| split_byte(u, b':').ok_or(u)) {
            Some(Ok((n, p))) => (Some(n), Some(p)),
            Some(Err(u)) => (Some(u), None),
            None => (None, None),
        };
        let (host, port) = split_host_port(hostport)?;
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        let (path, query) = match split_byte(tail, b'?') {
            Some((p, q)) => (p, Some(q)),
            None => (tail, None),
        };
        Ok(UrlParts { scheme, username, password, host, port, path, query })
    }

    /// The usual store URL in one scan, authority then path (the host read
    /// for a port only when it has a `:`): printable ASCII without `\`,
    /// userinfo, query, fragment or bracketed host (`None` otherwise: the
    /// general parse above decides). Gives what the general parse gives.
    fn plain(scheme: Scheme, rest: &'a str) -> Option<Result<UrlParts<'a>, UrlError>> {
        let b = rest.as_bytes();
        let class = |c: u8| URL_BYTES.get(usize::from(c)).copied().unwrap_or(OTHER);
        // The authority, up to the first `/`, then the path, where `/` and `:` are plain.
        let mut auth_end = b.len();
        let mut colon = false;
        for (i, &c) in b.iter().enumerate() {
            match class(c) {
                PLAIN => {}
                COLON => colon = true,
                SLASH => {
                    auth_end = i;
                    break;
                }
                _ => return None,
            }
        }
        if b.get(auth_end..).unwrap_or(&[]).iter().any(|&c| class(c) == OTHER) {
            return None;
        }
        let (authority, path) = rest.split_at(auth_end);
        // Without `:` the authority is the host (no port to read).
        let host_port = if colon { split_host_port(authority) } else { Ok((authority, None)) };
        Some(host_port.and_then(|(host, port)| {
            if host.is_empty() {
                return Err(UrlError::MissingHost);
            }
            Ok(UrlParts { scheme, username: None, password: None, host, port, path, query: None })
        }))
    }

    /// Whether this is Microsoft's public symbol server.
    pub fn is_msdl(&self) -> bool {
        crate::ascii::eq_ignore_case(self.host, MSDL_HOST)
    }
}

/// [`URL_BYTES`]: a byte [`UrlParts::plain`] passes over.
const PLAIN: u8 = 0;
/// [`URL_BYTES`]: `/`, which ends the authority.
const SLASH: u8 = 1;
/// [`URL_BYTES`]: a byte only the general parse handles.
const OTHER: u8 = 2;
/// [`URL_BYTES`]: `:`, which starts a port in the authority.
const COLON: u8 = 3;

/// The class of every byte for [`UrlParts::plain`]: printable ASCII is plain
/// except `/` and `:` (noted), `\` (invalid), `@` (userinfo), `?` (query), `#`
/// (fragment) and `[` (an IPv6 host); controls, space, DEL and non-ASCII bytes
/// are not.
// Evaluated at compile time: an index out of bounds would fail the build, never panic.
#[allow(clippy::indexing_slicing)]
const URL_BYTES: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut c = b'!';
    while c < 0x7f {
        t[c as usize] = match c {
            b'/' => SLASH,
            b':' => COLON,
            b'\\' | b'@' | b'?' | b'#' | b'[' => OTHER,
            _ => PLAIN,
        };
        c += 1;
    }
    t
};

impl StoreUrl {
    /// Parses an `http(s)://` store URL.
    pub fn parse(s: &str) -> Result<StoreUrl, UrlError> {
        let p = UrlParts::parse(s)?;
        Ok(StoreUrl {
            scheme: p.scheme,
            username: p.username.map(str::to_string),
            password: p.password.map(str::to_string),
            host: p.host.to_string(),
            port: p.port,
            path: p.path.to_string(),
            query: p.query.map(str::to_string),
        })
    }

    /// Whether this is Microsoft's public symbol server.
    pub fn is_msdl(&self) -> bool {
        crate::ascii::eq_ignore_case(&self.host, MSDL_HOST)
    }

    /// Whether the URL carries `user[:password]@`.
    pub fn has_credentials(&self) -> bool {
        self.username.is_some()
    }

    /// `scheme://host[:port]`, scheme and host lower-cased.
    pub fn origin(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{}", self.scheme.as_str(), self.host.to_ascii_lowercase(), p),
            None => format!("{}://{}", self.scheme.as_str(), self.host.to_ascii_lowercase()),
        }
    }

    /// The URL without credentials (safe to log and show), path and query as written.
    pub fn redacted(&self) -> String {
        let mut s = self.origin();
        s.push_str(&self.path);
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }

    /// The URL of `segments` (a store key, one segment per path component) in this
    /// store: the base path without its trailing slashes, `/`, each segment
    /// percent-encoded, then the query string if there is one (R84, R28).
    /// Credentials are never part of the result; send them with [`StoreUrl::basic_auth`].
    pub fn join<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> String {
        let mut s = self.origin();
        s.push_str(self.path.trim_end_matches('/'));
        for seg in segments {
            s.push('/');
            percent_encode_segment(seg, &mut s);
        }
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }

    /// The `Authorization: Basic …` value for the URL's credentials (R28:
    /// a PAT alone becomes `:PAT`).
    pub fn basic_auth(&self) -> Option<String> {
        let user = self.username.as_deref()?;
        let pair = match &self.password {
            Some(p) => format!("{}:{}", percent_decode(user), percent_decode(p)),
            None => format!(":{}", percent_decode(user)),
        };
        Some(format!("Basic {}", base64(pair.as_bytes())))
    }
}

/// `s` split around the first `b` (an ASCII byte, so both halves are on char
/// boundaries): a byte scan, cheaper than a `char` pattern's searcher on short strings.
fn split_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|x| x == b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s` split around the last `b` (an ASCII byte).
fn rsplit_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().rposition(|x| x == b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// Whether `s` contains `://` (a byte scan; no substring searcher for short strings).
pub(crate) fn has_scheme_separator(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, &c)| c == b':' && b.get(i + 1) == Some(&b'/') && b.get(i + 2) == Some(&b'/'))
}

fn split_host_port(hostport: &str) -> Result<(&str, Option<u16>), UrlError> {
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(i) => {
                let (h, rest) = hostport.split_at(i + 1);
                (h, rest.strip_prefix(':'))
            }
            None => return Err(UrlError::MissingHost),
        }
    } else {
        match rsplit_byte(hostport, b':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err(UrlError::BadPort(p.to_string())),
        },
    };
    Ok((host, port))
}

/// Percent-encodes one path segment: everything but RFC 3986 unreserved
/// characters is encoded, like .NET's `Uri.EscapeDataString` (R84).
pub fn percent_encode_segment(seg: &str, out: &mut String) {
    for &b in seg.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 15));
        }
    }
}

/// Decodes `%XX` escapes; invalid escapes are kept as written. Returns `None`
/// if the result is not UTF-8.
pub fn percent_decode_checked(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            if let (Some(h), Some(l)) = (b.get(i + 1).and_then(|x| hex_val(*x)), b.get(i + 2).and_then(|x| hex_val(*x))) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn percent_decode(s: &str) -> String {
    percent_decode_checked(s).unwrap_or_else(|| s.to_string())
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn hex_digit(n: u8) -> char {
    char::from_digit(u32::from(n & 15), 16).map_or('0', |c| c.to_ascii_uppercase())
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| A.get(i as usize & 63).map_or('=', |&c| c as char);
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(sym(n >> (18 - 6 * i)));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The one-scan parse of the usual URL gives what the general parse gives.
        #[test]
        fn plain_urls_parse_as_the_general_parse_does(rest in "[a-zA-Z0-9:/.@?#\\[\\] %\\\\\u{e9}\u{7f}-]{0,24}") {
            if let Some(plain) = UrlParts::plain(Scheme::Https, &rest) {
                proptest::prop_assert_eq!(plain, UrlParts::general(Scheme::Https, &rest));
            }
        }

        /// The word-at-a-time scheme check is `eq_ignore_ascii_case` on the prefixes.
        #[test]
        fn scheme_check_matches_the_prefix_comparison(s in "[hHtTpPsS:/xX\u{e9}]{0,10}") {
            let starts = |p: &str| s.as_bytes().get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()));
            let expected = if starts("https://") { Some((Scheme::Https, 8)) } else if starts("http://") { Some((Scheme::Http, 7)) } else { None };
            proptest::prop_assert_eq!(scheme_of(&s), expected);
        }
    }

    #[test]
    fn r9_scheme_prefixes_of_every_length() {
        for s in ["http://", "HTTP://", "https://", "hTtPs://x", "http:/", "https:/", "http:\\\\", "httpx://", "", "h"] {
            let l = s.to_ascii_lowercase();
            let expected = if l.starts_with("https://") {
                Some((Scheme::Https, 8))
            } else if l.starts_with("http://") {
                Some((Scheme::Http, 7))
            } else {
                None
            };
            assert_eq!(scheme_of(s), expected, "{s:?}");
        }
        assert_eq!(UrlParts::parse("HTTPS://Host:8080/a/b").map(|u| (u.host, u.port, u.path)), Ok(("Host", Some(8080), "/a/b")));
        assert_eq!(UrlParts::parse("https:///path"), Err(UrlError::MissingHost));
        assert_eq!(UrlParts::parse("https://h:0/"), Err(UrlError::BadPort("0".into())));
    }

    #[test]
    fn r84_join_strips_trailing_slash_and_encodes() {
        let u = StoreUrl::parse("https://msdl.microsoft.com/download/symbols/").unwrap();
        assert_eq!(u.join(["ntdll.pdb", "ABC1", "ntdll.pdb"]), "https://msdl.microsoft.com/download/symbols/ntdll.pdb/ABC1/ntdll.pdb");
        let u = StoreUrl::parse("https://h").unwrap();
        assert_eq!(u.join(["my file.pdb"]), "https://h/my%20file.pdb");
    }

    #[test]
    fn r28_query_stays_after_key_and_credentials_are_removed() {
        let u = StoreUrl::parse("https://user:p%40ss@Server:8443/sym?code=abc").unwrap();
        assert_eq!(u.join(["a.pdb", "1", "a.pdb"]), "https://server:8443/sym/a.pdb/1/a.pdb?code=abc");
        assert_eq!(u.redacted(), "https://server:8443/sym?code=abc");
        assert_eq!(u.basic_auth().unwrap(), format!("Basic {}", base64(b"user:p@ss")));
        let pat = StoreUrl::parse("https://PAT@dev.azure.com/o/_apis/symbol/symsrv").unwrap();
        assert_eq!(pat.basic_auth().unwrap(), format!("Basic {}", base64(b":PAT")));
    }

    #[test]
    fn r9_scheme_is_case_insensitive() {
        assert!(is_http_url("HTTPS://MSDL.MICROSOFT.COM/download/symbols"));
        assert!(StoreUrl::parse("HTTPS://MSDL.MICROSOFT.COM/download/symbols").unwrap().is_msdl());
    }

    #[test]
    fn bad_urls() {
        assert_eq!(StoreUrl::parse("https:///x"), Err(UrlError::MissingHost));
        assert_eq!(StoreUrl::parse("https://h:99999/"), Err(UrlError::BadPort("99999".into())));
        assert_eq!(StoreUrl::parse("https://h x/"), Err(UrlError::BadChar(' ')));
        assert_eq!(other_scheme("ftp://x"), Some("ftp"));
        assert_eq!(other_scheme(r"C:\x"), None);
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
