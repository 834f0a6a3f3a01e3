//! Checks: status, JSON-pointer assertions and named SCIM/Entra rules, as outcomes.
//!
//! [`evaluate`] turns a rendered `Expect` and the step's `Exchange` into one outcome per status
//! rule, per named check finding and per JSON assertion, passed ones included. Failures are
//! values: nothing here returns an error, and every failed outcome says what an admin would see
//! in Entra's provisioning logs.
//!
//! Two gates keep a report about one cause instead of ten echoes of it:
//! - when the status is of another class than every accepted one (a 404 where 200 was
//!   expected), checks that read the body are not evaluated; the status outcome says so;
//! - when checks need a JSON body and there is none usable (HTML error page, invalid UTF-8,
//!   cut at the cap, empty), one `body` outcome fails in their place. A 204 with no body is
//!   not a failure: its body checks are not applicable, noted by a passed `body` outcome.
//!
//! Header checks (`scim.content-type`, `scim.location`) always run. An answer slower than
//! Entra's 60 s timeout adds a failed `latency` outcome.

pub mod assertion;
mod body;
pub mod impact;
pub mod named;
pub mod names;
pub mod outcome;
pub mod pointer;
pub mod render;
pub mod status;
mod transport;

#[cfg(test)]
mod test_support;

use crate::http::exchange::{Exchange, ReceivedResponse, SentRequest};
use crate::scenario::model::{Expect, Severity};
use impact::RequestKind;
use outcome::CheckOutcome;

pub use assertion::{describe_assertion, describe_predicate};

/// The verdict of a step's checks alone (transport faults and snapshots are the runner's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Passed,
    /// Only `warn` checks failed.
    Warned,
    /// A `fail` check failed, or a `warn` one under `--strict`.
    Failed,
}

/// Folds outcomes into a verdict; `strict` makes failed warnings fail.
pub fn verdict(outcomes: &[CheckOutcome], strict: bool) -> Verdict {
    let failed = outcomes.iter().filter(|o| !o.passed);
    failed.fold(Verdict::Passed, |worst, o| {
        let this = if o.severity == Severity::Fail || strict {
            Verdict::Failed
        } else {
            Verdict::Warned
        };
        worst.max(this)
    })
}

/// Every check of `expect` against the exchange.
pub fn evaluate(expect: &Expect, exchange: &Exchange) -> Vec<CheckOutcome> {
    let mut out = Vec::new();
    if let Some(fault) = &exchange.fault {
        out.push(transport::fault_outcome(fault));
    }
    match &exchange.response {
        Some(response) => out.extend(evaluate_response(expect, &exchange.request, response)),
        None if exchange.fault.is_none() => out.push(transport::no_response()),
        None => {}
    }
    out
}

fn evaluate_response(
    expect: &Expect,
    request: &SentRequest,
    response: &ReceivedResponse,
) -> Vec<CheckOutcome> {
    let kind = RequestKind::of(&request.method, &request.path);
    let status = status::status_outcome(expect, request, response);
    let wrong_class = status.as_ref().is_some_and(|o| !o.passed)
        && status::other_class(&expect.status, response.status);
    let reads_body = |name: &str| {
        if wrong_class {
            named::needs(name) != named::Needs::Headers
        } else {
            named::needs_body(name, response.status)
        }
    };
    let body_checks: Vec<Severity> = expect
        .checks
        .iter()
        .filter(|c| reads_body(&c.name))
        .map(|c| c.severity.unwrap_or_default())
        .chain(expect.json.iter().map(|a| a.severity))
        .collect();
    let json = body::usable_json(kind, response);
    let skip_body = !body_checks.is_empty() && (wrong_class || json.is_err());
    let mut out = Vec::new();
    if let Some(mut s) = status {
        if wrong_class && !body_checks.is_empty() {
            let n = body_checks.len();
            s.actual.push_str(&format!(
                "; {n} body check{} not evaluated",
                render::plural(n)
            ));
        }
        out.push(s);
    }
    match &json {
        Err(problem) if !wrong_class && !body_checks.is_empty() => {
            out.push(body::outcome(kind, response, problem, &body_checks));
        }
        _ => {}
    }
    let ctx = named::Ctx {
        kind,
        path: &request.path,
        response,
        json: json.as_ref().ok().copied(),
    };
    for check in expect
        .checks
        .iter()
        .filter(|c| !(skip_body && reads_body(&c.name)))
    {
        out.extend(named::evaluate_named(check, &ctx));
    }
    match &json {
        Ok(json) if !skip_body => {
            out.extend(
                expect
                    .json
                    .iter()
                    .map(|a| assertion::evaluate_assertion(a, json)),
            );
        }
        _ => {}
    }
    out.extend(transport::latency(response));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::{exchange, get, request, response_json, response_raw};
    use crate::http::exchange::{Fault, FaultKind};
    use crate::scenario::model::{JsonAssertion, NamedCheck, Predicate};
    use crate::scim;
    use serde_json::{Value, json};

    fn expect(status: &[u16], checks: &[&str], json: Vec<JsonAssertion>) -> Expect {
        Expect {
            status: status.to_vec(),
            status_impact: None,
            checks: checks
                .iter()
                .map(|n| NamedCheck {
                    name: n.to_string(),
                    severity: None,
                })
                .collect(),
            json,
            mapped_schemas: None,
        }
    }

    fn equals(pointer: &str, value: Value) -> JsonAssertion {
        JsonAssertion {
            pointer: pointer.into(),
            predicate: Predicate::Equals(value),
            severity: Severity::Fail,
            impact: None,
        }
    }

    fn labels(out: &[CheckOutcome]) -> Vec<(String, bool)> {
        out.iter().map(|o| (o.check.clone(), o.passed)).collect()
    }

    fn faulted(kind: FaultKind, message: &str) -> Exchange {
        Exchange {
            request: get("/Users"),
            response: None,
            fault: Some(Fault {
                kind,
                message: message.into(),
            }),
            retries: Vec::new(),
            retry_stopped: None,
        }
    }

    #[test]
    fn a_transport_fault_is_the_only_outcome() {
        let e = expect(
            &[200],
            &["scim.list-response"],
            vec![equals("/a", json!(1))],
        );
        let out = evaluate(
            &e,
            &faulted(FaultKind::Connect, "connection refused by 127.0.0.1:9"),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].check, "transport");
        assert_eq!(
            out[0].actual,
            "could not connect: connection refused by 127.0.0.1:9"
        );
        assert!(
            out[0]
                .impact
                .as_deref()
                .unwrap()
                .contains("WebExceptionProtocolError")
        );
        let out = evaluate(&e, &faulted(FaultKind::Timeout, "no answer in 60 s"));
        assert!(out[0].impact.as_deref().unwrap().contains("logs Timeout"));
    }

    #[test]
    fn a_missing_response_without_fault_still_fails() {
        let mut x = faulted(FaultKind::Connect, "");
        x.fault = None;
        let out = evaluate(&Expect::default(), &x);
        assert_eq!(labels(&out), [("transport".to_string(), false)]);
    }

    #[test]
    fn a_compatible_create_passes_every_check() {
        let body = json!({"schemas": [scim::USER_SCHEMA], "id": "u-1", "active": true,
                          "meta": {"resourceType": "User", "location": "https://h/Users/u-1"}});
        let mut r = response_json(201, body);
        r.headers
            .push(("Location".into(), "https://h/Users/u-1".into()));
        let e = expect(
            &[201],
            &[
                "scim.resource",
                "scim.content-type",
                "scim.location",
                "entra.active-boolean",
            ],
            vec![equals("/active", json!(true))],
        );
        let out = evaluate(&e, &exchange(request("POST", "/Users"), r));
        assert_eq!(out.len(), 6, "{out:#?}");
        assert!(out.iter().all(|o| o.passed), "{out:#?}");
        assert_eq!(verdict(&out, true), Verdict::Passed);
    }

    #[test]
    fn an_html_error_page_fails_the_body_once() {
        let mut r = response_raw(
            200,
            vec![("Content-Type".into(), "text/html".into())],
            "<html>\n  <body><h1>Sign in</h1></body></html>",
        );
        r.body_problem =
            Some("the body is HTML, not JSON (expected value at line 1 column 1)".into());
        let e = expect(&[200], &["scim.list-response", "scim.content-type"], vec![]);
        let out = evaluate(&e, &exchange(get("/Users?filter=x"), r));
        assert_eq!(
            labels(&out),
            [
                ("status".to_string(), true),
                ("body".to_string(), false),
                ("scim.content-type".to_string(), false)
            ]
        );
        assert_eq!(
            out[1].actual,
            "the body is HTML, not JSON (expected value at line 1 column 1); it starts \
             \"<html> <body><h1>Sign in</h1></body></html>\"; 1 check not evaluated"
        );
        assert!(
            out[1]
                .impact
                .as_deref()
                .unwrap()
                .contains(impact::SERVICE_INCOMPATIBLE)
        );
    }

    #[test]
    fn invalid_json_and_truncated_bodies_fail_the_body() {
        let e = expect(&[], &[], vec![equals("/id", json!("u"))]);
        let mut bad = response_raw(200, vec![], "{\"id\": ");
        bad.body_problem = Some("the body is not JSON (EOF while parsing)".into());
        let out = evaluate(&e, &exchange(get("/Users/u"), bad));
        assert_eq!(
            out[0].actual,
            r#"the body is not JSON (EOF while parsing); it starts "{\"id\":"; 1 check not evaluated"#
        );
        let mut cut = response_raw(200, vec![], "[1, 2, 3");
        cut.truncated = true;
        let out = evaluate(&e, &exchange(get("/Users/u"), cut));
        assert_eq!(
            out[0].actual,
            "the body was cut at the size cap; 1 check not evaluated"
        );
        let mut latin = response_raw(200, vec![], "{\"a\":\"\u{FFFD}\"}");
        latin.body_problem = Some("the body is not valid UTF-8 (invalid byte at offset 6)".into());
        let out = evaluate(&e, &exchange(get("/Users/u"), latin));
        assert!(!out[0].passed);
        assert!(
            out[0].actual.starts_with("the body is not valid UTF-8"),
            "{}",
            out[0].actual
        );
    }

    #[test]
    fn an_empty_create_answer_has_no_id() {
        let e = expect(&[201], &["scim.resource"], vec![]);
        let out = evaluate(
            &e,
            &exchange(request("POST", "/Users"), response_raw(201, vec![], "")),
        );
        assert_eq!(out[1].check, "body");
        assert_eq!(out[1].actual, "the body is empty; 1 check not evaluated");
        let impact = out[1].impact.as_deref().unwrap();
        assert!(impact.contains(impact::SERVICE_INCOMPATIBLE), "{impact}");
        assert!(impact.contains("every later update"), "{impact}");
    }

    #[test]
    fn no_content_makes_body_checks_not_applicable() {
        let e = expect(
            &[200, 204],
            &["scim.resource"],
            vec![equals("/active", json!(false))],
        );
        let out = evaluate(
            &e,
            &exchange(
                request("PATCH", "/Users/u"),
                response_json(204, Value::Null),
            ),
        );
        assert_eq!(
            labels(&out),
            [("status".to_string(), true), ("body".to_string(), true)]
        );
        assert_eq!(
            out[1].actual,
            "204 No Content; 2 body checks not applicable"
        );
    }

    #[test]
    fn no_content_to_a_query_is_not_excused() {
        let e = expect(&[], &["entra.empty-list"], vec![]);
        let out = evaluate(
            &e,
            &exchange(get("/Users?filter=x"), response_json(204, Value::Null)),
        );
        assert_eq!(labels(&out), [("body".to_string(), false)]);
        assert_eq!(out[0].actual, "the body is empty; 1 check not evaluated");
        assert!(
            out[0]
                .impact
                .as_deref()
                .unwrap()
                .contains(impact::SERVICE_INCOMPATIBLE)
        );
    }

    #[test]
    fn not_found_instead_of_an_empty_list_reports_the_status_only() {
        let body = json!({"schemas": [scim::ERROR], "status": "404", "detail": "no user"});
        let e = expect(
            &[200],
            &[
                "scim.list-response",
                "entra.empty-list",
                "scim.content-type",
            ],
            vec![equals("/totalResults", json!(0))],
        );
        let out = evaluate(
            &e,
            &exchange(
                get("/Users?filter=userName+eq+%22x%22"),
                response_json(404, body),
            ),
        );
        assert_eq!(
            labels(&out),
            [
                ("status".to_string(), false),
                ("scim.content-type".to_string(), true)
            ]
        );
        assert_eq!(
            out[0].actual,
            r#"404 Not Found, detail "no user"; 3 body checks not evaluated"#
        );
        assert!(out[0].impact.as_deref().unwrap().contains("quarantine"));
    }

    #[test]
    fn success_without_a_token_is_a_security_bug() {
        let list = json!({"schemas": [scim::LIST_RESPONSE], "totalResults": 0, "Resources": []});
        let e = expect(&[401], &["scim.error"], vec![]);
        let out = evaluate(&e, &exchange(get("/Users"), response_json(200, list)));
        assert_eq!(labels(&out), [("status".to_string(), false)]);
        assert!(
            out[0]
                .impact
                .as_deref()
                .unwrap()
                .starts_with("security bug")
        );
    }

    #[test]
    fn same_class_status_mismatch_still_checks_the_body() {
        let e = expect(&[201], &["scim.resource"], vec![]);
        let body = json!({"schemas": [scim::USER_SCHEMA], "id": "u-1"});
        let out = evaluate(
            &e,
            &exchange(request("POST", "/Users"), response_json(200, body)),
        );
        assert_eq!(
            labels(&out),
            [
                ("status".to_string(), false),
                ("scim.resource".to_string(), true)
            ]
        );
    }

    #[test]
    fn assertions_resolve_keys_case_insensitively() {
        let e = expect(&[200], &[], vec![equals("/active", json!(false))]);
        let r = response_json(200, json!({"id": "u", "Active": false}));
        let out = evaluate(&e, &exchange(get("/Users/u"), r));
        assert_eq!(out[1].check, "json /active equals false");
        assert!(out[1].passed);
        assert_eq!(out[1].actual, "false (at /Active)");
    }

    #[test]
    fn body_outcome_is_as_severe_as_its_checks() {
        let mut e = expect(&[], &["scim.error"], vec![]);
        e.checks[0].severity = Some(Severity::Warn);
        let out = evaluate(
            &e,
            &exchange(get("/Users/x"), response_raw(404, vec![], "")),
        );
        assert_eq!(out[0].check, "body");
        assert_eq!(out[0].severity, Severity::Warn);
        assert!(
            out[0]
                .impact
                .as_deref()
                .unwrap()
                .contains("still reacts to the status 404")
        );
        assert_eq!(verdict(&out, false), Verdict::Warned);
        assert_eq!(verdict(&out, true), Verdict::Failed);
    }

    #[test]
    fn a_slow_answer_adds_a_latency_failure() {
        let mut r = response_json(200, json!({}));
        r.elapsed_ms = 61_500;
        let out = evaluate(&Expect::default(), &exchange(get("/Users"), r));
        assert_eq!(labels(&out), [("latency".to_string(), false)]);
        assert_eq!(out[0].actual, "61.5 s");
    }

    #[test]
    fn verdict_orders_outcomes() {
        let o = |passed, severity| CheckOutcome {
            check: "x".into(),
            severity,
            passed,
            expected: String::new(),
            actual: String::new(),
            impact: None,
        };
        assert_eq!(verdict(&[], false), Verdict::Passed);
        assert_eq!(verdict(&[o(true, Severity::Fail)], false), Verdict::Passed);
        assert_eq!(verdict(&[o(false, Severity::Warn)], false), Verdict::Warned);
        let mixed = [o(false, Severity::Fail), o(false, Severity::Warn)];
        assert_eq!(verdict(&mixed, false), Verdict::Failed);
    }
}
