//! Proxies: `HTTP_PROXY`, `HTTPS_PROXY` (tunnelled with CONNECT) and `NO_PROXY` are honoured,
//! through a tiny forwarding proxy that records what it was asked for.

use crate::support::{TOKEN, TempDir, cli_env};
use scimreplay::exit::Outcome;
use scimreplay::reference::{self, ServerConfig};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A forwarding proxy on a free loopback port: `CONNECT host:port` is tunnelled, an
/// absolute-form request is passed on to its host. Each connection's first request line is
/// recorded.
async fn tiny_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let _ = relay(client, log).await;
            });
        }
    });
    (url, seen)
}

async fn relay(mut client: TcpStream, log: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = client.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let line = text.lines().next().unwrap_or_default().to_string();
    log.lock().unwrap().push(line.clone());
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut upstream = if method == "CONNECT" {
        let upstream = TcpStream::connect(target).await?;
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        upstream
    } else {
        // http://host:port/path: the origin server takes the absolute form as it is.
        let authority = target
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        let mut upstream = TcpStream::connect(authority).await?;
        upstream.write_all(&head).await?;
        upstream
    };
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

async fn reference_endpoint() -> reference::RunningServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    reference::spawn(listener, ServerConfig::new(TOKEN))
        .await
        .unwrap()
}

fn run_args<'a>(target: &'a str, state: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--target",
        target,
        "-s",
        "user-disable-default",
        "--no-snapshots",
        "--state-dir",
        state,
        "--color",
        "never",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_carries_every_request_and_no_proxy_bypasses_it() {
    let server = reference_endpoint().await;
    let (proxy, seen) = tiny_proxy().await;
    let base = server.base_url();
    let dir = TempDir::new("proxy-http");
    let state = dir.path().join("state").display().to_string();
    let args = run_args(&base, &state);
    let run = cli_env(
        &args,
        &[("SCIMREPLAY_TOKEN", TOKEN), ("HTTP_PROXY", &proxy)],
    )
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let lines = seen.lock().unwrap().clone();
    assert!(!lines.is_empty(), "the proxy saw nothing");
    let origin = base.trim_end_matches("/scim/v2");
    assert!(
        lines.iter().all(|l| l
            .split_whitespace()
            .nth(1)
            .is_some_and(|t| t.starts_with(origin))),
        "{lines:?}"
    );
    // The same run with the endpoint in NO_PROXY goes direct.
    seen.lock().unwrap().clear();
    let run = cli_env(
        &args,
        &[
            ("SCIMREPLAY_TOKEN", TOKEN),
            ("http_proxy", &proxy),
            ("NO_PROXY", "localhost,127.0.0.1"),
        ],
    )
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_tunnels_with_connect() {
    let endpoint = crate::tls::tls_endpoint().await;
    let (proxy, seen) = tiny_proxy().await;
    let dir = TempDir::new("proxy-https");
    let ca = dir.write("ca.pem", &endpoint.ca_pem);
    let file = dir.write(
        "s.json",
        &serde_json::json!({"name": "probe", "summary": "one query", "dialect": "any",
            "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users"},
                       "expect": {"status": 200, "checks": ["scim.list-response"]}}]})
        .to_string(),
    );
    let state = dir.path().join("state");
    let run = cli_env(
        &[
            "run",
            "--target",
            &endpoint.url,
            "--no-builtin",
            "--scenarios",
            file.to_str().unwrap(),
            "--cacert",
            ca.to_str().unwrap(),
            "--no-snapshots",
            "--no-preflight",
            "--state-dir",
            state.to_str().unwrap(),
        ],
        &[("SCIMREPLAY_TOKEN", TOKEN), ("HTTPS_PROXY", &proxy)],
    )
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let host = endpoint
        .url
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let lines = seen.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("CONNECT {host} "))),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_malformed_proxy_is_invalid_input_naming_the_variable() {
    let run = cli_env(
        &[
            "run",
            "--target",
            "https://scim.example.com/scim/v2",
            "--dry-run",
        ],
        &[("HTTPS_PROXY", "ftp://user:hunter2@proxy")],
    )
    .await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr.contains("HTTPS_PROXY is not a proxy URL"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_endpoint_is_never_proxied() {
    let (proxy, seen) = tiny_proxy().await;
    let run = cli_env(
        &["run", "-s", "user-disable-default", "--no-snapshots"],
        &[("HTTP_PROXY", &proxy), ("HTTPS_PROXY", &proxy)],
    )
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert!(seen.lock().unwrap().is_empty());
}
