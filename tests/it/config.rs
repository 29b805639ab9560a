//! `.sops.yaml`: discovery, creation rules, precedence of the command line, key groups
//! with Shamir written by sealant and read by the real sops, and `config explain`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::*;

const SECRET: &str = "S3CRET-config-do-not-print";

fn plain() -> String {
    format!("user: admin\npassword: {SECRET}\nport: 5432\n")
}

/// The real sops without `--config /dev/null`: it searches or takes `--config` itself.
fn sops_raw() -> Option<Run> {
    reference_tool("sops").map(Run::program)
}

/// A scratch repository: `.sops.yaml` at its top, `plain()` at each of `files`.
fn repo_with(config: &str, files: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = scratch();
    let top = dir.path().canonicalize().expect("canonical temp dir");
    fs::write(top.join(".sops.yaml"), config).unwrap();
    for f in files {
        let path = top.join(f);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, plain()).unwrap();
    }
    (dir, top)
}

/// A file holding the identities `ns`, for `SOPS_AGE_KEY_FILE`.
fn key_set(dir: &Path, ns: &[u8]) -> PathBuf {
    let name: String = ns.iter().map(|n| n.to_string()).collect();
    let path = dir.join(format!("keys-{name}.txt"));
    let text: Vec<String> = ns
        .iter()
        .map(|n| String::from_utf8(read(key_file(*n))).unwrap())
        .collect();
    fs::write(&path, text.join("\n")).unwrap();
    path
}

/// The `sops:` block of an encrypted YAML text, line by line without indentation and
/// without the `enc`/`mac`/time lines, so that files from two tools can be compared
/// field by field (sealant indents the block like the user's file).
fn metadata_shape(text: &str) -> Vec<String> {
    let start = text.find("\nsops:\n").expect("a sops block");
    text[start + 1..]
        .lines()
        .map(str::trim)
        .filter(|t| {
            let armor_body = !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='));
            !(t.starts_with("enc:")
                || t.starts_with("mac:")
                || t.starts_with("lastmodified:")
                || t.starts_with("sealant_")
                || t.starts_with("-----")
                || armor_body)
        })
        .map(str::to_string)
        .collect()
}

fn three_groups(threshold: Option<usize>) -> String {
    let t = threshold.map_or(String::new(), |t| format!("    shamir_threshold: {t}\n"));
    format!(
        "creation_rules:\n  - path_regex: secrets/\n{t}    key_groups:\n      - age:\n          - {}\n      - age:\n          - {}\n      - age:\n          - {}\n",
        recipient(1),
        recipient(2),
        recipient(3)
    )
}

#[test]
fn encrypt_uses_the_matching_rule_found_from_the_working_directory() {
    let config = format!(
        "keys:\n  - &ops {}\ncreation_rules:\n  - path_regex: ^prod/\n    age: [*ops]\n    encrypted_regex: ^password$\n    mac_only_encrypted: true\n  - age: \"{}, {}\"\n",
        recipient(1),
        recipient(2),
        recipient(3)
    );
    let (_dir, top) = repo_with(&config, &["prod/db.yaml", "dev/db.yaml"]);
    // Run from a subdirectory: the config is found in the parent, and the path matched
    // is relative to the config's directory.
    let out = sealant()
        .dir(top.join("prod"))
        .args(["encrypt", "db.yaml"])
        .succeeds()
        .stdout_str();
    assert!(
        out.contains("user: admin\n"),
        "only password is encrypted:\n{out}"
    );
    assert!(out.contains("encrypted_regex: ^password$"), "{out}");
    assert!(out.contains("mac_only_encrypted: true"), "{out}");
    assert!(out.contains(&recipient(1)) && !out.contains(&recipient(2)));
    let back = sealant()
        .args(["decrypt", "--input-type", "yaml"])
        .key(1)
        .stdin(out)
        .succeeds();
    assert_eq!(back.stdout_str(), plain());

    // The fallback rule for the other file: two recipients, the default selection.
    let out = sealant()
        .dir(&top)
        .args(["encrypt", "dev/db.yaml"])
        .succeeds()
        .stdout_str();
    assert!(
        out.contains(&recipient(2)) && out.contains(&recipient(3)),
        "{out}"
    );
    assert!(out.contains("unencrypted_suffix: _unencrypted"), "{out}");

    // The legacy flag style uses the rules too, and stdin with --filename-override.
    let legacy = sealant()
        .dir(&top)
        .args(["-e", "prod/db.yaml"])
        .succeeds()
        .stdout_str();
    assert!(legacy.contains("encrypted_regex: ^password$"), "{legacy}");
    let piped = sealant()
        .dir(&top)
        .args(["encrypt", "--filename-override", "prod/x.yaml"])
        .stdin(plain())
        .succeeds()
        .stdout_str();
    assert!(piped.contains("encrypted_regex: ^password$"), "{piped}");

    // sops reads what sealant wrote from the rules, and writes the same metadata.
    let Some(sops) = sops_raw() else { return };
    let theirs = sops
        .dir(top.join("prod"))
        .args(["encrypt", "db.yaml"])
        .succeeds()
        .stdout_str();
    let ours = sealant()
        .dir(top.join("prod"))
        .args(["encrypt", "db.yaml"])
        .succeeds()
        .stdout_str();
    assert_eq!(metadata_shape(&ours), metadata_shape(&theirs));
}

#[test]
fn the_config_is_searched_from_the_working_directory_not_the_file() {
    let (_dir, top) = repo_with(
        &format!("creation_rules:\n  - age: {}\n", recipient(1)),
        &["a/s.yaml"],
    );
    fs::create_dir_all(top.join("a/.sops.yml")).unwrap();
    let elsewhere = scratch();
    // From a directory outside the repository, the repository's config is not found.
    let out = sealant()
        .dir(elsewhere.path())
        .arg("encrypt")
        .arg(top.join("a/s.yaml"))
        .fails_with(1);
    assert!(
        out.stderr
            .contains("config file not found, or has no creation rules"),
        "{}",
        out.stderr
    );
    // From the file's directory it is; the .sops.yml there is named in a warning.
    let out = sealant()
        .dir(top.join("a"))
        .args(["encrypt", "s.yaml"])
        .succeeds();
    assert!(
        out.stderr.contains("warning: ignoring") && out.stderr.contains(".sops.yml"),
        "{}",
        out.stderr
    );
    // --config and SOPS_CONFIG skip the search.
    sealant()
        .dir(elsewhere.path())
        .arg("--config")
        .arg(top.join(".sops.yaml"))
        .arg("encrypt")
        .arg(top.join("a/s.yaml"))
        .succeeds();
    sealant()
        .dir(elsewhere.path())
        .env("SOPS_CONFIG", top.join(".sops.yaml"))
        .arg("encrypt")
        .arg(top.join("a/s.yaml"))
        .succeeds();
    // --config /dev/null: no rules, so keys must come from the command line.
    sealant()
        .dir(&top)
        .args(["--config", "/dev/null", "encrypt", "a/s.yaml"])
        .fails_with(1);
    sealant()
        .dir(&top)
        .args([
            "--config",
            "/dev/null",
            "encrypt",
            "--age",
            &recipient(2),
            "a/s.yaml",
        ])
        .succeeds();
}

#[test]
fn no_matching_rule_is_sops_error_unless_keys_are_given() {
    let (_dir, top) = repo_with(
        &format!(
            "creation_rules:\n  - path_regex: ^prod/\n    age: {}\n",
            recipient(1)
        ),
        &["dev/s.yaml"],
    );
    let out = sealant()
        .dir(&top)
        .args(["encrypt", "dev/s.yaml"])
        .fails_with(1);
    assert!(
        out.stderr.contains("no matching creation rules found")
            && out.stderr.contains("dev/s.yaml"),
        "{}",
        out.stderr
    );
    // With keys on the command line the rule is not needed (sops still refuses).
    sealant()
        .dir(&top)
        .args(["encrypt", "--age", &recipient(2), "dev/s.yaml"])
        .succeeds();
    sealant()
        .dir(&top)
        .env("SOPS_AGE_RECIPIENTS", recipient(2))
        .args(["encrypt", "dev/s.yaml"])
        .succeeds();
    if let Some(sops) = sops_raw() {
        sops.dir(&top).args(["encrypt", "dev/s.yaml"]).fails_with(1);
    }
}

#[test]
fn command_line_keys_replace_the_rule_keys_and_flags_merge_with_its_options() {
    let (_dir, top) = repo_with(
        &format!(
            "creation_rules:\n  - shamir_threshold: 2\n    encrypted_regex: ^password$\n    key_groups:\n      - age: [{}]\n      - age: [{}]\n",
            recipient(1),
            recipient(2)
        ),
        &["s.yaml"],
    );
    let ours = sealant()
        .dir(&top)
        .args(["encrypt", "--age", &recipient(3), "s.yaml"])
        .succeeds()
        .stdout_str();
    // One group from --age; the rule's threshold and selection still apply (as in sops).
    assert!(ours.contains(&recipient(3)) && !ours.contains(&recipient(1)));
    assert!(ours.contains("shamir_threshold: 2") && ours.contains("encrypted_regex"));
    sealant()
        .dir(&top)
        .args(["decrypt", "--input-type", "yaml"])
        .key(3)
        .stdin(ours.clone())
        .succeeds();
    // A selection flag plus the rule's option is two options: exit 8, as sops.
    sealant()
        .dir(&top)
        .args(["encrypt", "--unencrypted-suffix", "_x", "s.yaml"])
        .fails_with(8);
    let Some(sops) = sops_raw() else { return };
    let theirs = sops
        .dir(&top)
        .args(["encrypt", "--age", &recipient(3), "s.yaml"])
        .succeeds()
        .stdout_str();
    assert_eq!(metadata_shape(&ours), metadata_shape(&theirs));
    sops_raw()
        .unwrap()
        .dir(&top)
        .args(["encrypt", "--unencrypted-suffix", "_x", "s.yaml"])
        .fails_with(8);
}

#[test]
fn key_groups_two_of_three_decrypt_with_sops_for_every_pair_only() {
    let (_dir, top) = repo_with(&three_groups(Some(2)), &["secrets/s.yaml"]);
    let enc = sealant()
        .dir(&top)
        .args(["encrypt", "secrets/s.yaml"])
        .succeeds()
        .stdout;
    let text = String::from_utf8(enc.clone()).unwrap();
    assert!(
        text.contains("shamir_threshold: 2\n    key_groups:"),
        "{text}"
    );
    let file = top.join("s.enc.yaml");
    fs::write(&file, &enc).unwrap();
    let keys = scratch();
    for pair in [[1, 2], [1, 3], [2, 3]] {
        let out = sealant()
            .arg("decrypt")
            .arg(&file)
            .env("SOPS_AGE_KEY_FILE", key_set(keys.path(), &pair))
            .succeeds();
        assert_eq!(out.stdout_str(), plain(), "sealant with {pair:?}");
        if let Some(sops) = sops() {
            let out = sops
                .arg("decrypt")
                .arg(&file)
                .env("SOPS_AGE_KEY_FILE", key_set(keys.path(), &pair))
                .succeeds();
            assert_eq!(out.stdout_str(), plain(), "sops with {pair:?}");
        }
    }
    for one in 1..=3u8 {
        let out = sealant().arg("decrypt").arg(&file).key(one).fails_with(128);
        assert!(
            out.stderr
                .contains("1 of 3 key groups could be decrypted, 2 are needed"),
            "{}",
            out.stderr
        );
        for g in 0..3u8 {
            let status = if g + 1 == one { "SUCCESS" } else { "FAILED (" };
            assert!(
                out.stderr.contains(&format!("group {g}: {status}")),
                "group {g} with key {one}: {}",
                out.stderr
            );
        }
        if let Some(sops) = sops() {
            sops.arg("decrypt").arg(&file).key(one).fails_with(128);
        }
    }
}

#[test]
fn the_threshold_flag_and_the_default_threshold() {
    // No shamir_threshold: all groups are needed, and the file says so.
    let (_dir, top) = repo_with(&three_groups(None), &["secrets/s.yaml"]);
    let keys = scratch();
    let enc = sealant()
        .dir(&top)
        .args(["encrypt", "secrets/s.yaml"])
        .succeeds()
        .stdout;
    assert!(String::from_utf8_lossy(&enc).contains("shamir_threshold: 3"));
    let out = sealant()
        .args(["decrypt", "--input-type", "yaml"])
        .env("SOPS_AGE_KEY_FILE", key_set(keys.path(), &[1, 3]))
        .stdin(enc.clone())
        .fails_with(128);
    assert!(out
        .stderr
        .contains("2 of 3 key groups could be decrypted, 3 are needed"));
    assert!(out.stderr.contains("group 1: FAILED"), "{}", out.stderr);
    sealant()
        .args(["decrypt", "--input-type", "yaml"])
        .env("SOPS_AGE_KEY_FILE", key_set(keys.path(), &[1, 2, 3]))
        .stdin(enc)
        .succeeds();

    // The flag beats the rule.
    let enc = sealant()
        .dir(&top)
        .args([
            "encrypt",
            "--shamir-secret-sharing-threshold",
            "2",
            "secrets/s.yaml",
        ])
        .succeeds()
        .stdout;
    let file = top.join("flag.enc.yaml");
    fs::write(&file, &enc).unwrap();
    if let Some(sops) = sops() {
        sops.arg("decrypt")
            .arg(&file)
            .env("SOPS_AGE_KEY_FILE", key_set(keys.path(), &[2, 3]))
            .succeeds();
    }
    // Legacy style takes the flag too.
    let enc = sealant()
        .dir(&top)
        .args([
            "-e",
            "--shamir-secret-sharing-threshold",
            "2",
            "secrets/s.yaml",
        ])
        .succeeds()
        .stdout;
    assert!(String::from_utf8_lossy(&enc).contains("shamir_threshold: 2"));

    // Thresholds sops refuses: more than the groups, or 1 with several groups.
    for t in ["4", "1"] {
        let out = sealant()
            .dir(&top)
            .args([
                "encrypt",
                "--shamir-secret-sharing-threshold",
                t,
                "secrets/s.yaml",
            ])
            .fails_with(1);
        assert!(out.stderr.contains("Shamir threshold"), "{}", out.stderr);
        if let Some(sops) = sops_raw() {
            sops.dir(&top)
                .args([
                    "encrypt",
                    "--shamir-secret-sharing-threshold",
                    t,
                    "secrets/s.yaml",
                ])
                .fails_with(1);
        }
    }
}

#[test]
fn sealant_writes_the_key_groups_layout_sops_writes() {
    let Some(sops) = sops_raw() else { return };
    let (_dir, top) = repo_with(
        &three_groups(Some(2)),
        &["secrets/s.yaml", "secrets/s.json"],
    );
    fs::write(top.join("secrets/s.json"), "{\"password\": \"x\"}").unwrap();
    let ours = sealant()
        .dir(&top)
        .args(["encrypt", "secrets/s.yaml"])
        .succeeds()
        .stdout_str();
    let theirs = sops
        .dir(&top)
        .args(["encrypt", "secrets/s.yaml"])
        .succeeds()
        .stdout_str();
    assert_eq!(metadata_shape(&ours), metadata_shape(&theirs));
    // JSON: `hc_vault` is null in each group, as sops writes it.
    let ours = sealant()
        .dir(&top)
        .args(["encrypt", "secrets/s.json"])
        .succeeds()
        .stdout_str();
    assert!(ours.contains("\"hc_vault\": null"), "{ours}");
    assert!(ours.contains("\"shamir_threshold\": 2"), "{ours}");
    let file = top.join("s.enc.json");
    fs::write(&file, ours).unwrap();
    let keys = scratch();
    let out = sops_raw()
        .unwrap()
        .args(["--config", "/dev/null", "decrypt"])
        .arg(&file)
        .env("SOPS_AGE_KEY_FILE", key_set(keys.path(), &[1, 3]))
        .succeeds();
    assert_eq!(out.stdout_str(), "{\n\t\"password\": \"x\"\n}\n");
}

#[test]
fn sealant_encrypts_the_vector_plaintexts_with_the_vector_configs_like_sops() {
    // The configs that made testdata/vectors/enc/rules_* and shamir_2of3.*: sealant
    // picks the same rule (same recipients, selection, layout) for the same names.
    let work = scratch();
    for (name, config, shape_of) in [
        (
            "rules_list.yaml",
            "config/rules.sops.yaml",
            "enc/rules_list.yaml",
        ),
        (
            "rules_string.yaml",
            "config/rules.sops.yaml",
            "enc/rules_string.yaml",
        ),
        (
            "rules_fallback.yaml",
            "config/rules.sops.yaml",
            "enc/rules_fallback.yaml",
        ),
        (
            "shamir_2of3.yaml",
            "config/shamir.sops.yaml",
            "enc/shamir_2of3.yaml",
        ),
    ] {
        let file = work.path().join(name);
        fs::copy(vector("plain/simple.yaml"), &file).unwrap();
        let ours = sealant()
            .arg("--config")
            .arg(vector(config))
            .arg("encrypt")
            .arg(&file)
            .succeeds()
            .stdout_str();
        let theirs = String::from_utf8(read(vector(shape_of))).unwrap();
        assert_eq!(metadata_shape(&ours), metadata_shape(&theirs), "{name}");
    }
}

#[test]
fn malformed_configs_name_the_file_and_place_with_exit_1() {
    let cases: [(&str, &str); 6] = [
        // The secret is planted where a careless message would quote it.
        ("creation_rules:\n  - age: [\n", ".sops.yaml:"),
        (
            "creation_rules:\n  - path_regex: x\n    encrypted-regex: S3CRET-config-do-not-print\n",
            ".sops.yaml:3:5: creation_rules[0]: unknown key `encrypted-regex` (did you mean `encrypted_regex`?)",
        ),
        (
            "creation_rules:\n  - shamir_threshold: S3CRET-config-do-not-print\n",
            ".sops.yaml:2:23: creation_rules[0].shamir_threshold: expected a whole number",
        ),
        (
            "creation_rules:\n  - path_regex: '(S3CRET-config-do-not-print'\n",
            ".sops.yaml:2:17: creation_rules[0].path_regex: invalid regular expression",
        ),
        (
            "creation_rules:\n  - unencrypted_suffix: _u\n    encrypted_regex: x\n",
            ".sops.yaml:3:5: creation_rules[0]: cannot use more than one of",
        ),
        (
            "creation_rules:\n  - age: AGE-SECRET-KEY-1S3CRETCONFIGDONOTPRINTQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n",
            ".sops.yaml:2:10: creation_rules[0]: an age SECRET key was given as a recipient",
        ),
    ];
    for (config, want) in cases {
        let (_dir, top) = repo_with(config, &["s.yaml"]);
        let out = sealant()
            .dir(&top)
            .args(["encrypt", "s.yaml"])
            .fails_with(1);
        assert!(out.stderr.contains(want), "{config:?}:\n{}", out.stderr);
        assert!(
            !out.stderr.contains("S3CRET"),
            "{config:?}:\n{}",
            out.stderr
        );
        // Decryption never needs the rules: a broken config does not stop it.
        sealant()
            .dir(&top)
            .arg("decrypt")
            .arg(vector("enc/simple.yaml"))
            .key(1)
            .succeeds();
    }
}

#[test]
fn a_rule_for_keys_sealant_cannot_use_fails_clearly() {
    let (_dir, top) = repo_with(
        "creation_rules:\n  - path_regex: gpg/\n    pgp: 85D77543B3D624B63CEA9E6DBC17301B491B3F21\n",
        &["gpg/s.yaml"],
    );
    let out = sealant()
        .dir(&top)
        .args(["encrypt", "gpg/s.yaml"])
        .fails_with(1);
    assert!(
        out.stderr
            .contains(".sops.yaml:3:10: creation_rules[0]: the rule asks for a pgp key"),
        "{}",
        out.stderr
    );
    // --age replaces the rule's keys.
    sealant()
        .dir(&top)
        .args(["encrypt", "--age", &recipient(1), "gpg/s.yaml"])
        .succeeds();
}

#[test]
fn config_explain_says_which_file_which_rule_and_why() {
    let config = format!(
        "creation_rules:\n  - path_regex: ^prod/\n    age: {}\n  - path_regex: \\.yaml$\n    key_groups:\n      - age: [{}]\n      - age: [{}]\n    encrypted_regex: ^password$\n  - age: {}\n",
        recipient(1),
        recipient(2),
        recipient(3),
        recipient(1)
    );
    let (_dir, top) = repo_with(&config, &[]);
    let out = sealant()
        .dir(top.join(""))
        .args(["config", "explain", "dev/new.yaml"])
        .succeeds()
        .stdout_str();
    for want in [
        format!("config file: {}", top.join(".sops.yaml").display()),
        "matched as:  \"dev/new.yaml\"".to_string(),
        "creation_rules[0] (line 2): path_regex \"^prod/\" -> no match".to_string(),
        "creation_rules[1] (line 4): path_regex \"\\.yaml$\" -> match".to_string(),
        "creation_rules[2] (line 9): no path_regex (matches every file) -> not tried".to_string(),
        "2 key groups, Shamir threshold 2".to_string(),
        format!("group 1:\n    age {} (line 7)", recipient(3)),
        "selection: encrypted_regex \"^password$\"".to_string(),
    ] {
        assert!(out.contains(&want), "missing {want:?} in:\n{out}");
    }
    let json = sealant()
        .dir(&top)
        .args(["config", "explain", "--json", "prod/x.yaml"])
        .succeeds()
        .stdout_str();
    assert!(
        json.starts_with('{') && json.trim_end().ends_with('}'),
        "{json}"
    );
    assert!(json.contains("\"rule\":0") && json.contains("\"matched_against\":\"prod/x.yaml\""));

    // No config at all.
    let elsewhere = scratch();
    let out = sealant()
        .dir(elsewhere.path())
        .args(["config", "explain", "x.yaml"])
        .succeeds()
        .stdout_str();
    assert!(out.contains("config file: none found"), "{out}");

    // A rule list that matches nothing lists the rules tried.
    let (_dir2, top2) = repo_with(
        &format!(
            "creation_rules:\n  - path_regex: ^prod/\n    age: {}\n",
            recipient(1)
        ),
        &[],
    );
    let out = sealant()
        .dir(&top2)
        .args(["config", "explain", "dev/x.yaml"])
        .succeeds()
        .stdout_str();
    assert!(
        out.contains("-> no match") && out.contains("no rule matches \"dev/x.yaml\""),
        "{out}"
    );
}
