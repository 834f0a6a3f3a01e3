//! Diagnosis against misbehaving endpoints: a run that cannot succeed stops at once with its
//! own exit code and a few lines; failures are said once per cause; a failing transcript
//! never becomes the baseline; every report of an interrupted run says so; report paths
//! that can never be written are refused before anything is sent.

use crate::interrupt::Spawned;
use crate::support::{TOKEN, TempDir, cli, reference_with, run_file};
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

/// How the auth test endpoint treats a PATCH without valid credentials.
#[derive(Clone, Copy, PartialEq)]
enum Unauthorised {
    /// 401, nothing changes.
    Refused,
    /// 200, and the change is applied.
    Accepted,
    /// 401, but the change is applied anyway.
    RefusedButApplied,
}

/// A small stateful SCIM endpoint for `auth-rejected-write`: one user store; `store_display`
/// off drops `displayName` on create (an endpoint that does not keep every attribute).
async fn auth_endpoint(unauthorised: Unauthorised, store_display: bool) -> String {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    type Store = Arc<Mutex<HashMap<String, Value>>>;
    fn authorised(headers: &HeaderMap) -> bool {
        headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {TOKEN}"))
    }
    fn scim(status: StatusCode, body: Value) -> axum::response::Response {
        (
            status,
            [("content-type", "application/scim+json")],
            body.to_string(),
        )
            .into_response()
    }
    fn denied() -> axum::response::Response {
        scim(
            StatusCode::UNAUTHORIZED,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "401", "detail": "no valid token"}),
        )
    }
    let store: Store = Arc::default();
    let create = move |State(store): State<Store>, headers: HeaderMap, body: String| async move {
        if !authorised(&headers) {
            return denied();
        }
        let mut user: Value = serde_json::from_str(&body).unwrap_or_default();
        let id = uuid::Uuid::new_v4().to_string();
        user["id"] = json!(id);
        if !store_display {
            user.as_object_mut().unwrap().remove("displayName");
        }
        store.lock().unwrap().insert(id, user.clone());
        scim(StatusCode::CREATED, user)
    };
    let read = |State(store): State<Store>, headers: HeaderMap, Path(id): Path<String>| async move {
        if !authorised(&headers) {
            return denied();
        }
        match store.lock().unwrap().get(&id) {
            Some(user) => scim(StatusCode::OK, user.clone()),
            None => scim(StatusCode::NOT_FOUND, json!({"status": "404"})),
        }
    };
    let patch = move |State(store): State<Store>,
                      headers: HeaderMap,
                      Path(id): Path<String>,
                      body: String| async move {
        let ok = authorised(&headers);
        if !ok && unauthorised == Unauthorised::Refused {
            return denied();
        }
        let body: Value = serde_json::from_str(&body).unwrap_or_default();
        let mut users = store.lock().unwrap();
        let Some(user) = users.get_mut(&id) else {
            return scim(StatusCode::NOT_FOUND, json!({"status": "404"}));
        };
        for op in body["Operations"].as_array().into_iter().flatten() {
            if let Some(path) = op["path"].as_str() {
                user[path] = op["value"].clone();
            }
        }
        if !ok && unauthorised == Unauthorised::RefusedButApplied {
            return denied();
        }
        scim(StatusCode::OK, user.clone())
    };
    let delete = |State(store): State<Store>, headers: HeaderMap, Path(id): Path<String>| async move {
        if !authorised(&headers) {
            return denied();
        }
        store.lock().unwrap().remove(&id);
        StatusCode::NO_CONTENT.into_response()
    };
    let list = |headers: HeaderMap| async move {
        if !authorised(&headers) {
            return denied();
        }
        scim(
            StatusCode::OK,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}),
        )
    };
    let app = axum::Router::new()
        .route("/scim/Users", axum::routing::post(create).get(list))
        .route(
            "/scim/Users/{id}",
            axum::routing::get(read).patch(patch).delete(delete),
        )
        .with_state(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/scim", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// `auth-rejected-write` from the catalogue against `target`: the CLI result and JSON report.
async fn auth_write_run(target: &str) -> (crate::support::CliRun, Value) {
    let dir = TempDir::new("auth-write");
    let report = dir.path().join("r.json");
    let run = catalogue_run(
        target,
        &dir,
        &[
            "--no-preflight",
            "-s",
            "auth-rejected-write",
            "--json",
            report.to_str().unwrap(),
        ],
    )
    .await;
    let json = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    (run, json)
}

fn step_of<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["scenarios"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
}

#[tokio::test]
async fn correct_401s_and_an_attribute_never_stored_are_no_security_finding() {
    let target = auth_endpoint(Unauthorised::Refused, false).await;
    let (run, report) = auth_write_run(&target).await;
    // The create's read-back (an Entra create implies one) rightly reports the attribute
    // that was never stored; the probe's verification must not turn that into a security
    // finding.
    let failed: Vec<&Value> = report["scenarios"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .map(|s| &s["id"])
        .collect();
    assert_eq!(failed, [&Value::from("create-read")], "{}", run.stdout);
    assert_eq!(step_of(&report, "verify-unchanged")["status"], "passed");
    assert!(!run.stdout.contains("modify accounts"), "{}", run.stdout);
}

#[tokio::test]
async fn an_unauthenticated_patch_that_succeeds_is_a_security_finding() {
    for mode in [Unauthorised::Accepted, Unauthorised::RefusedButApplied] {
        let target = auth_endpoint(mode, true).await;
        let (run, report) = auth_write_run(&target).await;
        assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
        let verify = step_of(&report, "verify-unchanged");
        assert_eq!(verify["status"], "failed", "{verify:#}");
        let check = verify["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["passed"] == false)
            .unwrap();
        assert_eq!(
            check["check"],
            "json /displayName unchanged since read-before"
        );
        assert_eq!(check["expected"], "\"Alice Smith\", as read-before read it");
        assert_eq!(check["actual"], "\"Changed Without Token\"");
        assert!(
            check["impact"]
                .as_str()
                .unwrap()
                .contains("modify accounts"),
            "{check:#}"
        );
        let probe = step_of(&report, "patch-no-token");
        let expected = if mode == Unauthorised::Accepted {
            "failed"
        } else {
            "passed"
        };
        assert_eq!(probe["status"], expected, "{probe:#}");
    }
}

/// Every impact text of a report's failed checks.
fn impacts(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for scenario in report["scenarios"].as_array().into_iter().flatten() {
        for step in scenario["steps"].as_array().into_iter().flatten() {
            for check in step["checks"].as_array().into_iter().flatten() {
                if let Some(impact) = check["impact"]
                    .as_str()
                    .filter(|_| check["passed"] == false)
                {
                    out.push(format!("{} › {}: {impact}", scenario["name"], step["id"]));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn a_read_after_a_refused_patch_never_says_the_patch_was_accepted() {
    let refused = reference_with("case_sensitive_ops").await;
    let dir = TempDir::new("refused-patch");
    let report = dir.path().join("r.json");
    let run = catalogue_run(
        &refused.base_url(),
        &dir,
        &["-s", "user-disable-*", "--json", report.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let texts = impacts(&json);
    assert!(
        texts.iter().any(|t| t.contains("was refused with 400")),
        "{texts:#?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("accepted the PATCH")),
        "{texts:#?}"
    );
    assert!(!run.stdout.contains("accepted the PATCH"), "{}", run.stdout);

    // The true positive: the PATCH is answered 2xx and dropped.
    let dropped = reference_with("patch_noop").await;
    let report = dir.path().join("r2.json");
    let run = catalogue_run(
        &dropped.base_url(),
        &dir,
        &[
            "-s",
            "user-disable-default",
            "--json",
            report.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let texts = impacts(&json);
    assert!(
        texts.iter().any(|t| t.contains("accepted the PATCH")),
        "{texts:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_faults_at_once_show_one_cause_per_fault_with_their_counts() {
    let server =
        reference_with("filter_miss_404,case_sensitive_ops,members_not_excluded,manager_as_string")
            .await;
    let dir = TempDir::new("faults");
    let report = dir.path().join("r.json");
    let run = catalogue_run(
        &server.base_url(),
        &dir,
        &["--json", report.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let causes: Vec<&Value> = json["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rank"] != "warning")
        .collect();
    let summary: Vec<String> = causes
        .iter()
        .map(|c| format!("{} | {} | {}", c["sent"], c["answered"], c["check"]))
        .collect();
    let of = |what: &dyn Fn(&Value) -> bool| causes.iter().filter(|c| what(c)).count();
    let answered = |c: &Value, text: &str| c["answered"].as_str().unwrap().contains(text);
    assert_eq!(
        of(&|c| answered(c, "no resource matches the filter")),
        1,
        "{summary:#?}"
    );
    assert_eq!(of(&|c| answered(c, "unknown op")), 1, "{summary:#?}");
    assert_eq!(
        of(&|c| c["check"] == "entra.members-excluded"),
        1,
        "{summary:#?}"
    );
    assert_eq!(
        of(&|c| c["check"] == "entra.manager-complex"),
        1,
        "{summary:#?}"
    );
    assert_eq!(causes.len(), 4, "one cause per fault: {summary:#?}");
    for cause in &causes {
        let scenarios = cause["scenarios"].as_u64().unwrap();
        let failures = cause["failures"].as_array().unwrap().len();
        assert!(scenarios >= 1 && failures >= 1, "{cause:#}");
        let counted = format!(
            "{} · {failures} failure{} in {scenarios} scenario",
            cause["id"].as_str().unwrap(),
            if failures == 1 { "" } else { "s" }
        );
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(cause["id"].as_str().unwrap()) && l.contains(" in "));
        let line = line.unwrap_or_default();
        assert!(
            line.contains(&format!("{failures} failure"))
                && line.contains(&format!("in {scenarios} scenario")),
            "{counted}: {line}"
        );
    }
    // The refused PATCHes' read-backs are consequences, not more failures.
    let unknown_op = causes.iter().find(|c| answered(c, "unknown op")).unwrap();
    assert!(!unknown_op["consequences"].as_array().unwrap().is_empty());
    let lines = run.stdout.lines().count();
    assert!(lines < 700, "a few hundred lines, not thousands: {lines}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_markdown_of_the_worst_case_stays_under_the_step_summary_limit() {
    // Every request answered 500 with a large page: every step of every scenario fails.
    let page = format!(
        "<html><body>{}</body></html>",
        "<p>internal error</p>\n".repeat(4000)
    );
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "text/html")
                .set_body_string(page),
        )
        .mount(&server)
        .await;
    let dir = TempDir::new("worst-md");
    let md = dir.path().join("r.md");
    let run = catalogue_run(
        &server.uri(),
        &dir,
        &["--no-preflight", "--markdown", md.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
    let size = std::fs::metadata(&md).unwrap().len();
    assert!(size < 1024 * 1024, "{size} bytes");
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("500"), "the causes are in it");
}
