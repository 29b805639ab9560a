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
        sealant encrypts each value of a YAML or JSON file with AES-256-GCM under a data \
        key wrapped for age recipients, in the sops v3 format, keeping the file's own layout.",
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
    /// Input format: yaml or json (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Output format: yaml or json (default: the input format).
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
