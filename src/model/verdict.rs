//! The run's one verdict, computed once from the model; every reporter and the exit code
//! render this value instead of deciding again.

use super::{PreflightResult, RunReport, SnapshotState, StepStatus};
use crate::http::exchange::FaultKind;
use serde::{Deserialize, Serialize};

/// How a run ended. Ordered from best to worst: when several apply, the worst is the verdict.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check passed and every snapshot matched (new snapshots are not drift).
    #[default]
    Passed,
    /// Checks passed, but responses differ from the baseline (or no baseline exists in CI).
    Drift,
    /// A conformance check failed.
    Failed,
    /// Cleanup could not delete everything this run created.
    LeftBehind,
    /// The harness refused to send a request a scenario asked for (a scenario or harness bug).
    HarnessFailed,
    /// A signal stopped the run before it finished.
    Interrupted,
    /// The endpoint rejected the token (401/403 on the Test Connection probe); nothing else ran.
    CredentialsRejected,
    /// No connection could be made to the endpoint; nothing else ran.
    Unreachable,
}

impl Verdict {
    /// The verdict of a finished report.
    pub fn of(report: &RunReport) -> Verdict {
        match report.preflight.as_ref().map(|p| p.result) {
            Some(PreflightResult::Unreachable) => return Verdict::Unreachable,
            Some(PreflightResult::CredentialsRejected) => return Verdict::CredentialsRejected,
            Some(PreflightResult::Passed) | None => {}
        }
        let steps = || report.scenarios.iter().flat_map(|s| &s.steps);
        let exchanges: Vec<_> = steps().filter_map(|s| s.exchange.as_ref()).collect();
        let unreachable = !exchanges.is_empty()
            && exchanges.iter().all(|e| {
                e.response.is_none()
                    && e.fault
                        .as_ref()
                        .is_some_and(|f| matches!(f.kind, FaultKind::Connect | FaultKind::Tls))
            });
        let mut verdict = Verdict::Passed;
        if unreachable {
            verdict = verdict.max(Verdict::Unreachable);
        }
        if exchanges.iter().any(|e| {
            e.fault
                .as_ref()
                .is_some_and(|f| f.kind == FaultKind::Refused)
        }) {
            verdict = verdict.max(Verdict::HarnessFailed);
        }
        if report.summary.interrupted {
            verdict = verdict.max(Verdict::Interrupted);
        }
        if !report.cleanup.left_behind.is_empty() {
            verdict = verdict.max(Verdict::LeftBehind);
        }
        for step in steps() {
            verdict = verdict.max(match step.status {
                StepStatus::Failed | StepStatus::Errored => Verdict::Failed,
                StepStatus::Drift => Verdict::Drift,
                StepStatus::Passed | StepStatus::Warned | StepStatus::Skipped => Verdict::Passed,
            });
        }
        let snapshot_drift = report.scenarios.iter().any(|s| {
            matches!(
                s.snapshot.state,
                SnapshotState::Missing | SnapshotState::Mismatch
            )
        });
        if snapshot_drift {
            verdict = verdict.max(Verdict::Drift);
        }
        verdict
    }

    /// A few words for headings and summary lines.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Drift => "behaviour drifted from the baseline",
            Verdict::Failed => "failed",
            Verdict::LeftBehind => "objects left behind",
            Verdict::HarnessFailed => "harness failure",
            Verdict::Interrupted => "interrupted",
            Verdict::CredentialsRejected => "credentials rejected",
            Verdict::Unreachable => "endpoint unreachable",
        }
    }

    /// True when the run is green.
    pub fn is_pass(self) -> bool {
        self == Verdict::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Preflight, Summary};
    use crate::report::test_support::sample_report;

    #[test]
    fn the_worst_thing_that_happened_wins() {
        let mut report = sample_report();
        assert_eq!(Verdict::of(&report), Verdict::LeftBehind);
        report.cleanup.left_behind.clear();
        assert_eq!(Verdict::of(&report), Verdict::Failed);
        report.summary.interrupted = true;
        assert_eq!(Verdict::of(&report), Verdict::Interrupted);
    }

    #[test]
    fn a_stopped_preflight_decides_alone() {
        let mut report = sample_report();
        report.scenarios.clear();
        report.summary = Summary::default();
        report.cleanup.left_behind.clear();
        assert_eq!(Verdict::of(&report), Verdict::Passed);
        report.preflight = Some(Preflight {
            result: PreflightResult::CredentialsRejected,
            findings: vec!["401".into()],
            probes: vec![],
        });
        assert_eq!(Verdict::of(&report), Verdict::CredentialsRejected);
        report.preflight = Some(Preflight {
            result: PreflightResult::Unreachable,
            findings: vec![],
            probes: vec![],
        });
        assert_eq!(Verdict::of(&report), Verdict::Unreachable);
    }
}
