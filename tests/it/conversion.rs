//! `--input-type` / `--output-type` between every pair of formats that can hold the
//! data, and a clear error (exit 4, nothing written) for the pairs that cannot.
//!
//! Two data shapes cover the formats: a flat map of strings (YAML, JSON, TOML, dotenv)
//! and a map of sections (YAML, JSON, TOML, INI). The meaning is compared through JSON:
//! `decrypt --output-type json` of the converted file equals that of the original.

use std::path::Path;

use crate::support::*;

const FLAT: &[(&str, &str)] = &[
    ("yaml", "DB_USER: app\nDB_PASSWORD: 's3cr3t #1'\nEMPTY: ''\nUNICODE: ünïcödé ✓\n"),
    (
        "json",
        "{\n\t\"DB_USER\": \"app\",\n\t\"DB_PASSWORD\": \"s3cr3t #1\",\n\t\"EMPTY\": \"\",\n\t\"UNICODE\": \"ünïcödé ✓\"\n}\n",
    ),
    (
        "toml",
        "DB_USER = \"app\"\nDB_PASSWORD = \"s3cr3t #1\"\nEMPTY = \"\"\nUNICODE = \"ünïcödé ✓\"\n",
    ),
    (
        "dotenv",
        "DB_USER=app\nDB_PASSWORD=s3cr3t #1\nEMPTY=\nUNICODE=ünïcödé ✓\n",
    ),
];

const SECTIONS: &[(&str, &str)] = &[
    ("yaml", "database:\n    user: app\n    password: s3cr3t\nserver:\n    host: example.org\n"),
    (
        "json",
        "{\n\t\"database\": {\n\t\t\"user\": \"app\",\n\t\t\"password\": \"s3cr3t\"\n\t},\n\t\"server\": {\n\t\t\"host\": \"example.org\"\n\t}\n}\n",
    ),
    (
        "toml",
        "[database]\nuser = \"app\"\npassword = \"s3cr3t\"\n\n[server]\nhost = \"example.org\"\n",
    ),
    (
        "ini",
        "[database]\nuser     = app\npassword = s3cr3t\n\n[server]\nhost = example.org\n",
    ),
];

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The file's meaning, as JSON. An empty `DEFAULT` section is left out: INI always has
/// one (go-ini's keys before any section), and sops shows it when converting from INI.
fn as_json(path: &Path, input: &str, encrypted: bool) -> String {
    as_json_raw(path, input, encrypted).replace("\t\"DEFAULT\": {},\n", "")
}

fn as_json_raw(path: &Path, input: &str, encrypted: bool) -> String {
    let run = if encrypted {
        sealant().arg("decrypt").key(1)
    } else {
        // A clear file: encrypt to JSON, then decrypt it.
        let enc = sealant()
            .args(["encrypt", "--age", &recipient(1), "--input-type", input])
            .args(["--output-type", "json"])
            .arg(path)
            .succeeds();
        let tmp = path.with_extension("as.json.enc");
        std::fs::write(&tmp, enc.stdout).unwrap();
        return sealant()
            .args(["decrypt", "--input-type", "json", "--output-type", "json"])
            .arg(&tmp)
            .key(1)
            .succeeds()
            .stdout_str();
    };
    run.args(["--input-type", input, "--output-type", "json"])
        .arg(path)
        .succeeds()
        .stdout_str()
}

fn every_pair(cases: &[(&str, &str)]) {
    let dir = scratch();
    for (input, text) in cases {
        let plain = write(dir.path(), &format!("in.{input}"), text);
        let want = as_json(&plain, input, false);
        for (output, _) in cases {
            // Encrypting with a conversion, then decrypting with one back.
            let enc = sealant()
                .args(["encrypt", "--age", &recipient(1), "--input-type", input])
                .args(["--output-type", output])
                .arg(&plain)
                .succeeds();
            let enc_path = write(
                dir.path(),
                &format!("{input}-to-{output}.enc"),
                &enc.stdout_str(),
            );
            assert!(
                !enc.stdout_str().contains("s3cr3t"),
                "{input} -> {output}: a secret in clear"
            );
            let got = as_json(&enc_path, output, true);
            assert_eq!(got, want, "{input} -> {output}");
            // Decrypting with a conversion.
            let clear = sealant()
                .args(["decrypt", "--input-type", output, "--output-type", input])
                .arg(&enc_path)
                .key(1)
                .succeeds();
            let back = write(
                dir.path(),
                &format!("{output}-back-to.{input}"),
                &clear.stdout_str(),
            );
            assert_eq!(
                as_json(&back, input, false),
                want,
                "{output} -> {input} (decrypt)"
            );
        }
    }
}

#[test]
fn flat_maps_convert_between_yaml_json_toml_and_dotenv() {
    every_pair(FLAT);
}

#[test]
fn sectioned_maps_convert_between_yaml_json_toml_and_ini() {
    every_pair(SECTIONS);
}

#[test]
fn trees_a_format_cannot_hold_are_refused_with_exit_4() {
    let dir = scratch();
    let nested = write(
        dir.path(),
        "nested.yaml",
        "a:\n    b:\n        c: SEALANT-CANARY-SECRET\nlist:\n    - 1\n",
    );
    let flat = write(dir.path(), "flat.yaml", "top: SEALANT-CANARY-SECRET\n");
    let with_null = write(dir.path(), "null.yaml", "a: ~\nb: SEALANT-CANARY-SECRET\n");
    for (file, output) in [
        (&nested, "dotenv"),
        (&nested, "ini"),
        (&flat, "ini"),
        (&with_null, "toml"),
    ] {
        let out = sealant()
            .args(["encrypt", "--age", &recipient(1), "--output-type", output])
            .arg(file)
            .fails_with(4);
        assert!(out.stdout.is_empty(), "{output}: wrote output");
        assert!(
            !out.stderr.contains("SEALANT-CANARY-SECRET"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.to_lowercase().contains(output),
            "{output}: {}",
            out.stderr
        );
    }
}
