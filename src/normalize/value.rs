//! JSON bodies: string rules applied member by member, keys sorted, unordered arrays sorted.
//!
//! The crate enables serde_json's `preserve_order`, so maps keep insertion order; keys are
//! sorted here explicitly before being inserted.

use super::ids::Names;
use super::text::{Rules, Slot};
use serde_json::{Map, Number, Value};

/// Multi-valued attributes whose order carries no meaning (RFC 7643 §2.4), compared in
/// lower case, plus `Resources`, whose order a ListResponse does not promise without sorting.
const UNORDERED: [&str; 12] = [
    "members",
    "emails",
    "phonenumbers",
    "addresses",
    "roles",
    "groups",
    "schemas",
    "resources",
    "ims",
    "photos",
    "entitlements",
    "x509certificates",
];

/// The normalized copy of `value`, found under member `key` of an object that is itself the
/// value of member `parent`.
pub(crate) fn normalize(
    rules: &Rules,
    value: &Value,
    key: Option<&str>,
    parent: Option<&str>,
    names: &mut Names,
) -> Value {
    let slot = Slot::Json { key, parent };
    match value {
        Value::String(s) => Value::String(rules.string(s, slot, names)),
        Value::Number(n) => number(rules, n, slot, names),
        Value::Object(map) => {
            let mut members: Vec<(String, &String, &Value)> = map
                .iter()
                .map(|(k, v)| (rules.key(k, names), k, v))
                .collect();
            members.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = Map::new();
            for (shown, k, v) in members {
                out.insert(shown, normalize(rules, v, Some(k), key, names));
            }
            Value::Object(out)
        }
        Value::Array(items) if key.is_some_and(is_unordered) => {
            Value::Array(sorted(rules, items, key, parent, names))
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| normalize(rules, item, key, parent, names))
                .collect(),
        ),
        Value::Bool(_) | Value::Null => value.clone(),
    }
}

fn is_unordered(key: &str) -> bool {
    UNORDERED.contains(&key.to_ascii_lowercase().as_str())
}

/// Integer ids are learned too; the placeholder says the endpoint sent a number.
fn number(rules: &Rules, n: &Number, slot: Slot, names: &mut Names) -> Value {
    let text = n.to_string();
    if slot.holds_id() && rules.is_id(&text) {
        Value::String(format!("{} (number)", names.id(&text)))
    } else if slot.holds_version() {
        Value::String("[version]".to_string())
    } else {
        Value::Number(n.clone())
    }
}

/// Sorts by a key computed with frozen numbering, then numbers the elements in that order,
/// so neither the endpoint's order nor the raw ids decide placeholder numbers.
fn sorted(
    rules: &Rules,
    items: &[Value],
    key: Option<&str>,
    parent: Option<&str>,
    names: &mut Names,
) -> Vec<Value> {
    let mut frozen = names.frozen();
    let mut keyed: Vec<(SortKey, &Value)> = items
        .iter()
        .map(|item| {
            let preview = normalize(rules, item, key, parent, &mut frozen);
            (SortKey::of(&preview), item)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed
        .into_iter()
        .map(|(_, item)| normalize(rules, item, key, parent, names))
        .collect()
}

/// Already-numbered ids first, by number; then the `id`/`value` text; then the whole element.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey {
    rank: u64,
    primary: String,
    text: String,
}

impl SortKey {
    fn of(preview: &Value) -> SortKey {
        let primary = match preview {
            Value::Object(map) => ["id", "value"]
                .iter()
                .find_map(|name| {
                    map.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| scalar_text(v))
                })
                .unwrap_or_default(),
            other => scalar_text(other),
        };
        SortKey {
            rank: id_number(&primary).unwrap_or(u64::MAX),
            text: serde_json::to_string(preview).unwrap_or_default(),
            primary,
        }
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => String::new(),
        other => other.to_string(),
    }
}

/// `N` of a leading `[id:N]`.
fn id_number(s: &str) -> Option<u64> {
    s.strip_prefix("[id:")?.split(']').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalizer;
    use serde_json::json;

    fn run(value: &Value, learned: &[&str], names: &mut Names) -> Value {
        let n = Normalizer::new("http://h/scim", "p-");
        let learned: Vec<String> = learned.iter().map(|s| s.to_string()).collect();
        let rules = Rules::new(&n, &learned);
        normalize(&rules, value, None, None, names)
    }

    #[test]
    fn keys_are_sorted_at_every_level() {
        let v = json!({"b": 1, "a": {"z": 1, "y": [{"d": 1, "c": 2}]}});
        let out = run(&v, &[], &mut Names::new());
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"a":{"y":[{"c":2,"d":1}],"z":1},"b":1}"#
        );
    }

    #[test]
    fn members_sort_by_known_id_number_not_by_raw_id() {
        let mut names = Names::new();
        names.id("zzz");
        names.id("aaa");
        let v = json!({"members": [{"value": "aaa"}, {"value": "zzz"}]});
        let out = run(&v, &["aaa", "zzz"], &mut names);
        assert_eq!(
            out,
            json!({"members": [{"value": "[id:1]"}, {"value": "[id:2]"}]})
        );
    }

    #[test]
    fn numbering_of_unseen_ids_does_not_depend_on_endpoint_order() {
        let a = json!({"id": "r-a", "userName": "p-alice"});
        let b = json!({"id": "r-b", "userName": "p-bob"});
        let one = json!({"Resources": [a.clone(), b.clone()], "totalResults": 2});
        let two = json!({"Resources": [b, a], "totalResults": 2});
        let out1 = run(&one, &["r-a", "r-b"], &mut Names::new());
        let out2 = run(&two, &["r-a", "r-b"], &mut Names::new());
        assert_eq!(out1, out2);
        assert_eq!(out1["Resources"][0]["userName"], "[prefix]alice");
        assert_eq!(out1["Resources"][0]["id"], "[id:1]");
    }

    #[test]
    fn unordered_arrays_sort_but_operations_keep_their_order() {
        let v = json!({
            "emails": [{"value": "b@x", "type": "work"}, {"value": "a@x"}],
            "schemas": ["urn:b", "urn:a"],
            "Operations": [{"op": "Replace"}, {"op": "Add"}]
        });
        let out = run(&v, &[], &mut Names::new());
        assert_eq!(out["emails"][0]["value"], "a@x");
        assert_eq!(out["schemas"], json!(["urn:a", "urn:b"]));
        assert_eq!(out["Operations"], json!([{"op": "Replace"}, {"op": "Add"}]));
    }

    #[test]
    fn integer_ids_and_versions_become_placeholders_only_in_their_positions() {
        let v = json!({
            "id": 42,
            "totalResults": 42,
            "meta": {"version": 3},
            "manager": {"value": 42}
        });
        let out = run(&v, &["42"], &mut Names::new());
        assert_eq!(
            out,
            json!({
                "id": "[id:1] (number)",
                "manager": {"value": "[id:1] (number)"},
                "meta": {"version": "[version]"},
                "totalResults": 42
            })
        );
    }

    #[test]
    fn id_number_reads_leading_placeholder() {
        assert_eq!(id_number("[id:12]"), Some(12));
        assert_eq!(id_number("[id:?]"), None);
        assert_eq!(id_number("x"), None);
    }
}
