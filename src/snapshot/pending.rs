//! Pending snapshots (`.snap.new`) and settling them: accept replaces the old snapshot,
//! reject deletes the pending file.

use super::SnapshotError;
use super::store::{self, SNAP_NEW, Store};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::fs;
use std::path::PathBuf;

/// Which scenarios a command applies to: all, or those matching any of some names/globs.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    set: Option<GlobSet>,
}

impl Filter {
    /// Every scenario.
    pub fn all() -> Filter {
        Filter::default()
    }

    /// Scenarios matching any of `patterns` (exact names or globs like `user-*`); no patterns
    /// means every scenario.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Filter, SnapshotError> {
        if patterns.is_empty() {
            return Ok(Filter::all());
        }
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            let p = p.as_ref();
            let glob = Glob::new(p).map_err(|source| SnapshotError::InvalidPattern {
                pattern: p.to_string(),
                source,
            })?;
            builder.add(glob);
        }
        let set = builder
            .build()
            .map_err(|source| SnapshotError::InvalidPattern {
                pattern: patterns
                    .iter()
                    .map(|p| p.as_ref())
                    .collect::<Vec<_>>()
                    .join(" "),
                source,
            })?;
        Ok(Filter { set: Some(set) })
    }

    pub fn matches(&self, scenario: &str) -> bool {
        self.set.as_ref().is_none_or(|set| set.is_match(scenario))
    }
}

/// A `.snap.new` waiting to be accepted or rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub baseline: String,
    pub scenario: String,
    /// The pending file.
    pub path: PathBuf,
    /// The snapshot it would replace (which may not exist yet).
    pub snap: PathBuf,
}

impl Pending {
    /// The pending transcript.
    pub fn read(&self) -> Result<String, SnapshotError> {
        store::read_optional(&self.path)?.ok_or_else(|| SnapshotError::Read {
            path: self.path.clone(),
            source: std::io::ErrorKind::NotFound.into(),
        })
    }

    /// Moves the pending file over the snapshot.
    pub fn accept(&self) -> Result<(), SnapshotError> {
        fs::rename(&self.path, &self.snap).map_err(|source| SnapshotError::Write {
            path: self.snap.clone(),
            source,
        })
    }

    /// Deletes the pending file.
    pub fn reject(&self) -> Result<(), SnapshotError> {
        store::remove(&self.path).map(|_| ())
    }
}

/// What `accept`/`reject` did to one pending snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Accepted,
    Rejected,
}

/// A pending snapshot and what was done with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    pub pending: Pending,
    pub action: Action,
}

/// Pending snapshots of `baseline` (or of every baseline on disk), filtered, sorted by
/// baseline then scenario.
pub fn pending(
    store: &Store,
    baseline: Option<&str>,
    filter: &Filter,
) -> Result<Vec<Pending>, SnapshotError> {
    let baselines = match baseline {
        Some(b) => vec![b.to_string()],
        None => store.baselines()?,
    };
    let mut out = Vec::new();
    for b in baselines {
        let mut names = store::files_with(&store.dir(&b)?, SNAP_NEW)?;
        names.sort();
        for scenario in names.into_iter().filter(|s| filter.matches(s)) {
            out.push(Pending {
                path: store.pending_path(&b, &scenario)?,
                snap: store.snap_path(&b, &scenario)?,
                baseline: b.clone(),
                scenario,
            });
        }
    }
    Ok(out)
}

/// Accepts every matching pending snapshot.
pub fn accept(
    store: &Store,
    baseline: Option<&str>,
    filter: &Filter,
) -> Result<Vec<Settled>, SnapshotError> {
    settle(store, baseline, filter, Action::Accepted)
}

/// Rejects every matching pending snapshot.
pub fn reject(
    store: &Store,
    baseline: Option<&str>,
    filter: &Filter,
) -> Result<Vec<Settled>, SnapshotError> {
    settle(store, baseline, filter, Action::Rejected)
}

fn settle(
    store: &Store,
    baseline: Option<&str>,
    filter: &Filter,
    action: Action,
) -> Result<Vec<Settled>, SnapshotError> {
    let mut done = Vec::new();
    for p in pending(store, baseline, filter)? {
        match action {
            Action::Accepted => p.accept()?,
            Action::Rejected => p.reject()?,
        }
        done.push(Settled { pending: p, action });
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::store::tests::TempDir;

    fn setup(tag: &str) -> (TempDir, Store) {
        let tmp = TempDir::new(tag);
        let store = Store::new(&tmp.0);
        for (b, s, ext, text) in [
            ("ref", "user-create", ".snap", "old create"),
            ("ref", "user-create", ".snap.new", "new create"),
            ("ref", "user-disable", ".snap.new", "new disable"),
            ("ref", "group-add", ".snap.new", "new group"),
            ("ref", "kept", ".snap", "kept"),
            ("acme", "user-create", ".snap.new", "acme create"),
        ] {
            store::write(&store.dir(b).unwrap().join(format!("{s}{ext}")), text).unwrap();
        }
        (tmp, store)
    }

    fn names(p: &[Pending]) -> Vec<String> {
        p.iter()
            .map(|p| format!("{}/{}", p.baseline, p.scenario))
            .collect()
    }

    #[test]
    fn pending_lists_sorted_and_filtered() {
        let (_tmp, store) = setup("list");
        let all = pending(&store, None, &Filter::all()).unwrap();
        assert_eq!(
            names(&all),
            [
                "acme/user-create",
                "ref/group-add",
                "ref/user-create",
                "ref/user-disable"
            ]
        );
        let users = pending(&store, Some("ref"), &Filter::new(&["user-*"]).unwrap()).unwrap();
        assert_eq!(names(&users), ["ref/user-create", "ref/user-disable"]);
        let exact = pending(&store, Some("ref"), &Filter::new(&["group-add"]).unwrap()).unwrap();
        assert_eq!(names(&exact), ["ref/group-add"]);
        assert_eq!(exact[0].read().unwrap(), "new group");
        assert!(
            pending(&store, Some("none"), &Filter::all())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn accept_replaces_the_snapshot() {
        let (_tmp, store) = setup("accept");
        let done = accept(&store, Some("ref"), &Filter::new(&["user-create"]).unwrap()).unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].action, Action::Accepted);
        assert_eq!(
            store.read("ref", "user-create").unwrap().unwrap().text,
            "new create"
        );
        assert!(!done[0].pending.path.exists());
        let rest = pending(&store, Some("ref"), &Filter::all()).unwrap();
        assert_eq!(names(&rest), ["ref/group-add", "ref/user-disable"]);
    }

    #[test]
    fn reject_deletes_pending_and_keeps_the_snapshot() {
        let (_tmp, store) = setup("reject");
        let done = reject(&store, None, &Filter::new(&["user-create"]).unwrap()).unwrap();
        assert_eq!(done.len(), 2);
        assert!(done.iter().all(|s| s.action == Action::Rejected));
        assert_eq!(
            store.read("ref", "user-create").unwrap().unwrap().text,
            "old create"
        );
        assert!(store.read("acme", "user-create").unwrap().is_none());
        assert_eq!(pending(&store, None, &Filter::all()).unwrap().len(), 2);
    }

    #[test]
    fn bad_glob_is_an_error() {
        let err = Filter::new(&["user-[a"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid scenario pattern `user-[a`"),
            "{err}"
        );
    }
}
