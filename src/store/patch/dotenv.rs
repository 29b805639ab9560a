//! dotenv text edits for a [`Plan`]. The file is a flat list of `KEY=value` lines read as
//! sops reads them (docs/FORMAT.md): a value is replaced in place, a new key is a
//! `KEY=value` line after the last entry, a removed key takes its line with it.
//!
//! sops keeps the `\r` of a CRLF line inside the value. So that a CRLF file stays CRLF,
//! a value set on such a line (or on a new line after one) carries that `\r` too, as
//! every other value of the file does ([`keep_line_breaks`]).

use super::{find_entry, line_end_after, line_start, lost, newline_of, Plan};
use crate::error::{Error, Result};
use crate::store::dotenv::{check_key, value_text};
use crate::store::Edit;
use crate::tree::{same_meaning, Document, Item, Leaf, Node, Scalar};
use crate::treepath::Step;

/// Gives a value set on a CRLF line the `\r` the line's other values hold. Returns
/// false when the value is then what the file already holds (no change).
pub fn keep_line_breaks(text: &str, doc: &Document, plan: &mut Plan) -> bool {
    match plan {
        Plan::Replace { path, new } => {
            let [Step::Key(k)] = path.as_slice() else {
                return true;
            };
            let Some((_, old)) = find_entry(&doc.items, k) else {
                return true;
            };
            let old_cr = matches!(old, Node::Scalar(Leaf { value: Scalar::Str(s), .. }) if s.ends_with('\r'));
            if old_cr {
                add_cr(new);
            }
            !same_meaning(old, new)
        }
        Plan::Insert { map, node, .. } if map.is_empty() => {
            if new_line_break(text, doc).1 == "\r\n" {
                add_cr(node);
            }
            true
        }
        _ => true,
    }
}

fn add_cr(node: &mut Node) {
    if let Node::Scalar(Leaf {
        value: Scalar::Str(s),
        ..
    }) = node
    {
        if !s.ends_with('\r') {
            s.push('\r');
        }
    }
}

/// The value span of the last entry, if any.
fn last_entry_end(doc: &Document) -> Option<usize> {
    doc.items.iter().rev().find_map(|i| match i {
        Item::Entry {
            value: Node::Scalar(Leaf { span: Some(s), .. }),
            ..
        } => Some(s.bytes.end),
        _ => None,
    })
}

/// Where a new line goes (just after the last entry's line, or at the end of a file
/// without entries), and the line break that ends it: none when it becomes the last
/// line of a file without a final line break. Such a file gets a `\n` before the new
/// line: a `\r` there would join the value above.
fn new_line_break(text: &str, doc: &Document) -> (usize, &'static str, bool) {
    let at = match last_entry_end(doc) {
        Some(end) => line_end_after(text, end),
        None => text.len(),
    };
    if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
        return (at, "", true);
    }
    let nl = match last_entry_end(doc) {
        Some(end) if text[..at].ends_with("\r\n") && at > end => "\r\n",
        Some(_) => "\n",
        None => newline_of(text),
    };
    (at, nl, false)
}

/// The edits that carry out `plan` on `text`.
pub fn edits(text: &str, doc: &Document, plan: &Plan) -> Result<Vec<Edit>> {
    match plan {
        Plan::Replace { path, new } => {
            let [Step::Key(k)] = path.as_slice() else {
                return Err(lost());
            };
            let value = line_value(k, new)?;
            let span = value_span(doc, k)?;
            Ok(vec![Edit::new(span, value)])
        }
        Plan::Insert { map, key, node } if map.is_empty() => {
            check_key(key)?;
            let value = line_value(key, node)?;
            let (at, nl, break_before) = new_line_break(text, doc);
            // The `\r` of a CRLF line is part of the value; only the `\n` is added.
            let end = if nl.is_empty() { "" } else { "\n" };
            let lead = if break_before { "\n" } else { "" };
            Ok(vec![Edit::new(at..at, format!("{lead}{key}={value}{end}"))])
        }
        Plan::Remove { path } => {
            let [Step::Key(k)] = path.as_slice() else {
                return Err(lost());
            };
            let span = value_span(doc, k)?;
            let mut start = line_start(text, span.start);
            let end = line_end_after(text, span.end);
            // The last line, without a line break: the one before it goes instead.
            if !text[..end].ends_with('\n') && start > 0 {
                start -= 1;
            }
            Ok(vec![Edit::new(start..end, "")])
        }
        // The tree is flat: a planner never goes deeper than one key.
        _ => Err(lost()),
    }
}

fn value_span(doc: &Document, key: &str) -> Result<std::ops::Range<usize>> {
    match find_entry(&doc.items, key) {
        Some((
            _,
            Node::Scalar(Leaf {
                span: Some(span), ..
            }),
        )) => Ok(span.bytes.clone()),
        _ => Err(lost()),
    }
}

fn emit_error(why: String) -> Error {
    Error::Emit {
        format: "dotenv",
        why,
    }
}

/// The text of a value on its `KEY=value` line; what dotenv cannot hold is an error
/// (exit 4, as sops for a nested value), which never shows the value.
fn line_value(key: &str, node: &Node) -> Result<String> {
    match node {
        Node::Scalar(leaf) => {
            if matches!(&leaf.value, Scalar::Str(s) if s.contains("\\n")) {
                return Err(emit_error(format!(
                    "the value for {key:?} contains the characters \\n, which dotenv reads as a \
                     line break; it cannot be written so that it reads back unchanged"
                )));
            }
            value_text(&leaf.value)
        }
        Node::Null(_) => Err(emit_error(format!(
            "the value for {key:?} is null, which dotenv cannot hold (sops writes `<nil>`, \
             which it cannot decrypt); give a string"
        ))),
        Node::Map(_) | Node::List(_) => Err(emit_error(format!(
            "cannot use complex value in dotenv file (the value for {key:?} would be a map or \
             a list); dotenv holds only flat KEY=value pairs"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use crate::store::patch::{parse_value, set, unset};
    use crate::store::Format;
    use crate::treepath::parse;

    fn dset(text: &str, p: &str, v: &str) -> String {
        let value = parse_value(v).unwrap();
        let out = set(
            Format::Dotenv,
            text.as_bytes(),
            "t.env",
            &parse(p).unwrap(),
            value,
        )
        .unwrap_or_else(|e| panic!("{p}: {e}"))
        .expect("a change");
        String::from_utf8(out.text.to_vec()).unwrap()
    }

    fn dunset(text: &str, p: &str) -> String {
        let out = unset(Format::Dotenv, text.as_bytes(), "t.env", &parse(p).unwrap())
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        String::from_utf8(out.text.to_vec()).unwrap()
    }

    fn derr(text: &str, p: &str, v: &str) -> crate::error::Error {
        let value = parse_value(v).unwrap();
        set(
            Format::Dotenv,
            text.as_bytes(),
            "t.env",
            &parse(p).unwrap(),
            value,
        )
        .unwrap_err()
    }

    #[test]
    fn values_are_replaced_in_place() {
        let text = "# top\nA=1\n\nexport B=\"q\"\nC=\n";
        assert_eq!(
            dset(text, r#"["A"]"#, r#""x y""#),
            "# top\nA=x y\n\nexport B=\"q\"\nC=\n"
        );
        assert_eq!(
            dset(text, r#"["export B"]"#, r#""z""#),
            "# top\nA=1\n\nexport B=z\nC=\n"
        );
        assert_eq!(
            dset(text, r#"["C"]"#, r#""c""#),
            "# top\nA=1\n\nexport B=\"q\"\nC=c\n"
        );
        // A line break is written `\n`, as sops writes it.
        assert_eq!(dset("A=1\n", r#"["A"]"#, r#""l1\nl2""#), "A=l1\\nl2\n");
    }

    #[test]
    fn numbers_and_booleans_are_the_strings_sops_writes() {
        assert_eq!(dset("A=1\n", r#"["A"]"#, "5"), "A=5.0\n");
        assert_eq!(dset("A=1\n", r#"["A"]"#, "1.5"), "A=1.5\n");
        assert_eq!(dset("A=1\n", r#"["A"]"#, "12345678"), "A=1.2345678E+07\n");
        assert_eq!(dset("A=1\n", r#"["A"]"#, "true"), "A=true\n");
        assert_eq!(dset("A=1\n", r#"["A"]"#, r#""5""#), "A=5\n");
    }

    #[test]
    fn new_keys_follow_the_last_entry() {
        assert_eq!(
            dset("A=1\n# end\n", r#"["N"]"#, r#""v""#),
            "A=1\nN=v\n# end\n"
        );
        assert_eq!(dset("A=1", r#"["N"]"#, r#""v""#), "A=1\nN=v");
        assert_eq!(dset("", r#"["N"]"#, r#""v""#), "N=v\n");
        assert_eq!(dset("# only\n", r#"["N"]"#, r#""v""#), "# only\nN=v\n");
        assert_eq!(dset("# only", r#"["N"]"#, r#""v""#), "# only\nN=v");
    }

    #[test]
    fn crlf_lines_stay_crlf() {
        assert_eq!(
            dset("A=1\r\nB=2\r\n", r#"["A"]"#, r#""x""#),
            "A=x\r\nB=2\r\n"
        );
        assert_eq!(
            dset("A=1\r\nB=2\r\n", r#"["N"]"#, r#""x""#),
            "A=1\r\nB=2\r\nN=x\r\n"
        );
        // No final line break: the new last line has none either, and B keeps its value.
        assert_eq!(dset("A=1\r\nB=2", r#"["N"]"#, r#""x""#), "A=1\r\nB=2\nN=x");
        // Setting the value a CRLF line holds is no change.
        let value = parse_value(r#""1""#).unwrap();
        let p = parse(r#"["A"]"#).unwrap();
        assert!(set(Format::Dotenv, b"A=1\r\n", "t.env", &p, value)
            .unwrap()
            .is_none());
    }

    #[test]
    fn removed_keys_take_their_line() {
        assert_eq!(
            dunset("A=1\n# c\nB=2\nC=3\n", r#"["B"]"#),
            "A=1\n# c\nC=3\n"
        );
        assert_eq!(dunset("A=1\nB=2", r#"["B"]"#), "A=1");
        assert_eq!(dunset("A=1\r\nB=2\r\n", r#"["A"]"#), "B=2\r\n");
        assert_eq!(dunset("A=1\n", r#"["A"]"#), "");
        // A key written twice: the first one goes, as sops removes the first.
        assert_eq!(dunset("A=1\nA=2\n", r#"["A"]"#), "A=2\n");
    }

    #[test]
    fn what_dotenv_cannot_hold_is_exit_4_without_the_value() {
        for (p, v) in [
            (r#"["A"]"#, r#"{"k": "SECRETVALUE"}"#),
            (r#"["A"]"#, r#"["SECRETVALUE"]"#),
            (r#"["A"]["x"]"#, r#""SECRETVALUE""#),
            (r#"["N"]"#, "null"),
            (r#"["A"]"#, r#""SECRET\\nVALUE""#),
            (r#"["A=B"]"#, r#""SECRETVALUE""#),
            (r##"["#A"]"##, r#""SECRETVALUE""#),
            (r#"["sops_x"]"#, r#""SECRETVALUE""#),
        ] {
            let err = derr("A=1\n", p, v);
            assert_eq!(err.exit_code(), 4, "{p} {v}: {err}");
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
        // A list index: the tree is a map (exit 1, as a key into a list elsewhere).
        assert_eq!(derr("A=1\n", "[0]", "1").exit_code(), 1);
        let err = unset(
            Format::Dotenv,
            b"A=1\n",
            "t.env",
            &parse(r#"["B"]"#).unwrap(),
        );
        assert!(matches!(err, Err(crate::error::Error::NotFound(_))));
    }
}
