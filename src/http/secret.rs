//! The bearer token, wrapped so that it cannot be printed by accident.

use std::fmt;

/// A secret string. `Debug` and `Display` never show it; only `expose` does, and only the
/// HTTP layer calls that, to build the `Authorization` header.
#[derive(Clone)]
pub struct Secret {
    value: String,
    /// The forms [`scrub`](Secret::scrub) searches for, computed on first use: a load run
    /// scrubs every response's body and headers, and recomputing them per text was 9 % of
    /// its CPU (docs/performance.md).
    forms: std::sync::OnceLock<Vec<String>>,
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.value == other.value
    }
}

impl Eq for Secret {}

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret {
            value: value.into(),
            forms: std::sync::OnceLock::new(),
        }
    }

    /// The raw value, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Replaces every occurrence of the secret in `text`, raw, JSON-escaped, percent-encoded
    /// or base64-encoded (a last line of defence for text that came back from the endpoint,
    /// which may echo headers).
    pub fn scrub(&self, text: &str) -> String {
        let forms = self
            .forms
            .get_or_init(|| super::scrub::literal_forms(&self.value));
        super::scrub::scrub_with(&self.value, forms, text)
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
        // The second scrub uses the remembered forms, and they are the secret's own.
        let b64 = "dG9rLWFiY2RlZg";
        for text in [
            b64,
            "tok-abcdef",
            "x=tok%2Dabcdef",
            r#""tok\u002dabcdef""#,
            "none",
        ] {
            assert_eq!(
                s.scrub(text),
                super::super::scrub::scrub("tok-abcdef", text),
                "{text}"
            );
        }
        assert_eq!(s.scrub(b64), "[redacted]g");
        assert_eq!(Secret::new("other-token").scrub(b64), b64);
        assert!(s == Secret::new("tok-abcdef") && s != Secret::new("other-token"));
    }
}
