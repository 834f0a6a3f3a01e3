//! Safety: only this run's objects are touched, everything created is cleaned up, and the
//! token appears in no output.

use crate::support::{TOKEN, TempDir, cli, run_scenario, step_status};
use scimreplay::exit::Outcome;
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
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
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
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

#[tokio::test]
async fn the_token_appears_in_no_output() {
    // An endpoint that echoes the Authorization header back, in a header and in the body.
    let server = MockServer::start().await;
    let echo = |req: &Request| {
        let auth = req
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        ResponseTemplate::new(400)
            .insert_header("X-Echo", auth.as_str())
            .set_body_json(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400", "detail": format!("bad request with {auth}")}))
    };
    Mock::given(path("/scim/Users"))
        .respond_with(echo)
        .mount(&server)
        .await;
    let dir = TempDir::new("secrets");
    let file = dir.write("s.json", &json!({"name": "echo", "summary": "fails", "dialect": "any",
        "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users", "query": {"filter": "userName eq \"x\""}},
                   "expect": {"status": 200, "checks": ["scim.list-response"]}}]}).to_string());
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let state = dir.path().join("state");
    let snaps = dir.path().join("snaps");
    for color in ["never", "always"] {
        let run = cli(&[
            "run",
            "--target",
            &format!("{}/scim", server.uri()),
            "--no-builtin",
            "--scenarios",
            file.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--snapshot-dir",
            snaps.to_str().unwrap(),
            "--color",
            color,
            "--verbose",
        ])
        .await;
        assert_eq!(run.outcome, Outcome::ChecksFailed, "{}", run.stdout);
        assert!(
            !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
            "terminal output leaks the token"
        );
        assert!(
            run.stdout.contains("$SCIMREPLAY_TOKEN"),
            "the curl line uses the variable:\n{}",
            run.stdout
        );
    }
    let mut files = vec![json.clone(), junit.clone()];
    for dir in [&state, &snaps] {
        files.extend(walk(dir));
    }
    assert!(
        files.len() >= 4,
        "expected reports, a ledger and a snapshot: {files:?}"
    );
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(!text.contains(TOKEN), "{} contains the token", f.display());
    }
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
