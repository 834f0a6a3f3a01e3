//! The result of one check: plain data for every reporter.

use crate::scenario::model::Severity;
use serde::{Deserialize, Serialize};

/// One check of one step's response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// What was checked: `status`, `json /active`, `scim.resource`, `transport`.
    pub check: String,
    pub severity: Severity,
    pub passed: bool,
    /// What a compatible endpoint answers, in words or JSON.
    pub expected: String,
    /// What this endpoint answered.
    pub actual: String,
    /// What the admin sees in Entra's provisioning logs when this fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
}
