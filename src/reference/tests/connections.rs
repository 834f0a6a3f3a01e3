//! Connection-level limits on a real loopback socket: header and body timeouts, the
//! connection cap, the in-flight body budget, bare-LF requests and `Host` headers. Every
//! timeout here is a few hundred milliseconds, and every wait is bounded.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::TOKEN;
use crate::reference::{RunningServer, ServerConfig, spawn};

const SHORT: Duration = Duration::from_millis(300);

/// How long a test waits for anything before it calls the endpoint hung.
const PATIENCE: Duration = Duration::from_secs(3);

async fn start(config: ServerConfig) -> RunningServer {
    let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
        panic!("bind failed")
    };
    match spawn(listener, config).await {
        Ok(server) => server,
        Err(err) => panic!("spawn failed: {err}"),
    }
}

fn short_timeouts() -> ServerConfig {
    ServerConfig {
        header_timeout: SHORT,
        body_timeout: SHORT,
        ..ServerConfig::new(TOKEN)
    }
}

async fn connect(addr: SocketAddr) -> TcpStream {
    match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(err) => panic!("connect failed: {err}"),
    }
}

/// Everything the server sends until it closes, or `None` if it is still open after
/// [`PATIENCE`].
async fn read_until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(PATIENCE, stream.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

/// Sends `request` on a new connection and returns the whole answer (the server closes).
async fn exchange(addr: SocketAddr, request: &str) -> Option<String> {
    let mut stream = connect(addr).await;
    stream.write_all(request.as_bytes()).await.ok()?;
    read_until_closed(&mut stream).await
}

fn get(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {TOKEN}\r\n{extra}Connection: close\r\n\r\n"
    )
}

#[tokio::test]
async fn bare_lf_requests_are_answered() {
    let server = start(ServerConfig::new(TOKEN)).await;
    let request = format!(
        "GET /scim/v2/ServiceProviderConfig HTTP/1.1\nHost: h\nAuthorization: Bearer {TOKEN}\nConnection: close\n\n"
    );
    let answer = exchange(server.local_addr(), &request).await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 200")),
        "{answer:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_head_sent_too_slowly_or_an_idle_connection_is_closed() {
    let server = start(short_timeouts()).await;
    let mut slow = connect(server.local_addr()).await;
    let _ = slow
        .write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: h\r\n")
        .await;
    let started = Instant::now();
    assert!(read_until_closed(&mut slow).await.is_some(), "still open");
    assert!(started.elapsed() < PATIENCE);
    let mut idle = connect(server.local_addr()).await;
    assert!(read_until_closed(&mut idle).await.is_some(), "idle kept");
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_a_408() {
    let server = start(short_timeouts()).await;
    let mut stream = connect(server.local_addr()).await;
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{{\"userName\""
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let answer = read_until_closed(&mut stream).await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 408") && a.contains("did not arrive within")),
        "{answer:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_cap_get_a_503_and_the_cap_frees_up() {
    let server = start(ServerConfig {
        max_connections: 3,
        ..short_timeouts()
    })
    .await;
    let addr = server.local_addr();
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(connect(addr).await);
    }
    // Let the server accept them before the next one arrives.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = exchange(addr, &get("/scim/v2/Users", "")).await;
    assert!(
        refused
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 503")
                && a.contains("too many open connections")
                && a.contains("urn:ietf:params:scim:api:messages:2.0:Error")),
        "{refused:?}"
    );
    // The idle ones time out, and a new client is served.
    for stream in &mut idle {
        assert!(read_until_closed(stream).await.is_some());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let served = exchange(addr, &get("/scim/v2/Users", "")).await;
    assert!(
        served
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 200")),
        "{served:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn bodies_in_flight_are_bounded_in_total() {
    let server = start(ServerConfig {
        max_inflight_body_bytes: 4 * 1024,
        ..ServerConfig::new(TOKEN)
    })
    .await;
    let addr = server.local_addr();
    let head = |len: usize| {
        format!(
            "POST /scim/v2/Users HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/scim+json\r\nContent-Length: {len}\r\n\r\n{{"
        )
    };
    let mut holding = connect(addr).await;
    let _ = holding.write_all(head(3000).as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut second = connect(addr).await;
    let _ = second.write_all(head(3000).as_bytes()).await;
    let answer = read_until_closed(&mut second).await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 503")
                && a.to_ascii_lowercase().contains("retry-after: 1")),
        "{answer:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn locations_use_the_local_address_or_the_public_url_never_the_host_header() {
    let create = |host: &str| {
        let body = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"h@x"}"#;
        format!(
            "POST /scim/v2/Users HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let server = start(ServerConfig::new(TOKEN)).await;
    let addr = server.local_addr();
    let answer = exchange(addr, &create("evil.example"))
        .await
        .unwrap_or_default();
    let expected = format!("\nlocation: http://{addr}/scim/v2/users/");
    assert!(answer.to_ascii_lowercase().contains(&expected), "{answer}");
    assert!(!answer.contains("evil.example"), "{answer}");
    server.shutdown().await;
    let proxied = start(ServerConfig {
        public_url: Some("https://scim.example.com".into()),
        ..ServerConfig::new(TOKEN)
    })
    .await;
    let answer = exchange(proxied.local_addr(), &create("evil.example"))
        .await
        .unwrap_or_default();
    assert!(
        answer.contains("\"location\":\"https://scim.example.com/scim/v2/Users/"),
        "{answer}"
    );
    assert!(!answer.contains("evil.example"), "{answer}");
    proxied.shutdown().await;
}
