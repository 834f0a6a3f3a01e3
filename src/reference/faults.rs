//! Fault modes: switches that make the reference endpoint misbehave the way real SCIM
//! servers do when they are incompatible with Entra, so the harness can prove it catches
//! each one. All are off by default.

use std::fmt;

/// One switch per realistic Entra incompatibility.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Only lowercase `add`/`replace`/`remove` are accepted; Entra's `Replace` gets a 400.
    pub case_sensitive_ops: bool,
    /// `remove` on `members` with a value list removes every member (RFC-literal reading).
    pub remove_members_wipes_all: bool,
    /// `"True"`/`"False"` are refused for boolean attributes with a 400.
    pub string_booleans_rejected: bool,
    /// A filter that matches nothing answers 404 instead of an empty ListResponse.
    pub filter_miss_404: bool,
    /// The manager is rendered as a bare string instead of `{"value": ..}`.
    pub manager_as_string: bool,
    /// Path-less ops store dotted keys (`name.givenName`) literally at the top level.
    pub ignore_pathless_dotted_keys: bool,
    /// `excludedAttributes=members` is ignored.
    pub members_not_excluded: bool,
    /// PATCH answers 204 and silently drops the change.
    pub patch_noop: bool,
    /// Error bodies carry `status` as a JSON number.
    pub numeric_error_status: bool,
    /// Filters compare userName / displayName case-exactly.
    pub case_sensitive_filter: bool,
    /// A duplicate userName / displayName is created instead of answering 409.
    pub duplicate_create_allowed: bool,
    /// `active` is rendered as the string `"True"` / `"False"` instead of a JSON boolean.
    pub active_as_string: bool,
    /// A group whose last member is removed is deleted with it.
    pub empty_group_deleted: bool,
    /// PATCH operations whose value is empty (`""`, `null`, `{"value": ""}`) are skipped.
    pub empty_values_ignored: bool,
    /// Inactive users are treated as deleted: 404 by id, left out of query results.
    pub inactive_users_hidden: bool,
    /// `/Schemas` leaves out `title`, `phoneNumbers`, `addresses` and the enterprise
    /// extension, and a write carrying any of them is refused with a 400.
    pub reject_unknown_attributes: bool,
}

/// Every fault's name and what Entra would suffer from it.
pub const FAULTS: [(&str, &str); 16] = [
    (
        "case_sensitive_ops",
        "PascalCase PATCH ops (`Replace`) rejected with 400",
    ),
    (
        "remove_members_wipes_all",
        "removing one member by value list empties the group",
    ),
    (
        "string_booleans_rejected",
        "`active: \"False\"` rejected, so disables fail",
    ),
    (
        "filter_miss_404",
        "a filter with no match answers 404 (Entra quarantines the job)",
    ),
    (
        "manager_as_string",
        "manager rendered as a bare string (Entra cannot deserialize it)",
    ),
    (
        "ignore_pathless_dotted_keys",
        "path-less `name.givenName` keys stored literally (silent no-op)",
    ),
    (
        "members_not_excluded",
        "`excludedAttributes=members` ignored",
    ),
    ("patch_noop", "PATCH answers 204 but changes nothing"),
    (
        "numeric_error_status",
        "error `status` sent as a number instead of a string",
    ),
    (
        "case_sensitive_filter",
        "userName/displayName filters compare case-exactly",
    ),
    (
        "duplicate_create_allowed",
        "duplicate userName/displayName accepted instead of 409",
    ),
    (
        "active_as_string",
        "`active` returned as the string \"False\" (Entra cannot read it as a boolean)",
    ),
    (
        "empty_group_deleted",
        "a group is deleted when its last member leaves (Entra's next update: InvalidAnchor)",
    ),
    (
        "empty_values_ignored",
        "PATCH with \"\" or null values answers 200 and keeps the old value (silent drift)",
    ),
    (
        "inactive_users_hidden",
        "disabled users vanish from GET and queries (Entra re-creates them: 409 Conflict)",
    ),
    (
        "reject_unknown_attributes",
        "no title, phone numbers, addresses or enterprise extension in /Schemas, and a write \
         with any of them answered 400 (Entra's default create fails)",
    ),
];

/// A fault name that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{name}` (known: {known})")]
pub struct UnknownFault {
    pub name: String,
    pub known: String,
}

impl Faults {
    fn flag_mut(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "case_sensitive_ops" => &mut self.case_sensitive_ops,
            "remove_members_wipes_all" => &mut self.remove_members_wipes_all,
            "string_booleans_rejected" => &mut self.string_booleans_rejected,
            "filter_miss_404" => &mut self.filter_miss_404,
            "manager_as_string" => &mut self.manager_as_string,
            "ignore_pathless_dotted_keys" => &mut self.ignore_pathless_dotted_keys,
            "members_not_excluded" => &mut self.members_not_excluded,
            "patch_noop" => &mut self.patch_noop,
            "numeric_error_status" => &mut self.numeric_error_status,
            "case_sensitive_filter" => &mut self.case_sensitive_filter,
            "duplicate_create_allowed" => &mut self.duplicate_create_allowed,
            "active_as_string" => &mut self.active_as_string,
            "empty_group_deleted" => &mut self.empty_group_deleted,
            "empty_values_ignored" => &mut self.empty_values_ignored,
            "inactive_users_hidden" => &mut self.inactive_users_hidden,
            "reject_unknown_attributes" => &mut self.reject_unknown_attributes,
            _ => return None,
        })
    }

    /// Switches one fault on by name (`-` and `_` are interchangeable).
    pub fn enable(&mut self, name: &str) -> Result<(), UnknownFault> {
        let normalized = name.trim().replace('-', "_");
        match self.flag_mut(&normalized) {
            Some(flag) => {
                *flag = true;
                Ok(())
            }
            None => Err(UnknownFault {
                name: name.trim().to_string(),
                known: FAULTS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Parses a comma-separated list of fault names.
    pub fn parse_list(list: &str) -> Result<Self, UnknownFault> {
        let mut faults = Faults::default();
        for name in list.split(',').filter(|n| !n.trim().is_empty()) {
            faults.enable(name)?;
        }
        Ok(faults)
    }

    /// The names of the faults switched on.
    pub fn enabled(&self) -> Vec<&'static str> {
        let mut copy = *self;
        FAULTS
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| copy.flag_mut(name).is_some_and(|f| *f))
            .collect()
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let enabled = self.enabled();
        if enabled.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&enabled.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_fault_can_be_enabled_and_is_reported() {
        for (name, _) in FAULTS {
            let faults = Faults::parse_list(name).unwrap_or_default();
            assert_eq!(faults.enabled(), vec![name]);
            assert_ne!(faults, Faults::default());
        }
    }

    #[test]
    fn lists_accept_dashes_and_spaces_and_reject_unknown_names() {
        let faults = Faults::parse_list("patch-noop, filter_miss_404").unwrap_or_default();
        assert!(faults.patch_noop && faults.filter_miss_404);
        assert_eq!(faults.to_string(), "filter_miss_404,patch_noop");
        let err = Faults::parse_list("patch_noop,nope").err();
        assert!(err.is_some_and(|e| e.name == "nope" && e.known.contains("manager_as_string")));
        assert_eq!(Faults::default().to_string(), "none");
    }
}
