//! The values templates render against during one scenario run, and string/JSON rendering.
//!
//! Lookup order: built-ins (`run.prefix`, `run.id`, `run.base`, `uuid`, `uuid.NAME`), then the
//! scenario's variables (after `--var` overrides), then captures of earlier steps. The names
//! cannot collide: built-ins contain a dot, variables and captures cannot, and the loader
//! refuses a capture named like a variable.

use super::syntax::{self, Reference, Segment, SyntaxError};
use crate::scenario::model::Scenario;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The run-wide built-in values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Builtins {
    /// `{{run.id}}`.
    pub run_id: String,
    /// `{{run.prefix}}`, e.g. `scimreplay-7f3a2c-`.
    pub prefix: String,
    /// `{{run.base}}`: the Tenant URL with no trailing slash.
    pub base: String,
}

impl Builtins {
    pub fn new(
        run_id: impl Into<String>,
        prefix: impl Into<String>,
        base: impl Into<String>,
    ) -> Builtins {
        let base: String = base.into();
        Builtins {
            run_id: run_id.into(),
            prefix: prefix.into(),
            base: base.trim_end_matches('/').to_string(),
        }
    }
}

/// Why a template could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The name has no value: typically a capture whose step failed or was skipped.
    #[error("no value for `{{{{{name}}}}}`: no earlier step captured it")]
    Missing { name: String },
    /// The string is not a valid template (the loader rejects these, so only for hand-built
    /// scenarios).
    #[error("invalid template `{template}`: {error}")]
    Syntax {
        template: String,
        error: SyntaxError,
    },
}

/// Built-ins, variables and captures for one scenario run, and every uuid handed out.
#[derive(Clone, Debug)]
pub struct Context {
    builtins: Builtins,
    vars: BTreeMap<String, String>,
    captures: BTreeMap<String, String>,
    named_uuids: BTreeMap<String, String>,
    generated: BTreeSet<String>,
}

impl Context {
    /// A context with built-ins only.
    pub fn new(builtins: Builtins) -> Context {
        Context {
            builtins,
            vars: BTreeMap::new(),
            captures: BTreeMap::new(),
            named_uuids: BTreeMap::new(),
            generated: BTreeSet::new(),
        }
    }

    /// A context for one run of `scenario`: its variables are rendered once, here, against
    /// the built-ins (so `{{uuid}}` in a variable is one value for the whole run).
    pub fn for_scenario(builtins: Builtins, scenario: &Scenario) -> Result<Context, RenderError> {
        let mut ctx = Context::new(builtins);
        for (name, template) in &scenario.vars {
            let value = render_str(template, &mut ctx)?;
            ctx.vars.insert(name.clone(), value);
        }
        Ok(ctx)
    }

    pub fn builtins(&self) -> &Builtins {
        &self.builtins
    }

    /// Sets a variable (already rendered).
    pub fn set_var(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Records a captured value for later steps.
    pub fn set_capture(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.captures.insert(name.into(), value.into());
    }

    /// Records a captured JSON value: strings as they are, anything else as compact JSON.
    pub fn set_capture_json(&mut self, name: impl Into<String>, value: &Value) {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.set_capture(name, text);
    }

    pub fn captures(&self) -> &BTreeMap<String, String> {
        &self.captures
    }

    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// `uuid.NAME` values handed out so far, by NAME.
    pub fn named_uuids(&self) -> &BTreeMap<String, String> {
        &self.named_uuids
    }

    /// Every uuid this context generated (`{{uuid}}` and `{{uuid.NAME}}`). An id in this set
    /// is one no real object can have, so the runner may send requests that touch it.
    pub fn generated_ids(&self) -> &BTreeSet<String> {
        &self.generated
    }

    pub fn is_generated(&self, id: &str) -> bool {
        self.generated.contains(id)
    }

    /// The value of one reference name.
    pub fn lookup(&mut self, name: &str) -> Result<String, RenderError> {
        let value = match Reference::classify(name) {
            Reference::RunPrefix => Some(self.builtins.prefix.clone()),
            Reference::RunId => Some(self.builtins.run_id.clone()),
            Reference::RunBase => Some(self.builtins.base.clone()),
            Reference::Uuid => Some(self.fresh_uuid()),
            Reference::NamedUuid(tag) => Some(self.named_uuid(tag)),
            Reference::Variable(name) => self
                .vars
                .get(name)
                .or_else(|| self.captures.get(name))
                .cloned(),
            Reference::Unknown(_) => None,
        };
        value.ok_or_else(|| RenderError::Missing {
            name: name.to_string(),
        })
    }

    fn fresh_uuid(&mut self) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.generated.insert(id.clone());
        id
    }

    fn named_uuid(&mut self, tag: &str) -> String {
        if let Some(id) = self.named_uuids.get(tag) {
            return id.clone();
        }
        let id = self.fresh_uuid();
        self.named_uuids.insert(tag.to_string(), id.clone());
        id
    }
}

/// Renders every `{{name}}` in `template`.
pub fn render_str(template: &str, ctx: &mut Context) -> Result<String, RenderError> {
    if !syntax::has_template(template) {
        return Ok(template.to_string());
    }
    let segments = syntax::parse(template).map_err(|error| RenderError::Syntax {
        template: template.to_string(),
        error,
    })?;
    let mut out = String::with_capacity(template.len());
    for segment in segments {
        match segment {
            Segment::Text(text) => out.push_str(text),
            Segment::Var { name, .. } => out.push_str(&ctx.lookup(name)?),
        }
    }
    Ok(out)
}

/// Renders every string in a JSON value, object keys included; other values are kept.
pub fn render_value(value: &Value, ctx: &mut Context) -> Result<Value, RenderError> {
    Ok(match value {
        Value::String(s) => Value::String(render_str(s, ctx)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value(v, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, v) in map {
                out.insert(render_str(key, ctx)?, render_value(v, ctx)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        Context::new(Builtins::new(
            "20260101-abc123",
            "scimreplay-abc123-",
            "https://h/scim/",
        ))
    }

    #[test]
    fn renders_builtins_variables_and_captures() {
        let mut c = ctx();
        c.set_var("domain", "example.com");
        c.set_capture("user_id", "u-1");
        let out = render_str(
            "{{run.prefix}}alice@{{ domain }} {{user_id}} {{run.base}}/Users {{run.id}}",
            &mut c,
        )
        .expect("renders");
        assert_eq!(
            out,
            "scimreplay-abc123-alice@example.com u-1 https://h/scim/Users 20260101-abc123"
        );
    }

    #[test]
    fn escaped_braces_render_literally() {
        let mut c = ctx();
        assert_eq!(render_str("a{{{{b}}", &mut c).expect("renders"), "a{{b}}");
    }

    #[test]
    fn uuid_is_fresh_each_use_and_named_uuids_are_stable() {
        let mut c = ctx();
        let a = render_str("{{uuid}}", &mut c).expect("renders");
        let b = render_str("{{uuid}}", &mut c).expect("renders");
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
        let x1 = render_str("{{uuid.ext}}", &mut c).expect("renders");
        let x2 = render_str("{{uuid.ext}}", &mut c).expect("renders");
        let y = render_str("{{uuid.other}}", &mut c).expect("renders");
        assert_eq!(x1, x2);
        assert_ne!(x1, y);
        for id in [&a, &b, &x1, &y] {
            assert!(c.is_generated(id), "{id}");
        }
        assert_eq!(c.generated_ids().len(), 4);
        assert!(!c.is_generated("u-1"));
    }

    #[test]
    fn a_missing_capture_names_the_variable() {
        let mut c = ctx();
        let err = render_str("/Users/{{user_id}}", &mut c).expect_err("missing");
        assert_eq!(
            err,
            RenderError::Missing {
                name: "user_id".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "no value for `{{user_id}}`: no earlier step captured it"
        );
    }

    #[test]
    fn syntax_errors_surface_at_render_time_too() {
        let err = render_str("x {{oops", &mut ctx()).expect_err("syntax");
        assert!(matches!(err, RenderError::Syntax { .. }), "{err:?}");
    }

    #[test]
    fn render_value_renders_strings_and_keys_and_keeps_the_rest() {
        let mut c = ctx();
        c.set_capture("gid", "g-9");
        c.set_capture("n", "42");
        let body = json!({"members": [{"value": "{{gid}}", "n": 3}], "{{gid}}-key": true, "x": null, "s": "{{n}}"});
        let out = render_value(&body, &mut c).expect("renders");
        assert_eq!(
            out,
            json!({"members": [{"value": "g-9", "n": 3}], "g-9-key": true, "x": null, "s": "42"})
        );
    }

    #[test]
    fn scenario_variables_render_against_builtins_once() {
        let scenario: Scenario = serde_json::from_value(json!({
            "name": "s", "summary": "s", "dialect": "any", "steps": [],
            "vars": {"user": "{{run.prefix}}alice", "ext": "{{uuid}}"}
        }))
        .expect("model");
        let mut c = Context::for_scenario(ctx().builtins().clone(), &scenario).expect("ctx");
        assert_eq!(c.lookup("user").expect("var"), "scimreplay-abc123-alice");
        let ext = c.lookup("ext").expect("var");
        assert_eq!(c.lookup("ext").expect("var"), ext);
        assert!(c.is_generated(&ext));
    }

    #[test]
    fn captured_json_values_become_text() {
        let mut c = ctx();
        c.set_capture_json("a", &json!("s"));
        c.set_capture_json("b", &json!(7));
        c.set_capture_json("c", &json!({"value": "m"}));
        assert_eq!(c.captures()["a"], "s");
        assert_eq!(c.captures()["b"], "7");
        assert_eq!(c.captures()["c"], r#"{"value":"m"}"#);
    }

    #[test]
    fn base_loses_its_trailing_slash() {
        assert_eq!(
            Builtins::new("i", "p", "https://h/scim//").base,
            "https://h/scim"
        );
    }
}
