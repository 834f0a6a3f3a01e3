//! The `ids` and `generated` rules' bookkeeping: which values are server ids, and the
//! numbers their placeholders get.
//!
//! Ids are learned in a first pass over the whole scenario (a response's `id`, the `id` of
//! each ListResponse resource, the last segment of `Location`), so a request can be
//! normalized even when the id shows up there before the response that names it. Numbers
//! are handed out in a second pass, in the order the transcript shows the values.

use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Paths whose resources have protocol-defined ids (URNs, `User`) rather than server ids.
const DISCOVERY: [&str; 4] = [
    "schemas",
    "resourcetypes",
    "serviceproviderconfig",
    "serviceproviderconfigs",
];

/// Server ids learned from one scenario, in the order they were learned.
#[derive(Debug, Default)]
pub(crate) struct Learned {
    ids: Vec<String>,
    known: HashSet<String>,
}

impl Learned {
    pub(crate) fn ids(&self) -> &[String] {
        &self.ids
    }

    fn add(&mut self, id: &str) {
        // URNs are schema names; an id that is one would rewrite every `schemas` entry.
        if id.is_empty() || id.to_ascii_lowercase().starts_with("urn:") {
            return;
        }
        if self.known.insert(id.to_string()) {
            self.ids.push(id.to_string());
        }
    }

    /// Learns from one response to a request for `path`.
    pub(crate) fn learn(&mut self, path: &str, location: Option<&str>, body: Option<&Value>) {
        if is_discovery(path) {
            return;
        }
        // A Location naming a collection (some servers send `…/Users` even on a 401) has no id.
        if let Some(id) = location
            .and_then(last_segment)
            .filter(|s| !is_collection(s))
        {
            self.add(&id);
        }
        let Some(Value::Object(map)) = body else {
            return;
        };
        if let Some(id) = map.get("id").and_then(id_text) {
            self.add(&id);
        }
        if let Some(Value::Array(resources)) = map.get("Resources") {
            for r in resources {
                if let Some(id) = r.get("id").and_then(id_text) {
                    self.add(&id);
                }
            }
        }
    }
}

/// An `id` value as text: strings as they are, integers in decimal.
pub(crate) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn is_discovery(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.split('/')
        .find(|s| !s.is_empty())
        .is_some_and(|first| DISCOVERY.contains(&first.to_ascii_lowercase().as_str()))
}

/// True for a resource collection name such as `Users` or `Groups`, which is never an id.
fn is_collection(segment: &str) -> bool {
    ["users", "groups"].contains(&segment.to_ascii_lowercase().as_str())
        || DISCOVERY.contains(&segment.to_ascii_lowercase().as_str())
}

/// The last non-empty path segment of a URL or path, percent-decoded.
fn last_segment(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let path = path.split_once("://").map_or(path, |(_, rest)| {
        rest.split_once('/').map_or("", |(_, p)| p)
    });
    path.split('/').rfind(|s| !s.is_empty()).map(percent_decode)
}

/// Decodes `%XX` escapes; anything malformed is kept as it is.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Placeholder numbers of one kind (`id` or `uuid`), by first appearance.
#[derive(Clone, Debug)]
struct Numbering {
    label: &'static str,
    seen: HashMap<String, usize>,
}

impl Numbering {
    fn new(label: &'static str) -> Numbering {
        Numbering {
            label,
            seen: HashMap::new(),
        }
    }

    fn name(&mut self, key: String, frozen: bool) -> String {
        let label = self.label;
        if let Some(n) = self.seen.get(&key) {
            return format!("[{label}:{n}]");
        }
        if frozen {
            return format!("[{label}:?]");
        }
        let n = self.seen.len() + 1;
        self.seen.insert(key, n);
        format!("[{label}:{n}]")
    }
}

/// The numbering state of a transcript being rendered.
///
/// A frozen copy names values already seen and writes `[id:?]` for new ones; sorting uses it,
/// so the order an endpoint happened to list things in never decides a number.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    ids: Numbering,
    uuids: Numbering,
    frozen: bool,
    /// Read as the nodes of a body are visited, so a signal cuts a long rendering short.
    watch: crate::stop::Watch,
}

impl Names {
    /// Numbering that nothing stops (the unit tests').
    #[cfg(test)]
    pub(crate) fn new() -> Names {
        Names::watching(crate::stop::Stop::never())
    }

    /// Numbering for a rendering that `stop` may cut short.
    pub(crate) fn watching(stop: crate::stop::Stop) -> Names {
        Names {
            ids: Numbering::new("id"),
            uuids: Numbering::new("uuid"),
            frozen: false,
            watch: crate::stop::Watch::new(stop),
        }
    }

    /// Called once per visited node: true once the rendering should stop (what it produced
    /// is then thrown away, so the remaining nodes are skipped, not rendered).
    pub(crate) fn halted(&mut self) -> bool {
        self.watch.halted()
    }

    /// Reads the stop flag now.
    pub(crate) fn check(&mut self) -> Result<(), crate::stop::Stopped> {
        self.watch.check()
    }

    /// Runs `f` with numbering frozen: known values keep their numbers, new ones are `?`.
    /// Nothing is copied, so freezing costs the same with ten ids or a million.
    pub(crate) fn frozen<T>(&mut self, f: impl FnOnce(&mut Names) -> T) -> T {
        let was = std::mem::replace(&mut self.frozen, true);
        let out = f(self);
        self.frozen = was;
        out
    }

    pub(crate) fn id(&mut self, raw: &str) -> String {
        self.ids.name(raw.to_string(), self.frozen)
    }

    /// Generated values compare case-insensitively: endpoints may change their case.
    pub(crate) fn uuid(&mut self, raw: &str) -> String {
        self.uuids.name(raw.to_ascii_lowercase(), self.frozen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn learns_from_id_resources_and_location() {
        let mut l = Learned::default();
        l.learn("/Users", Some("http://h/scim/Users/loc-1"), None);
        l.learn("/Users", None, Some(&json!({"id": "u-1", "userName": "x"})));
        l.learn(
            "/Users?filter=x",
            None,
            Some(&json!({"Resources": [{"id": 42}, {"id": "u-1"}, {"id": ""}]})),
        );
        assert_eq!(l.ids(), ["loc-1", "u-1", "42"]);
    }

    #[test]
    fn a_location_naming_a_collection_teaches_no_id() {
        let mut l = Learned::default();
        l.learn("/Users", Some("http://h/scim/v2/Users"), None);
        l.learn("/Groups", Some("http://h/scim/v2/Groups/"), None);
        assert!(l.ids().is_empty(), "{:?}", l.ids());
    }

    #[test]
    fn discovery_ids_and_urns_are_not_learned() {
        let mut l = Learned::default();
        l.learn(
            "/ResourceTypes",
            None,
            Some(&json!({"Resources": [{"id": "User"}]})),
        );
        l.learn("/Schemas/urn:x", None, Some(&json!({"id": "urn:x"})));
        l.learn("/Users", None, Some(&json!({"id": "urn:y"})));
        assert!(l.ids().is_empty());
    }

    #[test]
    fn location_segment_is_decoded_and_query_dropped() {
        assert_eq!(
            last_segment("https://h/a/b%40c?x=1").as_deref(),
            Some("b@c")
        );
        assert_eq!(last_segment("/Users/7/").as_deref(), Some("7"));
        assert_eq!(last_segment("https://h").as_deref(), None);
    }

    #[test]
    fn percent_decode_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%22b%2"), "a\"b%2");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn numbering_is_by_first_use_and_frozen_names_nothing_new() {
        let mut n = Names::new();
        assert_eq!(n.id("b"), "[id:1]");
        assert_eq!(n.id("a"), "[id:2]");
        assert_eq!(n.id("b"), "[id:1]");
        n.frozen(|f| {
            assert_eq!(f.id("c"), "[id:?]");
            assert_eq!(f.id("a"), "[id:2]");
        });
        assert_eq!(n.id("c"), "[id:3]");
        assert_eq!(n.uuid("ABCD-1"), "[uuid:1]");
        assert_eq!(n.uuid("abcd-1"), "[uuid:1]");
    }
}
