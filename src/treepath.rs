//! sops's tree path syntax for `--extract`, `set` and `unset`: `["key"][0]['other']`.

use crate::error::{Error, Result};
use crate::tree::{Document, Item, ListItem, Node};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Parses a path. Like sops, a quoted component is everything between the brackets
/// minus its first and last character (no escaping), and `[` cannot appear in a key.
pub fn parse(path: &str) -> Result<Vec<Step>> {
    let bad = |why: &str| Error::TreePath {
        path: path.to_string(),
        why: why.to_string(),
    };
    if !path.starts_with('[') {
        return Err(bad(
            "a path is a sequence of [\"key\"] or [index] components",
        ));
    }
    let mut steps = Vec::new();
    for part in path.split('[').skip(1) {
        let inner = part
            .strip_suffix(']')
            .ok_or_else(|| bad("each component must end with ]"))?;
        let quoted = inner.len() >= 2
            && ((inner.starts_with('"') && inner.ends_with('"'))
                || (inner.starts_with('\'') && inner.ends_with('\'')));
        if quoted {
            steps.push(Step::Key(inner[1..inner.len() - 1].to_string()));
        } else {
            let index = inner
                .parse::<usize>()
                .map_err(|_| bad("a component is a quoted key or a list index"))?;
            steps.push(Step::Index(index));
        }
    }
    if steps.is_empty() {
        return Err(bad("empty path"));
    }
    Ok(steps)
}

/// Finds the node at `steps` in a document.
pub fn lookup<'a>(doc: &'a Document, steps: &[Step]) -> Option<&'a Node> {
    let (first, rest) = steps.split_first()?;
    let Step::Key(key) = first else {
        return None;
    };
    let mut node = doc.get(key)?;
    for step in rest {
        node = match (step, node) {
            (Step::Key(k), Node::Map(items)) => items.iter().find_map(|i| match i {
                Item::Entry { key, value } if key == k => Some(value),
                _ => None,
            })?,
            (Step::Index(n), Node::List(items)) => items
                .iter()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sops_paths() {
        assert_eq!(
            parse(r#"["a"][0]['b c']"#).unwrap(),
            [
                Step::Key("a".into()),
                Step::Index(0),
                Step::Key("b c".into())
            ]
        );
        for bad in ["a", "[a]", r#"["a""#, "", "[-1]"] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 91, "{bad}");
        }
    }
}
