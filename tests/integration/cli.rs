//! The command line as users meet it: `--help`, `list`, `show`, a malformed scenario.

use crate::support::{TempDir, cli};
use scimreplay::exit::Outcome;

#[tokio::test]
async fn help_teaches_the_commands() {
    let run = cli(&["--help"]).await;
    insta::assert_snapshot!("help", run.stderr);
}

#[tokio::test]
async fn run_help_explains_every_flag() {
    let run = cli(&["run", "--help"]).await;
    insta::assert_snapshot!("run_help", run.stderr);
}

/// The other commands that talk to an endpoint: their credential flags are `run`'s.
#[tokio::test]
async fn client_commands_help_shows_the_same_credential_flags() {
    for (name, args) in [
        ("cleanup_help", vec!["cleanup", "--help"]),
        (
            "mappings_discover_help",
            vec!["mappings", "discover", "--help"],
        ),
        ("load_help", vec!["load", "--help"]),
    ] {
        let run = cli(&args).await;
        for flag in [
            "--token-env",
            "--oauth-token-url",
            "--oauth-client-id",
            "--oauth-secret-env",
        ] {
            assert!(run.stderr.contains(flag), "{name}: {flag}");
        }
        insta::assert_snapshot!(name, run.stderr);
    }
}

#[tokio::test]
async fn load_help_explains_every_flag() {
    let run = cli(&["load", "--help"]).await;
    insta::assert_snapshot!("load_help", run.stderr);
    let merge = cli(&["load", "merge", "--help"]).await;
    insta::assert_snapshot!("load_merge_help", merge.stderr);
}

#[tokio::test]
async fn import_provisioning_logs_help_explains_the_inputs() {
    let run = cli(&["import", "provisioning-logs", "--help"]).await;
    insta::assert_snapshot!("import_provisioning_logs_help", run.stderr);
}

#[tokio::test]
async fn list_shows_name_dialect_tags_summary() {
    let run = cli(&["list"]).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    assert!(run.stdout.starts_with("NAME"), "{}", run.stdout);
    assert!(
        run.stdout.contains("connection-probe-username"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(" scenarios"), "{}", run.stdout);
}

#[tokio::test]
async fn show_renders_the_requests() {
    let run = cli(&[
        "show",
        "connection-probe-username",
        "--target",
        "https://api.contoso.com/scim/",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("GET https://api.contoso.com/scim/Users?filter=userName+eq+%22"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn show_of_an_unknown_name_suggests_one() {
    let run = cli(&["show", "connection-probe-usernam"]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(
        run.stderr.contains("connection-probe-username"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_malformed_scenario_is_rendered_with_its_place() {
    let dir = TempDir::new("malformed");
    let file = dir.write(
        "broken.json",
        r#"{
  "name": "broken",
  "summary": "a typo in a check name",
  "dialect": "default",
  "steps": [
    {
      "id": "probe",
      "request": { "method": "GET", "path": "/Users" },
      "expect": { "status": 200, "checks": ["scim.resorce"] }
    }
  ]
}
"#,
    );
    let run = cli(&["run", "--no-builtin", "--scenarios", file.to_str().unwrap()]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    let shown = run.stderr.replace(dir.path().to_str().unwrap(), "<dir>");
    insta::assert_snapshot!("malformed_scenario", shown);
}

#[tokio::test]
async fn dry_run_prints_the_plan_and_sends_nothing() {
    // Nothing listens on port 9: a dry run must not even try.
    let run = cli(&[
        "run",
        "--target",
        "http://127.0.0.1:9/scim",
        "-s",
        "user-disable-default",
        "--dry-run",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("PATCH http://127.0.0.1:9/scim/Users/<alice_id from step create>"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("nothing was sent"), "{}", run.stdout);
}

#[tokio::test]
async fn markdown_report_is_written() {
    let dir = TempDir::new("markdown");
    let md = dir.path().join("summary.md");
    let run = cli(&[
        "run",
        "-s",
        "connection-probe-username",
        "--no-snapshots",
        "--markdown",
        md.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stdout);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.starts_with("# scimreplay: ✅ passed"), "{text}");
    assert!(text.contains("`connection-probe-username`"), "{text}");
}
