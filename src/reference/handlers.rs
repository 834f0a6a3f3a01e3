//! The one axum handler: authentication, rate limit, routing, body reading, then the
//! synchronous operation. Every failure becomes a SCIM Error response.
//!
//! Authentication comes before the rate limit, so an unauthenticated flood cannot spend
//! the real clients' tokens. A body must arrive within `body_timeout` (408) and while the
//! bodies being read at once fit `max_inflight_body_bytes` (503). The operation itself
//! runs on tokio's blocking pool: a heavy request occupies a thread of its own, never an
//! async worker that other connections need.

use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use tokio::sync::OwnedSemaphorePermit;

use super::AppState;
use super::conn::LocalOrigin;
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

async fn handle(state: &Arc<AppState>, request: Request) -> Result<Response, ScimError> {
    if let Some(oauth) = &state.config.oauth {
        if request.uri().path() == super::oauth::TOKEN_PATH {
            if request.method() != Method::POST {
                return Err(ScimError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "the token endpoint takes POST (client credentials, RFC 6749 §4.4)",
                ));
            }
            let (parts, body) = request.into_parts();
            return Ok(super::oauth::token_request(
                oauth,
                &state.issued,
                &parts.headers,
                body,
                state.config.body_timeout,
            )
            .await);
        }
        check_issued_or_static(request.headers(), state)?;
    } else {
        check_bearer(request.headers(), &state.config.token)?;
    }
    if let Some(limiter) = &state.limiter {
        limiter.try_acquire().map_err(too_many_requests)?;
    }
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
    let has_body = matches!(parts.method, Method::POST | Method::PUT | Method::PATCH);
    let (bytes, reservation) = if has_body {
        let (bytes, reservation) = read_body(state, &parts.headers, body).await?;
        (bytes, Some(reservation))
    } else {
        (Bytes::new(), None)
    };
    let base = format!("{}{}", origin(state, &parts), route.prefix);
    let state = Arc::clone(state);
    let work = tokio::task::spawn_blocking(move || {
        let ctx = Ctx {
            state: &state,
            base,
            headers: &parts.headers,
            params,
        };
        let result = serve(&ctx, &parts.method, route.endpoint, &bytes);
        drop(reservation);
        result
    });
    work.await.unwrap_or_else(|_| {
        Err(ScimError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request could not be completed",
        ))
    })
}

/// With a token endpoint: a token it issued that has not expired, or the static token
/// when one is configured (an empty one accepts nothing here, never everything).
fn check_issued_or_static(headers: &HeaderMap, state: &AppState) -> Result<(), ScimError> {
    use super::oauth::Standing;
    let presented = super::guard::bearer_value(headers);
    if let Some(value) = presented {
        match state.issued.standing(value) {
            Standing::Valid => return Ok(()),
            Standing::Expired => {
                return Err(
                    ScimError::new(StatusCode::UNAUTHORIZED, "the access token expired")
                        .with_header(
                            header::WWW_AUTHENTICATE,
                            "Bearer realm=\"scimreplay\", error=\"invalid_token\", \
                         error_description=\"the access token expired\"",
                        ),
                );
            }
            Standing::Unknown => {}
        }
    }
    let token = if state.config.token.is_empty() {
        // Matches no presented value (they are never empty), but keeps the 401 wording.
        "\u{0}"
    } else {
        state.config.token.as_str()
    };
    check_bearer(headers, token)
}

/// `scheme://host:port` for locations: the configured public URL, else the local address
/// the request came in on; never the client's `Host` header.
fn origin(state: &AppState, parts: &axum::http::request::Parts) -> String {
    if let Some(public) = &state.config.public_url {
        return public.clone();
    }
    match parts.extensions.get::<LocalOrigin>() {
        Some(LocalOrigin(origin)) => origin.clone(),
        None => "http://localhost".to_string(),
    }
}

/// Reads a body within the size limit, the body timeout and the in-flight budget; the
/// returned permit holds the body's share of the budget until the request is done.
async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Bytes, OwnedSemaphorePermit), ScimError> {
    let limit = state.config.max_body_bytes;
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
    let budget = (state.config.max_inflight_body_bytes / 1024).max(1);
    let kib = declared.unwrap_or(limit).div_ceil(1024).clamp(1, budget);
    let kib = u32::try_from(kib).unwrap_or(u32::MAX);
    let Ok(reservation) = Arc::clone(&state.body_budget).try_acquire_many_owned(kib) else {
        return Err(ScimError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many request bodies are being received at once; retry shortly",
        )
        .with_header(header::RETRY_AFTER, "1"));
    };
    let timeout = state.config.body_timeout;
    match tokio::time::timeout(timeout, to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok((bytes, reservation)),
        Ok(Err(_)) if declared.is_some() => Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            "the request body could not be read to its declared length",
        )),
        Ok(Err(_)) => Err(too_large()),
        Err(_) => Err(ScimError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                timeout.as_secs_f64()
            ),
        )),
    }
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
        (Endpoint::ResourceTypes(name), &Method::GET) => {
            let doc = discovery::resource_types(&ctx.base, name.as_deref());
            let narrow = ctx.state.config.faults.reject_unknown_attributes;
            let doc = if narrow {
                super::narrow::resource_types(doc)
            } else {
                doc
            };
            found(doc, "resource type")
        }
        (Endpoint::Schemas(id), &Method::GET) => {
            let doc = if ctx.state.config.faults.reject_unknown_attributes {
                super::narrow::schemas(&ctx.base, id.as_deref())
            } else {
                discovery::schemas(&ctx.base, id.as_deref())
            };
            found(doc, "schema")
        }
        (
            Endpoint::ServiceProviderConfig | Endpoint::ResourceTypes(_) | Endpoint::Schemas(_),
            m,
        ) => Err(method_not_allowed(m, "GET")),
        (Endpoint::Unsupported(what), _) => Err(ScimError::new(StatusCode::NOT_IMPLEMENTED, what)),
    }
}
