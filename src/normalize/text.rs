//! The string rules: what happens to one string, given where in the transcript it sits.
//!
//! Ids are only replaced where they can be told apart from ordinary data: whole values of
//! id-valued members (`id`, `value` of a reference, `manager`), path segments of URLs and
//! paths, double-quoted filter values, and, for long opaque ids only, tokens in free text.
//! So an endpoint that numbers users `42` does not turn `"totalResults": 42` into an id.

use super::Normalizer;
use super::ids::{Names, percent_decode};
use regex::{Regex, RegexBuilder};
use std::collections::HashSet;
use std::sync::LazyLock;

/// RFC 3339 / ISO 8601 date-time (a date alone is data, not a clock reading).
static TIMESTAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$")
        .ok()
});

/// RFC 9110 IMF-fixdate, the date form of `Retry-After`.
static HTTP_DATE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$").ok()
});

/// Ids shorter than this are only replaced in id positions, never as words in free text.
const MIN_TOKEN_ID: usize = 8;

/// Keys of objects whose `value` member is a reference to another resource's id.
const REFERENCE_PARENTS: [&str; 5] = ["members", "groups", "manager", "operations", "value"];

/// Where a string sits, which decides the rules that apply to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot<'a> {
    /// A JSON string: the member name it is the value of (arrays pass theirs on to their
    /// elements) and the member name of the object holding it.
    Json {
        key: Option<&'a str>,
        parent: Option<&'a str>,
    },
    /// The request path and query.
    Path,
    /// A response header value; the name is lower-case.
    Header(&'a str),
    /// A body that is not JSON.
    Text,
}

impl Slot<'_> {
    pub(crate) fn holds_id(self) -> bool {
        let Slot::Json {
            key: Some(key),
            parent,
        } = self
        else {
            return false;
        };
        let key = key.to_ascii_lowercase();
        key == "id"
            || is_manager(&key)
            || (key == "value"
                && parent.is_some_and(|p| {
                    let p = p.to_ascii_lowercase();
                    is_manager(&p) || REFERENCE_PARENTS.contains(&p.as_str())
                }))
    }

    pub(crate) fn holds_version(self) -> bool {
        match self {
            Slot::Json {
                key: Some(key),
                parent: Some(parent),
            } => key.eq_ignore_ascii_case("version") && parent.eq_ignore_ascii_case("meta"),
            Slot::Header(name) => name == "etag",
            _ => false,
        }
    }

    fn may_be_timestamp(self) -> bool {
        matches!(self, Slot::Json { .. } | Slot::Header("retry-after"))
    }
}

/// `manager`, or an extension-qualified `urn:…:User:manager`, in lower case.
fn is_manager(key: &str) -> bool {
    key == "manager" || key.ends_with(":manager")
}

/// The compiled rules for one transcript.
pub(crate) struct Rules<'n> {
    normalizer: &'n Normalizer,
    ids: HashSet<String>,
    /// Learned ids long and opaque enough to be recognised inside free text.
    token_ids: HashSet<String>,
    generated: Option<Regex>,
}

impl<'n> Rules<'n> {
    pub(crate) fn new(normalizer: &'n Normalizer, learned: &[String]) -> Rules<'n> {
        // Ids are looked up in sets while scanning, never compiled into one pattern: a
        // response can teach hundreds of thousands of them.
        Rules {
            normalizer,
            ids: learned.iter().cloned().collect(),
            token_ids: learned.iter().filter(|id| is_opaque(id)).cloned().collect(),
            generated: alternation(normalizer.generated.iter()).and_then(|alt| compile(&alt, true)),
        }
    }

    /// Whether `raw` is a learned server id.
    pub(crate) fn is_id(&self, raw: &str) -> bool {
        self.ids.contains(raw)
    }

    /// Applies every string rule to `s`.
    pub(crate) fn string(&self, s: &str, slot: Slot, names: &mut Names) -> String {
        if slot.holds_id() && self.is_id(s) {
            return names.id(s);
        }
        if slot.holds_version() {
            return version(s);
        }
        if slot.may_be_timestamp() && is_timestamp(s) {
            return "[timestamp]".to_string();
        }
        let mut out = self.replace_generated(s, names);
        out = self.replace_base(&out);
        if looks_like_url(&out) {
            out = self.replace_segments(&out, names);
        }
        out = self.replace_quoted(&out, names);
        out = self.replace_tokens(&out, names);
        if let Some(prefix) = &self.normalizer.prefix {
            out = prefix.replace_all(&out, "[prefix]").into_owned();
        }
        self.normalizer.redactions.apply_patterns(&out)
    }

    /// An object member name: only values the run itself put there (generated uuids, the
    /// prefix) are replaced, e.g. a custom extension URN built from `{{uuid}}`.
    pub(crate) fn key(&self, k: &str, names: &mut Names) -> String {
        let mut out = self.replace_generated(k, names);
        if let Some(prefix) = &self.normalizer.prefix {
            out = prefix.replace_all(&out, "[prefix]").into_owned();
        }
        out
    }

    fn replace_generated(&self, s: &str, names: &mut Names) -> String {
        match &self.generated {
            Some(re) => re
                .replace_all(s, |c: &regex::Captures| names.uuid(&c[0]))
                .into_owned(),
            None => s.to_string(),
        }
    }

    /// The base only counts when a path separator, query or the end follows it.
    fn replace_base(&self, s: &str) -> String {
        let Some(re) = &self.normalizer.base else {
            return s.to_string();
        };
        replace_bounded(
            s,
            re,
            |_, next| matches!(next, None | Some('/' | '?' | '#')),
            |_| "[base]".to_string(),
        )
    }

    /// Replaces path segments (not the query) that are learned ids.
    fn replace_segments(&self, s: &str, names: &mut Names) -> String {
        let split = s.find(['?', '#']).unwrap_or(s.len());
        let (path, rest) = s.split_at(split);
        let segments: Vec<String> = path
            .split('/')
            .map(|seg| {
                if self.is_id(seg) {
                    names.id(seg)
                } else if seg.contains('%') && self.is_id(&percent_decode(seg)) {
                    names.id(&percent_decode(seg))
                } else {
                    seg.to_string()
                }
            })
            .collect();
        format!("{}{rest}", segments.join("/"))
    }

    /// `"<id>"` and `%22<id>%22`, as in `members[value eq "<id>"]` and filter queries.
    fn replace_quoted(&self, s: &str, names: &mut Names) -> String {
        if self.ids.is_empty() {
            return s.to_string();
        }
        let raw = self.replace_between(s, "\"", names);
        self.replace_between(&raw, "%22", names)
    }

    /// One left-to-right scan: each `quote … quote` whose inside is a learned id.
    fn replace_between(&self, s: &str, quote: &str, names: &mut Names) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(at) = rest.find(quote) {
            let inner_start = at + quote.len();
            let Some(len) = rest[inner_start..].find(quote) else {
                break;
            };
            let inner = &rest[inner_start..inner_start + len];
            if self.is_id(inner) {
                out.push_str(&rest[..inner_start]);
                out.push_str(&names.id(inner));
                out.push_str(quote);
                rest = &rest[inner_start + len + quote.len()..];
            } else {
                // The closing quote may open the next quoted value.
                out.push_str(&rest[..inner_start + len]);
                rest = &rest[inner_start + len..];
            }
        }
        out.push_str(rest);
        out
    }

    /// Long opaque ids inside free text (error details, non-JSON bodies), as whole words.
    fn replace_tokens(&self, s: &str, names: &mut Names) -> String {
        if self.token_ids.is_empty() {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut word_start = None;
        for (i, c) in s.char_indices().chain([(s.len(), ' ')]) {
            match (is_word_char(c), word_start) {
                (true, None) => word_start = Some(i),
                (false, Some(start)) => {
                    let word = &s[start..i];
                    if self.token_ids.contains(word) {
                        out.push_str(&names.id(word));
                    } else {
                        out.push_str(word);
                    }
                    word_start = None;
                }
                _ => {}
            }
            if !is_word_char(c) && i < s.len() {
                out.push(c);
            }
        }
        out
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_".contains(c)
}

/// An id that cannot be mistaken for a word or number: long, letters/digits/`-`/`_` only.
fn is_opaque(id: &str) -> bool {
    id.len() >= MIN_TOKEN_ID && id.chars().all(is_word_char)
}

/// A pattern matching any of `items` literally, longest first so none shadows a longer one.
fn alternation<'a>(items: impl Iterator<Item = &'a String>) -> Option<String> {
    let mut items: Vec<&String> = items.filter(|s| !s.is_empty()).collect();
    if items.is_empty() {
        return None;
    }
    items.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    Some(
        items
            .iter()
            .map(|s| regex::escape(s))
            .collect::<Vec<_>>()
            .join("|"),
    )
}

/// Compiles a generated pattern; these can be large when a scenario learns many ids.
fn compile(pattern: &str, case_insensitive: bool) -> Option<Regex> {
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(1 << 24)
        .build()
        .ok()
}

/// Replaces matches of `re` whose neighbouring characters satisfy `bounded`.
fn replace_bounded(
    s: &str,
    re: &Regex,
    bounded: impl Fn(Option<char>, Option<char>) -> bool,
    mut replace: impl FnMut(&str) -> String,
) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in re.find_iter(s) {
        let prev = s[..m.start()].chars().next_back();
        let next = s[m.end()..].chars().next();
        if bounded(prev, next) {
            out.push_str(&s[last..m.start()]);
            out.push_str(&replace(m.as_str()));
            last = m.end();
        }
    }
    out.push_str(&s[last..]);
    out
}

fn looks_like_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    s.starts_with('/')
        || s.starts_with("[base]")
        || lower.starts_with("http://")
        || lower.starts_with("https://")
}

pub(crate) fn is_timestamp(s: &str) -> bool {
    let matches = |re: &LazyLock<Option<Regex>>| re.as_ref().is_some_and(|re| re.is_match(s));
    matches(&TIMESTAMP) || matches(&HTTP_DATE)
}

/// `[version]` in the shape of the original: weak marker and quotes kept, since an unquoted
/// ETag is itself a finding.
pub(crate) fn version(s: &str) -> String {
    let (weak, tag) = match s.strip_prefix("W/") {
        Some(rest) => ("W/", rest),
        None => ("", s),
    };
    if tag.len() >= 2 && tag.starts_with('"') && tag.ends_with('"') {
        format!("{weak}\"[version]\"")
    } else {
        format!("{weak}[version]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Redactions;

    const UUID: &str = "6f1d2c3b-0000-4000-8000-00000000abcd";

    fn normalizer() -> Normalizer {
        Normalizer::new("http://127.0.0.1:41234/scim/", "scimreplay-7f3a2c-")
            .with_generated(["0b6f1c1e-0000-4000-8000-000000000001"])
    }

    fn learned() -> Vec<String> {
        vec![UUID.to_string(), "42".to_string()]
    }

    fn json<'a>(key: &'a str, parent: Option<&'a str>) -> Slot<'a> {
        Slot::Json {
            key: Some(key),
            parent,
        }
    }

    #[test]
    fn ids_in_id_valued_members_only() {
        let n = normalizer();
        let rules = Rules::new(&n, &learned());
        let mut names = Names::new();
        assert_eq!(rules.string(UUID, json("id", None), &mut names), "[id:1]");
        assert_eq!(rules.string("42", json("id", None), &mut names), "[id:2]");
        assert_eq!(
            rules.string("42", json("value", Some("members")), &mut names),
            "[id:2]"
        );
        assert_eq!(
            rules.string("42", json("Value", Some("Manager")), &mut names),
            "[id:2]"
        );
        let urn_manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        assert_eq!(
            rules.string("42", json(urn_manager, Some("value")), &mut names),
            "[id:2]"
        );
        assert_eq!(
            rules.string("42", json("value", Some("Operations")), &mut names),
            "[id:2]"
        );
        // The same text is data elsewhere.
        assert_eq!(
            rules.string("42", json("value", Some("emails")), &mut names),
            "42"
        );
        assert_eq!(
            rules.string("42", json("employeeNumber", None), &mut names),
            "42"
        );
        assert_eq!(
            rules.string("a 42 b", json("detail", None), &mut names),
            "a 42 b"
        );
    }

    #[test]
    fn ids_in_urls_paths_and_quoted_filters() {
        let n = normalizer();
        let rules = Rules::new(&n, &learned());
        let mut names = Names::new();
        let reference = format!("http://127.0.0.1:41234/scim/Users/{UUID}");
        assert_eq!(
            rules.string(&reference, json("$ref", None), &mut names),
            "[base]/Users/[id:1]"
        );
        assert_eq!(
            rules.string("/Users/42", Slot::Path, &mut names),
            "/Users/[id:2]"
        );
        assert_eq!(
            rules.string(
                "/Users/42?filter=id+eq+%2242%22&count=42",
                Slot::Path,
                &mut names
            ),
            "/Users/[id:2]?filter=id+eq+%22[id:2]%22&count=42"
        );
        assert_eq!(
            rules.string(r#"members[value eq "42"]"#, json("path", None), &mut names),
            r#"members[value eq "[id:2]"]"#
        );
        assert_eq!(
            rules.string(
                "https://other.example/v2/Groups/42",
                json("location", Some("meta")),
                &mut names
            ),
            "https://other.example/v2/Groups/[id:2]"
        );
        // A segment that merely contains the id is something else.
        assert_eq!(
            rules.string("/Users/420", Slot::Path, &mut names),
            "/Users/420"
        );
    }

    #[test]
    fn long_opaque_ids_are_replaced_as_words_in_free_text() {
        let n = normalizer();
        let rules = Rules::new(&n, &learned());
        let mut names = Names::new();
        let detail = format!("Resource {UUID} not found; 42 retries");
        assert_eq!(
            rules.string(&detail, json("detail", None), &mut names),
            "Resource [id:1] not found; 42 retries"
        );
        let glued = format!("x{UUID}");
        assert_eq!(rules.string(&glued, Slot::Text, &mut names), glued);
    }

    #[test]
    fn generated_values_base_and_prefix() {
        let n = normalizer();
        let rules = Rules::new(&n, &[]);
        let mut names = Names::new();
        assert_eq!(
            rules.string(
                "0B6F1C1E-0000-4000-8000-000000000001",
                json("externalId", None),
                &mut names
            ),
            "[uuid:1]"
        );
        assert_eq!(
            rules.string(
                "SCIMREPLAY-7F3A2C-alice@example.com",
                json("userName", None),
                &mut names
            ),
            "[prefix]alice@example.com"
        );
        assert_eq!(
            rules.string("http://127.0.0.1:41234/SCIM?x", json("a", None), &mut names),
            "[base]?x"
        );
        // A longer path that only starts like the base is not the base.
        assert_eq!(
            rules.string(
                "http://127.0.0.1:41234/scimv2/Users",
                json("a", None),
                &mut names
            ),
            "http://127.0.0.1:41234/scimv2/Users"
        );
    }

    #[test]
    fn timestamps_are_whole_string_date_times() {
        let n = normalizer();
        let rules = Rules::new(&n, &[]);
        let mut names = Names::new();
        for ts in [
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.1234567+02:00",
            "2024-01-01 10:11:12",
            "2024-01-01T10:11",
            "Wed, 21 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(
                rules.string(ts, json("created", Some("meta")), &mut names),
                "[timestamp]",
                "{ts}"
            );
        }
        for kept in [
            "1990-01-01",
            "born 2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00Zx",
        ] {
            assert_eq!(rules.string(kept, json("x", None), &mut names), kept);
        }
        assert_eq!(
            rules.string(
                "Wed, 21 Oct 2015 07:28:00 GMT",
                Slot::Header("retry-after"),
                &mut names
            ),
            "[timestamp]"
        );
        assert_eq!(
            rules.string("2024-01-01T00:00:00Z", Slot::Path, &mut names),
            "2024-01-01T00:00:00Z"
        );
    }

    #[test]
    fn versions_keep_their_shape() {
        assert_eq!(version(r#"W/"3694e05e9dff590""#), r#"W/"[version]""#);
        assert_eq!(version(r#""17""#), r#""[version]""#);
        assert_eq!(version("17"), "[version]");
        let n = normalizer();
        let rules = Rules::new(&n, &[]);
        let mut names = Names::new();
        assert_eq!(
            rules.string(r#"W/"a""#, Slot::Header("etag"), &mut names),
            r#"W/"[version]""#
        );
        assert_eq!(
            rules.string("v9", json("version", Some("meta")), &mut names),
            "[version]"
        );
        assert_eq!(rules.string("v9", json("version", None), &mut names), "v9");
    }

    #[test]
    fn patterns_apply_to_normalized_text() {
        let mut r = Redactions::new();
        r.add_pattern(r"\[prefix\]\w+").unwrap();
        let n = normalizer().with_redactions(&r);
        let rules = Rules::new(&n, &[]);
        let mut names = Names::new();
        assert_eq!(
            rules.string(
                "scimreplay-7f3a2c-alice@example.com",
                json("userName", None),
                &mut names
            ),
            "[redacted]@example.com"
        );
    }

    #[test]
    fn percent_encoded_segments_match_ids() {
        let n = normalizer();
        let ids = vec!["a@b".to_string()];
        let rules = Rules::new(&n, &ids);
        let mut names = Names::new();
        assert_eq!(
            rules.string("/Users/a%40b", Slot::Path, &mut names),
            "/Users/[id:1]"
        );
    }
}
