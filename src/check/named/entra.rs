//! What Entra itself needs beyond plain SCIM (fact sheet §2.3, §2.4, §4.1): its matching
//! queries, excluded members, the manager reference, boolean `active`, no nulls.

use super::scim::as_count;
use super::{Ctx, Findings, at, first_few, resources_or_self};
use crate::check::impact::{MULTIPLE_ENTRIES, SERVICE_INCOMPATIBLE, status_impact};
use crate::check::pointer::{self, member};
use crate::check::render::{compact, plural, type_words};
use crate::check::status::actual_text;
use crate::scim;
use serde_json::Value;

const NOT_READABLE: &str = "Entra cannot read the query answer";

/// The answer to a query for something that does not exist: 200, totalResults 0, no Resources.
pub fn empty_list(ctx: &Ctx<'_>) -> Findings {
    let expected = "200 with an empty ListResponse (totalResults 0)";
    let Some(body) = query_body(ctx) else {
        return wrong_status(ctx, expected);
    };
    let mut f = Findings::default();
    let found_impact = "Entra takes the object as existing and links to what the endpoint \
                        returned (DuplicateTargetEntries when several); for Test Connection's \
                        random value this usually means the endpoint ignores the filter \
                        [inferred]";
    let (total, listed) = match counts(body) {
        Ok(counts) => counts,
        Err(why) => {
            f.fail(
                expected,
                why,
                format!("{NOT_READABLE}: {SERVICE_INCOMPATIBLE}"),
            );
            return f;
        }
    };
    if total != 0 || listed != 0 {
        f.fail(
            expected,
            format!(
                "totalResults {total} and {listed} resource{}",
                plural(listed)
            ),
            found_impact,
        );
    }
    f.passed = "200 with totalResults 0 and no resources".to_string();
    f
}

/// The answer to a matching query for one existing object: exactly one resource, with an id.
pub fn single_match(ctx: &Ctx<'_>) -> Findings {
    let expected = "200 with exactly one resource (totalResults 1)";
    let Some(body) = query_body(ctx) else {
        return wrong_status(ctx, expected);
    };
    let mut f = Findings::default();
    let (total, listed) = match counts(body) {
        Ok(counts) => counts,
        Err(why) => {
            f.fail(
                expected,
                why,
                format!("{NOT_READABLE}: {SERVICE_INCOMPATIBLE}"),
            );
            return f;
        }
    };
    if listed == 0 {
        f.fail(
            expected,
            format!("no resource returned (totalResults {total})"),
            "Entra finds no match and POSTs a create, which a compatible endpoint refuses: \
             Entra logs Conflict / EntryConflict and the object is stuck each cycle (or the \
             app gets a duplicate account)",
        );
    } else if listed > 1 || total > 1 {
        f.fail(
            expected,
            format!("totalResults {total} and {listed} resources"),
            "Entra logs DuplicateTargetEntries: the match is ambiguous and the object is not \
             provisioned",
        );
    } else if total != 1 {
        f.fail(
            expected,
            format!("totalResults {total} but Resources has 1 element"),
            "an inconsistent ListResponse; whether Entra trusts totalResults or Resources is \
             not documented, and with totalResults 0 it would create a duplicate [inferred]",
        );
    }
    let first = member(body, "Resources").and_then(|r| r.get(0));
    if let Some(first) = first.filter(|r| {
        member(r, "id")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    }) {
        f.fail(
            "the matched resource has a non-empty string id",
            format!("/Resources/0 has no usable id: {}", compact(first)),
            format!(
                "Entra logs {SERVICE_INCOMPATIBLE}: it cannot link the matched object, so \
                 every later update fails"
            ),
        );
    }
    f.passed = "200 with exactly one resource".to_string();
    f
}

/// The body of a 200 answer; `None` for any other status.
fn query_body<'a>(ctx: &Ctx<'a>) -> Option<&'a Value> {
    (ctx.response.status == 200).then_some(ctx.json).flatten()
}

fn wrong_status(ctx: &Ctx<'_>, expected: &str) -> Findings {
    let mut f = Findings::default();
    let status = ctx.response.status;
    let impact = if status == 200 {
        format!("{NOT_READABLE}: {SERVICE_INCOMPATIBLE}")
    } else {
        status_impact(ctx.kind, status, &[200])
    };
    let actual = if status == 200 {
        "200 without a usable JSON body".to_string()
    } else {
        actual_text(ctx.response)
    };
    f.fail(expected, actual, impact);
    f
}

/// totalResults and the number of Resources, or why they cannot be read.
fn counts(body: &Value) -> Result<(u64, usize), String> {
    let total = match member(body, "totalResults") {
        None => return Err("totalResults is missing".to_string()),
        Some(v) => as_count(v)
            .ok_or_else(|| format!("totalResults is {}, not an integer", type_words(v)))?,
    };
    let listed = match member(body, "Resources") {
        None | Some(Value::Null) => 0,
        Some(Value::Array(items)) => items.len(),
        Some(other) => return Err(format!("Resources is {}, not an array", type_words(other))),
    };
    Ok((total, listed))
}

/// No `members` in the returned group(s), as `excludedAttributes=members` asks.
pub fn members_excluded(body: &Value) -> Findings {
    let mut f = Findings::ok("no members returned");
    let mut full = Vec::new();
    let mut empty = Vec::new();
    for (prefix, group) in resources_or_self(body) {
        let Some((key, value)) = group
            .as_object()
            .and_then(|m| pointer::get_key(m, "members"))
        else {
            continue;
        };
        let place = at(&prefix, key);
        match value {
            Value::Array(m) if !m.is_empty() => {
                full.push(format!("{place} ({} member{})", m.len(), plural(m.len())))
            }
            Value::Array(_) | Value::Null => empty.push(format!("{place} ({})", type_words(value))),
            _ => full.push(format!("{place} ({})", type_words(value))),
        }
    }
    let expected = "no members attribute (excludedAttributes=members)";
    if !full.is_empty() {
        f.fail(
            expected,
            format!("members returned: {}", first_few(&full, 3)),
            format!(
                "Entra logs {MULTIPLE_ENTRIES}: the group comes back with its members although \
                 Entra asked to exclude them"
            ),
        );
    }
    if !empty.is_empty() {
        f.warn(
            expected,
            format!("members present but empty: {}", first_few(&empty, 3)),
            "RFC 7644 §3.4.2.5 says excluded attributes are not returned; an empty members \
             value is not known to break Entra [inferred]",
        );
    }
    f
}

/// The enterprise manager, when present, is `{"value": "<id>"}`, never a bare string.
pub fn manager_complex(body: &Value) -> Findings {
    let mut f = Findings::ok("no manager, or every manager is an object with a string value");
    let expected = "manager under the enterprise extension as {\"value\": \"<id>\"}";
    let deserialize = format!(
        "Entra logs {SERVICE_INCOMPATIBLE} (\"not able to deserialize the resource\"), as \
         observed when an endpoint rendered manager as a bare string"
    );
    for (prefix, user) in resources_or_self(body) {
        let ext_at = at(&prefix, scim::ENTERPRISE_USER_SCHEMA);
        let manager = match member(user, scim::ENTERPRISE_USER_SCHEMA) {
            None | Some(Value::Null) => None,
            Some(ext @ Value::Object(_)) => member(ext, "manager"),
            Some(other) => {
                let actual = format!("{ext_at} is {}, not an object", type_words(other));
                f.fail(
                    expected,
                    actual,
                    format!("{deserialize} [inferred for this shape]"),
                );
                continue;
            }
        };
        let manager_at = format!("{ext_at}/manager");
        match manager {
            None | Some(Value::Null) => {
                if let Some(loose) = member(user, "manager").filter(|m| !m.is_null()) {
                    f.fail(
                        expected,
                        format!(
                            "manager is at {}, outside the enterprise extension: {}",
                            at(&prefix, "manager"),
                            compact(loose)
                        ),
                        "Entra does not find the manager under the enterprise extension key \
                         and re-PATCHes it every cycle (observed)",
                    );
                }
            }
            Some(Value::String(s)) => f.fail(
                expected,
                format!("{manager_at} is the bare string {s:?}, not {{\"value\": {s:?}}}"),
                deserialize.clone(),
            ),
            Some(m @ Value::Object(_)) if member(m, "value").is_some_and(Value::is_string) => {}
            Some(other) => f.fail(
                expected,
                format!("{manager_at} is {}: {}", type_words(other), compact(other)),
                format!("{deserialize} [inferred for this shape]"),
            ),
        }
    }
    f
}

/// `active`, where present, is a JSON boolean in every returned user.
pub fn active_boolean(body: &Value) -> Findings {
    let mut f = Findings::ok("active is a boolean wherever present");
    let wrong: Vec<String> = resources_or_self(body)
        .into_iter()
        .filter_map(|(prefix, user)| {
            let (key, value) = user
                .as_object()
                .and_then(|m| pointer::get_key(m, "active"))?;
            (!value.is_boolean() && !value.is_null())
                .then(|| format!("{} is {}", at(&prefix, key), type_words(value)))
        })
        .collect();
    if !wrong.is_empty() {
        f.fail(
            "active as a JSON boolean (true or false)",
            first_few(&wrong, 3),
            "Entra reads active as a boolean; a string such as \"False\" is not one (whether \
             Entra coerces it is not documented): the disable may not register, so Entra \
             re-sends it every cycle, or the user cannot be read \
             (SystemForCrossDomainIdentityManagementServiceIncompatible) [inferred]",
        );
    }
    f
}

/// No JSON null anywhere in the body; reports the pointers of the first few.
pub fn no_nulls(body: &Value) -> Findings {
    let mut nulls = Vec::new();
    collect_nulls(body, String::new(), &mut nulls);
    let mut f = Findings::ok("no null values");
    if !nulls.is_empty() {
        let n = nulls.len();
        f.fail(
            "no null values",
            format!("{n} null{}: {}", plural(n), first_few(&nulls, 5)),
            format!(
                "Microsoft requires answers without null values (documented for /Schemas); \
                 Entra may fail to read a null where it expects a value: {SERVICE_INCOMPATIBLE} \
                 [inferred for resources]"
            ),
        );
    }
    f
}

fn collect_nulls(value: &Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Null if path.is_empty() => out.push("(body)".to_string()),
        Value::Null => out.push(path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_nulls(item, format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                collect_nulls(v, at(&path, k), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::impact::RequestKind;
    use crate::check::test_support::{response_json, response_text};
    use crate::http::exchange::ReceivedResponse;
    use crate::scenario::model::Severity;
    use serde_json::json;

    fn query(r: &ReceivedResponse) -> Ctx<'_> {
        Ctx {
            kind: RequestKind::Query,
            path: "/Users",
            response: r,
            json: r.json.as_ref(),
        }
    }

    fn list(total: Value, resources: Value) -> ReceivedResponse {
        response_json(
            200,
            json!({"schemas": [scim::LIST_RESPONSE], "totalResults": total, "Resources": resources}),
        )
    }

    fn actuals(f: &Findings) -> Vec<&str> {
        f.problems.iter().map(|p| p.actual.as_str()).collect()
    }

    #[test]
    fn empty_list_passes_with_or_without_resources() {
        let r = list(json!(0), json!([]));
        assert!(empty_list(&query(&r)).problems.is_empty());
        let r = response_json(
            200,
            json!({"schemas": [scim::LIST_RESPONSE], "totalResults": 0}),
        );
        assert!(empty_list(&query(&r)).problems.is_empty());
    }

    #[test]
    fn not_found_instead_of_an_empty_list_fails_with_quarantine() {
        let body = json!({"schemas": [scim::ERROR], "status": "404", "detail": "not found"});
        let r = response_json(404, body);
        let f = empty_list(&query(&r));
        assert_eq!(actuals(&f), [r#"404 Not Found, detail "not found""#]);
        assert!(f.problems[0].impact.contains("quarantine"));
        let r = response_text(400, "unsupported filter");
        let f = empty_list(&query(&r));
        assert!(f.problems[0].impact.contains("Test Connection"));
    }

    #[test]
    fn empty_list_with_hits_means_the_filter_is_ignored() {
        let r = list(json!(2), json!([{"id": "a"}, {"id": "b"}]));
        let f = empty_list(&query(&r));
        assert_eq!(actuals(&f), ["totalResults 2 and 2 resources"]);
        assert!(f.problems[0].impact.contains("ignores the filter"));
        let r = list(json!("0"), json!([]));
        let f = empty_list(&query(&r));
        assert_eq!(
            actuals(&f),
            [r#"totalResults is the string "0", not an integer"#]
        );
        assert!(f.problems[0].impact.contains(SERVICE_INCOMPATIBLE));
        let r = response_json(200, json!({"schemas": [scim::LIST_RESPONSE]}));
        assert_eq!(
            actuals(&empty_list(&query(&r))),
            ["totalResults is missing"]
        );
    }

    #[test]
    fn single_match_passes_for_one_resource_with_id() {
        let r = list(json!(1), json!([{"id": "u-1"}]));
        let f = single_match(&query(&r));
        assert!(f.problems.is_empty(), "{f:#?}");
    }

    #[test]
    fn single_match_zero_hits_leads_to_conflict() {
        let r = list(json!(0), json!([]));
        let f = single_match(&query(&r));
        assert_eq!(actuals(&f), ["no resource returned (totalResults 0)"]);
        assert!(f.problems[0].impact.contains("EntryConflict"));
    }

    #[test]
    fn single_match_several_hits_are_duplicates() {
        let r = list(json!(2), json!([{"id": "a"}, {"id": "b"}]));
        let f = single_match(&query(&r));
        assert_eq!(actuals(&f), ["totalResults 2 and 2 resources"]);
        assert!(f.problems[0].impact.contains("DuplicateTargetEntries"));
    }

    #[test]
    fn single_match_inconsistent_counts_and_missing_id() {
        let r = list(json!(0), json!([{"userName": "a"}]));
        let f = single_match(&query(&r));
        assert_eq!(
            actuals(&f),
            [
                "totalResults 0 but Resources has 1 element",
                r#"/Resources/0 has no usable id: {"userName":"a"}"#
            ]
        );
        let r = response_json(404, json!({"detail": "x"}));
        let f = single_match(&query(&r));
        assert!(f.problems[0].impact.contains("quarantine"));
    }

    #[test]
    fn members_present_despite_exclusion_fails() {
        let body = json!({"schemas": [scim::LIST_RESPONSE], "totalResults": 1,
            "Resources": [{"id": "g", "members": [{"value": "u-1"}, {"value": "u-2"}]}]});
        let f = members_excluded(&body);
        assert_eq!(
            actuals(&f),
            ["members returned: /Resources/0/members (2 members)"]
        );
        assert!(f.problems[0].impact.contains(MULTIPLE_ENTRIES));
        assert_eq!(f.problems[0].severity, Severity::Fail);
    }

    #[test]
    fn members_empty_only_warns_and_absent_passes() {
        let f = members_excluded(&json!({"id": "g", "Members": []}));
        assert_eq!(
            actuals(&f),
            ["members present but empty: /Members (an array of 0 elements)"]
        );
        assert_eq!(f.problems[0].severity, Severity::Warn);
        let f = members_excluded(&json!({"id": "g", "displayName": "Sales"}));
        assert!(f.problems.is_empty());
        assert_eq!(f.passed, "no members returned");
    }

    #[test]
    fn bare_string_manager_fails_as_not_deserializable() {
        let body = json!({"id": "u", scim::ENTERPRISE_USER_SCHEMA: {"manager": "u-2"}});
        let f = manager_complex(&body);
        assert_eq!(
            actuals(&f),
            [format!(
                r#"/{}/manager is the bare string "u-2", not {{"value": "u-2"}}"#,
                scim::ENTERPRISE_USER_SCHEMA
            )]
        );
        assert!(f.problems[0].impact.contains("not able to deserialize"));
    }

    #[test]
    fn manager_object_or_absent_passes() {
        let ok = json!({"id": "u", scim::ENTERPRISE_USER_SCHEMA: {"manager": {"value": "u-2"}}});
        assert!(manager_complex(&ok).problems.is_empty());
        let no_manager = json!({"id": "u", scim::ENTERPRISE_USER_SCHEMA: {"department": "x"}});
        assert!(manager_complex(&no_manager).problems.is_empty());
        assert!(manager_complex(&json!({"id": "u"})).problems.is_empty());
    }

    #[test]
    fn manager_other_shapes_fail() {
        let in_list = json!({"Resources": [
            {"id": "a", scim::ENTERPRISE_USER_SCHEMA: {"manager": {"$ref": "x"}}},
            {"id": "b", "manager": {"value": "m"}},
            {"id": "c", scim::ENTERPRISE_USER_SCHEMA: "x"}]});
        let f = manager_complex(&in_list);
        let urn = scim::ENTERPRISE_USER_SCHEMA;
        assert_eq!(
            actuals(&f),
            [
                format!(r#"/Resources/0/{urn}/manager is an object: {{"$ref":"x"}}"#),
                r#"manager is at /Resources/1/manager, outside the enterprise extension: {"value":"m"}"#.to_string(),
                format!(r#"/Resources/2/{urn} is the string "x", not an object"#),
            ]
        );
        assert!(f.problems[1].impact.contains("re-PATCHes"));
    }

    #[test]
    fn active_must_be_boolean_in_every_user() {
        let body = json!({"Resources": [{"id": "a", "active": true}, {"id": "b", "Active": "False"},
                                        {"id": "c"}, {"id": "d", "active": null}]});
        let f = active_boolean(&body);
        assert_eq!(
            actuals(&f),
            [r#"/Resources/1/Active is the string "False""#]
        );
        assert!(
            active_boolean(&json!({"id": "a", "active": false}))
                .problems
                .is_empty()
        );
        let f = active_boolean(&json!({"id": "a", "active": 0}));
        assert_eq!(actuals(&f), ["/active is the number 0"]);
    }

    #[test]
    fn no_nulls_reports_the_first_pointers() {
        let body = json!({"id": "u", "title": null, "name": {"middleName": null},
                          "a/b": null, "x": [1, null], "y": null, "z": null});
        let f = no_nulls(&body);
        assert_eq!(
            actuals(&f),
            ["6 nulls: /title, /name/middleName, /a~1b, /x/1, /y (and 1 more)"]
        );
        assert!(
            no_nulls(&json!({"id": "u", "emails": []}))
                .problems
                .is_empty()
        );
        assert_eq!(actuals(&no_nulls(&Value::Null)), ["1 null: (body)"]);
    }
}
