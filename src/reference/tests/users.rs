//! User lifecycle as Entra drives it (fact sheet §2.3, catalogue 1–30).

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use super::{ENT, Endpoint, assert_scim_error, ids};
use crate::scim;

#[tokio::test]
async fn test_connection_query_is_an_empty_list_response() {
    let ep = Endpoint::new();
    let reply = ep
        .get("/scim/v2/Users?filter=userName+eq+%2207e1c3f6-4b5e-4c1c-9d39-000000000001%22")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_TYPE), scim::MEDIA_TYPE);
    assert_eq!(
        reply.body,
        json!({"schemas": [scim::LIST_RESPONSE], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    );
}

#[tokio::test]
async fn create_returns_201_location_etag_and_full_meta() {
    let ep = Endpoint::new();
    let body = json!({"schemas": [scim::USER_SCHEMA, ENT],
        "externalId": "0b6f1c1e-0000-4000-8000-000000000001", "userName": "alice@example.com", "active": true,
        "emails": [{"primary": true, "type": "work", "value": "alice@example.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice"}, "roles": []});
    let reply = ep.post("/scim/v2/Users", body).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let id = reply.body["id"].as_str().unwrap_or_default();
    assert!(!id.is_empty());
    let location = format!("http://scim.test/scim/v2/Users/{id}");
    assert_eq!(reply.header(header::LOCATION), location);
    assert_eq!(reply.body["meta"]["location"], json!(location));
    assert_eq!(reply.body["meta"]["resourceType"], json!("User"));
    assert!(
        reply.body["meta"]["created"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(
        reply.body["meta"]["created"],
        reply.body["meta"]["lastModified"]
    );
    let version = reply.body["meta"]["version"].as_str().unwrap_or_default();
    assert!(version.starts_with("W/\""));
    assert_eq!(reply.header(header::ETAG), version);
    assert_eq!(reply.body["userName"], json!("alice@example.com"));
    assert_eq!(reply.body["active"], json!(true));
    assert!(reply.body.get("roles").is_none());
}

#[tokio::test]
async fn legacy_create_payload_is_accepted() {
    let ep = Endpoint::new();
    let body = json!({"schemas": [scim::USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
        "externalId": "alice", "userName": "alice@example.com", "active": true, "addresses": null,
        "meta": {"resourceType": "User"}, "phoneNumbers": null, "preferredLanguage": null, "title": null,
        "department": null, "manager": null, "displayName": "Alice Smith", "roles": []});
    let reply = ep.post("/Users", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(reply.body.get("title").is_none());
}

#[tokio::test]
async fn duplicate_user_name_is_409_uniqueness_in_any_case() {
    let ep = Endpoint::new();
    ep.user("alice@example.com").await;
    let reply = ep
        .post(
            "/scim/v2/Users",
            json!({"schemas": [scim::USER_SCHEMA], "userName": "ALICE@example.com"}),
        )
        .await;
    assert_scim_error(&reply, StatusCode::CONFLICT, Some("uniqueness"));
    let all = ep.get("/scim/v2/Users").await;
    assert_eq!(all.body["totalResults"], json!(1));
}

#[tokio::test]
async fn filters_entra_uses_all_match() {
    let ep = Endpoint::new();
    let alice = ep.user("alice@example.com").await;
    ep.user("bob@example.com").await;
    ep.patch(
        &format!("/scim/v2/Users/{alice}"),
        json!([{"op": "Add", "path": "externalId", "value": "ext-A"},
        {"op": "Add", "path": "displayName", "value": "Alice Smith"}]),
    )
    .await;
    for filter in [
        "userName+eq+%22ALICE%40EXAMPLE.COM%22",
        "externalId%20eq%20%22ext-A%22",
        "emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22alice%40example.com%22",
        "displayName+eq+%22alice+smith%22",
        &format!("id+eq+%22{alice}%22"),
        &format!("id+eq+%22{alice}%22+and+userName+eq+%22alice%40example.com%22"),
    ] {
        let reply = ep.get(&format!("/scim/v2/Users?filter={filter}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{filter}: {}", reply.body);
        assert_eq!(ids(&reply), vec![alice.clone()], "{filter}");
    }
    let miss = ep
        .get("/scim/v2/Users?filter=externalId+eq+%22EXT-a%22")
        .await;
    assert_eq!(miss.body["totalResults"], json!(0));
}

#[tokio::test]
async fn disable_with_string_boolean_and_user_stays_findable() {
    let ep = Endpoint::new();
    let id = ep.user("alice@example.com").await;
    let reply = ep
        .patch(
            &format!("/scim/v2/Users/{id}"),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["active"], json!(false));
    assert_eq!(
        ep.get(&format!("/scim/v2/Users/{id}")).await.body["active"],
        json!(false)
    );
    let found = ep
        .get("/scim/v2/Users?filter=userName+eq+%22alice%40example.com%22")
        .await;
    assert_eq!(found.body["Resources"][0]["active"], json!(false));
    let on = ep
        .patch(
            &format!("/scim/v2/Users/{id}"),
            json!([{"op": "replace", "path": "active", "value": true}]),
        )
        .await;
    assert_eq!(on.body["active"], json!(true));
}

#[tokio::test]
async fn unknown_and_deleted_ids_are_404() {
    let ep = Endpoint::new();
    assert_scim_error(
        &ep.get("/scim/v2/Users/u-9999").await,
        StatusCode::NOT_FOUND,
        None,
    );
    let id = ep.user("gone@example.com").await;
    assert_eq!(
        ep.delete(&format!("/scim/v2/Users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_scim_error(
        &ep.get(&format!("/scim/v2/Users/{id}")).await,
        StatusCode::NOT_FOUND,
        None,
    );
    assert_scim_error(
        &ep.delete(&format!("/scim/v2/Users/{id}")).await,
        StatusCode::NOT_FOUND,
        None,
    );
    let patch = ep
        .patch(
            &format!("/scim/v2/Users/{id}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_scim_error(&patch, StatusCode::NOT_FOUND, None);
    // The userName is free again.
    ep.user("gone@example.com").await;
}

#[tokio::test]
async fn manager_is_always_rendered_complex() {
    let ep = Endpoint::new();
    let boss = ep.user("boss@example.com").await;
    let id = ep.user("alice@example.com").await;
    let uri = format!("/scim/v2/Users/{id}");
    let path = format!("{ENT}:manager");
    for ops in [
        json!([{"op": "Add", "path": path, "value": boss}]),
        json!([{"op": "add", "path": path, "value": {"value": boss}}]),
        json!([{"op": "Add", "path": "manager", "value": [{"$ref": format!("https://h/scim/Users/{boss}"), "value": boss}]}]),
    ] {
        assert_eq!(
            ep.patch(&uri, json!([{"op": "remove", "path": path}]))
                .await
                .status,
            StatusCode::OK
        );
        ep.patch(&uri, ops.clone()).await;
        let manager = &ep.get(&uri).await.body[ENT]["manager"];
        assert_eq!(manager["value"], json!(boss), "{ops}");
    }
    ep.patch(
        &uri,
        json!([{"op": "replace", "path": path, "value": {"value": ""}}]),
    )
    .await;
    assert!(ep.get(&uri).await.body.get(ENT).is_none());
    let created = ep
        .post(
            "/scim/v2/Users",
            json!({"userName": "carol", ENT: {"manager": boss}}),
        )
        .await;
    assert_eq!(created.body[ENT]["manager"], json!({"value": boss}));
}

#[tokio::test]
async fn pathless_replace_with_dotted_and_urn_keys() {
    let ep = Endpoint::new();
    let id = ep.user("alice@example.com").await;
    let reply = ep.patch(&format!("/scim/v2/Users/{id}"), json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "alice.new@example.com"},
        {"op": "replace", "value": {"displayName": "Alice N", "name.givenName": "Alice", "name.familyName": "New",
            format!("{ENT}:employeeNumber"): "E-1"}}])).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["name"],
        json!({"givenName": "Alice", "familyName": "New"})
    );
    assert_eq!(reply.body[ENT]["employeeNumber"], json!("E-1"));
    assert_eq!(
        reply.body["emails"],
        json!([{"value": "alice.new@example.com", "type": "work", "primary": true}])
    );
    assert!(reply.body.get("name.givenName").is_none());
}

#[tokio::test]
async fn projection_and_pagination() {
    let ep = Endpoint::new();
    for i in 0..12 {
        ep.user(&format!("user{i:02}@example.com")).await;
    }
    let page = ep
        .get("/scim/v2/Users?startIndex=6&count=5&attributes=userName")
        .await;
    assert_eq!(
        (
            page.body["totalResults"].clone(),
            page.body["startIndex"].clone(),
            page.body["itemsPerPage"].clone()
        ),
        (json!(12), json!(6), json!(5))
    );
    let first = &page.body["Resources"][0];
    assert_eq!(first["userName"], json!("user05@example.com"));
    assert!(
        first.get("emails").is_none() && first.get("meta").is_none() && first.get("id").is_some()
    );
    let excluded = ep
        .get("/scim/v2/Users?excludedAttributes=emails,meta&count=1")
        .await;
    let only = &excluded.body["Resources"][0];
    assert!(
        only.get("emails").is_none()
            && only.get("meta").is_none()
            && only.get("userName").is_some()
    );
    let id = ids(&excluded).pop().unwrap_or_default();
    let legacy = ep
        .get(&format!(
            "/scim/v2/Users?filter=id+eq+%22{id}%22+and+manager+eq+%22x%22&attributes=id"
        ))
        .await;
    assert_eq!(legacy.body["totalResults"], json!(0));
    let one = ep
        .get(&format!("/scim/v2/Users/{id}?attributes=emails.value"))
        .await;
    assert_eq!(one.body["emails"], json!([{"value": "user00@example.com"}]));
}

#[tokio::test]
async fn put_replaces_and_respects_uniqueness() {
    let ep = Endpoint::new();
    let id = ep.user("alice@example.com").await;
    ep.user("bob@example.com").await;
    let uri = format!("/scim/v2/Users/{id}");
    let reply = ep.call(Method::PUT, &uri, Some(json!({"schemas": [scim::USER_SCHEMA], "userName": "alice2@example.com", "title": "CTO"}))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["title"], json!("CTO"));
    assert!(reply.body.get("emails").is_none());
    let clash = ep
        .call(
            Method::PUT,
            &uri,
            Some(json!({"userName": "BOB@example.com"})),
        )
        .await;
    assert_scim_error(&clash, StatusCode::CONFLICT, Some("uniqueness"));
    let rename = ep
        .patch(
            &uri,
            json!([{"op": "replace", "path": "userName", "value": "bob@example.com"}]),
        )
        .await;
    assert_scim_error(&rename, StatusCode::CONFLICT, Some("uniqueness"));
}

#[tokio::test]
async fn if_match_guards_updates() {
    let ep = Endpoint::new();
    let id = ep.user("alice@example.com").await;
    let uri = format!("/scim/v2/Users/{id}");
    let etag = ep.get(&uri).await.header(header::ETAG).to_string();
    let body = json!({"schemas": [scim::PATCH_OP], "Operations": [{"op": "add", "path": "title", "value": "x"}]});
    let request = |tag: &str| {
        axum::http::Request::builder()
            .method(Method::PATCH)
            .uri(uri.clone())
            .header(header::AUTHORIZATION, format!("Bearer {}", super::TOKEN))
            .header(header::IF_MATCH, tag)
            .body(axum::body::Body::from(body.to_string()))
            .unwrap_or_default()
    };
    assert_scim_error(
        &ep.send(request("W/\"999999\"")).await,
        StatusCode::PRECONDITION_FAILED,
        None,
    );
    assert_eq!(ep.send(request(&etag)).await.status, StatusCode::OK);
    let not_modified = axum::http::Request::builder()
        .uri(uri.clone())
        .header(header::AUTHORIZATION, format!("Bearer {}", super::TOKEN))
        .header(
            header::IF_NONE_MATCH,
            ep.get(&uri).await.header(header::ETAG),
        )
        .body(axum::body::Body::empty())
        .unwrap_or_default();
    assert_eq!(ep.send(not_modified).await.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn patch_errors_are_400_with_scim_types() {
    let ep = Endpoint::new();
    let id = ep.user("alice@example.com").await;
    let uri = format!("/scim/v2/Users/{id}");
    let cases: [(Value, &str); 5] = [
        (
            json!([{"op": "explode", "path": "title", "value": "x"}]),
            "invalidSyntax",
        ),
        (
            json!([{"op": "add", "path": "emails[type eq", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "active", "value": "perhaps"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "add", "path": "emails[value sw \"z\"].type", "value": "work"}]),
            "noTarget",
        ),
        (json!([{"op": "remove", "path": "userName"}]), "mutability"),
    ];
    for (ops, scim_type) in cases {
        assert_scim_error(
            &ep.patch(&uri, ops).await,
            StatusCode::BAD_REQUEST,
            Some(scim_type),
        );
    }
    // Nothing was half-applied.
    assert_eq!(ep.get(&uri).await.body["active"], json!(true));
}
