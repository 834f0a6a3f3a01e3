//! Building blocks of rendered steps: requests, expectations, assertions, and what Entra
//! does when a status is wrong (the `status_impact` of each kind of request).

use super::target::Resource;
use crate::scenario::model::{
    Expect, JsonAssertion, Method, NamedCheck, Predicate, QueryParam, QueryStyle, RequestSpec,
    Severity, Step,
};
use std::collections::BTreeMap;

pub(super) const LIST_IMPACT: &str = "Entra expects 200 with a ListResponse for every filter query: a 404 is a SCIM compliance failure (\"HTTP/404 Not Found … rather than the expected HTTP/200 OK\") that can quarantine the job; a 400 fails matching for this object every cycle";
pub(super) const PROBE_IMPACT: &str = "Test Connection fails with \"You appear to have entered invalid credentials\" and the admin cannot save the provisioning configuration; a 404 here quarantines the job as a SCIM compliance failure";
pub(super) const CREATE_IMPACT: &str = "Entra logs the Create as failed (the log echoes the response body) and retries the object in later cycles with growing back-off (escrow)";
pub(super) const READ_IMPACT: &str = "a linked object that cannot be read is logged as InvalidAnchor (fixed only by restarting provisioning); an unparseable answer as SystemForCrossDomainIdentityManagementServiceIncompatible";
pub(super) const UPDATE_IMPACT: &str = "Entra logs the Update as failed (the log echoes the response body) and retries it in later cycles; the app keeps the old values";
pub(super) const DELETE_IMPACT: &str =
    "Entra logs the Delete as failed and retries it in later cycles; the account stays in the app";
pub(super) const MANAGER_IMPACT: &str = "Entra logs the manager (reference) update as failed and retries it; reference failures do not count toward the 40 % escrow quarantine rule, so the missing link goes unnoticed";
pub(super) const MEMBERS_IMPACT: &str = "Entra logs the group's membership update as failed and retries it in later cycles; the app's group membership stays stale";
pub(super) const DRIFT: &str = "silent drift: the server accepted the request but does not return the value as sent, so Entra sees a difference every cycle (~40 min) and re-sends it forever";
pub(super) const MATCH_ID_IMPACT: &str =
    "the query found another object than the one Entra linked; Entra would update the wrong object";

pub(super) fn request(method: Method, path: String) -> RequestSpec {
    RequestSpec {
        method,
        path,
        query: Vec::new(),
        query_style: QueryStyle::Entra,
        headers: BTreeMap::new(),
        auth: Default::default(),
        body: None,
    }
}

pub(super) fn list_query(resource: Resource, filter: String) -> RequestSpec {
    let mut r = request(Method::Get, resource.endpoint().into());
    if resource == Resource::Group {
        r.query.push(QueryParam {
            name: "excludedAttributes".into(),
            value: "members".into(),
        });
    }
    r.query.push(QueryParam {
        name: "filter".into(),
        value: filter,
    });
    r
}

pub(super) fn expect(status: &[u16], impact: &str, checks: &[&str]) -> Expect {
    Expect {
        status: status.to_vec(),
        status_impact: Some(impact.into()),
        checks: checks
            .iter()
            .map(|c| NamedCheck {
                name: (*c).into(),
                severity: None,
            })
            .collect(),
        json: Vec::new(),
        mapped_schemas: None,
    }
}

pub(super) fn assertion(pointer: &str, predicate: Predicate, impact: &str) -> JsonAssertion {
    JsonAssertion {
        pointer: pointer.into(),
        predicate,
        severity: Severity::Fail,
        impact: Some(impact.into()),
    }
}

pub(super) fn step(id: String, note: &str, request: RequestSpec, expect: Expect) -> Step {
    Step {
        id,
        note: Some(note.into()),
        request,
        expect,
        capture: BTreeMap::new(),
        no_snapshot: false,
        fallback: None,
    }
}
