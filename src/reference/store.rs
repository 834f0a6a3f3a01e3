//! The in-memory resource store: sharded, read-mostly, no lock held across an await.
//!
//! Resources live in `Arc`s inside shards chosen by id, each behind its own `RwLock`, so
//! reads of different resources never contend and a reader holds a lock only long enough
//! to clone an `Arc`. The uniqueness index (lowercased userName / displayName) and the
//! externalId index sit behind one more lock that writers take first (lock order: index,
//! then shard). Updates are optimistic: callers patch a copy outside any lock and commit
//! with the version they started from; a concurrent writer makes the commit `Stale` and the
//! caller retries.
//!
//! The index also keeps two orders the shards cannot give cheaply at 100 k resources: the
//! creation order (blocks of `(seq, id)`, so an unfiltered page walks block lengths instead
//! of sorting every resource) and, for groups, a reverse member index (member id → groups
//! listing it, so deleting a user rewrites only the groups it was in).

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
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
    external: MultiIndex,
    /// Every `emails[].value`, for Entra's `emails[type eq "work"].value eq "…"` matching.
    email: MultiIndex,
    /// Groups only: member id (exact) → the groups listing it.
    member_of: HashMap<String, HashSet<String>>,
    order: Order,
}

/// Resources per block of the creation order: a page costs about n / ORDER_BLOCK steps to
/// find its first block, and an insert or removal moves at most 2 × ORDER_BLOCK entries.
const ORDER_BLOCK: usize = 512;

/// Every id in creation order (ascending `seq`), in sorted blocks of at most 2 × ORDER_BLOCK;
/// no block is empty.
#[derive(Default)]
struct Order {
    blocks: Vec<Vec<(u64, Arc<str>)>>,
    len: usize,
}

impl Order {
    /// The block that holds (or would hold) `seq`.
    fn block_of(&self, seq: u64) -> usize {
        let b = self
            .blocks
            .partition_point(|blk| blk.last().is_some_and(|(s, _)| *s < seq));
        b.min(self.blocks.len().saturating_sub(1))
    }

    fn insert(&mut self, seq: u64, id: &str) {
        if self.blocks.is_empty() {
            self.blocks.push(Vec::with_capacity(ORDER_BLOCK));
        }
        let b = self.block_of(seq);
        let blk = &mut self.blocks[b];
        let at = blk.partition_point(|(s, _)| *s < seq);
        blk.insert(at, (seq, Arc::from(id)));
        self.len += 1;
        if blk.len() > 2 * ORDER_BLOCK {
            let tail = blk.split_off(ORDER_BLOCK);
            self.blocks.insert(b + 1, tail);
        }
    }

    fn remove(&mut self, seq: u64) {
        let b = self.block_of(seq);
        let Some(blk) = self.blocks.get_mut(b) else {
            return;
        };
        if let Ok(at) = blk.binary_search_by_key(&seq, |(s, _)| *s) {
            blk.remove(at);
            self.len -= 1;
            if blk.is_empty() {
                self.blocks.remove(b);
            }
        }
    }

    /// Up to `count` ids from position `from` (0-based) on.
    fn slice(&self, mut from: usize, count: usize) -> Vec<Arc<str>> {
        let mut out = Vec::with_capacity(count.min(self.len));
        for blk in &self.blocks {
            if out.len() == count {
                break;
            }
            if from >= blk.len() {
                from -= blk.len();
                continue;
            }
            let take = (count - out.len()).min(blk.len() - from);
            out.extend(blk[from..from + take].iter().map(|(_, id)| Arc::clone(id)));
            from = 0;
        }
        out
    }
}

/// The distinct member ids a group body lists.
pub(super) fn member_ids(body: &Map<String, Value>) -> HashSet<&str> {
    let members = body.get("members").and_then(Value::as_array);
    let values = members
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value")?.as_str());
    values.collect()
}

/// Lowercased value → ids holding it.
#[derive(Default)]
struct MultiIndex(HashMap<String, Vec<String>>);

impl MultiIndex {
    fn add(&mut self, key: String, id: &str) {
        let ids = self.0.entry(key).or_default();
        if !ids.iter().any(|other| other == id) {
            ids.push(id.to_string());
        }
    }

    fn remove(&mut self, key: &str, id: &str) {
        if let Some(ids) = self.0.get_mut(key) {
            ids.retain(|other| other != id);
            if ids.is_empty() {
                self.0.remove(key);
            }
        }
    }

    fn get(&self, key: &str) -> Vec<String> {
        self.0.get(&key.to_lowercase()).cloned().unwrap_or_default()
    }
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

fn email_keys(body: &Map<String, Value>) -> Vec<String> {
    let emails = get_ci(body, "emails").and_then(Value::as_array);
    let values = emails
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("value")?.as_str());
    values.map(str::to_lowercase).collect()
}

impl Index {
    /// Indexes a resource that joins the collection.
    fn record(&mut self, kind: Kind, id: &str, seq: u64, body: &Map<String, Value>) {
        self.record_attrs(kind, id, body);
        if kind == Kind::Group {
            for member in member_ids(body) {
                self.add_member(member, id);
            }
        }
        self.order.insert(seq, id);
    }

    /// Forgets a resource that leaves the collection.
    fn forget(&mut self, kind: Kind, id: &str, seq: u64, body: &Map<String, Value>) {
        self.forget_attrs(kind, id, body);
        if kind == Kind::Group {
            for member in member_ids(body) {
                self.remove_member(member, id);
            }
        }
        self.order.remove(seq);
    }

    /// Moves the entries of `id` from `old` to `new` (its place in the creation order stays);
    /// members by difference, so adding one member to a large group touches one entry.
    fn change(&mut self, kind: Kind, id: &str, old: &Map<String, Value>, new: &Map<String, Value>) {
        self.forget_attrs(kind, id, old);
        self.record_attrs(kind, id, new);
        if kind == Kind::Group {
            let (before, after) = (member_ids(old), member_ids(new));
            for gone in before.difference(&after) {
                self.remove_member(gone, id);
            }
            for added in after.difference(&before) {
                self.add_member(added, id);
            }
        }
    }

    fn record_attrs(&mut self, kind: Kind, id: &str, body: &Map<String, Value>) {
        if let Some(key) = unique_key(kind, body) {
            self.unique.insert(key, id.to_string());
        }
        if let Some(key) = external_key(body) {
            self.external.add(key, id);
        }
        for key in email_keys(body) {
            self.email.add(key, id);
        }
    }

    fn forget_attrs(&mut self, kind: Kind, id: &str, body: &Map<String, Value>) {
        if let Some(key) = unique_key(kind, body) {
            if self.unique.get(&key).is_some_and(|owner| owner == id) {
                self.unique.remove(&key);
            }
        }
        if let Some(key) = external_key(body) {
            self.external.remove(&key, id);
        }
        for key in email_keys(body) {
            self.email.remove(&key, id);
        }
    }

    fn add_member(&mut self, member: &str, group: &str) {
        self.member_of
            .entry(member.to_string())
            .or_default()
            .insert(group.to_string());
    }

    /// The ids of the groups listing `member`, sorted (a stable order for callers and locks).
    fn groups_of(&self, member: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .member_of
            .get(member)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    fn remove_member(&mut self, member: &str, group: &str) {
        if let Some(groups) = self.member_of.get_mut(member) {
            groups.remove(group);
            if groups.is_empty() {
                self.member_of.remove(member);
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
        let replaced = write(self.shard(&stored.id)).insert(stored.id.clone(), Arc::clone(&stored));
        if let Some(old) = replaced {
            index.forget(self.kind, &old.id, old.seq, &old.body);
        }
        index.record(self.kind, &stored.id, stored.seq, &stored.body);
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
        index.change(self.kind, &updated.id, &existing.body, &updated.body);
        shard.insert(updated.id.clone(), Arc::clone(&updated));
        Ok(updated)
    }

    /// Deletes a resource, returning it.
    pub fn remove(&self, id: &str) -> Option<Arc<Stored>> {
        let mut index = write(&self.index);
        let removed = write(self.shard(id)).remove(id)?;
        index.forget(self.kind, id, removed.seq, &removed.body);
        Some(removed)
    }

    /// How many resources the collection holds.
    pub fn len(&self) -> usize {
        read(&self.index).order.len
    }

    /// Whether the collection is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Up to `count` resources in creation order from position `from` (0-based): an
    /// unfiltered page, without visiting the resources before or after it.
    pub fn page(&self, from: usize, count: usize) -> Vec<Arc<Stored>> {
        let ids = read(&self.index).order.slice(from, count);
        // A resource deleted since the slice was taken is left out.
        ids.iter().filter_map(|id| self.get(id)).collect()
    }

    /// The ids of the groups whose members list `member` (from the reverse index).
    pub fn holding(&self, member: &str) -> Vec<String> {
        read(&self.index).groups_of(member)
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
        let ids = read(&self.index).external.get(value);
        self.load_sorted(&ids)
    }

    /// Resources with an email whose value equals `value` case-insensitively.
    pub fn find_email(&self, value: &str) -> Vec<Arc<Stored>> {
        let ids = read(&self.index).email.get(value);
        self.load_sorted(&ids)
    }

    fn load_sorted(&self, ids: &[String]) -> Vec<Arc<Stored>> {
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

    /// Rewrites each group listing `member` for which `change` returns a new body (the
    /// reverse member index finds them, so the cost follows that member's groups, not the
    /// store). The index lock is held throughout, so no group is missed or changed twice.
    pub fn rewrite_holding(
        &self,
        member: &str,
        change: impl Fn(&Stored) -> Option<Map<String, Value>>,
        last_modified: &str,
        next_version: impl Fn() -> u64,
    ) {
        let mut index = write(&self.index);
        for id in index.groups_of(member) {
            let mut shard = write(self.shard(&id));
            let Some(entry) = shard.get_mut(&id) else {
                continue;
            };
            let Some(body) = change(entry) else {
                continue;
            };
            index.change(self.kind, &id, &entry.body, &body);
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
    fn email_index_follows_commits_and_removals() {
        let store = Store::default();
        let body = json!({"userName": "a", "emails": [{"value": "A@x.example"}, {"value": "b@x.example"}]});
        let Ok(first) = store.users.insert(stored(&store, "a", body), false) else {
            panic!("insert failed")
        };
        assert_eq!(store.users.find_email("a@X.example").len(), 1);
        let changed = json!({"userName": "a", "emails": [{"value": "c@x.example"}]});
        let changed = changed.as_object().cloned().unwrap_or_default();
        assert!(
            store
                .users
                .commit(&first, changed, "t".into(), store.next())
                .is_ok()
        );
        assert!(store.users.find_email("a@x.example").is_empty());
        assert_eq!(store.users.find_email("c@x.example").len(), 1);
        assert!(store.users.remove("a").is_some());
        assert!(store.users.find_email("c@x.example").is_empty());
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

    fn group(store: &Store, id: &str, members: &[&str]) -> Stored {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        stored(
            store,
            id,
            json!({"displayName": format!("G-{id}"), "members": members}),
        )
    }

    fn drop_member(member: &str) -> impl Fn(&Stored) -> Option<Map<String, Value>> + '_ {
        move |s: &Stored| {
            let members = s.body.get("members")?.as_array()?;
            let kept: Vec<Value> = members
                .iter()
                .filter(|m| m.get("value").and_then(Value::as_str) != Some(member))
                .cloned()
                .collect();
            let mut body = s.body.clone();
            body.insert("members".into(), Value::Array(kept));
            Some(body)
        }
    }

    #[test]
    fn rewrite_holding_changes_only_the_groups_listing_the_member() {
        let store = Store::default();
        for (id, members) in [("g", &["u", "v"][..]), ("h", &["v"][..]), ("k", &["u"][..])] {
            assert!(
                store
                    .groups
                    .insert(group(&store, id, members), false)
                    .is_ok()
            );
        }
        assert_eq!(store.groups.holding("u"), ["g", "k"]);
        let before = store.groups.get("h").map(|s| s.version);
        store
            .groups
            .rewrite_holding("u", drop_member("u"), "t9", || store.next());
        let members = |id: &str| store.groups.get(id).map(|s| member_ids(&s.body).len());
        assert_eq!(
            (members("g"), members("h"), members("k")),
            (Some(1), Some(1), Some(0))
        );
        assert_eq!(store.groups.get("h").map(|s| s.version), before);
        assert_eq!(
            store.groups.get("g").map(|s| s.last_modified.clone()),
            Some("t9".into())
        );
        // The index followed: nobody holds `u` any more, `v` is untouched.
        assert!(store.groups.holding("u").is_empty());
        assert_eq!(store.groups.holding("v"), ["g", "h"]);
    }

    #[test]
    fn the_member_index_follows_commits_and_removals() {
        let store = Store::default();
        let Ok(g) = store.groups.insert(group(&store, "g", &["a", "b"]), false) else {
            panic!("insert failed")
        };
        let body = group(&store, "g", &["b", "c", "c"]).body;
        let Ok(_) = store.groups.commit(&g, body, "t".into(), store.next()) else {
            panic!("commit failed")
        };
        assert!(store.groups.holding("a").is_empty());
        assert_eq!(store.groups.holding("b"), ["g"]);
        assert_eq!(store.groups.holding("c"), ["g"]);
        // Users are not indexed by member.
        assert!(store.users.holding("b").is_empty());
        assert!(store.groups.remove("g").is_some());
        assert!(store.groups.holding("b").is_empty() && store.groups.holding("c").is_empty());
    }

    /// The block-wise creation order against a plain sorted list, through thousands of
    /// inserts (some out of order, as concurrent creates land) and removals, so blocks split
    /// and empty.
    #[test]
    fn pages_from_the_creation_order_match_a_full_sort() {
        let store = Store::default();
        let mut model: Vec<(u64, String)> = Vec::new();
        let mut pending = Vec::new();
        for i in 0..3_000u64 {
            let s = stored(
                &store,
                &format!("u{i}"),
                json!({"userName": format!("n{i}")}),
            );
            pending.push(s);
            // Every fourth resource is held back and lands after the next one.
            if i % 4 != 0 {
                pending.reverse();
                for s in pending.drain(..) {
                    model.push((s.seq, s.id.clone()));
                    assert!(store.users.insert(s, false).is_ok());
                }
            }
        }
        for s in pending.drain(..) {
            model.push((s.seq, s.id.clone()));
            assert!(store.users.insert(s, false).is_ok());
        }
        // Remove a run in the middle (whole blocks) and a scattering.
        let gone: Vec<String> = model
            .iter()
            .enumerate()
            .filter(|(n, _)| (700..1_900).contains(n) || n % 7 == 3)
            .map(|(_, (_, id))| id.clone())
            .collect();
        for id in &gone {
            assert!(store.users.remove(id).is_some());
        }
        model.retain(|(_, id)| !gone.contains(id));
        model.sort();
        assert_eq!(store.users.len(), model.len());
        let scanned: Vec<String> = store
            .users
            .scan(|_| true)
            .iter()
            .map(|s| s.id.clone())
            .collect();
        let expected: Vec<String> = model.iter().map(|(_, id)| id.clone()).collect();
        assert_eq!(scanned, expected);
        for (from, count) in [
            (0, 100),
            (0, 0),
            (511, 3),
            (1_020, 1_000),
            (model.len() - 5, 100),
            (model.len(), 10),
        ] {
            let page: Vec<String> = store
                .users
                .page(from, count)
                .iter()
                .map(|s| s.id.clone())
                .collect();
            let to = (from + count).min(expected.len());
            assert_eq!(
                page,
                expected[from.min(to)..to],
                "from {from}, count {count}"
            );
        }
        let blocks = read(&store.users.index)
            .order
            .blocks
            .iter()
            .map(Vec::len)
            .collect::<Vec<_>>();
        assert!(
            blocks.iter().all(|&n| n > 0 && n <= 2 * ORDER_BLOCK),
            "{blocks:?}"
        );
        assert!(blocks.len() > 1, "the test crosses block boundaries");
    }
}
