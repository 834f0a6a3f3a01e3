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

/// How far a sort key's text looks into an element: elements that agree on their first
/// bytes keep the endpoint's order, so a pathological body costs linear time, not more.
const SORT_TEXT_LIMIT: usize = 4096;

/// The order pass 1 chose for the unordered arrays inside a value, so pass 2 never sorts
/// (and never previews) the same subtree again.
enum Layout {
    Leaf,
    /// Object members by their original index, array elements by index.
    Children(Vec<Layout>),
    /// An unordered array: original element indexes in output order, with their layouts.
    Sorted(Vec<(usize, Layout)>),
}

/// The normalized copy of `value`, found under member `key` of an object that is itself the
/// value of member `parent`.
///
/// Unordered arrays are sorted by a preview of their elements rendered with frozen
/// numbering (pass 1, which also orders every unordered array nested inside), then rendered
/// for real in that order (pass 2). Each value is previewed at most once and rendered once,
/// so the cost is linear in the body however deeply unordered arrays nest.
pub(crate) fn normalize(
    rules: &Rules,
    value: &Value,
    key: Option<&str>,
    parent: Option<&str>,
    names: &mut Names,
) -> Value {
    emit(rules, value, None, key, parent, names)
}

/// Pass 2: renders `value` with live numbering, following `layout` where pass 1 gave one.
fn emit(
    rules: &Rules,
    value: &Value,
    layout: Option<&Layout>,
    key: Option<&str>,
    parent: Option<&str>,
    names: &mut Names,
) -> Value {
    if names.halted() {
        return Value::Null;
    }
    let slot = Slot::Json { key, parent };
    let child = |i: usize| match layout {
        Some(Layout::Children(children)) => children.get(i),
        _ => None,
    };
    match value {
        Value::String(s) => Value::String(rules.string(s, slot, names)),
        Value::Number(n) => number(rules, n, slot, names),
        Value::Object(map) => {
            let mut out = Map::new();
            for (shown, i, k, v) in sorted_members(rules, map, names) {
                out.insert(shown, emit(rules, v, child(i), Some(k), key, names));
            }
            Value::Object(out)
        }
        Value::Array(items) if key.is_some_and(is_unordered) => {
            let owned;
            let order = match layout {
                Some(Layout::Sorted(order)) => order,
                _ => {
                    owned = names.frozen(|frozen| sort_items(rules, items, key, parent, frozen).1);
                    &owned
                }
            };
            Value::Array(
                order
                    .iter()
                    .filter_map(|(i, lay)| {
                        let item = items.get(*i)?;
                        Some(emit(rules, item, Some(lay), key, parent, names))
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| emit(rules, item, child(i), key, parent, names))
                .collect(),
        ),
        Value::Bool(_) | Value::Null => value.clone(),
    }
}

/// Pass 1: the preview of `value` (frozen numbering) and the order of its unordered arrays.
fn preview(
    rules: &Rules,
    value: &Value,
    key: Option<&str>,
    parent: Option<&str>,
    names: &mut Names,
) -> (Value, Layout) {
    if names.halted() {
        return (Value::Null, Layout::Leaf);
    }
    let slot = Slot::Json { key, parent };
    match value {
        Value::String(s) => (Value::String(rules.string(s, slot, names)), Layout::Leaf),
        Value::Number(n) => (number(rules, n, slot, names), Layout::Leaf),
        Value::Object(map) => {
            let mut out = Map::new();
            let mut layouts: Vec<Option<Layout>> = (0..map.len()).map(|_| None).collect();
            for (shown, i, k, v) in sorted_members(rules, map, names) {
                let (shape, layout) = preview(rules, v, Some(k), key, names);
                out.insert(shown, shape);
                layouts[i] = Some(layout);
            }
            let children = layouts.into_iter().map(|l| l.unwrap_or(Layout::Leaf));
            (Value::Object(out), Layout::Children(children.collect()))
        }
        Value::Array(items) if key.is_some_and(is_unordered) => {
            let (shapes, order) = sort_items(rules, items, key, parent, names);
            (Value::Array(shapes), Layout::Sorted(order))
        }
        Value::Array(items) => {
            let (shapes, layouts) = items
                .iter()
                .map(|item| preview(rules, item, key, parent, names))
                .unzip();
            (Value::Array(shapes), Layout::Children(layouts))
        }
        Value::Bool(_) | Value::Null => (value.clone(), Layout::Leaf),
    }
}

/// An object's members with their shown (normalized) names, sorted by them.
fn sorted_members<'v>(
    rules: &Rules,
    map: &'v Map<String, Value>,
    names: &mut Names,
) -> Vec<(String, usize, &'v String, &'v Value)> {
    let mut members: Vec<(String, usize, &String, &Value)> = map
        .iter()
        .enumerate()
        .map(|(i, (k, v))| (rules.key(k, names), i, k, v))
        .collect();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    members
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

/// Sorts an unordered array by its elements' previews (`names` is frozen here), so neither
/// the endpoint's order nor the raw ids decide placeholder numbers. Returns the previews in
/// order and the order itself.
fn sort_items(
    rules: &Rules,
    items: &[Value],
    key: Option<&str>,
    parent: Option<&str>,
    names: &mut Names,
) -> (Vec<Value>, Vec<(usize, Layout)>) {
    let mut keyed: Vec<(Option<SortKey>, usize, Value, Layout)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (shape, layout) = preview(rules, item, key, parent, names);
            (None, i, shape, layout)
        })
        .collect();
    if keyed.len() > 1 {
        for entry in &mut keyed {
            entry.0 = Some(SortKey::of(&entry.2));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
    }
    keyed
        .into_iter()
        .map(|(_, i, shape, layout)| (shape, (i, layout)))
        .unzip()
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
            text: bounded_text(preview),
            primary,
        }
    }
}

/// The compact JSON of `value`, at most [`SORT_TEXT_LIMIT`] bytes of it (cut on a char
/// boundary); the serializer stops as soon as the limit is reached.
fn bounded_text(value: &Value) -> String {
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = SORT_TEXT_LIMIT.saturating_sub(self.0.len());
            if room == 0 {
                return Err(std::io::Error::other("sort key limit"));
            }
            let n = buf.len().min(room);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut capped = Capped(Vec::new());
    // Stopping at the limit is the point; the error it causes carries nothing.
    let _ = serde_json::to_writer(&mut capped, value);
    String::from_utf8_lossy(&capped.0).into_owned()
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
pub(crate) mod tests {
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

    /// Runs `f` on another thread and fails if it takes longer than `secs` (the old code
    /// took exponential or quadratic time on these inputs and never came back in time).
    pub(crate) fn within<T: Send + 'static>(
        secs: u64,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(secs))
            .unwrap_or_else(|_| panic!("took longer than {secs} s"))
    }

    #[test]
    fn deeply_nested_unordered_arrays_are_linear() {
        // Each level holds a leaf and the next level: 60 levels, a couple of KB of JSON.
        let mut v = json!({"value": "bottom"});
        for depth in 0..60 {
            v = json!({"members": [v, {"value": format!("leaf-{depth}")}]});
        }
        let out = within(20, move || run(&v, &[], &mut Names::new()));
        // Sorted at every level: the nested object (no `value`) before the leaf.
        assert_eq!(out["members"][1]["value"], "leaf-59");
        assert_eq!(out["members"][0]["members"][1]["value"], "leaf-58");
    }

    #[test]
    fn many_resources_with_unordered_members_are_not_quadratic() {
        let resources: Vec<Value> = (0..20_000)
            .map(|i| json!({"id": format!("r-{i}"), "emails": [{"value": format!("{i}@b")}, {"value": format!("{i}@a")}]}))
            .collect();
        let ids: Vec<String> = (0..20_000).map(|i| format!("r-{i}")).collect();
        let v = json!({"Resources": resources});
        let out = within(60, move || {
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            run(&v, &refs, &mut Names::new())
        });
        assert_eq!(out["Resources"][0]["id"], "[id:1]");
        assert_eq!(out["Resources"][19_999]["id"], "[id:20000]");
        assert_eq!(out["Resources"][0]["emails"][0]["value"], "0@a");
    }

    #[test]
    fn sort_keys_look_at_a_bounded_prefix() {
        let long = "x".repeat(SORT_TEXT_LIMIT * 3);
        assert_eq!(bounded_text(&json!([long])).len(), SORT_TEXT_LIMIT);
        assert_eq!(bounded_text(&json!({"a": 1})), r#"{"a":1}"#);
    }

    #[test]
    fn id_number_reads_leading_placeholder() {
        assert_eq!(id_number("[id:12]"), Some(12));
        assert_eq!(id_number("[id:?]"), None);
        assert_eq!(id_number("x"), None);
    }
}
