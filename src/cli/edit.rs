//! Commands that rewrite an encrypted file: `edit` (and bare `sealant FILE`) and
//! `replace`. Both open the file ([`pipeline::open`]), get new clear content, and write
//! it back with [`pipeline::reseal`], so only the values that changed get new
//! ciphertexts.
//!
//! The editor's plaintext copy lives in a private directory (0700, file 0600; under
//! `$XDG_RUNTIME_DIR` when it exists, a memory-backed directory on most Linux systems)
//! and is removed on every way out: success, error, editor failure, and a SIGINT,
//! SIGTERM, SIGHUP or SIGQUIT to sealant (forwarded to the editor first).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::exec::sys;
use super::Env;
use crate::error::{code, Error, Result};
use crate::fsutil;
use crate::keys::split_command;
use crate::pipeline::{self, EncryptOptions, Opened};
use crate::store::Format;

/// What `edit` needs from the rest of the CLI.
pub struct EditRequest<'a> {
    pub file: &'a Path,
    pub format: Format,
    pub ignore_mac: bool,
    /// Key groups and selection for a file that does not exist yet (from the command
    /// line or `.sops.yaml`).
    pub new_file: &'a dyn Fn() -> Result<super::Plan>,
    pub env: &'a Env,
}

/// `sealant edit FILE`: returns the exit code (0 written, 200 unchanged).
pub fn edit(req: &EditRequest) -> Result<i32> {
    let editor = find_editor(req.env)?;
    let name = req.file.display().to_string();
    let existing = match std::fs::read(req.file) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(req.file, e, code::COULD_NOT_READ_INPUT)),
    };
    let opened = match &existing {
        Some(bytes) => Some(open(bytes, req.format, &name, req.ignore_mac, req.env)?),
        None => None,
    };
    if let Some(o) = &opened {
        super::print_warnings(&o.warnings);
    }
    let initial: Zeroizing<Vec<u8>> = match &opened {
        Some(o) => Zeroizing::new(o.clear.clone()),
        None => Zeroizing::new(template(req.format).to_vec()),
    };

    let workspace = Workspace::create(req.env, req.file)?;
    workspace.write(&initial)?;
    let before = Sha256::digest(&initial[..]);
    let signals = Signals::install()?;
    loop {
        run_editor(&editor, &workspace.path, &signals)?;
        let edited = Zeroizing::new(workspace.read()?);
        if Sha256::digest(&edited[..]) == before {
            eprintln!("sealant: {name}: file has not changed, exiting");
            return Ok(code::FILE_HAS_NOT_BEEN_MODIFIED);
        }
        if edited.iter().all(u8::is_ascii_whitespace) {
            eprintln!("sealant: {name}: the edited file is empty; nothing was changed");
            return Ok(code::FILE_HAS_NOT_BEEN_MODIFIED);
        }
        let now = time::OffsetDateTime::now_utc();
        let result = match &opened {
            Some(o) => pipeline::reseal(o, &edited, &name, now),
            None => {
                let plan = (req.new_file)()?;
                let opts = EncryptOptions {
                    key_groups: &plan.key_groups,
                    shamir_threshold: plan.shamir_threshold,
                    selection: plan.selection,
                    mac_only_encrypted: plan.mac_only_encrypted,
                    output: req.format,
                    now,
                    fast_exit: false,
                };
                pipeline::encrypt(&edited[..], req.format, &name, &opts)
            }
        };
        match result {
            Ok(encrypted) => {
                signals.check()?;
                fsutil::write_atomic(req.file, &encrypted)?;
                return Ok(0);
            }
            // The user's text does not parse (or holds something that cannot be
            // encrypted): say where, and reopen the editor on their own text.
            Err(e) if is_content_error(&e) => {
                eprintln!("sealant: {}", super::printable(&e.to_string()));
                if !wait_for_enter(&name)? {
                    return Err(Error::Usage(format!(
                        "{name}: standard input ended, so editing stopped; the file was not \
                         changed and the edits were discarded"
                    )));
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// `sealant replace FILE [--from NEW]`: the file's clear content becomes NEW (standard
/// input by default), with the same data key and recipients; unchanged values keep their
/// ciphertexts. Returns the exit code (0 whether or not anything changed).
pub fn replace(
    file: &Path,
    from: Option<&Path>,
    format: Format,
    ignore_mac: bool,
    env: &Env,
) -> Result<i32> {
    let name = file.display().to_string();
    let bytes = fsutil::read_input(Some(file))?;
    let new = Zeroizing::new(fsutil::read_input(from)?);
    let opened = open(&bytes, format, &name, ignore_mac, env)?;
    super::print_warnings(&opened.warnings);
    if opened.clear == *new {
        return Ok(0); // nothing to do: the file is left exactly as it was
    }
    let encrypted = pipeline::reseal(&opened, &new, &name, time::OffsetDateTime::now_utc())?;
    fsutil::write_atomic(file, &encrypted)?;
    Ok(0)
}

pub(super) fn open(
    bytes: &[u8],
    format: Format,
    name: &str,
    ignore_mac: bool,
    env: &Env,
) -> Result<Opened> {
    let identities = super::load_identities(env);
    let opts = pipeline::DecryptOptions {
        keys: &identities,
        ignore_mac,
        output: format,
        extract: None,
        fast_exit: false,
    };
    pipeline::open(bytes, format, name, &opts)
}

/// Errors in the edited text itself, which the user can fix in the editor.
fn is_content_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Parse { .. }
            | Error::Input { .. }
            | Error::Encrypt { .. }
            | Error::AlreadyEncrypted
            | Error::Emit { .. }
    )
}

/// Asks the user to press Enter to go back to the editor. `false` when standard input
/// has ended (a script, a closed terminal): never loop forever.
fn wait_for_enter(name: &str) -> Result<bool> {
    eprintln!("sealant: press Enter to fix {name} in the editor, or Ctrl-D to give up");
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) => Ok(false),
        Ok(_) => Ok(true),
        Err(e) => Err(Error::io("<stdin>", e, code::COULD_NOT_READ_INPUT)),
    }
}

/// The editor command: `$SOPS_EDITOR`, else `$EDITOR` (split shell-style, so
/// `code --wait` works), else the first of vim, nano and vi on `PATH`. None: exit 201.
fn find_editor(env: &Env) -> Result<Vec<String>> {
    let set = |k: &str| (env.var)(k).filter(|v| !v.trim().is_empty());
    if let Some(cmd) = set("SOPS_EDITOR").or_else(|| set("EDITOR")) {
        let words = split_command(&cmd)
            .map_err(|why| editor_error(format!("cannot read the editor command: {why}")))?;
        if words.is_empty() {
            return Err(editor_error("the editor command is empty".into()));
        }
        return Ok(words);
    }
    let path = (env.var)("PATH").unwrap_or_default();
    for name in ["vim", "nano", "vi"] {
        if std::env::split_paths(&path).any(|dir| is_executable(&dir.join(name))) {
            return Ok(vec![name.to_string()]);
        }
    }
    Err(editor_error(
        "no editor found: set SOPS_EDITOR or EDITOR (vim, nano and vi are not on PATH)".into(),
    ))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn editor_error(what: String) -> Error {
    Error::Editor(what)
}

/// Runs the editor on `path` and waits for it. Signals sealant receives meanwhile are
/// passed on to it (see [`Signals`]); if one of them ends the session, the error says
/// which.
fn run_editor(editor: &[String], path: &Path, signals: &Signals) -> Result<()> {
    signals.check()?;
    let mut child = std::process::Command::new(&editor[0])
        .args(&editor[1..])
        .arg(path)
        .spawn()
        .map_err(|e| editor_error(format!("cannot run the editor {:?}: {e}", editor[0])))?;
    let pid = child.id();
    signals.forwarder.adopt(pid);
    // Wait without reaping, stop forwarding, then reap: a signal can never reach a
    // process that reused the editor's pid.
    let waited = sys::wait_exited(pid);
    signals.forwarder.release();
    let status = waited
        .and_then(|()| child.wait())
        .map_err(|e| editor_error(format!("waiting for the editor: {e}")))?;
    let received = signals.forwarder.take_received();
    let ends_session = [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];
    if let Some(&sig) = received.iter().find(|s| ends_session.contains(s)) {
        return Err(Error::Interrupted(sig));
    }
    if !status.success() {
        if received.contains(&libc::SIGINT) {
            return Err(Error::Interrupted(libc::SIGINT));
        }
        return Err(editor_error(format!(
            "the editor {:?} failed ({status}); the file was not changed",
            editor[0]
        )));
    }
    Ok(())
}

/// The private directory that holds the plaintext while the editor runs. Dropping it
/// removes the directory and the file (also on errors and signals, see [`Signals`]).
struct Workspace {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Workspace {
    fn create(env: &Env, target: &Path) -> Result<Workspace> {
        let base = super::exec::private_base(env, false)?;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("sealant-edit-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(&base)
            .map_err(|e| Error::io(&base, e, code::COULD_NOT_WRITE_OUTPUT))?;
        // The mode above is filtered by the umask only towards stricter, but make sure.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(dir.path(), e, code::COULD_NOT_WRITE_OUTPUT))?;
        // The same base name as the target, so the editor picks the right syntax mode.
        let name = target
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "sealant-edit".into());
        let path = dir.path().join(name);
        Ok(Workspace { dir, path })
    }

    fn write(&self, content: &[u8]) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let fail = |e| Error::io(&self.path, e, code::COULD_NOT_WRITE_OUTPUT);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(fail)?;
        f.write_all(content).map_err(fail)
    }

    fn read(&self) -> Result<Vec<u8>> {
        std::fs::read(&self.path).map_err(|e| Error::io(&self.path, e, code::COULD_NOT_READ_INPUT))
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // Overwrite before unlinking: the editor may keep the file open or cached.
        if let Ok(meta) = std::fs::metadata(&self.path) {
            let _ = std::fs::write(&self.path, vec![0u8; meta.len() as usize]);
        }
        let _ = std::fs::remove_dir_all(self.dir.path());
    }
}

/// Signals during an edit. While the editor runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT
/// sent to sealant are passed on to it (a Ctrl-C typed in the terminal already reached
/// it and is not sent twice). A SIGTERM, SIGHUP or SIGQUIT ends the edit once the editor
/// has exited, leaving the target untouched and no plaintext behind; a SIGINT ends it
/// only if the editor did not exit successfully (vim and nano use Ctrl-C themselves).
/// Any of them while no editor runs (at the prompt, while re-encrypting) ends it.
struct Signals {
    forwarder: sys::Forwarder,
}

impl Signals {
    fn install() -> Result<Signals> {
        let forwarder =
            sys::Forwarder::start().map_err(|e| Error::io("<signals>", e, code::GENERIC))?;
        Ok(Signals { forwarder })
    }

    /// An error if a signal arrived while no editor ran: the caller unwinds, dropping
    /// the workspace.
    fn check(&self) -> Result<()> {
        match self.forwarder.pending() {
            Some(sig) => Err(Error::Interrupted(sig)),
            None => Ok(()),
        }
    }
}

/// The document a new file starts from (sops's examples, shortened).
fn template(format: Format) -> &'static [u8] {
    match format {
        Format::Yaml => {
            b"# A new file: replace this example with your own keys and values.\nhello: Welcome to sealant! Edit this file as you please!\nexample_key: example_value\nexample_array:\n    - example_value1\n    - example_value2\nexample_number: 1234.56789\nexample_booleans:\n    - true\n    - false\n"
        }
        Format::Json => {
            b"{\n\t\"hello\": \"Welcome to sealant! Edit this file as you please!\",\n\t\"example_key\": \"example_value\",\n\t\"example_array\": [\n\t\t\"example_value1\",\n\t\t\"example_value2\"\n\t],\n\t\"example_number\": 1234.56789,\n\t\"example_booleans\": [\n\t\ttrue,\n\t\tfalse\n\t]\n}\n"
        }
        Format::Dotenv => {
            b"# A new file: replace this example with your own variables.\nhello=Welcome to sealant! Edit this file as you please!\nexample_key=example_value\n"
        }
        Format::Ini => {
            b"; A new file: replace this example with your own sections.\n[Welcome!]\nhello = Welcome to sealant! Edit this file as you please!\nexample_key = example_value\n"
        }
        Format::Toml => {
            b"# A new file: replace this example with your own keys and values.\nhello = \"Welcome to sealant! Edit this file as you please!\"\nexample_key = \"example_value\"\nexample_array = [\"example_value1\", \"example_value2\"]\nexample_number = 1234.56789\n"
        }
        Format::Binary => b"Welcome to sealant! Edit this file as you please!",
    }
}
