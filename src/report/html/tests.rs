use super::*;
use crate::report::test_support::sample_report;

/// The page without its style sheet and script, for snapshots and text assertions.
fn bare(report: &RunReport) -> String {
    to_html_with(
        report,
        Assets {
            style: "",
            script: "",
        },
    )
}

/// The text between the first `open` and the next `close` after it.
fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).expect("opening tag") + open.len();
    let end = text[start..].find(close).expect("closing tag") + start;
    &text[start..end]
}

#[test]
fn the_page_has_the_verdict_counts_metadata_causes_and_every_scenario() {
    let report = sample_report();
    let page = to_html(&report);
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("id=\"verdict\">objects left behind</span>"));
    let s = &report.summary;
    for (name, n) in [
        ("scenarios", s.scenarios),
        ("failed", s.failed),
        ("passed", s.passed),
        ("causes", s.causes),
    ] {
        assert!(
            page.contains(&format!("data-count=\"{name}\"><b>{n}</b>")),
            "{name} = {n}"
        );
    }
    for (name, value) in [
        ("target", report.target.as_str()),
        ("baseline", "reference"),
        ("profile", "Entra&#39;s default mappings"),
        ("version", "scimreplay 0.1.0"),
        ("started", "2026-01-02T03:04:05Z"),
    ] {
        assert!(
            page.contains(&format!("data-meta=\"{name}\">{value}</dd>")),
            "{name}"
        );
    }
    // The causes are worded as the other reports word them, in their order.
    let mut at = 0;
    for (index, cause) in report.causes.iter().enumerate() {
        let line = esc(&heading(index, cause));
        let found = page[at..].find(&line).unwrap_or_else(|| panic!("{line}"));
        at += found;
    }
    assert!(!report.causes.is_empty());
    for scenario in &report.scenarios {
        assert!(page.contains(&format!(">{}<small>", esc_line(&scenario.name))));
    }
    assert!(page.contains("scimreplay cleanup --ledger"));
}

#[test]
fn a_failing_step_opens_to_request_response_checks_and_a_coloured_diff() {
    let page = bare(&sample_report());
    let step = between(
        &page,
        "<details class=\"step failing has-diff\"",
        "</details>",
    );
    for part in [
        "<h3>Request</h3>",
        "POST https://scim.example.test/scim/Users",
        "Authorization: Bearer [redacted]",
        "&quot;active&quot;: &quot;True&quot;",
        "<h3>Response</h3>",
        "400 (31 ms)",
        "<h3>Checks</h3>",
        "<span class=\"mark bad\">✗</span></td><td><b>status</b>",
        "impact: the user is not created",
        "<span class=\"del\">-201 Created\n</span>",
        "<span class=\"add\">+400 Bad Request\n</span>",
        "<span class=\"hunk\">@@ -1,4 +1,4 @@\n</span>",
        "$SCIMREPLAY_TOKEN",
    ] {
        assert!(step.contains(part), "missing {part:?} in\n{step}");
    }
}

#[test]
fn the_example_of_each_cause_links_to_its_step() {
    let report = sample_report();
    let page = bare(&report);
    let cause = &report.causes[0];
    let at = cause.example().expect("an example");
    let (s, scenario) = report
        .scenarios
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == at.scenario)
        .unwrap();
    let i = scenario.steps.iter().position(|x| x.id == at.step).unwrap();
    let anchor = format!("st-{s}-{i}");
    assert!(page.contains(&format!("<a href=\"#{anchor}\">")), "{page}");
    assert!(page.contains(&format!("id=\"{anchor}\"")));
}

#[test]
fn markup_from_the_endpoint_is_inert_text() {
    let mut report = sample_report();
    let hostile =
        "<script>document.title='pwned'</script><img src=x onerror=alert(1)>\"'&\u{1b}[2J";
    report.scenarios[1].name = format!("x\"><script>alert(2)</script>{hostile}");
    report.scenarios[1].tags.push("\"><b>".into());
    let step = &mut report.scenarios[1].steps[0];
    let exchange = step.exchange.as_mut().unwrap();
    let response = exchange.response.as_mut().unwrap();
    response.body = hostile.into();
    response.json = None;
    response
        .headers
        .push(("X-Evil".into(), "<script>x</script>".into()));
    step.checks[0].actual = hostile.into();
    step.snapshot_diff = Some(format!("+{hostile}\n"));
    report.conclude();
    let page = to_html(&report);
    assert_eq!(page.matches("<script").count(), 1, "only the page's own");
    assert!(!page.contains("<img"), "{page}");
    assert!(!page.contains("<b>\""));
    assert!(
        !page.contains('\u{1b}'),
        "control characters are shown escaped"
    );
    assert!(page.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    assert!(page.contains("\\u{1b}[2J"));
}

#[test]
fn the_policy_allows_exactly_the_inlined_style_and_script() {
    let page = to_html(&sample_report());
    let style = between(&page, "<style>", "</style>");
    let script = between(&page, "<script>", "</script>");
    assert_eq!(style, Assets::BUILT_IN.style);
    assert_eq!(script, Assets::BUILT_IN.script);
    let policy = between(&page, "Content-Security-Policy\" content=\"", "\"");
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    assert!(policy.contains(&format!("style-src '{}'", sha256_source(style))));
    assert!(policy.contains(&format!("script-src '{}'", sha256_source(script))));
    // A known digest, so the encoding is the one browsers compare against.
    assert_eq!(
        sha256_source("abc"),
        "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
    for asset in [Assets::BUILT_IN.style, Assets::BUILT_IN.script] {
        assert!(!asset.contains("</"), "an asset cannot close its own tag");
        for remote in ["http", "url(", "@import", "fetch(", "XMLHttpRequest"] {
            assert!(!asset.contains(remote), "{remote}");
        }
    }
    for loads in ["<link", " src=", "<iframe", "<object"] {
        assert!(!page.contains(loads), "{loads}");
    }
}

#[test]
fn bodies_are_cut_and_the_page_keeps_to_its_budget() {
    let mut report = sample_report();
    let big = "y".repeat(2_000_000);
    if let Some(r) = report.scenarios[1].steps[0]
        .exchange
        .as_mut()
        .and_then(|e| e.response.as_mut())
    {
        r.body = big.clone();
        r.json = None;
    }
    let page = bare(&report);
    assert!(page.len() < 200_000, "{} bytes", page.len());
    assert!(page.contains("… cut, "), "the page says what it cut");

    let template = report.scenarios[1].clone();
    for i in 0..40 {
        let mut sc = template.clone();
        sc.name = format!("copy-{i}");
        report.scenarios.push(sc);
    }
    let mut page = String::new();
    steps::scenarios_section(&mut page, &report, 300_000);
    assert!(page.len() < 300_000 + 2 * 200_000, "{} bytes", page.len());
    assert!(
        page.contains("are left out to keep this page small"),
        "{page}"
    );
    assert!(
        page.contains("id=\"sc-44\""),
        "every scenario keeps its row"
    );
}

#[test]
fn html_report_snapshot() {
    insta::assert_snapshot!(bare(&sample_report()));
}
