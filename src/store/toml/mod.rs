//! The TOML store: sealant's own format (sops has none), laid out so that rops and mise
//! can read it too. The type names, key paths and comment AADs are in docs/FORMAT.md.
//!
//! * `parse`: text to tree with the span of every value and comment.
//! * `emit`: value tokens in a given string style, and whole files.
//! * here: splicing (an `ENC[...]` string keeps the quotes of the value it replaces, a
//!   value that was not a string becomes a `"..."` string), and the `[sops]` table,
//!   appended after a blank line and cut out again on decryption.

pub(crate) mod emit;
mod parse;

use std::ops::Range;

use super::{Edit, Edits, FoundMetadata, Layout, Parsed, TextLayout};
use crate::error::Result;
use crate::tree::{Document, Node, Scalar, Span};
use emit::Quote;

pub use parse::{Container, Place, SectionSite, Stmt, TomlSites, MAX_DEPTH};

/// What the TOML store remembers about a file between parse and write.
#[derive(Debug)]
pub struct TomlLayout {
    /// The file's line break (`\r\n` if its first line ends so).
    nl: &'static str,
}

/// Parses TOML text into the tree, the metadata and the layout.
pub fn parse(text: &str, file: &str) -> Result<(Parsed, Layout)> {
    let p = parse::parse(text, file)?;
    let metadata = p.sops.map(|tree| FoundMetadata {
        tree,
        ranges: metadata_ranges(text, p.sops_ranges),
    });
    let crlf = text
        .find('\n')
        .is_some_and(|i| i > 0 && text.as_bytes()[i - 1] == b'\r');
    Ok((
        Parsed {
            docs: vec![p.doc],
            metadata,
        },
        Box::new(TomlLayout {
            nl: if crlf { "\r\n" } else { "\n" },
        }),
    ))
}

/// Writes a document afresh (conversion), with the metadata if given.
pub fn emit(doc: &Document, metadata: Option<&Node>) -> Result<String> {
    emit::document(&doc.items, metadata)
}

impl TextLayout for TomlLayout {
    fn edits_in_text_order(&self) -> bool {
        // Tables are walked in the order of the tree, which is the text's unless a table
        // is defined after its sub-tables (then the ordered edits give up and collect).
        true
    }
    fn encrypted_value(&self, text: &str, span: &Span, enc: &str, out: &mut Edits) {
        let quote = Quote::of(&text[span.bytes.clone()]).for_ciphertext();
        out.push(Edit::new(span.bytes.clone(), quote.wrap(enc)));
    }

    fn clear_value(&self, text: &str, span: &Span, value: &Scalar, out: &mut Edits) -> Result<()> {
        let quote = Quote::of(&text[span.bytes.clone()]);
        out.push(Edit::new(
            span.bytes.clone(),
            emit::render(value, quote, self.nl)?,
        ));
        Ok(())
    }

    fn decrypted_form(&self, text: &str, span: &Span, value: &Scalar) -> Option<String> {
        // Decryption writes the value in the style of its ENC string.
        let quote = Quote::of(&text[span.bytes.clone()]).for_ciphertext();
        emit::render(value, quote, self.nl).ok()
    }

    fn insert_metadata(&self, text: &str, metadata: &Node) -> Result<Vec<Edit>> {
        let block = emit::metadata_block(metadata, self.nl)?;
        // After a blank line. A file without a final line break gets a block without
        // one: that is how `metadata_ranges` knows to cut the line breaks it added.
        let insertion = if text.is_empty() {
            block
        } else if text.ends_with('\n') {
            format!("{}{block}", self.nl)
        } else {
            let body = block.strip_suffix(self.nl).unwrap_or(&block);
            format!("{nl}{nl}{body}", nl = self.nl)
        };
        Ok(vec![Edit::new(text.len()..text.len(), insertion)])
    }
}

/// The ranges to cut to remove the `sops` table: its sections and lines, joined where
/// only blank space separates them; at the end of the file, also the line breaks that
/// `insert_metadata` added before it (one after a final line break, two without).
fn metadata_ranges(text: &str, mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last)
                if r.start <= last.end
                    || text[last.end..r.start]
                        .bytes()
                        .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) =>
            {
                last.end = last.end.max(r.end);
            }
            _ => merged.push(r),
        }
    }
    if let Some(last) = merged.last_mut() {
        if last.end == text.len() && last.start > 0 {
            let breaks = if text.ends_with('\n') { 1 } else { 2 };
            // Only line breaks that stand alone (a blank line before the table) are
            // sealant's; the user's last line keeps its own.
            let mut start = last.start;
            let mut found = Vec::new();
            for _ in 0..=breaks {
                match line_break_before(text, start) {
                    Some(s) => {
                        found.push(s);
                        start = s;
                    }
                    None => break,
                }
            }
            let cut = match (breaks, found.len()) {
                (1, n) if n >= 2 => Some(found[0]),
                (2, n) if n >= 2 => Some(found[1]),
                _ => None,
            };
            if let Some(cut) = cut {
                last.start = cut;
            }
        }
    }
    merged
}

/// The start of the line break (`\n` or `\r\n`) that ends right at `at`.
fn line_break_before(text: &str, at: usize) -> Option<usize> {
    let b = text.as_bytes();
    if at == 0 || b[at - 1] != b'\n' {
        return None;
    }
    Some(if at >= 2 && b[at - 2] == b'\r' {
        at - 2
    } else {
        at - 1
    })
}

#[cfg(test)]
mod tests;

/// Parses clear TOML text and records where its tables, statements and arrays sit.
pub fn parse_with_sites(text: &str, file: &str) -> Result<(Parsed, TomlSites)> {
    let (p, sites) = parse::parse_with_sites(text, file)?;
    Ok((
        Parsed {
            docs: vec![p.doc],
            metadata: None,
        },
        sites,
    ))
}
