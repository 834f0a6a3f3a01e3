//! scimreplay replays Microsoft Entra ID provisioning traffic against a SCIM 2.0 endpoint,
//! checks every answer against what Entra needs, and snapshot-diffs the behaviour.
//!
//! The stages, each depending only on those before it:
//! `scenario` (files → model) → `template` (variables) → `http` (exchanges) → `check`
//! (verdicts) → `model` (the result model: `RunReport`) → `normalize` + `snapshot`
//! (baselines) → `run` (the async runner, ledger, cleanup) → `report` (the renderers:
//! terminal, JSON, JUnit, Markdown). `reference` is the built-in SCIM service
//! provider; it shares only the constants in `scim` with the client side. `cli` turns flags
//! and the environment into resolved options; `main.rs` only calls it.

pub mod atomic_file;
pub mod check;
pub mod civil;
pub mod cli;
pub mod entra;
pub mod escape;
pub mod exit;
pub mod http;
pub mod import;
pub mod load;
pub mod model;
pub mod normalize;
pub mod record;
pub mod reference;
pub mod report;
pub mod run;
pub mod scenario;
pub mod scim;
pub mod snapshot;
pub mod stop;
pub mod template;
