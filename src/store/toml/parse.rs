//! TOML text to the tree, with the byte span of every value token and comment.
//!
//! Lexing and grammar are toml_parser's (the parser under toml_edit and toml): it reports
//! every token, comments and line breaks included, with its byte range, and decodes
//! keys and scalars. What it leaves to its users is the table semantics, done here:
//! dotted keys, `[table]` and `[[array]]` headers, inline tables, and the rules against
//! defining a key or a table twice. The rules follow the TOML spec as toml_edit applies
//! it; `tests/toml_props.rs` checks acceptance, values and key order against toml_edit
//! and the toml-test suite.
//!
//! Key order (the walk's, so the MAC's): as first written, except that a table defined
//! by a header after its sub-tables moves to the end of its parent, as in toml_edit and
//! toml (which rops reads with).
//!
//! Where comments go (their AAD is the key path of the container they are filed in):
//! * inside an array or an inline table: that array or inline table;
//! * on a line of their own before a `[table]` header: the table holding that table
//!   (like a YAML comment before a key); before an `[[array]]` header: that array;
//! * anywhere else (after a value or a header on its line, own lines before a key, at
//!   the end of the file or before the `[sops]` table): the table of the section they
//!   are in.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use toml_parser::decoder::ScalarKind;
use toml_parser::parser::{Event, EventKind, RecursionGuard, ValidateWhitespace};
use toml_parser::{ParseError, Source};

use crate::error::{Error, Location, Result};
use crate::tree::{Document, Holder, Item, Leaf, ListItem, Node, Scalar, Span, Style};
use crate::treepath::Step;

/// Deepest nesting of arrays and inline tables (toml_edit's limit too).
const MAX_NESTING: u32 = 80;
/// Deepest key path (tables within tables, arrays within those): keeps the recursive
/// walks over the tree far from the end of the stack.
pub const MAX_DEPTH: usize = 200;

/// What parsing gives: the document (without `sops`), the `sops` table if any, and the
/// byte ranges that hold it.
pub struct Parsed {
    pub doc: Document,
    pub sops: Option<Node>,
    pub sops_ranges: Vec<Range<usize>>,
}

/// Where the tables, statements, arrays and inline tables of a file sit: what `set` and
/// `unset` need beyond the spans of scalars. Recorded only when asked for.
#[derive(Debug, Default)]
pub struct TomlSites {
    /// The sections in text order; the first is the top level (no header).
    pub sections: Vec<SectionSite>,
    /// Every `key = value`, in a section or inside an inline table, in text order.
    pub stmts: Vec<Stmt>,
    /// Arrays (`[...]`) and inline tables (`{...}`) by tree path.
    pub containers: HashMap<Vec<Step>, Container>,
}

/// A `[table]` or `[[array]]` section, or the top level before the first header.
#[derive(Debug)]
pub struct SectionSite {
    /// The tree path of its table (an `[[array]]` element's ends with its index).
    pub path: Vec<Step>,
    /// The header line, its line break included; none for the top level.
    pub header: Option<Range<usize>>,
    /// The end (line break included) of its last `key = value` line, if it has one.
    pub body_end: Option<usize>,
}

/// Where a `key = value` is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// In section number n.
    Section(usize),
    /// In the inline table at this path.
    Inline(Vec<Step>),
}

/// A `key = value` (a dotted key defines the tables on its way).
#[derive(Debug)]
pub struct Stmt {
    pub place: Place,
    /// The tree path of the value.
    pub path: Vec<Step>,
    /// Each part of the key as written.
    pub keys: Vec<Range<usize>>,
    /// In a section: the whole line, from its start to past its line break. In an inline
    /// table: from the key to the end of the value.
    pub range: Range<usize>,
    /// The value as written (brackets and quotes included).
    pub value: Range<usize>,
}

/// An array or an inline table.
#[derive(Debug)]
pub struct Container {
    pub inline_table: bool,
    /// Offsets of the opening and the closing bracket.
    pub open: usize,
    pub close: usize,
    /// Array elements, or inline-table statements (`key = value`), in order.
    pub entries: Vec<Range<usize>>,
}

/// How a table came to exist: it decides what may still add keys to it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Created as the parent of a header's table (`a` for `[a.b]`): a later `[a]` may
    /// define it, dotted keys may extend it.
    Implicit,
    /// Created by a dotted key (`a.b = 1`).
    Dotted,
    /// Defined by a `[table]` header or an `[[array]]` element.
    Explicit,
    /// An inline table `{...}`: complete once closed.
    Inline,
}

type TableId = usize;

struct Table {
    kind: Kind,
    depth: usize,
    items: Vec<Slot>,
    /// Key -> index in `items`.
    index: HashMap<String, usize>,
}

enum Slot {
    Entry {
        key: String,
        /// Where the key was written (for "defined twice" messages).
        at: usize,
        value: Val,
    },
    Comment(Leaf<String>),
}

enum Val {
    Table(TableId),
    /// An array of tables (`[[a]]`), with comments between its elements.
    Tables(Vec<Elem>),
    /// A static array `[...]`.
    Array(Vec<Elem>),
    Scalar(Leaf<Scalar>),
}

enum Elem {
    Table(TableId),
    Value(Val),
    Comment(Leaf<String>),
}

/// The section being read: the table its header opened, where it starts, and whether
/// it belongs to the `sops` metadata.
struct Section {
    table: TableId,
    start: usize,
    sops: bool,
    /// End of the last line read into this section.
    end: usize,
}

struct Builder<'a> {
    text: &'a str,
    file: &'a str,
    source: Source<'a>,
    events: Vec<Event>,
    pos: usize,
    tables: Vec<Table>,
    section: Section,
    /// Comments on lines of their own, not yet filed.
    pending: Vec<Leaf<String>>,
    sops_ranges: Vec<Range<usize>>,
    /// Sites, when asked for, and the tree path of the value being read.
    rec: Option<TomlSites>,
    cur: Vec<Step>,
}

/// Parses TOML text. Errors name the file and line:column and never quote the text.
pub fn parse(text: &str, file: &str) -> Result<Parsed> {
    parse_inner(text, file, false).map(|(p, _)| p)
}

/// [`parse`], also recording where things sit.
pub fn parse_with_sites(text: &str, file: &str) -> Result<(Parsed, TomlSites)> {
    let (p, sites) = parse_inner(text, file, true)?;
    Ok((p, sites.unwrap_or_default()))
}

fn parse_inner(text: &str, file: &str, record: bool) -> Result<(Parsed, Option<TomlSites>)> {
    let source = Source::new(text);
    let tokens = source.lex().into_vec();
    let mut events = Vec::with_capacity(tokens.len());
    let mut errors: Vec<ParseError> = Vec::new();
    {
        let mut validate = ValidateWhitespace::new(&mut events, source);
        let mut guard = RecursionGuard::new(&mut validate, MAX_NESTING);
        toml_parser::parser::parse_document(&tokens, &mut guard, &mut errors);
    }
    drop(tokens); // the events hold all that is needed; frees memory on big files
    if let Some(first) = errors.iter().min_by_key(|e| error_offset(e)) {
        return Err(syntax_error(text, file, first));
    }
    let root = Table {
        kind: Kind::Explicit,
        depth: 0,
        items: Vec::new(),
        index: HashMap::new(),
    };
    let mut b = Builder {
        text,
        file,
        source,
        events,
        pos: 0,
        tables: vec![root],
        section: Section {
            table: 0,
            start: 0,
            sops: false,
            end: 0,
        },
        pending: Vec::new(),
        sops_ranges: Vec::new(),
        rec: record.then(|| TomlSites {
            sections: vec![SectionSite {
                path: Vec::new(),
                header: None,
                body_end: None,
            }],
            ..TomlSites::default()
        }),
        cur: Vec::new(),
    };
    b.document()?;
    let mut root = b.take_items(0);
    let sops_at = root
        .iter()
        .position(|i| matches!(i, Item::Entry { key, .. } if key == "sops"));
    let sops = sops_at.map(|i| match root.remove(i) {
        Item::Entry { value, .. } => value,
        Item::Comment(_) => unreachable!("position found an entry"),
    });
    Ok((
        Parsed {
            doc: Document { items: root },
            sops,
            sops_ranges: b.sops_ranges,
        },
        b.rec,
    ))
}

fn error_offset(e: &ParseError) -> usize {
    e.unexpected()
        .or(e.context())
        .map_or(usize::MAX, |s| s.start())
}

/// 1-based line and column (in characters) of byte offset `at`.
pub fn location(text: &str, at: usize) -> Location {
    let b = text.as_bytes();
    let at = at.min(b.len());
    let before = &b[..at];
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let column = before[line_start..]
        .iter()
        .filter(|&&c| c & 0xC0 != 0x80)
        .count()
        + 1;
    Location { line, column }
}

/// A toml_parser error as sealant's: its description and what was expected (grammar
/// words only: the parser never quotes the input there).
fn syntax_error(text: &str, file: &str, e: &ParseError) -> Error {
    let mut what = e.description().to_string();
    if let Some(expected) = e.expected().filter(|x| !x.is_empty()) {
        let words: Vec<String> = expected
            .iter()
            .map(|x| match x {
                toml_parser::Expected::Literal(s) => format!("`{}`", s.escape_debug()),
                toml_parser::Expected::Description(s) => (*s).to_string(),
                _ => "something else".to_string(),
            })
            .collect();
        what.push_str(", expected ");
        what.push_str(&words.join(" or "));
    }
    let at = error_offset(e).min(text.len());
    if text[at..].trim().is_empty() {
        what = format!("the file ends too early ({what})");
    }
    Error::Parse {
        file: file.to_string(),
        at: location(text, at),
        what,
    }
}

fn leaf_span(bytes: Range<usize>) -> Option<Span> {
    Some(Span {
        bytes,
        style: Style::Raw,
        line_indent: 0,
        in_flow: false,
        holder: Holder::None,
    })
}

/// Which rule a second definition broke (for the message).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Conflict {
    Key,
    Dotted,
    Header,
}

/// A key of a dotted key or header, and where it was written.
struct Key {
    name: String,
    at: usize,
    end: usize,
}

impl<'a> Builder<'a> {
    fn err(&self, at: usize, what: impl Into<String>) -> Error {
        Error::Parse {
            file: self.file.to_string(),
            at: location(self.text, at),
            what: what.into(),
        }
    }

    fn peek(&self) -> Option<Event> {
        self.events.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<Event> {
        let e = self.peek();
        self.pos += e.is_some() as usize;
        e
    }

    fn skip_ws(&mut self) {
        while self
            .peek()
            .is_some_and(|e| e.kind() == EventKind::Whitespace)
        {
            self.pos += 1;
        }
    }

    fn unexpected(&self, e: Event) -> Error {
        // The grammar was checked before: this is a gap between the two passes.
        self.err(
            e.span().start(),
            format!("unexpected {}", e.kind().description()),
        )
    }

    fn document(&mut self) -> Result<()> {
        while let Some(e) = self.next() {
            match e.kind() {
                EventKind::Whitespace | EventKind::Newline => {}
                EventKind::Comment => {
                    let c = self.comment(e);
                    self.pending.push(c);
                }
                EventKind::StdTableOpen | EventKind::ArrayTableOpen => self.header(e)?,
                EventKind::SimpleKey => self.key_value(e)?,
                _ => return Err(self.unexpected(e)),
            }
        }
        // Comments at the end of the file stay in the last section.
        let table = self.section.table;
        for c in std::mem::take(&mut self.pending) {
            self.tables[table].items.push(Slot::Comment(c));
        }
        self.section.end = self.text.len();
        self.close_section();
        Ok(())
    }

    fn comment(&self, e: Event) -> Leaf<String> {
        let span = e.span();
        // The token starts with `#`; the comment's text is what follows it.
        let bytes = span.start() + 1..span.end();
        Leaf {
            value: self.text[bytes.clone()].to_string(),
            span: leaf_span(bytes),
        }
    }

    /// Reads the rest of a statement's line: an optional comment (filed in `table`) and
    /// the line break. Returns the end of the line.
    fn finish_line(&mut self, table: TableId) -> usize {
        while let Some(e) = self.peek() {
            match e.kind() {
                EventKind::Whitespace => self.pos += 1,
                EventKind::Comment => {
                    self.pos += 1;
                    let c = self.comment(e);
                    self.tables[table].items.push(Slot::Comment(c));
                }
                EventKind::Newline => {
                    self.pos += 1;
                    return e.span().end();
                }
                _ => return e.span().start(),
            }
        }
        self.text.len()
    }

    fn line_start(&self, at: usize) -> usize {
        self.text.as_bytes()[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1)
    }

    /// Reads a dotted key starting with `first`; stops before what follows it.
    fn key_path(&mut self, first: Event) -> Result<Vec<Key>> {
        let mut keys = vec![self.key(first)?];
        loop {
            self.skip_ws();
            match self.peek().map(|e| e.kind()) {
                Some(EventKind::KeySep) => {
                    self.pos += 1;
                    self.skip_ws();
                    match self.next() {
                        Some(k) if k.kind() == EventKind::SimpleKey => keys.push(self.key(k)?),
                        Some(other) => return Err(self.unexpected(other)),
                        None => return Err(self.err(self.text.len(), "a key ends the file")),
                    }
                }
                _ => return Ok(keys),
            }
        }
    }

    fn key(&self, e: Event) -> Result<Key> {
        let raw = self
            .source
            .get(e)
            .ok_or_else(|| self.err(e.span().start(), "invalid key"))?;
        let mut out: Cow<'a, str> = Cow::Borrowed("");
        let mut error: Option<ParseError> = None;
        raw.decode_key(&mut out, &mut error);
        if let Some(error) = error {
            return Err(syntax_error(self.text, self.file, &error));
        }
        Ok(Key {
            name: out.into_owned(),
            at: e.span().start(),
            end: e.span().end(),
        })
    }

    fn new_table(&mut self, kind: Kind, depth: usize, at: usize) -> Result<TableId> {
        if depth > MAX_DEPTH {
            return Err(self.err(at, "tables or arrays nested too deeply"));
        }
        self.tables.push(Table {
            kind,
            depth,
            items: Vec::new(),
            index: HashMap::new(),
        });
        Ok(self.tables.len() - 1)
    }

    fn lookup(&self, table: TableId, key: &str) -> Option<usize> {
        self.tables[table].index.get(key).copied()
    }

    fn push_entry(&mut self, table: TableId, key: &Key, value: Val) {
        let t = &mut self.tables[table];
        t.index.insert(key.name.clone(), t.items.len());
        t.items.push(Slot::Entry {
            key: key.name.clone(),
            at: key.at,
            value,
        });
    }

    fn defined_twice(&self, key: &Key, first: usize, how: Conflict) -> Error {
        let l = location(self.text, first);
        let what = match how {
            Conflict::Key => "duplicate key (first defined at",
            Conflict::Dotted => "dotted keys cannot add to a value or table defined at",
            Conflict::Header => "table or key defined twice (first at",
        };
        let close = if how == Conflict::Dotted { "" } else { ")" };
        self.err(
            key.at,
            format!("{what} line {}:{}{close}", l.line, l.column),
        )
    }

    fn first_at(&self, table: TableId, slot: usize) -> usize {
        match &self.tables[table].items[slot] {
            Slot::Entry { at, .. } => *at,
            Slot::Comment(_) => 0,
        }
    }

    /// The table a dotted key's prefix leads to from `table`, creating dotted tables.
    /// Only tables made by dotted keys (or implicitly by headers) can be extended this
    /// way; inline tables, arrays, values and `[table]`-defined tables cannot.
    fn descend_dotted(&mut self, mut table: TableId, keys: &[Key]) -> Result<TableId> {
        for key in keys {
            table = match self.lookup(table, &key.name) {
                None => {
                    let depth = self.tables[table].depth + 1;
                    let t = self.new_table(Kind::Dotted, depth, key.at)?;
                    self.push_entry(table, key, Val::Table(t));
                    t
                }
                Some(slot) => {
                    let first = self.first_at(table, slot);
                    match &self.tables[table].items[slot] {
                        Slot::Entry {
                            value: Val::Table(t),
                            ..
                        } => {
                            let t = *t;
                            match self.tables[t].kind {
                                Kind::Dotted => t,
                                Kind::Implicit => {
                                    self.tables[t].kind = Kind::Dotted;
                                    t
                                }
                                Kind::Explicit | Kind::Inline => {
                                    return Err(self.defined_twice(key, first, Conflict::Dotted))
                                }
                            }
                        }
                        _ => return Err(self.defined_twice(key, first, Conflict::Dotted)),
                    }
                }
            };
        }
        Ok(table)
    }

    /// Inserts `keys = value` into `table`.
    fn insert(&mut self, table: TableId, keys: &[Key], value: Val) -> Result<()> {
        let (last, prefix) = keys.split_last().expect("a key path has a key");
        let parent = self.descend_dotted(table, prefix)?;
        if let Some(slot) = self.lookup(parent, &last.name) {
            return Err(self.defined_twice(last, self.first_at(parent, slot), Conflict::Key));
        }
        self.push_entry(parent, last, value);
        Ok(())
    }

    fn key_value(&mut self, first: Event) -> Result<()> {
        let line = self.line_start(first.span().start());
        let keys = self.key_path(first)?;
        self.skip_ws();
        match self.next() {
            Some(e) if e.kind() == EventKind::KeyValSep => {}
            Some(e) => return Err(self.unexpected(e)),
            None => return Err(self.err(self.text.len(), "a key ends the file")),
        }
        let table = self.section.table;
        let depth = self.tables[table].depth + keys.len();
        let value_start = self.value_start();
        if let Some(rec) = &self.rec {
            let section = rec.sections.last().expect("the top level is always there");
            self.cur.clone_from(&section.path);
            self.cur
                .extend(keys.iter().map(|k| Step::Key(k.name.clone())));
        }
        let value = self.value(depth)?;
        let value_end = self.last_end();
        for c in std::mem::take(&mut self.pending) {
            self.tables[table].items.push(Slot::Comment(c));
        }
        self.insert(table, &keys, value)?;
        let end = self.finish_line(table);
        self.section.end = end;
        if let Some(rec) = &mut self.rec {
            let n = rec.sections.len() - 1;
            rec.sections[n].body_end = Some(end);
            rec.stmts.push(Stmt {
                place: Place::Section(n),
                path: std::mem::take(&mut self.cur),
                keys: keys.iter().map(|k| k.at..k.end).collect(),
                range: line..end,
                value: value_start..value_end,
            });
        }
        if table == 0 && keys[0].name == "sops" {
            self.sops_ranges.push(line..end);
        }
        Ok(())
    }

    /// Where the next value starts (after blanks).
    fn value_start(&mut self) -> usize {
        self.skip_ws();
        self.peek().map_or(self.text.len(), |e| e.span().start())
    }

    /// The end of the last token read.
    fn last_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.events.get(i))
            .map_or(self.text.len(), |e| e.span().end())
    }

    /// Reads a value; `depth` is its key path length (for the nesting limit). When sites
    /// are recorded, `self.cur` is the value's tree path.
    fn value(&mut self, depth: usize) -> Result<Val> {
        self.skip_ws();
        let Some(e) = self.next() else {
            return Err(self.err(self.text.len(), "missing value"));
        };
        if depth > MAX_DEPTH {
            return Err(self.err(e.span().start(), "tables or arrays nested too deeply"));
        }
        match e.kind() {
            EventKind::Scalar => self.scalar(e).map(Val::Scalar),
            EventKind::ArrayOpen => {
                let open = e.span().start();
                let mut elems = Vec::new();
                let mut entries = Vec::new();
                let close = loop {
                    let Some(e) = self.peek() else {
                        return Err(self.err(self.text.len(), "unclosed array"));
                    };
                    match e.kind() {
                        EventKind::Whitespace | EventKind::Newline | EventKind::ValueSep => {
                            self.pos += 1
                        }
                        EventKind::Comment => {
                            self.pos += 1;
                            elems.push(Elem::Comment(self.comment(e)));
                        }
                        EventKind::ArrayClose => {
                            self.pos += 1;
                            break e.span().start();
                        }
                        _ => {
                            let recording = self.rec.is_some();
                            if recording {
                                self.cur.push(Step::Index(entries.len()));
                            }
                            elems.push(Elem::Value(self.value(depth + 1)?));
                            if recording {
                                self.cur.pop();
                                entries.push(e.span().start()..self.last_end());
                            }
                        }
                    }
                };
                if let Some(rec) = &mut self.rec {
                    rec.containers.insert(
                        self.cur.clone(),
                        Container {
                            inline_table: false,
                            open,
                            close,
                            entries,
                        },
                    );
                }
                Ok(Val::Array(elems))
            }
            EventKind::InlineTableOpen => {
                let open = e.span().start();
                let t = self.new_table(Kind::Inline, depth, open)?;
                let mut entries = Vec::new();
                let close = loop {
                    let Some(e) = self.next() else {
                        return Err(self.err(self.text.len(), "unclosed inline table"));
                    };
                    match e.kind() {
                        EventKind::Whitespace | EventKind::Newline | EventKind::ValueSep => {}
                        EventKind::Comment => {
                            let c = self.comment(e);
                            self.tables[t].items.push(Slot::Comment(c));
                        }
                        EventKind::InlineTableClose => break e.span().start(),
                        EventKind::SimpleKey => {
                            let keys = self.key_path(e)?;
                            self.skip_ws();
                            match self.next() {
                                Some(s) if s.kind() == EventKind::KeyValSep => {}
                                Some(s) => return Err(self.unexpected(s)),
                                None => {
                                    return Err(self.err(self.text.len(), "unclosed inline table"))
                                }
                            }
                            let value_start = self.value_start();
                            let recording = self.rec.is_some();
                            let base = self.cur.len();
                            if recording {
                                self.cur
                                    .extend(keys.iter().map(|k| Step::Key(k.name.clone())));
                            }
                            let v = self.value(depth + keys.len())?;
                            if let Some(rec) = &mut self.rec {
                                let end = self
                                    .pos
                                    .checked_sub(1)
                                    .map_or(0, |i| self.events[i].span().end());
                                rec.stmts.push(Stmt {
                                    place: Place::Inline(self.cur[..base].to_vec()),
                                    path: self.cur.clone(),
                                    keys: keys.iter().map(|k| k.at..k.end).collect(),
                                    range: e.span().start()..end,
                                    value: value_start..end,
                                });
                                entries.push(e.span().start()..end);
                            }
                            if recording {
                                self.cur.truncate(base);
                            }
                            self.insert(t, &keys, v)?;
                        }
                        _ => return Err(self.unexpected(e)),
                    }
                };
                if let Some(rec) = &mut self.rec {
                    rec.containers.insert(
                        self.cur.clone(),
                        Container {
                            inline_table: true,
                            open,
                            close,
                            entries,
                        },
                    );
                }
                Ok(Val::Table(t))
            }
            _ => Err(self.unexpected(e)),
        }
    }

    fn scalar(&mut self, e: Event) -> Result<Leaf<Scalar>> {
        let at = e.span().start();
        let raw = self
            .source
            .get(e)
            .ok_or_else(|| self.err(at, "invalid value"))?;
        let mut out: Cow<'a, str> = Cow::Borrowed("");
        let mut error: Option<ParseError> = None;
        let kind = raw.decode_scalar(&mut out, &mut error);
        if let Some(error) = error {
            return Err(syntax_error(self.text, self.file, &error));
        }
        let value = match kind {
            ScalarKind::String => Scalar::Str(out.into_owned()),
            ScalarKind::Boolean(b) => Scalar::Bool(b),
            ScalarKind::Integer(radix) => Scalar::Int(
                i64::from_str_radix(&out, radix.value())
                    .map_err(|_| self.err(at, "integer out of range (TOML integers are 64-bit)"))?,
            ),
            ScalarKind::Float => {
                let f: f64 = out.parse().map_err(|_| self.err(at, "invalid float"))?;
                let word = out.trim_start_matches(['+', '-']);
                if f.is_infinite() && !word.bytes().all(|c| c.is_ascii_alphabetic()) {
                    return Err(self.err(at, "float out of range (TOML floats are 64-bit)"));
                }
                Scalar::Float(f)
            }
            ScalarKind::DateTime => datetime(&out).map_err(|what| self.err(at, what))?,
        };
        let span = e.span();
        Ok(Leaf {
            value,
            span: leaf_span(span.start()..span.end()),
        })
    }

    fn header(&mut self, open: Event) -> Result<()> {
        let array = open.kind() == EventKind::ArrayTableOpen;
        let line = self.line_start(open.span().start());
        self.skip_ws();
        let first = match self.next() {
            Some(e) if e.kind() == EventKind::SimpleKey => e,
            Some(e) => return Err(self.unexpected(e)),
            None => return Err(self.err(self.text.len(), "unclosed table header")),
        };
        let keys = self.key_path(first)?;
        self.skip_ws();
        match self.next() {
            Some(e)
                if matches!(
                    e.kind(),
                    EventKind::StdTableClose | EventKind::ArrayTableClose
                ) => {}
            Some(e) => return Err(self.unexpected(e)),
            None => return Err(self.err(self.text.len(), "unclosed table header")),
        }
        // Comments are filed as if the `sops` table were not there: own-line comments
        // before it stay in the section they follow (as at the end of a file).
        let sops = keys[0].name == "sops";
        if sops {
            let table = self.section.table;
            for c in std::mem::take(&mut self.pending) {
                self.tables[table].items.push(Slot::Comment(c));
            }
        }
        self.close_section();

        let (last, prefix) = keys.split_last().expect("a header has a key");
        let parent = self.descend_header(prefix)?;
        let pending = std::mem::take(&mut self.pending);
        let depth = self.tables[parent].depth + 1;
        let table = match self.lookup(parent, &last.name) {
            None => {
                let t = self.new_table(Kind::Explicit, depth, last.at)?;
                let value = if array {
                    let mut elems: Vec<Elem> = pending.into_iter().map(Elem::Comment).collect();
                    elems.push(Elem::Table(t));
                    Val::Tables(elems)
                } else {
                    for c in pending {
                        self.tables[parent].items.push(Slot::Comment(c));
                    }
                    Val::Table(t)
                };
                self.push_entry(parent, last, value);
                t
            }
            Some(slot) => {
                let first_at = self.first_at(parent, slot);
                let existing = match &self.tables[parent].items[slot] {
                    Slot::Entry { value, .. } => value,
                    Slot::Comment(_) => unreachable!("the index points at entries"),
                };
                match (array, existing) {
                    (false, Val::Table(t)) if self.tables[*t].kind == Kind::Implicit => {
                        let t = *t;
                        self.tables[t].kind = Kind::Explicit;
                        // A table defined after its sub-tables moves to the end of its
                        // parent, as in toml and toml_edit (so rops, which reads with
                        // toml, walks the keys in the same order: the MAC's order).
                        let p = &mut self.tables[parent];
                        let entry = p.items.remove(slot);
                        p.items.extend(pending.into_iter().map(Slot::Comment));
                        p.items.push(entry);
                        p.index.clear();
                        for (i, item) in p.items.iter().enumerate() {
                            if let Slot::Entry { key, .. } = item {
                                p.index.insert(key.clone(), i);
                            }
                        }
                        t
                    }
                    (true, Val::Tables(_)) => {
                        let t = self.new_table(Kind::Explicit, depth, last.at)?;
                        let Some(Slot::Entry {
                            value: Val::Tables(elems),
                            ..
                        }) = self.tables[parent].items.get_mut(slot)
                        else {
                            unreachable!("matched an array of tables above")
                        };
                        elems.extend(pending.into_iter().map(Elem::Comment));
                        elems.push(Elem::Table(t));
                        t
                    }
                    _ => return Err(self.defined_twice(last, first_at, Conflict::Header)),
                }
            }
        };
        let end = self.finish_line(table);
        self.section = Section {
            table,
            start: line,
            sops,
            end,
        };
        if self.rec.is_some() {
            let path = self.table_path(&keys);
            if let Some(rec) = &mut self.rec {
                rec.sections.push(SectionSite {
                    path,
                    header: Some(line..end),
                    body_end: None,
                });
            }
        }
        Ok(())
    }

    /// The tree path of the table a header names (an array of tables leads to its last
    /// element, as the header does).
    fn table_path(&self, keys: &[Key]) -> Vec<Step> {
        let mut path = Vec::with_capacity(keys.len() + 1);
        let mut table = 0;
        for key in keys {
            path.push(Step::Key(key.name.clone()));
            let Some(slot) = self.lookup(table, &key.name) else {
                break;
            };
            match &self.tables[table].items[slot] {
                Slot::Entry {
                    value: Val::Table(t),
                    ..
                } => table = *t,
                Slot::Entry {
                    value: Val::Tables(elems),
                    ..
                } => {
                    let tables: Vec<TableId> = elems
                        .iter()
                        .filter_map(|e| match e {
                            Elem::Table(t) => Some(*t),
                            _ => None,
                        })
                        .collect();
                    path.push(Step::Index(tables.len().saturating_sub(1)));
                    match tables.last() {
                        Some(t) => table = *t,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        path
    }

    /// The table a header's prefix leads to: any table but an inline one can be
    /// entered; an array of tables leads to its last element.
    fn descend_header(&mut self, keys: &[Key]) -> Result<TableId> {
        let mut table = 0;
        for key in keys {
            table = match self.lookup(table, &key.name) {
                None => {
                    let depth = self.tables[table].depth + 1;
                    let t = self.new_table(Kind::Implicit, depth, key.at)?;
                    self.push_entry(table, key, Val::Table(t));
                    t
                }
                Some(slot) => {
                    let first = self.first_at(table, slot);
                    match &self.tables[table].items[slot] {
                        Slot::Entry {
                            value: Val::Table(t),
                            ..
                        } if self.tables[*t].kind != Kind::Inline => *t,
                        Slot::Entry {
                            value: Val::Tables(elems),
                            ..
                        } => elems
                            .iter()
                            .rev()
                            .find_map(|e| match e {
                                Elem::Table(t) => Some(*t),
                                _ => None,
                            })
                            .expect("an array of tables has a table"),
                        _ => return Err(self.defined_twice(key, first, Conflict::Header)),
                    }
                }
            };
        }
        Ok(table)
    }

    /// Ends the current section; a `sops` section's lines become a metadata range.
    fn close_section(&mut self) {
        if self.section.sops {
            self.sops_ranges
                .push(self.section.start..self.section.end.max(self.section.start));
        }
        self.section.sops = false;
    }

    /// Moves table `id` out of the arena as tree items.
    fn take_items(&mut self, id: TableId) -> Vec<Item> {
        let slots = std::mem::take(&mut self.tables[id].items);
        slots
            .into_iter()
            .map(|slot| match slot {
                Slot::Comment(c) => Item::Comment(c),
                Slot::Entry { key, value, .. } => Item::Entry {
                    key,
                    value: self.take_node(value),
                },
            })
            .collect()
    }

    fn take_node(&mut self, v: Val) -> Node {
        match v {
            Val::Table(t) => Node::Map(self.take_items(t)),
            Val::Tables(elems) | Val::Array(elems) => Node::List(
                elems
                    .into_iter()
                    .map(|e| match e {
                        Elem::Table(t) => ListItem::Node(Node::Map(self.take_items(t))),
                        Elem::Value(v) => ListItem::Node(self.take_node(v)),
                        Elem::Comment(c) => ListItem::Comment(c),
                    })
                    .collect(),
            ),
            Val::Scalar(leaf) => Node::Scalar(leaf),
        }
    }
}

/// A TOML date-time, typed for sops: an offset date-time is a `time`; a local
/// date-time, date or time is a string, written as RFC 3339 writes those parts
/// (`T` between date and time, seconds always present; see docs/FORMAT.md).
fn datetime(text: &str) -> Result<Scalar, &'static str> {
    use toml_datetime::{Datetime, Offset};
    let d: Datetime = text.parse().map_err(|_| "invalid date-time")?;
    let time_part = |t: &toml_datetime::Time| {
        let mut s = format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second.unwrap_or(0));
        if let Some(n) = t.nanosecond {
            // The fraction as written (toml_datetime keeps nanoseconds).
            let digits = fraction_digits(text);
            let frac = format!("{n:09}");
            s.push('.');
            s.push_str(&frac[..digits.clamp(1, 9)]);
        }
        s
    };
    match (d.date, d.time, d.offset) {
        (Some(date), Some(t), Some(offset)) => {
            let month = time::Month::try_from(date.month).map_err(|_| "invalid date-time")?;
            let day = time::Date::from_calendar_date(i32::from(date.year), month, date.day)
                .map_err(|_| "invalid date-time")?;
            let minutes = match offset {
                Offset::Z => 0,
                Offset::Custom { minutes } => minutes,
            };
            let clock = time::Time::from_hms_nano(
                t.hour,
                t.minute,
                t.second.unwrap_or(0),
                t.nanosecond.unwrap_or(0),
            );
            let Ok(clock) = clock else {
                // A leap second (:60): no sops time (Go's) can hold it; kept as a
                // string, in RFC 3339.
                let sign = if minutes < 0 { '-' } else { '+' };
                let zone = match offset {
                    Offset::Z => "Z".to_string(),
                    Offset::Custom { .. } => format!(
                        "{sign}{:02}:{:02}",
                        minutes.unsigned_abs() / 60,
                        minutes.unsigned_abs() % 60
                    ),
                };
                return Ok(Scalar::Str(format!(
                    "{:04}-{:02}-{:02}T{}{zone}",
                    date.year,
                    date.month,
                    date.day,
                    time_part(&t)
                )));
            };
            let off = time::UtcOffset::from_whole_seconds(i32::from(minutes) * 60)
                .map_err(|_| "invalid date-time offset")?;
            Ok(Scalar::Time(
                time::PrimitiveDateTime::new(day, clock).assume_offset(off),
            ))
        }
        (Some(date), Some(t), None) => Ok(Scalar::Str(format!(
            "{:04}-{:02}-{:02}T{}",
            date.year,
            date.month,
            date.day,
            time_part(&t)
        ))),
        (Some(date), None, None) => Ok(Scalar::Str(format!(
            "{:04}-{:02}-{:02}",
            date.year, date.month, date.day
        ))),
        (None, Some(t), None) => Ok(Scalar::Str(time_part(&t))),
        _ => Err("invalid date-time"),
    }
}

/// How many fraction digits a date-time token has (after the `.` of the seconds).
fn fraction_digits(text: &str) -> usize {
    text.find('.').map_or(0, |dot| {
        text[dot + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count()
    })
}
