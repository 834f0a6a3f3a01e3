//! The events a run emits, and the `Reporter` trait every reporter implements.
//!
//! The runner runs scenarios concurrently but reports through one channel to one task that
//! owns the reporters, so output from different scenarios never interleaves. Events are
//! owned and `Send + 'static` (results travel in an `Arc`, so the runner keeps its copy
//! without cloning). Every reporter matches every variant: a new event does not compile
//! until each reporter has decided what to do with it.

use crate::model::{CleanupReport, RunReport, ScenarioResult};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;

/// What the runner announces before the first request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunStarted {
    /// The Tenant URL as given (no credentials), or `builtin reference endpoint`.
    pub target: String,
    /// Snapshot baseline compared against.
    pub baseline: String,
    /// The prefix every object this run creates carries.
    pub prefix: String,
    /// Number of scenarios selected.
    pub scenarios: usize,
    /// Scenarios run at once; 0 when not known (a report rendered after the fact).
    pub jobs: usize,
}

/// One thing that happened during a run, in the order the reporter task received it.
#[derive(Clone, Debug)]
pub enum RunEvent {
    /// The plan is fixed; nothing has been sent yet.
    RunStarted(RunStarted),
    /// A scenario ran all its steps (or the ones it could).
    ScenarioFinished(Arc<ScenarioResult>),
    /// Something the user should know that is not a result, e.g. a retried 429.
    Notice(String),
    /// The first Ctrl-C: no new steps start; cleanup still runs.
    Interrupted,
    /// Cleanup begins deleting the objects in the ledger.
    CleanupStarted { objects: usize },
    /// Cleanup is over (complete or not).
    CleanupFinished(Arc<CleanupReport>),
    /// The whole report, final; the last event of a run.
    RunFinished(Arc<RunReport>),
}

/// Why a reporter could not write its output.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("failed to write the report")]
    Write(#[source] io::Error),
    #[error("failed to write `{}`", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to serialize the JSON report")]
    Json(#[source] serde_json::Error),
    #[error("failed to serialize the JUnit report")]
    Junit(#[source] quick_junit::SerializeError),
}

impl From<io::Error> for ReportError {
    fn from(e: io::Error) -> ReportError {
        ReportError::Write(e)
    }
}

/// Something that turns events into output.
pub trait Reporter {
    fn handle(&mut self, event: &RunEvent) -> Result<(), ReportError>;
}

/// Several reporters fed the same events, in order.
#[derive(Default)]
pub struct Fanout {
    reporters: Vec<Box<dyn Reporter + Send>>,
}

impl Fanout {
    pub fn new() -> Fanout {
        Fanout::default()
    }

    pub fn push(&mut self, reporter: impl Reporter + Send + 'static) -> &mut Fanout {
        self.reporters.push(Box::new(reporter));
        self
    }
}

impl Reporter for Fanout {
    /// Every reporter sees the event even when an earlier one failed (a full disk for the
    /// JSON file must not hide the terminal summary); the first error is returned.
    fn handle(&mut self, event: &RunEvent) -> Result<(), ReportError> {
        let mut first_error = None;
        for reporter in &mut self.reporters {
            if let Err(e) = reporter.handle(event) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The events a finished report would have produced live, in order: used to render a
/// saved report and by tests, so replayed and live output are the same text.
pub fn replay(report: &RunReport, jobs: usize) -> Vec<RunEvent> {
    let mut events = vec![RunEvent::RunStarted(RunStarted {
        target: report.target.clone(),
        baseline: report.baseline.clone(),
        prefix: report.prefix.clone(),
        scenarios: report.scenarios.len(),
        jobs,
    })];
    events.extend(
        report
            .scenarios
            .iter()
            .map(|s| RunEvent::ScenarioFinished(Arc::new(s.clone()))),
    );
    if report.summary.interrupted {
        events.push(RunEvent::Interrupted);
    }
    events.push(RunEvent::CleanupFinished(Arc::new(report.cleanup.clone())));
    events.push(RunEvent::RunFinished(Arc::new(report.clone())));
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;
    use std::sync::Mutex;

    /// Records the name of each event it sees and fails on the ones it is told to.
    struct Recorder {
        seen: Arc<Mutex<Vec<&'static str>>>,
        fail_on: Option<&'static str>,
    }

    fn name(event: &RunEvent) -> &'static str {
        match event {
            RunEvent::RunStarted(_) => "run-started",
            RunEvent::ScenarioFinished(_) => "scenario",
            RunEvent::Notice(_) => "notice",
            RunEvent::Interrupted => "interrupted",
            RunEvent::CleanupStarted { .. } => "cleanup-started",
            RunEvent::CleanupFinished(_) => "cleanup",
            RunEvent::RunFinished(_) => "run-finished",
        }
    }

    impl Reporter for Recorder {
        fn handle(&mut self, event: &RunEvent) -> Result<(), ReportError> {
            let n = name(event);
            self.seen.lock().expect("not poisoned").push(n);
            if self.fail_on == Some(n) {
                return Err(ReportError::Write(io::Error::other(n)));
            }
            Ok(())
        }
    }

    #[test]
    fn replay_orders_events_like_a_live_run() {
        let report = sample_report();
        let names: Vec<&str> = replay(&report, 4).iter().map(name).collect();
        let mut expected = vec!["run-started"];
        expected.extend(std::iter::repeat_n("scenario", report.scenarios.len()));
        expected.extend(["cleanup", "run-finished"]);
        assert_eq!(names, expected);
    }

    #[test]
    fn fanout_feeds_everyone_and_returns_the_first_error() {
        let a = Arc::new(Mutex::new(Vec::new()));
        let b = Arc::new(Mutex::new(Vec::new()));
        let mut fan = Fanout::new();
        fan.push(Recorder {
            seen: a.clone(),
            fail_on: Some("notice"),
        })
        .push(Recorder {
            seen: b.clone(),
            fail_on: None,
        });
        assert!(fan.handle(&RunEvent::Interrupted).is_ok());
        let err = fan.handle(&RunEvent::Notice("x".into()));
        assert!(matches!(err, Err(ReportError::Write(_))));
        assert_eq!(*b.lock().expect("not poisoned"), ["interrupted", "notice"]);
        assert_eq!(*a.lock().expect("not poisoned"), ["interrupted", "notice"]);
    }

    #[test]
    fn events_can_cross_threads() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<RunEvent>();
        assert_send::<Fanout>();
    }
}
