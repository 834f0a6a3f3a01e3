//! The one way files are replaced: written to a temporary file beside the target, synced,
//! then renamed over it, so a reader (a CI parser, the snapshot store, a person) sees the old
//! file or the new one, never half of one. `tempfile` picks an unused name and removes the
//! temporary file if anything fails.

use std::io::{self, Write};
use std::path::Path;

/// Replaces `path` with `bytes` atomically, creating missing parent folders.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".scimreplay-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("out.txt");
        write(&path, b"old").unwrap();
        write(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.txt")]);
        let not_a_dir = dir.path().join("nested").join("out.txt").join("x");
        assert!(write(&not_a_dir, b"x").is_err());
    }
}
