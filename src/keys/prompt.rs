//! Talking to the user on the library's behalf: passphrases of protected identities and
//! the messages, confirmations and PINs of age plugins.
//!
//! The library never opens a terminal itself: the CLI passes a [`Prompt`] in (its
//! implementation reads `/dev/tty`), and tests pass a scripted one.

use std::fmt;
use std::sync::{Arc, Mutex};

use age::secrecy::SecretString;
use zeroize::Zeroizing;

/// Why a prompt could not be answered: no terminal, the user gave up, …. It goes into
/// error messages, so it never holds what the user typed.
pub type PromptError = String;

/// Asks the user things, on whatever the caller has (a terminal, a GUI, a script).
pub trait Prompt: Send + Sync {
    /// Asks for a secret (a passphrase, a PIN) without showing it as it is typed.
    fn secret(&self, message: &str) -> Result<Zeroizing<String>, PromptError>;
    /// Asks for a value that may be shown as it is typed.
    fn public(&self, message: &str) -> Result<String, PromptError>;
    /// Asks for a choice between `yes` and `no`; with `no` absent, an acknowledgement
    /// (the answer is then `true`).
    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Result<bool, PromptError>;
    /// Shows a message (a plugin's progress, "touch your key").
    fn message(&self, message: &str);
}

/// A prompt that can ask nothing: every question fails, messages are dropped. The
/// default where the caller gave none.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPrompt;

const NO_PROMPT: &str = "no way to ask the user was given";

impl Prompt for NoPrompt {
    fn secret(&self, _: &str) -> Result<Zeroizing<String>, PromptError> {
        Err(NO_PROMPT.into())
    }
    fn public(&self, _: &str) -> Result<String, PromptError> {
        Err(NO_PROMPT.into())
    }
    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Result<bool, PromptError> {
        Err(NO_PROMPT.into())
    }
    fn message(&self, _: &str) {}
}

/// A shared [`Prompt`].
pub type SharedPrompt = Arc<dyn Prompt>;

/// The `NoPrompt` as a [`SharedPrompt`].
pub fn no_prompt() -> SharedPrompt {
    Arc::new(NoPrompt)
}

/// The bridge from the age crate's plugin callbacks to a [`Prompt`], for one plugin.
///
/// The age crate turns a failed callback into a bare "no answer"; the reason is kept
/// here so the error can say it (e.g. that there was no terminal for a PIN).
#[derive(Clone)]
pub(crate) struct PluginUi {
    prompt: SharedPrompt,
    /// `age-plugin-NAME`, to say who is asking.
    binary: String,
    failure: Arc<Mutex<Option<String>>>,
}

impl fmt::Debug for PluginUi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginUi({})", self.binary)
    }
}

impl PluginUi {
    pub(crate) fn new(prompt: SharedPrompt, binary: String) -> Self {
        PluginUi {
            prompt,
            binary,
            failure: Arc::new(Mutex::new(None)),
        }
    }

    /// Why the last question could not be answered, if one could not; clears it.
    pub(crate) fn take_failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }

    fn failed<T>(&self, what: &str, why: PromptError) -> Option<T> {
        if let Ok(mut slot) = self.failure.lock() {
            *slot = Some(format!("{} asked for {what}, but {why}", self.binary));
        }
        None
    }

    fn said(&self, message: &str) -> String {
        format!("{}: {message}", self.binary)
    }
}

impl age::Callbacks for PluginUi {
    fn display_message(&self, message: &str) {
        self.prompt.message(&self.said(message));
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        match self.prompt.confirm(&self.said(message), yes, no) {
            Ok(answer) => Some(answer),
            Err(why) => self.failed("a confirmation", why),
        }
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        match self.prompt.public(&self.said(description)) {
            Ok(value) => Some(value),
            Err(why) => self.failed("a value", why),
        }
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        match self.prompt.secret(&self.said(description)) {
            // SecretString takes the text as a Box<str> and wipes it on drop.
            Ok(secret) => Some(SecretString::from(secret.as_str())),
            Err(why) => self.failed("a secret (PIN or passphrase)", why),
        }
    }
}
