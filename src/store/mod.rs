//! One store per file format: text to tree (with spans) and back.
//!
//! Every store offers the same four things, used by the pipeline in `document.rs`:
//!
//! * **parse**: text to [`Parsed`]: the documents, each leaf carrying its [`Span`], and,
//!   for an encrypted file, the `sops` metadata as a plain [`Node`] plus the byte ranges
//!   that hold it (so decryption can cut it out).
//! * **token rendering**: the text that replaces a leaf's span when its value changes,
//!   in the leaf's own style (an `ENC[...]` string when encrypting, the clear value when
//!   decrypting).
//! * **metadata insertion**: the `sops` block added to the user's text.
//! * **fresh emission**: a whole file written from a tree with no spans (format
//!   conversion, `--extract`), in the layout sops itself writes.
//!
//! Splicing ([`apply_edits`]) is shared: a store only says *what* to put *where*.

pub mod json;

use std::ops::Range;

use crate::tree::{Document, Node};

/// The result of parsing a file.
#[derive(Debug, Default)]
pub struct Parsed {
    pub docs: Vec<Document>,
    /// The `sops` metadata, if the file has it.
    pub metadata: Option<FoundMetadata>,
}

/// The `sops` metadata found in a file.
#[derive(Debug)]
pub struct FoundMetadata {
    /// The metadata value (a map), from the first document for YAML.
    pub tree: Node,
    /// Byte ranges that hold the metadata in every document, sorted and disjoint.
    /// Cutting them out gives the text without metadata.
    pub ranges: Vec<Range<usize>>,
}

/// One replacement of a byte range by new text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

impl Edit {
    pub fn new(range: Range<usize>, text: impl Into<String>) -> Self {
        Edit {
            range,
            text: text.into(),
        }
    }
}

/// Applies edits to `source`. Edits are sorted by position here; they must not overlap
/// (an insertion, `a..a`, may touch a neighbour).
pub fn apply_edits(source: &str, edits: &mut [Edit]) -> String {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let added: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(source.len() + added);
    let mut at = 0;
    for edit in edits.iter() {
        debug_assert!(edit.range.start >= at, "overlapping edits");
        out.push_str(&source[at..edit.range.start]);
        out.push_str(&edit.text);
        at = edit.range.end;
    }
    out.push_str(&source[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_position_order() {
        let mut edits = vec![Edit::new(6..11, "there"), Edit::new(0..5, "HELLO")];
        assert_eq!(apply_edits("hello world!", &mut edits), "HELLO there!");
    }

    #[test]
    fn insertions_and_deletions() {
        let mut edits = vec![Edit::new(5..5, ","), Edit::new(11..12, "")];
        assert_eq!(apply_edits("hello world!", &mut edits), "hello, world");
    }
}
