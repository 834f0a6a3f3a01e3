//! Builders for exchanges in unit tests of the check modules.

use crate::http::exchange::{Exchange, ReceivedResponse, SentRequest};
use serde_json::Value;

/// A request as the runner would record it.
pub fn request(method: &str, path: &str) -> SentRequest {
    SentRequest {
        method: method.to_string(),
        url: format!("https://scim.example.com/scim{path}"),
        path: path.to_string(),
        headers: vec![("Authorization".into(), "Bearer [redacted]".into())],
        body: None,
    }
}

/// A GET of `path`.
pub fn get(path: &str) -> SentRequest {
    request("GET", path)
}

/// A response with a JSON body labelled `application/scim+json` (`null` means no body).
pub fn response_json(status: u16, json: Value) -> ReceivedResponse {
    if json.is_null() {
        return response_raw(status, vec![], "");
    }
    let mut r = response_raw(
        status,
        vec![("Content-Type".into(), "application/scim+json".into())],
        &json.to_string(),
    );
    r.json = Some(json);
    r
}

/// A response whose body is text that is not JSON, as the HTTP client would record it.
pub fn response_text(status: u16, body: &str) -> ReceivedResponse {
    let mut r = response_raw(
        status,
        vec![("Content-Type".into(), "text/plain".into())],
        body,
    );
    if !body.trim().is_empty() {
        r.body_problem = Some("the body is not JSON (expected value at line 1 column 1)".into());
    }
    r
}

/// A response with exactly these headers and body, nothing parsed.
pub fn response_raw(status: u16, headers: Vec<(String, String)>, body: &str) -> ReceivedResponse {
    ReceivedResponse {
        status,
        headers,
        body: body.to_string(),
        json: None,
        body_problem: None,
        truncated: false,
        elapsed_ms: 12,
    }
}

/// An exchange of this request and response.
pub fn exchange(request: SentRequest, response: ReceivedResponse) -> Exchange {
    Exchange {
        request,
        response: Some(response),
        fault: None,
        retries: Vec::new(),
        retry_stopped: None,
    }
}
