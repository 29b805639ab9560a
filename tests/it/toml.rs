//! The TOML store through the CLI: the corpus round trip, bad inputs, what an encrypted
//! file shows, tampering, and conversion to and from YAML and JSON.

use std::fs;
use std::path::PathBuf;

use crate::corpus::{assert_bad_inputs, assert_round_trips, corpus_in};
use crate::support::*;

fn corpus_file(name: &str) -> PathBuf {
    repo().join("testdata/corpus/toml").join(name)
}

fn encrypt_file(file: &std::path::Path) -> String {
    let out = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(file)
        .succeeds();
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn toml_corpus_round_trips_byte_for_byte() {
    assert_round_trips(&corpus_in("toml", "toml"), &[]);
}

#[test]
fn toml_bad_inputs_fail_cleanly() {
    assert_bad_inputs("toml", &[]);
}

#[test]
fn encrypted_toml_shows_no_secret_and_no_comment() {
    let enc = encrypt_file(&corpus_file("app-secrets-crlf.toml"));
    for secret in [
        "sk_live_FAKE51H3zQ",
        "S3cr3t-FAKE",
        "AKIAFAKEFAKEFAKEFAKE",
        "BEGIN EC PRIVATE KEY",
        "whk_FAKE_0001",
        "payments-team@example",
        "staging",
        "2026-03-01",
        "15_000",
    ] {
        assert!(!enc.contains(secret), "{secret} is in the clear:\n{enc}");
    }
    for comment in ["Payment gateway credentials", "Encrypt before committing"] {
        assert!(!enc.contains(comment), "{comment}");
    }
    assert!(enc.starts_with("#ENC[AES256_GCM,"), "{enc}");
    assert!(enc.contains(",type:comment]\r\n"));
    // Keys, headers, the unencrypted suffix and the line endings stay.
    assert!(enc.contains("\r\n[[webhooks]]\r\nname = \"ENC[AES256_GCM,"));
    assert!(enc.contains("publishable_key_unencrypted = \"pk_live_FAKE51H3zQ"));
    assert!(
        enc.contains("type:time]"),
        "the offset date-time is a sops time"
    );
    assert!(
        !enc.replace("\r\n", "").contains('\n'),
        "CRLF file: every line break is CRLF, the age envelopes escaped"
    );
    // Each value keeps its quote style: literal strings stay literal.
    assert!(enc.contains("webhook_secret = 'ENC[AES256_GCM,"));
    assert!(enc.contains("signing_key = '''ENC[AES256_GCM,"));
}

#[test]
fn tampering_is_detected_in_toml() {
    let dir = scratch();
    let file = dir.path().join("s.toml");
    fs::write(
        &file,
        "user = \"app\"\npassword = \"hunter2-SEALANT\"\nport_unencrypted = 5432\n",
    )
    .unwrap();
    let enc = encrypt_file(&file);
    let line = |key: &str| {
        enc.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} line"))
            .to_string()
    };
    let (user, password) = (line("user = "), line("password = "));
    // Swapped ciphertexts: their key paths (AADs) no longer match.
    let swapped = enc
        .replace(&user, "USER")
        .replace(&password, &user.replacen("user", "password", 1))
        .replace("USER", &password.replacen("password", "user", 1));
    fs::write(&file, &swapped).unwrap();
    let out = sealant().arg("decrypt").arg(&file).key(1).fails_with(25);
    assert!(!out.stderr.contains("hunter2") && out.stdout.is_empty());
    // A changed clear value breaks the MAC.
    fs::write(&file, enc.replace("= 5432", "= 5433")).unwrap();
    let out = sealant().arg("decrypt").arg(&file).key(1).fails_with(51);
    assert!(out.stderr.contains("MAC"), "{}", out.stderr);
    // --ignore-mac decrypts anyway.
    let out = sealant()
        .args(["decrypt", "--ignore-mac"])
        .arg(&file)
        .key(1)
        .succeeds();
    assert!(out.stdout_str().contains("hunter2-SEALANT"));
}

#[test]
fn toml_converts_to_yaml_and_json_and_back() {
    let dir = scratch();
    let src = corpus_file("hugo-config.toml");
    for (format, ext) in [("yaml", "yaml"), ("json", "json")] {
        // Encrypt TOML into the other format, decrypt it as itself and back to TOML.
        let enc = sealant()
            .args(["encrypt", "--age", &recipient(1), "--output-type", format])
            .arg(&src)
            .succeeds()
            .stdout;
        let enc_file = dir.path().join(format!("hugo.enc.{ext}"));
        fs::write(&enc_file, &enc).unwrap();
        let clear = sealant().arg("decrypt").arg(&enc_file).key(1).run();
        assert_eq!(clear.code, 0, "{}", clear.stderr);
        assert!(clear.stderr.is_empty(), "{format}: {}", clear.stderr);
        assert!(clear.stdout_str().contains("Notizen aus der Praxis"));
        let toml = sealant()
            .args(["decrypt", "--output-type", "toml"])
            .arg(&enc_file)
            .key(1)
            .succeeds()
            .stdout_str();
        assert!(
            toml.contains("title = \"Notes from the Field\"\n"),
            "{toml}"
        );
        assert!(
            toml.contains("\n[[menu.main]]\nidentifier = \"posts\"\n"),
            "{toml}"
        );
        // The converted TOML means what the original meant.
        let back = dir.path().join(format!("back-{ext}.toml"));
        fs::write(&back, &toml).unwrap();
        let a = sealant()
            .args(["decrypt", "--output-type", "json"])
            .arg(encrypt_to(&dir, &src))
            .key(1)
            .succeeds()
            .stdout;
        let b = sealant()
            .args(["decrypt", "--output-type", "json"])
            .arg(encrypt_to(&dir, &back))
            .key(1)
            .succeeds()
            .stdout;
        assert_same(&b, &a, "TOML -> {format} -> TOML keeps the values");
    }
}

/// A table holding only a comment, and a comment after an array's last element that is
/// itself an array followed by an empty table: go-yaml's layouts for these are not valid
/// YAML (`}` at column 0; the comment between `e:` and `{}`). Converted by sealant, the
/// YAML reads back, sops decrypts every comment, and the clear YAML reads back too.
#[test]
fn comments_sops_cannot_lay_out_convert_to_yaml_that_reads_back() {
    let dir = scratch();
    let src = dir.path().join("c.toml");
    fs::write(
        &src,
        "[x]\narr = [\n  1,\n  [2, 3], # after last\n]\ne = {}\n\n[t]\n# only a comment\n",
    )
    .unwrap();
    let enc = sealant()
        .args(["encrypt", "--age", &recipient(1), "--output-type", "yaml"])
        .arg(&src)
        .succeeds()
        .stdout_str();
    // The list comment is a list element, as sops writes it.
    assert!(
        enc.lines()
            .any(|l| l.starts_with("        - ENC[AES256_GCM,") && l.ends_with("type:comment]")),
        "{enc}"
    );
    let enc_file = dir.path().join("c.enc.yaml");
    fs::write(&enc_file, &enc).unwrap();
    let clear = sealant().arg("decrypt").arg(&enc_file).key(1).succeeds();
    assert!(clear.stderr.is_empty(), "{}", clear.stderr);
    let want = "x:\n    arr:\n        - 1\n        - - 2\n          - 3\n    e: {}\n    # after last\nt: {\n    # only a comment\n    }\n";
    assert_same(&clear.stdout, want.as_bytes(), "clear YAML");
    // The clear YAML is valid: it encrypts (spliced) and decrypts back to itself.
    let clear_file = dir.path().join("clear.yaml");
    fs::write(&clear_file, &clear.stdout).unwrap();
    let again = dir.path().join("again.yaml");
    fs::write(
        &again,
        sealant()
            .args(["encrypt", "--age", &recipient(1)])
            .arg(&clear_file)
            .succeeds()
            .stdout,
    )
    .unwrap();
    let back = sealant().arg("decrypt").arg(&again).key(1).succeeds();
    assert_same(&back.stdout, want.as_bytes(), "clear YAML round trip");
    if let Some(sops) = sops() {
        // sops decrypts the list comment (no "possibly unencrypted comment" warning);
        // it drops the one inside `{ }`, as it drops its own.
        let out = sops.arg("decrypt").arg(&enc_file).key(1).succeeds();
        assert!(!out.stderr.contains("comment"), "{}", out.stderr);
        assert!(
            out.stdout_str().contains("# after last"),
            "{}",
            out.stdout_str()
        );
    }
}

fn encrypt_to(dir: &tempfile::TempDir, file: &std::path::Path) -> PathBuf {
    let out = dir.path().join(format!(
        "{}.enc.toml",
        file.file_stem().unwrap().to_string_lossy()
    ));
    fs::write(&out, encrypt_file(file)).unwrap();
    out
}

#[test]
fn yaml_and_json_convert_to_toml() {
    let dir = scratch();
    let yaml = dir.path().join("app.yaml");
    fs::write(
        &yaml,
        "# app settings\nname: demo\ndb:\n  host: db.local\n  password: hunter2\nport: 8080\nreplicas:\n  - zone: a\n  - zone: b\nempty: {}\nwhen: 2024-01-02T03:04:05Z\n",
    )
    .unwrap();
    let enc = sealant()
        .args(["encrypt", "--age", &recipient(1), "--output-type", "toml"])
        .arg(&yaml)
        .succeeds()
        .stdout;
    let enc_file = dir.path().join("app.enc.toml");
    fs::write(&enc_file, &enc).unwrap();
    let enc = String::from_utf8(enc).unwrap();
    assert!(!enc.contains("hunter2"));
    assert!(enc.contains("\n[sops]\n") && enc.contains("\n[[sops.age]]\n"));
    let out = sealant().arg("decrypt").arg(&enc_file).key(1).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    // Key order is the YAML's: `db` is written with dotted keys so that `port` stays
    // after it.
    assert_eq!(
        out.stdout_str(),
        "# app settings\nname = \"demo\"\ndb.host = \"db.local\"\ndb.password = \"hunter2\"\n\
         port = 8080\nreplicas = [{ zone = \"a\" }, { zone = \"b\" }]\nempty = {}\n\
         when = 2024-01-02T03:04:05Z\n"
    );
    let json = dir.path().join("app.json");
    fs::write(&json, "{\"a\": {\"b\": [1, 2.5, \"x\"]}, \"c\": true}").unwrap();
    let out = sealant()
        .args(["decrypt", "--output-type", "toml"])
        .arg({
            let enc = sealant()
                .args(["encrypt", "--age", &recipient(1)])
                .arg(&json)
                .succeeds()
                .stdout;
            let f = dir.path().join("app.enc.json");
            fs::write(&f, enc).unwrap();
            f
        })
        .key(1)
        .succeeds();
    assert_eq!(out.stdout_str(), "a.b = [1, 2.5, \"x\"]\nc = true\n");
}

#[test]
fn what_toml_cannot_hold_fails_with_exit_4() {
    let dir = scratch();
    let cases: &[(&str, &str, &str)] = &[
        ("null.yaml", "a:\n  b: null\n", "TOML has no null"),
        ("multi.yaml", "a: 1\n---\nb: 2\n", "several documents"),
        ("dup.json", "{\"a\": 1, \"a\": 2}", "twice"),
    ];
    for (name, text, why) in cases {
        let file = dir.path().join(name);
        fs::write(&file, text).unwrap();
        let out = sealant()
            .args(["encrypt", "--age", &recipient(1), "--output-type", "toml"])
            .arg(&file)
            .fails_with(4);
        assert!(out.stderr.contains(why), "{name}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    // Decrypting to TOML refuses the same way.
    let file = dir.path().join("null.yaml");
    let enc = dir.path().join("null.enc.yaml");
    fs::write(
        &enc,
        sealant()
            .args(["encrypt", "--age", &recipient(1)])
            .arg(&file)
            .succeeds()
            .stdout,
    )
    .unwrap();
    let out = sealant()
        .args(["decrypt", "--output-type", "toml"])
        .arg(&enc)
        .key(1)
        .fails_with(4);
    assert!(out.stderr.contains("TOML has no null"), "{}", out.stderr);
}

#[test]
fn toml_is_inferred_from_the_extension_and_in_place_works() {
    let dir = scratch();
    let file = dir.path().join("config.toml");
    let text = "# c\n[s]\nk = 'v' # t\n";
    fs::write(&file, text).unwrap();
    sealant()
        .args(["encrypt", "-i", "--age", &recipient(1)])
        .arg(&file)
        .succeeds();
    let enc = fs::read_to_string(&file).unwrap();
    assert!(enc.contains("k = 'ENC[AES256_GCM,") && enc.contains("\n[sops]\n"));
    sealant()
        .args(["decrypt", "-i"])
        .arg(&file)
        .key(1)
        .succeeds();
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
    // --extract reads a TOML value.
    sealant()
        .args(["encrypt", "-i", "--age", &recipient(1)])
        .arg(&file)
        .succeeds();
    let out = sealant()
        .args(["decrypt", "--extract", "[\"s\"][\"k\"]"])
        .arg(&file)
        .key(1)
        .succeeds();
    assert_eq!(out.stdout_str(), "v");
}
