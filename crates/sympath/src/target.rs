//! Where a redirect or a `file.ptr` may send a lookup (spec R28, R63, R64, R88).
//!
//! A store may answer with a redirect (msdl sends every hit to Azure Blob
//! Storage, R88) or a `file.ptr` naming another URL (R63). Followed blindly,
//! either lets a store point a server-side executor (the edge mirror) at
//! loopback, a private network or a cloud metadata address. This module
//! resolves such a target against the URL that named it and decides whether
//! it may be fetched: over https, to a public host, unless the executor's
//! policy allows private targets. Hosts are judged in every spelling a URL
//! parser accepts for them (WHATWG IPv4 forms such as `2130706433`,
//! `0x7f.1`, `0177.0.0.1`, IPv4-mapped IPv6, trailing dots).

use crate::url::{Scheme, UrlParts};

/// Which targets a lookup may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Targets {
    /// Only `https://` URLs whose host is a public name or address: what a
    /// server that fetches on behalf of others (the edge mirror) must require.
    #[default]
    PublicHttps,
    /// Any `http(s)://` URL: a browser (which enforces its own rules) or a
    /// mirror under test on loopback.
    Any,
}

/// Resolves a `Location` header (absolute, scheme-relative, absolute-path or
/// relative) against the URL that answered with it. Fragments are dropped.
pub fn resolve(base: &str, location: &str) -> Result<String, String> {
    let location = location.trim();
    let location = location.split_once('#').map_or(location, |(a, _)| a);
    if location.is_empty() {
        return Err("an empty Location".into());
    }
    if crate::url::is_http_url(location) {
        return Ok(location.to_string());
    }
    let parts = UrlParts::parse(base).map_err(|e| format!("{base}: {e}"))?;
    let origin = {
        let rest = base.get(parts.scheme.as_str().len() + 3..).unwrap_or("");
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        format!("{}://{}", parts.scheme.as_str(), rest.get(..end).unwrap_or(""))
    };
    if let Some(rest) = location.strip_prefix("//") {
        return Ok(format!("{}://{rest}", parts.scheme.as_str()));
    }
    if location.starts_with('/') {
        return Ok(format!("{origin}{location}"));
    }
    if has_scheme(location) {
        return Err(format!("a redirect to another scheme: {location}"));
    }
    let dir = parts.path.rfind('/').map_or("", |i| parts.path.get(..=i).unwrap_or(""));
    let dir = if dir.is_empty() { "/" } else { dir };
    Ok(format!("{origin}{dir}{location}"))
}

/// Whether `s` starts with a URL scheme (`[A-Za-z][A-Za-z0-9+.-]*:`).
fn has_scheme(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else { return false };
    let mut b = scheme.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic()) && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

/// Whether `url` may be fetched as a redirect or pointer target under `targets`.
/// The error says why not, for a person.
pub fn allowed(url: &str, targets: Targets) -> Result<(), String> {
    let parts = UrlParts::parse(url).map_err(|e| format!("{url}: {e}"))?;
    if targets == Targets::Any {
        return Ok(());
    }
    if let Some(why) = private_host(parts.host) {
        return Err(format!("a private address is refused: {} ({why})", parts.host));
    }
    if parts.scheme != Scheme::Https {
        return Err(format!("plain http is refused: {url}"));
    }
    Ok(())
}

/// Why a host is not a public internet host, if it is not: loopback,
/// private, link-local (cloud metadata), unspecified, `localhost` names and
/// the like, in any spelling.
pub fn private_host(host: &str) -> Option<&'static str> {
    let h = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
    if h.is_empty() {
        return Some("an empty host");
    }
    if h == "localhost" || h.ends_with(".localhost") || h == "localhost.localdomain" {
        return Some("localhost");
    }
    if h.ends_with(".internal") || h.ends_with(".local") || h.ends_with(".home.arpa") {
        return Some("a local name");
    }
    if host.starts_with('[') || h.contains(':') {
        return match h.split('%').next().unwrap_or("").parse::<std::net::Ipv6Addr>() {
            Ok(ip) => private_v6(ip),
            Err(_) => Some("an unreadable IPv6 address"),
        };
    }
    match parse_ipv4(&h) {
        Ipv4Host::Address(ip) => private_v4(ip),
        Ipv4Host::Invalid => Some("an invalid IPv4 address"),
        Ipv4Host::NotIpv4 => None,
    }
}

fn private_v4(ip: std::net::Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("a private network")
    } else if ip.is_link_local() {
        Some("link-local (cloud metadata)")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared address space (carrier-grade NAT)")
    } else if ip.is_broadcast() || a >= 224 {
        Some("multicast or reserved")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("a benchmarking network")
    } else {
        None
    }
}

fn private_v6(ip: std::net::Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return private_v4(v4);
    }
    let s = ip.segments();
    let first = s.first().copied().unwrap_or(0);
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address.
    if first == 0x64 && s.get(1) == Some(&0xff9b) {
        let [.., hi, lo] = s;
        return private_v4(std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    if first == 0x2002 {
        let (hi, lo) = (s.get(1).copied().unwrap_or(0), s.get(2).copied().unwrap_or(0));
        return private_v4(std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if (first & 0xfe00) == 0xfc00 {
        Some("a unique local address")
    } else if (first & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if (first & 0xff00) == 0xff00 {
        Some("multicast")
    } else if s.iter().take(6).all(|x| *x == 0) {
        // IPv4-compatible (deprecated) ::a.b.c.d
        let [.., hi, lo] = s;
        private_v4(std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)))
    } else {
        None
    }
}

enum Ipv4Host {
    Address(std::net::Ipv4Addr),
    Invalid,
    NotIpv4,
}

/// The WHATWG URL IPv4 parser: 1 to 4 dot-separated numbers, each decimal,
/// `0x` hex or `0`-prefixed octal; the last one fills the remaining bytes.
/// A host whose last label is not numeric is a name.
fn parse_ipv4(h: &str) -> Ipv4Host {
    let labels: Vec<&str> = h.split('.').collect();
    let last = labels.last().copied().unwrap_or("");
    let numeric = |l: &str| !l.is_empty() && (l.bytes().all(|b| b.is_ascii_digit()) || is_hex_label(l));
    if !numeric(last) {
        return Ipv4Host::NotIpv4;
    }
    if labels.len() > 4 {
        return Ipv4Host::Invalid;
    }
    let mut nums = Vec::with_capacity(4);
    for l in &labels {
        match ipv4_number(l) {
            Some(n) => nums.push(n),
            None => return Ipv4Host::Invalid,
        }
    }
    let Some((&last, init)) = nums.split_last() else { return Ipv4Host::Invalid };
    if init.iter().any(|n| *n > 255) {
        return Ipv4Host::Invalid;
    }
    let rest_bits = 8 * (4 - init.len() as u32);
    if rest_bits < 64 && last >= (1u64 << rest_bits) {
        return Ipv4Host::Invalid;
    }
    let mut value = last;
    for (i, n) in init.iter().enumerate() {
        value += n << (8 * (3 - i as u32));
    }
    match u32::try_from(value) {
        Ok(v) => Ipv4Host::Address(std::net::Ipv4Addr::from(v)),
        Err(_) => Ipv4Host::Invalid,
    }
}

fn is_hex_label(l: &str) -> bool {
    l.strip_prefix("0x").or_else(|| l.strip_prefix("0X")).is_some_and(|r| r.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn ipv4_number(l: &str) -> Option<u64> {
    if let Some(hex) = l.strip_prefix("0x").or_else(|| l.strip_prefix("0X")) {
        return if hex.is_empty() { Some(0) } else { u64::from_str_radix(hex, 16).ok().filter(|n| *n <= u64::from(u32::MAX)) };
    }
    if l.len() > 1 && l.starts_with('0') {
        return u64::from_str_radix(l.get(1..)?, 8).ok().filter(|n| *n <= u64::from(u32::MAX));
    }
    l.parse::<u64>().ok().filter(|n| *n <= u64::from(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r88_redirect_locations_resolve_against_the_answering_url() {
        let base = "https://h.example/sym/a.pdb/ABC1/a.pdb?x=1";
        assert_eq!(resolve(base, "https://blob.example/b?sig=1").unwrap(), "https://blob.example/b?sig=1");
        assert_eq!(resolve(base, "//cdn.example/x").unwrap(), "https://cdn.example/x");
        assert_eq!(resolve(base, "/other/a.pdb").unwrap(), "https://h.example/other/a.pdb");
        assert_eq!(resolve(base, "b.pdb#frag").unwrap(), "https://h.example/sym/a.pdb/ABC1/b.pdb");
        assert!(resolve(base, "").is_err());
        assert!(resolve(base, "file:///etc/passwd").is_err());
        assert!(resolve(base, "javascript:alert(1)").is_err());
    }

    #[test]
    fn r88_private_targets_are_refused_in_every_spelling() {
        for host in [
            "127.0.0.1",
            "127.1",
            "2130706433",
            "0x7f000001",
            "0x7f.0.0.1",
            "0177.0.0.1",
            "017700000001",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.169.254",
            "0.0.0.0",
            "0",
            "100.64.0.1",
            "[::1]",
            "[::]",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "[::ffff:169.254.169.254]",
            "[64:ff9b::a9fe:a9fe]",
            "[2002:7f00:1::]",
            "[fd00::1]",
            "[fe80::1]",
            "[::127.0.0.1]",
            "localhost",
            "LOCALHOST.",
            "a.localhost",
            "metadata.google.internal",
            "printer.local",
        ] {
            let url = format!("https://{host}/x");
            assert!(allowed(&url, Targets::PublicHttps).is_err(), "{url}");
            assert!(allowed(&url, Targets::Any).is_ok(), "{url}");
        }
        for ok in
            ["https://vsblobprodscussu5shard2.blob.core.windows.net/b/x.blob?sig=1", "https://8.8.8.8/x", "https://[2606:4700::1111]/x"]
        {
            assert!(allowed(ok, Targets::PublicHttps).is_ok(), "{ok}");
        }
        assert!(allowed("http://example.com/x", Targets::PublicHttps).unwrap_err().contains("plain http"));
        assert!(allowed("ftp://example.com/x", Targets::Any).is_err());
        // Not numbers: names, even if they look close.
        assert_eq!(private_host("127.0.0.1.nip.io"), None);
        assert_eq!(private_host("0x7g.example"), None);
        assert!(private_host("256.1.1.1").is_some(), "invalid IPv4 is refused, never treated as a name");
    }
}
