//! Recorded exchanges → an ordinary scenario file and its first snapshot baseline.
//!
//! One step per request, sent as recorded (query order and encoding style kept), expecting
//! the recorded status. Server ids become captures at the step whose answer first carried
//! them and `{{…}}` references afterwards; names of created objects get `{{run.prefix}}`;
//! ids that no recorded step created become `{{uuid.NAME}}` so the guard lets the replay send
//! them. The recorded answers, rewritten the same way, are normalized into the baseline.

use super::query;
use super::raw::{AuthSeen, RawExchange};
use super::rewrite::{BASELINE_PREFIX, Replacement, Rewriter};
use crate::http::exchange::{Exchange, ReceivedResponse, SentRequest};
use crate::normalize::Normalizer;
use crate::scenario::model::{Dialect, Method, QueryStyle};
use regex::Regex;
use serde_json::{Map, Value, json};

/// What to call the scenario and where the traffic went.
#[derive(Clone, Debug)]
pub struct Meta {
    pub name: String,
    pub summary: String,
    pub description: String,
    pub tags: Vec<String>,
    /// The Tenant URL the recorded requests were sent to (its path is the SCIM base).
    pub upstream: String,
}

/// A converted recording.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The scenario in file form (as `scenarios/*.json` are written).
    pub scenario: Value,
    /// The normalized transcript of the recorded answers (the first baseline).
    pub baseline: String,
    /// Exchanges left out, and why.
    pub skipped: Vec<String>,
    pub dialect: Dialect,
}

/// One step being built: the file form and the recorded exchange it replays.
#[derive(Clone, Debug)]
pub struct Draft {
    pub step: Map<String, Value>,
    pub exchange: Exchange,
}

/// The state of a conversion: rules learned so far and counters for names.
#[derive(Debug)]
pub struct Converter {
    pub rewriter: Rewriter,
    base_path: String,
    upstream: String,
    captures: usize,
    unknown: Vec<String>,
    steps: usize,
}

impl Converter {
    pub fn new(upstream: &str) -> Converter {
        Converter::with_rewriter(upstream, Rewriter::default())
    }

    /// A converter starting from `rewriter` (e.g. one with a name infix).
    pub fn with_rewriter(upstream: &str, rewriter: Rewriter) -> Converter {
        Converter {
            rewriter,
            base_path: super::proxy::base_path_of(upstream),
            upstream: upstream
                .split(['?', '#'])
                .next()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
            captures: 0,
            unknown: Vec::new(),
            steps: 0,
        }
    }

    /// Learns the names of every object the exchanges create (before any step is built, so
    /// a filter that precedes its create — Entra's match query — is rewritten too).
    pub fn learn_names(&mut self, exchanges: &[RawExchange]) {
        let recorded_prefix = Regex::new("(?i)^scimreplay-[0-9a-f]{6}-").ok();
        for x in exchanges
            .iter()
            .filter(|x| x.method.eq_ignore_ascii_case("POST"))
        {
            let Some(rel) = self.relative(&x.target) else {
                continue;
            };
            let collection = rel.split('?').next().unwrap_or_default().trim_matches('/');
            let key = match collection.to_ascii_lowercase().as_str() {
                "users" => "userName",
                "groups" => "displayName",
                _ => continue,
            };
            let body = x
                .request_body
                .as_deref()
                .and_then(|b| serde_json::from_str::<Value>(b).ok());
            let Some(name) = body
                .as_ref()
                .and_then(|b| get_ci(b, key))
                .and_then(Value::as_str)
            else {
                continue;
            };
            match recorded_prefix.as_ref().and_then(|re| re.find(name)) {
                Some(m) => self.rewriter.add(m.as_str(), Replacement::Prefix),
                None => self.rewriter.add(name, Replacement::Name),
            }
        }
    }

    /// The path and query relative to the SCIM base, or `None` outside it.
    pub fn relative(&self, target: &str) -> Option<String> {
        let (path, query) = target
            .split_once('?')
            .map_or((target, None), |(p, q)| (p, Some(q)));
        let rest = if self.base_path.is_empty() {
            path
        } else {
            let head = path.get(..self.base_path.len())?;
            if !head.eq_ignore_ascii_case(&self.base_path) {
                return None;
            }
            &path[self.base_path.len()..]
        };
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        let rest = if rest.is_empty() { "/" } else { rest };
        Some(match query {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_string(),
        })
    }

    /// A fresh capture variable name for an object of `collection`.
    fn capture_name(&mut self, stem: &str) -> String {
        self.captures += 1;
        format!("{stem}_{}", self.captures)
    }

    /// Builds the step for one exchange, or says why it cannot be replayed.
    pub fn step(&mut self, x: &RawExchange) -> Result<Draft, String> {
        let place = format!("exchange {} ({} {})", x.seq, x.method, x.target);
        let method = parse_method(&x.method)
            .ok_or_else(|| format!("{place}: the method is not one a scenario can send"))?;
        let status = x.status.ok_or_else(|| {
            format!(
                "{place}: no answer was recorded ({})",
                x.error.as_deref().unwrap_or("no status")
            )
        })?;
        let rel = self
            .relative(&x.target)
            .ok_or_else(|| format!("{place}: outside the SCIM base `{}`", self.base_path))?;
        let body: Option<Value> = match x
            .request_body
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
        {
            None => None,
            Some(text) => Some(
                serde_json::from_str(text)
                    .map_err(|_| format!("{place}: the request body is not JSON"))?,
            ),
        };
        let (path, raw_query) = rel
            .split_once('?')
            .map_or((rel.as_str(), ""), |(p, q)| (p, q));
        self.unknown_ids(method, path);
        let path = self.rewriter.path(path);
        let style = query::style(raw_query);
        let mut query_t = Map::new();
        let mut query_b = Vec::new();
        for (name, value) in query::params(raw_query) {
            let v = self.rewriter.string(&value);
            if !query_t.contains_key(&name) {
                query_t.insert(name.clone(), Value::String(v.template));
                query_b.push((name, v.baseline));
            }
        }
        let (body_t, body_b) = match &body {
            Some(b) => {
                let (t, b) = self.rewriter.value(b);
                (Some(t), Some(b))
            }
            None => (None, None),
        };
        self.steps += 1;
        let mut step = Map::new();
        let resource = step_word(
            path.baseline
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or(""),
        );
        step.insert(
            "id".into(),
            json!(format!(
                "{:03}-{}-{resource}",
                self.steps,
                method.as_str().to_ascii_lowercase()
            )),
        );
        step.insert(
            "note".into(),
            json!(format!("recorded {}: {} {}", x.at, x.method, x.target)),
        );
        let mut request = Map::new();
        request.insert("method".into(), json!(method.as_str()));
        request.insert("path".into(), json!(path.template));
        if !query_t.is_empty() {
            request.insert("query".into(), Value::Object(query_t));
        }
        if style == QueryStyle::Validator {
            request.insert("query_style".into(), json!("validator"));
        }
        match (x.auth, status) {
            (AuthSeen::None, _) => {
                request.insert("auth".into(), json!("none"));
            }
            (_, 401) => {
                request.insert("auth".into(), json!("invalid"));
            }
            _ => {}
        }
        if let Some(b) = body_t {
            request.insert("body".into(), b);
        }
        step.insert("request".into(), Value::Object(request));
        step.insert("expect".into(), json!({ "status": status }));
        let exchange =
            self.baseline_exchange(x, method, &path.baseline, &query_b, style, body_b, status);
        let mut draft = Draft { step, exchange };
        self.learn_ids(method, &rel, &mut draft);
        Ok(draft)
    }

    /// An object path whose id nothing recorded created: the id becomes a generated uuid, so
    /// the replay addresses an object that cannot exist (the guard allows exactly that).
    fn unknown_ids(&mut self, method: Method, path: &str) {
        let Some((_, id)) = crate::run::guard::object_of(path) else {
            return;
        };
        let id = query::decode(id);
        if self.rewriter.find(&id).is_some() {
            return;
        }
        let looks_generated = uuid::Uuid::parse_str(&id).is_ok();
        if method.modifies() || looks_generated {
            self.unknown.push(id.clone());
            let tag = format!("unknown_{}", self.unknown.len());
            self.rewriter.add(&id, Replacement::Unknown(tag));
        }
    }

    /// Captures the ids a response introduces: a create's `/id`, a list's `Resources[i].id`.
    fn learn_ids(&mut self, method: Method, rel: &str, draft: &mut Draft) {
        let Some(response) = &draft.exchange.response else {
            return;
        };
        let Some(json) = &response.json else { return };
        let path = rel.split('?').next().unwrap_or_default();
        let mut found: Vec<(String, String, &str)> = Vec::new();
        if let Some(collection) = crate::run::guard::collection_of(path) {
            if method == Method::Post && (200..300).contains(&response.status) {
                if let Some(id) = json.get("id").and_then(Value::as_str) {
                    let stem = if collection == "Users" {
                        "user"
                    } else {
                        "group"
                    };
                    found.push(("/id".into(), id.to_string(), stem));
                }
            }
        }
        let searches = path.trim_end_matches('/').ends_with("/.search");
        let listed = crate::run::guard::collection_of(path).is_some() || searches;
        if let Some(resources) = json
            .get("Resources")
            .and_then(Value::as_array)
            .filter(|_| listed)
        {
            for (i, r) in resources.iter().enumerate() {
                if let Some(id) = r.get("id").and_then(Value::as_str) {
                    found.push((format!("/Resources/{i}/id"), id.to_string(), "found"));
                }
            }
        }
        let mut capture = Map::new();
        for (pointer, id, stem) in found {
            if id.is_empty()
                || self.rewriter.find(&id).is_some()
                || !crate::run::guard::safe_segment(&id)
            {
                continue;
            }
            let name = self.capture_name(stem);
            self.rewriter.add(&id, Replacement::Capture(name.clone()));
            capture.insert(name, json!(pointer));
        }
        if !capture.is_empty() {
            draft.step.insert("capture".into(), Value::Object(capture));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn baseline_exchange(
        &mut self,
        x: &RawExchange,
        method: Method,
        path: &str,
        query_params: &[(String, String)],
        style: QueryStyle,
        body: Option<Value>,
        status: u16,
    ) -> Exchange {
        let query_text = crate::http::client::encode_query(query_params, style);
        let path = if query_text.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query_text}")
        };
        let response_json = x
            .response_body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok());
        let (response_body, json) = match &response_json {
            Some(v) => {
                let (_, b) = self.rewriter.value(v);
                (b.to_string(), Some(b))
            }
            None => (
                self.rewriter
                    .string(x.response_body.as_deref().unwrap_or_default())
                    .baseline,
                None,
            ),
        };
        let headers = x
            .response_headers
            .iter()
            .map(|(k, v)| (k.clone(), self.rewriter.string(v).baseline))
            .collect();
        Exchange {
            request: SentRequest {
                method: method.as_str().to_string(),
                url: format!("{}{path}", self.upstream),
                path,
                headers: Vec::new(),
                body: body.map(|b| b.to_string()),
            },
            response: Some(ReceivedResponse {
                status,
                headers,
                body: response_body,
                json,
                body_problem: None,
                truncated: x.response_truncated,
                elapsed_ms: x.elapsed_ms,
            }),
            fault: None,
            retries: Vec::new(),
            retry_stopped: None,
        }
    }

    /// Assembles the scenario and its baseline from the drafts.
    pub fn finish(&self, meta: &Meta, drafts: &[Draft], skipped: Vec<String>) -> Converted {
        let dialect = detect_dialect(
            drafts
                .iter()
                .filter_map(|d| d.step.get("request")?.get("body")),
        );
        let steps: Vec<Value> = drafts
            .iter()
            .map(|d| Value::Object(d.step.clone()))
            .collect();
        let mut scenario = Map::new();
        scenario.insert("name".into(), json!(meta.name));
        scenario.insert("summary".into(), json!(meta.summary));
        scenario.insert("description".into(), json!(meta.description));
        scenario.insert("source".into(), json!("observed"));
        scenario.insert("dialect".into(), json!(dialect.as_str()));
        scenario.insert("tags".into(), json!(meta.tags));
        scenario.insert("steps".into(), Value::Array(steps));
        let transcript_steps: Vec<(&str, &Exchange)> = drafts
            .iter()
            .map(|d| {
                (
                    d.step.get("id").and_then(Value::as_str).unwrap_or(""),
                    &d.exchange,
                )
            })
            .collect();
        let normalizer = Normalizer::new(&self.upstream, BASELINE_PREFIX)
            .with_generated(self.unknown.iter().cloned());
        Converted {
            scenario: Value::Object(scenario),
            baseline: normalizer.transcript(&meta.name, &transcript_steps),
            skipped,
            dialect,
        }
    }
}

/// Converts a whole recording: every exchange that can be replayed becomes a step.
pub fn convert(meta: &Meta, exchanges: &[RawExchange]) -> Converted {
    let mut converter = Converter::new(&meta.upstream);
    converter.learn_names(exchanges);
    let mut drafts = Vec::new();
    let mut skipped = Vec::new();
    for x in exchanges {
        match converter.step(x) {
            Ok(d) => drafts.push(d),
            Err(why) => skipped.push(why),
        }
    }
    converter.finish(meta, &drafts, skipped)
}

fn parse_method(m: &str) -> Option<Method> {
    match m.to_ascii_uppercase().as_str() {
        "GET" => Some(Method::Get),
        "POST" => Some(Method::Post),
        "PUT" => Some(Method::Put),
        "PATCH" => Some(Method::Patch),
        "DELETE" => Some(Method::Delete),
        _ => None,
    }
}

/// A step-id word from a path segment: `Users` → `users`, `.search` → `search`.
fn step_word(segment: &str) -> String {
    let word: String = segment
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if word.is_empty() { "root".into() } else { word }
}

fn get_ci<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// The dialect of the PATCH bodies: PascalCase ops are Entra's default, lowercase ones the
/// `aadOptscim062020` flag (and the Validator); both or neither: `any`.
pub fn detect_dialect<'a>(bodies: impl Iterator<Item = &'a Value>) -> Dialect {
    let (mut pascal, mut lower) = (false, false);
    for body in bodies {
        let ops = get_ci(body, "Operations").and_then(Value::as_array);
        for op in ops.into_iter().flatten() {
            if let Some(name) = get_ci(op, "op").and_then(Value::as_str) {
                if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    pascal = true;
                } else {
                    lower = true;
                }
            }
        }
    }
    match (pascal, lower) {
        (true, false) => Dialect::Default,
        (false, true) => Dialect::AadOptscim062020,
        _ => Dialect::Any,
    }
}
