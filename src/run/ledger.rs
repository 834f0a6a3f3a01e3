//! The ledger: every object this run created, written to disk as the run goes.
//!
//! One JSON object per line, appended and flushed before the next request is sent, so a
//! crash or a second Ctrl-C still leaves an exact list for `scimreplay cleanup`. Cleanup can
//! only ever delete paths that appear here, which is what makes touching foreign data
//! impossible by construction.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use thiserror::Error;

/// One line of a ledger file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Entry {
    /// The first line: which run, against what.
    Run {
        run_id: String,
        /// Tenant URL without credentials.
        target: String,
        prefix: String,
        started_at: String,
    },
    /// An object the endpoint created for this run.
    Created {
        /// `/Users/<id>`, relative to the Tenant URL.
        path: String,
        scenario: String,
        step: String,
    },
    /// The object is gone (deleted by a scenario step or by cleanup, or already 404).
    Removed { path: String },
    /// Cleanup finished with nothing left.
    Closed,
}

/// Why a ledger could not be written or read.
#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("failed to write the ledger {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("failed to read the ledger {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a ledger line: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path} is not a scimreplay ledger: it does not start with a run line")]
    NoHeader { path: String },
}

/// The ledger file itself: `<dir>/<run_id>.jsonl`, created once, each entry appended as
/// one line and flushed before `append` returns. A load run writes only this (it keeps no
/// list in memory); a scenario run wraps it in a [`Ledger`].
pub struct LedgerFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl LedgerFile {
    /// Creates `<dir>/<run_id>.jsonl` (`<fallback>.jsonl` for a header without a run id)
    /// and writes the header line.
    pub fn create(dir: &Path, header: &Entry, fallback: &str) -> Result<LedgerFile, LedgerError> {
        let run_id = match header {
            Entry::Run { run_id, .. } => run_id.as_str(),
            _ => fallback,
        };
        let path = dir.join(format!("{run_id}.jsonl"));
        let werr = |source| LedgerError::Write {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(werr)?;
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(werr)?;
        let ledger = LedgerFile {
            path,
            file: Mutex::new(file),
        };
        ledger.append(header)?;
        Ok(ledger)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and flushes it before returning.
    pub fn append(&self, entry: &Entry) -> Result<(), LedgerError> {
        let mut line = serde_json::to_string(entry).unwrap_or_default();
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(line.as_bytes())
            .and_then(|_| file.flush())
            .map_err(|source| LedgerError::Write {
                path: self.path.display().to_string(),
                source,
            })
    }
}

/// An append-only ledger file shared by the concurrent scenarios of a run.
pub struct Ledger {
    file: LedgerFile,
    state: Mutex<Outstanding>,
}

impl Ledger {
    /// Creates `<dir>/<run_id>.jsonl` and writes the run line.
    pub fn create(dir: &Path, header: Entry) -> Result<Ledger, LedgerError> {
        Ok(Ledger {
            file: LedgerFile::create(dir, &header, "run")?,
            state: Mutex::new(Outstanding::default()),
        })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Records an entry on disk, then in memory.
    pub fn append(&self, entry: &Entry) -> Result<(), LedgerError> {
        self.file.append(entry)?;
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .apply(entry);
        Ok(())
    }

    /// True when this run created the object at `path` and it has not been removed.
    pub fn owns(&self, path: &str) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(path)
    }

    /// True when this run created the object at `path`, removed or not.
    pub fn created(&self, path: &str) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ever_created
            .iter()
            .any(|p| p == path)
    }

    /// Objects still outstanding, newest first (the order cleanup deletes them in).
    pub fn outstanding(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .newest_first()
    }
}

/// The set of created-and-not-removed paths, in creation order.
#[derive(Debug, Default)]
pub struct Outstanding {
    live: Vec<String>,
    ever_created: Vec<String>,
}

impl Outstanding {
    fn apply(&mut self, entry: &Entry) {
        match entry {
            Entry::Created { path, .. } => {
                if !self.live.contains(path) {
                    self.live.push(path.clone());
                }
                self.ever_created.push(path.clone());
            }
            Entry::Removed { path } => self.live.retain(|p| p != path),
            Entry::Run { .. } | Entry::Closed => {}
        }
    }

    fn contains(&self, path: &str) -> bool {
        self.live.iter().any(|p| p == path)
    }

    fn newest_first(&self) -> Vec<String> {
        self.live.iter().rev().cloned().collect()
    }
}

/// A ledger read back from disk, for `scimreplay cleanup`.
#[derive(Debug)]
pub struct SavedLedger {
    pub path: PathBuf,
    pub run_id: String,
    pub target: String,
    pub prefix: String,
    pub started_at: String,
    /// Outstanding objects, newest first.
    pub outstanding: Vec<String>,
    pub closed: bool,
}

/// Reads a ledger file written by an earlier run.
pub fn read(path: &Path) -> Result<SavedLedger, LedgerError> {
    let display = path.display().to_string();
    let file = File::open(path).map_err(|source| LedgerError::Read {
        path: display.clone(),
        source,
    })?;
    let mut header = None;
    let mut outstanding = Outstanding::default();
    let mut closed = false;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| LedgerError::Read {
            path: display.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let entry: Entry = match serde_json::from_str(&line) {
            Ok(e) => e,
            // A line cut by a crash mid-write is the only partial line there can be: the last.
            Err(e) if e.is_eof() => break,
            Err(e) => {
                return Err(LedgerError::Parse {
                    path: display,
                    line: n + 1,
                    message: e.to_string(),
                });
            }
        };
        match &entry {
            Entry::Run { .. } if header.is_none() => header = Some(entry.clone()),
            Entry::Closed => closed = true,
            Entry::Created { .. } => closed = false,
            _ => {}
        }
        outstanding.apply(&entry);
    }
    let Some(Entry::Run {
        run_id,
        target,
        prefix,
        started_at,
    }) = header
    else {
        return Err(LedgerError::NoHeader { path: display });
    };
    Ok(SavedLedger {
        path: path.to_path_buf(),
        run_id,
        target,
        prefix,
        started_at,
        outstanding: outstanding.newest_first(),
        closed,
    })
}

/// Opens an existing ledger to append to it (cleanup of an earlier run).
pub fn reopen(saved: &SavedLedger) -> Result<Ledger, LedgerError> {
    let file = OpenOptions::new()
        .append(true)
        .open(&saved.path)
        .map_err(|source| LedgerError::Write {
            path: saved.path.display().to_string(),
            source,
        })?;
    let mut state = Outstanding::default();
    for path in saved.outstanding.iter().rev() {
        state.apply(&Entry::Created {
            path: path.clone(),
            scenario: String::new(),
            step: String::new(),
        });
    }
    Ok(Ledger {
        file: LedgerFile {
            path: saved.path.clone(),
            file: Mutex::new(file),
        },
        state: Mutex::new(state),
    })
}

/// Ledger files in a directory, oldest first.
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("scimreplay-ledger-{name}-"))
            .tempdir()
            .expect("temp dir")
    }

    fn header() -> Entry {
        Entry::Run {
            run_id: "r1".into(),
            target: "http://h/scim".into(),
            prefix: "scimreplay-abc-".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn created(path: &str) -> Entry {
        Entry::Created {
            path: path.into(),
            scenario: "s".into(),
            step: "create".into(),
        }
    }

    #[test]
    fn records_survive_on_disk_and_come_back_newest_first() {
        let scratch = temp_dir("roundtrip");
        let dir = scratch.path().to_path_buf();
        let ledger = Ledger::create(&dir, header()).unwrap();
        ledger.append(&created("/Users/1")).unwrap();
        ledger.append(&created("/Groups/2")).unwrap();
        ledger.append(&created("/Users/3")).unwrap();
        ledger
            .append(&Entry::Removed {
                path: "/Groups/2".into(),
            })
            .unwrap();
        assert!(ledger.owns("/Users/1"));
        assert!(!ledger.owns("/Groups/2"));
        assert!(ledger.created("/Groups/2"));
        assert!(!ledger.owns("/Users/999"));
        let saved = read(ledger.path()).unwrap();
        assert_eq!(saved.outstanding, vec!["/Users/3", "/Users/1"]);
        assert_eq!(saved.prefix, "scimreplay-abc-");
        assert!(!saved.closed);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_line_cut_by_a_crash_is_ignored() {
        let scratch = temp_dir("cut");
        let dir = scratch.path().to_path_buf();
        let ledger = Ledger::create(&dir, header()).unwrap();
        ledger.append(&created("/Users/1")).unwrap();
        let mut f = OpenOptions::new().append(true).open(ledger.path()).unwrap();
        f.write_all(b"{\"event\":\"created\",\"pa").unwrap();
        let saved = read(ledger.path()).unwrap();
        assert_eq!(saved.outstanding, vec!["/Users/1"]);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_foreign_file_is_refused_with_its_name() {
        let scratch = temp_dir("foreign");
        let dir = scratch.path().to_path_buf();
        let path = dir.join("x.jsonl");
        std::fs::write(&path, "{\"event\":\"closed\"}\n").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("x.jsonl") && err.contains("run line"), "{err}");
        std::fs::write(&path, "garbage\n{}\n").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains(":1:"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn reopened_ledger_keeps_the_outstanding_set() {
        let scratch = temp_dir("reopen");
        let dir = scratch.path().to_path_buf();
        let ledger = Ledger::create(&dir, header()).unwrap();
        ledger.append(&created("/Users/1")).unwrap();
        ledger.append(&created("/Users/2")).unwrap();
        drop(ledger);
        let saved = read(&dir.join("r1.jsonl")).unwrap();
        let again = reopen(&saved).unwrap();
        assert_eq!(again.outstanding(), vec!["/Users/2", "/Users/1"]);
        again
            .append(&Entry::Removed {
                path: "/Users/2".into(),
            })
            .unwrap();
        again
            .append(&Entry::Removed {
                path: "/Users/1".into(),
            })
            .unwrap();
        again.append(&Entry::Closed).unwrap();
        let saved = read(&dir.join("r1.jsonl")).unwrap();
        assert!(saved.closed && saved.outstanding.is_empty());
        assert_eq!(list(&dir), vec![dir.join("r1.jsonl")]);
        std::fs::remove_dir_all(dir).ok();
    }
}
