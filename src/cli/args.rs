//! The command line, flag for flag as sops 3.x has it (spec §11).
//!
//! Two styles are accepted, like sops: subcommands (`sealant encrypt FILE`) and the
//! legacy flags (`sealant -e FILE`, `sealant -d -i FILE`). Global flags go before the
//! subcommand (`sealant --config x encrypt ...`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sealant",
    about = "Keeps secrets encrypted inside config files (a sops-compatible drop-in).",
    long_about = "Keeps secrets encrypted inside config files.\n\n\
        sealant encrypts each value of a YAML, JSON, dotenv, INI or TOML file (any other file \
        whole) with AES-256-GCM under a data key wrapped for age recipients, in the sops v3 \
        format, keeping the file's own layout. `sealant FILE` edits FILE.",
    disable_version_flag = true,
    args_override_self = true
)]
pub struct Cli {
    /// Print the version and exit.
    #[arg(short = 'v', long = "version")]
    pub version: bool,

    /// The .sops.yaml to use (default: $SOPS_CONFIG, else the nearest .sops.yaml in the
    /// working directory or its parents). /dev/null means no creation rules.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log more (accepted for compatibility).
    #[arg(long)]
    pub verbose: bool,

    /// Indentation for YAML/JSON written from scratch (accepted for compatibility).
    #[arg(long, value_name = "N")]
    pub indent: Option<i64>,

    /// The MAC covers only encrypted values, so clear values can change freely.
    #[arg(long)]
    pub mac_only_encrypted: bool,

    /// Encrypt only the values after a comment matching this regex.
    #[arg(long, value_name = "REGEX")]
    pub encrypted_comment_regex: Option<String>,

    /// Leave in clear the values after a comment matching this regex.
    #[arg(long, value_name = "REGEX")]
    pub unencrypted_comment_regex: Option<String>,

    #[command(flatten)]
    pub legacy: Legacy,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The legacy, flag-driven style: `sealant -e FILE`, `sealant -d FILE`.
#[derive(Debug, Args)]
pub struct Legacy {
    /// Encrypt FILE (legacy style).
    #[arg(short = 'e', long)]
    pub encrypt: bool,

    /// Decrypt FILE (legacy style).
    #[arg(short = 'd', long)]
    pub decrypt: bool,

    /// Rotate FILE's data key (legacy style; see `rotate`).
    #[arg(short = 'r', long)]
    pub rotate: bool,

    #[command(flatten)]
    pub rekey: RekeyArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub types: TypeArgs,

    #[command(flatten)]
    pub keys: KeyArgs,

    #[command(flatten)]
    pub selection: SelectionArgs,

    /// Extract one value or subtree, e.g. '["a"]["b"][0]'.
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,

    /// Decrypt even if the MAC does not match (tampering goes undetected).
    #[arg(long)]
    pub ignore_mac: bool,

    #[command(flatten)]
    pub shamir: ShamirArgs,

    /// Set one value in place, e.g. '["a"]["b"] "text"' (legacy form of `set`).
    #[arg(long, value_name = "PATH VALUE")]
    pub set: Option<String>,

    /// The file to work on; '-' or none reads standard input.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Encrypt a file and write it to standard output (or --output, or in place).
    Encrypt(EncryptArgs),
    /// Decrypt a file and write it to standard output (or --output, or in place).
    Decrypt(DecryptArgs),
    /// Inspect the .sops.yaml configuration.
    Config(ConfigArgs),
    /// Edit an encrypted file in $SOPS_EDITOR / $EDITOR (a new file if it does not
    /// exist); only the values you change get new ciphertexts.
    Edit(EditArgs),
    /// Replace an encrypted file's content with new plaintext (from --from or standard
    /// input), keeping the data key, the recipients and the ciphertext of every value
    /// that did not change. For scripts that decrypt, transform and re-encrypt.
    Replace(ReplaceArgs),
    /// Run a command with the file's values as environment variables.
    ExecEnv(super::exec::ExecEnvArgs),
    /// Run a command that reads the decrypted file from a private FIFO ({} in COMMAND).
    ExecFile(super::exec::ExecFileArgs),
    /// Rotate the data key: a new key, every value re-encrypted, the recipients wrapped
    /// anew (--add-age/--rm-age change them). Writes to standard output (or --output,
    /// or in place).
    Rotate(RotateArgs),
    /// Bring files' recipients, key groups and Shamir threshold in line with their
    /// .sops.yaml creation rule. Shows the changes and asks first (--yes skips). When a
    /// recipient is removed the data key is rotated too, unless --no-rotate.
    Updatekeys(UpdatekeysArgs),
    /// Add or delete key groups (Shamir secret sharing) of an encrypted file.
    Groups(GroupsArgs),
    /// Print {"encrypted":true} or {"encrypted":false} for a file.
    Filestatus(FilestatusArgs),
    /// Set one value of an encrypted file, in place: `set FILE PATH VALUE`, PATH in
    /// sops's syntax (`'["db"]["password"]'`), VALUE as JSON (`'"text"'`, `5`,
    /// `'{"a": [1, 2]}'`). Missing keys are added next to their neighbours; only the
    /// changed lines, `mac` and `lastmodified` change in the file.
    Set(SetArgs),
    /// Remove one key or list item of an encrypted file, in place: `unset FILE PATH`.
    Unset(UnsetArgs),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub types: TypeArgs,
    /// VALUE names a file that holds the JSON value (keeps it out of process listings).
    #[arg(long)]
    pub value_file: bool,
    /// Read the JSON value from standard input; then VALUE is not given.
    #[arg(long)]
    pub value_stdin: bool,
    /// Leave the file untouched if PATH already holds VALUE.
    #[arg(long)]
    pub idempotent: bool,
    /// Open the file even if its MAC does not match.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Accepted for compatibility: the file keeps its key groups.
    #[arg(long, value_name = "N", hide = true)]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Order in which key types are tried (accepted; sealant has age keys only).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "TYPES")]
    pub decryption_order: Option<String>,
    /// FILE PATH VALUE (FILE PATH with --value-stdin).
    #[arg(value_name = "FILE PATH VALUE", allow_negative_numbers = true)]
    pub args: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct UnsetArgs {
    #[command(flatten)]
    pub types: TypeArgs,
    /// Succeed without changing anything if PATH does not exist.
    #[arg(long)]
    pub idempotent: bool,
    /// Open the file even if its MAC does not match.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Order in which key types are tried (accepted; sealant has age keys only).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "TYPES")]
    pub decryption_order: Option<String>,
    /// FILE PATH.
    #[arg(value_name = "FILE PATH")]
    pub args: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub rekey: RekeyArgs,
    /// Rotate even if the MAC does not match (tampering goes undetected).
    #[arg(long)]
    pub ignore_mac: bool,
    /// Order in which key types are tried (accepted; sealant has age keys only).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "TYPES")]
    pub decryption_order: Option<String>,
    /// The file to rotate.
    pub file: Option<PathBuf>,
}

/// Recipients `rotate` adds to the first key group or removes from every group.
#[derive(Debug, Args, Default, Clone)]
pub struct RekeyArgs {
    /// Add these age recipients (comma-separated) to the first key group.
    #[arg(long, value_name = "RECIPIENTS")]
    pub add_age: Option<String>,
    /// Remove these age recipients (comma-separated) from every key group.
    #[arg(long, value_name = "RECIPIENTS")]
    pub rm_age: Option<String>,
    /// Remove these PGP fingerprints (adding is not supported: age only).
    #[arg(long, value_name = "FPS")]
    pub rm_pgp: Option<String>,
    /// Remove these AWS KMS ARNs (adding is not supported: age only).
    #[arg(long, value_name = "ARNS")]
    pub rm_kms: Option<String>,
    /// Remove these GCP KMS resource IDs (adding is not supported: age only).
    #[arg(long, value_name = "IDS")]
    pub rm_gcp_kms: Option<String>,
    /// Remove these Azure Key Vault key URLs (adding is not supported: age only).
    #[arg(long, value_name = "URLS")]
    pub rm_azure_kv: Option<String>,
    /// Remove these Vault transit key URIs (adding is not supported: age only).
    #[arg(long, value_name = "URIS")]
    pub rm_hc_vault_transit: Option<String>,
    /// Remove these HuaweiCloud KMS key IDs (adding is not supported: age only).
    #[arg(long, value_name = "IDS")]
    pub rm_hckms: Option<String>,
    /// Not supported (sealant wraps data keys for age recipients only).
    #[arg(long, value_name = "FPS", hide = true)]
    pub add_pgp: Option<String>,
    /// Not supported (age only).
    #[arg(long, value_name = "ARNS", hide = true)]
    pub add_kms: Option<String>,
    /// Not supported (age only).
    #[arg(long, value_name = "IDS", hide = true)]
    pub add_gcp_kms: Option<String>,
    /// Not supported (age only).
    #[arg(long, value_name = "URLS", hide = true)]
    pub add_azure_kv: Option<String>,
    /// Not supported (age only).
    #[arg(long, value_name = "URIS", hide = true)]
    pub add_hc_vault_transit: Option<String>,
    /// Not supported (age only).
    #[arg(long, value_name = "IDS", hide = true)]
    pub add_hckms: Option<String>,
    /// KMS encryption context (accepted for compatibility; unused).
    #[arg(long, value_name = "CONTEXT", hide = true)]
    pub encryption_context: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdatekeysArgs {
    /// Apply the changes without asking (needed when standard input is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show the changes and write nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Keep the data key even when a recipient is removed (sops's behaviour). By
    /// default a removal also rotates the data key: the removed party knows the old one.
    #[arg(long)]
    pub no_rotate: bool,
    /// Every encrypted file under the config's directory that a creation rule matches
    /// (.git is skipped, and so are files that are not encrypted).
    #[arg(long)]
    pub all: bool,
    /// Input format (default: from each file's name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// The Shamir threshold to write (default: the rule's shamir_threshold, else the
    /// number of key groups).
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// The files to update.
    #[arg(conflicts_with = "all")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GroupsArgs {
    #[command(subcommand)]
    pub command: GroupsCommand,
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Add a key group and split the data key again among all groups. Values, mac and
    /// lastmodified do not change.
    Add(Box<GroupsAddArgs>),
    /// Delete key group INDEX (0-based); refused if the Shamir threshold could no
    /// longer be met.
    Delete(GroupsDeleteArgs),
}

#[derive(Debug, Args)]
pub struct GroupsAddArgs {
    /// The encrypted file (or give it as the argument).
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// age recipients of the new group; comma-separated, and the flag can be repeated.
    #[arg(long, value_name = "RECIPIENTS")]
    pub age: Vec<String>,
    /// Write the result back to the file (default: standard output).
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// How many groups recover the data key (default: the file's, else all groups).
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    #[command(flatten)]
    pub unsupported: GroupKindArgs,
    /// The file, when --file is not given.
    pub path: Option<PathBuf>,
}

/// Key kinds sops can put in a group and sealant cannot wrap for.
#[derive(Debug, Args, Default)]
pub struct GroupKindArgs {
    #[arg(long, value_name = "FP", hide = true)]
    pub pgp: Vec<String>,
    #[arg(long, value_name = "ARN", hide = true)]
    pub kms: Vec<String>,
    #[arg(long, value_name = "ID", hide = true)]
    pub gcp_kms: Vec<String>,
    #[arg(long, value_name = "URL", hide = true)]
    pub azure_kv: Vec<String>,
    #[arg(long, value_name = "URI", hide = true)]
    pub hc_vault_transit: Vec<String>,
    #[arg(long, value_name = "ID", hide = true)]
    pub hckms: Vec<String>,
    #[arg(long, value_name = "PROFILE", hide = true)]
    pub aws_profile: Option<String>,
    #[arg(long, value_name = "CONTEXT", hide = true)]
    pub encryption_context: Option<String>,
}

#[derive(Debug, Args)]
pub struct GroupsDeleteArgs {
    /// The encrypted file (or give it before INDEX).
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Write the result back to the file (default: standard output).
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// The threshold to write (default: the file's).
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// [FILE] INDEX: the group to delete, 0-based.
    #[arg(value_name = "INDEX")]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FilestatusArgs {
    /// Input format (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// The file to check (further arguments are ignored, as in sops).
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    #[command(flatten)]
    pub types: TypeArgs,
    /// For a new file: the age recipients (default: $SOPS_AGE_RECIPIENTS).
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub shamir: ShamirArgs,
    /// Open the file even if its MAC does not match.
    #[arg(long)]
    pub ignore_mac: bool,
    /// The file to edit (created if it does not exist).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReplaceArgs {
    #[command(flatten)]
    pub types: TypeArgs,
    /// Read the new plaintext from this file ('-' or none: standard input).
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Open the file even if its MAC does not match.
    #[arg(long)]
    pub ignore_mac: bool,
    /// The encrypted file to rewrite, in place.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show which .sops.yaml and which creation rule apply to FILE, and why: the path
    /// matched, each rule tried, the key groups, threshold and selection the rule gives.
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
    /// The file to explain (it need not exist yet).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub shamir: ShamirArgs,
    /// The file to encrypt; '-' or none reads standard input.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub types: TypeArgs,
    /// Extract one value or subtree, e.g. '["a"]["b"][0]'.
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    /// Decrypt even if the MAC does not match (tampering goes undetected).
    #[arg(long)]
    pub ignore_mac: bool,
    /// Order in which key types are tried (accepted; sealant has age keys only).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "TYPES")]
    pub decryption_order: Option<String>,
    /// The file to decrypt; '-' or none reads standard input.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args, Default)]
pub struct OutputArgs {
    /// Write the result back to the file, atomically.
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Write the result to this file, atomically.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args, Default)]
pub struct TypeArgs {
    /// Input format: yaml, json, dotenv, ini, toml or binary (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Output format: yaml, json, dotenv, ini, toml or binary (default: the input format).
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Use this name instead of FILE to pick the format (needed with standard input).
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<PathBuf>,
}

#[derive(Debug, Args, Default)]
pub struct KeyArgs {
    /// age recipients, comma-separated (default: $SOPS_AGE_RECIPIENTS).
    #[arg(short = 'a', long, value_name = "RECIPIENTS")]
    pub age: Option<String>,
    /// PGP fingerprints: not supported by sealant (age only).
    #[arg(short = 'p', long, value_name = "FPS", hide = true)]
    pub pgp: Option<String>,
    /// AWS KMS ARNs: not supported by sealant (age only).
    #[arg(short = 'k', long, value_name = "ARNS", hide = true)]
    pub kms: Option<String>,
    /// GCP KMS resources: not supported by sealant (age only).
    #[arg(long, value_name = "IDS", hide = true)]
    pub gcp_kms: Option<String>,
    /// Azure Key Vault keys: not supported by sealant (age only).
    #[arg(long, value_name = "URLS", hide = true)]
    pub azure_kv: Option<String>,
    /// Vault transit keys: not supported by sealant (age only).
    #[arg(long, value_name = "URIS", hide = true)]
    pub hc_vault_transit: Option<String>,
}

#[derive(Debug, Args, Default, Clone)]
pub struct ShamirArgs {
    /// With several key groups, how many of them recover the data key (default: the
    /// rule's shamir_threshold, else all groups).
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
}

#[derive(Debug, Args, Default, Clone)]
pub struct SelectionArgs {
    /// Leave in clear the values under keys ending with this suffix (default _unencrypted).
    #[arg(long, value_name = "SUFFIX")]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only the values under keys ending with this suffix.
    #[arg(long, value_name = "SUFFIX")]
    pub encrypted_suffix: Option<String>,
    /// Leave in clear the values under keys matching this regex.
    #[arg(long, value_name = "REGEX")]
    pub unencrypted_regex: Option<String>,
    /// Encrypt only the values under keys matching this regex.
    #[arg(long, value_name = "REGEX")]
    pub encrypted_regex: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn legacy_and_subcommand_styles_parse() {
        let cli = Cli::try_parse_from(["sealant", "-d", "-i", "f.yaml"]).unwrap();
        assert!(cli.legacy.decrypt && cli.legacy.output.in_place);
        let cli = Cli::try_parse_from(["sealant", "--config", "c", "encrypt", "--age", "a", "f"])
            .unwrap();
        assert!(matches!(cli.command, Some(Command::Encrypt(_))));
        let cli = Cli::try_parse_from(["sealant", "config", "explain", "--json", "f"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Config(_))));
        let cli = Cli::try_parse_from([
            "sealant",
            "encrypt",
            "--shamir-secret-sharing-threshold",
            "2",
            "f",
        ])
        .unwrap();
        let Some(Command::Encrypt(a)) = cli.command else {
            panic!("encrypt")
        };
        assert_eq!(a.shamir.shamir_secret_sharing_threshold, Some(2));
    }
}
