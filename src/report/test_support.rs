//! A fixed `RunReport` that every reporter test renders: one scenario of each kind a
//! report must show (pass, fail with impact/diff/curl, transport error, skipped step,
//! warning, drift, new snapshot) and a cleanup that left an object behind.

use crate::check::outcome::CheckOutcome;
use crate::http::exchange::{Exchange, Fault, FaultKind, REDACTED, ReceivedResponse, SentRequest};
use crate::model::{
    CleanupReport, FORMAT_VERSION, LeftBehind, RunReport, ScenarioResult, SnapshotResult,
    SnapshotState, StepResult, StepStatus, Summary, Verdict,
};
use crate::report::curl::curl_command;
use crate::scenario::model::{Dialect, Severity};
use serde_json::{Value, json};

const BASE: &str = "https://scim.example.test/scim";
const PREFIX: &str = "scimreplay-7f3a2c-";

fn request(method: &str, path: &str, body: Option<Value>) -> SentRequest {
    let mut headers = vec![("Authorization".to_string(), format!("Bearer {REDACTED}"))];
    if body.is_some() {
        headers.push((
            "Content-Type".to_string(),
            "application/scim+json; charset=utf-8".to_string(),
        ));
    }
    SentRequest {
        method: method.to_string(),
        url: format!("{BASE}{path}"),
        path: path.to_string(),
        headers,
        body: body.map(|b| b.to_string()),
    }
}

fn response(status: u16, content_type: &str, body: Value, elapsed_ms: u64) -> ReceivedResponse {
    ReceivedResponse {
        status,
        headers: vec![("Content-Type".to_string(), content_type.to_string())],
        body: body.to_string(),
        json: Some(body),
        body_problem: None,
        truncated: false,
        elapsed_ms,
    }
}

fn check(
    name: &str,
    severity: Severity,
    passed: bool,
    expected: &str,
    actual: &str,
) -> CheckOutcome {
    CheckOutcome {
        check: name.to_string(),
        severity,
        passed,
        expected: expected.to_string(),
        actual: actual.to_string(),
        impact: None,
    }
}

fn step(id: &str, status: StepStatus, exchange: Option<Exchange>) -> StepResult {
    let curl = exchange.as_ref().map(|e| curl_command(&e.request));
    StepResult {
        id: id.to_string(),
        note: None,
        status,
        skipped_because: None,
        exchange,
        checks: vec![check("status", Severity::Fail, true, "200", "200")],
        snapshot_diff: None,
        curl,
        cause: None,
        consequence_of: None,
        fallback: None,
    }
}

fn exchange(request: SentRequest, response: ReceivedResponse) -> Exchange {
    Exchange {
        request,
        response: Some(response),
        fault: None,
        retries: Vec::new(),
        retry_stopped: None,
    }
}

fn user(id: &str, active: Value) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id,
        "userName": format!("{PREFIX}alice@example.com"),
        "active": active,
        "meta": { "resourceType": "User" }
    })
}

fn scenario(name: &str, dialect: Dialect, steps: Vec<StepResult>, ms: u64) -> ScenarioResult {
    ScenarioResult {
        name: name.to_string(),
        summary: format!("summary of {name}"),
        dialect,
        file: format!("scenarios/{name}.json"),
        tags: vec!["users".to_string()],
        steps,
        snapshot: SnapshotResult {
            state: SnapshotState::Matched,
            path: Some(format!("snapshots/reference/{name}.snap")),
            pending: None,
        },
        duration_ms: ms,
        rerun: None,
    }
}

/// Every step passes.
fn passing() -> ScenarioResult {
    let get = |id: &str| {
        step(
            id,
            StepStatus::Passed,
            Some(exchange(
                request("GET", "/Users/u1", None),
                response(200, "application/scim+json", user("u1", json!(true)), 4),
            )),
        )
    };
    scenario(
        "user-disable-default",
        Dialect::Default,
        vec![get("create"), get("disable"), get("verify")],
        12,
    )
}

/// A failing create (status, JSON assertion with impact, a warning), its snapshot diff,
/// and a later step skipped for want of the capture.
fn failing() -> ScenarioResult {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("{PREFIX}o'brien@example.com"),
        "active": "True"
    });
    let answer = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": 400,
        "detail": "active must be a boolean"
    });
    let mut create = step(
        "create",
        StepStatus::Failed,
        Some(exchange(
            request("POST", "/Users", Some(body)),
            response(400, "application/json", answer, 31),
        )),
    );
    create.note = Some("Entra sends active as the string \"True\" in the default dialect".into());
    let mut status = check("status", Severity::Fail, false, "201", "400");
    status.impact = Some("the user is not created; the provisioning log shows a 400 failure and Entra retries every cycle".into());
    let mut error = check(
        "scim.error",
        Severity::Fail,
        false,
        "status as a string, \"400\"",
        "status as a number, 400",
    );
    error.impact = Some("Entra cannot read the error; the log shows SystemForCrossDomainIdentityManagementServiceIncompatible".into());
    let ctype = check(
        "scim.content-type",
        Severity::Warn,
        false,
        "application/scim+json",
        "application/json",
    );
    create.checks = vec![status, error, ctype];
    create.snapshot_diff =
        Some("@@ -1,4 +1,4 @@\n POST [base]/Users\n-201 Created\n+400 Bad Request\n {\n".into());
    let mut verify = step("verify", StepStatus::Skipped, None);
    verify.checks.clear();
    verify.skipped_because = Some("needs `user_id`, which step `create` did not capture".into());
    let mut s = scenario(
        "user-create-string-active",
        Dialect::Any,
        vec![create, verify],
        40,
    );
    s.snapshot = SnapshotResult {
        state: SnapshotState::Mismatch,
        path: Some("snapshots/reference/user-create-string-active.snap".into()),
        pending: Some("snapshots/reference/user-create-string-active.snap.new".into()),
    };
    s
}

/// Nothing answered.
fn transport_error() -> ScenarioResult {
    let mut get = step("list", StepStatus::Errored, None);
    get.checks = vec![check(
        "transport",
        Severity::Fail,
        false,
        "an HTTP response",
        "connection refused",
    )];
    let req = request(
        "GET",
        "/Groups?excludedAttributes=members&filter=displayName%20eq%20%22a%22",
        None,
    );
    get.curl = Some(curl_command(&req));
    get.exchange = Some(Exchange {
        request: req,
        response: None,
        fault: Some(Fault {
            kind: FaultKind::Connect,
            message: "connection refused by scim.example.test:443".into(),
        }),
        retries: Vec::new(),
        retry_stopped: None,
    });
    let mut s = scenario(
        "group-filter-by-name",
        Dialect::AadOptscim062020,
        vec![get],
        3,
    );
    s.snapshot.state = SnapshotState::Skipped;
    s
}

/// A tolerated deviation and a snapshot written for the first time.
fn warning() -> ScenarioResult {
    let mut list = step(
        "list",
        StepStatus::Warned,
        Some(exchange(
            request("GET", "/Users?filter=userName%20eq%20%22nobody%22", None),
            response(
                200,
                "application/json",
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}),
                7,
            ),
        )),
    );
    list.checks.push(check(
        "scim.content-type",
        Severity::Warn,
        false,
        "application/scim+json",
        "application/json",
    ));
    let mut s = scenario("user-filter-empty", Dialect::Any, vec![list], 9);
    s.snapshot.state = SnapshotState::New;
    s
}

/// Checks pass, the answer differs from the baseline.
fn drift() -> ScenarioResult {
    let mut get = step(
        "get",
        StepStatus::Drift,
        Some(exchange(
            request("GET", "/Users/u2", None),
            response(200, "application/scim+json", user("u2", json!(false)), 5),
        )),
    );
    get.snapshot_diff = Some("@@ -3 +3 @@\n-  \"active\": true,\n+  \"active\": false,\n".into());
    let mut s = scenario("user-get-after-disable", Dialect::Default, vec![get], 8);
    s.snapshot.state = SnapshotState::Mismatch;
    s.snapshot.pending = Some("snapshots/reference/user-get-after-disable.snap.new".into());
    s
}

/// The fixed report: five scenarios and a cleanup that left one object behind.
pub(crate) fn sample_report() -> RunReport {
    let scenarios = vec![passing(), failing(), transport_error(), warning(), drift()];
    let summary = Summary::of(&scenarios);
    let mut report = RunReport {
        format_version: FORMAT_VERSION,
        tool: "scimreplay 0.1.0".into(),
        run_id: "7f3a2c".into(),
        prefix: PREFIX.into(),
        target: BASE.into(),
        baseline: "reference".into(),
        started_at: "2026-01-02T03:04:05Z".into(),
        duration_ms: 1_934,
        verdict: Verdict::Passed,
        preflight: None,
        causes: Vec::new(),
        mappings: None,
        partition: None,
        scenarios,
        cleanup: CleanupReport {
            ledger: ".scimreplay/ledger 7f3a2c.json".into(),
            target: BASE.into(),
            deleted: vec!["/Users/u1".into(), "/Users/u2".into()],
            already_gone: vec!["/Users/u3".into()],
            left_behind: vec![LeftBehind {
                path: "/Groups/g9".into(),
                reason: "DELETE answered 500".into(),
            }],
            interrupted: false,
        },
        summary,
    };
    report.conclude();
    report
}
