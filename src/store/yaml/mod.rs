//! The YAML store: sops-compatible meaning, the user's own layout.
//!
//! Parsing is in `parse` (saphyr-parser events plus exact token extents and comment
//! recovery from `lex`). This file decides what text replaces a leaf when it is
//! encrypted or decrypted, and where the `sops:` block goes.
//!
//! Encrypted values keep the user's style: a `'quoted'` value becomes `'ENC[...]'`, a
//! `|` block becomes a `|-` block holding the ENC string at the same indentation, a value
//! in a flow collection is double-quoted (a plain `ENC[...]` would break `{a: 1}`).
//! Decrypting renders each value in the style of its ENC token, falling back to what
//! go-yaml (and so sops) would write. Files written by sops come back exactly as
//! `sops decrypt` prints them; files written by sealant come back as the user wrote them.

pub mod lex;
mod parse;

use std::collections::HashMap;
use std::ops::Range;

use super::patch::sites::Sites;
use super::{Edit, Edits, FoundMetadata, Parsed};
use crate::crypto::looks_encrypted;
use crate::error::{code, Error, Result};
use crate::tree::{Document, Holder, Item, Leaf, ListItem, Node, Scalar, Span, Style};
use crate::yaml_fmt::emit::emit_documents;
use crate::yaml_fmt::render::{render_scalar, render_string_as, RenderCtx};

/// What the YAML store remembers about a file's layout between parse and write.
#[derive(Debug)]
pub struct YamlLayout {
    header_comments: HashMap<usize, Range<usize>>,
    /// Indentation unit of the file (2, 4...), used for new blocks.
    pub indent_unit: usize,
    /// Where each document's content ends (the `sops:` block goes there), and the
    /// column of its top-level keys.
    content_ends: Vec<(usize, usize)>,
    /// Some document's top level is a flow mapping: no block can be appended to it.
    root_flow: bool,
    /// Whether the file uses CRLF line breaks.
    crlf: bool,
    /// Every alias, with the path of its copy in the tree.
    aliases: Vec<parse::AliasSite>,
}

/// Parses YAML text into documents, metadata and layout.
pub fn parse(text: &str, file: &str) -> Result<(Parsed, YamlLayout)> {
    parse_inner(text, file, false).map(|(parsed, layout, _)| (parsed, layout))
}

/// [`parse`], also giving where the first document's collections sit (`set`, `unset`).
pub fn parse_with_sites(text: &str, file: &str) -> Result<(Parsed, YamlLayout, Sites)> {
    parse_inner(text, file, true).map(|(p, l, s)| (p, l, s.unwrap_or_default()))
}

fn parse_inner(
    text: &str,
    file: &str,
    record: bool,
) -> Result<(Parsed, YamlLayout, Option<Sites>)> {
    let p = parse::parse(text, file, record)?;
    let mut docs = Vec::with_capacity(p.docs.len());
    let mut metadata = None;
    let mut ranges = Vec::new();
    let mut content_ends = Vec::new();
    let mut root_flow = false;
    for (i, d) in p.docs.into_iter().enumerate() {
        let comments_only = d.comments_only && d.sops_entry.is_none();
        if comments_only && i == 0 {
            return Err(Error::Input {
                file: file.to_string(),
                what: "the file holds only comments: a YAML document needs a mapping".into(),
                code: code::COULD_NOT_READ_INPUT,
            });
        }
        if let Some(range) = d.sops_entry {
            ranges.push(metadata_cut(text, range));
            if metadata.is_none() {
                metadata = d.sops_value;
            }
        }
        content_ends.push((d.content_end, d.root_indent));
        root_flow |= d.root_flow;
        docs.push(d.doc);
    }
    let metadata = metadata.map(|tree| FoundMetadata { tree, ranges });
    let crlf = text
        .find('\n')
        .is_some_and(|i| i > 0 && text.as_bytes()[i - 1] == b'\r');
    Ok((
        Parsed { docs, metadata },
        YamlLayout {
            header_comments: p.header_comments,
            indent_unit: p.indent_unit,
            content_ends,
            root_flow,
            crlf,
            aliases: p.aliases,
        },
        p.sites,
    ))
}

/// The bytes to cut to remove a `sops:` entry: its whole lines, and, when the block
/// ends the file without a final line break, the line break before it (which sealant
/// added when it appended the block to a file that had none).
fn metadata_cut(text: &str, range: Range<usize>) -> Range<usize> {
    let no_final_break = range.end == text.len() && !text.ends_with('\n');
    if no_final_break && range.start > 0 {
        let mut start = range.start - 1;
        if start > 0 && text.as_bytes()[start - 1] == b'\r' {
            start -= 1;
        }
        start..range.end
    } else {
        range
    }
}

impl super::TextLayout for YamlLayout {
    fn edits_in_text_order(&self) -> bool {
        // Line comments are walked just before the value on their line, which the
        // ordered edits allow. Not so: alias copies and region hints (they need every
        // edit), and the `sops` block added at the end of each of several documents.
        self.aliases.is_empty() && self.content_ends.len() <= 1
    }
    fn can_splice(&self) -> bool {
        !self.root_flow
    }
    fn encrypted_value(&self, text: &str, span: &Span, enc: &str, out: &mut Edits) {
        self.write_encrypted(text, span, enc, out);
    }
    fn clear_value(&self, text: &str, span: &Span, value: &Scalar, out: &mut Edits) -> Result<()> {
        self.write_clear(text, span, value, out);
        Ok(())
    }
    fn decrypted_form(&self, _text: &str, span: &Span, value: &Scalar) -> Option<String> {
        self.predict_clear(span, value)
    }
    fn list_element_comment(&self, span: &Span, text: &str, out: &mut Edits) {
        self.write_list_element_comment(span, text, out);
    }
    fn insert_metadata(&self, text: &str, metadata: &Node) -> Result<Vec<Edit>> {
        self.metadata_edits(text, metadata).ok_or(Error::Internal(
            "the sops block cannot be added to this layout",
        ))
    }
    fn as_yaml(&self) -> Option<&YamlLayout> {
        Some(self)
    }
}

impl YamlLayout {
    /// After an encrypting walk: every alias whose copy holds encrypted values is
    /// replaced by that copy, written inline in flow style. sops expands aliases and
    /// decrypts each copy with its own key path, so a ciphertext can never be shared
    /// through an alias. Returns each edit with the alias text it replaced.
    pub fn alias_edits(&self, text: &str, docs: &[Document]) -> Result<Vec<(Edit, String)>> {
        let mut out = Vec::new();
        for site in &self.aliases {
            let node = docs
                .get(site.doc)
                .and_then(|d| crate::treepath::lookup(d, &site.path))
                .ok_or(Error::Internal("an alias copy is missing from the tree"))?;
            if !holds_ciphertext(node) {
                continue; // clear copies read the same through the alias
            }
            let copy = match node {
                Node::Scalar(_) if !site.in_flow => flow_text(node).trim_matches('\'').to_string(),
                _ => flow_text(node),
            };
            out.push((
                Edit::new(site.token.clone(), copy),
                text[site.token.clone()].to_string(),
            ));
        }
        Ok(out)
    }

    pub(crate) fn newline(&self) -> &'static str {
        if self.crlf {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Column for the content lines of a block scalar written in place of `span`, as
    /// go-yaml indents it: under a `- `, two past the dash; under a key, the next
    /// multiple of the indentation unit past the key's column.
    fn block_indent(&self, span: &Span) -> usize {
        let unit = self.indent_unit.max(1);
        match span.holder {
            Holder::Dash { col, .. } => col + 2,
            Holder::Key { col, .. } => unit * ((col + unit) / unit),
            Holder::None => span.line_indent + unit,
        }
    }

    /// Edits that replace the value at `span` by `replacement`, keeping a comment on a
    /// block scalar's header line in place.
    fn replace(&self, text: &str, span: &Span, replacement: String, out: &mut Edits) {
        let Some(comment) = self.header_comments.get(&span.bytes.start) else {
            out.push(Edit::new(span.bytes.clone(), replacement));
            return;
        };
        let indicator = lex::skip_properties(text.as_bytes(), span.bytes.start);
        let block = lex::block_scalar(text.as_bytes(), indicator, span.bytes.end);
        // Split the new text at its first line break: header, then body.
        let (head, body) = match replacement.find('\n') {
            Some(i) => (
                replacement[..i].trim_end_matches('\r').to_string(),
                replacement[i + 1..].to_string(),
            ),
            None => (replacement, String::new()),
        };
        // A header comment only exists on block scalars; if the new text is not a
        // block, it goes where the header was and the old body goes away.
        out.push(Edit::new(span.bytes.start..block.header_end, head));
        if block.content_start < span.bytes.end {
            out.push(Edit::new(block.content_start..span.bytes.end, body));
        }
        debug_assert!(comment.start >= block.header_end);
    }

    /// Writes an `ENC[...]` string in place of a clear value.
    fn write_encrypted(&self, text: &str, span: &Span, enc: &str, out: &mut Edits) {
        let replacement = match span.style {
            Style::SingleQuoted => format!("'{enc}'"),
            Style::DoubleQuoted => format!("\"{enc}\""),
            // A plain ENC string would break a flow collection (`,[]`). Single quotes mark
            // "was plain": decryption writes it plain again where it can.
            Style::Plain | Style::Raw if span.in_flow => format!("'{enc}'"),
            Style::Plain | Style::Raw => enc.to_string(),
            Style::Literal { indent } | Style::Folded { indent } => {
                let indicator = if matches!(span.style, Style::Literal { .. }) {
                    '|'
                } else {
                    '>'
                };
                format!(
                    "{indicator}-{}{:indent$}{enc}",
                    self.newline(),
                    "",
                    indent = indent
                )
            }
        };
        self.replace(text, span, replacement, out);
    }

    /// Writes a clear value in place of its `ENC[...]` string.
    pub(crate) fn write_clear(&self, text: &str, span: &Span, value: &Scalar, out: &mut Edits) {
        let rendered = self.render(span, value);
        let rendered = if self.crlf {
            rendered.replace('\n', "\r\n")
        } else {
            rendered
        };
        self.replace(text, span, rendered, out);
    }

    /// What decryption will write for `value` once it is encrypted in place of the
    /// token at `span`; `None` for block scalars with a header comment (those keep the
    /// comment apart and are rendered, never hinted).
    fn predict_clear(&self, span: &Span, value: &Scalar) -> Option<String> {
        if self.header_comments.contains_key(&span.bytes.start) {
            return None;
        }
        let mut encrypted = span.clone();
        if matches!(span.style, Style::Plain | Style::Raw) && span.in_flow {
            encrypted.style = Style::SingleQuoted;
        }
        let rendered = self.render(&encrypted, value);
        Some(if self.crlf {
            rendered.replace('\n', "\r\n")
        } else {
            rendered
        })
    }

    fn render(&self, span: &Span, value: &Scalar) -> String {
        let indent = self.block_indent(span);
        let ctx = RenderCtx {
            indent,
            in_flow: span.in_flow,
            indicator: indent.saturating_sub(holder_col(span)),
        };
        let Scalar::Str(s) = value else {
            return render_scalar(value, &ctx);
        };
        let styled = match span.style {
            Style::Plain | Style::Raw => None,
            // In a flow collection, single quotes around an ENC string stand for a value
            // that was plain (see `encrypted_value`).
            Style::SingleQuoted if span.in_flow => None,
            Style::Literal { indent } | Style::Folded { indent } => {
                let ctx = RenderCtx {
                    indent,
                    indicator: indent.saturating_sub(holder_col(span)),
                    ..ctx
                };
                render_string_as(s, span.style, &ctx)
            }
            Style::SingleQuoted | Style::DoubleQuoted => render_string_as(s, span.style, &ctx),
        };
        let mut out = styled.unwrap_or_else(|| render_scalar(value, &ctx));
        // A rendered block scalar ends with its last line break; a span ends before it.
        if out.starts_with(['|', '>']) && out.ends_with('\n') {
            out.pop();
        }
        out
    }

    /// Turns a sops list-element comment (`- ENC[...,type:comment]`) back into a
    /// comment line at the dash's place.
    fn write_list_element_comment(&self, span: &Span, text: &str, out: &mut Edits) {
        let start = match span.holder {
            Holder::Dash { at, .. } => at,
            _ => span.bytes.start,
        };
        out.push(Edit::new(start..span.bytes.end, format!("#{text}")));
    }

    /// Edits that append the `sops:` block to every document, at the indentation of
    /// its top-level keys; `None` when a document's top level is a flow mapping, which
    /// cannot take a block (the caller then writes the file afresh, as sops would).
    fn metadata_edits(&self, text: &str, metadata: &Node) -> Option<Vec<Edit>> {
        if self.root_flow {
            return None;
        }
        let doc = Document {
            items: vec![Item::Entry {
                key: "sops".into(),
                value: metadata.clone(),
            }],
        };
        let mut block = emit_documents(std::slice::from_ref(&doc), self.indent_unit);
        if self.crlf {
            block = block.replace('\n', "\r\n");
        }
        let nl = self.newline();
        let edits = self
            .content_ends
            .iter()
            .map(|&(at, indent)| {
                let block = if indent == 0 {
                    block.clone()
                } else {
                    let pad = " ".repeat(indent);
                    block
                        .split_inclusive('\n')
                        .map(|line| format!("{pad}{line}"))
                        .collect()
                };
                let starts_line = at == 0 || text.as_bytes()[at - 1] == b'\n';
                let insert = if starts_line {
                    block
                } else {
                    // No line break before: add one, and leave none after, so that
                    // cutting the block restores the text exactly.
                    format!("{nl}{}", block.strip_suffix(nl).unwrap_or(&block))
                };
                Edit::new(at..at, insert)
            })
            .collect();
        Some(edits)
    }
}

/// Whether a node holds an `ENC[...]` value (after an encrypting walk).
fn holds_ciphertext(node: &Node) -> bool {
    match node {
        Node::Scalar(leaf) => {
            matches!(&leaf.value, Scalar::Str(s) if crate::crypto::looks_encrypted(s))
        }
        Node::Map(items) => items.iter().any(|i| match i {
            Item::Entry { value, .. } => holds_ciphertext(value),
            Item::Comment(_) => false,
        }),
        Node::List(items) => items.iter().any(|i| match i {
            crate::tree::ListItem::Node(n) => holds_ciphertext(n),
            crate::tree::ListItem::Comment(_) => false,
        }),
        Node::Null(_) => false,
    }
}

/// Turns every encrypted comment inside a list into a list element holding its ENC
/// string, as sops writes an encrypted file (its tree walk stores an encrypted list
/// comment back as a string; decryption turns it into a comment again). Written as a
/// `#ENC[...]` line instead, a comment after a list's last item that is itself a map or
/// list would be placed by go-yaml's emitter after the next value, in another
/// collection, where its AAD no longer matches and it cannot be decrypted.
pub(crate) fn list_comments_as_elements(items: &mut [Item]) {
    for item in items {
        if let Item::Entry { value, .. } = item {
            node_list_comments_as_elements(value);
        }
    }
}

fn node_list_comments_as_elements(node: &mut Node) {
    match node {
        Node::Map(items) => list_comments_as_elements(items),
        Node::List(items) => {
            for item in items {
                match item {
                    ListItem::Comment(c)
                        if looks_encrypted(&c.value) && c.value.ends_with("type:comment]") =>
                    {
                        let enc = std::mem::take(&mut c.value);
                        *item = ListItem::Node(Node::Scalar(Leaf::new(Scalar::Str(enc))));
                    }
                    ListItem::Comment(_) => {}
                    ListItem::Node(n) => node_list_comments_as_elements(n),
                }
            }
        }
        Node::Scalar(_) | Node::Null(_) => {}
    }
}

/// A node on one line in flow style (`{a: 'ENC[...]', b: [1, 2]}`). Comments cannot be
/// written in flow style and are left out (sops does not cover them by the MAC).
pub(crate) fn flow_text(node: &Node) -> String {
    let ctx = RenderCtx {
        indent: 0,
        in_flow: true,
        indicator: 0,
    };
    match node {
        Node::Scalar(leaf) => match &leaf.value {
            Scalar::Str(s) if crate::crypto::looks_encrypted(s) => format!("'{s}'"),
            v => render_scalar(v, &ctx),
        },
        Node::Null(_) => "null".into(),
        Node::Map(items) => {
            let entries: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    Item::Entry { key, value } => {
                        Some(format!("{}: {}", flow_key(key), flow_text(value)))
                    }
                    Item::Comment(_) => None,
                })
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Node::List(items) => {
            let entries: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    crate::tree::ListItem::Node(n) => Some(flow_text(n)),
                    crate::tree::ListItem::Comment(_) => None,
                })
                .collect();
            format!("[{}]", entries.join(", "))
        }
    }
}

/// A mapping key in flow style: plain when that is safe, else double-quoted.
pub(crate) fn flow_key(key: &str) -> String {
    let plain_safe = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'<'))
        && !key.starts_with('-');
    if plain_safe {
        key.to_string()
    } else {
        let ctx = RenderCtx {
            indent: 0,
            in_flow: true,
            indicator: 0,
        };
        render_string_as(key, Style::DoubleQuoted, &ctx).unwrap_or_else(|| format!("{key:?}"))
    }
}

/// Indentation of the node holding a leaf: its key's or its dash's column. A block
/// scalar's indentation indicator counts from there.
fn holder_col(span: &Span) -> usize {
    match span.holder {
        Holder::Key { col, .. } | Holder::Dash { col, .. } => col,
        Holder::None => span.line_indent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Leaf, ListItem};

    fn parse_ok(text: &str) -> (Parsed, YamlLayout) {
        parse(text, "t.yaml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn entry<'a>(doc: &'a Document, key: &str) -> &'a Node {
        doc.get(key).unwrap_or_else(|| panic!("no key {key}"))
    }

    fn span_text<'a>(text: &'a str, node: &Node) -> &'a str {
        match node {
            Node::Scalar(Leaf {
                span: Some(span), ..
            }) => &text[span.bytes.clone()],
            other => panic!("not a spanned scalar: {other:?}"),
        }
    }

    #[test]
    fn spans_cover_exactly_the_value_tokens() {
        let text = "a: 'x' # c1\nb: \"y\\n\" # c2\nc: plain text # c3\nd: |\n  line1\n  line2\n\ne: >-\n  folded\nf: &anc !!str tagged # c4\n";
        let (parsed, _) = parse_ok(text);
        let doc = &parsed.docs[0];
        assert_eq!(span_text(text, entry(doc, "a")), "'x'");
        assert_eq!(span_text(text, entry(doc, "b")), "\"y\\n\"");
        assert_eq!(span_text(text, entry(doc, "c")), "plain text");
        assert_eq!(span_text(text, entry(doc, "d")), "|\n  line1\n  line2");
        assert_eq!(span_text(text, entry(doc, "e")), ">-\n  folded");
        assert_eq!(span_text(text, entry(doc, "f")), "!!str tagged");
    }

    #[test]
    fn inline_comments_go_before_their_entry() {
        let text = "# head\na: 1 # on a\nb: 2\n";
        let (parsed, _) = parse_ok(text);
        let items = &parsed.docs[0].items;
        let shape: Vec<String> = items
            .iter()
            .map(|i| match i {
                Item::Entry { key, .. } => format!("entry {key}"),
                Item::Comment(c) => format!("comment{}", c.value),
            })
            .collect();
        assert_eq!(
            shape,
            ["comment head", "comment on a", "entry a", "entry b"]
        );
    }

    #[test]
    fn comments_land_in_the_block_they_are_indented_in() {
        let text = "map:\n  # first\n  child: a\n  # last in map\n# top level\nlist:\n  # before item\n  - one\n";
        let (parsed, _) = parse_ok(text);
        let doc = &parsed.docs[0];
        let Node::Map(map) = entry(doc, "map") else {
            panic!()
        };
        let comments: Vec<_> = map
            .iter()
            .filter_map(|i| match i {
                Item::Comment(c) => Some(c.value.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(comments, [" first", " last in map"]);
        assert!(doc
            .items
            .iter()
            .any(|i| matches!(i, Item::Comment(c) if c.value == " top level")));
        let Node::List(list) = entry(doc, "list") else {
            panic!()
        };
        assert!(matches!(&list[0], ListItem::Comment(c) if c.value == " before item"));
    }

    #[test]
    fn sops_block_is_found_and_cut_in_every_document() {
        let text = "a: 1\nsops:\n    version: 3.11.0\n---\nb: 2\nsops:\n    version: 3.11.0\n";
        let (parsed, _) = parse_ok(text);
        let meta = parsed.metadata.expect("metadata");
        assert_eq!(meta.ranges.len(), 2);
        let mut edits: Vec<_> = meta
            .ranges
            .iter()
            .map(|r| Edit::new(r.clone(), ""))
            .collect();
        assert_eq!(
            super::super::apply_edits(text, &mut edits).unwrap(),
            "a: 1\n---\nb: 2\n"
        );
        assert!(parsed.docs[0].get("sops").is_none());
    }

    #[test]
    fn bad_input_is_reported_with_a_place_and_code() {
        let err = parse("a: 1\na: 2\n", "dup.yaml").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("dup.yaml:2:1"), "{err}");
        let err = parse("", "empty.yaml").unwrap_err();
        assert_eq!(err.exit_code(), 92);
        let err = parse("# only\n", "c.yaml").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = parse("- a\n", "l.yaml").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = parse("a: [1, 2\n", "u.yaml").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("u.yaml:"), "{err}");
    }

    #[test]
    fn errors_never_quote_the_input() {
        let err = parse("key: \"hunter2\n", "s.yaml").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = parse("k: hunter2\nk: hunter2\n", "s.yaml").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
