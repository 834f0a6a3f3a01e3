//! Wire-level promises: authentication, content types, URL tolerance, discovery, error
//! bodies, size cap, rate limit, and a real socket through `spawn`.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{ENT, Endpoint, TOKEN, assert_scim_error};
use crate::reference::{ServerConfig, spawn};
use crate::scim;

fn request(method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
}

#[tokio::test]
async fn missing_or_wrong_token_is_401_with_challenge() {
    let ep = Endpoint::new();
    let none = ep
        .send(
            Request::builder()
                .uri("/scim/v2/Users")
                .body(Body::empty())
                .unwrap_or_default(),
        )
        .await;
    assert_scim_error(&none, StatusCode::UNAUTHORIZED, None);
    assert!(none.header(header::WWW_AUTHENTICATE).starts_with("Bearer"));
    let wrong = Request::builder()
        .uri("/scim/v2/Users")
        .header(header::AUTHORIZATION, "Bearer nope")
        .body(Body::empty());
    let wrong = ep.send(wrong.unwrap_or_default()).await;
    assert_scim_error(&wrong, StatusCode::UNAUTHORIZED, None);
    assert!(!wrong.body.to_string().contains(TOKEN));
    // Authentication comes before routing: unknown paths do not leak as 404.
    let probe = ep
        .send(
            Request::builder()
                .uri("/nowhere")
                .body(Body::empty())
                .unwrap_or_default(),
        )
        .await;
    assert_eq!(probe.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn json_content_types_accepted_and_no_accept_header_needed() {
    let ep = Endpoint::new();
    for (i, content_type) in [
        "application/json",
        "application/scim+json",
        "application/scim+json; charset=utf-8",
        "application/json; charset=UTF-8",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"userName": format!("u{i}@x")}).to_string();
        let req = request(Method::POST, "/scim/v2/Users")
            .header(header::CONTENT_TYPE, *content_type)
            .body(Body::from(body));
        let reply = ep.send(req.unwrap_or_default()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{content_type}");
        assert_eq!(reply.header(header::CONTENT_TYPE), scim::MEDIA_TYPE);
    }
}

#[tokio::test]
async fn any_prefix_root_and_unknown_query_params_work() {
    let ep = Endpoint::new();
    let id = ep.user("alice@example.com").await;
    for uri in [
        format!("/Users/{id}"),
        format!("//Users/{id}"),
        format!("/scim/Users/{id}"),
        format!("/scim/v2//Users/{id}?aadOptscim062020"),
        format!("/tenant/a/b/Users/{id}?aadOptscim062020=true"),
    ] {
        let reply = ep.get(&uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
    }
    let located = ep.get(&format!("/scim/Users/{id}")).await;
    assert_eq!(
        located.body["meta"]["location"],
        json!(format!("http://scim.test/scim/Users/{id}"))
    );
    let flagged = ep
        .get("/scim/v2/Users?aadOptscim062020&filter=userName+eq+%22alice%40example.com%22")
        .await;
    assert_eq!(flagged.body["totalResults"], json!(1));
}

#[tokio::test]
async fn discovery_endpoints() {
    let ep = Endpoint::new();
    let spc = ep.get("/scim/v2/ServiceProviderConfig").await;
    assert_eq!(
        (spc.status, spc.body["patch"]["supported"].clone()),
        (StatusCode::OK, json!(true))
    );
    let types = ep.get("/scim/v2/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], json!(2));
    let user_type = ep.get("/scim/v2/ResourceTypes/User").await;
    assert_eq!(user_type.body["schemaExtensions"][0]["schema"], json!(ENT));
    let schemas = ep.get("/scim/v2/Schemas").await;
    assert_eq!(schemas.body["schemas"], json!([scim::LIST_RESPONSE]));
    assert!(!schemas.body.to_string().contains("null"));
    let one = ep
        .get(&format!("/scim/v2/Schemas/{}", scim::GROUP_SCHEMA))
        .await;
    assert_eq!(one.body["name"], json!("Group"));
    assert_scim_error(
        &ep.get("/scim/v2/Schemas/urn:nope").await,
        StatusCode::NOT_FOUND,
        None,
    );
}

#[tokio::test]
async fn routing_errors_are_scim_errors() {
    let ep = Endpoint::new();
    assert_scim_error(
        &ep.get("/0b6f1c1e-0000-4000-8000-000000000001").await,
        StatusCode::NOT_FOUND,
        None,
    );
    assert_scim_error(
        &ep.call(Method::DELETE, "/scim/v2/Users", None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        None,
    );
    assert_scim_error(
        &ep.post("/scim/v2/Bulk", json!({})).await,
        StatusCode::NOT_IMPLEMENTED,
        None,
    );
}

#[tokio::test]
async fn malformed_bodies_and_filters_are_400_with_scim_types() {
    let ep = Endpoint::new();
    let broken = request(Method::POST, "/scim/v2/Users")
        .header(header::CONTENT_TYPE, "application/scim+json")
        .body(Body::from("{\"userName\": "));
    let reply = ep.send(broken.unwrap_or_default()).await;
    assert_scim_error(&reply, StatusCode::BAD_REQUEST, Some("invalidSyntax"));
    assert!(
        reply.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not valid JSON"))
    );
    assert_scim_error(
        &ep.post("/scim/v2/Users", json!({"displayName": "x"})).await,
        StatusCode::BAD_REQUEST,
        Some("invalidValue"),
    );
    let filter = ep.get("/scim/v2/Users?filter=userName+xx+%22a%22").await;
    assert_scim_error(&filter, StatusCode::BAD_REQUEST, Some("invalidFilter"));
    let count = ep.get("/scim/v2/Users?count=many").await;
    assert_scim_error(&count, StatusCode::BAD_REQUEST, Some("invalidValue"));
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let ep = Endpoint::with(ServerConfig {
        max_body_bytes: 64,
        ..ServerConfig::new(TOKEN)
    });
    let big = json!({"userName": "x".repeat(100)});
    assert_scim_error(
        &ep.post("/scim/v2/Users", big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let ep = Endpoint::with(ServerConfig {
        rate_limit: Some(2),
        ..ServerConfig::new(TOKEN)
    });
    assert_eq!(ep.get("/scim/v2/Users").await.status, StatusCode::OK);
    assert_eq!(ep.get("/scim/v2/Users").await.status, StatusCode::OK);
    let limited = ep.get("/scim/v2/Users").await;
    assert_scim_error(&limited, StatusCode::TOO_MANY_REQUESTS, None);
    assert!(
        limited
            .header(header::RETRY_AFTER)
            .parse::<u64>()
            .is_ok_and(|s| s >= 1)
    );
}

#[tokio::test]
async fn search_endpoint() {
    let ep = Endpoint::new();
    ep.user("alice@example.com").await;
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName sw \"ALICE\"", "attributes": ["userName"]});
    let reply = ep.post("/scim/v2/Users/.search", body).await;
    assert_eq!(
        (reply.status, reply.body["totalResults"].clone()),
        (StatusCode::OK, json!(1))
    );
    ep.group("Alice's team").await;
    let everything =
        json!({"filter": "userName sw \"alice\" or displayName sw \"alice\"", "count": 5});
    let both = ep.post("/scim/v2/.search", everything).await;
    let kinds: Vec<serde_json::Value> = both.body["Resources"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| x["meta"]["resourceType"].clone())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(kinds, vec![json!("User"), json!("Group")]);
    let second = ep
        .post("/.search", json!({"startIndex": 2, "count": 1}))
        .await;
    assert_eq!(
        second.body["Resources"][0]["displayName"],
        json!("Alice's team")
    );
}

#[test]
fn debug_output_redacts_the_token() {
    let shown = format!("{:?}", ServerConfig::new("very-secret"));
    assert!(!shown.contains("very-secret") && shown.contains("redacted"));
}

/// Sends raw HTTP/1.1 bytes and returns the whole response text.
async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return String::new();
    };
    if stream.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn real_socket_accepts_raw_quotes_and_doubled_slashes() {
    let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
        panic!("bind failed")
    };
    let server = match spawn(listener, ServerConfig::new(TOKEN)).await {
        Ok(server) => server,
        Err(err) => panic!("spawn failed: {err}"),
    };
    let addr = server.local_addr();
    assert_eq!(server.base_url(), format!("http://{addr}/scim/v2"));
    let query = format!(
        "GET /scim/v2//Users?filter=userName+eq+\"alice%40example.com\" HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    let response = raw(addr, &query).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"totalResults\":0"));
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/scim+json")
    );
    server.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
