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
