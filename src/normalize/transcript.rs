//! The transcript text: a header, then one `## <step>` section per exchange.
//!
//! Request lines start with `> `, response lines with `< `, so no body line can be mistaken
//! for a section heading and a diff shows at a glance which side changed.

use super::Normalizer;
use super::ids::{Learned, Names};
use super::text::{Rules, Slot};
use super::value::normalize;
use crate::http::exchange::{Exchange, FaultKind, ReceivedResponse};
use crate::stop::{Stop, Stopped};
use serde_json::Value;

/// Response headers that carry SCIM behaviour; everything else (dates, servers, cookies,
/// tracing ids) differs between runs and deployments without meaning anything.
const KEPT_HEADERS: [&str; 5] = [
    "content-type",
    "etag",
    "location",
    "retry-after",
    "www-authenticate",
];

/// How much of a body that is not JSON the transcript keeps.
pub(crate) const TEXT_LIMIT: usize = 2048;

/// One step with its bodies parsed and pointer-redacted once, for both passes.
struct Prepared<'a> {
    id: &'a str,
    exchange: &'a Exchange,
    request_json: Option<Value>,
    response_json: Option<Value>,
}

impl<'a> Prepared<'a> {
    fn new(n: &Normalizer, id: &'a str, exchange: &'a Exchange) -> Prepared<'a> {
        let mut request_json = exchange
            .request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok());
        let mut response_json = exchange.response.as_ref().and_then(|r| {
            r.json_value()
                .map(std::borrow::Cow::into_owned)
                .or_else(|| serde_json::from_str::<Value>(&r.body).ok())
        });
        for body in [&mut request_json, &mut response_json]
            .into_iter()
            .flatten()
        {
            n.redactions.apply_pointers(body);
        }
        Prepared {
            id,
            exchange,
            request_json,
            response_json,
        }
    }
}

/// The whole transcript of one scenario, or `Stopped` when `stop` was raised before it was
/// done (checked between steps and every few thousand nodes of a body).
pub(crate) fn render(
    n: &Normalizer,
    scenario: &str,
    steps: &[(&str, &Exchange)],
    stop: Stop,
) -> Result<String, Stopped> {
    let mut names = Names::watching(stop);
    let mut prepared: Vec<Prepared> = Vec::with_capacity(steps.len());
    for (id, exchange) in steps {
        names.check()?;
        prepared.push(Prepared::new(n, id, exchange));
    }
    let mut learned = Learned::default();
    for p in &prepared {
        if let Some(response) = &p.exchange.response {
            learned.learn(
                &p.exchange.request.path,
                response.header("location"),
                p.response_json.as_ref(),
            );
        }
    }
    names.check()?;
    let rules = Rules::new(n, learned.ids());
    let mut out = n.header(scenario);
    for (i, p) in prepared.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        step(&rules, p, &mut names, &mut out);
        // A body cut short by the stop rendered as nulls: the text is thrown away.
        names.check()?;
    }
    // JSON strings are escaped by serde_json already; header values, text bodies and what
    // serde_json leaves alone (DEL, C1 controls, bidi overrides) are made visible here.
    Ok(crate::escape::text(&out).into_owned())
}

fn step(rules: &Rules, p: &Prepared, names: &mut Names, out: &mut String) {
    let request = &p.exchange.request;
    out.push_str(&format!("## {}\n", p.id));
    let path = rules.string(&request.path, Slot::Path, names);
    out.push_str(&format!("> {} {path}\n", request.method));
    let request_text = request.body.as_deref().unwrap_or_default();
    body(
        rules,
        ">",
        p.request_json.as_ref(),
        request_text,
        names,
        out,
    );
    match (&p.exchange.response, &p.exchange.fault) {
        (Some(response), _) => {
            out.push_str(&format!("< {}\n", response.status));
            headers(rules, response, names, out);
            body(
                rules,
                "<",
                p.response_json.as_ref(),
                &response.body,
                names,
                out,
            );
            if response.truncated {
                out.push_str("< [body cut by the harness's size cap]\n");
            }
        }
        (None, Some(fault)) => out.push_str(&format!("< error: {}\n", fault_kind(fault.kind))),
        (None, None) => out.push_str("< error: no response\n"),
    }
}

/// Kept headers, names in lower case, sorted by name (same-name headers keep their order).
fn headers(rules: &Rules, response: &ReceivedResponse, names: &mut Names, out: &mut String) {
    let mut kept: Vec<(String, &str)> = response
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
        .filter(|(k, _)| KEPT_HEADERS.contains(&k.as_str()))
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in kept {
        let value = rules.string(value.trim(), Slot::Header(&name), names);
        out.push_str(&format!("< {name}: {value}\n"));
    }
}

/// A JSON body pretty-printed, or a text body with a marker; nothing for an empty body.
fn body(
    rules: &Rules,
    mark: &str,
    json: Option<&Value>,
    text: &str,
    names: &mut Names,
    out: &mut String,
) {
    if let Some(json) = json {
        let value = normalize(rules, json, None, None, names);
        let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
        push_lines(mark, &pretty, out);
        return;
    }
    if text.trim().is_empty() {
        return;
    }
    let cut = floor_char_boundary(text, TEXT_LIMIT);
    out.push_str(&format!("{mark} [body is not JSON]\n"));
    push_lines(mark, &rules.string(&text[..cut], Slot::Text, names), out);
    if cut < text.len() {
        out.push_str(&format!("{mark} [cut at {TEXT_LIMIT} bytes]\n"));
    }
}

fn push_lines(mark: &str, text: &str, out: &mut String) {
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            out.push_str(mark);
        } else {
            out.push_str(&format!("{mark} {line}"));
        }
        out.push('\n');
    }
}

/// The largest index `<= at` that is a char boundary of `s`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0)
}

fn fault_kind(kind: FaultKind) -> &'static str {
    match kind {
        FaultKind::Connect => "connect",
        FaultKind::Tls => "tls",
        FaultKind::Timeout => "timeout",
        FaultKind::Reset => "reset",
        FaultKind::Protocol => "protocol",
        FaultKind::Refused => "refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::exchange::{Fault, SentRequest};
    use crate::normalize::Redactions;
    use serde_json::json;

    const BASE: &str = "http://127.0.0.1:41234/scim";
    const PREFIX: &str = "scimreplay-7f3a2c-";
    const EXTERNAL: &str = "0b6f1c1e-1111-4000-8000-000000000001";
    const USER: &str = "2819c223-7f76-453a-919d-413861904646";
    const GROUP: &str = "e9e30dba-f08f-4109-8486-d5c6a331660a";

    fn request(method: &str, path: &str, body: Option<Value>) -> SentRequest {
        SentRequest {
            method: method.to_string(),
            url: format!("{BASE}{path}"),
            path: path.to_string(),
            headers: vec![
                ("Authorization".to_string(), "Bearer [redacted]".to_string()),
                (
                    "Content-Type".to_string(),
                    "application/scim+json; charset=utf-8".to_string(),
                ),
            ],
            body: body.map(|b| b.to_string()),
        }
    }

    fn response(status: u16, headers: &[(&str, &str)], body: Option<Value>) -> ReceivedResponse {
        ReceivedResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_ref().map(Value::to_string).unwrap_or_default(),
            json: body,
            body_problem: None,
            truncated: false,
            elapsed_ms: 12,
        }
    }

    fn exchange(request: SentRequest, response: ReceivedResponse) -> Exchange {
        Exchange {
            request,
            response: Some(response),
            fault: None,
            retries: vec![],
            retry_stopped: None,
        }
    }

    fn user(id: &str, name: &str, created: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": id,
            "externalId": EXTERNAL,
            "userName": format!("{}{name}@example.com", PREFIX.to_uppercase()),
            "active": true,
            "emails": [{"value": "z@example.com", "type": "other"},
                       {"value": format!("{PREFIX}{name}@example.com"), "type": "work", "primary": true}],
            "meta": {"resourceType": "User", "created": created, "lastModified": created,
                     "version": "W/\"1\"", "location": format!("{BASE}/Users/{id}")}
        })
    }

    /// A scenario touching every rule: create, group with a member, filter, patch, errors.
    fn scenario(ids: [&str; 2], time: &str) -> Vec<(&'static str, Exchange)> {
        let [user_id, group_id] = ids;
        let create_body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("{PREFIX}alice@example.com"), "externalId": EXTERNAL, "active": true});
        let location = format!("{BASE}/Users/{user_id}");
        let create = exchange(
            request("POST", "/Users", Some(create_body)),
            response(
                201,
                &[
                    ("Content-Type", "application/scim+json"),
                    ("Location", &location),
                    ("ETag", "W/\"1\""),
                    ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
                    ("X-Request-Id", "abc"),
                ],
                Some(user(user_id, "alice", time)),
            ),
        );
        let group_body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": format!("{PREFIX}sales"), "members": [{"value": user_id}]});
        let group = exchange(
            request("POST", "/Groups", Some(group_body)),
            response(
                201,
                &[("content-type", "application/scim+json")],
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": group_id,
                    "displayName": format!("{PREFIX}sales"),
                    "members": [{"value": user_id, "$ref": format!("{BASE}/Users/{user_id}"), "display": "alice"}],
                    "meta": {"resourceType": "Group", "version": 7}
                })),
            ),
        );
        let mut steps = vec![("create", create), ("group", group)];
        steps.extend(later_steps(user_id, group_id, time));
        steps
    }

    /// Filter, PATCH, a text error page and a transport fault.
    fn later_steps(user_id: &str, group_id: &str, time: &str) -> Vec<(&'static str, Exchange)> {
        let filter = format!("/Users?filter=userName+eq+%22{PREFIX}alice%40example.com%22");
        let list = exchange(
            request("GET", &filter, None),
            response(
                200,
                &[("Content-Type", "application/scim+json")],
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1,
                    "itemsPerPage": 1, "startIndex": 1,
                    "Resources": [user(user_id, "alice", time)]
                })),
            ),
        );
        let patch_body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": format!("members[value eq \"{user_id}\"]")}]});
        let patch = exchange(
            request("PATCH", &format!("/Groups/{group_id}"), Some(patch_body)),
            response(204, &[], None),
        );
        let mut html = response(500, &[("Content-Type", "text/html")], None);
        html.body = format!("<html>\n<p>user {user_id} exploded at {BASE}/Users</p>\n</html>\n");
        html.body_problem = Some("expected value at line 1 column 1".to_string());
        let broken = exchange(request("GET", &format!("/Users/{user_id}"), None), html);
        let gone = Exchange {
            request: request("DELETE", &format!("/Users/{user_id}"), None),
            response: None,
            fault: Some(Fault {
                kind: FaultKind::Timeout,
                message: "no answer from 127.0.0.1:41234".to_string(),
            }),
            retries: vec![],
            retry_stopped: None,
        };
        vec![
            ("find", list),
            ("unlink", patch),
            ("broken", broken),
            ("delete", gone),
        ]
    }

    fn transcript(n: &Normalizer) -> String {
        let steps = scenario([USER, GROUP], "2024-05-01T10:00:00.123Z");
        let refs: Vec<(&str, &Exchange)> = steps.iter().map(|(id, e)| (*id, e)).collect();
        n.transcript("user-and-group", &refs)
    }

    fn normalizer() -> Normalizer {
        Normalizer::new(BASE, PREFIX).with_generated([EXTERNAL])
    }

    #[test]
    fn full_transcript() {
        let text = transcript(&normalizer());
        insta::assert_snapshot!(text);
    }

    #[test]
    fn transcript_is_stable_across_runs_with_other_ids_and_times() {
        let first = transcript(&normalizer());
        let other = |ids: [&str; 2]| {
            let steps = scenario(ids, "2031-12-31T23:59:59+01:00");
            let refs: Vec<(&str, &Exchange)> = steps.iter().map(|(id, e)| (*id, e)).collect();
            normalizer().transcript("user-and-group", &refs)
        };
        let uuids = [
            "9d1c0f7e-0000-4000-8000-00000000beef",
            "1a2b3c4d-0000-4000-8000-0000000000cc",
        ];
        assert_eq!(first, other(uuids));
        // Short integer ids are only replaced where they are unmistakably ids, so free text
        // keeps them.
        let integers = first.replace("user [id:1] exploded", "user 42 exploded");
        assert_eq!(integers, other(["42", "7"]));
        let steps = scenario([USER, GROUP], "2024-05-01T10:00:00Z");
        let mut refs: Vec<(&str, &Exchange)> = steps.iter().map(|(id, e)| (*id, e)).collect();
        refs.truncate(2);
        let short = normalizer().transcript("user-and-group", &refs);
        assert!(first.starts_with(&short[..short.len() - 1]), "{short}");
    }

    #[test]
    fn no_raw_volatile_value_survives() {
        let text = transcript(&normalizer());
        for raw in [
            USER,
            GROUP,
            EXTERNAL,
            BASE,
            PREFIX,
            "2024-05-01",
            "Bearer",
            "Authorization",
            "X-Request-Id",
        ] {
            assert!(
                !text.to_lowercase().contains(&raw.to_lowercase()),
                "{raw} in\n{text}"
            );
        }
    }

    #[test]
    fn generated_values_in_member_names_are_replaced() {
        let ext =
            "urn:ietf:params:scim:schemas:extension:9d1c0f7e-0000-4000-8000-00000000beef:2.0:User";
        let read = exchange(
            request("GET", "/Users/u-1", None),
            response(200, &[], Some(json!({"id": "u-1", ext: {"badge": "42"}}))),
        );
        let n =
            Normalizer::new(BASE, PREFIX).with_generated(["9d1c0f7e-0000-4000-8000-00000000beef"]);
        let text = n.transcript("ext", &[("read", &read)]);
        assert!(text.contains("extension:[uuid:1]:2.0:User"), "{text}");
        assert!(!text.contains("beef"), "{text}");
    }

    #[test]
    fn pointer_redactions_apply_before_other_rules() {
        let mut r = Redactions::new();
        r.add_pointer("/Resources/*/emails").unwrap();
        let text = transcript(&normalizer().with_redactions(&r));
        assert!(text.contains("redacted: /Resources/*/emails\n"), "{text}");
        assert!(
            text.contains("<       \"emails\": \"[redacted]\","),
            "{text}"
        );
    }

    #[test]
    fn long_text_bodies_are_cut_with_a_marker() {
        let mut steps = scenario([USER, GROUP], "2024-05-01T10:00:00Z");
        let broken = steps[4].1.response.as_mut().unwrap();
        broken.body = format!("{}\n", "é".repeat(TEXT_LIMIT));
        broken.truncated = true;
        let refs: Vec<(&str, &Exchange)> = steps.iter().map(|(id, e)| (*id, e)).collect();
        let text = normalizer().transcript("s", &refs);
        let kept = format!(
            "< {}\n< [cut at {TEXT_LIMIT} bytes]\n",
            "é".repeat(TEXT_LIMIT / 2)
        );
        assert!(text.contains(&kept), "{text}");
        assert!(text.contains("< [body cut by the harness's size cap]\n"));
    }

    #[test]
    fn a_list_with_a_hundred_thousand_ids_is_not_quadratic() {
        let resources: Vec<Value> = (0..100_000)
            .map(|i| {
                json!({"id": format!("opaque-id-{i:08}"),
                       "emails": [{"value": format!("{i}@b")}, {"value": format!("{i}@a")}]})
            })
            .collect();
        let list = exchange(
            request("GET", "/Users?filter=id+eq+%22opaque-id-00000007%22", None),
            response(
                200,
                &[],
                Some(json!({"Resources": resources, "detail": "see opaque-id-00099999"})),
            ),
        );
        let text = crate::normalize::value::tests::within(120, move || {
            normalizer().transcript("many", &[("list", &list)])
        });
        assert!(text.contains("%22[id:1]%22"), "{}", &text[..400]);
        assert!(
            text.contains("\"detail\": \"see [id:"),
            "free text names the id"
        );
        assert!(!text.contains("opaque-id-"));
    }

    #[test]
    fn text_cut_respects_char_boundaries() {
        let s = "aé";
        assert_eq!(floor_char_boundary(s, 2), 1);
        assert_eq!(floor_char_boundary(s, 9), 3);
    }
}
