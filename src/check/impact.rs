//! What an admin would see in Entra's provisioning logs, per status code and per finding.
//!
//! Source: the fact sheet `entra-provisioning-behavior.md` §4.1 (status → reaction → log
//! code). Where the sheet marks a mapping as inferred or undocumented, the text says so, so a
//! reader never takes a guess for a documented behaviour.

use super::render::excerpt;

/// Log code for a 2xx answer Entra cannot parse or use.
pub const SERVICE_INCOMPATIBLE: &str = "SystemForCrossDomainIdentityManagementServiceIncompatible";
/// Log code for members returned despite `excludedAttributes=members`, or several resources
/// where one was expected.
pub const MULTIPLE_ENTRIES: &str =
    "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse";
/// Log code of a 401 (the job is quarantined).
pub const CREDENTIAL_FAILURE: &str =
    "SystemForCrossDomainIdentityManagementCredentialValidationFailure";

/// What a request was, as far as the status impact cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// A GET on a collection or with `filter=`: Entra's matching query.
    Query,
    /// A GET on one object by id.
    Read,
    Create,
    Update,
    Delete,
    Other,
}

impl RequestKind {
    /// Classifies a request from its method and path-with-query (relative to the Tenant URL).
    pub fn of(method: &str, path: &str) -> RequestKind {
        let (resource, query) = path.split_once('?').unwrap_or((path, ""));
        let last = resource
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        let collection = ["Users", "Groups"]
            .iter()
            .any(|c| last.eq_ignore_ascii_case(c));
        let filtered = query.split('&').any(|p| {
            p.split('=')
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case("filter"))
        });
        match method.to_ascii_uppercase().as_str() {
            "GET" if collection || filtered => RequestKind::Query,
            "GET" => RequestKind::Read,
            "POST" => RequestKind::Create,
            "PATCH" | "PUT" => RequestKind::Update,
            "DELETE" => RequestKind::Delete,
            _ => RequestKind::Other,
        }
    }
}

/// The impact of answering `actual` where the step expected one of `expected`.
pub fn status_impact(kind: RequestKind, actual: u16, expected: &[u16]) -> String {
    match actual {
        200..=299 => unexpected_success(kind, actual, expected),
        300..=399 => format!(
            "Entra's handling of redirects is not documented (fact sheet §10): if it does not \
             follow the {actual}, the operation fails and is retried in later cycles [inferred]"
        ),
        400..=499 => client_error(kind, actual),
        500 => "Entra logs InternalServerError and retries the object about 40 minutes later"
            .to_string(),
        501 => "Entra logs NotImplemented: the operation fails".to_string(),
        502..=599 => format!(
            "Entra retries the object in later cycles; the log code for {actual} is not \
             documented (InternalServerError is the one documented, for 500) [inferred]"
        ),
        _ => format!("{actual} is not a final HTTP status Entra can act on [inferred]"),
    }
}

fn unexpected_success(kind: RequestKind, actual: u16, expected: &[u16]) -> String {
    let expected_error = !expected.is_empty() && expected.iter().all(|s| *s >= 400);
    if expected_error && expected.contains(&401) {
        return format!(
            "security bug: the endpoint answered {actual} to a request without valid \
             credentials; Entra always sends its token, but anyone who reaches the endpoint \
             can read or change identities"
        );
    }
    if expected_error && expected.contains(&409) && kind == RequestKind::Create {
        return "the endpoint accepted a duplicate: the app ends up with two accounts for one \
                person, silently (Entra's log shows a successful create)"
            .to_string();
    }
    if expected_error && expected.contains(&404) {
        return "the endpoint still serves an object that is gone or never existed: Entra \
                keeps a link to something that should not exist, silently"
            .to_string();
    }
    if expected_error {
        return format!(
            "the endpoint accepted ({actual}) what a compatible endpoint rejects: Entra logs a \
             success while the app holds data Entra did not mean to write"
        );
    }
    if actual == 204
        && matches!(
            kind,
            RequestKind::Query | RequestKind::Read | RequestKind::Create
        )
    {
        return format!(
            "Entra logs {SERVICE_INCOMPATIBLE}: a 204 carries no body where Entra reads a \
             resource or ListResponse"
        );
    }
    if kind == RequestKind::Create && expected.contains(&201) {
        return format!(
            "Entra's reaction to {actual} instead of 201 on create is not documented; the \
             Microsoft SCIM Validator fails its create test on anything but 201"
        );
    }
    format!(
        "a different success status than this step expects; the fact sheet does not document \
         how Entra treats {actual} here"
    )
}

fn client_error(kind: RequestKind, actual: u16) -> String {
    match (actual, kind) {
        (400, RequestKind::Query) => "Entra's matching query fails (a 400 for an object that \
             does not exist breaks Microsoft's documented requirement of 200 with an empty \
             ListResponse): Test Connection fails, or the object is never matched and fails \
             each cycle"
            .to_string(),
        (400, _) => "Entra logs a failure for this object with the response body echoed \
             (e.g. SchemaAttributeNotFound or MandatoryFieldsMissing, depending on the cause); \
             it is retried in later cycles"
            .to_string(),
        (401, _) => format!(
            "Entra quarantines the job (EncounteredQuarantineException, {CREDENTIAL_FAILURE}); \
             at Test Connection the admin sees \"You appear to have entered invalid credentials\""
        ),
        (403, _) => "Entra logs InsufficientRights / NotPermitted / Unauthorized: the token is \
             accepted but not allowed to do this; the object fails each cycle"
            .to_string(),
        (404, RequestKind::Query) => "Entra treats a 404 to a filter query as a SCIM \
             compliance failure and can quarantine the job regardless of counts (\"HTTP/404 Not \
             Found … rather than the expected HTTP/200 OK\"); an unknown object must yield 200 \
             with an empty ListResponse"
            .to_string(),
        (404, RequestKind::Delete) => "Entra's reaction to a 404 on DELETE is not documented \
             (fact sheet §10); it may log the delete as failed (InvalidAnchor) [inferred]"
            .to_string(),
        (404, _) => "Entra logs InvalidAnchor: the object it created or matched is gone, and it \
             stays failed until the admin restarts provisioning to re-match [inferred mapping]"
            .to_string(),
        (405, _) => "Entra logs MethodNotAllowed: the endpoint refuses this method here; the \
             object fails each cycle"
            .to_string(),
        (406 | 415, _) => "the endpoint rejects Entra's headers (Entra sends no JSON-specific \
             Accept and labels bodies application/scim+json; charset=utf-8): Test Connection or \
             every create and update fails [inferred]"
            .to_string(),
        (409, RequestKind::Create) => "Entra logs Conflict / EntryConflict and does not \
             re-query to link the existing object: retried each cycle, stuck until the data or \
             the matching is fixed"
            .to_string(),
        (409, _) => "Entra logs a failure with \"StatusCode: Conflict\" and the response \
             echoed (seen as SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering \
             on a refused disable); retried in later cycles"
            .to_string(),
        (429, _) => "Entra logs TooManyRequests and retries (sources disagree on whether it \
             honours Retry-After); sustained throttling builds up escrow and can quarantine the \
             job"
        .to_string(),
        _ => format!(
            "the object fails with the response echoed in the log and is retried in later \
             cycles; no log code is documented for {actual} [inferred from the 400 behaviour]"
        ),
    }
}

/// The impact of a body Entra needs as JSON but cannot use.
pub fn unusable_body(status: u16, problem: &str) -> String {
    if (200..300).contains(&status) {
        format!("Entra logs {SERVICE_INCOMPATIBLE}: it cannot read this response ({problem})")
    } else {
        format!(
            "Entra still reacts to the status {status}, but its log cannot show a SCIM error \
             detail, only the raw response ({problem}) [inferred]"
        )
    }
}

/// A one-line description of a body that is not usable JSON, with its first characters.
pub fn body_problem_text(problem: &str, body: &str) -> String {
    if body.trim().is_empty() {
        problem.to_string()
    } else {
        format!("{problem}; it starts {}", excerpt(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_kind_from_method_and_path() {
        use RequestKind::*;
        assert_eq!(
            RequestKind::of("GET", "/Users?filter=userName+eq+%22a%22"),
            Query
        );
        assert_eq!(RequestKind::of("GET", "/Groups"), Query);
        assert_eq!(
            RequestKind::of("GET", "/Users/u-1?excludedAttributes=members"),
            Read
        );
        assert_eq!(RequestKind::of("GET", "/x?Filter=a"), Query);
        assert_eq!(RequestKind::of("POST", "/Users"), Create);
        assert_eq!(RequestKind::of("patch", "/Users/u-1"), Update);
        assert_eq!(RequestKind::of("DELETE", "/Groups/g"), Delete);
        assert_eq!(RequestKind::of("HEAD", "/Users"), Other);
    }

    #[test]
    fn not_found_differs_between_query_and_id() {
        let q = status_impact(RequestKind::Query, 404, &[200]);
        assert!(q.contains("quarantine"), "{q}");
        let id = status_impact(RequestKind::Read, 404, &[200]);
        assert!(id.starts_with("Entra logs InvalidAnchor"), "{id}");
        let del = status_impact(RequestKind::Delete, 404, &[204]);
        assert!(del.contains("not documented"), "{del}");
    }

    #[test]
    fn success_where_an_error_was_expected() {
        let auth = status_impact(RequestKind::Query, 200, &[401]);
        assert!(auth.starts_with("security bug"), "{auth}");
        let dup = status_impact(RequestKind::Create, 201, &[409]);
        assert!(dup.contains("duplicate"), "{dup}");
        let gone = status_impact(RequestKind::Read, 200, &[404]);
        assert!(gone.contains("still serves"), "{gone}");
        let other = status_impact(RequestKind::Update, 200, &[400]);
        assert!(other.contains("rejects"), "{other}");
    }

    #[test]
    fn other_success_mismatches() {
        let create = status_impact(RequestKind::Create, 200, &[201]);
        assert!(create.contains("Validator"), "{create}");
        let empty = status_impact(RequestKind::Read, 204, &[200]);
        assert!(empty.contains(SERVICE_INCOMPATIBLE), "{empty}");
        let patch = status_impact(RequestKind::Update, 202, &[200, 204]);
        assert!(patch.contains("does not document"), "{patch}");
    }

    #[test]
    fn documented_codes_per_status() {
        let k = RequestKind::Update;
        assert!(status_impact(k, 401, &[200]).contains(CREDENTIAL_FAILURE));
        assert!(status_impact(k, 401, &[200]).contains("invalid credentials"));
        assert!(status_impact(k, 403, &[200]).contains("InsufficientRights"));
        assert!(status_impact(k, 405, &[200]).contains("MethodNotAllowed"));
        assert!(status_impact(RequestKind::Create, 409, &[201]).contains("EntryConflict"));
        assert!(status_impact(k, 409, &[200]).contains("StatusCode: Conflict"));
        assert!(status_impact(k, 429, &[200]).contains("TooManyRequests"));
        assert!(status_impact(k, 500, &[200]).contains("InternalServerError"));
        assert!(status_impact(k, 501, &[200]).contains("NotImplemented"));
        assert!(status_impact(k, 503, &[200]).contains("not documented"));
        assert!(status_impact(k, 302, &[200]).contains("redirects is not documented"));
        assert!(status_impact(k, 415, &[200]).contains("charset=utf-8"));
        assert!(status_impact(k, 418, &[200]).contains("no log code"));
        assert!(status_impact(RequestKind::Query, 400, &[200]).contains("Test Connection"));
        assert!(status_impact(k, 400, &[200]).contains("echoed"));
    }

    #[test]
    fn unusable_body_depends_on_status_class() {
        assert!(
            unusable_body(200, "html").starts_with(&format!("Entra logs {SERVICE_INCOMPATIBLE}"))
        );
        assert!(unusable_body(404, "html").contains("still reacts to the status 404"));
        assert_eq!(
            body_problem_text("the body is empty", ""),
            "the body is empty"
        );
        assert_eq!(
            body_problem_text("the body is HTML", "<html>\n<h1>Oops</h1>"),
            r#"the body is HTML; it starts "<html> <h1>Oops</h1>""#
        );
    }
}
