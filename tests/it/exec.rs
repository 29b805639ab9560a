//! `exec-env` and `exec-file`: what the command sees, exit codes, signals passed on,
//! nothing left on disk, and no secret in any message. Compared with the real sops where
//! its behaviour is the contract.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::*;

const SECRET: &str = "CANARY-s3cr3t-4729";

/// A file with every scalar type, encrypted by sealant for key 1, in `dir`.
fn typed_file(dir: &Path) -> PathBuf {
    let plain = format!(
        "password: {SECRET}\nport: 5432\nratio: 1.5\nwhole: 2.0\nbig: 1e21\ntiny: 0.000001\n\
         enabled: true\nnothing: null\nwhen: 2024-01-02T03:04:05.5+01:00\nday: 2024-01-02\n\
         multi: \"a\\nb\"\n# a comment\n"
    );
    encrypt(dir, "typed.yaml", &plain)
}

fn encrypt(dir: &Path, name: &str, plain: &str) -> PathBuf {
    let clear = dir.join(format!("clear.{name}"));
    fs::write(&clear, plain).expect("write");
    let out = sealant()
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&clear)
        .succeeds();
    let path = dir.join(name);
    fs::write(&path, out.stdout).expect("write");
    fs::remove_file(&clear).expect("remove");
    path
}

/// The real sops at `bin` (found once per test: each lookup runs it).
fn sops_at(bin: &Path) -> Run {
    Run::program(bin).args(["--config", "/dev/null"])
}

fn lines(out: &Output) -> Vec<String> {
    out.stdout_str().lines().map(str::to_string).collect()
}

/// The entries of a directory (to show that nothing was left behind).
fn entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn top_level_values_become_variables_rendered_as_sops_renders_them() {
    let dir = scratch();
    let file = typed_file(dir.path());
    let out = sealant()
        .key(1)
        .args(["exec-env", "--pristine"])
        .arg(&file)
        .arg("env | sort; printf '[%s]' \"$multi\"")
        .succeeds();
    let env = lines(&out);
    for want in [
        format!("password={SECRET}").as_str(),
        "port=5432",
        "ratio=1.5",
        "whole=2.0",
        "big=1E+21",
        "tiny=1E-06",
        "enabled=true",
        "nothing=<nil>",
        "when=2024-01-02T03:04:05+01:00",
        "day=2024-01-02T00:00:00Z",
    ] {
        assert!(env.iter().any(|l| l == want), "{want} not in {env:?}");
    }
    assert!(out.stdout_str().ends_with("[a\nb]"), "{}", out.stdout_str());
    // The sops block is not a variable; comments are skipped.
    assert!(!env.iter().any(|l| l.starts_with("sops")), "{env:?}");
}

#[test]
fn exec_env_gives_the_same_environment_as_sops() {
    let Some(bin) = reference_tool("sops") else {
        return;
    };
    let dir = scratch();
    // A file sops wrote, in YAML and in JSON (where every number is a float to sops).
    let yaml = dir.path().join("clear.yaml");
    fs::write(
        &yaml,
        "s: x y\ni: 42\nf: 1.0\ng: 123456789.0\nb: false\nn: ~\nt: 2024-01-02\n",
    )
    .expect("write");
    let json = dir.path().join("clear.json");
    fs::write(
        &json,
        r#"{"port": 8080, "pi": 3.25, "big": 12345678901, "s": "v"}"#,
    )
    .expect("write");
    let mut files = vec![typed_file(dir.path())];
    for (clear, name) in [(&yaml, "sops.yaml"), (&json, "sops.json")] {
        let out = sops_at(&bin)
            .args(["encrypt", "--age", &recipient(1)])
            .arg(clear)
            .succeeds();
        let path = dir.path().join(name);
        fs::write(&path, out.stdout).expect("write");
        files.push(path);
    }
    for file in &files {
        let theirs = sops_at(&bin)
            .key(1)
            .args(["exec-env", "--pristine"])
            .arg(file)
            .arg("env | sort")
            .succeeds();
        let ours = sealant()
            .key(1)
            .args(["exec-env", "--pristine"])
            .arg(file)
            .arg("env | sort")
            .succeeds();
        assert_same(&ours.stdout, &theirs.stdout, &file.display().to_string());
    }
}

#[test]
fn pristine_hides_the_parent_environment_and_file_values_win() {
    let dir = scratch();
    let file = encrypt(dir.path(), "a.yaml", "port: 1\n");
    let out = sealant()
        .key(1)
        .env("PARENT_ONLY", "seen")
        .env("port", "from-parent")
        .args(["exec-env"])
        .arg(&file)
        .arg("echo \"$PARENT_ONLY $port\"")
        .succeeds();
    assert_eq!(out.stdout_str(), "seen 1\n");
    let out = sealant()
        .key(1)
        .env("PARENT_ONLY", "seen")
        .args(["exec-env", "--pristine"])
        .arg(&file)
        .arg("echo \"[$PARENT_ONLY] $port\"; env | grep -c SOPS_AGE_KEY_FILE")
        .run();
    assert_eq!(out.stdout_str(), "[] 1\n0\n");
    // sops passes the whole environment when the file has no variables (a nil slice in
    // Go); sealant keeps --pristine's promise.
    let empty = encrypt(dir.path(), "empty.json", "{}");
    let out = sealant()
        .key(1)
        .env("PARENT_ONLY", "seen")
        .args(["exec-env", "--pristine"])
        .arg(&empty)
        .arg("echo \"[$PARENT_ONLY]\"")
        .succeeds();
    assert_eq!(out.stdout_str(), "[]\n");
}

#[test]
fn the_command_exit_code_becomes_sealants() {
    let dir = scratch();
    let file = encrypt(dir.path(), "a.yaml", "a: 1\n");
    for (command, code) in [
        ("exit 7", 7),
        ("true", 0),
        ("no-such-command-anywhere", 127),
        ("/etc/passwd", 126),
        ("kill -TERM $$", 143),
    ] {
        sealant()
            .key(1)
            .arg("exec-env")
            .arg(&file)
            .arg(command)
            .fails_with(code);
    }
    // The same through exec-file.
    sealant()
        .key(1)
        .arg("exec-file")
        .arg(&file)
        .arg("test -p {} && exit 9")
        .fails_with(9);
}

#[test]
fn nested_values_need_flatten_and_collisions_are_errors() {
    let dir = scratch();
    let marker = dir.path().join("ran");
    let run_marker = format!("touch {}", marker.display());
    let file = encrypt(
        dir.path(),
        "nested.yaml",
        &format!("api_key: k\ndb:\n  user: {SECRET}\n  port: 5432\nhosts: [a, b]\n"),
    );
    let out = sealant()
        .key(1)
        .arg("exec-env")
        .arg(&file)
        .arg(&run_marker)
        .fails_with(1);
    assert!(
        out.stderr.contains("[\"db\"]") && out.stderr.contains("--flatten"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(SECRET));
    assert!(!marker.exists(), "the command ran");

    let out = sealant()
        .key(1)
        .args(["exec-env", "--pristine", "--flatten"])
        .arg(&file)
        .arg("env | grep -v '^PWD=' | sort")
        .succeeds();
    assert_eq!(
        out.stdout_str(),
        format!("API_KEY=k\nDB_PORT=5432\nDB_USER={SECRET}\nHOSTS_0=a\nHOSTS_1=b\n")
    );

    let clash = encrypt(
        dir.path(),
        "clash.yaml",
        &format!("DB_USER: {SECRET}\ndb:\n  user: {SECRET}\n"),
    );
    let out = sealant()
        .key(1)
        .args(["exec-env", "--flatten"])
        .arg(&clash)
        .arg(&run_marker)
        .fails_with(1);
    assert!(
        out.stderr
            .contains("[\"DB_USER\"] and [\"db\"][\"user\"] both give the variable DB_USER"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(SECRET));
    assert!(!marker.exists(), "the command ran");
}

#[test]
fn a_wrong_key_runs_nothing_and_prints_no_secret() {
    let dir = scratch();
    let runtime = scratch();
    let marker = dir.path().join("ran");
    let file = typed_file(dir.path());
    for sub in ["exec-env", "exec-file"] {
        let out = sealant()
            .key(2)
            .env("XDG_RUNTIME_DIR", runtime.path())
            .arg(sub)
            .arg(&file)
            .arg(format!("touch {}", marker.display()))
            .fails_with(128);
        assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
        assert!(!marker.exists(), "{sub}: the command ran");
        assert!(entries(runtime.path()).is_empty());
    }
    // Missing file: exit 2, as sops's exec commands give.
    sealant()
        .key(1)
        .args(["exec-env", "no-such-file.yaml", "true"])
        .fails_with(2);
    // Not enough arguments: a usage error, exit 1 as in sops.
    sealant().key(1).arg("exec-env").arg(&file).fails_with(1);
}

#[test]
fn same_process_replaces_sealant() {
    let dir = scratch();
    let file = encrypt(dir.path(), "a.yaml", "a: 1\n");
    let child = Command::new(env!("CARGO_BIN_EXE_sealant"))
        .env("SOPS_AGE_KEY_FILE", key_file(1))
        .arg("exec-env")
        .arg("--same-process")
        .arg(&file)
        .arg("echo $$ $a")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{pid} 1\n"));
    sealant()
        .key(1)
        .args(["exec-env", "--same-process", "--background"])
        .arg(&file)
        .arg("true")
        .fails_with(8);
}

#[test]
fn user_switches_when_root_and_is_refused_otherwise() {
    let dir = scratch();
    let file = encrypt(dir.path(), "a.yaml", "a: 1\n");
    let uid = Command::new("id").arg("-u").output().expect("id").stdout;
    let root = String::from_utf8_lossy(&uid).trim() == "0";
    let run = sealant()
        .key(1)
        .args(["exec-env", "--user", "nobody"])
        .arg(&file)
        .arg("echo \"$(id -un) $USER $a\"");
    if root {
        assert_eq!(run.succeeds().stdout_str(), "nobody nobody 1\n");
        let out = sealant()
            .key(1)
            .args(["exec-file", "--user", "nobody"])
            .arg(&file)
            .arg("stat -c %U {} && cat {}")
            .succeeds();
        assert_eq!(out.stdout_str(), "nobody\na: 1\n");
    } else {
        let out = run.fails_with(1);
        assert!(out.stderr.contains("needs root"), "{}", out.stderr);
    }
    sealant()
        .key(1)
        .args(["exec-env", "--user", "no-such-user-here"])
        .arg(&file)
        .arg("true")
        .fails_with(1);
}

#[test]
fn exec_file_serves_the_plaintext_through_a_private_fifo() {
    let dir = scratch();
    let runtime = scratch();
    let file = typed_file(dir.path());
    let expected = sealant().key(1).arg("decrypt").arg(&file).succeeds().stdout;
    let out = sealant()
        .key(1)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .arg("exec-file")
        .arg(&file)
        .arg("test -p {} && stat -c %a {} $(dirname {}) >&2 && echo {} >&2 && cat {}")
        .succeeds();
    assert_same(&out.stdout, &expected, "the FIFO's content");
    let mut info = out.stderr.lines();
    assert_eq!(info.next(), Some("600"));
    assert_eq!(info.next(), Some("700"));
    let path = PathBuf::from(info.next().expect("path"));
    assert_eq!(path.parent().and_then(Path::parent), Some(runtime.path()));
    assert_eq!(path.file_name().and_then(|n| n.to_str()), Some("tmp-file"));
    assert!(entries(runtime.path()).is_empty(), "left behind");
}

#[test]
fn exec_file_no_fifo_is_a_0600_file_under_tmpdir() {
    let dir = scratch();
    let tmp = scratch();
    let file = encrypt(dir.path(), "a.yaml", "a: 1\n");
    let out = sealant()
        .key(1)
        .env("XDG_RUNTIME_DIR", "")
        .env("TMPDIR", tmp.path())
        .args(["exec-file", "--no-fifo"])
        .arg(&file)
        .arg("stat -c '%a %F' {}; dirname $(dirname {}); cat {}")
        .succeeds();
    assert_eq!(
        out.stdout_str(),
        format!("600 regular file\n{}\na: 1\n", tmp.path().display())
    );
    assert!(entries(tmp.path()).is_empty(), "left behind");
}

#[test]
fn exec_file_placeholders_filename_and_output_type() {
    let dir = scratch();
    let file = encrypt(dir.path(), "a.yaml", "a: 1\n");
    // Every {} is replaced; without one, nothing is appended (as in sops), with a warning.
    let out = sealant()
        .key(1)
        .args(["exec-file", "--filename", "app.json"])
        .arg(&file)
        .arg("echo {} {} | tr ' ' '\\n' | xargs -n1 basename; cat {}")
        .succeeds();
    // The name does not change the format (sops's behaviour); --output-type does.
    assert_eq!(out.stdout_str(), "app.json\napp.json\na: 1\n");
    let out = sealant()
        .key(1)
        .args(["exec-file", "--output-type", "json"])
        .arg(&file)
        .arg("cat {}")
        .succeeds();
    assert_eq!(out.stdout_str(), "{\n\t\"a\": 1\n}\n");
    let out = sealant()
        .key(1)
        .arg("exec-file")
        .arg(&file)
        .arg("echo \"$# args\"")
        .succeeds();
    assert_eq!(out.stdout_str(), "0 args\n");
    assert!(out.stderr.contains("no {}"), "{}", out.stderr);
    for bad in ["../x", "/etc/x", "a/b", ""] {
        sealant()
            .key(1)
            .args(["exec-file", "--filename", bad])
            .arg(&file)
            .arg("true")
            .fails_with(1);
    }
    // A path the shell would split is refused, not half-run.
    let spaced = dir.path().join("with space");
    fs::create_dir(&spaced).expect("mkdir");
    sealant()
        .key(1)
        .env("XDG_RUNTIME_DIR", &spaced)
        .arg("exec-file")
        .arg(&file)
        .arg("cat {}")
        .fails_with(1);
    assert!(entries(&spaced).is_empty());
    // --background cannot work for exec-file (sops removes the file at once).
    sealant()
        .key(1)
        .args(["exec-file", "--background"])
        .arg(&file)
        .arg("cat {}")
        .fails_with(1);
}

#[test]
fn exec_file_gives_the_same_plaintext_as_sops() {
    let Some(bin) = reference_tool("sops") else {
        return;
    };
    let dir = scratch();
    let clear = dir.path().join("clear.yaml");
    fs::write(&clear, "# top\nlist:\n  - 1\n  - two\nmap: {a: 0x1F}\n").expect("write");
    let enc = sops_at(&bin)
        .args(["encrypt", "--age", &recipient(1)])
        .arg(&clear)
        .succeeds();
    let file = dir.path().join("sops.yaml");
    fs::write(&file, enc.stdout).expect("write");
    for extra in [&[][..], &["--no-fifo"][..], &["--output-type", "json"][..]] {
        let theirs = sops_at(&bin)
            .key(1)
            .arg("exec-file")
            .args(extra)
            .arg(&file)
            .arg("cat {}")
            .succeeds();
        let ours = sealant()
            .key(1)
            .arg("exec-file")
            .args(extra)
            .arg(&file)
            .arg("cat {}")
            .succeeds();
        assert_same(&ours.stdout, &theirs.stdout, &format!("{extra:?}"));
    }
}

/// Starts sealant with its stdout piped, the way `Run` sets up the environment.
fn start(args: &[&std::ffi::OsStr], envs: &[(&str, &Path)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sealant"));
    cmd.env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_CMD")
        .env_remove("TMPDIR")
        .env("SOPS_AGE_KEY_FILE", key_file(1))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn sealant")
}

/// Reads the command's first line: it is running (and its file exists) once it is out.
fn first_line(child: &mut Child) -> (String, BufReader<std::process::ChildStdout>) {
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read");
    (line, out)
}

fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -{name} {pid}");
}

#[test]
fn sigterm_to_sealant_reaches_the_command_and_its_code_comes_back() {
    let dir = scratch();
    let file = encrypt(dir.path(), "a.yaml", "a: 1\n");
    let command = "trap 'echo got-term; kill $P; exit 3' TERM; sleep 60 & P=$!; echo ready; wait";
    let mut child = start(
        &["exec-env".as_ref(), file.as_os_str(), command.as_ref()],
        &[],
    );
    let (line, mut rest) = first_line(&mut child);
    assert_eq!(line, "ready\n");
    signal(child.id(), "TERM");
    let mut after = String::new();
    rest.read_line(&mut after).expect("read");
    assert_eq!(after, "got-term\n");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(3));
}

#[test]
fn exec_file_leaves_nothing_behind_when_sealant_is_interrupted() {
    let dir = scratch();
    let file = encrypt(dir.path(), "a.yaml", &format!("a: {SECRET}\n"));
    for (flags, sig, code) in [
        (&[][..], "INT", 130),
        (&["--no-fifo"][..], "INT", 130),
        (&["--no-fifo"][..], "TERM", 143),
        (&[][..], "HUP", 129),
    ] {
        let runtime = scratch();
        let mut args: Vec<&std::ffi::OsStr> = vec!["exec-file".as_ref()];
        args.extend(flags.iter().map(std::ffi::OsStr::new));
        args.push(file.as_os_str());
        // The command shows its file exists, then waits to be killed by the signal.
        args.push("ls -A $(dirname $(dirname {})) | wc -l; exec sleep 60".as_ref());
        let mut child = start(&args, &[("XDG_RUNTIME_DIR", runtime.path())]);
        let (line, _) = first_line(&mut child);
        assert_eq!(line, "1\n", "{flags:?} {sig}");
        signal(child.id(), sig);
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(code), "{flags:?} {sig}");
        assert!(
            entries(runtime.path()).is_empty(),
            "{flags:?} {sig}: {:?} left behind",
            entries(runtime.path())
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET));
    }
}
