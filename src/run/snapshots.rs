//! Glue between a finished scenario and the snapshot store: build the normalized
//! transcript, compare it with the baseline, and mark the steps whose section drifted.

use super::SnapshotPlan;
use crate::model::{SnapshotResult, SnapshotState, StepResult, StepStatus};
use crate::normalize::Normalizer;
use crate::scenario::model::Scenario;
use crate::snapshot::{self, Policy, Store, UpdateMode};

/// Compares one scenario's transcript; returns the result and, on a store failure, why.
/// When `writable` is false nothing is written, whatever the plan's mode.
pub fn compare(
    plan: &SnapshotPlan,
    store: &Store,
    writable: bool,
    scenario: &Scenario,
    steps: &mut [StepResult],
    normalizer: &Normalizer,
) -> (SnapshotResult, Option<String>) {
    let snapshotted: Vec<(&str, &crate::http::exchange::Exchange)> = scenario
        .steps
        .iter()
        .zip(steps.iter())
        .filter(|(spec, _)| !spec.no_snapshot)
        .filter_map(|(_, result)| result.exchange.as_ref().map(|e| (result.id.as_str(), e)))
        .collect();
    let transcript = normalizer.transcript(&scenario.name, &snapshotted);
    let policy = Policy {
        mode: if writable { plan.mode } else { UpdateMode::No },
        require_existing: plan.require,
    };
    match snapshot::compare(store, &plan.baseline, &scenario.name, &transcript, policy) {
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
        Err(e) => (
            SnapshotResult {
                state: SnapshotState::Skipped,
                path: None,
                pending: None,
            },
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
