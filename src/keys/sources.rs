//! Where age identities come from (spec §8.2), without the library reading the
//! environment itself: the CLI fills an [`IdentitySources`] (usually with
//! [`IdentitySources::from_env`] and `std::env::var`), and an [`IdentityStore`] loads
//! them at most once per process.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use zeroize::Zeroizing;

use super::age::Identities;
use crate::error::{Error, Result};

/// sops caps identity sources at 16 MiB.
const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// The places identities are read from, in the order sops reads them.
///
/// Not yet read (seams for later): `SOPS_AGE_SSH_PRIVATE_KEY_FILE`, `~/.ssh/id_ed25519`
/// and `~/.ssh/id_rsa`.
#[derive(Clone, Default)]
pub struct IdentitySources {
    /// `SOPS_AGE_KEY`: identity text given inline.
    pub age_key: Option<Zeroizing<String>>,
    /// `SOPS_AGE_KEY_FILE`: an identity file; it must exist when set.
    pub age_key_file: Option<PathBuf>,
    /// `SOPS_AGE_KEY_CMD`: a command line, split shell-style ([`split_command`]) and run
    /// without a shell; its standard output is identity text.
    pub age_key_cmd: Option<String>,
    /// `<user config dir>/sops/age/keys.txt`: read only if it exists.
    pub default_keys_file: Option<PathBuf>,
}

impl fmt::Debug for IdentitySources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentitySources")
            .field("age_key", &self.age_key.as_ref().map(|_| "<redacted>"))
            .field("age_key_file", &self.age_key_file)
            .field("age_key_cmd", &self.age_key_cmd.as_ref().map(|_| "<set>"))
            .field("default_keys_file", &self.default_keys_file)
            .finish()
    }
}

impl IdentitySources {
    /// Fills the sources from environment variables through `get` (pass
    /// `|k| std::env::var(k).ok()`). Variables set to the empty string count as unset.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |k: &str| get(k).filter(|v| !v.is_empty());
        IdentitySources {
            age_key: var("SOPS_AGE_KEY").map(Zeroizing::new),
            age_key_file: var("SOPS_AGE_KEY_FILE").map(PathBuf::from),
            age_key_cmd: var("SOPS_AGE_KEY_CMD"),
            default_keys_file: user_config_dir(&var).map(|d| d.join("sops/age/keys.txt")),
        }
    }

    /// Reads every source and merges what they hold. A source that is set but unusable
    /// (missing file, failing command, a line that is not an identity) fails the whole
    /// load, as in sops; the error names the source, never its contents.
    ///
    /// This runs `SOPS_AGE_KEY_CMD` each time it is called; use an [`IdentityStore`]
    /// to load once.
    pub fn load(&self) -> Result<Identities> {
        let mut ids = Identities::new();
        if let Some(text) = &self.age_key {
            ids.note_looked_in("$SOPS_AGE_KEY");
            ids.add_text("$SOPS_AGE_KEY", text)?;
        }
        if let Some(path) = &self.age_key_file {
            let name = format!("$SOPS_AGE_KEY_FILE ({})", path.display());
            ids.note_looked_in(name.clone());
            let text = read_capped(path).map_err(|why| Error::NoKey(format!("{name}: {why}")))?;
            ids.add_text(&name, &text)?;
        }
        if let Some(cmd) = &self.age_key_cmd {
            let name = "$SOPS_AGE_KEY_CMD";
            ids.note_looked_in(name);
            let text =
                run_key_command(cmd).map_err(|why| Error::NoKey(format!("{name}: {why}")))?;
            ids.add_text(name, &text)?;
        }
        if let Some(path) = &self.default_keys_file {
            let name = path.display().to_string();
            ids.note_looked_in(name.clone());
            if path.exists() {
                let text =
                    read_capped(path).map_err(|why| Error::NoKey(format!("{name}: {why}")))?;
                ids.add_text(&name, &text)?;
            }
        }
        Ok(ids)
    }
}

/// Go's `os.UserConfigDir`, from environment lookups. Linux and the BSDs:
/// `$XDG_CONFIG_HOME` (which must be absolute), else `$HOME/.config`. macOS: sops
/// prefers `$XDG_CONFIG_HOME` there too, else `$HOME/Library/Application Support`.
/// Windows: `%AppData%`.
fn user_config_dir(var: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if cfg!(windows) {
        return var("AppData").map(PathBuf::from);
    }
    if let Some(xdg) = var("XDG_CONFIG_HOME") {
        // Go refuses a relative XDG_CONFIG_HOME rather than falling back to HOME.
        let xdg = PathBuf::from(xdg);
        return xdg.is_absolute().then_some(xdg);
    }
    let home = PathBuf::from(var("HOME")?);
    Some(if cfg!(target_os = "macos") {
        home.join("Library/Application Support")
    } else {
        home.join(".config")
    })
}

fn read_capped(path: &Path) -> std::result::Result<Zeroizing<String>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    into_text(bytes)
}

fn into_text(bytes: Zeroizing<Vec<u8>>) -> std::result::Result<Zeroizing<String>, String> {
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err("larger than 16 MiB".into());
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err("not UTF-8 text".into()),
    }
}

/// Runs the key command without a shell; stdin and stderr are the user's (so it can
/// prompt), stdout is captured.
///
/// Unlike the sops build this spec describes, `SOPS_AGE_RECIPIENT` is not set: the
/// command runs once per process, not once per recipient.
fn run_key_command(cmd: &str) -> std::result::Result<Zeroizing<String>, String> {
    let argv = split_command(cmd).map_err(|why| format!("cannot split the command: {why}"))?;
    let (program, args) = argv.split_first().ok_or("the command is empty")?;
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(format!("the command failed ({})", output.status));
    }
    into_text(stdout)
}

/// Splits a command line into words the way a POSIX shell would, without expanding
/// anything: whitespace separates words; `'…'` is literal; in `"…"` a backslash escapes
/// only `\`, `"`, `$`, `` ` `` and a newline; outside quotes a backslash escapes any
/// character (and a backslash-newline disappears); `#` at the start of a word comments
/// out the rest of the line.
pub fn split_command(s: &str) -> std::result::Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if !in_word => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(next) => {
                    word.push(next);
                    in_word = true;
                }
                None => return Err("a backslash ends the command"),
            },
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated single quote"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.peek() {
                            Some('\n') => {
                                chars.next();
                            }
                            Some(&next @ ('\\' | '"' | '$' | '`')) => {
                                chars.next();
                                word.push(next);
                            }
                            _ => word.push('\\'),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated double quote"),
                    }
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Identity sources plus the identities loaded from them, loaded lazily and at most once
/// (so `SOPS_AGE_KEY_CMD` runs at most once per process, and not at all when nothing
/// needs decrypting). A failed load is remembered too, and reported again on each call.
pub struct IdentityStore {
    sources: IdentitySources,
    loaded: OnceLock<std::result::Result<Identities, String>>,
}

impl IdentityStore {
    pub fn new(sources: IdentitySources) -> Self {
        IdentityStore {
            sources,
            loaded: OnceLock::new(),
        }
    }

    /// The sources this store reads.
    pub fn sources(&self) -> &IdentitySources {
        &self.sources
    }

    /// The identities, loading them on the first call. Errors are [`Error::NoKey`].
    pub fn identities(&self) -> Result<&Identities> {
        self.loaded
            .get_or_init(|| self.sources.load().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|msg| Error::NoKey(msg.clone()))
    }
}

impl fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityStore")
            .field("sources", &self.sources)
            .field("loaded", &self.loaded.get().map(|r| r.is_ok()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_vectors;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn key_text(n: u8) -> String {
        std::fs::read_to_string(test_vectors::path(&format!("keys/age{n}.txt"))).unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn default_keys_file_follows_xdg_then_home() {
        let s = IdentitySources::from_env(env(&[("HOME", "/home/u")]));
        assert_eq!(
            s.default_keys_file,
            Some(PathBuf::from("/home/u/.config/sops/age/keys.txt"))
        );
        let s = IdentitySources::from_env(env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/xdg")]));
        assert_eq!(
            s.default_keys_file,
            Some(PathBuf::from("/xdg/sops/age/keys.txt"))
        );
        let s = IdentitySources::from_env(env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "")]));
        assert_eq!(
            s.default_keys_file,
            Some(PathBuf::from("/home/u/.config/sops/age/keys.txt"))
        );
        let s = IdentitySources::from_env(env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "rel")]));
        assert_eq!(s.default_keys_file, None);
        assert_eq!(IdentitySources::from_env(env(&[])).default_keys_file, None);
    }

    #[test]
    fn from_env_reads_the_sops_variables() {
        let s = IdentitySources::from_env(env(&[
            ("SOPS_AGE_KEY", "AGE-SECRET-KEY-1XYZ"),
            ("SOPS_AGE_KEY_FILE", "/k.txt"),
            ("SOPS_AGE_KEY_CMD", "pass show age"),
            ("SOPS_AGE_KEY_CMD_UNRELATED", "x"),
        ]));
        assert_eq!(
            s.age_key.as_deref().map(String::as_str),
            Some("AGE-SECRET-KEY-1XYZ")
        );
        assert_eq!(s.age_key_file, Some(PathBuf::from("/k.txt")));
        assert_eq!(s.age_key_cmd.as_deref(), Some("pass show age"));
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("XYZ") && !shown.contains("pass show"),
            "{shown}"
        );
        let s = IdentitySources::from_env(env(&[("SOPS_AGE_KEY", "")]));
        assert!(s.age_key.is_none());
    }

    #[test]
    fn loads_and_merges_every_source_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file.txt");
        std::fs::write(&file, key_text(2)).unwrap();
        let default = dir.path().join("sops/age/keys.txt");
        std::fs::create_dir_all(default.parent().unwrap()).unwrap();
        std::fs::write(&default, format!("# default\n{}", key_text(3))).unwrap();
        let sources = IdentitySources {
            age_key: Some(Zeroizing::new(key_text(1))),
            age_key_file: Some(file.clone()),
            age_key_cmd: None,
            default_keys_file: Some(default.clone()),
        };
        let ids = sources.load().unwrap();
        assert_eq!(ids.len(), 3);
        let srcs: Vec<&str> = ids.iter().map(|i| i.source()).collect();
        assert_eq!(srcs[0], "$SOPS_AGE_KEY");
        assert!(srcs[1].starts_with("$SOPS_AGE_KEY_FILE") && srcs[1].contains("file.txt"));
        assert_eq!(srcs[2], default.display().to_string());
        assert_eq!(ids.looked_in().len(), 3);
        let all = ids.looked_in().join(" ");
        assert!(!all.contains("AGE-SECRET-KEY"), "{all}");
    }

    #[test]
    fn default_file_is_optional_but_key_file_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope/keys.txt");
        let sources = IdentitySources {
            default_keys_file: Some(missing.clone()),
            ..Default::default()
        };
        let ids = sources.load().unwrap();
        assert!(ids.is_empty());
        assert_eq!(ids.looked_in(), [missing.display().to_string()]);

        let sources = IdentitySources {
            age_key_file: Some(missing.clone()),
            ..Default::default()
        };
        let err = sources.load().unwrap_err();
        assert_eq!(err.exit_code(), 128);
        assert!(err.to_string().contains("SOPS_AGE_KEY_FILE"), "{err}");
    }

    #[test]
    fn a_bad_source_fails_the_load_naming_it() {
        let sources = IdentitySources {
            age_key: Some(Zeroizing::new(format!("{}\nsecret-garbage\n", key_text(1)))),
            ..Default::default()
        };
        let err = sources.load().unwrap_err().to_string();
        assert!(
            err.contains("$SOPS_AGE_KEY") && err.contains("line"),
            "{err}"
        );
        assert!(!err.contains("secret-garbage"), "{err}");
    }

    #[test]
    fn key_command_runs_once_without_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("count");
        let keyfile = test_vectors::path("keys/age1.txt");
        // `sh` is the program here: the command line itself is split, not given to a
        // shell, so the quoted script arrives as one argument.
        let cmd = format!(
            "sh -c 'echo run >> \"$0\"; cat \"$1\"' '{}' '{}'",
            counter.display(),
            keyfile.display()
        );
        let store = IdentityStore::new(IdentitySources {
            age_key_cmd: Some(cmd),
            ..Default::default()
        });
        assert_eq!(store.identities().unwrap().len(), 1);
        assert_eq!(store.identities().unwrap().len(), 1);
        assert_eq!(std::fs::read_to_string(&counter).unwrap(), "run\n");
        assert_eq!(
            store.identities().unwrap().looked_in(),
            ["$SOPS_AGE_KEY_CMD"]
        );
    }

    #[test]
    fn key_command_failures_are_reported() {
        let failing = IdentityStore::new(IdentitySources {
            age_key_cmd: Some("sh -c 'echo AGE-SECRET-KEY-1LEAK; exit 3'".into()),
            ..Default::default()
        });
        let err = failing.identities().unwrap_err().to_string();
        assert!(
            err.contains("SOPS_AGE_KEY_CMD") && err.contains("failed"),
            "{err}"
        );
        assert!(!err.contains("LEAK"), "{err}");
        // The failure is remembered, not retried.
        assert!(failing.identities().is_err());

        let missing = IdentitySources {
            age_key_cmd: Some("/nonexistent/sealant-test-cmd".into()),
            ..Default::default()
        };
        assert!(missing
            .load()
            .unwrap_err()
            .to_string()
            .contains("cannot run"));
        let unbalanced = IdentitySources {
            age_key_cmd: Some("echo 'oops".into()),
            ..Default::default()
        };
        assert!(unbalanced.load().unwrap_err().to_string().contains("quote"));
    }

    #[test]
    fn shell_style_splitting() {
        let s = |x: &str| split_command(x).unwrap();
        assert_eq!(s("pass show age/key"), ["pass", "show", "age/key"]);
        assert_eq!(s("  a\t b \n c "), ["a", "b", "c"]);
        assert_eq!(s("a 'b c' \"d e\""), ["a", "b c", "d e"]);
        assert_eq!(s(r#"a "x\"y\\z\$\n""#), ["a", r#"x"y\z$\n"#]);
        assert_eq!(s(r"a b\ c \'d"), ["a", "b c", "'d"]);
        assert_eq!(s("a'b'\"c\"d"), ["abcd"]);
        assert_eq!(s("a '' \"\""), ["a", "", ""]);
        assert_eq!(s("a # comment\nb"), ["a", "b"]);
        assert_eq!(s("a#b"), ["a#b"]);
        assert_eq!(s("a \\\nb"), ["a", "b"]);
        assert_eq!(s("'$HOME' ~"), ["$HOME", "~"]);
        assert!(s("").is_empty());
        assert!(split_command("'x").is_err());
        assert!(split_command("\"x").is_err());
        assert!(split_command("x\\").is_err());
    }
}
