//! Open, transform, write: the path every command takes through the library.
//!
//! `encrypt` and `decrypt` take text and return text; they read no environment, no
//! terminal and no files (the CLI passes identities, recipients and the clock in).

use std::borrow::Cow;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::crypto::cipher::ValueCipher;
use crate::crypto::datakey::DataKey;
use crate::crypto::{mac, shamir, timestamp};
use crate::engine::{self, NoSplice, Rules, Stash, StashMode, Warning};
use crate::error::{Error, Result};
use crate::keys::{Identities, MasterKey};
use crate::metadata::{AgeKey, KeyGroup, Metadata, Selection, SOPS_VERSION};
use crate::store::hints::{self, LayoutHints};
use crate::store::{self, Edit, Format, Stage, TextSplice};
use crate::tree::{same_documents, Document};
use crate::treepath::{self, Step};

/// The identities at hand, to unwrap data keys.
pub trait KeyRing {
    /// Unwraps an age envelope: `None` if no identity here matches it.
    fn unwrap_age(&self, enc: &str) -> Result<Option<Zeroizing<Vec<u8>>>>;
    /// Where identities were looked for (names and paths, never contents).
    fn looked_in(&self) -> Vec<String>;
    /// Problems met while loading identities (never contents), for the no-key error.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

impl KeyRing for Identities {
    fn unwrap_age(&self, enc: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.unwrap(enc)
    }
    fn looked_in(&self) -> Vec<String> {
        Identities::looked_in(self).to_vec()
    }
    fn notes(&self) -> Vec<String> {
        Identities::notes(self).to_vec()
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

/// The result of a decryption: the clear file, and comments that could not be decrypted.
pub struct Decrypted {
    /// The clear file: text, or any bytes for a binary file.
    pub text: Vec<u8>,
    pub warnings: Vec<Warning>,
}

/// Encrypts a clear file. Given the input's bytes to own (a `Vec`), a binary file's
/// bytes become its value without a copy.
pub fn encrypt<'a>(
    input_bytes: impl Into<Cow<'a, [u8]>>,
    input: Format,
    file: &str,
    opts: &EncryptOptions,
) -> Result<Vec<u8>> {
    let bytes: Cow<'a, [u8]> = input_bytes.into();
    // `input_bytes`: the text to parse again if an ordered splice must run again.
    let (source, input_bytes) = if input == Format::Binary {
        // Never spliced: the bytes are the file's one value, moved rather than copied.
        let (parsed, layout) = store::binary::parse_plain_owned(bytes.into_owned());
        let source = store::Source {
            parsed,
            layout,
            text: "",
        };
        (Clear::Tree(source), &[][..])
    } else {
        let source = parse_clear(input, &bytes, file, opts.output == input)?;
        (source, &bytes[..])
    };
    let threshold = check_key_groups(opts.key_groups, opts.shamir_threshold)?;
    let data_key = DataKey::generate();
    // A binary file is one value, always encrypted: sops ignores the selection options
    // and writes none into its metadata.
    let binary = input == Format::Binary;
    let key_groups = wrap_key_groups(&data_key, opts.key_groups, threshold)?;
    let base = Metadata {
        key_groups,
        shamir_threshold: threshold,
        lastmodified: String::new(),
        mac: String::new(),
        selection: if binary {
            None
        } else {
            Some(
                opts.selection
                    .clone()
                    .unwrap_or_else(Rules::default_selection),
            )
        },
        mac_only_encrypted: opts.mac_only_encrypted && !binary,
        version: SOPS_VERSION.to_string(),
        unknown: Vec::new(),
    };
    let seal = Seal {
        data_key: &data_key,
        base,
        output: opts.output,
        now: opts.now,
        previous: None,
        splice: true,
        fast_exit: opts.fast_exit,
    };
    seal.run(source, input_bytes, input, file)
}

/// What a write needs besides the clear content: the data key, the metadata to complete
/// (key groups, selection), and for a rewrite what to reuse.
struct Seal<'a> {
    data_key: &'a DataKey,
    /// The metadata without `mac` and `lastmodified` (filled in here).
    base: Metadata,
    output: Format,
    now: OffsetDateTime,
    previous: Option<&'a Previous>,
    /// Whether the user's layout may be kept (spliced); otherwise the file is written
    /// afresh in sops's layout, without the sealant mark.
    splice: bool,
    fast_exit: bool,
}

impl Seal<'_> {
    /// Seals a parsed clear file. When the changes of an ordered splice came out of text
    /// order (see [`TextSplice::ordered`]), parses `input_bytes` again and seals
    /// collecting the changes.
    fn run(
        &self,
        source: Clear<'_>,
        input_bytes: &[u8],
        input: Format,
        file: &str,
    ) -> Result<Vec<u8>> {
        let done = match source {
            Clear::Tree(source) => self.seal(source, input, true)?,
            Clear::Flat(source) => self.seal_flat(source)?,
        };
        if let Some(out) = done {
            return Ok(out);
        }
        let again = store::parse(input, input_bytes, file, Stage::Plain)?;
        self.seal(again, input, false)?
            .ok_or(Error::Internal("a collecting splice asked to run again"))
    }

    /// The selection rules of the file being written.
    fn rules(&self) -> Result<Rules> {
        let selection = self
            .base
            .selection
            .clone()
            .unwrap_or_else(Rules::default_selection);
        Rules::new(selection, self.base.mac_only_encrypted)
    }

    /// Seals a flat file item by item, spliced into its text as the items come.
    fn seal_flat(&self, source: store::FlatSource<'_>) -> Result<Option<Vec<u8>>> {
        let store::FlatSource {
            layout,
            text,
            items,
            ..
        } = source;
        let cipher = ValueCipher::new(self.data_key);
        let rules = self.rules()?;
        let mut splice = TextSplice::ordered(text, layout.as_ref(), &[], encrypted_size(text));
        let stash = self.previous.map(|p| &p.stash);
        let mut walk = engine::ItemWalk::encrypt(&cipher, &rules, &mut splice, stash);
        for item in items {
            walk.item(&mut item?)?;
        }
        let mac_hex = walk.finish();
        self.finish_spliced(splice, &cipher, &mac_hex, &[])
    }

    fn seal(
        &self,
        source: store::Source<'_>,
        input: Format,
        ordered: bool,
    ) -> Result<Option<Vec<u8>>> {
        let store::Source {
            mut parsed,
            layout,
            text,
        } = source;
        let cipher = ValueCipher::new(self.data_key);
        let rules = self.rules()?;

        // Splice into the user's text when the output format is the input's and the
        // layout allows it; otherwise the walk stores the ciphertexts in the tree, written
        // afresh.
        let spliced = self.splice && self.output == input && layout.can_splice();
        let mut splice = if ordered && spliced && layout.edits_in_text_order() {
            TextSplice::ordered(text, layout.as_ref(), &[], encrypted_size(text))
        } else {
            TextSplice::new(text, layout.as_ref())
        };
        let mac_hex = match (spliced, self.previous) {
            (true, Some(p)) => {
                engine::encrypt_reusing(&mut parsed.docs, &cipher, &rules, &mut splice, &p.stash)?
            }
            (true, None) => engine::encrypt(&mut parsed.docs, &cipher, &rules, &mut splice)?,
            (false, Some(p)) => {
                engine::encrypt_reusing(&mut parsed.docs, &cipher, &rules, &mut NoSplice, &p.stash)?
            }
            (false, None) => engine::encrypt(&mut parsed.docs, &cipher, &rules, &mut NoSplice)?,
        };

        if spliced {
            let out = self.finish_spliced(splice, &cipher, &mac_hex, &parsed.docs)?;
            // A second run needs the memory back.
            discard(parsed, self.fast_exit && out.is_some());
            return Ok(out);
        }
        // Written afresh, in sops's own layout (a conversion, or a layout that cannot be
        // spliced): no sealant mark, so it decrypts like a file sops wrote.
        let mut metadata = self.metadata(&cipher, &mac_hex)?;
        metadata.unmark_sealant();
        let out = store::emit(self.output, &parsed.docs, Some(&metadata.to_node()));
        discard(parsed, self.fast_exit);
        out.map(Some)
    }

    /// The metadata of the sealed file, given its MAC.
    fn metadata(&self, cipher: &ValueCipher, mac_hex: &str) -> Result<Metadata> {
        let now = self.now.replace_nanosecond(0).unwrap_or(self.now);
        let mut metadata = self.base.clone();
        metadata.lastmodified = timestamp::format_lastmodified(&now);
        metadata.mac = mac::encrypt_mac(cipher, mac_hex, &now)?;
        metadata.version = SOPS_VERSION.to_string();
        metadata.remove_unknown(hints::FIELD);
        Ok(metadata)
    }

    /// The spliced file: alias copies, layout hints and the metadata added. `None`: the
    /// splice's edits came out of order (see [`TextSplice::ordered`]).
    fn finish_spliced(
        &self,
        mut splice: TextSplice<'_>,
        cipher: &ValueCipher,
        mac_hex: &str,
        docs: &[Document],
    ) -> Result<Option<Vec<u8>>> {
        let mut metadata = self.metadata(cipher, mac_hex)?;
        splice.add_alias_copies(docs)?;
        metadata.mark_sealant();
        if !splice.hints.is_empty() {
            let plain = splice.hints.serialize();
            // An unchanged hint list keeps its ciphertext (minimal diffs).
            let blob = match self.previous.and_then(|p| p.hints.as_ref()) {
                Some((old_plain, old_enc)) if *old_plain.as_str() == *plain.as_str() => {
                    old_enc.clone()
                }
                _ => cipher.encrypt(plain.as_bytes(), "str", hints::AAD)?,
            };
            metadata.set_unknown(hints::FIELD, blob);
        }
        Ok(splice
            .finish_encrypted(&metadata.to_node())?
            .map(String::into_bytes))
    }
}

/// The room to reserve for the encrypted text of `text`: ENC strings make a text about
/// three times longer. Only what is written is touched; a big file grows the buffer once
/// or twice (a large block grows in place, without a copy).
fn encrypted_size(text: &str) -> usize {
    text.len().saturating_mul(2).saturating_add(4096)
}

/// A clear file to seal: its tree, or, for a flat format spliced into its own text, its
/// items as they come (no tree on a big file).
enum Clear<'a> {
    Tree(store::Source<'a>),
    Flat(store::FlatSource<'a>),
}

/// Parses a clear file to seal (`flat`: it may be read item by item); an encrypted
/// one is refused.
fn parse_clear<'a>(format: Format, input: &'a [u8], file: &str, flat: bool) -> Result<Clear<'a>> {
    if flat {
        if let Some(source) = store::parse_flat(format, input, file) {
            let source = source?;
            if source.metadata.is_some() {
                return Err(Error::AlreadyEncrypted);
            }
            return Ok(Clear::Flat(source));
        }
    }
    let source = store::parse(format, input, file, Stage::Plain)?;
    if source.parsed.metadata.is_some() {
        return Err(Error::AlreadyEncrypted);
    }
    Ok(Clear::Tree(source))
}

/// The layout hints' serialized text and its ciphertext.
type HintsBlob = (Zeroizing<String>, String);

/// What a rewrite keeps from the file it replaces (see [`engine::Stash`]).
struct Previous {
    stash: Stash,
    hints: Option<HintsBlob>,
}

/// An encrypted file, decrypted and held open so it can be rewritten with minimal
/// changes: same data key, same key envelopes, and the same ciphertext for every value
/// that did not change (spec §3.6, done by position rather than by value).
pub struct Opened {
    /// The clear content, exactly what `decrypt` prints.
    pub clear: Vec<u8>,
    pub format: Format,
    pub warnings: Vec<Warning>,
    data_key: DataKey,
    metadata: Metadata,
    previous: Previous,
}

impl Opened {
    /// The file's metadata as read (key groups, threshold, selection).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("format", &self.format)
            .field("clear", &format_args!("<{} bytes>", self.clear.len()))
            .finish_non_exhaustive()
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.clear.zeroize();
    }
}

impl Opened {
    /// Item `index` of the list at `list` was removed from the clear content: the items
    /// after it keep their ciphertexts at their new places ([`Stash::item_removed`]).
    pub fn item_removed(&mut self, list: &[Step], index: usize) {
        self.previous.stash.item_removed(list, index);
    }
}

/// Decrypts a file and keeps what a rewrite needs ([`reseal`]).
pub fn open(
    input_bytes: &[u8],
    format: Format,
    file: &str,
    opts: &DecryptOptions,
) -> Result<Opened> {
    let mut stash = Stash::default();
    let d = decrypt_inner(
        Cow::Borrowed(input_bytes),
        format,
        file,
        opts,
        Attempt::FIRST,
        Some(&mut stash),
    )?;
    let Some((data_key, metadata, hints)) = d.kept else {
        return Err(Error::Internal("an opened file lost its data key"));
    };
    Ok(Opened {
        clear: d.text,
        format,
        warnings: d.warnings,
        data_key,
        metadata,
        previous: Previous { stash, hints },
    })
}

/// Encrypts new clear content for an opened file: the same data key and recipients,
/// unchanged values keep their ciphertexts, so the file changes only where the content
/// did (plus `mac` and `lastmodified`). A file sealant wrote keeps the new content's
/// layout; a file sops wrote is written in sops's layout, as sops would.
pub fn reseal(opened: &Opened, clear: &[u8], file: &str, now: OffsetDateTime) -> Result<Vec<u8>> {
    let splice = opened.metadata.written_by_sealant() || opened.format == Format::Binary;
    let source = parse_clear(opened.format, clear, file, splice)?;
    let seal = Seal {
        data_key: &opened.data_key,
        base: opened.metadata.clone(),
        output: opened.format,
        now,
        previous: Some(&opened.previous),
        splice,
        fast_exit: false,
    };
    seal.run(source, clear, opened.format, file)
}

/// The key groups a file is rewritten for (`rotate`, `updatekeys`, `groups`).
pub struct NewKeys<'a> {
    /// As in [`EncryptOptions::key_groups`]: every key must be one sealant can wrap for.
    pub key_groups: &'a [Vec<Box<dyn MasterKey>>],
    /// As in [`EncryptOptions::shamir_threshold`].
    pub shamir_threshold: usize,
}

/// Writes an opened file under a NEW data key (spec §11.2 `rotate`): every value gets a
/// new ciphertext, the key groups are wrapped anew, `mac` and `lastmodified` are new. The
/// layout is kept as in [`reseal`]; nothing is reused from the old file but the clear
/// content, the selection options and fields sealant does not know. `output` other
/// than the opened format converts (written in sops's layout).
pub fn rotate(
    opened: &Opened,
    keys: &NewKeys,
    output: Format,
    file: &str,
    now: OffsetDateTime,
) -> Result<Vec<u8>> {
    let threshold = check_key_groups(keys.key_groups, keys.shamir_threshold)?;
    let splice = opened.metadata.written_by_sealant() || opened.format == Format::Binary;
    let source = parse_clear(
        opened.format,
        &opened.clear,
        file,
        splice && output == opened.format,
    )?;
    let data_key = DataKey::generate();
    let mut base = opened.metadata.clone();
    base.key_groups = wrap_key_groups(&data_key, keys.key_groups, threshold)?;
    base.shamir_threshold = threshold;
    let seal = Seal {
        data_key: &data_key,
        base,
        output,
        now,
        previous: None,
        splice,
        fast_exit: false,
    };
    seal.run(source, &opened.clear, opened.format, file)
}

/// Wraps the SAME data key for new key groups (`updatekeys`, `groups add/delete`): only
/// the key entries and `shamir_threshold` change. Values, `mac` and `lastmodified` stay
/// as they are, as in sops. The data key is checked against the file (it must decrypt
/// the MAC) before anything is wrapped, so a damaged envelope is never passed on.
///
/// A file sealant wrote keeps its bytes outside the `sops` block; a file sops wrote is
/// written in sops's layout, as sops would.
pub fn rewrap(
    input_bytes: &[u8],
    format: Format,
    file: &str,
    ring: &dyn KeyRing,
    keys: &NewKeys,
) -> Result<Vec<u8>> {
    let threshold = check_key_groups(keys.key_groups, keys.shamir_threshold)?;
    let store::Source {
        mut parsed,
        text,
        layout: _,
    } = store::parse(format, input_bytes, file, Stage::Encrypted)?;
    let found = parsed.metadata.take().ok_or(Error::MetadataNotFound)?;
    let Unlocked {
        mut metadata,
        lastmodified,
        data_key,
        cipher,
        ..
    } = unlock(&found.tree, ring)?;
    // The data key must be this file's: AES-GCM authenticates the MAC, so a wrong key
    // (a damaged or forged envelope) is caught before it is wrapped for anyone.
    mac::decrypt_mac(&cipher, &metadata.mac, &lastmodified).map_err(|_| {
        Error::MacMismatch(
            "the data key recovered from the key groups does not decrypt the file's MAC \
             (a damaged or tampered key entry?); nothing was rewritten"
                .into(),
        )
    })?;
    metadata.key_groups = wrap_key_groups(&data_key, keys.key_groups, threshold)?;
    metadata.shamir_threshold = threshold;

    if metadata.written_by_sealant() && format != Format::Binary {
        // Cut the old block out, read the body again, and add the new block where the
        // store puts it: the bytes outside the block stay the user's.
        let mut cuts: Vec<Edit> = found
            .ranges
            .iter()
            .map(|r| Edit::new(r.clone(), ""))
            .collect();
        let body = store::apply_edits(text, &mut cuts)?;
        if let Ok(src) = store::parse(format, body.as_bytes(), file, Stage::Plain) {
            if src.parsed.metadata.is_none() && src.layout.can_splice() {
                let mut edits = src.layout.insert_metadata(src.text, &metadata.to_node())?;
                return Ok(store::apply_edits(src.text, &mut edits)?.into_bytes());
            }
        }
    }
    // sops's layout: the encrypted tree written afresh (what sops does for every file).
    metadata.unmark_sealant();
    metadata.remove_unknown(hints::FIELD);
    store::emit(format, &parsed.docs, Some(&metadata.to_node()))
}

/// The metadata of an encrypted file, read without decrypting anything.
pub fn read_metadata(input_bytes: &[u8], format: Format, file: &str) -> Result<Metadata> {
    let source = store::parse(format, input_bytes, file, Stage::Encrypted)?;
    let found = source.parsed.metadata.ok_or(Error::MetadataNotFound)?;
    Metadata::from_node(&found.tree)
}

/// Whether a file is encrypted, as `sops filestatus` decides: it has a `sops` block
/// (readable, with keys and a valid `lastmodified`), a `version` and a `mac`. Errors:
/// the file does not parse, or its `sops` block is broken.
pub fn file_status(input_bytes: &[u8], format: Format, file: &str) -> Result<bool> {
    // A YAML file with no document (empty, comments only) is simply not encrypted.
    if format == Format::Yaml
        && std::str::from_utf8(input_bytes).is_ok_and(|t| {
            t.trim_start_matches('\u{feff}').lines().all(|l| {
                let l = l.trim();
                l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
            })
        })
    {
        return Ok(false);
    }
    let source = store::parse(format, input_bytes, file, Stage::Encrypted)?;
    let Some(found) = source.parsed.metadata else {
        return Ok(false);
    };
    let metadata = Metadata::from_node_any_version(&found.tree)?;
    timestamp::parse_rfc3339(&metadata.lastmodified)
        .map_err(|_| Error::Metadata("lastmodified is not an RFC 3339 timestamp".into()))?;
    Ok(!metadata.version.is_empty() && !metadata.mac.is_empty())
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

/// Decrypts an encrypted file. Given the input's bytes to own (a `Vec`), it frees them
/// as soon as they are no longer needed (a file written afresh needs only its tree).
pub fn decrypt<'a>(
    input_bytes: impl Into<Cow<'a, [u8]>>,
    input: Format,
    file: &str,
    opts: &DecryptOptions,
) -> Result<Decrypted> {
    let d = decrypt_inner(input_bytes.into(), input, file, opts, Attempt::FIRST, None)?;
    Ok(Decrypted {
        text: d.text,
        warnings: d.warnings,
    })
}

/// A decryption, and (when a stash was given) what a rewrite keeps.
struct Decryption {
    text: Vec<u8>,
    warnings: Vec<Warning>,
    kept: Option<(DataKey, Metadata, Option<HintsBlob>)>,
}

/// How a decryption is tried; a failed try runs again with less.
#[derive(Clone, Copy)]
struct Attempt {
    /// Turn alias copies back into aliases (see `store::hints`). The result is then
    /// re-read and must mean exactly the decrypted, MAC-checked values (anchor names are
    /// not authenticated: a renamed anchor must not redirect an alias); if it does not,
    /// the file is decrypted again with the copies written out.
    restore_aliases: bool,
    /// Write the changes as they come when the layout allows it (see
    /// [`TextSplice::ordered`]); if they come out of text order, run again collecting.
    ordered: bool,
}

impl Attempt {
    const FIRST: Attempt = Attempt {
        restore_aliases: true,
        ordered: true,
    };
}

/// `stash`: record every ciphertext, and keep the data key and metadata, for a rewrite.
fn decrypt_inner(
    input_bytes: Cow<'_, [u8]>,
    input: Format,
    file: &str,
    opts: &DecryptOptions,
    attempt: Attempt,
    mut stash: Option<&mut Stash>,
) -> Result<Decryption> {
    if attempt.ordered && opts.extract.is_none() && opts.output == input {
        if let Some(source) = store::parse_flat(input, &input_bytes, file) {
            return decrypt_flat(source?, &input_bytes, input, file, opts, stash);
        }
    }
    let store::Source {
        mut parsed,
        layout,
        text,
    } = store::parse(input, &input_bytes, file, Stage::Encrypted)?;
    let found = parsed.metadata.take().ok_or(Error::MetadataNotFound)?;
    let unlocked = unlock(&found.tree, opts.keys)?;
    let mut warnings = Vec::new();
    let mode = match stash.as_deref_mut() {
        Some(s) => {
            *s = Stash::default();
            StashMode::Record(s)
        }
        None => StashMode::None,
    };

    // Splice only files sealant wrote in their owner's layout; a file sops wrote
    // decrypts to exactly what `sops decrypt` prints (sops re-emits it).
    let splice_here = opts.output == input
        && opts.extract.is_none()
        && unlocked.metadata.written_by_sealant()
        && layout.can_splice();
    if !splice_here {
        // Written afresh from the tree (or extracted): the input is no longer needed.
        drop(layout);
        drop(input_bytes);
        let computed = engine::decrypt(
            &mut parsed.docs,
            &unlocked.cipher,
            &unlocked.rules,
            &mut NoSplice,
            &mut warnings,
            mode,
        )?;
        unlocked.check_mac(opts, &computed)?;
        let text = match &opts.extract {
            Some(steps) => {
                let node = parsed
                    .docs
                    .first()
                    .and_then(|doc| treepath::lookup(doc, steps))
                    .ok_or_else(|| {
                        Error::NotFound("the --extract path does not exist in the file".into())
                    })?;
                store::emit_value(opts.output, node)?
            }
            None => store::emit(opts.output, &parsed.docs, None)?,
        };
        discard(parsed, opts.fast_exit);
        return Ok(unlocked.decryption(text, warnings, stash));
    }

    let hints_raw = read_hints_raw(&unlocked.metadata, &unlocked.cipher);
    let mut hints = hints_raw
        .as_ref()
        .map(|(plain, _)| LayoutHints::parse(plain))
        .unwrap_or_default();
    if !attempt.restore_aliases {
        hints.regions.clear();
    }
    // Region hints need every change at the end: collect them then.
    let mut splice = if attempt.ordered && hints.regions.is_empty() && layout.edits_in_text_order()
    {
        TextSplice::ordered(text, layout.as_ref(), &found.ranges, text.len())
    } else {
        TextSplice::new(text, layout.as_ref())
    };
    splice.hints = hints;
    let computed = engine::decrypt(
        &mut parsed.docs,
        &unlocked.cipher,
        &unlocked.rules,
        &mut splice,
        &mut warnings,
        mode,
    )?;
    unlocked.check_mac(opts, &computed)?;
    let Some((clear, restored)) = splice.finish_decrypted(&found)? else {
        let collect = Attempt {
            ordered: false,
            ..attempt
        };
        return decrypt_inner(input_bytes, input, file, opts, collect, stash);
    };
    let faithful = !restored
        || store::parse(opts.output, clear.as_bytes(), file, Stage::Plain)
            .is_ok_and(|s| same_documents(&s.parsed.docs, &parsed.docs));
    if !faithful {
        let copies = Attempt {
            restore_aliases: false,
            ..attempt
        };
        return decrypt_inner(input_bytes, input, file, opts, copies, stash);
    }
    discard(parsed, opts.fast_exit);
    Ok(unlocked.decryption(clear.into_bytes(), warnings, stash))
}

/// [`decrypt_inner`] for a flat file read item by item into its own format: spliced
/// into its text (a file sealant wrote) or written afresh as sops does, one item at a
/// time, so that no tree of a big file exists.
fn decrypt_flat(
    source: store::FlatSource<'_>,
    input_bytes: &[u8],
    format: Format,
    file: &str,
    opts: &DecryptOptions,
    mut stash: Option<&mut Stash>,
) -> Result<Decryption> {
    let store::FlatSource {
        metadata: found,
        layout,
        text,
        items,
    } = source;
    let found = found.ok_or(Error::MetadataNotFound)?;
    let unlocked = unlock(&found.tree, opts.keys)?;
    let (cipher, rules) = (&unlocked.cipher, &unlocked.rules);
    let mut warnings = Vec::new();
    let mode = match stash.as_deref_mut() {
        Some(s) => {
            *s = Stash::default();
            StashMode::Record(s)
        }
        None => StashMode::None,
    };
    let clear = if unlocked.metadata.written_by_sealant() && layout.can_splice() {
        let mut splice = TextSplice::ordered(text, layout.as_ref(), &found.ranges, text.len());
        splice.hints = read_hints_raw(&unlocked.metadata, cipher)
            .map(|(plain, _)| LayoutHints::parse(&plain))
            .unwrap_or_default();
        // Flat formats never get region hints (no aliases, no verbatim ranges); others
        // would need every edit at the end. They only ever change spelling.
        splice.hints.regions.clear();
        let mut walk = engine::ItemWalk::decrypt(cipher, rules, &mut splice, &mut warnings, mode);
        for item in items {
            walk.item(&mut item?)?;
        }
        unlocked.check_mac(opts, &walk.finish())?;
        match splice.finish_decrypted(&found)? {
            Some((clear, _)) => clear,
            None => {
                let collect = Attempt {
                    ordered: false,
                    restore_aliases: false,
                };
                let input = Cow::Borrowed(input_bytes);
                return decrypt_inner(input, format, file, opts, collect, stash);
            }
        }
    } else {
        // Written afresh, as `sops decrypt` prints it; the first item that cannot be
        // written is reported after the MAC check, as for a whole tree.
        let mut out = String::with_capacity(text.len() / 2);
        let mut unwritable = None;
        let mut no_splice = NoSplice;
        let mut walk =
            engine::ItemWalk::decrypt(cipher, rules, &mut no_splice, &mut warnings, mode);
        for item in items {
            let mut item = item?;
            walk.item(&mut item)?;
            if unwritable.is_none() {
                unwritable = store::emit_flat_item(format, &item, &mut out).err();
            }
        }
        unlocked.check_mac(opts, &walk.finish())?;
        if let Some(e) = unwritable {
            return Err(e);
        }
        out
    };
    Ok(unlocked.decryption(clear.into_bytes(), warnings, stash))
}

/// A file's metadata with the data key recovered: what a decryption walk needs.
struct Unlocked {
    metadata: Metadata,
    lastmodified: OffsetDateTime,
    data_key: DataKey,
    cipher: ValueCipher,
    rules: Rules,
}

impl Unlocked {
    /// Compares the MAC a walk computed with the file's, unless told not to.
    fn check_mac(&self, opts: &DecryptOptions, computed: &str) -> Result<()> {
        if opts.ignore_mac {
            return Ok(());
        }
        check_mac(&self.metadata, &self.lastmodified, &self.cipher, computed)
    }

    /// The result of a decryption; with a stash, also what a rewrite keeps.
    fn decryption(
        self,
        text: Vec<u8>,
        warnings: Vec<Warning>,
        stash: Option<&mut Stash>,
    ) -> Decryption {
        let kept = stash.map(|_| {
            let hints = read_hints_raw(&self.metadata, &self.cipher);
            (self.data_key, self.metadata, hints)
        });
        Decryption {
            text,
            warnings,
            kept,
        }
    }
}

fn unlock(found: &crate::tree::Node, keys: &dyn KeyRing) -> Result<Unlocked> {
    let metadata = Metadata::from_node(found)?;
    let lastmodified = timestamp::parse_rfc3339(&metadata.lastmodified)
        .map_err(|_| Error::Metadata("lastmodified is not an RFC 3339 timestamp".into()))?;
    let data_key = recover_data_key(&metadata, keys)?;
    let cipher = ValueCipher::new(&data_key);
    let selection = metadata
        .selection
        .clone()
        .unwrap_or_else(Rules::default_selection);
    let rules = Rules::new(selection, metadata.mac_only_encrypted)?;
    Ok(Unlocked {
        metadata,
        lastmodified,
        data_key,
        cipher,
        rules,
    })
}

/// Compares the MAC the walk computed with the one stored in the file.
fn check_mac(
    metadata: &Metadata,
    lastmodified: &OffsetDateTime,
    cipher: &ValueCipher,
    computed: &str,
) -> Result<()> {
    let stored = mac::decrypt_mac(cipher, &metadata.mac, lastmodified)?;
    mac::verify_mac(&stored, computed)
}

/// A decrypted file as a tree, for commands that use its values rather than its text
/// (`exec-env`).
pub struct DecryptedTree {
    pub docs: Vec<Document>,
    pub warnings: Vec<Warning>,
}

/// Decrypts an encrypted file into its tree: the same walk and MAC check as [`decrypt`],
/// without writing any text.
pub fn decrypt_tree(
    input_bytes: &[u8],
    input: Format,
    file: &str,
    keys: &dyn KeyRing,
) -> Result<DecryptedTree> {
    let mut parsed = store::parse(input, input_bytes, file, Stage::Encrypted)?.parsed;
    let found = parsed.metadata.take().ok_or(Error::MetadataNotFound)?;
    let u = unlock(&found.tree, keys)?;
    let mut warnings = Vec::new();
    let computed = engine::decrypt(
        &mut parsed.docs,
        &u.cipher,
        &u.rules,
        &mut NoSplice,
        &mut warnings,
        StashMode::None,
    )?;
    check_mac(&u.metadata, &u.lastmodified, &u.cipher, &computed)?;
    Ok(DecryptedTree {
        docs: parsed.docs,
        warnings,
    })
}

/// The layout hints of a file sealant wrote, as text, with their ciphertext; none if
/// absent or unreadable (they only ever change spelling, so a damaged hint field costs
/// layout, never data).
fn read_hints_raw(
    metadata: &Metadata,
    cipher: &ValueCipher,
) -> Option<(Zeroizing<String>, String)> {
    let enc = metadata.unknown_str(hints::FIELD)?;
    let d = cipher.decrypt(enc, hints::AAD).ok()?;
    let text = String::from_utf8(d.plaintext.to_vec()).ok()?;
    Some((Zeroizing::new(text), enc.to_string()))
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
    if metadata.only_unusable_keys() {
        msg.push_str(
            "\nsealant can use none of these keys: decrypt the file with sops, or have it \
             encrypted for an age or SSH key too",
        );
    }
    let looked = keys.looked_in();
    if looked.is_empty() {
        msg.push_str(
            "\nno age identities were found; set SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, \
             SOPS_AGE_KEY_CMD or SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        );
    } else {
        msg.push_str("\nidentities were looked for in:");
        for l in looked {
            msg.push_str(&format!("\n  {l}"));
        }
    }
    let notes = keys.notes();
    if !notes.is_empty() {
        msg.push_str("\nproblems with identities:");
        for n in notes {
            msg.push_str(&format!("\n  {n}"));
        }
    }
    Error::NoKey(msg)
}

/// Parses an `--extract` path (exit 91 when malformed).
pub fn parse_extract(path: &str) -> Result<Vec<Step>> {
    treepath::parse(path)
}
