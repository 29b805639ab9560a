//! The file MAC (spec §4): SHA-512 over the plaintext of the leaf values in walk order,
//! written as uppercase hex and stored encrypted with `lastmodified` as the AAD.

use sha2::{Digest, Sha256, Sha512};
use time::OffsetDateTime;

use super::cipher::ValueCipher;
use super::timestamp::format_mac_aad;
use crate::error::{Error, Result};

/// Accumulates the MAC over leaf plaintexts, in walk order, with no separators.
///
/// The caller decides what goes in: every non-null, non-comment leaf (encrypted or not),
/// or with `mac_only_encrypted` only the encrypted ones. Empty strings contribute nothing.
#[derive(Clone)]
pub struct MacHasher(Sha512);

impl MacHasher {
    /// A fresh hasher. With `mac_only_encrypted`, the 32 bytes of `SHA-256("sops")` are
    /// fed first, as sops does, so such a MAC never equals an ordinary one.
    pub fn new(mac_only_encrypted: bool) -> Self {
        let mut h = Sha512::new();
        if mac_only_encrypted {
            h.update(Sha256::digest(b"sops"));
        }
        MacHasher(h)
    }

    /// Adds one leaf's plaintext bytes (see `plaintext::to_bytes`).
    pub fn update(&mut self, plaintext: &[u8]) {
        self.0.update(plaintext);
    }

    /// The digest as 128 uppercase hex characters (sops compares the strings exactly).
    pub fn finish(self) -> String {
        hex::encode_upper(self.0.finalize())
    }
}

impl std::fmt::Debug for MacHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacHasher(..)")
    }
}

/// Encrypts the MAC for the `mac` field: a `str` value whose AAD is `lastmodified` in
/// Go RFC 3339 form with second precision ([`format_mac_aad`]).
pub fn encrypt_mac(
    cipher: &ValueCipher,
    mac_hex: &str,
    lastmodified: &OffsetDateTime,
) -> Result<String> {
    cipher.encrypt(mac_hex.as_bytes(), "str", &format_mac_aad(lastmodified))
}

/// Decrypts the `mac` field with the re-formatted `lastmodified` as AAD.
///
/// Errors are [`Error::MacMismatch`] (exit 51): the field is empty ("the file has no
/// MAC"), or it does not decrypt (usually because `lastmodified` was edited), or it is
/// not a `str`.
pub fn decrypt_mac(
    cipher: &ValueCipher,
    enc: &str,
    lastmodified: &OffsetDateTime,
) -> Result<String> {
    if enc.is_empty() {
        return Err(Error::MacMismatch("the file has no MAC".into()));
    }
    let decrypted = cipher
        .decrypt(enc, &format_mac_aad(lastmodified))
        .map_err(|e| match e {
            Error::Decrypt { why, .. } => Error::MacMismatch(format!(
                "cannot decrypt the MAC: {why} (was `lastmodified` changed?)"
            )),
            other => other,
        })?;
    if decrypted.type_name != "str" {
        return Err(Error::MacMismatch("the stored MAC is not a string".into()));
    }
    String::from_utf8(decrypted.plaintext.to_vec())
        .map_err(|_| Error::MacMismatch("the stored MAC is not text".into()))
}

/// Compares a stored MAC with the computed one, exactly (case included), as sops does.
///
/// The message quotes neither digest: both are hashes of the secrets.
pub fn verify_mac(stored: &str, computed: &str) -> Result<()> {
    if stored == computed {
        Ok(())
    } else {
        Err(Error::MacMismatch(
            "the stored MAC differs from the one computed over the values (the file was \
             changed outside sops/sealant)"
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::datakey::DataKey;
    use crate::crypto::test_vectors;
    use crate::crypto::timestamp::parse_rfc3339;

    /// Reads a Python `b'...'` literal as written in `mac_examples.txt`.
    fn python_bytes(lit: &str) -> Vec<u8> {
        let inner = lit
            .strip_prefix("b'")
            .and_then(|s| s.strip_suffix('\''))
            .unwrap();
        let mut out = Vec::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            match chars.next().unwrap() {
                'n' => out.push(b'\n'),
                't' => out.push(b'\t'),
                'r' => out.push(b'\r'),
                '\\' => out.push(b'\\'),
                '\'' => out.push(b'\''),
                'x' => {
                    let h: String = chars.by_ref().take(2).collect();
                    out.push(u8::from_str_radix(&h, 16).unwrap());
                }
                other => panic!("unhandled escape \\{other}"),
            }
        }
        out
    }

    /// The `lastmodified` and `mac` values of a YAML vector's `sops:` block.
    fn yaml_meta(text: &str) -> (String, String) {
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .unwrap()
                .trim()
                .trim_matches('"')
                .to_owned()
        };
        (field("lastmodified:"), field("mac:"))
    }

    fn key_of(file: &str) -> DataKey {
        DataKey::from_slice(&hex::decode(test_vectors::data_key(file)).unwrap()).unwrap()
    }

    #[test]
    fn empty_input_is_sha512_of_nothing() {
        let mac = MacHasher::new(false).finish();
        assert_eq!(mac.len(), 128);
        assert!(mac.starts_with("CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE"));
        assert!(mac
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
    }

    #[test]
    fn mac_only_encrypted_prefix_is_sha256_of_sops() {
        let text =
            std::fs::read_to_string(test_vectors::path("handmade/mac_examples.txt")).unwrap();
        let prefix = text
            .lines()
            .find_map(|l| l.strip_prefix("mac_only_encrypted prefix (sha256('sops')): "))
            .unwrap();
        let mut expected = Sha512::new();
        expected.update(hex::decode(prefix).unwrap());
        expected.update(b"x");
        let mut h = MacHasher::new(true);
        h.update(b"x");
        assert_eq!(h.finish(), hex::encode_upper(expected.finalize()));
        let mut plain = MacHasher::new(false);
        plain.update(b"x");
        assert_ne!(plain.finish(), MacHasher::new(true).finish());
    }

    #[test]
    fn hand_yaml_mac_matches() {
        // mac_examples.txt gives the exact MAC input of handmade/hand.yaml, whose data key
        // is 00..1f; the stored MAC must decrypt to our digest of those bytes.
        let text =
            std::fs::read_to_string(test_vectors::path("handmade/mac_examples.txt")).unwrap();
        let lit = text
            .lines()
            .find_map(|l| l.strip_prefix("hand.yaml MAC input (Python bytes repr): "))
            .unwrap();
        let input = python_bytes(lit);
        assert!(input.starts_with(b"sealant70.25TrueFalse2024-01-02T00:00:00Z"));

        let mut h = MacHasher::new(false);
        h.update(&input);
        let computed = h.finish();

        let hand = std::fs::read_to_string(test_vectors::path("handmade/hand.yaml")).unwrap();
        let (lastmodified, mac_enc) = yaml_meta(&hand);
        assert_eq!(lastmodified, "2020-01-02T03:04:05Z");
        let lm = parse_rfc3339(&lastmodified).unwrap();
        let cipher =
            ValueCipher::new(&DataKey::from_slice(&(0u8..32).collect::<Vec<_>>()).unwrap());
        let stored = decrypt_mac(&cipher, &mac_enc, &lm).unwrap();
        assert_eq!(stored, computed);
        verify_mac(&stored, &computed).unwrap();
        assert!(verify_mac(&stored, &computed.to_lowercase()).is_err());

        // Splitting the input across updates does not change the digest.
        let mut h = MacHasher::new(false);
        for chunk in input.chunks(7) {
            h.update(chunk);
        }
        assert_eq!(h.finish(), computed);

        // A different lastmodified breaks the MAC's AAD.
        let later = parse_rfc3339("2020-01-02T03:04:06Z").unwrap();
        let err = decrypt_mac(&cipher, &mac_enc, &later).unwrap_err();
        assert!(matches!(err, Error::MacMismatch(_)), "{err}");
        assert_eq!(err.exit_code(), 51);
    }

    #[test]
    fn mac_only_encrypted_vector() {
        // enc/mac_only_encrypted.yaml: only the encrypted values a, f, g, h, i, j count.
        let key = key_of("enc/mac_only_encrypted.yaml");
        let text =
            std::fs::read_to_string(test_vectors::path("enc/mac_only_encrypted.yaml")).unwrap();
        let (lm, mac_enc) = yaml_meta(&text);
        let cipher = ValueCipher::new(&key);
        let mut h = MacHasher::new(true);
        h.update(b"afghij");
        let stored = decrypt_mac(&cipher, &mac_enc, &parse_rfc3339(&lm).unwrap()).unwrap();
        assert_eq!(stored, h.finish());
    }

    #[test]
    fn json_empty_object_mac_is_hash_of_nothing() {
        let key = key_of("enc/json_empty_object.json");
        let text =
            std::fs::read_to_string(test_vectors::path("enc/json_empty_object.json")).unwrap();
        let field = |name: &str| {
            let l = text.lines().find(|l| l.trim().starts_with(name)).unwrap();
            l.split('"').nth(3).unwrap().to_owned()
        };
        let lm = parse_rfc3339(&field("\"lastmodified\"")).unwrap();
        let stored = decrypt_mac(&ValueCipher::new(&key), &field("\"mac\""), &lm).unwrap();
        assert_eq!(stored, MacHasher::new(false).finish());
    }

    #[test]
    fn plus0000_lastmodified_verifies() {
        // neg/lastmodified_plus0000_ok.yaml: `…+00:00` instead of `…Z`; sops accepts it
        // because the AAD is the re-formatted timestamp.
        let file = "neg/lastmodified_plus0000_ok.yaml";
        let key = key_of(file);
        let text = std::fs::read_to_string(test_vectors::path(file)).unwrap();
        let (lm, mac_enc) = yaml_meta(&text);
        assert!(lm.ends_with("+00:00"));
        let cipher = ValueCipher::new(&key);
        let value = |k: &str| {
            let enc = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k}: ")))
                .unwrap();
            cipher
                .decrypt(enc, &format!("{k}:"))
                .unwrap()
                .plaintext
                .to_vec()
        };
        let mut h = MacHasher::new(false);
        h.update(&value("alpha"));
        h.update(&value("bravo"));
        h.update(b"visible");
        let lastmodified = parse_rfc3339(&lm).unwrap();
        assert_eq!(
            decrypt_mac(&cipher, &mac_enc, &lastmodified).unwrap(),
            h.finish()
        );
        // The raw string as AAD would not have worked.
        assert!(cipher.decrypt(&mac_enc, &lm).is_err());
    }

    #[test]
    fn encrypt_then_decrypt_mac() {
        let cipher = ValueCipher::new(&DataKey::generate());
        let lm = parse_rfc3339("2026-11-23T23:22:33Z").unwrap();
        let mac = MacHasher::new(false).finish();
        let enc = encrypt_mac(&cipher, &mac, &lm).unwrap();
        assert!(enc.ends_with(",type:str]"));
        assert_eq!(decrypt_mac(&cipher, &enc, &lm).unwrap(), mac);
        // An offset-equivalent time in another zone formats differently, so it fails,
        // exactly as in sops (the AAD keeps the written offset).
        let shifted = parse_rfc3339("2026-11-24T00:22:33+01:00").unwrap();
        assert!(decrypt_mac(&cipher, &enc, &shifted).is_err());
        let err = decrypt_mac(&cipher, "", &lm).unwrap_err();
        assert!(err.to_string().contains("no MAC"), "{err}");
        let not_str = cipher
            .encrypt(mac.as_bytes(), "int", "2026-11-23T23:22:33Z")
            .unwrap();
        assert!(decrypt_mac(&cipher, &not_str, &lm).is_err());
    }
}
