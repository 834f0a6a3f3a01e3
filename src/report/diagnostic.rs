//! The one renderer for user-facing input errors, in the rustc/hurl style:
//!
//! ```text
//! error: unknown check `scim.resorce`
//!   --> scenarios/users/create.json:14:27
//!    |
//! 14 |       "checks": ["scim.resorce"],
//!    |                  ^^^^^^^^^^^^^^
//!    = step `create`, at /steps/0/expect/checks/0
//!    = help: did you mean `scim.resource`?
//! ```
//!
//! Scenario, selection and `--var` errors all become a `Diagnostic`; colour comes from
//! `Styles` and is off by default, so tests compare plain text.

use super::styles::Styles;
use crate::scenario::error::{ScenarioError, ScenarioErrors};
use crate::scenario::select::SelectError;
use crate::template::overrides::VarOverrideError;
use std::fmt::Write as _;
use std::io;

/// A located (or not) message with an optional excerpt, notes and a help line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// File the message is about; `None` for command-line input.
    pub file: Option<String>,
    /// 1-based line and column; 0 when not known.
    pub line: usize,
    pub column: usize,
    /// The text of `line`, and how many characters from `column` to underline.
    pub source_line: Option<String>,
    pub span: usize,
    /// Context lines shown as `= ...`.
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl From<&ScenarioError> for Diagnostic {
    fn from(e: &ScenarioError) -> Diagnostic {
        let at = (!e.pointer.is_empty()).then(|| format!("at {}", e.pointer));
        let note = match (&e.step, at) {
            (Some(step), Some(at)) => Some(format!("step `{step}`, {at}")),
            (Some(step), None) => Some(format!("step `{step}`")),
            (None, at) => at,
        };
        Diagnostic {
            message: e.message.clone(),
            file: Some(e.file.clone()),
            line: e.line,
            column: e.column,
            source_line: e.source_line.clone(),
            span: e.span,
            notes: note.into_iter().collect(),
            help: e.hint.clone(),
        }
    }
}

impl From<&SelectError> for Diagnostic {
    fn from(e: &SelectError) -> Diagnostic {
        let message = match e {
            SelectError::UnknownName { name, .. } => format!("no scenario named `{name}`"),
            SelectError::UnknownTag { tag, .. } => format!("no scenario has the tag `{tag}`"),
            other => other.to_string(),
        };
        Diagnostic {
            message,
            help: e.hint().map(str::to_string),
            ..Diagnostic::default()
        }
    }
}

impl From<&VarOverrideError> for Diagnostic {
    fn from(e: &VarOverrideError) -> Diagnostic {
        match e {
            VarOverrideError::Undeclared { name, hint } => Diagnostic {
                message: format!("`--var {name}=...`: no selected scenario declares `{name}`"),
                help: hint.clone(),
                ..Diagnostic::default()
            },
            other => Diagnostic {
                message: other.to_string(),
                ..Diagnostic::default()
            },
        }
    }
}

/// Writes one diagnostic.
pub fn render(d: &Diagnostic, styles: Styles, out: &mut impl io::Write) -> io::Result<()> {
    out.write_all(to_string(d, styles).as_bytes())
}

/// One diagnostic as text, ending with a newline.
pub fn to_string(d: &Diagnostic, styles: Styles) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} {}", styles.fail("error:"), styles.bold(&d.message));
    let width = if d.line > 0 { digits(d.line) } else { 1 };
    let pad = " ".repeat(width);
    if let Some(file) = &d.file {
        let place = if d.line > 0 {
            format!("{file}:{}:{}", d.line, d.column)
        } else {
            file.clone()
        };
        let _ = writeln!(s, "{pad}{} {}", styles.accent("-->"), place);
    }
    if let (Some(text), true) = (&d.source_line, d.line > 0) {
        let (text, column, span) = excerpt(text, d.column, d.span);
        let bar = styles.accent("|");
        let _ = writeln!(s, "{pad} {bar}");
        let number = styles.accent(&d.line.to_string());
        let _ = writeln!(s, "{number} {bar} {text}");
        let _ = writeln!(s, "{pad} {bar} {}", underline(&text, column, span, styles));
    }
    for note in &d.notes {
        let _ = writeln!(s, "{pad} {} {note}", styles.accent("="));
    }
    if let Some(help) = &d.help {
        let _ = writeln!(
            s,
            "{pad} {} {} {help}",
            styles.accent("="),
            styles.bold("help:")
        );
    }
    s
}

/// Several diagnostics, a blank line between them, and a count when there is more than one.
pub fn to_string_all(ds: &[Diagnostic], styles: Styles) -> String {
    let mut s = ds
        .iter()
        .map(|d| to_string(d, styles))
        .collect::<Vec<_>>()
        .join("\n");
    if ds.len() > 1 {
        let _ = writeln!(
            s,
            "\n{} {}",
            styles.fail("error:"),
            styles.bold(&format!(
                "could not load the scenarios: {} errors",
                ds.len()
            ))
        );
    }
    s
}

/// How many characters of a source line a diagnostic shows at most.
const EXCERPT: usize = 120;

/// The part of `text` worth showing: all of a short line; of a long one (a minified file can
/// be one 65 MB line) a window of [`EXCERPT`] characters around `column`, with `…` where it
/// was cut. Returns the excerpt and the column and span inside it.
fn excerpt(text: &str, column: usize, span: usize) -> (String, usize, usize) {
    let total = text.chars().count();
    if total <= EXCERPT {
        return (text.to_string(), column, span);
    }
    let at = column.saturating_sub(1).min(total);
    let start = at.saturating_sub(EXCERPT / 3);
    let end = (start + EXCERPT).min(total);
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(text.chars().skip(start).take(end - start));
    if end < total {
        shown.push('…');
    }
    let column = at - start + 1 + usize::from(start > 0);
    (shown, column, span.min(end.saturating_sub(at)).max(1))
}

/// Padding up to `column` (keeping tabs, so carets line up) and `span` carets.
fn underline(text: &str, column: usize, span: usize, styles: Styles) -> String {
    let before: String = text
        .chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let available = text
        .chars()
        .count()
        .saturating_sub(column.saturating_sub(1));
    let carets = "^".repeat(span.min(available).max(1));
    format!("{before}{}", styles.fail(&carets))
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

impl ScenarioError {
    /// This error as a rendered diagnostic.
    pub fn render(&self, styles: Styles) -> String {
        to_string(&Diagnostic::from(self), styles)
    }
}

impl ScenarioErrors {
    /// Every error, rendered, with a count at the end when there are several.
    pub fn render(&self, styles: Styles) -> String {
        let ds: Vec<Diagnostic> = self.errors().iter().map(Diagnostic::from).collect();
        to_string_all(&ds, styles)
    }
}

impl SelectError {
    pub fn render(&self, styles: Styles) -> String {
        to_string(&Diagnostic::from(self), styles)
    }
}

impl VarOverrideError {
    pub fn render(&self, styles: Styles) -> String {
        to_string(&Diagnostic::from(self), styles)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_huge_line_is_shown_as_a_bounded_window_around_the_column() {
        let line = format!("{}@{}", "a".repeat(5_000_000), "b".repeat(5_000_000));
        let d = Diagnostic {
            message: "invalid JSON: expected value".into(),
            file: Some("big.json".into()),
            line: 1,
            column: 5_000_001,
            source_line: Some(line),
            span: 1,
            notes: vec![],
            help: None,
        };
        let text = to_string(&d, Styles::plain());
        assert!(text.len() < 1_000, "{} bytes", text.len());
        assert!(text.contains("big.json:1:5000001"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        let source = lines.iter().find(|l| l.contains('@')).unwrap();
        let carets = lines.iter().find(|l| l.contains('^')).unwrap();
        let at = source.chars().position(|c| c == '@').unwrap();
        assert_eq!(carets.chars().position(|c| c == '^'), Some(at), "{text}");
    }

    use super::*;
    use crate::scenario::load::parse_scenario;

    fn rendered(file: &str, source: &str) -> String {
        match parse_scenario(file, source, false) {
            Ok(_) => panic!("{file} should not load"),
            Err(e) => e.render(Styles::plain()),
        }
    }

    #[test]
    fn renders_the_documented_layout() {
        let e = ScenarioError {
            file: "scenarios/users/create.json".into(),
            line: 14,
            column: 18,
            step: Some("create".into()),
            pointer: "/steps/0/expect/checks/0".into(),
            message: "unknown check `scim.resorce`".into(),
            hint: Some("did you mean `scim.resource`?".into()),
            source_line: Some("      \"checks\": [\"scim.resorce\"],".into()),
            span: 14,
        };
        let expected = "\
error: unknown check `scim.resorce`
  --> scenarios/users/create.json:14:18
   |
14 |       \"checks\": [\"scim.resorce\"],
   |                  ^^^^^^^^^^^^^^
   = step `create`, at /steps/0/expect/checks/0
   = help: did you mean `scim.resource`?
";
        assert_eq!(e.render(Styles::plain()), expected);
    }

    #[test]
    fn errors_without_position_or_file_render_compactly() {
        let e = ScenarioError::whole_file("x.json", "failed to read scenario file: denied");
        assert_eq!(
            e.render(Styles::plain()),
            "error: failed to read scenario file: denied\n --> x.json\n"
        );
        let sel = SelectError::UnknownName {
            name: "user-creat".into(),
            hint: Some("did you mean `user-create`?".into()),
        };
        assert_eq!(
            sel.render(Styles::plain()),
            "error: no scenario named `user-creat`\n  = help: did you mean `user-create`?\n"
        );
    }

    #[test]
    fn carets_keep_tabs_and_stay_within_the_line() {
        assert_eq!(underline("\tab cd", 5, 10, Styles::plain()), "\t   ^^");
        assert_eq!(underline("", 1, 3, Styles::plain()), "^");
    }

    #[test]
    fn colour_only_when_asked() {
        let e = ScenarioError::whole_file("x.json", "boom");
        assert!(!e.render(Styles::plain()).contains('\x1b'));
        assert!(e.render(Styles::colored()).contains("\x1b["));
    }

    #[test]
    fn snapshot_unknown_check_and_key() {
        let source = r#"{
  "name": "user-create",
  "summary": "create a user",
  "dialect": "any",
  "steps": [
    {
      "id": "create",
      "request": { "method": "POST", "path": "/Users", "body": { "userName": "{{run.prefix}}a" } },
      "expect": { "status": 201, "checks": ["scim.resorce"], "json": [ { "pointer": "/id", "exist": true } ] }
    }
  ]
}
"#;
        insta::assert_snapshot!(rendered("scenarios/users/user-create.json", source));
    }

    #[test]
    fn snapshot_capture_used_too_early_and_bad_template() {
        let source = r#"{
  "name": "user-read",
  "summary": "read a user back",
  "dialect": "default",
  "steps": [
    { "id": "read", "request": { "method": "GET", "path": "/Users/{{user_id}}" } },
    { "id": "create",
      "request": { "method": "post", "path": "/Users?x=1",
                   "body": { "userName": "{{run.prefix}}b", "externalId": "{{uuid" } },
      "capture": { "user_id": "/id" } }
  ]
}
"#;
        insta::assert_snapshot!(rendered("scenarios/users/user-read.json", source));
    }

    #[test]
    fn snapshot_json_syntax_error() {
        let source = "{\n  \"name\": \"x\",\n  \"steps\": [\n    { \"id\": \"a\", },\n  ]\n}\n";
        insta::assert_snapshot!(rendered("broken.json", source));
    }
}
