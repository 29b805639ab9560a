//! The INI store (spec §9.4): the meaning sops gives a file, the user's own layout.
//!
//! sops reads INI with go-ini (`gopkg.in/ini.v1`, non-unique sections allowed, every
//! other option at its default). This module reads the same way, line by line, and keeps
//! the byte range of every value and comment:
//!
//! * The tree is a map of sections; keys before any section are in `DEFAULT`, which is
//!   always the first section (empty if unused). `[DEFAULT]` written out is a second,
//!   separate section, as in go-ini.
//! * `=` or `:` ends a key (the first of either); keys and values are trimmed (Unicode
//!   white space). A value may be `"""…"""` or `` `…` `` (both may span lines; text
//!   after the closing quote is dropped by go-ini), end in `\` (continued on the next
//!   lines), or be surrounded by one pair of `"` or `'` (removed). Otherwise the first
//!   `#` or `;` starts an inline comment, even inside quotes (`"y ; z"` reads `"y`).
//! * Comment lines (`#` or `;` after optional white space) gather until the next key or
//!   section header, with the key's or header's inline comment, into one comment: the
//!   lines joined with their line breaks, trimmed, and the leading `;`/`#` and spaces of
//!   the first line removed (sops's `stripCommentChar`). sops files it *after* its key
//!   (a section's comment comes first in the section). Comments after the last key of
//!   the file are dropped by go-ini; sealant keeps them (encrypted) at the end of the last
//!   section, except in files sops wrote.
//! * A key written twice in a section keeps its first place and its last value and
//!   comment; such a file is written afresh (its shadowed values cannot be kept safely).
//! * Values are strings. The metadata is the `[sops]` section, flattened (spec §6.3).
//!
//! Splicing: a value's ENC string replaces the text between its quotes (the quotes stay);
//! a comment's ENC string replaces its text after the comment character. A comment that
//! sops stores merged (several lines with blank or indented lines between them, or lines
//! above a key plus the key's inline comment) becomes one `; ENC[...]` line, and its
//! original text is kept as a region hint (`store::hints`), so decryption gives back the
//! user's bytes. See docs/FORMAT.md.

use std::collections::HashMap;
use std::ops::Range;

use super::flatten::{flatten, unflatten};
use super::{Edit, Edits, FoundMetadata, Layout, Parsed, TextLayout};
use crate::error::{Error, Location, Result};
use crate::tree::{Document, Item, Leaf, Node, Scalar, Span};

/// The section that holds the metadata.
const SOPS_SECTION: &str = "sops";
/// go-ini's name for the section of keys written before any header.
const DEFAULT_SECTION: &str = "DEFAULT";

// ---------------------------------------------------------------------------------------
// Reading, as go-ini does
// ---------------------------------------------------------------------------------------

/// How a value was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    None,
    Double,
    Single,
    Backtick,
    Triple,
}

impl Quote {
    fn mark(self) -> &'static str {
        match self {
            Quote::None => "",
            Quote::Double => "\"",
            Quote::Single => "'",
            Quote::Backtick => "`",
            Quote::Triple => "\"\"\"",
        }
    }
}

/// What an inline comment follows on its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    /// A value on one line: the comment can stay where it is.
    Value,
    /// The closing quote of a value that spans lines: once the value is one ENC string
    /// on one line, go-ini would drop a comment there, so it moves above the key.
    Multiline,
    /// A section header: go-ini takes the header's name up to the line's *last* `]`, so
    /// an ENC string (which ends in `]`) cannot follow it; the comment moves above.
    Header,
}

/// An inline comment: from its comment character to its last non-space character.
#[derive(Clone, Debug)]
struct Inline {
    at: Range<usize>,
    /// Where the text that carries it starts (just after the value or the `]`): the
    /// stretch cut when the comment moves.
    cut_from: usize,
    after: After,
}

/// A comment as go-ini gathers it: whole comment lines (from the comment character to
/// the line break, inclusive), then possibly an inline comment.
#[derive(Clone, Debug, Default)]
struct RawComment {
    lines: Vec<Range<usize>>,
    inline: Option<Inline>,
    /// Start of the line of the key or header that owns the comment.
    owner_line: usize,
}

impl RawComment {
    fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.inline.is_none()
    }
}

/// A value as read (no `Debug`: it holds the secret).
#[derive(Clone)]
struct RawValue {
    value: String,
    /// The value's text (inside the quotes): what a splice replaces.
    inner: Range<usize>,
    /// The value with its quotes.
    token: Range<usize>,
    quote: Quote,
    inline: Option<Inline>,
    /// Start of the line after the value.
    next: usize,
}

#[derive(Clone)]
struct RawKey {
    name: String,
    value: RawValue,
    comment: RawComment,
}

#[derive(Clone)]
struct RawSection {
    name: String,
    /// Start of the header line (None for the implicit `DEFAULT`).
    header_line: Option<usize>,
    comment: RawComment,
    keys: Vec<RawKey>,
    index: HashMap<String, usize>,
    /// A key was written twice.
    duplicate: bool,
    /// Start of the line after the section's last header or key line.
    end: usize,
    /// Comments after the last key (at the end of the file, or before `[sops]`).
    trailing: RawComment,
    /// Start of the line after the header (for `DEFAULT`, the start of the text).
    body: usize,
    /// Every key line, duplicates included, when the reader records sites.
    lines: Vec<KeySite>,
}

impl RawSection {
    fn new(name: String, header_line: Option<usize>, comment: RawComment, end: usize) -> Self {
        RawSection {
            name,
            header_line,
            comment,
            keys: Vec::new(),
            index: HashMap::new(),
            duplicate: false,
            end,
            trailing: RawComment::default(),
            body: end,
            lines: Vec::new(),
        }
    }

    /// go-ini's `NewKey`: a key seen again keeps its place and takes the new value and
    /// comment (an empty comment too).
    fn add(&mut self, key: RawKey) {
        match self.index.get(&key.name) {
            Some(&i) => {
                self.keys[i].value = key.value;
                self.keys[i].comment = key.comment;
                self.duplicate = true;
            }
            None => {
                self.index.insert(key.name.clone(), self.keys.len());
                self.keys.push(key);
            }
        }
    }
}

struct Reader<'a> {
    text: &'a str,
    file: &'a str,
    /// Record every key line ([`KeySite`]), for `set` and `unset`.
    sites: bool,
}

/// The start of the next line after `pos`, and the end of this line's content.
fn line_at(text: &str, pos: usize) -> (usize, usize) {
    match text[pos..].find('\n') {
        Some(i) => (pos + i, pos + i + 1),
        None => (text.len(), text.len()),
    }
}

/// Offset of the first non-space character in `text[from..to]`, or `to`.
fn skip_space(text: &str, from: usize, to: usize) -> usize {
    let s = &text[from..to];
    to - s.trim_start().len()
}

/// End of the last non-space character in `text[from..to]`, or `from`.
fn trim_end_at(text: &str, from: usize, to: usize) -> usize {
    from + text[from..to].trim_end().len()
}

/// go-ini's `hasSurroundedQuote`: `q` first and last, and nowhere else.
fn surrounded_by(s: &str, q: char) -> bool {
    s.len() >= 2 && s.starts_with(q) && s.ends_with(q) && !s[1..s.len() - 1].contains(q)
}

/// sops's `stripCommentChar`: the leading run of `;` and spaces (or `#` and spaces).
fn strip_comment_char(s: &str) -> &str {
    if s.starts_with(';') {
        s.trim_start_matches([';', ' '])
    } else if s.starts_with('#') {
        s.trim_start_matches(['#', ' '])
    } else {
        s
    }
}

impl<'a> Reader<'a> {
    fn error(&self, at: usize, what: &str) -> Error {
        Error::Parse {
            file: self.file.to_string(),
            at: location(self.text, at),
            what: what.to_string(),
        }
    }

    /// Every section, the implicit `DEFAULT` first.
    fn read(&self) -> Result<Vec<RawSection>> {
        let text = self.text;
        let mut pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let mut sections = vec![RawSection::new(
            DEFAULT_SECTION.into(),
            None,
            RawComment::default(),
            pos,
        )];
        let mut pending: Vec<Range<usize>> = Vec::new();
        let mut count = 1usize;
        while pos < text.len() {
            let (line_end, next) = line_at(text, pos);
            let start = skip_space(text, pos, next);
            if start >= next {
                pos = next;
                continue;
            }
            match text.as_bytes()[start] {
                b'#' | b';' => {
                    pending.push(start..next);
                    pos = next;
                }
                b'[' => {
                    let close = match text[start..next].rfind(']') {
                        Some(i) => start + i,
                        None => {
                            return Err(self.error(start, "a section header has no closing `]`"))
                        }
                    };
                    if close == start + 1 {
                        return Err(self.error(start, "a section header has an empty name"));
                    }
                    let name = text[start + 1..close].to_string();
                    let inline =
                        self.trailer(close + 1, line_end, After::Header, "a section header")?;
                    let comment = RawComment {
                        lines: std::mem::take(&mut pending),
                        inline,
                        owner_line: pos,
                    };
                    // Comments before `[sops]` end the section before it: sealant appends
                    // the metadata after them (go-ini files them under `[sops]`).
                    if name == SOPS_SECTION {
                        if let Some(last) = sections.last_mut() {
                            last.trailing = RawComment {
                                lines: comment.lines.clone(),
                                inline: None,
                                owner_line: pos,
                            };
                        }
                    }
                    sections.push(RawSection::new(name, Some(pos), comment, next));
                    count = 1;
                    pos = next;
                }
                _ => {
                    let (mut name, delimiter) = self.key_name(start, line_end)?;
                    if name == "-" {
                        name = format!("#{count}");
                        count += 1;
                    }
                    let value = self.value(delimiter + 1, line_end, next)?;
                    let comment = RawComment {
                        lines: std::mem::take(&mut pending),
                        inline: value.inline.clone(),
                        owner_line: pos,
                    };
                    let section = sections.last_mut().expect("DEFAULT is always there");
                    if self.sites {
                        section.lines.push(KeySite {
                            name: name.clone(),
                            line: pos,
                            key: start,
                            key_end: start + text[start..delimiter].trim_end().len(),
                            delimiter,
                            token: value.token.clone(),
                            quote: value.quote,
                            inline: value.inline.as_ref().map(|i| i.cut_from..i.at.end),
                            next: value.next,
                        });
                    }
                    pos = value.next;
                    section.end = pos;
                    section.add(RawKey {
                        name,
                        value,
                        comment,
                    });
                }
            }
        }
        if !pending.is_empty() {
            let last = sections.last_mut().expect("DEFAULT is always there");
            last.trailing = RawComment {
                lines: pending,
                inline: None,
                owner_line: text.len(),
            };
        }
        Ok(sections)
    }

    /// What follows a closing `]` or a closing quote up to the line's end: nothing but
    /// white space and perhaps a comment. go-ini silently drops other text there; sealant
    /// refuses it, since it could hold a secret that would stay in clear.
    fn trailer(
        &self,
        from: usize,
        line_end: usize,
        after: After,
        what: &str,
    ) -> Result<Option<Inline>> {
        let rest = &self.text[from..line_end];
        let cc = rest.find(['#', ';']).map(|i| from + i);
        let junk_end = cc.unwrap_or(line_end);
        let junk_at = skip_space(self.text, from, junk_end);
        if junk_at < junk_end {
            return Err(self.error(
                junk_at,
                &format!(
                    "text after {what} that sops ignores (go-ini drops it); remove it or make it a comment"
                ),
            ));
        }
        Ok(cc.map(|cc| Inline {
            at: cc..trim_end_at(self.text, cc, line_end),
            cut_from: from,
            after,
        }))
    }

    /// go-ini's `readKeyName`: the key and the offset of its delimiter.
    fn key_name(&self, start: usize, line_end: usize) -> Result<(String, usize)> {
        let text = self.text;
        let line = &text[start..line_end];
        // go-ini measures the line with its line break.
        let full_len = line_at(text, start).1 - start;
        let quote = if line.starts_with('"') {
            if full_len > 6 && line.starts_with("\"\"\"") {
                "\"\"\""
            } else {
                "\""
            }
        } else if line.starts_with('`') {
            "`"
        } else {
            ""
        };
        let (name, delimiter) = if quote.is_empty() {
            let Some(i) = line.find(['=', ':']) else {
                return Err(self.error(
                    start,
                    "a line that is neither a key = value pair, a comment nor a section header",
                ));
            };
            if i == 0 {
                return Err(self.error(start, "a key = value line with an empty key name"));
            }
            (line[..i].trim().to_string(), start + i)
        } else {
            let q = quote.len();
            let Some(close) = line[q..].find(quote).map(|i| q + i) else {
                return Err(self.error(start, "a quoted key name has no closing quote"));
            };
            let after = close + q;
            let Some(d) = line[after..].find(['=', ':']).map(|i| after + i) else {
                return Err(self.error(
                    start,
                    "a line that is neither a key = value pair, a comment nor a section header",
                ));
            };
            let junk = skip_space(text, start + after, start + d);
            if junk < start + d {
                return Err(self.error(
                    junk,
                    "text between a quoted key name and `=` that sops ignores (go-ini drops it)",
                ));
            }
            (line[q..close].trim().to_string(), start + d)
        };
        if name.is_empty() {
            return Err(self.error(start, "a key = value line with an empty key name"));
        }
        Ok((name, delimiter))
    }

    /// go-ini's `readValue` from just after the delimiter.
    fn value(&self, from: usize, line_end: usize, next: usize) -> Result<RawValue> {
        let text = self.text;
        let start = skip_space(text, from, next);
        if start >= next {
            return Ok(RawValue {
                value: String::new(),
                inner: line_end..line_end,
                token: line_end..line_end,
                quote: Quote::None,
                inline: None,
                next,
            });
        }
        // go-ini looks at the rest of the line with its line break.
        let rest = &text[start..next];
        let quote = if rest.len() > 3 && rest.starts_with("\"\"\"") {
            Quote::Triple
        } else if rest.starts_with('`') {
            Quote::Backtick
        } else {
            Quote::None
        };
        if quote != Quote::None {
            return self.quoted(start, line_end, next, quote);
        }
        let t_end = trim_end_at(text, start, line_end);
        let line = &text[start..t_end];
        if line.ends_with('\\') {
            return Ok(self.continued(start, t_end, next));
        }
        let (v_end, inline) = match line.find(['#', ';']) {
            Some(i) => (
                trim_end_at(text, start, start + i),
                Some(Inline {
                    at: start + i..t_end,
                    cut_from: trim_end_at(text, start, start + i),
                    after: After::Value,
                }),
            ),
            None => (t_end, None),
        };
        let v = &text[start..v_end];
        let (inner, quote) = if surrounded_by(v, '\'') {
            (start + 1..v_end - 1, Quote::Single)
        } else if surrounded_by(v, '"') {
            (start + 1..v_end - 1, Quote::Double)
        } else {
            (start..v_end, Quote::None)
        };
        Ok(RawValue {
            value: text[inner.clone()].to_string(),
            inner,
            token: start..v_end,
            quote,
            inline,
            next,
        })
    }

    /// A `"""` or backtick value, on one line or several (`readMultilines`).
    fn quoted(&self, start: usize, line_end: usize, next: usize, quote: Quote) -> Result<RawValue> {
        let text = self.text;
        let mark = quote.mark();
        let open = start + mark.len();
        if let Some(i) = text[open..next].rfind(mark) {
            let close = open + i;
            let token_end = close + mark.len();
            // go-ini returns here without looking for a comment: whatever follows is lost.
            let junk = skip_space(text, token_end, line_end);
            if junk < line_end {
                return Err(self.error(
                    junk,
                    "text after a quoted value that sops ignores (go-ini drops it, comments too); \
                     put a comment on its own line",
                ));
            }
            return Ok(RawValue {
                value: text[open..close].to_string(),
                inner: open..close,
                token: start..token_end,
                quote,
                inline: None,
                next,
            });
        }
        let mut pos = next;
        loop {
            if pos >= text.len() {
                return Err(self.error(
                    start,
                    &format!("a value opened with {mark} is never closed"),
                ));
            }
            let (l_end, l_next) = line_at(text, pos);
            if let Some(i) = text[pos..l_next].rfind(mark) {
                let close = pos + i;
                let token_end = close + mark.len();
                let inline = self.trailer(token_end, l_end, After::Multiline, "a closing quote")?;
                return Ok(RawValue {
                    value: text[open..close].to_string(),
                    inner: open..close,
                    token: start..token_end,
                    quote,
                    inline,
                    next: l_next,
                });
            }
            pos = l_next;
        }
    }

    /// A value ending in `\`, continued on the next lines (`readContinuationLines`):
    /// each line trimmed and appended, until one does not end in `\` or is empty.
    fn continued(&self, start: usize, t_end: usize, next: usize) -> RawValue {
        let text = self.text;
        let mut value = text[start..t_end - 1].to_string();
        let mut end = t_end;
        let mut pos = next;
        loop {
            if pos >= text.len() {
                break;
            }
            let (l_end, l_next) = line_at(text, pos);
            let s = skip_space(text, pos, l_end);
            let e = trim_end_at(text, s, l_end);
            pos = l_next;
            if s >= e {
                break;
            }
            value.push_str(&text[s..e]);
            end = e;
            if !value.ends_with('\\') {
                break;
            }
            value.pop();
        }
        RawValue {
            value,
            inner: start..end,
            token: start..end,
            quote: Quote::None,
            inline: None,
            next: pos,
        }
    }
}

/// 1-based line and column (in characters; a byte order mark is not a column).
fn location(text: &str, at: usize) -> Location {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let mut column = before[line_start..].chars().count() + 1;
    if line_start == 0 && before.starts_with('\u{feff}') {
        column -= 1;
    }
    Location { line, column }
}

// ---------------------------------------------------------------------------------------
// The tree and the layout
// ---------------------------------------------------------------------------------------

/// How a value token is written, for writing another value in its place.
#[derive(Clone, Debug)]
struct ValueToken {
    token: Range<usize>,
    quote: Quote,
}

/// Where a comment's ENC string goes, when it is not simply in place of its text.
#[derive(Clone, Debug, Default)]
struct CommentPlace {
    /// The span is empty: a new comment line is inserted there.
    new_line: bool,
    /// Text to remove (an inline comment that moves).
    cut: Option<Range<usize>>,
}

/// What the INI store remembers about a file between parse and write.
#[derive(Debug)]
pub struct IniLayout {
    /// Value tokens by the start of their span, sorted (a big file has 200,000: a
    /// sorted list is smaller and quicker to search than a hash map).
    values: Vec<(usize, ValueToken)>,
    /// Comments that are not written in place, by the start of their span.
    comments: HashMap<usize, CommentPlace>,
    /// Stretches to give back verbatim on decryption (see `TextLayout::verbatim_ranges`).
    verbatim: Vec<Range<usize>>,
    spliceable: bool,
    eol: &'static str,
}

fn span(bytes: Range<usize>) -> Span {
    Span::raw(bytes)
}

impl IniLayout {
    /// The token of the value whose span starts at `at`.
    fn value_token(&self, at: usize) -> Option<&ValueToken> {
        let i = self
            .values
            .binary_search_by_key(&at, |(start, _)| *start)
            .ok()?;
        Some(&self.values[i].1)
    }

    /// The comment item for `c`, placed in the layout; None when there is no comment.
    fn comment_item(&mut self, text: &str, c: &RawComment) -> Option<Item> {
        if c.is_empty() {
            return None;
        }
        let mut joined = String::new();
        for line in &c.lines {
            joined.push_str(&text[line.clone()]);
        }
        if let Some(inline) = &c.inline {
            joined.push_str(&text[inline.at.clone()]);
        }
        let trimmed = joined.trim();
        let value = strip_comment_char(trimmed).to_string();
        let first = c
            .lines
            .first()
            .map(|l| l.start)
            .or(c.inline.as_ref().map(|i| i.at.start))?;
        let text_start = first + (trimmed.len() - value.len());
        let last_end = match (&c.inline, c.lines.last()) {
            (Some(i), _) => i.at.end,
            (None, Some(l)) => trim_end_at(text, l.start, l.end),
            (None, None) => return None,
        };
        let text_end = if value.is_empty() {
            text_start
        } else {
            last_end.max(text_start)
        };
        let leaf_span = match (&c.inline, c.lines.last()) {
            (None, _) => {
                if !value.is_empty() && text[text_start..text_end] != value {
                    self.verbatim.push(text_start..text_end);
                }
                text_start..text_end
            }
            (Some(inline), Some(last)) => {
                let block_end = trim_end_at(text, last.start, last.end).max(text_start);
                if !value.is_empty() {
                    self.verbatim.push(text_start..inline.at.end);
                }
                self.comments.insert(
                    text_start,
                    CommentPlace {
                        new_line: false,
                        cut: Some(inline.cut_from..inline.at.end),
                    },
                );
                text_start..block_end
            }
            (Some(inline), None) if inline.after == After::Value => text_start..text_end,
            (Some(inline), None) => {
                let at = c.owner_line;
                if !value.is_empty() {
                    self.verbatim.push(at..inline.at.end);
                }
                self.comments.insert(
                    at,
                    CommentPlace {
                        new_line: true,
                        cut: Some(inline.cut_from..inline.at.end),
                    },
                );
                at..at
            }
        };
        Some(Item::Comment(Leaf {
            value,
            span: Some(span(leaf_span)),
        }))
    }
}

/// Parses INI text into the tree, the metadata and the layout.
pub fn parse(text: &str, file: &str) -> Result<(Parsed, Layout)> {
    let (parsed, layout) = parse_ini(text, file)?;
    Ok((parsed, Box::new(layout)))
}

/// Where the sections and keys of a clear INI file sit, for `set` and `unset`.
#[derive(Debug)]
pub struct IniSites {
    /// One per section of the tree, in its order (`DEFAULT` first, `[sops]` left out).
    pub sections: Vec<SectionSite>,
    /// The file's line break.
    pub eol: &'static str,
}

/// A section in the text.
#[derive(Debug)]
pub struct SectionSite {
    /// Start of the header line; none for the implicit `DEFAULT`.
    pub header: Option<usize>,
    /// Start of the line after the header (`DEFAULT`: the start of the text).
    pub body: usize,
    /// Start of the line after the last key line (`body` if there is none).
    pub end: usize,
    /// Every key line in order, a key written twice included.
    pub keys: Vec<KeySite>,
}

/// A `key = value` line (or lines, for a continued or multi-line value).
#[derive(Debug, Clone)]
pub struct KeySite {
    pub name: String,
    /// Start of the line.
    pub line: usize,
    /// Start and end of the key as written (quotes included).
    pub key: usize,
    pub key_end: usize,
    /// The `=` or `:`.
    pub delimiter: usize,
    /// The value as written, quotes included (empty at the end of the line if none).
    pub token: Range<usize>,
    quote: Quote,
    /// The inline comment, from the end of the value (where its blanks start).
    pub inline: Option<Range<usize>>,
    /// Start of the line after the value.
    pub next: usize,
}

/// Parses clear INI text and records where its sections and keys sit.
pub fn parse_with_sites(text: &str, file: &str) -> Result<(Parsed, IniSites)> {
    let (parsed, layout, sections) = parse_sections(text, file, true)?;
    let sites = sections
        .into_iter()
        .filter(|s| s.name != SOPS_SECTION)
        .map(|s| SectionSite {
            header: s.header_line,
            body: s.body,
            end: s.end,
            keys: s.lines,
        })
        .collect();
    Ok((
        parsed,
        IniSites {
            sections: sites,
            eol: layout.eol,
        },
    ))
}

fn parse_ini(text: &str, file: &str) -> Result<(Parsed, IniLayout)> {
    parse_sections(text, file, false).map(|(p, l, _)| (p, l))
}

fn parse_sections(
    text: &str,
    file: &str,
    sites: bool,
) -> Result<(Parsed, IniLayout, Vec<RawSection>)> {
    let reader = Reader { text, file, sites };
    let sections = reader.read()?;

    // go-ini's `GetSection` gives the first `[sops]` section; any other is cut out too
    // (sops panics on decrypting such a file).
    let sops: Vec<&RawSection> = sections.iter().filter(|s| s.name == SOPS_SECTION).collect();
    let sops_at = sections.iter().position(|s| s.name == SOPS_SECTION);
    let metadata = sops.first().map(|first| FoundMetadata {
        tree: metadata_tree(first),
        ranges: sops.iter().map(|s| metadata_range(text, s)).collect(),
    });
    let written_by_sealant = sops_at.is_some_and(|i| {
        sections[i]
            .index
            .contains_key(crate::metadata::SEALANT_FIELD)
    });
    let eof_continuation = !text.is_empty()
        && !text.ends_with('\n')
        && text[text.rfind('\n').map_or(0, |i| i + 1)..]
            .trim_end()
            .ends_with('\\');
    let spliceable = !eof_continuation
        && !sections
            .iter()
            .any(|s| s.duplicate && s.name != SOPS_SECTION);
    // go-ini drops comments after the last key; sealant keeps them (encrypted) in the
    // files it splices, but reads files sops wrote, and files written afresh, as sops.
    let keep_trailing = spliceable && (sops_at.is_none() || written_by_sealant);

    let mut layout = IniLayout {
        values: Vec::with_capacity(sections.iter().map(|s| s.keys.len()).sum()),
        comments: HashMap::new(),
        verbatim: Vec::new(),
        spliceable,
        eol: if text
            .find('\n')
            .is_some_and(|i| i > 0 && text.as_bytes()[i - 1] == b'\r')
        {
            "\r\n"
        } else {
            "\n"
        },
    };
    // `set`/`unset` need the sections as read too (a copy only then).
    let kept = if sites { sections.clone() } else { Vec::new() };
    let mut items = Vec::with_capacity(sections.len());
    // The sections are taken apart as the tree is made: names and values move into
    // it, and each section is freed when done (not all of them held twice).
    for s in sections {
        let RawSection {
            name,
            comment,
            keys,
            trailing,
            ..
        } = s;
        if name == SOPS_SECTION {
            continue;
        }
        let mut entries = Vec::with_capacity(keys.len() + 1);
        entries.extend(layout.comment_item(text, &comment));
        for k in keys {
            let RawKey {
                name,
                value,
                comment,
            } = k;
            layout.values.push((
                value.inner.start,
                ValueToken {
                    token: value.token,
                    quote: value.quote,
                },
            ));
            entries.push(Item::Entry {
                key: name,
                value: Node::Scalar(Leaf {
                    value: Scalar::Str(value.value),
                    span: Some(span(value.inner)),
                }),
            });
            entries.extend(layout.comment_item(text, &comment));
        }
        if keep_trailing {
            entries.extend(layout.comment_item(text, &trailing));
        }
        items.push(Item::Entry {
            key: name,
            value: Node::Map(entries),
        });
    }
    layout.values.sort_by_key(|(start, _)| *start);
    layout.verbatim.sort_by_key(|r| r.start);
    Ok((
        Parsed {
            docs: vec![Document { items }],
            metadata,
        },
        layout,
        kept,
    ))
}

/// The range of a `[sops]` section to cut: from the line break before its header (the
/// one `insert_metadata` adds) to the end of its last key line.
fn metadata_range(text: &str, s: &RawSection) -> Range<usize> {
    let header = s.header_line.unwrap_or(0);
    let before = &text[..header];
    let start = if before.ends_with("\r\n") {
        header - 2
    } else if before.ends_with('\n') {
        header - 1
    } else {
        header
    };
    start..s.end.max(start)
}

/// The metadata of a `[sops]` section, unflattened.
fn metadata_tree(s: &RawSection) -> Node {
    let pairs: Vec<(&str, &str)> = s
        .keys
        .iter()
        .map(|k| (k.name.as_str(), k.value.value.as_str()))
        .collect();
    // Like sops, ignore keys that do not unflatten rather than refuse the file: what is
    // missing is reported when the metadata is read.
    unflatten(pairs.iter().copied())
        .or_else(|_| {
            unflatten(
                pairs
                    .iter()
                    .copied()
                    .filter(|p| unflatten(std::iter::once(*p)).is_ok()),
            )
        })
        .unwrap_or(Node::Map(Vec::new()))
}

// ---------------------------------------------------------------------------------------
// Writing values into the user's text
// ---------------------------------------------------------------------------------------

/// Whether `s`, written bare where a bare value was, reads back as `s`.
fn bare_safe(s: &str) -> bool {
    !s.contains(['\n', '\r', '#', ';'])
        && s.trim() == s
        && !surrounded_by(s, '"')
        && !surrounded_by(s, '\'')
        && !s.starts_with("\"\"\"")
        && !s.starts_with('`')
        && !s.ends_with('\\')
}

/// Whether `s`, written between the quotes `q`, reads back as `s`.
fn safe_in(quote: Quote, s: &str) -> bool {
    match quote {
        Quote::None => bare_safe(s),
        // The inline comment is found before the quotes are removed.
        Quote::Double => !s.contains(['\n', '\r', '#', ';', '"']),
        Quote::Single => !s.contains(['\n', '\r', '#', ';', '\'']) && !s.starts_with("\"\""),
        Quote::Backtick => !s.contains('`'),
        Quote::Triple => !s.contains("\"\"\""),
    }
}

/// A token that reads back as `s`, for a value that cannot go where its old one was.
fn fresh_token(s: &str) -> Result<String> {
    let m = fresh_quote(s)?.mark();
    Ok(format!("{m}{s}{m}"))
}

/// The first quotes (none first) between which `s` reads back as `s`.
fn fresh_quote(s: &str) -> Result<Quote> {
    [
        Quote::None,
        Quote::Double,
        Quote::Single,
        Quote::Backtick,
        Quote::Triple,
    ]
    .into_iter()
    .find(|&q| safe_in(q, s) && !(q == Quote::Double && s.starts_with("\"\"")))
    .ok_or_else(|| Error::Emit {
        format: "ini",
        why: "a value holds both ` and \"\"\", which INI cannot quote".into(),
    })
}

// ---------------------------------------------------------------------------------------
// `set` and `unset`: values and keys written into the user's text
// ---------------------------------------------------------------------------------------

/// The edits that make `s` the value of the key line `site`, in the style of its token:
/// between its quotes when `s` reads back from there, else in quotes that fit. go-ini
/// drops a comment after a `"""` or backtick value on its line, so an inline comment
/// then moves to a line of its own above the key, where it is still the key's comment.
pub(crate) fn value_edits(text: &str, site: &KeySite, s: &str, eol: &str) -> Result<Vec<Edit>> {
    let mark = site.quote.mark().len();
    let inner = site.token.start + mark..site.token.end - mark;
    let (range, mut token, quote) = if safe_in(site.quote, s) {
        (inner, s.to_string(), site.quote)
    } else {
        let q = fresh_quote(s)?;
        let m = q.mark();
        (site.token.clone(), format!("{m}{s}{m}"), q)
    };
    // `a =` with no value: a blank between the delimiter and the new value.
    if site.token.is_empty() && range.start == site.delimiter + 1 && !token.is_empty() {
        token.insert(0, ' ');
    }
    let mut out = vec![Edit::new(range, token)];
    if let (Some(cut), Quote::Backtick | Quote::Triple) = (&site.inline, quote) {
        let comment = text[cut.clone()].trim_start();
        let indent = &text[site.line..site.key];
        out.push(Edit::new(cut.clone(), ""));
        out.push(Edit::new(
            site.line..site.line,
            format!("{indent}{comment}{eol}"),
        ));
    }
    Ok(out)
}

/// A new value as go-ini writes it (bare, or in the quotes its writer picks), or in
/// other quotes if go-ini would not read that back as `s`.
pub(crate) fn new_value_token(s: &str) -> Result<String> {
    let token = render_value(s);
    if read_back(&token).as_deref() == Some(s) {
        Ok(token)
    } else {
        fresh_token(s)
    }
}

/// A new key as go-ini writes it; a key go-ini would read back differently is an error.
pub(crate) fn key_token(name: &str, section: &str) -> Result<String> {
    match key_problem(name) {
        Some(why) => Err(emit_error(format!(
            "the key {name:?} in [{section}] {why}; it cannot be written as an INI key"
        ))),
        None => Ok(quote_key(name)),
    }
}

/// Why a new section cannot be named `name`, if it cannot.
pub(crate) fn section_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.contains(['\n', '\r']) {
        Some("holds a line break")
    } else {
        None
    }
}

impl TextLayout for IniLayout {
    fn edits_in_text_order(&self) -> bool {
        // Verbatim ranges become region hints, which need every edit.
        self.verbatim.is_empty()
    }
    fn can_splice(&self) -> bool {
        self.spliceable
    }

    fn encrypted_value(&self, _text: &str, span: &Span, enc: &str, out: &mut Edits) {
        out.push(Edit::new(span.bytes.clone(), enc));
    }

    fn clear_value(&self, _text: &str, span: &Span, value: &Scalar, out: &mut Edits) -> Result<()> {
        let s = value_string(value);
        match self.value_token(span.bytes.start) {
            Some(t) if safe_in(t.quote, &s) => out.push(Edit::new(span.bytes.clone(), s)),
            Some(t) => out.push(Edit::new(t.token.clone(), fresh_token(&s)?)),
            None => out.push(Edit::new(span.bytes.clone(), fresh_token(&s)?)),
        }
        Ok(())
    }

    fn decrypted_form(&self, _text: &str, span: &Span, value: &Scalar) -> Option<String> {
        let s = value_string(value);
        match self.value_token(span.bytes.start) {
            Some(t) if safe_in(t.quote, &s) => Some(s),
            _ => fresh_token(&s).ok(),
        }
    }

    fn comment(&self, span: &Span, text: &str, out: &mut Edits) {
        match self.comments.get(&span.bytes.start) {
            Some(place) => {
                let line = if place.new_line {
                    format!("; {text}{}", self.eol)
                } else {
                    text.to_string()
                };
                out.push(Edit::new(span.bytes.clone(), line));
                if let Some(cut) = &place.cut {
                    out.push(Edit::new(cut.clone(), ""));
                }
            }
            None => out.push(Edit::new(span.bytes.clone(), text)),
        }
    }

    fn insert_metadata(&self, text: &str, metadata: &Node) -> Result<Vec<Edit>> {
        let mut block = String::new();
        if !text.is_empty() {
            block.push_str(self.eol);
        }
        let section = metadata_section(metadata);
        write_section(&mut block, &section, false, self.eol);
        Ok(vec![Edit::new(text.len()..text.len(), block)])
    }

    fn verbatim_ranges(&self) -> Vec<Range<usize>> {
        self.verbatim.clone()
    }
}

// ---------------------------------------------------------------------------------------
// Writing a file afresh, as sops does (go-ini's writer)
// ---------------------------------------------------------------------------------------

struct OutKey {
    name: String,
    value: String,
    comment: String,
}

struct OutSection {
    name: String,
    comment: String,
    keys: Vec<OutKey>,
}

fn emit_error(why: String) -> Error {
    Error::Emit { format: "ini", why }
}

/// A scalar as sops's `ValToString` writes it into INI.
pub(crate) fn value_string(value: &Scalar) -> String {
    match value {
        Scalar::Str(s) => s.clone(),
        Scalar::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => super::go_text::non_string(other).unwrap_or_default(),
    }
}

/// What would stop go-ini from reading a key back as itself.
fn key_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.trim() != name {
        Some("begins or ends with white space")
    } else if name.contains(['\n', '\r']) {
        Some("holds a line break")
    } else if name.starts_with(['#', ';', '[']) {
        Some("would read as a comment or a section header")
    } else if name == "-" {
        Some("would read as an auto-numbered key")
    } else if (name.contains(['"', '=', ':']) && name.contains('`'))
        || (name.contains('`') && name.contains("\"\"\""))
    {
        Some("holds quote characters INI cannot quote")
    } else {
        None
    }
}

fn kind_of(node: &Node) -> &'static str {
    match node {
        Node::Map(_) => "a map",
        Node::List(_) => "a list",
        Node::Scalar(_) => "a scalar",
        Node::Null(_) => "null",
    }
}

/// Writes documents afresh, as sops does: each top-level key is a section of
/// `key = value` lines, the `DEFAULT` section first without a header, comments as `; `
/// lines above their key, `=` aligned, sections separated by a blank line, and the
/// metadata in a final `[sops]` section (sorted; sops writes it in random order).
///
/// A tree INI cannot hold is an error, never a silent loss: a value that is not a map of
/// scalars at the top (sops: "Section values should always be TreeBranches"), a nested
/// map or list, null, a key twice in a section, a name go-ini would read differently.
/// With metadata (an encrypted file) every value must also read back as itself.
pub fn emit(doc: &Document, metadata: Option<&Node>) -> Result<String> {
    let mut sections = Vec::new();
    for item in &doc.items {
        let Item::Entry { key, value } = item else {
            continue;
        };
        if key.is_empty() {
            return Err(emit_error("a section has an empty name".into()));
        }
        if key.contains(['\n', '\r']) {
            return Err(emit_error(format!(
                "the section name {key:?} holds a line break"
            )));
        }
        let Node::Map(entries) = value else {
            return Err(emit_error(format!(
                "the top-level key {key:?} holds {}; INI needs a section (a map of keys) there \
                 (sops: Section values should always be TreeBranches)",
                kind_of(value)
            )));
        };
        if sections.is_empty()
            && key.eq_ignore_ascii_case(DEFAULT_SECTION)
            && key != DEFAULT_SECTION
        {
            return Err(emit_error(format!(
                "a first section named {key:?} would be written without its header and read back as {DEFAULT_SECTION}"
            )));
        }
        let mut section = OutSection {
            name: key.clone(),
            comment: String::new(),
            keys: Vec::new(),
        };
        let mut rest = entries.as_slice();
        if let Some(Item::Comment(c)) = rest.first() {
            section.comment = c.value.clone();
            rest = &rest[1..];
        }
        for entry in rest {
            match entry {
                Item::Comment(c) => {
                    if let Some(last) = section.keys.last_mut() {
                        last.comment = c.value.clone();
                    }
                }
                Item::Entry { key: name, value } => {
                    if let Some(why) = key_problem(name) {
                        return Err(emit_error(format!("the key {name:?} in [{key}] {why}")));
                    }
                    if section.keys.iter().any(|k| &k.name == name) {
                        return Err(emit_error(format!(
                            "the key {name:?} appears twice in [{key}]; INI keeps only one"
                        )));
                    }
                    let Node::Scalar(leaf) = value else {
                        return Err(emit_error(format!(
                            "the key {name:?} in [{key}] holds {}; INI holds only one level of \
                             keys under a section",
                            kind_of(value)
                        )));
                    };
                    let value = value_string(&leaf.value);
                    if metadata.is_some()
                        && !bare_safe(&value)
                        && read_back(&render_value(&value)).as_deref() != Some(&value)
                    {
                        return Err(emit_error(format!(
                            "the value of {name:?} in [{key}] cannot be written so that INI reads it back unchanged"
                        )));
                    }
                    section.keys.push(OutKey {
                        name: name.clone(),
                        value,
                        comment: String::new(),
                    });
                }
            }
        }
        sections.push(section);
    }
    if let Some(meta) = metadata {
        sections.push(metadata_section(meta));
    }
    let mut out = String::new();
    let count = sections.len();
    for (i, section) in sections.iter().enumerate() {
        let first = i == 0;
        if first && section.name.eq_ignore_ascii_case(DEFAULT_SECTION) {
            // go-ini writes the default section without a header, and nothing at all
            // (not even the blank line after it) when it has no keys.
            write_comment(&mut out, &section.comment, false, "\n");
            if section.keys.is_empty() {
                continue;
            }
            write_keys(&mut out, section, "\n");
        } else {
            write_section(&mut out, section, true, "\n");
        }
        if i + 1 < count {
            out.push('\n');
        }
    }
    Ok(out)
}

/// The metadata as a `[sops]` section, keys sorted.
fn metadata_section(metadata: &Node) -> OutSection {
    let mut pairs = flatten(metadata);
    pairs.sort();
    OutSection {
        name: SOPS_SECTION.into(),
        comment: String::new(),
        keys: pairs
            .into_iter()
            .map(|(name, value)| OutKey {
                name,
                value,
                comment: String::new(),
            })
            .collect(),
    }
}

/// A section: its comment, its header, its keys.
fn write_section(out: &mut String, section: &OutSection, comment: bool, eol: &str) {
    if comment {
        write_comment(out, &section.comment, false, eol);
    }
    out.push('[');
    out.push_str(&section.name);
    out.push(']');
    out.push_str(eol);
    write_keys(out, section, eol);
}

/// go-ini's comment lines: `; text` unless a line already starts with `#` or `;`. Key
/// comments are trimmed; a section comment's lines are not (sops keeps a `\r` there).
fn write_comment(out: &mut String, comment: &str, key: bool, eol: &str) {
    if comment.is_empty() {
        return;
    }
    for line in comment.split('\n') {
        match line.chars().next() {
            Some(c @ ('#' | ';')) => {
                out.push(c);
                out.push(' ');
                out.push_str(line[1..].trim());
            }
            // go-ini would panic on an empty line; write an empty comment.
            _ => {
                out.push_str("; ");
                out.push_str(if key { line.trim() } else { line });
            }
        }
        out.push_str(eol);
    }
}

fn quote_key(name: &str) -> String {
    if name.contains(['"', '=', ':']) {
        format!("`{name}`")
    } else if name.contains('`') {
        format!("\"\"\"{name}\"\"\"")
    } else {
        name.to_string()
    }
}

/// go-ini's value quoting.
fn render_value(value: &str) -> String {
    if value.contains(['\n', '`']) {
        format!("\"\"\"{value}\"\"\"")
    } else if value.contains(['#', ';']) {
        format!("`{value}`")
    } else if value.trim().len() != value.len() {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

fn write_keys(out: &mut String, section: &OutSection, eol: &str) {
    let names: Vec<String> = section.keys.iter().map(|k| quote_key(&k.name)).collect();
    let align = names.iter().map(String::len).max().unwrap_or(0);
    for (key, name) in section.keys.iter().zip(&names) {
        write_comment(out, &key.comment, true, eol);
        out.push_str(name);
        out.extend(std::iter::repeat_n(' ', align - name.len()));
        out.push_str(" = ");
        out.push_str(&render_value(&key.value));
        out.push_str(eol);
    }
}

/// The value go-ini reads from `key = <token>`.
fn read_back(token: &str) -> Option<String> {
    let text = format!("k = {token}\n");
    let reader = Reader {
        text: &text,
        file: "",
        sites: false,
    };
    let sections = reader.read().ok()?;
    match sections.as_slice() {
        [s] if s.keys.len() == 1 => Some(s.keys[0].value.value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
