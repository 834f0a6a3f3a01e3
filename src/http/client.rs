//! The HTTP client: sends a rendered request the way Entra does and records the exchange.
//!
//! A refused connection, a reset, a timeout, a TLS failure or an unusable body is recorded in
//! the `Exchange` as a finding; `send` itself never fails and never hangs past the timeout.

use super::decode::{chain, classify, decode_body, timeout_fault};
use super::exchange::{Exchange, Fault, FaultKind, REDACTED, ReceivedResponse, SentRequest};
use super::oauth::Credentials;
use super::secret::Secret;
use super::target::Target;
use crate::scenario::model::{AuthMode, Method, QueryStyle, RequestSpec};
use crate::scim::ENTRA_REQUEST_CONTENT_TYPE;
use serde_json::Value;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Settings of the client, resolved by the CLI.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Whole-request deadline, body included (Entra's own limit is 60 s).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Bodies longer than this are cut and reported.
    pub body_cap: usize,
    /// Extra trusted CA certificates (PEM).
    pub cacert_pem: Option<Vec<u8>>,
    /// Skip certificate verification (explicit opt-in only).
    pub insecure: bool,
    /// 429 handling.
    pub retry: RetryPolicy,
    /// Headers added to every request (`--header`); a scenario's own header of the same
    /// name wins. Shown redacted.
    pub headers: Vec<(String, String)>,
    /// Proxies captured from the environment by the CLI; the default is none (direct). The
    /// HTTP library never reads the process environment itself.
    pub proxy: super::proxy::ProxySettings,
}

/// How 429 answers are waited out.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Retries after a 429, at most.
    pub max_retries: u32,
    /// The longest single `Retry-After` honoured; a longer one ends the retries.
    pub max_wait: Duration,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            timeout: Duration::from_secs(crate::scim::ENTRA_TIMEOUT_SECS),
            connect_timeout: Duration::from_secs(10),
            body_cap: 8 * 1024 * 1024,
            cacert_pem: None,
            insecure: false,
            retry: RetryPolicy {
                max_retries: 3,
                max_wait: Duration::from_secs(10),
            },
            headers: Vec::new(),
            proxy: super::proxy::ProxySettings::default(),
        }
    }
}

/// Why the client could not be built.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("the CA certificate file is not valid PEM: {0}")]
    CaCert(String),
    #[error("failed to set up the HTTP client: {0}")]
    Build(String),
}

/// A request ready to send: templates rendered, path relative to the Tenant URL.
#[derive(Clone, Debug, PartialEq)]
pub struct OutgoingRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub query_style: QueryStyle,
    pub headers: Vec<(String, String)>,
    pub auth: AuthMode,
    pub body: Option<Value>,
}

impl From<RequestSpec> for OutgoingRequest {
    /// A rendered step's request, as the client sends it.
    fn from(spec: RequestSpec) -> Self {
        OutgoingRequest {
            method: spec.method,
            path: spec.path,
            query: spec.query.into_iter().map(|q| (q.name, q.value)).collect(),
            query_style: spec.query_style,
            headers: spec.headers.into_iter().collect(),
            auth: spec.auth,
            body: spec.body,
        }
    }
}

/// Sends requests to one target with one token.
#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
    target: Target,
    token: Option<Credentials>,
    options: ClientOptions,
}

/// The bearer value sent for `auth: invalid`: well-formed, but not the run's token.
const INVALID_TOKEN: &str = "scimreplay-deliberately-invalid-token";

/// The reqwest client every outgoing connection uses (the run's client and the recorder's
/// upstream): no redirects followed, the run's timeouts, and the `--cacert`/`--insecure` trust.
pub(crate) fn reqwest_client(options: &ClientOptions) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .pool_max_idle_per_host(32);
    if let Some(pem) = &options.cacert_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| ClientError::CaCert(e.to_string()))?;
        if certs.is_empty() {
            return Err(ClientError::CaCert("no certificate found".into()));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if options.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder = options.proxy.apply(builder).map_err(ClientError::Build)?;
    builder.build().map_err(|e| ClientError::Build(chain(&e)))
}

impl Client {
    pub fn new(
        target: Target,
        token: Option<Credentials>,
        options: ClientOptions,
    ) -> Result<Client, ClientError> {
        let inner = reqwest_client(&options)?;
        Ok(Client {
            inner,
            target,
            token,
            options,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The run's credentials, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.token.as_ref()
    }

    /// Sends the request, waiting out 429s as the retry policy allows.
    ///
    /// With OAuth credentials, a 401 to a request that carried the run's token gets a new
    /// token and is sent once more.
    pub async fn send(&self, request: &OutgoingRequest) -> Exchange {
        let mut retries = Vec::new();
        let mut refreshed = false;
        loop {
            let (mut exchange, generation) = self.send_once(request).await;
            let unauthorised = exchange.response.as_ref().is_some_and(|r| r.status == 401);
            if unauthorised && request.auth == AuthMode::Token && !refreshed {
                if let (Some(creds), Some(generation)) = (&self.token, generation) {
                    if creds.rejected(generation).await {
                        refreshed = true;
                        continue;
                    }
                }
            }
            let wait = exchange
                .response
                .as_ref()
                .filter(|r| r.status == 429)
                .map(|r| retry_after(r.header("retry-after")));
            let policy = self.options.retry;
            let stopped = match wait {
                None => None,
                Some(wait) if wait > policy.max_wait => Some(format!(
                    "Retry-After {}s is above --max-retry-wait {}s; not waited",
                    wait.as_secs(),
                    policy.max_wait.as_secs()
                )),
                Some(_) if retries.len() >= policy.max_retries as usize => Some(format!(
                    "still 429 after {} {}; gave up",
                    retries.len(),
                    if retries.len() == 1 {
                        "retry"
                    } else {
                        "retries"
                    }
                )),
                Some(wait) => {
                    tokio::time::sleep(wait).await;
                    retries.push(wait.as_secs());
                    continue;
                }
            };
            exchange.retries = retries;
            exchange.retry_stopped = stopped;
            return exchange;
        }
    }

    /// One attempt, and the generation of the OAuth token it carried.
    async fn send_once(&self, request: &OutgoingRequest) -> (Exchange, Option<u64>) {
        let mut bearer = None;
        if let (AuthMode::Token, Some(creds)) = (request.auth, &self.token) {
            match creds.bearer().await {
                Ok(found) => bearer = Some(found),
                Err(e) => {
                    let (sent, _) = self.build(request, None);
                    let fault = Fault {
                        kind: FaultKind::Refused,
                        message: format!("not sent: {}", creds.scrub(&e.to_string())),
                    };
                    let exchange = Exchange {
                        request: sent,
                        response: None,
                        fault: Some(fault),
                        retries: Vec::new(),
                        retry_stopped: None,
                    };
                    return (exchange, None);
                }
            }
        }
        let generation = bearer.as_ref().map(|(_, g)| *g);
        let (sent, builder) = self.build(request, bearer.as_ref().map(|(s, _)| s));
        let started = Instant::now();
        // reqwest's own timeout covers the body too; the outer one is a guarantee.
        let deadline = self.options.timeout + Duration::from_secs(1);
        let outcome = tokio::time::timeout(deadline, self.receive(builder, started)).await;
        let (response, fault) = match outcome {
            Ok(result) => result,
            Err(_) => (None, Some(timeout_fault(self.options.timeout))),
        };
        let scrub = |r: ReceivedResponse| match &self.token {
            Some(creds) => scrub_response(r, creds),
            None => r,
        };
        // An error text can quote what the server sent back; the token must not ride along.
        let fault = fault.map(|mut f| {
            if let Some(creds) = &self.token {
                f.message = creds.scrub(&f.message);
            }
            f
        });
        let exchange = Exchange {
            request: sent,
            response: response.map(scrub),
            fault,
            retries: Vec::new(),
            retry_stopped: None,
        };
        (exchange, generation)
    }

    fn build(
        &self,
        request: &OutgoingRequest,
        token: Option<&Secret>,
    ) -> (SentRequest, reqwest::RequestBuilder) {
        let mut path = format!("/{}", request.path.trim_start_matches('/'));
        if !request.query.is_empty() {
            path.push('?');
            path.push_str(&encode_query(&request.query, request.query_style));
        }
        let url = self.target.join(&path);
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::GET);
        let mut builder = self.inner.request(method, self.target.url(&path));
        let mut headers: Vec<(String, String)> = Vec::new();
        let bearer = match request.auth {
            AuthMode::Token => token.map(|t| (t.expose().to_string(), REDACTED)),
            AuthMode::Invalid => Some((INVALID_TOKEN.to_string(), INVALID_TOKEN)),
            AuthMode::None => None,
        };
        if let Some((value, shown)) = bearer {
            let mut header = reqwest::header::HeaderValue::from_str(&format!("Bearer {value}"))
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Bearer invalid"));
            header.set_sensitive(true);
            builder = builder.header(reqwest::header::AUTHORIZATION, header);
            headers.push(("Authorization".into(), format!("Bearer {shown}")));
        }
        let custom_content_type = request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        let body = request.body.as_ref().map(|b| b.to_string());
        if body.is_some() && !custom_content_type {
            builder = builder.header(reqwest::header::CONTENT_TYPE, ENTRA_REQUEST_CONTENT_TYPE);
            headers.push(("Content-Type".into(), ENTRA_REQUEST_CONTENT_TYPE.into()));
        }
        let own = |name: &str| {
            request
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        for (name, value) in self.options.headers.iter().filter(|(k, _)| !own(k)) {
            builder = builder.header(name.as_str(), value.as_str());
            headers.push((name.clone(), REDACTED.to_string()));
        }
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
            headers.push((name.clone(), value.clone()));
        }
        if let Some(body) = &body {
            builder = builder.body(body.clone());
        }
        let sent = SentRequest {
            method: request.method.as_str().to_string(),
            url,
            path,
            headers,
            body,
        };
        (sent, builder)
    }

    async fn receive(
        &self,
        builder: reqwest::RequestBuilder,
        started: Instant,
    ) -> (Option<ReceivedResponse>, Option<Fault>) {
        let mut response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return (None, Some(classify(&e, self.options.timeout))),
        };
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut bytes: Vec<u8> = Vec::new();
        let mut truncated = false;
        let mut fault = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = self.options.body_cap.saturating_sub(bytes.len());
                    if chunk.len() > room {
                        bytes.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let mut cut = classify(&e, self.options.timeout);
                    if cut.kind == FaultKind::Reset {
                        cut.message = format!(
                            "the connection closed after {} bytes of the body: {}",
                            bytes.len(),
                            cut.message
                        );
                    }
                    fault = Some(cut);
                    break;
                }
            }
        }
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let received = decode_body(
            status,
            headers,
            bytes,
            truncated,
            self.options.body_cap,
            elapsed_ms,
        );
        (Some(received), fault)
    }
}

fn scrub_response(mut r: ReceivedResponse, token: &Credentials) -> ReceivedResponse {
    let scrubbed = token.scrub(&r.body);
    if scrubbed != r.body {
        r.body = scrubbed;
        r.json = serde_json::from_str(&r.body).ok();
    }
    for (_, v) in r.headers.iter_mut() {
        *v = token.scrub(v);
    }
    r
}

/// Seconds to wait for a 429: the numeric `Retry-After`, else one second.
fn retry_after(value: Option<&str>) -> Duration {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1))
}

/// Encodes query parameters as Entra does (fact sheet §1.4).
pub fn encode_query(params: &[(String, String)], style: QueryStyle) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                encode_component(k, style),
                encode_component(v, style)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn encode_component(text: &str, style: QueryStyle) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            // The Validator leaves these raw; the URL layer still encodes `"` as the URL
            // standard requires, so only `@`, `:` and `,` differ on the wire.
            b'@' | b':' | b',' | b'[' | b']' if style == QueryStyle::Validator => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn encodes_filters_like_production_entra() {
        let encoded = encode_query(
            &q(&[("filter", "userName eq \"alice@example.com\"")]),
            QueryStyle::Entra,
        );
        assert_eq!(encoded, "filter=userName+eq+%22alice%40example.com%22");
    }

    #[test]
    fn keeps_parameter_order_for_group_queries() {
        let encoded = encode_query(
            &q(&[
                ("excludedAttributes", "members"),
                ("filter", "displayName eq \"Sales\""),
            ]),
            QueryStyle::Entra,
        );
        assert_eq!(
            encoded,
            "excludedAttributes=members&filter=displayName+eq+%22Sales%22"
        );
    }

    #[test]
    fn validator_style_leaves_at_signs_raw() {
        let encoded = encode_query(
            &q(&[("filter", "userName eq \"a@b.c\"")]),
            QueryStyle::Validator,
        );
        assert_eq!(encoded, "filter=userName+eq+%22a@b.c%22");
    }

    #[test]
    fn retry_after_reads_seconds_and_defaults_to_one() {
        assert_eq!(retry_after(Some(" 3 ")), Duration::from_secs(3));
        assert_eq!(
            retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Duration::from_secs(1)
        );
        assert_eq!(retry_after(None), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_retry_after_above_the_cap_is_not_waited_and_says_why() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 2048];
                let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n")
                    .await;
            }
        });
        let target = Target::parse(&format!("http://{addr}/scim")).unwrap();
        let client = Client::new(target, None, ClientOptions::default()).unwrap();
        let started = Instant::now();
        let exchange = client
            .send(&OutgoingRequest {
                method: Method::Get,
                path: "/Users".into(),
                query: Vec::new(),
                query_style: QueryStyle::Entra,
                headers: Vec::new(),
                auth: AuthMode::None,
                body: None,
            })
            .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(exchange.response.map(|r| r.status), Some(429));
        assert!(exchange.retries.is_empty());
        assert_eq!(
            exchange.retry_stopped.as_deref(),
            Some("Retry-After 120s is above --max-retry-wait 10s; not waited")
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_short_connect_fault() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let target = Target::parse(&format!("http://{addr}")).unwrap();
        let client = Client::new(target, None, ClientOptions::default()).unwrap();
        let exchange = client
            .send(&OutgoingRequest {
                method: Method::Delete,
                path: "/Users/1".into(),
                query: Vec::new(),
                query_style: QueryStyle::Entra,
                headers: Vec::new(),
                auth: AuthMode::None,
                body: None,
            })
            .await;
        let fault = exchange.fault.unwrap();
        assert_eq!(fault.kind, FaultKind::Connect);
        assert!(
            !fault.message.contains("error sending request"),
            "wrappers dropped: {}",
            fault.message
        );
        assert!(
            fault.message.contains("onnection refused"),
            "{}",
            fault.message
        );
    }
}
