//! The JSON store: a hand-written scanner that keeps byte spans, Go-compatible value
//! rendering, metadata insertion into the user's own layout, and fresh emission in the
//! layout sops writes (spec §9.2).
//!
//! Behaviours checked against sops 3.11 (the reference binary):
//!
//! * The top level must be an object; member order is kept and duplicate keys are kept
//!   as separate items.
//! * A UTF-8 byte order mark is rejected (sops fails with "invalid character 'ï'"), so
//!   sealant never writes a file sops cannot read back.
//! * Numbers follow Go's JSON grammar (no leading zeros, no `+`, no `.5`). A number that
//!   overflows a float64 (`1e400`) is an error, as in sops; underflow gives 0.
//! * A lone UTF-16 surrogate in a `\u` escape becomes U+FFFD, as in Go.
//! * sops 3.11 silently ignores text after the top-level object when encrypting (and
//!   drops it); sealant rejects it instead.
//! * Nesting is limited to [`MAX_DEPTH`] levels (Go allows 10000); deeper input is a
//!   parse error rather than a stack overflow.
//!
//! Typing: sops 3.11 reads every JSON number as a float64, and its MAC hashes clear
//! numbers that way. An integer literal (no `.`, `e`, `E`) whose value a float64 holds
//! exactly (|n| <= 2^53) is a [`Scalar::Int`]: same plaintext, same MAC, and `type:int`
//! as sops 3.13.2 writes it. Larger integers are `Float`s, rounded exactly as sops 3.11
//! rounds them, so clear values keep a matching MAC; sealant's layout hints still give
//! the user's own digits back on decrypt. `-0` is [`Scalar::Float`] `-0.0` (plaintext
//! `-0`, as sops 3.11); everything else is a `Float`.

use std::fmt::Write as _;

/// The largest integer magnitude a float64 holds exactly.
const EXACT_FLOAT_INT: u64 = 1 << 53;
use std::ops::Range;

use crate::error::{code, Error, Location, Result};
use crate::store::patch::sites::{SiteRecorder, Sites};
use crate::store::{Edit, Edits, FoundMetadata, Parsed};
use crate::tree::{Document, Holder, Item, Leaf, ListItem, Node, Scalar, Span, Style};
use crate::treepath::Step;

/// Deepest nesting of objects and arrays that [`parse`] accepts.
pub const MAX_DEPTH: usize = 1000;

/// The name of the metadata member.
const SOPS_KEY: &str = "sops";

/// Indentation of freshly emitted JSON: sops uses one tab per level unless `--indent N`
/// (or `stores.json.indent`) asks for N spaces. `Spaces(0)` puts every element on its
/// own line with no indentation, as sops does for `--indent 0`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Indent {
    #[default]
    Tab,
    Spaces(usize),
}

impl Indent {
    fn unit(self) -> String {
        match self {
            Indent::Tab => "\t".to_owned(),
            Indent::Spaces(n) => " ".repeat(n),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/// Parses a JSON file. See the module documentation for the accepted language.
///
/// Each scalar leaf carries a [`Span`] whose `bytes` are its token (a string with its
/// quotes, or a bare number/`true`/`false`; `null` gives `Node::Null(Some(span))`).
/// A top-level member `"sops"` is removed from the document and returned as
/// [`FoundMetadata`]; cutting its single range out of `text` leaves valid JSON, and for
/// a file written by sops (or by [`insert_metadata`]) exactly the text without metadata.
pub fn parse(text: &str, file: &str) -> Result<Parsed> {
    parse_with_layout(text, file).map(|(parsed, _)| parsed)
}

/// Where the top-level object and its members sit, kept from the parse so that adding
/// the metadata needs no second pass over the file.
#[derive(Debug, Clone)]
pub struct TopLayout {
    open: usize,
    members: Vec<Member>,
}

impl crate::store::TextLayout for TopLayout {
    fn edits_in_text_order(&self) -> bool {
        // Members in text order; the metadata goes before the closing brace.
        true
    }
    fn encrypted_value(&self, _text: &str, span: &Span, enc: &str, out: &mut Edits) {
        out.push(Edit::new(span.bytes.clone(), render_encrypted(enc)));
    }
    fn clear_value(&self, _text: &str, span: &Span, value: &Scalar, out: &mut Edits) -> Result<()> {
        out.push(Edit::new(span.bytes.clone(), render_value(value)?));
        Ok(())
    }
    fn decrypted_form(&self, _text: &str, _span: &Span, value: &Scalar) -> Option<String> {
        render_value(value).ok()
    }
    fn insert_metadata(&self, text: &str, metadata: &Node) -> Result<Vec<Edit>> {
        Ok(vec![metadata_insertion_with(text, self, metadata)?])
    }
}

/// [`parse`], also returning the top-level layout for [`metadata_insertion_with`].
pub fn parse_with_layout(text: &str, file: &str) -> Result<(Parsed, TopLayout)> {
    from_top(text, file, parse_top(text, file)?)
}

/// The parse result of a scanned top level: the `sops` member found and cut out.
fn from_top(text: &str, file: &str, top: TopLevel) -> Result<(Parsed, TopLayout)> {
    let TopLevel {
        mut items,
        open,
        close,
        members,
        ..
    } = top;

    let sops_at: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| matches!(item, Item::Entry { key, .. } if key == SOPS_KEY))
        .map(|(i, _)| i)
        .collect();
    let metadata = match sops_at.as_slice() {
        [] => None,
        [i] => {
            let i = *i;
            let range = metadata_range(text, open, close, &members, i);
            let tree = match items.remove(i) {
                Item::Entry { value, .. } => value,
                Item::Comment(_) => unreachable!("JSON has no comments"),
            };
            Some(FoundMetadata {
                tree,
                ranges: vec![range],
            })
        }
        _ => {
            return Err(Error::Metadata(format!(
                "{file}: more than one top-level \"{SOPS_KEY}\" member"
            )))
        }
    };
    let layout = TopLayout {
        open,
        members: members.clone(),
    };
    Ok((
        Parsed {
            docs: vec![Document { items }],
            metadata,
        },
        layout,
    ))
}

/// Where a top-level member sits: enough to cut it out or to add one after it.
#[derive(Debug, Clone, Copy)]
struct Member {
    /// Offset of the key's opening quote.
    key_start: usize,
    /// Offset just past the `:`.
    colon_end: usize,
    /// Offset just past the value's last byte.
    value_end: usize,
}

struct TopLevel {
    sites: Option<Sites>,
    items: Vec<Item>,
    /// Offset of the top-level `{`.
    open: usize,
    /// Offset of the top-level `}`.
    close: usize,
    members: Vec<Member>,
}

/// The byte range that holds member `i` (the metadata) and one separator, so that
/// cutting it leaves valid JSON:
///
/// * after another member: from the end of the previous value to the end of this one
///   (`,\n\t"sops": {…}`), leaving what follows untouched;
/// * first of several: from its key to the next key;
/// * the only member: everything after `{` up to and including the first line break
///   after the value, so that sops's `{\n\t"sops": {…}\n}` gives back `{}`.
fn metadata_range(
    text: &str,
    open: usize,
    close: usize,
    members: &[Member],
    i: usize,
) -> Range<usize> {
    let m = members[i];
    if i > 0 {
        members[i - 1].value_end..m.value_end
    } else if members.len() > 1 {
        m.key_start..members[1].key_start
    } else {
        let after = &text.as_bytes()[m.value_end..close];
        let end = match after.iter().position(|&b| b == b'\n') {
            Some(nl) => m.value_end + nl + 1,
            None => m.value_end,
        };
        open + 1..end
    }
}

/// Parses a JSON file and says where every object and array sits (`set`, `unset`).
pub fn parse_with_sites(text: &str, file: &str) -> Result<(Parsed, Sites)> {
    let mut top = parse_top_recording(text, file, true)?;
    let sites = top.sites.take().unwrap_or_default();
    let (parsed, _) = from_top(text, file, top)?;
    Ok((parsed, sites))
}

fn parse_top(text: &str, file: &str) -> Result<TopLevel> {
    parse_top_recording(text, file, false)
}

fn parse_top_recording(text: &str, file: &str, record: bool) -> Result<TopLevel> {
    let mut p = Parser::new(text, file);
    if record {
        p.sites = Some(SiteRecorder::default());
    }
    if text.starts_with('\u{feff}') {
        return Err(p.error(
            0,
            "a UTF-8 byte order mark is not allowed at the start of a JSON file (sops rejects it too)",
        ));
    }
    p.skip_ws();
    let found = match p.peek() {
        Some(b'{') => None,
        None => Some("the file is empty"),
        Some(b'[') => Some("found an array"),
        Some(b'"') => Some("found a string"),
        Some(b'-' | b'0'..=b'9') => Some("found a number"),
        Some(b't' | b'f') => Some("found a boolean"),
        Some(b'n') => Some("found null"),
        Some(_) => return Err(p.error(p.pos, "expected a JSON object at the top level")),
    };
    if let Some(found) = found {
        return Err(Error::Input {
            file: file.to_owned(),
            what: format!("expected a JSON object at the top level ({found})"),
            code: code::COULD_NOT_READ_INPUT,
        });
    }
    let open = p.pos;
    let Node::Map(items) = p.parse_value()? else {
        unreachable!("a value starting with '{{' is an object")
    };
    let close = p.pos - 1;
    let members = std::mem::take(&mut p.members);
    p.skip_ws();
    if p.pos < p.b.len() {
        return Err(p.error(p.pos, "trailing characters after the top-level object"));
    }
    Ok(TopLevel {
        items,
        open,
        close,
        members,
        sites: p.sites.map(|r| r.done),
    })
}

/// 1-based line and column (in characters) of byte offset `at`.
fn location(text: &str, at: usize) -> Location {
    let b = text.as_bytes();
    let at = at.min(b.len());
    let before = &b[..at];
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    // Count characters, not bytes: skip UTF-8 continuation bytes.
    let column = before[line_start..]
        .iter()
        .filter(|&&c| c & 0xC0 != 0x80)
        .count()
        + 1;
    Location { line, column }
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    file: &'a str,
    /// Offset of the start of the current line.
    line_start: usize,
    /// `line_indent` of the line starting at `indent_cache.0`.
    indent_cache: (usize, usize),
    /// Members of the outermost object.
    members: Vec<Member>,
    /// Where every container sits, when asked for ([`parse_with_sites`]).
    sites: Option<SiteRecorder>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, file: &'a str) -> Self {
        Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
            file,
            line_start: 0,
            indent_cache: (usize::MAX, 0),
            members: Vec::new(),
            sites: None,
        }
    }

    fn error(&self, at: usize, what: &str) -> Error {
        Error::Parse {
            file: self.file.to_owned(),
            at: location(self.src, at),
            what: what.to_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.pos) {
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line_start = self.pos;
                }
                _ => break,
            }
        }
    }

    /// Characters of leading spaces and tabs on the current line.
    fn line_indent(&mut self) -> usize {
        if self.indent_cache.0 != self.line_start {
            let n = self.b[self.line_start..]
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count();
            self.indent_cache = (self.line_start, n);
        }
        self.indent_cache.1
    }

    fn span(&mut self, bytes: Range<usize>) -> Option<Span> {
        Some(Span {
            bytes,
            style: Style::Raw,
            line_indent: self.line_indent(),
            in_flow: false,
            holder: Holder::None,
        })
    }

    /// Parses the value at `pos` (whitespace already skipped), objects and arrays
    /// included. The nesting is tracked on an explicit stack, not by recursion, so deep
    /// input cannot overflow the call stack. Members of the outermost object are
    /// recorded in `self.members`.
    fn parse_value(&mut self) -> Result<Node> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            // Read one value; an opening bracket pushes a frame and reads its first
            // element instead.
            let mut node = match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(self.error(self.pos, "objects and arrays nested too deeply"));
                    }
                    self.site_start(&stack, open == b'[');
                    self.pos += 1;
                    self.skip_ws();
                    if open == b'{' {
                        if self.peek() == Some(b'}') {
                            self.site_end();
                            self.pos += 1;
                            Node::Map(Vec::new())
                        } else {
                            let (key, key_start, colon_end) = self.parse_key(false)?;
                            stack.push(Frame::Object {
                                items: Vec::new(),
                                key,
                                key_start,
                                colon_end,
                            });
                            continue 'value;
                        }
                    } else if self.peek() == Some(b']') {
                        self.site_end();
                        self.pos += 1;
                        Node::List(Vec::new())
                    } else {
                        stack.push(Frame::Array { elems: Vec::new() });
                        continue 'value;
                    }
                }
                _ => self.parse_scalar()?,
            };
            // Attach the finished value to its container; close containers as long as
            // their closing bracket follows.
            loop {
                let depth = stack.len();
                if let Some(r) = &mut self.sites {
                    r.value(self.b, self.pos);
                }
                match stack.last_mut() {
                    None => return Ok(node),
                    Some(Frame::Object {
                        items,
                        key,
                        key_start,
                        colon_end,
                    }) => {
                        if depth == 1 {
                            self.members.push(Member {
                                key_start: *key_start,
                                colon_end: *colon_end,
                                value_end: self.pos,
                            });
                        }
                        items.push(Item::Entry {
                            key: std::mem::take(key),
                            value: node,
                        });
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                let (k, ks, ce) = self.parse_key(true)?;
                                (*key, *key_start, *colon_end) = (k, ks, ce);
                                continue 'value;
                            }
                            Some(b'}') => {
                                self.site_end();
                                self.pos += 1;
                                let Some(Frame::Object { items, .. }) = stack.pop() else {
                                    unreachable!("the top frame is an object")
                                };
                                node = Node::Map(items);
                            }
                            None => return Err(self.error(self.pos, "unterminated object")),
                            Some(_) => {
                                return Err(self
                                    .error(self.pos, "expected ',' or '}' after an object member"))
                            }
                        }
                    }
                    Some(Frame::Array { elems }) => {
                        elems.push(ListItem::Node(node));
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                if self.peek() == Some(b']') {
                                    return Err(self.error(
                                        self.pos,
                                        "expected a value after ',' (a trailing comma is not allowed)",
                                    ));
                                }
                                continue 'value;
                            }
                            Some(b']') => {
                                self.site_end();
                                self.pos += 1;
                                let Some(Frame::Array { elems }) = stack.pop() else {
                                    unreachable!("the top frame is an array")
                                };
                                node = Node::List(elems);
                            }
                            None => return Err(self.error(self.pos, "unterminated array")),
                            Some(_) => {
                                return Err(self
                                    .error(self.pos, "expected ',' or ']' after an array element"))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Records a container opening at `pos`, inside the containers of `stack`.
    fn site_start(&mut self, stack: &[Frame], list: bool) {
        if let Some(r) = &mut self.sites {
            let path = stack
                .iter()
                .map(|f| match f {
                    Frame::Object { key, .. } => Step::Key(key.clone()),
                    Frame::Array { elems } => Step::Index(elems.len()),
                })
                .collect();
            r.start(path, list, true, self.pos, self.pos + 1);
        }
    }

    /// Records the end of the innermost container, whose closer is at `pos`.
    fn site_end(&mut self) {
        if let Some(r) = &mut self.sites {
            r.end(self.pos);
        }
    }

    /// Reads `"key":` and the whitespace after it. Returns the key, the offset of its
    /// opening quote and the offset just past the colon.
    fn parse_key(&mut self, after_comma: bool) -> Result<(String, usize, usize)> {
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.error(self.pos, "unterminated object")),
            Some(b'}') if after_comma => {
                return Err(self.error(
                    self.pos,
                    "expected a string key after ',' (a trailing comma is not allowed)",
                ))
            }
            Some(_) if after_comma => {
                return Err(self.error(self.pos, "expected a string key after ','"))
            }
            Some(_) => return Err(self.error(self.pos, "expected a string key or '}'")),
        }
        let key_start = self.pos;
        let key = self.parse_string()?;
        if let Some(r) = &mut self.sites {
            r.key(key_start, self.pos);
        }
        self.skip_ws();
        match self.peek() {
            Some(b':') => self.pos += 1,
            None => return Err(self.error(self.pos, "unterminated object")),
            Some(_) => return Err(self.error(self.pos, "expected ':' after an object key")),
        }
        let colon_end = self.pos;
        self.skip_ws();
        Ok((key, key_start, colon_end))
    }

    /// Parses a string, number or literal at `pos`.
    fn parse_scalar(&mut self) -> Result<Node> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => {
                let s = self.parse_string()?;
                let span = self.span(start..self.pos);
                Ok(Node::Scalar(Leaf {
                    value: Scalar::Str(s),
                    span,
                }))
            }
            Some(b't') => self.literal(b"true", Some(Scalar::Bool(true))),
            Some(b'f') => self.literal(b"false", Some(Scalar::Bool(false))),
            Some(b'n') => self.literal(b"null", None),
            Some(b'-' | b'0'..=b'9') => self.parse_number(),
            None => Err(self.error(self.pos, "expected a value, found the end of the file")),
            Some(_) => Err(self.error(
                self.pos,
                "expected a value (a string, number, object, array, true, false or null)",
            )),
        }
    }

    fn literal(&mut self, word: &[u8], value: Option<Scalar>) -> Result<Node> {
        let start = self.pos;
        if !self.b[start..].starts_with(word) {
            return Err(self.error(start, "invalid literal (expected true, false or null)"));
        }
        self.pos += word.len();
        let span = self.span(start..self.pos);
        Ok(match value {
            Some(value) => Node::Scalar(Leaf { value, span }),
            None => Node::Null(span),
        })
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - from
    }

    fn parse_number(&mut self) -> Result<Node> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.error(start, "invalid number: leading zeros are not allowed"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error(start, "invalid number: expected a digit after '-'")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integer = false;
            if self.digits() == 0 {
                return Err(self.error(start, "invalid number: expected a digit after '.'"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            integer = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error(start, "invalid number: expected a digit in the exponent"));
            }
        }
        let literal = &self.src[start..self.pos];
        let value = if literal == "-0" {
            Scalar::Float(-0.0)
        } else if let Some(i) = integer
            .then(|| literal.parse::<i64>().ok())
            .flatten()
            .filter(|i| i.unsigned_abs() <= EXACT_FLOAT_INT)
        {
            Scalar::Int(i)
        } else {
            match literal.parse::<f64>() {
                Ok(f) if f.is_finite() => Scalar::Float(f),
                _ => {
                    return Err(
                        self.error(start, "number out of range for a 64-bit float (as in sops)")
                    )
                }
            }
        };
        let span = self.span(start..self.pos);
        Ok(Node::Scalar(Leaf { value, span }))
    }

    /// Reads four hex digits at `at`.
    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.b.get(at..at + 4)?;
        let mut v = 0u32;
        for &d in digits {
            v = v * 16 + (d as char).to_digit(16)?;
        }
        Some(v)
    }

    /// Parses a string at `pos` (on its opening quote), unescaping it.
    fn parse_string(&mut self) -> Result<String> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        // Fast path: no escapes.
        loop {
            self.skip_plain();
            match self.peek() {
                None => return Err(self.error(open, "unterminated string")),
                Some(b'"') => {
                    let s = self.src[start..self.pos].to_owned();
                    self.pos += 1;
                    return Ok(s);
                }
                Some(b'\\') => break,
                Some(c) if c < 0x20 => return Err(self.control_error()),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(&self.src[start..self.pos]);
        loop {
            match self.peek() {
                None => return Err(self.error(open, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.unescape(open, &mut out)?,
                Some(c) if c < 0x20 => return Err(self.control_error()),
                Some(_) => {
                    let run = self.pos;
                    self.skip_plain();
                    out.push_str(&self.src[run..self.pos]);
                }
            }
        }
    }

    /// Moves `pos` to the next byte that ends a plain run inside a string: `"`, `\\`, a
    /// control character, or the end.
    fn skip_plain(&mut self) {
        const STOP: [bool; 256] = {
            let mut t = [false; 256];
            let mut i = 0;
            while i < 0x20 {
                t[i] = true;
                i += 1;
            }
            t[b'"' as usize] = true;
            t[b'\\' as usize] = true;
            t
        };
        let rest = &self.b[self.pos..];
        // Eight bytes at a time while none of them stops the run.
        let mut i = 0;
        while i + 8 <= rest.len() {
            let chunk = &rest[i..i + 8];
            if chunk.iter().any(|&c| STOP[c as usize]) {
                break;
            }
            i += 8;
        }
        while i < rest.len() && !STOP[rest[i] as usize] {
            i += 1;
        }
        self.pos += i;
    }

    fn control_error(&self) -> Error {
        self.error(
            self.pos,
            "control character in a string (it must be escaped, e.g. \\n)",
        )
    }

    /// Decodes the escape at `pos` (on its backslash) into `out`.
    fn unescape(&mut self, open: usize, out: &mut String) -> Result<()> {
        let at = self.pos;
        let simple = match self.b.get(at + 1) {
            None => return Err(self.error(open, "unterminated string")),
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let Some(unit) = self.hex4(at + 2) else {
                    return Err(self.error(at, "invalid \\u escape (expected four hex digits)"));
                };
                self.pos = at + 6;
                out.push(self.utf16_unit(unit));
                return Ok(());
            }
            Some(_) => return Err(self.error(at, "invalid escape in a string")),
        };
        out.push(simple);
        self.pos = at + 2;
        Ok(())
    }

    /// Turns one `\uXXXX` unit (already consumed) into a character, consuming a second
    /// `\uXXXX` if it completes a surrogate pair. A lone surrogate gives U+FFFD, as Go.
    fn utf16_unit(&mut self, unit: u32) -> char {
        if (0xD800..0xDC00).contains(&unit) && self.b.get(self.pos..self.pos + 2) == Some(b"\\u") {
            if let Some(low) = self.hex4(self.pos + 2) {
                if (0xDC00..0xE000).contains(&low) {
                    self.pos += 6;
                    let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    return char::from_u32(c).unwrap_or('\u{FFFD}');
                }
            }
        }
        char::from_u32(unit).unwrap_or('\u{FFFD}')
    }
}

/// An open container while parsing.
enum Frame {
    /// An object and the key of the member whose value is being read.
    Object {
        items: Vec<Item>,
        key: String,
        key_start: usize,
        colon_end: usize,
    },
    Array {
        elems: Vec<ListItem>,
    },
}

// ---------------------------------------------------------------------------------------
// Rendering values
// ---------------------------------------------------------------------------------------

fn emit_error(why: &str) -> Error {
    Error::Emit {
        format: "JSON",
        why: why.to_owned(),
    }
}

/// A clear value as the JSON token sops (Go's `encoding/json`) writes for it.
///
/// NaN and ±Inf cannot be written as JSON: like sops (exit 4, "json: unsupported
/// value"), this is an [`Error::Emit`]. A time outside years 0–9999 is an error too, as
/// in Go.
pub fn render_value(s: &Scalar) -> Result<String> {
    let mut out = String::new();
    write_scalar(&mut out, s)?;
    Ok(out)
}

/// An `ENC[...]` string as a JSON string token.
pub fn render_encrypted(enc: &str) -> String {
    let mut out = String::with_capacity(enc.len() + 2);
    write_string(&mut out, enc);
    out
}

fn write_scalar(out: &mut String, s: &Scalar) -> Result<()> {
    match s {
        Scalar::Str(v) => write_string(out, v),
        Scalar::Bytes(b) => write_bytes_string(out, b),
        Scalar::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Scalar::Float(f) => out.push_str(&format_float(*f).ok_or_else(|| {
            emit_error("JSON cannot represent an infinite or NaN number (sops fails too)")
        })?),
        Scalar::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Scalar::Time(t) => {
            let text = rfc3339_nano(t).ok_or_else(|| {
                emit_error("a time outside the years 0 to 9999 cannot be written as JSON")
            })?;
            write_string(out, &text);
        }
    }
    Ok(())
}

/// A float as Go's `encoding/json` writes it: the shortest round-trip digits, in plain
/// decimal for 1e-6 <= |f| < 1e21 (and 0), otherwise in exponent form with a signed,
/// at least two-digit positive exponent (`6.02e+23`) and an unpadded negative one
/// (`1e-7`). `None` for NaN and infinities.
pub fn format_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        // Rust's Display is the shortest round-trip form, never with an exponent.
        return Some(format!("{f}"));
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e')?;
    Some(match exp.strip_prefix('-') {
        Some(digits) => format!("{mantissa}e-{digits}"),
        None => format!("{mantissa}e+{exp:0>2}"),
    })
}

/// Go's `time.RFC3339Nano`, as `time.Time.MarshalJSON` writes it; `None` for a year
/// outside 0..=9999, which Go refuses to marshal.
fn rfc3339_nano(t: &time::OffsetDateTime) -> Option<String> {
    (0..=9999)
        .contains(&t.year())
        .then(|| crate::crypto::timestamp::format_time_nano(t))
}

/// Writes `s` as a JSON string, escaped like Go's `encoding/json` with HTML escaping:
/// `\"` `\\` `\n` `\r` `\t` `\b` `\f`, other control characters as `\u00XX`, `<` `>`
/// `&` as `\u003c` `\u003e` `\u0026`, U+2028/U+2029 escaped, everything else raw.
/// A string that is not UTF-8, as Go's `encoding/json` writes it: each byte that is not
/// part of a valid UTF-8 sequence becomes the escape `\ufffd` (one per byte).
fn write_bytes_string(out: &mut String, bytes: &[u8]) {
    let mut quoted = String::new();
    let mut rest = bytes;
    let mut valid_runs: Vec<(String, usize)> = Vec::new();
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                valid_runs.push((text.to_owned(), 0));
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                let bad_len = e.error_len().unwrap_or(bad.len());
                // `good` is valid UTF-8 by construction.
                valid_runs.push((String::from_utf8_lossy(good).into_owned(), bad_len));
                rest = &bad[bad_len..];
            }
        }
    }
    out.push('"');
    for (text, invalid) in valid_runs {
        quoted.clear();
        write_string(&mut quoted, &text);
        out.push_str(&quoted[1..quoted.len() - 1]);
        for _ in 0..invalid {
            out.push_str("\\ufffd");
        }
    }
    out.push('"');
}

fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    /// Bytes that may need escaping (0xE2 starts U+2028 and U+2029).
    const MAYBE: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < 0x20 {
            t[i] = true;
            i += 1;
        }
        t[b'"' as usize] = true;
        t[b'\\' as usize] = true;
        t[b'<' as usize] = true;
        t[b'>' as usize] = true;
        t[b'&' as usize] = true;
        t[0xE2] = true;
        t
    };
    out.reserve(s.len() + 2);
    out.push('"');
    let b = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !MAYBE[c as usize] {
            i += 1;
            continue;
        }
        let escape: Option<&str> = match c {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            b'<' => Some("\\u003c"),
            b'>' => Some("\\u003e"),
            b'&' => Some("\\u0026"),
            0xE2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xA8 | 0xA9)) => {
                Some(if b[i + 2] == 0xA8 {
                    "\\u2028"
                } else {
                    "\\u2029"
                })
            }
            c if c < 0x20 => Some(""),
            _ => None,
        };
        let Some(escape) = escape else {
            i += 1;
            continue;
        };
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[(c >> 4) as usize] as char);
            out.push(HEX[(c & 0xF) as usize] as char);
        } else {
            out.push_str(escape);
        }
        i += if c == 0xE2 { 3 } else { 1 };
        run = i;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

// ---------------------------------------------------------------------------------------
// Emission
// ---------------------------------------------------------------------------------------

/// How containers are laid out.
enum Layout<'a> {
    /// One element per line, like Go's `json.Indent`: a line break, `base`, then `unit`
    /// once per level, before each element and before a non-empty container's closer.
    Pretty {
        nl: &'a str,
        base: &'a str,
        unit: &'a str,
    },
    /// All on one line, with these separators after `:` and `,`.
    Compact { colon: &'a str, comma: &'a str },
}

impl Layout<'_> {
    fn open_line(&self, out: &mut String, depth: usize) {
        if let Layout::Pretty { nl, base, unit } = self {
            out.push_str(nl);
            out.push_str(base);
            for _ in 0..depth {
                out.push_str(unit);
            }
        }
    }

    fn colon(&self) -> &str {
        match self {
            Layout::Pretty { .. } => ": ",
            Layout::Compact { colon, .. } => colon,
        }
    }

    fn separator(&self, out: &mut String, depth: usize) {
        out.push(',');
        match self {
            Layout::Pretty { .. } => self.open_line(out, depth),
            Layout::Compact { comma, .. } => out.push_str(comma),
        }
    }
}

/// Writes a map's members (comments are dropped) plus an optional extra last member.
fn write_map(
    out: &mut String,
    items: &[Item],
    extra: Option<(&str, &Node)>,
    layout: &Layout,
    depth: usize,
) -> Result<()> {
    out.push('{');
    let entries = items
        .iter()
        .filter_map(|item| match item {
            Item::Entry { key, value } => Some((key.as_str(), value)),
            Item::Comment(_) => None,
        })
        .chain(extra);
    let mut empty = true;
    for (key, value) in entries {
        if empty {
            layout.open_line(out, depth + 1);
        } else {
            layout.separator(out, depth + 1);
        }
        empty = false;
        write_string(out, key);
        out.push_str(layout.colon());
        write_node(out, value, layout, depth + 1)?;
    }
    if !empty {
        layout.open_line(out, depth);
    }
    out.push('}');
    Ok(())
}

fn write_node(out: &mut String, node: &Node, layout: &Layout, depth: usize) -> Result<()> {
    match node {
        Node::Map(items) => write_map(out, items, None, layout, depth)?,
        Node::List(elems) => {
            out.push('[');
            let mut empty = true;
            for elem in elems {
                let ListItem::Node(value) = elem else {
                    continue;
                };
                if empty {
                    layout.open_line(out, depth + 1);
                } else {
                    layout.separator(out, depth + 1);
                }
                empty = false;
                write_node(out, value, layout, depth + 1)?;
            }
            if !empty {
                layout.open_line(out, depth);
            }
            out.push(']');
        }
        Node::Scalar(leaf) => write_scalar(out, &leaf.value)?,
        Node::Null(_) => out.push_str("null"),
    }
    Ok(())
}

/// A value as JSON text for a place inside a user's file: one element per line, each
/// line starting with `base` and then `unit` per level; the closing bracket at `base`.
pub fn render_pretty(node: &Node, nl: &str, base: &str, unit: &str) -> Result<String> {
    let layout = Layout::Pretty { nl, base, unit };
    let mut out = String::new();
    write_node(&mut out, node, &layout, 0)?;
    Ok(out)
}

/// A value as JSON text on one line, with `colon` after keys and `comma` after commas.
pub fn render_compact(node: &Node, colon: &str, comma: &str) -> Result<String> {
    let layout = Layout::Compact { colon, comma };
    let mut out = String::new();
    write_node(&mut out, node, &layout, 0)?;
    Ok(out)
}

/// A whole JSON file as sops writes it: one element per line, `indent` per level,
/// `": "` after keys, `{}`/`[]` for empty containers, comments dropped, the metadata
/// (if any) as the last member `"sops"`, and a final `\n`.
pub fn emit(doc: &Document, metadata: Option<&Node>, indent: Indent) -> Result<String> {
    let metadata = metadata.map(go_nil_group_lists);
    let metadata = metadata.as_ref();
    let unit = indent.unit();
    let layout = Layout::Pretty {
        nl: "\n",
        base: "",
        unit: &unit,
    };
    let mut out = String::new();
    write_map(
        &mut out,
        &doc.items,
        metadata.map(|m| (SOPS_KEY, m)),
        &layout,
        0,
    )?;
    out.push('\n');
    Ok(out)
}

/// A subtree as `sops decrypt --extract` prints it with JSON output: a map is a whole
/// file (with a final `\n`, as sops's `EmitPlainFile`); a list or a scalar is indented
/// the same way but has no final newline (sops's `EmitValue`). The caller prints a
/// string leaf raw instead, as sops does; here a string is a quoted JSON string.
pub fn emit_node(node: &Node, indent: Indent) -> Result<String> {
    let unit = indent.unit();
    let layout = Layout::Pretty {
        nl: "\n",
        base: "",
        unit: &unit,
    };
    let mut out = String::new();
    write_node(&mut out, node, &layout, 0)?;
    if matches!(node, Node::Map(_)) {
        out.push('\n');
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Metadata insertion
// ---------------------------------------------------------------------------------------

/// Adds `"sops": metadata` as the last member of the top-level object of a user's file,
/// changing nothing else, in the file's own style:
///
/// * line endings: `\r\n` if the first line ends so, else `\n`;
/// * a multi-line object: the metadata goes on a new line with the last member's
///   indentation, laid out one element per line with the same indentation unit (the
///   last member's indentation minus that of the `{` line);
/// * a one-line object (`{"a": 1}`): the metadata is written on the same line, with the
///   file's separators;
/// * an empty object: `{\n\t"sops": {…}\n}` as sops writes it (anything that was
///   between the braces stays before the `}`).
///
/// [`parse`] of the result finds exactly one range, and cutting it gives back `text`.
pub fn insert_metadata(text: &str, metadata: &Node) -> Result<String> {
    let edit = metadata_insertion(text, metadata)?;
    let at = edit.range.start;
    let mut out = String::with_capacity(text.len() + edit.text.len());
    out.push_str(&text[..at]);
    out.push_str(&edit.text);
    out.push_str(&text[at..]);
    Ok(out)
}

/// sops writes the metadata with Go's `encoding/json`, where an empty (nil) slice is
/// `null`: inside `key_groups` the lists sops always writes (`hc_vault`, and `age` when
/// a group has none) are `null` in JSON, `[]` in YAML. The metadata tree is the same for
/// every format, so JSON applies this when it writes it.
fn go_nil_group_lists(metadata: &Node) -> Node {
    let mut node = metadata.clone();
    let Node::Map(items) = &mut node else {
        return node;
    };
    for item in items {
        let Item::Entry { key, value } = item else {
            continue;
        };
        let Node::List(groups) = value else {
            continue;
        };
        if key != "key_groups" {
            continue;
        }
        for group in groups {
            if let ListItem::Node(Node::Map(fields)) = group {
                for field in fields {
                    if let Item::Entry { value, .. } = field {
                        if matches!(value, Node::List(l) if l.is_empty()) {
                            *value = Node::Null(None);
                        }
                    }
                }
            }
        }
    }
    node
}

/// The insertion that [`insert_metadata`] makes, as an edit of `text`. Replacing values
/// does not move members, so the edit computed on the clear text also applies with the
/// value edits (one pass over the file instead of re-reading the encrypted output).
pub fn metadata_insertion(text: &str, metadata: &Node) -> Result<crate::store::Edit> {
    let top = parse_top(text, "(JSON text)")?;
    if top
        .items
        .iter()
        .any(|item| matches!(item, Item::Entry { key, .. } if key == SOPS_KEY))
    {
        return Err(Error::AlreadyEncrypted);
    }
    let layout = TopLayout {
        open: top.open,
        members: top.members,
    };
    metadata_insertion_with(text, &layout, metadata)
}

/// [`metadata_insertion`] for a text already parsed by [`parse_with_layout`] (which has
/// no `sops` member: the caller checked).
pub fn metadata_insertion_with(
    text: &str,
    top: &TopLayout,
    metadata: &Node,
) -> Result<crate::store::Edit> {
    let metadata = &go_nil_group_lists(metadata);
    let b = text.as_bytes();
    let nl = match b.iter().position(|&c| c == b'\n') {
        Some(i) if i > 0 && b[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    };
    let base = leading_ws(text, top.open).unwrap_or("");

    let mut meta = String::new();
    let (at, insertion) = match top.members.last() {
        None => {
            let layout = Layout::Pretty {
                nl,
                base,
                unit: "\t",
            };
            let mut s = String::new();
            layout.open_line(&mut s, 1);
            s.push_str("\"sops\": ");
            write_node(&mut s, metadata, &layout, 1)?;
            s.push_str(nl);
            (top.open + 1, s)
        }
        Some(last) => {
            let line_ws = leading_ws(text, last.key_start)
                .filter(|_| b[top.open..last.key_start].contains(&b'\n'));
            let mut s = String::new();
            match line_ws {
                Some(prefix) => {
                    let (base, unit) = match prefix.strip_prefix(base) {
                        Some(unit) => (base, unit),
                        None => ("", prefix),
                    };
                    let layout = Layout::Pretty { nl, base, unit };
                    s.push(',');
                    layout.open_line(&mut s, 1);
                    s.push_str("\"sops\": ");
                    write_node(&mut meta, metadata, &layout, 1)?;
                }
                None => {
                    let after_colon = &text[last.colon_end..];
                    let colon = if after_colon.starts_with([' ', '\t', '\r', '\n']) {
                        ": "
                    } else {
                        ":"
                    };
                    let gap = match top.members.len() {
                        n if n >= 2 => &text[top.members[n - 2].value_end..last.key_start],
                        _ if colon == ": " => ", ",
                        _ => ",",
                    };
                    let comma = if gap.trim_start().len() > 1 { " " } else { "" };
                    let layout = Layout::Compact { colon, comma };
                    s.push_str(gap);
                    s.push_str("\"sops\"");
                    s.push_str(colon);
                    write_node(&mut meta, metadata, &layout, 1)?;
                }
            }
            s.push_str(&meta);
            (last.value_end, s)
        }
    };
    Ok(crate::store::Edit::new(at..at, insertion))
}

/// The spaces and tabs before offset `at` on its line, if only those precede it.
fn leading_ws(text: &str, at: usize) -> Option<&str> {
    let line_start = text.as_bytes()[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let ws = &text[line_start..at];
    ws.bytes().all(|c| c == b' ' || c == b'\t').then_some(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(v: Scalar) -> Node {
        Node::Scalar(Leaf::new(v))
    }

    #[test]
    fn floats_render_like_go() {
        let cases: &[(f64, &str)] = &[
            (42.0, "42"),
            (1.0, "1"),
            (3.5, "3.5"),
            (0.0, "0"),
            (-0.0, "-0"),
            (6.02e23, "6.02e+23"),
            (1e-7, "1e-7"),
            (1e-6, "0.000001"),
            (1e300, "1e+300"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.2345678901234568e29, "1.2345678901234568e+29"),
            (12345678901234567890.0, "12345678901234567000"),
            (123456789e-15, "1.23456789e-7"),
            (1e-300, "1e-300"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-1.5e-10, "-1.5e-10"),
            (0.1, "0.1"),
        ];
        for &(f, want) in cases {
            assert_eq!(format_float(f).as_deref(), Some(want), "{f:e}");
        }
        assert_eq!(format_float(f64::NAN), None);
        assert!(render_value(&Scalar::Float(f64::INFINITY)).is_err());
        assert_eq!(
            render_value(&Scalar::Float(f64::NEG_INFINITY))
                .unwrap_err()
                .exit_code(),
            code::ERROR_DUMPING_TREE
        );
    }

    #[test]
    fn strings_escape_like_go() {
        let s = "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}<>&/\u{2028}\u{2029}é🚀\u{FFFD}";
        assert_eq!(
            render_value(&Scalar::Str(s.into())).unwrap(),
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u{7f}\\u003c\\u003e\\u0026/\\u2028\\u2029é🚀\u{FFFD}\""
        );
        assert_eq!(render_encrypted("ENC[x]"), "\"ENC[x]\"");
        assert_eq!(render_value(&Scalar::Str(String::new())).unwrap(), "\"\"");
    }

    #[test]
    fn other_scalars_render() {
        use time::macros::datetime;
        assert_eq!(render_value(&Scalar::Int(-7)).unwrap(), "-7");
        assert_eq!(
            render_value(&Scalar::Int(i64::MIN)).unwrap(),
            "-9223372036854775808"
        );
        assert_eq!(render_value(&Scalar::Bool(true)).unwrap(), "true");
        assert_eq!(render_value(&Scalar::Bool(false)).unwrap(), "false");
        let t = |d| render_value(&Scalar::Time(d)).unwrap();
        assert_eq!(
            t(datetime!(2024-01-02 0:00 UTC)),
            "\"2024-01-02T00:00:00Z\""
        );
        assert_eq!(
            t(datetime!(2024-01-02 3:04:05.5 +2)),
            "\"2024-01-02T03:04:05.5+02:00\""
        );
        assert_eq!(
            t(datetime!(2001-12-14 21:59:43.10 -5)),
            "\"2001-12-14T21:59:43.1-05:00\""
        );
        assert_eq!(
            t(datetime!(2001-12-14 21:59:43.000000001 -5:30)),
            "\"2001-12-14T21:59:43.000000001-05:30\""
        );
        assert_eq!(t(datetime!(2001-12-14 0:00 +0)), "\"2001-12-14T00:00:00Z\"");
        let bc = time::Date::from_calendar_date(-1, time::Month::January, 1)
            .unwrap()
            .midnight()
            .assume_utc();
        assert!(render_value(&Scalar::Time(bc)).is_err());
    }

    #[test]
    fn parse_types_and_spans() {
        let text = "{\n  \"s\": \"a\\u00e9\\ud83d\\ude80\",\n  \"i\": -12, \"f\": 1.5e3,\n\t\"t\": true, \"n\": null, \"z\": -0, \"big\": 9223372036854775808\n}";
        let parsed = parse(text, "t.json").unwrap();
        assert!(parsed.metadata.is_none());
        let doc = &parsed.docs[0];
        let get = |k: &str| match doc.get(k).unwrap() {
            Node::Scalar(l) => (l.value.clone(), l.span.clone().unwrap()),
            other => panic!("{other:?}"),
        };
        let (v, span) = get("s");
        assert_eq!(v, Scalar::Str("aé🚀".into()));
        assert_eq!(&text[span.bytes.clone()], "\"a\\u00e9\\ud83d\\ude80\"");
        assert_eq!(span.line_indent, 2);
        assert_eq!(span.style, Style::Raw);
        assert!(!span.in_flow);
        let (v, span) = get("i");
        assert_eq!(v, Scalar::Int(-12));
        assert_eq!(&text[span.bytes], "-12");
        let (v, span) = get("f");
        assert_eq!(v, Scalar::Float(1500.0));
        assert_eq!(&text[span.bytes], "1.5e3");
        let (v, span) = get("t");
        assert_eq!(v, Scalar::Bool(true));
        assert_eq!(span.line_indent, 1);
        let (v, _) = get("z");
        assert!(matches!(v, Scalar::Float(f) if f == 0.0 && f.is_sign_negative()));
        let (v, _) = get("big");
        assert_eq!(v, Scalar::Float(9223372036854775808.0));
        match doc.get("n").unwrap() {
            Node::Null(Some(span)) => assert_eq!(&text[span.bytes.clone()], "null"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let text = r#"{"a": "\ud800x\udc00\ud800\ud800\udc00\ud83d\u0041"}"#;
        let parsed = parse(text, "t").unwrap();
        let Some(Node::Scalar(leaf)) = parsed.docs[0].get("a") else {
            panic!()
        };
        assert_eq!(
            leaf.value,
            Scalar::Str("\u{FFFD}x\u{FFFD}\u{FFFD}\u{10000}\u{FFFD}A".into())
        );
    }

    #[test]
    fn duplicate_keys_are_kept() {
        let parsed = parse(r#"{"a": 1, "a": 2}"#, "t").unwrap();
        assert_eq!(parsed.docs[0].items.len(), 2);
    }

    fn parse_err(text: &str) -> (usize, usize, String) {
        match parse(text, "f.json") {
            Err(Error::Parse { at, what, .. }) => (at.line, at.column, what),
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(parse_err("{\"a\": 1,}").0, 1);
        assert_eq!(parse_err("{\"a\": 1,}").1, 9);
        assert!(parse_err("{\"a\": 1,}").2.contains("trailing comma"));
        let (l, c, w) = parse_err("{\n  \"é\": \"x\\q\"}");
        assert_eq!((l, c), (2, 10));
        assert_eq!(w, "invalid escape in a string");
        let (l, c, w) = parse_err("{\"a\": \"secret");
        assert_eq!((l, c, w.as_str()), (1, 7, "unterminated string"));
        assert_eq!(
            parse_err("{\"a\": 01}").2,
            "invalid number: leading zeros are not allowed"
        );
        assert_eq!(
            parse_err("{\"a\": 1} x").2,
            "trailing characters after the top-level object"
        );
        assert_eq!(
            parse_err("{\"a\": 1e400}").2,
            "number out of range for a 64-bit float (as in sops)"
        );
        assert_eq!(parse_err("{\"a\" 1}").2, "expected ':' after an object key");
        assert_eq!(
            parse_err("{\"a\": 1 \"b\": 2}").2,
            "expected ',' or '}' after an object member"
        );
        assert_eq!(
            parse_err("{\"a\": [1 2]}").2,
            "expected ',' or ']' after an array element"
        );
        assert_eq!(
            parse_err("{\"a\": tru}").2,
            "invalid literal (expected true, false or null)"
        );
        assert_eq!(parse_err("\u{feff}{}").1, 1);
        assert_eq!(parse_err("x").2, "expected a JSON object at the top level");
        for text in ["", "  \n", "[1]", "\"s\"", "1", "true", "null"] {
            match parse(text, "f.json") {
                Err(e @ Error::Input { .. }) => assert_eq!(e.exit_code(), 2),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let deep = "{\"a\":".to_owned() + &"[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH) + "}";
        assert!(parse_err(&deep).2.contains("nested too deeply"));
        let ok =
            "{\"a\":".to_owned() + &"[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1) + "}";
        let parsed = parse(&ok, "f").unwrap();
        // Emitting (recursive) the deepest accepted tree must not overflow a test
        // thread's stack either.
        let out = emit(&parsed.docs[0], None, Indent::Tab).unwrap();
        assert!(parse(&out, "f").is_ok());
    }

    #[test]
    fn errors_never_quote_values() {
        for text in [
            "{\"a\": \"hunter2",
            "{\"a\": \"hunter2\\x\"}",
            "{\"a\": \"hunter2\" \"b\"}",
            "{\"a\": 424242e}",
            "{\"a\": 424242e999}",
        ] {
            let e = parse(text, "f").unwrap_err().to_string();
            assert!(!e.contains("hunter2") && !e.contains("424242"), "{e}");
        }
    }

    #[test]
    fn metadata_is_cut_and_inserted() {
        let sops_written =
            "{\n\t\"a\": \"x\",\n\t\"sops\": {\n\t\t\"version\": \"3.11.0\"\n\t}\n}\n";
        let parsed = parse(sops_written, "t").unwrap();
        let found = parsed.metadata.unwrap();
        assert_eq!(found.ranges.len(), 1);
        let r = found.ranges[0].clone();
        let cut = format!("{}{}", &sops_written[..r.start], &sops_written[r.end..]);
        assert_eq!(cut, "{\n\t\"a\": \"x\"\n}\n");
        assert_eq!(insert_metadata(&cut, &found.tree).unwrap(), sops_written);

        let only = "{\n\t\"sops\": {\n\t\t\"version\": \"3.11.0\"\n\t}\n}\n";
        let found = parse(only, "t").unwrap().metadata.unwrap();
        let r = found.ranges[0].clone();
        assert_eq!(format!("{}{}", &only[..r.start], &only[r.end..]), "{}\n");
        assert_eq!(insert_metadata("{}\n", &found.tree).unwrap(), only);

        let meta = Node::Map(vec![Item::Entry {
            key: "v".into(),
            value: leaf(Scalar::Str("<1>".into())),
        }]);
        for (text, want) in [
            ("{\"a\": 1}", "{\"a\": 1, \"sops\": {\"v\": \"\\u003c1\\u003e\"}}"),
            ("{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2,\"sops\":{\"v\":\"\\u003c1\\u003e\"}}"),
            (
                "{\r\n    \"a\": [\r\n        1\r\n    ]\r\n}\r\n",
                "{\r\n    \"a\": [\r\n        1\r\n    ],\r\n    \"sops\": {\r\n        \"v\": \"\\u003c1\\u003e\"\r\n    }\r\n}\r\n",
            ),
            ("{ }", "{\n\t\"sops\": {\n\t\t\"v\": \"\\u003c1\\u003e\"\n\t}\n }"),
        ] {
            let got = insert_metadata(text, &meta).unwrap();
            assert_eq!(got, want);
            let found = parse(&got, "t").unwrap().metadata.unwrap();
            let r = found.ranges[0].clone();
            assert_eq!(format!("{}{}", &got[..r.start], &got[r.end..]), text);
        }
        assert!(matches!(
            insert_metadata(sops_written, &meta),
            Err(Error::AlreadyEncrypted)
        ));
    }

    #[test]
    fn metadata_first_of_several_is_cut_cleanly() {
        let text = "{\n\t\"sops\": {},\n\t\"a\": 1\n}";
        let found = parse(text, "t").unwrap().metadata.unwrap();
        let r = found.ranges[0].clone();
        assert_eq!(
            format!("{}{}", &text[..r.start], &text[r.end..]),
            "{\n\t\"a\": 1\n}"
        );
        assert!(matches!(
            parse("{\"sops\": {}, \"sops\": {}}", "t"),
            Err(Error::Metadata(_))
        ));
    }

    #[test]
    fn emission_layouts() {
        let doc = Document {
            items: vec![
                Item::Comment(Leaf::new(" dropped".into())),
                Item::Entry {
                    key: "a&".into(),
                    value: Node::List(vec![
                        ListItem::Node(leaf(Scalar::Int(1))),
                        ListItem::Comment(Leaf::new(" also dropped".into())),
                        ListItem::Node(Node::Map(vec![])),
                        ListItem::Node(Node::List(vec![])),
                        ListItem::Node(Node::Null(None)),
                    ]),
                },
                Item::Entry {
                    key: "c".into(),
                    value: Node::List(vec![ListItem::Comment(Leaf::new("x".into()))]),
                },
            ],
        };
        assert_eq!(
            emit(&doc, None, Indent::Tab).unwrap(),
            "{\n\t\"a\\u0026\": [\n\t\t1,\n\t\t{},\n\t\t[],\n\t\tnull\n\t],\n\t\"c\": []\n}\n"
        );
        assert_eq!(
            emit(&doc, None, Indent::Spaces(0)).unwrap(),
            "{\n\"a\\u0026\": [\n1,\n{},\n[],\nnull\n],\n\"c\": []\n}\n"
        );
        assert_eq!(
            emit(&Document::default(), None, Indent::Tab).unwrap(),
            "{}\n"
        );
        let meta = Node::Map(vec![Item::Entry {
            key: "version".into(),
            value: leaf(Scalar::Str("3.11.0".into())),
        }]);
        assert_eq!(
            emit(&Document::default(), Some(&meta), Indent::Spaces(2)).unwrap(),
            "{\n  \"sops\": {\n    \"version\": \"3.11.0\"\n  }\n}\n"
        );
        assert_eq!(
            emit_node(&leaf(Scalar::Int(42)), Indent::Tab).unwrap(),
            "42"
        );
        assert_eq!(emit_node(&Node::List(vec![]), Indent::Tab).unwrap(), "[]");
        assert_eq!(emit_node(&Node::Map(vec![]), Indent::Tab).unwrap(), "{}\n");
        assert_eq!(
            emit_node(
                &Node::List(vec![ListItem::Node(leaf(Scalar::Str("x".into())))]),
                Indent::Tab
            )
            .unwrap(),
            "[\n\t\"x\"\n]"
        );
    }
}
