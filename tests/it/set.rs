//! `set` and `unset`: minimal diffs measured with git, sops's exit codes, interop with
//! the real sops both ways, and no secret in any error.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::*;

pub const SECRET: &str = "S3CRET-hunter2-do-not-print";

/// A 20-key YAML file with the usual mix: comments, quoted and plain values, a nested
/// map, a list.
fn yaml_20() -> String {
    let mut s = String::from("# service config\n");
    for i in 0..20 {
        match i % 4 {
            0 => s.push_str(&format!("key{i}: value{i} # note {i}\n")),
            1 => s.push_str(&format!("key{i}: 'quoted {i}'\n")),
            2 => s.push_str(&format!("key{i}: {i}\n")),
            _ => s.push_str(&format!("key{i}: \"double {i}\"\n")),
        }
    }
    s.push_str("nested:\n  inner: x\n  deeper:\n    leaf: w\nlist:\n  - one\n  - two\n  - three\n");
    s
}

fn json_20() -> String {
    let mut members: Vec<String> = (0..20)
        .map(|i| format!("\t\"key{i}\": \"value{i}\""))
        .collect();
    members.push("\t\"nested\": {\n\t\t\"inner\": \"x\"\n\t}".into());
    members.push("\t\"list\": [\n\t\t\"one\",\n\t\t\"two\",\n\t\t\"three\"\n\t]".into());
    format!("{{\n{}\n}}\n", members.join(",\n"))
}

/// A scratch git repository holding `name` encrypted by sealant from `plain`.
pub struct Repo {
    pub dir: tempfile::TempDir,
    pub name: &'static str,
}

impl Repo {
    pub fn new(name: &'static str, plain: &str) -> Repo {
        let dir = scratch();
        let clear = dir.path().join(format!("clear-{name}"));
        fs::write(&clear, plain).unwrap();
        let out = sealant()
            .args(["encrypt", "--age", &recipient(1)])
            .arg(&clear)
            .succeeds();
        fs::remove_file(&clear).unwrap();
        Repo::holding(name, &out.stdout)
    }

    /// A repository holding `encrypted` (from sops, say) as `name`.
    pub fn holding(name: &'static str, encrypted: &[u8]) -> Repo {
        let dir = scratch();
        fs::write(dir.path().join(name), encrypted).unwrap();
        let repo = Repo { dir, name };
        repo.git(&["init", "-q", "."]);
        repo.commit();
        repo
    }

    pub fn file(&self) -> std::path::PathBuf {
        self.dir.path().join(self.name)
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "core.autocrlf=false",
            ])
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn commit(&self) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", "step"]);
    }

    /// The lines the last change removed and added (`git diff -U0`), split into lines of
    /// the metadata that must change on every write (`mac`, `lastmodified`; `sops_mac`
    /// in dotenv) and the rest.
    pub fn diff(&self) -> Diff {
        let text = self.git(&["diff", "-U0", "--no-color"]);
        let numstat = self.git(&["diff", "--numstat"]);
        let mut d = Diff {
            numstat,
            ..Diff::default()
        };
        for line in text.lines() {
            if line.starts_with("---") || line.starts_with("+++") {
                continue;
            }
            let (sign, body) = match line.split_at_checked(1) {
                Some(("-", b)) => ('-', b),
                Some(("+", b)) => ('+', b),
                _ => continue,
            };
            let key = body.trim_start().trim_start_matches('"');
            let key = key.strip_prefix("sops_").unwrap_or(key);
            let name = key.split([':', '"', '=', ' ']).next().unwrap_or("");
            if name == "mac" || name == "lastmodified" {
                d.meta.push(format!("{sign}{name}"));
            } else if sign == '-' {
                d.removed.push(body.to_string());
            } else {
                d.added.push(body.to_string());
            }
        }
        d
    }

    pub fn set(&self, path: &str, value: &str) {
        sealant()
            .arg("set")
            .arg(self.file())
            .args([path, value])
            .key(1)
            .succeeds();
    }

    pub fn unset(&self, path: &str) {
        sealant()
            .arg("unset")
            .arg(self.file())
            .arg(path)
            .key(1)
            .succeeds();
    }

    pub fn decrypt(&self) -> String {
        sealant()
            .arg("decrypt")
            .arg(self.file())
            .key(1)
            .succeeds()
            .stdout_str()
    }
}

#[derive(Default, Debug)]
pub struct Diff {
    numstat: String,
    pub removed: Vec<String>,
    pub added: Vec<String>,
    /// `-mac`, `+mac`, `-lastmodified`...: the metadata lines that changed.
    pub meta: Vec<String>,
}

impl Diff {
    /// Only `mac` (always: the content changed) and `lastmodified` (when the second
    /// changed) moved in the metadata.
    pub fn assert_metadata_only_mac_and_lastmodified(&self) {
        assert!(
            self.meta.contains(&"-mac".to_string()) && self.meta.contains(&"+mac".to_string()),
            "{self:?}"
        );
        for m in &self.meta {
            assert!(
                ["-mac", "+mac", "-lastmodified", "+lastmodified"].contains(&m.as_str()),
                "{self:?}"
            );
        }
        // 1 or 2 metadata lines each way, so the whole diff is small and counted.
        let total: usize = self
            .numstat
            .split_whitespace()
            .take(2)
            .map(|n| n.parse::<usize>().unwrap())
            .sum();
        assert_eq!(
            total,
            self.removed.len() + self.added.len() + self.meta.len(),
            "{self:?}"
        );
    }
}

#[test]
fn yaml_set_an_existing_value_changes_its_line_and_the_mac_only() {
    let repo = Repo::new("s.yaml", &yaml_20());
    for (path, value, key) in [
        (r#"["key5"]"#, r#""new five""#, "key5: 'ENC["),
        (r#"["key8"]"#, r#""eight""#, "key8: ENC["),
        (r#"["key10"]"#, "11", "key10: ENC["),
        (
            r#"["nested"]["deeper"]["leaf"]"#,
            r#""z""#,
            "    leaf: ENC[",
        ),
        (r#"["list"][1]"#, r#""TWO""#, "  - ENC["),
    ] {
        repo.set(path, value);
        let d = repo.diff();
        assert_eq!((d.removed.len(), d.added.len()), (1, 1), "{path}: {d:?}");
        assert!(
            d.removed[0].starts_with(key) && d.added[0].starts_with(key),
            "{path}: {d:?}"
        );
        d.assert_metadata_only_mac_and_lastmodified();
        repo.commit();
    }
    // The comment on key8's line stays.
    assert!(repo.decrypt().contains("key8: eight # note 8\n"));
    let expected = yaml_20()
        .replace("key5: 'quoted 5'", "key5: 'new five'")
        .replace("key8: value8", "key8: eight")
        .replace("key10: 10", "key10: 11")
        .replace("leaf: w", "leaf: z")
        .replace("  - two", "  - TWO");
    assert_eq!(repo.decrypt(), expected);
}

#[test]
fn yaml_new_keys_add_only_their_lines() {
    let repo = Repo::new("s.yaml", &yaml_20());
    repo.set(r#"["added"]"#, r#""v""#);
    let d = repo.diff();
    assert!(d.removed.is_empty(), "{d:?}");
    assert_eq!(d.added.len(), 1, "{d:?}");
    assert!(d.added[0].starts_with("added: ENC["), "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.set(r#"["nested"]["new"]["deep"]"#, r#"{"x": [1, 2]}"#);
    let d = repo.diff();
    assert!(d.removed.is_empty(), "{d:?}");
    assert_eq!(
        d.added
            .iter()
            .map(|l| l.split("ENC[").next().unwrap())
            .collect::<Vec<_>>(),
        [
            "  new:",
            "    deep:",
            "      x:",
            "        - ",
            "        - "
        ],
        "{d:?}"
    );
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.set(r#"["list"][99]"#, r#""four""#);
    let d = repo.diff();
    assert!(d.removed.is_empty() && d.added.len() == 1, "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    let clear = repo.decrypt();
    assert!(clear.contains("  - three\n  - four\n"), "{clear}");
    assert!(
        clear.contains("    leaf: w\n  new:\n    deep:\n      x:\n        - 1\n        - 2\nlist:"),
        "{clear}"
    );
}

#[test]
fn yaml_unset_removes_only_its_lines() {
    let repo = Repo::new("s.yaml", &yaml_20());
    repo.unset(r#"["key4"]"#);
    let d = repo.diff();
    assert_eq!(d.removed.len(), 1, "{d:?}");
    // With its own comment (encrypted, as sops does).
    assert!(d.removed[0].starts_with("key4: ENC[") && d.removed[0].ends_with(",type:comment]"));
    assert!(d.added.is_empty(), "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.unset(r#"["nested"]["deeper"]"#);
    let d = repo.diff();
    assert_eq!(d.removed.len(), 2, "{d:?}");
    assert!(d.added.is_empty(), "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    // A list item in the middle: the items after it keep their ciphertexts.
    repo.unset(r#"["list"][0]"#);
    let d = repo.diff();
    assert_eq!((d.removed.len(), d.added.len()), (1, 0), "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    assert!(repo.decrypt().ends_with("list:\n  - two\n  - three\n"));
}

#[test]
fn json_set_insert_and_unset_give_minimal_diffs() {
    let repo = Repo::new("s.json", &json_20());
    repo.set(r#"["key3"]"#, r#""three""#);
    let d = repo.diff();
    assert_eq!((d.removed.len(), d.added.len()), (1, 1), "{d:?}");
    assert!(d.added[0].starts_with("\t\"key3\": \"ENC["), "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.set(r#"["nested"]["more"]"#, r#"{"a": true}"#);
    let d = repo.diff();
    // The member before it gains a comma.
    assert_eq!(
        d.removed,
        ["\t\t\"inner\": \"ENC[".to_string() + d.removed[0].split("ENC[").nth(1).unwrap()]
    );
    assert_eq!(d.added.len(), 4, "{d:?}");
    assert_eq!(d.added[0], format!("{},", d.removed[0]));
    assert_eq!(d.added[1], "\t\t\"more\": {");
    assert!(d.added[2].starts_with("\t\t\t\"a\": \"ENC["), "{d:?}");
    assert_eq!(d.added[3], "\t\t}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.set(r#"["zz"]"#, "5");
    let d = repo.diff();
    assert!(d.removed.is_empty() && d.added.len() == 1, "{d:?}");
    assert!(d.added[0].starts_with("\t\"zz\": \"ENC["), "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.unset(r#"["key7"]"#);
    let d = repo.diff();
    assert_eq!((d.removed.len(), d.added.len()), (1, 0), "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.unset(r#"["list"][1]"#);
    let d = repo.diff();
    assert_eq!((d.removed.len(), d.added.len()), (1, 0), "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();

    let clear = repo.decrypt();
    assert!(clear.contains("\t\"key3\": \"three\",\n"), "{clear}");
    assert!(!clear.contains("key7"), "{clear}");
    assert!(
        clear.ends_with("\t\"list\": [\n\t\t\"one\",\n\t\t\"three\"\n\t],\n\t\"zz\": 5\n}\n"),
        "{clear}"
    );
}

fn enc_of<'a>(file_text: &'a str, line_start: &str) -> Vec<&'a str> {
    file_text
        .lines()
        .filter(|l| l.trim_start().starts_with(line_start))
        .collect()
}

#[test]
fn equal_values_at_different_places_never_share_a_ciphertext() {
    let repo = Repo::new("s.yaml", "list:\n  - a\n  - b\nx: 1\ny: 2\n");
    repo.set(r#"["list"][0]"#, r#""same""#);
    repo.set(r#"["list"][1]"#, r#""same""#);
    repo.set(r#"["x"]"#, r#""same""#);
    repo.set(r#"["y"]"#, r#""same""#);
    let text = fs::read_to_string(repo.file()).unwrap();
    let mut encs: Vec<&str> = enc_of(&text, "- ENC[");
    encs.extend(enc_of(&text, "x: ENC["));
    encs.extend(enc_of(&text, "y: ENC["));
    let encs: Vec<&str> = encs
        .iter()
        .map(|l| l.split("ENC[").nth(1).unwrap())
        .collect();
    assert_eq!(encs.len(), 4, "{text}");
    let unique: std::collections::HashSet<_> = encs.iter().collect();
    assert_eq!(unique.len(), 4, "{text}");
    // After removing the first item, the second keeps its ciphertext and no other
    // value takes it.
    repo.unset(r#"["list"][0]"#);
    let after = fs::read_to_string(repo.file()).unwrap();
    assert!(after.contains(&format!("ENC[{}", encs[1])), "{after}");
    assert!(!after.contains(&format!("ENC[{}", encs[0])), "{after}");
}

#[test]
fn idempotent_set_leaves_the_file_untouched() {
    let repo = Repo::new("s.yaml", &yaml_20());
    let before = read(repo.file());
    sealant()
        .args(["set", "--idempotent"])
        .arg(repo.file())
        .args([r#"["key1"]"#, r#""quoted 1""#])
        .key(1)
        .succeeds();
    assert_eq!(read(repo.file()), before);
    sealant()
        .args(["set", "--idempotent"])
        .arg(repo.file())
        .args([r#"["key2"]"#, "2"])
        .key(1)
        .succeeds();
    assert_eq!(read(repo.file()), before);
    // A different value is written.
    sealant()
        .args(["set", "--idempotent"])
        .arg(repo.file())
        .args([r#"["key2"]"#, "3"])
        .key(1)
        .succeeds();
    assert_ne!(read(repo.file()), before);
}

#[test]
fn values_from_a_file_and_from_standard_input() {
    let repo = Repo::new("s.yaml", "a: 1\n");
    let value = repo.dir.path().join("value.json");
    fs::write(&value, format!("\"{SECRET}\"\n")).unwrap();
    sealant()
        .args(["set", "--value-file"])
        .arg(repo.file())
        .arg(r#"["a"]"#)
        .arg(&value)
        .key(1)
        .succeeds();
    sealant()
        .args(["set", "--value-stdin"])
        .arg(repo.file())
        .arg(r#"["b"]"#)
        .stdin(r#"{"k": [true, null]}"#)
        .key(1)
        .succeeds();
    assert_eq!(
        repo.decrypt(),
        format!("a: {SECRET}\nb:\n    k:\n        - true\n        - null\n")
    );
    // Negative numbers are values, not flags.
    repo.set(r#"["c"]"#, "-5");
    assert!(repo.decrypt().ends_with("c: -5\n"));
}

#[test]
fn unencrypted_suffix_values_stay_clear() {
    let repo = Repo::new("s.yaml", "a: 1\n");
    repo.set(r#"["note_unencrypted"]"#, r#""in clear""#);
    repo.set(r#"["nested"]["x_unencrypted"]"#, r#"{"k": "v"}"#);
    let text = fs::read_to_string(repo.file()).unwrap();
    assert!(text.contains("note_unencrypted: in clear\n"), "{text}");
    assert!(
        text.contains("    x_unencrypted:\n        k: v\n"),
        "{text}"
    );
}

#[test]
fn exit_codes_match_sops() {
    let repo = Repo::new("s.yaml", "a: 1\nl: [x]\n");
    let f = repo.file();
    let f = f.to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["set", f, r#"["a"]"#], 100),
        (vec!["set", f], 100),
        (vec!["set", "--value-stdin", f, r#"["a"]"#, "1"], 100),
        (vec!["unset", f], 100),
        (vec!["unset", f, r#"["a"]"#, "x"], 100),
        (
            vec!["set", "--value-file", "--value-stdin", f, r#"["a"]"#],
            1,
        ),
        (vec!["set", f, "a", "1"], 7),
        (vec!["set", f, r#"["a""#, "1"], 7),
        (vec!["set", f, r#"["a"]"#, "not json"], 7),
        (vec!["set", f, r#"["a"]"#, "{"], 7),
        (vec!["unset", f, "[x]"], 7),
        (vec!["unset", f, r#"["missing"]"#], 1),
        (vec!["unset", f, r#"["l"][4]"#], 1),
        (vec!["unset", "--idempotent", f, r#"["missing"]"#], 0),
        (vec!["set", "missing.yaml", r#"["a"]"#, "1"], 2),
        (vec!["unset", "missing.yaml", r#"["a"]"#], 2),
    ];
    let before = read(repo.file());
    for (args, code) in &cases {
        sealant().args(args).key(1).fails_with(*code);
        assert_eq!(read(repo.file()), before, "{args:?} changed the file");
    }
    let Some(_) = sops() else { return };
    for (args, code) in &cases {
        let out = sops().unwrap().args(args).key(1).run();
        assert_eq!(out.code, *code, "sops {args:?}: {}", out.stderr);
    }
}

#[test]
fn binary_files_set_their_data() {
    let dir = scratch();
    let clear = dir.path().join("blob");
    fs::write(&clear, b"old\x00bytes").unwrap();
    let enc = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&clear)
        .succeeds();
    let file = dir.path().join("blob.enc");
    fs::write(&file, &enc.stdout).unwrap();
    sealant()
        .arg("set")
        .arg(&file)
        .args([r#"["data"]"#, r#""new text""#])
        .key(1)
        .succeeds();
    let out = sealant().arg("decrypt").arg(&file).key(1).succeeds();
    assert_eq!(out.stdout, b"new text");
    sealant()
        .arg("unset")
        .arg(&file)
        .arg(r#"["data"]"#)
        .key(1)
        .fails_with(1);
    if let Some(sops) = sops() {
        let out = sops.arg("decrypt").arg(&file).key(1).succeeds();
        assert_eq!(out.stdout, b"new text");
    }
}

#[test]
fn errors_never_print_the_secret() {
    let repo = Repo::new("s.yaml", &format!("pw: {SECRET}\nl: [{SECRET}]\n"));
    let f = repo.file();
    let runs = [
        sealant()
            .arg("set")
            .arg(&f)
            .args([r#"["pw"]"#, SECRET])
            .key(1)
            .run(),
        sealant()
            .arg("set")
            .arg(&f)
            .args([r#"["pw"]"#, &format!("{{\"{SECRET}\"")])
            .key(1)
            .run(),
        sealant()
            .arg("set")
            .arg(&f)
            .args([r#"["l"]["k"]"#, &format!("\"{SECRET}\"")])
            .key(1)
            .run(),
        sealant()
            .arg("unset")
            .arg(&f)
            .arg(r#"["l"][5]"#)
            .key(1)
            .run(),
        sealant()
            .arg("unset")
            .arg(&f)
            .arg(r#"["pw"]["x"]"#)
            .key(1)
            .run(),
        sealant()
            .arg("unset")
            .arg(&f)
            .arg(r#"["nope"]"#)
            .key(1)
            .run(),
        sealant()
            .arg("set")
            .arg(&f)
            .args([r#"["pw"]"#, "1"])
            .key(2)
            .run(),
    ];
    for out in runs {
        assert_ne!(out.code, 0);
        assert!(
            !out.stderr.contains(SECRET) && !out.stdout_str().contains(SECRET),
            "{}",
            out.stderr
        );
    }
    // A tampered file: MAC error, nothing written, no secret.
    let text = fs::read_to_string(&f).unwrap();
    let tampered = text.replacen(
        "l: [",
        "l: ['ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]', ",
        1,
    );
    fs::write(&f, &tampered).unwrap();
    let out = sealant()
        .arg("set")
        .arg(&f)
        .args([r#"["pw"]"#, "1"])
        .key(1)
        .run();
    assert_ne!(out.code, 0);
    assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
    assert_eq!(fs::read_to_string(&f).unwrap(), tampered);
}

/// What sops prints for a file, as JSON (a fixed layout to compare).
fn sops_json(file: &Path) -> Option<String> {
    let sops = sops()?;
    Some(
        sops.args(["decrypt", "--output-type", "json"])
            .arg(file)
            .key(1)
            .succeeds()
            .stdout_str(),
    )
}

#[test]
fn sops_reads_what_set_and_unset_write() {
    let repo = Repo::new("s.yaml", &yaml_20());
    repo.set(r#"["key5"]"#, r#""changed""#);
    repo.set(
        r#"["nested"]["new"]"#,
        r#"{"n": 1.5, "l": ["a", {"b": null}]}"#,
    );
    repo.set(r#"["list"][7]"#, "true");
    repo.unset(r#"["key6"]"#);
    repo.unset(r#"["list"][0]"#);
    let Some(from_sops) = sops_json(&repo.file()) else {
        return;
    };
    let ours = sealant()
        .args(["decrypt", "--output-type", "json"])
        .arg(repo.file())
        .key(1)
        .succeeds()
        .stdout_str();
    assert_eq!(from_sops, ours);
    assert!(from_sops.contains("\"key5\": \"changed\""), "{from_sops}");
    assert!(!from_sops.contains("key6"), "{from_sops}");
    assert!(
        from_sops.contains("\"list\": [\n\t\t\"two\",\n\t\t\"three\",\n\t\ttrue\n\t]"),
        "{from_sops}"
    );
    assert!(
        from_sops.contains("\"new\": {\n\t\t\t\"n\": 1.5,\n\t\t\t\"l\": [\n\t\t\t\t\"a\",\n\t\t\t\t{\n\t\t\t\t\t\"b\": null"),
        "{from_sops}"
    );

    // The same with JSON.
    let repo = Repo::new("s.json", &json_20());
    repo.set(r#"["key0"]"#, r#"[1, "x"]"#);
    repo.unset(r#"["nested"]["inner"]"#);
    let from_sops = sops_json(&repo.file()).unwrap();
    assert!(
        from_sops.contains("\"key0\": [\n\t\t1,\n\t\t\"x\"\n\t]"),
        "{from_sops}"
    );
    assert!(from_sops.contains("\"nested\": {}"), "{from_sops}");
}

#[test]
fn set_works_on_files_sops_wrote() {
    let Some(sops) = sops() else { return };
    let dir = scratch();
    let clear = dir.path().join("c.yaml");
    fs::write(&clear, yaml_20()).unwrap();
    let out = sops
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&clear)
        .succeeds();
    let file = dir.path().join("s.yaml");
    fs::write(&file, &out.stdout).unwrap();
    let before = fs::read_to_string(&file).unwrap();
    sealant()
        .arg("set")
        .arg(&file)
        .args([r#"["key5"]"#, r#""changed""#])
        .key(1)
        .succeeds();
    sealant()
        .arg("unset")
        .arg(&file)
        .arg(r#"["nested"]["inner"]"#)
        .key(1)
        .succeeds();
    let after = fs::read_to_string(&file).unwrap();
    // Written in sops's own layout: the other values keep their lines.
    let changed: Vec<_> = before
        .lines()
        .filter(|l| !after.lines().any(|a| a == *l))
        .filter(|l| !l.contains("mac:") && !l.contains("lastmodified:"))
        .collect();
    assert_eq!(changed.len(), 2, "{changed:?}");
    let value = sops_extract(&file, r#"["key5"]"#);
    assert_eq!(value, "changed");
    let json = sops_json(&file).unwrap();
    assert!(!json.contains("inner"), "{json}");
}

fn sops_extract(file: &Path, path: &str) -> String {
    sops()
        .unwrap()
        .args(["decrypt", "--extract", path])
        .arg(file)
        .key(1)
        .succeeds()
        .stdout_str()
}

#[test]
fn crlf_files_keep_their_line_breaks() {
    let repo = Repo::new("s.yaml", "a: 1\r\nm:\r\n  b: 2\r\n");
    repo.set(r#"["m"]["c"]"#, r#"{"d": "e"}"#);
    repo.unset(r#"["a"]"#);
    assert_eq!(repo.decrypt(), "m:\r\n  b: 2\r\n  c:\r\n    d: e\r\n");
}

#[test]
fn layout_hints_survive_set_and_unset() {
    // `0644` and `1.50` are kept as layout hints (sops would write 420 and 1.5). Their
    // hints are keyed by position, so the `sealant_layout` line changes too when values
    // before them come or go; the user's spelling always comes back.
    let repo = Repo::new("s.yaml", "a: 1\nm:\n  x: 1\nmode: 0644\nf: 1.50\n");
    repo.set(r#"["m"]["z"]"#, "2");
    repo.unset(r#"["a"]"#);
    repo.set(r#"["f"]"#, "2.5");
    assert_eq!(repo.decrypt(), "m:\n  x: 1\n  z: 2\nmode: 0644\nf: 2.5\n");
    let d = repo.diff();
    for line in d.removed.iter().chain(&d.added) {
        let l = line.trim_start();
        assert!(
            l.starts_with("m:")
                || l.starts_with("x:")
                || l.starts_with("z:")
                || l.starts_with("a:")
                || l.starts_with("f:")
                || l.starts_with("sealant_layout:"),
            "{d:?}"
        );
    }
    if let Some(json) = sops_json(&repo.file()) {
        assert!(json.contains("\"mode\": 420"), "{json}");
    }
}

#[test]
fn legacy_set_flag_as_sops() {
    let repo = Repo::new("s.yaml", "a: 1\nb: x\n");
    sealant()
        .args(["--set", r#"["b"] {"c": "d e"}"#])
        .arg(repo.file())
        .key(1)
        .succeeds();
    assert_eq!(repo.decrypt(), "a: 1\nb:\n    c: d e\n");
    let before = read(repo.file());
    for bad in [r#"["b"]"#, r#"b "x""#, r#"["b"] nope"#] {
        sealant()
            .args(["--set", bad])
            .arg(repo.file())
            .key(1)
            .fails_with(7);
        if let Some(sops) = sops() {
            sops.args(["--set", bad])
                .arg(repo.file())
                .key(1)
                .fails_with(7);
        }
    }
    assert_eq!(read(repo.file()), before);
    if let Some(sops) = sops() {
        sops.args(["--set", r#"["a"] "from sops""#])
            .arg(repo.file())
            .key(1)
            .succeeds();
        assert_eq!(repo.decrypt(), "a: from sops\nb:\n    c: d e\n");
    }
}
