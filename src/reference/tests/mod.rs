//! Router-level tests: every Entra behaviour the reference endpoint promises, driven through
//! the real axum router with `tower::ServiceExt::oneshot`, plus one real-socket test.

mod connections;
mod faults;
mod groups;
mod hostile;
mod protocol;
mod users;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{Faults, ServerConfig};
use crate::scim;

pub const TOKEN: &str = "test-token-123";
pub const ENT: &str = scim::ENTERPRISE_USER_SCHEMA;

/// One in-process endpoint; clones of the router share the store.
#[derive(Clone)]
pub struct Endpoint {
    app: Router,
    state: std::sync::Arc<super::AppState>,
}

/// What came back.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Endpoint {
    /// Locations are `http://scim.test/…` (the public URL; requests say `Host: scim.test` too).
    pub fn new() -> Self {
        Endpoint::with(ServerConfig {
            public_url: Some("http://scim.test/".into()),
            ..ServerConfig::new(TOKEN)
        })
    }

    pub fn with_faults(faults: Faults) -> Self {
        Endpoint::with(ServerConfig {
            faults,
            public_url: Some("http://scim.test".into()),
            ..ServerConfig::new(TOKEN)
        })
    }

    pub fn with(config: ServerConfig) -> Self {
        let (app, state) = super::router_with_state(config);
        Endpoint { app, state }
    }

    /// Stores a resource directly (no HTTP), for tests that need many; returns its id.
    pub fn seed(&self, kind: super::attr::Kind, body: Value) -> String {
        let store = &self.state.store;
        let n = store.next();
        let id = format!("seed-{n}");
        let stored = super::store::Stored {
            id: id.clone(),
            body: body.as_object().cloned().unwrap_or_default(),
            created: "2026-01-01T00:00:00Z".into(),
            last_modified: "2026-01-01T00:00:00Z".into(),
            version: n,
            seq: n,
        };
        assert!(store.collection(kind).insert(stored, false).is_ok());
        id
    }

    /// Sends a request with the right token and Entra's content type.
    pub async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "scim.test")
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, scim::ENTRA_REQUEST_CONTENT_TYPE);
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.send(builder.body(body).unwrap_or_default()).await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = match self.app.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.call(Method::GET, uri, None).await
    }

    pub async fn post(&self, uri: &str, body: Value) -> Reply {
        self.call(Method::POST, uri, Some(body)).await
    }

    pub async fn patch(&self, uri: &str, operations: Value) -> Reply {
        let body = json!({"schemas": [scim::PATCH_OP], "Operations": operations});
        self.call(Method::PATCH, uri, Some(body)).await
    }

    pub async fn delete(&self, uri: &str) -> Reply {
        self.call(Method::DELETE, uri, None).await
    }

    /// Creates a user and returns its id.
    pub async fn user(&self, user_name: &str) -> String {
        let body = json!({"schemas": [scim::USER_SCHEMA], "userName": user_name, "active": true,
            "emails": [{"value": user_name, "type": "work", "primary": true}]});
        let reply = self.post("/scim/v2/Users", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap_or_default().to_string()
    }

    /// Creates a group and returns its id.
    pub async fn group(&self, name: &str) -> String {
        let body = json!({"schemas": [scim::GROUP_SCHEMA], "displayName": name});
        let reply = self.post("/scim/v2/Groups", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap_or_default().to_string()
    }
}

/// Asserts a SCIM error with a string status equal to the HTTP status.
pub fn assert_scim_error(reply: &Reply, status: StatusCode, scim_type: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.header(header::CONTENT_TYPE), scim::MEDIA_TYPE);
    assert_eq!(reply.body["schemas"], json!([scim::ERROR]));
    assert_eq!(reply.body["status"], json!(status.as_u16().to_string()));
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    match scim_type {
        Some(t) => assert_eq!(reply.body["scimType"], json!(t), "{}", reply.body),
        None => assert!(reply.body.get("scimType").is_none(), "{}", reply.body),
    }
}

/// The ids in a ListResponse.
pub fn ids(reply: &Reply) -> Vec<String> {
    let resources = reply.body["Resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    resources
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect()
}
