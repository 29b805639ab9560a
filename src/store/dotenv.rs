//! The dotenv store (spec §9.3, §6.3): `KEY=value` lines, read exactly as sops reads
//! them, written back by splicing so that blank lines and comments stay where they are.
//!
//! sops's rules, each checked against the real sops 3.11 (see `tests/it/dotenv.rs`):
//!
//! * The text is split on `\n` only; a `\r` before it stays part of the value or comment
//!   (so a CRLF file round-trips exactly, its `\r`s inside the ciphertexts).
//! * An empty line is skipped. A line starting with `#` (column 1) is a comment; its text
//!   is everything after the `#`.
//! * Any other line is split at its first `=`: the key is everything before it (spaces
//!   and `export ` included), the value everything after it, with no trimming and no
//!   quote processing; every two-character `\n` in the value is a line break. A line
//!   without `=` is an error ("invalid dotenv input line", exit 2). Note that sops reads
//!   an indented `#` line holding a `=` as an entry (`  # a=b` has key `  # a`), and so
//!   does sealant; without `=` it is an error, like a line holding only spaces or only
//!   the `\r` of a blank CRLF line.
//! * Every value is a string. A key starting with `sops_` is metadata (flattened,
//!   [`flatten`]), wherever its line is.
//!
//! sops drops blank lines when it writes; sealant splices values into the user's text,
//! so `decrypt(encrypt(f)) == f` byte for byte. Files sops wrote are emitted afresh by
//! [`emit`], exactly as `sops decrypt` prints them.

use std::ops::Range;

use super::{flatten, Edit, Edits, FoundMetadata, Layout, Parsed, TextLayout};
use crate::error::{Error, Location, Result};
use crate::tree::{Document, Item, Leaf, Node, Scalar, Span};

/// The prefix of metadata keys.
const PREFIX: &str = "sops_";

/// Parses dotenv text into the tree, the metadata and the layout.
pub fn parse(text: &str, file: &str) -> Result<(Parsed, Layout)> {
    // One item per line at most: sized once, not grown (a big file has 200,000 items).
    let mut items = Vec::with_capacity(count_byte(text.as_bytes(), b'\n') + 1);
    let mut meta = MetaLines::default();
    for line in Lines::new(text) {
        match line.read(file)? {
            Read::Item(item) => items.push(item),
            Read::Meta(field, raw) => meta.add(field, raw, &line),
            Read::Blank => {}
        }
    }
    Ok((
        Parsed {
            docs: vec![Document { items }],
            metadata: meta.finish(text, file)?,
        },
        Box::new(DotenvLayout),
    ))
}

/// Reads dotenv text to be walked one item at a time ([`super::FlatSource`]): the whole
/// text is checked and its metadata read first, with the errors [`parse`] gives; the
/// items are made as they are asked for.
pub fn parse_flat<'a>(text: &'a str, file: &str) -> Result<super::FlatSource<'a>> {
    let mut meta = MetaLines::default();
    for line in Lines::new(text) {
        if let Some((field, raw)) = line.meta(file)? {
            meta.add(field, raw, &line);
        }
    }
    let metadata = meta.finish(text, file)?;
    let file = file.to_string();
    let items = Lines::new(text).filter_map(move |line| match line.read(&file) {
        Ok(Read::Item(item)) => Some(Ok(item)),
        Ok(Read::Meta(..) | Read::Blank) => None,
        Err(e) => Some(Err(e)),
    });
    Ok(super::FlatSource {
        metadata,
        layout: Box::new(DotenvLayout),
        text,
        items: Box::new(items),
    })
}

/// The lines of a dotenv text: split on `\n` only.
struct Lines<'t> {
    text: &'t str,
    start: usize,
    number: usize,
    done: bool,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Lines {
            text,
            start: 0,
            number: 0,
            done: false,
        }
    }
}

/// One line: its number, where it starts and ends (without its line break).
struct RawLine<'t> {
    text: &'t str,
    number: usize,
    start: usize,
    end: usize,
}

impl<'t> Iterator for Lines<'t> {
    type Item = RawLine<'t>;

    fn next(&mut self) -> Option<RawLine<'t>> {
        if self.done {
            return None;
        }
        let start = self.start;
        let end =
            find_byte(&self.text.as_bytes()[start..], b'\n').map_or(self.text.len(), |i| start + i);
        self.number += 1;
        self.done = end == self.text.len();
        self.start = end + 1;
        Some(RawLine {
            text: self.text,
            number: self.number,
            start,
            end,
        })
    }
}

/// What a line holds.
enum Read<'t> {
    Blank,
    Item(Item),
    /// A `sops_` line: the key without the prefix, and the raw value.
    Meta(&'t str, &'t str),
}

impl<'t> RawLine<'t> {
    fn line(&self) -> &'t str {
        &self.text[self.start..self.end]
    }

    /// The line with its line break, if it has one.
    fn whole(&self) -> Range<usize> {
        self.start..(self.end + 1).min(self.text.len())
    }

    /// Where the line's `=` is; `None` for a blank line or a comment.
    fn split(&self, file: &str) -> Result<Option<usize>> {
        let line = self.line();
        if line.is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        find_byte(line.as_bytes(), b'=')
            .map(Some)
            .ok_or_else(|| invalid_line(file, self.number, line))
    }

    /// The metadata a line holds, if any (other lines are only checked).
    fn meta(&self, file: &str) -> Result<Option<(&'t str, &'t str)>> {
        let line = self.line();
        Ok(self.split(file)?.and_then(|eq| {
            let field = line[..eq].strip_prefix(PREFIX)?;
            Some((field, &line[eq + 1..]))
        }))
    }

    /// What the line holds, as sops reads it.
    fn read(&self, file: &str) -> Result<Read<'t>> {
        let line = self.line();
        let Some(eq) = self.split(file)? else {
            return Ok(match line.strip_prefix('#') {
                Some(comment) => Read::Item(Item::Comment(Leaf {
                    value: comment.to_string(),
                    span: Some(span(self.start + 1..self.end)),
                })),
                // Skipped, as in sops; the splice keeps it.
                None => Read::Blank,
            });
        };
        let key = &line[..eq];
        let raw = &line[eq + 1..];
        if let Some(field) = key.strip_prefix(PREFIX) {
            return Ok(Read::Meta(field, raw));
        }
        Ok(Read::Item(Item::Entry {
            key: key.to_string(),
            value: Node::Scalar(Leaf {
                value: Scalar::Str(decode_value(raw)),
                span: Some(span(self.start + eq + 1..self.end)),
            }),
        }))
    }
}

/// The `sops_` lines of a file: (key without prefix, raw value, line number), and the
/// byte ranges that hold them.
#[derive(Default)]
struct MetaLines<'t> {
    lines: Vec<(&'t str, &'t str, usize)>,
    ranges: Vec<Range<usize>>,
}

impl<'t> MetaLines<'t> {
    fn add(&mut self, field: &'t str, raw: &'t str, line: &RawLine<'t>) {
        self.lines.push((field, raw, line.number));
        let whole = line.whole();
        match self.ranges.last_mut() {
            Some(last) if last.end == whole.start => last.end = whole.end,
            _ => self.ranges.push(whole),
        }
    }

    fn finish(mut self, text: &str, file: &str) -> Result<Option<FoundMetadata>> {
        if self.lines.is_empty() {
            return Ok(None);
        }
        // With no final line break, the metadata at the end was added after a line break
        // of its own (see `insert_metadata`): cutting that too gives the user's text.
        if let Some(last) = self.ranges.last_mut() {
            if last.end == text.len() && !text.ends_with('\n') && last.start > 0 {
                last.start -= 1;
            }
        }
        Ok(Some(FoundMetadata {
            tree: unflatten(&self.lines, file)?,
            ranges: self.ranges,
        }))
    }
}

fn span(bytes: Range<usize>) -> Span {
    Span::raw(bytes)
}

/// A value as sops reads it: every two-character `\n` is a line break.
fn decode_value(raw: &str) -> String {
    // Most values (every `ENC[...]` string) hold no backslash: one fast scan settles it.
    if find_byte(raw.as_bytes(), b'\\').is_some() && raw.contains("\\n") {
        raw.replace("\\n", "\n")
    } else {
        raw.to_string()
    }
}

/// The position of the first `needle` in `hay`, eight bytes at a time (the line scan is
/// most of the parsing time of a big file, and `str::find` goes a byte at a time here).
fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ pattern;
        // A zero byte in `x` is a match; the lowest flagged byte is the first one.
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| at + i)
}

/// How many times `needle` occurs in `hay` (written so that it vectorizes).
fn count_byte(hay: &[u8], needle: u8) -> usize {
    let mut chunks = hay.chunks_exact(64);
    let mut n = 0;
    for chunk in &mut chunks {
        n += usize::from(chunk.iter().map(|&b| u8::from(b == needle)).sum::<u8>());
    }
    n + chunks.remainder().iter().filter(|&&b| b == needle).count()
}

/// The error for a line sops cannot read; it says why without quoting the line (it may
/// hold a secret).
fn invalid_line(file: &str, line: usize, text: &str) -> Error {
    let blank = text.trim_start_matches([' ', '\t', '\r']);
    let (column, why) = if blank.is_empty() {
        (
            1,
            if text.contains('\r') {
                "a line holding only a carriage return (a blank line of a CRLF file): \
                 sops reads only truly empty lines as blank"
            } else {
                "a line holding only spaces: sops reads only truly empty lines as blank"
            },
        )
    } else if blank.starts_with('#') {
        let indent = text.len() - blank.len();
        (
            text[..indent].chars().count() + 1,
            "a comment must start at the beginning of its line (`#` in column 1)",
        )
    } else {
        (
            1,
            "expected KEY=value or a `#` comment; the line has no `=`",
        )
    };
    Error::Parse {
        file: file.to_string(),
        at: Location { line, column },
        what: format!("invalid dotenv input line: {why}"),
    }
}

/// The metadata tree from the `sops_` lines. A malformed key is reported with its line.
fn unflatten(meta: &[(&str, &str, usize)], file: &str) -> Result<Node> {
    flatten::unflatten(meta.iter().map(|(k, v, _)| (*k, *v))).map_err(|e| {
        // Name the first line whose key is malformed on its own, if there is one.
        let line = meta
            .iter()
            .find(|(k, v, _)| flatten::unflatten([(*k, *v)]).is_err())
            .map(|(_, _, line)| *line);
        let why = match e {
            Error::Metadata(why) => why,
            other => other.to_string(),
        };
        match line {
            Some(line) => Error::Metadata(format!("{file}:{line}: {why}")),
            None => Error::Metadata(format!("{file}: {why}")),
        }
    })
}

/// What a dotenv file remembers for splicing: nothing (values are raw text, so an
/// `ENC[...]` string or a clear value simply replaces the old one at its span).
#[derive(Debug)]
pub struct DotenvLayout;

impl TextLayout for DotenvLayout {
    fn edits_in_text_order(&self) -> bool {
        // One item per line, walked in line order; the metadata goes at the end.
        true
    }

    fn encrypted_value(&self, _text: &str, span: &Span, enc: &str, out: &mut Edits) {
        out.replace(span.bytes.clone(), enc);
    }

    fn clear_value(&self, _text: &str, span: &Span, value: &Scalar, out: &mut Edits) -> Result<()> {
        out.replace(span.bytes.clone(), &value_text(value)?);
        Ok(())
    }

    fn decrypted_form(&self, _text: &str, _span: &Span, value: &Scalar) -> Option<String> {
        value_text(value).ok()
    }

    fn insert_metadata(&self, text: &str, metadata: &Node) -> Result<Vec<Edit>> {
        let lines = metadata_lines(metadata);
        // A file without a final line break gets one before the metadata and none after
        // it, so that cutting the metadata (see `parse`) gives the user's bytes back.
        let out = if !text.is_empty() && !text.ends_with('\n') {
            let mut s = String::with_capacity(lines.len() + 1);
            s.push('\n');
            s.push_str(lines.strip_suffix('\n').unwrap_or(&lines));
            s
        } else {
            lines
        };
        Ok(vec![Edit::new(text.len()..text.len(), out)])
    }
}

/// The `sops_*` lines, sorted by key in byte order as sops writes them, each ending
/// with a line break.
fn metadata_lines(metadata: &Node) -> String {
    let mut pairs = flatten::flatten(metadata);
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (key, value) in pairs {
        out.push_str(PREFIX);
        out.push_str(&key);
        out.push('=');
        out.push_str(&value);
        out.push('\n');
    }
    out
}

/// A value as sops's dotenv emitter writes it: strings with line breaks as `\n`; other
/// types (from a conversion) in Go's formatting: ints in decimal, floats `%G` with at
/// least one decimal, `true`/`false`, times in RFC 3339 (seconds).
pub(crate) fn value_text(value: &Scalar) -> Result<String> {
    let mut out = match value {
        Scalar::Str(s) => String::with_capacity(s.len()),
        _ => String::new(),
    };
    write_value(&mut out, value)?;
    Ok(out)
}

/// [`value_text`], appended to `out`.
fn write_value(out: &mut String, value: &Scalar) -> Result<()> {
    match value {
        Scalar::Str(s) => write_escaped(out, s),
        Scalar::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => write_escaped(out, s),
            Err(_) => {
                return Err(emit_error(
                    "a value is not UTF-8 text; use --output-type json or binary".into(),
                ))
            }
        },
        other => out.push_str(&super::go_text::non_string(other).unwrap_or_default()),
    }
    Ok(())
}

/// A string with each line break written as `\n`.
fn write_escaped(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(at) = find_byte(rest.as_bytes(), b'\n') {
        out.push_str(&rest[..at]);
        out.push_str("\\n");
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// A clear value in an encrypted file written afresh (a conversion): the text must read
/// back as the plaintext the MAC covers, so non-strings are written as their sops
/// plaintext (`True`, `1`), not in the plain-output spelling (`true`, `1.0`) with which
/// sops's own conversions fail their MAC.
fn clear_text_in_encrypted(key: &str, value: &Scalar) -> Result<String> {
    match value {
        Scalar::Str(s) if s.contains("\\n") => Err(emit_error(format!(
            "the clear value of {key:?} contains the characters \\n, which dotenv reads \
             as a line break (the file would fail its MAC)"
        ))),
        Scalar::Str(_) | Scalar::Bytes(_) => value_text(value),
        other => {
            let bytes = crate::crypto::plaintext::to_bytes(other);
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

fn emit_error(why: String) -> Error {
    Error::Emit {
        format: "dotenv",
        why,
    }
}

/// Writes a document afresh (conversion, files sops wrote), as sops writes it: one line
/// per item, `#text` or `KEY=value`, then the sorted `sops_*` lines when `metadata` is
/// given. Nested maps and lists are refused ("cannot use complex value in dotenv file",
/// exit 4, as in sops).
///
/// Where sops writes an encrypted file it cannot read back, sealant refuses or writes
/// what reads back (docs/COMPATIBILITY.md): a null (sops writes `<nil>`), a key that
/// would read back as another (holding `=` or a line break, starting with `#` or
/// `sops_`), a clear value holding `\n`.
pub fn emit(doc: &Document, metadata: Option<&Node>) -> Result<String> {
    let encrypted = metadata.is_some();
    // Sized once from the strings (other values are short): big files are mostly this.
    let size: usize = doc
        .items
        .iter()
        .map(|item| match item {
            Item::Comment(c) => c.value.len() + 2,
            Item::Entry {
                key,
                value:
                    Node::Scalar(Leaf {
                        value: Scalar::Str(s),
                        ..
                    }),
            } => key.len() + s.len() + 2,
            Item::Entry { key, .. } => key.len() + 26,
        })
        .sum();
    let mut out = String::with_capacity(size);
    for item in &doc.items {
        emit_item(&mut out, item, encrypted)?;
    }
    if let Some(meta) = metadata {
        out.push_str(&metadata_lines(meta));
    }
    Ok(out)
}

/// Writes one item as [`emit`] does: `#text` or `KEY=value`, and a line break.
/// `encrypted`: the file is written with metadata (values are ENC strings or clear
/// values in their sops plaintext).
pub fn emit_item(out: &mut String, item: &Item, encrypted: bool) -> Result<()> {
    match item {
        Item::Comment(c) => {
            out.push('#');
            out.push_str(&c.value);
            out.push('\n');
        }
        Item::Entry { key, value } => {
            if encrypted {
                check_key(key)?;
            }
            out.push_str(key);
            out.push('=');
            match value {
                Node::Map(_) | Node::List(_) => {
                    return Err(emit_error(format!(
                        "cannot use complex value in dotenv file (the value of {key:?} is a \
                         map or a list); dotenv holds only flat KEY=value pairs"
                    )))
                }
                Node::Null(_) if encrypted => {
                    return Err(emit_error(format!(
                        "the value of {key:?} is null, which dotenv cannot hold (sops writes \
                         `<nil>`, which it cannot decrypt)"
                    )))
                }
                // What sops prints for a null (Go's `%v` of nil).
                Node::Null(_) => out.push_str("<nil>"),
                Node::Scalar(leaf) if encrypted => {
                    out.push_str(&clear_text_in_encrypted(key, &leaf.value)?)
                }
                Node::Scalar(leaf) => write_value(out, &leaf.value)?,
            };
            out.push('\n');
        }
    }
    Ok(())
}

/// A key must read back as itself, or the encrypted file fails to decrypt.
pub(crate) fn check_key(key: &str) -> Result<()> {
    let why = if key.contains('=') {
        "contains `=`"
    } else if key.contains('\n') {
        "contains a line break"
    } else if key.starts_with('#') {
        "starts with `#` (it would read as a comment)"
    } else if key.starts_with(PREFIX) {
        "starts with `sops_` (it would read as metadata)"
    } else {
        return Ok(());
    };
    Err(emit_error(format!(
        "the key {key:?} {why}; it cannot be written as a dotenv key"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::apply_edits;

    fn parsed(text: &str) -> (Parsed, Layout) {
        parse(text, "t.env").unwrap()
    }

    fn entries(p: &Parsed) -> Vec<(String, String)> {
        p.docs[0]
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Entry {
                    key,
                    value:
                        Node::Scalar(Leaf {
                            value: Scalar::Str(v),
                            ..
                        }),
                } => Some((key.clone(), v.clone())),
                _ => None,
            })
            .collect()
    }

    fn comments(p: &Parsed) -> Vec<String> {
        p.docs[0]
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Comment(c) => Some(c.value.clone()),
                _ => None,
            })
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn byte_search_finds_the_first_match_anywhere() {
        let hay: Vec<u8> = (0..40u8).map(|i| b'a' + i % 20).collect();
        for needle in [b'a', b'h', b'i', b't', b'z', 0x80, 0] {
            assert_eq!(
                find_byte(&hay, needle),
                hay.iter().position(|&b| b == needle),
                "{needle}"
            );
            assert_eq!(
                count_byte(&hay, needle),
                hay.iter().filter(|&&b| b == needle).count()
            );
            for start in 0..hay.len() {
                assert_eq!(
                    find_byte(&hay[start..], needle),
                    hay[start..].iter().position(|&b| b == needle)
                );
            }
        }
        // Bytes next to the needle's value must not be taken for it (the borrow of the
        // classic zero-byte test only ever flags bytes above a real match).
        let tricky = [0x0b, 0x0a, 0x09, 0x8a, 0x0a, 0x01, 0xff, 0x00, 0x0a];
        for start in 0..tricky.len() {
            assert_eq!(
                find_byte(&tricky[start..], b'\n'),
                tricky[start..].iter().position(|&b| b == b'\n')
            );
        }
        let long = [b'x'; 200];
        assert_eq!(find_byte(&long, b'\n'), None);
        assert_eq!(count_byte(&long, b'x'), 200);
    }

    #[test]
    fn keys_and_values_are_raw_split_at_the_first_equals() {
        let text = " SPACED = x \nQ=\"quoted\"\nexport E=a=b=c\nH=#not a comment\nEMPTY=\n=nokey\n";
        let (p, _) = parsed(text);
        assert_eq!(
            entries(&p),
            vec![
                pair(" SPACED ", " x "),
                pair("Q", "\"quoted\""),
                pair("export E", "a=b=c"),
                pair("H", "#not a comment"),
                pair("EMPTY", ""),
                pair("", "nokey"),
            ]
        );
        assert!(p.metadata.is_none());
    }

    #[test]
    fn comments_start_in_column_one_and_keep_everything_after_the_hash() {
        let (p, _) = parsed("# one\n#two\n#\n  # a=b\n");
        assert_eq!(comments(&p), vec![" one", "two", ""]);
        // An indented `#` line with `=` is an entry for sops.
        assert_eq!(entries(&p), vec![pair("  # a", "b")]);
    }

    #[test]
    fn backslash_n_is_a_line_break_and_carriage_returns_stay() {
        let (p, _) = parsed("PEM=a\\nb\\\\nc\r\n#c\r\n");
        assert_eq!(entries(&p), vec![pair("PEM", "a\nb\\\nc\r")]);
        assert_eq!(comments(&p), vec!["c\r"]);
    }

    #[test]
    fn spans_cover_the_value_and_the_comment_text() {
        let text = "# hi\nA=xyz\r\nB=\n";
        let (p, _) = parsed(text);
        let spans: Vec<Range<usize>> = p.docs[0]
            .items
            .iter()
            .map(|i| match i {
                Item::Comment(c) => c.span.clone().unwrap().bytes,
                Item::Entry {
                    value: Node::Scalar(l),
                    ..
                } => l.span.clone().unwrap().bytes,
                _ => unreachable!(),
            })
            .collect();
        let texts: Vec<&str> = spans.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(texts, vec![" hi", "xyz\r", ""]);
    }

    #[test]
    fn bad_lines_name_the_place_and_not_the_content() {
        let cases = [
            ("A=1\nSECRETVALUE\n", 2, 1, "no `=`"),
            ("A=1\n   # SECRETVALUE\n", 2, 4, "column 1"),
            ("A=1\r\n\r\nB=SECRETVALUE\r\n", 2, 1, "carriage return"),
            ("A=1\n  \t\nB=SECRETVALUE\n", 2, 1, "only spaces"),
            ("A=1\n\t# SECRETVALUE", 2, 2, "column 1"),
        ];
        for (text, line, column, why) in cases {
            let err = parse(text, "t.env").expect_err(text);
            let msg = err.to_string();
            assert_eq!(err.exit_code(), 2, "{msg}");
            assert!(
                msg.starts_with(&format!("t.env:{line}:{column}: ")),
                "{msg}"
            );
            assert!(msg.contains("invalid dotenv input line"), "{msg}");
            assert!(msg.contains(why), "{msg}");
            assert!(!msg.contains("SECRETVALUE"), "{msg}");
        }
    }

    #[test]
    fn metadata_lines_anywhere_are_found_and_cut_with_their_line_break() {
        let text = "A=1\nsops_version=3.11.0\n# c\nsops_lastmodified=x\nsops_mac=m\n";
        let (p, _) = parsed(text);
        assert_eq!(entries(&p), vec![pair("A", "1")]);
        let found = p.metadata.unwrap();
        assert_eq!(found.ranges.len(), 2, "adjacent lines merge");
        let mut cuts: Vec<Edit> = found
            .ranges
            .iter()
            .map(|r| Edit::new(r.clone(), ""))
            .collect();
        assert_eq!(apply_edits(text, &mut cuts).unwrap(), "A=1\n# c\n");
        let Node::Map(fields) = found.tree else {
            panic!("a map")
        };
        assert_eq!(fields.len(), 3);
    }

    #[test]
    fn malformed_metadata_keys_are_errors_with_a_line() {
        let text = "A=SECRETVALUE\nsops_version=3.11.0\nsops_age__list_x__map_recipient=r\n";
        let err = parse(text, "t.env").unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.exit_code(), 1);
        assert!(msg.contains("t.env:3:"), "{msg}");
        assert!(!msg.contains("SECRETVALUE"), "{msg}");
    }

    fn sample_metadata() -> Node {
        let s = |v: &str| Node::Scalar(Leaf::new(Scalar::Str(v.into())));
        let e = |k: &str, v: Node| Item::Entry {
            key: k.into(),
            value: v,
        };
        Node::Map(vec![
            e(
                "age",
                Node::List(vec![crate::tree::ListItem::Node(Node::Map(vec![
                    e("recipient", s("age1x")),
                    e("enc", s("-----BEGIN-----\nabc\n-----END-----\n")),
                ]))]),
            ),
            e("lastmodified", s("2020-01-02T03:04:05Z")),
            e("mac", s("ENC[m]")),
            e("version", s("3.11.0")),
            e("sealant_version", s("0.1.0")),
        ])
    }

    #[test]
    fn inserted_metadata_is_sorted_and_cut_back_to_the_exact_text() {
        for text in [
            "",
            "A=1\n",
            "A=1",
            "A=1\n\n",
            "A=1\r\n",
            "# only a comment",
            "A=1\r",
        ] {
            let (_, layout) = parsed(text);
            let mut edits = layout.insert_metadata(text, &sample_metadata()).unwrap();
            let encrypted = apply_edits(text, &mut edits).unwrap();
            let (p, _) = parsed(&encrypted);
            let found = p.metadata.expect("metadata");
            let mut cuts: Vec<Edit> = found
                .ranges
                .iter()
                .map(|r| Edit::new(r.clone(), ""))
                .collect();
            assert_eq!(
                apply_edits(&encrypted, &mut cuts).unwrap(),
                text,
                "{text:?}"
            );
            let keys: Vec<&str> = encrypted
                .lines()
                .filter(|l| l.starts_with(PREFIX))
                .map(|l| l.split('=').next().unwrap())
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted);
            assert!(encrypted
                .contains("sops_age__list_0__map_enc=-----BEGIN-----\\nabc\\n-----END-----\\n\n"));
        }
    }

    #[test]
    fn values_are_written_as_sops_writes_them() {
        let cases: Vec<(Scalar, &str)> = vec![
            (Scalar::Str("a\nb".into()), "a\\nb"),
            (Scalar::Str("x\r".into()), "x\r"),
            (Scalar::Int(-7), "-7"),
            (Scalar::Float(1.5), "1.5"),
            (Scalar::Float(1.0), "1.0"),
            (Scalar::Float(-0.0), "-0.0"),
            (Scalar::Float(123456.0), "123456.0"),
            (Scalar::Float(1234567.0), "1.234567E+06"),
            (Scalar::Float(0.00001), "1E-05"),
            (Scalar::Float(0.0001), "0.0001"),
            (Scalar::Float(1e21), "1E+21"),
            (Scalar::Float(f64::INFINITY), "+Inf"),
            (Scalar::Float(f64::NEG_INFINITY), "-Inf"),
            (Scalar::Float(f64::NAN), "NaN"),
            (Scalar::Bool(true), "true"),
        ];
        for (value, want) in cases {
            assert_eq!(value_text(&value).unwrap(), want);
        }
        let t = crate::crypto::timestamp::parse_rfc3339("2024-01-02T03:04:05.123Z").unwrap();
        assert_eq!(
            value_text(&Scalar::Time(t)).unwrap(),
            "2024-01-02T03:04:05Z"
        );
        assert!(value_text(&Scalar::Bytes(vec![0xff])).is_err());
    }

    fn doc(items: Vec<Item>) -> Document {
        Document { items }
    }
    fn entry(key: &str, value: Node) -> Item {
        Item::Entry {
            key: key.into(),
            value,
        }
    }
    fn leaf(v: Scalar) -> Node {
        Node::Scalar(Leaf::new(v))
    }

    #[test]
    fn emit_writes_one_line_per_item_and_refuses_nesting() {
        let d = doc(vec![
            Item::Comment(Leaf::new(" top".into())),
            entry("s", leaf(Scalar::Str("a\nb".into()))),
            entry("i", leaf(Scalar::Int(42))),
            entry("n", Node::Null(None)),
        ]);
        assert_eq!(emit(&d, None).unwrap(), "# top\ns=a\\nb\ni=42\nn=<nil>\n");
        assert_eq!(emit(&doc(vec![]), None).unwrap(), "");
        let nested = doc(vec![entry("a", Node::Map(vec![]))]);
        let err = emit(&nested, None).unwrap_err();
        assert_eq!(err.exit_code(), 4);
        assert!(
            err.to_string().contains("cannot use complex value"),
            "{err}"
        );
        let list = doc(vec![entry("a", Node::List(vec![]))]);
        assert_eq!(emit(&list, None).unwrap_err().exit_code(), 4);
    }

    #[test]
    fn encrypted_emission_writes_only_what_reads_back() {
        let meta = sample_metadata();
        let d = doc(vec![
            entry("a", leaf(Scalar::Str("ENC[x]".into()))),
            entry("b_unencrypted", leaf(Scalar::Bool(true))),
            entry("f_unencrypted", leaf(Scalar::Float(1.0))),
        ]);
        let out = emit(&d, Some(&meta)).unwrap();
        assert!(
            out.starts_with(
                "a=ENC[x]\nb_unencrypted=True\nf_unencrypted=1\nsops_age__list_0__map_enc="
            ),
            "{out}"
        );
        for bad in [
            doc(vec![entry("n", Node::Null(None))]),
            doc(vec![entry("a=b", leaf(Scalar::Str("x".into())))]),
            doc(vec![entry("#a", leaf(Scalar::Str("x".into())))]),
            doc(vec![entry("sops_a", leaf(Scalar::Str("x".into())))]),
            doc(vec![entry("a\nb", leaf(Scalar::Str("x".into())))]),
            doc(vec![entry("a", leaf(Scalar::Str("x\\ny".into())))]),
        ] {
            assert_eq!(emit(&bad, Some(&meta)).unwrap_err().exit_code(), 4);
        }
    }

    #[test]
    fn the_decrypted_form_is_always_the_users_token() {
        let text = "A=a\\nb\nB=a\\\\nb\\n\nC=\\\\\\n\r\n";
        let (p, layout) = parsed(text);
        for item in &p.docs[0].items {
            if let Item::Entry {
                value: Node::Scalar(l),
                ..
            } = item
            {
                let span = l.span.as_ref().unwrap();
                let form = layout.decrypted_form(text, span, &l.value).unwrap();
                assert_eq!(form, &text[span.bytes.clone()]);
            }
        }
    }
}
