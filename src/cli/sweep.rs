//! `scimreplay cleanup`: finish the ledgers of interrupted runs, or sweep by run prefix.

use super::args::CleanupArgs;
use super::output::Out;
use crate::exit::Outcome;
use crate::http::{Client, ClientOptions, OutgoingRequest, Secret, Target};
use crate::run::cleanup::delete_all;
use crate::run::interrupt::Interrupt;
use crate::run::ledger::{self, Entry};
use crate::scenario::model::{AuthMode, Method, QueryStyle};
use serde_json::Value;
use std::io::Write;

/// Every prefix a sweep accepts starts with this, so a sweep can never match real users.
pub const PREFIX_ROOT: &str = "scimreplay-";

/// Deletes what unfinished ledgers still list.
pub async fn finish_ledgers(
    args: &CleanupArgs,
    token: Secret,
    options: ClientOptions,
    mut out: Out,
    mut err: Out,
) -> Outcome {
    if args.target.is_some() && args.ledger.is_none() {
        let _ = writeln!(
            err,
            "error: --target applies to one ledger: add --ledger FILE (each ledger records the \
             endpoint it belongs to, and its ids mean nothing on another one)"
        );
        return Outcome::InvalidInput;
    }
    let files = match &args.ledger {
        Some(file) => vec![file.clone()],
        None => ledger::list(&args.state_dir.join("ledgers")),
    };
    if files.is_empty() {
        let _ = writeln!(
            out,
            "no ledgers under {}; nothing to clean up",
            args.state_dir.join("ledgers").display()
        );
        return Outcome::Passed;
    }
    // Here there is no run to wind down: the first signal stops cleanup, mid-DELETE included.
    let interrupt = Interrupt::new();
    {
        let interrupt = std::sync::Arc::clone(&interrupt);
        tokio::spawn(async move {
            crate::run::interrupt::stop_signal().await;
            eprintln!("\nscimreplay: cleanup stopped; the ledger keeps what is left");
            interrupt.raise();
            interrupt.raise();
        });
    }
    let mut outcome = Outcome::Passed;
    for file in files {
        let saved = match ledger::read(&file) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                outcome = outcome.worst(Outcome::InvalidInput);
                continue;
            }
        };
        if saved.outstanding.is_empty() {
            if args.ledger.is_some() {
                let _ = writeln!(out, "{}: nothing left to delete", file.display());
            }
            continue;
        }
        let target_url = args.target.clone().unwrap_or_else(|| saved.target.clone());
        let target = match Target::parse(&target_url) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(err, "error: {}: {e}", file.display());
                outcome = outcome.worst(Outcome::InvalidInput);
                continue;
            }
        };
        let client = match Client::new(target, Some(token.clone()), options.clone()) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return Outcome::InvalidInput;
            }
        };
        let live = match ledger::reopen(&saved) {
            Ok(l) => l,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                outcome = outcome.worst(Outcome::EndpointOrHarness);
                continue;
            }
        };
        let _ = writeln!(
            out,
            "{}: run {} against {}: deleting {} object(s)",
            file.display(),
            saved.run_id,
            saved.target,
            saved.outstanding.len()
        );
        let report = delete_all(&client, &live, &saved.outstanding, &interrupt).await;
        for path in &report.deleted {
            let _ = writeln!(out, "  deleted {path}");
        }
        for path in &report.already_gone {
            let _ = writeln!(out, "  already gone {path}");
        }
        for left in &report.left_behind {
            let _ = writeln!(out, "  LEFT {}: {}", left.path, left.reason);
        }
        if report.left_behind.is_empty() {
            let _ = live.append(&Entry::Closed);
        } else {
            outcome = outcome.worst(Outcome::CleanupIncomplete);
            let _ = writeln!(
                out,
                "  {} object(s) remain; run `scimreplay cleanup --ledger {}` again once the endpoint answers",
                report.left_behind.len(),
                crate::report::curl::shell_word(&file.display().to_string())
            );
        }
    }
    outcome
}

/// One object found by a sweep.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
    pub path: String,
    pub name: String,
}

/// Lists (and with `delete`, removes) users and groups whose name starts with `prefix`.
pub async fn sweep(
    client: &Client,
    prefix: &str,
    delete: bool,
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
    let mut found = Vec::new();
    for (collection, name_attr) in [("Users", "userName"), ("Groups", "displayName")] {
        match list_matching(client, collection, name_attr, prefix).await {
            Ok(mut f) => found.append(&mut f),
            Err(e) => {
                let _ = writeln!(err, "error: listing /{collection} failed: {e}");
                return Outcome::EndpointOrHarness;
            }
        }
    }
    if found.is_empty() {
        let _ = writeln!(
            out,
            "no users or groups named `{prefix}*` at {}",
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
            let _ = writeln!(out, "  {}  {}", f.path, f.name);
        }
        let _ = writeln!(out, "dry run: nothing deleted; add --yes to delete them");
        return Outcome::Passed;
    }
    // Groups first: they reference users.
    found.sort_by_key(|f| !f.path.starts_with("/Groups"));
    let mut left = 0;
    for f in &found {
        let exchange = client.send(&request(Method::Delete, &f.path, vec![])).await;
        match (&exchange.response, &exchange.fault) {
            (Some(r), None) if (200..300).contains(&r.status) || r.status == 404 => {
                let _ = writeln!(out, "  deleted {}  {}", f.path, f.name);
            }
            (Some(r), _) => {
                left += 1;
                let _ = writeln!(
                    out,
                    "  LEFT {}  {}: DELETE answered {}",
                    f.path, f.name, r.status
                );
            }
            (None, fault) => {
                left += 1;
                let why = fault
                    .as_ref()
                    .map(|f| f.message.as_str())
                    .unwrap_or("no answer");
                let _ = writeln!(out, "  LEFT {}  {}: {why}", f.path, f.name);
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
            if !crate::run::guard::safe_segment(&id) {
                return None;
            }
            let name = r.get(name_attr)?.as_str()?;
            name.to_lowercase().starts_with(&prefix).then(|| Found {
                path: format!("/{collection}/{id}"),
                name: name.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_names_with_the_prefix_match() {
        let resources = vec![
            json!({"id": "1", "userName": "scimreplay-abc123-alice@example.com"}),
            json!({"id": "2", "userName": "alice@example.com"}),
            json!({"id": "3", "userName": "SCIMREPLAY-ABC123-bob"}),
            json!({"id": "4", "userName": "x-scimreplay-abc123-eve"}),
            json!({"userName": "scimreplay-abc123-noid"}),
        ];
        let found = matching(&resources, "Users", "userName", "scimreplay-abc123-");
        let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, vec!["/Users/1", "/Users/3"]);
    }
}
