//! A fresh block emitter that writes what sops 3.11 writes after decrypting.
//!
//! sops builds go-yaml nodes from its tree and lets go-yaml's emitter write them. This
//! module does the same in two steps: it turns the tree into go-yaml's event stream,
//! with comments placed the way sops places them, and runs a model of go-yaml's emitter
//! (the block subset plus empty `{}`/`[]`) over it.
//!
//! Comment placement (sops `appendTreeBranch`/`appendSequence`):
//!
//! * comments before the first entry of a map or list are the head comment of the map or
//!   list; comments between entries are the head comment of the next key or list item;
//!   comments after the last entry are the foot comment of the last key (map) or of the
//!   last item (list); a map or list holding only comments gets them all as its head.
//! * a list item that is itself a map or list gets the comments before it *prepended*
//!   to its own head comment.
//!
//! go-yaml then writes a head comment on the lines before its node, and a key's foot
//! comment when the map ends. Its emitter keeps one pending slot per kind of comment, and
//! sops 3.11 shows the consequences, which this emitter reproduces (probes `c1`–`c3`):
//!
//! * a list whose first item is a map with its own head comment loses the list's head
//!   comment (the map's overwrites it);
//! * the foot comment of a map that is the last item of a list is written late: after
//!   the next key's value, or at the end of the document after a blank line;
//! * an empty map or list holding comments is written `{}`/`[]`; the comments of a list
//!   follow on the next line, those of a map go inside the braces.
//!
//! Two places where go-yaml writes YAML that is not valid (sealant's reader refuses it;
//! go-yaml itself reads the first and loses its comments, and fails on the second) are
//! written validly here instead, keeping the comments where go-yaml meant them:
//!
//! * the closing `}` of an empty map holding comments: go-yaml puts it at column 0,
//!   left of the block it sits in; here it goes in the comments' column
//!   (`t: {` / `    # c` / `    }`);
//! * a late foot comment (above) that is due when the next node is an empty `{}`/`[]`:
//!   go-yaml writes it between `key:` (or `-`) and the brackets, which then start a
//!   line of their own at column 0; here it follows the brackets, as it follows a
//!   scalar (`key: {}` / `# c`).
//!
//! Layout: nested maps are indented by the step `n`; a list under a key is indented by
//! `n` with `- ` there; the content of a list item starts 2 columns after its `-`
//! (`- key: v` then `  other: w`), and collections inside a list item continue at +2.
//! Inside a map, a value's indentation is rounded up to the next multiple of `n`, which
//! matters for block scalars in list items (`n` = 3: keys at 5, content at 6). Keys with
//! a line break or longer than 128 bytes are written as `? key` / `: value`. Documents
//! are separated by `---`, with none before the first.
//!
//! Faithful to a fault: a multi-line string starting with a space inside a list comes
//! out as `- |4-` with content only 2 columns in, which go-yaml itself cannot read back
//! (sops 3.11: "did not find expected '-' indicator"). This emitter writes the same
//! bytes; a writer that prefers readable output must avoid that case itself.

use std::borrow::Cow;

use super::render::{analyze, format_non_string, plan_string, select, Analysis, Kind, Out};
use crate::tree::{Document, Item, ListItem, Node, Scalar};

/// Writes documents as sops writes decrypted YAML, with `indent` spaces per level.
///
/// `indent` follows sops and go-yaml: 0 means the default 4; go-yaml accepts 2 to 9 and
/// uses 2 for anything else.
pub fn emit_documents(docs: &[Document], indent: usize) -> String {
    let mut e = Emitter::new(indent);
    for doc in docs {
        e.event(Ev::DocStart);
        e.walk_map(&doc.items, String::new(), String::new());
        e.event(Ev::DocEnd);
    }
    e.out.buf
}

/// Writes one node as a YAML document of its own, as sops's `--extract` does for a
/// non-string value (sops always uses the default indentation, 4, there). A scalar
/// gives its text and a line break (`42\n`); sops prints an extracted *string* raw
/// instead, which is the caller's business.
pub fn emit_node(node: &Node, indent: usize) -> String {
    let mut e = Emitter::new(indent);
    e.event(Ev::DocStart);
    e.walk_node(node, String::new(), String::new());
    e.event(Ev::DocEnd);
    e.out.buf
}

/// go-yaml's indentation step for a requested `indent`.
fn indentation_step(indent: usize) -> usize {
    match indent {
        0 => 4,
        2..=9 => indent,
        _ => 2,
    }
}

/// A scalar event: text, style after sops's `Node.Encode`, comments.
struct ScalarEv<'a> {
    text: Cow<'a, str>,
    kind: Kind,
    an: Analysis,
    /// A tag written before the scalar: `!!merge` for the string `<<`, `!!binary` for
    /// a string that is not UTF-8 (written as base64), as go-yaml writes them.
    tag: Option<&'static str>,
    head: String,
    foot: String,
}

enum Ev<'a> {
    DocStart,
    DocEnd,
    MapStart { head: String, empty: bool },
    MapEnd { tail: String, foot: String },
    SeqStart { head: String, empty: bool },
    SeqEnd { foot: String },
    Scalar(ScalarEv<'a>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    DocStart { first: bool },
    DocContent,
    DocEnd,
    FlowSeqFirst,
    FlowMapFirst,
    BlockSeqFirst,
    BlockSeqItem,
    BlockMapFirstKey,
    BlockMapKey,
    BlockMapSimpleValue,
    BlockMapValue,
}

struct Emitter {
    out: Out,
    state: State,
    states: Vec<State>,
    indents: Vec<isize>,
    flow_level: usize,
    /// Pending comments, as go-yaml's emitter keeps them.
    head: String,
    foot: String,
    tail: String,
    /// A late foot comment held back until an empty flow collection has been written.
    deferred_foot: String,
}

/// `#a\n#b` from comment texts `a`, `b` (sops joins comment lines so).
fn join_comments<'c>(texts: impl IntoIterator<Item = &'c str>) -> String {
    let mut out = String::new();
    for (i, t) in texts.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push('#');
        out.push_str(t);
    }
    out
}

/// sops's `addCommentsHead` on a node that may already have a head comment.
fn prepend(outer: String, own: String) -> String {
    match (outer.is_empty(), own.is_empty()) {
        (true, _) => own,
        (_, true) => outer,
        _ => outer + "\n" + &own,
    }
}

fn map_comment(item: &Item) -> Option<&str> {
    match item {
        Item::Comment(c) => Some(c.value.as_str()),
        Item::Entry { .. } => None,
    }
}

fn list_comment(item: &ListItem) -> Option<&str> {
    match item {
        ListItem::Comment(c) => Some(c.value.as_str()),
        ListItem::Node(_) => None,
    }
}

impl Emitter {
    fn new(indent: usize) -> Self {
        Emitter {
            out: Out::new(indentation_step(indent)),
            state: State::DocStart { first: true },
            states: Vec::new(),
            indents: Vec::new(),
            flow_level: 0,
            head: String::new(),
            foot: String::new(),
            tail: String::new(),
            deferred_foot: String::new(),
        }
    }

    // ---- tree → events ---------------------------------------------------------------

    fn walk_node(&mut self, node: &Node, head: String, foot: String) {
        match node {
            Node::Map(items) => self.walk_map(items, head, foot),
            Node::List(items) => self.walk_list(items, head, foot),
            Node::Scalar(leaf) => {
                let ev = scalar_event(&leaf.value, head, foot);
                self.event(Ev::Scalar(ev));
            }
            Node::Null(_) => self.event(Ev::Scalar(ScalarEv {
                text: Cow::Borrowed("null"),
                kind: Kind::Plain,
                an: Analysis::PLAIN_SAFE,
                tag: None,
                head,
                foot,
            })),
        }
    }

    fn walk_map(&mut self, items: &[Item], outer_head: String, foot: String) {
        let first = items.iter().position(|i| map_comment(i).is_none());
        let last = items.iter().rposition(|i| map_comment(i).is_none());
        let leading = &items[..first.unwrap_or(items.len())];
        let own_head = join_comments(leading.iter().filter_map(map_comment));
        self.event(Ev::MapStart {
            head: prepend(outer_head, own_head),
            empty: first.is_none(),
        });
        let mut tail = String::new();
        if let (Some(first), Some(last)) = (first, last) {
            let mut pending: Vec<&str> = Vec::new();
            for item in &items[first..=last] {
                match item {
                    Item::Comment(c) => pending.push(&c.value),
                    Item::Entry { key, value } => {
                        let head = join_comments(pending.drain(..));
                        let plan = plan_string(key);
                        self.event(Ev::Scalar(ScalarEv {
                            text: Cow::Borrowed(key),
                            kind: plan.kind,
                            an: plan.an,
                            tag: plan.merge.then_some("!!merge"),
                            head,
                            foot: String::new(),
                        }));
                        self.walk_node(value, String::new(), String::new());
                    }
                }
            }
            tail = join_comments(items[last + 1..].iter().filter_map(map_comment));
        }
        self.event(Ev::MapEnd { tail, foot });
    }

    fn walk_list(&mut self, items: &[ListItem], outer_head: String, foot: String) {
        let first = items.iter().position(|i| list_comment(i).is_none());
        let last = items.iter().rposition(|i| list_comment(i).is_none());
        let leading = &items[..first.unwrap_or(items.len())];
        let own_head = join_comments(leading.iter().filter_map(list_comment));
        self.event(Ev::SeqStart {
            head: prepend(outer_head, own_head),
            empty: first.is_none(),
        });
        if let (Some(first), Some(last)) = (first, last) {
            let mut pending: Vec<&str> = Vec::new();
            for (i, item) in items.iter().enumerate().take(last + 1).skip(first) {
                match item {
                    ListItem::Comment(c) => pending.push(&c.value),
                    ListItem::Node(node) => {
                        let head = join_comments(pending.drain(..));
                        let item_foot = if i == last {
                            join_comments(items[last + 1..].iter().filter_map(list_comment))
                        } else {
                            String::new()
                        };
                        self.walk_node(node, head, item_foot);
                    }
                }
            }
        }
        self.event(Ev::SeqEnd { foot });
    }

    // ---- the emitter -----------------------------------------------------------------

    fn event(&mut self, mut ev: Ev<'_>) {
        // go-yaml's analyze step: a non-empty comment replaces the pending one.
        let keep = |slot: &mut String, c: &mut String| {
            if !c.is_empty() {
                *slot = std::mem::take(c);
            }
        };
        match &mut ev {
            Ev::MapStart { head, .. } | Ev::SeqStart { head, .. } => keep(&mut self.head, head),
            Ev::MapEnd { tail, foot } => {
                keep(&mut self.tail, tail);
                keep(&mut self.foot, foot);
            }
            Ev::SeqEnd { foot } => keep(&mut self.foot, foot),
            Ev::Scalar(s) => {
                keep(&mut self.head, &mut s.head);
                keep(&mut self.foot, &mut s.foot);
            }
            Ev::DocStart | Ev::DocEnd => {}
        }

        match self.state {
            State::DocStart { first } => {
                if !first {
                    self.out.write_indent();
                    self.out.write_indicator("---", true, false, false);
                    self.out.write_indent();
                }
                self.state = State::DocContent;
            }
            State::DocContent => {
                self.states.push(State::DocEnd);
                self.process_head_comment();
                self.emit_node(ev, false);
                self.process_foot_comment();
            }
            State::DocEnd => {
                // go-yaml forces a blank line before a foot comment left for the end.
                self.out.foot_indent = 0;
                self.process_foot_comment();
                self.out.foot_indent = -1;
                self.out.write_indent();
                self.state = State::DocStart { first: false };
            }
            State::BlockSeqFirst | State::BlockSeqItem => {
                if self.state == State::BlockSeqFirst {
                    self.increase_indent(false);
                }
                if let Ev::SeqEnd { .. } = ev {
                    self.pop_indent();
                    self.pop_state();
                } else {
                    self.process_head_comment();
                    self.out.write_indent();
                    self.out.write_indicator("-", true, false, true);
                    self.states.push(State::BlockSeqItem);
                    self.emit_node(ev, false);
                    self.foot_after_node();
                }
            }
            State::BlockMapFirstKey | State::BlockMapKey => {
                if self.state == State::BlockMapFirstKey {
                    self.increase_indent(false);
                }
                self.process_head_comment();
                if let Ev::MapEnd { .. } = ev {
                    self.pop_indent();
                    self.pop_state();
                } else {
                    self.out.write_indent();
                    if is_simple_key(&ev) {
                        self.states.push(State::BlockMapSimpleValue);
                        self.emit_node(ev, true);
                    } else {
                        self.out.write_indicator("?", true, false, true);
                        self.states.push(State::BlockMapValue);
                        self.emit_node(ev, false);
                    }
                }
            }
            State::BlockMapSimpleValue | State::BlockMapValue => {
                if self.state == State::BlockMapSimpleValue {
                    self.out.write_indicator(":", false, false, false);
                } else {
                    self.out.write_indent();
                    self.out.write_indicator(":", true, false, true);
                }
                self.states.push(State::BlockMapKey);
                self.emit_node(ev, false);
                self.foot_after_node();
            }
            State::FlowSeqFirst => {
                // Only empty sequences are written in flow style: this is the end.
                self.out.write_indicator("[", true, true, false);
                self.increase_indent(true);
                self.pop_indent();
                if self.out.column == 0 {
                    self.out.write_indent();
                }
                self.out.write_indicator("]", false, false, false);
                self.flow_foot();
                self.pop_state();
            }
            State::FlowMapFirst => {
                self.out.write_indicator("{", true, true, false);
                self.increase_indent(true);
                self.flow_level += 1;
                self.process_head_comment();
                self.flow_level -= 1;
                // After comments go-yaml writes `}` at column 0, outside the block the
                // map is in: invalid YAML. Keep it in the comments' column.
                if self.out.column == 0 {
                    self.out.write_indent();
                }
                self.pop_indent();
                self.out.write_indicator("}", false, false, false);
                self.flow_foot();
                self.pop_state();
            }
        }
    }

    fn emit_node(&mut self, ev: Ev<'_>, simple_key: bool) {
        match ev {
            Ev::Scalar(s) => {
                let kind = select(
                    s.kind,
                    &s.an,
                    s.text.is_empty(),
                    self.flow_level > 0,
                    simple_key,
                );
                if let Some(tag) = s.tag {
                    if !self.out.whitespace {
                        self.out.put(' ');
                    }
                    self.out.write_str(tag);
                    self.out.whitespace = false;
                    self.out.indention = false;
                }
                self.increase_indent(true);
                self.out.write_scalar(&s.text, kind);
                self.pop_indent();
                self.pop_state();
            }
            Ev::MapStart { empty, .. } => {
                self.state = if self.flow_level > 0 || empty {
                    State::FlowMapFirst
                } else {
                    State::BlockMapFirstKey
                };
            }
            Ev::SeqStart { empty, .. } => {
                self.state = if self.flow_level > 0 || empty {
                    State::FlowSeqFirst
                } else {
                    State::BlockSeqFirst
                };
            }
            // The walkers never send these where a node is expected.
            Ev::MapEnd { .. } | Ev::SeqEnd { .. } | Ev::DocStart | Ev::DocEnd => {
                debug_assert!(false, "event out of place");
            }
        }
    }

    fn increase_indent(&mut self, flow: bool) {
        let best = self.out.best_indent as isize;
        self.indents.push(self.out.indent);
        let indent = self.out.indent;
        self.out.indent = if indent < 0 {
            if flow {
                best
            } else {
                0
            }
        } else if self.states.last() == Some(&State::BlockSeqItem) {
            // The first indentation inside a list item just skips the "- ".
            indent + 2
        } else {
            best * ((indent + best) / best)
        };
    }

    fn pop_indent(&mut self) {
        self.out.indent = self.indents.pop().unwrap_or(-1);
    }

    fn pop_state(&mut self) {
        self.state = self
            .states
            .pop()
            .unwrap_or(State::DocStart { first: false });
    }

    fn process_head_comment(&mut self) {
        if !self.tail.is_empty() {
            self.out.write_indent();
            let tail = std::mem::take(&mut self.tail);
            self.out.write_comment(&tail);
            self.out.foot_indent = self.out.indent.max(0);
        }
        if !self.head.is_empty() {
            self.out.write_indent();
            let head = std::mem::take(&mut self.head);
            self.out.write_comment(&head);
        }
    }

    /// go-yaml's foot step after a node has started. An empty collection is written
    /// only at its end event: a late foot comment due now is held until its brackets
    /// are out (go-yaml writes it before them, leaving `{}` alone at column 0).
    fn foot_after_node(&mut self) {
        if matches!(self.state, State::FlowMapFirst | State::FlowSeqFirst) {
            self.deferred_foot = std::mem::take(&mut self.foot);
        } else {
            self.process_foot_comment();
        }
    }

    /// The foot step after an empty collection's closing bracket: the held-back foot
    /// first (it belongs to what came before), then the collection's own.
    fn flow_foot(&mut self) {
        let held = std::mem::take(&mut self.deferred_foot);
        self.foot = prepend(held, std::mem::take(&mut self.foot));
        self.process_foot_comment();
    }

    fn process_foot_comment(&mut self) {
        if !self.foot.is_empty() {
            self.out.write_indent();
            let foot = std::mem::take(&mut self.foot);
            self.out.write_comment(&foot);
            self.out.foot_indent = self.out.indent.max(0);
        }
    }
}

/// go-yaml writes a key as `key:` when it fits on one line in 128 bytes.
fn is_simple_key(ev: &Ev<'_>) -> bool {
    match ev {
        Ev::Scalar(s) => {
            let tag_len = s.tag.map_or(0, str::len);
            !s.an.multiline && tag_len + s.text.len() <= 128
        }
        Ev::MapStart { empty, .. } | Ev::SeqStart { empty, .. } => *empty,
        _ => false,
    }
}

fn scalar_event(value: &Scalar, head: String, foot: String) -> ScalarEv<'_> {
    match value {
        Scalar::Str(s) => {
            let plan = plan_string(s);
            ScalarEv {
                text: Cow::Borrowed(s),
                kind: plan.kind,
                an: plan.an,
                tag: plan.merge.then_some("!!merge"),
                head,
                foot,
            }
        }
        Scalar::Bytes(bytes) => {
            let text = super::render::binary_text(bytes);
            let an = analyze(&text);
            ScalarEv {
                kind: if text.ends_with('\n') {
                    Kind::Literal
                } else {
                    Kind::Plain
                },
                text: Cow::Owned(text),
                an,
                tag: Some("!!binary"),
                head,
                foot,
            }
        }
        other => {
            let mut text = String::new();
            format_non_string(other, &mut text);
            // Numbers, bools and timestamps are always plain-safe; analyse anyway so a
            // surprise cannot produce invalid YAML.
            let an = analyze(&text);
            ScalarEv {
                text: Cow::Owned(text),
                kind: Kind::Plain,
                an,
                tag: None,
                head,
                foot,
            }
        }
    }
}

#[cfg(test)]
mod tests;
