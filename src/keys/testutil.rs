//! Shared helpers for the key tests.

use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::identity::Identities;
use super::prompt::{Prompt, PromptError};
use crate::crypto::test_vectors;

const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";

/// A valid recipient and identity for a plugin that is never installed.
pub const MISSING_PLUGIN_RECIPIENT: &str = "age1sealantmissing1qqqsyqcyq5rqwmapaxt";
pub const MISSING_PLUGIN_IDENTITY: &str = "AGE-PLUGIN-SEALANTMISSING-1QQQSYQCYQ5RQWRN38L2";

pub fn identities_from(files: &[&str]) -> Identities {
    let mut ids = Identities::new();
    for f in files {
        let path = test_vectors::path(f);
        let text = std::fs::read_to_string(&path).unwrap();
        ids.add_text(&path.display().to_string(), &text).unwrap();
    }
    ids
}

pub fn pubkey(n: u8) -> String {
    std::fs::read_to_string(test_vectors::path(&format!("keys/age{n}.pub")))
        .unwrap()
        .trim()
        .to_owned()
}

/// The (still indented) `enc: |` blocks of a YAML vector, in file order.
pub fn yaml_envelopes(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(test_vectors::path(file)).unwrap();
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.trim() == ARMOR_BEGIN {
            current = Some(String::new());
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
            if line.trim() == "-----END AGE ENCRYPTED FILE-----" {
                out.push(current.take().unwrap());
            }
        }
    }
    out
}

/// A scripted prompt: answers secrets from a list, records every question.
#[derive(Default)]
pub struct Scripted {
    secrets: Mutex<Vec<Result<String, String>>>,
    asked: Mutex<Vec<String>>,
    messages: Mutex<Vec<String>>,
}

impl Scripted {
    pub fn answering(secrets: &[Result<&str, &str>]) -> Arc<Self> {
        Arc::new(Scripted {
            secrets: Mutex::new(
                secrets
                    .iter()
                    .rev()
                    .map(|r| r.map(str::to_owned).map_err(str::to_owned))
                    .collect(),
            ),
            ..Default::default()
        })
    }

    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

impl Prompt for Scripted {
    fn secret(&self, message: &str) -> Result<Zeroizing<String>, PromptError> {
        self.asked.lock().unwrap().push(message.to_owned());
        match self.secrets.lock().unwrap().pop() {
            Some(Ok(s)) => Ok(Zeroizing::new(s)),
            Some(Err(e)) => Err(e),
            None => Err("the script has no more answers".into()),
        }
    }
    fn public(&self, message: &str) -> Result<String, PromptError> {
        self.secret(message).map(|s| s.to_string())
    }
    fn confirm(&self, message: &str, _: &str, _: Option<&str>) -> Result<bool, PromptError> {
        self.asked.lock().unwrap().push(message.to_owned());
        Ok(true)
    }
    fn message(&self, message: &str) {
        self.messages.lock().unwrap().push(message.to_owned());
    }
}
