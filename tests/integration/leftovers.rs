//! Cleanup failures: the leftovers are named in every report with the exact command that
//! finishes the job, the run exits 5, and that command, pasted into a shell, does finish it.

use crate::support::{TOKEN, TempDir, cli, run_file};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn two_creates() -> Value {
    json!({"name": "creates", "summary": "two creates", "dialect": "any",
        "steps": [
            {"id": "user", "request": {"method": "POST", "path": "/Users",
                "body": {"userName": "{{run.prefix}}alice@example.com"}}, "expect": {"status": 201}},
            {"id": "group", "request": {"method": "POST", "path": "/Groups",
                "body": {"displayName": "{{run.prefix}}Sales"}}, "expect": {"status": 201}}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftovers_are_reported_everywhere_with_the_command_that_finishes_them() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/Users"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "u-77"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/Groups"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "g-5"})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "500", "detail": "object is locked"})))
        .mount(&server)
        .await;
    // A space in the folder proves the printed command is quoted for a shell.
    let dir = TempDir::new("leftovers");
    let file = dir.write("creates.json", &two_creates().to_string());
    let state = dir.path().join("state dir");
    let json_path = dir.path().join("r.json");
    let junit_path = dir.path().join("r.xml");
    let run = run_file(
        &server.uri(),
        file.to_str().unwrap(),
        &[
            "--no-snapshots",
            "--state-dir",
            state.to_str().unwrap(),
            "--json",
            json_path.to_str().unwrap(),
            "--junit",
            junit_path.to_str().unwrap(),
            "--color",
            "never",
        ],
    )
    .await;
    assert_eq!(run.outcome, Outcome::CleanupIncomplete, "{}", run.stdout);
    assert_eq!(run.outcome.code(), 5);

    let ledgers = scimreplay::run::ledger::list(&state.join("ledgers"));
    assert_eq!(ledgers.len(), 1);
    let ledger = ledgers[0].to_str().unwrap().to_string();
    let command = format!(
        "scimreplay cleanup --ledger '{ledger}' --target {}",
        server.uri()
    );
    // Terminal: each leftover with its reason, and the command.
    assert!(
        run.stdout.contains("cleanup: 2 objects left behind"),
        "{}",
        run.stdout
    );
    for id in ["/Users/u-77", "/Groups/g-5"] {
        assert!(run.stdout.contains(id), "{id}:\n{}", run.stdout);
    }
    assert!(
        run.stdout.contains("DELETE answered 500: object is locked"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&command), "{command}\n{}", run.stdout);
    assert!(
        run.stdout.contains("2 left behind"),
        "summary line: {}",
        run.stdout
    );

    // JSON: the leftovers, their reasons and the ledger.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let left: Vec<&str> = report["cleanup"]["left_behind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["/Groups/g-5", "/Users/u-77"], "newest first");
    assert_eq!(report["cleanup"]["ledger"], ledger.as_str());

    // JUnit: a failing cleanup case with the same facts.
    let junit = std::fs::read_to_string(&junit_path).unwrap();
    assert!(junit.contains("cleanup-incomplete"), "{junit}");
    assert!(
        junit.contains("/Users/u-77") && junit.contains("/Groups/g-5"),
        "{junit}"
    );
    assert!(
        junit.contains(&command.replace('\'', "&apos;")) || junit.contains(&command),
        "{junit}"
    );

    // The endpoint recovers; the printed command, pasted into a shell, finishes the job.
    server.reset().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(&server)
        .await;
    let pasted = command.replacen("scimreplay", env!("CARGO_BIN_EXE_scimreplay"), 1);
    let output = std::process::Command::new("sh")
        .args(["-c", &pasted])
        .env("SCIMREPLAY_TOKEN", TOKEN)
        .output()
        .expect("run sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("deleted /Users/u-77"), "{stdout}");
    let saved = scimreplay::run::ledger::read(&ledgers[0]).unwrap();
    assert!(saved.closed && saved.outstanding.is_empty());
}

#[tokio::test]
async fn a_cleanup_that_still_fails_exits_five_and_says_to_try_again() {
    let server = MockServer::start().await;
    let dir = TempDir::new("leftovers-again");
    let ledger = dir.write(
        "run.jsonl",
        &[
            json!({"event": "run", "run_id": "r1", "target": server.uri(),
                   "prefix": "scimreplay-abc123-", "started_at": "2026-01-01T00:00:00Z"}),
            json!({"event": "created", "path": "/Users/u-1", "scenario": "s", "step": "create"}),
        ]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>(),
    );
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let path = ledger.to_str().unwrap();
    let run = cli(&["cleanup", "--ledger", path, "--target", &server.uri()]).await;
    assert_eq!(run.outcome, Outcome::CleanupIncomplete, "{}", run.stdout);
    assert!(run.stdout.contains("LEFT /Users/u-1"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "scimreplay cleanup --ledger {path} --target {}",
            server.uri()
        )),
        "{}",
        run.stdout
    );
    let saved = scimreplay::run::ledger::read(&ledger).unwrap();
    assert_eq!(saved.outstanding, ["/Users/u-1"]);
    assert!(!saved.closed);
}
