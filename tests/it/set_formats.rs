//! `set` and `unset` on dotenv, INI and TOML files: minimal diffs measured with git,
//! sops's semantics (dotenv and INI checked against the real sops, both ways), CRLF,
//! sops's exit codes, and no secret in any error.

use std::fs;

use crate::set::{Repo, SECRET};
use crate::support::*;

/// A 20-key dotenv file with comments, blank lines, `export` and quotes.
fn env_20() -> String {
    let mut s = String::from("# service\n\n");
    for i in 0..20 {
        match i % 5 {
            0 => s.push_str(&format!("# about {i}\nKEY{i}=value{i}\n")),
            1 => s.push_str(&format!("export KEY{i}=\"quoted {i}\"\n")),
            2 => s.push_str(&format!("KEY{i}={i}\n\n")),
            _ => s.push_str(&format!("KEY{i}=v{i}\n")),
        }
    }
    s.push_str("# the end\n");
    s
}

fn ini_file() -> String {
    "; service\ntop = 1\n\n[app]\nname = web ; the name\nport = 8080\ndebug=false\n\n\
     [db]\nuser   = admin\npass   = \"p w\"\nhost   = db.local\n"
        .to_string()
}

fn toml_file() -> String {
    "# app\ntitle = \"svc\"\nport = 8080\n\n[db]\nhost = \"h\"\npass = 'p'\n\
     opts = { tls = true }\nports = [1, 2]\n\n[[srv]]\nname = \"a\"\n"
        .to_string()
}

/// The lines up to `ENC[` (the part that does not change between encryptions), sorted
/// (git may show an added blank line before or after the lines it separates).
fn heads(lines: &[String]) -> Vec<&str> {
    let mut heads: Vec<&str> = lines
        .iter()
        .map(|l| l.split("ENC[").next().unwrap())
        .collect();
    heads.sort();
    heads
}

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort();
    v
}

#[test]
fn dotenv_set_insert_and_unset_give_minimal_diffs() {
    let repo = Repo::new("s.env", &env_20());
    // The key is what stands before `=`, `export ` included (as sops reads it).
    repo.set(r#"["export KEY6"]"#, r#""new six""#);
    let d = repo.diff();
    assert_eq!(heads(&d.removed), ["export KEY6="], "{d:?}");
    assert_eq!(heads(&d.added), ["export KEY6="], "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.set(r#"["ADDED"]"#, r#""v""#);
    let d = repo.diff();
    assert!(d.removed.is_empty(), "{d:?}");
    assert_eq!(heads(&d.added), ["ADDED="], "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.unset(r#"["KEY7"]"#);
    let d = repo.diff();
    assert_eq!(
        (heads(&d.removed), d.added.len()),
        (vec!["KEY7="], 0),
        "{d:?}"
    );
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    // A number is the string sops writes for it.
    repo.set(r#"["KEY8"]"#, "5");
    let expected = env_20()
        .replace("export KEY6=\"quoted 6\"", "export KEY6=new six")
        .replace("KEY7=7\n", "")
        .replace("KEY8=v8", "KEY8=5.0")
        .replace("KEY19=v19\n", "KEY19=v19\nADDED=v\n");
    assert_eq!(repo.decrypt(), expected);
}

#[test]
fn ini_set_insert_and_unset_give_minimal_diffs() {
    let repo = Repo::new("s.ini", &ini_file());
    repo.set(r#"["app"]["port"]"#, r#""9090""#);
    let d = repo.diff();
    assert_eq!(heads(&d.removed), ["port = "], "{d:?}");
    assert_eq!(heads(&d.added), ["port = "], "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.set(r#"["db"]["timeout"]"#, r#""5""#);
    let d = repo.diff();
    assert!(d.removed.is_empty(), "{d:?}");
    assert_eq!(heads(&d.added), ["timeout = "], "{d:?}");
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.set(r#"["cache"]"#, r#"{"ttl": "60"}"#);
    let d = repo.diff();
    assert!(d.removed.is_empty(), "{d:?}");
    assert_eq!(
        heads(&d.added),
        sorted(vec!["", "[cache]", "ttl = "]),
        "{d:?}"
    );
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.unset(r#"["app"]["debug"]"#);
    let d = repo.diff();
    assert_eq!(
        (heads(&d.removed), d.added.len()),
        (vec!["debug="], 0),
        "{d:?}"
    );
    d.assert_metadata_only_mac_and_lastmodified();
    repo.commit();

    repo.unset(r#"["db"]"#);
    let d = repo.diff();
    assert!(d.added.is_empty(), "{d:?}");
    assert_eq!(
        heads(&d.removed),
        sorted(vec![
            "[db]",
            "user   = ",
            "pass   = \"",
            "host   = ",
            "timeout = ",
            ""
        ]),
        "{d:?}"
    );
    d.assert_metadata_only_mac_and_lastmodified();
    assert_eq!(
        repo.decrypt(),
        "; service\ntop = 1\n\n[app]\nname = web ; the name\nport = 9090\n\n[cache]\nttl = 60\n"
    );
}

#[test]
fn toml_set_insert_and_unset_give_minimal_diffs() {
    let repo = Repo::new("s.toml", &toml_file());
    // (path, value or None to unset, lines removed, lines added)
    type Step<'a> = (&'a str, Option<&'a str>, Vec<&'a str>, Vec<&'a str>);
    let steps: Vec<Step> = vec![
        (
            r#"["db"]["pass"]"#,
            Some(r#""q""#),
            vec!["pass = '"],
            vec!["pass = '"],
        ),
        (r#"["added"]"#, Some("true"), vec![], vec!["added = \""]),
        (
            r#"["db"]["opts"]["ca"]"#,
            Some(r#""c""#),
            vec!["opts = { tls = \""],
            vec!["opts = { tls = \""],
        ),
        (
            r#"["db"]["ports"][5]"#,
            Some("3"),
            vec!["ports = [\""],
            vec!["ports = [\""],
        ),
        (
            r#"["cache"]["ttl"]"#,
            Some("60"),
            vec![],
            vec!["", "[cache]", "ttl = \""],
        ),
        (r#"["db"]["host"]"#, None, vec!["host = \""], vec![]),
        (
            r#"["srv"][1]"#,
            Some(r#"{"name": "b"}"#),
            vec![],
            vec!["", "[[srv]]", "name = \""],
        ),
    ];
    for (path, value, removed, added) in steps {
        match value {
            Some(v) => repo.set(path, v),
            None => repo.unset(path),
        }
        let d = repo.diff();
        assert_eq!(heads(&d.removed), sorted(removed), "{path}: {d:?}");
        assert_eq!(heads(&d.added), sorted(added), "{path}: {d:?}");
        d.assert_metadata_only_mac_and_lastmodified();
        repo.commit();
    }
    assert_eq!(
        repo.decrypt(),
        "# app\ntitle = \"svc\"\nport = 8080\nadded = true\n\n[db]\npass = 'q'\n\
         opts = { tls = true, ca = \"c\" }\nports = [1, 2, 3]\n\n[[srv]]\nname = \"a\"\n\n\
         [[srv]]\nname = \"b\"\n\n[cache]\nttl = 60\n"
    );
}

#[test]
fn crlf_files_keep_their_line_breaks() {
    for (name, plain, steps, expected) in [
        (
            "c.env",
            "A=1\r\nB=2\r\n",
            vec![
                (r#"["C"]"#, Some(r#""3""#)),
                (r#"["A"]"#, None),
                (r#"["B"]"#, Some(r#""x""#)),
            ],
            "B=x\r\nC=3\r\n",
        ),
        (
            "c.ini",
            "[s]\r\na = 1\r\n",
            vec![
                (r#"["s"]["b"]"#, Some(r#""2""#)),
                (r#"["t"]["c"]"#, Some(r#""3""#)),
            ],
            "[s]\r\na = 1\r\nb = 2\r\n\r\n[t]\r\nc = 3\r\n",
        ),
        (
            "c.toml",
            "a = 1\r\n\r\n[s]\r\nb = 2\r\n",
            vec![
                (r#"["s"]["c"]"#, Some("3")),
                (r#"["t"]"#, Some(r#"{"d": 4}"#)),
                (r#"["a"]"#, None),
            ],
            "[s]\r\nb = 2\r\nc = 3\r\n\r\n[t]\r\nd = 4\r\n",
        ),
    ] {
        let repo = Repo::new(name, plain);
        for (path, value) in steps {
            match value {
                Some(v) => repo.set(path, v),
                None => repo.unset(path),
            }
        }
        assert_eq!(repo.decrypt(), expected, "{name}");
        let text = fs::read_to_string(repo.file()).unwrap();
        assert!(
            !text.replace("\r\n", "").contains('\n') || name.ends_with(".env"),
            "{name}: {text}"
        );
    }
}

#[test]
fn idempotent_set_leaves_flat_and_toml_files_untouched() {
    for (name, plain, path, value) in [
        ("i.env", "A=x\r\nB=5\n", r#"["A"]"#, r#""x""#),
        ("i.ini", "[s]\na = \"x\"\n", r#"["s"]["a"]"#, r#""x""#),
        ("i.toml", "[s]\na = 5\n", r#"["s"]["a"]"#, "5"),
    ] {
        let repo = Repo::new(name, plain);
        let before = read(repo.file());
        sealant()
            .args(["set", "--idempotent"])
            .arg(repo.file())
            .args([path, value])
            .key(1)
            .succeeds();
        assert_eq!(read(repo.file()), before, "{name}");
    }
}

/// Runs the same changes with sops on one copy and with sealant on another: sops must
/// print the same for both.
fn same_as_sops(name: &'static str, plain: &str, changes: &[(&str, Option<&str>)]) {
    let Some(sops) = sops() else { return };
    let dir = scratch();
    let clear = dir.path().join(name);
    fs::write(&clear, plain).unwrap();
    let enc = sops
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&clear)
        .succeeds();
    let by_sops = dir.path().join(format!("sops-{name}"));
    let by_sealant = dir.path().join(format!("sealant-{name}"));
    fs::write(&by_sops, &enc.stdout).unwrap();
    fs::write(&by_sealant, &enc.stdout).unwrap();
    for (path, value) in changes {
        for (file, tool) in [(&by_sops, sops_tool()), (&by_sealant, sealant())] {
            let run = match value {
                Some(v) => tool.arg("set").arg(file).args([path, v]),
                None => tool.arg("unset").arg(file).arg(path),
            };
            run.key(1).succeeds();
        }
    }
    let print = |file: &std::path::Path| {
        sops_tool()
            .arg("decrypt")
            .arg(file)
            .key(1)
            .succeeds()
            .stdout_str()
    };
    assert_eq!(print(&by_sealant), print(&by_sops), "{name}");
    // And sealant prints a file sops changed as sops does.
    let ours = sealant()
        .arg("decrypt")
        .arg(&by_sops)
        .key(1)
        .succeeds()
        .stdout_str();
    assert_eq!(ours, print(&by_sops), "{name}");
}

fn sops_tool() -> Run {
    sops().expect("sops")
}

#[test]
fn dotenv_changes_mean_what_they_mean_to_sops() {
    same_as_sops(
        "x.env",
        "A=1\nexport B=two\nC=\"q\"\nD=four\n",
        &[
            (r#"["A"]"#, Some(r#""one""#)),
            (r#"["N"]"#, Some(r#""new value""#)),
            (r#"["C"]"#, Some("5")),
            (r#"["F"]"#, Some("1.5")),
            (r#"["G"]"#, Some("true")),
            (r#"["H"]"#, Some("12345678")),
            (r#"["I"]"#, Some(r#""multi\nline""#)),
            (r#"["export B"]"#, None),
            (r#"["D"]"#, None),
        ],
    );
}

#[test]
fn ini_changes_mean_what_they_mean_to_sops() {
    same_as_sops(
        "x.ini",
        "top = 1\n\n[app]\nname = web\nport = 8080\n\n[db]\nuser = admin\nhost = h\n",
        &[
            (r#"["app"]["name"]"#, Some(r#""api""#)),
            (r#"["app"]["port"]"#, Some("9090")),
            (r#"["app"]["debug"]"#, Some("false")),
            (r#"["app"]["semi"]"#, Some(r#""a;b""#)),
            (r#"["app"]["pad"]"#, Some(r#"" x ""#)),
            (r#"["DEFAULT"]["t2"]"#, Some(r#""2""#)),
            (r#"["new"]["k"]"#, Some(r#""v""#)),
            (r#"["db"]"#, Some(r#"{"user": "root", "n": 3}"#)),
            (r#"["db"]["user"]"#, None),
            (r#"["new"]"#, None),
            (r#"["DEFAULT"]["top"]"#, None),
        ],
    );
}

#[test]
fn set_and_unset_work_on_dotenv_and_ini_files_sops_wrote() {
    let Some(_) = sops() else { return };
    for (name, plain, set, unset, expected) in [
        (
            "w.env",
            "A=1\nB=2\n# c\nC=3\n",
            (r#"["B"]"#, r#""changed""#),
            r#"["C"]"#,
            "A=1\nB=changed\n# c\n",
        ),
        (
            "w.ini",
            "[a]\nx = 1\ny = 2\n\n[b]\nz = 3\n",
            (r#"["a"]["y"]"#, r#""changed""#),
            r#"["b"]"#,
            "[a]\nx = 1\ny = changed\n",
        ),
    ] {
        let dir = scratch();
        let clear = dir.path().join(name);
        fs::write(&clear, plain).unwrap();
        let enc = sops_tool()
            .args(["encrypt", "--age", &recipient(1)])
            .arg(&clear)
            .succeeds();
        let repo = Repo::holding(name, &enc.stdout);
        let before = fs::read_to_string(repo.file()).unwrap();
        repo.set(set.0, set.1);
        repo.unset(unset);
        let after = fs::read_to_string(repo.file()).unwrap();
        // Written in sops's layout: the other values keep their lines.
        let gone: Vec<_> = before
            .lines()
            .filter(|l| !after.lines().any(|a| a == *l))
            .filter(|l| !l.contains("mac") && !l.contains("lastmodified"))
            .collect();
        assert!(gone.len() <= 4, "{name}: {gone:?}");
        let printed = sops_tool()
            .arg("decrypt")
            .arg(repo.file())
            .key(1)
            .succeeds()
            .stdout_str();
        assert_eq!(printed, expected, "{name}");
        assert_eq!(repo.decrypt(), expected, "{name}");
    }
}

#[test]
fn toml_changes_show_in_a_conversion() {
    // sops has no TOML store: sealant's conversion to JSON shows what the tree holds.
    let repo = Repo::new("j.toml", &toml_file());
    repo.set(r#"["db"]["pool"]"#, r#"{"size": 5}"#);
    repo.unset(r#"["port"]"#);
    let json = sealant()
        .args(["decrypt", "--output-type", "json"])
        .arg(repo.file())
        .key(1)
        .succeeds()
        .stdout_str();
    assert!(
        json.contains("\"pool\": {\n\t\t\t\"size\": 5\n\t\t}"),
        "{json}"
    );
    assert!(!json.contains("\"port\""), "{json}");
}

#[test]
fn exit_codes_match_sops_for_dotenv_and_ini() {
    // (file, args after the file, sealant's code, sops's code when it is the same).
    let env_cases: Vec<(Vec<&str>, i32, Option<i32>)> = vec![
        (vec!["set", r#"["A"]["x"]"#, r#""v""#], 4, Some(4)),
        (vec!["set", r#"["A"]"#, r#"{"a": "b"}"#], 4, Some(4)),
        (vec!["set", r#"["A"][0]"#, r#""v""#], 4, Some(4)),
        (vec!["unset", r#"["Z"]"#], 1, Some(1)),
        (vec!["unset", "[0]"], 1, Some(1)),
        (vec!["unset", r#"["A"]["x"]"#], 1, Some(1)),
        // sops writes `<nil>`, which it cannot decrypt (exit 0); sops exits 0 doing
        // nothing for an index into the top-level map.
        (vec!["set", r#"["N"]"#, "null"], 4, None),
        (vec!["set", "[0]", r#""v""#], 1, None),
        (vec!["set", r#"["A"]"#, r#""a\\nb""#], 4, None),
    ];
    let ini_cases: Vec<(Vec<&str>, i32, Option<i32>)> = vec![
        (vec!["set", r#"["app"]"#, r#""v""#], 4, Some(4)),
        (vec!["set", r#"["top"]"#, r#""v""#], 4, Some(4)),
        (vec!["unset", r#"["app"]["zz"]"#], 1, Some(1)),
        (vec!["unset", r#"["zz"]"#], 1, Some(1)),
        (vec!["unset", r#"["app"]["name"]["q"]"#], 1, Some(1)),
        (vec!["unset", r#"["app"][0]"#], 1, Some(1)),
        // sops writes Go's `%v` of the value or `<nil>` (exit 0), which it cannot read.
        (vec!["set", r#"["app"]["x"]"#, r#"{"z": "1"}"#], 4, None),
        (vec!["set", r#"["app"]["name"]["x"]"#, r#""1""#], 4, None),
        (vec!["set", r#"["app"]["n"]"#, "null"], 4, None),
    ];
    for (name, plain, cases) in [
        ("e.env", "A=1\nB=two\n", env_cases),
        ("e.ini", "top = 1\n\n[app]\nname = x\n", ini_cases),
    ] {
        let repo = Repo::new(name, plain);
        let f = repo.file();
        let before = read(&f);
        for (args, code, _) in &cases {
            sealant()
                .arg(args[0])
                .arg(&f)
                .args(&args[1..])
                .key(1)
                .fails_with(*code);
            assert_eq!(read(&f), before, "{name} {args:?} changed the file");
        }
        let Some(_) = sops() else { continue };
        for (args, _, sops_code) in &cases {
            let Some(code) = sops_code else { continue };
            let copy = repo.dir.path().join(format!("copy-{name}"));
            fs::write(&copy, &before).unwrap();
            let out = sops_tool()
                .arg(args[0])
                .arg(&copy)
                .args(&args[1..])
                .key(1)
                .run();
            assert_eq!(out.code, *code, "sops {name} {args:?}: {}", out.stderr);
        }
    }
}

#[test]
fn toml_refusals() {
    let repo = Repo::new("r.toml", &toml_file());
    let f = repo.file();
    let before = read(&f);
    for (args, code) in [
        (vec!["set", r#"["title"]"#, "null"], 4),
        (vec!["set", r#"["srv"][3]"#, r#""not a table""#], 4),
        (vec!["set", r#"["db"][0]"#, "1"], 1),
        (vec!["unset", r#"["db"]["nope"]"#], 1),
        (vec!["unset", r#"["db"]["ports"][7]"#], 1),
    ] {
        sealant()
            .arg(args[0])
            .arg(&f)
            .args(&args[1..])
            .key(1)
            .fails_with(code);
        assert_eq!(read(&f), before, "{args:?} changed the file");
    }
}

#[test]
fn errors_never_print_the_secret() {
    for (name, plain, runs) in [
        (
            "s.env",
            format!("PW={SECRET}\nB=x\n"),
            vec![
                vec![
                    "set".to_string(),
                    r#"["PW"]"#.into(),
                    format!(r#"{{"k": "{SECRET}"}}"#),
                ],
                vec![
                    "set".into(),
                    r#"["PW"]["x"]"#.into(),
                    format!(r#""{SECRET}""#),
                ],
                vec![
                    "set".into(),
                    r#"["PW"]"#.into(),
                    format!(r#""{SECRET}\\n""#),
                ],
                vec!["set".into(), "[0]".into(), format!(r#""{SECRET}""#)],
                vec!["unset".into(), r#"["PW"]["x"]"#.into()],
            ],
        ),
        (
            "s.ini",
            format!("[a]\npw = {SECRET}\n"),
            vec![
                vec![
                    "set".to_string(),
                    r#"["a"]"#.into(),
                    format!(r#""{SECRET}""#),
                ],
                vec![
                    "set".into(),
                    r#"["a"]["pw"]"#.into(),
                    format!(r#"[["{SECRET}"]]"#),
                ],
                vec![
                    "set".into(),
                    r#"["a"]["pw"]["x"]"#.into(),
                    format!(r#""{SECRET}""#),
                ],
                vec!["unset".into(), r#"["a"]["pw"]["x"]"#.into()],
            ],
        ),
        (
            "s.toml",
            format!("pw = \"{SECRET}\"\n[[t]]\nk = 1\n"),
            vec![
                vec![
                    "set".to_string(),
                    r#"["pw"]"#.into(),
                    format!(r#"[null, "{SECRET}"]"#),
                ],
                vec!["set".into(), r#"["t"][1]"#.into(), format!(r#""{SECRET}""#)],
                vec!["set".into(), r#"["t"][0]"#.into(), format!(r#""{SECRET}""#)],
                vec!["unset".into(), r#"["pw"]["x"]"#.into()],
            ],
        ),
    ] {
        let repo = Repo::new(name, &plain);
        let f = repo.file();
        for args in runs {
            let out = sealant()
                .arg(&args[0])
                .arg(&f)
                .args(&args[1..])
                .key(1)
                .run();
            assert_ne!(out.code, 0, "{name} {args:?}");
            assert!(
                !out.stderr.contains(SECRET) && !out.stdout_str().contains(SECRET),
                "{name} {args:?}: {}",
                out.stderr
            );
        }
        // The wrong key: no secret either.
        let out = sealant()
            .arg("set")
            .arg(&f)
            .args([r#"["x"]"#, "1"])
            .key(2)
            .run();
        assert_ne!(out.code, 0);
        assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
    }
}
