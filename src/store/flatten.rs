//! sops's flattened metadata, for the formats that hold only flat `key=value` pairs
//! (dotenv and INI, spec §6.3).
//!
//! Nesting is spelled in the key: `<parent>__map_<key>` for a map member and
//! `<parent>__list_<index>` for a list element, so the first age recipient is
//! `age__list_0__map_recipient`. Values are strings with each line break written as the
//! two characters `\n`; numbers and booleans are written in decimal and `true`/`false`.
//! Null fields are left out.

use crate::error::{Error, Result};
use crate::tree::{Item, Leaf, ListItem, Node, Scalar};

const MAP: &str = "__map_";
const LIST: &str = "__list_";

/// The metadata map as flat `(key, value)` pairs, in the map's order (callers sort or
/// shuffle as their format wants).
pub fn flatten(metadata: &Node) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Node::Map(items) = metadata {
        for item in items {
            if let Item::Entry { key, value } = item {
                flatten_into(key.clone(), value, &mut out);
            }
        }
    }
    out
}

fn flatten_into(prefix: String, node: &Node, out: &mut Vec<(String, String)>) {
    match node {
        Node::Map(items) => {
            for item in items {
                if let Item::Entry { key, value } = item {
                    flatten_into(format!("{prefix}{MAP}{key}"), value, out);
                }
            }
        }
        Node::List(items) => {
            let nodes = items.iter().filter_map(|i| match i {
                ListItem::Node(n) => Some(n),
                ListItem::Comment(_) => None,
            });
            for (i, n) in nodes.enumerate() {
                flatten_into(format!("{prefix}{LIST}{i}"), n, out);
            }
        }
        Node::Scalar(leaf) => out.push((prefix, encode_value(&leaf.value))),
        Node::Null(_) => {}
    }
}

fn encode_value(value: &Scalar) -> String {
    let text = match value {
        Scalar::Str(s) => s.clone(),
        Scalar::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => crate::crypto::plaintext::format_float(*f),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(t) => crate::crypto::timestamp::format_time_nano(t),
    };
    text.replace('\n', "\\n")
}

/// Rebuilds the metadata map from flat pairs (keys without any format prefix such as
/// dotenv's `sops_`). Every value comes back as a string with `\n` turned into a line
/// break; `Metadata::from_node` reads numbers and booleans from strings.
pub fn unflatten<I, K, V>(pairs: I) -> Result<Node>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut root = Slot::Map(Vec::new());
    for (key, value) in pairs {
        let key = key.as_ref();
        let path = tokenize(key)?;
        let leaf = Slot::Leaf(value.as_ref().replace("\\n", "\n"));
        insert(&mut root, &path, leaf, key)?;
    }
    Ok(root.into_node())
}

/// One step of a flattened key.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Key(&'a str),
    Index(usize),
}

fn tokenize(key: &str) -> Result<Vec<Token<'_>>> {
    let mut tokens = Vec::new();
    let first_end = next_marker(key).unwrap_or(key.len());
    tokens.push(Token::Key(&key[..first_end]));
    let mut rest = &key[first_end..];
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(MAP) {
            let end = next_marker(after).unwrap_or(after.len());
            tokens.push(Token::Key(&after[..end]));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix(LIST) {
            let end = next_marker(after).unwrap_or(after.len());
            let index = after[..end].parse::<usize>().ok().filter(|&i| i < 1 << 16);
            let index = index.ok_or_else(|| bad_key(key, "a list index is not a small number"))?;
            tokens.push(Token::Index(index));
            rest = &after[end..];
        } else {
            return Err(bad_key(key, "unexpected text after a nesting marker"));
        }
    }
    Ok(tokens)
}

/// Where the next `__map_` or `__list_` marker starts.
fn next_marker(s: &str) -> Option<usize> {
    match (s.find(MAP), s.find(LIST)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn bad_key(key: &str, why: &str) -> Error {
    Error::Metadata(format!("flattened metadata key {key:?}: {why}"))
}

/// A metadata tree under construction: lists may be filled out of order.
enum Slot {
    Map(Vec<(String, Slot)>),
    List(Vec<Option<Slot>>),
    Leaf(String),
}

fn insert(slot: &mut Slot, path: &[Token<'_>], leaf: Slot, key: &str) -> Result<()> {
    let Some((first, rest)) = path.split_first() else {
        return Err(bad_key(key, "empty key"));
    };
    let child: &mut Option<Slot> = match (slot, first) {
        (Slot::Map(entries), Token::Key(k)) => {
            let at = match entries.iter().position(|(name, _)| name == k) {
                Some(at) => at,
                None => {
                    entries.push((k.to_string(), placeholder(rest)));
                    entries.len() - 1
                }
            };
            return descend(&mut entries[at].1, rest, leaf, key);
        }
        (Slot::List(items), Token::Index(i)) => {
            if items.len() <= *i {
                items.resize_with(i + 1, || None);
            }
            &mut items[*i]
        }
        _ => return Err(bad_key(key, "mixes a map and a list at the same place")),
    };
    let next = child.get_or_insert_with(|| placeholder(rest));
    descend(next, rest, leaf, key)
}

fn descend(slot: &mut Slot, rest: &[Token<'_>], leaf: Slot, key: &str) -> Result<()> {
    if rest.is_empty() {
        if !matches!(slot, Slot::Leaf(_)) {
            return Err(bad_key(key, "is both a value and a map or list"));
        }
        *slot = leaf;
        return Ok(());
    }
    if matches!(slot, Slot::Leaf(_)) {
        return Err(bad_key(key, "is both a value and a map or list"));
    }
    insert(slot, rest, leaf, key)
}

/// An empty slot of the kind the rest of the path needs.
fn placeholder(rest: &[Token<'_>]) -> Slot {
    match rest.first() {
        None => Slot::Leaf(String::new()),
        Some(Token::Key(_)) => Slot::Map(Vec::new()),
        Some(Token::Index(_)) => Slot::List(Vec::new()),
    }
}

impl Slot {
    fn into_node(self) -> Node {
        match self {
            Slot::Map(entries) => Node::Map(
                entries
                    .into_iter()
                    .map(|(key, v)| Item::Entry {
                        key,
                        value: v.into_node(),
                    })
                    .collect(),
            ),
            // A hole in a list (index 0 missing) reads as null, as in sops.
            Slot::List(items) => Node::List(
                items
                    .into_iter()
                    .map(|s| ListItem::Node(s.map_or(Node::Null(None), Slot::into_node)))
                    .collect(),
            ),
            Slot::Leaf(s) => Node::Scalar(Leaf::new(Scalar::Str(s))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::Metadata;

    fn entry(key: &str, value: Node) -> Item {
        Item::Entry {
            key: key.into(),
            value,
        }
    }
    fn s(text: &str) -> Node {
        Node::Scalar(Leaf::new(Scalar::Str(text.into())))
    }

    fn sample() -> Node {
        let age = |r: &str| {
            Node::Map(vec![
                entry("recipient", s(r)),
                entry("enc", s("-----BEGIN AGE-----\nYWdl\n-----END AGE-----\n")),
            ])
        };
        Node::Map(vec![
            entry(
                "key_groups",
                Node::List(vec![
                    ListItem::Node(Node::Map(vec![entry(
                        "age",
                        Node::List(vec![ListItem::Node(age("age1a"))]),
                    )])),
                    ListItem::Node(Node::Map(vec![entry(
                        "age",
                        Node::List(vec![ListItem::Node(age("age1b"))]),
                    )])),
                ]),
            ),
            entry("shamir_threshold", Node::Scalar(Leaf::new(Scalar::Int(2)))),
            entry("lastmodified", s("2026-11-23T23:23:41Z")),
            entry("mac", s("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]")),
            entry("version", s("3.11.0")),
        ])
    }

    #[test]
    fn keys_spell_the_nesting_and_values_escape_line_breaks() {
        let flat = flatten(&sample());
        let get = |k: &str| {
            flat.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("key_groups__list_1__map_age__list_0__map_recipient"),
            Some("age1b")
        );
        assert_eq!(
            get("key_groups__list_0__map_age__list_0__map_enc"),
            Some("-----BEGIN AGE-----\\nYWdl\\n-----END AGE-----\\n")
        );
        assert_eq!(get("shamir_threshold"), Some("2"));
    }

    #[test]
    fn unflatten_reads_back_the_same_metadata() {
        let node = sample();
        let back = unflatten(flatten(&node)).unwrap();
        let (a, b) = (
            Metadata::from_node(&node).unwrap(),
            Metadata::from_node(&back).unwrap(),
        );
        assert_eq!(a.to_node(), b.to_node());
    }

    #[test]
    fn list_elements_may_come_in_any_order() {
        let pairs = [
            ("age__list_1__map_recipient", "b"),
            ("age__list_0__map_recipient", "a"),
        ];
        let node = unflatten(pairs).unwrap();
        let flat = flatten(&node);
        assert_eq!(
            flat,
            vec![
                ("age__list_0__map_recipient".to_string(), "a".to_string()),
                ("age__list_1__map_recipient".to_string(), "b".to_string()),
            ]
        );
    }

    #[test]
    fn malformed_keys_are_errors_not_panics() {
        for key in [
            "age__list_x__map_recipient",
            "age__list_99999999999999999999",
            "age__list_0__map_r",
        ] {
            let pairs = [(key, "v"), ("age__list_0", "clash")];
            assert!(unflatten(pairs).is_err(), "{key}");
        }
    }
}
