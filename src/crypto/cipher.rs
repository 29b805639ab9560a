//! Value encryption: AES-256-GCM with a 32-byte nonce, and the
//! `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` string (spec §3.1, §3.2).
//!
//! sops builds its GCM with Go's `NewGCMWithNonceSize(len(iv))`, so a 12-byte IV uses the
//! standard counter block and every other length derives it with GHASH. sealant always
//! writes 32-byte IVs (`AesGcm<Aes256, U32>`), reads 12 and 32 with the `aes-gcm` crate,
//! and reads any other length through a small GCM built from the same primitives.

use std::fmt;

use aes::cipher::BlockEncrypt;
use aes::Aes256;
use aes_gcm::aead::consts::{U12, U32};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::AesGcm;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use rand::RngCore;
use zeroize::Zeroizing;

use super::datakey::DataKey;
use crate::error::{Error, Result};

/// Length of the IVs sealant writes.
pub const IV_LEN: usize = 32;
/// Length of a GCM tag.
pub const TAG_LEN: usize = 16;

const PREFIX: &str = "ENC[AES256_GCM,data:";

/// The types an `ENC[...]` value can declare (spec §3.4).
pub const KNOWN_TYPES: [&str; 7] = ["str", "int", "float", "bool", "time", "bytes", "comment"];

type Gcm32 = AesGcm<Aes256, U32>;
type Gcm12 = AesGcm<Aes256, U12>;

/// Standard base64 with `=` padding, for writing.
const B64: GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Go's `base64.StdEncoding` for reading: padding required, non-zero trailing bits
/// tolerated (Go does not check them).
const B64_GO: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

const AUTH_FAILED: &str = "authentication failed (the value was moved, swapped or tampered with)";

/// True if `s` looks like a sops AES-GCM value (`ENC[AES256_GCM,…`), whether or not it
/// parses. Used to spot values that are already encrypted.
pub fn looks_encrypted(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,")
}

/// The four fields of an `ENC[...]` string, still base64 (except the type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncParts<'a> {
    pub data: &'a str,
    pub iv: &'a str,
    pub tag: &'a str,
    pub type_name: &'a str,
}

/// Splits an `ENC[...]` string exactly as sops's regular expression
/// `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]` does.
///
/// * The match must start at the beginning and stay on the first line (`.` does not
///   match a newline).
/// * Every field is non-empty, and the fields are greedy in order: `data` takes as much
///   as it can, then `iv`, then `tag`; `type` runs to the *last* `]` of the line.
/// * Text after that `]` is ignored, as sops ignores it.
///
/// Runs in linear time: with greedy fields, each separator is simply the last one that
/// still leaves room for the fields after it.
pub fn parse_enc(s: &str) -> Option<EncParts<'_>> {
    let line = s.split('\n').next().unwrap_or("");
    let rest = line.strip_prefix(PREFIX)?;
    let end = rest.rfind(']')?;
    let body = &rest.as_bytes()[..end];
    // `type` is non-empty: its separator ends at least one byte before the end.
    let r = rfind(&body[..body.len().checked_sub(1)?], b",type:")?;
    // `tag` non-empty: ",tag:" ends before byte r.
    let q = rfind(&body[..r.checked_sub(1)?], b",tag:")?;
    // `iv` non-empty likewise; `data` non-empty: ",iv:" does not start at 0.
    let p = rfind(&body[..q.checked_sub(1)?], b",iv:")?;
    if p == 0 {
        return None;
    }
    // Every cut is next to an ASCII separator, so these are char boundaries.
    let body = &rest[..end];
    Some(EncParts {
        data: &body[..p],
        iv: &body[p + 4..q],
        tag: &body[q + 5..r],
        type_name: &body[r + 6..],
    })
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| &hay[i..i + needle.len()] == needle)
}

/// Fills a fresh random IV. A per-thread ChaCha CSPRNG (rand's `StdRng`), seeded from
/// the operating system, avoids one system call per value: 200,000 values would
/// otherwise spend more time in `getrandom` than in AES.
fn fresh_iv(iv: &mut [u8]) {
    use rand::SeedableRng;
    thread_local! {
        static RNG: std::cell::RefCell<rand::rngs::StdRng> =
            std::cell::RefCell::new(rand::rngs::StdRng::from_entropy());
    }
    RNG.with(|rng| rng.borrow_mut().fill_bytes(iv));
}

/// A decrypted value: its declared type, the plaintext bytes, and the IV it was encrypted
/// with (so that an unchanged value can be re-encrypted with the same IV, spec §3.6).
///
/// `Debug` shows the type and the lengths, never the plaintext.
pub struct Decrypted {
    pub type_name: String,
    pub plaintext: Zeroizing<Vec<u8>>,
    /// Empty for the empty string, which is never encrypted.
    pub iv: Vec<u8>,
}

impl fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypted")
            .field("type_name", &self.type_name)
            .field(
                "plaintext",
                &format_args!("<{} bytes>", self.plaintext.len()),
            )
            .field("iv_len", &self.iv.len())
            .finish()
    }
}

/// Encrypts and decrypts values with one data key.
///
/// Errors are [`Error::Encrypt`] / [`Error::Decrypt`] whose `at` is the AAD as given (the
/// key path with its trailing `:`, or the timestamp for the MAC); they never contain
/// plaintext, key bytes or the ciphertext.
pub struct ValueCipher {
    key: DataKey,
    gcm: Gcm32,
}

impl fmt::Debug for ValueCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ValueCipher(<redacted>)")
    }
}

impl ValueCipher {
    /// A cipher for `key` (the key is cloned; both copies wipe themselves on drop).
    pub fn new(key: &DataKey) -> Self {
        let gcm = Gcm32::new(GenericArray::from_slice(key.as_bytes()));
        ValueCipher {
            key: key.clone(),
            gcm,
        }
    }

    /// The data key this cipher uses.
    pub fn key(&self) -> &DataKey {
        &self.key
    }

    /// Encrypts `plaintext` with a fresh random 32-byte IV.
    ///
    /// An empty plaintext is never encrypted: the result is the empty string (spec §3.5).
    /// `type_name` must be one of [`KNOWN_TYPES`].
    pub fn encrypt(&self, plaintext: &[u8], type_name: &str, aad: &str) -> Result<String> {
        let mut iv = [0u8; IV_LEN];
        fresh_iv(&mut iv);
        self.encrypt_with_iv(plaintext, type_name, aad, &iv)
    }

    /// Encrypts with a given IV. Only for re-encrypting an *unchanged* value with the IV
    /// it already had (sops's IV stash, spec §3.6) and for tests: never reuse an IV for
    /// a different plaintext. Any non-empty IV length works, as in sops; new values
    /// should always get 32 bytes.
    pub fn encrypt_with_iv(
        &self,
        plaintext: &[u8],
        type_name: &str,
        aad: &str,
        iv: &[u8],
    ) -> Result<String> {
        let fail = |why: &str| Error::Encrypt {
            at: aad.to_owned(),
            why: why.to_owned(),
        };
        if !KNOWN_TYPES.contains(&type_name) {
            return Err(fail("unknown datatype"));
        }
        if plaintext.is_empty() {
            return Ok(String::new());
        }
        if iv.is_empty() {
            return Err(fail("empty IV"));
        }
        // Written straight into one buffer of the right size: this runs once per value,
        // and temporary strings were a tenth of the time of encrypting a big file.
        let mut out = Vec::with_capacity(
            PREFIX.len()
                + b64_len(plaintext.len())
                + ",iv:".len()
                + b64_len(iv.len())
                + ",tag:".len()
                + b64_len(TAG_LEN)
                + ",type:]".len()
                + type_name.len(),
        );
        out.extend_from_slice(PREFIX.as_bytes());
        let tag = if iv.len() == IV_LEN && plaintext.len() > CHUNK {
            self.seal_chunked(iv, aad, plaintext, &mut out)?
        } else {
            self.seal_whole(iv, aad, plaintext, &mut out)?
        };
        out.extend_from_slice(b",iv:");
        push_b64(&mut out, iv)?;
        out.extend_from_slice(b",tag:");
        push_b64(&mut out, &tag)?;
        out.extend_from_slice(b",type:");
        out.extend_from_slice(type_name.as_bytes());
        out.push(b']');
        String::from_utf8(out).map_err(|_| Error::Internal("base64 output is not text"))
    }

    /// Seals `plaintext` in a copy and appends the ciphertext in base64 to `out`;
    /// returns the tag.
    fn seal_whole(
        &self,
        iv: &[u8],
        aad: &str,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<[u8; TAG_LEN]> {
        let mut buf = Zeroizing::new(plaintext.to_vec());
        let mut tag = [0u8; TAG_LEN];
        match iv.len() {
            IV_LEN => tag.copy_from_slice(
                &self
                    .gcm
                    .encrypt_in_place_detached(
                        GenericArray::from_slice(iv),
                        aad.as_bytes(),
                        &mut buf,
                    )
                    .map_err(|_| too_long(aad))?,
            ),
            _ => tag.copy_from_slice(
                &gcm_any_iv(&self.key, iv, aad.as_bytes(), &mut buf, Direction::Seal)
                    .map_err(|_| too_long(aad))?,
            ),
        }
        push_b64(out, &buf)?;
        Ok(tag)
    }

    /// [`Self::seal_whole`] for a long plaintext and a 32-byte IV, a piece at a time:
    /// no copy of the whole plaintext (a binary file is one value of any size). The
    /// same GCM: counter blocks from J0 = GHASH(IV), the tag E(J0) xor GHASH(AAD, C).
    fn seal_chunked(
        &self,
        iv: &[u8],
        aad: &str,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<[u8; TAG_LEN]> {
        use ctr::cipher::{KeyIvInit, StreamCipher};
        use ghash::universal_hash::UniversalHash;

        if plaintext.len() as u64 > (1u64 << 36) - 32 {
            return Err(too_long(aad));
        }
        let (ghash, j0) = ghash_and_j0(&self.key, iv);
        let mut ctr =
            ctr::Ctr32BE::<Aes256>::new(GenericArray::from_slice(self.key.as_bytes()), &j0.into());
        let mut mask = Zeroizing::new([0u8; 16]);
        ctr.apply_keystream(&mut mask[..]);
        let mut g = ghash;
        g.update_padded(aad.as_bytes());
        let mut piece = Zeroizing::new(vec![0u8; CHUNK]);
        // Pieces are whole GHASH blocks and whole base64 groups (CHUNK is a multiple of
        // 48), so hashing and encoding them one by one is the same as all at once.
        for chunk in plaintext.chunks(CHUNK) {
            let piece = &mut piece[..chunk.len()];
            piece.copy_from_slice(chunk);
            ctr.apply_keystream(piece);
            g.update_padded(piece);
            push_b64(out, piece)?;
        }
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&((aad.len() as u64) * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&((plaintext.len() as u64) * 8).to_be_bytes());
        g.update(&[lengths.into()]);
        let mut tag = [0u8; TAG_LEN];
        for (t, (s, m)) in tag.iter_mut().zip(g.finalize().iter().zip(mask.iter())) {
            *t = s ^ m;
        }
        Ok(tag)
    }

    /// Decrypts an `ENC[...]` value with `aad`, as sops does.
    ///
    /// The empty string decrypts to an empty `str` with no cryptography. Failures: the
    /// string does not match the format, a field is not base64, the tag does not verify
    /// (wrong AAD: the value was moved or swapped; or tampering), or the type is unknown.
    pub fn decrypt(&self, enc: &str, aad: &str) -> Result<Decrypted> {
        let fail = |why: &str| Error::Decrypt {
            at: aad.to_owned(),
            why: why.to_owned(),
        };
        if enc.is_empty() {
            return Ok(Decrypted {
                type_name: "str".to_owned(),
                plaintext: Zeroizing::new(Vec::new()),
                iv: Vec::new(),
            });
        }
        let parts = parse_enc(enc)
            .ok_or_else(|| fail("not a sops ENC[] value (does not match sops' data format)"))?;
        // Room for the tag: appending it must not move a big value.
        let data = b64_decode(parts.data, TAG_LEN)
            .ok_or_else(|| fail("the data field is not valid base64"))?;
        let iv = b64_decode(parts.iv, 0).ok_or_else(|| fail("the iv field is not valid base64"))?;
        let tag =
            b64_decode(parts.tag, 0).ok_or_else(|| fail("the tag field is not valid base64"))?;
        if iv.is_empty() {
            return Err(fail("the iv field is empty"));
        }
        // Go appends the tag to the data and takes the last 16 bytes as the tag, whatever
        // the field lengths were; do the same.
        let mut buf = Zeroizing::new(data);
        buf.extend_from_slice(&tag);
        if buf.len() < TAG_LEN {
            return Err(fail(AUTH_FAILED));
        }
        let split = buf.len() - TAG_LEN;
        let tag: [u8; TAG_LEN] = buf[split..].try_into().map_err(|_| fail(AUTH_FAILED))?;
        buf.truncate(split);
        let aad_bytes = aad.as_bytes();
        let opened = match iv.len() {
            IV_LEN => self
                .gcm
                .decrypt_in_place_detached(
                    GenericArray::from_slice(&iv),
                    aad_bytes,
                    &mut buf,
                    GenericArray::from_slice(&tag),
                )
                .is_ok(),
            12 => Gcm12::new(GenericArray::from_slice(self.key.as_bytes()))
                .decrypt_in_place_detached(
                    GenericArray::from_slice(&iv),
                    aad_bytes,
                    &mut buf,
                    GenericArray::from_slice(&tag),
                )
                .is_ok(),
            _ => gcm_any_iv(&self.key, &iv, aad_bytes, &mut buf, Direction::Open(tag)).is_ok(),
        };
        if !opened {
            return Err(fail(AUTH_FAILED));
        }
        // sops checks the type only after decrypting, so a bad type with a good tag says
        // "unknown datatype", not "authentication failed".
        if !KNOWN_TYPES.contains(&parts.type_name) {
            return Err(fail("unknown datatype"));
        }
        Ok(Decrypted {
            type_name: parts.type_name.to_owned(),
            plaintext: buf,
            iv,
        })
    }
}

fn too_long(aad: &str) -> Error {
    Error::Encrypt {
        at: aad.to_owned(),
        why: "AES-GCM refused the input (too long)".to_owned(),
    }
}

/// Plaintexts longer than this are sealed a piece at a time ([`ValueCipher::encrypt`]).
/// A multiple of 48: whole GHASH blocks (16) and whole base64 groups (3).
const CHUNK: usize = 48 * 1024;

/// The length of `n` bytes in padded base64.
fn b64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends `bytes` in base64. (`encode_slice` into the buffer: `encode_string` clears a
/// 1 KiB scratch buffer on every call.)
fn push_b64(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    let start = out.len();
    out.resize(start + b64_len(bytes.len()), 0);
    let written = B64
        .encode_slice(bytes, &mut out[start..])
        .map_err(|_| Error::Internal("base64 output size"))?;
    out.truncate(start + written);
    Ok(())
}

/// Decodes a base64 field, with `room` bytes to spare after it.
fn b64_decode(field: &str, room: usize) -> Option<Vec<u8>> {
    // Go's decoder skips CR and LF anywhere in the input.
    let field = match field.contains('\r') {
        true => std::borrow::Cow::Owned(field.replace('\r', "")),
        false => std::borrow::Cow::Borrowed(field),
    };
    let mut out = Vec::with_capacity(field.len() / 4 * 3 + 3 + room);
    B64_GO.decode_vec(field.as_bytes(), &mut out).ok()?;
    Some(out)
}

enum Direction {
    Seal,
    Open([u8; TAG_LEN]),
}

struct GcmError;

/// AES-256-GCM for an IV of any non-zero length, as NIST SP 800-38D defines it (and Go
/// implements it): the counter block J0 is `IV ‖ 0³¹ ‖ 1` for a 12-byte IV and
/// `GHASH(IV ‖ pad ‖ [len(IV)]₆₄)` otherwise; the keystream starts at `inc32(J0)` and the
/// tag is `E(J0) ⊕ GHASH(AAD, C)`.
///
/// Seals in place and returns the tag, or checks the tag in constant time and then opens
/// in place (the buffer is untouched on failure).
/// GHASH keyed with H = E(0¹²⁸), and the counter block J0 for `iv`: `IV ‖ 0³¹ ‖ 1` for
/// a 12-byte IV, `GHASH(IV ‖ pad ‖ [len(IV)]₆₄)` otherwise.
fn ghash_and_j0(key: &DataKey, iv: &[u8]) -> (ghash::GHash, [u8; 16]) {
    use ghash::universal_hash::{KeyInit as _, UniversalHash};

    let aes = Aes256::new(GenericArray::from_slice(key.as_bytes()));
    let mut h = Zeroizing::new([0u8; 16]);
    aes.encrypt_block(GenericArray::from_mut_slice(&mut h[..]));
    let ghash = ghash::GHash::new(GenericArray::from_slice(&h[..]));
    let mut j0 = [0u8; 16];
    if iv.len() == 12 {
        j0[..12].copy_from_slice(iv);
        j0[15] = 1;
    } else {
        let mut g = ghash.clone();
        g.update_padded(iv);
        let mut lengths = [0u8; 16];
        lengths[8..].copy_from_slice(&((iv.len() as u64) * 8).to_be_bytes());
        g.update(&[lengths.into()]);
        j0.copy_from_slice(&g.finalize());
    }
    (ghash, j0)
}

fn gcm_any_iv(
    key: &DataKey,
    iv: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    direction: Direction,
) -> std::result::Result<Vec<u8>, GcmError> {
    use ctr::cipher::{KeyIvInit, StreamCipher};
    use ghash::universal_hash::UniversalHash;
    use subtle::ConstantTimeEq;

    // GCM's limits: 2^36 - 32 bytes of plaintext, 2^61 - 1 bytes of AAD.
    if buf.len() as u64 > (1u64 << 36) - 32 || aad.len() as u64 > (1u64 << 61) - 1 {
        return Err(GcmError);
    }
    let (ghash, j0) = ghash_and_j0(key, iv);

    // Ctr32BE started at J0: its first block is E(J0), the tag mask; the rest is the
    // keystream from inc32(J0), with the 32-bit wrap-around GCM specifies.
    let mut ctr = ctr::Ctr32BE::<Aes256>::new(GenericArray::from_slice(key.as_bytes()), &j0.into());
    let mut mask = Zeroizing::new([0u8; 16]);
    ctr.apply_keystream(&mut mask[..]);

    let tag_of = |ciphertext: &[u8]| {
        let mut g = ghash.clone();
        g.update_padded(aad);
        g.update_padded(ciphertext);
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&((aad.len() as u64) * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&((ciphertext.len() as u64) * 8).to_be_bytes());
        g.update(&[lengths.into()]);
        let mut tag = [0u8; TAG_LEN];
        for (t, (s, m)) in tag.iter_mut().zip(g.finalize().iter().zip(mask.iter())) {
            *t = s ^ m;
        }
        tag
    };

    match direction {
        Direction::Seal => {
            ctr.apply_keystream(buf);
            Ok(tag_of(buf).to_vec())
        }
        Direction::Open(expected) => {
            if bool::from(tag_of(buf).ct_eq(&expected)) {
                ctr.apply_keystream(buf);
                Ok(Vec::new())
            } else {
                Err(GcmError)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key00() -> DataKey {
        DataKey::from_slice(&(0u8..32).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn value_vectors_tsv_byte_exact() {
        let path = crate::crypto::test_vectors::path("handmade/value_vectors.tsv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rows = 0;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let cols: Vec<&str> = line.split('\t').collect();
            // A trailing empty column may be dropped by editors; pad it back.
            let col = |i: usize| cols.get(i).copied().unwrap_or("");
            let key = DataKey::from_slice(&hex::decode(col(0)).unwrap()).unwrap();
            let cipher = ValueCipher::new(&key);
            let (iv_b64, aad, ty) = (col(1), col(2), col(3));
            let plaintext = hex::decode(col(4)).unwrap();
            let expected = col(5);
            let iv: Vec<u8> = if iv_b64 == "-" {
                vec![7u8; 32]
            } else {
                B64.decode(iv_b64).unwrap()
            };
            let got = cipher.encrypt_with_iv(&plaintext, ty, aad, &iv).unwrap();
            assert_eq!(got, expected, "row {line}");
            let back = cipher.decrypt(expected, aad).unwrap();
            assert_eq!(&back.plaintext[..], &plaintext[..], "row {line}");
            if !expected.is_empty() {
                assert_eq!(back.type_name, ty);
                assert_eq!(back.iv, iv);
                // Any other AAD must fail authentication.
                let err = cipher.decrypt(expected, "other:").unwrap_err().to_string();
                assert!(err.contains("authentication failed"), "{err}");
            }
            rows += 1;
        }
        assert_eq!(rows, 12, "every row of value_vectors.tsv is checked");
    }

    #[test]
    fn swapped_values_fail_authentication() {
        // neg/swapped_values.yaml holds the ENC[] of `alpha` under `bravo` and vice
        // versa; the AAD (key path) makes both fail, as in sops (exit 25).
        let key = crate::crypto::test_vectors::data_key("neg/swapped_values.yaml");
        let cipher = ValueCipher::new(&DataKey::from_slice(&hex::decode(key).unwrap()).unwrap());
        let read = |file: &str, k: &str| -> String {
            let text = std::fs::read_to_string(crate::crypto::test_vectors::path(file)).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}: ")))
                .unwrap()
                .to_owned()
        };
        for k in ["alpha", "bravo"] {
            let aad = format!("{k}:");
            let good = cipher.decrypt(&read("neg/tamper_base.yaml", k), &aad);
            assert!(good.is_ok(), "{k} decrypts in the base file");
            let err = cipher
                .decrypt(&read("neg/swapped_values.yaml", k), &aad)
                .unwrap_err();
            assert_eq!(err.exit_code(), 25);
            assert!(err.to_string().contains("authentication failed"), "{err}");
        }
    }

    #[test]
    fn empty_plaintext_is_never_encrypted() {
        let c = ValueCipher::new(&key00());
        assert_eq!(c.encrypt(b"", "str", "a:").unwrap(), "");
        assert_eq!(c.encrypt(b"", "comment", ":").unwrap(), "");
        let d = c.decrypt("", "a:").unwrap();
        assert_eq!(d.type_name, "str");
        assert!(d.plaintext.is_empty());
        assert!(d.iv.is_empty());
    }

    #[test]
    fn long_values_sealed_in_pieces_are_the_same_as_sealed_whole() {
        let c = ValueCipher::new(&key00());
        let iv = [9u8; IV_LEN];
        for len in [
            CHUNK + 1,
            2 * CHUNK,
            2 * CHUNK + 1,
            3 * CHUNK - 17,
            5 * CHUNK + 47,
        ] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
            let pieces = c.encrypt_with_iv(&plaintext, "str", "data:", &iv).unwrap();
            let mut whole = PREFIX.as_bytes().to_vec();
            let tag = c.seal_whole(&iv, "data:", &plaintext, &mut whole).unwrap();
            let whole = String::from_utf8(whole).unwrap();
            let parts = parse_enc(&pieces).unwrap();
            assert_eq!(
                format!("{PREFIX}{}", parts.data),
                whole,
                "ciphertext, {len} bytes"
            );
            assert_eq!(B64.decode(parts.tag).unwrap(), tag, "tag, {len} bytes");
            let back = c.decrypt(&pieces, "data:").unwrap();
            assert_eq!(&back.plaintext[..], &plaintext[..]);
        }
    }

    #[test]
    fn fresh_ivs_are_random_and_32_bytes() {
        let c = ValueCipher::new(&key00());
        let a = c.encrypt(b"x", "str", "a:").unwrap();
        let b = c.encrypt(b"x", "str", "a:").unwrap();
        assert_ne!(a, b);
        let iv = parse_enc(&a).unwrap().iv;
        assert_eq!(iv.len(), 44);
        assert_eq!(c.decrypt(&a, "a:").unwrap().iv.len(), 32);
    }

    #[test]
    fn parse_follows_sops_regex() {
        let p = parse_enc("ENC[AES256_GCM,data:aGk=,iv:SVY=,tag:VEFH,type:str]").unwrap();
        assert_eq!(
            (p.data, p.iv, p.tag, p.type_name),
            ("aGk=", "SVY=", "VEFH", "str")
        );
        // Trailing text after the last ']' is ignored; the type runs to the last ']'.
        let p = parse_enc("ENC[AES256_GCM,data:a,iv:b,tag:c,type:int]junk").unwrap();
        assert_eq!(p.type_name, "int");
        let p = parse_enc("ENC[AES256_GCM,data:a,iv:b,tag:c,type:int]x]y").unwrap();
        assert_eq!(p.type_name, "int]x");
        // Greedy fields: data takes the last ",iv:" that still leaves room.
        let p = parse_enc("ENC[AES256_GCM,data:a,iv:b,tag:c,type:d,iv:e,tag:f,type:g]").unwrap();
        assert_eq!(
            (p.data, p.iv, p.tag, p.type_name),
            ("a,iv:b,tag:c,type:d", "e", "f", "g")
        );
        let p = parse_enc("ENC[AES256_GCM,data:a,iv:b,iv:c,tag:d,type:e]").unwrap();
        assert_eq!((p.data, p.iv), ("a,iv:b", "c"));
        let p = parse_enc("ENC[AES256_GCM,data:a,iv:b,tag:c,type:d,type:e]").unwrap();
        assert_eq!((p.tag, p.type_name), ("c,type:d", "e"));
        // Only the first line counts.
        assert!(parse_enc("ENC[AES256_GCM,data:a,iv:b,tag:c,type:d\n]").is_none());
        let p = parse_enc("ENC[AES256_GCM,data:a,iv:b,tag:c,type:d]\n]").unwrap();
        assert_eq!(p.type_name, "d");
        // Non-ASCII is fine and never split.
        let p = parse_enc("ENC[AES256_GCM,data:é,iv:ü,tag:✓,type:ß]").unwrap();
        assert_eq!((p.data, p.iv, p.tag, p.type_name), ("é", "ü", "✓", "ß"));
        for bad in [
            "",
            "ENC[AES256_GCM,data:,iv:b,tag:c,type:d]",
            "ENC[AES256_GCM,data:a,iv:,tag:c,type:d]",
            "ENC[AES256_GCM,data:a,iv:b,tag:,type:d]",
            "ENC[AES256_GCM,data:a,iv:b,tag:c,type:]",
            "ENC[AES256_GCM,data:a,iv:b,tag:c,type:d",
            "ENC[AES256_GCM,data:a,tag:c,iv:b,type:d]",
            " ENC[AES256_GCM,data:a,iv:b,tag:c,type:d]",
            "enc[AES256_GCM,data:a,iv:b,tag:c,type:d]",
            "ENC[AES256_GCM,iv:b,data:a,tag:c,type:d]",
            "ENC[AES256_GCM,data:",
            "ENC[AES256_GCM,data:]",
        ] {
            assert!(parse_enc(bad).is_none(), "accepted {bad:?}");
        }
    }

    #[test]
    fn type_may_contain_brackets_when_another_follows() {
        // `type:]]`: type `(.+)` must be non-empty, and can be `]` itself.
        let p = parse_enc("ENC[AES256_GCM,data:a,iv:b,tag:c,type:x]]").unwrap();
        assert_eq!(p.type_name, "x]");
        let p = parse_enc("ENC[AES256_GCM,data:a,iv:b,tag:c,type:]]").unwrap();
        assert_eq!(p.type_name, "]");
    }

    #[test]
    fn looks_encrypted_checks_the_prefix() {
        assert!(looks_encrypted("ENC[AES256_GCM,data:x"));
        assert!(!looks_encrypted("ENC[AES256_GCM"));
        assert!(!looks_encrypted("ENC[PGP,..."));
        assert!(!looks_encrypted("hello"));
    }

    #[test]
    fn trailing_junk_still_decrypts() {
        let c = ValueCipher::new(&key00());
        let enc = c.encrypt(b"42", "int", "n:").unwrap();
        let d = c.decrypt(&format!("{enc}junk"), "n:").unwrap();
        assert_eq!(&d.plaintext[..], b"42");
    }

    #[test]
    fn decrypt_errors_are_specific_and_secret_free() {
        let c = ValueCipher::new(&key00());
        let enc = c.encrypt(b"hunter2", "str", "pw:").unwrap();
        let msg = |r: Result<Decrypted>| r.unwrap_err().to_string();

        let m = msg(c.decrypt(&enc, "other:"));
        assert!(m.contains("authentication failed"), "{m}");
        assert!(!m.contains("hunter2") && !m.contains(&enc), "{m}");

        let m = msg(c.decrypt("hunter2", "pw:"));
        assert!(m.contains("not a sops ENC[] value"), "{m}");
        assert!(!m.contains("hunter2"), "{m}");

        let retyped = enc.replace("type:str]", "type:uint64]");
        assert!(msg(c.decrypt(&retyped, "pw:")).contains("unknown datatype"));

        let p = parse_enc(&enc).unwrap();
        let bad_b64 = enc.replacen(p.data, "!!!!", 1);
        assert!(msg(c.decrypt(&bad_b64, "pw:")).contains("not valid base64"));

        // Flip one ciphertext bit.
        let mut data = B64.decode(p.data).unwrap();
        data[0] ^= 1;
        let flipped = enc.replacen(p.data, &B64.encode(&data), 1);
        assert!(msg(c.decrypt(&flipped, "pw:")).contains("authentication failed"));

        // Wrong key.
        let other = ValueCipher::new(&DataKey::from_slice(&[9u8; 32]).unwrap());
        assert!(msg(other.decrypt(&enc, "pw:")).contains("authentication failed"));

        // A too-short tag makes the combined ciphertext too short.
        let short = format!("{PREFIX}AA==,iv:{},tag:AA==,type:str]", p.iv);
        assert!(msg(c.decrypt(&short, "pw:")).contains("authentication failed"));

        // The AAD (key path) is named, so the user knows which value failed.
        assert!(msg(c.decrypt(&enc, "other:")).contains("other:"));
    }

    #[test]
    fn tag_and_data_are_split_like_go() {
        // Go concatenates data and tag, then takes the last 16 bytes as the tag; moving
        // bytes between the two fields does not matter.
        let c = ValueCipher::new(&key00());
        let enc = c.encrypt(b"hello world", "str", "k:").unwrap();
        let p = parse_enc(&enc).unwrap();
        let mut all = B64.decode(p.data).unwrap();
        all.extend(B64.decode(p.tag).unwrap());
        let moved = format!(
            "{PREFIX}{},iv:{},tag:{},type:str]",
            B64.encode(&all[..5]),
            p.iv,
            B64.encode(&all[5..])
        );
        assert_eq!(
            &c.decrypt(&moved, "k:").unwrap().plaintext[..],
            b"hello world"
        );
    }

    #[test]
    fn go_base64_quirks() {
        // Non-zero trailing bits are accepted, like Go's StdEncoding; missing padding
        // is not.
        assert_eq!(b64_decode("aGk=", 0), Some(b"hi".to_vec()));
        assert_eq!(b64_decode("aGl=", 0), Some(b"hi".to_vec()));
        assert_eq!(b64_decode("aGk", 0), None);
        assert_eq!(b64_decode("aG\rk=", 0), Some(b"hi".to_vec()));
        assert_eq!(b64_decode("aGk-", 0), None);
    }

    #[test]
    fn other_iv_lengths_match_the_aes_gcm_crate() {
        use aes_gcm::aead::consts::{U1, U16, U64, U8};
        fn reference<N: aes_gcm::aead::generic_array::ArrayLength<u8>>(
            key: &DataKey,
            iv: &[u8],
            aad: &[u8],
            pt: &[u8],
        ) -> (Vec<u8>, Vec<u8>) {
            let g = AesGcm::<Aes256, N>::new(GenericArray::from_slice(key.as_bytes()));
            let mut buf = pt.to_vec();
            let tag = g
                .encrypt_in_place_detached(GenericArray::from_slice(iv), aad, &mut buf)
                .unwrap();
            (buf, tag.to_vec())
        }
        let key = key00();
        let pt: Vec<u8> = (0..100u8).collect();
        for (len, (ct, tag)) in [
            (1, reference::<U1>(&key, &[5], b"a:", &pt)),
            (8, reference::<U8>(&key, &[5; 8], b"a:", &pt)),
            (12, reference::<U12>(&key, &[5; 12], b"a:", &pt)),
            (16, reference::<U16>(&key, &[5; 16], b"a:", &pt)),
            (32, reference::<U32>(&key, &[5; 32], b"a:", &pt)),
            (64, reference::<U64>(&key, &[5; 64], b"a:", &pt)),
        ] {
            let iv = vec![5u8; len];
            let mut buf = pt.clone();
            let got = gcm_any_iv(&key, &iv, b"a:", &mut buf, Direction::Seal)
                .ok()
                .unwrap();
            assert_eq!(
                (buf.clone(), got.clone()),
                (ct, tag.clone()),
                "iv length {len}"
            );
            // And it opens its own output, refusing a bad tag.
            let mut bad = tag.clone();
            bad[0] ^= 1;
            let mut copy = buf.clone();
            let bad: [u8; 16] = bad.try_into().unwrap();
            assert!(gcm_any_iv(&key, &iv, b"a:", &mut copy, Direction::Open(bad)).is_err());
            assert_eq!(copy, buf, "buffer untouched on failure");
            let good: [u8; 16] = tag.try_into().unwrap();
            assert!(gcm_any_iv(&key, &iv, b"a:", &mut buf, Direction::Open(good)).is_ok());
            assert_eq!(buf, pt);
        }
    }

    #[test]
    fn values_with_odd_iv_lengths_round_trip() {
        let c = ValueCipher::new(&key00());
        for len in [1usize, 12, 16, 31, 33, 64] {
            let iv = vec![3u8; len];
            let enc = c.encrypt_with_iv(b"value", "str", "k:", &iv).unwrap();
            let d = c.decrypt(&enc, "k:").unwrap();
            assert_eq!(&d.plaintext[..], b"value");
            assert_eq!(d.iv, iv);
            assert!(c.decrypt(&enc, "j:").is_err());
        }
        assert!(c.encrypt_with_iv(b"value", "str", "k:", &[]).is_err());
        assert!(c.encrypt(b"value", "nope", "k:").is_err());
    }

    #[test]
    fn debug_output_is_redacted() {
        let c = ValueCipher::new(&key00());
        let d = c
            .decrypt(&c.encrypt(b"hunter2", "str", "k:").unwrap(), "k:")
            .unwrap();
        let shown = format!("{d:?} {c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("104"),
            "{shown}"
        );
    }

    proptest! {
        #[test]
        fn round_trip(
            key in proptest::array::uniform32(any::<u8>()),
            plaintext in proptest::collection::vec(any::<u8>(), 0..300),
            aad in ".{0,40}",
            ty in proptest::sample::select(KNOWN_TYPES.to_vec()),
        ) {
            let c = ValueCipher::new(&DataKey::from_slice(&key).unwrap());
            let enc = c.encrypt(&plaintext, ty, &aad).unwrap();
            if plaintext.is_empty() {
                prop_assert_eq!(&enc, "");
            } else {
                let parts = parse_enc(&enc).unwrap();
                prop_assert_eq!(parts.type_name, ty);
                let d = c.decrypt(&enc, &aad).unwrap();
                prop_assert_eq!(d.type_name.as_str(), ty);
                prop_assert_eq!(&d.plaintext[..], &plaintext[..]);
                let moved = format!("{aad}x");
                prop_assert!(c.decrypt(&enc, &moved).is_err());
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = parse_enc(&s);
            let c = ValueCipher::new(&key00());
            let _ = c.decrypt(&s, "a:");
        }

        #[test]
        fn parse_never_panics_on_near_misses(
            data in "[A-Za-z0-9+/=,:\\]é]{0,12}",
            iv in "[A-Za-z0-9+/=,:\\]]{0,12}",
            tag in "[A-Za-z0-9+/=,:\\]]{0,12}",
            ty in "[a-z,:\\]]{0,8}",
        ) {
            let s = format!("{PREFIX}{data},iv:{iv},tag:{tag},type:{ty}]");
            if let Some(p) = parse_enc(&s) {
                // Whatever was parsed, putting it back together gives a prefix of `s`.
                let again = format!("{PREFIX}{},iv:{},tag:{},type:{}]", p.data, p.iv, p.tag, p.type_name);
                prop_assert!(s.starts_with(&again));
            }
            let c = ValueCipher::new(&key00());
            let _ = c.decrypt(&s, "a:");
        }
    }
}
