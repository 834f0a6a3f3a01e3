//! Hostile input, on stable Rust: the fuzz targets' invariants (`fuzz/src/invariants.rs`)
//! over a few thousand deterministic mutations of the catalogue, of templates and of bodies.
//!
//! A small xorshift generator with fixed seeds keeps every run identical, so a failure here
//! reproduces; cargo-fuzz explores the same invariants far longer (see `docs/fuzzing.md`).

#[path = "../../fuzz/src/invariants.rs"]
mod invariants;

use serde_json::{Value, json};

/// xorshift64*: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fragments that tend to matter to a JSON loader and a template engine.
const TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{{{{",
    "{{run.prefix}}",
    "{{ uuid }}",
    "{{a-b.c}}",
    "{{ }}",
    "{{é}}",
    "\"",
    "\\",
    "\\u0000",
    "\\ud800",
    "\\n",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "null",
    "true",
    "1e999",
    "-0",
    "18446744073709551616",
    "\"steps\": []",
    "\"id\": \"\"",
    "\n",
    "\r\n",
    "\t",
    "é",
    "😀",
    "\u{0}",
    "\u{feff}",
    "/",
    "~1",
    "~0",
    "\"status\": 99999",
    "\"pointer\": \"nope\"",
];

/// A byte-level mutation of `input`.
fn mutate_bytes(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = rng.next() as u8;
            }
            1 => {
                let token = rng.pick(TOKENS).as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            2 => {
                let end = (at + rng.below(40)).min(out.len());
                out.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(60)).min(out.len());
                let copy = out[at..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, copy);
            }
            4 => out.truncate(at),
            _ => {}
        }
    }
    out
}

/// Replaces one node of `value` with something of another shape.
fn mutate_value(rng: &mut Rng, value: &mut Value, depth: usize) {
    let children = match value {
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    };
    if children > 0 && depth < 8 && rng.below(4) != 0 {
        let i = rng.below(children);
        let child = match value {
            Value::Object(map) => map.values_mut().nth(i),
            Value::Array(items) => items.get_mut(i),
            _ => None,
        };
        if let Some(child) = child {
            mutate_value(rng, child, depth + 1);
        }
        return;
    }
    let token = (*rng.pick(TOKENS)).to_string();
    *value = match rng.below(9) {
        0 => Value::Null,
        1 => json!(rng.next() as i64),
        2 => json!(-1.5e300),
        3 => json!(token),
        4 => json!([token, null, {}]),
        5 => json!({"op": "Replace", "path": token, "value": "{{id}}"}),
        6 => json!(""),
        7 => {
            // Deep nesting: the loader must not recurse itself to death.
            let mut v = json!(1);
            for _ in 0..200 {
                v = json!([v]);
            }
            v
        }
        _ => json!(format!("{{{{{token}}}}}")),
    };
}

fn catalogue() -> Vec<Vec<u8>> {
    fn walk(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = Vec::new();
    walk(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")),
        &mut out,
    );
    out.sort();
    assert!(out.len() > 50);
    out
}

#[test]
fn the_loader_survives_mutated_scenarios() {
    let seeds = catalogue();
    for seed in &seeds {
        invariants::scenario_loader(seed);
    }
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..1500 {
        let seed = rng.pick(&seeds).clone();
        let input = if rng.below(2) == 0 {
            mutate_bytes(&mut rng, &seed)
        } else {
            let mut value: Value = serde_json::from_slice(&seed).unwrap();
            mutate_value(&mut rng, &mut value, 0);
            if rng.below(2) == 0 {
                serde_json::to_vec_pretty(&value).unwrap()
            } else {
                serde_json::to_vec(&value).unwrap()
            }
        };
        invariants::scenario_loader(&input);
    }
}

/// Inputs the fuzzers found, kept so they stay fixed.
#[test]
fn inputs_the_fuzzers_found() {
    // Lone carriage returns: serde_json counts them as columns, `str::lines` keeps them.
    invariants::scenario_loader(b"\r\r\r");
}

#[test]
fn templates_survive_arbitrary_text() {
    let seeds: &[&[u8]] = &[
        b"{{run.prefix}}alice@{{domain}}",
        b"/Users/{{id}}?x={{ uuid }}",
        b"{{{{literal}} and {{a}}{{b}}",
        b"{\"userName\": \"{{run.prefix}}x\", \"n\": [\"{{id}}\"]}",
        b"}}{{",
    ];
    let mut rng = Rng(0x5eed_0002);
    for _ in 0..4000 {
        let seed = rng.pick(seeds);
        invariants::template(&mutate_bytes(&mut rng, seed));
    }
}

#[test]
fn the_normalizer_survives_arbitrary_bodies() {
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646", "userName": "scimreplay-abc123-alice@example.com",
        "meta": {"created": "2026-01-01T00:00:00Z", "version": "W/\"1\"",
                 "location": "http://127.0.0.1:8080/scim/Users/2819c223-7f76-453a-919d-413861904646"},
        "members": [{"value": "b"}, {"value": "a"}], "emails": [{"value": "z"}, {"value": "y"}]});
    let mut seeds: Vec<Vec<u8>> = vec![
        [&b"\x00\xc9"[..], user.to_string().as_bytes()].concat(),
        b"\x01\x90<html>error</html>".to_vec(),
        b"\x02\x00".to_vec(),
    ];
    seeds.extend(catalogue().into_iter().take(5));
    let mut rng = Rng(0x5eed_0003);
    for _ in 0..1500 {
        let seed = rng.pick(&seeds).clone();
        let input = if rng.below(2) == 0 {
            mutate_bytes(&mut rng, &seed)
        } else {
            let (head, body) = seed.split_at(2.min(seed.len()));
            match serde_json::from_slice::<Value>(body) {
                Ok(mut value) => {
                    mutate_value(&mut rng, &mut value, 0);
                    [head, &serde_json::to_vec(&value).unwrap()].concat()
                }
                Err(_) => mutate_bytes(&mut rng, &seed),
            }
        };
        invariants::normalizer(&input);
    }
}

#[test]
fn the_normalizer_stays_fast_on_deep_and_wide_shapes() {
    // The old normalizer needed 2^depth renders for nested unordered arrays and quadratic
    // time in the number of ids; every shape here finishes in well under a second each.
    let started = std::time::Instant::now();
    let mut rng = Rng(0x5eed_0004);
    let mut inputs: Vec<Vec<u8>> = vec![vec![40, 0, 0, 1, 0, 1], vec![40, 0xff, 0xff, 0xaa]];
    for _ in 0..30 {
        inputs.push((0..12).map(|_| rng.below(256) as u8).collect());
    }
    for input in &inputs {
        invariants::normalizer_shapes(input);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}

/// Fragments of the filter grammar (RFC 7644 §3.4.2.2) and of what breaks parsers.
const FILTER_TOKENS: &[&str] = &[
    " and ",
    " or ",
    "not ",
    "(",
    ")",
    "[",
    "]",
    " eq ",
    " ne ",
    " co ",
    " sw ",
    " ew ",
    " gt ",
    " ge ",
    " lt ",
    " le ",
    " pr",
    "\"",
    "\\\"",
    "\\",
    ".",
    ":",
    "urn:ietf:params:scim:schemas:core:2.0:User:",
    "emails",
    "members",
    "value",
    "type",
    "true",
    "false",
    "null",
    "1e999",
    "-0",
    "\u{0}",
    "é",
    "😀",
    "\t",
    "\n",
    "$ref",
    "meta.lastModified",
    "\"2026-01-01T00:00:00Z\"",
];

/// Filters as Entra and RFC 7644 write them, and the pathological shapes issue 10 names: a
/// flat chain of thousands of terms, deep parentheses, nested value paths, one huge string.
fn filter_seeds() -> Vec<String> {
    let mut seeds: Vec<String> = [
        "userName eq \"alice@example.com\"",
        "externalId eq \"a-1\"",
        "displayName eq \"sales\"",
        "emails[type eq \"work\"].value eq \"a@example.com\"",
        "emails[type eq \"work\" and primary eq true]",
        "type eq \"work\"",
        "value eq \"x\" or value sw \"a\"",
        "not (active eq false) and (userName co \"ali\" or title pr)",
        "meta.lastModified gt \"2026-01-01T00:00:00Z\"",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"7\"",
        "externalId eq jyoung",
        "members[value eq \"x\"]",
    ]
    .map(str::to_string)
    .to_vec();
    let chain = |op: &str, n: usize| {
        (0..n)
            .map(|i| format!("value eq \"v{i}\""))
            .collect::<Vec<_>>()
            .join(op)
    };
    seeds.push(chain(" and ", 1_200));
    seeds.push(chain(" or ", 30_000));
    seeds.push(format!(
        "{}userName pr{}",
        "(".repeat(5_000),
        ")".repeat(5_000)
    ));
    seeds.push(format!(
        "{}active pr{}",
        "not (".repeat(2_000),
        ")".repeat(2_000)
    ));
    seeds.push(format!(
        "{}value eq \"x\"{}",
        "emails[".repeat(500),
        "]".repeat(500)
    ));
    seeds.push(format!("userName eq \"{}\"", "x".repeat(20_000)));
    seeds
}

#[test]
fn filters_and_value_paths_survive_mutation_in_bounded_time() {
    let seeds = filter_seeds();
    let started = std::time::Instant::now();
    for (i, seed) in seeds.iter().enumerate() {
        for how in 0..5u8 {
            invariants::filter(&[&[how.wrapping_add(i as u8)][..], seed.as_bytes()].concat());
        }
    }
    let mut rng = Rng(0x5eed_0005);
    for _ in 0..3000 {
        let seed = rng.pick(&seeds[..12]).as_bytes();
        let mut input = mutate_bytes(&mut rng, seed);
        for _ in 0..=rng.below(3) {
            let at = rng.below(input.len() + 1);
            let token = rng.pick(FILTER_TOKENS).as_bytes();
            input.splice(at..at, token.iter().copied());
        }
        input.insert(0, rng.below(5) as u8);
        invariants::filter(&input);
    }
    // The whole loop is a few milliseconds of parsing per input, even for the long seeds.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
