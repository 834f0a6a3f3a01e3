//! Short, single-line renderings of JSON values and bodies for `expected`/`actual` texts.
//!
//! Reports put these on one line next to each other, so long values are cut (on a character
//! boundary) and marked with `…` rather than wrapped.

use serde_json::Value;

/// Longest JSON rendering kept in an outcome, in characters.
pub const JSON_CHARS: usize = 300;
/// Longest body excerpt kept in an outcome, in characters.
pub const BODY_CHARS: usize = 200;

/// The value as compact JSON, cut to [`JSON_CHARS`].
pub fn compact(value: &Value) -> String {
    cut(&value.to_string(), JSON_CHARS)
}

/// `text` cut to at most `max_chars` characters, with `…` appended when something was cut.
pub fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The start of a body as one quoted line: whitespace runs collapsed, cut to [`BODY_CHARS`].
pub fn excerpt(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{:?}", cut(&flat, BODY_CHARS))
}

/// A JSON type in words with its article: "a string", "an object", "null".
pub fn type_words(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", cut(&format!("{s:?}"), 80)),
        Value::Array(a) => format!("an array of {} element{}", a.len(), plural(a.len())),
        Value::Object(_) => "an object".to_string(),
    }
}

/// `"s"` unless `n` is 1.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cut_keeps_short_text_and_marks_long_text() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "abc…");
        // Multi-byte characters are never split.
        assert_eq!(cut("ééé", 2), "éé…");
    }

    #[test]
    fn compact_is_one_line_and_bounded() {
        assert_eq!(compact(&json!({"a": [1, 2]})), r#"{"a":[1,2]}"#);
        let long = Value::String("x".repeat(1000));
        assert_eq!(compact(&long).chars().count(), JSON_CHARS + 1);
    }

    #[test]
    fn excerpt_flattens_whitespace() {
        assert_eq!(
            excerpt("<html>\n  <body>x</body>"),
            r#""<html> <body>x</body>""#
        );
    }

    #[test]
    fn type_words_name_the_value() {
        assert_eq!(type_words(&json!("404")), r#"the string "404""#);
        assert_eq!(type_words(&json!(404)), "the number 404");
        assert_eq!(type_words(&json!([1])), "an array of 1 element");
        assert_eq!(type_words(&json!({})), "an object");
        assert_eq!(type_words(&Value::Null), "null");
    }
}
