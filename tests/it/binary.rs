//! The binary store: any file whose type is not recognized (or `--input-type binary`)
//! is one `data` value in sops's JSON envelope; any bytes come back exactly.

use crate::support::*;

/// Bytes no text format could hold: NUL, invalid UTF-8, a lone CR, no final newline.
const AWKWARD: &[u8] = b"\x00\xff\xfe binary \r\xc3( \x80 secret-SEALANT-CANARY-SECRET";

fn encrypt_file(path: &std::path::Path, extra: &[&str]) -> Vec<u8> {
    sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .args(extra.iter().copied())
        .arg(path)
        .succeeds()
        .stdout
}

#[test]
fn sops_vectors_decrypt_to_the_exact_bytes() {
    for name in ["binary_bytes.bin", "binary_text.txt"] {
        let out = sealant()
            .arg("decrypt")
            .arg(vector(&format!("enc/{name}")))
            .key(1)
            .succeeds();
        assert_same(
            &out.stdout,
            &read(vector(&format!("expected/{name}"))),
            name,
        );
    }
}

#[test]
fn any_bytes_round_trip_in_a_json_envelope() {
    let dir = scratch();
    for (name, content) in [
        ("blob.bin", AWKWARD),
        (
            "cert.pem",
            b"-----BEGIN KEY-----\nabc\n-----END KEY-----\n".as_slice(),
        ),
        ("empty.dat", b"".as_slice()),
    ] {
        let plain = dir.path().join(name);
        std::fs::write(&plain, content).unwrap();
        let enc = encrypt_file(&plain, &[]);
        let text = String::from_utf8(enc.clone()).expect("the envelope is JSON text");
        assert!(text.starts_with("{\n\t\"data\": \""), "{name}: {text}");
        assert!(
            !text.contains("SEALANT-CANARY-SECRET"),
            "{name}: clear text in output"
        );
        // sops writes no selection option for binary files.
        assert!(!text.contains("unencrypted_suffix"), "{name}: {text}");
        let enc_path = dir.path().join(format!("{name}.enc"));
        std::fs::write(&enc_path, &enc).unwrap();
        let out = sealant()
            .args(["decrypt", "--input-type", "binary"])
            .arg(&enc_path)
            .key(1)
            .succeeds();
        assert_same(&out.stdout, content, name);
    }
}

#[test]
fn an_empty_file_stays_an_empty_clear_value() {
    let dir = scratch();
    let plain = dir.path().join("empty.bin");
    std::fs::write(&plain, b"").unwrap();
    let text = String::from_utf8(encrypt_file(&plain, &[])).unwrap();
    assert!(text.contains("\"data\": \"\""), "{text}");
}

#[test]
fn input_type_binary_overrides_a_text_extension() {
    let dir = scratch();
    let plain = dir.path().join("notes.yaml");
    std::fs::write(&plain, b"not: [valid yaml\n").unwrap();
    let enc = encrypt_file(&plain, &["--input-type", "binary"]);
    let enc_path = dir.path().join("notes.enc.json");
    std::fs::write(&enc_path, enc).unwrap();
    let out = sealant()
        .args(["decrypt", "--output-type", "binary"])
        .arg(&enc_path)
        .key(1)
        .succeeds();
    assert_same(&out.stdout, b"not: [valid yaml\n", "binary from .yaml");
}

#[test]
fn selection_options_are_ignored_as_sops_does() {
    let dir = scratch();
    let plain = dir.path().join("blob.bin");
    std::fs::write(&plain, b"secret").unwrap();
    let text =
        String::from_utf8(encrypt_file(&plain, &["--encrypted-regex", "^nothing$"])).unwrap();
    assert!(text.contains("\"data\": \"ENC["), "{text}");
    assert!(!text.contains("encrypted_regex"), "{text}");
}

#[test]
fn a_tree_that_is_not_a_binary_file_cannot_be_written_as_binary() {
    let out = sealant()
        .args(["decrypt", "--output-type", "binary"])
        .arg(vector("enc/simple.yaml"))
        .key(1)
        .fails_with(4);
    assert!(out.stderr.contains("--output-type"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn text_formats_name_the_place_of_invalid_utf8() {
    let dir = scratch();
    let plain = dir.path().join("bad.yaml");
    std::fs::write(&plain, b"a: 1\nb: caf\xe9 SEALANT-CANARY-SECRET\n").unwrap();
    let out = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&plain)
        .fails_with(2);
    assert!(out.stderr.contains("bad.yaml:2:7"), "{}", out.stderr);
    assert!(out.stderr.contains("--input-type binary"), "{}", out.stderr);
    assert!(!out.stderr.contains("CANARY"));
}

#[test]
fn decrypted_binary_converts_to_yaml_and_json_as_sops_prints_it() {
    let Some(_) = sops() else { return };
    for output in ["yaml", "json"] {
        let ours = sealant()
            .args(["decrypt", "--output-type", output])
            .arg(vector("enc/binary_bytes.bin"))
            .key(1)
            .succeeds();
        let theirs = sops()
            .unwrap()
            .args(["decrypt", "--output-type", output])
            .arg(vector("enc/binary_bytes.bin"))
            .key(1)
            .succeeds();
        assert_same(&ours.stdout, &theirs.stdout, output);
    }
}

#[test]
fn sops_decrypts_sealants_binary_files_and_the_reverse() {
    let Some(_) = sops() else { return };
    let dir = scratch();
    let plain = dir.path().join("blob.bin");
    std::fs::write(&plain, AWKWARD).unwrap();
    // sealant -> sops
    let ours = dir.path().join("ours.bin");
    std::fs::write(&ours, encrypt_file(&plain, &[])).unwrap();
    let out = sops().unwrap().arg("decrypt").arg(&ours).key(1).succeeds();
    assert_same(&out.stdout, AWKWARD, "sops reads sealant's binary file");
    // sops -> sealant
    let theirs = dir.path().join("theirs.bin");
    let enc = sops()
        .unwrap()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&plain)
        .succeeds();
    std::fs::write(&theirs, enc.stdout).unwrap();
    let out = sealant().arg("decrypt").arg(&theirs).key(1).succeeds();
    assert_same(&out.stdout, AWKWARD, "sealant reads sops's binary file");
}
