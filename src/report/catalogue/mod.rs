//! The catalogue document (`docs/catalogue.md`), generated from the scenarios.
//!
//! One row per scenario: what Entra sends, what a compatible endpoint answers, and what the
//! admin finds in the provisioning logs when it does not, all read from the scenario files
//! (the steps that are Entra traffic, their expectations, the verification reads and the
//! impacts they state). Then the fact sheet's §11 behaviours with the scenarios that replay
//! each, or why none does. `scimreplay list --markdown` prints it; a test keeps the committed
//! file equal to it.

mod behaviours;
mod warnings;

pub use behaviours::{BEHAVIOURS, Behaviour};

use crate::check::describe_assertion;
use crate::scenario::model::{Method, Scenario, Severity, Step};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Requests shown per scenario before "and N more".
const MAX_REQUESTS: usize = 4;
/// Statuses shown per scenario (one per Entra request).
const MAX_STATUSES: usize = 8;
/// Read-back assertions shown per scenario.
const MAX_READS: usize = 3;
/// Longest JSON value shown inside a request.
const MAX_VALUE: usize = 48;

const HEADER: &str = "\
# The scenario catalogue

<!-- Generated from scenarios/ by `scimreplay list --markdown`; do not edit by hand.
     Regenerate: cargo run -- list --markdown > docs/catalogue.md -->

Every scenario replays one Entra provisioning behaviour as Entra sends it. In the table,
*Entra sends* lists the requests that are Entra's traffic (set-up requests and the harness's
own verification reads are left out; `{alice_id}` is an id the endpoint returned earlier,
`<guid>` a fresh random guid, names carry the run prefix, left out here). *A compatible
endpoint* gives the statuses of those requests in order, the named checks that must hold,
and what the verification reads must show. *When it does not* is what the admin finds in
Entra's provisioning logs. `scimreplay show NAME` prints a scenario's requests in full.
";

const CONVENTIONS: &str = "\
## Conventions every scenario follows

- Names of created objects carry the run prefix plus a short scenario key (`udsd.alice@…`),
  so scenarios running in parallel never collide.
- Every PATCH Entra relies on is followed by a read (GET by id, and/or the match query) whose
  assertions carry a \"silent drift\" impact: a server that answers 2xx and drops the change
  is caught.
- Group verification reads use `GET /Groups/{id}` without `excludedAttributes` to see
  members; these steps say so in their note (they are the harness's checks, not Entra
  traffic).
- Statuses accept 200 and 204 wherever Entra does; checks never assert ids, timestamps or
  optional attributes a compatible server may choose.
- Setup writes in `any` scenarios (members added, a manager linked before the step under
  test) use the RFC form (lowercase ops, object values), so only the behaviour under test
  carries a dialect-specific shape.
- Checks on inferred traffic, legacy shapes, gallery-only endpoints and Validator preview
  tests are warnings (`severity: warn`).
- Every scenario fails against at least one defective endpoint
  (`tests/integration/proofs/`, expected findings in `tests/proofs/`).
";

const BEYOND: &str = "\
## Beyond §11, and what is not replayed

- Lifecycle sequences (§5) and provision on demand (§5.4): the `lifecycle-*` and
  `on-demand-*` scenarios.
- Quirks of §3.3 not numbered in §11: `[primary eq true]` paths
  (`user-patch-primary-filtered-path`), custom extension keys absent from `schemas`
  (`user-create-custom-extension`), the `ADSCIMVersion` header (`connection-probe-externalid`),
  the capitalised `Formatted` sub-attribute of the default mapping
  (`user-patch-address-parts-default`), phone numbers stored exactly as sent
  (`user-patch-attributes-default`), the legacy manager check query
  (`manager-legacy-check-query`), Validator preview multi-operation tests
  (`user-patch-multiple-operations`).
- **Not replayed**: pre-2018 `customappsso` traffic (`/scim` root, `.`-separated extension
  paths): no current tenant sends it. OAuth token exchanges (§8): they happen outside the
  SCIM endpoint. `/Bulk`: Entra does not use it.
";

/// The whole document for these scenarios (the built-in catalogue, for `docs/catalogue.md`).
pub fn markdown(scenarios: &[Scenario]) -> String {
    let mut out = String::from(HEADER);
    let _ = writeln!(out, "\n## Scenarios ({})\n", scenarios.len());
    out.push_str(
        "| Scenario | Dialect | Entra sends | A compatible endpoint | When it does not |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for s in scenarios {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            s.name,
            s.dialect.as_str(),
            cell(&sends(s)),
            cell(&answers(s)),
            cell(&symptom(s)),
        );
    }
    out.push_str(&coverage(scenarios));
    out.push('\n');
    out.push_str(&warnings::section(scenarios));
    out.push('\n');
    out.push_str(BEYOND);
    out.push('\n');
    out.push_str(CONVENTIONS);
    out
}

/// A table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

/// Whether a step is the harness's set-up or verification rather than Entra's traffic.
fn is_harness(step: &Step) -> bool {
    let note = step.note.as_deref().unwrap_or_default();
    ["setup", "verify", "precondition"]
        .iter()
        .any(|p| note.starts_with(p))
}

fn entra_steps(s: &Scenario) -> Vec<&Step> {
    let steps: Vec<&Step> = s.steps.iter().filter(|st| !is_harness(st)).collect();
    if steps.is_empty() {
        s.steps.iter().collect()
    } else {
        steps
    }
}

/// A template as a reader should see it: variables filled in, the run prefix dropped,
/// captures as `{name}`, generated guids as `<guid>`.
fn display(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start + 2..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = rest[start + 2..start + 2 + len].trim();
        match name {
            "run.prefix" => {}
            "run.base" => out.push_str("{base}"),
            _ if name == "uuid" || name.starts_with("uuid.") => out.push_str("<guid>"),
            _ => match vars.get(name) {
                Some(value) => out.push_str(value),
                None => {
                    let _ = write!(out, "{{{name}}}");
                }
            },
        }
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max).collect();
    s.push('…');
    s
}

/// `PATCH /Users/{alice_id}: Replace active "False"` and the like, in backticks.
fn request_line(step: &Step, vars: &BTreeMap<String, String>) -> String {
    let req = &step.request;
    let mut line = format!("{} {}", req.method, req.path);
    if !req.query.is_empty() {
        let query: Vec<String> = req
            .query
            .iter()
            .map(|q| format!("{}={}", q.name, q.value))
            .collect();
        let _ = write!(line, "?{}", query.join("&"));
    }
    if req.method == Method::Patch {
        let ops = patch_ops(req.body.as_ref());
        if !ops.is_empty() {
            let _ = write!(line, ": {}", ops.join("; "));
        }
    }
    format!("`{}`", display(&line, vars).replace('`', "'"))
}

/// Each PatchOp operation as `op path value`.
fn patch_ops(body: Option<&Value>) -> Vec<String> {
    let get = |v: &Value, key: &str| {
        v.as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, v)| v.clone())
    };
    let ops = body.and_then(|b| get(b, "Operations"));
    let ops = ops.as_ref().and_then(Value::as_array);
    ops.into_iter()
        .flatten()
        .map(|op| {
            let mut parts = Vec::new();
            if let Some(Value::String(name)) = get(op, "op") {
                parts.push(name);
            }
            if let Some(Value::String(path)) = get(op, "path") {
                parts.push(path);
            }
            if let Some(value) = get(op, "value") {
                parts.push(cut(&value.to_string(), MAX_VALUE));
            }
            parts.join(" ")
        })
        .collect()
}

fn sends(s: &Scenario) -> String {
    let steps = entra_steps(s);
    let mut lines: Vec<String> = steps
        .iter()
        .take(MAX_REQUESTS)
        .map(|st| request_line(st, &s.vars))
        .collect();
    if steps.len() > MAX_REQUESTS {
        lines.push(format!("and {} more", steps.len() - MAX_REQUESTS));
    }
    lines.join("<br>")
}

fn statuses(step: &Step) -> String {
    if step.expect.status.is_empty() {
        return "any".to_string();
    }
    let codes: Vec<String> = step.expect.status.iter().map(u16::to_string).collect();
    codes.join("/")
}

/// Named checks that fail the run, except the shape checks every read has.
fn key_checks(s: &Scenario) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let generic = ["scim.resource", "scim.list-response"];
    s.steps
        .iter()
        .flat_map(|st| &st.expect.checks)
        .filter(|c| c.severity != Some(Severity::Warn) && !generic.contains(&c.name.as_str()))
        .filter(|c| seen.insert(c.name.clone()))
        .map(|c| format!("`{}`", c.name))
        .collect()
}

/// The verification reads' assertions that fail the run.
fn reads(s: &Scenario) -> Vec<String> {
    let verify = s
        .steps
        .iter()
        .filter(|st| st.note.as_deref().is_some_and(|n| n.starts_with("verify")));
    let mut seen = BTreeSet::new();
    verify
        .flat_map(|st| &st.expect.json)
        .filter(|a| a.severity == Severity::Fail)
        .map(|a| display(&describe_assertion(a), &s.vars))
        .filter(|text| seen.insert(text.clone()))
        .map(|text| format!("`{}`", text.replace('`', "'")))
        .collect()
}

fn answers(s: &Scenario) -> String {
    let codes: Vec<String> = entra_steps(s).iter().map(|st| statuses(st)).collect();
    let mut text = codes
        .iter()
        .take(MAX_STATUSES)
        .cloned()
        .collect::<Vec<_>>()
        .join(" → ");
    if codes.len() > MAX_STATUSES {
        text.push_str(" → …");
    }
    let checks = key_checks(s);
    if !checks.is_empty() {
        let _ = write!(text, "<br>checks: {}", checks.join(", "));
    }
    let reads = reads(s);
    if !reads.is_empty() {
        let shown: Vec<&str> = reads.iter().take(MAX_READS).map(String::as_str).collect();
        let _ = write!(text, "<br>reads back: {}", shown.join(", "));
        if reads.len() > MAX_READS {
            let _ = write!(text, " and {} more", reads.len() - MAX_READS);
        }
    }
    text
}

/// The first status impact of Entra's requests, then the first impact of a failing
/// read-back (or any other failing assertion).
fn symptom(s: &Scenario) -> String {
    let status = entra_steps(s)
        .into_iter()
        .filter_map(|st| st.expect.status_impact.clone())
        .next();
    let first_impact = |steps: Vec<&Step>| {
        steps
            .into_iter()
            .flat_map(|st| &st.expect.json)
            .filter(|a| a.severity == Severity::Fail)
            .find_map(|a| a.impact.clone())
    };
    let verify: Vec<&Step> = s
        .steps
        .iter()
        .filter(|st| st.note.as_deref().is_some_and(|n| n.starts_with("verify")))
        .collect();
    let read = first_impact(verify).or_else(|| first_impact(entra_steps(s)));
    let mut parts: Vec<String> = status.into_iter().collect();
    if let Some(read) = read.filter(|r| !parts.contains(r)) {
        parts.push(read);
    }
    if parts.is_empty() {
        return "only warnings: Entra is not known to fail".to_string();
    }
    parts.join("; or ")
}

/// The §11 table: each behaviour, the scenarios replaying it, notes or why it is declined.
fn coverage(scenarios: &[Scenario]) -> String {
    let mut claimed: BTreeMap<u32, Vec<&Scenario>> = BTreeMap::new();
    for s in scenarios {
        for n in s.behaviours.iter().filter_map(|b| behaviour_number(b)) {
            claimed.entry(n).or_default().push(s);
        }
    }
    let mut out = String::from(
        "\n## Fact sheet §11: every behaviour covered or declined\n\n\
         | # | Behaviour | Scenarios | Notes |\n| --- | --- | --- | --- |\n",
    );
    for b in &BEHAVIOURS {
        let names: Vec<String> = claimed
            .get(&b.number)
            .into_iter()
            .flatten()
            .map(|s| format!("`{}` ({})", s.name, s.dialect.as_str()))
            .collect();
        let (listed, note) = if names.is_empty() && b.declined.is_empty() {
            ("—".to_string(), "**No scenario replays this.**".to_string())
        } else if names.is_empty() {
            ("—".to_string(), format!("**Declined.** {}", b.declined))
        } else {
            (names.join(", "), b.note.to_string())
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            b.number,
            cell(b.title),
            cell(&listed),
            cell(&note)
        );
    }
    out
}

/// `"11.18"` → 18.
pub fn behaviour_number(reference: &str) -> Option<u32> {
    reference.strip_prefix("11.")?.parse().ok()
}

#[cfg(test)]
mod tests;
