//! The catalogue compiled into the binary: every `scenarios/**/*.json` of this repository.
//!
//! `build.rs` lists the files (sorted) and embeds each with `include_str!`, so the binary
//! runs its catalogue with no files on disk, and a change to a scenario rebuilds it.

use super::error::ScenarioErrors;
use super::load::{SourceFile, load_sources};
use super::model::Scenario;

// Defines `FILES: &[(&str, &str)]`: (display path such as `scenarios/users/x.json`, text).
include!(concat!(env!("OUT_DIR"), "/builtin_scenarios.rs"));

/// Every embedded file: (display path, text), sorted by path.
pub fn files() -> &'static [(&'static str, &'static str)] {
    FILES
}

/// The reference baseline compiled into the binary: (baseline, scenario, snapshot text).
pub fn snapshots() -> &'static [(&'static str, &'static str, &'static str)] {
    SNAPSHOTS
}

/// The text of one embedded file by its display path.
pub fn source(file: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(path, _)| *path == file)
        .map(|(_, text)| *text)
}

/// Loads and validates the whole embedded catalogue.
pub fn load_builtin() -> Result<Vec<Scenario>, ScenarioErrors> {
    let sources: Vec<SourceFile> = FILES
        .iter()
        .map(|(file, text)| SourceFile {
            file: (*file).to_string(),
            text: (*text).to_string(),
            builtin: true,
        })
        .collect();
    load_sources(&sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_scenario_loads_without_errors() {
        let scenarios = match load_builtin() {
            Ok(s) => s,
            Err(e) => panic!("the built-in catalogue has errors:\n{e}"),
        };
        assert_eq!(scenarios.len(), files().len());
        assert!(scenarios.iter().all(|s| s.origin.builtin));
    }

    #[test]
    fn files_are_sorted_json_under_scenarios() {
        let paths: Vec<&str> = files().iter().map(|(p, _)| *p).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        assert!(
            paths
                .iter()
                .all(|p| p.starts_with("scenarios/") && p.ends_with(".json"))
        );
        assert!(
            paths.contains(&"scenarios/connection/connection-probe-username.json"),
            "{paths:?}"
        );
        assert!(source("scenarios/connection/connection-probe-username.json").is_some());
        assert!(source("scenarios/nope.json").is_none());
    }
}
