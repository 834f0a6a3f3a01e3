//! Mapping profiles: Entra's attribute mappings for one app, as data.
//!
//! A profile is what an admin sees in the "Map attributes" step of Entra's provisioning
//! setup: for users and for groups, which source attribute (or expression) flows to which
//! SCIM target, which targets are matching attributes and in what precedence, and the
//! scope. `Profile::default_mappings` is Entra's default for a non-gallery app;
//! `parse` reads the JSON format documented in docs/mappings.md, with every problem
//! located at file:line:column.

use super::expr::Expr;
use super::target::{Resource, Target};
use crate::scenario::error::ScenarioErrors;
use crate::scenario::load::{locate_all, parse_document};
use crate::scenario::validate::{Checker, child};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// The expression of Entra's default `active` mapping.
pub const ACTIVE_SWITCH: &str = r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#;

/// One app's attribute mappings.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// A name for reports (`default` for the built-in one).
    pub name: String,
    /// Which objects Entra provisions.
    pub scope: Scope,
    pub users: MappingSet,
    pub groups: MappingSet,
}

/// "Sync only assigned users and groups" or "Sync all users and groups".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Assigned,
    All,
}

/// The mappings of one object type.
#[derive(Clone, Debug, PartialEq)]
pub struct MappingSet {
    pub mappings: Vec<Mapping>,
    /// Matching attributes (targets of mappings) in precedence order: 1 first.
    pub matching: Vec<Target>,
}

/// One attribute mapping: source (attribute or expression) → target.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    /// What the admin typed: an attribute name or an expression.
    pub source_text: String,
    /// True when `source_text` is an expression rather than an attribute name.
    pub is_expression: bool,
    pub source: Expr,
    pub target: Target,
    /// "Default value if null": sent on create only.
    pub default: Option<String>,
}

impl Mapping {
    fn attribute(source: &str, target: Target) -> Mapping {
        Mapping {
            source_text: source.into(),
            is_expression: false,
            source: Expr::Source(source.into()),
            target,
            default: None,
        }
    }
}

impl MappingSet {
    /// The mapping to `target`, if the profile has one.
    pub fn get(&self, target: &Target) -> Option<&Mapping> {
        self.mappings.iter().find(|m| &m.target == target)
    }

    /// Drops the mapping to `target` (and its matching rank); true if it was there.
    pub fn remove(&mut self, target: &Target) -> bool {
        let before = self.mappings.len();
        self.mappings.retain(|m| &m.target != target);
        self.matching.retain(|t| t != target);
        before != self.mappings.len()
    }
}

fn user(path: &str) -> Target {
    Target::parse(Resource::User, path).expect("built-in target paths are valid")
}

fn group(path: &str) -> Target {
    Target::parse(Resource::Group, path).expect("built-in target paths are valid")
}

impl Profile {
    /// Entra's default attribute mappings for a non-gallery SCIM app (fact sheet §7.1).
    pub fn default_mappings() -> Profile {
        let ent = |a: &str| format!("{}:{a}", super::target::ENTERPRISE);
        let mut users: Vec<Mapping> = [
            ("userPrincipalName", "userName".to_string()),
            ("displayName", "displayName".into()),
            ("givenName", "name.givenName".into()),
            ("surname", "name.familyName".into()),
            ("mail", "emails[type eq \"work\"].value".into()),
            ("mailNickname", "externalId".into()),
            ("jobTitle", "title".into()),
            ("department", ent("department")),
            ("employeeId", ent("employeeNumber")),
            ("manager", ent("manager")),
            (
                "telephoneNumber",
                "phoneNumbers[type eq \"work\"].value".into(),
            ),
            ("mobile", "phoneNumbers[type eq \"mobile\"].value".into()),
            (
                "facsimileTelephoneNumber",
                "phoneNumbers[type eq \"fax\"].value".into(),
            ),
            (
                "streetAddress",
                "addresses[type eq \"work\"].streetAddress".into(),
            ),
            ("city", "addresses[type eq \"work\"].locality".into()),
            ("state", "addresses[type eq \"work\"].region".into()),
            (
                "postalCode",
                "addresses[type eq \"work\"].postalCode".into(),
            ),
            ("country", "addresses[type eq \"work\"].country".into()),
            (
                "physicalDeliveryOfficeName",
                "addresses[type eq \"other\"].formatted".into(),
            ),
        ]
        .iter()
        .map(|(s, t)| Mapping::attribute(s, user(t)))
        .collect();
        users.insert(
            1,
            Mapping {
                source_text: ACTIVE_SWITCH.into(),
                is_expression: true,
                source: Expr::parse(ACTIVE_SWITCH).expect("the built-in expression parses"),
                target: user("active"),
                default: None,
            },
        );
        let groups = [
            ("displayName", "displayName"),
            ("objectId", "externalId"),
            ("members", "members"),
        ]
        .iter()
        .map(|(s, t)| Mapping::attribute(s, group(t)))
        .collect();
        Profile {
            name: "default".into(),
            scope: Scope::Assigned,
            users: MappingSet {
                mappings: users,
                matching: vec![user("userName")],
            },
            groups: MappingSet {
                mappings: groups,
                matching: vec![group("displayName")],
            },
        }
    }

    /// The mappings for users or groups.
    pub fn set(&self, resource: Resource) -> &MappingSet {
        match resource {
            Resource::User => &self.users,
            Resource::Group => &self.groups,
        }
    }

    pub fn set_mut(&mut self, resource: Resource) -> &mut MappingSet {
        match resource {
            Resource::User => &mut self.users,
            Resource::Group => &mut self.groups,
        }
    }

    /// The profile in its file format (what `mappings discover --out` writes).
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "scope": match self.scope { Scope::Assigned => "assigned", Scope::All => "all" },
            "users": set_json(&self.users),
            "groups": set_json(&self.groups),
        })
    }
}

fn set_json(set: &MappingSet) -> Value {
    let mappings: Vec<Value> = set
        .mappings
        .iter()
        .map(|m| {
            let mut o = Map::new();
            let key = if m.is_expression {
                "expression"
            } else {
                "source"
            };
            o.insert(key.into(), m.source_text.clone().into());
            o.insert("target".into(), m.target.path().into());
            if let Some(d) = &m.default {
                o.insert("default".into(), d.clone().into());
            }
            Value::Object(o)
        })
        .collect();
    let matching: Vec<String> = set.matching.iter().map(Target::path).collect();
    json!({ "mappings": mappings, "matching": matching })
}

/// The built-in default profile, built once.
pub fn builtin() -> &'static Profile {
    static DEFAULT: std::sync::OnceLock<Profile> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(Profile::default_mappings)
}

/// Reads a profile file.
pub fn load(path: &Path) -> Result<Profile, ScenarioErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        crate::scenario::error::ScenarioError::whole_file(
            &file,
            format!("failed to read mapping profile: {e}"),
        )
    })?;
    parse(&file, &text)
}

/// Parses a profile document; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Profile, ScenarioErrors> {
    let doc = parse_document(file, text)?;
    let mut c = Checker::default();
    let profile = profile(&mut c, &doc);
    match profile {
        Some(p) if c.issues.is_empty() => Ok(p),
        _ => Err(locate_all(file, text, &c.issues)),
    }
}

const TOP: &[&str] = &["$schema", "name", "scope", "users", "groups"];
const SET: &[&str] = &["mappings", "matching"];
const MAPPING: &[&str] = &["source", "expression", "target", "default"];

fn profile(c: &mut Checker, doc: &Value) -> Option<Profile> {
    let map = c.object(doc, "", "a mapping profile")?;
    c.keys(map, "", TOP);
    let name = c
        .optional_string(map, "", "name")
        .unwrap_or_else(|| "custom".into());
    let scopes = [("assigned", Scope::Assigned), ("all", Scope::All)];
    let scope = match map.get("scope") {
        Some(v) => c.choice(v, "/scope", "scope", &scopes),
        None => Some(Scope::Assigned),
    };
    let users = c
        .required(map, "", "users")
        .and_then(|v| mapping_set(c, v, "/users", Resource::User));
    let groups = c
        .required(map, "", "groups")
        .and_then(|v| mapping_set(c, v, "/groups", Resource::Group));
    Some(Profile {
        name,
        scope: scope?,
        users: users?,
        groups: groups?,
    })
}

fn mapping_set(c: &mut Checker, v: &Value, ptr: &str, res: Resource) -> Option<MappingSet> {
    let map = c.object(v, ptr, "a mapping set")?;
    c.keys(map, ptr, SET);
    let items = c
        .required(map, ptr, "mappings")
        .and_then(|v| c.array(v, &child(ptr, "mappings"), "`mappings`"))?;
    let mut mappings = Vec::new();
    let mut seen: BTreeMap<Target, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let item_ptr = format!("{ptr}/mappings/{i}");
        let Some(m) = mapping(c, item, &item_ptr, res) else {
            continue;
        };
        if let Some(first) = seen.get(&m.target) {
            c.fail(
                &format!("{item_ptr}/target"),
                format!(
                    "two mappings to `{}`: mapping {} of this list maps it too",
                    m.target,
                    first + 1
                ),
                Some("Entra allows one mapping per target attribute; remove one".into()),
            );
            continue;
        }
        seen.insert(m.target.clone(), i);
        mappings.push(m);
    }
    let matching = matching(c, map, ptr, res, &seen)?;
    Some(MappingSet { mappings, matching })
}

fn mapping(c: &mut Checker, v: &Value, ptr: &str, res: Resource) -> Option<Mapping> {
    let map = c.object(v, ptr, "a mapping")?;
    c.keys(map, ptr, MAPPING);
    let target_text = c
        .required(map, ptr, "target")
        .and_then(|v| c.string(v, &child(ptr, "target"), "a SCIM target path"));
    let target = target_text.and_then(|t| match Target::parse(res, &t) {
        Ok(t) => Some(t),
        Err(e) => {
            c.fail(&child(ptr, "target"), e.message, e.hint);
            None
        }
    });
    let default = c.optional_string(map, ptr, "default");
    let (source_text, is_expression, source) = source(c, map, ptr)?;
    let target = target?;
    if target == Target::Attr("members".into()) && source_text != "members" {
        c.fail(
            &child(ptr, "source"),
            "`members` can only be mapped from the source attribute `members`",
            None,
        );
        return None;
    }
    Some(Mapping {
        source_text,
        is_expression,
        source,
        target,
        default,
    })
}

fn source(c: &mut Checker, map: &Map<String, Value>, ptr: &str) -> Option<(String, bool, Expr)> {
    match (map.get("source"), map.get("expression")) {
        (Some(v), None) => {
            let s = c.string(v, &child(ptr, "source"), "a source attribute name")?;
            let valid = !s.is_empty()
                && s.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.');
            if !valid {
                c.fail(
                    &child(ptr, "source"),
                    format!("invalid source attribute name `{s}`"),
                    Some("an expression goes in `expression`, not `source`".into()),
                );
                return None;
            }
            Some((s.clone(), false, Expr::Source(s)))
        }
        (None, Some(v)) => {
            let at = child(ptr, "expression");
            let s = c.string(v, &at, "an Entra expression")?;
            match Expr::parse(&s) {
                Ok(e) => Some((s, true, e)),
                Err(e) => {
                    let hint = format!("at character {} of the expression", e.at + 1);
                    c.fail(&at, e.message, Some(hint));
                    None
                }
            }
        }
        (Some(_), Some(_)) => {
            c.fail(
                ptr,
                "a mapping has `source` or `expression`, not both",
                None,
            );
            None
        }
        (None, None) => {
            c.fail(ptr, "missing required key `source` (or `expression`)", None);
            None
        }
    }
}

fn matching(
    c: &mut Checker,
    map: &Map<String, Value>,
    ptr: &str,
    res: Resource,
    mapped: &BTreeMap<Target, usize>,
) -> Option<Vec<Target>> {
    let at = child(ptr, "matching");
    let items = c
        .required(map, ptr, "matching")
        .and_then(|v| c.array(v, &at, "`matching` (targets in precedence order)"))?;
    if items.is_empty() {
        c.fail(&at, "at least one matching attribute is needed", None);
        return None;
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_ptr = format!("{at}/{i}");
        let Some(text) = c.string(item, &item_ptr, "a target path") else {
            continue;
        };
        let target = match Target::parse(res, &text) {
            Ok(t) => t,
            Err(e) => {
                c.fail(&item_ptr, e.message, e.hint);
                continue;
            }
        };
        if !mapped.contains_key(&target) {
            c.fail(
                &item_ptr,
                format!("matching attribute `{target}` is not mapped"),
                Some("a matching attribute must be the target of one of the mappings".into()),
            );
        } else if out.contains(&target) {
            c.fail(&item_ptr, format!("`{target}` is listed twice"), None);
        } else {
            out.push(target);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_round_trips_through_its_file_format() {
        let p = Profile::default_mappings();
        assert_eq!(p.users.mappings.len(), 20);
        assert!(p.users.get(&user("title")).is_some());
        let text = serde_json::to_string_pretty(&p.to_json()).unwrap();
        let mut back = parse("p.json", &text).unwrap();
        back.name = "default".into();
        assert_eq!(back, p);
    }

    #[test]
    fn bad_profiles_are_located() {
        let text = r#"{
  "users": {
    "mappings": [
      {"source": "userPrincipalName", "target": "userName"},
      {"source": "jobTitle", "target": "titel"},
      {"source": "mail", "target": "userName"},
      {"source": "x", "target": "urn:ietf:params:scim:schemas:extension:Acme:2.0:User:a.b"},
      {"expression": "Nope([x])", "target": "displayName"}
    ],
    "matching": ["externalId"]
  },
  "groups": {"mappings": [{"source": "displayName", "target": "displayName"}], "matching": ["displayName"]}
}"#;
        let errors = parse("p.json", text).unwrap_err().into_vec();
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(
            lines[0].starts_with("p.json:5:40: unknown target attribute `titel`"),
            "{lines:#?}"
        );
        assert!(
            lines[1]
                .contains("6:36: two mappings to `userName`: mapping 1 of this list maps it too")
        );
        assert!(lines[2].contains("is complex"));
        assert!(lines[3].contains("unsupported function `Nope`"));
        assert!(lines[4].contains("10:18: matching attribute `externalId` is not mapped"));
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let e = parse("p.json", "{\"users\": }").unwrap_err().into_vec();
        assert_eq!(e[0].file, "p.json");
        assert_eq!(e[0].line, 1);
    }
}
