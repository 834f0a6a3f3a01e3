//! Choosing which loaded scenarios run: by name (exact or glob), tag and dialect.
//!
//! Within one kind of filter any entry may match (`--tag users --tag groups` runs both);
//! across kinds all must (`--tag users --dialect default`). A dialect filter keeps `any`
//! scenarios, whose traffic is the same in both dialects. A name, glob or tag that matches no
//! loaded scenario at all is an error (with a "did you mean"), since a typo would otherwise
//! silently run nothing. The result keeps the loading order (sorted by file).

use super::error::did_you_mean;
use super::model::{Dialect, Scenario};
use globset::{Glob, GlobMatcher};
use std::collections::BTreeSet;

/// The `--scenario`, `--tag` and `--dialect` filters; empty lists do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Exact names or globs (`user-*`).
    pub names: Vec<String>,
    pub tags: Vec<String>,
    pub dialects: Vec<Dialect>,
}

/// Why a selection was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("no scenario named `{name}`{}", suffix(.hint))]
    UnknownName { name: String, hint: Option<String> },
    #[error("no scenario name matches `{pattern}`")]
    NoMatch { pattern: String },
    #[error("invalid scenario pattern `{pattern}`: {reason}")]
    BadPattern { pattern: String, reason: String },
    #[error("no scenario has the tag `{tag}`{}", suffix(.hint))]
    UnknownTag { tag: String, hint: Option<String> },
    #[error("no scenario matches all of {filters}")]
    Empty { filters: String },
}

fn suffix(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default()
}

impl SelectError {
    /// How to fix it, when there is a suggestion.
    pub fn hint(&self) -> Option<&str> {
        match self {
            SelectError::UnknownName { hint, .. } | SelectError::UnknownTag { hint, .. } => {
                hint.as_deref()
            }
            _ => None,
        }
    }
}

/// The scenarios of `all` the selection keeps, cloned, in their loading order.
pub fn select(all: &[Scenario], selection: &Selection) -> Result<Vec<Scenario>, SelectError> {
    let matchers = name_matchers(all, &selection.names)?;
    check_tags(all, &selection.tags)?;
    let chosen: Vec<Scenario> = all
        .iter()
        .filter(|s| matchers.is_empty() || matchers.iter().any(|m| m.is_match(&s.name)))
        .filter(|s| selection.tags.is_empty() || s.tags.iter().any(|t| selection.tags.contains(t)))
        .filter(|s| {
            selection.dialects.is_empty()
                || s.dialect == Dialect::Any
                || selection.dialects.contains(&s.dialect)
        })
        .cloned()
        .collect();
    let filtered =
        !(selection.names.is_empty() && selection.tags.is_empty() && selection.dialects.is_empty());
    if chosen.is_empty() && filtered {
        return Err(SelectError::Empty {
            filters: describe(selection),
        });
    }
    Ok(chosen)
}

/// One matcher per pattern; each must match at least one loaded name.
fn name_matchers(all: &[Scenario], patterns: &[String]) -> Result<Vec<GlobMatcher>, SelectError> {
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    let mut matchers = Vec::with_capacity(patterns.len());
    for pattern in patterns {
        let matcher = Glob::new(pattern)
            .map_err(|e| SelectError::BadPattern {
                pattern: pattern.clone(),
                reason: e.kind().to_string(),
            })?
            .compile_matcher();
        if !names.iter().any(|n| matcher.is_match(n)) {
            return Err(if is_glob(pattern) {
                SelectError::NoMatch {
                    pattern: pattern.clone(),
                }
            } else {
                SelectError::UnknownName {
                    name: pattern.clone(),
                    hint: did_you_mean(pattern, &names),
                }
            });
        }
        matchers.push(matcher);
    }
    Ok(matchers)
}

fn check_tags(all: &[Scenario], tags: &[String]) -> Result<(), SelectError> {
    let known: BTreeSet<&str> = all
        .iter()
        .flat_map(|s| s.tags.iter().map(String::as_str))
        .collect();
    match tags.iter().find(|t| !known.contains(t.as_str())) {
        Some(tag) => Err(SelectError::UnknownTag {
            tag: tag.clone(),
            hint: did_you_mean(tag, known.iter().copied()),
        }),
        None => Ok(()),
    }
}

fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

fn describe(selection: &Selection) -> String {
    let mut parts = Vec::new();
    let list = |items: Vec<String>| items.join(" or ");
    if !selection.names.is_empty() {
        parts.push(format!("--scenario {}", list(selection.names.clone())));
    }
    if !selection.tags.is_empty() {
        parts.push(format!("--tag {}", list(selection.tags.clone())));
    }
    if !selection.dialects.is_empty() {
        let names = selection.dialects.iter().map(|d| d.to_string()).collect();
        parts.push(format!("--dialect {}", list(names)));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(name: &str, dialect: &str, tags: &[&str]) -> Scenario {
        serde_json::from_value(json!({
            "name": name, "summary": "s", "dialect": dialect, "tags": tags, "steps": []
        }))
        .expect("model")
    }

    fn catalogue() -> Vec<Scenario> {
        vec![
            scenario("test-connection", "any", &["connection"]),
            scenario("user-create", "any", &["users"]),
            scenario("user-disable-default", "default", &["users", "patch"]),
            scenario("user-disable-flag", "aadOptscim062020", &["users", "patch"]),
            scenario(
                "group-remove-member-default",
                "default",
                &["groups", "patch"],
            ),
        ]
    }

    fn names(selected: &[Scenario]) -> Vec<&str> {
        selected.iter().map(|s| s.name.as_str()).collect()
    }

    fn sel(names: &[&str], tags: &[&str], dialects: &[Dialect]) -> Selection {
        Selection {
            names: names.iter().map(|s| s.to_string()).collect(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            dialects: dialects.to_vec(),
        }
    }

    #[test]
    fn an_empty_selection_keeps_everything_in_order() {
        let all = catalogue();
        assert_eq!(
            names(&select(&all, &Selection::default()).expect("ok")),
            names(&all)
        );
    }

    #[test]
    fn names_match_exactly_or_by_glob_and_keep_loading_order() {
        let all = catalogue();
        let got = select(&all, &sel(&["user-disable-*", "test-connection"], &[], &[])).expect("ok");
        assert_eq!(
            names(&got),
            [
                "test-connection",
                "user-disable-default",
                "user-disable-flag"
            ]
        );
    }

    #[test]
    fn tags_are_any_of_and_combine_with_dialect() {
        let all = catalogue();
        let got = select(&all, &sel(&[], &["users", "groups"], &[])).expect("ok");
        assert_eq!(names(&got).len(), 4);
        let got = select(&all, &sel(&[], &["users"], &[Dialect::Default])).expect("ok");
        assert_eq!(names(&got), ["user-create", "user-disable-default"]);
    }

    #[test]
    fn a_dialect_filter_keeps_any_scenarios() {
        let all = catalogue();
        let got = select(&all, &sel(&[], &[], &[Dialect::AadOptscim062020])).expect("ok");
        assert_eq!(
            names(&got),
            ["test-connection", "user-create", "user-disable-flag"]
        );
    }

    #[test]
    fn an_unknown_name_suggests_the_closest() {
        let err = select(&catalogue(), &sel(&["user-creat"], &[], &[])).expect_err("typo");
        assert_eq!(
            err.to_string(),
            "no scenario named `user-creat`; did you mean `user-create`?"
        );
        assert_eq!(err.hint(), Some("did you mean `user-create`?"));
    }

    #[test]
    fn a_glob_matching_nothing_and_a_bad_glob_are_errors() {
        let err = select(&catalogue(), &sel(&["role-*"], &[], &[])).expect_err("none");
        assert_eq!(err.to_string(), "no scenario name matches `role-*`");
        let err = select(&catalogue(), &sel(&["user-[a"], &[], &[])).expect_err("bad");
        assert!(matches!(err, SelectError::BadPattern { .. }), "{err:?}");
    }

    #[test]
    fn an_unknown_tag_suggests_the_closest() {
        let err = select(&catalogue(), &sel(&[], &["user"], &[])).expect_err("typo");
        assert_eq!(
            err.to_string(),
            "no scenario has the tag `user`; did you mean `users`?"
        );
    }

    #[test]
    fn filters_that_exclude_everything_say_so() {
        let err = select(
            &catalogue(),
            &sel(&["group-*"], &[], &[Dialect::AadOptscim062020]),
        )
        .expect_err("empty");
        assert_eq!(
            err.to_string(),
            "no scenario matches all of --scenario group-*, --dialect aadOptscim062020"
        );
    }
}
