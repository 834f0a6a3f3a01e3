//! Why each warning in the catalogue is a warning and not a failure.
//!
//! A check fails when what it catches makes Entra's request fail or the app silently drift
//! from Entra; it warns only when Entra tolerates the deviation or the evidence about Entra
//! is thin. Every built-in scenario with a `severity: warn` check or assertion has its
//! reason here, and the catalogue document shows them (a test holds the two together).

use crate::scenario::model::{Scenario, Severity};
use std::fmt::Write;

/// Reasons, by scenario name.
pub const REASONS: &[(&str, &str)] = &[
    (
        "auth-rejected-read",
        "The 401 status is what Entra acts on (quarantine, \"invalid credentials\"); the error body's shape is not read, so `scim.error` on it warns.",
    ),
    (
        "auth-rejected-write",
        "As for reads: Entra needs the 401, not a SCIM Error body.",
    ),
    (
        "connection-flag-query-param",
        "Whether Entra forwards `?aadOptscim062020` to the endpoint is not documented (§1.1): inferred traffic.",
    ),
    (
        "connection-probe-group",
        "A group probe at Test Connection is inferred, not documented (§2.1).",
    ),
    (
        "connection-probe-tolerance",
        "The browser-like `Accept` step is not Entra's traffic (Entra sends none, §1.3); the answer's media type is judged by Entra only loosely (`application/json` is tolerated).",
    ),
    (
        "connection-probe-username",
        "The repeated probe's media type: Entra is tolerant of `application/json` in practice (§1.5 documents only the requirement).",
    ),
    (
        "discovery-endpoints",
        "Discovery is read for gallery onboarding and `mappings discover` only; the provisioning cycle never calls it (§2.2). Run with `--strict` for a gallery app.",
    ),
    (
        "error-group-not-found",
        "Entra acts on the 404 status (InvalidAnchor); the media type of the error body is not read.",
    ),
    (
        "error-user-not-found",
        "As for groups: the 404 is what counts, not the error body's media type.",
    ),
    (
        "group-create-duplicate",
        "Entra does not re-query after a 409 and only echoes the body in the log (§4.1): `scimType` and the error shape help the admin but change nothing Entra does.",
    ),
    (
        "group-create-entra-shape",
        "The externalId echo, in the create answer and its read-back: Entra matches groups by displayName, so a group whose externalId drifts is still found.",
    ),
    (
        "group-create-other-shapes",
        "Postman and Validator shapes, not production traffic: the member given at create is a warning.",
    ),
    (
        "group-delete",
        "The 404 after a delete is what Entra needs; the error body's shape is not read.",
    ),
    (
        "group-get-by-id",
        "The 404 for an unknown id is what Entra needs; the error body's shape is not read.",
    ),
    (
        "lifecycle-hard-delete-recreate",
        "The 404 after the hard delete is required; its body's shape is not read.",
    ),
    (
        "manager-add-legacy-array",
        "Legacy documentation only (§2.3 U9): no current tenant is known to send the array form.",
    ),
    (
        "manager-in-create-body",
        "A bare-string manager in a POST is observed in one tracker, not documented: accepting it is a warning; rendering the manager as an object stays a failure.",
    ),
    (
        "manager-legacy-check-query",
        "A legacy check query of old Entra versions; current traffic does not send it.",
    ),
    (
        "pagination-list",
        "Entra's own provisioning never lists (§9); `itemsPerPage` and group paging are optional in Microsoft's validation. The filtered walk (`pagination-filtered-walk`) holds the paging contract itself to failures.",
    ),
    (
        "user-create-custom-extension",
        "A custom extension exists only where the app defines it: an app without it may drop the value.",
    ),
    (
        "user-create-duplicate",
        "As for groups: a 409 is what counts; `scimType`, the error shape and its media type are for the admin reading the log.",
    ),
    (
        "user-create-legacy-payload",
        "A legacy documentation example with explicit nulls; current Entra sends no nulls (§7.2).",
    ),
    (
        "user-create-string-booleans",
        "`primary` read back as a string: Entra does not compare `primary`, and only the Validator sends it as a string.",
    ),
    (
        "user-delete",
        "The 404 after the delete is required; its body's shape is not read.",
    ),
    (
        "user-filter-special-characters",
        "Only the double quote and backslash: Entra may never send them in a matching value (D-KNOWN). Plus tags and `&` fail.",
    ),
    (
        "user-get-by-id",
        "The read's media type (Entra tolerates `application/json`) and the 404 body's shape.",
    ),
    (
        "user-match-miss-create",
        "Entra does not read `Location` or insist on the media type of a 201 it can parse.",
    ),
    (
        "user-patch-attributes-flag",
        "A literal dotted or URN key left beside the resolved value is clutter Entra does not read; the missing resolved value fails.",
    ),
    (
        "user-patch-clear-values",
        "Whether a cleared value reads back absent or as an empty string; both stop the drift, and the old value must be gone (fail).",
    ),
    (
        "user-patch-multiple-operations",
        "Microsoft Validator preview tests, not production traffic.",
    ),
    (
        "user-patch-primary-filtered-path",
        "`[primary eq true]` paths come from the Validator in discover mode only (§3.3 item 6).",
    ),
    (
        "user-patch-roles-flag",
        "Roles are provisioned only with an app-role mapping; an app without roles may drop them.",
    ),
];

/// True when some check or assertion of the scenario is a warning.
pub fn has_warnings(s: &Scenario) -> bool {
    s.steps.iter().any(|step| {
        let checks = step.expect.checks.iter();
        let json = step.expect.json.iter();
        checks
            .filter_map(|c| c.severity)
            .chain(json.map(|a| a.severity))
            .any(|v| v == Severity::Warn)
    })
}

fn warned_steps(s: &Scenario) -> Vec<&str> {
    let steps = s.steps.iter().filter(|step| {
        let check = step
            .expect
            .checks
            .iter()
            .any(|c| c.severity == Some(Severity::Warn));
        check
            || step
                .expect
                .json
                .iter()
                .any(|a| a.severity == Severity::Warn)
    });
    steps.map(|step| step.id.as_str()).collect()
}

/// The document's section on warnings: the rule, then each scenario's warned steps and why.
pub fn section(scenarios: &[Scenario]) -> String {
    let mut out = String::from(
        "## Warnings, and why each is one\n\n\
         A check fails when what it catches makes Entra's request fail or the app drift \
         silently from Entra (Entra re-sends the change every cycle). It warns only when \
         Entra tolerates the deviation or the evidence about Entra's traffic is thin; \
         `--strict` makes warnings fail. Named checks warn on their own for RFC deviations \
         Entra tolerates (`application/json` instead of `application/scim+json`, a missing \
         `Location`, a missing `meta.resourceType` or error `detail`, empty `members` \
         despite `excludedAttributes`).\n\n\
         | Scenario | Steps with warnings | Why they are warnings |\n| --- | --- | --- |\n",
    );
    for s in scenarios.iter().filter(|s| has_warnings(s)) {
        let why = REASONS
            .iter()
            .find(|(name, _)| *name == s.name)
            .map_or("(no reason recorded)", |(_, why)| why);
        let steps = warned_steps(s).join("`, `");
        let _ = writeln!(out, "| `{}` | `{steps}` | {why} |", s.name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin::load_builtin;

    #[test]
    fn every_builtin_warning_has_a_reason_and_every_reason_a_warning() {
        let catalogue = load_builtin().expect("catalogue");
        for s in catalogue.iter().filter(|s| has_warnings(s)) {
            assert!(
                REASONS.iter().any(|(name, _)| *name == s.name),
                "{} has warnings but no reason in REASONS",
                s.name
            );
        }
        for (name, _) in REASONS {
            let s = catalogue.iter().find(|s| s.name == *name);
            assert!(
                s.is_some_and(has_warnings),
                "{name} has a reason but no warning"
            );
        }
    }
}
