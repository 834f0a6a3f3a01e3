//! The scenario model: what one file of `scenarios/` says, after loading and validation.
//!
//! Strings in requests, captures and assertions are still templates (`{{run.prefix}}`);
//! the runner renders them step by step.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// One Entra behaviour, replayed as Entra sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Unique name, also the snapshot file name (`[a-z0-9][a-z0-9.-]*`).
    pub name: String,
    /// One line: what Entra does here.
    pub summary: String,
    /// Longer prose: evidence, doubts, what a compatible endpoint does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Which fact-sheet behaviours this replays, e.g. `["11.18"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub behaviours: Vec<String>,
    /// How sure the fact sheet is about the traffic replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Evidence>,
    /// Which Entra PATCH dialect the requests are written in.
    pub dialect: Dialect,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Scenario variables, overridable with `--var key=value`.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// The steps to send: raw requests as written and `entra` actions rendered for the
    /// active mapping profile (`scenario::expand`).
    pub steps: Vec<Step>,
    /// The directory objects `entra` steps act on.
    #[serde(skip)]
    pub directory: crate::entra::Directory,
    /// The scenario's own changes to the active mapping profile (its `profile` key).
    #[serde(skip)]
    pub profile: crate::entra::overlay::Overlay,
    /// The steps as written, from which `steps` is rendered.
    #[serde(skip)]
    pub source_steps: Vec<SourceStep>,
    /// Where the scenario came from; filled in by the loader.
    #[serde(skip)]
    pub origin: Origin,
}

/// Where a scenario file lives, for error messages and reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// Display path: `scenarios/users/create.json` for built-ins, the given path otherwise.
    pub file: String,
    /// True when the file is part of the catalogue compiled into the binary.
    pub builtin: bool,
}

/// The fact sheet's evidence tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// Stated by Microsoft documentation.
    Documented,
    /// Seen in captured traffic or tool output.
    Observed,
    /// Inferred; a hypothesis, so its checks should be warnings.
    Inferred,
}

/// Entra's two PATCH dialects (fact sheet §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Dialect {
    /// Entra without flags: `Replace`, `"False"`, member removal by value array.
    #[serde(rename = "default")]
    Default,
    /// Tenant URL with `?aadOptscim062020`: RFC-shaped ops and paths.
    #[serde(rename = "aadOptscim062020")]
    AadOptscim062020,
    /// Traffic that is the same in both dialects.
    #[serde(rename = "any")]
    Any,
}

impl Dialect {
    pub const ALL: [Dialect; 3] = [Dialect::Default, Dialect::AadOptscim062020, Dialect::Any];

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Default => "default",
            Dialect::AadOptscim062020 => "aadOptscim062020",
            Dialect::Any => "any",
        }
    }

    pub fn parse(s: &str) -> Option<Dialect> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step as written in the file: a raw request, or an Entra action.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceStep {
    Request(Step),
    Entra(EntraStep),
}

/// An `entra` step: an action on named directory objects, rendered per profile and dialect.
#[derive(Clone, Debug, PartialEq)]
pub struct EntraStep {
    pub id: String,
    pub note: Option<String>,
    pub action: crate::entra::Action,
    /// True when the step only sets up the scenario's subject: a refused full create is
    /// retried with the required attributes only (a fallback setup).
    pub setup: bool,
    /// Merged into the first rendered request's expectations: `status` and
    /// `status_impact` replace, `checks` and `json` add. A refusal (`Expect::refusal`)
    /// replaces them instead, and the action is sent but not read back.
    pub expect: Expect,
    /// Merged the same way into the action's read-back (`<id>-read`): the checks a
    /// scenario adds to what the action implies, or a rendered check with another severity.
    pub read: Expect,
    pub no_snapshot: bool,
}

/// One request and what its answer must look like.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Unique within the scenario (`[a-z0-9][a-z0-9_-]*`).
    pub id: String,
    /// Why this step exists, shown in `show` and failure reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub request: RequestSpec,
    #[serde(default)]
    pub expect: Expect,
    /// Values to take from the response for later steps: name → source.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, CaptureSource>,
    /// Leave this step's exchange out of the snapshot (e.g. a response that is random).
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_snapshot: bool,
    /// For a setup create: the create with required attributes only, sent when the endpoint
    /// refuses this one.
    #[serde(skip)]
    pub fallback: Option<Box<Step>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// HTTP methods Entra uses, plus PUT for completeness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// True for methods that change or remove an existing object.
    pub fn modifies(self) -> bool {
        matches!(self, Method::Put | Method::Patch | Method::Delete)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The request of a step, before rendering.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestSpec {
    pub method: Method,
    /// Resource path relative to the Tenant URL, e.g. `/Users/{{user_id}}`. No query string.
    pub path: String,
    /// Query parameters in order, encoded as `query_style` says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<QueryParam>,
    #[serde(default, skip_serializing_if = "is_entra_style")]
    pub query_style: QueryStyle,
    /// Extra headers (templates). `Authorization` and `Content-Type` are the harness's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "is_token_auth")]
    pub auth: AuthMode,
    /// JSON body; every string in it is a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

fn is_entra_style(s: &QueryStyle) -> bool {
    *s == QueryStyle::Entra
}

fn is_token_auth(a: &AuthMode) -> bool {
    *a == AuthMode::Token
}

/// One query parameter; the value is a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryParam {
    pub name: String,
    pub value: String,
}

/// How query values are percent-encoded (fact sheet §1.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryStyle {
    /// Production Entra: spaces as `+`, quotes and `@` percent-encoded.
    #[default]
    Entra,
    /// The SCIM Validator: spaces as `+`, raw double quotes.
    Validator,
}

/// Which credentials a request carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// `Authorization: Bearer <the run's token>`.
    #[default]
    Token,
    /// No `Authorization` header at all.
    None,
    /// A well-formed bearer token that is not the run's token.
    Invalid,
}

/// What a step's answer must satisfy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Expect {
    /// Accepted status codes; empty means any status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<u16>,
    /// What Entra does when the status is wrong; a default is derived when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_impact: Option<String>,
    /// Named SCIM/Entra checks (see `check::named`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<NamedCheck>,
    /// JSON-pointer assertions on the response body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json: Vec<JsonAssertion>,
    /// On a `GET /Schemas` step: the schemas the active mapping profile needs published, at
    /// this severity. Rendering turns it into one `/Resources` `contains {"id": URN}`
    /// assertion per schema (`scenario::expand::publish_schemas`) and clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_schemas: Option<Severity>,
}

impl Expect {
    /// True when every accepted status is a refusal (3xx-5xx): on an `entra` step, the
    /// write the endpoint must refuse. Such a step renders only the action's request, with
    /// these expectations alone, no read-back and no capture, and leaves the directory as
    /// it was.
    pub fn refusal(&self) -> bool {
        all_refusals(&self.status)
    }
}

/// True when `status` is not empty and every code in it is a refusal (3xx-5xx).
pub fn all_refusals(status: &[u16]) -> bool {
    !status.is_empty() && status.iter().all(|s| *s >= 300)
}

/// A named check with an optional severity override.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCheck {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

/// How much a failed check matters.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// An RFC deviation Entra tolerates, or a behaviour the fact sheet is unsure of.
    Warn,
    /// Entra provisioning fails or silently drifts.
    #[default]
    Fail,
}

/// `pointer` plus exactly one predicate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsonAssertion {
    /// RFC 6901 pointer into the response body (a template).
    pub pointer: String,
    pub predicate: Predicate,
    #[serde(default)]
    pub severity: Severity,
    /// What the admin would see in Entra's provisioning logs when this fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
}

/// The predicate of a JSON assertion. Strings inside values are templates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicate {
    /// Equal as JSON (numbers by value; strings exactly).
    Equals(Value),
    /// Missing, or not equal as JSON: a value that must have changed away from this one.
    NotEquals(Value),
    /// The pointer resolves (true) or does not (false).
    Exists(bool),
    /// The pointer does not resolve, or resolves to `null`.
    Absent,
    /// The value is a string matching this regular expression.
    Matches(String),
    /// Equal to one of these values.
    OneOf(Vec<Value>),
    /// JSON type: `string`, `number`, `integer`, `boolean`, `object`, `array`, `null`.
    Type(JsonType),
    /// An array whose length is this number.
    Length(usize),
    /// An array with at least one element equal to (or, for objects, containing) this value.
    Contains(Value),
    /// An array with no element equal to (or, for objects, containing) this value.
    NotContains(Value),
    /// Equal to the value at the same pointer in the response of the named earlier step
    /// (absent in both counts as equal): a value that must not have changed since that read,
    /// e.g. across requests the endpoint must refuse. The runner resolves it before checking.
    SameAs {
        step: String,
        /// What that step read at the pointer (`null` when absent); set by the runner.
        #[serde(skip)]
        before: Option<Value>,
    },
}

/// JSON value types for `type` assertions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
    Null,
}

impl JsonType {
    pub fn as_str(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::Boolean => "boolean",
            JsonType::Object => "object",
            JsonType::Array => "array",
            JsonType::Null => "null",
        }
    }

    pub fn of(value: &Value) -> JsonType {
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }
}

/// Where a captured value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureSource {
    /// RFC 6901 pointer into the JSON body (written `"/id"` in files).
    Body(String),
    /// A response header, case-insensitive (written `"header:Location"` in files).
    Header(String),
}

impl CaptureSource {
    /// Parses the file form: `"/pointer"` or `"header:Name"`.
    pub fn parse(s: &str) -> Option<CaptureSource> {
        if let Some(name) = s.strip_prefix("header:") {
            let name = name.trim();
            (!name.is_empty()).then(|| CaptureSource::Header(name.to_string()))
        } else if s.is_empty() || s.starts_with('/') {
            Some(CaptureSource::Body(s.to_string()))
        } else {
            None
        }
    }
}

impl fmt::Display for CaptureSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureSource::Body(p) => write!(f, "{p}"),
            CaptureSource::Header(h) => write!(f, "header:{h}"),
        }
    }
}
