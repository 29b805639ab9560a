//! The command line: every flag of the core, every error path, and the promise that no
//! secret ever reaches an error message.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

use crate::support::*;

const SECRET: &str = "S3CRET-hunter2-do-not-print";

fn plain_yaml() -> String {
    format!("# app secrets\nuser: admin\npassword: {SECRET} # the db password\nport: 5432\n")
}

#[test]
fn version_says_sealant_and_sops_through_a_link() {
    let out = sealant().arg("--version").succeeds();
    assert!(
        out.stdout_str().starts_with("sealant "),
        "{}",
        out.stdout_str()
    );
    let dir = scratch();
    let link = dir.path().join("sops");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sealant"), &link).expect("symlink");
    let out = Run::program(&link).arg("--version").succeeds();
    let text = out.stdout_str();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("sops 3.11.0"));
    assert!(
        lines.next().is_some_and(|l| l.starts_with("sealant ")),
        "{text}"
    );
}

#[test]
fn standard_input_in_every_spelling() {
    for spelling in [None, Some("-"), Some("/dev/stdin")] {
        let enc = sealant()
            .args(["encrypt", "--age", &recipient(1), "--input-type", "yaml"])
            .args(spelling)
            .stdin(plain_yaml())
            .succeeds();
        let dec = sealant()
            .args(["decrypt"])
            .args(spelling)
            .key(1)
            .stdin(enc.stdout)
            .succeeds();
        assert_eq!(dec.stdout_str(), plain_yaml(), "{spelling:?}");
    }
    // sops needs a name (or type) to encrypt standard input.
    sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .stdin(plain_yaml())
        .fails_with(8);
    sealant()
        .args([
            "encrypt",
            "--age",
            &recipient(1),
            "--filename-override",
            "x.json",
        ])
        .stdin("{\"a\": 1}")
        .succeeds();
}

#[test]
fn in_place_is_atomic_and_keeps_the_mode() {
    let dir = scratch();
    let file = dir.path().join("s.yaml");
    fs::write(&file, plain_yaml()).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    sealant()
        .args(["encrypt", "-i", "--age", &recipient(1)])
        .arg(&file)
        .succeeds();
    let enc = fs::read_to_string(&file).unwrap();
    assert!(enc.contains("ENC[AES256_GCM") && !enc.contains(SECRET));
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o640
    );
    sealant().args(["-d", "-i"]).arg(&file).key(1).succeeds();
    assert_eq!(fs::read_to_string(&file).unwrap(), plain_yaml());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn output_flag_and_its_conflicts() {
    let dir = scratch();
    let file = dir.path().join("s.yaml");
    let out = dir.path().join("out.yaml");
    fs::write(&file, plain_yaml()).unwrap();
    sealant()
        .args(["encrypt", "--age", &recipient(1), "--output"])
        .arg(&out)
        .arg(&file)
        .succeeds();
    assert!(fs::read_to_string(&out).unwrap().contains("sops:"));
    sealant()
        .args(["encrypt", "-i", "--age", &recipient(1), "--output"])
        .arg(&out)
        .arg(&file)
        .fails_with(8);
    sealant()
        .args(["decrypt", "-i"])
        .key(1)
        .stdin("a: 1\n")
        .fails_with(8);
}

#[test]
fn usage_errors_exit_1() {
    sealant()
        .args(["decrypt", "--no-such-flag", "f.yaml"])
        .fails_with(1);
    sealant().arg("--no-such-flag").fails_with(1);
    let out = sealant()
        .args(["encrypt", "--input-type", "xml", "--age", &recipient(1)])
        .stdin("<a/>")
        .fails_with(1);
    assert!(out.stderr.contains("xml"), "{}", out.stderr);
    sealant()
        .args(["encrypt", "--pgp", "ABCDEF"])
        .arg(vector("plain/simple.yaml"))
        .fails_with(1);
    sealant()
        .args([
            "encrypt",
            "--unencrypted-suffix",
            "_a",
            "--encrypted-regex",
            "b",
        ])
        .args(["--age", &recipient(1)])
        .arg(vector("plain/simple.yaml"))
        .fails_with(8);
}

#[test]
fn invalid_input_names_file_and_place_and_writes_nothing() {
    let dir = scratch();
    let cases = [
        ("bad.yaml", format!("password: {SECRET}\nlist: [1, 2\n"), 2),
        (
            "dup.yaml",
            format!("password: {SECRET}\npassword: {SECRET}\n"),
            2,
        ),
        ("bad.json", format!("{{\"password\": \"{SECRET}\",}}"), 2),
        ("top.json", format!("[\"{SECRET}\"]"), 2),
        ("empty.yaml", String::new(), 92),
        ("big.yaml", "n: 18446744073709551615\n".into(), 23),
        ("key.yaml", "1: one\n".into(), 23),
    ];
    for (name, content, code) in cases {
        let file = dir.path().join(name);
        fs::write(&file, &content).unwrap();
        let out = dir.path().join(format!("{name}.out"));
        let res = sealant()
            .args(["encrypt", "--age", &recipient(1), "--output"])
            .arg(&out)
            .arg(&file)
            .fails_with(code);
        assert!(res.stderr.contains(name), "{name}: {}", res.stderr);
        assert!(
            !res.stderr.contains(SECRET),
            "{name} leaked a secret: {}",
            res.stderr
        );
        assert!(!out.exists(), "{name}: nothing is written on error");
        sealant()
            .args(["encrypt", "-i", "--age", &recipient(1)])
            .arg(&file)
            .fails_with(code);
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            content,
            "{name} untouched"
        );
    }
    let out = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(dir.path().join("bad.yaml"))
        .run();
    let place = out.stderr.split("bad.yaml:").nth(1).unwrap_or("");
    let mut numbers = place.split(':').take(2).map(|n| n.parse::<usize>());
    assert!(
        numbers.all(|n| n.is_ok_and(|n| n > 0)),
        "line and column are given: {}",
        out.stderr
    );
}

#[test]
fn several_recipients_each_decrypt_alone() {
    let both = format!("{},{}", recipient(1), recipient(2));
    let enc = sealant()
        .args(["encrypt", "--input-type", "yaml", "--age", &both])
        .stdin(plain_yaml())
        .succeeds()
        .stdout;
    for k in [1, 2] {
        let out = sealant()
            .args(["decrypt", "--input-type", "yaml"])
            .key(k)
            .stdin(enc.clone())
            .succeeds();
        assert_eq!(out.stdout_str(), plain_yaml());
    }
    let out = sealant()
        .args(["decrypt", "--input-type", "yaml"])
        .key(3)
        .stdin(enc)
        .fails_with(128);
    assert!(out.stderr.contains(&recipient(1)) && out.stderr.contains(&recipient(2)));
    assert!(
        out.stderr.contains("age3.txt"),
        "names where it looked: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("AGE-SECRET-KEY"), "{}", out.stderr);
}

#[test]
fn recipients_from_the_environment() {
    let both = format!("{} , {}", recipient(1), recipient(3));
    let enc = sealant()
        .args(["encrypt", "--input-type", "yaml"])
        .env("SOPS_AGE_RECIPIENTS", &both)
        .stdin(plain_yaml())
        .succeeds()
        .stdout;
    sealant()
        .args(["decrypt", "--input-type", "yaml"])
        .key(3)
        .stdin(enc)
        .succeeds();
    sealant()
        .args(["encrypt", "--input-type", "yaml"])
        .stdin(plain_yaml())
        .fails_with(1);
}

#[test]
fn every_identity_source() {
    let enc = fs::read(vector("enc/simple.yaml")).unwrap();
    let key1 = fs::read_to_string(key_file(1)).unwrap();
    let key2 = fs::read_to_string(key_file(2)).unwrap();
    let want = read(vector("expected/simple.yaml"));
    let decrypt = || {
        sealant()
            .args(["decrypt", "--input-type", "yaml"])
            .stdin(enc.clone())
    };

    let out = decrypt().env("SOPS_AGE_KEY", &key1).succeeds();
    assert_same(&out.stdout, &want, "SOPS_AGE_KEY");

    let cmd = format!("cat {}", key_file(1).display());
    let out = decrypt().env("SOPS_AGE_KEY_CMD", &cmd).succeeds();
    assert_same(&out.stdout, &want, "SOPS_AGE_KEY_CMD");

    // The default file, with comments and several keys (the right one last).
    let home = scratch();
    let dir = home.path().join("sops/age");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("keys.txt"),
        format!("# mine\n\n{key2}\n# work\n{key1}"),
    )
    .unwrap();
    let out = decrypt().env("XDG_CONFIG_HOME", home.path()).succeeds();
    assert_same(&out.stdout, &want, "default keys.txt");

    // A broken identity file: named, and its content never echoed.
    let bad = home.path().join("bad.txt");
    fs::write(&bad, format!("{key1}\nnot-a-key {SECRET}\n")).unwrap();
    let out = decrypt().env("SOPS_AGE_KEY_FILE", &bad).fails_with(128);
    assert!(out.stderr.contains("bad.txt"), "{}", out.stderr);
    assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
    assert!(!out.stderr.contains(key1.trim()), "{}", out.stderr);
}

#[test]
fn decrypt_errors_print_no_secrets() {
    let dir = scratch();
    let file = dir.path().join("s.yaml");
    fs::write(&file, plain_yaml()).unwrap();
    sealant()
        .args(["encrypt", "-i", "--age", &recipient(1)])
        .arg(&file)
        .succeeds();
    let tampered = fs::read_to_string(&file).unwrap();
    let enc_port = tampered
        .lines()
        .find(|l| l.starts_with("port:"))
        .expect("port line")
        .to_string();
    let enc_pw = tampered
        .lines()
        .find(|l| l.starts_with("password:"))
        .expect("password line")
        .to_string();
    // Swap two ciphertexts: their AADs no longer match (exit 25).
    let swapped = tampered
        .replace(&enc_port, "PORT")
        .replace(&enc_pw, &enc_port.replacen("port:", "password:", 1))
        .replace("PORT", &enc_pw.replacen("password:", "port:", 1));
    fs::write(&file, swapped).unwrap();
    let out = sealant().arg("decrypt").arg(&file).key(1).fails_with(25);
    assert!(
        out.stderr.contains("password") || out.stderr.contains("port"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(SECRET) && out.stdout.is_empty());
}

#[test]
fn selection_flags_match_sops() {
    let Some(_) = sops() else { return };
    let cases: &[(&[&str], &str)] = &[
        (&[], "sel_default"),
        (
            &["--unencrypted-suffix", "_unencrypted"],
            "sel_unencrypted_suffix",
        ),
        (&["--unencrypted-suffix", "_child"], "sel_custom_suffix"),
        (
            &["--encrypted-suffix", "_encrypted"],
            "sel_encrypted_suffix",
        ),
        (
            &["--unencrypted-regex", "^(description|data)$"],
            "sel_unencrypted_regex",
        ),
        (
            &["--encrypted-regex", "^(data|stringData)$"],
            "sel_encrypted_regex",
        ),
    ];
    let dir = scratch();
    for (flags, case) in cases {
        let ours = dir.path().join(format!("{case}.yaml"));
        let enc = sealant()
            .arg("encrypt")
            .args(flags.iter().copied())
            .args(["--age", &recipient(1)])
            .arg(vector("plain/selection.yaml"))
            .succeeds();
        fs::write(&ours, &enc.stdout).unwrap();
        // The same leaves are encrypted as in sops's own file ...
        assert_eq!(
            encrypted_keys(&enc.stdout_str()),
            encrypted_keys(&fs::read_to_string(vector(&format!("enc/{case}.yaml"))).unwrap()),
            "{case}"
        );
        // ... and sops reads it back to what it prints for its own.
        let out = sops().unwrap().arg("decrypt").arg(&ours).key(1).succeeds();
        assert_same(
            &out.stdout,
            &read(vector(&format!("expected/{case}.yaml"))),
            case,
        );
    }
}

/// The keys whose values are encrypted, in order (outside the sops block).
fn encrypted_keys(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| !l.starts_with("sops:"))
        .filter(|l| l.contains("ENC[") && !l.trim_start().starts_with('#'))
        .map(|l| {
            l.trim()
                .trim_start_matches("- ")
                .split(':')
                .next()
                .unwrap_or("")
                .trim_matches(['"', '\''])
                .to_string()
        })
        .collect()
}

#[test]
fn comment_selection_and_mac_only_match_sops() {
    let Some(_) = sops() else { return };
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["--encrypted-comment-regex", "sops:enc"],
            "comment_selection",
            "sel_encrypted_comment_regex",
        ),
        (
            &["--unencrypted-comment-regex", "sops:noenc"],
            "comment_selection",
            "sel_unencrypted_comment_regex",
        ),
        (&["--mac-only-encrypted"], "selection", "mac_only_encrypted"),
    ];
    let dir = scratch();
    for (flags, input, case) in cases {
        let ours = dir.path().join(format!("{case}.yaml"));
        let enc = sealant()
            .args(flags.iter().copied())
            .args(["encrypt", "--age", &recipient(1)])
            .arg(vector(&format!("plain/{input}.yaml")))
            .succeeds();
        fs::write(&ours, &enc.stdout).unwrap();
        let out = sops().unwrap().arg("decrypt").arg(&ours).key(1).succeeds();
        assert_same(
            &out.stdout,
            &read(vector(&format!("expected/{case}.yaml"))),
            case,
        );
        let back = sealant().arg("decrypt").arg(&ours).key(1).succeeds();
        assert_same(
            &back.stdout,
            &read(vector(&format!("plain/{input}.yaml"))),
            case,
        );
    }
}

#[test]
fn conversion_between_yaml_and_json() {
    let out = sealant()
        .args(["encrypt", "--output-type", "json", "--age", &recipient(1)])
        .arg(vector("plain/yaml_types.yaml"))
        .succeeds();
    let dir = scratch();
    let enc = dir.path().join("c.json");
    fs::write(&enc, &out.stdout).unwrap();
    let back = sealant().arg("decrypt").arg(&enc).key(1).succeeds();
    assert_same(
        &back.stdout,
        &read(vector("expected/yaml_types.as.json")),
        "yaml to json",
    );
    if let Some(s) = sops() {
        let theirs = s.arg("decrypt").arg(&enc).key(1).succeeds();
        assert_same(
            &theirs.stdout,
            &back.stdout,
            "sops reads the converted file",
        );
    }
}

#[test]
fn aliases_become_encrypted_copies_and_come_back() {
    let plain = "base: &base\n  user: admin\n  password: hunter2\nprod:\n  <<: *base\n  host: db\ntoken: &t tok-123\nagain: *t\n";
    let dir = scratch();
    let file = dir.path().join("a.yaml");
    fs::write(&file, plain).unwrap();
    let enc = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&file)
        .succeeds()
        .stdout_str();
    // sops decrypts each copy with its own key path: no alias may point at ciphertext.
    assert!(!enc.contains("*base") && !enc.contains("*t"), "{enc}");
    assert!(enc.contains("<<: {user: 'ENC[AES256_GCM"), "{enc}");
    let enc_file = dir.path().join("a.enc.yaml");
    fs::write(&enc_file, &enc).unwrap();
    let back = sealant().arg("decrypt").arg(&enc_file).key(1).succeeds();
    assert_eq!(back.stdout_str(), plain);
    if let Some(s) = sops() {
        s.arg("decrypt").arg(&enc_file).key(1).succeeds();
    }
    // A copy changed after encryption is not silently turned back into the alias.
    fs::write(&enc_file, enc.replacen("<<: {user:", "<<: {user: ", 1)).unwrap();
    let out = sealant().arg("decrypt").arg(&enc_file).key(1).succeeds();
    let text = out.stdout_str();
    assert!(
        text.contains("<<: {user:  admin, password: hunter2}"),
        "{text}"
    );
}

#[test]
fn a_secret_key_given_as_recipient_is_never_echoed() {
    let secret = fs::read_to_string(key_file(1))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .expect("key line")
        .to_string();
    for list in [
        secret.clone(),
        format!("{} {secret}", recipient(1)),
        format!("{}{secret}", recipient(1)),
        format!("{},{secret}", recipient(2)),
    ] {
        let out = sealant()
            .args(["encrypt", "--input-type", "yaml", "--age", &list])
            .stdin("a: 1\n")
            .fails_with(1);
        assert!(
            !out.stderr.contains(&secret[20..]),
            "leaked: {}",
            out.stderr
        );
        let out = sealant()
            .args(["encrypt", "--input-type", "yaml"])
            .env("SOPS_AGE_RECIPIENTS", &list)
            .stdin("a: 1\n")
            .fails_with(1);
        assert!(
            !out.stderr.contains(&secret[20..]),
            "leaked: {}",
            out.stderr
        );
    }
}

#[test]
fn flow_collections_with_anchors_or_tags_stay_readable() {
    for plain in [
        "a: &x {q: 1, r: two}\nb: *x\n",
        "a: &x [1, 2]\n",
        "a: !t {q: 1}\n",
    ] {
        let enc = sealant()
            .args(["encrypt", "--input-type", "yaml", "--age", &recipient(1)])
            .stdin(plain)
            .succeeds();
        let back = sealant()
            .args(["decrypt", "--input-type", "yaml"])
            .key(1)
            .stdin(enc.stdout.clone())
            .succeeds();
        assert_eq!(back.stdout_str(), plain);
        if let Some(s) = sops() {
            // sops picks the output type from the (absent) file name: say it.
            let theirs = s
                .args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"])
                .key(1)
                .stdin(enc.stdout)
                .succeeds();
            assert!(!theirs.stdout.is_empty());
        }
    }
}

#[test]
fn a_renamed_anchor_cannot_redirect_a_restored_alias() {
    // Anchor names are not authenticated (sops does not cover them either). Renaming
    // them after encryption must not make `*base` point at other values on decrypt.
    let plain = "base: &base\n  user: admin\n  pass: hunter2\nother: &other\n  user: guest\n  pass: guest\nprod: *base\n";
    let enc = sealant()
        .args(["encrypt", "--input-type", "yaml", "--age", &recipient(1)])
        .stdin(plain)
        .succeeds()
        .stdout_str();
    // Equal-length edits, so every offset stays where it was.
    let tampered = enc.replace("&base", "&XXXX").replace("&other", "&base ");
    let out = sealant()
        .args(["decrypt", "--input-type", "yaml"])
        .key(1)
        .stdin(tampered)
        .succeeds()
        .stdout_str();
    assert!(!out.contains("prod: *base"), "{out}");
    assert!(out.contains("prod: {user: admin, pass: hunter2}"), "{out}");
}
