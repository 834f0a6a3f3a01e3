//! Proxies: `HTTP_PROXY`, `HTTPS_PROXY` (tunnelled with CONNECT) and `NO_PROXY` are honoured
//! by every command that sends (`run`, `mappings discover`, `load`, `cleanup`, `record`'s
//! upstream, the OAuth token fetch), through a tiny forwarding proxy that records what it was
//! asked for. A proxy's password is in no output.

use crate::interrupt::Spawned;
use crate::support::{
    OAUTH_SECRET, TOKEN, TempDir, assert_no_leak, cli_env, oauth_flags, outputs_of, serve_oauth,
};
use scimreplay::exit::Outcome;
use scimreplay::reference::{self, ServerConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;
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

/// Every sending command reads the proxies through the same resolution: a malformed one
/// stops each of them as bad input before anything is sent (a command that built its client
/// some other way would try to connect instead).
#[tokio::test]
async fn a_malformed_proxy_is_invalid_input_naming_the_variable() {
    let url = "https://scim.example.com/scim/v2";
    let dir = TempDir::new("proxy-malformed");
    let out = dir.path().join("recorded.json");
    let out = out.to_str().unwrap();
    let commands: [&[&str]; 5] = [
        &["run", "--target", url, "--dry-run"],
        &["mappings", "discover", "--target", url],
        &["load", "--target", url, "--yes"],
        &["cleanup", "--prefix", "scimreplay-", "--target", url],
        &[
            "record",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            url,
            "--out",
            out,
        ],
    ];
    for args in commands {
        let run = cli_env(
            args,
            &[
                ("SCIMREPLAY_TOKEN", TOKEN),
                ("HTTPS_PROXY", "ftp://user:hunter2@proxy"),
            ],
        )
        .await;
        assert_eq!(
            run.outcome,
            Outcome::InvalidInput,
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("HTTPS_PROXY is not a proxy URL"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
}

/// The proxy credentials the tests below put in the proxy URL; no output may hold them.
const PROXY_USER: &str = "scim-user";
const PROXY_PASSWORD: &str = "pr0xyPa55word";

/// `http://USER:PASSWORD@host:port` (the password needs no percent-encoding, so the URL holds
/// it as it is).
fn with_password(proxy: &str) -> String {
    proxy.replacen(
        "http://",
        &format!("http://{PROXY_USER}:{PROXY_PASSWORD}@"),
        1,
    )
}

fn proxy_secrets() -> [String; 2] {
    [
        PROXY_PASSWORD.to_string(),
        format!("{PROXY_USER}:{PROXY_PASSWORD}"),
    ]
}

/// The proxy's record since the last call: not empty, every request for `origin`.
fn take_all_for(seen: &Mutex<Vec<String>>, origin: &str, what: &str) -> Vec<String> {
    let lines = std::mem::take(&mut *seen.lock().unwrap());
    assert!(!lines.is_empty(), "{what}: the proxy saw nothing");
    assert!(
        lines.iter().all(|l| l
            .split_whitespace()
            .nth(1)
            .is_some_and(|t| t.starts_with(origin))),
        "{what}: {lines:?}"
    );
    lines
}

/// `mappings discover`, `load` and `cleanup --prefix` against `base`, each writing under
/// `dir` with `round` in its file names.
fn sending_commands(base: &str, dir: &TempDir, round: &str) -> Vec<(&'static str, Vec<String>)> {
    let path = |name: &str| {
        dir.path()
            .join(format!("{round}-{name}"))
            .display()
            .to_string()
    };
    let state = path("state");
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        (
            "mappings discover",
            owned(&[
                "mappings",
                "discover",
                "--target",
                base,
                "--out",
                &path("discovered.json"),
            ]),
        ),
        (
            "load",
            owned(&[
                "load",
                "--target",
                base,
                "--users",
                "3",
                "--groups",
                "0",
                "--rate",
                "0",
                "--state-dir",
                &state,
                "--json",
                &path("load.json"),
            ]),
        ),
        (
            "cleanup",
            owned(&[
                "cleanup",
                "--prefix",
                "scimreplay-",
                "--target",
                base,
                "--state-dir",
                &state,
            ]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_load_and_cleanup_go_through_the_proxy_and_no_proxy_bypasses_it() {
    let server = reference_endpoint().await;
    let (proxy, seen) = tiny_proxy().await;
    let proxy = with_password(&proxy);
    let base = server.base_url();
    let origin = base.trim_end_matches("/scim/v2").to_string();
    let dir = TempDir::new("proxy-commands");
    for (what, args) in sending_commands(&base, &dir, "proxied") {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = cli_env(
            &args,
            &[("SCIMREPLAY_TOKEN", TOKEN), ("HTTP_PROXY", &proxy)],
        )
        .await;
        assert_eq!(
            run.outcome,
            Outcome::Passed,
            "{what}: {}{}",
            run.stdout,
            run.stderr
        );
        take_all_for(&seen, &origin, what);
        let secrets = proxy_secrets();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_leak(&outputs_of(&run, &[dir.path()]), &secrets);
    }
    for (what, args) in sending_commands(&base, &dir, "direct") {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let vars = [
            ("SCIMREPLAY_TOKEN", TOKEN),
            ("http_proxy", proxy.as_str()),
            ("NO_PROXY", "localhost,127.0.0.1"),
        ];
        let run = cli_env(&args, &vars).await;
        assert_eq!(
            run.outcome,
            Outcome::Passed,
            "{what}: {}{}",
            run.stdout,
            run.stderr
        );
        let lines = seen.lock().unwrap().clone();
        assert!(lines.is_empty(), "{what} used the proxy: {lines:?}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oauth_token_request_goes_through_the_proxy_too() {
    let served = serve_oauth("PROXY_IT_SECRET", &[]);
    let (proxy, seen) = tiny_proxy().await;
    let proxy = with_password(&proxy);
    let token_url = served.token_url();
    let mut args = vec!["mappings", "discover", "--target", served.base_url()];
    let flags = oauth_flags(&token_url);
    args.extend(flags.iter().map(String::as_str));
    let vars = [
        ("SCIMREPLAY_CLIENT_SECRET", OAUTH_SECRET),
        ("HTTP_PROXY", proxy.as_str()),
    ];
    let run = cli_env(&args, &vars).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let origin = token_url.trim_end_matches(scimreplay::reference::TOKEN_PATH);
    let lines = take_all_for(&seen, origin, "discover with OAuth");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("POST {token_url} "))),
        "{lines:?}"
    );
    let secrets = proxy_secrets();
    let mut secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    secrets.push(OAUTH_SECRET);
    assert_no_leak(&outputs_of(&run, &[]), &secrets);
}

/// A proxy that refuses connections makes a reachable endpoint unreachable (so the proxy is
/// used), reported without the proxy's password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_proxy_is_reported_without_its_password() {
    let server = reference_endpoint().await;
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let run = cli_env(
        &["mappings", "discover", "--target", &server.base_url()],
        &[
            ("SCIMREPLAY_TOKEN", TOKEN),
            ("HTTP_PROXY", &with_password(&closed)),
        ],
    )
    .await;
    assert_eq!(
        run.outcome,
        Outcome::EndpointOrHarness,
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.contains("could not be reached"),
        "{}",
        run.stderr
    );
    let secrets = proxy_secrets();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_leak(&outputs_of(&run, &[]), &secrets);
    server.shutdown().await;
}

/// `record` (the binary: it records until a signal) forwards to its upstream through the
/// proxy, and directly when the upstream is in `NO_PROXY`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_forwards_to_its_upstream_through_the_proxy() {
    let server = reference_endpoint().await;
    let (proxy, seen) = tiny_proxy().await;
    let proxy = with_password(&proxy);
    let base = server.base_url();
    let origin = base.trim_end_matches("/scim/v2").to_string();
    let dir = TempDir::new("proxy-record");
    let direct = reqwest::Client::builder().no_proxy().build().unwrap();
    for (round, no_proxy) in [("proxied", None), ("direct", Some("127.0.0.1"))] {
        let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listen = free.local_addr().unwrap().to_string();
        drop(free);
        let out = dir.path().join(format!("{round}.json"));
        let snaps = dir.path().join(format!("{round}-snaps"));
        let mut vars = vec![("HTTP_PROXY", proxy.as_str())];
        vars.extend(no_proxy.map(|n| ("NO_PROXY", n)));
        let args = [
            "record",
            "--listen",
            &listen,
            "--upstream",
            &base,
            "--out",
            out.to_str().unwrap(),
            "--snapshot-dir",
            snaps.to_str().unwrap(),
        ];
        let mut recorder = Spawned::start_env(&args, &vars);
        recorder.line(Duration::from_secs(20), |l| l.contains("Ctrl-C"));
        let answer = direct
            .get(format!("http://{listen}/scim/v2/Users"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200, "{round}");
        recorder.signal("INT");
        let (code, stdout) = recorder.exit(Duration::from_secs(20));
        assert_eq!(code, 0, "{round}: {stdout}");
        for secret in proxy_secrets() {
            assert!(!stdout.contains(&secret), "{stdout}");
        }
        if no_proxy.is_some() {
            let lines = seen.lock().unwrap().clone();
            assert!(lines.is_empty(), "record used the proxy: {lines:?}");
        } else {
            take_all_for(&seen, &origin, "record");
        }
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_endpoint_is_never_proxied() {
    let (proxy, seen) = tiny_proxy().await;
    let dir = TempDir::new("proxy-builtin");
    let json = dir.path().join("load.json");
    let commands: [&[&str]; 2] = [
        &["run", "-s", "user-disable-default", "--no-snapshots"],
        &[
            "load",
            "--users",
            "3",
            "--groups",
            "0",
            "--rate",
            "0",
            "--json",
            json.to_str().unwrap(),
        ],
    ];
    for args in commands {
        let run = cli_env(args, &[("HTTP_PROXY", &proxy), ("HTTPS_PROXY", &proxy)]).await;
        assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
        assert!(seen.lock().unwrap().is_empty(), "{args:?}");
    }
}
