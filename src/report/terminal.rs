//! The human report: one line per finished scenario as it finishes, the detail of every
//! step that needs attention under it, then cleanup, snapshot notes and a summary line.
//!
//! Generic over the writer and given a `Styles` value, so tests render plain text into a
//! `Vec<u8>` and the CLI decides about colour once.

use crate::model::{
    CleanupReport, RunReport, ScenarioResult, SnapshotState, StepResult, StepStatus, Summary,
};
use crate::model::{PreflightResult, Verdict};
use crate::report::causes;
use crate::report::curl::cleanup_command;
use crate::report::detail::{
    Bodies, MAX_BODY_CHARS, MAX_BODY_LINES, cut_body, diff_lines, paint_status, plural, retry_text,
    step_detail_with,
};
use crate::report::event::{ReportError, Reporter, RunEvent, RunStarted, replay};
use crate::report::styles::Styles;
use std::io::{self, Write};
use std::path::Path;

/// How the terminal report looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TerminalOptions {
    pub styles: Styles,
    /// Show every step's exchange, not only those of failing steps.
    pub verbose: bool,
}

/// Writes the human report for each event to `out`.
pub struct TerminalReporter<W> {
    out: W,
    options: TerminalOptions,
}

impl<W: Write> TerminalReporter<W> {
    pub fn new(out: W, options: TerminalOptions) -> TerminalReporter<W> {
        TerminalReporter { out, options }
    }

    /// The writer back, e.g. the buffer a test rendered into.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes what `event` means for a reader and flushes, so live output appears as the
    /// run goes.
    pub fn write_event(&mut self, event: &RunEvent) -> io::Result<()> {
        let text = match event {
            RunEvent::RunStarted(started) => self.run_started(started),
            RunEvent::ScenarioFinished(scenario) => self.scenario(scenario),
            RunEvent::Notice(message) => {
                format!("{}\n", self.styles().dim(&format!("note: {message}")))
            }
            RunEvent::Interrupted => format!(
                "{}\n",
                self.styles().warn(
                    "interrupted: no new steps start; cleanup still runs (Ctrl-C again to skip it)"
                )
            ),
            RunEvent::CleanupStarted { objects } => format!(
                "{}\n",
                self.styles().dim(&format!(
                    "cleanup: deleting {} created by this run",
                    plural(*objects, "object", "objects")
                ))
            ),
            RunEvent::CleanupFinished(cleanup) => cleanup_lines(cleanup, self.styles()),
            RunEvent::RunFinished(report) => self.run_finished(report),
        };
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    fn styles(&self) -> Styles {
        self.options.styles
    }

    fn run_started(&self, started: &RunStarted) -> String {
        let s = self.styles();
        let jobs = match started.jobs {
            0 => String::new(),
            n => format!(", {}", plural(n, "job", "jobs")),
        };
        format!(
            "{} {} against {} (baseline {}, prefix {}{jobs})\n",
            s.bold("scimreplay:"),
            plural(started.scenarios, "scenario", "scenarios"),
            s.accent(&started.target),
            started.baseline,
            started.prefix,
        )
    }

    /// The scenario line, then what its steps need to show.
    fn scenario(&self, scenario: &ScenarioResult) -> String {
        let s = self.styles();
        let status = scenario.status();
        let label = format!("{:>7}", status.label());
        let mut out = format!(
            "{} [{:>6}] {} ({}) {}\n",
            paint_status(s, status, &label),
            duration(scenario.duration_ms),
            s.bold(&scenario.name),
            scenario.dialect,
            scenario_tail(scenario)
        );
        // Blank lines set detail blocks apart from the one-line entries around them.
        let mut after_block = false;
        let mut skips_shown = 0;
        for (i, step) in scenario.steps.iter().enumerate() {
            let block = step.status != StepStatus::Skipped && self.options.verbose;
            if block || after_block {
                out.push('\n');
            }
            after_block = block;
            if block {
                out.push_str(&step_detail_with(scenario, step, s, Bodies::Full));
            } else if step.status == StepStatus::Skipped {
                if i >= skips_shown {
                    let (line, run) = skip_line(&scenario.steps[i..]);
                    skips_shown = i + run;
                    out.push_str(&format!("      {} {}\n", s.dim("SKIP"), s.dim(&line)));
                }
            } else if step.status != StepStatus::Passed {
                out.push_str(&step_line(step, s));
            }
            // A throttled step that passed on retry still says so: CI should see the waits.
            if let Some(exchange) = step
                .exchange
                .as_ref()
                .filter(|e| !block && !e.retries.is_empty())
            {
                let line = format!(
                    "{}: 429 Too Many Requests, {}",
                    step.id,
                    retry_text(&exchange.retries)
                );
                out.push_str(&format!("      {} {}\n", s.dim("RETRY"), s.dim(&line)));
            }
        }
        if after_block {
            out.push('\n');
        }
        out
    }

    /// The preflight's stop, the ranked causes, snapshot notes, the summary and the verdict.
    fn run_finished(&self, report: &RunReport) -> String {
        let s = self.styles();
        let mut out = String::new();
        if let Some(preflight) = report
            .preflight
            .as_ref()
            .filter(|p| p.result != PreflightResult::Passed)
        {
            out.push_str(&causes::preflight_lines(preflight, s));
        }
        let bodies = if self.options.verbose {
            Bodies::Full
        } else {
            Bodies::Short
        };
        out.push_str(&rerun_lines(report, s));
        out.push_str(&causes::section(report, s, bodies));
        let notes = snapshot_notes(report, s);
        if !notes.is_empty() {
            out.push('\n');
            out.push_str(&notes);
        }
        // After an interrupt, the scenarios it cut short are one fact, not dozens of lines.
        let not_run = report
            .scenarios
            .iter()
            .filter(|sc| report.summary.interrupted && sc.status() == StepStatus::Skipped)
            .count();
        if not_run > 0 {
            let line = format!(
                "{} not finished: the run was interrupted",
                plural(not_run, "scenario", "scenarios")
            );
            out.push_str(&format!("\n{}\n", s.warn(&line)));
        }
        out.push('\n');
        out.push_str(&summary_line(report, s));
        out.push('\n');
        if report.verdict != Verdict::Passed {
            let code = crate::exit::Outcome::from(report.verdict).code();
            let line = format!("result: {} (exit {code})", report.verdict.label());
            out.push_str(&format!("{}\n", s.fail(&line)));
        }
        out
    }
}

/// What running the scenarios that failed with a 5xx or a timeout again alone showed: they
/// ran after their first result was printed, so it is said here, once per scenario.
fn rerun_lines(report: &RunReport, s: Styles) -> String {
    let mut out = String::new();
    for scenario in &report.scenarios {
        let Some(rerun) = &scenario.rerun else {
            continue;
        };
        let all_passed = (0..rerun.statuses.len()).all(|i| rerun.passed_alone(i));
        let what = if rerun.cleared && all_passed {
            "passed when run again alone: its failure shows only under concurrency"
        } else if rerun.cleared {
            "run again alone: the 5xx or timeout did not come back (only under concurrency), \
             other steps still fail"
        } else {
            "failed again when run alone: not a concurrency effect"
        };
        out.push_str(&format!(
            "  {} {} {what}\n",
            s.dim("RERUN"),
            s.bold(&scenario.name)
        ));
    }
    if !out.is_empty() {
        out.insert(0, '\n');
    }
    out
}

/// One line for a step that did not pass: its status, id and the cause it belongs to.
fn step_line(step: &StepResult, s: Styles) -> String {
    let label = paint_status(s, step.status, step.status.label());
    let tail = match (&step.cause, &step.consequence_of) {
        (_, Some(cause)) => format!("consequence of [{cause}]"),
        (Some(cause), None) => {
            let first = step
                .failed_checks()
                .next()
                .map(|c| format!(": {}", c.check))
                .unwrap_or_default();
            format!("[{cause}]{first}")
        }
        (None, None) if step.status == StepStatus::Drift => "snapshot differs".to_string(),
        (None, None) => String::new(),
    };
    let tail = match step.fallback {
        Some(f) => format!("{tail} ({})", f.label()),
        None => tail,
    };
    let mut out = format!("      {label} {} {}\n", step.id, s.dim(tail.trim_start()));
    if let Some(diff) = step.snapshot_diff.as_deref() {
        let (shown, cut) = cut_body(diff, MAX_BODY_LINES, MAX_BODY_CHARS);
        out.push_str(&diff_lines(&shown, "        ", s));
        if let Some(cut) = cut {
            out.push_str(&format!("        {cut}, -v for all\n"));
        }
    }
    out
}

impl<W: Write> Reporter for TerminalReporter<W> {
    fn handle(&mut self, event: &RunEvent) -> Result<(), ReportError> {
        self.write_event(event).map_err(ReportError::Write)
    }
}

/// The report a finished run would have printed live; for a saved report and for tests.
pub fn render_report(
    report: &RunReport,
    options: TerminalOptions,
    out: impl Write,
) -> io::Result<()> {
    let mut reporter = TerminalReporter::new(out, options);
    for event in replay(report, 0) {
        reporter.write_event(&event)?;
    }
    Ok(())
}

/// `3 steps`, `1/2 steps passed, 1 skipped, snapshot differs`.
fn scenario_tail(scenario: &ScenarioResult) -> String {
    let total = scenario.steps.len();
    let count = |want: StepStatus| scenario.steps.iter().filter(|s| s.status == want).count();
    let warned = count(StepStatus::Warned);
    let mut parts = Vec::new();
    // A drifting step passed its checks; the snapshot part says what differs.
    if matches!(
        scenario.status(),
        StepStatus::Passed | StepStatus::Warned | StepStatus::Drift
    ) {
        parts.push(plural(total, "step", "steps"));
    } else {
        let passed = count(StepStatus::Passed) + warned + count(StepStatus::Drift);
        parts.push(format!("{passed}/{total} steps passed"));
    }
    if warned > 0 {
        parts.push(plural(warned, "warning", "warnings"));
    }
    let skipped = count(StepStatus::Skipped);
    if skipped > 0 {
        parts.push(format!("{skipped} skipped"));
    }
    match scenario.snapshot.state {
        SnapshotState::Matched | SnapshotState::Skipped => {}
        SnapshotState::New => parts.push("new snapshot".into()),
        SnapshotState::Missing => parts.push("no snapshot".into()),
        SnapshotState::Mismatch => parts.push("snapshot differs".into()),
        SnapshotState::Updated => parts.push("snapshot updated".into()),
    }
    parts.join(", ")
}

/// One line for the skipped step at the head of `steps` and the skipped steps right after it
/// with the same reason (an interrupted run skips dozens for one cause), and how many it covers.
fn skip_line(steps: &[StepResult]) -> (String, usize) {
    let reason = |step: &StepResult| {
        step.skipped_because
            .clone()
            .unwrap_or_else(|| "no reason recorded".to_string())
    };
    let first = &steps[0];
    let why = reason(first);
    let run = steps
        .iter()
        .take_while(|st| st.status == StepStatus::Skipped && reason(st) == why)
        .count()
        .max(1);
    let mut line = match run {
        1 => format!("{}: {why}", first.id),
        n => format!("{} … {} ({n} steps): {why}", first.id, steps[n - 1].id),
    };
    if let Some(cause) = &first.consequence_of {
        line.push_str(&format!(" (consequence of [{cause}])"));
    }
    (line, run)
}

/// What cleanup did, and how to finish what it could not.
fn cleanup_lines(cleanup: &CleanupReport, s: Styles) -> String {
    let mut out = String::new();
    let gone = cleanup.already_gone.len();
    if cleanup.deleted.is_empty() && gone == 0 && cleanup.left_behind.is_empty() {
        if !cleanup.interrupted {
            out.push_str("cleanup: nothing to delete\n");
        }
    } else {
        let mut line = format!(
            "cleanup: deleted {}",
            plural(cleanup.deleted.len(), "object", "objects")
        );
        if gone > 0 {
            line.push_str(&format!(" ({gone} already gone)"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    if !cleanup.left_behind.is_empty() {
        let head = format!(
            "cleanup: {} left behind:",
            plural(cleanup.left_behind.len(), "object", "objects")
        );
        out.push_str(&format!("{}\n", s.fail(&head)));
        for left in &cleanup.left_behind {
            out.push_str(&format!(
                "    {}  {}\n",
                left.path,
                s.dim(&format!("({})", left.reason))
            ));
        }
    }
    if cleanup.interrupted {
        out.push_str(&format!(
            "{}\n",
            s.warn("cleanup: interrupted before it finished")
        ));
    }
    if cleanup.interrupted || !cleanup.left_behind.is_empty() {
        let command = cleanup_command(&cleanup.ledger, &cleanup.target);
        out.push_str(&format!("  finish with: {}\n", s.accent(&command)));
    }
    out
}

/// New, missing, pending and updated snapshots, with what to do about them.
fn snapshot_notes(report: &RunReport, s: Styles) -> String {
    let with = |state: SnapshotState| -> Vec<&ScenarioResult> {
        report
            .scenarios
            .iter()
            .filter(|sc| sc.snapshot.state == state)
            .collect()
    };
    let mut out = String::new();
    let new = with(SnapshotState::New);
    if !new.is_empty() {
        let dir = snapshot_dir(&new, &report.baseline);
        out.push_str(&format!(
            "snapshots: {} written to {}\n",
            plural(new.len(), "new", "new"),
            s.accent(&dir)
        ));
    }
    let missing = with(SnapshotState::Missing);
    if !missing.is_empty() {
        let proposed = missing
            .iter()
            .filter(|sc| sc.snapshot.pending.is_some())
            .count();
        let written = if proposed > 0 {
            format!(
                "{} written as pending `.snap.new` (a failing transcript never becomes the \
                 baseline on its own; scimreplay accept makes it one on purpose)",
                plural(proposed, "proposal", "proposals")
            )
        } else {
            "nothing was written".to_string()
        };
        out.push_str(&format!(
            "snapshots: {} no baseline yet; {written}\n",
            plural(missing.len(), "scenario has", "scenarios have")
        ));
    }
    let mismatched = with(SnapshotState::Mismatch);
    let pending = mismatched
        .iter()
        .filter(|sc| sc.snapshot.pending.is_some())
        .count();
    if pending > 0 {
        out.push_str(&format!(
            "snapshots: {} pending (.snap.new beside the baseline): review with {}, or {} / {}\n",
            pending,
            s.accent("scimreplay review"),
            s.accent("scimreplay accept"),
            s.accent("scimreplay reject")
        ));
    }
    if mismatched.len() > pending {
        out.push_str(&format!(
            "snapshots: {} from the baseline; no .snap.new was written\n",
            plural(mismatched.len() - pending, "differs", "differ")
        ));
    }
    let updated = with(SnapshotState::Updated).len();
    if updated > 0 {
        out.push_str(&format!("snapshots: {updated} updated\n"));
    }
    out
}

/// The directory the new snapshots went to (they share one per baseline).
fn snapshot_dir(scenarios: &[&ScenarioResult], baseline: &str) -> String {
    scenarios
        .iter()
        .find_map(|sc| sc.snapshot.path.as_deref())
        .and_then(|p| Path::new(p).parent())
        .map(|p| p.display().to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| format!("snapshots/{baseline}"))
}

/// `scimreplay: 42 scenarios, 180 steps: 176 passed, 2 failed · 181 requests · 1.9s`,
/// coloured by the worst thing that happened.
fn summary_line(report: &RunReport, s: Styles) -> String {
    let sum: &Summary = &report.summary;
    let mut counts = vec![format!("{} passed", sum.passed)];
    for (n, word) in [
        (sum.warned, "warned"),
        (sum.failed, "failed"),
        (sum.errored, "errored"),
        (sum.drift, "drift"),
        (sum.skipped, "skipped"),
    ] {
        if n > 0 {
            counts.push(format!("{n} {word}"));
        }
    }
    if sum.consequences > 0 {
        counts.push(plural(sum.consequences, "consequence", "consequences"));
    }
    let causes = match sum.causes {
        0 => String::new(),
        n => format!(" · {}", plural(n, "cause", "causes")),
    };
    let mut line = format!(
        "scimreplay: {}, {}: {}{causes} · {} · {}",
        plural(sum.scenarios, "scenario", "scenarios"),
        plural(sum.steps, "step", "steps"),
        counts.join(", "),
        plural(sum.requests, "request", "requests"),
        duration(report.duration_ms).trim_start()
    );
    if !report.cleanup.left_behind.is_empty() {
        line.push_str(&format!(
            " · {} left behind",
            report.cleanup.left_behind.len()
        ));
    }
    if sum.interrupted {
        line.push_str(" · interrupted");
    }
    let worst = report
        .scenarios
        .iter()
        .map(ScenarioResult::status)
        .max()
        .unwrap_or(StepStatus::Passed);
    if !report.cleanup.left_behind.is_empty() || sum.interrupted {
        s.fail(&line)
    } else {
        paint_status(s, worst, &line)
    }
}

/// `12ms`, `1.93s`, `125s`.
pub(crate) fn duration(ms: u64) -> String {
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 100_000 {
        format!("{:.2}s", ms as f64 / 1_000.0)
    } else {
        format!("{}s", ms / 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample_report;

    fn render(report: &RunReport, options: TerminalOptions) -> String {
        let mut buf = Vec::new();
        render_report(report, options, &mut buf).expect("writing to a Vec cannot fail");
        String::from_utf8(buf).expect("the report is UTF-8")
    }

    fn skipped(id: &str, why: &str) -> StepResult {
        StepResult {
            id: id.into(),
            note: None,
            status: StepStatus::Skipped,
            skipped_because: Some(why.into()),
            exchange: None,
            checks: Vec::new(),
            snapshot_diff: None,
            curl: None,
            cause: None,
            consequence_of: None,
            fallback: None,
        }
    }

    #[test]
    fn skips_for_one_reason_share_a_line() {
        let steps = vec![
            skipped("create", "interrupted"),
            skipped("patch", "interrupted"),
            skipped("verify", "interrupted"),
            skipped("delete", "needs `{{id}}`"),
        ];
        assert_eq!(
            skip_line(&steps),
            ("create … verify (3 steps): interrupted".to_string(), 3)
        );
        assert_eq!(
            skip_line(&steps[3..]),
            ("delete: needs `{{id}}`".to_string(), 1)
        );
    }

    #[test]
    fn plain_report_of_a_mixed_run() {
        insta::assert_snapshot!(render(&sample_report(), TerminalOptions::default()));
    }

    #[test]
    fn verbose_report_shows_passing_exchanges_too() {
        let options = TerminalOptions {
            verbose: true,
            ..TerminalOptions::default()
        };
        let text = render(&sample_report(), options);
        assert!(
            text.contains("PASS user-disable-default › verify"),
            "{text}"
        );
        let quiet = render(&sample_report(), TerminalOptions::default());
        assert!(!quiet.contains("user-disable-default › verify"), "{quiet}");
    }

    #[test]
    fn colour_only_when_asked() {
        let report = sample_report();
        let plain = render(&report, TerminalOptions::default());
        assert!(!plain.contains('\x1b'), "plain output has escapes");
        let colored = render(
            &report,
            TerminalOptions {
                styles: Styles::colored(),
                verbose: false,
            },
        );
        assert!(colored.contains("\x1b[1;31m"), "no red in coloured output");
        assert!(
            colored.contains("\x1b[35mimpact:"),
            "impact lines are not magenta"
        );
        assert!(
            colored.contains("\x1b[32m+400 Bad Request"),
            "added diff lines are not green"
        );
        assert!(colored.contains("\x1b[0m"));
    }

    #[test]
    fn clean_run_has_a_green_summary_and_no_recap() {
        let mut report = sample_report();
        report.scenarios.truncate(1);
        report.cleanup.left_behind.clear();
        report.conclude();
        let text = render(&report, TerminalOptions::default());
        let last = text.lines().last().unwrap_or_default();
        assert_eq!(
            last,
            "scimreplay: 1 scenario, 3 steps: 3 passed · 3 requests · 1.93s"
        );
        assert!(!text.contains("finish with"), "{text}");
        let colored = summary_line(&report, Styles::colored());
        assert!(colored.starts_with("\x1b[1;32m"), "{colored:?}");
    }

    #[test]
    fn interrupted_cleanup_names_the_command_to_finish() {
        let cleanup = CleanupReport {
            ledger: ".scimreplay/ledger-1.json".into(),
            target: "https://h/scim".into(),
            interrupted: true,
            ..CleanupReport::default()
        };
        let text = cleanup_lines(&cleanup, Styles::plain());
        assert_eq!(
            text,
            "cleanup: interrupted before it finished\n  \
             finish with: scimreplay cleanup --ledger .scimreplay/ledger-1.json --target https://h/scim\n"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(12), "12ms");
        assert_eq!(duration(1_934), "1.93s");
        assert_eq!(duration(125_000), "125s");
    }

    #[test]
    fn authorization_is_shown_redacted_and_reproduced_through_the_variable() {
        let options = TerminalOptions {
            styles: Styles::plain(),
            verbose: true,
        };
        let text = render(&sample_report(), options);
        assert!(text.contains("Authorization: Bearer [redacted]"), "{text}");
        assert!(
            text.contains("-H \"Authorization: Bearer $SCIMREPLAY_TOKEN\""),
            "{text}"
        );
    }
}
