//! Colour as data: every reporter takes a `Styles` value; the default is plain text.
//!
//! Whether colour is on is decided once, by the CLI (flag, then `NO_COLOR`/`CLICOLOR_FORCE`,
//! then whether the stream is a terminal); nothing here reads the environment.

use colored::Color;

/// How to paint the parts of a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Styles {
    enabled: bool,
}

impl Styles {
    /// No escape codes at all.
    pub const fn plain() -> Styles {
        Styles { enabled: false }
    }

    /// ANSI colours.
    pub const fn colored() -> Styles {
        Styles { enabled: true }
    }

    pub const fn new(enabled: bool) -> Styles {
        Styles { enabled }
    }

    pub const fn enabled(self) -> bool {
        self.enabled
    }

    fn paint(self, text: &str, color: Color, bold: bool) -> String {
        if !self.enabled || text.is_empty() {
            return text.to_string();
        }
        let weight = if bold { "1;" } else { "" };
        format!("\x1b[{weight}{}m{text}\x1b[0m", color.to_fg_str())
    }

    /// Failures, errors, removed diff lines.
    pub fn fail(self, text: &str) -> String {
        self.paint(text, Color::Red, true)
    }
    /// Passes, added diff lines.
    pub fn pass(self, text: &str) -> String {
        self.paint(text, Color::Green, true)
    }
    /// Warnings and drift.
    pub fn warn(self, text: &str) -> String {
        self.paint(text, Color::Yellow, true)
    }
    /// Skipped steps, secondary detail.
    pub fn dim(self, text: &str) -> String {
        if !self.enabled || text.is_empty() {
            return text.to_string();
        }
        format!("\x1b[2m{text}\x1b[0m")
    }
    /// Headings and names.
    pub fn bold(self, text: &str) -> String {
        if !self.enabled || text.is_empty() {
            return text.to_string();
        }
        format!("\x1b[1m{text}\x1b[0m")
    }
    /// Paths, URLs, commands to run.
    pub fn accent(self, text: &str) -> String {
        self.paint(text, Color::Cyan, false)
    }
    /// Entra impact lines.
    pub fn impact(self, text: &str) -> String {
        self.paint(text, Color::Magenta, false)
    }
    /// Removed lines of a diff.
    pub fn removed(self, text: &str) -> String {
        self.paint(text, Color::Red, false)
    }
    /// Added lines of a diff.
    pub fn added(self, text: &str) -> String {
        self.paint(text, Color::Green, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_styles_never_emit_escapes() {
        let s = Styles::plain();
        for out in [
            s.fail("x"),
            s.pass("x"),
            s.warn("x"),
            s.dim("x"),
            s.bold("x"),
            s.accent("x"),
        ] {
            assert_eq!(out, "x");
        }
    }

    #[test]
    fn colored_styles_wrap_in_escapes() {
        let out = Styles::colored().fail("boom");
        assert!(out.starts_with("\x1b[1;31m"), "{out:?}");
        assert!(out.ends_with("\x1b[0m"));
    }
}
