//! PATCH requests (RFC 7644 §3.5.2) as Entra sends them.
//!
//! [`request`] parses the message; this module applies it. A path-less `add`/`replace`
//! whose value keys are dotted paths (`name.givenName`) or full URN paths has each key
//! applied as if it were the op's path, never stored as a literal key. The whole request is applied to a copy; an error in
//! any operation leaves the resource untouched.

mod batch;
pub mod ops;
pub mod request;

pub use batch::{MAX_BATCH_VALUES, MAX_OPERATIONS};
pub use request::{Op, Operation, PatchOptions, clears, parse_request};

use serde_json::{Map, Value};

use super::attr::{Kind, Slot, find_key, is_urn, resolve};
use super::error::{ScimError, ScimType, excerpt};
use super::filter::{AttrPath, parse_path};
use super::schema::Mutability;
use ops::{Target, stored_key};

/// What a PATCH touched, for choosing the response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub members_touched: bool,
}

/// Applies parsed operations to a resource body, in order.
pub fn apply(
    kind: Kind,
    body: &mut Map<String, Value>,
    operations: &[Operation],
    opts: PatchOptions,
) -> Result<Applied, ScimError> {
    batch::check_limits(operations)?;
    let mut applied = Applied::default();
    let paths = parse_paths(kind, operations)?;
    let mut index = 0;
    while index < operations.len() {
        let operation = &operations[index];
        // Entra's one-member removals: a run of them is one pass over the members.
        let run: Vec<&str> = paths[index..]
            .iter()
            .zip(&operations[index..])
            .map_while(|(path, op)| batch::single_member_filter(kind, op.op, path.as_ref()?))
            .collect();
        if !run.is_empty() {
            batch::remove_member_ids(body, &run);
            applied.members_touched = true;
            index += run.len();
            continue;
        }
        let result = match &paths[index] {
            Some(path) => apply_path(
                kind,
                body,
                operation.op,
                path,
                operation.value.as_ref(),
                opts,
                &mut applied,
            ),
            None => apply_pathless(kind, body, operation, opts, &mut applied),
        };
        result.map_err(|err| ScimError {
            detail: format!("Operations[{index}]: {}", err.detail),
            ..err
        })?;
        index += 1;
    }
    Ok(applied)
}

/// Every operation's parsed path (`None` for path-less ones).
fn parse_paths(kind: Kind, operations: &[Operation]) -> Result<Vec<Option<AttrPath>>, ScimError> {
    let parse = |(index, operation): (usize, &Operation)| {
        let Some(raw) = &operation.path else {
            return Ok(None);
        };
        parse_path(kind, raw).map(Some).map_err(|err| {
            let raw = excerpt(raw);
            let detail = format!("Operations[{index}]: invalid path `{raw}`: {err}");
            ScimError::bad_request(ScimType::InvalidPath, detail)
        })
    };
    operations.iter().enumerate().map(parse).collect()
}

fn apply_pathless(
    kind: Kind,
    body: &mut Map<String, Value>,
    operation: &Operation,
    opts: PatchOptions,
    applied: &mut Applied,
) -> Result<(), ScimError> {
    if operation.op == Op::Remove {
        return Err(ScimError::bad_request(
            ScimType::NoTarget,
            "a `remove` needs a `path`",
        ));
    }
    let Some(Value::Object(fields)) = &operation.value else {
        let detail = "an operation without `path` needs an object `value`";
        return Err(ScimError::bad_request(ScimType::InvalidValue, detail));
    };
    for (key, value) in fields {
        if opts.literal_dotted_keys && key.contains('.') && !is_urn(key) {
            body.insert(key.clone(), value.clone());
            continue;
        }
        let path = parse_path(kind, key).unwrap_or_else(|_| plain_path(None, key));
        // `id`, `meta` and `schemas` inside a partial resource are the server's; skip them.
        let slot = resolve(kind, path.urn.as_deref(), &path.name);
        if matches!(slot, Slot::Schemas)
            || matches!(slot, Slot::Common(d) if d.mutability == Mutability::ReadOnly)
        {
            continue;
        }
        apply_path(kind, body, operation.op, &path, Some(value), opts, applied)?;
    }
    Ok(())
}

fn plain_path(urn: Option<&str>, key: &str) -> AttrPath {
    let (name, sub) = match key.split_once('.') {
        Some((name, sub)) => (name.to_string(), Some(sub.to_string())),
        None => (key.to_string(), None),
    };
    AttrPath {
        urn: urn.map(str::to_string),
        name,
        filter: None,
        sub,
    }
}

fn apply_path(
    kind: Kind,
    body: &mut Map<String, Value>,
    op: Op,
    path: &AttrPath,
    value: Option<&Value>,
    opts: PatchOptions,
    applied: &mut Applied,
) -> Result<(), ScimError> {
    let slot = resolve(kind, path.urn.as_deref(), &path.name);
    let whole_urn = match &slot {
        Slot::Schemas => return Ok(()),
        Slot::CoreWhole => Some(None),
        Slot::ExtWhole(urn) => Some(Some(urn.to_string())),
        Slot::CustomWhole(urn) => Some(Some(urn.clone())),
        _ => None,
    };
    if let Some(urn) = whole_urn {
        return apply_whole_schema(kind, body, op, urn.as_deref(), value, opts, applied);
    }
    check_writable(&slot, op, path)?;
    let Some(name) = slot.key().filter(|k| !k.is_empty()) else {
        return Err(ScimError::bad_request(
            ScimType::InvalidPath,
            "the path names no attribute",
        ));
    };
    if kind == Kind::Group && name == "members" {
        applied.members_touched = true;
    }
    let Some(container) = container_for(body, slot.container(), op) else {
        return Ok(()); // removing from an extension the resource does not have
    };
    let key = stored_key(container, name);
    let mut target = Target {
        container,
        key,
        def: slot.def(),
    };
    match (&path.filter, &path.sub) {
        (None, None) => ops::whole(&mut target, op, value, opts.ops),
        (None, Some(sub)) => ops::sub_attr(&mut target, sub, op, value),
        (Some(filter), sub) => {
            ops::filtered(&mut target, filter, sub.as_deref(), op, value, opts.ops)
        }
    }?;
    if let Some(urn) = slot.container() {
        prune_container(body, urn);
    }
    Ok(())
}

/// Read-only attributes cannot change and required ones cannot be removed (RFC 7644
/// §3.5.2: `mutability`).
fn check_writable(slot: &Slot, op: Op, path: &AttrPath) -> Result<(), ScimError> {
    let Some(def) = slot.def() else { return Ok(()) };
    if def.mutability == Mutability::ReadOnly {
        let detail = format!("attribute `{}` is read-only", def.name);
        return Err(ScimError::bad_request(ScimType::Mutability, detail));
    }
    if def.required && op == Op::Remove && path.sub.is_none() && path.filter.is_none() {
        let detail = format!("attribute `{}` is required and cannot be removed", def.name);
        return Err(ScimError::bad_request(ScimType::Mutability, detail));
    }
    Ok(())
}

/// The object an attribute lives in: the body, or an extension object (created on write).
fn container_for<'a>(
    body: &'a mut Map<String, Value>,
    urn: Option<&str>,
    op: Op,
) -> Option<&'a mut Map<String, Value>> {
    let Some(urn) = urn else { return Some(body) };
    let key = stored_key(body, urn);
    if op == Op::Remove && !body.contains_key(&key) {
        return None;
    }
    let entry = body.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut()
}

/// `{"op":"add","path":"urn:…:enterprise:2.0:User","value":{…}}`, or the same as a
/// path-less value key: every member is applied as `urn:attr`.
fn apply_whole_schema(
    kind: Kind,
    body: &mut Map<String, Value>,
    op: Op,
    urn: Option<&str>,
    value: Option<&Value>,
    opts: PatchOptions,
    applied: &mut Applied,
) -> Result<(), ScimError> {
    match (op, urn, value) {
        (Op::Remove, Some(urn), _) => {
            if let Some(key) = find_key(body, urn).map(str::to_string) {
                body.remove(&key);
            }
            Ok(())
        }
        (Op::Remove, None, _) => Err(ScimError::bad_request(
            ScimType::Mutability,
            "the core schema cannot be removed",
        )),
        (_, _, Some(Value::Object(fields))) => {
            for (key, inner) in fields {
                apply_path(
                    kind,
                    body,
                    op,
                    &plain_path(urn, key),
                    Some(inner),
                    opts,
                    applied,
                )?;
            }
            Ok(())
        }
        (_, _, Some(Value::Null)) => Ok(()),
        _ => Err(ScimError::bad_request(
            ScimType::InvalidValue,
            "a schema path needs an object value",
        )),
    }
}

fn prune_container(body: &mut Map<String, Value>, urn: &str) {
    let Some(key) = find_key(body, urn).map(str::to_string) else {
        return;
    };
    if body
        .get(&key)
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        body.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::patch::ops::OpOptions;
    use crate::reference::resource::{IngestOptions, ingest};
    use crate::scim;
    use serde_json::json;

    const ENT: &str = scim::ENTERPRISE_USER_SCHEMA;

    fn patch_with(
        kind: Kind,
        body: Value,
        ops: Value,
        opts: PatchOptions,
    ) -> Result<Value, ScimError> {
        let request = json!({"schemas": [scim::PATCH_OP], "Operations": ops});
        let operations = parse_request(&request, opts)?;
        let mut map = body.as_object().cloned().unwrap_or_default();
        apply(kind, &mut map, &operations, opts)?;
        ingest(kind, Value::Object(map), IngestOptions::default()).map(Value::Object)
    }

    fn user(body: Value, ops: Value) -> Value {
        patch_with(Kind::User, body, ops, PatchOptions::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn group(body: Value, ops: Value) -> Value {
        patch_with(Kind::Group, body, ops, PatchOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn alice() -> Value {
        json!({"userName": "alice", "active": true, "name": {"givenName": "Alice", "familyName": "Smith"},
               "emails": [{"value": "a@work", "type": "work", "primary": true}, {"value": "a@home", "type": "home"}]})
    }

    fn error_type(kind: Kind, body: Value, ops: Value) -> Option<ScimType> {
        patch_with(kind, body, ops, PatchOptions::default())
            .err()
            .and_then(|e| e.scim_type)
    }

    #[test]
    fn op_names_and_attribute_names_match_in_any_case() {
        for op in ["Replace", "replace", "REPLACE"] {
            let out = user(
                alice(),
                json!([{"op": op, "path": "Name.FamilyName", "value": "Jones"}]),
            );
            assert_eq!(out["name"]["familyName"], json!("Jones"), "{op}");
        }
    }

    #[test]
    fn disable_and_enable_with_string_booleans() {
        let off = user(
            alice(),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        );
        assert_eq!(off["active"], json!(false));
        let on = user(
            off,
            json!([{"op": "replace", "path": "active", "value": "True"}]),
        );
        assert_eq!(on["active"], json!(true));
    }

    #[test]
    fn pathless_replace_applies_dotted_and_urn_keys_to_nested_attributes() {
        let out = user(
            alice(),
            json!([{"op": "replace", "value": {
                "displayName": "Alice J", "name.givenName": "Ally", "name.familyName": "Jones",
                format!("{ENT}:employeeNumber"): "E-7", ENT: {"department": "Ops"}, "externalId": "x1",
                "id": "ignored", "schemas": ["ignored"]
            }}]),
        );
        assert_eq!(
            out["name"],
            json!({"givenName": "Ally", "familyName": "Jones"})
        );
        assert_eq!(
            out[ENT],
            json!({"employeeNumber": "E-7", "department": "Ops"})
        );
        assert!(out.get("name.givenName").is_none());
        assert_eq!(out["externalId"], json!("x1"));
    }

    #[test]
    fn literal_dotted_keys_fault_stores_the_key_verbatim() {
        let opts = PatchOptions {
            literal_dotted_keys: true,
            ..PatchOptions::default()
        };
        let out = patch_with(
            Kind::User,
            alice(),
            json!([{"op": "replace", "value": {"name.givenName": "Ally"}}]),
            opts,
        );
        let out = out.unwrap_or_default();
        assert_eq!(out["name"]["givenName"], json!("Alice"));
        assert_eq!(out["name.givenName"], json!("Ally"));
    }

    #[test]
    fn filtered_email_add_creates_element_and_replace_spares_other_emails() {
        let created = user(
            json!({"userName": "bob"}),
            json!([
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "bob@work"},
            {"op": "Add", "path": "emails[type eq \"work\"].primary", "value": "True"}]),
        );
        assert_eq!(
            created["emails"],
            json!([{"type": "work", "value": "bob@work", "primary": true}])
        );
        let replaced = user(
            alice(),
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@work"}]),
        );
        assert_eq!(replaced["emails"][0]["value"], json!("new@work"));
        assert_eq!(
            replaced["emails"][1],
            json!({"value": "a@home", "type": "home"})
        );
    }

    #[test]
    fn several_address_ops_land_in_one_element() {
        let ops: Vec<Value> = [("formatted", "1 Main St, Springfield"), ("streetAddress", "1 Main St"), ("locality", "Springfield"), ("region", "IL")]
            .iter()
            .map(|(sub, v)| json!({"op": "Add", "path": format!("addresses[type eq \"work\"].{sub}"), "value": v}))
            .collect();
        let out = user(json!({"userName": "bob"}), Value::Array(ops));
        let addresses = out["addresses"].as_array().cloned().unwrap_or_default();
        assert_eq!(addresses.len(), 1);
        assert_eq!(addresses[0]["region"], json!("IL"));
        assert_eq!(addresses[0]["type"], json!("work"));
    }

    #[test]
    fn manager_in_every_shape_and_every_removal() {
        let path = format!("{ENT}:manager");
        let shapes = [
            json!([{"op": "Add", "path": path, "value": "u-2"}]),
            json!([{"op": "add", "path": path, "value": {"value": "u-2"}}]),
            json!([{"op": "Add", "path": "manager", "value": [{"$ref": "https://h/Users/u-2", "value": "u-2"}]}]),
            json!([{"op": "replace", "value": {path.clone(): "u-2"}}]),
        ];
        for ops in shapes {
            let out = user(alice(), ops.clone());
            assert_eq!(out[ENT]["manager"]["value"], json!("u-2"), "{ops}");
        }
        let with_manager =
            json!({"userName": "a", ENT: {"manager": {"value": "u-2"}, "department": "D"}});
        let removals = [
            json!([{"op": "replace", "path": path, "value": {"value": ""}}]),
            json!([{"op": "Replace", "path": path, "value": ""}]),
            json!([{"op": "remove", "path": "manager[value eq \"u-2\"]"}]),
            json!([{"op": "Remove", "path": path}]),
        ];
        for ops in removals {
            let out = user(with_manager.clone(), ops.clone());
            assert!(out[ENT].get("manager").is_none(), "{ops}");
            assert_eq!(out[ENT]["department"], json!("D"));
        }
        let other = user(
            with_manager,
            json!([{"op": "remove", "path": "manager[value eq \"u-9\"]"}]),
        );
        assert_eq!(other[ENT]["manager"], json!({"value": "u-2"}));
    }

    #[test]
    fn members_add_batched_idempotent_and_removed_both_ways() {
        let empty = json!({"displayName": "Sales"});
        let added = group(
            empty,
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u-1"}, {"value": "u-2"}, {"value": "u-3"}]}]),
        );
        let again = group(
            added,
            json!([{"op": "add", "path": "members", "value": [{"value": "u-1"}]}]),
        );
        assert_eq!(again["members"].as_array().map(Vec::len), Some(3));
        let by_value = group(
            again.clone(),
            json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u-1"}]}]),
        );
        assert_eq!(
            by_value["members"],
            json!([{"value": "u-2"}, {"value": "u-3"}])
        );
        let by_filter = group(
            by_value,
            json!([{"op": "remove", "path": "members[value eq \"u-2\"]"}]),
        );
        assert_eq!(by_filter["members"], json!([{"value": "u-3"}]));
        let wipe = PatchOptions {
            ops: OpOptions {
                remove_members_wipes_all: true,
                ..OpOptions::default()
            },
            ..PatchOptions::default()
        };
        let wiped = patch_with(
            Kind::Group,
            again,
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u-1"}]}]),
            wipe,
        );
        assert!(wiped.is_ok_and(|g| g.get("members").is_none()));
    }

    #[test]
    fn members_replace_and_add_remove_in_one_request() {
        let start = json!({"displayName": "Sales", "members": [{"value": "u-1"}]});
        let replaced = group(
            start.clone(),
            json!([{"op": "replace", "path": "members", "value": [{"value": "u-2"}, {"value": "u-3"}]}]),
        );
        assert_eq!(
            replaced["members"],
            json!([{"value": "u-2"}, {"value": "u-3"}])
        );
        let both = group(
            start,
            json!([{"op": "add", "path": "members", "value": [{"value": "u-9"}]},
            {"op": "remove", "path": "members[value eq \"u-9\"]"}]),
        );
        assert_eq!(both["members"], json!([{"value": "u-1"}]));
    }

    #[test]
    fn group_pathless_replace_and_last_write_wins() {
        let out = group(
            json!({"displayName": "Sales"}),
            json!([
            {"op": "replace", "value": {"displayName": "Sales EMEA"}},
            {"op": "add", "value": {"externalId": "one"}},
            {"op": "replace", "path": "externalId", "value": "two"}]),
        );
        assert_eq!(
            out,
            json!({"displayName": "Sales EMEA", "externalId": "two"})
        );
    }

    #[test]
    fn null_and_empty_values_clear_attributes() {
        let out = user(
            alice(),
            json!([{"op": "replace", "path": "name.givenName", "value": ""},
            {"op": "replace", "path": "emails", "value": null}, {"op": "Add", "path": "title", "value": null}]),
        );
        assert_eq!(out["name"], json!({"familyName": "Smith"}));
        assert!(out.get("emails").is_none() && out.get("title").is_none());
    }

    #[test]
    fn role_values_as_json_strings_are_accepted() {
        let role = r#"{"id":"06b0","value":"Admin","displayName":"Admin"}"#;
        let out = user(
            alice(),
            json!([{"op": "Add", "path": "roles", "value": [{"value": role}]}]),
        );
        assert_eq!(out["roles"], json!([{"value": role}]));
    }

    #[test]
    fn custom_extension_paths_work_without_schemas_entry() {
        let urn = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User";
        let out = user(
            alice(),
            json!([{"op": "Add", "path": format!("{urn}:costCode"), "value": "CC-1"}]),
        );
        assert_eq!(out[urn], json!({"costCode": "CC-1"}));
    }

    #[test]
    fn empty_operation_list_changes_nothing() {
        assert_eq!(user(alice(), json!([])), alice());
    }

    #[test]
    fn errors_carry_the_right_scim_type() {
        let k = Kind::User;
        assert_eq!(
            error_type(
                k,
                alice(),
                json!([{"op": "add", "path": "emails[type eq", "value": 1}])
            ),
            Some(ScimType::InvalidPath)
        );
        assert_eq!(
            error_type(k, alice(), json!([{"op": "remove"}])),
            Some(ScimType::NoTarget)
        );
        assert_eq!(
            error_type(k, alice(), json!([{"op": "remove", "path": "userName"}])),
            Some(ScimType::Mutability)
        );
        assert_eq!(
            error_type(
                k,
                alice(),
                json!([{"op": "replace", "path": "id", "value": "x"}])
            ),
            Some(ScimType::Mutability)
        );
        assert_eq!(
            error_type(
                k,
                alice(),
                json!([{"op": "replace", "path": "active", "value": "maybe"}])
            ),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            error_type(k, alice(), json!([{"op": "replace", "value": "flat"}])),
            Some(ScimType::InvalidValue)
        );
    }
}
