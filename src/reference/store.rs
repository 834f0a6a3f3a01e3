//! The in-memory resource store: sharded, read-mostly, no lock held across an await.
//!
//! Resources live in `Arc`s inside shards chosen by id, each behind its own `RwLock`, so
//! reads of different resources never contend and a reader holds a lock only long enough
//! to clone an `Arc`. The uniqueness index (lowercased userName / displayName) and the
//! externalId index sit behind one more lock that writers take first (lock order: index,
//! then shard). Updates are optimistic: callers patch a copy outside any lock and commit
//! with the version they started from; a concurrent writer makes the commit `Stale` and the
//! caller retries.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::{Map, Value};

use super::attr::{Kind, get_ci};

const SHARDS: usize = 32;

/// One stored resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    /// The normalized attributes (see `resource::ingest`); never contains `id` or `meta`.
    pub body: Map<String, Value>,
    pub created: String,
    pub last_modified: String,
    /// Bumped on every change; rendered as the weak ETag `W/"<version>"`.
    pub version: u64,
    /// Creation order, for stable pagination.
    pub seq: u64,
}

impl Stored {
    /// The weak entity tag of this version.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// Why a write did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitError {
    NotFound,
    /// Another resource already holds this userName / displayName (lowercased).
    Conflict(String),
    /// The resource changed since the caller read it; read again and retry.
    Stale,
}

#[derive(Default)]
struct Index {
    unique: HashMap<String, String>,
    external: HashMap<String, Vec<String>>,
}

type Shard = RwLock<HashMap<String, Arc<Stored>>>;

/// All resources of one kind.
pub struct Collection {
    kind: Kind,
    shards: Vec<Shard>,
    index: RwLock<Index>,
    hasher: RandomState,
}

/// A poisoned lock only means another request panicked mid-write; the data is still usable.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn unique_key(kind: Kind, body: &Map<String, Value>) -> Option<String> {
    get_ci(body, kind.unique_attr())
        .and_then(Value::as_str)
        .map(str::to_lowercase)
}

fn external_key(body: &Map<String, Value>) -> Option<String> {
    get_ci(body, "externalId")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
}

impl Index {
    fn record(&mut self, kind: Kind, id: &str, body: &Map<String, Value>) {
        if let Some(key) = unique_key(kind, body) {
            self.unique.insert(key, id.to_string());
        }
        if let Some(key) = external_key(body) {
            self.external.entry(key).or_default().push(id.to_string());
        }
    }

    fn forget(&mut self, kind: Kind, id: &str, body: &Map<String, Value>) {
        if let Some(key) = unique_key(kind, body) {
            if self.unique.get(&key).is_some_and(|owner| owner == id) {
                self.unique.remove(&key);
            }
        }
        if let Some(key) = external_key(body) {
            if let Some(ids) = self.external.get_mut(&key) {
                ids.retain(|other| other != id);
                if ids.is_empty() {
                    self.external.remove(&key);
                }
            }
        }
    }

    /// The id already holding `body`'s unique value, other than `id` itself.
    fn conflict(&self, kind: Kind, id: &str, body: &Map<String, Value>) -> Option<String> {
        let key = unique_key(kind, body)?;
        self.unique
            .get(&key)
            .filter(|owner| owner.as_str() != id)
            .map(|_| key)
    }
}

impl Collection {
    /// An empty collection.
    pub fn new(kind: Kind) -> Self {
        Collection {
            kind,
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            index: RwLock::new(Index::default()),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, id: &str) -> &Shard {
        let slot = (self.hasher.hash_one(id) as usize) % SHARDS;
        &self.shards[slot]
    }

    /// The resource with this id.
    pub fn get(&self, id: &str) -> Option<Arc<Stored>> {
        read(self.shard(id)).get(id).cloned()
    }

    /// Whether a resource with this id exists.
    pub fn contains(&self, id: &str) -> bool {
        read(self.shard(id)).contains_key(id)
    }

    /// Stores a new resource; `allow_duplicates` skips the uniqueness check (a fault mode).
    pub fn insert(
        &self,
        stored: Stored,
        allow_duplicates: bool,
    ) -> Result<Arc<Stored>, CommitError> {
        let mut index = write(&self.index);
        if !allow_duplicates {
            if let Some(key) = index.conflict(self.kind, &stored.id, &stored.body) {
                return Err(CommitError::Conflict(key));
            }
        }
        let stored = Arc::new(stored);
        write(self.shard(&stored.id)).insert(stored.id.clone(), Arc::clone(&stored));
        index.record(self.kind, &stored.id, &stored.body);
        Ok(stored)
    }

    /// Replaces a resource's body if it is still at `expected_version`.
    pub fn commit(
        &self,
        current: &Stored,
        body: Map<String, Value>,
        last_modified: String,
        version: u64,
    ) -> Result<Arc<Stored>, CommitError> {
        let mut index = write(&self.index);
        if let Some(key) = index.conflict(self.kind, &current.id, &body) {
            return Err(CommitError::Conflict(key));
        }
        let mut shard = write(self.shard(&current.id));
        let Some(existing) = shard.get(&current.id) else {
            return Err(CommitError::NotFound);
        };
        if existing.version != current.version {
            return Err(CommitError::Stale);
        }
        let updated = Arc::new(Stored {
            body,
            last_modified,
            version,
            ..current.clone()
        });
        index.forget(self.kind, &existing.id, &existing.body);
        index.record(self.kind, &updated.id, &updated.body);
        shard.insert(updated.id.clone(), Arc::clone(&updated));
        Ok(updated)
    }

    /// Deletes a resource, returning it.
    pub fn remove(&self, id: &str) -> Option<Arc<Stored>> {
        let mut index = write(&self.index);
        let removed = write(self.shard(id)).remove(id)?;
        index.forget(self.kind, id, &removed.body);
        Some(removed)
    }

    /// The resource holding this userName / displayName (case-insensitively).
    pub fn find_unique(&self, value: &str) -> Option<Arc<Stored>> {
        let id = read(&self.index)
            .unique
            .get(&value.to_lowercase())
            .cloned()?;
        self.get(&id)
    }

    /// Resources whose externalId equals `value` case-insensitively (callers check exactly).
    pub fn find_external(&self, value: &str) -> Vec<Arc<Stored>> {
        let ids = read(&self.index)
            .external
            .get(&value.to_lowercase())
            .cloned()
            .unwrap_or_default();
        let mut found: Vec<Arc<Stored>> = ids.iter().filter_map(|id| self.get(id)).collect();
        found.sort_by_key(|s| s.seq);
        found
    }

    /// Every resource `keep` accepts, in creation order; each shard is locked only briefly.
    pub fn scan(&self, keep: impl Fn(&Stored) -> bool) -> Vec<Arc<Stored>> {
        let mut found = Vec::new();
        for shard in &self.shards {
            let guard = read(shard);
            found.extend(guard.values().filter(|s| keep(s)).cloned());
        }
        found.sort_by_key(|s| s.seq);
        found
    }

    /// Rewrites, shard by shard, every resource for which `change` returns a new body.
    pub fn rewrite_each(
        &self,
        change: impl Fn(&Stored) -> Option<Map<String, Value>>,
        last_modified: &str,
        next_version: impl Fn() -> u64,
    ) {
        for shard in &self.shards {
            let mut guard = write(shard);
            for entry in guard.values_mut() {
                if let Some(body) = change(entry) {
                    let updated = Stored {
                        body,
                        last_modified: last_modified.to_string(),
                        version: next_version(),
                        ..Stored::clone(entry)
                    };
                    *entry = Arc::new(updated);
                }
            }
        }
    }
}

/// Users, groups and the counters that order and version them.
pub struct Store {
    pub users: Collection,
    pub groups: Collection,
    counter: AtomicU64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            users: Collection::new(Kind::User),
            groups: Collection::new(Kind::Group),
            counter: AtomicU64::new(0),
        }
    }
}

impl Store {
    /// The collection for a kind.
    pub fn collection(&self, kind: Kind) -> &Collection {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    /// A number never handed out before; used for versions and creation order.
    pub fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(store: &Store, id: &str, body: Value) -> Stored {
        let n = store.next();
        Stored {
            id: id.into(),
            body: body.as_object().cloned().unwrap_or_default(),
            created: "t0".into(),
            last_modified: "t0".into(),
            version: n,
            seq: n,
        }
    }

    #[test]
    fn unique_index_is_case_insensitive_and_refuses_duplicates() {
        let store = Store::default();
        let alice = stored(&store, "u1", json!({"userName": "Alice@Example.com"}));
        assert!(store.users.insert(alice, false).is_ok());
        assert_eq!(
            store
                .users
                .find_unique("alice@example.COM")
                .map(|s| s.id.clone()),
            Some("u1".into())
        );
        let twin = stored(&store, "u2", json!({"userName": "ALICE@example.com"}));
        assert_eq!(
            store.users.insert(twin.clone(), false).err(),
            Some(CommitError::Conflict("alice@example.com".into()))
        );
        assert!(store.users.insert(twin, true).is_ok());
    }

    #[test]
    fn commit_moves_index_entries_and_detects_stale_versions() {
        let store = Store::default();
        let first = store.groups.insert(
            stored(
                &store,
                "g1",
                json!({"displayName": "Sales", "externalId": "E1"}),
            ),
            false,
        );
        let Ok(first) = first else {
            panic!("insert failed")
        };
        let renamed = json!({"displayName": "Sales EMEA", "externalId": "E1"});
        let body = renamed.as_object().cloned().unwrap_or_default();
        let updated = store
            .groups
            .commit(&first, body.clone(), "t1".into(), store.next());
        assert!(updated.is_ok());
        assert!(store.groups.find_unique("sales").is_none());
        assert!(store.groups.find_unique("sales emea").is_some());
        assert_eq!(store.groups.find_external("e1").len(), 1);
        // `first` is now out of date.
        assert_eq!(
            store
                .groups
                .commit(&first, body, "t2".into(), store.next())
                .err(),
            Some(CommitError::Stale)
        );
    }

    #[test]
    fn commit_refuses_taking_another_resources_name() {
        let store = Store::default();
        let a = store
            .users
            .insert(stored(&store, "a", json!({"userName": "a"})), false);
        let b = store
            .users
            .insert(stored(&store, "b", json!({"userName": "b"})), false);
        let (Ok(_), Ok(b)) = (a, b) else {
            panic!("insert failed")
        };
        let body = json!({"userName": "A"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            store.users.commit(&b, body, "t".into(), 9).err(),
            Some(CommitError::Conflict("a".into()))
        );
    }

    #[test]
    fn remove_clears_indexes_and_scan_keeps_creation_order() {
        let store = Store::default();
        for (id, name) in [("x", "x"), ("y", "y"), ("z", "z")] {
            assert!(
                store
                    .users
                    .insert(stored(&store, id, json!({"userName": name})), false)
                    .is_ok()
            );
        }
        assert!(store.users.remove("y").is_some());
        assert!(store.users.remove("y").is_none());
        assert!(store.users.find_unique("y").is_none());
        let ids: Vec<String> = store
            .users
            .scan(|_| true)
            .iter()
            .map(|s| s.id.clone())
            .collect();
        assert_eq!(ids, ["x", "z"]);
    }

    #[test]
    fn rewrite_each_bumps_versions_of_changed_resources_only() {
        let store = Store::default();
        assert!(
            store
                .groups
                .insert(
                    stored(
                        &store,
                        "g",
                        json!({"displayName": "G", "members": [{"value": "u"}]})
                    ),
                    false
                )
                .is_ok()
        );
        assert!(
            store
                .groups
                .insert(stored(&store, "h", json!({"displayName": "H"})), false)
                .is_ok()
        );
        let before = store.groups.get("h").map(|s| s.version);
        store.groups.rewrite_each(
            |s| {
                s.body.contains_key("members").then(|| {
                    json!({"displayName": "G"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                })
            },
            "t9",
            || store.next(),
        );
        assert_eq!(
            store
                .groups
                .get("g")
                .map(|s| s.body.contains_key("members")),
            Some(false)
        );
        assert_eq!(store.groups.get("h").map(|s| s.version), before);
    }
}
