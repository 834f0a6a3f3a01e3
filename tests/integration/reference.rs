//! The built-in catalogue against the built-in reference endpoint: every scenario passes and
//! every transcript matches the committed baseline in `snapshots/reference/`.

use crate::support::{TempDir, cli_env};
use scimreplay::exit::Outcome;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_passes_against_the_reference_and_matches_its_baseline() {
    let dir = TempDir::new("reference");
    let report = dir.path().join("report.json");
    let snapshots = concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots");
    let run = cli_env(
        &[
            "run",
            "--snapshot-dir",
            snapshots,
            "--require-snapshots",
            "--json",
            report.to_str().unwrap(),
        ],
        // CI mode: compare only, never write into the repository.
        &[("CI", "true")],
    )
    .await;
    assert_eq!(
        run.outcome,
        Outcome::Passed,
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["drift"], 0);
    assert_eq!(
        summary["snapshots_new"], 0,
        "every scenario has a committed baseline"
    );
    assert_eq!(summary["snapshots_mismatched"], 0);
    assert!(summary["scenarios"].as_u64().unwrap() >= 50);
    assert!(
        report["cleanup"]["left_behind"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// `run -s group-delete` of the built-in catalogue against a reference endpoint with
/// `faults`, with `extra` flags; the outcome and the JSON report.
async fn group_delete(faults: &str, extra: &[&str]) -> (Outcome, serde_json::Value) {
    let server = crate::support::reference_with(faults).await;
    let dir = TempDir::new("dialect");
    let report = dir.path().join("report.json");
    let state = dir.path().join("state");
    let base = server.base_url();
    let mut args = vec![
        "run",
        "--target",
        &base,
        "-s",
        "group-delete",
        "--no-snapshots",
        "--color",
        "never",
        "--json",
        report.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = crate::support::cli(&args).await;
    let json = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| panic!("no JSON report\n{}\n{}", run.stdout, run.stderr));
    (run.outcome, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_any_scenario_is_sent_and_reported_in_the_dialect_the_run_selects() {
    // group-delete is an `any` scenario whose member add is an Entra action: without
    // --dialect it is what an app without the flag gets (`Add`), with the flag `add`.
    let (plain, plain_report) = group_delete("", &[]).await;
    let (flagged, flagged_report) = group_delete("", &["--dialect", "aadOptscim062020"]).await;
    assert_eq!(plain, Outcome::Passed, "{plain_report:#}");
    assert_eq!(flagged, Outcome::Passed, "{flagged_report:#}");
    assert_eq!(plain_report["scenarios"][0]["dialect"], "any");
    assert_eq!(
        flagged_report["scenarios"][0]["dialect"], "aadOptscim062020",
        "the report names the dialect the scenario was sent in"
    );
    assert_eq!(member_add(&plain_report), ("Add".to_string(), true));
    assert_eq!(member_add(&flagged_report), ("add".to_string(), false));

    // An endpoint that takes only lowercase op names fails the default rendering's
    // capitalised Add and accepts the flagged one: the run really sends what it reports.
    let (plain, plain_report) = group_delete("case_sensitive_ops", &[]).await;
    let (flagged, flagged_report) =
        group_delete("case_sensitive_ops", &["--dialect", "aadOptscim062020"]).await;
    assert_eq!(plain, Outcome::ChecksFailed);
    assert_eq!(step(&plain_report, "add-member")["status"], "failed");
    assert_eq!(flagged, Outcome::Passed, "{flagged_report:#}");
}

/// The JSON report's step `id` of its first scenario.
fn step<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["scenarios"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step `{id}`"))
}

/// The `op` of the `add-member` step's PATCH as sent, and whether its member value
/// carries `$ref` (the default dialect sends `"$ref": null`).
fn member_add(report: &serde_json::Value) -> (String, bool) {
    let body = step(report, "add-member")["exchange"]["request"]["body"]
        .as_str()
        .expect("the PATCH body is in the report");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    let op = &body["Operations"][0];
    assert_eq!(op["path"], "members", "{body:#}");
    (
        op["op"].as_str().unwrap().to_string(),
        op["value"][0].as_object().unwrap().contains_key("$ref"),
    )
}
