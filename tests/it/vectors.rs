//! Files written by the real sops 3.11.0 (testdata/vectors) decrypt with sealant to
//! exactly what `sops decrypt` prints, with every identity that should work; the others
//! fail with sops's exit codes.

use crate::support::*;

/// (encrypted file, expected output, identity sets that must work, identities that must fail)
type Case = (
    &'static str,
    &'static str,
    &'static [&'static [u8]],
    &'static [u8],
);

const CASES: &[Case] = &[
    ("enc/simple.yaml", "expected/simple.yaml", &[&[1]], &[2, 3]),
    (
        "enc/yaml_types.yaml",
        "expected/yaml_types.yaml",
        &[&[1]],
        &[2],
    ),
    (
        "enc/yaml_comments.yaml",
        "expected/yaml_comments.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/yaml_multidoc.yaml",
        "expected/yaml_multidoc.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/yaml_anchors.yaml",
        "expected/yaml_anchors.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/yaml_numbers.yaml",
        "expected/yaml_numbers.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/yaml_empty_values.yaml",
        "expected/yaml_empty_values.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/yaml_indent2.yaml",
        "expected/yaml_indent2.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/json_types.json",
        "expected/json_types.json",
        &[&[1]],
        &[3],
    ),
    (
        "enc/json_empty_object.json",
        "expected/json_empty_object.json",
        &[&[1]],
        &[],
    ),
    (
        "enc/json_indent2.json",
        "expected/json_indent2.json",
        &[&[1]],
        &[],
    ),
    (
        "enc/convert_json_to_yaml.yaml",
        "expected/convert_json_to_yaml.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/convert_yaml_to_json.json",
        "expected/convert_yaml_to_json.json",
        &[&[1]],
        &[],
    ),
    (
        "enc/sel_default.yaml",
        "expected/sel_default.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/sel_unencrypted_suffix.yaml",
        "expected/sel_unencrypted_suffix.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/sel_custom_suffix.yaml",
        "expected/sel_custom_suffix.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/sel_encrypted_suffix.yaml",
        "expected/sel_encrypted_suffix.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/sel_unencrypted_regex.yaml",
        "expected/sel_unencrypted_regex.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/sel_encrypted_regex.yaml",
        "expected/sel_encrypted_regex.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/sel_encrypted_comment_regex.yaml",
        "expected/sel_encrypted_comment_regex.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/sel_unencrypted_comment_regex.yaml",
        "expected/sel_unencrypted_comment_regex.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/mac_only_encrypted.yaml",
        "expected/mac_only_encrypted.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/mac_only_encrypted_regex.yaml",
        "expected/mac_only_encrypted_regex.yaml",
        &[&[1]],
        &[],
    ),
    (
        "enc/two_recipients.yaml",
        "expected/two_recipients.yaml",
        &[&[1], &[2]],
        &[3],
    ),
    (
        "enc/rules_list.yaml",
        "expected/rules_list.yaml",
        &[&[1], &[2]],
        &[3],
    ),
    (
        "enc/rules_string.yaml",
        "expected/rules_string.yaml",
        &[&[1], &[2]],
        &[3],
    ),
    (
        "enc/rules_fallback.yaml",
        "expected/rules_fallback.yaml",
        &[&[3]],
        &[1],
    ),
    (
        "enc/shamir_2of3.yaml",
        "expected/shamir_2of3.yaml",
        &[&[1, 2], &[1, 3], &[2, 3], &[1, 2, 3]],
        &[1, 2, 3],
    ),
    (
        "enc/shamir_2of3.json",
        "expected/shamir_2of3.json",
        &[&[1, 2], &[1, 3], &[2, 3]],
        &[1, 2, 3],
    ),
    (
        "static/pgp_and_age.yaml",
        "static/expected/pgp_and_age.yaml",
        &[&[1]],
        &[2],
    ),
    (
        "neg/tamper_base.yaml",
        "expected/tamper_base.yaml",
        &[&[1]],
        &[],
    ),
    (
        "neg/lastmodified_plus0000_ok.yaml",
        "expected/tamper_base.yaml",
        &[&[1]],
        &[],
    ),
    (
        "handmade/hand.yaml",
        "handmade/expected/hand.yaml",
        &[&[1]],
        &[],
    ),
    (
        "handmade/hand.json",
        "handmade/expected/hand.json",
        &[&[1]],
        &[],
    ),
    (
        "handmade/hand_shamir.yaml",
        "handmade/expected/hand_shamir.yaml",
        &[&[1, 2], &[2, 3]],
        &[2],
    ),
];

/// `SOPS_AGE_KEY` holding the given identities.
fn identities(ns: &[u8]) -> String {
    ns.iter()
        .map(|n| String::from_utf8(read(key_file(*n))).expect("utf-8 key"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_sops_vector_decrypts_to_the_expected_bytes() {
    for (file, expected, works, fails) in CASES {
        let expected = read(vector(expected));
        for set in *works {
            let out = sealant()
                .args(["decrypt".into(), vector(file).into_os_string()])
                .env("SOPS_AGE_KEY", identities(set))
                .run();
            assert_eq!(
                out.code, 0,
                "{file} with identities {set:?}: {}",
                out.stderr
            );
            assert_same(&out.stdout, &expected, &format!("{file} with {set:?}"));
        }
        for n in *fails {
            let out = sealant()
                .args(["decrypt".into(), vector(file).into_os_string()])
                .key(*n)
                .fails_with(128);
            assert!(
                out.stderr.contains("age1"),
                "{file}: the error lists the recipients: {}",
                out.stderr
            );
        }
    }
}

#[test]
fn legacy_flags_decrypt_too() {
    let out = sealant()
        .args(["-d".into(), vector("enc/simple.yaml").into_os_string()])
        .key(1)
        .succeeds();
    assert_same(
        &out.stdout,
        &read(vector("expected/simple.yaml")),
        "sops -d",
    );
}

#[test]
fn derived_outputs_match_sops() {
    let types = vector("enc/yaml_types.yaml");
    let cases: &[(&[&str], &str)] = &[
        (&["--output-type", "json"], "expected/yaml_types.as.json"),
        (
            &["--extract", r#"["nested"]["level2"]["level3"]"#],
            "expected/yaml_types.extract_level3.txt",
        ),
        (
            &["--extract", r#"["nested"]["list"]"#],
            "expected/yaml_types.extract_list.yaml",
        ),
        (
            &["--extract", r#"["integer"]"#],
            "expected/yaml_types.extract_integer.yaml",
        ),
        (
            &["--extract", r#"["integer"]"#, "--output-type", "json"],
            "expected/yaml_types.extract_integer.json",
        ),
    ];
    for (flags, expected) in cases {
        let out = sealant()
            .arg("decrypt")
            .args(flags.iter().copied())
            .arg(&types)
            .key(1)
            .succeeds();
        assert_same(&out.stdout, &read(vector(expected)), expected);
    }
}

/// sops writes `k: {} # c` as `k: {` / `    #ENC[...]` / `}`, a layout go-yaml reads
/// (dropping the comment) but that is not valid YAML; sealant reads it and keeps the
/// comment, in the map.
#[test]
fn an_empty_map_holding_a_comment_as_sops_writes_it_decrypts() {
    let Some(sops) = sops() else { return };
    let dir = scratch();
    let plain = dir.path().join("m.yaml");
    std::fs::write(&plain, "a: 1\nt: {} # note\nm:\n    u: {} # deeper\nz: 2\n").unwrap();
    let enc = sops
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&plain)
        .succeeds()
        .stdout_str();
    assert!(enc.contains("t: {\n    #ENC["), "{enc}");
    let enc_file = dir.path().join("m.enc.yaml");
    std::fs::write(&enc_file, &enc).unwrap();
    let out = sealant().arg("decrypt").arg(&enc_file).key(1).succeeds();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert_same(
        &out.stdout,
        b"a: 1\nt: {\n    # note\n    }\nm:\n    u: {\n        # deeper\n        }\nz: 2\n",
        "sops file with comments in empty maps",
    );
}

#[test]
fn tampering_fails_with_sops_exit_codes() {
    // (file, exit code, exit code with --ignore-mac)
    let cases = [
        ("neg/mac_mismatch_unencrypted_changed.yaml", 51, 0),
        ("neg/swapped_values.yaml", 25, 25),
        ("neg/reordered_keys.yaml", 51, 0),
        ("neg/lastmodified_changed.yaml", 51, 0),
        ("neg/empty_mac.yaml", 51, 0),
        ("neg/not_encrypted.yaml", 1, 1),
    ];
    for (file, code, ignoring) in cases {
        let path = vector(file);
        let out = sealant().arg("decrypt").arg(&path).key(1).fails_with(code);
        assert!(
            out.stdout.is_empty(),
            "{file}: nothing is printed on failure"
        );
        sealant()
            .args(["decrypt", "--ignore-mac"])
            .arg(&path)
            .key(1)
            .fails_with(ignoring);
    }
}

#[test]
fn encrypting_an_encrypted_file_is_refused() {
    sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(vector("neg/tamper_base.yaml"))
        .fails_with(203);
}

#[test]
fn a_missing_file_is_exit_100() {
    let out = sealant()
        .args(["decrypt", "does-not-exist.yaml"])
        .key(1)
        .fails_with(100);
    assert!(out.stderr.contains("does-not-exist.yaml"), "{}", out.stderr);
}

#[test]
fn extract_errors_use_sops_codes() {
    let file = vector("enc/yaml_types.yaml");
    // A malformed path: 91, before any key is needed.
    for bad in ["nested", r#"["nested""#, "[x]"] {
        let out = sealant()
            .args(["decrypt", "--extract", bad])
            .arg(&file)
            .fails_with(91);
        assert!(out.stdout.is_empty());
    }
    // A path that is not in the file: 1, nothing printed.
    let out = sealant()
        .args(["decrypt", "--extract", r#"["nested"]["nope"]"#])
        .arg(&file)
        .key(1)
        .fails_with(1);
    assert!(
        out.stdout.is_empty() && out.stderr.contains("--extract"),
        "{}",
        out.stderr
    );
}
