//! Accepting and serving connections, with the limits a hostile client must not get past.
//!
//! `axum::serve` has no read timeouts and no connection limit, so 1100 idle sockets locked
//! out every other client and half-sent requests were held forever. This loop serves each
//! connection with hyper's HTTP/1.1 server and:
//!
//! - closes a connection whose request head does not arrive within
//!   [`ConnLimits::header_timeout`] (this also ends idle keep-alive connections, since hyper
//!   starts the timer whenever it waits for a new request);
//! - serves at most [`ConnLimits::max_connections`] at once; one more is answered with a
//!   `503` SCIM error and closed at once, so new clients learn to retry instead of waiting
//!   in the kernel's backlog while the process runs out of file descriptors;
//! - tells each request which local address it came in on ([`LocalOrigin`]), so `Location`
//!   and `meta.location` never copy a client's `Host` header.
//!
//! Request lines pass through [`LenientStream`] first (raw quotes, bare LF line endings).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;

use super::error::ScimError;
use super::lenient::LenientStream;

/// Over-limit connections being answered `503` at once; beyond this they are just closed.
const MAX_REFUSALS: usize = 32;

/// How long a refused connection may take to receive its `503`.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// Connection-level limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// A request head (or the next one, on a kept-alive connection) must arrive this fast.
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// `scheme://host:port` of the local address a request arrived on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOrigin(pub String);

/// Serves `app` on `listener` until `stop` fires (or its sender is dropped), then lets
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    mut stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let (draining, drain) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors or similar: back off instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        // Small SCIM responses should not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(permit);
                });
            }
            continue;
        };
        let app = app.clone();
        let drain = drain.clone();
        connections.spawn(async move {
            serve_one(stream, app, limits, drain).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = draining.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn serve_one(
    stream: TcpStream,
    app: Router,
    limits: ConnLimits,
    mut drain: watch::Receiver<bool>,
) {
    let origin = LocalOrigin(match stream.local_addr() {
        Ok(addr) => origin_of(addr),
        Err(_) => "http://localhost".to_string(),
    });
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(origin.clone());
        TowerToHyperService::new(app.clone()).call(request)
    });
    let io = TokioIo::new(LenientStream::new(stream));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    loop {
        tokio::select! {
            // A timed-out or broken connection is simply closed; there is no one to tell.
            _ = connection.as_mut() => return,
            changed = drain.changed() => {
                if changed.is_err() || *drain.borrow() {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                    return;
                }
            }
        }
    }
}

fn origin_of(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

/// Answers a connection over the limit with a `503` SCIM error and closes it.
async fn refuse(mut stream: TcpStream) {
    let error = ScimError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "too many open connections; retry shortly",
    );
    let body = error.body(false).to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        crate::scim::MEDIA_TYPE,
        body.len()
    );
    let write = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, write).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_bracket_ipv6() {
        let v6: SocketAddr = "[::1]:8080".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(origin_of(v6), "http://[::1]:8080");
        let v4: SocketAddr = "127.0.0.1:9".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(origin_of(v4), "http://127.0.0.1:9");
    }
}
