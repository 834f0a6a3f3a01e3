//! Diagnosis: which failed steps are root causes, which are consequences of an earlier
//! failure, and the ranked list of causes.
//!
//! Within a scenario a step is a *consequence* when it was skipped because an earlier step
//! failed (a value it needs was never captured), or when it is a read whose only failures are
//! value checks and an earlier write of the same scenario was refused (a match after a refused
//! rename, a read after a refused create). A failed named SCIM/Entra check on the read is its
//! own cause: the read would fail whatever the write did.

use super::cause::{Cause, Rank, Signature, StepRef, log_code};
use super::{Fallback, ScenarioResult, StepResult, StepStatus};
use crate::http::exchange::Exchange;
use crate::scenario::model::Severity;
use std::collections::HashMap;

/// Sets `cause` and `consequence_of` on the steps of one finished scenario.
pub fn mark_scenario(scenario: &mut ScenarioResult) {
    let mut last_failure: Option<String> = None;
    let mut refused_write: Option<String> = None;
    for step in &mut scenario.steps {
        step.cause = None;
        step.consequence_of = None;
        match step.status {
            StepStatus::Skipped => {
                let interrupted = step
                    .skipped_because
                    .as_deref()
                    .is_some_and(|w| w.contains("interrupted"));
                if !interrupted {
                    step.consequence_of = last_failure.clone();
                }
            }
            StepStatus::Failed | StepStatus::Errored | StepStatus::Warned
                if step.fallback == Some(Fallback::Refused) =>
            {
                // The setup was retried with the required attributes only: what follows
                // tests the scenario's subject, so nothing after it is a consequence.
                step.cause = Some(signature(step).id());
            }
            StepStatus::Failed | StepStatus::Errored | StepStatus::Warned => {
                if step.status == StepStatus::Failed && only_value_checks_failed(step) {
                    if let Some(cause) = &refused_write {
                        step.consequence_of = Some(cause.clone());
                        continue;
                    }
                }
                // After a refused write, the read's value checks only repeat that refusal;
                // what else failed on it is the read's own cause.
                let id = match &refused_write {
                    Some(_) => own_signature(step),
                    None => signature(step),
                }
                .id();
                if step.status != StepStatus::Warned {
                    if step.exchange.as_ref().is_some_and(refused_write_exchange) {
                        refused_write = Some(id.clone());
                    }
                    last_failure = Some(id.clone());
                }
                step.cause = Some(id);
            }
            StepStatus::Passed | StepStatus::Drift => {}
        }
    }
}

/// The signature of a step that failed or warned.
///
/// A refused setup create is signed by its resource and the answer only: every scenario's
/// setup sends the profile's full mapped create (with the attributes its own directory
/// object has), and one attribute the endpoint refuses is one cause, however many
/// scenarios met it.
pub fn signature(step: &StepResult) -> Signature {
    let mut signature = Signature::of(step.exchange.as_ref(), step.failed_checks().next());
    if step.fallback == Some(Fallback::Refused) {
        if let Some(e) = &step.exchange {
            let path = e.request.path.split('?').next().unwrap_or_default();
            signature.sent = format!(
                "{} {path} with every mapped attribute (a scenario's setup; retried with the \
                 required attributes only)",
                e.request.method
            );
        }
    }
    signature
}

/// The signature of a step's first failed check that is not a value check (a read after a
/// refused write), or of its first failed check when all are.
fn own_signature(step: &StepResult) -> Signature {
    let own = step.failed_checks().find(|c| !value_check(&c.check));
    Signature::of(step.exchange.as_ref(), own.or(step.failed_checks().next()))
}

fn value_check(check: &str) -> bool {
    check == "status"
        || check.starts_with("json ")
        || check.starts_with("capture ")
        || check == "entra.single-match"
        || check == "entra.empty-list"
}

/// A read (GET) whose failed checks are all status or JSON-value checks.
fn only_value_checks_failed(step: &StepResult) -> bool {
    let read = step
        .exchange
        .as_ref()
        .is_some_and(|e| e.request.method.eq_ignore_ascii_case("GET") && e.fault.is_none());
    // Matching checks depend on the data too: a match after a refused rename finds nothing.
    read && step.failed_checks().all(|c| value_check(&c.check))
}

/// A write the endpoint did not carry out: a 4xx/5xx answer or no answer.
fn refused_write_exchange(exchange: &Exchange) -> bool {
    let write = !exchange.request.method.eq_ignore_ascii_case("GET");
    let refused = exchange.fault.is_some()
        || exchange
            .response
            .as_ref()
            .is_some_and(|r| !(200..300).contains(&r.status));
    write && refused
}

/// The causes of a run's failures and warnings, most serious first (then the most widespread).
pub fn causes(scenarios: &[ScenarioResult]) -> Vec<Cause> {
    let mut order: Vec<String> = Vec::new();
    let mut by_id: HashMap<String, Cause> = HashMap::new();
    for scenario in scenarios {
        for (index, step) in scenario.steps.iter().enumerate() {
            let Some(id) = &step.cause else { continue };
            let at = StepRef {
                scenario: scenario.name.clone(),
                step: step.id.clone(),
            };
            // Only a failure that went away when its scenario ran alone shows only under
            // concurrency; another failure of the same scenario that came back does not.
            let cleared = scenario
                .rerun
                .as_ref()
                .is_some_and(|r| r.cleared && r.passed_alone(index));
            match by_id.get_mut(id) {
                Some(cause) => {
                    // A cause is as serious as the worst of its failures.
                    cause.rank = cause.rank.min(rank(step));
                    cause.failures.push(at);
                    cause.only_under_concurrency &= cleared;
                }
                None => {
                    let mut cause = new_cause(id, step, at);
                    cause.only_under_concurrency = cleared;
                    order.push(id.clone());
                    by_id.insert(id.clone(), cause);
                }
            }
        }
    }
    for scenario in scenarios {
        for step in &scenario.steps {
            if let Some(cause) = step
                .consequence_of
                .as_ref()
                .and_then(|id| by_id.get_mut(id))
            {
                cause.consequences.push(StepRef {
                    scenario: scenario.name.clone(),
                    step: step.id.clone(),
                });
            }
        }
    }
    let mut causes: Vec<Cause> = order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .collect();
    for cause in &mut causes {
        let mut names: Vec<&str> = cause
            .failures
            .iter()
            .chain(&cause.consequences)
            .map(|s| s.scenario.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        cause.scenarios = names.len();
    }
    causes.sort_by(|a, b| {
        (a.rank, std::cmp::Reverse(a.failures.len()), &a.id).cmp(&(
            b.rank,
            std::cmp::Reverse(b.failures.len()),
            &b.id,
        ))
    });
    causes
}

fn new_cause(id: &str, step: &StepResult, at: StepRef) -> Cause {
    // The check the id was made from: the first failed one, or the read's own after a
    // refused write.
    let first = step
        .failed_checks()
        .find(|c| Signature::of(step.exchange.as_ref(), Some(c)).id() == id)
        .or_else(|| step.failed_checks().next());
    let signature = Signature::of(step.exchange.as_ref(), first);
    let fault = step.exchange.as_ref().and_then(|e| e.fault.as_ref());
    let impact = first.and_then(|c| c.impact.clone()).or_else(|| {
        fault.map(|f| format!("Entra logs the same failure as {}", f.kind.entra_code()))
    });
    let log_code = impact
        .as_deref()
        .and_then(log_code)
        .or_else(|| fault.map(|f| f.kind.entra_code().to_string()));
    Cause {
        id: id.to_string(),
        rank: rank(step),
        sent: signature.sent,
        answered: signature.answered,
        check: signature.check,
        expected: first.map(|c| c.expected.clone()).unwrap_or_default(),
        actual: first.map_or_else(
            || fault.map(|f| f.message.clone()).unwrap_or_default(),
            |c| c.actual.clone(),
        ),
        impact,
        log_code,
        failures: vec![at],
        consequences: Vec::new(),
        scenarios: 0,
        only_under_concurrency: false,
    }
}

/// How serious a step's failure is for Entra.
fn rank(step: &StepResult) -> Rank {
    let first = step.failed_checks().next();
    if step.status == StepStatus::Warned || first.is_some_and(|c| c.severity == Severity::Warn) {
        return Rank::Warning;
    }
    let Some(exchange) = &step.exchange else {
        return Rank::ObjectFails;
    };
    let Some(response) = &exchange.response else {
        return Rank::ObjectFails;
    };
    let with_token = exchange.request.headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("authorization") && v.ends_with(crate::http::exchange::REDACTED)
    });
    let filter_query = exchange.request.method.eq_ignore_ascii_case("GET")
        && exchange.request.path.contains("filter=");
    let status_failed = step.failed_checks().any(|c| c.check == "status");
    if with_token && matches!(response.status, 401 | 403) {
        return Rank::Connection;
    }
    if filter_query && status_failed && response.status >= 400 {
        return Rank::Connection;
    }
    if response.status >= 400 && status_failed {
        return Rank::ObjectFails;
    }
    Rank::SilentDrift
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;

    #[test]
    fn a_step_skipped_after_a_failure_is_its_consequence() {
        let mut report = sample_report();
        report.conclude();
        let failing = &report.scenarios[1];
        let cause = failing.steps[0]
            .cause
            .clone()
            .expect("the refused create is a cause");
        assert_eq!(
            failing.steps[1].consequence_of.as_deref(),
            Some(cause.as_str())
        );
        let listed = report
            .causes
            .iter()
            .find(|c| c.id == cause)
            .expect("listed");
        assert_eq!(listed.consequences.len(), 1);
        assert_eq!(listed.rank, Rank::ObjectFails);
        assert_eq!(report.summary.consequences, 1);
        assert_eq!(
            report.summary.failed, 1,
            "the consequence is not another failure"
        );
    }

    #[test]
    fn one_signature_in_several_scenarios_is_one_cause() {
        let mut report = sample_report();
        let mut twin = report.scenarios[1].clone();
        twin.name = "user-create-string-active-again".into();
        report.scenarios.push(twin);
        report.conclude();
        let create = report
            .causes
            .iter()
            .find(|c| c.sent.starts_with("POST /Users"))
            .expect("the create cause");
        assert_eq!(create.failures.len(), 2);
        assert_eq!(create.scenarios, 2);
        assert_eq!(
            report
                .causes
                .iter()
                .filter(|c| c.sent.starts_with("POST /Users"))
                .count(),
            1
        );
    }

    #[test]
    fn causes_are_ranked_most_serious_first() {
        let mut report = sample_report();
        report.conclude();
        let ranks: Vec<Rank> = report.causes.iter().map(|c| c.rank).collect();
        let mut sorted = ranks.clone();
        sorted.sort();
        assert_eq!(ranks, sorted);
        assert_eq!(ranks.last(), Some(&Rank::Warning));
    }
}
