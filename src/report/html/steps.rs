//! The scenario table of the HTML report: a row per scenario that opens to its steps, each
//! step to its request, response, checks, snapshot diff and `curl`.

use super::{esc, esc_line, status_name};
use crate::check::outcome::CheckOutcome;
use crate::http::exchange::{Exchange, FaultKind, ReceivedResponse, SentRequest};
use crate::model::{RunReport, ScenarioResult, SnapshotState, StepResult, StepStatus};
use crate::report::curl::curl_command;
use crate::report::detail::{cut_body, plural, retry_text};
use crate::scenario::model::Severity;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Lines of a body or diff shown before the rest is counted.
pub const BODY_LINES: usize = 300;
/// Characters of a body or diff shown (a minified body is one line).
pub const BODY_CHARS: usize = 24_000;

/// The `id` of a step's section, for links from the causes.
pub fn step_anchor(report: &RunReport, scenario: &ScenarioResult, step: &StepResult) -> String {
    let s = report
        .scenarios
        .iter()
        .position(|x| std::ptr::eq(x, scenario))
        .unwrap_or(0);
    let i = scenario
        .steps
        .iter()
        .position(|x| std::ptr::eq(x, step))
        .unwrap_or(0);
    format!("st-{s}-{i}")
}

/// The filters, then the table. Past `budget` bytes of page, steps are listed without their
/// details and the page says how many were left out.
pub fn scenarios_section(out: &mut String, report: &RunReport, budget: usize) {
    let _ = writeln!(out, "<section id=\"scenarios\">\n<h2>Scenarios</h2>");
    toolbar(out, report);
    let _ = writeln!(
        out,
        "<div class=\"table\" role=\"table\">\n<div class=\"row thead\" role=\"row\"><span>status</span>\
         <span>scenario</span><span class=\"dialect\">dialect</span><span class=\"tags\">tags</span>\
         <span class=\"num\">steps</span><span class=\"num time\">time</span></div>"
    );
    let mut left_out = 0;
    for (index, scenario) in report.scenarios.iter().enumerate() {
        left_out += scenario_row(out, index, scenario, budget);
    }
    let _ = writeln!(
        out,
        "<p class=\"empty\" id=\"none-shown\" hidden>No scenario matches the filters.</p>\n</div>"
    );
    if left_out > 0 {
        let _ = writeln!(
            out,
            "<p class=\"left-out\">The details of {} are left out to keep this page small; the \
             JSON report has them.</p>",
            plural(left_out, "step", "steps")
        );
    }
    let _ = writeln!(out, "</section>");
}

fn toolbar(out: &mut String, report: &RunReport) {
    let tags: BTreeSet<&str> = report
        .scenarios
        .iter()
        .flat_map(|s| s.tags.iter().map(String::as_str))
        .collect();
    let dialects: BTreeSet<&str> = report
        .scenarios
        .iter()
        .map(|s| s.dialect.as_str())
        .collect();
    let options = |values: &BTreeSet<&str>| -> String {
        values
            .iter()
            .map(|v| format!("<option value=\"{0}\">{0}</option>", esc_line(v)))
            .collect()
    };
    // Hidden until the script runs: without it the controls would do nothing.
    let _ = writeln!(
        out,
        "<div class=\"toolbar\" id=\"toolbar\" hidden>\n\
         <input type=\"search\" id=\"q\" placeholder=\"Search scenarios, steps, tags\" aria-label=\"search\">\n\
         <label><input type=\"checkbox\" id=\"failed-only\"> failed only</label>\n\
         <label>tag <select id=\"tag\"><option value=\"\">all</option>{}</select></label>\n\
         <label>dialect <select id=\"dialect\"><option value=\"\">all</option>{}</select></label>\n\
         <span class=\"shown\" id=\"shown\"></span>\n</div>",
        options(&tags),
        options(&dialects)
    );
}

/// One scenario's row and steps; how many step details were left out for the budget.
fn scenario_row(out: &mut String, index: usize, scenario: &ScenarioResult, budget: usize) -> usize {
    let status = scenario.status();
    let searchable = std::iter::once(scenario.name.as_str())
        .chain([scenario.summary.as_str(), scenario.file.as_str()])
        .chain(scenario.tags.iter().map(String::as_str))
        .chain(scenario.steps.iter().map(|s| s.id.as_str()))
        .chain(scenario.steps.iter().filter_map(|s| s.cause.as_deref()))
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let chips: String = scenario
        .tags
        .iter()
        .map(|t| format!("<span class=\"chip\">{}</span>", esc_line(t)))
        .collect();
    let _ = writeln!(
        out,
        "<details class=\"sc\" id=\"sc-{index}\" data-status=\"{}\" data-dialect=\"{}\" \
         data-tags=\"{}\" data-text=\"{}\">",
        status_name(status),
        scenario.dialect.as_str(),
        esc_line(&scenario.tags.join(" ")),
        esc_line(&searchable)
    );
    let _ = writeln!(
        out,
        "<summary class=\"row\" role=\"row\"><span>{}</span><span class=\"name\">{}<small>{}</small></span>\
         <span class=\"dialect mono\">{}</span><span class=\"tags\">{chips}</span>\
         <span class=\"num\">{}</span><span class=\"num time\">{:.2} s</span></summary>",
        pill(status),
        esc_line(&scenario.name),
        esc_line(&scenario.summary),
        scenario.dialect.as_str(),
        scenario.steps.len(),
        scenario.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(out, "<div class=\"sc-body\">");
    let _ = writeln!(
        out,
        "<p class=\"muted\">{} · snapshot {}</p>",
        esc_line(&scenario.file),
        snapshot_text(scenario)
    );
    if let Some(rerun) = &scenario.rerun {
        let said = if rerun.cleared {
            "passed when run again alone: the failure shows only under concurrency"
        } else {
            "failed again when run alone"
        };
        let _ = writeln!(out, "<p>Rerun: {said}.</p>");
    }
    let mut left_out = 0;
    for (i, step) in scenario.steps.iter().enumerate() {
        let full = out.len() < budget;
        step_section(out, scenario, step, &format!("st-{index}-{i}"), full);
        left_out += usize::from(!full);
    }
    let _ = writeln!(out, "</div>\n</details>");
    left_out
}

fn snapshot_text(scenario: &ScenarioResult) -> String {
    let state = match scenario.snapshot.state {
        SnapshotState::Matched => "matched",
        SnapshotState::New => "new (written as the baseline)",
        SnapshotState::Missing => "missing (none in the baseline)",
        SnapshotState::Mismatch => "differs from the baseline",
        SnapshotState::Updated => "updated",
        SnapshotState::Skipped => "not compared",
    };
    match &scenario.snapshot.path {
        Some(path) => format!("{state}: <code>{}</code>", esc_line(path)),
        None => state.to_string(),
    }
}

fn pill(status: StepStatus) -> String {
    format!(
        "<span class=\"pill {}\">{}</span>",
        status_name(status),
        status.label()
    )
}

fn step_section(
    out: &mut String,
    scenario: &ScenarioResult,
    step: &StepResult,
    id: &str,
    full: bool,
) {
    let mut class = String::from("step");
    if matches!(step.status, StepStatus::Failed | StepStatus::Errored) {
        class.push_str(" failing");
    }
    if step.snapshot_diff.is_some() && full {
        class.push_str(" has-diff");
    }
    let _ = write!(
        out,
        "<details class=\"{class}\" id=\"{id}\" data-status=\"{}\"><summary>{}<b>{}</b>",
        status_name(step.status),
        pill(step.status),
        esc_line(&step.id)
    );
    if let Some(exchange) = &step.exchange {
        let answer = match (&exchange.response, &exchange.fault) {
            (Some(r), _) => r.status.to_string(),
            (None, Some(f)) if f.kind == FaultKind::Refused => "not sent".into(),
            (None, _) => "no response".into(),
        };
        let _ = write!(
            out,
            "<span class=\"req\">{} {} → {answer}</span>",
            esc_line(&exchange.request.method),
            esc_line(&exchange.request.path)
        );
    }
    if let Some(cause) = step.cause.as_deref().or(step.consequence_of.as_deref()) {
        let _ = write!(
            out,
            "<a class=\"chip cause\" href=\"#{0}\">{0}</a>",
            esc_line(cause)
        );
    }
    let _ = writeln!(out, "</summary>\n<div class=\"step-body\">");
    step_notes(out, step);
    if full {
        step_detail(out, scenario, step);
    } else {
        let _ = writeln!(
            out,
            "<p class=\"left-out\">Left out (size limit): see the JSON report.</p>"
        );
    }
    let _ = writeln!(out, "</div></details>");
}

fn step_notes(out: &mut String, step: &StepResult) {
    if let Some(note) = &step.note {
        let _ = writeln!(out, "<p class=\"muted\">{}</p>", esc(note));
    }
    if let Some(reason) = &step.skipped_because {
        let _ = writeln!(out, "<p>Skipped: {}</p>", esc(reason));
    }
    if let Some(fallback) = step.fallback {
        let _ = writeln!(out, "<p>Setup: {}</p>", esc(fallback.label()));
    }
    if let Some(cause) = &step.consequence_of {
        let _ = writeln!(
            out,
            "<p>A consequence of <a href=\"#{0}\">{0}</a>: an earlier step failed.</p>",
            esc_line(cause)
        );
    }
}

fn step_detail(out: &mut String, scenario: &ScenarioResult, step: &StepResult) {
    if let Some(exchange) = &step.exchange {
        // Side by side on a wide screen: what was sent beside what came back.
        out.push_str("<div class=\"exchange\"><div>");
        request(out, &exchange.request);
        out.push_str("</div><div>");
        response(out, exchange);
        out.push_str("</div></div>\n");
    }
    if !step.checks.is_empty() {
        checks(out, &step.checks);
    }
    if let Some(diff) = &step.snapshot_diff {
        let which = scenario.snapshot.path.as_deref().unwrap_or("the baseline");
        let _ = writeln!(
            out,
            "<h3>Snapshot diff against <code>{}</code></h3>",
            esc_line(which)
        );
        diff_block(out, diff);
    }
    let curl = step
        .curl
        .clone()
        .or_else(|| step.exchange.as_ref().map(|e| curl_command(&e.request)));
    if let Some(curl) = curl {
        let _ = writeln!(out, "<h3>Reproduce</h3>\n<pre>{}</pre>", esc(&curl));
    }
}

fn request(out: &mut String, request: &SentRequest) {
    let _ = writeln!(out, "<h3>Request</h3>");
    let mut text = format!("{} {}\n", request.method, escape_line(&request.url));
    push_headers(&mut text, &request.headers);
    if let Some(body) = &request.body {
        let parsed = serde_json::from_str::<serde_json::Value>(body).ok();
        push_body(&mut text, body, parsed.as_ref());
    }
    let _ = writeln!(out, "<pre>{}</pre>", esc(&text));
}

fn response(out: &mut String, exchange: &Exchange) {
    let _ = writeln!(out, "<h3>Response</h3>");
    let Some(r) = &exchange.response else {
        let text = match &exchange.fault {
            Some(f) if f.kind == FaultKind::Refused => format!("not sent\n{}", f.message),
            Some(f) => format!(
                "no response\n{}\nEntra logs the same failure as {}",
                f.message,
                f.kind.entra_code()
            ),
            None => "none recorded".to_string(),
        };
        let _ = writeln!(out, "<pre>{}</pre>", esc(&text));
        return;
    };
    let mut text = format!("{} ({} ms", r.status, r.elapsed_ms);
    if !exchange.retries.is_empty() {
        let _ = write!(text, ", {}", retry_text(&exchange.retries));
    }
    text.push_str(")\n");
    if let Some(stopped) = &exchange.retry_stopped {
        let _ = writeln!(text, "{stopped}");
    }
    push_headers(&mut text, &r.headers);
    response_body(&mut text, r);
    let _ = writeln!(out, "<pre>{}</pre>", esc(&text));
}

fn response_body(text: &mut String, r: &ReceivedResponse) {
    if r.body.is_empty() {
        text.push_str("\n(empty body)\n");
        return;
    }
    // A large body keeps only its text once judged; the accessor parses it again.
    let json = r.json_value();
    push_body(text, &r.body, json.as_deref());
    if let Some(problem) = &r.body_problem {
        let _ = writeln!(text, "(not JSON: {problem})");
    }
    if r.truncated {
        text.push_str("(body cut at the response size cap)\n");
    }
}

fn push_headers(text: &mut String, headers: &[(String, String)]) {
    for (name, value) in headers {
        let _ = writeln!(text, "{}: {}", escape_line(name), escape_line(value));
    }
}

/// A blank line and the body, pretty when it is JSON, cut to [`BODY_LINES`]/[`BODY_CHARS`].
fn push_body(text: &mut String, raw: &str, json: Option<&serde_json::Value>) {
    let pretty = json
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .unwrap_or_else(|| raw.to_string());
    let (shown, cut) = cut_body(&pretty, BODY_LINES, BODY_CHARS);
    text.push('\n');
    text.push_str(&shown);
    if let Some(cut) = cut {
        let _ = writeln!(text, "{cut}");
    }
}

fn escape_line(text: &str) -> String {
    crate::escape::line(text).into_owned()
}

fn checks(out: &mut String, checks: &[CheckOutcome]) {
    let _ = writeln!(
        out,
        "<h3>Checks</h3>\n<table class=\"checks\"><thead><tr><th></th><th>check</th>\
         <th>expected</th><th>actual</th></tr></thead><tbody>"
    );
    // Failed first, worst first; passed ones after, in their order.
    let mut ordered: Vec<&CheckOutcome> = checks.iter().filter(|c| !c.passed).collect();
    ordered.sort_by_key(|c| std::cmp::Reverse(c.severity == Severity::Fail));
    ordered.extend(checks.iter().filter(|c| c.passed));
    for check in ordered {
        let warn = check.severity == Severity::Warn;
        let (row, mark) = match (check.passed, warn) {
            (true, _) => ("ok", "<span class=\"mark ok\">✓</span>"),
            (false, false) => ("bad", "<span class=\"mark bad\">✗</span>"),
            (false, true) => ("bad warn", "<span class=\"mark warn\">!</span>"),
        };
        let severity = if warn {
            " <span class=\"chip\">warning</span>"
        } else {
            ""
        };
        let impact = check
            .impact
            .as_ref()
            .filter(|_| !check.passed)
            .map(|i| format!("<div class=\"impact\">impact: {}</div>", esc(i)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr class=\"{row}\"><td>{mark}</td><td><b>{}</b>{severity}{impact}</td>\
             <td class=\"v\">{}</td><td class=\"v actual\">{}</td></tr>",
            esc_line(&check.check),
            esc(&check.expected),
            esc(&check.actual)
        );
    }
    let _ = writeln!(out, "</tbody></table>");
}

/// A unified diff, a `<span>` per line: removed red, added green, hunk headers blue.
fn diff_block(out: &mut String, diff: &str) {
    let (shown, cut) = cut_body(diff, BODY_LINES, BODY_CHARS);
    out.push_str("<pre class=\"diff\">");
    for line in shown.lines() {
        let class = if line.starts_with("+++") || line.starts_with("---") {
            "file"
        } else if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else if line.starts_with("@@") {
            "hunk"
        } else {
            "ctx"
        };
        let _ = write!(out, "<span class=\"{class}\">{}\n</span>", esc(line));
    }
    if let Some(cut) = cut {
        let _ = write!(out, "<span class=\"ctx\">{}\n</span>", esc(&cut));
    }
    let _ = writeln!(out, "</pre>");
}
