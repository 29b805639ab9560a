//! Reading inputs and writing outputs without ever leaving a half-written file.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use crate::error::{code, Error, Result};

/// Reads a file, or standard input for `-` / `/dev/stdin` / no path.
pub fn read_input(path: Option<&Path>) -> Result<Vec<u8>> {
    match path {
        None => read_stdin(),
        Some(p) if is_stdin(p) => read_stdin(),
        Some(p) => fs::read(p).map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                code::NO_FILE_SPECIFIED
            } else {
                code::COULD_NOT_READ_INPUT
            };
            Error::io(p, e, code)
        }),
    }
}

/// Whether `path` names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-" || path.as_os_str() == "/dev/stdin"
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("<stdin>", e, code::COULD_NOT_READ_INPUT))?;
    Ok(buf)
}

/// Replaces `path` atomically: a temporary file in the same directory, fsync, rename.
/// The file keeps its permissions, and its owner and group where the process may set
/// them (a new file gets 0600).
///
/// Links: a symbolic link is written through (the file it points to is replaced, the link
/// stays). A file with several hard links is rewritten in place instead, as sops does:
/// replacing it would leave the old content (perhaps plaintext) under its other names.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let fail = |e: std::io::Error| Error::io(path, e, code::COULD_NOT_WRITE_OUTPUT);
    let existing = fs::metadata(&target).ok();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if existing.as_ref().is_some_and(|m| m.nlink() > 1) {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&target)
                .map_err(fail)?;
            file.write_all(contents).map_err(fail)?;
            return file.sync_all().map_err(fail);
        }
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".sealant-")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    if let Some(meta) = &existing {
        fs::set_permissions(tmp.path(), meta.permissions()).map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Best effort: only root may give a file to someone else.
            let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
        }
    }
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(&target).map_err(|e| fail(e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_replaces_content_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.yaml");
        fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        #[cfg(unix)]
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn links_are_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        fs::write(&real, "old").unwrap();
        let soft = dir.path().join("soft.yaml");
        std::os::unix::fs::symlink(&real, &soft).unwrap();
        write_atomic(&soft, b"via symlink").unwrap();
        assert!(fs::symlink_metadata(&soft)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "via symlink");

        let hard = dir.path().join("hard.yaml");
        fs::hard_link(&real, &hard).unwrap();
        write_atomic(&hard, b"via hard link").unwrap();
        assert_eq!(fs::read_to_string(&real).unwrap(), "via hard link");
    }

    #[test]
    fn missing_input_is_exit_100() {
        let err = read_input(Some(Path::new("/nonexistent/x.yaml"))).unwrap_err();
        assert_eq!(err.exit_code(), 100);
    }
}
