//! The discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`,
//! `/Schemas`. What they advertise is what the endpoint implements: PATCH, filtering,
//! ETags and bearer authentication yes; bulk, sorting and password change no.

use serde_json::{Value, json};

use super::attr::Kind;
use super::list::{MAX_RESULTS, list_response};
use super::schema::{self, schema_json};
use crate::scim;

/// The `/ServiceProviderConfig` document.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [scim::SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A bearer token in the Authorization header",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

fn resource_type(kind: Kind, base: &str) -> Value {
    let mut doc = json!({
        "schemas": [scim::RESOURCE_TYPE_SCHEMA],
        "id": kind.resource_type(),
        "name": kind.resource_type(),
        "endpoint": format!("/{}", kind.endpoint()),
        "description": kind.schema().description,
        "schema": kind.schema().id,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{}", kind.resource_type()),
        },
    });
    let extensions: Vec<Value> = kind
        .extensions()
        .iter()
        .map(|ext| json!({ "schema": ext.id, "required": false }))
        .collect();
    if let (false, Some(map)) = (extensions.is_empty(), doc.as_object_mut()) {
        map.insert("schemaExtensions".into(), Value::Array(extensions));
    }
    doc
}

/// `/ResourceTypes` (all) or `/ResourceTypes/{name}`; `None` when the name is unknown.
pub fn resource_types(base: &str, name: Option<&str>) -> Option<Value> {
    let all = [Kind::User, Kind::Group];
    match name {
        None => {
            let docs: Vec<Value> = all.iter().map(|k| resource_type(*k, base)).collect();
            Some(list_response(docs.len(), 1, docs))
        }
        Some(name) => all
            .iter()
            .find(|k| k.resource_type().eq_ignore_ascii_case(name))
            .map(|k| resource_type(*k, base)),
    }
}

/// `/Schemas` (all) or `/Schemas/{urn}`; `None` when the URN is unknown.
pub fn schemas(base: &str, id: Option<&str>) -> Option<Value> {
    match id {
        None => {
            let docs: Vec<Value> = schema::ALL.iter().map(|s| schema_json(s, base)).collect();
            Some(list_response(docs.len(), 1, docs))
        }
        Some(id) => schema::ALL
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id))
            .map(|s| schema_json(s, base)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_provider_config_advertises_what_is_implemented() {
        let doc = service_provider_config("http://h/scim/v2");
        assert_eq!(doc["patch"]["supported"], json!(true));
        assert_eq!(doc["bulk"]["supported"], json!(false));
        assert_eq!(doc["etag"]["supported"], json!(true));
        assert_eq!(
            doc["authenticationSchemes"][0]["type"],
            json!("oauthbearertoken")
        );
        assert_eq!(
            doc["meta"]["location"],
            json!("http://h/scim/v2/ServiceProviderConfig")
        );
    }

    #[test]
    fn resource_types_list_users_with_the_enterprise_extension() {
        let list = resource_types("b", None).unwrap_or_default();
        assert_eq!(list["totalResults"], json!(2));
        assert_eq!(
            list["Resources"][0]["schemaExtensions"][0]["schema"],
            json!(scim::ENTERPRISE_USER_SCHEMA)
        );
        assert!(list["Resources"][1].get("schemaExtensions").is_none());
        assert_eq!(
            resource_types("b", Some("group")).map(|d| d["endpoint"].clone()),
            Some(json!("/Groups"))
        );
        assert!(resource_types("b", Some("Device")).is_none());
    }

    #[test]
    fn schemas_list_and_lookup_by_urn() {
        let list = schemas("b", None).unwrap_or_default();
        assert_eq!(list["totalResults"], json!(3));
        assert_eq!(list["schemas"], json!([scim::LIST_RESPONSE]));
        let ent = schemas("b", Some(scim::ENTERPRISE_USER_SCHEMA)).unwrap_or_default();
        assert_eq!(ent["name"], json!("EnterpriseUser"));
        assert!(schemas("b", Some("urn:nope")).is_none());
    }
}
