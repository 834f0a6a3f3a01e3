//! Directory objects: users and groups as Entra holds them, described by Entra *source*
//! attributes (`userPrincipalName`, `givenName`, `mail`, …). A null or missing source
//! value is not sent, as Entra omits nulls. Values may be templates
//! (`{{run.prefix}}alice@{{domain}}`); the runner renders them.
//!
//! The state that actions change (soft-deleted, manager, members, provisioned) lives here
//! too, so a sequence of actions is rendered by folding `apply` over a directory.

use serde_json::Value;
use std::collections::BTreeMap;

/// The users and groups a scenario (or a load run) talks about, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Directory {
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
}

/// An Entra user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct User {
    /// Source attributes; `None` is null (not sent).
    pub attributes: BTreeMap<String, Option<String>>,
    /// The name (in this directory) of the user's manager.
    pub manager: Option<String>,
    /// Entra's computed `IsSoftDeleted`: unassigned, disabled or soft-deleted.
    pub soft_deleted: bool,
    /// True once the user exists in the app (created by an action).
    pub provisioned: bool,
}

/// An Entra group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    pub attributes: BTreeMap<String, Option<String>>,
    /// Names of member users, in the order they were added.
    pub members: Vec<String>,
    pub provisioned: bool,
}

/// The capture variable that holds an object's server id: `alice` → `alice_id`.
pub fn id_var(name: &str) -> String {
    format!("{name}_id")
}

/// The template of an object's server id: `{{alice_id}}`.
pub fn id_ref(name: &str) -> String {
    format!("{{{{{}}}}}", id_var(name))
}

impl User {
    /// The value of a source attribute, including the computed `IsSoftDeleted` and the
    /// manager (as a template of its server id).
    pub fn value(&self, attr: &str) -> Option<String> {
        if attr.eq_ignore_ascii_case("IsSoftDeleted") {
            return Some(if self.soft_deleted { "True" } else { "False" }.into());
        }
        if attr.eq_ignore_ascii_case("manager") {
            return self.manager.as_deref().map(id_ref);
        }
        lookup(&self.attributes, attr)
    }
}

impl Group {
    pub fn value(&self, attr: &str) -> Option<String> {
        lookup(&self.attributes, attr)
    }
}

fn lookup(attrs: &BTreeMap<String, Option<String>>, attr: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.clone())
}

/// A source value from JSON: strings as they are, booleans as Entra's `"True"`/`"False"`,
/// numbers as text, null as absent. Arrays and objects are not source values.
pub fn source_value(v: &Value) -> Result<Option<String>, &'static str> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Bool(b) => Ok(Some(if *b { "True" } else { "False" }.into())),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err("a source value is a string, a boolean, a number or null"),
    }
}

/// An object name: `[a-z][a-z0-9_]*` (it becomes the capture `<name>_id`).
pub fn is_object_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn computed_and_null_values() {
        let mut u = User::default();
        u.attributes.insert("jobTitle".into(), None);
        u.attributes.insert("mail".into(), Some("a@x".into()));
        u.manager = Some("bob".into());
        assert_eq!(u.value("jobTitle"), None);
        assert_eq!(u.value("Mail").as_deref(), Some("a@x"));
        assert_eq!(u.value("IsSoftDeleted").as_deref(), Some("False"));
        assert_eq!(u.value("manager").as_deref(), Some("{{bob_id}}"));
        assert_eq!(source_value(&json!(true)), Ok(Some("True".into())));
        assert!(source_value(&json!([1])).is_err());
        assert!(is_object_name("alice_2") && !is_object_name("Alice") && !is_object_name("2a"));
    }
}
