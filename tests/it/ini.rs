//! The INI store against sops: the corpus round-trips byte for byte and reads in sops
//! as sops's own encryption; sops's INI vectors decrypt to what `sops decrypt` prints;
//! conversions to and from INI match sops or fail cleanly; tampering fails as in sops.

use std::path::{Path, PathBuf};

use crate::corpus::{assert_bad_inputs, assert_round_trips, corpus_in, sops_reads_like_its_own};
use crate::support::*;

fn ini_corpus() -> Vec<PathBuf> {
    corpus_in("ini", "ini")
}

#[test]
fn ini_corpus_round_trips_byte_for_byte() {
    assert_round_trips(&ini_corpus(), &[]);
}

#[test]
fn sops_reads_the_ini_corpus_as_its_own() {
    sops_reads_like_its_own(&ini_corpus(), &recipient(1), &[1]);
}

#[test]
fn bad_ini_inputs_fail_with_their_place() {
    assert_bad_inputs("ini", &[]);
}

/// `SOPS_AGE_KEY` holding the given identities.
fn identities(ns: &[u8]) -> String {
    ns.iter()
        .map(|n| String::from_utf8(read(key_file(*n))).expect("utf-8 key"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (encrypted, expected, identity sets that work, identities that fail)
type VectorCase = (
    &'static str,
    &'static str,
    &'static [&'static [u8]],
    &'static [u8],
);

#[test]
fn sops_ini_vectors_decrypt_to_the_expected_bytes() {
    let cases: &[VectorCase] = &[
        ("enc/ini_basic.ini", "expected/ini_basic.ini", &[&[1]], &[2]),
        (
            "enc/shamir_2of3.ini",
            "expected/shamir_2of3.ini",
            &[&[1, 2], &[1, 3], &[2, 3]],
            &[1, 2, 3],
        ),
        (
            "handmade/hand.ini",
            "handmade/expected/hand.ini",
            &[&[1]],
            &[],
        ),
    ];
    for (file, expected, works, fails) in cases {
        let expected = read(vector(expected));
        for set in *works {
            let out = sealant()
                .arg("decrypt")
                .arg(vector(file))
                .env("SOPS_AGE_KEY", identities(set))
                .succeeds();
            assert_same(&out.stdout, &expected, &format!("{file} with {set:?}"));
        }
        for n in *fails {
            sealant()
                .arg("decrypt")
                .arg(vector(file))
                .key(*n)
                .fails_with(128);
        }
    }
}

/// sops's output for `args` on `file` (skips the comparison when sops is absent).
fn sops_out(args: &[&str], file: &Path) -> Option<Vec<u8>> {
    Some(
        sops()?
            .args(args.iter().copied())
            .arg(file)
            .key(1)
            .succeeds()
            .stdout,
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

/// Each corpus file encrypted by sops decrypts with sealant to exactly what
/// `sops decrypt` prints, as INI (go-ini's writer), YAML and JSON.
#[test]
fn files_sops_wrote_decrypt_as_sops_prints_them_in_every_format() {
    let Some(_) = sops() else { return };
    let dir = scratch();
    for file in ini_corpus() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        // A file sops encrypted, decrypted to another format.
        let theirs = write(
            dir.path(),
            &format!("sops-{name}"),
            &sops_out(&["encrypt", "--age", &recipient(1)], &file).unwrap(),
        );
        for to in ["ini", "yaml", "json"] {
            let want = sops_out(&["decrypt", "--output-type", to], &theirs).unwrap();
            let got = sealant()
                .args(["decrypt", "--output-type", to])
                .arg(&theirs)
                .key(1)
                .succeeds();
            assert_same(&got.stdout, &want, &format!("{name} -> {to}"));
        }
        // sealant's encryption to JSON reads in sops as sops's own (JSON has no comments;
        // YAML would differ only by the end-of-file comments sops drops and sealant keeps).
        let ours = write(
            dir.path(),
            &format!("{name}.json"),
            &sealant()
                .args(["encrypt", "--age", &recipient(1), "--output-type", "json"])
                .arg(&file)
                .succeeds()
                .stdout,
        );
        let want = sops_out(&["decrypt", "--output-type", "json"], &theirs).unwrap();
        let got = sops_out(&["decrypt"], &ours).unwrap();
        assert_same(&got, &want, &format!("{name} encrypted to json"));
    }
}

#[test]
fn yaml_and_json_convert_to_ini_as_sops_converts_them() {
    let Some(_) = sops() else { return };
    let dir = scratch();
    let json = write(
        dir.path(),
        "c.json",
        br#"{"sec": {"sp": " lead", "tr": "trail ", "semi": "a;b", "nl": "a\nb", "bt": "a`b", "int": 42, "float": 1.5, "big": 1e21, "small": 0.00001, "t": true, "empty": "", "k=ey": "v", "k`b": "v"}, "DEFAULT": {"g": "x"}, "other": {"x": "y"}}"#,
    );
    let yaml = write(
        dir.path(),
        "c.yaml",
        b"# head\ns:\n  # about a\n  a: 1\n  b: 2020-01-02T03:04:05Z\n  c: yes\nt:\n  x_unencrypted: 7\n",
    );
    for file in [&json, &yaml] {
        let theirs = write(
            dir.path(),
            "theirs.enc",
            &sops_out(&["encrypt", "--age", &recipient(1)], file).unwrap(),
        );
        let input = if file == &json { "json" } else { "yaml" };
        let want = sops_out(
            &["decrypt", "--input-type", input, "--output-type", "ini"],
            &theirs,
        )
        .unwrap();
        let got = sealant()
            .args(["decrypt", "--input-type", input, "--output-type", "ini"])
            .arg(&theirs)
            .key(1)
            .succeeds();
        assert_same(&got.stdout, &want, &format!("{input} -> ini"));
        // Encrypting straight to INI gives a file sops reads as the same data.
        let ours = write(
            dir.path(),
            "ours.ini",
            &sealant()
                .args(["encrypt", "--age", &recipient(1), "--output-type", "ini"])
                .arg(file)
                .succeeds()
                .stdout,
        );
        // Compared with sops's own encryption to INI (values become INI strings there).
        let theirs_ini = write(
            dir.path(),
            "theirs.ini",
            &sops_out(
                &["encrypt", "--age", &recipient(1), "--output-type", "ini"],
                file,
            )
            .unwrap(),
        );
        let want = sops_out(&["decrypt", "--output-type", "json"], &theirs_ini).unwrap();
        let got = sops_out(&["decrypt", "--output-type", "json"], &ours).unwrap();
        assert_same(
            &got,
            &want,
            &format!("{input} encrypted to ini, read by sops"),
        );
    }
}

#[test]
fn trees_ini_cannot_hold_are_refused_with_exit_4() {
    let dir = scratch();
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "top.yaml",
            b"a: SEALANT-CANARY-SECRET\n",
            "Section values should always be TreeBranches",
        ),
        (
            "nested.yaml",
            b"a:\n  b:\n    c: SEALANT-CANARY-SECRET\n",
            "one level",
        ),
        (
            "list.json",
            br#"{"a": {"b": ["SEALANT-CANARY-SECRET"]}}"#,
            "one level",
        ),
        (
            "null.yaml",
            b"a:\n  b: null\n  c: SEALANT-CANARY-SECRET\n",
            "null",
        ),
    ];
    for (name, content, why) in cases {
        let file = write(dir.path(), name, content);
        let out = sealant()
            .args(["encrypt", "--age", &recipient(1), "--output-type", "ini"])
            .arg(&file)
            .fails_with(4);
        assert!(out.stdout.is_empty(), "{name}: no output");
        assert!(out.stderr.contains(why), "{name}: {}", out.stderr);
        assert!(
            !out.stderr.contains("SEALANT-CANARY-SECRET"),
            "{}",
            out.stderr
        );
        // Decrypting to INI is refused the same way.
        let enc = write(
            dir.path(),
            &format!("{name}.enc"),
            &sealant()
                .args(["encrypt", "--age", &recipient(1)])
                .arg(&file)
                .succeeds()
                .stdout,
        );
        let input = if name.ends_with("json") {
            "json"
        } else {
            "yaml"
        };
        let out = sealant()
            .args(["decrypt", "--input-type", input, "--output-type", "ini"])
            .arg(&enc)
            .key(1)
            .fails_with(4);
        assert!(out.stdout.is_empty() && !out.stderr.contains("SEALANT-CANARY-SECRET"));
    }
}

/// A file whose layout sealant cannot splice is written in sops's layout and decrypts
/// to what sops prints.
#[test]
fn duplicate_keys_are_written_as_sops_writes_them() {
    let dir = scratch();
    let file = write(
        dir.path(),
        "dup.ini",
        b"[s]\n; old password, kept by go-ini as nothing\npassword = SEALANT-CANARY-SECRET\nuser = app\npassword = current ; note\n",
    );
    let enc = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&file)
        .succeeds()
        .stdout;
    let text = String::from_utf8(enc.clone()).unwrap();
    assert!(!text.contains("SEALANT-CANARY-SECRET"), "{text}");
    assert!(
        !text.contains("sealant_version"),
        "written afresh, like sops: {text}"
    );
    let enc = write(dir.path(), "dup.enc.ini", &enc);
    let got = sealant().arg("decrypt").arg(&enc).key(1).succeeds().stdout;
    assert_same(
        &got,
        b"[s]\n; note\npassword = current\nuser     = app\n",
        "dup",
    );
    if let Some(want) = sops_out(&["decrypt"], &enc) {
        assert_same(&got, &want, "sops reads it the same");
    }
}

#[test]
fn a_banner_comment_that_makes_sops_panic_decrypts_with_sealant() {
    // go-ini's writer indexes the first character of every comment line; a comment
    // block that starts with a line of comment characters only gives an empty first
    // line, and `sops decrypt` panics. sealant writes `; ` there.
    let dir = scratch();
    let file = write(
        dir.path(),
        "banner.ini",
        b"[s]\n;;;;;;\n; banner\n;;;;;;\nk = v\n",
    );
    if let Some(mut sops) = sops() {
        sops = sops.args(["encrypt", "--age", &recipient(1)]).arg(&file);
        let theirs = write(dir.path(), "sops.ini", &sops.succeeds().stdout);
        let out = sealant().arg("decrypt").arg(&theirs).key(1).succeeds();
        assert_same(
            &out.stdout,
            b"[s]\n; \n; banner\n; ;;;;;\nk = v\n",
            "afresh",
        );
    }
    // sealant's own file gives back the user's bytes.
    let ours = write(
        dir.path(),
        "ours.ini",
        &sealant()
            .args(["encrypt", "--age", &recipient(1)])
            .arg(&file)
            .succeeds()
            .stdout,
    );
    let out = sealant().arg("decrypt").arg(&ours).key(1).succeeds();
    assert_same(&out.stdout, &read(&file), "spliced");
}

/// Replaces the first match of `from` after `after` with `to`.
fn edit(text: &str, after: &str, from: &str, to: &str) -> String {
    let at = text.find(after).expect("anchor") + after.len();
    let rel = text[at..].find(from).expect("text to change");
    let mut s = text.to_string();
    s.replace_range(at + rel..at + rel + from.len(), to);
    s
}

fn enc_value<'t>(text: &'t str, key: &str) -> &'t str {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key} ")))
        .expect("key line");
    let start = line.find("ENC[").expect("ENC");
    &line[start..line.rfind(']').unwrap() + 1]
}

#[test]
fn tampering_fails_with_sops_exit_codes() {
    let dir = scratch();
    let plain = write(
        dir.path(),
        "t.ini",
        b"[db]\nalpha = first secret\nbravo = second secret\nvisible_unencrypted = shown\n",
    );
    let mut files = vec![(
        "sealant",
        String::from_utf8(
            sealant()
                .args(["encrypt", "--age", &recipient(1)])
                .arg(&plain)
                .succeeds()
                .stdout,
        )
        .unwrap(),
    )];
    if let Some(out) = sops_out(&["encrypt", "--age", &recipient(1)], &plain) {
        files.push(("sops", String::from_utf8(out).unwrap()));
    }
    for (who, text) in files {
        let (a, b) = (enc_value(&text, "alpha"), enc_value(&text, "bravo"));
        let swapped = text
            .replacen(a, "@A@", 1)
            .replacen(b, a, 1)
            .replacen("@A@", b, 1);
        let changed = edit(&text, "visible_unencrypted", "shown", "SHOWN");
        let reordered = {
            let la = text.lines().find(|l| l.starts_with("alpha")).unwrap();
            let lb = text.lines().find(|l| l.starts_with("bravo")).unwrap();
            text.replacen(la, "@A@", 1)
                .replacen(lb, la, 1)
                .replacen("@A@", lb, 1)
        };
        let lastmod = {
            let line = text
                .lines()
                .find(|l| l.starts_with("lastmodified"))
                .unwrap();
            text.replacen(line, &line.replacen("20", "19", 1), 1)
        };
        // (case, exit code, exit code with --ignore-mac)
        for (case, tampered, code, ignoring) in [
            ("swapped values", swapped, 25, 25),
            ("clear value changed", changed, 51, 0),
            ("lines reordered", reordered, 51, 0),
            ("lastmodified changed", lastmod, 51, 0),
        ] {
            let f = write(dir.path(), "tampered.ini", tampered.as_bytes());
            let out = sealant().arg("decrypt").arg(&f).key(1).run();
            assert_eq!(out.code, code, "{who} file, {case}: {}", out.stderr);
            assert!(out.stdout.is_empty(), "{who} file, {case}: no output");
            let out = sealant()
                .args(["decrypt", "--ignore-mac"])
                .arg(&f)
                .key(1)
                .run();
            assert_eq!(
                out.code, ignoring,
                "{who} file, {case}, --ignore-mac: {}",
                out.stderr
            );
            if let Some(s) = sops() {
                let theirs = s.arg("decrypt").arg(&f).key(1).run();
                assert_eq!(theirs.code, code, "sops on the {who} file, {case}");
            }
        }
    }
}

#[test]
fn an_encrypted_ini_file_is_not_encrypted_again() {
    sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(vector("enc/ini_basic.ini"))
        .fails_with(203);
}
