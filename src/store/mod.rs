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

pub mod hints;
pub mod json;
pub mod yaml;

use std::ops::Range;
use std::path::Path;

use crate::engine::{Splice, ValueRef};
use crate::error::{Error, Result};
use crate::tree::{Document, Node, Scalar, Span};
use hints::LayoutHints;

/// A file format sealant reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// The format named by `--input-type` / `--output-type`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "yaml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The format sops infers from a file name (case-sensitive extension).
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Some(Format::Yaml),
            Some("json") => Some(Format::Json),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }
}

/// What a store remembers about the layout of the text it parsed.
#[derive(Debug)]
pub enum Layout {
    Yaml(yaml::YamlLayout),
    Json(json::TopLayout),
}

impl Layout {
    /// Whether values can be spliced into this text. Not when YAML aliases copy values
    /// (sops expands them, so each copy needs its own ciphertext) or when a document's
    /// top level is a flow mapping (no `sops:` block can follow it): such files are
    /// written afresh, in sops's layout.
    pub fn can_splice(&self) -> bool {
        match self {
            Layout::Yaml(l) => l.can_splice(),
            Layout::Json(_) => true,
        }
    }
}

/// Parses `text` in `format`. `file` names the input in messages.
pub fn parse(format: Format, text: &str, file: &str) -> Result<(Parsed, Layout)> {
    match format {
        Format::Yaml => yaml::parse(text, file).map(|(p, l)| (p, Layout::Yaml(l))),
        Format::Json => json::parse_with_layout(text, file).map(|(p, l)| (p, Layout::Json(l))),
    }
}

/// Writes documents from scratch, in the layout sops writes (format conversion).
pub fn emit(format: Format, docs: &[Document], metadata: Option<&Node>) -> Result<String> {
    match format {
        Format::Yaml => match metadata {
            None => Ok(crate::yaml_fmt::emit::emit_documents(docs, 4)),
            Some(meta) => {
                // The sops block goes into every document (a conversion: rare, small).
                let mut docs = docs.to_vec();
                for doc in &mut docs {
                    doc.items.push(crate::tree::Item::Entry {
                        key: "sops".into(),
                        value: meta.clone(),
                    });
                }
                Ok(crate::yaml_fmt::emit::emit_documents(&docs, 4))
            }
        },
        Format::Json => {
            if docs.len() > 1 {
                return Err(Error::Emit {
                    format: "json",
                    why: "the input has several documents; JSON holds one".into(),
                });
            }
            let empty = Document::default();
            json::emit(docs.first().unwrap_or(&empty), metadata, json::Indent::Tab)
        }
    }
}

/// Writes one value (for `--extract`): a string as its raw text, anything else in the
/// output format.
pub fn emit_value(format: Format, node: &Node) -> Result<String> {
    if let Node::Scalar(leaf) = node {
        if let Scalar::Str(s) = &leaf.value {
            return Ok(s.clone());
        }
    }
    match format {
        Format::Yaml => Ok(crate::yaml_fmt::emit::emit_node(node, 4)),
        Format::Json => json::emit_node(node, json::Indent::Tab),
    }
}

/// Turns the walk's changes into text edits, in the store's style.
pub struct TextSplice<'a> {
    text: &'a str,
    layout: &'a Layout,
    pub edits: Vec<Edit>,
    /// The first value that could not be written in this format.
    pub error: Option<Error>,
    /// Position of the next value in walk order, the key of layout hints.
    ordinal: usize,
    /// Encrypting: the user's spelling of values whose clear form would come back
    /// different. Decrypting: the hints to apply.
    pub hints: LayoutHints,
}

impl<'a> TextSplice<'a> {
    pub fn new(text: &'a str, layout: &'a Layout) -> Self {
        TextSplice {
            text,
            layout,
            edits: Vec::new(),
            error: None,
            ordinal: 0,
            hints: LayoutHints::default(),
        }
    }

    /// The clear text a decryption would write for `value` at `span` (after the value
    /// was encrypted in place), or `None` when that cannot be predicted.
    fn decrypted_form(&self, span: &Span, value: &Scalar) -> Option<String> {
        match self.layout {
            Layout::Yaml(l) => l.decrypted_form(span, value),
            Layout::Json(_) => json::render_value(value).ok(),
        }
    }

    /// After an encrypting walk: writes each alias whose copy holds ciphertexts as that
    /// encrypted copy (YAML), and records region hints so decryption restores the alias.
    pub fn add_alias_copies(&mut self, docs: &[Document]) -> Result<()> {
        let Layout::Yaml(l) = self.layout else {
            return Ok(());
        };
        // Alias copies written in place of their alias: edit start -> the alias text.
        let mut copies = std::collections::HashMap::new();
        for (edit, original) in l.alias_edits(self.text, docs)? {
            copies.insert(edit.range.start, original);
            self.edits.push(edit);
        }
        if copies.is_empty() {
            return Ok(());
        }
        // Where each copy lands in the encrypted text (before metadata is added).
        self.edits.sort_by_key(|e| (e.range.start, e.range.end));
        let mut delta: isize = 0;
        for e in &self.edits {
            if let Some(original) = copies.remove(&e.range.start) {
                self.hints.regions.push(hints::Region {
                    offset: (e.range.start as isize + delta) as usize,
                    len: e.text.len(),
                    digest: hints::region_digest(&e.text),
                    original,
                });
            }
            delta += e.text.len() as isize - e.range.len() as isize;
        }
        Ok(())
    }

    /// The encrypted text: edits applied, metadata added.
    pub fn finish_encrypted(mut self, metadata: &Node) -> Result<String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        match self.layout {
            Layout::Yaml(l) => {
                let inserts = l
                    .insert_metadata(self.text, metadata)
                    .ok_or(Error::Internal(
                        "the sops block cannot be added to this layout",
                    ))?;
                self.edits.extend(inserts);
                apply_edits(self.text, &mut self.edits)
            }
            Layout::Json(top) => {
                self.edits
                    .push(json::metadata_insertion_with(self.text, top, metadata)?);
                apply_edits(self.text, &mut self.edits)
            }
        }
    }

    /// The clear text: edits applied, metadata cut out. Also says whether any alias was
    /// restored from a region hint (the caller then checks the text's meaning).
    pub fn finish_decrypted(mut self, metadata: &FoundMetadata) -> Result<(String, bool)> {
        if let Some(e) = self.error {
            return Err(e);
        }
        // Alias copies that are still exactly as written go back to their alias.
        let mut restored = false;
        for region in std::mem::take(&mut self.hints.regions) {
            let mut at = region.offset;
            for m in &metadata.ranges {
                if m.start <= at {
                    at += m.len();
                }
            }
            let range = at..at + region.len;
            let intact = self
                .text
                .get(range.clone())
                .is_some_and(|t| hints::region_digest(t) == region.digest);
            if intact {
                self.edits
                    .retain(|e| e.range.end <= range.start || e.range.start >= range.end);
                self.edits.push(Edit::new(range, region.original));
                restored = true;
            }
        }
        self.edits
            .extend(metadata.ranges.iter().map(|r| Edit::new(r.clone(), "")));
        Ok((apply_edits(self.text, &mut self.edits)?, restored))
    }
}

impl Splice for TextSplice<'_> {
    fn encrypted_value(&mut self, span: &Span, enc: &str, clear: &Scalar, id: ValueRef<'_>) {
        let original = &self.text[span.bytes.clone()];
        if let Some(form) = self.decrypted_form(span, clear) {
            if form != original {
                self.hints
                    .insert(self.ordinal, id.id(), original.to_string());
            }
        }
        self.ordinal += 1;
        match self.layout {
            Layout::Yaml(l) => l.encrypted_value(self.text, span, enc, &mut self.edits),
            Layout::Json(_) => self
                .edits
                .push(Edit::new(span.bytes.clone(), json::render_encrypted(enc))),
        }
    }

    fn clear_value(&mut self, span: &Span, value: &Scalar, id: ValueRef<'_>) {
        let ordinal = self.ordinal;
        self.ordinal += 1;
        if let Some(original) = self.hints.take(ordinal, || id.id()) {
            self.edits.push(Edit::new(span.bytes.clone(), original));
            return;
        }
        match self.layout {
            Layout::Yaml(l) => l.clear_value(self.text, span, value, &mut self.edits),
            Layout::Json(_) => match json::render_value(value) {
                Ok(text) => self.edits.push(Edit::new(span.bytes.clone(), text)),
                Err(e) => {
                    self.error.get_or_insert(e);
                }
            },
        }
    }

    fn comment(&mut self, span: &Span, text: &str) {
        if let Layout::Yaml(l) = self.layout {
            l.comment(span, text, &mut self.edits);
        }
    }

    fn list_element_comment(&mut self, span: &Span, text: &str) {
        if let Layout::Yaml(l) = self.layout {
            l.list_element_comment(span, text, &mut self.edits);
        }
    }

    fn unplaced(&mut self, value: bool) {
        // A value inside an alias copy: it has a place in the encrypted text (the copy
        // written by `add_alias_copies`), so it counts in the hint positions.
        if value {
            self.ordinal += 1;
        }
    }

    fn needs_tree(&self) -> bool {
        // With aliases to restore, the decrypted values are kept to check the result.
        !self.hints.regions.is_empty()
    }
}

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
/// (an insertion, `a..a`, may touch a neighbour). Overlapping edits are a bug in a store:
/// refuse them rather than write a damaged file.
pub fn apply_edits(source: &str, edits: &mut [Edit]) -> Result<String> {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let added: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(source.len() + added);
    let mut at = 0;
    for edit in edits.iter() {
        let in_bounds = edit.range.end <= source.len()
            && source.is_char_boundary(edit.range.start)
            && source.is_char_boundary(edit.range.end);
        if edit.range.start < at || !in_bounds {
            return Err(Error::Internal(
                "two changes to the file overlap; nothing was written (please report this)",
            ));
        }
        out.push_str(&source[at..edit.range.start]);
        out.push_str(&edit.text);
        at = edit.range.end;
    }
    out.push_str(&source[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_position_order() {
        let mut edits = vec![Edit::new(6..11, "there"), Edit::new(0..5, "HELLO")];
        assert_eq!(
            apply_edits("hello world!", &mut edits).unwrap(),
            "HELLO there!"
        );
    }

    #[test]
    fn insertions_and_deletions() {
        let mut edits = vec![Edit::new(5..5, ","), Edit::new(11..12, "")];
        assert_eq!(
            apply_edits("hello world!", &mut edits).unwrap(),
            "hello, world"
        );
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let mut edits = vec![Edit::new(0..5, "a"), Edit::new(3..7, "b")];
        assert_eq!(
            apply_edits("hello world!", &mut edits)
                .unwrap_err()
                .exit_code(),
            1
        );
    }
}
