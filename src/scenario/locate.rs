//! Where each JSON value and key sits in a scenario file's text.
//!
//! serde_json gives values without positions, so the loader validates a `Value` and reports
//! problems by JSON pointer; this scanner maps those pointers back to byte spans, and spans to
//! line:column. It also notices duplicate keys, which serde_json silently collapses.
//! It runs only on text serde_json has already accepted, but never panics on anything.

use std::collections::HashMap;
use std::ops::Range;

/// The spans of one value: the value itself and, for object members, its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub key: Option<Range<usize>>,
    pub value: Range<usize>,
}

/// Pointer → spans for one document, plus what is needed to turn offsets into positions.
#[derive(Debug)]
pub struct Locator<'s> {
    source: &'s str,
    nodes: HashMap<String, Node>,
    /// Pointer and key span of every key that repeats an earlier key of the same object.
    duplicates: Vec<(String, Range<usize>)>,
    line_starts: Vec<usize>,
}

/// A resolved position: 1-based line and column (in characters), the line's text, and how
/// many characters of it the span covers from the column on (at least 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub line_text: String,
    pub span: usize,
}

impl<'s> Locator<'s> {
    pub fn new(source: &'s str) -> Locator<'s> {
        let mut scanner = Scanner {
            bytes: source.as_bytes(),
            at: 0,
            nodes: HashMap::new(),
            duplicates: Vec::new(),
        };
        scanner.skip_ws();
        let start = scanner.at;
        scanner.value(String::new(), None, start);
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Locator {
            source,
            nodes: scanner.nodes,
            duplicates: scanner.duplicates,
            line_starts,
        }
    }

    pub fn node(&self, pointer: &str) -> Option<&Node> {
        self.nodes.get(pointer)
    }

    /// Keys that repeat an earlier key in the same object: (pointer, key span).
    pub fn duplicates(&self) -> &[(String, Range<usize>)] {
        &self.duplicates
    }

    /// The raw text of a span.
    pub fn text(&self, span: &Range<usize>) -> &'s str {
        self.source.get(span.clone()).unwrap_or("")
    }

    /// Line, column and excerpt for a byte span; multi-line spans are cut at the line's end.
    pub fn position(&self, span: &Range<usize>) -> Position {
        let start = span.start.min(self.source.len());
        let index = self
            .line_starts
            .partition_point(|&s| s <= start)
            .saturating_sub(1);
        let line_start = self.line_starts.get(index).copied().unwrap_or(0);
        let line_end = self.source[line_start..]
            .find('\n')
            .map_or(self.source.len(), |i| line_start + i);
        let line_text = self.source[line_start..line_end].trim_end_matches('\r');
        let column = char_count(self.source, line_start, start) + 1;
        let end = span.end.clamp(start, line_end.max(start));
        let span = char_count(self.source, start, end).max(1);
        Position {
            line: index + 1,
            column,
            line_text: line_text.to_string(),
            span,
        }
    }

    /// The byte offset, in the file, of character `index` of the decoded string whose raw
    /// token (with quotes) starts at `token_start`. Escapes (`\"`, `\u00e9`) make the decoded
    /// and raw offsets differ; this walks the raw text to line them up.
    pub fn offset_in_string(&self, token_start: usize, index: usize) -> usize {
        let bytes = self.source.as_bytes();
        let mut at = token_start + 1;
        let mut seen = 0;
        while seen < index && at < bytes.len() && bytes[at] != b'"' {
            at += raw_char_len(self.source, at);
            seen += 1;
        }
        at.min(self.source.len())
    }
}

/// Characters between two byte offsets (clamped, never splitting a character).
fn char_count(source: &str, from: usize, to: usize) -> usize {
    source
        .get(from..to)
        .map_or(to.saturating_sub(from), |s| s.chars().count())
}

/// Raw length in bytes of one decoded character starting at `at` inside a string token.
fn raw_char_len(source: &str, at: usize) -> usize {
    let bytes = source.as_bytes();
    if bytes.get(at) != Some(&b'\\') {
        return source
            .get(at..)
            .and_then(|s| s.chars().next())
            .map_or(1, char::len_utf8);
    }
    match bytes.get(at + 1) {
        Some(b'u') => {
            let high = source
                .get(at + 2..at + 6)
                .and_then(|h| u16::from_str_radix(h, 16).ok());
            let pair = matches!(high, Some(0xD800..=0xDBFF)) && bytes.get(at + 6) == Some(&b'\\');
            if pair { 12 } else { 6 }
        }
        _ => 2,
    }
}

/// A minimal recursive walker over valid JSON that records spans by pointer.
struct Scanner<'b> {
    bytes: &'b [u8],
    at: usize,
    nodes: HashMap<String, Node>,
    duplicates: Vec<(String, Range<usize>)>,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn value(&mut self, pointer: String, key: Option<Range<usize>>, start: usize) {
        match self.bytes.get(self.at) {
            Some(b'{') => self.object(&pointer),
            Some(b'[') => self.array(&pointer),
            Some(b'"') => self.string(),
            Some(_) => self.scalar(),
            None => return,
        }
        // A repeated key overwrites, as in serde_json, so spans match the loaded value.
        let node = Node {
            key,
            value: start..self.at,
        };
        self.nodes.insert(pointer, node);
    }

    fn object(&mut self, pointer: &str) {
        self.at += 1;
        let mut seen = std::collections::HashSet::new();
        loop {
            self.skip_ws();
            match self.bytes.get(self.at) {
                Some(b'"') => {}
                Some(b',') => {
                    self.at += 1;
                    continue;
                }
                Some(b'}') => {
                    self.at += 1;
                    return;
                }
                _ => return,
            }
            let key_start = self.at;
            self.string();
            let key_span = key_start..self.at;
            let raw = std::str::from_utf8(&self.bytes[key_span.clone()]).unwrap_or("\"\"");
            let name: String = serde_json::from_str(raw).unwrap_or_default();
            self.skip_ws();
            if self.bytes.get(self.at) != Some(&b':') {
                return;
            }
            self.at += 1;
            self.skip_ws();
            let child = format!("{pointer}/{}", escape_token(&name));
            if !seen.insert(name) {
                self.duplicates.push((child.clone(), key_span.clone()));
            }
            let start = self.at;
            self.value(child, Some(key_span), start);
        }
    }

    fn array(&mut self, pointer: &str) {
        self.at += 1;
        let mut index = 0;
        loop {
            self.skip_ws();
            match self.bytes.get(self.at) {
                Some(b',') => {
                    self.at += 1;
                    continue;
                }
                Some(b']') => {
                    self.at += 1;
                    return;
                }
                None => return,
                Some(_) => {}
            }
            let start = self.at;
            self.value(format!("{pointer}/{index}"), None, start);
            if self.at == start {
                return;
            }
            index += 1;
        }
    }

    fn string(&mut self) {
        self.at += 1;
        while let Some(&b) = self.bytes.get(self.at) {
            self.at += if b == b'\\' { 2 } else { 1 };
            if b == b'"' {
                break;
            }
        }
        self.at = self.at.min(self.bytes.len());
    }

    fn scalar(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            if matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace() {
                break;
            }
            self.at += 1;
        }
    }
}

/// Escapes one reference token of a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  \"name\": \"x\",\n  \"steps\": [\n    {\"id\": \"a\", \"n\": [1, true]},\n    {\"a/b\": null}\n  ]\n}\n";

    fn text<'a>(loc: &'a Locator, pointer: &str) -> &'a str {
        loc.text(&loc.node(pointer).expect(pointer).value)
    }

    #[test]
    fn maps_pointers_to_values_and_keys() {
        let loc = Locator::new(DOC);
        assert_eq!(text(&loc, "/name"), "\"x\"");
        assert_eq!(text(&loc, "/steps/0/id"), "\"a\"");
        assert_eq!(text(&loc, "/steps/0/n/1"), "true");
        assert_eq!(text(&loc, "/steps/1/a~1b"), "null");
        let key = loc
            .node("/steps/0/id")
            .and_then(|n| n.key.clone())
            .expect("key");
        assert_eq!(loc.text(&key), "\"id\"");
        assert!(text(&loc, "").starts_with('{'));
    }

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        let loc = Locator::new(DOC);
        let p = loc.position(&loc.node("/steps/0/id").expect("node").value);
        assert_eq!((p.line, p.column, p.span), (4, 12, 3));
        assert_eq!(p.line_text, "    {\"id\": \"a\", \"n\": [1, true]},");
        // A multi-line value is underlined to the end of its first line only.
        let p = loc.position(&loc.node("/steps").expect("node").value);
        assert_eq!((p.line, p.column, p.span), (3, 12, 1));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "{\"é\": \"ü\", \"k\": 1}";
        let loc = Locator::new(src);
        let p = loc.position(&loc.node("/k").expect("node").value);
        assert_eq!(p.column, 17);
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_last_kept_like_serde_json() {
        let src = "{\"a\": {\"b\": 1},\n \"a\": {\"b\": 2}}";
        let loc = Locator::new(src);
        assert_eq!(text(&loc, "/a/b"), "2");
        let dups = loc.duplicates();
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].0, "/a");
        assert_eq!(loc.position(&dups[0].1).line, 2);
    }

    #[test]
    fn offsets_inside_strings_skip_escapes() {
        let src = r#"{"p": "a\"b\u00e9{{x"}"#;
        let loc = Locator::new(src);
        let start = loc.node("/p").expect("node").value.start;
        // Decoded: a " b é { { x → the `{{` starts at decoded index 4.
        let at = loc.offset_in_string(start, 4);
        assert_eq!(&src[at..at + 2], "{{");
    }

    #[test]
    fn never_panics_on_broken_text() {
        for src in [
            "", "{", "[1,", "{\"a\"", "{\"a\":", "\"abc", "{\"a\\", "[\"\\u12",
        ] {
            let loc = Locator::new(src);
            let _ = loc.position(&(0..src.len() + 5));
            let _ = loc.offset_in_string(0, 10);
        }
    }
}
