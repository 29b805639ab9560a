//! The one walk over the tree that encrypts or decrypts every leaf.
//!
//! Both directions follow sops exactly (spec §3-5): the walk order fixes the MAC input;
//! each leaf's AAD is its key path; the selection rule decides per leaf; comments are
//! encrypted with the path of their container and never enter the MAC.
//!
//! The walk changes the tree in place (so a converted output can be emitted from it) and
//! reports every change with the leaf's [`Span`] to a [`Splice`], which turns it into a
//! text edit in the store's own style.

use regex::Regex;

use crate::crypto::cipher::{looks_encrypted, ValueCipher};
use crate::crypto::mac::MacHasher;
use crate::crypto::plaintext;
use crate::error::{Error, Result};
use crate::metadata::Selection;
use crate::tree::{aad_for, Document, Item, Leaf, ListItem, Node, Scalar, Span};

/// Identifies a value for layout hints: a short digest of its AAD, type and plaintext.
/// It lets a hint be applied only to the value it was made for.
pub type ValueId = [u8; 8];

/// The parts a [`ValueId`] is computed from; computed only when a hint needs it.
pub struct ValueRef<'a> {
    pub aad: &'a str,
    pub type_name: &'a str,
    pub plaintext: &'a [u8],
}

impl ValueRef<'_> {
    pub fn id(&self) -> ValueId {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            self.aad.as_bytes(),
            self.type_name.as_bytes(),
            self.plaintext,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&h.finalize()[..8]);
        id
    }
}

/// The ciphertexts of a file being rewritten, so that unchanged values keep their exact
/// `ENC[...]` text (same IV, same ciphertext) and a rewrite changes only what changed.
///
/// A value is reused only at the same *position* (map keys and list indexes, document
/// number included) with the same AAD, type and plaintext (compared by SHA-256). Keying
/// by position, not by value alone, means equal values at different places never share a
/// ciphertext (sops's own stash collapses equal list items, getsops/sops#1901), and an IV
/// is never used for a different plaintext. A comment is keyed by its container, its
/// text and which occurrence of that text it is there, so adding a comment elsewhere does
/// not re-encrypt the others.
#[derive(Default)]
pub struct Stash {
    values: std::collections::HashMap<String, ([u8; 32], String)>,
    comments: std::collections::HashMap<String, String>,
}

impl std::fmt::Debug for Stash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Stash({} values, {} comments)",
            self.values.len(),
            self.comments.len()
        )
    }
}

impl Stash {
    /// Item `index` of the list at `list` (in the first document) was removed: the items
    /// after it moved up by one and keep their ciphertexts at their new places. Safe:
    /// every old place still maps to at most one new one, and a ciphertext is reused
    /// only for the same AAD and plaintext.
    pub fn item_removed(&mut self, list: &[crate::treepath::Step], index: usize) {
        use crate::treepath::Step as S;
        let mut prefix = String::from("i0:");
        for step in list {
            match step {
                S::Key(k) => prefix.push_str(&format!("k{}:{k}", k.len())),
                S::Index(i) => prefix.push_str(&format!("i{i}:")),
            }
        }
        // The item number right after the prefix, and the rest of the key.
        let split = |key: &str| -> Option<(usize, usize)> {
            let rest = key.strip_prefix(prefix.as_str())?.strip_prefix('i')?;
            let colon = rest.find(':')?;
            let n = rest[..colon].parse().ok()?;
            Some((n, key.len() - rest.len() + colon + 1))
        };
        let renumber = |key: String| -> Option<String> {
            match split(&key) {
                Some((n, _)) if n == index => None,
                Some((n, tail)) if n > index => {
                    Some(format!("{prefix}i{}:{}", n - 1, &key[tail..]))
                }
                _ => Some(key),
            }
        };
        self.values = std::mem::take(&mut self.values)
            .into_iter()
            .filter_map(|(k, v)| renumber(k).map(|k| (k, v)))
            .collect();
        self.comments = std::mem::take(&mut self.comments)
            .into_iter()
            .filter_map(|(k, v)| renumber(k).map(|k| (k, v)))
            .collect();
    }

    pub fn len(&self) -> usize {
        self.values.len() + self.comments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// How a walk uses a [`Stash`].
pub enum StashMode<'a> {
    None,
    /// Decrypting the old file: remember each ciphertext.
    Record(&'a mut Stash),
    /// Encrypting the new content: reuse matching ciphertexts.
    Reuse(&'a Stash),
}

/// One step of a value's position.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Receives the changes of a walk, one per leaf that changed and has a place in the text.
pub trait Splice {
    /// A clear value became `enc`; `clear` is the value it was.
    fn encrypted_value(&mut self, span: &Span, enc: &str, clear: &Scalar, id: ValueRef<'_>);
    fn clear_value(&mut self, span: &Span, value: &Scalar, id: ValueRef<'_>);
    fn comment(&mut self, span: &Span, text: &str);
    /// A sops list-element comment (`- ENC[...,type:comment]`) decrypted back to a line.
    fn list_element_comment(&mut self, span: &Span, text: &str);
    /// A changed leaf with no place in the text (inside an alias copy); `value` is false
    /// for comments.
    fn unplaced(&mut self, value: bool);
    /// Whether the walk must also store new values in the tree (when the output is
    /// written from the tree rather than spliced). Splicing skips it to save memory.
    fn needs_tree(&self) -> bool {
        true
    }
}

/// A [`Splice`] that ignores everything, for walks whose output is emitted fresh.
pub struct NoSplice;

impl Splice for NoSplice {
    fn encrypted_value(&mut self, _: &Span, _: &str, _: &Scalar, _: ValueRef<'_>) {}
    fn clear_value(&mut self, _: &Span, _: &Scalar, _: ValueRef<'_>) {}
    fn comment(&mut self, _: &Span, _: &str) {}
    fn list_element_comment(&mut self, _: &Span, _: &str) {}
    fn unplaced(&mut self, _: bool) {}
}

/// Which leaves are encrypted, and what the MAC covers.
#[derive(Debug)]
pub struct Rules {
    selection: Selection,
    regex: Option<Regex>,
    mac_only_encrypted: bool,
}

impl Rules {
    /// sops's default when no option is given: `unencrypted_suffix: _unencrypted`.
    pub fn default_selection() -> Selection {
        Selection::UnencryptedSuffix("_unencrypted".into())
    }

    pub fn new(selection: Selection, mac_only_encrypted: bool) -> Result<Rules> {
        let regex =
            match &selection {
                Selection::UnencryptedRegex(r)
                | Selection::EncryptedRegex(r)
                | Selection::UnencryptedCommentRegex(r)
                | Selection::EncryptedCommentRegex(r) => Some(Regex::new(r).map_err(|e| {
                    Error::Usage(format!("invalid {} {r:?}: {e}", selection.field()))
                })?),
                _ => None,
            };
        Ok(Rules {
            selection,
            regex,
            mac_only_encrypted,
        })
    }

    fn matches(&self, s: &str) -> bool {
        self.regex.as_ref().is_some_and(|r| r.is_match(s))
    }

    /// Whether a leaf at `path`, under the active `comments`, is encrypted. `own` is the
    /// leaf's own text when the leaf is a comment.
    fn encrypts(&self, path: &[String], comments: &[Vec<String>], own: Option<&str>) -> bool {
        let mut active = comments.iter().flatten().map(String::as_str);
        match &self.selection {
            Selection::UnencryptedSuffix(s) => !path.iter().any(|p| p.ends_with(s.as_str())),
            Selection::EncryptedSuffix(s) => path.iter().any(|p| p.ends_with(s.as_str())),
            Selection::UnencryptedRegex(_) => !path.iter().any(|p| self.matches(p)),
            Selection::EncryptedRegex(_) => path.iter().any(|p| self.matches(p)),
            Selection::UnencryptedCommentRegex(_) => {
                !(active.any(|c| self.matches(c)) || own.is_some_and(|c| self.matches(c)))
            }
            Selection::EncryptedCommentRegex(_) => active.any(|c| self.matches(c)),
        }
    }

    fn tracks_comments(&self) -> bool {
        matches!(
            self.selection,
            Selection::UnencryptedCommentRegex(_) | Selection::EncryptedCommentRegex(_)
        )
    }
}

/// The AAD of `path` given its joined form (see `Walk::joined`); a function of the
/// two fields so that the walk can hold it while it uses its other fields.
fn aad_of<'p>(path: &[String], joined: &'p str) -> &'p str {
    if path.is_empty() {
        ":"
    } else {
        joined
    }
}

/// A comment that could not be decrypted (kept as it is, like sops does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: String,
    pub what: &'static str,
}

enum Mode<'a> {
    Encrypt,
    Decrypt { warnings: &'a mut Vec<Warning> },
}

struct Walk<'a, S: Splice> {
    cipher: &'a ValueCipher,
    rules: &'a Rules,
    mac: MacHasher,
    splice: &'a mut S,
    mode: Mode<'a>,
    path: Vec<String>,
    /// The AAD of `path` (`a:b:`) kept as the walk goes, and where each level starts in
    /// it: one string per walk instead of one per value.
    joined: String,
    joined_starts: Vec<usize>,
    comments: Vec<Vec<String>>,
    stash: StashMode<'a>,
    /// The position of the current node (only kept when a stash is in use): document
    /// number, then map keys and list indexes.
    position: Vec<Step>,
    /// Per open container: how many times each comment text was seen (stash keys).
    comment_seen: Vec<std::collections::HashMap<[u8; 32], usize>>,
}

/// Encrypts every selected leaf of `docs`; returns the MAC (uppercase hex).
pub fn encrypt(
    docs: &mut [Document],
    cipher: &ValueCipher,
    rules: &Rules,
    splice: &mut impl Splice,
) -> Result<String> {
    walk_all(docs, cipher, rules, splice, Mode::Encrypt, StashMode::None)
}

/// [`encrypt`], reusing the ciphertexts in `stash` for values that did not change.
pub fn encrypt_reusing(
    docs: &mut [Document],
    cipher: &ValueCipher,
    rules: &Rules,
    splice: &mut impl Splice,
    stash: &Stash,
) -> Result<String> {
    walk_all(
        docs,
        cipher,
        rules,
        splice,
        Mode::Encrypt,
        StashMode::Reuse(stash),
    )
}

/// Decrypts every selected leaf of `docs`; returns the MAC computed over the clear
/// values, for the caller to compare with the stored one.
pub fn decrypt(
    docs: &mut [Document],
    cipher: &ValueCipher,
    rules: &Rules,
    splice: &mut impl Splice,
    warnings: &mut Vec<Warning>,
    stash: StashMode<'_>,
) -> Result<String> {
    walk_all(
        docs,
        cipher,
        rules,
        splice,
        Mode::Decrypt { warnings },
        stash,
    )
}

fn walk_all<'a, S: Splice>(
    docs: &mut [Document],
    cipher: &'a ValueCipher,
    rules: &'a Rules,
    splice: &'a mut S,
    mode: Mode<'a>,
    stash: StashMode<'a>,
) -> Result<String> {
    let mut walk = Walk::new(cipher, rules, splice, mode, stash);
    for (i, doc) in docs.iter_mut().enumerate() {
        walk.position.clear();
        walk.position.push(Step::Index(i));
        walk.map(&mut doc.items)?;
    }
    Ok(walk.mac.finish())
}

/// The walk of a file with one document given item by item (a flat format read as it
/// goes, see `store::FlatSource`): the same walk and MAC as over the tree, with only
/// the item at hand in memory.
pub struct ItemWalk<'a, S: Splice> {
    walk: Walk<'a, S>,
}

impl<'a, S: Splice> ItemWalk<'a, S> {
    /// [`encrypt`] (or [`encrypt_reusing`] with a `stash`), item by item.
    pub fn encrypt(
        cipher: &'a ValueCipher,
        rules: &'a Rules,
        splice: &'a mut S,
        stash: Option<&'a Stash>,
    ) -> Self {
        let stash = stash.map_or(StashMode::None, StashMode::Reuse);
        Self::new(Walk::new(cipher, rules, splice, Mode::Encrypt, stash))
    }

    /// [`decrypt`], item by item.
    pub fn decrypt(
        cipher: &'a ValueCipher,
        rules: &'a Rules,
        splice: &'a mut S,
        warnings: &'a mut Vec<Warning>,
        stash: StashMode<'a>,
    ) -> Self {
        Self::new(Walk::new(
            cipher,
            rules,
            splice,
            Mode::Decrypt { warnings },
            stash,
        ))
    }

    fn new(mut walk: Walk<'a, S>) -> Self {
        walk.position.push(Step::Index(0));
        walk.open_map();
        ItemWalk { walk }
    }

    /// Walks the next item of the document.
    pub fn item(&mut self, item: &mut Item) -> Result<()> {
        self.walk.map_item(item)
    }

    /// The MAC, as [`encrypt`] and [`decrypt`] return it.
    pub fn finish(mut self) -> String {
        self.walk.close_map();
        self.walk.mac.finish()
    }
}

impl<'a, S: Splice> Walk<'a, S> {
    fn new(
        cipher: &'a ValueCipher,
        rules: &'a Rules,
        splice: &'a mut S,
        mode: Mode<'a>,
        stash: StashMode<'a>,
    ) -> Self {
        Walk {
            cipher,
            rules,
            mac: MacHasher::new(rules.mac_only_encrypted),
            splice,
            mode,
            path: Vec::new(),
            joined: String::new(),
            joined_starts: Vec::new(),
            comments: Vec::new(),
            stash,
            position: Vec::new(),
            comment_seen: Vec::new(),
        }
    }

    fn map(&mut self, items: &mut [Item]) -> Result<()> {
        self.open_map();
        for item in items.iter_mut() {
            self.map_item(item)?;
        }
        self.close_map();
        Ok(())
    }

    fn open_map(&mut self) {
        self.comments.push(Vec::new());
        self.enter_container();
    }

    fn close_map(&mut self) {
        self.leave_container();
        self.comments.pop();
    }

    fn map_item(&mut self, item: &mut Item) -> Result<()> {
        match item {
            Item::Comment(leaf) => self.comment(leaf)?,
            Item::Entry { key, value } => {
                self.enter(|| Step::Key(key.clone()));
                self.push_key(key);
                let walked = self.node(value);
                self.pop_key(key);
                walked?;
                self.leave();
                if let Some(level) = self.comments.last_mut() {
                    level.clear();
                }
            }
        }
        Ok(())
    }

    fn list(&mut self, items: &mut [ListItem]) -> Result<()> {
        self.comments.push(Vec::new());
        self.enter_container();
        let mut index = 0;
        for item in items.iter_mut() {
            match item {
                ListItem::Comment(leaf) => self.comment(leaf)?,
                ListItem::Node(node) => {
                    if let Some(text) = self.list_element_comment(node)? {
                        *item = ListItem::Comment(Leaf::new(text));
                        continue;
                    }
                    self.enter(|| Step::Index(index));
                    index += 1;
                    self.node(node)?;
                    self.leave();
                    if let Some(level) = self.comments.last_mut() {
                        level.clear();
                    }
                }
            }
        }
        self.leave_container();
        self.comments.pop();
        Ok(())
    }

    fn stashing(&self) -> bool {
        !matches!(self.stash, StashMode::None)
    }

    fn enter(&mut self, step: impl FnOnce() -> Step) {
        if self.stashing() {
            self.position.push(step());
        }
    }

    fn leave(&mut self) {
        if self.stashing() {
            self.position.pop();
        }
    }

    fn enter_container(&mut self) {
        if self.stashing() {
            self.comment_seen.push(Default::default());
        }
    }

    fn leave_container(&mut self) {
        if self.stashing() {
            self.comment_seen.pop();
        }
    }

    /// The stash key of the current position: unambiguous (keys are length-prefixed).
    fn position_key(&self) -> String {
        use std::fmt::Write;
        let mut key = String::new();
        for step in &self.position {
            let _ = match step {
                Step::Key(k) => write!(key, "k{}:{k}", k.len()),
                Step::Index(i) => write!(key, "i{i}:"),
            };
        }
        key
    }

    /// The stash key of a comment with AAD `aad` and text `text` at this place.
    fn comment_key(&mut self, aad: &str, text: &str) -> String {
        let d = digest(&[aad.as_bytes(), text.as_bytes()]);
        let seen = self
            .comment_seen
            .last_mut()
            .map(|m| {
                let n = m.entry(d).or_insert(0);
                *n += 1;
                *n
            })
            .unwrap_or(0);
        format!("{}c{}:{seen}", self.position_key(), hex::encode(d))
    }

    fn node(&mut self, node: &mut Node) -> Result<()> {
        match node {
            Node::Map(items) => self.map(items),
            Node::List(items) => self.list(items),
            Node::Scalar(leaf) => self.scalar(leaf),
            Node::Null(_) => Ok(()),
        }
    }

    fn at(&self) -> String {
        self.aad().to_owned()
    }

    /// The AAD of the current path, as [`aad_for`] makes it.
    fn aad(&self) -> &str {
        aad_of(&self.path, &self.joined)
    }

    /// Enters the entry `key`; the key moves into the path (no copy) until
    /// [`Self::pop_key`] puts it back.
    fn push_key(&mut self, key: &mut String) {
        self.joined_starts.push(self.joined.len());
        self.joined.push_str(key);
        self.joined.push(':');
        self.path.push(std::mem::take(key));
    }

    fn pop_key(&mut self, key: &mut String) {
        if let Some(k) = self.path.pop() {
            *key = k;
        }
        if let Some(start) = self.joined_starts.pop() {
            self.joined.truncate(start);
        }
    }

    fn scalar(&mut self, leaf: &mut Leaf<Scalar>) -> Result<()> {
        let encrypted = self.rules.encrypts(&self.path, &self.comments, None);
        match self.mode {
            Mode::Encrypt => {
                let bytes = plaintext::to_bytes(&leaf.value);
                if encrypted || !self.rules.mac_only_encrypted {
                    self.mac.update(&bytes);
                }
                if !encrypted {
                    return Ok(());
                }
                let type_name = plaintext::type_name(&leaf.value);
                let aad = aad_of(&self.path, &self.joined);
                let reused = match self.stash {
                    StashMode::Reuse(stash) => {
                        let d = digest(&[aad.as_bytes(), type_name.as_bytes(), &bytes]);
                        stash
                            .values
                            .get(&self.position_key())
                            .filter(|(old, _)| *old == d)
                            .map(|(_, enc)| enc.clone())
                    }
                    _ => None,
                };
                let enc = match reused {
                    Some(enc) => enc,
                    None => self.cipher.encrypt(&bytes, type_name, aad)?,
                };
                if enc.is_empty() {
                    return Ok(()); // empty strings stay "" (spec §3.5)
                }
                match &leaf.span {
                    Some(span) => self.splice.encrypted_value(
                        span,
                        &enc,
                        &leaf.value,
                        ValueRef {
                            aad,
                            type_name,
                            plaintext: &bytes,
                        },
                    ),
                    None => self.splice.unplaced(true),
                }
                if self.splice.needs_tree() || leaf.span.is_none() {
                    leaf.value = Scalar::Str(enc);
                }
            }
            Mode::Decrypt { .. } => {
                if !encrypted {
                    if !self.rules.mac_only_encrypted {
                        self.mac.update(&plaintext::to_bytes(&leaf.value));
                    }
                    return Ok(());
                }
                let Scalar::Str(enc) = &leaf.value else {
                    return Err(Error::Decrypt {
                        at: self.at(),
                        why: "expected an encrypted value (ENC[...]), found a clear one".into(),
                    });
                };
                if enc.is_empty() {
                    return Ok(());
                }
                let aad = aad_of(&self.path, &self.joined);
                let mut decrypted = self.cipher.decrypt(enc, aad)?;
                self.mac.update(&decrypted.plaintext);
                if let StashMode::Record(_) = self.stash {
                    let d = digest(&[
                        aad.as_bytes(),
                        decrypted.type_name.as_bytes(),
                        &decrypted.plaintext,
                    ]);
                    let key = self.position_key();
                    if let StashMode::Record(stash) = &mut self.stash {
                        stash.values.insert(key, (d, enc.clone()));
                    }
                }
                // A string takes the plaintext's bytes (no copy); they are then its own.
                let type_name = decrypted.type_name.as_str();
                let value = plaintext::from_plaintext(type_name, &mut decrypted.plaintext)
                    .map_err(|e| e.at(aad))?;
                let plain: &[u8] = match &value {
                    Scalar::Str(s) if matches!(type_name, "str" | "bytes") => s.as_bytes(),
                    Scalar::Bytes(b) => b,
                    _ => &decrypted.plaintext,
                };
                let id = ValueRef {
                    aad,
                    type_name,
                    plaintext: plain,
                };
                match &leaf.span {
                    Some(span) => self.splice.clear_value(span, &value, id),
                    None => self.splice.unplaced(true),
                }
                if self.splice.needs_tree() || leaf.span.is_none() {
                    leaf.value = value;
                }
            }
        }
        Ok(())
    }

    /// In decrypt mode, a list element holding an encrypted comment (how sops stores
    /// comments inside lists) becomes a comment again. Returns its text.
    fn list_element_comment(&mut self, node: &Node) -> Result<Option<String>> {
        let Mode::Decrypt { .. } = self.mode else {
            return Ok(None);
        };
        let Node::Scalar(Leaf {
            value: Scalar::Str(enc),
            span,
        }) = node
        else {
            return Ok(None);
        };
        if !enc.ends_with("type:comment]") || !looks_encrypted(enc) {
            return Ok(None);
        }
        let Ok(decrypted) = self.cipher.decrypt(enc, &self.at()) else {
            return Ok(None); // not ours to judge here: the value walk will report it
        };
        if decrypted.type_name != "comment" {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&decrypted.plaintext).into_owned();
        match span {
            Some(span) => self.splice.list_element_comment(span, &text),
            None => self.splice.unplaced(false),
        }
        if let Some(level) = self.comments.last_mut() {
            level.push(enc.clone());
        }
        Ok(Some(text))
    }

    fn comment(&mut self, leaf: &mut Leaf<String>) -> Result<()> {
        let encrypted = self
            .rules
            .encrypts(&self.path, &self.comments, Some(&leaf.value));
        let original = leaf.value.clone();
        match &mut self.mode {
            Mode::Encrypt => {
                if encrypted {
                    let aad = self.at();
                    let reused = match self.stash {
                        StashMode::Reuse(stash) => {
                            let key = self.comment_key(&aad, &leaf.value);
                            stash.comments.get(&key).cloned()
                        }
                        _ => None,
                    };
                    let enc = match reused {
                        Some(enc) => enc,
                        None => self
                            .cipher
                            .encrypt(leaf.value.as_bytes(), "comment", &aad)?,
                    };
                    if self.rules.tracks_comments() && self.rules.matches(&enc) {
                        return Err(Error::Encrypt {
                            at: self.at(),
                            why: "an encrypted comment would match the comment regex".into(),
                        });
                    }
                    if !enc.is_empty() {
                        match &leaf.span {
                            Some(span) => self.splice.comment(span, &enc),
                            None => self.splice.unplaced(false),
                        }
                        leaf.value = enc;
                    }
                }
            }
            Mode::Decrypt { .. } => {
                if encrypted && looks_encrypted(&leaf.value) {
                    match self.decrypt_comment(&leaf.value) {
                        Some((text, aad)) => {
                            if let StashMode::Record(_) = self.stash {
                                let key = self.comment_key(&aad, &text);
                                if let StashMode::Record(stash) = &mut self.stash {
                                    stash.comments.insert(key, leaf.value.clone());
                                }
                            }
                            match &leaf.span {
                                Some(span) => self.splice.comment(span, &text),
                                None => self.splice.unplaced(false),
                            }
                            leaf.value = text;
                        }
                        None => self.warn("an encrypted comment does not decrypt; kept as is"),
                    }
                } else if encrypted && !leaf.value.is_empty() && !self.rules.tracks_comments() {
                    self.warn("a clear comment where comments are encrypted (comments are not covered by the MAC)");
                }
            }
        }
        if self.rules.tracks_comments() {
            if let Some(level) = self.comments.last_mut() {
                level.push(original);
            }
        }
        Ok(())
    }

    /// Decrypts a comment. Its AAD is the path of the container sops filed it under;
    /// that is the innermost container for files sealant writes, but hand-edited layouts
    /// may differ, so outer containers are tried too (GCM authenticates the choice).
    /// Returns the text and the AAD it was encrypted with.
    fn decrypt_comment(&self, enc: &str) -> Option<(String, String)> {
        (0..=self.path.len()).rev().find_map(|n| {
            let aad = aad_for(&self.path[..n]);
            let d = self.cipher.decrypt(enc, &aad).ok()?;
            (d.type_name == "comment")
                .then(|| (String::from_utf8_lossy(&d.plaintext).into_owned(), aad))
        })
    }

    fn warn(&mut self, what: &'static str) {
        let path = self.at();
        if let Mode::Decrypt { warnings } = &mut self.mode {
            warnings.push(Warning { path, what });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stash;
    use crate::treepath::Step;

    #[test]
    fn removing_a_list_item_moves_the_later_ones_up() {
        let mut stash = Stash::default();
        for key in [
            "i0:k1:li0:",
            "i0:k1:li1:",
            "i0:k1:li2:k1:x",
            "i0:k1:li10:",
            "i0:k2:l2i1:",
            "i1:k1:li1:",
        ] {
            stash.values.insert(key.into(), ([0; 32], key.into()));
        }
        stash.comments.insert("i0:k1:li2:cabc:1".into(), "c".into());
        stash.item_removed(&[Step::Key("l".into())], 1);
        let mut moved: Vec<(String, String)> = stash
            .values
            .iter()
            .map(|(k, (_, enc))| (k.clone(), enc.clone()))
            .collect();
        moved.sort();
        let expected = [
            ("i0:k1:li0:", "i0:k1:li0:"),
            ("i0:k1:li1:k1:x", "i0:k1:li2:k1:x"),
            ("i0:k1:li9:", "i0:k1:li10:"),
            ("i0:k2:l2i1:", "i0:k2:l2i1:"),
            ("i1:k1:li1:", "i1:k1:li1:"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(moved, expected);
        assert!(stash.comments.contains_key("i0:k1:li1:cabc:1"));
    }
}
