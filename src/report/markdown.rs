//! The Markdown report: a page a person reads (a CI job summary, a release checklist), a pure
//! function of the `RunReport`.
//!
//! The verdict heads it, the ranked causes come first (each example in `<details>`), then the
//! scenarios that need attention. GitHub refuses a step summary over 1 MiB, so the page is
//! built against a budget: past it, examples and rows are counted instead of shown, and the
//! page says where the rest is (the JSON report).

use super::causes::{self, facts, heading};
use super::detail::{plural, step_detail};
use super::styles::Styles;
use crate::model::{PreflightResult, RunReport, StepStatus, Verdict};
use std::fmt::Write;

/// GitHub's limit for `$GITHUB_STEP_SUMMARY`.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;
/// What the page may use before it stops adding examples and rows (room for the tail).
const BUDGET: usize = STEP_SUMMARY_LIMIT - 64 * 1024;

/// Renders the whole run as GitHub-flavoured Markdown, under [`STEP_SUMMARY_LIMIT`].
pub fn to_markdown(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# scimreplay: {}\n", verdict_heading(report.verdict));
    let _ = writeln!(
        out,
        "Target `{}` · baseline `{}` · run `{}` · {} · {}\n",
        code(&report.target),
        code(&report.baseline),
        report.run_id,
        report.started_at,
        report.tool
    );
    if let Some(preflight) = &report.preflight {
        for finding in &preflight.findings {
            let _ = writeln!(out, "- **preflight:** {}", cell(finding));
        }
        if !preflight.findings.is_empty() {
            out.push('\n');
        }
        if preflight.result != PreflightResult::Passed {
            return crate::escape::text(&out).into_owned();
        }
    }
    if let Some(mappings) = &report.mappings {
        let _ = writeln!(out, "Mapping profile `{}`\n", code(&mappings.profile));
        for note in &mappings.notes {
            let _ = writeln!(out, "- **mappings:** {}", cell(note));
        }
        if !mappings.notes.is_empty() {
            out.push('\n');
        }
    }
    summary_table(&mut out, report);
    causes_section(&mut out, report);
    attention_section(&mut out, report);
    cleanup_section(&mut out, report);
    passed_section(&mut out, report);
    // Whatever an endpoint sent ends up here too; a Markdown viewer in a terminal must not
    // act on it.
    crate::escape::text(&out).into_owned()
}

fn verdict_heading(verdict: Verdict) -> String {
    let mark = match verdict {
        Verdict::Passed => "✅",
        Verdict::Drift => "⚠️",
        _ => "❌",
    };
    format!("{mark} {}", verdict.label())
}

fn summary_table(out: &mut String, report: &RunReport) {
    let s = &report.summary;
    let _ = writeln!(
        out,
        "| scenarios | steps | passed | warned | drift | failed | errored | skipped | causes | consequences | requests | time |"
    );
    let _ = writeln!(
        out,
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} s |\n",
        s.scenarios,
        s.steps,
        s.passed,
        s.warned,
        s.drift,
        s.failed,
        s.errored,
        s.skipped,
        s.causes,
        s.consequences,
        s.requests,
        report.duration_ms as f64 / 1000.0
    );
}

fn causes_section(out: &mut String, report: &RunReport) {
    if report.causes.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Causes, most serious first\n");
    let mut left_out = 0;
    for (index, cause) in report.causes.iter().enumerate() {
        if out.len() > BUDGET {
            left_out += 1;
            continue;
        }
        let _ = writeln!(out, "### {}\n", cell(&heading(index, cause)));
        let _ = writeln!(out, "{}", fenced(&facts(cause, "")));
        let example = cause.example().and_then(|at| causes::find(report, at));
        if let Some((scenario, step)) = example {
            let detail = fenced(&step_detail(scenario, step, Styles::plain()));
            if out.len() + detail.len() < BUDGET {
                let _ = writeln!(
                    out,
                    "<details><summary>example: <code>{} › {}</code></summary>\n\n{detail}\n</details>\n",
                    html(&scenario.name),
                    html(&step.id)
                );
            }
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "… and {} not shown here (GitHub's 1 MiB step-summary limit); the JSON report has \
             them all.\n",
            plural(left_out, "more cause", "more causes")
        );
    }
}

fn attention_section(out: &mut String, report: &RunReport) {
    let attention: Vec<_> = report
        .scenarios
        .iter()
        .filter(|sc| sc.status() > StepStatus::Passed)
        .collect();
    if attention.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Needs attention\n");
    let _ = writeln!(out, "| scenario | dialect | status | steps | summary |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    let mut left_out = 0;
    for sc in &attention {
        if out.len() > BUDGET {
            left_out += 1;
            continue;
        }
        let steps: Vec<String> = sc
            .steps
            .iter()
            .filter(|st| st.status > StepStatus::Passed)
            .map(|st| match (&st.cause, &st.consequence_of) {
                (_, Some(c)) => format!("{} (consequence of {c})", st.id),
                (Some(c), None) if st.fallback.is_some() => {
                    format!("{} ({c}, retried with required attributes only)", st.id)
                }
                (Some(c), None) => format!("{} ({c})", st.id),
                (None, None) => st.id.clone(),
            })
            .collect();
        let status = match &sc.rerun {
            Some(r) if r.cleared => format!(
                "{} (passed alone: only under concurrency)",
                sc.status().label()
            ),
            Some(_) => format!("{} (failed again alone)", sc.status().label()),
            None => sc.status().label().to_string(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            code(&sc.name),
            sc.dialect,
            status,
            cell(&steps.join(", ")),
            cell(&sc.summary)
        );
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "\n… and {} not listed (size limit).",
            plural(left_out, "more scenario", "more scenarios")
        );
    }
    out.push('\n');
}

fn cleanup_section(out: &mut String, report: &RunReport) {
    let c = &report.cleanup;
    let _ = writeln!(
        out,
        "Cleanup: {} deleted, {} already gone, {} left behind.",
        c.deleted.len(),
        c.already_gone.len(),
        c.left_behind.len()
    );
    for (i, left) in c.left_behind.iter().enumerate() {
        if out.len() > BUDGET {
            let _ = writeln!(out, "- … and {} more", c.left_behind.len() - i);
            break;
        }
        let _ = writeln!(out, "- `{}`: {}", code(&left.path), cell(&left.reason));
    }
    if !c.left_behind.is_empty() {
        let _ = writeln!(
            out,
            "\nFinish with `{}`.",
            crate::report::curl::cleanup_command(&c.ledger, &c.target)
        );
    }
}

fn passed_section(out: &mut String, report: &RunReport) {
    let passed: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|sc| sc.status() == StepStatus::Passed)
        .map(|sc| sc.name.as_str())
        .collect();
    if passed.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n<details><summary>{} passed</summary>\n",
        plural(passed.len(), "scenario", "scenarios")
    );
    for name in passed {
        if out.len() > BUDGET {
            let _ = writeln!(out, "- …");
            break;
        }
        let _ = writeln!(out, "- `{}`", code(name));
    }
    let _ = writeln!(out, "\n</details>");
}

/// `text` in a fenced block whose fence no run of backticks inside it can close.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}{fence}\n", text)
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Text for inside an inline code span (backticks would end it).
fn code(text: &str) -> String {
    text.replace('`', "'")
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;

    #[test]
    fn markdown_puts_the_causes_first_with_details() {
        let md = to_markdown(&sample_report());
        assert!(
            md.starts_with("# scimreplay: ❌ objects left behind"),
            "{md}"
        );
        let causes = md.find("## Causes").expect("a causes section");
        let attention = md.find("## Needs attention").expect("an attention section");
        assert!(causes < attention, "{md}");
        assert!(md.contains("<details><summary>example: <code>"));
        assert!(md.contains("impact:"), "{md}");
        assert!(md.contains("scimreplay cleanup --ledger"));
        insta::assert_snapshot!(md);
    }

    #[test]
    fn the_mapping_profile_and_its_notes_are_listed() {
        let mut report = sample_report();
        assert!(!to_markdown(&report).contains("Mapping profile"));
        report.mappings = Some(crate::model::MappingsUsed {
            profile: "discovered".into(),
            notes: vec!["`title` is not in your /Schemas | x".into()],
        });
        let md = to_markdown(&report);
        assert!(md.contains("Mapping profile `discovered`"), "{md}");
        assert!(
            md.contains("- **mappings:** `title` is not in your /Schemas \\| x"),
            "{md}"
        );
    }

    #[test]
    fn an_interrupted_run_says_so() {
        let mut report = sample_report();
        report.summary.interrupted = true;
        report.cleanup.left_behind.clear();
        report.conclude();
        assert!(to_markdown(&report).starts_with("# scimreplay: ❌ interrupted"));
    }

    #[test]
    fn a_huge_run_stays_under_the_step_summary_limit() {
        let mut report = sample_report();
        let template = report.scenarios[1].clone();
        let big_body = "x".repeat(3_000);
        for i in 0..3_000 {
            let mut sc = template.clone();
            sc.name = format!("scenario-{i}");
            // A distinct detail per scenario (digits spelled as letters, which the signature
            // keeps): 3,000 distinct causes.
            let letters: String = i
                .to_string()
                .bytes()
                .map(|d| char::from(b'a' + (d - b'0')))
                .collect();
            if let Some(r) = sc.steps[0]
                .exchange
                .as_mut()
                .and_then(|e| e.response.as_mut())
            {
                r.json =
                    Some(serde_json::json!({"detail": format!("bad {letters}"), "x": big_body}));
            }
            report.scenarios.push(sc);
        }
        report.conclude();
        assert!(report.causes.len() > 2_000, "{}", report.causes.len());
        let md = to_markdown(&report);
        assert!(md.len() < STEP_SUMMARY_LIMIT, "{} bytes", md.len());
        assert!(
            md.contains("not shown here"),
            "the page says what it left out"
        );
    }

    #[test]
    fn fences_cannot_be_closed_from_inside() {
        let block = fenced("a ``` b");
        assert!(block.starts_with("````text\n"), "{block}");
    }
}
