//! `exec-env` and `exec-file`: run a command with the decrypted secrets, writing
//! nothing to disk (spec §11.2; sops's `cmd/sops/subcommand/exec`).
//!
//! As in sops, the command runs through `/bin/sh -c` and its exit code becomes
//! sealant's. Unlike sops, sealant stays the command's parent while it runs: the signals
//! it gets go to the command (see `sys::Forwarder`), a command killed by a signal gives
//! 128 + its number, and `exec-file`'s private directory is removed whatever happens,
//! short of SIGKILL.

pub(super) mod sys;
mod vars;

use std::ffi::{OsStr, OsString};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use clap::Args;
use zeroize::Zeroizing;

use super::args::TypeArgs;
use super::{
    display_name, input_format, load_identities, output_format, print_warnings, printable, Env,
};
use crate::error::{code, Error, Result};
use crate::pipeline::{self, DecryptOptions};

#[derive(Debug, Args)]
pub struct ExecEnvArgs {
    /// Give the command only the file's variables, not sealant's environment.
    #[arg(long)]
    pub pristine: bool,
    /// Replace sealant with the command (exec) instead of running it as a child.
    #[arg(long)]
    pub same_process: bool,
    /// Run the command as this user (sealant must run as root).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Start the command and exit at once, its output discarded (deprecated, as in sops).
    #[arg(long)]
    pub background: bool,
    /// One variable per leaf of nested maps and lists, named by the upper-cased key
    /// path: db: {user: x} gives DB_USER=x (see docs/COMMANDS.md).
    #[arg(long)]
    pub flatten: bool,
    /// Input format (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Order in which key types are tried (accepted; sealant has age keys only).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "TYPES")]
    pub decryption_order: Option<String>,
    /// The encrypted file.
    pub file: PathBuf,
    /// The command, run with /bin/sh -c.
    #[arg(allow_hyphen_values = true)]
    pub command: OsString,
}

#[derive(Debug, Args)]
pub struct ExecFileArgs {
    /// Write the plaintext to a 0600 file instead of a FIFO.
    #[arg(long)]
    pub no_fifo: bool,
    /// Run the command as this user (sealant must run as root).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Not supported: sops removes the file before a backgrounded command can read it.
    #[arg(long, hide = true)]
    pub background: bool,
    /// The file name the command sees (default: tmp-file). It does not change the
    /// format: use --output-type for that, as in sops.
    #[arg(long, value_name = "NAME")]
    pub filename: Option<OsString>,
    /// Input format (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Format of the plaintext the command reads (default: the input format).
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Order in which key types are tried (accepted; sealant has age keys only).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "TYPES")]
    pub decryption_order: Option<String>,
    /// The encrypted file.
    pub file: PathBuf,
    /// The command, run with /bin/sh -c; every {} is replaced by the file's path.
    #[arg(allow_hyphen_values = true)]
    pub command: OsString,
}

/// sops's name for the file when `--filename` is not given.
const DEFAULT_FILENAME: &str = "tmp-file";

pub(super) fn exec_env(a: &ExecEnvArgs, env: &Env) -> Result<i32> {
    if a.same_process && a.background {
        return Err(Error::Conflict(
            "--same-process cannot be used with --background".into(),
        ));
    }
    let types = TypeArgs {
        input_type: a.input_type.clone(),
        ..TypeArgs::default()
    };
    let name = display_name(Some(&a.file), &types);
    let input = input_format(Some(&a.file), &types)?;
    let account = a.user.as_deref().map(lookup_user).transpose()?;
    let bytes = read_encrypted(&a.file)?;
    let vars = {
        let tree = pipeline::decrypt_tree(&bytes, input, &name, &load_identities(env))?;
        print_warnings(&tree.warnings);
        vars::variables(tree.docs.first(), a.flatten, &name)?
    };
    if let Some(account) = &account {
        become_user(account)?;
    }
    let mut cmd = shell(&a.command);
    if a.pristine {
        cmd.env_clear();
    }
    set_user_env(&mut cmd, account.as_ref());
    // Later values win, so the file's variables override sealant's environment.
    for var in &vars {
        cmd.env(&var.name, OsStr::from_bytes(&var.value));
    }
    drop(vars);
    if a.same_process {
        // Only returns on failure.
        return Err(spawn_error(cmd.exec()));
    }
    if a.background {
        eprintln!("sealant: warning: --background is deprecated (as in sops); the command's output is discarded");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd.spawn().map_err(spawn_error)?;
        return Ok(0);
    }
    let forwarder = sys::Forwarder::start().map_err(signal_error)?;
    supervise(cmd, &forwarder)
}

pub(super) fn exec_file(a: &ExecFileArgs, env: &Env) -> Result<i32> {
    if a.background {
        return Err(Error::Usage(
            "exec-file --background is not supported: the file is removed when sealant exits, \
             before a backgrounded command could read it (sops 3.11 removes it the same way)"
                .into(),
        ));
    }
    let filename = match &a.filename {
        Some(n) => check_filename(n)?,
        None => OsStr::new(DEFAULT_FILENAME),
    };
    let types = TypeArgs {
        input_type: a.input_type.clone(),
        output_type: a.output_type.clone(),
        filename_override: None,
    };
    let name = display_name(Some(&a.file), &types);
    let input = input_format(Some(&a.file), &types)?;
    let output = output_format(&types, input)?;
    let account = a.user.as_deref().map(lookup_user).transpose()?;
    let bytes = read_encrypted(&a.file)?;
    let plaintext = {
        let keys = load_identities(env);
        let opts = DecryptOptions {
            keys: &keys,
            ignore_mac: false,
            output,
            extract: None,
            fast_exit: false,
        };
        let decrypted = pipeline::decrypt(&bytes, input, &name, &opts)?;
        print_warnings(&decrypted.warnings);
        Zeroizing::new(decrypted.text)
    };
    if let Some(account) = &account {
        become_user(account)?;
    }
    // From here on a signal must not kill sealant before the directory is removed.
    let forwarder = sys::Forwarder::start().map_err(signal_error)?;
    let base = private_base(env, account.is_some())?;
    let dir = tempfile::Builder::new()
        .prefix(".sealant-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(&base)
        .map_err(|e| Error::io(&base, e, code::COULD_NOT_WRITE_OUTPUT))?;
    let path = dir.path().join(filename);
    check_shell_safe(&path)?;
    let fifo = if a.no_fifo {
        write_private_file(&path, &plaintext)?;
        drop(plaintext);
        None
    } else {
        Some(Fifo::serve(&path, plaintext)?)
    };
    if !a.command.as_bytes().windows(2).any(|w| w == b"{}") {
        eprintln!("sealant: warning: the command has no {{}}, so it is not told the file's path");
    }
    let mut cmd = shell(&substitute(&a.command, &path));
    set_user_env(&mut cmd, account.as_ref());
    let result = supervise(cmd, &forwarder);
    if let Some(fifo) = fifo {
        fifo.finish();
    }
    let dir_path = dir.path().to_path_buf();
    if let Err(e) = dir.close() {
        eprintln!(
            "sealant: warning: could not remove {}: {e}",
            printable(&dir_path.display().to_string())
        );
    }
    result
}

/// Reads the encrypted file. sops's exec commands report a missing file as exit 2 (not
/// 100 like `decrypt`).
fn read_encrypted(file: &Path) -> Result<Vec<u8>> {
    crate::fsutil::read_input(Some(file)).map_err(|e| match e {
        Error::Io { path, source, .. } => Error::io(path, source, code::COULD_NOT_READ_INPUT),
        other => other,
    })
}

fn shell(command: &OsStr) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    cmd
}

fn spawn_error(e: std::io::Error) -> Error {
    Error::io("/bin/sh", e, code::GENERIC)
}

fn signal_error(e: std::io::Error) -> Error {
    Error::io("<signal handling>", e, code::GENERIC)
}

/// Runs the command to its end, passing signals on, and gives its exit code (128 + the
/// signal's number if a signal ended it, as shells report it).
fn supervise(mut cmd: Command, forwarder: &sys::Forwarder) -> Result<i32> {
    if let Some(signal) = forwarder.pending() {
        return Err(Error::Interrupted(signal));
    }
    let mut child = cmd.spawn().map_err(spawn_error)?;
    // The command's copy of the environment, secrets included, is no longer needed.
    drop(cmd);
    let pid = child.id();
    forwarder.adopt(pid);
    let waited = sys::wait_exited(pid);
    forwarder.release();
    waited
        .and_then(|()| child.wait())
        .map(exit_code)
        .map_err(|e| Error::io("<child process>", e, code::GENERIC))
}

fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(code::GENERIC)
}

fn lookup_user(name: &str) -> Result<sys::Account> {
    match sys::lookup_user(name) {
        Ok(Some(account)) => Ok(account),
        Ok(None) => Err(Error::Usage(format!("--user {name}: no such user"))),
        Err(e) => Err(Error::Usage(format!("--user {name}: {e}"))),
    }
}

fn become_user(account: &sys::Account) -> Result<()> {
    sys::switch_user(account).map_err(|e| {
        Error::Usage(match e {
            sys::SwitchError::NotRoot => format!(
                "--user {}: running a command as another user needs root",
                account.name
            ),
            sys::SwitchError::Failed(e) => {
                format!("--user {}: cannot become this user: {e}", account.name)
            }
        })
    })
}

/// The variables a login as `account` would have (sops 3.13 sets these three).
fn set_user_env(cmd: &mut Command, account: Option<&sys::Account>) {
    if let Some(account) = account {
        cmd.env("HOME", &account.home)
            .env("USER", &account.name)
            .env("LOGNAME", &account.name);
    }
}

/// A plain file name: the file is created in sealant's private directory, nowhere else.
fn check_filename(name: &OsStr) -> Result<&OsStr> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.contains(&b'/') || name == "." || name == ".." {
        return Err(Error::Usage(format!(
            "--filename {}: give a file name, not a path",
            printable(&name.to_string_lossy())
        )));
    }
    Ok(name)
}

/// Where the private directory goes: `$XDG_RUNTIME_DIR` (a per-user tmpfs: memory, not
/// disk) when it is a directory, else `$TMPDIR`, else /tmp (as `edit` chooses). With
/// `--user` the runtime directory is the caller's, which the new user cannot enter, so it
/// is skipped.
pub(super) fn private_base(env: &Env, switched_user: bool) -> Result<PathBuf> {
    let set = |k: &str| {
        (env.var)(k)
            .map(PathBuf::from)
            .filter(|d| !d.as_os_str().is_empty() && d.is_dir())
    };
    let base = (!switched_user)
        .then(|| set("XDG_RUNTIME_DIR"))
        .flatten()
        .or_else(|| set("TMPDIR"))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    std::path::absolute(&base).map_err(|e| Error::io(&base, e, code::COULD_NOT_WRITE_OUTPUT))
}

/// The path goes into a shell command as it is (as in sops): refuse one the shell would
/// split or interpret rather than run something else.
fn check_shell_safe(path: &Path) -> Result<()> {
    let safe = |b: &u8| b.is_ascii_alphanumeric() || b"/._+,:@%-".contains(b);
    if path.as_os_str().as_bytes().iter().all(safe) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "the file's path {} holds characters the shell would interpret; choose a \
             --filename, or a TMPDIR / XDG_RUNTIME_DIR, made of letters, digits and ._+,:@%-",
            printable(&path.display().to_string())
        )))
    }
}

/// `command` with every `{}` replaced by `path` (sops appends nothing when there is none).
fn substitute(command: &OsStr, path: &Path) -> OsString {
    let (cmd, path) = (command.as_bytes(), path.as_os_str().as_bytes());
    let mut out = Vec::with_capacity(cmd.len() + path.len());
    let mut rest = cmd;
    while let Some(at) = rest.windows(2).position(|w| w == b"{}") {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(path);
        rest = &rest[at + 2..];
    }
    out.extend_from_slice(rest);
    OsString::from_vec(out)
}

/// Writes the plaintext to a new file only its owner can read.
fn write_private_file(path: &Path, plaintext: &[u8]) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(plaintext))
        .map_err(|e| Error::io(path, e, code::COULD_NOT_WRITE_OUTPUT))
}

/// A FIFO fed from a thread: the plaintext goes from memory to the reader, never to a
/// file. Opening a FIFO to write blocks until a reader opens it, hence the thread.
struct Fifo {
    path: PathBuf,
}

impl Fifo {
    fn serve(path: &Path, plaintext: Zeroizing<Vec<u8>>) -> Result<Fifo> {
        sys::make_fifo(path).map_err(|e| Error::io(path, e, code::COULD_NOT_WRITE_OUTPUT))?;
        let writer_path = path.to_path_buf();
        std::thread::Builder::new()
            .name("fifo".into())
            .spawn(move || {
                // Errors end the thread: a reader that goes away early gets what it read.
                if let Ok(mut f) = OpenOptions::new().write(true).open(&writer_path) {
                    let _ = f.write_all(&plaintext);
                }
            })
            .map_err(|e| Error::io(path, e, code::GENERIC))?;
        Ok(Fifo {
            path: path.to_path_buf(),
        })
    }

    /// After the command: if it never opened the FIFO, the writer still waits for a
    /// reader; open and close one so the writer fails, drops the plaintext and ends.
    /// It is not joined: a background process of the command may still hold the FIFO.
    fn finish(self) {
        let _ = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_replaced_and_nothing_is_appended() {
        let p = Path::new("/run/x/.sealant-a/tmp-file");
        assert_eq!(
            substitute(OsStr::new("cat {} && wc -c {}"), p),
            OsStr::new("cat /run/x/.sealant-a/tmp-file && wc -c /run/x/.sealant-a/tmp-file")
        );
        assert_eq!(substitute(OsStr::new("env"), p), OsStr::new("env"));
        assert_eq!(substitute(OsStr::new("{"), p), OsStr::new("{"));
    }

    #[test]
    fn filenames_are_plain_names() {
        assert!(check_filename(OsStr::new("secrets.env")).is_ok());
        for bad in ["", ".", "..", "../x", "/etc/passwd", "a/b"] {
            assert!(check_filename(OsStr::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_the_shell_would_interpret_are_refused() {
        assert!(check_shell_safe(Path::new("/run/user/1000/.sealant-Ab9/tmp-file")).is_ok());
        for bad in ["/tmp/my dir/f", "/tmp/$(x)/f", "/tmp/a;b", "/tmp/'q'"] {
            assert!(check_shell_safe(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn exit_codes_of_signalled_children_are_128_plus_the_signal() {
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGTERM)), 143);
    }
}
