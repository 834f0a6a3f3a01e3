//! Headers the user adds to every request (`run --header`), for a firewall or gateway in
//! front of the endpoint that needs one Entra would not send.
//!
//! By default the harness sends what Entra sends: `Authorization`, `Content-Type` on bodies
//! and nothing else of its own (no `User-Agent`, no JSON `Accept`). Values given here may be
//! gateway keys, so reports show them redacted.

use thiserror::Error;

/// Headers the harness owns: the token, the body's media type and framing.
const RESERVED: [&str; 5] = [
    "authorization",
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
];

/// A `--header` value that cannot be sent.
#[derive(Debug, Error, PartialEq)]
pub enum HeaderError {
    #[error("`{0}` is not `Name: Value`")]
    Shape(String),
    #[error("`{0}` is not a valid header name")]
    Name(String),
    #[error("the value of `{0}` has characters a header cannot carry")]
    Value(String),
    #[error("`{0}` is set by the harness and cannot be given with --header")]
    Reserved(String),
}

/// Parses one `Name: Value` argument.
pub fn parse(text: &str) -> Result<(String, String), HeaderError> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| HeaderError::Shape(text.to_string()))?;
    let (name, value) = (name.trim(), value.trim());
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(HeaderError::Name(name.to_string()));
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(HeaderError::Reserved(name.to_string()));
    }
    if reqwest::header::HeaderValue::from_str(value).is_err() {
        return Err(HeaderError::Value(name.to_string()));
    }
    Ok((name.to_string(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_value_are_trimmed() {
        let parsed = parse("X-Waf-Key:  abc ").unwrap();
        assert_eq!(parsed, ("X-Waf-Key".to_string(), "abc".to_string()));
        assert_eq!(parse("User-Agent: Mozilla/5.0").unwrap().1, "Mozilla/5.0");
    }

    #[test]
    fn malformed_and_reserved_headers_are_refused() {
        assert_eq!(parse("X-Waf"), Err(HeaderError::Shape("X-Waf".into())));
        assert_eq!(
            parse("Bad Name: x"),
            Err(HeaderError::Name("Bad Name".into()))
        );
        assert_eq!(parse("X-A: a\u{1}b"), Err(HeaderError::Value("X-A".into())));
        assert_eq!(
            parse("authorization: Bearer x"),
            Err(HeaderError::Reserved("authorization".into()))
        );
    }
}
