//! SCIM message shapes: ListResponse (RFC 7644 §3.4.2), resource (RFC 7643 §3), Error
//! (RFC 7644 §3.12). Schema URNs are compared case-insensitively, like attribute names.

use super::{Findings, at, first_few};
use crate::check::impact::SERVICE_INCOMPATIBLE;
use crate::check::pointer::member;
use crate::check::render::{compact, plural, type_words};
use crate::scim;
use serde_json::Value;

/// The scimType keywords of RFC 7644 §3.12, Table 9.
const SCIM_TYPES: &[&str] = &[
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
];

/// `Ok(())` when `schemas` is an array holding `urn`; otherwise how it falls short.
fn schemas_has(body: &Value, urn: &str) -> Result<(), String> {
    match member(body, "schemas") {
        None => Err("schemas is missing".to_string()),
        Some(Value::Array(items)) => {
            if items
                .iter()
                .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)))
            {
                Ok(())
            } else {
                Err(format!(
                    "schemas is {}",
                    compact(&Value::Array(items.clone()))
                ))
            }
        }
        Some(other) => Err(format!("schemas is {}, not an array", type_words(other))),
    }
}

/// A non-negative JSON integer.
pub(crate) fn as_count(value: &Value) -> Option<u64> {
    value.as_u64()
}

/// A ListResponse: URN, integer totalResults, Resources consistent with it, ids.
pub fn list_response(body: &Value) -> Findings {
    let mut f = Findings::default();
    if !body.is_object() {
        f.fail(
            "a ListResponse object",
            format!("the body is {}", type_words(body)),
            format!("Entra logs {SERVICE_INCOMPATIBLE}: a query answer must be a ListResponse"),
        );
        return f;
    }
    if let Err(why) = schemas_has(body, scim::LIST_RESPONSE) {
        f.fail(
            format!("schemas containing {:?}", scim::LIST_RESPONSE),
            why,
            "the fact sheet does not say whether Entra reads schemas here; the Microsoft SCIM \
             Validator fails a query answer without the ListResponse URN, and strict SCIM \
             clients reject it [inferred]",
        );
    }
    let total = member(body, "totalResults");
    let count = total.and_then(as_count);
    if count.is_none() {
        let actual = match total {
            None => "totalResults is missing".to_string(),
            Some(v) => format!("totalResults is {}, not an integer", type_words(v)),
        };
        f.fail(
            "an integer totalResults",
            actual,
            format!(
                "Entra cannot tell whether its query matched: {SERVICE_INCOMPATIBLE} [inferred; \
                 whether Entra converts a numeric string is not documented]"
            ),
        );
    }
    resources_consistent(&mut f, body, count);
    for key in ["startIndex", "itemsPerPage"] {
        if let Some(v) = member(body, key).filter(|v| as_count(v).is_none()) {
            f.warn(
                format!("an integer {key}"),
                format!("{key} is {}, not an integer", type_words(v)),
                "RFC 7644 §3.4.2 deviation; Entra's per-object queries do not page, but Account \
                 Discovery and Microsoft's pagination test read startIndex and itemsPerPage \
                 [inferred]",
            );
        }
    }
    if f.problems.is_empty() {
        let n = count.unwrap_or(0);
        let listed = member(body, "Resources")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        f.passed = format!(
            "a ListResponse with totalResults {n} and {listed} resource{}",
            plural(listed)
        );
    }
    f
}

/// `Resources` is an array (absent only when nothing matched), no longer than totalResults,
/// and every element an object with an id.
fn resources_consistent(f: &mut Findings, body: &Value, total: Option<u64>) {
    let items = match member(body, "Resources") {
        None | Some(Value::Null) if total == Some(0) => return,
        None | Some(Value::Null) => {
            let why = total.map_or(String::new(), |t| format!(" while totalResults is {t}"));
            f.fail(
                "a Resources array",
                format!("Resources is missing{why}"),
                format!("Entra cannot read the matched object: {SERVICE_INCOMPATIBLE}"),
            );
            return;
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            f.fail(
                "a Resources array",
                format!("Resources is {}, not an array", type_words(other)),
                format!("Entra cannot read the matched object: {SERVICE_INCOMPATIBLE}"),
            );
            return;
        }
    };
    if let Some(t) = total.filter(|t| items.len() as u64 > *t) {
        f.fail(
            "no more resources than totalResults",
            format!(
                "Resources has {} elements but totalResults is {t}",
                items.len()
            ),
            "an inconsistent ListResponse; which field Entra trusts is not documented, and a \
             strict parser rejects it [inferred]",
        );
    }
    let without_id: Vec<String> = items
        .iter()
        .enumerate()
        .filter(|(_, r)| !has_id(r))
        .map(|(i, r)| id_problem(&format!("/Resources/{i}"), r))
        .collect();
    if !without_id.is_empty() {
        f.fail(
            "an id in every resource",
            first_few(&without_id, 3),
            format!(
                "Entra logs {SERVICE_INCOMPATIBLE}: every returned resource must carry an id, \
                 or Entra cannot link the object it matched"
            ),
        );
    }
}

fn has_id(resource: &Value) -> bool {
    member(resource, "id")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

/// `/Resources/0 has no id`, `id is the number 5, not a string`, … (`place` may be empty).
fn id_problem(place: &str, resource: &Value) -> String {
    let owner = if place.is_empty() { "the body" } else { place };
    if !resource.is_object() {
        return format!("{owner} is {}, not an object", type_words(resource));
    }
    match member(resource, "id") {
        None | Some(Value::Null) => format!("{owner} has no id"),
        Some(Value::String(s)) if s.is_empty() => format!("{} is an empty string", at(place, "id")),
        Some(other) => format!("{} is {}, not a string", at(place, "id"), type_words(other)),
    }
}

/// A single resource: object, non-empty string id, schemas array, meta.resourceType.
pub fn resource(body: &Value) -> Findings {
    let mut f = Findings::default();
    if !has_id(body) {
        let mut actual = id_problem("", body);
        if schemas_has(body, scim::LIST_RESPONSE).is_ok() {
            actual.push_str(" (the body is a ListResponse, not a resource)");
        }
        f.fail(
            "a non-empty string id",
            actual,
            format!(
                "Entra logs {SERVICE_INCOMPATIBLE}: the response has no usable id, so Entra \
                 cannot keep the link and every later update of this object fails (RFC 7643 \
                 §3.1 makes id a string; whether Entra converts a number is not documented)"
            ),
        );
        if !body.is_object() {
            return f;
        }
    }
    match member(body, "schemas") {
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {}
        other => f.warn(
            "a non-empty schemas array of URNs",
            match other {
                None => "schemas is missing".to_string(),
                Some(v) => format!("schemas is {}", compact(v)),
            },
            "RFC 7643 §3 requires schemas; Entra is not known to read it in responses, so it \
             probably tolerates this [inferred]",
        ),
    }
    meta_resource_type(&mut f, body);
    if f.problems.is_empty() {
        let id = member(body, "id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        f.passed = format!("a resource with id {id:?}");
    }
    f
}

fn meta_resource_type(f: &mut Findings, body: &Value) {
    let impact = "RFC 7643 §3.1 deviation; Entra is not known to read meta in responses \
                  [inferred]";
    match member(body, "meta") {
        None | Some(Value::Null) => {}
        Some(meta @ Value::Object(_)) => match member(meta, "resourceType") {
            Some(Value::String(_)) => {}
            None => f.warn(
                "meta.resourceType, a string",
                "meta has no resourceType",
                impact,
            ),
            Some(v) => f.warn(
                "meta.resourceType, a string",
                format!("meta.resourceType is {}", type_words(v)),
                impact,
            ),
        },
        Some(other) => f.warn(
            "meta, an object",
            format!("meta is {}", type_words(other)),
            impact,
        ),
    }
}

/// A SCIM Error for an error status (RFC 7644 §3.12).
pub fn error(http_status: u16, body: &Value) -> Findings {
    let mut f = Findings::default();
    let weak_log = "Entra still reacts to the HTTP status, but its provisioning log cannot \
                    show a SCIM error; strict SCIM clients report it as \
                    SystemForCrossDomainIdentityManagementServiceIncompatible [inferred]";
    if http_status < 400 {
        f.fail(
            "an error status (4xx or 5xx)",
            format!("the HTTP status is {http_status}"),
            "a success status with an error body: Entra takes the request as done [inferred]",
        );
    }
    if let Err(why) = schemas_has(body, scim::ERROR) {
        f.fail(
            format!("schemas containing {:?}", scim::ERROR),
            why,
            weak_log,
        );
    }
    error_status(&mut f, http_status, body, weak_log);
    match member(body, "detail") {
        Some(Value::String(_)) => {}
        other => f.warn(
            "a detail string",
            match other {
                None => "detail is missing".to_string(),
                Some(v) => format!("detail is {}, not a string", type_words(v)),
            },
            "Entra's provisioning log shows no reason for the failure, so the admin cannot \
             tell what to fix",
        ),
    }
    match member(body, "scimType") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if SCIM_TYPES.contains(&t.as_str()) => {}
        Some(other) => f.warn(
            "scimType, one of RFC 7644's keywords (e.g. \"uniqueness\")",
            format!("scimType is {}", type_words(other)),
            "RFC 7644 §3.12 deviation; only the text in Entra's log is affected [inferred]",
        ),
    }
    if f.problems.is_empty() {
        f.passed = format!("a SCIM Error with status \"{http_status}\"");
    }
    f
}

fn error_status(f: &mut Findings, http_status: u16, body: &Value, weak_log: &str) {
    let expected = format!("status \"{http_status}\" (a string equal to the HTTP status)");
    let want = http_status.to_string();
    match member(body, "status") {
        Some(Value::String(s)) if *s == want => {}
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(http_status)) => f.warn(
            expected,
            format!("status is the number {n}, not the string \"{n}\""),
            "RFC 7644 §3.12 makes status a string; Entra reacts to the HTTP status and is not \
             known to mind a number [inferred]",
        ),
        None => f.fail(expected, "status is missing", weak_log),
        Some(v) => f.fail(
            expected,
            format!(
                "status is {} but the HTTP status is {http_status}",
                type_words(v)
            ),
            "the error body contradicts the HTTP status; Entra reacts to the HTTP status and \
             its log shows a misleading error [inferred]",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Severity;
    use serde_json::json;

    fn list(total: Value, resources: Value) -> Value {
        json!({"schemas": [scim::LIST_RESPONSE], "totalResults": total, "Resources": resources,
               "startIndex": 1, "itemsPerPage": 20})
    }

    fn only(f: &Findings) -> (String, String, Severity) {
        assert_eq!(f.problems.len(), 1, "{f:#?}");
        let p = &f.problems[0];
        (p.actual.clone(), p.impact.clone(), p.severity)
    }

    #[test]
    fn list_response_passes_for_entra_shapes() {
        let f = list_response(&list(json!(0), json!([])));
        assert!(f.problems.is_empty(), "{f:#?}");
        assert_eq!(
            f.passed,
            "a ListResponse with totalResults 0 and 0 resources"
        );
        let mut no_resources = list(json!(0), json!(null));
        no_resources.as_object_mut().unwrap().remove("Resources");
        assert!(list_response(&no_resources).problems.is_empty());
        assert!(
            list_response(&list(json!(1), json!([{"id": "u-1"}])))
                .problems
                .is_empty()
        );
        // Key case and URN case are folded.
        let loose = json!({"Schemas": ["URN:ietf:params:scim:api:messages:2.0:ListResponse"],
                           "TotalResults": 1, "resources": [{"Id": "u-1"}]});
        assert!(list_response(&loose).problems.is_empty());
    }

    #[test]
    fn total_results_as_a_string_fails() {
        let f = list_response(&list(json!("1"), json!([{"id": "u-1"}])));
        let (actual, impact, sev) = only(&f);
        assert_eq!(actual, r#"totalResults is the string "1", not an integer"#);
        assert!(impact.contains(SERVICE_INCOMPATIBLE));
        assert_eq!(sev, Severity::Fail);
    }

    #[test]
    fn list_response_urn_and_resources_findings() {
        let f = list_response(&json!({"schemas": ["x"], "totalResults": 2}));
        assert_eq!(f.problems.len(), 2, "{f:#?}");
        assert_eq!(f.problems[0].actual, r#"schemas is ["x"]"#);
        assert_eq!(
            f.problems[1].actual,
            "Resources is missing while totalResults is 2"
        );
        let f = list_response(&list(json!(1), json!({"id": "u"})));
        assert_eq!(only(&f).0, "Resources is an object, not an array");
        let f = list_response(&list(json!(1), json!([{"id": "a"}, {"id": "b"}])));
        assert_eq!(only(&f).0, "Resources has 2 elements but totalResults is 1");
        let f = list_response(&json!([1]));
        assert_eq!(only(&f).0, "the body is an array of 1 element");
    }

    #[test]
    fn list_response_resources_need_ids() {
        let f = list_response(&list(json!(4), json!([{"id": "a"}, {}, {"id": ""}, "x"])));
        assert_eq!(
            only(&f).0,
            "/Resources/1 has no id, /Resources/2/id is an empty string, \
             /Resources/3 is the string \"x\", not an object"
        );
    }

    #[test]
    fn paging_fields_must_be_integers_but_only_warn() {
        let mut body = list(json!(0), json!([]));
        body["startIndex"] = json!("1");
        let (actual, _, sev) = only(&list_response(&body));
        assert_eq!(actual, r#"startIndex is the string "1", not an integer"#);
        assert_eq!(sev, Severity::Warn);
    }

    #[test]
    fn resource_needs_a_string_id() {
        let ok = resource(&json!({"schemas": [scim::USER_SCHEMA], "id": "u-1",
                                  "meta": {"resourceType": "User"}}));
        assert!(ok.problems.is_empty(), "{ok:#?}");
        assert_eq!(ok.passed, r#"a resource with id "u-1""#);
        let f = resource(&json!({"schemas": [scim::USER_SCHEMA]}));
        let (actual, impact, _) = only(&f);
        assert_eq!(actual, "the body has no id");
        assert!(impact.contains("every later update of this object fails"));
        let f = resource(&json!({"schemas": [scim::USER_SCHEMA], "id": 7}));
        assert_eq!(only(&f).0, "/id is the number 7, not a string");
        let f = resource(&json!("u-1"));
        assert_eq!(only(&f).0, r#"the body is the string "u-1", not an object"#);
    }

    #[test]
    fn resource_notices_a_list_response() {
        let f = resource(&list(json!(0), json!([])));
        assert_eq!(
            f.problems[0].actual,
            "the body has no id (the body is a ListResponse, not a resource)"
        );
    }

    #[test]
    fn resource_schemas_and_meta_only_warn() {
        let f = resource(&json!({"id": "u-1", "meta": {"created": "x"}}));
        assert_eq!(f.problems.len(), 2, "{f:#?}");
        assert!(f.problems.iter().all(|p| p.severity == Severity::Warn));
        assert_eq!(f.problems[0].actual, "schemas is missing");
        assert_eq!(f.problems[1].actual, "meta has no resourceType");
        let f = resource(&json!({"id": "u-1", "schemas": [scim::USER_SCHEMA], "meta": "m"}));
        assert_eq!(only(&f).0, r#"meta is the string "m""#);
    }

    #[test]
    fn error_passes_for_the_rfc_shape() {
        let body = json!({"schemas": [scim::ERROR], "status": "409", "scimType": "uniqueness",
                          "detail": "userName taken"});
        let f = error(409, &body);
        assert!(f.problems.is_empty(), "{f:#?}");
        assert_eq!(f.passed, r#"a SCIM Error with status "409""#);
    }

    #[test]
    fn numeric_status_warns_with_a_precise_message() {
        let body = json!({"schemas": [scim::ERROR], "status": 404, "detail": "gone"});
        let (actual, _, sev) = only(&error(404, &body));
        assert_eq!(actual, r#"status is the number 404, not the string "404""#);
        assert_eq!(sev, Severity::Warn);
    }

    #[test]
    fn error_status_must_match_and_exist() {
        let body = json!({"schemas": [scim::ERROR], "status": "500", "detail": "x"});
        let (actual, _, sev) = only(&error(400, &body));
        assert_eq!(
            actual,
            r#"status is the string "500" but the HTTP status is 400"#
        );
        assert_eq!(sev, Severity::Fail);
        let body = json!({"schemas": [scim::ERROR], "detail": "x"});
        assert_eq!(only(&error(400, &body)).0, "status is missing");
        let body = json!({"schemas": [scim::ERROR], "status": 500, "detail": "x"});
        assert_eq!(
            only(&error(400, &body)).0,
            "status is the number 500 but the HTTP status is 400"
        );
    }

    #[test]
    fn error_urn_detail_and_scim_type() {
        let f = error(400, &json!({"status": "400", "scimType": "bad"}));
        let actual: Vec<&str> = f.problems.iter().map(|p| p.actual.as_str()).collect();
        assert_eq!(
            actual,
            [
                "schemas is missing",
                "detail is missing",
                r#"scimType is the string "bad""#
            ]
        );
        assert_eq!(f.problems[0].severity, Severity::Fail);
        assert_eq!(f.problems[1].severity, Severity::Warn);
        let f = error(
            200,
            &json!({"schemas": [scim::ERROR], "status": "200", "detail": "x"}),
        );
        assert_eq!(only(&f).0, "the HTTP status is 200");
    }
}
