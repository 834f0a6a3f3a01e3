//! Findings: one stable line per problem a run found, for diffing against an expected list.
//!
//! A run's JSON report names JSON assertions with their rendered values (server ids, the run
//! prefix), which change every run. A finding names the assertion as the scenario file wrote
//! it (`json /members contains {"value":"{{ben_id}}"}`) and a status failure by the code
//! received, so the same endpoint behaviour gives the same lines run after run. CI keeps a
//! committed list of the findings it expects from an endpoint and fails when they change;
//! the proof tests compare each misbehaving endpoint with its expected findings the same way.

use crate::check::describe_assertion;
use crate::check::outcome::CheckOutcome;
use crate::model::{RunReport, StepResult, StepStatus};
use crate::report::event::{ReportError, Reporter, RunEvent};
use crate::report::json::write_atomically;
use crate::scenario::model::{Scenario, Severity, Step};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// One failed check, or one step that was skipped.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub scenario: String,
    pub step: String,
    /// `fail`, `warn` or `skipped`.
    pub kind: &'static str,
    /// The check: `status 400`, `scim.error`, `json /active equals false`; empty when skipped.
    pub check: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}: {}", self.scenario, self.step, self.kind)?;
        if !self.check.is_empty() {
            write!(f, " {}", self.check)?;
        }
        Ok(())
    }
}

/// The findings of a report, scenarios by name, steps in their order. `scenarios` are the
/// ones the run used; they give JSON assertions their written form (a scenario the report
/// names but `scenarios` lacks keeps the rendered labels).
pub fn findings(report: &RunReport, scenarios: &[Scenario]) -> Vec<Finding> {
    let by_name: HashMap<&str, &Scenario> =
        scenarios.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut results: Vec<_> = report.scenarios.iter().collect();
    results.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    for result in results {
        let scenario = by_name.get(result.name.as_str()).copied();
        for step in &result.steps {
            let written = scenario.and_then(|s| s.steps.iter().find(|w| w.id == step.id));
            out.extend(step_findings(&result.name, step, written));
        }
    }
    out
}

fn step_findings(scenario: &str, step: &StepResult, written: Option<&Step>) -> Vec<Finding> {
    let finding = |kind, check: String| Finding {
        scenario: scenario.to_string(),
        step: step.id.clone(),
        kind,
        check,
    };
    if step.status == StepStatus::Skipped {
        return vec![finding("skipped", String::new())];
    }
    let assertions = written.map(|w| w.expect.json.as_slice()).unwrap_or(&[]);
    let mut json_index = 0;
    let mut out = Vec::new();
    for outcome in &step.checks {
        let label = if outcome.check.starts_with("json ") {
            json_index += 1;
            match assertions.get(json_index - 1) {
                Some(a) => format!("json {}", describe_assertion(a)),
                None => outcome.check.clone(),
            }
        } else {
            label(outcome)
        };
        if !outcome.passed {
            let kind = match outcome.severity {
                Severity::Fail => "fail",
                Severity::Warn => "warn",
            };
            out.push(finding(kind, label));
        }
    }
    out
}

/// A named outcome's label; a status failure also names the code received (`status 400`).
fn label(outcome: &CheckOutcome) -> String {
    if outcome.check != "status" {
        return outcome.check.clone();
    }
    let code: String = outcome
        .actual
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if code.is_empty() {
        "status".to_string()
    } else {
        format!("status {code}")
    }
}

/// The findings as text, one per line, each line ending with a newline.
pub fn to_lines(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("{f}\n")).collect()
}

/// Writes the findings file when the run finishes.
pub struct FindingsReporter {
    path: PathBuf,
    scenarios: Vec<Scenario>,
}

impl FindingsReporter {
    pub fn new(path: impl Into<PathBuf>, scenarios: Vec<Scenario>) -> FindingsReporter {
        FindingsReporter {
            path: path.into(),
            scenarios,
        }
    }
}

impl Reporter for FindingsReporter {
    fn handle(&mut self, event: &RunEvent) -> Result<(), ReportError> {
        match event {
            RunEvent::RunFinished(report) => {
                let text = to_lines(&findings(report, &self.scenarios));
                write_atomically(&self.path, text.as_bytes())
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
    use crate::scenario::model::{JsonAssertion, Predicate};
    use serde_json::json;

    fn outcome(check: &str, severity: Severity, passed: bool, actual: &str) -> CheckOutcome {
        CheckOutcome {
            check: check.to_string(),
            severity,
            passed,
            expected: String::new(),
            actual: actual.to_string(),
            impact: None,
        }
    }

    #[test]
    fn json_assertions_are_named_as_written_and_statuses_by_code() {
        let mut report = sample_report();
        report.scenarios.truncate(1);
        let result = &mut report.scenarios[0];
        result.steps.truncate(1);
        let step = &mut result.steps[0];
        step.status = StepStatus::Failed;
        step.checks = vec![
            outcome(
                "status",
                Severity::Fail,
                false,
                "400 Bad Request, detail \"x\"",
            ),
            outcome(
                "scim.error",
                Severity::Warn,
                false,
                "status is the number 400",
            ),
            outcome("json /id equals \"u-1\"", Severity::Fail, true, ""),
            outcome(
                "json /members contains {\"value\":\"u-9\"}",
                Severity::Fail,
                false,
                "[]",
            ),
        ];
        let mut scenario = crate::scenario::model::Scenario {
            name: result.name.clone(),
            summary: "s".into(),
            description: None,
            behaviours: Vec::new(),
            source: None,
            dialect: crate::scenario::model::Dialect::Any,
            tags: Vec::new(),
            vars: Default::default(),
            steps: Vec::new(),
            directory: Default::default(),
            profile: Default::default(),
            source_steps: Vec::new(),
            origin: Default::default(),
        };
        let assertion = |pointer: &str, predicate| JsonAssertion {
            pointer: pointer.into(),
            predicate,
            severity: Severity::Fail,
            impact: None,
        };
        let mut written: crate::scenario::model::Step = match serde_json::from_value(json!({
            "id": step.id, "request": {"method": "GET", "path": "/Groups/x"}
        })) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        written.expect.json = vec![
            assertion("/id", Predicate::Equals(json!("{{g}}"))),
            assertion(
                "/members",
                Predicate::Contains(json!({"value": "{{ben_id}}"})),
            ),
        ];
        scenario.steps.push(written);
        let lines = to_lines(&findings(&report, &[scenario]));
        let name = &report.scenarios[0].name;
        let id = &report.scenarios[0].steps[0].id;
        assert_eq!(
            lines,
            format!(
                "{name}/{id}: fail status 400\n{name}/{id}: warn scim.error\n\
                 {name}/{id}: fail json /members contains {{\"value\":\"{{{{ben_id}}}}\"}}\n"
            )
        );
        // Without the scenario the rendered label is kept.
        let lines = to_lines(&findings(&report, &[]));
        assert!(lines.contains("fail json /members contains {\"value\":\"u-9\"}"));
    }

    #[test]
    fn skipped_steps_are_findings_and_passed_reports_have_none() {
        let mut report = sample_report();
        for result in &mut report.scenarios {
            for step in &mut result.steps {
                step.status = StepStatus::Passed;
                step.checks.retain(|c| c.passed);
            }
        }
        assert!(findings(&report, &[]).is_empty());
        report.scenarios[0].steps[0].status = StepStatus::Skipped;
        let found = findings(&report, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, "skipped");
        assert!(found[0].to_string().ends_with(": skipped"));
    }
}
