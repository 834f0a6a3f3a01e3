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

#[tokio::test]
async fn list_shows_name_dialect_tags_summary() {
    let run = cli(&["list"]).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    assert!(run.stdout.starts_with("NAME"), "{}", run.stdout);
    assert!(run.stdout.contains("connection-probe-username"), "{}", run.stdout);
    assert!(run.stdout.contains(" scenarios"), "{}", run.stdout);
}

#[tokio::test]
async fn show_renders_the_requests() {
    let run = cli(&["show", "connection-probe-username", "--target", "https://api.contoso.com/scim/"]).await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    assert!(run.stdout.contains("GET https://api.contoso.com/scim/Users?filter=userName+eq+%22"), "{}", run.stdout);
}

#[tokio::test]
async fn show_of_an_unknown_name_suggests_one() {
    let run = cli(&["show", "connection-probe-usrname"]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(run.stderr.contains("connection-probe-username"), "{}", run.stderr);
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
