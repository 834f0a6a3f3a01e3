//! Finding the token in text an endpoint sent back, in every encoding servers echo it in.
//!
//! An endpoint that echoes the `Authorization` header may send it raw, JSON-escaped (`\/`,
//! `\uXXXX`, as PHP's `json_encode` does by default), percent-encoded (in a `Location` or a
//! query it reflects), or base64-encoded (inside a blob of its own). [`scrub`] replaces each
//! of those with `[redacted]`: raw and base64 forms by search, escaped forms by decoding the
//! text while remembering where each decoded character came from.

use super::exchange::REDACTED;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// Tokens shorter than this are not searched for: they would match ordinary text.
const MIN_SECRET: usize = 4;

/// `text` with every occurrence of `secret`, in any of the encodings above, redacted.
#[cfg(test)]
pub fn scrub(secret: &str, text: &str) -> String {
    scrub_with(secret, &literal_forms(secret), text)
}

/// [`scrub`] with the secret's [`literal_forms`] computed beforehand (they depend on the
/// secret only).
pub fn scrub_with(secret: &str, forms: &[String], text: &str) -> String {
    if secret.len() < MIN_SECRET {
        return text.to_string();
    }
    let mut out = text.to_string();
    for form in forms {
        if out.contains(form.as_str()) {
            out = out.replace(form.as_str(), REDACTED);
        }
    }
    if out.contains('\\') {
        out = redact_decoded(&out, secret, json_unescape);
    }
    if out.contains('%') {
        out = redact_decoded(&out, secret, percent_unescape);
    }
    out
}

/// The secret raw, and the part of its base64 encoding that does not depend on the bytes
/// around it, for each of the three alignments it can have inside a longer base64 text, in
/// the standard and the URL-safe alphabet.
pub fn literal_forms(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut forms = vec![secret.to_string()];
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for lead in 0..3usize {
            let mut padded = vec![0u8; lead];
            padded.extend_from_slice(bytes);
            let encoded = engine.encode(&padded);
            // Characters fully made of the secret's bits.
            let first = (8 * lead).div_ceil(6);
            let last = 8 * (lead + bytes.len()) / 6;
            if let Some(core) = encoded.get(first..last).filter(|c| c.len() >= MIN_SECRET) {
                forms.push(core.to_string());
            }
        }
    }
    forms.sort();
    forms.dedup();
    // Longest first, so a shorter form never leaves part of a longer one behind.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms
}

/// One decoded character and the byte range of `text` it was decoded from.
type Decoded = (char, usize, usize);

/// Redacts the spans of `text` that `decode` turns into `secret`.
fn redact_decoded(text: &str, secret: &str, decode: fn(&str) -> Vec<Decoded>) -> String {
    let decoded = decode(text);
    let plain: String = decoded.iter().map(|d| d.0).collect();
    if !plain.contains(secret) {
        return text.to_string();
    }
    // Byte offset in `plain` → index in `decoded`.
    let mut index_at = Vec::with_capacity(plain.len() + 1);
    for (i, (c, _, _)) in decoded.iter().enumerate() {
        index_at.extend(std::iter::repeat_n(i, c.len_utf8()));
    }
    let mut spans: Vec<(usize, usize)> = plain
        .match_indices(secret)
        .map(|(at, m)| {
            let first = decoded[index_at[at]];
            let last = decoded[index_at[at + m.len() - 1]];
            (first.1, last.2)
        })
        .collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (start, end) in spans {
        if start < done {
            continue;
        }
        out.push_str(&text[done..start]);
        out.push_str(REDACTED);
        done = end;
    }
    out.push_str(&text[done..]);
    out
}

/// JSON string escapes decoded (`\/`, `\"`, `\\`, `\n`, …, `\uXXXX` with surrogate pairs);
/// anything else is kept as it is.
fn json_unescape(text: &str) -> Vec<Decoded> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if let Some((c, len)) = json_escape_at(text, i) {
                out.push((c, i, i + len));
                i += len;
                continue;
            }
        }
        let c = text[i..].chars().next().unwrap_or('\u{fffd}');
        out.push((c, i, i + c.len_utf8()));
        i += c.len_utf8().max(1);
    }
    out
}

/// The character a JSON escape starting at `at` stands for, and its length in bytes.
fn json_escape_at(text: &str, at: usize) -> Option<(char, usize)> {
    let simple = match text.as_bytes().get(at + 1)? {
        b'/' => '/',
        b'"' => '"',
        b'\\' => '\\',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => return unicode_escape_at(text, at),
        _ => return None,
    };
    Some((simple, 2))
}

fn unicode_escape_at(text: &str, at: usize) -> Option<(char, usize)> {
    let unit = |from: usize| {
        text.get(from..from + 4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let high = unit(at + 2)?;
    if (0xd800..0xdc00).contains(&high) && text.get(at + 6..at + 8) == Some("\\u") {
        if let Some(low) = unit(at + 8).filter(|l| (0xdc00..0xe000).contains(l)) {
            let c = char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))?;
            return Some((c, 12));
        }
    }
    Some((char::from_u32(high)?, 6))
}

/// `%XX` escapes decoded (as bytes, so multi-byte UTF-8 sequences come back whole).
fn percent_unescape(text: &str) -> Vec<Decoded> {
    let bytes = text.as_bytes();
    let hex = |at: usize| {
        bytes
            .get(at)
            .and_then(|b| (*b as char).to_digit(16))
            .map(|d| d as u8)
    };
    let mut raw: Vec<(u8, usize, usize)> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                raw.push((h * 16 + l, i, i + 3));
                i += 3;
            }
            (b, _, _) => {
                raw.push((b, i, i + 1));
                i += 1;
            }
        }
    }
    // Regroup bytes into characters; an invalid sequence decodes byte by byte to U+FFFD.
    let mut out = Vec::with_capacity(raw.len());
    let mut k = 0;
    while k < raw.len() {
        let width = utf8_width(raw[k].0);
        let group: Vec<u8> = raw.iter().skip(k).take(width).map(|r| r.0).collect();
        match std::str::from_utf8(&group)
            .ok()
            .and_then(|s| s.chars().next())
        {
            Some(c) if group.len() == width => {
                out.push((c, raw[k].1, raw[k + width - 1].2));
                k += width;
            }
            _ => {
                out.push(('\u{fffd}', raw[k].1, raw[k].2));
                k += 1;
            }
        }
    }
    out
}

fn utf8_width(first: u8) -> usize {
    match first {
        0xf0..=0xf7 => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "tok/en+Sé=crét-1234";

    fn percent_all(s: &str) -> String {
        s.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    #[test]
    fn every_echoed_encoding_is_redacted() {
        let json_escaped = serde_json::to_string(SECRET).unwrap().replace('/', "\\/");
        let unicode_escaped: String = SECRET
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        let encoded_b64 = STANDARD_NO_PAD.encode(format!("Bearer {SECRET}"));
        let url_b64 = URL_SAFE_NO_PAD.encode(format!("xx:{SECRET}:yy"));
        for echo in [
            format!("Bearer {SECRET}"),
            format!("{{\"echo\": {json_escaped}}}"),
            format!("\"{unicode_escaped}\""),
            percent_all(SECRET),
            percent_all(SECRET).to_lowercase(),
            "tok%2Fen%2BS%C3%A9%3Dcr%C3%A9t-1234".to_string(),
            encoded_b64,
            url_b64,
        ] {
            let out = scrub(SECRET, &format!("before {echo} after"));
            assert!(out.contains(REDACTED), "{echo} → {out}");
            assert!(
                out.starts_with("before ") && out.ends_with(" after"),
                "{out}"
            );
            for form in literal_forms(SECRET) {
                assert!(!out.contains(&form), "{echo} → {out}");
            }
            assert!(!scrub_free(&out), "{echo} → {out}");
        }
    }

    /// True when some decoding of `text` still shows the secret.
    fn scrub_free(text: &str) -> bool {
        let json: String = json_unescape(text).iter().map(|d| d.0).collect();
        let pct: String = percent_unescape(text).iter().map(|d| d.0).collect();
        json.contains(SECRET) || pct.contains(SECRET)
    }

    #[test]
    fn text_without_the_secret_is_unchanged() {
        for text in ["plain", "a\\u00e9 %41 \\/ %zz \\ud800 %", "tok/en"] {
            assert_eq!(scrub(SECRET, text), text);
        }
        assert_eq!(scrub("abc", "abc"), "abc", "too short to search for");
    }
}
