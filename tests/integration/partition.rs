//! `--partition` and `--fail-fast`: the shards of a CI matrix cover the catalogue exactly
//! once and their JUnit files merge; a failure stops new scenarios from starting.

use crate::support::{TempDir, cli, run_file};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn catalogue_names() -> Vec<String> {
    let list = cli(&["list", "--json"]).await;
    let rows: Vec<Value> = serde_json::from_str(&list.stdout).expect("list --json");
    rows.iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// Runs one shard of the catalogue against the built-in endpoint; its scenario names and
/// the names of its JUnit testsuites.
async fn shard(spec: &str, dir: &TempDir) -> (Vec<String>, Vec<String>) {
    let tag = spec.replace([':', '/'], "-");
    let json = dir.path().join(format!("{tag}.json"));
    let junit = dir.path().join(format!("{tag}.xml"));
    let run = cli(&[
        "run",
        "--partition",
        spec,
        "--no-snapshots",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--color",
        "never",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{spec}: {}", run.stdout);
    assert!(
        run.stdout.contains(&format!("partition {spec} runs")),
        "{}",
        run.stdout
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["partition"], spec);
    let names = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    let xml = std::fs::read_to_string(&junit).unwrap();
    let suites = xml
        .split("<testsuite name=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect();
    (names, suites)
}

#[tokio::test]
async fn the_shards_cover_the_catalogue_exactly_once_and_their_junit_merges() {
    let expected: BTreeSet<String> = catalogue_names().await.into_iter().collect();
    assert!(expected.len() > 10);
    let dir = TempDir::new("partition");
    for (strategy, total) in [("hash", 3), ("count", 2)] {
        let mut seen: Vec<String> = Vec::new();
        let mut suites: Vec<String> = Vec::new();
        for index in 1..=total {
            let (names, names_of_suites) =
                shard(&format!("{strategy}:{index}/{total}"), &dir).await;
            seen.extend(names);
            suites.extend(names_of_suites);
        }
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), unique.len(), "{strategy}: a scenario ran twice");
        assert_eq!(
            unique, expected,
            "{strategy}: the shards do not cover the catalogue"
        );
        // Merged, the shards' JUnit files hold no two testsuites of the same name.
        let distinct: BTreeSet<&String> = suites.iter().collect();
        assert_eq!(distinct.len(), suites.len(), "{suites:?}");
        assert!(suites.contains(&format!("scimreplay run (partition {strategy}:1/{total})")));
    }
}

#[tokio::test]
async fn a_hash_shard_is_the_same_on_every_run() {
    let dir = TempDir::new("partition-stable");
    let (first, _) = shard("hash:2/5", &dir).await;
    let (second, _) = shard("hash:2/5", &dir).await;
    assert!(!first.is_empty());
    assert_eq!(first, second);
}

#[tokio::test]
async fn a_bad_partition_is_invalid_input() {
    for bad in ["3/2", "hash:0/2", "slice:1/2", "1"] {
        let run = cli(&["run", "--partition", bad]).await;
        assert_eq!(run.outcome, Outcome::InvalidInput, "{bad}");
        assert!(run.stderr.contains("--partition"), "{bad}: {}", run.stderr);
    }
}

fn failing(name: &str) -> String {
    json!({"name": name, "summary": "expects a 200 the endpoint never gives", "dialect": "any",
           "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users"},
                      "expect": {"status": 200}}]})
    .to_string()
}

async fn fail_fast_run(extra: &[&str]) -> Value {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let dir = TempDir::new("fail-fast");
    for name in ["ff-a", "ff-b", "ff-c"] {
        dir.write(&format!("s/{name}.json"), &failing(name));
    }
    let report = dir.path().join("report.json");
    let state = dir.path().join("state");
    let mut args = vec![
        "--no-snapshots",
        "--no-preflight",
        "-j",
        "1",
        "--json",
        report.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let scenarios = dir.path().join("s");
    let run = run_file(&server.uri(), scenarios.to_str().unwrap(), &args).await;
    assert_eq!(run.outcome, Outcome::ChecksFailed, "{}", run.stdout);
    serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap()
}

#[tokio::test]
async fn fail_fast_starts_no_scenario_after_a_failure() {
    let report = fail_fast_run(&["--fail-fast"]).await;
    assert_eq!(report["scenarios"].as_array().unwrap().len(), 1);
    assert_eq!(report["summary"]["not_run"], 2);
    // Without it, every scenario runs.
    let report = fail_fast_run(&[]).await;
    assert_eq!(report["scenarios"].as_array().unwrap().len(), 3);
    assert!(report["summary"].get("not_run").is_none());
}
