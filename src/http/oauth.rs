//! Credentials for the run: a static bearer token, or OAuth 2.0 client credentials
//! (RFC 6749 §4.4) that fetch short-lived access tokens from a token endpoint.
//!
//! With OAuth the first token is fetched before the run (so the preflight uses it), a new
//! one when the current one is about to expire (by its `expires_in`), and a new one when
//! the endpoint answers 401 to a request that carried the current token: once per 401, and
//! a concurrent burst of 401s for the same token fetches once. The client secret and every
//! token issued are secrets: [`Credentials::scrub`] redacts all of them, in every encoding
//! `scrub.rs` knows, from whatever the harness reports.

use super::client::{ClientError, ClientOptions, reqwest_client};
use super::decode::chain;
use super::secret::Secret;
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The token endpoint's answer is read up to this size.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;
/// A longer access token is refused (no real one comes close).
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Issued tokens remembered for redaction, newest first, besides the current one.
const REMEMBERED_TOKENS: usize = 32;

/// What the CLI resolved from the `--oauth-*` flags.
#[derive(Clone)]
pub struct OAuthSettings {
    pub token_url: String,
    pub client_id: String,
    pub secret: Secret,
    pub scope: Option<String>,
}

/// How requests authenticate.
#[derive(Clone)]
pub enum Credentials {
    /// The same bearer token on every request.
    Bearer(Secret),
    /// Tokens from an OAuth token endpoint.
    OAuth(Arc<Session>),
}

impl From<Secret> for Credentials {
    fn from(secret: Secret) -> Credentials {
        Credentials::Bearer(secret)
    }
}

/// Why no access token could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    /// No answer from the token endpoint.
    Unreachable { url: String, why: String },
    /// The token endpoint refused the client (RFC 6749 §5.2).
    Rejected {
        url: String,
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// Any other answer that holds no usable token.
    BadAnswer { url: String, why: String },
}

impl OAuthError {
    /// True when the token endpoint answered and refused these credentials.
    pub fn is_rejection(&self) -> bool {
        matches!(self, OAuthError::Rejected { .. })
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OAuthError::Unreachable { url, why } => {
                write!(f, "no answer from the OAuth token endpoint {url}: {why}")
            }
            OAuthError::Rejected {
                url,
                status,
                error,
                description,
            } => {
                write!(
                    f,
                    "the OAuth token endpoint {url} refused the client credentials: {status} {error}"
                )?;
                if let Some(d) = description {
                    write!(f, " ({d})")?;
                }
                if error == "invalid_client" {
                    write!(f, "; check --oauth-client-id and the secret's variable")?;
                }
                Ok(())
            }
            OAuthError::BadAnswer { url, why } => {
                write!(
                    f,
                    "the OAuth token endpoint {url} gave no usable token: {why}"
                )
            }
        }
    }
}

impl std::error::Error for OAuthError {}

/// An OAuth client's tokens, shared by every request of the run.
pub struct Session {
    settings: OAuthSettings,
    http: reqwest::Client,
    state: tokio::sync::Mutex<State>,
    /// Recent tokens, for redaction after they were replaced.
    remembered: Mutex<VecDeque<Secret>>,
    fetches: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct State {
    current: Option<Current>,
    /// Bumped with every new token, so a 401 invalidates only the token it was for.
    generation: u64,
}

struct Current {
    token: Secret,
    /// When to fetch a new one before using it; `None` when the endpoint gave no lifetime.
    refresh_at: Option<Instant>,
}

impl Credentials {
    /// OAuth credentials; no token is fetched until [`Credentials::authenticate`] or the
    /// first request.
    pub fn oauth(
        settings: OAuthSettings,
        options: &ClientOptions,
    ) -> Result<Credentials, ClientError> {
        let http = reqwest_client(options)?;
        Ok(Credentials::OAuth(Arc::new(Session {
            settings,
            http,
            state: tokio::sync::Mutex::new(State::default()),
            remembered: Mutex::new(VecDeque::new()),
            fetches: std::sync::atomic::AtomicU64::new(0),
        })))
    }

    /// Fetches the first token now, so a bad client id or secret stops the run before it
    /// starts. Nothing to do for a static token.
    pub async fn authenticate(&self) -> Result<(), OAuthError> {
        self.bearer().await.map(|_| ())
    }

    /// The token to send, and the generation it belongs to.
    pub(crate) async fn bearer(&self) -> Result<(Secret, u64), OAuthError> {
        match self {
            Credentials::Bearer(secret) => Ok((secret.clone(), 0)),
            Credentials::OAuth(session) => session.bearer().await,
        }
    }

    /// The endpoint answered 401 to the token of `generation`: fetch a new one next time.
    /// Returns true when a new token will be fetched (OAuth only).
    pub(crate) async fn rejected(&self, generation: u64) -> bool {
        match self {
            Credentials::Bearer(_) => false,
            Credentials::OAuth(session) => {
                let mut state = session.state.lock().await;
                if state.generation == generation {
                    state.current = None;
                }
                true
            }
        }
    }

    /// `text` with the static token, or the client secret and every remembered token,
    /// redacted.
    pub fn scrub(&self, text: &str) -> String {
        match self {
            Credentials::Bearer(secret) => secret.scrub(text),
            Credentials::OAuth(session) => {
                let mut out = session.settings.secret.scrub(text);
                let remembered = session.remembered.lock().unwrap_or_else(|e| e.into_inner());
                for token in remembered.iter() {
                    out = token.scrub(&out);
                }
                out
            }
        }
    }

    /// Tokens fetched so far (0 for a static token).
    pub fn fetches(&self) -> u64 {
        match self {
            Credentials::Bearer(_) => 0,
            Credentials::OAuth(s) => s.fetches.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl Session {
    async fn bearer(&self) -> Result<(Secret, u64), OAuthError> {
        let mut state = self.state.lock().await;
        if let Some(current) = &state.current {
            if current.refresh_at.is_none_or(|at| Instant::now() < at) {
                return Ok((current.token.clone(), state.generation));
            }
        }
        let (token, lifetime) = self.fetch().await?;
        let refresh_at = lifetime.map(|life| {
            // A margin for clock steps and the request's own travel: a quarter of the
            // lifetime, at most 30 s.
            Instant::now() + life - (life / 4).min(Duration::from_secs(30))
        });
        {
            let mut remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
            remembered.push_front(token.clone());
            remembered.truncate(REMEMBERED_TOKENS);
        }
        state.generation += 1;
        state.current = Some(Current {
            token: token.clone(),
            refresh_at,
        });
        Ok((token, state.generation))
    }

    /// One token request: `grant_type=client_credentials` with the client's id and secret
    /// in the form body (`client_secret_post`, as Entra sends it).
    async fn fetch(&self) -> Result<(Secret, Option<Duration>), OAuthError> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let url = self.settings.token_url.clone();
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", self.settings.secret.expose()),
        ];
        if let Some(scope) = &self.settings.scope {
            form.push(("scope", scope.as_str()));
        }
        let scrub =
            |text: &str| crate::escape::line(&self.settings.secret.scrub(text)).into_owned();
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| OAuthError::Unreachable {
                url: url.clone(),
                why: scrub(&chain(&e)),
            })?;
        let status = response.status().as_u16();
        let body = read_capped(response)
            .await
            .map_err(|why| OAuthError::Unreachable {
                url: url.clone(),
                why: scrub(&why),
            })?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if status != 200 {
            let field = |name: &str| {
                json.as_ref()
                    .and_then(|j| j.get(name))
                    .and_then(Value::as_str)
                    .map(|s| scrub(&truncate(s, 300)))
            };
            return Err(match field("error") {
                Some(error) => OAuthError::Rejected {
                    url,
                    status,
                    error,
                    description: field("error_description"),
                },
                None => OAuthError::BadAnswer {
                    url,
                    why: format!("it answered {status} without an OAuth error"),
                },
            });
        }
        let bad = |why: &str| OAuthError::BadAnswer {
            url: url.clone(),
            why: why.to_string(),
        };
        let json = json.ok_or_else(|| bad("the 200 answer is not JSON"))?;
        let token = json
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("the answer has no access_token"))?;
        if token.len() > MAX_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(
                "the access_token is not a usable bearer value (visible ASCII, at most 16 KiB)",
            ));
        }
        match json.get("token_type").and_then(Value::as_str) {
            Some(t) if t.eq_ignore_ascii_case("bearer") => {}
            Some(other) => {
                return Err(bad(&format!(
                    "token_type is `{}`, not Bearer",
                    scrub(&truncate(other, 40))
                )));
            }
            None => return Err(bad("the answer has no token_type (RFC 6749 §5.1)")),
        }
        let lifetime = match json.get("expires_in") {
            Some(Value::Number(n)) => n.as_f64(),
            // Some servers send it as a string.
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(1e9)));
        Ok((Secret::new(token), lifetime))
    }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| chain(&e))? {
        let room = MAX_TOKEN_RESPONSE.saturating_sub(body.len());
        if chunk.len() > room {
            return Err(format!(
                "the answer is larger than {} KiB",
                MAX_TOKEN_RESPONSE / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Checks `--oauth-token-url`: https, or http to this machine only (the secret would
/// otherwise cross the network in clear), and no user or fragment in it.
pub fn check_token_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("`{}` is not a URL: {e}", crate::escape::line(text)))?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err("the token URL must not carry a user, password or fragment".into());
    }
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(url.to_string()),
        "http" if loopback => Ok(url.to_string()),
        "http" => Err(
            "the token URL must be https (http only to localhost): the client secret is sent to it"
                .into(),
        ),
        other => Err(format!("the token URL must be https, not {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_urls_must_keep_the_secret_off_the_wire() {
        assert!(check_token_url("https://login.example.com/t/oauth2/token").is_ok());
        assert!(check_token_url("http://127.0.0.1:8080/oauth2/token").is_ok());
        assert!(check_token_url("http://localhost/oauth2/token").is_ok());
        for (bad, says) in [
            ("http://idp.example.com/token", "must be https"),
            ("https://u:p@idp.example.com/token", "user, password"),
            ("ftp://idp.example.com/token", "not ftp"),
            ("not a url", "not a URL"),
        ] {
            let err = check_token_url(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn rejection_messages_name_the_oauth_error() {
        let e = OAuthError::Rejected {
            url: "https://idp/token".into(),
            status: 401,
            error: "invalid_client".into(),
            description: Some("bad secret".into()),
        };
        let text = e.to_string();
        assert!(text.contains("401 invalid_client (bad secret)"), "{text}");
        assert!(text.contains("--oauth-client-id"), "{text}");
        assert!(e.is_rejection());
    }
}
