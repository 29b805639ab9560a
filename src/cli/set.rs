//! `set` and `unset`: change one value of an encrypted file, in place.
//!
//! The file is opened ([`pipeline::open`]), the change is made in its clear text by the
//! store ([`patch`]: the new key next to its neighbours, the new value in the old one's
//! style), and the text is sealed again with the same data key ([`pipeline::reseal`]):
//! unchanged values keep their ciphertexts, so the file changes only in the changed
//! lines, `mac` and `lastmodified`. Argument checks follow sops's order and exit codes:
//! the wrong number of arguments 100, a bad path or a value that is not JSON 7, a missing
//! key 1 (0 with `--idempotent`).

use std::ffi::OsString;
use std::path::Path;

use zeroize::Zeroizing;

use super::args::{SetArgs, TypeArgs, UnsetArgs};
use super::Env;
use crate::error::{code, Error, Result};
use crate::fsutil;
use crate::pipeline;
use crate::store::patch::{self, Patched};
use crate::store::Format;
use crate::treepath::{self, Step};

/// `sealant set FILE PATH VALUE`: returns the exit code.
pub fn set(a: &SetArgs, env: &Env) -> Result<i32> {
    if a.value_file && a.value_stdin {
        return Err(Error::Usage(
            "cannot use both --value-file and --value-stdin".into(),
        ));
    }
    let want = if a.value_stdin { 2 } else { 3 };
    if a.args.len() != want {
        return Err(Error::NoFile(if a.value_stdin {
            "set with --value-stdin takes exactly 2 arguments: FILE PATH".into()
        } else {
            "set takes exactly 3 arguments: FILE PATH VALUE (or FILE PATH with --value-stdin)"
                .into()
        }));
    }
    let file = Path::new(&a.args[0]);
    let format = format_of(file, &a.types)?;
    let path = tree_path(&a.args[1])?;
    let json: Zeroizing<Vec<u8>> = if a.value_stdin {
        Zeroizing::new(fsutil::read_input(None)?)
    } else if a.value_file {
        let from = Path::new(&a.args[2]);
        Zeroizing::new(std::fs::read(from).map_err(|e| Error::io(from, e, code::GENERIC))?)
    } else {
        Zeroizing::new(a.args[2].as_encoded_bytes().to_vec())
    };
    let json = std::str::from_utf8(&json)
        .map_err(|_| Error::SetFormat("the value to set is not valid JSON: not UTF-8".into()))?;
    let value = patch::parse_value(json)?;
    let written = rewrite(
        file,
        format,
        a.ignore_mac,
        a.idempotent,
        env,
        |clear, name| patch::set(format, clear, name, &path, value),
    )?;
    if !written {
        eprintln!(
            "sealant: {}: {} already holds this value; the file was not written",
            file.display(),
            patch::display_path(&path)
        );
    }
    Ok(0)
}

/// The `set` that the legacy `--set 'PATH VALUE' FILE` stands for. As in sops, the
/// path ends at the first `] `.
pub fn legacy(
    set: &str,
    file: Option<std::path::PathBuf>,
    types: TypeArgs,
    ignore_mac: bool,
) -> Result<SetArgs> {
    let file = file.ok_or_else(|| Error::NoFile("no file given for --set".into()))?;
    let (path, value) = match set.find("] ") {
        Some(i) => (&set[..i + 1], &set[i + 2..]),
        None => {
            return Err(Error::SetFormat(
                "invalid --set: give a path and a JSON value, as in '[\"key\"] \"value\"'".into(),
            ))
        }
    };
    Ok(SetArgs {
        types,
        value_file: false,
        value_stdin: false,
        idempotent: false,
        ignore_mac,
        shamir_secret_sharing_threshold: None,
        decryption_order: None,
        args: vec![file.into_os_string(), path.into(), value.into()],
    })
}

/// `sealant unset FILE PATH`: returns the exit code.
pub fn unset(a: &UnsetArgs, env: &Env) -> Result<i32> {
    if a.args.len() != 2 {
        return Err(Error::NoFile(
            "unset takes exactly 2 arguments: FILE PATH".into(),
        ));
    }
    let file = Path::new(&a.args[0]);
    let format = format_of(file, &a.types)?;
    let path = tree_path(&a.args[1])?;
    let result = rewrite(file, format, a.ignore_mac, false, env, |clear, name| {
        patch::unset(format, clear, name, &path).map(Some)
    });
    match result {
        Ok(_) => Ok(0),
        // sops: with --idempotent, a missing key is not an error (and nothing is written).
        Err(Error::NotFound(_)) if a.idempotent => Ok(0),
        Err(e) => Err(e),
    }
}

/// The file's format; `--output-type` may only name it (the file is rewritten in place).
fn format_of(file: &Path, types: &TypeArgs) -> Result<Format> {
    let format = super::input_format(Some(file), types)?;
    if let Some(out) = &types.output_type {
        if Format::from_name(out) != Some(format) {
            return Err(Error::Usage(format!(
                "{}: set and unset rewrite the file in its own format ({}); --output-type \
                 cannot change it (use decrypt and encrypt to convert)",
                file.display(),
                format.name()
            )));
        }
    }
    Ok(format)
}

/// A path in sops's syntax; a malformed one is exit 7 here, as in sops.
fn tree_path(arg: &OsString) -> Result<Vec<Step>> {
    let text = arg.to_string_lossy();
    treepath::parse(&text).map_err(|e| match e {
        Error::TreePath { path, why } => Error::SetFormat(format!("invalid path {path:?}: {why}")),
        other => other,
    })
}

/// Opens `file`, applies `change` to its clear content and writes the file again, unless
/// nothing changed and `idempotent` is set. Returns whether the file was written.
fn rewrite(
    file: &Path,
    format: Format,
    ignore_mac: bool,
    idempotent: bool,
    env: &Env,
    change: impl FnOnce(&[u8], &str) -> Result<Option<Patched>>,
) -> Result<bool> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| Error::io(file, e, code::COULD_NOT_READ_INPUT))?;
    let mut opened = super::edit::open(&bytes, format, &name, ignore_mac, env)?;
    super::print_warnings(&opened.warnings);
    let patched = change(&opened.clear, &name)?;
    let clear = match patched {
        Some(p) => {
            if let Some((list, index)) = &p.removed_item {
                opened.item_removed(list, *index);
            }
            p.text
        }
        // No change: sops writes the file anyway (new `lastmodified`) unless told not to.
        None if idempotent => return Ok(false),
        None => Zeroizing::new(opened.clear.clone()),
    };
    let encrypted = pipeline::reseal(&opened, &clear, &name, time::OffsetDateTime::now_utc())?;
    fsutil::write_atomic(file, &encrypted)?;
    Ok(true)
}
