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
    /// Stretches of the encrypted text that stand for something else in the clear text
    /// (an alias written out as its encrypted copy).
    pub regions: Vec<Region>,
}

/// A stretch of the encrypted text (without its metadata) that decrypts back to
/// `original` if it is still exactly the text sealant wrote (checked by `digest`).
#[derive(Clone, PartialEq, Eq)]
pub struct Region {
    /// Byte offset in the encrypted text with the metadata blocks cut out.
    pub offset: usize,
    pub len: usize,
    /// SHA-256 of the encrypted text of the region.
    pub digest: [u8; 32],
    pub original: String,
}

/// SHA-256 of a region's text.
pub fn region_digest(text: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).into()
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn unescape(text: &str) -> String {
    let mut orig = String::with_capacity(text.len());
    let mut chars = text.chars();
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
    orig
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
        self.by_position.is_empty() && self.regions.is_empty()
    }

    /// One hint per line: position, id in hex, the text with `\`, CR and LF escaped;
    /// regions as `R offset length digest text`.
    pub fn serialize(&self) -> String {
        let mut positions: Vec<_> = self.by_position.keys().copied().collect();
        positions.sort_unstable();
        let mut out = String::new();
        for p in positions {
            let (id, text) = &self.by_position[&p];
            out.push_str(&format!("{p} {} ", hex::encode(id)));
            escape(text, &mut out);
            out.push('\n');
        }
        for r in &self.regions {
            out.push_str(&format!(
                "R {} {} {} ",
                r.offset,
                r.len,
                hex::encode(r.digest)
            ));
            escape(&r.original, &mut out);
            out.push('\n');
        }
        out
    }

    /// Reads hints; malformed lines are skipped (hints only ever change spelling).
    pub fn parse(text: &str) -> LayoutHints {
        let mut hints = LayoutHints::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("R ") {
                let mut parts = rest.splitn(4, ' ');
                let (Some(o), Some(l), Some(d), Some(t)) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let (Ok(offset), Ok(len), Ok(d)) = (o.parse(), l.parse(), hex::decode(d)) else {
                    continue;
                };
                let Ok(digest) = <[u8; 32]>::try_from(d.as_slice()) else {
                    continue;
                };
                hints.regions.push(Region {
                    offset,
                    len,
                    digest,
                    original: unescape(t),
                });
                continue;
            }
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
            hints.insert(p, id, unescape(t));
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
        h.regions.push(Region {
            offset: 7,
            len: 3,
            digest: region_digest("abc"),
            original: "*anchor".into(),
        });
        let mut back = LayoutHints::parse(&h.serialize());
        assert_eq!(back.regions.len(), 1);
        assert_eq!(back.regions[0].original, "*anchor");
        assert_eq!(back.regions[0].digest, region_digest("abc"));
        back.regions.clear();
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
