use super::*;

fn path(p: &str) -> Vec<Step> {
    crate::treepath::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn set_text(format: Format, text: &str, p: &str, value: &str) -> String {
    let value = parse_value(value).unwrap_or_else(|e| panic!("{value}: {e}"));
    let patched = set(format, text.as_bytes(), "t", &path(p), value)
        .unwrap_or_else(|e| panic!("set {p}: {e}"))
        .unwrap_or_else(|| panic!("set {p}: no change"));
    String::from_utf8(patched.text.to_vec()).unwrap()
}

fn unset_text(format: Format, text: &str, p: &str) -> String {
    let patched =
        unset(format, text.as_bytes(), "t", &path(p)).unwrap_or_else(|e| panic!("unset {p}: {e}"));
    String::from_utf8(patched.text.to_vec()).unwrap()
}

fn yset(text: &str, p: &str, value: &str) -> String {
    set_text(Format::Yaml, text, p, value)
}

fn yunset(text: &str, p: &str) -> String {
    unset_text(Format::Yaml, text, p)
}

fn jset(text: &str, p: &str, value: &str) -> String {
    set_text(Format::Json, text, p, value)
}

fn junset(text: &str, p: &str) -> String {
    unset_text(Format::Json, text, p)
}

// ---- YAML: replacing values ----

#[test]
fn yaml_replaced_scalars_keep_their_quoting_and_comments() {
    let text = "a: 'x' # c\nb: \"y\"\nc: plain\nd: 1\n";
    assert_eq!(
        yset(text, r#"["a"]"#, r#""new""#),
        "a: 'new' # c\nb: \"y\"\nc: plain\nd: 1\n"
    );
    assert_eq!(
        yset(text, r#"["b"]"#, r#""n""#),
        "a: 'x' # c\nb: \"n\"\nc: plain\nd: 1\n"
    );
    assert_eq!(
        yset(text, r#"["c"]"#, "5"),
        "a: 'x' # c\nb: \"y\"\nc: 5\nd: 1\n"
    );
    // A string that would read as another type is quoted.
    assert_eq!(
        yset(text, r#"["d"]"#, r#""true""#),
        "a: 'x' # c\nb: \"y\"\nc: plain\nd: \"true\"\n"
    );
    assert_eq!(
        yset(text, r#"["d"]"#, "null"),
        "a: 'x' # c\nb: \"y\"\nc: plain\nd: null\n"
    );
}

#[test]
fn yaml_whole_numbers_are_integers_and_fractions_floats() {
    assert_eq!(yset("a: x\n", r#"["a"]"#, "5.5e3"), "a: 5500\n");
    assert_eq!(yset("a: x\n", r#"["a"]"#, "1.5"), "a: 1.5\n");
}

#[test]
fn yaml_multi_line_strings_become_block_scalars() {
    assert_eq!(
        yset("a:\n  b: x\nc: 1\n", r#"["a"]["b"]"#, r#""l1\nl2""#),
        "a:\n  b: |-\n    l1\n    l2\nc: 1\n"
    );
}

#[test]
fn yaml_an_equal_value_is_no_change() {
    let value = parse_value("1").unwrap();
    let r = set(Format::Yaml, b"a: 1\n", "t", &path(r#"["a"]"#), value).unwrap();
    assert!(r.is_none());
    let value = parse_value(r#"{"x": [1, "y"]}"#).unwrap();
    let r = set(
        Format::Yaml,
        b"a:\n  x: [1, y]\n",
        "t",
        &path(r#"["a"]"#),
        value,
    )
    .unwrap();
    assert!(r.is_none());
}

#[test]
fn yaml_a_scalar_in_the_way_becomes_a_map() {
    assert_eq!(
        yset("a: 1 # c\nb: 2\n", r#"["a"]["x"]"#, "1"),
        "a: # c\n    x: 1\nb: 2\n"
    );
}

#[test]
fn yaml_a_list_item_becomes_a_map_in_compact_form() {
    assert_eq!(
        yset("l:\n  - a\n  - b\n", r#"["l"][0]"#, r#"{"k": 1, "j": 2}"#),
        "l:\n  - k: 1\n    j: 2\n  - b\n"
    );
}

#[test]
fn yaml_a_map_becomes_a_scalar() {
    assert_eq!(
        yset("a:\n  b: 1\n  c: 2\nd: 3\n", r#"["a"]"#, r#""s""#),
        "a: s\nd: 3\n"
    );
}

#[test]
fn yaml_a_flow_collection_stays_flow() {
    assert_eq!(
        yset("a: [1, 2]\n", r#"["a"]"#, r#"{"k": "v"}"#),
        "a: {k: v}\n"
    );
}

// ---- YAML: new keys ----

#[test]
fn yaml_new_key_two_space_nested_value_in_block_style() {
    assert_eq!(
        yset("a:\n  b: 1\nc: 2\n", r#"["a"]["m"]"#, r#"{"x": [1, 2]}"#),
        "a:\n  b: 1\n  m:\n    x:\n      - 1\n      - 2\nc: 2\n"
    );
}

#[test]
fn yaml_new_key_four_spaces() {
    assert_eq!(
        yset("a:\n    b: 1\nc: 2\n", r#"["a"]["m"]"#, r#"{"x": "z"}"#),
        "a:\n    b: 1\n    m:\n        x: z\nc: 2\n"
    );
}

#[test]
fn yaml_new_top_level_key_and_missing_parents() {
    assert_eq!(yset("a: 1\n", r#"["b"]"#, "2"), "a: 1\nb: 2\n");
    assert_eq!(
        yset("a:\n  x: 1\n", r#"["b"]["c"]["d"]"#, "true"),
        "a:\n  x: 1\nb:\n  c:\n    d: true\n"
    );
    // No final line break: one is added before the new line, none after.
    assert_eq!(yset("a: 1", r#"["b"]"#, "2"), "a: 1\nb: 2");
}

#[test]
fn yaml_new_key_crlf() {
    assert_eq!(
        yset("a: 1\r\nb:\r\n  c: 2\r\n", r#"["b"]["d"]"#, r#"{"e": [1]}"#),
        "a: 1\r\nb:\r\n  c: 2\r\n  d:\r\n    e:\r\n      - 1\r\n"
    );
}

#[test]
fn yaml_new_key_in_flow_maps() {
    assert_eq!(
        yset("f: {x: 1}\n", r#"["f"]["y"]"#, r#""v w""#),
        "f: {x: 1, y: v w}\n"
    );
    assert_eq!(
        yset("f: {x: 1}\n", r#"["f"]["y"]"#, r#"{"a": [1, "b,c"]}"#),
        "f: {x: 1, y: {a: [1, 'b,c']}}\n"
    );
    assert_eq!(yset("{a: 1}\n", r#"["b"]"#, "2"), "{a: 1, b: 2}\n");
}

#[test]
fn yaml_new_key_into_an_empty_map_is_block() {
    assert_eq!(
        yset("a:\n  b: {}\n", r#"["a"]["b"]["c"]"#, "1"),
        "a:\n  b:\n    c: 1\n"
    );
    assert_eq!(yset("{}\n", r#"["a"]"#, "1"), "a: 1\n");
}

#[test]
fn yaml_new_key_after_a_block_scalar_last_entry() {
    assert_eq!(
        yset("a:\n  s: |\n    line\n\nb: 1\n", r#"["a"]["t"]"#, "1"),
        "a:\n  s: |\n    line\n  t: 1\n\nb: 1\n"
    );
}

#[test]
fn yaml_new_key_before_comments_after_the_last_entry() {
    assert_eq!(
        yset(
            "a:\n  x: 1 # own\n  # trailing\nb: 2\n",
            r#"["a"]["w"]"#,
            "2"
        ),
        "a:\n  x: 1 # own\n  w: 2\n  # trailing\nb: 2\n"
    );
}

#[test]
fn yaml_new_key_after_comments_of_the_nested_block_it_follows() {
    assert_eq!(
        yset(
            "a:\n  b:\n    c: 1\n    # about c\n  # foot\nx: 1\n",
            r#"["a"]["d"]"#,
            "2"
        ),
        "a:\n  b:\n    c: 1\n    # about c\n  d: 2\n  # foot\nx: 1\n"
    );
    assert_eq!(
        yset("l:\n  - k: 1\n    # in item\nx: 1\n", r#"["l"][1]"#, "2"),
        "l:\n  - k: 1\n    # in item\n  - 2\nx: 1\n"
    );
}

#[test]
fn yaml_new_keys_are_quoted_when_needed() {
    assert_eq!(yset("a: 1\n", r#"["n"]"#, "1"), "a: 1\n\"n\": 1\n");
    assert_eq!(yset("a: 1\n", r#"["x: y"]"#, "1"), "a: 1\n'x: y': 1\n");
}

#[test]
fn yaml_new_key_goes_into_the_first_document_only() {
    assert_eq!(
        yset("a: 1\n---\nb: 2\n", r#"["c"]"#, "3"),
        "a: 1\nc: 3\n---\nb: 2\n"
    );
}

// ---- YAML: lists ----

#[test]
fn yaml_append_to_lists() {
    // An index at or past the end appends, as in sops.
    assert_eq!(
        yset("k:\n  - a\n  - b\nz: 1\n", r#"["k"][9]"#, r#""c""#),
        "k:\n  - a\n  - b\n  - c\nz: 1\n"
    );
    // Not indented.
    assert_eq!(
        yset("k:\n- a\n- b\nz: 1\n", r#"["k"][2]"#, r#"{"m": 1, "o": 2}"#),
        "k:\n- a\n- b\n- m: 1\n  o: 2\nz: 1\n"
    );
    assert_eq!(yset("k: [a]\n", r#"["k"][1]"#, r#""b""#), "k: [a, b]\n");
    assert_eq!(yset("k: []\n", r#"["k"][0]"#, r#""b""#), "k:\n    - b\n");
}

#[test]
fn yaml_list_indexes_skip_comments() {
    assert_eq!(
        yset("l:\n  # c\n  - a\n  - b\n", r#"["l"][1]"#, r#""x""#),
        "l:\n  # c\n  - a\n  - x\n"
    );
}

// ---- YAML: unset ----

#[test]
fn yaml_unset_removes_the_entry_lines_and_its_own_comment() {
    let text = "a: 1 # c\n# head b\nb:\n  c: 2\n  d: 3\ne: 4 # e\n";
    assert_eq!(yunset(text, r#"["b"]"#), "a: 1 # c\n# head b\ne: 4 # e\n");
    assert_eq!(
        yunset(text, r#"["e"]"#),
        "a: 1 # c\n# head b\nb:\n  c: 2\n  d: 3\n"
    );
    assert_eq!(
        yunset(text, r#"["b"]["c"]"#),
        "a: 1 # c\n# head b\nb:\n  d: 3\ne: 4 # e\n"
    );
    let once = yunset(text, r#"["b"]["c"]"#);
    assert_eq!(
        yunset(&once, r#"["b"]["d"]"#),
        "a: 1 # c\n# head b\nb: {}\ne: 4 # e\n"
    );
}

#[test]
fn yaml_unset_block_scalars_and_nested_blocks() {
    assert_eq!(yunset("a: |\n  x\n  y\n\nb: 1\n", r#"["a"]"#), "\nb: 1\n");
}

#[test]
fn yaml_unset_list_items() {
    assert_eq!(yunset("l:\n  - a\n  - b\n", r#"["l"][0]"#), "l:\n  - b\n");
    assert_eq!(yunset("l:\n  - a\n", r#"["l"][0]"#), "l: []\n");
    assert_eq!(yunset("l: [a, b, c]\n", r#"["l"][1]"#), "l: [a, c]\n");
    assert_eq!(yunset("l: [a, b, c]\n", r#"["l"][2]"#), "l: [a, b]\n");
    assert_eq!(yunset("l: [a]\n", r#"["l"][0]"#), "l: []\n");
    assert_eq!(
        yunset("l:\n  - k: 1\n    j: 2\n", r#"["l"][0]["k"]"#),
        "l:\n  - j: 2\n"
    );
}

#[test]
fn yaml_unset_the_last_key_leaves_an_empty_map() {
    assert_eq!(yunset("# c\na: 1\n", r#"["a"]"#), "# c\n{}\n");
    assert_eq!(yunset("f: {x: 1, y: 2}\n", r#"["f"]["x"]"#), "f: {y: 2}\n");
}

#[test]
fn yaml_unset_crlf() {
    assert_eq!(yunset("a: 1\r\nb: 2\r\n", r#"["a"]"#), "b: 2\r\n");
}

#[test]
fn missing_keys_and_wrong_kinds_are_errors_without_values() {
    let err = unset(Format::Yaml, b"a: hunter2\n", "t", &path(r#"["b"]"#)).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    assert!(err.to_string().contains("Key not found: b"), "{err}");
    let err = unset(Format::Yaml, b"l: [hunter2]\n", "t", &path(r#"["l"][3]"#)).unwrap_err();
    assert!(err.to_string().contains("Index 3 out of bounds"), "{err}");
    let err = unset(Format::Yaml, b"a: hunter2\n", "t", &path(r#"["a"]["x"]"#)).unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let value = parse_value("1").unwrap();
    let err = set(
        Format::Yaml,
        b"l: [hunter2]\n",
        "t",
        &path(r#"["l"]["k"]"#),
        value,
    )
    .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(matches!(err, Error::Usage(_)), "{err}");
    let value = parse_value("1").unwrap();
    let err = set(Format::Yaml, b"a: 1\n", "t", &path(r#"["sops"]"#), value).unwrap_err();
    assert_eq!(err.exit_code(), 1);
}

#[test]
fn values_are_json_and_errors_never_quote_them() {
    for bad in [
        "hunter2",
        "{\"a\": hunter2}",
        "1, 2",
        "\"x\"}, {\"y\": 1",
        "",
        "{\"a\": 1, \"a\": 2}",
    ] {
        let err = parse_value(bad).unwrap_err();
        assert_eq!(err.exit_code(), 7, "{bad}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
    assert!(matches!(
        parse_value(" 5 ").unwrap(),
        Node::Scalar(Leaf {
            value: Scalar::Int(5),
            ..
        })
    ));
}

// ---- JSON ----

#[test]
fn json_new_member_with_tabs() {
    let text = "{\n\t\"a\": 1,\n\t\"b\": {\n\t\t\"c\": 2\n\t}\n}\n";
    assert_eq!(
        jset(text, r#"["b"]["d"]"#, "[1, 2]"),
        "{\n\t\"a\": 1,\n\t\"b\": {\n\t\t\"c\": 2,\n\t\t\"d\": [\n\t\t\t1,\n\t\t\t2\n\t\t]\n\t}\n}\n"
    );
    assert_eq!(
        jset(text, r#"["e"]"#, r#""x""#),
        "{\n\t\"a\": 1,\n\t\"b\": {\n\t\t\"c\": 2\n\t},\n\t\"e\": \"x\"\n}\n"
    );
}

#[test]
fn json_new_member_with_two_spaces_and_crlf() {
    let text = "{\r\n  \"a\": 1\r\n}\r\n";
    assert_eq!(
        jset(text, r#"["b"]"#, r#"{"x": true}"#),
        "{\r\n  \"a\": 1,\r\n  \"b\": {\r\n    \"x\": true\r\n  }\r\n}\r\n"
    );
}

#[test]
fn json_one_line_objects_stay_on_one_line() {
    assert_eq!(
        jset(r#"{"a": 1, "b": 2}"#, r#"["c"]"#, r#"{"d": [1]}"#),
        r#"{"a": 1, "b": 2, "c": {"d": [1]}}"#
    );
    assert_eq!(jset(r#"{"a":1}"#, r#"["c"]"#, "3"), r#"{"a":1,"c":3}"#);
}

#[test]
fn json_empty_objects_and_arrays() {
    assert_eq!(jset("{}\n", r#"["a"]"#, "1"), "{\n\t\"a\": 1\n}\n");
    assert_eq!(
        jset("{\n  \"e\": {}\n}\n", r#"["e"]["k"]"#, r#""v""#),
        "{\n  \"e\": {\n    \"k\": \"v\"\n  }\n}\n"
    );
    assert_eq!(
        jset("{\n  \"e\": []\n}\n", r#"["e"][0]"#, "1"),
        "{\n  \"e\": [\n    1\n  ]\n}\n"
    );
    assert_eq!(
        jset(r#"{"e": {}}"#, r#"["e"]["k"]"#, "1"),
        r#"{"e": {"k": 1}}"#
    );
}

#[test]
fn json_replace_and_append() {
    let text = "{\n  \"a\": \"x\",\n  \"l\": [1, 2]\n}\n";
    assert_eq!(
        jset(text, r#"["a"]"#, "null"),
        "{\n  \"a\": null,\n  \"l\": [1, 2]\n}\n"
    );
    assert_eq!(
        jset(text, r#"["l"][5]"#, "3"),
        "{\n  \"a\": \"x\",\n  \"l\": [1, 2, 3]\n}\n"
    );
    assert_eq!(
        jset(text, r#"["a"]"#, r#"{"k": 1}"#),
        "{\n  \"a\": {\n    \"k\": 1\n  },\n  \"l\": [1, 2]\n}\n"
    );
}

#[test]
fn json_unset() {
    let text = "{\n\t\"a\": 1,\n\t\"b\": 2,\n\t\"c\": 3\n}\n";
    assert_eq!(junset(text, r#"["a"]"#), "{\n\t\"b\": 2,\n\t\"c\": 3\n}\n");
    assert_eq!(junset(text, r#"["b"]"#), "{\n\t\"a\": 1,\n\t\"c\": 3\n}\n");
    assert_eq!(junset(text, r#"["c"]"#), "{\n\t\"a\": 1,\n\t\"b\": 2\n}\n");
    assert_eq!(junset("{\n\t\"a\": 1\n}\n", r#"["a"]"#), "{}\n");
    assert_eq!(junset(r#"{"l": [1, 2]}"#, r#"["l"][0]"#), r#"{"l": [2]}"#);
}

#[test]
fn removed_list_items_are_reported() {
    let p = unset(
        Format::Yaml,
        b"l:\n  - a\n  - b\n",
        "t",
        &path(r#"["l"][0]"#),
    )
    .unwrap();
    assert_eq!(p.removed_item, Some((vec![Step::Key("l".into())], 0)));
}

#[test]
fn binary_files_set_data_only() {
    let value = parse_value(r#""new""#).unwrap();
    let p = set(Format::Binary, b"old", "t", &path(r#"["data"]"#), value)
        .unwrap()
        .unwrap();
    assert_eq!(&p.text[..], b"new");
    let value = parse_value(r#""x""#).unwrap();
    assert!(set(Format::Binary, b"x", "t", &path(r#"["data"]"#), value)
        .unwrap()
        .is_none());
    let value = parse_value("1").unwrap();
    assert!(set(Format::Binary, b"x", "t", &path(r#"["data"]"#), value).is_err());
    let value = parse_value(r#""x""#).unwrap();
    assert!(set(Format::Binary, b"x", "t", &path(r#"["other"]"#), value).is_err());
}

// ---- every place of every corpus file ----

/// Every path of a document (maps and lists included).
fn all_paths(node: &Node, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match node {
        Node::Map(items) => {
            for i in items {
                if let Item::Entry { key, value } = i {
                    prefix.push(Step::Key(key.clone()));
                    out.push(prefix.clone());
                    all_paths(value, prefix, out);
                    prefix.pop();
                }
            }
        }
        Node::List(items) => {
            let nodes = items.iter().filter_map(|i| match i {
                ListItem::Node(n) => Some(n),
                ListItem::Comment(_) => None,
            });
            for (n, value) in nodes.enumerate() {
                prefix.push(Step::Index(n));
                out.push(prefix.clone());
                all_paths(value, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// Replaces, adds next to and removes every value of every corpus file: each change
/// must be made (the result is checked by re-reading inside `set`/`unset`), except where
/// a YAML alias shares the value.
#[test]
fn every_place_of_the_corpus_can_be_changed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus");
    let mut done = 0;
    let mut refused = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().path();
        let format = match file.extension().and_then(|e| e.to_str()) {
            Some("yaml") => Format::Yaml,
            Some("json") => Format::Json,
            _ => continue,
        };
        let bytes = std::fs::read(&file).unwrap();
        let source = store::parse(format, &bytes, "t", Stage::Plain).unwrap();
        let root = Node::Map(source.parsed.docs[0].items.clone());
        let mut paths = Vec::new();
        all_paths(&root, &mut Vec::new(), &mut paths);
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        for p in paths {
            let node = crate::treepath::lookup(&source.parsed.docs[0], &p).unwrap();
            let mut ops: Vec<(String, Result<Option<Patched>>)> = vec![
                (
                    "set string".into(),
                    set(format, &bytes, "t", &p, parse_value(r#""sweep""#).unwrap()),
                ),
                (
                    "set map".into(),
                    set(
                        format,
                        &bytes,
                        "t",
                        &p,
                        parse_value(r#"{"k": [1, "v"]}"#).unwrap(),
                    ),
                ),
                ("unset".into(), unset(format, &bytes, "t", &p).map(Some)),
            ];
            let mut deeper = p.clone();
            match node {
                Node::Map(_) => deeper.push(Step::Key("sweep_new".into())),
                Node::List(_) => deeper.push(Step::Index(usize::MAX)),
                _ => {}
            }
            if deeper.len() > p.len() {
                let value = parse_value(r#"{"k": "v", "l": [true]}"#).unwrap();
                ops.push(("add".into(), set(format, &bytes, "t", &deeper, value)));
            }
            for (what, r) in ops {
                done += 1;
                match r {
                    Ok(_) => {}
                    Err(e) if e.to_string().contains("anchors and aliases") => refused += 1,
                    Err(e) => failures.push(format!("{name} {} {what}: {e}", display_path(&p))),
                }
            }
        }
    }
    assert!(done > 1000, "{done}");
    // Only the two files with anchors have refused changes.
    assert!(refused < done / 10, "{refused} of {done}");
    eprintln!("{done} changes, {refused} refused for aliases");
    assert!(
        failures.is_empty(),
        "{} of {done} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn yaml_empty_values_at_the_end_of_a_map() {
    assert_eq!(
        yset("on:\n  push:\n  dispatch:\nx: 1\n", r#"["on"]"#, r#""s""#),
        "on: s\nx: 1\n"
    );
    assert_eq!(yunset("v:\n  a:\n  b:\n", r#"["v"]["b"]"#), "v:\n  a:\n");
    assert_eq!(yset("v:\n  a:\n", r#"["v"]["a"]"#, "1"), "v:\n  a: 1\n");
}

#[test]
fn yaml_changes_that_would_reach_alias_copies_are_refused() {
    let text = "base: &b\n  k: 1\nuse: *b\nother: 2\n";
    for (p, value) in [
        (r#"["base"]["k"]"#, Some("2")),
        (r#"["base"]"#, Some("3")),
        (r#"["base"]["n"]"#, Some("1")),
        (r#"["use"]["k"]"#, Some("2")),
        (r#"["base"]"#, None),
    ] {
        let r = match value {
            Some(v) => set(
                Format::Yaml,
                text.as_bytes(),
                "t",
                &path(p),
                parse_value(v).unwrap(),
            )
            .map(|_| ()),
            None => unset(Format::Yaml, text.as_bytes(), "t", &path(p)).map(|_| ()),
        };
        let err = r.unwrap_err();
        assert!(
            err.to_string().contains("anchors and aliases"),
            "{p}: {err}"
        );
        assert_eq!(err.exit_code(), 1);
    }
    // Elsewhere, and removing the alias itself, are fine.
    assert_eq!(
        yset(text, r#"["other"]"#, "3"),
        "base: &b\n  k: 1\nuse: *b\nother: 3\n"
    );
    assert_eq!(yunset(text, r#"["use"]"#), "base: &b\n  k: 1\nother: 2\n");
}

// ---- dotenv, INI, TOML: every change to every corpus file re-reads as planned ----

/// As `every_place_of_the_corpus_can_be_changed`, for the corpora in subdirectories:
/// each change is made (and re-read inside `set`/`unset`), or refused as what the format
/// cannot hold there (exit 4), never an internal error.
#[test]
fn every_change_to_the_flat_and_toml_corpus_reads_back_as_planned() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus");
    let (mut done, mut refused) = (0, 0);
    let mut failures = Vec::new();
    for (dir, format) in [
        ("dotenv", Format::Dotenv),
        ("ini", Format::Ini),
        ("toml", Format::Toml),
    ] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let file = entry.unwrap().path();
            if !file.is_file() || file.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let bytes = std::fs::read(&file).unwrap();
            let source = store::parse(format, &bytes, "t", Stage::Plain).unwrap();
            let doc = &source.parsed.docs[0];
            let mut paths = vec![Vec::new()];
            all_paths(&Node::Map(doc.items.clone()), &mut Vec::new(), &mut paths);
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            for p in paths {
                let node = if p.is_empty() {
                    Node::Map(Vec::new())
                } else {
                    // A section named twice (INI): the path reaches the first one only.
                    match crate::treepath::lookup(doc, &p) {
                        Some(n) => n.clone(),
                        None => continue,
                    }
                };
                let value = |json: &str| parse_value(json).unwrap();
                let mut ops: Vec<(&str, Vec<Step>, Option<Node>)> = Vec::new();
                if !p.is_empty() {
                    ops.push(("set string", p.clone(), Some(value(r#""sweep""#))));
                    ops.push((
                        "set map",
                        p.clone(),
                        Some(value(r#"{"k": "v", "t": {"u": 1}}"#)),
                    ));
                    ops.push(("unset", p.clone(), None));
                }
                let mut deeper = p.clone();
                match node {
                    Node::Map(_) => deeper.push(Step::Key("sweep new".into())),
                    Node::List(_) => deeper.push(Step::Index(usize::MAX)),
                    _ => {}
                }
                if deeper.len() > p.len() {
                    ops.push(("add string", deeper.clone(), Some(value(r#""v""#))));
                    ops.push((
                        "add map",
                        deeper.clone(),
                        Some(value(r#"{"k": "v", "t": {"u": [1]}}"#)),
                    ));
                    ops.push((
                        "add tables",
                        deeper.clone(),
                        Some(value(r#"[{"k": "v"}, {"k": "w"}]"#)),
                    ));
                }
                for (what, at, v) in ops {
                    done += 1;
                    let r = match v {
                        Some(v) => set(format, &bytes, "t", &at, v).map(|_| ()),
                        None => unset(format, &bytes, "t", &at).map(|_| ()),
                    };
                    match r {
                        Ok(()) => {}
                        Err(Error::Emit { .. }) => refused += 1,
                        Err(e) => {
                            failures.push(format!("{name} {} {what}: {e}", display_path(&at)))
                        }
                    }
                }
            }
        }
    }
    eprintln!("{done} changes, {refused} refused as what the format cannot hold");
    assert!(done > 1000, "{done}");
    assert!(
        failures.is_empty(),
        "{} of {done} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
