//! One Validator test → one scenario.
//!
//! The export keeps only each test's setup requests and its final request, so the steps it
//! leaves out are synthesized and marked: the create of an object a request addresses but
//! no recorded step created (e.g. before "Delete a User", whose export holds only the
//! verifying GET), the DELETE itself, the first create of a "duplicate" test, the create of
//! the user or group an "existing" filter finds. A test the Validator failed expects what the
//! Validator expects (and says what the endpoint answered then); a passed test expects the
//! recorded statuses. Assertion messages become named checks where one says the same thing,
//! and notes otherwise.

use super::scim_base;
use super::validator::{Request, Test};
use crate::record::convert::{Converted, Converter, Draft, Meta};
use crate::record::raw::{AuthSeen, RawExchange};
use crate::record::rewrite::Rewriter;
use crate::record::slug;
use crate::scim::{GROUP_SCHEMA, USER_SCHEMA};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashSet};

/// One imported test.
#[derive(Clone, Debug)]
pub struct Imported {
    pub converted: Converted,
    /// One line for the import summary.
    pub line: String,
}

/// A request of the plan with why it is there when the export did not hold it.
struct Planned {
    exchange: RawExchange,
    synthesized: Option<String>,
    last: bool,
}

/// Imports every test; `stem` prefixes the scenario names (the export's file name).
pub fn import(stem: &str, tests: &[Test]) -> Vec<Imported> {
    let mut used = BTreeSet::new();
    tests
        .iter()
        .map(|t| import_test(stem, t, &mut used))
        .collect()
}

fn import_test(stem: &str, test: &Test, used: &mut BTreeSet<String>) -> Imported {
    let base = scim_base(&test.last.url);
    let plan = plan(test);
    // The Validator's tests share objects (one group is filtered in several tests): each
    // scenario gets its own names so they can run side by side.
    let infix = format!("v{}-", used.len() + 1);
    let mut converter = Converter::with_rewriter(&base, Rewriter::with_name_infix(&infix));
    let exchanges: Vec<RawExchange> = plan.iter().map(|p| p.exchange.clone()).collect();
    converter.learn_names(&exchanges);
    let mut drafts = Vec::new();
    let mut skipped = Vec::new();
    let mut changed = Vec::new();
    for p in &plan {
        match converter.step(&p.exchange) {
            Ok(mut d) => {
                let note = match &p.synthesized {
                    Some(why) => format!("synthesized: {why}"),
                    None if p.last => {
                        "the test's final request, as the Validator sent it".to_string()
                    }
                    None => "a setup request of the test, as the Validator sent it".to_string(),
                };
                d.step.insert("note".into(), json!(note));
                if let Some(what) = expectation(test, &p.exchange, p.last, &mut d) {
                    changed.push(what);
                }
                if p.last {
                    assertions(test, &mut d);
                }
                drafts.push(d);
            }
            Err(why) => skipped.push(why),
        }
    }
    let name = unique(used, &scenario_name(stem, test));
    let synthesized = plan.iter().filter(|p| p.synthesized.is_some()).count();
    let verdict = if test.passed { "passed" } else { "failed" };
    let mut description = format!(
        "Imported from a Microsoft SCIM Validator results export ({}, test {} of {}); the \
         Validator {verdict} it.",
        test.pointer(),
        test.index + 1,
        test.section
    );
    if synthesized > 0 {
        description.push_str(&format!(
            " {synthesized} step(s) the export leaves out are synthesized (their notes say so)."
        ));
    }
    for c in &changed {
        description.push_str(&format!(" {c}"));
    }
    let meta = Meta {
        name: name.clone(),
        summary: format!("SCIM Validator test `{}`: {}", test.name, test.description),
        description,
        tags: vec!["validator".into(), section_tag(test.section).into()],
        upstream: base,
    };
    let converted = converter.finish(&meta, &drafts, skipped);
    let line = format!(
        "{name}: {} steps ({synthesized} synthesized), {} in the export{}",
        drafts.len(),
        verdict,
        if changed.is_empty() {
            String::new()
        } else {
            format!("; {}", changed.join(" "))
        }
    );
    Imported { converted, line }
}

fn section_tag(section: &str) -> &'static str {
    match section {
        "PassedTests" => "passed",
        "FailedTests" => "failed",
        "Warnings" => "warning",
        _ => "preview",
    }
}

fn exchange(seq: u64, r: &Request) -> RawExchange {
    let target = r
        .url
        .find("://")
        .and_then(|i| r.url[i + 3..].find('/').map(|j| &r.url[i + 3 + j..]))
        .unwrap_or("/");
    RawExchange {
        seq,
        at: "(not recorded)".into(),
        method: r.method.clone(),
        target: target.to_string(),
        auth: AuthSeen::Bearer,
        request_body: r.body.clone(),
        status: r.status,
        response_headers: r.response_headers.clone(),
        response_body: r.response_body.clone(),
        ..RawExchange::default()
    }
}

fn json_of(text: Option<&str>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

/// `(collection, id)` of a request addressing one object.
fn object(x: &RawExchange) -> Option<(String, String)> {
    let path = x.target.split('?').next().unwrap_or_default();
    let mut parts = path.rsplit('/');
    let id = parts.next()?;
    let collection = parts.next()?;
    let known =
        collection.eq_ignore_ascii_case("Users") || collection.eq_ignore_ascii_case("Groups");
    (known && !id.is_empty()).then(|| (collection.to_string(), id.to_string()))
}

/// The plan of a test: setup, synthesized steps where the export leaves them out, final.
fn plan(test: &Test) -> Vec<Planned> {
    let description = test.description.to_ascii_lowercase();
    let nonexistent = description.contains("non-existent") || description.contains("non-existing");
    let mut requests: Vec<(RawExchange, bool)> =
        test.setup.iter().map(|r| (exchange(0, r), false)).collect();
    requests.push((exchange(0, &test.last), true));
    // When a setup request fails, the export repeats it as the final request: send it once.
    let n = requests.len();
    if n >= 2 && same_request(&requests[n - 2].0, &requests[n - 1].0) {
        requests.pop();
        requests[n - 2].1 = true;
    }
    let bodies: Vec<Value> = requests
        .iter()
        .filter_map(|(x, _)| json_of(x.response_body.as_deref()))
        .collect();
    let mut known: HashSet<String> = HashSet::new();
    let mut out: Vec<Planned> = Vec::new();
    let mut made = 0;
    for (x, last) in requests {
        if let Some((collection, id)) =
            object(&x).filter(|(_, id)| !known.contains(id) && !nonexistent)
        {
            made += 1;
            let body = resource_body(&collection, &id, &bodies, made);
            out.push(synth(
                "POST",
                &collection_target(&x, &collection),
                Some(body),
                201,
                Some(json!({ "id": id })),
                "the export holds no create of the object this test addresses; created here so the test has its own",
            ));
            if last && x.method == "GET" && description.starts_with("delete") {
                out.push(synth(
                    "DELETE",
                    &x.target,
                    None,
                    204,
                    None,
                    "the export leaves out the DELETE a \"Delete\" test sends before verifying it",
                ));
            }
            known.insert(id);
        }
        if last
            && x.method == "POST"
            && description.contains("duplicate")
            && !out.iter().any(|p| p.exchange.method == "POST")
        {
            out.push(synth(
                "POST",
                &x.target,
                json_of(x.request_body.as_deref()),
                201,
                None,
                "the first create of a \"duplicate\" test is not in the export",
            ));
        }
        if last
            && x.method == "GET"
            && test.setup.is_empty()
            && description.contains("existing")
            && !nonexistent
            && object(&x).is_none()
        {
            if let Some((body, collection)) = listed_resource(&x, made + 1) {
                made += 1;
                out.push(synth(
                    "POST",
                    &collection_target(&x, &collection),
                    Some(body),
                    201,
                    None,
                    "the object an \"existing\" filter finds was created by an earlier Validator test, outside this one",
                ));
            }
        }
        if x.method == "POST" && x.status.is_some_and(|s| (200..300).contains(&s)) {
            if let Some(id) = json_of(x.response_body.as_deref())
                .and_then(|b| b.get("id")?.as_str().map(str::to_string))
            {
                known.insert(id);
            }
        }
        out.push(Planned {
            exchange: x,
            synthesized: None,
            last,
        });
    }
    for (i, p) in out.iter_mut().enumerate() {
        p.exchange.seq = i as u64 + 1;
    }
    out
}

/// The same failed request twice (not a "delete twice" test, whose answers differ).
fn same_request(a: &RawExchange, b: &RawExchange) -> bool {
    a.method == b.method
        && a.target == b.target
        && a.request_body == b.request_body
        && a.status == b.status
        && a.status.is_some_and(|s| s >= 400)
}

/// The collection path of a request's object, e.g. `/scim/Users` for `/scim/Users/42?x`.
fn collection_target(x: &RawExchange, collection: &str) -> String {
    let path = x.target.split('?').next().unwrap_or_default();
    let lower = path.to_ascii_lowercase();
    let at = lower
        .rfind(&format!("/{}", collection.to_ascii_lowercase()))
        .unwrap_or(0);
    format!("{}/{collection}", &path[..at])
}

fn synth(
    method: &str,
    target: &str,
    body: Option<Value>,
    status: u16,
    response: Option<Value>,
    why: &str,
) -> Planned {
    Planned {
        exchange: RawExchange {
            method: method.into(),
            target: target.into(),
            auth: AuthSeen::Bearer,
            request_body: body.map(|b| b.to_string()),
            status: Some(status),
            response_body: response.map(|r| r.to_string()),
            at: "(synthesized)".into(),
            ..RawExchange::default()
        },
        synthesized: Some(why.to_string()),
        last: false,
    }
}

/// A create body for `collection`: the object as an answer of this test shows it (server
/// fields and references dropped), else a minimal one.
fn resource_body(collection: &str, id: &str, bodies: &[Value], n: usize) -> Value {
    let shown = bodies
        .iter()
        .find(|b| b.get("id").and_then(Value::as_str) == Some(id));
    shown
        .and_then(|b| create_body(collection, b))
        .unwrap_or_else(|| minimal(collection, n))
}

fn create_body(collection: &str, shown: &Value) -> Option<Value> {
    let mut map = shown.as_object()?.clone();
    for server_field in ["id", "meta", "members", "groups"] {
        map.remove(server_field);
    }
    let key = if collection.eq_ignore_ascii_case("Users") {
        "userName"
    } else {
        "displayName"
    };
    map.get(key)?.as_str()?;
    Some(Value::Object(map))
}

fn minimal(collection: &str, n: usize) -> Value {
    if collection.eq_ignore_ascii_case("Users") {
        json!({ "schemas": [USER_SCHEMA], "userName": format!("validator-user-{n}@example.com"), "active": true })
    } else {
        json!({ "schemas": [GROUP_SCHEMA], "displayName": format!("validator-group-{n}") })
    }
}

/// The first listed resource of a filter answer, as a create body, with its collection.
fn listed_resource(x: &RawExchange, n: usize) -> Option<(Value, String)> {
    let path = x.target.split('?').next().unwrap_or_default();
    let collection = path.rsplit('/').next()?.to_string();
    if !collection.eq_ignore_ascii_case("Users") && !collection.eq_ignore_ascii_case("Groups") {
        return None;
    }
    let first =
        json_of(x.response_body.as_deref()).and_then(|b| b.get("Resources")?.get(0).cloned());
    let body = first
        .and_then(|r| create_body(&collection, &r))
        .or_else(|| filtered_name(x).map(|name| named(&collection, &name)))
        .unwrap_or_else(|| minimal(&collection, n));
    Some((body, collection))
}

/// The value of an `eq` filter in the request's query.
fn filtered_name(x: &RawExchange) -> Option<String> {
    let query = x.target.split_once('?')?.1;
    let (_, filter) = crate::record::query::params(query)
        .into_iter()
        .find(|(k, _)| k == "filter")?;
    let start = filter.find('"')? + 1;
    let end = filter[start..].find('"')? + start;
    Some(filter[start..end].to_string())
}

fn named(collection: &str, name: &str) -> Value {
    if collection.eq_ignore_ascii_case("Users") {
        json!({ "schemas": [USER_SCHEMA], "userName": name, "active": true })
    } else {
        json!({ "schemas": [GROUP_SCHEMA], "displayName": name })
    }
}

/// What the Validator expects of a request, by method and test name.
fn validator_expects(method: &str, description: &str, last: bool) -> Vec<u16> {
    let d = description.to_ascii_lowercase();
    match method {
        "POST" if last && d.contains("duplicate") => vec![409],
        "POST" => vec![201],
        "GET" if last && (d.starts_with("delete") || d.contains("non-existent")) => vec![404],
        "PATCH" => vec![200, 204],
        "DELETE" if last && (d.contains("twice") || d.contains("non-existent")) => vec![404],
        "DELETE" => vec![204],
        _ => vec![200],
    }
}

/// Sets the step's expected status; returns what was changed from the recorded status.
fn expectation(test: &Test, x: &RawExchange, last: bool, draft: &mut Draft) -> Option<String> {
    let recorded = x.status?;
    let wanted = validator_expects(&x.method, &test.description, last);
    let keep_recorded = test.passed || wanted.contains(&recorded);
    let statuses = if keep_recorded && x.method == "PATCH" && (recorded == 200 || recorded == 204) {
        vec![200, 204]
    } else if keep_recorded {
        vec![recorded]
    } else {
        wanted.clone()
    };
    draft
        .step
        .insert("expect".into(), json!({ "status": statuses }));
    if keep_recorded {
        return None;
    }
    let id = draft
        .step
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let note = format!(
        "{} The endpoint answered {recorded} when the Validator ran; this step expects {wanted:?}, \
         what the Validator requires.",
        draft
            .step
            .get("note")
            .and_then(Value::as_str)
            .unwrap_or_default()
    );
    draft.step.insert("note".into(), json!(note));
    Some(format!(
        "Step {id} expects {wanted:?} where the endpoint answered {recorded}."
    ))
}

/// The Validator's assertion messages as named checks where one says the same, else notes.
fn assertions(test: &Test, draft: &mut Draft) {
    let d = test.description.to_ascii_lowercase();
    let mut checks: Vec<&str> = Vec::new();
    let mut notes = Vec::new();
    for (message, passed) in &test.results {
        let m = message.to_ascii_lowercase();
        let check = if m.contains("for a list response")
            || m.contains("resources attribute when totalresults")
        {
            Some("scim.list-response")
        } else if m.contains("total results should be equal") || m.contains("that match the filter")
        {
            Some(if d.contains("non-existing") {
                "entra.empty-list"
            } else {
                "entra.single-match"
            })
        } else if m.contains("should exclude the attribute: members") {
            Some("entra.members-excluded")
        } else {
            None
        };
        match check {
            Some(c) if !checks.contains(&c) => checks.push(c),
            Some(_) => {}
            None => notes.push(format!(
                "Validator: {message} ({})",
                if *passed { "passed" } else { "failed" }
            )),
        }
    }
    if !checks.is_empty() {
        if let Some(expect) = draft.step.get_mut("expect").and_then(Value::as_object_mut) {
            expect.insert("checks".into(), json!(checks));
        }
    }
    if !notes.is_empty() {
        let note = format!(
            "{} {}",
            draft
                .step
                .get("note")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            notes.join("; ")
        );
        draft.step.insert("note".into(), json!(note));
    }
}

/// `<stem>-<test>`; tests whose Description is an error text are named by their endpoint.
fn scenario_name(stem: &str, test: &Test) -> String {
    let d = test.description.to_ascii_lowercase();
    let errorish = d.contains("should return") || d.contains("but got");
    let words = if errorish {
        format!("{} setup failed", test.name)
    } else {
        test.description.clone()
    };
    let mut words = slug(&words);
    words.truncate(60);
    slug(&format!("{stem}-{words}"))
}

fn unique(used: &mut BTreeSet<String>, name: &str) -> String {
    let mut candidate = name.to_string();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{name}-{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_tests_expect_what_the_validator_expects() {
        assert_eq!(
            validator_expects("POST", "Create a duplicate User", true),
            vec![409]
        );
        assert_eq!(validator_expects("GET", "Delete a User", true), vec![404]);
        assert_eq!(
            validator_expects("DELETE", "Delete the same Group twice", true),
            vec![404]
        );
        assert_eq!(
            validator_expects("DELETE", "Delete the same Group twice", false),
            vec![204]
        );
    }
}
