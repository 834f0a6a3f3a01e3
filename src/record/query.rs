//! Query strings as recorded: decoding them into ordered parameters and telling which
//! encoding style the client used, so the replay sends them the same way.

use crate::scenario::model::QueryStyle;

/// Percent-decodes a query component (`+` is a space); invalid escapes stay as they are.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes every byte outside the unreserved set (for scrubbing encoded secrets).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The parameters of a raw query string, in order, decoded.
pub fn params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// The style a raw query was written in: the SCIM Validator leaves `@ : , [ ]` and quotes
/// raw, production Entra encodes them.
pub fn style(query: &str) -> QueryStyle {
    if query.contains(['@', ':', ',', '[', ']', '"']) {
        QueryStyle::Validator
    } else {
        QueryStyle::Entra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_escapes_and_keeps_bad_escapes() {
        assert_eq!(decode("userName+eq+%22a%40b%22"), "userName eq \"a@b\"");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%41"), "A");
    }

    #[test]
    fn params_keep_order_and_style_is_detected() {
        let q = "excludedAttributes=members&filter=displayName+eq+%22x%22";
        assert_eq!(
            params(q),
            vec![
                ("excludedAttributes".to_string(), "members".to_string()),
                ("filter".to_string(), "displayName eq \"x\"".to_string())
            ]
        );
        assert_eq!(style(q), QueryStyle::Entra);
        assert_eq!(style("filter=userName+eq+\"a%40b\""), QueryStyle::Validator);
        assert_eq!(encode("a b/"), "a%20b%2F");
    }
}
