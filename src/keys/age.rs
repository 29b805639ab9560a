//! age X25519 recipients (encryption) and identities (decryption), spec §8.

use std::fmt;
use std::io::Read;
use std::str::FromStr;

use age::armor::ArmoredReader;
use age::x25519;
use age::DecryptError;
use zeroize::Zeroizing;

use super::MasterKey;
use crate::error::{Error, Result};

const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";

/// A native age X25519 recipient (`age1…`), keeping the user's exact text.
#[derive(Clone)]
pub struct AgeRecipient {
    text: String,
    key: x25519::Recipient,
}

impl fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgeRecipient({})", self.text)
    }
}

impl AgeRecipient {
    /// Parses one recipient (already trimmed), classifying it the way sops does
    /// (spec §8.1, first match wins): `age1pq1…` hybrid, `age1<plugin>1…` plugin,
    /// `age1…` X25519, `ssh-…` SSH. Only X25519 is supported; the others give an
    /// [`Error::Recipient`] naming their kind.
    ///
    /// The recipient text is quoted in errors only when it is a public-key form: a
    /// string of unknown shape might be a secret pasted in the wrong place.
    pub fn parse(text: &str) -> Result<Self> {
        // A secret pasted anywhere in the item (`"$PUB $SECRET"`) must never be echoed,
        // whatever the item starts with.
        if text.contains("AGE-SECRET-KEY-") || text.contains("AGE-PLUGIN-") {
            return Err(Error::Recipient(
                "an age SECRET key was given as a recipient; give its public key (age1…, \
                 printed by `age-keygen -y`) instead"
                    .into(),
            ));
        }
        let shown = quotable(text);
        let unsupported = |kind: &str| {
            Err(Error::Recipient(format!(
                "{kind} recipients are not supported yet: {shown}"
            )))
        };
        if text.starts_with("age1pq1") {
            return unsupported("hybrid post-quantum age (age1pq1…)");
        }
        if let Some(rest) = text.strip_prefix("age1") {
            // Bech32 data never contains '1', so a second '1' marks `age1<plugin>1…`.
            if let Some(end) = rest.find('1') {
                let plugin = &rest[..end];
                return unsupported(&format!("age plugin (age-plugin-{plugin})"));
            }
            return match x25519::Recipient::from_str(text) {
                Ok(key) => Ok(AgeRecipient {
                    text: text.to_owned(),
                    key,
                }),
                Err(why) => Err(Error::Recipient(format!(
                    "invalid age recipient {shown}: {why}"
                ))),
            };
        }
        if text.starts_with("ssh-") {
            return unsupported("SSH (ssh-ed25519, ssh-rsa)");
        }
        Err(Error::Recipient(
            "unknown recipient type (expected an age public key, age1…)".into(),
        ))
    }

    /// The recipient exactly as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A recipient as it may appear in a message: a single short token of public-key
/// characters is shown; anything else (spaces, newlines, odd characters: possibly a secret
/// pasted in the wrong place) is not.
fn quotable(text: &str) -> String {
    let public_looking = text.len() <= 120
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if public_looking {
        text.to_string()
    } else {
        "(not shown: it does not look like a public key)".into()
    }
}

impl MasterKey for AgeRecipient {
    fn kind(&self) -> &'static str {
        "age"
    }

    fn recipient(&self) -> &str {
        &self.text
    }

    fn wrap(&self, data_key: &[u8]) -> Result<String> {
        wrap(data_key, self)
    }
}

/// Parses a comma-separated recipient list (`--age`, `SOPS_AGE_RECIPIENTS`, a
/// `.sops.yaml` `age:` string): split on `,`, trim each item, skip empty items.
pub fn parse_recipients(list: &str) -> Result<Vec<AgeRecipient>> {
    list.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(AgeRecipient::parse)
        .collect()
}

/// Encrypts `data_key` (32 bytes, or a 33-byte Shamir share) to one recipient as an
/// armored age file: `-----BEGIN AGE ENCRYPTED FILE-----`, base64 wrapped at 64 columns,
/// a trailing newline. One file per recipient, as sops writes them.
pub fn wrap(data_key: &[u8], recipient: &AgeRecipient) -> Result<String> {
    age::encrypt_and_armor(&recipient.key, data_key).map_err(|e| {
        Error::Recipient(format!(
            "cannot encrypt the data key to {}: {e}",
            recipient.text
        ))
    })
}

/// One age X25519 identity and where it came from.
///
/// `Debug` shows the public key and the source, never the secret.
#[derive(Clone)]
pub struct AgeIdentity {
    key: x25519::Identity,
    public: String,
    source: String,
}

impl AgeIdentity {
    /// The matching recipient (`age1…`).
    pub fn recipient(&self) -> &str {
        &self.public
    }

    /// Where the identity was found (a variable name or a path).
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl fmt::Debug for AgeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgeIdentity")
            .field("recipient", &self.public)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// All identities found, plus where they were looked for.
#[derive(Clone, Debug, Default)]
pub struct Identities {
    ids: Vec<AgeIdentity>,
    looked_in: Vec<String>,
    notes: Vec<String>,
}

impl Identities {
    /// No identities, nothing looked at.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `source` (a variable name or a path, never contents) was consulted.
    pub fn note_looked_in(&mut self, source: impl Into<String>) {
        self.looked_in.push(source.into());
    }

    /// Parses identity text from `source` and adds what it holds (spec §8.2 format):
    /// one identity per line; blank lines and `#` lines are skipped; surrounding
    /// whitespace (and a `\r`) is ignored.
    ///
    /// * `AGE-SECRET-KEY-1…`: an X25519 identity.
    /// * `AGE-PLUGIN-…` and `AGE-SECRET-KEY-PQ-1…`: recognised but not supported yet;
    ///   skipped, and counted in [`notes`](Self::notes) so a "no key" error can say so.
    /// * Anything else fails the whole source. The error names `source` and the line
    ///   number, never the line.
    /// * Passphrase-protected (age-encrypted) identity text fails with a clear message.
    pub fn add_text(&mut self, source: &str, text: &str) -> Result<()> {
        let head = text.trim_start();
        if head.starts_with("age-encryption.org/") || head.starts_with("-----BEGIN AGE") {
            return Err(Error::NoKey(format!(
                "{source} holds a passphrase-protected identity file, which sealant does \
                 not support yet"
            )));
        }
        let mut found = Vec::new();
        let (mut plugin, mut pq) = (0usize, 0usize);
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with("AGE-PLUGIN-") {
                plugin += 1;
            } else if line.starts_with("AGE-SECRET-KEY-PQ-") {
                pq += 1;
            } else if line.starts_with("AGE-SECRET-KEY-1") {
                let key = x25519::Identity::from_str(line).map_err(|_| {
                    Error::NoKey(format!(
                        "{source}: line {} is not a valid age identity (bad AGE-SECRET-KEY-1… \
                         encoding)",
                        n + 1
                    ))
                })?;
                let public = key.to_public().to_string();
                found.push(AgeIdentity {
                    key,
                    public,
                    source: source.to_owned(),
                });
            } else {
                return Err(Error::NoKey(format!(
                    "{source}: line {} is not an age identity (expected AGE-SECRET-KEY-1…, \
                     a comment or a blank line)",
                    n + 1
                )));
            }
        }
        if plugin > 0 {
            self.notes.push(format!(
                "{source}: {plugin} age plugin identit{} skipped (plugins are not supported yet)",
                if plugin == 1 { "y" } else { "ies" }
            ));
        }
        if pq > 0 {
            self.notes.push(format!(
                "{source}: {pq} post-quantum identit{} skipped (not supported yet)",
                if pq == 1 { "y" } else { "ies" }
            ));
        }
        self.ids.extend(found);
        Ok(())
    }

    /// The identities, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &AgeIdentity> {
        self.ids.iter()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every place consulted, in order (variable names and paths; never contents).
    pub fn looked_in(&self) -> &[String] {
        &self.looked_in
    }

    /// Remarks for error messages, e.g. identities skipped as unsupported.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Unwraps an envelope with these identities; see [`unwrap`].
    pub fn unwrap(&self, envelope: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        unwrap(envelope, self)
    }
}

/// Decrypts an armored age envelope (an `enc` field) with `identities`.
///
/// * `Ok(Some(bytes))`: one identity matched; `bytes` is the data key or share.
/// * `Ok(None)`: the envelope is fine but none of the identities is a recipient of it.
/// * `Err(Error::Metadata)`: the envelope is malformed (not armored, bad base64, bad
///   header, corrupted payload).
///
/// The text may still carry the indentation of a YAML block, or `\r\n` line ends: each
/// line is trimmed and blank lines dropped before the armor is read. Stores that escape
/// newlines (dotenv, INI) must unescape them first.
pub fn unwrap(envelope: &str, identities: &Identities) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let malformed = |why: String| Error::Metadata(format!("malformed age envelope: {why}"));
    let mut armored = String::with_capacity(envelope.len());
    for line in envelope.lines().map(str::trim).filter(|l| !l.is_empty()) {
        armored.push_str(line);
        armored.push('\n');
    }
    if !armored.starts_with(ARMOR_BEGIN) {
        return Err(malformed(format!("it does not start with {ARMOR_BEGIN}")));
    }
    let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(armored.as_bytes()))
        .map_err(|e| malformed(e.to_string()))?;
    let ids = identities.ids.iter().map(|i| &i.key as &dyn age::Identity);
    match decryptor.decrypt(ids) {
        Ok(mut reader) => {
            let mut out = Zeroizing::new(Vec::with_capacity(33));
            reader
                .read_to_end(&mut out)
                .map_err(|e| malformed(format!("the payload is corrupted ({e})")))?;
            Ok(Some(out))
        }
        Err(DecryptError::NoMatchingKeys) => Ok(None),
        Err(e) => Err(malformed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_vectors;
    use std::process::Command;

    fn identities_from(files: &[&str]) -> Identities {
        let mut ids = Identities::new();
        for f in files {
            let path = test_vectors::path(f);
            let text = std::fs::read_to_string(&path).unwrap();
            ids.add_text(&path.display().to_string(), &text).unwrap();
        }
        ids
    }

    fn pubkey(n: u8) -> String {
        std::fs::read_to_string(test_vectors::path(&format!("keys/age{n}.pub")))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// The (still indented) `enc: |` blocks of a YAML vector, in file order.
    fn yaml_envelopes(file: &str) -> Vec<String> {
        let text = std::fs::read_to_string(test_vectors::path(file)).unwrap();
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if line.trim() == ARMOR_BEGIN {
                current = Some(String::new());
            }
            if let Some(block) = current.as_mut() {
                block.push_str(line);
                block.push('\n');
                if line.trim() == "-----END AGE ENCRYPTED FILE-----" {
                    out.push(current.take().unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn unwraps_simple_yaml_to_the_listed_data_key() {
        let ids = identities_from(&["keys/age1.txt"]);
        assert_eq!(ids.len(), 1);
        assert_eq!(ids.iter().next().unwrap().recipient(), pubkey(1));
        let envs = yaml_envelopes("enc/simple.yaml");
        assert_eq!(envs.len(), 1);
        let key = unwrap(&envs[0], &ids)
            .unwrap()
            .expect("age1 is a recipient");
        assert_eq!(
            hex::encode(&key[..]),
            test_vectors::data_key("enc/simple.yaml")
        );
    }

    #[test]
    fn other_identity_gets_none() {
        let ids = identities_from(&["keys/age2.txt"]);
        let envs = yaml_envelopes("enc/simple.yaml");
        assert!(unwrap(&envs[0], &ids).unwrap().is_none());
        assert!(unwrap(&envs[0], &Identities::new()).unwrap().is_none());
        // With several identities, the right one is found whatever the order.
        let ids = identities_from(&["keys/age3.txt", "keys/age2.txt", "keys/age1.txt"]);
        assert!(unwrap(&envs[0], &ids).unwrap().is_some());
    }

    #[test]
    fn shamir_envelopes_give_33_byte_shares() {
        let envs = yaml_envelopes("enc/shamir_2of3.yaml");
        assert_eq!(envs.len(), 3);
        let shares = test_vectors::shares("enc/shamir_2of3.yaml");
        for (i, file) in ["keys/age1.txt", "keys/age2.txt", "keys/age3.txt"]
            .iter()
            .enumerate()
        {
            let ids = identities_from(&[file]);
            let got: Vec<_> = envs
                .iter()
                .filter_map(|e| unwrap(e, &ids).unwrap())
                .collect();
            assert_eq!(got.len(), 1, "{file} opens exactly its own group");
            assert_eq!(&got[0][..], &shares[i][..]);
        }
    }

    #[test]
    fn tolerates_crlf_and_indentation_but_not_garbage() {
        let ids = identities_from(&["keys/age1.txt"]);
        let env = &yaml_envelopes("enc/simple.yaml")[0];
        let crlf = env.replace('\n', "\r\n");
        assert!(unwrap(&crlf, &ids).unwrap().is_some());
        let flush: String = env.lines().map(|l| format!("{}\n", l.trim())).collect();
        assert!(unwrap(&flush, &ids).unwrap().is_some());
        let no_trailing_newline = flush.trim_end();
        assert!(unwrap(no_trailing_newline, &ids).unwrap().is_some());

        assert!(unwrap("", &ids).is_err());
        assert!(unwrap("not an age file", &ids).is_err());
        // Corrupt one base64 character in the body.
        let lines: Vec<&str> = flush.lines().collect();
        let mut body = lines[2].to_owned();
        let c = if body.starts_with('A') { "B" } else { "A" };
        body.replace_range(0..1, c);
        let corrupt = [lines[0], lines[1], &body]
            .into_iter()
            .chain(lines[3..].iter().copied())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            unwrap(&corrupt, &ids).is_err(),
            "tampered envelope must be an error"
        );
        // Truncated armor.
        let truncated = lines[..3].join("\n");
        assert!(unwrap(&truncated, &ids).is_err());
    }

    #[test]
    fn wrap_then_unwrap() {
        let r = parse_recipients(&pubkey(1)).unwrap();
        let key = [0x5Au8; 32];
        let env = r[0].wrap(&key).unwrap();
        assert!(env.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(env.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        assert!(env.lines().all(|l| l.len() <= 64));
        assert_eq!(r[0].kind(), "age");
        let got = unwrap(&env, &identities_from(&["keys/age1.txt"]))
            .unwrap()
            .unwrap();
        assert_eq!(&got[..], &key);
        assert!(unwrap(&env, &identities_from(&["keys/age2.txt"]))
            .unwrap()
            .is_none());
        // Wrapping twice gives different envelopes (fresh ephemeral keys).
        assert_ne!(env, r[0].wrap(&key).unwrap());
    }

    /// The Go `age` CLI must decrypt what we wrap. In CI (`CI=true`) a missing `age` is a
    /// failure; elsewhere the test is skipped with a notice.
    #[test]
    fn wrap_interoperates_with_go_age_cli() {
        let have_age = Command::new("age").arg("--version").output().is_ok();
        if !have_age {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("the `age` CLI is required in CI for the interop test");
            }
            eprintln!("NOTICE: `age` not on PATH; skipping the Go age interop test");
            return;
        }
        let key: Vec<u8> = (100u8..132).collect();
        let recipient = AgeRecipient::parse(&pubkey(1)).unwrap();
        let env = wrap(&key, &recipient).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key.age");
        std::fs::write(&file, &env).unwrap();
        let out = Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(test_vectors::path("keys/age1.txt"))
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "age -d failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, key);
    }

    #[test]
    fn recipient_lists() {
        let (r1, r2) = (pubkey(1), pubkey(2));
        let list = parse_recipients(&format!(" {r1} , {r2},,")).unwrap();
        let texts: Vec<&str> = list.iter().map(|r| r.as_str()).collect();
        assert_eq!(texts, [r1.as_str(), r2.as_str()]);
        assert!(parse_recipients("").unwrap().is_empty());
        assert!(parse_recipients(" , ").unwrap().is_empty());
        assert!(format!("{:?}", list[0]).contains(&r1));
    }

    #[test]
    fn unsupported_recipients_are_named() {
        let msg = |s: &str| parse_recipients(s).unwrap_err().to_string();
        let ssh = std::fs::read_to_string(test_vectors::path("keys/ssh_ed25519.pub")).unwrap();
        assert!(msg(&ssh).contains("SSH"), "{}", msg(&ssh));
        let plugin = "age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t";
        let m = msg(plugin);
        assert!(
            m.contains("age-plugin-yubikey") && m.contains("not supported"),
            "{m}"
        );
        assert!(msg("age1pq1abcdef").contains("post-quantum"));
        let m = msg("age1notbech32");
        assert!(m.contains("invalid age recipient"), "{m}");
        // Unknown shapes and secret keys are never echoed back.
        let m = msg("hunter2");
        assert!(
            m.contains("unknown recipient type") && !m.contains("hunter2"),
            "{m}"
        );
        let secret = "AGE-SECRET-KEY-1PSKLE9KA85MFU7WRVC0FTHVUCJKLEXHRVK7N9A3UN3E26VLZ0MJQGSC2Q7";
        let m = msg(secret);
        assert!(m.contains("SECRET key") && !m.contains("PSKLE9"), "{m}");
        // sops is case-sensitive about the prefix.
        assert!(msg(&pubkey(1).to_uppercase()).contains("unknown recipient type"));
        // One bad entry fails the list.
        assert!(parse_recipients(&format!("{},ssh-ed25519 AAAA", pubkey(1))).is_err());
    }

    #[test]
    fn identity_text_with_comments_and_several_keys() {
        let mut text = String::from("\n# my keys\n\n");
        for n in 1..=3 {
            text.push_str(
                &std::fs::read_to_string(test_vectors::path(&format!("keys/age{n}.txt"))).unwrap(),
            );
            text.push_str("   \r\n");
        }
        text.push_str("AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQ\n");
        let mut ids = Identities::new();
        ids.add_text("keys.txt", &text).unwrap();
        let recipients: Vec<&str> = ids.iter().map(AgeIdentity::recipient).collect();
        assert_eq!(recipients, [pubkey(1), pubkey(2), pubkey(3)]);
        assert!(ids.iter().all(|i| i.source() == "keys.txt"));
        assert_eq!(ids.notes().len(), 1);
        assert!(ids.notes()[0].contains("plugin"), "{:?}", ids.notes());
        // Debug shows public keys only.
        let shown = format!("{ids:?}");
        assert!(!shown.contains("AGE-SECRET-KEY"), "{shown}");
        assert!(shown.contains(&pubkey(2)));
    }

    #[test]
    fn bad_identity_line_names_source_and_line_not_content() {
        let good = std::fs::read_to_string(test_vectors::path("keys/age1.txt")).unwrap();
        let text = format!("{good}\nhunter2-is-my-password\n");
        let mut ids = Identities::new();
        let err = ids.add_text("SOPS_AGE_KEY", &text).unwrap_err().to_string();
        let line_no = good.lines().count() + 2;
        assert!(err.contains("SOPS_AGE_KEY"), "{err}");
        assert!(err.contains(&format!("line {line_no}")), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(ids.is_empty(), "a failed source adds nothing");

        // A malformed secret key is not echoed either.
        let bad_key = "AGE-SECRET-KEY-1PSKLE9KA85MFU7WRVC0FTHVUCJKLEXHRVK7N9A3UN3E26VLZ0MJQGSC2Q8";
        let err = ids.add_text("f", bad_key).unwrap_err().to_string();
        assert!(err.contains("line 1") && !err.contains("PSKLE9"), "{err}");

        // Passphrase-protected identity files are recognised.
        let err = ids
            .add_text(
                "SOPS_AGE_KEY_FILE",
                "-----BEGIN AGE ENCRYPTED FILE-----\nxyz\n",
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("passphrase-protected"), "{err}");
    }
}
