//! The attribute definitions the endpoint serves (RFC 7643 §4 and §8.7.1), as static data.
//!
//! One table drives everything schema-aware: canonical attribute names (names are matched
//! case-insensitively, RFC 7643 §2.1), boolean coercion, case-exact filtering, mutability,
//! `returned`, and the `/Schemas` documents themselves.

use serde_json::{Map, Value, json};

use crate::scim;

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

/// When the service provider lets an attribute change (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// When an attribute appears in responses (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
}

/// One attribute definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    /// `uniqueness: server` when true, `none` otherwise.
    pub unique: bool,
    pub sub: &'static [AttrDef],
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
}

/// A plain attribute with RFC 7643's defaults for `name` and `type`.
const fn attr(name: &'static str, ty: AttrType) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique: false,
        sub: &[],
        canonical: &[],
        reference_types: &[],
    }
}

const fn string(name: &'static str) -> AttrDef {
    attr(name, AttrType::String)
}

const fn complex(name: &'static str, sub: &'static [AttrDef]) -> AttrDef {
    AttrDef {
        sub,
        ..attr(name, AttrType::Complex)
    }
}

const fn reference(name: &'static str, types: &'static [&'static str]) -> AttrDef {
    AttrDef {
        reference_types: types,
        ..attr(name, AttrType::Reference)
    }
}

impl AttrDef {
    const fn multi(self) -> Self {
        AttrDef {
            multi: true,
            ..self
        }
    }
    const fn required(self) -> Self {
        AttrDef {
            required: true,
            ..self
        }
    }
    const fn exact(self) -> Self {
        AttrDef {
            case_exact: true,
            ..self
        }
    }
    const fn read_only(self) -> Self {
        AttrDef {
            mutability: Mutability::ReadOnly,
            ..self
        }
    }
    const fn immutable(self) -> Self {
        AttrDef {
            mutability: Mutability::Immutable,
            ..self
        }
    }
    const fn canonical(self, values: &'static [&'static str]) -> Self {
        AttrDef {
            canonical: values,
            ..self
        }
    }

    /// Finds a sub-attribute by name, case-insensitively.
    pub fn sub_attr(&self, name: &str) -> Option<&'static AttrDef> {
        find(self.sub, name)
    }
}

/// Finds an attribute in a table by name, case-insensitively.
pub fn find(table: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    table.iter().find(|def| def.name.eq_ignore_ascii_case(name))
}

/// A schema document: its URN, name and attributes.
#[derive(Debug)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
}

/// The sub-attributes shared by the plural "value / display / type / primary" attributes.
macro_rules! plural {
    ($name:literal, $value:expr, [$($canon:literal),*]) => {
        complex($name, &[
            $value,
            string("display"),
            string("type").canonical(&[$($canon),*]),
            attr("primary", AttrType::Boolean),
        ]).multi()
    };
}

const NAME: AttrDef = complex(
    "name",
    &[
        string("formatted"),
        string("familyName"),
        string("givenName"),
        string("middleName"),
        string("honorificPrefix"),
        string("honorificSuffix"),
    ],
);

const ADDRESSES: AttrDef = complex(
    "addresses",
    &[
        string("formatted"),
        string("streetAddress"),
        string("locality"),
        string("region"),
        string("postalCode"),
        string("country"),
        string("type").canonical(&["work", "home", "other"]),
        attr("primary", AttrType::Boolean),
    ],
)
.multi();

const USER_GROUPS: AttrDef = complex(
    "groups",
    &[
        string("value").read_only(),
        reference("$ref", &["User", "Group"]).read_only(),
        string("display").read_only(),
        string("type")
            .canonical(&["direct", "indirect"])
            .read_only(),
    ],
)
.multi()
.read_only();

const PASSWORD: AttrDef = AttrDef {
    mutability: Mutability::WriteOnly,
    returned: Returned::Never,
    ..string("password")
};

static USER_ATTRIBUTES: [AttrDef; 21] = [
    AttrDef {
        unique: true,
        ..string("userName").required()
    },
    NAME,
    string("displayName"),
    string("nickName"),
    reference("profileUrl", &["external"]),
    string("title"),
    string("userType"),
    string("preferredLanguage"),
    string("locale"),
    string("timezone"),
    attr("active", AttrType::Boolean),
    PASSWORD,
    plural!("emails", string("value"), ["work", "home", "other"]),
    plural!(
        "phoneNumbers",
        string("value"),
        ["work", "home", "mobile", "fax", "pager", "other"]
    ),
    plural!(
        "ims",
        string("value"),
        ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]
    ),
    plural!(
        "photos",
        reference("value", &["external"]),
        ["photo", "thumbnail"]
    ),
    ADDRESSES,
    USER_GROUPS,
    plural!("entitlements", string("value"), []),
    plural!("roles", string("value"), []),
    plural!("x509Certificates", attr("value", AttrType::Binary), []),
];

const MANAGER: AttrDef = complex(
    "manager",
    &[
        string("value"),
        reference("$ref", &["User"]),
        string("displayName").read_only(),
    ],
);

static ENTERPRISE_ATTRIBUTES: [AttrDef; 6] = [
    string("employeeNumber"),
    string("costCenter"),
    string("organization"),
    string("division"),
    string("department"),
    MANAGER,
];

static GROUP_ATTRIBUTES: [AttrDef; 2] = [
    AttrDef {
        unique: true,
        ..string("displayName").required()
    },
    complex(
        "members",
        &[
            string("value").immutable(),
            reference("$ref", &["User", "Group"]).immutable(),
            string("display"),
            string("type").canonical(&["User", "Group"]).immutable(),
        ],
    )
    .multi(),
];

/// The attributes every resource has (RFC 7643 §3.1); not listed in `/Schemas`.
pub static COMMON_ATTRIBUTES: [AttrDef; 3] = [
    AttrDef {
        returned: Returned::Always,
        ..string("id").exact().read_only()
    },
    string("externalId").exact(),
    complex(
        "meta",
        &[
            string("resourceType").exact().read_only(),
            attr("created", AttrType::DateTime).read_only(),
            attr("lastModified", AttrType::DateTime).read_only(),
            reference("location", &["uri"]).exact().read_only(),
            string("version").exact().read_only(),
        ],
    )
    .read_only(),
];

/// The core User schema.
pub static USER: SchemaDef = SchemaDef {
    id: scim::USER_SCHEMA,
    name: "User",
    description: "User Account",
    attributes: &USER_ATTRIBUTES,
};

/// The enterprise User extension.
pub static ENTERPRISE_USER: SchemaDef = SchemaDef {
    id: scim::ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &ENTERPRISE_ATTRIBUTES,
};

/// The core Group schema.
pub static GROUP: SchemaDef = SchemaDef {
    id: scim::GROUP_SCHEMA,
    name: "Group",
    description: "Group",
    attributes: &GROUP_ATTRIBUTES,
};

/// Every schema served, in `/Schemas` order.
pub static ALL: [&SchemaDef; 3] = [&USER, &ENTERPRISE_USER, &GROUP];

fn type_name(ty: AttrType) -> &'static str {
    match ty {
        AttrType::String => "string",
        AttrType::Boolean => "boolean",
        AttrType::Decimal => "decimal",
        AttrType::Integer => "integer",
        AttrType::DateTime => "dateTime",
        AttrType::Binary => "binary",
        AttrType::Reference => "reference",
        AttrType::Complex => "complex",
    }
}

/// The RFC 7643 §7 representation of one attribute definition.
pub fn attribute_json(def: &AttrDef) -> Value {
    let mutability = match def.mutability {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    };
    let returned = match def.returned {
        Returned::Always => "always",
        Returned::Never => "never",
        Returned::Default => "default",
    };
    let mut out = Map::new();
    out.insert("name".into(), json!(def.name));
    out.insert("type".into(), json!(type_name(def.ty)));
    out.insert("multiValued".into(), json!(def.multi));
    out.insert("required".into(), json!(def.required));
    out.insert("caseExact".into(), json!(def.case_exact));
    out.insert("mutability".into(), json!(mutability));
    out.insert("returned".into(), json!(returned));
    out.insert(
        "uniqueness".into(),
        json!(if def.unique { "server" } else { "none" }),
    );
    if !def.canonical.is_empty() {
        out.insert("canonicalValues".into(), json!(def.canonical));
    }
    if !def.reference_types.is_empty() {
        out.insert("referenceTypes".into(), json!(def.reference_types));
    }
    if def.ty == AttrType::Complex {
        let subs: Vec<Value> = def.sub.iter().map(attribute_json).collect();
        out.insert("subAttributes".into(), Value::Array(subs));
    }
    Value::Object(out)
}

/// The `/Schemas/{id}` resource for one schema; `base` is the endpoint's base URL.
pub fn schema_json(schema: &SchemaDef, base: &str) -> Value {
    let attributes: Vec<Value> = schema.attributes.iter().map(attribute_json).collect();
    json!({
        "schemas": [scim::SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": attributes,
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{}", schema.id) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_case_insensitive_and_return_canonical_names() {
        let def = find(USER.attributes, "USERNAME").map(|d| d.name);
        assert_eq!(def, Some("userName"));
        let family = find(USER.attributes, "name").and_then(|d| d.sub_attr("FamilyName"));
        assert_eq!(family.map(|d| d.name), Some("familyName"));
        assert!(find(USER.attributes, "department").is_none());
        assert_eq!(
            find(ENTERPRISE_USER.attributes, "Manager").map(|d| d.name),
            Some("manager")
        );
    }

    #[test]
    fn schema_documents_have_no_nulls_and_describe_sub_attributes() {
        for schema in ALL {
            let doc = schema_json(schema, "http://h/scim/v2");
            assert!(
                !serde_json::to_string(&doc)
                    .unwrap_or_default()
                    .contains("null")
            );
        }
        let user = schema_json(&USER, "http://h");
        let emails = user["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|v| v["name"] == "emails"))
            .cloned()
            .unwrap_or(Value::Null);
        assert_eq!(emails["multiValued"], json!(true));
        assert_eq!(emails["subAttributes"][3]["type"], json!("boolean"));
        assert_eq!(user["attributes"][0]["uniqueness"], json!("server"));
    }

    #[test]
    fn password_is_write_only_and_never_returned() {
        let pw = attribute_json(&PASSWORD);
        assert_eq!(pw["mutability"], json!("writeOnly"));
        assert_eq!(pw["returned"], json!("never"));
    }
}
