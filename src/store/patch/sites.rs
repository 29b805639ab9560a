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

/// The sites of one document, by tree path (`[]` is the top level).
pub type Sites = HashMap<Vec<Step>, Site>;

/// Builds [`Sites`] while a store's parser walks the text: it opens a site when a
/// collection starts, adds entries as values are attached, and closes it at the end.
#[derive(Debug, Default)]
pub struct SiteRecorder {
    pub done: Sites,
    open: Vec<OpenSite>,
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
            self.done.insert(top.path, top.site);
        }
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
                end: end.max(key_end),
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
