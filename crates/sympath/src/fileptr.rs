//! `file.ptr` contents (spec R63–R65).

use serde::Serialize;

/// What a `file.ptr` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FilePtr {
    /// The file lives at this path or URL (`PATH:<location>` or a bare path).
    Path(String),
    /// The file is not available; the text is for the user (`MSG:<text>`).
    Message(String),
    /// Nothing usable (empty file).
    Empty,
}

/// Where a pointer target can be fetched from by an HTTP-only client (R64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum PtrTarget {
    /// An `http(s)://` URL.
    Url,
    /// A UNC share: not reachable from a browser or an edge worker.
    Unc,
    /// A local or relative path on the machine that wrote the store.
    Local,
}

impl FilePtr {
    /// Parses the bytes of a `file.ptr`: whitespace and CR/LF trimmed; `PATH:`
    /// keeps everything after the *first* colon (`PATH:C:\x` → `C:\x`);
    /// `MSG:` is a message, never a path; anything else is a bare path.
    /// Prefixes are matched case-insensitively. Invalid UTF-8 is replaced.
    pub fn parse(bytes: &[u8]) -> FilePtr {
        let text = String::from_utf8_lossy(bytes);
        let t = text.trim_start_matches('\u{feff}').trim();
        if t.is_empty() {
            return FilePtr::Empty;
        }
        let head = t.get(..4).unwrap_or("").to_ascii_uppercase();
        if head == "MSG:" {
            return FilePtr::Message(t.get(4..).unwrap_or("").trim().to_string());
        }
        let path = if head == "PATH" && t.get(4..5) == Some(":") { t.get(5..).unwrap_or("").trim() } else { t };
        if path.is_empty() {
            FilePtr::Empty
        } else {
            FilePtr::Path(path.to_string())
        }
    }

    /// For a `Path`, whether an HTTP-only client can follow it.
    pub fn target(&self) -> Option<PtrTarget> {
        let FilePtr::Path(p) = self else { return None };
        Some(if crate::url::is_http_url(p) {
            PtrTarget::Url
        } else if p.starts_with("\\\\") || p.starts_with("//") {
            PtrTarget::Unc
        } else {
            PtrTarget::Local
        })
    }
}

/// Whether a pointer target names a compressed file (`….pd_`, R61, R64): the
/// last character of its file name, before any query or fragment, is `_`.
pub fn names_compressed(target: &str) -> bool {
    let path = target.split(['?', '#']).next().unwrap_or("");
    path.rsplit(['/', '\\']).next().is_some_and(|f| f.len() > 1 && f.ends_with('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r63_prefixes() {
        assert_eq!(FilePtr::parse(b"PATH:C:\\builds\\a.pdb\r\n"), FilePtr::Path("C:\\builds\\a.pdb".into()));
        assert_eq!(FilePtr::parse(b"MSG: no longer indexed"), FilePtr::Message("no longer indexed".into()));
        assert_eq!(FilePtr::parse(b"\\\\mybuilds\\symbols\\x86\\acpi.dbg"), FilePtr::Path("\\\\mybuilds\\symbols\\x86\\acpi.dbg".into()));
        assert_eq!(FilePtr::parse(b"  \r\n"), FilePtr::Empty);
        assert_eq!(FilePtr::parse(b"path:https://h/a.pdb").target(), Some(PtrTarget::Url));
        assert_eq!(FilePtr::parse(b"\\\\s\\x").target(), Some(PtrTarget::Unc));
        assert_eq!(FilePtr::parse(b"MSG:x").target(), None);
        assert_eq!(FilePtr::parse(&[0xff, 0xfe]), FilePtr::Path("\u{fffd}\u{fffd}".into()));
    }
}
