//! The binary store (spec §9.5): any file whose type sops does not recognize. The whole
//! content, any bytes, is one string value `data`; encrypted, it is sops's JSON envelope
//! `{"data": "ENC[...]", "sops": {...}}` (read back by the JSON store). Decrypted, the
//! bytes of `data` are written exactly, with no newline added.

use super::{Edit, Edits, Layout, Parsed, TextLayout};
use crate::error::{Error, Result};
use crate::tree::{Document, Item, Leaf, Node, Scalar, Span};

/// The key sops stores a binary file's content under.
pub const DATA_KEY: &str = "data";

/// A clear binary file as sops's tree: `{data: <the bytes>}`.
pub fn parse_plain(input: &[u8]) -> (Parsed, Layout) {
    parse_plain_owned(input.to_vec())
}

/// [`parse_plain`], the bytes moved into the tree.
pub fn parse_plain_owned(input: Vec<u8>) -> (Parsed, Layout) {
    let value = match String::from_utf8(input) {
        Ok(text) => Scalar::Str(text),
        Err(e) => Scalar::Bytes(e.into_bytes()),
    };
    let doc = Document {
        items: vec![Item::Entry {
            key: DATA_KEY.into(),
            value: Node::Scalar(Leaf::new(value)),
        }],
    };
    let parsed = Parsed {
        docs: vec![doc],
        metadata: None,
    };
    (parsed, Box::new(BinaryLayout))
}

/// The clear bytes of a decrypted tree: its top-level string `data`.
pub fn emit_plain(doc: &Document) -> Result<Vec<u8>> {
    let data = doc.items.iter().find_map(|item| match item {
        Item::Entry { key, value } if key == DATA_KEY => Some(value),
        _ => None,
    });
    match data {
        Some(Node::Scalar(leaf)) => match &leaf.value {
            Scalar::Str(s) => Ok(s.clone().into_bytes()),
            Scalar::Bytes(b) => Ok(b.clone()),
            _ => Err(no_data("its top-level `data` is not a string")),
        },
        Some(_) => Err(no_data("its top-level `data` is not a string")),
        None => Err(no_data("it has no top-level `data` key")),
    }
}

fn no_data(why: &str) -> Error {
    Error::Emit {
        format: "binary",
        why: format!(
            "{why}, so it is not an encrypted binary file; use --output-type yaml or json \
             to see its content"
        ),
    }
}

/// A clear binary file has no text layout: it is always written afresh.
#[derive(Debug)]
struct BinaryLayout;

impl TextLayout for BinaryLayout {
    fn can_splice(&self) -> bool {
        false
    }
    fn encrypted_value(&self, _: &str, _: &Span, _: &str, _: &mut Edits) {}
    fn clear_value(&self, _: &str, _: &Span, _: &Scalar, _: &mut Edits) -> Result<()> {
        Err(Error::Internal("a binary file is never spliced"))
    }
    fn decrypted_form(&self, _: &str, _: &Span, _: &Scalar) -> Option<String> {
        None
    }
    fn insert_metadata(&self, _: &str, _: &Node) -> Result<Vec<Edit>> {
        Err(Error::Internal("a binary file is never spliced"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_round_trip_through_the_tree() {
        for input in [&b""[..], b"text\n", b"\x00\xff\xfe bytes", b"caf\xc3\xa9"] {
            let (parsed, layout) = parse_plain(input);
            assert!(!layout.can_splice());
            assert_eq!(emit_plain(&parsed.docs[0]).unwrap(), input);
        }
    }

    #[test]
    fn a_tree_without_string_data_is_refused_with_a_hint() {
        let doc = Document {
            items: vec![Item::Entry {
                key: "other".into(),
                value: Node::Scalar(Leaf::new(Scalar::Str("x".into()))),
            }],
        };
        let err = emit_plain(&doc).unwrap_err();
        assert_eq!(err.exit_code(), 4);
        assert!(err.to_string().contains("--output-type"));
    }
}
