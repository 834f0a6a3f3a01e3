//! Group lifecycle as Entra drives it (fact sheet §2.4, catalogue 31–46).

use axum::http::StatusCode;
use serde_json::json;

use super::{Endpoint, assert_scim_error, ids};
use crate::scim;

fn members(body: &serde_json::Value) -> Vec<String> {
    let list = body["members"].as_array().cloned().unwrap_or_default();
    list.iter()
        .filter_map(|m| m["value"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn entra_group_create_has_id_and_empty_members() {
    let ep = Endpoint::new();
    let body = json!({"schemas": [scim::GROUP_SCHEMA, scim::ADSCIM_GROUP_SCHEMA],
        "externalId": "7a1f0000-0000-4000-8000-000000000002", "displayName": "Sales", "meta": {"resourceType": "Group"}});
    let reply = ep.post("/scim/v2/Groups", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["schemas"], json!([scim::GROUP_SCHEMA]));
    assert_eq!(reply.body["members"], json!([]));
    assert_eq!(reply.body["meta"]["resourceType"], json!("Group"));
    let duplicate = ep
        .post(
            "/scim/v2/Groups",
            json!({"schemas": [scim::GROUP_SCHEMA], "displayName": "sales"}),
        )
        .await;
    assert_scim_error(&duplicate, StatusCode::CONFLICT, Some("uniqueness"));
}

#[tokio::test]
async fn postman_shapes_with_initial_members() {
    let ep = Endpoint::new();
    let user = ep.user("vp@example.com").await;
    let empty = ep
        .post(
            "/scim/v2/Groups",
            json!({"displayName": "A", "members": []}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::CREATED);
    let one = ep
        .post(
            "/scim/v2/Groups",
            json!({"displayName": "B", "members": [{"value": user, "display": "VP"}]}),
        )
        .await;
    assert_eq!(
        one.body["members"],
        json!([{"value": user, "display": "VP"}])
    );
    let unknown = ep
        .post(
            "/scim/v2/Groups",
            json!({"displayName": "C", "members": [{"value": "u-404"}]}),
        )
        .await;
    assert_scim_error(&unknown, StatusCode::BAD_REQUEST, Some("invalidValue"));
}

#[tokio::test]
async fn queries_exclude_members_and_match_any_case() {
    let ep = Endpoint::new();
    let user = ep.user("a@example.com").await;
    let group = ep.group("Sales").await;
    ep.patch(
        &format!("/scim/v2/Groups/{group}"),
        json!([{"op": "Add", "path": "members", "value": [{"value": user}]}]),
    )
    .await;
    let found = ep
        .get("/scim/v2/Groups?excludedAttributes=members&filter=displayName+eq+%22sales%22")
        .await;
    assert_eq!(ids(&found), vec![group.clone()]);
    assert!(found.body["Resources"][0].get("members").is_none());
    let by_id = ep
        .get(&format!(
            "/scim/v2/Groups/{group}?excludedAttributes=members"
        ))
        .await;
    assert!(by_id.body.get("members").is_none());
    assert_eq!(by_id.body["displayName"], json!("Sales"));
    let miss = ep
        .get("/scim/v2/Groups?excludedAttributes=members&filter=displayName+eq+%22Nope%22")
        .await;
    assert_eq!(
        (miss.status, miss.body["totalResults"].clone()),
        (StatusCode::OK, json!(0))
    );
    let by_member = ep
        .get(&format!(
            "/scim/v2/Groups?filter=members%5Bvalue+eq+%22{user}%22%5D"
        ))
        .await;
    assert_eq!(ids(&by_member), vec![group]);
}

#[tokio::test]
async fn member_changes_answer_204_and_both_removal_dialects_work() {
    let ep = Endpoint::new();
    let (u1, u2, u3) = (
        ep.user("u1@x").await,
        ep.user("u2@x").await,
        ep.user("u3@x").await,
    );
    let group = ep.group("Sales").await;
    let uri = format!("/scim/v2/Groups/{group}");
    let add = ep.patch(&uri, json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": u1}, {"$ref": null, "value": u2}, {"value": u3}]}])).await;
    assert_eq!(add.status, StatusCode::NO_CONTENT);
    assert!(add.header(axum::http::header::ETAG).starts_with("W/"));
    ep.patch(
        &uri,
        json!([{"op": "add", "path": "members", "value": [{"value": u1}]}]),
    )
    .await;
    assert_eq!(
        members(&ep.get(&uri).await.body),
        vec![u1.clone(), u2.clone(), u3.clone()]
    );
    ep.patch(
        &uri,
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": u1}]}]),
    )
    .await;
    assert_eq!(
        members(&ep.get(&uri).await.body),
        vec![u2.clone(), u3.clone()]
    );
    ep.patch(
        &uri,
        json!([{"op": "remove", "path": format!("members[value eq \"{u2}\"]")}]),
    )
    .await;
    assert_eq!(members(&ep.get(&uri).await.body), vec![u3.clone()]);
    ep.patch(
        &uri,
        json!([{"op": "replace", "path": "members", "value": [{"value": u1}, {"value": u2}]}]),
    )
    .await;
    assert_eq!(
        members(&ep.get(&uri).await.body),
        vec![u1.clone(), u2.clone()]
    );
    ep.patch(&uri, json!([{"op": "add", "path": "members", "value": [{"value": u3}]}, {"op": "remove", "path": format!("members[value eq \"{u3}\"]")}])).await;
    assert_eq!(members(&ep.get(&uri).await.body), vec![u1, u2]);
    let bad = ep
        .patch(
            &uri,
            json!([{"op": "add", "path": "members", "value": [{"value": "not-a-user"}]}]),
        )
        .await;
    assert_scim_error(&bad, StatusCode::BAD_REQUEST, Some("invalidValue"));
}

#[tokio::test]
async fn rename_returns_the_group_and_pathless_forms_apply() {
    let ep = Endpoint::new();
    let group = ep.group("Sales").await;
    let uri = format!("/scim/v2/Groups/{group}");
    let renamed = ep
        .patch(
            &uri,
            json!([{"op": "Replace", "path": "displayName", "value": "Sales EMEA"}]),
        )
        .await;
    assert_eq!(
        (renamed.status, renamed.body["displayName"].clone()),
        (StatusCode::OK, json!("Sales EMEA"))
    );
    ep.patch(&uri, json!([{"op": "replace", "value": {"displayName": "Sales APAC"}}, {"op": "replace", "value": {"externalId": "new-guid"}}])).await;
    let group = ep.get(&uri).await.body;
    assert_eq!(
        (group["displayName"].clone(), group["externalId"].clone()),
        (json!("Sales APAC"), json!("new-guid"))
    );
    assert!(
        ep.get("/scim/v2/Groups?filter=displayName+eq+%22Sales+EMEA%22")
            .await
            .body["totalResults"]
            == json!(0)
    );
}

#[tokio::test]
async fn empty_group_lifecycle_and_deleted_users_leave_groups() {
    let ep = Endpoint::new();
    let user = ep.user("a@example.com").await;
    let group = ep.group("Solo").await;
    let uri = format!("/scim/v2/Groups/{group}");
    ep.patch(
        &uri,
        json!([{"op": "Add", "path": "members", "value": [{"value": user}]}]),
    )
    .await;
    ep.patch(
        &uri,
        json!([{"op": "Remove", "path": "members", "value": [{"value": user}]}]),
    )
    .await;
    let after = ep.get(&uri).await;
    assert_eq!(
        (after.status, after.body["members"].clone()),
        (StatusCode::OK, json!([]))
    );
    ep.patch(
        &uri,
        json!([{"op": "Add", "path": "members", "value": [{"value": user}]}]),
    )
    .await;
    ep.delete(&format!("/scim/v2/Users/{user}")).await;
    assert_eq!(ep.get(&uri).await.body["members"], json!([]));
    assert_eq!(ep.delete(&uri).await.status, StatusCode::NO_CONTENT);
    assert_scim_error(&ep.get(&uri).await, StatusCode::NOT_FOUND, None);
    assert_scim_error(&ep.delete(&uri).await, StatusCode::NOT_FOUND, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_member_adds_all_land() {
    let ep = std::sync::Arc::new(Endpoint::new());
    let group = ep.group("Busy").await;
    let mut users = Vec::new();
    for i in 0..24 {
        users.push(ep.user(&format!("user{i}@x")).await);
    }
    let tasks: Vec<_> = users
        .iter()
        .map(|user| {
            let (ep, uri, user) = (ep.clone(), format!("/scim/v2/Groups/{group}"), user.clone());
            tokio::spawn(async move {
                ep.patch(
                    &uri,
                    json!([{"op": "add", "path": "members", "value": [{"value": user}]}]),
                )
                .await
                .status
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.ok(), Some(StatusCode::NO_CONTENT));
    }
    let mut got = members(&ep.get(&format!("/scim/v2/Groups/{group}")).await.body);
    got.sort();
    users.sort();
    assert_eq!(got, users);
}
