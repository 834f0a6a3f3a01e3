//! Entra provisioning logs → a values-and-intent scenario built on the Entra model.
//!
//! Three shapes are read: the portal's JSON download (an array of provisioning events),
//! the Microsoft Graph `provisioningObjectSummary` list (`{"value": [...]}`), and Azure
//! Monitor diagnostic lines (one JSON object per line, the event under `properties`, enums
//! sometimes numeric). A log holds what Entra changed and with which values, not the wire
//! form, so each change becomes an `entra` step on a `directory` object: the scenario is
//! rendered for the mapping profile and dialect when it is loaded.
//!
//! Target attribute names in `modifiedProperties` are mapped back to Entra source
//! attributes through the profile given to [`build`]; the name attribute of every object
//! gets the `{{run.prefix}}` so the guard lets the replay create it. A change the log shows
//! failing keeps the endpoint's error in the step's note: the replay expects success.

use super::ImportError;
use crate::entra::expr::Expr;
use crate::entra::{Profile, Resource, Target};
use crate::scenario::model::Dialect;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The longest source value kept (longer ones are cut, with a note).
const MAX_VALUE: usize = 2048;
/// The longest error text kept in a note.
const MAX_NOTE: usize = 600;
/// The most events one import turns into steps.
const MAX_EVENTS: usize = 5000;

/// Which kind of log file was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Portal,
    Graph,
    AzureMonitor,
}

impl Shape {
    pub fn label(self) -> &'static str {
        match self {
            Shape::Portal => "the portal's JSON download",
            Shape::Graph => "a Microsoft Graph provisioningObjectSummary list",
            Shape::AzureMonitor => "Azure Monitor diagnostic lines",
        }
    }
}

/// What Entra did to the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    Disable,
    Delete,
    Other,
}

/// The outcome Entra logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
    Skipped,
    Warning,
}

/// One modified property: a target (or source) attribute name and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Property {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// One provisioning event, as far as a replay needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Where the event is in the file (`/value/3`, `line 2`), for messages.
    pub place: String,
    pub time: String,
    pub change: Change,
    pub status: Status,
    pub resource: Resource,
    pub source_id: String,
    pub source_name: String,
    pub upn: Option<String>,
    pub target_id: String,
    pub properties: Vec<Property>,
    /// `errorCode: reason` of a failed change.
    pub error: Option<String>,
    /// The endpoint's HTTP status, when the error names one.
    pub error_status: Option<u16>,
    /// Why Entra skipped the change (from its steps), for skipped events.
    pub skip_reason: Option<String>,
}

/// The events of a log file and its shape; `more` is set when a Graph list has a next page.
#[derive(Debug)]
pub struct Parsed {
    pub shape: Shape,
    pub events: Vec<Event>,
    pub next_link: bool,
}

const EXPECTED: &str = "expected the portal's JSON download (an array of provisioning events), \
a Graph provisioningObjectSummary list ({\"value\": [...]}) or Azure Monitor lines (one JSON \
object per line with `properties`)";

/// Reads a provisioning log in any of the three shapes.
pub fn parse(file: &str, text: &str) -> Result<Parsed, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(ImportError::at(
            file,
            "",
            &format!("the file is empty; {EXPECTED}"),
        ));
    }
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let first_line_is_object = lines.first().is_some_and(|(_, l)| {
        serde_json::from_str::<Value>(l).is_ok_and(|v| v.get("properties").is_some())
    });
    if lines.len() > 1 && first_line_is_object {
        let mut events = Vec::new();
        for (i, line) in lines {
            let v: Value = serde_json::from_str(line).map_err(|e| ImportError::Syntax {
                file: file.into(),
                line: i + 1,
                column: e.column(),
                message: if e.is_eof() {
                    "the line ends early; is the file truncated?".into()
                } else {
                    e.to_string()
                },
            })?;
            let place = format!("line {}", i + 1);
            let props = v
                .get("properties")
                .filter(|p| p.is_object())
                .ok_or_else(|| {
                    ImportError::at(
                        file,
                        &format!("{place} /properties"),
                        "expected an object holding the provisioning event",
                    )
                })?;
            events.push(event(file, &format!("{place} /properties"), props)?);
        }
        return finish(file, Shape::AzureMonitor, events, false);
    }
    let doc: Value = serde_json::from_str(text).map_err(|e| ImportError::syntax(file, &e))?;
    match &doc {
        Value::Array(items) => {
            let events = items
                .iter()
                .enumerate()
                .map(|(i, v)| event(file, &format!("/{i}"), v))
                .collect::<Result<Vec<_>, _>>()?;
            finish(file, Shape::Portal, events, false)
        }
        Value::Object(map) => {
            if let Some(value) = map.get("value") {
                let Some(items) = value.as_array() else {
                    return Err(ImportError::at(
                        file,
                        "/value",
                        "expected an array of provisioningObjectSummary objects",
                    ));
                };
                let events = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| event(file, &format!("/value/{i}"), v))
                    .collect::<Result<Vec<_>, _>>()?;
                let next = map.contains_key("@odata.nextLink");
                finish(file, Shape::Graph, events, next)
            } else if let Some(props) = map.get("properties").filter(|p| p.is_object()) {
                let e = event(file, "/properties", props)?;
                finish(file, Shape::AzureMonitor, vec![e], false)
            } else if get(&doc, "provisioningAction").is_some() {
                let e = event(file, "", &doc)?;
                finish(file, Shape::Portal, vec![e], false)
            } else {
                Err(ImportError::at(
                    file,
                    "",
                    &format!("not a provisioning log: {EXPECTED}"),
                ))
            }
        }
        _ => Err(ImportError::at(
            file,
            "",
            &format!("not a provisioning log: {EXPECTED}"),
        )),
    }
}

fn finish(
    file: &str,
    shape: Shape,
    mut events: Vec<Event>,
    next_link: bool,
) -> Result<Parsed, ImportError> {
    if events.is_empty() {
        return Err(ImportError::at(
            file,
            "",
            "the log holds no provisioning events",
        ));
    }
    if events.len() > MAX_EVENTS {
        return Err(ImportError::at(
            file,
            "",
            &format!(
                "{} events; at most {MAX_EVENTS} are imported at once (split the file)",
                events.len()
            ),
        ));
    }
    // Downloads list the newest first; a replay runs in the order things happened.
    events.sort_by(|a, b| a.time.cmp(&b.time));
    Ok(Parsed {
        shape,
        events,
        next_link,
    })
}

/// A key of an object, ignoring ASCII case (Azure Monitor capitalises some: `Status`, `Id`).
fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let map = v.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        _ => None,
    }
}

fn event(file: &str, at: &str, v: &Value) -> Result<Event, ImportError> {
    if !v.is_object() {
        return Err(ImportError::at(
            file,
            at,
            "expected a provisioning event (an object)",
        ));
    }
    let missing = |key: &str, what: &str| ImportError::at(file, &format!("{at}/{key}"), what);
    let change = match get(v, "provisioningAction").or_else(|| get(v, "action")) {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => Change::Other,
            Some(1) => Change::Create,
            Some(2) => Change::Delete,
            Some(3) => Change::Disable,
            Some(4) => Change::Update,
            Some(5) => Change::Disable,
            _ => return Err(missing("provisioningAction", "expected an action 0–5")),
        },
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "create" => Change::Create,
            "update" => Change::Update,
            "disable" | "stageddelete" => Change::Disable,
            "delete" => Change::Delete,
            _ => Change::Other,
        },
        _ => {
            return Err(missing(
                "provisioningAction",
                "expected the action (create, update, disable, delete, …)",
            ));
        }
    };
    let info = get(v, "provisioningStatusInfo");
    let status_value = info
        .and_then(|i| get(i, "status"))
        .or_else(|| get(v, "statusInfo").and_then(|i| get(i, "status")));
    let status = match status_value {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => Status::Success,
            Some(1) => Status::Failure,
            Some(2) => Status::Skipped,
            Some(3) => Status::Warning,
            _ => return Err(missing("provisioningStatusInfo/status", "expected 0–3")),
        },
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "success" => Status::Success,
            "failure" => Status::Failure,
            "skipped" => Status::Skipped,
            "warning" => Status::Warning,
            _ => {
                return Err(missing(
                    "provisioningStatusInfo/status",
                    "expected success, failure, skipped or warning",
                ));
            }
        },
        _ => {
            return Err(missing(
                "provisioningStatusInfo/status",
                "expected the outcome (success, failure, skipped or warning)",
            ));
        }
    };
    let source = get(v, "sourceIdentity")
        .filter(|s| s.is_object())
        .ok_or_else(|| {
            missing(
                "sourceIdentity",
                "expected the source object ({id, displayName, identityType})",
            )
        })?;
    let target = get(v, "targetIdentity");
    let source_id = text_of(get(source, "id")).unwrap_or_default();
    let source_name =
        text_of(get(source, "displayName").or_else(|| get(source, "name"))).unwrap_or_default();
    if source_id.is_empty() && source_name.is_empty() {
        return Err(missing(
            "sourceIdentity/id",
            "expected the source object's id or displayName",
        ));
    }
    let upn = get(source, "details")
        .and_then(|d| text_of(get(d, "UserPrincipalName")))
        .filter(|s| !s.is_empty());
    let kind = |x: Option<&Value>| {
        x.and_then(|t| text_of(get(t, "identityType")))
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let resource = if kind(Some(source)).ends_with("group") || kind(target).ends_with("group") {
        Resource::Group
    } else {
        Resource::User
    };
    let target_id = target
        .and_then(|t| text_of(get(t, "id")))
        .unwrap_or_default();
    let mut properties = Vec::new();
    match get(v, "modifiedProperties") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, p) in items.iter().enumerate() {
                let name = text_of(get(p, "displayName")).ok_or_else(|| {
                    ImportError::at(
                        file,
                        &format!("{at}/modifiedProperties/{i}/displayName"),
                        "expected the property's name (a string)",
                    )
                })?;
                properties.push(Property {
                    name,
                    old: text_of(get(p, "oldValue")).map(|s| unquote(&s)),
                    new: text_of(get(p, "newValue")).map(|s| unquote(&s)),
                });
            }
        }
        Some(_) => {
            return Err(missing(
                "modifiedProperties",
                "expected an array of {displayName, oldValue, newValue}",
            ));
        }
    }
    let (error, error_status) = match info.and_then(|i| get(i, "errorInformation")) {
        Some(e) if e.is_object() => {
            let code = text_of(get(e, "errorCode")).unwrap_or_default();
            let reason = text_of(get(e, "reason")).unwrap_or_default();
            let details = text_of(get(e, "additionalDetails")).unwrap_or_default();
            let joined = [code.as_str(), reason.as_str(), details.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(": ");
            let status = http_status(&code).or_else(|| status_in(&reason));
            (Some(joined).filter(|s| !s.is_empty()), status)
        }
        _ => (None, None),
    };
    let skip_reason = (status == Status::Skipped)
        .then(|| {
            get(v, "provisioningSteps")
                .and_then(Value::as_array)
                .and_then(|steps| {
                    steps
                        .iter()
                        .rev()
                        .find_map(|s| text_of(get(s, "description")))
                })
        })
        .flatten();
    Ok(Event {
        place: at.to_string(),
        time: text_of(get(v, "activityDateTime")).unwrap_or_default(),
        change,
        status,
        resource,
        source_id,
        source_name,
        upn,
        target_id,
        properties,
        error,
        error_status,
        skip_reason,
    })
}

/// Logs sometimes hold a value as quoted JSON text (`"\"Sales\""`).
fn unquote(s: &str) -> String {
    match serde_json::from_str::<Value>(s) {
        Ok(Value::String(inner)) if s.starts_with('"') => inner,
        _ => s.to_string(),
    }
}

/// The status behind Entra's SCIM error codes (`SystemForCrossDomainIdentityManagementConflict`).
fn http_status(code: &str) -> Option<u16> {
    let name = code
        .strip_prefix("SystemForCrossDomainIdentityManagement")
        .unwrap_or(code)
        .to_ascii_lowercase();
    let table = [
        ("badrequest", 400),
        ("unauthorized", 401),
        ("forbidden", 403),
        ("notfound", 404),
        ("conflict", 409),
        ("preconditionfailed", 412),
        ("toomanyrequests", 429),
        ("throttled", 429),
        ("internalservererror", 500),
        ("servererror", 500),
        ("serviceunavailable", 503),
    ];
    table
        .iter()
        .find(|(n, _)| name.ends_with(n))
        .map(|(_, s)| *s)
}

/// A status written in an error text: `StatusCode: 409`, `status 400`, `(409 Conflict)`.
fn status_in(reason: &str) -> Option<u16> {
    let lower = reason.to_ascii_lowercase();
    let at = lower.find("status")?;
    lower[at..]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 3)
        .filter_map(|w| w.parse::<u16>().ok())
        .find(|s| (100..600).contains(s))
}

/// A value made safe for a scenario: control characters dropped, template braces escaped,
/// length bounded. The second value says whether anything was changed.
fn safe_value(s: &str) -> (String, bool) {
    let mut changed = false;
    let mut out: String = s
        .chars()
        .filter(|c| {
            let bad = c.is_control();
            changed |= bad;
            !bad
        })
        .collect();
    if out.chars().count() > MAX_VALUE {
        out = out.chars().take(MAX_VALUE).collect();
        changed = true;
    }
    (out.replace("{{", "{{{{"), changed)
}

/// Text for a note: printable, bounded.
fn safe_note(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > MAX_NOTE {
        let cut: String = clean.chars().take(MAX_NOTE).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

/// An object name (`[a-z][a-z0-9_]*`, at most 32 characters) from a UPN or display name.
fn object_name(hint: &str, resource: Resource) -> String {
    let local = hint.split('@').next().unwrap_or(hint);
    let mut out = String::new();
    for c in local.to_ascii_lowercase().chars() {
        if out.len() >= 32 {
            break;
        }
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    let fallback = match resource {
        Resource::User => "user",
        Resource::Group => "group",
    };
    if out.is_empty() {
        fallback.into()
    } else if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        format!("{}_{out}", &fallback[..1])
    } else {
        out
    }
}

/// How a modified property maps back to the directory.
enum Back {
    Source(String),
    Active,
    Unmapped,
}

fn back(profile: &Profile, resource: Resource, name: &str) -> Back {
    let set = profile.set(resource);
    if let Ok(t) = Target::parse(resource, name) {
        if resource == Resource::User && t.is_active() {
            return Back::Active;
        }
        if let Some(m) = set.get(&t) {
            return match &m.source {
                Expr::Source(a) => Back::Source(a.clone()),
                _ => Back::Unmapped,
            };
        }
    }
    if name.eq_ignore_ascii_case("IsSoftDeleted") || name.eq_ignore_ascii_case("accountEnabled") {
        return Back::Active;
    }
    set.mappings
        .iter()
        .flat_map(|m| m.source.sources())
        .find(|s| s.eq_ignore_ascii_case(name))
        .map_or(Back::Unmapped, |s| Back::Source(s.to_string()))
}

/// The source attribute behind the object's name (userName / displayName).
fn name_source(profile: &Profile, resource: Resource) -> String {
    let target = match resource {
        Resource::User => "userName",
        Resource::Group => "displayName",
    };
    Target::parse(resource, target)
        .ok()
        .and_then(|t| profile.set(resource).get(&t).map(|m| m.source.clone()))
        .and_then(|e| match e {
            Expr::Source(a) => Some(a),
            _ => None,
        })
        .unwrap_or_else(|| match resource {
            Resource::User => "userPrincipalName".into(),
            Resource::Group => "displayName".into(),
        })
}

/// A built scenario and what the import left out.
#[derive(Debug)]
pub struct Built {
    pub scenario: Value,
    pub steps: usize,
    pub left_out: Vec<String>,
}

struct Obj {
    name: String,
    resource: Resource,
    attrs: Map<String, Value>,
    provisioned: bool,
    soft_deleted: bool,
    /// What the log calls the object by: source id, UPN, display name.
    keys: Vec<String>,
}

/// Builds the scenario `name` from the events.
pub fn build(
    name: &str,
    file: &str,
    parsed: &Parsed,
    profile: &Profile,
    dialect: Dialect,
) -> Built {
    let mut objects: Vec<Obj> = Vec::new();
    let mut by_key: BTreeMap<(Resource, String), usize> = BTreeMap::new();
    let mut steps: Vec<Value> = Vec::new();
    let mut left_out = Vec::new();
    for (n, ev) in parsed.events.iter().enumerate() {
        let n = n + 1;
        let what = format!("event {n} ({})", ev.place);
        if ev.status == Status::Skipped {
            let why = ev.skip_reason.as_deref().unwrap_or("no reason logged");
            left_out.push(format!(
                "{what}: Entra skipped this change and sent nothing ({})",
                safe_note(why)
            ));
            continue;
        }
        if ev.change == Change::Other {
            left_out.push(format!(
                "{what}: an action other than create, update, disable or delete"
            ));
            continue;
        }
        let key = (
            ev.resource,
            if ev.source_id.is_empty() {
                ev.source_name.clone()
            } else {
                ev.source_id.clone()
            },
        );
        let name_attr = name_source(profile, ev.resource);
        // Values: source attribute → value, from the new (or, for a first sight, old) values.
        let mut set: Map<String, Value> = Map::new();
        let mut initial: Map<String, Value> = Map::new();
        let mut active: Option<bool> = None;
        let mut member_changes: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        for p in &ev.properties {
            match back(profile, ev.resource, &p.name) {
                Back::Active => {
                    let v = p.new.as_deref().unwrap_or("").to_ascii_lowercase();
                    let flip = p.name.eq_ignore_ascii_case("IsSoftDeleted");
                    active = match v.as_str() {
                        "true" => Some(!flip),
                        "false" => Some(flip),
                        _ => None,
                    };
                }
                Back::Source(attr)
                    if ev.resource == Resource::Group && attr.eq_ignore_ascii_case("members") =>
                {
                    member_changes.push((list(p.old.as_deref()), list(p.new.as_deref())));
                }
                Back::Source(attr) => {
                    let mut prefixed = |v: &str| {
                        let (clean, changed) = safe_value(v);
                        if changed {
                            left_out.push(format!(
                                "{what}: the value of `{}` was cleaned (control characters or \
                                 over {MAX_VALUE} characters)",
                                safe_note(&p.name)
                            ));
                        }
                        if attr.eq_ignore_ascii_case(&name_attr) {
                            Value::String(format!("{{{{run.prefix}}}}{clean}"))
                        } else {
                            Value::String(clean)
                        }
                    };
                    if let Some(old) = &p.old {
                        initial.insert(attr.clone(), prefixed(old));
                    }
                    let new = p.new.as_deref().map_or(Value::Null, &mut prefixed);
                    set.insert(attr, new);
                }
                Back::Unmapped => left_out.push(format!(
                    "{what}: `{}` has no attribute mapping in the profile `{}`",
                    safe_note(&p.name),
                    profile.name
                )),
            }
        }
        let idx = match by_key.get(&key) {
            Some(i) => *i,
            None => {
                let hint = ev.upn.clone().unwrap_or_else(|| ev.source_name.clone());
                let mut base = object_name(&hint, ev.resource);
                let mut k = 2;
                let stem = base.clone();
                while objects.iter().any(|o| o.name == base) {
                    base = format!("{stem}_{k}");
                    k += 1;
                }
                let mut attrs = if ev.change == Change::Create {
                    set.clone()
                } else {
                    initial.clone()
                };
                if !attrs.contains_key(&name_attr) {
                    let fallback = match (ev.resource, &ev.upn) {
                        (Resource::User, Some(upn)) => safe_value(upn).0,
                        (Resource::User, None) => format!("{base}@example.com"),
                        (Resource::Group, _) if !ev.source_name.is_empty() => {
                            safe_value(&ev.source_name).0
                        }
                        (Resource::Group, _) => base.clone(),
                    };
                    attrs.insert(
                        name_attr.clone(),
                        Value::String(format!("{{{{run.prefix}}}}{fallback}")),
                    );
                }
                attrs.retain(|_, v| !v.is_null());
                objects.push(Obj {
                    name: base,
                    resource: ev.resource,
                    attrs,
                    provisioned: false,
                    soft_deleted: false,
                    keys: [
                        Some(ev.source_id.clone()),
                        ev.upn.clone(),
                        Some(ev.source_name.clone()),
                    ]
                    .into_iter()
                    .flatten()
                    .filter(|k| !k.is_empty())
                    .collect(),
                });
                by_key.insert(key, objects.len() - 1);
                objects.len() - 1
            }
        };
        let obj_name = objects[idx].name.clone();
        let kind = ev.resource.as_str();
        let mut note = format!(
            "Reconstructed from provisioning logs: {what}, {} of {kind} `{}` at {}",
            change_word(ev.change),
            safe_note(&ev.source_name),
            safe_note(&ev.time)
        );
        if !ev.target_id.is_empty() {
            note.push_str(&format!(" (app id {})", safe_note(&ev.target_id)));
        }
        note.push('.');
        let failed = ev.status == Status::Failure;
        if failed {
            let status = ev
                .error_status
                .map(|s| format!(" with {s}"))
                .unwrap_or_default();
            note.push_str(&format!(
                " In the log the endpoint refused it{status}: {}. The replay expects it to succeed now.",
                safe_note(ev.error.as_deref().unwrap_or("no error text logged"))
            ));
        }
        let mut entra_steps: Vec<(String, Value, bool)> = Vec::new();
        let step_id = |verb: &str| format!("e{n}-{verb}-{}", obj_name.replace('_', "-"));
        let action_key = kind;
        if !objects[idx].provisioned && ev.change != Change::Create {
            entra_steps.push((
                step_id("setup"),
                json!({"action": format!("create-{kind}"), action_key: obj_name}),
                true,
            ));
            objects[idx].provisioned = true;
        }
        match (ev.change, ev.resource) {
            (Change::Create, _) if objects[idx].provisioned => {
                left_out.push(format!(
                    "{what}: a second create of `{obj_name}`, replayed as an update"
                ));
                push_update(
                    &mut entra_steps,
                    &step_id("update"),
                    ev.resource,
                    &obj_name,
                    &set,
                    &objects[idx],
                );
            }
            (Change::Create, _) => {
                entra_steps.push((
                    step_id("match"),
                    json!({"action": format!("match-{kind}"), action_key: obj_name}),
                    false,
                ));
                entra_steps.push((
                    step_id("create"),
                    json!({"action": format!("create-{kind}"), action_key: obj_name}),
                    false,
                ));
                objects[idx].provisioned = true;
            }
            (Change::Update, Resource::Group) if !member_changes.is_empty() => {
                let known = |id: &String| {
                    objects.iter().find(|o| {
                        o.resource == Resource::User
                            && o.provisioned
                            && o.keys.iter().any(|k| k.eq_ignore_ascii_case(id))
                    })
                };
                let mut added = Vec::new();
                let mut removed = Vec::new();
                for (old, new) in &member_changes {
                    for id in new.iter().filter(|m| !old.contains(m)) {
                        match known(id) {
                            Some(o) => added.push(Value::String(o.name.clone())),
                            None => left_out.push(format!(
                                "{what}: member `{}` is not a user this log provisions",
                                safe_note(id)
                            )),
                        }
                    }
                    for id in old.iter().filter(|m| !new.contains(m)) {
                        if let Some(o) = known(id) {
                            removed.push(Value::String(o.name.clone()));
                        }
                    }
                }
                push_update(
                    &mut entra_steps,
                    &step_id("rename"),
                    ev.resource,
                    &obj_name,
                    &set,
                    &objects[idx],
                );
                if !added.is_empty() {
                    entra_steps.push((
                        step_id("add-members"),
                        json!({"action": "add-members", "group": obj_name, "users": added}),
                        false,
                    ));
                }
                if !removed.is_empty() {
                    entra_steps.push((
                        step_id("remove-members"),
                        json!({"action": "remove-members", "group": obj_name, "users": removed}),
                        false,
                    ));
                }
            }
            (Change::Update, _) => {
                push_update(
                    &mut entra_steps,
                    &step_id("update"),
                    ev.resource,
                    &obj_name,
                    &set,
                    &objects[idx],
                );
                if let Some(a) = active {
                    if a && objects[idx].soft_deleted {
                        entra_steps.push((
                            step_id("enable"),
                            json!({"action": "enable-user", "user": obj_name}),
                            false,
                        ));
                        objects[idx].soft_deleted = false;
                    } else if !a && !objects[idx].soft_deleted {
                        entra_steps.push((
                            step_id("disable"),
                            json!({"action": "disable-user", "user": obj_name}),
                            false,
                        ));
                        objects[idx].soft_deleted = true;
                    }
                }
            }
            (Change::Disable, Resource::User) => {
                if !objects[idx].soft_deleted {
                    entra_steps.push((
                        step_id("disable"),
                        json!({"action": "disable-user", "user": obj_name}),
                        false,
                    ));
                    objects[idx].soft_deleted = true;
                }
            }
            (Change::Disable, Resource::Group) | (Change::Delete, _) => {
                entra_steps.push((
                    step_id("delete"),
                    json!({"action": format!("delete-{kind}"), action_key: obj_name}),
                    false,
                ));
                objects[idx].provisioned = false;
                objects[idx].soft_deleted = false;
            }
            (Change::Other, _) => {}
        }
        for (i, (id, action, setup)) in entra_steps.iter().enumerate() {
            let is_change = !*setup && (i + 1 == entra_steps.len());
            let mut step = Map::new();
            step.insert("id".into(), Value::String(id.clone()));
            let step_note = if *setup {
                format!("Synthesized, not in the log: the {kind} must exist before {what}.")
            } else {
                note.clone()
            };
            step.insert("note".into(), Value::String(step_note));
            step.insert("entra".into(), action.clone());
            if *setup {
                step.insert("setup".into(), Value::Bool(true));
            }
            if failed && is_change {
                let was = ev
                    .error_status
                    .map(|s| format!("answered {s}"))
                    .unwrap_or_else(|| "refused it".into());
                step.insert(
                    "expect".into(),
                    json!({"status_impact": format!(
                        "in the provisioning log the endpoint {was}; Entra retries the change every cycle and the {kind} stays out of sync"
                    )}),
                );
            }
            steps.push(Value::Object(step));
        }
    }
    let mut users = Map::new();
    let mut groups = Map::new();
    for o in &objects {
        let target = match o.resource {
            Resource::User => &mut users,
            Resource::Group => &mut groups,
        };
        target.insert(o.name.clone(), Value::Object(o.attrs.clone()));
    }
    let mut directory = Map::new();
    if !users.is_empty() {
        directory.insert("users".into(), Value::Object(users));
    }
    if !groups.is_empty() {
        directory.insert("groups".into(), Value::Object(groups));
    }
    let failures = parsed
        .events
        .iter()
        .filter(|e| e.status == Status::Failure)
        .count();
    let mut description = format!(
        "Reconstructed from provisioning logs: {} events read from {} ({}); source values from \
         their modifiedProperties mapped back through the profile `{}`. The requests are \
         rendered for the mapping profile and dialect when the scenario is loaded, so they are \
         Entra's wire form, not a recording. {failures} change(s) failed in the log; those \
         steps expect success now and keep the log's error in their note.",
        parsed.events.len(),
        safe_note(file),
        parsed.shape.label(),
        profile.name,
    );
    if parsed.next_link {
        description.push_str(" The Graph list has an @odata.nextLink: only this page was read.");
    }
    if !left_out.is_empty() {
        description.push_str(" Left out: ");
        description.push_str(&left_out.join("; "));
        description.push('.');
    }
    let steps_len = steps.len();
    let scenario = json!({
        "name": name,
        "summary": format!("Entra changes reconstructed from provisioning logs ({} events)", parsed.events.len()),
        "description": description,
        "source": "observed",
        "dialect": match dialect {
            Dialect::AadOptscim062020 => "aadOptscim062020",
            _ => "default",
        },
        "tags": ["imported", "provisioning-logs"],
        "directory": Value::Object(directory),
        "steps": steps,
    });
    Built {
        scenario,
        steps: steps_len,
        left_out,
    }
}

fn push_update(
    out: &mut Vec<(String, Value, bool)>,
    id: &str,
    resource: Resource,
    name: &str,
    set: &Map<String, Value>,
    obj: &Obj,
) {
    let _ = obj;
    if set.is_empty() {
        return;
    }
    match resource {
        Resource::User => out.push((
            id.to_string(),
            json!({"action": "update-user", "user": name, "set": set}),
            false,
        )),
        Resource::Group => {
            if let Some(Value::String(to)) = set.get("displayName") {
                out.push((
                    id.to_string(),
                    json!({"action": "rename-group", "group": name, "to": to}),
                    false,
                ));
            }
        }
    }
}

/// The members a log value names: a JSON array of ids (or of `{value}` objects), or ids
/// separated by commas or semicolons.
fn list(value: Option<&str>) -> Vec<String> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Vec::new();
    };
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(v) {
        return items
            .iter()
            .filter_map(|i| text_of(Some(i)).or_else(|| text_of(get(i, "value"))))
            .collect();
    }
    v.split([',', ';'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Create => "create",
        Change::Update => "update",
        Change::Disable => "disable",
        Change::Delete => "delete",
        Change::Other => "change",
    }
}

#[cfg(test)]
mod tests;
