//! `--var key=value`: overriding scenario variables from the command line.
//!
//! Real endpoints validate email domains and custom attributes, so a scenario's `vars` are
//! the knobs a user turns. An override must name a variable some selected scenario declares
//! (a typo would otherwise be silently ignored), and its value may use built-ins only.

use super::syntax::{self, Reference, Segment};
use crate::scenario::error::did_you_mean;
use crate::scenario::model::Scenario;
use std::collections::BTreeSet;

/// Why a `--var` override was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VarOverrideError {
    #[error("`--var {name}=...`: no selected scenario declares a variable `{name}`{}", hint_suffix(.hint))]
    Undeclared { name: String, hint: Option<String> },
    #[error("`--var {name}=...`: invalid template in the value: {reason}")]
    BadValue { name: String, reason: String },
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default()
}

/// Replaces the declared variables of every scenario with the given values. Names no
/// scenario in `scenarios` declares are refused with a "did you mean".
pub fn apply_var_overrides(
    scenarios: &mut [Scenario],
    overrides: &[(String, String)],
) -> Result<(), VarOverrideError> {
    let declared: BTreeSet<&str> = scenarios
        .iter()
        .flat_map(|s| s.vars.keys().map(String::as_str))
        .collect();
    for (name, value) in overrides {
        if !declared.contains(name.as_str()) {
            return Err(VarOverrideError::Undeclared {
                name: name.clone(),
                hint: did_you_mean(name, declared.iter().copied()),
            });
        }
        check_value(name, value)?;
    }
    for scenario in scenarios.iter_mut() {
        for (name, value) in overrides {
            if let Some(slot) = scenario.vars.get_mut(name) {
                slot.clone_from(value);
            }
        }
    }
    Ok(())
}

/// A variable's value may reference built-ins only: variables are rendered once, before any
/// step, against the built-ins.
fn check_value(name: &str, value: &str) -> Result<(), VarOverrideError> {
    let bad = |reason: String| VarOverrideError::BadValue {
        name: name.to_string(),
        reason,
    };
    let segments = syntax::parse(value).map_err(|e| bad(e.to_string()))?;
    for segment in segments {
        if let Segment::Var { name: used, .. } = segment {
            if !Reference::classify(used).is_builtin() {
                return Err(bad(format!(
                    "`{{{{{used}}}}}` is not a built-in; a variable's value may use only {}",
                    builtin_list()
                )));
            }
        }
    }
    Ok(())
}

/// The built-ins, as the docs write them: `{{run.prefix}}`, ..., `{{uuid.NAME}}`.
pub fn builtin_list() -> String {
    let mut names: Vec<String> = syntax::BUILTIN_NAMES
        .iter()
        .map(|n| format!("`{{{{{n}}}}}`"))
        .collect();
    names.push("`{{uuid.NAME}}`".to_string());
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(name: &str, vars: serde_json::Value) -> Scenario {
        serde_json::from_value(json!({
            "name": name, "summary": "s", "dialect": "any", "steps": [], "vars": vars
        }))
        .expect("model")
    }

    fn set() -> Vec<Scenario> {
        vec![
            scenario("a", json!({"domain": "example.com", "dept": "Sales"})),
            scenario("b", json!({"domain": "example.com"})),
            scenario("c", json!({})),
        ]
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn overrides_replace_declared_variables_only_where_declared() {
        let mut all = set();
        apply_var_overrides(
            &mut all,
            &[kv("domain", "acme.io"), kv("dept", "{{run.prefix}}R&D")],
        )
        .expect("applies");
        assert_eq!(all[0].vars["domain"], "acme.io");
        assert_eq!(all[0].vars["dept"], "{{run.prefix}}R&D");
        assert_eq!(all[1].vars["domain"], "acme.io");
        assert!(!all[1].vars.contains_key("dept"));
        assert!(all[2].vars.is_empty());
    }

    #[test]
    fn an_undeclared_name_is_refused_with_a_suggestion() {
        let mut all = set();
        let err = apply_var_overrides(&mut all, &[kv("domian", "acme.io")]).expect_err("typo");
        assert_eq!(
            err.to_string(),
            "`--var domian=...`: no selected scenario declares a variable `domian`; did you mean `domain`?"
        );
        // Nothing was applied.
        assert_eq!(all[0].vars["domain"], "example.com");
        let err = apply_var_overrides(&mut all, &[kv("zzz", "1")]).expect_err("unknown");
        assert!(
            matches!(err, VarOverrideError::Undeclared { hint: None, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_value_may_use_builtins_but_not_other_variables() {
        let mut all = set();
        let err = apply_var_overrides(&mut all, &[kv("domain", "{{dept}}.io")]).expect_err("var");
        assert!(
            err.to_string().contains("`{{dept}}` is not a built-in"),
            "{err}"
        );
        let err = apply_var_overrides(&mut all, &[kv("domain", "{{oops")]).expect_err("syntax");
        assert!(err.to_string().contains("unterminated"), "{err}");
        apply_var_overrides(&mut all, &[kv("domain", "{{uuid.d}}.io")]).expect("builtin ok");
    }
}
