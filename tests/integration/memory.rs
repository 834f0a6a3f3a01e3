//! Memory across a run: what a step's answer costs must not stay until the end of the run.
//!
//! The real binary runs against an endpoint whose every answer is 8 MB of `[{},…]`, a body
//! whose parsed form is some thirty times its text; the child's peak resident size (VmHWM)
//! must stay far below what keeping every parsed body would take.

use crate::support::{TOKEN, TempDir};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_scimreplay");

/// `[{},{},…]` of about `bytes` bytes (under the client's 8 MiB body cap, so it is parsed).
fn empty_objects(bytes: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes + 2);
    body.push(b'[');
    while body.len() + 3 < bytes {
        body.extend_from_slice(b"{},");
    }
    body.extend_from_slice(b"{}]");
    body
}

/// The peak resident size of a process in KiB, from `/proc/<pid>/status` (`VmHWM`).
fn high_water_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the binary to its end, sampling its high-water mark; returns the exit code, the
/// highest mark seen (KiB) and stderr.
fn run_measured(args: &[String], within: Duration) -> (i32, u64, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("SCIMREPLAY_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scimreplay");
    let started = Instant::now();
    let mut peak = 0;
    let code = loop {
        // VmHWM only grows, so the last reading before the exit is the run's peak (to within
        // the few milliseconds between two readings).
        if let Some(kib) = high_water_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status.code().unwrap_or(-1);
        }
        if started.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {within:?} (peak so far {peak} KiB)");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    (code, peak, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_huge_answers_do_not_accumulate_in_memory() {
    const RESPONSES: usize = 8;
    let body = empty_objects(8_000_000);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/scim+json"))
        .mount(&server)
        .await;
    let dir = TempDir::new("memory");
    for i in 0..RESPONSES {
        let scenario = json!({"name": format!("huge-{i}"), "summary": "a huge answer",
            "dialect": "any", "steps": [{"id": "list", "request": {"method": "GET",
            "path": "/Users"}, "expect": {"status": 200}}]});
        dir.write(&format!("scenarios/huge-{i}.json"), &scenario.to_string());
    }
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let args: Vec<String> = [
        "run",
        "--target",
        &server.uri(),
        "--no-builtin",
        "--scenarios",
        &path("scenarios"),
        "--no-preflight",
        "--jobs",
        "1",
        "--snapshot-dir",
        &path("snapshots"),
        "--json",
        &path("report.json"),
        "--state-dir",
        &path("state"),
    ]
    .map(str::to_string)
    .to_vec();
    let (code, peak_kib, stderr) =
        tokio::task::spawn_blocking(move || run_measured(&args, Duration::from_secs(300)))
            .await
            .unwrap();
    assert_eq!(code, 0, "{stderr}");
    // Every step was judged and snapshotted, and the report holds every body as text.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("report.json")).unwrap()).unwrap();
    let scenarios = report["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), RESPONSES);
    for scenario in scenarios {
        let response = &scenario["steps"][0]["exchange"]["response"];
        assert!(response["body"].as_str().unwrap().len() > 7_000_000);
        assert_eq!(
            scenario["snapshot"]["state"], "new",
            "{}",
            scenario["snapshot"]
        );
    }
    // One parsed body and its normalized copy at a time is some hundreds of MiB; all eight
    // kept to the end of the run, as before, took over 2 GiB.
    let peak_mib = peak_kib / 1024;
    eprintln!("peak resident size: {peak_mib} MiB");
    assert!(
        peak_mib < 1024,
        "the run peaked at {peak_mib} MiB for {RESPONSES} answers of 8 MB"
    );
}
