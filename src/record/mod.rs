//! Recording real traffic and turning it into scenarios.
//!
//! `proxy` is the recording reverse proxy (`scimreplay record`), `raw` the append-only
//! recording it writes (credentials never stored), `convert` turns recorded exchanges into a
//! scenario file and its first snapshot baseline, with `rewrite` (ids → captures, names →
//! `{{run.prefix}}`) and `query` (the recorded query encoding). The importers in `import`
//! feed the same converter.

pub mod convert;
pub mod proxy;
pub mod query;
pub mod raw;
pub mod rewrite;
pub mod tls;

use crate::scenario::load::parse_scenario;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub use convert::{Converted, Meta, convert};

/// Why converted output could not be written.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error("failed to write {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The converter produced a file the loader refuses: a bug, reported with the loader's words.
    #[error("the scenario written to {file} does not load: {message}")]
    Invalid { file: String, message: String },
}

/// Where converted output goes.
#[derive(Clone, Debug)]
pub struct Outputs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// `<snapshot dir>/<baseline>/<name>.snap`, when a baseline is written.
    pub snapshot: Option<PathBuf>,
}

/// The scenario file text: pretty JSON with a final newline.
pub fn scenario_text(converted: &Converted) -> String {
    let mut text = serde_json::to_string_pretty(&converted.scenario).unwrap_or_default();
    text.push('\n');
    text
}

/// Checks that the scenario loads, then writes it and (when asked) its baseline snapshot.
pub fn write(converted: &Converted, outputs: &Outputs) -> Result<(), WriteError> {
    let text = scenario_text(converted);
    let file = outputs.scenario.display().to_string();
    if let Err(errors) = parse_scenario(&file, &text, false) {
        let message = errors
            .errors()
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(WriteError::Invalid { file, message });
    }
    write_file(&outputs.scenario, &text)?;
    if let Some(snap) = &outputs.snapshot {
        write_file(snap, &converted.baseline)?;
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        file: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

/// A scenario name from a file name: `Staging Cycle.json` → `staging-cycle`.
pub fn name_from_path(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    slug(&stem)
}

/// Lower case, runs of anything but `[a-z0-9.]` as one `-`, never empty.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(['-', '.']).to_string();
    if out.is_empty() {
        "recorded".into()
    } else {
        out
    }
}
