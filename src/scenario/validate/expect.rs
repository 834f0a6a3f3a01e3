//! Validation of a step's `expect`: status, named checks and JSON-pointer assertions.

use super::refs::Scope;
use super::{Checker, Target, child};
use crate::check::names::{KNOWN, lookup};
use crate::scenario::error::did_you_mean;
use crate::scenario::model::{Expect, JsonAssertion, JsonType, NamedCheck, Predicate, Severity};
use crate::template::syntax::has_template;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

const EXPECT_KEYS: &[&str] = &[
    "status",
    "status_impact",
    "checks",
    "json",
    "mapped_schemas",
];
const CHECK_KEYS: &[&str] = &["name", "severity"];
const PREDICATES: &[&str] = &[
    "equals",
    "not_equals",
    "exists",
    "absent",
    "matches",
    "one_of",
    "type",
    "length",
    "contains",
    "not_contains",
    "same_as",
];
const ASSERTION_KEYS: &[&str] = &[
    "pointer",
    "severity",
    "impact",
    "equals",
    "not_equals",
    "exists",
    "absent",
    "matches",
    "one_of",
    "type",
    "length",
    "contains",
    "not_contains",
    "same_as",
];
const SEVERITIES: &[(&str, Severity)] = &[("fail", Severity::Fail), ("warn", Severity::Warn)];
const TYPES: &[(&str, JsonType)] = &[
    ("string", JsonType::String),
    ("number", JsonType::Number),
    ("integer", JsonType::Integer),
    ("boolean", JsonType::Boolean),
    ("object", JsonType::Object),
    ("array", JsonType::Array),
    ("null", JsonType::Null),
];

impl Checker {
    pub(super) fn expect(&mut self, value: &Value, ptr: &str, scope: &Scope) -> Option<Expect> {
        let map = self.object(value, ptr, "`expect`")?;
        self.keys(map, ptr, EXPECT_KEYS);
        let status = match map.get("status") {
            Some(v) => self.status(v, &child(ptr, "status")),
            None => Some(Vec::new()),
        };
        let status_impact = self.optional_string(map, ptr, "status_impact");
        let checks = match map.get("checks") {
            Some(v) => self.checks(v, &child(ptr, "checks")),
            None => Some(Vec::new()),
        };
        let json = match map.get("json") {
            Some(v) => self.assertions(v, &child(ptr, "json"), scope),
            None => Some(Vec::new()),
        };
        let mapped_schemas = match map.get("mapped_schemas") {
            Some(v) => {
                Some(self.choice(v, &child(ptr, "mapped_schemas"), "severity", SEVERITIES)?)
            }
            None => None,
        };
        Some(Expect {
            status: status?,
            status_impact,
            checks: checks?,
            json: json?,
            mapped_schemas,
        })
    }

    fn status(&mut self, value: &Value, ptr: &str) -> Option<Vec<u16>> {
        let codes: Vec<(String, &Value)> = match value {
            Value::Array(items) if items.is_empty() => {
                let hint = "leave `status` out to accept any status";
                self.fail(ptr, "empty status list", Some(hint.into()));
                return None;
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{ptr}/{i}"), v))
                .collect(),
            single => vec![(ptr.to_string(), single)],
        };
        let mut out = Vec::with_capacity(codes.len());
        for (p, v) in codes {
            match v.as_u64().filter(|c| (100..=599).contains(c)) {
                Some(code) => out.push(code as u16),
                None => {
                    let hint = "write a status code such as `200`, or a list such as `[200, 204]`";
                    self.fail(&p, format!("invalid HTTP status `{v}`"), Some(hint.into()));
                }
            }
        }
        (out.len() == value.as_array().map_or(1, Vec::len)).then_some(out)
    }

    fn checks(&mut self, value: &Value, ptr: &str) -> Option<Vec<NamedCheck>> {
        let items = self.array(value, ptr, "`checks`")?;
        let mut out = Vec::with_capacity(items.len());
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("{ptr}/{i}");
            let (name, name_ptr, severity) = match item {
                Value::Object(map) => {
                    self.keys(map, &p, CHECK_KEYS);
                    let severity = map.get("severity").and_then(|v| {
                        self.choice(v, &child(&p, "severity"), "severity", SEVERITIES)
                    });
                    let name = self
                        .required(map, &p, "name")
                        .and_then(|v| self.string(v, &child(&p, "name"), "a check name"));
                    (name, child(&p, "name"), severity)
                }
                other => (self.string(other, &p, "a check name"), p.clone(), None),
            };
            let Some(name) = name else { continue };
            if lookup(&name).is_none() {
                let names: Vec<&str> = KNOWN.iter().map(|c| c.name).collect();
                let hint = did_you_mean(&name, &names)
                    .unwrap_or_else(|| format!("known checks: {}", names.join(", ")));
                self.fail(&name_ptr, format!("unknown check `{name}`"), Some(hint));
                continue;
            }
            if !seen.insert(name.clone()) {
                self.fail(&name_ptr, format!("check `{name}` is listed twice"), None);
                continue;
            }
            out.push(NamedCheck { name, severity });
        }
        (out.len() == items.len()).then_some(out)
    }

    fn assertions(
        &mut self,
        value: &Value,
        ptr: &str,
        scope: &Scope,
    ) -> Option<Vec<JsonAssertion>> {
        let items = self.array(value, ptr, "`json` assertions")?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(a) = self.assertion(item, &format!("{ptr}/{i}"), scope) {
                out.push(a);
            }
        }
        (out.len() == items.len()).then_some(out)
    }

    fn assertion(&mut self, value: &Value, ptr: &str, scope: &Scope) -> Option<JsonAssertion> {
        let map = self.object(value, ptr, "an assertion")?;
        self.keys(map, ptr, ASSERTION_KEYS);
        let pointer = self
            .required(map, ptr, "pointer")
            .and_then(|v| self.string(v, &child(ptr, "pointer"), "a JSON pointer"))
            .filter(|p| self.pointer_syntax(p, &child(ptr, "pointer")));
        if let Some(p) = &pointer {
            self.template(p, &child(ptr, "pointer"), false, scope);
        }
        let severity = match map.get("severity") {
            Some(v) => self.choice(v, &child(ptr, "severity"), "severity", SEVERITIES),
            None => Some(Severity::Fail),
        };
        let impact = self.optional_string(map, ptr, "impact");
        let predicate = self.predicate(map, ptr, scope);
        Some(JsonAssertion {
            pointer: pointer?,
            predicate: predicate?,
            severity: severity?,
            impact,
        })
    }

    /// The one predicate of an assertion.
    fn predicate(
        &mut self,
        map: &Map<String, Value>,
        ptr: &str,
        scope: &Scope,
    ) -> Option<Predicate> {
        let present: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| PREDICATES.contains(k))
            .collect();
        let (key, value) = match present.as_slice() {
            // An unknown key is most likely the misspelt predicate, already reported.
            [] if map.keys().any(|k| !ASSERTION_KEYS.contains(&k.as_str())) => return None,
            [] => {
                let hint = format!("add one of: {}", PREDICATES.join(", "));
                self.fail(ptr, "assertion has no predicate", Some(hint));
                return None;
            }
            [key] => (*key, &map[*key]),
            [first, second, ..] => {
                let msg =
                    format!("assertion has more than one predicate (`{first}` and `{second}`)");
                let hint = "write one assertion per predicate";
                self.push(&child(ptr, second), Target::Key, msg, Some(hint.into()));
                return None;
            }
        };
        let p = child(ptr, key);
        match key {
            "equals" | "not_equals" | "contains" | "not_contains" => {
                self.template_value(value, &p, scope);
                let v = value.clone();
                Some(match key {
                    "equals" => Predicate::Equals(v),
                    "not_equals" => Predicate::NotEquals(v),
                    "contains" => Predicate::Contains(v),
                    _ => Predicate::NotContains(v),
                })
            }
            "exists" => self.boolean(value, &p, "`exists`").map(Predicate::Exists),
            "absent" => self.absent(value, &p),
            "matches" => self.regex(value, &p, scope).map(Predicate::Matches),
            "one_of" => self.one_of(value, &p, scope),
            "type" => self
                .choice(value, &p, "JSON type", TYPES)
                .map(Predicate::Type),
            "same_as" => self.same_as(value, &p, scope),
            _ => self.length(value, &p),
        }
    }

    /// `same_as` names an earlier step of the scenario.
    fn same_as(&mut self, value: &Value, p: &str, scope: &Scope) -> Option<Predicate> {
        let id = self.string(value, p, "the id of an earlier step")?;
        let earlier = scope.earlier_steps();
        if earlier.iter().any(|s| *s == id) {
            return Some(Predicate::SameAs {
                step: id.to_string(),
                before: None,
            });
        }
        let hint = if earlier.is_empty() {
            "`same_as` compares with an earlier step's response; this is the first step".to_string()
        } else {
            format!("earlier steps: {}", earlier.join(", "))
        };
        self.fail(
            p,
            format!("`same_as` names `{id}`, which is not an earlier step"),
            Some(hint),
        );
        None
    }

    fn absent(&mut self, value: &Value, p: &str) -> Option<Predicate> {
        if value == &Value::Bool(true) {
            return Some(Predicate::Absent);
        }
        let hint = "write `\"absent\": true`; to require the value, write `\"exists\": true`";
        self.fail(
            p,
            format!("`absent` must be `true`, found `{value}`"),
            Some(hint.into()),
        );
        None
    }

    fn regex(&mut self, value: &Value, p: &str, scope: &Scope) -> Option<String> {
        let re = self.string(value, p, "a regular expression")?;
        if has_template(&re) {
            // Checked once rendered; here only the template itself.
            self.template(&re, p, false, scope);
        } else if let Err(e) = regex::Regex::new(&re) {
            let detail = e.to_string();
            let last = detail
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            let msg = format!(
                "invalid regular expression: {}",
                last.trim().trim_start_matches("error: ")
            );
            self.fail(p, msg, None);
            return None;
        }
        Some(re)
    }

    fn one_of(&mut self, value: &Value, p: &str, scope: &Scope) -> Option<Predicate> {
        let items = self.array(value, p, "`one_of`")?;
        if items.is_empty() {
            self.fail(p, "`one_of` needs at least one value", None);
            return None;
        }
        self.template_value(value, p, scope);
        Some(Predicate::OneOf(items.to_vec()))
    }

    fn length(&mut self, value: &Value, p: &str) -> Option<Predicate> {
        let n = value.as_u64().and_then(|n| usize::try_from(n).ok());
        if n.is_none() {
            let msg = format!("`length` must be a whole number, found `{value}`");
            self.fail(p, msg, None);
        }
        n.map(Predicate::Length)
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::load::testing::*;

    fn exp(expect: &str) -> String {
        with_step(&format!(
            r#"{{ "id": "s", "request": {{ "method": "GET", "path": "/x" }}, "expect": {expect} }}"#
        ))
    }

    fn json(assertion: &str) -> String {
        exp(&format!(r#"{{ "json": [ {assertion} ] }}"#))
    }

    #[test]
    fn unknown_expect_keys_suggest_the_meant_one() {
        expect_error(
            &exp(r#"{ "statuss": 200 }"#),
            "\"statuss\"",
            "unknown key `statuss`",
            Some("did you mean `status`?"),
        );
    }

    #[test]
    fn statuses_are_codes_or_non_empty_lists() {
        let hint = Some("write a status code such as `200`, or a list such as `[200, 204]`");
        expect_error(
            &exp(r#"{ "status": 2000 }"#),
            "2000",
            "invalid HTTP status `2000`",
            hint,
        );
        expect_error(
            &exp(r#"{ "status": [200, "204"] }"#),
            "\"204\"",
            "invalid HTTP status `\"204\"`",
            hint,
        );
        expect_error(
            &exp(r#"{ "status": [] }"#),
            "[]",
            "empty status list",
            Some("leave `status` out to accept any status"),
        );
    }

    #[test]
    fn unknown_checks_suggest_the_known_one() {
        let e = expect_error(
            &exp(r#"{ "checks": ["scim.resorce"] }"#),
            "\"scim.resorce\"",
            "unknown check `scim.resorce`",
            Some("did you mean `scim.resource`?"),
        );
        assert_eq!(e.pointer, "/steps/0/expect/checks/0");
        let e = error(&exp(r#"{ "checks": ["nothing.like.it"] }"#));
        assert!(
            e.hint
                .as_deref()
                .is_some_and(|h| h.starts_with("known checks: scim.list-response")),
            "{e:?}"
        );
    }

    #[test]
    fn checks_in_object_form_are_checked_too() {
        expect_error(
            &exp(r#"{ "checks": [{ "name": "scim.location", "severity": "warning" }] }"#),
            "\"warning\"",
            "unknown severity `warning`",
            Some("use one of `fail` or `warn`"),
        );
        expect_error(
            &exp(r#"{ "checks": [{ "name": "scim.locaton" }] }"#),
            "\"scim.locaton\"",
            "unknown check `scim.locaton`",
            Some("did you mean `scim.location`?"),
        );
        expect_error(
            &exp(r#"{ "checks": ["scim.error", "scim.error"] }"#),
            "\"scim.error\"]",
            "check `scim.error` is listed twice",
            None,
        );
    }

    #[test]
    fn an_assertion_needs_exactly_one_predicate() {
        expect_error(
            &json(r#"{ "pointer": "/id" }"#),
            "{ \"pointer\"",
            "assertion has no predicate",
            Some(
                "add one of: equals, not_equals, exists, absent, matches, one_of, type, length, contains, not_contains, same_as",
            ),
        );
        expect_error(
            &json(r#"{ "pointer": "/id", "exists": true, "type": "string" }"#),
            "\"type\"",
            "assertion has more than one predicate (`exists` and `type`)",
            Some("write one assertion per predicate"),
        );
    }

    #[test]
    fn a_misspelt_predicate_is_one_error() {
        expect_error(
            &json(r#"{ "pointer": "/id", "exist": true }"#),
            "\"exist\"",
            "unknown key `exist`",
            Some("did you mean `exists`?"),
        );
    }

    #[test]
    fn not_equals_loads_with_a_template_value() {
        let source = json(r#"{ "pointer": "/title", "not_equals": "{{domain}}" }"#);
        let scenario = match crate::scenario::load::parse_scenario("t.json", &source, false) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            scenario.steps[0].expect.json[0].predicate,
            crate::scenario::model::Predicate::NotEquals(serde_json::json!("{{domain}}"))
        );
        expect_error(
            &json(r#"{ "pointer": "/title", "not_equals": "{{nope}}" }"#),
            "{{nope}}",
            "unknown variable `{{nope}}`",
            Some("define it in `vars`, or capture it in an earlier step"),
        );
    }

    #[test]
    fn same_as_names_an_earlier_step() {
        expect_error(
            &json(r#"{ "pointer": "/title", "same_as": "later" }"#),
            "\"later\"",
            "`same_as` names `later`, which is not an earlier step",
            Some("`same_as` compares with an earlier step's response; this is the first step"),
        );
    }

    #[test]
    fn pointers_are_rfc_6901() {
        expect_error(
            &json(r#"{ "pointer": "active", "equals": true }"#),
            "\"active\"",
            "invalid JSON pointer `active`",
            Some("a JSON pointer starts with `/`, e.g. `/emails/0/value`"),
        );
        expect_error(
            &json(r#"{ "equals": true }"#),
            "{ \"equals\"",
            "missing required key `pointer`",
            None,
        );
    }

    #[test]
    fn predicate_values_are_checked() {
        expect_error(
            &json(r#"{ "pointer": "/a", "absent": false }"#),
            "false",
            "`absent` must be `true`, found `false`",
            Some("write `\"absent\": true`; to require the value, write `\"exists\": true`"),
        );
        expect_error(
            &json(r#"{ "pointer": "/a", "exists": "yes" }"#),
            "\"yes\"",
            "expected `exists` (`true` or `false`), found a string",
            None,
        );
        expect_error(
            &json(r#"{ "pointer": "/a", "one_of": [] }"#),
            "[]",
            "`one_of` needs at least one value",
            None,
        );
        expect_error(
            &json(r#"{ "pointer": "/a", "type": "bool" }"#),
            "\"bool\"",
            "unknown JSON type `bool`",
            Some(
                "use one of `string`, `number`, `integer`, `boolean`, `object`, `array` or `null`",
            ),
        );
        expect_error(
            &json(r#"{ "pointer": "/a", "type": "strng" }"#),
            "\"strng\"",
            "unknown JSON type `strng`",
            Some("did you mean `string`?"),
        );
        expect_error(
            &json(r#"{ "pointer": "/a", "length": -1 }"#),
            "-1",
            "`length` must be a whole number, found `-1`",
            None,
        );
    }

    #[test]
    fn regexes_must_compile() {
        let e = error(&json(r#"{ "pointer": "/a", "matches": "^(unclosed" }"#));
        assert!(
            e.message.starts_with("invalid regular expression: "),
            "{e:?}"
        );
        assert!(e.message.contains("unclosed group"), "{e:?}");
        assert_eq!(
            (e.line, e.column),
            at(
                &json(r#"{ "pointer": "/a", "matches": "^(unclosed" }"#),
                "\"^(unclosed"
            )
        );
    }

    #[test]
    fn assertion_severity_is_fail_or_warn() {
        expect_error(
            &json(r#"{ "pointer": "/a", "exists": true, "severity": "eror" }"#),
            "\"eror\"",
            "unknown severity `eror`",
            Some("use one of `fail` or `warn`"),
        );
    }
}
