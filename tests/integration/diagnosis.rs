//! Diagnosis against misbehaving endpoints: a run that cannot succeed stops at once with its
//! own exit code and a few lines; failures are said once per cause; a failing transcript
//! never becomes the baseline; every report of an interrupted run says so; report paths
//! that can never be written are refused before anything is sent.

use crate::interrupt::Spawned;
use crate::support::{TOKEN, TempDir, cli, run_file};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use wiremock::matchers::{header_exists, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// `run` of the whole built-in catalogue against `target`, with snapshots and state in `dir`.
async fn catalogue_run(target: &str, dir: &TempDir, extra: &[&str]) -> crate::support::CliRun {
    let state = dir.path().join("state");
    let mut args = vec![
        "run",
        "--target",
        target,
        "--no-snapshots",
        "--state-dir",
        state.to_str().unwrap(),
        "--color",
        "never",
        "--timeout",
        "5",
    ];
    args.extend_from_slice(extra);
    cli(&args).await
}

#[tokio::test]
async fn an_unreachable_endpoint_stops_at_once_with_exit_4_in_a_few_lines() {
    let dir = TempDir::new("unreachable");
    let target = format!("http://127.0.0.1:{}/scim/v2", closed_port());
    let report = dir.path().join("r.json");
    let started = Instant::now();
    let run = catalogue_run(&target, &dir, &["--json", report.to_str().unwrap()]).await;
    assert!(started.elapsed() < Duration::from_secs(10), "stops at once");
    assert_eq!(run.outcome.code(), 4, "{}", run.stdout);
    let lines = run.stdout.lines().count();
    assert!(lines < 30, "{lines} lines:\n{}", run.stdout);
    assert!(
        run.stdout.contains(&target),
        "names the URL:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("could not connect"),
        "names the cause:\n{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("left behind"),
        "nothing was created, nothing is left behind:\n{}",
        run.stdout
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["verdict"], "unreachable");
    assert_eq!(json["scenarios"], json!([]));
    assert_eq!(json["cleanup"]["left_behind"], json!([]));
}

#[tokio::test]
async fn a_rejected_token_stops_with_exit_6_naming_the_variable_and_the_answer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header(
                    "WWW-Authenticate",
                    r#"Bearer error="invalid_token", error_description="the token expired""#,
                )
                .set_body_json(
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": "401", "detail": "unauthorized"}),
                ),
        )
        .mount(&server)
        .await;
    let dir = TempDir::new("rejected");
    let started = Instant::now();
    let run = catalogue_run(&server.uri(), &dir, &[]).await;
    assert!(started.elapsed() < Duration::from_secs(10), "stops at once");
    assert_eq!(run.outcome.code(), 6, "{}", run.stdout);
    let lines = run.stdout.lines().count();
    assert!(lines < 30, "{lines} lines:\n{}", run.stdout);
    for needle in [
        "SCIMREPLAY_TOKEN",
        "401",
        "invalid_token",
        "credentials rejected",
    ] {
        assert!(run.stdout.contains(needle), "{needle}:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    let sent = server.received_requests().await.unwrap();
    assert!(
        sent.iter().all(|r| r.method.as_str() == "GET"),
        "only the probes were sent"
    );
    assert!(sent.len() <= 3, "only the probes were sent: {}", sent.len());
}

#[tokio::test]
async fn a_report_path_that_is_a_folder_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let dir = TempDir::new("json-folder");
    let scenario = dir.write(
        "s.json",
        &json!({"name": "one", "summary": "a read", "dialect": "any",
            "steps": [{"id": "read", "request": {"method": "GET", "path": "/Users"},
                "expect": {"status": 200}}]})
        .to_string(),
    );
    let folder = dir.path().join("reports");
    std::fs::create_dir(&folder).unwrap();
    let run = run_file(
        &server.uri(),
        scenario.to_str().unwrap(),
        &["--no-snapshots", "--json", folder.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.outcome.code(), 3, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("--json"), "{}", run.stderr);
    assert!(
        run.stderr.contains("is a folder"),
        "says why: {}",
        run.stderr
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// A create the endpoint refuses, so the scenario fails on every run.
fn refused_create() -> Value {
    json!({"name": "refused-create", "summary": "a create answered 400", "dialect": "any",
        "steps": [{"id": "create", "request": {"method": "POST", "path": "/Users",
            "body": {"userName": "{{run.prefix}}alice@example.com"}},
            "expect": {"status": 201}}]})
}

#[tokio::test]
async fn a_failing_first_run_leaves_no_accepted_baseline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400", "scimType": "invalidValue", "detail": "userName is not allowed"})))
        .mount(&server)
        .await;
    let dir = TempDir::new("first-run");
    let scenario = dir.write("s.json", &refused_create().to_string());
    let snaps = dir.path().join("snapshots");
    let state = dir.path().join("state");
    let run = run_file(
        &server.uri(),
        scenario.to_str().unwrap(),
        &[
            "--no-preflight",
            "--snapshot-dir",
            snaps.to_str().unwrap(),
            "--baseline",
            "first",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
    let baseline = snaps.join("first");
    assert!(
        !baseline.join("refused-create.snap").exists(),
        "a failing transcript is not the baseline:\n{}",
        run.stdout
    );
    assert!(
        baseline.join("refused-create.snap.new").exists(),
        "it is proposed as pending:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains(".snap.new"), "{}", run.stdout);
}

#[tokio::test]
async fn an_unreachable_run_writes_no_snapshot_at_all() {
    let dir = TempDir::new("unreachable-snap");
    let scenario = dir.write("s.json", &refused_create().to_string());
    let snaps = dir.path().join("snapshots");
    let state = dir.path().join("state");
    let target = format!("http://127.0.0.1:{}/scim", closed_port());
    let run = run_file(
        &target,
        scenario.to_str().unwrap(),
        &[
            "--no-preflight",
            "--snapshot-dir",
            snaps.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.outcome.code(), 4, "{}", run.stdout);
    let written: Vec<_> = walk(&snaps);
    assert!(written.is_empty(), "{written:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_of_an_interrupted_run_says_interrupted() {
    let server = MockServer::start().await;
    // Every read hangs far longer than the test waits; nothing is created.
    Mock::given(method("GET"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let dir = TempDir::new("interrupted");
    let scenario = dir.write(
        "s.json",
        &json!({"name": "hanging-read", "summary": "a read that never answers in time",
            "dialect": "any",
            "steps": [{"id": "read", "request": {"method": "GET", "path": "/Users"},
                "expect": {"status": 200}}]})
        .to_string(),
    );
    let (json_path, md_path, junit_path) = (
        dir.path().join("r.json"),
        dir.path().join("r.md"),
        dir.path().join("r.xml"),
    );
    let state = dir.path().join("state");
    let uri = server.uri();
    let mut child = Spawned::start(&[
        "run",
        "--target",
        &uri,
        "--no-builtin",
        "--scenarios",
        scenario.to_str().unwrap(),
        "--no-preflight",
        "--no-snapshots",
        "--timeout",
        "60",
        "--state-dir",
        state.to_str().unwrap(),
        "--json",
        json_path.to_str().unwrap(),
        "--markdown",
        md_path.to_str().unwrap(),
        "--junit",
        junit_path.to_str().unwrap(),
    ]);
    child.line(Duration::from_secs(20), |l| {
        l.starts_with("scimreplay: 1 scenario")
    });
    let started = Instant::now();
    while server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty()
    {
        assert!(started.elapsed() < Duration::from_secs(20), "no request");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.signal("INT");
    let (code, stdout) = child.exit(Duration::from_secs(20));
    assert_eq!(code, 4, "{stdout}");
    assert!(
        stdout.contains("result: interrupted"),
        "terminal:\n{stdout}"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(json["verdict"], "interrupted", "JSON");
    let md = std::fs::read_to_string(&md_path).unwrap();
    let heading = md.lines().next().unwrap_or_default();
    assert!(
        heading.contains("interrupted") && !md.contains("✅"),
        "Markdown:\n{md}"
    );
    let junit = std::fs::read_to_string(&junit_path).unwrap();
    assert!(
        junit.contains("interrupted") && (junit.contains("<error") || junit.contains("<failure")),
        "JUnit:\n{junit}"
    );
}

/// An endpoint that answers 500 `database is locked` to a request that overlapped another
/// one, and an empty ListResponse otherwise (each request is held a moment, so two
/// scenarios started together always overlap); its base URL.
async fn locks_under_concurrency(always: bool) -> String {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let in_flight = Arc::new(AtomicUsize::new(0));
    let arrivals = Arc::new(AtomicUsize::new(0));
    let handler = move || {
        let (in_flight, arrivals) = (Arc::clone(&in_flight), Arc::clone(&arrivals));
        async move {
            // Overlapped: another request was in flight when this one came, or came while
            // this one was held.
            let earlier = in_flight.fetch_add(1, Ordering::SeqCst) > 0;
            let arrived = arrivals.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let overlapped = earlier || arrivals.load(Ordering::SeqCst) > arrived;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            if overlapped || always {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    [("content-type", "application/scim+json")],
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                        "status": "500", "detail": "database is locked"})
                    .to_string(),
                )
            } else {
                (
                    axum::http::StatusCode::OK,
                    [("content-type", "application/scim+json")],
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                        "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
                    .to_string(),
                )
            }
        }
    };
    let app = axum::Router::new().route("/scim/Users", axum::routing::get(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/scim", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// Two scenarios that each send one matching query.
fn two_queries(dir: &TempDir) -> std::path::PathBuf {
    for name in ["query-a", "query-b"] {
        dir.write(
            &format!("scenarios/{name}.json"),
            &json!({"name": name, "summary": "a matching query", "dialect": "any",
                "steps": [{"id": "match", "request": {"method": "GET", "path": "/Users",
                    "query": {"filter": "userName eq \"{{run.prefix}}nobody\""}},
                    "expect": {"status": 200, "checks": ["scim.list-response"]}}]})
            .to_string(),
        );
    }
    dir.path().join("scenarios")
}

async fn concurrency_run(
    target: &str,
    dir: &TempDir,
) -> (crate::support::CliRun, Value, String, String) {
    let scenarios = two_queries(dir);
    let (json_path, md_path, junit_path) = (
        dir.path().join("r.json"),
        dir.path().join("r.md"),
        dir.path().join("r.xml"),
    );
    let state = dir.path().join("state");
    let run = run_file(
        target,
        scenarios.to_str().unwrap(),
        &[
            "--no-preflight",
            "--no-snapshots",
            "--jobs",
            "2",
            "--state-dir",
            state.to_str().unwrap(),
            "--json",
            json_path.to_str().unwrap(),
            "--markdown",
            md_path.to_str().unwrap(),
            "--junit",
            junit_path.to_str().unwrap(),
        ],
    )
    .await;
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let md = std::fs::read_to_string(&md_path).unwrap();
    let junit = std::fs::read_to_string(&junit_path).unwrap();
    (run, json, md, junit)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_that_only_happens_when_requests_overlap_is_labelled_only_under_concurrency() {
    let target = locks_under_concurrency(false).await;
    let dir = TempDir::new("concurrency");
    let (run, json, md, junit) = concurrency_run(&target, &dir).await;
    // Entra sends requests concurrently: it stays a finding.
    assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
    let causes = json["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "one cause: {causes:#?}");
    assert_eq!(causes[0]["only_under_concurrency"], true, "{:#}", causes[0]);
    assert!(
        causes[0]["answered"]
            .as_str()
            .unwrap()
            .contains("database is locked")
    );
    for scenario in json["scenarios"].as_array().unwrap() {
        assert_eq!(scenario["rerun"]["cleared"], true, "{scenario:#}");
        assert_eq!(
            scenario["steps"][0]["status"], "failed",
            "the first run is reported"
        );
    }
    assert!(
        run.stdout.contains("only under concurrency")
            && run.stdout.contains("query-a passed when run again alone"),
        "terminal:\n{}",
        run.stdout
    );
    assert!(md.contains("only under concurrency"), "Markdown:\n{md}");
    assert!(junit.contains("only under concurrency"), "JUnit:\n{junit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_that_comes_back_alone_is_not_a_concurrency_effect() {
    let target = locks_under_concurrency(true).await;
    let dir = TempDir::new("no-concurrency");
    let (run, json, md, junit) = concurrency_run(&target, &dir).await;
    assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
    let causes = json["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{causes:#?}");
    assert!(
        causes[0].get("only_under_concurrency").is_none(),
        "{:#}",
        causes[0]
    );
    for scenario in json["scenarios"].as_array().unwrap() {
        assert_eq!(scenario["rerun"]["cleared"], false, "{scenario:#}");
    }
    assert!(run.stdout.contains("failed again"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("only under concurrency"),
        "{}",
        run.stdout
    );
    assert!(!md.contains("only under concurrency") && !junit.contains("only under concurrency"));
}

#[tokio::test]
async fn a_failure_that_is_not_a_5xx_or_a_timeout_is_not_run_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&server)
        .await;
    let dir = TempDir::new("no-rerun");
    let scenario = dir.write("s.json", &refused_create().to_string());
    let state = dir.path().join("state");
    let run = run_file(
        &server.uri(),
        scenario.to_str().unwrap(),
        &[
            "--no-preflight",
            "--no-snapshots",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "sent once"
    );
    assert!(!run.stdout.contains("again alone"), "{}", run.stdout);
}
