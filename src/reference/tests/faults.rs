//! Each fault mode reproduces its incompatibility; without it the endpoint behaves.

use axum::http::StatusCode;
use serde_json::json;

use super::{ENT, Endpoint};
use crate::reference::Faults;

async fn pair(fault: &str) -> (Endpoint, Endpoint) {
    let faults = Faults::parse_list(fault).unwrap_or_else(|e| panic!("{e}"));
    (Endpoint::new(), Endpoint::with_faults(faults))
}

#[tokio::test]
async fn case_sensitive_ops_rejects_pascal_case() {
    let (good, bad) = pair("case_sensitive_ops").await;
    for (ep, status) in [(good, StatusCode::OK), (bad, StatusCode::BAD_REQUEST)] {
        let id = ep.user("a@x").await;
        let reply = ep
            .patch(
                &format!("/Users/{id}"),
                json!([{"op": "Replace", "path": "active", "value": false}]),
            )
            .await;
        assert_eq!(reply.status, status);
    }
}

#[tokio::test]
async fn remove_members_wipes_all_empties_the_group() {
    let (good, bad) = pair("remove_members_wipes_all").await;
    for (ep, left) in [(good, 1), (bad, 0)] {
        let (u1, u2) = (ep.user("u1@x").await, ep.user("u2@x").await);
        let group = ep.group("G").await;
        let uri = format!("/Groups/{group}");
        ep.patch(
            &uri,
            json!([{"op": "Add", "path": "members", "value": [{"value": u1}, {"value": u2}]}]),
        )
        .await;
        ep.patch(
            &uri,
            json!([{"op": "Remove", "path": "members", "value": [{"value": u1}]}]),
        )
        .await;
        assert_eq!(
            ep.get(&uri).await.body["members"].as_array().map(Vec::len),
            Some(left)
        );
    }
}

#[tokio::test]
async fn string_booleans_rejected_breaks_disable() {
    let (good, bad) = pair("string_booleans_rejected").await;
    for (ep, status) in [(good, StatusCode::OK), (bad, StatusCode::BAD_REQUEST)] {
        let id = ep.user("a@x").await;
        let reply = ep
            .patch(
                &format!("/Users/{id}"),
                json!([{"op": "Replace", "path": "active", "value": "False"}]),
            )
            .await;
        assert_eq!(reply.status, status);
    }
}

#[tokio::test]
async fn filter_miss_404_answers_404() {
    let (good, bad) = pair("filter_miss_404").await;
    for (ep, status) in [(good, StatusCode::OK), (bad, StatusCode::NOT_FOUND)] {
        assert_eq!(
            ep.get("/Users?filter=userName+eq+%22nobody%22")
                .await
                .status,
            status
        );
        assert_eq!(ep.get("/Users").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn manager_as_string_renders_a_bare_id() {
    let (good, bad) = pair("manager_as_string").await;
    for (ep, expected) in [(good, json!({"value": "m-1"})), (bad, json!("m-1"))] {
        let reply = ep
            .post(
                "/Users",
                json!({"userName": "a@x", ENT: {"manager": {"value": "m-1"}}}),
            )
            .await;
        assert_eq!(reply.body[ENT]["manager"], expected);
    }
}

#[tokio::test]
async fn ignore_pathless_dotted_keys_leaves_name_untouched() {
    let (good, bad) = pair("ignore_pathless_dotted_keys").await;
    for (ep, given) in [(good, json!("New")), (bad, json!("Old"))] {
        let reply = ep
            .post(
                "/Users",
                json!({"userName": "a@x", "name": {"givenName": "Old"}}),
            )
            .await;
        let id = reply.body["id"].as_str().unwrap_or_default().to_string();
        ep.patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "value": {"name.givenName": "New"}}]),
        )
        .await;
        assert_eq!(
            ep.get(&format!("/Users/{id}")).await.body["name"]["givenName"],
            given
        );
    }
}

#[tokio::test]
async fn members_not_excluded_returns_members_anyway() {
    let (good, bad) = pair("members_not_excluded").await;
    for (ep, present) in [(good, false), (bad, true)] {
        let group = ep.group("G").await;
        let reply = ep
            .get(&format!("/Groups/{group}?excludedAttributes=members"))
            .await;
        assert_eq!(reply.body.get("members").is_some(), present);
    }
}

#[tokio::test]
async fn patch_noop_answers_204_and_changes_nothing() {
    let (good, bad) = pair("patch_noop").await;
    for (ep, status, title) in [
        (good, StatusCode::OK, json!("CTO")),
        (bad, StatusCode::NO_CONTENT, serde_json::Value::Null),
    ] {
        let id = ep.user("a@x").await;
        let reply = ep
            .patch(
                &format!("/Users/{id}"),
                json!([{"op": "add", "path": "title", "value": "CTO"}]),
            )
            .await;
        assert_eq!(reply.status, status);
        assert_eq!(ep.get(&format!("/Users/{id}")).await.body["title"], title);
    }
}

#[tokio::test]
async fn numeric_error_status_sends_a_number() {
    let (good, bad) = pair("numeric_error_status").await;
    for (ep, status) in [(good, json!("404")), (bad, json!(404))] {
        assert_eq!(ep.get("/Users/missing").await.body["status"], status);
    }
}

#[tokio::test]
async fn case_sensitive_filter_misses_other_case() {
    let (good, bad) = pair("case_sensitive_filter").await;
    for (ep, total) in [(good, json!(1)), (bad, json!(0))] {
        ep.user("alice@example.com").await;
        let reply = ep
            .get("/Users?filter=userName+eq+%22ALICE%40example.com%22")
            .await;
        assert_eq!(reply.body["totalResults"], total);
    }
}

#[tokio::test]
async fn duplicate_create_allowed_makes_two_users() {
    let (good, bad) = pair("duplicate_create_allowed").await;
    for (ep, status, total) in [
        (good, StatusCode::CONFLICT, json!(1)),
        (bad, StatusCode::CREATED, json!(2)),
    ] {
        ep.user("a@x").await;
        assert_eq!(
            ep.post("/Users", json!({"userName": "a@x"})).await.status,
            status
        );
        assert_eq!(
            ep.get("/Users?filter=userName+eq+%22a%40x%22").await.body["totalResults"],
            total
        );
    }
}

#[tokio::test]
async fn active_as_string_renders_entras_strings() {
    let (good, bad) = pair("active_as_string").await;
    for (ep, active) in [(good, json!(false)), (bad, json!("False"))] {
        let id = ep.user("a@x").await;
        let uri = format!("/Users/{id}");
        ep.patch(
            &uri,
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
        assert_eq!(ep.get(&uri).await.body["active"], active);
        let listed = ep.get("/Users?filter=userName+eq+%22a%40x%22").await;
        assert_eq!(listed.body["Resources"][0]["active"], active);
    }
}

#[tokio::test]
async fn empty_group_deleted_removes_the_group_with_its_last_member() {
    let (good, bad) = pair("empty_group_deleted").await;
    for (ep, status) in [(good, StatusCode::OK), (bad, StatusCode::NOT_FOUND)] {
        let user = ep.user("u1@x").await;
        let group = ep.group("G").await;
        let uri = format!("/Groups/{group}");
        // A rename of a group without members leaves it alone in both.
        ep.patch(
            &uri,
            json!([{"op": "replace", "path": "displayName", "value": "G2"}]),
        )
        .await;
        assert_eq!(ep.get(&uri).await.status, StatusCode::OK);
        ep.patch(
            &uri,
            json!([{"op": "add", "path": "members", "value": [{"value": user}]}]),
        )
        .await;
        let removed = ep
            .patch(
                &uri,
                json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]),
            )
            .await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        assert_eq!(ep.get(&uri).await.status, status);
    }
}

#[tokio::test]
async fn empty_values_ignored_keeps_values_cleared_with_empty_or_null() {
    let (good, bad) = pair("empty_values_ignored").await;
    for (ep, kept) in [(good, false), (bad, true)] {
        let id = ep.user("a@x").await;
        let uri = format!("/Users/{id}");
        ep.patch(
            &uri,
            json!([{"op": "add", "path": "title", "value": "CTO"},
                   {"op": "add", "path": "nickName", "value": "Al"}]),
        )
        .await;
        let reply = ep
            .patch(
                &uri,
                json!([{"op": "replace", "path": "title", "value": ""},
                       {"op": "replace", "path": "nickName", "value": null},
                       {"op": "replace", "path": "displayName", "value": "Alice"}]),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let body = ep.get(&uri).await.body;
        assert_eq!(body.get("title").is_some(), kept, "{body}");
        assert_eq!(body.get("nickName").is_some(), kept, "{body}");
        // Other operations of the same request still apply.
        assert_eq!(body["displayName"], json!("Alice"));
    }
}

#[tokio::test]
async fn inactive_users_hidden_treats_a_disabled_user_as_deleted() {
    let (good, bad) = pair("inactive_users_hidden").await;
    for (ep, status, total) in [
        (good, StatusCode::OK, json!(1)),
        (bad, StatusCode::NOT_FOUND, json!(0)),
    ] {
        let id = ep.user("a@x").await;
        let uri = format!("/Users/{id}");
        ep.patch(
            &uri,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
        assert_eq!(ep.get(&uri).await.status, status);
        let listed = ep.get("/Users?filter=userName+eq+%22a%40x%22").await;
        assert_eq!(listed.body["totalResults"], total);
        // Enabled again, the user is back in both.
        ep.patch(
            &uri,
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
        )
        .await;
        assert_eq!(ep.get(&uri).await.status, StatusCode::OK);
    }
}
