//! YAML text edits for a [`Plan`], in the file's own style: a new key goes after the
//! last entry of its map at the column of its neighbours, a new list item after the last
//! item at its dash's column, a new value in a flow collection inside the brackets; a
//! replaced scalar keeps its quoting where it can; new nested values are written in block
//! style at the file's indentation unit; line breaks are the file's.

use super::sites::{EntrySite, Site, Sites};
use super::{
    indent_lines, insert_lines, leading_blanks, line_end_after, line_start, lost, ordinal, Plan,
};
use crate::error::Result;
use crate::store::yaml::{flow_key, flow_text, YamlLayout};
use crate::store::{Edit, Edits};
use crate::tree::{Document, Item, Leaf, ListItem, Node};
use crate::treepath::Step;
use crate::yaml_fmt::emit::{emit_documents, emit_node};
use crate::yaml_fmt::render::{render_scalar, RenderCtx};

/// The edits that carry out `plan` on `text`.
pub fn edits(
    text: &str,
    layout: &YamlLayout,
    doc: &Document,
    sites: &Sites,
    plan: &Plan,
) -> Result<Vec<Edit>> {
    let cx = Cx {
        text,
        layout,
        doc,
        sites,
        nl: layout.newline(),
        unit: layout.indent_unit.max(1),
    };
    let mut out = Vec::new();
    match plan {
        Plan::Replace { path, new } => cx.replace(path, new, &mut out)?,
        Plan::Insert { map, key, node } => cx.insert(map, key, node, &mut out)?,
        Plan::Append { list, node } => cx.append(list, node, &mut out)?,
        Plan::Remove { path } => cx.remove(path, &mut out)?,
    }
    Ok(out)
}

struct Cx<'a> {
    text: &'a str,
    layout: &'a YamlLayout,
    doc: &'a Document,
    sites: &'a Sites,
    nl: &'static str,
    unit: usize,
}

impl Cx<'_> {
    fn site(&self, path: &[Step]) -> Result<&Site> {
        self.sites.get(path).ok_or_else(lost)
    }

    /// The parent collection of `path` and the entry or item `path` names there.
    fn entry(&self, path: &[Step]) -> Result<(&Site, usize, EntrySite)> {
        let parent = self.site(&path[..path.len().saturating_sub(1)])?;
        let n = ordinal(self.doc, path).ok_or_else(lost)?;
        let entry = *parent.entries.get(n).ok_or_else(lost)?;
        Ok((parent, n, entry))
    }

    /// Whether the collection holding `path` is written in flow style.
    fn parent_is_flow(&self, path: &[Step]) -> bool {
        path.split_last()
            .and_then(|(_, parent)| self.sites.get(parent))
            .is_some_and(|s| s.flow)
    }

    /// Column, in characters, of `at` on its line (a byte order mark is not a column).
    fn column(&self, at: usize) -> usize {
        let line = &self.text[line_start(self.text, at)..at];
        line.strip_prefix('\u{feff}')
            .unwrap_or(line)
            .chars()
            .count()
    }

    /// Just past the `:` after a map entry's key.
    fn colon_end(&self, entry: &EntrySite) -> usize {
        super::sites::colon_end(self.text.as_bytes(), entry.key_end)
    }

    fn crlf(&self, s: String) -> String {
        if self.nl == "\r\n" {
            s.replace('\n', "\r\n")
        } else {
            s
        }
    }

    /// The value at `path` becomes `new`.
    fn replace(&self, path: &[Step], new: &Node, out: &mut Vec<Edit>) -> Result<()> {
        let (_, _, entry) = self.entry(path)?;
        let old = crate::treepath::lookup(self.doc, path).ok_or_else(lost)?;
        let old_span = match old {
            Node::Scalar(Leaf { span, .. }) | Node::Null(span) => span.as_ref(),
            _ => None,
        };
        // A scalar in place of a scalar: the token, in the old token's style.
        if let Some(span) = old_span.filter(|s| !s.bytes.is_empty()) {
            match new {
                Node::Scalar(leaf) => {
                    let mut edits = Edits::collect(self.text);
                    self.layout
                        .write_clear(self.text, span, &leaf.value, &mut edits);
                    out.extend(edits.into_vec());
                    return Ok(());
                }
                Node::Null(_) => {
                    out.push(Edit::new(span.bytes.clone(), "null"));
                    return Ok(());
                }
                _ => {}
            }
        }
        let in_list = matches!(path.last(), Some(Step::Index(_)));
        let old_flow = match old {
            Node::Map(_) | Node::List(_) => {
                let site = self.site(path)?;
                site.flow.then_some(site)
            }
            _ => None,
        };
        let value_end = match (old, old_span) {
            (_, Some(span)) => span.bytes.end,
            (Node::Map(_) | Node::List(_), _) => {
                let site = self.site(path)?;
                if site.flow {
                    site.close + 1
                } else {
                    site.close
                }
            }
            _ => entry.end,
        };

        if self.parent_is_flow(path) {
            let start = if in_list {
                entry.start
            } else {
                self.colon_end(&entry)
            };
            let lead = if in_list { "" } else { " " };
            let end = value_end.max(start);
            out.push(Edit::new(start..end, format!("{lead}{}", flow_text(new))));
            return Ok(());
        }

        // Block context: the value follows `key:` or `-`.
        let holder_col = self.column(entry.start);
        let (start, child) = if in_list {
            (entry.start + 1, holder_col + 2)
        } else {
            let unit = self.unit;
            (self.colon_end(&entry), unit * ((holder_col + unit) / unit))
        };
        let end = value_end.max(start);
        let keeps_flow = old_flow.is_some_and(|s| !s.entries.is_empty());
        let block = match new {
            Node::Map(items) => !items.is_empty() && !keeps_flow,
            Node::List(items) => !items.is_empty() && !keeps_flow,
            _ => false,
        };
        if !block {
            let token = match new {
                Node::Scalar(leaf) => {
                    let ctx = RenderCtx {
                        indent: child,
                        in_flow: false,
                        indicator: child.saturating_sub(holder_col),
                    };
                    let mut t = render_scalar(&leaf.value, &ctx);
                    // A block scalar's text ends with its line break; the line has its own.
                    if t.starts_with(['|', '>']) && t.ends_with('\n') {
                        t.pop();
                    }
                    t
                }
                Node::Null(_) => "null".into(),
                other => flow_text(other),
            };
            out.push(Edit::new(start..end, self.crlf(format!(" {token}"))));
            return Ok(());
        }
        let body = emit_node(new, self.unit);
        if in_list {
            // Compact, as go-yaml writes it: `- a: 1` then `  b: 2` under it.
            let pad = " ".repeat(child);
            let mut lines = body.split_inclusive('\n');
            let head = lines.next().unwrap_or("").to_string();
            let rest = indent_lines(&lines.collect::<String>(), &pad, "\n");
            let all = format!(" {head}{rest}");
            let all = all.strip_suffix('\n').unwrap_or(&all).to_string();
            out.push(Edit::new(start..end, self.crlf(all)));
        } else {
            let lines = self.crlf(indent_lines(&body, &" ".repeat(child), "\n"));
            out.push(Edit::new(start..end, ""));
            out.push(insert_lines(self.text, end, lines, self.nl));
        }
        Ok(())
    }

    /// A new last entry `key: node` in the map at `map`.
    fn insert(&self, map: &[Step], key: &str, node: &Node, out: &mut Vec<Edit>) -> Result<()> {
        let site = self.site(map)?;
        let entry = Item::Entry {
            key: key.to_string(),
            value: node.clone(),
        };
        let Some(last) = site.entries.last() else {
            // An empty `{}`.
            if map.is_empty() {
                // The whole document was `{}`: it becomes a block map.
                let block = emit_documents(&[Document { items: vec![entry] }], self.unit);
                let block = block.strip_suffix('\n').unwrap_or(&block).to_string();
                out.push(Edit::new(site.open..site.close + 1, self.crlf(block)));
                return Ok(());
            }
            if self.parent_is_flow(map) {
                let at = site.open + 1;
                out.push(Edit::new(
                    at..at,
                    format!("{}: {}", flow_key(key), flow_text(node)),
                ));
                return Ok(());
            }
            return self.replace(map, &Node::Map(vec![entry]), out);
        };
        if site.flow {
            out.push(Edit::new(
                last.end..last.end,
                format!(", {}: {}", flow_key(key), flow_text(node)),
            ));
            return Ok(());
        }
        let col = self.column(site.entries[0].start);
        let block = emit_documents(&[Document { items: vec![entry] }], self.unit);
        let lines = self.crlf(indent_lines(&block, &" ".repeat(col), "\n"));
        let after = self.past_deeper_comments(last.end, col);
        out.push(insert_lines(self.text, after, lines, self.nl));
        Ok(())
    }

    /// A new last item in the list at `list`.
    fn append(&self, list: &[Step], node: &Node, out: &mut Vec<Edit>) -> Result<()> {
        let site = self.site(list)?;
        let Some(last) = site.entries.last() else {
            // An empty `[]`.
            if self.parent_is_flow(list) {
                let at = site.open + 1;
                out.push(Edit::new(at..at, flow_text(node)));
                return Ok(());
            }
            return self.replace(list, &Node::List(vec![ListItem::Node(node.clone())]), out);
        };
        if site.flow {
            out.push(Edit::new(
                last.end..last.end,
                format!(", {}", flow_text(node)),
            ));
            return Ok(());
        }
        let col = self.column(site.entries[0].start);
        let block = emit_node(&Node::List(vec![ListItem::Node(node.clone())]), self.unit);
        let lines = self.crlf(indent_lines(&block, &" ".repeat(col), "\n"));
        let after = self.past_deeper_comments(last.end, col);
        out.push(insert_lines(self.text, after, lines, self.nl));
        Ok(())
    }

    /// The entry or item at `path` goes, with its own lines.
    fn remove(&self, path: &[Step], out: &mut Vec<Edit>) -> Result<()> {
        let (parent, n, entry) = self.entry(path)?;
        let parent_path = &path[..path.len() - 1];
        let count = parent.entries.len();
        if parent.flow {
            let range = if count == 1 {
                entry.start..entry.end
            } else if n + 1 < count {
                entry.start..parent.entries[n + 1].start
            } else {
                parent.entries[n - 1].end..entry.end
            };
            out.push(Edit::new(range, ""));
            return Ok(());
        }
        let own_lines = leading_blanks(self.text, entry.start).is_some();
        if count == 1 {
            if parent_path.is_empty() {
                // The document's last key: an empty document is `{}`.
                let start = self.line_start_past_bom(entry.start);
                let end = line_end_after(self.text, entry.end);
                let nl = if self.text[..end].ends_with('\n') {
                    self.nl
                } else {
                    ""
                };
                out.push(Edit::new(start..end, format!("{{}}{nl}")));
                return Ok(());
            }
            let empty = match path.last() {
                Some(Step::Index(_)) => Node::List(Vec::new()),
                _ => Node::Map(Vec::new()),
            };
            return self.replace(parent_path, &empty, out);
        }
        let range = if own_lines {
            self.line_start_past_bom(entry.start)..line_end_after(self.text, entry.end)
        } else if n + 1 < count {
            // The first entry shares its line with a `-` (`- a: 1`): the next one
            // moves up into its place.
            entry.start..parent.entries[n + 1].start
        } else {
            return Err(lost());
        };
        out.push(Edit::new(range, ""));
        Ok(())
    }

    /// The last line of the comment lines right after the line holding `at` that are
    /// indented deeper than `col`: they belong to the nested block that ends there, so a
    /// new sibling goes after them.
    fn past_deeper_comments(&self, at: usize, col: usize) -> usize {
        let mut last = at;
        let mut next = line_end_after(self.text, at);
        while next < self.text.len() {
            let line = &self.text[next..line_end_after(self.text, next)];
            let body = line.trim_start_matches(' ');
            let indent = line.len() - body.len();
            if !body.starts_with('#') || indent <= col {
                break;
            }
            last = next;
            next = line_end_after(self.text, next);
        }
        last
    }

    /// The start of the line holding `at`, after a byte order mark.
    fn line_start_past_bom(&self, at: usize) -> usize {
        let start = line_start(self.text, at);
        if start == 0 && self.text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            start
        }
    }
}
