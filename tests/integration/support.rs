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

/// The reference endpoint with the named fault modes (comma-separated, "" for none),
/// in-process on a free local port.
pub async fn reference_with(faults: &str) -> scimreplay::reference::RunningServer {
    use scimreplay::reference::{Faults, ServerConfig};
    let config = ServerConfig {
        faults: Faults::parse_list(faults).expect("known faults"),
        ..ServerConfig::new(TOKEN)
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    scimreplay::reference::spawn(listener, config)
        .await
        .unwrap()
}
