//! Safety: only this run's objects are touched, everything created is cleaned up, and the
//! token appears in no output.

use crate::support::{TOKEN, TempDir, cli, run_file, run_scenario, step_status};
use scimreplay::exit::Outcome;
use serde_json::json;
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

#[tokio::test]
async fn a_foreign_id_is_never_modified() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    let scenario = json!({"name": "foreign", "summary": "touches a fixed id", "dialect": "any",
        "steps": [
            {"id": "patch", "request": {"method": "PATCH", "path": "/Users/real-customer-1",
                "body": {"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}},
             "expect": {"status": [200, 204]}},
            {"id": "delete", "request": {"method": "DELETE", "path": "/Users/real-customer-1"}, "expect": {"status": 204}}]});
    let (run, report) = run_scenario(&server.uri(), &scenario).await;
    assert_eq!(step_status(&report, "patch"), "errored");
    assert_eq!(step_status(&report, "delete"), "errored");
    assert_eq!(
        report["scenarios"][0]["steps"][0]["exchange"]["fault"]["kind"],
        "refused"
    );
    assert_eq!(run.outcome, Outcome::EndpointOrHarness, "{}", run.stdout);
    // `expect(0)` is verified when the server drops.
}

#[tokio::test]
async fn creates_without_the_run_prefix_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let scenario = json!({"name": "noprefix", "summary": "creates a plain name", "dialect": "any",
        "steps": [{"id": "create", "request": {"method": "POST", "path": "/Users",
            "body": {"userName": "alice@example.com"}}, "expect": {"status": 201}}]});
    let (_, report) = run_scenario(&server.uri(), &scenario).await;
    let fault = &report["scenarios"][0]["steps"][0]["exchange"]["fault"];
    assert_eq!(fault["kind"], "refused");
    assert!(fault["message"].as_str().unwrap().contains("run prefix"));
}

#[tokio::test]
async fn created_objects_are_deleted_newest_first_even_when_steps_fail() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"externalId": "first"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "u-1"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"externalId": "second"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "u-2"})))
        .mount(&server)
        .await;
    // A 400, not a 5xx: a 5xx would run the scenario again alone at the end (with this
    // mock's same ids), and this test is about the order of one scenario's cleanup.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let scenario = json!({"name": "two", "summary": "two creates, a failing step", "dialect": "any",
        "steps": [
            {"id": "a", "request": {"method": "POST", "path": "/Users", "body": {"userName": "{{run.prefix}}a", "externalId": "first"}}, "expect": {"status": 201}, "capture": {"a": "/id"}},
            {"id": "b", "request": {"method": "POST", "path": "/Users", "body": {"userName": "{{run.prefix}}b", "externalId": "second"}}, "expect": {"status": 201}},
            {"id": "fails", "request": {"method": "GET", "path": "/Users/{{a}}"}, "expect": {"status": 200}}]});
    let (run, report) = run_scenario(&server.uri(), &scenario).await;
    assert_eq!(run.outcome, Outcome::ChecksFailed);
    assert_eq!(
        report["cleanup"]["deleted"],
        json!(["/Users/u-2", "/Users/u-1"])
    );
    let deletes: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(deletes, vec!["/Users/u-2", "/Users/u-1"]);
}

/// An endpoint that echoes the Authorization header back, in a header and in the body, for
/// every request: list queries, creates and deletes.
async fn echoing_endpoint() -> MockServer {
    let server = MockServer::start().await;
    let echo = |req: &Request| {
        let auth = req
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        let status = match req.method.as_str() {
            "POST" => 201,
            "DELETE" => 500,
            _ => 400,
        };
        ResponseTemplate::new(status)
            .insert_header("X-Echo", auth.as_str())
            .insert_header("Location", format!("https://h/scim/Users/{auth}").as_str())
            .set_body_json(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "id": "u-echo", "status": status.to_string(),
                "detail": format!("bad request with {auth}"),
                "Resources": [{"id": "g-1", "userName": format!("scimreplay-a1b2c3-{auth}"),
                               "displayName": format!("scimreplay-a1b2c3-{auth}")}],
                "totalResults": 1}),
            )
    };
    Mock::given(wiremock::matchers::any())
        .respond_with(echo)
        .mount(&server)
        .await;
    server
}

/// Fails the test when `text` (named `what`) holds the token.
fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(TOKEN), "{what} leaks the token:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_appears_in_no_output() {
    let server = echoing_endpoint().await;
    let target = format!("{}/scim", server.uri());
    let dir = TempDir::new("secrets");
    let file = dir.write("s.json", &json!({"name": "echo", "summary": "fails", "dialect": "any",
        "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users", "query": {"filter": "userName eq \"x\""}},
                   "expect": {"status": 200, "checks": ["scim.list-response"]}},
                  {"id": "create", "request": {"method": "POST", "path": "/Users",
                      "body": {"userName": "{{run.prefix}}alice@example.com"}},
                   "expect": {"status": 201}}]}).to_string());
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let markdown = dir.path().join("r.md");
    let findings = dir.path().join("findings.txt");
    let state = dir.path().join("state");
    let snaps = dir.path().join("snaps");
    for color in ["never", "always"] {
        let run = run_file(
            &target,
            file.to_str().unwrap(),
            &[
                "--json",
                json.to_str().unwrap(),
                "--junit",
                junit.to_str().unwrap(),
                "--markdown",
                markdown.to_str().unwrap(),
                "--findings",
                findings.to_str().unwrap(),
                "--state-dir",
                state.to_str().unwrap(),
                "--snapshot-dir",
                snaps.to_str().unwrap(),
                "--color",
                color,
                "--verbose",
            ],
        )
        .await;
        // The DELETE of cleanup fails, so the run leaves the echoed object behind.
        assert_eq!(run.outcome, Outcome::CleanupIncomplete, "{}", run.stdout);
        assert_clean("the terminal", &run.stdout);
        assert_clean("stderr", &run.stderr);
        assert!(
            run.stdout.contains("$SCIMREPLAY_TOKEN"),
            "the curl line uses the variable:\n{}",
            run.stdout
        );
    }
    // Recorded requests show the header, redacted.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let headers = &report["scenarios"][0]["steps"][0]["exchange"]["request"]["headers"];
    assert_eq!(headers[0], json!(["Authorization", "Bearer [redacted]"]));

    let mut files = vec![
        json.clone(),
        junit.clone(),
        markdown.clone(),
        findings.clone(),
    ];
    for dir in [&state, &snaps] {
        files.extend(walk(dir));
    }
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "jsonl"))
            && files.iter().any(|f| f.to_string_lossy().contains(".snap")),
        "expected reports, a ledger and a snapshot: {files:?}"
    );
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        assert!(!text.is_empty(), "{} was written", f.display());
        assert_clean(&f.display().to_string(), &text);
    }

    // `cleanup` of the ledger the runs left (the echoing DELETE fails again), and a sweep whose
    // listing echoes the token in names.
    let ledgers = scimreplay::run::ledger::list(&state.join("ledgers"));
    let finish = cli(&[
        "cleanup",
        "--ledger",
        ledgers[0].to_str().unwrap(),
        "--target",
        &target,
    ])
    .await;
    assert_eq!(
        finish.outcome,
        Outcome::CleanupIncomplete,
        "{}",
        finish.stdout
    );
    assert_clean(
        "cleanup --ledger",
        &format!("{}{}", finish.stdout, finish.stderr),
    );
    for yes in [false, true] {
        let mut args = vec![
            "cleanup",
            "--min-age",
            "0",
            "--prefix",
            "scimreplay-",
            "--target",
            &target,
        ];
        if yes {
            args.push("--yes");
        }
        let sweep = cli(&args).await;
        assert_clean(
            "cleanup --prefix",
            &format!("{}{}", sweep.stdout, sweep.stderr),
        );
    }

    // `--dry-run` prints the requests it would send.
    let dry = run_file(&target, file.to_str().unwrap(), &["--dry-run"]).await;
    assert!(
        dry.stdout.contains("/Users"),
        "{}{}",
        dry.stdout,
        dry.stderr
    );
    assert_clean("--dry-run", &format!("{}{}", dry.stdout, dry.stderr));

    // `show`, and error messages: a target carrying the token, a bad scenario, a TLS failure.
    let show = cli(&[
        "show",
        "echo",
        "--no-builtin",
        "--scenarios",
        file.to_str().unwrap(),
        "--target",
        &target,
    ])
    .await;
    assert_eq!(show.outcome, Outcome::Passed, "{}", show.stderr);
    assert_clean("show", &show.stdout);
    let with_credentials = format!("http://admin:{TOKEN}@127.0.0.1:9/scim");
    for bad in [
        with_credentials.as_str(),
        "ftp://127.0.0.1/scim",
        "not a url",
    ] {
        let run = cli(&["run", "--target", bad, "--no-snapshots"]).await;
        assert_eq!(run.outcome, Outcome::InvalidInput, "{bad}");
        assert_clean("a bad --target", &run.stderr);
        let run = cli(&[
            "cleanup",
            "--min-age",
            "0",
            "--prefix",
            "scimreplay-",
            "--target",
            bad,
        ])
        .await;
        assert_clean("a bad cleanup --target", &run.stderr);
    }
    let broken = dir.write("broken.json", "{\"name\": \"x\", \"steps\": [}");
    let run = run_file(&target, broken.to_str().unwrap(), &[]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert_clean("a scenario error", &run.stderr);
    let tls = crate::tls::tls_endpoint().await;
    let (run, _) = crate::support::run_scenario(&tls.url, &scenario_probe()).await;
    assert!(run.stdout.contains("--cacert"), "{}", run.stdout);
    assert_clean("a TLS error", &format!("{}{}", run.stdout, run.stderr));

    // `serve`'s banner names the variable, never its value.
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_scimreplay"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SCIMREPLAY_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(serve.stdout.take().unwrap()).lines();
        for line in lines.by_ref().take(5).map_while(Result::ok) {
            banner.push_str(&line);
            banner.push('\n');
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(banner.contains("$SCIMREPLAY_TOKEN"), "{banner}");
    assert_clean("serve's banner", &banner);
}

fn scenario_probe() -> serde_json::Value {
    json!({"name": "probe", "summary": "one query", "dialect": "any",
           "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users"},
                      "expect": {"status": 200}}]})
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn dot_segments_cannot_smuggle_a_foreign_id_past_the_guard() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "mine"})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let scenario = json!({"name": "dots", "summary": "a path that climbs out", "dialect": "any",
        "steps": [
            {"id": "create", "request": {"method": "POST", "path": "/Users", "body": {"userName": "{{run.prefix}}a"}},
             "expect": {"status": 201}, "capture": {"a": "/id"}},
            {"id": "climb", "request": {"method": "PATCH", "path": "/Users/{{a}}/../real-customer",
                "body": {"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}},
             "expect": {"status": [200, 204]}}]});
    let (_, report) = run_scenario(&server.uri(), &scenario).await;
    assert_eq!(step_status(&report, "climb"), "errored");
    let fault = &report["scenarios"][0]["steps"][1]["exchange"]["fault"];
    assert_eq!(fault["kind"], "refused");
    assert!(
        fault["message"].as_str().unwrap().contains("`..`"),
        "{fault}"
    );
}

/// An endpoint that creates users without returning their id, and finds them by filter.
async fn idless_endpoint(findable: bool) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]})),
        )
        .mount(&server)
        .await;
    let lookup = move |req: &Request| {
        let filter = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "filter")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let name = filter.split('"').nth(1).unwrap_or_default().to_string();
        let resources = if findable {
            vec![json!({"id": "hidden-1", "userName": name})]
        } else {
            vec![]
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": resources.len(), "Resources": resources}))
    };
    Mock::given(method("GET"))
        .respond_with(lookup)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

fn create_only() -> serde_json::Value {
    json!({"name": "idless", "summary": "a create answered without an id", "dialect": "any",
        "steps": [{"id": "create", "request": {"method": "POST", "path": "/Users",
            "body": {"userName": "{{run.prefix}}alice"}}, "expect": {"status": 201}}]})
}

#[tokio::test]
async fn a_create_answered_without_an_id_is_found_by_name_and_cleaned_up() {
    let server = idless_endpoint(true).await;
    let (run, report) = run_scenario(&server.uri(), &create_only()).await;
    assert_eq!(
        report["cleanup"]["deleted"],
        json!(["/Users/hidden-1"]),
        "{}",
        run.stdout
    );
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stdout);
}

#[tokio::test]
async fn a_create_that_cannot_be_found_is_reported_as_left_behind() {
    let server = idless_endpoint(false).await;
    let (run, report) = run_scenario(&server.uri(), &create_only()).await;
    assert_eq!(run.outcome, Outcome::CleanupIncomplete, "{}", run.stdout);
    let left = report["cleanup"]["left_behind"][0]["reason"]
        .as_str()
        .unwrap();
    assert!(
        left.contains("without an id") && left.contains("cleanup --prefix"),
        "{left}"
    );
}

#[tokio::test]
async fn a_capture_that_finds_nothing_fails_its_step_and_writes_no_snapshot() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "u-1"})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let dir = TempDir::new("capture");
    let file = dir.write("s.json", &json!({"name": "capture-miss", "summary": "captures a missing field", "dialect": "any",
        "steps": [
            {"id": "create", "request": {"method": "POST", "path": "/Users", "body": {"userName": "{{run.prefix}}a"}},
             "expect": {"status": 201}, "capture": {"a": "/identifier"}},
            {"id": "read", "request": {"method": "GET", "path": "/Users/{{a}}"}, "expect": {"status": 200}}]}).to_string());
    let snaps = dir.path().join("snaps");
    let state = dir.path().join("state");
    let run = run_file(
        &server.uri(),
        file.to_str().unwrap(),
        &[
            "--snapshot-dir",
            snaps.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.outcome, Outcome::ChecksFailed, "{}", run.stdout);
    assert!(run.stdout.contains("capture a"), "{}", run.stdout);
    // A failing transcript is only proposed (`.snap.new`), never made the baseline.
    let written = walk(&snaps);
    assert!(
        written
            .iter()
            .all(|f| f.extension().is_some_and(|e| e == "new")),
        "a failing transcript is never stored as the baseline: {written:?}"
    );
}

#[tokio::test]
async fn cleanup_target_with_no_ledgers_has_nothing_to_do() {
    let dir = TempDir::new("no-ledgers");
    let state = dir.path().join("state");
    let run = cli(&[
        "cleanup",
        "--target",
        "http://127.0.0.1:9/scim",
        "--state-dir",
        state.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    assert!(run.stdout.contains("no ledgers"), "{}", run.stdout);
}
