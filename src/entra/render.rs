//! `render`: one Entra action on directory objects, for a mapping profile and a dialect →
//! the wire requests Entra sends, each with the checks Entra implies (as ordinary scenario
//! steps, so the runner, guard, ledger and snapshots treat them like any other step).
//!
//! Implied checks: a create or update is read back for every mapped attribute it sent; a
//! match expects exactly one result (the linked id) or none (a new object); every status
//! carries what Entra does when it is wrong.

use super::action::{Action, Expectation};
use super::directory::{Directory, Group, User, id_ref, id_var};
use super::patch::{self, Change, Op};
use super::profile::{MappingSet, Profile};
use super::target::{ENTERPRISE, ReadBack, Resource, Target};
use super::wire::{
    CREATE_IMPACT, DELETE_IMPACT, DRIFT, LIST_IMPACT, MANAGER_IMPACT, MATCH_ID_IMPACT,
    MEMBERS_IMPACT, PROBE_IMPACT, READ_IMPACT, UPDATE_IMPACT, assertion, expect, list_query,
    request, step,
};
use crate::scenario::model::{
    CaptureSource, Dialect, JsonAssertion, Method, NamedCheck, Predicate, QueryParam, RequestSpec,
    Severity, Step,
};
use crate::scim;
use serde_json::{Map, Value, json};

/// Why an action cannot be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RenderError {
    pub kind: RenderErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderErrorKind {
    /// The action needs a mapping the profile does not have (e.g. set-manager without a
    /// manager mapping): Entra would not send it, so the step does not apply.
    Unmapped,
    /// An update that changes no mapped attribute: Entra sends nothing.
    NoChange,
    /// The action names an object the directory does not have.
    UnknownObject,
}

fn error(kind: RenderErrorKind, message: String) -> RenderError {
    RenderError { kind, message }
}

/// Renders `action` as steps whose ids start with `id` (`id`, `id-read`, `id-2`, …).
/// `Dialect::Any` renders as `default`.
pub fn render(
    id: &str,
    action: &Action,
    dir: &Directory,
    profile: &Profile,
    dialect: Dialect,
) -> Result<Vec<Step>, RenderError> {
    let dialect = match dialect {
        Dialect::Any => Dialect::Default,
        d => d,
    };
    let r = Renderer {
        id,
        dir,
        profile,
        dialect,
    };
    match action {
        Action::Probe { resource } => Ok(vec![r.probe(*resource)]),
        Action::MatchUser { user, expect } => {
            let u = r.user(user)?;
            let expect = expect.unwrap_or(if u.provisioned {
                Expectation::One
            } else {
                Expectation::None
            });
            r.matching(Resource::User, user, &|a| u.value(a), expect)
        }
        Action::MatchGroup { group, expect } => {
            let g = r.group(group)?;
            let expect = expect.unwrap_or(if g.provisioned {
                Expectation::One
            } else {
                Expectation::None
            });
            r.matching(Resource::Group, group, &|a| g.value(a), expect)
        }
        Action::CreateUser { user } => {
            let u = r.user(user)?;
            Ok(r.create(Resource::User, user, &|a| u.value(a), false))
        }
        Action::CreateGroup { group } => {
            let g = r.group(group)?;
            Ok(r.create(Resource::Group, group, &|a| g.value(a), false))
        }
        Action::UpdateUser { user, set } => {
            let u = r.user(user)?;
            let mut after = u.clone();
            for (k, v) in set {
                after.attributes.insert(k.clone(), v.clone());
            }
            r.update(Resource::User, user, &|a| u.value(a), &|a| after.value(a))
        }
        Action::DisableUser { user } | Action::EnableUser { user } => {
            let u = r.user(user)?;
            let mut after = u.clone();
            after.soft_deleted = matches!(action, Action::DisableUser { .. });
            let active = Target::Attr("active".into());
            if after.soft_deleted && profile.users.get(&active).is_none() {
                // Without a soft-delete mapping Entra deletes the unassigned user.
                return Ok(vec![r.delete(Resource::User, user)]);
            }
            r.update(Resource::User, user, &|a| u.value(a), &|a| after.value(a))
        }
        Action::DeleteUser { user } => {
            r.user(user)?;
            Ok(vec![r.delete(Resource::User, user)])
        }
        Action::DeleteGroup { group } => {
            r.group(group)?;
            Ok(vec![r.delete(Resource::Group, group)])
        }
        Action::SetManager { user, manager } => {
            let u = r.user(user)?;
            let manager = manager.as_deref().or(u.manager.as_deref()).ok_or_else(|| {
                error(
                    RenderErrorKind::UnknownObject,
                    format!("user `{user}` has no manager"),
                )
            })?;
            r.user(manager)?;
            r.manager(user, Some(manager))
        }
        Action::ClearManager { user } => {
            r.user(user)?;
            r.manager(user, None)
        }
        Action::RenameGroup { group, to } => {
            let g = r.group(group)?;
            let mut after = g.clone();
            after
                .attributes
                .insert("displayName".into(), Some(to.clone()));
            r.update(Resource::Group, group, &|a| g.value(a), &|a| after.value(a))
        }
        Action::AddMembers { group, users } => r.members(group, users, true),
        Action::RemoveMembers { group, users } => r.members(group, users, false),
    }
}

/// The create with the required attributes only (userName, active, the name parts that
/// have values, displayName, externalId, the work email and the matching attributes; a group's displayName and externalId, core
/// schema only), and its read-back: what a scenario's setup falls back to when the
/// endpoint refuses the full mapped create. The steps are `<id>-fallback` and
/// `<id>-fallback-read`, so every report shows that the fallback ran.
pub fn minimal_create(
    id: &str,
    action: &Action,
    dir: &Directory,
    profile: &Profile,
) -> Option<Vec<Step>> {
    let id = format!("{id}-fallback");
    let r = Renderer {
        id: &id,
        dir,
        profile,
        dialect: Dialect::Default,
    };
    match action {
        Action::CreateUser { user } => {
            let u = r.user(user).ok()?;
            Some(r.create(Resource::User, user, &|a| u.value(a), true))
        }
        Action::CreateGroup { group } => {
            let g = r.group(group).ok()?;
            Some(r.create(Resource::Group, group, &|a| g.value(a), true))
        }
        _ => None,
    }
}

type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

struct Renderer<'a> {
    id: &'a str,
    dir: &'a Directory,
    profile: &'a Profile,
    dialect: Dialect,
}

impl<'a> Renderer<'a> {
    fn user(&self, name: &str) -> Result<&'a User, RenderError> {
        self.dir.users.get(name).ok_or_else(|| {
            error(
                RenderErrorKind::UnknownObject,
                format!("no user `{name}` in the directory"),
            )
        })
    }

    fn group(&self, name: &str) -> Result<&'a Group, RenderError> {
        self.dir.groups.get(name).ok_or_else(|| {
            error(
                RenderErrorKind::UnknownObject,
                format!("no group `{name}` in the directory"),
            )
        })
    }

    fn step_id(&self, suffix: &str) -> String {
        if suffix.is_empty() {
            self.id.to_string()
        } else {
            format!("{}-{suffix}", self.id)
        }
    }

    fn probe(&self, resource: Resource) -> Step {
        let target = self.profile.set(resource).matching[0].path();
        let filter = format!("{target} eq \"{{{{uuid.probe}}}}\"");
        step(
            self.step_id(""),
            "Test Connection: Entra queries a random GUID as the matching attribute",
            list_query(resource, filter),
            expect(
                &[200],
                PROBE_IMPACT,
                &["scim.list-response", "entra.empty-list"],
            ),
        )
    }

    fn matching(
        &self,
        resource: Resource,
        name: &str,
        values: &Lookup,
        expectation: Expectation,
    ) -> Result<Vec<Step>, RenderError> {
        let set = self.profile.set(resource);
        let candidates: Vec<(&Target, String)> = set
            .matching
            .iter()
            .filter_map(|t| {
                set.get(t)
                    .and_then(|m| m.source.eval(values))
                    .map(|v| (t, v))
            })
            .collect();
        if candidates.is_empty() {
            return Err(error(
                RenderErrorKind::Unmapped,
                format!(
                    "no matching attribute of {} `{name}` has a value: Entra skips it",
                    resource.as_str()
                ),
            ));
        }
        let queries = match expectation {
            Expectation::One => &candidates[..1],
            Expectation::None => &candidates[..],
        };
        let steps = queries
            .iter()
            .enumerate()
            .map(|(i, (target, value))| {
                let suffix = if i == 0 {
                    String::new()
                } else {
                    (i + 1).to_string()
                };
                let precedence = set.matching.iter().position(|t| t == *target).unwrap_or(0) + 1;
                let note =
                    format!("match: Entra queries matching attribute {precedence} (`{target}`)");
                let filter = format!("{target} eq \"{value}\"");
                self.match_step(&suffix, note, resource, name, filter, expectation)
            })
            .collect();
        Ok(steps)
    }

    fn match_step(
        &self,
        suffix: &str,
        note: String,
        resource: Resource,
        name: &str,
        filter: String,
        expectation: Expectation,
    ) -> Step {
        let mut checks = vec!["scim.list-response"];
        checks.push(match expectation {
            Expectation::None => "entra.empty-list",
            Expectation::One => "entra.single-match",
        });
        if resource == Resource::Group && expectation == Expectation::One {
            checks.push("entra.members-excluded");
        }
        let mut e = expect(&[200], LIST_IMPACT, &checks);
        if expectation == Expectation::One {
            e.json.push(assertion(
                "/Resources/0/id",
                Predicate::Equals(id_ref(name).into()),
                MATCH_ID_IMPACT,
            ));
        }
        step(self.step_id(suffix), &note, list_query(resource, filter), e)
    }

    /// The create POST (capturing the id) and its read-back.
    fn create(&self, resource: Resource, name: &str, values: &Lookup, minimal: bool) -> Vec<Step> {
        let set = self.profile.set(resource);
        let mut body = Map::new();
        let mut sent: Vec<(&Target, Value)> = Vec::new();
        for m in &set.mappings {
            if m.target.is_manager() || m.target == Target::Attr("members".into()) {
                continue;
            }
            if minimal && !required(resource, &m.target) && !set.matching.contains(&m.target) {
                continue;
            }
            let Some(v) = m.source.eval(values).or_else(|| m.default.clone()) else {
                continue;
            };
            let v = patch::post_value(&m.target, &v);
            m.target.insert(&mut body, v.clone());
            sent.push((&m.target, v));
        }
        let mut schemas = vec![Value::from(match resource {
            Resource::User => scim::USER_SCHEMA,
            Resource::Group => scim::GROUP_SCHEMA,
        })];
        if sent
            .iter()
            .any(|(t, _)| matches!(t, Target::Extension { urn, .. } if urn == ENTERPRISE))
        {
            schemas.push(ENTERPRISE.into());
        }
        if resource == Resource::Group && !minimal {
            schemas.push(scim::ADSCIM_GROUP_SCHEMA.into());
        }
        let mut full = Map::new();
        full.insert("schemas".into(), Value::Array(schemas));
        full.extend(body);
        let kind = if resource == Resource::User {
            "User"
        } else {
            "Group"
        };
        full.insert("meta".into(), json!({ "resourceType": kind }));
        let request = RequestSpec {
            body: Some(Value::Object(full)),
            ..request(Method::Post, resource.endpoint().into())
        };
        let mut post = step(
            self.step_id(""),
            &format!("create: Entra POSTs every mapped, non-null attribute of `{name}`"),
            request,
            expect(&[201], CREATE_IMPACT, &["scim.resource"]),
        );
        if minimal {
            post.note = Some(format!(
                "fallback: the full create of `{name}` was refused; the setup is retried with the required and matching attributes only"
            ));
        }
        post.capture
            .insert(id_var(name), CaptureSource::Body("/id".into()));
        let what = if minimal { "fallback create" } else { "create" };
        vec![post, self.read_back(resource, name, &sent, what)]
    }

    fn read_back(
        &self,
        resource: Resource,
        name: &str,
        sent: &[(&Target, Value)],
        what: &str,
    ) -> Step {
        let mut request = request(
            Method::Get,
            format!("{}/{}", resource.endpoint(), id_ref(name)),
        );
        let mut checks = vec!["scim.resource"];
        if resource == Resource::Group {
            request.query.push(QueryParam {
                name: "excludedAttributes".into(),
                value: "members".into(),
            });
            checks.push("entra.members-excluded");
        }
        if sent.iter().any(|(t, _)| t.is_active()) {
            checks.push("entra.active-boolean");
        }
        let mut e = expect(&[200], READ_IMPACT, &checks);
        for (target, value) in sent {
            let (pointer, check) = target.read_back(value);
            let predicate = match check {
                ReadBack::Equals(v) => Predicate::Equals(v),
                ReadBack::Contains(v) => Predicate::Contains(v),
            };
            let impact = if set_matches(self.profile.set(resource), target) {
                format!(
                    "Entra matches by `{target}`: a value not stored as sent is not found next cycle and Entra tries to create the object again (409 Conflict)"
                )
            } else {
                format!("{DRIFT} (`{target}`)")
            };
            e.json.push(JsonAssertion {
                pointer,
                predicate,
                severity: Severity::Fail,
                impact: Some(impact),
            });
        }
        step(
            self.step_id("read"),
            &format!(
                "verify: read `{name}` back after the {what}: every attribute sent is stored as sent"
            ),
            request,
            e,
        )
    }

    fn update(
        &self,
        resource: Resource,
        name: &str,
        before: &Lookup,
        after: &Lookup,
    ) -> Result<Vec<Step>, RenderError> {
        let set = self.profile.set(resource);
        let mut changes = Vec::new();
        for m in &set.mappings {
            if m.target.is_manager() || m.target == Target::Attr("members".into()) {
                continue;
            }
            let old = m.source.eval(before);
            // A null source value is never sent, so it does not clear the target either.
            let Some(new) = m.source.eval(after) else {
                continue;
            };
            if old.as_deref() == Some(new.as_str()) {
                continue;
            }
            let op = if old.is_some() { Op::Replace } else { Op::Add };
            changes.push(Change {
                target: &m.target,
                op,
                value: new,
            });
        }
        if changes.is_empty() {
            return Err(error(
                RenderErrorKind::NoChange,
                format!("the update changes no mapped attribute of `{name}`: Entra sends nothing"),
            ));
        }
        let ops = patch::attribute_ops(&changes, self.dialect);
        let patch = self.patch(
            resource,
            name,
            &format!("update: Entra PATCHes only the changed mapped attributes of `{name}`"),
            ops,
            UPDATE_IMPACT,
        );
        let sent: Vec<(&Target, Value)> = changes
            .iter()
            .map(|c| (c.target, patch::post_value(c.target, &c.value)))
            .collect();
        Ok(vec![patch, self.read_back(resource, name, &sent, "update")])
    }

    fn patch(
        &self,
        resource: Resource,
        name: &str,
        note: &str,
        ops: Vec<Value>,
        impact: &str,
    ) -> Step {
        let request = RequestSpec {
            body: Some(patch::body(ops)),
            ..request(
                Method::Patch,
                format!("{}/{}", resource.endpoint(), id_ref(name)),
            )
        };
        step(
            self.step_id(""),
            note,
            request,
            expect(&[200, 204], impact, &[]),
        )
    }

    fn delete(&self, resource: Resource, name: &str) -> Step {
        let request = request(
            Method::Delete,
            format!("{}/{}", resource.endpoint(), id_ref(name)),
        );
        step(
            self.step_id(""),
            &format!("delete: Entra deletes `{name}`"),
            request,
            expect(&[204], DELETE_IMPACT, &[]),
        )
    }

    fn manager(&self, user: &str, manager: Option<&str>) -> Result<Vec<Step>, RenderError> {
        let target = Target::Extension {
            urn: ENTERPRISE.into(),
            attr: "manager".into(),
        };
        if self.profile.users.get(&target).is_none() {
            return Err(error(
                RenderErrorKind::Unmapped,
                "the profile does not map the manager".into(),
            ));
        }
        let (op, note, predicate) = match manager {
            Some(m) => (
                json!({"op": Op::Add.wire(self.dialect), "path": target.path(), "value": id_ref(m)}),
                format!("manager: Entra links `{m}` as `{user}`'s manager once both exist"),
                Predicate::Equals(id_ref(m).into()),
            ),
            None => (
                json!({"op": Op::Remove.wire(self.dialect), "path": target.path()}),
                format!("manager: Entra removes `{user}`'s manager"),
                Predicate::Absent,
            ),
        };
        let patch = self.patch(Resource::User, user, &note, vec![op], MANAGER_IMPACT);
        let read = request(Method::Get, format!("/Users/{}", id_ref(user)));
        let mut e = expect(&[200], READ_IMPACT, &["scim.resource"]);
        let pointer = match manager {
            Some(_) => {
                e.checks.push(NamedCheck {
                    name: "entra.manager-complex".into(),
                    severity: None,
                });
                format!("/{ENTERPRISE}/manager/value")
            }
            None => format!("/{ENTERPRISE}/manager"),
        };
        e.json.push(assertion(&pointer, predicate, "the manager is not returned under the enterprise extension key as sent: Entra re-PATCHes it every cycle (silent drift)"));
        let verify = step(
            self.step_id("read"),
            "verify: read the manager back",
            read,
            e,
        );
        Ok(vec![patch, verify])
    }

    fn members(&self, group: &str, users: &[String], add: bool) -> Result<Vec<Step>, RenderError> {
        self.group(group)?;
        for u in users {
            self.user(u)?;
        }
        if self
            .profile
            .groups
            .get(&Target::Attr("members".into()))
            .is_none()
        {
            return Err(error(
                RenderErrorKind::Unmapped,
                "the profile does not map group members".into(),
            ));
        }
        let ids: Vec<String> = users.iter().map(|u| id_ref(u)).collect();
        let (ops, note) = if add {
            (
                patch::add_members(&ids, self.dialect),
                format!(
                    "members: Entra adds {} member(s) to `{group}` in one PATCH",
                    ids.len()
                ),
            )
        } else {
            (
                patch::remove_members(&ids, self.dialect),
                format!(
                    "members: Entra removes {} member(s) from `{group}`",
                    ids.len()
                ),
            )
        };
        let patch = self.patch(Resource::Group, group, &note, ops, MEMBERS_IMPACT);
        let read = request(Method::Get, format!("/Groups/{}", id_ref(group)));
        let mut e = expect(&[200], READ_IMPACT, &["scim.resource"]);
        for id in &ids {
            let member = json!({ "value": id });
            let p = if add {
                Predicate::Contains(member)
            } else {
                Predicate::NotContains(member)
            };
            e.json.push(assertion("/members", p, "silent drift: the membership did not change as sent, so Entra sees a difference every cycle (~40 min) and re-sends this PATCH forever"));
        }
        let verify = step(
            self.step_id("read"),
            "verify: read the group with its members (a check of the harness, not Entra traffic)",
            read,
            e,
        );
        Ok(vec![patch, verify])
    }
}

/// The attributes a fallback create keeps: what a SCIM user or group cannot do without,
/// and, for users, the identifiers a later match or lookup relies on (`externalId`, the
/// work email) and displayName, so the scenario's own subject still finds its object.
fn required(resource: Resource, target: &Target) -> bool {
    match resource {
        Resource::User => {
            matches!(target, Target::Attr(a) if ["userName", "active", "displayName", "externalId"].contains(&a.as_str()))
                || matches!(target, Target::Sub { parent, .. } if parent == "name")
                || target.path() == "emails[type eq \"work\"].value"
        }
        Resource::Group => {
            matches!(target, Target::Attr(a) if a == "displayName" || a == "externalId")
        }
    }
}

fn set_matches(set: &MappingSet, target: &Target) -> bool {
    set.matching.contains(target)
}
