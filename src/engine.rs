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
    comments: Vec<Vec<String>>,
}

/// Encrypts every selected leaf of `docs`; returns the MAC (uppercase hex).
pub fn encrypt(
    docs: &mut [Document],
    cipher: &ValueCipher,
    rules: &Rules,
    splice: &mut impl Splice,
) -> Result<String> {
    walk_all(docs, cipher, rules, splice, Mode::Encrypt)
}

/// Decrypts every selected leaf of `docs`; returns the MAC computed over the clear
/// values, for the caller to compare with the stored one.
pub fn decrypt(
    docs: &mut [Document],
    cipher: &ValueCipher,
    rules: &Rules,
    splice: &mut impl Splice,
    warnings: &mut Vec<Warning>,
) -> Result<String> {
    walk_all(docs, cipher, rules, splice, Mode::Decrypt { warnings })
}

fn walk_all<S: Splice>(
    docs: &mut [Document],
    cipher: &ValueCipher,
    rules: &Rules,
    splice: &mut S,
    mode: Mode<'_>,
) -> Result<String> {
    let mut walk = Walk {
        cipher,
        rules,
        mac: MacHasher::new(rules.mac_only_encrypted),
        splice,
        mode,
        path: Vec::new(),
        comments: Vec::new(),
    };
    for doc in docs.iter_mut() {
        walk.map(&mut doc.items)?;
    }
    Ok(walk.mac.finish())
}

impl<S: Splice> Walk<'_, S> {
    fn map(&mut self, items: &mut [Item]) -> Result<()> {
        self.comments.push(Vec::new());
        for item in items.iter_mut() {
            match item {
                Item::Comment(leaf) => self.comment(leaf)?,
                Item::Entry { key, value } => {
                    self.path.push(key.clone());
                    self.node(value)?;
                    self.path.pop();
                    if let Some(level) = self.comments.last_mut() {
                        level.clear();
                    }
                }
            }
        }
        self.comments.pop();
        Ok(())
    }

    fn list(&mut self, items: &mut [ListItem]) -> Result<()> {
        self.comments.push(Vec::new());
        for item in items.iter_mut() {
            match item {
                ListItem::Comment(leaf) => self.comment(leaf)?,
                ListItem::Node(node) => {
                    if let Some(text) = self.list_element_comment(node)? {
                        *item = ListItem::Comment(Leaf::new(text));
                        continue;
                    }
                    self.node(node)?;
                    if let Some(level) = self.comments.last_mut() {
                        level.clear();
                    }
                }
            }
        }
        self.comments.pop();
        Ok(())
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
        aad_for(&self.path)
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
                let aad = self.at();
                let enc = self.cipher.encrypt(&bytes, type_name, &aad)?;
                if enc.is_empty() {
                    return Ok(()); // empty strings stay "" (spec §3.5)
                }
                match &leaf.span {
                    Some(span) => self.splice.encrypted_value(
                        span,
                        &enc,
                        &leaf.value,
                        ValueRef {
                            aad: &aad,
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
                let aad = self.at();
                let decrypted = self.cipher.decrypt(enc, &aad)?;
                let value = plaintext::from_bytes(&decrypted.type_name, &decrypted.plaintext)
                    .map_err(|e| e.at(&aad))?;
                self.mac.update(&decrypted.plaintext);
                let id = ValueRef {
                    aad: &aad,
                    type_name: &decrypted.type_name,
                    plaintext: &decrypted.plaintext,
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
                    let enc = self
                        .cipher
                        .encrypt(leaf.value.as_bytes(), "comment", &self.at())?;
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
                        Some(text) => {
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
    fn decrypt_comment(&self, enc: &str) -> Option<String> {
        (0..=self.path.len()).rev().find_map(|n| {
            let d = self.cipher.decrypt(enc, &aad_for(&self.path[..n])).ok()?;
            (d.type_name == "comment").then(|| String::from_utf8_lossy(&d.plaintext).into_owned())
        })
    }

    fn warn(&mut self, what: &'static str) {
        let path = self.at();
        if let Mode::Decrypt { warnings } = &mut self.mode {
            warnings.push(Warning { path, what });
        }
    }
}
