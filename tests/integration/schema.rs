//! The JSON Schemas under `schemas/`: generated from the file-format mirror, current (a test
//! regenerates and compares; `SCIMREPLAY_BLESS=1` rewrites them), and every catalogue file
//! validates against them while a broken one does not.

use crate::support::{TempDir, cli};
use scimreplay::entra::Profile;
use scimreplay::exit::Outcome;
use scimreplay::scenario::schema::{
    PROFILE_SCHEMA_FILE, SCENARIO_SCHEMA_FILE, profile_schema, render, scenario_schema,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_committed_schemas_are_current() {
    for (file, schema) in [
        (SCENARIO_SCHEMA_FILE, scenario_schema()),
        (PROFILE_SCHEMA_FILE, profile_schema()),
    ] {
        let fresh = render(&schema);
        let path = repo(file);
        if std::env::var_os("SCIMREPLAY_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{file} is stale: regenerate it with `SCIMREPLAY_BLESS=1 cargo test --test integration schema::`"
        );
    }
}

/// A validator for a schema as generated (the test above keeps the committed copy equal).
fn validator(schema: Value) -> jsonschema::Validator {
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out
}

#[test]
fn every_catalogue_file_validates() {
    let validator = validator(scenario_schema());
    let files = json_files(&repo("scenarios"));
    assert!(files.len() > 50, "{} files", files.len());
    for file in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let problems = errors(&validator, &doc);
        assert!(problems.is_empty(), "{}: {problems:#?}", file.display());
    }
}

#[test]
fn a_broken_scenario_does_not_validate() {
    let validator = validator(scenario_schema());
    let good = json!({"name": "ok", "summary": "s", "dialect": "any",
        "steps": [{"id": "a", "request": {"method": "GET", "path": "/Users"},
                   "expect": {"status": [200], "checks": ["scim.list-response"]}}]});
    assert!(errors(&validator, &good).is_empty());
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        change(&mut doc);
        doc
    };
    for (what, doc) in [
        ("unknown top key", broken(&|d| d["dialekt"] = json!("any"))),
        (
            "bad dialect",
            broken(&|d| d["dialect"] = json!("aadOptscim")),
        ),
        (
            "lower-case method",
            broken(&|d| d["steps"][0]["request"]["method"] = json!("get")),
        ),
        (
            "unknown check",
            broken(&|d| d["steps"][0]["expect"]["checks"] = json!(["scim.resorce"])),
        ),
        ("no steps", broken(&|d| d["steps"] = json!([]))),
        (
            "bad entra action",
            broken(&|d| d["steps"][0] = json!({"id": "e", "entra": {"action": "frobnicate"}})),
        ),
    ] {
        assert!(
            !errors(&validator, &doc).is_empty(),
            "{what} passed the schema"
        );
    }
}

#[test]
fn the_default_mapping_profile_validates_and_a_broken_one_does_not() {
    let validator = validator(profile_schema());
    let profile = Profile::default_mappings().to_json();
    let problems = errors(&validator, &profile);
    assert!(problems.is_empty(), "{problems:#?}");
    let mut broken = profile.clone();
    broken["users"]["mappings"][0]["sourse"] = json!("x");
    assert!(!errors(&validator, &broken).is_empty());
}

#[tokio::test]
async fn a_scenario_file_may_name_its_schema() {
    let dir = TempDir::new("schema-ref");
    let file = dir.write(
        "s.json",
        &json!({"$schema": "../schemas/scenario.schema.json", "name": "with-schema",
                "summary": "names its schema", "dialect": "any",
                "steps": [{"id": "a", "request": {"method": "GET", "path": "/Users"}}]})
        .to_string(),
    );
    let run = cli(&[
        "show",
        "with-schema",
        "--no-builtin",
        "--scenarios",
        file.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::Passed, "{}", run.stderr);
    let bad = dir.write(
        "t.json",
        &json!({"$schema": 3, "name": "bad-schema", "summary": "s", "dialect": "any",
                "steps": [{"id": "a", "request": {"method": "GET", "path": "/Users"}}]})
        .to_string(),
    );
    let run = cli(&[
        "show",
        "bad-schema",
        "--no-builtin",
        "--scenarios",
        bad.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.outcome, Outcome::InvalidInput);
    assert!(run.stderr.contains("t.json:1:"), "{}", run.stderr);
}
