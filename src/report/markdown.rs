//! The Markdown report: a page a person reads (a CI job summary, a release checklist), a pure
//! function of the `RunReport`.

use super::detail::step_detail;
use super::styles::Styles;
use crate::model::{RunReport, StepStatus};
use std::fmt::Write;

/// Renders the whole run as GitHub-flavoured Markdown.
pub fn to_markdown(report: &RunReport) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let verdict = if s.failed + s.errored > 0 || !report.cleanup.left_behind.is_empty() {
        "❌ failed"
    } else if s.drift > 0 || s.snapshots_mismatched > 0 {
        "⚠️ behaviour drifted from the baseline"
    } else {
        "✅ passed"
    };
    let _ = writeln!(out, "# scimreplay: {verdict}\n");
    let _ = writeln!(
        out,
        "Target `{}` · baseline `{}` · run `{}` · {} · {}\n",
        report.target, report.baseline, report.run_id, report.started_at, report.tool
    );
    let _ = writeln!(
        out,
        "| scenarios | steps | passed | warned | drift | failed | errored | skipped | requests | time |"
    );
    let _ = writeln!(
        out,
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} s |\n",
        s.scenarios,
        s.steps,
        s.passed,
        s.warned,
        s.drift,
        s.failed,
        s.errored,
        s.skipped,
        s.requests,
        report.duration_ms as f64 / 1000.0
    );
    let attention: Vec<_> = report
        .scenarios
        .iter()
        .filter(|sc| sc.status() > StepStatus::Passed)
        .collect();
    if !attention.is_empty() {
        let _ = writeln!(out, "## Needs attention\n");
        let _ = writeln!(out, "| scenario | dialect | status | steps | summary |");
        let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
        for sc in &attention {
            let bad: Vec<&str> = sc
                .steps
                .iter()
                .filter(|st| st.status > StepStatus::Passed)
                .map(|st| st.id.as_str())
                .collect();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                sc.name,
                sc.dialect,
                sc.status().label(),
                bad.join(", "),
                cell(&sc.summary)
            );
        }
        let _ = writeln!(out);
        for sc in &attention {
            for step in sc.steps.iter().filter(|st| {
                matches!(
                    st.status,
                    StepStatus::Failed | StepStatus::Errored | StepStatus::Drift
                )
            }) {
                let _ = writeln!(
                    out,
                    "<details><summary><code>{} › {}</code>: {}</summary>\n",
                    sc.name,
                    step.id,
                    step.status.label()
                );
                let _ = writeln!(
                    out,
                    "```text\n{}```\n</details>\n",
                    step_detail(sc, step, Styles::plain())
                );
            }
        }
    }
    let c = &report.cleanup;
    let _ = writeln!(
        out,
        "Cleanup: {} deleted, {} already gone, {} left behind.",
        c.deleted.len(),
        c.already_gone.len(),
        c.left_behind.len()
    );
    for left in &c.left_behind {
        let _ = writeln!(out, "- `{}`: {}", left.path, cell(&left.reason));
    }
    if !c.left_behind.is_empty() {
        let _ = writeln!(
            out,
            "\nFinish with `{}`.",
            crate::report::curl::cleanup_command(&c.ledger, &c.target)
        );
    }
    let passed: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|sc| sc.status() == StepStatus::Passed)
        .map(|sc| sc.name.as_str())
        .collect();
    if !passed.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>{} scenarios passed</summary>\n",
            passed.len()
        );
        for name in passed {
            let _ = writeln!(out, "- `{name}`");
        }
        let _ = writeln!(out, "\n</details>");
    }
    // Whatever an endpoint sent ends up here too; a Markdown viewer in a terminal must not
    // act on it.
    crate::escape::text(&out).into_owned()
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;

    #[test]
    fn markdown_lists_what_needs_attention_with_details() {
        let md = to_markdown(&sample_report());
        assert!(md.starts_with("# scimreplay: ❌ failed"), "{md}");
        assert!(md.contains("## Needs attention"));
        assert!(md.contains("<details><summary><code>"));
        assert!(
            md.contains("impact:"),
            "failed checks carry their Entra impact:\n{md}"
        );
        assert!(md.contains("scimreplay cleanup --ledger"));
        insta::assert_snapshot!(md);
    }
}
