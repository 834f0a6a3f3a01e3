//! Extra redactions a user asks for: JSON pointers (per scenario) and regexes (command line).
//!
//! Pointers apply to the raw JSON bodies before any other rule, so they name positions the
//! way the endpoint sent them; `*` stands for every array element or object member, which is
//! how to reach into unordered arrays. Patterns apply last, to the already normalized strings,
//! so a pattern is written against what the snapshot shows.

use super::NormalizeError;
use crate::http::exchange::REDACTED;
use regex::Regex;
use serde_json::Value;

/// Pointers and patterns whose matches become `[redacted]`.
#[derive(Clone, Debug, Default)]
pub struct Redactions {
    pointers: Vec<String>,
    patterns: Vec<Regex>,
}

impl Redactions {
    /// No extra redactions.
    pub fn new() -> Redactions {
        Redactions::default()
    }

    /// Redacts the value at this RFC 6901 pointer in every request and response body.
    pub fn add_pointer(&mut self, pointer: &str) -> Result<(), NormalizeError> {
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(NormalizeError::InvalidPointer(pointer.to_string()));
        }
        if !self.pointers.iter().any(|p| p == pointer) {
            self.pointers.push(pointer.to_string());
        }
        Ok(())
    }

    /// Redacts every match of this regular expression in normalized strings.
    pub fn add_pattern(&mut self, pattern: &str) -> Result<(), NormalizeError> {
        let re = Regex::new(pattern).map_err(|source| NormalizeError::InvalidPattern {
            pattern: pattern.to_string(),
            source: Box::new(source),
        })?;
        if !self.patterns.iter().any(|p| p.as_str() == pattern) {
            self.patterns.push(re);
        }
        Ok(())
    }

    /// Adds everything from `other` that is not here yet.
    pub fn extend(&mut self, other: &Redactions) {
        for p in &other.pointers {
            if !self.pointers.contains(p) {
                self.pointers.push(p.clone());
            }
        }
        for re in &other.patterns {
            if !self.patterns.iter().any(|p| p.as_str() == re.as_str()) {
                self.patterns.push(re.clone());
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pointers.is_empty() && self.patterns.is_empty()
    }

    /// One line for the transcript header, e.g. `/employeeNumber, regex \d{6}`.
    pub(crate) fn describe(&self) -> String {
        let pointers = self.pointers.iter().map(|p| {
            if p.is_empty() {
                "(whole body)".to_string()
            } else {
                p.clone()
            }
        });
        let patterns = self
            .patterns
            .iter()
            .map(|re| format!("regex {}", re.as_str()));
        // A line break would end the header line early and corrupt the snapshot layout.
        let line = pointers.chain(patterns).collect::<Vec<_>>().join(", ");
        line.replace('\r', "\\r").replace('\n', "\\n")
    }

    /// Replaces the value at every configured pointer with `[redacted]`.
    pub(crate) fn apply_pointers(&self, value: &mut Value) {
        for pointer in &self.pointers {
            let tokens: Vec<String> = pointer
                .split('/')
                .skip(1)
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect();
            redact_at(value, &tokens);
        }
    }

    /// Replaces every pattern match in `text` with `[redacted]`.
    pub(crate) fn apply_patterns(&self, text: &str) -> String {
        let mut out = text.to_string();
        for re in &self.patterns {
            if re.is_match(&out) {
                out = re.replace_all(&out, REDACTED).into_owned();
            }
        }
        out
    }
}

fn redact_at(value: &mut Value, tokens: &[String]) {
    let Some((first, rest)) = tokens.split_first() else {
        *value = Value::String(REDACTED.to_string());
        return;
    };
    match value {
        Value::Object(map) if first == "*" => map.values_mut().for_each(|v| redact_at(v, rest)),
        Value::Object(map) => {
            if let Some(v) = map.get_mut(first.as_str()) {
                redact_at(v, rest);
            }
        }
        Value::Array(items) if first == "*" => items.iter_mut().for_each(|v| redact_at(v, rest)),
        Value::Array(items) => {
            if let Some(v) = first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                redact_at(v, rest);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_must_start_with_slash() {
        let mut r = Redactions::new();
        assert!(matches!(
            r.add_pointer("employeeNumber"),
            Err(NormalizeError::InvalidPointer(_))
        ));
        assert!(r.add_pointer("").is_ok());
        assert!(r.add_pointer("/a").is_ok());
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let err = Redactions::new().add_pattern("(").unwrap_err();
        assert!(err.to_string().starts_with("invalid redaction pattern `(`"));
    }

    #[test]
    fn pointers_with_wildcards_and_escapes() {
        let mut r = Redactions::new();
        r.add_pointer("/emails/*/display").unwrap();
        r.add_pointer("/urn:x~1y/badge").unwrap();
        r.add_pointer("/missing/deep").unwrap();
        r.add_pointer("/list/1").unwrap();
        let mut v = json!({
            "emails": [{"value": "a", "display": "A"}, {"value": "b", "display": "B"}],
            "urn:x/y": {"badge": 7, "keep": 1},
            "list": [1, 2, 3]
        });
        r.apply_pointers(&mut v);
        assert_eq!(
            v,
            json!({
                "emails": [{"value": "a", "display": "[redacted]"},
                           {"value": "b", "display": "[redacted]"}],
                "urn:x/y": {"badge": "[redacted]", "keep": 1},
                "list": [1, "[redacted]", 3]
            })
        );
    }

    #[test]
    fn patterns_replace_every_match() {
        let mut r = Redactions::new();
        r.add_pattern(r"\d{6}").unwrap();
        assert_eq!(
            r.apply_patterns("a 123456 b 654321"),
            "a [redacted] b [redacted]"
        );
    }

    #[test]
    fn description_stays_on_one_line() {
        let mut r = Redactions::new();
        r.add_pattern("a\nb").unwrap();
        r.add_pointer("/x\ny").unwrap();
        assert_eq!(r.describe(), "/x\\ny, regex a\\nb");
    }

    #[test]
    fn extend_skips_duplicates() {
        let mut a = Redactions::new();
        a.add_pointer("/x").unwrap();
        let mut b = Redactions::new();
        b.add_pointer("/x").unwrap();
        b.add_pattern("y").unwrap();
        a.extend(&b);
        assert_eq!(a.describe(), "/x, regex y");
    }
}
