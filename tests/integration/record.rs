//! `scimreplay record`: the project's own catalogue run through the recorder in front of the
//! reference endpoint, converted, then replayed against a fresh reference endpoint (green,
//! snapshots included) and against one with a fault (red at the step that meets it).

use crate::support::{TOKEN, TempDir, cli, run_file};
use scimreplay::exit::Outcome;
use scimreplay::http::ClientOptions;
use scimreplay::record::proxy::{self, ProxyConfig};
use scimreplay::reference::{self, Faults, ServerConfig};
use serde_json::Value;
use std::path::Path;
use tokio::net::TcpListener;

async fn reference_with(faults: Faults) -> reference::RunningServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServerConfig {
        faults,
        ..ServerConfig::new(TOKEN)
    };
    reference::spawn(listener, config).await.unwrap()
}

/// Starts a recorder in front of `upstream`, writing `raw`; returns it and its Tenant URL.
async fn recorder(upstream: &str, raw: &Path) -> (proxy::RunningRecorder, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ProxyConfig {
        upstream: upstream.to_string(),
        raw: raw.to_path_buf(),
        client: ClientOptions::default(),
        tls: None,
    };
    let running = proxy::start(listener, config).await.unwrap();
    let url = format!(
        "http://{}{}",
        running.local_addr(),
        proxy::base_path_of(upstream)
    );
    (running, url)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Replays `scenario` against `target`, comparing with the recorded baseline.
async fn replay(
    dir: &TempDir,
    target: &str,
    scenario: &Path,
    label: &str,
) -> (Outcome, Value, String) {
    let report = dir.path().join(format!("{label}.json"));
    let snaps = dir.path().join("snapshots");
    let state = dir.path().join("state");
    let run = run_file(
        target,
        scenario.to_str().unwrap(),
        &[
            "--baseline",
            "recorded",
            "--snapshot-dir",
            snaps.to_str().unwrap(),
            "--require-snapshots",
            "--json",
            report.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--color",
            "never",
            "--timeout",
            "10",
        ],
    )
    .await;
    (run.outcome, read_json(&report), run.stdout)
}

/// Ids of the steps of the first scenario whose status check failed, in order.
fn failed_steps(report: &Value) -> Vec<String> {
    report["scenarios"][0]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            s["checks"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["check"] == "status" && c["passed"] == false)
        })
        .map(|s| s["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The first step that sends a boolean as the string "True"/"False" in a PATCH.
fn first_string_boolean_patch(scenario: &Value) -> String {
    scenario["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["request"]["method"] == "PATCH" && {
                let body = s["request"]["body"].to_string();
                body.contains("\"False\"") || body.contains("\"True\"")
            }
        })
        .and_then(|s| s["id"].as_str())
        .expect("the recorded catalogue disables a user with \"False\"")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_catalogue_replays_green_and_goes_red_at_the_fault() {
    let dir = TempDir::new("record");
    let raw = dir.path().join("cycle.recording.jsonl");
    let upstream = reference_with(Faults::default()).await;
    let (running, proxy_url) = recorder(&upstream.base_url(), &raw).await;
    let state = dir.path().join("catalogue-state");
    let catalogue = cli(&[
        "run",
        "--target",
        &proxy_url,
        "--dialect",
        "default",
        "--jobs",
        "1",
        "--no-snapshots",
        "--state-dir",
        state.to_str().unwrap(),
        "--color",
        "never",
    ])
    .await;
    assert_eq!(catalogue.outcome, Outcome::Passed, "{}", catalogue.stdout);
    let written = running.stop().await.unwrap();
    assert!(written > 50, "only {written} exchanges recorded");
    let recording = std::fs::read_to_string(&raw).unwrap();
    assert!(
        !recording.contains(TOKEN),
        "the token reached the recording"
    );

    let scenario = dir.path().join("cycle.json");
    let snaps = dir.path().join("snapshots");
    let convert = cli(&[
        "record",
        "--convert",
        raw.to_str().unwrap(),
        "--out",
        scenario.to_str().unwrap(),
        "--baseline",
        "recorded",
        "--snapshot-dir",
        snaps.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        convert.outcome,
        Outcome::Passed,
        "{}{}",
        convert.stdout,
        convert.stderr
    );
    let text = std::fs::read_to_string(&scenario).unwrap();
    assert!(
        text.contains("{{run.prefix}}") && text.contains("{{user_"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
    assert!(
        snaps.join("recorded/cycle.snap").exists(),
        "{}",
        convert.stdout
    );

    let fresh = reference_with(Faults::default()).await;
    let (outcome, report, stdout) = replay(&dir, &fresh.base_url(), &scenario, "green").await;
    assert_eq!(outcome, Outcome::Passed, "{stdout}");
    assert!(failed_steps(&report).is_empty());

    let faulty = reference_with(Faults::parse_list("string-booleans-rejected").unwrap()).await;
    let (outcome, report, stdout) = replay(&dir, &faulty.base_url(), &scenario, "red").await;
    assert_eq!(outcome, Outcome::ChecksFailed, "{stdout}");
    let expected = first_string_boolean_patch(&read_json(&scenario));
    assert_eq!(failed_steps(&report).first(), Some(&expected), "{stdout}");
}
