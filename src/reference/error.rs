//! SCIM error responses (RFC 7644 §3.12) and the JSON response helper every handler uses.
//!
//! Every failure the reference endpoint reports is a [`ScimError`]; turning it into an HTTP
//! response always yields a SCIM Error body labelled `application/scim+json`, with `status`
//! as a string (Entra's documented shape) unless the `numeric_error_status` fault asks for
//! the common mistake of a JSON number.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::scim;

/// The `scimType` detail codes of RFC 7644 §3.12 that the endpoint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// The filter syntax was invalid or the filter cannot be evaluated.
    InvalidFilter,
    /// A value is already in use (userName, group displayName).
    Uniqueness,
    /// An attempt to modify a read-only attribute or to remove a required one.
    Mutability,
    /// The request body is not valid JSON or not a valid SCIM message.
    InvalidSyntax,
    /// A PATCH path is malformed or names nothing.
    InvalidPath,
    /// A PATCH filter matched nothing and no element could be created.
    NoTarget,
    /// A value has the wrong type or is missing where required.
    InvalidValue,
}

impl ScimType {
    /// The wire name of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
        }
    }
}

/// A request the endpoint refuses, rendered as a SCIM Error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {detail}")]
pub struct ScimError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The optional `scimType` code.
    pub scim_type: Option<ScimType>,
    /// Human-readable detail; never contains the bearer token.
    pub detail: String,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`, `Allow`).
    pub headers: Vec<(header::HeaderName, String)>,
}

impl ScimError {
    /// An error with a status and detail and no `scimType`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type: None,
            detail: detail.into(),
            headers: Vec::new(),
        }
    }

    /// A 400 with the given `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ScimError {
            scim_type: Some(scim_type),
            ..ScimError::new(StatusCode::BAD_REQUEST, detail)
        }
    }

    /// A 404 for a resource id that does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::NOT_FOUND, detail)
    }

    /// A 409 `uniqueness` conflict.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        ScimError {
            scim_type: Some(ScimType::Uniqueness),
            ..ScimError::new(StatusCode::CONFLICT, detail)
        }
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The SCIM Error body; `numeric_status` reproduces servers that send `status` as a number.
    pub fn body(&self, numeric_status: bool) -> Value {
        let status = if numeric_status {
            json!(self.status.as_u16())
        } else {
            json!(self.status.as_u16().to_string())
        };
        let mut body = json!({ "schemas": [scim::ERROR], "status": status, "detail": self.detail });
        if let (Some(kind), Some(map)) = (self.scim_type, body.as_object_mut()) {
            map.insert("scimType".into(), json!(kind.as_str()));
        }
        body
    }

    /// The complete HTTP response.
    pub fn into_response_with(self, numeric_status: bool) -> Response {
        let mut response = scim_json(self.status, &self.body(numeric_status));
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        self.into_response_with(false)
    }
}

/// Client text quoted in a `detail`, cut to its first 200 characters so a huge filter or
/// path does not come back as a huge error.
pub fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text.to_string(),
    }
}

/// A response carrying `body` as `application/scim+json`.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    // Serializing a `Value` cannot fail; the fallback keeps the no-panic rule anyway.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(scim::MEDIA_TYPE),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_a_string_by_default_and_a_number_on_request() {
        let err = ScimError::uniqueness("userName taken");
        assert_eq!(err.body(false)["status"], json!("409"));
        assert_eq!(err.body(true)["status"], json!(409));
        assert_eq!(err.body(false)["scimType"], json!("uniqueness"));
        assert_eq!(err.body(false)["schemas"], json!([scim::ERROR]));
    }

    #[test]
    fn excerpts_keep_short_text_and_cut_long_text_on_a_char_boundary() {
        assert_eq!(excerpt("userName eq \"a\""), "userName eq \"a\"");
        let long = "é".repeat(5000);
        let cut = excerpt(&long);
        assert!(cut.starts_with(&"é".repeat(200)) && cut.ends_with("(10000 bytes)"));
        assert!(cut.len() < 500);
    }

    #[test]
    fn scim_type_is_omitted_when_absent() {
        let body = ScimError::not_found("no such user").body(false);
        assert!(body.get("scimType").is_none());
        assert_eq!(body["detail"], json!("no such user"));
    }

    #[test]
    fn response_is_labelled_scim_json_and_carries_headers() {
        let response = ScimError::new(StatusCode::UNAUTHORIZED, "missing bearer token")
            .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"scimreplay\"")
            .into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::CONTENT_TYPE], scim::MEDIA_TYPE);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"scimreplay\""
        );
    }
}
