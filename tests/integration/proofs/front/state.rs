//! What a front knows beyond the request: the resource a write addresses and a user's
//! groups, read from the reference endpoint with the request's own credentials.

use super::Call;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

/// Fills in what a write addresses (the resource, and for a user its groups), read from the
/// reference endpoint with the request's own credentials, so a front can act on state.
pub(super) async fn look_up(inner: &Router, call: &mut Call) {
    if !matches!(call.method, Method::PATCH | Method::PUT | Method::DELETE) {
        return;
    }
    let mut segments = call.path.rsplitn(3, '/');
    let (Some(id), Some(kind), Some(base)) = (segments.next(), segments.next(), segments.next())
    else {
        return;
    };
    if !matches!(kind, "Users" | "Groups") || id.is_empty() {
        return;
    }
    call.target = get_json(inner, &call.headers, &format!("{base}/{kind}/{id}")).await;
    if kind == "Users" {
        let query = format!("filter=members.value%20eq%20%22{id}%22&excludedAttributes=members");
        let groups = get_json(inner, &call.headers, &format!("{base}/Groups?{query}")).await;
        let resources = groups.as_ref().and_then(|g| g.get("Resources"));
        call.member_of = resources
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|g| g.get("id").and_then(Value::as_str).map(str::to_string))
            .collect();
    }
}

async fn get_json(inner: &Router, headers: &HeaderMap, uri: &str) -> Option<Value> {
    let mut request = Request::builder().method(Method::GET).uri(uri);
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        request = request.header(header::AUTHORIZATION, auth);
    }
    let response = inner
        .clone()
        .oneshot(request.body(Body::empty()).ok()?)
        .await;
    let response = match response {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.status() != StatusCode::OK {
        return None;
    }
    let bytes = to_bytes(response.into_body(), 1 << 22).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}
