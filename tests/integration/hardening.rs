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

#[tokio::test]
async fn record_and_import_refuse_an_invalid_baseline_name_before_any_work() {
    let dir = TempDir::new("baseline-record");
    let out = dir.path().join("out.json");
    let snaps = dir.path().join("snaps");
    let har = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/provisioning.har");
    for bad in ["../..", "a/b", ".hidden", "x\u{1b}[2J"] {
        let common = [
            "--out",
            out.to_str().unwrap(),
            "--snapshot-dir",
            snaps.to_str().unwrap(),
            "--baseline",
            bad,
        ];
        // A recorder that started would listen until stopped: the check must come first.
        let record = [
            &[
                "record",
                "--upstream",
                "http://127.0.0.1:9/scim",
                "--listen",
                "127.0.0.1:0",
            ][..],
            &common[..],
        ]
        .concat();
        let import = [&["import", "har", har.to_str().unwrap()][..], &common[..]].concat();
        for args in [record, import] {
            let run = tokio::time::timeout(std::time::Duration::from_secs(20), cli(&args))
                .await
                .unwrap_or_else(|_| panic!("{args:?} did not stop at the bad baseline"));
            assert_eq!(
                run.outcome,
                Outcome::InvalidInput,
                "{args:?}: {}",
                run.stdout
            );
            assert!(
                run.stderr.contains("invalid --baseline `"),
                "{args:?}: {}",
                run.stderr
            );
            assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
        }
        assert!(!out.exists(), "nothing is written for {bad:?}");
        assert!(!snaps.exists(), "no baseline folder for {bad:?}");
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

/// The `file::test_name` references in a document's tables.
fn test_references(doc: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for cell in doc.split('`').skip(1).step_by(2) {
        let Some((file, name)) = cell.rsplit_once("::") else {
            continue;
        };
        if file.ends_with(".rs") && (file.starts_with("src/") || file.starts_with("tests/")) {
            found.push((file.to_string(), name.to_string()));
        }
    }
    found
}

/// True when `source` defines `fn name(` right under a `#[test]` or `#[tokio::test…]`.
fn defines_test(source: &str, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    lines.iter().enumerate().any(|(i, line)| {
        let line = line.trim_start();
        let defined = [format!("fn {name}("), format!("async fn {name}(")]
            .iter()
            .any(|d| line.starts_with(d.as_str()));
        defined
            && lines[i.saturating_sub(3)..i]
                .iter()
                .any(|l| l.trim_start().starts_with("#[test]") || l.contains("#[tokio::test"))
    })
}

#[test]
fn the_hardening_table_names_tests_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/hardening.md")).unwrap();
    let references = test_references(&doc);
    let mut missing = Vec::new();
    for (file, name) in &references {
        let source = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        if !defines_test(&source, name) {
            missing.push(format!("{file}::{name}"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/hardening.md names no such tests: {missing:?}"
    );
    // Every item of the issue has a row with at least one test in it.
    for item in 1..=18 {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {item} |")))
            .unwrap_or_else(|| panic!("no row for item {item}"));
        assert!(
            !test_references(row).is_empty(),
            "item {item} names no test"
        );
    }
    // The check itself tells a test from something that is not one.
    assert!(defines_test("#[test]\nfn a() {}\n", "a"));
    assert!(!defines_test("fn a() {}\n", "a"));
    assert!(!defines_test("#[test]\nfn ab() {}\n", "a"));
}

/// Every `.rs` file under `dir`, as (path relative to the crate, text).
fn sources(dir: &str) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<(String, String)> = crate::support::files_under(&root.join(dir))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let shown = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            (shown, text)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn one_implementation_of_each_shared_helper() {
    let mut files = sources("src");
    files.extend(sources("tests"));
    // This file names every pattern it looks for.
    files.retain(|(path, _)| path != "tests/integration/hardening.rs");
    assert!(files.len() > 100);
    let holding = |what: &dyn Fn(&str) -> bool| -> Vec<String> {
        files
            .iter()
            .filter(|(_, text)| text.lines().any(what))
            .map(|(path, _)| path.clone())
            .collect()
    };
    // Atomic writes: a temp file persisted over the target, in one place.
    assert_eq!(
        holding(&|l| l.contains(".persist(") && !l.trim_start().starts_with("//")),
        ["src/atomic_file.rs"]
    );
    // Dates: the days ↔ civil date conversion is written once.
    assert_eq!(
        holding(&|l| l.contains("fn civil_from_days") || l.contains("fn days_from_civil")),
        ["src/civil.rs"]
    );
    assert_eq!(
        holding(&|l| l.contains("146_097") || l.contains("146097")),
        ["src/civil.rs"]
    );
    // Edit distance: strsim's, never a hand-written one.
    let hand_written = holding(&|l| {
        [
            "fn levenshtein",
            "fn edit_distance",
            "fn osa_distance",
            "fn damerau",
        ]
        .iter()
        .any(|f| l.contains(f))
    });
    assert!(hand_written.is_empty(), "{hand_written:?}");
    // Scratch folders come from tempfile, not from the temp dir joined with a made-up name.
    let hand_made = holding(&|l| {
        l.contains("temp_dir()") && (l.contains("format!") || l.contains("create_dir"))
    });
    assert!(hand_made.is_empty(), "{hand_made:?}");
    // Cleanup and the sweep delete through one function: no DELETE is built in the CLI.
    let deletes = holding(&|l| l.contains("Method::Delete"));
    assert!(
        deletes.iter().all(|p| !p.starts_with("src/cli/")),
        "{deletes:?}"
    );
    assert!(deletes.contains(&"src/run/cleanup.rs".to_string()));
}
