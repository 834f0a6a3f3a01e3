//! The headers the harness sends: Entra's bare defaults (no User-Agent, no JSON Accept), and
//! `--header` for a firewall that needs one more, never printed.

use crate::support::{TempDir, cli};
use scimreplay::exit::Outcome;
use serde_json::json;
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const GATEWAY_KEY: &str = "gateway-key-93c1d7e2";

fn scenario(dir: &TempDir) -> String {
    let scenario = json!({"name": "probe", "summary": "one probe", "dialect": "any", "steps": [{
        "id": "probe",
        "request": {"method": "GET", "path": "/Users",
                    "query": {"filter": "userName eq \"{{uuid}}\""}},
        "expect": {"status": 200, "checks": ["entra.empty-list"]}}]});
    let file = dir.write("probe.json", &scenario.to_string());
    file.to_str().unwrap().to_string()
}

async fn gateway() -> MockServer {
    let server = MockServer::start().await;
    let empty = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                       "totalResults": 0, "Resources": []});
    Mock::given(method("GET"))
        .and(header("x-gateway-key", GATEWAY_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn run(server: &MockServer, dir: &TempDir, extra: &[&str]) -> (Outcome, String) {
    let report = dir.path().join("report.json");
    let state = dir.path().join("state");
    let file = scenario(dir);
    let target = format!("{}/scim", server.uri());
    let mut args = vec![
        "run",
        // This test judges the scenario's steps; the preflight would stop it first.
        "--no-preflight",
        "--target",
        &target,
        "--no-builtin",
        "--scenarios",
        &file,
        "--no-snapshots",
        "--color",
        "never",
        "--verbose",
        "--json",
        report.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = cli(&args).await;
    let report = std::fs::read_to_string(&report).unwrap_or_default();
    (run.outcome, format!("{}{}{report}", run.stdout, run.stderr))
}

#[tokio::test]
async fn requests_carry_no_user_agent_and_no_json_accept() {
    let server = gateway().await;
    let dir = TempDir::new("bare-headers");
    run(&server, &dir, &[]).await;
    let requests: Vec<Request> = server.received_requests().await.unwrap();
    assert!(!requests.is_empty());
    for request in requests {
        assert!(request.headers.get("user-agent").is_none(), "{request:?}");
        let accept = request
            .headers
            .get("accept")
            .map(|v| v.to_str().unwrap().to_string());
        assert!(!accept.unwrap_or_default().contains("json"), "{request:?}");
    }
}

#[tokio::test]
async fn a_gateway_header_is_sent_and_never_printed() {
    let server = gateway().await;
    let dir = TempDir::new("gateway-header");
    let (without, _) = run(&server, &dir, &[]).await;
    assert_eq!(without, Outcome::ChecksFailed);
    let flag = format!("X-Gateway-Key: {GATEWAY_KEY}");
    let (with, output) = run(&server, &dir, &["--header", &flag]).await;
    assert_eq!(with, Outcome::Passed, "{output}");
    assert!(output.contains("X-Gateway-Key"), "{output}");
    assert!(
        !output.contains(GATEWAY_KEY),
        "the header value leaked:\n{output}"
    );
}

#[tokio::test]
async fn a_malformed_or_reserved_header_is_invalid_input() {
    let server = gateway().await;
    let dir = TempDir::new("bad-header");
    for (flag, says) in [
        ("X-Gateway-Key", "is not `Name: Value`"),
        ("Authorization: Bearer x", "is set by the harness"),
    ] {
        let (outcome, output) = run(&server, &dir, &["--header", flag]).await;
        assert_eq!(outcome, Outcome::InvalidInput, "{output}");
        assert!(output.contains(says), "{flag}: {output}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
