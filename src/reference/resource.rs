//! Turning what a client sends into the stored form of a resource.
//!
//! The stored body keeps values exactly as sent, with four normalizations that make the
//! endpoint accept everything Entra sends: attribute names take their canonical spelling,
//! explicit nulls and empty strings mean "unassigned", Entra's string booleans
//! (`"True"`/`"False"`) become JSON booleans, and a manager sent as a bare id or a
//! one-element array becomes the complex `{"value": id}`. Enterprise attributes sent at the
//! top level move into the extension; extension attributes whose URN the request did not
//! declare in `schemas` are accepted under that URN. `id`, `meta` and read-only attributes
//! sent by the client are ignored (RFC 7643 §2.2).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::attr::{Kind, Slot, find_key, remove_ci, resolve, split_urn};
use super::error::{ScimError, ScimType};
use super::schema::{AttrDef, AttrType, Mutability};

/// Switches that change how values are accepted.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestOptions {
    /// Refuse `"True"`/`"False"` for boolean attributes (the `string_booleans_rejected` fault).
    pub reject_string_booleans: bool,
}

/// Normalizes a client-sent resource (POST or PUT body, or a patched body) for storage.
pub fn ingest(
    kind: Kind,
    value: Value,
    opts: IngestOptions,
) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(input) = value else {
        return Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            format!("a {} must be a JSON object", kind.resource_type()),
        ));
    };
    let mut out = Map::new();
    for (key, value) in input {
        let (urn, name) = split_urn(kind, &key);
        let slot = resolve(kind, urn, name);
        place(kind, &mut out, &slot, &key, value, opts)?;
    }
    if kind == Kind::Group {
        dedupe_members(&mut out);
    }
    check_required(kind, &out)?;
    Ok(out)
}

fn place(
    kind: Kind,
    out: &mut Map<String, Value>,
    slot: &Slot,
    key: &str,
    value: Value,
    opts: IngestOptions,
) -> Result<(), ScimError> {
    match slot {
        // `schemas` is recomputed on output; `id` and `meta` belong to the server.
        Slot::Schemas => Ok(()),
        Slot::Common(def) if def.mutability == Mutability::ReadOnly => Ok(()),
        Slot::Core(def) if def.mutability == Mutability::ReadOnly => Ok(()),
        Slot::Common(def) | Slot::Core(def) => {
            set(out, def.name, coerce(def, value, opts)?);
            Ok(())
        }
        Slot::CoreWhole | Slot::ExtWhole(_) | Slot::CustomWhole(_) => {
            let map = match value {
                Value::Null => return Ok(()),
                Value::Object(map) => map,
                _ => return Err(invalid(key, "must be a JSON object (a schema extension)")),
            };
            let urn = match slot {
                Slot::ExtWhole(urn) => Some(urn.to_string()),
                Slot::CustomWhole(urn) => Some(urn.clone()),
                _ => None,
            };
            for (inner_key, inner) in map {
                let inner_slot = resolve(kind, urn.as_deref(), &inner_key);
                place(kind, out, &inner_slot, &inner_key, inner, opts)?;
            }
            Ok(())
        }
        Slot::Ext { urn, def } => {
            let coerced = coerce(def, value, opts)?;
            set_in(out, urn, def.name, coerced);
            Ok(())
        }
        Slot::Custom { urn, name } => {
            set_in(out, urn, name, strip_empty(value));
            Ok(())
        }
        Slot::Unknown(name) => {
            set(out, name, strip_empty(value));
            Ok(())
        }
    }
}

/// Sets or (for `None`) removes a key, replacing any differently-cased spelling.
pub fn set(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    remove_ci(map, key);
    if let Some(value) = value {
        map.insert(key.to_string(), value);
    }
}

/// Sets a key inside an extension container, creating or dropping the container as needed.
fn set_in(out: &mut Map<String, Value>, urn: &str, key: &str, value: Option<Value>) {
    let container_key = find_key(out, urn).unwrap_or(urn).to_string();
    let mut container = match out.remove(&container_key) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    set(&mut container, key, value);
    if !container.is_empty() {
        out.insert(container_key, Value::Object(container));
    }
}

fn invalid(name: &str, what: &str) -> ScimError {
    ScimError::bad_request(ScimType::InvalidValue, format!("attribute `{name}` {what}"))
}

/// Coerces a value for a defined attribute; `None` means unassigned.
pub fn coerce(
    def: &AttrDef,
    value: Value,
    opts: IngestOptions,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if !def.multi {
        return coerce_one(def, value, opts);
    }
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = coerce_one(def, item, opts)? {
            out.push(v);
        }
    }
    let primaries = out
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(invalid(def.name, "has more than one value marked primary"));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn coerce_one(
    def: &AttrDef,
    value: Value,
    opts: IngestOptions,
) -> Result<Option<Value>, ScimError> {
    match (def.ty, value) {
        (_, Value::Null) => Ok(None),
        (AttrType::Complex, value) => coerce_complex(def, value, opts),
        (AttrType::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(b))),
        (AttrType::Boolean, Value::String(text)) if !opts.reject_string_booleans => {
            match parse_bool(&text) {
                Some(b) => Ok(Some(Value::Bool(b))),
                None => Err(invalid(
                    def.name,
                    &format!("expects a boolean, got \"{text}\""),
                )),
            }
        }
        (AttrType::Boolean, _) => Err(invalid(def.name, "expects a boolean (true or false)")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => {
            Ok(Some(Value::Number(n)))
        }
        (AttrType::Integer, _) => Err(invalid(def.name, "expects an integer")),
        (AttrType::Decimal, Value::Number(n)) => Ok(Some(Value::Number(n))),
        (AttrType::Decimal, _) => Err(invalid(def.name, "expects a number")),
        (_, Value::String(text)) => Ok((!text.is_empty()).then_some(Value::String(text))),
        (_, _) => Err(invalid(def.name, "expects a string")),
    }
}

fn coerce_complex(
    def: &AttrDef,
    value: Value,
    opts: IngestOptions,
) -> Result<Option<Value>, ScimError> {
    let map = match value {
        Value::Object(map) => map,
        // Entra sends a manager as a bare id (production) or a one-element array (legacy docs).
        Value::String(text) if def.sub_attr("value").is_some() => {
            if text.is_empty() {
                return Ok(None);
            }
            Map::from_iter([("value".to_string(), Value::String(text))])
        }
        Value::Array(items) if !def.multi => {
            return match items.into_iter().find(|v| !v.is_null()) {
                Some(first) => coerce_complex(def, first, opts),
                None => Ok(None),
            };
        }
        _ => return Err(invalid(def.name, "expects a complex value (a JSON object)")),
    };
    let mut out = Map::new();
    for (key, value) in map {
        match def.sub_attr(&key) {
            Some(sub) if sub.mutability == Mutability::ReadOnly => {}
            Some(sub) => {
                if let Some(v) = coerce(sub, value, opts)? {
                    out.insert(sub.name.to_string(), v);
                }
            }
            None => {
                if let Some(v) = strip_empty(value) {
                    out.insert(key, v);
                }
            }
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// Drops nulls, empty strings and what becomes empty; `None` when nothing is left.
pub fn strip_empty(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(items) => {
            let kept: Vec<Value> = items.into_iter().filter_map(strip_empty).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        Value::Object(map) => {
            let kept: Map<String, Value> = map
                .into_iter()
                .filter_map(|(k, v)| strip_empty(v).map(|v| (k, v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        other => Some(other),
    }
}

/// Keeps the first of several members with the same `value` (adds are idempotent).
fn dedupe_members(out: &mut Map<String, Value>) {
    let Some(Value::Array(members)) = out.get_mut("members") else {
        return;
    };
    let mut seen = HashSet::new();
    members.retain(|m| match m.get("value").and_then(Value::as_str) {
        Some(id) => seen.insert(id.to_string()),
        None => true,
    });
}

fn check_required(kind: Kind, out: &Map<String, Value>) -> Result<(), ScimError> {
    let name = kind.unique_attr();
    if out
        .get(name)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty())
    {
        return Ok(());
    }
    Err(ScimError::bad_request(
        ScimType::InvalidValue,
        format!(
            "attribute `{name}` is required for a {}",
            kind.resource_type()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim;
    use serde_json::json;

    const ENT: &str = scim::ENTERPRISE_USER_SCHEMA;

    fn user(body: Value) -> Result<Value, ScimError> {
        ingest(Kind::User, body, IngestOptions::default()).map(Value::Object)
    }

    fn ok(body: Value) -> Value {
        user(body).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn legacy_entra_create_with_nulls_meta_and_flat_enterprise_keys() {
        let stored = ok(json!({
            "schemas": [scim::USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
            "externalId": "alice", "userName": "alice@example.com", "active": true,
            "addresses": null, "phoneNumbers": null, "preferredLanguage": null, "title": null,
            "department": null, "manager": null, "displayName": "Alice Smith",
            "meta": {"resourceType": "User"}, "roles": [], "id": "client-chosen"
        }));
        assert_eq!(
            stored,
            json!({"externalId": "alice", "userName": "alice@example.com", "active": true,
                   "displayName": "Alice Smith"})
        );
    }

    #[test]
    fn names_are_canonicalized_and_values_kept_as_sent() {
        let stored = ok(json!({
            "UserName": "bob", "Name": {"FamilyName": "Jones"},
            "phoneNumbers": [{"Value": "+1 (555) 010-2000", "Type": "work", "Primary": "true"}],
            "Department": "Sales"
        }));
        assert_eq!(stored["userName"], json!("bob"));
        assert_eq!(stored["name"], json!({"familyName": "Jones"}));
        assert_eq!(
            stored["phoneNumbers"],
            json!([{"value": "+1 (555) 010-2000", "type": "work", "primary": true}])
        );
        assert_eq!(stored[ENT], json!({"department": "Sales"}));
    }

    #[test]
    fn string_booleans_become_booleans_unless_rejected() {
        let stored = ok(json!({"userName": "a", "active": "False",
            "roles": [{"primary": "True", "value": "Admin", "type": "WindowsAzureActiveDirectoryRole"}]}));
        assert_eq!(stored["active"], json!(false));
        assert_eq!(stored["roles"][0]["primary"], json!(true));
        let strict = IngestOptions {
            reject_string_booleans: true,
        };
        let err = ingest(
            Kind::User,
            json!({"userName": "a", "active": "False"}),
            strict,
        )
        .err();
        assert_eq!(err.and_then(|e| e.scim_type), Some(ScimType::InvalidValue));
        assert!(user(json!({"userName": "a", "active": "yes"})).is_err());
    }

    #[test]
    fn manager_in_every_shape_is_stored_complex() {
        let shapes = [
            json!({"userName": "a", ENT: {"manager": "u-2"}}),
            json!({"userName": "a", ENT: {"manager": {"value": "u-2"}}}),
            json!({"userName": "a", ENT: {"Manager": {"Value": "u-2"}}}),
            json!({"userName": "a", "manager": [{"value": "u-2"}]}),
            json!({"userName": "a", format!("{ENT}:manager"): "u-2"}),
        ];
        for shape in shapes {
            assert_eq!(
                ok(shape.clone())[ENT]["manager"],
                json!({"value": "u-2"}),
                "{shape}"
            );
        }
        let removed = ok(json!({"userName": "a", ENT: {"manager": {"value": ""}}}));
        assert!(removed.get(ENT).is_none());
    }

    #[test]
    fn custom_extension_attributes_are_accepted_without_a_schemas_entry() {
        let urn = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User";
        let stored = ok(json!({"schemas": [scim::USER_SCHEMA], "userName": "a",
            urn: {"costCode": "CC-1", "empty": null}, format!("{urn}:badge"): "B-7"}));
        assert_eq!(stored[urn], json!({"costCode": "CC-1", "badge": "B-7"}));
    }

    #[test]
    fn role_values_may_be_json_encoded_strings() {
        let role = r#"{"id":"06b0","value":"Admin","displayName":"Admin"}"#;
        let stored = ok(json!({"userName": "a", "roles": [{"value": role}]}));
        assert_eq!(stored["roles"][0]["value"], json!(role));
    }

    #[test]
    fn type_errors_and_missing_required_attributes_are_invalid_values() {
        let cases = [
            json!({"userName": 7}),
            json!({"displayName": "no userName"}),
            json!({"userName": ""}),
            json!({"userName": "a", "name": "Alice"}),
            json!({"userName": "a", "emails": [{"value": "x", "primary": true}, {"value": "y", "primary": true}]}),
            json!({"userName": "a", ENT: "not an object"}),
        ];
        for case in cases {
            let err = user(case.clone()).err();
            assert_eq!(
                err.and_then(|e| e.scim_type),
                Some(ScimType::InvalidValue),
                "{case}"
            );
        }
        let not_object = user(json!(["a"])).err();
        assert_eq!(
            not_object.and_then(|e| e.scim_type),
            Some(ScimType::InvalidSyntax)
        );
    }

    #[test]
    fn read_only_attributes_are_ignored_and_password_kept() {
        let stored = ok(json!({"userName": "a", "groups": [{"value": "g"}], "password": "s3cret"}));
        assert!(stored.get("groups").is_none());
        assert_eq!(stored["password"], json!("s3cret"));
    }

    #[test]
    fn groups_dedupe_members_and_allow_empty_member_lists() {
        let body = json!({"displayName": "Sales", "members": [{"value": "u-1", "$ref": null},
            {"value": "u-1"}, {"value": "u-2", "display": "VP"}]});
        let stored = ingest(Kind::Group, body, IngestOptions::default()).ok();
        let members = stored.as_ref().and_then(|s| s.get("members")).cloned();
        assert_eq!(
            members,
            Some(json!([{"value": "u-1"}, {"value": "u-2", "display": "VP"}]))
        );
        let empty = ingest(
            Kind::Group,
            json!({"displayName": "E", "members": []}),
            IngestOptions::default(),
        );
        assert!(empty.is_ok_and(|m| !m.contains_key("members")));
    }
}
