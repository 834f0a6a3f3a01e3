//! Interruption of the real binary: the first SIGINT cleans up what the run created and
//! leaves no object of the run behind; a second one stops cleanup at once, keeps the ledger,
//! and `scimreplay cleanup --ledger` finishes the job.
//!
//! Signals reach a whole process, so these tests spawn `scimreplay` as a child.

use crate::support::{TOKEN, TempDir, cli};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_scimreplay");

/// A child process killed on drop (a failing test must not leave it running), with its
/// stdout lines arriving on a channel.
pub(crate) struct Spawned {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Spawned {
    pub(crate) fn start(args: &[&str]) -> Spawned {
        Spawned::start_env(args, &[])
    }

    /// As [`Spawned::start`], with `vars` set as well; the proxy variables are only those
    /// of `vars`, whatever this process has.
    pub(crate) fn start_env(args: &[&str], vars: &[(&str, &str)]) -> Spawned {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("SCIMREPLAY_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .env_remove("CI");
        for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
            command
                .env_remove(name)
                .env_remove(name.to_ascii_lowercase());
        }
        for (k, v) in vars {
            command.env(k, v);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn scimreplay");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Spawned {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a stdout line satisfying `want`, failing the test after `within`.
    pub(crate) fn line(&mut self, within: Duration, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no such line within {within:?}; saw:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the exit code, failing the test after `within`; returns it and all stdout.
    pub(crate) fn exit(&mut self, within: Duration) -> (i32, String) {
        let deadline = Instant::now() + within;
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "still running after {within:?}; saw:\n{}",
                self.seen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        (code, self.seen.join("\n"))
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `scimreplay serve` on a free port, rate-limited so a catalogue run takes a while; its URL.
fn serve(rate_limit: &str) -> (Spawned, String) {
    let mut server = Spawned::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--rate-limit",
        rate_limit,
    ]);
    let banner = server.line(Duration::from_secs(10), |l| l.contains("endpoint at "));
    let url = banner
        .split("endpoint at ")
        .nth(1)
        .expect("banner names the URL")
        .trim()
        .to_string();
    (server, url)
}

/// GET with the token, waiting out 429s from the rate-limited endpoint.
async fn get(http: &reqwest::Client, url: &str) -> Value {
    for _ in 0..20 {
        let response = http.get(url).bearer_auth(TOKEN).send().await.expect("GET");
        if response.status() == 429 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        assert_eq!(response.status(), 200, "GET {url}");
        return response.json().await.expect("JSON");
    }
    panic!("GET {url} stayed throttled");
}

/// Every name (`userName` / `displayName`) in a collection, paging with startIndex/count.
async fn names(http: &reqwest::Client, base: &str, collection: &str, attr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut start = 1;
    loop {
        let page = get(
            http,
            &format!("{base}/{collection}?startIndex={start}&count=50"),
        )
        .await;
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        names.extend(
            resources
                .iter()
                .filter_map(|r| r[attr].as_str().map(str::to_string)),
        );
        let total = page["totalResults"].as_u64().unwrap_or(0) as usize;
        if resources.is_empty() || start - 1 + resources.len() >= total {
            return names;
        }
        start += resources.len();
    }
}

/// How many `created` lines the run's ledger holds so far.
fn created(state: &std::path::Path) -> usize {
    ledger_files(state)
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .map(|t| t.matches("\"event\":\"created\"").count())
        .sum()
}

fn ledger_files(state: &std::path::Path) -> Vec<std::path::PathBuf> {
    scimreplay::run::ledger::list(&state.join("ledgers"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_signal_cleans_up_everything_the_run_created() {
    let (_server, url) = serve("25");
    let dir = TempDir::new("interrupt");
    let state = dir.path().join("state");
    let mut run = Spawned::start(&[
        "run",
        "--target",
        &url,
        "--no-snapshots",
        "--state-dir",
        state.to_str().unwrap(),
        "--jobs",
        "4",
        "--color",
        "never",
    ]);
    let first = run.line(Duration::from_secs(10), |l| {
        l.contains("prefix scimreplay-")
    });
    let prefix = first
        .split("prefix ")
        .nth(1)
        .and_then(|rest| rest.split([',', ')']).next())
        .expect("the first line names the prefix")
        .to_string();
    // Signal once the ledger shows the run has created a few objects.
    let started = Instant::now();
    while created(&state) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the run created nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    run.signal("INT");
    let (code, stdout) = run.exit(Duration::from_secs(30));
    assert_eq!(code, 4, "an interrupted run exits 4:\n{stdout}");
    assert!(
        stdout.contains("not finished: the run was interrupted"),
        "the scenarios cut short are counted, not listed:\n{stdout}"
    );
    let deleted: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("cleanup: deleted "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        deleted > 0,
        "the signal came while objects existed:\n{stdout}"
    );

    let http = reqwest::Client::new();
    let users = names(&http, &url, "Users", "userName").await;
    let groups = names(&http, &url, "Groups", "displayName").await;
    let left: Vec<&String> = users
        .iter()
        .chain(&groups)
        .filter(|n| n.to_lowercase().contains(&prefix.to_lowercase()))
        .collect();
    assert!(left.is_empty(), "objects of {prefix} left: {left:?}");

    let files = ledger_files(&state);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        text.contains("\"event\":\"created\""),
        "the run created objects before the signal:\n{text}"
    );
    let saved = scimreplay::run::ledger::read(&files[0]).unwrap();
    assert!(saved.outstanding.is_empty(), "{:?}", saved.outstanding);
    assert!(saved.closed, "the ledger is closed:\n{text}");
}

/// One scenario: a create, then a read that never answers in time.
fn create_then_hang() -> Value {
    json!({"name": "slow", "summary": "a create, then a hanging read", "dialect": "any",
        "steps": [
            {"id": "create", "request": {"method": "POST", "path": "/Users",
                "body": {"userName": "{{run.prefix}}alice@example.com"}},
             "expect": {"status": 201}, "capture": {"id": "/id"}},
            {"id": "read", "request": {"method": "GET", "path": "/Users/{{id}}"},
             "expect": {"status": 200}}]})
}

async fn requests(server: &MockServer, verb: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == verb)
        .count()
}

async fn wait_for(server: &MockServer, verb: &str, within: Duration) -> Duration {
    let started = Instant::now();
    while requests(server, verb).await == 0 {
        assert!(started.elapsed() < within, "no {verb} within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_stops_cleanup_and_cleanup_finishes_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u-1"})))
        .mount(&server)
        .await;
    // The read and the DELETE hang far longer than the test waits.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let dir = TempDir::new("interrupt-twice");
    let file = dir.write("slow.json", &create_then_hang().to_string());
    let state = dir.path().join("state");
    let mut run = Spawned::start(&[
        "run",
        "--target",
        &server.uri(),
        "--no-builtin",
        "--scenarios",
        file.to_str().unwrap(),
        "--no-snapshots",
        // The signal must land during the scenario, not the preflight.
        "--no-preflight",
        "--state-dir",
        state.to_str().unwrap(),
        "--color",
        "never",
    ]);
    wait_for(&server, "GET", Duration::from_secs(10)).await;
    run.signal("INT");
    // The hanging read is abandoned at once (not after the 60 s timeout): cleanup starts.
    let waited = wait_for(&server, "DELETE", Duration::from_secs(5)).await;
    assert!(
        waited < Duration::from_secs(2),
        "cleanup began after {waited:?}"
    );
    run.signal("TERM");
    let (code, stdout) = run.exit(Duration::from_secs(5));
    assert_eq!(code, 4, "{stdout}");
    assert!(stdout.contains("cleanup: 1 object left behind"), "{stdout}");
    assert!(stdout.contains("/Users/u-1"), "{stdout}");

    let files = ledger_files(&state);
    assert_eq!(files.len(), 1, "{files:?}");
    let ledger = files[0].to_str().unwrap().to_string();
    assert!(
        stdout.contains(&format!(
            "scimreplay cleanup --ledger {ledger} --target {}",
            server.uri()
        )),
        "names the command with the ledger's path:\n{stdout}"
    );
    let saved = scimreplay::run::ledger::read(&files[0]).unwrap();
    assert_eq!(saved.outstanding, vec!["/Users/u-1"]);
    assert!(!saved.closed);

    // The endpoint answers again: `cleanup --ledger` deletes what is left and closes it.
    server.reset().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let finish = cli(&["cleanup", "--ledger", &ledger, "--target", &server.uri()]).await;
    assert_eq!(
        finish.outcome,
        Outcome::Passed,
        "{}{}",
        finish.stdout,
        finish.stderr
    );
    assert!(
        finish.stdout.contains("deleted /Users/u-1"),
        "{}",
        finish.stdout
    );
    let saved = scimreplay::run::ledger::read(&files[0]).unwrap();
    assert!(saved.outstanding.is_empty() && saved.closed);
    let again = cli(&["cleanup", "--ledger", &ledger, "--target", &server.uri()]).await;
    assert_eq!(again.outcome, Outcome::Passed);
    assert!(
        again.stdout.contains("nothing left to delete"),
        "{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_in_flight_is_awaited_and_its_object_cleaned_up() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "u-slow"}))
                .set_delay(Duration::from_millis(700)),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let dir = TempDir::new("interrupt-create");
    let file = dir.write("slow.json", &create_then_hang().to_string());
    let state = dir.path().join("state");
    let mut run = Spawned::start(&[
        "run",
        "--target",
        &server.uri(),
        "--no-builtin",
        "--scenarios",
        file.to_str().unwrap(),
        "--no-snapshots",
        // The signal must land during the scenario, not the preflight.
        "--no-preflight",
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    wait_for(&server, "POST", Duration::from_secs(10)).await;
    run.signal("INT");
    let (code, stdout) = run.exit(Duration::from_secs(10));
    assert_eq!(code, 4, "{stdout}");
    assert!(stdout.contains("cleanup: deleted 1 object"), "{stdout}");
    assert_eq!(
        requests(&server, "GET").await,
        0,
        "no step after the signal"
    );
    let saved = scimreplay::run::ledger::read(&ledger_files(&state)[0]).unwrap();
    assert!(saved.outstanding.is_empty() && saved.closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_signal_stops_the_cleanup_command_and_keeps_the_ledger() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let dir = TempDir::new("interrupt-cleanup");
    let ledger = dir.write(
        "run.jsonl",
        &[
            json!({"event": "run", "run_id": "r1", "target": server.uri(),
                   "prefix": "scimreplay-abc123-", "started_at": "2026-01-01T00:00:00Z"}),
            json!({"event": "created", "path": "/Users/u-1", "scenario": "s", "step": "a"}),
            json!({"event": "created", "path": "/Users/u-2", "scenario": "s", "step": "b"}),
        ]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>(),
    );
    let uri = server.uri();
    let mut cleanup = Spawned::start(&[
        "cleanup",
        "--ledger",
        ledger.to_str().unwrap(),
        "--target",
        &uri,
    ]);
    wait_for(&server, "DELETE", Duration::from_secs(10)).await;
    cleanup.signal("INT");
    let (code, stdout) = cleanup.exit(Duration::from_secs(3));
    assert_eq!(code, 5, "{stdout}");
    assert!(stdout.contains("LEFT /Users/u-2"), "{stdout}");
    assert!(stdout.contains("LEFT /Users/u-1"), "{stdout}");
    let saved = scimreplay::run::ledger::read(&ledger).unwrap();
    assert_eq!(saved.outstanding, ["/Users/u-2", "/Users/u-1"]);
    assert!(!saved.closed);
}

/// A ListResponse of opaque ids and unordered emails, about 8 MB: parsed in a moment, but
/// its normalization (ids learned, every `emails` array sorted) takes seconds in a debug
/// build, and the scenario below reads it [`HUGE_READS`] times.
fn slow_to_normalize() -> Value {
    let resources: Vec<Value> = (0..100_000)
        .map(|i| {
            json!({"id": format!("opaque-id-{i:08}"), "userName": format!("u{i}"),
                   "emails": [{"value": format!("{i}@b")}, {"value": format!("{i}@a")}]})
        })
        .collect();
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
           "totalResults": resources.len(), "Resources": resources})
}

/// How many times the scenario reads the slow list.
const HUGE_READS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_during_normalization_stops_the_run_promptly() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "u-1"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(slow_to_normalize()))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let dir = TempDir::new("interrupt-normalize");
    let mut steps = vec![
        json!({"id": "create", "request": {"method": "POST", "path": "/Users",
        "body": {"userName": "{{run.prefix}}alice@example.com"}},
        "expect": {"status": 201}, "capture": {"id": "/id"}}),
    ];
    steps.extend((0..HUGE_READS).map(|i| {
        json!({"id": format!("list-{i}"), "request": {"method": "GET", "path": "/Users"},
               "expect": {"status": 200}})
    }));
    let scenario = json!({"name": "huge-list", "summary": "a create, then huge lists",
        "dialect": "any", "steps": steps});
    let file = dir.write("huge.json", &scenario.to_string());
    let state = dir.path().join("state");
    let snapshots = dir.path().join("snapshots");
    let mut run = Spawned::start(&[
        "run",
        "--target",
        &server.uri(),
        "--no-builtin",
        "--scenarios",
        file.to_str().unwrap(),
        "--no-preflight",
        "--snapshot-dir",
        snapshots.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    let started = Instant::now();
    while requests(&server, "GET").await < HUGE_READS {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the lists were not read"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The last answer is read, parsed and judged in well under this; the transcript (several
    // seconds of work before the fix) is then being normalized.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(requests(&server, "DELETE").await, 0, "still normalizing");
    let signalled = Instant::now();
    run.signal("INT");
    let (code, stdout) = run.exit(Duration::from_secs(30));
    let took = signalled.elapsed();
    assert_eq!(code, 4, "{stdout}");
    assert!(
        took < Duration::from_secs(3),
        "the run went on for {took:?} after the signal:\n{stdout}"
    );
    assert!(stdout.contains("cleanup: deleted 1 object"), "{stdout}");
    assert_eq!(requests(&server, "DELETE").await, 1);
    let saved = scimreplay::run::ledger::read(&ledger_files(&state)[0]).unwrap();
    assert!(saved.outstanding.is_empty() && saved.closed);
    // An interrupted transcript is never written as a baseline.
    assert!(
        crate::support::files_under(&snapshots)
            .iter()
            .all(|f| !f.to_string_lossy().ends_with(".snap")),
        "{:?}",
        crate::support::files_under(&snapshots)
    );
}
