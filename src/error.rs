//! Typed errors, each with the sops exit code it maps to (spec §11.5).
//!
//! Rule: no variant carries a secret. Messages name files, places (line:column or key
//! paths) and what was expected; never a value, a data key or an identity. Rendering to
//! the terminal happens in one place (`cli`), which adds the program name and a hint.

use std::path::PathBuf;

/// sops's exit codes (getsops/sops `cmd/sops/codes`), the ones sealant raises.
pub mod code {
    pub const GENERIC: i32 = 1;
    pub const COULD_NOT_READ_INPUT: i32 = 2;
    pub const COULD_NOT_WRITE_OUTPUT: i32 = 3;
    pub const ERROR_DUMPING_TREE: i32 = 4;
    pub const INVALID_SET_FORMAT: i32 = 7;
    pub const CONFLICTING_PARAMETERS: i32 = 8;
    pub const ENCRYPTING_MAC: i32 = 21;
    pub const ENCRYPTING_TREE: i32 = 23;
    pub const DECRYPTING_TREE: i32 = 25;
    pub const MAC_MISMATCH: i32 = 51;
    pub const INVALID_TREE_PATH: i32 = 91;
    pub const NEED_AT_LEAST_ONE_DOCUMENT: i32 = 92;
    pub const CANNOT_CHANGE_KEYS_OF_MISSING_FILE: i32 = 49;
    pub const NO_FILE_SPECIFIED: i32 = 100;
    pub const COULD_NOT_RETRIEVE_KEY: i32 = 128;
    pub const FILE_HAS_NOT_BEEN_MODIFIED: i32 = 200;
    pub const NO_EDITOR_FOUND: i32 = 201;
    pub const FILE_ALREADY_ENCRYPTED: i32 = 203;
}

/// A place in a file, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be parsed. `what` says what was expected; it quotes no value.
    #[error("{file}:{at}: {what}")]
    Parse {
        file: String,
        at: Location,
        what: String,
    },
    /// A structural problem with no single position (empty file, top level not a map).
    #[error("{file}: {what}")]
    Input {
        file: String,
        what: String,
        code: i32,
    },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
        code: i32,
    },

    #[error("sops metadata not found")]
    MetadataNotFound,
    #[error("invalid sops metadata: {0}")]
    Metadata(String),
    #[error("the file is already encrypted (it has a sops metadata block)")]
    AlreadyEncrypted,

    /// A value could not be encrypted (e.g. an integer in the uint64 range, which sops
    /// cannot represent). `at` is the key path.
    #[error("cannot encrypt the value at {at}: {why}")]
    Encrypt { at: String, why: String },
    /// A value could not be decrypted: bad `ENC[...]` syntax, wrong AAD (moved or
    /// swapped value), tampered ciphertext, unknown type.
    #[error("cannot decrypt the value at {at}: {why}")]
    Decrypt { at: String, why: String },

    #[error("MAC mismatch: {0}")]
    MacMismatch(String),

    /// No identity could unwrap the data key. The message lists recipients and where
    /// sealant looked for identities (file paths and variable names, never contents).
    #[error("{0}")]
    NoKey(String),

    #[error("{0}")]
    Recipient(String),

    /// A `.sops.yaml` problem: unreadable, malformed, or no rule for the file. `at` is
    /// the place in the config file when there is one; `what` may name keys, never
    /// quote a recipient that does not look like a public key.
    #[error("{file}{}: {what}", at.as_ref().map(|a| format!(":{a}")).unwrap_or_default())]
    Config {
        file: String,
        at: Option<Location>,
        what: String,
    },

    #[error("{0}")]
    Usage(String),
    /// No file argument where one is needed (exit 100, as sops).
    #[error("{0}")]
    NoFile(String),
    #[error("{0}")]
    Conflict(String),

    #[error("invalid path {path:?}: {why}")]
    TreePath { path: String, why: String },
    #[error("{0}")]
    NotFound(String),
    /// `set`/`unset`: a malformed path or a value that is not JSON (exit 7, as sops).
    #[error("{0}")]
    SetFormat(String),

    #[error("cannot write {format}: {why}")]
    Emit { format: &'static str, why: String },

    /// No editor, or the editor failed (exit 201, as sops).
    #[error("{0}")]
    Editor(String),

    /// A signal ended the command; nothing was written (exit 128 + the signal).
    #[error("interrupted by signal {0}; nothing was written and no plaintext was left behind")]
    Interrupted(i32),

    /// A broken internal invariant, reported instead of writing a damaged file.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl Error {
    /// The sops exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Parse { .. } => code::COULD_NOT_READ_INPUT,
            Error::Input { code, .. } | Error::Io { code, .. } => *code,
            Error::MetadataNotFound | Error::Metadata(_) => code::GENERIC,
            Error::AlreadyEncrypted => code::FILE_ALREADY_ENCRYPTED,
            Error::Encrypt { .. } => code::ENCRYPTING_TREE,
            Error::Decrypt { .. } => code::DECRYPTING_TREE,
            Error::MacMismatch(_) => code::MAC_MISMATCH,
            Error::NoKey(_) => code::COULD_NOT_RETRIEVE_KEY,
            // sops reports every config problem with its generic code (spec §11.5: 5,
            // ErrorReadingConfig, is never raised).
            Error::Recipient(_)
            | Error::Config { .. }
            | Error::Usage(_)
            | Error::NotFound(_)
            | Error::Internal(_) => code::GENERIC,
            Error::Conflict(_) => code::CONFLICTING_PARAMETERS,
            Error::NoFile(_) => code::NO_FILE_SPECIFIED,
            Error::TreePath { .. } => code::INVALID_TREE_PATH,
            Error::SetFormat(_) => code::INVALID_SET_FORMAT,
            Error::Emit { .. } => code::ERROR_DUMPING_TREE,
            Error::Editor(_) => code::NO_EDITOR_FOUND,
            Error::Interrupted(sig) => 128 + sig,
        }
    }

    /// A short hint printed under the message, where one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::MacMismatch(_) => {
                Some("the file was changed outside sops/sealant; --ignore-mac decrypts anyway")
            }
            Error::MetadataNotFound => Some("the file is not encrypted; use `encrypt` first"),
            Error::AlreadyEncrypted => Some("use `decrypt` or `edit` instead"),
            _ => None,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error, code: i32) -> Self {
        Error::Io {
            path: path.into(),
            source,
            code,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
