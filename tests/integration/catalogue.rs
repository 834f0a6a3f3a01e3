//! The built-in catalogue against its own rules and its document.
//!
//! `docs/catalogue.md` is generated from the scenarios (`scimreplay list --markdown`); these
//! tests keep it current, hold the fact sheet's §11 to being covered or declined item by
//! item, and hold every built-in scenario to the conventions the catalogue promises
//! (prefixed creates, writes only to objects the scenario created, an Entra impact on every
//! assertion).

use scimreplay::report::catalogue::{BEHAVIOURS, behaviour_number, markdown};
use scimreplay::scenario::builtin::load_builtin;
use scimreplay::scenario::model::{CaptureSource, Method, Scenario};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const DOC: &str = include_str!("../../docs/catalogue.md");

fn catalogue() -> Vec<Scenario> {
    match load_builtin() {
        Ok(s) => s,
        Err(e) => panic!("the built-in catalogue has errors:\n{e}"),
    }
}

#[test]
fn the_catalogue_doc_is_generated_from_the_scenarios() {
    let generated = markdown(&catalogue());
    if generated != DOC {
        let diff = similar::TextDiff::from_lines(DOC, &generated)
            .unified_diff()
            .header("docs/catalogue.md", "generated")
            .to_string();
        panic!(
            "docs/catalogue.md is out of date; regenerate it with\n  \
             cargo run -- list --markdown > docs/catalogue.md\n{diff}"
        );
    }
}

#[test]
fn every_fact_sheet_behaviour_is_covered_or_declined() {
    let mut claimed: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for s in catalogue() {
        for b in &s.behaviours {
            let n = behaviour_number(b)
                .filter(|n| (1..=58).contains(n))
                .unwrap_or_else(|| panic!("{}: behaviour {b:?} is not 11.1 … 11.58", s.name));
            claimed.entry(n).or_default().insert(s.name.clone());
        }
    }
    for b in &BEHAVIOURS {
        match (claimed.contains_key(&b.number), b.declined.is_empty()) {
            (false, true) => panic!("§11.{} {} has no scenario and no reason", b.number, b.title),
            (true, false) => panic!(
                "§11.{} {} is declined, yet replayed by {:?}",
                b.number, b.title, claimed[&b.number]
            ),
            _ => {}
        }
    }
}

#[test]
fn every_scenario_lives_in_a_folder_named_by_one_of_its_tags() {
    for s in catalogue() {
        let folder = s
            .origin
            .file
            .rsplit('/')
            .nth(1)
            .unwrap_or_default()
            .to_string();
        assert!(
            s.tags.contains(&folder),
            "{}: folder {folder:?} is not a tag",
            s.origin.file
        );
        let stem = s.origin.file.rsplit('/').next().unwrap_or_default();
        assert_eq!(stem, format!("{}.json", s.name), "{}", s.origin.file);
    }
}

#[test]
fn every_assertion_states_its_entra_impact() {
    for s in catalogue() {
        for step in &s.steps {
            for a in &step.expect.json {
                assert!(
                    a.impact.as_deref().is_some_and(|i| !i.trim().is_empty()),
                    "{} step {}: assertion on {} has no impact",
                    s.name,
                    step.id,
                    a.pointer
                );
            }
        }
    }
}

/// The name of a `{{capture}}` that is a whole path segment, e.g. `/Users/{{alice_id}}`.
fn addressed_capture(path: &str) -> Option<&str> {
    let mut parts = path.trim_start_matches('/').split('/');
    let collection = parts.next()?;
    let id = parts.next()?;
    if parts.next().is_some() || !matches!(collection, "Users" | "Groups") {
        return None;
    }
    id.strip_prefix("{{")?.strip_suffix("}}").map(str::trim)
}

#[test]
fn writes_address_only_objects_the_scenario_created_or_generated_ids() {
    for s in catalogue() {
        let mut created: BTreeSet<String> = BTreeSet::new();
        for step in &s.steps {
            let req = &step.request;
            if req.method.modifies() {
                let name = addressed_capture(&req.path).unwrap_or_else(|| {
                    panic!(
                        "{} step {}: {} {} addresses no captured id",
                        s.name, step.id, req.method, req.path
                    )
                });
                assert!(
                    name == "uuid" || name.starts_with("uuid.") || created.contains(name),
                    "{} step {}: {name} was not captured from a create earlier in the scenario",
                    s.name,
                    step.id
                );
            }
            if req.method == Method::Post {
                for (name, source) in &step.capture {
                    if matches!(source, CaptureSource::Body(_)) {
                        created.insert(name.clone());
                    }
                }
            }
        }
    }
}

fn get_ci<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    body.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

#[test]
fn creates_carry_the_run_prefix_and_members_are_captured_ids() {
    for s in catalogue() {
        for step in &s.steps {
            let req = &step.request;
            let body = req.body.as_ref();
            if req.method == Method::Post && matches!(req.path.as_str(), "/Users" | "/Groups") {
                let key = if req.path == "/Users" {
                    "userName"
                } else {
                    "displayName"
                };
                let name = body.and_then(|b| get_ci(b, key)).and_then(Value::as_str);
                assert!(
                    name.is_some_and(|n| n.contains("{{run.prefix}}")),
                    "{} step {}: create without {{{{run.prefix}}}} in {key}",
                    s.name,
                    step.id
                );
            }
            for member in member_values(body) {
                let is_reference = member.starts_with("{{") && member.ends_with("}}");
                assert!(
                    is_reference,
                    "{} step {}: member value {member:?} is made up",
                    s.name, step.id
                );
            }
        }
    }
}

/// Member `value`s in a group create or in PATCH operations on `members`.
fn member_values(body: Option<&Value>) -> Vec<String> {
    let Some(body) = body else { return Vec::new() };
    let mut lists: Vec<&Value> = get_ci(body, "members").into_iter().collect();
    if let Some(ops) = get_ci(body, "Operations").and_then(Value::as_array) {
        for op in ops {
            let on_members = get_ci(op, "path")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case("members"));
            if on_members {
                lists.extend(get_ci(op, "value"));
            }
        }
    }
    lists
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|m| get_ci(m, "value").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}
