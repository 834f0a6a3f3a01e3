//! Shared helpers: scenario files in temp dirs, running the CLI in-process, wiremock setup.

use clap::Parser;
use scimreplay::cli::{Environment, Out, args::Cli, dispatch};
use scimreplay::exit::Outcome;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const TOKEN: &str = "test-token-5f1d2c9a7b3e";

/// A temporary folder removed on drop.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("scimreplay-it-{label}-"))
            .tempdir()
            .expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes a file and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }
}

/// What one in-process CLI invocation produced.
pub struct CliRun {
    pub outcome: Outcome,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `scimreplay <args>` in-process with a fixed environment (token set, no colour, no CI).
pub async fn cli(args: &[&str]) -> CliRun {
    cli_env(args, &[("SCIMREPLAY_TOKEN", TOKEN)]).await
}

pub async fn cli_env(args: &[&str], vars: &[(&str, &str)]) -> CliRun {
    let argv = std::iter::once("scimreplay").chain(args.iter().copied());
    let env = Environment::fixed(vars, false);
    let (out, out_buf) = Out::buffer();
    let (err, err_buf) = Out::buffer();
    let outcome = match Cli::try_parse_from(argv) {
        Ok(parsed) => dispatch(parsed, &env, out, err).await,
        Err(e) => {
            return CliRun {
                outcome: Outcome::InvalidInput,
                stdout: String::new(),
                stderr: e.to_string(),
            };
        }
    };
    CliRun {
        outcome,
        stdout: out_buf.contents(),
        stderr: err_buf.contents(),
    }
}

/// Runs `scimreplay run --target TARGET --no-builtin --scenarios FILE <extra>` in-process.
pub async fn run_file(target: &str, file: &str, extra: &[&str]) -> CliRun {
    let mut args = vec![
        "run",
        "--target",
        target,
        "--no-builtin",
        "--scenarios",
        file,
    ];
    args.extend_from_slice(extra);
    cli(&args).await
}

/// Runs one scenario (given as JSON) against `target`, with snapshots off, returning the
/// CLI result and the JSON report.
pub async fn run_scenario(target: &str, scenario: &Value) -> (CliRun, Value) {
    run_scenario_with(target, scenario, &[]).await
}

/// [`run_scenario`] with extra `run` flags (a `--timeout` among them replaces the default 5 s;
/// `--preflight`, which is not a flag, keeps the preflight on and is not passed on).
pub async fn run_scenario_with(target: &str, scenario: &Value, extra: &[&str]) -> (CliRun, Value) {
    let dir = TempDir::new("scenario");
    let file = dir.write(
        "scenario.json",
        &serde_json::to_string_pretty(scenario).unwrap(),
    );
    let report = dir.path().join("report.json");
    let state = dir.path().join("state");
    let mut args = vec![
        "--no-snapshots",
        "--json",
        report.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--color",
        "never",
    ];
    // These runs judge one scenario's own steps (a fault on its first request among them);
    // the preflight, which would stop such a run before it, has its own tests.
    if !extra.contains(&"--preflight") {
        args.push("--no-preflight");
    }
    if !extra.contains(&"--timeout") {
        args.extend_from_slice(&["--timeout", "5"]);
    }
    args.extend(extra.iter().filter(|a| **a != "--preflight"));
    let run = run_file(target, file.to_str().unwrap(), &args).await;
    let json = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (run, json)
}

/// The checks of one step in a JSON report: (check, passed) pairs.
pub fn step_checks(report: &Value, step: &str) -> Vec<(String, bool, String)> {
    report["scenarios"][0]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["id"] == step)
        .flat_map(|s| s["checks"].as_array().cloned().unwrap_or_default())
        .map(|c| {
            (
                c["check"].as_str().unwrap_or_default().to_string(),
                c["passed"].as_bool().unwrap_or(false),
                c["actual"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The status of one step in a JSON report.
pub fn step_status(report: &Value, step: &str) -> String {
    report["scenarios"][0]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"] == step)
        .and_then(|s| s["status"].as_str())
        .unwrap_or("missing")
        .to_string()
}

/// Every resource of one collection (`Users`, `Groups`) on a SCIM endpoint, in one page of up
/// to a thousand: what tests compare before and after a run.
pub async fn list_resources(http: &reqwest::Client, base: &str, collection: &str) -> Vec<Value> {
    let list: Value = http
        .get(format!("{base}/{collection}?startIndex=1&count=1000"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("the endpoint answers")
        .json()
        .await
        .expect("a JSON ListResponse");
    list["Resources"].as_array().cloned().unwrap_or_default()
}

/// The reference endpoint in-process with the named fault modes (`serve --faults`, comma
/// separated; empty for none), accepting [`TOKEN`].
pub async fn reference_with(faults: &str) -> scimreplay::reference::RunningServer {
    use scimreplay::reference::{Faults, ServerConfig};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServerConfig {
        faults: Faults::parse_list(faults).expect("known faults"),
        ..ServerConfig::new(TOKEN)
    };
    scimreplay::reference::spawn(listener, config)
        .await
        .unwrap()
}

/// A ledger file with a run line for `target` and one created entry per path.
pub fn planted_ledger(dir: &TempDir, target: &str, paths: &[&str]) -> String {
    let mut lines = vec![
        serde_json::json!({"event": "run", "run_id": "r1", "target": target,
        "prefix": "scimreplay-abc123-", "started_at": "2026-01-01T00:00:00Z"}),
    ];
    lines.extend(
        paths.iter().map(
            |p| serde_json::json!({"event": "created", "path": p, "scenario": "s", "step": "c"}),
        ),
    );
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    dir.write("run.jsonl", &text).to_str().unwrap().to_string()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The built binary, for tests that need a real process (`serve`, the GitHub Action's script).
pub const BIN: &str = env!("CARGO_BIN_EXE_scimreplay");

/// `scimreplay serve` run as a child process on a free loopback port, stopped on drop.
pub struct Served {
    child: std::process::Child,
    base: String,
}

impl Served {
    /// Starts `scimreplay serve --listen 127.0.0.1:0 <args>` with only `vars` of the
    /// credential variables set, and waits for its banner.
    pub fn start(args: &[&str], vars: &[(&str, &str)]) -> Served {
        use std::io::BufRead;
        let mut command = std::process::Command::new(BIN);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("SCIMREPLAY_TOKEN")
            .env_remove("SCIMREPLAY_CLIENT_SECRET")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in vars {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn scimreplay serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let marker = "reference endpoint at ";
        let base = loop {
            match rx.recv_timeout(std::time::Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(at) = line.find(marker) {
                        let url = &line[at + marker.len()..];
                        break url
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_string();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let output = child.wait_with_output().expect("serve's output");
                    panic!(
                        "serve printed no banner: {}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            }
        };
        assert!(base.ends_with("/scim/v2"), "serve's URL: {base}");
        Served { child, base }
    }

    /// The Tenant URL, `http://127.0.0.1:PORT/scim/v2`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The token endpoint on the same listener (`serve --oauth-client`).
    pub fn token_url(&self) -> String {
        token_url_of(&self.base)
    }

    /// A token from the token endpoint, for a test's own requests.
    pub async fn fetch_token(&self, secret: &str) -> String {
        let answer: Value = reqwest::Client::new()
            .post(self.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", OAUTH_CLIENT),
                ("client_secret", secret),
            ])
            .send()
            .await
            .expect("the token endpoint answers")
            .json()
            .await
            .expect("a JSON token answer");
        answer["access_token"]
            .as_str()
            .expect("an access_token")
            .to_string()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The OAuth client id the OAuth tests use, on both sides.
pub const OAUTH_CLIENT: &str = "scimreplay-it";
/// Its secret: a slash and a plus, so that escaped and percent-encoded forms differ from it.
pub const OAUTH_SECRET: &str = "client-secret-9d3a7f/e+x";

/// The token endpoint of a Tenant URL served on the same listener.
pub fn token_url_of(base: &str) -> String {
    format!(
        "{}{}",
        base.trim_end_matches("/scim/v2"),
        scimreplay::reference::TOKEN_PATH
    )
}

/// The client flags for OAuth client credentials against `token_url`, client [`OAUTH_CLIENT`].
pub fn oauth_flags(token_url: &str) -> Vec<String> {
    vec![
        "--oauth-token-url".into(),
        token_url.into(),
        "--oauth-client-id".into(),
        OAUTH_CLIENT.into(),
    ]
}

/// `serve` with a token endpoint for [`OAUTH_CLIENT`], the secret in `secret_env`, and no
/// static token: only issued tokens are accepted.
pub fn serve_oauth(secret_env: &str, extra: &[&str]) -> Served {
    let mut args = vec![
        "--oauth-client",
        OAUTH_CLIENT,
        "--oauth-secret-env",
        secret_env,
    ];
    args.extend_from_slice(extra);
    Served::start(&args, &[(secret_env, OAUTH_SECRET)])
}

/// The forms a secret could be echoed in: raw, JSON-escaped, percent-encoded, base64 (the
/// padding-free stem, which any base64 text holding it contains).
pub fn secret_forms(secret: &str) -> Vec<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let percent: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    vec![
        secret.to_string(),
        secret.replace('/', "\\/"),
        percent,
        b64[..b64.len() - 4].to_string(),
    ]
}

/// What a CLI run left for a reader: its terminal output and every file under `dirs`.
pub fn outputs_of(run: &CliRun, dirs: &[&Path]) -> Vec<(String, String)> {
    let mut outputs = vec![(
        "terminal".to_string(),
        format!("{}{}", run.stdout, run.stderr),
    )];
    for dir in dirs {
        for f in files_under(dir) {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default()).into_owned();
            outputs.push((f.display().to_string(), text));
        }
    }
    outputs
}

/// Fails when any output holds any form of any of `secrets`.
pub fn assert_no_leak(outputs: &[(String, String)], secrets: &[&str]) {
    for (name, text) in outputs {
        for secret in secrets {
            for form in secret_forms(secret) {
                assert!(!text.contains(&form), "{name} holds {form}:\n{text}");
            }
        }
    }
}

/// Fails when any output holds something shaped like a token `serve` issues (64 lowercase
/// hex digits), whichever token the client was given.
pub fn assert_no_issued_token(outputs: &[(String, String)]) {
    let shape = regex::Regex::new("[0-9a-f]{64}").unwrap();
    for (name, text) in outputs {
        assert!(
            !shape.is_match(text),
            "{name} holds an issued token: {:?}",
            shape.find(text).map(|m| m.as_str())
        );
    }
}
