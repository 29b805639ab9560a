//! The meaning of a config file, independent of its format.
//!
//! A file is a list of [`Document`]s (only YAML can hold more than one). A document is
//! an ordered map whose items are key/value entries or comments; lists can hold comments
//! too. This mirrors sops's tree (spec §1) so that walk order, AADs and the MAC agree.
//!
//! Each leaf may carry a [`Span`]: where its text sits in the source. Stores use spans to
//! *splice* (replace a value's text in place) instead of re-emitting the whole file, which
//! is how sealant keeps the user's layout. A tree built from scratch (conversion between
//! formats, new keys) has no spans and is emitted fresh.

use std::fmt;
use std::ops::Range;

/// A typed scalar, typed the way sops types it (spec §3.4).
///
/// `Debug` is redacted on purpose: scalars are secrets, and a stray `{:?}` in an error
/// or a log line must never print one.
#[derive(Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A YAML timestamp (sops type `time`).
    Time(time::OffsetDateTime),
    /// A string that is not UTF-8: only the binary store makes these (sops type `str`,
    /// any bytes), and decryption of a `str` whose plaintext is not UTF-8.
    Bytes(Vec<u8>),
}

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Scalar::Str(s) => return write!(f, "Str(<{} bytes>)", s.len()),
            Scalar::Bytes(b) => return write!(f, "Bytes(<{} bytes>)", b.len()),
            Scalar::Int(_) => "Int",
            Scalar::Float(_) => "Float",
            Scalar::Bool(_) => "Bool",
            Scalar::Time(_) => "Time",
        };
        write!(f, "{kind}(<redacted>)")
    }
}

/// Where a leaf's text sits in the source, and how it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// Byte range of the token that a splice replaces (for a comment: the text after `#`).
    pub bytes: Range<usize>,
    pub style: Style,
    /// Column (in characters) of the start of the line's first non-space character: the
    /// indentation of the entry or list item that holds this leaf. Used to indent new
    /// block scalars.
    pub line_indent: usize,
    /// True inside a flow collection (`{...}` / `[...]`), where a plain scalar cannot
    /// hold `,[]{}`.
    pub in_flow: bool,
    /// What holds this leaf on its line: the key of a map entry or the `-` of a list
    /// item. Decides the indentation of a block scalar written in its place.
    pub holder: Holder,
}

impl Span {
    /// The span of a token a format writes one way only (a dotenv or INI value, a
    /// comment's text), with no indentation to remember.
    pub fn raw(bytes: Range<usize>) -> Span {
        Span {
            bytes,
            style: Style::Raw,
            line_indent: 0,
            in_flow: false,
            holder: Holder::None,
        }
    }
}

/// The token that introduces a leaf in block YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Holder {
    #[default]
    None,
    /// A map entry whose key starts at byte `at`, column `col`.
    Key { at: usize, col: usize },
    /// A list item whose `-` is at byte `at`, column `col`.
    Dash { at: usize, col: usize },
}

/// How a scalar was written in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` block; `indent` is the column of the content lines.
    Literal {
        indent: usize,
    },
    /// `>` block; `indent` is the column of the content lines.
    Folded {
        indent: usize,
    },
    /// A JSON string or bare token, a dotenv/INI value: the format has one way to write it.
    Raw,
}

/// A leaf of the tree: a value or a comment, with its place in the source if known.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf<T> {
    pub value: T,
    pub span: Option<Span>,
}

impl<T> Leaf<T> {
    pub fn new(value: T) -> Self {
        Leaf { value, span: None }
    }
}

/// A node of the tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Map(Vec<Item>),
    List(Vec<ListItem>),
    Scalar(Leaf<Value>),
    /// `null`, `~` or an empty YAML value: never encrypted, never in the MAC.
    Null(Option<Span>),
}

/// What a leaf holds: a clear scalar, or an `ENC[...]` string read from an encrypted file.
///
/// The parser of an encrypted file cannot know which strings are ciphertexts until the
/// selection rules are applied, so encrypted files parse to `Scalar(Str)` and the cipher
/// decides.
pub type Value = Scalar;

/// An entry of a map.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Entry {
        key: String,
        value: Node,
    },
    /// A comment line, text after the comment character (`# hi` gives ` hi`).
    Comment(Leaf<String>),
}

/// An element of a list.
#[derive(Clone, Debug, PartialEq)]
pub enum ListItem {
    Node(Node),
    Comment(Leaf<String>),
}

/// One document of a file: always a map at the top (sops rejects anything else).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Document {
    pub items: Vec<Item>,
}

impl Document {
    /// The value of a top-level key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.items.iter().find_map(|item| match item {
            Item::Entry { key: k, value } if k == key => Some(value),
            _ => None,
        })
    }
}

/// Whether two files mean the same (see [`same_meaning`]).
pub fn same_documents(a: &[Document], b: &[Document]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_items(&x.items, &y.items))
}

fn same_items(x: &[Item], y: &[Item]) -> bool {
    fn entries(items: &[Item]) -> impl Iterator<Item = (&String, &Node)> {
        items.iter().filter_map(|i| match i {
            Item::Entry { key, value } => Some((key, value)),
            Item::Comment(_) => None,
        })
    }
    entries(x).count() == entries(y).count()
        && entries(x)
            .zip(entries(y))
            .all(|((ka, va), (kb, vb))| ka == kb && same_meaning(va, vb))
}

/// Whether two trees mean the same: same keys in the same order, same list items, same
/// typed values. Comments and places in the text do not count.
pub fn same_meaning(a: &Node, b: &Node) -> bool {
    fn elements(items: &[ListItem]) -> impl Iterator<Item = &Node> {
        items.iter().filter_map(|i| match i {
            ListItem::Node(n) => Some(n),
            ListItem::Comment(_) => None,
        })
    }
    match (a, b) {
        (Node::Map(x), Node::Map(y)) => same_items(x, y),
        (Node::List(x), Node::List(y)) => {
            elements(x).count() == elements(y).count()
                && elements(x)
                    .zip(elements(y))
                    .all(|(p, q)| same_meaning(p, q))
        }
        (Node::Scalar(x), Node::Scalar(y)) => match (&x.value, &y.value) {
            (Scalar::Float(p), Scalar::Float(q)) => p.to_bits() == q.to_bits(),
            (p, q) => p == q,
        },
        (Node::Null(_), Node::Null(_)) => true,
        _ => false,
    }
}

/// Joins a key path the way sops builds the AAD: components joined by `:`, plus a
/// trailing `:` (spec §3.3). List indexes are not part of the path.
pub fn aad_for(path: &[String]) -> String {
    let mut aad = String::with_capacity(path.iter().map(|p| p.len() + 1).sum::<usize>() + 1);
    for part in path {
        aad.push_str(part);
        aad.push(':');
    }
    if path.is_empty() {
        aad.push(':');
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aad_joins_keys_with_trailing_colon() {
        assert_eq!(aad_for(&[]), ":");
        assert_eq!(aad_for(&["a".into()]), "a:");
        assert_eq!(aad_for(&["nested".into(), "a".into()]), "nested:a:");
        assert_eq!(aad_for(&["a:b".into()]), "a:b:");
    }

    #[test]
    fn meaning_ignores_comments_and_spans_but_not_values() {
        let leaf = |v: Scalar| Node::Scalar(Leaf::new(v));
        let a = Node::Map(vec![
            Item::Comment(Leaf::new(" c".into())),
            Item::Entry {
                key: "k".into(),
                value: leaf(Scalar::Int(1)),
            },
        ]);
        let b = Node::Map(vec![Item::Entry {
            key: "k".into(),
            value: leaf(Scalar::Int(1)),
        }]);
        let c = Node::Map(vec![Item::Entry {
            key: "k".into(),
            value: leaf(Scalar::Int(2)),
        }]);
        assert!(same_meaning(&a, &b));
        assert!(!same_meaning(&a, &c));
    }

    #[test]
    fn scalar_debug_never_shows_the_value() {
        let shown = format!("{:?}", Scalar::Str("hunter2".into()));
        assert!(!shown.contains("hunter2"), "{shown}");
        let shown = format!("{:?}", Scalar::Int(424242));
        assert!(!shown.contains("424242"), "{shown}");
    }
}
