//! The ledger of a load run: the same file format as `run`'s (so `scimreplay cleanup
//! --ledger` finishes an interrupted load), but written without keeping the list in memory:
//! a load run may create a hundred thousand objects, and it knows their ids anyway.

use crate::run::ledger::{Entry, LedgerError};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct StreamLedger {
    path: PathBuf,
    file: Mutex<File>,
}

impl StreamLedger {
    /// Creates `<dir>/<run_id>.jsonl` and writes the run line.
    pub fn create(dir: &Path, header: Entry) -> Result<StreamLedger, LedgerError> {
        let run_id = match &header {
            Entry::Run { run_id, .. } => run_id.clone(),
            _ => "load".to_string(),
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
        let ledger = StreamLedger {
            path,
            file: Mutex::new(file),
        };
        ledger.append(&header)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_cleanup_reads_what_a_load_run_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let l = StreamLedger::create(
            dir.path(),
            Entry::Run {
                run_id: "r1".into(),
                target: "http://127.0.0.1:1/scim".into(),
                prefix: "scimreplay-aaaaaa-".into(),
                started_at: "2026-01-01T00:00:00Z".into(),
            },
        )
        .unwrap();
        for p in ["/Users/1", "/Users/2", "/Groups/3"] {
            l.append(&Entry::Created {
                path: p.into(),
                scenario: "load".into(),
                step: "create".into(),
            })
            .unwrap();
        }
        l.append(&Entry::Removed {
            path: "/Users/1".into(),
        })
        .unwrap();
        let saved = crate::run::ledger::read(l.path()).unwrap();
        assert_eq!(saved.outstanding, vec!["/Groups/3", "/Users/2"]);
        assert!(!saved.closed);
    }
}
