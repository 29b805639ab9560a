//! Master keys: what wraps the data key for each `sops:` metadata entry, and the
//! identities that unwrap it.
//!
//! Only native age X25519 is implemented. The seams for the rest (SSH keys, age plugins,
//! hybrid post-quantum keys, passphrase-protected identity files, PGP and the cloud KMSs)
//! are the [`MasterKey`] trait on the writing side and [`age::Identities`] plus
//! [`sources::IdentitySources`] on the reading side; unsupported recipients and
//! identities are recognised and reported by name, never silently mis-parsed.

use std::fmt;

use crate::error::Result;

pub mod age;
pub mod sources;

pub use self::age::{parse_recipients, unwrap, wrap, AgeIdentity, AgeRecipient, Identities};
pub use self::sources::{split_command, IdentitySources, IdentityStore};

/// A key that can wrap the data key (or a Shamir share) into one metadata entry.
pub trait MasterKey: fmt::Debug {
    /// The metadata key this entry goes under: `"age"`, later `"pgp"`, `"kms"`, ….
    fn kind(&self) -> &'static str;
    /// The recipient string stored in the entry, exactly as the user gave it.
    fn recipient(&self) -> &str;
    /// Encrypts `data_key` to this key; the result is the entry's `enc` text.
    fn wrap(&self, data_key: &[u8]) -> Result<String>;
}
