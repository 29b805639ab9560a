//! TOML text edits for a [`Plan`] (sealant's own format: sops has none).
//!
//! A table can be written in four ways, and a new key goes where its table lives:
//!
//! * a `[table]` section (or an `[[array]]` element): a `key = value` line after the
//!   section's last one; a new table in it is a `[table.key]` section after the table's
//!   last section;
//! * dotted keys (`db.host = "x"`): a line with the same dotted prefix after the last one;
//! * an inline table (`{ a = 1 }`): inside the braces, with the same separators;
//! * only through its sub-tables' headers (`[a.b]` makes `a`): a new `[a]` section
//!   before the first of them.
//!
//! At the top level, a value goes after the last top-level `key = value` (before the
//! first header), a table at the end of the file as a `[key]` section. Values are
//! written as the fresh-file writer writes them (`emit.rs`): one-line arrays and inline
//! tables, multi-line strings only on a line of their own. A replaced scalar keeps its
//! quotes; a replaced table written in sections is written again in sections at the
//! same place. A removed key takes its line(s) or, in brackets, its entry and separator;
//! a table left without any definition is written `key = {}` (or `[key]`), an array of
//! tables left empty `key = []`, so that the file still holds what sops's semantics say.
//!
//! TOML tables have no order, so a new key's place in the text decides its place in the
//! tree (and the MAC's walk): the result is checked without regard to key order.

use std::ops::Range;

use super::{line_end_after, line_start, lost, newline_of, Plan};
use crate::error::{Error, Result};
use crate::store::toml::emit::{self, Quote};
use crate::store::toml::{Container, Place, SectionSite, Stmt, TomlSites};
use crate::store::Edit;
use crate::tree::{Document, Item, Leaf, ListItem, Node};
use crate::treepath::Step;

/// The edits that carry out `plan` on `text`.
pub fn edits(text: &str, doc: &Document, sites: &TomlSites, plan: &Plan) -> Result<Vec<Edit>> {
    let cx = Cx {
        text,
        doc,
        sites,
        nl: newline_of(text),
    };
    let mut out = Vec::new();
    match plan {
        Plan::Replace { path, new } => cx.replace(path, new, &mut out)?,
        Plan::Insert { map, key, node } => cx.add(map, key, node, &mut out)?,
        Plan::Append { list, node } => cx.append(list, node, &mut out)?,
        Plan::Remove { path } => cx.remove(path, &mut out)?,
    }
    Ok(out)
}

fn emit_error(why: String) -> Error {
    Error::Emit {
        format: "TOML",
        why,
    }
}

/// The keys of a path (a header names no index: it reaches an array's last element).
fn names(path: &[Step]) -> Vec<&str> {
    path.iter()
        .filter_map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        })
        .collect()
}

/// How the table at a path is written.
enum Table<'a> {
    Root,
    Inline(&'a Container),
    /// Its own `[table]` section (or `[[array]]` element), by number.
    Section(usize),
    /// Dotted keys; the last statement whose key passes through it.
    Dotted(&'a Stmt),
    /// Only through the headers of its sub-tables.
    Implicit,
}

/// What defines a value in the text (all of it goes when the value goes).
#[derive(Default)]
struct Defs<'a> {
    /// `key = value` lines in sections.
    lines: Vec<&'a Stmt>,
    /// Sections (header to last line).
    sections: Vec<&'a SectionSite>,
    /// Statements in one inline table: its path and their entry numbers.
    inline: Option<(&'a [Step], Vec<usize>)>,
}

struct Cx<'a> {
    text: &'a str,
    doc: &'a Document,
    sites: &'a TomlSites,
    nl: &'static str,
}

impl<'a> Cx<'a> {
    fn node(&self, path: &[Step]) -> Option<&'a Node> {
        crate::treepath::lookup(self.doc, path)
    }

    fn container(&self, path: &[Step]) -> Option<&'a Container> {
        self.sites.containers.get(path)
    }

    /// The statement whose value is at `path`.
    fn stmt_at(&self, path: &[Step]) -> Option<&'a Stmt> {
        self.sites.stmts.iter().find(|s| s.path == path)
    }

    /// Statements whose key passes through or ends at `path` (not those nested in their
    /// values), in text order.
    fn stmts_through(&self, path: &[Step]) -> Vec<&'a Stmt> {
        let mut found: Vec<&Stmt> = self
            .sites
            .stmts
            .iter()
            .filter(|s| s.path.starts_with(path) && s.path.len() - s.keys.len() < path.len())
            .collect();
        found.sort_by_key(|s| s.range.start);
        found
    }

    /// Sections of the table at `path` and of every table under it.
    fn family(&self, path: &[Step]) -> impl Iterator<Item = &'a SectionSite> + '_ {
        let path = path.to_vec();
        self.sites
            .sections
            .iter()
            .filter(move |s| s.header.is_some() && s.path.starts_with(&path))
    }

    /// The end of a section's last line.
    fn section_end(s: &SectionSite) -> usize {
        s.body_end.or(s.header.as_ref().map(|h| h.end)).unwrap_or(0)
    }

    fn table(&self, path: &[Step]) -> Table<'a> {
        if path.is_empty() {
            return Table::Root;
        }
        if let Some(c) = self.container(path).filter(|c| c.inline_table) {
            return Table::Inline(c);
        }
        if let Some(n) = self
            .sites
            .sections
            .iter()
            .position(|s| s.header.is_some() && s.path == path)
        {
            return Table::Section(n);
        }
        match self.stmts_through(path).last() {
            Some(s) if s.path.len() > path.len() => Table::Dotted(s),
            _ => Table::Implicit,
        }
    }

    /// The text of a statement's key up to the table at `table` (`a.b` of `a.b.c = 1`).
    fn key_text(&self, stmt: &Stmt, table: &[Step]) -> Result<&'a str> {
        let base = stmt.path.len() - stmt.keys.len();
        let last = table.len().checked_sub(base + 1).ok_or_else(lost)?;
        let end = stmt.keys.get(last).ok_or_else(lost)?.end;
        Ok(&self.text[stmt.keys[0].start..end])
    }

    /// The start of the line holding `at`, after a byte order mark.
    fn line_from(&self, at: usize) -> usize {
        let start = line_start(self.text, at);
        if start == 0 && self.text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            start
        }
    }

    /// The blanks that start the line holding `at`.
    fn indent_at(&self, at: usize) -> &'a str {
        let start = self.line_from(at);
        let line = &self.text[start..];
        &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
    }

    /// A line (ending with a line break) inserted at `at`, the start of a line or the
    /// end of the text; at the end of a text without a final line break, the line break
    /// goes before it instead.
    fn line_edit(&self, at: usize, line: String) -> Edit {
        if at == self.text.len() && !self.text.is_empty() && !self.text.ends_with('\n') {
            let body = line.strip_suffix(self.nl).unwrap_or(&line);
            return Edit::new(at..at, format!("{}{body}", self.nl));
        }
        Edit::new(at..at, line)
    }

    /// Sections (starting with a header, ending with a line break) inserted at `at`,
    /// after a blank line.
    fn block_edit(&self, at: usize, block: &str) -> Edit {
        let before = &self.text[..at];
        let mut lead = String::new();
        if !before.is_empty() && !before.ends_with('\n') {
            lead.push_str(self.nl);
        }
        let blank = before.ends_with("\n\n") || before.ends_with("\n\r\n");
        if !before.trim().is_empty() && !blank {
            lead.push_str(self.nl);
        }
        Edit::new(at..at, format!("{lead}{block}"))
    }

    /// Where a value token sits: a scalar's span, or an array's or inline table's
    /// brackets. None for a table written in sections or with dotted keys.
    fn value_range(&self, path: &[Step], node: &Node) -> Option<Range<usize>> {
        match node {
            Node::Scalar(Leaf { span: Some(s), .. }) => Some(s.bytes.clone()),
            _ => self.container(path).map(|c| c.open..c.close + 1),
        }
    }

    fn replace(&self, path: &[Step], new: &Node, out: &mut Vec<Edit>) -> Result<()> {
        let old = self.node(path).ok_or_else(lost)?;
        let keys = names(path);
        // A scalar in place of a scalar: in the old token's quotes.
        if let (Node::Scalar(Leaf { span: Some(s), .. }), Node::Scalar(leaf)) = (old, new) {
            let quote = Quote::of(&self.text[s.bytes.clone()]);
            out.push(Edit::new(
                s.bytes.clone(),
                emit::render(&leaf.value, quote, self.nl)?,
            ));
            return Ok(());
        }
        if let Some(range) = self.value_range(path, old) {
            let on_its_line =
                matches!(self.stmt_at(path), Some(s) if matches!(s.place, Place::Section(_)));
            let value = if on_its_line {
                emit::line_value(new, &keys, self.nl)?
            } else {
                emit::inline_value(new, &keys)?
            };
            out.push(Edit::new(range, value));
            return Ok(());
        }
        // A table written in sections or with dotted keys, or an array of tables.
        let defs = self.defs(path);
        let (last, parent) = path.split_last().ok_or_else(lost)?;
        let own = self
            .sites
            .sections
            .iter()
            .find(|s| s.header.is_some() && (s.path == path || is_element_of(&s.path, path)));
        if let Step::Index(_) = last {
            // An element of an array of tables: a table again, in its place.
            let Node::Map(_) = new else {
                return Err(emit_error(format!(
                    "an array of tables holds tables only; {} would not be one",
                    emit::dotted(&keys)
                )));
            };
            let own = own.ok_or_else(lost)?;
            let block = emit::sections(
                &names(parent),
                &Node::List(vec![ListItem::Node(new.clone())]),
                self.nl,
            )?;
            let at = own.header.as_ref().ok_or_else(lost)?.start;
            out.push(Edit::new(at..at, block));
            self.remove_defs(&defs, None, out)?;
            return Ok(());
        }
        let Step::Key(key) = last else {
            return Err(lost());
        };
        if let (Some(own), true) = (own, emit::is_section(new)) {
            let block = emit::sections(&keys, new, self.nl)?;
            let at = own.header.as_ref().ok_or_else(lost)?.start;
            out.push(Edit::new(at..at, block));
            return self.remove_defs(&defs, None, out);
        }
        if defs.inline.is_some() {
            // Dotted keys in an inline table: the first becomes `key = value`.
            let first = defs_first_stmt(self, &defs).ok_or_else(lost)?;
            let text = format!(
                "{} = {}",
                self.key_text(first, path)?,
                emit::inline_value(new, &keys)?
            );
            return self.remove_defs(&defs, Some(text), out);
        }
        self.remove_defs(&defs, None, out)?;
        self.add(parent, key, new, out)?;
        self.tidy_removals(out);
        Ok(())
    }

    /// Everything that defines the value at `path`.
    fn defs(&self, path: &[Step]) -> Defs<'a> {
        let mut defs = Defs::default();
        for s in self.stmts_through(path) {
            match &s.place {
                Place::Section(_) => defs.lines.push(s),
                Place::Inline(c) => {
                    let Some(container) = self.container(c) else {
                        continue;
                    };
                    if let Some(n) = container.entries.iter().position(|e| *e == s.range) {
                        defs.inline
                            .get_or_insert_with(|| (c.as_slice(), Vec::new()))
                            .1
                            .push(n);
                    }
                }
            }
        }
        defs.sections = self.family(path).collect();
        defs
    }

    /// Edits removing `defs`; with `first`, the first inline statement is replaced by
    /// that text instead.
    fn remove_defs(&self, defs: &Defs, first: Option<String>, out: &mut Vec<Edit>) -> Result<()> {
        if let Some((c, entries)) = &defs.inline {
            let container = self.container(c).ok_or_else(lost)?;
            let replace = first.map(|t| (entries[0], t));
            self.container_edits(container, entries, replace, out);
        }
        for s in &defs.lines {
            out.push(Edit::new(self.line_from(s.range.start)..s.range.end, ""));
        }
        for s in &defs.sections {
            let header = s.header.as_ref().ok_or_else(lost)?;
            out.push(Edit::new(
                self.line_from(header.start)..Self::section_end(s),
                "",
            ));
        }
        Ok(())
    }

    /// Removes entries `remove` of an array or inline table with their separators, and
    /// replaces entry `replace.0` (kept) by `replace.1`.
    fn container_edits(
        &self,
        c: &Container,
        remove: &[usize],
        replace: Option<(usize, String)>,
        out: &mut Vec<Edit>,
    ) {
        let n = c.entries.len();
        let kept = |i: usize| replace.as_ref().is_some_and(|r| r.0 == i) || !remove.contains(&i);
        let mut i = 0;
        while i < n {
            if kept(i) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < n && !kept(j + 1) {
                j += 1;
            }
            let range = if j + 1 < n {
                c.entries[i].start..c.entries[j + 1].start
            } else if i > 0 {
                c.entries[i - 1].end..c.entries[j].end
            } else {
                c.open + 1..c.close
            };
            out.push(Edit::new(range, ""));
            i = j + 1;
        }
        if let Some((r, text)) = replace {
            out.push(Edit::new(c.entries[r].clone(), text));
        }
    }

    /// What separates a new entry from the last one of a non-empty array or inline
    /// table: the container's own separator, or `,` and a line break for one entry per
    /// line.
    fn separator(&self, c: &Container) -> String {
        let n = c.entries.len();
        let first = &c.entries[0];
        if self.text[c.open + 1..first.start].contains('\n') {
            return format!(",{}{}", self.nl, self.indent_at(c.entries[n - 1].start));
        }
        if n >= 2 {
            let between = &self.text[c.entries[n - 2].end..c.entries[n - 1].start];
            if !between.contains(['#', '\n']) {
                return between.to_string();
            }
        }
        ", ".into()
    }

    /// An entry (an element, or `key = value`) added at the end of a container.
    fn add_to_container(&self, c: &Container, entry: String, out: &mut Vec<Edit>) {
        match c.entries.last() {
            Some(last) => out.push(Edit::new(
                last.end..last.end,
                format!("{}{entry}", self.separator(c)),
            )),
            None => {
                let inner = c.open + 1..c.close;
                let blank = self.text[inner.clone()].trim().is_empty();
                let text = if c.inline_table {
                    format!(" {entry} ")
                } else {
                    entry
                };
                if blank {
                    out.push(Edit::new(inner, text));
                } else {
                    out.push(Edit::new(inner.start..inner.start, text));
                }
            }
        }
    }

    /// A new entry `key = node` in the table at `map`.
    fn add(&self, map: &[Step], key: &str, node: &Node, out: &mut Vec<Edit>) -> Result<()> {
        let mut path: Vec<&str> = names(map);
        path.push(key);
        let k = emit::key(key);
        match self.table(map) {
            Table::Inline(c) => {
                let entry = format!("{k} = {}", emit::inline_value(node, &path)?);
                self.add_to_container(c, entry, out);
            }
            Table::Root => {
                if emit::is_section(node) {
                    let block = emit::sections(&path, node, self.nl)?;
                    out.push(self.block_edit(self.text.len(), &block));
                    return Ok(());
                }
                let line = |indent: &str| -> Result<String> {
                    Ok(format!(
                        "{indent}{k} = {}{}",
                        emit::line_value(node, &path, self.nl)?,
                        self.nl
                    ))
                };
                let root = &self.sites.sections[0];
                let last_root = self
                    .sites
                    .stmts
                    .iter()
                    .rev()
                    .find(|s| s.place == Place::Section(0));
                match (root.body_end, last_root) {
                    (Some(end), Some(s)) => {
                        out.push(self.line_edit(end, line(self.indent_at(s.range.start))?))
                    }
                    _ => match self.sites.sections.get(1).and_then(|s| s.header.clone()) {
                        // Before the first header and the comment lines on it.
                        Some(h) => {
                            let at = self.above_comments(self.line_from(h.start));
                            out.push(Edit::new(at..at, format!("{}{}", line("")?, self.nl)));
                        }
                        None => out.push(self.line_edit(self.text.len(), line("")?)),
                    },
                }
            }
            Table::Section(n) => {
                if emit::is_section(node) {
                    let block = emit::sections(&path, node, self.nl)?;
                    let at = self.family_end(map).ok_or_else(lost)?;
                    out.push(self.block_edit(at, &block));
                    return Ok(());
                }
                let s = &self.sites.sections[n];
                let indent = self
                    .sites
                    .stmts
                    .iter()
                    .rev()
                    .find(|st| st.place == Place::Section(n))
                    .map_or("", |st| self.indent_at(st.range.start));
                let line = format!(
                    "{indent}{k} = {}{}",
                    emit::line_value(node, &path, self.nl)?,
                    self.nl
                );
                out.push(self.line_edit(Self::section_end(s), line));
            }
            Table::Dotted(stmt) => {
                let prefix = self.key_text(stmt, map)?;
                match &stmt.place {
                    Place::Section(_) => {
                        let line = format!(
                            "{}{prefix}.{k} = {}{}",
                            self.indent_at(stmt.range.start),
                            emit::line_value(node, &path, self.nl)?,
                            self.nl
                        );
                        out.push(self.line_edit(stmt.range.end, line));
                    }
                    Place::Inline(c) => {
                        let c = self.container(c).ok_or_else(lost)?;
                        let entry = format!("{prefix}.{k} = {}", emit::inline_value(node, &path)?);
                        self.add_to_container(c, entry, out);
                    }
                }
            }
            Table::Implicit => {
                if emit::is_section(node) {
                    let block = emit::sections(&path, node, self.nl)?;
                    let at = self.family_end(map).ok_or_else(lost)?;
                    out.push(self.block_edit(at, &block));
                    return Ok(());
                }
                // A `[table]` section of its own, before its first sub-table's.
                let first = self
                    .family(map)
                    .filter_map(|s| s.header.as_ref())
                    .map(|h| h.start)
                    .min()
                    .ok_or_else(lost)?;
                let at = self.above_comments(self.line_from(first));
                let block = format!(
                    "[{}]{nl}{k} = {}{nl}{nl}",
                    emit::dotted(&names(map)),
                    emit::line_value(node, &path, self.nl)?,
                    nl = self.nl
                );
                out.push(Edit::new(at..at, block));
            }
        }
        Ok(())
    }

    /// The end of the last section of the table at `path` and its sub-tables.
    fn family_end(&self, path: &[Step]) -> Option<usize> {
        self.family(path).map(Self::section_end).max()
    }

    /// The start of the comment lines right above the line starting at `at`.
    fn above_comments(&self, at: usize) -> usize {
        let mut at = at;
        while at > 0 {
            let prev = line_start(self.text, at - 1);
            if !self.text[prev..at].trim_start().starts_with('#') {
                break;
            }
            at = prev;
        }
        at
    }

    /// A new last element of the array at `list`.
    fn append(&self, list: &[Step], node: &Node, out: &mut Vec<Edit>) -> Result<()> {
        let keys = names(list);
        if let Some(c) = self.container(list).filter(|c| !c.inline_table) {
            self.add_to_container(c, emit::inline_value(node, &keys)?, out);
            return Ok(());
        }
        // An array of tables: one more `[[list]]` section.
        let Node::Map(_) = node else {
            return Err(emit_error(format!(
                "{} is an array of tables ([[{0}]]), which holds tables only",
                emit::dotted(&keys)
            )));
        };
        let block = emit::sections(
            &keys,
            &Node::List(vec![ListItem::Node(node.clone())]),
            self.nl,
        )?;
        let at = self.family_end(list).ok_or_else(lost)?;
        out.push(self.block_edit(at, &block));
        Ok(())
    }

    fn remove(&self, path: &[Step], out: &mut Vec<Edit>) -> Result<()> {
        let (last, parent) = path.split_last().ok_or_else(lost)?;
        // An element of an array.
        if let (Some(c), Step::Index(i)) = (self.container(parent), last) {
            if !c.inline_table {
                self.container_edits(c, &[*i], None, out);
                return Ok(());
            }
        }
        let defs = self.defs(path);
        let alone = match self.node(parent) {
            Some(Node::Map(items)) => {
                items
                    .iter()
                    .filter(|i| matches!(i, Item::Entry { .. }))
                    .count()
                    == 1
            }
            Some(Node::List(items)) => {
                items
                    .iter()
                    .filter(|i| matches!(i, ListItem::Node(_)))
                    .count()
                    == 1
            }
            _ => false,
        };
        // What stays must still say that the parent exists (empty).
        if alone && !parent.is_empty() {
            if let Some(Step::Index(_)) = path.last() {
                // The last table of an array of tables: `key = []` in its parent.
                let (Some(Step::Key(key)), grand) = (parent.last(), &parent[..parent.len() - 1])
                else {
                    return Err(lost());
                };
                self.remove_defs(&defs, None, out)?;
                self.add(grand, key, &Node::List(Vec::new()), out)?;
                self.tidy_removals(out);
                return Ok(());
            }
            match self.table(parent) {
                Table::Dotted(_) => {
                    let first = defs_first_stmt(self, &defs).ok_or_else(lost)?;
                    let placeholder = format!("{} = {{}}", self.key_text(first, parent)?);
                    return self.remove_with_placeholder(&defs, first, placeholder, out);
                }
                Table::Implicit => {
                    let first = defs
                        .sections
                        .iter()
                        .filter_map(|s| s.header.as_ref())
                        .map(|h| self.line_from(h.start))
                        .min()
                        .ok_or_else(lost)?;
                    out.push(Edit::new(
                        first..first,
                        format!("[{}]{}", emit::dotted(&names(parent)), self.nl),
                    ));
                    return self.remove_defs(&defs, None, out);
                }
                Table::Root | Table::Inline(_) | Table::Section(_) => {}
            }
        }
        self.remove_defs(&defs, None, out)?;
        self.tidy_removals(out);
        Ok(())
    }

    /// Widens each removal (see [`Cx::tidy`]) unless that would swallow a place where
    /// something is inserted; joins removals that come to overlap.
    fn tidy_removals(&self, out: &mut Vec<Edit>) {
        let (removals, mut others): (Vec<Edit>, Vec<Edit>) = out
            .drain(..)
            .partition(|e| e.text.is_empty() && !e.range.is_empty());
        let mut ranges: Vec<Range<usize>> = removals.into_iter().map(|e| e.range).collect();
        ranges.sort_by_key(|r| r.start);
        let inside = |r: &Range<usize>| {
            others
                .iter()
                .any(|e| r.start < e.range.start && e.range.start < r.end)
        };
        let tidied: Vec<Range<usize>> = merge(ranges)
            .into_iter()
            .map(|r| {
                let t = self.tidy(r.clone());
                if inside(&t) {
                    r
                } else {
                    t
                }
            })
            .collect();
        let mut tidied = tidied;
        tidied.sort_by_key(|r| r.start);
        others.extend(merge(tidied).into_iter().map(|r| Edit::new(r, "")));
        *out = others;
    }

    /// Removes `defs`, writing `placeholder` where the statement `first` was.
    fn remove_with_placeholder(
        &self,
        defs: &Defs,
        first: &Stmt,
        placeholder: String,
        out: &mut Vec<Edit>,
    ) -> Result<()> {
        match &first.place {
            Place::Inline(_) => self.remove_defs(defs, Some(placeholder), out),
            Place::Section(_) => {
                let at = self.line_from(first.range.start);
                let ends = &self.text[..first.range.end];
                let nl = if ends.ends_with("\r\n") {
                    "\r\n"
                } else if ends.ends_with('\n') {
                    "\n"
                } else {
                    ""
                };
                out.push(Edit::new(
                    at..at,
                    format!("{}{placeholder}{nl}", self.indent_at(first.range.start)),
                ));
                self.remove_defs(defs, None, out)
            }
        }
    }

    /// A removed run of lines, with the blank lines after it when a blank line (or the
    /// start of the file) is before it; at the end of the file, with the blank lines
    /// before it.
    fn tidy(&self, r: Range<usize>) -> Range<usize> {
        let text = self.text;
        let before = &text[..r.start];
        let blank_before =
            before.trim().is_empty() || before.ends_with("\n\n") || before.ends_with("\n\r\n");
        let mut end = r.end;
        if blank_before {
            let rest = &text[end..];
            let mut skip = 0;
            for line in rest.split_inclusive('\n') {
                if !line.trim().is_empty() {
                    break;
                }
                skip += line.len();
            }
            end += skip;
        }
        let mut start = r.start;
        if end == text.len() && !before.trim().is_empty() {
            let kept = before.trim_end_matches(['\n', '\r', ' ', '\t']).len();
            start = line_end_after(text, kept.saturating_sub(1)).min(r.start);
            if !text[..start].ends_with('\n') {
                start = r.start;
            }
        }
        start..end
    }
}

/// Whether `path` is `list` plus one index (an element of the array of tables `list`).
fn is_element_of(path: &[Step], list: &[Step]) -> bool {
    path.len() == list.len() + 1
        && path.starts_with(list)
        && matches!(path.last(), Some(Step::Index(_)))
}

/// The first statement (in text order) among `defs`.
fn defs_first_stmt<'a>(cx: &Cx<'a>, defs: &Defs<'a>) -> Option<&'a Stmt> {
    let inline = defs.inline.as_ref().and_then(|(c, entries)| {
        let container = cx.container(c)?;
        let range = container.entries.get(*entries.first()?)?;
        cx.sites.stmts.iter().find(|s| s.range == *range)
    });
    defs.lines
        .iter()
        .copied()
        .chain(inline)
        .min_by_key(|s| s.range.start)
}

/// Ranges sorted by start, overlapping or touching ones joined.
fn merge(ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::store::patch::{parse_value, set, unset};
    use crate::store::Format;
    use crate::treepath::parse;

    fn tset(text: &str, p: &str, v: &str) -> String {
        let value = parse_value(v).unwrap();
        let out = set(
            Format::Toml,
            text.as_bytes(),
            "t.toml",
            &parse(p).unwrap(),
            value,
        )
        .unwrap_or_else(|e| panic!("{p} = {v}: {e}"))
        .expect("a change");
        String::from_utf8(out.text.to_vec()).unwrap()
    }

    fn tunset(text: &str, p: &str) -> String {
        let out = unset(Format::Toml, text.as_bytes(), "t.toml", &parse(p).unwrap())
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        String::from_utf8(out.text.to_vec()).unwrap()
    }

    fn terr(text: &str, p: &str, v: &str) -> Error {
        let value = parse_value(v).unwrap();
        set(
            Format::Toml,
            text.as_bytes(),
            "t.toml",
            &parse(p).unwrap(),
            value,
        )
        .unwrap_err()
    }

    const FILE: &str = "# app\ntitle = 'x' # t\nport = 8080\n\n[db]\nhost = \"h\"\nopts = { tls = true }\nlist = [1, 2]\n\n[[srv]]\nname = \"a\"\n\n[[srv]]\nname = \"b\"\n";

    #[test]
    fn scalars_are_replaced_in_their_quotes() {
        assert_eq!(
            tset(FILE, r#"["title"]"#, r#""y""#),
            FILE.replace("'x'", "'y'")
        );
        assert_eq!(
            tset(FILE, r#"["port"]"#, "9090"),
            FILE.replace("8080", "9090")
        );
        assert_eq!(
            tset(FILE, r#"["port"]"#, r#""p""#),
            FILE.replace("8080", "\"p\"")
        );
        assert_eq!(
            tset(FILE, r#"["port"]"#, "1.5"),
            FILE.replace("8080", "1.5")
        );
        assert_eq!(
            tset(FILE, r#"["db"]["opts"]["tls"]"#, "false"),
            FILE.replace("tls = true", "tls = false")
        );
        assert_eq!(
            tset(FILE, r#"["db"]["list"][1]"#, "3"),
            FILE.replace("[1, 2]", "[1, 3]")
        );
        assert_eq!(
            tset(FILE, r#"["srv"][1]["name"]"#, r#""c""#),
            FILE.replace("\"b\"", "\"c\"")
        );
    }

    #[test]
    fn other_values_are_written_in_place() {
        assert_eq!(
            tset(FILE, r#"["port"]"#, r#"{"a": 1, "b": [true]}"#),
            FILE.replace("port = 8080", "port = { a = 1, b = [true] }")
        );
        assert_eq!(
            tset(FILE, r#"["db"]["list"]"#, r#""l1\nl2""#),
            FILE.replace("list = [1, 2]", "list = \"\"\"\nl1\nl2\"\"\"")
        );
        assert_eq!(
            tset(FILE, r#"["db"]["opts"]"#, "[]"),
            FILE.replace("{ tls = true }", "[]")
        );
        // Through a scalar: it becomes a table.
        assert_eq!(
            tset(FILE, r#"["port"]["n"]"#, "1"),
            FILE.replace("port = 8080", "port = { n = 1 }")
        );
    }

    #[test]
    fn new_keys_go_where_their_table_lives() {
        // The top level: after its last key, before the first header.
        assert_eq!(
            tset(FILE, r#"["new"]"#, r#""v""#),
            FILE.replace("port = 8080\n", "port = 8080\nnew = \"v\"\n")
        );
        // A section: after its last line.
        assert_eq!(
            tset(FILE, r#"["db"]["user"]"#, r#""u""#),
            FILE.replace("list = [1, 2]\n", "list = [1, 2]\nuser = \"u\"\n")
        );
        // An inline table, an array.
        assert_eq!(
            tset(FILE, r#"["db"]["opts"]["ca"]"#, r#""c""#),
            FILE.replace("{ tls = true }", "{ tls = true, ca = \"c\" }")
        );
        assert_eq!(
            tset(FILE, r#"["db"]["list"][9]"#, "3"),
            FILE.replace("[1, 2]", "[1, 2, 3]")
        );
        // An array of tables: the last element.
        assert_eq!(
            tset(FILE, r#"["srv"][1]["port"]"#, "1"),
            format!("{FILE}port = 1\n")
        );
        assert_eq!(
            tset(FILE, r#"["srv"][0]["port"]"#, "1"),
            FILE.replace("name = \"a\"\n", "name = \"a\"\nport = 1\n")
        );
        // A new element.
        assert_eq!(
            tset(FILE, r#"["srv"][5]"#, r#"{"name": "c"}"#),
            format!("{FILE}\n[[srv]]\nname = \"c\"\n")
        );
        // A new table: a section after its parent's last one.
        assert_eq!(
            tset(FILE, r#"["db"]["pool"]"#, r#"{"size": 5}"#),
            FILE.replace("list = [1, 2]\n", "list = [1, 2]\n\n[db.pool]\nsize = 5\n")
        );
        assert_eq!(
            tset(FILE, r#"["cache"]["ttl"]"#, "5"),
            format!("{FILE}\n[cache]\nttl = 5\n")
        );
        // Empty tables and arrays are values.
        assert_eq!(
            tset(FILE, r#"["db"]["e"]"#, "{}"),
            FILE.replace("list = [1, 2]\n", "list = [1, 2]\ne = {}\n")
        );
    }

    #[test]
    fn dotted_and_implicit_tables() {
        let text = "a.b = 1\na.c.d = 2\n\n[x.y]\nz = 1\n";
        assert_eq!(
            tset(text, r#"["a"]["e"]"#, r#""v""#),
            "a.b = 1\na.c.d = 2\na.e = \"v\"\n\n[x.y]\nz = 1\n"
        );
        assert_eq!(
            tset(text, r#"["a"]["c"]["f"]"#, "[1]"),
            "a.b = 1\na.c.d = 2\na.c.f = [1]\n\n[x.y]\nz = 1\n"
        );
        // `x` exists only through `[x.y]`: it gets its own section, before.
        assert_eq!(
            tset(text, r#"["x"]["k"]"#, "1"),
            "a.b = 1\na.c.d = 2\n\n[x]\nk = 1\n\n[x.y]\nz = 1\n"
        );
        let inline = "t = { a.b = 1 }\n";
        assert_eq!(
            tset(inline, r#"["t"]["a"]["c"]"#, "2"),
            "t = { a.b = 1, a.c = 2 }\n"
        );
    }

    #[test]
    fn a_table_written_in_sections_is_written_again_in_place() {
        assert_eq!(
            tset(FILE, r#"["db"]"#, r#"{"host": "n", "sub": {"k": 1}}"#),
            FILE.replace(
                "[db]\nhost = \"h\"\nopts = { tls = true }\nlist = [1, 2]\n",
                "[db]\nhost = \"n\"\n\n[db.sub]\nk = 1\n"
            )
        );
        // As a value, it moves to the top level's lines.
        assert_eq!(
            tset(FILE, r#"["db"]"#, r#""gone""#),
            "# app\ntitle = 'x' # t\nport = 8080\ndb = \"gone\"\n\n[[srv]]\nname = \"a\"\n\n[[srv]]\nname = \"b\"\n"
        );
        assert_eq!(
            tset(FILE, r#"["srv"][0]"#, r#"{"name": "z", "n": 1}"#),
            FILE.replace("[[srv]]\nname = \"a\"\n", "[[srv]]\nname = \"z\"\nn = 1\n")
        );
    }

    #[test]
    fn removals_take_their_lines_and_entries() {
        assert_eq!(
            tunset(FILE, r#"["title"]"#),
            FILE.replace("title = 'x' # t\n", "")
        );
        assert_eq!(
            tunset(FILE, r#"["db"]["list"][0]"#),
            FILE.replace("[1, 2]", "[2]")
        );
        assert_eq!(
            tunset(FILE, r#"["db"]["list"][1]"#),
            FILE.replace("[1, 2]", "[1]")
        );
        assert_eq!(
            tunset(FILE, r#"["db"]["opts"]["tls"]"#),
            FILE.replace("{ tls = true }", "{}")
        );
        assert_eq!(
            tunset(FILE, r#"["db"]"#),
            "# app\ntitle = 'x' # t\nport = 8080\n\n[[srv]]\nname = \"a\"\n\n[[srv]]\nname = \"b\"\n"
        );
        assert_eq!(
            tunset(FILE, r#"["srv"][0]"#),
            FILE.replace("[[srv]]\nname = \"a\"\n\n", "")
        );
        assert_eq!(
            tunset(FILE, r#"["srv"][1]"#),
            FILE.replace("\n\n[[srv]]\nname = \"b\"\n", "\n")
        );
    }

    #[test]
    fn what_is_left_empty_stays() {
        // A dotted table's last key: the table stays, empty.
        assert_eq!(
            tunset("a.b = 1\nc = 2\n", r#"["a"]["b"]"#),
            "a = {}\nc = 2\n"
        );
        assert_eq!(tunset("x.a.b = 1\n", r#"["x"]["a"]["b"]"#), "x.a = {}\n");
        assert_eq!(
            tunset("t = { a.b = 1 }\n", r#"["t"]["a"]["b"]"#),
            "t = { a = {} }\n"
        );
        // A table made only by its sub-table's header.
        assert_eq!(tunset("[a.b]\nc = 1\n", r#"["a"]["b"]"#), "[a]\n");
        // The last element of an array of tables.
        assert_eq!(
            tunset("k = 1\n\n[[s]]\nn = 1\n", r#"["s"][0]"#),
            "k = 1\ns = []\n"
        );
    }

    #[test]
    fn crlf_and_no_final_line_break() {
        assert_eq!(tset("a = 1\r\n", r#"["b"]"#, "2"), "a = 1\r\nb = 2\r\n");
        assert_eq!(tset("a = 1", r#"["b"]"#, "2"), "a = 1\nb = 2");
        assert_eq!(
            tset("a = 1\r\n", r#"["t"]"#, r#"{"k": 1}"#),
            "a = 1\r\n\r\n[t]\r\nk = 1\r\n"
        );
        assert_eq!(tset("", r#"["b"]"#, "2"), "b = 2\n");
        assert_eq!(
            tset("[s]\nx = 1\n", r#"["b"]"#, "2"),
            "b = 2\n\n[s]\nx = 1\n"
        );
    }

    #[test]
    fn what_toml_cannot_hold_is_exit_4_without_the_value() {
        for (p, v) in [
            (r#"["title"]"#, "null"),
            (r#"["n"]"#, r#"{"a": null, "s": "SECRETVALUE"}"#),
            (r#"["srv"][9]"#, r#""SECRETVALUE""#),
            (r#"["srv"][0]"#, r#""SECRETVALUE""#),
        ] {
            let err = terr(FILE, p, v);
            assert_eq!(err.exit_code(), 4, "{p} {v}: {err}");
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
        assert_eq!(terr(FILE, r#"["db"][0]"#, "1").exit_code(), 1);
        let missing = unset(
            Format::Toml,
            FILE.as_bytes(),
            "t.toml",
            &parse(r#"["db"]["zz"]"#).unwrap(),
        );
        assert!(matches!(missing, Err(Error::NotFound(_))));
    }

    #[test]
    fn more_layouts() {
        // A byte order mark stays.
        assert_eq!(
            tunset("\u{feff}a = 1\nb = 2\n", r#"["a"]"#),
            "\u{feff}b = 2\n"
        );
        assert_eq!(
            tset("\u{feff}[s]\n", r#"["a"]"#, "1"),
            "\u{feff}a = 1\n\n[s]\n"
        );
        // A file comment, then headers only: the new key goes right before the header
        // and the comments on it.
        assert_eq!(
            tset("# file\n\n# about s\n[s]\nk = 1\n", r#"["a"]"#, "1"),
            "# file\n\na = 1\n\n# about s\n[s]\nk = 1\n"
        );
        // One element per line.
        let multi = "l = [\n  1,\n  2,\n]\n";
        assert_eq!(
            tset(multi, r#"["l"][9]"#, "3"),
            "l = [\n  1,\n  2,\n  3,\n]\n"
        );
        assert_eq!(tunset(multi, r#"["l"][1]"#), "l = [\n  1,\n]\n");
        assert_eq!(tunset(multi, r#"["l"][0]"#), "l = [\n  2,\n]\n");
        assert_eq!(tset("l = []\n", r#"["l"][0]"#, "1"), "l = [1]\n");
        assert_eq!(tset("t = {}\n", r#"["t"]["a"]"#, "1"), "t = { a = 1 }\n");
        // Nested arrays of tables: each element's own sections.
        let nested = "[[a]]\nn = 1\n[[a.b]]\nm = 1\n\n[[a]]\nn = 2\n";
        assert_eq!(
            tset(nested, r#"["a"][0]["b"][1]"#, r#"{"m": 2}"#),
            "[[a]]\nn = 1\n[[a.b]]\nm = 1\n\n[[a.b]]\nm = 2\n\n[[a]]\nn = 2\n"
        );
        assert_eq!(
            tset(nested, r#"["a"][0]["c"]"#, r#"{"x": 1}"#),
            "[[a]]\nn = 1\n[[a.b]]\nm = 1\n\n[a.c]\nx = 1\n\n[[a]]\nn = 2\n"
        );
        assert_eq!(tunset(nested, r#"["a"][0]"#), "[[a]]\nn = 2\n");
        // A table defined after its sub-table; dotted keys in a section.
        let late = "[a.b]\nx = 1\n\n[a]\ny = 2\nd.e = 3\n";
        assert_eq!(
            tset(late, r#"["a"]["z"]"#, "4"),
            "[a.b]\nx = 1\n\n[a]\ny = 2\nd.e = 3\nz = 4\n"
        );
        assert_eq!(
            tset(late, r#"["a"]["d"]["f"]"#, "4"),
            "[a.b]\nx = 1\n\n[a]\ny = 2\nd.e = 3\nd.f = 4\n"
        );
        assert_eq!(tunset(late, r#"["a"]"#), "");
        assert_eq!(
            tunset(late, r#"["a"]["d"]["e"]"#),
            "[a.b]\nx = 1\n\n[a]\ny = 2\nd = {}\n"
        );
        // Quoted keys are written quoted.
        assert_eq!(
            tset("", r#"["a b"]["c.d"]"#, "1"),
            "[\"a b\"]\n\"c.d\" = 1\n"
        );
    }
}
