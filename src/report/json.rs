//! The JSON report: the whole `RunReport`, pretty, with its `format_version`, written
//! atomically so a CI job never picks up half a file.

use crate::model::{FORMAT_VERSION, RunReport};
use crate::report::event::{ReportError, Reporter, RunEvent};
use std::path::{Path, PathBuf};

/// The report as pretty JSON, ending with a newline.
///
/// `format_version` is always the version this build writes, whatever the value held,
/// so a file never claims a layout it does not have.
pub fn to_json_string(report: &RunReport) -> Result<String, ReportError> {
    let mut value = serde_json::to_value(report).map_err(ReportError::Json)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("format_version".into(), FORMAT_VERSION.into());
    }
    let mut text = serde_json::to_string_pretty(&value).map_err(ReportError::Json)?;
    text.push('\n');
    Ok(text)
}

/// Writes the JSON report to `path`, replacing it atomically.
pub fn write_json(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    write_atomically(path, to_json_string(report)?.as_bytes())
}

/// Replaces `path` with `bytes` atomically (see [`crate::atomic_file`]); creates missing
/// parent folders.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    crate::atomic_file::write(path, bytes).map_err(|source| ReportError::File {
        path: path.to_path_buf(),
        source,
    })
}

/// A report file written once, when the run finishes: JSON, JUnit, Markdown or HTML. CI parsers
/// read one complete file, so nothing is written before the end.
pub struct FileReporter {
    path: PathBuf,
    render: fn(&RunReport) -> Result<String, ReportError>,
}

impl FileReporter {
    /// The whole `RunReport` as JSON.
    pub fn json(path: impl Into<PathBuf>) -> FileReporter {
        FileReporter {
            path: path.into(),
            render: to_json_string,
        }
    }

    /// JUnit XML: a testsuite per scenario, a testcase per step.
    pub fn junit(path: impl Into<PathBuf>) -> FileReporter {
        FileReporter {
            path: path.into(),
            render: super::junit::to_junit_xml,
        }
    }

    /// A Markdown page for people.
    pub fn markdown(path: impl Into<PathBuf>) -> FileReporter {
        FileReporter {
            path: path.into(),
            render: |report| Ok(super::markdown::to_markdown(report)),
        }
    }

    /// One self-contained HTML page for sign-off.
    pub fn html(path: impl Into<PathBuf>) -> FileReporter {
        FileReporter {
            path: path.into(),
            render: |report| Ok(super::html::to_html(report)),
        }
    }
}

impl Reporter for FileReporter {
    fn handle(&mut self, event: &RunEvent) -> Result<(), ReportError> {
        match event {
            RunEvent::RunFinished(report) => {
                write_atomically(&self.path, (self.render)(report)?.as_bytes())
            }
            RunEvent::RunStarted(_)
            | RunEvent::ScenarioFinished(_)
            | RunEvent::Notice(_)
            | RunEvent::Interrupted
            | RunEvent::CleanupStarted { .. }
            | RunEvent::CleanupFinished(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;
    use std::fs;
    use std::sync::Arc;

    fn scratch_dir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("scimreplay-json-test-{name}-"))
            .tempdir()
            .expect("temp dir")
    }

    #[test]
    fn json_report_snapshot() {
        let text = to_json_string(&sample_report()).expect("serializes");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn json_report_round_trips_and_carries_the_version() {
        let mut report = sample_report();
        report.format_version = 0;
        let text = to_json_string(&report).expect("serializes");
        let back: RunReport = serde_json::from_str(&text).expect("parses back");
        assert_eq!(back.format_version, FORMAT_VERSION);
        report.format_version = FORMAT_VERSION;
        assert_eq!(back, report);
    }

    #[test]
    fn written_file_replaces_the_old_one_and_leaves_no_temp_file() {
        let scratch = scratch_dir("write");
        let dir = scratch.path().to_path_buf();
        let path = dir.join("nested").join("report.json");
        write_atomically(&path, b"old").expect("first write");
        let mut reporter = FileReporter::json(&path);
        let report = sample_report();
        reporter
            .handle(&RunEvent::ScenarioFinished(Arc::new(
                report.scenarios[0].clone(),
            )))
            .expect("ignored");
        assert_eq!(
            fs::read(&path).expect("exists"),
            b"old",
            "only the final report is written"
        );
        reporter
            .handle(&RunEvent::RunFinished(Arc::new(report.clone())))
            .expect("writes");
        let text = fs::read_to_string(&path).expect("exists");
        assert_eq!(text, to_json_string(&report).expect("serializes"));
        let names: Vec<_> = fs::read_dir(path.parent().expect("has a parent"))
            .expect("lists")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
    }

    #[test]
    fn unwritable_path_is_a_located_error() {
        let scratch = scratch_dir("error");
        let dir = scratch.path().to_path_buf();
        fs::create_dir_all(&dir).expect("creates");
        // A directory where the file should go: the rename must fail.
        let path = dir.join("report.json");
        fs::create_dir_all(path.join("inside")).expect("creates");
        let err = write_json(&sample_report(), &path).expect_err("cannot replace a directory");
        assert!(
            matches!(&err, ReportError::File { path: p, .. } if p == &path),
            "{err:?}"
        );
        assert!(err.to_string().contains("report.json"), "{err}");
    }
}
