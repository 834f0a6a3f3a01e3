//! Text from an endpoint (or a file), made safe to show a person.
//!
//! A hostile endpoint can put control characters in a body, a header or an id: an OSC 52
//! sequence that writes the reader's clipboard, a clear-screen, a carriage return that
//! overprints a line with a forged `PASS`, bidirectional overrides that reorder what is read.
//! Every output a person reads (terminal, Markdown, JUnit, `.snap` files) passes such text
//! through [`line`] or [`text`], which replace those characters with visible escapes.

use std::borrow::Cow;

/// `s` for a single line: every control character (including newline and tab) and every
/// bidirectional override is shown as an escape such as `\u{1b}`.
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, |_| false)
}

/// `s` for a block of lines: newlines and tabs are kept, every other control character and
/// bidirectional override is shown as an escape (a lone `\r` would overprint a line).
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, |c| c == '\n' || c == '\t')
}

fn escape(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| dangerous(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if dangerous(c) && !keep(c) {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// C0 and C1 controls, DEL, and the Unicode bidirectional embedding/override/isolate marks.
fn dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_become_visible() {
        let osc52 = "\u{1b}]52;c;ZXZpbA==\u{7}";
        assert_eq!(line(osc52), "\\u{1b}]52;c;ZXZpbA==\\u{7}");
        assert_eq!(line("a\r  PASS"), "a\\r  PASS");
        assert_eq!(line("x\ny\tz"), "x\\ny\\tz");
        assert_eq!(text("x\ny\tz\r"), "x\ny\tz\\r");
        assert_eq!(line("\u{202e}txt.exe"), "\\u{202e}txt.exe");
        assert_eq!(line("\u{9b}2J"), "\\u{9b}2J");
        assert!(matches!(line("plain é ✓"), Cow::Borrowed(_)));
    }
}
