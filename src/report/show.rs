//! `scimreplay show NAME`: a scenario's requests as they would be sent, with its variables.
//!
//! Values only known at run time are shown as placeholders: the run prefix as an example,
//! captures as `<name from step>`, the Tenant URL as `<tenant-url>` unless one is given.

use super::styles::Styles;
use crate::check::describe_assertion;
use crate::http::Target;
use crate::http::client::encode_query;
use crate::scenario::model::{AuthMode, Scenario, Step};
use crate::scim::ENTRA_REQUEST_CONTENT_TYPE;
use crate::template::{Builtins, Context, render_step};
use std::fmt::Write;

/// The example prefix shown in place of the per-run one.
const EXAMPLE_PREFIX: &str = "scimreplay-3f9a1c-";

/// Renders one scenario for `show`.
/// `profile` names the mapping profile its `entra` steps were rendered for.
pub fn render(
    scenario: &Scenario,
    target: Option<&Target>,
    profile: &str,
    styles: Styles,
) -> String {
    let base = target.map_or_else(|| "<tenant-url>".to_string(), |t| t.base().to_string());
    let mut ctx = Context::for_scenario(Builtins::new("<run-id>", EXAMPLE_PREFIX, &base), scenario)
        .unwrap_or_else(|_| Context::new(Builtins::new("<run-id>", EXAMPLE_PREFIX, &base)));
    for step in &scenario.steps {
        for name in step.capture.keys() {
            ctx.set_capture(name.clone(), format!("<{name} from step {}>", step.id));
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  ({})  {}",
        styles.bold(&scenario.name),
        scenario.dialect,
        scenario.tags.join(", ")
    );
    let _ = writeln!(out, "  {}", scenario.summary);
    if let Some(description) = &scenario.description {
        for line in wrap(description, 92) {
            let _ = writeln!(out, "  {}", styles.dim(&line));
        }
    }
    let _ = writeln!(out, "  file: {}", styles.accent(&scenario.origin.file));
    let _ = writeln!(
        out,
        "  run.prefix: {EXAMPLE_PREFIX} (an example; unique per run)"
    );
    if scenario
        .source_steps
        .iter()
        .any(|s| matches!(s, crate::scenario::model::SourceStep::Entra(_)))
    {
        let _ = writeln!(
            out,
            "  mappings: {profile} (entra steps as Entra sends them for this profile; --mappings FILE)"
        );
    }
    for (name, value) in &scenario.vars {
        let shown = ctx
            .vars()
            .get(name)
            .cloned()
            .unwrap_or_else(|| value.clone());
        let _ = writeln!(
            out,
            "  var {name} = {shown}   (override with --var {name}=...)"
        );
    }
    for (n, step) in scenario.steps.iter().enumerate() {
        let _ = writeln!(out);
        step_block(&mut out, n + 1, step, &base, &mut ctx, styles);
    }
    let _ = writeln!(out);
    out
}

fn step_block(
    out: &mut String,
    n: usize,
    step: &Step,
    base: &str,
    ctx: &mut Context,
    styles: Styles,
) {
    let note = step
        .note
        .as_deref()
        .map(|n| format!(" — {n}"))
        .unwrap_or_default();
    let _ = writeln!(out, "  {n}. {}{note}", styles.bold(&step.id));
    let (spec, expect) = match render_step(step, ctx) {
        Ok(rendered) => rendered,
        Err(e) => {
            let _ = writeln!(out, "     (cannot render: {e})");
            return;
        }
    };
    let mut url = format!("{}/{}", base, spec.path.trim_start_matches('/'));
    if !spec.query.is_empty() {
        let pairs: Vec<(String, String)> = spec
            .query
            .iter()
            .map(|q| (q.name.clone(), q.value.clone()))
            .collect();
        url.push('?');
        url.push_str(&encode_query(&pairs, spec.query_style));
    }
    let _ = writeln!(out, "     {} {}", styles.bold(spec.method.as_str()), url);
    match spec.auth {
        AuthMode::Token => {
            let _ = writeln!(out, "     Authorization: Bearer $SCIMREPLAY_TOKEN");
        }
        AuthMode::Invalid => {
            let _ = writeln!(
                out,
                "     Authorization: Bearer <a deliberately wrong token>"
            );
        }
        AuthMode::None => {
            let _ = writeln!(out, "     (no Authorization header)");
        }
    }
    let custom_type = spec
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("content-type"));
    if spec.body.is_some() && !custom_type {
        let _ = writeln!(out, "     Content-Type: {ENTRA_REQUEST_CONTENT_TYPE}");
    }
    for (name, value) in &spec.headers {
        let _ = writeln!(out, "     {name}: {value}");
    }
    if let Some(body) = &spec.body {
        let pretty = serde_json::to_string_pretty(body).unwrap_or_default();
        for line in pretty.lines() {
            let _ = writeln!(out, "     {line}");
        }
    }
    let mut expects: Vec<String> = Vec::new();
    if !expect.status.is_empty() {
        let codes: Vec<String> = expect.status.iter().map(u16::to_string).collect();
        expects.push(format!("status {}", codes.join(" or ")));
    }
    expects.extend(expect.checks.iter().map(|c| c.name.clone()));
    expects.extend(expect.json.iter().map(describe_assertion));
    if !expects.is_empty() {
        let _ = writeln!(
            out,
            "     {} {}",
            styles.dim("expect:"),
            expects.join(" · ")
        );
    }
    for (name, source) in &step.capture {
        let _ = writeln!(out, "     {} {name} ← {source}", styles.dim("capture:"));
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::parse_scenario;

    #[test]
    fn shows_requests_with_placeholders_for_captures() {
        let source = r#"{"name": "s", "summary": "sum", "dialect": "default", "tags": ["users"],
          "vars": {"domain": "example.com"},
          "steps": [
            {"id": "create", "request": {"method": "POST", "path": "/Users",
              "body": {"userName": "{{run.prefix}}alice@{{domain}}"}},
             "expect": {"status": 201, "checks": ["scim.resource"]}, "capture": {"alice": "/id"}},
            {"id": "find", "request": {"method": "GET", "path": "/Users/{{alice}}",
              "query": {"excludedAttributes": "members"}}, "expect": {"status": 200}}]}"#;
        let scenario = parse_scenario("s.json", source, false).unwrap();
        let target = Target::parse("https://api.contoso.com/scim/").unwrap();
        let text = render(&scenario, Some(&target), "default", Styles::plain());
        assert!(
            text.contains("POST https://api.contoso.com/scim/Users"),
            "{text}"
        );
        assert!(
            text.contains("\"userName\": \"scimreplay-3f9a1c-alice@example.com\""),
            "{text}"
        );
        assert!(text.contains("GET https://api.contoso.com/scim/Users/<alice from step create>?excludedAttributes=members"), "{text}");
        assert!(
            text.contains("expect: status 201 · scim.resource"),
            "{text}"
        );
        assert!(text.contains("var domain = example.com"), "{text}");
        assert!(text.contains("Bearer $SCIMREPLAY_TOKEN"));
    }
}
