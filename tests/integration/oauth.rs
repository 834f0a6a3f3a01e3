//! OAuth 2.0 client credentials end to end: `run --oauth-*` against the reference endpoint's
//! own token endpoint (refresh before expiry, refresh after a 401), a hostile endpoint that
//! answers 401 to everything, refused credentials, and no leak of the secret or of any
//! issued token.

use crate::support::{
    OAUTH_CLIENT as CLIENT, OAUTH_SECRET as SECRET, TempDir, assert_no_leak, cli_env, oauth_flags,
    outputs_of, token_url_of,
};
use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use scimreplay::exit::Outcome;
use scimreplay::reference::{self, OAuthConfig, RunningServer, ServerConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tower::ServiceExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// When a request marked `slow=1` is held up: before the endpoint sees it (its token may
/// expire on the way) or after the endpoint answered (the next request comes late).
#[derive(Clone, Copy, PartialEq)]
enum Hold {
    Before,
    After,
}

/// What the front saw.
#[derive(Default)]
struct Seen {
    token_requests: AtomicUsize,
    unauthorised: AtomicUsize,
    held: AtomicUsize,
}

/// The reference endpoint with a token endpoint issuing one-second tokens, behind a front
/// that holds the first `slow=1` request for 1.5 s and counts what passes.
async fn endpoint(hold: Hold) -> (RunningServer, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", listener.local_addr().unwrap());
    let inner = reference::router(ServerConfig {
        public_url: Some(public_url),
        oauth: Some(OAuthConfig {
            client_id: CLIENT.into(),
            client_secret: SECRET.into(),
            token_ttl: Duration::from_secs(1),
        }),
        // No static token: only issued tokens are accepted.
        ..ServerConfig::new("")
    });
    let seen = Arc::new(Seen::default());
    let counts = Arc::clone(&seen);
    let app = Router::new().fallback(move |request: Request| {
        let inner = inner.clone();
        let seen = Arc::clone(&counts);
        async move {
            let slow = request.uri().query().is_some_and(|q| q.contains("slow=1"))
                && seen.held.fetch_add(1, Ordering::SeqCst) == 0;
            if request.method() == Method::POST && request.uri().path() == reference::TOKEN_PATH {
                seen.token_requests.fetch_add(1, Ordering::SeqCst);
            }
            if slow && hold == Hold::Before {
                tokio::time::sleep(Duration::from_millis(1500)).await;
            }
            let response = inner.oneshot(request).await.unwrap();
            if response.status() == 401 {
                seen.unauthorised.fetch_add(1, Ordering::SeqCst);
            }
            if slow && hold == Hold::After {
                tokio::time::sleep(Duration::from_millis(1500)).await;
            }
            response
        }
    });
    let server = reference::spawn_app(listener, app, "/scim/v2")
        .await
        .unwrap();
    (server, seen)
}

fn three_reads() -> String {
    let read = |id: &str, query: Value| {
        json!({"id": id, "request": {"method": "GET", "path": "/Users", "query": query},
               "expect": {"status": 200, "checks": ["scim.list-response"]}})
    };
    json!({"name": "oauth-reads", "summary": "three reads, the second one slow", "dialect": "any",
           "steps": [read("first", json!({"filter": "userName eq \"{{uuid}}\""})),
                     read("slow", json!({"slow": "1"})),
                     read("last", json!({"filter": "userName eq \"{{uuid}}\""}))]})
    .to_string()
}

/// `run` with OAuth against `base` (the token endpoint on the same listener).
async fn oauth_run(
    base: &str,
    dir: &TempDir,
    secret: &str,
    extra: &[&str],
) -> crate::support::CliRun {
    let file = dir.write("s.json", &three_reads());
    let out = dir.path().join("out");
    let mut args = vec![
        "run".to_string(),
        "--target".into(),
        base.into(),
        "--no-builtin".into(),
        "--scenarios".into(),
        file.display().to_string(),
        "--state-dir".into(),
        out.join("state").display().to_string(),
        "--snapshot-dir".into(),
        out.join("snaps").display().to_string(),
        "--json".into(),
        out.join("r.json").display().to_string(),
        "--junit".into(),
        out.join("r.xml").display().to_string(),
        "--markdown".into(),
        out.join("r.md").display().to_string(),
        "--color".into(),
        "never".into(),
        "-v".into(),
    ];
    args.extend(oauth_flags(&token_url_of(base)));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli_env(&args, &[("SCIMREPLAY_CLIENT_SECRET", secret)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_about_to_expire_is_replaced_before_it_is_used() {
    let (server, seen) = endpoint(Hold::After).await;
    let dir = TempDir::new("oauth-expiry");
    let run = oauth_run(&server.base_url(), &dir, SECRET, &[]).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    // One token for the preflight and the first two steps, a second for the last step,
    // fetched because the first expired while the slow step was answered: no 401 at all
    // (the preflight's deliberate probe without a token aside).
    assert_eq!(seen.token_requests.load(Ordering::SeqCst), 2);
    assert_eq!(
        seen.unauthorised.load(Ordering::SeqCst),
        1,
        "only the no-token probe"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_for_an_expired_token_gets_a_new_token_and_one_resend() {
    let (server, seen) = endpoint(Hold::Before).await;
    let dir = TempDir::new("oauth-401");
    let run = oauth_run(&server.base_url(), &dir, SECRET, &[]).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    // The slow step's token expired on the way: 401, a new token, the step sent again.
    assert_eq!(seen.token_requests.load(Ordering::SeqCst), 2);
    assert_eq!(
        seen.unauthorised.load(Ordering::SeqCst),
        2,
        "the no-token probe and the slow step"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_client_credentials_stop_the_run_with_exit_6_and_no_secret() {
    let (server, seen) = endpoint(Hold::After).await;
    let dir = TempDir::new("oauth-refused");
    let wrong = "not-the-secret-41c2";
    let run = oauth_run(&server.base_url(), &dir, wrong, &[]).await;
    assert_eq!(
        run.outcome,
        Outcome::CredentialsRejected,
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stderr.contains("401 invalid_client"), "{}", run.stderr);
    assert!(!format!("{}{}", run.stdout, run.stderr).contains(wrong));
    assert_eq!(seen.token_requests.load(Ordering::SeqCst), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn a_dry_run_needs_no_secret_and_a_real_one_names_the_variable() {
    let dir = TempDir::new("oauth-dry");
    let file = dir.write("s.json", &three_reads());
    let base = [
        "run",
        "--target",
        "https://scim.example.com/scim/v2",
        "--no-builtin",
        "--scenarios",
        file.to_str().unwrap(),
        "--oauth-token-url",
        "https://login.example.com/oauth2/token",
        "--oauth-client-id",
        CLIENT,
    ];
    let mut dry = base.to_vec();
    dry.push("--dry-run");
    let run = cli_env(&dry, &[]).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    let run = cli_env(&base, &[]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr.contains("SCIMREPLAY_CLIENT_SECRET"),
        "{}",
        run.stderr
    );
    // Plain http to another machine would put the secret on the wire in clear.
    let mut clear = base.to_vec();
    clear[7] = "http://login.example.com/oauth2/token";
    let run = cli_env(&clear, &[("SCIMREPLAY_CLIENT_SECRET", SECRET)]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(run.stderr.contains("must be https"), "{}", run.stderr);
}

/// A token endpoint (wiremock) issuing `token`, and a SCIM endpoint answering every request
/// with `scim`.
async fn wiremock_pair(token: &str, scim: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(scim)
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_answers_401_to_everything_gets_one_new_token_per_401() {
    let server = wiremock_pair(
        "issued-token-aaaa",
        ResponseTemplate::new(401)
            .insert_header("WWW-Authenticate", "Bearer error=\"invalid_token\""),
    )
    .await;
    let dir = TempDir::new("oauth-401-loop");
    let run = oauth_run(
        &format!("{}/scim/v2", server.uri()),
        &dir,
        SECRET,
        &["--no-preflight"],
    )
    .await;
    assert_eq!(
        run.outcome,
        Outcome::ChecksFailed,
        "{}{}",
        run.stdout,
        run.stderr
    );
    let received = server.received_requests().await.unwrap();
    let tokens = received
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    let scim = received
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .count();
    // Three steps, each sent twice (a new token after its 401), and one token up front.
    assert_eq!(scim, 6, "{scim} SCIM requests");
    assert_eq!(tokens, 4, "{tokens} token requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_the_secret_nor_an_issued_token_reaches_any_output() {
    use base64::Engine;
    let issued = "issued/tok+en-5be1c0d9";
    // The endpoint echoes the Authorization header it got, and the client secret (as a
    // confused server might), in every encoding.
    let auth = format!("Bearer {issued}");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&auth);
    let percent: String = auth.bytes().map(|b| format!("%{b:02x}")).collect();
    let mut echoes = vec![auth.clone(), b64.clone(), percent.clone()];
    for secret in [issued, SECRET] {
        let whole = base64::engine::general_purpose::STANDARD.encode(secret);
        let upper: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
        echoes.extend([secret.to_string(), whole, upper]);
    }
    // As PHP's json_encode writes it: `\/` inside the JSON text.
    let php = serde_json::to_string(&auth).unwrap().replace('/', "\\/");
    let body = format!(
        r#"{{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
            "detail": {php}, "echoes": {}}}"#,
        serde_json::to_string(&echoes).unwrap()
    );
    let echo = ResponseTemplate::new(400)
        .insert_header("X-Echo", b64.as_str())
        .insert_header("X-Token", issued)
        .insert_header(
            "Location",
            format!("https://h/scim/Users/{percent}").as_str(),
        )
        .set_body_raw(body, "application/scim+json");
    let server = wiremock_pair(issued, echo).await;
    let dir = TempDir::new("oauth-leak");
    let run = oauth_run(
        &format!("{}/scim/v2", server.uri()),
        &dir,
        SECRET,
        &["--no-preflight"],
    )
    .await;
    assert_eq!(
        run.outcome,
        Outcome::ChecksFailed,
        "{}{}",
        run.stdout,
        run.stderr
    );
    let outputs = outputs_of(&run, &[&dir.path().join("out")]);
    assert!(
        outputs.iter().any(|(n, _)| n.contains(".snap")),
        "a snapshot was written"
    );
    assert!(
        outputs.iter().any(|(n, _)| n.contains("ledgers")),
        "a ledger was written"
    );
    assert_no_leak(&outputs, &[issued, SECRET]);
    assert!(run.stdout.contains("[redacted]"), "{}", run.stdout);
}
