//! The baseline flags `record` and `import har` share: where the converted answers go as a
//! first snapshot. Declared once and flattened into both commands.

use super::resolve::InputError;
use crate::http::Target;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Baseline to write the answers into as the first snapshot (default: the endpoint's
    /// host and port, as `run` names it).
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Folder holding the baselines.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    pub snapshot_dir: PathBuf,
    /// Do not write the answers as a baseline snapshot.
    #[arg(long)]
    pub no_snapshot: bool,
}

impl BaselineArgs {
    /// Refuses an explicit `--baseline` that cannot name a folder, before any work is done.
    pub fn check(&self) -> Result<(), InputError> {
        check_name(self.baseline.as_deref())
    }

    /// The baseline name: `--baseline`, else the endpoint's host label, else `fallback`.
    pub fn name(&self, endpoint: &str, fallback: &str) -> String {
        self.baseline.clone().unwrap_or_else(|| {
            Target::parse(endpoint)
                .map(|t| t.host_label())
                .unwrap_or_else(|_| fallback.into())
        })
    }

    /// The `.snap` file to write for `scenario`, or `None` with `--no-snapshot`.
    pub fn snap_path(&self, baseline: &str, scenario: &str) -> Result<Option<PathBuf>, InputError> {
        if self.no_snapshot {
            return Ok(None);
        }
        crate::snapshot::Store::new(&self.snapshot_dir)
            .snap_path(baseline, scenario)
            .map(Some)
            .map_err(|e| InputError(format!("error: {e}")))
    }
}

/// An explicit `--baseline` must name a folder under the snapshot directory; anything else is
/// invalid input (exit 3), for `run`, `record` and `import` alike.
pub fn check_name(baseline: Option<&str>) -> Result<(), InputError> {
    match baseline {
        Some(name) if !crate::snapshot::valid_name(name) => Err(InputError(format!(
            "error: invalid --baseline `{}`: use letters, digits, `-`, `_` and `.`, not \
             starting with `.`, at most 100 characters (it names a folder under the \
             snapshot directory)",
            crate::escape::line(name)
        ))),
        _ => Ok(()),
    }
}
