//! Errors in scenario input, each located in its file, and the "did you mean" helper.
//!
//! `ScenarioError` is plain data: where (file, line:column, step, JSON pointer), what, and a
//! hint, plus the source line so a renderer can show an excerpt without the file at hand.
//! Rendering lives in `report::diagnostic`; `Display` here is the one-line form.

use serde::Serialize;
use std::fmt;

/// One problem in one scenario file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ScenarioError {
    /// Display path of the file (`scenarios/users/user-create.json` for built-ins).
    pub file: String,
    /// 1-based line; 0 when the error concerns the whole file (e.g. it cannot be read).
    pub line: usize,
    /// 1-based column in characters; 0 together with `line`.
    pub column: usize,
    /// The id of the step the error is in, when it is in a step that has a readable id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// RFC 6901 pointer to the offending key or value; empty for the whole document.
    pub pointer: String,
    /// What is wrong, a lowercase fragment.
    pub message: String,
    /// How to fix it, e.g. "did you mean `scim.resource`?".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The text of line `line` (without its newline), for an excerpt.
    #[serde(skip)]
    pub source_line: Option<String>,
    /// How many characters from `column` on the excerpt underlines (at least 1).
    #[serde(skip)]
    pub span: usize,
}

impl ScenarioError {
    /// An error about a whole file, with no position in it.
    pub fn whole_file(file: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: file.into(),
            line: 0,
            column: 0,
            step: None,
            pointer: String::new(),
            message: message.into(),
            hint: None,
            source_line: None,
            span: 0,
        }
    }

    /// True when the error points at a line and column.
    pub fn has_position(&self) -> bool {
        self.line > 0
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_position() {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )?;
        } else {
            write!(f, "{}: {}", self.file, self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Every error found while loading one or more scenario files (never empty).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl ScenarioErrors {
    pub fn errors(&self) -> &[ScenarioError] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<ScenarioError> {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<ScenarioError>> for ScenarioErrors {
    fn from(errors: Vec<ScenarioError>) -> ScenarioErrors {
        ScenarioErrors(errors)
    }
}

impl From<ScenarioError> for ScenarioErrors {
    fn from(error: ScenarioError) -> ScenarioErrors {
        ScenarioErrors(vec![error])
    }
}

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The closest candidate to `word`, when one is close enough to be a likely typo.
///
/// A case-only difference always qualifies; otherwise the edit distance (with adjacent
/// transpositions) must be at most a third of the word's length, and at least 1 is allowed.
pub fn closest<'a, I, S>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + ?Sized + 'a,
{
    let limit = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let candidate = candidate.as_ref();
        if candidate == word {
            continue;
        }
        // The distance is at least the difference in length: a long word costs nothing.
        if candidate.chars().count().abs_diff(word.chars().count()) > limit {
            continue;
        }
        // Optimal string alignment: a swap of neighbours costs 1, the commonest key typo.
        let distance = if candidate.eq_ignore_ascii_case(word) {
            0
        } else {
            strsim::osa_distance(word, candidate)
        };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean `x`?` for the closest candidate, if any.
pub fn did_you_mean<'a, I, S>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + ?Sized + 'a,
{
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_count_once_and_long_words_match_nothing() {
        assert_eq!(
            closest("scim.resoucre", &["scim.resource"]),
            Some("scim.resource")
        );
        assert_eq!(closest("ab", &["ba"]), Some("ba"));
        let huge = "x".repeat(1_000_000);
        assert_eq!(closest(&huge, &["scim.resource"]), None);
    }

    #[test]
    fn closest_finds_typos_and_case_slips() {
        let known = ["scim.resource", "scim.error", "scim.location"];
        assert_eq!(closest("scim.resorce", &known), Some("scim.resource"));
        assert_eq!(closest("SCIM.ERROR", &known), Some("scim.error"));
        assert_eq!(closest("entirely-else", &known), None);
        assert_eq!(
            closest("scim.error", &known),
            None,
            "an exact match is no suggestion"
        );
    }

    #[test]
    fn closest_prefers_the_nearest_candidate() {
        let known = vec!["stat".to_string(), "status".to_string()];
        assert_eq!(closest("statuss", &known), Some("status"));
        assert_eq!(closest("sta", &known), Some("stat"));
        assert_eq!(
            did_you_mean("sumary", &["summary", "name"]).as_deref(),
            Some("did you mean `summary`?")
        );
    }

    #[test]
    fn display_is_one_line_with_position_and_hint() {
        let mut e = ScenarioError::whole_file("a.json", "failed to read scenario");
        assert_eq!(e.to_string(), "a.json: failed to read scenario");
        e.line = 3;
        e.column = 7;
        e.hint = Some("did you mean `x`?".into());
        assert_eq!(
            e.to_string(),
            "a.json:3:7: failed to read scenario (did you mean `x`?)"
        );
    }
}
