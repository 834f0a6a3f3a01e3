//! HAR 1.2 files (a browser's or a proxy's export) → recorded exchanges under the SCIM base.
//!
//! Only `log.entries` is read (`pages` is optional); a response body with
//! `content.encoding: "base64"` is decoded. Credentials are removed exactly as the recorder
//! removes them, so the HAR's cookies and tokens never reach the scenario.

use super::ImportError;
use crate::record::raw::{AuthSeen, RawExchange, Scrubber};
use base64::Engine;
use serde_json::Value;

/// The exchanges of a HAR under `base` (or, without it, under the SCIM base of the first
/// entry that addresses `/Users` or `/Groups`), and the base used.
pub fn parse(
    file: &str,
    text: &str,
    base: Option<&str>,
) -> Result<(Vec<RawExchange>, String), ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| ImportError::syntax(file, &e))?;
    let Some(entries) = doc.pointer("/log/entries").and_then(Value::as_array) else {
        return Err(ImportError::at(
            file,
            "/log/entries",
            "not a HAR file: expected `log.entries`, a list of request/response entries",
        ));
    };
    let mut urls = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let url = entry
            .pointer("/request/url")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ImportError::at(
                    file,
                    &format!("/log/entries/{i}/request/url"),
                    "expected a string",
                )
            })?;
        urls.push(url);
    }
    let base = match base {
        Some(b) => b.trim_end_matches('/').to_string(),
        None => urls
            .iter()
            .find(|u| {
                let l = u.to_ascii_lowercase();
                l.contains("/users") || l.contains("/groups")
            })
            .map(|u| super::scim_base(u))
            .ok_or_else(|| {
                ImportError::at(
                    file,
                    "/log/entries",
                    "no entry addresses /Users or /Groups; give the SCIM base with --base URL",
                )
            })?,
    };
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if !under(urls[i], &base) {
            continue;
        }
        let mut x = exchange(file, i, entry)?;
        x.seq = out.len() as u64 + 1;
        out.push(x);
    }
    Ok((out, base))
}

/// True when `url` is `base` or below it (scheme and host case-insensitive).
fn under(url: &str, base: &str) -> bool {
    url.get(..base.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(base))
        && matches!(
            url[base.len()..].chars().next(),
            None | Some('/') | Some('?')
        )
}

fn pairs(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|h| {
            Some((
                h.get("name")?.as_str()?.to_string(),
                h.get("value")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

fn exchange(file: &str, i: usize, entry: &Value) -> Result<RawExchange, ImportError> {
    let at = |p: &str| format!("/log/entries/{i}/{p}");
    let method = entry
        .pointer("/request/method")
        .and_then(Value::as_str)
        .ok_or_else(|| ImportError::at(file, &at("request/method"), "expected a string"))?;
    let url = entry
        .pointer("/request/url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let target = url
        .find("://")
        .and_then(|s| url[s + 3..].find('/').map(|j| &url[s + 3 + j..]))
        .unwrap_or("/");
    let status = entry
        .pointer("/response/status")
        .and_then(Value::as_u64)
        .ok_or_else(|| ImportError::at(file, &at("response/status"), "expected a number"))?;
    let mut scrubber = Scrubber::default();
    let (request_headers, auth) =
        scrubber.request_headers(&pairs(entry.pointer("/request/headers")));
    let response_headers = scrubber.response_headers(&pairs(entry.pointer("/response/headers")));
    let content = entry.pointer("/response/content");
    let text = content.and_then(|c| c.get("text")).and_then(Value::as_str);
    let response_body = match (
        text,
        content
            .and_then(|c| c.get("encoding"))
            .and_then(Value::as_str),
    ) {
        (Some(t), Some(enc)) if enc.eq_ignore_ascii_case("base64") => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(t.trim())
                .map_err(|e| {
                    ImportError::at(
                        file,
                        &at("response/content/text"),
                        &format!("`encoding` is base64 but the text is not: {e}"),
                    )
                })?;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        (Some(t), _) => Some(t.to_string()),
        (None, _) => None,
    };
    let request_body = entry
        .pointer("/request/postData/text")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut x = RawExchange {
        at: entry
            .get("startedDateTime")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        method: method.to_ascii_uppercase(),
        target: scrubber.target(target),
        request_headers,
        auth: if status == 0 { AuthSeen::None } else { auth },
        request_body,
        status: (status > 0).then_some(status as u16),
        response_headers,
        response_body,
        elapsed_ms: entry.get("time").and_then(Value::as_f64).unwrap_or(0.0) as u64,
        error: (status == 0).then(|| "the HAR records no answer (status 0)".to_string()),
        ..RawExchange::default()
    };
    scrubber.scrub_exchange(&mut x);
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_under_the_base_are_kept_and_base64_bodies_decoded() {
        let body = base64::engine::general_purpose::STANDARD.encode(r#"{"id":"u-1"}"#);
        let text = format!(
            r#"{{"log": {{"version": "1.2", "entries": [
              {{"request": {{"method": "GET", "url": "https://app.example.com/index.html", "headers": []}},
               "response": {{"status": 200, "headers": [], "content": {{"text": "<html>"}}}}}},
              {{"request": {{"method": "POST", "url": "https://app.example.com/scim/v2/Users",
                 "headers": [{{"name": "Authorization", "value": "Bearer har-s3cret-token"}}],
                 "postData": {{"mimeType": "application/scim+json", "text": "{{\"userName\":\"a\"}}"}}}},
               "response": {{"status": 201, "headers": [{{"name": "Set-Cookie", "value": "s=har-c00kie"}}],
                 "content": {{"encoding": "base64", "text": "{body}"}}}}}}]}}}}"#
        );
        let (xs, base) = parse("f.har", &text, None).unwrap();
        assert_eq!(base, "https://app.example.com/scim/v2");
        assert_eq!(xs.len(), 1);
        assert_eq!(xs[0].response_body.as_deref(), Some(r#"{"id":"u-1"}"#));
        assert_eq!(xs[0].auth, AuthSeen::Bearer);
        let line = serde_json::to_string(&xs[0]).unwrap();
        assert!(
            !line.contains("har-s3cret") && !line.contains("har-c00kie"),
            "{line}"
        );
        let (none, _) = parse("f.har", &text, Some("https://other.example.com/scim")).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn bad_hars_are_located() {
        let e = parse("cut.har", r#"{"log": {"entries": [{"request": "#, None).unwrap_err();
        assert!(
            e.to_string().starts_with("cut.har:1:") && e.to_string().contains("truncated"),
            "{e}"
        );
        let e = parse("v.json", r#"{"results": {}}"#, None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("v.json: at /log/entries: not a HAR file"),
            "{e}"
        );
        let e = parse(
            "x.har",
            r#"{"log": {"entries": [{"request": {"url": "http://h/Users"}}]}}"#,
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("/log/entries/0/request/method"),
            "{e}"
        );
    }
}
