//! The `reject-unknown-attributes` fault: the endpoint publishes a narrower User schema
//! (no `title`, `phoneNumbers`, `addresses`, and no enterprise extension) and refuses any
//! write that carries an attribute it does not publish, as many real servers do. Entra's
//! default create body then fails; a profile without those mappings passes.

use serde_json::{Map, Value};

use super::attr::{Kind, split_urn};
use super::error::{ScimError, ScimType};
use super::list::list_response;
use super::schema::{self, schema_json};
use crate::scim;

/// Core User attributes the narrow endpoint does not publish.
pub const UNPUBLISHED: [&str; 3] = ["title", "phoneNumbers", "addresses"];

fn unpublished_attr(name: &str) -> bool {
    UNPUBLISHED.iter().any(|a| a.eq_ignore_ascii_case(name))
}

fn is_enterprise(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(scim::ENTERPRISE_USER_SCHEMA)
}

/// The narrowed User schema document.
fn user_schema(base: &str) -> Value {
    let mut doc = schema_json(&schema::USER, base);
    if let Some(Value::Array(attrs)) = doc.get_mut("attributes") {
        attrs.retain(|a| !a["name"].as_str().is_some_and(unpublished_attr));
    }
    doc
}

/// `/Schemas` (all) or `/Schemas/{urn}` as the narrow endpoint publishes them.
pub fn schemas(base: &str, id: Option<&str>) -> Option<Value> {
    let docs = || [user_schema(base), schema_json(&schema::GROUP, base)];
    match id {
        None => {
            let all = docs().to_vec();
            Some(list_response(all.len(), 1, all))
        }
        Some(id) => docs()
            .into_iter()
            .find(|d| d["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id))),
    }
}

/// `/ResourceTypes` without the User resource type's enterprise extension.
pub fn resource_types(doc: Option<Value>) -> Option<Value> {
    let mut doc = doc?;
    let strip = |t: &mut Value| {
        if let Some(o) = t.as_object_mut() {
            o.remove("schemaExtensions");
        }
    };
    match doc.get_mut("Resources") {
        Some(Value::Array(items)) => items.iter_mut().for_each(strip),
        _ => strip(&mut doc),
    }
    Some(doc)
}

fn refuse(scim_type: ScimType, what: &str) -> ScimError {
    ScimError::bad_request(
        scim_type,
        format!("attribute `{what}` is not in this endpoint's /Schemas"),
    )
}

/// Refuses a user body (as stored after a create, replace or patch) that carries an
/// attribute the narrow endpoint does not publish.
pub fn check_body(kind: Kind, body: &Map<String, Value>) -> Result<(), ScimError> {
    if kind != Kind::User {
        return Ok(());
    }
    for key in body.keys() {
        if unpublished_attr(key) || is_enterprise(key) {
            return Err(refuse(ScimType::InvalidValue, key));
        }
        if key
            .to_ascii_lowercase()
            .starts_with(&scim::ENTERPRISE_USER_SCHEMA.to_ascii_lowercase())
        {
            return Err(refuse(ScimType::InvalidValue, key));
        }
    }
    let listed = body.get("schemas").and_then(Value::as_array);
    if let Some(urn) = listed
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|u| is_enterprise(u))
    {
        return Err(refuse(ScimType::InvalidValue, urn));
    }
    Ok(())
}

/// Refuses a PATCH operation whose path names an attribute the endpoint does not publish.
pub fn check_path(kind: Kind, path: &str) -> Result<(), ScimError> {
    if kind != Kind::User {
        return Ok(());
    }
    let (urn, name) = split_urn(kind, path.trim());
    if urn.is_some_and(is_enterprise) {
        return Err(refuse(ScimType::InvalidPath, path));
    }
    let top = name.split(['.', '[']).next().unwrap_or(name);
    if unpublished_attr(top) {
        return Err(refuse(ScimType::InvalidPath, path));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_narrow_schemas_leave_out_what_the_fault_refuses() {
        let all = schemas("b", None).unwrap();
        let text = all.to_string();
        assert!(!text.contains("\"title\"") && !text.contains("phoneNumbers"));
        assert!(!text.contains(scim::ENTERPRISE_USER_SCHEMA));
        assert!(text.contains("\"userName\"") && text.contains("\"emails\""));
        assert!(schemas("b", Some(scim::ENTERPRISE_USER_SCHEMA)).is_none());
    }

    #[test]
    fn unpublished_attributes_are_refused_with_a_scim_type() {
        let ok = json!({"userName": "a", "emails": [{"value": "a@x"}]});
        assert!(check_body(Kind::User, ok.as_object().unwrap()).is_ok());
        for bad in [
            json!({"userName": "a", "title": "CEO"}),
            json!({"userName": "a", scim::ENTERPRISE_USER_SCHEMA: {"department": "x"}}),
            json!({"userName": "a", "schemas": [scim::USER_SCHEMA, scim::ENTERPRISE_USER_SCHEMA]}),
        ] {
            let e = check_body(Kind::User, bad.as_object().unwrap()).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{bad}");
        }
        assert!(check_path(Kind::User, "phoneNumbers[type eq \"work\"].value").is_err());
        let ent = format!("{}:department", scim::ENTERPRISE_USER_SCHEMA);
        assert!(check_path(Kind::User, &ent).is_err());
        assert!(check_path(Kind::User, "name.givenName").is_ok());
        assert!(check_path(Kind::Group, "title").is_ok());
    }
}
