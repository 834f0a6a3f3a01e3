//! Stored resources → response JSON: `schemas`, `id`, attributes, `meta`, then the
//! `attributes` / `excludedAttributes` projection of RFC 7644 §3.4.2.5.
//!
//! Manager is always rendered as the complex `{"value": ..}` (a bare string makes Entra fail
//! with "not able to deserialize"); a group always carries `members` (empty when it has
//! none) unless excluded. The `manager_as_string` and `members_not_excluded` faults undo
//! exactly those two guarantees; `active_as_string` renders `active` as Entra's strings.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::attr::{
    Kind, Slot, core_urn, find_key, get_ci, is_extension_key, remove_ci, resolve, slot_value,
};
use super::error::{ScimError, ScimType, excerpt};
use super::eval::Source;
use super::filter::{AttrPath, parse_path};
use super::schema::Returned;
use super::store::Stored;
use crate::scim;

/// Which attributes a response includes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

/// `attributes` / `excludedAttributes` with more entries than this are refused.
pub const MAX_PROJECTION_PATHS: usize = 200;

fn parse_list(kind: Kind, list: Option<&str>, param: &str) -> Result<Vec<AttrPath>, ScimError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    let mut paths = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if paths.len() == MAX_PROJECTION_PATHS {
            let detail = format!("`{param}` lists more than {MAX_PROJECTION_PATHS} attributes");
            return Err(ScimError::bad_request(ScimType::InvalidPath, detail));
        }
        let path = parse_path(kind, item).map_err(|err| {
            ScimError::bad_request(
                ScimType::InvalidPath,
                format!("invalid `{param}` entry `{}`: {err}", excerpt(item)),
            )
        })?;
        paths.push(path);
    }
    Ok(paths)
}

impl Projection {
    /// Parses the `attributes` and `excludedAttributes` query parameters.
    pub fn parse(
        kind: Kind,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Self, ScimError> {
        Ok(Projection {
            attributes: parse_list(kind, attributes, "attributes")?,
            excluded: parse_list(kind, excluded, "excludedAttributes")?,
        })
    }
}

/// What rendering needs besides the resource.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// The endpoint's base URL, e.g. `http://127.0.0.1:8080/scim/v2`.
    pub base: &'a str,
    pub projection: &'a Projection,
    pub manager_as_string: bool,
    pub members_not_excluded: bool,
    pub active_as_string: bool,
}

/// The resource's location URL.
pub fn location(kind: Kind, base: &str, id: &str) -> String {
    format!("{base}/{}/{id}", kind.endpoint())
}

/// The `meta` object.
pub fn meta_json(kind: Kind, stored: &Stored, base: Option<&str>) -> Value {
    let mut meta = json!({
        "resourceType": kind.resource_type(),
        "created": stored.created,
        "lastModified": stored.last_modified,
        "version": stored.etag(),
    });
    if let (Some(base), Some(map)) = (base, meta.as_object_mut()) {
        map.insert("location".into(), json!(location(kind, base, &stored.id)));
    }
    meta
}

/// The full JSON representation of a stored resource.
pub fn render(kind: Kind, stored: &Stored, opts: RenderOptions<'_>) -> Value {
    let mut full = Map::new();
    full.insert("id".into(), json!(stored.id));
    for (key, value) in &stored.body {
        let hidden = resolve(kind, None, key)
            .def()
            .is_some_and(|d| d.returned == Returned::Never);
        if !hidden {
            full.insert(key.clone(), value.clone());
        }
    }
    if kind == Kind::Group && !full.contains_key("members") {
        full.insert("members".into(), json!([]));
    }
    full.insert("meta".into(), meta_json(kind, stored, Some(opts.base)));
    let mut out = project(kind, full, opts);
    if opts.manager_as_string {
        flatten_manager(&mut out);
    }
    if opts.active_as_string {
        stringify_active(&mut out);
    }
    let mut schemas = vec![json!(core_urn(kind))];
    schemas.extend(
        out.keys()
            .filter(|k| is_extension_key(kind, k))
            .map(|k| json!(k)),
    );
    let mut ordered = Map::new();
    ordered.insert("schemas".into(), Value::Array(schemas));
    ordered.extend(out);
    Value::Object(ordered)
}

fn project(kind: Kind, full: Map<String, Value>, opts: RenderOptions<'_>) -> Map<String, Value> {
    let projection = opts.projection;
    let mut out = if projection.attributes.is_empty() {
        full
    } else {
        let mut picked = Map::new();
        if let Some(id) = full.get("id") {
            picked.insert("id".into(), id.clone());
        }
        for path in &projection.attributes {
            copy_selected(kind, &full, &mut picked, path);
        }
        prune_empty_elements(&mut picked);
        picked
    };
    for path in &projection.excluded {
        let is_members = resolve(kind, path.urn.as_deref(), &path.name).key() == Some("members");
        if !(opts.members_not_excluded && is_members) {
            remove_selected(kind, &mut out, path);
        }
    }
    out
}

fn copy_selected(
    kind: Kind,
    full: &Map<String, Value>,
    out: &mut Map<String, Value>,
    path: &AttrPath,
) {
    let slot = resolve(kind, path.urn.as_deref(), &path.name);
    match &slot {
        Slot::CoreWhole => out.extend(full.iter().map(|(k, v)| (k.clone(), v.clone()))),
        Slot::ExtWhole(urn) => copy_key(full, out, urn, None),
        Slot::CustomWhole(urn) => copy_key(full, out, urn, None),
        Slot::Schemas => {}
        _ => {
            let Some(key) = slot.key() else { return };
            match slot.container() {
                None => copy_key(full, out, key, path.sub.as_deref()),
                Some(urn) => {
                    let Some(container_key) = find_key(full, urn) else {
                        return;
                    };
                    let Some(source) = full.get(container_key).and_then(Value::as_object) else {
                        return;
                    };
                    let entry = out
                        .entry(container_key.to_string())
                        .or_insert_with(|| json!({}));
                    if let Some(target) = entry.as_object_mut() {
                        copy_key(source, target, key, path.sub.as_deref());
                    }
                    if entry.as_object().is_some_and(Map::is_empty) {
                        out.remove(container_key);
                    }
                }
            }
        }
    }
}

fn copy_key(
    source: &Map<String, Value>,
    target: &mut Map<String, Value>,
    key: &str,
    sub: Option<&str>,
) {
    let Some(found) = find_key(source, key) else {
        return;
    };
    let value = &source[found];
    let selected = match sub {
        None => value.clone(),
        Some(sub) => match value {
            Value::Object(map) => match get_ci(map, sub) {
                Some(v) => Value::Object(Map::from_iter([(sub.to_string(), v.clone())])),
                None => return,
            },
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| {
                        let picked = item
                            .as_object()
                            .and_then(|m| find_key(m, sub).map(|k| (k, &m[k])));
                        Value::Object(
                            picked
                                .map(|(k, v)| (k.to_string(), v.clone()))
                                .into_iter()
                                .collect(),
                        )
                    })
                    .collect(),
            ),
            _ => return,
        },
    };
    match target.get_mut(found) {
        Some(existing) => merge(existing, selected),
        None => {
            target.insert(found.to_string(), selected);
        }
    }
    if let Some(Value::Array(items)) = target.get_mut(found) {
        // Keep alignment while merging; drop what stayed empty only at the very end.
        if items
            .iter()
            .all(|v| v.as_object().is_some_and(Map::is_empty))
        {
            target.remove(found);
        }
    }
}

/// Drops the `{}` placeholders sub-attribute selection leaves in multi-valued attributes.
fn prune_empty_elements(map: &mut Map<String, Value>) {
    for value in map.values_mut() {
        match value {
            Value::Array(items) => items.retain(|v| !v.as_object().is_some_and(Map::is_empty)),
            Value::Object(inner) => prune_empty_elements(inner),
            _ => {}
        }
    }
}

/// Merges two partial selections of the same attribute (e.g. `name.givenName,name.familyName`).
fn merge(existing: &mut Value, addition: Value) {
    match (existing, addition) {
        (Value::Object(left), Value::Object(right)) => left.extend(right),
        (Value::Array(left), Value::Array(right)) if left.len() == right.len() => {
            for (l, r) in left.iter_mut().zip(right) {
                merge(l, r);
            }
        }
        (slot, addition) => *slot = addition,
    }
}

fn remove_selected(kind: Kind, out: &mut Map<String, Value>, path: &AttrPath) {
    let slot = resolve(kind, path.urn.as_deref(), &path.name);
    if matches!(slot, Slot::Schemas) || slot.key() == Some("id") {
        return; // `returned: always`
    }
    let container: &mut Map<String, Value> = match (&slot, slot.container()) {
        (Slot::ExtWhole(urn), _) => {
            remove_ci(out, urn);
            return;
        }
        (Slot::CustomWhole(urn), _) => {
            remove_ci(out, urn);
            return;
        }
        (_, None) => out,
        (_, Some(urn)) => match find_key(out, urn).map(str::to_string) {
            Some(k) => match out.get_mut(&k).and_then(Value::as_object_mut) {
                Some(map) => map,
                None => return,
            },
            None => return,
        },
    };
    let Some(key) = slot.key() else { return };
    match &path.sub {
        None => {
            remove_ci(container, key);
        }
        Some(sub) => {
            match container.get_mut(&find_key(container, key).unwrap_or(key).to_string()) {
                Some(Value::Object(map)) => {
                    remove_ci(map, sub);
                }
                Some(Value::Array(items)) => {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        remove_ci(item, sub);
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(urn) = slot.container() {
        if let Some(k) = find_key(out, urn).map(str::to_string) {
            if out
                .get(&k)
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
            {
                out.remove(&k);
            }
        }
    }
}

fn flatten_manager(out: &mut Map<String, Value>) {
    let manager = out
        .get_mut(scim::ENTERPRISE_USER_SCHEMA)
        .and_then(Value::as_object_mut)
        .and_then(|ext| ext.get_mut("manager"));
    if let Some(manager) = manager {
        if let Some(id) = manager.get("value").cloned() {
            *manager = id;
        }
    }
}

/// `true` → `"True"`, as servers that store the string Entra sent in the default dialect do.
fn stringify_active(out: &mut Map<String, Value>) {
    if let Some(active) = out.get_mut("active") {
        if let Some(b) = active.as_bool() {
            *active = json!(if b { "True" } else { "False" });
        }
    }
}

/// Filters read a stored resource through this view: `id` and `meta` come from the record.
pub struct StoredView<'a>(pub Kind, pub &'a Stored);

impl Source for StoredView<'_> {
    fn lookup(&self, slot: &Slot) -> Option<Cow<'_, Value>> {
        match slot {
            Slot::Common(def) if def.name == "id" => Some(Cow::Owned(json!(self.1.id))),
            Slot::Common(def) if def.name == "meta" => {
                Some(Cow::Owned(meta_json(self.0, self.1, None)))
            }
            _ => slot_value(&self.1.body, slot).map(Cow::Borrowed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENT: &str = scim::ENTERPRISE_USER_SCHEMA;

    fn stored(body: Value) -> Stored {
        Stored {
            id: "u-1".into(),
            body: body.as_object().cloned().unwrap_or_default(),
            created: "2024-01-01T00:00:00.000Z".into(),
            last_modified: "2024-01-02T00:00:00.000Z".into(),
            version: 7,
            seq: 1,
        }
    }

    fn alice() -> Stored {
        stored(json!({
            "userName": "alice", "password": "secret",
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "emails": [{"value": "a@w", "type": "work"}, {"value": "a@h", "type": "home"}],
            ENT: {"department": "Sales", "manager": {"value": "u-2"}},
        }))
    }

    fn show(kind: Kind, s: &Stored, attributes: Option<&str>, excluded: Option<&str>) -> Value {
        let projection = Projection::parse(kind, attributes, excluded).unwrap_or_default();
        let opts = RenderOptions {
            base: "http://h/scim/v2",
            projection: &projection,
            manager_as_string: false,
            members_not_excluded: false,
            active_as_string: false,
        };
        render(kind, s, opts)
    }

    #[test]
    fn full_rendering_has_schemas_id_meta_and_hides_the_password() {
        let out = show(Kind::User, &alice(), None, None);
        assert_eq!(out["schemas"], json!([scim::USER_SCHEMA, ENT]));
        assert_eq!(out["id"], json!("u-1"));
        assert!(out.get("password").is_none());
        assert_eq!(
            out["meta"],
            json!({"resourceType": "User", "created": "2024-01-01T00:00:00.000Z",
                   "lastModified": "2024-01-02T00:00:00.000Z", "version": "W/\"7\"",
                   "location": "http://h/scim/v2/Users/u-1"})
        );
        assert_eq!(out[ENT]["manager"], json!({"value": "u-2"}));
    }

    #[test]
    fn attributes_keeps_id_and_schemas_and_selects_sub_attributes() {
        let out = show(
            Kind::User,
            &alice(),
            Some("name.givenName,emails.value,manager"),
            None,
        );
        assert_eq!(
            out,
            json!({"schemas": [scim::USER_SCHEMA, ENT], "id": "u-1",
                   "name": {"givenName": "Alice"},
                   "emails": [{"value": "a@w"}, {"value": "a@h"}],
                   ENT: {"manager": {"value": "u-2"}}})
        );
        let legacy = show(Kind::User, &alice(), Some("id"), None);
        assert_eq!(legacy, json!({"schemas": [scim::USER_SCHEMA], "id": "u-1"}));
    }

    #[test]
    fn excluded_attributes_remove_but_never_id() {
        let out = show(
            Kind::User,
            &alice(),
            None,
            Some(&format!("emails,{ENT}:department,id,name.familyName")),
        );
        assert!(out.get("emails").is_none());
        assert_eq!(out["id"], json!("u-1"));
        assert_eq!(out["name"], json!({"givenName": "Alice"}));
        assert_eq!(out[ENT], json!({"manager": {"value": "u-2"}}));
    }

    #[test]
    fn groups_render_members_even_when_empty_unless_excluded() {
        let group = stored(json!({"displayName": "Sales"}));
        assert_eq!(show(Kind::Group, &group, None, None)["members"], json!([]));
        let excluded = show(Kind::Group, &group, None, Some("members"));
        assert!(excluded.get("members").is_none());
    }

    #[test]
    fn fault_flags_undo_the_guarantees() {
        let projection = Projection::parse(Kind::Group, None, Some("members")).unwrap_or_default();
        let opts = RenderOptions {
            base: "b",
            projection: &projection,
            manager_as_string: true,
            members_not_excluded: true,
            active_as_string: true,
        };
        let group = stored(json!({"displayName": "Sales", "members": [{"value": "u-1"}]}));
        assert_eq!(
            render(Kind::Group, &group, opts)["members"],
            json!([{"value": "u-1"}])
        );
        let user = render(
            Kind::User,
            &alice(),
            RenderOptions {
                projection: &Projection::default(),
                ..opts
            },
        );
        assert_eq!(user[ENT]["manager"], json!("u-2"));
        let inactive = stored(json!({"userName": "bob", "active": false}));
        let inactive = render(
            Kind::User,
            &inactive,
            RenderOptions {
                projection: &Projection::default(),
                ..opts
            },
        );
        assert_eq!(inactive["active"], json!("False"));
    }

    #[test]
    fn bad_projection_lists_are_invalid_paths() {
        let err = Projection::parse(Kind::User, Some("emails[type eq"), None).err();
        assert_eq!(err.and_then(|e| e.scim_type), Some(ScimType::InvalidPath));
    }
}
