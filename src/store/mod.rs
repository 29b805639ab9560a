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

pub mod binary;
pub mod dotenv;
pub mod flatten;
pub mod go_text;
pub mod hints;
pub mod ini;
pub mod json;
pub mod patch;
pub mod toml;
pub mod yaml;

use std::fmt;
use std::ops::Range;
use std::path::Path;

use crate::engine::{Splice, ValueRef};
use crate::error::{Error, Location, Result};
use crate::tree::{Document, Node, Scalar, Span};
use hints::LayoutHints;

/// A file format sealant reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    /// Any bytes, encrypted whole as one `data` value in sops's JSON envelope.
    Binary,
    /// sealant's own (sops has no TOML store); see docs/FORMAT.md.
    Toml,
}

impl Format {
    /// Every format, for messages and tests.
    pub const ALL: [Format; 6] = [
        Format::Yaml,
        Format::Json,
        Format::Dotenv,
        Format::Ini,
        Format::Binary,
        Format::Toml,
    ];

    /// The format named by `--input-type` / `--output-type`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The format sops infers from a file name: `.yaml`/`.yml`, `.json`, a name ending
    /// in `.env` (`.env` itself included), `.ini`; sealant adds `.toml`. Anything else is
    /// binary, as in sops. Extensions are case-sensitive, as in sops.
    pub fn from_path(path: &Path) -> Format {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("ini") => Format::Ini,
            Some("toml") => Format::Toml,
            _ if name.ends_with(".env") => Format::Dotenv,
            _ => Format::Binary,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
            Format::Toml => "toml",
        }
    }
}

/// What a store remembers about the text it parsed, and how it writes into that text:
/// the store's half of splicing. `TextSplice` calls these as the walk reports changes.
pub trait TextLayout: fmt::Debug {
    /// Whether values can be spliced into this text. When not (YAML aliases that sops
    /// expands, a top-level flow mapping, a binary file), the file is written afresh, in
    /// sops's layout.
    fn can_splice(&self) -> bool {
        true
    }

    /// Writes an `ENC[...]` string in place of the clear value at `span`.
    fn encrypted_value(&self, text: &str, span: &Span, enc: &str, out: &mut Vec<Edit>);

    /// Writes a clear value in place of the `ENC[...]` string at `span`.
    fn clear_value(
        &self,
        text: &str,
        span: &Span,
        value: &Scalar,
        out: &mut Vec<Edit>,
    ) -> Result<()>;

    /// The clear text a decryption would write for `value` at `span` once it is
    /// encrypted in place, or `None` when that cannot be predicted. Where it differs from
    /// the user's token, the token is kept as a layout hint.
    fn decrypted_form(&self, text: &str, span: &Span, value: &Scalar) -> Option<String>;

    /// Replaces a comment's text (`span` covers the text after the comment character).
    fn comment(&self, span: &Span, text: &str, out: &mut Vec<Edit>) {
        out.push(Edit::new(span.bytes.clone(), text));
    }

    /// A sops list-element comment (`- ENC[...,type:comment]`, YAML only) decrypted back
    /// to a comment line.
    fn list_element_comment(&self, span: &Span, text: &str, out: &mut Vec<Edit>) {
        self.comment(span, text, out);
    }

    /// The edits that add the `sops` metadata to the user's text.
    fn insert_metadata(&self, text: &str, metadata: &Node) -> Result<Vec<Edit>>;

    /// The YAML layout, for what only YAML has (aliases).
    fn as_yaml(&self) -> Option<&yaml::YamlLayout> {
        None
    }

    /// Ranges of the user's text that decryption must give back byte for byte although
    /// writing the decrypted values and comments into their spans would not (an INI
    /// comment that sops stores merged or re-spaced, so its ENC string stands for lines
    /// written differently). Sorted and disjoint. After an encrypting walk, each range
    /// that holds an edit is kept as a region hint, like an alias copy.
    fn verbatim_ranges(&self) -> Vec<Range<usize>> {
        Vec::new()
    }
}

/// A parsed file's layout, whatever its format.
pub type Layout = Box<dyn TextLayout>;

/// Whether the input is expected to be clear or encrypted. Only the binary store reads
/// the two differently (raw bytes in, a JSON envelope back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Plain,
    Encrypted,
}

/// A parsed input: the tree, the layout, and the text that spans point into (empty for a
/// clear binary file, which is never spliced).
pub struct Source<'a> {
    pub parsed: Parsed,
    pub layout: Layout,
    pub text: &'a str,
}

/// Parses `input` in `format`. `file` names the input in messages.
pub fn parse<'a>(format: Format, input: &'a [u8], file: &str, stage: Stage) -> Result<Source<'a>> {
    if format == Format::Binary && stage == Stage::Plain {
        let (parsed, layout) = binary::parse_plain(input);
        return Ok(Source {
            parsed,
            layout,
            text: "",
        });
    }
    let text = as_text(input, file)?;
    let (parsed, layout): (Parsed, Layout) = match format {
        Format::Yaml => yaml::parse(text, file).map(|(p, l)| (p, Box::new(l) as Layout))?,
        // A binary file, once encrypted, is sops's JSON envelope.
        Format::Json | Format::Binary => {
            json::parse_with_layout(text, file).map(|(p, l)| (p, Box::new(l) as Layout))?
        }
        Format::Dotenv => dotenv::parse(text, file)?,
        Format::Ini => ini::parse(text, file)?,
        Format::Toml => toml::parse(text, file)?,
    };
    Ok(Source {
        parsed,
        layout,
        text,
    })
}

/// The input as text: every format but binary is UTF-8. The error names the line and
/// column of the first bad byte.
pub fn as_text<'a>(input: &'a [u8], file: &str) -> Result<&'a str> {
    std::str::from_utf8(input).map_err(|e| {
        let good = &input[..e.valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
        Error::Parse {
            file: file.to_string(),
            at: Location { line, column },
            what: "invalid UTF-8 (use --input-type binary for a file that is not text)".into(),
        }
    })
}

/// Writes documents from scratch, in the layout sops writes (format conversion, files
/// that cannot be spliced).
pub fn emit(format: Format, docs: &[Document], metadata: Option<&Node>) -> Result<Vec<u8>> {
    let text = match format {
        Format::Yaml => match metadata {
            None => crate::yaml_fmt::emit::emit_documents(docs, 4),
            Some(meta) => {
                // The sops block goes into every document (a conversion: rare, small).
                let mut docs = docs.to_vec();
                for doc in &mut docs {
                    yaml::list_comments_as_elements(&mut doc.items);
                    doc.items.push(crate::tree::Item::Entry {
                        key: "sops".into(),
                        value: meta.clone(),
                    });
                }
                crate::yaml_fmt::emit::emit_documents(&docs, 4)
            }
        },
        Format::Json => json::emit(single_document(docs, "json")?, metadata, json::Indent::Tab)?,
        Format::Binary => match metadata {
            Some(_) => json::emit(
                single_document(docs, "binary")?,
                metadata,
                json::Indent::Tab,
            )?,
            None => return binary::emit_plain(single_document(docs, "binary")?),
        },
        Format::Dotenv => dotenv::emit(single_document(docs, "dotenv")?, metadata)?,
        Format::Ini => ini::emit(single_document(docs, "ini")?, metadata)?,
        Format::Toml => toml::emit(single_document(docs, "toml")?, metadata)?,
    };
    Ok(text.into_bytes())
}

/// The one document of a format that holds one (every format but YAML).
fn single_document<'d>(docs: &'d [Document], format: &'static str) -> Result<&'d Document> {
    static EMPTY: Document = Document { items: Vec::new() };
    match docs {
        [] => Ok(&EMPTY),
        [doc] => Ok(doc),
        _ => Err(Error::Emit {
            format,
            why: format!("the input has several documents; {format} holds one"),
        }),
    }
}

/// Writes one value (for `--extract`): a string as its raw bytes, anything else in the
/// output format.
pub fn emit_value(format: Format, node: &Node) -> Result<Vec<u8>> {
    if let Node::Scalar(leaf) = node {
        match &leaf.value {
            Scalar::Str(s) => return Ok(s.clone().into_bytes()),
            Scalar::Bytes(b) => return Ok(b.clone()),
            _ => {}
        }
    }
    let text = match format {
        Format::Yaml => crate::yaml_fmt::emit::emit_node(node, 4),
        Format::Json => json::emit_node(node, json::Indent::Tab)?,
        other => {
            return Err(Error::Emit {
                format: other.name(),
                why: "only a string value can be extracted to this format; use \
                      --output-type yaml or json"
                    .into(),
            })
        }
    };
    Ok(text.into_bytes())
}

/// Turns the walk's changes into text edits, in the store's style.
pub struct TextSplice<'a> {
    text: &'a str,
    layout: &'a dyn TextLayout,
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
    pub fn new(text: &'a str, layout: &'a dyn TextLayout) -> Self {
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
        self.layout.decrypted_form(self.text, span, value)
    }

    /// After an encrypting walk: writes each alias whose copy holds ciphertexts as that
    /// encrypted copy (YAML), and records region hints so decryption restores the alias
    /// and the layout's verbatim ranges.
    pub fn add_alias_copies(&mut self, docs: &[Document]) -> Result<()> {
        self.add_verbatim_regions();
        let Some(l) = self.layout.as_yaml() else {
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

    /// Region hints for the layout's verbatim ranges that the walk edited: each gives
    /// back the user's text of the range while the encrypted text there is unchanged.
    fn add_verbatim_regions(&mut self) {
        let ranges = self.layout.verbatim_ranges();
        if ranges.is_empty() {
            return;
        }
        self.edits.sort_by_key(|e| (e.range.start, e.range.end));
        let mut delta: isize = 0;
        let mut i = 0;
        for range in ranges {
            // Edits before the range move its start; one across its start spoils it.
            let mut whole = true;
            while i < self.edits.len() && self.edits[i].range.start < range.start {
                let e = &self.edits[i];
                whole &= e.range.end <= range.start;
                delta += e.text.len() as isize - e.range.len() as isize;
                i += 1;
            }
            let offset = (range.start as isize + delta) as usize;
            // The encrypted text of the range: its text with the edits inside applied.
            let mut encrypted = String::new();
            let mut at = range.start;
            let mut edited = false;
            while i < self.edits.len() && self.edits[i].range.start < range.end {
                let e = &self.edits[i];
                whole &= e.range.end <= range.end && e.range.start >= at;
                if whole {
                    encrypted.push_str(&self.text[at..e.range.start]);
                    encrypted.push_str(&e.text);
                    at = e.range.end;
                }
                edited = true;
                delta += e.text.len() as isize - e.range.len() as isize;
                i += 1;
            }
            if !(whole && edited) {
                continue;
            }
            encrypted.push_str(&self.text[at..range.end]);
            self.hints.regions.push(hints::Region {
                offset,
                len: encrypted.len(),
                digest: hints::region_digest(&encrypted),
                original: self.text[range].to_string(),
            });
        }
    }

    /// The encrypted text: edits applied, metadata added.
    pub fn finish_encrypted(mut self, metadata: &Node) -> Result<String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let inserts = self.layout.insert_metadata(self.text, metadata)?;
        self.edits.extend(inserts);
        apply_edits(self.text, &mut self.edits)
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
        self.layout
            .encrypted_value(self.text, span, enc, &mut self.edits);
    }

    fn clear_value(&mut self, span: &Span, value: &Scalar, id: ValueRef<'_>) {
        let ordinal = self.ordinal;
        self.ordinal += 1;
        if let Some(original) = self.hints.take(ordinal, || id.id()) {
            self.edits.push(Edit::new(span.bytes.clone(), original));
            return;
        }
        if let Err(e) = self
            .layout
            .clear_value(self.text, span, value, &mut self.edits)
        {
            self.error.get_or_insert(e);
        }
    }

    fn comment(&mut self, span: &Span, text: &str) {
        self.layout.comment(span, text, &mut self.edits);
    }

    fn list_element_comment(&mut self, span: &Span, text: &str) {
        self.layout
            .list_element_comment(span, text, &mut self.edits);
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
