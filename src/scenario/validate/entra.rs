//! Validation of a scenario's `directory` (Entra users and groups by source attribute) and
//! of its `entra` steps (actions on those objects).

use super::refs::Scope;
use super::{Checker, Target, child, one_of};
use crate::entra::action::NAMES;
use crate::entra::directory::{is_object_name, source_value};
use crate::entra::overlay::{Overlay, SetOverlay};
use crate::entra::{Action, Directory, Expectation, Group, Resource, User};
use crate::scenario::error::did_you_mean;
use crate::scenario::model::EntraStep;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const DIRECTORY_KEYS: &[&str] = &["users", "groups"];
const OVERLAY_KEYS: &[&str] = &["map", "unmap", "matching"];
const ENTRA_STEP_KEYS: &[&str] = &[
    "id",
    "note",
    "entra",
    "setup",
    "expect",
    "read",
    "no_snapshot",
];

impl Checker {
    /// The `profile` object: the scenario's changes to the active mapping profile.
    pub(super) fn profile_overlay(&mut self, value: &Value) -> Overlay {
        let mut overlay = Overlay::default();
        let Some(map) = self.object(value, "/profile", "`profile`") else {
            return overlay;
        };
        self.keys(map, "/profile", DIRECTORY_KEYS);
        for (resource, key) in [(Resource::User, "users"), (Resource::Group, "groups")] {
            let ptr = child("/profile", key);
            let Some(set) = map
                .get(key)
                .and_then(|v| self.object(v, &ptr, "changes to the mappings"))
            else {
                continue;
            };
            self.keys(set, &ptr, OVERLAY_KEYS);
            let o = self.set_overlay(set, &ptr, resource);
            match resource {
                Resource::User => overlay.users = o,
                Resource::Group => overlay.groups = o,
            }
        }
        self.overlay_matching(&overlay);
        overlay
    }

    fn set_overlay(&mut self, set: &Map<String, Value>, ptr: &str, res: Resource) -> SetOverlay {
        let mut o = SetOverlay::default();
        if let Some(m) = set
            .get("map")
            .and_then(|v| self.object(v, &child(ptr, "map"), "target → source attribute"))
        {
            for (target, source) in m {
                let at = child(&child(ptr, "map"), target);
                let Some(t) = self.target(res, target, &at, Target::Key) else {
                    continue;
                };
                let Some(src) = self.string(source, &at, "a source attribute name") else {
                    continue;
                };
                let valid = !src.is_empty()
                    && src
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                if !valid {
                    self.fail(&at, format!("invalid source attribute name `{src}`"), None);
                    continue;
                }
                o.map.push((t, src));
            }
        }
        for (key, list) in [("unmap", &mut o.unmap), ("matching", &mut Vec::new())] {
            let at = child(ptr, key);
            let Some(items) = set
                .get(key)
                .and_then(|v| self.array(v, &at, "target paths"))
            else {
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                let item_at = format!("{at}/{i}");
                if let Some(t) = self
                    .string(item, &item_at, "a target path")
                    .and_then(|text| self.target(res, &text, &item_at, Target::Value))
                {
                    if list.contains(&t) {
                        self.fail(&item_at, format!("`{t}` is listed twice"), None);
                    } else {
                        list.push(t);
                    }
                }
            }
            if key == "matching" {
                if items.is_empty() {
                    self.fail(&at, "at least one matching attribute is needed", None);
                }
                o.matching = Some(std::mem::take(list));
            }
        }
        o
    }

    fn target(
        &mut self,
        res: Resource,
        text: &str,
        at: &str,
        place: Target,
    ) -> Option<crate::entra::Target> {
        match crate::entra::Target::parse(res, text) {
            Ok(t) => Some(t),
            Err(e) => {
                self.push(at, place, e.message, e.hint);
                None
            }
        }
    }

    /// Every matching attribute must be mapped once the changes apply to the default profile.
    fn overlay_matching(&mut self, overlay: &Overlay) {
        let profile = crate::entra::profile::builtin();
        for (key, o, set) in [
            ("users", &overlay.users, &profile.users),
            ("groups", &overlay.groups, &profile.groups),
        ] {
            for (i, t) in o.matching.iter().flatten().enumerate() {
                let mapped = o.map.iter().any(|(m, _)| m == t)
                    || (set.get(t).is_some() && !o.unmap.contains(t));
                if !mapped {
                    self.fail(
                        &format!("/profile/{key}/matching/{i}"),
                        format!("matching attribute `{t}` is not mapped"),
                        Some("add a mapping to it under `map`, from a source attribute".into()),
                    );
                }
            }
        }
    }

    /// The `directory` object.
    pub(super) fn directory(&mut self, value: &Value, scope: &Scope) -> Directory {
        let mut dir = Directory::default();
        let Some(map) = self.object(value, "/directory", "`directory`") else {
            return dir;
        };
        self.keys(map, "/directory", DIRECTORY_KEYS);
        for (kind, ptr) in [
            ("users", "/directory/users"),
            ("groups", "/directory/groups"),
        ] {
            let Some(objects) = map
                .get(kind)
                .and_then(|v| self.object(v, ptr, "objects by name"))
            else {
                continue;
            };
            for (name, v) in objects {
                let at = child(ptr, name);
                if !is_object_name(name) {
                    let hint = "use lowercase letters, digits and `_`, starting with a letter";
                    self.push(
                        &at,
                        Target::Key,
                        format!("invalid object name `{name}`"),
                        Some(hint.into()),
                    );
                    continue;
                }
                let Some(attrs) = self.object(v, &at, "source attributes") else {
                    continue;
                };
                let (values, refs) = self.source_attributes(attrs, &at, scope, kind == "users");
                if kind == "users" {
                    let mut u = User {
                        attributes: values,
                        ..User::default()
                    };
                    u.manager = refs.first().cloned();
                    dir.users.insert(name.clone(), u);
                } else {
                    let g = Group {
                        attributes: values,
                        members: refs,
                        ..Group::default()
                    };
                    dir.groups.insert(name.clone(), g);
                }
            }
        }
        self.directory_refs(&dir);
        dir
    }

    /// Source attributes; `manager` (users) and `members` (groups) name other objects.
    fn source_attributes(
        &mut self,
        attrs: &Map<String, Value>,
        at: &str,
        scope: &Scope,
        user: bool,
    ) -> (BTreeMap<String, Option<String>>, Vec<String>) {
        let mut values = BTreeMap::new();
        let mut refs = Vec::new();
        let name = at.rsplit('/').next().unwrap_or("").to_string();
        for (k, v) in attrs {
            let ptr = child(at, k);
            if user && k == "manager" {
                refs.extend(self.string(v, &ptr, "the name of the manager (a user)"));
            } else if !user && k == "members" {
                let items = self.array(v, &ptr, "member user names").unwrap_or(&[]);
                for (i, item) in items.iter().enumerate() {
                    refs.extend(self.string(item, &format!("{ptr}/{i}"), "a user name"));
                }
            } else if k.eq_ignore_ascii_case("IsSoftDeleted") {
                self.push(
                    &ptr,
                    Target::Key,
                    "`IsSoftDeleted` is computed by Entra".into(),
                    Some("use the `disable-user` action to soft-delete a user".into()),
                );
            } else {
                match source_value(v) {
                    Ok(value) => {
                        if let Some(text) = &value {
                            self.template(text, &ptr, false, scope);
                        }
                        values.insert(k.clone(), value);
                    }
                    Err(e) => self.fail(&ptr, e, None),
                }
            }
        }
        if !values.keys().any(|k| k == "objectId") {
            values.insert("objectId".into(), Some(format!("{{{{uuid.{name}}}}}")));
        }
        (values, refs)
    }

    fn directory_refs(&mut self, dir: &Directory) {
        for (name, u) in &dir.users {
            if let Some(m) = &u.manager {
                if !dir.users.contains_key(m) {
                    let at = format!("/directory/users/{name}/manager");
                    self.fail(
                        &at,
                        format!("no user `{m}` in the directory"),
                        self.hint_object(m, dir.users.keys()),
                    );
                }
            }
        }
        for (name, g) in &dir.groups {
            for (i, m) in g.members.iter().enumerate() {
                if !dir.users.contains_key(m) {
                    let at = format!("/directory/groups/{name}/members/{i}");
                    self.fail(
                        &at,
                        format!("no user `{m}` in the directory"),
                        self.hint_object(m, dir.users.keys()),
                    );
                }
            }
        }
    }

    fn hint_object<'a>(
        &self,
        name: &str,
        known: impl Iterator<Item = &'a String>,
    ) -> Option<String> {
        let known: Vec<&str> = known.map(String::as_str).collect();
        did_you_mean(name, &known).or_else(|| Some("declare it under `directory`".into()))
    }

    /// One `entra` step.
    pub(super) fn entra_step(
        &mut self,
        map: &Map<String, Value>,
        ptr: &str,
        scope: &Scope,
        ids: &mut BTreeMap<String, usize>,
        index: usize,
        directory: &Directory,
    ) -> Option<EntraStep> {
        self.keys(map, ptr, ENTRA_STEP_KEYS);
        let id = self
            .required(map, ptr, "id")
            .and_then(|v| self.step_id(v, &child(ptr, "id"), index, ids));
        let note = self.optional_string(map, ptr, "note");
        let at = child(ptr, "entra");
        let action = self
            .required(map, ptr, "entra")
            .and_then(|v| self.action(v, &at, directory));
        let flag = |c: &mut Checker, key: &str| match map.get(key) {
            Some(v) => c.boolean(v, &child(ptr, key), &format!("`{key}`")),
            None => Some(false),
        };
        let setup = flag(self, "setup");
        let no_snapshot = flag(self, "no_snapshot");
        let expect = match map.get("expect") {
            Some(v) => self.expect(v, &child(ptr, "expect"), scope),
            None => Some(Default::default()),
        };
        // The read-back follows the action's own request, so it may use what that captures.
        let read = match map.get("read") {
            Some(v) => self.expect(v, &child(ptr, "read"), &scope.after_current()),
            None => Some(Default::default()),
        };
        for (key, e) in [("expect", &expect), ("read", &read)] {
            if e.as_ref().is_some_and(|e| e.mapped_schemas.is_some()) {
                self.fail(
                    &child(&child(ptr, key), "mapped_schemas"),
                    "`mapped_schemas` checks a `GET /Schemas` answer, which no action sends",
                    Some("put it on a raw step that sends `GET /Schemas`".into()),
                );
                return None;
            }
        }
        let action = action?;
        if let Some(e) = expect.as_ref().filter(|e| !e.status.is_empty()) {
            let status = child(&child(ptr, "expect"), "status");
            let refused = e.refusal();
            if !refused && e.status.iter().any(|s| *s >= 300) {
                self.fail(
                    &status,
                    "`status` mixes success and refusal: the action is read back only when it succeeds",
                    Some("list only 2xx codes, or only the refusals the endpoint must answer".into()),
                );
                return None;
            }
            let problem = if !refused {
                None
            } else if matches!(
                action,
                Action::Probe { .. } | Action::MatchUser { .. } | Action::MatchGroup { .. }
            ) {
                Some((
                    status,
                    format!("a `{}` reads, it is not refused", action.name()),
                    "a refusal applies to a write; a read Entra sends answers 200",
                ))
            } else if setup == Some(true) {
                Some((
                    child(ptr, "setup"),
                    "a setup step must succeed, not be refused".to_string(),
                    "drop `setup`, or expect a 2xx",
                ))
            } else if map.contains_key("read") {
                Some((
                    child(ptr, "read"),
                    "a refused write is not read back".to_string(),
                    "check what the refusal left with a later step",
                ))
            } else {
                None
            };
            if let Some((at, message, hint)) = problem {
                self.fail(&at, message, Some(hint.into()));
                return None;
            }
        }
        if map.contains_key("read") && !action.reads_back() {
            self.fail(
                &child(ptr, "read"),
                format!("`{}` has no read-back to check", action.name()),
                Some(
                    "a create, update, disable, enable, manager or members action is read back; \
                     put checks of this action's own answer under `expect`"
                        .into(),
                ),
            );
            return None;
        }
        Some(EntraStep {
            id: id?,
            note,
            action,
            setup: setup?,
            expect: expect?,
            read: read?,
            no_snapshot: no_snapshot?,
        })
    }

    fn action(&mut self, value: &Value, ptr: &str, dir: &Directory) -> Option<Action> {
        let map = self.object(value, ptr, "an Entra action")?;
        let name = self
            .required(map, ptr, "action")
            .and_then(|v| self.string(v, &child(ptr, "action"), "an action name"))?;
        let keys: &[&str] = match name.as_str() {
            "probe" => &["action", "resource"],
            "match-user" => &["action", "user", "expect"],
            "update-user" => &["action", "user", "set"],
            "set-manager" => &["action", "user", "manager"],
            "create-user" | "disable-user" | "enable-user" | "delete-user" | "clear-manager" => {
                &["action", "user"]
            }
            "match-group" => &["action", "group", "expect"],
            "rename-group" => &["action", "group", "to"],
            "add-members" | "remove-members" => &["action", "group", "users"],
            "create-group" | "delete-group" => &["action", "group"],
            _ => {
                let hint = did_you_mean(&name, NAMES).or_else(|| Some(one_of(NAMES)));
                self.fail(
                    &child(ptr, "action"),
                    format!("unknown Entra action `{name}`"),
                    hint,
                );
                return None;
            }
        };
        self.keys(map, ptr, keys);
        let user = |c: &mut Checker, key: &str| c.object_ref(map, ptr, key, dir, true);
        let group = |c: &mut Checker| c.object_ref(map, ptr, "group", dir, false);
        let action = match name.as_str() {
            "probe" => {
                let r = [("users", Resource::User), ("groups", Resource::Group)];
                let resource = match map.get("resource") {
                    Some(v) => self.choice(v, &child(ptr, "resource"), "resource", &r)?,
                    None => Resource::User,
                };
                Action::Probe { resource }
            }
            "match-user" => Action::MatchUser {
                user: user(self, "user")?,
                expect: self.expectation(map, ptr)?,
            },
            "create-user" => Action::CreateUser {
                user: user(self, "user")?,
            },
            "update-user" => {
                let u = user(self, "user")?;
                let set = self.required(map, ptr, "set").and_then(|v| {
                    self.object(v, &child(ptr, "set"), "changed source attributes")
                })?;
                let mut out = BTreeMap::new();
                for (k, v) in set {
                    match source_value(v) {
                        Ok(value) => {
                            out.insert(k.clone(), value);
                        }
                        Err(e) => self.fail(&child(&child(ptr, "set"), k), e, None),
                    }
                }
                Action::UpdateUser { user: u, set: out }
            }
            "disable-user" => Action::DisableUser {
                user: user(self, "user")?,
            },
            "enable-user" => Action::EnableUser {
                user: user(self, "user")?,
            },
            "delete-user" => Action::DeleteUser {
                user: user(self, "user")?,
            },
            "clear-manager" => Action::ClearManager {
                user: user(self, "user")?,
            },
            "set-manager" => {
                let u = user(self, "user")?;
                let manager = match map.get("manager") {
                    Some(_) => Some(user(self, "manager")?),
                    None => None,
                };
                if manager.is_none() && dir.users.get(&u).is_some_and(|x| x.manager.is_none()) {
                    self.fail(
                        ptr,
                        format!("user `{u}` has no manager in the directory"),
                        Some("name one with `manager`".into()),
                    );
                    return None;
                }
                Action::SetManager { user: u, manager }
            }
            "match-group" => Action::MatchGroup {
                group: group(self)?,
                expect: self.expectation(map, ptr)?,
            },
            "create-group" => Action::CreateGroup {
                group: group(self)?,
            },
            "delete-group" => Action::DeleteGroup {
                group: group(self)?,
            },
            "rename-group" => {
                let g = group(self)?;
                let to = self
                    .required(map, ptr, "to")
                    .and_then(|v| self.string(v, &child(ptr, "to"), "the new displayName"))?;
                Action::RenameGroup { group: g, to }
            }
            _ => {
                let g = group(self)?;
                let users = self.member_list(map, ptr, dir, &g)?;
                if name == "add-members" {
                    Action::AddMembers { group: g, users }
                } else {
                    Action::RemoveMembers { group: g, users }
                }
            }
        };
        Some(action)
    }

    fn expectation(&mut self, map: &Map<String, Value>, ptr: &str) -> Option<Option<Expectation>> {
        let options = [("none", Expectation::None), ("one", Expectation::One)];
        match map.get("expect") {
            Some(v) => self
                .choice(v, &child(ptr, "expect"), "match expectation", &options)
                .map(Some),
            None => Some(None),
        }
    }

    fn object_ref(
        &mut self,
        map: &Map<String, Value>,
        ptr: &str,
        key: &str,
        dir: &Directory,
        user: bool,
    ) -> Option<String> {
        let at = child(ptr, key);
        let name = self
            .required(map, ptr, key)
            .and_then(|v| self.string(v, &at, "an object name"))?;
        let (known, what): (Vec<&String>, &str) = if user {
            (dir.users.keys().collect(), "user")
        } else {
            (dir.groups.keys().collect(), "group")
        };
        if known.iter().any(|k| **k == name) {
            return Some(name);
        }
        let hint = self.hint_object(&name, known.into_iter());
        self.fail(&at, format!("no {what} `{name}` in the directory"), hint);
        None
    }

    /// `users` of a member action; defaults to the group's directory members.
    fn member_list(
        &mut self,
        map: &Map<String, Value>,
        ptr: &str,
        dir: &Directory,
        group: &str,
    ) -> Option<Vec<String>> {
        let Some(v) = map.get("users") else {
            let members = dir
                .groups
                .get(group)
                .map(|g| g.members.clone())
                .unwrap_or_default();
            if members.is_empty() {
                self.fail(
                    ptr,
                    format!("group `{group}` has no members in the directory"),
                    Some("list them in `users`".into()),
                );
                return None;
            }
            return Some(members);
        };
        let at = child(ptr, "users");
        let items = self.array(v, &at, "user names")?;
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_at = format!("{at}/{i}");
            let name = self.string(item, &item_at, "a user name")?;
            if !dir.users.contains_key(&name) {
                let hint = self.hint_object(&name, dir.users.keys());
                self.fail(&item_at, format!("no user `{name}` in the directory"), hint);
                return None;
            }
            out.push(name);
        }
        if out.is_empty() {
            self.fail(&at, "at least one user is needed", None);
            return None;
        }
        Some(out)
    }
}
