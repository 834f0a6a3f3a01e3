//! JUnit XML for CI dashboards: a testsuite per scenario, a testcase per step.
//!
//! A failed check is a `failure`, a transport fault an `error`, a skipped step `skipped`,
//! snapshot drift a `failure` of type `snapshot-drift`. The failure text is the plain
//! terminal detail block, so a CI page shows what a developer would see locally.
//! quick-junit does the XML escaping (and strips control characters).

use crate::model::{RunReport, ScenarioResult, StepResult, StepStatus, Verdict};
use crate::report::causes::by_id;
use crate::report::curl::cleanup_command;
use crate::report::detail::{check_line, step_detail};
use crate::report::event::ReportError;
use crate::report::json::write_atomically;
use crate::report::styles::Styles;
use crate::scenario::model::Severity;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::Path;
use std::time::Duration;

/// The report as JUnit XML.
pub fn to_junit_xml(report: &RunReport) -> Result<String, ReportError> {
    let mut junit = Report::new("scimreplay");
    junit.set_time(Duration::from_millis(report.duration_ms));
    junit.add_test_suite(run_suite(report));
    for scenario in &report.scenarios {
        junit.add_test_suite(scenario_suite(report, scenario));
    }
    if let Some(suite) = cleanup_suite(report) {
        junit.add_test_suite(suite);
    }
    junit.to_string().map_err(ReportError::Junit)
}

/// Writes the JUnit report to `path`, replacing it atomically.
pub fn write_junit(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    write_atomically(path, to_junit_xml(report)?.as_bytes())
}

fn scenario_suite(report: &RunReport, scenario: &ScenarioResult) -> TestSuite {
    let mut suite = TestSuite::new(&scenario.name);
    suite.set_time(Duration::from_millis(scenario.duration_ms));
    let snapshot = serde_json::to_value(scenario.snapshot.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    suite.add_properties([
        Property::new("file", &scenario.file),
        Property::new("dialect", scenario.dialect.as_str()),
        Property::new("target", &report.target),
        Property::new("baseline", &report.baseline),
        Property::new("snapshot", snapshot),
    ]);
    if let Some(rerun) = &scenario.rerun {
        let what = if rerun.cleared {
            "passed alone: only under concurrency"
        } else {
            "failed again alone"
        };
        suite.add_property(Property::new("rerun", what));
    }
    for step in &scenario.steps {
        suite.add_test_case(step_case(report, scenario, step));
    }
    suite
}

/// The run as one testcase: the verdict, so an interrupted, unreachable or rejected run is
/// never a green page (it may have no step that failed).
fn run_suite(report: &RunReport) -> TestSuite {
    let status = match report.verdict {
        Verdict::Passed | Verdict::Drift | Verdict::Failed => TestCaseStatus::success(),
        verdict => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            let mut text: String = report
                .preflight
                .iter()
                .flat_map(|p| &p.findings)
                .map(|f| format!("preflight: {f}\n"))
                .collect();
            if report.summary.interrupted {
                text.push_str("the run was stopped by a signal before it finished\n");
            }
            status
                .set_type(
                    serde_json::to_value(verdict)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                )
                .set_message(verdict.label())
                .set_description(text);
            status
        }
    };
    let mut case = TestCase::new("verdict", status);
    case.set_classname("scimreplay");
    let mut suite = TestSuite::new(shard_name("scimreplay run", report));
    suite.add_property(Property::new("verdict", report.verdict.label()));
    if let Some(partition) = &report.partition {
        suite.add_property(Property::new("partition", partition));
    }
    if report.summary.not_run > 0 {
        suite.add_property(Property::new("not-run", report.summary.not_run.to_string()));
    }
    suite.add_test_case(case);
    suite
}

/// A run-wide suite's name, with the shard when the run is one, so the JUnit files of the
/// shards of a CI matrix merge without two suites of the same name (each scenario runs in
/// exactly one shard, so its suite is unique already).
fn shard_name(name: &str, report: &RunReport) -> String {
    match &report.partition {
        Some(partition) => format!("{name} (partition {partition})"),
        None => name.to_string(),
    }
}

fn step_case(report: &RunReport, scenario: &ScenarioResult, step: &StepResult) -> TestCase {
    let mut case = TestCase::new(&step.id, step_status(report, scenario, step));
    case.set_classname(&scenario.name);
    if let Some(elapsed) = step
        .exchange
        .as_ref()
        .and_then(|e| e.response.as_ref())
        .map(|r| r.elapsed_ms)
    {
        case.set_time(Duration::from_millis(elapsed));
    }
    let warnings: String = step
        .failed_checks()
        .filter(|c| c.severity == Severity::Warn)
        .map(|c| check_line(c, "", Styles::plain()))
        .collect();
    if !warnings.is_empty() {
        case.set_system_out(warnings);
    }
    case
}

/// Failure for failed checks and drift, error for transport faults, skipped with why; a
/// consequence of an earlier failure is skipped and names its cause.
fn step_status(report: &RunReport, scenario: &ScenarioResult, step: &StepResult) -> TestCaseStatus {
    let detail = || plain_detail(scenario, step);
    if let Some(cause) = &step.consequence_of {
        let mut status = TestCaseStatus::skipped();
        let what = by_id(report, cause).map_or(String::new(), |c| {
            format!(": {} answered {}", c.sent, c.answered)
        });
        status.set_message(one_line(&format!(
            "consequence of cause {cause} (an earlier step failed{what})"
        )));
        return status;
    }
    let cause = step.cause.as_deref().map_or(String::new(), |c| {
        // The label travels with every failure of such a cause: a CI page shows one message.
        let concurrency = by_id(report, c)
            .filter(|c| c.only_under_concurrency)
            .map_or(
                "",
                |_| " only under concurrency (passed when run again alone)",
            );
        format!("[{c}]{concurrency} ")
    });
    match step.status {
        StepStatus::Passed | StepStatus::Warned => TestCaseStatus::success(),
        StepStatus::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = step.failed_checks().next();
            let message = first.map_or_else(
                || "step failed".to_string(),
                |c| {
                    one_line(&format!(
                        "{cause}{}: expected {}, got {}",
                        c.check, c.expected, c.actual
                    ))
                },
            );
            status
                .set_type(first.map_or("check", |c| c.check.as_str()))
                .set_message(message)
                .set_description(detail());
            status
        }
        StepStatus::Errored => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            let fault = step.exchange.as_ref().and_then(|e| e.fault.as_ref());
            let kind = fault
                .and_then(|f| serde_json::to_value(f.kind).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "transport".to_string());
            let message = fault.map_or("no response", |f| f.message.as_str());
            status
                .set_type(kind)
                .set_message(one_line(&format!("{cause}{message}")))
                .set_description(detail());
            status
        }
        StepStatus::Drift => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let against = scenario.snapshot.path.as_deref().unwrap_or("the baseline");
            status
                .set_type("snapshot-drift")
                .set_message(format!("response differs from {against}"))
                .set_description(detail());
            status
        }
        StepStatus::Skipped => {
            let mut status = TestCaseStatus::skipped();
            let reason = step.skipped_because.as_deref().unwrap_or("skipped");
            status.set_message(one_line(reason));
            status
        }
    }
}

/// The terminal detail block, plain, without the indentation that sets it under a
/// scenario line (a CI page shows it on its own).
fn plain_detail(scenario: &ScenarioResult, step: &StepResult) -> String {
    let mut out = String::new();
    for line in step_detail(scenario, step, Styles::plain()).lines() {
        out.push_str(line.strip_prefix("    ").unwrap_or(line));
        out.push('\n');
    }
    out
}

/// A suite for objects cleanup could not delete, so CI shows them; none when all is clean.
fn cleanup_suite(report: &RunReport) -> Option<TestSuite> {
    let cleanup = &report.cleanup;
    if cleanup.left_behind.is_empty() && !cleanup.interrupted {
        return None;
    }
    let mut text: String = cleanup
        .left_behind
        .iter()
        .map(|l| format!("left behind: {}  ({})\n", l.path, l.reason))
        .collect();
    if cleanup.interrupted {
        text.push_str("cleanup was interrupted before it finished\n");
    }
    text.push_str(&format!(
        "finish with: {}\n",
        cleanup_command(&cleanup.ledger, &cleanup.target)
    ));
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status
        .set_type("cleanup-incomplete")
        .set_message(format!(
            "{} object(s) created by this run were not deleted",
            cleanup.left_behind.len()
        ))
        .set_description(text);
    let mut case = TestCase::new("cleanup", status);
    case.set_classname("scimreplay");
    let mut suite = TestSuite::new(shard_name("scimreplay cleanup", report));
    suite.add_test_case(case);
    Some(suite)
}

/// Attribute values read best on one line.
fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::escape::line(&joined).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;

    #[test]
    fn junit_report_snapshot() {
        let xml = to_junit_xml(&sample_report()).expect("serializes");
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn counts_and_kinds_match_the_run() {
        let xml = to_junit_xml(&sample_report()).expect("serializes");
        // Parse it back with quick-junit's own reader, as a CI tool would.
        let parsed = Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        let names: Vec<&str> = parsed.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "scimreplay run",
                "user-disable-default",
                "user-create-string-active",
                "group-filter-by-name",
                "user-filter-empty",
                "user-get-after-disable",
                "scimreplay cleanup",
            ]
        );
        let case = |suite: usize, case: usize| &parsed.test_suites[suite + 1].test_cases[case];
        assert!(matches!(
            &case(1, 0).status,
            TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, message: Some(m), .. }
                if m.as_str().ends_with("] status: expected 201, got 400")
                    && m.as_str().starts_with("[c-")
        ));
        assert!(matches!(
            &case(1, 1).status,
            TestCaseStatus::Skipped { message: Some(m), .. }
                if m.as_str().starts_with("consequence of cause c-")
        ));
        assert!(matches!(
            &case(2, 0).status,
            TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, ty: Some(t), .. }
                if t.as_str() == "connect"
        ));
        assert!(matches!(
            &case(4, 0).status,
            TestCaseStatus::NonSuccess { ty: Some(t), .. } if t.as_str() == "snapshot-drift"
        ));
        assert!(matches!(&case(3, 0).status, TestCaseStatus::Success { .. }));
        let out = case(3, 0).system_out.as_ref().map(|s| s.as_str());
        assert!(
            out.is_some_and(|o| o.contains("scim.content-type")),
            "{out:?}"
        );
        assert_eq!(
            case(1, 0).classname.as_ref().map(|c| c.as_str()),
            Some("user-create-string-active")
        );
    }

    #[test]
    fn an_interrupted_run_is_an_error_even_without_a_failed_step() {
        let mut report = sample_report();
        report.scenarios.truncate(1);
        report.cleanup.left_behind.clear();
        report.summary.interrupted = true;
        report.conclude();
        let xml = to_junit_xml(&report).expect("serializes");
        let parsed = Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        assert!(matches!(
            &parsed.test_suites[0].test_cases[0].status,
            TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, message: Some(m), .. }
                if m.as_str() == "interrupted"
        ));
    }

    #[test]
    fn clean_cleanup_adds_no_suite() {
        let mut report = sample_report();
        report.cleanup.left_behind.clear();
        let xml = to_junit_xml(&report).expect("serializes");
        assert!(!xml.contains("scimreplay cleanup"), "{xml}");
    }
}
