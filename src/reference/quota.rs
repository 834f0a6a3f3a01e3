//! How much the in-memory store may hold: per resource, per group's member list, and in
//! total (resources and bytes).
//!
//! A parsed JSON value takes far more memory than its text (a 1 MiB create of small objects
//! cost ~97 MiB), so sizes are *weights*: an estimate of the heap a stored body occupies,
//! counting every string, array slot and object entry, not the request's byte length. The
//! store's total weight is kept in an atomic counter that writers reserve from before they
//! commit, so concurrent creates cannot overshoot it.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::error::ScimError;

/// Default [`Limits::max_resources`]: users and groups together.
pub const DEFAULT_MAX_RESOURCES: usize = 200_000;
/// Default [`Limits::max_resource_bytes`]: one resource's weight, its members aside.
pub const DEFAULT_MAX_RESOURCE_BYTES: usize = 64 * 1024;
/// Default [`Limits::max_group_members`].
pub const DEFAULT_MAX_GROUP_MEMBERS: usize = 100_000;
/// Default [`Limits::max_store_bytes`]: the weight of everything stored (1 GiB).
pub const DEFAULT_MAX_STORE_BYTES: usize = 1024 * 1024 * 1024;

/// The store's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_resources: usize,
    pub max_resource_bytes: usize,
    pub max_group_members: usize,
    pub max_store_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_resources: DEFAULT_MAX_RESOURCES,
            max_resource_bytes: DEFAULT_MAX_RESOURCE_BYTES,
            max_group_members: DEFAULT_MAX_GROUP_MEMBERS,
            max_store_bytes: DEFAULT_MAX_STORE_BYTES,
        }
    }
}

/// A body's estimated heap size, whole and without its `members`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weight {
    pub total: usize,
    pub own: usize,
}

/// Heap estimate of one value (64-bit: a `Value` is 32 bytes, a `String` 24 plus its text).
fn value_weight(value: &Value) -> usize {
    // Iterative, so a deeply nested body cannot exhaust the stack here.
    let mut total = 0;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        total += match value {
            Value::String(s) => s.len() + 24,
            Value::Array(items) => {
                stack.extend(items);
                32 * items.len() + 32
            }
            Value::Object(map) => {
                stack.extend(map.values());
                map.keys().map(|k| k.len() + 24 + 32 + 16).sum::<usize>() + 64
            }
            _ => 0,
        } + 32;
    }
    total
}

/// The weight of a stored body.
pub fn weight(body: &Map<String, Value>) -> Weight {
    let mut total = 64;
    let mut members = 0;
    for (key, value) in body {
        let w = key.len() + 72 + value_weight(value);
        total += w;
        if key == "members" {
            members += w;
        }
    }
    Weight {
        total,
        own: total - members,
    }
}

/// The live totals, checked against [`Limits`].
#[derive(Debug, Default)]
pub struct Quota {
    limits: Limits,
    resources: AtomicUsize,
    bytes: AtomicUsize,
}

fn too_large(detail: String) -> ScimError {
    ScimError::new(StatusCode::PAYLOAD_TOO_LARGE, detail)
}

fn full(detail: String) -> ScimError {
    ScimError::new(StatusCode::INSUFFICIENT_STORAGE, detail)
}

impl Quota {
    /// Empty totals under these limits.
    pub fn new(limits: Limits) -> Self {
        Quota {
            limits,
            ..Quota::default()
        }
    }

    /// Refuses a body that is too big to store by itself (413).
    pub fn check_size(&self, weight: Weight, members: usize) -> Result<(), ScimError> {
        let max = self.limits.max_resource_bytes;
        if weight.own > max {
            return Err(too_large(format!(
                "the resource would take about {} bytes to store; at most {max} are accepted",
                weight.own
            )));
        }
        let max = self.limits.max_group_members;
        if members > max {
            return Err(too_large(format!(
                "the group would have {members} members; at most {max} are accepted"
            )));
        }
        Ok(())
    }

    /// Reserves room for one more resource of `weight` bytes, or answers 507.
    pub fn reserve_new(&self, weight: usize) -> Result<(), ScimError> {
        let max = self.limits.max_resources;
        let counted = self
            .resources
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            });
        if counted.is_err() {
            return Err(full(format!(
                "the endpoint holds {max} resources, its limit; delete some first"
            )));
        }
        self.resize(0, weight).inspect_err(|_| {
            self.resources.fetch_sub(1, Ordering::AcqRel);
        })
    }

    /// Gives back what [`Quota::reserve_new`] took (a create that failed, or a delete).
    pub fn release(&self, weight: usize) {
        let _ = self
            .resources
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        self.shrink(weight, 0);
    }

    /// Moves a resource's reservation from `old` to `new` bytes, or answers 507 (growth only).
    pub fn resize(&self, old: usize, new: usize) -> Result<(), ScimError> {
        if new <= old {
            self.shrink(old, new);
            return Ok(());
        }
        let max = self.limits.max_store_bytes;
        let added = new - old;
        let reserved = self
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                b.checked_add(added).filter(|total| *total <= max)
            });
        reserved.map(|_| ()).map_err(|_| {
            full(format!(
                "the endpoint's store is full (about {max} bytes); delete some resources first"
            ))
        })
    }

    /// Takes back a [`Quota::resize`] from `old` to `new` whose commit did not happen.
    pub fn undo_resize(&self, old: usize, new: usize) {
        if new >= old {
            self.shrink(new, old);
        } else {
            self.bytes.fetch_add(old - new, Ordering::AcqRel);
        }
    }

    /// Records that a resource went from `old` to `new` (smaller) bytes.
    pub fn shrink(&self, old: usize, new: usize) {
        let freed = old.saturating_sub(new);
        let _ = self
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                Some(b.saturating_sub(freed))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn weights_grow_with_structure_not_just_text() {
        let small = weight(&map(json!({"userName": "a"})));
        let objects: Vec<Value> = (0..1000).map(|_| json!({"a": 1})).collect();
        let text_len = serde_json::to_string(&objects).map_or(0, |t| t.len());
        let many = weight(&map(json!({"userName": "a", "x": objects})));
        assert!(
            many.total > 20 * text_len,
            "{many:?} for {text_len} bytes of text"
        );
        assert!(small.total < 400);
        let group = weight(&map(
            json!({"displayName": "g", "members": [{"value": "u"}]}),
        ));
        assert!(group.own < group.total);
    }

    #[test]
    fn reservations_stop_at_the_limits_and_are_given_back() {
        let quota = Quota::new(Limits {
            max_resources: 2,
            max_store_bytes: 1000,
            ..Limits::default()
        });
        assert!(quota.reserve_new(400).is_ok());
        assert!(
            quota
                .reserve_new(700)
                .is_err_and(|e| e.status.as_u16() == 507)
        );
        assert!(quota.reserve_new(500).is_ok());
        assert!(
            quota
                .reserve_new(1)
                .is_err_and(|e| e.detail.contains("2 resources"))
        );
        assert!(quota.resize(500, 700).is_err());
        assert!(quota.resize(500, 600).is_ok());
        quota.release(600);
        assert!(quota.reserve_new(600).is_ok());
        let big = Weight {
            total: 70_000,
            own: 70_000,
        };
        assert!(
            quota
                .check_size(big, 0)
                .is_err_and(|e| e.status.as_u16() == 413)
        );
        let members = Weight { total: 10, own: 10 };
        assert!(
            quota
                .check_size(members, DEFAULT_MAX_GROUP_MEMBERS + 1)
                .is_err()
        );
    }
}
