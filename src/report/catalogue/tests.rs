use super::*;
use crate::scenario::load::parse_scenario;

fn scenario(source: &str) -> Scenario {
    match parse_scenario("scenarios/users/t.json", source, true) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

const DISABLE: &str = r#"{
  "name": "user-disable-default",
  "summary": "disable",
  "behaviours": ["11.18"],
  "dialect": "default",
  "vars": {"domain": "example.com"},
  "steps": [
    {"id": "create", "note": "setup: the user",
     "request": {"method": "POST", "path": "/Users",
       "body": {"userName": "{{run.prefix}}alice@{{domain}}", "externalId": "{{uuid.a}}"}},
     "expect": {"status": 201, "status_impact": "create fails"},
     "capture": {"alice_id": "/id"}},
    {"id": "disable", "note": "U6",
     "request": {"method": "PATCH", "path": "/Users/{{alice_id}}",
       "body": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}},
     "expect": {"status": [200, 204], "status_impact": "Entra logs the Update as failed"}},
    {"id": "read", "note": "verify: read back",
     "request": {"method": "GET", "path": "/Users",
       "query": {"filter": "userName eq \"{{run.prefix}}alice@{{domain}}\""}},
     "expect": {"status": 200, "checks": ["scim.list-response", "entra.single-match"],
       "json": [
         {"pointer": "/Resources/0/active", "equals": false, "impact": "the user stays active"},
         {"pointer": "/Resources/0/title", "absent": true, "severity": "warn", "impact": "w"}
       ]}}
  ]
}"#;

#[test]
fn display_fills_variables_and_names_captures_and_guids() {
    let vars = BTreeMap::from([("domain".to_string(), "example.com".to_string())]);
    assert_eq!(
        display(
            "{{run.prefix}}a@{{domain}} {{alice_id}} {{uuid.x}} {{ uuid }} {{run.base}}/Users",
            &vars
        ),
        "a@example.com {alice_id} <guid> <guid> {base}/Users"
    );
    // A cut template is left as it is.
    assert_eq!(display("x {{alic…", &vars), "x {{alic…");
}

#[test]
fn a_row_shows_entra_requests_answers_and_symptoms() {
    let doc = markdown(&[scenario(DISABLE)]);
    let row = doc
        .lines()
        .find(|l| l.starts_with("| `user-disable-default`"))
        .unwrap_or_default();
    assert_eq!(
        row,
        "| `user-disable-default` | default \
         | `PATCH /Users/{alice_id}: Replace active \"False\"` \
         | 200/204<br>checks: `entra.single-match`<br>reads back: `/Resources/0/active equals false` \
         | Entra logs the Update as failed; or the user stays active |"
    );
}

#[test]
fn queries_and_long_values_are_shown_compactly() {
    let s = scenario(DISABLE);
    let vars = &s.vars;
    assert_eq!(
        request_line(&s.steps[2], vars),
        "`GET /Users?filter=userName eq \"alice@example.com\"`"
    );
    let ops = patch_ops(Some(&serde_json::json!({"Operations": [
        {"op": "replace", "value": {"displayName": "a".repeat(80)}},
        {"op": "Remove", "path": "members"}
    ]})));
    assert_eq!(ops.len(), 2);
    assert!(ops[0].starts_with("replace {\"displayName\":\"aaa") && ops[0].ends_with('…'));
    assert_eq!(ops[1], "Remove members");
}

#[test]
fn cells_stay_on_one_line_with_pipes_escaped() {
    assert_eq!(cell("a | b\nc"), "a \\| b c");
}

#[test]
fn behaviours_are_numbered_1_to_58_and_uncovered_ones_say_why() {
    let numbers: Vec<u32> = BEHAVIOURS.iter().map(|b| b.number).collect();
    assert_eq!(numbers, (1..=58).collect::<Vec<_>>());
    let doc = markdown(&[scenario(DISABLE)]);
    let row = |n: u32| {
        doc.lines()
            .find(|l| l.starts_with(&format!("| {n} | ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        row(18).contains("`user-disable-default` (default)"),
        "{}",
        row(18)
    );
    assert!(row(52).contains("**Declined.** Needs an endpoint that rate-limits"));
    // Nothing replays item 3 in this one-scenario catalogue, and it has no reason to give.
    assert!(
        row(3).ends_with("| — | **No scenario replays this.** |"),
        "{}",
        row(3)
    );
}

#[test]
fn behaviour_references_parse() {
    assert_eq!(behaviour_number("11.18"), Some(18));
    assert_eq!(behaviour_number("5.2"), None);
    assert_eq!(behaviour_number("11.x"), None);
}
