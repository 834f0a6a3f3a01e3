//! 429 answers: `Retry-After` is honoured up to `--max-retry-wait`, the wait is recorded in
//! the exchange and shown in the terminal; a longer one is not waited.

use crate::support::{run_scenario_with, step_status};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn probe() -> Value {
    json!({"name": "probe", "summary": "one query", "dialect": "any",
           "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users",
                       "query": {"filter": "userName eq \"{{uuid}}\""}},
                      "expect": {"status": 200, "checks": ["scim.list-response"]}}]})
}

fn empty_list() -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
           "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
}

/// Answers `throttled` 429s with `Retry-After: retry_after`, then 200 with an empty list.
async fn throttling(throttled: u64, retry_after: Option<&str>) -> MockServer {
    let server = MockServer::start().await;
    let mut too_many = ResponseTemplate::new(429);
    if let Some(after) = retry_after {
        too_many = too_many.insert_header("Retry-After", after);
    }
    Mock::given(method("GET"))
        .respond_with(too_many)
        .up_to_n_times(throttled)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/scim+json")
                .set_body_json(empty_list()),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn gets(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .count()
}

#[tokio::test]
async fn retry_after_is_honoured_and_reported() {
    let server = throttling(1, Some("1")).await;
    let started = Instant::now();
    let (run, report) = run_scenario_with(&server.uri(), &probe(), &[]).await;
    let elapsed = started.elapsed();
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stdout);
    assert_eq!(step_status(&report, "probe"), "passed");
    let exchange = &report["scenarios"][0]["steps"][0]["exchange"];
    assert_eq!(exchange["retries"], json!([1]));
    assert_eq!(exchange["response"]["status"], 200);
    assert!(elapsed >= Duration::from_secs(1), "waited: {elapsed:?}");
    assert_eq!(gets(&server).await, 2);
    assert!(
        run.stdout.contains("429") && run.stdout.contains("waited 1s"),
        "the terminal shows the wait even for a passing step:\n{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_429_without_retry_after_waits_one_second() {
    let server = throttling(1, None).await;
    let (run, report) = run_scenario_with(&server.uri(), &probe(), &[]).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stdout);
    let exchange = &report["scenarios"][0]["steps"][0]["exchange"];
    assert_eq!(exchange["retries"], json!([1]));
}

#[tokio::test]
async fn a_retry_after_above_the_cap_is_not_waited() {
    let server = throttling(5, Some("30")).await;
    let started = Instant::now();
    let (run, report) =
        run_scenario_with(&server.uri(), &probe(), &["--max-retry-wait", "2"]).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait out 30 s"
    );
    assert_eq!(gets(&server).await, 1, "no retry");
    assert_eq!(step_status(&report, "probe"), "failed");
    let step = &report["scenarios"][0]["steps"][0];
    assert_eq!(step["exchange"]["response"]["status"], 429);
    assert!(step["exchange"].get("retries").is_none(), "{step:#}");
    let checks = step["checks"].to_string();
    assert!(checks.contains("TooManyRequests"), "{checks}");
    assert!(
        run.stdout
            .contains("Retry-After 30s is above --max-retry-wait 2s"),
        "says why it did not wait:\n{}",
        run.stdout
    );
    assert_eq!(run.outcome, Outcome::ChecksFailed);
}

#[tokio::test]
async fn retries_stop_after_the_limit() {
    let server = throttling(10, Some("0")).await;
    let (run, report) = run_scenario_with(&server.uri(), &probe(), &[]).await;
    assert_eq!(step_status(&report, "probe"), "failed");
    let exchange = &report["scenarios"][0]["steps"][0]["exchange"];
    assert_eq!(exchange["retries"], json!([0, 0, 0]));
    assert_eq!(exchange["response"]["status"], 429);
    assert_eq!(gets(&server).await, 4, "one try and three retries");
    assert!(run.stdout.contains("3 retries"), "{}", run.stdout);
}
