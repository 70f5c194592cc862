//! Every stub, in the order they are tried, within their caps in count and bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Method;
use uuid::Uuid;

use super::compiled::Stub;
use super::def::{MAX_ALL_STUB_BYTES, MAX_STUBS, StubDef};
use crate::core::ids::Ids;
use crate::toolkit::registry::{Entry, Kind, Registry, RegistryError};
use crate::toolkit::request::RequestView;

/// A stub with what rules most requests out, inline: a scan reads one contiguous array and
/// follows a stub's pointer only for the few that could match (100 scattered stubs cost
/// about a microsecond in cache misses alone).
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub(super) segments: usize,
    pub(super) method: Option<Method>,
    pub(super) stub: Arc<Stub>,
}

impl Entry for Slot {
    fn id(&self) -> Uuid {
        self.stub.id
    }
    fn namespace(&self) -> Option<&str> {
        self.stub.def.namespace.as_deref()
    }
    fn bytes(&self) -> usize {
        self.stub.size
    }
}

/// Stubs as the registry names them, and their caps.
static STUBS: Kind = Kind {
    one: "stub",
    many: "stubs",
    exists_code: "stub_exists",
    limit_code: "stub_limit",
    max_count: MAX_STUBS,
    max_bytes: MAX_ALL_STUB_BYTES,
};

/// Every stub, in the order they are tried.
#[derive(Debug)]
pub struct Stubs {
    pub(super) list: Registry<Slot>,
    pub(super) next_seq: AtomicU64,
    /// Those loaded at start (`--stubs`), which a reset of everything brings back.
    pub(super) initial: Vec<StubDef>,
    /// Draws stub ids; with `--seed`, the same on every run.
    pub(super) ids: Ids,
}

impl Stubs {
    /// The stubs loaded at start; an error names the first bad one.
    pub fn new(initial: Vec<StubDef>, seed: Option<u64>) -> Result<Stubs, RegistryError> {
        let stubs = Stubs {
            list: Registry::new(&STUBS),
            next_seq: AtomicU64::new(0),
            initial,
            ids: Ids::for_purpose(seed, "\0stubs"),
        };
        stubs.reset()?;
        Ok(stubs)
    }

    pub fn add(&self, def: StubDef) -> Result<Arc<Stub>, RegistryError> {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let new_id = || self.ids.uuid();
        let stub = Arc::new(Stub::compile(def, seq, new_id).map_err(RegistryError::Invalid)?);
        let slot = Slot {
            segments: stub.segments,
            method: stub.method.clone(),
            stub: stub.clone(),
        };
        // Higher priority first; among equals, the newest.
        let rank = |s: &Stub| (s.def.priority, u64::MAX - s.seq);
        self.list.insert(slot, |list| {
            list.partition_point(|slot| rank(&slot.stub) < rank(&stub))
        })?;
        Ok(stub)
    }

    /// The first stub that matches, counted as called, with the turn of its response.
    pub fn find(&self, request: &RequestView<'_>) -> Option<(Arc<Stub>, usize)> {
        let list = self.list.read();
        let stub = list
            .iter()
            .find(|slot| {
                slot.segments == request.segments
                    && slot.method.as_ref().is_none_or(|m| m == request.method)
                    && slot.stub.matches(request)
            })?
            .stub
            .clone();
        let turn = stub.count_call();
        Some((stub, turn))
    }

    /// The stub that comes closest to matching, with why it does not.
    pub fn nearest(&self, request: &RequestView<'_>) -> Option<(Arc<Stub>, Vec<String>)> {
        let list = self.list.read();
        list.iter()
            .map(|slot| (slot.stub.clone(), slot.stub.mismatches(request)))
            .filter(|(_, reasons)| !reasons.is_empty())
            .min_by_key(|(stub, reasons)| {
                // Fewer failed parts first; on a tie, one whose path matched.
                (reasons.len(), !stub.path.matches(request.path))
            })
    }

    pub fn get(&self, id: Uuid) -> Option<Arc<Stub>> {
        self.list.get(id).map(|slot| slot.stub)
    }

    pub fn remove(&self, id: Uuid) -> Option<Arc<Stub>> {
        self.list.remove(id).map(|slot| slot.stub)
    }

    /// Every stub, or with a namespace those that belong to it.
    pub fn list(&self, namespace: Option<&str>) -> Vec<Arc<Stub>> {
        self.list
            .list(namespace)
            .into_iter()
            .map(|slot| slot.stub)
            .collect()
    }

    /// Removes every stub, or those of one namespace.
    pub fn clear(&self, namespace: Option<&str>) {
        self.list.clear(namespace);
    }

    /// Removes every stub added at run time and brings back those loaded at start, uncalled.
    pub fn reset(&self) -> Result<(), RegistryError> {
        self.clear(None);
        self.ids.reset();
        for (index, def) in self.initial.iter().enumerate() {
            self.add(def.clone()).map_err(|e| {
                let name = def
                    .name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                RegistryError::Invalid(format!("stub {}{name}: {e}", index + 1))
            })?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// A fresh id for a template's `uuid` (from the seed, with `--seed`).
    pub fn fresh_id(&self) -> Uuid {
        self.ids.uuid()
    }
}
