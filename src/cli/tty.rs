//! The terminal side of [`Prompt`]: questions are asked on `/dev/tty` (the controlling
//! terminal, which still works when stdin and stdout are files or pipes), secrets without
//! echo. Standard input is never read: it may be the file being decrypted. Without a
//! terminal every question fails at once with a reason; nothing waits.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};

use zeroize::Zeroizing;

use super::printable;
use crate::keys::{Prompt, PromptError};

#[cfg(windows)]
const TTY: &str = "CONIN$";
#[cfg(not(windows))]
const TTY: &str = "/dev/tty";

/// Asks on the controlling terminal; messages go to standard error.
#[derive(Clone, Copy, Debug, Default)]
pub struct TtyPrompt;

/// The terminal, or why there is none.
fn terminal() -> Result<File, PromptError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(TTY)
        .map_err(|e| format!("there is no terminal to ask on ({TTY}: {e})"))
}

/// Writes `prompt` to the terminal and reads one line back (echoed).
fn ask_line(prompt: &str) -> Result<Zeroizing<String>, PromptError> {
    let mut tty = terminal()?;
    write!(tty, "{} ", printable(prompt))
        .and_then(|()| tty.flush())
        .map_err(|e| format!("cannot write to the terminal: {e}"))?;
    let mut line = Zeroizing::new(String::new());
    let read = BufReader::new(tty)
        .read_line(&mut line)
        .map_err(|e| format!("cannot read from the terminal: {e}"))?;
    if read == 0 {
        return Err("the terminal was closed (end of input)".into());
    }
    let end = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(end);
    Ok(line)
}

impl Prompt for TtyPrompt {
    fn secret(&self, message: &str) -> Result<Zeroizing<String>, PromptError> {
        // Checked first so a missing terminal gets a clear reason (rpassword would only
        // say "No such device or address").
        drop(terminal()?);
        rpassword::prompt_password(format!("{} ", printable(message)))
            .map(Zeroizing::new)
            .map_err(|e| format!("cannot read from the terminal: {e}"))
    }

    fn public(&self, message: &str) -> Result<String, PromptError> {
        ask_line(message).map(|line| line.to_string())
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Result<bool, PromptError> {
        let Some(no) = no else {
            ask_line(&format!("{message} (press enter for \"{yes}\")"))?;
            return Ok(true);
        };
        loop {
            let answer = ask_line(&format!(
                "{message} (type 1 and enter for \"{yes}\", 2 for \"{no}\")"
            ))?;
            match answer.trim() {
                "1" => return Ok(true),
                "2" => return Ok(false),
                _ => self.message("please type 1 or 2"),
            }
        }
    }

    fn message(&self, message: &str) {
        eprintln!("sealant: {}", printable(message));
    }
}
