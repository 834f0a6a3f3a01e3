//! Template syntax: `{{name}}` references inside strings, and what a name may refer to.
//!
//! Syntax: `{{name}}`, spaces allowed inside the braces (`{{ name }}`). `{{{{` is a literal
//! `{{` (the one escape). A `}}` outside a reference is plain text. Names are
//! `[A-Za-z0-9_.-]+`; what they mean is decided by `Reference::classify`.
//! Positions are counted in characters of the (decoded) string, so the loader can point at
//! the exact place in a file.

use std::ops::Range;

/// One piece of a parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Text copied as is (an escaped `{{{{` yields a `{{` text segment).
    Text(&'a str),
    /// A `{{name}}` reference; `span` covers the braces, in characters.
    Var { name: &'a str, span: Range<usize> },
}

/// Why a string is not a valid template; `span` is in characters of that string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at column {}", .span.start + 1)]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    pub span: Range<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxErrorKind {
    #[error("unterminated `{{{{`: no matching `}}}}`")]
    Unterminated,
    #[error("empty `{{{{}}}}`: a variable name is missing")]
    Empty,
    #[error("invalid variable name `{0}`: use letters, digits, `_`, `.` and `-`")]
    BadName(String),
}

impl SyntaxError {
    /// How to fix it.
    pub fn hint(&self) -> &'static str {
        match self.kind {
            SyntaxErrorKind::Unterminated => {
                "close it with `}}`, or write `{{{{` for a literal `{{`"
            }
            SyntaxErrorKind::Empty => {
                "write the variable name between the braces, e.g. `{{run.prefix}}`"
            }
            SyntaxErrorKind::BadName(_) => "write `{{{{` for a literal `{{`",
        }
    }
}

/// Splits a template into text and references.
pub fn parse(template: &str) -> Result<Vec<Segment<'_>>, SyntaxError> {
    let mut segments = Vec::new();
    let mut rest = template;
    // Character index of `rest` within `template`.
    let mut chars_before = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            segments.push(Segment::Text(&rest[..open]));
        }
        let start = chars_before + rest[..open].chars().count();
        let after = &rest[open + 2..];
        if let Some(escaped) = after.strip_prefix("{{") {
            segments.push(Segment::Text("{{"));
            rest = escaped;
            chars_before = start + 4;
            continue;
        }
        let Some(close) = after.find("}}") else {
            return Err(SyntaxError {
                kind: SyntaxErrorKind::Unterminated,
                span: start..start + 2,
            });
        };
        let inner = &after[..close];
        let end = start + 2 + inner.chars().count() + 2;
        let name = inner.trim_matches(' ');
        let kind = if name.is_empty() {
            Some(SyntaxErrorKind::Empty)
        } else if !name.chars().all(is_name_char) {
            Some(SyntaxErrorKind::BadName(name.to_string()))
        } else {
            None
        };
        if let Some(kind) = kind {
            return Err(SyntaxError {
                kind,
                span: start..end,
            });
        }
        segments.push(Segment::Var {
            name,
            span: start..end,
        });
        rest = &after[close + 2..];
        chars_before = end;
    }
    if !rest.is_empty() {
        segments.push(Segment::Text(rest));
    }
    Ok(segments)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// True when the string contains at least one reference (or an escape).
pub fn has_template(s: &str) -> bool {
    s.contains("{{")
}

/// The built-in names, for documentation and "did you mean" hints.
pub const BUILTIN_NAMES: &[&str] = &["run.prefix", "run.id", "run.base", "uuid"];

/// What a reference name refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference<'a> {
    /// `run.prefix`: the per-run prefix every created object's name carries.
    RunPrefix,
    /// `run.id`: the run's id.
    RunId,
    /// `run.base`: the Tenant URL without a trailing slash.
    RunBase,
    /// `uuid`: a fresh v4 uuid at every use.
    Uuid,
    /// `uuid.NAME`: one uuid per NAME, stable for one scenario run.
    NamedUuid(&'a str),
    /// A scenario variable or a capture (`[A-Za-z_][A-Za-z0-9_]*`).
    Variable(&'a str),
    /// In a built-in namespace (`run.`, `uuid.`) but not a built-in; or a malformed name.
    Unknown(&'a str),
}

impl<'a> Reference<'a> {
    pub fn classify(name: &'a str) -> Reference<'a> {
        match name {
            "run.prefix" => Reference::RunPrefix,
            "run.id" => Reference::RunId,
            "run.base" => Reference::RunBase,
            "uuid" => Reference::Uuid,
            _ => match name.strip_prefix("uuid.") {
                Some(tag) if !tag.is_empty() && !tag.contains('.') => Reference::NamedUuid(tag),
                _ if is_variable_name(name) => Reference::Variable(name),
                _ => Reference::Unknown(name),
            },
        }
    }

    /// True for the names the harness defines itself.
    pub fn is_builtin(&self) -> bool {
        !matches!(self, Reference::Variable(_) | Reference::Unknown(_))
    }
}

/// Scenario variable and capture names: `[A-Za-z_][A-Za-z0-9_]*` (no dots, so they can never
/// be mistaken for a built-in).
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, span: Range<usize>) -> Segment<'_> {
        Segment::Var { name, span }
    }

    #[test]
    fn parses_text_and_references_with_character_spans() {
        let segs = parse("/Users/{{user_id}}?x").expect("valid");
        assert_eq!(
            segs,
            vec![
                Segment::Text("/Users/"),
                var("user_id", 7..18),
                Segment::Text("?x")
            ]
        );
        let segs = parse("é{{ run.prefix }}").expect("valid");
        assert_eq!(segs, vec![Segment::Text("é"), var("run.prefix", 1..17)]);
    }

    #[test]
    fn plain_text_and_lone_closing_braces_are_text() {
        assert_eq!(parse("").expect("valid"), vec![]);
        assert_eq!(parse("a}}b").expect("valid"), vec![Segment::Text("a}}b")]);
    }

    #[test]
    fn four_braces_are_a_literal_pair() {
        let segs = parse("a{{{{b}}").expect("valid");
        assert_eq!(
            segs,
            vec![
                Segment::Text("a"),
                Segment::Text("{{"),
                Segment::Text("b}}")
            ]
        );
        let segs = parse("{{{{{{x}}").expect("valid");
        assert_eq!(segs, vec![Segment::Text("{{"), var("x", 4..9)]);
    }

    #[test]
    fn unterminated_reference_reports_its_column() {
        let err = parse("abc {{user_id").expect_err("unterminated");
        assert_eq!(err.kind, SyntaxErrorKind::Unterminated);
        assert_eq!(err.span, 4..6);
        assert_eq!(
            err.to_string(),
            "unterminated `{{`: no matching `}}` at column 5"
        );
    }

    #[test]
    fn empty_and_malformed_names_are_errors() {
        let err = parse("x{{  }}").expect_err("empty");
        assert_eq!((err.kind, err.span), (SyntaxErrorKind::Empty, 1..7));
        let err = parse("{{a b}}").expect_err("bad");
        assert_eq!(err.kind, SyntaxErrorKind::BadName("a b".into()));
        // `{{{` opens a reference whose name starts with `{`.
        assert!(parse("{{{x}}").is_err());
    }

    #[test]
    fn classifies_builtins_variables_and_unknowns() {
        assert_eq!(Reference::classify("run.prefix"), Reference::RunPrefix);
        assert_eq!(Reference::classify("run.base"), Reference::RunBase);
        assert_eq!(Reference::classify("uuid"), Reference::Uuid);
        assert_eq!(Reference::classify("uuid.ext"), Reference::NamedUuid("ext"));
        assert_eq!(
            Reference::classify("user_id"),
            Reference::Variable("user_id")
        );
        assert_eq!(
            Reference::classify("run.prefx"),
            Reference::Unknown("run.prefx")
        );
        assert_eq!(Reference::classify("uuid."), Reference::Unknown("uuid."));
        assert_eq!(Reference::classify("9lives"), Reference::Unknown("9lives"));
        assert!(Reference::RunId.is_builtin());
        assert!(!Reference::Variable("x").is_builtin());
    }
}
