//! Endpoint faults: each becomes a finding on its step, with its cause and the Entra log code
//! it corresponds to — never a panic, never a hang.
//!
//! Faults wiremock cannot produce (a reset mid-body, a body that trickles, a server that never
//! answers) come from raw TCP servers that speak just enough HTTP.

use crate::support::{run_scenario, run_scenario_with, step_status};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// One GET Entra sends at Test Connection, expecting a ListResponse.
fn probe() -> Value {
    json!({"name": "probe", "summary": "one query", "dialect": "any",
           "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users",
                       "query": {"filter": "userName eq \"{{uuid}}\""}},
                      "expect": {"status": 200, "checks": ["scim.list-response"]}}]})
}

/// The probe step of a JSON report.
fn step(report: &Value) -> &Value {
    &report["scenarios"][0]["steps"][0]
}

/// Every failed check of the probe step as `check: actual — impact` lines.
fn findings(report: &Value) -> String {
    step(report)["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["passed"] == false)
        .map(|c| {
            format!(
                "{}: {} — {}",
                c["check"].as_str().unwrap_or(""),
                c["actual"].as_str().unwrap_or(""),
                c["impact"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A loopback TCP server that hands each connection, once its request head is read, to `serve`.
async fn raw_server<F, Fut>(serve: F) -> String
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = std::sync::Arc::new(serve);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let serve = std::sync::Arc::clone(&serve);
            tokio::spawn(async move {
                read_head(&mut stream).await;
                serve(stream).await;
            });
        }
    });
    format!("http://{addr}/scim")
}

/// Reads up to the blank line that ends a request head (the probes send no body).
async fn read_head(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

fn assert_errored_with(report: &Value, kind: &str, code: &str) {
    let step = step(report);
    assert_eq!(step["status"], "errored", "{step:#}");
    assert_eq!(step["exchange"]["fault"]["kind"], kind, "{step:#}");
    let findings = findings(report);
    assert!(findings.contains(code), "names {code}: {findings}");
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_finding() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let target = format!("http://127.0.0.1:{port}/scim");
    let (run, report) = run_scenario(&target, &probe()).await;
    assert_errored_with(&report, "connect", "WebExceptionProtocolError");
    let message = step(&report)["exchange"]["fault"]["message"]
        .as_str()
        .unwrap();
    assert!(message.to_lowercase().contains("connect"), "{message}");
    assert!(run.stdout.contains("could not connect"), "{}", run.stdout);
    assert_eq!(run.outcome, Outcome::EndpointOrHarness);
}

#[tokio::test]
async fn a_connection_closed_mid_body_is_a_reset_finding() {
    let target = raw_server(|mut s| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: 4000\r\n\r\n";
        let _ = s.write_all(head.as_bytes()).await;
        let _ = s.write_all(b"{\"schemas\": [\"urn:ietf:params:scim:api:").await;
        let _ = s.flush().await;
        // Dropping the stream closes it with 3 960 bytes still owed.
    })
    .await;
    let (run, report) = run_scenario(&target, &probe()).await;
    assert_errored_with(&report, "reset", "WebExceptionProtocolError");
    assert!(run.stdout.contains("connection reset"), "{}", run.stdout);
    assert_eq!(run.outcome, Outcome::ChecksFailed, "{}", run.stdout);
}

#[tokio::test]
async fn a_tcp_reset_before_any_answer_is_a_reset_finding() {
    let target = raw_server(|s| async move {
        // A zero linger makes close send RST instead of FIN.
        let _ = s.set_zero_linger();
        drop(s);
    })
    .await;
    let (run, report) = run_scenario(&target, &probe()).await;
    assert_errored_with(&report, "reset", "WebExceptionProtocolError");
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[tokio::test]
async fn garbage_instead_of_http_is_a_protocol_finding() {
    let target = raw_server(|mut s| async move {
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
    })
    .await;
    let (_, report) = run_scenario(&target, &probe()).await;
    assert_errored_with(&report, "protocol", "WebExceptionProtocolError");
}

/// Runs the probe with a one-second timeout; returns the report and how long the run took.
async fn run_with_timeout(target: &str) -> (crate::support::CliRun, Value, Duration) {
    let started = Instant::now();
    let (run, report) = run_scenario_with(target, &probe(), &["--timeout", "1"]).await;
    (run, report, started.elapsed())
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_on_time() {
    let target = raw_server(|s| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    })
    .await;
    let (run, report, elapsed) = run_with_timeout(&target).await;
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_errored_with(&report, "timeout", "Timeout");
    assert!(findings(&report).contains("logs Timeout"), "{report:#}");
    assert!(run.stdout.contains("timed out"), "{}", run.stdout);
}

#[tokio::test]
async fn a_body_that_trickles_past_the_timeout_times_out() {
    let target = raw_server(|mut s| async move {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n";
        let _ = s.write_all(head.as_bytes()).await;
        for _ in 0..100 {
            if s.write_all(b" ").await.is_err() {
                return;
            }
            let _ = s.flush().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let (_, report, elapsed) = run_with_timeout(&target).await;
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_errored_with(&report, "timeout", "Timeout");
    // The headers had arrived: the partial answer is kept for the report.
    assert_eq!(step(&report)["exchange"]["response"]["status"], 200);
}

/// A wiremock server answering every GET with `template`.
async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_huge_body_is_cut_at_the_cap_and_reported() {
    let body = vec![b' '; 20 * 1024 * 1024];
    let server =
        answering(ResponseTemplate::new(200).set_body_raw(body, "application/scim+json")).await;
    let (_, report) = run_scenario(&server.uri(), &probe()).await;
    let response = &step(&report)["exchange"]["response"];
    assert_eq!(response["truncated"], true);
    let kept = response["body"].as_str().unwrap().len();
    assert_eq!(kept, 8 * 1024 * 1024, "kept exactly the cap");
    assert_eq!(step_status(&report, "probe"), "failed");
    let findings = findings(&report);
    assert!(findings.contains("cap"), "{findings}");
    assert!(
        findings.contains("SystemForCrossDomainIdentityManagementServiceIncompatible"),
        "{findings}"
    );
}

#[tokio::test]
async fn invalid_utf8_is_reported_with_its_offset() {
    let server = answering(ResponseTemplate::new(200).set_body_raw(
        b"{\"totalResults\": \xff\xfe}".to_vec(),
        "application/scim+json",
    ))
    .await;
    let (_, report) = run_scenario(&server.uri(), &probe()).await;
    assert_eq!(step_status(&report, "probe"), "failed");
    let findings = findings(&report);
    assert!(findings.contains("not valid UTF-8"), "{findings}");
    assert!(findings.contains("offset 17"), "{findings}");
    assert!(findings.contains("ServiceIncompatible"), "{findings}");
}

#[tokio::test]
async fn an_html_error_page_is_reported_as_html() {
    let page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>";
    let server = answering(ResponseTemplate::new(502).set_body_raw(page, "text/html")).await;
    let (run, report) = run_scenario(&server.uri(), &probe()).await;
    assert_eq!(step_status(&report, "probe"), "failed");
    let response = &step(&report)["exchange"]["response"];
    assert!(
        response["body_problem"].as_str().unwrap().contains("HTML"),
        "{response:#}"
    );
    let findings = findings(&report);
    assert!(findings.contains("502 Bad Gateway"), "{findings}");
    assert!(run.stdout.contains("Bad Gateway"), "{}", run.stdout);
}

#[tokio::test]
async fn json_that_is_not_scim_fails_the_list_check() {
    let server =
        answering(ResponseTemplate::new(200).set_body_json(json!({"users": [], "count": 0}))).await;
    let (_, report) = run_scenario(&server.uri(), &probe()).await;
    assert_eq!(step_status(&report, "probe"), "failed");
    let findings = findings(&report);
    assert!(findings.contains("scim.list-response"), "{findings}");
    assert!(findings.contains("ServiceIncompatible"), "{findings}");
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_is_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/scim/Users"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", "https://login.example.com/"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (_, report) = run_scenario(&format!("{}/scim", server.uri()), &probe()).await;
    assert_eq!(step_status(&report, "probe"), "failed");
    assert_eq!(step(&report)["exchange"]["response"]["status"], 302);
    let findings = findings(&report);
    assert!(findings.contains("302"), "{findings}");
    assert!(findings.contains("redirect"), "{findings}");
}

#[tokio::test]
async fn server_errors_name_the_entra_code() {
    for (status, code) in [(500, "InternalServerError"), (501, "NotImplemented")] {
        let server = answering(ResponseTemplate::new(status).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(), "detail": "database unavailable"})))
        .await;
        let (run, report) = run_scenario(&server.uri(), &probe()).await;
        assert_eq!(step_status(&report, "probe"), "failed");
        let findings = findings(&report);
        assert!(findings.contains(code), "{status}: {findings}");
        assert!(findings.contains("database unavailable"), "{findings}");
        assert_eq!(run.outcome, Outcome::ChecksFailed);
    }
    let server = answering(ResponseTemplate::new(503)).await;
    let (_, report) = run_scenario(&server.uri(), &probe()).await;
    assert_eq!(step_status(&report, "probe"), "failed");
    assert!(findings(&report).contains("503"), "{report:#}");
}
