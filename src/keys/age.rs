//! age recipients (encryption), spec §8.1: native X25519 (`age1…`), SSH public keys
//! (`ssh-ed25519`, `ssh-rsa`) and age plugins (`age1NAME1…`, through `age-plugin-NAME`).
//! The identities that decrypt are in `identity.rs`.

use std::fmt;
use std::str::FromStr;

use age::{ssh, x25519};

use super::prompt::{no_prompt, PluginUi, SharedPrompt};
use super::MasterKey;
use crate::error::{Error, Result};

/// An age recipient, keeping the user's exact text (for SSH keys, the whole
/// `ssh-ed25519 AAAA… comment` line, as sops stores it).
#[derive(Clone)]
pub struct AgeRecipient {
    text: String,
    key: RecipientKey,
}

#[derive(Clone)]
enum RecipientKey {
    X25519(x25519::Recipient),
    Ssh(ssh::Recipient),
    /// Wrapped by running `age-plugin-NAME`; its questions go to `prompt`.
    Plugin {
        recipient: age::plugin::Recipient,
        prompt: SharedPrompt,
    },
}

impl fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgeRecipient({})", self.text)
    }
}

impl AgeRecipient {
    /// Parses one recipient (already trimmed), classifying it the way sops does
    /// (spec §8.1, first match wins): `age1pq1…` hybrid (not supported: an error naming
    /// it), `age1<plugin>1…` plugin, `age1…` X25519, `ssh-…` SSH.
    ///
    /// A plugin's binary is looked for on `PATH` when the data key is wrapped. Its
    /// questions go nowhere unless [`with_prompt`](Self::with_prompt) (or
    /// [`MasterKey::set_prompt`]) gives a prompt.
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
        if text.contains("PRIVATE KEY") {
            return Err(Error::Recipient(
                "an SSH PRIVATE key was given as a recipient; give its public key (the \
                 .pub file) instead"
                    .into(),
            ));
        }
        let shown = quotable(text);
        let made = |key| {
            Ok(AgeRecipient {
                text: text.to_owned(),
                key,
            })
        };
        if text.starts_with("age1pq1") {
            return Err(Error::Recipient(format!(
                "hybrid post-quantum age recipients (age1pq1…) are not supported by sealant \
                 yet: {shown}"
            )));
        }
        if let Some(rest) = text.strip_prefix("age1") {
            // Bech32 data never contains '1', so a second '1' marks `age1<plugin>1…`.
            if rest.contains('1') {
                return match age::plugin::Recipient::from_str(text) {
                    Ok(recipient) => made(RecipientKey::Plugin {
                        recipient,
                        prompt: no_prompt(),
                    }),
                    Err(why) => Err(Error::Recipient(format!(
                        "invalid age plugin recipient {shown}: {why}"
                    ))),
                };
            }
            return match x25519::Recipient::from_str(text) {
                Ok(key) => made(RecipientKey::X25519(key)),
                Err(why) => Err(Error::Recipient(format!(
                    "invalid age recipient {shown}: {why}"
                ))),
            };
        }
        if text.starts_with("ssh-") {
            // Only the key type is echoed: the rest is long, and not needed to find it.
            let key_type = text.split_whitespace().next().unwrap_or("ssh-");
            let key_type = quotable(key_type);
            return match ssh::Recipient::from_str(text) {
                Ok(key) => made(RecipientKey::Ssh(key)),
                Err(ssh::ParseRecipientKeyError::RsaModulusTooSmall) => Err(Error::Recipient(
                    "the ssh-rsa recipient is shorter than 2048 bits, which age refuses".into(),
                )),
                Err(ssh::ParseRecipientKeyError::RsaModulusTooLarge) => Err(Error::Recipient(
                    "the ssh-rsa recipient is longer than age supports (16384 bits)".into(),
                )),
                Err(ssh::ParseRecipientKeyError::Unsupported(t)) => Err(Error::Recipient(format!(
                    "{} keys cannot be age recipients (only ssh-ed25519 and ssh-rsa)",
                    quotable(&t)
                ))),
                Err(_) => Err(Error::Recipient(format!(
                    "invalid SSH recipient ({key_type} …): expected `ssh-ed25519 AAAA…` or \
                     `ssh-rsa AAAA…`, as in a .pub file"
                ))),
            };
        }
        Err(Error::Recipient(
            "unknown recipient type (expected an age public key, age1…, or an SSH public \
             key, ssh-ed25519 or ssh-rsa)"
                .into(),
        ))
    }

    /// Sends a plugin recipient's messages and questions to `prompt` (no effect on
    /// other kinds).
    pub fn with_prompt(mut self, prompt: SharedPrompt) -> Self {
        self.set_prompt(prompt);
        self
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

    fn set_prompt(&mut self, prompt: SharedPrompt) {
        if let RecipientKey::Plugin { prompt: p, .. } = &mut self.key {
            *p = prompt;
        }
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
    let failed = |why: String| {
        Error::Recipient(format!(
            "cannot encrypt the data key to {}: {why}",
            recipient.text
        ))
    };
    match &recipient.key {
        RecipientKey::X25519(key) => {
            age::encrypt_and_armor(key, data_key).map_err(|e| failed(e.to_string()))
        }
        RecipientKey::Ssh(key) => {
            age::encrypt_and_armor(key, data_key).map_err(|e| failed(e.to_string()))
        }
        RecipientKey::Plugin {
            recipient: key,
            prompt,
        } => {
            let binary = format!("age-plugin-{}", key.plugin());
            let ui = PluginUi::new(prompt.clone(), binary.clone());
            let plugin = age::plugin::RecipientPluginV1::new(
                key.plugin(),
                std::slice::from_ref(key),
                &[],
                ui.clone(),
            )
            .map_err(|_| failed(format!("the plugin {binary} was not found on PATH")))?;
            age::encrypt_and_armor(&plugin, data_key).map_err(|e| {
                // A failed question says more than the plugin's own error.
                failed(
                    ui.take_failure()
                        .unwrap_or_else(|| format!("{binary}: {e}")),
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_vectors;
    use crate::keys::identity::{unwrap, Identities};
    use crate::keys::testutil::*;
    use std::process::Command;

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
    fn recipient_kinds_and_unsupported_ones_are_named() {
        let msg = |s: &str| parse_recipients(s).unwrap_err().to_string();
        // SSH and plugin recipients parse; the stored text is the user's whole line.
        let ssh = std::fs::read_to_string(test_vectors::path("keys/ssh_ed25519.pub")).unwrap();
        let r = &parse_recipients(&ssh).unwrap()[0];
        assert_eq!(r.as_str(), ssh.trim());
        assert!(r.as_str().ends_with("sealant-test-only"));
        let plugin = "age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t";
        assert_eq!(parse_recipients(plugin).unwrap()[0].as_str(), plugin);
        let m = msg("age1yubikey1qqqq");
        assert!(m.contains("invalid age plugin recipient"), "{m}");

        let m = msg("age1pq1abcdef");
        assert!(
            m.contains("post-quantum") && m.contains("not supported"),
            "{m}"
        );
        let m = msg("age1notbech32");
        assert!(m.contains("invalid age recipient"), "{m}");
        let m = msg("ssh-dss AAAAB3NzaC1kc3MAAACBAP");
        assert!(
            m.contains("invalid SSH recipient") && m.contains("ssh-dss"),
            "{m}"
        );
        assert!(!m.contains("AAAAB3"), "{m}");
        // Unknown shapes and secret keys are never echoed back.
        let m = msg("hunter2");
        assert!(
            m.contains("unknown recipient type") && !m.contains("hunter2"),
            "{m}"
        );
        let secret = "AGE-SECRET-KEY-1PSKLE9KA85MFU7WRVC0FTHVUCJKLEXHRVK7N9A3UN3E26VLZ0MJQGSC2Q7";
        let m = msg(secret);
        assert!(m.contains("SECRET key") && !m.contains("PSKLE9"), "{m}");
        let ssh_secret = std::fs::read_to_string(test_vectors::path("keys/ssh_ed25519")).unwrap();
        let m = msg(&ssh_secret);
        assert!(m.contains("PRIVATE key") && !m.contains("b3BlbnNza"), "{m}");
        // sops is case-sensitive about the prefix.
        assert!(msg(&pubkey(1).to_uppercase()).contains("unknown recipient type"));
        // One bad entry fails the list.
        assert!(parse_recipients(&format!("{},ssh-ed25519 AAAA", pubkey(1))).is_err());
    }

    #[test]
    fn wraps_to_ssh_recipients_for_their_identities() {
        for (public, private) in [
            ("keys/ssh_ed25519.pub", "keys/ssh_ed25519"),
            ("../keys/ssh_rsa.pub", "../keys/ssh_rsa"),
        ] {
            let text = std::fs::read_to_string(test_vectors::path(public)).unwrap();
            let r = &parse_recipients(&text).unwrap()[0];
            let key = [7u8; 32];
            let env = r.wrap(&key).unwrap();
            let mut ids = Identities::new();
            let path = test_vectors::path(private);
            ids.add_ssh_key(&path.display().to_string(), &std::fs::read(&path).unwrap())
                .unwrap();
            assert_eq!(&unwrap(&env, &ids).unwrap().unwrap()[..], &key, "{public}");
            assert!(unwrap(&env, &identities_from(&["keys/age1.txt"]))
                .unwrap()
                .is_none());
        }
    }

    #[test]
    fn a_missing_plugin_is_named_when_wrapping() {
        let r = parse_recipients(MISSING_PLUGIN_RECIPIENT).unwrap();
        let err = r[0].wrap(&[1u8; 32]).unwrap_err().to_string();
        assert!(
            err.contains("age-plugin-sealantmissing") && err.contains("not found on PATH"),
            "{err}"
        );
    }
}
