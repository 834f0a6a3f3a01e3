//! The status rule of a step: the answer's HTTP status against `expect.status`.

use super::impact::{RequestKind, status_impact};
use super::outcome::CheckOutcome;
use super::pointer;
use super::render::{cut, excerpt};
use crate::http::exchange::{ReceivedResponse, SentRequest};
use crate::scenario::model::{Expect, Severity};

/// The status outcome, or `None` when the step accepts any status.
pub fn status_outcome(
    expect: &Expect,
    request: &SentRequest,
    response: &ReceivedResponse,
) -> Option<CheckOutcome> {
    if expect.status.is_empty() {
        return None;
    }
    let passed = expect.status.contains(&response.status);
    let impact = (!passed).then(|| {
        expect.status_impact.clone().unwrap_or_else(|| {
            let kind = RequestKind::of(&request.method, &request.path);
            status_impact(kind, response.status, &expect.status)
        })
    });
    Some(CheckOutcome {
        check: "status".to_string(),
        severity: Severity::Fail,
        passed,
        expected: expected_text(&expect.status),
        actual: actual_text(response),
        impact,
    })
}

/// True when the answer is of another kind than every accepted status (2xx vs 4xx, …), so
/// checks written for the expected kind of body would only restate the status failure.
pub fn other_class(expected: &[u16], actual: u16) -> bool {
    !expected.is_empty() && expected.iter().all(|s| s / 100 != actual / 100)
}

/// `201` or `one of 200, 204`.
pub fn expected_text(statuses: &[u16]) -> String {
    match statuses {
        [one] => one.to_string(),
        many => {
            let list: Vec<String> = many.iter().map(u16::to_string).collect();
            format!("one of {}", list.join(", "))
        }
    }
}

/// `404 Not Found, detail "Resource u-9 not found"`: the status, its reason phrase and, for an
/// error, what the body says about it.
pub fn actual_text(response: &ReceivedResponse) -> String {
    let mut text = status_line(response.status);
    if response.status < 400 {
        return text;
    }
    let said = response.json.as_ref().and_then(|json| {
        ["detail", "message", "error"]
            .iter()
            .find_map(|key| pointer::member(json, key).and_then(|v| v.as_str()))
    });
    match said {
        Some(detail) => text.push_str(&format!(", detail {:?}", cut(detail, 200))),
        None if response.json.is_none() && !response.body.trim().is_empty() => {
            text.push_str(&format!(", body {}", excerpt(&response.body)));
        }
        None => {}
    }
    text
}

/// `404 Not Found`, or just the number when the code has no standard reason phrase.
pub fn status_line(status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason());
    match reason {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::{get, response_json, response_text};
    use serde_json::json;

    fn expect(status: &[u16]) -> Expect {
        Expect {
            status: status.to_vec(),
            ..Expect::default()
        }
    }

    #[test]
    fn any_status_when_none_is_listed() {
        let r = response_json(500, json!({}));
        assert_eq!(status_outcome(&expect(&[]), &get("/Users"), &r), None);
    }

    #[test]
    fn accepted_status_passes_without_impact() {
        let r = response_json(204, json!(null));
        let o = status_outcome(&expect(&[200, 204]), &get("/Users/u-1"), &r).unwrap();
        assert!(o.passed);
        assert_eq!(o.expected, "one of 200, 204");
        assert_eq!(o.actual, "204 No Content");
        assert_eq!(o.impact, None);
    }

    #[test]
    fn not_found_instead_of_empty_list_names_the_quarantine() {
        let body =
            json!({"schemas": [crate::scim::ERROR], "status": "404", "detail": "no such user"});
        let r = response_json(404, body);
        let req = get("/Users?filter=userName+eq+%22x%22");
        let o = status_outcome(&expect(&[200]), &req, &r).unwrap();
        assert!(!o.passed);
        assert_eq!(o.expected, "200");
        assert_eq!(o.actual, r#"404 Not Found, detail "no such user""#);
        assert!(o.impact.unwrap().contains("quarantine"));
    }

    #[test]
    fn scenario_impact_overrides_the_derived_one() {
        let mut e = expect(&[201]);
        e.status_impact = Some("the user is never created".into());
        let r = response_text(400, "bad");
        let o = status_outcome(&e, &get("/Users"), &r).unwrap();
        assert_eq!(o.impact.as_deref(), Some("the user is never created"));
        assert_eq!(o.actual, r#"400 Bad Request, body "bad""#);
    }

    #[test]
    fn unknown_codes_and_classes() {
        assert_eq!(status_line(299), "299");
        assert!(other_class(&[200], 404));
        assert!(!other_class(&[200, 204], 201));
        assert!(!other_class(&[], 500));
    }
}
