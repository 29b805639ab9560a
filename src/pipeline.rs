//! Open, transform, write: the path every command takes through the library.
//!
//! `encrypt` and `decrypt` take text and return text; they read no environment, no
//! terminal and no files (the CLI passes identities, recipients and the clock in).

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::crypto::cipher::ValueCipher;
use crate::crypto::datakey::DataKey;
use crate::crypto::{mac, shamir, timestamp};
use crate::engine::{self, NoSplice, Rules, Warning};
use crate::error::{Error, Result};
use crate::keys::{Identities, MasterKey};
use crate::metadata::{AgeKey, KeyGroup, Metadata, Selection, SOPS_VERSION};
use crate::store::hints::{self, LayoutHints};
use crate::store::{self, Format, TextSplice};
use crate::tree::same_documents;
use crate::treepath::{self, Step};

/// The identities at hand, to unwrap data keys.
pub trait KeyRing {
    /// Unwraps an age envelope: `None` if no identity here matches it.
    fn unwrap_age(&self, enc: &str) -> Result<Option<Zeroizing<Vec<u8>>>>;
    /// Where identities were looked for (names and paths, never contents).
    fn looked_in(&self) -> Vec<String>;
}

impl KeyRing for Identities {
    fn unwrap_age(&self, enc: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.unwrap(enc)
    }
    fn looked_in(&self) -> Vec<String> {
        Identities::looked_in(self).to_vec()
    }
}

/// What to encrypt for, and how.
pub struct EncryptOptions<'a> {
    /// The key groups (spec §7). With one group, every key in it wraps the whole data
    /// key; with two or more, group `i` gets Shamir share `i` and every key in it wraps
    /// that share.
    pub key_groups: &'a [Vec<Box<dyn MasterKey>>],
    /// Shares needed to recover the data key when there are several groups; 0 means
    /// all of them. Written to the metadata when not 0, even with one group (as sops).
    pub shamir_threshold: usize,
    pub selection: Option<Selection>,
    pub mac_only_encrypted: bool,
    pub output: Format,
    pub now: OffsetDateTime,
    /// The caller exits right after: skip freeing the parsed tree (a quarter of the work
    /// on big files). Freeing would not wipe the values anyway.
    pub fast_exit: bool,
}

/// What to decrypt, and how.
pub struct DecryptOptions<'a> {
    pub keys: &'a dyn KeyRing,
    pub ignore_mac: bool,
    pub output: Format,
    pub extract: Option<Vec<Step>>,
    /// See [`EncryptOptions::fast_exit`].
    pub fast_exit: bool,
}

/// The result of a decryption: the text, and comments that could not be decrypted.
pub struct Decrypted {
    pub text: String,
    pub warnings: Vec<Warning>,
}

/// Encrypts a clear file.
pub fn encrypt(text: &str, input: Format, file: &str, opts: &EncryptOptions) -> Result<String> {
    let (mut parsed, layout) = store::parse(input, text, file)?;
    if parsed.metadata.is_some() {
        return Err(Error::AlreadyEncrypted);
    }
    let threshold = check_key_groups(opts.key_groups, opts.shamir_threshold)?;
    let data_key = DataKey::generate();
    let cipher = ValueCipher::new(&data_key);
    let selection = opts
        .selection
        .clone()
        .unwrap_or_else(Rules::default_selection);
    let rules = Rules::new(selection.clone(), opts.mac_only_encrypted)?;

    // Splice into the user's text when the output format is the input's and the layout
    // allows it; otherwise the walk stores the ciphertexts in the tree, written afresh.
    let spliced = opts.output == input && layout.can_splice();
    let mut splice = TextSplice::new(text, &layout);
    let mac_hex = if spliced {
        engine::encrypt(&mut parsed.docs, &cipher, &rules, &mut splice)?
    } else {
        engine::encrypt(&mut parsed.docs, &cipher, &rules, &mut NoSplice)?
    };

    let key_groups = wrap_key_groups(&data_key, opts.key_groups, threshold)?;
    let now = opts.now.replace_nanosecond(0).unwrap_or(opts.now);
    let metadata = Metadata {
        key_groups,
        shamir_threshold: threshold,
        lastmodified: timestamp::format_lastmodified(&now),
        mac: mac::encrypt_mac(&cipher, &mac_hex, &now)?,
        selection: Some(selection),
        mac_only_encrypted: opts.mac_only_encrypted,
        version: SOPS_VERSION.to_string(),
        unknown: Vec::new(),
    };
    if spliced {
        splice.add_alias_copies(&parsed.docs)?;
        let mut marked = metadata;
        marked.mark_sealant();
        if !splice.hints.is_empty() {
            let blob = cipher.encrypt(splice.hints.serialize().as_bytes(), "str", hints::AAD)?;
            marked.set_unknown(hints::FIELD, blob);
        }
        let out = splice.finish_encrypted(&marked.to_node());
        discard(parsed, opts.fast_exit);
        return out;
    }
    // Written afresh, in sops's own layout (a conversion, or a layout that cannot be
    // spliced): no sealant mark, so it decrypts like a file sops wrote.
    let out = store::emit(opts.output, &parsed.docs, Some(&metadata.to_node()));
    discard(parsed, opts.fast_exit);
    out
}

/// Checks the key groups as sops does before it wraps anything, and returns the
/// threshold to write: the one given, or with several groups and none given, the number
/// of groups (spec §7).
fn check_key_groups(groups: &[Vec<Box<dyn MasterKey>>], threshold: usize) -> Result<usize> {
    if groups.is_empty() {
        return Err(Error::Usage(
            "no recipients: give --age, set SOPS_AGE_RECIPIENTS or add a creation rule to \
             .sops.yaml"
                .into(),
        ));
    }
    if let Some(i) = groups.iter().position(Vec::is_empty) {
        return Err(Error::Usage(format!(
            "key group {i} has no keys (sops: empty key group provided)"
        )));
    }
    if groups.len() == 1 {
        return Ok(threshold);
    }
    let threshold = if threshold == 0 {
        groups.len()
    } else {
        threshold
    };
    if threshold < 2 {
        return Err(Error::Usage(format!(
            "the Shamir threshold must be at least 2 with {} key groups (it is {threshold})",
            groups.len()
        )));
    }
    if threshold > groups.len() {
        return Err(Error::Usage(format!(
            "the Shamir threshold ({threshold}) is more than the number of key groups ({})",
            groups.len()
        )));
    }
    if groups.len() > 255 {
        return Err(Error::Usage("there can be at most 255 key groups".into()));
    }
    Ok(threshold)
}

/// Wraps the data key for every key: whole with one group, else one Shamir share per
/// group (share `i`, x = i + 1, for group `i`).
fn wrap_key_groups(
    data_key: &DataKey,
    groups: &[Vec<Box<dyn MasterKey>>],
    threshold: usize,
) -> Result<Vec<KeyGroup>> {
    let shares = if groups.len() > 1 {
        shamir::split(data_key.as_bytes(), groups.len(), threshold)?
    } else {
        vec![Zeroizing::new(data_key.as_bytes().to_vec())]
    };
    groups
        .iter()
        .zip(&shares)
        .map(|(keys, secret)| {
            let age = keys
                .iter()
                .map(|k| {
                    if k.kind() != "age" {
                        return Err(Error::Internal("only age keys can be written"));
                    }
                    Ok(AgeKey {
                        recipient: k.recipient().to_string(),
                        enc: k.wrap(secret.as_slice())?,
                    })
                })
                .collect::<Result<_>>()?;
            Ok(KeyGroup {
                age,
                other: Vec::new(),
            })
        })
        .collect()
}

/// Drops a parsed file, or lets the process exit reclaim it (see `fast_exit`).
fn discard(parsed: store::Parsed, fast_exit: bool) {
    if fast_exit {
        std::mem::forget(parsed);
    }
}

/// Decrypts an encrypted file.
pub fn decrypt(text: &str, input: Format, file: &str, opts: &DecryptOptions) -> Result<Decrypted> {
    decrypt_with(text, input, file, opts, true)
}

/// `restore_aliases`: turn alias copies back into aliases (see `store::hints`). The
/// result is then re-read and must mean exactly the decrypted, MAC-checked values (anchor
/// names are not authenticated: a renamed anchor must not redirect an alias); if it does
/// not, the file is decrypted again with the copies written out.
fn decrypt_with(
    text: &str,
    input: Format,
    file: &str,
    opts: &DecryptOptions,
    restore_aliases: bool,
) -> Result<Decrypted> {
    let (mut parsed, layout) = store::parse(input, text, file)?;
    let found = parsed.metadata.take().ok_or(Error::MetadataNotFound)?;
    let metadata = Metadata::from_node(&found.tree)?;
    let lastmodified = timestamp::parse_rfc3339(&metadata.lastmodified)
        .map_err(|_| Error::Metadata("lastmodified is not an RFC 3339 timestamp".into()))?;
    let data_key = recover_data_key(&metadata, opts.keys)?;
    let cipher = ValueCipher::new(&data_key);
    let selection = metadata
        .selection
        .clone()
        .unwrap_or_else(Rules::default_selection);
    let rules = Rules::new(selection, metadata.mac_only_encrypted)?;

    // Splice only files sealant wrote in their owner's layout; a file sops wrote
    // decrypts to exactly what `sops decrypt` prints (sops re-emits it).
    let splice_here = opts.output == input
        && opts.extract.is_none()
        && metadata.written_by_sealant()
        && layout.can_splice();
    let mut splice = TextSplice::new(text, &layout);
    if splice_here {
        splice.hints = read_hints(&metadata, &cipher);
        if !restore_aliases {
            splice.hints.regions.clear();
        }
    }
    let mut warnings = Vec::new();
    let computed = if splice_here {
        engine::decrypt(
            &mut parsed.docs,
            &cipher,
            &rules,
            &mut splice,
            &mut warnings,
        )?
    } else {
        engine::decrypt(
            &mut parsed.docs,
            &cipher,
            &rules,
            &mut NoSplice,
            &mut warnings,
        )?
    };
    if !opts.ignore_mac {
        let stored = mac::decrypt_mac(&cipher, &metadata.mac, &lastmodified)?;
        mac::verify_mac(&stored, &computed)?;
    }

    let text = if let Some(steps) = &opts.extract {
        let node = parsed
            .docs
            .first()
            .and_then(|doc| treepath::lookup(doc, steps))
            .ok_or_else(|| {
                Error::NotFound("the --extract path does not exist in the file".into())
            })?;
        store::emit_value(opts.output, node)?
    } else if splice_here {
        let (clear, restored) = splice.finish_decrypted(&found)?;
        let faithful = !restored
            || store::parse(opts.output, &clear, file)
                .is_ok_and(|(p, _)| same_documents(&p.docs, &parsed.docs));
        if !faithful {
            return decrypt_with(text, input, file, opts, false);
        }
        clear
    } else {
        store::emit(opts.output, &parsed.docs, None)?
    };
    discard(parsed, opts.fast_exit);
    Ok(Decrypted { text, warnings })
}

/// The layout hints of a file sealant wrote; none if absent or unreadable (they only
/// ever change spelling, so a damaged hint field costs layout, never data).
fn read_hints(metadata: &Metadata, cipher: &ValueCipher) -> LayoutHints {
    metadata
        .unknown_str(hints::FIELD)
        .and_then(|enc| cipher.decrypt(enc, hints::AAD).ok())
        .and_then(|d| String::from_utf8(d.plaintext.to_vec()).ok())
        .map(|text| LayoutHints::parse(&text))
        .unwrap_or_default()
}

/// Recovers the data key: from any one key of a single group, or from enough groups'
/// Shamir shares (spec §7).
pub fn recover_data_key(metadata: &Metadata, keys: &dyn KeyRing) -> Result<DataKey> {
    let mut shares: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut report = Vec::new();
    for (i, group) in metadata.key_groups.iter().enumerate() {
        let mut secret = None;
        let mut failure = None;
        for key in &group.age {
            match keys.unwrap_age(&key.enc) {
                Ok(Some(s)) => {
                    secret = Some(s);
                    break;
                }
                Ok(None) => {}
                Err(e) => failure = Some(e.to_string()),
            }
        }
        match secret {
            Some(s) => {
                report.push(format!("group {i}: SUCCESS"));
                shares.push(s);
            }
            None => report.push(format!(
                "group {i}: FAILED ({})",
                failure.unwrap_or_else(|| "no identity matches its recipients".into())
            )),
        }
    }
    let groups = metadata.key_groups.len();
    let key = if groups <= 1 {
        shares.pop()
    } else {
        let threshold = if metadata.shamir_threshold == 0 {
            groups
        } else {
            metadata.shamir_threshold
        };
        if shares.len() >= threshold {
            let refs: Vec<&[u8]> = shares.iter().map(|s| s.as_slice()).collect();
            Some(shamir::combine(&refs)?)
        } else {
            None
        }
    };
    match key {
        Some(key) => DataKey::from_slice(&key),
        None => Err(no_key_error(metadata, keys, &report)),
    }
}

fn no_key_error(metadata: &Metadata, keys: &dyn KeyRing, report: &[String]) -> Error {
    let groups = metadata.key_groups.len();
    let threshold = match metadata.shamir_threshold {
        0 => groups,
        t => t,
    };
    let mut msg = if groups > 1 {
        let got = report.iter().filter(|l| l.ends_with("SUCCESS")).count();
        format!(
            "failed to get the data key: {got} of {groups} key groups could be decrypted, \
             {threshold} are needed"
        )
    } else {
        String::from("failed to get the data key: no identity here can decrypt it")
    };
    // With one group, show why it failed when it is not simply "no identity matches".
    if metadata.key_groups.len() == 1 {
        if let Some(line) = report.iter().find(|l| !l.contains("no identity matches")) {
            msg.push_str(&format!("\n  {line}"));
        }
    }
    if groups > 1 {
        for line in report {
            msg.push_str(&format!("\n  {line}"));
        }
    }
    msg.push_str("\nthe file is encrypted for:");
    for k in metadata.describe_keys() {
        msg.push_str(&format!("\n  {k}"));
    }
    let looked = keys.looked_in();
    if looked.is_empty() {
        msg.push_str("\nno age identities were found; set SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or SOPS_AGE_KEY_CMD");
    } else {
        msg.push_str("\nidentities were looked for in:");
        for l in looked {
            msg.push_str(&format!("\n  {l}"));
        }
    }
    Error::NoKey(msg)
}

/// Parses an `--extract` path (exit 91 when malformed).
pub fn parse_extract(path: &str) -> Result<Vec<Step>> {
    treepath::parse(path)
}
