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

#[tokio::test]
async fn unauthenticated_floods_do_not_spend_the_rate_limit() {
    let ep = Endpoint::with(crate::reference::ServerConfig {
        rate_limit: Some(2),
        ..crate::reference::ServerConfig::new(super::TOKEN)
    });
    for _ in 0..5 {
        let request = axum::http::Request::builder()
            .uri("/scim/v2/Users")
            .header(axum::http::header::AUTHORIZATION, "Bearer wrong")
            .body(axum::body::Body::empty())
            .unwrap_or_default();
        assert_eq!(ep.send(request).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(ep.get("/scim/v2/Users").await.status, StatusCode::OK);
    assert_eq!(ep.get("/scim/v2/Users").await.status, StatusCode::OK);
    let limited = ep.get("/scim/v2/Users").await;
    assert_scim_error(&limited, StatusCode::TOO_MANY_REQUESTS, None);
}

/// `n` users named `{prefix}{i}@x`, created straight in the store (fast), by id.
fn seed_users(ep: &Endpoint, prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            ep.seed(
                crate::reference::attr::Kind::User,
                json!({"userName": format!("{prefix}{i}@x")}),
            )
        })
        .collect()
}

fn member_values(ids: &[String]) -> serde_json::Value {
    ids.iter().map(|id| json!({"value": id})).collect()
}

#[tokio::test]
async fn big_member_batches_are_linear_and_bounded() {
    let ep = Endpoint::new();
    let ids = seed_users(&ep, "m", crate::reference::MAX_BATCH_VALUES);
    let group = ep.group("Big").await;
    let uri = format!("/scim/v2/Groups/{group}");
    let started = std::time::Instant::now();
    let add = json!([{"op": "Add", "path": "members", "value": member_values(&ids)}]);
    assert_eq!(ep.patch(&uri, add).await.status, StatusCode::NO_CONTENT);
    let again = json!([{"op": "add", "path": "members", "value": member_values(&ids)}]);
    assert_eq!(ep.patch(&uri, again).await.status, StatusCode::NO_CONTENT);
    let removals: Vec<serde_json::Value> = ids[..crate::reference::MAX_OPERATIONS]
        .iter()
        .map(|id| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}))
        .collect();
    assert_eq!(
        ep.patch(&uri, json!(removals)).await.status,
        StatusCode::NO_CONTENT
    );
    let by_list =
        json!([{"op": "Remove", "path": "members", "value": member_values(&ids[1000..5000])}]);
    assert_eq!(ep.patch(&uri, by_list).await.status, StatusCode::NO_CONTENT);
    // Quadratic matching took minutes here; linear work takes well under a second.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let left = ep.get(&uri).await;
    let members = left.body["members"].as_array().map(Vec::len);
    assert_eq!(members, Some(5000));
    assert_eq!(left.body["members"][0]["value"], json!(ids[5000]));

    let too_many = json!([{"op": "Add", "path": "members", "value": member_values(&[ids.clone(), vec![ids[0].clone()]].concat())}]);
    assert_scim_error(
        &ep.patch(&uri, too_many).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
    );
    let ops = vec![
        json!({"op": "replace", "path": "displayName", "value": "Big"});
        crate::reference::MAX_OPERATIONS + 1
    ];
    assert_scim_error(
        &ep.patch(&uri, json!(ops)).await,
        StatusCode::BAD_REQUEST,
        Some("invalidSyntax"),
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_heavy_request_does_not_hold_up_a_light_one() {
    let ep = Endpoint::new();
    // About 1 MB of small objects: slow to parse and ingest, allowed by every limit.
    let tags: Vec<serde_json::Value> = (0..110_000).map(|i| json!({"a": i % 10})).collect();
    let heavy = json!({"userName": "heavy@x",
        "urn:ietf:params:scim:schemas:extension:Acme:2.0:User": {"tags": tags}});
    let heavy_ep = ep.clone();
    let heavy = tokio::spawn(async move { heavy_ep.post("/scim/v2/Users", heavy).await.status });
    // Give the heavy request its first poll: it is now working, off this thread or on it.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let light = ep.get("/scim/v2/ServiceProviderConfig").await;
    assert_eq!(light.status, StatusCode::OK);
    assert!(
        !heavy.is_finished(),
        "the light request waited for the heavy one"
    );
    assert!(heavy.await.is_ok());
}

fn limited(limits: crate::reference::StoreLimits) -> Endpoint {
    Endpoint::with(crate::reference::ServerConfig {
        store_limits: limits,
        ..crate::reference::ServerConfig::new(super::TOKEN)
    })
}

#[tokio::test]
async fn a_create_that_would_amplify_in_memory_is_refused() {
    let ep = Endpoint::new();
    // ~1 MB of text, ~100 MB as parsed values.
    let objects: Vec<serde_json::Value> = (0..120_000).map(|_| json!({"a": 1})).collect();
    let body = json!({"userName": "big@x", "urn:ietf:params:scim:schemas:extension:Acme:2.0:User": {"x": objects}});
    let reply = ep.post("/scim/v2/Users", body).await;
    assert_scim_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, None);
    assert!(
        reply.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("bytes to store"))
    );
    assert_eq!(
        ep.get("/scim/v2/Users").await.body["totalResults"],
        json!(0)
    );
}

#[tokio::test]
async fn a_full_store_answers_507_until_something_is_deleted() {
    let ep = limited(crate::reference::StoreLimits {
        max_resources: 2,
        ..crate::reference::StoreLimits::default()
    });
    let first = ep.user("a@x").await;
    ep.group("G").await;
    let full = ep.post("/scim/v2/Users", json!({"userName": "c@x"})).await;
    assert_scim_error(&full, StatusCode::INSUFFICIENT_STORAGE, None);
    assert_eq!(
        ep.delete(&format!("/scim/v2/Users/{first}")).await.status,
        StatusCode::NO_CONTENT
    );
    ep.user("c@x").await;

    let by_bytes = limited(crate::reference::StoreLimits {
        max_store_bytes: 4096,
        ..crate::reference::StoreLimits::default()
    });
    let mut created = 0;
    while created < 100 {
        let reply = by_bytes
            .post(
                "/scim/v2/Users",
                json!({"userName": format!("u{created}@x")}),
            )
            .await;
        if reply.status != StatusCode::CREATED {
            assert_scim_error(&reply, StatusCode::INSUFFICIENT_STORAGE, None);
            break;
        }
        created += 1;
    }
    assert!((1..100).contains(&created), "{created} users fit in 4 KiB");
    // Growing a stored user is held to the same total.
    let grow = json!([{"op": "replace", "path": "displayName", "value": "x".repeat(4096)}]);
    let id = super::ids(&by_bytes.get("/scim/v2/Users?count=1").await)[0].clone();
    let reply = by_bytes.patch(&format!("/scim/v2/Users/{id}"), grow).await;
    assert_scim_error(&reply, StatusCode::INSUFFICIENT_STORAGE, None);
}

#[tokio::test]
async fn a_group_over_the_member_cap_is_refused() {
    let ep = limited(crate::reference::StoreLimits {
        max_group_members: 2,
        ..crate::reference::StoreLimits::default()
    });
    let users = seed_users(&ep, "cap", 3);
    let group = ep.group("Capped").await;
    let uri = format!("/scim/v2/Groups/{group}");
    let two = json!([{"op": "add", "path": "members", "value": member_values(&users[..2])}]);
    assert_eq!(ep.patch(&uri, two).await.status, StatusCode::NO_CONTENT);
    let third = json!([{"op": "add", "path": "members", "value": member_values(&users[2..])}]);
    let reply = ep.patch(&uri, third).await;
    assert_scim_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, None);
    assert!(
        reply.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("3 members"))
    );
}
