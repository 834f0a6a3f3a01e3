//! The recording proxy on its own: answers pass through unchanged (errors included), no
//! credential reaches the recording, a dead upstream is a recorded 502, a body over the cap
//! is forwarded whole and recorded cut, TLS on both sides, and the binary's Ctrl-C path.

use crate::interrupt::Spawned;
use crate::support::{TOKEN, TempDir, cli};
use crate::tls::tls_endpoint;
use scimreplay::exit::Outcome;
use scimreplay::http::ClientOptions;
use scimreplay::record::proxy::{self, ProxyConfig};
use scimreplay::record::raw;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn start(
    upstream: &str,
    raw: &Path,
    client: ClientOptions,
) -> (proxy::RunningRecorder, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ProxyConfig {
        upstream: upstream.to_string(),
        raw: raw.to_path_buf(),
        client,
        tls: None,
    };
    let running = proxy::start(listener, config).await.unwrap();
    let url = format!("http://{}", running.local_addr());
    (running, url)
}

#[tokio::test]
async fn errors_pass_through_unchanged_and_no_credential_is_recorded() {
    let server = MockServer::start().await;
    let echoed = format!("{{\"detail\": \"token {TOKEN} refused\"}}");
    Mock::given(method("GET"))
        .and(path("/scim/Users"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("set-cookie", "session=srv-c00kie-9f8e; HttpOnly")
                .insert_header("x-trace", "kept")
                .set_body_string(echoed.clone()),
        )
        .mount(&server)
        .await;
    let dir = TempDir::new("proxy-creds");
    let raw_path = dir.path().join("r.jsonl");
    let (running, url) = start(
        &format!("{}/scim", server.uri()),
        &raw_path,
        ClientOptions::default(),
    )
    .await;
    let answer = reqwest::Client::new()
        .get(format!(
            "{url}/scim/Users?access_token=q-s3cret-77&filter=userName+eq+%22a%22"
        ))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Cookie", "sid=cl1ent-c00kie-42")
        .header("X-Api-Key", "k3y-value-123")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 500);
    assert!(
        answer.headers().get("set-cookie").is_some(),
        "the client still gets its cookie"
    );
    assert_eq!(
        answer.text().await.unwrap(),
        echoed,
        "the body reaches the client unchanged"
    );
    running.stop().await.unwrap();

    let text = std::fs::read_to_string(&raw_path).unwrap();
    for secret in [
        TOKEN,
        "q-s3cret-77",
        "cl1ent-c00kie-42",
        "k3y-value-123",
        "srv-c00kie-9f8e",
    ] {
        assert!(!text.contains(secret), "{secret} was recorded:\n{text}");
    }
    let recording = raw::read(&raw_path).unwrap();
    let x = &recording.exchanges[0];
    assert_eq!((x.status, x.auth), (Some(500), raw::AuthSeen::Bearer));
    assert_eq!(
        x.target,
        "/scim/Users?access_token=%5Bredacted%5D&filter=userName+eq+%22a%22"
    );
    assert!(
        x.response_headers
            .iter()
            .any(|(k, v)| k == "x-trace" && v == "kept")
    );
    assert_eq!(
        x.response_body.as_deref(),
        Some("{\"detail\": \"token [redacted] refused\"}")
    );
}

/// A filter with raw quotes, as the SCIM Validator sends it, is forwarded, not refused.
#[tokio::test]
async fn raw_quotes_in_a_query_are_forwarded() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let dir = TempDir::new("proxy-quotes");
    let raw_path = dir.path().join("q.jsonl");
    let (running, url) = start(&server.uri(), &raw_path, ClientOptions::default()).await;
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let head = format!(
        "GET /Users?filter=userName+eq+\"a%40b\" HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    running.stop().await.unwrap();
    let x = &raw::read(&raw_path).unwrap().exchanges[0];
    assert_eq!(x.target, "/Users?filter=userName+eq+%22a%40b%22");
}

#[tokio::test]
async fn a_dead_upstream_is_a_recorded_502_and_a_big_body_is_forwarded_whole() {
    let dir = TempDir::new("proxy-dead");
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}/scim", dead.local_addr().unwrap());
    drop(dead);
    let raw_path = dir.path().join("dead.jsonl");
    let (running, url) = start(&dead_url, &raw_path, ClientOptions::default()).await;
    let answer = reqwest::get(format!("{url}/scim/Users")).await.unwrap();
    assert_eq!(answer.status().as_u16(), 502);
    running.stop().await.unwrap();
    let x = &raw::read(&raw_path).unwrap().exchanges[0];
    assert_eq!(x.status, None);
    assert!(
        x.error.as_deref().unwrap_or("").contains("no answer"),
        "{x:?}"
    );

    let server = MockServer::start().await;
    let big = "x".repeat(64 * 1024);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(big.clone()))
        .mount(&server)
        .await;
    let small_cap = ClientOptions {
        body_cap: 1024,
        ..ClientOptions::default()
    };
    let raw_path = dir.path().join("big.jsonl");
    let (running, url) = start(&server.uri(), &raw_path, small_cap).await;
    let body = reqwest::get(format!("{url}/Users"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body.len(), big.len(), "the client gets the whole body");
    running.stop().await.unwrap();
    let x = &raw::read(&raw_path).unwrap().exchanges[0];
    assert!(x.response_truncated);
    assert_eq!(x.response_body.as_ref().map(String::len), Some(1024));
}

#[tokio::test]
async fn https_on_both_sides() {
    let upstream = tls_endpoint().await;
    let dir = TempDir::new("proxy-tls");
    let ca = dir.write("upstream-ca.pem", &upstream.ca_pem);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_file = dir.write("listener.pem", &cert.pem());
    let key_file = dir.write("listener.key", &key.serialize_pem());
    let acceptor = scimreplay::record::tls::acceptor(&cert_file, &key_file).unwrap();
    let pem = std::fs::read(&ca).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let raw_path = dir.path().join("tls.jsonl");
    let config = ProxyConfig {
        upstream: upstream.url.clone(),
        raw: raw_path.clone(),
        client: ClientOptions {
            cacert_pem: Some(pem),
            ..ClientOptions::default()
        },
        tls: Some(acceptor),
    };
    let running = proxy::start(listener, config).await.unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://{}/scim/Users", running.local_addr());
    let answer = client.get(&url).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    running.stop().await.unwrap();
    assert_eq!(raw::read(&raw_path).unwrap().exchanges[0].status, Some(200));

    let bad = cli(&[
        "record",
        "--upstream",
        &upstream.url,
        "--out",
        "x.json",
        "--tls-cert",
        ca.to_str().unwrap(),
        "--tls-key",
        ca.to_str().unwrap(),
    ])
    .await;
    assert_eq!(bad.outcome, Outcome::InvalidInput);
    assert!(
        bad.stderr.contains("--tls-key") && bad.stderr.contains("upstream-ca.pem"),
        "{}",
        bad.stderr
    );
}

#[tokio::test]
async fn converting_what_is_not_a_recording_names_the_file_and_line() {
    let dir = TempDir::new("proxy-bad");
    let file = dir.write("export.json", "{\"results\": {}}\n");
    let out = dir.path().join("s.json");
    let run = cli(&[
        "record",
        "--convert",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr
            .contains("export.json:1: not a scimreplay recording"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());
}

/// The binary records until SIGINT, then writes the scenario, which `show` prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_records_until_interrupted_then_writes_a_scenario_show_prints() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server =
        scimreplay::reference::spawn(listener, scimreplay::reference::ServerConfig::new(TOKEN))
            .await
            .unwrap();
    let dir = TempDir::new("proxy-bin");
    let out = dir.path().join("staging-cycle.json");
    let snaps = dir.path().join("snaps");
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listen = free.local_addr().unwrap().to_string();
    drop(free);
    let mut recorder = Spawned::start(&[
        "record",
        "--listen",
        &listen,
        "--upstream",
        &server.base_url(),
        "--out",
        out.to_str().unwrap(),
        "--snapshot-dir",
        snaps.to_str().unwrap(),
    ]);
    recorder.line(Duration::from_secs(20), |l| l.contains("Ctrl-C"));
    let http = reqwest::Client::new();
    let created = http
        .post(format!("http://{listen}/scim/v2/Users"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@contoso.com","active":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let patched = http
        .patch(format!("http://{listen}/scim/v2/Users/{id}"))
        .bearer_auth(TOKEN)
        .body(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}"#)
        .send()
        .await
        .unwrap();
    assert!(patched.status().is_success());
    recorder.signal("INT");
    let (code, stdout) = recorder.exit(Duration::from_secs(20));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("stopped after 2 exchanges"), "{stdout}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("\"userName\": \"{{run.prefix}}alice@contoso.com\""),
        "{text}"
    );
    assert!(text.contains("\"path\": \"/Users/{{user_1}}\""), "{text}");
    assert!(text.contains("\"dialect\": \"default\""), "{text}");
    assert!(!text.contains(TOKEN));
    let show = cli(&[
        "show",
        "staging-cycle",
        "--no-builtin",
        "--scenarios",
        out.to_str().unwrap(),
    ])
    .await;
    assert_eq!(show.outcome, Outcome::Passed, "{}", show.stderr);
    assert!(
        show.stdout
            .contains("PATCH <tenant-url>/Users/<user_1 from step 001-post-users>"),
        "{}",
        show.stdout
    );
}
