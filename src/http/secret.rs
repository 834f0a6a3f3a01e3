//! The bearer token, wrapped so that it cannot be printed by accident.

use std::fmt;

/// A secret string. `Debug` and `Display` never show it; only `expose` does, and only the
/// HTTP layer calls that, to build the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The raw value, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the secret in `text`, raw, JSON-escaped, percent-encoded
    /// or base64-encoded (a last line of defence for text that came back from the endpoint,
    /// which may echo headers).
    pub fn scrub(&self, text: &str) -> String {
        super::scrub::scrub(&self.0, text)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(super::exchange::REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_value() {
        let s = Secret::new("tok-abcdef");
        assert!(!format!("{s} {s:?}").contains("tok-abcdef"));
        assert_eq!(
            s.scrub("echo: Bearer tok-abcdef"),
            "echo: Bearer [redacted]"
        );
    }
}
