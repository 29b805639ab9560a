//! The command-line front end: the only place that reads the environment, prints, and
//! decides the exit code.

pub mod args;
mod edit;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::error::{code, Error, Result};
use crate::fsutil;
use crate::keys::{parse_recipients, IdentitySources, MasterKey};
use crate::metadata::Selection;
use crate::pipeline::{self, DecryptOptions, EncryptOptions};
use crate::store::Format;
use args::{Cli, Command, KeyArgs, OutputArgs, SelectionArgs, TypeArgs};

/// The version sops-calling tools expect when sealant stands in for sops.
pub const SOPS_COMPAT_VERSION: &str = "3.11.0";

/// Looks up an environment variable.
pub type VarLookup = Box<dyn Fn(&str) -> Option<String>>;

/// What the process needs from its surroundings; `main` fills it from the real ones.
pub struct Env {
    /// Looks up an environment variable.
    pub var: VarLookup,
    /// The name the program was invoked as (`sops` when run through a link).
    pub program: String,
}

impl Env {
    pub fn from_process() -> Env {
        let program = std::env::args_os()
            .next()
            .and_then(|a| {
                Path::new(&a)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "sealant".into());
        Env {
            var: Box::new(|k| std::env::var(k).ok()),
            program,
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn run(argv: Vec<OsString>, env: &Env) -> i32 {
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // sops (urfave/cli) exits 1 on usage errors; help and version are not errors.
            return if e.use_stderr() { code::GENERIC } else { 0 };
        }
    };
    if cli.version {
        print_version(env);
        return 0;
    }
    match dispatch(cli, env) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            e.exit_code()
        }
    }
}

fn print_version(env: &Env) {
    let own = env!("CARGO_PKG_VERSION");
    if env.program == "sops" || env.program.starts_with("sops.") {
        // Tools (Ansible, editors) parse the first line as sops's version.
        println!("sops {SOPS_COMPAT_VERSION}");
        println!("sealant {own} (sops-compatible)");
    } else {
        println!("sealant {own}");
    }
}

/// Prints an error the one way sealant prints errors.
fn report(e: &Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "sealant: {}", printable(&e.to_string()));
    if let Some(hint) = e.hint() {
        let _ = writeln!(err, "hint: {hint}");
    }
}

/// Text from a file (key paths, recipients) shown on a terminal: control characters
/// are escaped, so a hostile file cannot send escape sequences to the user's terminal.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let keep = !c.is_control() || c == '\n';
            let shown: Vec<char> = if keep {
                vec![c]
            } else {
                c.escape_unicode().collect()
            };
            shown
        })
        .collect()
}

fn dispatch(cli: Cli, env: &Env) -> Result<i32> {
    let globals = Globals {
        mac_only_encrypted: cli.mac_only_encrypted,
        encrypted_comment_regex: cli.encrypted_comment_regex,
        unencrypted_comment_regex: cli.unencrypted_comment_regex,
    };
    let command = match cli.command {
        Some(command) => command,
        None => legacy_command(cli.legacy)?,
    };
    match command {
        Command::Encrypt(a) => encrypt(
            a.file.as_deref(),
            &a.output,
            &a.types,
            &a.keys,
            &a.selection,
            &globals,
            env,
        ),
        Command::Decrypt(a) => decrypt(
            a.file.as_deref(),
            &a.output,
            &a.types,
            a.extract.as_deref(),
            a.ignore_mac,
            env,
        ),
        Command::Edit(a) => {
            let format = input_format(Some(&a.file), &a.types)?;
            let new_file = || -> Result<edit::NewFile> {
                Ok(edit::NewFile {
                    recipients: recipients(&a.keys, env)?,
                    selection: selection(&a.selection, &globals)?,
                })
            };
            edit::edit(&edit::EditRequest {
                file: &a.file,
                format,
                ignore_mac: a.ignore_mac,
                new_file: &new_file,
                env,
                globals: &globals,
            })
        }
        Command::Replace(a) => {
            let format = input_format(Some(&a.file), &a.types)?;
            edit::replace(&a.file, a.from.as_deref(), format, a.ignore_mac, env)
        }
    }
}

/// The subcommand a legacy flag line stands for (`-e FILE` is `encrypt FILE`).
fn legacy_command(l: args::Legacy) -> Result<Command> {
    match (l.encrypt, l.decrypt) {
        (true, false) => Ok(Command::Encrypt(args::EncryptArgs {
            output: l.output,
            types: l.types,
            keys: l.keys,
            selection: l.selection,
            file: l.file,
        })),
        (false, true) => Ok(Command::Decrypt(args::DecryptArgs {
            output: l.output,
            types: l.types,
            extract: l.extract,
            ignore_mac: l.ignore_mac,
            decryption_order: None,
            file: l.file,
        })),
        (true, true) => Err(Error::Conflict(
            "choose one of --encrypt and --decrypt".into(),
        )),
        // `sealant FILE` edits FILE, as `sops FILE` does.
        (false, false) => match l.file {
            Some(file) => Ok(Command::Edit(args::EditArgs {
                types: l.types,
                keys: l.keys,
                selection: l.selection,
                ignore_mac: l.ignore_mac,
                file,
            })),
            None => Err(Error::Usage(
                "no command given; see `sealant --help`".into(),
            )),
        },
    }
}

/// Flags sops defines only globally.
struct Globals {
    mac_only_encrypted: bool,
    encrypted_comment_regex: Option<String>,
    unencrypted_comment_regex: Option<String>,
}

/// The input's name for messages and format detection.
fn display_name(file: Option<&Path>, types: &TypeArgs) -> String {
    types
        .filename_override
        .as_deref()
        .or(file.filter(|f| !fsutil::is_stdin(f)))
        .map_or_else(|| "<stdin>".into(), |p| p.display().to_string())
}

fn input_format(file: Option<&Path>, types: &TypeArgs) -> Result<Format> {
    if let Some(name) = &types.input_type {
        return Format::from_name(name).ok_or_else(|| unsupported_type(name));
    }
    let path = types
        .filename_override
        .as_deref()
        .or(file.filter(|f| !fsutil::is_stdin(f)));
    match path {
        Some(p) => Ok(Format::from_path(p)),
        None => Err(Error::Conflict(
            "reading standard input needs --filename-override or --input-type".into(),
        )),
    }
}

fn output_format(types: &TypeArgs, input: Format) -> Result<Format> {
    match &types.output_type {
        Some(name) => Format::from_name(name).ok_or_else(|| unsupported_type(name)),
        None => Ok(input),
    }
}

fn unsupported_type(name: &str) -> Error {
    Error::Usage(format!(
        "unsupported type {name:?}: sealant reads and writes {}",
        Format::ALL.map(Format::name).join(", ")
    ))
}

fn selection(sel: &SelectionArgs, globals: &Globals) -> Result<Option<Selection>> {
    let given: Vec<Selection> = [
        sel.unencrypted_suffix
            .clone()
            .map(Selection::UnencryptedSuffix),
        sel.encrypted_suffix.clone().map(Selection::EncryptedSuffix),
        sel.unencrypted_regex
            .clone()
            .map(Selection::UnencryptedRegex),
        sel.encrypted_regex.clone().map(Selection::EncryptedRegex),
        globals
            .unencrypted_comment_regex
            .clone()
            .map(Selection::UnencryptedCommentRegex),
        globals
            .encrypted_comment_regex
            .clone()
            .map(Selection::EncryptedCommentRegex),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        return Err(Error::Conflict(
            "cannot use more than one of --unencrypted-suffix, --encrypted-suffix, \
             --unencrypted-regex, --encrypted-regex, --unencrypted-comment-regex and \
             --encrypted-comment-regex"
                .into(),
        ));
    }
    Ok(given.into_iter().next())
}

fn recipients(keys: &KeyArgs, env: &Env) -> Result<Vec<Box<dyn MasterKey>>> {
    let unsupported = [
        ("--pgp", &keys.pgp),
        ("--kms", &keys.kms),
        ("--gcp-kms", &keys.gcp_kms),
        ("--azure-kv", &keys.azure_kv),
        ("--hc-vault-transit", &keys.hc_vault_transit),
    ];
    if let Some((flag, _)) = unsupported.iter().find(|(_, v)| v.is_some()) {
        return Err(Error::Usage(format!(
            "{flag}: sealant encrypts for age recipients only"
        )));
    }
    let list = keys
        .age
        .clone()
        .or_else(|| (env.var)("SOPS_AGE_RECIPIENTS").filter(|v| !v.is_empty()))
        .ok_or_else(|| {
            Error::Usage(
                "no recipients: give --age or set SOPS_AGE_RECIPIENTS (a .sops.yaml is not \
                 read yet)"
                    .into(),
            )
        })?;
    Ok(parse_recipients(&list)?
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn MasterKey>)
        .collect())
}

/// Checks the output flags and reads the input.
fn read(file: Option<&Path>, out: &OutputArgs) -> Result<Vec<u8>> {
    if out.in_place && out.output.is_some() {
        return Err(Error::Conflict(
            "--in-place and --output cannot be used together".into(),
        ));
    }
    if out.in_place && file.is_none_or(fsutil::is_stdin) {
        return Err(Error::Conflict(
            "--in-place needs a file, not standard input".into(),
        ));
    }
    fsutil::read_input(file)
}

fn write(file: Option<&Path>, out: &OutputArgs, bytes: &[u8]) -> Result<()> {
    let target: Option<PathBuf> = if out.in_place {
        file.map(Path::to_path_buf)
    } else {
        out.output.clone()
    };
    match target {
        Some(path) => fsutil::write_atomic(&path, bytes),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .or_else(|e| {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(Error::io("<stdout>", e, code::COULD_NOT_WRITE_OUTPUT))
                    }
                })
        }
    }
}

fn encrypt(
    file: Option<&Path>,
    out: &OutputArgs,
    types: &TypeArgs,
    keys: &KeyArgs,
    sel: &SelectionArgs,
    globals: &Globals,
    env: &Env,
) -> Result<i32> {
    let name = display_name(file, types);
    let input = input_format(file, types)?;
    let output = output_format(types, input)?;
    let selection = selection(sel, globals)?;
    let recipients = recipients(keys, env)?;
    let text = read(file, out)?;
    let opts = EncryptOptions {
        recipients: &recipients,
        selection,
        mac_only_encrypted: globals.mac_only_encrypted,
        output,
        now: time::OffsetDateTime::now_utc(),
        fast_exit: true,
    };
    let encrypted = pipeline::encrypt(&text, input, &name, &opts)?;
    write(file, out, &encrypted)?;
    Ok(0)
}

fn decrypt(
    file: Option<&Path>,
    out: &OutputArgs,
    types: &TypeArgs,
    extract: Option<&str>,
    ignore_mac: bool,
    env: &Env,
) -> Result<i32> {
    let name = display_name(file, types);
    let input = if types.input_type.is_none() && file.is_none_or(fsutil::is_stdin) {
        // sops decrypts standard input without a name: its content says YAML or JSON.
        types
            .filename_override
            .as_deref()
            .map(Format::from_path)
            .unwrap_or(Format::Yaml)
    } else {
        input_format(file, types)?
    };
    let output = output_format(types, input)?;
    let extract = extract.map(pipeline::parse_extract).transpose()?;
    let text = read(file, out)?;
    let identities = load_identities(env)?;
    let opts = DecryptOptions {
        keys: &identities,
        ignore_mac,
        output,
        extract,
        fast_exit: true,
    };
    let decrypted = pipeline::decrypt(&text, input, &name, &opts)?;
    print_warnings(&decrypted.warnings);
    write(file, out, &decrypted.text)?;
    Ok(0)
}

/// The age identities from the environment (SOPS_AGE_KEY, _FILE, _CMD, keys.txt).
fn load_identities(env: &Env) -> Result<crate::keys::Identities> {
    IdentitySources::from_env(|k| (env.var)(k)).load()
}

fn print_warnings(warnings: &[crate::engine::Warning]) {
    for w in warnings {
        eprintln!("sealant: warning: {}: {}", printable(&w.path), w.what);
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(printable("a:\u{1b}[31mb:"), "a:\\u{1b}[31mb:");
        assert_eq!(printable("line\nnext"), "line\nnext");
    }
}
