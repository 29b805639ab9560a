//! The dotenv store end to end: the corpus round-trips byte for byte and sops reads it
//! as its own; files sops wrote decrypt to exactly what `sops decrypt` prints;
//! conversions to and from YAML and JSON agree with sops; tampering fails as in sops;
//! bad inputs fail with sops's exit codes and no secret in the message.

use std::fs;
use std::path::{Path, PathBuf};

use crate::corpus::{assert_bad_inputs, assert_round_trips, corpus_in, sops_reads_like_its_own};
use crate::support::*;

fn corpus() -> Vec<PathBuf> {
    corpus_in("dotenv", "env")
}

#[test]
fn corpus_round_trips_byte_for_byte() {
    assert_round_trips(&corpus(), &[]);
}

#[test]
fn sops_reads_the_corpus_as_its_own() {
    sops_reads_like_its_own(&corpus(), &recipient(1), &[1]);
}

#[test]
fn bad_inputs_fail_with_place_and_code() {
    assert_bad_inputs("dotenv", &[]);
}

/// `SOPS_AGE_KEY` holding the given identities.
fn identities(ns: &[u8]) -> String {
    ns.iter()
        .map(|n| String::from_utf8(read(key_file(*n))).expect("utf-8 key"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (encrypted file, expected output, identity sets that work, identities that fail)
type Case = (
    &'static str,
    &'static str,
    &'static [&'static [u8]],
    &'static [u8],
);

#[test]
fn sops_vectors_decrypt_to_the_expected_bytes() {
    let cases: &[Case] = &[
        (
            "enc/dotenv_basic.env",
            "expected/dotenv_basic.env",
            &[&[1]],
            &[2],
        ),
        (
            "handmade/hand.env",
            "handmade/expected/hand.env",
            &[&[1]],
            &[3],
        ),
        (
            "enc/shamir_2of3.env",
            "expected/shamir_2of3.env",
            &[&[1, 2], &[1, 3], &[2, 3]],
            &[1, 2, 3],
        ),
    ];
    for (file, expected, works, fails) in cases {
        for set in *works {
            let out = sealant()
                .arg("decrypt")
                .arg(vector(file))
                .env("SOPS_AGE_KEY", identities(set))
                .succeeds();
            assert_same(&out.stdout, &read(vector(expected)), file);
        }
        for n in *fails {
            sealant()
                .arg("decrypt")
                .arg(vector(file))
                .key(*n)
                .fails_with(128);
        }
    }
    // A YAML file sops wrote, printed as dotenv (an int becomes `8080`).
    let out = sealant()
        .args(["decrypt", "--output-type", "dotenv"])
        .arg(vector("enc/simple.yaml"))
        .key(1)
        .succeeds();
    assert_same(
        &out.stdout,
        &read(vector("expected/simple.yaml.as.env")),
        "simple.yaml as dotenv",
    );
    // --extract prints the raw string, as sops does.
    let out = sealant()
        .args(["decrypt", "--extract", r#"["MULTILINE"]"#])
        .arg(vector("enc/dotenv_basic.env"))
        .key(1)
        .succeeds();
    assert_eq!(out.stdout, b"line1\nline2\nline3");
}

#[test]
fn blank_lines_are_kept_where_sops_drops_them() {
    let dir = scratch();
    let plain = "# head\n\nA=1\n\n\nB=two\n";
    let file = dir.path().join("blank.env");
    fs::write(&file, plain).unwrap();
    let enc = dir.path().join("blank.enc.env");
    let out = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&file)
        .succeeds();
    fs::write(&enc, &out.stdout).unwrap();
    let text = out.stdout_str();
    assert!(text.starts_with("#ENC["), "{text}");
    assert!(text.contains("]\n\nA=ENC["), "{text}");
    assert!(text.contains("sops_sealant_version="), "{text}");
    let back = sealant().arg("decrypt").arg(&enc).key(1).succeeds();
    assert_eq!(back.stdout_str(), plain);
    if let Some(s) = sops() {
        // sops reads the same values (its output drops the blank lines).
        let theirs = s.arg("decrypt").arg(&enc).key(1).succeeds();
        assert_eq!(theirs.stdout_str(), "# head\nA=1\nB=two\n");
        assert!(!theirs.stderr.contains("level=warn"), "{}", theirs.stderr);
    }
}

/// Encrypts `input` with sealant and with sops (if present) using `flags`; returns
/// (sealant's file, sops's file).
fn encrypt_both(dir: &Path, input: &Path, flags: &[&str], ext: &str) -> (PathBuf, Option<PathBuf>) {
    let ours = dir.join(format!("sealant.{ext}"));
    let out = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .args(flags.iter().copied())
        .arg(input)
        .succeeds();
    fs::write(&ours, out.stdout).unwrap();
    let theirs = sops().map(|s| {
        let path = dir.join(format!("sops.{ext}"));
        let out = s
            .args(["encrypt", "--age", &recipient(1)])
            .args(flags.iter().copied())
            .arg(input)
            .succeeds();
        fs::write(&path, out.stdout).unwrap();
        path
    });
    (ours, theirs)
}

/// sops and sealant decrypt each file to the same bytes; returns sealant's output for
/// its own file. With `same_files`, sops's file must also decrypt like sealant's.
fn all_decrypt_alike(
    ours: &Path,
    theirs: Option<&Path>,
    flags: &[&str],
    same_files: bool,
) -> Vec<u8> {
    let decrypt = |run: Run, file: &Path| {
        run.arg("decrypt")
            .args(flags.iter().copied())
            .arg(file)
            .key(1)
            .succeeds()
            .stdout
    };
    let want = decrypt(sealant(), ours);
    let Some(theirs) = theirs else { return want };
    for file in [ours, theirs] {
        let by_sops = decrypt(sops().expect("sops"), file);
        let by_us = decrypt(sealant(), file);
        let what = format!("sealant and sops decrypt {}", file.display());
        assert_same(&by_us, &by_sops, &what);
        if same_files {
            assert_same(&by_us, &want, &format!("{what} like sealant's file"));
        }
    }
    want
}

#[test]
fn dotenv_converts_to_yaml_and_json_as_in_sops() {
    let dir = scratch();
    let input = vector("plain/dotenv_basic.env");
    for (out_type, ext) in [("yaml", "yaml"), ("json", "json")] {
        let (ours, theirs) = encrypt_both(dir.path(), &input, &["--output-type", out_type], ext);
        let text = fs::read_to_string(&ours).unwrap();
        assert!(
            !text.contains("sealant_version"),
            "a conversion is written as sops writes it"
        );
        all_decrypt_alike(&ours, theirs.as_deref(), &[], true);
    }
    // A file sops wrote, printed as YAML and as JSON.
    let Some(_) = sops() else { return };
    for out_type in ["yaml", "json"] {
        let flags = ["--output-type", out_type];
        let want = sops()
            .unwrap()
            .arg("decrypt")
            .args(flags)
            .arg(vector("enc/dotenv_basic.env"))
            .key(1)
            .succeeds();
        let got = sealant()
            .arg("decrypt")
            .args(flags)
            .arg(vector("enc/dotenv_basic.env"))
            .key(1)
            .succeeds();
        assert_same(&got.stdout, &want.stdout, out_type);
    }
}

#[test]
fn yaml_and_json_convert_to_dotenv_as_in_sops() {
    let dir = scratch();
    let yaml = dir.path().join("types.yaml");
    fs::write(
        &yaml,
        "# top comment\ns: hello\nmulti: \"a\\nb\"\ni: 42\nneg: -7\nf: 1.5\nfw: 1.0\n\
         fbig: 1234567.0\nfsmall: 0.00001\nf6: 123456.0\ninf: .inf\nnan: .nan\nb: true\n\
         t: 2024-01-02T03:04:05.123Z\nd: 2024-01-02\ne: \"\"\nk_unencrypted: 3\n",
    )
    .unwrap();
    let json = dir.path().join("flat.json");
    fs::write(
        &json,
        "{\"url\": \"postgres://u:p@h/db\", \"port\": 5432, \"ratio\": 0.5, \"on\": false, \"note_unencrypted\": \"x\"}\n",
    )
    .unwrap();
    for (input, name) in [(&yaml, "yaml"), (&json, "json")] {
        let sub = dir.path().join(name);
        fs::create_dir(&sub).unwrap();
        let (ours, theirs) = encrypt_both(&sub, input, &["--output-type", "dotenv"], "env");
        // sops reads JSON numbers as floats (`5432.0` in dotenv) where sealant keeps
        // integers (`type:int`, docs/COMPATIBILITY.md): each tool agrees on each file,
        // and the two files agree for YAML.
        let clear = all_decrypt_alike(&ours, theirs.as_deref(), &[], name == "yaml");
        if name == "yaml" {
            // sops's plain dotenv emitter: Go's %G floats with a decimal, RFC 3339 times.
            assert_same(
                &clear,
                b"# top comment\ns=hello\nmulti=a\\nb\ni=42\nneg=-7\nf=1.5\nfw=1.0\n\
                  fbig=1.234567E+06\nfsmall=1E-05\nf6=123456.0\ninf=+Inf\nnan=NaN\nb=true\n\
                  t=2024-01-02T03:04:05Z\nd=2024-01-02T00:00:00Z\ne=\nk_unencrypted=3\n",
                "yaml types as dotenv",
            );
        }
        // Back from dotenv to the input's format: the values as dotenv holds them.
        let back = sealant()
            .args(["decrypt", "--output-type", name])
            .arg(&ours)
            .key(1)
            .succeeds();
        if let Some(s) = sops() {
            let want = s
                .args(["decrypt", "--output-type", name])
                .arg(&ours)
                .key(1)
                .succeeds();
            assert_same(
                &back.stdout,
                &want.stdout,
                &format!("{name} -> dotenv -> {name}"),
            );
        }
    }
}

#[test]
fn clear_non_strings_in_a_converted_file_keep_the_mac() {
    // sops writes `b_unencrypted=true` here and then fails its own MAC (exit 51);
    // sealant writes the MAC's plaintext (`True`), which both tools read back.
    let dir = scratch();
    let yaml = dir.path().join("c.yaml");
    fs::write(&yaml, "a: x\nb_unencrypted: true\nf_unencrypted: 1.0\n").unwrap();
    let out = sealant()
        .args(["encrypt", "--output-type", "dotenv", "--age", &recipient(1)])
        .arg(&yaml)
        .succeeds();
    let text = out.stdout_str();
    assert!(
        text.contains("\nb_unencrypted=True\nf_unencrypted=1\n"),
        "{text}"
    );
    let enc = dir.path().join("c.env");
    fs::write(&enc, &out.stdout).unwrap();
    let ours = sealant().arg("decrypt").arg(&enc).key(1).succeeds();
    assert_eq!(
        ours.stdout_str(),
        "a=x\nb_unencrypted=True\nf_unencrypted=1\n"
    );
    if let Some(s) = sops() {
        let theirs = s.arg("decrypt").arg(&enc).key(1).succeeds();
        assert_eq!(theirs.stdout, ours.stdout);
    }
}

#[test]
fn nested_and_null_values_cannot_become_dotenv() {
    let dir = scratch();
    let nested = dir.path().join("nested.yaml");
    fs::write(&nested, "a:\n  b: SEALANT-CANARY-SECRET\n").unwrap();
    let out = sealant()
        .args(["encrypt", "--output-type", "dotenv", "--age", &recipient(1)])
        .arg(&nested)
        .fails_with(4);
    assert!(
        out.stderr
            .contains("cannot use complex value in dotenv file"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("SEALANT-CANARY-SECRET"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    if let Some(s) = sops() {
        s.args(["encrypt", "--output-type", "dotenv", "--age", &recipient(1)])
            .arg(&nested)
            .fails_with(4);
    }
    // Decrypting a nested file sops wrote to dotenv: exit 4 as in sops.
    sealant()
        .args(["decrypt", "--output-type", "dotenv"])
        .arg(vector("enc/yaml_types.yaml"))
        .key(1)
        .fails_with(4);

    // A null: sops prints `<nil>` when decrypting, and writes an encrypted file it cannot
    // read back; sealant prints the same and refuses the encrypted file.
    let null = dir.path().join("null.yaml");
    fs::write(&null, "a: x\nn: null\n").unwrap();
    sealant()
        .args(["encrypt", "--output-type", "dotenv", "--age", &recipient(1)])
        .arg(&null)
        .fails_with(4);
    let enc = dir.path().join("null.enc.yaml");
    let out = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&null)
        .succeeds();
    fs::write(&enc, out.stdout).unwrap();
    let ours = sealant()
        .args(["decrypt", "--output-type", "dotenv"])
        .arg(&enc)
        .key(1)
        .succeeds();
    assert_eq!(ours.stdout_str(), "a=x\nn=<nil>\n");
    if let Some(s) = sops() {
        let theirs = s
            .args(["decrypt", "--output-type", "dotenv"])
            .arg(&enc)
            .key(1)
            .succeeds();
        assert_eq!(theirs.stdout, ours.stdout);
    }
}

#[test]
fn input_type_dotenv_reads_env_example_files() {
    let dir = scratch();
    let plain = read(corpus_in("dotenv", "env")[0].clone());
    let example = dir.path().join(".env.example");
    fs::write(&example, &plain).unwrap();
    // Without --input-type, sops and sealant read `.env.example` as binary.
    let out = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&example)
        .succeeds();
    assert!(out.stdout.starts_with(b"{"), "binary envelope");
    let out = sealant()
        .args(["encrypt", "--input-type", "dotenv", "--age", &recipient(1)])
        .arg(&example)
        .succeeds();
    let text = out.stdout_str();
    assert!(text.contains("\nsops_version="), "{text}");
    let enc = dir.path().join("enc.env.example");
    fs::write(&enc, &out.stdout).unwrap();
    let back = sealant()
        .args(["decrypt", "--input-type", "dotenv"])
        .arg(&enc)
        .key(1)
        .succeeds();
    assert_eq!(back.stdout, plain);
    // sops takes the output type from the file name unless told (`.env.example` would
    // be binary), so the spelling that works for both names both types.
    let both = ["--input-type", "dotenv", "--output-type", "dotenv"];
    let ours = sealant()
        .arg("decrypt")
        .args(both)
        .arg(&enc)
        .key(1)
        .succeeds();
    assert_eq!(ours.stdout, plain);
    if let Some(s) = sops() {
        let theirs = s.arg("decrypt").args(both).arg(&enc).key(1).succeeds();
        let sops_own = dir.path().join("sops.env.example");
        let out = sops()
            .unwrap()
            .args(["encrypt", "--age", &recipient(1)])
            .args(both)
            .arg(&example)
            .succeeds();
        fs::write(&sops_own, out.stdout).unwrap();
        let want = sops()
            .unwrap()
            .arg("decrypt")
            .args(both)
            .arg(&sops_own)
            .key(1)
            .succeeds();
        assert_same(
            &theirs.stdout,
            &want.stdout,
            "sops reads sealant's .env.example",
        );
        let ours = sealant()
            .arg("decrypt")
            .args(both)
            .arg(&sops_own)
            .key(1)
            .succeeds();
        assert_same(
            &ours.stdout,
            &want.stdout,
            "sealant reads sops's .env.example",
        );
    }
    // A file named exactly `.env` is dotenv by its name.
    let dotenv = dir.path().join(".env");
    fs::write(&dotenv, "A=1\n").unwrap();
    let out = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&dotenv)
        .succeeds();
    assert!(
        out.stdout_str().starts_with("A=ENC["),
        "{}",
        out.stdout_str()
    );
}

/// Tampered copies of an encrypted file: (name, change, exit, exit with --ignore-mac).
type Tamper = (&'static str, fn(&str) -> String, i32, i32);

fn swap_values(text: &str, a: &str, b: &str) -> String {
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .expect("key")
            .to_string()
    };
    let (va, vb) = (value(a), value(b));
    text.replace(&format!("{a}={va}"), &format!("{a}={vb}"))
        .replacen(&format!("{b}={vb}"), &format!("{b}={va}"), 1)
}

#[test]
fn tampering_fails_as_in_sops() {
    let cases: [Tamper; 6] = [
        (
            "swapped",
            |t| swap_values(t, "DB_PASSWORD", "API_KEY"),
            25,
            25,
        ),
        (
            "clear value changed",
            |t| {
                t.replace(
                    "REGION_unencrypted=eu-west-1",
                    "REGION_unencrypted=us-east-1",
                )
            },
            51,
            0,
        ),
        (
            "lines reordered",
            |t| {
                let mut lines: Vec<&str> = t.split_inclusive('\n').collect();
                let a = lines
                    .iter()
                    .position(|l| l.starts_with("DB_PASSWORD="))
                    .unwrap();
                let b = lines
                    .iter()
                    .position(|l| l.starts_with("API_KEY="))
                    .unwrap();
                lines.swap(a, b);
                lines.concat()
            },
            51,
            0,
        ),
        (
            "lastmodified changed",
            |t| {
                let at = t.find("sops_lastmodified=").unwrap() + "sops_lastmodified=".len();
                format!("{}1999{}", &t[..at], &t[at + 4..])
            },
            51,
            0,
        ),
        (
            "mac removed",
            |t| {
                t.split_inclusive('\n')
                    .filter(|l| !l.starts_with("sops_mac="))
                    .collect()
            },
            51,
            0,
        ),
        (
            "ciphertext changed",
            |t| {
                t.replacen(
                    "DB_PASSWORD=ENC[AES256_GCM,data:",
                    "DB_PASSWORD=ENC[AES256_GCM,data:AA",
                    1,
                )
            },
            25,
            25,
        ),
    ];
    let dir = scratch();
    let source = repo().join("testdata/corpus/dotenv/unencrypted-suffix.env");
    let enc = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&source)
        .succeeds()
        .stdout_str();
    for (name, change, code, ignoring) in cases {
        let tampered = change(&enc);
        assert_ne!(tampered, enc, "{name}: the change applies");
        let file = dir.path().join("t.env");
        fs::write(&file, &tampered).unwrap();
        let out = sealant().arg("decrypt").arg(&file).key(1).fails_with(code);
        assert!(out.stdout.is_empty(), "{name}: nothing printed");
        assert!(!out.stderr.contains("8sY#kq2"), "{name}: {}", out.stderr);
        sealant()
            .args(["decrypt", "--ignore-mac"])
            .arg(&file)
            .key(1)
            .fails_with(ignoring);
        if let Some(s) = sops() {
            let theirs = s.arg("decrypt").arg(&file).key(1).run();
            assert_eq!(theirs.code, code, "{name}: sops exits {}", theirs.code);
        }
    }
}

#[test]
fn sops_ignores_sealant_metadata_lines() {
    // sealant never needs layout hints for dotenv (values are raw text), but a file may
    // carry both of sealant's fields; sops must still read it without a warning.
    let Some(_) = sops() else { return };
    let dir = scratch();
    let enc = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(vector("plain/dotenv_basic.env"))
        .succeeds()
        .stdout_str();
    let with_layout = enc.replace(
        "sops_sealant_version=",
        "sops_sealant_layout=ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\nsops_sealant_version=",
    );
    let file = dir.path().join("s.env");
    fs::write(&file, with_layout).unwrap();
    let theirs = sops().unwrap().arg("decrypt").arg(&file).key(1).succeeds();
    assert_same(
        &theirs.stdout,
        &read(vector("expected/dotenv_basic.env")),
        "sops decrypt",
    );
    assert!(!theirs.stderr.contains("level=warn"), "{}", theirs.stderr);
    // An unreadable hint field costs layout, never data.
    let ours = sealant().arg("decrypt").arg(&file).key(1).succeeds();
    assert_same(
        &ours.stdout,
        &read(vector("plain/dotenv_basic.env")),
        "sealant decrypt",
    );
}
