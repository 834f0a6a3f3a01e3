//! Resource kinds and attribute-name resolution.
//!
//! Entra, Microsoft's own test collection and the SCIM Validator address attributes in many
//! spellings: `userName` or `UserName`, `urn:…:enterprise:2.0:User:manager` or a bare
//! `manager`, custom extension URNs the request never declared. [`resolve`] turns any of
//! them into one [`Slot`] naming where the value lives in a stored resource.

use serde_json::{Map, Value};

use super::schema::{self, AttrDef, SchemaDef};
use crate::scim;

/// The two resource types served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    /// The `meta.resourceType` value, also the last segment of extension URNs.
    pub fn resource_type(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The endpoint path segment.
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    /// The core schema.
    pub fn schema(self) -> &'static SchemaDef {
        match self {
            Kind::User => &schema::USER,
            Kind::Group => &schema::GROUP,
        }
    }

    /// The known schema extensions.
    pub fn extensions(self) -> &'static [&'static SchemaDef] {
        static USER_EXTENSIONS: [&SchemaDef; 1] = [&schema::ENTERPRISE_USER];
        match self {
            Kind::User => &USER_EXTENSIONS,
            Kind::Group => &[],
        }
    }

    /// The attribute whose value must be unique (case-insensitively).
    pub fn unique_attr(self) -> &'static str {
        match self {
            Kind::User => "userName",
            Kind::Group => "displayName",
        }
    }
}

/// Where an attribute lives in a stored resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// `id`, `externalId` or `meta`.
    Common(&'static AttrDef),
    /// A core-schema attribute (top level).
    Core(&'static AttrDef),
    /// An attribute of a known extension, stored under the extension's URN key.
    Ext {
        urn: &'static str,
        def: &'static AttrDef,
    },
    /// A known extension as a whole.
    ExtWhole(&'static str),
    /// An attribute of an extension the endpoint does not know; kept as sent.
    Custom { urn: String, name: String },
    /// An unknown extension as a whole.
    CustomWhole(String),
    /// The core schema URN as a whole (`urn:…:core:2.0:User` used as a key).
    CoreWhole,
    /// `schemas`.
    Schemas,
    /// A top-level attribute no schema defines; kept as sent.
    Unknown(String),
}

impl Slot {
    /// The definition, when a schema defines the attribute.
    pub fn def(&self) -> Option<&'static AttrDef> {
        match self {
            Slot::Common(def) | Slot::Core(def) | Slot::Ext { def, .. } => Some(def),
            _ => None,
        }
    }

    /// The extension URN key the value is stored under, if any.
    pub fn container(&self) -> Option<&str> {
        match self {
            Slot::Ext { urn, .. } => Some(urn),
            Slot::Custom { urn, .. } => Some(urn),
            _ => None,
        }
    }

    /// The attribute's key inside its container (canonical when known).
    pub fn key(&self) -> Option<&str> {
        match self {
            Slot::Common(def) | Slot::Core(def) | Slot::Ext { def, .. } => Some(def.name),
            Slot::Custom { name, .. } | Slot::Unknown(name) => Some(name),
            _ => None,
        }
    }
}

/// Whether `text` starts with `urn:` in any case.
pub fn is_urn(text: &str) -> bool {
    text.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

/// Splits `urn:…:Name:attr` into the URN and the attribute part; a plain name has no URN.
///
/// A string whose last segment is the resource type name (`…:2.0:User`) is a whole
/// extension URN, so it comes back as the URN with an empty attribute part.
pub fn split_urn(kind: Kind, path: &str) -> (Option<&str>, &str) {
    if !is_urn(path) {
        return (None, path);
    }
    let last = path.rfind(':').unwrap_or(0);
    let tail = &path[last + 1..];
    let tail_name = tail.split('.').next().unwrap_or(tail);
    if tail.eq_ignore_ascii_case(kind.resource_type()) || is_known_schema(kind, path) {
        return (Some(path), "");
    }
    if tail_name.is_empty() {
        return (Some(path), "");
    }
    (Some(&path[..last]), tail)
}

fn is_known_schema(kind: Kind, urn: &str) -> bool {
    urn.eq_ignore_ascii_case(kind.schema().id)
        || kind
            .extensions()
            .iter()
            .any(|ext| ext.id.eq_ignore_ascii_case(urn))
}

/// Resolves an attribute name (optionally qualified by a schema URN) for `kind`.
pub fn resolve(kind: Kind, urn: Option<&str>, name: &str) -> Slot {
    if let Some(urn) = urn {
        return resolve_qualified(kind, urn, name);
    }
    if name.eq_ignore_ascii_case("schemas") {
        return Slot::Schemas;
    }
    if let Some(def) = schema::find(&schema::COMMON_ATTRIBUTES, name) {
        return Slot::Common(def);
    }
    if let Some(def) = schema::find(kind.schema().attributes, name) {
        return Slot::Core(def);
    }
    // Legacy Entra payloads put enterprise attributes (`department`, `manager`) at the top level.
    for ext in kind.extensions() {
        if let Some(def) = schema::find(ext.attributes, name) {
            return Slot::Ext { urn: ext.id, def };
        }
    }
    Slot::Unknown(name.to_string())
}

fn resolve_qualified(kind: Kind, urn: &str, name: &str) -> Slot {
    if urn.eq_ignore_ascii_case(kind.schema().id) {
        return if name.is_empty() {
            Slot::CoreWhole
        } else {
            resolve(kind, None, name)
        };
    }
    if let Some(ext) = kind
        .extensions()
        .iter()
        .find(|e| e.id.eq_ignore_ascii_case(urn))
    {
        if name.is_empty() {
            return Slot::ExtWhole(ext.id);
        }
        return match schema::find(ext.attributes, name) {
            Some(def) => Slot::Ext { urn: ext.id, def },
            None => Slot::Custom {
                urn: ext.id.to_string(),
                name: name.to_string(),
            },
        };
    }
    if name.is_empty() {
        Slot::CustomWhole(urn.to_string())
    } else {
        Slot::Custom {
            urn: urn.to_string(),
            name: name.to_string(),
        }
    }
}

/// Finds a key in a JSON object case-insensitively, returning the stored spelling.
pub fn find_key<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    if map.contains_key(name) {
        return map.get_key_value(name).map(|(k, _)| k.as_str());
    }
    map.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(String::as_str)
}

/// Gets a value by key, case-insensitively.
pub fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    find_key(map, name).and_then(|k| map.get(k))
}

/// Removes a value by key, case-insensitively.
pub fn remove_ci(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = find_key(map, name)?.to_string();
    map.remove(&key)
}

/// Looks up the value a slot designates in a stored resource body.
pub fn slot_value<'a>(body: &'a Map<String, Value>, slot: &Slot) -> Option<&'a Value> {
    match slot {
        Slot::Common(def) | Slot::Core(def) => get_ci(body, def.name),
        Slot::Unknown(name) => get_ci(body, name),
        Slot::Ext { urn, def } => get_ci(body, urn)?
            .as_object()
            .and_then(|m| get_ci(m, def.name)),
        Slot::Custom { urn, name } => get_ci(body, urn)?.as_object().and_then(|m| get_ci(m, name)),
        Slot::ExtWhole(urn) => get_ci(body, urn),
        Slot::CustomWhole(urn) => get_ci(body, urn),
        Slot::CoreWhole | Slot::Schemas => None,
    }
}

/// Whether `name` is a schema URN key in a stored body (an extension container).
pub fn is_extension_key(kind: Kind, key: &str) -> bool {
    is_urn(key) && !key.eq_ignore_ascii_case(kind.schema().id)
}

/// The URN the core schema and the scim module agree on, for `schemas` rendering.
pub fn core_urn(kind: Kind) -> &'static str {
    match kind {
        Kind::User => scim::USER_SCHEMA,
        Kind::Group => scim::GROUP_SCHEMA,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENT: &str = scim::ENTERPRISE_USER_SCHEMA;

    #[test]
    fn split_urn_separates_the_attribute_after_the_last_colon() {
        let path = format!("{ENT}:manager");
        assert_eq!(split_urn(Kind::User, &path), (Some(ENT), "manager"));
        assert_eq!(split_urn(Kind::User, ENT), (Some(ENT), ""));
        assert_eq!(
            split_urn(Kind::User, "name.givenName"),
            (None, "name.givenName")
        );
        let custom = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User";
        assert_eq!(split_urn(Kind::User, custom), (Some(custom), ""));
        let dotted = format!("{}:name.givenName", scim::USER_SCHEMA);
        assert_eq!(
            split_urn(Kind::User, &dotted),
            (Some(scim::USER_SCHEMA), "name.givenName")
        );
    }

    #[test]
    fn resolve_maps_every_spelling_to_one_slot() {
        assert_eq!(
            resolve(Kind::User, None, "UserName").key(),
            Some("userName")
        );
        let manager = resolve(Kind::User, Some(ENT), "Manager");
        assert_eq!(manager.container(), Some(ENT));
        assert_eq!(manager.key(), Some("manager"));
        assert_eq!(
            resolve(Kind::User, None, "department").container(),
            Some(ENT)
        );
        assert_eq!(
            resolve(Kind::User, Some(&ENT.to_uppercase()), ""),
            Slot::ExtWhole(ENT)
        );
        assert_eq!(
            resolve(Kind::User, Some(scim::USER_SCHEMA), "active").key(),
            Some("active")
        );
        assert!(matches!(
            resolve(Kind::Group, None, "department"),
            Slot::Unknown(_)
        ));
        assert!(matches!(resolve(Kind::User, None, "ID"), Slot::Common(_)));
    }

    #[test]
    fn custom_extension_attributes_resolve_without_a_declared_schema() {
        let urn = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User";
        let slot = resolve(Kind::User, Some(urn), "costCode");
        assert_eq!(
            slot,
            Slot::Custom {
                urn: urn.into(),
                name: "costCode".into()
            }
        );
    }

    #[test]
    fn case_insensitive_map_helpers() {
        let mut map = Map::new();
        map.insert("Department".into(), Value::from("x"));
        assert_eq!(find_key(&map, "department"), Some("Department"));
        assert_eq!(get_ci(&map, "DEPARTMENT"), Some(&Value::from("x")));
        assert_eq!(remove_ci(&mut map, "department"), Some(Value::from("x")));
        assert!(map.is_empty());
    }
}
