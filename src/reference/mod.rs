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
mod crud;
mod discovery;
mod error;
mod eval;
mod faults;
mod filter;
mod guard;
mod handlers;
mod lenient;
mod list;
mod patch;
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
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{FAULTS, Faults, UnknownFault};
pub use filter::{MAX_FILTER_BYTES, MAX_FILTER_TERMS};

use guard::RateLimiter;
use store::Store;

/// The default request-body cap (1 MiB); larger bodies get a 413 SCIM error.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

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
    /// Deliberate incompatibilities; all off by default.
    pub faults: Faults,
}

impl ServerConfig {
    /// A configuration with this token, no rate limit, base path `/scim/v2`, no faults.
    pub fn new(token: impl Into<String>) -> Self {
        ServerConfig {
            token: token.into(),
            rate_limit: None,
            base_path: "/scim/v2".to_string(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            faults: Faults::default(),
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
            .field("faults", &self.faults)
            .finish()
    }
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
    limiter: Option<RateLimiter>,
}

/// The axum router of the endpoint, for in-process use (`tower::ServiceExt::oneshot`).
pub fn router(config: ServerConfig) -> Router {
    let limiter = config.rate_limit.map(RateLimiter::new);
    let config = ServerConfig {
        base_path: normalize_base_path(&config.base_path),
        ..config
    };
    let state = Arc::new(AppState {
        config,
        store: Store::default(),
        limiter,
    });
    Router::new().fallback(handlers::dispatch).with_state(state)
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
    spawn_app(listener, router(config), &base_path).await
}

/// Serves any router the way [`spawn`] serves the endpoint's own (raw quotes in request
/// lines accepted, graceful shutdown), e.g. [`router`] wrapped in a layer that misbehaves
/// on purpose. `base_path` is only used for [`RunningServer::base_url`].
pub async fn spawn_app(
    listener: TcpListener,
    app: Router,
    base_path: &str,
) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let base_path = normalize_base_path(base_path);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(lenient::LenientListener(listener), app)
            .with_graceful_shutdown(async move {
                // A dropped sender means the `RunningServer` was dropped: stop as well.
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        base_path,
        stop: Some(stop),
        task: Some(task),
    })
}

#[cfg(test)]
mod tests;
