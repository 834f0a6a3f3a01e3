//! Failures that may depend on concurrency: a scenario that failed with a 5xx or a timeout
//! is run once more, alone, after every other scenario has finished. What disappears then is
//! a defect that shows only when requests overlap (a locked database, a race in an id
//! allocator); Entra does send requests concurrently, so it stays a finding, labelled.

use crate::http::exchange::FaultKind;
use crate::model::{Rerun, ScenarioResult, StepResult, StepStatus};

/// Scenarios run again alone at most: an endpoint that fails nearly everything with a 5xx
/// is not racing, and rerunning the whole catalogue one by one would double a long run.
pub const MAX_RERUNS: usize = 10;

/// True when a step failed with a server error (5xx) or a timeout.
pub fn overload_failure(step: &StepResult) -> bool {
    if !matches!(step.status, StepStatus::Failed | StepStatus::Errored) {
        return false;
    }
    let Some(exchange) = &step.exchange else {
        return false;
    };
    let timeout = exchange
        .fault
        .as_ref()
        .is_some_and(|f| f.kind == FaultKind::Timeout);
    let server_error = exchange
        .response
        .as_ref()
        .is_some_and(|r| (500..600).contains(&r.status));
    timeout || server_error
}

/// True when the scenario is worth running again alone.
pub fn wanted(result: &ScenarioResult) -> bool {
    result.steps.iter().any(overload_failure)
}

/// What the run alone showed, compared with the first run.
pub fn outcome(again: &ScenarioResult) -> Rerun {
    Rerun {
        cleared: !again.steps.iter().any(overload_failure),
        statuses: again.steps.iter().map(|s| s.status).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;

    #[test]
    fn only_server_errors_and_timeouts_ask_for_a_rerun() {
        let report = sample_report();
        let mut scenario = report.scenarios[1].clone();
        assert!(
            !wanted(&scenario),
            "a 400 is the endpoint's answer, not load"
        );
        let step = &mut scenario.steps[0];
        step.status = StepStatus::Failed;
        step.exchange
            .as_mut()
            .unwrap()
            .response
            .as_mut()
            .unwrap()
            .status = 500;
        assert!(wanted(&scenario));
        let rerun = outcome(&scenario);
        assert!(!rerun.cleared);
        scenario.steps[0]
            .exchange
            .as_mut()
            .unwrap()
            .response
            .as_mut()
            .unwrap()
            .status = 201;
        scenario.steps[0].status = StepStatus::Passed;
        let rerun = outcome(&scenario);
        assert!(rerun.cleared);
        assert!(rerun.passed_alone(0));
        assert!(!rerun.passed_alone(99));
    }
}
