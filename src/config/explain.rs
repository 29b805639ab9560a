//! `sealant config explain FILE`: which config file, which rule and why, and what the
//! rule gives (key groups, threshold, selection). sops has no such command; this answers
//! the questions its users keep asking (which `.sops.yaml`? which path is matched?).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{search, Config, KeyKind, Located, Rule, Source};
use crate::keys::parse_recipients;

/// What happened to one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOutcome {
    NoMatch,
    Matched,
    /// After the match: first match wins.
    NotTried,
}

impl RuleOutcome {
    fn name(self) -> &'static str {
        match self {
            RuleOutcome::NoMatch => "no match",
            RuleOutcome::Matched => "match",
            RuleOutcome::NotTried => "not tried",
        }
    }
}

/// Everything `config explain` reports, built without printing anything.
#[derive(Debug)]
pub struct Explanation {
    pub located: Located,
    pub config: Option<Config>,
    /// The file asked about (absolute).
    pub file: PathBuf,
    /// The string `path_regex` is matched against.
    pub target: Option<String>,
    pub outcomes: Vec<RuleOutcome>,
    pub matched: Option<usize>,
    /// With a searched config: a different `.sops.yaml` nearer the file (sops searches
    /// from the working directory, so running elsewhere would pick that one).
    pub nearer_config: Option<PathBuf>,
    /// `SOPS_AGE_RECIPIENTS` is set: `encrypt` uses it instead of the rule's keys.
    pub recipients_from_env: bool,
}

impl Explanation {
    /// Explains which rule `abs_file` gets from `config` (loaded from `located`).
    pub fn new(
        located: Located,
        config: Option<Config>,
        abs_file: &Path,
        recipients_from_env: bool,
    ) -> Explanation {
        let mut target = None;
        let mut outcomes = Vec::new();
        let mut matched = None;
        if let Some(c) = &config {
            let t = c.target(abs_file);
            for rule in c.creation_rules.iter().flatten() {
                let outcome = if matched.is_some() {
                    RuleOutcome::NotTried
                } else if rule.matches(&t) {
                    matched = Some(rule.index);
                    RuleOutcome::Matched
                } else {
                    RuleOutcome::NoMatch
                };
                outcomes.push(outcome);
            }
            target = Some(t);
        }
        let nearer_config = match (&located.source, &located.path) {
            (Source::Search, used) => abs_file
                .parent()
                .and_then(|dir| search(dir).0)
                .filter(|near| Some(near) != used.as_ref()),
            _ => None,
        };
        Explanation {
            located,
            config,
            file: abs_file.to_path_buf(),
            target,
            outcomes,
            matched,
            nearer_config,
            recipients_from_env,
        }
    }

    fn rule(&self) -> Option<&Rule> {
        let rules = self.config.as_ref()?.creation_rules.as_ref()?;
        rules.get(self.matched?)
    }

    /// The threshold `encrypt` would use with the matched rule's groups.
    fn threshold(rule: &Rule) -> usize {
        match (rule.key_groups.len(), rule.shamir_threshold) {
            (n, 0) if n > 1 => n,
            (_, t) => t,
        }
    }

    /// Why sealant could not encrypt for a key of the rule, if it could not.
    fn problem(kind: KeyKind, id: &str) -> Option<String> {
        if kind != KeyKind::Age {
            return Some(format!(
                "sealant cannot encrypt for {} keys (age only)",
                kind.name()
            ));
        }
        parse_recipients(id).err().map(|e| e.to_string())
    }

    /// A key for display: recipients that do not look like public keys are not shown
    /// (a secret pasted in the wrong place must not be echoed).
    fn shown(kind: KeyKind, id: &str) -> String {
        if kind == KeyKind::Age && Self::problem(kind, id).is_some() {
            return "(not shown: not a usable age public key)".into();
        }
        if id.contains("AGE-SECRET-KEY-") || id.contains("AGE-PLUGIN-") {
            return "(not shown: it looks like a secret key)".into();
        }
        id.to_string()
    }

    fn location_note(at: Option<&crate::error::Location>) -> String {
        at.map(|l| format!(" (line {})", l.line))
            .unwrap_or_default()
    }

    /// The report for people.
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        let cwd = self.located.searched_from.display();
        match &self.located.path {
            Some(p) => {
                let _ = writeln!(o, "config file: {}", p.display());
                let how = match self.located.source {
                    Source::Flag => "given by --config".to_string(),
                    Source::Env => "given by SOPS_CONFIG".to_string(),
                    Source::Search => {
                        format!("found searching upward from the working directory {cwd}")
                    }
                };
                let _ = writeln!(o, "             {how}");
            }
            None => {
                let _ = writeln!(
                    o,
                    "config file: none found (searched {cwd} and its parents for .sops.yaml)"
                );
            }
        }
        let _ = writeln!(o, "file:        {}", self.file.display());
        let Some(config) = &self.config else {
            let _ = writeln!(
                o,
                "\nno creation rules apply: `encrypt` needs --age or SOPS_AGE_RECIPIENTS"
            );
            self.notes(&mut o);
            return o;
        };
        let Some(rules) = &config.creation_rules else {
            let _ = writeln!(
                o,
                "\nthe config has no creation_rules: `encrypt` needs --age or SOPS_AGE_RECIPIENTS"
            );
            self.notes(&mut o);
            return o;
        };
        let target = self.target.as_deref().unwrap_or_default();
        let relative = self.file.to_string_lossy() != target;
        let _ = writeln!(
            o,
            "matched as:  {} ({})",
            quoted(target),
            if relative {
                format!("the path relative to {}", config.dir().display())
            } else {
                format!(
                    "the absolute path: the file is outside {}",
                    config.dir().display()
                )
            }
        );
        let _ = writeln!(o, "\nrules, in order (the first match wins):");
        if rules.is_empty() {
            let _ = writeln!(o, "  (creation_rules is empty)");
        }
        for (rule, outcome) in rules.iter().zip(&self.outcomes) {
            let regex = match &rule.path_regex {
                Some((p, _)) => format!("path_regex {}", quoted(p)),
                None => "no path_regex (matches every file)".into(),
            };
            let _ = writeln!(
                o,
                "  {}{}: {regex} -> {}",
                rule.name(),
                Self::location_note(rule.at.as_ref()),
                outcome.name()
            );
        }
        let Some(rule) = self.rule() else {
            let _ = writeln!(
                o,
                "\nno rule matches {}: `encrypt` without --age or SOPS_AGE_RECIPIENTS fails \
                 with \"no matching creation rules found\"",
                quoted(target)
            );
            self.notes(&mut o);
            return o;
        };
        let _ = writeln!(o, "\n{} gives:", rule.name());
        let groups = rule.key_groups.len();
        if groups > 1 {
            let _ = writeln!(
                o,
                "  {groups} key groups, Shamir threshold {t}: any {t} of the {groups} groups \
                 recover the data key",
                t = Self::threshold(rule)
            );
        } else {
            let _ = writeln!(o, "  one key group: any one of its keys decrypts the file");
            if rule.shamir_threshold != 0 {
                let _ = writeln!(
                    o,
                    "  shamir_threshold {} (written to the file; no effect with one group)",
                    rule.shamir_threshold
                );
            }
        }
        for (g, group) in rule.key_groups.iter().enumerate() {
            let _ = writeln!(o, "  group {g}:");
            if group.is_empty() {
                let _ = writeln!(o, "    (no keys: `encrypt` fails, an empty group)");
            }
            for key in group {
                let _ = write!(
                    o,
                    "    {} {}{}",
                    key.kind.name(),
                    Self::shown(key.kind, &key.id),
                    Self::location_note(key.at.as_ref())
                );
                match Self::problem(key.kind, &key.id) {
                    Some(p) => {
                        let _ = writeln!(o, "  <- {p}");
                    }
                    None => o.push('\n'),
                }
            }
        }
        match &rule.selection {
            Some(sel) => {
                let _ = writeln!(o, "  selection: {} {}", sel.field(), quoted(sel.value()));
            }
            None => {
                let _ = writeln!(
                    o,
                    "  selection: unencrypted_suffix \"_unencrypted\" (the default)"
                );
            }
        }
        let _ = writeln!(o, "  mac_only_encrypted: {}", rule.mac_only_encrypted);
        if rule.flat_keys_ignored {
            let _ = writeln!(
                o,
                "  (keys from key_groups; the rule's flat age/pgp/... fields are ignored)"
            );
        }
        self.notes(&mut o);
        o
    }

    fn notes(&self, o: &mut String) {
        let mut notes = Vec::new();
        if let Some(w) = self.located.warning() {
            notes.push(w);
        }
        if self.recipients_from_env {
            notes.push(
                "SOPS_AGE_RECIPIENTS is set: `encrypt` uses it instead of the rule's keys (the \
                 rule's selection, mac_only_encrypted and threshold still apply)"
                    .into(),
            );
        }
        if let Some(near) = &self.nearer_config {
            notes.push(format!(
                "{} is nearer the file, but sops (and sealant, to agree with it) looks for \
                 .sops.yaml from the working directory, not from the file's directory",
                near.display()
            ));
        }
        if !notes.is_empty() {
            o.push('\n');
            for n in notes {
                let _ = writeln!(o, "note: {n}");
            }
        }
    }

    /// The same report as one JSON object.
    pub fn render_json(&self) -> String {
        let mut o = String::from("{");
        let source = match self.located.source {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::Search => "search",
        };
        let _ = write!(
            o,
            "\"config\":{},\"source\":{},\"searched_from\":{},\"file\":{},\"matched_against\":{}",
            opt_str(
                self.located
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .as_deref()
            ),
            json_str(source),
            json_str(&self.located.searched_from.display().to_string()),
            json_str(&self.file.display().to_string()),
            opt_str(self.target.as_deref()),
        );
        let has_rules = self
            .config
            .as_ref()
            .is_some_and(|c| c.creation_rules.is_some());
        let _ = write!(o, ",\"has_creation_rules\":{has_rules},\"rules\":[");
        let rules = self
            .config
            .as_ref()
            .and_then(|c| c.creation_rules.as_deref())
            .unwrap_or_default();
        for (i, (rule, outcome)) in rules.iter().zip(&self.outcomes).enumerate() {
            if i > 0 {
                o.push(',');
            }
            let _ = write!(
                o,
                "{{\"index\":{},\"line\":{},\"path_regex\":{},\"result\":{}}}",
                rule.index,
                rule.at
                    .as_ref()
                    .map_or("null".to_string(), |l| l.line.to_string()),
                opt_str(rule.path_regex.as_ref().map(|(p, _)| p.as_str())),
                json_str(outcome.name())
            );
        }
        o.push(']');
        match self.rule() {
            None => o.push_str(",\"rule\":null"),
            Some(rule) => {
                let _ = write!(
                    o,
                    ",\"rule\":{},\"shamir_threshold\":{},\"key_groups\":[",
                    rule.index,
                    Self::threshold(rule)
                );
                for (g, group) in rule.key_groups.iter().enumerate() {
                    if g > 0 {
                        o.push(',');
                    }
                    o.push('[');
                    for (k, key) in group.iter().enumerate() {
                        if k > 0 {
                            o.push(',');
                        }
                        let _ = write!(
                            o,
                            "{{\"kind\":{},\"key\":{},\"line\":{},\"problem\":{}}}",
                            json_str(key.kind.name()),
                            json_str(&Self::shown(key.kind, &key.id)),
                            key.at
                                .as_ref()
                                .map_or("null".to_string(), |l| l.line.to_string()),
                            opt_str(Self::problem(key.kind, &key.id).as_deref())
                        );
                    }
                    o.push(']');
                }
                let (field, value, default) = match &rule.selection {
                    Some(s) => (s.field(), s.value().to_string(), false),
                    None => {
                        let d = crate::engine::Rules::default_selection();
                        (d.field(), d.value().to_string(), true)
                    }
                };
                let _ = write!(
                    o,
                    "],\"selection\":{{\"option\":{},\"value\":{},\"default\":{default}}},\
                     \"mac_only_encrypted\":{}",
                    json_str(field),
                    json_str(&value),
                    rule.mac_only_encrypted
                );
            }
        }
        let mut notes = Vec::new();
        if let Some(w) = self.located.warning() {
            notes.push(w);
        }
        if let Some(near) = &self.nearer_config {
            notes.push(format!("nearer config not used: {}", near.display()));
        }
        let _ = write!(
            o,
            ",\"recipients_from_env\":{},\"notes\":[{}]}}",
            self.recipients_from_env,
            notes
                .iter()
                .map(|n| json_str(n))
                .collect::<Vec<_>>()
                .join(",")
        );
        o.push('\n');
        o
    }
}

/// A string in double quotes as people write regexes: backslashes kept, quotes and
/// control characters escaped.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_str(s: &str) -> String {
    // The JSON store's string writer (Go's escaping), used here for any string.
    crate::store::json::render_encrypted(s)
}

fn opt_str(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), json_str)
}
