//! One test per row of the exit-code table in the README.

use crate::support::{TempDir, cli, cli_env, run_file, run_scenario};
use scimreplay::exit::Outcome;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn probe(expect_status: u16) -> serde_json::Value {
    json!({"name": "probe", "summary": "one request", "dialect": "any",
           "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users",
                       "query": {"filter": "userName eq \"{{uuid}}\""}},
                      "expect": {"status": expect_status}}]})
}

async fn answering(status: u16, body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn zero_when_everything_passes() {
    let server = answering(200, json!({"Resources": [], "totalResults": 0})).await;
    let (run, _) = run_scenario(&server.uri(), &probe(200)).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stdout);
    assert_eq!(run.outcome.code(), 0);
}

#[tokio::test]
async fn one_when_a_check_fails() {
    let server = answering(404, json!({})).await;
    let (run, _) = run_scenario(&server.uri(), &probe(200)).await;
    assert_eq!(run.outcome.code(), 1, "{}", run.stdout);
}

#[tokio::test]
async fn two_when_only_snapshots_drift() {
    let dir = TempDir::new("drift");
    let file = dir.write("probe.json", &probe(200).to_string());
    let snaps = dir.path().join("snaps");
    let state = dir.path().join("state");
    let run_against = |uri: String| {
        let file = file.clone();
        let snaps = snaps.clone();
        let state = state.clone();
        async move {
            run_file(
                &uri,
                file.to_str().unwrap(),
                &[
                    "--snapshot-dir",
                    snaps.to_str().unwrap(),
                    "--baseline",
                    "it",
                    "--state-dir",
                    state.to_str().unwrap(),
                ],
            )
            .await
        }
    };
    let first = answering(200, json!({"Resources": [], "totalResults": 0})).await;
    let run = run_against(first.uri()).await;
    assert_eq!(
        run.outcome,
        Outcome::Passed,
        "a new snapshot is not drift: {}",
        run.stdout
    );
    let changed = answering(
        200,
        json!({"Resources": [], "totalResults": 0, "extra": "field"}),
    )
    .await;
    let run = run_against(changed.uri()).await;
    assert_eq!(run.outcome.code(), 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("extra"),
        "the diff shows the change:\n{}",
        run.stdout
    );
}

#[tokio::test]
async fn three_on_invalid_input() {
    let dir = TempDir::new("invalid");
    let bad = dir.write("bad.json", "{\"name\": \"x\", \"steps\": [}");
    let run = cli(&["run", "--no-builtin", "--scenarios", bad.to_str().unwrap()]).await;
    assert_eq!(run.outcome.code(), 3);
    assert!(
        run.stderr.contains("bad.json:1:"),
        "located error: {}",
        run.stderr
    );

    let run = cli(&["run", "--jobs", "0"]).await;
    assert_eq!(run.outcome.code(), 3, "{}", run.stderr);

    let run = cli(&["run", "--frobnicate"]).await;
    assert_eq!(run.outcome.code(), 3);

    let run = cli_env(&["run", "--target", "http://127.0.0.1:9/scim"], &[]).await;
    assert_eq!(run.outcome.code(), 3);
    assert!(run.stderr.contains("SCIMREPLAY_TOKEN"), "{}", run.stderr);
}

#[tokio::test]
async fn four_when_the_endpoint_cannot_be_reached() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let (run, report) = run_scenario(&format!("http://127.0.0.1:{port}/scim"), &probe(200)).await;
    assert_eq!(run.outcome.code(), 4, "{}", run.stdout);
    let step = &report["scenarios"][0]["steps"][0];
    assert_eq!(step["status"], "errored");
    assert_eq!(step["exchange"]["fault"]["kind"], "connect");
}

#[tokio::test]
async fn five_when_cleanup_leaves_objects_behind() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": "u-77", "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let scenario = json!({"name": "creates", "summary": "one create", "dialect": "any",
        "steps": [{"id": "create", "request": {"method": "POST", "path": "/Users",
            "body": {"userName": "{{run.prefix}}alice"}}, "expect": {"status": 201}}]});
    let (run, report) = run_scenario(&server.uri(), &scenario).await;
    assert_eq!(run.outcome.code(), 5, "{}", run.stdout);
    assert_eq!(report["cleanup"]["left_behind"][0]["path"], "/Users/u-77");
    assert!(
        run.stdout.contains("scimreplay cleanup"),
        "names the command to finish: {}",
        run.stdout
    );
}
