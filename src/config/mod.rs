//! `.sops.yaml`: where it is, what its creation rules say, and which rule a file gets
//! (spec §10). Pure: the caller passes the working directory and the values of
//! `--config` and `SOPS_CONFIG`; nothing here reads the environment.
//!
//! What sops 3.11 does, read in getsops/sops `config/config.go` (`LookupConfigFile`,
//! `parseCreationRuleForFile`, `getKeyGroupsFromCreationRule`) and `cmd/sops/main.go`
//! (`findConfigFile`, `loadConfig`, `keyGroups`, `getEncryptConfig`), and checked
//! against the binary:
//!
//! * **Discovery** starts at the *working directory*, not the file's directory
//!   (`LookupConfigFile(".")`), and tries `.sops.yaml` there and in each parent, 100
//!   levels at most. Only `.sops.yaml` is used: a `.sops.yml` met on the way only earns
//!   a warning that names it.
//! * `--config PATH`, or else a non-empty `SOPS_CONFIG`, skips the search. `/dev/null`
//!   reads as an empty config: no rules.
//! * **Matching**: the rules are tried in order and the first match wins. A rule without
//!   `path_regex` (or with an empty one) matches everything. `path_regex` is an
//!   unanchored RE2 search on the file's absolute path (Go's `filepath.Abs`: joined to
//!   the working directory and cleaned lexically) with `<config dir>/` cut from its
//!   front; a file outside the config's directory is matched by its whole absolute
//!   path. With `--filename-override` that name is used instead of the file's.
//!
//! sealant is stricter than sops in one way, on purpose: the whole `creation_rules`
//! list is checked when the config is read (sops checks only the rules it reaches, and
//! silently ignores misspelt keys such as `encrypted-regex`). A malformed config is an
//! error naming the file, the line:column and the key. Other top-level keys are ignored,
//! as in sops (a `keys:` list of YAML anchors is a common idiom).

mod explain;

pub use explain::{Explanation, RuleOutcome};

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use regex::Regex;

use crate::error::{Error, Location, Result};
use crate::keys::{parse_recipients, MasterKey};
use crate::metadata::Selection;
use crate::store::yaml::lex::Lines;
use crate::tree::{Holder, Item, ListItem, Node, Scalar, Span};

/// The only name sops uses.
pub const FILE_NAME: &str = ".sops.yaml";
/// A name sops recognises only to warn that it is ignored.
pub const IGNORED_NAME: &str = ".sops.yml";
/// How many directories the search looks at (the working directory and its parents).
const MAX_DEPTH: usize = 100;

/// How the config file was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--config PATH`.
    Flag,
    /// `SOPS_CONFIG`.
    Env,
    /// Searched upward from the working directory.
    Search,
}

/// The outcome of [`locate`].
#[derive(Debug, Clone)]
pub struct Located {
    /// The config file (absolute, cleaned), or `None` when the search found none.
    pub path: Option<PathBuf>,
    pub source: Source,
    /// The directory the search started from (the working directory).
    pub searched_from: PathBuf,
    /// A `.sops.yml` that was ignored, to warn about (sops warns the same way).
    pub ignored: Option<PathBuf>,
}

impl Located {
    /// The warning sops prints about an ignored `.sops.yml`, if any.
    pub fn warning(&self) -> Option<String> {
        let ignored = self.ignored.as_ref()?;
        Some(match &self.path {
            Some(used) if self.source == Source::Search => format!(
                "ignoring {} when searching for the config file: it must be called {FILE_NAME}; \
                 using {} instead",
                ignored.display(),
                used.display()
            ),
            _ => format!(
                "ignoring {} when searching for the config file: it must be called {FILE_NAME}",
                ignored.display()
            ),
        })
    }
}

/// Chooses the config file as sops does: `--config`, else a non-empty `SOPS_CONFIG`,
/// else the nearest `.sops.yaml` from `cwd` upward. `cwd` must be absolute.
pub fn locate(cwd: &Path, flag: Option<&Path>, env: Option<&str>) -> Located {
    let given = flag
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| (p.to_path_buf(), Source::Flag))
        .or_else(|| {
            env.filter(|v| !v.is_empty())
                .map(|v| (PathBuf::from(v), Source::Env))
        });
    match given {
        Some((path, source)) => Located {
            path: Some(absolute(cwd, &path)),
            source,
            searched_from: cwd.to_path_buf(),
            ignored: None,
        },
        None => {
            let (path, ignored) = search(cwd);
            Located {
                path,
                source: Source::Search,
                searched_from: cwd.to_path_buf(),
                ignored,
            }
        }
    }
}

/// The nearest `.sops.yaml` in `start` or its parents, and the first `.sops.yml` seen
/// before it (ignored). Parents are reached with `..` as sops does (so through a
/// symbolic link the physical parent is searched), and the result is cleaned lexically.
pub fn search(start: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
    let mut dir = start.to_path_buf();
    let mut ignored = None;
    let mut last = None;
    for _ in 0..MAX_DEPTH {
        // Past the root, `..` is the root again: nothing new to look at. (Compared
        // physically: through a symbolic link, `..` is not the lexical parent.)
        let here = dir.canonicalize().ok();
        if here.is_some() && here == last {
            break;
        }
        last = here;
        let candidate = dir.join(FILE_NAME);
        if candidate.metadata().is_ok() {
            return (Some(clean(&candidate)), ignored);
        }
        if ignored.is_none() {
            let alternate = dir.join(IGNORED_NAME);
            if alternate.metadata().is_ok() {
                ignored = Some(clean(&alternate));
            }
        }
        dir.push("..");
    }
    (None, ignored)
}

/// Go's `filepath.Abs`: joined to `cwd` unless absolute, then cleaned.
pub fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        clean(path)
    } else {
        clean(&cwd.join(path))
    }
}

/// Go's `filepath.Clean`: drops `.` and empty parts, resolves `..` lexically (at the
/// root it stays the root), never touches the file system.
pub fn clean(path: &Path) -> PathBuf {
    let mut parts: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(c),
            },
            _ => parts.push(c),
        }
    }
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}

/// A kind of master key a rule can name. sealant encrypts for age only; the others are
/// read so that a rule can be explained and a clear error given when one is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Age,
    Pgp,
    Kms,
    GcpKms,
    Hckms,
    AzureKeyVault,
    HcVault,
}

impl KeyKind {
    /// The name used in `.sops.yaml` key groups.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Age => "age",
            KeyKind::Pgp => "pgp",
            KeyKind::Kms => "kms",
            KeyKind::GcpKms => "gcp_kms",
            KeyKind::Hckms => "hckms",
            KeyKind::AzureKeyVault => "azure_keyvault",
            KeyKind::HcVault => "hc_vault",
        }
    }
}

/// One key named by a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub kind: KeyKind,
    /// The recipient, fingerprint, ARN, resource id, URL...
    pub id: String,
    /// Where it is written in the config.
    pub at: Option<Location>,
}

/// One creation rule, checked.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Position in `creation_rules` (0-based).
    pub index: usize,
    /// Where the rule starts in the config.
    pub at: Option<Location>,
    /// `path_regex`, if set and not empty, with its compiled form.
    pub path_regex: Option<(String, Regex)>,
    /// The key groups this rule gives, in order (one group for the flat key fields).
    pub key_groups: Vec<Vec<KeyRef>>,
    /// Whether the groups come from `key_groups` (the flat key fields are then ignored,
    /// as in sops).
    pub uses_key_groups: bool,
    /// The rule has flat key fields (`age`, `pgp`...) that `key_groups` overrides.
    pub flat_keys_ignored: bool,
    /// `shamir_threshold` (0 when absent).
    pub shamir_threshold: usize,
    pub shamir_threshold_at: Option<Location>,
    pub selection: Option<Selection>,
    pub mac_only_encrypted: bool,
}

impl Rule {
    /// Whether the rule applies to `target` (see [`Config::target`]).
    pub fn matches(&self, target: &str) -> bool {
        self.path_regex
            .as_ref()
            .is_none_or(|(_, re)| re.is_match(target))
    }

    /// `creation_rules[i]`, for messages.
    pub fn name(&self) -> String {
        format!("creation_rules[{}]", self.index)
    }
}

/// A parsed `.sops.yaml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file (absolute).
    pub file: PathBuf,
    /// `None` when the file has no `creation_rules` (or it is null): sops then behaves as
    /// if there were no config at all. `Some(empty)` matches nothing.
    pub creation_rules: Option<Vec<Rule>>,
}

/// Which rule a file gets.
#[derive(Debug)]
pub struct RuleMatch<'a> {
    /// The string `path_regex` was matched against.
    pub target: String,
    /// The first matching rule; every rule before it was tried and did not match.
    pub rule: Option<&'a Rule>,
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(file: &Path) -> Result<Config> {
        let name = file.display().to_string();
        let bytes = std::fs::read(file).map_err(|e| Error::Config {
            file: name.clone(),
            at: None,
            what: format!("could not read the config file: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| Error::Config {
            file: name,
            at: None,
            what: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Config::parse(&text, file)
    }

    /// Checks a config's text; `file` names it in errors and anchors `path_regex`.
    pub fn parse(text: &str, file: &Path) -> Result<Config> {
        let name = file.display().to_string();
        let empty = Config {
            file: file.to_path_buf(),
            creation_rules: None,
        };
        // An empty or comment-only file is an empty config for sops (no document).
        let blank = text.trim_start_matches('\u{feff}').lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
        });
        if blank {
            return Ok(empty);
        }
        let (parsed, _) = crate::store::yaml::parse(text, &name).map_err(|e| match e {
            Error::Parse { file, at, what } => Error::Config {
                file,
                at: Some(at),
                what: format!("not valid YAML: {what}"),
            },
            Error::Input { file, what, .. } => Error::Config {
                file,
                at: None,
                what,
            },
            other => other,
        })?;
        // Like go-yaml's Unmarshal, only the first document counts.
        let Some(doc) = parsed.docs.first() else {
            return Ok(empty);
        };
        let reader = Reader::new(text, name, &doc.items);
        let rules = doc.items.iter().find_map(|i| match i {
            Item::Entry { key, value } if key == "creation_rules" => Some(value),
            _ => None,
        });
        let creation_rules = match rules {
            None | Some(Node::Null(_)) => None,
            Some(Node::List(items)) => Some(
                nodes(items)
                    .enumerate()
                    .map(|(i, n)| reader.rule(i, n))
                    .collect::<Result<Vec<_>>>()?,
            ),
            Some(other) => {
                return Err(reader.type_error(other, "creation_rules", "a list of rules"))
            }
        };
        Ok(Config {
            file: file.to_path_buf(),
            creation_rules,
        })
    }

    /// The directory `path_regex` is relative to: the config file's (cleaned).
    pub fn dir(&self) -> PathBuf {
        clean(self.file.parent().unwrap_or(Path::new("/")))
    }

    /// The string `path_regex` is matched against for a file at `abs_file` (absolute):
    /// the path with `<config dir>/` cut from its front when it starts with it.
    pub fn target(&self, abs_file: &Path) -> String {
        let file = abs_file.to_string_lossy();
        let prefix = format!("{}/", self.dir().to_string_lossy());
        file.strip_prefix(prefix.as_str())
            .unwrap_or(&file)
            .to_string()
    }

    /// The first rule that matches the file at `abs_file` (absolute).
    pub fn find_rule(&self, abs_file: &Path) -> RuleMatch<'_> {
        let target = self.target(abs_file);
        let rule = self
            .creation_rules
            .iter()
            .flatten()
            .find(|r| r.matches(&target));
        RuleMatch { target, rule }
    }

    /// The master keys of a rule, ready to wrap a data key. A rule that names a key
    /// sealant cannot wrap for (pgp, cloud KMS, Vault) is an error naming it.
    pub fn master_keys(&self, rule: &Rule) -> Result<Vec<Vec<Box<dyn MasterKey>>>> {
        rule.key_groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|k| self.master_key(rule, k))
                    .collect::<Result<Vec<_>>>()
            })
            .collect()
    }

    fn master_key(&self, rule: &Rule, key: &KeyRef) -> Result<Box<dyn MasterKey>> {
        let err = |what: String| Error::Config {
            file: self.file.display().to_string(),
            at: key.at.clone(),
            what: format!("{}: {what}", rule.name()),
        };
        if key.kind != KeyKind::Age {
            return Err(err(format!(
                "the rule asks for a {} key; sealant encrypts for age recipients only \
                 (give --age to use other keys for this file)",
                key.kind.name()
            )));
        }
        let mut parsed = parse_recipients(&key.id).map_err(|e| err(e.to_string()))?;
        match (parsed.pop(), parsed.is_empty()) {
            (Some(r), true) => Ok(Box::new(r)),
            _ => Err(err("expected one age recipient".into())),
        }
    }
}

/// The elements of a list, without its comments.
fn nodes(items: &[ListItem]) -> impl Iterator<Item = &Node> {
    items.iter().filter_map(|i| match i {
        ListItem::Node(n) => Some(n),
        ListItem::Comment(_) => None,
    })
}

/// The first and last byte of a subtree's values (comments left out: they are not
/// always in text order in the tree). `None` for a subtree with no text of its own (an
/// empty collection, an alias copy).
fn extent(node: &Node) -> Option<(usize, usize)> {
    match node {
        Node::Scalar(leaf) => leaf.span.as_ref().map(|s| (s.bytes.start, s.bytes.end)),
        Node::Null(span) => span.as_ref().map(|s| (s.bytes.start, s.bytes.end)),
        Node::Map(items) => merge_extents(items.iter().filter_map(|i| match i {
            Item::Entry { value, .. } => extent(value),
            Item::Comment(_) => None,
        })),
        Node::List(items) => merge_extents(nodes(items).filter_map(extent)),
    }
}

fn merge_extents(it: impl Iterator<Item = (usize, usize)>) -> Option<(usize, usize)> {
    it.reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
}

fn scalar_span(node: &Node) -> Option<&Span> {
    match node {
        Node::Scalar(leaf) => leaf.span.as_ref(),
        Node::Null(span) => span.as_ref(),
        _ => None,
    }
}

/// Finds where each map key is written. The tree keeps spans for values only, so keys
/// are found in the text: a block scalar's span knows its key; otherwise the key is
/// searched between the end of the previous value and the start of its own value.
/// Only used for messages.
struct KeyIndex {
    /// Address of a value node -> byte offset of its key.
    at: HashMap<usize, usize>,
    /// Start of every value in text order, to bound searches for keys of values with
    /// no text of their own.
    starts: Vec<usize>,
}

fn addr(node: &Node) -> usize {
    std::ptr::from_ref(node) as usize
}

impl KeyIndex {
    fn build(text: &str, items: &[Item]) -> KeyIndex {
        let mut index = KeyIndex {
            at: HashMap::new(),
            starts: Vec::new(),
        };
        index.collect_starts(items);
        index.starts.sort_unstable();
        let mut cursor = 0;
        index.walk_map(text, items, &mut cursor);
        index
    }

    fn collect_starts(&mut self, items: &[Item]) {
        for item in items {
            if let Item::Entry { value, .. } = item {
                self.collect_node_starts(value);
            }
        }
    }

    fn collect_node_starts(&mut self, node: &Node) {
        match node {
            Node::Map(items) => self.collect_starts(items),
            Node::List(items) => nodes(items).for_each(|n| self.collect_node_starts(n)),
            _ => {
                if let Some(s) = scalar_span(node) {
                    self.starts.push(s.bytes.start);
                }
            }
        }
    }

    fn walk_map(&mut self, text: &str, items: &[Item], cursor: &mut usize) {
        for item in items {
            let Item::Entry { key, value } = item else {
                continue;
            };
            let own = extent(value);
            let held = scalar_span(value).and_then(|s| match s.holder {
                Holder::Key { at, .. } => Some(at),
                _ => None,
            });
            let limit = match own {
                Some((start, _)) => start,
                None => {
                    let next = self.starts.partition_point(|&s| s < *cursor);
                    self.starts.get(next).copied().unwrap_or(text.len())
                }
            };
            let at = held.or_else(|| find_key(text, *cursor, limit, key));
            if let Some(at) = at {
                self.at.insert(addr(value), at);
                *cursor = (*cursor).max(at + key.len());
            }
            if own.is_some() {
                self.walk(text, value, cursor);
            }
        }
    }

    fn walk(&mut self, text: &str, node: &Node, cursor: &mut usize) {
        match node {
            Node::Map(items) => self.walk_map(text, items, cursor),
            Node::List(items) => nodes(items).for_each(|n| self.walk(text, n, cursor)),
            _ => {
                if let Some(s) = scalar_span(node) {
                    *cursor = (*cursor).max(s.bytes.end);
                }
            }
        }
    }
}

/// The first `key:` (plain or quoted) in `text[from..limit]` outside comments.
fn find_key(text: &str, from: usize, limit: usize, key: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let limit = limit.min(bytes.len());
    let forms = [key.to_string(), format!("\"{key}\""), format!("'{key}'")];
    let mut i = from;
    while i < limit {
        let before = if i == 0 { b'\n' } else { bytes[i - 1] };
        if bytes[i] == b'#' && before.is_ascii_whitespace() {
            while i < limit && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if matches!(
            before,
            b' ' | b'\t' | b'\n' | b'\r' | b'{' | b',' | b'-' | b'?'
        ) {
            for form in &forms {
                if bytes[i..limit].starts_with(form.as_bytes()) {
                    let mut j = i + form.len();
                    while j < limit && (bytes[j] == b' ' || bytes[j] == b'\t') {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&b':') {
                        return Some(i);
                    }
                }
            }
        }
        i += 1;
    }
    None
}

/// Reads the creation rules out of the tree, with places for messages.
struct Reader<'a> {
    text: &'a str,
    file: String,
    lines: Lines,
    keys: KeyIndex,
}

/// The selection options, by their `.sops.yaml` names.
const SELECTION_FIELDS: [&str; 6] = Selection::FIELDS;
const FLAT_KEY_FIELDS: [&str; 7] = [
    "age",
    "pgp",
    "kms",
    "gcp_kms",
    "hckms",
    "azure_keyvault",
    "hc_vault_transit_uri",
];
const RULE_FIELDS: [&str; 5] = [
    "path_regex",
    "aws_profile",
    "key_groups",
    "shamir_threshold",
    "mac_only_encrypted",
];
const GROUP_FIELDS: [&str; 8] = [
    "merge",
    "age",
    "pgp",
    "kms",
    "gcp_kms",
    "hckms",
    "azure_keyvault",
    "hc_vault",
];

impl<'a> Reader<'a> {
    fn new(text: &'a str, file: String, items: &[Item]) -> Reader<'a> {
        Reader {
            text,
            file,
            lines: Lines::new(text),
            keys: KeyIndex::build(text, items),
        }
    }

    fn location(&self, byte: Option<usize>) -> Option<Location> {
        byte.map(|b| self.lines.location(self.text, b))
    }

    /// Where a value's key is written.
    fn key_at(&self, value: &Node) -> Option<Location> {
        self.location(self.keys.at.get(&addr(value)).copied())
    }

    /// Where a value is written (its first byte), else where its key is.
    fn value_at(&self, value: &Node) -> Option<Location> {
        self.location(extent(value).map(|(s, _)| s))
            .or_else(|| self.key_at(value))
    }

    fn error(&self, at: Option<Location>, what: String) -> Error {
        Error::Config {
            file: self.file.clone(),
            at,
            what,
        }
    }

    /// A value of the wrong type: placed at the value when it is a scalar, at its key
    /// when it is a collection (a list's first element is not where the mistake is).
    fn type_error(&self, node: &Node, path: &str, expected: &str) -> Error {
        let at = match node {
            Node::Map(_) | Node::List(_) => self.key_at(node).or_else(|| self.value_at(node)),
            _ => self.value_at(node),
        };
        self.error(
            at,
            format!("{path}: expected {expected}, found {}", describe(node)),
        )
    }

    fn unknown_key(&self, value: &Node, path: &str, key: &str, known: &[&str]) -> Error {
        let dashed = key.replace('-', "_");
        let hint = if dashed != key && known.contains(&dashed.as_str()) {
            format!(" (did you mean `{dashed}`?)")
        } else {
            format!("; known keys here: {}", known.join(", "))
        };
        self.error(
            self.key_at(value).or_else(|| self.value_at(value)),
            format!("{path}: unknown key `{}`{hint}", printable_key(key)),
        )
    }

    /// A map's entries, with YAML merge keys (`<<: *anchor`) applied as go-yaml applies
    /// them: keys written in the map win over merged ones.
    fn entries<'n>(&self, node: &'n Node, path: &str) -> Result<Vec<(&'n str, &'n Node)>> {
        let Node::Map(items) = node else {
            return Err(self.type_error(node, path, "a map"));
        };
        let mut own: Vec<(&str, &Node)> = Vec::new();
        let mut merged: Vec<(&str, &Node)> = Vec::new();
        for item in items {
            let Item::Entry { key, value } = item else {
                continue;
            };
            if key == "<<" {
                let sources: Vec<&Node> = match value {
                    Node::List(list) => nodes(list).collect(),
                    other => vec![other],
                };
                for source in sources {
                    for (k, v) in self.entries(source, path)? {
                        if !merged.iter().any(|(m, _)| *m == k) {
                            merged.push((k, v));
                        }
                    }
                }
            } else {
                own.push((key.as_str(), value));
            }
        }
        for (k, v) in merged {
            if !own.iter().any(|(o, _)| *o == k) {
                own.push((k, v));
            }
        }
        Ok(own)
    }

    /// A string field: go-yaml gives a scalar's source text; null is "".
    fn string(&self, node: &Node, path: &str) -> Result<String> {
        match node {
            Node::Null(_) => Ok(String::new()),
            Node::Scalar(leaf) => Ok(match &leaf.value {
                Scalar::Str(s) => s.clone(),
                other => leaf
                    .span
                    .as_ref()
                    .and_then(|s| self.text.get(s.bytes.clone()))
                    .map(str::to_string)
                    .unwrap_or_else(|| scalar_text(other)),
            }),
            _ => Err(self.type_error(node, path, "a string")),
        }
    }

    /// A list of strings (`[]string` in sops): null is empty.
    fn strings(&self, node: &Node, path: &str) -> Result<Vec<(String, Option<Location>)>> {
        match node {
            Node::Null(_) => Ok(Vec::new()),
            Node::List(items) => nodes(items)
                .enumerate()
                .map(|(i, n)| Ok((self.string(n, &format!("{path}[{i}]"))?, self.value_at(n))))
                .collect(),
            _ => Err(self.type_error(node, path, "a list of strings")),
        }
    }

    /// A key field of a rule: a comma-separated string or a list of strings.
    fn string_or_list(&self, node: &Node, path: &str) -> Result<Vec<(String, Option<Location>)>> {
        match node {
            Node::Null(_) => Ok(Vec::new()),
            Node::Scalar(leaf) => match &leaf.value {
                Scalar::Str(s) => Ok(vec![(s.clone(), self.value_at(node))]),
                _ => Err(self.type_error(node, path, "a string or a list of strings")),
            },
            Node::List(items) => nodes(items)
                .enumerate()
                .map(|(i, n)| match n {
                    Node::Scalar(leaf) => match &leaf.value {
                        Scalar::Str(s) => Ok((s.clone(), self.value_at(n))),
                        _ => Err(self.type_error(n, &format!("{path}[{i}]"), "a string")),
                    },
                    _ => Err(self.type_error(n, &format!("{path}[{i}]"), "a string")),
                })
                .collect(),
            Node::Map(_) => Err(self.type_error(node, path, "a string or a list of strings")),
        }
    }

    /// An `int` field: an integer (or a whole float, as go-yaml allows); null is 0.
    fn integer(&self, node: &Node, path: &str) -> Result<usize> {
        let value = match node {
            Node::Null(_) => Some(0),
            Node::Scalar(leaf) => match &leaf.value {
                Scalar::Int(i) => usize::try_from(*i).ok(),
                Scalar::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1e9 => Some(*f as usize),
                _ => None,
            },
            _ => None,
        };
        value.ok_or_else(|| self.type_error(node, path, "a whole number, 0 or more"))
    }

    /// A `bool` field: true/false, or the YAML 1.1 words go-yaml still accepts for a
    /// bool (yes/no/on/off/y/n); null is false.
    fn boolean(&self, node: &Node, path: &str) -> Result<bool> {
        match node {
            Node::Null(_) => return Ok(false),
            Node::Scalar(leaf) => match &leaf.value {
                Scalar::Bool(b) => return Ok(*b),
                Scalar::Str(s) => match s.as_str() {
                    "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Ok(true),
                    "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Ok(false),
                    _ => {}
                },
                _ => {}
            },
            _ => {}
        }
        Err(self.type_error(node, path, "true or false"))
    }

    fn regex(&self, node: &Node, path: &str, pattern: &str) -> Result<Regex> {
        Regex::new(pattern).map_err(|e| {
            // The crate's message repeats the pattern over several lines; its last
            // line says what is wrong.
            let text = e.to_string();
            let why = text.lines().last().unwrap_or("invalid").trim();
            let why = why.strip_prefix("error: ").unwrap_or(why);
            self.error(
                self.value_at(node),
                format!("{path}: invalid regular expression: {why}"),
            )
        })
    }

    fn rule(&self, index: usize, node: &Node) -> Result<Rule> {
        let path = format!("creation_rules[{index}]");
        let fields = match node {
            Node::Null(_) => Vec::new(),
            _ => self.entries(node, &path)?,
        };
        let mut rule = Rule {
            index,
            at: fields
                .first()
                .and_then(|(_, v)| self.key_at(v))
                .or_else(|| self.value_at(node)),
            path_regex: None,
            key_groups: Vec::new(),
            uses_key_groups: false,
            flat_keys_ignored: false,
            shamir_threshold: 0,
            shamir_threshold_at: None,
            selection: None,
            mac_only_encrypted: false,
        };
        let mut flat: Vec<Vec<KeyRef>> = vec![Vec::new(); FLAT_KEY_FIELDS.len()];
        let mut groups: Vec<Vec<KeyRef>> = Vec::new();
        for (key, value) in fields {
            let here = format!("{path}.{key}");
            match key {
                "path_regex" => {
                    let pattern = self.string(value, &here)?;
                    if !pattern.is_empty() {
                        let re = self.regex(value, &here, &pattern)?;
                        rule.path_regex = Some((pattern, re));
                    }
                }
                "aws_profile" => {
                    self.string(value, &here)?;
                }
                "key_groups" => {
                    groups = match value {
                        Node::Null(_) => Vec::new(),
                        Node::List(items) => nodes(items)
                            .enumerate()
                            .map(|(i, g)| self.group(g, &format!("{here}[{i}]")))
                            .collect::<Result<_>>()?,
                        other => return Err(self.type_error(other, &here, "a list of key groups")),
                    };
                }
                "shamir_threshold" => {
                    rule.shamir_threshold = self.integer(value, &here)?;
                    rule.shamir_threshold_at = self.value_at(value);
                }
                "mac_only_encrypted" => rule.mac_only_encrypted = self.boolean(value, &here)?,
                _ if SELECTION_FIELDS.contains(&key) => {
                    let v = self.string(value, &here)?;
                    if v.is_empty() {
                        continue;
                    }
                    if key.ends_with("_regex") {
                        self.regex(value, &here, &v)?;
                    }
                    if let Some(before) = &rule.selection {
                        return Err(self.error(
                            self.key_at(value).or_else(|| self.value_at(value)),
                            format!(
                                "{path}: cannot use more than one of {} in one rule (`{}` \
                                 is already set)",
                                SELECTION_FIELDS.join(", "),
                                before.field()
                            ),
                        ));
                    }
                    rule.selection = Selection::from_field(key, v);
                }
                _ if FLAT_KEY_FIELDS.contains(&key) => {
                    let slot = FLAT_KEY_FIELDS.iter().position(|f| *f == key).unwrap_or(0);
                    let kind = match key {
                        "age" => KeyKind::Age,
                        "pgp" => KeyKind::Pgp,
                        "kms" => KeyKind::Kms,
                        "gcp_kms" => KeyKind::GcpKms,
                        "hckms" => KeyKind::Hckms,
                        "azure_keyvault" => KeyKind::AzureKeyVault,
                        _ => KeyKind::HcVault,
                    };
                    let items = if key == "hckms" {
                        self.strings(value, &here)?
                    } else {
                        self.string_or_list(value, &here)?
                    };
                    flat[slot] = split_keys(kind, items);
                }
                _ => {
                    let mut known: Vec<&str> = RULE_FIELDS.to_vec();
                    known.extend(FLAT_KEY_FIELDS);
                    known.extend(SELECTION_FIELDS);
                    return Err(self.unknown_key(value, &path, key, &known));
                }
            }
        }
        if groups.is_empty() {
            // sops's order inside the one group: age, pgp, kms, gcp, hckms, azure, vault.
            rule.key_groups = vec![dedupe(flat.into_iter().flatten().collect())];
        } else {
            rule.key_groups = groups;
            rule.uses_key_groups = true;
            rule.flat_keys_ignored = flat.iter().any(|keys| !keys.is_empty());
        }
        Ok(rule)
    }

    /// One entry of `key_groups` (sops's `keyGroup`): `merge` first, then age, pgp, kms,
    /// gcp_kms, hckms, azure_keyvault, hc_vault; duplicates removed.
    fn group(&self, node: &Node, path: &str) -> Result<Vec<KeyRef>> {
        let fields = match node {
            Node::Null(_) => Vec::new(),
            _ => self.entries(node, path)?,
        };
        let mut slots: Vec<Vec<KeyRef>> = vec![Vec::new(); GROUP_FIELDS.len()];
        for (key, value) in fields {
            let here = format!("{path}.{key}");
            let Some(slot) = GROUP_FIELDS.iter().position(|f| *f == key) else {
                return Err(self.unknown_key(value, path, key, &GROUP_FIELDS));
            };
            slots[slot] = match key {
                "merge" => match value {
                    Node::Null(_) => Vec::new(),
                    Node::List(items) => {
                        let mut keys = Vec::new();
                        for (i, g) in nodes(items).enumerate() {
                            keys.extend(self.group(g, &format!("{here}[{i}]"))?);
                        }
                        keys
                    }
                    other => return Err(self.type_error(other, &here, "a list of key groups")),
                },
                "age" => split_keys(KeyKind::Age, self.strings(value, &here)?),
                "pgp" => split_keys(KeyKind::Pgp, self.strings(value, &here)?),
                "hc_vault" => split_keys(KeyKind::HcVault, self.strings(value, &here)?),
                "kms" => self.key_maps(
                    value,
                    &here,
                    KeyKind::Kms,
                    &["arn"],
                    &["role", "context", "aws_profile"],
                )?,
                "gcp_kms" => self.key_maps(value, &here, KeyKind::GcpKms, &["resource_id"], &[])?,
                "hckms" => self.key_maps(value, &here, KeyKind::Hckms, &["key_id"], &[])?,
                _ => self.key_maps(
                    value,
                    &here,
                    KeyKind::AzureKeyVault,
                    &["vaultUrl", "key", "version"],
                    &[],
                )?,
            };
        }
        Ok(dedupe(slots.into_iter().flatten().collect()))
    }

    /// A list of key entries written as maps (kms, gcp_kms, hckms, azure_keyvault). The
    /// `id` fields are joined into the key's name; other known fields are only checked.
    fn key_maps(
        &self,
        node: &Node,
        path: &str,
        kind: KeyKind,
        id: &[&str],
        other: &[&str],
    ) -> Result<Vec<KeyRef>> {
        let items: Vec<&Node> = match node {
            Node::Null(_) => return Ok(Vec::new()),
            Node::List(items) => nodes(items).collect(),
            _ => return Err(self.type_error(node, path, "a list")),
        };
        let mut known: Vec<&str> = id.to_vec();
        known.extend(other);
        let mut keys = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let here = format!("{path}[{i}]");
            let mut parts = vec![String::new(); id.len()];
            for (key, value) in self.entries(item, &here)? {
                match id.iter().position(|f| *f == key) {
                    Some(p) => parts[p] = self.string(value, &format!("{here}.{key}"))?,
                    None if key == "context" => {
                        if !matches!(value, Node::Map(_) | Node::Null(_)) {
                            return Err(self.type_error(value, &format!("{here}.{key}"), "a map"));
                        }
                    }
                    None if other.contains(&key) => {
                        self.string(value, &format!("{here}.{key}"))?;
                    }
                    None => return Err(self.unknown_key(value, &here, key, &known)),
                }
            }
            let name = parts
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("/");
            keys.push(KeyRef {
                kind,
                id: name,
                at: self.value_at(item),
            });
        }
        Ok(keys)
    }
}

/// Splits comma-separated items into keys (sops joins a list with commas and splits
/// again, so an item may hold several); blanks are skipped.
fn split_keys(kind: KeyKind, items: Vec<(String, Option<Location>)>) -> Vec<KeyRef> {
    items
        .into_iter()
        .flat_map(|(text, at)| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| KeyRef {
                    kind,
                    id: s.to_string(),
                    at: at.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Drops repeated keys of a group (same kind and name), keeping the first.
fn dedupe(keys: Vec<KeyRef>) -> Vec<KeyRef> {
    let mut out: Vec<KeyRef> = Vec::with_capacity(keys.len());
    for k in keys {
        if !out.iter().any(|o| o.kind == k.kind && o.id == k.id) {
            out.push(k);
        }
    }
    out
}

fn describe(node: &Node) -> &'static str {
    match node {
        Node::Map(_) => "a map",
        Node::List(_) => "a list",
        Node::Null(_) => "nothing (null)",
        Node::Scalar(leaf) => match leaf.value {
            Scalar::Str(_) => "a string",
            Scalar::Int(_) => "an integer",
            Scalar::Float(_) => "a number",
            Scalar::Bool(_) => "a boolean",
            Scalar::Time(_) => "a timestamp",
            Scalar::Bytes(_) => "binary data",
        },
    }
}

fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Str(s) => s.clone(),
        Scalar::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(t) => crate::crypto::timestamp::format_time_nano(t),
    }
}

/// A key name as it may appear in a message: control characters escaped and long names
/// cut, so a hostile config cannot flood or drive the terminal.
fn printable_key(key: &str) -> String {
    let shown: String = key
        .chars()
        .take(60)
        .flat_map(char::escape_default)
        .collect();
    if key.chars().count() > 60 {
        format!("{shown}...")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests;
