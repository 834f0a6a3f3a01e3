//! `mappings discover`: the profile an admin ends up with after comparing Entra's default
//! mappings with what an endpoint publishes in `/Schemas` and `/ResourceTypes`.
//!
//! `trim` is pure: it takes the two discovery documents (or what went wrong fetching them)
//! and drops every mapping whose target the endpoint does not publish, saying in words why
//! each drop matters. `discover` fetches the documents with the run's client and calls it.
//!
//! What counts as published: a core attribute listed in the resource type's core schema
//! (sub-attributes checked when the schema lists them); an extension attribute listed in an
//! extension schema the resource type declares (when `/ResourceTypes` is missing, any
//! extension schema in `/Schemas`). `id`, `externalId` and `meta` are common attributes
//! (RFC 7643 §3.1) that schemas do not list, so `externalId` is always published. A
//! matching attribute is never dropped: the profile must keep one, and a server that does
//! not publish its own `userName` is worth a note, not a profile without a joiner.

use super::profile::{MappingSet, Profile};
use super::target::{Resource, Target};
use crate::http::{Client, OutgoingRequest};
use crate::scenario::model::{AuthMode, Method, QueryStyle};
use crate::scim;
use serde_json::Value;

/// What discovery found: the trimmed profile and the notes that explain it.
#[derive(Clone, Debug, PartialEq)]
pub struct Discovery {
    pub profile: Profile,
    /// One line per dropped mapping, then anything else worth knowing (no discovery, a
    /// matching attribute kept although unpublished).
    pub notes: Vec<String>,
    /// The targets dropped, users then groups.
    pub dropped: Vec<(Resource, Target)>,
}

/// One discovery document as fetched: its JSON, or why there is none.
pub type Fetched = Result<Value, String>;

/// The attributes one schema publishes.
#[derive(Clone, Debug, Default)]
struct SchemaDoc {
    id: String,
    attributes: Vec<Value>,
}

/// Trims `base` to what `/Schemas` (and `/ResourceTypes`) publish.
pub fn trim(base: &Profile, schemas: Fetched, resource_types: Fetched) -> Discovery {
    let mut profile = base.clone();
    let mut notes = Vec::new();
    let mut dropped = Vec::new();
    let docs = match schemas.and_then(|v| schema_docs(&v)) {
        Ok(docs) => docs,
        Err(why) => {
            notes.push(format!(
                "no usable /Schemas ({why}): keeping Entra's default mappings; remove the ones \
                 your endpoint does not support by hand (see docs/mappings.md)"
            ));
            return Discovery {
                profile,
                notes,
                dropped,
            };
        }
    };
    let types = resource_types.ok();
    profile.name = "discovered".into();
    for res in [Resource::User, Resource::Group] {
        let Some(core) = core_schema(res, &docs) else {
            notes.push(format!(
                "/Schemas has no {} schema ({}): keeping the default {} mappings",
                res.as_str(),
                core_urn(res),
                res.as_str()
            ));
            continue;
        };
        let extensions = extension_schemas(res, &docs, types.as_ref());
        let set = profile.set_mut(res);
        let targets: Vec<Target> = set.mappings.iter().map(|m| m.target.clone()).collect();
        for target in targets {
            let Some(missing) = unpublished(&target, core, &extensions) else {
                continue;
            };
            if set.matching.contains(&target) {
                notes.push(format!(
                    "`{target}` is not in your /Schemas ({missing}), but it is the {} matching \
                     attribute: kept; publish it, or choose another matching attribute",
                    res.as_str()
                ));
                continue;
            }
            notes.push(drop_note(set, &target, &missing));
            set.remove(&target);
            dropped.push((res, target));
        }
    }
    Discovery {
        profile,
        notes,
        dropped,
    }
}

fn core_urn(res: Resource) -> &'static str {
    match res {
        Resource::User => scim::USER_SCHEMA,
        Resource::Group => scim::GROUP_SCHEMA,
    }
}

/// The sentence for one dropped mapping.
fn drop_note(set: &MappingSet, target: &Target, missing: &str) -> String {
    let source = set
        .get(target)
        .map(|m| m.source_text.clone())
        .unwrap_or_default();
    let when = if target.is_manager() {
        "sends it whenever a user has a manager".to_string()
    } else if target.is_active() {
        "sends it on every create and to disable a user (without it, Entra deletes unassigned \
         users instead)"
            .to_string()
    } else if target == &Target::Attr("members".into()) {
        "sends group memberships through it".to_string()
    } else {
        format!("sends it on every create where `{source}` has a value")
    };
    format!(
        "`{target}` is not in your /Schemas ({missing}): Entra's default mapping {when}; \
         remove the mapping in Entra or accept the attribute"
    )
}

/// The schema resources of a `/Schemas` answer: a ListResponse, or a bare array.
fn schema_docs(v: &Value) -> Result<Vec<SchemaDoc>, String> {
    let items = match v {
        Value::Array(items) => items,
        Value::Object(o) => match o.get("Resources") {
            Some(Value::Array(items)) => items,
            _ => return Err("the answer has no `Resources` list".into()),
        },
        _ => return Err("the answer is not a JSON object".into()),
    };
    let docs: Vec<SchemaDoc> = items
        .iter()
        .filter_map(|d| {
            Some(SchemaDoc {
                id: d.get("id")?.as_str()?.to_string(),
                attributes: d
                    .get("attributes")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            })
        })
        .collect();
    if docs.is_empty() {
        return Err("it lists no schema with an `id`".into());
    }
    Ok(docs)
}

fn find<'a>(docs: &'a [SchemaDoc], urn: &str) -> Option<&'a SchemaDoc> {
    docs.iter().find(|d| d.id.eq_ignore_ascii_case(urn))
}

/// The resource type document for `res` in a `/ResourceTypes` answer.
fn resource_type(res: Resource, types: &Value) -> Option<&Value> {
    let items = match types {
        Value::Array(items) => items,
        Value::Object(o) => o.get("Resources")?.as_array()?,
        _ => return None,
    };
    let name = match res {
        Resource::User => "User",
        Resource::Group => "Group",
    };
    items.iter().find(|t| {
        let endpoint = t.get("endpoint").and_then(Value::as_str).unwrap_or("");
        let tname = t.get("name").and_then(Value::as_str).unwrap_or("");
        endpoint
            .trim_start_matches('/')
            .eq_ignore_ascii_case(&res.endpoint()[1..])
            || tname.eq_ignore_ascii_case(name)
    })
}

/// The core schema of `res`: the one its resource type names, else the RFC's URN.
fn core_schema(res: Resource, docs: &[SchemaDoc]) -> Option<&SchemaDoc> {
    find(docs, core_urn(res))
}

/// The extension schemas `res` may carry.
fn extension_schemas<'a>(
    res: Resource,
    docs: &'a [SchemaDoc],
    types: Option<&Value>,
) -> Vec<&'a SchemaDoc> {
    let declared = types.and_then(|t| resource_type(res, t)).map(|t| {
        t.get("schemaExtensions")
            .and_then(Value::as_array)
            .map(|exts| {
                exts.iter()
                    .filter_map(|e| e.get("schema").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    match declared {
        Some(urns) => urns.iter().filter_map(|u| find(docs, u)).collect(),
        None => {
            let suffix = match res {
                Resource::User => ":user",
                Resource::Group => ":group",
            };
            docs.iter()
                .filter(|d| {
                    let id = d.id.to_ascii_lowercase();
                    id.starts_with("urn:ietf:params:scim:schemas:extension:")
                        && id.ends_with(suffix)
                })
                .collect()
        }
    }
}

fn attribute<'a>(attrs: &'a [Value], name: &str) -> Option<&'a Value> {
    attrs.iter().find(|a| {
        a.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

/// True when `attr` lists `sub` among its sub-attributes, or lists none at all.
fn has_sub(attr: &Value, sub: &str) -> bool {
    match attr.get("subAttributes").and_then(Value::as_array) {
        Some(subs) if !subs.is_empty() => attribute(subs, sub).is_some(),
        _ => true,
    }
}

/// `None` when the endpoint publishes `target`; otherwise what is missing, in words.
fn unpublished(target: &Target, core: &SchemaDoc, extensions: &[&SchemaDoc]) -> Option<String> {
    let in_core = |name: &str| attribute(&core.attributes, name);
    match target {
        Target::Attr(a) if a == "externalId" => None,
        Target::Attr(a) => in_core(a)
            .is_none()
            .then(|| format!("{} lists no `{a}`", core.id)),
        Target::Sub { parent, sub }
        | Target::Typed {
            attr: parent, sub, ..
        } => match in_core(parent) {
            None => Some(format!("{} lists no `{parent}`", core.id)),
            Some(p) if !has_sub(p, sub) => {
                Some(format!("`{parent}` in {} has no `{sub}`", core.id))
            }
            Some(_) => None,
        },
        Target::Extension { urn, attr } => {
            match extensions.iter().find(|d| d.id.eq_ignore_ascii_case(urn)) {
                None => Some(format!(
                    "the resource type does not carry the extension {urn}"
                )),
                Some(d) => attribute(&d.attributes, attr)
                    .is_none()
                    .then(|| format!("{urn} lists no `{attr}`")),
            }
        }
    }
}

fn get(path: &str) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::Get,
        path: path.into(),
        query: Vec::new(),
        query_style: QueryStyle::Entra,
        headers: Vec::new(),
        auth: AuthMode::Token,
        body: None,
    }
}

/// How the endpoint answered the discovery requests, apart from what they said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// It answered (whatever the status).
    Answered,
    /// No HTTP answer at all: why.
    Unreachable(String),
    /// 401 or 403: the token was refused.
    Rejected(u16),
}

/// Fetches one discovery document: a 2xx JSON answer, or why there is none.
async fn fetch(client: &Client, path: &str) -> (Fetched, Reach) {
    let exchange = client.send(&get(path)).await;
    let Some(response) = exchange.response else {
        let why = exchange
            .fault
            .map(|f| f.message)
            .unwrap_or_else(|| "no answer".into());
        return (
            Err(format!("GET {path} failed: {why}")),
            Reach::Unreachable(why),
        );
    };
    let reach = match response.status {
        401 | 403 => Reach::Rejected(response.status),
        _ => Reach::Answered,
    };
    if !(200..300).contains(&response.status) {
        return (
            Err(format!("GET {path} answered {}", response.status)),
            reach,
        );
    }
    let doc = response
        .json
        .ok_or_else(|| format!("GET {path} answered {} without JSON", response.status));
    (doc, reach)
}

/// Reads the endpoint's `/Schemas` and `/ResourceTypes` and trims Entra's defaults; the
/// reach is that of the `/Schemas` request.
pub async fn discover(client: &Client) -> (Discovery, Reach) {
    let (schemas, reach) = fetch(client, "/Schemas").await;
    let (types, _) = fetch(client, "/ResourceTypes").await;
    (trim(&Profile::default_mappings(), schemas, types), reach)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reference_docs() -> (Value, Value) {
        let base = "http://h/scim/v2";
        (
            crate::reference::discovery::schemas(base, None).unwrap(),
            crate::reference::discovery::resource_types(base, None).unwrap(),
        )
    }

    #[test]
    fn an_endpoint_that_publishes_everything_keeps_every_default() {
        let (s, t) = reference_docs();
        let d = trim(&Profile::default_mappings(), Ok(s), Ok(t));
        assert!(d.dropped.is_empty(), "{:#?}", d.notes);
        assert_eq!(d.profile.users, Profile::default_mappings().users);
    }

    #[test]
    fn unpublished_targets_are_dropped_and_explained() {
        let schemas = json!({"Resources": [
            {"id": scim::USER_SCHEMA, "attributes": [
                {"name": "userName"}, {"name": "active"}, {"name": "displayName"},
                {"name": "name", "subAttributes": [{"name": "givenName"}, {"name": "familyName"}]},
                {"name": "emails", "subAttributes": [{"name": "value"}, {"name": "type"}]}]},
            {"id": scim::GROUP_SCHEMA, "attributes": [{"name": "displayName"}, {"name": "members"}]}
        ]});
        let types = json!({"Resources": [{"name": "User", "endpoint": "/Users",
                                          "schema": scim::USER_SCHEMA}]});
        let d = trim(&Profile::default_mappings(), Ok(schemas), Ok(types));
        let paths: Vec<String> = d.dropped.iter().map(|(_, t)| t.path()).collect();
        assert!(paths.contains(&"title".to_string()), "{paths:?}");
        assert!(paths.iter().any(|p| p.starts_with("phoneNumbers")));
        assert!(paths.iter().any(|p| p.starts_with("addresses")));
        assert!(paths.iter().any(|p| p.ends_with(":manager")));
        assert!(
            !paths.contains(&"externalId".to_string()),
            "a common attribute"
        );
        assert_eq!(d.profile.users.mappings.len(), 7, "{paths:?}");
        assert_eq!(d.notes.len(), d.dropped.len());
        let title = d.notes.iter().find(|n| n.starts_with("`title`")).unwrap();
        assert_eq!(
            title,
            &format!(
                "`title` is not in your /Schemas ({} lists no `title`): Entra's default mapping \
                 sends it on every create where `jobTitle` has a value; remove the mapping in \
                 Entra or accept the attribute",
                scim::USER_SCHEMA
            )
        );
        // The trimmed profile is a valid profile file.
        let text = serde_json::to_string(&d.profile.to_json()).unwrap();
        assert!(super::super::profile::parse("p.json", &text).is_ok());
    }

    #[test]
    fn no_discovery_keeps_the_defaults_with_a_note() {
        let d = trim(
            &Profile::default_mappings(),
            Err("GET /Schemas answered 404".into()),
            Err("x".into()),
        );
        assert_eq!(d.profile, Profile::default_mappings());
        assert_eq!(d.notes.len(), 1);
        assert!(d.notes[0].starts_with("no usable /Schemas (GET /Schemas answered 404)"));
        let d = trim(
            &Profile::default_mappings(),
            Ok(json!("x")),
            Err("x".into()),
        );
        assert!(d.notes[0].contains("not a JSON object"));
    }

    #[test]
    fn a_matching_attribute_is_kept_and_extensions_need_a_declaring_resource_type() {
        let schemas = json!([
            {"id": scim::USER_SCHEMA, "attributes": [{"name": "active"}]},
            {"id": scim::ENTERPRISE_USER_SCHEMA, "attributes": [{"name": "department"}]}
        ]);
        // Without /ResourceTypes any published user extension counts.
        let d = trim(
            &Profile::default_mappings(),
            Ok(schemas.clone()),
            Err("x".into()),
        );
        let u = &d.profile.users;
        assert!(u.get(&Target::Attr("userName".into())).is_some());
        assert!(
            d.notes
                .iter()
                .any(|n| n.contains("matching attribute: kept"))
        );
        let dept = Target::parse(
            Resource::User,
            &format!("{}:department", scim::ENTERPRISE_USER_SCHEMA),
        )
        .unwrap();
        assert!(u.get(&dept).is_some());
        assert!(d.notes.iter().any(|n| n.contains("no group schema")));
        // A resource type without schemaExtensions carries none.
        let types = json!([{"name": "User", "endpoint": "/Users"}]);
        let d = trim(&Profile::default_mappings(), Ok(schemas), Ok(types));
        assert!(d.profile.users.get(&dept).is_none());
    }
}
