//! The safety guard: what a run may send to a real endpoint.
//!
//! A request that changes or removes an object (PUT, PATCH, DELETE) may only address an
//! object this run created (it is in the ledger) or an id this run generated itself (a
//! random uuid no real object can have). A create must carry the run prefix in the object's
//! name, so that an interrupted run's leftovers can always be found by prefix.

use crate::scenario::model::Method;
use serde_json::Value;

/// The SCIM collections whose objects the harness creates and cleans up.
pub const COLLECTIONS: [&str; 2] = ["Users", "Groups"];

/// `(collection, id)` when the path addresses one object, e.g. `/Users/42` → `("Users", "42")`.
pub fn object_of(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let collection = parts.next()?;
    let id = parts.next()?;
    (!id.is_empty()).then_some((collection, id))
}

/// The collection a path names when it is a collection itself (`/Users` → `Users`).
pub fn collection_of(path: &str) -> Option<&str> {
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
        if let Some(collection) = collection_of(path) {
            let name_key = if collection == "Users" {
                "userName"
            } else {
                "displayName"
            };
            let name = body
                .and_then(|b| get_ci(b, name_key))
                .and_then(Value::as_str);
            if !name.is_some_and(|n| n.contains(prefix)) {
                return Some(format!(
                    "POST {path} creates an object whose {name_key} lacks the run prefix; write \
                     `{{{{run.prefix}}}}` into it so every created object can be found and cleaned up"
                ));
            }
        }
    }
    None
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
        let refused = check(Method::Post, "/Users", Some(json!({"userName": "alice"}))).unwrap();
        assert!(refused.contains("run prefix"), "{refused}");
        assert!(check(Method::Post, "/Groups", None).is_some());
    }

    #[test]
    fn object_paths_are_recognised() {
        assert_eq!(object_of("/Users/42"), Some(("Users", "42")));
        assert_eq!(object_of("/Users/"), None);
        assert_eq!(collection_of("/groups/"), Some("Groups"));
        assert_eq!(collection_of("/Users/1"), None);
    }
}
