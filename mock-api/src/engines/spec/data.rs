//! What the spec-driven engine stores: per collection (a concrete path such as `/pets` or
//! `/users/7/posts`), the items by id in creation order, within a byte budget.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use indexmap::IndexMap;
use rand::rngs::StdRng;
use serde_json::Value;
use uuid::Uuid;

use crate::core::budget::{Budget, Charge, OverBudget};
use crate::core::engine::Dataset;
use crate::core::ids::Ids;
use crate::core::limits::NAMESPACE_BYTES;
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
    /// The bytes this copy holds against the namespaces' budget.
    charge: Charge,
}

/// Bytes an item costs beside its JSON text, as counted against the budget.
const ENTRY_BYTES: usize = 64;

/// Why an item cannot be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the mock holds as much as it may ({MAX_STORED_ITEMS} items or {} MiB per namespace); delete items or reset",
        MAX_STORED_BYTES >> 20
    )]
    Full,
    #[error(transparent)]
    Budget(#[from] OverBudget),
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
        self.charge
            .grow(bytes.saturating_sub(self.bytes) + ENTRY_BYTES)?;
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

    /// Removes an item, and what is stored below it (`/owners/7/pets/*` with owner 7): a
    /// deleted item's children cannot be reached again, and would only hold memory.
    pub fn remove(&mut self, collection: &str, id: &str) -> Option<Value> {
        let removed = self.collections.get_mut(collection)?.shift_remove(id)?;
        self.bytes -= size(&removed);
        self.items -= 1;
        let below = format!("{collection}/{id}/");
        let children: Vec<String> = self
            .collections
            .keys()
            .filter(|c| c.starts_with(&below))
            .cloned()
            .collect();
        for child in children {
            for (_, item) in self.collections.remove(&child).into_iter().flatten() {
                self.bytes -= size(&item);
                self.items -= 1;
            }
        }
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
        self.charge.grow(bytes - self.bytes + ENTRY_BYTES)?;
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
    /// Shared with the seed (and the snapshots) until the first write copies it.
    stored: RwLock<Arc<Stored>>,
    /// What `reset` brings back (`--seed-items`, `--data`), shared by every namespace.
    seed: Arc<Stored>,
    ids: Ids,
    random_seed: Option<u64>,
    /// What this namespace's copies are charged to (none for the default namespace), and
    /// the budget its forks are given.
    budget: Option<Arc<Budget>>,
    namespaces_budget: Arc<Budget>,
}

/// A namespace's items, made its own by [`Data::write`]: nothing else holds them.
pub struct Writing<'a>(RwLockWriteGuard<'a, Arc<Stored>>);

impl std::ops::Deref for Writing<'_> {
    type Target = Stored;

    fn deref(&self) -> &Stored {
        &self.0
    }
}

impl std::ops::DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut Stored {
        Arc::get_mut(&mut self.0).expect("Data::write copied shared items")
    }
}

impl Data {
    pub fn new(seed: Stored, random_seed: Option<u64>) -> Data {
        let mut ids = Ids::new(random_seed);
        ids.rebase();
        let seed = Arc::new(seed);
        Data {
            stored: RwLock::new(seed.clone()),
            seed,
            ids,
            random_seed,
            budget: None,
            namespaces_budget: Budget::new(NAMESPACE_BYTES),
        }
    }

    /// The data with `seed` as what it holds and what a reset brings back; the ids drawn
    /// so far (for the seed's items) are not drawn again.
    pub fn seeded(mut self, seed: Stored) -> Data {
        self.seed = Arc::new(seed);
        *write(&self.stored) = self.seed.clone();
        self.ids.rebase();
        self
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Arc<Stored>> {
        read(&self.stored)
    }

    /// The items for a change. Items shared with the seed or a snapshot are copied first,
    /// charged to the namespaces' budget.
    pub fn write(&self) -> Result<Writing<'_>, StoreError> {
        let mut stored = write(&self.stored);
        if Arc::strong_count(&stored) > 1 {
            let bytes = stored.bytes + ENTRY_BYTES * stored.items;
            let charge = Charge::new(self.budget.as_ref(), bytes)?;
            let mut copy = Stored::clone(&stored);
            copy.charge = charge;
            *stored = Arc::new(copy);
        }
        Ok(Writing(stored))
    }

    pub fn uuid(&self) -> Uuid {
        self.ids.uuid()
    }
}

impl Dataset for Data {
    /// The items (shared with the live ones until either changes), and the ids' state.
    type State = (Arc<Stored>, Option<StdRng>);

    fn fork(&self, namespace: &str) -> Data {
        Data {
            stored: RwLock::new(self.seed.clone()),
            seed: self.seed.clone(),
            ids: Ids::for_purpose(self.random_seed, namespace),
            random_seed: self.random_seed,
            budget: Some(self.namespaces_budget.clone()),
            namespaces_budget: self.namespaces_budget.clone(),
        }
    }

    fn reset(&self) {
        *write(&self.stored) = self.seed.clone();
        self.ids.reset();
    }

    fn items(&self) -> usize {
        self.read().items
    }

    fn capture(&self) -> Self::State {
        (self.read().clone(), self.ids.state())
    }

    fn restore(&self, state: &Self::State) {
        *write(&self.stored) = state.0.clone();
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

    /// A namespace reads the seed's items without copying them; its first write copies
    /// them against the namespaces' budget, which refuses past its limit and gets the bytes
    /// back on a reset.
    #[test]
    fn namespaces_copy_the_seed_only_to_change_it() {
        let mut seed = Stored::default();
        for id in 0..100 {
            seed.put(
                "/pets",
                id.to_string(),
                json!({"id": id, "name": "x".repeat(100)}),
            )
            .unwrap();
        }
        let mut data = Data::new(Stored::default(), None).seeded(seed);
        let budget = Budget::new(30_000);
        data.namespaces_budget = budget.clone();
        let (first, second) = (data.fork("first"), data.fork("second"));
        assert_eq!(first.read().items, 100);
        assert_eq!(budget.used(), 0);
        first
            .write()
            .unwrap()
            .put("/pets", "new".into(), json!({"id": "new"}))
            .unwrap();
        assert!(budget.used() > 15_000, "{}", budget.used());
        assert_eq!(data.read().items, 100, "the seed is untouched");
        assert!(matches!(second.write(), Err(StoreError::Budget(_))));
        first.reset();
        assert_eq!(budget.used(), 0);
        assert!(second.write().is_ok());
    }
}
