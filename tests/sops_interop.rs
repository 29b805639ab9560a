//! End-to-end check of the crypto and age modules against the real sops: build a YAML
//! file by hand with sealant's cipher, MAC and age wrapping (single key and Shamir
//! 2-of-3 key groups), then ask `sops decrypt` to read it.
//!
//! sops is `$SOPS_BIN` (set by scripts/test.sh), else `sops` on PATH. If it is missing
//! the tests print a notice and pass, except under `CI=true`, where they fail.

use std::path::PathBuf;
use std::process::Command;

use sealant::crypto::{encrypt_mac, plaintext, shamir, timestamp, DataKey, MacHasher, ValueCipher};
use sealant::keys::{parse_recipients, MasterKey};
use sealant::tree::Scalar;

fn vectors() -> PathBuf {
    std::env::var_os("SEALANT_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/vectors"))
}

fn sops() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SOPS_BIN").map(PathBuf::from),
        Some(PathBuf::from("sops")),
    ];
    let found = candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .arg("--version")
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("sops not found (run scripts/install-reference-tools.sh); CI never skips");
    }
    found
}

fn key_text(n: u8) -> String {
    std::fs::read_to_string(vectors().join(format!("keys/age{n}.txt"))).unwrap()
}

fn pubkey(n: u8) -> String {
    std::fs::read_to_string(vectors().join(format!("keys/age{n}.pub")))
        .unwrap()
        .trim()
        .to_owned()
}

fn indent(text: &str, by: usize) -> String {
    text.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(by)))
        .collect()
}

/// The values of the test file, with the plaintext sops should print for each.
fn values() -> Vec<(&'static str, Scalar, &'static str)> {
    let when = timestamp::parse_rfc3339("2024-01-02T03:04:05.5+01:00").unwrap();
    vec![
        ("name", Scalar::Str("admin ✓".into()), "name: admin ✓"),
        ("port", Scalar::Int(8080), "port: 8080"),
        ("ratio", Scalar::Float(0.25), "ratio: 0.25"),
        ("big", Scalar::Float(6.02e23), "big: 6.02e+23"),
        ("enabled", Scalar::Bool(true), "enabled: true"),
        (
            "when",
            Scalar::Time(when),
            "when: 2024-01-02T03:04:05.5+01:00",
        ),
        (
            "note_unencrypted",
            Scalar::Str("visible".into()),
            "note_unencrypted: visible",
        ),
    ]
}

/// The file's body (encrypted values) and its MAC, for `key`.
fn body_and_mac(cipher: &ValueCipher, lastmodified: &time::OffsetDateTime) -> (String, String) {
    let mut body = String::new();
    let mut mac = MacHasher::new(false);
    for (key, value, _) in values() {
        let bytes = plaintext::to_bytes(&value);
        mac.update(&bytes);
        if key.ends_with("_unencrypted") {
            body.push_str(&format!("{key}: visible\n"));
        } else {
            let enc = cipher
                .encrypt(&bytes, plaintext::type_name(&value), &format!("{key}:"))
                .unwrap();
            body.push_str(&format!("{key}: {enc}\n"));
        }
    }
    body.push_str("empty: \"\"\n");
    let mac = encrypt_mac(cipher, &mac.finish(), lastmodified).unwrap();
    (body, mac)
}

fn sops_decrypt(sops: &PathBuf, file_text: &str, identities: &[u8]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("made_by_sealant.yaml");
    std::fs::write(&file, file_text).unwrap();
    let keys: String = identities.iter().map(|&n| key_text(n)).collect();
    Command::new(sops)
        .arg("decrypt")
        .arg(&file)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .env("SOPS_AGE_KEY", keys)
        .output()
        .unwrap()
}

fn assert_decrypts(out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sops failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for (_, _, line) in values() {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing {line:?} in:\n{stdout}"
        );
    }
    assert!(stdout.contains("empty: \"\""), "{stdout}");
}

#[test]
fn sops_reads_a_single_key_file_made_by_sealant() {
    let Some(sops) = sops() else {
        eprintln!("NOTICE: sops not found; skipping the sops interop test");
        return;
    };
    let key = DataKey::generate();
    let cipher = ValueCipher::new(&key);
    let lastmodified = timestamp::now_lastmodified();
    let (body, mac) = body_and_mac(&cipher, &lastmodified);
    let recipient = &parse_recipients(&pubkey(1)).unwrap()[0];
    let envelope = recipient.wrap(key.as_bytes()).unwrap();
    let file = format!(
        "{body}sops:\n    age:\n        - recipient: {}\n          enc: |\n{}    lastmodified: \"{}\"\n    mac: {mac}\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n",
        recipient.recipient(),
        indent(&envelope, 12),
        timestamp::format_lastmodified(&lastmodified),
    );
    assert_decrypts(&sops_decrypt(&sops, &file, &[1]));
    // The wrong identity cannot open it (exit 128, could not retrieve key).
    assert_eq!(sops_decrypt(&sops, &file, &[2]).status.code(), Some(128));
    // A MAC computed over different values is caught (exit 51).
    let tampered = file.replace("note_unencrypted: visible", "note_unencrypted: VISIBLE");
    assert_eq!(sops_decrypt(&sops, &tampered, &[1]).status.code(), Some(51));
}

#[test]
fn sops_reads_a_shamir_file_made_by_sealant() {
    let Some(sops) = sops() else {
        eprintln!("NOTICE: sops not found; skipping the sops Shamir interop test");
        return;
    };
    let key = DataKey::generate();
    let cipher = ValueCipher::new(&key);
    let lastmodified = timestamp::now_lastmodified();
    let (body, mac) = body_and_mac(&cipher, &lastmodified);
    let shares = shamir::split(key.as_bytes(), 3, 2).unwrap();
    let mut groups = String::new();
    for (i, share) in shares.iter().enumerate() {
        let recipient = &parse_recipients(&pubkey(i as u8 + 1)).unwrap()[0];
        groups.push_str(&format!(
            "        - hc_vault: []\n          age:\n            - recipient: {}\n              enc: |\n{}",
            recipient.recipient(),
            indent(&recipient.wrap(share).unwrap(), 16)
        ));
    }
    let file = format!(
        "{body}sops:\n    shamir_threshold: 2\n    key_groups:\n{groups}    lastmodified: \"{}\"\n    mac: {mac}\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n",
        timestamp::format_lastmodified(&lastmodified),
    );
    for pair in [[1, 2], [1, 3], [2, 3]] {
        assert_decrypts(&sops_decrypt(&sops, &file, &pair));
    }
    assert_eq!(sops_decrypt(&sops, &file, &[3]).status.code(), Some(128));
}
