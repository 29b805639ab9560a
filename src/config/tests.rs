use super::*;
use crate::error::code;

const R1: &str = "age13yzgmlhj5hecz56ft6x2ea6tmglqr8l0hs6ykr4qtgpwt7xrffls6rrhfc";
const R2: &str = "age13pxhaxzxejx0vnfa0wtycyq4ca3lvztes0huer7nd8t3cjemqq9snxaz7y";
const R3: &str = "age1wuct5jmlpn42265agx3ly3zfks2ertgp2d7pxcu9kzq7p47j948s0l5m2w";

fn parse(text: &str) -> Result<Config> {
    Config::parse(text, Path::new("/repo/.sops.yaml"))
}

fn rules(text: &str) -> Vec<Rule> {
    parse(text).unwrap().creation_rules.expect("creation_rules")
}

/// The error's place and message; asserts it is a config error with exit code 1.
fn error(text: &str) -> (Option<(usize, usize)>, String) {
    let e = parse(text).expect_err("a malformed config");
    assert_eq!(e.exit_code(), code::GENERIC, "{e}");
    match e {
        Error::Config { file, at, what } => {
            assert_eq!(file, "/repo/.sops.yaml");
            (at.map(|l| (l.line, l.column)), what)
        }
        other => panic!("not a config error: {other}"),
    }
}

fn ids(group: &[KeyRef]) -> Vec<&str> {
    group.iter().map(|k| k.id.as_str()).collect()
}

#[test]
fn clean_resolves_dots_lexically_like_go() {
    assert_eq!(clean(Path::new("/a/b/../c/./d/")), Path::new("/a/c/d"));
    assert_eq!(clean(Path::new("/../x")), Path::new("/x"));
    assert_eq!(clean(Path::new("a/../../b")), Path::new("../b"));
    assert_eq!(
        absolute(Path::new("/w/sub"), Path::new("../f.yaml")),
        Path::new("/w/f.yaml")
    );
    assert_eq!(
        absolute(Path::new("/w"), Path::new("/abs//f")),
        Path::new("/abs/f")
    );
}

#[test]
fn the_search_starts_at_the_working_directory_and_goes_up() {
    let root = tempfile::tempdir().unwrap();
    let top = root.path().canonicalize().unwrap();
    let deep = top.join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(top.join(".sops.yaml"), "").unwrap();
    std::fs::write(top.join("a/.sops.yml"), "").unwrap();

    let (found, ignored) = search(&deep);
    assert_eq!(found, Some(top.join(".sops.yaml")));
    assert_eq!(ignored, Some(top.join("a/.sops.yml")));
    let located = locate(&deep, None, None);
    assert_eq!(located.source, Source::Search);
    let warning = located.warning().unwrap();
    assert!(
        warning.contains(".sops.yml") && warning.contains("using"),
        "{warning}"
    );

    // A nearer .sops.yaml wins.
    std::fs::write(top.join("a/b/.sops.yaml"), "").unwrap();
    assert_eq!(search(&deep).0, Some(deep.join(".sops.yaml")));

    // Through `..` from a directory with none.
    let empty = tempfile::tempdir().unwrap();
    let (none, _) = search(&empty.path().canonicalize().unwrap().join("x/.."));
    // Whatever is above the temp dir, nothing is found inside it.
    assert!(none.is_none_or(|p| !p.starts_with(empty.path())));
}

#[test]
fn config_flag_beats_the_environment_which_beats_the_search() {
    let cwd = Path::new("/w");
    let l = locate(cwd, Some(Path::new("c.yaml")), Some("/env.yaml"));
    assert_eq!(
        (l.path, l.source),
        (Some(PathBuf::from("/w/c.yaml")), Source::Flag)
    );
    let l = locate(cwd, None, Some("/env.yaml"));
    assert_eq!(
        (l.path, l.source),
        (Some(PathBuf::from("/env.yaml")), Source::Env)
    );
    // An empty SOPS_CONFIG is unset, as in sops.
    assert_eq!(locate(cwd, None, Some("")).source, Source::Search);
}

#[test]
fn dev_null_empty_and_comment_only_configs_have_no_rules() {
    assert!(Config::load(Path::new("/dev/null"))
        .unwrap()
        .creation_rules
        .is_none());
    for text in [
        "",
        "# nothing\n\n",
        "---\n# c\n",
        "stores:\n  yaml:\n    indent: 2\n",
    ] {
        assert!(parse(text).unwrap().creation_rules.is_none(), "{text:?}");
    }
    assert!(parse("creation_rules:\n").unwrap().creation_rules.is_none());
    // An empty list is a list: it matches nothing (sops: "no matching creation rules").
    let c = parse("creation_rules: []\n").unwrap();
    assert!(c.find_rule(Path::new("/repo/x.yaml")).rule.is_none());
}

#[test]
fn path_regex_is_an_unanchored_search_on_the_path_relative_to_the_config() {
    let c = parse(&format!(
        "creation_rules:\n  - path_regex: prod/.*\\.yaml$\n    age: {R1}\n  - path_regex: ''\n    age: {R2}\n"
    ))
    .unwrap();
    let m = c.find_rule(Path::new("/repo/env/prod/db.yaml"));
    assert_eq!(m.target, "env/prod/db.yaml");
    assert_eq!(m.rule.unwrap().index, 0);
    // An empty path_regex matches everything; first match wins.
    let m = c.find_rule(Path::new("/repo/dev/db.yaml"));
    assert_eq!(m.rule.unwrap().index, 1);
    // Outside the config's directory the whole absolute path is matched.
    assert_eq!(
        c.target(Path::new("/other/prod/x.yaml")),
        "/other/prod/x.yaml"
    );
    assert_eq!(c.target(Path::new("/repository/x")), "/repository/x");
    // A config at the root: Go's prefix is "//", so nothing is cut.
    let root = Config::parse("", Path::new("/.sops.yaml")).unwrap();
    assert_eq!(root.target(Path::new("/a/b")), "/a/b");
}

#[test]
fn age_keys_as_a_string_or_a_list() {
    let r = rules(&format!(
        "creation_rules:\n  - path_regex: a\n    age: \"{R1}, {R2},\"\n  - path_regex: b\n    age:\n      - {R1}\n      - {R2},{R3}\n"
    ));
    assert_eq!(r[0].key_groups.len(), 1);
    assert_eq!(ids(&r[0].key_groups[0]), [R1, R2]);
    assert_eq!(ids(&r[1].key_groups[0]), [R1, R2, R3]);
    assert!(!r[0].uses_key_groups);
    assert_eq!(r[1].key_groups[0][0].at.as_ref().unwrap().line, 6);
}

#[test]
fn key_groups_merge_dedupe_and_replace_the_flat_keys() {
    let text = format!(
        "keys:\n  - &a {R1}\ncreation_rules:\n  - age: {R3}\n    pgp: ABCDEF\n    shamir_threshold: 2.0\n    key_groups:\n      - age: [*a, {R1}]\n        merge:\n          - age: [{R2}]\n      - age:\n          - {R3}\n        pgp: [FP1]\n"
    );
    let r = rules(&text);
    let rule = &r[0];
    assert!(rule.uses_key_groups && rule.flat_keys_ignored);
    assert_eq!(rule.shamir_threshold, 2);
    assert_eq!(rule.key_groups.len(), 2);
    // merge first, then age; the repeated recipient is dropped.
    assert_eq!(ids(&rule.key_groups[0]), [R2, R1]);
    assert_eq!(ids(&rule.key_groups[1]), [R3, "FP1"]);
    assert_eq!(rule.key_groups[1][1].kind, KeyKind::Pgp);
}

#[test]
fn selection_and_mac_only_encrypted() {
    let r = rules(&format!(
        "creation_rules:\n  - age: {R1}\n    encrypted_regex: ^(data|stringData)$\n    mac_only_encrypted: yes\n  - age: {R1}\n    unencrypted_suffix: ''\n    encrypted_suffix: _enc\n"
    ));
    assert_eq!(
        r[0].selection,
        Some(Selection::EncryptedRegex("^(data|stringData)$".into()))
    );
    assert!(r[0].mac_only_encrypted);
    // An empty option is not set (sops counts only non-empty ones).
    assert_eq!(
        r[1].selection,
        Some(Selection::EncryptedSuffix("_enc".into()))
    );
    assert!(!r[1].mac_only_encrypted);
}

#[test]
fn yaml_merge_keys_in_rules() {
    let r = rules(&format!(
        "base: &base\n  age: {R1}\n  encrypted_regex: ^x$\ncreation_rules:\n  - <<: *base\n    path_regex: a\n    age: {R2}\n"
    ));
    assert_eq!(ids(&r[0].key_groups[0]), [R2]);
    assert_eq!(
        r[0].selection,
        Some(Selection::EncryptedRegex("^x$".into()))
    );
}

#[test]
fn rule_places_are_known_in_block_and_flow_style() {
    let r = rules(&format!(
        "# rules\ncreation_rules:\n  - key_groups:\n      - age: [{R1}]\n  - {{path_regex: x, age: {R2}}}\n"
    ));
    assert_eq!(r[0].at.as_ref().map(|l| (l.line, l.column)), Some((3, 5)));
    assert_eq!(r[1].at.as_ref().map(|l| (l.line, l.column)), Some((5, 6)));
}

#[test]
fn malformed_yaml_is_a_config_error_with_its_place() {
    let (at, what) = error("creation_rules:\n  - age: x\n  bad: [\n");
    assert!(at.is_some(), "{what}");
    assert!(what.starts_with("not valid YAML"), "{what}");
    // Duplicate keys are refused, as go-yaml refuses them.
    let (at, what) = error(&format!("creation_rules:\n  - age: {R1}\n    age: {R2}\n"));
    assert_eq!(at.map(|a| a.0), Some(3), "{what}");
}

#[test]
fn unknown_keys_are_named_with_their_place() {
    let (at, what) = error(&format!(
        "creation_rules:\n  - path_regex: x\n    age: {R1}\n    encrypted-regex: ^a$\n"
    ));
    assert_eq!(at, Some((4, 5)));
    assert!(
        what.contains("creation_rules[0]: unknown key `encrypted-regex`"),
        "{what}"
    );
    assert!(what.contains("did you mean `encrypted_regex`"), "{what}");

    // A key whose value is a collection (its key is found in the text).
    let (at, what) = error(&format!(
        "creation_rules:\n  - age: {R1}\n    keygroups:\n      - age: [{R1}]\n"
    ));
    assert_eq!(at, Some((3, 5)), "{what}");
    assert!(what.contains("unknown key `keygroups`"), "{what}");

    // Inside a key group.
    let (at, what) = error(&format!(
        "creation_rules:\n  - key_groups:\n      - age: [{R1}]\n        agee: []\n"
    ));
    assert_eq!(at, Some((4, 9)), "{what}");
    assert!(
        what.contains("creation_rules[0].key_groups[0]: unknown key `agee`"),
        "{what}"
    );
}

#[test]
fn wrong_types_are_named_with_their_place() {
    let cases: [(&str, (usize, usize), &str); 8] = [
        (
            "creation_rules:\n  - age: x\n    shamir_threshold: \"2\"\n",
            (3, 23),
            "creation_rules[0].shamir_threshold: expected a whole number, 0 or more, found a string",
        ),
        (
            "creation_rules:\n  - shamir_threshold: -1\n",
            (2, 23),
            "expected a whole number",
        ),
        (
            "creation_rules:\n  - mac_only_encrypted: \"true\"\n",
            (2, 25),
            "creation_rules[0].mac_only_encrypted: expected true or false, found a string",
        ),
        (
            "creation_rules:\n  - age: 5\n",
            (2, 10),
            "creation_rules[0].age: expected a string or a list of strings, found an integer",
        ),
        (
            "creation_rules:\n  - age: [x, 5]\n",
            (2, 14),
            "creation_rules[0].age[1]: expected a string, found an integer",
        ),
        (
            "creation_rules: {}\n",
            (1, 1),
            "creation_rules: expected a list of rules, found a map",
        ),
        (
            "creation_rules:\n  - key_groups:\n      - age: x,y\n",
            (3, 14),
            "creation_rules[0].key_groups[0].age: expected a list of strings, found a string",
        ),
        (
            "creation_rules:\n  - path_regex: [a]\n",
            (2, 5),
            "creation_rules[0].path_regex: expected a string, found a list",
        ),
    ];
    for (text, place, message) in cases {
        let (at, what) = error(text);
        assert_eq!(at, Some(place), "{text:?}: {what}");
        assert!(what.contains(message), "{text:?}: {what}");
    }
}

#[test]
fn bad_regexes_are_errors_in_every_rule() {
    // sops compiles only the rules up to the match; sealant checks all of them.
    let (at, what) = error(&format!(
        "creation_rules:\n  - age: {R1}\n  - path_regex: '(['\n    age: {R1}\n"
    ));
    assert_eq!(at, Some((3, 17)));
    assert!(
        what.starts_with("creation_rules[1].path_regex: invalid regular expression"),
        "{what}"
    );
    let (at, what) = error("creation_rules:\n  - encrypted_regex: a(\n");
    assert_eq!(at, Some((2, 22)));
    assert!(
        what.contains("encrypted_regex: invalid regular expression"),
        "{what}"
    );
}

#[test]
fn two_selection_options_in_one_rule() {
    let (at, what) = error(&format!(
        "creation_rules:\n  - age: {R1}\n    unencrypted_suffix: _u\n    encrypted_regex: x\n"
    ));
    assert_eq!(at, Some((4, 5)));
    assert!(what.contains("cannot use more than one of"), "{what}");
    assert!(
        what.contains("`unencrypted_suffix` is already set"),
        "{what}"
    );
}

#[test]
fn rules_needing_other_key_kinds_fail_clearly_when_used() {
    let c = parse(&format!(
        "creation_rules:\n  - path_regex: a\n    pgp: ABCDEF0123\n  - age: {R1}\n"
    ))
    .unwrap();
    let rules = c.creation_rules.as_ref().unwrap();
    // The pgp rule loads fine; it fails only when it is the one used.
    let e = c.master_keys(&rules[0]).map(|_| ()).unwrap_err();
    assert_eq!(e.exit_code(), code::GENERIC);
    let text = e.to_string();
    assert!(
        text.starts_with("/repo/.sops.yaml:3:10: creation_rules[0]"),
        "{text}"
    );
    assert!(
        text.contains("pgp key") && text.contains("age recipients only"),
        "{text}"
    );
    let keys = c.master_keys(&rules[1]).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0][0].recipient(), R1);
}

#[test]
fn a_secret_key_in_a_rule_is_never_echoed() {
    let secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
    let c = parse(&format!("creation_rules:\n  - age: {secret}\n")).unwrap();
    let rule = &c.creation_rules.as_ref().unwrap()[0];
    let e = c.master_keys(rule).map(|_| ()).unwrap_err().to_string();
    assert!(!e.contains(secret), "{e}");
    assert!(e.contains(":2:10:"), "{e}");
    let located = locate(
        Path::new("/repo"),
        Some(Path::new("/repo/.sops.yaml")),
        None,
    );
    let explained = Explanation::new(located, Some(c), Path::new("/repo/x.yaml"), false);
    assert!(!explained.render_text().contains(secret));
    assert!(!explained.render_json().contains(secret));
}

#[test]
fn explain_reports_the_rules_tried_and_the_one_used() {
    let c = parse(&format!(
        "creation_rules:\n  - path_regex: ^prod/\n    age: {R1}\n  - path_regex: ^dev/\n    key_groups:\n      - age: [{R1}]\n      - age: [{R2}]\n      - age: [{R3}]\n    shamir_threshold: 2\n  - age: {R3}\n"
    ))
    .unwrap();
    let located = locate(Path::new("/repo"), Some(Path::new(".sops.yaml")), None);
    let e = Explanation::new(
        located.clone(),
        Some(c.clone()),
        Path::new("/repo/dev/a.yaml"),
        true,
    );
    assert_eq!(
        e.outcomes,
        [
            RuleOutcome::NoMatch,
            RuleOutcome::Matched,
            RuleOutcome::NotTried
        ]
    );
    let text = e.render_text();
    for want in [
        "given by --config",
        "matched as:  \"dev/a.yaml\"",
        "creation_rules[0] (line 2): path_regex \"^prod/\" -> no match",
        "creation_rules[1] (line 4): path_regex \"^dev/\" -> match",
        "creation_rules[2] (line 10): no path_regex (matches every file) -> not tried",
        "3 key groups, Shamir threshold 2: any 2 of the 3 groups",
        "group 2:\n    age age1wuct",
        "selection: unencrypted_suffix \"_unencrypted\" (the default)",
        "SOPS_AGE_RECIPIENTS is set",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    let json = e.render_json();
    assert!(json.contains("\"rule\":1,\"shamir_threshold\":2"), "{json}");
    assert!(json.contains("\"result\":\"not tried\""), "{json}");

    let miss = Explanation::new(located, Some(c), Path::new("/elsewhere/x.yaml"), false);
    assert_eq!(miss.matched, Some(2));
    assert!(miss
        .render_text()
        .contains("the absolute path: the file is outside /repo"));
}
