//! Snapshot store, format, diff and update modes.
//!
//! A snapshot is the normalized transcript of one scenario (see `normalize`), stored as
//! `<root>/<baseline>/<scenario>.snap`. [`compare`] checks a fresh transcript against it
//! section by section and, as the [`UpdateMode`] allows, writes a new snapshot, a pending
//! `.snap.new` beside the old one, or an overwrite. [`pending`], [`accept`], [`reject`] and
//! [`review`] settle pending snapshots. Nothing here reads the environment: the CLI decides
//! the mode (e.g. `CI` set → [`UpdateMode::No`]).

mod compare;
mod diff;
mod format;
mod pending;
mod review;
mod store;

pub use compare::{Comparison, Policy, UpdateMode, compare, compare_until};
pub use diff::{CONTEXT, DIFF_TIME_LIMIT, render_diff, render_diff_until};
pub use format::{
    MAX_DIFF_BYTES, Section, SectionDiff, Sections, canonical, section_diffs, section_diffs_until,
    split,
};
pub use pending::{Action, Filter, Pending, Settled, accept, pending, reject};
pub use review::{ReviewOutcome, review};
pub use store::{SNAP, SNAP_NEW, Source, Store, Stored, valid_name};

use std::path::PathBuf;
use thiserror::Error;

/// Why a snapshot operation could not be done (as opposed to a mismatch, which is a result).
#[derive(Debug, Error)]
pub enum SnapshotError {
    #[error(
        "invalid baseline name `{0}`: use letters, digits, `-`, `_` and `.`, not starting with `.`"
    )]
    InvalidBaseline(String),
    #[error(
        "invalid scenario name `{0}` for a snapshot file: use letters, digits, `-`, `_` and `.`"
    )]
    InvalidScenario(String),
    #[error("invalid scenario pattern `{pattern}`: {source}")]
    InvalidPattern {
        pattern: String,
        #[source]
        source: globset::Error,
    },
    #[error("failed to read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to remove {}: {source}", .path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "review needs an interactive terminal; settle pending snapshots with `scimreplay accept` or `scimreplay reject` instead"
    )]
    NotATerminal,
    #[error("failed to talk to the terminal: {0}")]
    Terminal(#[source] std::io::Error),
    #[error("stopped by a signal before the comparison was done")]
    Stopped,
}
