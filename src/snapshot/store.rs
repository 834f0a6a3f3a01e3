//! Where snapshots live: `<root>/<baseline>/<scenario>.snap`, pending ones as `.snap.new`.
//!
//! Reads look on disk first, then in an optional in-memory set (a baseline compiled into the
//! binary); writes always go to disk, so an accepted snapshot shadows a built-in one.

use super::SnapshotError;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Extension of a snapshot file.
pub const SNAP: &str = ".snap";
/// Extension of a pending snapshot written beside the old one on a mismatch.
pub const SNAP_NEW: &str = ".snap.new";

/// Where a stored snapshot was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Disk(PathBuf),
    /// The in-memory set (e.g. the baseline shipped inside the binary).
    Embedded {
        baseline: String,
        scenario: String,
    },
}

impl Source {
    /// How reports name it: the file path, or `builtin:<baseline>/<scenario>.snap`.
    pub fn display(&self) -> String {
        match self {
            Source::Disk(path) => path.display().to_string(),
            Source::Embedded { baseline, scenario } => {
                format!("builtin:{baseline}/{scenario}{SNAP}")
            }
        }
    }
}

/// A snapshot as read, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub text: String,
    pub source: Source,
}

/// The snapshot root directory plus an optional in-memory set of baselines.
#[derive(Clone, Debug, Default)]
pub struct Store {
    root: PathBuf,
    embedded: BTreeMap<(String, String), String>,
}

impl Store {
    /// A store rooted at `root` (usually `snapshots/`).
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store {
            root: root.into(),
            embedded: BTreeMap::new(),
        }
    }

    /// Adds in-memory snapshots as `(baseline, scenario, text)`; entries with names that
    /// could not be files are ignored.
    pub fn with_embedded<I, B, S, T>(mut self, entries: I) -> Store
    where
        I: IntoIterator<Item = (B, S, T)>,
        B: Into<String>,
        S: Into<String>,
        T: Into<String>,
    {
        for (baseline, scenario, text) in entries {
            let (baseline, scenario) = (baseline.into(), scenario.into());
            if valid_name(&baseline) && valid_name(&scenario) {
                self.embedded.insert((baseline, scenario), text.into());
            }
        }
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/<baseline>`, after checking the name.
    pub fn dir(&self, baseline: &str) -> Result<PathBuf, SnapshotError> {
        if !valid_name(baseline) {
            return Err(SnapshotError::InvalidBaseline(baseline.to_string()));
        }
        Ok(self.root.join(baseline))
    }

    /// `<root>/<baseline>/<scenario>.snap`.
    pub fn snap_path(&self, baseline: &str, scenario: &str) -> Result<PathBuf, SnapshotError> {
        self.file(baseline, scenario, SNAP)
    }

    /// `<root>/<baseline>/<scenario>.snap.new`.
    pub fn pending_path(&self, baseline: &str, scenario: &str) -> Result<PathBuf, SnapshotError> {
        self.file(baseline, scenario, SNAP_NEW)
    }

    fn file(&self, baseline: &str, scenario: &str, ext: &str) -> Result<PathBuf, SnapshotError> {
        let dir = self.dir(baseline)?;
        if !valid_name(scenario) {
            return Err(SnapshotError::InvalidScenario(scenario.to_string()));
        }
        Ok(dir.join(format!("{scenario}{ext}")))
    }

    /// The accepted snapshot, from disk or else from the in-memory set.
    pub fn read(&self, baseline: &str, scenario: &str) -> Result<Option<Stored>, SnapshotError> {
        let path = self.snap_path(baseline, scenario)?;
        if let Some(text) = read_optional(&path)? {
            return Ok(Some(Stored {
                text,
                source: Source::Disk(path),
            }));
        }
        let key = (baseline.to_string(), scenario.to_string());
        Ok(self.embedded.get(&key).map(|text| Stored {
            text: text.clone(),
            source: Source::Embedded {
                baseline: key.0,
                scenario: key.1,
            },
        }))
    }

    /// Baseline names found on disk and in memory, sorted.
    pub fn baselines(&self) -> Result<Vec<String>, SnapshotError> {
        let mut names: Vec<String> = self.embedded.keys().map(|(b, _)| b.clone()).collect();
        for entry in list_dir(&self.root)? {
            if entry.is_dir {
                names.push(entry.name);
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Scenario names with an accepted snapshot in `baseline` (disk or memory), sorted.
    pub fn scenarios(&self, baseline: &str) -> Result<Vec<String>, SnapshotError> {
        let dir = self.dir(baseline)?;
        let mut names: Vec<String> = self
            .embedded
            .keys()
            .filter(|(b, _)| b == baseline)
            .map(|(_, s)| s.clone())
            .collect();
        names.extend(files_with(&dir, SNAP)?);
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// Baseline and scenario names become path components: letters, digits, `-`, `_`, `.`; not
/// empty, not starting with `.` (so no `..` and no hidden files), at most 100 characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

struct DirEntry {
    name: String,
    is_dir: bool,
}

/// Entries of `dir` with valid names; a missing directory has none.
fn list_dir(dir: &Path) -> Result<Vec<DirEntry>, SnapshotError> {
    let read_err = |source| SnapshotError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_err(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(read_err)?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let is_dir = entry.file_type().map_err(read_err)?.is_dir();
        if valid_name(name.trim_end_matches(SNAP_NEW).trim_end_matches(SNAP)) {
            out.push(DirEntry { name, is_dir });
        }
    }
    Ok(out)
}

/// Names of files in `dir` ending in `ext`, without it.
pub(crate) fn files_with(dir: &Path, ext: &str) -> Result<Vec<String>, SnapshotError> {
    Ok(list_dir(dir)?
        .into_iter()
        .filter(|e| !e.is_dir)
        .filter_map(|e| e.name.strip_suffix(ext).map(str::to_string))
        .filter(|stem| valid_name(stem))
        .collect())
}

/// The file's text, or `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, SnapshotError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SnapshotError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes through a temporary file and a rename, so a reader (or an interrupted run) never
/// sees half a snapshot.
pub(crate) fn write(path: &Path, text: &str) -> Result<(), SnapshotError> {
    let write_err = |source| SnapshotError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(write_err)?;
    }
    crate::atomic_file::write(path, text.as_bytes()).map_err(write_err)
}

/// Removes a file; `Ok(false)` when it was not there.
pub(crate) fn remove(path: &Path) -> Result<bool, SnapshotError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(SnapshotError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh directory under the system temp dir (its path, and the guard that removes it).
    /// The guard is only held, so the folder lives as long as the value.
    pub(crate) struct TempDir(pub PathBuf, #[allow(dead_code)] tempfile::TempDir);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> TempDir {
            let guard = tempfile::Builder::new()
                .prefix(&format!("scimreplay-snapshot-test-{tag}-"))
                .tempdir()
                .unwrap();
            TempDir(guard.path().to_path_buf(), guard)
        }
    }

    #[test]
    fn names_that_could_escape_the_root_are_refused() {
        let store = Store::new("/tmp/x");
        for bad in ["", "..", "../up", "a/b", "a\\b", ".hidden", "a b"] {
            assert!(
                matches!(store.dir(bad), Err(SnapshotError::InvalidBaseline(_))),
                "{bad:?}"
            );
            assert!(
                matches!(
                    store.snap_path("ok", bad),
                    Err(SnapshotError::InvalidScenario(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            store.snap_path("reference", "user-create.v2").unwrap(),
            Path::new("/tmp/x/reference/user-create.v2.snap")
        );
    }

    #[test]
    fn disk_shadows_memory() {
        let tmp = TempDir::new("shadow");
        let store = Store::new(&tmp.0).with_embedded([
            ("reference", "a", "mem a"),
            ("reference", "b", "mem b"),
            ("..", "x", "bad"),
        ]);
        write(&store.snap_path("reference", "a").unwrap(), "disk a").unwrap();
        let a = store.read("reference", "a").unwrap().unwrap();
        assert_eq!(a.text, "disk a");
        assert!(matches!(a.source, Source::Disk(_)));
        let b = store.read("reference", "b").unwrap().unwrap();
        assert_eq!(b.text, "mem b");
        assert_eq!(b.source.display(), "builtin:reference/b.snap");
        assert!(store.read("reference", "c").unwrap().is_none());
        assert!(store.read("other", "a").unwrap().is_none());
        assert_eq!(store.scenarios("reference").unwrap(), ["a", "b"]);
        assert_eq!(store.baselines().unwrap(), ["reference"]);
    }

    #[test]
    fn write_creates_directories_and_leaves_no_temporary_file() {
        let tmp = TempDir::new("write");
        let path = tmp.0.join("deep/er/x.snap");
        write(&path, "one").unwrap();
        write(&path, "two").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        assert!(remove(&path).unwrap());
        assert!(!remove(&path).unwrap());
    }

    #[test]
    fn missing_root_lists_nothing() {
        let store = Store::new(std::env::temp_dir().join("scimreplay-no-such-root-dir"));
        assert!(store.baselines().unwrap().is_empty());
        assert!(store.scenarios("reference").unwrap().is_empty());
    }
}
