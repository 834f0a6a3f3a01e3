//! `scimreplay import`: Validator exports and HAR files become scenarios that load, replay
//! green against the reference endpoint, and go red against one with the fault they test.
//!
//! The committed fixtures (`tests/fixtures/import/`) are this project's own, in the same
//! formats; the third-party exports in `../shared/recordings/validator/` are read when that
//! folder exists.

use crate::support::{TempDir, cli, reference_with, run_file};
use scimreplay::exit::Outcome;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

/// Replays the scenarios at `path` against `target` (snapshots off); outcome and report.
async fn replay(target: &str, path: &Path, dir: &TempDir) -> (Outcome, Value, String) {
    let report = dir
        .path()
        .join(format!("report-{}.json", uuid::Uuid::new_v4()));
    let state = dir.path().join("state");
    let run = run_file(
        target,
        path.to_str().unwrap(),
        &[
            "--no-snapshots",
            "--json",
            report.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--color",
            "never",
        ],
    )
    .await;
    let json = serde_json::from_str(&std::fs::read_to_string(&report).unwrap_or_default())
        .unwrap_or(Value::Null);
    (run.outcome, json, run.stdout)
}

/// Names of the scenarios of a report that did not pass.
fn failing(report: &Value) -> Vec<String> {
    report["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            s["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|st| st["status"] != "passed")
        })
        .map(|s| s["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn a_validator_export_imports_with_synthesized_steps_and_mapped_assertions() {
    let dir = TempDir::new("import-validator");
    let out = dir.path().join("validator");
    let run = cli(&[
        "import",
        "validator",
        fixture("validator-export.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("wrote 8 scenarios from 8 Validator tests"),
        "{}",
        run.stdout
    );

    let delete = read(&out.join("validator-export-delete-a-user.json"));
    let steps = delete["steps"].as_array().unwrap();
    let methods: Vec<&str> = steps
        .iter()
        .map(|s| s["request"]["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["POST", "DELETE", "GET"],
        "the create and the DELETE are synthesized"
    );
    assert!(
        steps[0]["note"]
            .as_str()
            .unwrap()
            .starts_with("synthesized:")
    );
    assert!(
        steps[1]["note"]
            .as_str()
            .unwrap()
            .starts_with("synthesized:")
    );
    assert_eq!(steps[2]["request"]["path"], "/Users/{{user_1}}");
    assert_eq!(steps[2]["expect"]["status"], serde_json::json!([404]));

    let case =
        read(&out.join("validator-export-filter-for-an-existing-user-with-a-different-case.json"));
    let last = case["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["expect"]["checks"],
        serde_json::json!(["scim.list-response", "entra.single-match"])
    );
    assert!(
        last["note"]
            .as_str()
            .unwrap()
            .contains("Validator: The response should match the created resource (passed)")
    );
    assert_eq!(last["request"]["query_style"], "validator");
    assert!(
        last["request"]["query"]["filter"]
            .as_str()
            .unwrap()
            .contains("{{run.prefix}}")
    );

    // A failed test whose Description is an error text, and its copy through a `$ref`.
    let failed = read(&out.join("validator-export-delete-users-id-setup-failed.json"));
    assert_eq!(
        failed["steps"][0]["expect"]["status"],
        serde_json::json!([201])
    );
    assert!(
        failed["description"]
            .as_str()
            .unwrap()
            .contains("the Validator failed it")
    );
    assert!(
        out.join("validator-export-delete-users-id-setup-failed-2.json")
            .exists()
    );

    let green = reference_with("").await;
    let (outcome, report, stdout) = replay(&green.base_url(), &out, &dir).await;
    assert_eq!(outcome, Outcome::Passed, "{stdout}");
    assert!(failing(&report).is_empty());

    let cased = reference_with("case-sensitive-filter").await;
    let (outcome, report, stdout) = replay(&cased.base_url(), &out, &dir).await;
    assert_eq!(outcome, Outcome::ChecksFailed, "{stdout}");
    assert_eq!(
        failing(&report),
        ["validator-export-filter-for-an-existing-user-with-a-different-case"],
        "{stdout}"
    );
}

#[tokio::test]
async fn the_third_party_validator_exports_import_and_replay() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/recordings/validator");
    if !folder.is_dir() {
        eprintln!("skipped: {} is not there", folder.display());
        return;
    }
    let dir = TempDir::new("import-shared");
    let green = reference_with("").await;
    for name in [
        "pranems-SCIMServer-scim-results-9",
        "miiitch-EzSCIM-scim-results-01",
        "miiitch-EzSCIM-scim-results-06",
    ] {
        let out = dir.path().join(name);
        let file = folder.join(format!("{name}.json"));
        let run = cli(&[
            "import",
            "validator",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .await;
        assert_eq!(run.outcome, Outcome::Passed, "{name}: {}", run.stderr);
        let (outcome, report, stdout) = replay(&green.base_url(), &out, &dir).await;
        assert_eq!(outcome, Outcome::Passed, "{name}:\n{stdout}");
        assert!(failing(&report).is_empty(), "{name}");
        // Tests the Validator failed expect what the Validator expects, and say so.
        for entry in std::fs::read_dir(&out).unwrap() {
            let scenario = read(&entry.unwrap().path());
            let tags = scenario["tags"].to_string();
            let description = scenario["description"].as_str().unwrap_or_default();
            if tags.contains("\"failed\"") {
                assert!(
                    description.contains("the Validator failed it"),
                    "{description}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_har_imports_keeping_only_the_scim_base_and_no_credentials() {
    let dir = TempDir::new("import-har");
    let out = dir.path().join("har.json");
    let snaps = dir.path().join("snaps");
    let run = cli(&[
        "import",
        "har",
        fixture("provisioning.har").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--snapshot-dir",
        snaps.to_str().unwrap(),
        "--baseline",
        "har",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    for secret in [
        "har-fixture-token-0042",
        "har-cookie-7731",
        "har-server-cookie-99",
    ] {
        assert!(!text.contains(secret), "{secret} reached the scenario");
        let snap = std::fs::read_to_string(snaps.join("har/har.snap")).unwrap();
        assert!(!snap.contains(secret), "{secret} reached the baseline");
    }
    let scenario = read(&out);
    let steps = scenario["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 8, "the portal page is not under the SCIM base");
    assert_eq!(scenario["dialect"], "default");
    assert_eq!(steps[3]["request"]["path"], "/Groups/{{group_2}}");
    assert_eq!(
        steps[3]["request"]["body"]["Operations"][0]["value"][0]["value"],
        "{{user_1}}"
    );

    let green = reference_with("").await;
    let (outcome, _, stdout) = replay(&green.base_url(), &out, &dir).await;
    assert_eq!(outcome, Outcome::Passed, "{stdout}");
    let strict = reference_with("string-booleans-rejected").await;
    let (outcome, report, stdout) = replay(&strict.base_url(), &out, &dir).await;
    assert_eq!(outcome, Outcome::ChecksFailed, "{stdout}");
    let failed: Vec<&str> = report["scenarios"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(failed.first(), Some(&"005-patch-users"), "{stdout}");
}

#[tokio::test]
async fn bad_input_exits_3_naming_the_file_place_and_expectation() {
    let dir = TempDir::new("import-bad");
    let truncated = dir.write("cut.har", "{\"log\": {\"entries\": [{\"request\": {");
    let run = cli(&["import", "har", truncated.to_str().unwrap()]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr.contains("cut.har:1:") && run.stderr.contains("truncated"),
        "{}",
        run.stderr
    );

    let har = fixture("provisioning.har");
    let run = cli(&[
        "import",
        "validator",
        har.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr
            .contains("provisioning.har: at /results/data: not a SCIM Validator results export"),
        "{}",
        run.stderr
    );
    let export = fixture("validator-export.json");
    let run = cli(&["import", "har", export.to_str().unwrap()]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr
            .contains("validator-export.json: at /log/entries: not a HAR file"),
        "{}",
        run.stderr
    );
}

/// Imports a provisioning log into `dir`; the scenario file and the command's output.
async fn import_logs(log: &Path, dir: &TempDir, extra: &[&str]) -> (PathBuf, String) {
    let out = dir.path().join("logs.json");
    let mut args = vec![
        "import",
        "provisioning-logs",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = cli(&args).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
    (out, run.stdout)
}

#[tokio::test]
async fn a_graph_provisioning_log_imports_shows_and_replays_green_then_red_on_a_fault() {
    let dir = TempDir::new("import-logs");
    let (out, stdout) = import_logs(&fixture("provisioning-logs-graph.json"), &dir, &[]).await;
    assert!(stdout.contains("read 7 events"), "{stdout}");
    assert!(stdout.contains("left out event 3"), "{stdout}");
    let scenario = read(&out);
    assert!(
        scenario["description"]
            .as_str()
            .unwrap()
            .contains("Reconstructed from provisioning logs")
    );
    let update = scenario["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "e2-update-rosa-park")
        .expect("the failed update is a step");
    assert!(
        update["note"]
            .as_str()
            .unwrap()
            .contains("unsupported op Replace")
    );

    let show = cli(&[
        "show",
        "logs",
        "--no-builtin",
        "--scenarios",
        out.to_str().unwrap(),
    ])
    .await;
    assert_eq!(show.outcome, Outcome::Passed, "{}", show.stderr);
    assert!(
        show.stdout.contains("PATCH <tenant-url>/Users/"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("refused it with 400"),
        "{}",
        show.stdout
    );

    let good = reference_with("").await;
    let (outcome, report, stdout) = replay(&good.base_url(), &out, &dir).await;
    assert_eq!(outcome, Outcome::Passed, "{stdout}");
    assert!(failing(&report).is_empty(), "{stdout}");
    assert_eq!(
        crate::support::step_status(&report, "e5-add-members-fixture-team"),
        "passed",
        "the member add reaches the endpoint"
    );

    // The change that failed in the log fails again against an endpoint with the same bug.
    let bad = reference_with("case_sensitive_ops").await;
    let (outcome, report, stdout) = replay(&bad.base_url(), &out, &dir).await;
    assert_eq!(outcome, Outcome::ChecksFailed, "{stdout}");
    assert_eq!(
        crate::support::step_status(&report, "e2-update-rosa-park"),
        "failed",
        "{stdout}"
    );
    assert_eq!(
        crate::support::step_status(&report, "e1-create-rosa-park"),
        "passed"
    );
    assert_eq!(
        crate::support::step_status(&report, "e4-create-fixture-team"),
        "passed",
        "only PATCHes meet the fault"
    );
}

#[tokio::test]
async fn portal_downloads_and_azure_monitor_lines_import_and_load() {
    let dir = TempDir::new("import-logs-shapes");
    for (file, shape) in [
        (
            "provisioning-logs-portal.json",
            "the portal's JSON download",
        ),
        (
            "provisioning-logs-azure.jsonl",
            "Azure Monitor diagnostic lines",
        ),
    ] {
        let (out, stdout) =
            import_logs(&fixture(file), &dir, &["--dialect", "aadOptscim062020"]).await;
        assert!(stdout.contains(shape), "{stdout}");
        let scenario = read(&out);
        assert_eq!(scenario["dialect"], "aadOptscim062020");
        let show = cli(&[
            "show",
            "logs",
            "--no-builtin",
            "--scenarios",
            out.to_str().unwrap(),
        ])
        .await;
        assert_eq!(show.outcome, Outcome::Passed, "{file}: {}", show.stderr);
        assert!(
            show.stdout.contains("\"op\": \"replace\""),
            "{}",
            show.stdout
        );
    }
}

#[tokio::test]
async fn bad_provisioning_logs_exit_3_naming_the_file_and_place() {
    let dir = TempDir::new("import-logs-bad");
    let cases = [
        (
            "har.json",
            "{\"log\": {\"entries\": []}}",
            "at : not a provisioning log",
        ),
        (
            "cut.json",
            "[{\"provisioningAction\": \"create\", ",
            "truncated",
        ),
        (
            "missing.json",
            "{\"value\": [{\"provisioningAction\": \"create\", \"provisioningStatusInfo\": {\"status\": \"success\"}}]}",
            "at /value/0/sourceIdentity",
        ),
    ];
    for (name, text, wanted) in cases {
        let path = dir.write(name, text);
        let out = dir.path().join("never.json");
        let run = cli(&[
            "import",
            "provisioning-logs",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .await;
        assert_eq!(run.outcome, Outcome::InvalidInput, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(name), "{}", run.stderr);
        assert!(run.stderr.contains(wanted), "{name}: {}", run.stderr);
        assert!(!out.exists());
    }
}

#[tokio::test]
async fn the_third_party_provisioning_log_imports_and_replays() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/recordings/provisioning-logs/elastic-integrations-azure-provisioninglogs-dropbox-2022.jsonl");
    let sample = if sample.exists() {
        sample
    } else {
        PathBuf::from(
            "/work/shared/recordings/provisioning-logs/elastic-integrations-azure-provisioninglogs-dropbox-2022.jsonl",
        )
    };
    if !sample.exists() {
        eprintln!(
            "skipped: no third-party provisioning log at {}",
            sample.display()
        );
        return;
    }
    let dir = TempDir::new("import-logs-sample");
    let (out, stdout) = import_logs(&sample, &dir, &[]).await;
    assert!(
        stdout.contains("read 2 events (Azure Monitor diagnostic lines)"),
        "{stdout}"
    );
    assert!(stdout.contains("skipped this change"), "{stdout}");
    let scenario = read(&out);
    let body = serde_json::to_string(&scenario["directory"]).unwrap();
    assert!(body.contains("{{run.prefix}}joel.miller@"), "{body}");
    let good = reference_with("").await;
    let (outcome, _, stdout) = replay(&good.base_url(), &out, &dir).await;
    assert_eq!(outcome, Outcome::Passed, "{stdout}");
}
