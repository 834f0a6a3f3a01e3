//! JSON-pointer assertions: one scenario `{"pointer": .., <predicate>: ..}` → one outcome.
//!
//! Comparisons follow SCIM rather than byte equality where the two differ: numbers compare by
//! value (`1 == 1.0`), object keys are matched case-insensitively when no exact key exists
//! (RFC 7643 §2.1, see `pointer`), and `contains` treats an object as a pattern, so
//! `{"value": "<id>"}` finds a member that also carries `display` and `$ref`.

use super::outcome::CheckOutcome;
use super::pointer::{self, Lookup};
use super::render::{compact, cut, plural, type_words};
use crate::scenario::model::{JsonAssertion, JsonType, Predicate};
use regex::Regex;
use serde_json::{Number, Value};

/// Impact shown when a scenario gives none for a failed assertion.
const NO_IMPACT: &str = "the scenario states no Entra impact for this assertion";

/// Evaluates one assertion against a parsed response body.
pub fn evaluate_assertion(assertion: &JsonAssertion, body: &Value) -> CheckOutcome {
    let (passed, actual) = match pointer::resolve(body, &assertion.pointer) {
        Err(e) => (false, format!("not evaluated: {e}")),
        Ok(lookup) => judge(&assertion.predicate, &lookup, &assertion.pointer),
    };
    CheckOutcome {
        check: format!("json {}", describe_assertion(assertion)),
        severity: assertion.severity,
        passed,
        expected: expected_text(&assertion.predicate),
        actual,
        impact: (!passed).then(|| {
            assertion
                .impact
                .clone()
                .unwrap_or_else(|| NO_IMPACT.to_string())
        }),
    }
}

/// `/active equals false`: the pointer (or `(body)` for the empty pointer) and the predicate.
pub fn describe_assertion(assertion: &JsonAssertion) -> String {
    let at = if assertion.pointer.is_empty() {
        "(body)"
    } else {
        assertion.pointer.as_str()
    };
    format!("{at} {}", describe_predicate(&assertion.predicate))
}

/// The predicate as a short label: `equals false`, `exists`, `contains {"value":"u-1"}`.
pub fn describe_predicate(predicate: &Predicate) -> String {
    let short = |v: &Value| cut(&v.to_string(), 60);
    match predicate {
        Predicate::Equals(v) => format!("equals {}", short(v)),
        Predicate::NotEquals(v) => format!("does not equal {}", short(v)),
        Predicate::Exists(true) => "exists".to_string(),
        Predicate::Exists(false) => "does not exist".to_string(),
        Predicate::Absent => "is absent".to_string(),
        Predicate::Matches(re) => format!("matches /{}/", cut(re, 60)),
        Predicate::OneOf(vs) => format!("one of {}", short(&Value::Array(vs.clone()))),
        Predicate::Type(t) => format!("type {}", t.as_str()),
        Predicate::Length(n) => format!("length {n}"),
        Predicate::Contains(v) => format!("contains {}", short(v)),
        Predicate::NotContains(v) => format!("does not contain {}", short(v)),
        Predicate::SameAs { step, .. } => format!("unchanged since {step}"),
    }
}

/// What a passing value looks like, for the `expected` column.
fn expected_text(predicate: &Predicate) -> String {
    match predicate {
        Predicate::Equals(v) => compact(v),
        Predicate::NotEquals(v) => format!("absent, or any value but {}", compact(v)),
        Predicate::Exists(true) => "present (any value, null included)".to_string(),
        Predicate::Exists(false) => "not present".to_string(),
        Predicate::Absent => "absent or null".to_string(),
        Predicate::Matches(re) => format!("a string matching /{}/", cut(re, 200)),
        Predicate::OneOf(vs) => format!("one of {}", compact(&Value::Array(vs.clone()))),
        Predicate::Type(JsonType::Integer) => "an integer".to_string(),
        Predicate::Type(JsonType::Null) => "null".to_string(),
        Predicate::Type(t) => {
            let article = if matches!(t, JsonType::Object | JsonType::Array) {
                "an"
            } else {
                "a"
            };
            format!("{article} {}", t.as_str())
        }
        Predicate::Length(n) => format!("an array of {n} element{}", plural(*n)),
        Predicate::Contains(v) => format!("an array with an element matching {}", compact(v)),
        Predicate::NotContains(v) => format!("no element matching {}", compact(v)),
        Predicate::SameAs {
            step,
            before: Some(Value::Null),
        } => format!("absent, as {step} read it"),
        Predicate::SameAs {
            step,
            before: Some(v),
        } => format!("{}, as {step} read it", compact(v)),
        Predicate::SameAs { step, before: None } => format!("the value {step} read"),
    }
}

/// Whether the lookup satisfies the predicate, and the `actual` text.
fn judge(predicate: &Predicate, lookup: &Lookup<'_>, asked: &str) -> (bool, String) {
    let (value, path) = match lookup {
        Lookup::Found { value, path } => (*value, path.as_str()),
        Lookup::Missing { .. } => {
            let passes = matches!(
                predicate,
                Predicate::Exists(false)
                    | Predicate::Absent
                    | Predicate::NotContains(_)
                    | Predicate::NotEquals(_)
                    | Predicate::SameAs {
                        before: Some(Value::Null),
                        ..
                    }
            );
            return (passes, describe_missing(lookup));
        }
    };
    let passed = match predicate {
        Predicate::Equals(v) => json_equal(value, v),
        Predicate::NotEquals(v) => !json_equal(value, v),
        Predicate::Exists(present) => *present,
        Predicate::Absent => value.is_null(),
        Predicate::Matches(re) => match (Regex::new(re), value.as_str()) {
            (Err(e), _) => return (false, format!("not evaluated: invalid regex ({e})")),
            (Ok(re), Some(s)) => re.is_match(s),
            (Ok(_), None) => false,
        },
        Predicate::OneOf(vs) => vs.iter().any(|v| json_equal(value, v)),
        Predicate::Type(t) => has_type(value, *t),
        Predicate::Length(n) => value.as_array().is_some_and(|a| a.len() == *n),
        Predicate::Contains(wanted) => value
            .as_array()
            .is_some_and(|a| a.iter().any(|e| element_matches(e, wanted))),
        Predicate::NotContains(wanted) => match value {
            Value::Null => true,
            Value::Array(a) => !a.iter().any(|e| element_matches(e, wanted)),
            _ => false,
        },
        Predicate::SameAs {
            before: Some(before),
            ..
        } => json_equal(value, before) || (value.is_null() && before.is_null()),
        // The runner sets what the earlier step read; unset, it had no JSON answer.
        Predicate::SameAs { step, before: None } => {
            return (false, format!("not evaluated: {step} has no JSON answer"));
        }
    };
    let mut actual = describe_found(predicate, value);
    // Say so when the body spells a key differently from the scenario.
    if path != asked {
        actual.push_str(&format!(" (at {path})"));
    }
    (passed, actual)
}

fn describe_found(predicate: &Predicate, value: &Value) -> String {
    match predicate {
        Predicate::Type(_) | Predicate::Length(_) => type_words(value),
        Predicate::Matches(_) if !value.is_string() => format!("not a string: {}", compact(value)),
        Predicate::Contains(_) | Predicate::NotContains(_) if !value.is_array() => {
            format!("not an array: {}", compact(value))
        }
        _ => compact(value),
    }
}

/// Where a pointer stopped: `missing: the body has no key "active"`.
fn describe_missing(lookup: &Lookup<'_>) -> String {
    let Lookup::Missing {
        reached,
        parent,
        missing,
    } = lookup
    else {
        return String::new();
    };
    let owner = if reached.is_empty() {
        "the body".to_string()
    } else {
        reached.clone()
    };
    match parent {
        Value::Object(_) => format!("missing: {owner} has no key {missing:?}"),
        Value::Array(a) => format!(
            "missing: {owner} has no element {missing} (it has {} element{})",
            a.len(),
            plural(a.len())
        ),
        other => format!("missing: {owner} is {}, not a container", type_words(other)),
    }
}

/// The JSON type test of `type` assertions: an integer is also a number.
fn has_type(value: &Value, t: JsonType) -> bool {
    let actual = JsonType::of(value);
    actual == t || (t == JsonType::Number && actual == JsonType::Integer)
}

/// JSON equality with numbers by value and SCIM's case-insensitive object keys.
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_equal(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && y.iter().all(|(k, v)| {
                    pointer::get_key(x, k).is_some_and(|(_, found)| json_equal(found, v))
                })
        }
        _ => a == b,
    }
}

fn number_equal(x: &Number, y: &Number) -> bool {
    if let (Some(p), Some(q)) = (x.as_i64(), y.as_i64()) {
        return p == q;
    }
    if let (Some(p), Some(q)) = (x.as_u64(), y.as_u64()) {
        return p == q;
    }
    match (x.as_f64(), y.as_f64()) {
        (Some(p), Some(q)) => p == q,
        _ => false,
    }
}

/// An array element matches an object pattern when it has every key of the pattern with an
/// equal value; any other pattern must be equal.
pub fn element_matches(element: &Value, wanted: &Value) -> bool {
    match (element, wanted) {
        (Value::Object(have), Value::Object(want)) => want
            .iter()
            .all(|(k, v)| pointer::get_key(have, k).is_some_and(|(_, found)| json_equal(found, v))),
        _ => json_equal(element, wanted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Severity;
    use serde_json::json;

    fn check(pointer: &str, predicate: Predicate, body: &Value) -> CheckOutcome {
        let a = JsonAssertion {
            pointer: pointer.to_string(),
            predicate,
            severity: Severity::Fail,
            impact: None,
        };
        evaluate_assertion(&a, body)
    }

    fn user() -> Value {
        json!({
            "id": "u-1", "Active": false, "userName": "alice@example.com", "count": 1,
            "emails": [{"value": "a@x", "type": "work"}],
            "members": [{"value": "u-2", "display": "Bob", "$ref": "https://h/Users/u-2"}],
            "title": null
        })
    }

    #[test]
    fn equals_passes_and_fails_with_rendered_values() {
        let ok = check("/active", Predicate::Equals(json!(false)), &user());
        assert!(ok.passed, "{ok:?}");
        assert_eq!(ok.check, "json /active equals false");
        assert_eq!(ok.actual, "false (at /Active)");
        let bad = check("/userName", Predicate::Equals(json!("bob")), &user());
        assert!(!bad.passed);
        assert_eq!(bad.expected, r#""bob""#);
        assert_eq!(bad.actual, r#""alice@example.com""#);
        assert_eq!(bad.impact.as_deref(), Some(NO_IMPACT));
    }

    #[test]
    fn equals_compares_numbers_by_value() {
        assert!(check("/count", Predicate::Equals(json!(1.0)), &user()).passed);
        assert!(!check("/count", Predicate::Equals(json!("1")), &user()).passed);
        assert!(json_equal(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(!json_equal(&json!(-1), &json!(u64::MAX)));
    }

    #[test]
    fn equals_on_objects_folds_key_case() {
        let body = json!({"manager": {"Value": "m-1"}});
        assert!(
            check(
                "/manager",
                Predicate::Equals(json!({"value": "m-1"})),
                &body
            )
            .passed
        );
        assert!(
            !check(
                "/manager",
                Predicate::Equals(json!({"value": "m-2"})),
                &body
            )
            .passed
        );
        let extra = json!({"manager": {"value": "m-1", "x": 1}});
        assert!(
            !check(
                "/manager",
                Predicate::Equals(json!({"value": "m-1"})),
                &extra
            )
            .passed
        );
    }

    #[test]
    fn missing_values_say_where_the_pointer_stopped() {
        let o = check("/nickName", Predicate::Equals(json!("x")), &user());
        assert!(!o.passed);
        assert_eq!(o.actual, r#"missing: the body has no key "nickName""#);
        let o = check("/emails/3/value", Predicate::Exists(true), &user());
        assert_eq!(
            o.actual,
            "missing: /emails has no element 3 (it has 1 element)"
        );
        let o = check("/id/x", Predicate::Exists(true), &user());
        assert_eq!(
            o.actual,
            r#"missing: /id is the string "u-1", not a container"#
        );
    }

    #[test]
    fn exists_and_absent() {
        assert!(check("/title", Predicate::Exists(true), &user()).passed);
        assert!(!check("/title", Predicate::Exists(false), &user()).passed);
        assert!(check("/nickName", Predicate::Exists(false), &user()).passed);
        assert!(check("/title", Predicate::Absent, &user()).passed);
        assert!(check("/nickName", Predicate::Absent, &user()).passed);
        let o = check("/id", Predicate::Absent, &user());
        assert!(!o.passed);
        assert_eq!(o.check, "json /id is absent");
        assert_eq!(o.expected, "absent or null");
    }

    #[test]
    fn matches_needs_a_string_and_a_valid_regex() {
        assert!(check("/userName", Predicate::Matches("^alice@".into()), &user()).passed);
        let o = check("/count", Predicate::Matches("1".into()), &user());
        assert!(!o.passed);
        assert_eq!(o.actual, "not a string: 1");
        let o = check("/userName", Predicate::Matches("(".into()), &user());
        assert!(!o.passed);
        assert!(
            o.actual.starts_with("not evaluated: invalid regex"),
            "{}",
            o.actual
        );
    }

    #[test]
    fn one_of_and_type() {
        assert!(
            check(
                "/count",
                Predicate::OneOf(vec![json!(0), json!(1.0)]),
                &user()
            )
            .passed
        );
        assert!(!check("/id", Predicate::OneOf(vec![json!("u-2")]), &user()).passed);
        assert!(check("/count", Predicate::Type(JsonType::Number), &user()).passed);
        assert!(check("/count", Predicate::Type(JsonType::Integer), &user()).passed);
        let o = check("/active", Predicate::Type(JsonType::String), &user());
        assert!(!o.passed);
        assert_eq!(o.expected, "a string");
        assert_eq!(o.actual, "the boolean false (at /Active)");
        let o = check("/emails", Predicate::Type(JsonType::Object), &user());
        assert_eq!(o.expected, "an object");
        assert!(!check("/n", Predicate::Type(JsonType::Integer), &json!({"n": 1.5})).passed);
    }

    #[test]
    fn length_counts_array_elements() {
        assert!(check("/emails", Predicate::Length(1), &user()).passed);
        let o = check("/emails", Predicate::Length(2), &user());
        assert!(!o.passed);
        assert_eq!(o.expected, "an array of 2 elements");
        assert_eq!(o.actual, "an array of 1 element");
        assert!(!check("/id", Predicate::Length(3), &user()).passed);
    }

    #[test]
    fn contains_matches_object_patterns_and_scalars() {
        let body = user();
        assert!(
            check(
                "/members",
                Predicate::Contains(json!({"value": "u-2"})),
                &body
            )
            .passed
        );
        assert!(
            check(
                "/members",
                Predicate::Contains(json!({"VALUE": "u-2"})),
                &body
            )
            .passed
        );
        let o = check(
            "/members",
            Predicate::Contains(json!({"value": "u-3"})),
            &body,
        );
        assert!(!o.passed);
        assert_eq!(
            o.expected,
            r#"an array with an element matching {"value":"u-3"}"#
        );
        assert!(
            check(
                "/s",
                Predicate::Contains(json!("b")),
                &json!({"s": ["a", "b"]})
            )
            .passed
        );
        let o = check("/id", Predicate::Contains(json!("u")), &body);
        assert_eq!(o.actual, r#"not an array: "u-1""#);
        assert!(!check("/nope", Predicate::Contains(json!(1)), &body).passed);
    }

    #[test]
    fn not_contains_passes_on_absent_or_null_arrays() {
        let body = user();
        let o = check(
            "/members",
            Predicate::NotContains(json!({"value": "u-2"})),
            &body,
        );
        assert!(!o.passed);
        assert_eq!(o.check, r#"json /members does not contain {"value":"u-2"}"#);
        assert!(
            check(
                "/members",
                Predicate::NotContains(json!({"value": "u-9"})),
                &body
            )
            .passed
        );
        assert!(
            check(
                "/groups",
                Predicate::NotContains(json!({"value": "g"})),
                &body
            )
            .passed
        );
        assert!(check("/title", Predicate::NotContains(json!("x")), &body).passed);
        assert!(!check("/id", Predicate::NotContains(json!("x")), &body).passed);
    }

    #[test]
    fn not_equals_passes_on_a_missing_or_different_value_only() {
        let body = json!({"title": "Engineer", "nickName": "", "manager": null});
        let o = check("/title", Predicate::NotEquals(json!("Engineer")), &body);
        assert!(!o.passed);
        assert_eq!(o.check, r#"json /title does not equal "Engineer""#);
        assert_eq!(o.expected, r#"absent, or any value but "Engineer""#);
        assert_eq!(o.actual, r#""Engineer""#);
        for pointer in ["/nickName", "/manager", "/missing", "/title/deeper"] {
            let o = check(pointer, Predicate::NotEquals(json!("Engineer")), &body);
            assert!(o.passed, "{pointer}: {}", o.actual);
        }
        // Numbers compare by value, keys case-insensitively, as for `equals`.
        assert!(!check("/n", Predicate::NotEquals(json!(1)), &json!({"n": 1.0})).passed);
        assert!(!check("/TITLE", Predicate::NotEquals(json!("Engineer")), &body).passed);
    }

    #[test]
    fn invalid_pointer_fails_without_panicking() {
        let o = check("active", Predicate::Exists(true), &user());
        assert!(!o.passed);
        assert_eq!(
            o.actual,
            r#"not evaluated: pointer "active" must be empty or start with '/'"#
        );
    }

    #[test]
    fn empty_pointer_labels_the_body_and_scenario_impact_is_kept() {
        let a = JsonAssertion {
            pointer: String::new(),
            predicate: Predicate::Type(JsonType::Array),
            severity: Severity::Warn,
            impact: Some("the user stays active".into()),
        };
        let o = evaluate_assertion(&a, &user());
        assert_eq!(o.check, "json (body) type array");
        assert_eq!(o.actual, "an object");
        assert_eq!(o.severity, Severity::Warn);
        assert_eq!(o.impact.as_deref(), Some("the user stays active"));
    }

    #[test]
    fn long_values_are_cut() {
        let body = json!({"x": "y".repeat(1000)});
        let o = check("/x", Predicate::Equals(json!("z")), &body);
        assert!(o.actual.chars().count() < 320, "{}", o.actual.len());
        assert!(o.actual.contains('…'));
    }
}
