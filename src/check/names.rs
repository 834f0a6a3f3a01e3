//! The catalogue of named checks a scenario can ask for in `expect.checks`.
//!
//! The loader validates names against this list (with "did you mean" hints); `check::named`
//! implements each one. Adding a check means a row here and an arm there.

/// A named check: its name and what it verifies, for `--help`, docs and hints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckInfo {
    pub name: &'static str,
    pub description: &'static str,
}

/// Every named check, in documentation order.
pub const KNOWN: &[CheckInfo] = &[
    CheckInfo {
        name: "scim.list-response",
        description: "a ListResponse: its schemas URN, an integer totalResults, a Resources array consistent with it",
    },
    CheckInfo {
        name: "scim.resource",
        description: "a resource: a non-empty string id, a schemas array, meta.resourceType when meta is present",
    },
    CheckInfo {
        name: "scim.error",
        description: "a SCIM Error: the Error URN, status as a string equal to the HTTP status, a detail",
    },
    CheckInfo {
        name: "scim.content-type",
        description: "Content-Type application/scim+json (application/json is tolerated with a warning)",
    },
    CheckInfo {
        name: "scim.location",
        description: "a 201 carries a Location header equal to meta.location",
    },
    CheckInfo {
        name: "entra.empty-list",
        description: "an empty ListResponse: totalResults 0 and no Resources (never 404, never 400)",
    },
    CheckInfo {
        name: "entra.single-match",
        description: "exactly one resource with an id, totalResults 1",
    },
    CheckInfo {
        name: "entra.members-excluded",
        description: "no members attribute in the returned group(s), as excludedAttributes=members asks",
    },
    CheckInfo {
        name: "entra.manager-complex",
        description: "the enterprise manager rendered as an object {\"value\": ...}, never a bare string",
    },
    CheckInfo {
        name: "entra.active-boolean",
        description: "active is a JSON boolean in every returned user, not a string such as \"False\"",
    },
    CheckInfo {
        name: "entra.no-nulls",
        description: "no JSON null anywhere in the body",
    },
    CheckInfo {
        name: "entra.same-resource",
        description: "a 2xx answer with a body to a write of one resource is that resource: its id is the id in the request path",
    },
];

/// Looks a check up by exact name.
pub fn lookup(name: &str) -> Option<&'static CheckInfo> {
    KNOWN.iter().find(|c| c.name == name)
}
