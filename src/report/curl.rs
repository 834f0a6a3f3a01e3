//! A `curl` command that reproduces a recorded request, ready to paste into a POSIX shell.
//!
//! Recorded requests are already redacted: wherever the token stood they carry
//! [`REDACTED`]. The command puts an environment variable in that place instead, so the
//! person pasting it supplies the token from their own shell and the command itself never
//! holds a secret. Every other word is single-quoted, so nothing else expands.

use crate::http::exchange::{REDACTED, SentRequest};

/// The variable that holds the bearer token unless the run was told another name.
pub const TOKEN_ENV: &str = "SCIMREPLAY_TOKEN";

/// Headers curl computes itself, or that would make the reproduction differ from a plain
/// request (a stale length, a compressed answer the terminal cannot show).
const LEFT_TO_CURL: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
];

/// The command for `request`, with the token read from `$SCIMREPLAY_TOKEN`.
pub fn curl_command(request: &SentRequest) -> String {
    curl_command_with_env(request, TOKEN_ENV)
}

/// The command for `request`, with the token read from the variable `token_env`.
///
/// A name that is not a valid shell variable name falls back to [`TOKEN_ENV`], so the
/// command never expands something unintended.
pub fn curl_command_with_env(request: &SentRequest, token_env: &str) -> String {
    let env = if is_shell_name(token_env) {
        token_env
    } else {
        TOKEN_ENV
    };
    // `-i` because most reproductions are about a status code or a header.
    let method =
        if !request.method.is_empty() && request.method.chars().all(|c| c.is_ascii_alphabetic()) {
            request.method.clone()
        } else {
            shell_quote(&request.method)
        };
    let mut parts = vec![format!(
        "curl -sS -i -X {method} {}",
        shell_quote(&request.url)
    )];
    for (name, value) in &request.headers {
        if LEFT_TO_CURL.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        let header = format!("{name}: {value}");
        let word = if header.contains(REDACTED) {
            double_quote_with_env(&header, env)
        } else {
            shell_quote(&header)
        };
        parts.push(format!("-H {word}"));
    }
    if let Some(body) = &request.body {
        parts.push(format!("--data-binary {}", shell_quote(body)));
    }
    parts.join(" \\\n  ")
}

/// `text` as one single-quoted shell word; a `'` inside becomes `'\''`.
pub fn shell_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// The command that finishes a ledger's cleanup. It names the endpoint, because cleanup only
/// sends the token to a `--target` given on its command line.
pub fn cleanup_command(ledger: &str, target: &str) -> String {
    format!(
        "scimreplay cleanup --ledger {} --target {}",
        shell_word(ledger),
        shell_word(target)
    )
}

/// `text` as a shell word: unchanged when it holds only characters no shell treats
/// specially (paths, URLs without query), single-quoted otherwise.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if plain {
        text.to_string()
    } else {
        shell_quote(text)
    }
}

/// `text` as one double-quoted word in which each [`REDACTED`] becomes `$env` and nothing
/// else expands.
fn double_quote_with_env(text: &str, env: &str) -> String {
    let mut out = String::from("\"");
    for (i, piece) in text.split(REDACTED).enumerate() {
        if i > 0 {
            // `${NAME}` only when a name character follows; the short form reads better.
            if piece.chars().next().is_some_and(is_name_char) {
                out.push_str(&format!("${{{env}}}"));
            } else {
                out.push('$');
                out.push_str(env);
            }
        }
        for c in piece.chars() {
            // Inside double quotes only these four keep a special meaning.
            if matches!(c, '"' | '\\' | '$' | '`') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A POSIX shell variable name: a letter or `_`, then letters, digits or `_`.
fn is_shell_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(is_name_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, url: &str, body: Option<&str>) -> SentRequest {
        let mut headers = vec![
            ("Authorization".to_string(), format!("Bearer {REDACTED}")),
            ("Host".to_string(), "scim.example.test".to_string()),
        ];
        if body.is_some() {
            headers.push((
                "Content-Type".to_string(),
                "application/scim+json; charset=utf-8".to_string(),
            ));
            headers.push(("Content-Length".to_string(), "42".to_string()));
        }
        SentRequest {
            method: method.to_string(),
            url: url.to_string(),
            path: "/Users".to_string(),
            headers,
            body: body.map(str::to_string),
        }
    }

    #[test]
    fn token_header_expands_the_variable_and_the_rest_is_single_quoted() {
        let cmd = curl_command(&request(
            "PATCH",
            "https://scim.example.test/scim/Users/42",
            Some(r#"{"active":false}"#),
        ));
        assert_eq!(
            cmd,
            "curl -sS -i -X PATCH 'https://scim.example.test/scim/Users/42' \\\n  \
             -H \"Authorization: Bearer $SCIMREPLAY_TOKEN\" \\\n  \
             -H 'Content-Type: application/scim+json; charset=utf-8' \\\n  \
             --data-binary '{\"active\":false}'"
        );
        assert!(!cmd.contains(REDACTED));
        assert!(!cmd.contains("Host:"), "curl sets Host itself");
        assert!(!cmd.contains("Content-Length"), "curl computes the length");
    }

    #[test]
    fn single_quote_in_body_is_closed_escaped_and_reopened() {
        let cmd = curl_command(&request(
            "POST",
            "https://x.test/Users",
            Some(r#"{"displayName":"O'Brien"}"#),
        ));
        assert!(
            cmd.ends_with(r#"--data-binary '{"displayName":"O'\''Brien"}'"#),
            "{cmd}"
        );
    }

    #[test]
    fn ampersand_in_url_stays_inside_single_quotes() {
        let url = "https://x.test/Users?filter=userName%20eq%20%22a%22&startIndex=1&count=100";
        let cmd = curl_command(&request("GET", url, None));
        assert!(cmd.contains(&format!("'{url}'")), "{cmd}");
        assert!(!cmd.contains("--data-binary"), "no body, no data");
        assert!(!cmd.contains("Content-Type"), "GET carried no Content-Type");
    }

    #[test]
    fn no_authorization_header_when_none_was_sent() {
        let mut req = request("GET", "https://x.test/Users", None);
        req.headers.retain(|(k, _)| k != "Authorization");
        let cmd = curl_command(&req);
        assert!(!cmd.contains("Authorization"), "{cmd}");
        assert!(!cmd.contains("SCIMREPLAY_TOKEN"), "{cmd}");
    }

    #[test]
    fn custom_variable_name_is_used_and_bad_names_fall_back() {
        let req = request("GET", "https://x.test/Users", None);
        assert!(curl_command_with_env(&req, "ACME_TOKEN").contains("Bearer $ACME_TOKEN\""));
        assert!(curl_command_with_env(&req, "$(rm -rf ~)").contains("Bearer $SCIMREPLAY_TOKEN\""));
        assert!(curl_command_with_env(&req, "").contains("Bearer $SCIMREPLAY_TOKEN\""));
    }

    #[test]
    fn double_quoted_words_escape_what_would_expand() {
        let word = double_quote_with_env(&format!("X-Key: a$b\"c`d\\{REDACTED}x"), "T");
        assert_eq!(word, "\"X-Key: a\\$b\\\"c\\`d\\\\${T}x\"");
        let word = double_quote_with_env(&format!("{REDACTED}-{REDACTED}"), "T");
        assert_eq!(word, "\"$T-$T\"");
    }

    #[test]
    fn shell_word_quotes_only_when_needed() {
        assert_eq!(
            shell_word(".scimreplay/ledger-1.json"),
            ".scimreplay/ledger-1.json"
        );
        assert_eq!(shell_word("my ledger.json"), "'my ledger.json'");
        assert_eq!(shell_word("a$b"), "'a$b'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn shell_quote_handles_empty_and_only_quotes() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("'"), "''\\'''");
        assert_eq!(shell_quote("a b;c|d"), "'a b;c|d'");
    }

    /// Runs the command through a real POSIX shell with `printf` in place of curl, so the
    /// words curl would receive can be compared with what was recorded.
    #[cfg(unix)]
    #[test]
    fn a_real_shell_sees_the_intended_words() {
        let body = "{\"displayName\":\"O'Brien & $HOME `id` \\\"x\\\"\"}";
        let url = "https://x.test/Users?a=1&b='2'";
        let cmd = curl_command(&request("POST", url, Some(body)));
        let Some(args) = cmd.strip_prefix("curl ") else {
            panic!("command does not start with curl: {cmd}");
        };
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\n' {args}"))
            .env("SCIMREPLAY_TOKEN", "s3cr3t")
            .output()
            .expect("sh runs");
        let words = String::from_utf8_lossy(&output.stdout);
        let words: Vec<&str> = words.lines().collect();
        assert!(words.contains(&url), "{words:?}");
        assert!(words.contains(&"Authorization: Bearer s3cr3t"), "{words:?}");
        assert!(words.contains(&body), "{words:?}");
    }
}
