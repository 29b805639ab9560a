//! Changing who can open a file: the key layouts `rotate`, `updatekeys` and `groups`
//! work on, sops's per-group diff, and which parties a change removes.
//!
//! A layout names keys only (no envelopes); [`master_keys`] turns one into keys that can
//! wrap a data key, and refuses keys of kinds sealant cannot wrap for (pgp, the cloud
//! KMSs, Vault), naming them, rather than dropping anyone's access silently.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::config::{KeyKind, Rule};
use crate::error::{Error, Result};
use crate::keys::{parse_recipients, MasterKey};
use crate::metadata::{other_key_id, Metadata};

/// One key of a layout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeySpec {
    /// An age recipient, as written in the file or given by the user.
    Age(String),
    /// A key of another kind (metadata name: `pgp`, `kms`, `gcp_kms`, `azure_kv`,
    /// `hc_vault`, `hckms`) and the string sops identifies it by.
    Other { kind: String, id: String },
}

impl KeySpec {
    /// The string sops compares and prints (its `ToString`).
    pub fn id(&self) -> &str {
        match self {
            KeySpec::Age(r) => r,
            KeySpec::Other { id, .. } => id,
        }
    }

    /// The metadata name of the key's kind.
    pub fn kind(&self) -> &str {
        match self {
            KeySpec::Age(_) => "age",
            KeySpec::Other { kind, .. } => kind,
        }
    }

    /// `age age1…`, `pgp FINGERPRINT`: for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind(), self.id())
    }
}

/// Key groups, by key name only.
pub type KeyLayout = Vec<Vec<KeySpec>>;

/// The layout of a file's metadata.
pub fn layout_of(metadata: &Metadata) -> KeyLayout {
    metadata
        .key_groups
        .iter()
        .map(|g| {
            g.age
                .iter()
                .map(|k| KeySpec::Age(k.recipient.clone()))
                .chain(g.other.iter().map(|(kind, entry)| KeySpec::Other {
                    kind: kind.clone(),
                    id: other_key_id(kind, entry),
                }))
                .collect()
        })
        .collect()
}

/// The layout a creation rule gives.
pub fn layout_of_rule(rule: &Rule) -> KeyLayout {
    rule.key_groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|k| match k.kind {
                    KeyKind::Age => KeySpec::Age(k.id.clone()),
                    other => KeySpec::Other {
                        kind: metadata_kind(other).into(),
                        id: k.id.clone(),
                    },
                })
                .collect()
        })
        .collect()
}

/// The metadata section a `.sops.yaml` key kind is written under.
fn metadata_kind(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Age => "age",
        KeyKind::Pgp => "pgp",
        KeyKind::Kms => "kms",
        KeyKind::GcpKms => "gcp_kms",
        KeyKind::Hckms => "hckms",
        KeyKind::AzureKeyVault => "azure_kv",
        KeyKind::HcVault => "hc_vault",
    }
}

/// Keys that can wrap a data key for `layout`. Any key sealant cannot wrap for is an
/// error naming every such key: the caller says how to proceed (remove them, or use
/// sops), so nobody loses access without being told.
pub fn master_keys(layout: &KeyLayout) -> Result<Vec<Vec<Box<dyn MasterKey>>>> {
    let others: Vec<String> = layout
        .iter()
        .flatten()
        .filter(|k| matches!(k, KeySpec::Other { .. }))
        .map(KeySpec::describe)
        .collect();
    if !others.is_empty() {
        return Err(Error::Usage(format!(
            "the data key cannot be wrapped for {} (sealant writes age keys only)",
            others.join(", ")
        )));
    }
    layout
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|k| {
                    let mut parsed = parse_recipients(k.id())?;
                    match (parsed.pop(), parsed.is_empty()) {
                        (Some(r), true) => Ok(Box::new(r) as Box<dyn MasterKey>),
                        // Not echoed: it was not read as a public key.
                        _ => Err(Error::Recipient(
                            "a key entry does not hold exactly one age recipient".into(),
                        )),
                    }
                })
                .collect()
        })
        .collect()
}

/// Adds keys to the first group (as sops's `rotate --add-*`), skipping keys it already
/// has. An empty layout gets a first group.
pub fn add_to_first_group(layout: &mut KeyLayout, keys: &[KeySpec]) {
    if layout.is_empty() {
        layout.push(Vec::new());
    }
    for key in keys {
        if !layout[0].contains(key) {
            layout[0].push(key.clone());
        }
    }
}

/// Removes keys from every group (as sops's `rotate --rm-*`: matched by kind and the
/// string sops identifies them by). Returns the keys that were in no group.
pub fn remove_keys(layout: &mut KeyLayout, keys: &[KeySpec]) -> Vec<KeySpec> {
    let mut unmatched = Vec::new();
    for key in keys {
        let mut found = false;
        for group in layout.iter_mut() {
            let before = group.len();
            group.retain(|k| k != key);
            found |= group.len() != before;
        }
        if !found {
            unmatched.push(key.clone());
        }
    }
    unmatched
}

/// The keys of `old` that are in no group of `new`: parties that knew the data key (or
/// a share of it) and lose their way in.
pub fn removed_parties(old: &KeyLayout, new: &KeyLayout) -> Vec<KeySpec> {
    let kept: HashSet<&KeySpec> = new.iter().flatten().collect();
    let mut seen = HashSet::new();
    old.iter()
        .flatten()
        .filter(|k| !kept.contains(k) && seen.insert(*k))
        .cloned()
        .collect()
}

/// What changes in one group (sops's `DiffKeyGroups`: groups are compared by position,
/// keys by their string, order inside a group does not count).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDiff {
    pub common: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// The per-group differences between two layouts.
pub fn diff(old: &KeyLayout, new: &KeyLayout) -> Vec<GroupDiff> {
    let empty = Vec::new();
    (0..old.len().max(new.len()))
        .map(|i| {
            let ours = old.get(i).unwrap_or(&empty);
            let theirs = new.get(i).unwrap_or(&empty);
            let our_ids: HashSet<&str> = ours.iter().map(KeySpec::id).collect();
            let their_ids: HashSet<&str> = theirs.iter().map(KeySpec::id).collect();
            let mut d = GroupDiff::default();
            for k in theirs {
                let list = if our_ids.contains(k.id()) {
                    &mut d.common
                } else {
                    &mut d.added
                };
                list.push(k.id().to_string());
            }
            d.removed = ours
                .iter()
                .filter(|k| !their_ids.contains(k.id()))
                .map(|k| k.id().to_string())
                .collect();
            d
        })
        .collect()
}

/// The threshold that counts: `None` with one group (it is then ignored), else the
/// stored value, or the number of groups when 0.
pub fn effective_threshold(groups: usize, threshold: usize) -> Option<usize> {
    match (groups, threshold) {
        (0 | 1, _) => None,
        (n, 0) => Some(n),
        (_, t) => Some(t),
    }
}

/// What `updatekeys` would change in one file.
#[derive(Debug, Clone)]
pub struct Update {
    pub old: KeyLayout,
    pub new: KeyLayout,
    pub old_threshold: usize,
    /// The threshold written: the one asked for (flag, else the rule's), else with
    /// several groups their number, as `encrypt` writes for the rule.
    pub new_threshold: usize,
}

impl Update {
    /// The update that brings `metadata` in line with `new` (a rule's layout).
    /// `wanted`: `--shamir-secret-sharing-threshold`, else the rule's (0: none).
    pub fn new(metadata: &Metadata, new: KeyLayout, wanted: usize) -> Update {
        let new_threshold = match (new.len(), wanted) {
            (n, 0) if n > 1 => n,
            (_, t) => t,
        };
        Update {
            old: layout_of(metadata),
            new,
            old_threshold: metadata.shamir_threshold,
            new_threshold,
        }
    }

    pub fn diffs(&self) -> Vec<GroupDiff> {
        diff(&self.old, &self.new)
    }

    /// Whether any key is added or removed.
    pub fn keys_change(&self) -> bool {
        self.diffs()
            .iter()
            .any(|d| !d.added.is_empty() || !d.removed.is_empty())
    }

    /// Whether the threshold that counts changes (a threshold stored with a single
    /// group means nothing, so it alone never makes a file out of date).
    pub fn threshold_changes(&self) -> bool {
        effective_threshold(self.old.len(), self.old_threshold)
            != effective_threshold(self.new.len(), self.new_threshold)
    }

    /// Whether the file is already in line.
    pub fn is_noop(&self) -> bool {
        !self.keys_change() && !self.threshold_changes()
    }

    /// Parties that lose access.
    pub fn removed(&self) -> Vec<KeySpec> {
        removed_parties(&self.old, &self.new)
    }

    /// The change as sops prints it (`PrettyPrintShamirDiff`, `PrettyPrintDiffs`).
    pub fn render(&self) -> String {
        let mut out = String::from("The following changes will be made to the file's groups:\n");
        let (old, new) = (self.old_threshold, self.new_threshold);
        if old > 0 && old == new {
            let _ = writeln!(out, "shamir_threshold: {new}");
        } else {
            if new > 0 {
                let _ = writeln!(out, "+++ shamir_threshold: {new}");
            }
            if old > 0 {
                let _ = writeln!(out, "--- shamir_threshold: {old}");
            }
        }
        for (i, d) in self.diffs().iter().enumerate() {
            let _ = writeln!(out, "Group {}", i + 1);
            for k in &d.common {
                let _ = writeln!(out, "    {k}");
            }
            for k in &d.added {
                let _ = writeln!(out, "+++ {k}");
            }
            for k in &d.removed {
                let _ = writeln!(out, "--- {k}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(s: &str) -> KeySpec {
        KeySpec::Age(s.into())
    }
    fn pgp(s: &str) -> KeySpec {
        KeySpec::Other {
            kind: "pgp".into(),
            id: s.into(),
        }
    }

    #[test]
    fn diff_is_by_position_and_ignores_order_inside_a_group() {
        let old = vec![vec![age("a"), age("b")], vec![age("c")]];
        let new = vec![vec![age("b"), age("a"), age("d")]];
        let d = diff(&old, &new);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].common, ["b", "a"]);
        assert_eq!(d[0].added, ["d"]);
        assert!(d[0].removed.is_empty());
        assert_eq!(d[1].removed, ["c"]);
        assert!(diff(&old, &old)
            .iter()
            .all(|g| g.added.is_empty() && g.removed.is_empty()));
    }

    #[test]
    fn a_key_moving_between_groups_is_not_a_removed_party() {
        let old = vec![vec![age("a")], vec![age("b"), pgp("F")]];
        let new = vec![vec![age("b")], vec![age("a")]];
        assert_eq!(removed_parties(&old, &new), [pgp("F")]);
        assert!(removed_parties(&new, &old).is_empty());
    }

    #[test]
    fn add_and_remove_as_sops_rotate_does_without_duplicates() {
        let mut l = vec![vec![age("a")], vec![age("b"), age("a")]];
        add_to_first_group(&mut l, &[age("a"), age("c")]);
        assert_eq!(l[0], [age("a"), age("c")]);
        let unmatched = remove_keys(&mut l, &[age("a"), age("zz")]);
        assert_eq!(l, [vec![age("c")], vec![age("b")]]);
        assert_eq!(unmatched, [age("zz")]);
    }

    #[test]
    fn other_kinds_are_refused_by_name() {
        let err = master_keys(&vec![vec![pgp("FP1")]])
            .unwrap_err()
            .to_string();
        assert!(err.contains("pgp FP1"), "{err}");
    }

    #[test]
    fn thresholds_count_only_with_several_groups() {
        assert_eq!(effective_threshold(1, 1), None);
        assert_eq!(effective_threshold(3, 0), Some(3));
        assert_eq!(effective_threshold(3, 2), Some(2));
    }

    #[test]
    fn render_matches_sops_text() {
        let u = Update {
            old: vec![vec![age("a"), age("b")]],
            new: vec![vec![age("a"), age("c")], vec![age("d")]],
            old_threshold: 0,
            new_threshold: 2,
        };
        assert_eq!(
            u.render(),
            "The following changes will be made to the file's groups:\n\
             +++ shamir_threshold: 2\nGroup 1\n    a\n+++ c\n--- b\nGroup 2\n+++ d\n"
        );
        assert!(u.keys_change() && u.threshold_changes() && !u.is_noop());
        assert_eq!(u.removed(), [age("b")]);
    }
}
