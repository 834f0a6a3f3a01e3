//! The OAuth 2.0 token endpoint of the reference endpoint: the client credentials grant
//! (RFC 6749 §4.4) at `POST /oauth2/token`, issuing short-lived bearer tokens that the SCIM
//! routes accept alongside (or instead of) the configured static token.
//!
//! The client authenticates with HTTP Basic (§2.3.1, which a server must support) or with
//! `client_id` and `client_secret` in the form body, never both. Errors are the JSON of
//! §5.2. Live tokens are held in memory up to [`MAX_LIVE_TOKENS`]; expired ones are dropped
//! as new ones are issued, and past the cap the oldest live token goes first.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use serde_json::json;

/// Where the token endpoint answers, on the endpoint's own listener.
pub const TOKEN_PATH: &str = "/oauth2/token";

/// The default lifetime of an issued token.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

/// Live tokens held at most.
pub const MAX_LIVE_TOKENS: usize = 10_000;

/// Token request bodies larger than this are refused.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The one client the token endpoint knows.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    pub client_id: String,
    pub client_secret: String,
    /// How long an issued token is accepted.
    pub token_ttl: Duration,
}

/// The tokens issued so far that have not expired (or not yet been dropped).
#[derive(Default)]
pub struct Issued {
    live: Mutex<HashMap<String, Instant>>,
}

/// What a presented bearer value is to the token endpoint.
#[derive(Debug, PartialEq, Eq)]
pub enum Standing {
    Valid,
    Expired,
    Unknown,
}

impl Issued {
    /// Whether `token` was issued here and is still valid.
    pub fn standing(&self, token: &str) -> Standing {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        match live.get(token) {
            Some(expiry) if Instant::now() < *expiry => Standing::Valid,
            Some(_) => Standing::Expired,
            None => Standing::Unknown,
        }
    }

    fn issue(&self, ttl: Duration) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        // Expired tokens stay a while so a late one is told "expired", not "unknown".
        // Pruned only when full, so issuing stays cheap.
        if live.len() >= MAX_LIVE_TOKENS {
            let grace = ttl.max(Duration::from_secs(60));
            live.retain(|_, expiry| *expiry + grace > now);
        }
        while live.len() >= MAX_LIVE_TOKENS {
            let Some(oldest) = live.iter().min_by_key(|(_, e)| **e).map(|(t, _)| t.clone()) else {
                break;
            };
            live.remove(&oldest);
        }
        live.insert(token.clone(), now + ttl);
        token
    }
}

/// Answers one token request.
pub async fn token_request(
    config: &OAuthConfig,
    issued: &Issued,
    headers: &HeaderMap,
    body: Body,
    body_timeout: Duration,
) -> Response {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the token request must be application/x-www-form-urlencoded",
            false,
        );
    }
    let bytes = match tokio::time::timeout(body_timeout, to_bytes(body, MAX_FORM_BYTES)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the token request body is too large",
                false,
            );
        }
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request",
                "the token request body did not arrive in time",
                false,
            );
        }
    };
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the token request body is not form-encoded",
            false,
        );
    };
    // §3.2: request parameters must not be included more than once.
    let param = |name: &str| -> Result<Option<&str>, String> {
        let mut values = form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        match values.next() {
            Some(_) => Err(format!("`{name}` is given more than once")),
            None => Ok(first),
        }
    };
    let (grant, body_id, body_secret) = match (
        param("grant_type"),
        param("client_id"),
        param("client_secret"),
    ) {
        (Ok(g), Ok(i), Ok(s)) => (g, i, s),
        (Err(why), _, _) | (_, Err(why), _) | (_, _, Err(why)) => {
            return error(StatusCode::BAD_REQUEST, "invalid_request", &why, false);
        }
    };
    let basic = basic_credentials(headers);
    let presented = match (basic, body_secret) {
        (Some(_), Some(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the client authenticated twice (Basic and client_secret); use one",
                false,
            );
        }
        (Some(Some(pair)), None) => Some(pair),
        (Some(None), None) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "the Basic credentials are malformed",
                true,
            );
        }
        (None, Some(secret)) => body_id.map(|id| (id.to_string(), secret.to_string())),
        (None, None) => None,
    };
    // Every 401 challenges for Basic (RFC 7235 §3.1), however the client authenticated.
    let Some((id, secret)) = presented else {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication is required (HTTP Basic, or client_id and client_secret)",
            true,
        );
    };
    let id_ok = constant_time_eq(id.as_bytes(), config.client_id.as_bytes());
    let secret_ok = constant_time_eq(secret.as_bytes(), config.client_secret.as_bytes());
    if !(id_ok && secret_ok) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
            true,
        );
    }
    match grant {
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "`grant_type` is missing",
                false,
            );
        }
        Some("client_credentials") => {}
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only the client_credentials grant is supported",
                false,
            );
        }
    }
    let token = issued.issue(config.token_ttl);
    let mut answer = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": config.token_ttl.as_secs().max(1),
    });
    if let Ok(Some(scope)) = param("scope") {
        answer["scope"] = json!(scope);
    }
    respond(StatusCode::OK, answer, None)
}

/// `Some(Some((id, secret)))` for well-formed Basic credentials, `Some(None)` for a Basic
/// header that is not, `None` without one.
fn basic_credentials(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    // §2.3.1: both halves are form-encoded before they are joined.
    Some(decoded.and_then(|pair| {
        let (id, secret) = pair.split_once(':')?;
        let unform = |s: &str| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                .ok()
                .and_then(|v| v.into_iter().next())
                .map(|(_, v)| v)
        };
        Some((unform(id)?, unform(secret)?))
    }))
}

/// A §5.2 error; 401s challenge for Basic.
fn error(status: StatusCode, code: &str, description: &str, challenge: bool) -> Response {
    respond(
        status,
        json!({"error": code, "error_description": description}),
        challenge.then_some("Basic realm=\"scimreplay\""),
    )
}

fn respond(status: StatusCode, body: serde_json::Value, challenge: Option<&str>) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    // §5.1: token responses must not be cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(challenge) = challenge.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, byte) in b.iter().enumerate() {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ byte);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OAuthConfig {
        OAuthConfig {
            client_id: "app".into(),
            client_secret: "s3cret".into(),
            token_ttl: Duration::from_secs(60),
        }
    }

    async fn ask(
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, serde_json::Value, HeaderMap) {
        let mut map = HeaderMap::new();
        map.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        for (k, v) in headers {
            map.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let issued = Issued::default();
        let response = token_request(
            &config(),
            &issued,
            &map,
            Body::from(body.to_string()),
            Duration::from_secs(5),
        )
        .await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap(), headers)
    }

    #[tokio::test]
    async fn issues_a_bearer_token_for_body_or_basic_credentials() {
        let (status, body, headers) = ask(
            &[],
            "grant_type=client_credentials&client_id=app&client_secret=s3cret&scope=scim",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 60);
        assert_eq!(body["scope"], "scim");
        assert!(body["access_token"].as_str().unwrap().len() >= 32);
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("app:s3cret")
        );
        let (status, _, _) = ask(
            &[("authorization", &basic)],
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn errors_follow_section_5_2() {
        for (headers, body, status, code) in [
            (
                vec![],
                "grant_type=client_credentials&client_id=app&client_secret=nope",
                401,
                "invalid_client",
            ),
            (
                vec![],
                "grant_type=client_credentials",
                401,
                "invalid_client",
            ),
            (
                vec![],
                "grant_type=password&client_id=app&client_secret=s3cret",
                400,
                "unsupported_grant_type",
            ),
            (
                vec![],
                "client_id=app&client_secret=s3cret",
                400,
                "invalid_request",
            ),
            (
                vec![],
                "grant_type=client_credentials&grant_type=client_credentials&client_id=app&client_secret=s3cret",
                400,
                "invalid_request",
            ),
            (
                vec![("authorization", "Basic YXBwOnMzY3JldA==")],
                "grant_type=client_credentials&client_secret=s3cret",
                400,
                "invalid_request",
            ),
            (
                vec![("content-type", "application/json")],
                "{}",
                400,
                "invalid_request",
            ),
        ] {
            let (got, answer, headers_out) = ask(&headers, body).await;
            assert_eq!(got.as_u16(), status, "{body}: {answer}");
            assert_eq!(answer["error"], code, "{body}");
            assert!(!answer.to_string().contains("s3cret"), "{answer}");
            if status == 401 {
                assert!(headers_out.contains_key(header::WWW_AUTHENTICATE));
            }
        }
    }

    #[test]
    fn tokens_expire_and_the_store_stays_bounded() {
        let issued = Issued::default();
        let short = issued.issue(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(issued.standing(&short), Standing::Expired);
        let long = issued.issue(Duration::from_secs(60));
        assert_eq!(issued.standing(&long), Standing::Valid);
        assert_eq!(issued.standing("made-up"), Standing::Unknown);
        for _ in 0..MAX_LIVE_TOKENS + 5 {
            issued.issue(Duration::from_secs(60));
        }
        assert!(issued.live.lock().unwrap().len() <= MAX_LIVE_TOKENS);
    }
}
