//! Measures the reference endpoint at scale: 100 000 users, 1 000 groups and 100 000
//! memberships, driven in-process through the router. Prints the median latency of the
//! requests Entra sends (lookups, member changes, list pages) at 1 % of the size and at
//! full size, so a slowdown with size shows as a ratio. Deletes remove users made for the
//! purpose (each in one group), so the measured world stays as filled.
//!
//! `cargo run --release --example reference_scale` (figures: docs/performance.md).

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request};
use serde_json::{Value, json};
use tower::ServiceExt;

const TOKEN: &str = "scale-token";

async fn call(app: &Router, method: Method, uri: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"));
    if body.is_some() {
        request = request.header("content-type", "application/scim+json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let Ok(request) = request.body(body) else {
        return (0, Value::Null);
    };
    let Ok(response) = app.clone().oneshot(request).await;
    let status = response.status().as_u16();
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

struct World {
    users: Vec<String>,
    groups: Vec<String>,
}

async fn grow(app: &Router, world: &mut World, users: usize, groups: usize) {
    while world.users.len() < users {
        let i = world.users.len();
        let body = json!({"userName": format!("user{i}@example.com"), "active": true,
            "emails": [{"value": format!("user{i}@example.com"), "type": "work", "primary": true}]});
        let (_, created) = call(app, Method::POST, "/scim/v2/Users", Some(body)).await;
        world
            .users
            .push(created["id"].as_str().unwrap_or_default().to_string());
    }
    while world.groups.len() < groups {
        let g = world.groups.len();
        let body = json!({"displayName": format!("group{g}")});
        let (_, created) = call(app, Method::POST, "/scim/v2/Groups", Some(body)).await;
        let id = created["id"].as_str().unwrap_or_default().to_string();
        // 100 members per group: 100 000 memberships over 1 000 groups.
        let members: Vec<Value> = (0..100)
            .map(|k| json!({"value": world.users[(g * 100 + k) % world.users.len()]}))
            .collect();
        let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Add", "path": "members", "value": members}]});
        call(
            app,
            Method::PATCH,
            &format!("/scim/v2/Groups/{id}"),
            Some(ops),
        )
        .await;
        world.groups.push(id);
    }
}

async fn median(
    app: &Router,
    runs: usize,
    mut one: impl FnMut(usize) -> (Method, String, Option<Value>),
) -> Duration {
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let (method, uri, body) = one(i);
        let started = Instant::now();
        call(app, method, &uri, body).await;
        times.push(started.elapsed());
    }
    times.sort();
    times[runs / 2]
}

fn patch(op: &str, user: &str) -> Option<Value> {
    let path = if op == "remove" {
        format!("members[value eq \"{user}\"]")
    } else {
        "members".to_string()
    };
    let mut operation = json!({"op": op, "path": path});
    if op != "remove" {
        operation["value"] = json!([{"value": user}]);
    }
    Some(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]}),
    )
}

/// Creates `n` users named after `tag`, each added to one group, to be deleted (timed).
async fn doomed(app: &Router, world: &World, tag: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let body = json!({"userName": format!("{tag}{i}@example.com"), "active": true});
        let (_, created) = call(app, Method::POST, "/scim/v2/Users", Some(body)).await;
        let id = created["id"].as_str().unwrap_or_default().to_string();
        let group = &world.groups[(i * 31) % world.groups.len()];
        call(
            app,
            Method::PATCH,
            &format!("/scim/v2/Groups/{group}"),
            patch("add", &id),
        )
        .await;
        ids.push(id);
    }
    ids
}

async fn measure(app: &Router, world: &World, tag: &str) -> Vec<(&'static str, Duration)> {
    let (u, g) = (&world.users, &world.groups);
    let n = 200;
    let doomed = doomed(app, world, tag, n).await;
    let last = u.len() + doomed.len();
    vec![
        ("GET user by userName filter", median(app, n, |i| {
            (Method::GET, format!("/scim/v2/Users?filter=userName+eq+%22user{}%40example.com%22", (i * 7919) % u.len()), None)
        }).await),
        ("GET user by id", median(app, n, |i| (Method::GET, format!("/scim/v2/Users/{}", u[(i * 7919) % u.len()]), None)).await),
        ("GET group by displayName, members excluded", median(app, n, |i| {
            (Method::GET, format!("/scim/v2/Groups?filter=displayName+eq+%22group{}%22&excludedAttributes=members", (i * 31) % g.len()), None)
        }).await),
        ("PATCH group: add one member", median(app, n, |i| {
            (Method::PATCH, format!("/scim/v2/Groups/{}", g[i % g.len()]), patch("add", &u[(i * 7919 + 13) % u.len()]))
        }).await),
        ("PATCH group: remove one member (filter path)", median(app, n, |i| {
            (Method::PATCH, format!("/scim/v2/Groups/{}", g[i % g.len()]), patch("remove", &u[(i * 7919 + 13) % u.len()]))
        }).await),
        ("PATCH user: replace displayName", median(app, n, |i| {
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "displayName", "value": format!("n{i}")}]});
            (Method::PATCH, format!("/scim/v2/Users/{}", u[(i * 7919) % u.len()]), Some(body))
        }).await),
        ("GET /Users page (count=100)", median(app, 20, |i| (Method::GET, format!("/scim/v2/Users?startIndex={}&count=100", i * 100 + 1), None)).await),
        ("GET /Users last pages (count=100)", median(app, 20, |i| {
            (Method::GET, format!("/scim/v2/Users?startIndex={}&count=100", last.saturating_sub(100 * (i + 1)) + 1), None)
        }).await),
        ("GET /Groups page (count=100), members excluded", median(app, 20, |i| {
            (Method::GET, format!("/scim/v2/Groups?startIndex={}&count=100&excludedAttributes=members", (i % 10) * 100 % g.len() + 1), None)
        }).await),
        ("GET /Users filter userName sw (count=10; not indexed: scans)", median(app, 20, |i| {
            (Method::GET, format!("/scim/v2/Users?filter=userName+sw+%22user{i}9%22&count=10"), None)
        }).await),
        ("DELETE user (member of one group)", median(app, n, |i| {
            (Method::DELETE, format!("/scim/v2/Users/{}", doomed[i]), None)
        }).await),
    ]
}

#[tokio::main]
async fn main() {
    let app = scimreplay::reference::router(scimreplay::reference::ServerConfig::new(TOKEN));
    let mut world = World {
        users: Vec::new(),
        groups: Vec::new(),
    };
    let started = Instant::now();
    grow(&app, &mut world, 1_000, 10).await;
    let small = measure(&app, &world, "small").await;
    grow(&app, &mut world, 100_000, 1_000).await;
    println!(
        "filled to 100 000 users, 1 000 groups, 100 000 memberships in {:.1?}",
        started.elapsed()
    );
    let large = measure(&app, &world, "large").await;
    println!("| request | 1 k users, 10 groups | 100 k users, 1 k groups | ratio |");
    println!("| --- | --- | --- | --- |");
    for ((name, a), (_, b)) in small.iter().zip(&large) {
        let ratio = b.as_secs_f64() / a.as_secs_f64().max(1e-9);
        println!("| {name} | {a:.1?} | {b:.1?} | {ratio:.1}× |");
    }
}
