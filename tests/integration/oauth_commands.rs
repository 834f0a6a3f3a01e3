//! OAuth 2.0 client credentials on every command that talks to an endpoint besides `run`:
//! `cleanup` (a sweep and a ledger), `mappings discover` and `load`, each end to end against the real
//! `scimreplay serve --oauth-client ID --oauth-secret-env VAR` (no static token, so only an
//! issued token gets in), with refused credentials stopping the command before it sends
//! anything, and neither the secret nor an issued token in any output.

use crate::support::{
    OAUTH_SECRET, Served, TempDir, assert_no_issued_token, assert_no_leak, cli_env, oauth_flags,
    outputs_of, planted_ledger, serve_oauth,
};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};

/// The client reads its secret from a variable other than serve's, as a CI job would.
const CLIENT_SECRET_ENV: &str = "IT_CLIENT_SECRET";
const SERVE_SECRET_ENV: &str = "IT_SERVE_SECRET";

/// `scimreplay <args> --oauth-* --oauth-secret-env IT_CLIENT_SECRET` with `secret` there and
/// no bearer token in the environment.
async fn with_oauth(served: &Served, args: &[&str], secret: &str) -> crate::support::CliRun {
    let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    argv.extend(oauth_flags(&served.token_url()));
    argv.extend(["--oauth-secret-env".into(), CLIENT_SECRET_ENV.into()]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    cli_env(&argv, &[(CLIENT_SECRET_ENV, secret)]).await
}

/// The users (or groups) on the endpoint, read with a token of the test's own.
async fn names(served: &Served, token: &str, collection: &str, attr: &str) -> Vec<String> {
    let list: Value = reqwest::Client::new()
        .get(format!("{}/{collection}?count=1000", served.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r[attr].as_str().unwrap_or_default().to_string())
        .collect()
}

fn refused(run: &crate::support::CliRun) {
    assert_eq!(
        run.outcome,
        Outcome::CredentialsRejected,
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stderr.contains("invalid_client"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_sweeps_with_oauth_credentials() {
    let served = serve_oauth(SERVE_SECRET_ENV, &[]);
    let token = served.fetch_token(OAUTH_SECRET).await;
    // The shape the no-leak check looks for is the shape serve issues.
    assert!(
        regex::Regex::new("^[0-9a-f]{64}$")
            .unwrap()
            .is_match(&token)
    );
    let http = reqwest::Client::new();
    for name in [
        "scimreplay-0ld0-a",
        "scimreplay-0ld0-b",
        "alice@example.com",
    ] {
        let status = http
            .post(format!("{}/Users", served.base_url()))
            .bearer_auth(&token)
            .json(
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                          "userName": name, "active": true}),
            )
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 201);
    }
    let sweep = [
        "cleanup",
        "--prefix",
        "scimreplay-0ld0-",
        "--min-age",
        "0",
        "--yes",
        "--target",
        served.base_url(),
    ];

    // Without credentials of either kind, the error names the variables to set.
    let bare = cli_env(&sweep, &[]).await;
    assert_eq!(bare.outcome, Outcome::InvalidInput, "{}", bare.stderr);
    assert!(bare.stderr.contains("SCIMREPLAY_TOKEN"), "{}", bare.stderr);
    assert!(bare.stderr.contains("--oauth-token-url"), "{}", bare.stderr);

    let wrong = with_oauth(&served, &sweep, "not-the-secret-41c2").await;
    refused(&wrong);
    assert!(!format!("{}{}", wrong.stdout, wrong.stderr).contains("not-the-secret-41c2"));
    assert_eq!(names(&served, &token, "Users", "userName").await.len(), 3);

    let run = with_oauth(&served, &sweep, OAUTH_SECRET).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout.matches("  deleted ").count(),
        2,
        "{}",
        run.stdout
    );
    assert_eq!(
        names(&served, &token, "Users", "userName").await,
        ["alice@example.com"]
    );
    let outputs = outputs_of(&run, &[]);
    assert_no_leak(&outputs, &[OAUTH_SECRET, &token]);
    assert_no_issued_token(&outputs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mappings_discover_reads_the_schemas_with_an_issued_token() {
    let served = serve_oauth(SERVE_SECRET_ENV, &[]);
    let dir = TempDir::new("oauth-discover");
    let file = dir.path().join("profile.json");
    let args = [
        "mappings",
        "discover",
        "--target",
        served.base_url(),
        "--out",
        file.to_str().unwrap(),
    ];
    let wrong = with_oauth(&served, &args, "not-the-secret-41c2").await;
    refused(&wrong);
    assert!(!file.exists(), "no profile from refused credentials");

    let run = with_oauth(&served, &args, OAUTH_SECRET).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let profile: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(
        profile["users"]["mappings"]
            .as_array()
            .is_some_and(|m| !m.is_empty()),
        "{profile}"
    );
    let outputs = outputs_of(&run, &[dir.path()]);
    assert_no_leak(&outputs, &[OAUTH_SECRET]);
    assert_no_issued_token(&outputs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_sends_the_cycle_with_an_issued_token_and_cleans_up() {
    let served = serve_oauth(SERVE_SECRET_ENV, &[]);
    let token = served.fetch_token(OAUTH_SECRET).await;
    let dir = TempDir::new("oauth-load");
    let json = dir.path().join("load.json");
    let state = dir.path().join("state");
    let args = [
        "load",
        "--target",
        served.base_url(),
        "--users",
        "20",
        "--groups",
        "2",
        "--members",
        "20",
        "--rate",
        "0",
        "--state-dir",
        state.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    let wrong = with_oauth(&served, &args, "not-the-secret-41c2").await;
    refused(&wrong);
    assert!(!json.exists(), "a refused client sends no load");

    let run = with_oauth(&served, &args, OAUTH_SECRET).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // 20 users and 2 groups created (so "nothing left" is not vacuous), and deleted again.
    assert_eq!(report["kinds"]["create"]["requests"], 20, "{report}");
    assert_eq!(report["kinds"]["group-create"]["requests"], 2, "{report}");
    assert_eq!(report["kinds"]["cleanup"]["requests"], 22, "{report}");
    assert!(names(&served, &token, "Users", "userName").await.is_empty());
    assert!(
        names(&served, &token, "Groups", "displayName")
            .await
            .is_empty()
    );
    let outputs = outputs_of(&run, &[dir.path()]);
    assert!(
        outputs.iter().any(|(n, _)| n.contains("ledgers")),
        "a ledger"
    );
    assert_no_leak(&outputs, &[OAUTH_SECRET, &token]);
    assert_no_issued_token(&outputs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_finishes_a_ledger_with_oauth_credentials() {
    let served = serve_oauth(SERVE_SECRET_ENV, &[]);
    let token = served.fetch_token(OAUTH_SECRET).await;
    let created: Value = reqwest::Client::new()
        .post(format!("{}/Users", served.base_url()))
        .bearer_auth(&token)
        .json(
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                      "userName": "scimreplay-abc123-left", "active": true}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let dir = TempDir::new("oauth-ledger");
    let ledger = planted_ledger(&dir, served.base_url(), &[&path]);
    let args = [
        "cleanup",
        "--ledger",
        &ledger,
        "--target",
        served.base_url(),
    ];

    let wrong = with_oauth(&served, &args, "not-the-secret-41c2").await;
    refused(&wrong);
    assert_eq!(names(&served, &token, "Users", "userName").await.len(), 1);

    let run = with_oauth(&served, &args, OAUTH_SECRET).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert!(names(&served, &token, "Users", "userName").await.is_empty());
    let outputs = outputs_of(&run, &[dir.path()]);
    assert_no_leak(&outputs, &[OAUTH_SECRET, &token]);
    assert_no_issued_token(&outputs);
}
