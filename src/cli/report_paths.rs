//! The report files a run writes at its end (`--json`, `--junit`, `--markdown`, `--html`,
//! `--findings`), checked before anything is sent: a path that can never be written is bad
//! input (exit 3), found in a second, not a harness failure after a run of many minutes.

use super::resolve::InputError;
use std::io;
use std::path::{Path, PathBuf};

/// Checks that each report path names a file that can be written: not a folder, under a
/// folder (or a folder that can be created) where this process may create files, and not the
/// same file as another report.
pub fn check(reports: &[(&str, Option<&PathBuf>)]) -> Result<(), InputError> {
    let mut seen: Vec<(&str, &Path)> = Vec::new();
    for (flag, path) in reports {
        let Some(path) = path else { continue };
        if let Some((other, _)) = seen.iter().find(|(_, p)| same_file(p, path)) {
            return Err(InputError(format!(
                "error: {flag} {} names the same file as {other}; give each report its own file",
                shown(path)
            )));
        }
        writable(path).map_err(|why| {
            InputError(format!(
                "error: {flag} {} cannot be written: {why}; nothing was sent",
                shown(path)
            ))
        })?;
        seen.push((flag, path));
    }
    Ok(())
}

fn shown(path: &Path) -> String {
    crate::escape::line(&path.display().to_string()).into_owned()
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Why `path` cannot be written as a report file, if it cannot.
fn writable(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err("it is a folder (name a file in it, e.g. report.json)".into());
    }
    if path.file_name().is_none() {
        return Err("it names no file".into());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // The report is written beside the path and renamed over it, so what matters is whether
    // a file can be created in its folder; a missing folder is created then, so the nearest
    // existing ancestor must be a folder that accepts new entries.
    let mut existing = parent;
    while !existing.exists() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p,
            _ => {
                existing = Path::new(".");
                break;
            }
        }
    }
    if !existing.is_dir() {
        return Err(format!("{} is not a folder", existing.display()));
    }
    let probe = tempfile::Builder::new()
        .prefix(".scimreplay-probe-")
        .tempfile_in(existing);
    match probe {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "no file can be created in {}: {}",
            existing.display(),
            describe(&e)
        )),
    }
}

fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => format!("permission denied ({e})"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_refused_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().to_path_buf();
        let err = check(&[("--json", Some(&folder))]).unwrap_err();
        assert!(err.0.contains("--json"), "{}", err.0);
        assert!(err.0.contains("is a folder"), "{}", err.0);
    }

    #[test]
    fn a_file_under_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        let below = file.join("report.xml");
        let err = check(&[("--junit", Some(&below))]).unwrap_err();
        assert!(err.0.contains("is not a folder"), "{}", err.0);
    }

    #[test]
    fn new_files_and_missing_folders_are_fine_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("out.json");
        let nested = dir.path().join("a").join("b").join("report.md");
        check(&[("--json", Some(&json)), ("--markdown", Some(&nested))]).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn two_reports_cannot_share_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        let err = check(&[("--json", Some(&path)), ("--junit", Some(&path))]).unwrap_err();
        assert!(err.0.contains("same file as --json"), "{}", err.0);
    }
}
