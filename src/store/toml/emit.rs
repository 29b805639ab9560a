//! Writing TOML: one value token in a given string style (for splicing), and a whole
//! file from a tree (conversion from another format, and the `[sops]` table).
//!
//! A fresh file keeps the tree's key order exactly, because the order is the MAC's
//! order: a map's entries are written as `key = value` lines up to its last entry that
//! must be one (a scalar, an array, an empty table), and only the entries after it as
//! `[table]` / `[[array]]` sections. A table that has to stay among the `key = value`
//! lines is written with dotted keys (`db.host = "x"`). Comments are kept where TOML
//! can hold them in the same table; comments inside a table written with dotted keys,
//! an inline table or an array are dropped (TOML has no place for them there).

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::tree::{Item, ListItem, Node, Scalar};

/// How a string token is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Quote {
    /// `"..."`
    Basic,
    /// `'...'`
    Literal,
    /// `"""..."""`
    MlBasic,
    /// `'''...'''`
    MlLiteral,
    /// Not a string: a number, boolean or date-time.
    Bare,
}

impl Quote {
    /// The style of the token `token`.
    pub fn of(token: &str) -> Quote {
        if token.starts_with("\"\"\"") {
            Quote::MlBasic
        } else if token.starts_with("'''") {
            Quote::MlLiteral
        } else if token.starts_with('"') {
            Quote::Basic
        } else if token.starts_with('\'') {
            Quote::Literal
        } else {
            Quote::Bare
        }
    }

    /// The style an `ENC[...]` string takes in place of a token of this style: the
    /// same quotes, and basic quotes for a value that was not a string.
    pub fn for_ciphertext(self) -> Quote {
        match self {
            Quote::Bare => Quote::Basic,
            q => q,
        }
    }

    /// `enc` (an `ENC[...]` string: base64 and `[],:=` only) in this style.
    pub fn wrap(self, enc: &str) -> String {
        let q = match self {
            Quote::Basic | Quote::Bare => "\"",
            Quote::Literal => "'",
            Quote::MlBasic => "\"\"\"",
            Quote::MlLiteral => "'''",
        };
        format!("{q}{enc}{q}")
    }
}

fn emit_error(why: impl Into<String>) -> Error {
    Error::Emit {
        format: "TOML",
        why: why.into(),
    }
}

/// A clear value as a TOML token; a string in style `quote` when it can be written so
/// (a literal string cannot hold `'` or control characters: it falls back to basic).
/// `nl` is the line break after the opening `"""` / `'''` of a multi-line string.
pub fn render(value: &Scalar, quote: Quote, nl: &str) -> Result<String> {
    Ok(match value {
        Scalar::Str(s) => match quote {
            Quote::Basic | Quote::Bare => basic(s),
            Quote::Literal => literal(s).unwrap_or_else(|| basic(s)),
            Quote::MlBasic => ml_basic(s, nl),
            Quote::MlLiteral => ml_literal(s, nl).unwrap_or_else(|| ml_basic(s, nl)),
        },
        Scalar::Bytes(_) => {
            return Err(emit_error(
                "a value that is not UTF-8 text cannot be written as TOML",
            ))
        }
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => float(*f),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(t) => {
            if !(0..=9999).contains(&t.year()) {
                return Err(emit_error(
                    "a time outside the years 0 to 9999 cannot be written as TOML",
                ));
            }
            crate::crypto::timestamp::format_time_nano(t)
        }
    })
}

/// A float as TOML: Rust's shortest round-trip digits, always with a `.` or an
/// exponent so that it reads back as a float (`1.0`, `1e16`, `-0.0`), and `inf`,
/// `-inf`, `nan`.
pub fn float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{f:?}")
    }
}

fn push_unicode_escape(out: &mut String, c: char) {
    let _ = write!(out, "\\u{:04X}", c as u32);
}

/// A basic string: `\\`, `\"`, `\b \t \n \f \r`, other control characters as `\uXXXX`.
pub fn basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() && (c as u32) < 0x80 => push_unicode_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A literal string, if `s` can be one (no `'`, no control character but tab).
fn literal(s: &str) -> Option<String> {
    let ok = s
        .chars()
        .all(|c| c != '\'' && (c == '\t' || !(c.is_control() && (c as u32) < 0x80)));
    ok.then(|| format!("'{s}'"))
}

/// A multi-line basic string: `"""`, a line break (which TOML drops), the text with
/// line breaks and tabs as they are, `\\`, the `"` that would close the string
/// escaped, other control characters escaped.
fn ml_basic(s: &str, nl: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str("\"\"\"");
    out.push_str(nl);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if matches!(chars.peek(), None | Some('"')) => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => out.push(c),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() && (c as u32) < 0x80 => push_unicode_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push_str("\"\"\"");
    out
}

/// A multi-line literal string, if `s` can be one (no `'''`, no control character but
/// tab and line breaks).
fn ml_literal(s: &str, nl: &str) -> Option<String> {
    let b = s.as_bytes();
    let controls_ok = b.iter().enumerate().all(|(i, &c)| match c {
        b'\t' | b'\n' => true,
        b'\r' => b.get(i + 1) == Some(&b'\n'),
        c => c >= 0x20 && c != 0x7f,
    });
    (controls_ok && !s.contains("'''")).then(|| format!("'''{nl}{s}'''"))
}

/// A key: bare when it can be, else a basic string.
pub fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if bare {
        k.to_string()
    } else {
        basic(k)
    }
}

/// Keys joined with `.`, each bare when it can be.
pub fn dotted(keys: &[&str]) -> String {
    keys.iter().map(|k| key(k)).collect::<Vec<_>>().join(".")
}

/// A map entry or a comment, for writing.
#[derive(Clone, Copy)]
enum It<'a> {
    Entry(&'a str, &'a Node),
    Comment(&'a str),
}

fn view(items: &[Item]) -> Vec<It<'_>> {
    items
        .iter()
        .map(|i| match i {
            Item::Entry { key, value } => It::Entry(key, value),
            Item::Comment(c) => It::Comment(&c.value),
        })
        .collect()
}

fn list_nodes(items: &[ListItem]) -> impl Iterator<Item = &Node> {
    items.iter().filter_map(|i| match i {
        ListItem::Node(n) => Some(n),
        ListItem::Comment(_) => None,
    })
}

/// Whether a value is written as a `[table]` or `[[array]]` section: a non-empty map,
/// or a non-empty list of maps only.
pub fn is_section(node: &Node) -> bool {
    match node {
        Node::Map(items) => items.iter().any(|i| matches!(i, Item::Entry { .. })),
        Node::List(items) => {
            list_nodes(items).next().is_some()
                && list_nodes(items).all(|n| matches!(n, Node::Map(_)))
        }
        _ => false,
    }
}

struct Emitter<'n> {
    out: String,
    nl: &'n str,
    /// Strings with line breaks as multi-line strings (else escaped on one line).
    multiline: bool,
    /// The last line written was a comment (a header follows it without a blank line).
    after_comment: bool,
}

impl Emitter<'_> {
    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push_str(self.nl);
        self.after_comment = false;
    }

    fn comment(&mut self, text: &str) {
        // TOML comments hold no control characters but tab.
        let clean: String = text
            .chars()
            .map(|c| {
                if c != '\t' && c.is_control() {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect();
        self.out.push('#');
        self.line(&clean);
        self.after_comment = true;
    }

    fn blank_before_section(&mut self) {
        if !self.out.is_empty() && !self.after_comment {
            self.out.push_str(self.nl);
        }
    }

    fn scalar(&self, value: &Scalar) -> Result<String> {
        match value {
            Scalar::Str(s) if self.multiline && s.contains('\n') => {
                render(value, Quote::MlBasic, self.nl)
            }
            _ => render(value, Quote::Basic, self.nl),
        }
    }

    fn inline(&self, node: &Node, path: &[&str]) -> Result<String> {
        Ok(match node {
            Node::Scalar(leaf) => self.scalar(&leaf.value)?,
            Node::Null(_) => return Err(null_error(path)),
            Node::List(items) => {
                let parts = list_nodes(items)
                    .map(|n| self.inline(n, path))
                    .collect::<Result<Vec<_>>>()?;
                format!("[{}]", parts.join(", "))
            }
            Node::Map(items) => {
                let its = view(items);
                check_unique(&its, path)?;
                let mut parts = Vec::new();
                let mut p = path.to_vec();
                for it in its {
                    if let It::Entry(k, v) = it {
                        p.push(k);
                        parts.push(format!("{} = {}", key(k), self.inline(v, &p)?));
                        p.pop();
                    }
                }
                if parts.is_empty() {
                    "{}".to_string()
                } else {
                    format!("{{ {} }}", parts.join(", "))
                }
            }
        })
    }

    /// `keys = value`, a non-empty map as dotted keys.
    fn body_entry<'a>(
        &mut self,
        path: &mut Vec<&'a str>,
        keys: usize,
        node: &'a Node,
    ) -> Result<()> {
        match node {
            Node::Map(items) if is_section(node) => {
                let its = view(items);
                check_unique(&its, path)?;
                for it in its {
                    if let It::Entry(k, v) = it {
                        path.push(k);
                        self.body_entry(path, keys + 1, v)?;
                        path.pop();
                    }
                }
                Ok(())
            }
            _ => {
                let line = format!(
                    "{} = {}",
                    dotted(&path[path.len() - keys..]),
                    self.inline(node, path)?
                );
                self.line(&line);
                Ok(())
            }
        }
    }

    /// A table's contents: its `key = value` lines, then its sections.
    fn table<'a>(&mut self, path: &mut Vec<&'a str>, its: &[It<'a>]) -> Result<()> {
        check_unique(its, path)?;
        let split = its
            .iter()
            .rposition(|it| matches!(it, It::Entry(_, n) if !is_section(n)))
            .map_or(0, |i| i + 1);
        for it in &its[..split] {
            match *it {
                It::Comment(c) => self.comment(c),
                It::Entry(k, v) => {
                    path.push(k);
                    self.body_entry(path, 1, v)?;
                    path.pop();
                }
            }
        }
        for it in &its[split..] {
            match *it {
                It::Comment(c) => {
                    if !self.after_comment {
                        self.blank_before_section();
                    }
                    self.comment(c);
                }
                It::Entry(k, Node::Map(items)) => {
                    path.push(k);
                    self.blank_before_section();
                    self.line(&format!("[{}]", dotted(path)));
                    self.table(path, &view(items))?;
                    path.pop();
                }
                It::Entry(k, Node::List(elems)) => {
                    path.push(k);
                    for e in elems {
                        match e {
                            ListItem::Comment(c) => {
                                if !self.after_comment {
                                    self.blank_before_section();
                                }
                                self.comment(&c.value);
                            }
                            ListItem::Node(Node::Map(items)) => {
                                self.blank_before_section();
                                self.line(&format!("[[{}]]", dotted(path)));
                                self.table(path, &view(items))?;
                            }
                            ListItem::Node(_) => {
                                unreachable!("a section list holds maps only")
                            }
                        }
                    }
                    path.pop();
                }
                It::Entry(..) => unreachable!("only sections follow the split"),
            }
        }
        Ok(())
    }
}

fn path_text(path: &[&str]) -> String {
    if path.is_empty() {
        "the top level".into()
    } else {
        dotted(path)
    }
}

fn null_error(path: &[&str]) -> Error {
    emit_error(format!(
        "TOML has no null: the value at {} is null (give it a value or remove it)",
        path_text(path)
    ))
}

fn check_unique(its: &[It<'_>], path: &[&str]) -> Result<()> {
    let mut seen = HashSet::new();
    for it in its {
        if let It::Entry(k, _) = it {
            if !seen.insert(*k) {
                return Err(emit_error(format!(
                    "the table at {} has the key {} twice; TOML cannot hold that",
                    path_text(path),
                    key(k)
                )));
            }
        }
    }
    Ok(())
}

/// A whole TOML file from a document, with the metadata as a final `[sops]` table.
pub fn document(items: &[Item], metadata: Option<&Node>) -> Result<String> {
    let mut its = view(items);
    let meta = metadata.map(sections_last);
    if let Some(m) = &meta {
        its.push(It::Entry("sops", m));
    }
    let mut e = Emitter {
        out: String::new(),
        nl: "\n",
        multiline: true,
        after_comment: false,
    };
    e.table(&mut Vec::new(), &its)?;
    Ok(e.out)
}

/// A value on one line: `"..."` strings, `[...]` arrays, `{ k = v }` inline tables.
/// `path` names the value in errors (TOML has no null).
pub fn inline_value(node: &Node, path: &[&str]) -> Result<String> {
    let e = Emitter {
        out: String::new(),
        nl: "\n",
        multiline: false,
        after_comment: false,
    };
    e.inline(node, path)
}

/// A value after `key = ` on a line of its own: as [`inline_value`], but a string with
/// line breaks is a multi-line string.
pub fn line_value(node: &Node, path: &[&str], nl: &str) -> Result<String> {
    match node {
        Node::Scalar(leaf) => {
            let e = Emitter {
                out: String::new(),
                nl,
                multiline: true,
                after_comment: false,
            };
            e.scalar(&leaf.value)
        }
        _ => inline_value(node, path),
    }
}

/// `node` (a map, or a list of maps: see [`is_section`]) as sections for the table at
/// `path`: `[path]` and its keys, then its sub-tables; or one `[[path]]` per element.
/// Starts with the first header and ends with a line break.
pub fn sections(path: &[&str], node: &Node, nl: &str) -> Result<String> {
    let mut e = Emitter {
        out: String::new(),
        nl,
        multiline: true,
        after_comment: false,
    };
    let mut p = path.to_vec();
    match node {
        Node::Map(items) => {
            e.line(&format!("[{}]", dotted(path)));
            e.table(&mut p, &view(items))?;
        }
        Node::List(elems) => {
            for n in list_nodes(elems) {
                let Node::Map(items) = n else {
                    return Err(emit_error(format!(
                        "an array of tables holds tables only (at {})",
                        path_text(path)
                    )));
                };
                e.blank_before_section();
                e.line(&format!("[[{}]]", dotted(path)));
                e.table(&mut p, &view(items))?;
            }
        }
        Node::Scalar(_) | Node::Null(_) => {
            return Err(emit_error(format!(
                "the value at {} is not a table",
                path_text(path)
            )))
        }
    }
    Ok(e.out)
}

/// The `[sops]` table alone, ending with a line break, for appending to a user's file.
/// In a file with CRLF line breaks, strings with line breaks (the age envelopes) are
/// written on one line with `\n` escapes, so that a tool converting line endings cannot
/// change them.
pub fn metadata_block(metadata: &Node, nl: &str) -> Result<String> {
    let meta = sections_last(metadata);
    let mut e = Emitter {
        out: String::new(),
        nl,
        multiline: nl == "\n",
        after_comment: false,
    };
    let its = [It::Entry("sops", &meta)];
    e.table(&mut Vec::new(), &its)?;
    Ok(e.out)
}

/// The metadata with every map's sections after its plain entries (the field order of
/// metadata is free, unlike a document's, so it is laid out the way rops writes it:
/// `lastmodified`, `mac`... then `[[sops.age]]`).
pub(super) fn sections_last(node: &Node) -> Node {
    match node {
        Node::Map(items) => {
            let mut plain = Vec::new();
            let mut sections = Vec::new();
            for item in items {
                match item {
                    Item::Entry { key, value } => {
                        let entry = Item::Entry {
                            key: key.clone(),
                            value: sections_last(value),
                        };
                        if is_section(value) {
                            sections.push(entry);
                        } else {
                            plain.push(entry);
                        }
                    }
                    Item::Comment(_) => {}
                }
            }
            plain.extend(sections);
            Node::Map(plain)
        }
        Node::List(items) => Node::List(
            items
                .iter()
                .map(|i| match i {
                    ListItem::Node(n) => ListItem::Node(sections_last(n)),
                    c => c.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Leaf;

    fn s(v: &str) -> Scalar {
        Scalar::Str(v.into())
    }

    #[test]
    fn floats_read_back_as_floats() {
        for (f, want) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1e16, "1e16"),
            (1.5e300, "1.5e300"),
            (1e-7, "1e-7"),
            (6.02e23, "6.02e23"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ] {
            assert_eq!(float(f), want);
        }
    }

    #[test]
    fn strings_in_each_style() {
        let r = |v: &str, q| render(&s(v), q, "\n").unwrap();
        assert_eq!(r("a\"b\\c\t\u{1}é", Quote::Basic), r#""a\"b\\c\t\u0001é""#);
        assert_eq!(r("x", Quote::Literal), "'x'");
        assert_eq!(r("it's", Quote::Literal), "\"it's\"");
        assert_eq!(r("a\nb", Quote::Literal), "\"a\\nb\"");
        assert_eq!(r("a\nb\n", Quote::MlBasic), "\"\"\"\na\nb\n\"\"\"");
        assert_eq!(r("q\"\"\"", Quote::MlBasic), "\"\"\"\nq\\\"\\\"\\\"\"\"\"");
        assert_eq!(r("a\r\nb\rc", Quote::MlBasic), "\"\"\"\na\r\nb\\rc\"\"\"");
        assert_eq!(r("a\nb", Quote::MlLiteral), "'''\na\nb'''");
        assert_eq!(r("a'''b", Quote::MlLiteral), "\"\"\"\na'''b\"\"\"");
        assert_eq!(r("", Quote::MlBasic), "\"\"\"\n\"\"\"");
        assert_eq!(
            render(&Scalar::Int(-5), Quote::Literal, "\n").unwrap(),
            "-5"
        );
        assert!(render(&Scalar::Bytes(vec![0xff]), Quote::Basic, "\n").is_err());
    }

    #[test]
    fn keys_are_bare_when_they_can_be() {
        assert_eq!(key("a-b_9"), "a-b_9");
        assert_eq!(key("a.b"), "\"a.b\"");
        assert_eq!(key(""), "\"\"");
        assert_eq!(key("é"), "\"é\"");
    }

    fn e(k: &str, v: Node) -> Item {
        Item::Entry {
            key: k.into(),
            value: v,
        }
    }
    fn leaf(v: Scalar) -> Node {
        Node::Scalar(Leaf::new(v))
    }

    #[test]
    fn key_order_is_kept_with_dotted_keys() {
        let items = vec![
            e("a", Node::Map(vec![e("x", leaf(Scalar::Int(1)))])),
            e("b", leaf(Scalar::Int(2))),
            e(
                "c",
                Node::Map(vec![
                    Item::Comment(Leaf::new(" about y".into())),
                    e("y", leaf(s("v"))),
                ]),
            ),
            e(
                "d",
                Node::List(vec![
                    ListItem::Node(Node::Map(vec![e("n", leaf(Scalar::Int(1)))])),
                    ListItem::Comment(Leaf::new(" second".into())),
                    ListItem::Node(Node::Map(vec![])),
                ]),
            ),
        ];
        assert_eq!(
            document(&items, None).unwrap(),
            "a.x = 1\nb = 2\n\n[c]\n# about y\ny = \"v\"\n\n[[d]]\nn = 1\n\n# second\n[[d]]\n"
        );
    }

    #[test]
    fn what_toml_cannot_hold_is_an_error() {
        let null = vec![e("a", Node::Map(vec![e("b", Node::Null(None))]))];
        let err = document(&null, None).unwrap_err();
        assert_eq!(err.exit_code(), 4);
        assert!(err.to_string().contains("a.b"), "{err}");
        let dup = vec![e("a", leaf(Scalar::Int(1))), e("a", leaf(Scalar::Int(2)))];
        assert_eq!(document(&dup, None).unwrap_err().exit_code(), 4);
    }
}
