//! The HTML report (`--html FILE`): one self-contained page for the person who signs off a
//! release, a pure function of the `RunReport`.
//!
//! The verdict and counts head it, then the run's metadata, the ranked causes (worded by
//! [`crate::report::causes`], as in the terminal and Markdown reports), the cleanup, and a
//! table of scenarios that opens to each step's request, response, checks and snapshot diff.
//! Reading needs no script (`<details>`); a small inline script adds the filters and search.
//!
//! Everything the endpoint sent is HTML-escaped after the control-character escape every
//! report uses, and the page's Content-Security-Policy allows only its own style and script
//! (by hash) and no network at all, so even text that escaped escaping could run nothing.
//! Exchanges are redacted when they are recorded, as for every other output. Bodies are cut
//! and the page has a size budget, past which step details are counted instead of shown.

mod steps;
#[cfg(test)]
mod tests;

use super::causes::{self, facts, heading};
use super::curl::cleanup_command;
use super::detail::plural;
use crate::escape;
use crate::model::{PreflightResult, RunReport, StepStatus, Verdict};
use base64::Engine;
use std::fmt::Write as _;

/// The page's style sheet and script, inlined into every report.
#[derive(Clone, Copy, Debug)]
pub struct Assets<'a> {
    pub style: &'a str,
    pub script: &'a str,
}

impl Assets<'static> {
    /// What `--html` writes.
    pub const BUILT_IN: Assets<'static> = Assets {
        style: include_str!("page.css"),
        script: include_str!("page.js"),
    };
}

/// What the page may use before it stops adding step details (room for the tail).
const BUDGET: usize = 24 * 1024 * 1024;

/// The whole run as one HTML page.
pub fn to_html(report: &RunReport) -> String {
    to_html_with(report, Assets::BUILT_IN)
}

/// The page with other assets: tests use it to show that the browser check catches a broken
/// script or style sheet.
pub fn to_html_with(report: &RunReport, assets: Assets<'_>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    head(&mut out, report, assets);
    header(&mut out, report);
    preflight_section(&mut out, report);
    causes_section(&mut out, report);
    cleanup_section(&mut out, report);
    steps::scenarios_section(&mut out, report, BUDGET);
    let _ = writeln!(
        out,
        "<footer>Written by {} for run {}. The JSON report (<code>--json</code>) holds every \
         exchange whole.</footer>",
        esc(&report.tool),
        esc(&report.run_id)
    );
    let _ = writeln!(out, "<script>{}</script>\n</body>\n</html>", assets.script);
    out
}

fn head(out: &mut String, report: &RunReport, assets: Assets<'_>) {
    let _ = writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>");
    let _ = writeln!(out, "<meta charset=\"utf-8\">");
    let _ = writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    );
    // No network, no plug-ins, no forms; only this page's own style and script run.
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src '{}'; script-src '{}'; img-src data:; base-uri 'none'; form-action 'none'\">",
        sha256_source(assets.style),
        sha256_source(assets.script)
    );
    let _ = writeln!(out, "<meta name=\"referrer\" content=\"no-referrer\">");
    let _ = writeln!(
        out,
        "<title>scimreplay: {} · {}</title>",
        esc(report.verdict.label()),
        esc_line(&report.target)
    );
    let _ = writeln!(out, "<style>{}</style>\n</head>\n<body>", assets.style);
}

/// `sha256-<base64>` of an inline block, as a CSP source expression.
fn sha256_source(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "ok",
        Verdict::Drift => "warn",
        _ => "bad",
    }
}

fn header(out: &mut String, report: &RunReport) {
    let _ = writeln!(
        out,
        "<header>\n<h1>scimreplay report <span class=\"verdict {}\" id=\"verdict\">{}</span></h1>",
        verdict_class(report.verdict),
        esc(report.verdict.label())
    );
    let profile = report
        .mappings
        .as_ref()
        .map_or("Entra's default mappings", |m| m.profile.as_str());
    let duration = super::terminal::duration(report.duration_ms);
    let mut meta = vec![
        ("target", esc_line(&report.target)),
        ("baseline", esc_line(&report.baseline)),
        ("profile", esc_line(profile)),
        ("version", esc_line(&report.tool)),
        ("started", esc_line(&report.started_at)),
        ("duration", duration),
        ("run", esc_line(&report.run_id)),
    ];
    if let Some(partition) = &report.partition {
        meta.push(("partition", esc_line(partition)));
    }
    let _ = writeln!(out, "<dl class=\"meta\">");
    for (name, value) in meta {
        let _ = writeln!(out, "<dt>{name}</dt><dd data-meta=\"{name}\">{value}</dd>");
    }
    let _ = writeln!(out, "</dl>");
    counts(out, report);
    if let Some(mappings) = &report.mappings
        && !mappings.notes.is_empty()
    {
        let _ = writeln!(out, "<ul class=\"notes\">");
        for note in &mappings.notes {
            let _ = writeln!(out, "<li>mappings: {}</li>", esc(note));
        }
        let _ = writeln!(out, "</ul>");
    }
    let _ = writeln!(out, "</header>");
}

fn counts(out: &mut String, report: &RunReport) {
    let s = &report.summary;
    let tone = |n: usize, bad: &'static str| if n > 0 { bad } else { "" };
    let mut items = vec![
        ("scenarios", s.scenarios, ""),
        ("steps", s.steps, ""),
        ("passed", s.passed, tone(s.passed, "pass")),
        ("warned", s.warned, tone(s.warned, "warn")),
        ("drift", s.drift, tone(s.drift, "warn")),
        ("failed", s.failed, tone(s.failed, "fail")),
        ("errored", s.errored, tone(s.errored, "fail")),
        ("skipped", s.skipped, ""),
        ("causes", s.causes, tone(s.causes, "fail")),
        ("consequences", s.consequences, ""),
        ("requests", s.requests, ""),
    ];
    if s.not_run > 0 {
        items.push(("not run", s.not_run, "warn"));
    }
    let _ = writeln!(out, "<ul class=\"counts\" id=\"counts\">");
    for (name, n, class) in items {
        let _ = writeln!(
            out,
            "<li class=\"{class}\" data-count=\"{name}\"><b>{n}</b><span>{name}</span></li>"
        );
    }
    let _ = writeln!(out, "</ul>");
    if s.interrupted {
        let _ = writeln!(
            out,
            "<p class=\"left-out\">The run was interrupted: the counts cover what ran.</p>"
        );
    }
}

fn preflight_section(out: &mut String, report: &RunReport) {
    let Some(preflight) = &report.preflight else {
        return;
    };
    if preflight.findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "<section id=\"preflight\">\n<h2>Preflight</h2>\n<ul>");
    for finding in &preflight.findings {
        let _ = writeln!(out, "<li>{}</li>", esc(finding));
    }
    let _ = writeln!(out, "</ul>");
    if preflight.result != PreflightResult::Passed {
        let _ = writeln!(out, "<p>The run stopped here: no scenario was sent.</p>");
    }
    let _ = writeln!(out, "</section>");
}

fn causes_section(out: &mut String, report: &RunReport) {
    if report.causes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"causes\">\n<h2>{}, most serious first</h2>",
        esc(&plural(report.causes.len(), "cause", "causes"))
    );
    for (index, cause) in report.causes.iter().enumerate() {
        let rank = serde_json::to_value(cause.rank)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<details class=\"cause {rank}\" id=\"{}\"><summary>{}</summary>\n<div class=\"body\">",
            esc(&cause.id),
            esc(&heading(index, cause))
        );
        let _ = writeln!(out, "<pre class=\"facts\">{}</pre>", esc(&facts(cause, "")));
        let example = cause.example().and_then(|at| causes::find(report, at));
        if let Some((scenario, step)) = example {
            let _ = writeln!(
                out,
                "<p>Example: <a href=\"#{}\">{} › {}</a></p>",
                steps::step_anchor(report, scenario, step),
                esc(&scenario.name),
                esc(&step.id)
            );
        }
        let _ = writeln!(out, "</div></details>");
    }
    let _ = writeln!(out, "</section>");
}

fn cleanup_section(out: &mut String, report: &RunReport) {
    let c = &report.cleanup;
    let _ = writeln!(
        out,
        "<section id=\"cleanup\">\n<h2>Cleanup</h2>\n<p>{} deleted, {} already gone, {} left \
         behind.</p>",
        c.deleted.len(),
        c.already_gone.len(),
        c.left_behind.len()
    );
    if !c.left_behind.is_empty() {
        let _ = writeln!(out, "<ul>");
        for left in &c.left_behind {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc_line(&left.path),
                esc(&left.reason)
            );
        }
        let _ = writeln!(
            out,
            "</ul>\n<p>Finish with:</p>\n<pre>{}</pre>",
            esc(&cleanup_command(&c.ledger, &c.target))
        );
    }
    let _ = writeln!(out, "</section>");
}

/// A status as the page names it (class names and filter values).
fn status_name(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Passed => "passed",
        StepStatus::Warned => "warned",
        StepStatus::Drift => "drift",
        StepStatus::Skipped => "skipped",
        StepStatus::Failed => "failed",
        StepStatus::Errored => "errored",
    }
}

/// Text for a block (newlines kept) in HTML: control characters made visible, then markup
/// characters escaped, quotes included so it is safe in an attribute too.
fn esc(text: &str) -> String {
    html(&escape::text(text))
}

/// [`esc`] for one line: newlines and tabs made visible too.
fn esc_line(text: &str) -> String {
    html(&escape::line(text))
}

fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
