//! `scimreplay cleanup --prefix`: sweep an endpoint for objects named with a run prefix.

use super::output::Out;
use crate::escape;
use crate::exit::Outcome;
use crate::http::{Client, OutgoingRequest};
use crate::run::cleanup::{Deletion, delete_one};
use crate::scenario::model::{AuthMode, Method, QueryStyle};
use serde_json::Value;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Every prefix a sweep accepts starts with this, so a sweep can never match real users.
pub const PREFIX_ROOT: &str = "scimreplay-";

/// One object found by a sweep.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
    pub path: String,
    pub name: String,
    /// `meta.created`, in seconds since the Unix epoch, when the endpoint gave one.
    pub created: Option<i64>,
}

/// Lists (and with `delete`, removes) users and groups whose name starts with `prefix` and
/// that are at least `min_age` old: younger objects (or objects whose age the endpoint does
/// not say, unless `min_age` is zero) may belong to a run still in progress elsewhere.
pub async fn sweep(
    client: &Client,
    prefix: &str,
    delete: bool,
    min_age: Duration,
    mut out: Out,
    mut err: Out,
) -> Outcome {
    if !prefix.starts_with(PREFIX_ROOT) || prefix.len() < PREFIX_ROOT.len() {
        let _ = writeln!(
            err,
            "error: --prefix must start with `{PREFIX_ROOT}` (the namespace every run's objects carry), \
             so that a sweep can never match objects the harness did not create"
        );
        return Outcome::InvalidInput;
    }
    let mut found: Vec<Found> = Vec::new();
    for (collection, name_attr) in [("Users", "userName"), ("Groups", "displayName")] {
        match list_matching(client, collection, name_attr, prefix).await {
            Ok(mut f) => found.append(&mut f),
            Err(e) => {
                let _ = writeln!(err, "error: listing /{collection} failed: {e}");
                return Outcome::EndpointOrHarness;
            }
        }
    }
    let (mut found, kept) = old_enough(found, min_age, SystemTime::now());
    for (f, why) in &kept {
        let _ = writeln!(out, "  kept {}  {}: {why}", f.path, escape::line(&f.name));
    }
    if found.is_empty() {
        let _ = writeln!(
            out,
            "no users or groups named `{prefix}*` at {} old enough to sweep",
            client.target().display()
        );
        return Outcome::Passed;
    }
    let _ = writeln!(
        out,
        "{} object(s) named `{prefix}*` at {}:",
        found.len(),
        client.target().display()
    );
    if !delete {
        for f in &found {
            let _ = writeln!(out, "  {}  {}", f.path, escape::line(&f.name));
        }
        let _ = writeln!(out, "dry run: nothing deleted; add --yes to delete them");
        return Outcome::Passed;
    }
    // Groups first: they reference users.
    found.sort_by_key(|f| !f.path.starts_with("/Groups"));
    let mut left = 0;
    for f in &found {
        let name = escape::line(&f.name);
        match delete_one(client, &f.path).await {
            Deletion::Deleted | Deletion::AlreadyGone => {
                let _ = writeln!(out, "  deleted {}  {name}", f.path);
            }
            Deletion::Left(why) => {
                left += 1;
                let _ = writeln!(out, "  LEFT {}  {name}: {why}", f.path);
            }
        }
    }
    if left > 0 {
        Outcome::CleanupIncomplete
    } else {
        Outcome::Passed
    }
}

fn request(method: Method, path: &str, query: Vec<(String, String)>) -> OutgoingRequest {
    OutgoingRequest {
        method,
        path: path.to_string(),
        query,
        query_style: QueryStyle::Entra,
        headers: Vec::new(),
        auth: AuthMode::Token,
        body: None,
    }
}

/// Pages through a collection (RFC 7644 §3.4.2.4) and keeps names starting with `prefix`.
async fn list_matching(
    client: &Client,
    collection: &str,
    name_attr: &str,
    prefix: &str,
) -> Result<Vec<Found>, String> {
    const PAGE: usize = 100;
    const MAX_PAGES: usize = 1000;
    let mut found: Vec<Found> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut start = 1usize;
    for _ in 0..MAX_PAGES {
        let query = vec![
            ("startIndex".to_string(), start.to_string()),
            ("count".to_string(), PAGE.to_string()),
        ];
        let exchange = client
            .send(&request(Method::Get, &format!("/{collection}"), query))
            .await;
        let response = match (exchange.response, exchange.fault) {
            (_, Some(f)) => return Err(f.message),
            (Some(r), None) if r.status == 200 => r,
            (Some(r), None) => return Err(format!("answered {}", r.status)),
            (None, None) => return Err("no answer".into()),
        };
        let body = response.json.ok_or("the answer is not JSON")?;
        let resources = body
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // An endpoint that ignores startIndex serves the same page again: stop there rather
        // than list (and later delete) the same objects twice.
        let fresh = resources
            .iter()
            .filter_map(|r| r.get("id").map(Value::to_string))
            .filter(|id| seen.insert(id.clone()))
            .count();
        if fresh == 0 {
            return Ok(found);
        }
        for f in matching(&resources, collection, name_attr, prefix) {
            if !found.iter().any(|g| g.path == f.path) {
                found.push(f);
            }
        }
        let total = body
            .get("totalResults")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        if resources.is_empty() || start - 1 + resources.len() >= total {
            return Ok(found);
        }
        start += resources.len();
    }
    Ok(found)
}

/// Splits what a sweep found into objects at least `min_age` old and the others, each with
/// why it is kept.
fn old_enough(
    found: Vec<Found>,
    min_age: Duration,
    now: SystemTime,
) -> (Vec<Found>, Vec<(Found, String)>) {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let minutes = min_age.as_secs() / 60;
    let mut sweep = Vec::new();
    let mut kept = Vec::new();
    for f in found {
        if min_age.is_zero() {
            sweep.push(f);
            continue;
        }
        let why = match f.created {
            Some(created) if now.saturating_sub(created) >= min_age.as_secs() as i64 => {
                sweep.push(f);
                continue;
            }
            Some(created) => format!(
                "created {} min ago, under --min-age {minutes}; a run may still be using it",
                now.saturating_sub(created).max(0) / 60
            ),
            None => "no meta.created, so its age is unknown; --min-age 0 includes it (only when \
                     no run is in progress)"
                .to_string(),
        };
        kept.push((f, why));
    }
    (sweep, kept)
}

/// The resources whose name starts with `prefix` (case-insensitively: endpoints may lower-case).
pub fn matching(
    resources: &[Value],
    collection: &str,
    name_attr: &str,
    prefix: &str,
) -> Vec<Found> {
    let prefix = prefix.to_lowercase();
    resources
        .iter()
        .filter_map(|r| {
            let id = crate::run::track::id_of(r)?;
            if !crate::run::guard::safe_id(&id) {
                return None;
            }
            let name = r.get(name_attr)?.as_str()?;
            let created = r
                .get("meta")
                .and_then(|m| m.get("created"))
                .and_then(Value::as_str)
                .and_then(crate::civil::parse_rfc3339);
            name.to_lowercase().starts_with(&prefix).then(|| Found {
                path: format!("/{collection}/{id}"),
                name: name.to_string(),
                created,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn found(path: &str, created: Option<i64>) -> Found {
        Found {
            path: path.into(),
            name: "scimreplay-abc123-x".into(),
            created,
        }
    }

    #[test]
    fn objects_younger_than_the_minimum_age_or_of_unknown_age_are_kept() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let all = || {
            vec![
                found("/Users/old", Some(1_000_000 - 7200)),
                found("/Users/young", Some(1_000_000 - 60)),
                found("/Users/unknown", None),
            ]
        };
        let (sweep, kept) = old_enough(all(), Duration::from_secs(3600), now);
        assert_eq!(sweep, vec![found("/Users/old", Some(1_000_000 - 7200))]);
        let reasons: Vec<&str> = kept.iter().map(|(_, why)| why.as_str()).collect();
        assert!(reasons[0].contains("created 1 min ago"), "{reasons:?}");
        assert!(reasons[1].contains("age is unknown"), "{reasons:?}");
        let (sweep, kept) = old_enough(all(), Duration::ZERO, now);
        assert_eq!((sweep.len(), kept.len()), (3, 0));
    }

    #[test]
    fn created_comes_from_meta() {
        let r = vec![json!({"id": "1", "userName": "scimreplay-abc123-a",
            "meta": {"created": "1970-01-01T01:00:00Z"}})];
        assert_eq!(
            matching(&r, "Users", "userName", "scimreplay-")[0].created,
            Some(3600)
        );
    }

    #[test]
    fn only_names_with_the_prefix_match() {
        let resources = vec![
            json!({"id": "1", "userName": "scimreplay-abc123-alice@example.com"}),
            json!({"id": "2", "userName": "alice@example.com"}),
            json!({"id": "3", "userName": "SCIMREPLAY-ABC123-bob"}),
            json!({"id": "4", "userName": "x-scimreplay-abc123-eve"}),
            json!({"userName": "scimreplay-abc123-noid"}),
            json!({"id": "victim\n", "userName": "scimreplay-abc123-nl"}),
            json!({"id": "%76ictim", "userName": "scimreplay-abc123-pct"}),
            json!({"id": ".\t.", "userName": "scimreplay-abc123-dots"}),
            json!({"id": "v;x", "userName": "scimreplay-abc123-param"}),
        ];
        let found = matching(&resources, "Users", "userName", "scimreplay-abc123-");
        let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, vec!["/Users/1", "/Users/3"]);
    }
}
