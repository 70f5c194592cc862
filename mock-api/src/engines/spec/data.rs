//! What the spec-driven engine stores: per collection (a concrete path such as `/pets` or
//! `/users/7/posts`), the items by id in creation order, within a byte budget.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use indexmap::IndexMap;
use rand::rngs::StdRng;
use serde_json::Value;
use uuid::Uuid;

use crate::core::engine::Dataset;
use crate::core::ids::Ids;
use crate::core::sync::{read, write};

/// The most bytes of items one namespace keeps (items are counted as their JSON text).
pub const MAX_STORED_BYTES: usize = 32 << 20;
/// The most items one namespace keeps.
pub const MAX_STORED_ITEMS: usize = 200_000;

/// The items of every collection.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    pub collections: HashMap<String, IndexMap<String, Value>>,
    /// The next integer id of each collection.
    counters: HashMap<String, i64>,
    /// Ids deleted from read-only collections (whose every other id names an item), per
    /// collection: counted in the budget like items.
    deleted: HashMap<String, std::collections::HashSet<String>>,
    bytes: usize,
    items: usize,
}

/// Why an item cannot be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the mock holds as much as it may ({MAX_STORED_ITEMS} items or {} MiB per namespace); delete items or reset",
        MAX_STORED_BYTES >> 20
    )]
    Full,
}

fn size(value: &Value) -> usize {
    serde_json::to_vec(value).map_or(0, |bytes| bytes.len())
}

impl Stored {
    pub fn get(&self, collection: &str, id: &str) -> Option<&Value> {
        self.collections.get(collection)?.get(id)
    }

    pub fn list(&self, collection: &str) -> impl Iterator<Item = &Value> {
        self.collections
            .get(collection)
            .into_iter()
            .flatten()
            .map(|(_, v)| v)
    }

    /// Stores an item under its id, replacing one of that id; all or nothing.
    pub fn put(&mut self, collection: &str, id: String, item: Value) -> Result<(), StoreError> {
        let added = size(&item);
        let existing = self.get(collection, &id).map(size);
        let bytes = self.bytes - existing.unwrap_or(0) + added;
        let items = self.items + usize::from(existing.is_none());
        if bytes > MAX_STORED_BYTES || items > MAX_STORED_ITEMS {
            return Err(StoreError::Full);
        }
        if let Ok(n) = id.parse::<i64>() {
            let next = self.counters.entry(collection.to_owned()).or_insert(1);
            *next = (*next).max(n.saturating_add(1));
        }
        self.collections
            .entry(collection.to_owned())
            .or_default()
            .insert(id, item);
        self.bytes = bytes;
        self.items = items;
        Ok(())
    }

    pub fn remove(&mut self, collection: &str, id: &str) -> Option<Value> {
        let removed = self.collections.get_mut(collection)?.shift_remove(id)?;
        self.bytes -= size(&removed);
        self.items -= 1;
        Some(removed)
    }

    /// Marks an id of a read-only collection deleted; false when it was already, or when
    /// the budget is spent.
    pub fn bury(&mut self, collection: &str, id: &str) -> Result<bool, StoreError> {
        if self.is_deleted(collection, id) {
            return Ok(false);
        }
        let bytes = self.bytes + collection.len() + id.len();
        let items = self.items + 1;
        if bytes > MAX_STORED_BYTES || items > MAX_STORED_ITEMS {
            return Err(StoreError::Full);
        }
        self.deleted
            .entry(collection.to_owned())
            .or_default()
            .insert(id.to_owned());
        (self.bytes, self.items) = (bytes, items);
        Ok(true)
    }

    /// Whether an id of a read-only collection was deleted.
    pub fn is_deleted(&self, collection: &str, id: &str) -> bool {
        self.deleted
            .get(collection)
            .is_some_and(|ids| ids.contains(id))
    }

    /// The next integer id of a collection: one past the largest stored so far.
    pub fn next_number(&self, collection: &str) -> i64 {
        self.counters.get(collection).copied().unwrap_or(1)
    }
}

/// One namespace's items, and where its ids come from.
#[derive(Debug)]
pub struct Data {
    stored: RwLock<Stored>,
    /// What `reset` brings back (`--seed-items`, `--data`), shared by every namespace.
    seed: Arc<Stored>,
    ids: Ids,
    random_seed: Option<u64>,
}

impl Data {
    pub fn new(seed: Stored, random_seed: Option<u64>) -> Data {
        let mut ids = Ids::new(random_seed);
        ids.rebase();
        Data {
            stored: RwLock::new(seed.clone()),
            seed: Arc::new(seed),
            ids,
            random_seed,
        }
    }

    /// The data with `seed` as what it holds and what a reset brings back; the ids drawn
    /// so far (for the seed's items) are not drawn again.
    pub fn seeded(mut self, seed: Stored) -> Data {
        *self.write() = seed.clone();
        self.seed = Arc::new(seed);
        self.ids.rebase();
        self
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Stored> {
        read(&self.stored)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Stored> {
        write(&self.stored)
    }

    pub fn uuid(&self) -> Uuid {
        self.ids.uuid()
    }
}

impl Dataset for Data {
    type State = (Stored, Option<StdRng>);

    fn fork(&self, namespace: &str) -> Data {
        Data {
            stored: RwLock::new((*self.seed).clone()),
            seed: self.seed.clone(),
            ids: Ids::for_purpose(self.random_seed, namespace),
            random_seed: self.random_seed,
        }
    }

    fn reset(&self) {
        *self.write() = (*self.seed).clone();
        self.ids.reset();
    }

    fn items(&self) -> usize {
        self.read().items
    }

    fn capture(&self) -> Self::State {
        (self.read().clone(), self.ids.state())
    }

    fn restore(&self, state: &Self::State) {
        *self.write() = state.0.clone();
        self.ids.restore(state.1.clone());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn puts_are_counted_and_bounded() {
        let mut stored = Stored::default();
        stored.put("/pets", "1".into(), json!({"id": 1})).unwrap();
        stored
            .put("/pets", "1".into(), json!({"id": 1, "a": 2}))
            .unwrap();
        assert_eq!(stored.items, 1);
        assert_eq!(stored.next_number("/pets"), 2);
        let big = json!("x".repeat(MAX_STORED_BYTES));
        assert!(stored.put("/pets", "2".into(), big).is_err());
        assert_eq!(stored.items, 1);
        assert!(stored.remove("/pets", "1").is_some());
        assert_eq!((stored.items, stored.bytes), (0, 0));
    }
}
