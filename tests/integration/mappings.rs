//! Mapping profiles on the command line: `--mappings FILE` on run, show and list, bad
//! profiles (exit 3, nothing sent), `mappings discover` against the reference endpoint and
//! mocks, and the `reject-unknown-attributes` fault that proves a trimmed profile matters.

use crate::support::{TOKEN, TempDir, cli, reference_with};
use scimreplay::exit::Outcome;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A scenario of `entra` steps: a manager and a user with a title, phones, an address and
/// enterprise attributes; create both, link the manager, change the title, disable.
fn scenario() -> Value {
    json!({
        "name": "entra-profile-probe",
        "summary": "Entra provisions a fully populated user",
        "dialect": "default",
        "vars": {"domain": "example.com"},
        "directory": {"users": {
            "boss": {"userPrincipalName": "{{run.prefix}}boss@{{domain}}",
                     "displayName": "Boss", "givenName": "Bo", "surname": "Ss",
                     "mail": "{{run.prefix}}boss@{{domain}}"},
            "alice": {"userPrincipalName": "{{run.prefix}}alice@{{domain}}",
                      "displayName": "Alice Smith", "givenName": "Alice", "surname": "Smith",
                      "mail": "{{run.prefix}}alice@{{domain}}", "mailNickname": "alice",
                      "jobTitle": "Engineer", "department": "R&D", "employeeId": "1001",
                      "telephoneNumber": "+1 555 0100", "mobile": "+1 555 0101",
                      "streetAddress": "1 Main St", "city": "Springfield",
                      "manager": "boss"}
        }},
        "steps": [
            {"id": "boss", "entra": {"action": "create-user", "user": "boss"}, "setup": true},
            {"id": "alice", "entra": {"action": "create-user", "user": "alice"}, "setup": true},
            {"id": "manager", "entra": {"action": "set-manager", "user": "alice"}},
            {"id": "rename", "entra": {"action": "update-user", "user": "alice",
                                       "set": {"displayName": "Alice Jones", "jobTitle": "Lead"}}},
            {"id": "disable", "entra": {"action": "disable-user", "user": "alice"}}
        ]
    })
}

/// Entra's defaults without title, the phone numbers, the addresses and the enterprise
/// extension: what an admin leaves for an endpoint that does not support them.
fn trimmed_profile() -> Value {
    json!({
        "name": "trimmed",
        "users": {
            "mappings": [
                {"source": "userPrincipalName", "target": "userName"},
                {"expression": "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")",
                 "target": "active"},
                {"source": "displayName", "target": "displayName"},
                {"source": "givenName", "target": "name.givenName"},
                {"source": "surname", "target": "name.familyName"},
                {"source": "mail", "target": "emails[type eq \"work\"].value"},
                {"source": "mailNickname", "target": "externalId"}
            ],
            "matching": ["userName"]
        },
        "groups": {
            "mappings": [
                {"source": "displayName", "target": "displayName"},
                {"source": "objectId", "target": "externalId"},
                {"source": "members", "target": "members"}
            ],
            "matching": ["displayName"]
        }
    })
}

struct Files {
    dir: TempDir,
    scenario: String,
    profile: String,
}

fn files(profile: &Value) -> Files {
    let dir = TempDir::new("mappings");
    let scenario = dir
        .write(
            "scenario.json",
            &serde_json::to_string_pretty(&scenario()).unwrap(),
        )
        .to_string_lossy()
        .into_owned();
    let profile = dir
        .write(
            "profile.json",
            &serde_json::to_string_pretty(profile).unwrap(),
        )
        .to_string_lossy()
        .into_owned();
    Files {
        dir,
        scenario,
        profile,
    }
}

/// `run` of the scenario file against `base`, with `extra` flags; the JSON report.
async fn run(f: &Files, base: &str, extra: &[&str]) -> (crate::support::CliRun, Value) {
    let report = f.dir.path().join("report.json");
    let state = f.dir.path().join("state");
    let mut args = vec![
        "run",
        "--target",
        base,
        "--no-builtin",
        "--scenarios",
        &f.scenario,
        "--no-snapshots",
        "--color",
        "never",
        "--timeout",
        "10",
    ];
    let report_s = report.to_string_lossy().into_owned();
    let state_s = state.to_string_lossy().into_owned();
    args.extend(["--json", &report_s, "--state-dir", &state_s]);
    args.extend_from_slice(extra);
    let run = cli(&args).await;
    let json = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (run, json)
}

fn status_of(report: &Value, step: &str) -> String {
    report["scenarios"][0]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"] == step)
        .map(|s| s["status"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// The scenario without its set-manager step, which the trimmed profile cannot render.
fn without_manager(f: &Files) {
    let mut s = scenario();
    s["steps"]
        .as_array_mut()
        .unwrap()
        .retain(|st| st["id"] != "manager");
    std::fs::write(&f.scenario, s.to_string()).unwrap();
}

#[tokio::test]
async fn show_renders_entra_steps_for_the_active_profile() {
    let f = files(&trimmed_profile());
    without_manager(&f);
    let default = cli(&[
        "show",
        "entra-profile-probe",
        "--no-builtin",
        "--scenarios",
        &f.scenario,
    ])
    .await;
    assert_eq!(default.outcome, Outcome::Passed, "{}", default.stderr);
    for present in [
        "\"title\"",
        "phoneNumbers",
        "addresses",
        ENT,
        "mappings: default",
    ] {
        assert!(
            default.stdout.contains(present),
            "default profile sends {present}:\n{}",
            default.stdout
        );
    }
    let trimmed = cli(&[
        "show",
        "entra-profile-probe",
        "--no-builtin",
        "--scenarios",
        &f.scenario,
        "--mappings",
        &f.profile,
    ])
    .await;
    assert_eq!(trimmed.outcome, Outcome::Passed, "{}", trimmed.stderr);
    assert!(
        trimmed.stdout.contains("mappings: trimmed"),
        "{}",
        trimmed.stdout
    );
    for absent in [
        "title",
        "phoneNumbers",
        "addresses",
        ENT,
        "Engineer",
        "Lead",
    ] {
        assert!(
            !trimmed.stdout.contains(absent),
            "the trimmed profile does not send {absent}:\n{}",
            trimmed.stdout
        );
    }
    // What it still maps is still sent.
    for present in ["\"userName\"", "Alice Jones", "givenName"] {
        assert!(
            trimmed.stdout.contains(present),
            "{present}:\n{}",
            trimmed.stdout
        );
    }
}

#[tokio::test]
async fn a_scenario_the_profile_cannot_render_is_left_out_with_a_note() {
    // set-manager needs the manager mapping, which the trimmed profile does not have.
    let f = files(&trimmed_profile());
    let listed = cli(&[
        "list",
        "--no-builtin",
        "--scenarios",
        &f.scenario,
        "--mappings",
        &f.profile,
    ])
    .await;
    assert_eq!(listed.outcome, Outcome::InvalidInput, "{}", listed.stdout);
    assert!(
        listed
            .stderr
            .contains("no selected scenario applies to the mapping profile")
            && listed.stderr.contains("entra-profile-probe")
            && listed.stderr.contains("step `manager`"),
        "{}",
        listed.stderr
    );
}

#[tokio::test]
async fn the_default_create_fails_against_an_endpoint_that_rejects_unknown_attributes_and_a_trimmed_profile_passes()
 {
    let server = reference_with("reject-unknown-attributes").await;
    let base = server.base_url();
    let f = files(&trimmed_profile());
    without_manager(&f);

    let (default, report) = run(&f, &base, &[]).await;
    assert_eq!(default.outcome, Outcome::ChecksFailed, "{}", default.stdout);
    assert_eq!(status_of(&report, "alice"), "failed", "{}", default.stdout);
    assert!(
        default
            .stdout
            .contains("is not in this endpoint's /Schemas"),
        "the 400's detail is shown:\n{}",
        default.stdout
    );

    let (trimmed, report) = run(&f, &base, &["--mappings", &f.profile]).await;
    assert_eq!(trimmed.outcome, Outcome::Passed, "{}", trimmed.stdout);
    assert_eq!(status_of(&report, "alice"), "passed");
    assert_eq!(report["mappings"]["profile"], "trimmed");
    assert_eq!(report["summary"]["failed"], 0);
    server.shutdown().await;
}

#[tokio::test]
async fn discover_against_the_narrow_reference_drops_what_it_does_not_publish() {
    let server = reference_with("reject-unknown-attributes").await;
    let base = server.base_url();
    let f = files(&trimmed_profile());
    let out = f.dir.path().join("discovered.json");
    let out_s = out.to_string_lossy().into_owned();
    let run_d = cli(&["mappings", "discover", "--target", &base, "--out", &out_s]).await;
    assert_eq!(run_d.outcome, Outcome::Passed, "{}", run_d.stderr);
    assert!(
        run_d.stderr.contains(
            "note: `title` is not in your /Schemas (urn:ietf:params:scim:schemas:core:2.0:User \
             lists no `title`): Entra's default mapping sends it on every create where \
             `jobTitle` has a value; remove the mapping in Entra or accept the attribute"
        ),
        "{}",
        run_d.stderr
    );
    assert!(
        run_d
            .stderr
            .contains(&format!("`{ENT}:department` is not in your /Schemas"))
    );
    assert!(
        run_d
            .stdout
            .contains("13 default mappings dropped; 7 user and 3 group mappings kept"),
        "{}",
        run_d.stdout
    );
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let text = written.to_string();
    for absent in ["title", "phoneNumbers", "addresses", "enterprise"] {
        assert!(!text.contains(absent), "{absent} dropped: {text}");
    }
    assert_eq!(written["name"], "discovered");

    // The written profile is valid input for run, and the run is green against the endpoint.
    without_manager(&f);
    let (with_file, _) = run(&f, &base, &["--mappings", &out_s]).await;
    assert_eq!(with_file.outcome, Outcome::Passed, "{}", with_file.stdout);

    // `run --mappings discover` does both in one go, the drops as notes and in the report.
    let (one_go, report) = run(&f, &base, &["--mappings", "discover"]).await;
    assert_eq!(one_go.outcome, Outcome::Passed, "{}", one_go.stdout);
    assert!(
        one_go
            .stdout
            .contains("note: mappings: `title` is not in your /Schemas"),
        "{}",
        one_go.stdout
    );
    assert_eq!(report["mappings"]["profile"], "discovered");
    assert_eq!(report["mappings"]["notes"].as_array().unwrap().len(), 13);
    server.shutdown().await;
}

#[tokio::test]
async fn discover_against_the_full_reference_keeps_every_default() {
    let server = reference_with("").await;
    let run_d = cli(&["mappings", "discover", "--target", &server.base_url()]).await;
    assert_eq!(run_d.outcome, Outcome::Passed, "{}", run_d.stderr);
    assert!(
        run_d
            .stderr
            .contains("0 default mappings dropped; 20 user and 3 group mappings kept"),
        "{}",
        run_d.stderr
    );
    let printed: Value = serde_json::from_str(&run_d.stdout).expect("the profile on stdout");
    assert!(printed.to_string().contains("phoneNumbers"));
    // And run --mappings discover against the built-in endpoint: no drop, the whole file green.
    let f = files(&trimmed_profile());
    let (builtin, report) = {
        let report = f.dir.path().join("r.json");
        let r = report.to_string_lossy().into_owned();
        let run = cli(&[
            "run",
            "--no-builtin",
            "--scenarios",
            &f.scenario,
            "--no-snapshots",
            "--mappings",
            "discover",
            "--json",
            &r,
            "--color",
            "never",
        ])
        .await;
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        (run, json)
    };
    assert_eq!(builtin.outcome, Outcome::Passed, "{}", builtin.stdout);
    assert_eq!(report["mappings"]["notes"], json!([]));
    server.shutdown().await;
}

#[tokio::test]
async fn discover_without_discovery_keeps_the_defaults_with_a_note() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no"))
        .mount(&server)
        .await;
    let run_d = cli(&["mappings", "discover", "--target", &server.uri()]).await;
    assert_eq!(run_d.outcome, Outcome::Passed, "{}", run_d.stderr);
    assert!(
        run_d.stderr.contains(
            "note: no usable /Schemas (GET /Schemas answered 404): keeping Entra's default mappings"
        ),
        "{}",
        run_d.stderr
    );
    let printed: Value = serde_json::from_str(&run_d.stdout).unwrap();
    assert_eq!(printed["name"], "default");
}

#[tokio::test]
async fn discover_with_a_refused_token_is_exit_6_and_names_the_variable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/Schemas"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let run_d = cli(&["mappings", "discover", "--target", &server.uri()]).await;
    assert_eq!(
        run_d.outcome,
        Outcome::CredentialsRejected,
        "{}",
        run_d.stderr
    );
    assert!(
        run_d.stderr.contains("$SCIMREPLAY_TOKEN was rejected"),
        "{}",
        run_d.stderr
    );
    assert!(!run_d.stderr.contains(TOKEN) && !run_d.stdout.contains(TOKEN));
}

/// A profile whose user set is `mappings` (as JSON text) with `matching`.
fn profile_text(mappings: &str, matching: &str) -> String {
    format!(
        "{{\n  \"users\": {{\n    \"mappings\": [\n{mappings}\n    ],\n    \"matching\": [{matching}]\n  }},\n  \
         \"groups\": {{\"mappings\": [{{\"source\": \"displayName\", \"target\": \"displayName\"}}], \
         \"matching\": [\"displayName\"]}}\n}}\n"
    )
}

const UPN: &str = r#"      {"source": "userPrincipalName", "target": "userName"},"#;

#[tokio::test]
async fn bad_profiles_are_exit_3_located_with_a_hint_and_nothing_is_sent() {
    let server = MockServer::start().await;
    let cases = [
        (
            "unknown-target",
            profile_text(
                &format!("{UPN}\n      {{\"source\": \"jobTitle\", \"target\": \"titel\"}}"),
                "\"userName\"",
            ),
            ":5:40",
            "unknown target attribute `titel`",
            "did you mean `title`?",
        ),
        (
            "matching-unmapped",
            profile_text(
                &format!(
                    "{UPN}\n      {{\"source\": \"mail\", \"target\": \"emails[type eq \\\"work\\\"].value\"}}"
                ),
                "\"userName\", \"externalId\"",
            ),
            ":7:30",
            "matching attribute `externalId` is not mapped",
            "a matching attribute must be the target of one of the mappings",
        ),
        (
            "two-to-one",
            profile_text(
                &format!("{UPN}\n      {{\"source\": \"mail\", \"target\": \"userName\"}}"),
                "\"userName\"",
            ),
            ":5:36",
            "two mappings to `userName`",
            "Entra allows one mapping per target attribute",
        ),
        (
            "complex-extension",
            profile_text(
                &format!(
                    "{UPN}\n      {{\"source\": \"extension_badge\", \"target\": \"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:badge.id\"}}"
                ),
                "\"userName\"",
            ),
            ":5:47",
            "extension attribute `badge.id` is complex",
            "Entra supports only simple",
        ),
        (
            "multi-valued-extension",
            profile_text(
                &format!(
                    "{UPN}\n      {{\"source\": \"extension_tags\", \"target\": \"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:tags[type eq \\\"a\\\"].value\"}}"
                ),
                "\"userName\"",
            ),
            ":5:46",
            "is multi-valued",
            "only single-valued custom extension attributes",
        ),
    ];
    let dir = TempDir::new("bad-profile");
    let scenario = dir.write("s.json", &scenario().to_string());
    let scenario = scenario.to_str().unwrap();
    let uri = server.uri();
    for (name, text, place, message, hint) in cases {
        let file = dir.write(&format!("{name}.json"), &text);
        let file = file.to_str().unwrap();
        let check = cli(&["mappings", "check", file]).await;
        assert_eq!(check.outcome, Outcome::InvalidInput, "{name} check");
        assert!(
            check.stderr.contains(message),
            "{name} check: {}",
            check.stderr
        );
        for command in ["run", "show", "list"] {
            let mut args = vec![command];
            match command {
                "run" => args.extend(["--target", uri.as_str()]),
                "show" => args.push("entra-profile-probe"),
                _ => {}
            }
            args.extend(["--no-builtin", "--scenarios", scenario, "--mappings", file]);
            let r = cli(&args).await;
            assert_eq!(
                r.outcome,
                Outcome::InvalidInput,
                "{name} {command}: {}",
                r.stderr
            );
            assert!(
                r.stderr.contains(&format!("{file}{place}")) && r.stderr.contains(message),
                "{name} {command}: file, place and message:\n{}",
                r.stderr
            );
            assert!(
                r.stderr.contains(hint),
                "{name} {command}: the hint:\n{}",
                r.stderr
            );
        }
    }
    let missing = cli(&[
        "run",
        "--target",
        &server.uri(),
        "--mappings",
        "/nonexistent/p.json",
    ])
    .await;
    assert_eq!(missing.outcome, Outcome::InvalidInput);
    assert!(
        missing.stderr.contains("/nonexistent/p.json")
            && missing.stderr.contains("failed to read mapping profile"),
        "{}",
        missing.stderr
    );
    let discover_show = cli(&["show", "x", "--mappings", "discover"]).await;
    assert_eq!(discover_show.outcome, Outcome::InvalidInput);
    assert!(
        discover_show.stderr.contains("needs an endpoint"),
        "{}",
        discover_show.stderr
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing was sent"
    );
}

/// The whole catalogue with `--mappings discover` against an endpoint that publishes no
/// `title`, phone numbers, addresses or enterprise extension and refuses them: green. Entra
/// steps render without them, and raw scenarios that send one are left out with a note
/// naming the step and the attribute (Entra would not send it for this profile).
#[tokio::test]
async fn the_catalogue_with_a_discovered_profile_is_green_against_an_endpoint_refusing_unpublished_attributes()
 {
    let server = reference_with("reject-unknown-attributes").await;
    let dir = TempDir::new("mappings-catalogue");
    let report = dir.path().join("r.json");
    let state = dir.path().join("state");
    let (r, s) = (
        report.to_string_lossy().into_owned(),
        state.to_string_lossy().into_owned(),
    );
    let base = server.base_url();
    let run = cli(&[
        "run",
        "--target",
        &base,
        "--mappings",
        "discover",
        "--no-snapshots",
        "--json",
        &r,
        "--state-dir",
        &s,
        "--color",
        "never",
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stdout);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let notes = json["mappings"]["notes"].to_string();
    assert!(
        notes.contains("`update-profile` sends `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`")
            || notes.contains("sends `title`"),
        "{notes}"
    );
    assert!(
        json["summary"]["failed"].as_u64().unwrap_or(0) == 0,
        "{}",
        json["summary"]
    );
    server.shutdown().await;
}

/// The checks of `discovery-endpoints` that did not pass, as `step: expected`.
fn discovery_misses(report: &Value) -> Vec<String> {
    let steps = report["scenarios"][0]["steps"].as_array().cloned();
    let mut out = Vec::new();
    for step in steps.into_iter().flatten() {
        for c in step["checks"].as_array().into_iter().flatten() {
            if c["passed"] != true {
                let (id, expected) = (step["id"].as_str(), c["expected"].as_str());
                out.push(format!("{}: {}", id.unwrap_or(""), expected.unwrap_or("")));
            }
        }
    }
    out
}

/// `run -s discovery-endpoints` against `base` with `extra` flags; the JSON report.
async fn run_discovery(f: &Files, base: &str, extra: &[&str]) -> (crate::support::CliRun, Value) {
    let report = f.dir.path().join("discovery.json");
    let state = f.dir.path().join("state");
    let (r, st) = (
        report.to_string_lossy().into_owned(),
        state.to_string_lossy().into_owned(),
    );
    let mut args = vec![
        "run",
        "--target",
        base,
        "-s",
        "discovery-endpoints",
        "--no-snapshots",
        "--color",
        "never",
        "--json",
        &r,
        "--state-dir",
        &st,
    ];
    args.extend_from_slice(extra);
    let run = cli(&args).await;
    let json = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    (run, json)
}

/// `/Schemas` must publish what the profile maps into: the narrow endpoint (no enterprise
/// extension) passes discovery for the trimmed profile, which maps nothing into it, and
/// misses exactly the enterprise schema for Entra's defaults, which map three attributes
/// into it.
#[tokio::test]
async fn discovery_requires_the_schemas_the_profile_maps_into() {
    let server = reference_with("reject-unknown-attributes").await;
    let base = server.base_url();
    let f = files(&trimmed_profile());
    let (trimmed, report) = run_discovery(&f, &base, &["--mappings", &f.profile]).await;
    assert_eq!(trimmed.outcome, Outcome::Passed, "{}", trimmed.stdout);
    assert_eq!(discovery_misses(&report), Vec::<String>::new());
    assert_eq!(report["summary"]["warned"], 0, "{}", report["summary"]);

    let (default, report) = run_discovery(&f, &base, &[]).await;
    assert_eq!(
        discovery_misses(&report),
        vec![format!(
            "schemas: an array with an element matching {{\"id\":\"{ENT}\"}}"
        )],
        "{}",
        default.stdout
    );
    assert_eq!(report["summary"]["warned"], 1, "{}", report["summary"]);
    server.shutdown().await;
}
