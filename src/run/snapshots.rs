//! Glue between a finished scenario and the snapshot store: build the normalized
//! transcript, compare it with the baseline, and mark the steps whose section drifted.

use super::SnapshotPlan;
use crate::model::{SnapshotResult, SnapshotState, StepResult, StepStatus};
use crate::normalize::Normalizer;
use crate::scenario::model::Scenario;
use crate::snapshot::{self, Policy, Store, UpdateMode};
use crate::stop::Stop;

/// What a transcript may become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transcript {
    /// Every step ran and passed (or only warned): it may become the baseline.
    Good,
    /// A step failed, errored or was skipped because of a failure: it is only ever proposed
    /// as a pending `.snap.new` (`accept` blesses it on purpose), never made the baseline.
    Failing,
    /// Nothing to keep: the run was interrupted before it finished, or the endpoint never
    /// answered. Compared, never written.
    Unusable,
}

impl Transcript {
    /// Classifies a finished scenario's steps.
    pub fn of(steps: &[StepResult]) -> Transcript {
        let interrupted = steps.iter().any(|s| {
            s.status == StepStatus::Skipped
                && s.skipped_because
                    .as_deref()
                    .is_some_and(|w| w.contains("interrupted"))
        });
        let answered = steps
            .iter()
            .any(|s| s.exchange.as_ref().is_some_and(|e| e.response.is_some()));
        if interrupted || !answered {
            return Transcript::Unusable;
        }
        let failing = steps.iter().any(|s| {
            matches!(
                s.status,
                StepStatus::Failed | StepStatus::Errored | StepStatus::Skipped
            )
        });
        if failing {
            Transcript::Failing
        } else {
            Transcript::Good
        }
    }

    /// The write policy for a transcript of this kind under `plan`.
    fn policy(self, plan: &SnapshotPlan) -> Policy {
        match (self, plan.mode) {
            (Transcript::Good, mode) => Policy {
                mode,
                require_existing: plan.require,
            },
            (Transcript::Unusable, _) | (Transcript::Failing, UpdateMode::No) => Policy {
                mode: UpdateMode::No,
                require_existing: true,
            },
            (Transcript::Failing, UpdateMode::Auto | UpdateMode::Always) => Policy {
                mode: UpdateMode::Auto,
                require_existing: true,
            },
        }
    }
}

/// Compares one scenario's transcript; returns the result and, on a store failure, why.
/// What is written depends on the plan's mode and on what the transcript is. A `stop` raised
/// while the transcript is normalized or diffed ends the comparison: skipped, nothing written.
pub fn compare(
    plan: &SnapshotPlan,
    store: &Store,
    kind: Transcript,
    scenario: &Scenario,
    steps: &mut [StepResult],
    normalizer: &Normalizer,
    stop: &Stop,
) -> (SnapshotResult, Option<String>) {
    let skipped = SnapshotResult {
        state: SnapshotState::Skipped,
        path: None,
        pending: None,
    };
    let snapshotted: Vec<(&str, &crate::http::exchange::Exchange)> = scenario
        .steps
        .iter()
        .zip(steps.iter())
        .filter(|(spec, _)| !spec.no_snapshot)
        .filter_map(|(_, result)| result.exchange.as_ref().map(|e| (result.id.as_str(), e)))
        .collect();
    let Ok(transcript) = normalizer.transcript_until(&scenario.name, &snapshotted, stop.clone())
    else {
        return (skipped, None);
    };
    let policy = kind.policy(plan);
    let compared = snapshot::compare_until(
        store,
        &plan.baseline,
        &scenario.name,
        &transcript,
        policy,
        stop,
    );
    match compared {
        Ok(comparison) => {
            if comparison.result.state == SnapshotState::Mismatch {
                for (step_id, diff) in comparison.step_diffs() {
                    if let Some(step) = steps.iter_mut().find(|s| s.id == step_id) {
                        step.snapshot_diff = Some(diff);
                        if matches!(step.status, StepStatus::Passed | StepStatus::Warned) {
                            step.status = StepStatus::Drift;
                        }
                    }
                }
            }
            (comparison.result, None)
        }
        Err(snapshot::SnapshotError::Stopped) => (skipped, None),
        Err(e) => (
            skipped,
            Some(format!("snapshot of `{}` not compared: {e}", scenario.name)),
        ),
    }
}

/// What every scenario's comparison shares, built once per run: the plan, the store, and
/// the run-wide normalization (base URL and prefix patterns).
pub struct Snapshots {
    pub plan: SnapshotPlan,
    pub store: Store,
    pub normalizer: Normalizer,
}

impl Snapshots {
    pub fn new(plan: SnapshotPlan, base: &str, prefix: &str) -> Snapshots {
        Snapshots {
            store: store(&plan.root),
            plan,
            normalizer: Normalizer::new(base, prefix),
        }
    }
}

/// The store for a plan: the folder on disk, plus the baselines compiled into the binary.
pub fn store(root: &std::path::Path) -> Store {
    Store::new(root).with_embedded(crate::scenario::builtin::snapshots().iter().copied())
}
