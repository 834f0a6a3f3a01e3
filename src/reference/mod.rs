//! The built-in reference endpoint: an in-memory SCIM 2.0 service provider that handles
//! everything Entra sends (both PATCH dialects and the quirks in the fact sheet §3.3).
//!
//! It is what `scimreplay run` talks to when no `--target` is given, the golden baseline
//! for snapshots, and a worked example for people building an endpoint. It shares only the
//! constants in [`crate::scim`] with the client side.
//!
//! Public surface: [`ServerConfig`], [`spawn`] → [`RunningServer`], [`router`] for
//! in-process use ([`spawn_app`] serves it wrapped), and [`Faults`] to switch on realistic
//! incompatibilities.
//!
//! Layout (private modules): `schema` (attribute definitions) and `attr` (name resolution)
//! underpin `resource` (what is stored), `render` (what is returned), `filter`/`eval`
//! (queries), `patch` (PATCH) and `store` (sharded, lock-light storage); `crud` and
//! `handlers` tie them to HTTP with `guard` (auth, rate limit), `routes` and `lenient`
//! (raw quotes in request lines). See `docs/reference-endpoint.md`.

mod attr;
mod conn;
mod crud;
pub(crate) mod discovery;
mod error;
mod eval;
mod faults;
mod filter;
mod guard;
mod handlers;
mod lenient;
mod list;
mod narrow;
mod oauth;
mod patch;
mod quota;
mod render;
mod resource;
mod routes;
mod schema;
mod store;
mod time;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

pub use faults::{FAULTS, Faults, UnknownFault};
pub use filter::{MAX_FILTER_BYTES, MAX_FILTER_TERMS};
pub use lenient::LenientListener;
pub use lenient::LenientStream;
pub use oauth::{DEFAULT_TOKEN_TTL, MAX_LIVE_TOKENS, OAuthConfig, TOKEN_PATH};
pub use patch::{MAX_BATCH_VALUES, MAX_OPERATIONS};
pub use quota::{
    DEFAULT_MAX_GROUP_MEMBERS, DEFAULT_MAX_RESOURCE_BYTES, DEFAULT_MAX_RESOURCES,
    DEFAULT_MAX_STORE_BYTES, Limits as StoreLimits,
};

use guard::RateLimiter;
use store::Store;

/// The default request-body cap (1 MiB); larger bodies get a 413 SCIM error.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The default time a client has to send a request head (and to start the next one on a
/// kept-alive connection).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time a client has to send a request body once its head arrived.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The default number of connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// The default total of request bodies being read at once (64 MiB).
pub const DEFAULT_MAX_INFLIGHT_BODY_BYTES: usize = 64 * 1024 * 1024;

/// How the reference endpoint behaves.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The bearer token clients must present; empty disables authentication.
    pub token: String,
    /// Requests per second across all clients; over the limit answers 429 + `Retry-After`.
    pub rate_limit: Option<u32>,
    /// The mount prefix used for [`RunningServer::base_url`], e.g. `/scim/v2`. Requests are
    /// accepted under any prefix (and at the root) regardless.
    pub base_path: String,
    /// Request bodies larger than this are refused with 413.
    pub max_body_bytes: usize,
    /// `scheme://host[:port]` used in `Location` and `meta.location` (e.g. behind a
    /// reverse proxy). Without it, the local address the request arrived on is used; the
    /// client's `Host` header never is.
    pub public_url: Option<String>,
    /// A request head must arrive this fast (and the next one on an idle connection).
    pub header_timeout: Duration,
    /// A request body must arrive this fast once its head did; later is a 408.
    pub body_timeout: Duration,
    /// Connections served at once; one more gets a 503 and is closed.
    pub max_connections: usize,
    /// Request bodies being read at once may hold this many bytes; more is a 503.
    pub max_inflight_body_bytes: usize,
    /// How much the store may hold (413 for one resource too big, 507 when full).
    pub store_limits: StoreLimits,
    /// Deliberate incompatibilities; all off by default.
    pub faults: Faults,
    /// An OAuth 2.0 token endpoint at [`TOKEN_PATH`] whose tokens the SCIM routes accept;
    /// with it, an empty `token` means only issued tokens are accepted (not "no auth").
    pub oauth: Option<OAuthConfig>,
}

impl ServerConfig {
    /// A configuration with this token, no rate limit, base path `/scim/v2`, no faults.
    pub fn new(token: impl Into<String>) -> Self {
        ServerConfig {
            token: token.into(),
            rate_limit: None,
            base_path: "/scim/v2".to_string(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            public_url: None,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_inflight_body_bytes: DEFAULT_MAX_INFLIGHT_BODY_BYTES,
            store_limits: StoreLimits::default(),
            faults: Faults::default(),
            oauth: None,
        }
    }
}

/// The token is a secret: `Debug` never shows it.
impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field(
                "token",
                &if self.token.is_empty() {
                    "<none>"
                } else {
                    "<redacted>"
                },
            )
            .field("rate_limit", &self.rate_limit)
            .field("base_path", &self.base_path)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("public_url", &self.public_url)
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("max_connections", &self.max_connections)
            .field("max_inflight_body_bytes", &self.max_inflight_body_bytes)
            .field("store_limits", &self.store_limits)
            .field("faults", &self.faults)
            .field(
                "oauth",
                &self
                    .oauth
                    .as_ref()
                    .map(|o| (&o.client_id, "<secret redacted>", o.token_ttl)),
            )
            .finish()
    }
}

/// Checks a `--public-url` (`scheme://host[:port]`, nothing after it but an optional `/`)
/// and returns it without the trailing slash.
pub fn parse_public_url(text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    let Some(scheme_len) = ["http://", "https://"]
        .iter()
        .find(|s| lower.starts_with(*s))
        .map(|s| s.len())
    else {
        return Err(format!("`{text}` must start with http:// or https://"));
    };
    let authority = text[scheme_len..]
        .strip_suffix('/')
        .unwrap_or(&text[scheme_len..]);
    let plain = !authority.is_empty()
        && !authority.contains(['/', '?', '#', '@'])
        && authority.parse::<axum::http::uri::Authority>().is_ok();
    if !plain {
        return Err(format!(
            "`{text}` must be scheme://host[:port] with no path, query or user"
        ));
    }
    Ok(format!("{}{authority}", &lower[..scheme_len]))
}

/// `"scim/v2/"` → `"/scim/v2"`; `"/"` → `""`.
fn normalize_base_path(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{s}"))
        .collect()
}

/// Shared state behind every request.
pub struct AppState {
    pub config: ServerConfig,
    pub store: Store,
    quota: quota::Quota,
    limiter: Option<RateLimiter>,
    /// `max_inflight_body_bytes` in KiB permits, taken while a body is read and handled.
    body_budget: Arc<Semaphore>,
    /// Tokens the OAuth token endpoint issued.
    issued: oauth::Issued,
}

/// The axum router of the endpoint, for in-process use (`tower::ServiceExt::oneshot`).
pub fn router(config: ServerConfig) -> Router {
    router_with_state(config).0
}

fn router_with_state(config: ServerConfig) -> (Router, Arc<AppState>) {
    let limiter = config.rate_limit.map(RateLimiter::new);
    let budget_kib = (config.max_inflight_body_bytes / 1024).clamp(1, Semaphore::MAX_PERMITS);
    let store_limits = config.store_limits;
    let config = ServerConfig {
        base_path: normalize_base_path(&config.base_path),
        public_url: config
            .public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_string()),
        ..config
    };
    let state = Arc::new(AppState {
        config,
        store: Store::default(),
        quota: quota::Quota::new(store_limits),
        limiter,
        body_budget: Arc::new(Semaphore::new(budget_kib)),
        issued: oauth::Issued::default(),
    });
    let app = Router::new()
        .fallback(handlers::dispatch)
        .with_state(Arc::clone(&state));
    (app, state)
}

/// A running endpoint; dropping it also stops the server (without waiting).
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    base_path: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SCIM base URL, e.g. `http://127.0.0.1:8080/scim/v2` (a wildcard bind shows as loopback).
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!(
            "http://{}{}",
            SocketAddr::new(ip, self.addr.port()),
            self.base_path
        )
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s), then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

/// Serves the endpoint on `listener` in a background task.
pub async fn spawn(listener: TcpListener, config: ServerConfig) -> std::io::Result<RunningServer> {
    let base_path = config.base_path.clone();
    let limits = conn_limits(&config);
    serve_router(listener, router(config), &base_path, limits).await
}

fn conn_limits(config: &ServerConfig) -> conn::ConnLimits {
    conn::ConnLimits {
        header_timeout: config.header_timeout,
        max_connections: config.max_connections,
    }
}

/// Serves any router the way [`spawn`] serves the endpoint's own (raw quotes in request
/// lines accepted, the default connection limits, graceful shutdown), e.g. [`router`]
/// wrapped in a layer that misbehaves on purpose. `base_path` is only used for
/// [`RunningServer::base_url`].
pub async fn spawn_app(
    listener: TcpListener,
    app: Router,
    base_path: &str,
) -> std::io::Result<RunningServer> {
    let limits = conn_limits(&ServerConfig::new(""));
    serve_router(listener, app, base_path, limits).await
}

async fn serve_router(
    listener: TcpListener,
    app: Router,
    base_path: &str,
    limits: conn::ConnLimits,
) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let base_path = normalize_base_path(base_path);
    // A dropped sender means the `RunningServer` was dropped: the loop stops as well.
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(conn::serve(listener, app, limits, stopped));
    Ok(RunningServer {
        addr,
        base_path,
        stop: Some(stop),
        task: Some(task),
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod config_tests {
    use super::parse_public_url;

    #[test]
    fn public_urls_are_origins_only() {
        assert_eq!(
            parse_public_url("HTTPS://scim.example.com/"),
            Ok("https://scim.example.com".to_string())
        );
        assert_eq!(
            parse_public_url("http://[::1]:8080"),
            Ok("http://[::1]:8080".to_string())
        );
        for bad in [
            "scim.example.com",
            "ftp://x",
            "https://",
            "https://x/scim",
            "https://x?y",
            "https://u@x",
            "https://x y",
            "https://x\r\nSet-Cookie: a",
        ] {
            let err = parse_public_url(bad).err();
            assert!(err.is_some_and(|e| e.contains(bad)), "{bad}");
        }
    }
}
