//! The actions Entra's provisioning service performs against an app, on named directory
//! objects, and how each changes the directory state (`apply`).

use super::directory::Directory;
use super::target::Resource;
use std::collections::BTreeMap;

/// What a match query should find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// A new object: every matching query answers an empty list.
    None,
    /// An object Entra provisioned: exactly one result, the linked id.
    One,
}

/// One thing Entra does. Names refer to `Directory` objects.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Test Connection / start of every activity: query a random GUID.
    Probe {
        resource: Resource,
    },
    /// Query by the matching attributes in precedence order. `expect` defaults to `One`
    /// for a provisioned object and `None` otherwise.
    MatchUser {
        user: String,
        expect: Option<Expectation>,
    },
    /// POST every mapped, non-null source value (manager follows separately).
    CreateUser {
        user: String,
    },
    /// Change source attributes; Entra PATCHes only the mapped targets whose value changed.
    UpdateUser {
        user: String,
        set: BTreeMap<String, Option<String>>,
    },
    /// Soft delete / unassign (a DELETE when the profile has no `active` mapping).
    DisableUser {
        user: String,
    },
    EnableUser {
        user: String,
    },
    DeleteUser {
        user: String,
    },
    /// Link the manager once it exists; `manager` defaults to the directory's.
    SetManager {
        user: String,
        manager: Option<String>,
    },
    ClearManager {
        user: String,
    },
    MatchGroup {
        group: String,
        expect: Option<Expectation>,
    },
    /// POST the group without members.
    CreateGroup {
        group: String,
    },
    RenameGroup {
        group: String,
        to: String,
    },
    DeleteGroup {
        group: String,
    },
    /// Add these users (default: the group's directory members) in one PATCH.
    AddMembers {
        group: String,
        users: Vec<String>,
    },
    RemoveMembers {
        group: String,
        users: Vec<String>,
    },
}

/// Action names in scenario files, in documentation order.
pub const NAMES: &[&str] = &[
    "probe",
    "match-user",
    "create-user",
    "update-user",
    "disable-user",
    "enable-user",
    "delete-user",
    "set-manager",
    "clear-manager",
    "match-group",
    "create-group",
    "rename-group",
    "delete-group",
    "add-members",
    "remove-members",
];

impl Action {
    /// The name used in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Probe { .. } => "probe",
            Action::MatchUser { .. } => "match-user",
            Action::CreateUser { .. } => "create-user",
            Action::UpdateUser { .. } => "update-user",
            Action::DisableUser { .. } => "disable-user",
            Action::EnableUser { .. } => "enable-user",
            Action::DeleteUser { .. } => "delete-user",
            Action::SetManager { .. } => "set-manager",
            Action::ClearManager { .. } => "clear-manager",
            Action::MatchGroup { .. } => "match-group",
            Action::CreateGroup { .. } => "create-group",
            Action::RenameGroup { .. } => "rename-group",
            Action::DeleteGroup { .. } => "delete-group",
            Action::AddMembers { .. } => "add-members",
            Action::RemoveMembers { .. } => "remove-members",
        }
    }

    /// True for actions rendered with a read-back step (`<id>-read`). A disable without
    /// an `active` mapping renders as a delete, without one.
    pub fn reads_back(&self) -> bool {
        !matches!(
            self,
            Action::Probe { .. }
                | Action::MatchUser { .. }
                | Action::MatchGroup { .. }
                | Action::DeleteUser { .. }
                | Action::DeleteGroup { .. }
        )
    }

    /// The kind of object the action is on.
    pub fn resource(&self) -> Resource {
        match self {
            Action::Probe { resource } => *resource,
            Action::MatchGroup { .. }
            | Action::CreateGroup { .. }
            | Action::RenameGroup { .. }
            | Action::DeleteGroup { .. }
            | Action::AddMembers { .. }
            | Action::RemoveMembers { .. } => Resource::Group,
            _ => Resource::User,
        }
    }
}

/// The directory after Entra performed `action` (and the app accepted it).
pub fn apply(dir: &mut Directory, action: &Action) {
    match action {
        Action::Probe { .. } | Action::MatchUser { .. } | Action::MatchGroup { .. } => {}
        Action::CreateUser { user } => with_user(dir, user, |u| u.provisioned = true),
        Action::UpdateUser { user, set } => with_user(dir, user, |u| {
            for (k, v) in set {
                u.attributes.insert(k.clone(), v.clone());
            }
        }),
        Action::DisableUser { user } => with_user(dir, user, |u| u.soft_deleted = true),
        Action::EnableUser { user } => with_user(dir, user, |u| u.soft_deleted = false),
        Action::DeleteUser { user } => with_user(dir, user, |u| u.provisioned = false),
        Action::SetManager { user, manager } => {
            let m = manager
                .clone()
                .or_else(|| dir.users.get(user).and_then(|u| u.manager.clone()));
            with_user(dir, user, |u| u.manager = m);
        }
        Action::ClearManager { user } => with_user(dir, user, |u| u.manager = None),
        Action::CreateGroup { group } => with_group(dir, group, |g| g.provisioned = true),
        Action::RenameGroup { group, to } => with_group(dir, group, |g| {
            g.attributes.insert("displayName".into(), Some(to.clone()));
        }),
        Action::DeleteGroup { group } => with_group(dir, group, |g| g.provisioned = false),
        Action::AddMembers { group, users } => with_group(dir, group, |g| {
            for u in users {
                if !g.members.contains(u) {
                    g.members.push(u.clone());
                }
            }
        }),
        Action::RemoveMembers { group, users } => {
            with_group(dir, group, |g| g.members.retain(|m| !users.contains(m)))
        }
    }
}

fn with_user(dir: &mut Directory, name: &str, f: impl FnOnce(&mut super::directory::User)) {
    if let Some(u) = dir.users.get_mut(name) {
        f(u);
    }
}

fn with_group(dir: &mut Directory, name: &str, f: impl FnOnce(&mut super::directory::Group)) {
    if let Some(g) = dir.groups.get_mut(name) {
        f(g);
    }
}
