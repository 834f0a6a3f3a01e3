//! Preflight: Entra's Test Connection, replayed before the catalogue.
//!
//! Entra's Test Connection queries a user that cannot exist (a random GUID as `userName`) and
//! expects 200 with an empty ListResponse. The run does the same with the token, then without
//! it (a compatible endpoint answers 401). No answer at all, or 401/403 with the token, stops
//! the run at once: every later request would fail the same way (and Entra quarantines a job
//! whose credentials are rejected), so thousands of identical failures would only bury the
//! one fact that matters.

use crate::http::exchange::{Exchange, FaultKind};
use crate::http::{Client, OutgoingRequest};
use crate::model::{Preflight, PreflightResult};
use crate::scenario::model::{AuthMode, Method, QueryStyle};

/// Sends the probes and judges them. `token_source` names where the token came from (the
/// environment variable), so a rejection says which secret to fix.
pub async fn preflight(client: &Client, token_source: &str) -> Preflight {
    let guid = uuid::Uuid::new_v4().to_string();
    let authorised = client.send(&probe(&guid, AuthMode::Token)).await;
    let url = client.target().display();
    if let Some(stop) = unreachable(&authorised, &url) {
        return stopped(PreflightResult::Unreachable, stop, vec![authorised]);
    }
    if let Some(stop) = rejected(&authorised, token_source) {
        return stopped(PreflightResult::CredentialsRejected, stop, vec![authorised]);
    }
    let anonymous = client.send(&probe(&guid, AuthMode::None)).await;
    let mut findings = Vec::new();
    let status = authorised.response.as_ref().map_or(0, |r| r.status);
    if status != 200 {
        findings.push(format!(
            "the Test Connection query answered {status}, not 200 with an empty ListResponse: \
             Entra's Test Connection fails (see the scenarios tagged `connection`)"
        ));
    }
    match anonymous.response.as_ref().map(|r| r.status) {
        Some(401) => {}
        Some(other) => findings.push(format!(
            "the same query without a token answered {other}, not 401 (see auth-rejected-read)"
        )),
        None => findings
            .push("the same query without a token got no answer (see auth-rejected-read)".into()),
    }
    Preflight {
        result: PreflightResult::Passed,
        findings,
        probes: vec![authorised, anonymous],
    }
}

fn stopped(result: PreflightResult, finding: String, probes: Vec<Exchange>) -> Preflight {
    Preflight {
        result,
        findings: vec![finding],
        probes,
    }
}

/// `GET /Users?filter=userName eq "<guid>"`, as Entra's Test Connection sends it.
fn probe(guid: &str, auth: AuthMode) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::Get,
        path: "/Users".into(),
        query: vec![("filter".into(), format!("userName eq \"{guid}\""))],
        query_style: QueryStyle::Entra,
        headers: Vec::new(),
        auth,
        body: None,
    }
}

/// Why the probe got no usable answer, when it got none.
fn unreachable(exchange: &Exchange, url: &str) -> Option<String> {
    if exchange.response.is_some() {
        return None;
    }
    let fault = exchange.fault.as_ref()?;
    let what = match fault.kind {
        FaultKind::Connect => "could not connect to",
        FaultKind::Tls => "the TLS handshake failed with",
        FaultKind::Timeout => "no answer in time from",
        FaultKind::Reset | FaultKind::Protocol => "no usable HTTP answer from",
        FaultKind::Refused => "the harness refused to send to",
    };
    Some(format!(
        "{what} {url}: {}; Entra's Test Connection fails the same way ({}), so nothing else \
         was sent",
        fault.message,
        fault.kind.entra_code()
    ))
}

/// Why the token was rejected, when it was.
fn rejected(exchange: &Exchange, token_source: &str) -> Option<String> {
    let response = exchange.response.as_ref()?;
    if !matches!(response.status, 401 | 403) {
        return None;
    }
    let mut answer = response.status.to_string();
    if let Some(challenge) = response.header("www-authenticate") {
        answer.push_str(&format!(" with WWW-Authenticate: {challenge}"));
    }
    if let Some(detail) = response
        .json
        .as_ref()
        .and_then(|j| j.get("detail"))
        .and_then(|d| d.as_str())
    {
        let detail: String = detail.chars().take(200).collect();
        answer.push_str(&format!(" (detail: {detail})"));
    }
    Some(format!(
        "the endpoint rejected the token from {token_source}: it answered {answer} to the Test \
         Connection query; Entra shows \"invalid credentials\" and quarantines the job \
         (SystemForCrossDomainIdentityManagementCredentialValidationFailure), so nothing else \
         was sent"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::exchange::{Fault, ReceivedResponse, SentRequest};

    fn exchange(status: Option<u16>, headers: Vec<(String, String)>) -> Exchange {
        Exchange {
            request: SentRequest {
                method: "GET".into(),
                url: "http://h/Users".into(),
                path: "/Users".into(),
                headers: vec![],
                body: None,
            },
            response: status.map(|status| ReceivedResponse {
                status,
                headers,
                body: String::new(),
                json: None,
                body_problem: None,
                truncated: false,
                elapsed_ms: 1,
            }),
            fault: status.is_none().then(|| Fault {
                kind: FaultKind::Connect,
                message: "connection refused".into(),
            }),
            retries: vec![],
            retry_stopped: None,
        }
    }

    #[test]
    fn a_rejection_names_the_variable_and_the_challenge() {
        let challenge = vec![(
            "WWW-Authenticate".to_string(),
            "Bearer error=\"invalid_token\"".to_string(),
        )];
        let why = rejected(&exchange(Some(401), challenge), "SCIMREPLAY_TOKEN")
            .expect("401 is a rejection");
        assert!(why.contains("SCIMREPLAY_TOKEN"), "{why}");
        assert!(why.contains("error=\"invalid_token\""), "{why}");
        assert!(rejected(&exchange(Some(403), vec![]), "T").is_some());
        assert!(rejected(&exchange(Some(404), vec![]), "T").is_none());
        assert!(rejected(&exchange(Some(200), vec![]), "T").is_none());
    }

    #[test]
    fn no_answer_is_unreachable_and_names_the_url() {
        let why =
            unreachable(&exchange(None, vec![]), "http://127.0.0.1:9/scim").expect("no answer");
        assert!(
            why.contains("could not connect to http://127.0.0.1:9/scim"),
            "{why}"
        );
        assert!(unreachable(&exchange(Some(500), vec![]), "u").is_none());
    }
}
