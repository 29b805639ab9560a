//! Property tests over generated trees, for every format that can hold them:
//!
//! * `decrypt(encrypt(x)) == x` byte for byte, where `x` is the tree written in the
//!   format's own layout;
//! * rewriting a file with unchanged content (`open` + `reseal`) keeps every `ENC[...]`
//!   value byte for byte: only `mac` and `lastmodified` may change.

use proptest::prelude::*;
use sealant::keys::{parse_recipients, IdentitySources, MasterKey};
use sealant::pipeline::{self, DecryptOptions, EncryptOptions};
use sealant::store::{self, Format};
use sealant::tree::{Document, Item, Leaf, ListItem, Node, Scalar};
use zeroize::Zeroizing;

const KEY: &str = include_str!("../testdata/vectors/keys/age1.txt");
const RECIPIENT: &str = include_str!("../testdata/vectors/keys/age1.pub");

fn key_groups() -> Vec<Vec<Box<dyn MasterKey>>> {
    vec![parse_recipients(RECIPIENT.trim())
        .unwrap()
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn MasterKey>)
        .collect()]
}

fn encrypt(clear: &[u8], format: Format) -> Vec<u8> {
    encrypt_as(clear, format, format)
}

/// Encrypts `clear` read as `input` into `output` (a conversion when they differ).
fn encrypt_as(clear: &[u8], input: Format, output: Format) -> Vec<u8> {
    let groups = key_groups();
    let opts = EncryptOptions {
        key_groups: &groups,
        shamir_threshold: 0,
        selection: None,
        mac_only_encrypted: false,
        output,
        now: time::OffsetDateTime::now_utc(),
        fast_exit: false,
    };
    pipeline::encrypt(clear, input, "prop", &opts).expect("encrypts")
}

fn decrypt_options(keys: &sealant::keys::Identities, format: Format) -> DecryptOptions<'_> {
    DecryptOptions {
        keys,
        ignore_mac: false,
        output: format,
        extract: None,
        fast_exit: false,
    }
}

fn identities() -> sealant::keys::Identities {
    IdentitySources {
        age_key: Some(Zeroizing::new(KEY.to_string())),
        ..Default::default()
    }
    .load(sealant::keys::no_prompt())
}

/// Map keys: plain words, and a few that need quoting somewhere.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_]{0,8}",
        Just("with space".to_string()),
        Just("dotted.key".to_string()),
        Just("ünï".to_string()),
        Just("123".to_string()),
        Just("true".to_string()),
    ]
}

/// Strings that stress quoting and escaping.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        "\\PC{0,12}",
        Just(String::new()),
        Just("multi\nline\n".to_string()),
        Just("  leading and trailing  ".to_string()),
        Just("# not a comment".to_string()),
        Just("key: value".to_string()),
        Just("'quoted' \"both\"".to_string()),
        Just("0644".to_string()),
        Just("tab\there".to_string()),
        Just("emoji 🔐".to_string()),
    ]
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        4 => text().prop_map(Scalar::Str),
        1 => any::<i64>().prop_map(Scalar::Int),
        1 => any::<bool>().prop_map(Scalar::Bool),
        1 => (-1e9f64..1e9).prop_map(Scalar::Float),
    ]
}

fn leaf(s: Scalar) -> Node {
    Node::Scalar(Leaf::new(s))
}

/// A map whose keys are unique.
fn map_of(value: impl Strategy<Value = Node>, max: usize) -> impl Strategy<Value = Vec<Item>> {
    prop::collection::btree_map(key(), value, 0..max).prop_map(|m| {
        m.into_iter()
            .map(|(key, value)| Item::Entry { key, value })
            .collect()
    })
}

/// Nested trees: maps and lists of scalars, three levels deep.
fn nested() -> impl Strategy<Value = Node> {
    let base = scalar().prop_map(leaf);
    base.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            map_of(inner.clone(), 4).prop_map(Node::Map),
            prop::collection::vec(inner, 1..4)
                .prop_map(|v| Node::List(v.into_iter().map(ListItem::Node).collect())),
        ]
    })
}

/// dotenv holds a flat map of strings (sops's rules: the key is everything before the
/// first `=`, the value everything after; `\n` in a value is a line break), and
/// comments.
fn dotenv_items() -> impl Strategy<Value = Vec<Item>> {
    let value = prop_oneof![
        "[a-zA-Z0-9 _./:@=#\"'-]{0,16}",
        "\\PC{0,10}",
        Just("line one\nline two".to_string()),
        Just(String::new()),
    ];
    let entry = ("[A-Z][A-Z0-9_]{0,10}", value);
    let comment = "[a-zA-Z0-9 #=]{0,16}";
    prop::collection::vec(prop_oneof![3 => entry.prop_map(|(k, v)| (Some(k), v)), 1 => comment.prop_map(|c| (None, c))], 0..12)
        .prop_map(|rows| {
            let mut seen = std::collections::HashSet::new();
            rows.into_iter()
                .filter_map(|(key, value)| match key {
                    Some(k) if seen.insert(k.clone()) => Some(Item::Entry {
                        key: k,
                        value: leaf(Scalar::Str(value)),
                    }),
                    Some(_) => None,
                    None => Some(Item::Comment(Leaf::new(value))),
                })
                .collect()
        })
}

/// INI values are strings; go-ini trims them and reads `;`/`#` as comments, so the
/// generated ones are what an INI file can hold exactly.
fn ini_value() -> impl Strategy<Value = Node> {
    prop_oneof![
        "[a-zA-Z0-9_./:@=-]([a-zA-Z0-9 _./:@=-]{0,14}[a-zA-Z0-9_./:@=-])?",
        Just(String::new()),
        Just("ünïcödé ✓".to_string()),
    ]
    .prop_map(|s| leaf(Scalar::Str(s)))
}

fn document(items: Vec<Item>) -> Vec<Document> {
    vec![Document { items }]
}

/// The tree written in `format`'s own layout (as a conversion would write it).
fn written(format: Format, docs: &[Document]) -> Option<Vec<u8>> {
    store::emit(format, docs, None).ok()
}

fn check_round_trip(format: Format, clear: &[u8]) -> Result<(), TestCaseError> {
    let keys = identities();
    let enc = encrypt(clear, format);
    let back =
        pipeline::decrypt(&enc, format, "prop", &decrypt_options(&keys, format)).expect("decrypts");
    prop_assert_eq!(
        String::from_utf8_lossy(&back.text),
        String::from_utf8_lossy(clear)
    );
    prop_assert_eq!(&back.text, clear);

    // A rewrite with the same content changes only `mac` and `lastmodified`.
    let opened =
        pipeline::open(&enc, format, "prop", &decrypt_options(&keys, format)).expect("opens");
    let again =
        pipeline::reseal(&opened, clear, "prop", time::OffsetDateTime::now_utc()).expect("reseals");
    let (a, b) = (
        String::from_utf8_lossy(&enc),
        String::from_utf8_lossy(&again),
    );
    let changed: Vec<_> = a
        .lines()
        .zip(b.lines())
        .filter(|(x, y)| x != y)
        .map(|(_, y)| y.to_string())
        .collect();
    prop_assert_eq!(a.lines().count(), b.lines().count());
    for line in &changed {
        // YAML/JSON/INI/TOML `mac`, dotenv `sops_mac`.
        let l = line.trim_start().trim_start_matches('"');
        let l = l.strip_prefix("sops_").unwrap_or(l);
        prop_assert!(
            l.starts_with("mac") || l.starts_with("lastmodified"),
            "unexpected change: {}",
            line
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn yaml_round_trips(items in map_of(nested(), 6)) {
        if let Some(clear) = written(Format::Yaml, &document(items)) {
            check_round_trip(Format::Yaml, &clear)?;
        }
    }

    #[test]
    fn json_round_trips(items in map_of(nested(), 6)) {
        if let Some(clear) = written(Format::Json, &document(items)) {
            check_round_trip(Format::Json, &clear)?;
        }
    }

    #[test]
    fn dotenv_round_trips(items in dotenv_items()) {
        if let Some(clear) = written(Format::Dotenv, &document(items)) {
            check_round_trip(Format::Dotenv, &clear)?;
        }
    }

    /// Dotenv is walked item by item, with no tree: the MAC must be the tree walk's, and
    /// a file in sops's layout must decrypt to what writing its tree gives.
    #[test]
    fn dotenv_item_walk_agrees_with_the_tree(items in dotenv_items(), blank_lines in any::<bool>()) {
        let docs = document(items);
        if let Some(mut clear) = written(Format::Dotenv, &docs) {
            if blank_lines {
                clear.splice(0..0, b"\n\n".iter().copied());
                clear.extend_from_slice(b"\n");
            }
            let keys = identities();
            let enc = encrypt(&clear, Format::Dotenv);
            pipeline::decrypt_tree(&enc, Format::Dotenv, "prop", &keys)
                .expect("the tree walk checks the item walk's MAC");
        }
        if let Some(yaml) = written(Format::Yaml, &docs) {
            // Converted: written afresh in sops's layout, without the sealant mark.
            let enc = encrypt_as(&yaml, Format::Yaml, Format::Dotenv);
            let keys = identities();
            let tree = pipeline::decrypt_tree(&enc, Format::Dotenv, "prop", &keys).expect("decrypts");
            let whole = store::emit(Format::Dotenv, &tree.docs, None);
            let items = pipeline::decrypt(&enc, Format::Dotenv, "prop", &decrypt_options(&keys, Format::Dotenv));
            match (whole, items) {
                (Ok(whole), Ok(items)) => prop_assert_eq!(whole, items.text),
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(false, "tree: {:?}, items: {:?}", a.map(|_| ()), b.map(|_| ())),
            }
        }
    }

    #[test]
    fn ini_round_trips(sections in map_of(map_of(ini_value(), 5).prop_map(Node::Map), 4)) {
        if let Some(clear) = written(Format::Ini, &document(sections)) {
            check_round_trip(Format::Ini, &clear)?;
        }
    }

    #[test]
    fn binary_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let keys = identities();
        let enc = encrypt(&bytes, Format::Binary);
        let back = pipeline::decrypt(&enc, Format::Binary, "prop", &decrypt_options(&keys, Format::Binary))
            .expect("decrypts");
        prop_assert_eq!(back.text, bytes);
    }
}
