//! SCIM target paths of attribute mappings: parsing, validation against the attributes
//! Entra can provision to a custom app, and the three shapes a path takes on the wire
//! (a key in a POST body, a PATCH `path`, a JSON-pointer read-back).

use crate::scim;
use serde_json::{Map, Value, json};
use std::fmt;

/// The enterprise extension URN.
pub const ENTERPRISE: &str = scim::ENTERPRISE_USER_SCHEMA;
/// The prefix of every SCIM extension schema URN.
const EXTENSION_PREFIX: &str = "urn:ietf:params:scim:schemas:extension:";

/// A mapping's target, canonicalised (attribute names in their RFC 7643 spelling).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A single-valued top-level attribute: `userName`, `active`, `members`.
    Attr(String),
    /// A sub-attribute of a complex attribute: `name.givenName`.
    Sub { parent: String, sub: String },
    /// One sub-attribute of the element of a multi-valued attribute with a given `type`:
    /// `emails[type eq "work"].value`.
    Typed {
        attr: String,
        kind: String,
        sub: String,
    },
    /// An attribute of an extension schema: the enterprise extension or a custom one.
    Extension { urn: String, attr: String },
}

/// Which resource a mapping set is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    User,
    Group,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::User => "user",
            Resource::Group => "group",
        }
    }

    /// `/Users` or `/Groups`.
    pub fn endpoint(self) -> &'static str {
        match self {
            Resource::User => "/Users",
            Resource::Group => "/Groups",
        }
    }
}

const USER_ATTRS: &[&str] = &[
    "userName",
    "active",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "externalId",
];
const NAME_PARTS: &[&str] = &[
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
];
const TYPED: &[(&str, &[&str])] = &[
    ("emails", &["value"]),
    ("phoneNumbers", &["value"]),
    ("ims", &["value"]),
    ("photos", &["value"]),
    (
        "addresses",
        &[
            "formatted",
            "streetAddress",
            "locality",
            "region",
            "postalCode",
            "country",
        ],
    ),
];
const ENTERPRISE_ATTRS: &[&str] = &[
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
];
const GROUP_ATTRS: &[&str] = &["displayName", "externalId", "members"];

/// Why a target path is not one Entra can provision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetError {
    pub message: String,
    pub hint: Option<String>,
}

fn err(message: String, hint: &str) -> TargetError {
    TargetError {
        message,
        hint: (!hint.is_empty()).then(|| hint.to_string()),
    }
}

fn canonical(word: &str, known: &[&'static str]) -> Option<&'static str> {
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(word))
}

impl Target {
    /// Parses and checks a target path for `resource` (attribute names case-insensitive).
    pub fn parse(resource: Resource, path: &str) -> Result<Target, TargetError> {
        let path = path.trim();
        if path.len() > EXTENSION_PREFIX.len()
            && path[..EXTENSION_PREFIX.len()].eq_ignore_ascii_case(EXTENSION_PREFIX)
        {
            return parse_extension(resource, path);
        }
        if resource == Resource::Group {
            return canonical(path, GROUP_ATTRS)
                .map(|a| Target::Attr(a.into()))
                .ok_or_else(|| unknown(path, GROUP_ATTRS));
        }
        if let Some(open) = path.find('[') {
            return parse_typed(path, open);
        }
        if let Some((parent, sub)) = path.split_once('.') {
            if !parent.eq_ignore_ascii_case("name") {
                return Err(unknown(path, USER_ATTRS));
            }
            return canonical(sub, NAME_PARTS)
                .map(|s| Target::Sub {
                    parent: "name".into(),
                    sub: s.into(),
                })
                .ok_or_else(|| unknown(path, NAME_PARTS));
        }
        canonical(path, USER_ATTRS)
            .map(|a| Target::Attr(a.into()))
            .ok_or_else(|| unknown(path, USER_ATTRS))
    }

    /// The path as Entra writes it in a PATCH operation (and as a dotted key in a
    /// path-less replace).
    pub fn path(&self) -> String {
        self.to_string()
    }

    /// True for the filtered multi-valued paths that stay their own PATCH operation in
    /// the `aadOptscim062020` dialect.
    pub fn is_typed(&self) -> bool {
        matches!(self, Target::Typed { .. })
    }

    /// True for a custom (non-enterprise) extension attribute.
    pub fn is_custom_extension(&self) -> bool {
        matches!(self, Target::Extension { urn, .. } if urn != ENTERPRISE)
    }

    /// True for the enterprise manager reference.
    pub fn is_manager(&self) -> bool {
        matches!(self, Target::Extension { urn, attr } if urn == ENTERPRISE && attr == "manager")
    }

    /// True for `active` (a boolean whose wire form depends on the dialect).
    pub fn is_active(&self) -> bool {
        matches!(self, Target::Attr(a) if a == "active")
    }

    /// The top-level key of a resource this target lives under.
    pub fn top_key(&self) -> &str {
        match self {
            Target::Attr(a) => a,
            Target::Sub { parent, .. } => parent,
            Target::Typed { attr, .. } => attr,
            Target::Extension { urn, .. } => urn,
        }
    }

    /// Writes `value` where this target lives in a POST body.
    pub fn insert(&self, body: &mut Map<String, Value>, value: Value) {
        match self {
            Target::Attr(a) => {
                body.insert(a.clone(), value);
            }
            Target::Sub { parent, sub }
            | Target::Extension {
                urn: parent,
                attr: sub,
            } => {
                let slot = body.entry(parent.clone()).or_insert_with(|| json!({}));
                if let Some(obj) = slot.as_object_mut() {
                    obj.insert(sub.clone(), value);
                }
            }
            Target::Typed { attr, kind, sub } => {
                let slot = body.entry(attr.clone()).or_insert_with(|| json!([]));
                let Some(items) = slot.as_array_mut() else {
                    return;
                };
                let pos = items.iter().position(|i| i["type"] == kind.as_str());
                let index = pos.unwrap_or_else(|| {
                    let mut element = Map::new();
                    if attr == "emails" && kind == "work" {
                        element.insert("primary".into(), Value::Bool(true));
                    }
                    element.insert("type".into(), Value::String(kind.clone()));
                    items.push(Value::Object(element));
                    items.len() - 1
                });
                if let Some(obj) = items[index].as_object_mut() {
                    obj.insert(sub.clone(), value);
                }
            }
        }
    }

    /// The JSON pointer and predicate that find `value` where this target lives in a
    /// returned resource: `(pointer, contains?)`. Typed paths are checked by an element
    /// subset (`contains {"type": "work", "value": …}`), the others by equality.
    pub fn read_back(&self, value: &Value) -> (String, ReadBack) {
        match self {
            Target::Attr(a) => (format!("/{a}"), ReadBack::Equals(value.clone())),
            Target::Sub { parent, sub }
            | Target::Extension {
                urn: parent,
                attr: sub,
            } => (format!("/{parent}/{sub}"), ReadBack::Equals(value.clone())),
            Target::Typed { attr, kind, sub } => (
                format!("/{attr}"),
                ReadBack::Contains(json!({ "type": kind, sub.as_str(): value })),
            ),
        }
    }
}

/// How a read-back finds a sent value.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadBack {
    Equals(Value),
    Contains(Value),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Attr(a) => f.write_str(a),
            Target::Sub { parent, sub } => write!(f, "{parent}.{sub}"),
            Target::Typed { attr, kind, sub } => write!(f, "{attr}[type eq \"{kind}\"].{sub}"),
            Target::Extension { urn, attr } => write!(f, "{urn}:{attr}"),
        }
    }
}

fn unknown(path: &str, known: &[&str]) -> TargetError {
    let hint = crate::scenario::error::did_you_mean(path, known).unwrap_or_else(|| {
        "see docs/mappings.md for the target paths Entra provisions to a custom app".into()
    });
    err(format!("unknown target attribute `{path}`"), &hint)
}

fn parse_typed(path: &str, open: usize) -> Result<Target, TargetError> {
    let attr = &path[..open];
    let Some((attr, subs)) = TYPED
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(attr))
        .map(|(a, s)| (*a, *s))
    else {
        let names: Vec<&str> = TYPED.iter().map(|(a, _)| *a).collect();
        return Err(unknown(attr, &names));
    };
    let rest = &path[open + 1..];
    let shape = "write it as `emails[type eq \"work\"].value`";
    let Some((filter, after)) = rest.split_once(']') else {
        return Err(err(format!("unclosed `[` in target `{path}`"), shape));
    };
    let mut words = filter.splitn(3, ' ');
    let (Some(t), Some(op), Some(quoted)) = (words.next(), words.next(), words.next()) else {
        return Err(err(
            format!("unsupported filter `[{filter}]` in `{path}`"),
            shape,
        ));
    };
    let kind = quoted
        .trim()
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'));
    let Some(kind) = kind.filter(|k| {
        t.eq_ignore_ascii_case("type") && op.eq_ignore_ascii_case("eq") && !k.contains('"')
    }) else {
        return Err(err(
            format!("unsupported filter `[{filter}]` in `{path}`"),
            shape,
        ));
    };
    let Some(sub) = after.strip_prefix('.').and_then(|s| canonical(s, subs)) else {
        return Err(unknown(path, subs));
    };
    Ok(Target::Typed {
        attr: attr.into(),
        kind: kind.into(),
        sub: sub.into(),
    })
}

fn parse_extension(resource: Resource, path: &str) -> Result<Target, TargetError> {
    let (prefix, suffix) = match resource {
        Resource::User => (":2.0:User:", "User"),
        Resource::Group => (":2.0:Group:", "Group"),
    };
    let shape = format!("write it as `{EXTENSION_PREFIX}<Name>{prefix}<attribute>`");
    let Some(at) = path.find(prefix) else {
        return Err(err(
            format!("`{path}` is not an extension attribute of the {suffix} resource"),
            &shape,
        ));
    };
    let urn = &path[..at + prefix.len() - 1];
    let attr = &path[at + prefix.len()..];
    if urn.eq_ignore_ascii_case(ENTERPRISE) {
        return canonical(attr, ENTERPRISE_ATTRS)
            .map(|a| Target::Extension {
                urn: ENTERPRISE.into(),
                attr: a.into(),
            })
            .ok_or_else(|| unknown(attr, ENTERPRISE_ATTRS));
    }
    let name = &urn[EXTENSION_PREFIX.len()..urn.len() - prefix.len() + 1];
    if name.is_empty() || name.contains(':') {
        return Err(err(format!("malformed extension URN in `{path}`"), &shape));
    }
    if attr.contains('[') {
        return Err(err(
            format!("extension attribute `{attr}` is multi-valued"),
            "Entra supports only single-valued custom extension attributes for custom apps",
        ));
    }
    if attr.contains('.') {
        return Err(err(
            format!("extension attribute `{attr}` is complex"),
            "Entra supports only simple (single-valued, non-complex) custom extension attributes for custom apps; map each part to its own attribute",
        ));
    }
    if attr.is_empty() || !attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(err(
            format!("invalid extension attribute name `{attr}`"),
            &shape,
        ));
    }
    Ok(Target::Extension {
        urn: urn.into(),
        attr: attr.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(p: &str) -> Result<Target, TargetError> {
        Target::parse(Resource::User, p)
    }

    #[test]
    fn parses_every_shape_and_canonicalises_case() {
        assert_eq!(user("username").unwrap(), Target::Attr("userName".into()));
        assert_eq!(user("name.GivenName").unwrap().path(), "name.givenName");
        assert_eq!(
            user("addresses[type eq \"other\"].Formatted")
                .unwrap()
                .path(),
            "addresses[type eq \"other\"].formatted"
        );
        let dept = user("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
        assert_eq!(dept.unwrap().path(), format!("{ENTERPRISE}:department"));
        let custom = user("urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode").unwrap();
        assert!(custom.is_custom_extension());
    }

    #[test]
    fn rejects_unknown_and_unsupported_targets() {
        let e = user("titel").unwrap_err();
        assert_eq!(e.message, "unknown target attribute `titel`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `title`?"));
        assert!(user("emails[primary eq true].value").is_err());
        assert!(user("name.nickName").is_err());
        let complex = user("urn:ietf:params:scim:schemas:extension:Acme:2.0:User:badge.id");
        assert!(complex.unwrap_err().message.contains("complex"));
        let multi =
            user("urn:ietf:params:scim:schemas:extension:Acme:2.0:User:tags[type eq \"a\"].value");
        assert!(multi.unwrap_err().message.contains("multi-valued"));
        assert!(Target::parse(Resource::Group, "title").is_err());
    }

    #[test]
    fn inserts_into_a_post_body_and_reads_back() {
        let mut body = Map::new();
        user("name.givenName")
            .unwrap()
            .insert(&mut body, json!("Alice"));
        let mail = user("emails[type eq \"work\"].value").unwrap();
        mail.insert(&mut body, json!("a@x"));
        user("emails[type eq \"other\"].value")
            .unwrap()
            .insert(&mut body, json!("b@x"));
        assert_eq!(
            Value::Object(body),
            json!({"name": {"givenName": "Alice"},
                   "emails": [{"primary": true, "type": "work", "value": "a@x"},
                              {"type": "other", "value": "b@x"}]})
        );
        assert_eq!(
            mail.read_back(&json!("a@x")),
            (
                "/emails".into(),
                ReadBack::Contains(json!({"type": "work", "value": "a@x"}))
            )
        );
    }
}
