//! Checks: status, JSON-pointer assertions and named SCIM/Entra rules, as outcomes.

pub mod names;
pub mod outcome;
