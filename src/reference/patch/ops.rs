//! The three PATCH operations applied to one attribute inside one container (the resource
//! body or an extension object): whole attribute, `attr.sub`, and `attr[filter][.sub]`.
//!
//! Entra-specific semantics live here: `remove` on a multi-valued attribute with a value
//! list removes only the listed values (Entra's default member-removal dialect) instead of
//! wiping the attribute; `add`/`replace` on a filtered path with no matching element
//! creates one from the filter's `eq` terms (so `emails[type eq "work"].value` works on a
//! user without emails, and several sub-attribute ops land in one element); adds are
//! idempotent; a manager is always replaced whole.

use serde_json::{Map, Value};

use super::super::attr::{find_key, remove_ci};
use super::super::error::{ScimError, ScimType};
use super::super::eval::{EvalOptions, matches_element};
use super::super::filter::{CompareOp, Filter};
use super::super::resource::set;
use super::super::schema::{AttrDef, AttrType};
use super::{Op, batch};

/// What an operation acts on: one attribute of a container.
pub struct Target<'a> {
    pub container: &'a mut Map<String, Value>,
    /// The key as stored (or the canonical name when absent).
    pub key: String,
    pub def: Option<&'static AttrDef>,
}

/// Switches that reproduce broken servers.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpOptions {
    pub remove_members_wipes_all: bool,
    pub eval: EvalOptions,
}

impl Target<'_> {
    fn is_multi(&self, value: Option<&Value>) -> bool {
        match self.def {
            Some(def) => def.multi,
            None => match self.container.get(&self.key) {
                Some(existing) => existing.is_array(),
                None => value.is_some_and(Value::is_array),
            },
        }
    }

    /// Complex attributes merge sub-attributes on add/replace (RFC 7644 §3.5.2.1/3); the
    /// manager is the exception, replaced whole so `{"value": ""}` clears it.
    fn merges(&self) -> bool {
        self.def
            .is_some_and(|d| d.ty == AttrType::Complex && !d.multi && d.name != "manager")
    }

    fn sub_name(&self, sub: &str) -> String {
        self.def
            .and_then(|d| d.sub_attr(sub))
            .map_or_else(|| sub.to_string(), |d| d.name.to_string())
    }

    fn sub_defs(&self) -> &'static [AttrDef] {
        self.def.map_or(&[], |d| d.sub)
    }

    fn take_items(&mut self) -> Vec<Value> {
        match self.container.remove(&self.key) {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => Vec::new(),
            Some(other) => vec![other],
        }
    }

    fn put_items(&mut self, items: Vec<Value>) {
        if !items.is_empty() {
            self.container.insert(self.key.clone(), Value::Array(items));
        }
    }
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn is_primary(element: &Value) -> bool {
    match element.get("primary") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Only one element may be primary (RFC 7643 §2.4); the one just written wins.
fn demote_others(items: &mut [Value], winner: usize) {
    if !items.get(winner).is_some_and(is_primary) {
        return;
    }
    for (i, item) in items.iter_mut().enumerate() {
        if i != winner && is_primary(item) {
            if let Some(map) = item.as_object_mut() {
                map.insert("primary".into(), Value::Bool(false));
            }
        }
    }
}

/// `add`, `replace` or `remove` on the whole attribute.
pub fn whole(
    target: &mut Target<'_>,
    op: Op,
    value: Option<&Value>,
    opts: OpOptions,
) -> Result<(), ScimError> {
    let value = value.filter(|v| !v.is_null());
    let multi = target.is_multi(value);
    let merges = target.merges();
    match (op, value) {
        (Op::Remove, Some(listed)) if multi => {
            let wipe = opts.remove_members_wipes_all && target.key == "members";
            let listed = as_list(listed);
            let mut items = target.take_items();
            if !wipe {
                batch::remove_listed(&mut items, &listed);
                target.put_items(items);
            }
        }
        (Op::Remove, _) | (Op::Replace, None) => {
            remove_ci(target.container, &target.key);
        }
        (Op::Add, None) => {}
        (Op::Replace, Some(value)) if multi => {
            target
                .container
                .insert(target.key.clone(), Value::Array(as_list(value)));
        }
        (Op::Add, Some(value)) if multi => {
            let mut items = target.take_items();
            batch::add_all(&mut items, as_list(value), merge_into);
            target.put_items(items);
        }
        (_, Some(value)) => match target.container.get_mut(&target.key) {
            Some(existing @ Value::Object(_)) if merges && value.is_object() => {
                merge_into(existing, value.clone());
            }
            _ => {
                target.container.insert(target.key.clone(), value.clone());
            }
        },
    }
    Ok(())
}

/// Merges an object's members into another object (nulls remove); otherwise replaces.
fn merge_into(existing: &mut Value, addition: Value) {
    match (existing.as_object_mut(), addition) {
        (Some(map), Value::Object(add)) => {
            for (k, v) in add {
                set(map, &k, (!v.is_null()).then_some(v));
            }
        }
        (_, addition) => *existing = addition,
    }
}

/// An operation on `attr.sub` without a filter.
pub fn sub_attr(
    target: &mut Target<'_>,
    sub: &str,
    op: Op,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let sub = target.sub_name(sub);
    let value = value.filter(|v| !v.is_null()).cloned();
    let write = if op == Op::Remove { None } else { value };
    if target.is_multi(None) {
        let mut items = target.take_items();
        if items.is_empty() && write.is_some() {
            items.push(Value::Object(Map::new()));
        }
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            set(item, &sub, write.clone());
        }
        items.retain(|v| !v.as_object().is_some_and(Map::is_empty));
        target.put_items(items);
        return Ok(());
    }
    let mut object = match target.container.remove(&target.key) {
        Some(Value::Object(map)) => map,
        Some(Value::String(id)) => Map::from_iter([("value".to_string(), Value::String(id))]),
        _ => Map::new(),
    };
    set(&mut object, &sub, write);
    if !object.is_empty() {
        target
            .container
            .insert(target.key.clone(), Value::Object(object));
    }
    Ok(())
}

/// The element a filter describes, from its `eq` terms (`type eq "work"` → `{"type":"work"}`).
fn element_from(filter: &Filter, defs: &'static [AttrDef]) -> Option<Map<String, Value>> {
    match filter {
        Filter::And(terms) => {
            let mut element = Map::new();
            for term in terms {
                element.extend(element_from(term, defs)?);
            }
            Some(element)
        }
        Filter::Compare {
            attr,
            op: CompareOp::Eq,
            value,
        } if attr.urn.is_none()
            && attr.filter.is_none()
            && attr.sub.is_none()
            && !value.is_null() =>
        {
            let name = defs
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(&attr.name))
                .map_or(attr.name.as_str(), |d| d.name);
            Some(Map::from_iter([(name.to_string(), value.clone())]))
        }
        _ => None,
    }
}

/// An operation on `attr[filter]` or `attr[filter].sub`.
pub fn filtered(
    target: &mut Target<'_>,
    filter: &Filter,
    sub: Option<&str>,
    op: Op,
    value: Option<&Value>,
    opts: OpOptions,
) -> Result<(), ScimError> {
    let defs = target.sub_defs();
    let sub = sub.map(|s| target.sub_name(s));
    let value = value.filter(|v| !v.is_null()).cloned();
    let singular = target
        .container
        .get(&target.key)
        .is_some_and(Value::is_object);
    let mut items = target.take_items();
    let hit = |item: &Value| {
        item.as_object()
            .is_some_and(|m| matches_element(filter, m, defs, opts.eval))
    };
    let matched: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, v)| hit(v))
        .map(|(i, _)| i)
        .collect();
    let write = if op == Op::Remove { None } else { value };
    match (&sub, write) {
        (None, None) => items.retain(|v| !hit(v)),
        (Some(sub), None) => {
            for i in &matched {
                if let Some(map) = items[*i].as_object_mut() {
                    remove_ci(map, sub);
                }
            }
            items.retain(|v| !v.as_object().is_some_and(Map::is_empty));
        }
        (_, Some(value)) => {
            let written = targets_or_new(&mut items, matched, filter, defs, &target.key)?;
            for i in &written {
                write_element(&mut items[*i], sub.as_deref(), &value, op, filter, defs)?;
            }
            if let Some(last) = written.last() {
                demote_others(&mut items, *last);
            }
        }
    }
    if singular {
        // A singular complex attribute (`manager[value eq ".."]`) keeps the element written last.
        if let Some(last) = items.into_iter().last() {
            target.container.insert(target.key.clone(), last);
        }
    } else {
        target.put_items(items);
    }
    Ok(())
}

/// The matched elements, or — when nothing matched — a new element built from the filter.
fn targets_or_new(
    items: &mut Vec<Value>,
    matched: Vec<usize>,
    filter: &Filter,
    defs: &'static [AttrDef],
    key: &str,
) -> Result<Vec<usize>, ScimError> {
    if !matched.is_empty() {
        return Ok(matched);
    }
    let Some(element) = element_from(filter, defs) else {
        let detail = format!(
            "no `{key}` value matches the filter, and the filter does not describe a new one"
        );
        return Err(ScimError::bad_request(ScimType::NoTarget, detail));
    };
    items.push(Value::Object(element));
    Ok(vec![items.len() - 1])
}

fn write_element(
    element: &mut Value,
    sub: Option<&str>,
    value: &Value,
    op: Op,
    filter: &Filter,
    defs: &'static [AttrDef],
) -> Result<(), ScimError> {
    let Some(map) = element.as_object_mut() else {
        return Ok(());
    };
    match sub {
        Some(sub) => set(map, sub, Some(value.clone())),
        None => {
            let Value::Object(fields) = value else {
                let detail = "a value filter without a sub-attribute needs an object value";
                return Err(ScimError::bad_request(ScimType::InvalidValue, detail));
            };
            if op == Op::Replace {
                // Replace the element, keeping the terms that identify it.
                let keep = element_from(filter, defs).unwrap_or_default();
                *map = keep;
            }
            for (k, v) in fields {
                set(map, k, Some(v.clone()));
            }
        }
    }
    Ok(())
}

/// The key an attribute is stored under in `container`: the existing spelling, else `name`.
pub fn stored_key(container: &Map<String, Value>, name: &str) -> String {
    find_key(container, name).unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::attr::Kind;
    use crate::reference::filter::parse_filter;
    use crate::reference::schema::{self, USER};
    use serde_json::json;

    fn def(name: &str) -> Option<&'static AttrDef> {
        schema::find(USER.attributes, name)
    }

    fn run(
        body: Value,
        name: &str,
        f: impl FnOnce(&mut Target<'_>) -> Result<(), ScimError>,
    ) -> Value {
        let mut container = body.as_object().cloned().unwrap_or_default();
        let key = stored_key(&container, name);
        let mut target = Target {
            container: &mut container,
            key,
            def: def(name),
        };
        if let Err(err) = f(&mut target) {
            panic!("{err}");
        }
        Value::Object(container)
    }

    fn filter(text: &str) -> Filter {
        parse_filter(Kind::User, text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn add_to_multi_valued_is_idempotent_and_keeps_one_primary() {
        let body = json!({"emails": [{"value": "a", "type": "work", "primary": true}]});
        let added = json!([{"value": "a", "type": "work"}, {"value": "b", "type": "home", "primary": true}]);
        let out = run(body, "emails", |t| {
            whole(t, Op::Add, Some(&added), OpOptions::default())
        });
        assert_eq!(
            out["emails"],
            json!([{"value": "a", "type": "work", "primary": false}, {"value": "b", "type": "home", "primary": true}])
        );
    }

    #[test]
    fn remove_with_value_list_removes_only_those_values() {
        let body = json!({"emails": [{"value": "a"}, {"value": "b"}]});
        let listed = json!([{"value": "a", "$ref": null}]);
        let out = run(body.clone(), "emails", |t| {
            whole(t, Op::Remove, Some(&listed), OpOptions::default())
        });
        assert_eq!(out, json!({"emails": [{"value": "b"}]}));
        let wiped = run(body, "emails", |t| {
            whole(t, Op::Remove, None, OpOptions::default())
        });
        assert_eq!(wiped, json!({}));
    }

    #[test]
    fn replace_merges_complex_but_replaces_manager_whole() {
        let body = json!({"name": {"givenName": "A", "familyName": "S"}});
        let out = run(body, "name", |t| {
            whole(
                t,
                Op::Replace,
                Some(&json!({"familyName": "J"})),
                OpOptions::default(),
            )
        });
        assert_eq!(out["name"], json!({"givenName": "A", "familyName": "J"}));
        let mut container = json!({"manager": {"value": "u-1", "$ref": "r"}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let manager = schema::find(schema::ENTERPRISE_USER.attributes, "manager");
        let mut target = Target {
            container: &mut container,
            key: "manager".into(),
            def: manager,
        };
        assert!(
            whole(
                &mut target,
                Op::Replace,
                Some(&json!({"value": ""})),
                OpOptions::default()
            )
            .is_ok()
        );
        assert_eq!(container["manager"], json!({"value": ""}));
    }

    #[test]
    fn sub_attribute_creates_its_parent() {
        let out = run(json!({}), "name", |t| {
            sub_attr(t, "GivenName", Op::Add, Some(&json!("A")))
        });
        assert_eq!(out, json!({"name": {"givenName": "A"}}));
        let removed = run(out, "name", |t| sub_attr(t, "givenName", Op::Remove, None));
        assert_eq!(removed, json!({}));
    }

    #[test]
    fn filtered_add_creates_the_element_and_later_ops_land_in_it() {
        let work = filter(r#"type eq "work""#);
        let opts = OpOptions::default();
        let mut out = run(json!({}), "addresses", |t| {
            filtered(
                t,
                &work,
                Some("formatted"),
                Op::Add,
                Some(&json!("1 Main St")),
                opts,
            )
        });
        out = run(out, "addresses", |t| {
            filtered(
                t,
                &work,
                Some("locality"),
                Op::Replace,
                Some(&json!("Springfield")),
                opts,
            )
        });
        assert_eq!(
            out["addresses"],
            json!([{"type": "work", "formatted": "1 Main St", "locality": "Springfield"}])
        );
    }

    #[test]
    fn filtered_replace_leaves_other_elements_alone() {
        let body =
            json!({"emails": [{"value": "w@x", "type": "work"}, {"value": "h@x", "type": "home"}]});
        let work = filter(r#"type eq "work""#);
        let out = run(body, "emails", |t| {
            filtered(
                t,
                &work,
                Some("value"),
                Op::Replace,
                Some(&json!("new@x")),
                OpOptions::default(),
            )
        });
        assert_eq!(
            out["emails"],
            json!([{"value": "new@x", "type": "work"}, {"value": "h@x", "type": "home"}])
        );
    }

    #[test]
    fn filtered_remove_and_no_target() {
        let body =
            json!({"emails": [{"value": "a", "type": "work"}, {"value": "b", "type": "home"}]});
        let out = run(body, "emails", |t| {
            filtered(
                t,
                &filter(r#"value eq "a""#),
                None,
                Op::Remove,
                None,
                OpOptions::default(),
            )
        });
        assert_eq!(out["emails"], json!([{"value": "b", "type": "home"}]));
        let mut container = Map::new();
        let mut target = Target {
            container: &mut container,
            key: "emails".into(),
            def: def("emails"),
        };
        let err = filtered(
            &mut target,
            &filter(r#"value co "a""#),
            Some("type"),
            Op::Add,
            Some(&json!("x")),
            OpOptions::default(),
        );
        assert_eq!(
            err.err().and_then(|e| e.scim_type),
            Some(ScimType::NoTarget)
        );
    }

    #[test]
    fn filtered_replace_of_whole_element_keeps_its_identifying_terms() {
        let body = json!({"phoneNumbers": [{"value": "1", "type": "work", "display": "old"}]});
        let out = run(body, "phoneNumbers", |t| {
            filtered(
                t,
                &filter(r#"type eq "work""#),
                None,
                Op::Replace,
                Some(&json!({"value": "2"})),
                OpOptions::default(),
            )
        });
        assert_eq!(out["phoneNumbers"], json!([{"type": "work", "value": "2"}]));
    }
}
