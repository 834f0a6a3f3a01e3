//! RFC 6901 JSON pointers, resolved the way SCIM names attributes.
//!
//! SCIM attribute names are case-insensitive (RFC 7643 §2.1) and Microsoft's own test traffic
//! mixes `Value`/`value`, so an object key is looked up exactly first and, only when no key
//! matches exactly, case-insensitively (ASCII; SCIM names are ASCII). When several keys differ
//! only by case, the first one in the body wins. Array indexes follow RFC 6901: decimal without
//! leading zeros; `-` (past the end) never resolves.

use serde_json::{Map, Value};
use thiserror::Error;

/// A pointer that is not valid RFC 6901 syntax.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PointerError {
    #[error("pointer {0:?} must be empty or start with '/'")]
    NoLeadingSlash(String),
    #[error("pointer {0:?} has a '~' not followed by 0 or 1")]
    BadEscape(String),
}

/// Where a pointer led.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup<'a> {
    /// The value, and the pointer as the body spells its keys (differs when case was folded).
    Found { value: &'a Value, path: String },
    /// Nothing there: `reached` is the longest prefix that resolved, `missing` the next segment.
    Missing {
        reached: String,
        parent: &'a Value,
        missing: String,
    },
}

/// Splits a pointer into unescaped segments (`~1` → `/`, then `~0` → `~`).
pub fn parse(pointer: &str) -> Result<Vec<String>, PointerError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(PointerError::NoLeadingSlash(pointer.to_string()));
    };
    rest.split('/')
        .map(|raw| unescape(raw).ok_or_else(|| PointerError::BadEscape(pointer.to_string())))
        .collect()
}

fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Escapes one segment for use in a pointer (`~` → `~0`, `/` → `~1`).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows `pointer` from `root`.
pub fn resolve<'a>(root: &'a Value, pointer: &str) -> Result<Lookup<'a>, PointerError> {
    let mut here = root;
    let mut path = String::new();
    for segment in parse(pointer)? {
        let next = match here {
            Value::Object(map) => get_key(map, &segment).map(|(k, v)| (escape(k), v)),
            Value::Array(items) => array_index(&segment)
                .and_then(|i| items.get(i))
                .map(|v| (segment.clone(), v)),
            _ => None,
        };
        match next {
            Some((key, value)) => {
                path.push('/');
                path.push_str(&key);
                here = value;
            }
            None => {
                return Ok(Lookup::Missing {
                    reached: path,
                    parent: here,
                    missing: segment,
                });
            }
        }
    }
    Ok(Lookup::Found { value: here, path })
}

/// The value at `pointer`, or `None` when it does not resolve or is invalid.
pub fn get<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    match resolve(root, pointer) {
        Ok(Lookup::Found { value, .. }) => Some(value),
        _ => None,
    }
}

/// An object member by SCIM attribute name: exact key first, then ASCII case-insensitive.
pub fn get_key<'a>(map: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    map.get_key_value(key)
        .or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
}

/// An object member's value by SCIM attribute name (see [`get_key`]).
pub fn member<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_object()
        .and_then(|m| get_key(m, key))
        .map(|(_, v)| v)
}

fn array_index(segment: &str) -> Option<usize> {
    let digits = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = segment.len() > 1 && segment.starts_with('0');
    if digits && !leading_zero {
        segment.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn found<'a>(root: &'a Value, p: &str) -> Option<(&'a Value, String)> {
        match resolve(root, p).unwrap() {
            Lookup::Found { value, path } => Some((value, path)),
            Lookup::Missing { .. } => None,
        }
    }

    #[test]
    fn empty_pointer_is_the_whole_document() {
        let v = json!({"a": 1});
        assert_eq!(found(&v, ""), Some((&v, String::new())));
    }

    #[test]
    fn escapes_are_decoded_in_order() {
        let v = json!({"a/b": 1, "m~n": 2, "~1": 3});
        assert_eq!(found(&v, "/a~1b").map(|f| f.0), Some(&json!(1)));
        assert_eq!(found(&v, "/m~0n").map(|f| f.0), Some(&json!(2)));
        // `~01` is `~1` literally, not `/`.
        assert_eq!(found(&v, "/~01").map(|f| f.0), Some(&json!(3)));
        assert_eq!(parse("/a~2"), Err(PointerError::BadEscape("/a~2".into())));
        assert_eq!(parse("a"), Err(PointerError::NoLeadingSlash("a".into())));
    }

    #[test]
    fn keys_fall_back_to_case_insensitive_and_report_the_real_spelling() {
        let v = json!({"Active": true, "name": {"FamilyName": "Smith"}});
        assert_eq!(
            found(&v, "/active"),
            Some((&json!(true), "/Active".to_string()))
        );
        assert_eq!(
            found(&v, "/NAME/familyName"),
            Some((&json!("Smith"), "/name/FamilyName".to_string()))
        );
    }

    #[test]
    fn exact_key_wins_over_case_variant() {
        let v = json!({"Value": 1, "value": 2});
        assert_eq!(found(&v, "/value").map(|f| f.0), Some(&json!(2)));
        assert_eq!(found(&v, "/VALUE").map(|f| f.0), Some(&json!(1)));
    }

    #[test]
    fn urn_keys_with_colons_and_dots_resolve() {
        let v = json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m"}}});
        let p = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value";
        assert_eq!(get(&v, p), Some(&json!("m")));
    }

    #[test]
    fn array_indexes_follow_rfc6901() {
        let v = json!({"a": [10, 20]});
        assert_eq!(get(&v, "/a/1"), Some(&json!(20)));
        assert_eq!(get(&v, "/a/01"), None);
        assert_eq!(get(&v, "/a/-"), None);
        assert_eq!(get(&v, "/a/2"), None);
    }

    #[test]
    fn missing_reports_how_far_it_got() {
        let v = json!({"emails": []});
        match resolve(&v, "/emails/0/value").unwrap() {
            Lookup::Missing {
                reached,
                parent,
                missing,
            } => {
                assert_eq!(reached, "/emails");
                assert_eq!(parent, &json!([]));
                assert_eq!(missing, "0");
            }
            other => panic!("expected missing, got {other:?}"),
        }
    }

    #[test]
    fn member_is_case_insensitive() {
        let v = json!({"Resources": []});
        assert_eq!(member(&v, "resources"), Some(&json!([])));
        assert_eq!(member(&json!(1), "x"), None);
    }
}
