//! Master keys: what wraps the data key for each `sops:` metadata entry, and the
//! identities that unwrap it.
//!
//! age in all the forms sops 3.11 reads: X25519, SSH keys, plugins and
//! passphrase-protected identity files. Not supported (recognised and named, never
//! silently mis-parsed): hybrid post-quantum age keys, PGP and the cloud KMSs. The seams
//! are the [`MasterKey`] trait on the writing side and [`Identities`] plus
//! [`sources::IdentitySources`] on the reading side; anything that must ask the user goes
//! through a [`Prompt`] the caller passes in.

use std::fmt;

use crate::error::Result;

pub mod age;
pub mod identity;
pub mod prompt;
pub mod sources;
#[cfg(test)]
pub(crate) mod testutil;

pub use self::age::{parse_recipients, wrap, AgeRecipient};
pub use self::identity::{unwrap, AgeIdentity, Identities};
pub use self::prompt::{no_prompt, NoPrompt, Prompt, PromptError, SharedPrompt};
pub use self::sources::{split_command, IdentitySources, IdentityStore};

/// A key that can wrap the data key (or a Shamir share) into one metadata entry.
pub trait MasterKey: fmt::Debug {
    /// The metadata key this entry goes under: `"age"`, later `"pgp"`, `"kms"`, ….
    fn kind(&self) -> &'static str;
    /// The recipient string stored in the entry, exactly as the user gave it.
    fn recipient(&self) -> &str;
    /// Encrypts `data_key` to this key; the result is the entry's `enc` text.
    fn wrap(&self, data_key: &[u8]) -> Result<String>;
    /// Where a key that may ask the user while wrapping (an age plugin) sends its
    /// messages and questions. Most keys ask nothing.
    fn set_prompt(&mut self, _prompt: SharedPrompt) {}
}

/// Why sealant cannot use a key the file is encrypted for, if it cannot: `kind` is the
/// metadata section (`age`, `pgp`, `kms`, …), `recipient` the age recipient.
pub fn unusable(kind: &str, recipient: &str) -> Option<String> {
    match kind {
        "age" if recipient.starts_with("age1pq1") => {
            Some("post-quantum age: sealant cannot use it yet".into())
        }
        "age" => None,
        other => Some(format!("sealant cannot use {other} keys")),
    }
}
