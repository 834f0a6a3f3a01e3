//! The HTML report in a real browser: headless Chromium opens the file `run --html` wrote and
//! the page must work there (no console error, the counts shown, each filter keeping exactly
//! what it names, a failing step's diff shown when it is opened), while markup an endpoint
//! sends stays text.
//!
//! The page's script checks itself and writes the result into `data-` attributes of `<html>`;
//! Chromium dumps the DOM after the script ran and logs every console message to stderr.
//! Without Chromium the tests say so and pass, unless `SCIMREPLAY_REQUIRE_CHROMIUM=1` (set by
//! `.ci/run`, which installs it) makes that a failure.

use crate::support::{TempDir, cli, reference_with};
use scimreplay::exit::Outcome;
use scimreplay::model::RunReport;
use scimreplay::report::html::{Assets, to_html_with};
use serde_json::json;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The flags that let headless Chromium start on a machine with a closed network.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
];

/// Longest a page may take to open before the test gives up on the browser.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// Chromium's path, or `None` after saying why the test does not run.
fn chromium() -> Option<PathBuf> {
    let named = std::env::var_os("SCIMREPLAY_CHROMIUM").map(PathBuf::from);
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
            .find(|p| p.is_file())
    });
    let found = named.or(on_path);
    if found.is_none() {
        let required = std::env::var("SCIMREPLAY_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "SCIMREPLAY_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install -y chromium)"
        );
        // Straight to stderr: the test harness would swallow a print of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the HTML report's browser test needs Chromium (apt-get install -y \
             chromium, or SCIMREPLAY_CHROMIUM=/path); none found on PATH"
        );
    }
    found
}

/// What the browser made of a page.
struct Opened {
    /// The DOM after the page's script ran.
    dom: String,
    /// Every console message the page caused (errors, CSP violations, logs).
    console: Vec<String>,
}

/// Opens `page#fragment` in headless Chromium and dumps its DOM.
fn open(browser: &Path, page: &Path, fragment: &str) -> Opened {
    let profile = TempDir::new("chromium-profile");
    let page = page.canonicalize().expect("the page exists");
    let mut child = Command::new(browser)
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}#{fragment}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = r.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stderr = stderr.join().unwrap();
    Opened {
        dom: stdout.join().unwrap(),
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
    }
}

/// The value of attribute `name` on the `<html>` element of a dumped DOM.
fn root_attribute(dom: &str, name: &str) -> Option<String> {
    let start = dom.find("<html")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

/// Why the page does not work, if it does not: a console message, a failed or missing
/// self-check, or (with `#selfcheck`) a failing step whose diff did not show.
fn broken(opened: &Opened) -> Option<String> {
    if !opened.console.is_empty() {
        return Some(format!("console: {}", opened.console.join("\n")));
    }
    match root_attribute(&opened.dom, "data-selfcheck") {
        Some(v) if v == "ok" => {}
        Some(v) => return Some(format!("self-check {v}")),
        None => return Some("the page's script did not run its self-check".into()),
    }
    match root_attribute(&opened.dom, "data-failing-diff") {
        Some(v) if v.starts_with("st-") => None,
        other => Some(format!("no failing step showed its diff ({other:?})")),
    }
}

/// A catalogue run against the reference endpoint with a fault, compared with copies of the
/// committed reference snapshots, so steps fail and show a diff: the folder, the HTML and
/// JSON report paths.
async fn failing_run() -> (TempDir, PathBuf, PathBuf) {
    let server = reference_with("case_sensitive_ops").await;
    let dir = TempDir::new("html-report");
    let snaps = dir.path().join("snapshots").join("reference");
    std::fs::create_dir_all(&snaps).unwrap();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/reference");
    for entry in std::fs::read_dir(committed).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("user-disable-") {
            std::fs::copy(entry.path(), snaps.join(&name)).unwrap();
        }
    }
    let (html, report) = (dir.path().join("r.html"), dir.path().join("r.json"));
    let run = cli(&[
        "run",
        "--target",
        &server.base_url(),
        "--no-preflight",
        "-s",
        "user-disable-*",
        "--baseline",
        "reference",
        "--snapshot-dir",
        dir.path().join("snapshots").to_str().unwrap(),
        "--state-dir",
        dir.path().join("state").to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--json",
        report.to_str().unwrap(),
        "--color",
        "never",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::ChecksFailed, "{}", run.stdout);
    (dir, html, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_of_a_failing_run_works_in_chromium() {
    let (_dir, html, report) = failing_run().await;
    let Some(browser) = chromium() else { return };
    let report: RunReport =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let opened = open(&browser, &html, "selfcheck");
    assert_eq!(broken(&opened), None, "{}", opened.dom);
    let s = &report.summary;
    assert!(s.failed > 0, "{s:?}");
    for (name, n) in [("scenarios", s.scenarios), ("failed", s.failed)] {
        let shown = format!("data-count=\"{name}\"><b>{n}</b>");
        assert!(opened.dom.contains(&shown), "{shown} in {}", opened.dom);
    }
    // The script ran its filters: the toolbar is shown and counts what it shows.
    let all = format!("{0} of {0} scenarios shown", s.scenarios);
    assert!(opened.dom.contains(&all), "{}", opened.dom);
    assert!(!opened.dom.contains("id=\"toolbar\" hidden"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_check_fails_on_a_broken_page() {
    let (dir, _html, report) = failing_run().await;
    let Some(browser) = chromium() else { return };
    let report: RunReport =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let script = format!(
        "throw new Error(\"deliberately broken\");\n{}",
        Assets::BUILT_IN.script
    );
    let style = format!(
        "{}\npre.diff {{ display: none; }}\n",
        Assets::BUILT_IN.style
    );
    let counts_gone = Assets::BUILT_IN
        .script
        .replace("data-count", "data-nothing");
    let filter = "(!failedOnly.checked || failing(row.getAttribute(\"data-status\")))";
    assert!(Assets::BUILT_IN.script.contains(filter));
    let filter_ignored = Assets::BUILT_IN.script.replace(filter, "true");
    let cases = [
        ("as built", Assets::BUILT_IN, None),
        (
            "a script that throws",
            Assets {
                script: &script,
                ..Assets::BUILT_IN
            },
            Some("deliberately broken"),
        ),
        (
            "a style sheet that hides diffs",
            Assets {
                style: &style,
                ..Assets::BUILT_IN
            },
            Some("is not shown when it is opened"),
        ),
        (
            "a self-check that finds no counts",
            Assets {
                script: &counts_gone,
                ..Assets::BUILT_IN
            },
            Some("no counts on the page"),
        ),
        (
            "a failed-only filter that keeps everything",
            Assets {
                script: &filter_ignored,
                ..Assets::BUILT_IN
            },
            Some("failed only is wrong for sc-"),
        ),
    ];
    for (what, assets, expected) in cases {
        let page = dir.path().join("variant.html");
        std::fs::write(&page, to_html_with(&report, assets)).unwrap();
        let found = broken(&open(&browser, &page, "selfcheck"));
        match expected {
            None => assert_eq!(found, None, "{what}"),
            Some(says) => {
                let found = found.unwrap_or_else(|| panic!("{what}: the check passed"));
                assert!(found.contains(says), "{what}: {found}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_an_endpoint_sends_stays_text_in_the_browser() {
    let mark = "document.documentElement.setAttribute('data-pwned'";
    let body = format!(
        "<script>{mark}, 'script')</script><img src=x onerror=\"{mark}, 'img')\">\
         <style>body{{display:none}}</style>"
    );
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("X-Note", "<script>alert(1)</script>")
                .set_body_raw(body, "text/html"),
        )
        .mount(&server)
        .await;
    let dir = TempDir::new("html-hostile");
    let file = dir.write(
        "s.json",
        &json!({"name": "hostile-markup", "summary": "answers with <b>markup</b>",
            "dialect": "any",
            "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users"},
                       "expect": {"status": 200}}]})
        .to_string(),
    );
    let html = dir.path().join("r.html");
    let run = crate::support::run_file(
        &server.uri(),
        file.to_str().unwrap(),
        &[
            "--no-preflight",
            "--no-snapshots",
            "--state-dir",
            dir.path().join("state").to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.outcome, Outcome::ChecksFailed, "{}", run.stdout);
    let text = std::fs::read_to_string(&html).unwrap();
    assert_eq!(text.matches("<script").count(), 1, "only the page's own");
    assert!(text.contains("&lt;script&gt;document.documentElement"));
    let Some(browser) = chromium() else { return };
    let opened = open(&browser, &html, "");
    assert!(opened.console.is_empty(), "{:?}", opened.console);
    assert_eq!(
        root_attribute(&opened.dom, "data-selfcheck").as_deref(),
        Some("ok")
    );
    // The markup is in the page as text only: it set nothing.
    assert_eq!(root_attribute(&opened.dom, "data-pwned"), None);
    assert!(
        opened.dom.contains("setAttribute(&#39;data-pwned&#39;")
            || opened.dom.contains("setAttribute('data-pwned'")
    );
    assert!(!opened.dom.contains("<img"), "{}", opened.dom);
    assert!(
        opened
            .dom
            .contains("answers with &lt;b&gt;markup&lt;/b&gt;")
    );
}
