//! Causes as text: the ranked list a person reads after the scenario lines, each cause said
//! once with one example exchange and its `curl`; and the preflight's stop.
//!
//! Pure functions of the model, shared by the terminal, JUnit and Markdown reporters.

use crate::model::{
    Cause, Preflight, PreflightResult, RunReport, ScenarioResult, StepRef, StepResult,
};
use crate::report::detail::{Bodies, plural, step_detail_with};
use crate::report::styles::Styles;
use std::fmt::Write as _;

/// Scenario names listed for a cause before the rest are counted.
const NAMES_SHOWN: usize = 6;

/// The scenario and step a reference points at.
pub fn find<'a>(
    report: &'a RunReport,
    at: &StepRef,
) -> Option<(&'a ScenarioResult, &'a StepResult)> {
    let scenario = report.scenarios.iter().find(|s| s.name == at.scenario)?;
    let step = scenario.steps.iter().find(|s| s.id == at.step)?;
    Some((scenario, step))
}

/// The cause with this id.
pub fn by_id<'a>(report: &'a RunReport, id: &str) -> Option<&'a Cause> {
    report.causes.iter().find(|c| c.id == id)
}

/// `1. [c-1a2b3c4d] provisioning of the object fails and is retried · 3 failures in 3 scenarios`
pub fn heading(index: usize, cause: &Cause) -> String {
    let mut line = format!(
        "{}. [{}] {} · {} in {}",
        index + 1,
        cause.id,
        cause.rank.label(),
        plural(cause.failures.len(), "failure", "failures"),
        plural(cause.scenarios, "scenario", "scenarios"),
    );
    if !cause.consequences.is_empty() {
        let _ = write!(
            line,
            ", {}",
            plural(cause.consequences.len(), "consequence", "consequences")
        );
    }
    if cause.only_under_concurrency {
        line.push_str(" · only under concurrency");
    }
    line
}

/// What Entra sends, what comes back, the check, the impact and who is affected (no example).
pub fn facts(cause: &Cause, indent: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{indent}Entra sends:      {}", cause.sent);
    let _ = writeln!(out, "{indent}endpoint answers: {}", cause.answered);
    let _ = writeln!(
        out,
        "{indent}check:            {}  expected: {}  actual: {}",
        cause.check,
        one_line(&cause.expected, 120),
        one_line(&cause.actual, 120)
    );
    if let Some(impact) = &cause.impact {
        let _ = writeln!(out, "{indent}impact:           {impact}");
    }
    if let Some(code) = &cause.log_code {
        let _ = writeln!(out, "{indent}log code:         {code}");
    }
    if cause.only_under_concurrency {
        let _ = writeln!(
            out,
            "{indent}concurrency:      gone when the scenario ran again alone; Entra sends \
             requests concurrently, so it stays a finding"
        );
    }
    let _ = writeln!(out, "{indent}affects:          {}", affected(cause));
    out
}

/// `user-a › create, user-b › create, … and 4 more scenarios`
fn affected(cause: &Cause) -> String {
    let mut names: Vec<String> = Vec::new();
    for at in cause.failures.iter().chain(&cause.consequences) {
        if !names.contains(&at.scenario) {
            names.push(at.scenario.clone());
        }
    }
    let more = names.len().saturating_sub(NAMES_SHOWN);
    names.truncate(NAMES_SHOWN);
    let mut line = names.join(", ");
    if more > 0 {
        let _ = write!(
            line,
            " and {}",
            plural(more, "more scenario", "more scenarios")
        );
    }
    line
}

/// The ranked causes, each with its example's detail block (ends with a newline; empty when
/// there are none).
pub fn section(report: &RunReport, styles: Styles, bodies: Bodies) -> String {
    if report.causes.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n{}\n",
        styles.bold(&format!(
            "{}, most serious first:",
            plural(report.causes.len(), "cause", "causes")
        ))
    );
    for (index, cause) in report.causes.iter().enumerate() {
        out.push('\n');
        let _ = writeln!(out, "  {}", styles.bold(&heading(index, cause)));
        out.push_str(&facts(cause, "     "));
        let example = cause.example().and_then(|at| find(report, at));
        if let Some((scenario, step)) = example.filter(|_| brief(index, bodies)) {
            // Past the first few, a cause names its example and how to reproduce it; the
            // exchange itself is one `-v` away, so a run with many defects stays readable.
            let _ = writeln!(
                out,
                "     example:          {} › {} (-v shows the exchange)",
                scenario.name, step.id
            );
            if let Some(curl) = &step.curl {
                let _ = writeln!(
                    out,
                    "     reproduce:        {}",
                    curl.replace('\n', "\n     ")
                );
            }
        } else if let Some((scenario, step)) = example {
            let _ = writeln!(out, "     example:");
            for line in step_detail_with(scenario, step, styles, bodies).lines() {
                let _ = writeln!(out, "{}", format!("   {line}").trim_end());
            }
        }
    }
    out
}

/// Causes shown with their whole example exchange before the rest are shown briefly.
const EXAMPLES_SHOWN: usize = 8;

/// True when the cause at `index` is listed without its example exchange.
fn brief(index: usize, bodies: Bodies) -> bool {
    index >= EXAMPLES_SHOWN && bodies == Bodies::Short
}

/// Why the preflight stopped the run, or what it found (empty when it found nothing).
pub fn preflight_lines(preflight: &Preflight, styles: Styles) -> String {
    let mut out = String::new();
    let stopped = preflight.result != PreflightResult::Passed;
    for finding in &preflight.findings {
        let line = format!("preflight: {finding}");
        let _ = writeln!(
            out,
            "{}",
            if stopped {
                styles.fail(&line)
            } else {
                styles.warn(&line)
            }
        );
    }
    if stopped {
        if let Some(probe) = preflight.probes.first() {
            let _ = writeln!(
                out,
                "  reproduce: {}",
                styles.accent(&crate::report::curl::curl_command(&probe.request))
            );
        }
        if preflight.result == PreflightResult::Unreachable {
            let _ = writeln!(
                out,
                "  check the Tenant URL, the network path and (for https) the certificate; \
                 --no-preflight runs the catalogue anyway"
            );
        }
    }
    out
}

fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = joined.chars().take(max).collect();
    if cut.len() < joined.len() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;

    #[test]
    fn each_cause_is_said_once_with_one_example() {
        let report = sample_report();
        let text = section(&report, Styles::plain(), Bodies::Short);
        assert!(text.contains("causes, most serious first:"), "{text}");
        for cause in &report.causes {
            assert_eq!(
                text.matches(&format!("[{}]", cause.id)).count(),
                1,
                "{text}"
            );
        }
        assert!(text.contains("Entra sends:      POST /Users"), "{text}");
        assert!(text.contains("reproduce:"), "{text}");
    }

    #[test]
    fn past_the_first_causes_the_example_is_named_not_shown() {
        let mut report = sample_report();
        let first = report.causes[0].clone();
        while report.causes.len() < EXAMPLES_SHOWN + 2 {
            let mut more = first.clone();
            more.id = format!("c-{:08x}", report.causes.len());
            report.causes.push(more);
        }
        let text = section(&report, Styles::plain(), Bodies::Short);
        let named = text.matches("(-v shows the exchange)").count();
        assert_eq!(named, report.causes.len() - EXAMPLES_SHOWN, "{text}");
        let full = section(&report, Styles::plain(), Bodies::Full);
        assert_eq!(full.matches("(-v shows the exchange)").count(), 0);
    }
}
