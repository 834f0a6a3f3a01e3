//! The orphan sweep: `scimreplay cleanup --prefix scimreplay- --target URL` finds what crashed
//! runs left (dry run by default), `--yes` deletes exactly those, and nothing else is touched.

use crate::support::{TOKEN, cli, list_resources};
use scimreplay::exit::Outcome;
use scimreplay::reference::{self, ServerConfig};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What the endpoint holds: path → (name, exact GET bytes).
async fn snapshot(http: &reqwest::Client, base: &str) -> BTreeMap<String, (String, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for (collection, attr) in [("Users", "userName"), ("Groups", "displayName")] {
        for r in list_resources(http, base, collection).await {
            let path = format!("/{collection}/{}", r["id"].as_str().unwrap());
            let bytes = http
                .get(format!("{base}{path}"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec();
            out.insert(path, (r[attr].as_str().unwrap().to_string(), bytes));
        }
    }
    out
}

async fn create(http: &reqwest::Client, base: &str, collection: &str, body: Value) {
    let status = http
        .post(format!("{base}/{collection}"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 201, "{body}");
}

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": true})
}

fn group(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name})
}

/// Leftovers of two crashed runs (more than one page of them) beside the endpoint's own data,
/// some of it named almost like them.
async fn seeded() -> (reference::RunningServer, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = reference::spawn(listener, ServerConfig::new(TOKEN))
        .await
        .unwrap();
    let base = server.base_url();
    let http = reqwest::Client::new();
    for n in 0..130 {
        create(
            &http,
            &base,
            "Users",
            user(&format!("scimreplay-a1b2c3-u{n}@example.com")),
        )
        .await;
    }
    create(
        &http,
        &base,
        "Users",
        user("scimreplay-d4e5f6-alice@example.com"),
    )
    .await;
    create(&http, &base, "Groups", group("scimreplay-a1b2c3-Sales")).await;
    create(&http, &base, "Groups", group("scimreplay-d4e5f6-lgr Sales")).await;
    for name in [
        "alice@example.com",
        "scimreplay@example.com",
        "x-scimreplay-a1b2c3-eve@example.com",
        "scimreplay_a1b2c3-bob@example.com",
    ] {
        create(&http, &base, "Users", user(name)).await;
    }
    for name in ["Sales", "scimreplay", "Team scimreplay-a1b2c3-"] {
        create(&http, &base, "Groups", group(name)).await;
    }
    (server, base)
}

fn is_leftover(name: &str) -> bool {
    name.starts_with("scimreplay-a1b2c3-") || name.starts_with("scimreplay-d4e5f6-")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_lists_the_leftovers_and_deletes_nothing() {
    let (_server, base) = seeded().await;
    let http = reqwest::Client::new();
    let before = snapshot(&http, &base).await;
    let run = cli(&[
        "cleanup",
        "--min-age",
        "0",
        "--prefix",
        "scimreplay-",
        "--target",
        &base,
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("133 object(s) named `scimreplay-*`"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("add --yes"), "{}", run.stdout);
    for (path, (name, _)) in &before {
        assert_eq!(
            run.stdout.contains(&format!("{path}  {name}")),
            is_leftover(name),
            "{name}:\n{}",
            run.stdout
        );
    }
    assert_eq!(
        snapshot(&http, &base).await,
        before,
        "a dry run changes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yes_deletes_exactly_the_prefixed_objects() {
    let (_server, base) = seeded().await;
    let http = reqwest::Client::new();
    let before = snapshot(&http, &base).await;
    let run = cli(&[
        "cleanup",
        "--min-age",
        "0",
        "--prefix",
        "scimreplay-",
        "--target",
        &base,
        "--yes",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout.matches("  deleted ").count(),
        133,
        "{}",
        run.stdout
    );
    let after = snapshot(&http, &base).await;
    let kept: BTreeMap<_, _> = before
        .into_iter()
        .filter(|(_, (name, _))| !is_leftover(name))
        .collect();
    assert_eq!(kept.len(), 7);
    assert_eq!(after, kept, "exactly the others remain, byte for byte");

    // One run's prefix sweeps only that run.
    let again = cli(&[
        "cleanup",
        "--min-age",
        "0",
        "--prefix",
        "scimreplay-a1b2c3-",
        "--target",
        &base,
        "--yes",
    ])
    .await;
    assert_eq!(again.outcome, Outcome::Passed);
    assert!(
        again.stdout.contains("no users or groups"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn a_prefix_outside_the_namespace_is_refused() {
    for prefix in ["alice", "", "scimreplay", "x-scimreplay-", "Scimreplay"] {
        let run = cli(&[
            "cleanup",
            "--min-age",
            "0",
            "--prefix",
            prefix,
            "--target",
            "http://127.0.0.1:9/scim",
            "--yes",
        ])
        .await;
        assert_eq!(
            run.outcome,
            Outcome::InvalidInput,
            "{prefix:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("scimreplay-"), "{}", run.stderr);
    }
    let run = cli(&["cleanup", "--min-age", "0", "--prefix", "scimreplay-"]).await;
    assert_eq!(
        run.outcome,
        Outcome::InvalidInput,
        "--prefix needs --target"
    );
}

#[tokio::test]
async fn a_failed_delete_is_reported_with_exit_five() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
            "Resources": [{"id": "u-9", "userName": "scimreplay-a1b2c3-x", "displayName": "scimreplay-a1b2c3-x"}]})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let run = cli(&[
        "cleanup",
        "--min-age",
        "0",
        "--prefix",
        "scimreplay-",
        "--target",
        &server.uri(),
        "--yes",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::CleanupIncomplete, "{}", run.stdout);
    assert!(run.stdout.contains("LEFT /Users/u-9"), "{}", run.stdout);
    assert!(run.stdout.contains("403"), "{}", run.stdout);
}

#[tokio::test]
async fn an_endpoint_that_cannot_be_listed_is_exit_four() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    let run = cli(&[
        "cleanup",
        "--min-age",
        "0",
        "--prefix",
        "scimreplay-",
        "--target",
        &server.uri(),
        "--yes",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::EndpointOrHarness, "{}", run.stderr);
    assert!(run.stderr.contains("401"), "{}", run.stderr);
}

#[tokio::test]
async fn an_endpoint_that_ignores_paging_is_listed_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 500, "startIndex": 1, "itemsPerPage": 2,
            "Resources": [{"id": "1", "userName": "scimreplay-a1b2c3-x", "displayName": "scimreplay-a1b2c3-x"},
                          {"id": "2", "userName": "bob", "displayName": "bob"}]})))
        .mount(&server)
        .await;
    let run = cli(&[
        "cleanup",
        "--min-age",
        "0",
        "--prefix",
        "scimreplay-",
        "--target",
        &server.uri(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    assert!(
        run.stdout.contains("2 object(s)"),
        "one user, one group:\n{}",
        run.stdout
    );
    let gets = server.received_requests().await.unwrap().len();
    assert_eq!(
        gets, 4,
        "two pages per collection, the second seen as a repeat"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_a_run_still_in_progress_are_safe_from_a_sweep() {
    // Everything was created a moment ago, as by a run in progress elsewhere.
    let (_server, base) = seeded().await;
    let http = reqwest::Client::new();
    let before = snapshot(&http, &base).await;
    let run = cli(&[
        "cleanup",
        "--prefix",
        "scimreplay-",
        "--target",
        &base,
        "--yes",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("under --min-age 60"), "{}", run.stdout);
    assert!(run.stdout.contains("old enough to sweep"), "{}", run.stdout);
    assert_eq!(snapshot(&http, &base).await, before, "nothing was deleted");
}
