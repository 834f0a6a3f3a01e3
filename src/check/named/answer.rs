//! Checks that relate an answer to the request it answers: a write answered with a body must
//! describe the object the request addressed (RFC 7644 §3.5.2: a 200 to a PATCH carries the
//! updated resource).

use super::{Ctx, Findings};
use crate::check::impact::SERVICE_INCOMPATIBLE;
use serde_json::Value;

/// The id a request path addresses: the last segment of `/Users/{id}` or `/Groups/{id}`.
fn addressed_id(path: &str) -> Option<&str> {
    let resource = path.split('?').next().unwrap_or_default();
    let mut segments = resource.trim_end_matches('/').rsplit('/');
    let id = segments.next()?;
    let collection = segments.next()?;
    (matches!(collection, "Users" | "Groups") && !id.is_empty()).then_some(id)
}

/// A 2xx answer with a JSON body is the addressed resource: its `id` is the id in the path.
/// No body (204, or an empty 200) passes: Entra then reads nothing from the answer.
pub fn same_resource(ctx: &Ctx<'_>) -> Findings {
    let status = ctx.response.status;
    let Some(body) = ctx.json.filter(|_| (200..300).contains(&status)) else {
        return Findings::ok(format!("{status} without a body to compare"));
    };
    let Some(expected) = addressed_id(ctx.path) else {
        let mut f = Findings::default();
        f.fail(
            "a request addressing /Users/{id} or /Groups/{id}",
            format!("the request path is {}", ctx.path),
            "not evaluated: the check applies to writes of one resource",
        );
        return f;
    };
    let expected_text = format!("a body with id {expected:?}");
    match body.get("id") {
        Some(Value::String(id)) if id == expected => Findings::ok(format!("id {id:?}")),
        Some(other) => {
            let mut f = Findings::default();
            f.fail(
                expected_text,
                format!("id {other}"),
                "Entra takes the answer for the object it updated: a body describing another \
                 object (or a new record) makes its view of this one wrong, and the next cycle \
                 updates it again",
            );
            f
        }
        None => {
            let mut f = Findings::default();
            f.fail(
                expected_text,
                "a 2xx body without an id (not the updated resource)",
                format!("Entra logs {SERVICE_INCOMPATIBLE}: the answer is not a resource"),
            );
            f
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::impact::RequestKind;
    use crate::check::test_support::response_json;
    use crate::http::exchange::ReceivedResponse;
    use serde_json::json;

    fn check(path: &str, r: &ReceivedResponse) -> Findings {
        same_resource(&Ctx {
            kind: RequestKind::Update,
            path,
            response: r,
            json: r.json.as_ref(),
        })
    }

    #[test]
    fn the_patched_resource_passes_and_another_fails() {
        let same = response_json(200, json!({"id": "u-1", "userName": "a"}));
        assert!(check("/Users/u-1", &same).problems.is_empty());
        let other = response_json(200, json!({"id": "u-2", "userName": "b"}));
        let f = check("/Users/u-1", &other);
        assert_eq!(f.problems.len(), 1);
        assert_eq!(f.problems[0].actual, "id \"u-2\"");
    }

    #[test]
    fn a_body_without_id_fails_and_no_body_passes() {
        let echo = response_json(200, json!({"Operations": []}));
        assert_eq!(check("/Groups/g-1", &echo).problems.len(), 1);
        let none = response_json(204, Value::Null);
        assert!(check("/Groups/g-1", &none).problems.is_empty());
        let numeric = response_json(200, json!({"id": 7}));
        assert_eq!(check("/Users/7", &numeric).problems.len(), 1);
    }

    #[test]
    fn the_addressed_id_is_the_last_segment_of_a_resource_path() {
        assert_eq!(addressed_id("/Users/u-1"), Some("u-1"));
        assert_eq!(
            addressed_id("/Groups/g-1?excludedAttributes=members"),
            Some("g-1")
        );
        assert_eq!(addressed_id("/Users"), None);
        assert_eq!(addressed_id("/Schemas/x"), None);
        let r = response_json(200, json!({"id": "u-1"}));
        assert_eq!(check("/Users", &r).problems.len(), 1);
    }
}
