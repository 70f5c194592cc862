//! What stubs and fault rules are kept in: one registry with ids that are unique, caps in
//! count and in bytes, and clearing and listing by namespace, so both behave alike and the
//! admin API maps one error type.

use std::sync::{RwLock, RwLockReadGuard};

use uuid::Uuid;

use crate::core::sync::{read, write};

/// What a registry keeps.
pub trait Entry {
    fn id(&self) -> Uuid;
    /// The namespace it belongs to, if any.
    fn namespace(&self) -> Option<&str>;
    /// Bytes of its definition, for the registry's byte cap.
    fn bytes(&self) -> usize;
}

/// What a registry holds, as its errors name it, and its caps.
#[derive(Debug)]
pub struct Kind {
    /// `stub`, `fault rule`.
    pub one: &'static str,
    /// `stubs`, `fault rules`.
    pub many: &'static str,
    /// The error codes of an id taken and of a cap reached.
    pub exists_code: &'static str,
    pub limit_code: &'static str,
    pub max_count: usize,
    pub max_bytes: usize,
}

/// Why an entry was not added.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The definition itself is wrong: the message says how.
    #[error("{0}")]
    Invalid(String),
    #[error("a {} with id {id} exists already", kind.one)]
    Exists { kind: &'static Kind, id: Uuid },
    #[error(
        "too many {} (at most {}, {} bytes in all); delete some first",
        kind.many,
        kind.max_count,
        kind.max_bytes
    )]
    TooMany { kind: &'static Kind },
}

/// Entries in the order they are tried.
#[derive(Debug)]
pub struct Registry<E> {
    kind: &'static Kind,
    list: RwLock<Vec<E>>,
}

impl<E: Entry + Clone> Registry<E> {
    pub fn new(kind: &'static Kind) -> Registry<E> {
        Registry {
            kind,
            list: RwLock::new(Vec::new()),
        }
    }

    /// Adds an entry where `position` says among those there, within the caps, its id new.
    pub fn insert(
        &self,
        entry: E,
        position: impl FnOnce(&[E]) -> usize,
    ) -> Result<(), RegistryError> {
        let mut list = write(&self.list);
        if list.iter().any(|e| e.id() == entry.id()) {
            return Err(RegistryError::Exists {
                kind: self.kind,
                id: entry.id(),
            });
        }
        let bytes: usize = list.iter().map(Entry::bytes).sum();
        if list.len() >= self.kind.max_count
            || bytes.saturating_add(entry.bytes()) > self.kind.max_bytes
        {
            return Err(RegistryError::TooMany { kind: self.kind });
        }
        let at = position(&list).min(list.len());
        list.insert(at, entry);
        Ok(())
    }

    /// The entries, in order, for a scan.
    pub fn read(&self) -> RwLockReadGuard<'_, Vec<E>> {
        read(&self.list)
    }

    pub fn get(&self, id: Uuid) -> Option<E> {
        read(&self.list).iter().find(|e| e.id() == id).cloned()
    }

    pub fn remove(&self, id: Uuid) -> Option<E> {
        let mut list = write(&self.list);
        let at = list.iter().position(|e| e.id() == id)?;
        Some(list.remove(at))
    }

    /// Every entry, or with a namespace those that belong to it.
    pub fn list(&self, namespace: Option<&str>) -> Vec<E> {
        read(&self.list)
            .iter()
            .filter(|e| namespace.is_none() || e.namespace() == namespace)
            .cloned()
            .collect()
    }

    /// Removes every entry, or those of one namespace.
    pub fn clear(&self, namespace: Option<&str>) {
        let mut list = write(&self.list);
        match namespace {
            None => list.clear(),
            Some(namespace) => list.retain(|e| e.namespace() != Some(namespace)),
        }
    }

    pub fn is_empty(&self) -> bool {
        read(&self.list).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone)]
    struct Item(Uuid, Option<&'static str>, usize);

    impl Entry for Item {
        fn id(&self) -> Uuid {
            self.0
        }
        fn namespace(&self) -> Option<&str> {
            self.1
        }
        fn bytes(&self) -> usize {
            self.2
        }
    }

    static KIND: Kind = Kind {
        one: "thing",
        many: "things",
        exists_code: "thing_exists",
        limit_code: "thing_limit",
        max_count: 3,
        max_bytes: 100,
    };

    #[test]
    fn ids_are_unique_and_caps_hold_in_count_and_bytes() {
        let registry = Registry::new(&KIND);
        let id = |n: u128| Uuid::from_u128(n);
        registry.insert(Item(id(1), None, 10), |_| 0).unwrap();
        let taken = registry.insert(Item(id(1), None, 10), |_| 0).unwrap_err();
        assert!(taken.to_string().contains("a thing with id"), "{taken}");
        let too_big = registry.insert(Item(id(2), None, 91), |_| 0).unwrap_err();
        assert!(
            matches!(too_big, RegistryError::TooMany { .. }),
            "{too_big}"
        );
        registry
            .insert(Item(id(2), Some("a"), 10), |l| l.len())
            .unwrap();
        registry.insert(Item(id(3), Some("b"), 10), |_| 0).unwrap();
        let full = registry.insert(Item(id(4), None, 1), |_| 0).unwrap_err();
        assert!(full.to_string().contains("at most 3"), "{full}");
        // In the order `position` chose: 3 first, then 1, then 2.
        let order: Vec<u128> = registry.read().iter().map(|i| i.0.as_u128()).collect();
        assert_eq!(order, [3, 1, 2]);
        assert_eq!(registry.list(Some("a")).len(), 1);
        registry.clear(Some("a"));
        assert!(registry.get(id(2)).is_none());
        assert!(registry.remove(id(3)).is_some());
        assert!(!registry.is_empty());
    }
}
