//! JSON text edits for a [`Plan`], in the file's own style: a new member or element goes
//! after the last one with the same indentation and separators (one per line in a
//! multi-line object, on the same line in a one-line object); an empty object or array
//! is filled in the style of the container around it; nested values are written one
//! element per line at the file's indentation unit, or on one line.

use super::sites::{EntrySite, Site, Sites};
use super::{leading_blanks, lost, newline_of, ordinal, Plan};
use crate::error::Result;
use crate::store::json::{render_compact, render_pretty, render_value};
use crate::store::Edit;
use crate::tree::{Document, Item, Leaf, ListItem, Node, Scalar};
use crate::treepath::Step;

/// The edits that carry out `plan` on `text`.
pub fn edits(text: &str, doc: &Document, sites: &Sites, plan: &Plan) -> Result<Vec<Edit>> {
    let root = sites.get(&[][..]).ok_or_else(lost)?;
    let cx = Cx {
        text,
        doc,
        sites,
        nl: newline_of(text),
        unit: file_unit(text, root),
        colon: file_colon(text, sites),
    };
    let mut out = Vec::new();
    match plan {
        Plan::Replace { path, new } => cx.replace(path, new, &mut out)?,
        Plan::Insert { map, key, node } => {
            let whole = Node::Map(vec![Item::Entry {
                key: key.clone(),
                value: node.clone(),
            }]);
            let key = render_value(&Scalar::Str(key.clone()))?;
            cx.add(map, Some(&key), node, whole, &mut out)?;
        }
        Plan::Append { list, node } => {
            let whole = Node::List(vec![ListItem::Node(node.clone())]);
            cx.add(list, None, node, whole, &mut out)?;
        }
        Plan::Remove { path } => cx.remove(path, &mut out)?,
    }
    Ok(out)
}

/// The indentation unit of a multi-line file (what its first member is indented by
/// past the `{`); a tab, as sops writes, when the file is on one line.
fn file_unit(text: &str, root: &Site) -> String {
    let Some(first) = root.entries.first() else {
        return "\t".into();
    };
    if !text[root.open..first.start].contains('\n') {
        return "\t".into();
    }
    let inner = leading_blanks(text, first.start).unwrap_or("");
    let outer = leading_blanks(text, root.open).unwrap_or("");
    match inner.strip_prefix(outer) {
        Some(unit) if !unit.is_empty() => unit.to_string(),
        _ => "\t".into(),
    }
}

/// What follows keys in this file: `": "` unless its first member has `":"` alone.
fn file_colon(text: &str, sites: &Sites) -> String {
    let first = sites
        .get(&[][..])
        .and_then(|s| s.entries.first())
        .map(|e| colon_after(text, e));
    first.unwrap_or_else(|| ": ".into())
}

/// The separator after the key of member `e`: `:` and the blanks after it.
fn colon_after(text: &str, e: &EntrySite) -> String {
    let rest = &text[e.key_end..];
    let Some(i) = rest.find(':') else {
        return ": ".into();
    };
    if rest[i + 1..].starts_with(' ') {
        ": ".into()
    } else {
        ":".into()
    }
}

/// How a container's elements are laid out.
enum Look {
    /// One per line, each line indented with `indent`.
    Lines { indent: String },
    /// On one line, `comma` being what separates two elements (`, ` or `,`).
    Inline { comma: String },
}

struct Cx<'a> {
    text: &'a str,
    doc: &'a Document,
    sites: &'a Sites,
    nl: &'static str,
    unit: String,
    colon: String,
}

impl Cx<'_> {
    fn site(&self, path: &[Step]) -> Result<&Site> {
        self.sites.get(path).ok_or_else(lost)
    }

    /// The look of a non-empty container.
    fn look(&self, site: &Site) -> Look {
        let Some(first) = site.entries.first() else {
            return Look::Inline {
                comma: self.inline_comma(),
            };
        };
        if self.text[site.open..first.start].contains('\n') {
            return Look::Lines {
                indent: leading_blanks(self.text, first.start)
                    .unwrap_or("")
                    .to_string(),
            };
        }
        let comma = match site.entries.get(1) {
            Some(second) => self.text[first.end..second.start].to_string(),
            None => self.inline_comma(),
        };
        Look::Inline { comma }
    }

    fn inline_comma(&self) -> String {
        if self.colon == ": " {
            ", ".into()
        } else {
            ",".into()
        }
    }

    /// A value rendered for a place whose line is indented with `indent` (one per line)
    /// or inside a one-line container.
    fn render(&self, node: &Node, look: &Look) -> Result<String> {
        match look {
            Look::Lines { indent } => render_pretty(node, self.nl, indent, &self.unit),
            Look::Inline { comma } => {
                render_compact(node, &self.colon, comma.trim_start_matches(','))
            }
        }
    }

    /// The look of the container around `path` (the top level: one per line).
    fn parent_look(&self, path: &[Step]) -> Result<Look> {
        match path.split_last() {
            Some((_, parent)) => Ok(self.look(self.site(parent)?)),
            None => Ok(Look::Lines {
                indent: String::new(),
            }),
        }
    }

    fn replace(&self, path: &[Step], new: &Node, out: &mut Vec<Edit>) -> Result<()> {
        let old = crate::treepath::lookup(self.doc, path).ok_or_else(lost)?;
        let range = match old {
            Node::Scalar(Leaf {
                span: Some(span), ..
            })
            | Node::Null(Some(span)) => span.bytes.clone(),
            Node::Map(_) | Node::List(_) => {
                let site = self.site(path)?;
                site.open..site.close + 1
            }
            _ => return Err(lost()),
        };
        let text = match new {
            Node::Scalar(leaf) => render_value(&leaf.value)?,
            Node::Null(_) => "null".into(),
            _ => {
                // Nested lines are indented from the line the value starts on.
                let look = match self.parent_look(path)? {
                    Look::Lines { .. } => Look::Lines {
                        indent: self.line_indent(range.start),
                    },
                    inline => inline,
                };
                self.render(new, &look)?
            }
        };
        out.push(Edit::new(range, text));
        Ok(())
    }

    /// The indentation of the line holding `at`.
    fn line_indent(&self, at: usize) -> String {
        let start = super::line_start(self.text, at);
        self.text[start..at]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect()
    }

    /// A new last member (`key`: the rendered key) or element `node` of the container at
    /// `path`; `whole` is the container holding only the new one, for an empty container.
    fn add(
        &self,
        path: &[Step],
        key: Option<&str>,
        node: &Node,
        whole: Node,
        out: &mut Vec<Edit>,
    ) -> Result<()> {
        let site = self.site(path)?;
        let Some(last) = site.entries.last() else {
            // `{}` or `[]`: filled in the style of the container around it.
            let look = match self.parent_look(path)? {
                Look::Lines { .. } => Look::Lines {
                    indent: self.line_indent(site.open),
                },
                inline => inline,
            };
            let text = self.render(&whole, &look)?;
            out.push(Edit::new(site.open..site.close + 1, text));
            return Ok(());
        };
        let look = self.look(site);
        let mut text = String::new();
        match &look {
            Look::Lines { indent } => {
                text.push(',');
                text.push_str(self.nl);
                text.push_str(indent);
            }
            Look::Inline { comma } => text.push_str(comma),
        }
        if let Some(key) = key {
            text.push_str(key);
            text.push_str(&self.colon);
        }
        text.push_str(&self.render(node, &look)?);
        out.push(Edit::new(last.end..last.end, text));
        Ok(())
    }

    fn remove(&self, path: &[Step], out: &mut Vec<Edit>) -> Result<()> {
        let parent = self.site(&path[..path.len() - 1])?;
        let n = ordinal(self.doc, path).ok_or_else(lost)?;
        let entry = *parent.entries.get(n).ok_or_else(lost)?;
        let count = parent.entries.len();
        let range = if count == 1 {
            parent.open + 1..parent.close
        } else if n + 1 < count {
            entry.start..parent.entries[n + 1].start
        } else {
            parent.entries[n - 1].end..entry.end
        };
        out.push(Edit::new(range, ""));
        Ok(())
    }
}
