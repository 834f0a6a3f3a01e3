//! The SCIM filter and path grammar (RFC 7644 §3.4.2.2 and §3.5.2), parsed into a small AST.
//!
//! Beyond the RFC it accepts Entra's matching form `emails[type eq "work"].value eq "x"`
//! (a value path followed by a sub-attribute and a comparison) and the legacy unquoted
//! value (`externalId eq jyoung`). Parsing never panics and is bounded: a filter longer
//! than [`MAX_FILTER_BYTES`], with more than [`MAX_FILTER_TERMS`] comparisons or nested
//! deeper than [`MAX_DEPTH`] is refused. A chain of `and`/`or` terms is one n-ary node,
//! so parsing, evaluating and dropping a filter recurse only as deep as its parentheses
//! and value paths nest, never as deep as it is long.

use std::fmt;

use serde_json::Value;

use super::attr::{Kind, split_urn};

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every term holds (two or more terms, in the order written).
    And(Vec<Filter>),
    /// Some term holds (two or more terms, in the order written).
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        attr: AttrPath,
        op: CompareOp,
        value: Value,
    },
    /// `attr pr`, or a bare value path `emails[type eq "work"]` (some element matches).
    Present(AttrPath),
}

/// `[urn:]name[.sub]`, optionally with an element filter: `name[filter][.sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    pub urn: Option<String>,
    /// Empty when the path names a whole schema extension.
    pub name: String,
    pub filter: Option<Box<Filter>>,
    pub sub: Option<String>,
}

/// The comparison operators of RFC 7644 Table 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// Why a filter or path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FilterError {
    /// Byte offset into the input.
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.message, self.offset)
    }
}

/// Nesting (parentheses, `not (…)`, value paths) deeper than this is refused.
pub const MAX_DEPTH: usize = 32;

/// Filters and paths longer than this (in bytes) are refused; Entra's are under 300.
pub const MAX_FILTER_BYTES: usize = 16 * 1024;

/// Filters with more comparisons (`eq`, `pr`, value paths, …) than this are refused.
pub const MAX_FILTER_TERMS: usize = 1000;

fn too_long(len: usize) -> FilterError {
    FilterError {
        offset: MAX_FILTER_BYTES,
        message: format!("the filter is {len} bytes long; at most {MAX_FILTER_BYTES} are accepted"),
    }
}

/// Parses a `filter` query parameter.
pub fn parse_filter(kind: Kind, input: &str) -> Result<Filter, FilterError> {
    if input.len() > MAX_FILTER_BYTES {
        return Err(too_long(input.len()));
    }
    let mut parser = Parser {
        src: input,
        pos: 0,
        depth: 0,
        terms: 0,
        kind,
    };
    let filter = parser.or_expr()?;
    parser.skip_ws();
    if parser.pos < input.len() {
        return Err(parser.error("unexpected text after the filter"));
    }
    Ok(filter)
}

/// Parses a PATCH `path` (an attribute path with an optional value filter).
pub fn parse_path(kind: Kind, input: &str) -> Result<AttrPath, FilterError> {
    if input.len() > MAX_FILTER_BYTES {
        return Err(too_long(input.len()));
    }
    let mut parser = Parser {
        src: input.trim(),
        pos: 0,
        depth: 0,
        terms: 0,
        kind,
    };
    let path = parser.attr_path()?;
    if parser.pos < parser.src.len() {
        return Err(parser.error("unexpected text after the attribute path"));
    }
    Ok(path)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    terms: usize,
    kind: Kind,
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_' | '$')
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> FilterError {
        FilterError {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn rest(&self) -> &str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Whether the next word is `word` (case-insensitively), followed by a space or `(`.
    fn at_keyword(&self, word: &str) -> bool {
        let rest = self.rest();
        let Some(head) = rest.get(..word.len()) else {
            return false;
        };
        let after = rest[word.len()..].chars().next();
        head.eq_ignore_ascii_case(word) && after.is_some_and(|c| c.is_whitespace() || c == '(')
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !keep(c))
            .unwrap_or(self.rest().len());
        self.pos += len;
        &self.src[start..self.pos]
    }

    fn or_expr(&mut self) -> Result<Filter, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("filter nests too deeply"));
        }
        let mut terms = vec![self.and_expr()?];
        loop {
            self.skip_ws();
            if !self.at_keyword("or") {
                break;
            }
            self.pos += 2;
            terms.push(self.and_expr()?);
        }
        self.depth -= 1;
        Ok(join(terms, Filter::Or))
    }

    fn and_expr(&mut self) -> Result<Filter, FilterError> {
        let mut terms = vec![self.unary()?];
        loop {
            self.skip_ws();
            if !self.at_keyword("and") {
                break;
            }
            self.pos += 3;
            terms.push(self.unary()?);
        }
        Ok(join(terms, Filter::And))
    }

    /// Counts one comparison against [`MAX_FILTER_TERMS`].
    fn count_term(&mut self) -> Result<(), FilterError> {
        self.terms += 1;
        if self.terms > MAX_FILTER_TERMS {
            return Err(self.error(format!(
                "the filter has more than {MAX_FILTER_TERMS} comparisons"
            )));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        self.skip_ws();
        if self.at_keyword("not") {
            self.pos += 3;
            self.skip_ws();
            if self.peek() != Some('(') {
                return Err(self.error("expected `(` after `not`"));
            }
            return Ok(Filter::Not(Box::new(self.group()?)));
        }
        if self.peek() == Some('(') {
            return self.group();
        }
        self.attr_expr()
    }

    fn group(&mut self) -> Result<Filter, FilterError> {
        self.pos += 1; // `(`
        let inner = self.or_expr()?;
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.error("expected `)`"));
        }
        self.pos += 1;
        Ok(inner)
    }

    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.pos;
        let kind = self.kind;
        let token = self.take_while(is_path_char).to_string();
        if token.is_empty() {
            return Err(FilterError {
                offset: start,
                message: "expected an attribute name".into(),
            });
        }
        let (urn, rest) = split_urn(kind, &token);
        let (name, mut sub) = match rest.split_once('.') {
            Some((name, sub)) => (name.to_string(), Some(sub.to_string())),
            None => (rest.to_string(), None),
        };
        let mut filter = None;
        if self.peek() == Some('[') {
            if sub.is_some() || name.is_empty() {
                return Err(self.error("a value filter must follow an attribute name"));
            }
            self.pos += 1;
            filter = Some(Box::new(self.or_expr()?));
            self.skip_ws();
            if self.peek() != Some(']') {
                return Err(self.error("expected `]`"));
            }
            self.pos += 1;
            if self.peek() == Some('.') {
                self.pos += 1;
                let tail = self.take_while(is_path_char).to_string();
                if tail.is_empty() || tail.contains('.') {
                    return Err(self.error("expected a sub-attribute name after `].`"));
                }
                sub = Some(tail);
            }
        }
        if sub
            .as_deref()
            .is_some_and(|s| s.is_empty() || s.contains('.'))
        {
            return Err(FilterError {
                offset: start,
                message: "malformed sub-attribute".into(),
            });
        }
        Ok(AttrPath {
            urn: urn.map(str::to_string),
            name,
            filter,
            sub,
        })
    }

    fn attr_expr(&mut self) -> Result<Filter, FilterError> {
        self.count_term()?;
        let attr = self.attr_path()?;
        self.skip_ws();
        let ends_here = matches!(self.peek(), None | Some(')') | Some(']'))
            || self.at_keyword("and")
            || self.at_keyword("or");
        if ends_here {
            if attr.filter.is_some() && attr.sub.is_none() {
                return Ok(Filter::Present(attr));
            }
            return Err(self.error("expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"));
        }
        let op_start = self.pos;
        let word = self
            .take_while(|c| c.is_ascii_alphabetic())
            .to_ascii_lowercase();
        let op = match word.as_str() {
            "pr" => return Ok(Filter::Present(attr)),
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => {
                let message = format!("unknown operator `{}`", super::error::excerpt(&word));
                return Err(FilterError {
                    offset: op_start,
                    message,
                });
            }
        };
        self.skip_ws();
        let value = self.value()?;
        Ok(Filter::Compare { attr, op, value })
    }

    fn value(&mut self) -> Result<Value, FilterError> {
        if self.peek() == Some('"') {
            return self.string_literal();
        }
        let start = self.pos;
        let token = self
            .take_while(|c| !c.is_whitespace() && c != ')' && c != ']')
            .to_string();
        if token.is_empty() {
            return Err(FilterError {
                offset: start,
                message: "expected a value".into(),
            });
        }
        Ok(match token.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ => match serde_json::from_str::<serde_json::Number>(&token) {
                Ok(number) => Value::Number(number),
                // Legacy Entra documentation shows unquoted values; take them as strings.
                Err(_) => Value::String(token),
            },
        })
    }

    fn string_literal(&mut self) -> Result<Value, FilterError> {
        let start = self.pos;
        let mut escaped = false;
        let mut end = None;
        for (i, c) in self.rest().char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            return Err(self.error("unterminated string"));
        };
        let literal = &self.src[start..start + end + 1];
        self.pos = start + end + 1;
        serde_json::from_str::<String>(literal)
            .map(Value::String)
            .map_err(|_| FilterError {
                offset: start,
                message: "invalid string literal".into(),
            })
    }
}

/// One term stays itself; several become one n-ary node.
fn join(mut terms: Vec<Filter>, node: fn(Vec<Filter>) -> Filter) -> Filter {
    if terms.len() == 1 {
        if let Some(only) = terms.pop() {
            return only;
        }
    }
    node(terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(input: &str) -> Filter {
        match parse_filter(Kind::User, input) {
            Ok(filter) => filter,
            Err(err) => panic!("{input}: {err}"),
        }
    }

    fn path(name: &str) -> AttrPath {
        AttrPath {
            urn: None,
            name: name.into(),
            filter: None,
            sub: None,
        }
    }

    #[test]
    fn simple_equality() {
        let filter = parse(r#"userName eq "alice@example.com""#);
        let expected = Filter::Compare {
            attr: path("userName"),
            op: CompareOp::Eq,
            value: json!("alice@example.com"),
        };
        assert_eq!(filter, expected);
    }

    #[test]
    fn operators_and_keywords_are_case_insensitive() {
        let filter = parse(r#"userName EQ "a" AND active Eq True"#);
        let Filter::And(terms) = filter else {
            panic!("expected and")
        };
        assert!(matches!(
            terms.as_slice(),
            [
                _,
                Filter::Compare {
                    op: CompareOp::Eq,
                    value: Value::Bool(true),
                    ..
                }
            ]
        ));
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_groups() {
        let filter = parse(r#"a eq 1 or b eq 2 and not (c pr)"#);
        let Filter::Or(terms) = filter else {
            panic!("expected or")
        };
        let [_, Filter::And(right)] = terms.as_slice() else {
            panic!("expected and")
        };
        assert!(matches!(right.as_slice(), [_, Filter::Not(_)]));
    }

    #[test]
    fn entra_email_matching_form() {
        let filter = parse(r#"emails[type eq "work"].value eq "alice@example.com""#);
        let Filter::Compare { attr, value, .. } = filter else {
            panic!("expected compare")
        };
        assert_eq!(attr.name, "emails");
        assert_eq!(attr.sub.as_deref(), Some("value"));
        assert!(attr.filter.is_some());
        assert_eq!(value, json!("alice@example.com"));
    }

    #[test]
    fn bare_value_path_is_a_presence_test() {
        let filter = parse(r#"emails[type eq "work" and value co "@example.com"]"#);
        assert!(matches!(
            filter,
            Filter::Present(AttrPath {
                filter: Some(_),
                ..
            })
        ));
    }

    #[test]
    fn urn_qualified_attribute() {
        let filter = parse(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "u-2""#,
        );
        let Filter::Compare { attr, .. } = filter else {
            panic!("expected compare")
        };
        assert_eq!(
            attr.urn.as_deref(),
            Some(crate::scim::ENTERPRISE_USER_SCHEMA)
        );
        assert_eq!(
            (attr.name.as_str(), attr.sub.as_deref()),
            ("manager", Some("value"))
        );
    }

    #[test]
    fn escaped_quotes_and_unquoted_legacy_values() {
        let filter = parse(r#"displayName eq "say \"hi\" & go""#);
        assert!(
            matches!(filter, Filter::Compare { value, .. } if value == json!("say \"hi\" & go"))
        );
        let legacy = parse("externalId eq jyoung");
        assert!(matches!(legacy, Filter::Compare { value, .. } if value == json!("jyoung")));
    }

    #[test]
    fn errors_name_the_problem_and_offset() {
        let cases = [
            (r#"userName eq"#, "expected a value"),
            (r#"userName xx "a""#, "unknown operator `xx`"),
            (r#"userName eq "a"#, "unterminated string"),
            (r#"(userName eq "a""#, "expected `)`"),
            (r#"userName eq "a" extra"#, "unexpected text"),
            (r#"emails[type eq "work""#, "expected `]`"),
            ("", "expected an attribute name"),
            ("userName", "expected an operator"),
        ];
        for (input, message) in cases {
            let err = parse_filter(Kind::User, input).err();
            assert!(
                err.as_ref().is_some_and(|e| e.message.contains(message)),
                "{input}: {err:?}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let input = format!("{}a pr{}", "(".repeat(5000), ")".repeat(5000));
        let err = parse_filter(Kind::User, &input).err();
        assert!(err.is_some_and(|e| e.message.contains("too deeply")));
    }

    #[test]
    fn filters_are_bounded_by_length_and_terms() {
        let terms = |n: usize| vec!["a eq 1"; n].join(" or ");
        assert!(parse_filter(Kind::User, &terms(MAX_FILTER_TERMS)).is_ok());
        let err = parse_filter(Kind::User, &terms(MAX_FILTER_TERMS + 1)).err();
        assert!(err.is_some_and(|e| e.message.contains("more than 1000 comparisons")));
        let long = format!(r#"userName eq "{}""#, "x".repeat(MAX_FILTER_BYTES));
        let err = parse_filter(Kind::User, &long).err();
        assert!(err.is_some_and(|e| e.message.contains("at most 16384")));
        let path = format!("members[{}]", vec!["value pr"; 1200].join(" and "));
        let err = parse_path(Kind::Group, &path).err();
        assert!(err.is_some_and(|e| e.message.contains("more than 1000")));
        let long_path = format!("members[value eq \"{}\"]", "x".repeat(MAX_FILTER_BYTES));
        assert!(parse_path(Kind::Group, &long_path).is_err());
    }

    #[test]
    fn chains_are_one_node_per_operator() {
        let Filter::Or(terms) = parse(r#"a pr or b pr or (c pr and d pr and e pr) or f pr"#) else {
            panic!("expected or")
        };
        assert_eq!(terms.len(), 4);
        assert!(matches!(&terms[2], Filter::And(inner) if inner.len() == 3));
    }

    #[test]
    fn patch_paths() {
        let p = parse_path(Kind::User, r#"members[value eq "u-1"]"#).ok();
        assert!(
            p.as_ref()
                .is_some_and(|p| p.name == "members" && p.filter.is_some())
        );
        let p = parse_path(Kind::User, "name.givenName").ok();
        assert_eq!(p.and_then(|p| p.sub), Some("givenName".into()));
        let whole = parse_path(Kind::User, crate::scim::ENTERPRISE_USER_SCHEMA).ok();
        assert!(whole.is_some_and(|p| p.name.is_empty() && p.urn.is_some()));
        assert!(parse_path(Kind::User, "emails[type eq \"work\"] junk").is_err());
        assert!(parse_path(Kind::User, "name.").is_err());
    }
}
