//! The detail block of one step: the request as sent, the answer, each failed check with
//! its Entra impact, the snapshot diff and a `curl` that reproduces it.
//!
//! The terminal prints it under a failing scenario; JUnit puts the plain version in the
//! failure text, so a CI page shows the same thing a developer sees locally.

use crate::check::outcome::CheckOutcome;
use crate::escape;
use crate::http::exchange::{Exchange, FaultKind, ReceivedResponse, SentRequest};
use crate::model::{ScenarioResult, StepResult, StepStatus};
use crate::report::curl::curl_command;
use crate::report::styles::Styles;
use crate::scenario::model::Severity;
use std::fmt::Write as _;

/// Bodies longer than this many lines are cut; the rest is counted, not shown.
pub const MAX_BODY_LINES: usize = 40;
/// Bodies longer than this many characters are cut (a minified or HTML body is one line).
pub const MAX_BODY_CHARS: usize = 4_000;
/// A check fits on one line when expected and actual together are at most this long.
const ONE_LINE_CHECK: usize = 100;

/// Base indentation of a detail block, under the scenario line.
const INDENT: &str = "    ";
/// Indentation of the content of a section.
const INNER: &str = "      ";

/// `text` painted in the colour of `status`.
pub fn paint_status(styles: Styles, status: StepStatus, text: &str) -> String {
    match status {
        StepStatus::Passed => styles.pass(text),
        StepStatus::Warned | StepStatus::Drift => styles.warn(text),
        StepStatus::Skipped => styles.dim(text),
        StepStatus::Failed | StepStatus::Errored => styles.fail(text),
    }
}

/// How much of a body a detail block shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bodies {
    /// Cut to [`MAX_BODY_LINES`] lines (reports, CI pages).
    Cut,
    /// Cut to [`SHORT_BODY_LINES`] lines, with a pointer to `-v` (the terminal's example of a
    /// cause).
    Short,
    /// Whole, up to the character cap (`-v`).
    Full,
}

/// Lines of a body shown in a cause's example on the terminal.
pub const SHORT_BODY_LINES: usize = 24;

/// The whole detail block of `step` (ends with a newline), bodies cut for a report.
pub fn step_detail(scenario: &ScenarioResult, step: &StepResult, styles: Styles) -> String {
    step_detail_with(scenario, step, styles, Bodies::Cut)
}

/// The whole detail block of `step`, bodies shown as `bodies` says.
pub fn step_detail_with(
    scenario: &ScenarioResult,
    step: &StepResult,
    styles: Styles,
    bodies: Bodies,
) -> String {
    let mut out = String::new();
    let header = format!("{} › {}", scenario.name, step.id);
    let _ = writeln!(
        out,
        "{INDENT}{} {}",
        paint_status(styles, step.status, step.status.label()),
        styles.bold(&header)
    );
    if let Some(note) = &step.note {
        let _ = writeln!(out, "{INDENT}{}", styles.dim(&escape::text(note)));
    }
    if let Some(reason) = &step.skipped_because {
        let _ = writeln!(out, "{INDENT}skipped: {reason}");
    }
    if let Some(fallback) = step.fallback {
        let _ = writeln!(out, "{INDENT}setup: {}", fallback.label());
    }
    if let Some(exchange) = &step.exchange {
        push_exchange(&mut out, exchange, styles, bodies);
    }
    for check in step.failed_checks() {
        out.push_str(&check_line(check, INDENT, styles));
    }
    if let Some(diff) = &step.snapshot_diff {
        let which = scenario.snapshot.path.as_deref().unwrap_or("the baseline");
        let _ = writeln!(
            out,
            "{INDENT}snapshot diff against {}:",
            styles.accent(which)
        );
        out.push_str(&diff_lines(diff, INNER, styles));
    }
    let curl = step
        .curl
        .clone()
        .or_else(|| step.exchange.as_ref().map(|e| curl_command(&e.request)));
    if let Some(curl) = curl {
        let _ = writeln!(out, "{INDENT}reproduce:");
        for line in curl.lines() {
            let _ = writeln!(out, "{INNER}{}", styles.accent(line));
        }
    }
    out
}

/// The request and the answer (or why there is none).
fn push_exchange(out: &mut String, exchange: &Exchange, styles: Styles, bodies: Bodies) {
    push_request(out, &exchange.request, styles, bodies);
    match (&exchange.response, &exchange.fault) {
        (Some(response), _) => push_response(out, response, exchange, styles, bodies),
        (None, Some(fault)) => {
            let what = match fault.kind {
                FaultKind::Refused => "not sent",
                _ => "no response",
            };
            let _ = writeln!(out, "{INDENT}response: {}", styles.fail(what));
            let _ = writeln!(out, "{INNER}{}", escape::line(&fault.message));
            if fault.kind != FaultKind::Refused {
                let code = fault.kind.entra_code();
                let hedge = if fault.kind.entra_code_documented() {
                    ""
                } else {
                    " [inferred]"
                };
                let line = format!("Entra logs the same failure as {code}{hedge}");
                let _ = writeln!(out, "{INNER}{}", styles.impact(&line));
            }
        }
        (None, None) => {
            let _ = writeln!(out, "{INDENT}response: {}", styles.fail("none recorded"));
        }
    }
}

fn push_request(out: &mut String, request: &SentRequest, styles: Styles, bodies: Bodies) {
    let _ = writeln!(out, "{INDENT}request:");
    let line = format!("{} {}", request.method, escape::line(&request.url));
    let _ = writeln!(out, "{INNER}{}", styles.bold(&line));
    push_headers(out, &request.headers, styles);
    if let Some(body) = &request.body {
        let parsed = serde_json::from_str::<serde_json::Value>(body).ok();
        push_body(out, body, parsed.as_ref(), &[], bodies);
    }
}

fn push_response(
    out: &mut String,
    response: &ReceivedResponse,
    exchange: &Exchange,
    styles: Styles,
    bodies: Bodies,
) {
    let mut timing = format!("{}ms", response.elapsed_ms);
    if !exchange.retries.is_empty() {
        let _ = write!(timing, ", {}", retry_text(&exchange.retries));
    }
    let _ = writeln!(
        out,
        "{INDENT}response: {} {}",
        styles.bold(&response.status.to_string()),
        styles.dim(&format!("({timing})"))
    );
    if let Some(stopped) = &exchange.retry_stopped {
        let _ = writeln!(out, "{INNER}{}", styles.warn(stopped));
    }
    push_headers(out, &response.headers, styles);
    let mut notes = Vec::new();
    if let Some(problem) = &response.body_problem {
        notes.push(format!("(not JSON: {problem})"));
    }
    if response.truncated {
        notes.push("(body cut at the response size cap)".to_string());
    }
    if response.body.is_empty() {
        let _ = writeln!(out, "{INNER}{}", styles.dim("(empty body)"));
    } else {
        let json = response.json_value();
        push_body(out, &response.body, json.as_deref(), &notes, bodies);
    }
}

/// `after 2 retries on 429 (waited 1s, 2s)`.
pub fn retry_text(retries: &[u64]) -> String {
    let waits: Vec<String> = retries.iter().map(|s| format!("{s}s")).collect();
    format!(
        "after {} on 429 (waited {})",
        plural(retries.len(), "retry", "retries"),
        waits.join(", ")
    )
}

fn push_headers(out: &mut String, headers: &[(String, String)], styles: Styles) {
    for (name, value) in headers {
        let _ = writeln!(
            out,
            "{INNER}{}: {}",
            styles.dim(&escape::line(name)),
            escape::line(value)
        );
    }
}

/// A blank line, then the body (pretty when it is JSON), cut to a readable size.
fn push_body(
    out: &mut String,
    raw: &str,
    json: Option<&serde_json::Value>,
    notes: &[String],
    bodies: Bodies,
) {
    let pretty = json
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .unwrap_or_else(|| raw.to_string());
    let pretty = escape::text(&pretty);
    out.push('\n');
    let lines = match bodies {
        Bodies::Cut => MAX_BODY_LINES,
        Bodies::Short => SHORT_BODY_LINES,
        Bodies::Full => usize::MAX,
    };
    let (shown, cut) = cut_body(&pretty, lines, MAX_BODY_CHARS);
    for line in shown.lines() {
        let _ = writeln!(out, "{INNER}{line}");
    }
    if let Some(cut) = cut {
        let hint = if bodies == Bodies::Short {
            ", -v for all"
        } else {
            ""
        };
        let _ = writeln!(out, "{INNER}{cut}{hint}");
    }
    for note in notes {
        let _ = writeln!(out, "{INNER}{note}");
    }
}

/// The first `max_lines` lines and at most `max_chars` characters of `text`, and a note
/// saying how much was left out.
pub fn cut_body(text: &str, max_lines: usize, max_chars: usize) -> (String, Option<String>) {
    let total_lines = text.lines().count();
    let mut shown = String::new();
    let mut used = 0;
    for (index, line) in text.lines().take(max_lines).enumerate() {
        let len = line.chars().count();
        if used + len > max_chars {
            shown.extend(line.chars().take(max_chars - used));
            shown.push('\n');
            let hidden = text.chars().count().saturating_sub(max_chars + index);
            return (shown, Some(format!("… cut, {hidden} more characters")));
        }
        shown.push_str(line);
        shown.push('\n');
        used += len;
    }
    let rest = total_lines.saturating_sub(max_lines);
    let note = (rest > 0).then(|| format!("… {}", plural(rest, "more line", "more lines")));
    (shown, note)
}

/// `✗ <check>  expected: …  actual: …` and its impact, at `indent`; `!` for a warning.
pub fn check_line(check: &CheckOutcome, indent: &str, styles: Styles) -> String {
    let name = styles.bold(&check.check);
    let (mark, suffix, paint): (String, String, fn(Styles, &str) -> String) = match check.severity {
        Severity::Fail => (styles.fail("✗"), String::new(), Styles::fail),
        Severity::Warn => (
            styles.warn("!"),
            format!("  {}", styles.dim("(warning)")),
            Styles::warn,
        ),
    };
    let mut out = String::new();
    let (expected, actual) = (escape::text(&check.expected), escape::text(&check.actual));
    let single = !expected.contains('\n')
        && !actual.contains('\n')
        && expected.len() + actual.len() <= ONE_LINE_CHECK;
    if single {
        let _ = writeln!(
            out,
            "{indent}{mark} {name}  expected: {expected}  actual: {}{suffix}",
            paint(styles, &actual)
        );
    } else {
        let more = format!("{indent}    ");
        let _ = writeln!(out, "{indent}{mark} {name}{suffix}");
        let _ = writeln!(out, "{more}expected: {}", continued(&expected, &more, 10));
        let actual = continued(&actual, &more, 10);
        let _ = writeln!(out, "{more}actual:   {}", paint(styles, &actual));
    }
    if let Some(impact) = &check.impact {
        let line = format!("impact: {impact}");
        let _ = writeln!(out, "{indent}  {}", styles.impact(&line));
    }
    out
}

/// Multi-line `text` with every line after the first indented to sit under the first.
fn continued(text: &str, indent: &str, label_width: usize) -> String {
    let pad = format!("\n{indent}{}", " ".repeat(label_width));
    text.lines().collect::<Vec<_>>().join(&pad)
}

/// A unified diff with removed lines red and added lines green.
pub fn diff_lines(diff: &str, indent: &str, styles: Styles) -> String {
    let mut out = String::new();
    for line in diff.lines() {
        let painted = if line.starts_with("+++") || line.starts_with("---") {
            styles.bold(line)
        } else if line.starts_with('+') {
            styles.added(line)
        } else if line.starts_with('-') {
            styles.removed(line)
        } else if line.starts_with("@@") {
            styles.accent(line)
        } else {
            line.to_string()
        };
        let _ = writeln!(out, "{indent}{painted}");
    }
    out
}

/// `1 thing`, `2 things`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;

    #[test]
    fn short_bodies_are_shown_whole() {
        let (shown, note) = cut_body("a\nb\n", 40, 4000);
        assert_eq!(shown, "a\nb\n");
        assert_eq!(note, None);
    }

    #[test]
    fn long_bodies_are_cut_by_lines_and_counted() {
        let text: String = (0..50).map(|i| format!("line {i}\n")).collect();
        let (shown, note) = cut_body(&text, 40, 4000);
        assert_eq!(shown.lines().count(), 40);
        assert_eq!(note.as_deref(), Some("… 10 more lines"));
    }

    #[test]
    fn one_huge_line_is_cut_by_characters_on_a_char_boundary() {
        let text = "é".repeat(5000);
        let (shown, note) = cut_body(&text, 40, 4000);
        assert_eq!(shown.trim_end().chars().count(), 4000);
        assert_eq!(note.as_deref(), Some("… cut, 1000 more characters"));
    }

    #[test]
    fn long_expected_and_actual_go_on_their_own_lines() {
        let check = CheckOutcome {
            check: "json /members".into(),
            severity: Severity::Fail,
            passed: false,
            expected: "[\n  1\n]".into(),
            actual: "null".into(),
            impact: None,
        };
        let text = check_line(&check, "", Styles::plain());
        assert_eq!(
            text,
            "✗ json /members\n    expected: [\n                1\n              ]\n    actual:   null\n"
        );
    }

    #[test]
    fn diff_colours_only_added_and_removed_lines() {
        let text = diff_lines("@@ -1 +1 @@\n a\n-b\n+c\n", "", Styles::colored());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("\x1b["), "hunk header painted");
        assert_eq!(lines[1], " a");
        assert_eq!(lines[2], "\x1b[31m-b\x1b[0m");
        assert_eq!(lines[3], "\x1b[32m+c\x1b[0m");
    }

    #[test]
    fn block_of_a_failed_step_has_every_part() {
        let report = sample_report();
        let scenario = &report.scenarios[1];
        let text = step_detail(scenario, &scenario.steps[0], Styles::plain());
        for part in [
            "FAIL user-create-string-active › create",
            "request:",
            "Authorization: Bearer [redacted]",
            "\"active\": \"True\"",
            "response: 400",
            "✗ status  expected: 201  actual: 400",
            "impact: the user is not created",
            "! scim.content-type",
            "-201 Created",
            "reproduce:",
            "$SCIMREPLAY_TOKEN",
        ] {
            assert!(text.contains(part), "missing {part:?} in\n{text}");
        }
    }
}
