//! Causes: what many failed steps have in common, said once.
//!
//! A failed step's *signature* is what was sent (method, resource, body shape), what came back
//! (status, `scimType`, the error detail with ids, names and uuids normalized) and which check
//! failed first. Steps with one signature share one [`Cause`]; its id is derived from the
//! signature, so it is the same in every reporter and from one run to the next.

use crate::check::outcome::CheckOutcome;
use crate::http::exchange::{Exchange, REDACTED, SentRequest};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::LazyLock;

/// How much a cause costs an Entra tenant. Ordered from most to least serious.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rank {
    /// Blocks Test Connection or quarantines the provisioning job.
    Connection,
    /// Provisioning of an object fails (and is retried in later cycles).
    ObjectFails,
    /// Entra logs a success while the app holds something else.
    SilentDrift,
    /// An RFC deviation Entra tolerates.
    Warning,
}

impl Rank {
    pub fn label(self) -> &'static str {
        match self {
            Rank::Connection => "blocks Test Connection or quarantines the job",
            Rank::ObjectFails => "provisioning of the object fails and is retried",
            Rank::SilentDrift => "silent drift",
            Rank::Warning => "warning",
        }
    }
}

/// A step of a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepRef {
    pub scenario: String,
    pub step: String,
}

/// One root cause: a signature, what it means for Entra, and the steps it explains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    /// `c-` and 8 hex digits of the signature's hash.
    pub id: String,
    pub rank: Rank,
    /// What Entra sends: method, resource and body shape.
    pub sent: String,
    /// What the endpoint answers: status, `scimType`, normalized detail (or the fault).
    pub answered: String,
    /// The first failed check, and what it expected and got in the example.
    pub check: String,
    pub expected: String,
    pub actual: String,
    /// The Entra impact of the example's first failed check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    /// The provisioning-log code the impact names, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_code: Option<String>,
    /// The failed steps with this signature; the first is the example.
    pub failures: Vec<StepRef>,
    /// Steps that failed or were skipped because one of these failed.
    #[serde(default)]
    pub consequences: Vec<StepRef>,
    /// Distinct scenarios among the failures and consequences.
    pub scenarios: usize,
    /// Every scenario it appeared in passed when run again alone: it shows only under
    /// concurrency (Entra does send requests concurrently, so it stays a finding).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub only_under_concurrency: bool,
}

impl Cause {
    /// The example step (the first failure).
    pub fn example(&self) -> Option<&StepRef> {
        self.failures.first()
    }
}

/// The signature of a failed step, and its cause id.
///
/// `sent`, `answered` and `check` describe the example; `key` is what failures must share to
/// be one cause. When the endpoint explained a refusal in words (an error status with a
/// detail or `scimType`), those words name the defect: every request of that method it
/// answered so is one cause, whatever the body shape or resource (a PATCH op it does not
/// know is refused for every attribute alike). Otherwise the key is the method, the
/// resource and the failed check, with ids, run names and values normalized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub sent: String,
    pub answered: String,
    pub check: String,
    pub key: String,
}

impl Signature {
    /// The signature of an exchange whose first failed check is `check` (`None`: a fault).
    pub fn of(exchange: Option<&Exchange>, check: Option<&CheckOutcome>) -> Signature {
        Signature {
            sent: exchange.map_or_else(|| "nothing sent".into(), |e| sent_shape(&e.request)),
            answered: exchange.map_or_else(|| "no answer".into(), answered_shape),
            check: check.map_or_else(|| "transport".into(), |c| c.check.clone()),
            key: key(exchange, check),
        }
    }

    /// `c-` and 8 hex digits of FNV-1a over the key: stable across runs and builds.
    pub fn id(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [&self.key] {
            for byte in part.bytes().chain(std::iter::once(0)) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("c-{:08x}", hash >> 32)
    }
}

/// What failures must share to be one cause (see [`Signature`]).
fn key(exchange: Option<&Exchange>, check: Option<&CheckOutcome>) -> String {
    let Some(exchange) = exchange else {
        return "nothing sent".into();
    };
    let request = &exchange.request;
    let token = if no_token(request) {
        " without token"
    } else {
        ""
    };
    let method = format!("{}{token}", request.method.to_ascii_uppercase());
    let Some(response) = &exchange.response else {
        return format!("{method} → {}", answered_shape(exchange));
    };
    let parsed = response.json_value();
    let json = parsed.as_deref();
    let scim_type = json
        .and_then(|j| j.get("scimType"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let detail = json
        .and_then(|j| j.get("detail"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if response.status >= 400 && !(scim_type.is_empty() && detail.trim().is_empty()) {
        return format!(
            "{method} → {} {} {}",
            response.status,
            coarse(scim_type),
            coarse(detail)
        );
    }
    let resource = resource_kind(&request.path);
    let check = check.map_or_else(|| "transport".to_string(), |c| coarse(&c.check));
    format!("{method} {resource} → {} {check}", response.status)
}

/// `Users`, `Groups`, `Schemas`…: the collection a path addresses.
fn resource_kind(path: &str) -> &str {
    let path = path.split('?').next().unwrap_or_default();
    path.split('/').find(|s| !s.is_empty()).unwrap_or("(root)")
}

static QUOTED_ANY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"`[^`]*`|"[^"]*"|'[^']*'"#).expect("valid regex"));

/// [`normalize_detail`] with quoted names and values replaced too: `unknown op `Add`` and
/// `unknown op `Replace`` are one defect.
fn coarse(text: &str) -> String {
    QUOTED_ANY
        .replace_all(&normalize_detail(text), "'…'")
        .into_owned()
}

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b")
        .expect("valid regex")
});
static PREFIXED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)scimreplay-[0-9a-f]{6}-[^\s'`,;)\]}]*").expect("valid regex")
});
static NUMBER_OR_HEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:[0-9a-f]*\d[0-9a-f]*){4,}\b").expect("valid regex"));
static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""[^"]*""#).expect("valid regex"));

/// `text` with the parts that differ per object replaced by placeholders.
pub fn normalize_detail(text: &str) -> String {
    let text = PREFIXED.replace_all(text, "[name]");
    let text = UUID.replace_all(&text, "[uuid]");
    let text = NUMBER_OR_HEX.replace_all(&text, "[n]");
    // Control and bidi characters from the endpoint are shown escaped, never passed on.
    let visible = crate::escape::text(&text);
    let one_line = visible.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(160).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}

/// `PATCH /Users/{id} ops[Replace active]`, `GET /Users?filter=userName eq "…"`,
/// `POST /Users {active, emails, userName}`.
pub fn sent_shape(request: &SentRequest) -> String {
    let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
    let mut segments: Vec<&str> = path.split('/').collect();
    for i in 1..segments.len() {
        let collection = ["Users", "Groups"]
            .iter()
            .any(|c| segments[i - 1].eq_ignore_ascii_case(c));
        if collection && !segments[i].is_empty() {
            segments[i] = "{id}";
        }
    }
    let mut out = format!("{} {}", request.method, segments.join("/"));
    let params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let decoded = percent_decode(p);
            QUOTED.replace_all(&decoded, "\"…\"").into_owned()
        })
        .collect();
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    if no_token(request) {
        out.push_str(" (without the token)");
    }
    if let Some(shape) = request
        .body
        .as_deref()
        .map(|b| body_shape(serde_json::from_str(b).ok().as_ref()))
    {
        out.push(' ');
        out.push_str(&shape);
    }
    out
}

/// True when the request did not carry the run's token.
fn no_token(request: &SentRequest) -> bool {
    !request.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("authorization") && value.ends_with(REDACTED)
    })
}

/// The keys of a resource, or the operations of a PatchOp.
fn body_shape(body: Option<&Value>) -> String {
    let Some(object) = body.and_then(Value::as_object) else {
        return "(body not a JSON object)".into();
    };
    if let Some(ops) = object.get("Operations").and_then(Value::as_array) {
        let ops: Vec<String> = ops.iter().map(operation_shape).collect();
        return format!("ops[{}]", ops.join(", "));
    }
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    format!("{{{}}}", keys.join(", "))
}

fn operation_shape(op: &Value) -> String {
    let name = op.get("op").and_then(Value::as_str).unwrap_or("?");
    match op.get("path").and_then(Value::as_str) {
        Some(path) => format!("{name} {}", QUOTED.replace_all(path, "\"…\"")),
        None => {
            let mut keys: Vec<&str> = op
                .get("value")
                .and_then(Value::as_object)
                .map(|v| v.keys().map(String::as_str).collect())
                .unwrap_or_default();
            keys.sort_unstable();
            format!("{name} {{{}}}", keys.join(", "))
        }
    }
}

/// `400 invalidValue: 'active' must be boolean`, `no answer: timeout`.
pub fn answered_shape(exchange: &Exchange) -> String {
    let Some(response) = &exchange.response else {
        return match &exchange.fault {
            Some(fault) => {
                let kind = serde_json::to_value(fault.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                format!("no answer: {kind}")
            }
            None => "no answer".into(),
        };
    };
    let mut out = response.status.to_string();
    let parsed = response.json_value();
    let json = parsed.as_deref();
    if let Some(scim_type) = json.and_then(|j| j.get("scimType")).and_then(Value::as_str) {
        out.push(' ');
        out.push_str(&normalize_detail(scim_type));
    }
    let detail = json
        .and_then(|j| j.get("detail"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            (response.status >= 400 && json.is_none() && !response.body.trim().is_empty())
                .then(|| response.body.clone())
        });
    if let Some(detail) = detail {
        out.push_str(": ");
        out.push_str(&normalize_detail(&detail));
    }
    out
}

/// `%22` and `+` in a query parameter, decoded (invalid escapes are kept as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (other, None) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

static LOG_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(SystemForCrossDomainIdentityManagement\w*|EncounteredQuarantineException|InternalServerError|NotImplemented|WebExceptionProtocolError|TooManyRequests|InsufficientRights|Timeout)\b",
    )
    .expect("valid regex")
});

/// The first provisioning-log code an impact text names.
pub fn log_code(impact: &str) -> Option<String> {
    LOG_CODE.find(impact).map(|m| m.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::exchange::ReceivedResponse;
    use serde_json::json;

    fn sent(method: &str, path: &str, body: Option<Value>) -> SentRequest {
        SentRequest {
            method: method.into(),
            url: format!("http://h{path}"),
            path: path.into(),
            headers: vec![("Authorization".into(), format!("Bearer {REDACTED}"))],
            body: body.map(|b| b.to_string()),
        }
    }

    fn answered(status: u16, json: Value) -> Exchange {
        Exchange {
            request: sent("POST", "/Users", None),
            response: Some(ReceivedResponse {
                status,
                headers: vec![],
                body: json.to_string(),
                json: Some(json),
                body_problem: None,
                truncated: false,
                elapsed_ms: 1,
            }),
            fault: None,
            retries: vec![],
            retry_stopped: None,
        }
    }

    #[test]
    fn what_was_sent_keeps_the_shape_and_drops_the_values() {
        let create = sent(
            "POST",
            "/Users",
            Some(json!({"userName": "x", "active": true, "emails": []})),
        );
        assert_eq!(
            sent_shape(&create),
            "POST /Users {active, emails, userName}"
        );
        let patch = sent(
            "PATCH",
            "/Groups/8f1c",
            Some(json!({"Operations": [
                {"op": "remove", "path": "members[value eq \"u-1\"]"},
                {"op": "Replace", "value": {"displayName": "n", "externalId": "e"}}]})),
        );
        assert_eq!(
            sent_shape(&patch),
            "PATCH /Groups/{id} ops[remove members[value eq \"…\"], Replace {displayName, externalId}]"
        );
        let query = sent(
            "GET",
            "/Users?filter=userName+eq+%22scimreplay-abc123-alice%22&count=1",
            None,
        );
        assert_eq!(
            sent_shape(&query),
            "GET /Users?filter=userName eq \"…\"&count=1"
        );
        let mut anonymous = sent("GET", "/Users/42", None);
        anonymous.headers.clear();
        assert_eq!(
            sent_shape(&anonymous),
            "GET /Users/{id} (without the token)"
        );
    }

    #[test]
    fn the_answer_is_normalized_so_one_defect_is_one_signature() {
        let a = answered(
            400,
            json!({"scimType": "invalidValue",
                   "detail": "user scimreplay-abc123-alice (id 5f0e8a2c-9d3b-4c1e-8a7f-1b2c3d4e5f60) rejected at 1723"}),
        );
        let b = answered(
            400,
            json!({"scimType": "invalidValue",
                   "detail": "user scimreplay-ffee00-bob (id 00000000-1111-2222-3333-444444444444) rejected at 99812"}),
        );
        assert_eq!(answered_shape(&a), answered_shape(&b));
        assert_eq!(
            answered_shape(&a),
            "400 invalidValue: user [name] (id [uuid]) rejected at [n]"
        );
        let other = answered(409, json!({"scimType": "uniqueness"}));
        assert_ne!(answered_shape(&a), answered_shape(&other));
    }

    #[test]
    fn ids_are_stable_and_differ_per_signature() {
        let one = Signature {
            sent: "POST /Users {userName}".into(),
            answered: "400".into(),
            check: "status".into(),
            key: "POST Users → 400 status".into(),
        };
        let mut two = one.clone();
        two.key = "GET Users → 200 json /active".into();
        assert_eq!(one.id(), one.clone().id());
        assert_ne!(one.id(), two.id());
        assert!(
            one.id().starts_with("c-") && one.id().len() == 10,
            "{}",
            one.id()
        );
    }

    #[test]
    fn log_codes_are_found_in_impact_texts() {
        assert_eq!(
            log_code("Entra logs InternalServerError and retries").as_deref(),
            Some("InternalServerError")
        );
        assert_eq!(log_code("nothing to see"), None);
    }
}
