//! age identities (decryption), spec §8.2: native X25519 keys, SSH keys (`ssh-ed25519`,
//! `ssh-rsa`, plain or passphrase-protected), age plugin identities (`AGE-PLUGIN-…`,
//! run through `age-plugin-NAME`), and passphrase-protected identity files.
//!
//! Anything that needs the user (a passphrase, a plugin) is *interactive*: it is tried
//! only after every plain identity failed, asks only then, and a failure of it (no
//! terminal, wrong passphrase, missing or failing plugin) is noted and the remaining
//! identities are still tried.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::str::FromStr;
use std::sync::Mutex;

use age::armor::ArmoredReader;
use age::secrecy::SecretString;
use age::{ssh, x25519, DecryptError, Identity as _};
use age_core::format::{FileKey, Stanza};
use base64::prelude::{Engine, BASE64_STANDARD, BASE64_STANDARD_NO_PAD};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::prompt::{no_prompt, PluginUi, SharedPrompt};
use crate::error::{Error, Result};

const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";

/// sops caps identity sources, decrypted ones too, at 16 MiB.
pub(crate) const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// Go age's default ceiling for a passphrase's scrypt work factor (2^22).
const MAX_SCRYPT_WORK_FACTOR: u8 = 22;

/// One identity (or, for plugins, the identities one plugin handles) and where it came
/// from.
///
/// `Debug` shows the public side and the source, never the secret.
pub struct AgeIdentity {
    kind: Kind,
    public: String,
    source: String,
}

enum Kind {
    X25519(x25519::Identity),
    /// An SSH key with no passphrase.
    Ssh(Box<ssh::Identity>),
    /// An SSH key with a passphrase: asked for when a stanza names this key.
    SshLocked(Box<LockedSsh>),
    /// The identities of one plugin from one source, run through `age-plugin-NAME`.
    Plugin(Box<PluginIdentities>),
    /// A passphrase-protected identity file, opened on first use.
    Protected(Box<ProtectedFile>),
}

impl Kind {
    fn is_interactive(&self) -> bool {
        matches!(
            self,
            Kind::SshLocked(_) | Kind::Plugin(_) | Kind::Protected(_)
        )
    }
}

/// The state of something opened on first use. A failure is kept, so the user is asked
/// once per process, not once per envelope.
enum Unlock<T> {
    Locked,
    Open(T),
    Failed(String),
}

struct LockedSsh {
    key: ssh::Identity,
    /// `ssh-ed25519` or `ssh-rsa`: the stanza type for this key.
    key_type: String,
    /// The stanza tag (first 4 bytes of SHA-256 of the public key, base64).
    tag: String,
    path: String,
    prompt: SharedPrompt,
    state: Mutex<Unlock<ssh::Identity>>,
}

struct PluginIdentities {
    plugin: age::plugin::IdentityPluginV1<PluginUi>,
    ui: PluginUi,
    binary: String,
}

struct ProtectedFile {
    /// The age file (armored or binary); encrypted, so not itself secret.
    contents: Vec<u8>,
    source: String,
    prompt: SharedPrompt,
    state: Mutex<Unlock<Vec<AgeIdentity>>>,
}

impl AgeIdentity {
    /// The matching recipient (`age1…`, `ssh-ed25519 AAAA…`), or what the identity is
    /// where that is not known before use (plugins, protected files).
    pub fn recipient(&self) -> &str {
        &self.public
    }

    /// Where the identity was found (a variable name or a path).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Why this (interactive) identity failed, after it returned an error.
    fn explain(&self, e: &DecryptError) -> String {
        match &self.kind {
            Kind::SshLocked(k) => kept_failure(&k.state),
            Kind::Protected(p) => kept_failure(&p.state),
            Kind::Plugin(p) => Some(match p.ui.take_failure() {
                Some(why) => why,
                None => format!("{}: {}", p.binary, one_line(&e.to_string())),
            }),
            Kind::X25519(_) | Kind::Ssh(_) => None,
        }
        .unwrap_or_else(|| format!("{}: {}", self.source, one_line(&e.to_string())))
    }
}

fn kept_failure<T>(state: &Mutex<Unlock<T>>) -> Option<String> {
    match state.lock().as_deref() {
        Ok(Unlock::Failed(why)) => Some(why.clone()),
        _ => None,
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Debug for AgeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgeIdentity")
            .field("recipient", &self.public)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl age::Identity for AgeIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, DecryptError>> {
        match &self.kind {
            Kind::X25519(k) => k.unwrap_stanzas(stanzas),
            Kind::Ssh(k) => k.unwrap_stanzas(stanzas),
            Kind::SshLocked(k) => k.unwrap_stanzas(stanzas),
            Kind::Plugin(p) => p.plugin.unwrap_stanzas(stanzas),
            Kind::Protected(p) => p.unwrap_stanzas(stanzas),
        }
    }
}

impl LockedSsh {
    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, DecryptError>> {
        // Ask only when the envelope is for this key (as Go's agessh does).
        let ours = stanzas
            .iter()
            .any(|s| s.tag == self.key_type && s.args.first() == Some(&self.tag));
        if !ours {
            return None;
        }
        let mut state = self.state.lock().ok()?;
        if matches!(*state, Unlock::Locked) {
            *state = match self
                .prompt
                .secret(&format!("Enter passphrase for \"{}\":", self.path))
            {
                Err(why) => Unlock::Failed(passphrase_needed(&self.path, &why)),
                Ok(pass) => match &self.key {
                    ssh::Identity::Encrypted(k) => {
                        match k.decrypt(SecretString::from(pass.as_str())) {
                            Ok(open) => Unlock::Open(ssh::Identity::Unencrypted(open)),
                            Err(_) => Unlock::Failed(format!(
                                "{}: incorrect passphrase for the SSH key",
                                self.path
                            )),
                        }
                    }
                    _ => Unlock::Failed(format!("{}: not an encrypted SSH key", self.path)),
                },
            };
        }
        match &*state {
            Unlock::Open(id) => id.unwrap_stanzas(stanzas),
            _ => Some(Err(DecryptError::KeyDecryptionFailed)),
        }
    }
}

fn passphrase_needed(what: &str, why: &str) -> String {
    format!(
        "{what} is passphrase-protected: a passphrase is needed to use it, but it cannot be \
         asked for: {why}"
    )
}

impl ProtectedFile {
    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, DecryptError>> {
        let mut state = self.state.lock().ok()?;
        if matches!(*state, Unlock::Locked) {
            *state = match self
                .prompt
                .secret(&format!("Enter passphrase for identity '{}':", self.source))
            {
                Err(why) => Unlock::Failed(passphrase_needed(&self.source, &why)),
                Ok(pass) => match self.open(pass) {
                    Ok(ids) => Unlock::Open(ids),
                    Err(why) => Unlock::Failed(why),
                },
            };
        }
        match &*state {
            Unlock::Open(ids) => ids.iter().find_map(|i| i.unwrap_stanzas(stanzas)),
            _ => Some(Err(DecryptError::KeyDecryptionFailed)),
        }
    }

    /// Decrypts the file with the passphrase and parses what it holds: native identities
    /// only, as in sops (Go age's `ParseIdentities`).
    fn open(&self, pass: Zeroizing<String>) -> std::result::Result<Vec<AgeIdentity>, String> {
        let source = &self.source;
        let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(&self.contents[..]))
            .map_err(|e| format!("{source}: not a readable age file ({e})"))?;
        let mut scrypt = age::scrypt::Identity::new(SecretString::from(pass.as_str()));
        scrypt.set_max_work_factor(MAX_SCRYPT_WORK_FACTOR);
        let mut reader = decryptor
            .decrypt(std::iter::once(&scrypt as &dyn age::Identity))
            .map_err(|e| match e {
                DecryptError::ExcessiveWork { required, .. } => format!(
                    "{source}: the passphrase's work factor (2^{required}) is above the limit \
                     (2^{MAX_SCRYPT_WORK_FACTOR})"
                ),
                DecryptError::DecryptionFailed
                | DecryptError::NoMatchingKeys
                | DecryptError::KeyDecryptionFailed => format!("{source}: incorrect passphrase"),
                e => format!("{source}: cannot decrypt ({})", one_line(&e.to_string())),
            })?;
        let mut bytes = Zeroizing::new(Vec::new());
        (&mut reader)
            .take(MAX_SOURCE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{source}: the file is corrupted ({e})"))?;
        if bytes.len() as u64 > MAX_SOURCE_BYTES {
            return Err(format!("{source}: decrypted, it is larger than 16 MiB"));
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| format!("{source}: decrypted, it is not UTF-8 text"))?;
        let inner = format!("{source} (decrypted)");
        let mut ids = Identities::new();
        ids.parse_text(&inner, text, Nesting::Inside)
            .map_err(|e| e.to_string())?;
        Ok(ids.ids)
    }
}

/// Wraps an interactive identity so that its failure is noted and the next identity is
/// tried, instead of ending the decryption.
struct Tolerant<'a> {
    id: &'a AgeIdentity,
    failures: &'a RefCell<Vec<String>>,
}

impl age::Identity for Tolerant<'_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, DecryptError>> {
        match self.id.unwrap_stanzas(stanzas) {
            Some(Err(e)) => {
                let why = self.id.explain(&e);
                let mut failures = self.failures.borrow_mut();
                if !failures.contains(&why) {
                    failures.push(why);
                }
                None
            }
            other => other,
        }
    }
}

/// Where identity text is parsed: a source, or inside a passphrase-protected file (no
/// plugins and no further protection there, as in sops).
#[derive(Clone, Copy, PartialEq)]
enum Nesting {
    Top,
    Inside,
}

/// All identities found, plus where they were looked for and what went wrong there.
pub struct Identities {
    ids: Vec<AgeIdentity>,
    looked_in: Vec<String>,
    notes: Vec<String>,
    prompt: SharedPrompt,
}

impl Default for Identities {
    fn default() -> Self {
        Identities {
            ids: Vec::new(),
            looked_in: Vec::new(),
            notes: Vec::new(),
            prompt: no_prompt(),
        }
    }
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("ids", &self.ids)
            .field("looked_in", &self.looked_in)
            .field("notes", &self.notes)
            .finish_non_exhaustive()
    }
}

impl Identities {
    /// No identities, nothing looked at; nothing can be asked of the user.
    pub fn new() -> Self {
        Self::default()
    }

    /// No identities yet; passphrases and plugin questions go to `prompt`.
    pub fn with_prompt(prompt: SharedPrompt) -> Self {
        Identities {
            prompt,
            ..Self::default()
        }
    }

    /// Records that `source` (a variable name or a path, never contents) was consulted.
    pub fn note_looked_in(&mut self, source: impl Into<String>) {
        self.looked_in.push(source.into());
    }

    /// Records a problem with a source that did not stop the others from loading (shown
    /// if no identity can decrypt). Never a secret.
    pub fn note(&mut self, problem: impl Into<String>) {
        self.notes.push(problem.into());
    }

    /// Adds what an identity source holds (a file's or a command's bytes): an
    /// age-encrypted (passphrase-protected) identity file, binary or armored, or identity
    /// text ([`add_text`](Self::add_text)).
    pub fn add_source(&mut self, source: &str, bytes: &[u8]) -> Result<()> {
        if bytes.starts_with(b"age-encryption") {
            return self.add_protected(source, bytes);
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::NoKey(format!("{source}: not UTF-8 text")))?;
        self.add_text(source, text)
    }

    /// Parses identity text from `source` and adds what it holds (spec §8.2 format):
    /// one identity per line; blank lines and `#` lines are skipped; surrounding
    /// whitespace (and a `\r`) is ignored.
    ///
    /// * `AGE-SECRET-KEY-1…`: an X25519 identity.
    /// * `AGE-PLUGIN-NAME-1…`: a plugin identity, used through `age-plugin-name` on
    ///   `PATH`. A plugin that is not installed is noted, and its identities skipped.
    /// * `AGE-SECRET-KEY-PQ-1…`: recognised but not supported; skipped and noted.
    /// * Text starting with an age header (`-----BEGIN AGE ENCRYPTED FILE-----`): a
    ///   passphrase-protected identity file, decrypted when first needed.
    /// * Anything else fails the whole source. The error names `source` and the line
    ///   number, never the line.
    pub fn add_text(&mut self, source: &str, text: &str) -> Result<()> {
        self.parse_text(source, text, Nesting::Top)
    }

    fn parse_text(&mut self, source: &str, text: &str, nesting: Nesting) -> Result<()> {
        let head = text.trim_start();
        if head.starts_with("age-encryption.org/") || head.starts_with("-----BEGIN AGE") {
            if nesting == Nesting::Inside {
                return Err(Error::NoKey(format!(
                    "{source} is itself age-encrypted; an identity file is protected once"
                )));
            }
            return self.add_protected(source, head.as_bytes());
        }
        let mut found = Vec::new();
        let mut plugins: BTreeMap<String, Vec<age::plugin::Identity>> = BTreeMap::new();
        let mut pq = 0usize;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what: &str| Error::NoKey(format!("{source}: line {} {what}", n + 1));
            if line.starts_with("AGE-PLUGIN-") {
                if nesting == Nesting::Inside {
                    return Err(bad(
                        "is a plugin identity, which sops does not read inside a \
                         passphrase-protected file",
                    ));
                }
                let id = age::plugin::Identity::from_str(line)
                    .map_err(|_| bad("is not a valid age plugin identity (bad encoding)"))?;
                plugins.entry(id.plugin().to_owned()).or_default().push(id);
            } else if line.starts_with("AGE-SECRET-KEY-PQ-") {
                pq += 1;
            } else if line.starts_with("AGE-SECRET-KEY-1") {
                let key = x25519::Identity::from_str(line).map_err(|_| {
                    bad("is not a valid age identity (bad AGE-SECRET-KEY-1… encoding)")
                })?;
                let public = key.to_public().to_string();
                found.push(AgeIdentity {
                    kind: Kind::X25519(key),
                    public,
                    source: source.to_owned(),
                });
            } else {
                return Err(bad(
                    "is not an age identity (expected AGE-SECRET-KEY-1…, AGE-PLUGIN-…, a \
                     comment or a blank line)",
                ));
            }
        }
        if pq > 0 {
            self.notes.push(format!(
                "{source}: {pq} post-quantum identit{} skipped: sealant cannot use them yet",
                if pq == 1 { "y" } else { "ies" }
            ));
        }
        self.ids.extend(found);
        for (name, ids) in plugins {
            self.add_plugin(source, &name, &ids);
        }
        Ok(())
    }

    fn add_plugin(&mut self, source: &str, name: &str, ids: &[age::plugin::Identity]) {
        let binary = format!("age-plugin-{name}");
        let ui = PluginUi::new(self.prompt.clone(), binary.clone());
        let count = match ids.len() {
            1 => "1 identity".to_string(),
            n => format!("{n} identities"),
        };
        match age::plugin::IdentityPluginV1::new(name, ids, ui.clone()) {
            Ok(plugin) => self.ids.push(AgeIdentity {
                kind: Kind::Plugin(Box::new(PluginIdentities {
                    plugin,
                    ui,
                    binary: binary.clone(),
                })),
                public: format!("{binary} ({count})"),
                source: source.to_owned(),
            }),
            Err(age::plugin::ResolveError::MissingPlugin { .. }) => self.notes.push(format!(
                "{source}: {count} for the age plugin {binary} skipped: {binary} was not \
                 found on PATH"
            )),
            Err(_) => self.notes.push(format!(
                "{source}: {count} skipped: {binary} is not a valid plugin name"
            )),
        }
    }

    /// A passphrase-protected identity file: checked now (it must be an age file
    /// encrypted to a passphrase), decrypted when first needed.
    fn add_protected(&mut self, source: &str, bytes: &[u8]) -> Result<()> {
        let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(bytes)).map_err(|e| {
            Error::NoKey(format!(
                "{source}: looks age-encrypted but cannot be read ({})",
                one_line(&e.to_string())
            ))
        })?;
        if !decryptor.is_scrypt() {
            return Err(Error::NoKey(format!(
                "{source} is age-encrypted, but not with a passphrase; sops and sealant read \
                 identity files protected with `age -p`"
            )));
        }
        self.ids.push(AgeIdentity {
            kind: Kind::Protected(Box::new(ProtectedFile {
                contents: bytes.to_vec(),
                source: source.to_owned(),
                prompt: self.prompt.clone(),
                state: Mutex::new(Unlock::Locked),
            })),
            public: "(passphrase-protected identity file)".into(),
            source: source.to_owned(),
        });
        Ok(())
    }

    /// Adds an OpenSSH private key (`ssh-ed25519` or `ssh-rsa`, as `ssh-keygen` writes
    /// them) read from `path`. A key with a passphrase asks for it only when an envelope
    /// is for that key.
    pub fn add_ssh_key(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        let malformed = || {
            Error::NoKey(format!(
                "{path}: not an OpenSSH private key sealant can read (ssh-ed25519 or ssh-rsa)"
            ))
        };
        let key =
            ssh::Identity::from_buffer(bytes, Some(path.to_owned())).map_err(|_| malformed())?;
        let unsupported = |what: &str| Err(Error::NoKey(format!("{path}: {what}")));
        match &key {
            ssh::Identity::Unsupported(ssh::UnsupportedKey::EncryptedPem) => {
                return unsupported(
                    "a passphrase-protected key in the old PEM format, which sealant cannot \
                     read; convert it with `ssh-keygen -p -f KEY` (it rewrites the key in the \
                     OpenSSH format)",
                )
            }
            ssh::Identity::Unsupported(ssh::UnsupportedKey::EncryptedSsh(cipher)) => {
                return unsupported(&format!(
                    "the key is encrypted with the cipher {cipher}, which sealant cannot decrypt"
                ))
            }
            ssh::Identity::Unsupported(
                ssh::UnsupportedKey::Hardware(t) | ssh::UnsupportedKey::Type(t),
            ) => {
                return unsupported(&format!(
                    "{t} keys cannot be age identities (only ssh-ed25519 and ssh-rsa)"
                ))
            }
            _ => {}
        }
        let public = ssh::Recipient::try_from(key.clone())
            .map_err(|_| malformed())?
            .to_string();
        let kind = match key {
            ssh::Identity::Unencrypted(_) => Kind::Ssh(Box::new(key)),
            ssh::Identity::Encrypted(_) => {
                let (key_type, tag) = ssh_stanza_tag(&public).ok_or_else(malformed)?;
                Kind::SshLocked(Box::new(LockedSsh {
                    key,
                    key_type,
                    tag,
                    path: path.to_owned(),
                    prompt: self.prompt.clone(),
                    state: Mutex::new(Unlock::Locked),
                }))
            }
            _ => return Err(malformed()),
        };
        self.ids.push(AgeIdentity {
            kind,
            public,
            source: path.to_owned(),
        });
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

    /// Problems met while loading that did not stop the load (a source that could not
    /// be read, identities skipped as unsupported or for a missing plugin).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Unwraps an envelope with these identities; see [`unwrap`].
    pub fn unwrap(&self, envelope: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        unwrap(envelope, self)
    }
}

/// The stanza type and tag of an SSH public key given as `ssh-TYPE BASE64`.
fn ssh_stanza_tag(public: &str) -> Option<(String, String)> {
    let mut words = public.split_whitespace();
    let key_type = words.next()?.to_owned();
    let blob = BASE64_STANDARD.decode(words.next()?).ok()?;
    let digest = Sha256::digest(&blob);
    Some((key_type, BASE64_STANDARD_NO_PAD.encode(&digest[..4])))
}

/// Decrypts an armored age envelope (an `enc` field) with `identities`.
///
/// * `Ok(Some(bytes))`: one identity matched; `bytes` is the data key or share.
/// * `Ok(None)`: the envelope is fine but none of the identities is a recipient of it.
/// * `Err(Error::NoKey)`: none matched, and an interactive identity failed (no terminal
///   for a passphrase, a plugin error); the message says which and why.
/// * `Err(Error::Metadata)`: the envelope is malformed (not armored, bad base64, bad
///   header, corrupted payload).
///
/// Plain identities are tried first; interactive ones (which may ask the user) only if
/// none of those matched.
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
    let failures = RefCell::new(Vec::new());
    let tolerant: Vec<Tolerant> = identities
        .ids
        .iter()
        .filter(|i| i.kind.is_interactive())
        .map(|id| Tolerant {
            id,
            failures: &failures,
        })
        .collect();
    let plain = identities
        .ids
        .iter()
        .filter(|i| !i.kind.is_interactive())
        .map(|i| i as &dyn age::Identity);
    let all = plain.chain(tolerant.iter().map(|t| t as &dyn age::Identity));
    match decryptor.decrypt(all) {
        Ok(mut reader) => {
            let mut out = Zeroizing::new(Vec::with_capacity(33));
            reader
                .read_to_end(&mut out)
                .map_err(|e| malformed(format!("the payload is corrupted ({e})")))?;
            Ok(Some(out))
        }
        Err(DecryptError::NoMatchingKeys) => {
            let failures = failures.into_inner();
            if failures.is_empty() {
                Ok(None)
            } else {
                Err(Error::NoKey(failures.join("; ")))
            }
        }
        Err(e) => Err(malformed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_vectors;
    use crate::keys::testutil::*;
    use crate::keys::{parse_recipients, MasterKey, SharedPrompt};
    use std::sync::Arc;

    const PASS: &str = "correct horse battery staple";

    fn key_text(n: u8) -> String {
        std::fs::read_to_string(test_vectors::path(&format!("keys/age{n}.txt"))).unwrap()
    }

    /// `text` encrypted with a passphrase, as `age -p` does (a low work factor: fast).
    fn protected(text: &str, pass: &str, armor: bool) -> Vec<u8> {
        let mut r = age::scrypt::Recipient::new(SecretString::from(pass));
        r.set_work_factor(10);
        if armor {
            age::encrypt_and_armor(&r, text.as_bytes())
                .unwrap()
                .into_bytes()
        } else {
            age::encrypt(&r, text.as_bytes()).unwrap()
        }
    }

    fn simple_envelope() -> String {
        yaml_envelopes("enc/simple.yaml").remove(0)
    }

    fn with(prompt: &Arc<Scripted>) -> Identities {
        Identities::with_prompt(prompt.clone() as SharedPrompt)
    }

    #[test]
    fn identity_text_with_comments_and_several_keys() {
        let mut text = String::from("\n# my keys\n\n");
        for n in 1..=3 {
            text.push_str(&key_text(n));
            text.push_str("   \r\n");
        }
        text.push_str(MISSING_PLUGIN_IDENTITY);
        text.push_str("\nAGE-SECRET-KEY-PQ-1QQQQ\n");
        let mut ids = Identities::new();
        ids.add_text("keys.txt", &text).unwrap();
        let recipients: Vec<&str> = ids.iter().map(AgeIdentity::recipient).collect();
        assert_eq!(recipients, [pubkey(1), pubkey(2), pubkey(3)]);
        assert!(ids.iter().all(|i| i.source() == "keys.txt"));
        let notes = ids.notes().join("\n");
        assert_eq!(ids.notes().len(), 2, "{notes}");
        assert!(
            notes.contains("age-plugin-sealantmissing was not found on PATH"),
            "{notes}"
        );
        assert!(notes.contains("post-quantum"), "{notes}");
        assert!(!notes.contains(MISSING_PLUGIN_IDENTITY), "{notes}");
        // Debug shows public keys only.
        let shown = format!("{ids:?}");
        assert!(!shown.contains("AGE-SECRET-KEY"), "{shown}");
        assert!(shown.contains(&pubkey(2)));
    }

    #[test]
    fn bad_identity_line_names_source_and_line_not_content() {
        let good = key_text(1);
        let text = format!("{good}\nhunter2-is-my-password\n");
        let mut ids = Identities::new();
        let err = ids.add_text("SOPS_AGE_KEY", &text).unwrap_err().to_string();
        let line_no = good.lines().count() + 2;
        assert!(err.contains("SOPS_AGE_KEY"), "{err}");
        assert!(err.contains(&format!("line {line_no}")), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(ids.is_empty(), "a failed source adds nothing");

        // Malformed secret keys are not echoed either.
        let bad_key = "AGE-SECRET-KEY-1PSKLE9KA85MFU7WRVC0FTHVUCJKLEXHRVK7N9A3UN3E26VLZ0MJQGSC2Q8";
        let err = ids.add_text("f", bad_key).unwrap_err().to_string();
        assert!(err.contains("line 1") && !err.contains("PSKLE9"), "{err}");
        let err = ids
            .add_text("f", "AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQ")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1") && err.contains("plugin"), "{err}");
        assert!(!err.contains("QQQQ"), "{err}");

        // Age-encrypted text that is not an age file, or not passphrase-protected.
        let err = ids
            .add_text(
                "SOPS_AGE_KEY_FILE",
                "-----BEGIN AGE ENCRYPTED FILE-----\nxyz\n",
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot be read"), "{err}");
        let to_x25519 = parse_recipients(&pubkey(1)).unwrap()[0]
            .wrap(key_text(2).as_bytes())
            .unwrap();
        let err = ids.add_text("k", &to_x25519).unwrap_err().to_string();
        assert!(err.contains("not with a passphrase"), "{err}");
        assert!(ids.is_empty());
    }

    #[test]
    fn protected_identity_file_asks_once_and_only_when_needed() {
        let env = simple_envelope();
        for armor in [true, false] {
            let prompt = Scripted::answering(&[Ok(PASS)]);
            let mut ids = with(&prompt);
            ids.add_source(
                "$SOPS_AGE_KEY_FILE (k.age)",
                &protected(&key_text(1), PASS, armor),
            )
            .unwrap();
            assert!(prompt.asked().is_empty(), "nothing asked before use");
            assert!(ids.unwrap(&env).unwrap().is_some());
            assert!(ids.unwrap(&env).unwrap().is_some());
            assert_eq!(
                prompt.asked(),
                ["Enter passphrase for identity '$SOPS_AGE_KEY_FILE (k.age)':"]
            );
        }

        // A plain identity that opens the envelope: the protected file is never opened.
        let prompt = Scripted::answering(&[Ok(PASS)]);
        let mut ids = with(&prompt);
        ids.add_source("k.age", &protected(&key_text(1), PASS, true))
            .unwrap();
        ids.add_text("plain", &key_text(1)).unwrap();
        assert!(ids.unwrap(&env).unwrap().is_some());
        assert!(prompt.asked().is_empty());

        // It holds another key: asked, and then no match.
        let prompt = Scripted::answering(&[Ok(PASS)]);
        let mut ids = with(&prompt);
        ids.add_source("k.age", &protected(&key_text(2), PASS, true))
            .unwrap();
        assert!(ids.unwrap(&env).unwrap().is_none());
        assert_eq!(prompt.asked().len(), 1);
    }

    #[test]
    fn protected_identity_file_without_a_terminal_or_with_a_wrong_passphrase() {
        let env = simple_envelope();
        let secret = key_text(1);
        let cases = [
            (
                Err("there is no terminal to ask on"),
                "a passphrase is needed",
            ),
            (Ok("wrong"), "incorrect passphrase"),
        ];
        for (answer, expected) in cases {
            let prompt = Scripted::answering(&[answer]);
            let mut ids = with(&prompt);
            ids.add_source(
                "$SOPS_AGE_KEY_FILE (k.age)",
                &protected(&secret, PASS, true),
            )
            .unwrap();
            for _ in 0..2 {
                let err = ids.unwrap(&env).unwrap_err();
                assert_eq!(err.exit_code(), 128);
                let err = err.to_string();
                assert!(err.contains("$SOPS_AGE_KEY_FILE (k.age)"), "{err}");
                assert!(err.contains(expected), "{err}");
                assert!(
                    !err.contains("AGE-SECRET-KEY") && !err.contains(PASS),
                    "{err}"
                );
            }
            assert_eq!(prompt.asked().len(), 1, "asked once per process");
        }
        // Other identities are still tried.
        let prompt = Scripted::answering(&[Err("no terminal")]);
        let mut ids = with(&prompt);
        ids.add_source("k.age", &protected(&secret, PASS, true))
            .unwrap();
        let other = yaml_envelopes("enc/two_recipients.yaml");
        ids.add_text("plain", &key_text(2)).unwrap();
        let results: Vec<_> = other.iter().map(|e| ids.unwrap(e)).collect();
        assert!(results.iter().any(|r| matches!(r, Ok(Some(_)))));
        assert!(
            results.iter().any(|r| r.is_err()),
            "the age1 envelope names the failure"
        );
    }

    fn ssh_key(ids: &mut Identities, rel: &str) -> String {
        let path = test_vectors::path(rel);
        ids.add_ssh_key(&path.display().to_string(), &std::fs::read(&path).unwrap())
            .unwrap();
        path.display().to_string()
    }

    #[test]
    fn ssh_identities_decrypt_the_sops_vector() {
        let mut ids = Identities::new();
        ssh_key(&mut ids, "keys/ssh_ed25519");
        let public = std::fs::read_to_string(test_vectors::path("keys/ssh_ed25519.pub")).unwrap();
        let id = ids.iter().next().unwrap();
        assert!(public.starts_with(id.recipient()), "{}", id.recipient());
        let env = yaml_envelopes("enc/ssh_recipient.yaml").remove(0);
        let key = ids.unwrap(&env).unwrap().unwrap();
        assert_eq!(
            hex::encode(&key[..]),
            test_vectors::data_key("enc/ssh_recipient.yaml")
        );
        assert!(ids.unwrap(&simple_envelope()).unwrap().is_none());
        assert!(!format!("{ids:?}").contains("OPENSSH"));
    }

    #[test]
    fn protected_ssh_key_asks_only_for_its_own_envelopes() {
        let public =
            std::fs::read_to_string(test_vectors::path("../keys/ssh_ed25519_pass.pub")).unwrap();
        let data_key = [9u8; 32];
        let env = parse_recipients(&public).unwrap()[0]
            .wrap(&data_key)
            .unwrap();
        let pass = "sealant-test-only-passphrase";

        let prompt = Scripted::answering(&[Ok(pass)]);
        let mut ids = with(&prompt);
        let path = ssh_key(&mut ids, "../keys/ssh_ed25519_pass");
        assert!(public.starts_with(ids.iter().next().unwrap().recipient()));
        // An envelope for another key: not asked.
        assert!(ids.unwrap(&simple_envelope()).unwrap().is_none());
        assert!(prompt.asked().is_empty());
        assert_eq!(&ids.unwrap(&env).unwrap().unwrap()[..], &data_key);
        assert_eq!(&ids.unwrap(&env).unwrap().unwrap()[..], &data_key);
        assert_eq!(
            prompt.asked(),
            [format!("Enter passphrase for \"{path}\":")]
        );

        for (answer, expected) in [
            (
                Err("there is no terminal to ask on"),
                "a passphrase is needed",
            ),
            (Ok("wrong"), "incorrect passphrase"),
        ] {
            let prompt = Scripted::answering(&[answer]);
            let mut ids = with(&prompt);
            ssh_key(&mut ids, "../keys/ssh_ed25519_pass");
            ids.add_text("plain", &key_text(1)).unwrap();
            let err = ids.unwrap(&env).unwrap_err().to_string();
            assert!(err.contains(&path) && err.contains(expected), "{err}");
            assert!(!err.contains(pass), "{err}");
            // The plain identity still works for its envelope.
            assert!(ids.unwrap(&simple_envelope()).unwrap().is_some());
            assert_eq!(prompt.asked().len(), 1);
        }
    }

    #[test]
    fn unreadable_ssh_keys_are_named() {
        let mut ids = Identities::new();
        let err = ids
            .add_ssh_key("/k/id_ed25519", b"hunter2 not a key")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/k/id_ed25519") && !err.contains("hunter2"),
            "{err}"
        );
        let ecdsa = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS\n-----END OPENSSH PRIVATE KEY-----\n";
        assert!(ids.add_ssh_key("/k/id_ecdsa", ecdsa.as_bytes()).is_err());
        assert!(ids.is_empty());
    }

    /// Puts the TEST-ONLY plugin (tests/plugin) on this test process's PATH, where the age
    /// crate looks for plugins. Only prepends, so other tests are not affected.
    fn plugin_on_path() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plugin");
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut dirs = vec![dir];
            dirs.extend(std::env::split_paths(&path));
            std::env::set_var("PATH", std::env::join_paths(dirs).unwrap());
        });
    }

    fn plugin_key(ext: &str) -> String {
        std::fs::read_to_string(test_vectors::path(&format!(
            "../keys/plugin_sealanttest.{ext}"
        )))
        .unwrap()
    }

    /// One test for every plugin case: the plugin reads its knobs from the environment,
    /// which tests running in parallel would share.
    #[test]
    fn plugin_identities_run_the_plugin_and_its_questions_go_to_the_prompt() {
        plugin_on_path();
        let data_key = [3u8; 32];
        let prompt = Scripted::answering(&[]);
        let recipient = parse_recipients(&plugin_key("pub")).unwrap().remove(0);
        let env = recipient
            .with_prompt(prompt.clone() as SharedPrompt)
            .wrap(&data_key)
            .unwrap();
        assert!(env.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));

        let load = |prompt: &Arc<Scripted>| {
            let mut ids = with(prompt);
            ids.add_text("keys.txt", &plugin_key("txt")).unwrap();
            assert!(ids.notes().is_empty(), "{:?}", ids.notes());
            ids
        };
        let ids = load(&prompt);
        assert_eq!(
            ids.iter().next().unwrap().recipient(),
            "age-plugin-sealanttest (1 identity)"
        );
        assert_eq!(&ids.unwrap(&env).unwrap().unwrap()[..], &data_key);
        // Not its envelope: the plugin finds no stanza of its own.
        assert!(ids.unwrap(&simple_envelope()).unwrap().is_none());

        std::env::set_var("SEALANTTEST_PIN", "4321");
        std::env::set_var("SEALANTTEST_MSG", "touch the test key");
        let prompt = Scripted::answering(&[Ok("4321")]);
        let got = load(&prompt).unwrap(&env);
        let no_terminal = Scripted::answering(&[Err("there is no terminal to ask on")]);
        let mut ids = load(&no_terminal);
        ids.add_text("plain", &key_text(1)).unwrap();
        let failed = ids.unwrap(&env);
        let plain_still_works = ids.unwrap(&simple_envelope());
        std::env::remove_var("SEALANTTEST_PIN");
        std::env::remove_var("SEALANTTEST_MSG");

        assert_eq!(&got.unwrap().unwrap()[..], &data_key);
        assert_eq!(
            prompt.asked(),
            ["age-plugin-sealanttest: Enter the sealanttest PIN:"]
        );
        assert_eq!(
            prompt.messages(),
            ["age-plugin-sealanttest: touch the test key"]
        );
        let err = failed.unwrap_err().to_string();
        assert!(
            err.contains("age-plugin-sealanttest asked for a secret")
                && err.contains("no terminal"),
            "{err}"
        );
        assert!(plain_still_works.unwrap().is_some());
    }
}
