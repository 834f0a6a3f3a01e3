//! What must hold for any input to the parts of scimreplay that read untrusted text: the
//! scenario loader, the template engine and the normalizer.
//!
//! Each function takes raw bytes, feeds them in, and panics only when an invariant breaks
//! (the library itself must never panic). The cargo-fuzz targets call these; so does the
//! stable-Rust mutation loop in `tests/integration/hostile.rs`, which includes this file.

use scimreplay::http::exchange::{Exchange, ReceivedResponse, SentRequest};
use scimreplay::normalize::Normalizer;
use scimreplay::report::diagnostic;
use scimreplay::report::styles::Styles;
use scimreplay::scenario::load::parse_scenario;
use scimreplay::template::syntax::{self, Segment};
use scimreplay::template::{Builtins, Context, render_step, render_str, render_value};
use serde_json::Value;

const FILE: &str = "fuzz/input.json";
const BASE: &str = "http://127.0.0.1:8080/scim";
const PREFIX: &str = "scimreplay-abc123-";

fn builtins() -> Builtins {
    Builtins::new("20260101T000000Z-abc123", PREFIX, BASE)
}

/// The loader accepts the text or rejects it with located errors; an accepted scenario
/// renders (or reports a missing capture) step by step and shows without panicking.
pub fn scenario_loader(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match parse_scenario(FILE, source, false) {
        Ok(scenario) => {
            assert!(
                !scenario.steps.is_empty(),
                "a scenario without steps was accepted"
            );
            let mut ctx = Context::for_scenario(builtins(), &scenario)
                .unwrap_or_else(|_| Context::new(builtins()));
            for step in &scenario.steps {
                for name in step.capture.keys() {
                    ctx.set_capture(name.clone(), "captured-1");
                }
                let _ = render_step(step, &mut ctx);
            }
            let _ = scimreplay::report::show::render(&scenario, None, "default", Styles::default());
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "rejected without saying why");
            let lines: Vec<&str> = source.split('\n').collect();
            for e in errors.errors() {
                assert_eq!(e.file, FILE);
                assert!(!e.message.trim().is_empty(), "an error without a message");
                assert!(
                    e.line <= lines.len(),
                    "line {} beyond the {} lines of the file: {e:?}",
                    e.line,
                    lines.len()
                );
                if e.line > 0 {
                    assert!(e.column >= 1, "located at column 0: {e:?}");
                    // As `str::lines` reads it: one `\r` before the newline is not text.
                    let raw = lines[e.line - 1];
                    let text = raw.strip_suffix('\r').unwrap_or(raw);
                    assert!(
                        e.column <= text.chars().count() + 1,
                        "column {} beyond line {} ({} chars): {e:?}",
                        e.column,
                        e.line,
                        text.chars().count()
                    );
                }
                assert!(e.pointer.is_empty() || e.pointer.starts_with('/'), "{e:?}");
            }
            let rendered = diagnostic::to_string_all(
                &errors
                    .errors()
                    .iter()
                    .map(diagnostic::Diagnostic::from)
                    .collect::<Vec<_>>(),
                Styles::default(),
            );
            assert!(rendered.contains(FILE), "{rendered}");
        }
    }
}

/// The template parser splits any text into pieces whose spans lie inside it, or fails with
/// a span inside it; rendering agrees with parsing.
pub fn template(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let chars = text.chars().count();
    let parsed = syntax::parse(&text);
    match &parsed {
        Ok(segments) => {
            for segment in segments {
                if let Segment::Var { name, span } = segment {
                    assert!(
                        span.start < span.end && span.end <= chars,
                        "{span:?} of {chars}"
                    );
                    assert!(!name.is_empty());
                }
            }
        }
        Err(e) => {
            assert!(
                e.span.start <= e.span.end && e.span.end <= chars,
                "error span {:?} outside {chars} chars",
                e.span
            );
            let _ = e.hint();
        }
    }
    let mut ctx = Context::new(builtins());
    ctx.set_var("domain", "example.com");
    ctx.set_capture("id", "u-1");
    let rendered = render_str(&text, &mut ctx);
    if parsed.is_err() && syntax::has_template(&text) {
        assert!(rendered.is_err(), "a template that does not parse rendered");
    }
    if !syntax::has_template(&text) {
        assert_eq!(rendered.as_deref().ok(), Some(&*text));
    }
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let _ = render_value(&value, &mut ctx);
    }
}

/// A list response in the shapes that once made the normalizer exponential or quadratic,
/// driven by the bytes: unordered arrays nested up to 40 deep, up to 4 000 learned ids, and
/// element orders chosen by the input. The transcript is the same every time and no learned
/// id survives in an id position.
pub fn normalizer_shapes(data: &[u8]) {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
    let depth = byte(0) % 41;
    let count = (byte(1) << 4 | byte(2) >> 4) % 4_001;
    let order = &data[data.len().min(3)..];
    let flip = |i: usize| {
        order
            .get(i % order.len().max(1))
            .is_some_and(|b| b & 1 == 1)
    };
    let id = |i: usize| format!("sid-{i}-zq");
    let nested = |start: usize| {
        let mut v = serde_json::json!({"value": id(start % count.max(1))});
        for d in 0..depth {
            let leaf = serde_json::json!({"value": id((start + d + 1) % count.max(1))});
            let pair = if flip(start + d) {
                [leaf, v]
            } else {
                [v, leaf]
            };
            v = serde_json::json!({"display": format!("level {d}"), "members": pair});
        }
        v
    };
    let resources: Vec<Value> = (0..count)
        .map(|i| {
            let emails = [
                serde_json::json!({"value": format!("{i}@a.example")}),
                serde_json::json!({"value": format!("{i}@b.example")}),
            ];
            let emails = if flip(i) {
                [emails[1].clone(), emails[0].clone()]
            } else {
                emails
            };
            let members = if i < 4 { vec![nested(i)] } else { vec![] };
            serde_json::json!({"id": id(i), "userName": format!("{PREFIX}u{i}"),
                "emails": emails, "members": members})
        })
        .collect();
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": count, "Resources": resources});
    let text = body.to_string();
    let exchange = Exchange {
        request: SentRequest {
            method: "GET".into(),
            url: format!("{BASE}/Users"),
            path: "/Users".into(),
            headers: Vec::new(),
            body: None,
        },
        response: Some(ReceivedResponse {
            status: 200,
            headers: vec![("Content-Type".into(), "application/scim+json".into())],
            body: text,
            json: Some(body),
            body_problem: None,
            truncated: false,
            elapsed_ms: 1,
        }),
        fault: None,
        retries: Vec::new(),
        retry_stopped: None,
    };
    let normalizer = Normalizer::new(BASE, PREFIX);
    let steps = [("list", &exchange)];
    let first = normalizer.transcript("shapes", &steps);
    assert_eq!(
        first,
        normalizer.transcript("shapes", &steps),
        "not deterministic"
    );
    assert!(!first.contains("sid-"), "a learned id survived:\n{first}");
}

/// The normalizer turns any exchange into a transcript, the same one every time.
pub fn normalizer(data: &[u8]) {
    let (head, body) = data.split_at(data.len().min(2));
    let status = head
        .iter()
        .fold(100u16, |s, b| s.wrapping_mul(7).wrapping_add(u16::from(*b)))
        % 500
        + 100;
    let text = String::from_utf8_lossy(body).into_owned();
    let json = serde_json::from_str::<Value>(&text).ok();
    let location = text.chars().take(80).collect::<String>();
    let exchange = Exchange {
        request: SentRequest {
            method: "POST".into(),
            url: format!("{BASE}/Users"),
            path: "/Users".into(),
            headers: vec![("Authorization".into(), "Bearer [redacted]".into())],
            body: Some(text.clone()),
        },
        response: Some(ReceivedResponse {
            status,
            headers: vec![
                ("Content-Type".into(), "application/scim+json".into()),
                ("Location".into(), format!("{BASE}/Users/{location}")),
                ("ETag".into(), location.clone()),
            ],
            body: text.clone(),
            json,
            body_problem: None,
            truncated: false,
            elapsed_ms: 1,
        }),
        fault: None,
        retries: Vec::new(),
        retry_stopped: None,
    };
    // Built once: compiling its patterns would cost more than normalizing.
    static NORMALIZER: std::sync::OnceLock<Normalizer> = std::sync::OnceLock::new();
    let normalizer = NORMALIZER.get_or_init(|| {
        Normalizer::new(BASE, PREFIX).with_generated(["0b6f1c1e-1111-4000-8000-000000000001"])
    });
    let steps = [("step", &exchange), ("again", &exchange)];
    let first = normalizer.transcript("fuzz", &steps);
    let second = normalizer.transcript("fuzz", &steps);
    assert_eq!(first, second, "the transcript is not deterministic");
}
