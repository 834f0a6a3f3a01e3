//! PATCH operations in Entra's two dialects (fact sheet §3.2).
//!
//! `default`: PascalCase ops, one operation per attribute, each with a `path`, string
//! booleans, member removal by a value array. `aadOptscim062020`: lowercase ops, booleans,
//! filtered multi-valued paths as their own operation and everything else collapsed into
//! one path-less `replace` (or `add`) whose value has dotted keys, member removal by
//! `members[value eq "…"]`.

use super::target::Target;
use crate::scenario::model::Dialect;
use crate::scim;
use serde_json::{Map, Value, json};

/// Add (the target had no value before) or replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

impl Op {
    pub fn wire(self, dialect: Dialect) -> &'static str {
        let flag = dialect == Dialect::AadOptscim062020;
        match (self, flag) {
            (Op::Add, false) => "Add",
            (Op::Replace, false) => "Replace",
            (Op::Remove, false) => "Remove",
            (Op::Add, true) => "add",
            (Op::Replace, true) => "replace",
            (Op::Remove, true) => "remove",
        }
    }
}

/// One changed attribute: its target, whether it had a value, its new value (as text).
pub struct Change<'a> {
    pub target: &'a Target,
    pub op: Op,
    pub value: String,
}

/// The wire value of an attribute in a PATCH: `active` is `"True"`/`"False"` in the
/// default dialect and a boolean with the flag; everything else is a string.
pub fn patch_value(target: &Target, value: &str, dialect: Dialect) -> Value {
    if target.is_active() && dialect == Dialect::AadOptscim062020 {
        return Value::Bool(value.eq_ignore_ascii_case("true"));
    }
    if target.is_active() {
        let b = value.eq_ignore_ascii_case("true");
        return Value::String(if b { "True" } else { "False" }.into());
    }
    Value::String(value.into())
}

/// The wire value of an attribute in a POST body: `active` is a JSON boolean.
pub fn post_value(target: &Target, value: &str) -> Value {
    if target.is_active() {
        return Value::Bool(value.eq_ignore_ascii_case("true"));
    }
    Value::String(value.into())
}

/// The operations for a set of changed attributes.
pub fn attribute_ops(changes: &[Change], dialect: Dialect) -> Vec<Value> {
    if dialect != Dialect::AadOptscim062020 {
        return changes
            .iter()
            .map(|c| {
                json!({
                    "op": c.op.wire(dialect),
                    "path": c.target.path(),
                    "value": patch_value(c.target, &c.value, dialect),
                })
            })
            .collect();
    }
    let mut ops = Vec::new();
    let mut pathless: Vec<(Op, Map<String, Value>)> = Vec::new();
    for c in changes {
        let value = patch_value(c.target, &c.value, dialect);
        // One changed attribute keeps its path (§3.2: the disable is
        // `{"op":"replace","path":"active","value":false}`, a single string `add` has its
        // path too); only several attributes collapse into a path-less operation.
        if c.target.is_typed() || changes.len() == 1 {
            ops.push(json!({"op": c.op.wire(dialect), "path": c.target.path(), "value": value}));
            continue;
        }
        match pathless.iter_mut().find(|(op, _)| *op == c.op) {
            Some((_, map)) => {
                map.insert(c.target.path(), value);
            }
            None => {
                let mut map = Map::new();
                map.insert(c.target.path(), value);
                pathless.push((c.op, map));
            }
        }
    }
    let collapsed = pathless
        .into_iter()
        .map(|(op, map)| json!({"op": op.wire(dialect), "value": map}));
    collapsed.chain(ops).collect()
}

/// Adding members: one operation with every member, `$ref: null` in the default dialect.
pub fn add_members(ids: &[String], dialect: Dialect) -> Vec<Value> {
    let values: Vec<Value> = ids
        .iter()
        .map(|id| match dialect {
            Dialect::AadOptscim062020 => json!({"value": id}),
            _ => json!({"$ref": null, "value": id}),
        })
        .collect();
    vec![json!({"op": Op::Add.wire(dialect), "path": "members", "value": values})]
}

/// Removing members: a value array (default) or one filtered path per member (flag).
pub fn remove_members(ids: &[String], dialect: Dialect) -> Vec<Value> {
    match dialect {
        Dialect::AadOptscim062020 => ids
            .iter()
            .map(|id| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}))
            .collect(),
        _ => {
            let values: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
            vec![json!({"op": "Remove", "path": "members", "value": values})]
        }
    }
}

/// A PatchOp body.
pub fn body(ops: Vec<Value>) -> Value {
    json!({"schemas": [scim::PATCH_OP], "Operations": ops})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entra::target::Resource;

    fn t(p: &str) -> Target {
        Target::parse(Resource::User, p).unwrap()
    }

    #[test]
    fn default_dialect_is_one_pascal_case_op_per_attribute_with_string_booleans() {
        let (title, mail, active) = (t("title"), t("emails[type eq \"work\"].value"), t("active"));
        let changes = [
            Change {
                target: &title,
                op: Op::Add,
                value: "CEO".into(),
            },
            Change {
                target: &mail,
                op: Op::Replace,
                value: "a@x".into(),
            },
            Change {
                target: &active,
                op: Op::Replace,
                value: "False".into(),
            },
        ];
        assert_eq!(
            attribute_ops(&changes, Dialect::Default),
            vec![
                json!({"op": "Add", "path": "title", "value": "CEO"}),
                json!({"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@x"}),
                json!({"op": "Replace", "path": "active", "value": "False"}),
            ]
        );
    }

    #[test]
    fn flag_dialect_collapses_untyped_paths_into_one_pathless_op_with_dotted_keys() {
        let (given, mail, active) = (
            t("name.givenName"),
            t("emails[type eq \"work\"].value"),
            t("active"),
        );
        let dept = t("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
        let changes = [
            Change {
                target: &given,
                op: Op::Replace,
                value: "Al".into(),
            },
            Change {
                target: &mail,
                op: Op::Replace,
                value: "a@x".into(),
            },
            Change {
                target: &active,
                op: Op::Replace,
                value: "False".into(),
            },
            Change {
                target: &dept,
                op: Op::Replace,
                value: "Ops".into(),
            },
        ];
        assert_eq!(
            attribute_ops(&changes, Dialect::AadOptscim062020),
            vec![
                json!({"op": "replace", "value": {"name.givenName": "Al", "active": false,
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Ops"}}),
                json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@x"}),
            ]
        );
    }

    #[test]
    fn flag_dialect_keeps_the_path_of_a_single_changed_attribute() {
        let (active, nick) = (t("active"), t("nickName"));
        let disable = [Change {
            target: &active,
            op: Op::Replace,
            value: "False".into(),
        }];
        assert_eq!(
            attribute_ops(&disable, Dialect::AadOptscim062020),
            vec![json!({"op": "replace", "path": "active", "value": false})]
        );
        let add = [Change {
            target: &nick,
            op: Op::Add,
            value: "Ally".into(),
        }];
        assert_eq!(
            attribute_ops(&add, Dialect::AadOptscim062020),
            vec![json!({"op": "add", "path": "nickName", "value": "Ally"})]
        );
    }

    #[test]
    fn member_ops_per_dialect() {
        let ids = vec!["u1".to_string(), "u2".to_string()];
        assert_eq!(
            remove_members(&ids, Dialect::Default),
            vec![
                json!({"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]})
            ]
        );
        assert_eq!(
            remove_members(&ids, Dialect::AadOptscim062020)[1],
            json!({"op": "remove", "path": "members[value eq \"u2\"]"})
        );
        assert_eq!(
            add_members(&ids[..1], Dialect::Default),
            vec![json!({"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}]})]
        );
    }
}
