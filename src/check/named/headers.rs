//! Header checks: the media type of the answer (RFC 7644 §3.1) and the Location of a created
//! resource (RFC 7644 §3.3).

use super::Findings;
use crate::check::impact::SERVICE_INCOMPATIBLE;
use crate::check::pointer;
use crate::http::exchange::ReceivedResponse;
use crate::scim;
use serde_json::Value;

/// `application/scim+json` (parameters allowed); `application/json` warns; anything else fails.
pub fn content_type(response: &ReceivedResponse) -> Findings {
    let header = response.header("Content-Type");
    let Some(value) = header else {
        if response.body.trim().is_empty() {
            return Findings::ok("no body, so no Content-Type needed");
        }
        let mut f = Findings::default();
        f.fail(
            format!("Content-Type: {}", scim::MEDIA_TYPE),
            "no Content-Type header on a non-empty body",
            unparseable_impact("an unlabelled body"),
        );
        return f;
    };
    let media = value.split(';').next().unwrap_or_default().trim();
    let mut f = Findings::ok(format!("Content-Type: {value}"));
    if media.eq_ignore_ascii_case(scim::MEDIA_TYPE) {
        return f;
    }
    let expected = format!("Content-Type: {}", scim::MEDIA_TYPE);
    if media.eq_ignore_ascii_case("application/json") {
        f.warn(
            expected,
            format!("Content-Type: {value}"),
            "RFC 7644 §3.1 deviation (SCIM answers are application/scim+json, as Microsoft's \
             documentation asks); Entra is tolerant of application/json in practice [the fact \
             sheet documents only the requirement]",
        );
    } else {
        f.fail(
            expected,
            format!("Content-Type: {value}"),
            unparseable_impact(media),
        );
    }
    f
}

fn unparseable_impact(what: &str) -> String {
    format!(
        "Entra expects application/scim+json (documented) and may not parse {what} as SCIM: \
         {SERVICE_INCOMPATIBLE} [whether Entra looks at the header or only at the body is not \
         documented]"
    )
}

/// On a 201: a Location header, equal to `meta.location` when the body has one.
pub fn location(response: &ReceivedResponse, body: Option<&Value>) -> Findings {
    if response.status != 201 {
        return Findings::ok(format!("status {}: no Location required", response.status));
    }
    let impact = "RFC 7644 §3.3 deviation; Entra takes the new id from the body and is not \
                  known to read Location [inferred]";
    let mut f = Findings::default();
    let meta_location = body
        .and_then(|b| pointer::member(b, "meta"))
        .and_then(|m| pointer::member(m, "location"))
        .and_then(Value::as_str);
    match (response.header("Location"), meta_location) {
        (None, _) => f.warn(
            "a Location header with the new resource's URI",
            "no Location header on the 201",
            impact,
        ),
        (Some(header), Some(meta)) if header != meta => f.warn(
            "Location equal to meta.location",
            format!("Location is {header:?} but meta.location is {meta:?}"),
            impact,
        ),
        (Some(header), Some(_)) => f.passed = format!("Location {header:?} equals meta.location"),
        (Some(header), None) => f.passed = format!("Location {header:?}"),
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::{response_json, response_raw};
    use crate::scenario::model::Severity;
    use serde_json::json;

    fn with_type(value: &str) -> ReceivedResponse {
        response_raw(200, vec![("content-type".into(), value.into())], "{}")
    }

    #[test]
    fn scim_json_passes_with_parameters() {
        let f = content_type(&with_type("application/scim+json; charset=utf-8"));
        assert!(f.problems.is_empty());
        assert_eq!(
            f.passed,
            "Content-Type: application/scim+json; charset=utf-8"
        );
        assert!(
            content_type(&with_type("Application/SCIM+JSON"))
                .problems
                .is_empty()
        );
    }

    #[test]
    fn plain_json_warns() {
        let f = content_type(&with_type("application/json; charset=utf-8"));
        assert_eq!(f.problems.len(), 1);
        assert_eq!(f.problems[0].severity, Severity::Warn);
        assert_eq!(
            f.problems[0].actual,
            "Content-Type: application/json; charset=utf-8"
        );
    }

    #[test]
    fn html_or_missing_fails() {
        let f = content_type(&with_type("text/html"));
        assert_eq!(f.problems[0].severity, Severity::Fail);
        assert!(f.problems[0].impact.contains(SERVICE_INCOMPATIBLE));
        let f = content_type(&response_raw(200, vec![], "{}"));
        assert_eq!(
            f.problems[0].actual,
            "no Content-Type header on a non-empty body"
        );
        let f = content_type(&response_raw(204, vec![], ""));
        assert!(f.problems.is_empty());
        assert_eq!(f.passed, "no body, so no Content-Type needed");
    }

    #[test]
    fn location_only_matters_on_201() {
        let r = response_json(200, json!({"id": "u"}));
        assert_eq!(
            location(&r, r.json.as_ref()).passed,
            "status 200: no Location required"
        );
        let r = response_json(201, json!({"id": "u"}));
        let f = location(&r, r.json.as_ref());
        assert_eq!(f.problems.len(), 1);
        assert_eq!(f.problems[0].actual, "no Location header on the 201");
        assert_eq!(f.problems[0].severity, Severity::Warn);
    }

    #[test]
    fn location_must_equal_meta_location() {
        let body = json!({"id": "u", "meta": {"location": "https://h/Users/u"}});
        let mut r = response_json(201, body);
        r.headers
            .push(("Location".into(), "https://h/Users/u".into()));
        let f = location(&r, r.json.as_ref());
        assert!(f.problems.is_empty());
        assert_eq!(
            f.passed,
            r#"Location "https://h/Users/u" equals meta.location"#
        );
        r.headers.last_mut().unwrap().1 = "https://h/Users/v".into();
        let f = location(&r, r.json.as_ref());
        assert_eq!(
            f.problems[0].actual,
            r#"Location is "https://h/Users/v" but meta.location is "https://h/Users/u""#
        );
        let f = location(&r, None);
        assert_eq!(f.passed, r#"Location "https://h/Users/v""#);
    }
}
