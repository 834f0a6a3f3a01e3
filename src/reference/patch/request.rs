//! Parsing PatchOp messages (RFC 7644 §3.5.2): op names in any case (Entra sends `Replace`,
//! `Add`), an optional `path`, and `value`; an empty `Operations` list is accepted because
//! the SCIM Validator sends one.

use serde_json::Value;

use super::ops::OpOptions;
use crate::reference::attr::get_ci;
use crate::reference::error::{ScimError, ScimType};

/// A PATCH operation name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

/// One parsed operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    /// `None` when the operation had no `value` member.
    pub value: Option<Value>,
}

/// Switches for PATCH handling, including the fault modes that reproduce broken servers.
#[derive(Debug, Clone, Copy, Default)]
pub struct PatchOptions {
    /// Accept only lowercase op names (`case_sensitive_ops`).
    pub case_sensitive_ops: bool,
    /// Store path-less dotted keys literally (`ignore_pathless_dotted_keys`).
    pub literal_dotted_keys: bool,
    pub ops: OpOptions,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidSyntax, detail)
}

/// Parses a PatchOp message body.
pub fn parse_request(body: &Value, opts: PatchOptions) -> Result<Vec<Operation>, ScimError> {
    let Some(message) = body.as_object() else {
        return Err(syntax("a PATCH body must be a PatchOp JSON object"));
    };
    let Some(list) = get_ci(message, "Operations").and_then(Value::as_array) else {
        return Err(syntax("a PatchOp message needs an `Operations` array"));
    };
    list.iter()
        .enumerate()
        .map(|(i, op)| parse_operation(i, op, opts))
        .collect()
}

fn parse_operation(index: usize, raw: &Value, opts: PatchOptions) -> Result<Operation, ScimError> {
    let Some(map) = raw.as_object() else {
        return Err(syntax(format!("Operations[{index}] must be an object")));
    };
    let Some(name) = get_ci(map, "op").and_then(Value::as_str) else {
        return Err(syntax(format!("Operations[{index}] has no `op`")));
    };
    let matches = |wanted: &str| {
        if opts.case_sensitive_ops {
            name == wanted
        } else {
            name.eq_ignore_ascii_case(wanted)
        }
    };
    let op = if matches("add") {
        Op::Add
    } else if matches("replace") {
        Op::Replace
    } else if matches("remove") {
        Op::Remove
    } else {
        return Err(syntax(format!(
            "Operations[{index}]: unknown op `{name}` (expected add, replace or remove)"
        )));
    };
    let path = match get_ci(map, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(_) => {
            let detail = format!("Operations[{index}]: `path` must be a string");
            return Err(ScimError::bad_request(ScimType::InvalidPath, detail));
        }
    };
    let value = get_ci(map, "value").cloned();
    if op != Op::Remove && value.is_none() {
        return Err(syntax(format!(
            "Operations[{index}]: `{name}` needs a `value`"
        )));
    }
    Ok(Operation { op, path, value })
}

/// Whether an operation's value only clears: `""`, `null`, or an object of those
/// (`{"value": ""}`, the manager removal form). The `empty_values_ignored` fault skips these.
pub fn clears(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Object(map)) => !map.is_empty() && map.values().all(|v| clears(Some(v))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim;
    use serde_json::json;

    fn parse(ops: Value, opts: PatchOptions) -> Result<Vec<Operation>, ScimError> {
        parse_request(
            &json!({"schemas": [scim::PATCH_OP], "Operations": ops}),
            opts,
        )
    }

    fn error_type(ops: Value) -> Option<ScimType> {
        parse(ops, PatchOptions::default())
            .err()
            .and_then(|e| e.scim_type)
    }

    #[test]
    fn clearing_values_are_empty_strings_nulls_and_objects_of_them() {
        for v in [
            json!(""),
            json!(null),
            json!({"value": ""}),
            json!({"a": null, "b": ""}),
        ] {
            assert!(clears(Some(&v)), "{v}");
        }
        for v in [
            json!("x"),
            json!(false),
            json!({}),
            json!([]),
            json!({"value": "u-1"}),
        ] {
            assert!(!clears(Some(&v)), "{v}");
        }
        assert!(
            !clears(None),
            "a remove without value is not a clearing value"
        );
    }

    #[test]
    fn op_names_match_in_any_case_unless_the_fault_is_on() {
        for name in ["Add", "add", "ADD"] {
            let ops = parse(
                json!([{"op": name, "path": "title", "value": "x"}]),
                PatchOptions::default(),
            );
            assert_eq!(ops.ok().map(|o| o[0].op), Some(Op::Add), "{name}");
        }
        let strict = PatchOptions {
            case_sensitive_ops: true,
            ..PatchOptions::default()
        };
        let err = parse(
            json!([{"op": "Replace", "path": "active", "value": false}]),
            strict,
        )
        .err();
        assert!(err.is_some_and(
            |e| e.scim_type == Some(ScimType::InvalidSyntax) && e.detail.contains("`Replace`")
        ));
        assert!(
            parse(
                json!([{"op": "replace", "path": "active", "value": false}]),
                strict
            )
            .is_ok()
        );
    }

    #[test]
    fn keys_are_case_insensitive_and_empty_paths_mean_none() {
        let body = json!({"schemas": [scim::PATCH_OP], "operations": [{"OP": "Remove", "Path": ""}, {"op": "replace", "Value": null}]});
        let ops = parse_request(&body, PatchOptions::default()).unwrap_or_default();
        assert_eq!(
            ops,
            vec![
                Operation {
                    op: Op::Remove,
                    path: None,
                    value: None
                },
                Operation {
                    op: Op::Replace,
                    path: None,
                    value: Some(Value::Null)
                },
            ]
        );
        assert_eq!(
            parse(json!([]), PatchOptions::default()).ok(),
            Some(Vec::new())
        );
    }

    #[test]
    fn malformed_messages_are_invalid_syntax() {
        assert_eq!(
            error_type(json!([{"op": "move", "path": "x"}])),
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(
            error_type(json!([{"op": "add", "path": "title"}])),
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(
            error_type(json!([{"path": "title"}])),
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(error_type(json!(["add"])), Some(ScimType::InvalidSyntax));
        assert_eq!(
            error_type(json!({"not": "a list"})),
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(
            error_type(json!([{"op": "add", "path": 7, "value": 1}])),
            Some(ScimType::InvalidPath)
        );
        let no_ops = parse_request(
            &json!({"schemas": [scim::PATCH_OP]}),
            PatchOptions::default(),
        );
        assert_eq!(
            no_ops.err().and_then(|e| e.scim_type),
            Some(ScimType::InvalidSyntax)
        );
        let not_object = parse_request(&json!("ops"), PatchOptions::default());
        assert_eq!(
            not_object.err().and_then(|e| e.scim_type),
            Some(ScimType::InvalidSyntax)
        );
    }
}
