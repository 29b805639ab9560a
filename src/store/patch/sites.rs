//! Where the collections of a text sit: what `set` and `unset` need beyond the spans of
//! scalars. Stores record these only when asked (a normal parse does not pay for them).

use std::collections::HashMap;

use crate::treepath::Step;

/// A map or a list in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Written in flow style (`{...}`, `[...]`; every JSON container).
    pub flow: bool,
    /// Flow: offset of the opening bracket. Block: where the collection's first token
    /// (or its properties) starts.
    pub open: usize,
    /// Flow: offset of the closing bracket. Block: end of the collection's last token.
    pub close: usize,
    /// The entries (maps) or items (lists), in order; comments are not entries.
    pub entries: Vec<EntrySite>,
}

/// One entry of a map or item of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntrySite {
    /// A map entry: the first byte of its key. A block list item: its `-`. A flow list
    /// item: the first byte of its value.
    pub start: usize,
    /// A map entry: the end of its key token. A list item: the same as `start`.
    pub key_end: usize,
    /// The end of the value's last token (closing brackets included).
    pub end: usize,
}

/// Where the collections of one document sit, and what YAML aliases share.
#[derive(Debug, Default)]
pub struct Sites {
    /// Every collection by tree path (`[]` is the top level).
    pub collections: HashMap<Vec<Step>, Site>,
    /// Paths of anchored nodes that an alias refers to (YAML).
    pub shared: Vec<Vec<Step>>,
    /// Paths where an alias stands, i.e. copies of an anchored node (YAML).
    pub copies: Vec<Vec<Step>>,
}

impl Sites {
    pub fn get(&self, path: &[Step]) -> Option<&Site> {
        self.collections.get(path)
    }
}

/// Builds [`Sites`] while a store's parser walks the text: it opens a site when a
/// collection starts, adds entries as values are attached, and closes it at the end.
#[derive(Debug, Default)]
pub struct SiteRecorder {
    pub done: Sites,
    open: Vec<OpenSite>,
    /// Anchor ids and the paths of their nodes.
    anchors: HashMap<usize, Vec<Step>>,
}

#[derive(Debug)]
struct OpenSite {
    path: Vec<Step>,
    site: Site,
    /// The key of the entry whose value is being read: start and end.
    key: Option<(usize, usize)>,
    /// Where to look for the next list item's start.
    next_from: usize,
    list: bool,
}

impl SiteRecorder {
    /// A collection at `path` starts; `open` as in [`Site::open`]; `first_item` is where
    /// to look for a list's first item (a block list's `-`, or just after `[`).
    pub fn start(
        &mut self,
        path: Vec<Step>,
        list: bool,
        flow: bool,
        open: usize,
        first_item: usize,
    ) {
        self.open.push(OpenSite {
            list,
            path,
            site: Site {
                flow,
                open,
                close: open,
                entries: Vec::new(),
            },
            key: None,
            next_from: first_item,
        });
    }

    /// A key of the innermost map was read.
    pub fn key(&mut self, start: usize, end: usize) {
        if let Some(top) = self.open.last_mut() {
            top.key = Some((start, end));
        }
    }

    /// The innermost collection ends (`close` as in [`Site::close`]).
    pub fn end(&mut self, close: usize) {
        if let Some(mut top) = self.open.pop() {
            top.site.close = close;
            if !top.site.flow {
                // A last entry with an empty value ends after its `:`.
                if let Some(last) = top.site.entries.last() {
                    top.site.close = top.site.close.max(last.end);
                }
            }
            self.done.collections.insert(top.path, top.site);
        }
    }

    /// A node with anchor `id` sits at `path`.
    pub fn anchor(&mut self, id: usize, path: Vec<Step>) {
        self.anchors.insert(id, path);
    }

    /// An alias to anchor `id` stands at `path`.
    pub fn alias(&mut self, id: usize, path: Vec<Step>) {
        if let Some(anchored) = self.anchors.get(&id) {
            if !self.done.shared.contains(anchored) {
                self.done.shared.push(anchored.clone());
            }
        }
        self.done.copies.push(path);
    }

    /// A value was attached to the innermost collection; `end` is the end of its last
    /// token. A list item's start is found in `text` after the previous item.
    pub fn value(&mut self, text: &[u8], end: usize) {
        let Some(top) = self.open.last_mut() else {
            return;
        };
        let entry = match top.key.take() {
            Some((start, key_end)) if !top.list => EntrySite {
                start,
                key_end,
                end: end.max(colon_end(text, key_end)),
            },
            _ => {
                let start = skip_gap(text, top.next_from);
                EntrySite {
                    start,
                    key_end: start,
                    end: end.max(start + 1),
                }
            }
        };
        top.next_from = entry.end;
        top.site.entries.push(entry);
    }
}

/// Just past the `:` after a key that ends at `key_end` (or `key_end` if none follows).
pub fn colon_end(text: &[u8], key_end: usize) -> usize {
    let mut at = key_end;
    while matches!(text.get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    if text.get(at) == Some(&b':') {
        at + 1
    } else {
        key_end
    }
}

/// Skips what may sit between two list items: blanks, line breaks, comments and a `,`.
fn skip_gap(text: &[u8], mut at: usize) -> usize {
    while at < text.len() {
        match text[at] {
            b' ' | b'\t' | b'\r' | b'\n' | b',' => at += 1,
            b'#' => {
                while at < text.len() && text[at] != b'\n' {
                    at += 1;
                }
            }
            _ => break,
        }
    }
    at
}
