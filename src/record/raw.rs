//! The raw recording: one JSON line per exchange, appended as it happens.
//!
//! The first line says what the file is and where the traffic went; every further line is
//! one [`RawExchange`]. Credentials never reach these values: [`Scrubber`] drops credential
//! headers, blanks credential query parameters and removes every secret value it saw (in
//! plain, percent-encoded, base64 and JSON-escaped form) from everything else.

use base64::Engine;
use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// The value of `format` on the first line of a raw recording.
pub const FORMAT: &str = "scimreplay-recording";
/// The version of the raw format this build writes and reads.
pub const VERSION: u32 = 1;
/// What a removed credential is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The first line of a raw recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawHeader {
    pub format: String,
    pub version: u32,
    /// The upstream Tenant URL the traffic was forwarded to (no query).
    pub upstream: String,
    pub started_at: String,
}

/// Whether and how a request carried credentials (the value itself is never kept).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthSeen {
    /// No `Authorization` header.
    #[default]
    None,
    /// `Authorization: Bearer …`.
    Bearer,
    /// Some other scheme (Basic, a custom one).
    Other,
}

/// One request and its answer, as the recorder saw them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RawExchange {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// When the request arrived (RFC 3339).
    pub at: String,
    pub method: String,
    /// Path and query exactly as the client sent them (credential parameters blanked).
    pub target: String,
    /// Request headers in order, credentials dropped.
    #[serde(default)]
    pub request_headers: Vec<(String, String)>,
    #[serde(default)]
    pub auth: AuthSeen,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    /// The answer's status; absent when the upstream gave none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// The response body was longer than the recording cap (it was forwarded whole).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub response_truncated: bool,
    /// Why the exchange is incomplete: the upstream failed, or the client went away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// From the request's arrival to the end of the forwarded answer.
    #[serde(default)]
    pub elapsed_ms: u64,
}

/// Why a raw recording cannot be read.
#[derive(Debug, Error)]
pub enum RawError {
    #[error("{file}: failed to read the recording: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
}

/// A recording read back: its header and exchanges in order of arrival.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    pub header: RawHeader,
    pub exchanges: Vec<RawExchange>,
}

/// Reads a raw recording. A last line cut short by a crash is ignored (it was being written);
/// any other bad line is an error naming the line.
pub fn read(path: &Path) -> Result<Recording, RawError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| RawError::Io {
        file: file.clone(),
        source,
    })?;
    parse(&file, &text)
}

/// Parses the text of a raw recording (see [`read`]).
pub fn parse(file: &str, text: &str) -> Result<Recording, RawError> {
    let invalid = |line: usize, message: String| RawError::Invalid {
        file: file.to_string(),
        line,
        message,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, first)) = lines.next() else {
        return Err(invalid(
            1,
            "empty file: expected a scimreplay recording".into(),
        ));
    };
    let header: RawHeader = serde_json::from_str(first)
        .ok()
        .filter(|h: &RawHeader| h.format == FORMAT)
        .ok_or_else(|| {
            invalid(
                1,
                format!("not a scimreplay recording: expected a first line with \"format\": \"{FORMAT}\""),
            )
        })?;
    if header.version != VERSION {
        return Err(invalid(
            1,
            format!(
                "recording format version {} is not supported (this build reads {VERSION})",
                header.version
            ),
        ));
    }
    let rest: Vec<(usize, &str)> = lines.collect();
    let mut exchanges = Vec::with_capacity(rest.len());
    for (i, (index, line)) in rest.iter().enumerate() {
        match serde_json::from_str::<RawExchange>(line) {
            Ok(x) => exchanges.push(x),
            // The line being written when the recorder stopped: nothing after it.
            Err(e) if i + 1 == rest.len() && e.is_eof() => {}
            Err(e) => {
                return Err(invalid(index + 1, format!("not a recorded exchange: {e}")));
            }
        }
    }
    // Lines are written as answers end; arrival order is the order the client sent them.
    exchanges.sort_by_key(|x| x.seq);
    Ok(Recording { header, exchanges })
}

/// Header names (lower case) that carry credentials. `www-authenticate` is a challenge,
/// not a credential, and is kept.
fn credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n != "www-authenticate"
        && [
            "auth",
            "token",
            "secret",
            "key",
            "cookie",
            "session",
            "password",
            "credential",
            "signature",
        ]
        .iter()
        .any(|w| n.contains(w))
}

/// Query parameter names (lower case, decoded) that carry credentials.
fn credential_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "token",
        "secret",
        "key",
        "password",
        "signature",
        "auth",
        "session",
        "credential",
    ]
    .iter()
    .any(|w| n.contains(w))
        || ["code", "sig", "pwd"].contains(&n.as_str())
}

/// Collects the secrets of one exchange and removes them from what is stored.
#[derive(Debug, Default)]
pub struct Scrubber {
    secrets: Vec<String>,
}

impl Scrubber {
    /// Remembers a secret value (and the parts of a Basic credential).
    fn learn(&mut self, value: &str) {
        let value = value.trim();
        if value.len() >= 4 && !self.secrets.iter().any(|s| s == value) {
            self.secrets.push(value.to_string());
        }
    }

    /// Learns the secret parts of a credential header's value: the whole value, a cookie's
    /// values (not its names), an `Authorization` credential (not its scheme).
    fn learn_header(&mut self, name: &str, value: &str) {
        self.learn(value);
        let name = name.to_ascii_lowercase();
        if name.contains("cookie") {
            for pair in value.split(';') {
                if let Some((_, v)) = pair.split_once('=') {
                    self.learn(v);
                }
            }
        } else if let Some((scheme, credential)) = value.trim().split_once(' ') {
            if name.contains("authorization") {
                self.learn(credential);
                self.learn_basic(scheme, credential);
            }
        }
    }

    /// Keeps the non-credential headers, learning the values of the others. Returns the kept
    /// headers and what the `Authorization` header was.
    pub fn request_headers(
        &mut self,
        headers: &[(String, String)],
    ) -> (Vec<(String, String)>, AuthSeen) {
        let mut auth = AuthSeen::None;
        let mut kept = Vec::new();
        for (name, value) in headers {
            if !credential_header(name) {
                kept.push((name.clone(), value.clone()));
                continue;
            }
            self.learn_header(name, value);
            if name.eq_ignore_ascii_case("authorization") {
                let scheme = value.split_whitespace().next().unwrap_or_default();
                auth = if scheme.eq_ignore_ascii_case("bearer") {
                    AuthSeen::Bearer
                } else {
                    AuthSeen::Other
                };
            }
        }
        (kept, auth)
    }

    fn learn_basic(&mut self, scheme: &str, credential: &str) {
        if !scheme.eq_ignore_ascii_case("basic") {
            return;
        }
        let engine = base64::engine::general_purpose::STANDARD;
        if let Some(plain) = engine
            .decode(credential.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            self.learn(&plain);
            if let Some((user, password)) = plain.split_once(':') {
                self.learn(user);
                self.learn(password);
            }
        }
    }

    /// The request target with credential parameters' values replaced; their values learned.
    pub fn target(&mut self, target: &str) -> String {
        let Some((path, query)) = target.split_once('?') else {
            return target.to_string();
        };
        let params: Vec<String> = query
            .split('&')
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                if credential_param(&crate::record::query::decode(name)) {
                    self.learn(value);
                    self.learn(&crate::record::query::decode(value));
                    format!("{name}=%5Bredacted%5D")
                } else {
                    pair.to_string()
                }
            })
            .collect();
        format!("{path}?{}", params.join("&"))
    }

    /// Response headers without cookies and other credentials (their values learned).
    pub fn response_headers(&mut self, headers: &[(String, String)]) -> Vec<(String, String)> {
        let mut kept = Vec::new();
        for (name, value) in headers {
            if credential_header(name) {
                self.learn_header(name, value);
            } else {
                kept.push((name.clone(), value.clone()));
            }
        }
        kept
    }

    /// Removes every learned secret, in any of its usual encodings, from `text`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), REDACTED);
            if let Some(re) = cached_pattern(secret) {
                out = re.replace_all(&out, REDACTED).into_owned();
            }
            for form in base64_forms(secret) {
                if form.len() >= 4 && out.contains(&form) {
                    out = out.replace(&form, REDACTED);
                }
            }
        }
        out
    }

    /// Scrubs every stored string of an exchange.
    pub fn scrub_exchange(&self, x: &mut RawExchange) {
        if self.secrets.is_empty() {
            return;
        }
        x.target = self.scrub(&x.target);
        for (_, v) in x
            .request_headers
            .iter_mut()
            .chain(x.response_headers.iter_mut())
        {
            *v = self.scrub(v);
        }
        for body in [&mut x.request_body, &mut x.response_body, &mut x.error]
            .into_iter()
            .flatten()
        {
            *body = self.scrub(body);
        }
    }
}

/// Matches the secret with any of its bytes written plainly, percent-encoded (either case
/// of hex), as a JSON `\u00XX` escape, or (a space) as `+`.
fn any_escaping(secret: &str) -> Option<regex::Regex> {
    let mut pattern = String::new();
    for b in secret.bytes() {
        let mut forms = vec![format!("%{b:02x}"), format!("%{b:02X}")];
        if b.is_ascii() {
            forms.push(regex::escape(&(b as char).to_string()));
            forms.push(format!("\\\\u00{b:02x}"));
            forms.push(format!("\\\\u00{b:02X}"));
        }
        if b == b' ' {
            forms.push("\\+".into());
        }
        pattern.push_str(&format!("(?:{})", forms.join("|")));
    }
    regex::Regex::new(&pattern).ok()
}

/// [`any_escaping`], compiled once per secret: the same token comes with every request,
/// and compiling its pattern per exchange would cost more than forwarding it. The cache is
/// cleared when it holds many secrets, so a client sending a new one each time cannot grow it.
fn cached_pattern(secret: &str) -> Option<regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if cache.len() >= 256 {
        cache.clear();
    }
    cache
        .entry(secret.to_string())
        .or_insert_with(|| any_escaping(secret))
        .clone()
}

/// The secret base64-encoded, padded and not, standard and URL-safe.
fn base64_forms(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let padded = STANDARD.encode(secret);
    vec![
        padded.trim_end_matches('=').to_string(),
        padded,
        URL_SAFE_NO_PAD.encode(secret),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn credentials_are_dropped_and_scrubbed_in_every_encoding() {
        let mut s = Scrubber::default();
        let (kept, auth) = s.request_headers(&pairs(&[
            ("Authorization", "Bearer tok-5ecret-value"),
            ("Cookie", "sid=c00kie-value"),
            ("X-Api-Key", "k3y-value"),
            ("Accept", "application/scim+json"),
        ]));
        assert_eq!(auth, AuthSeen::Bearer);
        assert_eq!(kept, pairs(&[("Accept", "application/scim+json")]));
        let target = s.target("/Users?access_token=q-s3cret&filter=x");
        assert_eq!(target, "/Users?access_token=%5Bredacted%5D&filter=x");
        let b64 = base64::engine::general_purpose::STANDARD.encode("tok-5ecret-value");
        let mut x = RawExchange {
            target,
            response_body: Some(format!(
                "echo tok-5ecret-value {b64} tok%2D5ecret-value c00kie-value k3y-value q-s3cret"
            )),
            ..RawExchange::default()
        };
        s.scrub_exchange(&mut x);
        let line = serde_json::to_string(&x).unwrap();
        for secret in ["5ecret", "c00kie", "k3y-value", "q-s3cret", b64.as_str()] {
            assert!(!line.contains(secret), "{secret} in {line}");
        }
    }

    #[test]
    fn basic_credentials_are_learned_decoded() {
        let mut s = Scrubber::default();
        let b64 = base64::engine::general_purpose::STANDARD.encode("admin:pa55word");
        let (_, auth) = s.request_headers(&pairs(&[("authorization", &format!("Basic {b64}"))]));
        assert_eq!(auth, AuthSeen::Other);
        assert_eq!(
            s.scrub("user admin said pa55word"),
            "user [redacted] said [redacted]"
        );
        assert_eq!(
            s.scrub("Basic realm"),
            "Basic realm",
            "the scheme is not a secret"
        );
    }

    #[test]
    fn a_line_cut_by_a_crash_is_ignored_but_other_bad_lines_are_errors() {
        let head = format!(
            "{{\"format\":\"{FORMAT}\",\"version\":1,\"upstream\":\"http://h/scim\",\"started_at\":\"t\"}}\n"
        );
        let ok =
            "{\"seq\":1,\"at\":\"t\",\"method\":\"GET\",\"target\":\"/Users\",\"status\":200}\n";
        let cut = "{\"seq\":2,\"at\":\"t\",\"meth";
        let r = parse("f", &format!("{head}{ok}{cut}")).unwrap();
        assert_eq!(r.exchanges[0].status, Some(200));
        assert_eq!(r.exchanges.len(), 1);
        let e = parse("f", &format!("{head}{cut}\n{ok}")).unwrap_err();
        assert!(
            e.to_string().starts_with("f:2: not a recorded exchange"),
            "{e}"
        );
        let e = parse("rec.jsonl", "{\"log\": {}}").unwrap_err();
        assert!(
            e.to_string()
                .contains("rec.jsonl:1: not a scimreplay recording"),
            "{e}"
        );
    }
}
