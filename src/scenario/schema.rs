//! JSON Schemas of the two file formats people write by hand, scenario files and mapping
//! profiles, for editors (completion, hover text, red squiggles) and other tools.
//!
//! The types here mirror the files as written, not the loaded model: a step is a request
//! step or an `entra` step, `status` is a number or a list, a check is a name or an object.
//! They exist only to derive the schemas (with `schemars`), which are committed under
//! `schemas/`; a test regenerates them and fails when the committed copy is stale, and
//! validates every catalogue file against them. The loader (`validate`) stays the authority:
//! it also checks what a schema cannot say (templates, captures used before they exist,
//! exactly one predicate per assertion) and says it with a place and a hint.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Where the scenario schema is published, as files name it in `"$schema"`.
pub const SCENARIO_SCHEMA_FILE: &str = "schemas/scenario.schema.json";
/// Where the mapping profile schema is.
pub const PROFILE_SCHEMA_FILE: &str = "schemas/mapping-profile.schema.json";

/// A scimreplay scenario: one Entra provisioning behaviour, replayed as Entra sends it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "scimreplay scenario")]
#[allow(dead_code)]
struct ScenarioFile {
    /// The schema this file follows (for editors; ignored by scimreplay).
    #[serde(rename = "$schema", default)]
    schema: Option<String>,
    /// Unique across all loaded files; also the snapshot file name.
    #[schemars(extend("pattern" = "^[a-z0-9][a-z0-9.-]*$"))]
    name: String,
    /// One line: what Entra does here.
    #[schemars(length(min = 1))]
    summary: String,
    /// Longer prose: evidence, doubts, what a compatible endpoint does.
    #[serde(default)]
    description: Option<String>,
    /// Fact-sheet references, e.g. `["11.18"]`.
    #[serde(default)]
    behaviours: Vec<String>,
    /// How sure we are of the traffic.
    #[serde(default)]
    source: Option<Evidence>,
    dialect: Dialect,
    /// Labels for `--tag`.
    #[serde(default)]
    #[schemars(extend("uniqueItems" = true))]
    tags: Vec<TagName>,
    /// Variables: name → value (override with `--var name=value`).
    #[serde(default)]
    vars: BTreeMap<VarName, String>,
    /// Entra's source objects for `entra` steps, by object name.
    #[serde(default)]
    directory: Option<Directory>,
    /// The scenario's changes to the active mapping profile.
    #[serde(default)]
    profile: Option<ProfileOverlay>,
    /// The steps, run in order.
    #[schemars(length(min = 1))]
    steps: Vec<Step>,
}

/// A tag.
#[derive(Deserialize)]
struct TagName(#[allow(dead_code)] String);

impl JsonSchema for TagName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TagName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]*$"})
    }
}

/// A variable name.
#[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct VarName(#[allow(dead_code)] String);

impl JsonSchema for VarName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "VarName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"})
    }
}

/// `documented`, `observed` or `inferred`.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Evidence {
    Documented,
    Observed,
    Inferred,
}

/// Which Entra PATCH dialect the scenario replays.
#[derive(Deserialize, JsonSchema)]
enum Dialect {
    /// Entra without flags: `"op": "Replace"`, `"value": "False"`.
    #[serde(rename = "default")]
    Default,
    /// The Tenant URL flag: RFC-shaped ops, path-less replace with dotted keys.
    #[serde(rename = "aadOptscim062020")]
    AadOptscim062020,
    /// Traffic that is the same in both.
    #[serde(rename = "any")]
    Any,
}

/// A request step or an Entra step.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Step {
    Request(RequestStep),
    Entra(EntraStep),
}

/// An HTTP request and what its answer must satisfy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RequestStep {
    /// Unique within the file; names the step in reports and errors.
    #[schemars(extend("pattern" = "^[a-z0-9][a-z0-9_-]*$"))]
    id: String,
    /// Why the step exists; shown by `show` and in failure reports.
    #[serde(default)]
    note: Option<String>,
    request: Request,
    #[serde(default)]
    expect: Option<Expect>,
    /// Values kept for later steps: name → a JSON pointer into the body (`/id`) or
    /// `header:Name`.
    #[serde(default)]
    capture: BTreeMap<VarName, String>,
    /// Leave this step out of the snapshot (for random answers).
    #[serde(default)]
    no_snapshot: bool,
}

/// The request, as Entra sends it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Request {
    method: Method,
    /// Relative to the Tenant URL, starting with `/`; no `?` (use `query`).
    #[schemars(extend("pattern" = "^/[^?]*$"))]
    path: String,
    /// Parameter → value, sent in the order written.
    #[serde(default)]
    query: BTreeMap<String, Scalar>,
    /// How query values are percent-encoded.
    #[serde(default)]
    query_style: Option<QueryStyle>,
    /// Extra headers: name → value (`Authorization` is refused: use `auth`).
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// `token` (the run's), `none` (no header) or `invalid` (a well-formed wrong token).
    #[serde(default)]
    auth: Option<Auth>,
    /// Any JSON; every string and object key in it is a template.
    #[serde(default)]
    body: Option<Value>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum QueryStyle {
    /// Spaces as `+`, quotes and `@` encoded, as production Entra.
    Entra,
    /// Raw `@ : , [ ]`, as the SCIM Validator.
    Validator,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Auth {
    Token,
    None,
    Invalid,
}

/// A string, number or boolean (taken as its text).
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Scalar {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// What the answer must satisfy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Expect {
    /// A status code or a non-empty list of them; left out, any status.
    #[serde(default)]
    status: Option<Status>,
    /// What Entra does when the status is wrong.
    #[serde(default)]
    status_impact: Option<String>,
    /// Named SCIM/Entra checks, each at most once.
    #[serde(default)]
    checks: Vec<Check>,
    /// JSON-pointer assertions on the response body.
    #[serde(default)]
    json: Vec<Assertion>,
    /// On a raw `GET /Schemas` step: require in `/Resources` every schema the active mapping
    /// profile needs (core User and Group, each mapped extension), at this severity.
    #[serde(default)]
    mapped_schemas: Option<Severity>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Status {
    One(#[schemars(range(min = 100, max = 599))] u16),
    Any(#[schemars(length(min = 1), inner(range(min = 100, max = 599)))] Vec<u16>),
}

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Check {
    Name(#[schemars(schema_with = "check_name")] String),
    WithSeverity(CheckWithSeverity),
}

/// A named check with its own severity.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct CheckWithSeverity {
    #[schemars(schema_with = "check_name")]
    name: String,
    #[serde(default)]
    severity: Option<Severity>,
}

fn check_name(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = crate::check::names::KNOWN.iter().map(|c| c.name).collect();
    json_schema!({"type": "string", "enum": names})
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Severity {
    /// A failure fails the run (the default).
    Fail,
    /// A failure is reported, and fails the run only with `--strict`.
    Warn,
}

/// A JSON-pointer assertion: a `pointer` and exactly one predicate.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Assertion {
    /// RFC 6901, e.g. `/emails/0/value`; `""` is the whole body.
    pointer: String,
    #[serde(default)]
    severity: Option<Severity>,
    /// What the admin would see in Entra's provisioning logs when it fails.
    #[serde(default)]
    impact: Option<String>,
    /// Equal as JSON.
    #[serde(default)]
    equals: Option<Value>,
    /// Missing, or not equal.
    #[serde(default)]
    not_equals: Option<Value>,
    /// The pointer resolves (true) or does not (false).
    #[serde(default)]
    exists: Option<bool>,
    /// Missing or null.
    #[serde(default)]
    #[schemars(extend("const" = true))]
    absent: Option<bool>,
    /// A string matching this regular expression.
    #[serde(default)]
    matches: Option<String>,
    /// Equal to one of these.
    #[serde(default)]
    #[schemars(length(min = 1))]
    one_of: Option<Vec<Value>>,
    /// The value's JSON type.
    #[serde(default, rename = "type")]
    json_type: Option<JsonType>,
    /// An array of this length.
    #[serde(default)]
    length: Option<u64>,
    /// An array with an element equal to (for objects: containing) this.
    #[serde(default)]
    contains: Option<Value>,
    /// An array with no such element.
    #[serde(default)]
    not_contains: Option<Value>,
    /// Equal to what this earlier step (its id) read at the same pointer.
    #[serde(default)]
    same_as: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
    Null,
}

/// A scenario's changes to the active mapping profile, per object type.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ProfileOverlay {
    #[serde(default)]
    users: Option<Overlay>,
    #[serde(default)]
    groups: Option<Overlay>,
}

/// Changes to one object type's mappings.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Overlay {
    /// Adds or replaces mappings: SCIM target path → Entra source attribute.
    #[serde(default)]
    map: BTreeMap<String, String>,
    /// Removes the mappings to these target paths.
    #[serde(default)]
    unmap: Vec<String>,
    /// The matching attributes (target paths) in precedence order; each must be mapped.
    #[serde(default)]
    matching: Vec<String>,
}

/// Entra's source objects (the directory an `entra` step acts on), by object name.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Directory {
    /// Users: name → source attributes (`manager` names another user).
    #[serde(default)]
    users: BTreeMap<ObjectName, BTreeMap<String, SourceValue>>,
    /// Groups: name → source attributes (`members` lists user names).
    #[serde(default)]
    groups: BTreeMap<ObjectName, BTreeMap<String, GroupAttribute>>,
}

/// An object name: `[a-z][a-z0-9_]*`.
#[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct ObjectName(#[allow(dead_code)] String);

impl JsonSchema for ObjectName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ObjectName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^[a-z][a-z0-9_]*$"})
    }
}

/// A source attribute value: text, a boolean (`True`/`False` to Entra), a number, or null.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SourceValue {
    Text(Option<String>),
    Flag(bool),
    Number(f64),
}

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum GroupAttribute {
    Members(Vec<String>),
    Value(SourceValue),
}

/// An Entra action, rendered as the requests Entra sends for it under the mapping profile.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct EntraStep {
    #[schemars(extend("pattern" = "^[a-z0-9][a-z0-9_-]*$"))]
    id: String,
    #[serde(default)]
    note: Option<String>,
    entra: Action,
    /// A step that prepares the scenario rather than being judged.
    #[serde(default)]
    setup: bool,
    /// Refines the first rendered request: `status` and `status_impact` replace, `checks`
    /// and `json` add (one with a rendered check's name, or pointer and predicate, replaces it).
    #[serde(default)]
    expect: Option<Expect>,
    /// Refines the action's read-back (`<id>-read`) the same way: extra checks, or a rendered
    /// one at another severity. Only for actions that are read back.
    #[serde(default)]
    read: Option<Expect>,
    #[serde(default)]
    no_snapshot: bool,
}

#[derive(Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
#[allow(dead_code)]
enum Action {
    /// Test Connection: a query for a random id.
    Probe {
        #[serde(default)]
        resource: Option<ProbeResource>,
    },
    MatchUser {
        user: String,
        #[serde(default)]
        expect: Option<MatchExpectation>,
    },
    CreateUser {
        user: String,
    },
    UpdateUser {
        user: String,
        /// Changed source attributes.
        set: BTreeMap<String, SourceValue>,
    },
    SetManager {
        user: String,
        /// The manager (a user); default: the user's `manager` in the directory.
        #[serde(default)]
        manager: Option<String>,
    },
    DisableUser {
        user: String,
    },
    EnableUser {
        user: String,
    },
    DeleteUser {
        user: String,
    },
    ClearManager {
        user: String,
    },
    MatchGroup {
        group: String,
        #[serde(default)]
        expect: Option<MatchExpectation>,
    },
    CreateGroup {
        group: String,
    },
    RenameGroup {
        group: String,
        to: String,
    },
    AddMembers {
        group: String,
        /// The users; default: the group's `members` in the directory.
        #[serde(default)]
        users: Option<Vec<String>>,
    },
    RemoveMembers {
        group: String,
        /// The users; default: the group's `members` in the directory.
        #[serde(default)]
        users: Option<Vec<String>>,
    },
    DeleteGroup {
        group: String,
    },
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ProbeResource {
    Users,
    Groups,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum MatchExpectation {
    None,
    One,
}

/// An app's attribute mappings, as in Entra's "Map attributes" step.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "scimreplay mapping profile")]
#[allow(dead_code)]
struct ProfileFile {
    #[serde(rename = "$schema", default)]
    schema: Option<String>,
    /// A name for reports.
    #[serde(default)]
    name: Option<String>,
    /// "Sync only assigned users and groups" (`assigned`) or "Sync all" (`all`).
    #[serde(default)]
    scope: Option<ProfileScope>,
    users: MappingSet,
    groups: MappingSet,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ProfileScope {
    Assigned,
    All,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct MappingSet {
    mappings: Vec<Mapping>,
    /// Matching attributes (SCIM targets of mappings), precedence 1 first.
    #[schemars(length(min = 1))]
    matching: Vec<String>,
}

/// One mapping: a source attribute or an expression → a SCIM target.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Mapping {
    Attribute(AttributeMapping),
    Expression(ExpressionMapping),
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AttributeMapping {
    /// A source attribute name, e.g. `userPrincipalName`.
    source: String,
    /// A SCIM target path, e.g. `emails[type eq "work"].value`.
    target: String,
    /// "Default value if null": sent on create only.
    #[serde(default)]
    default: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ExpressionMapping {
    /// An Entra expression, e.g. `Switch([IsSoftDeleted], , "False", "True", "True", "False")`.
    expression: String,
    /// A SCIM target path.
    target: String,
    /// "Default value if null": sent on create only.
    #[serde(default)]
    default: Option<String>,
}

fn generate<T: JsonSchema>() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.meta_schema = Some("https://json-schema.org/draft/2020-12/schema".into());
    settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// The scenario file schema.
pub fn scenario_schema() -> Value {
    generate::<ScenarioFile>()
}

/// The mapping profile schema.
pub fn profile_schema() -> Value {
    generate::<ProfileFile>()
}

/// A schema as committed: pretty JSON with a final newline.
pub fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
