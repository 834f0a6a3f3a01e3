//! Normalization of transcripts so snapshots compare behaviour, not volatile values.
//!
//! A [`Normalizer`] turns the exchanges of one scenario into the transcript text that the
//! snapshot store compares. Every rewrite belongs to a named rule (see [`RULES`]); the names
//! are written into the transcript header so a reader knows what was replaced and why.
//!
//! - `ids`: server-assigned ids → `[id:1]`, `[id:2]`, numbered by first appearance, in id-valued
//!   JSON positions, URL path segments, quoted filter values and (for long opaque ids) free text.
//! - `generated`: values the harness generated (uuids) → `[uuid:1]`, …
//! - `timestamps`: strings that are RFC 3339 date-times (and HTTP dates in `Retry-After`).
//! - `versions`: `meta.version` and the `ETag` header → `[version]`, keeping the `W/` and quotes.
//! - `base`: the Tenant URL base → `[base]`.
//! - `prefix`: the run prefix, case-insensitively → `[prefix]`.
//! - `sorted`: object keys, and the unordered multi-valued arrays of RFC 7643.
//! - `headers`: only the SCIM-relevant response headers; never a request header.

mod ids;
mod redact;
mod text;
mod transcript;
mod value;

pub(crate) use ids::percent_decode;
pub use redact::Redactions;

use crate::http::exchange::Exchange;
use crate::stop::{Stop, Stopped};
use regex::{Regex, RegexBuilder};
use thiserror::Error;

/// The built-in rules, in the order the transcript header lists them.
pub const RULES: [&str; 8] = [
    "ids",
    "generated",
    "timestamps",
    "versions",
    "base",
    "prefix",
    "sorted",
    "headers",
];

/// Bad extra redactions (from a scenario file or the command line).
#[derive(Debug, Error)]
pub enum NormalizeError {
    #[error("invalid redaction pointer `{0}`: a JSON pointer is empty or starts with `/`")]
    InvalidPointer(String),
    #[error("invalid redaction pattern `{pattern}`: {source}")]
    InvalidPattern {
        pattern: String,
        #[source]
        source: Box<regex::Error>,
    },
}

/// Everything needed to turn one scenario's exchanges into a deterministic transcript.
#[derive(Clone, Debug)]
pub struct Normalizer {
    /// The Tenant URL without query and trailing slash, matched case-insensitively.
    base: Option<Regex>,
    prefix: Option<Regex>,
    generated: Vec<String>,
    redactions: Redactions,
}

impl Normalizer {
    /// A normalizer for a run against `base` (the Tenant URL) whose objects carry `prefix`.
    pub fn new(base: &str, prefix: &str) -> Normalizer {
        Normalizer {
            base: base_pattern(base),
            prefix: literal_pattern(prefix),
            generated: Vec::new(),
            redactions: Redactions::default(),
        }
    }

    /// Values the harness generated during the run (e.g. every `{{uuid}}` it rendered).
    pub fn with_generated<I, S>(mut self, values: I) -> Normalizer
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for v in values {
            let v = v.into();
            // Very short values would match by accident inside unrelated text.
            if v.len() >= 4 && !self.generated.contains(&v) {
                self.generated.push(v);
            }
        }
        self
    }

    /// Extra redactions, added to those already configured.
    pub fn with_redactions(mut self, redactions: &Redactions) -> Normalizer {
        self.redactions.extend(redactions);
        self
    }

    /// The transcript header: scenario name and the rules applied.
    pub fn header(&self, scenario: &str) -> String {
        let mut out = format!(
            "---\nscenario: {scenario}\nnormalized: {}\n",
            RULES.join(", ")
        );
        if !self.redactions.is_empty() {
            out.push_str(&format!("redacted: {}\n", self.redactions.describe()));
        }
        out.push_str("---\n");
        out
    }

    /// The normalized transcript of `steps` (step id and exchange, in order).
    pub fn transcript(&self, scenario: &str, steps: &[(&str, &Exchange)]) -> String {
        transcript::render(self, scenario, steps, Stop::never()).unwrap_or_default()
    }

    /// [`transcript`](Self::transcript), unless `stop` is raised first: a run that is
    /// interrupted while a pathological body is normalized stops within a few thousand nodes.
    pub fn transcript_until(
        &self,
        scenario: &str,
        steps: &[(&str, &Exchange)],
        stop: Stop,
    ) -> Result<String, Stopped> {
        transcript::render(self, scenario, steps, stop)
    }
}

/// The Tenant URL as a case-insensitive literal, without its query and trailing slashes.
fn base_pattern(base: &str) -> Option<Regex> {
    let base = base.split(['?', '#']).next().unwrap_or_default();
    literal_pattern(base.trim_end_matches('/'))
}

/// A case-insensitive pattern matching `text` literally; `None` for empty text.
fn literal_pattern(text: &str) -> Option<Regex> {
    if text.is_empty() {
        return None;
    }
    RegexBuilder::new(&regex::escape(text))
        .case_insensitive(true)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_rules_and_redactions() {
        let plain = Normalizer::new("http://h/scim", "p-");
        assert_eq!(
            plain.header("s"),
            "---\nscenario: s\nnormalized: ids, generated, timestamps, versions, base, prefix, sorted, headers\n---\n"
        );
        let mut r = Redactions::default();
        r.add_pointer("/employeeNumber").unwrap();
        r.add_pattern("x+").unwrap();
        let with = plain.with_redactions(&r);
        assert!(
            with.header("s")
                .contains("redacted: /employeeNumber, regex x+\n"),
            "{}",
            with.header("s")
        );
    }

    #[test]
    fn base_pattern_ignores_query_and_trailing_slash() {
        let re = base_pattern("http://H:1/scim/?aadOptscim062020").unwrap();
        assert!(re.is_match("http://h:1/scim/Users"));
        assert!(!re.is_match("http://h:1/other"));
        assert!(base_pattern("").is_none());
    }

    #[test]
    fn short_generated_values_are_ignored() {
        let n = Normalizer::new("", "").with_generated(["ab", "abcdef", "abcdef"]);
        assert_eq!(n.generated, vec!["abcdef".to_string()]);
    }
}
