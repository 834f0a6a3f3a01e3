//! What must hold for any input to the parts of scimreplay that read untrusted text: the
//! scenario loader, the template engine, the normalizer, and the reference endpoint's filter
//! parser and evaluation (query filters, `.search` and PATCH value-filter paths).
//!
//! Each function takes raw bytes, feeds them in, and panics only when an invariant breaks
//! (the library itself must never panic). The cargo-fuzz targets call these; so does the
//! stable-Rust mutation loop in `tests/integration/hostile.rs`, which includes this file.

use scimreplay::http::exchange::{Exchange, ReceivedResponse, SentRequest};
use scimreplay::normalize::Normalizer;
use scimreplay::record::query;
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
    // A run keeps only the text of a large body once its step is judged; the transcript made
    // from the text must be the one made from the parsed body.
    let mut text_only = exchange.clone();
    if let Some(response) = text_only.response.as_mut() {
        response.json = None;
    }
    assert_eq!(
        first,
        normalizer.transcript("shapes", &[("list", &text_only)]),
        "the body's text and its parsed form normalize differently"
    );
}

/// A filter's text (first byte: where it goes) sent to the reference endpoint: as the
/// `filter` of a list, as a `.search` body, or inside a PATCH value-filter path of a user's
/// `emails` or a group's `members`. Every answer is a success or a 4xx SCIM error with a
/// `scimType` and a `detail` (never a 5xx, a panic or a stack overflow), within two seconds.
pub fn filter(data: &[u8]) {
    let Some((&how, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let endpoint = FilterEndpoint::shared();
    let (method, uri, body) = match how % 5 {
        0 => (
            "GET",
            format!("/Users?filter={}", query::encode(text)),
            None,
        ),
        1 => (
            "GET",
            format!("/Groups?filter={}", query::encode(text)),
            None,
        ),
        2 => (
            "POST",
            "/Users/.search".to_string(),
            Some(serde_json::json!({"schemas": [SEARCH_REQUEST], "filter": text})),
        ),
        3 => (
            "PATCH",
            format!("/Users/{}", endpoint.user),
            Some(patch(
                &format!("emails[{text}].value"),
                "replace",
                Some("x@example.com"),
            )),
        ),
        _ => (
            "PATCH",
            format!("/Groups/{}", endpoint.group),
            Some(patch(&format!("members[{text}]"), "remove", None)),
        ),
    };
    let started = std::time::Instant::now();
    let (status, answer) = endpoint.call(method, &uri, body);
    let took = started.elapsed();
    if method == "PATCH" {
        let member = serde_json::json!([{"value": endpoint.user.clone()}]);
        let mut add = patch("members", "add", None);
        add["Operations"][0]["value"] = member;
        endpoint.call("PATCH", &format!("/Groups/{}", endpoint.group), Some(add));
    }
    assert!(
        took < std::time::Duration::from_secs(2),
        "{method} {} took {took:?}",
        uri.chars().take(200).collect::<String>()
    );
    assert!(
        matches!(status, 200 | 204 | 400 | 404 | 413),
        "{method} answered {status}: {answer}"
    );
    if status >= 400 {
        let detail = answer
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(
            !detail.trim().is_empty(),
            "an error without a detail: {answer}"
        );
        if status == 400 {
            assert!(
                answer.get("scimType").is_some(),
                "a 400 without scimType: {answer}"
            );
        }
    }
}

const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

fn patch(path: &str, op: &str, value: Option<&str>) -> Value {
    let mut operation = serde_json::json!({"op": op, "path": path});
    if let Some(value) = value {
        operation["value"] = Value::from(value);
    }
    serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [operation]})
}

/// One reference endpoint for every input (in process, no socket), holding a user with
/// emails and a group with a member (put back after each input that may remove it).
struct FilterEndpoint {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    user: String,
    group: String,
}

impl FilterEndpoint {
    fn shared() -> &'static FilterEndpoint {
        static ENDPOINT: std::sync::OnceLock<FilterEndpoint> = std::sync::OnceLock::new();
        ENDPOINT.get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let config = scimreplay::reference::ServerConfig {
                public_url: Some("http://scim.test".into()),
                ..scimreplay::reference::ServerConfig::new("")
            };
            let mut endpoint = FilterEndpoint {
                runtime,
                app: scimreplay::reference::router(config),
                user: String::new(),
                group: String::new(),
            };
            let users = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "alice@example.com", "active": true, "externalId": "a-1",
                "emails": [{"value": "a@example.com", "type": "work", "primary": true},
                           {"value": "b@example.com", "type": "home"}]});
            let (_, user) = endpoint.call("POST", "/Users", Some(users));
            endpoint.user = user["id"].as_str().unwrap_or("missing").to_string();
            let group = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "sales", "members": [{"value": endpoint.user.clone()}]});
            let (_, group) = endpoint.call("POST", "/Groups", Some(group));
            endpoint.group = group["id"].as_str().unwrap_or("missing").to_string();
            endpoint
        })
    }

    /// Sends one request; the status and the JSON answer (`null` when there is none).
    fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
        use tower::ServiceExt;
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "scim.test");
        if body.is_some() {
            request = request.header("content-type", "application/scim+json");
        }
        let body = body.map_or_else(axum::body::Body::empty, |b| {
            axum::body::Body::from(b.to_string())
        });
        let Ok(request) = request.body(body) else {
            // Not a request the HTTP layer would have let through.
            return (
                400,
                serde_json::json!({"detail": "unsendable", "scimType": "invalidFilter"}),
            );
        };
        self.runtime.block_on(async {
            let response = match self.app.clone().oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        })
    }
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
