//! The sops cryptography: data key, value cipher, MAC, timestamps and Shamir sharing.
//!
//! Nothing here knows about file formats or trees. The tree walker feeds this module
//! plaintext bytes ([`plaintext::to_bytes`]), AAD strings (`tree::aad_for`) and the
//! `lastmodified` time, and gets `ENC[...]` strings and MAC digests back.

pub mod cipher;
pub mod datakey;
pub mod mac;
pub mod plaintext;
pub mod shamir;
pub mod timestamp;

pub use cipher::{looks_encrypted, parse_enc, Decrypted, EncParts, ValueCipher};
pub use datakey::DataKey;
pub use mac::{decrypt_mac, encrypt_mac, verify_mac, MacHasher};

/// Access to the compatibility vectors (`testdata/vectors`, copied from sops 3.11.0)
/// for unit tests. A missing directory fails the test: the vectors are part of the
/// environment, and silently skipping them would hide a broken setup.
#[cfg(test)]
pub(crate) mod test_vectors {
    use std::path::PathBuf;

    /// The vectors directory: `$SEALANT_VECTORS`, else `<repo>/testdata/vectors`.
    pub fn dir() -> PathBuf {
        let dir = std::env::var_os("SEALANT_VECTORS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/vectors"));
        assert!(
            dir.join("keys/age1.txt").is_file(),
            "compatibility vectors not found at {} (set SEALANT_VECTORS)",
            dir.display()
        );
        dir
    }

    pub fn path(rel: &str) -> PathBuf {
        dir().join(rel)
    }

    /// The fields after `file` on its `datakeys.txt` line.
    fn datakeys_row(file: &str) -> Vec<String> {
        let text = std::fs::read_to_string(path("datakeys.txt")).unwrap();
        text.lines()
            .find_map(|l| {
                let mut fields = l.split_whitespace();
                (fields.next() == Some(file)).then(|| fields.map(str::to_owned).collect())
            })
            .unwrap_or_else(|| panic!("{file} is not in datakeys.txt"))
    }

    /// The data key of a vector file, as hex.
    pub fn data_key(file: &str) -> String {
        datakeys_row(file).remove(0)
    }

    /// The Shamir shares of a key-group vector file, in file order.
    pub fn shares(file: &str) -> Vec<Vec<u8>> {
        datakeys_row(file)
            .iter()
            .map(|f| hex::decode(f.strip_prefix("share=").unwrap()).unwrap())
            .collect()
    }
}
