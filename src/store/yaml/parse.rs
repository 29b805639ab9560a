//! YAML text to [`Document`]s whose leaves carry exact byte spans.
//!
//! Three steps:
//! 1. saphyr-parser validates the text and yields events; each scalar's exact token
//!    extent is re-lexed (see `lex`).
//! 2. Comments are recovered from the text between scalar tokens.
//! 3. Events and comments are merged in source order into the tree. Comments are placed
//!    the way sops (go-yaml v3) files them, because the place decides a comment's AAD:
//!    a comment on the line of a value goes *before* that entry; an own-line comment goes
//!    into the innermost open block whose indentation is at most the comment's column;
//!    a comment between `key:` and a nested block opens that block.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::lex::{self, CharToByte, Lines, RawComment};
use crate::error::{code, Error, Result};
use crate::store::patch::sites::{SiteRecorder, Sites};
use crate::tree::{Document, Holder, Item, Leaf, ListItem, Node, Scalar, Span, Style};
use crate::yaml_fmt::resolve::{resolve, ResolveError, Resolved};

/// One parsed YAML document plus where its content ends (for metadata insertion).
#[derive(Debug)]
pub struct ParsedDoc {
    pub doc: Document,
    /// Byte range of the top-level `sops` entry, if present (whole lines).
    pub sops_entry: Option<std::ops::Range<usize>>,
    /// The `sops` value, if present.
    pub sops_value: Option<Node>,
    /// Where a document's content ends: the start of the next document's `---` line (or
    /// `...` line), or the end of the text.
    pub content_end: usize,
    /// Column of the document's top-level keys (0 unless the whole document is indented).
    pub root_indent: usize,
    /// The top-level mapping is written in flow style (`{a: 1}`).
    pub root_flow: bool,
    /// The document holds comments and no node at all (`# c` alone; `# c\n{}` has one).
    pub comments_only: bool,
}

/// Everything the YAML store needs from a parse.
#[derive(Debug)]
pub struct ParsedYaml {
    pub docs: Vec<ParsedDoc>,
    /// Block scalars with a comment on their header line: the scalar's span start mapped
    /// to the comment's byte range, so an edit can leave the comment in place.
    pub header_comments: HashMap<usize, std::ops::Range<usize>>,
    /// Indentation unit seen in the file (2 or 4...), for writing new blocks.
    pub indent_unit: usize,
    /// Every alias, in order: where its token is and where its copy sits in the tree.
    pub aliases: Vec<AliasSite>,
    /// Where the first document's collections sit, when asked for (`set`, `unset`).
    pub sites: Option<Sites>,
}

/// An alias (`*name`) in the text. sops expands aliases, so an alias to encrypted values
/// is written as an encrypted copy in its place (see the YAML store).
#[derive(Debug, Clone)]
pub struct AliasSite {
    /// The `*name` token.
    pub token: std::ops::Range<usize>,
    /// The document holding it, and the path of its copy in that document.
    pub doc: usize,
    pub path: Vec<crate::treepath::Step>,
    /// Inside a flow collection.
    pub in_flow: bool,
}

enum Frame {
    Map {
        items: Vec<Item>,
        keys: HashSet<String>,
        pending_key: Option<PendingKey>,
        indent: usize,
        in_flow: bool,
        anchor: usize,
        /// Comments that trail `key:` on its own line; they go before the entry.
        before_entry: Vec<Leaf<String>>,
    },
    List {
        items: Vec<ListItem>,
        indent: usize,
        in_flow: bool,
        anchor: usize,
    },
}

struct PendingKey {
    key: String,
    line_start: usize,
    start: usize,
}

impl Frame {
    fn indent(&self) -> usize {
        match self {
            Frame::Map { indent, .. } | Frame::List { indent, .. } => *indent,
        }
    }
    fn in_flow(&self) -> bool {
        match self {
            Frame::Map { in_flow, .. } | Frame::List { in_flow, .. } => *in_flow,
        }
    }
    fn push_comment(&mut self, comment: Leaf<String>) {
        match self {
            Frame::Map { items, .. } => items.push(Item::Comment(comment)),
            Frame::List { items, .. } => items.push(ListItem::Comment(comment)),
        }
    }
}

/// An own-line comment waiting for the next token to decide its container.
struct RunComment {
    leaf: Leaf<String>,
    line: usize,
    column: usize,
}

/// A comment waiting for its container.
struct Waiting {
    leaf: Leaf<String>,
    /// Depth of the frame that should receive it when it is on top again.
    depth: usize,
}

struct Builder<'a> {
    text: &'a str,
    file: &'a str,
    lines: Lines,
    stack: Vec<Frame>,
    /// Own-line comments seen before the container they open (a document's first
    /// comments, or those between `key:` and its nested block).
    for_next_frame: Vec<Leaf<String>>,
    /// Dedented comments waiting for an outer frame to be on top again.
    waiting: Vec<Waiting>,
    /// Own-line comments since the last token.
    run: Vec<RunComment>,
    anchors: HashMap<usize, Node>,
    /// Line index where the top frame's last item ended, to spot trailing comments.
    last_item_line: Option<(usize, usize)>,
    /// End of the last scalar or alias token: where a block collection really ends.
    last_token_end: usize,
    docs: Vec<ParsedDoc>,
    doc_root: Option<Document>,
    sops_entry: Option<std::ops::Range<usize>>,
    sops_value: Option<Node>,
    indent_unit: Option<usize>,
    aliases: Vec<AliasSite>,
    /// Column and flow style of the current document's top-level mapping.
    root: (usize, bool),
    /// Records the first document's collections (see `parse_recording`).
    sites: Option<SiteRecorder>,
    /// End of the last token, closing flow brackets included (for `sites`).
    edit_end: usize,
}

/// Parses YAML text. `file` names the input in error messages. With `record`, also
/// records where the first document's collections and entries sit
/// ([`ParsedYaml::sites`]).
pub fn parse(text: &str, file: &str, record: bool) -> Result<ParsedYaml> {
    let mut input = std::borrow::Cow::Borrowed(text);
    loop {
        match parse_pass(text, &input, file, record) {
            Ok(parsed) => return Ok(parsed),
            Err(Pass::Retry(patched)) => input = std::borrow::Cow::Owned(patched),
            Err(Pass::Fail(e)) => return Err(e),
        }
    }
}

/// Why a parse pass stopped.
enum Pass {
    /// Parse again with this input (see `flow_close_workaround`).
    Retry(String),
    Fail(Error),
}

impl From<Error> for Pass {
    fn from(e: Error) -> Pass {
        Pass::Fail(e)
    }
}

/// One streaming pass: each event goes to the tree builder as it arrives, after the
/// comments in the text before it. `input` is what saphyr reads (`text`, or `text` with
/// one line break made a space); spans and comments always come from `text`.
fn parse_pass(
    text: &str,
    input: &str,
    file: &str,
    record: bool,
) -> std::result::Result<ParsedYaml, Pass> {
    let bytes = text.as_bytes();
    let mut to_byte = CharToByte::new(text);
    let mut header_comments = HashMap::new();
    let mut builder = Builder {
        text,
        file,
        lines: Lines::new(text),
        stack: Vec::new(),
        for_next_frame: Vec::new(),
        waiting: Vec::new(),
        run: Vec::new(),
        anchors: HashMap::new(),
        last_item_line: None,
        last_token_end: 0,
        docs: Vec::new(),
        doc_root: None,
        sops_entry: None,
        sops_value: None,
        indent_unit: None,
        aliases: Vec::new(),
        root: (0, false),
        sites: record.then(SiteRecorder::default),
        edit_end: 0,
    };
    // Comments are found in the text between tokens, up to where the next event starts.
    let mut scanned_to = 0;
    let mut found = Vec::new();
    for result in Parser::new_from_str(input) {
        let (event, span) = match result {
            Ok(ok) => ok,
            Err(e) => {
                let at = to_byte.byte(e.marker().index());
                if let Some(patched) = flow_close_workaround(input, at, e.info()) {
                    return Err(Pass::Retry(patched));
                }
                return Err(Pass::Fail(Error::Parse {
                    file: file.to_string(),
                    at: builder.lines.location(text, at),
                    what: sanitize_scan_error(e.info()),
                }));
            }
        };
        let start = to_byte.byte(span.start.index());
        let end = to_byte.byte(span.end.index()).max(start);
        let mut header_comment = None;
        let (ev, token) = match event {
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let token_start = lex::skip_properties(bytes, start).min(end.max(start));
                let (mut range, style) =
                    scalar_extent(text, style, token_start, end, file, &builder.lines)?;
                // An explicit tag belongs to the value: `!!binary aGk=` must not stay
                // in front of an ENC string. (An anchor stays where it is.)
                if tag.is_some() {
                    if let Some(at) = lex::tag_start(bytes, start, range.start) {
                        range.start = at;
                    }
                }
                if let Style::Literal { .. } | Style::Folded { .. } = style {
                    let indicator = lex::skip_properties(bytes, range.start);
                    let block = lex::block_scalar(bytes, indicator, end);
                    if let Some(comment) = block.header_comment {
                        header_comments.insert(range.start, comment.clone());
                        header_comment = Some(RawComment {
                            hash: comment.start,
                            end: comment.end,
                            trailing: true,
                        });
                    }
                }
                let token = Some(range.clone());
                (
                    Ev::Scalar {
                        value: value.into_owned(),
                        style,
                        anchor,
                        tag,
                        range,
                    },
                    token,
                )
            }
            Event::Alias(id) => (Ev::Alias { id, at: start, end }, Some(start..end)),
            // The event starts at the node's properties (`&x !t {`): look past them.
            Event::MappingStart(anchor, _) => (
                Ev::MapStart {
                    anchor,
                    at: start,
                    flow: bytes.get(lex::skip_properties(bytes, start)) == Some(&b'{'),
                },
                None,
            ),
            Event::SequenceStart(anchor, _) => (
                Ev::ListStart {
                    anchor,
                    at: start,
                    flow: bytes.get(lex::skip_properties(bytes, start)) == Some(&b'['),
                },
                None,
            ),
            Event::MappingEnd | Event::SequenceEnd => (Ev::End { at: start }, None),
            Event::DocumentStart(_) => (Ev::DocStart { at: start }, None),
            Event::DocumentEnd => (Ev::DocEnd { at: start }, None),
            Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
        };
        let gap_end = token.as_ref().map_or(ev.position(), |t| t.start);
        if gap_end > scanned_to {
            lex::comments_in_gap(bytes, scanned_to, gap_end, &mut found);
            for c in found.drain(..) {
                builder.comment(c);
            }
            scanned_to = gap_end;
        }
        builder.event(ev)?;
        if let Some(t) = token {
            scanned_to = scanned_to.max(t.end);
        }
        if let Some(c) = header_comment {
            builder.comment(c);
        }
    }
    lex::comments_in_gap(bytes, scanned_to, bytes.len(), &mut found);
    for c in found.drain(..) {
        builder.comment(c);
    }
    builder.finish_doc(text.len());
    if builder.docs.is_empty() {
        return Err(Pass::Fail(Error::Input {
            file: file.to_string(),
            what: "the file is empty: a YAML file needs at least one document".into(),
            code: code::NEED_AT_LEAST_ONE_DOCUMENT,
        }));
    }
    Ok(ParsedYaml {
        docs: builder.docs,
        header_comments,
        indent_unit: builder.indent_unit.unwrap_or(4),
        aliases: builder.aliases,
        sites: builder.sites.map(|r| r.done),
    })
}

/// Two leniencies of go-yaml that saphyr-parser lacks, handled by re-parsing a patched
/// copy of the text (byte offsets unchanged). First, a tab after `key:`. Second:
/// saphyr-parser checks a flow collection's closing `]`/`}` against the indentation of
/// the block around it, so it rejects `a: [\n  "x"\n]` (go-yaml, and so sops, accept
/// it). When that is the error, and only blanks separate the bracket from the line
/// break before it, parse again with that line break made a space: byte offsets do not
/// move, and spans and comments are still taken from the original text. Comment lines
/// right above the bracket are blanked in the copy and joined too: sops writes an empty
/// map holding comments as `k: {` / `    #ENC[...]` / `}`.
fn flow_close_workaround(input: &str, at: usize, info: &str) -> Option<String> {
    let bytes = input.as_bytes();
    // go-yaml also takes a tab as the separator after `key:` (`a:\tx`); saphyr wants a
    // space. Same length, so offsets do not move.
    if info == "':' must be followed by a valid YAML whitespace" {
        let colon = bytes[..at.min(bytes.len())]
            .iter()
            .rposition(|&b| b == b':')?;
        if bytes.get(colon + 1) != Some(&b'\t') {
            return None;
        }
        let mut patched = input.to_string().into_bytes();
        let mut i = colon + 1;
        while patched.get(i) == Some(&b'\t') {
            patched[i] = b' ';
            i += 1;
        }
        return String::from_utf8(patched).ok();
    }
    if info != "invalid indentation" || !matches!(bytes.get(at), Some(b']' | b'}')) {
        return None;
    }
    let mut newline = bytes[..at].iter().rposition(|&b| b == b'\n')?;
    if !bytes[newline + 1..at]
        .iter()
        .all(|&b| b == b' ' || b == b'\t')
    {
        return None;
    }
    let mut patched = input.to_string().into_bytes();
    loop {
        patched[newline] = b' ';
        if newline > 0 && patched[newline - 1] == b'\r' {
            patched[newline - 1] = b' ';
        }
        let line_start = lex::line_start_of(bytes, newline);
        let line = &bytes[line_start..newline];
        let first = line
            .iter()
            .position(|&b| !matches!(b, b' ' | b'\t' | b'\r'));
        match first {
            // A blank line or a line holding only a comment (nothing between the
            // content above and the bracket can be anything else): blank it, go up.
            None => {}
            Some(i) if line[i] == b'#' => patched[line_start + i..newline].fill(b' '),
            Some(_) => {
                // The content line must not end in a comment, which would swallow
                // the bracket.
                let mut gaps = Vec::new();
                lex::comments_in_gap(bytes, line_start, newline, &mut gaps);
                if !gaps.is_empty() {
                    return None;
                }
                break;
            }
        }
        newline = line_start.checked_sub(1)?;
    }
    String::from_utf8(patched).ok()
}

/// saphyr's messages describe the problem. Quoted grammar tokens (`','`, `']'`) are kept;
/// any longer quoted text could be a piece of the input, so it is dropped.
fn sanitize_scan_error(info: &str) -> String {
    let mut out = String::with_capacity(info.len());
    let mut rest = info;
    while let Some(open) = rest.find(['\'', '"', '`']) {
        let quote = rest[open..].chars().next().unwrap_or('\'');
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(quote) {
            Some(close) if after[..close].chars().count() <= 2 => {
                out.push_str(&rest[open..open + close + 2]);
                rest = &after[close + 1..];
            }
            Some(close) => {
                out.push('…');
                rest = &after[close + 1..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let msg = out.trim();
    if msg.is_empty() {
        "invalid YAML".into()
    } else {
        format!("invalid YAML: {msg}")
    }
}

fn scalar_extent(
    text: &str,
    style: ScalarStyle,
    start: usize,
    end: usize,
    file: &str,
    lines: &Lines,
) -> Result<(std::ops::Range<usize>, Style)> {
    let bytes = text.as_bytes();
    let unterminated = || Error::Parse {
        file: file.to_string(),
        at: lines.location(text, start),
        what: "unterminated quoted scalar".into(),
    };
    Ok(match style {
        ScalarStyle::Plain => (start..end, Style::Plain),
        ScalarStyle::SingleQuoted => {
            let e = lex::single_quoted_end(bytes, start).ok_or_else(unterminated)?;
            (start..e, Style::SingleQuoted)
        }
        ScalarStyle::DoubleQuoted => {
            let e = lex::double_quoted_end(bytes, start).ok_or_else(unterminated)?;
            (start..e, Style::DoubleQuoted)
        }
        ScalarStyle::Literal | ScalarStyle::Folded => {
            let start = if matches!(bytes.get(start), Some(b'|' | b'>')) {
                start
            } else {
                lex::block_indicator_before(bytes, start).ok_or_else(|| Error::Parse {
                    file: file.to_string(),
                    at: lines.location(text, start),
                    what: "block scalar without a header".into(),
                })?
            };
            let block = lex::block_scalar(bytes, start, end);
            let st = if matches!(style, ScalarStyle::Literal) {
                Style::Literal {
                    indent: block.indent,
                }
            } else {
                Style::Folded {
                    indent: block.indent,
                }
            };
            (start..block.end, st)
        }
    })
}

enum Ev {
    Scalar {
        value: String,
        style: Style,
        anchor: usize,
        tag: Option<String>,
        range: std::ops::Range<usize>,
    },
    Alias {
        id: usize,
        at: usize,
        end: usize,
    },
    MapStart {
        anchor: usize,
        at: usize,
        flow: bool,
    },
    ListStart {
        anchor: usize,
        at: usize,
        flow: bool,
    },
    End {
        at: usize,
    },
    DocStart {
        at: usize,
    },
    DocEnd {
        at: usize,
    },
}

impl Ev {
    fn position(&self) -> usize {
        match self {
            Ev::Scalar { range, .. } => range.start,
            Ev::Alias { at, .. }
            | Ev::MapStart { at, .. }
            | Ev::ListStart { at, .. }
            | Ev::End { at }
            | Ev::DocStart { at }
            | Ev::DocEnd { at } => *at,
        }
    }
}

impl Builder<'_> {
    fn err(&self, at: usize, what: impl Into<String>) -> Error {
        Error::Parse {
            file: self.file.to_string(),
            at: self.lines.location(self.text, at),
            what: what.into(),
        }
    }

    fn column(&self, at: usize) -> usize {
        let start = lex::line_start_of(self.text.as_bytes(), at);
        let column = self.text[start..at].chars().count();
        // A byte order mark is not a column.
        if start == 0 && at > 0 && self.text.starts_with('\u{feff}') {
            column - 1
        } else {
            column
        }
    }

    fn event(&mut self, ev: Ev) -> Result<()> {
        if !self.run.is_empty() {
            self.resolve_run(ev.position());
        }
        match ev {
            Ev::DocStart { .. } => {
                self.doc_root = None;
                self.sops_entry = None;
                self.sops_value = None;
            }
            Ev::DocEnd { at } => {
                let end = self.document_content_end(at);
                self.finish_doc(end);
            }
            Ev::MapStart { anchor, at, flow } => {
                self.collection_start(at, flow, "a mapping")?;
                self.site_start(at, flow, false, anchor);
                if self.stack.is_empty() {
                    self.root = (self.column(at), flow);
                }
                self.open_frame(Frame::Map {
                    items: Vec::new(),
                    keys: HashSet::new(),
                    pending_key: None,
                    indent: self.column(at),
                    in_flow: flow || self.stack.last().is_some_and(Frame::in_flow),
                    anchor,
                    before_entry: Vec::new(),
                });
            }
            Ev::ListStart { anchor, at, flow } => {
                self.collection_start(at, flow, "a sequence")?;
                self.site_start(at, flow, true, anchor);
                self.open_frame(Frame::List {
                    items: Vec::new(),
                    indent: self.dash_column(at, flow),
                    in_flow: flow || self.stack.last().is_some_and(Frame::in_flow),
                    anchor,
                });
            }
            Ev::End { at } => {
                if self.stack.len() == 1 {
                    // The document's top level closes: dedented comments land here.
                    let waiting: Vec<_> = self.waiting.drain(..).collect();
                    if let Some(top) = self.stack.last_mut() {
                        for w in waiting {
                            top.push_comment(w.leaf);
                        }
                    }
                }
                let flow = self.stack.last().is_some_and(Frame::in_flow);
                if flow {
                    // Only flow collections nest in flow ones: `at` is this one's closer.
                    self.edit_end = at + 1;
                }
                let close = if flow { at } else { self.edit_end };
                if let Some(r) = self.recording() {
                    r.end(close);
                }
                let frame = self.stack.pop().expect("parser balances collections");
                let (node, anchor) = match frame {
                    Frame::Map {
                        mut items,
                        before_entry,
                        anchor,
                        ..
                    } => {
                        items.extend(before_entry.into_iter().map(Item::Comment));
                        (Node::Map(items), anchor)
                    }
                    Frame::List { items, anchor, .. } => (Node::List(items), anchor),
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                let last = if flow {
                    at
                } else {
                    self.last_token_end.saturating_sub(1)
                };
                let line = self.lines.line_index(last);
                self.attach(node, None, line)?;
                self.flush_waiting();
            }
            Ev::Alias { id, at, end } => {
                if let Some(Frame::Map {
                    pending_key: None, ..
                }) = self.stack.last()
                {
                    return Err(self.key_error(at, "an alias"));
                }
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| self.err(at, "alias to an unknown anchor"))?;
                let node = strip_spans(node);
                let path = self.current_path();
                if let Some(r) = self.recording() {
                    r.alias(id, path.clone());
                }
                self.aliases.push(AliasSite {
                    token: at..end,
                    doc: self.docs.len(),
                    path,
                    in_flow: self.stack.last().is_some_and(Frame::in_flow),
                });
                let line = self.lines.line_index(at);
                self.last_token_end = at + 1;
                self.edit_end = end;
                self.attach(node, Some(at), line)?;
            }
            Ev::Scalar {
                value,
                style,
                anchor,
                tag,
                range,
            } => {
                let expecting_key = matches!(
                    self.stack.last(),
                    Some(Frame::Map {
                        pending_key: None,
                        ..
                    })
                );
                if expecting_key {
                    self.flush_waiting();
                    self.last_token_end = range.end;
                    self.edit_end = range.end;
                    if let Some(r) = self.recording() {
                        r.key(range.start, range.end);
                    }
                    if style == Style::Plain && value != "<<" {
                        match resolve(&value, true, tag.as_deref()) {
                            Ok(Resolved::Value(Scalar::Str(_))) => {}
                            _ => return Err(self.key_error(range.start, "a non-string scalar")),
                        }
                    }
                    let line_start = lex::line_start_of(self.text.as_bytes(), range.start);
                    let dup = match self.stack.last_mut() {
                        Some(Frame::Map {
                            keys, pending_key, ..
                        }) => {
                            let fresh = keys.insert(value.clone());
                            *pending_key = Some(PendingKey {
                                key: value,
                                line_start,
                                start: range.start,
                            });
                            !fresh
                        }
                        _ => false,
                    };
                    if dup {
                        return Err(self.err(range.start, "duplicate key in a mapping"));
                    }
                    return Ok(());
                }
                self.last_token_end = range.end;
                if !range.is_empty() {
                    self.edit_end = range.end;
                }
                let in_flow = self.stack.last().is_some_and(Frame::in_flow);
                let line_indent = lex::parent_column(self.text.as_bytes(), range.start);
                let holder = self.holder_of(range.start, in_flow);
                let span = Span {
                    bytes: range.clone(),
                    style,
                    line_indent,
                    in_flow,
                    holder,
                };
                let node = match resolve(&value, style == Style::Plain, tag.as_deref()) {
                    Ok(Resolved::Null) => Node::Null(Some(span)),
                    Ok(Resolved::Value(v)) => Node::Scalar(Leaf {
                        value: v,
                        span: Some(span),
                    }),
                    // sops checks only the first document strictly; later ones read a
                    // badly tagged scalar as null.
                    Err(e) if !self.docs.is_empty() && e.null_after_first_document() => {
                        Node::Null(Some(span))
                    }
                    Err(e @ (ResolveError::Uint64 | ResolveError::TimeOffset)) => {
                        return Err(Error::Input {
                            file: self.file.to_string(),
                            what: format!("{}: {e}", self.lines.location(self.text, range.start)),
                            code: code::ENCRYPTING_TREE,
                        })
                    }
                    Err(e) => return Err(self.err(range.start, e.to_string())),
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                    if self.sites.is_some() {
                        let path = self.current_path();
                        if let Some(r) = self.recording() {
                            r.anchor(anchor, path);
                        }
                    }
                }
                let line = self
                    .lines
                    .line_index(range.end.saturating_sub(1).max(range.start));
                self.attach(node, Some(range.start), line)?;
            }
        }
        Ok(())
    }

    /// The site recorder, while in the first document and recording.
    fn recording(&mut self) -> Option<&mut SiteRecorder> {
        if self.docs.is_empty() {
            self.sites.as_mut()
        } else {
            None
        }
    }

    /// Records a collection starting at `at` (see [`parse_recording`]).
    fn site_start(&mut self, at: usize, flow: bool, list: bool, anchor: usize) {
        if self.sites.is_none() || !self.docs.is_empty() {
            return;
        }
        let path = self.current_path();
        if anchor != 0 {
            let p = path.clone();
            if let Some(r) = self.recording() {
                r.anchor(anchor, p);
            }
        }
        let bytes = self.text.as_bytes();
        let open = if flow {
            lex::skip_properties(bytes, at)
        } else {
            at
        };
        // A block list's first `-`: saphyr starts an indentless sequence at the first
        // item's content, so look back for the dash on that line.
        let content = lex::skip_properties(bytes, at);
        let first_item = if flow {
            open + 1
        } else if bytes.get(content) == Some(&b'-') {
            content
        } else {
            let line_start = lex::line_start_of(bytes, at);
            bytes[line_start..at]
                .iter()
                .rposition(|&b| b == b'-')
                .map_or(at, |i| line_start + i)
        };
        if let Some(r) = self.recording() {
            r.start(path, list, flow, open, first_item);
        }
    }

    /// Records the value just finished as an entry of the innermost collection.
    fn site_value(&mut self) {
        let end = self.edit_end;
        let text = self.text;
        if let Some(r) = self.recording() {
            r.value(text.as_bytes(), end);
        }
    }

    /// A key that is not a string: sops cannot encrypt such a tree (exit 23).
    fn key_error(&self, at: usize, what: &str) -> Error {
        Error::Input {
            file: self.file.to_string(),
            what: format!(
                "{}: {what} used as a key; sops needs string keys",
                self.lines.location(self.text, at)
            ),
            code: code::ENCRYPTING_TREE,
        }
    }

    /// Checks a collection that starts at `at` is not a key, and notes its indentation.
    fn collection_start(&mut self, at: usize, flow: bool, what: &str) -> Result<()> {
        self.note_indent(at, flow);
        if let Some(Frame::Map {
            pending_key: None, ..
        }) = self.stack.last()
        {
            return Err(self.key_error(at, what));
        }
        Ok(())
    }

    /// The tree path of the value about to be attached to the top frame.
    fn current_path(&self) -> Vec<crate::treepath::Step> {
        use crate::treepath::Step;
        self.stack
            .iter()
            .filter_map(|f| match f {
                Frame::Map { pending_key, .. } => {
                    pending_key.as_ref().map(|k| Step::Key(k.key.clone()))
                }
                Frame::List { items, .. } => Some(Step::Index(
                    items
                        .iter()
                        .filter(|i| matches!(i, ListItem::Node(_)))
                        .count(),
                )),
            })
            .collect()
    }

    /// The key or `-` that introduces a value starting at `at`.
    fn holder_of(&self, at: usize, in_flow: bool) -> Holder {
        if in_flow {
            return Holder::None;
        }
        match self.stack.last() {
            Some(Frame::Map {
                pending_key: Some(key),
                ..
            }) => Holder::Key {
                at: key.start,
                col: self.column(key.start),
            },
            Some(Frame::List { .. }) => {
                // The `-` is the last non-space before the value on its line.
                let bytes = self.text.as_bytes();
                let line_start = lex::line_start_of(bytes, at);
                match bytes[line_start..at].iter().rposition(|&b| b == b'-') {
                    Some(i) => Holder::Dash {
                        at: line_start + i,
                        col: self.column(line_start + i),
                    },
                    None => Holder::None,
                }
            }
            _ => Holder::None,
        }
    }

    /// Column of a block sequence: its first `-`. saphyr starts an indentless sequence
    /// (`key:\n- a`) at the first item's content, so look back for the dash.
    fn dash_column(&self, at: usize, flow: bool) -> usize {
        let bytes = self.text.as_bytes();
        if flow || bytes.get(at) == Some(&b'-') {
            return self.column(at);
        }
        let line_start = lex::line_start_of(bytes, at);
        match bytes[line_start..at].iter().rposition(|&b| b == b'-') {
            Some(i) => self.column(line_start + i),
            None => self.column(at),
        }
    }

    /// Remembers the first nested block indentation, the unit for new blocks.
    fn note_indent(&mut self, at: usize, flow: bool) {
        if self.indent_unit.is_none() && !flow && !self.stack.is_empty() {
            let parent = self.stack.last().map_or(0, Frame::indent);
            let col = self.column(at);
            if col > parent {
                self.indent_unit = Some(col - parent);
            }
        }
    }

    fn open_frame(&mut self, mut frame: Frame) {
        for c in self.for_next_frame.drain(..) {
            frame.push_comment(c);
        }
        if self.stack.is_empty() {
            self.doc_root = None;
        }
        self.stack.push(frame);
        self.last_item_line = None;
    }

    /// Adds a finished node to the top frame (or makes it the document root).
    fn attach(&mut self, node: Node, start: Option<usize>, end_line: usize) -> Result<()> {
        self.site_value();
        let depth = self.stack.len();
        let Some(top) = self.stack.last_mut() else {
            return match node {
                Node::Map(items) => {
                    self.doc_root = Some(Document { items });
                    Ok(())
                }
                Node::Null(_) => {
                    self.doc_root = Some(Document::default());
                    Ok(())
                }
                _ => Err(Error::Input {
                    file: self.file.to_string(),
                    what: format!(
                        "{}: the top level of a YAML document must be a mapping",
                        self.lines.location(self.text, start.unwrap_or(0))
                    ),
                    code: code::COULD_NOT_READ_INPUT,
                }),
            };
        };
        match top {
            Frame::Map {
                items,
                pending_key,
                before_entry,
                ..
            } => {
                let key = pending_key.take().expect("a value follows its key");
                // Comments between `key:` and a scalar value go before the entry.
                let leftovers: Vec<_> = self.for_next_frame.drain(..).collect();
                items.extend(before_entry.drain(..).map(Item::Comment));
                items.extend(leftovers.into_iter().map(Item::Comment));
                if depth == 1 && key.key == "sops" {
                    let end = line_end_after(self.text.as_bytes(), end_line, &self.lines);
                    self.sops_entry = Some(key.line_start..end);
                    self.sops_value = Some(node);
                } else {
                    items.push(Item::Entry {
                        key: key.key,
                        value: node,
                    });
                }
            }
            Frame::List { items, .. } => {
                items.extend(self.for_next_frame.drain(..).map(ListItem::Comment));
                items.push(ListItem::Node(node));
            }
        }
        self.last_item_line = Some((depth, end_line));
        Ok(())
    }

    fn comment(&mut self, raw: RawComment) {
        let leaf = Leaf {
            value: self.text[raw.hash + 1..raw.end].to_string(),
            span: Some(Span {
                bytes: raw.hash + 1..raw.end,
                style: Style::Raw,
                line_indent: lex::parent_column(self.text.as_bytes(), raw.hash),
                in_flow: self.stack.last().is_some_and(Frame::in_flow),
                holder: Holder::None,
            }),
        };
        let line = self.lines.line_index(raw.hash);
        let column = self.column(raw.hash);
        let depth = self.stack.len();
        let Some(top) = self.stack.last_mut() else {
            self.for_next_frame.push(leaf);
            return;
        };
        // A comment on the line of the last value trails that entry: sops files it
        // just before the entry.
        if raw.trailing {
            if let Frame::Map {
                pending_key: Some(key),
                before_entry,
                ..
            } = top
            {
                if self.lines.line_index(key.line_start) == line {
                    before_entry.push(leaf);
                    return;
                }
            }
            if self.last_item_line == Some((depth, line)) {
                // After a flow collection closed on this line (`t: [1] # c`), go-yaml
                // makes the comment that collection's line comment and sops files it as
                // the collection's first item. (A block collection would still be open
                // here.)
                let last = match top {
                    Frame::Map { items, .. } => match items.last_mut() {
                        Some(Item::Entry { value, .. }) => Some(value),
                        _ => None,
                    },
                    Frame::List { items, .. } => match items.last_mut() {
                        Some(ListItem::Node(node)) => Some(node),
                        _ => None,
                    },
                };
                match last {
                    Some(Node::Map(inner)) => {
                        inner.insert(0, Item::Comment(leaf));
                        return;
                    }
                    Some(Node::List(inner)) => {
                        inner.insert(0, ListItem::Comment(leaf));
                        return;
                    }
                    _ => {}
                }
                match top {
                    Frame::Map { items, .. } => {
                        let at = items.len().saturating_sub(1);
                        items.insert(at, Item::Comment(leaf));
                    }
                    Frame::List { items, .. } => {
                        let at = items.len().saturating_sub(1);
                        items.insert(at, ListItem::Comment(leaf));
                    }
                }
                return;
            }
        }
        if let Frame::Map {
            pending_key: Some(_),
            ..
        } = top
        {
            // Between `key:` and its value: the comment opens the nested block.
            self.for_next_frame.push(leaf);
            return;
        }
        if top.in_flow() {
            top.push_comment(leaf);
            return;
        }
        // An own-line comment in block context: where it goes depends on the next token
        // (go-yaml's head/foot rules), so wait for it.
        self.run.push(RunComment { leaf, line, column });
    }

    /// Files a run of own-line comments once the token after it, at `next`, is known.
    ///
    /// This follows go-yaml v3 as sops uses it (measured against sops on 14,018 comments,
    /// `docs/research/sops-yaml-experiments.md` §2.3): when the next token does not leave
    /// the innermost block, the run goes with it. When it does (a dedent), the run is cut
    /// into pieces at blank lines and column changes; a piece that stays with the next
    /// token ("head") goes to its container, the others ("feet") to the block they close.
    fn resolve_run(&mut self, next: usize) {
        let run = std::mem::take(&mut self.run);
        if run.is_empty() || self.stack.is_empty() {
            return;
        }
        let bytes = self.text.as_bytes();
        let top = self.stack.len() - 1;
        let rest = &self.text[lex::line_start_of(bytes, next.min(bytes.len()))..];
        let doc_end = next >= bytes.len() || rest.starts_with("---") || rest.starts_with("...");
        let n = if doc_end {
            self.stack[0].indent()
        } else {
            self.column(next)
        };
        let dash = !doc_end
            && bytes.get(next) == Some(&b'-')
            && matches!(
                bytes.get(next + 1),
                None | Some(b' ' | b'\n' | b'\r' | b'\t')
            );
        // A sequence whose `-` sits in its parent's key column opens no indentation.
        let zero_list = |i: usize| {
            i > 0
                && matches!(self.stack[i], Frame::List { .. })
                && matches!(self.stack[i - 1], Frame::Map { .. })
                && self.stack[i].indent() == self.stack[i - 1].indent()
        };
        let ends = |i: usize| {
            if doc_end {
                return i > 0;
            }
            let f = &self.stack[i];
            f.indent() > n || (matches!(f, Frame::List { .. }) && f.indent() == n && !dash)
        };
        // C(N): the innermost frame that survives the next token.
        let c_next = (0..=top).take_while(|&i| !ends(i)).last().unwrap_or(0);
        let inner = (0..=top).rev().find(|&i| !zero_list(i)).unwrap_or(0);
        let indent_i = self.stack[inner].indent();

        let targets: Vec<usize> = if n >= indent_i && !doc_end || c_next == top {
            vec![c_next; run.len()]
        } else {
            self.dedent_targets(&run, next, n, indent_i, top, c_next, &zero_list)
        };
        for (c, target) in run.into_iter().zip(targets) {
            if target == top {
                self.stack[top].push_comment(c.leaf);
            } else {
                self.waiting.push(Waiting {
                    leaf: c.leaf,
                    depth: target + 1,
                });
            }
        }
    }

    /// Steps 1-3 of the dedent rule: the frame index each comment of `run` goes to.
    #[allow(clippy::too_many_arguments)]
    fn dedent_targets(
        &self,
        run: &[RunComment],
        next: usize,
        n: usize,
        indent_i: usize,
        top: usize,
        c_next: usize,
        zero_list: &dyn Fn(usize) -> bool,
    ) -> Vec<usize> {
        enum Kind {
            Head,
            /// A foot anchored at P (`None`) or at a line.
            Foot(Option<usize>),
        }
        struct Piece {
            col: usize,
            start: usize,
            members: Vec<usize>,
            kind: Kind,
        }
        let p_line = self.lines.line_index(self.last_token_end.saturating_sub(1));
        let first_line = p_line + 1;
        let n_line = self.lines.line_index(next.min(self.text.len()));
        let by_line: HashMap<usize, usize> =
            run.iter().enumerate().map(|(i, c)| (c.line, i)).collect();

        // Step 1: pieces.
        let mut pieces: Vec<Piece> = Vec::new();
        let mut open: Option<Piece> = None;
        let mut anchor: Option<usize> = None;
        let mut seen_blank = false;
        for line in first_line..n_line.max(first_line) {
            if let Some(&i) = by_line.get(&line) {
                let k = run[i].column;
                if let Some(o) = open.take() {
                    if k < indent_i && k != o.col {
                        pieces.push(Piece {
                            kind: Kind::Foot(anchor),
                            ..o
                        });
                        anchor = Some(line);
                    } else {
                        open = Some(o);
                    }
                }
                match &mut open {
                    Some(o) => o.members.push(i),
                    None => {
                        open = Some(Piece {
                            col: k,
                            start: line,
                            members: vec![i],
                            kind: Kind::Head,
                        })
                    }
                }
            } else if self.is_blank_line(line) {
                if let (Some(o), false) = (&open, seen_blank) {
                    if o.start == first_line || o.col < indent_i {
                        let own = if o.col < indent_i {
                            Some(o.start)
                        } else {
                            anchor
                        };
                        let o = open.take().expect("checked");
                        pieces.push(Piece {
                            kind: Kind::Foot(own),
                            ..o
                        });
                        anchor = Some(line);
                    }
                }
                seen_blank = true;
            }
        }
        if let Some(o) = open {
            let kind = if n < indent_i && n != o.col {
                Kind::Foot(anchor)
            } else {
                Kind::Head
            };
            pieces.push(Piece { kind, ..o });
        }

        // Step 2: where each ending block ends (innermost first).
        let mut ending: Vec<(usize, usize)> = Vec::new(); // (frame index, end line)
        let mut last_end = p_line;
        for i in (c_next + 1..=top).rev().filter(|&i| !zero_list(i)) {
            let indent = self.stack[i].indent();
            let end = pieces
                .iter()
                .filter(|p| p.col == indent)
                .map(|p| p.start)
                .min()
                .unwrap_or(last_end);
            last_end = end;
            ending.push((i, end));
        }

        // Step 3: who gets each piece.
        let mut targets = vec![c_next; run.len()];
        for piece in &pieces {
            let target = match piece.kind {
                Kind::Head => c_next,
                Kind::Foot(None) => top,
                Kind::Foot(Some(x)) => ending
                    .iter()
                    .find(|&&(_, end)| end >= x)
                    // A sequence's end carries no comment: the piece rides to the
                    // mapping that owns the sequence.
                    .map_or(c_next, |&(i, _)| {
                        (0..=i)
                            .rev()
                            .find(|&j| matches!(self.stack[j], Frame::Map { .. }))
                            .unwrap_or(0)
                    }),
            };
            for &m in &piece.members {
                targets[m] = target;
            }
        }
        targets
    }

    fn is_blank_line(&self, line: usize) -> bool {
        let start = self.lines.line_start(line);
        self.text.as_bytes()[start..]
            .iter()
            .take_while(|&&b| b != b'\n')
            .all(|b| matches!(b, b' ' | b'\t' | b'\r'))
    }

    /// Delivers dedented comments once their frame is on top, or when the top frame
    /// gets another item (then they were not dedented after all).
    fn flush_waiting(&mut self) {
        let depth = self.stack.len();
        if self.waiting.is_empty() {
            return;
        }
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        let mut keep = Vec::new();
        for w in self.waiting.drain(..) {
            if w.depth >= depth {
                top.push_comment(w.leaf);
            } else {
                keep.push(w);
            }
        }
        self.waiting = keep;
    }

    /// The start of the line holding `at` if that line is a `---`/`...` marker line,
    /// else `at` itself.
    fn document_content_end(&self, at: usize) -> usize {
        let start = lex::line_start_of(self.text.as_bytes(), at);
        let line = &self.text[start..];
        if line.starts_with("---") || line.starts_with("...") {
            start
        } else {
            at
        }
    }

    fn finish_doc(&mut self, content_end: usize) {
        // Comments still waiting belong to the document's top level.
        if let Some(top) = self.stack.first_mut() {
            for w in self.waiting.drain(..) {
                top.push_comment(w.leaf);
            }
        }
        let Some(mut doc) = self.doc_root.take() else {
            if !self.stack.is_empty() {
                return;
            }
            if self.for_next_frame.is_empty() {
                return;
            }
            // Only comments: sops refuses this ("EOF"); keep them so the caller can.
            let items = self.for_next_frame.drain(..).map(Item::Comment).collect();
            self.docs.push(ParsedDoc {
                doc: Document { items },
                sops_entry: None,
                sops_value: None,
                content_end,
                root_indent: 0,
                root_flow: false,
                comments_only: true,
            });
            return;
        };
        doc.items
            .extend(self.for_next_frame.drain(..).map(Item::Comment));
        self.docs.push(ParsedDoc {
            doc,
            sops_entry: self.sops_entry.take(),
            sops_value: self.sops_value.take(),
            content_end,
            root_indent: self.root.0,
            root_flow: self.root.1,
            comments_only: false,
        });
        self.root = (0, false);
    }
}

/// The byte offset just past the line break that ends line `line` (or the text end).
fn line_end_after(bytes: &[u8], line: usize, lines: &Lines) -> usize {
    let start = lines.line_start(line);
    match bytes[start..].iter().position(|&b| b == b'\n') {
        Some(i) => start + i + 1,
        None => bytes.len(),
    }
}

/// An alias copy is not at the anchor's place in the text: it must never be spliced.
fn strip_spans(node: Node) -> Node {
    match node {
        Node::Map(items) => Node::Map(
            items
                .into_iter()
                .map(|i| match i {
                    Item::Entry { key, value } => Item::Entry {
                        key,
                        value: strip_spans(value),
                    },
                    Item::Comment(c) => Item::Comment(Leaf::new(c.value)),
                })
                .collect(),
        ),
        Node::List(items) => Node::List(
            items
                .into_iter()
                .map(|i| match i {
                    ListItem::Node(n) => ListItem::Node(strip_spans(n)),
                    ListItem::Comment(c) => ListItem::Comment(Leaf::new(c.value)),
                })
                .collect(),
        ),
        Node::Scalar(leaf) => Node::Scalar(Leaf::new(leaf.value)),
        Node::Null(_) => Node::Null(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_errors_keep_grammar_tokens_and_drop_quoted_input() {
        assert_eq!(
            sanitize_scan_error("while parsing a flow sequence, expected ',' or ']'"),
            "invalid YAML: while parsing a flow sequence, expected ',' or ']'"
        );
        assert_eq!(
            sanitize_scan_error("unknown tag 'hunter2-secret'"),
            "invalid YAML: unknown tag …"
        );
    }

    #[test]
    fn a_tab_after_the_colon_parses_as_in_go_yaml() {
        let parsed = parse("a:\tx\nb:\t\t2\n", "t.yaml", false).expect("go-yaml accepts this");
        assert_eq!(parsed.docs[0].doc.items.len(), 2);
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let parsed = parse("\u{feff}# c\na: 1\n", "t.yaml", false).unwrap();
        let doc = &parsed.docs[0];
        assert_eq!(doc.root_indent, 0);
        assert!(matches!(&doc.doc.items[0], Item::Comment(c) if c.value == " c"));
    }

    #[test]
    fn a_closing_bracket_at_column_zero_parses_as_in_go_yaml() {
        let text = "a: [\n  \"x\"\n]\nb: {\n  k: \"v\"\n}\n";
        let parsed = parse(text, "t.yaml", false).expect("go-yaml accepts this");
        assert_eq!(parsed.docs[0].doc.items.len(), 2);
    }

    #[test]
    fn an_empty_map_of_comments_as_sops_writes_it_keeps_them_inside() {
        // sops 3.11 writes `k: {} # c` (and a converted map holding only comments) so;
        // go-yaml reads it and drops the comments, sealant keeps them in the map.
        for text in [
            "t: {\n    # c1\n\n    # c2\n}\nz: 1\n",
            "x:\n    t: {\n        # c1\n    }\n",
            "t: {\r\n    # c1\r\n}\r\n",
            "l: [\n  # c1\n]\n",
        ] {
            let parsed = parse(text, "t.yaml", false).expect(text);
            let items = &parsed.docs[0].doc.items;
            let inner = match &items[0] {
                Item::Entry { key, value } if key == "x" => match value {
                    Node::Map(m) => &m[0],
                    other => panic!("{other:?}"),
                },
                first => first,
            };
            let Item::Entry { value, .. } = inner else {
                panic!("{text}: {items:?}")
            };
            let first = match value {
                Node::Map(m) => m.first().and_then(|i| match i {
                    Item::Comment(c) => Some(c.value.as_str()),
                    Item::Entry { .. } => None,
                }),
                Node::List(l) => l.first().and_then(|i| match i {
                    ListItem::Comment(c) => Some(c.value.as_str()),
                    ListItem::Node(_) => None,
                }),
                other => panic!("{other:?}"),
            };
            assert_eq!(first, Some(" c1"), "{text}");
        }
    }
}
