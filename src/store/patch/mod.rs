//! `set` and `unset`: one change to a clear file, made as a small edit of its text.
//!
//! The change is first planned on the tree, with sops's rules (`sops.go` `set`/`unset`):
//! a missing key is added at the end of its map, missing maps on the way are created, an
//! index at or past the end of a list appends, a scalar in the way is replaced. Then the
//! store turns the plan into text edits in the file's own style (indentation, quoting,
//! line breaks), so everything else stays byte for byte. The result is parsed again and
//! must mean exactly the planned tree, or nothing is written.
//!
//! List indexes count list items, not comments (sops counts a comment in a YAML list as
//! an item; sealant's `--extract` does not either).
//!
//! Adding a format: an `edits` function in a module here (from a [`Plan`] and the
//! store's sites, where its collections sit, to text edits) and an arm in `change`.
//!
//! dotenv and INI hold strings only: a value to set is first made the string sops
//! writes for it ([`as_strings`]). TOML tables are unordered, so a new key goes where
//! TOML puts it naturally (a root key before the first `[table]`), and the re-read file
//! is compared with the plan without regard to key order.

mod dotenv;
mod ini;
mod json;
pub mod sites;
mod toml;
mod yaml;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::store::{self, apply_edits, Edit, Format, Stage};
use crate::tree::{same_documents, same_meaning, Document, Item, Leaf, ListItem, Node, Scalar};
use crate::treepath::Step;

/// What a change does to the tree.
#[derive(Debug, Clone)]
pub enum Plan {
    /// The value at `path` (which exists) becomes `new`.
    Replace { path: Vec<Step>, new: Node },
    /// A new last entry `key: node` in the map at `map`.
    Insert {
        map: Vec<Step>,
        key: String,
        node: Node,
    },
    /// A new last item in the list at `list`.
    Append { list: Vec<Step>, node: Node },
    /// The entry or list item at `path` goes away.
    Remove { path: Vec<Step> },
}

/// A changed clear file.
pub struct Patched {
    /// The new clear content.
    pub text: Zeroizing<Vec<u8>>,
    /// A list item that was removed (the list's path and the item's index): the items
    /// after it moved up by one.
    pub removed_item: Option<(Vec<Step>, usize)>,
}

impl std::fmt::Debug for Patched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patched")
            .field("text", &format_args!("<{} bytes>", self.text.len()))
            .field("removed_item", &self.removed_item)
            .finish()
    }
}

/// Sets the value at `path` in a clear file. `None` when it already holds that value
/// (sops's "no change", which `--idempotent` does not write).
pub fn set(
    format: Format,
    clear: &[u8],
    file: &str,
    path: &[Step],
    value: Node,
) -> Result<Option<Patched>> {
    check_path(path, file)?;
    if format == Format::Binary {
        return set_binary(clear, file, path, value);
    }
    let value = match format {
        Format::Dotenv | Format::Ini => as_strings(value),
        _ => normalize(value, format),
    };
    change(format, clear, file, |doc| plan_set(doc, path, value, file))
}

/// Removes the value at `path` from a clear file. A missing key or index is
/// [`Error::NotFound`] (which `--idempotent` ignores).
pub fn unset(format: Format, clear: &[u8], file: &str, path: &[Step]) -> Result<Patched> {
    check_path(path, file)?;
    if format == Format::Binary {
        return Err(Error::Usage(format!(
            "{file}: a binary file holds one value, [\"data\"]; it cannot be removed"
        )));
    }
    let patched = change(format, clear, file, |doc| {
        plan_unset(doc, path, file).map(Some)
    })?;
    patched.ok_or(Error::Internal("unset planned no change"))
}

/// Plans a change on the first document, edits the text, and checks the result.
fn change(
    format: Format,
    clear: &[u8],
    file: &str,
    plan: impl FnOnce(&Document) -> Result<Option<Plan>>,
) -> Result<Option<Patched>> {
    let text = store::as_text(clear, file)?;
    let (docs, plan, mut edits) = match format {
        Format::Yaml => {
            let (parsed, layout, sites) = store::yaml::parse_with_sites(text, file)?;
            let doc = first(&parsed.docs, file)?;
            let Some(plan) = plan(doc)? else {
                return Ok(None);
            };
            check_aliases(&plan, &sites, file)?;
            let edits = yaml::edits(text, &layout, doc, &sites, &plan)?;
            (apply_plan(parsed.docs, &plan), plan, edits)
        }
        Format::Json => {
            let (parsed, sites) = store::json::parse_with_sites(text, file)?;
            let doc = first(&parsed.docs, file)?;
            let Some(plan) = plan(doc)? else {
                return Ok(None);
            };
            let edits = json::edits(text, doc, &sites, &plan)?;
            (apply_plan(parsed.docs, &plan), plan, edits)
        }
        Format::Dotenv => {
            let (parsed, _) = store::dotenv::parse(text, file)?;
            let doc = first(&parsed.docs, file)?;
            let Some(mut plan) = plan(doc)? else {
                return Ok(None);
            };
            if !dotenv::keep_line_breaks(text, doc, &mut plan) {
                return Ok(None);
            }
            let edits = dotenv::edits(text, doc, &plan).map_err(|e| in_file(e, file))?;
            (apply_plan(parsed.docs, &plan), plan, edits)
        }
        Format::Ini => {
            let (parsed, sites) = store::ini::parse_with_sites(text, file)?;
            let doc = first(&parsed.docs, file)?;
            let Some(plan) = plan(doc)? else {
                return Ok(None);
            };
            let plan = ini::adapt(doc, plan);
            let edits = ini::edits(text, doc, &sites, &plan).map_err(|e| in_file(e, file))?;
            (apply_plan(parsed.docs, &plan), plan, edits)
        }
        Format::Toml => {
            let (parsed, sites) = store::toml::parse_with_sites(text, file)?;
            let doc = first(&parsed.docs, file)?;
            let Some(plan) = plan(doc)? else {
                return Ok(None);
            };
            let edits = toml::edits(text, doc, &sites, &plan).map_err(|e| in_file(e, file))?;
            (apply_plan(parsed.docs, &plan), plan, edits)
        }
        // A binary file is one value, set whole by `set_binary`.
        Format::Binary => return Err(Error::Internal("a binary file reached the text editor")),
    };
    let new = Zeroizing::new(apply_edits(text, &mut edits)?.into_bytes());
    // The edit must mean exactly the planned tree: a wrong edit is never written.
    let reread = store::parse(format, &new, file, Stage::Plain).map_err(|_| {
        Error::Internal("the changed file did not parse again; nothing was written")
    })?;
    let same = if format == Format::Toml {
        same_documents_unordered(&reread.parsed.docs, &docs)
    } else {
        same_documents(&reread.parsed.docs, &docs)
    };
    if !same {
        return Err(Error::Internal(
            "the changed file does not hold the expected values; nothing was written",
        ));
    }
    let removed_item = match &plan {
        Plan::Remove { path } => match path.split_last() {
            Some((Step::Index(i), list)) => Some((list.to_vec(), *i)),
            _ => None,
        },
        _ => None,
    };
    Ok(Some(Patched {
        text: new,
        removed_item,
    }))
}

/// sops expands YAML aliases when it reads a file, so a change to an anchored value
/// reaches only that place; sealant keeps the aliases, so such a change would reach
/// every copy too (or lose the anchor). Those changes are refused, with a way out.
fn check_aliases(plan: &Plan, sites: &sites::Sites, file: &str) -> Result<()> {
    let (target, removes) = match plan {
        Plan::Replace { path, .. } => (path, true),
        Plan::Remove { path } => (path, true),
        Plan::Insert { map, .. } => (map, false),
        Plan::Append { list, .. } => (list, false),
    };
    let refuse = |why: String| {
        Error::Usage(format!(
            "{file}: {} {why}; sealant keeps anchors and aliases, so this change would reach              the other places too. Use `sealant edit` to change them as you mean",
            display_path(target)
        ))
    };
    for copy in &sites.copies {
        let removes_the_alias = matches!(plan, Plan::Remove { path } if path == copy);
        if target.starts_with(copy) && !removes_the_alias {
            return Err(refuse(format!(
                "is a copy of an anchored value (the alias at {})",
                display_path(copy)
            )));
        }
    }
    for shared in &sites.shared {
        if target.starts_with(shared) || (removes && shared.starts_with(target)) {
            return Err(refuse(format!(
                "holds or is inside a value that aliases share (the anchor at {})",
                display_path(shared)
            )));
        }
    }
    Ok(())
}

fn first<'d>(docs: &'d [Document], file: &str) -> Result<&'d Document> {
    docs.first().ok_or_else(|| Error::Input {
        file: file.to_string(),
        what: "the file holds no document".into(),
        code: crate::error::code::NEED_AT_LEAST_ONE_DOCUMENT,
    })
}

/// A value the format cannot hold, named with its file.
fn in_file(e: Error, file: &str) -> Error {
    match e {
        Error::Emit { format, why } => Error::Emit {
            format,
            why: format!("{file}: {why}"),
        },
        other => other,
    }
}

/// The top-level `sops` key holds the metadata: never a value to set or remove.
fn check_path(path: &[Step], file: &str) -> Result<()> {
    if let Some(Step::Key(k)) = path.first() {
        if k == "sops" {
            return Err(Error::Usage(format!(
                "{file}: the top-level key \"sops\" holds the file's metadata; set and unset \
                 cannot change it"
            )));
        }
    }
    if path.is_empty() {
        return Err(Error::TreePath {
            path: String::new(),
            why: "empty path".into(),
        });
    }
    Ok(())
}

/// A binary file is one string under `["data"]`.
fn set_binary(clear: &[u8], file: &str, path: &[Step], value: Node) -> Result<Option<Patched>> {
    if path != [Step::Key("data".into())] {
        return Err(Error::Usage(format!(
            "{file}: a binary file holds one value, [\"data\"]; set that"
        )));
    }
    let bytes = match value {
        Node::Scalar(Leaf {
            value: Scalar::Str(s),
            ..
        }) => s.into_bytes(),
        _ => {
            return Err(Error::Usage(format!(
                "{file}: the [\"data\"] of a binary file is a string; give a JSON string"
            )))
        }
    };
    if bytes == clear {
        return Ok(None);
    }
    Ok(Some(Patched {
        text: Zeroizing::new(bytes),
        removed_item: None,
    }))
}

/// A JSON number that is a whole number is written as an integer: in YAML, JSON and
/// TOML text `5` reads back as an integer (sops stores it as a float, and prints `5`).
fn normalize(node: Node, format: Format) -> Node {
    const EXACT: f64 = (1u64 << 53) as f64;
    match node {
        Node::Scalar(Leaf {
            value: Scalar::Float(f),
            span,
        }) if f.fract() == 0.0
            && f.abs() <= EXACT
            && (f != 0.0 || f.is_sign_positive() || format == Format::Yaml) =>
        {
            Node::Scalar(Leaf {
                value: Scalar::Int(f as i64),
                span,
            })
        }
        Node::Map(items) => Node::Map(
            items
                .into_iter()
                .map(|i| match i {
                    Item::Entry { key, value } => Item::Entry {
                        key,
                        value: normalize(value, format),
                    },
                    c => c,
                })
                .collect(),
        ),
        Node::List(items) => Node::List(
            items
                .into_iter()
                .map(|i| match i {
                    ListItem::Node(n) => ListItem::Node(normalize(n, format)),
                    c => c,
                })
                .collect(),
        ),
        other => other,
    }
}

/// dotenv and INI values are strings. sops sets a JSON number as a float and writes it
/// with Go's `%G` and a `.0` (`5` is written `5.0`, `12345678` is `1.2345678E+07`) and a
/// boolean as `true`/`false`; the value set is that text, so sealant's file decrypts to
/// what sops's would. Nulls, maps and lists stay as they are: the store refuses them
/// where it cannot hold them.
fn as_strings(node: Node) -> Node {
    match node {
        Node::Scalar(Leaf { value, span }) => {
            let text = match &value {
                Scalar::Str(_) => return Node::Scalar(Leaf { value, span }),
                Scalar::Int(i) => store::go_text::float(*i as f64),
                Scalar::Float(f) => store::go_text::float(*f),
                Scalar::Bool(b) => b.to_string(),
                // JSON gives no other scalars.
                _ => return Node::Scalar(Leaf { value, span }),
            };
            Node::Scalar(Leaf {
                value: Scalar::Str(text),
                span,
            })
        }
        Node::Map(items) => Node::Map(
            items
                .into_iter()
                .map(|i| match i {
                    Item::Entry { key, value } => Item::Entry {
                        key,
                        value: as_strings(value),
                    },
                    c => c,
                })
                .collect(),
        ),
        Node::List(items) => Node::List(
            items
                .into_iter()
                .map(|i| match i {
                    ListItem::Node(n) => ListItem::Node(as_strings(n)),
                    c => c,
                })
                .collect(),
        ),
        other => other,
    }
}

/// [`same_documents`], with the entries of each map compared as a set (TOML tables have
/// no order; each key appears once).
fn same_documents_unordered(a: &[Document], b: &[Document]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| same_entries_unordered(&x.items, &y.items))
}

fn map_entries(items: &[Item]) -> Vec<(&String, &Node)> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Entry { key, value } => Some((key, value)),
            Item::Comment(_) => None,
        })
        .collect()
}

fn list_elements(items: &[ListItem]) -> Vec<&Node> {
    items
        .iter()
        .filter_map(|i| match i {
            ListItem::Node(n) => Some(n),
            ListItem::Comment(_) => None,
        })
        .collect()
}

fn same_entries_unordered(x: &[Item], y: &[Item]) -> bool {
    let (x, y) = (map_entries(x), map_entries(y));
    x.len() == y.len()
        && x.iter().all(|(k, v)| {
            let mut found = y.iter().filter(|(k2, _)| k2 == k);
            match (found.next(), found.next()) {
                (Some((_, w)), None) => same_unordered(v, w),
                _ => false,
            }
        })
}

fn same_unordered(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Map(x), Node::Map(y)) => same_entries_unordered(x, y),
        (Node::List(x), Node::List(y)) => {
            let (x, y) = (list_elements(x), list_elements(y));
            x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| same_unordered(p, q))
        }
        _ => same_meaning(a, b),
    }
}

/// Reads a `set` value: JSON, as sops takes it (a number, string, boolean, null,
/// object or array). The message never quotes the value: it may be a secret.
pub fn parse_value(json: &str) -> Result<Node> {
    let bad = |why: &str| Error::SetFormat(format!("the value to set is not valid JSON: {why}"));
    // The JSON store reads objects; the value is read as the member of one.
    let wrapped = Zeroizing::new(format!("{{\"v\":{json}\n}}"));
    let parsed = store::json::parse(&wrapped, "(value)").map_err(|e| match e {
        Error::Parse { what, .. } => bad(&what),
        _ => bad("not a single JSON value"),
    })?;
    let mut docs = parsed.docs;
    let items = docs.pop().map(|d| d.items).unwrap_or_default();
    let [Item::Entry { key, value }] =
        <[Item; 1]>::try_from(items).map_err(|_| bad("not a single JSON value"))?
    else {
        return Err(bad("not a single JSON value"));
    };
    if key != "v" || parsed.metadata.is_some() {
        return Err(bad("not a single JSON value"));
    }
    if has_duplicate_keys(&value) {
        return Err(bad("an object has the same key twice"));
    }
    Ok(strip_spans(value))
}

fn has_duplicate_keys(node: &Node) -> bool {
    match node {
        Node::Map(items) => {
            let mut seen = std::collections::HashSet::new();
            items.iter().any(|i| match i {
                Item::Entry { key, value } => !seen.insert(key) || has_duplicate_keys(value),
                Item::Comment(_) => false,
            })
        }
        Node::List(items) => items.iter().any(|i| match i {
            ListItem::Node(n) => has_duplicate_keys(n),
            ListItem::Comment(_) => false,
        }),
        _ => false,
    }
}

/// A value read from the command line has no place in the file.
fn strip_spans(node: Node) -> Node {
    match node {
        Node::Map(items) => Node::Map(
            items
                .into_iter()
                .map(|i| match i {
                    Item::Entry { key, value } => Item::Entry {
                        key,
                        value: strip_spans(value),
                    },
                    c => c,
                })
                .collect(),
        ),
        Node::List(items) => Node::List(
            items
                .into_iter()
                .map(|i| match i {
                    ListItem::Node(n) => ListItem::Node(strip_spans(n)),
                    c => c,
                })
                .collect(),
        ),
        Node::Scalar(leaf) => Node::Scalar(Leaf::new(leaf.value)),
        Node::Null(_) => Node::Null(None),
    }
}

/// `["a"][0]`, for messages.
pub fn display_path(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => format!("[{k:?}]"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// What sits at a place in the tree.
enum Here<'a> {
    Map(&'a [Item]),
    List(&'a [ListItem]),
    Leaf,
}

fn here(node: &Node) -> Here<'_> {
    match node {
        Node::Map(items) => Here::Map(items),
        Node::List(items) => Here::List(items),
        Node::Scalar(_) | Node::Null(_) => Here::Leaf,
    }
}

/// The first entry `key` of a map, with its position among the entries.
pub fn find_entry<'a>(items: &'a [Item], key: &str) -> Option<(usize, &'a Node)> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Entry { key, value } => Some((key, value)),
            Item::Comment(_) => None,
        })
        .enumerate()
        .find(|(_, (k, _))| *k == key)
        .map(|(n, (_, v))| (n, v))
}

/// Item `n` of a list (comments are not items).
pub fn nth_item(items: &[ListItem], n: usize) -> Option<&Node> {
    items
        .iter()
        .filter_map(|i| match i {
            ListItem::Node(n) => Some(n),
            ListItem::Comment(_) => None,
        })
        .nth(n)
}

/// sops's `valueFromPathAndLeaf`: `value` under the rest of a path.
fn build(rest: &[Step], value: Node) -> Node {
    rest.iter().rev().fold(value, |inner, step| match step {
        Step::Key(k) => Node::Map(vec![Item::Entry {
            key: k.clone(),
            value: inner,
        }]),
        Step::Index(_) => Node::List(vec![ListItem::Node(inner)]),
    })
}

fn wrong_kind(file: &str, at: &[Step], what: &str, step: &Step) -> Error {
    let at = if at.is_empty() {
        "the top level".to_string()
    } else {
        display_path(at)
    };
    let step = display_path(std::slice::from_ref(step));
    Error::Usage(format!(
        "{file}: {at} is {what}, so {step} cannot be used there"
    ))
}

fn plan_set(doc: &Document, path: &[Step], value: Node, file: &str) -> Result<Option<Plan>> {
    let mut at = Here::Map(&doc.items);
    for (i, step) in path.iter().enumerate() {
        let prefix = &path[..i];
        let child = match (at, step) {
            (Here::Map(items), Step::Key(k)) => match find_entry(items, k) {
                Some((_, v)) => v,
                None => {
                    return Ok(Some(Plan::Insert {
                        map: prefix.to_vec(),
                        key: k.clone(),
                        node: build(&path[i + 1..], value),
                    }))
                }
            },
            (Here::List(items), Step::Index(n)) => match nth_item(items, *n) {
                Some(v) => v,
                None => {
                    return Ok(Some(Plan::Append {
                        list: prefix.to_vec(),
                        node: build(&path[i + 1..], value),
                    }))
                }
            },
            (Here::Map(_), step) => return Err(wrong_kind(file, prefix, "a map", step)),
            (Here::List(_), step) => return Err(wrong_kind(file, prefix, "a list", step)),
            // A scalar in the way is replaced by the rest of the path (as sops does).
            (Here::Leaf, _) => {
                return Ok(Some(Plan::Replace {
                    path: prefix.to_vec(),
                    new: build(&path[i..], value),
                }))
            }
        };
        if i + 1 == path.len() {
            if same_meaning(child, &value) {
                return Ok(None);
            }
            return Ok(Some(Plan::Replace {
                path: path.to_vec(),
                new: value,
            }));
        }
        at = here(child);
    }
    Err(Error::Internal("an empty path reached the planner"))
}

fn plan_unset(doc: &Document, path: &[Step], file: &str) -> Result<Plan> {
    let mut at = Here::Map(&doc.items);
    let not_found =
        |what: String| Error::NotFound(format!("{file}: {what} ({})", display_path(path)));
    for (i, step) in path.iter().enumerate() {
        let prefix = &path[..i];
        let child = match (at, step) {
            (Here::Map(items), Step::Key(k)) => find_entry(items, k)
                .map(|(_, v)| v)
                .ok_or_else(|| not_found(format!("Key not found: {k}")))?,
            (Here::Map(_), Step::Index(n)) => return Err(not_found(format!("Key not found: {n}"))),
            (Here::List(items), Step::Index(n)) => {
                nth_item(items, *n).ok_or_else(|| not_found(format!("Index {n} out of bounds")))?
            }
            (Here::List(_), step) => return Err(wrong_kind(file, prefix, "a list", step)),
            (Here::Leaf, step) => return Err(wrong_kind(file, prefix, "a scalar", step)),
        };
        if i + 1 == path.len() {
            return Ok(Plan::Remove {
                path: path.to_vec(),
            });
        }
        at = here(child);
    }
    Err(Error::Internal("an empty path reached the planner"))
}

/// The documents with the plan applied to the first one: what the edited text must mean.
fn apply_plan(mut docs: Vec<Document>, plan: &Plan) -> Vec<Document> {
    if let Some(doc) = docs.first_mut() {
        let mut root = Node::Map(std::mem::take(&mut doc.items));
        apply(&mut root, plan);
        if let Node::Map(items) = root {
            doc.items = items;
        }
    }
    docs
}

fn node_at<'a>(mut node: &'a mut Node, path: &[Step]) -> Option<&'a mut Node> {
    for step in path {
        node = match (node, step) {
            (Node::Map(items), Step::Key(k)) => items.iter_mut().find_map(|i| match i {
                Item::Entry { key, value } if key == k => Some(value),
                _ => None,
            })?,
            (Node::List(items), Step::Index(n)) => items
                .iter_mut()
                .filter_map(|i| match i {
                    ListItem::Node(n) => Some(n),
                    ListItem::Comment(_) => None,
                })
                .nth(*n)?,
            _ => return None,
        };
    }
    Some(node)
}

fn apply(root: &mut Node, plan: &Plan) {
    match plan {
        Plan::Replace { path, new } => {
            if let Some(n) = node_at(root, path) {
                *n = new.clone();
            }
        }
        Plan::Insert { map, key, node } => {
            if let Some(Node::Map(items)) = node_at(root, map) {
                items.push(Item::Entry {
                    key: key.clone(),
                    value: node.clone(),
                });
            }
        }
        Plan::Append { list, node } => {
            if let Some(Node::List(items)) = node_at(root, list) {
                items.push(ListItem::Node(node.clone()));
            }
        }
        Plan::Remove { path } => {
            let Some((last, parent)) = path.split_last() else {
                return;
            };
            match (node_at(root, parent), last) {
                (Some(Node::Map(items)), Step::Key(k)) => {
                    if let Some(i) = items
                        .iter()
                        .position(|i| matches!(i, Item::Entry { key, .. } if key == k))
                    {
                        items.remove(i);
                    }
                }
                (Some(Node::List(items)), Step::Index(n)) => {
                    if let Some(i) = items
                        .iter()
                        .enumerate()
                        .filter(|(_, i)| matches!(i, ListItem::Node(_)))
                        .nth(*n)
                        .map(|(i, _)| i)
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            }
        }
    }
}

/// The node at `path` (the empty path is the document's top-level map).
fn lookup<'a>(doc: &'a Document, path: &[Step]) -> Option<Lookup<'a>> {
    if path.is_empty() {
        return Some(Lookup::Root(&doc.items));
    }
    crate::treepath::lookup(doc, path).map(Lookup::Node)
}

/// What [`lookup`] finds.
enum Lookup<'a> {
    Root(&'a [Item]),
    Node(&'a Node),
}

/// The position of the last step of `path` among its parent's entries or items.
fn ordinal(doc: &Document, path: &[Step]) -> Option<usize> {
    let (last, parent) = path.split_last()?;
    match (lookup(doc, parent)?, last) {
        (Lookup::Root(items), Step::Key(k)) => find_entry(items, k).map(|(n, _)| n),
        (Lookup::Node(Node::Map(items)), Step::Key(k)) => find_entry(items, k).map(|(n, _)| n),
        (Lookup::Node(Node::List(items)), Step::Index(n)) => nth_item(items, *n).map(|_| *n),
        _ => None,
    }
}

/// A value that a store needs but cannot find: a bug, reported instead of a bad write.
fn lost() -> Error {
    Error::Internal("the place to change was not found in the text")
}

/// Line break of a text: `\r\n` if its first line ends so.
fn newline_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Offset just past the line break that ends the line holding `at` (or the text end).
fn line_end_after(text: &str, at: usize) -> usize {
    match text.as_bytes()[at.min(text.len())..]
        .iter()
        .position(|&b| b == b'\n')
    {
        Some(i) => at + i + 1,
        None => text.len(),
    }
}

/// Offset of the start of the line holding `at`.
fn line_start(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// The blanks that start the line holding `at`, if only blanks precede `at` there.
fn leading_blanks(text: &str, at: usize) -> Option<&str> {
    let ws = &text[line_start(text, at)..at];
    let ws = ws.strip_prefix('\u{feff}').unwrap_or(ws);
    ws.bytes().all(|c| c == b' ' || c == b'\t').then_some(ws)
}

/// An insertion of `lines` (each ending with a line break) after the line holding
/// `after`; when that line is the last and has no line break, one is added first.
fn insert_lines(text: &str, after: usize, lines: String, nl: &str) -> Edit {
    let at = line_end_after(text, after);
    if at == text.len() && !text.ends_with('\n') {
        let lines = lines.strip_suffix(nl).unwrap_or(&lines).to_string();
        return Edit::new(at..at, format!("{nl}{lines}"));
    }
    Edit::new(at..at, lines)
}

/// `text`, each non-empty line prefixed with `pad`, line breaks made `nl`.
fn indent_lines(text: &str, pad: &str, nl: &str) -> String {
    let mut out = String::with_capacity(text.len() + pad.len() * 4);
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        if !body.is_empty() {
            out.push_str(pad);
            out.push_str(body);
        }
        if line.ends_with('\n') {
            out.push_str(nl);
        }
    }
    out
}

#[cfg(test)]
mod tests;
