//! Layout hints: the user's own spelling of values that sops's encoding cannot carry.
//!
//! sops stores each value as typed plaintext: `0x1F` becomes int `31`, `1.50` becomes
//! float `1.5`, `"caf\u00e9"` becomes the string `café`. Decrypting can only write the
//! canonical form back. To give back the user's exact bytes, sealant records the original
//! token of each value whose canonical form differs, encrypts the list with the file's
//! data key, and stores it in the metadata field [`FIELD`] (sops ignores unknown fields).
//!
//! A hint is keyed by the value's position in walk order and carries a digest of the
//! value's AAD, type and plaintext: it is applied only to that same value, so a hint can
//! never change what a value means, only how it is spelled.

use std::collections::HashMap;

use crate::engine::ValueId;

/// The metadata field holding the encrypted hints.
pub const FIELD: &str = "sealant_layout";
/// The AAD the hints are encrypted with.
pub const AAD: &str = "sealant_layout:";

#[derive(Default)]
pub struct LayoutHints {
    by_position: HashMap<usize, (ValueId, String)>,
}

impl std::fmt::Debug for LayoutHints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LayoutHints(<{} hints>)", self.by_position.len())
    }
}

impl LayoutHints {
    pub fn insert(&mut self, position: usize, id: ValueId, original: String) {
        self.by_position.insert(position, (id, original));
    }

    /// The original spelling of the value at `position`, if it is the same value (`id`
    /// is computed only when there is a hint to check).
    pub fn take(&mut self, position: usize, id: impl FnOnce() -> ValueId) -> Option<String> {
        match self.by_position.remove(&position) {
            Some((hint_id, text)) if hint_id == id() => Some(text),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_position.is_empty()
    }

    /// One hint per line: position, id in hex, the text with `\`, CR and LF escaped.
    pub fn serialize(&self) -> String {
        let mut positions: Vec<_> = self.by_position.keys().copied().collect();
        positions.sort_unstable();
        let mut out = String::new();
        for p in positions {
            let (id, text) = &self.by_position[&p];
            out.push_str(&format!("{p} {} ", hex::encode(id)));
            for c in text.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('\n');
        }
        out
    }

    /// Reads hints; malformed lines are skipped (hints only ever change spelling).
    pub fn parse(text: &str) -> LayoutHints {
        let mut hints = LayoutHints::default();
        for line in text.lines() {
            let mut parts = line.splitn(3, ' ');
            let (Some(p), Some(id), Some(t)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let (Ok(p), Ok(id_bytes)) = (p.parse::<usize>(), hex::decode(id)) else {
                continue;
            };
            let Ok(id) = ValueId::try_from(id_bytes.as_slice()) else {
                continue;
            };
            let mut orig = String::with_capacity(t.len());
            let mut chars = t.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some('n') => orig.push('\n'),
                        Some('r') => orig.push('\r'),
                        Some(other) => orig.push(other),
                        None => {}
                    }
                } else {
                    orig.push(c);
                }
            }
            hints.insert(p, id, orig);
        }
        hints
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialize_and_parse_round_trip() {
        let mut h = LayoutHints::default();
        h.insert(3, [1; 8], "0x1F".into());
        h.insert(0, [2; 8], "|\n  a\\b\r\n".into());
        let mut back = LayoutHints::parse(&h.serialize());
        assert_eq!(back.take(0, || [2; 8]).as_deref(), Some("|\n  a\\b\r\n"));
        assert_eq!(
            back.take(3, || [9; 8]),
            None,
            "a hint applies only to its own value"
        );
        assert!(back.is_empty());
    }

    #[test]
    fn debug_hides_the_text() {
        let mut h = LayoutHints::default();
        h.insert(0, [0; 8], "hunter2".into());
        assert!(!format!("{h:?}").contains("hunter2"));
    }
}
