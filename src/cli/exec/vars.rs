//! The variables `exec-env` gives its command.
//!
//! By default, as sops 3.11 does: one variable per top-level key of the first document,
//! named by the key, valued as sops renders the value (below); a nested map or list is an
//! error. With `--flatten` (sealant's opt-in, for getsops/sops#1154): one variable per
//! leaf, named by its key path (rules on [`variables`]).

use std::collections::HashMap;

use zeroize::Zeroizing;

use crate::crypto::timestamp;
use crate::error::{code, Error, Result};
use crate::tree::{Document, Item, ListItem, Node, Scalar};
use crate::yaml_fmt::render::format_go_float;

/// One environment variable. The name comes from the file's keys (clear text); the
/// value is a secret.
pub struct Var {
    pub name: String,
    pub value: Zeroizing<Vec<u8>>,
}

/// The variables for `doc` (`None`: a file with no document gives none).
///
/// `--flatten` rules:
/// * a leaf's name is its key path joined with `_`: map keys as written, list elements
///   by their 0-based position among the list's values; ASCII letters are upper-cased
///   (`db: {user: x}` gives `DB_USER`, `hosts: [a, b]` gives `HOSTS_0`, `HOSTS_1`);
///   top-level scalars follow the same rule (`api_key` gives `API_KEY`);
/// * an empty map or list gives no variable; a null gives an empty value;
/// * two leaves that give the same name are an error naming both key paths, never an
///   overwrite (`DB_USER: a` next to `db: {user: b}`, or `Key` next to `KEY`).
///
/// Either way, a name that is empty or holds `=` or a NUL, and a value that holds a NUL,
/// are errors that name the key path (never the value).
pub fn variables(doc: Option<&Document>, flatten: bool, file: &str) -> Result<Vec<Var>> {
    let Some(doc) = doc else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    if flatten {
        let mut flat = Flattener {
            file,
            vars: &mut out,
            seen: HashMap::new(),
            path: Vec::new(),
        };
        flat.map(&doc.items)?;
        return Ok(out);
    }
    for item in &doc.items {
        let Item::Entry { key, value } = item else {
            continue;
        };
        let path = [Step::Key(key)];
        let value = match value {
            Node::Scalar(leaf) => render(&leaf.value),
            // What sops's `fmt.Sprintf("%v", nil)` gives for a null.
            Node::Null(_) => Zeroizing::new(b"<nil>".to_vec()),
            Node::Map(_) | Node::List(_) => {
                return Err(invalid(
                    file,
                    format!(
                        "the value at {} is a map or a list, which cannot be an environment \
                         variable (--flatten gives one variable per leaf)",
                        show(&path)
                    ),
                ))
            }
        };
        out.push(checked(file, &path, key.clone(), value)?);
    }
    Ok(out)
}

/// A step of a key path, for messages: `["db"]["hosts"][0]`, the `--extract` syntax.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn show(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => format!("[\"{k}\"]"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

fn invalid(file: &str, what: String) -> Error {
    Error::Input {
        file: file.to_string(),
        what,
        code: code::GENERIC,
    }
}

fn checked(file: &str, path: &[Step], name: String, value: Zeroizing<Vec<u8>>) -> Result<Var> {
    let bad_name = if name.is_empty() {
        Some("an empty name")
    } else if name.contains('=') {
        Some("a name with '='")
    } else if name.contains('\0') {
        Some("a name with a NUL character")
    } else {
        None
    };
    if let Some(why) = bad_name {
        return Err(invalid(
            file,
            format!(
                "the key at {} would give {why}, which an environment variable cannot have",
                show(path)
            ),
        ));
    }
    if value.contains(&0) {
        return Err(invalid(
            file,
            format!(
                "the value at {} holds a NUL byte, which an environment variable cannot hold",
                show(path)
            ),
        ));
    }
    Ok(Var { name, value })
}

/// A scalar as sops's `stores.ValToString` writes it: strings as they are, ints in
/// decimal, `true`/`false`, times in RFC 3339 (seconds, no fraction), floats in Go's
/// `%G` shortest form with at least one decimal (`1.5`, `8080.0`, `1E+06`, `1E-05`;
/// every JSON number is a float to sops, so `8080` in JSON gives `8080.0`).
fn render(s: &Scalar) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(match s {
        Scalar::Str(t) => t.as_bytes().to_vec(),
        Scalar::Bytes(b) => b.clone(),
        Scalar::Int(i) => i.to_string().into_bytes(),
        Scalar::Bool(b) => if *b { "true" } else { "false" }.as_bytes().to_vec(),
        // Go's `time.RFC3339`, which is also the layout of the MAC's AAD.
        Scalar::Time(t) => timestamp::format_mac_aad(t).into_bytes(),
        Scalar::Float(f) => go_float_upper_g(*f).into_bytes(),
    })
}

/// Go's `FormatFloat(v, 'G', -1, 64)`, then `FormatFloat(v, 'f', 1, 64)` when that reads
/// like an integer (sops's rule).
fn go_float_upper_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let mut g = String::new();
    format_go_float(v, &mut g);
    let g = g.replace('e', "E");
    if g.contains(['.', 'E']) {
        g
    } else {
        // A whole number below 1e21 here (larger ones took the exponent form), so one
        // decimal is exact.
        format!("{v:.1}")
    }
}

struct Flattener<'a, 'f> {
    file: &'f str,
    vars: &'a mut Vec<Var>,
    /// Each name given so far, with the key path that gave it.
    seen: HashMap<String, String>,
    path: Vec<Step<'f>>,
}

impl<'f> Flattener<'_, 'f> {
    fn map(&mut self, items: &'f [Item]) -> Result<()> {
        for item in items {
            if let Item::Entry { key, value } = item {
                self.path.push(Step::Key(key));
                self.node(value)?;
                self.path.pop();
            }
        }
        Ok(())
    }

    fn node(&mut self, node: &'f Node) -> Result<()> {
        match node {
            Node::Map(items) => self.map(items),
            Node::List(items) => {
                let values = items.iter().filter_map(|i| match i {
                    ListItem::Node(n) => Some(n),
                    ListItem::Comment(_) => None,
                });
                for (i, n) in values.enumerate() {
                    self.path.push(Step::Index(i));
                    self.node(n)?;
                    self.path.pop();
                }
                Ok(())
            }
            Node::Scalar(leaf) => self.leaf(render(&leaf.value)),
            Node::Null(_) => self.leaf(Zeroizing::new(Vec::new())),
        }
    }

    fn leaf(&mut self, value: Zeroizing<Vec<u8>>) -> Result<()> {
        let name = self
            .path
            .iter()
            .map(|s| match s {
                Step::Key(k) => k.to_ascii_uppercase(),
                Step::Index(i) => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join("_");
        let here = show(&self.path);
        if let Some(first) = self.seen.get(&name) {
            return Err(invalid(
                self.file,
                format!("--flatten: {first} and {here} both give the variable {name}"),
            ));
        }
        let var = checked(self.file, &self.path, name.clone(), value)?;
        self.seen.insert(name, here);
        self.vars.push(var);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{self, Format, Stage};

    fn doc(yaml: &str) -> Document {
        let src = store::parse(Format::Yaml, yaml.as_bytes(), "t.yaml", Stage::Plain).unwrap();
        src.parsed.docs.into_iter().next().unwrap()
    }

    fn pairs(yaml: &str, flatten: bool) -> Vec<(String, String)> {
        variables(Some(&doc(yaml)), flatten, "t.yaml")
            .unwrap()
            .into_iter()
            .map(|v| (v.name, String::from_utf8(v.value.to_vec()).unwrap()))
            .collect()
    }

    fn error(yaml: &str, flatten: bool) -> String {
        match variables(Some(&doc(yaml)), flatten, "t.yaml") {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    fn p(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values_render_as_sops_renders_them() {
        // Expected strings observed with sops 3.11 exec-env.
        let yaml = "s: hello world\ni: 42\nneg: -7\nf: 1.5\nf1: 1.0\nfbig: 1e21\n\
                    fsmall: 0.000001\nf3: 123456789.0\nb: true\nn: null\n\
                    t: 2024-01-02T03:04:05.123Z\nd: 2024-01-02\nmulti: \"a\\nb\"\nempty: \"\"\n\
                    # a comment\n";
        assert_eq!(
            pairs(yaml, false),
            p(&[
                ("s", "hello world"),
                ("i", "42"),
                ("neg", "-7"),
                ("f", "1.5"),
                ("f1", "1.0"),
                ("fbig", "1E+21"),
                ("fsmall", "1E-06"),
                ("f3", "1.23456789E+08"),
                ("b", "true"),
                ("n", "<nil>"),
                ("t", "2024-01-02T03:04:05Z"),
                ("d", "2024-01-02T00:00:00Z"),
                ("multi", "a\nb"),
                ("empty", ""),
            ])
        );
    }

    #[test]
    fn floats_follow_go_upper_g_with_a_decimal() {
        for (v, want) in [
            (8080.0, "8080.0"),
            (1e6, "1E+06"),
            (123456.0, "123456.0"),
            (0.0001, "0.0001"),
            (0.00001, "1E-05"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1e100, "1E+100"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(go_float_upper_g(v), want, "{v}");
        }
    }

    #[test]
    fn nested_values_are_an_error_without_flatten() {
        let e = error("a: 1\ndb:\n  user: s3cr3t\n", false);
        assert!(e.contains("[\"db\"]") && e.contains("--flatten"), "{e}");
        assert!(!e.contains("s3cr3t"));
        let e = error("l: [x]\n", false);
        assert!(e.contains("[\"l\"]"), "{e}");
    }

    #[test]
    fn bad_names_and_values_are_errors_that_quote_no_value() {
        let e = error("\"a=b\": s3cr3t\n", false);
        assert!(e.contains("'='") && !e.contains("s3cr3t"), "{e}");
        let e = error("\"\": s3cr3t\n", false);
        assert!(e.contains("empty name"), "{e}");
        let e = error("k: \"s3cr3t\\0x\"\n", false);
        assert!(
            e.contains("NUL") && e.contains("[\"k\"]") && !e.contains("s3cr3t"),
            "{e}"
        );
        let e = error("a:\n  \"x=y\": s3cr3t\n", true);
        assert!(
            e.contains("[\"a\"][\"x=y\"]") && !e.contains("s3cr3t"),
            "{e}"
        );
    }

    #[test]
    fn flatten_names_leaves_by_their_upper_cased_key_path() {
        let yaml = "api_key: k\ndb:\n  user: u\n  port: 5432\n  opts: {}\n\
                    hosts:\n  - a\n  # comment\n  - name: b\n    tags: [x, ~]\nnothing: []\n";
        assert_eq!(
            pairs(yaml, true),
            p(&[
                ("API_KEY", "k"),
                ("DB_USER", "u"),
                ("DB_PORT", "5432"),
                ("HOSTS_0", "a"),
                ("HOSTS_1_NAME", "b"),
                ("HOSTS_1_TAGS_0", "x"),
                ("HOSTS_1_TAGS_1", ""),
            ])
        );
    }

    #[test]
    fn flatten_collisions_name_both_key_paths() {
        let e = error("DB_USER: a\ndb:\n  user: s3cr3t\n", true);
        assert!(
            e.contains("[\"DB_USER\"] and [\"db\"][\"user\"] both give the variable DB_USER"),
            "{e}"
        );
        assert!(!e.contains("s3cr3t"));
        let e = error("key: a\nKEY: b\n", true);
        assert!(e.contains("[\"key\"] and [\"KEY\"]"), "{e}");
        let e = error("a_0: x\na: [y]\n", true);
        assert!(e.contains("[\"a_0\"] and [\"a\"][0]"), "{e}");
    }

    #[test]
    fn no_document_gives_no_variables() {
        assert!(variables(None, false, "f").unwrap().is_empty());
    }
}
