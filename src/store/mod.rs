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
use crate::tree::{Document, Item, Node, Scalar, Span};
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

    /// Whether a walk reports this text's changes in text order, so that they can be
    /// written out as they come ([`Edits::ordered`]). A wrong `true` costs a second
    /// walk, never a wrong file: an edit out of order voids the ordered output.
    fn edits_in_text_order(&self) -> bool {
        false
    }

    /// Writes an `ENC[...]` string in place of the clear value at `span`.
    fn encrypted_value(&self, text: &str, span: &Span, enc: &str, out: &mut Edits);

    /// Writes a clear value in place of the `ENC[...]` string at `span`.
    fn clear_value(&self, text: &str, span: &Span, value: &Scalar, out: &mut Edits) -> Result<()>;

    /// The clear text a decryption would write for `value` at `span` once it is
    /// encrypted in place, or `None` when that cannot be predicted. Where it differs from
    /// the user's token, the token is kept as a layout hint.
    fn decrypted_form(&self, text: &str, span: &Span, value: &Scalar) -> Option<String>;

    /// Replaces a comment's text (`span` covers the text after the comment character).
    fn comment(&self, span: &Span, text: &str, out: &mut Edits) {
        out.replace(span.bytes.clone(), text);
    }

    /// A sops list-element comment (`- ENC[...,type:comment]`, YAML only) decrypted back
    /// to a comment line.
    fn list_element_comment(&self, span: &Span, text: &str, out: &mut Edits) {
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

/// A file read one item at a time: a flat format (dotenv), whose walk then never holds
/// the tree of a big file, only the item at hand. The whole text is checked and the
/// metadata read first, so errors come as [`parse`] gives them.
pub struct FlatSource<'a> {
    pub metadata: Option<FoundMetadata>,
    pub layout: Layout,
    pub text: &'a str,
    /// The one document's items, in text order.
    pub items: Box<dyn Iterator<Item = Result<Item>> + 'a>,
}

/// `input` as a [`FlatSource`] if `format` is flat; `None` for the other formats.
pub fn parse_flat<'a>(
    format: Format,
    input: &'a [u8],
    file: &str,
) -> Option<Result<FlatSource<'a>>> {
    match format {
        Format::Dotenv => {
            Some(as_text(input, file).and_then(|text| dotenv::parse_flat(text, file)))
        }
        _ => None,
    }
}

/// Writes one item of a flat document afresh, as [`emit`] writes it without metadata.
pub fn emit_flat_item(format: Format, item: &Item, out: &mut String) -> Result<()> {
    match format {
        Format::Dotenv => dotenv::emit_item(out, item, false),
        _ => Err(Error::Internal(
            "only a flat format is written item by item",
        )),
    }
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
    edits: Edits<'a>,
    /// The first value that could not be written in this format.
    pub error: Option<Error>,
    /// Position of the next value in walk order, the key of layout hints.
    ordinal: usize,
    /// Encrypting: the user's spelling of values whose clear form would come back
    /// different. Decrypting: the hints to apply.
    pub hints: LayoutHints,
}

impl<'a> TextSplice<'a> {
    /// A splice that collects its edits and applies them sorted at the end: for any
    /// layout, and what alias copies and verbatim regions need.
    pub fn new(text: &'a str, layout: &'a dyn TextLayout) -> Self {
        Self::with_edits(text, layout, Edits::collect(text))
    }

    /// A splice that writes each edit into the output as it comes (see [`Edits`]):
    /// only for a layout whose edits come in text order, and, when decrypting, with the
    /// metadata `cuts` given here rather than at the end. Its `finish_*` return `None`
    /// if an edit came out of order after all; run again with [`TextSplice::new`].
    pub fn ordered(
        text: &'a str,
        layout: &'a dyn TextLayout,
        cuts: &[Range<usize>],
        capacity: usize,
    ) -> Self {
        let cuts = cuts.iter().map(|r| Edit::new(r.clone(), "")).collect();
        Self::with_edits(text, layout, Edits::ordered(text, cuts, capacity))
    }

    fn with_edits(text: &'a str, layout: &'a dyn TextLayout, edits: Edits<'a>) -> Self {
        TextSplice {
            text,
            layout,
            edits,
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
        let alias_edits = l.alias_edits(self.text, docs)?;
        if alias_edits.is_empty() {
            return Ok(());
        }
        // Region hints need every edit: an ordered splice cannot give them.
        let Some(edits) = self.edits.collected() else {
            self.edits.void();
            return Ok(());
        };
        // Alias copies written in place of their alias: edit start -> the alias text.
        let mut copies = std::collections::HashMap::new();
        for (edit, original) in alias_edits {
            copies.insert(edit.range.start, original);
            edits.push(edit);
        }
        // Where each copy lands in the encrypted text (before metadata is added).
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        let mut delta: isize = 0;
        for e in edits.iter() {
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
        let Some(edits) = self.edits.collected() else {
            self.edits.void();
            return;
        };
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        let mut delta: isize = 0;
        let mut i = 0;
        for range in ranges {
            // Edits before the range move its start; one across its start spoils it.
            let mut whole = true;
            while i < edits.len() && edits[i].range.start < range.start {
                let e = &edits[i];
                whole &= e.range.end <= range.start;
                delta += e.text.len() as isize - e.range.len() as isize;
                i += 1;
            }
            let offset = (range.start as isize + delta) as usize;
            // The encrypted text of the range: its text with the edits inside applied.
            let mut encrypted = String::new();
            let mut at = range.start;
            let mut edited = false;
            while i < edits.len() && edits[i].range.start < range.end {
                let e = &edits[i];
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

    /// The encrypted text: edits applied, metadata added. `None`: see [`Self::ordered`].
    pub fn finish_encrypted(mut self, metadata: &Node) -> Result<Option<String>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        for edit in self.layout.insert_metadata(self.text, metadata)? {
            self.edits.push(edit);
        }
        self.edits.finish()
    }

    /// The clear text: edits applied, metadata cut out. Also says whether any alias was
    /// restored from a region hint (the caller then checks the text's meaning). `None`:
    /// see [`Self::ordered`].
    pub fn finish_decrypted(mut self, metadata: &FoundMetadata) -> Result<Option<(String, bool)>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let regions = std::mem::take(&mut self.hints.regions);
        let Some(edits) = self.edits.collected() else {
            // The cuts were given up front; region hints need every edit.
            if !regions.is_empty() {
                return Ok(None);
            }
            return Ok(self.edits.finish()?.map(|text| (text, false)));
        };
        // Alias copies that are still exactly as written go back to their alias.
        let mut restored = false;
        for region in regions {
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
                edits.retain(|e| e.range.end <= range.start || e.range.start >= range.end);
                edits.push(Edit::new(range, region.original));
                restored = true;
            }
        }
        edits.extend(metadata.ranges.iter().map(|r| Edit::new(r.clone(), "")));
        Ok(self.edits.finish()?.map(|text| (text, restored)))
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

/// Where a splice's edits go.
///
/// Collected, they are sorted and applied at the end ([`apply_edits`]). Ordered, each is
/// written into the output as it comes: on a big file the edits with their `ENC[...]`
/// strings were as large as the output, and now never all exist at once. An edit that
/// comes a little out of text order (a YAML line comment is walked before the value on
/// its line) is written into the recent output; one that comes before text written
/// longer ago voids the output, and [`Edits::finish`] says so: the caller then runs
/// again collecting.
pub struct Edits<'t> {
    source: &'t str,
    state: EditState,
}

enum EditState {
    Collect(Vec<Edit>),
    Ordered(Ordered),
}

struct Ordered {
    out: String,
    /// How much of the source is written (the edits in it applied).
    at: usize,
    /// The last edits written, in text order, for edits that come late.
    recent: std::collections::VecDeque<Placed>,
    /// Whether edits older than `recent` were written.
    forgotten: bool,
    /// Edits known before the walk (metadata cuts), sorted; each is written when the
    /// walk's edits pass it.
    pending: std::iter::Peekable<std::vec::IntoIter<Edit>>,
    void: Option<Void>,
}

/// Where an edit was written: its source range, and where its text ends in the output.
#[derive(Clone, Copy)]
struct Placed {
    start: usize,
    end: usize,
    out_end: usize,
    /// A pending edit: it sorts after the walk's edits at the same place.
    pending: bool,
}

impl Placed {
    /// Whether a walk's edit at `key` goes after this one in sorted order.
    fn before(&self, key: (usize, usize)) -> bool {
        let own = (self.start, self.end);
        own < key || (own == key && !self.pending)
    }
}

/// How many written edits a late edit may go before.
const RECENT: usize = 32;
/// How much output a late edit may move (it is written by moving what follows).
const LATE_MOVE: usize = 64 * 1024;

#[derive(Clone, Copy)]
enum Void {
    /// An edit came out of text order: collecting would have sorted it.
    OutOfOrder,
    /// An edit outside the text or inside a character: a bug in a store.
    Invalid,
}

impl<'t> Edits<'t> {
    /// Edits to collect, sort and apply at the end.
    pub fn collect(source: &'t str) -> Self {
        Edits {
            source,
            state: EditState::Collect(Vec::new()),
        }
    }

    /// Edits written as they come, with `pending` edits merged in at their places.
    /// `capacity`: the expected size of the output.
    pub fn ordered(source: &'t str, mut pending: Vec<Edit>, capacity: usize) -> Self {
        pending.sort_by_key(|e| (e.range.start, e.range.end));
        Edits {
            source,
            state: EditState::Ordered(Ordered {
                out: String::with_capacity(capacity),
                at: 0,
                recent: std::collections::VecDeque::with_capacity(RECENT + 1),
                forgotten: false,
                pending: pending.into_iter().peekable(),
                void: None,
            }),
        }
    }

    /// Replaces `range` of the source by `text`.
    pub fn push(&mut self, edit: Edit) {
        match &mut self.state {
            EditState::Collect(edits) => edits.push(edit),
            EditState::Ordered(o) => o.write(self.source, edit.range, &edit.text),
        }
    }

    /// [`Edits::push`] without making a `String` when the edit is written at once.
    pub fn replace(&mut self, range: Range<usize>, text: &str) {
        match &mut self.state {
            EditState::Collect(edits) => edits.push(Edit::new(range, text)),
            EditState::Ordered(o) => o.write(self.source, range, text),
        }
    }

    /// The collected edits; `None` when they are written as they come.
    pub fn collected(&mut self) -> Option<&mut Vec<Edit>> {
        match &mut self.state {
            EditState::Collect(edits) => Some(edits),
            EditState::Ordered(_) => None,
        }
    }

    /// The collected edits (none for ordered edits, which are written already).
    pub fn into_vec(self) -> Vec<Edit> {
        match self.state {
            EditState::Collect(edits) => edits,
            EditState::Ordered(_) => Vec::new(),
        }
    }

    /// Gives up an ordered output: [`Edits::finish`] will ask to run again collecting.
    pub fn void(&mut self) {
        if let EditState::Ordered(o) = &mut self.state {
            o.void.get_or_insert(Void::OutOfOrder);
        }
    }

    /// The text with every edit applied; `None` if an ordered output was voided.
    pub fn finish(self) -> Result<Option<String>> {
        let mut o = match self.state {
            EditState::Collect(mut edits) => return apply_edits(self.source, &mut edits).map(Some),
            EditState::Ordered(o) => o,
        };
        while let Some(p) = o.pending.next() {
            o.write_one(self.source, p.range, &p.text, true);
        }
        match o.void {
            None => {
                o.out.push_str(&self.source[o.at..]);
                Ok(Some(o.out))
            }
            Some(Void::OutOfOrder) => Ok(None),
            Some(Void::Invalid) => Err(Error::Internal(
                "a change to the file falls outside it; nothing was written (please report \
                 this)",
            )),
        }
    }
}

impl Ordered {
    fn write(&mut self, source: &str, range: Range<usize>, text: &str) {
        // Known edits that sort before this one go first (ties: the walk's edit first,
        // as a stable sort of the collected edits would have it).
        while let Some(p) = self
            .pending
            .next_if(|p| (p.range.start, p.range.end) < (range.start, range.end))
        {
            self.write_one(source, p.range, &p.text, true);
        }
        self.write_one(source, range, text, false);
    }

    /// Writes the source up to `range`, then `text` in its place; or, for an edit that
    /// comes late, `text` into the output already written.
    fn write_one(&mut self, source: &str, range: Range<usize>, text: &str, pending: bool) {
        if self.void.is_some() {
            return;
        }
        let in_bounds = range.start <= range.end
            && range.end <= source.len()
            && source.is_char_boundary(range.start)
            && source.is_char_boundary(range.end);
        if !in_bounds {
            self.void = Some(Void::Invalid);
            return;
        }
        if range.start < self.at {
            // Pending edits are never late: they are written before any edit after them.
            self.write_late(range, text);
            return;
        }
        self.out.push_str(&source[self.at..range.start]);
        self.out.push_str(text);
        self.at = range.end;
        self.remember(self.recent.len(), range, self.out.len(), pending);
    }

    /// An edit that sorts before some written ones: it goes after the written edits that
    /// sort before it or equal it (where a stable sort would put it), into the source
    /// text copied between two edits. Otherwise (it overlaps one, or its place is no
    /// longer known) the output is void.
    fn write_late(&mut self, range: Range<usize>, text: &str) {
        let k = self
            .recent
            .partition_point(|p| p.before((range.start, range.end)));
        let (src_end, out_end) = match k.checked_sub(1).map(|i| self.recent[i]) {
            Some(p) => (p.end, p.out_end),
            None if !self.forgotten => (0, 0),
            None => return self.out_of_order(),
        };
        let fits =
            range.start >= src_end && self.recent.get(k).is_some_and(|n| n.start >= range.end);
        if !fits {
            return self.out_of_order();
        }
        let at = out_end + (range.start - src_end);
        if self.out.len() - at > LATE_MOVE {
            return self.out_of_order();
        }
        self.out.replace_range(at..at + range.len(), text);
        let grown = text.len() as isize - range.len() as isize;
        for p in self.recent.range_mut(k..) {
            p.out_end = (p.out_end as isize + grown) as usize;
        }
        self.remember(k, range, at + text.len(), false);
    }

    fn remember(&mut self, index: usize, range: Range<usize>, out_end: usize, pending: bool) {
        self.recent.insert(
            index,
            Placed {
                start: range.start,
                end: range.end,
                out_end,
                pending,
            },
        );
        if self.recent.len() > RECENT {
            self.recent.pop_front();
            self.forgotten = true;
        }
    }

    fn out_of_order(&mut self) {
        self.void = Some(Void::OutOfOrder);
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

    /// Ordered edits (with `pending` ones) as written, or `None` if voided.
    fn ordered(source: &str, edits: &[Edit], pending: &[Edit]) -> Option<String> {
        let mut e = Edits::ordered(source, pending.to_vec(), 0);
        for edit in edits {
            e.replace(edit.range.clone(), &edit.text);
        }
        e.finish().unwrap()
    }

    #[test]
    fn ordered_edits_write_late_ones_into_recent_output() {
        let text = "a: 1 # c\nb: 2\n";
        // The line comment first, then the value before it: as the YAML walk does.
        let edits = [
            Edit::new(7..8, "C"),
            Edit::new(3..4, "ENC"),
            Edit::new(12..13, "ENC2"),
        ];
        assert_eq!(
            ordered(text, &edits, &[]).as_deref(),
            Some("a: ENC # C\nb: ENC2\n")
        );
        // An insertion before a replacement at the same place goes first, as sorted.
        let edits = [Edit::new(3..4, "X"), Edit::new(3..3, "+")];
        assert_eq!(
            ordered(text, &edits, &[]).as_deref(),
            Some("a: +X # c\nb: 2\n")
        );
        // Overlaps void the output (collecting then reports them).
        let edits = [Edit::new(3..6, "X"), Edit::new(4..5, "Y")];
        assert_eq!(ordered(text, &edits, &[]), None);
        // Pending cuts merge in where they sort.
        let cut = [Edit::new(9..14, "")];
        let edits = [Edit::new(3..4, "ENC")];
        assert_eq!(ordered(text, &edits, &cut).as_deref(), Some("a: ENC # c\n"));
    }

    #[test]
    fn ordered_edits_refuse_what_is_outside_the_text() {
        let mut e = Edits::ordered("héllo", Vec::new(), 0);
        e.replace(2..3, "x");
        assert_eq!(e.finish().unwrap_err().exit_code(), 1);
        let mut e = Edits::ordered("hello", Vec::new(), 0);
        e.replace(4..9, "x");
        assert_eq!(e.finish().unwrap_err().exit_code(), 1);
    }

    #[test]
    fn late_edits_older_than_the_recent_ones_void_the_output() {
        let text = "x".repeat(200);
        let mut edits: Vec<Edit> = (1..100).map(|i| Edit::new(2 * i..2 * i + 1, "E")).collect();
        edits.push(Edit::new(0..1, "late"));
        assert_eq!(ordered(&text, &edits, &[]), None);
    }

    proptest::proptest! {
        /// Whatever order edits come in, an ordered output that is not void is exactly
        /// what sorting and applying them gives.
        #[test]
        fn ordered_edits_agree_with_sorted_ones(
            len in 0usize..60,
            raw in proptest::collection::vec((0usize..60, 0usize..4, "[a-z]{0,3}", 0usize..3), 0..12),
            swaps in proptest::collection::vec(0usize..12, 0..6),
            n_pending in 0usize..3,
        ) {
            let text: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            // Non-overlapping edits in text order.
            let mut edits = Vec::new();
            let mut at = 0;
            for (gap, width, repl, _) in &raw {
                let start = at + gap % 5;
                let end = start + width;
                if end > len {
                    break;
                }
                edits.push(Edit::new(start..end, repl.clone()));
                at = end;
            }
            // Some become pending cuts; the rest come with a few neighbours swapped.
            let pending: Vec<Edit> = edits
                .iter()
                .enumerate()
                .filter(|(i, _)| n_pending > 0 && i % (n_pending + 2) == 1)
                .map(|(_, e)| e.clone())
                .collect();
            let mut walk: Vec<Edit> = edits.iter().filter(|e| !pending.contains(e)).cloned().collect();
            let sorted_ok = swaps.is_empty();
            for s in swaps {
                if walk.len() > 1 {
                    let i = s % (walk.len() - 1);
                    walk.swap(i, i + 1);
                }
            }
            let mut all = walk.clone();
            all.extend(pending.iter().cloned());
            let expected = apply_edits(&text, &mut all).unwrap();
            match ordered(&text, &walk, &pending) {
                Some(got) => proptest::prop_assert_eq!(got, expected),
                None => proptest::prop_assert!(!sorted_ok, "edits in order were voided"),
            }
        }
    }
}
