//! Group lifecycle as Entra drives it (fact sheet §2.4, catalogue 31–46).

use axum::http::{Method, StatusCode, header};
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

/// Deleting a user or a group takes it out of exactly the groups that list it, however the
/// membership came about (create, PATCH add, PUT), and leaves the other groups' versions alone.
#[tokio::test]
async fn a_deleted_member_leaves_exactly_the_groups_that_listed_it() {
    let ep = Endpoint::new();
    let (a, b) = (
        ep.user("a@example.com").await,
        ep.user("b@example.com").await,
    );
    let created = ep
        .post(
            "/scim/v2/Groups",
            json!({"schemas": [scim::GROUP_SCHEMA], "displayName": "Born", "members": [{"value": a}]}),
        )
        .await;
    let born = created.body["id"].as_str().unwrap_or_default().to_string();
    let patched = ep.group("Patched").await;
    ep.patch(
        &format!("/scim/v2/Groups/{patched}"),
        json!([{"op": "Add", "path": "members", "value": [{"value": a}, {"value": b}]}]),
    )
    .await;
    let put = ep.group("Put").await;
    let body =
        json!({"schemas": [scim::GROUP_SCHEMA], "displayName": "Put", "members": [{"value": a}]});
    let reply = ep
        .call(Method::PUT, &format!("/scim/v2/Groups/{put}"), Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // Then the PUT takes `a` out again: the index must have followed the replace.
    let body =
        json!({"schemas": [scim::GROUP_SCHEMA], "displayName": "Put", "members": [{"value": b}]});
    ep.call(Method::PUT, &format!("/scim/v2/Groups/{put}"), Some(body))
        .await;
    let nested = ep.group("Nested").await;
    ep.patch(
        &format!("/scim/v2/Groups/{nested}"),
        json!([{"op": "Add", "path": "members", "value": [{"value": born}, {"value": b}]}]),
    )
    .await;
    let members = |g: &str| {
        let ep = ep.clone();
        let uri = format!("/scim/v2/Groups/{g}");
        async move {
            let r = ep.get(&uri).await;
            let list = r.body["members"].as_array().cloned().unwrap_or_default();
            let ids: Vec<String> = list
                .iter()
                .filter_map(|m| m["value"].as_str().map(str::to_string))
                .collect();
            (ids, r.header(header::ETAG).to_string())
        }
    };
    let (_, put_tag) = members(&put).await;
    assert_eq!(
        ep.delete(&format!("/scim/v2/Users/{a}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(members(&born).await.0, Vec::<String>::new());
    assert_eq!(members(&patched).await.0, vec![b.clone()]);
    let (put_members, put_tag_after) = members(&put).await;
    assert_eq!(put_members, vec![b.clone()]);
    assert_eq!(
        put_tag, put_tag_after,
        "a group without the member is not rewritten"
    );
    // A deleted group leaves the groups it was nested in.
    assert_eq!(
        ep.delete(&format!("/scim/v2/Groups/{born}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(members(&nested).await.0, vec![b.clone()]);
}

/// Unfiltered pages (cut from the creation order) skip deleted resources, count what is
/// left and, at the root `/.search`, run on from the users into the groups.
#[tokio::test]
async fn unfiltered_pages_follow_creation_order_through_deletes() {
    let ep = Endpoint::new();
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(ep.user(&format!("u{i}@example.com")).await);
    }
    let groups = [ep.group("G0").await, ep.group("G1").await];
    ep.delete(&format!("/scim/v2/Users/{}", users[1])).await;
    ep.delete(&format!("/scim/v2/Users/{}", users[4])).await;
    let page = ep.get("/scim/v2/Users?startIndex=2&count=2").await;
    assert_eq!(ids(&page), [users[2].clone(), users[3].clone()]);
    assert_eq!(page.body["totalResults"], 4);
    assert_eq!(page.body["itemsPerPage"], 2);
    let all = ep.get("/scim/v2/Users").await;
    assert_eq!(ids(&all), [0, 2, 3, 5].map(|i| users[i].clone()));
    let beyond = ep.get("/scim/v2/Users?startIndex=9").await;
    assert!(ids(&beyond).is_empty());
    assert_eq!(beyond.body["totalResults"], 4);
    let both = ep
        .post("/scim/v2/.search", json!({"startIndex": 4, "count": 2}))
        .await;
    assert_eq!(ids(&both), [users[5].clone(), groups[0].clone()]);
    assert_eq!(both.body["totalResults"], 6);
}
