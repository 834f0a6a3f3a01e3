//! The one axum handler: rate limit, authentication, routing, body reading, then the
//! synchronous operation. Every failure becomes a SCIM Error response.

use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::AppState;
use super::crud::{self, Ctx};
use super::discovery;
use super::error::{ScimError, ScimType, scim_json};
use super::guard::{check_bearer, too_many_requests};
use super::list;
use super::routes::{Endpoint, parse_route};

/// Entry point for every request.
pub async fn dispatch(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let numeric_status = state.config.faults.numeric_error_status;
    match handle(&state, request).await {
        Ok(response) => response,
        Err(err) => err.into_response_with(numeric_status),
    }
}

async fn handle(state: &AppState, request: Request) -> Result<Response, ScimError> {
    if let Some(limiter) = &state.limiter {
        limiter.try_acquire().map_err(too_many_requests)?;
    }
    check_bearer(request.headers(), &state.config.token)?;
    let (parts, body) = request.into_parts();
    let Some(route) = parse_route(parts.uri.path()) else {
        return Err(ScimError::not_found(format!(
            "no SCIM endpoint at `{}`",
            parts.uri.path()
        )));
    };
    let params = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let bytes = if matches!(parts.method, Method::POST | Method::PUT | Method::PATCH) {
        read_body(&parts.headers, body, state.config.max_body_bytes).await?
    } else {
        Bytes::new()
    };
    let ctx = Ctx {
        state,
        base: base_url(&parts.headers, &route.prefix),
        headers: &parts.headers,
        params,
    };
    serve(&ctx, &parts.method, route.endpoint, &bytes)
}

fn base_url(headers: &HeaderMap, prefix: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{prefix}")
}

async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ScimError> {
    let too_large = || {
        ScimError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body exceeds the {limit}-byte limit"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    to_bytes(body, limit).await.map_err(|_| too_large())
}

fn json_body(bytes: &[u8]) -> Result<Value, ScimError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            "the request body is empty",
        ));
    }
    serde_json::from_slice(bytes).map_err(|err| {
        ScimError::bad_request(
            ScimType::InvalidSyntax,
            format!("the request body is not valid JSON: {err}"),
        )
    })
}

fn method_not_allowed(method: &Method, allowed: &str) -> ScimError {
    ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not supported here (allowed: {allowed})"),
    )
    .with_header(header::ALLOW, allowed)
}

fn serve(
    ctx: &Ctx<'_>,
    method: &Method,
    endpoint: Endpoint,
    bytes: &[u8],
) -> Result<Response, ScimError> {
    let found = |doc: Option<Value>, what: &str| {
        doc.map(|d| scim_json(StatusCode::OK, &d))
            .ok_or_else(|| ScimError::not_found(format!("{what} not found")))
    };
    match (endpoint, method) {
        (Endpoint::Collection(kind), &Method::GET) => {
            crud::query(ctx, kind, list::from_params(kind, &ctx.params)?)
        }
        (Endpoint::Collection(kind), &Method::POST) => crud::create(ctx, kind, json_body(bytes)?),
        (Endpoint::Collection(_), m) => Err(method_not_allowed(m, "GET, POST")),
        (Endpoint::Search(kind), &Method::POST) => {
            crud::query(ctx, kind, list::from_search_body(kind, &json_body(bytes)?)?)
        }
        (Endpoint::SearchAll, &Method::POST) => crud::search_all(ctx, &json_body(bytes)?),
        (Endpoint::Search(_) | Endpoint::SearchAll, m) => Err(method_not_allowed(m, "POST")),
        (Endpoint::Resource(kind, id), &Method::GET) => crud::get(ctx, kind, &id),
        (Endpoint::Resource(kind, id), &Method::PUT) => {
            crud::replace(ctx, kind, &id, json_body(bytes)?)
        }
        (Endpoint::Resource(kind, id), &Method::PATCH) => {
            crud::patch(ctx, kind, &id, &json_body(bytes)?)
        }
        (Endpoint::Resource(kind, id), &Method::DELETE) => crud::delete(ctx, kind, &id),
        (Endpoint::Resource(..), m) => Err(method_not_allowed(m, "GET, PUT, PATCH, DELETE")),
        (Endpoint::ServiceProviderConfig, &Method::GET) => Ok(scim_json(
            StatusCode::OK,
            &discovery::service_provider_config(&ctx.base),
        )),
        (Endpoint::ResourceTypes(name), &Method::GET) => found(
            discovery::resource_types(&ctx.base, name.as_deref()),
            "resource type",
        ),
        (Endpoint::Schemas(id), &Method::GET) => {
            found(discovery::schemas(&ctx.base, id.as_deref()), "schema")
        }
        (
            Endpoint::ServiceProviderConfig | Endpoint::ResourceTypes(_) | Endpoint::Schemas(_),
            m,
        ) => Err(method_not_allowed(m, "GET")),
        (Endpoint::Unsupported(what), _) => Err(ScimError::new(StatusCode::NOT_IMPLEMENTED, what)),
    }
}
