//! Rendering a step: its request, its expectations and its capture sources.
//!
//! Every string the format calls a template is rendered: the path, query values, header
//! values, the body (keys too), assertion pointers and values, regexes, capture sources.
//! Prose (`note`, `impact`, `status_impact`) and check names are not templates.

use super::context::{Context, RenderError, render_str, render_value};
use crate::scenario::model::{
    CaptureSource, Expect, JsonAssertion, Predicate, QueryParam, RequestSpec, Step,
};
use std::collections::BTreeMap;

/// The request of a step with every template filled in.
pub fn render_request(spec: &RequestSpec, ctx: &mut Context) -> Result<RequestSpec, RenderError> {
    let query = spec
        .query
        .iter()
        .map(|q| {
            Ok(QueryParam {
                name: q.name.clone(),
                value: render_str(&q.value, ctx)?,
            })
        })
        .collect::<Result<_, RenderError>>()?;
    let headers = spec
        .headers
        .iter()
        .map(|(name, value)| Ok((name.clone(), render_str(value, ctx)?)))
        .collect::<Result<BTreeMap<_, _>, RenderError>>()?;
    let body = spec
        .body
        .as_ref()
        .map(|b| render_value(b, ctx))
        .transpose()?;
    Ok(RequestSpec {
        method: spec.method,
        path: render_str(&spec.path, ctx)?,
        query,
        query_style: spec.query_style,
        headers,
        auth: spec.auth,
        body,
    })
}

/// A step's expectations with assertion pointers and values filled in.
pub fn render_expect(expect: &Expect, ctx: &mut Context) -> Result<Expect, RenderError> {
    let json = expect
        .json
        .iter()
        .map(|a| render_assertion(a, ctx))
        .collect::<Result<_, _>>()?;
    Ok(Expect {
        json,
        ..expect.clone()
    })
}

fn render_assertion(a: &JsonAssertion, ctx: &mut Context) -> Result<JsonAssertion, RenderError> {
    let predicate = match &a.predicate {
        Predicate::Equals(v) => Predicate::Equals(render_value(v, ctx)?),
        Predicate::NotEquals(v) => Predicate::NotEquals(render_value(v, ctx)?),
        Predicate::Matches(re) => Predicate::Matches(render_str(re, ctx)?),
        Predicate::OneOf(vs) => Predicate::OneOf(
            vs.iter()
                .map(|v| render_value(v, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Predicate::Contains(v) => Predicate::Contains(render_value(v, ctx)?),
        Predicate::NotContains(v) => Predicate::NotContains(render_value(v, ctx)?),
        p @ Predicate::SameAs { .. } => p.clone(),
        other @ (Predicate::Exists(_)
        | Predicate::Absent
        | Predicate::Type(_)
        | Predicate::Length(_)) => other.clone(),
    };
    Ok(JsonAssertion {
        pointer: render_str(&a.pointer, ctx)?,
        predicate,
        severity: a.severity,
        impact: a.impact.clone(),
    })
}

/// A capture source with its pointer or header name filled in.
pub fn render_capture(
    source: &CaptureSource,
    ctx: &mut Context,
) -> Result<CaptureSource, RenderError> {
    Ok(match source {
        CaptureSource::Body(p) => CaptureSource::Body(render_str(p, ctx)?),
        CaptureSource::Header(h) => CaptureSource::Header(render_str(h, ctx)?),
    })
}

/// The request and expectations of one step, rendered in that order (so a `{{uuid}}` in the
/// request is generated before the expectations are looked at).
pub fn render_step(step: &Step, ctx: &mut Context) -> Result<(RequestSpec, Expect), RenderError> {
    let request = render_request(&step.request, ctx)?;
    let expect = render_expect(&step.expect, ctx)?;
    Ok((request, expect))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::{JsonType, Method, Severity};
    use crate::template::context::Builtins;
    use serde_json::json;

    fn ctx() -> Context {
        let mut c = Context::new(Builtins::new("r1", "scimreplay-r1-", "https://h"));
        c.set_capture("user_id", "u-7");
        c.set_var("domain", "example.com");
        c
    }

    fn step() -> Step {
        serde_json::from_value(json!({
            "id": "s",
            "request": {
                "method": "PATCH", "path": "/Users/{{user_id}}",
                "query": [{"name": "filter", "value": "userName eq \"{{run.prefix}}a@{{domain}}\""}],
                "headers": {"X-Trace": "{{run.id}}"},
                "body": {"Operations": [{"op": "Add", "path": "manager", "value": "{{user_id}}"}],
                         "$ref": "{{run.base}}/Users/{{user_id}}"}
            },
            "expect": {
                "status": [200, 204],
                "checks": [{"name": "scim.resource"}],
                "json": [
                    {"pointer": "/id", "predicate": {"equals": "{{user_id}}"}, "severity": "fail"},
                    {"pointer": "/userName", "predicate": {"matches": "^{{run.prefix}}"}, "severity": "warn"},
                    {"pointer": "/emails", "predicate": {"one_of": ["{{domain}}", 1]}},
                    {"pointer": "/members", "predicate": {"contains": {"value": "{{user_id}}"}}},
                    {"pointer": "/members", "predicate": {"not_contains": {"value": "x{{user_id}}"}}},
                    {"pointer": "/active", "predicate": {"type": "boolean"}, "impact": "{{user_id}} stays"}
                ]
            }
        }))
        .expect("model")
    }

    #[test]
    fn renders_every_template_in_a_request() {
        let (req, _) = render_step(&step(), &mut ctx()).expect("renders");
        assert_eq!(req.method, Method::Patch);
        assert_eq!(req.path, "/Users/u-7");
        assert_eq!(
            req.query[0].value,
            "userName eq \"scimreplay-r1-a@example.com\""
        );
        assert_eq!(req.headers["X-Trace"], "r1");
        assert_eq!(
            req.body,
            Some(
                json!({"Operations": [{"op": "Add", "path": "manager", "value": "u-7"}],
                        "$ref": "https://h/Users/u-7"})
            )
        );
    }

    #[test]
    fn renders_assertion_values_but_not_prose() {
        let (_, expect) = render_step(&step(), &mut ctx()).expect("renders");
        let preds: Vec<_> = expect.json.iter().map(|a| a.predicate.clone()).collect();
        assert_eq!(
            preds,
            vec![
                Predicate::Equals(json!("u-7")),
                Predicate::Matches("^scimreplay-r1-".into()),
                Predicate::OneOf(vec![json!("example.com"), json!(1)]),
                Predicate::Contains(json!({"value": "u-7"})),
                Predicate::NotContains(json!({"value": "xu-7"})),
                Predicate::Type(JsonType::Boolean),
            ]
        );
        assert_eq!(expect.json[1].severity, Severity::Warn);
        assert_eq!(expect.json[5].impact.as_deref(), Some("{{user_id}} stays"));
        assert_eq!(expect.status, vec![200, 204]);
        assert_eq!(expect.checks[0].name, "scim.resource");
    }

    #[test]
    fn a_missing_capture_fails_the_whole_step() {
        let mut c = Context::new(Builtins::new("r1", "p-", "https://h"));
        c.set_var("domain", "example.com");
        let err = render_step(&step(), &mut c).expect_err("missing");
        assert_eq!(
            err,
            RenderError::Missing {
                name: "user_id".into()
            }
        );
    }

    #[test]
    fn renders_capture_sources() {
        let mut c = ctx();
        let src = CaptureSource::Body("/Resources/{{user_id}}".into());
        assert_eq!(
            render_capture(&src, &mut c).expect("renders"),
            CaptureSource::Body("/Resources/u-7".into())
        );
        let src = CaptureSource::Header("Location".into());
        assert_eq!(render_capture(&src, &mut c).expect("renders"), src);
    }
}
