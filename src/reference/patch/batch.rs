//! Batches on multi-valued attributes in time linear in the batch plus the attribute.
//!
//! A group's `members` can hold 100 000 values and one PATCH can add or remove tens of
//! thousands, so nothing here compares every listed value with every stored one: values
//! are looked up by a hash of their identity. A run of Entra's one-member removals
//! (`remove` with path `members[value eq "…"]`, one operation per member) is applied as one
//! pass over the list, with the filter's own string comparison.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::super::attr::Kind;
use super::super::error::{ScimError, ScimType};
use super::super::filter::{AttrPath, CompareOp, Filter};
use super::super::schema::{self, AttrDef};
use super::{Op, Operation};

/// Operations in one PATCH; more is a 400 (Entra sends one per changed attribute).
pub const MAX_OPERATIONS: usize = 1000;

/// Values (array elements, e.g. members) across one PATCH's operations; more is a 413.
pub const MAX_BATCH_VALUES: usize = 10_000;

/// Refuses a PATCH with more than [`MAX_OPERATIONS`] operations (400) or more than
/// [`MAX_BATCH_VALUES`] values in total (413).
pub fn check_limits(operations: &[Operation]) -> Result<(), ScimError> {
    if operations.len() > MAX_OPERATIONS {
        let detail = format!(
            "{} operations in one PATCH; at most {MAX_OPERATIONS} are accepted",
            operations.len()
        );
        return Err(ScimError::bad_request(ScimType::InvalidSyntax, detail));
    }
    let values: usize = operations
        .iter()
        .map(|op| match &op.value {
            Some(Value::Array(items)) => items.len(),
            _ => 1,
        })
        .sum();
    if values > MAX_BATCH_VALUES {
        let detail = format!(
            "the PATCH carries {values} values; at most {MAX_BATCH_VALUES} are accepted in one request"
        );
        return Err(ScimError::new(StatusCode::PAYLOAD_TOO_LARGE, detail));
    }
    Ok(())
}

/// The identity of a multi-valued element: its `value`, or the element itself.
pub fn identity(element: &Value) -> &Value {
    element.get("value").unwrap_or(element)
}

/// A hashable form of an identity (JSON text; strings stay as they are).
fn key(identity: &Value) -> String {
    match identity {
        Value::String(s) => format!("s{s}"),
        other => format!("j{other}"),
    }
}

/// Elements are the same when identity and `type` agree.
fn element_key(element: &Value) -> (String, Option<String>) {
    let ty = element.get("type").map(|t| t.to_string());
    (key(identity(element)), ty)
}

fn is_primary(element: &Value) -> bool {
    match element.get("primary") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn set_not_primary(element: &mut Value) {
    if let Some(map) = element.as_object_mut() {
        map.insert("primary".into(), Value::Bool(false));
    }
}

/// Removes every element whose identity equals a listed one's.
pub fn remove_listed(items: &mut Vec<Value>, listed: &[Value]) {
    let gone: HashSet<String> = listed.iter().map(|l| key(identity(l))).collect();
    items.retain(|item| !gone.contains(&key(identity(item))));
}

/// Adds elements, merging each into an equal one already there (`merge`), so a re-add is
/// idempotent. Only one element stays primary: the last one written as primary wins
/// (RFC 7643 §2.4), exactly as if each were added by its own operation.
pub fn add_all(items: &mut Vec<Value>, added: Vec<Value>, merge: impl Fn(&mut Value, Value)) {
    let mut index: HashMap<(String, Option<String>), usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        index.entry(element_key(item)).or_insert(i);
    }
    let mut winner: Option<usize> = None;
    for new in added {
        let at = match index.get(&element_key(&new)) {
            Some(&i) => {
                // An earlier winner in this batch already demoted this element.
                if winner.is_some_and(|w| w != i) && is_primary(&items[i]) {
                    set_not_primary(&mut items[i]);
                }
                merge(&mut items[i], new);
                i
            }
            None => {
                index.insert(element_key(&new), items.len());
                items.push(new);
                items.len() - 1
            }
        };
        if is_primary(&items[at]) {
            winner = Some(at);
        }
    }
    if let Some(winner) = winner {
        for (i, item) in items.iter_mut().enumerate() {
            if i != winner && is_primary(item) {
                set_not_primary(item);
            }
        }
    }
}

/// The member id of `members[value eq "…"]`, if `path` is exactly that form.
pub fn single_member_filter(kind: Kind, op: Op, path: &AttrPath) -> Option<&str> {
    let is_members = path.name.eq_ignore_ascii_case("members") && path.urn.is_none();
    if kind != Kind::Group || op != Op::Remove || !is_members || path.sub.is_some() {
        return None;
    }
    match path.filter.as_deref()? {
        Filter::Compare {
            attr,
            op: CompareOp::Eq,
            value: Value::String(id),
        } if attr.name.eq_ignore_ascii_case("value")
            && attr.urn.is_none()
            && attr.filter.is_none()
            && attr.sub.is_none() =>
        {
            Some(id)
        }
        _ => None,
    }
}

/// Removes the members whose `value` equals one of `ids`, compared as the filter would
/// (`members.value` is not case-exact).
pub fn remove_member_ids(body: &mut Map<String, Value>, ids: &[&str]) {
    let exact = members_value_def().is_some_and(|d| d.case_exact);
    let fold = |s: &str| {
        if exact {
            s.to_string()
        } else {
            s.to_lowercase()
        }
    };
    let gone: HashSet<String> = ids.iter().map(|id| fold(id)).collect();
    let Some(key) = super::super::attr::find_key(body, "members").map(str::to_string) else {
        return;
    };
    let Some(Value::Array(items)) = body.get_mut(&key) else {
        return;
    };
    items.retain(|m| {
        let value = m.get("value").and_then(Value::as_str);
        !value.is_some_and(|v| gone.contains(&fold(v)))
    });
    if items.is_empty() {
        body.remove(&key);
    }
}

fn members_value_def() -> Option<&'static AttrDef> {
    let members = schema::find(schema::GROUP.attributes, "members")?;
    schema::find(members.sub, "value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(v: Value) -> Vec<Value> {
        v.as_array().cloned().unwrap_or_default()
    }

    fn replace(existing: &mut Value, new: Value) {
        if let (Some(map), Value::Object(add)) = (existing.as_object_mut(), new) {
            map.extend(add);
        }
    }

    #[test]
    fn adds_merge_equal_elements_and_the_last_primary_wins() {
        let mut items = list(json!([{"value": "a", "primary": true}, {"value": "b"}]));
        let added = list(
            json!([{"value": "b", "primary": true}, {"value": "c"}, {"value": "a", "display": "A"}]),
        );
        add_all(&mut items, added, replace);
        assert_eq!(
            Value::Array(items),
            json!([{"value": "a", "primary": false, "display": "A"}, {"value": "b", "primary": true}, {"value": "c"}])
        );
        let mut twice = list(json!([{"value": "a", "primary": true}]));
        add_all(
            &mut twice,
            list(json!([{"value": "b", "primary": true}, {"value": "a", "primary": true}])),
            replace,
        );
        assert_eq!(
            Value::Array(twice),
            json!([{"value": "a", "primary": true}, {"value": "b", "primary": false}])
        );
    }

    #[test]
    fn removals_take_listed_values_and_member_ids_in_any_case() {
        let mut items = list(json!([{"value": "a"}, {"value": "b", "type": "x"}, {"value": 3}]));
        remove_listed(
            &mut items,
            &list(json!([{"value": "b"}, {"value": 3}, "zz"])),
        );
        assert_eq!(Value::Array(items), json!([{"value": "a"}]));
        let mut body = json!({"members": [{"value": "U-1"}, {"value": "u-2"}]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        remove_member_ids(&mut body, &["u-1"]);
        assert_eq!(
            Value::Object(body.clone()),
            json!({"members": [{"value": "u-2"}]})
        );
        remove_member_ids(&mut body, &["U-2"]);
        assert_eq!(Value::Object(body), json!({}));
    }
}
