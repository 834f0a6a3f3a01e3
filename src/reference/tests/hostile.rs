//! Requests an attacker (or a very unlucky client) sends: filters and paths built to
//! exhaust the stack, batches built to be quadratic, stores filled to exhaust memory, and
//! floods meant to lock out real clients. Each is answered with a SCIM error, quickly, and
//! the endpoint keeps serving.

use axum::http::StatusCode;
use serde_json::json;

use super::{Endpoint, assert_scim_error};

/// `n` comparisons joined by `op`, e.g. 40 000 `and` terms (about 270 KB).
fn chain(term: &str, op: &str, n: usize) -> String {
    vec![term; n].join(op)
}

#[tokio::test]
async fn a_flat_chain_of_forty_thousand_terms_is_refused_and_the_endpoint_lives() {
    let ep = Endpoint::new();
    ep.user("alice@example.com").await;
    for op in [" and ", " or "] {
        let filter = chain(r#"userName eq "x""#, op, 40_000);
        assert!(filter.len() > 250_000);
        let reply = ep
            .post("/scim/v2/Users/.search", json!({"filter": filter}))
            .await;
        assert_scim_error(&reply, StatusCode::BAD_REQUEST, Some("invalidFilter"));
        let detail = reply.body["detail"].as_str().unwrap_or_default();
        assert!(detail.len() < 1000, "the error echoes the whole filter");
    }
    let group = ep.group("Sales").await;
    let path = format!("members[{}]", chain(r#"value eq "x""#, " and ", 30_000));
    let reply = ep
        .patch(
            &format!("/scim/v2/Groups/{group}"),
            json!([{"op": "remove", "path": path}]),
        )
        .await;
    assert_scim_error(&reply, StatusCode::BAD_REQUEST, Some("invalidPath"));
    let alive = ep
        .get("/scim/v2/Users?filter=userName+eq+%22alice%40example.com%22")
        .await;
    assert_eq!(alive.body["totalResults"], json!(1));
}

#[tokio::test]
async fn the_longest_allowed_chain_is_answered() {
    let ep = Endpoint::new();
    ep.user("alice@example.com").await;
    let filter = format!(
        "{} or userName eq \"alice@example.com\"",
        chain("title pr", " or ", crate::reference::MAX_FILTER_TERMS - 1)
    );
    let reply = ep
        .post("/scim/v2/Users/.search", json!({"filter": filter}))
        .await;
    assert_eq!(reply.body["totalResults"], json!(1), "{}", reply.body);
}
