//! Comparing a fresh transcript with the baseline, and what gets written as a result.

use super::SnapshotError;
use super::format::{Section, SectionDiff, canonical, section_diffs_until};
use super::store::{self, Store, Stored};
use crate::model::{SnapshotResult, SnapshotState};
use crate::stop::Stop;
use std::path::{Path, PathBuf};

/// What a run may write to the snapshot directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpdateMode {
    /// Local default: a missing snapshot is written; a mismatch writes `<scenario>.snap.new`
    /// beside the old one for `accept`/`reject`/`review`.
    #[default]
    Auto,
    /// CI (the `CI` variable set) without `--update-snapshots`: nothing is written.
    No,
    /// `--update-snapshots`: every differing or missing snapshot is overwritten.
    Always,
}

/// How snapshots are handled for one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub mode: UpdateMode,
    /// `--require-snapshots`: a missing baseline is not written as new but reported as
    /// [`SnapshotState::Missing`] (a pending `.snap.new` is still written in `Auto` mode).
    pub require_existing: bool,
}

/// The outcome of comparing one scenario's transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub result: SnapshotResult,
    /// The differing sections, plain text; empty unless the state is mismatch or updated.
    pub diffs: Vec<SectionDiff>,
}

impl Comparison {
    /// `(step id, diff)` for each step whose section differs.
    pub fn step_diffs(&self) -> Vec<(String, String)> {
        self.diffs
            .iter()
            .filter_map(|d| match &d.section {
                Section::Step(id) => Some((id.clone(), d.diff.clone())),
                Section::Header | Section::Order => None,
            })
            .collect()
    }

    /// The diff of one step's section, if it differs.
    pub fn step_diff(&self, step: &str) -> Option<&str> {
        self.diffs.iter().find_map(|d| match &d.section {
            Section::Step(id) if id == step => Some(d.diff.as_str()),
            _ => None,
        })
    }
}

/// Compares `transcript` with the stored snapshot of `scenario` in `baseline` and writes what
/// `policy` allows: a new snapshot, a pending `.snap.new`, or an overwrite. A stale pending
/// file is removed once the snapshot matches again.
pub fn compare(
    store: &Store,
    baseline: &str,
    scenario: &str,
    transcript: &str,
    policy: Policy,
) -> Result<Comparison, SnapshotError> {
    compare_until(
        store,
        baseline,
        scenario,
        transcript,
        policy,
        &Stop::never(),
    )
}

/// [`compare`], unless `stop` is raised while the diff is made: then nothing is written and
/// the answer is [`SnapshotError::Stopped`].
pub fn compare_until(
    store: &Store,
    baseline: &str,
    scenario: &str,
    transcript: &str,
    policy: Policy,
    stop: &Stop,
) -> Result<Comparison, SnapshotError> {
    let files = Files {
        snap: store.snap_path(baseline, scenario)?,
        pending: store.pending_path(baseline, scenario)?,
    };
    let text = canonical(transcript);
    match store.read(baseline, scenario)? {
        None => Ok(Comparison {
            result: when_missing(&files, &text, policy)?,
            diffs: Vec::new(),
        }),
        Some(stored) => when_stored(&files, &stored, &text, policy.mode, stop),
    }
}

/// The snapshot and its pending file on disk.
struct Files {
    snap: PathBuf,
    pending: PathBuf,
}

fn shown(path: &Path) -> Option<String> {
    Some(path.display().to_string())
}

fn when_missing(
    files: &Files,
    text: &str,
    policy: Policy,
) -> Result<SnapshotResult, SnapshotError> {
    let (state, pending) = match (policy.mode, policy.require_existing) {
        (UpdateMode::Always, _) | (UpdateMode::Auto, false) => {
            store::write(&files.snap, text)?;
            store::remove(&files.pending)?;
            (SnapshotState::New, None)
        }
        (UpdateMode::Auto, true) => {
            store::write(&files.pending, text)?;
            (SnapshotState::Missing, shown(&files.pending))
        }
        (UpdateMode::No, _) => (SnapshotState::Missing, None),
    };
    Ok(SnapshotResult {
        state,
        path: shown(&files.snap),
        pending,
    })
}

fn when_stored(
    files: &Files,
    stored: &Stored,
    text: &str,
    mode: UpdateMode,
    stop: &Stop,
) -> Result<Comparison, SnapshotError> {
    let diffs =
        section_diffs_until(&stored.text, text, stop).map_err(|_| SnapshotError::Stopped)?;
    let mut result = SnapshotResult {
        state: SnapshotState::Matched,
        path: Some(stored.source.display()),
        pending: None,
    };
    match mode {
        _ if diffs.is_empty() => {
            if mode != UpdateMode::No {
                store::remove(&files.pending)?;
            }
        }
        UpdateMode::Always => {
            store::write(&files.snap, text)?;
            store::remove(&files.pending)?;
            result.state = SnapshotState::Updated;
            result.path = shown(&files.snap);
        }
        UpdateMode::Auto => {
            store::write(&files.pending, text)?;
            result.state = SnapshotState::Mismatch;
            result.pending = shown(&files.pending);
        }
        UpdateMode::No => result.state = SnapshotState::Mismatch,
    }
    Ok(Comparison { result, diffs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::store::tests::TempDir;
    use std::fs;

    const OLD: &str = "---\nscenario: s\nnormalized: ids\n---\n## create\n< 201\n\n## get\n< 200\n";

    fn policy(mode: UpdateMode, require_existing: bool) -> Policy {
        Policy {
            mode,
            require_existing,
        }
    }

    fn files(store: &Store) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(store.root().join("b"))
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn missing_snapshot_is_written_as_new_in_auto_mode() {
        let tmp = TempDir::new("new");
        let store = Store::new(&tmp.0);
        let c = compare(&store, "b", "s", OLD, Policy::default()).unwrap();
        assert_eq!(c.result.state, SnapshotState::New);
        assert_eq!(files(&store), ["s.snap"]);
        let again = compare(&store, "b", "s", OLD, Policy::default()).unwrap();
        assert_eq!(again.result.state, SnapshotState::Matched);
        assert!(again.diffs.is_empty());
    }

    #[test]
    fn missing_snapshot_when_required_or_in_ci() {
        let tmp = TempDir::new("missing");
        let store = Store::new(&tmp.0);
        let ci = compare(&store, "b", "s", OLD, policy(UpdateMode::No, false)).unwrap();
        assert_eq!(ci.result.state, SnapshotState::Missing);
        assert!(files(&store).is_empty());
        let required = compare(&store, "b", "s", OLD, policy(UpdateMode::Auto, true)).unwrap();
        assert_eq!(required.result.state, SnapshotState::Missing);
        assert!(required.result.pending.is_some());
        assert_eq!(files(&store), ["s.snap.new"]);
        let forced = compare(&store, "b", "s", OLD, policy(UpdateMode::Always, true)).unwrap();
        assert_eq!(forced.result.state, SnapshotState::New);
        assert_eq!(files(&store), ["s.snap"]);
    }

    #[test]
    fn mismatch_writes_pending_and_match_removes_it() {
        let tmp = TempDir::new("mismatch");
        let store = Store::new(&tmp.0);
        compare(&store, "b", "s", OLD, Policy::default()).unwrap();
        let new = OLD.replace("< 200", "< 404");
        let c = compare(&store, "b", "s", &new, Policy::default()).unwrap();
        assert_eq!(c.result.state, SnapshotState::Mismatch);
        assert_eq!(c.step_diffs().len(), 1);
        assert!(c.step_diff("get").unwrap().contains("+< 404"));
        assert!(c.step_diff("create").is_none());
        assert_eq!(files(&store), ["s.snap", "s.snap.new"]);
        let pending = fs::read_to_string(store.pending_path("b", "s").unwrap()).unwrap();
        assert_eq!(pending, new);
        let back = compare(&store, "b", "s", OLD, Policy::default()).unwrap();
        assert_eq!(back.result.state, SnapshotState::Matched);
        assert_eq!(files(&store), ["s.snap"]);
    }

    #[test]
    fn ci_mode_writes_and_removes_nothing() {
        let tmp = TempDir::new("ci");
        let store = Store::new(&tmp.0);
        compare(&store, "b", "s", OLD, Policy::default()).unwrap();
        let new = OLD.replace("< 200", "< 404");
        compare(&store, "b", "s", &new, Policy::default()).unwrap();
        let ci = compare(&store, "b", "s", &new, policy(UpdateMode::No, false)).unwrap();
        assert_eq!(ci.result.state, SnapshotState::Mismatch);
        assert!(ci.result.pending.is_none());
        let matched = compare(&store, "b", "s", OLD, policy(UpdateMode::No, false)).unwrap();
        assert_eq!(matched.result.state, SnapshotState::Matched);
        assert_eq!(files(&store), ["s.snap", "s.snap.new"]);
    }

    #[test]
    fn update_overwrites_and_still_reports_the_diff() {
        let tmp = TempDir::new("update");
        let store = Store::new(&tmp.0);
        compare(&store, "b", "s", OLD, Policy::default()).unwrap();
        let new = OLD.replace("normalized: ids", "normalized: ids, sorted");
        let c = compare(&store, "b", "s", &new, policy(UpdateMode::Always, false)).unwrap();
        assert_eq!(c.result.state, SnapshotState::Updated);
        assert_eq!(c.diffs.len(), 1);
        assert_eq!(c.diffs[0].section, Section::Header);
        assert!(c.step_diffs().is_empty());
        let snap = fs::read_to_string(store.snap_path("b", "s").unwrap()).unwrap();
        assert_eq!(snap, new);
    }

    #[test]
    fn embedded_baseline_is_compared_and_pending_goes_to_disk() {
        let tmp = TempDir::new("embedded");
        let store = Store::new(&tmp.0).with_embedded([("b", "s", OLD)]);
        let same = compare(&store, "b", "s", OLD, Policy::default()).unwrap();
        assert_eq!(same.result.state, SnapshotState::Matched);
        assert_eq!(same.result.path.as_deref(), Some("builtin:b/s.snap"));
        let new = OLD.replace("< 201", "< 200");
        let c = compare(&store, "b", "s", &new, Policy::default()).unwrap();
        assert_eq!(c.result.state, SnapshotState::Mismatch);
        assert_eq!(files(&store), ["s.snap.new"]);
    }

    #[test]
    fn a_stop_during_the_diff_writes_nothing() {
        let tmp = TempDir::new("stopped");
        let store = Store::new(&tmp.0);
        compare(&store, "b", "s", OLD, Policy::default()).unwrap();
        let stop = Stop::on(std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1)));
        let new = OLD.replace("< 200", "< 404");
        let err = compare_until(&store, "b", "s", &new, Policy::default(), &stop).unwrap_err();
        assert!(matches!(err, SnapshotError::Stopped), "{err}");
        assert_eq!(files(&store), ["s.snap"]);
    }

    #[test]
    fn invalid_names_are_errors() {
        let store = Store::new(std::env::temp_dir());
        let err = compare(&store, "../x", "s", OLD, Policy::default()).unwrap_err();
        assert!(matches!(err, SnapshotError::InvalidBaseline(_)));
    }
}
