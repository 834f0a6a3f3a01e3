//! Failure isolation: when an endpoint refuses one attribute of Entra's full mapped create,
//! that is one cause, and every scenario whose subject is not the create retries its setup
//! with the required attributes only and goes on to test its own subject.

use super::front::{self, TITLE_REFUSED};
use crate::support::{TOKEN, run_scenario};
use serde_json::{Value, json};

fn scenario(setup: bool) -> Value {
    json!({
        "name": "isolation-disable",
        "summary": "Entra disables a user it created",
        "dialect": "default",
        "vars": {"domain": "example.com"},
        "directory": {"users": {"alice": {
            "userPrincipalName": "{{run.prefix}}iso.alice@{{domain}}",
            "displayName": "Alice Smith", "givenName": "Alice", "surname": "Smith",
            "mail": "{{run.prefix}}iso.alice@{{domain}}", "mailNickname": "alice",
            "jobTitle": "Engineer", "department": "Sales"
        }}},
        "steps": [
            {"id": "create", "entra": {"action": "create-user", "user": "alice"}, "setup": setup},
            {"id": "disable", "entra": {"action": "disable-user", "user": "alice"}},
            {"id": "match", "entra": {"action": "match-user", "user": "alice"}}
        ]
    })
}

fn steps(report: &Value) -> Vec<(String, String, Option<String>)> {
    report["scenarios"][0]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or_default().to_string(),
                s["status"].as_str().unwrap_or_default().to_string(),
                s["fallback"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn row(id: &str, status: &str, fallback: Option<&str>) -> (String, String, Option<String>) {
    (id.into(), status.into(), fallback.map(str::to_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_setup_create_is_retried_and_the_subject_still_tested() {
    let server = front::spawn(TITLE_REFUSED, TOKEN).await;
    let (_, report) = run_scenario(&server.base_url(), &scenario(true)).await;
    server.shutdown().await;
    assert_eq!(
        steps(&report),
        [
            row("create", "failed", Some("refused")),
            row("create-fallback", "passed", Some("retry")),
            row("create-fallback-read", "passed", Some("retry")),
            row("disable", "passed", None),
            row("disable-read", "passed", None),
            row("match", "passed", None),
        ],
        "{report:#}"
    );
    let causes = report["causes"].as_array().expect("causes");
    assert_eq!(causes.len(), 1, "{causes:#?}");
    assert!(
        causes[0]["answered"]
            .as_str()
            .unwrap()
            .contains("'title' is not supported"),
        "{causes:#?}"
    );
    assert_eq!(report["summary"]["skipped"], 0);
    assert_eq!(report["summary"]["consequences"], 0);
    // The fallback body is the required attributes only.
    let fallback_body: Value = serde_json::from_str(
        report["scenarios"][0]["steps"][1]["exchange"]["request"]["body"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(fallback_body.get("title").is_none() && fallback_body.get("userName").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_whose_subject_is_the_create_does_not_fall_back() {
    let server = front::spawn(TITLE_REFUSED, TOKEN).await;
    let (_, report) = run_scenario(&server.base_url(), &scenario(false)).await;
    server.shutdown().await;
    let rows = steps(&report);
    assert_eq!(rows[0], row("create", "failed", None), "{rows:?}");
    assert!(
        rows.iter().all(|(_, _, f)| f.is_none()),
        "no fallback: {rows:?}"
    );
    assert!(
        rows[1..].iter().all(|(_, status, _)| status == "skipped"),
        "without a fallback the steps that need the id are skipped: {rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_setup_create_sends_no_fallback() {
    let server = super::start(super::Defect::None).await;
    let (_, report) = run_scenario(&server.base_url(), &scenario(true)).await;
    server.shutdown().await;
    let rows = steps(&report);
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.iter().all(|(_, s, f)| s == "passed" && f.is_none()));
}
