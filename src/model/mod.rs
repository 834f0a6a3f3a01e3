//! The result model: `RunReport`, the one value every reporter renders (terminal, JSON,
//! JUnit, Markdown, findings). The runner builds it; `report` only reads it.
//!
//! The JSON report is this value serialized, with `format_version` bumped on breaking changes.

pub mod cause;
pub mod diagnose;
pub mod verdict;

pub use cause::{Cause, Rank, StepRef};
pub use verdict::Verdict;

use crate::check::outcome::CheckOutcome;
use crate::http::exchange::Exchange;
use crate::scenario::model::{Dialect, Severity};
use serde::{Deserialize, Serialize};

/// Version of the JSON report layout.
///
/// 2: `verdict`, `preflight`, `causes`; each step names its `cause` or the cause it is a
/// `consequence_of`; a scenario says whether it was `rerun` alone. Steps of a setup
/// fallback say so in `fallback` (`refused` / `retry`), an optional field.
pub const FORMAT_VERSION: u32 = 2;

/// Everything one `scimreplay run` did and found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub format_version: u32,
    /// `scimreplay <version>`.
    pub tool: String,
    /// Unique id of this run, also in the ledger file name.
    pub run_id: String,
    /// The prefix every object created by this run carries, e.g. `scimreplay-7f3a2c-`.
    pub prefix: String,
    /// The Tenant URL as given (no credentials), or `builtin reference endpoint`.
    pub target: String,
    /// Snapshot baseline compared against.
    pub baseline: String,
    /// RFC 3339 UTC time the run started.
    pub started_at: String,
    pub duration_ms: u64,
    /// How the run ended, decided once ([`Verdict::of`]); reporters render it.
    #[serde(default)]
    pub verdict: Verdict,
    /// Entra's Test Connection, replayed before the catalogue (absent with `--no-preflight`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<Preflight>,
    /// The root causes of the failures, most serious first.
    #[serde(default)]
    pub causes: Vec<Cause>,
    /// The mapping profile `entra` steps were rendered for, when `--mappings` chose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mappings: Option<MappingsUsed>,
    pub scenarios: Vec<ScenarioResult>,
    pub cleanup: CleanupReport,
    pub summary: Summary,
    /// The shard this run was (`--partition`, e.g. `hash:2/4`): its scenarios are only part
    /// of the selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

/// The active mapping profile of a run and what choosing it meant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MappingsUsed {
    /// The profile's name (`default`, a file's `name`, or `discovered`).
    pub profile: String,
    /// In words: each default mapping discovery dropped, and each scenario left out.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl RunReport {
    /// Derives what the model computes from its results: consequences, causes, summary,
    /// verdict. Call once the scenarios, cleanup and preflight are final.
    pub fn conclude(&mut self) {
        let interrupted = self.summary.interrupted;
        let not_run = self.summary.not_run;
        for scenario in &mut self.scenarios {
            diagnose::mark_scenario(scenario);
        }
        self.causes = diagnose::causes(&self.scenarios);
        self.summary = Summary::of(&self.scenarios);
        self.summary.interrupted = interrupted;
        self.summary.not_run = not_run;
        self.summary.causes = self.causes.len();
        self.verdict = Verdict::of(self);
    }
}

/// What the Test Connection probes found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preflight {
    pub result: PreflightResult,
    /// What a person needs to know, one sentence each (why the run stopped, or what the
    /// probes found that the catalogue checks in detail).
    pub findings: Vec<String>,
    /// The probes as sent and answered (token redacted).
    pub probes: Vec<Exchange>,
}

/// Whether the run may go on after the probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreflightResult {
    /// The endpoint answered with the token accepted: the catalogue runs.
    Passed,
    /// No usable answer (connection, TLS, timeout): the run stopped.
    Unreachable,
    /// The probe with the token was answered 401 or 403: the run stopped.
    CredentialsRejected,
}

/// One scenario's steps and snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub name: String,
    pub summary: String,
    pub dialect: Dialect,
    /// Display path of the scenario file.
    pub file: String,
    pub tags: Vec<String>,
    pub steps: Vec<StepResult>,
    pub snapshot: SnapshotResult,
    pub duration_ms: u64,
    /// Set when the scenario failed with a 5xx or a timeout and was run again alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun: Option<Rerun>,
}

/// What running a scenario again alone, after the others, showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rerun {
    /// The 5xx or timeout did not come back: the failure shows only under concurrency.
    pub cleared: bool,
    /// The statuses of the rerun's steps, in order.
    pub statuses: Vec<StepStatus>,
}

impl Rerun {
    /// True when step `index` passed (or only warned) when its scenario ran alone.
    pub fn passed_alone(&self, index: usize) -> bool {
        self.statuses.get(index).is_some_and(|s| {
            matches!(
                s,
                StepStatus::Passed | StepStatus::Warned | StepStatus::Drift
            )
        })
    }
}

impl ScenarioResult {
    /// The worst status of its steps.
    pub fn status(&self) -> StepStatus {
        self.steps
            .iter()
            .map(|s| s.status)
            .max()
            .unwrap_or(StepStatus::Passed)
    }
}

/// The verdict on one step. Ordered from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// Every check passed, the snapshot matched or is new.
    Passed,
    /// Only `warn` checks failed (without `--strict`).
    Warned,
    /// Checks passed but the snapshot differs from the baseline.
    Drift,
    /// Not sent: an earlier step did not produce a value this one needs.
    Skipped,
    /// A `fail` check failed (or a `warn` one under `--strict`).
    Failed,
    /// No usable answer: connection refused, reset, timeout, TLS.
    Errored,
}

impl StepStatus {
    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Passed => "PASS",
            StepStatus::Warned => "WARN",
            StepStatus::Drift => "DRIFT",
            StepStatus::Skipped => "SKIP",
            StepStatus::Failed => "FAIL",
            StepStatus::Errored => "ERROR",
        }
    }
}

/// One request of a scenario and what was found about its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub status: StepStatus,
    /// Why the step was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_because: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
    pub checks: Vec<CheckOutcome>,
    /// Unified diff of this step's snapshot section against the baseline (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_diff: Option<String>,
    /// A `curl` command that reproduces the request (token as `$SCIMREPLAY_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curl: Option<String>,
    /// The id of the cause its failed checks belong to (see `RunReport::causes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The cause of an earlier step whose failure made this one fail or be skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consequence_of: Option<String>,
    /// Set on the steps of a setup that fell back to the required attributes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
}

/// A step's part in a setup fallback (failure isolation): the scenario's full mapped create
/// was refused, so its setup was retried with the required attributes only and the
/// scenario went on to test its own subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// The full mapped create the endpoint refused; reported once per run as a cause.
    Refused,
    /// The required-attributes create (or its read-back) sent in its place.
    Retry,
}

impl Fallback {
    pub fn label(self) -> &'static str {
        match self {
            Fallback::Refused => "refused setup create, retried with required attributes only",
            Fallback::Retry => "fallback: required attributes only",
        }
    }
}

impl StepResult {
    /// Checks that failed, worst first.
    pub fn failed_checks(&self) -> impl Iterator<Item = &CheckOutcome> {
        let mut failed: Vec<&CheckOutcome> = self.checks.iter().filter(|c| !c.passed).collect();
        failed.sort_by_key(|c| std::cmp::Reverse(c.severity == Severity::Fail));
        failed.into_iter()
    }
}

/// How a scenario's transcript compared with the baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotResult {
    pub state: SnapshotState,
    /// The `.snap` file compared against (or written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The pending `.snap.new` written beside it on a mismatch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

/// Snapshot comparison states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotState {
    /// Same as the baseline.
    Matched,
    /// No baseline existed; the transcript was written as the new baseline.
    New,
    /// No baseline existed and nothing was written (CI, or `--require-snapshots`).
    Missing,
    /// Differs from the baseline.
    Mismatch,
    /// Rewritten on purpose (`--update-snapshots`).
    Updated,
    /// Not compared (`--no-snapshots`, or the run did not get that far).
    Skipped,
}

/// What cleanup did with the objects this run created.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupReport {
    /// The ledger file of this run.
    pub ledger: String,
    /// The Tenant URL the objects live at (what `cleanup --target` must name).
    #[serde(default)]
    pub target: String,
    /// Objects deleted by cleanup.
    pub deleted: Vec<String>,
    /// Objects a scenario already deleted itself.
    pub already_gone: Vec<String>,
    /// Objects that could not be deleted, each with why.
    pub left_behind: Vec<LeftBehind>,
    /// Cleanup was cut short by a second interrupt.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// An object cleanup could not delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftBehind {
    /// `/Users/<id>` relative to the Tenant URL.
    pub path: String,
    pub reason: String,
}

/// Counts for the summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub scenarios: usize,
    pub steps: usize,
    pub passed: usize,
    pub warned: usize,
    pub drift: usize,
    pub failed: usize,
    pub errored: usize,
    pub skipped: usize,
    pub requests: usize,
    pub snapshots_new: usize,
    pub snapshots_mismatched: usize,
    /// Distinct root causes of the failures and warnings.
    #[serde(default)]
    pub causes: usize,
    /// Steps that failed or were skipped only because an earlier step failed.
    #[serde(default)]
    pub consequences: usize,
    /// Set when the run was stopped by a signal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Scenarios selected but not started because `--fail-fast` stopped the run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_run: usize,
}

/// How many requests an exchange put on the wire: the last attempt and every retried one.
/// A timed-out, reset or unanswered request was sent and counts; a request the safety guard
/// refused never left the harness and does not.
fn requests_sent(e: &Exchange) -> usize {
    let refused = e
        .fault
        .as_ref()
        .is_some_and(|f| f.kind == crate::http::exchange::FaultKind::Refused);
    if refused { 0 } else { 1 + e.retries.len() }
}

impl Summary {
    /// Counts derived from the scenario results.
    pub fn of(scenarios: &[ScenarioResult]) -> Summary {
        let mut s = Summary {
            scenarios: scenarios.len(),
            ..Summary::default()
        };
        for sc in scenarios {
            match sc.snapshot.state {
                SnapshotState::New | SnapshotState::Missing => s.snapshots_new += 1,
                SnapshotState::Mismatch => s.snapshots_mismatched += 1,
                _ => {}
            }
            for st in &sc.steps {
                s.steps += 1;
                if let Some(e) = &st.exchange {
                    s.requests += requests_sent(e);
                }
                if st.consequence_of.is_some() {
                    // Counted apart: it is not another failure.
                    s.consequences += 1;
                    continue;
                }
                match st.status {
                    StepStatus::Passed => s.passed += 1,
                    StepStatus::Warned => s.warned += 1,
                    StepStatus::Drift => s.drift += 1,
                    StepStatus::Failed => s.failed += 1,
                    StepStatus::Errored => s.errored += 1,
                    StepStatus::Skipped => s.skipped += 1,
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::exchange::{Fault, FaultKind, SentRequest};

    fn faulted(kind: FaultKind, retries: Vec<u64>) -> Exchange {
        Exchange {
            request: SentRequest {
                method: "GET".into(),
                url: "http://h/scim/Users".into(),
                path: "/Users".into(),
                headers: vec![],
                body: None,
            },
            response: None,
            fault: Some(Fault {
                kind,
                message: "x".into(),
            }),
            retries,
            retry_stopped: None,
        }
    }

    #[test]
    fn a_timed_out_request_was_sent_and_counts() {
        assert_eq!(requests_sent(&faulted(FaultKind::Timeout, vec![])), 1);
        assert_eq!(requests_sent(&faulted(FaultKind::Reset, vec![1, 2])), 3);
        assert_eq!(requests_sent(&faulted(FaultKind::Connect, vec![])), 1);
        assert_eq!(requests_sent(&faulted(FaultKind::Refused, vec![])), 0);
    }
}
