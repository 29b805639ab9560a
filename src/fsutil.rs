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
/// The file keeps its permissions (a new file gets 0600 until told otherwise).
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| Error::io(path, e, code::COULD_NOT_WRITE_OUTPUT);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".sealant-")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    if let Ok(meta) = fs::metadata(path) {
        fs::set_permissions(tmp.path(), meta.permissions()).map_err(fail)?;
    }
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
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

    #[test]
    fn missing_input_is_exit_100() {
        let err = read_input(Some(Path::new("/nonexistent/x.yaml"))).unwrap_err();
        assert_eq!(err.exit_code(), 100);
    }
}
