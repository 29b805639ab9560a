//! Test support: run the built `sealant` (or the real `sops`) with a fluent builder, and
//! find the reference tools and test data.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// sops's vectors, copied into testdata/ (see testdata/vectors/ORIGIN.md).
pub fn vectors() -> PathBuf {
    repo().join("testdata/vectors")
}

pub fn vector(rel: &str) -> PathBuf {
    vectors().join(rel)
}

pub fn key_file(n: u8) -> PathBuf {
    vector(&format!("keys/age{n}.txt"))
}

pub fn recipient(n: u8) -> String {
    std::fs::read_to_string(vector(&format!("keys/age{n}.pub")))
        .expect("test key")
        .trim()
        .to_string()
}

pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(path.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

/// A reference tool (`sops`, `age`): found, or the test is skipped with a notice. Under
/// `CI=true` a missing tool fails the run: interop tests never skip silently there.
pub fn reference_tool(name: &str) -> Option<PathBuf> {
    let found = find_tool(name);
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "reference tool `{name}` not found (run scripts/install-reference-tools.sh); \
                 CI never skips interop tests"
            );
        }
        eprintln!("NOTICE: `{name}` not found; skipping this interop test");
    }
    found
}

fn find_tool(name: &str) -> Option<PathBuf> {
    static ENV_FILE: OnceLock<Vec<(String, String)>> = OnceLock::new();
    let env_file = ENV_FILE.get_or_init(|| {
        let text =
            std::fs::read_to_string(repo().join("target/reference-tools.env")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let (k, v) = l.trim_start_matches("export ").split_once('=')?;
                Some((k.to_string(), v.trim_matches(['"', '\'']).to_string()))
            })
            .collect()
    });
    let var = format!("{}_BIN", name.to_uppercase().replace('-', "_"));
    let candidates = std::env::var(&var)
        .ok()
        .into_iter()
        .chain(
            env_file
                .iter()
                .filter(|(k, _)| *k == var)
                .map(|(_, v)| v.clone()),
        )
        .map(PathBuf::from)
        .chain(std::iter::once(PathBuf::from(name)));
    candidates.into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// A command to run: `sealant` unless built with [`Run::program`].
pub struct Run {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    dir: Option<PathBuf>,
}

/// What a command did.
pub struct Output {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Output {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

pub fn sealant() -> Run {
    Run::program(env!("CARGO_BIN_EXE_sealant"))
}

impl Run {
    pub fn program(p: impl Into<PathBuf>) -> Run {
        Run {
            program: p.into(),
            args: Vec::new(),
            env: vec![("SOPS_DISABLE_VERSION_CHECK".into(), "1".into())],
            stdin: None,
            dir: None,
        }
    }

    pub fn arg(mut self, a: impl Into<OsString>) -> Run {
        self.args.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, a: I) -> Run {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Run {
        self.env
            .push((k.into(), v.as_ref().to_string_lossy().into_owned()));
        self
    }

    /// Uses age identity N (`SOPS_AGE_KEY_FILE`).
    pub fn key(self, n: u8) -> Run {
        self.env("SOPS_AGE_KEY_FILE", key_file(n))
    }

    /// Runs in this working directory (where `.sops.yaml` is searched from).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Run {
        self.dir = Some(dir.into());
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(data.into());
        self
    }

    pub fn run(self) -> Output {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        if let Some(dir) = &self.dir {
            // PWD as a shell would set it (sops, in Go, reads it for its working directory).
            cmd.current_dir(dir).env("PWD", dir);
        }
        // A clean slate: no keys or config from the developer's own environment.
        for k in [
            "SOPS_AGE_KEY",
            "SOPS_AGE_KEY_FILE",
            "SOPS_AGE_KEY_CMD",
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
            "SOPS_AGE_RECIPIENTS",
            "SOPS_CONFIG",
            "SOPS_EDITOR",
            "EDITOR",
        ] {
            cmd.env_remove(k);
        }
        let home = std::env::temp_dir().join("sealant-test-home");
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", self.program.display()));
        if let Some(data) = self.stdin {
            let mut stdin = child.stdin.take().expect("stdin");
            std::thread::spawn(move || {
                let _ = stdin.write_all(&data);
            });
        }
        let out = child.wait_with_output().expect("wait");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and asserts exit 0.
    pub fn succeeds(self) -> Output {
        let what = format!("{} {:?}", self.program.display(), self.args);
        let out = self.run();
        assert_eq!(out.code, 0, "{what} failed:\n{}", out.stderr);
        out
    }

    /// Runs and asserts the exit code.
    pub fn fails_with(self, code: i32) -> Output {
        let what = format!("{} {:?}", self.program.display(), self.args);
        let out = self.run();
        assert_eq!(
            out.code, code,
            "{what}: unexpected exit code; stderr:\n{}",
            out.stderr
        );
        out
    }
}

/// The real sops, if installed (see [`reference_tool`]).
pub fn sops() -> Option<Run> {
    reference_tool("sops").map(|p| Run::program(p).args(["--config", "/dev/null"]))
}

/// A scratch directory removed at the end of the test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Asserts byte equality with a readable diff on failure.
pub fn assert_same(actual: &[u8], expected: &[u8], what: &str) {
    if actual != expected {
        let a = String::from_utf8_lossy(actual);
        let e = String::from_utf8_lossy(expected);
        let first = a
            .lines()
            .zip(e.lines())
            .position(|(x, y)| x != y)
            .unwrap_or_else(|| a.lines().count().min(e.lines().count()));
        panic!(
            "{what}: output differs from expected at line {}\n--- expected\n{}\n--- actual\n{}",
            first + 1,
            e.lines()
                .skip(first.saturating_sub(2))
                .take(6)
                .collect::<Vec<_>>()
                .join("\n"),
            a.lines()
                .skip(first.saturating_sub(2))
                .take(6)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
}
