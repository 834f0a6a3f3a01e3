//! Hardening against planted ledgers, hostile ids and echoed secrets (issue 10).

use crate::support::{TempDir, cli, run_scenario, step_status};
use scimreplay::exit::Outcome;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A ledger file with a run line for `target` and one created entry per path.
fn planted_ledger(dir: &TempDir, target: &str, paths: &[&str]) -> String {
    let mut lines = vec![json!({"event": "run", "run_id": "r1", "target": target,
        "prefix": "scimreplay-abc123-", "started_at": "2026-01-01T00:00:00Z"})];
    lines.extend(
        paths
            .iter()
            .map(|p| json!({"event": "created", "path": p, "scenario": "s", "step": "c"})),
    );
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    dir.write("run.jsonl", &text).to_str().unwrap().to_string()
}

/// A server that must receive nothing at all.
async fn untouchable() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn cleanup_never_sends_the_token_to_the_host_a_ledger_names() {
    let attacker = untouchable().await;
    let dir = TempDir::new("planted");
    let ledger = planted_ledger(&dir, &attacker.uri(), &["/Users/u-1"]);
    let run = cli(&["cleanup", "--ledger", &ledger]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput, "{}", run.stdout);
    assert!(run.stderr.contains("--target"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&attacker.uri()),
        "names what the ledger records: {}",
        run.stderr
    );
    // A --target that differs from the ledger's endpoint is refused too: neither gets a request.
    let other = untouchable().await;
    let run = cli(&["cleanup", "--ledger", &ledger, "--target", &other.uri()]).await;
    assert_eq!(run.outcome, Outcome::InvalidInput, "{}", run.stdout);
    assert!(run.stderr.contains("was written for"), "{}", run.stderr);
    // Without --ledger, ledgers of other endpoints are skipped.
    let state = dir.path().join("state");
    std::fs::create_dir_all(state.join("ledgers")).unwrap();
    std::fs::copy(&ledger, state.join("ledgers").join("r1.jsonl")).unwrap();
    let run = cli(&[
        "cleanup",
        "--state-dir",
        state.to_str().unwrap(),
        "--target",
        &other.uri(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}{}", run.stdout, run.stderr);
}

#[tokio::test]
async fn cleanup_refuses_a_ledger_with_paths_a_run_never_records() {
    let server = untouchable().await;
    for bad in [
        "/Users/../../../admin/wipe",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        "/Users/victim\n",
        "/Users/%76ictim",
        "/Users/.\t.",
    ] {
        let dir = TempDir::new("bad-paths");
        let ledger = planted_ledger(&dir, &server.uri(), &["/Users/fine-1", bad]);
        let run = cli(&["cleanup", "--ledger", &ledger, "--target", &server.uri()]).await;
        assert_eq!(
            run.outcome,
            Outcome::InvalidInput,
            "{bad:?}: {}",
            run.stdout
        );
        assert!(
            run.stderr.contains("refusing the whole ledger"),
            "{bad:?}: {}",
            run.stderr
        );
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "the id cannot break the line: {:?}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn ids_that_are_not_plain_segments_are_never_recorded_or_deleted() {
    for id in [".\t.", "victim\n", "%76ictim", "victim ", "v;x"] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": id})))
            .mount(&server)
            .await;
        // The lookup by name finds the same unsafe id, which is refused again.
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 1, "Resources": [{"id": id, "userName": "x"}]})))
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(204))
            .expect(0)
            .mount(&server)
            .await;
        let scenario = json!({"name": "ids", "summary": "an unsafe id", "dialect": "any",
            "steps": [{"id": "create", "request": {"method": "POST", "path": "/Users",
                "body": {"userName": "{{run.prefix}}a"}}, "expect": {"status": 201}}]});
        let (run, report) = run_scenario(&server.uri(), &scenario).await;
        assert_eq!(step_status(&report, "create"), "passed", "{id:?}");
        assert_eq!(
            run.outcome,
            Outcome::CleanupIncomplete,
            "{id:?}: {}",
            run.stdout
        );
        let reason = report["cleanup"]["left_behind"][0]["reason"]
            .as_str()
            .unwrap();
        assert!(reason.contains("not a plain path segment"), "{reason}");
        assert!(
            !reason.contains('\n') && !reason.contains('\t'),
            "{reason:?}"
        );
    }
}

#[tokio::test]
async fn an_invalid_baseline_name_is_invalid_input() {
    for bad in ["../..", "a/b", ".hidden", "", "x\u{1b}[2J"] {
        let run = cli(&[
            "run",
            "--target",
            "http://127.0.0.1:9/scim",
            "--baseline",
            bad,
            "--require-snapshots",
        ])
        .await;
        assert_eq!(
            run.outcome,
            Outcome::InvalidInput,
            "{bad:?}: {}",
            run.stdout
        );
        assert!(run.stderr.contains("invalid --baseline"), "{}", run.stderr);
        assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
    }
}
