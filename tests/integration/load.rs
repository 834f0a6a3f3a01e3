//! `scimreplay load`: rate accuracy, cleanup after a normal run and after SIGINT, the JSON
//! report's keys, throttling, the quarantine projection, and the target guard.

use crate::interrupt::Spawned;
use crate::support::{TOKEN, TempDir, cli, list_resources};
use scimreplay::exit::Outcome;
use scimreplay::reference::{self, Faults, ServerConfig};
use serde_json::Value;
use std::time::Duration;

async fn endpoint(config: ServerConfig) -> reference::RunningServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    reference::spawn(listener, config).await.unwrap()
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report written")).expect("JSON")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_25_lands_within_ten_percent() {
    let dir = TempDir::new("load-rate");
    let json = dir.path().join("r.json");
    let run = cli(&[
        "load",
        "--profile",
        "probe",
        "--rate",
        "25",
        "--duration",
        "3",
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let r = read_json(&json);
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
    let json = dir.path().join("r.json");
    let state = dir.path().join("state");
    let run = cli(&[
        "load",
        "--target",
        &base,
        "--users",
        "40",
        "--groups",
        "4",
        "--members",
        "60",
        "--rate",
        "0",
        "--state-dir",
        state.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let r = read_json(&json);
    // The run did create the directory (so "nothing left" is not vacuous)…
    assert_eq!(r["kinds"]["create"]["requests"], 40);
    assert_eq!(r["kinds"]["group-create"]["requests"], 4);
    assert_eq!(
        r["kinds"]["manager"]["requests"], 36,
        "nine reports per team of ten"
    );
    assert_eq!(r["kinds"]["cleanup"]["requests"], 44);
    // …and deleted all of it.
    assert!(
        all_names(&base).await.is_empty(),
        "{:?}",
        all_names(&base).await
    );
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
    let text = std::fs::read_to_string(&json).unwrap();
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
    assert!(
        all_names(&base).await.is_empty(),
        "left: {:?}",
        all_names(&base).await
    );
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
    let json = dir.path().join("r.json");
    let run = cli(&[
        "load",
        "--target",
        &base,
        "--users",
        "10",
        "--groups",
        "1",
        "--rate",
        "40",
        "--state-dir",
        dir.path().join("s").to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let r = read_json(&json);
    assert!(
        r["throttling"]["responses_429"].as_u64().unwrap() > 0,
        "{}",
        r["throttling"]
    );
    assert!(r["throttling"]["throttled_s"].as_f64().unwrap() > 0.0);
    assert_eq!(r["failures"], 0);
    assert!(run.stdout.contains("throttled:"), "{}", run.stdout);
    assert!(run.stdout.contains("what a 429 means"), "{}", run.stdout);
    assert!(all_names(&base).await.is_empty());
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
    let json = dir.path().join("r.json");
    let run = cli(&[
        "load",
        "--target",
        &base,
        "--users",
        "10",
        "--groups",
        "1",
        "--rate",
        "0",
        "--state-dir",
        dir.path().join("s").to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        run.outcome,
        Outcome::ChecksFailed,
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout
            .contains("Entra would quarantine the job immediately"),
        "{}",
        run.stdout
    );
    let r = read_json(&json);
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
    let json = dir.path().join("r.json");
    let run = cli(&[
        "load",
        "--target",
        &mock.uri(),
        "--users",
        "20",
        "--groups",
        "2",
        "--rate",
        "0",
        "--state-dir",
        dir.path().join("s").to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        run.outcome,
        Outcome::ChecksFailed,
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout
            .contains("Entra would quarantine the job once 5,000 failures accumulate"),
        "{}",
        run.stdout
    );
    let r = read_json(&json);
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
    let json = dir.path().join("r.json");
    let run = cli(&[
        "load",
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
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let r = read_json(&json);
    for kind in ["update", "disable", "enable", "member-remove"] {
        assert!(
            r["kinds"][kind]["requests"].as_u64().unwrap_or(0) > 0,
            "{kind}: {}",
            r["kinds"]
        );
    }
}
