//! Every check, proven: against a wiremock endpoint that gets it wrong the check fails, and
//! against one that answers correctly it passes.

use crate::support::{run_scenario, step_checks};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};
use wiremock::matchers::{any, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SCIM: &str = "application/scim+json";

/// One check and two answers: one that must trip it, one that must satisfy it.
struct Case {
    check: &'static str,
    request: Value,
    expect: Value,
    bad: (u16, &'static str, Value),
    good: (u16, &'static str, Value),
    /// The outcome of the run on the bad answer (warn-level checks do not fail the run).
    bad_outcome: Outcome,
}

fn list(resources: Vec<Value>) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
           "totalResults": resources.len(), "startIndex": 1, "itemsPerPage": resources.len(),
           "Resources": resources})
}

fn user(id: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id,
           "userName": "scimreplay-x-alice@example.com", "active": true,
           "meta": {"resourceType": "User", "location": format!("https://h/scim/Users/{id}")}})
}

fn filter_request() -> Value {
    json!({"method": "GET", "path": "/Users", "query": {"filter": "userName eq \"{{uuid}}\""}})
}

fn scenario(request: &Value, expect: &Value) -> Value {
    json!({"name": "probe", "summary": "one request", "dialect": "any",
           "steps": [{"id": "probe", "request": request, "expect": expect}]})
}

async fn serve(answer: &(u16, &'static str, Value)) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(1)
        .mount(&server)
        .await;
    let body = match &answer.2 {
        Value::String(raw) => raw.clone().into_bytes(),
        other => serde_json::to_vec(other).unwrap(),
    };
    Mock::given(any())
        .respond_with(ResponseTemplate::new(answer.0).set_body_raw(body, answer.1))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn prove(case: Case) {
    let scenario = scenario(&case.request, &case.expect);
    for (answer, should_pass) in [(&case.bad, false), (&case.good, true)] {
        let server = serve(answer).await;
        let (run, report) = run_scenario(&format!("{}/scim", server.uri()), &scenario).await;
        let checks = step_checks(&report, "probe");
        let relevant: Vec<_> = checks
            .iter()
            .filter(|(c, ..)| c.starts_with(case.check))
            .collect();
        // The `body` gate only speaks up when a body is unusable; every other check always
        // reports an outcome, passed or not.
        let silent_when_fine = should_pass && case.check == "body";
        assert!(
            silent_when_fine || !relevant.is_empty(),
            "{}: no `{}` outcome in {checks:?}\nstdout: {}\nstderr: {}",
            case.check,
            case.check,
            run.stdout,
            run.stderr
        );
        if should_pass {
            assert!(
                relevant.iter().all(|(_, passed, _)| *passed),
                "{} should pass on the correct answer: {relevant:?}",
                case.check
            );
            assert_eq!(
                run.outcome,
                Outcome::Passed,
                "{}: {}",
                case.check,
                run.stdout
            );
        } else {
            assert!(
                relevant.iter().any(|(_, passed, _)| !passed),
                "{} should fail on the wrong answer: {relevant:?}",
                case.check
            );
            assert_eq!(
                run.outcome, case.bad_outcome,
                "{}: {}",
                case.check, run.stdout
            );
            assert!(
                run.stdout.contains(case.check),
                "{}: report lacks the check:\n{}",
                case.check,
                run.stdout
            );
        }
    }
}

#[tokio::test]
async fn status_404_instead_of_an_empty_list() {
    prove(Case {
        check: "status",
        request: filter_request(),
        expect: json!({"status": 200}),
        bad: (404, SCIM, json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "no such user"})),
        good: (200, SCIM, list(vec![])),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn list_response_with_string_total_and_no_schemas() {
    prove(Case {
        check: "scim.list-response",
        request: filter_request(),
        expect: json!({"status": 200, "checks": ["scim.list-response"]}),
        bad: (200, SCIM, json!({"totalResults": "0", "Resources": []})),
        good: (200, SCIM, list(vec![])),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn empty_list_that_is_not_empty() {
    prove(Case {
        check: "entra.empty-list",
        request: filter_request(),
        expect: json!({"status": 200, "checks": ["entra.empty-list"]}),
        bad: (200, SCIM, list(vec![user("u-1")])),
        good: (200, SCIM, list(vec![])),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn single_match_with_two_hits() {
    prove(Case {
        check: "entra.single-match",
        request: filter_request(),
        expect: json!({"status": 200, "checks": ["entra.single-match"]}),
        bad: (200, SCIM, list(vec![user("u-1"), user("u-2")])),
        good: (200, SCIM, list(vec![user("u-1")])),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn created_resource_without_id() {
    let request = json!({"method": "POST", "path": "/Users",
        "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "{{run.prefix}}alice"}});
    prove(Case {
        check: "scim.resource",
        request,
        expect: json!({"status": 201, "checks": ["scim.resource"]}),
        bad: (
            201,
            SCIM,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice"}),
        ),
        good: (201, SCIM, user("u-1")),
        // The object was created but cannot be tracked (this endpoint answers every lookup
        // with the same id-less body), so it is reported as left behind: exit 5 outranks 1.
        bad_outcome: Outcome::CleanupIncomplete,
    })
    .await;
}

#[tokio::test]
async fn error_body_that_is_not_a_scim_error() {
    prove(Case {
        check: "scim.error",
        request: json!({"method": "GET", "path": "/Users/{{uuid.ghost}}"}),
        expect: json!({"status": 404, "checks": ["scim.error"]}),
        bad: (404, SCIM, json!({"error": "not found"})),
        good: (404, SCIM, json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "Resource not found"})),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn content_type_text_html() {
    prove(Case {
        check: "scim.content-type",
        request: filter_request(),
        expect: json!({"status": 200, "checks": ["scim.content-type"]}),
        bad: (200, "text/html", list(vec![])),
        good: (200, SCIM, list(vec![])),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn members_returned_despite_exclusion() {
    let group = |members: bool| {
        let mut g = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g-1", "displayName": "Sales"});
        if members {
            g["members"] = json!([{"value": "u-1"}]);
        }
        list(vec![g])
    };
    prove(Case {
        check: "entra.members-excluded",
        request: json!({"method": "GET", "path": "/Groups", "query": {"excludedAttributes": "members", "filter": "displayName eq \"Sales\""}}),
        expect: json!({"status": 200, "checks": ["entra.members-excluded"]}),
        bad: (200, SCIM, group(true)),
        good: (200, SCIM, group(false)),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn manager_rendered_as_a_bare_string() {
    let with_manager = |manager: Value| {
        let mut u = user("u-1");
        u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
            json!({"manager": manager});
        u
    };
    prove(Case {
        check: "entra.manager-complex",
        request: json!({"method": "GET", "path": "/Users/{{uuid.someone}}"}),
        expect: json!({"status": 200, "checks": ["entra.manager-complex"]}),
        bad: (200, SCIM, with_manager(json!("u-2"))),
        good: (200, SCIM, with_manager(json!({"value": "u-2"}))),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn active_as_a_string() {
    let with_active = |active: Value| {
        let mut u = user("u-1");
        u["active"] = active;
        list(vec![u])
    };
    prove(Case {
        check: "entra.active-boolean",
        request: filter_request(),
        expect: json!({"status": 200, "checks": ["entra.active-boolean"]}),
        bad: (200, SCIM, with_active(json!("False"))),
        good: (200, SCIM, with_active(json!(false))),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn nulls_in_a_schema_response() {
    prove(Case {
        check: "entra.no-nulls",
        request: json!({"method": "GET", "path": "/Schemas"}),
        expect: json!({"status": 200, "checks": ["entra.no-nulls"]}),
        bad: (
            200,
            SCIM,
            json!({"Resources": [{"id": "urn:x", "description": null}]}),
        ),
        good: (
            200,
            SCIM,
            json!({"Resources": [{"id": "urn:x", "description": "d"}]}),
        ),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn json_assertion_equals() {
    let with_active = |active: bool| {
        let mut u = user("u-1");
        u["active"] = json!(active);
        u
    };
    prove(Case {
        check: "json",
        request: json!({"method": "GET", "path": "/Users/{{uuid.someone}}"}),
        expect: json!({"status": 200, "json": [{"pointer": "/active", "equals": false,
            "impact": "the user stays active in the app after Entra disabled it"}]}),
        bad: (200, SCIM, with_active(true)),
        good: (200, SCIM, with_active(false)),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn html_error_page_where_json_is_needed() {
    prove(Case {
        check: "body",
        request: filter_request(),
        expect: json!({"status": [200, 500], "checks": ["scim.list-response"]}),
        bad: (
            500,
            "text/html",
            json!("<html><body><h1>Internal Server Error</h1></body></html>"),
        ),
        good: (200, SCIM, list(vec![])),
        bad_outcome: Outcome::ChecksFailed,
    })
    .await;
}

#[tokio::test]
async fn missing_location_is_only_a_warning() {
    let request = json!({"method": "POST", "path": "/Users",
        "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "{{run.prefix}}alice"}});
    let server_bad = (201, SCIM, user("u-1"));
    // The good answer carries a Location equal to meta.location; wiremock needs a header for it,
    // so this case is proven by a dedicated mock below rather than the table helper.
    let scenario = scenario(
        &request,
        &json!({"status": 201, "checks": ["scim.location"]}),
    );
    let bad = serve(&server_bad).await;
    let (run, report) = run_scenario(&format!("{}/scim", bad.uri()), &scenario).await;
    let checks = step_checks(&report, "probe");
    assert!(
        checks
            .iter()
            .any(|(c, passed, _)| c.starts_with("scim.location") && !passed),
        "{checks:?}"
    );
    assert_eq!(
        run.outcome,
        Outcome::Passed,
        "a warning alone passes: {}",
        run.stdout
    );

    let good = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&good)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("Location", "https://h/scim/Users/u-1")
                .set_body_raw(serde_json::to_vec(&user("u-1")).unwrap(), SCIM),
        )
        .mount(&good)
        .await;
    let (run, report) = run_scenario(&format!("{}/scim", good.uri()), &scenario).await;
    let checks = step_checks(&report, "probe");
    assert!(
        checks
            .iter()
            .filter(|(c, ..)| c.starts_with("scim.location"))
            .all(|(_, p, _)| *p),
        "{checks:?}"
    );
    assert_eq!(run.outcome, Outcome::Passed);
}
