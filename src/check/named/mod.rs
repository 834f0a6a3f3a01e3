//! The named checks of `expect.checks`: what SCIM (RFC 7643/7644) and Entra need of an answer.
//!
//! Each check reports its findings; a check with no finding yields one passed outcome, and each
//! finding becomes one failed outcome under the check's name, so a report can say precisely
//! what is wrong ("status is the number 404, not the string \"404\""). Every finding carries a
//! default severity (`fail` when Entra breaks, `warn` for an RFC deviation Entra tolerates or a
//! behaviour the fact sheet is unsure of); a scenario's `severity` replaces it for all findings.

mod answer;
mod entra;
mod headers;
mod scim;

use super::impact::RequestKind;
use super::names;
use super::outcome::CheckOutcome;
use super::pointer;
use crate::http::exchange::ReceivedResponse;
use crate::scenario::model::{NamedCheck, Severity};
use serde_json::Value;

/// What a named check reads from the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Status and headers only (a body is used when there is one).
    Headers,
    /// A JSON body.
    Body,
    /// A JSON body when the status is 2xx; other statuses are judged on the status alone.
    BodyOn2xx,
}

/// What `name` reads; unknown names need nothing (they fail on their own).
pub fn needs(name: &str) -> Needs {
    match name {
        "scim.content-type" | "scim.location" | "entra.same-resource" => Needs::Headers,
        "entra.empty-list" | "entra.single-match" => Needs::BodyOn2xx,
        n if names::lookup(n).is_some() => Needs::Body,
        _ => Needs::Headers,
    }
}

/// True when `name` needs a JSON body for an answer with this status.
pub fn needs_body(name: &str, status: u16) -> bool {
    match needs(name) {
        Needs::Headers => false,
        Needs::Body => true,
        Needs::BodyOn2xx => (200..300).contains(&status),
    }
}

/// The response as the named checks see it.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    pub kind: RequestKind,
    /// The request's path and query, relative to the Tenant URL.
    pub path: &'a str,
    pub response: &'a ReceivedResponse,
    /// The body, when it is usable JSON.
    pub json: Option<&'a Value>,
}

/// One thing a check found wrong.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Problem {
    pub severity: Severity,
    pub expected: String,
    pub actual: String,
    pub impact: String,
}

/// The findings of one check, or what it saw when all was well.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Findings {
    pub problems: Vec<Problem>,
    /// The `actual` text of the passed outcome.
    pub passed: String,
}

impl Findings {
    pub fn ok(passed: impl Into<String>) -> Findings {
        Findings {
            problems: Vec::new(),
            passed: passed.into(),
        }
    }

    pub fn add(
        &mut self,
        severity: Severity,
        expected: impl Into<String>,
        actual: impl Into<String>,
        impact: impl Into<String>,
    ) {
        self.problems.push(Problem {
            severity,
            expected: expected.into(),
            actual: actual.into(),
            impact: impact.into(),
        });
    }

    pub fn fail(&mut self, e: impl Into<String>, a: impl Into<String>, i: impl Into<String>) {
        self.add(Severity::Fail, e, a, i);
    }

    pub fn warn(&mut self, e: impl Into<String>, a: impl Into<String>, i: impl Into<String>) {
        self.add(Severity::Warn, e, a, i);
    }
}

/// Runs one named check.
pub fn evaluate_named(check: &NamedCheck, ctx: &Ctx<'_>) -> Vec<CheckOutcome> {
    let Some(info) = names::lookup(&check.name) else {
        return vec![CheckOutcome {
            check: check.name.clone(),
            severity: check.severity.unwrap_or_default(),
            passed: false,
            expected: "a known named check".to_string(),
            actual: format!("unknown check {:?}", check.name),
            impact: Some(
                "not evaluated: the scenario names a check scimreplay does not have".into(),
            ),
        }];
    };
    let findings = run(info.name, ctx);
    if findings.problems.is_empty() {
        return vec![CheckOutcome {
            check: info.name.to_string(),
            severity: check.severity.unwrap_or_default(),
            passed: true,
            expected: info.description.to_string(),
            actual: findings.passed,
            impact: None,
        }];
    }
    findings
        .problems
        .into_iter()
        .map(|p| CheckOutcome {
            check: info.name.to_string(),
            severity: check.severity.unwrap_or(p.severity),
            passed: false,
            expected: p.expected,
            actual: p.actual,
            impact: Some(p.impact),
        })
        .collect()
}

fn run(name: &str, ctx: &Ctx<'_>) -> Findings {
    let body_check = |f: fn(&Value) -> Findings| match ctx.json {
        Some(body) => f(body),
        None => no_body(),
    };
    match name {
        "scim.list-response" => body_check(scim::list_response),
        "scim.resource" => body_check(scim::resource),
        "scim.error" => match ctx.json {
            Some(body) => scim::error(ctx.response.status, body),
            None => no_body(),
        },
        "scim.content-type" => headers::content_type(ctx.response),
        "scim.location" => headers::location(ctx.response, ctx.json),
        "entra.empty-list" => entra::empty_list(ctx),
        "entra.single-match" => entra::single_match(ctx),
        "entra.members-excluded" => body_check(entra::members_excluded),
        "entra.manager-complex" => body_check(entra::manager_complex),
        "entra.active-boolean" => body_check(entra::active_boolean),
        "entra.no-nulls" => body_check(entra::no_nulls),
        "entra.same-resource" => answer::same_resource(ctx),
        other => {
            let mut f = Findings::default();
            f.fail(
                "an implemented check",
                format!("{other:?} is listed but has no implementation"),
                "not evaluated",
            );
            f
        }
    }
}

/// Reached only when the caller did not gate on body usability first.
fn no_body() -> Findings {
    let mut f = Findings::default();
    f.fail(
        "a JSON body",
        "no usable JSON body",
        format!("Entra logs {}", super::impact::SERVICE_INCOMPATIBLE),
    );
    f
}

/// The resources a body carries: each element of a ListResponse's `Resources` (with its
/// pointer), or the body itself.
pub(crate) fn resources_or_self(body: &Value) -> Vec<(String, &Value)> {
    match pointer::member(body, "Resources") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("/Resources/{i}"), v))
            .collect(),
        _ => vec![(String::new(), body)],
    }
}

/// `a, b, c (and 2 more)`: the first few of a list, for one-line findings.
pub(crate) fn first_few(items: &[String], few: usize) -> String {
    let shown = items
        .iter()
        .take(few)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match items.len().saturating_sub(few) {
        0 => shown,
        more => format!("{shown} (and {more} more)"),
    }
}

/// `/Resources/0/active`, or `/active` for the body itself.
pub(crate) fn at(prefix: &str, key: &str) -> String {
    format!("{prefix}/{}", pointer::escape(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::response_json;
    use serde_json::json;

    fn ctx<'a>(r: &'a ReceivedResponse) -> Ctx<'a> {
        Ctx {
            kind: RequestKind::Read,
            path: "/Users/u-1",
            response: r,
            json: r.json.as_ref(),
        }
    }

    #[test]
    fn every_known_check_is_implemented() {
        let r = response_json(200, json!({"id": "u-1"}));
        for info in names::KNOWN {
            let outcomes = evaluate_named(
                &NamedCheck {
                    name: info.name.into(),
                    severity: None,
                },
                &ctx(&r),
            );
            assert!(
                outcomes
                    .iter()
                    .all(|o| !o.actual.contains("no implementation")),
                "{} is not implemented",
                info.name
            );
        }
    }

    #[test]
    fn unknown_names_fail_plainly() {
        let r = response_json(200, json!({}));
        let check = NamedCheck {
            name: "scim.resorce".into(),
            severity: None,
        };
        let o = evaluate_named(&check, &ctx(&r));
        assert_eq!(o.len(), 1);
        assert!(!o[0].passed);
        assert_eq!(o[0].actual, r#"unknown check "scim.resorce""#);
    }

    #[test]
    fn scenario_severity_overrides_every_finding() {
        let r = response_json(200, json!({"schemas": "x"}));
        let mut check = NamedCheck {
            name: "scim.resource".into(),
            severity: None,
        };
        let default = evaluate_named(&check, &ctx(&r));
        assert!(default.iter().any(|o| o.severity == Severity::Fail));
        assert!(default.iter().any(|o| o.severity == Severity::Warn));
        check.severity = Some(Severity::Warn);
        let warned = evaluate_named(&check, &ctx(&r));
        assert_eq!(warned.len(), default.len());
        assert!(
            warned
                .iter()
                .all(|o| o.severity == Severity::Warn && !o.passed)
        );
    }

    #[test]
    fn passed_check_is_one_outcome_with_its_description() {
        let r = response_json(
            200,
            json!({"schemas": [crate::scim::USER_SCHEMA], "id": "u-1"}),
        );
        let check = NamedCheck {
            name: "scim.resource".into(),
            severity: None,
        };
        let o = evaluate_named(&check, &ctx(&r));
        assert_eq!(o.len(), 1);
        assert!(o[0].passed);
        assert_eq!(
            o[0].expected,
            names::lookup("scim.resource").unwrap().description
        );
        assert_eq!(o[0].impact, None);
    }

    #[test]
    fn needs_body_per_check_and_status() {
        assert!(!needs_body("scim.content-type", 200));
        assert!(needs_body("scim.error", 404));
        assert!(needs_body("entra.empty-list", 200));
        assert!(!needs_body("entra.empty-list", 404));
        assert!(!needs_body("nope", 200));
    }

    #[test]
    fn helpers() {
        let items: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        assert_eq!(first_few(&items, 2), "a, b (and 2 more)");
        assert_eq!(first_few(&items[..1], 2), "a");
        assert_eq!(at("/Resources/0", "a/b"), "/Resources/0/a~1b");
        let list = json!({"Resources": [{"id": 1}, {"id": 2}]});
        assert_eq!(resources_or_self(&list).len(), 2);
        assert_eq!(resources_or_self(&list)[1].0, "/Resources/1");
        assert_eq!(resources_or_self(&json!({"id": 1}))[0].0, "");
    }
}
