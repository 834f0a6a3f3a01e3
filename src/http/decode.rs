//! What came back, as plain data: a body decoded (capped, UTF-8 checked, JSON when it is),
//! or the transport error classified into a [`Fault`] with its cause in plain words.

use super::exchange::{Fault, FaultKind, ReceivedResponse};
use serde_json::Value;
use std::time::Duration;

/// Turns raw body bytes into text and, when possible, JSON, noting what is wrong with it.
pub(super) fn decode_body(
    status: u16,
    headers: Vec<(String, String)>,
    bytes: Vec<u8>,
    truncated: bool,
    cap: usize,
    elapsed_ms: u64,
) -> ReceivedResponse {
    let mut problem = None;
    let body = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            problem = Some(format!(
                "the body is not valid UTF-8 (invalid byte at offset {at})"
            ));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    let mut json = None;
    if truncated {
        problem = Some(format!(
            "the body is larger than the {} KiB cap and was cut",
            cap / 1024
        ));
    } else if problem.is_none() && !body.trim().is_empty() {
        match serde_json::from_str::<Value>(&body) {
            Ok(v) => json = Some(v),
            Err(e) => {
                let looks_html = body.trim_start().starts_with('<');
                problem = Some(if looks_html {
                    format!("the body is HTML, not JSON ({e})")
                } else {
                    format!("the body is not JSON ({e})")
                });
            }
        }
    }
    ReceivedResponse {
        status,
        headers,
        body,
        json,
        body_problem: problem,
        truncated,
        elapsed_ms,
    }
}

pub(super) fn timeout_fault(limit: Duration) -> Fault {
    Fault {
        kind: FaultKind::Timeout,
        message: format!("no complete response within {} s", limit.as_secs_f64()),
    }
}

/// Classifies a reqwest error into a fault with its whole cause chain.
pub(super) fn classify(error: &reqwest::Error, limit: Duration) -> Fault {
    if error.is_timeout() {
        return timeout_fault(limit);
    }
    let message = cause(error);
    let lower = message.to_lowercase();
    let kind =
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            FaultKind::Tls
        } else if error.is_connect() {
            FaultKind::Connect
        } else if [
            "reset",
            "closed",
            "incomplete",
            "broken pipe",
            "eof",
            "end of file",
            "connection aborted",
        ]
        .iter()
        .any(|w| lower.contains(w))
        {
            FaultKind::Reset
        } else {
            FaultKind::Protocol
        };
    let hint = match kind {
        FaultKind::Tls => {
            " (trust the server's CA with --cacert FILE, or skip verification with --insecure, for testing only)"
        }
        _ => "",
    };
    Fault {
        kind,
        message: format!("{message}{hint}"),
    }
}

/// Wrapper texts of reqwest and hyper that say nothing the report does not already show
/// (the request line is printed beside the fault).
const WRAPPERS: [&str; 4] = [
    "error sending request for url",
    "client error (",
    "error decoding response body",
    "request or response body error",
];

/// The error's cause chain without the wrappers, or the whole chain when that is all there is.
fn cause(error: &reqwest::Error) -> String {
    let whole = chain(error);
    let parts: Vec<&str> = whole
        .split(": ")
        .filter(|p| !WRAPPERS.iter().any(|w| p.starts_with(w)))
        .collect();
    if parts.is_empty() {
        whole
    } else {
        parts.join(": ")
    }
}

/// An error and its sources, joined with `: `, without repeats.
pub(super) fn chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1
                .as_deref()
                .map(|l| l as &(dyn std::error::Error + 'static))
        }
    }

    #[test]
    fn chains_join_sources_without_repeats() {
        let e = Layer(
            "error sending request for url (http://h/Users)",
            Some(Box::new(Layer(
                "client error (Connect)",
                Some(Box::new(Layer(
                    "tcp connect error: Connection refused",
                    None,
                ))),
            ))),
        );
        assert_eq!(
            chain(&e),
            "error sending request for url (http://h/Users): client error (Connect): tcp \
             connect error: Connection refused"
        );
    }

    #[test]
    fn decodes_json_html_and_invalid_utf8() {
        let ok = decode_body(200, vec![], b"{\"a\":1}".to_vec(), false, 1024, 1);
        assert_eq!(ok.json, Some(serde_json::json!({"a": 1})));
        assert!(ok.body_problem.is_none());
        let html = decode_body(500, vec![], b"<html>oops</html>".to_vec(), false, 1024, 1);
        assert!(html.body_problem.unwrap().contains("HTML"));
        let bad = decode_body(200, vec![], vec![b'{', 0xff, b'}'], false, 1024, 1);
        assert!(bad.body_problem.unwrap().contains("UTF-8"));
        assert!(bad.json.is_none());
        let cut = decode_body(200, vec![], b"{\"a\":".to_vec(), true, 2048, 1);
        assert!(cut.body_problem.unwrap().contains("2 KiB cap"));
    }
}
