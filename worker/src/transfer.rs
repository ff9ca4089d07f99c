//! How a body transfer failed, as the pump (`worker/js/pump.js`) tags it.
//!
//! The pump throws errors with a `code`; [`TransferError::from_code`] maps it
//! once (in `streams.rs`, the binding to the pump). Decisions are made on the
//! [`TransferKind`], never on message text, which is for people.

use std::fmt;

/// Why a transfer failed (the pump's `TransferCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    /// No data within the idle timeout (R95).
    Stalled,
    /// The whole transfer took longer than its overall deadline.
    Deadline,
    /// The body ended before its announced length.
    Short,
    /// The body ran past its announced length.
    Long,
    /// A body read whole is over its limit.
    TooLarge,
    /// The source failed (connection reset, runtime error).
    Reset,
    /// Every output went away, or a copy was abandoned.
    Aborted,
    /// Not a pump failure: the binding itself failed (an untagged error).
    Binding,
}

impl TransferKind {
    /// The kind of a pump error `code`; `None` for an unknown one.
    pub fn from_code(code: &str) -> Option<TransferKind> {
        Some(match code {
            "stalled" => TransferKind::Stalled,
            "deadline" => TransferKind::Deadline,
            "short" => TransferKind::Short,
            "long" => TransferKind::Long,
            "too_large" => TransferKind::TooLarge,
            "reset" => TransferKind::Reset,
            "aborted" => TransferKind::Aborted,
            _ => return None,
        })
    }
}

/// A failed transfer: its kind and the pump's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferError {
    /// What went wrong.
    pub kind: TransferKind,
    /// What went wrong, for a person.
    pub message: String,
}

impl TransferError {
    /// Maps a JS error's `code` (if any) and message: an untagged error or an
    /// unknown code is a [`TransferKind::Binding`] failure.
    pub fn from_code(code: Option<&str>, message: String) -> TransferError {
        let kind = code.and_then(TransferKind::from_code).unwrap_or(TransferKind::Binding);
        TransferError { kind, message }
    }
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transfer failed: {}", self.message)
    }
}

impl std::error::Error for TransferError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_pump_maps_to_its_kind() {
        // The codes of `TransferCode` in worker/js/pump.js.
        let pump = include_str!("../js/pump.js");
        for (code, kind) in [
            ("stalled", TransferKind::Stalled),
            ("deadline", TransferKind::Deadline),
            ("short", TransferKind::Short),
            ("long", TransferKind::Long),
            ("too_large", TransferKind::TooLarge),
            ("reset", TransferKind::Reset),
            ("aborted", TransferKind::Aborted),
        ] {
            assert_eq!(TransferKind::from_code(code), Some(kind));
            assert!(pump.contains(&format!("\"{code}\"")), "pump.js has no {code:?}");
        }
    }

    #[test]
    fn untagged_and_unknown_errors_are_binding_failures() {
        assert_eq!(TransferError::from_code(None, "x".into()).kind, TransferKind::Binding);
        assert_eq!(TransferError::from_code(Some("over"), "x".into()).kind, TransferKind::Binding);
        let e = TransferError::from_code(Some("stalled"), "upstream stalled: no data within 5 ms".into());
        assert_eq!(e.to_string(), "transfer failed: upstream stalled: no data within 5 ms");
    }
}
