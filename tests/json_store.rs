//! JSON store: the sops vectors, error cases, and property tests (emit → parse round
//! trip, metadata insert/cut as exact inverses, no panic on any input).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use sealant::error::Error;
use sealant::store::json::{self, Indent};
use sealant::store::{apply_edits, Edit, Parsed};
use sealant::tree::{Document, Item, Leaf, ListItem, Node, Scalar};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The sops vectors: the repository copy if there is one, else the shared one.
fn vectors() -> Option<PathBuf> {
    let candidates = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/vectors"),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors")),
    ];
    let found = candidates.into_iter().find(|p| p.join("expected").is_dir());
    if found.is_none() {
        eprintln!("SKIPPED: sops vectors not found (testdata/vectors)");
    }
    found
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn cut(text: &str, parsed: &Parsed) -> String {
    let mut edits: Vec<Edit> = parsed
        .metadata
        .as_ref()
        .map(|m| m.ranges.iter().map(|r| Edit::new(r.clone(), "")).collect())
        .unwrap_or_default();
    apply_edits(text, &mut edits).unwrap()
}

/// Every scalar and null token of `node`, in walk order, with its span.
fn tokens<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    match node {
        Node::Map(items) => {
            for item in items {
                if let Item::Entry { value, .. } = item {
                    tokens(value, out);
                }
            }
        }
        Node::List(elems) => {
            for elem in elems {
                if let ListItem::Node(value) = elem {
                    tokens(value, out);
                }
            }
        }
        Node::Scalar(_) | Node::Null(_) => out.push(node),
    }
}

fn doc_tokens(doc: &Document) -> Vec<&Node> {
    let mut out = Vec::new();
    for item in &doc.items {
        if let Item::Entry { value, .. } = item {
            tokens(value, &mut out);
        }
    }
    out
}

fn span_of(node: &Node) -> std::ops::Range<usize> {
    match node {
        Node::Scalar(leaf) => leaf
            .span
            .as_ref()
            .expect("parsed leaf has a span")
            .bytes
            .clone(),
        Node::Null(span) => span.as_ref().expect("parsed null has a span").bytes.clone(),
        _ => unreachable!(),
    }
}

/// Checks that every leaf's span slices exactly its token: the token alone parses back
/// to the same value, spans are in order and disjoint, and `line_indent` is right.
fn check_spans(text: &str, doc: &Document) {
    let mut last_end = 0;
    for node in doc_tokens(doc) {
        let range = span_of(node);
        assert!(range.start >= last_end, "spans out of order");
        last_end = range.end;
        let token = &text[range.clone()];
        let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let indent = text[line_start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .count();
        match node {
            Node::Scalar(leaf) => {
                assert_eq!(leaf.span.as_ref().unwrap().line_indent, indent);
                let alone = json::parse(&format!("{{\"x\": {token}}}"), "token").unwrap();
                match alone.docs[0].get("x") {
                    Some(Node::Scalar(again)) => {
                        assert!(same_scalar(&again.value, &leaf.value), "token {token}")
                    }
                    other => panic!("token {token} parsed as {other:?}"),
                }
                if let Scalar::Str(_) = leaf.value {
                    assert!(token.starts_with('"') && token.ends_with('"'));
                }
            }
            Node::Null(_) => assert_eq!(token, "null"),
            _ => unreachable!(),
        }
    }
}

fn same_scalar(a: &Scalar, b: &Scalar) -> bool {
    match (a, b) {
        (Scalar::Float(x), Scalar::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// The tree as JSON can hold it: no spans, no comments, times as strings, and whole
/// floats that JSON writes as integer literals read back as the integer written (Go
/// writes the shortest round-trip digits, so 2^62+512 is written 4611686018427388000).
fn normalize(node: &Node) -> Node {
    match node {
        Node::Map(items) => Node::Map(
            items
                .iter()
                .filter_map(|item| match item {
                    Item::Entry { key, value } => Some(Item::Entry {
                        key: key.clone(),
                        value: normalize(value),
                    }),
                    Item::Comment(_) => None,
                })
                .collect(),
        ),
        Node::List(elems) => Node::List(
            elems
                .iter()
                .filter_map(|elem| match elem {
                    ListItem::Node(value) => Some(ListItem::Node(normalize(value))),
                    ListItem::Comment(_) => None,
                })
                .collect(),
        ),
        Node::Scalar(leaf) => {
            let written = match &leaf.value {
                Scalar::Float(f) if !(*f == 0.0 && f.is_sign_negative()) => {
                    json::format_float(*f).and_then(|s| s.parse::<i64>().ok())
                }
                _ => None,
            };
            let value = match &leaf.value {
                Scalar::Float(_) if written.is_some() => Scalar::Int(written.unwrap()),
                Scalar::Time(_) => {
                    let quoted = json::render_value(&leaf.value).unwrap();
                    Scalar::Str(quoted[1..quoted.len() - 1].to_owned())
                }
                other => other.clone(),
            };
            Node::Scalar(Leaf::new(value))
        }
        Node::Null(_) => Node::Null(None),
    }
}

fn normalize_doc(doc: &Document) -> Node {
    normalize(&Node::Map(doc.items.clone()))
}

// ---------------------------------------------------------------------------------------
// The sops vectors
// ---------------------------------------------------------------------------------------

/// Every JSON vector parses, and its spans slice exactly its tokens.
#[test]
fn vectors_parse_with_exact_spans() {
    let Some(v) = vectors() else { return };
    let mut files = json_files(&v.join("enc"));
    files.extend(json_files(&v.join("expected")));
    files.extend(json_files(&v.join("handmade")));
    files.extend(json_files(&v.join("handmade/expected")));
    files.extend(json_files(&v.join("plain")));
    // An --extract output is a bare value, not a file.
    files.retain(|p| !p.ends_with("expected/yaml_types.extract_integer.json"));
    assert!(files.len() >= 15, "{files:?}");
    for path in files {
        let text = read(&path);
        let parsed =
            json::parse(&text, &path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        check_spans(&text, &parsed.docs[0]);
        if let Some(meta) = &parsed.metadata {
            assert!(matches!(meta.tree, Node::Map(_)));
        }
    }
}

/// Fresh emission reproduces sops's output byte for byte: every `expected/*.json` (what
/// `sops decrypt` prints, including YAML→JSON conversions) and every encrypted file
/// (with its metadata as the last member).
#[test]
fn vectors_reemit_byte_identical() {
    let Some(v) = vectors() else { return };
    for path in json_files(&v.join("expected"))
        .into_iter()
        .chain(json_files(&v.join("enc")))
        .chain(json_files(&v.join("handmade")))
    {
        let text = read(&path);
        if !text.ends_with('\n') {
            continue; // an --extract output: checked below
        }
        let parsed = json::parse(&text, "f").unwrap();
        let indent = if text.starts_with("{\n  ") {
            Indent::Spaces(2)
        } else {
            Indent::Tab
        };
        let meta = parsed.metadata.as_ref().map(|m| &m.tree);
        let again = json::emit(&parsed.docs[0], meta, indent).unwrap();
        // int64 extremes written from YAML: sops 3.11 (and sealant) read them back as
        // float64, so they re-emit rounded.
        let text = text.replace("9223372036854775807", "9223372036854776000");
        assert_eq!(again, text, "{}", path.display());
    }
    let extract = read(&v.join("expected/yaml_types.extract_integer.json"));
    assert_eq!(
        json::emit_node(&Node::Scalar(Leaf::new(Scalar::Int(42))), Indent::Tab).unwrap(),
        extract
    );
}

/// Cutting the metadata out of each sops-encrypted JSON file and putting the clear
/// tokens in place of the ciphertexts gives exactly what `sops decrypt` prints; and
/// inserting the metadata back into the cut text gives the encrypted file back.
#[test]
fn vectors_cut_matches_sops_decrypt_and_insert_is_inverse() {
    let Some(v) = vectors() else { return };
    let mut checked = 0;
    for enc_path in json_files(&v.join("enc")) {
        let name = enc_path.file_name().unwrap();
        let enc = read(&enc_path);
        let parsed = json::parse(&enc, "enc").unwrap();
        let meta = parsed
            .metadata
            .as_ref()
            .expect("encrypted file has metadata");
        assert_eq!(meta.ranges.len(), 1);
        let without = cut(&enc, &parsed);

        // Insertion is the inverse of the cut.
        assert_eq!(
            json::insert_metadata(&without, &meta.tree).unwrap(),
            enc,
            "{name:?}"
        );

        let expected_path = v.join("expected").join(name);
        if !expected_path.exists() {
            continue;
        }
        let expected = read(&expected_path);
        let clear = json::parse(&expected, "expected").unwrap();
        // The cut text has the same leaves as the encrypted file, at shifted offsets.
        let cut_parsed = json::parse(&without, "cut").unwrap();
        assert!(cut_parsed.metadata.is_none());
        let enc_leaves = doc_tokens(&cut_parsed.docs[0]);
        let clear_leaves = doc_tokens(&clear.docs[0]);
        assert_eq!(enc_leaves.len(), clear_leaves.len(), "{name:?}");
        let mut edits: Vec<Edit> = enc_leaves
            .iter()
            .zip(&clear_leaves)
            .map(|(e, c)| Edit::new(span_of(e), &expected[span_of(c)]))
            .collect();
        let decrypted = apply_edits(&without, &mut edits).unwrap();
        if enc.starts_with("{\n  ") {
            // sealant keeps the 2-space layout where sops re-indents with tabs.
            let respaced = json::emit(&clear.docs[0], None, Indent::Spaces(2)).unwrap();
            assert_eq!(decrypted, respaced, "{name:?}");
        } else {
            assert_eq!(decrypted, expected, "{name:?}");
        }
        // The clear tokens are what render_value writes for each value.
        for c in clear_leaves {
            // Integers past 2^53 are read as float64 (as sops 3.11 does): they render
            // rounded, so only their parse is checked (above).
            let token = &expected[span_of(c)];
            if token.len() > 16 && token.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                continue;
            }
            if let Node::Scalar(leaf) = c {
                assert_eq!(
                    json::render_value(&leaf.value).unwrap(),
                    &expected[span_of(c)]
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 4, "checked {checked}");
}

/// `sops encrypt` of `plain/json_types.json`: the typing of every value.
#[test]
fn vectors_json_types_typing() {
    let Some(v) = vectors() else { return };
    let text = read(&v.join("plain/json_types.json"));
    let doc = &json::parse(&text, "p").unwrap().docs[0];
    let scalar = |k: &str| match doc.get(k) {
        Some(Node::Scalar(l)) => l.value.clone(),
        other => panic!("{k}: {other:?}"),
    };
    assert_eq!(scalar("integer"), Scalar::Int(42));
    assert_eq!(scalar("negative"), Scalar::Int(-7));
    assert_eq!(scalar("float_whole"), Scalar::Float(1.0));
    assert_eq!(scalar("big_int"), Scalar::Float(12345678901234567890.0));
    assert_eq!(scalar("exp"), Scalar::Float(6.02e23));
    assert_eq!(scalar("tiny"), Scalar::Float(1e-7));
    assert_eq!(
        scalar("html_chars"),
        Scalar::Str("<a href=\"x\">&amp;</a>".into())
    );
    assert_eq!(scalar("unicode"), Scalar::Str("héllo ✓ 日本語 🚀 é".into()));
    assert!(matches!(doc.get("null_value"), Some(Node::Null(Some(_)))));
    assert_eq!(doc.get("empty_object"), Some(&Node::Map(vec![])));
    assert_eq!(doc.get("empty_array"), Some(&Node::List(vec![])));
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

fn expect_code2(text: &str) -> Error {
    match json::parse(text, "bad.json") {
        Ok(_) => panic!("{text:?} parsed"),
        Err(e) => {
            assert_eq!(e.exit_code(), 2, "{text:?}: {e}");
            if let Error::Parse { at, .. } = &e {
                let lines = text.split('\n').count();
                assert!(at.line >= 1 && at.line <= lines, "{text:?}: {e}");
                assert!(at.column >= 1);
            }
            e
        }
    }
}

#[test]
fn error_cases_have_line_and_column() {
    let cases: &[(&str, usize, usize)] = &[
        ("{\n\t\"a\": 1,\n}", 3, 1),
        ("{\n\t\"a\": \"x\\u12\"\n}", 2, 9),
        ("{\n\t\"a\": [1, 2,]\n}", 2, 13),
        ("{\n\t\"a\": -\n}", 2, 7),
        ("{\n\t\"a\": 1.\n}", 2, 7),
        ("{\n\t\"a\": 1e+\n}", 2, 7),
        ("{\n\t\"a\": .5\n}", 2, 7),
        ("{\n\t\"a\": +5\n}", 2, 7),
        ("{\n\t\"a\": NaN\n}", 2, 7),
        ("{\n\t\"a\": 'x'\n}", 2, 7),
        ("{\n\t\"a\": \"tab\there\"\n}", 2, 11),
        ("{\n\t\"é\": \"x\" }\n}", 3, 1),
        ("{\n\t\"a\": 1\n", 3, 1),
        ("{\n\t\"a\": {\"b\": 1}", 2, 15),
        ("{\n\t\"a\"\n}", 3, 1),
        ("{\n\t1: 2\n}", 2, 2),
        ("{\"a\": 1}\n{\"b\": 2}", 2, 1),
        ("{\"a\": // comment\n1}", 1, 7),
    ];
    for &(text, line, column) in cases {
        match expect_code2(text) {
            Error::Parse { at, .. } => {
                assert_eq!((at.line, at.column), (line, column), "{text:?}")
            }
            other => panic!("{text:?}: {other}"),
        }
    }
    // Not an object at the top level.
    for text in ["[]", "[{\"a\": 1}]", "42", "\"str\"", "null", "", "\n\t "] {
        assert!(
            matches!(expect_code2(text), Error::Input { .. }),
            "{text:?}"
        );
    }
}

/// Every proper prefix of every vector fails cleanly (code 2) and never panics.
#[test]
fn truncated_vectors_fail_cleanly() {
    let Some(v) = vectors() else { return };
    for path in json_files(&v.join("enc"))
        .into_iter()
        .chain(json_files(&v.join("expected")))
    {
        let text = read(&path);
        let body = text.trim_end();
        for (i, _) in body.char_indices().skip(1) {
            expect_code2(&body[..i]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,8}",
        "[<>&\"\\\\/ \t\n\r\u{0}-\u{1f}\u{7f}é日🚀\u{2028}\u{2029}\u{FFFD}a-c]{0,12}",
        any::<String>(),
    ]
}

fn arb_scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        arb_string().prop_map(Scalar::Str),
        // sops 3.11 reads JSON integers beyond 2^53 as floats, and so does sealant.
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(Scalar::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Scalar::Float),
        prop::sample::select(vec![
            0.0,
            -0.0,
            1e-6,
            1e-7,
            1e21,
            1e20,
            9_223_372_036_854_775_808.0,
            -9_223_372_036_854_775_808.0,
            0.1,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
        ])
        .prop_map(Scalar::Float),
        any::<bool>().prop_map(Scalar::Bool),
    ]
}

fn arb_node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        8 => arb_scalar().prop_map(|s| Node::Scalar(Leaf::new(s))),
        1 => Just(Node::Null(None)),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(
                prop_oneof![
                    8 => (arb_string(), inner.clone())
                        .prop_map(|(key, value)| Item::Entry { key, value }),
                    1 => "[ a-z]{0,5}".prop_map(|c| Item::Comment(Leaf::new(c))),
                ],
                0..6
            )
            .prop_map(Node::Map),
            prop::collection::vec(
                prop_oneof![
                    8 => inner.prop_map(ListItem::Node),
                    1 => "[ a-z]{0,5}".prop_map(|c| ListItem::Comment(Leaf::new(c))),
                ],
                0..6
            )
            .prop_map(Node::List),
        ]
    })
}

fn arb_doc() -> impl Strategy<Value = Document> {
    prop::collection::vec(
        (
            arb_string().prop_filter("not the metadata key", |k| k != "sops"),
            arb_node(),
        )
            .prop_map(|(key, value)| Item::Entry { key, value }),
        0..6,
    )
    .prop_map(|items| Document { items })
}

/// Removes whitespace outside strings; with `spaced`, puts one space after `:` and `,`.
fn compact(text: &str, spaced: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            ' ' | '\t' | '\n' | '\r' => {}
            '"' => {
                in_string = true;
                out.push(c);
            }
            ':' | ',' if spaced => {
                out.push(c);
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

/// The user's file in one of several layouts.
fn layout(doc: &Document, style: u8) -> String {
    let indent = match style % 4 {
        0 => Indent::Tab,
        1 => Indent::Spaces(2),
        2 => Indent::Spaces(4),
        _ => Indent::Spaces(0),
    };
    let text = json::emit(doc, None, indent).unwrap();
    match style / 4 {
        0 => text,
        1 => text.replace('\n', "\r\n"),
        2 => compact(&text, false),
        3 => compact(&text, true),
        4 => format!("  {}", text.trim_end()),
        _ => text.trim_end().replace('\n', "\n  "),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// emit → parse gives the same tree back, in every layout, with exact spans.
    #[test]
    fn emit_then_parse_round_trips(doc in arb_doc(), style in 0u8..24) {
        let text = layout(&doc, style);
        let parsed = json::parse(&text, "p").unwrap();
        prop_assert!(parsed.metadata.is_none());
        prop_assert_eq!(normalize_doc(&parsed.docs[0]), normalize_doc(&doc));
        check_spans(&text, &parsed.docs[0]);
        // Re-emitting the parsed tree gives sops's layout again.
        let indent = match style % 4 { 0 => Indent::Tab, 1 => Indent::Spaces(2), 2 => Indent::Spaces(4), _ => Indent::Spaces(0) };
        if style < 4 {
            prop_assert_eq!(json::emit(&parsed.docs[0], None, indent).unwrap(), text);
        }
    }

    /// insert_metadata then parse finds the metadata, the same data, and cutting the
    /// range gives back the input byte for byte.
    #[test]
    fn insert_and_cut_are_inverse(doc in arb_doc(), meta in arb_node(), style in 0u8..24) {
        let text = layout(&doc, style);
        let with = json::insert_metadata(&text, &meta).unwrap();
        let parsed = json::parse(&with, "p").unwrap();
        let found = parsed.metadata.as_ref().expect("metadata found");
        prop_assert_eq!(normalize(&found.tree), normalize(&meta));
        prop_assert_eq!(normalize_doc(&parsed.docs[0]), normalize_doc(&doc));
        prop_assert_eq!(cut(&with, &parsed), text.clone());
        check_spans(&with, &parsed.docs[0]);
        // The metadata is written in the file's line endings.
        if style / 4 == 1 {
            prop_assert!(!with.replace("\r\n", "").contains('\n'));
        }
        // A second insertion is refused.
        prop_assert!(matches!(json::insert_metadata(&with, &meta), Err(Error::AlreadyEncrypted)));
    }

    /// With the default layout, insertion gives exactly what sops writes.
    #[test]
    fn insert_into_sops_layout_equals_sops_emission(doc in arb_doc(), meta in arb_node(), spaces in prop::option::of(0usize..5)) {
        let indent = spaces.map_or(Indent::Tab, Indent::Spaces);
        let text = json::emit(&doc, None, indent).unwrap();
        let with = json::insert_metadata(&text, &meta).unwrap();
        if !doc.items.is_empty() {
            prop_assert_eq!(with, json::emit(&doc, Some(&meta), indent).unwrap());
        }
    }

    /// No input makes the parser panic; errors are code 2 (or a metadata error).
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Err(e) = json::parse(&text, "f") {
            prop_assert!(matches!(e.exit_code(), 1 | 2));
        }
    }

    #[test]
    fn arbitrary_json_ish_text_never_panics(text in "[{}\\[\\],:\" \n\\\\a-z0-9.eE+\\-uD]{0,64}") {
        if let Ok(parsed) = json::parse(&text, "f") {
            check_spans(&text, &parsed.docs[0]);
            let _ = json::insert_metadata(&text, &Node::Null(None));
        }
    }

    /// Damaging a valid file in one place never panics; if it still parses, its spans
    /// are still exact.
    #[test]
    fn mutated_json_never_panics(doc in arb_doc(), style in 0u8..24, at in any::<prop::sample::Index>(), len in 0usize..4, junk in "[{}\\[\\],:\"\\\\ a0-9.eE\\-]{0,3}") {
        let text = layout(&doc, style);
        let mut at = at.index(text.len() + 1);
        while !text.is_char_boundary(at) { at -= 1; }
        let mut end = (at + len).min(text.len());
        while !text.is_char_boundary(end) { end += 1; }
        let damaged = format!("{}{}{}", &text[..at], junk, &text[end..]);
        match json::parse(&damaged, "f") {
            Ok(parsed) => check_spans(&damaged, &parsed.docs[0]),
            Err(e) => prop_assert!(matches!(e.exit_code(), 1 | 2)),
        }
    }
}
