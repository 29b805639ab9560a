//! INI text edits for a [`Plan`]. The tree is a map of sections, each a map of strings;
//! keys before any header are in `DEFAULT` (docs/FORMAT.md).
//!
//! A value is replaced in its token's quotes; a new key is a line after the section's
//! last key, indented, separated (`=` or `:`, the blanks around it) and aligned like the
//! section's keys; a new section is a `[name]` header with its keys at the end of the
//! file, after a blank line when the file separates its sections so; a removed key or
//! section takes its lines (a section's comments above its header stay, as comments
//! above a removed key do). CRLF files get CRLF lines.

use super::{lost, ordinal, Plan};
use crate::error::{Error, Result};
use crate::store::ini::{
    key_token, new_value_token, section_problem, value_edits, value_string, IniSites, KeySite,
    SectionSite,
};
use crate::store::Edit;
use crate::tree::{Document, Item, Node};
use crate::treepath::Step;

/// go-ini's name for the keys before any header; always the first section.
const DEFAULT: &str = "DEFAULT";

/// The section `DEFAULT` always exists (go-ini makes it): removing it empties it.
pub fn adapt(doc: &Document, plan: Plan) -> Plan {
    match &plan {
        Plan::Remove { path } if path.as_slice() == [Step::Key(DEFAULT.into())] => {
            let first_is_default =
                matches!(doc.items.first(), Some(Item::Entry { key, .. }) if key == DEFAULT);
            if first_is_default {
                return Plan::Replace {
                    path: path.clone(),
                    new: Node::Map(Vec::new()),
                };
            }
            plan
        }
        _ => plan,
    }
}

/// The edits that carry out `plan` on `text`.
pub fn edits(text: &str, doc: &Document, sites: &IniSites, plan: &Plan) -> Result<Vec<Edit>> {
    let cx = Cx { text, doc, sites };
    match plan {
        Plan::Replace { path, new } => match path.as_slice() {
            [Step::Key(section), Step::Key(key)] => {
                let site = cx.section(&path[..1])?;
                let s = scalar(new, section, key)?;
                let line = site
                    .keys
                    .iter()
                    .rev()
                    .find(|k| &k.name == key)
                    .ok_or_else(lost)?;
                value_edits(text, line, &s, sites.eol)
            }
            [Step::Key(section)] => {
                let site = cx.section(path)?;
                let lines = cx.key_lines(section, new, Some(site))?;
                let mut lines = lines;
                // `DEFAULT` had no keys: its new ones stand apart from what follows.
                if site.header.is_none()
                    && site.keys.is_empty()
                    && !lines.is_empty()
                    && site.end < text.len()
                    && !text[site.end..].starts_with(['\n', '\r'])
                {
                    lines.push_str(sites.eol);
                }
                Ok(vec![Edit::new(site.body..site.end, lines)])
            }
            _ => Err(lost()),
        },
        Plan::Insert { map, key, node } => match map.as_slice() {
            [] => cx.new_section(key, node),
            [Step::Key(section)] => {
                let site = cx.section(map)?;
                let s = scalar(node, section, key)?;
                let line = cx.key_line(key, &s, section, Some(site))?;
                Ok(vec![cx.after_keys(site, line)])
            }
            _ => Err(lost()),
        },
        Plan::Remove { path } => match path.as_slice() {
            [Step::Key(_), Step::Key(key)] => {
                let site = cx.section(&path[..1])?;
                Ok(site
                    .keys
                    .iter()
                    .filter(|k| &k.name == key)
                    .map(|k| Edit::new(cx.whole_lines(k.line, k.next), ""))
                    .collect())
            }
            [Step::Key(_)] => {
                let site = cx.section(path)?;
                let start = site.header.ok_or_else(lost)?;
                Ok(vec![Edit::new(cx.tidy(start, site.end), "")])
            }
            _ => Err(lost()),
        },
        // INI has no lists.
        Plan::Append { .. } => Err(lost()),
    }
}

fn emit_error(why: String) -> Error {
    Error::Emit { format: "ini", why }
}

/// The string a key of a section is set to; never quotes the value in an error.
fn scalar(node: &Node, section: &str, key: &str) -> Result<String> {
    match node {
        Node::Scalar(leaf) => Ok(value_string(&leaf.value)),
        Node::Null(_) => Err(emit_error(format!(
            "the value for {key:?} in [{section}] is null, which INI cannot hold (sops writes \
             `<nil>`, which it cannot decrypt); give a string"
        ))),
        Node::Map(_) | Node::List(_) => Err(emit_error(format!(
            "the value for {key:?} in [{section}] would be a map or a list; INI holds only one \
             level of keys under a section"
        ))),
    }
}

/// How a section writes its keys.
struct Style {
    indent: String,
    /// Between the key and the delimiter.
    pre: String,
    delimiter: char,
    /// Between the delimiter and the value.
    post: String,
    /// Keys padded so that their delimiters line up: the width from the key's start
    /// to the delimiter, in characters.
    align: Option<usize>,
}

impl Default for Style {
    /// go-ini's: `key = value`.
    fn default() -> Self {
        Style {
            indent: String::new(),
            pre: " ".into(),
            delimiter: '=',
            post: " ".into(),
            align: None,
        }
    }
}

struct Cx<'a> {
    text: &'a str,
    doc: &'a Document,
    sites: &'a IniSites,
}

impl Cx<'_> {
    /// The section at `path` (one key: its name).
    fn section(&self, path: &[Step]) -> Result<&SectionSite> {
        let n = ordinal(self.doc, path).ok_or_else(lost)?;
        self.sites.sections.get(n).ok_or_else(lost)
    }

    /// The style of a section's keys; a section without keys takes the file's (its last
    /// section with keys), unaligned.
    fn style(&self, site: Option<&SectionSite>) -> Style {
        if let Some(style) = site.and_then(|s| self.style_of(&s.keys)) {
            return style;
        }
        let file = self
            .sites
            .sections
            .iter()
            .rev()
            .find_map(|s| self.style_of(&s.keys));
        match file {
            Some(mut style) => {
                if style.align.take().is_some() {
                    style.pre = " ".into();
                }
                style
            }
            None => Style::default(),
        }
    }

    fn style_of(&self, keys: &[KeySite]) -> Option<Style> {
        let t = self.text;
        let last = keys.last()?;
        let width = |k: &KeySite| t[k.key..k.delimiter].chars().count();
        // Delimiters in one column, after keys of different lengths or after more than
        // one blank.
        let aligned = keys.len() >= 2
            && keys.iter().all(|k| width(k) == width(last))
            && (keys
                .iter()
                .any(|k| k.key_end - k.key != last.key_end - last.key)
                || last.delimiter - last.key_end > 1);
        // The blanks after the delimiter, from a key that has a value.
        let post = keys
            .iter()
            .rev()
            .find(|k| !k.token.is_empty())
            .map_or(" ", |k| &t[k.delimiter + 1..k.token.start]);
        Some(Style {
            indent: t[last.line..last.key].to_string(),
            pre: t[last.key_end..last.delimiter].to_string(),
            delimiter: t[last.delimiter..].chars().next().unwrap_or('='),
            post: post.to_string(),
            align: aligned.then(|| width(last)),
        })
    }

    /// One `key = value` line, ending with the file's line break.
    fn key_line(
        &self,
        key: &str,
        value: &str,
        section: &str,
        site: Option<&SectionSite>,
    ) -> Result<String> {
        let style = self.style(site);
        self.line_in_style(&style, key, value, section)
    }

    fn line_in_style(
        &self,
        style: &Style,
        key: &str,
        value: &str,
        section: &str,
    ) -> Result<String> {
        let name = key_token(key, section)?;
        let token = new_value_token(value)?;
        let pre = match style.align {
            Some(width) => {
                let pad = width.saturating_sub(name.chars().count());
                " ".repeat(pad.max(usize::from(!style.pre.is_empty())))
            }
            None => style.pre.clone(),
        };
        let mut line = format!("{}{name}{pre}{}", style.indent, style.delimiter);
        if !token.is_empty() {
            line.push_str(&style.post);
            line.push_str(&token);
        }
        line.push_str(self.sites.eol);
        Ok(line)
    }

    /// The lines of a whole section's keys (`node` must be a map of scalars).
    fn key_lines(&self, section: &str, node: &Node, site: Option<&SectionSite>) -> Result<String> {
        let Node::Map(items) = node else {
            return Err(emit_error(format!(
                "the top-level key {section:?} would hold a value that is not a map; INI needs \
                 a section (a map of keys) there (sops: Section values should always be \
                 TreeBranches)"
            )));
        };
        let style = self.style(site);
        let mut out = String::new();
        for item in items {
            if let Item::Entry { key, value } = item {
                let s = scalar(value, section, key)?;
                out.push_str(&self.line_in_style(&style, key, &s, section)?);
            }
        }
        Ok(out)
    }

    /// A line added after a section's last key (or its header).
    fn after_keys(&self, site: &SectionSite, line: String) -> Edit {
        let at = site.end;
        let text = self.text;
        let mut lead = String::new();
        if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
            lead.push_str(self.sites.eol);
            // A value continued with `\` runs on until an empty line.
            if site
                .keys
                .last()
                .is_some_and(|k| text[k.token.clone()].ends_with('\\'))
            {
                lead.push_str(self.sites.eol);
            }
        }
        let mut line = line;
        // New keys of an empty `DEFAULT` stand apart from the header after them.
        if site.header.is_none()
            && site.keys.is_empty()
            && at < text.len()
            && !text[at..].starts_with(['\n', '\r'])
        {
            line.push_str(self.sites.eol);
        }
        Edit::new(at..at, format!("{lead}{line}"))
    }

    /// A new `[name]` section at the end of the file.
    fn new_section(&self, name: &str, node: &Node) -> Result<Vec<Edit>> {
        if let Some(why) = section_problem(name) {
            return Err(emit_error(format!(
                "the section name {name:?} {why}; it cannot be written as an INI header"
            )));
        }
        let keys = self.key_lines(name, node, None)?;
        let text = self.text;
        let eol = self.sites.eol;
        let mut block = String::new();
        if !text.is_empty() && !text.ends_with('\n') {
            block.push_str(eol);
        }
        let ends_blank = text.ends_with("\n\n") || text.ends_with("\n\r\n");
        if !text.trim().is_empty() && !ends_blank && self.blank_before_headers() {
            block.push_str(eol);
        }
        block.push('[');
        block.push_str(name);
        block.push(']');
        block.push_str(eol);
        block.push_str(&keys);
        Ok(vec![Edit::new(text.len()..text.len(), block)])
    }

    /// Whether the file puts a blank line before a section header: as its last header
    /// does, or, with no header yet, as go-ini does.
    fn blank_before_headers(&self) -> bool {
        let Some(header) = self.sites.sections.iter().rev().find_map(|s| s.header) else {
            return true;
        };
        // The line above the header, above its comment lines.
        let mut lines = self.text[..header].lines().rev();
        loop {
            match lines.next().map(str::trim) {
                None | Some("") => return true,
                Some(l) if l.starts_with(['#', ';']) => continue,
                Some(_) => return false,
            }
        }
    }

    /// `line..next`, and the line break before it when it is the last line and has none.
    fn whole_lines(&self, line: usize, next: usize) -> std::ops::Range<usize> {
        let text = self.text;
        if next == text.len() && !text.ends_with('\n') && line > 0 {
            let before = if text[..line].ends_with("\r\n") { 2 } else { 1 };
            return line - before..next;
        }
        line..next
    }

    /// A removed section's lines, and the blank lines that separated it from the next
    /// section (or, at the end of the file, from the previous one).
    fn tidy(&self, start: usize, end: usize) -> std::ops::Range<usize> {
        let text = self.text;
        let blank_before =
            start == 0 || text[..start].ends_with("\n\n") || text[..start].ends_with("\n\r\n");
        let mut end = end;
        if blank_before {
            end += text[end..].len() - text[end..].trim_start_matches(['\n', '\r']).len();
        }
        let mut start = start;
        if end == text.len() {
            start = text[..start].trim_end_matches(['\n', '\r']).len();
            if start > 0 {
                // Keep the line break that ends the line before.
                start += if text[start..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
            }
        }
        self.whole_lines(start, end)
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::store::patch::{parse_value, set, unset};
    use crate::store::Format;
    use crate::treepath::parse;

    fn iset(text: &str, p: &str, v: &str) -> String {
        let value = parse_value(v).unwrap();
        let out = set(
            Format::Ini,
            text.as_bytes(),
            "t.ini",
            &parse(p).unwrap(),
            value,
        )
        .unwrap_or_else(|e| panic!("{p}: {e}"))
        .expect("a change");
        String::from_utf8(out.text.to_vec()).unwrap()
    }

    fn iunset(text: &str, p: &str) -> String {
        let out = unset(Format::Ini, text.as_bytes(), "t.ini", &parse(p).unwrap())
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        String::from_utf8(out.text.to_vec()).unwrap()
    }

    fn ierr(text: &str, p: &str, v: &str) -> Error {
        let value = parse_value(v).unwrap();
        set(
            Format::Ini,
            text.as_bytes(),
            "t.ini",
            &parse(p).unwrap(),
            value,
        )
        .unwrap_err()
    }

    const FILE: &str = "top = 1\n\n[app]\nname = x ; the name\nport=80\n\n; db\n[db]\n  user   : 'u'\n  pass   : \"p\"\n  h      : h\n";

    #[test]
    fn values_are_replaced_in_their_quotes() {
        assert_eq!(
            iset(FILE, r#"["app"]["name"]"#, r#""y""#),
            FILE.replace("name = x ;", "name = y ;")
        );
        assert_eq!(
            iset(FILE, r#"["db"]["user"]"#, r#""v w""#),
            FILE.replace("'u'", "'v w'")
        );
        assert_eq!(
            iset(FILE, r#"["DEFAULT"]["top"]"#, "2"),
            FILE.replace("top = 1", "top = 2.0")
        );
        // A value that cannot stay bare gets quotes that hold it.
        assert_eq!(
            iset(FILE, r#"["app"]["port"]"#, r#""  8080 ""#),
            FILE.replace("port=80", "port=\"  8080 \"")
        );
        // A backtick value cannot share its line with a comment: it moves above.
        assert_eq!(
            iset(FILE, r#"["app"]["name"]"#, r#""a;b""#),
            FILE.replace("name = x ; the name\n", "; the name\nname = `a;b`\n")
        );
        assert_eq!(
            iset("[s]\na =\n", r#"["s"]["a"]"#, r#""v""#),
            "[s]\na = v\n"
        );
    }

    #[test]
    fn new_keys_follow_the_sections_style() {
        assert_eq!(
            iset(FILE, r#"["app"]["new"]"#, r#""v""#),
            FILE.replace("port=80\n", "port=80\nnew=v\n")
        );
        // Aligned keys stay aligned, with the section's indentation and delimiter.
        assert_eq!(
            iset("[s]\nab   = 1\ncd   = 2\n", r#"["s"]["efghijk"]"#, "1"),
            "[s]\nab   = 1\ncd   = 2\nefghijk = 1.0\n"
        );
        assert_eq!(
            iset(FILE, r#"["db"]["port"]"#, r#""5432""#),
            format!("{FILE}  port   : 5432\n")
        );
        assert_eq!(
            iset(FILE, r#"["db"]["a_long_name"]"#, r#""x""#),
            format!("{FILE}  a_long_name : x\n")
        );
        assert_eq!(
            iset(FILE, r#"["DEFAULT"]["t2"]"#, r#""x""#),
            FILE.replace("top = 1\n", "top = 1\nt2 = x\n")
        );
        assert_eq!(iset("[s]", r#"["s"]["k"]"#, r#""v""#), "[s]\nk = v\n");
        assert_eq!(
            iset("[s]\na = 1", r#"["s"]["k"]"#, r#""v""#),
            "[s]\na = 1\nk = v\n"
        );
        // Keys into an empty DEFAULT go before the first header.
        assert_eq!(
            iset("[s]\na = 1\n", r#"["DEFAULT"]["k"]"#, r#""v""#),
            "k = v\n\n[s]\na = 1\n"
        );
        // Quoting as go-ini writes: a value with `;` in backticks.
        assert_eq!(
            iset("[s]\n", r#"["s"]["k"]"#, r#""a;b""#),
            "[s]\nk = `a;b`\n"
        );
    }

    #[test]
    fn new_sections_go_at_the_end() {
        assert_eq!(
            iset(FILE, r#"["new"]["k"]"#, r#""v""#),
            format!("{FILE}\n[new]\n  k : v\n")
        );
        assert_eq!(
            iset("[a]\nx=1\n[b]\ny=2\n", r#"["c"]"#, r#"{"k": "v", "n": 1}"#),
            "[a]\nx=1\n[b]\ny=2\n[c]\nk=v\nn=1.0\n"
        );
        assert_eq!(iset("", r#"["c"]["k"]"#, r#""v""#), "[c]\nk = v\n");
        assert_eq!(
            iset("a = 1\r\n", r#"["c"]["k"]"#, r#""v""#),
            "a = 1\r\n\r\n[c]\r\nk = v\r\n"
        );
    }

    #[test]
    fn a_section_set_to_a_map_gets_those_keys() {
        assert_eq!(
            iset(FILE, r#"["app"]"#, r#"{"z": "1"}"#),
            FILE.replace("name = x ; the name\nport=80\n", "z=1\n")
        );
        assert_eq!(
            iset("[s]\na = 1\n", r#"["DEFAULT"]"#, r#"{"k": "v"}"#),
            "k = v\n\n[s]\na = 1\n"
        );
    }

    #[test]
    fn removals_take_their_lines() {
        assert_eq!(
            iunset(FILE, r#"["app"]["name"]"#),
            FILE.replace("name = x ; the name\n", "")
        );
        assert_eq!(
            iunset(FILE, r#"["db"]["h"]"#),
            FILE.replace("  h      : h\n", "")
        );
        // A section, with the blank line after it; comments above its header stay.
        assert_eq!(
            iunset(FILE, r#"["app"]"#),
            "top = 1\n\n; db\n[db]\n  user   : 'u'\n  pass   : \"p\"\n  h      : h\n"
        );
        assert_eq!(
            iunset(FILE, r#"["db"]"#),
            "top = 1\n\n[app]\nname = x ; the name\nport=80\n\n; db\n"
        );
        assert_eq!(
            iunset(FILE, r#"["DEFAULT"]"#),
            FILE.replace("top = 1\n", "")
        );
        assert_eq!(iunset("[s]\na = 1\nb = 2", r#"["s"]["b"]"#), "[s]\na = 1");
        // A key written twice goes with all its lines.
        assert_eq!(
            iunset("[s]\na = 1\nb = 2\na = 3\n", r#"["s"]["a"]"#),
            "[s]\nb = 2\n"
        );
    }

    #[test]
    fn what_ini_cannot_hold_is_exit_4_without_the_value() {
        for (p, v) in [
            (r#"["app"]["name"]"#, r#"{"k": "SECRETVALUE"}"#),
            (r#"["app"]["name"]["x"]"#, r#""SECRETVALUE""#),
            (r#"["app"]"#, r#""SECRETVALUE""#),
            (r#"["top"]"#, r#""SECRETVALUE""#),
            (r#"["new"]"#, r#"{"a": {"b": "SECRETVALUE"}}"#),
            (r#"["app"]["n"]"#, "null"),
            (r##"["app"]["#k"]"##, r#""SECRETVALUE""#),
            (r#"["app"]["name"]"#, r#""`SECRET'\"\"\"VALUE""#),
        ] {
            let err = ierr(FILE, p, v);
            assert_eq!(err.exit_code(), 4, "{p} {v}: {err}");
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
        let missing = unset(
            Format::Ini,
            FILE.as_bytes(),
            "t.ini",
            &parse(r#"["app"]["zz"]"#).unwrap(),
        );
        assert!(matches!(missing, Err(Error::NotFound(_))));
        let missing = unset(
            Format::Ini,
            FILE.as_bytes(),
            "t.ini",
            &parse(r#"["zz"]"#).unwrap(),
        );
        assert!(matches!(missing, Err(Error::NotFound(_))));
    }
}
