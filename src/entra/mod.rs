//! A model of Entra itself, between a scenario and the wire: mapping profiles, directory
//! objects, the actions Entra performs, and how an action renders for a profile and a
//! dialect. Pure functions, no I/O except `profile::load`.
//!
//! ```text
//! Profile (profile.rs)      user/group mappings, matching precedence, scope; built-in
//!                           default = Entra's non-gallery defaults; JSON loader with
//!                           file:line:column errors
//! Directory (directory.rs)  users/groups by Entra source attributes; None = null = not sent
//! Action (action.rs)        probe, match/create/update/disable/enable/delete user,
//!                           set/clear manager, match/create/rename/delete group,
//!                           add/remove members; `apply` evolves the directory
//! render (render.rs)        (id, action, directory, profile, dialect) → Vec<Step>:
//!                           the requests with the checks Entra implies
//! ```
//!
//! Rendered steps are ordinary scenario steps: their strings are templates. A created
//! object's server id is captured as `<name>_id` and referenced as `{{<name>_id}}`, so a
//! sequence of actions runs through the normal runner (guard, ledger, cleanup, snapshots).
//! To render a sequence, fold: `render(id, a, &dir, …)` then `apply(&mut dir, a)` —
//! `render_all` does exactly that.
//!
//! Example (a load generator or log importer):
//!
//! ```
//! use scimreplay::entra::{self, Action, Directory, Profile, User};
//! use scimreplay::scenario::model::Dialect;
//! let mut dir = Directory::default();
//! let mut alice = User::default();
//! alice.attributes.insert("userPrincipalName".into(), Some("alice@example.com".into()));
//! dir.users.insert("alice".into(), alice);
//! let actions = [
//!     ("match", Action::MatchUser { user: "alice".into(), expect: None }),
//!     ("create", Action::CreateUser { user: "alice".into() }),
//! ];
//! let steps = entra::render_all(&actions, dir, &Profile::default_mappings(), Dialect::Default)
//!     .unwrap();
//! assert_eq!(steps[0].request.query[0].value, "userName eq \"alice@example.com\"");
//! assert_eq!(steps[1].request.path, "/Users");
//! ```

pub mod action;
pub mod directory;
pub mod discover;
pub mod expr;
pub mod overlay;
pub mod patch;
pub mod profile;
pub mod render;
pub mod target;
mod wire;

pub use action::{Action, Expectation, apply};
pub use directory::{Directory, Group, User};
pub use profile::Profile;
pub use render::{RenderError, RenderErrorKind, minimal_create, render};
pub use target::{Resource, Target};

use crate::scenario::model::{Dialect, Step};

/// Renders a sequence of `(step id, action)` from `dir`'s state, applying each action
/// before rendering the next.
pub fn render_all(
    actions: &[(&str, Action)],
    mut dir: Directory,
    profile: &Profile,
    dialect: Dialect,
) -> Result<Vec<Step>, RenderError> {
    let mut steps = Vec::new();
    for (id, action) in actions {
        steps.extend(render(id, action, &dir, profile, dialect)?);
        apply(&mut dir, action);
    }
    Ok(steps)
}

#[cfg(test)]
mod tests;
