//! `rotate` (and `-r`), `updatekeys`, `groups add/delete` and `filestatus`: against the
//! real sops in both directions, with the data key itself checked (unwrapped with the
//! `age` tool) where a command promises to keep it or to change it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::*;

const SECRET: &str = "S3CRET-keys-do-not-print";

fn plain_yaml() -> String {
    format!(
        "# settings\ndb:\n  user: admin  # who\n  password: {SECRET}\nport: 5432\nratio: 1.50\n"
    )
}

fn plain_json() -> String {
    format!("{{\n  \"user\": \"admin\",\n  \"password\": \"{SECRET}\",\n  \"port\": 5432\n}}\n")
}

/// The real sops without `--config /dev/null`.
fn sops_raw() -> Option<Run> {
    reference_tool("sops").map(Run::program)
}

/// The real sops again, once a test has checked it is there.
fn sops_run() -> Run {
    crate::support::sops().expect("sops was found before")
}

fn sops_raw_run() -> Run {
    sops_raw().expect("sops was found before")
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

/// A scratch directory (canonical, so paths match what the tools print).
fn workdir() -> (tempfile::TempDir, PathBuf) {
    let dir = scratch();
    let top = dir.path().canonicalize().unwrap();
    (dir, top)
}

/// Encrypts `text` into `dir/name` with sealant for the recipients `ns`.
fn sealant_file(dir: &Path, name: &str, text: &str, ns: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    let age: Vec<String> = ns.iter().map(|n| recipient(*n)).collect();
    sealant()
        .args(["--config", "/dev/null", "encrypt", "-i", "--age"])
        .arg(age.join(","))
        .arg(&path)
        .succeeds();
    path
}

/// Encrypts `text` into `dir/name` with the real sops for the recipients `ns`.
fn sops_file(sops: Run, dir: &Path, name: &str, text: &str, ns: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    let age: Vec<String> = ns.iter().map(|n| recipient(*n)).collect();
    sops.args(["encrypt", "-i", "--age"])
        .arg(age.join(","))
        .arg(&path)
        .succeeds();
    path
}

fn write_config(dir: &Path, body: &str) {
    fs::write(dir.join(".sops.yaml"), body).unwrap();
}

fn rule_for(ns: &[u8]) -> String {
    let age: Vec<String> = ns.iter().map(|n| recipient(*n)).collect();
    format!("creation_rules:\n  - age: {}\n", age.join(","))
}

fn two_of_three() -> String {
    format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{}]\n      - age: [{}]\n      - age: [{}]\n",
        recipient(1),
        recipient(2),
        recipient(3)
    )
}

/// The data key of a single-group JSON file, unwrapped by the `age` tool with identity
/// `n` (`None` when that identity cannot open it).
fn data_key(json: &Path, n: u8) -> Option<Vec<u8>> {
    let age = reference_tool("age")?;
    let doc: serde_json::Value = serde_json::from_slice(&read(json)).unwrap();
    let entries = doc["sops"]["age"]
        .as_array()
        .expect("single-group age list");
    entries.iter().find_map(|e| {
        let out = Run::program(&age)
            .args(["-d", "-i"])
            .arg(key_file(n))
            .stdin(e["enc"].as_str().unwrap().as_bytes().to_vec())
            .run();
        (out.code == 0).then_some(out.stdout)
    })
}

/// Every `ENC[...]` string of a text, in order.
fn ciphertexts(text: &str) -> Vec<String> {
    text.match_indices("ENC[")
        .map(|(i, _)| {
            let end = text[i..].find(']').unwrap();
            text[i..=i + end].to_string()
        })
        .collect()
}

/// A text without its age armor lines (random per wrap), to compare two tools' output.
fn without_armor(text: &str) -> String {
    let re = regex::Regex::new(
        r#"-----BEGIN AGE ENCRYPTED FILE-----[^"]*?-----END AGE ENCRYPTED FILE-----(\\n)?"#,
    )
    .unwrap();
    let text = re.replace_all(text, "ARMOR");
    text.lines()
        .filter(|l| {
            let t = l.trim();
            t.is_empty()
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        })
        .filter(|l| !l.contains("-----BEGIN AGE") && !l.contains("-----END AGE"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_no_secret(out: &Output) {
    assert!(
        !out.stderr.contains(SECRET),
        "secret on stderr:\n{}",
        out.stderr
    );
    assert!(!out.stdout_str().contains(SECRET), "secret on stdout");
}

fn sops_decrypts(sops: Run, file: &Path, keys: &Path, expected: &str) {
    let out = sops
        .arg("decrypt")
        .arg(file)
        .env("SOPS_AGE_KEY_FILE", keys)
        .succeeds();
    assert!(out.stdout_str().contains(expected), "{}", out.stdout_str());
}

// ------------------------------------------------------------------------------------
// rotate

#[test]
fn rotate_adds_and_removes_recipients_with_a_new_data_key() {
    let Some(sops) = sops() else { return };
    let (_d, dir) = workdir();
    let file = sops_file(sops, &dir, "s.json", &plain_json(), &[1]);
    let before = read(&file);
    let old_key = data_key(&file, 1);
    let out = sealant()
        .args(["rotate", "-i", "--add-age"])
        .arg(recipient(2))
        .arg("--rm-age")
        .arg(recipient(1))
        .arg(&file)
        .key(1)
        .succeeds();
    assert!(out.stderr.contains("git history"), "{}", out.stderr);
    let after = read(&file);
    let (old, new) = (
        ciphertexts(&String::from_utf8_lossy(&before)),
        ciphertexts(&String::from_utf8_lossy(&after)),
    );
    assert_eq!(old.len(), new.len());
    assert!(
        old.iter().zip(&new).all(|(a, b)| a != b),
        "every value re-encrypted"
    );
    if let Some(old_key) = old_key {
        let new_key = data_key(&file, 2).expect("recipient 2 opens the new file");
        assert_ne!(old_key, new_key, "a new data key");
        assert_eq!(data_key(&file, 1), None, "recipient 1 was removed");
    }
    let sops = sops_run();
    sops_decrypts(sops, &file, &key_file(2), SECRET);
    let out = crate::support::sops()
        .unwrap()
        .arg("decrypt")
        .arg(&file)
        .key(1)
        .run();
    assert_eq!(out.code, 128, "{}", out.stderr);
    sealant().arg("decrypt").arg(&file).key(1).fails_with(128);
}

#[test]
fn rotate_keeps_the_layout_of_files_sealant_wrote() {
    let Some(sops) = sops() else { return };
    let (_d, dir) = workdir();
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    let before = String::from_utf8(read(&file)).unwrap();
    // Legacy style, output to a file.
    let rotated = dir.join("rotated.yaml");
    sealant()
        .args(["-r", "--add-age"])
        .arg(recipient(3))
        .arg("--output")
        .arg(&rotated)
        .arg(&file)
        .key(1)
        .succeeds();
    let after = String::from_utf8(read(&rotated)).unwrap();
    assert!(
        before.lines().count() < after.lines().count(),
        "a second recipient"
    );
    assert!(ciphertexts(&before)
        .iter()
        .zip(ciphertexts(&after))
        .all(|(a, b)| *a != b));
    for n in [1, 3] {
        let out = sealant().arg("decrypt").arg(&rotated).key(n).succeeds();
        assert_same(
            &out.stdout,
            plain_yaml().as_bytes(),
            "rotated file decrypts to the user's bytes",
        );
    }
    sops_decrypts(sops, &rotated, &key_file(3), SECRET);
    // stdout by default; the input is untouched.
    let out = sealant().arg("rotate").arg(&file).key(1).succeeds();
    assert!(String::from_utf8_lossy(&out.stdout).contains("sops:"));
    assert_eq!(String::from_utf8(read(&file)).unwrap(), before);
}

/// A file sops wrote is rewritten in sops's layout: comments inside lists stay list
/// elements (`- ENC[...,type:comment]`), as `sops rotate` writes them.
#[test]
fn rotate_writes_list_comments_of_sops_files_as_sops_does() {
    let Some(_) = sops() else { return };
    let (_d, dir) = workdir();
    let text = "l:\n  # before first\n  - one\n  - - a\n    # inner\n    - b\n  # between\n  - k: v\n    # in map\n  # after last\nz: 1\n";
    let ours = sops_file(sops_run(), &dir, "l.yaml", text, &[1]);
    let theirs = dir.join("sops-l.yaml");
    fs::copy(&ours, &theirs).unwrap();
    sealant()
        .args(["rotate", "-i"])
        .arg(&ours)
        .key(1)
        .succeeds();
    sops_run()
        .args(["rotate", "-i"])
        .arg(&theirs)
        .key(1)
        .succeeds();
    // Same layout; the ciphertexts and the sops block differ.
    let body = |p: &Path| {
        let text = String::from_utf8(read(p)).unwrap();
        let re = regex::Regex::new(r"ENC\[AES256_GCM,[^\]]*\]").unwrap();
        let body = text.split("\nsops:\n").next().unwrap().to_string();
        re.replace_all(&body, "ENC").into_owned()
    };
    let want = body(&theirs);
    assert_eq!(
        want.matches("- ENC").count(),
        6,
        "three of them comments: {want}"
    );
    assert_eq!(body(&ours), want);
    sops_decrypts(sops_run(), &ours, &key_file(1), "in map");
}

#[test]
fn rotate_keeps_key_groups_and_threshold() {
    if sops_raw().is_none() {
        return;
    }
    let (_d, dir) = workdir();
    write_config(&dir, &two_of_three());
    let file = dir.join("g.yaml");
    fs::write(&file, plain_yaml()).unwrap();
    sealant()
        .arg("encrypt")
        .arg("-i")
        .arg(&file)
        .dir(&dir)
        .succeeds();
    sealant()
        .args(["rotate", "-i"])
        .arg(&file)
        .env("SOPS_AGE_KEY_FILE", key_set(&dir, &[1, 3]))
        .dir(&dir)
        .succeeds();
    let text = String::from_utf8(read(&file)).unwrap();
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    for pair in [[1, 2], [1, 3], [2, 3]] {
        sops_decrypts(sops_run(), &file, &key_set(&dir, &pair), SECRET);
    }
    sealant().arg("decrypt").arg(&file).key(2).fails_with(128);
}

#[test]
fn rotate_refuses_what_it_cannot_do_and_prints_no_secret() {
    let (_d, dir) = workdir();
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    let before = read(&file);
    let out = sealant()
        .args(["rotate", "--add-pgp", "ABCDEF", "-i"])
        .arg(&file)
        .key(1)
        .fails_with(1);
    assert!(
        out.stderr.contains("--add-pgp") && out.stderr.contains("age"),
        "{}",
        out.stderr
    );
    let out = sealant()
        .args(["rotate", "-i", "--rm-age"])
        .arg(recipient(1))
        .arg(&file)
        .key(1)
        .fails_with(1);
    assert!(out.stderr.contains("no keys left"), "{}", out.stderr);
    assert_no_secret(&out);
    let out = sealant()
        .args(["rotate", "-i", "--output"])
        .arg(dir.join("o"))
        .arg(&file)
        .key(1)
        .fails_with(8);
    assert_no_secret(&out);
    sealant().arg("rotate").key(1).fails_with(100);
    let out = sealant()
        .args(["rotate", "--add-age"])
        .arg(recipient(2))
        .arg(dir.join("missing.yaml"))
        .fails_with(49);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    let plain = dir.join("plain.yaml");
    fs::write(&plain, plain_yaml()).unwrap();
    let out = sealant().arg("rotate").arg(&plain).key(1).fails_with(1);
    assert!(
        out.stderr.contains("sops metadata not found"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out);
    // Wrong identity: exit 128, nothing written.
    let out = sealant()
        .args(["rotate", "-i"])
        .arg(&file)
        .key(2)
        .fails_with(128);
    assert_no_secret(&out);
    let out = sealant()
        .args(["-a", "x", "--rm-age"])
        .arg(recipient(1))
        .arg(&file)
        .run();
    assert_eq!(out.code, 1, "--rm-age without -r: {}", out.stderr);
    assert_eq!(read(&file), before, "nothing was written");
}

/// A pgp key (which sealant cannot wrap for) added to a sealant file's metadata: the
/// metadata is outside the MAC, as in a file shared with pgp users.
fn with_pgp_key(file: &Path) {
    let text = String::from_utf8(read(file)).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("lastmodified:"))
        .unwrap();
    let i = " ".repeat(line.len() - line.trim_start().len());
    let at = text.find(line).unwrap();
    // sops writes pgp after mac; any place inside the block reads the same.
    let pgp = format!(
        "{i}pgp:\n{i}  - created_at: \"2026-01-01T00:00:00Z\"\n{i}    enc: not-a-real-pgp-message\n{i}    fp: 1234567890ABCDEF1234567890ABCDEF12345678\n"
    );
    let text = format!("{}{}{}", &text[..at], pgp, &text[at..]);
    fs::write(file, text).unwrap();
}

/// `text` with the line starting (after indentation) with `field` replaced by
/// `field new`, keeping the indentation; `None` drops the line.
fn with_field(text: &str, field: &str, new: Option<&str>) -> String {
    text.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            if !t.starts_with(field) {
                return Some(l.to_string());
            }
            let indent = &l[..l.len() - t.len()];
            new.map(|v| format!("{indent}{field} {v}"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rotate_names_keys_of_other_kinds_and_removes_them_on_request() {
    let Some(sops) = sops() else { return };
    let (_d, dir) = workdir();
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    with_pgp_key(&file);
    sealant().arg("decrypt").arg(&file).key(1).succeeds();
    let out = sealant()
        .args(["rotate", "-i"])
        .arg(&file)
        .key(1)
        .fails_with(1);
    assert!(
        out.stderr
            .contains("pgp 1234567890ABCDEF1234567890ABCDEF12345678")
            && out.stderr.contains("--rm-"),
        "{}",
        out.stderr
    );
    sealant()
        .args([
            "rotate",
            "-i",
            "--rm-pgp",
            "1234567890ABCDEF1234567890ABCDEF12345678",
        ])
        .arg(&file)
        .key(1)
        .succeeds();
    assert!(!String::from_utf8(read(&file)).unwrap().contains("pgp"));
    sops_decrypts(sops, &file, &key_file(1), SECRET);
}

// ------------------------------------------------------------------------------------
// updatekeys

#[test]
fn updatekeys_up_to_date_is_exit_0_and_untouched() {
    let (_d, dir) = workdir();
    write_config(&dir, &rule_for(&[1]));
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    let before = read(&file);
    let out = sealant()
        .args(["updatekeys"])
        .arg(&file)
        .dir(&dir)
        .key(1)
        .succeeds();
    assert!(out.stderr.contains("already up to date"), "{}", out.stderr);
    assert_eq!(read(&file), before);
}

#[test]
fn updatekeys_needs_a_terminal_or_yes_and_never_hangs() {
    let (_d, dir) = workdir();
    write_config(&dir, &rule_for(&[1, 2]));
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    let before = read(&file);
    // Standard input is /dev/null, then a pipe holding "y": neither is a terminal.
    for run in [
        sealant().args(["updatekeys"]).arg(&file),
        sealant().args(["updatekeys"]).arg(&file).stdin("y\n"),
    ] {
        let out = run.dir(&dir).key(1).fails_with(1);
        assert!(out.stderr.contains("--yes"), "{}", out.stderr);
        assert!(out.stdout_str().contains(&format!("+++ {}", recipient(2))));
        assert_no_secret(&out);
    }
    assert_eq!(read(&file), before);
    // --dry-run shows the same and writes nothing, exit 0.
    let out = sealant()
        .args(["updatekeys", "--dry-run"])
        .arg(&file)
        .dir(&dir)
        .succeeds();
    assert!(out.stdout_str().contains(&format!("+++ {}", recipient(2))));
    assert_eq!(read(&file), before);
}

#[test]
fn updatekeys_asks_on_a_terminal() {
    let Some(script) = reference_tool("script") else {
        return;
    };
    let (_d, dir) = workdir();
    write_config(&dir, &rule_for(&[1, 2]));
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    let before = read(&file);
    let command = format!(
        "{} updatekeys {}",
        env!("CARGO_BIN_EXE_sealant"),
        file.display()
    );
    let out = Run::program(&script)
        .args(["-qec", &command, "/dev/null"])
        .stdin("what\nn\n")
        .dir(&dir)
        .key(1)
        .succeeds();
    assert!(
        out.stdout_str().contains("Is this okay? (y/n):"),
        "{}",
        out.stdout_str()
    );
    assert_eq!(read(&file), before, "answered n");
    Run::program(&script)
        .args(["-qec", &command, "/dev/null"])
        .stdin("y\n")
        .dir(&dir)
        .key(1)
        .succeeds();
    sealant().arg("decrypt").arg(&file).key(2).succeeds();
}

#[test]
fn updatekeys_adding_a_recipient_keeps_data_key_values_mac_and_time() {
    let Some(sops) = sops() else { return };
    let (_d, dir) = workdir();
    write_config(&dir, &rule_for(&[1, 2]));
    let file = sops_file(sops, &dir, "s.json", &plain_json(), &[1]);
    let before = String::from_utf8(read(&file)).unwrap();
    let old_key = data_key(&file, 1);
    sealant()
        .args(["updatekeys", "-y"])
        .arg(&file)
        .dir(&dir)
        .key(1)
        .succeeds();
    let after = String::from_utf8(read(&file)).unwrap();
    assert_eq!(
        ciphertexts(&before),
        ciphertexts(&after),
        "values and mac kept"
    );
    let field = |t: &str, f: &str| t.lines().find(|l| l.contains(f)).map(str::to_string);
    assert_eq!(
        field(&before, "lastmodified"),
        field(&after, "lastmodified")
    );
    if let Some(k) = old_key {
        assert_eq!(
            data_key(&file, 2),
            Some(k),
            "the same data key, for recipient 2"
        );
    }
    sops_decrypts(sops_run(), &file, &key_file(2), SECRET);
}

#[test]
fn updatekeys_removing_a_recipient_rotates_the_data_key_by_default() {
    let Some(sops) = sops() else { return };
    let (_d, dir) = workdir();
    write_config(&dir, &rule_for(&[2]));
    let file = sealant_file(&dir, "s.json", &plain_json(), &[1, 2]);
    let before = String::from_utf8(read(&file)).unwrap();
    let old_key = data_key(&file, 1);
    let out = sealant()
        .args(["updatekeys", "--yes"])
        .arg(&file)
        .dir(&dir)
        .key(1)
        .succeeds();
    assert!(out.stdout_str().contains(&format!("--- {}", recipient(1))));
    assert!(out.stderr.contains("git history"), "{}", out.stderr);
    assert_no_secret(&out);
    let after = String::from_utf8(read(&file)).unwrap();
    assert!(ciphertexts(&before)
        .iter()
        .zip(ciphertexts(&after))
        .all(|(a, b)| *a != b));
    if let Some(old_key) = old_key {
        assert_eq!(data_key(&file, 1), None);
        assert_ne!(data_key(&file, 2).expect("recipient 2"), old_key, "rotated");
    }
    let out = sops.arg("decrypt").arg(&file).key(1).run();
    assert_eq!(out.code, 128, "the removed identity: {}", out.stderr);
    sealant().arg("decrypt").arg(&file).key(1).fails_with(128);
    let out = sealant().arg("decrypt").arg(&file).key(2).succeeds();
    assert_same(&out.stdout, plain_json().as_bytes(), "layout kept");
}

#[test]
fn updatekeys_no_rotate_keeps_the_data_key() {
    let Some(sops) = sops() else { return };
    let (_d, dir) = workdir();
    write_config(&dir, &rule_for(&[2]));
    let file = sops_file(sops, &dir, "s.json", &plain_json(), &[1, 2]);
    let before = String::from_utf8(read(&file)).unwrap();
    let old_key = data_key(&file, 2);
    let out = sealant()
        .args(["updatekeys", "-y", "--no-rotate"])
        .arg(&file)
        .dir(&dir)
        .key(1)
        .succeeds();
    assert!(out.stderr.contains("--no-rotate kept"), "{}", out.stderr);
    assert_eq!(
        ciphertexts(&before),
        ciphertexts(&String::from_utf8(read(&file)).unwrap())
    );
    if let Some(k) = old_key {
        assert_eq!(data_key(&file, 2), Some(k));
    }
    let out = sops_run().arg("decrypt").arg(&file).key(1).run();
    assert_eq!(out.code, 128, "{}", out.stderr);
}

#[test]
fn updatekeys_to_a_two_of_three_rule() {
    let Some(sops) = sops() else { return };
    let (_d, dir) = workdir();
    write_config(&dir, &two_of_three());
    let file = sops_file(sops, &dir, "s.yaml", &plain_yaml(), &[1]);
    let out = sealant()
        .args(["updatekeys", "-y"])
        .arg(&file)
        .dir(&dir)
        .key(1)
        .succeeds();
    assert!(
        out.stdout_str().contains("+++ shamir_threshold: 2"),
        "{}",
        out.stdout_str()
    );
    for pair in [[1, 2], [1, 3], [2, 3]] {
        sops_decrypts(sops_run(), &file, &key_set(&dir, &pair), SECRET);
        sealant()
            .arg("decrypt")
            .arg(&file)
            .env("SOPS_AGE_KEY_FILE", key_set(&dir, &pair))
            .succeeds();
    }
    for n in [1, 2, 3] {
        sealant().arg("decrypt").arg(&file).key(n).fails_with(128);
    }
    // In line now.
    let out = sealant()
        .args(["updatekeys"])
        .arg(&file)
        .dir(&dir)
        .key(1)
        .succeeds();
    assert!(out.stderr.contains("already up to date"), "{}", out.stderr);
}

#[test]
fn updatekeys_writes_what_sops_writes_for_sops_files() {
    let (Some(_), Some(_)) = (sops(), sops_raw()) else {
        return;
    };
    let (_d, dir) = workdir();
    write_config(&dir, &rule_for(&[1, 2]));
    for (name, text) in [("s.yaml", plain_yaml()), ("s.json", plain_json())] {
        let ours = sops_file(sops_run(), &dir, name, &text, &[1]);
        let theirs = dir.join(format!("sops-{name}"));
        fs::copy(&ours, &theirs).unwrap();
        sealant()
            .args(["updatekeys", "-y", "--no-rotate"])
            .arg(&ours)
            .dir(&dir)
            .key(1)
            .succeeds();
        sops_raw_run()
            .args(["updatekeys", "-y"])
            .arg(&theirs)
            .dir(&dir)
            .key(1)
            .succeeds();
        assert_eq!(
            without_armor(&String::from_utf8(read(&ours)).unwrap()),
            without_armor(&String::from_utf8(read(&theirs)).unwrap()),
            "{name}"
        );
    }
}

#[test]
fn sops_updatekeys_on_a_sealant_file_then_sealant_decrypts() {
    let Some(raw) = sops_raw() else { return };
    let (_d, dir) = workdir();
    write_config(&dir, &rule_for(&[1, 2]));
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    raw.args(["updatekeys", "-y"])
        .arg(&file)
        .dir(&dir)
        .key(1)
        .succeeds();
    let out = sealant().arg("decrypt").arg(&file).key(2).succeeds();
    assert!(out.stdout_str().contains(SECRET));
}

#[test]
fn updatekeys_all_walks_the_repository_in_parallel_and_reports() {
    let (_d, dir) = workdir();
    write_config(
        &dir,
        &format!(
            "creation_rules:\n  - path_regex: \\.(yaml|json)$\n    age: {},{}\n",
            recipient(1),
            recipient(2)
        ),
    );
    fs::create_dir_all(dir.join("a/b")).unwrap();
    fs::create_dir_all(dir.join(".git")).unwrap();
    let mut updated = Vec::new();
    for i in 0..6 {
        updated.push(sealant_file(
            &dir.join("a"),
            &format!("f{i}.yaml"),
            &plain_yaml(),
            &[1],
        ));
    }
    updated.push(sealant_file(
        &dir.join("a/b"),
        "g.json",
        &plain_json(),
        &[1],
    ));
    let in_line = sealant_file(&dir, "ok.yaml", &plain_yaml(), &[1, 2]);
    let in_git = sealant_file(&dir.join(".git"), "x.yaml", &plain_yaml(), &[1]);
    let not_ours = sealant_file(&dir.join("a"), "only3.yaml", &plain_yaml(), &[3]);
    fs::write(dir.join("a/plain.yaml"), plain_yaml()).unwrap();
    fs::write(
        dir.join("a/notes.txt"),
        "sops mentioned, but no rule matches",
    )
    .unwrap();
    let (git_before, ok_before, plain_before) = (
        read(&in_git),
        read(&in_line),
        read(dir.join("a/plain.yaml")),
    );

    // Run from a subdirectory: the config is found upwards, the walk starts at its dir.
    let out = sealant()
        .args(["updatekeys", "--all", "-y"])
        .dir(dir.join("a/b"))
        .key(1)
        .fails_with(1);
    assert!(
        out.stderr.contains("7 updated")
            && out.stderr.contains("1 already up to date")
            // a/plain.yaml, and .sops.yaml itself (the rule matches it)
            && out.stderr.contains("2 not encrypted")
            && out.stderr.contains("1 failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("failed: a/only3.yaml") && out.stderr.contains("data key"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out);
    for f in &updated {
        sealant().arg("decrypt").arg(f).key(2).succeeds();
    }
    assert_eq!(read(&in_git), git_before, ".git is skipped");
    assert_eq!(read(&in_line), ok_before);
    assert_eq!(read(dir.join("a/plain.yaml")), plain_before);
    sealant().arg("decrypt").arg(&not_ours).key(3).succeeds();
    // Files and --all do not mix; no files at all is exit 100.
    sealant()
        .args(["updatekeys", "--all", "x.yaml"])
        .dir(&dir)
        .fails_with(1);
    sealant()
        .args(["updatekeys", "-y"])
        .dir(&dir)
        .fails_with(100);
}

#[test]
fn updatekeys_error_paths() {
    let (_d, dir) = workdir();
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    // No config at all.
    let out = sealant()
        .args(["updatekeys", "-y"])
        .arg(&file)
        .dir(&dir)
        .key(1)
        .fails_with(1);
    assert!(
        out.stderr.contains("config file not found"),
        "{}",
        out.stderr
    );
    // A file without metadata.
    write_config(&dir, &rule_for(&[1, 2]));
    let plain = dir.join("plain.yaml");
    fs::write(&plain, plain_yaml()).unwrap();
    let out = sealant()
        .args(["updatekeys", "-y"])
        .arg(&plain)
        .dir(&dir)
        .key(1)
        .fails_with(1);
    assert!(
        out.stderr.contains("sops metadata not found"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out);
    // Not our key: sops's code for a data key that cannot be had.
    let out = sealant()
        .args(["updatekeys", "-y"])
        .arg(&file)
        .dir(&dir)
        .key(3)
        .fails_with(128);
    assert_no_secret(&out);
    // A rule naming a pgp key.
    write_config(&dir, "creation_rules:\n  - pgp: ABCDEF0123\n");
    let out = sealant()
        .args(["updatekeys", "-y"])
        .arg(&file)
        .dir(&dir)
        .key(1)
        .fails_with(1);
    assert!(out.stderr.contains("pgp ABCDEF0123"), "{}", out.stderr);
    // No rule matches.
    write_config(
        &dir,
        "creation_rules:\n  - path_regex: nothing\n    age: x\n",
    );
    let out = sealant()
        .args(["updatekeys", "-y"])
        .arg(&file)
        .dir(&dir)
        .fails_with(1);
    assert!(
        out.stderr.contains("no matching creation rules"),
        "{}",
        out.stderr
    );
}

// ------------------------------------------------------------------------------------
// groups

#[test]
fn groups_add_and_delete_match_sops() {
    if sops().is_none() {
        return;
    }
    let (_d, dir) = workdir();
    let keys = key_set(&dir, &[1, 2, 3]);
    for name in ["s.yaml", "s.json"] {
        let text = if name.ends_with("json") {
            plain_json()
        } else {
            plain_yaml()
        };
        let file = sops_file(sops_run(), &dir, name, &text, &[1]);
        let before = String::from_utf8(read(&file)).unwrap();
        let ours = dir.join(format!("ours-{name}"));
        let theirs = dir.join(format!("theirs-{name}"));
        // Add two groups, one step at a time, with both tools.
        let mut from = (file.clone(), file.clone());
        for n in [2, 3] {
            let out = sealant()
                .args(["groups", "add", "--file"])
                .arg(&from.0)
                .args(["--age", &recipient(n)])
                .env("SOPS_AGE_KEY_FILE", &keys)
                .succeeds();
            fs::write(&ours, &out.stdout).unwrap();
            let out = sops_run()
                .args(["groups", "add", "--file"])
                .arg(&from.1)
                .args(["--age", &recipient(n)])
                .env("SOPS_AGE_KEY_FILE", &keys)
                .succeeds();
            fs::write(&theirs, &out.stdout).unwrap();
            from = (ours.clone(), theirs.clone());
            assert_eq!(
                without_armor(&String::from_utf8(read(&ours)).unwrap()),
                without_armor(&String::from_utf8(read(&theirs)).unwrap()),
                "{name} after adding group {n}"
            );
        }
        let now = String::from_utf8(read(&ours)).unwrap();
        assert_eq!(
            ciphertexts(&before),
            ciphertexts(&now),
            "values and mac untouched"
        );
        for pair in [[1, 2], [1, 3], [2, 3]] {
            sops_decrypts(sops_run(), &ours, &key_set(&dir, &pair), SECRET);
        }
        sealant().arg("decrypt").arg(&ours).key(3).fails_with(128);

        // Delete group 1 in place (threshold 2 of the 2 left).
        sealant()
            .args(["groups", "delete", "-i", "--file"])
            .arg(&ours)
            .arg("1")
            .env("SOPS_AGE_KEY_FILE", key_set(&dir, &[1, 3]))
            .succeeds();
        sops_run()
            .args(["groups", "delete", "-i", "--file"])
            .arg(&theirs)
            .arg("1")
            .env("SOPS_AGE_KEY_FILE", &keys)
            .succeeds();
        assert_eq!(
            without_armor(&String::from_utf8(read(&ours)).unwrap()),
            without_armor(&String::from_utf8(read(&theirs)).unwrap()),
            "{name} after delete"
        );
        sops_decrypts(sops_run(), &ours, &key_set(&dir, &[1, 3]), SECRET);
        sealant().arg("decrypt").arg(&ours).key(2).fails_with(128);
    }
}

#[test]
fn groups_delete_refusals() {
    let (_d, dir) = workdir();
    let keys = key_set(&dir, &[1, 2]);
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    sealant()
        .args(["groups", "add", "-i", "-f"])
        .arg(&file)
        .args(["--age", &recipient(2)])
        .env("SOPS_AGE_KEY_FILE", &keys)
        .succeeds();
    let before = read(&file);
    let out = sealant()
        .args(["groups", "delete", "-i", "-f"])
        .arg(&file)
        .arg("1")
        .env("SOPS_AGE_KEY_FILE", &keys)
        .fails_with(1);
    assert!(
        out.stderr.contains("groups delete refused"),
        "{}",
        out.stderr
    );
    let out = sealant()
        .args(["groups", "delete", "-i", "-f"])
        .arg(&file)
        .arg("7")
        .env("SOPS_AGE_KEY_FILE", &keys)
        .fails_with(1);
    assert!(out.stderr.contains("no group 7"), "{}", out.stderr);
    let out = sealant()
        .args(["groups", "delete", "-i", "-f"])
        .arg(&file)
        .arg("one")
        .fails_with(1);
    assert!(
        out.stderr.contains("failed to parse [index]"),
        "{}",
        out.stderr
    );
    let out = sealant()
        .args(["groups", "add", "-i", "-f"])
        .arg(&file)
        .fails_with(1);
    assert!(out.stderr.contains("--age"), "{}", out.stderr);
    assert_no_secret(&out);
    assert_eq!(read(&file), before);
    // With a lower threshold the last group can go; the file is left with one group.
    sealant()
        .args([
            "groups",
            "delete",
            "-i",
            "--shamir-secret-sharing-threshold",
            "1",
        ])
        .arg(&file)
        .arg("1")
        .env("SOPS_AGE_KEY_FILE", &keys)
        .succeeds();
    let out = sealant().arg("decrypt").arg(&file).key(1).succeeds();
    assert_same(&out.stdout, plain_yaml().as_bytes(), "layout kept");
    let plain = dir.join("plain.yaml");
    fs::write(&plain, plain_yaml()).unwrap();
    let out = sealant()
        .args(["groups", "add", "-f"])
        .arg(&plain)
        .args(["--age", &recipient(2)])
        .fails_with(1);
    assert!(
        out.stderr.contains("sops metadata not found"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out);
}

// ------------------------------------------------------------------------------------
// filestatus

#[test]
fn filestatus_prints_what_sops_prints() {
    let Some(sops) = sops() else { return };
    let (_d, dir) = workdir();
    let enc = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    let text = String::from_utf8(read(&enc)).unwrap();
    let mut cases: Vec<PathBuf> = vec![enc.clone(), vector("enc/simple.yaml")];
    for (name, body) in [
        ("plain.yaml", plain_yaml()),
        ("empty.yaml", String::new()),
        ("comments.yaml", "# only\n".into()),
        ("plain.json", plain_json()),
        ("nomac.yaml", with_field(&text, "mac:", Some("\"\""))),
        ("noversion.yaml", with_field(&text, "version:", None)),
    ] {
        let p = dir.join(name);
        fs::write(&p, body).unwrap();
        cases.push(p);
    }
    for case in &cases {
        let ours = sealant().arg("filestatus").arg(case).succeeds();
        let theirs = sops_run().arg("filestatus").arg(case).succeeds();
        assert_eq!(ours.stdout, theirs.stdout, "{}", case.display());
    }
    assert_eq!(
        sealant().arg("filestatus").arg(&enc).succeeds().stdout,
        b"{\"encrypted\":true}\n"
    );
    // Failures: exit 1 as sops (missing file, broken input, broken metadata); no file
    // argument: 100.
    let broken = dir.join("broken.json");
    fs::write(&broken, format!("{{\"password\": \"{SECRET}\"")).unwrap();
    let nolm = dir.join("nolm.yaml");
    fs::write(&nolm, with_field(&text, "lastmodified:", None)).unwrap();
    for case in [dir.join("missing.yaml"), broken, nolm] {
        let out = sealant().arg("filestatus").arg(&case).fails_with(1);
        assert!(
            out.stderr.contains("cannot check file status"),
            "{}",
            out.stderr
        );
        assert_no_secret(&out);
        sops_run().arg("filestatus").arg(&case).fails_with(1);
    }
    sealant().arg("filestatus").fails_with(100);
    sops.arg("filestatus").fails_with(100);
}

/// The text before the `sops` block (YAML).
fn body(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    text[..text.find("\nsops:").expect("a sops block")].to_string()
}

#[test]
fn rewrapping_keeps_a_sealant_file_outside_its_sops_block() {
    let (_d, dir) = workdir();
    let file = sealant_file(&dir, "s.yaml", &plain_yaml(), &[1]);
    let before = read(&file);
    sealant()
        .args(["groups", "add", "-i", "--age", &recipient(2), "-f"])
        .arg(&file)
        .key(1)
        .succeeds();
    let after = read(&file);
    assert_eq!(body(&before), body(&after));
    let field = |t: &[u8], f: &str| {
        String::from_utf8_lossy(t)
            .lines()
            .find(|l| l.trim_start().starts_with(f))
            .map(str::to_string)
    };
    for f in ["lastmodified:", "mac:", "sealant_layout:"] {
        assert_eq!(field(&before, f), field(&after, f), "{f}");
    }
}

#[test]
fn a_forged_envelope_is_never_passed_on() {
    // File A's envelope replaced by one holding file B's data key: the key unwraps, but
    // it is not A's; rewrapping it would lock everyone out. Refused (MAC, exit 51).
    let (_d, dir) = workdir();
    let a = sealant_file(&dir, "a.json", &plain_json(), &[1]);
    let b = sealant_file(&dir, "b.json", &plain_json(), &[1]);
    let mut doc: serde_json::Value = serde_json::from_slice(&read(&a)).unwrap();
    let other: serde_json::Value = serde_json::from_slice(&read(&b)).unwrap();
    doc["sops"]["age"][0]["enc"] = other["sops"]["age"][0]["enc"].clone();
    fs::write(&a, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let before = read(&a);
    let out = sealant()
        .args(["groups", "add", "-i", "--age", &recipient(2), "-f"])
        .arg(&a)
        .key(1)
        .fails_with(51);
    assert!(
        out.stderr.contains("does not decrypt the file's MAC"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out);
    assert_eq!(read(&a), before);
}
