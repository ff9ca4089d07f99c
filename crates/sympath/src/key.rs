//! Store keys: where a file lives inside a symbol store (spec §8–§11).
//!
//! A [`StoreKey`] is computed from a file kind, the recorded name and the
//! identity, and spelled in each layout: SymStore one-tier (R50, canonical
//! case R79), two-tier `index2.txt` (R52–R53), compressed `_` name (R61),
//! `file.ptr` (R63) and SSQP (R75–R76). [`RequestKey::parse`] is the inverse
//! for servers: it validates a request path against the key grammar (R83).

use serde::Serialize;

use crate::identity::{hex_lower, FileKind, Identity};
use crate::url::percent_decode_checked;
use crate::winpath::basename;

/// Longest file name accepted in a key, in bytes (R83).
pub const MAX_NAME_LEN: usize = 255;
/// Longest id segment accepted in a key, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// Why a key cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The name is empty, `.`/`..`, too long, or has control characters (R83).
    #[error("invalid file name {name:?}: {why}")]
    BadName {
        /// The name.
        name: String,
        /// Why.
        why: &'static str,
    },
    /// The identity does not fit the kind (e.g. a GUID for a PE image).
    #[error("a {kind} file is not identified by {identity}")]
    IdentityMismatch {
        /// The kind.
        kind: &'static str,
        /// What was given.
        identity: &'static str,
    },
    /// A build-id longer than 20 bytes (SSQP pads shorter ones, R75).
    #[error("build-id has {0} bytes; SSQP keys allow at most 20")]
    BuildIdTooLong(usize),
    /// An empty id value.
    #[error("empty {0}")]
    Empty(&'static str),
}

/// How a store arranges keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum StoreLayout {
    /// `<name>/<id>/<file>` (R50).
    OneTier,
    /// `<prefix>/<name>/<id>/<file>` when the store has `index2.txt` (R52).
    TwoTier,
    /// SSQP spelling: lower-case names and ids (R75–R76).
    Ssqp,
}

/// Which file inside a key directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The file itself.
    Plain,
    /// The CAB-compressed file, last character of the name replaced by `_` (R61).
    Compressed,
    /// `file.ptr`, pointing elsewhere (R63).
    FilePtr,
}

/// The key of one file: the segments shared by every layout.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct StoreKey {
    /// The kind of file.
    pub kind: FileKind,
    /// The name as recorded (basename; case kept), used by SymStore layouts.
    pub name: String,
    /// The id segment in SymStore spelling.
    pub id: String,
    /// An extra segment between id and file (`msfz0` for PDZ, R59).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<&'static str>,
    /// The SSQP key, if SSQP defines one for this kind.
    pub ssqp: Option<String>,
}

/// Checks a file name against R83 after reducing it to its basename (R81).
pub fn validate_name(recorded: &str) -> Result<&str, KeyError> {
    let name = basename(recorded.trim());
    let bad = |why| Err(KeyError::BadName { name: name.to_string(), why });
    if name.is_empty() {
        return bad("empty");
    }
    if name == "." || name == ".." {
        return bad("`.` and `..` would escape the key directory");
    }
    if name.len() > MAX_NAME_LEN {
        return bad("longer than 255 bytes");
    }
    if name.chars().any(char::is_control) {
        return bad("contains control characters");
    }
    if name.contains(['*', ';', '?', '#', '%', '"', '<', '>', '|', ':']) {
        return bad("contains a character that cannot be part of a file name in a store");
    }
    Ok(name)
}

fn pad_build_id(b: &[u8]) -> Result<String, KeyError> {
    if b.is_empty() {
        return Err(KeyError::Empty("build-id"));
    }
    if b.len() > 20 {
        return Err(KeyError::BuildIdTooLong(b.len()));
    }
    let mut v = b.to_vec();
    v.resize(20, 0);
    Ok(hex_lower(&v))
}

impl StoreKey {
    /// Computes the key of a file of `kind`, recorded as `name`, with `identity`.
    pub fn new(kind: FileKind, name: &str, identity: &Identity) -> Result<StoreKey, KeyError> {
        let name = validate_name(name)?;
        let lname = name.to_lowercase();
        let mismatch = |identity| Err(KeyError::IdentityMismatch { kind: kind.as_str(), identity });
        let simple = |name: &str, id: String, ssqp: Option<String>| StoreKey { kind, name: name.to_string(), id, container: None, ssqp };
        // SSQP-only kinds: the one-tier key is the SSQP key (lower-case names).
        let ssqp_only = |name: &str, id: String| {
            let key = format!("{name}/{id}/{name}");
            StoreKey { kind, name: name.to_string(), id, container: None, ssqp: Some(key) }
        };
        Ok(match (kind, identity) {
            (FileKind::Pdb, Identity::GuidAge { guid, age }) => {
                let id = format!("{}{:x}", guid.to_key_hex(), age);
                let ssqp = format!("{lname}/{}/{lname}", id.to_lowercase());
                simple(name, id, Some(ssqp))
            }
            (FileKind::PdzMsfz, Identity::GuidAge { guid, age }) => {
                let id = format!("{}{:x}", guid.to_key_hex(), age).to_lowercase();
                let ssqp = format!("{lname}/{id}/msfz0/{lname}");
                StoreKey { kind, name: lname.clone(), id, container: Some(MSFZ_CONTAINER), ssqp: Some(ssqp) }
            }
            (FileKind::Pdb20, Identity::SignatureAge { signature, age }) => simple(name, format!("{signature:08X}{age:x}"), None),
            (FileKind::Pe, Identity::TimestampSize { timestamp, size_of_image }) => {
                let id = format!("{timestamp:08X}{size_of_image:x}");
                let ssqp = format!("{lname}/{id}/{lname}");
                simple(name, id, Some(ssqp))
            }
            (FileKind::Dbg, Identity::TimestampSize { timestamp, size_of_image }) => {
                simple(name, format!("{timestamp:08X}{size_of_image:x}"), None)
            }
            (FileKind::ClrSpecialPe, Identity::TimestampSize { timestamp, size_of_image }) => {
                ssqp_only(&lname, format!("{timestamp:08X}{size_of_image:x}"))
            }
            (FileKind::PortablePdb, Identity::PortableGuid { guid }) => {
                let id = format!("{}FFFFFFFF", guid.to_key_hex());
                let ssqp = format!("{lname}/{}FFFFFFFF/{lname}", guid.to_key_hex().to_lowercase());
                simple(name, id, Some(ssqp))
            }
            (FileKind::ElfCode, Identity::BuildId { build_id }) => ssqp_only(&lname, format!("elf-buildid-{}", pad_build_id(build_id)?)),
            (FileKind::ElfDebug, Identity::BuildId { build_id }) => {
                ssqp_only("_.debug", format!("elf-buildid-sym-{}", pad_build_id(build_id)?))
            }
            (FileKind::Wasm, Identity::BuildId { build_id }) if !build_id.is_empty() => ssqp_only(&lname, hex_lower(build_id)),
            (FileKind::MachoCode, Identity::Uuid { uuid }) => ssqp_only(&lname, format!("mach-uuid-{}", hex_lower(uuid))),
            (FileKind::MachoDsym, Identity::Uuid { uuid }) => ssqp_only("_.dwarf", format!("mach-uuid-sym-{}", hex_lower(uuid))),
            (FileKind::Sha1Source, Identity::Sha1 { sha1 }) => ssqp_only(&lname, format!("sha1-{}", hex_lower(sha1))),
            (FileKind::R2rPerfmap, Identity::Perfmap { version, signature }) if !signature.is_empty() => {
                ssqp_only(&lname, format!("r2rmap-v{version}-{}", hex_lower(signature)))
            }
            (_, Identity::GuidAge { .. }) => return mismatch("a GUID and age"),
            (_, Identity::SignatureAge { .. }) => return mismatch("a signature and age"),
            (_, Identity::TimestampSize { .. }) => return mismatch("a timestamp and SizeOfImage"),
            (_, Identity::PortableGuid { .. }) => return mismatch("a portable PDB id"),
            (_, Identity::BuildId { .. }) => return mismatch("a build-id"),
            (_, Identity::Uuid { .. }) => return mismatch("a UUID"),
            (_, Identity::Sha1 { .. }) => return mismatch("a SHA-1"),
            (_, Identity::Perfmap { .. }) => return mismatch("a perfmap signature"),
        })
    }

    /// The file name stored for `variant`: the name, its compressed form, or `file.ptr`.
    /// `None` for a compressed variant of a kind that has none.
    pub fn file_name(&self, variant: Variant) -> Option<String> {
        match variant {
            Variant::Plain => Some(self.name.clone()),
            Variant::FilePtr => Some("file.ptr".to_string()),
            Variant::Compressed => self.kind.is_symstore().then(|| compressed_name(&self.name)),
        }
    }

    /// The key's path segments in `layout` for `variant`; `None` where the
    /// layout or variant does not exist for this kind.
    pub fn segments(&self, layout: StoreLayout, variant: Variant) -> Option<Vec<String>> {
        if layout == StoreLayout::Ssqp {
            if variant != Variant::Plain {
                return None;
            }
            return self.ssqp.as_ref().map(|k| k.split('/').map(str::to_string).collect());
        }
        let file = self.file_name(variant)?;
        let mut segs = Vec::with_capacity(5);
        if layout == StoreLayout::TwoTier {
            segs.push(two_tier_prefix(&self.name)?);
        }
        segs.push(self.name.clone());
        segs.push(self.id.clone());
        if let Some(c) = self.container {
            segs.push(c.to_string());
        }
        segs.push(file);
        Some(segs)
    }

    /// The key as a `/`-separated relative path.
    pub fn path(&self, layout: StoreLayout, variant: Variant) -> Option<String> {
        self.segments(layout, variant).map(|s| s.join("/"))
    }

    /// The one-tier key (R50; for SSQP-only kinds, the SSQP key).
    pub fn one_tier(&self) -> String {
        self.path(StoreLayout::OneTier, Variant::Plain).unwrap_or_default()
    }

    /// The two-tier key (R52); `None` for names whose prefix would be `.` (R83).
    pub fn two_tier(&self) -> Option<String> {
        self.path(StoreLayout::TwoTier, Variant::Plain)
    }

    /// The compressed key (R61), for SymStore kinds.
    pub fn compressed(&self) -> Option<String> {
        self.path(StoreLayout::OneTier, Variant::Compressed)
    }
}

impl StoreKey {
    /// The key a server was asked for (`name/id/file`, validated by
    /// [`RequestKey::parse`]), with the variant asked for; `None` for
    /// `index2.txt`. A request names no kind: a `.pdb` name is a PDB (an
    /// `msfz0` container a PDZ), anything else is keyed like an image,
    /// which has the same three variants (R50, R61, R63).
    pub fn from_request(request: &RequestKey) -> Option<(StoreKey, Variant)> {
        let RequestKey::File { name, id, container, variant, .. } = request else { return None };
        let pdb = crate::winpath::extension(name).is_some_and(|e| e.eq_ignore_ascii_case("pdb"));
        let (kind, container) = match container {
            Some(_) => (FileKind::PdzMsfz, Some(MSFZ_CONTAINER)),
            None if pdb => (FileKind::Pdb, None),
            None => (FileKind::Pe, None),
        };
        Some((StoreKey { kind, name: name.clone(), id: id.clone(), container, ssqp: None }, *variant))
    }
}

/// The container segment of a PDZ key (R59).
pub const MSFZ_CONTAINER: &str = "msfz0";

/// The compressed file name: the last character replaced by `_` (R61).
pub fn compressed_name(name: &str) -> String {
    let mut s = name.to_string();
    s.pop();
    s.push('_');
    s
}

/// The two-tier directory: the first two characters of the name, or only the
/// first when the second is `.` or the name has one character (R53, as symbolicator).
/// `None` when that would be `.` (a name starting with `..`): such a segment
/// would not stay inside the store (R83).
pub fn two_tier_prefix(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first = chars.next()?;
    let prefix = match chars.next() {
        Some(c) if c != '.' && c != '/' => format!("{first}{c}"),
        _ => first.to_string(),
    };
    (prefix != "." && prefix != "..").then_some(prefix)
}

/// What a request path into a store asks for (the inverse of [`StoreKey::segments`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RequestKey {
    /// `index2.txt` at the store root (R54).
    Index2,
    /// A file in a key directory.
    File {
        /// Two-tier prefix, if the path had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        /// The name segment.
        name: String,
        /// The id segment.
        id: String,
        /// `msfz0` or another container segment.
        #[serde(skip_serializing_if = "Option::is_none")]
        container: Option<String>,
        /// The last segment as requested.
        file: String,
        /// Which variant the last segment is.
        variant: Variant,
    },
}

/// Why a request path is not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum RequestError {
    /// `..`, `.`, encoded separators, backslashes or absolute URLs.
    #[error("path traversal or a separator inside a segment is not allowed")]
    Traversal,
    /// Control characters, `%00`, invalid percent-encoding or non-UTF-8.
    #[error("invalid characters in the key")]
    BadChars,
    /// Too long overall or per segment.
    #[error("key too long")]
    TooLong,
    /// Not `name/id/file` (optionally with a two-tier prefix or a container).
    #[error("not a symbol-store key: expected <name>/<id>/<file>")]
    Shape,
    /// The last segment is not the name, its compressed form or `file.ptr`.
    #[error("the file segment must be the name, its compressed form or file.ptr")]
    FileMismatch,
}

/// Longest request path accepted, in bytes (after the store prefix).
pub const MAX_REQUEST_LEN: usize = 1024;

impl RequestKey {
    /// Validates a request path relative to the store root (no leading `/`),
    /// still percent-encoded as it came off the wire.
    pub fn parse(raw: &str) -> Result<RequestKey, RequestError> {
        if raw.len() > MAX_REQUEST_LEN {
            return Err(RequestError::TooLong);
        }
        if raw.contains('\\') || raw.contains("://") || raw.starts_with('/') || raw.contains("//") {
            return Err(RequestError::Traversal);
        }
        let mut segs = Vec::with_capacity(5);
        for enc in raw.split('/') {
            let lower = enc.to_ascii_lowercase();
            if lower.contains("%2f") || lower.contains("%5c") || lower.contains("%00") {
                return Err(RequestError::Traversal);
            }
            let seg = percent_decode_checked(enc).ok_or(RequestError::BadChars)?;
            if seg == "." || seg == ".." || seg.is_empty() {
                return Err(RequestError::Traversal);
            }
            if seg.chars().any(char::is_control) {
                return Err(RequestError::BadChars);
            }
            if seg.len() > MAX_NAME_LEN {
                return Err(RequestError::TooLong);
            }
            segs.push(seg);
        }
        if let [only] = segs.as_slice() {
            if only.eq_ignore_ascii_case("index2.txt") {
                return Ok(RequestKey::Index2);
            }
        }
        let (prefix, name, id, container, file) = match segs.as_slice() {
            [n, i, f] => (None, n, i, None, f),
            [p, n, i, f] if two_tier_prefix(n).as_ref() == Some(p) => (Some(p.clone()), n, i, None, f),
            [n, i, c, f] if c.eq_ignore_ascii_case("msfz0") => (None, n, i, Some(c.clone()), f),
            _ => return Err(RequestError::Shape),
        };
        validate_name(name).map_err(|_| RequestError::BadChars)?;
        if name.contains('/') || basename(name) != name {
            return Err(RequestError::Traversal);
        }
        if id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(RequestError::Shape);
        }
        let variant = if file.eq_ignore_ascii_case(name) {
            Variant::Plain
        } else if file.eq_ignore_ascii_case("file.ptr") {
            Variant::FilePtr
        } else if file.eq_ignore_ascii_case(&compressed_name(name)) {
            Variant::Compressed
        } else {
            return Err(RequestError::FileMismatch);
        };
        Ok(RequestKey::File { prefix, name: name.clone(), id: id.clone(), container, file: file.clone(), variant })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Guid;

    fn pdb(name: &str, guid: &str, age: u32) -> StoreKey {
        StoreKey::new(FileKind::Pdb, name, &Identity::GuidAge { guid: guid.parse::<Guid>().unwrap(), age }).unwrap()
    }

    #[test]
    fn r70_r61_r52_pdb_key_layouts() {
        let k = pdb("ntdll.pdb", "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE", 2);
        assert_eq!(k.one_tier(), "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb");
        assert_eq!(k.two_tier().unwrap(), "nt/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb");
        // Found by fuzzing: a name starting with `..` has no safe two-tier directory (R83).
        assert_eq!(pdb("..x.pdb", "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE", 2).two_tier(), None);
        assert_eq!(k.compressed().unwrap(), "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pd_");
        assert_eq!(k.path(StoreLayout::OneTier, Variant::FilePtr).unwrap(), "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/file.ptr");
    }

    #[test]
    fn r83_names_that_would_escape_are_rejected() {
        let id = Identity::GuidAge { guid: Guid::from_le_bytes([1; 16]), age: 1 };
        assert!(StoreKey::new(FileKind::Pdb, "..", &id).is_err());
        assert!(StoreKey::new(FileKind::Pdb, "", &id).is_err());
        assert!(StoreKey::new(FileKind::Pdb, "a\u{1}.pdb", &id).is_err());
        assert!(StoreKey::new(FileKind::Pdb, &"a".repeat(300), &id).is_err());
        // R81: a recorded path is reduced to its basename.
        assert_eq!(StoreKey::new(FileKind::Pdb, r"C:\..\x\a.pdb", &id).unwrap().name, "a.pdb");
        assert!(StoreKey::new(FileKind::Pe, "a.dll", &id).is_err());
    }

    #[test]
    fn r83_request_paths() {
        let ok = RequestKey::parse("ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pd_").unwrap();
        assert!(matches!(ok, RequestKey::File { variant: Variant::Compressed, .. }));
        assert!(matches!(RequestKey::parse("nt/ntdll.pdb/ABC1/ntdll.pdb"), Ok(RequestKey::File { prefix: Some(_), .. })));
        assert!(matches!(RequestKey::parse("a.pdb/ABC1/msfz0/a.pdb"), Ok(RequestKey::File { container: Some(_), .. })));
        assert_eq!(RequestKey::parse("index2.txt"), Ok(RequestKey::Index2));
        assert!(matches!(RequestKey::parse("a.pdb/ABC1/file.ptr"), Ok(RequestKey::File { variant: Variant::FilePtr, .. })));
        for bad in [
            "../etc/passwd/x",
            "a.pdb/%2e%2e/a.pdb",
            "a.pdb/..%2fx/a.pdb",
            "a.pdb/ABC1/b.pdb",
            "a.pdb\\ABC1\\a.pdb",
            "https://evil/a.pdb/1/a.pdb",
            "a.pdb/AB%00C1/a.pdb",
            "a.pdb/ABC1",
            "a.pdb//ABC1/a.pdb",
            "a.pdb/AB C1/a.pdb",
            "a%01.pdb/ABC1/a%01.pdb",
        ] {
            assert!(RequestKey::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(RequestKey::parse(&"a/".repeat(600)), Err(RequestError::TooLong));
    }
}
