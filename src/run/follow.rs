//! Checks and impact texts that follow what happened earlier in the scenario.
//!
//! A scenario is written for the endpoint it hopes to meet: a read-back's impact says "the
//! server accepted the PATCH but the value did not change". When the PATCH was in fact refused
//! (a 4xx or 5xx) or never answered, that sentence is false; the read only shows the refusal
//! again, so its impact says that instead. And `same_as` compares a value with what an earlier
//! step read, so a check after requests the endpoint must refuse judges what the endpoint held
//! before them, not what the scenario once sent.

use crate::http::exchange::Exchange;
use crate::model::StepResult;
use crate::scenario::model::{AuthMode, Expect, Method, Predicate};
use serde_json::Value;
use std::collections::HashMap;

/// What the scenario's last write with the run's token got back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastWrite {
    pub method: String,
    /// The status, or why there was none (`timeout`, `connect`, …).
    pub answer: Result<u16, String>,
}

impl LastWrite {
    /// The write of this exchange; `None` for reads and for requests made without the run's
    /// token (probes the endpoint must refuse: their refusal is the expected outcome).
    pub fn of(method: Method, auth: AuthMode, exchange: &Exchange) -> Option<LastWrite> {
        if method == Method::Get || auth != AuthMode::Token {
            return None;
        }
        let answer = match (&exchange.response, &exchange.fault) {
            (Some(r), _) => Ok(r.status),
            (None, Some(f)) => Err(serde_json::to_value(f.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "no answer".into())),
            (None, None) => Err("no answer".into()),
        };
        Some(LastWrite {
            method: exchange.request.method.clone(),
            answer,
        })
    }

    fn refused(&self) -> bool {
        !matches!(self.answer, Ok(200..=299))
    }
}

/// Gives each `same_as` assertion the value its earlier step read at the same pointer
/// (`null` when absent). One whose step has no JSON answer stays unset and fails as not
/// evaluated.
pub fn resolve_same_as(expect: &mut Expect, answers: &HashMap<String, Value>) {
    for assertion in &mut expect.json {
        if let Predicate::SameAs { step, before } = &mut assertion.predicate {
            *before = answers.get(step.as_str()).map(|body| {
                crate::check::pointer::resolve(body, &assertion.pointer)
                    .ok()
                    .and_then(|lookup| match lookup {
                        crate::check::pointer::Lookup::Found { value, .. } => Some(value.clone()),
                        crate::check::pointer::Lookup::Missing { .. } => None,
                    })
                    .unwrap_or(Value::Null)
            });
        }
    }
}

/// Rewrites the impacts of a read's failed JSON checks when the write before it was refused:
/// the value did not change because the endpoint said no, which is that write's finding.
pub fn after_refused_write(result: &mut StepResult, last: Option<&LastWrite>) {
    let Some(last) = last.filter(|w| w.refused()) else {
        return;
    };
    let read = result
        .exchange
        .as_ref()
        .is_some_and(|e| e.request.method.eq_ignore_ascii_case("GET"));
    if !read {
        return;
    }
    let answered = match &last.answer {
        Ok(status) => format!("refused with {status}"),
        Err(why) => format!("not answered ({why})"),
    };
    let text = format!(
        "the {} before this read was {answered}, so the change was never made: this read \
         shows that refusal again, not silent drift (Entra logs the refused {} as failed and \
         retries the object in later cycles)",
        last.method, last.method
    );
    for check in result
        .checks
        .iter_mut()
        .filter(|c| !c.passed && c.check.starts_with("json "))
    {
        check.impact = Some(text.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::outcome::CheckOutcome;
    use crate::http::exchange::{ReceivedResponse, SentRequest};
    use crate::model::StepStatus;
    use crate::scenario::model::{JsonAssertion, Severity};
    use serde_json::json;

    fn exchange(method: &str, status: u16, body: Value) -> Exchange {
        Exchange {
            request: SentRequest {
                method: method.into(),
                url: "http://h/scim/Users/u".into(),
                path: "/Users/u".into(),
                headers: vec![],
                body: None,
            },
            response: Some(ReceivedResponse {
                status,
                headers: vec![],
                body: body.to_string(),
                json: Some(body),
                body_problem: None,
                truncated: false,
                elapsed_ms: 1,
            }),
            fault: None,
            retries: vec![],
            retry_stopped: None,
        }
    }

    fn read_back() -> StepResult {
        StepResult {
            id: "read".into(),
            note: None,
            status: StepStatus::Failed,
            skipped_because: None,
            exchange: Some(exchange("GET", 200, json!({"active": true}))),
            checks: vec![CheckOutcome {
                check: "json /active equals false".into(),
                severity: Severity::Fail,
                passed: false,
                expected: "false".into(),
                actual: "true".into(),
                impact: Some("silent drift: the server accepted the PATCH".into()),
            }],
            snapshot_diff: None,
            curl: None,
            cause: None,
            consequence_of: None,
            fallback: None,
        }
    }

    #[test]
    fn a_read_after_a_refused_patch_never_says_accepted() {
        let patch = exchange("PATCH", 400, json!({"detail": "no"}));
        let last = LastWrite::of(Method::Patch, AuthMode::Token, &patch);
        let mut read = read_back();
        after_refused_write(&mut read, last.as_ref());
        let impact = read.checks[0].impact.as_deref().unwrap();
        assert!(!impact.contains("accepted"), "{impact}");
        assert!(
            impact.contains("PATCH before this read was refused with 400"),
            "{impact}"
        );
    }

    #[test]
    fn a_read_after_an_accepted_patch_or_a_refused_probe_keeps_its_impact() {
        let ok = exchange("PATCH", 204, Value::Null);
        let mut read = read_back();
        after_refused_write(
            &mut read,
            LastWrite::of(Method::Patch, AuthMode::Token, &ok).as_ref(),
        );
        assert!(
            read.checks[0]
                .impact
                .as_deref()
                .unwrap()
                .contains("accepted")
        );
        let probe = exchange("PATCH", 401, Value::Null);
        assert_eq!(LastWrite::of(Method::Patch, AuthMode::None, &probe), None);
    }

    #[test]
    fn same_as_takes_what_the_earlier_step_read() {
        let mut expect = Expect::default();
        for pointer in ["/displayName", "/title"] {
            expect.json.push(JsonAssertion {
                pointer: pointer.into(),
                predicate: Predicate::SameAs {
                    step: "read-before".into(),
                    before: None,
                },
                severity: Severity::Fail,
                impact: None,
            });
        }
        let answers = HashMap::from([(
            "read-before".to_string(),
            json!({"displayName": "Alice Smith"}),
        )]);
        resolve_same_as(&mut expect, &answers);
        let before = |i: usize| match &expect.json[i].predicate {
            Predicate::SameAs { before, .. } => before.clone(),
            _ => unreachable!(),
        };
        assert_eq!(before(0), Some(json!("Alice Smith")));
        assert_eq!(before(1), Some(Value::Null), "absent before");
    }
}
