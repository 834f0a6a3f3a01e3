//! Load-time checks of templates: syntax, and that every name used is defined by then.
//!
//! A step may use built-ins, the scenario's `vars`, and captures of *earlier* steps. A first
//! pass over the raw steps records who captures what, so that using a value too early gets
//! a message naming the step that captures it.

use super::{Checker, Target};
use crate::scenario::error::did_you_mean;
use crate::template::overrides::builtin_list;
use crate::template::syntax::{self, BUILTIN_NAMES, Reference, Segment};
use serde_json::Value;
use std::collections::BTreeSet;

/// The names a template may use at the current point of the file.
pub(crate) struct Scope {
    vars: BTreeSet<String>,
    /// Variable values are rendered before any step, against built-ins only.
    builtins_only: bool,
    /// Per step: its id (when readable) and the names it captures.
    captures: Vec<(Option<String>, Vec<String>)>,
    current: usize,
}

/// How a variable name resolves at the current step.
enum Resolution {
    Defined,
    CapturedHere,
    CapturedLater(String),
    Unknown,
}

impl Scope {
    pub fn builtins_only() -> Scope {
        Scope {
            vars: BTreeSet::new(),
            builtins_only: true,
            captures: Vec::new(),
            current: 0,
        }
    }

    pub fn new(vars: BTreeSet<String>, steps: &[Value]) -> Scope {
        let captures = steps
            .iter()
            .map(|step| {
                let id = step.get("id").and_then(Value::as_str).map(str::to_string);
                let mut names: Vec<String> = step
                    .get("capture")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                names.extend(entra_capture(step));
                (id, names)
            })
            .collect();
        Scope {
            vars,
            builtins_only: false,
            captures,
            current: 0,
        }
    }

    pub fn enter_step(&mut self, index: usize) {
        self.current = index;
    }

    /// The scope just after the current step: its own captures are defined (for the
    /// read-back an `entra` step renders after its request).
    pub fn after_current(&self) -> Scope {
        Scope {
            vars: self.vars.clone(),
            builtins_only: self.builtins_only,
            captures: self.captures.clone(),
            current: self.current + 1,
        }
    }

    /// The ids of the steps before the current one.
    pub fn earlier_steps(&self) -> Vec<&str> {
        self.captures
            .iter()
            .take(self.current)
            .filter_map(|(id, _)| id.as_deref())
            .collect()
    }

    pub fn is_var(&self, name: &str) -> bool {
        self.vars.contains(name)
    }

    fn resolve(&self, name: &str) -> Resolution {
        if self.vars.contains(name) {
            return Resolution::Defined;
        }
        for (i, (id, names)) in self.captures.iter().enumerate() {
            if names.iter().any(|n| n == name) {
                return match i.cmp(&self.current) {
                    std::cmp::Ordering::Less => Resolution::Defined,
                    std::cmp::Ordering::Equal => Resolution::CapturedHere,
                    std::cmp::Ordering::Greater => Resolution::CapturedLater(
                        id.clone().unwrap_or_else(|| format!("#{}", i + 1)),
                    ),
                };
            }
        }
        Resolution::Unknown
    }

    /// Every name usable here, for "did you mean".
    fn known(&self) -> Vec<String> {
        let mut names: Vec<String> = BUILTIN_NAMES.iter().map(|s| s.to_string()).collect();
        names.extend(self.vars.iter().cloned());
        for (_, captured) in self.captures.iter().take(self.current) {
            names.extend(captured.iter().cloned());
        }
        names
    }
}

/// The id an `entra` create step captures: `<object>_id`. A create whose `expect.status` lists only refusals captures nothing.
fn entra_capture(step: &Value) -> Option<String> {
    let action = step.get("entra")?;
    let status = step.get("expect").and_then(|e| e.get("status"));
    // A number too large for a status still counts as "not a success" here.
    let code = |v: &Value| v.as_u64().map(|c| u16::try_from(c).unwrap_or(u16::MAX));
    let codes: Vec<u16> = match status {
        Some(Value::Array(items)) => items.iter().filter_map(code).collect(),
        Some(one) => code(one).into_iter().collect(),
        None => Vec::new(),
    };
    if crate::scenario::model::all_refusals(&codes) {
        return None;
    }
    let key = match action.get("action")?.as_str()? {
        "create-user" => "user",
        "create-group" => "group",
        _ => return None,
    };
    action
        .get(key)?
        .as_str()
        .map(crate::entra::directory::id_var)
}

impl Checker {
    /// Checks one template string: `key` says whether it is an object key at `pointer`.
    pub fn template(&mut self, text: &str, pointer: &str, key: bool, scope: &Scope) {
        if !syntax::has_template(text) {
            return;
        }
        let segments = match syntax::parse(text) {
            Ok(segments) => segments,
            Err(e) => {
                let target = Target::Text {
                    key,
                    chars: e.span.clone(),
                };
                self.push(
                    pointer,
                    target,
                    e.kind.to_string(),
                    Some(e.hint().to_string()),
                );
                return;
            }
        };
        for segment in segments {
            if let Segment::Var { name, span } = segment {
                if let Some((message, hint)) = self.reference(name, scope) {
                    let target = Target::Text { key, chars: span };
                    self.push(pointer, target, message, hint);
                }
            }
        }
    }

    /// Checks every string and key inside a JSON value.
    pub fn template_value(&mut self, value: &Value, pointer: &str, scope: &Scope) {
        match value {
            Value::String(s) => self.template(s, pointer, false, scope),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.template_value(item, &format!("{pointer}/{i}"), scope);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let ptr = super::child(pointer, k);
                    self.template(k, &ptr, true, scope);
                    self.template_value(v, &ptr, scope);
                }
            }
            _ => {}
        }
    }

    /// What is wrong with using `name` here, if anything: (message, hint).
    fn reference(&self, name: &str, scope: &Scope) -> Option<(String, Option<String>)> {
        let reference = Reference::classify(name);
        if reference.is_builtin() {
            return None;
        }
        if scope.builtins_only {
            return Some((
                format!("a variable's value may use only built-ins, not `{{{{{name}}}}}`"),
                Some(format!("built-ins: {}", builtin_list())),
            ));
        }
        let unknown = |what: &str| {
            let hint = did_you_mean(name, &scope.known()).or_else(|| {
                Some("define it in `vars`, or capture it in an earlier step".to_string())
            });
            Some((format!("unknown {what} `{{{{{name}}}}}`"), hint))
        };
        if let Reference::Unknown(_) = reference {
            let what = if name.starts_with("run.") || name.starts_with("uuid.") {
                "built-in"
            } else {
                "variable"
            };
            return unknown(what);
        }
        match scope.resolve(name) {
            Resolution::Defined => None,
            Resolution::CapturedHere => Some((
                format!("`{{{{{name}}}}}` is captured by this step, so it has no value yet"),
                Some("a capture can be used from the next step on".to_string()),
            )),
            Resolution::CapturedLater(step) => Some((
                format!("`{{{{{name}}}}}` is captured by a later step (`{step}`)"),
                Some("capture it in an earlier step, or use it after that step".to_string()),
            )),
            Resolution::Unknown => unknown("variable"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::load::testing::*;

    fn two_steps(first: &str, second: &str) -> String {
        with_step(&format!("{first},\n    {second}"))
    }

    #[test]
    fn an_unknown_variable_suggests_a_defined_one() {
        let src = two_steps(
            r#"{ "id": "create", "request": { "method": "POST", "path": "/Users" }, "capture": { "user_id": "/id" } }"#,
            r#"{ "id": "read", "request": { "method": "GET", "path": "/Users/{{usr_id}}" } }"#,
        );
        let e = expect_error(
            &src,
            "{{usr_id}}",
            "unknown variable `{{usr_id}}`",
            Some("did you mean `user_id`?"),
        );
        assert_eq!(e.span, "{{usr_id}}".len());
        assert_eq!(e.step.as_deref(), Some("read"));
    }

    #[test]
    fn an_unknown_name_without_a_near_miss_says_how_to_define_it() {
        let src = with_step(
            r#"{ "id": "a", "request": { "method": "GET", "path": "/Groups/{{group_identifier}}" } }"#,
        );
        expect_error(
            &src,
            "{{group_identifier}}",
            "unknown variable `{{group_identifier}}`",
            Some("define it in `vars`, or capture it in an earlier step"),
        );
    }

    #[test]
    fn an_unknown_builtin_suggests_the_builtin() {
        let src = with_step(
            r#"{ "id": "a", "request": { "method": "POST", "path": "/Users", "body": { "userName": "{{ run.prefx }}a" } } }"#,
        );
        expect_error(
            &src,
            "{{ run.prefx }}",
            "unknown built-in `{{run.prefx}}`",
            Some("did you mean `run.prefix`?"),
        );
    }

    #[test]
    fn a_capture_is_usable_from_the_next_step_only() {
        let src = with_step(
            r#"{ "id": "a", "request": { "method": "GET", "path": "/Users/{{me}}" }, "capture": { "me": "/id" } }"#,
        );
        expect_error(
            &src,
            "{{me}}",
            "`{{me}}` is captured by this step, so it has no value yet",
            Some("a capture can be used from the next step on"),
        );
        let src = two_steps(
            r#"{ "id": "read", "request": { "method": "GET", "path": "/Users/{{user_id}}" } }"#,
            r#"{ "id": "create", "request": { "method": "POST", "path": "/Users" }, "capture": { "user_id": "/id" } }"#,
        );
        expect_error(
            &src,
            "{{user_id}}",
            "`{{user_id}}` is captured by a later step (`create`)",
            Some("capture it in an earlier step, or use it after that step"),
        );
    }

    #[test]
    fn unterminated_templates_point_at_their_column_past_escapes() {
        let src = with_step(
            r#"{ "id": "a", "request": { "method": "POST", "path": "/x", "body": { "n": "say \"hi\" {{uuid" } } }"#,
        );
        let e = expect_error(
            &src,
            "{{uuid\"",
            "unterminated `{{`: no matching `}}`",
            Some("close it with `}}`, or write `{{{{` for a literal `{{`"),
        );
        assert_eq!(e.pointer, "/steps/0/request/body/n");
        assert_eq!(e.span, 2);
    }

    #[test]
    fn templates_in_body_keys_are_checked_and_located_on_the_key() {
        let src = with_step(
            r#"{ "id": "a", "request": { "method": "POST", "path": "/x", "body": { "{{nope}}": 1 } } }"#,
        );
        let e = expect_error(
            &src,
            "{{nope}}",
            "unknown variable `{{nope}}`",
            Some("define it in `vars`, or capture it in an earlier step"),
        );
        assert_eq!(e.pointer, "/steps/0/request/body/{{nope}}");
    }

    #[test]
    fn escapes_builtins_vars_and_earlier_captures_are_accepted() {
        let src = two_steps(
            r#"{ "id": "a", "request": { "method": "POST", "path": "/x", "body": { "t": "{{{{literal}}", "u": "{{uuid}} {{uuid.k}} {{run.id}} {{run.base}} {{domain}}" } }, "capture": { "v": "/id" } }"#,
            r#"{ "id": "b", "request": { "method": "GET", "path": "/x/{{v}}", "headers": { "X-V": "{{v}}" }, "query": { "f": "{{v}}" } }, "expect": { "json": [ { "pointer": "/{{v}}", "equals": "{{v}}" } ] } }"#,
        );
        crate::scenario::load::parse_scenario("t.json", &src, false).expect("valid");
    }
}
