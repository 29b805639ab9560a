//! Shamir secret sharing as sops does it for key groups (spec §7).
//!
//! * Field: GF(2^8) with the AES reduction polynomial x^8 + x^4 + x^3 + x + 1 (0x11B).
//! * One random polynomial of degree `threshold - 1` per secret byte, constant term =
//!   that byte.
//! * Share `i` (0-based) is the polynomial values at x = i + 1 for every byte, followed
//!   by the single byte x: `y_1 … y_n ‖ x`.
//! * Combining is Lagrange interpolation at x = 0.
//!
//! Arithmetic is branch-free and table-free, so timing does not depend on secret bytes.

use rand::rngs::OsRng;
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Multiplication in GF(2^8) mod 0x11B, without data-dependent branches or lookups.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        // Add `a` when the low bit of `b` is set: mask is 0xFF or 0x00.
        product ^= a & 0u8.wrapping_sub(b & 1);
        // a *= x, reducing by 0x11B when the top bit falls off.
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1B & carry);
        b >>= 1;
    }
    product
}

/// Multiplicative inverse as a^254 (a^255 = 1 for a ≠ 0); maps 0 to 0.
fn gf_inv(a: u8) -> u8 {
    let mut result = 1u8;
    let mut square = a;
    // result = a^2 · a^4 · … · a^128 = a^254.
    for _ in 0..7 {
        square = gf_mul(square, square);
        result = gf_mul(result, square);
    }
    result
}

/// Splits `secret` into `parts` shares, any `threshold` of which recover it, drawing the
/// random coefficients from the OS.
///
/// Requirements (as in sops): 2 ≤ threshold ≤ parts ≤ 255, and a non-empty secret.
pub fn split(secret: &[u8], parts: usize, threshold: usize) -> Result<Vec<Zeroizing<Vec<u8>>>> {
    split_with_rng(secret, parts, threshold, &mut OsRng)
}

/// [`split`] with a caller-chosen CSPRNG (for reproducible tests).
pub fn split_with_rng<R: RngCore + CryptoRng>(
    secret: &[u8],
    parts: usize,
    threshold: usize,
    rng: &mut R,
) -> Result<Vec<Zeroizing<Vec<u8>>>> {
    let bad = |why: &str| Err(Error::Metadata(format!("cannot split the data key: {why}")));
    if threshold < 2 {
        return bad("the Shamir threshold must be at least 2");
    }
    if parts < threshold {
        return bad("there are fewer key groups than the Shamir threshold");
    }
    if parts > 255 {
        return bad("there can be at most 255 key groups");
    }
    if secret.is_empty() {
        return bad("the secret is empty");
    }

    let mut shares: Vec<Zeroizing<Vec<u8>>> = (1..=parts)
        .map(|x| {
            let mut share = Zeroizing::new(vec![0u8; secret.len() + 1]);
            share[secret.len()] = x as u8;
            share
        })
        .collect();
    // coefficients[0] is the secret byte; the others are random.
    let mut coefficients = Zeroizing::new(vec![0u8; threshold]);
    for (i, &byte) in secret.iter().enumerate() {
        coefficients[0] = byte;
        rng.fill_bytes(&mut coefficients[1..]);
        for share in shares.iter_mut() {
            let x = share[secret.len()];
            // Horner's rule, highest coefficient first.
            share[i] = coefficients
                .iter()
                .rev()
                .fold(0u8, |acc, &c| gf_mul(acc, x) ^ c);
        }
    }
    Ok(shares)
}

/// Recovers the secret from shares (Lagrange interpolation at x = 0).
///
/// Needs at least 2 shares of equal length (at least 2 bytes each: one y and the x),
/// with distinct x bytes. Passing more shares than the threshold is fine; passing fewer
/// silently gives a wrong secret, which the caller detects when the data key fails to
/// decrypt anything.
pub fn combine(shares: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>> {
    let bad = |why: &str| {
        Err(Error::Metadata(format!(
            "cannot combine the key shares: {why}"
        )))
    };
    if shares.len() < 2 {
        return bad("at least 2 shares are needed");
    }
    let len = shares[0].len();
    if len < 2 {
        return bad("a share is too short");
    }
    if shares.iter().any(|s| s.len() != len) {
        return bad("the shares have different lengths");
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return bad("two shares have the same x coordinate");
        }
    }

    // Lagrange basis at 0: l_j = Π_{m≠j} x_m / (x_m − x_j); subtraction is XOR.
    let basis = Zeroizing::new(
        xs.iter()
            .enumerate()
            .map(|(j, &xj)| {
                xs.iter()
                    .enumerate()
                    .filter(|&(m, _)| m != j)
                    .fold(1u8, |acc, (_, &xm)| {
                        gf_mul(acc, gf_mul(xm, gf_inv(xm ^ xj)))
                    })
            })
            .collect::<Vec<u8>>(),
    );
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (i, byte) in secret.iter_mut().enumerate() {
        *byte = shares
            .iter()
            .zip(basis.iter())
            .fold(0u8, |acc, (share, &l)| acc ^ gf_mul(share[i], l));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::cipher::ValueCipher;
    use crate::crypto::datakey::DataKey;
    use crate::crypto::test_vectors;
    use proptest::prelude::*;
    use rand::SeedableRng;

    /// Slow but obviously correct reference multiply: shift-and-add, then reduce.
    fn slow_mul(a: u8, b: u8) -> u8 {
        let mut wide: u16 = 0;
        for bit in 0..8 {
            if b & (1 << bit) != 0 {
                wide ^= u16::from(a) << bit;
            }
        }
        for bit in (8..16).rev() {
            if wide & (1 << bit) != 0 {
                wide ^= 0x11B << (bit - 8);
            }
        }
        wide as u8
    }

    #[test]
    fn field_arithmetic() {
        // FIPS-197 §4.2: {57} · {83} = {c1}, {57} · {13} = {fe}.
        assert_eq!(gf_mul(0x57, 0x83), 0xC1);
        assert_eq!(gf_mul(0x57, 0x13), 0xFE);
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(gf_mul(a, b), slow_mul(a, b), "{a} * {b}");
            }
            if a != 0 {
                assert_eq!(gf_mul(a, gf_inv(a)), 1, "inverse of {a}");
            }
        }
        assert_eq!(gf_inv(0), 0);
    }

    fn shares_from_handmade() -> Vec<Vec<u8>> {
        let text =
            std::fs::read_to_string(test_vectors::path("handmade/shamir_shares.txt")).unwrap();
        text.lines()
            .filter(|l| l.starts_with("group"))
            .map(|l| hex::decode(l.split_whitespace().nth(1).unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn handmade_shares_combine_to_the_documented_key() {
        let shares = shares_from_handmade();
        assert_eq!(shares.len(), 3);
        let expected: Vec<u8> = (0u8..32).collect();
        for pick in [[0, 1], [0, 2], [1, 2], [1, 0], [2, 0]] {
            let chosen: Vec<&[u8]> = pick.iter().map(|&i| shares[i].as_slice()).collect();
            assert_eq!(&combine(&chosen).unwrap()[..], &expected[..], "{pick:?}");
        }
        let all: Vec<&[u8]> = shares.iter().map(Vec::as_slice).collect();
        assert_eq!(&combine(&all).unwrap()[..], &expected[..]);
        // One share alone is refused.
        assert!(combine(&all[..1]).is_err());
    }

    #[test]
    fn sops_shares_combine_and_decrypt_the_files() {
        // datakeys.txt lists each Shamir file's three shares (32 y bytes ‖ x). Any two
        // must give the same key, and that key must decrypt the file's first value.
        for (file, aad) in [
            ("enc/shamir_2of3.yaml", "username:"),
            ("enc/shamir_2of3.json", "username:"),
            ("enc/shamir_2of3.env", "username:"),
            ("enc/shamir_2of3.ini", "s:username:"),
        ] {
            let shares = test_vectors::shares(file);
            assert_eq!(shares.len(), 3, "{file}");
            let text = std::fs::read_to_string(test_vectors::path(file)).unwrap();
            let enc = &text[text.find("ENC[").unwrap()..];
            let mut keys = Vec::new();
            for (a, b) in [(0, 1), (0, 2), (1, 2)] {
                let key = combine(&[&shares[a], &shares[b]]).unwrap();
                assert_eq!(key.len(), 32);
                let cipher = ValueCipher::new(&DataKey::from_slice(&key).unwrap());
                let value = cipher.decrypt(enc, aad).unwrap();
                assert_eq!(&value.plaintext[..], b"admin", "{file} shares {a},{b}");
                keys.push(key);
            }
            assert!(keys.windows(2).all(|w| w[0] == w[1]));
        }
    }

    #[test]
    fn split_layout_matches_sops() {
        let secret: Vec<u8> = (0u8..32).collect();
        let shares = split(&secret, 3, 2).unwrap();
        assert_eq!(shares.len(), 3);
        for (i, s) in shares.iter().enumerate() {
            assert_eq!(s.len(), 33);
            assert_eq!(s[32], i as u8 + 1, "x is the group index + 1, at the end");
        }
        let got = combine(&[&shares[2], &shares[0]]).unwrap();
        assert_eq!(&got[..], &secret[..]);
    }

    #[test]
    fn split_is_randomised() {
        let secret = [42u8; 32];
        let a = split(&secret, 2, 2).unwrap();
        let b = split(&secret, 2, 2).unwrap();
        assert_ne!(a[0], b[0]);
        // A single share reveals nothing obvious: it is not the secret.
        assert_ne!(&a[0][..32], &secret[..]);
    }

    #[test]
    fn split_rejects_bad_parameters() {
        let s = [1u8; 32];
        assert!(split(&s, 3, 1).is_err());
        assert!(split(&s, 2, 3).is_err());
        assert!(split(&s, 256, 2).is_err());
        assert!(split(&[], 3, 2).is_err());
        assert!(split(&s, 255, 255).is_ok());
    }

    #[test]
    fn combine_rejects_bad_shares() {
        let shares = split(&[7u8; 32], 3, 2).unwrap();
        assert!(combine(&[]).is_err());
        assert!(combine(&[&shares[0]]).is_err());
        assert!(combine(&[&shares[0], &shares[0]]).is_err(), "duplicate x");
        assert!(
            combine(&[&shares[0], &shares[1][..32]]).is_err(),
            "length mismatch"
        );
        assert!(combine(&[&[1u8][..], &[2u8][..]]).is_err(), "too short");
        let msg = combine(&[&shares[0], &shares[0]]).unwrap_err().to_string();
        assert!(msg.contains("same x"), "{msg}");
    }

    #[test]
    fn deterministic_with_seeded_rng() {
        let mut r1 = rand::rngs::StdRng::seed_from_u64(7);
        let mut r2 = rand::rngs::StdRng::seed_from_u64(7);
        let a = split_with_rng(b"secret", 4, 3, &mut r1).unwrap();
        let b = split_with_rng(b"secret", 4, 3, &mut r2).unwrap();
        assert_eq!(a, b);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_threshold_subset_recovers(
            secret in proptest::collection::vec(any::<u8>(), 1..40),
            parts in 2usize..8,
            threshold_seed in any::<usize>(),
            order_seed in any::<u64>(),
            extra in any::<usize>(),
        ) {
            let threshold = 2 + threshold_seed % (parts - 1);
            let shares = split(&secret, parts, threshold).unwrap();
            // Pick a random subset of size threshold..=parts, in random order.
            let mut idx: Vec<usize> = (0..parts).collect();
            let mut rng = rand::rngs::StdRng::seed_from_u64(order_seed);
            rand::seq::SliceRandom::shuffle(&mut idx[..], &mut rng);
            let take = threshold + extra % (parts - threshold + 1);
            let chosen: Vec<&[u8]> = idx[..take].iter().map(|&i| shares[i].as_slice()).collect();
            prop_assert_eq!(&combine(&chosen).unwrap()[..], &secret[..]);
        }
    }
}
