//! Foreign data is never touched: an endpoint seeded with users and groups named like the
//! catalogue's own (without the run prefix) holds them byte for byte unchanged after the whole
//! catalogue ran against it — with a compatible endpoint, and with one whose deliberate faults
//! make many steps fail.

use crate::support::{TOKEN, TempDir, cli, list_resources};
use scimreplay::reference::{self, Faults, ServerConfig};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Names the catalogue gives the objects it creates, without the run prefix: the likeliest
/// names for a careless harness to collide with. `(users, groups)`.
fn scenario_names() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut users = BTreeSet::from(["alice@example.com".to_string()]);
    let mut groups = BTreeSet::from(["Sales".to_string()]);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    for file in json_files(std::path::Path::new(root)) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(scenario) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let domain = scenario["vars"]["domain"]
            .as_str()
            .unwrap_or("example.com")
            .to_string();
        collect(&scenario, &domain, &mut users, &mut groups);
    }
    (users, groups)
}

fn json_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out
}

/// Walks a scenario for `userName` / group `displayName` templates built on the run prefix.
fn collect(
    value: &Value,
    domain: &str,
    users: &mut BTreeSet<String>,
    groups: &mut BTreeSet<String>,
) {
    let plain = |v: &Value| {
        let text = v.as_str()?;
        if !text.contains("{{run.prefix}}") {
            return None;
        }
        let name = text
            .replace("{{run.prefix}}", "")
            .replace("{{domain}}", domain);
        (!name.contains("{{") && !name.trim().is_empty()).then_some(name)
    };
    match value {
        Value::Object(map) => {
            if let Some(name) = map.get("userName").and_then(plain) {
                users.insert(name);
            } else if let Some(name) = map.get("displayName").and_then(plain) {
                groups.insert(name);
            }
            for v in map.values() {
                collect(v, domain, users, groups);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, domain, users, groups)),
        _ => {}
    }
}

/// The seeded objects: their paths, in creation order.
async fn seed(http: &reqwest::Client, base: &str) -> Vec<String> {
    let (users, groups) = scenario_names();
    assert!(users.len() > 20 && groups.len() > 5, "{users:?} {groups:?}");
    let mut paths = Vec::new();
    let mut user_ids = Vec::new();
    for (n, name) in users.iter().enumerate() {
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name, "externalId": format!("seed-{n}"), "active": true,
            "displayName": "Alice Smith",
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "emails": [{"value": name, "type": "work", "primary": true}]});
        let created = post(http, &format!("{base}/Users"), &body).await;
        user_ids.push(created["id"].as_str().unwrap().to_string());
    }
    for (n, name) in groups.iter().enumerate() {
        let members: Vec<Value> = user_ids
            .iter()
            .skip(n % 3)
            .step_by(3)
            .take(4)
            .map(|id| json!({"value": id}))
            .collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name, "externalId": format!("seed-group-{n}"), "members": members});
        let created = post(http, &format!("{base}/Groups"), &body).await;
        paths.push(format!("/Groups/{}", created["id"].as_str().unwrap()));
    }
    paths.extend(user_ids.iter().map(|id| format!("/Users/{id}")));
    paths
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    let response = http
        .post(url)
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "seeding {body}");
    response.json().await.unwrap()
}

/// The exact bytes a GET of each path returns.
async fn fetch_all(
    http: &reqwest::Client,
    base: &str,
    paths: &[String],
) -> Vec<(String, u16, Vec<u8>)> {
    let mut out = Vec::new();
    for path in paths {
        let response = http
            .get(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        out.push((
            path.clone(),
            status,
            response.bytes().await.unwrap().to_vec(),
        ));
    }
    out
}

/// Ids of every user and group the endpoint holds.
async fn all_paths(http: &reqwest::Client, base: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for collection in ["Users", "Groups"] {
        for r in list_resources(http, base, collection).await {
            paths.insert(format!("/{collection}/{}", r["id"].as_str().unwrap()));
        }
    }
    paths
}

/// Seeds an endpoint with `faults`, runs the whole catalogue against it, and proves the seeded
/// objects unchanged and nothing else left behind.
async fn catalogue_leaves_seeded_objects_alone(faults: &str) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServerConfig {
        faults: Faults::parse_list(faults).unwrap(),
        ..ServerConfig::new(TOKEN)
    };
    let server = reference::spawn(listener, config).await.unwrap();
    let base = server.base_url();
    let http = reqwest::Client::new();
    let seeded = seed(&http, &base).await;
    let before = fetch_all(&http, &base, &seeded).await;

    let dir = TempDir::new("foreign");
    let report = dir.path().join("r.json");
    let run = cli(&[
        "run",
        "--target",
        &base,
        "--no-snapshots",
        "--json",
        report.to_str().unwrap(),
        "--state-dir",
        dir.path().join("state").to_str().unwrap(),
    ])
    .await;
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(
        report["summary"]["steps"].as_u64().unwrap() > 300,
        "the whole catalogue ran"
    );
    if !faults.is_empty() {
        assert!(
            report["summary"]["failed"].as_u64().unwrap() > 0,
            "the faults made steps fail:\n{}",
            run.stdout
        );
    }

    let after = fetch_all(&http, &base, &seeded).await;
    for ((path, status, bytes), (_, status_after, bytes_after)) in before.iter().zip(&after) {
        assert_eq!(*status, 200, "{path} existed");
        assert_eq!(status_after, status, "{path} still exists");
        assert!(
            bytes == bytes_after,
            "{path} changed:\nbefore {}\nafter  {}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(bytes_after)
        );
    }
    let seeded: BTreeSet<String> = seeded.into_iter().collect();
    let extra: Vec<String> = all_paths(&http, &base)
        .await
        .difference(&seeded)
        .cloned()
        .collect();
    assert!(
        extra.is_empty(),
        "the run left objects behind ({faults}): {extra:?}\n{}",
        run.stdout
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compatible_endpoint_keeps_its_own_objects() {
    catalogue_leaves_seeded_objects_alone("").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_endpoint_keeps_its_own_objects_while_steps_fail() {
    let all: Vec<&str> = scimreplay::reference::FAULTS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    catalogue_leaves_seeded_objects_alone(&all.join(",")).await;
}
