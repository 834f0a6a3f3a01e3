//! One HTTP exchange as plain data: what was sent, what came back, or why nothing did.
//!
//! Everything here is already redacted: the bearer token never reaches these values.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// Bodies up to this size keep their parsed JSON once the step is judged; a larger one keeps
/// only its text (at most the body cap) and is parsed again by the few readers that need it.
/// Parsed JSON costs tens of times the text (`[{},…]` of 8 MiB is over 200 MiB), so a run
/// that kept it for every step of a hostile endpoint would grow without bound.
pub const JSON_KEPT_UP_TO: usize = 256 * 1024;

/// The placeholder that stands for the bearer token in every recorded request.
pub const REDACTED: &str = "[redacted]";

/// A request exactly as it went on the wire, token redacted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentRequest {
    pub method: String,
    /// Full URL as sent.
    pub url: String,
    /// Path and query relative to the Tenant URL, e.g. `/Users?filter=...`.
    pub path: String,
    /// Headers in the order sent; `Authorization` shows `Bearer [redacted]`.
    pub headers: Vec<(String, String)>,
    /// The body text as sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A response as received (body capped, decoded lossily).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReceivedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body text (invalid UTF-8 replaced; cut at the body cap).
    pub body: String,
    /// The body parsed as JSON, when it is JSON. Once the step is judged, only bodies up to
    /// [`JSON_KEPT_UP_TO`] bytes keep it (see [`ReceivedResponse::compact`]); read it through
    /// [`ReceivedResponse::json_value`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// Why the body is not usable JSON, when it is not empty and not JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_problem: Option<String>,
    /// The body was longer than the cap and was cut.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Time from sending the request to the end of the body.
    pub elapsed_ms: u64,
}

impl ReceivedResponse {
    /// First header value with this name, case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON: the value kept, or the body parsed again when [`compact`](Self::compact)
    /// dropped it. `None` when the body is empty, not JSON, or cut.
    pub fn json_value(&self) -> Option<Cow<'_, Value>> {
        if let Some(json) = &self.json {
            return Some(Cow::Borrowed(json));
        }
        if self.body_problem.is_some() || self.truncated || self.body.len() <= JSON_KEPT_UP_TO {
            // Not JSON (the problem says why), or small enough that it would still be kept.
            return None;
        }
        serde_json::from_str(&self.body).ok().map(Cow::Owned)
    }

    /// Drops the parsed JSON of a body larger than [`JSON_KEPT_UP_TO`]; the text stays, so
    /// reports show the same body and [`json_value`](Self::json_value) still finds it.
    pub fn compact(&mut self) {
        if self.body.len() > JSON_KEPT_UP_TO {
            self.json = None;
        }
    }
}

/// Why a request got no usable HTTP response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Nothing listens at the address (connection refused, DNS failure).
    Connect,
    /// The TLS handshake failed (untrusted certificate, protocol mismatch).
    Tls,
    /// No complete response within the per-request timeout.
    Timeout,
    /// The connection was reset or closed mid-exchange.
    Reset,
    /// The response was not valid HTTP.
    Protocol,
    /// The harness refused to send (e.g. it would touch an object this run did not create).
    Refused,
}

impl FaultKind {
    /// The code Entra's provisioning logs show for the same failure (fact sheet §4.1).
    pub fn entra_code(self) -> &'static str {
        match self {
            FaultKind::Connect | FaultKind::Tls | FaultKind::Reset | FaultKind::Protocol => {
                "WebExceptionProtocolError"
            }
            FaultKind::Timeout => "Timeout",
            FaultKind::Refused => "none (not sent)",
        }
    }

    /// True when the fact sheet §4.1 documents [`entra_code`](Self::entra_code) for this
    /// fault (timeouts and HTTP protocol errors); for a refused connection, a TLS failure or a
    /// reset it is the nearest documented code, an inference.
    pub fn entra_code_documented(self) -> bool {
        matches!(self, FaultKind::Timeout | FaultKind::Protocol)
    }
}

/// A transport-level failure, reported as a finding on the step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub kind: FaultKind,
    /// The cause in plain words, e.g. "connection refused by 127.0.0.1:8080".
    pub message: String,
}

/// A request and its answer, or the fault that prevented one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub request: SentRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ReceivedResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// 429 answers that were waited out and retried before this response: seconds waited each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<u64>,
    /// Why a final 429 was not retried (its `Retry-After` is above the cap, or the retries
    /// ran out), when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_stopped: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: String) -> ReceivedResponse {
        ReceivedResponse {
            status: 400,
            headers: Vec::new(),
            json: serde_json::from_str(&body).ok(),
            body,
            body_problem: None,
            truncated: false,
            elapsed_ms: 1,
        }
    }

    #[test]
    fn a_large_body_keeps_its_text_and_is_parsed_again_on_demand() {
        let padding = "x".repeat(JSON_KEPT_UP_TO);
        let mut large = response(format!(r#"{{"detail": "no", "pad": "{padding}"}}"#));
        let parsed = large.json.clone().expect("JSON");
        large.compact();
        assert!(large.json.is_none(), "the parsed body is dropped");
        assert!(large.body.contains(&padding), "the text stays");
        assert_eq!(large.json_value().as_deref(), Some(&parsed));

        let mut small = response(r#"{"detail": "no"}"#.to_string());
        small.compact();
        assert!(matches!(small.json_value(), Some(Cow::Borrowed(_))));

        // A body that is not JSON stays without one, whatever its size.
        let mut html = response(format!("<html>{padding}</html>"));
        html.body_problem = Some("the body is HTML, not JSON".into());
        html.compact();
        assert!(html.json_value().is_none());
    }
}
