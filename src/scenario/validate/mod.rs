//! Validation: a parsed JSON document → a `Scenario`, or every problem found, each located
//! by JSON pointer (the loader turns pointers into line:column).
//!
//! The file format is checked by hand rather than by serde so that every error can name the
//! exact key or value, suggest the key that was meant, and so that as many problems as
//! possible are reported in one go.

mod entra;
mod expect;
mod refs;
mod step;

use super::error::did_you_mean;
use super::locate::escape_token;
use super::model::{Dialect, Evidence, Scenario, SourceStep};
use crate::entra::Directory;
use refs::Scope;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// What part of the node at `pointer` an issue is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The member's key (unknown or duplicate keys).
    Key,
    /// The value.
    Value,
    /// Characters `chars` of the decoded key (`key`) or string value: a template error.
    Text { key: bool, chars: Range<usize> },
}

/// One problem, located by pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Issue {
    pub pointer: String,
    pub target: Target,
    pub step: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

const TOP_KEYS: &[&str] = &[
    "name",
    "summary",
    "description",
    "behaviours",
    "source",
    "dialect",
    "tags",
    "vars",
    "directory",
    "profile",
    "steps",
    // The JSON Schema the file follows, for editors (schemas/scenario.schema.json).
    "$schema",
];

const DIALECTS: &[(&str, Dialect)] = &[
    ("default", Dialect::Default),
    ("aadOptscim062020", Dialect::AadOptscim062020),
    ("any", Dialect::Any),
];

const EVIDENCE: &[(&str, Evidence)] = &[
    ("documented", Evidence::Documented),
    ("observed", Evidence::Observed),
    ("inferred", Evidence::Inferred),
];

/// Converts a document into a scenario (with a default `origin`), or lists what is wrong.
pub(crate) fn scenario(doc: &Value) -> Result<Scenario, Vec<Issue>> {
    let mut c = Checker::default();
    let Some(map) = c.object(doc, "", "a scenario") else {
        return Err(c.issues);
    };
    c.keys(map, "", TOP_KEYS);
    if let Some(v) = map.get("$schema") {
        let _ = c.string(v, "/$schema", "the path or URL of the scenario schema");
    }
    let name = c.required(map, "", "name").and_then(|v| c.name(v, "/name"));
    let summary = c
        .required(map, "", "summary")
        .and_then(|v| c.summary(v, "/summary"));
    let description = c.optional_string(map, "", "description");
    let behaviours = c.string_list(map, "", "behaviours", |_| true);
    let source = map
        .get("source")
        .and_then(|v| c.choice(v, "/source", "evidence level", EVIDENCE));
    let dialect = c
        .required(map, "", "dialect")
        .and_then(|v| c.choice(v, "/dialect", "dialect", DIALECTS));
    let tags = c.string_list(map, "", "tags", is_name);
    let vars = map.get("vars").map(|v| c.vars(v)).unwrap_or_default();
    let directory = match map.get("directory") {
        Some(v) => c.directory(v, &Scope::new(vars.keys().cloned().collect(), &[])),
        None => Directory::default(),
    };
    let profile = match map.get("profile") {
        Some(v) => c.profile_overlay(v),
        None => Default::default(),
    };
    let steps = c
        .required(map, "", "steps")
        .and_then(|v| c.steps(v, &vars, &directory));
    c.duplicate_tags(&tags);
    match (name, summary, dialect, steps) {
        (Some(name), Some(summary), Some(dialect), Some(source_steps)) if c.issues.is_empty() => {
            let mut s = Scenario {
                name,
                summary,
                description,
                behaviours,
                source,
                dialect,
                tags,
                vars,
                steps: Vec::new(),
                directory,
                profile,
                source_steps,
                origin: Default::default(),
            };
            match super::expand::expand(&mut s, crate::entra::profile::builtin()) {
                Ok(()) => Ok(s),
                Err(e) => Err(vec![e.issue(&s)]),
            }
        }
        _ => Err(c.issues),
    }
}

/// Collects issues while walking the document.
#[derive(Default)]
pub(crate) struct Checker {
    pub issues: Vec<Issue>,
    /// The id of the step being checked, for error context.
    pub step: Option<String>,
}

impl Checker {
    pub fn push(&mut self, pointer: &str, target: Target, message: String, hint: Option<String>) {
        self.issues.push(Issue {
            pointer: pointer.to_string(),
            target,
            step: self.step.clone(),
            message,
            hint,
        });
    }

    /// An issue with the value at `pointer`.
    pub fn fail(&mut self, pointer: &str, message: impl Into<String>, hint: Option<String>) {
        self.push(pointer, Target::Value, message.into(), hint);
    }

    /// Reports every key of `map` not in `known`, with the closest known key as a hint.
    pub fn keys(&mut self, map: &Map<String, Value>, pointer: &str, known: &[&str]) {
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                let hint = did_you_mean(key, known).or_else(|| Some(expected_keys(known)));
                self.push(
                    &child(pointer, key),
                    Target::Key,
                    format!("unknown key `{key}`"),
                    hint,
                );
            }
        }
    }

    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        pointer: &str,
        what: &str,
    ) -> Option<&'v Map<String, Value>> {
        let map = value.as_object();
        if map.is_none() {
            self.fail(
                pointer,
                format!("expected {what} (a JSON object), found {}", kind(value)),
                None,
            );
        }
        map
    }

    pub fn array<'v>(
        &mut self,
        value: &'v Value,
        pointer: &str,
        what: &str,
    ) -> Option<&'v [Value]> {
        let items = value.as_array().map(Vec::as_slice);
        if items.is_none() {
            self.fail(
                pointer,
                format!("expected {what} (a JSON array), found {}", kind(value)),
                None,
            );
        }
        items
    }

    pub fn string(&mut self, value: &Value, pointer: &str, what: &str) -> Option<String> {
        let s = value.as_str().map(str::to_string);
        if s.is_none() {
            self.fail(
                pointer,
                format!("expected {what} (a string), found {}", kind(value)),
                None,
            );
        }
        s
    }

    pub fn boolean(&mut self, value: &Value, pointer: &str, what: &str) -> Option<bool> {
        let b = value.as_bool();
        if b.is_none() {
            self.fail(
                pointer,
                format!("expected {what} (`true` or `false`), found {}", kind(value)),
                None,
            );
        }
        b
    }

    /// The member `key` of `map`, or an issue at the object saying it is missing.
    pub fn required<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        pointer: &str,
        key: &str,
    ) -> Option<&'v Value> {
        let v = map.get(key);
        if v.is_none() {
            self.fail(pointer, format!("missing required key `{key}`"), None);
        }
        v
    }

    pub fn optional_string(
        &mut self,
        map: &Map<String, Value>,
        pointer: &str,
        key: &str,
    ) -> Option<String> {
        let v = map.get(key)?;
        self.string(v, &child(pointer, key), &format!("`{key}`"))
    }

    /// A string that must be one of `options` (exact spelling).
    pub fn choice<T: Copy>(
        &mut self,
        value: &Value,
        pointer: &str,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let s = self.string(value, pointer, &format!("a {what}"))?;
        if let Some((_, t)) = options.iter().find(|(name, _)| *name == s) {
            return Some(*t);
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let hint = did_you_mean(&s, &names).or_else(|| Some(one_of(&names)));
        self.fail(pointer, format!("unknown {what} `{s}`"), hint);
        None
    }

    fn name(&mut self, value: &Value, pointer: &str) -> Option<String> {
        let name = self.string(value, pointer, "a scenario name")?;
        if !is_name(&name) {
            self.fail(
                pointer,
                format!("invalid scenario name `{name}`"),
                Some(
                    "use lowercase letters, digits, `.` and `-`, starting with a letter or digit"
                        .into(),
                ),
            );
            return None;
        }
        Some(name)
    }

    fn summary(&mut self, value: &Value, pointer: &str) -> Option<String> {
        let s = self.string(value, pointer, "a one-line summary")?;
        if s.trim().is_empty() || s.contains('\n') {
            self.fail(
                pointer,
                "the summary must be one non-empty line",
                Some("put longer prose in `description`".into()),
            );
            return None;
        }
        Some(s)
    }

    /// An optional array of strings, each accepted by `valid`.
    fn string_list(
        &mut self,
        map: &Map<String, Value>,
        pointer: &str,
        key: &str,
        valid: fn(&str) -> bool,
    ) -> Vec<String> {
        let ptr = child(pointer, key);
        let Some(items) = map
            .get(key)
            .and_then(|v| self.array(v, &ptr, &format!("`{key}`")))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_ptr = format!("{ptr}/{i}");
            let Some(s) = self.string(item, &item_ptr, "a string") else {
                continue;
            };
            if valid(&s) {
                out.push(s);
            } else {
                self.fail(
                    &item_ptr,
                    format!("invalid entry `{s}` in `{key}`"),
                    Some("use lowercase letters, digits, `.` and `-`".into()),
                );
            }
        }
        out
    }

    fn duplicate_tags(&mut self, tags: &[String]) {
        let mut seen = BTreeSet::new();
        for (i, tag) in tags.iter().enumerate() {
            if !seen.insert(tag) {
                self.fail(
                    &format!("/tags/{i}"),
                    format!("duplicate tag `{tag}`"),
                    None,
                );
            }
        }
    }

    fn vars(&mut self, value: &Value) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(map) = self.object(value, "/vars", "`vars`") else {
            return out;
        };
        let scope = Scope::builtins_only();
        for (name, v) in map {
            let ptr = child("/vars", name);
            if !crate::template::syntax::is_variable_name(name) {
                self.push(
                    &ptr,
                    Target::Key,
                    format!("invalid variable name `{name}`"),
                    Some("use letters, digits and `_`, starting with a letter or `_`".into()),
                );
                continue;
            }
            if let Some(text) = self.string(v, &ptr, "a variable value") {
                self.template(&text, &ptr, false, &scope);
                out.insert(name.clone(), text);
            }
        }
        out
    }

    fn steps(
        &mut self,
        value: &Value,
        vars: &BTreeMap<String, String>,
        directory: &Directory,
    ) -> Option<Vec<SourceStep>> {
        let items = self.array(value, "/steps", "`steps`")?;
        if items.is_empty() {
            self.fail("/steps", "a scenario needs at least one step", None);
            return None;
        }
        let mut scope = Scope::new(vars.keys().cloned().collect(), items);
        let mut ids = BTreeMap::new();
        let mut steps = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            scope.enter_step(i);
            let step = match item.as_object().filter(|m| m.contains_key("entra")) {
                Some(map) => {
                    self.step = map.get("id").and_then(Value::as_str).map(str::to_string);
                    let ptr = format!("/steps/{i}");
                    self.entra_step(map, &ptr, &scope, &mut ids, i, directory)
                        .map(SourceStep::Entra)
                }
                None => self
                    .step(item, i, &scope, &mut ids)
                    .map(SourceStep::Request),
            };
            steps.extend(step);
            self.step = None;
        }
        (steps.len() == items.len()).then_some(steps)
    }
}

/// A JSON pointer to member `key` of the node at `pointer`.
pub(crate) fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", escape_token(key))
}

/// "a string", "an object", ... for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// "use one of `a`, `b` or `c`".
pub(crate) fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("use one of {} or {last}", rest.join(", "))
        }
        Some((last, _)) => format!("use {last}"),
        None => String::new(),
    }
}

fn expected_keys(known: &[&str]) -> String {
    let quoted: Vec<String> = known.iter().map(|n| format!("`{n}`")).collect();
    format!("known keys here: {}", quoted.join(", "))
}

/// Scenario names and tags: `[a-z0-9][a-z0-9.-]*`.
pub(crate) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
}

#[cfg(test)]
mod tests {
    use crate::scenario::load::testing::*;

    const STEPS: &str = r#"[ { "id": "a", "request": { "method": "GET", "path": "/Users" } } ]"#;

    fn doc(fields: &str) -> String {
        format!("{{\n  {fields},\n  \"steps\": {STEPS}\n}}")
    }

    #[test]
    fn unknown_top_level_keys_suggest_the_meant_one() {
        let src = doc(r#""name": "x", "sumary": "s", "dialect": "any""#);
        let all = errors(&src);
        let unknown = all
            .iter()
            .find(|e| e.message == "unknown key `sumary`")
            .expect("unknown");
        assert_eq!((unknown.line, unknown.column), at(&src, "\"sumary\""));
        assert_eq!(unknown.hint.as_deref(), Some("did you mean `summary`?"));
        assert_eq!(unknown.pointer, "/sumary");
        let missing = all
            .iter()
            .find(|e| e.message == "missing required key `summary`");
        assert_eq!(missing.map(|e| (e.line, e.column)), Some((1, 1)));
    }

    #[test]
    fn an_unrelated_unknown_key_lists_the_known_ones() {
        let src = doc(r#""name": "x", "summary": "s", "dialect": "any", "zzz": 1"#);
        let hint = "known keys here: `name`, `summary`, `description`, `behaviours`, `source`, \
                    `dialect`, `tags`, `vars`, `directory`, `profile`, `steps`, `$schema`";
        expect_error(&src, "\"zzz\"", "unknown key `zzz`", Some(hint));
    }

    #[test]
    fn names_must_be_lowercase_slugs() {
        let src = doc(r#""name": "User Create", "summary": "s", "dialect": "any""#);
        expect_error(
            &src,
            "\"User Create\"",
            "invalid scenario name `User Create`",
            Some("use lowercase letters, digits, `.` and `-`, starting with a letter or digit"),
        );
    }

    #[test]
    fn the_summary_is_one_line() {
        let src = doc(r#""name": "x", "summary": "two\nlines", "dialect": "any""#);
        expect_error(
            &src,
            "\"two",
            "the summary must be one non-empty line",
            Some("put longer prose in `description`"),
        );
    }

    #[test]
    fn dialect_and_source_are_closed_lists() {
        let src = doc(r#""name": "x", "summary": "s", "dialect": "aadOptScim062020""#);
        expect_error(
            &src,
            "\"aadOptScim062020\"",
            "unknown dialect `aadOptScim062020`",
            Some("did you mean `aadOptscim062020`?"),
        );
        let src = doc(r#""name": "x", "summary": "s", "dialect": "any", "source": "guess""#);
        expect_error(
            &src,
            "\"guess\"",
            "unknown evidence level `guess`",
            Some("use one of `documented`, `observed` or `inferred`"),
        );
    }

    #[test]
    fn tags_are_slugs_and_unique() {
        let src =
            doc(r#""name": "x", "summary": "s", "dialect": "any", "tags": ["users", "Users!"]"#);
        expect_error(
            &src,
            "\"Users!\"",
            "invalid entry `Users!` in `tags`",
            Some("use lowercase letters, digits, `.` and `-`"),
        );
        let src = doc(
            r#""name": "x", "summary": "s", "dialect": "any", "tags": ["users", "patch", "users"]"#,
        );
        let e = error(&src);
        assert_eq!(e.message, "duplicate tag `users`");
        assert_eq!(e.pointer, "/tags/2");
        let last = src.rfind("\"users\"").expect("needle");
        let line_start = src.find('\n').map_or(0, |i| i + 1);
        assert_eq!(
            (e.line, e.column),
            (2, last - line_start + 1),
            "at the second `users`"
        );
    }

    #[test]
    fn wrong_types_say_what_was_expected_and_found() {
        let src = doc(r#""name": "x", "summary": 3, "dialect": "any""#);
        expect_error(
            &src,
            "3,",
            "expected a one-line summary (a string), found a number",
            None,
        );
        let src = "{ \"name\": \"x\", \"summary\": \"s\", \"dialect\": \"any\", \"steps\": {} }";
        expect_error(
            src,
            "{}",
            "expected `steps` (a JSON array), found an object",
            None,
        );
    }

    #[test]
    fn a_scenario_needs_a_step() {
        let src = "{ \"name\": \"x\", \"summary\": \"s\", \"dialect\": \"any\", \"steps\": [] }";
        expect_error(src, "[]", "a scenario needs at least one step", None);
    }

    #[test]
    fn variables_have_names_and_use_builtins_only() {
        let src =
            doc(r#""name": "x", "summary": "s", "dialect": "any", "vars": { "my-var": "v" }"#);
        expect_error(
            &src,
            "\"my-var\"",
            "invalid variable name `my-var`",
            Some("use letters, digits and `_`, starting with a letter or `_`"),
        );
        let src = doc(
            r#""name": "x", "summary": "s", "dialect": "any", "vars": { "a": "1", "b": "{{a}}-{{run.prefix}}" }"#,
        );
        let e = expect_error(
            &src,
            "{{a}}",
            "a variable's value may use only built-ins, not `{{a}}`",
            Some(
                "built-ins: `{{run.prefix}}`, `{{run.id}}`, `{{run.base}}`, `{{uuid}}`, `{{uuid.NAME}}`",
            ),
        );
        assert_eq!(e.span, 5);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let src = "{ \"name\": \"X\", \"summary\": \"\", \"dialect\": \"old\", \"steps\": [ { \"id\": \"A\" } ] }";
        let messages: Vec<String> = errors(src).into_iter().map(|e| e.message).collect();
        assert_eq!(
            messages,
            [
                "invalid scenario name `X`",
                "the summary must be one non-empty line",
                "unknown dialect `old`",
                "missing required key `request`",
                "invalid step id `A`",
            ]
        );
    }
}
