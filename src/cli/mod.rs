//! The command-line front end: the only place that reads the environment, prints, and
//! decides the exit code.

pub mod args;
mod edit;
mod exec;
mod keys_cmd;
mod set;
mod tty;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;

use crate::config::{self, Config, Explanation, Located};
use crate::error::{code, Error, Result};
use crate::fsutil;
use crate::keys::{parse_recipients, IdentitySources, MasterKey, SharedPrompt};
use crate::metadata::Selection;
use crate::pipeline::{self, DecryptOptions, EncryptOptions};
use crate::store::Format;
use args::{Cli, Command, KeyArgs, OutputArgs, SelectionArgs, TypeArgs};
pub use tty::TtyPrompt;

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
    /// Asks the user for passphrases and answers age plugins' questions.
    pub prompt: SharedPrompt,
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
            prompt: Arc::new(TtyPrompt),
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
        config: cli.config,
        mac_only_encrypted: cli.mac_only_encrypted,
        encrypted_comment_regex: cli.encrypted_comment_regex,
        unencrypted_comment_regex: cli.unencrypted_comment_regex,
    };
    let command = match cli.command {
        Some(command) => command,
        None => legacy_command(cli.legacy)?,
    };
    match command {
        Command::Encrypt(a) => encrypt(&a, &globals, env),
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
            let new_file = || {
                let input = PlanInput {
                    keys: &a.keys,
                    types: &a.types,
                    selection: &a.selection,
                    shamir: &a.shamir,
                    file: Some(&a.file),
                };
                plan(&input, &globals, env)
            };
            edit::edit(&edit::EditRequest {
                file: &a.file,
                format,
                ignore_mac: a.ignore_mac,
                new_file: &new_file,
                env,
            })
        }
        Command::Replace(a) => {
            let format = input_format(Some(&a.file), &a.types)?;
            edit::replace(&a.file, a.from.as_deref(), format, a.ignore_mac, env)
        }
        Command::Config(c) => match c.command {
            args::ConfigCommand::Explain(a) => explain(&a, &globals, env),
        },
        Command::ExecEnv(a) => exec::exec_env(&a, env),
        Command::ExecFile(a) => exec::exec_file(&a, env),
        Command::Rotate(a) => keys_cmd::rotate(&a, env),
        Command::Updatekeys(a) => keys_cmd::updatekeys(&a, &globals, env),
        Command::Groups(g) => match g.command {
            args::GroupsCommand::Add(a) => keys_cmd::groups_add(&a, env),
            args::GroupsCommand::Delete(a) => keys_cmd::groups_delete(&a, env),
        },
        Command::Filestatus(a) => keys_cmd::filestatus(&a),
        Command::Set(a) => set::set(&a, env),
        Command::Unset(a) => set::unset(&a, env),
    }
}

/// The subcommand a legacy flag line stands for (`-e FILE` is `encrypt FILE`).
fn legacy_command(l: args::Legacy) -> Result<Command> {
    if let Some(set) = &l.set {
        if l.encrypt || l.decrypt || l.rotate {
            return Err(Error::Conflict(
                "choose one of --encrypt, --decrypt, --rotate and --set".into(),
            ));
        }
        return set::legacy(set, l.file, l.types, l.ignore_mac).map(Command::Set);
    }
    if l.rotate {
        if l.encrypt || l.decrypt {
            return Err(Error::Conflict(
                "choose one of --encrypt, --decrypt and --rotate".into(),
            ));
        }
        return Ok(Command::Rotate(args::RotateArgs {
            output: l.output,
            types: l.types,
            rekey: l.rekey,
            ignore_mac: l.ignore_mac,
            decryption_order: None,
            file: l.file,
        }));
    }
    if let Some(flag) = keys_cmd::rekey_flag_given(&l.rekey) {
        return Err(Error::Usage(format!(
            "{flag} changes recipients only together with --rotate (-r)"
        )));
    }
    match (l.encrypt, l.decrypt) {
        (true, false) => Ok(Command::Encrypt(args::EncryptArgs {
            output: l.output,
            types: l.types,
            keys: l.keys,
            selection: l.selection,
            shamir: l.shamir,
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
                shamir: l.shamir,
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
    config: Option<PathBuf>,
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

/// The selection option: the flags, each falling back to the rule's value when not
/// given (as sops merges them); more than one in the end is exit 8.
fn selection(
    sel: &SelectionArgs,
    globals: &Globals,
    rule: Option<&Selection>,
) -> Result<Option<Selection>> {
    let flags = [
        &sel.unencrypted_suffix,
        &sel.encrypted_suffix,
        &sel.unencrypted_regex,
        &sel.encrypted_regex,
        &globals.unencrypted_comment_regex,
        &globals.encrypted_comment_regex,
    ];
    let given: Vec<Selection> = Selection::FIELDS
        .iter()
        .zip(flags)
        .filter_map(|(field, flag)| {
            // sops treats an empty flag as not given.
            match flag.as_deref().filter(|v| !v.is_empty()) {
                Some(v) => Selection::from_field(field, v.to_string()),
                None => rule.filter(|r| r.field() == *field).cloned(),
            }
        })
        .collect();
    if given.len() > 1 {
        return Err(Error::Conflict(
            "cannot use more than one of --unencrypted-suffix, --encrypted-suffix, \
             --unencrypted-regex, --encrypted-regex, --unencrypted-comment-regex and \
             --encrypted-comment-regex (counting the creation rule's option)"
                .into(),
        ));
    }
    Ok(given.into_iter().next())
}

/// Keys from the command line (`--age`, else `SOPS_AGE_RECIPIENTS`): `None` when none
/// are given, so the creation rule's keys apply. Empty values count as not given, as in
/// sops.
fn flag_keys(keys: &KeyArgs, env: &Env) -> Result<Option<Vec<Box<dyn MasterKey>>>> {
    let unsupported = [
        ("--pgp", &keys.pgp),
        ("--kms", &keys.kms),
        ("--gcp-kms", &keys.gcp_kms),
        ("--azure-kv", &keys.azure_kv),
        ("--hc-vault-transit", &keys.hc_vault_transit),
    ];
    if let Some((flag, _)) = unsupported
        .iter()
        .find(|(_, v)| v.as_deref().is_some_and(|v| !v.is_empty()))
    {
        return Err(Error::Usage(format!(
            "{flag}: sealant encrypts for age recipients only"
        )));
    }
    let list = keys
        .age
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| (env.var)("SOPS_AGE_RECIPIENTS").filter(|v| !v.is_empty()));
    let Some(list) = list else {
        return Ok(None);
    };
    let keys: Vec<Box<dyn MasterKey>> = parse_recipients(&list)?
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn MasterKey>)
        .collect();
    if keys.is_empty() {
        return Err(Error::Usage(
            "no recipients: --age (or SOPS_AGE_RECIPIENTS) holds no recipient".into(),
        ));
    }
    Ok(Some(keys))
}

/// The working directory as Go's `os.Getwd` reports it (sops compares paths with it):
/// `$PWD` when it names the current directory, else the physical path.
fn working_dir(env: &Env) -> Result<PathBuf> {
    let physical = std::env::current_dir().map_err(|e| Error::io(".", e, code::GENERIC))?;
    let same_dir = |a: &Path| match (a.canonicalize(), physical.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    match (env.var)("PWD").map(PathBuf::from) {
        Some(pwd) if pwd.is_absolute() && same_dir(&pwd) => Ok(pwd),
        _ => Ok(physical),
    }
}

/// Finds and reads the config (`--config`, `SOPS_CONFIG`, or the search), warning
/// about an ignored `.sops.yml` as sops does.
fn load_config(globals: &Globals, env: &Env, cwd: &Path) -> Result<(Located, Option<Config>)> {
    let located = config::locate(
        cwd,
        globals.config.as_deref(),
        (env.var)("SOPS_CONFIG").as_deref(),
    );
    if let Some(w) = located.warning() {
        eprintln!("sealant: warning: {}", printable(&w));
    }
    let loaded = located.path.as_deref().map(Config::load).transpose()?;
    Ok((located, loaded))
}

/// What `encrypt` encrypts for and how: the command line, then the creation rule
/// (spec §10, precedence as in sops's `getEncryptConfig`/`keyGroups`).
struct Plan {
    key_groups: Vec<Vec<Box<dyn MasterKey>>>,
    shamir_threshold: usize,
    selection: Option<Selection>,
    mac_only_encrypted: bool,
}

/// What to encrypt a new file for: the command line's keys, else the first matching
/// creation rule.
struct PlanInput<'a> {
    keys: &'a KeyArgs,
    types: &'a TypeArgs,
    selection: &'a SelectionArgs,
    shamir: &'a args::ShamirArgs,
    file: Option<&'a Path>,
}

fn plan(a: &PlanInput, globals: &Globals, env: &Env) -> Result<Plan> {
    let from_flags = flag_keys(a.keys, env)?;
    let cwd = working_dir(env)?;
    let (_, loaded) = load_config(globals, env, &cwd)?;
    // The name rules are matched against: --filename-override, else the file.
    let named = a
        .types
        .filename_override
        .as_deref()
        .or(a.file.filter(|f| !fsutil::is_stdin(f)))
        .map(|p| config::absolute(&cwd, p));
    let with_rules = loaded.as_ref().filter(|c| c.creation_rules.is_some());
    let rule = match (with_rules, &named) {
        (Some(c), Some(path)) => {
            let found = c.find_rule(path);
            // sops fails here even when --age is given; sealant only needs a rule when
            // it has no keys (the rule could add nothing else to a file it does not match).
            if found.rule.is_none() && from_flags.is_none() {
                return Err(Error::Config {
                    file: c.file.display().to_string(),
                    at: None,
                    what: format!(
                        "error loading config: no matching creation rules found for {:?}; \
                         `sealant config explain` shows the rules tried",
                        found.target
                    ),
                });
            }
            found.rule.map(|r| (c, r))
        }
        (Some(c), None) if from_flags.is_none() => {
            return Err(Error::Config {
                file: c.file.display().to_string(),
                at: None,
                what: "standard input has no name to match creation rules against; give \
                       --filename-override"
                    .into(),
            })
        }
        _ => None,
    };
    let mut key_groups = match (from_flags, rule) {
        (Some(keys), _) => vec![keys],
        (None, Some((c, r))) => c.master_keys(r)?,
        (None, None) => {
            return Err(Error::Usage(
                "config file not found, or has no creation rules, and no keys provided \
                 through command line options: give --age or set SOPS_AGE_RECIPIENTS"
                    .into(),
            ))
        }
    };
    // Plugins may ask the user while wrapping: on the terminal.
    for key in key_groups.iter_mut().flatten() {
        key.set_prompt(env.prompt.clone());
    }
    let rule = rule.map(|(_, r)| r);
    Ok(Plan {
        key_groups,
        shamir_threshold: a
            .shamir
            .shamir_secret_sharing_threshold
            .filter(|t| *t != 0)
            .or(rule.map(|r| r.shamir_threshold))
            .unwrap_or(0),
        selection: selection(
            a.selection,
            globals,
            rule.and_then(|r| r.selection.as_ref()),
        )?,
        mac_only_encrypted: globals.mac_only_encrypted
            || rule.is_some_and(|r| r.mac_only_encrypted),
    })
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

fn encrypt(a: &args::EncryptArgs, globals: &Globals, env: &Env) -> Result<i32> {
    let file = a.file.as_deref();
    let name = display_name(file, &a.types);
    let input = input_format(file, &a.types)?;
    let output = output_format(&a.types, input)?;
    let text = read(file, &a.output)?;
    let plan = plan(
        &PlanInput {
            keys: &a.keys,
            types: &a.types,
            selection: &a.selection,
            shamir: &a.shamir,
            file,
        },
        globals,
        env,
    )?;
    let opts = EncryptOptions {
        key_groups: &plan.key_groups,
        shamir_threshold: plan.shamir_threshold,
        selection: plan.selection,
        mac_only_encrypted: plan.mac_only_encrypted,
        output,
        now: time::OffsetDateTime::now_utc(),
        fast_exit: true,
    };
    // Given, not lent: the pipeline frees the input (or makes it the value) when it can.
    let encrypted = pipeline::encrypt(text, input, &name, &opts)?;
    write(file, &a.output, &encrypted)?;
    Ok(0)
}

fn explain(a: &args::ExplainArgs, globals: &Globals, env: &Env) -> Result<i32> {
    let cwd = working_dir(env)?;
    let (located, loaded) = load_config(globals, env, &cwd)?;
    let file = config::absolute(&cwd, &a.file);
    let from_env = (env.var)("SOPS_AGE_RECIPIENTS").is_some_and(|v| !v.is_empty());
    let explanation = Explanation::new(located, loaded, &file, from_env);
    let text = if a.json {
        explanation.render_json()
    } else {
        explanation.render_text()
    };
    write(None, &OutputArgs::default(), printable(&text).as_bytes())?;
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
    // Loaded once for the whole file: SOPS_AGE_KEY_CMD runs once, whatever the number
    // of envelopes.
    let identities = load_identities(env);
    let opts = DecryptOptions {
        keys: &identities,
        ignore_mac,
        output,
        extract,
        fast_exit: true,
    };
    // Given, not lent: the pipeline frees the input when it can.
    let decrypted = pipeline::decrypt(text, input, &name, &opts)?;
    print_warnings(&decrypted.warnings);
    write(file, out, &decrypted.text)?;
    Ok(0)
}

/// The age identities from the environment (the SSH keys, SOPS_AGE_KEY, _FILE, _CMD,
/// keys.txt); passphrases and plugin questions go to the terminal.
fn load_identities(env: &Env) -> crate::keys::Identities {
    IdentitySources::from_env(|k| (env.var)(k)).load(env.prompt.clone())
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
