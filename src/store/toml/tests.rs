use super::*;
use crate::error::Error;
use crate::tree::{Item, ListItem, Node};

fn parse_ok(text: &str) -> (crate::store::Parsed, Layout) {
    match parse(text, "t.toml") {
        Ok(p) => p,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

fn doc(text: &str) -> Document {
    parse_ok(text).0.docs.remove(0)
}

fn get<'a>(items: &'a [Item], path: &[&str]) -> &'a Node {
    let (first, rest) = path.split_first().unwrap();
    let node = items
        .iter()
        .find_map(|i| match i {
            Item::Entry { key, value } if key == first => Some(value),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {first}"));
    match (rest.is_empty(), node) {
        (true, n) => n,
        (false, Node::Map(items)) => get(items, rest),
        (false, other) => panic!("{other:?}"),
    }
}

fn scalar(d: &Document, path: &[&str]) -> Scalar {
    match get(&d.items, path) {
        Node::Scalar(l) => l.value.clone(),
        other => panic!("{other:?}"),
    }
}

fn comments(items: &[Item]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Comment(c) => Some(c.value.as_str()),
            _ => None,
        })
        .collect()
}

fn map_items<'a>(d: &'a Document, path: &[&str]) -> &'a [Item] {
    match get(&d.items, path) {
        Node::Map(items) => items,
        other => panic!("{other:?}"),
    }
}

#[test]
fn scalars_are_typed_like_sops() {
    let d = doc(concat!(
        "s = \"a\\u00e9\\n\"\nl = 'C:\\x'\nml = \"\"\"\nx\ny\"\"\"\nmll = '''\n a'''\n",
        "h = 0xDEAD_beef\no = 0o755\nb = 0b1010\nneg = -1_000\nbig = 9_223_372_036_854_775_807\n",
        "f = 1e3\ni = -inf\nn = nan\nz = -0.0\nt = true\n",
        "odt = 1979-05-27 07:32:00.25-07:00\nldt = 1979-05-27t07:32:00.500\nld = 1979-05-27\nlt = 07:32\n",
    ));
    assert_eq!(scalar(&d, &["s"]), Scalar::Str("aé\n".into()));
    assert_eq!(scalar(&d, &["l"]), Scalar::Str("C:\\x".into()));
    assert_eq!(scalar(&d, &["ml"]), Scalar::Str("x\ny".into()));
    assert_eq!(scalar(&d, &["mll"]), Scalar::Str(" a".into()));
    assert_eq!(scalar(&d, &["h"]), Scalar::Int(0xDEAD_BEEF));
    assert_eq!(scalar(&d, &["o"]), Scalar::Int(0o755));
    assert_eq!(scalar(&d, &["b"]), Scalar::Int(10));
    assert_eq!(scalar(&d, &["neg"]), Scalar::Int(-1000));
    assert_eq!(scalar(&d, &["big"]), Scalar::Int(i64::MAX));
    assert_eq!(scalar(&d, &["f"]), Scalar::Float(1000.0));
    assert_eq!(scalar(&d, &["i"]), Scalar::Float(f64::NEG_INFINITY));
    assert!(matches!(scalar(&d, &["n"]), Scalar::Float(f) if f.is_nan()));
    assert!(matches!(scalar(&d, &["z"]), Scalar::Float(f) if f == 0.0 && f.is_sign_negative()));
    assert_eq!(scalar(&d, &["t"]), Scalar::Bool(true));
    let Scalar::Time(t) = scalar(&d, &["odt"]) else {
        panic!()
    };
    assert_eq!(
        crate::crypto::timestamp::format_time_nano(&t),
        "1979-05-27T07:32:00.25-07:00"
    );
    assert_eq!(
        scalar(&d, &["ldt"]),
        Scalar::Str("1979-05-27T07:32:00.500".into())
    );
    assert_eq!(scalar(&d, &["ld"]), Scalar::Str("1979-05-27".into()));
    assert_eq!(scalar(&d, &["lt"]), Scalar::Str("07:32:00".into()));
}

#[test]
fn every_span_is_its_token() {
    let text = "a = \"x\" # c1\nb = [1, 'two', { c = 3.5 }] #c2\n[t]\nd = 1979-05-27 07:32:00Z\n";
    let d = doc(text);
    let mut tokens = Vec::new();
    fn walk(node: &Node, text: &str, out: &mut Vec<String>) {
        match node {
            Node::Map(items) => items.iter().for_each(|i| match i {
                Item::Entry { value, .. } => walk(value, text, out),
                Item::Comment(c) => out.push(format!("#{}", &text[c.span.clone().unwrap().bytes])),
            }),
            Node::List(items) => items.iter().for_each(|i| match i {
                ListItem::Node(n) => walk(n, text, out),
                ListItem::Comment(c) => {
                    out.push(format!("#{}", &text[c.span.clone().unwrap().bytes]))
                }
            }),
            Node::Scalar(l) => out.push(text[l.span.clone().unwrap().bytes].to_string()),
            Node::Null(_) => {}
        }
    }
    walk(&Node::Map(d.items.clone()), text, &mut tokens);
    assert_eq!(
        tokens,
        [
            "\"x\"",
            "# c1",
            "1",
            "'two'",
            "3.5",
            "#c2",
            "1979-05-27 07:32:00Z"
        ]
    );
}

#[test]
fn dotted_keys_and_headers_mean_nested_tables() {
    let nested = doc("[a]\n[a.b]\nc = 1\n[a.b.d]\ne = 2\n");
    for text in [
        "a.b.c = 1\na.b.d.e = 2\n",
        "[a]\nb.c = 1\nb.d.e = 2\n",
        "[a.b]\nc = 1\nd = { e = 2 }\n",
        "a = { b = { c = 1, d.e = 2 } }\n",
        "[a.b]\nc = 1\n[a.b.d]\ne = 2\n",
        "[a.b.d]\ne = 2\n[a.b]\nc = 1\n",
    ] {
        let d = doc(text);
        assert_eq!(scalar(&d, &["a", "b", "c"]), Scalar::Int(1), "{text}");
        assert_eq!(scalar(&d, &["a", "b", "d", "e"]), Scalar::Int(2), "{text}");
        assert!(
            crate::tree::same_meaning(
                &Node::Map(d.items.clone()),
                &Node::Map(nested.items.clone())
            ) || text.starts_with("[a.b.d]"),
            "{text}"
        );
    }
    // An array of tables is a list of maps; a header under it goes into its last map.
    let d = doc("[[p]]\nn = 1\n[[p]]\nn = 2\n[p.q]\nr = 3\n");
    let Node::List(elems) = get(&d.items, &["p"]) else {
        panic!()
    };
    assert_eq!(elems.len(), 2);
    let ListItem::Node(Node::Map(last)) = &elems[1] else {
        panic!()
    };
    assert!(matches!(get(last, &["q", "r"]), Node::Scalar(l) if l.value == Scalar::Int(3)));
}

#[test]
fn comments_are_filed_in_their_table() {
    let d = doc(concat!(
        "# root head\n",
        "a = 1 # root, after a\n",
        "\n",
        "# before [srv]: in the root\n",
        "[srv] # on the header line\n",
        "# in srv\n",
        "port = 1 # after port\n",
        "list = [ # in list\n",
        "  1, # also in list\n",
        "]\n",
        "inl = { x = 1 }\n",
        "# before [[job]]: in the array\n",
        "[[job]]\n",
        "n = 1\n",
        "# between jobs\n",
        "[[job]]\n",
        "n = 2\n",
        "# at the end: in the last job\n",
    ));
    assert_eq!(
        comments(&d.items),
        [" root head", " root, after a", " before [srv]: in the root"]
    );
    assert_eq!(
        comments(map_items(&d, &["srv"])),
        [" on the header line", " in srv", " after port"]
    );
    let Node::List(list) = get(&d.items, &["srv", "list"]) else {
        panic!()
    };
    let in_list: Vec<_> = list
        .iter()
        .filter_map(|i| match i {
            ListItem::Comment(c) => Some(c.value.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(in_list, [" in list", " also in list"]);
    let Node::List(jobs) = get(&d.items, &["job"]) else {
        panic!()
    };
    let kinds: Vec<String> = jobs
        .iter()
        .map(|i| match i {
            ListItem::Comment(c) => c.value.clone(),
            ListItem::Node(Node::Map(items)) => format!("map {:?}", comments(items)),
            ListItem::Node(_) => "other".into(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            " before [[job]]: in the array",
            "map []",
            " between jobs",
            "map [\" at the end: in the last job\"]"
        ]
    );
}

fn err(text: &str) -> (usize, usize, String) {
    match parse(text, "bad.toml") {
        Err(Error::Parse { at, what, file }) => {
            assert_eq!(file, "bad.toml");
            (at.line, at.column, what)
        }
        Err(other) => panic!("{text:?}: {other}"),
        Ok(_) => panic!("{text:?}: accepted"),
    }
}

#[test]
fn invalid_files_are_refused_with_a_place() {
    let cases: &[(&str, (usize, usize))] = &[
        ("a = 1\na = 2\n", (2, 1)),
        ("[t]\nx = 1\n[t]\n", (3, 2)),
        ("[t]\nx = 1\n[t.x]\n", (3, 4)),
        ("a = []\n[[a]]\n", (2, 3)),
        ("[[a]]\n[a]\n", (2, 2)),
        ("a = {b = 1}\n[a.c]\n", (2, 2)),
        ("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", (4, 3)),
        ("[x]\ny.z = 1\n[x.y]\n", (3, 4)),
        ("a.b = 1\na.b.c = 2\n", (2, 3)),
        ("a = 1 b = 2\n", (1, 9)),
        ("a = \"unterminated\n", (1, 18)),
        ("a = 0xFFFFFFFFFFFFFFFF\n", (1, 5)),
        ("a = 1e400\n", (1, 5)),
        ("a = 2024-02-30\n", (1, 5)),
        ("[a\n", (1, 3)),
        ("a = [1, 2\n", (1, 10)),
        ("a =", (1, 4)),
        ("= 1\n", (1, 1)),
        ("a = 1\n\u{1}\n", (2, 2)),
    ];
    for (text, place) in cases {
        let (line, col, what) = err(text);
        assert_eq!((line, col), *place, "{text:?}: {what}");
        assert!(!what.is_empty());
    }
}

#[test]
fn errors_never_quote_the_text() {
    for text in [
        "a = \"SEALANT-CANARY-SECRET\nb = 1\n",
        "a = 'SEALANT-CANARY-SECRET\n",
        "a = SEALANT-CANARY-SECRET\n",
        "a = \"SEALANT-CANARY-SECRET\\q\"\n",
        "SEALANT-CANARY-SECRET = 1\nSEALANT-CANARY-SECRET = 2\n",
        "[SEALANT-CANARY-SECRET]\n[SEALANT-CANARY-SECRET]\n",
        "a = [\"SEALANT-CANARY-SECRET\" \"x\"]\n",
        "a = { x = \"SEALANT-CANARY-SECRET\" y = 1 }\n",
        "a = 1979-05-27TSEALANT\n",
    ] {
        let e = parse(text, "f.toml").expect_err(text).to_string();
        assert!(!e.contains("SEALANT"), "{e}");
        assert!(e.starts_with("f.toml:"), "{e}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep_array = format!("a = {}{}\n", "[".repeat(5000), "]".repeat(5000));
    assert!(parse(&deep_array, "f").is_err());
    let long_key = format!("[{}]\n", vec!["k"; 5000].join("."));
    assert!(parse(&long_key, "f").is_err());
    let ok_key = format!("[{}]\nv = 1\n", vec!["k"; MAX_DEPTH - 1].join("."));
    assert!(parse(&ok_key, "f").is_ok());
}

fn meta() -> Node {
    use crate::tree::Leaf;
    let s = |v: &str| Node::Scalar(Leaf::new(Scalar::Str(v.into())));
    Node::Map(vec![
        Item::Entry {
            key: "age".into(),
            value: Node::List(vec![ListItem::Node(Node::Map(vec![
                Item::Entry {
                    key: "recipient".into(),
                    value: s("age1xyz"),
                },
                Item::Entry {
                    key: "enc".into(),
                    value: s("-----BEGIN AGE ENCRYPTED FILE-----\nabc\n-----END AGE ENCRYPTED FILE-----\n"),
                },
            ]))]),
        },
        Item::Entry {
            key: "lastmodified".into(),
            value: s("2026-01-01T00:00:00Z"),
        },
        Item::Entry {
            key: "version".into(),
            value: s("3.11.0"),
        },
    ])
}

fn with_metadata(text: &str) -> String {
    let (_, layout) = parse_ok(text);
    let mut edits = layout.insert_metadata(text, &meta()).unwrap();
    crate::store::apply_edits(text, &mut edits).unwrap()
}

#[test]
fn metadata_is_appended_and_cut_exactly() {
    for text in [
        "",
        "a = 1",
        "a = 1\n",
        "a = 1\n\n",
        "\n",
        "a = 1\r\nb = 2\r\n",
        "a = 1\r\nb = 2",
        "\u{feff}a = 1\n",
        "\u{feff}",
        "# only a comment",
        "[t]\nx = 1 # c",
        "[[t]]\n",
    ] {
        let written = with_metadata(text);
        let (parsed, _) = parse_ok(&written);
        let found = parsed.metadata.expect("metadata found");
        assert!(crate::tree::same_meaning(
            &found.tree,
            &super::emit::sections_last(&meta())
        ));
        let mut cut = String::new();
        let mut at = 0;
        for r in &found.ranges {
            cut.push_str(&written[at..r.start]);
            at = r.end;
        }
        cut.push_str(&written[at..]);
        assert_eq!(cut, text, "{written:?}");
        // The clear part reads the same as before.
        assert!(crate::tree::same_documents(
            &parsed.docs,
            &parse_ok(text).0.docs
        ));
    }
}

#[test]
fn metadata_layout_is_the_one_rops_writes() {
    let written = with_metadata("a = 1\n");
    assert_eq!(
        written,
        "a = 1\n\n[sops]\nlastmodified = \"2026-01-01T00:00:00Z\"\nversion = \"3.11.0\"\n\n\
         [[sops.age]]\nrecipient = \"age1xyz\"\nenc = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\n\
         abc\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\n"
    );
    // CRLF files get CRLF lines, and envelopes on one line (line-ending tools cannot
    // change them).
    let written = with_metadata("a = 1\r\n");
    assert!(written.contains("\r\n[sops]\r\n"), "{written:?}");
    assert!(written.contains("enc = \"-----BEGIN AGE ENCRYPTED FILE-----\\nabc\\n"));
    assert!(!written.replace("\r\n", "").contains('\n'));
}

#[test]
fn a_hand_moved_sops_table_is_still_found_and_cut() {
    let text = "[sops]\nversion = \"3.11.0\"\n\n[app]\nx = 1\n";
    let (parsed, _) = parse_ok(text);
    let found = parsed.metadata.unwrap();
    assert_eq!(found.ranges, vec![0..26_usize]);
    assert_eq!(parsed.docs[0].items.len(), 1);
    let text = "x = 1\nsops.version = \"3.11.0\" # c\ny = 2\n";
    let found = parse_ok(text).0.metadata.unwrap();
    assert_eq!(
        &text[found.ranges[0].clone()],
        "sops.version = \"3.11.0\" # c\n"
    );
}

#[test]
fn ciphertexts_keep_the_quotes_and_values_come_back_in_them() {
    let layout = TomlLayout { nl: "\n" };
    let cases: &[(&str, Scalar, &str)] = &[
        ("\"x\"", Scalar::Str("x".into()), "\"ENC\""),
        ("'x'", Scalar::Str("x".into()), "'ENC'"),
        (
            "\"\"\"\nx\"\"\"",
            Scalar::Str("x".into()),
            "\"\"\"ENC\"\"\"",
        ),
        ("'''\nx'''", Scalar::Str("x".into()), "'''ENC'''"),
        ("42", Scalar::Int(42), "\"ENC\""),
        ("1.5", Scalar::Float(1.5), "\"ENC\""),
        ("true", Scalar::Bool(true), "\"ENC\""),
    ];
    for (token, value, enc_token) in cases {
        let span = |t: &str| Span {
            bytes: 0..t.len(),
            style: crate::tree::Style::Raw,
            line_indent: 0,
            in_flow: false,
            holder: crate::tree::Holder::None,
        };
        let mut out = crate::store::Edits::collect(token);
        layout.encrypted_value(token, &span(token), "ENC", &mut out);
        let out = out.into_vec();
        assert_eq!(out[0].text, *enc_token);
        // What decrypting writes is what `decrypted_form` predicted: no hint needed
        // when it equals the original token.
        let mut back = crate::store::Edits::collect(enc_token);
        layout
            .clear_value(enc_token, &span(enc_token), value, &mut back)
            .unwrap();
        let back = back.into_vec();
        assert_eq!(
            layout.decrypted_form(token, &span(token), value).as_deref(),
            Some(back[0].text.as_str())
        );
        assert_eq!(back[0].text, *token);
    }
}
