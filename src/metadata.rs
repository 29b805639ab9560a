//! The `sops` metadata block: typed, and written back in sops's field order.
//!
//! Stores hand the block over as a plain [`Node`] (they know where it sits, not what it
//! means); this module reads it into [`Metadata`] and writes it back as a `Node` the
//! store emits. Master keys sealant cannot use (pgp, kms, ...) are kept verbatim, and so
//! are fields it does not know, so a rewrite never drops someone else's way in.

use crate::error::{Error, Result};
use crate::tree::{Item, Leaf, ListItem, Node, Scalar};

/// The sops version sealant writes into files (spec §6.1: any x.y.z sops accepts).
pub const SOPS_VERSION: &str = "3.11.0";

/// The field that marks a file written by sealant. Files without it were written by
/// sops, and decrypt to exactly what `sops decrypt` prints; files with it were spliced
/// into the user's own text, and decrypt back to it. sops ignores unknown fields.
pub const SEALANT_FIELD: &str = "sealant_version";

/// Key kinds in the order sops writes them inside one group (spec §6.1).
const GROUP_KINDS_TOP: [&str; 6] = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age"];

/// Which leaves are encrypted (spec §5). At most one per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(String),
    EncryptedRegex(String),
    UnencryptedCommentRegex(String),
    EncryptedCommentRegex(String),
}

impl Selection {
    pub const FIELDS: [&'static str; 6] = [
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
    ];

    pub fn field(&self) -> &'static str {
        match self {
            Selection::UnencryptedSuffix(_) => Self::FIELDS[0],
            Selection::EncryptedSuffix(_) => Self::FIELDS[1],
            Selection::UnencryptedRegex(_) => Self::FIELDS[2],
            Selection::EncryptedRegex(_) => Self::FIELDS[3],
            Selection::UnencryptedCommentRegex(_) => Self::FIELDS[4],
            Selection::EncryptedCommentRegex(_) => Self::FIELDS[5],
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Selection::UnencryptedSuffix(v)
            | Selection::EncryptedSuffix(v)
            | Selection::UnencryptedRegex(v)
            | Selection::EncryptedRegex(v)
            | Selection::UnencryptedCommentRegex(v)
            | Selection::EncryptedCommentRegex(v) => v,
        }
    }

    pub fn from_field(field: &str, value: String) -> Option<Selection> {
        Some(match field {
            "unencrypted_suffix" => Selection::UnencryptedSuffix(value),
            "encrypted_suffix" => Selection::EncryptedSuffix(value),
            "unencrypted_regex" => Selection::UnencryptedRegex(value),
            "encrypted_regex" => Selection::EncryptedRegex(value),
            "unencrypted_comment_regex" => Selection::UnencryptedCommentRegex(value),
            "encrypted_comment_regex" => Selection::EncryptedCommentRegex(value),
            _ => return None,
        })
    }
}

/// An age master key: the recipient and the data key (or share) wrapped for it.
#[derive(Clone, PartialEq, Eq)]
pub struct AgeKey {
    pub recipient: String,
    /// An armored age file.
    pub enc: String,
}

impl std::fmt::Debug for AgeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgeKey")
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

/// The string sops identifies a key of another kind by (its `ToString`): what
/// `--rm-pgp` and friends match and what `updatekeys` shows. KMS keys: the ARN, with
/// `+ROLE` when a role is set (the encryption context and profile are not compared).
pub fn other_key_id(kind: &str, entry: &Node) -> String {
    let field = |f: &str| map_str(entry, f).unwrap_or_default();
    match kind {
        "pgp" => field("fp"),
        "kms" => match map_str(entry, "role").filter(|r| !r.is_empty()) {
            Some(role) => format!("{}+{role}", field("arn")),
            None => field("arn"),
        },
        "gcp_kms" => field("resource_id"),
        "azure_kv" => format!(
            "{}/keys/{}/{}",
            field("vault_url"),
            field("name"),
            field("version")
        ),
        "hc_vault" => format!(
            "{}/v1/{}/keys/{}",
            field("vault_address"),
            field("engine_path"),
            field("key_name")
        ),
        "hckms" => field("key_id"),
        _ => String::new(),
    }
}

/// One key group: any one key in it recovers the group's secret (the data key, or with
/// several groups, the group's Shamir share).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyGroup {
    pub age: Vec<AgeKey>,
    /// Keys of other kinds, kept verbatim: (kind, entry).
    pub other: Vec<(String, Node)>,
}

impl KeyGroup {
    /// Names of the other kinds' keys, for messages (`pgp FINGERPRINT`, `kms ARN`...).
    pub fn other_descriptions(&self) -> Vec<String> {
        self.other
            .iter()
            .map(|(kind, entry)| {
                let id = [
                    "fp",
                    "arn",
                    "resource_id",
                    "key_id",
                    "vault_url",
                    "key_name",
                ]
                .iter()
                .find_map(|f| map_str(entry, f))
                .unwrap_or_default();
                format!("{kind} {id}").trim_end().to_string()
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: usize,
    /// Raw `lastmodified` text.
    pub lastmodified: String,
    /// The encrypted MAC (`ENC[...]`), possibly empty in broken files.
    pub mac: String,
    pub selection: Option<Selection>,
    pub mac_only_encrypted: bool,
    pub version: String,
    /// Fields sealant does not know, kept in order.
    pub unknown: Vec<(String, Node)>,
}

fn map_items(node: &Node) -> &[Item] {
    match node {
        Node::Map(items) => items,
        _ => &[],
    }
}

fn map_get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    map_items(node).iter().find_map(|i| match i {
        Item::Entry { key: k, value } if k == key => Some(value),
        _ => None,
    })
}

fn map_str(node: &Node, key: &str) -> Option<String> {
    match map_get(node, key)? {
        Node::Scalar(leaf) => scalar_text(&leaf.value),
        _ => None,
    }
}

fn scalar_text(s: &Scalar) -> Option<String> {
    Some(match s {
        Scalar::Str(s) => s.clone(),
        Scalar::Bytes(_) => return None,
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(t) => crate::crypto::timestamp::format_time_nano(t),
    })
}

fn list_nodes(node: &Node) -> Vec<&Node> {
    match node {
        Node::List(items) => items
            .iter()
            .filter_map(|i| match i {
                ListItem::Node(n) => Some(n),
                ListItem::Comment(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn read_group(node: &Node, kinds: &[&str]) -> Result<KeyGroup> {
    let mut group = KeyGroup::default();
    for item in map_items(node) {
        let Item::Entry { key, value } = item else {
            continue;
        };
        if !kinds.contains(&key.as_str()) {
            continue;
        }
        for entry in list_nodes(value) {
            if key == "age" {
                let recipient = map_str(entry, "recipient")
                    .ok_or_else(|| Error::Metadata("an age key has no recipient".into()))?;
                let enc = map_str(entry, "enc").ok_or_else(|| {
                    Error::Metadata(format!("the age key for {recipient} has no enc"))
                })?;
                group.age.push(AgeKey { recipient, enc });
            } else {
                group.other.push((key.clone(), entry.clone()));
            }
        }
    }
    Ok(group)
}

fn is_empty_group(g: &KeyGroup) -> bool {
    g.age.is_empty() && g.other.is_empty()
}

impl Metadata {
    /// Reads the metadata a store found. Follows sops: top-level key lists win over
    /// `key_groups`; `lastmodified` and `version` must be present.
    pub fn from_node(node: &Node) -> Result<Metadata> {
        let metadata = Metadata::from_node_any_version(node)?;
        if metadata.version.is_empty() {
            return Err(Error::Metadata("version string empty".into()));
        }
        Ok(metadata)
    }

    /// [`from_node`](Self::from_node) without the `version` check: sops loads such a
    /// file and refuses it only when decrypting (`filestatus` calls it not encrypted).
    pub fn from_node_any_version(node: &Node) -> Result<Metadata> {
        if !matches!(node, Node::Map(_)) {
            return Err(Error::Metadata("the sops block is not a map".into()));
        }
        let mut kinds_top: Vec<&str> = GROUP_KINDS_TOP.to_vec();
        kinds_top.push("pgp");
        let top = read_group(node, &kinds_top)?;
        let key_groups = if !is_empty_group(&top) {
            vec![top]
        } else if let Some(groups) = map_get(node, "key_groups") {
            list_nodes(groups)
                .into_iter()
                .map(|g| read_group(g, &kinds_top))
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        if key_groups.iter().all(is_empty_group) {
            return Err(Error::Metadata("no keys found in the file".into()));
        }

        let shamir_threshold = match map_get(node, "shamir_threshold") {
            Some(Node::Scalar(Leaf { value, .. })) => match value {
                Scalar::Int(i) if *i >= 0 => *i as usize,
                Scalar::Float(f) if *f >= 0.0 && f.fract() == 0.0 => *f as usize,
                Scalar::Str(s) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as usize)
                    .ok_or_else(|| Error::Metadata("shamir_threshold is not a number".into()))?,
                _ => return Err(Error::Metadata("shamir_threshold is not a number".into())),
            },
            _ => 0,
        };
        let lastmodified = map_str(node, "lastmodified")
            .ok_or_else(|| Error::Metadata("lastmodified is missing".into()))?;
        let mac = map_str(node, "mac").unwrap_or_default();
        let version = map_str(node, "version").unwrap_or_default();
        let mut selection = None;
        for field in Selection::FIELDS {
            if let Some(value) = map_str(node, field) {
                if selection.is_some() {
                    return Err(Error::Metadata(
                        "more than one of the encrypted/unencrypted suffix/regex options".into(),
                    ));
                }
                selection = Selection::from_field(field, value);
            }
        }
        let mac_only_encrypted = match map_get(node, "mac_only_encrypted") {
            Some(Node::Scalar(Leaf {
                value: Scalar::Bool(b),
                ..
            })) => *b,
            Some(Node::Scalar(Leaf {
                value: Scalar::Str(s),
                ..
            })) => s == "true",
            _ => false,
        };
        let known = |k: &str| {
            kinds_top.contains(&k)
                || Selection::FIELDS.contains(&k)
                || matches!(
                    k,
                    "key_groups"
                        | "shamir_threshold"
                        | "lastmodified"
                        | "mac"
                        | "mac_only_encrypted"
                        | "version"
                )
        };
        let unknown = map_items(node)
            .iter()
            .filter_map(|i| match i {
                Item::Entry { key, value } if !known(key) => Some((key.clone(), value.clone())),
                _ => None,
            })
            .collect();
        Ok(Metadata {
            key_groups,
            shamir_threshold,
            lastmodified,
            mac,
            selection,
            mac_only_encrypted,
            version,
            unknown,
        })
    }

    /// Writes the metadata in sops's field order (spec §6.1).
    pub fn to_node(&self) -> Node {
        let mut items = Vec::new();
        let entry = |key: &str, value: Node| Item::Entry {
            key: key.to_string(),
            value,
        };
        let str_node = |s: &str| Node::Scalar(Leaf::new(Scalar::Str(s.to_string())));
        if self.shamir_threshold != 0 {
            items.push(entry(
                "shamir_threshold",
                Node::Scalar(Leaf::new(Scalar::Int(self.shamir_threshold as i64))),
            ));
        }
        let group_lists = |g: &KeyGroup, kinds: &[&str], always: &[&str]| -> Vec<Item> {
            let mut out = Vec::new();
            for kind in kinds {
                let entries: Vec<ListItem> = if *kind == "age" {
                    g.age
                        .iter()
                        .map(|k| {
                            ListItem::Node(Node::Map(vec![
                                entry("recipient", str_node(&k.recipient)),
                                entry("enc", str_node(&k.enc)),
                            ]))
                        })
                        .collect()
                } else {
                    g.other
                        .iter()
                        .filter(|(k, _)| k == kind)
                        .map(|(_, n)| ListItem::Node(n.clone()))
                        .collect()
                };
                if !entries.is_empty() || always.contains(kind) {
                    out.push(entry(kind, Node::List(entries)));
                }
            }
            out
        };
        let single = self.key_groups.len() <= 1;
        if single {
            if let Some(g) = self.key_groups.first() {
                items.extend(group_lists(g, &GROUP_KINDS_TOP, &[]));
            }
        } else {
            let groups = self
                .key_groups
                .iter()
                .map(|g| {
                    let kinds = [
                        "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age",
                    ];
                    ListItem::Node(Node::Map(group_lists(g, &kinds, &["hc_vault", "age"])))
                })
                .collect();
            items.insert(0, entry("key_groups", Node::List(groups)));
            if self.shamir_threshold != 0 {
                items.swap(0, 1);
            }
        }
        items.push(entry("lastmodified", str_node(&self.lastmodified)));
        items.push(entry("mac", str_node(&self.mac)));
        if single {
            if let Some(g) = self.key_groups.first() {
                items.extend(group_lists(g, &["pgp"], &[]));
            }
        }
        if let Some(sel) = &self.selection {
            items.push(entry(sel.field(), str_node(sel.value())));
        }
        if self.mac_only_encrypted {
            items.push(entry(
                "mac_only_encrypted",
                Node::Scalar(Leaf::new(Scalar::Bool(true))),
            ));
        }
        items.push(entry("version", str_node(&self.version)));
        items.extend(self.unknown.iter().map(|(k, v)| entry(k, v.clone())));
        Node::Map(items)
    }

    /// Whether sealant wrote this file in the user's layout (see [`SEALANT_FIELD`]).
    pub fn written_by_sealant(&self) -> bool {
        self.unknown.iter().any(|(k, _)| k == SEALANT_FIELD)
    }

    /// A string field sealant does not interpret itself (its own extensions).
    pub fn unknown_str(&self, field: &str) -> Option<&str> {
        self.unknown.iter().find_map(|(k, v)| match v {
            Node::Scalar(Leaf {
                value: Scalar::Str(s),
                ..
            }) if k == field => Some(s.as_str()),
            _ => None,
        })
    }

    /// Sets a string field of sealant's own, replacing an earlier value.
    pub fn set_unknown(&mut self, field: &str, value: String) {
        let value = Node::Scalar(Leaf::new(Scalar::Str(value)));
        match self.unknown.iter_mut().find(|(k, _)| k == field) {
            Some((_, v)) => *v = value,
            None => self.unknown.push((field.to_string(), value)),
        }
    }

    /// Removes a field of sealant's own.
    pub fn remove_unknown(&mut self, field: &str) {
        self.unknown.retain(|(k, _)| k != field);
    }

    /// Marks the file as written by this sealant.
    pub fn mark_sealant(&mut self) {
        self.set_unknown(SEALANT_FIELD, env!("CARGO_PKG_VERSION").into());
    }

    /// Removes the mark: the file is written in sops's layout and reads as sops's.
    pub fn unmark_sealant(&mut self) {
        self.remove_unknown(SEALANT_FIELD);
    }

    /// Every recipient and other key, for messages; a key sealant cannot use says so.
    pub fn describe_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, g) in self.key_groups.iter().enumerate() {
            let prefix = if self.key_groups.len() > 1 {
                format!("group {i}: ")
            } else {
                String::new()
            };
            let why = |kind: &str, recipient: &str| {
                crate::keys::unusable(kind, recipient)
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            };
            for k in &g.age {
                let why = why("age", &k.recipient);
                out.push(format!("{prefix}age {}{why}", k.recipient));
            }
            for ((kind, _), d) in g.other.iter().zip(g.other_descriptions()) {
                out.push(format!("{prefix}{d}{}", why(kind, "")));
            }
        }
        out
    }

    /// True when the file has keys and sealant can use none of them (only PGP, cloud
    /// KMS or post-quantum age keys).
    pub fn only_unusable_keys(&self) -> bool {
        let mut keys = self.key_groups.iter().flat_map(|g| {
            g.age
                .iter()
                .map(|k| ("age", k.recipient.as_str()))
                .chain(g.other.iter().map(|(kind, _)| (kind.as_str(), "")))
        });
        let mut any = false;
        let all_unusable = keys.all(|(kind, r)| {
            any = true;
            crate::keys::unusable(kind, r).is_some()
        });
        any && all_unusable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Scalar(Leaf::new(Scalar::Str(v.into())))
    }
    fn e(k: &str, v: Node) -> Item {
        Item::Entry {
            key: k.into(),
            value: v,
        }
    }

    fn sample() -> Node {
        Node::Map(vec![
            e(
                "age",
                Node::List(vec![ListItem::Node(Node::Map(vec![
                    e("recipient", s("age1abc")),
                    e("enc", s("-----BEGIN AGE ENCRYPTED FILE-----\nx\n")),
                ]))]),
            ),
            e("lastmodified", s("2026-11-23T23:49:28Z")),
            e("mac", s("ENC[...]")),
            e(
                "pgp",
                Node::List(vec![ListItem::Node(Node::Map(vec![
                    e("created_at", s("2026-11-23T23:49:28Z")),
                    e("enc", s("pgp-data")),
                    e("fp", s("ABCDEF")),
                ]))]),
            ),
            e("unencrypted_suffix", s("_unencrypted")),
            e("version", s("3.11.0")),
            e("sealant_extra", s("kept")),
        ])
    }

    #[test]
    fn round_trips_in_sops_order_and_keeps_unknown_keys() {
        let node = sample();
        let meta = Metadata::from_node(&node).unwrap();
        assert_eq!(meta.key_groups.len(), 1);
        assert_eq!(meta.key_groups[0].age[0].recipient, "age1abc");
        assert_eq!(meta.key_groups[0].other_descriptions(), ["pgp ABCDEF"]);
        assert_eq!(
            meta.selection,
            Some(Selection::UnencryptedSuffix("_unencrypted".into()))
        );
        assert_eq!(meta.to_node(), node);
    }

    #[test]
    fn refuses_files_sops_refuses() {
        let Node::Map(items) = sample() else { panic!() };
        let without = |key: &str| {
            Node::Map(
                items
                    .iter()
                    .filter(|i| !matches!(i, Item::Entry { key: k, .. } if k == key))
                    .cloned()
                    .collect(),
            )
        };
        assert!(Metadata::from_node(&without("version")).is_err());
        assert!(Metadata::from_node(&without("lastmodified")).is_err());
        let mut two = items.clone();
        two.push(e("encrypted_regex", s("^a$")));
        assert!(Metadata::from_node(&Node::Map(two)).is_err());
    }

    #[test]
    fn debug_does_not_print_wrapped_keys() {
        let meta = Metadata::from_node(&sample()).unwrap();
        assert!(!format!("{meta:?}").contains("BEGIN AGE"));
    }
}
