//! Windows path rules on plain strings (spec R13, R16).
//!
//! Never `std::path::Path`: under wasm32 and on Linux it follows Unix rules,
//! and symbol paths are Windows paths wherever sympath runs.

use serde::Serialize;

/// How a plain directory is anchored (spec R13; the `form` field of the vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum DirForm {
    /// `C:\x`, `C:/x`, `\\?\C:\x`, `\\.\device`.
    Absolute,
    /// `\\server\share`, `//server/share`, `\\?\UNC\server\share`.
    Unc,
    /// Resolved against the debugger's current directory (also `C:x` and, on Windows, `\x`).
    Relative,
    /// `/home/x` on a non-Windows host.
    PosixAbsolute,
}

impl DirForm {
    /// The snake_case name (`absolute`, `unc`, `relative`, `posix_absolute`).
    pub fn as_str(self) -> &'static str {
        match self {
            DirForm::Absolute => "absolute",
            DirForm::Unc => "unc",
            DirForm::Relative => "relative",
            DirForm::PosixAbsolute => "posix_absolute",
        }
    }
}

/// The platform whose path rules apply to plain directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Host {
    /// Windows (the debuggers' home): `/x` is relative to the current drive.
    #[default]
    Windows,
    /// Linux/macOS tools (SOS, samply, this CLI on Linux): `/x` is absolute.
    Posix,
}

/// Why a path is relative, when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relativity {
    /// Plain relative name such as `symbols` or `.\sym`.
    CurrentDir,
    /// `C:sym`: relative to drive C's current directory.
    DriveRelative,
    /// `\sym` on Windows: relative to the current drive's root.
    DriveRooted,
}

fn is_sep(c: u8) -> bool {
    c == b'\\' || c == b'/'
}

fn has_drive(b: &[u8]) -> bool {
    matches!(b, [d, b':', ..] if d.is_ascii_alphabetic())
}

/// Classifies a directory token (already trimmed).
pub fn classify(path: &str, host: Host) -> (DirForm, Option<Relativity>) {
    let b = path.as_bytes();
    // `\\?\UNC\`, `\\?\`, `\\.\` with either separator, compared without allocating.
    let prefix =
        |p: &[u8]| b.len() >= p.len() && b.iter().zip(p).all(|(x, y)| if *y == b'\\' { is_sep(*x) } else { x.eq_ignore_ascii_case(y) });
    // The prefixes all start with two separators.
    if b.get(..2).is_some_and(|s| s.iter().all(|c| is_sep(*c))) {
        if prefix(b"\\\\?\\unc\\") {
            return (DirForm::Unc, None);
        }
        if prefix(b"\\\\?\\") || prefix(b"\\\\.\\") {
            return (DirForm::Absolute, None);
        }
    }
    match b {
        [a, c, ..] if is_sep(*a) && is_sep(*c) => (DirForm::Unc, None),
        [b'/', ..] if host == Host::Posix => (DirForm::PosixAbsolute, None),
        [a, ..] if is_sep(*a) => (DirForm::Relative, Some(Relativity::DriveRooted)),
        _ if has_drive(b) => match b.get(2) {
            Some(c) if is_sep(*c) => (DirForm::Absolute, None),
            _ => (DirForm::Relative, Some(Relativity::DriveRelative)),
        },
        _ => (DirForm::Relative, Some(Relativity::CurrentDir)),
    }
}

/// A comparison key: Windows paths are case-insensitive and accept both
/// separators; `\\?\` prefixes and trailing separators do not change the directory.
pub fn compare_key(path: &str) -> String {
    CompareKey::new(path).chars().collect()
}

/// Appends [`compare_key`] of `path` to `out`.
pub fn compare_key_append(path: &str, out: &mut String) {
    out.extend(CompareKey::new(path).chars());
}

/// [`compare_key`] without building it: a prefix and the part of `path` it
/// maps character by character (lower case, `/` → `\`). Compared and hashed
/// as it streams, so duplicate detection allocates nothing (R24).
#[derive(Debug, Clone, Copy)]
pub struct CompareKey<'a> {
    prefix: &'static str,
    rest: &'a str,
}

impl<'a> CompareKey<'a> {
    /// The key of `path`.
    pub fn new(path: &'a str) -> CompareKey<'a> {
        // Only `\\?\` and `//?/` paths have a prefix to take apart.
        let verbatim = path.starts_with("\\\\?\\") || path.starts_with("//?/");
        let form = if verbatim { classify(path, Host::Windows).0 } else { DirForm::Relative };
        let (mut prefix, mut rest) = match form {
            DirForm::Unc if path.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("\\\\?\\unc\\") || p.eq_ignore_ascii_case("//?/unc/")) => {
                ("\\\\", path.get(8..).unwrap_or(""))
            }
            DirForm::Absolute if verbatim => ("", path.get(4..).unwrap_or("")),
            _ => ("", path),
        };
        // Trailing separators go, except the one of `C:\` and a lone `\`.
        while let Some((_, init)) = rest.as_bytes().split_last().filter(|(last, _)| is_sep(**last)) {
            let keeps_root = init.last() == Some(&b':') || prefix.len() + rest.len() <= 1;
            match rest.get(..init.len()) {
                Some(stripped) if !keeps_root => rest = stripped,
                _ => break,
            }
        }
        if rest.is_empty() && prefix.len() > 1 {
            prefix = "\\";
        }
        CompareKey { prefix, rest }
    }

    /// The key's characters.
    pub fn chars(self) -> impl Iterator<Item = char> + 'a {
        self.prefix.chars().chain(self.rest.chars().flat_map(|c| if c == '/' { '\\' } else { c }.to_lowercase()))
    }

    /// Whether two paths have the same key (the same as comparing [`compare_key`]s).
    pub fn same(self, other: CompareKey<'_>) -> bool {
        let ((ap, ar), (bp, br)) = ((self.prefix, self.rest), (other.prefix, other.rest));
        // Keys ending in different ASCII characters differ (the last character of
        // a key is its path's last character, folded): most unequal paths do.
        // (Natively; see `parse::NATIVE`.)
        if let (Some(&x), Some(&y), true) = (ar.as_bytes().last(), br.as_bytes().last(), crate::parse::NATIVE) {
            if x.is_ascii() && y.is_ascii() && fold_ascii(x) != fold_ascii(y) {
                return false;
            }
        }
        // The prefixes are "", "\\" and "\\\\": equal lengths mean equal prefixes.
        if ap.len() == bp.len() && ar.is_ascii() && br.is_ascii() {
            return ar.len() == br.len() && same_folded_ascii(ar.as_bytes(), br.as_bytes());
        }
        self.chars().eq(other.chars())
    }

    /// A cheap fingerprint for rejecting unequal keys without comparing them:
    /// two keys whose fingerprints are both `Some` and differ are different
    /// (the prefix length, the length and the last eight folded bytes of an
    /// ASCII key). `None` for keys that are not ASCII.
    pub(crate) fn fingerprint(self) -> Option<(usize, u64)> {
        let r = self.rest.as_bytes();
        if !r.is_ascii() {
            return None;
        }
        let tail = r.get(r.len().saturating_sub(8)..).unwrap_or(r);
        let mut w = [0u8; 8];
        for (d, s) in w.iter_mut().zip(tail) {
            *d = *s;
        }
        Some((self.prefix.len(), fold8(u64::from_le_bytes(w)) ^ ((r.len() as u64) << 56)))
    }

    /// Feeds the key's UTF-8 bytes to `h`, in order (eight at a time when ASCII).
    pub(crate) fn hash_into(self, h: &mut StreamHash) {
        self.prefix.bytes().for_each(|b| h.byte(b));
        if self.rest.is_ascii() {
            hash_folded_ascii(self.rest.as_bytes(), h);
        } else {
            let mut buf = [0u8; 4];
            for c in self.rest.chars().flat_map(|c| if c == '/' { '\\' } else { c }.to_lowercase()) {
                c.encode_utf8(&mut buf).bytes().for_each(|b| h.byte(b));
            }
        }
    }
}

/// Eight bytes as a little-endian word: one load (`c` has eight bytes; 0 otherwise).
fn load8(c: &[u8]) -> u64 {
    <[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes)
}

/// Whether two ASCII byte strings of equal length are equal after [`fold_ascii`], eight bytes at a time.
fn same_folded_ascii(a: &[u8], b: &[u8]) -> bool {
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_le_bytes(w)
    };
    for (x, y) in (&mut ca).zip(&mut cb) {
        let (x, y) = (word(x), word(y));
        if x != y && fold8(x) != fold8(y) {
            return false;
        }
    }
    ca.remainder().iter().zip(cb.remainder()).all(|(&x, &y)| x == y || fold_ascii(x) == fold_ascii(y))
}

/// Feeds [`fold_ascii`] of each byte of `b` (all ASCII) to `h`, eight at a time.
pub(crate) fn hash_folded_ascii(b: &[u8], h: &mut StreamHash) {
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h.word(fold8(u64::from_le_bytes(w)));
    }
    let rest = chunks.remainder();
    let n = rest.len();
    match b.len().checked_sub(8).and_then(|at| b.get(at..)) {
        // Natively, the last eight bytes in one load, those already hashed shifted out.
        Some(last) if crate::parse::NATIVE && n > 0 => h.tail(fold8(load8(last)) >> (8 * (8 - n)), n as u32),
        _ => rest.iter().for_each(|&b| h.byte(fold_ascii(b))),
    }
}

/// [`fold_ascii`] of eight ASCII bytes at once (little-endian): upper case
/// gets `0x20`, `/` becomes `\`.
fn fold8(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Every byte is below 0x80, so no sum carries into the next byte.
    let ge_a = x.wrapping_add(ONES * (0x80 - u64::from(b'A'))) & HIGH;
    let gt_z = x.wrapping_add(ONES * (0x80 - u64::from(b'Z') - 1)) & HIGH;
    let x = x | ((ge_a & !gt_z) >> 2);
    let t = x ^ (ONES * u64::from(b'/'));
    let slash = !((t & !HIGH).wrapping_add(!HIGH) | t) & HIGH;
    x ^ ((slash >> 7) * u64::from(b'/' ^ b'\\'))
}

/// A FxHash-style hash of a byte stream whose result does not depend on how
/// the bytes are grouped (one at a time or eight), so streamed keys hash the
/// same however they are cut.
#[derive(Default)]
pub(crate) struct StreamHash {
    acc: u64,
    word: u64,
    n: u32,
}

impl StreamHash {
    /// Adds one byte.
    pub(crate) fn byte(&mut self, b: u8) {
        self.word |= u64::from(b) << (8 * self.n);
        self.n += 1;
        if self.n == 8 {
            self.mix();
        }
    }

    /// Adds eight bytes (little-endian).
    pub(crate) fn word(&mut self, w: u64) {
        if self.n == 0 {
            self.word = w;
            self.mix();
        } else {
            let n = self.n;
            self.word |= w << (8 * n);
            self.mix();
            self.word = w >> (64 - 8 * n);
            self.n = n;
        }
    }

    /// Adds the low `n` bytes of `w` (`n` below 8, the other bytes zero):
    /// the same as `n` calls of [`StreamHash::byte`].
    pub(crate) fn tail(&mut self, w: u64, n: u32) {
        if n == 0 {
            return;
        }
        // `self.n` is below 8 between calls, so every shift is below 64.
        let free = 8 - self.n;
        self.word |= w << (8 * self.n);
        if n >= free {
            self.mix();
            self.word = w >> (8 * free);
            self.n = n - free;
        } else {
            self.n += n;
        }
    }

    fn mix(&mut self) {
        self.acc = (self.acc.rotate_left(5) ^ self.word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        self.word = 0;
        self.n = 0;
    }

    /// The hash, avalanched (murmur3's finalizer): the multiply-rotate steps
    /// leave the low bits, which pick the bucket, depending on few input bits.
    pub(crate) fn finish(mut self) -> u64 {
        if self.n > 0 {
            self.mix();
        }
        let mut h = self.acc;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// One ASCII byte of a comparison key.
fn fold_ascii(b: u8) -> u8 {
    if b == b'/' {
        b'\\'
    } else {
        b.to_ascii_lowercase()
    }
}

/// The separator a path uses: `/` for POSIX-looking paths, `\` otherwise.
pub fn separator(base: &str) -> char {
    if base.starts_with('/') || (!base.contains('\\') && base.contains('/') && !has_drive(base.as_bytes())) {
        '/'
    } else {
        '\\'
    }
}

/// Joins `base` with relative `parts`, never doubling a separator.
pub fn join<'a>(base: &str, parts: impl IntoIterator<Item = &'a str>) -> String {
    let sep = separator(base);
    let mut out = base.to_string();
    for p in parts {
        if p.is_empty() {
            continue;
        }
        if !out.is_empty() && !out.ends_with(['\\', '/']) {
            out.push(sep);
        }
        out.push_str(p.trim_start_matches(['\\', '/']));
    }
    out
}

/// The first character that cannot be part of a Windows directory name, with its byte offset.
///
/// Control characters are never valid; `<`, `>`, `|` and `?` are not either,
/// except the `?` of a `\\?\` prefix. `"` is reported separately (R4).
pub fn invalid_char(path: &str) -> Option<(usize, char)> {
    let skip = if path.starts_with("\\\\?\\") || path.starts_with("//?/") { 4 } else { 0 };
    path.char_indices().skip_while(|(i, _)| *i < skip).find(|(_, c)| c.is_control() || matches!(c, '<' | '>' | '|' | '?'))
}

/// The extension of an image file name, without the dot (`ntoskrnl.exe` → `exe`), per R37.
pub fn extension(name: &str) -> Option<&str> {
    let base = basename(name);
    let (stem, ext) = base.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then_some(ext)
}

/// The part after the last `\` or `/` (R81).
pub fn basename(name: &str) -> &str {
    name.rsplit(['\\', '/']).next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `StreamHash::tail` is the same as feeding its bytes one at a time, after any number of bytes;
    /// so the hash of a key does not depend on how it is fed (R24).
    #[test]
    fn r24_stream_hash_tail_matches_bytes() {
        for lead in 0..16usize {
            for n in 0..8usize {
                let data: Vec<u8> = (0..lead + n).map(|i| (i as u8).wrapping_mul(37).wrapping_add(11)).collect();
                let (head, tail) = data.split_at(lead);
                let mut a = StreamHash::default();
                let mut b = StreamHash::default();
                for &x in &data {
                    a.byte(x);
                }
                head.iter().for_each(|&x| b.byte(x));
                let mut w = [0u8; 8];
                w[..n].copy_from_slice(tail);
                b.tail(u64::from_le_bytes(w), n as u32);
                assert_eq!(a.finish(), b.finish(), "lead {lead}, n {n}");
            }
        }
        // Whole keys: hashed eight bytes at a time with the overlapping last load, or byte by byte.
        for len in 0..40 {
            let path: String = (0..len).map(|i| if i % 5 == 4 { '/' } else { char::from(b'A' + (i % 26) as u8) }).collect();
            let mut words = StreamHash::default();
            hash_folded_ascii(path.as_bytes(), &mut words);
            let mut bytes = StreamHash::default();
            path.bytes().for_each(|b| bytes.byte(fold_ascii(b)));
            assert_eq!(words.finish(), bytes.finish(), "{path}");
        }
    }

    #[test]
    fn r13_forms() {
        assert_eq!(classify(r"C:\x", Host::Windows).0, DirForm::Absolute);
        assert_eq!(classify("C:/x", Host::Windows).0, DirForm::Absolute);
        assert_eq!(classify(r"\\server\share", Host::Windows).0, DirForm::Unc);
        assert_eq!(classify(r"\\?\C:\very\long", Host::Windows).0, DirForm::Absolute);
        assert_eq!(classify(r"\\?\UNC\server\share", Host::Windows).0, DirForm::Unc);
        assert_eq!(classify("/home/u", Host::Posix).0, DirForm::PosixAbsolute);
        assert_eq!(classify("/home/u", Host::Windows), (DirForm::Relative, Some(Relativity::DriveRooted)));
        assert_eq!(classify("C:sym", Host::Windows), (DirForm::Relative, Some(Relativity::DriveRelative)));
        assert_eq!(classify("sym", Host::Windows), (DirForm::Relative, Some(Relativity::CurrentDir)));
        assert_eq!(classify("", Host::Windows).0, DirForm::Relative);
    }

    #[test]
    fn compare_keys_ignore_case_separators_and_prefixes() {
        assert_eq!(compare_key(r"C:\Sym\"), compare_key("c:/sym"));
        assert_eq!(compare_key(r"\\?\C:\sym"), compare_key(r"C:\SYM"));
        assert_eq!(compare_key(r"C:\"), r"c:\");
    }

    /// The allocating comparison key the streamed [`CompareKey`] replaced: the oracle.
    fn oracle_key(path: &str) -> String {
        let mut out = String::new();
        let (extra, rest) = match classify(path, Host::Windows) {
            (DirForm::Unc, _)
                if path.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("\\\\?\\unc\\") || p.eq_ignore_ascii_case("//?/unc/")) =>
            {
                ("\\\\", path.get(8..).unwrap_or(""))
            }
            (DirForm::Absolute, _) if path.starts_with("\\\\?\\") || path.starts_with("//?/") => ("", path.get(4..).unwrap_or("")),
            _ => ("", path),
        };
        out.push_str(extra);
        for c in rest.chars() {
            match c {
                '/' => out.push('\\'),
                c => out.extend(c.to_lowercase()),
            }
        }
        while out.len() > 1 && out.ends_with('\\') && !out.ends_with(":\\") {
            out.pop();
        }
        out
    }

    fn hash(path: &str) -> u64 {
        let mut h = StreamHash::default();
        CompareKey::new(path).hash_into(&mut h);
        h.finish()
    }

    proptest::proptest! {
        /// R24: the streamed key is the allocating one; equal keys hash the same.
        #[test]
        fn streamed_compare_key_matches_the_oracle(
            a in "(\\\\\\?\\(UNC\\)?|//\\?/(unc/)?|[cC]:)?[a-zA-Z:/\\\\ .\u{212a}\u{e9}\u{c9}]{0,20}",
            b in "(\\\\\\?\\(UNC\\)?|//\\?/(unc/)?|[cC]:)?[a-zA-Z:/\\\\ .\u{212a}\u{e9}\u{c9}]{0,20}",
        ) {
            proptest::prop_assert_eq!(compare_key(&a), oracle_key(&a));
            let same = oracle_key(&a) == oracle_key(&b);
            proptest::prop_assert_eq!(CompareKey::new(&a).same(CompareKey::new(&b)), same);
            if same {
                proptest::prop_assert_eq!(hash(&a), hash(&b));
            }
        }
    }

    #[test]
    fn r24_streamed_keys_agree_on_edge_cases() {
        let cases = [
            r"\\?\UNC\",
            r"\\?\UNC\\\",
            r"\\?\C:\",
            "C:\\",
            "C:/",
            "/",
            "//",
            r"\\",
            "",
            "a/",
            "A\\\\",
            "\u{212a}:\\X",
            "k:/x",
            "ÉCOLE/Sub/",
            "école\\sub",
            r"\\?\unc\Server\Share\",
            r"\\server\share",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ/[\\]^_`{|}@",
            "abcdefghijklmnopqrstuvwxyz\\[\\]^_`{|}@",
        ];
        for a in cases {
            assert_eq!(compare_key(a), oracle_key(a), "{a:?}");
            for b in cases {
                let same = oracle_key(a) == oracle_key(b);
                assert_eq!(CompareKey::new(a).same(CompareKey::new(b)), same, "{a:?} {b:?}");
                if same {
                    assert_eq!(hash(a), hash(b), "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn join_never_doubles_separators() {
        assert_eq!(join(r"C:\sym\", ["a", "b"]), r"C:\sym\a\b");
        assert_eq!(join("/home/u/sym/", ["a"]), "/home/u/sym/a");
        assert_eq!(join(r"\\srv\share", ["a"]), r"\\srv\share\a");
    }

    #[test]
    fn r37_extension_and_r81_basename() {
        assert_eq!(extension("ntoskrnl.exe"), Some("exe"));
        assert_eq!(extension(r"C:\x\Flash.ocx"), Some("ocx"));
        assert_eq!(extension("noext"), None);
        assert_eq!(basename(r"C:\build\out\Foo.PDB"), "Foo.PDB");
        assert_eq!(basename("/home/ci/libfoo.pdb"), "libfoo.pdb");
    }
}
