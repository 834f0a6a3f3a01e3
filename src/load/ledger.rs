//! The ledger of a load run: the same file format as `run`'s (so `scimreplay cleanup
//! --ledger` finishes an interrupted load), but written without keeping the list in memory:
//! a load run may create a hundred thousand objects, and it knows their ids anyway.

use crate::run::ledger::{Entry, LedgerError, LedgerFile};
use std::path::Path;

/// A load run's ledger: the shared ledger file, nothing kept in memory.
pub type StreamLedger = LedgerFile;

/// Creates `<dir>/<run_id>.jsonl` and writes the run line.
pub fn create(dir: &Path, header: Entry) -> Result<StreamLedger, LedgerError> {
    LedgerFile::create(dir, &header, "load")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_cleanup_reads_what_a_load_run_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let l = create(
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
