//! Turning recorded values into templates: server ids into `{{capture}}` references, the
//! names of created objects into `{{run.prefix}}…`, ids nothing created into `{{uuid.NAME}}`.
//!
//! Every string is rewritten twice from the same matches: once as the scenario's template,
//! once as the value the replay will send when its prefix is [`BASELINE_PREFIX`] and its
//! captures hold the recorded ids, which is what the first snapshot baseline is made of.

use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};

/// The run prefix the recorded baseline is written with (normalized to `[prefix]`).
pub const BASELINE_PREFIX: &str = "scimreplay-000000-";

/// Substring matches shorter than this would hit unrelated text; such values are only
/// replaced where they are the whole string (or a whole path segment).
const MIN_SUBSTRING: usize = 8;

/// What a recorded value becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// A recorded run prefix (`scimreplay-1a2b3c-`): becomes `{{run.prefix}}`.
    Prefix,
    /// The name of an object the recording created: gets `{{run.prefix}}` in front.
    Name,
    /// A server id an earlier step captured into this variable.
    Capture(String),
    /// An id no recorded step created: a fresh `{{uuid.TAG}}` no object can have.
    Unknown(String),
}

#[derive(Clone, Debug)]
struct Rule {
    literal: String,
    replacement: Replacement,
}

/// The rules learned so far, applied to strings and JSON values.
#[derive(Clone, Debug, Default)]
pub struct Rewriter {
    rules: Vec<Rule>,
    matcher: Option<Regex>,
    /// Text put between the run prefix and a created name, so scenarios imported from one
    /// source that reuse a name (the Validator's tests share objects) do not collide when
    /// they run side by side.
    name_infix: String,
}

/// One string rewritten: the template and the baseline value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewritten {
    pub template: String,
    pub baseline: String,
}

/// Escapes literal text for a template (`{{` is written `{{{{`).
pub fn escape(text: &str) -> String {
    text.replace("{{", "{{{{")
}

impl Rewriter {
    /// A rewriter that puts `infix` between the run prefix and every created name.
    pub fn with_name_infix(infix: &str) -> Rewriter {
        Rewriter {
            name_infix: escape(infix),
            ..Rewriter::default()
        }
    }

    /// Adds a rule; the first rule for a literal (case-insensitive) wins.
    pub fn add(&mut self, literal: &str, replacement: Replacement) {
        if literal.is_empty() || self.find(literal).is_some() {
            return;
        }
        self.rules.push(Rule {
            literal: literal.to_string(),
            replacement,
        });
        self.matcher = None;
    }

    /// The replacement for a value that is exactly a known literal.
    pub fn find(&self, literal: &str) -> Option<&Replacement> {
        self.rules
            .iter()
            .find(|r| r.literal.eq_ignore_ascii_case(literal))
            .map(|r| &r.replacement)
    }

    fn matcher(&mut self) -> Option<&Regex> {
        if self.matcher.is_none() {
            let mut long: Vec<&str> = self
                .rules
                .iter()
                .map(|r| r.literal.as_str())
                .filter(|l| {
                    l.len() >= MIN_SUBSTRING || l.to_ascii_lowercase().starts_with("scimreplay-")
                })
                .collect();
            if long.is_empty() {
                return None;
            }
            long.sort_by_key(|l| std::cmp::Reverse(l.len()));
            let pattern = long
                .iter()
                .map(|l| regex::escape(l))
                .collect::<Vec<_>>()
                .join("|");
            self.matcher = RegexBuilder::new(&pattern)
                .case_insensitive(true)
                .build()
                .ok();
        }
        self.matcher.as_ref()
    }

    /// Rewrites one string.
    pub fn string(&mut self, text: &str) -> Rewritten {
        if let Some(r) = self.find(text).cloned() {
            return self.apply(&r, text);
        }
        let Some(matcher) = self.matcher().cloned() else {
            return plain(text);
        };
        let mut template = String::new();
        let mut baseline = String::new();
        let mut last = 0;
        for m in matcher.find_iter(text) {
            let Some(r) = self.find(m.as_str()).cloned() else {
                continue;
            };
            template.push_str(&escape(&text[last..m.start()]));
            baseline.push_str(&text[last..m.start()]);
            let done = self.apply(&r, m.as_str());
            template.push_str(&done.template);
            baseline.push_str(&done.baseline);
            last = m.end();
        }
        template.push_str(&escape(&text[last..]));
        baseline.push_str(&text[last..]);
        Rewritten { template, baseline }
    }

    /// Rewrites every string (and object key) of a JSON value: (template, baseline).
    pub fn value(&mut self, value: &Value) -> (Value, Value) {
        match value {
            Value::String(s) => {
                let r = self.string(s);
                (Value::String(r.template), Value::String(r.baseline))
            }
            Value::Array(items) => {
                let (t, b): (Vec<Value>, Vec<Value>) = items.iter().map(|v| self.value(v)).unzip();
                (Value::Array(t), Value::Array(b))
            }
            Value::Object(map) => {
                let mut t = Map::new();
                let mut b = Map::new();
                for (k, v) in map {
                    let key = self.string(k);
                    let (tv, bv) = self.value(v);
                    t.insert(key.template, tv);
                    b.insert(key.baseline, bv);
                }
                (Value::Object(t), Value::Object(b))
            }
            other => (other.clone(), other.clone()),
        }
    }

    /// Rewrites a path segment by segment (a segment that is a known id becomes a reference).
    pub fn path(&mut self, path: &str) -> Rewritten {
        let mut template = Vec::new();
        let mut baseline = Vec::new();
        for segment in path.split('/') {
            let decoded = crate::record::query::decode(&segment.replace('+', "%2B"));
            match self.find(&decoded).cloned() {
                Some(r) => {
                    let done = self.apply(&r, &decoded);
                    template.push(done.template);
                    baseline.push(done.baseline);
                }
                None => {
                    template.push(escape(segment));
                    baseline.push(segment.to_string());
                }
            }
        }
        Rewritten {
            template: template.join("/"),
            baseline: baseline.join("/"),
        }
    }
}

fn plain(text: &str) -> Rewritten {
    Rewritten {
        template: escape(text),
        baseline: text.to_string(),
    }
}

impl Rewriter {
    fn apply(&self, rule: &Replacement, matched: &str) -> Rewritten {
        let infix = &self.name_infix;
        match rule {
            Replacement::Prefix => Rewritten {
                template: format!("{{{{run.prefix}}}}{infix}"),
                baseline: format!("{BASELINE_PREFIX}{infix}"),
            },
            Replacement::Name => Rewritten {
                template: format!("{{{{run.prefix}}}}{infix}{}", escape(matched)),
                baseline: format!("{BASELINE_PREFIX}{infix}{matched}"),
            },
            Replacement::Capture(name) => Rewritten {
                template: format!("{{{{{name}}}}}"),
                baseline: matched.to_string(),
            },
            Replacement::Unknown(tag) => Rewritten {
                template: format!("{{{{uuid.{tag}}}}}"),
                baseline: matched.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_ids_and_prefixes_become_templates_and_baseline_values() {
        let mut r = Rewriter::default();
        r.add("scimreplay-1a2b3c-", Replacement::Prefix);
        r.add("alice@contoso.com", Replacement::Name);
        r.add(
            "0f8e3a4c-aaaa-bbbb-cccc-000000000001",
            Replacement::Capture("user_1".into()),
        );
        r.add("7", Replacement::Capture("group_1".into()));
        let filter =
            r.string("userName eq \"ALICE@contoso.com\" or x eq \"SCIMREPLAY-1A2B3C-bob\"");
        assert_eq!(
            filter.template,
            "userName eq \"{{run.prefix}}ALICE@contoso.com\" or x eq \"{{run.prefix}}bob\""
        );
        assert_eq!(
            filter.baseline,
            "userName eq \"scimreplay-000000-ALICE@contoso.com\" or x eq \"scimreplay-000000-bob\""
        );
        let (t, b) = r.value(&json!({"members": [{"value": "7"}, {"value": "17"}],
                                     "manager": "0f8e3a4c-aaaa-bbbb-cccc-000000000001", "n": 1}));
        assert_eq!(
            t,
            json!({"members": [{"value": "{{group_1}}"}, {"value": "17"}],
                             "manager": "{{user_1}}", "n": 1})
        );
        assert_eq!(b["manager"], "0f8e3a4c-aaaa-bbbb-cccc-000000000001");
        assert_eq!(r.path("/Groups/7").template, "/Groups/{{group_1}}");
        assert_eq!(r.path("/Groups/77").template, "/Groups/77");
    }

    #[test]
    fn an_infix_keeps_imported_names_apart() {
        let mut r = Rewriter::with_name_infix("v3-");
        r.add("Sales", Replacement::Name);
        assert_eq!(r.string("Sales").template, "{{run.prefix}}v3-Sales");
    }

    #[test]
    fn literal_braces_are_escaped() {
        let mut r = Rewriter::default();
        assert_eq!(r.string("a {{b}}").template, "a {{{{b}}");
        r.add("unknown-0000-id", Replacement::Unknown("unknown_1".into()));
        assert_eq!(
            r.path("/Users/unknown-0000-id").template,
            "/Users/{{uuid.unknown_1}}"
        );
    }
}
