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

use super::identity::{Identities, MAX_SOURCE_BYTES};
use super::prompt::SharedPrompt;
use crate::error::Result;

/// The places identities are read from, in the order sops reads them.
#[derive(Clone, Default)]
pub struct IdentitySources {
    /// `SOPS_AGE_SSH_PRIVATE_KEY_FILE`: an OpenSSH private key; it must exist when set.
    pub ssh_key_file: Option<PathBuf>,
    /// `~/.ssh/id_ed25519` and `~/.ssh/id_rsa`: read if they exist, whether or not
    /// `SOPS_AGE_SSH_PRIVATE_KEY_FILE` is set (as sops does).
    pub default_ssh_keys: Vec<PathBuf>,
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
            .field("ssh_key_file", &self.ssh_key_file)
            .field("default_ssh_keys", &self.default_ssh_keys)
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
    /// The home directory is `$HOME` (`%USERPROFILE%` on Windows).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |k: &str| get(k).filter(|v| !v.is_empty());
        let home = var(if cfg!(windows) { "USERPROFILE" } else { "HOME" }).map(PathBuf::from);
        IdentitySources {
            ssh_key_file: var("SOPS_AGE_SSH_PRIVATE_KEY_FILE").map(PathBuf::from),
            default_ssh_keys: home
                .map(|h| vec![h.join(".ssh/id_ed25519"), h.join(".ssh/id_rsa")])
                .unwrap_or_default(),
            age_key: var("SOPS_AGE_KEY").map(Zeroizing::new),
            age_key_file: var("SOPS_AGE_KEY_FILE").map(PathBuf::from),
            age_key_cmd: var("SOPS_AGE_KEY_CMD"),
            default_keys_file: user_config_dir(&var).map(|d| d.join("sops/age/keys.txt")),
        }
    }

    /// Reads every source and merges what they hold, in sops's order: the SSH keys, then
    /// `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD` and the default keys file.
    ///
    /// As in sops, a source that is set but unusable (missing file, failing command, a
    /// line that is not an identity) does not stop the others: it adds nothing, and the
    /// problem is kept in [`Identities::notes`] for the error shown if no identity can
    /// decrypt. Notes name the source, never its contents. Passphrases and plugin
    /// questions go to `prompt`, and only when an identity is used.
    ///
    /// This runs `SOPS_AGE_KEY_CMD` each time it is called; use an [`IdentityStore`]
    /// to load once.
    pub fn load(&self, prompt: SharedPrompt) -> Identities {
        let mut ids = Identities::with_prompt(prompt);
        if let Some(path) = &self.ssh_key_file {
            let name = format!("$SOPS_AGE_SSH_PRIVATE_KEY_FILE ({})", path.display());
            ids.note_looked_in(name.clone());
            match read_capped(path) {
                Ok(bytes) => noted(&mut ids, |ids| {
                    ids.add_ssh_key(&path.display().to_string(), &bytes)
                }),
                Err(why) => ids.note(format!("{name}: {why}")),
            }
        }
        for path in &self.default_ssh_keys {
            let name = path.display().to_string();
            ids.note_looked_in(name.clone());
            if path.exists() {
                match read_capped(path) {
                    Ok(bytes) => noted(&mut ids, |ids| ids.add_ssh_key(&name, &bytes)),
                    Err(why) => ids.note(format!("{name}: {why}")),
                }
            }
        }
        if let Some(text) = &self.age_key {
            ids.note_looked_in("$SOPS_AGE_KEY");
            noted(&mut ids, |ids| ids.add_text("$SOPS_AGE_KEY", text));
        }
        if let Some(path) = &self.age_key_file {
            let name = format!("$SOPS_AGE_KEY_FILE ({})", path.display());
            ids.note_looked_in(name.clone());
            match read_capped(path) {
                Ok(bytes) => noted(&mut ids, |ids| ids.add_source(&name, &bytes)),
                Err(why) => ids.note(format!("{name}: {why}")),
            }
        }
        if let Some(cmd) = &self.age_key_cmd {
            let name = "$SOPS_AGE_KEY_CMD";
            ids.note_looked_in(name);
            match run_key_command(cmd) {
                Ok(bytes) => noted(&mut ids, |ids| ids.add_source(name, &bytes)),
                Err(why) => ids.note(format!("{name}: {why}")),
            }
        }
        if let Some(path) = &self.default_keys_file {
            let name = path.display().to_string();
            ids.note_looked_in(name.clone());
            if path.exists() {
                match read_capped(path) {
                    Ok(bytes) => noted(&mut ids, |ids| ids.add_source(&name, &bytes)),
                    Err(why) => ids.note(format!("{name}: {why}")),
                }
            }
        }
        ids
    }
}

/// Runs one source's parse; a failure becomes a note (its message names the source).
fn noted(ids: &mut Identities, add: impl FnOnce(&mut Identities) -> Result<()>) {
    if let Err(e) = add(ids) {
        ids.note(e.to_string());
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

fn read_capped(path: &Path) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    capped(bytes)
}

fn capped(bytes: Zeroizing<Vec<u8>>) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err("larger than 16 MiB".into());
    }
    Ok(bytes)
}

/// Runs the key command without a shell; stdin and stderr are the user's (so it can
/// prompt), stdout is captured.
///
/// Unlike the sops build this spec describes, `SOPS_AGE_RECIPIENT` is not set: the
/// command runs once per process, not once per recipient.
fn run_key_command(cmd: &str) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
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
    capped(stdout)
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
/// needs decrypting).
pub struct IdentityStore {
    sources: IdentitySources,
    prompt: SharedPrompt,
    loaded: OnceLock<Identities>,
}

impl IdentityStore {
    /// A store over `sources`; passphrases and plugin questions go to `prompt`.
    pub fn new(sources: IdentitySources, prompt: SharedPrompt) -> Self {
        IdentityStore {
            sources,
            prompt,
            loaded: OnceLock::new(),
        }
    }

    /// The sources this store reads.
    pub fn sources(&self) -> &IdentitySources {
        &self.sources
    }

    /// The identities, loading them on the first call (see [`IdentitySources::load`]).
    pub fn identities(&self) -> &Identities {
        self.loaded
            .get_or_init(|| self.sources.load(self.prompt.clone()))
    }
}

impl fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityStore")
            .field("sources", &self.sources)
            .field("loaded", &self.loaded.get().is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_vectors;
    use crate::keys::prompt::no_prompt;
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
            ("SOPS_AGE_SSH_PRIVATE_KEY_FILE", "/id"),
        ]));
        assert_eq!(
            s.age_key.as_deref().map(String::as_str),
            Some("AGE-SECRET-KEY-1XYZ")
        );
        assert_eq!(s.age_key_file, Some(PathBuf::from("/k.txt")));
        assert_eq!(s.age_key_cmd.as_deref(), Some("pass show age"));
        assert_eq!(s.ssh_key_file, Some(PathBuf::from("/id")));
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("XYZ") && !shown.contains("pass show"),
            "{shown}"
        );
        let s = IdentitySources::from_env(env(&[("SOPS_AGE_KEY", "")]));
        assert!(s.age_key.is_none());
        assert!(s.default_ssh_keys.is_empty(), "no HOME, no ~/.ssh");
    }

    #[cfg(unix)]
    #[test]
    fn default_ssh_keys_come_from_home_even_with_the_variable_set() {
        let s = IdentitySources::from_env(env(&[
            ("HOME", "/home/u"),
            ("SOPS_AGE_SSH_PRIVATE_KEY_FILE", "/id"),
        ]));
        assert_eq!(
            s.default_ssh_keys,
            [
                PathBuf::from("/home/u/.ssh/id_ed25519"),
                PathBuf::from("/home/u/.ssh/id_rsa")
            ]
        );
        assert_eq!(s.ssh_key_file, Some(PathBuf::from("/id")));
    }

    #[test]
    fn loads_and_merges_every_source_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file.txt");
        std::fs::write(&file, key_text(2)).unwrap();
        let default = dir.path().join("sops/age/keys.txt");
        std::fs::create_dir_all(default.parent().unwrap()).unwrap();
        std::fs::write(&default, format!("# default\n{}", key_text(3))).unwrap();
        let ssh_dir = dir.path().join(".ssh");
        std::fs::create_dir_all(&ssh_dir).unwrap();
        std::fs::copy(
            test_vectors::path("keys/ssh_ed25519"),
            ssh_dir.join("id_ed25519"),
        )
        .unwrap();
        let sources = IdentitySources {
            ssh_key_file: Some(test_vectors::path("keys/ssh_ed25519")),
            default_ssh_keys: vec![ssh_dir.join("id_ed25519"), ssh_dir.join("id_rsa")],
            age_key: Some(Zeroizing::new(key_text(1))),
            age_key_file: Some(file.clone()),
            age_key_cmd: None,
            default_keys_file: Some(default.clone()),
        };
        let ids = sources.load(no_prompt());
        assert!(ids.notes().is_empty(), "{:?}", ids.notes());
        let srcs: Vec<&str> = ids.iter().map(|i| i.source()).collect();
        assert_eq!(srcs.len(), 5, "{srcs:?}");
        assert!(srcs[0].ends_with("keys/ssh_ed25519"), "{srcs:?}");
        assert!(srcs[1].ends_with(".ssh/id_ed25519"), "{srcs:?}");
        assert_eq!(srcs[2], "$SOPS_AGE_KEY");
        assert!(srcs[3].starts_with("$SOPS_AGE_KEY_FILE") && srcs[3].contains("file.txt"));
        assert_eq!(srcs[4], default.display().to_string());
        assert!(ids
            .iter()
            .next()
            .unwrap()
            .recipient()
            .starts_with("ssh-ed25519 AAAA"));
        // id_rsa does not exist: looked for, not an error.
        assert_eq!(ids.looked_in().len(), 6, "{:?}", ids.looked_in());
        assert!(ids.looked_in()[0].starts_with("$SOPS_AGE_SSH_PRIVATE_KEY_FILE"));
        assert!(ids.looked_in()[2].ends_with(".ssh/id_rsa"));
        let all = ids.looked_in().join(" ");
        assert!(!all.contains("AGE-SECRET-KEY"), "{all}");
    }

    #[test]
    fn default_files_are_optional_and_a_missing_key_file_does_not_stop_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope/keys.txt");
        let sources = IdentitySources {
            default_keys_file: Some(missing.clone()),
            default_ssh_keys: vec![dir.path().join("nope/id_ed25519")],
            ..Default::default()
        };
        let ids = sources.load(no_prompt());
        assert!(ids.is_empty());
        assert!(ids.notes().is_empty(), "{:?}", ids.notes());
        assert_eq!(ids.looked_in().len(), 2);

        // As in sops: a set variable naming a missing file is a problem, noted, and the
        // other sources still load.
        let sources = IdentitySources {
            age_key_file: Some(missing.clone()),
            ssh_key_file: Some(dir.path().join("nope/ssh")),
            age_key: Some(Zeroizing::new(key_text(1))),
            ..Default::default()
        };
        let ids = sources.load(no_prompt());
        assert_eq!(ids.len(), 1);
        let notes = ids.notes().join("\n");
        assert!(
            notes.contains("$SOPS_AGE_KEY_FILE") && notes.contains("cannot open"),
            "{notes}"
        );
        assert!(notes.contains("$SOPS_AGE_SSH_PRIVATE_KEY_FILE"), "{notes}");
    }

    #[test]
    fn a_bad_source_is_noted_by_name_and_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys.txt");
        std::fs::write(&file, key_text(2)).unwrap();
        let sources = IdentitySources {
            age_key: Some(Zeroizing::new(format!("{}\nsecret-garbage\n", key_text(1)))),
            age_key_file: Some(file),
            ..Default::default()
        };
        let ids = sources.load(no_prompt());
        let notes = ids.notes().join("\n");
        assert!(
            notes.contains("$SOPS_AGE_KEY") && notes.contains("line"),
            "{notes}"
        );
        assert!(!notes.contains("secret-garbage"), "{notes}");
        // The good key of the bad source is not used; the other source's key is.
        assert_eq!(ids.len(), 1);
        assert!(ids
            .iter()
            .next()
            .unwrap()
            .source()
            .starts_with("$SOPS_AGE_KEY_FILE"));
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
        let store = IdentityStore::new(
            IdentitySources {
                age_key_cmd: Some(cmd),
                ..Default::default()
            },
            no_prompt(),
        );
        assert!(!format!("{store:?}").contains("loaded: true"));
        assert_eq!(store.identities().len(), 1);
        assert_eq!(store.identities().len(), 1);
        assert_eq!(std::fs::read_to_string(&counter).unwrap(), "run\n");
        assert_eq!(store.identities().looked_in(), ["$SOPS_AGE_KEY_CMD"]);
    }

    #[test]
    fn key_command_failures_are_noted() {
        let failing = IdentityStore::new(
            IdentitySources {
                age_key_cmd: Some("sh -c 'echo AGE-SECRET-KEY-1LEAK; exit 3'".into()),
                ..Default::default()
            },
            no_prompt(),
        );
        let notes = failing.identities().notes().join("\n");
        assert!(
            notes.contains("SOPS_AGE_KEY_CMD") && notes.contains("failed"),
            "{notes}"
        );
        assert!(!notes.contains("LEAK"), "{notes}");
        assert!(failing.identities().is_empty());

        let note = |cmd: &str| {
            IdentitySources {
                age_key_cmd: Some(cmd.into()),
                ..Default::default()
            }
            .load(no_prompt())
            .notes()
            .join("\n")
        };
        assert!(note("/nonexistent/sealant-test-cmd").contains("cannot run"));
        assert!(note("echo 'oops").contains("quote"));
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
