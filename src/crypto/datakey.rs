//! The per-file data key (spec §2): 32 random bytes, wiped from memory on drop.

use std::fmt;

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Length of a sops data key in bytes.
pub const DATA_KEY_LEN: usize = 32;

/// The AES-256 key that encrypts every value of one file.
///
/// The bytes live in a [`Zeroizing`] box, so every copy is wiped when dropped. There is no
/// `Display`, and `Debug` prints `DataKey(<redacted>)`, so the key cannot leak through a
/// format string by accident.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; DATA_KEY_LEN]>);

impl DataKey {
    /// Draws a fresh key from the operating system's CSPRNG, as sops does.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
        OsRng.fill_bytes(key.as_mut());
        DataKey(key)
    }

    /// Wraps existing key bytes, e.g. the payload of an age envelope or a Shamir
    /// combination. Anything but exactly 32 bytes is refused (without echoing the bytes).
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != DATA_KEY_LEN {
            return Err(Error::Metadata(format!(
                "the data key is {} bytes long, expected {DATA_KEY_LEN}",
                bytes.len()
            )));
        }
        let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
        key.copy_from_slice(bytes);
        Ok(DataKey(key))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_gives_distinct_keys() {
        let a = DataKey::generate();
        let b = DataKey::generate();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_ne!(a.as_bytes(), &[0u8; 32]);
    }

    #[test]
    fn from_slice_requires_32_bytes() {
        let bytes: Vec<u8> = (0..32).collect();
        let key = DataKey::from_slice(&bytes).unwrap();
        assert_eq!(&key.as_bytes()[..], &bytes[..]);
        assert!(DataKey::from_slice(&bytes[..31]).is_err());
        assert!(DataKey::from_slice(&[0u8; 33]).is_err());
        assert!(DataKey::from_slice(&[]).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let key = DataKey::from_slice(&[0xAB; 32]).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "DataKey(<redacted>)");
        assert!(!shown.to_lowercase().contains("ab"));
    }
}
