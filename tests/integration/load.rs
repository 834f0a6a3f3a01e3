//! `scimreplay load`: rate accuracy, cleanup after a normal run and after SIGINT, the JSON
//! report's keys, throttling, the quarantine projection, the target guard, many tenants and
//! the `restart` and `deprovision` profiles (against `serve` and against an endpoint that
//! stores every create twice).

use crate::interrupt::Spawned;
use crate::support::{CliRun, TOKEN, TempDir, cli, list_resources};
use scimreplay::exit::Outcome;
use scimreplay::reference::{self, Faults, ServerConfig};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn endpoint(config: ServerConfig) -> reference::RunningServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    reference::spawn(listener, config).await.unwrap()
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report written")).expect("JSON")
}

/// Runs `scimreplay load <args>` with its ledgers and JSON report in `dir` (`--target` when
/// given, else the built-in endpoint); returns the run and the report (Null if none).
async fn load(dir: &TempDir, target: Option<&str>, args: &[&str]) -> (CliRun, Value) {
    let json = dir.path().join("r.json");
    let state = dir.path().join("state");
    let mut argv = vec!["load"];
    if let Some(t) = target {
        argv.extend(["--target", t]);
    }
    argv.extend_from_slice(args);
    argv.extend([
        "--state-dir",
        state.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let run = cli(&argv).await;
    let report = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (run, report)
}

/// Asserts the run's outcome, showing its output when it differs.
fn expect(run: &CliRun, outcome: Outcome) {
    assert_eq!(run.outcome, outcome, "{}{}", run.stdout, run.stderr);
}

/// Requests of one action kind in a report (0 when the kind is absent).
fn requests(r: &Value, kind: &str) -> u64 {
    r["kinds"][kind]["requests"].as_u64().unwrap_or(0)
}

async fn all_names(base: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut names = Vec::new();
    for (c, attr) in [("Users", "userName"), ("Groups", "displayName")] {
        for r in list_resources(&http, base, c).await {
            names.push(r[attr].as_str().unwrap_or_default().to_string());
        }
    }
    names
}

/// Asserts nothing is left on the endpoint.
async fn assert_empty(base: &str) {
    let left = all_names(base).await;
    assert!(left.is_empty(), "left on the endpoint: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_25_lands_within_ten_percent() {
    let dir = TempDir::new("load-rate");
    let args = ["--profile", "probe", "--rate", "25", "--duration", "3"];
    let (run, r) = load(&dir, None, &args).await;
    expect(&run, Outcome::Passed);
    let requests = r["requests"].as_u64().unwrap();
    let rps = r["requests_per_s"].as_f64().unwrap();
    assert!(
        (68..=82).contains(&requests),
        "{requests} requests in 3 s at 25/s"
    );
    assert!((22.5..=27.5).contains(&rps), "{rps} requests/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_run_creates_the_cycle_and_leaves_nothing_behind() {
    let server = endpoint(ServerConfig::new(TOKEN)).await;
    let base = server.base_url();
    let dir = TempDir::new("load-clean");
    let args = [
        "--users",
        "40",
        "--groups",
        "4",
        "--members",
        "60",
        "--rate",
        "0",
    ];
    let (run, r) = load(&dir, Some(&base), &args).await;
    expect(&run, Outcome::Passed);
    // The run did create the directory (so "nothing left" is not vacuous)…
    assert_eq!(r["kinds"]["create"]["requests"], 40);
    assert_eq!(r["kinds"]["group-create"]["requests"], 4);
    assert_eq!(
        r["kinds"]["manager"]["requests"], 36,
        "nine reports per team of ten"
    );
    assert_eq!(r["kinds"]["cleanup"]["requests"], 44);
    // …and deleted all of it.
    assert_empty(&base).await;
    assert!(r["cleanup"]["left_behind"].as_array().unwrap().is_empty());
    // The JSON keys the issue promises.
    for key in ["format_version", "requests", "duration_s", "requests_per_s"] {
        assert!(r.get(key).is_some(), "top-level `{key}`");
    }
    for (kind, k) in r["kinds"].as_object().unwrap() {
        for p in ["p50", "p90", "p99", "p999", "max"] {
            assert!(k["latency_ms"][p].is_number(), "{kind}.latency_ms.{p}");
        }
    }
    // The token is in no output.
    let text = r.to_string();
    for shown in [&run.stdout, &run.stderr, &text] {
        assert!(!shown.contains(TOKEN));
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_sending_and_cleans_up() {
    let server = endpoint(ServerConfig::new(TOKEN)).await;
    let base = server.base_url();
    let dir = TempDir::new("load-sigint");
    let state = dir.path().join("state");
    let mut run = Spawned::start(&[
        "load",
        "--target",
        &base,
        "--users",
        "400",
        "--groups",
        "4",
        "--rate",
        "40",
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    run.line(Duration::from_secs(20), |l| {
        l.contains("prefix scimreplay-")
    });
    // Wait until some users exist, so there is something to clean up.
    let mut seen = 0;
    for _ in 0..100 {
        seen = all_names(&base).await.len();
        if seen >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen >= 5, "the run created nothing");
    run.signal("INT");
    let (code, stdout) = tokio::task::spawn_blocking(move || run.exit(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(code, 4, "an interrupted run is not green:\n{stdout}");
    assert!(stdout.contains("(interrupted)"), "{stdout}");
    assert_empty(&base).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_target_off_this_machine_needs_yes() {
    let run = cli(&["load", "--target", "https://scim.example.com/scim/v2"]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
}

#[tokio::test]
async fn bad_flags_are_input_errors() {
    for args in [
        vec!["load", "--rate", "-1"],
        vec!["load", "--concurrency", "0"],
        vec!["load", "--users", "5", "--groups", "1", "--members", "6"],
        vec!["load", "--shard", "3/2"],
    ] {
        let run = cli(&args).await;
        assert_eq!(
            run.outcome,
            Outcome::InvalidInput,
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_endpoint_is_reported_with_throttled_time_and_no_false_failures() {
    let server = endpoint(ServerConfig {
        rate_limit: Some(10),
        ..ServerConfig::new(TOKEN)
    })
    .await;
    let base = server.base_url();
    let dir = TempDir::new("load-429");
    let args = ["--users", "10", "--groups", "1", "--rate", "40"];
    let (run, r) = load(&dir, Some(&base), &args).await;
    expect(&run, Outcome::Passed);
    assert!(
        r["throttling"]["responses_429"].as_u64().unwrap() > 0,
        "{}",
        r["throttling"]
    );
    assert!(r["throttling"]["throttled_s"].as_f64().unwrap() > 0.0);
    assert_eq!(r["failures"], 0);
    assert!(run.stdout.contains("throttled:"), "{}", run.stdout);
    assert!(run.stdout.contains("what a 429 means"), "{}", run.stdout);
    assert_empty(&base).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_endpoint_is_projected_as_entra_would_quarantine() {
    let faults = Faults {
        filter_miss_404: true,
        ..Faults::default()
    };
    let server = endpoint(ServerConfig {
        faults,
        ..ServerConfig::new(TOKEN)
    })
    .await;
    let base = server.base_url();
    let dir = TempDir::new("load-quarantine");
    let args = ["--users", "10", "--groups", "1", "--rate", "0"];
    let (run, r) = load(&dir, Some(&base), &args).await;
    expect(&run, Outcome::ChecksFailed);
    assert!(
        run.stdout
            .contains("Entra would quarantine the job immediately"),
        "{}",
        run.stdout
    );
    assert_eq!(r["entra"]["quarantine"], "immediately");
    // Entra stops at the probe: nothing was created.
    assert!(r["kinds"].get("create").is_none());
    server.shutdown().await;
}

/// Creates answered 500: every user's event fails, far above the 40 % share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_creates_are_projected_as_quarantine_at_scale() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 0
        })))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&mock)
        .await;
    let dir = TempDir::new("load-500");
    let args = ["--users", "20", "--groups", "2", "--rate", "0"];
    let (run, r) = load(&dir, Some(&mock.uri()), &args).await;
    expect(&run, Outcome::ChecksFailed);
    assert!(
        run.stdout
            .contains("Entra would quarantine the job once 5,000 failures accumulate"),
        "{}",
        run.stdout
    );
    assert_eq!(r["entra"]["quarantine"], "at-scale");
    assert_eq!(r["kinds"]["create"]["failures"], 20);
    assert!(!r["causes"].as_array().unwrap().is_empty());
}

/// Two shards and `load merge`: the merged report counts the requests one run over the whole
/// directory sends, and its percentiles are those of the shards' histograms added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_merge_into_one_run() {
    let dir = TempDir::new("load-merge");
    let mut files = Vec::new();
    for shard in ["1/2", "2/2", "1/1"] {
        let json = dir
            .path()
            .join(format!("{}.json", shard.replace('/', "of")));
        let run = cli(&[
            "load",
            "--users",
            "40",
            "--groups",
            "4",
            "--members",
            "40",
            "--rate",
            "0",
            "--shard",
            shard,
            "--json",
            json.to_str().unwrap(),
        ])
        .await;
        assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
        files.push(json);
    }
    let merged = dir.path().join("merged.json");
    let run = cli(&[
        "load",
        "merge",
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        "--json",
        merged.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let (m, one) = (read_json(&merged), read_json(&files[2]));
    for kind in [
        "match",
        "create",
        "manager",
        "group-create",
        "member-add",
        "cleanup",
    ] {
        assert_eq!(
            m["kinds"][kind]["requests"], one["kinds"][kind]["requests"],
            "{kind}"
        );
    }
    // Exact: the merged histogram is the sum of the shards' (decoded here independently).
    let parts: Vec<_> = files[..2]
        .iter()
        .map(|f| serde_json::from_value(read_json(f)).unwrap())
        .collect();
    let mut sum = scimreplay::load::stats::Stats::default();
    for p in &parts {
        sum.merge(&scimreplay::load::report::stats_of(p).unwrap());
    }
    let k = scimreplay::load::stats::Kind::Create;
    let expected = scimreplay::load::stats::Percentiles::of(&sum.kinds[&k].histogram);
    assert_eq!(
        m["kinds"]["create"]["latency_ms"]["p99"].as_f64().unwrap(),
        expected.p99
    );
    assert_eq!(
        m["kinds"]["create"]["latency_ms"]["max"].as_f64().unwrap(),
        expected.max
    );
    // Not a report: a clear input error naming the file.
    let bogus = dir.write("x.json", "{\"a\": 1}");
    let run = cli(&["load", "merge", bogus.to_str().unwrap()]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr.contains("x.json") && run.stderr.contains("not a scimreplay load report"),
        "{}",
        run.stderr
    );
}

/// The incremental profile updates, disables and re-enables users, and changes memberships.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incremental_profile_sends_every_kind_of_change() {
    let dir = TempDir::new("load-incr");
    let args = [
        "--profile",
        "incremental",
        "--users",
        "30",
        "--groups",
        "3",
        "--rate",
        "0",
        "--change-share",
        "0.5",
    ];
    let (run, r) = load(&dir, None, &args).await;
    expect(&run, Outcome::Passed);
    for kind in ["update", "disable", "enable", "member-remove"] {
        assert!(requests(&r, kind) > 0, "{kind}: {}", r["kinds"]);
    }
}

/// The ledger's events as (event, path) pairs.
fn ledger_events(path: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("ledger written");
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("event"), s("path"))
        })
        .collect()
}

/// `--tenants 3`: three independent jobs, each with its own prefix, ledger and figures, and
/// each job's objects all deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_run_as_independent_jobs_and_are_all_cleaned_up() {
    let server = endpoint(ServerConfig::new(TOKEN)).await;
    let base = server.base_url();
    let dir = TempDir::new("load-tenants");
    let args = [
        "--tenants",
        "3",
        "--users",
        "20",
        "--groups",
        "2",
        "--rate",
        "0",
    ];
    let (run, r) = load(&dir, Some(&base), &args).await;
    expect(&run, Outcome::Passed);
    let tenants = r["tenants"].as_array().expect("tenants");
    assert_eq!(tenants.len(), 3, "{}", r["tenants"]);
    let mut prefixes = std::collections::BTreeSet::new();
    let mut created = std::collections::BTreeSet::new();
    let mut sum = 0;
    for t in tenants {
        let prefix = t["prefix"].as_str().unwrap();
        assert!(prefixes.insert(prefix.to_string()), "prefix {prefix} twice");
        // Each tenant sent the whole cycle for its own directory of 20 + 2 objects.
        assert_eq!(t["created"], 22, "{t}");
        assert_eq!(t["left_behind"], 0, "{t}");
        assert_eq!(t["failures"], 0, "{t}");
        assert!(t["requests_per_s"].as_f64().unwrap() > 0.0, "{t}");
        sum += t["requests"].as_u64().unwrap();
        assert!(
            run.stdout.contains(&format!("tenant {prefix}: ")),
            "{}",
            run.stdout
        );
        // Its own ledger: 22 creates, each removed again, then closed.
        let events = ledger_events(t["ledger"].as_str().expect("a ledger"));
        let made: Vec<&String> = events
            .iter()
            .filter(|(e, _)| e == "created")
            .map(|(_, p)| p)
            .collect();
        assert_eq!(made.len(), 22);
        for p in &made {
            assert!(created.insert(p.to_string()), "{p} in two tenants' ledgers");
            assert!(events.contains(&("removed".into(), p.to_string())), "{p}");
        }
        assert_eq!(events.last().map(|(e, _)| e.as_str()), Some("closed"));
    }
    assert_eq!(sum, r["requests"].as_u64().unwrap(), "tenants add up");
    assert_eq!(requests(&r, "create"), 60);
    assert_eq!(requests(&r, "group-create"), 6);
    assert_empty(&base).await;
    server.shutdown().await;
}

/// `restart` against an endpoint that keeps what it was sent: every object is found once,
/// with the id it was created with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_rematches_every_object_once() {
    let server = endpoint(ServerConfig::new(TOKEN)).await;
    let base = server.base_url();
    let dir = TempDir::new("load-restart");
    let args = [
        "--profile",
        "restart",
        "--users",
        "20",
        "--groups",
        "2",
        "--rate",
        "0",
    ];
    let (run, r) = load(&dir, Some(&base), &args).await;
    expect(&run, Outcome::Passed);
    // Matched once by the initial cycle, once by the restart.
    assert_eq!(requests(&r, "match"), 40, "{}", r["kinds"]);
    assert_eq!(requests(&r, "group-match"), 4);
    assert_eq!(requests(&r, "create"), 20, "nothing created twice");
    assert_eq!(r["tenants"][0]["duplicates"], 0);
    assert_eq!(r["tenants"][0]["missing"], 0);
    assert_empty(&base).await;
    server.shutdown().await;
}

/// A small SCIM endpoint that stores every create twice (as a backend that replays a write
/// it had already committed): matching works, so the initial cycle looks clean, and only a
/// re-match sees each object twice.
async fn doubling_endpoint() -> wiremock::MockServer {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};
    type Objects = Arc<Mutex<Vec<(String, String, String)>>>;
    let objects: Objects = Arc::default();
    let mock = MockServer::start().await;
    let collection = |r: &Request| {
        let mut segments = r.url.path_segments().into_iter().flatten();
        let named = segments.rfind(|s| *s == "Users" || *s == "Groups");
        named.unwrap_or_default().to_string()
    };
    let list = |found: Vec<Value>| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": found.len(), "startIndex": 1, "itemsPerPage": found.len(),
            "Resources": found})
    };
    let store = Arc::clone(&objects);
    Mock::given(method("GET"))
        .respond_with(move |r: &Request| {
            let filter = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            let value = filter.split('"').nth(1).unwrap_or_default().to_lowercase();
            let c = collection(r);
            let found: Vec<Value> = store
                .lock()
                .unwrap()
                .iter()
                .filter(|(col, id, name)| {
                    *col == c && (name.to_lowercase() == value || *id == value)
                })
                .map(|(_, id, name)| json!({"id": id, "userName": name, "displayName": name}))
                .collect();
            ResponseTemplate::new(200).set_body_json(list(found))
        })
        .mount(&mock)
        .await;
    let store = Arc::clone(&objects);
    Mock::given(method("POST"))
        .respond_with(move |r: &Request| {
            let mut body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            let name = body
                .get("userName")
                .or_else(|| body.get("displayName"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let c = collection(r);
            let mut objects = store.lock().unwrap();
            let (id, twin) = (
                format!("id{}", objects.len()),
                format!("id{}", objects.len() + 1),
            );
            objects.push((c.clone(), id.clone(), name.clone()));
            objects.push((c, twin, name));
            body["id"] = json!(id);
            ResponseTemplate::new(201).set_body_json(body)
        })
        .mount(&mock)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&mock)
        .await;
    let store = Arc::clone(&objects);
    Mock::given(method("DELETE"))
        .respond_with(move |r: &Request| {
            let id = r
                .url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default();
            store.lock().unwrap().retain(|(_, other, _)| other != id);
            ResponseTemplate::new(204)
        })
        .mount(&mock)
        .await;
    mock
}

/// `restart` against the doubling endpoint: every object is found twice, the run fails and
/// says how many duplicates; the initial cycle alone does not notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_detects_an_endpoint_that_duplicates() {
    let dir = TempDir::new("load-restart-dup");
    let mock = doubling_endpoint().await;
    let base = mock.uri();
    let mut args = vec!["--users", "20", "--groups", "2", "--rate", "0"];
    let (cycle, r) = load(&dir, Some(&base), &args).await;
    assert_eq!(
        requests(&r, "create"),
        20,
        "{}{}",
        cycle.stdout,
        cycle.stderr
    );
    assert_eq!(
        r["tenants"][0]["duplicates"], 0,
        "no re-match, no duplicates seen"
    );
    args.extend(["--profile", "restart"]);
    let (run, r) = load(&dir, Some(&base), &args).await;
    expect(&run, Outcome::ChecksFailed);
    assert_eq!(r["tenants"][0]["duplicates"], 22, "{}", r["tenants"]);
    assert_eq!(r["kinds"]["match"]["failures"], 20, "{}", r["kinds"]);
    assert_eq!(r["kinds"]["group-match"]["failures"], 2);
    assert!(
        run.stdout
            .contains("restart: 22 objects found more than once"),
        "{}",
        run.stdout
    );
    assert!(
        r["causes"].as_array().unwrap().iter().any(|c| c["check"]
            .as_str()
            .unwrap_or_default()
            .contains("entra.single-match")),
        "{}",
        r["causes"]
    );
}

/// `deprovision`: every user disabled, then deleted by the profile itself (cleanup only has
/// the groups left), and nothing remains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprovision_disables_then_deletes_every_user() {
    let server = endpoint(ServerConfig::new(TOKEN)).await;
    let base = server.base_url();
    let dir = TempDir::new("load-deprov");
    let args = [
        "--profile",
        "deprovision",
        "--users",
        "20",
        "--groups",
        "2",
        "--rate",
        "0",
    ];
    let (run, r) = load(&dir, Some(&base), &args).await;
    expect(&run, Outcome::Passed);
    assert_eq!(requests(&r, "disable"), 20, "{}", r["kinds"]);
    assert_eq!(requests(&r, "delete"), 20);
    assert_eq!(r["kinds"]["delete"]["statuses"]["204"], 20);
    assert_eq!(
        requests(&r, "cleanup"),
        2,
        "the users were gone before cleanup"
    );
    assert_empty(&base).await;
    server.shutdown().await;
}
