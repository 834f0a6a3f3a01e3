//! The config file: found in the working directory or named by `--config`, keys named as
//! `run`'s long flags, flags on the command line override it, bad keys are located errors.

use crate::support::{CliRun, TempDir};
use scimreplay::cli::config::{ParseFailure, parse};
use scimreplay::cli::{Environment, Out, dispatch};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};
use std::path::Path;
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs `scimreplay <args>` in-process from the working directory `cwd`, as `main` does.
async fn cli_in(cwd: &Path, args: &[&str], vars: &[(&str, &str)]) -> CliRun {
    let argv = std::iter::once("scimreplay")
        .chain(args.iter().copied())
        .map(Into::into)
        .collect();
    let (out, out_buf) = Out::buffer();
    let (err, err_buf) = Out::buffer();
    let outcome = match parse(argv, cwd) {
        Ok(cli) => dispatch(cli, &Environment::fixed(vars, false), out, err).await,
        Err(ParseFailure::Config(message)) => {
            return CliRun {
                outcome: Outcome::InvalidInput,
                stdout: String::new(),
                stderr: message,
            };
        }
        Err(ParseFailure::Clap(e)) => {
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

/// An endpoint that answers only the token `token`.
async fn endpoint_for(token: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"Resources": [], "totalResults": 0})),
        )
        .mount(&server)
        .await;
    server
}

/// A folder with one scenario under `s/` and a config file pointing at `target`.
fn project(target: &str, extra: &str) -> TempDir {
    let dir = TempDir::new("config");
    dir.write(
        "s/probe.json",
        &json!({"name": "probe", "summary": "one request", "dialect": "any",
                "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users"},
                           "expect": {"status": 200}}]})
        .to_string(),
    );
    dir.write(
        "scimreplay.toml",
        &format!(
            "# settings for this endpoint\ntarget = \"{target}\"\ntoken-env = \"FILE_TOKEN\"\n\
             scenarios = [\"s\"]\nno-builtin = true\nno-snapshots = true\nno-preflight = true\n\
             json = \"report.json\"\nstate-dir = \"state\"\njobs = 2\n{extra}"
        ),
    );
    dir
}

fn report(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report written")).unwrap()
}

#[tokio::test]
async fn the_file_in_the_working_directory_is_used() {
    let server = endpoint_for("from-file-token").await;
    let dir = project(&server.uri(), "");
    let run = cli_in(dir.path(), &["run"], &[("FILE_TOKEN", "from-file-token")]).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("2 jobs"), "{}", run.stdout);
    // Relative paths are taken from the file's folder.
    let written = report(&dir.path().join("report.json"));
    assert_eq!(written["scenarios"][0]["name"], "probe");
    assert!(dir.path().join("state").is_dir());
}

#[tokio::test]
async fn flags_override_the_file() {
    let server = endpoint_for("flag-token").await;
    let dir = project(&server.uri(), "");
    let other = dir.path().join("other.json");
    let vars = [("FILE_TOKEN", "wrong"), ("FLAG_TOKEN", "flag-token")];
    let run = cli_in(
        dir.path(),
        &[
            "run",
            "--token-env",
            "FLAG_TOKEN",
            "-j",
            "1",
            "--json",
            other.to_str().unwrap(),
        ],
        &vars,
    )
    .await;
    // The endpoint only accepts the flag's variable: a pass proves the flag won.
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 job"), "{}", run.stdout);
    assert!(other.is_file());
    assert!(!dir.path().join("report.json").exists());
    // Without the flag the file's variable is used, and the endpoint rejects it.
    let run = cli_in(dir.path(), &["run"], &vars).await;
    assert_eq!(run.outcome, Outcome::ChecksFailed, "{}", run.stdout);
}

#[tokio::test]
async fn config_names_a_file_elsewhere_and_no_config_ignores_the_default() {
    let server = endpoint_for("t").await;
    let dir = project(&server.uri(), "");
    let elsewhere = TempDir::new("config-cwd");
    let file = dir.path().join("scimreplay.toml");
    let vars = [("FILE_TOKEN", "t")];
    let run = cli_in(
        elsewhere.path(),
        &["run", "--config", file.to_str().unwrap()],
        &vars,
    )
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    // The report lands beside the file, not in the working directory.
    assert!(dir.path().join("report.json").is_file());
    // With the file, `no-builtin = true` leaves the catalogue out and this name matches
    // nothing; --no-config ignores the file, so it is found.
    let run = cli_in(
        dir.path(),
        &[
            "run",
            "--no-config",
            "--dry-run",
            "-s",
            "user-disable-default",
        ],
        &vars,
    )
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    assert!(
        run.stdout.contains("user-disable-default"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn an_unknown_key_is_exit_3_with_its_place_and_a_suggestion() {
    let dir = project("http://127.0.0.1:9", "snapshot-dri = \"x\"\n");
    let run = cli_in(dir.path(), &["run"], &[]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr.contains("unknown key `snapshot-dri`")
            && run.stderr.contains("scimreplay.toml:11:1")
            && run.stderr.contains("did you mean `snapshot-dir`?"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_token_in_the_file_is_refused_and_never_echoed() {
    let dir = project("http://127.0.0.1:9", "token = \"sekrit-value-123\"\n");
    let run = cli_in(dir.path(), &["run"], &[]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr.contains("must not hold the token"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("token-env"), "{}", run.stderr);
    assert!(
        run.stderr.contains("scimreplay.toml:11:1"),
        "{}",
        run.stderr
    );
    // An excerpt shows the key, and the secret is on the same line: it must not appear.
    assert!(!run.stderr.contains("sekrit-value-123"), "{}", run.stderr);
}

#[tokio::test]
async fn the_real_binary_reads_the_file_from_its_working_directory() {
    let dir = TempDir::new("config-bin");
    dir.write("scimreplay.toml", "jobs = \"lots\"\n");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_scimreplay"))
        .args(["run", "--dry-run"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("scimreplay.toml:1:8"), "{stderr}");
    assert!(
        stderr.contains("invalid value 'lots' for '--jobs"),
        "{stderr}"
    );
}
