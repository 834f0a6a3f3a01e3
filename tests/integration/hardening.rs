//! Hardening against planted ledgers, hostile ids and echoed secrets (issue 10).

use crate::support::{TempDir, cli, planted_ledger, run_scenario, step_status};
use scimreplay::exit::Outcome;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

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

/// A token with characters that every encoding changes: `/`, `+`, `=` and non-ASCII.
const ODD_TOKEN: &str = "tok/en+Sé=crét-5f1d2c9a";

/// Every way the tests expect the token could leak: raw, JSON-escaped, percent-encoded, base64.
fn leaked_forms() -> Vec<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(ODD_TOKEN);
    vec![
        ODD_TOKEN.to_string(),
        ODD_TOKEN.replace('/', "\\/"),
        "tok%2Fen%2BS%C3%A9%3Dcr%C3%A9t".to_string(),
        "\\u0074\\u006f\\u006b".to_string(),
        b64[..b64.len() - 4].to_string(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_echoed_in_any_encoding_reaches_no_output() {
    use base64::Engine;
    let server = MockServer::start().await;
    let echo = |req: &wiremock::Request| {
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        // As PHP's json_encode writes it: `\/` and `\uXXXX` for everything non-ASCII.
        let php: String = serde_json::to_string(&auth)
            .unwrap()
            .replace('/', "\\/")
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    format!("\\u{:04x}", c as u32)
                }
            })
            .collect();
        let unicode: String = auth
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        let percent: String = auth.bytes().map(|b| format!("%{b:02x}")).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&auth);
        let body = format!(
            r#"{{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                "detail": {php}, "echo": "{unicode}", "seen": "{percent}", "blob": "{b64}"}}"#
        );
        ResponseTemplate::new(400)
            .insert_header(
                "Location",
                format!("https://h/scim/Users/{percent}").as_str(),
            )
            .insert_header("X-Echo", b64.as_str())
            .set_body_raw(body, "application/scim+json")
    };
    Mock::given(wiremock::matchers::any())
        .respond_with(echo)
        .mount(&server)
        .await;
    let dir = TempDir::new("encoded-echo");
    let file = dir.write(
        "s.json",
        &json!({"name": "echo", "summary": "echoes", "dialect": "any",
        "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users"},
                   "expect": {"status": 200}}]})
        .to_string(),
    );
    let out = dir.path().join("out");
    let (json_path, junit, md, snaps) = (
        out.join("r.json"),
        out.join("r.xml"),
        out.join("r.md"),
        out.join("snaps"),
    );
    std::fs::create_dir_all(&out).unwrap();
    let run = crate::support::cli_env(
        &[
            "run",
            "--target",
            &server.uri(),
            "--no-builtin",
            "--scenarios",
            file.to_str().unwrap(),
            "--json",
            json_path.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
            "--html",
            out.join("r.html").to_str().unwrap(),
            "--snapshot-dir",
            snaps.to_str().unwrap(),
            "--state-dir",
            out.join("state").to_str().unwrap(),
            "--verbose",
        ],
        &[("SCIMREPLAY_TOKEN", ODD_TOKEN)],
    )
    .await;
    assert_eq!(run.outcome, Outcome::ChecksFailed, "{}", run.stdout);
    let mut outputs = vec![(
        "terminal".to_string(),
        format!("{}{}", run.stdout, run.stderr),
    )];
    for f in crate::support::files_under(&out) {
        outputs.push((
            f.display().to_string(),
            std::fs::read_to_string(&f).unwrap_or_default(),
        ));
    }
    assert!(
        outputs
            .iter()
            .any(|(n, _)| n.ends_with(".snap") || n.ends_with(".snap.new"))
    );
    assert!(
        outputs
            .iter()
            .any(|(n, text)| n.ends_with("r.html") && text.contains("[redacted]")),
        "the HTML report shows the echo, redacted"
    );
    for (name, text) in &outputs {
        for form in leaked_forms() {
            assert!(!text.contains(&form), "{name} holds {form}:\n{text}");
        }
    }
    assert!(run.stdout.contains("[redacted]"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_from_an_endpoint_reach_no_reader_raw() {
    let osc52 = "\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}";
    let forged = "\r\u{1b}[2K  PASS  everything › fine";
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(500)
                // Header values cannot carry C0 controls, but UTF-8 C1 and bidi marks pass.
                .insert_header("Content-Type", "text/html; x=\u{9b}2J\u{202e}")
                .insert_header("Location", "/Users/\u{9b}2J\u{202e}")
                .set_body_raw(
                    format!("<html>{osc52}\u{1b}[2J\u{1b}c{forged}\u{9b}2J\u{202e}</html>"),
                    "text/html; x=\u{9b}2J\u{202e}",
                ),
        )
        .mount(&server)
        .await;
    let dir = TempDir::new("injection");
    let file = dir.write(
        "s.json",
        &json!({"name": "inject", "summary": "hostile text", "dialect": "any",
        "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users"},
                   "expect": {"status": 200}},
                  {"id": "json", "request": {"method": "GET", "path": "/Groups"},
                   "expect": {"status": 200}}]})
        .to_string(),
    );
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let md = out.join("r.md");
    let junit = out.join("r.xml");
    let snaps = out.join("snaps");
    let run = crate::support::run_file(
        &server.uri(),
        file.to_str().unwrap(),
        &[
            "--markdown",
            md.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--html",
            out.join("r.html").to_str().unwrap(),
            "--snapshot-dir",
            snaps.to_str().unwrap(),
            "--state-dir",
            out.join("state").to_str().unwrap(),
            "--verbose",
            "--color",
            "never",
        ],
    )
    .await;
    assert_eq!(
        run.outcome,
        Outcome::ChecksFailed,
        "{}{}",
        run.stdout,
        run.stderr
    );
    let mut outputs = vec![(
        "terminal".to_string(),
        format!("{}{}", run.stdout, run.stderr),
    )];
    for f in crate::support::files_under(&out) {
        if f.extension().is_some_and(|e| e == "jsonl") {
            continue; // the ledger is data, not something a person reads
        }
        outputs.push((
            f.display().to_string(),
            std::fs::read_to_string(&f).unwrap_or_default(),
        ));
    }
    assert!(
        outputs.iter().any(|(n, _)| n.contains(".snap")),
        "{outputs:?}"
    );
    assert!(outputs.iter().any(|(n, _)| n.ends_with("r.html")));
    for (name, text) in &outputs {
        for bad in ['\u{1b}', '\u{7}', '\r', '\u{9b}', '\u{202e}'] {
            assert!(!text.contains(bad), "{name} holds {bad:?}:\n{text:?}");
        }
    }
    assert!(
        run.stdout.contains("\\u{1b}]52;c;"),
        "shown as an escape: {}",
        run.stdout
    );
}
