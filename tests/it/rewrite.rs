//! `edit` and `replace`: rewriting an encrypted file changes only what changed, and the
//! editor's plaintext never outlives the command.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::*;

/// A shell script used as the editor; `$1` is the file to edit.
fn editor_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A copy of a committed rewrite fixture (its `lastmodified` lies in the past).
fn fixture(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::copy(repo().join("testdata/rewrite").join(name), &path).unwrap();
    path
}

/// The lines of `new` that differ from `old` (both must have the same number of lines).
fn changed_lines(old: &[u8], new: &[u8]) -> Vec<String> {
    let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    let (a, b): (Vec<_>, Vec<_>) = (old.lines().collect(), new.lines().collect());
    assert_eq!(a.len(), b.len(), "line count changed:\n{new}");
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(_, y)| y.to_string())
        .collect()
}

/// The changed lines are exactly: the value of `key`, `mac` and `lastmodified`.
fn assert_three_line_diff(old: &[u8], new: &[u8], key: &str) {
    let changed = changed_lines(old, new);
    let starts = |l: &String, p: &str| l.trim_start().trim_start_matches('"').starts_with(p);
    assert_eq!(changed.len(), 3, "changed lines: {changed:#?}");
    assert!(starts(&changed[0], key), "{changed:#?}");
    assert!(
        changed.iter().any(|l| starts(l, "lastmodified")),
        "{changed:#?}"
    );
    assert!(changed.iter().any(|l| starts(l, "mac")), "{changed:#?}");
}

#[test]
fn edit_changes_exactly_three_lines() {
    for name in ["twenty.yaml", "twenty.json"] {
        let dir = scratch();
        let file = fixture(dir.path(), name);
        let before = read(&file);
        let ed = editor_script(
            dir.path(),
            "ed",
            "sed -i 's/secret-value-07/rotated-07/' \"$1\"",
        );
        sealant()
            .arg("edit")
            .arg(&file)
            .key(1)
            .env("EDITOR", &ed)
            .succeeds();
        assert_three_line_diff(&before, &read(&file), "key07");
        let out = sealant().arg("decrypt").arg(&file).key(1).succeeds();
        assert!(out.stdout_str().contains("rotated-07"), "{name}");
    }
}

#[test]
fn bare_file_argument_edits_like_sops() {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let before = read(&file);
    let ed = editor_script(
        dir.path(),
        "ed",
        "sed -i 's/secret-value-03/new-03/' \"$1\"",
    );
    sealant()
        .arg(&file)
        .key(1)
        .env("SOPS_EDITOR", &ed)
        .succeeds();
    assert_three_line_diff(&before, &read(&file), "key03");
}

#[test]
fn an_editor_that_overwrites_the_file_still_gives_a_minimal_diff() {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let before = read(&file);
    let new_text = String::from_utf8(read(repo().join("testdata/rewrite/twenty.plain.yaml")))
        .unwrap()
        .replace("secret-value-11", "from-cp-11");
    let new_file = dir.path().join("new.yaml");
    std::fs::write(&new_file, new_text).unwrap();
    // What editor plugins do: replace the file (here with cp, through a new inode: mv).
    let ed = editor_script(
        dir.path(),
        "ed",
        &format!(
            "cp '{}' \"$1.tmp\" && mv \"$1.tmp\" \"$1\"",
            new_file.display()
        ),
    );
    sealant()
        .arg("edit")
        .arg(&file)
        .key(1)
        .env("EDITOR", &ed)
        .succeeds();
    assert_three_line_diff(&before, &read(&file), "key11");
}

#[test]
fn replace_changes_exactly_three_lines_and_nothing_when_equal() {
    for (name, plain) in [
        ("twenty.yaml", "twenty.plain.yaml"),
        ("twenty.json", "twenty.plain.json"),
    ] {
        let dir = scratch();
        let file = fixture(dir.path(), name);
        let before = read(&file);
        let plain = read(repo().join("testdata/rewrite").join(plain));
        // The same content: the file is not touched at all.
        sealant()
            .arg("replace")
            .arg(&file)
            .key(1)
            .stdin(plain.clone())
            .succeeds();
        assert_eq!(
            read(&file),
            before,
            "{name}: unchanged content rewrote the file"
        );
        let new = String::from_utf8(plain)
            .unwrap()
            .replace("secret-value-19", "replaced-19");
        sealant()
            .arg("replace")
            .arg(&file)
            .key(1)
            .stdin(new.clone())
            .succeeds();
        assert_three_line_diff(&before, &read(&file), "key19");
        let out = sealant().arg("decrypt").arg(&file).key(1).succeeds();
        assert_same(&out.stdout, new.as_bytes(), name);
    }
}

#[test]
fn equal_values_at_different_places_get_different_ciphertexts() {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let new = "list:\n  - same\n  - same\nother: same\n";
    sealant()
        .arg("replace")
        .arg(&file)
        .key(1)
        .stdin(new)
        .succeeds();
    let text = String::from_utf8(read(&file)).unwrap();
    let encs: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("mac") && l.contains("ENC["))
        .filter_map(|l| l.split("ENC[").nth(1))
        .collect();
    assert_eq!(encs.len(), 3, "{text}");
    assert!(
        encs[0] != encs[1] && encs[1] != encs[2] && encs[0] != encs[2],
        "{text}"
    );
}

#[test]
fn unchanged_edit_exits_200_and_leaves_the_file_alone() {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let before = read(&file);
    sealant()
        .arg("edit")
        .arg(&file)
        .key(1)
        .env("EDITOR", "true")
        .fails_with(200);
    assert_eq!(read(&file), before);
}

#[test]
fn editor_failure_and_missing_editor_exit_201() {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let before = read(&file);
    sealant()
        .arg("edit")
        .arg(&file)
        .key(1)
        .env("EDITOR", "false")
        .fails_with(201);
    let out = sealant()
        .arg("edit")
        .arg(&file)
        .key(1)
        .env("EDITOR", "")
        .env("SOPS_EDITOR", "")
        .env("PATH", dir.path())
        .fails_with(201);
    assert!(out.stderr.contains("no editor"), "{}", out.stderr);
    assert_eq!(read(&file), before);
}

#[test]
fn text_that_does_not_parse_reopens_the_editor_on_the_users_text() {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let runs = dir.path().join("runs");
    // First run: break the YAML (and keep a marker of the user's own edit); second run:
    // check the marker is still there (the user's text came back), then fix it.
    let ed = editor_script(
        dir.path(),
        "ed",
        &format!(
            "echo run >> '{runs}'\n\
             if [ $(wc -l < '{runs}') -eq 1 ]; then\n\
               sed -i 's/secret-value-05/my-edit-05/' \"$1\"; echo 'bad: [unclosed' >> \"$1\"\n\
             else\n\
               grep -q my-edit-05 \"$1\" || exit 3\n\
               sed -i '/^bad: /d' \"$1\"\n\
             fi",
            runs = runs.display()
        ),
    );
    let out = sealant()
        .arg("edit")
        .arg(&file)
        .key(1)
        .env("EDITOR", &ed)
        .stdin("\n")
        .succeeds();
    assert!(out.stderr.contains("twenty.yaml:23:"), "{}", out.stderr);
    assert!(out.stderr.contains("press Enter"), "{}", out.stderr);
    let clear = sealant().arg("decrypt").arg(&file).key(1).succeeds();
    assert!(clear.stdout_str().contains("key05: my-edit-05"));
    assert!(!clear.stdout_str().contains("bad:"));
}

#[test]
fn when_standard_input_ends_editing_stops_and_the_file_is_untouched() {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let before = read(&file);
    let runtime = dir.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let ed = editor_script(
        dir.path(),
        "ed",
        "echo 'bad: [SEALANT-CANARY-SECRET' >> \"$1\"",
    );
    let out = sealant()
        .arg("edit")
        .arg(&file)
        .key(1)
        .env("EDITOR", &ed)
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdin("")
        .fails_with(1);
    assert!(
        out.stderr.contains("standard input ended"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("SEALANT-CANARY-SECRET"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&file), before);
    assert_eq!(
        std::fs::read_dir(&runtime).unwrap().count(),
        0,
        "plaintext left behind"
    );
}

#[test]
fn saving_an_empty_file_gives_up_without_changes() {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let before = read(&file);
    let ed = editor_script(dir.path(), "ed", ": > \"$1\"");
    sealant()
        .arg("edit")
        .arg(&file)
        .key(1)
        .env("EDITOR", &ed)
        .fails_with(200);
    assert_eq!(read(&file), before);
}

#[test]
fn a_new_file_starts_from_a_template_and_is_encrypted_for_the_recipients() {
    let dir = scratch();
    let file = dir.path().join("new.yaml");
    // Left unchanged: nothing is created.
    sealant()
        .args(["edit", "--age", &recipient(1)])
        .arg(&file)
        .env("EDITOR", "true")
        .fails_with(200);
    assert!(!file.exists());
    let ed = editor_script(dir.path(), "ed", "printf 'token: s3cret\\n' > \"$1\"");
    sealant()
        .arg("edit")
        .arg(&file)
        .env("SOPS_AGE_RECIPIENTS", recipient(2))
        .env("EDITOR", &ed)
        .succeeds();
    let text = String::from_utf8(read(&file)).unwrap();
    assert!(
        text.contains("token: ENC[") && !text.contains("s3cret"),
        "{text}"
    );
    let out = sealant().arg("decrypt").arg(&file).key(2).succeeds();
    assert_same(&out.stdout, b"token: s3cret\n", "new file");
}

#[test]
fn the_workspace_is_private_and_removed_after_success() {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let runtime = dir.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let seen = dir.path().join("seen");
    let ed = editor_script(
        dir.path(),
        "ed",
        &format!(
            "stat -c '%a' \"$(dirname \"$1\")\" \"$1\" > '{}'; echo \"$1\" >> '{}'\n\
             sed -i 's/secret-value-01/x/' \"$1\"",
            seen.display(),
            seen.display()
        ),
    );
    sealant()
        .arg("edit")
        .arg(&file)
        .key(1)
        .env("EDITOR", &ed)
        .env("XDG_RUNTIME_DIR", &runtime)
        .succeeds();
    let seen = String::from_utf8(read(&seen)).unwrap();
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(&lines[..2], ["700", "600"], "{seen}");
    assert!(lines[2].starts_with(runtime.to_str().unwrap()), "{seen}");
    assert!(lines[2].ends_with("/twenty.yaml"), "{seen}");
    assert_eq!(
        std::fs::read_dir(&runtime).unwrap().count(),
        0,
        "workspace left behind"
    );
}

/// Starts `sealant edit` with an editor that records its file and waits; sends `signal`
/// to sealant once the editor runs; checks that sealant exits, that the target is
/// untouched and that no plaintext is left.
fn killed_mid_edit(signal: i32) {
    let dir = scratch();
    let file = fixture(dir.path(), "twenty.yaml");
    let before = read(&file);
    let runtime = dir.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let marker = dir.path().join("marker");
    let ed = editor_script(
        dir.path(),
        "ed",
        &format!("echo \"$1\" > '{}'\nexec sleep 30", marker.display()),
    );
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sealant"))
        .arg("edit")
        .arg(&file)
        .env("SOPS_AGE_KEY_FILE", key_file(1))
        .env("EDITOR", &ed)
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !marker.exists() || read(&marker).is_empty() {
        assert!(Instant::now() < deadline, "the editor never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let plaintext = PathBuf::from(String::from_utf8(read(&marker)).unwrap().trim());
    assert!(
        plaintext.exists(),
        "the plaintext should exist while editing"
    );
    // SAFETY: sending a signal to a child process we own.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128 + signal), "{stderr}");
    assert!(
        !plaintext.exists(),
        "plaintext left at {}",
        plaintext.display()
    );
    assert_eq!(
        std::fs::read_dir(&runtime).unwrap().count(),
        0,
        "workspace left behind"
    );
    assert_eq!(read(&file), before, "the target changed");
}

#[test]
fn sigint_mid_edit_leaves_no_plaintext() {
    killed_mid_edit(libc::SIGINT);
}

#[test]
fn sigterm_mid_edit_leaves_no_plaintext() {
    killed_mid_edit(libc::SIGTERM);
}

/// Replaces one more value of `file` (already edited) through `replace`; returns the
/// new line.
fn ours_after_edit_then_replace(file: &Path) -> String {
    let clear = sealant()
        .arg("decrypt")
        .arg(file)
        .key(1)
        .succeeds()
        .stdout_str();
    let line = "key13: replaced-13".to_string();
    let new = clear.replace("key13: secret-value-13", &line);
    sealant()
        .arg("replace")
        .arg(file)
        .key(1)
        .stdin(new)
        .succeeds();
    line
}

#[test]
fn sops_reads_files_after_edit_and_replace_and_sealant_edits_sops_files() {
    let Some(_) = sops() else { return };
    let dir = scratch();
    // sealant's file, after edit and after replace.
    let file = fixture(dir.path(), "twenty.yaml");
    let ed = editor_script(dir.path(), "ed", "sed -i 's/secret-value-02/e-02/' \"$1\"");
    sealant()
        .arg("edit")
        .arg(&file)
        .key(1)
        .env("EDITOR", &ed)
        .succeeds();
    let replaced = ours_after_edit_then_replace(&file);
    let ours = sealant().arg("decrypt").arg(&file).key(1).succeeds();
    let theirs = sops().unwrap().arg("decrypt").arg(&file).key(1).succeeds();
    let ours_text = ours.stdout_str();
    assert!(ours_text.contains("key02: e-02"));
    assert!(ours_text.contains(&replaced));
    // sops prints its own layout: compare the data, key by key.
    for line in ours_text.lines().filter(|l| l.starts_with("key")) {
        assert!(theirs.stdout_str().contains(line), "sops lacks {line}");
    }
    // A file sops wrote: sealant edits it, keeps sops's layout, sops reads it.
    let plain = repo().join("testdata/rewrite/twenty.plain.yaml");
    let sops_file = dir.path().join("by-sops.yaml");
    let enc = sops()
        .unwrap()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&plain)
        .succeeds();
    std::fs::write(&sops_file, &enc.stdout).unwrap();
    let ed = editor_script(dir.path(), "ed2", "sed -i 's/secret-value-09/e-09/' \"$1\"");
    sealant()
        .arg("edit")
        .arg(&sops_file)
        .key(1)
        .env("EDITOR", &ed)
        .succeeds();
    let after = read(&sops_file);
    let changed = changed_lines(&enc.stdout, &after);
    assert!(changed.len() <= 3, "{changed:#?}");
    assert!(
        changed.iter().any(|l| l.starts_with("key09:")),
        "{changed:#?}"
    );
    let out = sops()
        .unwrap()
        .arg("decrypt")
        .arg(&sops_file)
        .key(1)
        .succeeds();
    assert!(out.stdout_str().contains("key09: e-09"));
}
