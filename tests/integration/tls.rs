//! TLS: a certificate the client does not trust is a clear finding that names `--cacert` and
//! `--insecure`; with either, the same endpoint works.
//!
//! The server is a throwaway CA and a leaf certificate for 127.0.0.1 made with rcgen, served by
//! tokio-rustls on the ring provider reqwest already uses.

use crate::support::{TempDir, cli, run_scenario_with, step_status};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// A running HTTPS endpoint and the PEM of the CA that signed its certificate.
pub struct TlsEndpoint {
    pub url: String,
    pub ca_pem: String,
}

/// A CA, a leaf for 127.0.0.1 signed by it, and a server answering every request with an
/// empty ListResponse.
pub async fn tls_endpoint() -> TlsEndpoint {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "scimreplay test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that rejects the certificate ends the handshake here.
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    answer(&mut tls).await;
                }
            });
        }
    });
    TlsEndpoint {
        url: format!("https://{addr}/scim"),
        ca_pem: ca_cert.pem(),
    }
}

/// Reads one request head and answers it with an empty ListResponse, then closes.
async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: &mut S) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    .to_string();
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn probe() -> Value {
    json!({"name": "probe", "summary": "one query", "dialect": "any",
           "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users",
                       "query": {"filter": "userName eq \"{{uuid}}\""}},
                      "expect": {"status": 200, "checks": ["scim.list-response"]}}]})
}

#[tokio::test]
async fn an_untrusted_certificate_names_cacert_and_insecure() {
    let endpoint = tls_endpoint().await;
    let (run, report) = run_scenario_with(&endpoint.url, &probe(), &[]).await;
    let step = &report["scenarios"][0]["steps"][0];
    assert_eq!(step["status"], "errored", "{step:#}");
    assert_eq!(step["exchange"]["fault"]["kind"], "tls", "{step:#}");
    let message = step["exchange"]["fault"]["message"].as_str().unwrap();
    assert!(message.contains("--cacert"), "{message}");
    assert!(message.contains("--insecure"), "{message}");
    assert!(
        message.to_lowercase().contains("certificate"),
        "says what failed: {message}"
    );
    assert!(run.stdout.contains("--cacert FILE"), "{}", run.stdout);
    assert!(
        run.stdout.contains("TLS handshake failed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.outcome,
        Outcome::EndpointOrHarness,
        "nothing answered: {}",
        run.stdout
    );
}

#[tokio::test]
async fn the_ca_given_with_cacert_is_trusted() {
    let endpoint = tls_endpoint().await;
    let dir = TempDir::new("tls-ca");
    let ca = dir.write("ca.pem", &endpoint.ca_pem);
    let (run, report) =
        run_scenario_with(&endpoint.url, &probe(), &["--cacert", ca.to_str().unwrap()]).await;
    assert_eq!(step_status(&report, "probe"), "passed", "{}", run.stdout);
    assert_eq!(run.outcome, Outcome::Passed);
}

#[tokio::test]
async fn insecure_skips_verification() {
    let endpoint = tls_endpoint().await;
    let (run, report) = run_scenario_with(&endpoint.url, &probe(), &["--insecure"]).await;
    assert_eq!(step_status(&report, "probe"), "passed", "{}", run.stdout);
    assert_eq!(run.outcome, Outcome::Passed);
}

#[tokio::test]
async fn a_cacert_that_is_not_pem_is_invalid_input() {
    let dir = TempDir::new("tls-bad-ca");
    let ca = dir.write("ca.pem", "this is not a certificate\n");
    let run = cli(&[
        "run",
        "--target",
        "https://127.0.0.1:9/scim",
        "--cacert",
        ca.to_str().unwrap(),
        "--no-snapshots",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::InvalidInput, "{}", run.stderr);
    assert!(
        run.stderr.contains("ca.pem"),
        "names the file: {}",
        run.stderr
    );
}
