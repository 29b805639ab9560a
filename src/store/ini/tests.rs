//! Unit tests of the INI store. Every expectation about go-ini's reading and writing
//! here was checked against the real sops 3.11.0 (see docs/FORMAT.md, "INI").

use super::*;

fn doc_of(text: &str) -> Document {
    let (parsed, _) = parse_ini(text, "t.ini").expect("parses");
    parsed.docs.into_iter().next().expect("one document")
}

/// The tree in a compact form: `[section]`, `key=value`, `#comment`.
fn outline(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in doc_of(text).items {
        let Item::Entry { key, value } = item else {
            panic!("top-level comment")
        };
        out.push(format!("[{key}]"));
        let Node::Map(entries) = value else {
            panic!("section is not a map")
        };
        for e in entries {
            match e {
                Item::Comment(c) => out.push(format!("#{}", c.value)),
                Item::Entry { key, value } => match value {
                    Node::Scalar(Leaf {
                        value: Scalar::Str(s),
                        ..
                    }) => out.push(format!("{key}={s}")),
                    other => panic!("unexpected {other:?}"),
                },
            }
        }
    }
    out
}

fn err_of(text: &str) -> (String, i32) {
    let e = parse_ini(text, "t.ini").map(|_| ()).unwrap_err();
    (e.to_string(), e.exit_code())
}

#[test]
fn sections_default_first_and_values_as_go_ini_reads_them() {
    let text = "top = 1\n[a]\nx = \"quoted\"\ny = 'single'\nz:colon\nw = a=b\n[ spaced ]\n[DEFAULT]\nk =\n";
    assert_eq!(
        outline(text),
        [
            "[DEFAULT]",
            "top=1",
            "[a]",
            "x=quoted",
            "y=single",
            "z=colon",
            "w=a=b",
            "[ spaced ]",
            "[DEFAULT]",
            "k=",
        ]
    );
    // An empty file is one empty DEFAULT section.
    assert_eq!(outline(""), ["[DEFAULT]"]);
}

#[test]
fn go_ini_value_quirks() {
    let text = concat!(
        "a = x ; c1\n",
        "b = \"y ; z\"\n",
        "c = v#w\n",
        "f = `back;tick`\n",
        "g = \"\"\"tri;ple\"\"\"\n",
        "h = \"\"\"multi\nline\"\"\"   ; after\n",
        "i = abc \\\n   def ; x\n",
        "l = \"a\"b\"\n",
        "m = 'a'\n",
        "n = ''\n",
        "o = `open\nline2`\n",
        "k1\u{a0}= \u{a0}nb\u{a0}\n",
        "k3 = v\\\n[s]\n",
        "- = auto\n",
        "- = auto2\n",
    );
    assert_eq!(
        outline(text),
        [
            "[DEFAULT]",
            "a=x",
            "#c1",
            "b=\"y",
            "#z\"",
            "c=v",
            "#w",
            "f=back;tick",
            "g=tri;ple",
            "h=multi\nline",
            "#after",
            "i=abc def ; x",
            "l=\"a\"b\"",
            "m=a",
            "n=",
            "o=open\nline2",
            "k1=nb",
            "k3=v[s]",
            "#1=auto",
            "#2=auto2",
        ]
    );
}

#[test]
fn comments_are_gathered_and_filed_as_sops_does() {
    let text = concat!(
        "; first\n",
        ";; second\n",
        "\n",
        "   # third indented\n",
        "#\n",
        "k1 = v1 # inline\n",
        "[s]  ; header\n",
        "; before key\n",
        "k2 = v2\n",
        "; between\n",
        "\n",
        "; tail of s\n",
        "[t]\n",
        "k3 = v3\n",
        "; trailing at eof\n",
    );
    assert_eq!(
        outline(text),
        [
            "[DEFAULT]",
            "k1=v1",
            "#first\n;; second\n# third indented\n#\n# inline",
            "[s]",
            "#header",
            "k2=v2",
            "#before key",
            "[t]",
            "#between\n; tail of s",
            "k3=v3",
            // go-ini drops it; sealant keeps it in the files it splices.
            "#trailing at eof",
        ]
    );
    // Only the first line loses its comment characters, and only `;`/`#` and spaces.
    assert_eq!(outline(";;;\tx\nk = 1\n")[2], "#\tx");
    assert_eq!(outline("# ; x\nk = 1\n")[2], "#; x");
    // A comment of comment characters only is an empty comment item (sops keeps it).
    assert_eq!(outline(";;\nk = 1\n"), ["[DEFAULT]", "k=1", "#"]);
}

#[test]
fn duplicate_keys_keep_the_first_place_and_the_last_value_and_comment() {
    let text = "[s]\n; old\nk = 1\nj = 2\nk = 3\n; gone at eof\n";
    let (parsed, layout) = parse_ini(text, "t.ini").unwrap();
    assert!(!layout.can_splice(), "written afresh, as sops writes it");
    let doc = &parsed.docs[0];
    let Some(Node::Map(items)) = doc.get("s") else {
        panic!()
    };
    // The second `k` had no comment: go-ini clears the first one's. Trailing comments
    // are dropped as go-ini drops them, since the file is written afresh.
    assert_eq!(items.len(), 2);
    assert!(
        matches!(&items[0], Item::Entry { key, value: Node::Scalar(l) } if key == "k" && l.value == Scalar::Str("3".into()))
    );
    // Duplicate sections are separate sections (non-unique sections allowed).
    assert_eq!(
        outline("[a]\nx = 1\n[a]\nx = 2\n"),
        ["[DEFAULT]", "[a]", "x=1", "[a]", "x=2"]
    );
}

#[test]
fn errors_name_the_place_and_never_the_text() {
    let secret = "SEALANT-CANARY-SECRET";
    let cases = [
        (format!("a = 1\n[{secret}\n"), "t.ini:2:1", "no closing `]`"),
        (format!("[]\na = {secret}\n"), "t.ini:1:1", "empty name"),
        (format!("a = 1\n  {secret}\n"), "t.ini:2:3", "neither"),
        (format!("= {secret}\n"), "t.ini:1:1", "empty key name"),
        (format!("\"\" = {secret}\n"), "t.ini:1:1", "empty key name"),
        (
            format!("a = \"\"\"{secret}\nmore\n"),
            "t.ini:1:5",
            "never closed",
        ),
        (format!("a = `{secret}"), "t.ini:1:5", "never closed"),
        (
            format!("a = \"\"\"x\"\"\" {secret}\n"),
            "t.ini:1:13",
            "after a quoted value",
        ),
        (
            format!("a = \"\"\"x\ny\"\"\" {secret}\n"),
            "t.ini:2:6",
            "after a closing quote",
        ),
        (
            format!("[s] {secret}\n"),
            "t.ini:1:5",
            "after a section header",
        ),
        (
            format!("\"k {secret} = v\n"),
            "t.ini:1:1",
            "no closing quote",
        ),
        (
            format!("\"k\" {secret} = v\n"),
            "t.ini:1:5",
            "quoted key name",
        ),
        (
            format!("\u{feff}[{secret}\n"),
            "t.ini:1:1",
            "no closing `]`",
        ),
    ];
    for (text, at, what) in cases {
        let (msg, code) = err_of(&text);
        assert!(msg.contains(at) && msg.contains(what), "{text:?}: {msg}");
        assert!(!msg.contains(secret), "{msg}");
        assert_eq!(code, 2, "{msg}");
    }
}

#[test]
fn metadata_is_read_from_the_sops_section_and_cut_with_the_line_break_before_it() {
    let text = "[s]\nk = ENC[x]\n\n[sops]\nversion = 3.11.0\nlastmodified = 2020-01-02T03:04:05Z\nage__list_0__map_recipient = age1x\nage__list_0__map_enc = a\\nb\\n\n";
    let (parsed, _) = parse_ini(text, "t.ini").unwrap();
    let found = parsed.metadata.expect("metadata");
    assert_eq!(found.ranges.len(), 1);
    let r = found.ranges[0].clone();
    assert_eq!(
        format!("{}{}", &text[..r.start], &text[r.end..]),
        "[s]\nk = ENC[x]\n"
    );
    let meta = crate::metadata::Metadata::from_node(&found.tree).unwrap();
    assert_eq!(meta.key_groups[0].age[0].enc, "a\nb\n");
    assert_eq!(meta.version, "3.11.0");
    // The metadata section is not data.
    assert_eq!(outline(text), ["[DEFAULT]", "[s]", "k=ENC[x]"]);
    // A second [sops] section is cut too; the metadata is the first one's.
    let two = format!("{text}\n[sops]\nversion = 9.9.9\n");
    let (parsed, _) = parse_ini(&two, "t.ini").unwrap();
    let found = parsed.metadata.unwrap();
    let mut edits: Vec<Edit> = found
        .ranges
        .iter()
        .map(|r| Edit::new(r.clone(), ""))
        .collect();
    assert_eq!(
        crate::store::apply_edits(&two, &mut edits).unwrap(),
        "[s]\nk = ENC[x]\n"
    );
    let meta = crate::metadata::Metadata::from_node(&found.tree).unwrap();
    assert_eq!(meta.version, "3.11.0");
    // A flattened key that does not parse is ignored, as sops ignores it.
    let odd = text.replace("age__list_0__map_recipient", "age__list_x__map_recipient");
    let (parsed, _) = parse_ini(&odd, "t.ini").unwrap();
    assert!(parsed.metadata.is_some());
}

#[test]
fn inserted_metadata_is_cut_back_exactly() {
    let meta = Node::Map(vec![
        Item::Entry {
            key: "version".into(),
            value: Node::Scalar(Leaf::new(Scalar::Str("3.11.0".into()))),
        },
        Item::Entry {
            key: "unencrypted_regex".into(),
            value: Node::Scalar(Leaf::new(Scalar::Str("^(a;b)$".into()))),
        },
    ]);
    for text in [
        "",
        "\n",
        "a = 1",
        "a = 1\n",
        "a = 1\n\n",
        "a = 1\r\n",
        "; c\r\nb = 2",
        "\u{feff}",
    ] {
        let (_, layout) = parse_ini(text, "t.ini").unwrap();
        let mut edits = layout.insert_metadata(text, &meta).unwrap();
        let encrypted = crate::store::apply_edits(text, &mut edits).unwrap();
        let (parsed, _) = parse_ini(&encrypted, "t.ini").unwrap();
        let found = parsed.metadata.expect("metadata found");
        let m = crate::store::flatten::flatten(&found.tree);
        assert!(
            m.contains(&("unencrypted_regex".into(), "^(a;b)$".into())),
            "{m:?}"
        );
        let r = found.ranges[0].clone();
        let back = format!("{}{}", &encrypted[..r.start], &encrypted[r.end..]);
        assert_eq!(back, text, "{encrypted:?}");
        if text.contains('\r') {
            assert!(encrypted.contains("[sops]\r\n"), "CRLF kept: {encrypted:?}");
        }
    }
}

#[test]
fn values_written_back_read_back_the_same() {
    let samples = [
        "plain",
        "with space",
        "a;b",
        "a#b",
        " lead",
        "trail ",
        "\"q\"",
        "'q'",
        "a\"b",
        "a'b",
        "a`b",
        "a\nb",
        "a\\",
        "\"\"\"x",
        "`x",
        "\"\"x",
        "é ✓",
        "a\r\nb",
        "x\"\"\"y",
        "",
    ];
    for s in samples {
        for q in [
            Quote::None,
            Quote::Double,
            Quote::Single,
            Quote::Backtick,
            Quote::Triple,
        ] {
            if safe_in(q, s) {
                let m = q.mark();
                let token = format!("{m}{s}{m}");
                assert_eq!(read_back(&token).as_deref(), Some(s), "{q:?} {s:?}");
            }
        }
        let token = fresh_token(s).unwrap();
        assert_eq!(
            read_back(&token).as_deref(),
            Some(s),
            "fresh {s:?} -> {token:?}"
        );
    }
    assert!(fresh_token("a`b\"\"\"c\nd").is_err());
}

fn leaf(s: Scalar) -> Node {
    Node::Scalar(Leaf::new(s))
}
fn entry(k: &str, v: Node) -> Item {
    Item::Entry {
        key: k.into(),
        value: v,
    }
}
fn comment(t: &str) -> Item {
    Item::Comment(Leaf::new(t.into()))
}

#[test]
fn emission_is_go_ini_writer_output() {
    // As sops prints a converted JSON/YAML file (checked with sops 3.11.0).
    let doc = Document {
        items: vec![entry(
            "sec",
            Node::Map(vec![
                entry("sp", leaf(Scalar::Str(" lead".into()))),
                entry("semi", leaf(Scalar::Str("a;b".into()))),
                entry("nl", leaf(Scalar::Str("a\nb".into()))),
                entry("bt", leaf(Scalar::Str("a`b".into()))),
                entry("q", leaf(Scalar::Str("\"x\"".into()))),
                entry("int", leaf(Scalar::Float(42.0))),
                entry("i", leaf(Scalar::Int(-7))),
                entry("t", leaf(Scalar::Bool(true))),
                entry("empty", leaf(Scalar::Str(String::new()))),
                entry("k=ey", leaf(Scalar::Str("v".into()))),
                entry("k`b", leaf(Scalar::Str("v".into()))),
            ]),
        )],
    };
    let want = concat!(
        "[sec]\n",
        "sp        = \" lead\"\n",
        "semi      = `a;b`\n",
        "nl        = \"\"\"a\nb\"\"\"\n",
        "bt        = \"\"\"a`b\"\"\"\n",
        "q         = \"x\"\n",
        "int       = 42.0\n",
        "i         = -7\n",
        "t         = true\n",
        "empty     = \n",
        "`k=ey`    = v\n",
        "\"\"\"k`b\"\"\" = v\n",
    );
    assert_eq!(emit(&doc, None).unwrap(), want);
}

#[test]
fn emission_of_comments_default_and_section_separators() {
    let doc = Document {
        items: vec![
            comment("top-level comments are dropped"),
            entry(
                "DEFAULT",
                Node::Map(vec![
                    entry("g", leaf(Scalar::Str("1".into()))),
                    comment("first\n;; second\n# third"),
                ]),
            ),
            entry(
                "s",
                Node::Map(vec![
                    comment("about s\r\n; more"),
                    entry("a", leaf(Scalar::Str("x".into()))),
                    comment("lost: a later comment wins"),
                    comment("#kept"),
                ]),
            ),
            entry("DEFAULT", Node::Map(vec![])),
        ],
    };
    let want = concat!(
        "; first\n",
        "; ; second\n",
        "# third\n",
        "g = 1\n",
        "\n",
        "; about s\r\n",
        "; more\n",
        "[s]\n",
        "# kept\n",
        "a = x\n",
        "\n",
        "[DEFAULT]\n",
    );
    assert_eq!(emit(&doc, None).unwrap(), want);
    // An empty DEFAULT first writes nothing, not even the blank line after it.
    let doc = Document {
        items: vec![
            entry("DEFAULT", Node::Map(vec![])),
            entry(
                "s",
                Node::Map(vec![entry("a", leaf(Scalar::Str("1".into())))]),
            ),
        ],
    };
    assert_eq!(emit(&doc, None).unwrap(), "[s]\na = 1\n");
    assert_eq!(emit(&Document::default(), None).unwrap(), "");
}

#[test]
fn trees_ini_cannot_hold_are_errors() {
    let cases = [
        (
            entry("a", leaf(Scalar::Int(1))),
            "Section values should always be TreeBranches",
        ),
        (
            entry("a", Node::Map(vec![entry("b", Node::Map(vec![]))])),
            "one level",
        ),
        (
            entry("a", Node::Map(vec![entry("b", Node::List(vec![]))])),
            "one level",
        ),
        (
            entry("a", Node::Map(vec![entry("b", Node::Null(None))])),
            "holds null",
        ),
        (
            entry(
                "a",
                Node::Map(vec![
                    entry("b", leaf(Scalar::Int(1))),
                    entry("b", leaf(Scalar::Int(2))),
                ]),
            ),
            "twice",
        ),
        (
            entry("a", Node::Map(vec![entry("#b", leaf(Scalar::Int(1)))])),
            "comment",
        ),
        (entry("", Node::Map(vec![])), "empty name"),
        (entry("default", Node::Map(vec![])), "DEFAULT"),
    ];
    for (item, want) in cases {
        let e = emit(&Document { items: vec![item] }, None).unwrap_err();
        assert_eq!(e.exit_code(), 4);
        assert!(e.to_string().contains(want), "{e}");
    }
    // With metadata (an encrypted file), a value must read back as itself.
    let doc = Document {
        items: vec![entry(
            "s",
            Node::Map(vec![entry("k", leaf(Scalar::Str("\"x\"".into())))]),
        )],
    };
    let meta = Node::Map(vec![entry("version", leaf(Scalar::Str("3.11.0".into())))]);
    assert!(emit(&doc, Some(&meta)).is_err());
    assert!(
        emit(&doc, None).is_ok(),
        "plain output prints what sops prints"
    );
}

#[test]
fn the_sops_vector_decrypts_to_sops_output_through_emission() {
    // The tree of testdata/vectors/plain/ini_basic.ini, written afresh, is what sops
    // prints for it (testdata/vectors/expected/ini_basic.ini).
    let plain = "; comment attached to the default section\nglobal_key = before any section\n\n[database]\n# comment above host\nhost = db.example.com\nport = 5432\npassword = \"s3cr3t\"\nempty =\nuser_unencrypted = admin\n\n[unicode]\ntext = 日本語 ✓\nmulti = \"\"\"line one\nline two\"\"\"\n";
    let want = "; comment attached to the default section\nglobal_key = before any section\n\n[database]\n; comment above host\nhost             = db.example.com\nport             = 5432\npassword         = s3cr3t\nempty            = \nuser_unencrypted = admin\n\n[unicode]\ntext  = 日本語 ✓\nmulti = \"\"\"line one\nline two\"\"\"\n";
    assert_eq!(emit(&doc_of(plain), None).unwrap(), want);
}

/// Applies a fake encryption (each value and comment replaced by a marker) through the
/// layout, as the walk would.
fn fake_encrypt(text: &str) -> String {
    let (parsed, layout) = parse_ini(text, "t.ini").unwrap();
    let mut edits = crate::store::Edits::collect(text);
    for item in &parsed.docs[0].items {
        let Item::Entry {
            value: Node::Map(entries),
            ..
        } = item
        else {
            continue;
        };
        for e in entries {
            match e {
                Item::Comment(c) if !c.value.is_empty() => {
                    layout.comment(c.span.as_ref().unwrap(), "ENC[c]", &mut edits)
                }
                Item::Entry {
                    value: Node::Scalar(l),
                    ..
                } if l.value != Scalar::Str(String::new()) => {
                    layout.encrypted_value(text, l.span.as_ref().unwrap(), "ENC[v]", &mut edits)
                }
                _ => {}
            }
        }
    }
    edits.finish().unwrap().unwrap()
}

#[test]
fn splicing_keeps_the_layout_and_sops_reads_one_comment_per_item() {
    let text = concat!(
        "  key   :   \"quoted\"   ; note\n",
        "[s]\r\n",
        "; a\n",
        "\n",
        "  ; b\n",
        "k = \"\"\"x\n",
        "y\"\"\"  ; after\n",
        "; above\n",
        "k2 = 'v' ; inline\n",
        "k3 = abc \\\n",
        "     def\n",
        "[t] ; header\n",
        "z = `1`\n",
    );
    let enc = fake_encrypt(text);
    assert_eq!(
        enc,
        concat!(
            "  key   :   \"ENC[v]\"   ; ENC[c]\n",
            "[s]\r\n",
            "; ENC[c]\n",
            "k = \"\"\"ENC[v]\"\"\"\n",
            "; ENC[c]\n",
            "k2 = 'ENC[v]'\n",
            "k3 = ENC[v]\n",
            "; ENC[c]\n",
            "[t]\n",
            "z = `ENC[v]`\n",
        )
    );
    // Read back, the encrypted file has the same items, each comment one ENC string.
    assert_eq!(
        outline(&enc),
        [
            "[DEFAULT]",
            "key=ENC[v]",
            "#ENC[c]",
            "[s]",
            "k=ENC[v]",
            "#ENC[c]",
            "k2=ENC[v]",
            "#ENC[c]",
            "k3=ENC[v]",
            "[t]",
            "#ENC[c]",
            "z=ENC[v]",
        ]
    );
    // The merged and moved comments are kept verbatim by region hints.
    let (_, layout) = parse_ini(text, "t.ini").unwrap();
    let kept: Vec<&str> = layout
        .verbatim_ranges()
        .into_iter()
        .map(|r| &text[r])
        .collect();
    assert_eq!(
        kept,
        [
            // The lines above `k` and the comment after its closing quotes: one item.
            "a\n\n  ; b\nk = \"\"\"x\ny\"\"\"  ; after",
            "above\nk2 = 'v' ; inline",
            "[t] ; header",
        ]
    );
}

#[test]
fn decrypted_values_go_back_in_their_quotes_or_are_requoted() {
    let text = "a = \"ENC\"\nb = ENC\nc = ENC ; c\n";
    let (parsed, layout) = parse_ini(text, "t.ini").unwrap();
    let Some(Node::Map(items)) = parsed.docs[0].get("DEFAULT") else {
        panic!()
    };
    let spans: Vec<Span> = items
        .iter()
        .filter_map(|i| match i {
            Item::Entry {
                value: Node::Scalar(l),
                ..
            } => l.span.clone(),
            _ => None,
        })
        .collect();
    let mut edits = crate::store::Edits::collect(text);
    for (span, v) in spans.iter().zip(["x y", "a;b", "x"]) {
        layout
            .clear_value(text, span, &Scalar::Str(v.into()), &mut edits)
            .unwrap();
    }
    let out = edits.finish().unwrap().unwrap();
    assert_eq!(out, "a = \"x y\"\nb = `a;b`\nc = x ; c\n");
    assert_eq!(
        layout.decrypted_form(text, &spans[1], &Scalar::Str("a;b".into())),
        Some("`a;b`".into())
    );
}

#[test]
fn a_final_continued_line_without_a_line_break_is_written_afresh() {
    let (_, layout) = parse_ini("a = x \\", "t.ini").unwrap();
    assert!(!layout.can_splice());
    let (_, layout) = parse_ini("a = x \\\n", "t.ini").unwrap();
    assert!(layout.can_splice());
}

#[test]
fn layout_debug_holds_no_text() {
    let (_, layout) = parse_ini("a = hunter2 ; secret note\n", "t.ini").unwrap();
    let shown = format!("{layout:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("secret"),
        "{shown}"
    );
}
