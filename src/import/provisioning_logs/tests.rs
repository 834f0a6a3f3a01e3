use super::*;
use crate::scenario::load::parse_scenario;

fn summary(action: &str, status: &str, props: Value) -> Value {
    json!({
        "id": "ev", "activityDateTime": "2026-01-05T10:00:00Z", "provisioningAction": action,
        "provisioningStatusInfo": {"status": status, "errorInformation": null},
        "sourceIdentity": {"id": "src-1", "displayName": "Ada Lovelace", "identityType": "User",
            "details": {"UserPrincipalName": "ada@example.org"}},
        "targetIdentity": {"id": "", "identityType": "urn:ietf:params:scim:schemas:core:2.0:User"},
        "modifiedProperties": props,
    })
}

fn create_props() -> Value {
    json!([
        {"displayName": "userName", "oldValue": null, "newValue": "ada@example.org"},
        {"displayName": "name.givenName", "oldValue": null, "newValue": "Ada"},
        {"displayName": "title", "oldValue": null, "newValue": "Analyst"},
        {"displayName": "active", "oldValue": null, "newValue": "True"}
    ])
}

fn load(built: &Built) -> crate::scenario::model::Scenario {
    let text = serde_json::to_string_pretty(&built.scenario).unwrap();
    parse_scenario("imported.json", &text, false)
        .unwrap_or_else(|e| panic!("the import does not load: {e}\n{text}"))
}

fn import(text: &str) -> (Parsed, Built) {
    let parsed = parse("log.json", text).unwrap();
    let built = build(
        "logs-t",
        "log.json",
        &parsed,
        &Profile::default_mappings(),
        Dialect::Default,
    );
    (parsed, built)
}

#[test]
fn the_portal_download_is_an_array_and_creates_render_through_the_model() {
    let text = json!([summary("create", "success", create_props())]).to_string();
    let (parsed, built) = import(&text);
    assert_eq!(parsed.shape, Shape::Portal);
    let s = load(&built);
    let ids: Vec<&str> = s.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids[0], "e1-match-ada");
    assert!(ids.contains(&"e1-create-ada"), "{ids:?}");
    let create = s.steps.iter().find(|s| s.id == "e1-create-ada").unwrap();
    let body = create.request.body.as_ref().unwrap();
    assert_eq!(body["userName"], "{{run.prefix}}ada@example.org");
    assert_eq!(body["title"], "Analyst");
    assert_eq!(body["name"]["givenName"], "Ada");
    assert!(
        s.description
            .as_deref()
            .unwrap()
            .contains("reconstructed from provisioning logs")
            || s.description
                .as_deref()
                .unwrap()
                .contains("Reconstructed from provisioning logs")
    );
}

#[test]
fn a_graph_list_is_read_in_time_order_and_updates_disables_and_deletes_follow() {
    let mut update = summary(
        "update",
        "success",
        json!([
        {"displayName": "title", "oldValue": "Analyst", "newValue": "Lead"}]),
    );
    update["activityDateTime"] = json!("2026-01-05T11:00:00Z");
    let mut disable = summary("disable", "success", json!([]));
    disable["activityDateTime"] = json!("2026-01-05T12:00:00Z");
    let mut delete = summary("delete", "success", json!([]));
    delete["activityDateTime"] = json!("2026-01-05T13:00:00Z");
    // Newest first, as Graph lists them.
    let doc = json!({"value": [delete, disable, update, summary("create", "success", create_props())],
        "@odata.nextLink": "https://graph.example/next"});
    let (parsed, built) = import(&doc.to_string());
    assert_eq!(parsed.shape, Shape::Graph);
    assert!(parsed.next_link);
    let s = load(&built);
    let ids: Vec<&str> = s.steps.iter().map(|s| s.id.as_str()).collect();
    let pos = |id: &str| {
        ids.iter()
            .position(|x| *x == id)
            .unwrap_or_else(|| panic!("{id} in {ids:?}"))
    };
    assert!(pos("e1-create-ada") < pos("e2-update-ada"));
    assert!(pos("e2-update-ada") < pos("e3-disable-ada"));
    assert!(pos("e3-disable-ada") < pos("e4-delete-ada"));
    let upd = &s.steps[pos("e2-update-ada")];
    assert_eq!(upd.request.method.to_string(), "PATCH");
    let ops = serde_json::to_string(upd.request.body.as_ref().unwrap()).unwrap();
    assert!(ops.contains("Lead") && ops.contains("Replace"), "{ops}");
    assert!(s.description.unwrap().contains("nextLink"));
}

#[test]
fn azure_monitor_lines_with_numeric_enums_and_a_failure_become_an_expectation_with_the_error() {
    let mut create = summary("create", "success", create_props());
    create["provisioningAction"] = json!(1);
    create["provisioningStatusInfo"] = json!({"Status": 0});
    let mut failed = summary(
        "update",
        "failure",
        json!([
        {"displayName": "title", "oldValue": "Analyst", "newValue": "Lead"}]),
    );
    failed["activityDateTime"] = json!("2026-01-05T11:00:00Z");
    failed["provisioningAction"] = json!(4);
    failed["provisioningStatusInfo"] = json!({"Status": 1, "errorInformation": {
        "errorCode": "SystemForCrossDomainIdentityManagementBadRequest",
        "reason": "The SCIM endpoint answered: {\"detail\":\"op Replace unknown\"}\u{1b}[31m"}});
    let text = format!(
        "{}\n{}\n",
        json!({"time": "t", "category": "ProvisioningLogs", "properties": create}),
        json!({"time": "t", "category": "ProvisioningLogs", "properties": failed})
    );
    let (parsed, built) = import(&text);
    assert_eq!(parsed.shape, Shape::AzureMonitor);
    assert_eq!(parsed.events[1].status, Status::Failure);
    assert_eq!(parsed.events[1].error_status, Some(400));
    let s = load(&built);
    let upd = s.steps.iter().find(|s| s.id == "e2-update-ada").unwrap();
    let note = upd.note.as_deref().unwrap();
    assert!(
        note.contains("refused it with 400") && note.contains("op Replace unknown"),
        "{note}"
    );
    assert!(
        !note.contains('\u{1b}'),
        "control characters stay out of notes"
    );
    assert!(
        upd.expect
            .status_impact
            .as_deref()
            .unwrap()
            .contains("answered 400")
    );
    assert!(
        !upd.expect.status.is_empty(),
        "the rendered success status is expected"
    );
}

#[test]
fn an_update_of_an_object_the_log_never_created_gets_a_synthesized_setup() {
    let text = json!([summary(
        "update",
        "success",
        json!([
        {"displayName": "title", "oldValue": "Analyst", "newValue": "Lead"}])
    )])
    .to_string();
    let (_, built) = import(&text);
    let s = load(&built);
    let setup = s
        .steps
        .iter()
        .find(|s| s.id == "e1-setup-ada")
        .expect("setup step");
    assert!(setup.note.as_deref().unwrap().starts_with("Synthesized"));
    let body = setup.request.body.as_ref().unwrap();
    assert_eq!(body["userName"], "{{run.prefix}}ada@example.org");
    assert_eq!(
        body["title"], "Analyst",
        "the old value is the state before the update"
    );
}

#[test]
fn skipped_events_and_unmapped_properties_are_left_out_with_a_reason() {
    let mut skipped = summary("create", "skipped", json!([]));
    skipped["provisioningSteps"] = json!([{"description": "skipped: name.familyName missing"}]);
    let mut props = create_props();
    props
        .as_array_mut()
        .unwrap()
        .push(json!({"displayName": "nickName", "newValue": "A"}));
    let mut other = summary("create", "success", props);
    other["sourceIdentity"]["id"] = json!("src-2");
    let (_, built) = import(&json!([skipped, other]).to_string());
    let all = built.left_out.join("\n");
    assert!(all.contains("name.familyName missing"), "{all}");
    assert!(all.contains("`nickName` has no attribute mapping"), "{all}");
    load(&built);
}

#[test]
fn hostile_values_are_made_safe() {
    let props = json!([
        {"displayName": "userName", "newValue": "evil/../{{run.token}}\u{7}@x.org"},
        {"displayName": "title", "newValue": "x".repeat(100_000)}
    ]);
    let mut ev = summary("create", "success", props);
    ev["sourceIdentity"]["details"]["UserPrincipalName"] = json!("../../etc/passwd");
    ev["targetIdentity"]["id"] = json!("a/b/../c\u{0}");
    let (_, built) = import(&json!([ev]).to_string());
    let s = load(&built);
    let create = s.steps.iter().find(|s| s.id.contains("create")).unwrap();
    let body = create.request.body.as_ref().unwrap();
    let user_name = body["userName"].as_str().unwrap();
    assert!(!user_name.contains('\u{7}'));
    assert!(
        user_name.starts_with("{{run.prefix}}evil/../{{{{run.token}}"),
        "{user_name}"
    );
    assert!(body["title"].as_str().unwrap().len() <= MAX_VALUE);
    assert!(built.left_out.iter().any(|w| w.contains("cleaned")));
    let text = serde_json::to_string(&built.scenario).unwrap();
    assert!(!text.contains("\\u0000"));
    assert!(is_name(&s.steps[0].id));
}

fn is_name(id: &str) -> bool {
    id.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[test]
fn bad_input_names_the_file_the_place_and_what_was_expected() {
    let err = |t: &str| parse("log.json", t).unwrap_err().to_string();
    assert!(
        err("not json").starts_with("log.json:1:"),
        "{}",
        err("not json")
    );
    let truncated = err("[{\"provisioningAction\": \"create\"");
    assert!(truncated.contains("truncated"), "{truncated}");
    let unknown = err("{\"log\": {\"entries\": []}}");
    assert!(
        unknown.contains("not a provisioning log") && unknown.contains("expected"),
        "{unknown}"
    );
    let mut ev = summary("create", "success", json!([]));
    ev.as_object_mut().unwrap().remove("provisioningStatusInfo");
    let missing = err(&json!({"value": [ev]}).to_string());
    assert!(
        missing.starts_with("log.json: at /value/0/provisioningStatusInfo/status:"),
        "{missing}"
    );
    let line = format!(
        "{}\n{{\"properties\": 3}}\n",
        json!({"properties": summary("create", "success", json!([]))})
    );
    let e = err(&line);
    assert!(e.contains("line 2 /properties"), "{e}");
    let cut = format!(
        "{}\n{{\"properties\": {{\"a\"\n",
        json!({"properties": summary("create", "success", json!([]))})
    );
    let e = err(&cut);
    assert!(e.starts_with("log.json:2:"), "{e}");
    assert!(err("[]").contains("no provisioning events"));
}

#[test]
fn the_dialect_and_a_profile_without_the_attribute_change_the_rendering() {
    let mut u = summary(
        "update",
        "success",
        json!([{"displayName": "title", "oldValue": "Analyst", "newValue": "Lead"}]),
    );
    u["activityDateTime"] = json!("2026-01-05T11:00:00Z");
    let text = json!([summary("create", "success", create_props()), u]).to_string();
    let parsed = parse("log.json", &text).unwrap();
    let built = build(
        "t",
        "log.json",
        &parsed,
        &Profile::default_mappings(),
        Dialect::AadOptscim062020,
    );
    assert_eq!(built.scenario["dialect"], "aadOptscim062020");
    let s = load(&built);
    let upd = s.steps.iter().find(|s| s.id == "e2-update-ada").unwrap();
    let ops = serde_json::to_string(upd.request.body.as_ref().unwrap()).unwrap();
    assert!(ops.contains("\"replace\""), "{ops}");
    let mut p = Profile::default_mappings();
    p.users.remove(&Target::Attr("title".into()));
    let built = build("t", "log.json", &parsed, &p, Dialect::Default);
    assert!(
        built
            .left_out
            .iter()
            .any(|w| w.contains("`title` has no attribute mapping"))
    );
}

#[test]
fn group_creates_and_member_changes_become_group_actions() {
    let user = summary("create", "success", create_props());
    let group = |action: &str, t: &str, props: Value| {
        json!({"activityDateTime": t, "provisioningAction": action,
            "provisioningStatusInfo": {"status": "success"},
            "sourceIdentity": {"id": "grp-1", "displayName": "Ops Team", "identityType": "Group"},
            "targetIdentity": {"id": "g1", "identityType": "urn:ietf:params:scim:schemas:core:2.0:Group"},
            "modifiedProperties": props})
    };
    let doc = json!([
        user,
        group(
            "create",
            "2026-01-05T10:30:00Z",
            json!([{"displayName": "displayName", "newValue": "Ops Team"}])
        ),
        group(
            "update",
            "2026-01-05T10:40:00Z",
            json!([{"displayName": "members", "oldValue": null,
            "newValue": "[\"src-1\", \"stranger\"]"}])
        ),
        group(
            "update",
            "2026-01-05T10:50:00Z",
            json!([{"displayName": "members", "oldValue": "src-1",
            "newValue": ""}])
        ),
    ]);
    let (_, built) = import(&doc.to_string());
    let s = load(&built);
    let ids: Vec<&str> = s.steps.iter().map(|s| s.id.as_str()).collect();
    assert!(ids.contains(&"e2-create-ops-team"), "{ids:?}");
    assert!(ids.contains(&"e3-add-members-ops-team"), "{ids:?}");
    assert!(ids.contains(&"e4-remove-members-ops-team"), "{ids:?}");
    let create = s
        .steps
        .iter()
        .find(|s| s.id == "e2-create-ops-team")
        .unwrap();
    assert_eq!(
        create.request.body.as_ref().unwrap()["displayName"],
        "{{run.prefix}}Ops Team"
    );
    assert!(
        built
            .left_out
            .iter()
            .any(|w| w.contains("`stranger` is not a user"))
    );
}
