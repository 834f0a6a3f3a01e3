//! The safety guard: what a run may send to a real endpoint.
//!
//! A request that changes or removes an object (PUT, PATCH, DELETE) may only address an
//! object this run created (it is in the ledger) or an id this run generated itself (a
//! random uuid no real object can have). A create must start the object's name with the run
//! prefix, so that an interrupted run's leftovers can always be found by prefix. Paths with
//! `.` or `..` segments, or encoded slashes, are refused outright: the URL layer would resolve
//! them into some other object than the one the guard looked at.

use crate::scenario::model::Method;
use serde_json::Value;

/// The SCIM collections whose objects the harness creates and cleans up.
pub const COLLECTIONS: [&str; 2] = ["Users", "Groups"];

/// `(collection, id)` when the path addresses exactly one object of a known collection,
/// e.g. `/Users/42` → `("Users", "42")`; `None` for anything longer, shorter, or whose id is
/// not a [`safe_id`].
pub fn object_of(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.trim_start_matches('/').split('/');
    let collection = parts.next()?;
    let id = parts.next()?;
    let known = COLLECTIONS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(collection));
    (known && parts.next().is_none() && safe_id(id)).then_some((collection, id))
}

/// Longest object id the harness records or addresses; no real server id comes near it.
pub const MAX_ID_LEN: usize = 256;

/// True for an object id the harness may record, address or delete: a plain, printable,
/// unreserved path segment (RFC 3986 §2.3: letters, digits, `-`, `.`, `_`, `~`), not `.` or
/// `..`, at most [`MAX_ID_LEN`] bytes. Anything else (whitespace, control characters,
/// `%`-escapes, `;`, `@`, …) could be sent differently from how it was recorded, be decoded
/// by the server into another object's id, or break an output line, so it is refused.
pub fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// An id as it may be shown in a message: escaped (so it cannot break a line or steer a
/// terminal) and cut to a readable length.
pub fn shown_id(id: &str) -> String {
    const SHOWN: usize = 80;
    let mut shown: String = format!("{id:?}").chars().take(SHOWN).collect();
    if id.chars().count() + 2 > SHOWN {
        shown.push('…');
    }
    shown
}

/// True for a path segment that names itself and nothing else: not empty, not `.` or `..`
/// (also once percent-decoded), no slash, backslash, query, fragment or `;` parameter, no
/// whitespace or control character, and no encoded separator.
pub fn safe_segment(segment: &str) -> bool {
    let decoded = crate::normalize::percent_decode(segment);
    let plain = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && !s.contains(['/', '\\', '?', '#', ';'])
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    plain(segment) && plain(&decoded)
}

/// Why a ledger path must not be deleted, if it must not: only `/Users/<id>` and
/// `/Groups/<id>`, spelled exactly so, with a [`safe_id`], are objects the harness creates.
/// (A ledger file can be planted or edited; this is the same rule a run applies.)
pub fn ledger_path_problem(path: &str) -> Option<String> {
    let exact = object_of(path).is_some_and(|(collection, id)| {
        COLLECTIONS.contains(&collection) && path == format!("/{collection}/{id}")
    });
    (!exact).then(|| {
        format!(
            "{} is not /Users/<id> or /Groups/<id> with a plain id",
            shown_id(path)
        )
    })
}

/// Why a path is unsafe to send at all (dot segments, encoded separators), if it is.
fn unsafe_path(path: &str) -> Option<String> {
    let bad = path
        .trim_start_matches('/')
        .split('/')
        .find(|s| !s.is_empty() && !safe_segment(s))?;
    Some(format!(
        "{path} has the segment `{bad}`, which the URL layer would resolve to another path; the \
         harness only sends paths that name their object directly"
    ))
}

/// The collection a path names when it is a collection itself (`/Users` → `Users`).
pub fn collection_of(path: &str) -> Option<&'static str> {
    let trimmed = path.trim_start_matches('/').trim_end_matches('/');
    COLLECTIONS
        .iter()
        .copied()
        .find(|c| c.eq_ignore_ascii_case(trimmed))
}

/// Why a request must not be sent, or `None` when it may.
pub fn refusal(
    method: Method,
    path: &str,
    body: Option<&Value>,
    prefix: &str,
    owns: impl Fn(&str) -> bool,
    generated: impl Fn(&str) -> bool,
) -> Option<String> {
    if let Some(problem) = unsafe_path(path) {
        return Some(problem);
    }
    if method.modifies() {
        let Some((collection, id)) = object_of(path) else {
            return Some(format!(
                "{method} {path} does not address one object; the harness only changes objects it created"
            ));
        };
        let object = format!("/{collection}/{id}");
        if !owns(&object) && !generated(id) {
            return Some(format!(
                "{method} {object} would touch an object this run did not create; the harness only \
                 changes objects recorded in its ledger"
            ));
        }
    }
    if method == Method::Post {
        return create_refusal(path, body, prefix);
    }
    None
}

/// Why a POST must not be sent: only creates of users and groups whose name starts with the
/// run prefix, and `.search` queries, may go out.
fn create_refusal(path: &str, body: Option<&Value>, prefix: &str) -> Option<String> {
    let Some(collection) = collection_of(path) else {
        let searches = path.trim_end_matches('/').ends_with("/.search");
        return (!searches).then(|| {
            format!(
                "POST {path} is not a create of a user or group nor a `.search` query; the \
                 harness creates only users and groups, which it can track and clean up"
            )
        });
    };
    let name_key = if collection == "Users" {
        "userName"
    } else {
        "displayName"
    };
    let name = body
        .and_then(|b| get_ci(b, name_key))
        .and_then(Value::as_str);
    let starts = name.is_some_and(|n| {
        n.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    });
    (!starts).then(|| {
        format!(
            "POST {path} creates an object whose {name_key} does not start with the run prefix; \
             begin it with `{{{{run.prefix}}}}` so every created object can be found and cleaned up"
        )
    })
}

fn get_ci<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P: &str = "scimreplay-abc-";

    fn check(method: Method, path: &str, body: Option<Value>) -> Option<String> {
        refusal(
            method,
            path,
            body.as_ref(),
            P,
            |p| p == "/Users/mine",
            |id| id == "gen-uuid",
        )
    }

    #[test]
    fn changes_only_objects_of_this_run() {
        assert!(check(Method::Patch, "/Users/mine", None).is_none());
        assert!(check(Method::Delete, "/Users/gen-uuid", None).is_none());
        let refused = check(Method::Delete, "/Users/someone-else", None).unwrap();
        assert!(refused.contains("did not create"), "{refused}");
        assert!(check(Method::Put, "/Groups/other", None).is_some());
        assert!(check(Method::Delete, "/Users", None).is_some());
        assert!(check(Method::Get, "/Users/someone-else", None).is_none());
    }

    #[test]
    fn creates_must_carry_the_prefix() {
        assert!(
            check(
                Method::Post,
                "/Users",
                Some(json!({"userName": "scimreplay-abc-alice"}))
            )
            .is_none()
        );
        assert!(
            check(
                Method::Post,
                "/Groups",
                Some(json!({"DisplayName": "scimreplay-abc-Sales"}))
            )
            .is_none()
        );
        let inside = check(
            Method::Post,
            "/Users",
            Some(json!({"userName": "alice-scimreplay-abc-x"})),
        );
        assert!(
            inside.is_some(),
            "the prefix must come first, as the sweep looks for it"
        );
        assert!(check(Method::Post, "/Users/.search", Some(json!({}))).is_none());
        assert!(check(Method::Post, "/Bulk", Some(json!({}))).is_some());
        let refused = check(Method::Post, "/Users", Some(json!({"userName": "alice"}))).unwrap();
        assert!(refused.contains("run prefix"), "{refused}");
        assert!(check(Method::Post, "/Groups", None).is_some());
    }

    #[test]
    fn dot_segments_and_encoded_slashes_never_reach_the_wire() {
        for path in [
            "/Users/mine/../someone-else",
            "/Users/mine/%2e%2e/x",
            "/Users/..",
            "/Groups/../Users",
            "/Users/a%2Fb",
            "/Users/./mine",
        ] {
            assert!(check(Method::Patch, path, None).is_some(), "{path}");
            assert!(check(Method::Get, path, None).is_some(), "{path}");
        }
        let body = Some(json!({"userName": "alice"}));
        assert!(check(Method::Post, "/Groups/../Users", body).is_some());
        assert!(check(Method::Patch, "/Users/mine/extra", None).is_some());
        assert!(check(Method::Delete, "/Schemas/mine", None).is_some());
    }

    #[test]
    fn ids_with_whitespace_escapes_or_parameters_are_refused() {
        for id in [
            ".\t.",
            "victim\n",
            "victim ",
            " victim",
            "%76ictim",
            "v;x",
            "a@b",
            "v\u{1b}]52",
            "é",
            "",
            ".",
            "..",
        ] {
            assert!(!safe_id(id), "{id:?}");
            let path = format!("/Users/{id}");
            assert!(object_of(&path).is_none(), "{path:?}");
            assert!(check(Method::Delete, &path, None).is_some(), "{path:?}");
        }
        assert!(!safe_id(&"a".repeat(MAX_ID_LEN + 1)));
        assert_eq!(shown_id("victim\n"), r#""victim\n""#);
        assert!(shown_id(&"x".repeat(10_000)).chars().count() <= 81);
        for id in [
            "2819c223-7f76-453a-919d-413861904646",
            "42",
            "a.b_c~d",
            "...",
        ] {
            assert!(safe_id(id), "{id}");
        }
    }

    #[test]
    fn segments_that_decode_or_trim_to_dots_are_unsafe() {
        for seg in [
            ".\t.", "%2e%2E", "%2e.", ". ", "a;b", "a\nb", "%0a", "a%2fb", "a%5cb",
        ] {
            assert!(!safe_segment(seg), "{seg:?}");
            let path = format!("/Users/{seg}");
            assert!(check(Method::Get, &path, None).is_some(), "{path:?}");
        }
        assert!(safe_segment("urn:ietf:params:scim:schemas:core:2.0:User"));
        assert!(safe_segment("a%40b"));
    }

    #[test]
    fn only_exact_object_paths_may_be_deleted_from_a_ledger() {
        assert!(ledger_path_problem("/Users/u-1").is_none());
        assert!(ledger_path_problem("/Groups/7").is_none());
        for bad in [
            "/Users/../../../admin/wipe",
            "/Schemas/urn:x",
            "/ServiceProviderConfig",
            "/Users",
            "/users/u-1",
            "Users/u-1",
            "//Users/u-1",
            "/Users/u-1/",
            "/Users/victim\n",
            "/Users/%76ictim",
            "http://evil/Users/1",
        ] {
            let problem = ledger_path_problem(bad);
            assert!(problem.is_some(), "{bad:?}");
            assert!(!problem.unwrap().contains('\n'));
        }
    }

    #[test]
    fn object_paths_are_recognised() {
        assert_eq!(object_of("/Users/42"), Some(("Users", "42")));
        assert_eq!(object_of("/Users/"), None);
        assert_eq!(collection_of("/groups/"), Some("Groups"));
        assert_eq!(collection_of("/Users/1"), None);
    }
}
