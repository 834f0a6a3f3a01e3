//! Validation of one step: its id, request, captures and flags (expectations: `expect.rs`).

use super::refs::Scope;
use super::{Checker, Target, child, kind, one_of};
use crate::scenario::model::{
    AuthMode, CaptureSource, Method, QueryParam, QueryStyle, RequestSpec, Step,
};
use crate::template::syntax::is_variable_name;
use serde_json::Value;
use std::collections::BTreeMap;

const STEP_KEYS: &[&str] = &["id", "note", "request", "expect", "capture", "no_snapshot"];
const REQUEST_KEYS: &[&str] = &[
    "method",
    "path",
    "query",
    "query_style",
    "headers",
    "auth",
    "body",
];
const METHODS: &[(&str, Method)] = &[
    ("GET", Method::Get),
    ("POST", Method::Post),
    ("PUT", Method::Put),
    ("PATCH", Method::Patch),
    ("DELETE", Method::Delete),
];
const QUERY_STYLES: &[(&str, QueryStyle)] = &[
    ("entra", QueryStyle::Entra),
    ("validator", QueryStyle::Validator),
];
const AUTH_MODES: &[(&str, AuthMode)] = &[
    ("token", AuthMode::Token),
    ("none", AuthMode::None),
    ("invalid", AuthMode::Invalid),
];

impl Checker {
    /// One step; `ids` maps the ids seen so far to their step number, for duplicates.
    pub(super) fn step(
        &mut self,
        value: &Value,
        index: usize,
        scope: &Scope,
        ids: &mut BTreeMap<String, usize>,
    ) -> Option<Step> {
        let ptr = format!("/steps/{index}");
        let map = self.object(value, &ptr, "a step")?;
        self.step = map.get("id").and_then(Value::as_str).map(str::to_string);
        self.keys(map, &ptr, STEP_KEYS);
        let id = self
            .required(map, &ptr, "id")
            .and_then(|v| self.step_id(v, &child(&ptr, "id"), index, ids));
        let note = self.optional_string(map, &ptr, "note");
        let request = self
            .required(map, &ptr, "request")
            .and_then(|v| self.request(v, &child(&ptr, "request"), scope));
        let expect = match map.get("expect") {
            Some(v) => self.expect(v, &child(&ptr, "expect"), scope),
            None => Some(Default::default()),
        };
        let capture = match map.get("capture") {
            Some(v) => self.captures(v, &child(&ptr, "capture"), scope),
            None => Some(BTreeMap::new()),
        };
        let no_snapshot = match map.get("no_snapshot") {
            Some(v) => self.boolean(v, &child(&ptr, "no_snapshot"), "`no_snapshot`"),
            None => Some(false),
        };
        let (request, expect) = (request?, expect?);
        if expect.mapped_schemas.is_some()
            && !(request.method == Method::Get && request.path.eq_ignore_ascii_case("/Schemas"))
        {
            self.fail(
                &child(&child(&ptr, "expect"), "mapped_schemas"),
                format!(
                    "`mapped_schemas` checks a `GET /Schemas` answer, not `{} {}`",
                    request.method, request.path
                ),
                Some("move it to the step that sends `GET /Schemas`".into()),
            );
            return None;
        }
        Some(Step {
            id: id?,
            note,
            request,
            expect,
            capture: capture?,
            no_snapshot: no_snapshot?,
            fallback: None,
        })
    }

    pub(super) fn step_id(
        &mut self,
        value: &Value,
        pointer: &str,
        index: usize,
        ids: &mut BTreeMap<String, usize>,
    ) -> Option<String> {
        let id = self.string(value, pointer, "a step id")?;
        if !is_step_id(&id) {
            let hint =
                "use lowercase letters, digits, `_` and `-`, starting with a letter or digit";
            self.fail(
                pointer,
                format!("invalid step id `{id}`"),
                Some(hint.into()),
            );
            return None;
        }
        if let Some(first) = ids.get(&id) {
            self.fail(
                pointer,
                format!("duplicate step id `{id}`: step {} has it too", first + 1),
                Some("step ids must be unique within a scenario".into()),
            );
            return None;
        }
        ids.insert(id.clone(), index);
        Some(id)
    }

    fn request(&mut self, value: &Value, ptr: &str, scope: &Scope) -> Option<RequestSpec> {
        let map = self.object(value, ptr, "a request")?;
        self.keys(map, ptr, REQUEST_KEYS);
        let method = self
            .required(map, ptr, "method")
            .and_then(|v| self.method(v, &child(ptr, "method")));
        let path = self
            .required(map, ptr, "path")
            .and_then(|v| self.path(v, &child(ptr, "path"), scope));
        let query = match map.get("query") {
            Some(v) => self.query(v, &child(ptr, "query"), scope),
            None => Some(Vec::new()),
        };
        let query_style = match map.get("query_style") {
            Some(v) => self.choice(v, &child(ptr, "query_style"), "query style", QUERY_STYLES),
            None => Some(QueryStyle::Entra),
        };
        let headers = match map.get("headers") {
            Some(v) => self.headers(v, &child(ptr, "headers"), scope),
            None => Some(BTreeMap::new()),
        };
        let auth = match map.get("auth") {
            Some(v) => self.choice(v, &child(ptr, "auth"), "auth mode", AUTH_MODES),
            None => Some(AuthMode::Token),
        };
        let body = map.get("body").cloned();
        if let Some(body) = &body {
            self.template_value(body, &child(ptr, "body"), scope);
        }
        Some(RequestSpec {
            method: method?,
            path: path?,
            query: query?,
            query_style: query_style?,
            headers: headers?,
            auth: auth?,
            body,
        })
    }

    fn method(&mut self, value: &Value, ptr: &str) -> Option<Method> {
        let text = self.string(value, ptr, "an HTTP method")?;
        if let Some((_, m)) = METHODS.iter().find(|(name, _)| *name == text) {
            return Some(*m);
        }
        let names: Vec<&str> = METHODS.iter().map(|(n, _)| *n).collect();
        let upper = text.to_ascii_uppercase();
        let hint = if names.contains(&upper.as_str()) {
            format!("write it in capitals: `{upper}`")
        } else {
            one_of(&names)
        };
        self.fail(ptr, format!("unknown method `{text}`"), Some(hint));
        None
    }

    fn path(&mut self, value: &Value, ptr: &str, scope: &Scope) -> Option<String> {
        let path = self.string(value, ptr, "a path")?;
        if path.contains('?') {
            let hint = "put query parameters in `query`, e.g. \"query\": { \"filter\": \"...\" }";
            self.fail(ptr, "the path contains a query string", Some(hint.into()));
            return None;
        }
        // A path that starts with a template is only known after rendering.
        if !path.starts_with('/') && !path.starts_with("{{") {
            self.fail(
                ptr,
                format!("the path `{path}` does not start with `/`"),
                Some("paths are relative to the Tenant URL, e.g. `/Users`".into()),
            );
            return None;
        }
        self.template(&path, ptr, false, scope);
        Some(path)
    }

    fn query(&mut self, value: &Value, ptr: &str, scope: &Scope) -> Option<Vec<QueryParam>> {
        let map = self.object(value, ptr, "`query`")?;
        let mut out = Vec::with_capacity(map.len());
        for (name, v) in map {
            let item = child(ptr, name);
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    let msg = format!("a query value must be a string, found {}", kind(other));
                    self.fail(&item, msg, None);
                    continue;
                }
            };
            if name.is_empty() {
                self.push(
                    &item,
                    Target::Key,
                    "empty query parameter name".into(),
                    None,
                );
                continue;
            }
            self.template(&text, &item, false, scope);
            out.push(QueryParam {
                name: name.clone(),
                value: text,
            });
        }
        (out.len() == map.len()).then_some(out)
    }

    fn headers(
        &mut self,
        value: &Value,
        ptr: &str,
        scope: &Scope,
    ) -> Option<BTreeMap<String, String>> {
        let map = self.object(value, ptr, "`headers`")?;
        let mut out = BTreeMap::new();
        for (name, v) in map {
            let item = child(ptr, name);
            if name.eq_ignore_ascii_case("authorization") {
                let hint = "use `auth`: `token` (the run's token), `none` or `invalid`";
                self.push(
                    &item,
                    Target::Key,
                    "the harness sets `Authorization`".into(),
                    Some(hint.into()),
                );
                continue;
            }
            if name.is_empty() || !name.bytes().all(is_header_char) {
                self.push(
                    &item,
                    Target::Key,
                    format!("invalid header name `{name}`"),
                    None,
                );
                continue;
            }
            if let Some(text) = self.string(v, &item, "a header value") {
                self.template(&text, &item, false, scope);
                out.insert(name.clone(), text);
            }
        }
        (out.len() == map.len()).then_some(out)
    }

    fn captures(
        &mut self,
        value: &Value,
        ptr: &str,
        scope: &Scope,
    ) -> Option<BTreeMap<String, CaptureSource>> {
        let map = self.object(value, ptr, "`capture`")?;
        let mut out = BTreeMap::new();
        for (name, v) in map {
            let item = child(ptr, name);
            if !is_variable_name(name) {
                let hint = "use letters, digits and `_`, starting with a letter or `_`";
                self.push(
                    &item,
                    Target::Key,
                    format!("invalid capture name `{name}`"),
                    Some(hint.into()),
                );
                continue;
            }
            if scope.is_var(name) {
                let hint = "rename the capture or the variable";
                self.push(
                    &item,
                    Target::Key,
                    format!("capture `{name}` has the name of a variable in `vars`"),
                    Some(hint.into()),
                );
                continue;
            }
            let Some(text) = self.string(v, &item, "a capture source") else {
                continue;
            };
            match CaptureSource::parse(&text) {
                Some(CaptureSource::Body(p)) if !self.pointer_syntax(&p, &item) => {}
                Some(source) => {
                    self.template(&text, &item, false, scope);
                    out.insert(name.clone(), source);
                }
                None => {
                    let hint = "write a JSON pointer such as `/id`, or `header:Location`";
                    self.fail(
                        &item,
                        format!("invalid capture source `{text}`"),
                        Some(hint.into()),
                    );
                }
            }
        }
        (out.len() == map.len()).then_some(out)
    }

    /// RFC 6901 syntax: empty, or `/`-separated tokens where `~` is followed by `0` or `1`.
    /// A pointer starting with a template is only checked after rendering.
    pub(super) fn pointer_syntax(&mut self, pointer: &str, ptr: &str) -> bool {
        if pointer.starts_with("{{") {
            return true;
        }
        let problem = if !pointer.is_empty() && !pointer.starts_with('/') {
            Some("a JSON pointer starts with `/`, e.g. `/emails/0/value`")
        } else if bad_tilde(pointer) {
            Some("in a JSON pointer `~` must be written `~0` and `/` inside a key `~1`")
        } else {
            None
        };
        if let Some(hint) = problem {
            let msg = format!("invalid JSON pointer `{pointer}`");
            self.fail(ptr, msg, Some(hint.into()));
        }
        problem.is_none()
    }
}

fn bad_tilde(pointer: &str) -> bool {
    let bytes = pointer.as_bytes();
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'~' && !matches!(bytes.get(i + 1), Some(b'0' | b'1')))
}

/// Step ids: `[a-z0-9][a-z0-9_-]*`.
fn is_step_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// RFC 9110 token characters.
fn is_header_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use crate::scenario::load::testing::*;

    fn req(request: &str) -> String {
        with_step(&format!(r#"{{ "id": "s", "request": {request} }}"#))
    }

    #[test]
    fn unknown_step_keys_suggest_the_meant_one() {
        let src = with_step(
            r#"{ "id": "s", "request": { "method": "GET", "path": "/x" }, "captures": {} }"#,
        );
        let e = expect_error(
            &src,
            "\"captures\"",
            "unknown key `captures`",
            Some("did you mean `capture`?"),
        );
        assert_eq!(e.step.as_deref(), Some("s"));
        assert_eq!(e.pointer, "/steps/0/captures");
    }

    #[test]
    fn step_ids_are_slugs_and_unique() {
        let src =
            with_step(r#"{ "id": "Create User", "request": { "method": "GET", "path": "/x" } }"#);
        expect_error(
            &src,
            "\"Create User\"",
            "invalid step id `Create User`",
            Some("use lowercase letters, digits, `_` and `-`, starting with a letter or digit"),
        );
        let src = with_step(
            r#"{ "id": "a", "request": { "method": "GET", "path": "/x" } },
    { "id": "a", "request": { "method": "GET", "path": "/y" } }"#,
        );
        let e = error(&src);
        assert_eq!(e.message, "duplicate step id `a`: step 1 has it too");
        assert_eq!(e.pointer, "/steps/1/id");
        assert_eq!(e.line, at(&src, "\"/y\"").0);
        assert_eq!(
            e.hint.as_deref(),
            Some("step ids must be unique within a scenario")
        );
    }

    #[test]
    fn a_step_needs_a_request() {
        let src = with_step(r#"{ "id": "s" }"#);
        let e = expect_error(&src, "{ \"id\"", "missing required key `request`", None);
        assert_eq!(e.step.as_deref(), Some("s"));
    }

    #[test]
    fn methods_are_the_models_in_capitals() {
        expect_error(
            &req(r#"{ "method": "patch", "path": "/x" }"#),
            "\"patch\"",
            "unknown method `patch`",
            Some("write it in capitals: `PATCH`"),
        );
        expect_error(
            &req(r#"{ "method": "HEAD", "path": "/x" }"#),
            "\"HEAD\"",
            "unknown method `HEAD`",
            Some("use one of `GET`, `POST`, `PUT`, `PATCH` or `DELETE`"),
        );
    }

    #[test]
    fn paths_are_relative_and_carry_no_query() {
        expect_error(
            &req(r#"{ "method": "GET", "path": "/Users?filter=x" }"#),
            "\"/Users?",
            "the path contains a query string",
            Some("put query parameters in `query`, e.g. \"query\": { \"filter\": \"...\" }"),
        );
        expect_error(
            &req(r#"{ "method": "GET", "path": "Users" }"#),
            "\"Users\"",
            "the path `Users` does not start with `/`",
            Some("paths are relative to the Tenant URL, e.g. `/Users`"),
        );
    }

    #[test]
    fn query_values_are_scalars() {
        expect_error(
            &req(r#"{ "method": "GET", "path": "/x", "query": { "filter": ["a"] } }"#),
            "[\"a\"]",
            "a query value must be a string, found an array",
            None,
        );
    }

    #[test]
    fn query_style_and_auth_are_closed_lists() {
        expect_error(
            &req(r#"{ "method": "GET", "path": "/x", "query_style": "validater" }"#),
            "\"validater\"",
            "unknown query style `validater`",
            Some("did you mean `validator`?"),
        );
        expect_error(
            &req(r#"{ "method": "GET", "path": "/x", "auth": "bearer" }"#),
            "\"bearer\"",
            "unknown auth mode `bearer`",
            Some("use one of `token`, `none` or `invalid`"),
        );
    }

    #[test]
    fn headers_leave_authorization_to_the_harness() {
        expect_error(
            &req(
                r#"{ "method": "GET", "path": "/x", "headers": { "authorization": "Bearer x" } }"#,
            ),
            "\"authorization\"",
            "the harness sets `Authorization`",
            Some("use `auth`: `token` (the run's token), `none` or `invalid`"),
        );
        expect_error(
            &req(r#"{ "method": "GET", "path": "/x", "headers": { "X Bad": "v" } }"#),
            "\"X Bad\"",
            "invalid header name `X Bad`",
            None,
        );
        expect_error(
            &req(r#"{ "method": "GET", "path": "/x", "headers": { "X-A": 1 } }"#),
            "1 }",
            "expected a header value (a string), found a number",
            None,
        );
    }

    #[test]
    fn captures_are_named_sourced_and_do_not_shadow_vars() {
        let step = |capture: &str| {
            with_step(&format!(
                r#"{{ "id": "s", "request": {{ "method": "GET", "path": "/x" }}, "capture": {capture} }}"#
            ))
        };
        expect_error(
            &step(r#"{ "user-id": "/id" }"#),
            "\"user-id\"",
            "invalid capture name `user-id`",
            Some("use letters, digits and `_`, starting with a letter or `_`"),
        );
        expect_error(
            &step(r#"{ "domain": "/id" }"#),
            "\"domain\": \"/id\"",
            "capture `domain` has the name of a variable in `vars`",
            Some("rename the capture or the variable"),
        );
        expect_error(
            &step(r#"{ "id": "id" }"#),
            "\"id\" }",
            "invalid capture source `id`",
            Some("write a JSON pointer such as `/id`, or `header:Location`"),
        );
        expect_error(
            &step(r#"{ "id": "/a~2b" }"#),
            "\"/a~2b\"",
            "invalid JSON pointer `/a~2b`",
            Some("in a JSON pointer `~` must be written `~0` and `/` inside a key `~1`"),
        );
    }

    #[test]
    fn no_snapshot_is_a_boolean() {
        let src = with_step(
            r#"{ "id": "s", "request": { "method": "GET", "path": "/x" }, "no_snapshot": "yes" }"#,
        );
        expect_error(
            &src,
            "\"yes\"",
            "expected `no_snapshot` (`true` or `false`), found a string",
            None,
        );
    }
}
