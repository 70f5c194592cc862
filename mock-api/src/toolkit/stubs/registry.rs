//! Every stub, in the order they are tried, within their caps in count and bytes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::http::Method;
use uuid::Uuid;

use super::compiled::Stub;
use super::def::{MAX_ALL_STUB_BYTES, MAX_STUBS, StubDef};
use crate::core::ids::Ids;
use crate::core::sync::{read, write};
use crate::toolkit::request::RequestView;

/// A stub with what rules most requests out, inline: a scan reads one contiguous array and
/// follows a stub's pointer only for the few that could match (100 scattered stubs cost
/// about a microsecond in cache misses alone).
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) segments: usize,
    pub(super) method: Option<Method>,
    pub(super) stub: Arc<Stub>,
}

/// Every stub, in the order they are tried.
#[derive(Debug)]
pub struct Stubs {
    pub(super) list: RwLock<Vec<Slot>>,
    pub(super) next_seq: AtomicU64,
    /// Those loaded at start (`--stubs`), which a reset of everything brings back.
    pub(super) initial: Vec<StubDef>,
    /// Draws stub ids; with `--seed`, the same on every run.
    pub(super) ids: Ids,
}

#[derive(Debug, thiserror::Error)]
pub enum StubError {
    #[error("{0}")]
    Invalid(String),
    #[error("a stub with id {0} exists already")]
    Exists(Uuid),
    #[error(
        "too many stubs (at most {MAX_STUBS}, {MAX_ALL_STUB_BYTES} bytes in all); delete some first"
    )]
    TooMany,
}

impl Stubs {
    /// The stubs loaded at start; an error names the first bad one.
    pub fn new(initial: Vec<StubDef>, seed: Option<u64>) -> Result<Stubs, StubError> {
        let stubs = Stubs {
            list: RwLock::new(Vec::new()),
            next_seq: AtomicU64::new(0),
            initial,
            ids: Ids::for_purpose(seed, "\0stubs"),
        };
        stubs.reset()?;
        Ok(stubs)
    }

    pub fn add(&self, def: StubDef) -> Result<Arc<Stub>, StubError> {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let new_id = || self.ids.uuid();
        let stub = Arc::new(Stub::compile(def, seq, new_id).map_err(StubError::Invalid)?);
        let mut list = write(&self.list);
        if list.iter().any(|s| s.stub.id == stub.id) {
            return Err(StubError::Exists(stub.id));
        }
        let bytes: usize = list.iter().map(|slot| slot.stub.size).sum();
        if list.len() >= MAX_STUBS || bytes + stub.size > MAX_ALL_STUB_BYTES {
            return Err(StubError::TooMany);
        }
        let at = list.partition_point(|Slot { stub: s, .. }| {
            (s.def.priority, u64::MAX - s.seq) < (stub.def.priority, u64::MAX - stub.seq)
        });
        let slot = Slot {
            segments: stub.segments,
            method: stub.method.clone(),
            stub: stub.clone(),
        };
        list.insert(at, slot);
        Ok(stub)
    }

    /// The first stub that matches, counted as called, with the turn of its response.
    pub fn find(&self, request: &RequestView<'_>) -> Option<(Arc<Stub>, usize)> {
        let list = read(&self.list);
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
        let list = read(&self.list);
        list.iter()
            .map(|slot| (slot.stub.clone(), slot.stub.mismatches(request)))
            .filter(|(_, reasons)| !reasons.is_empty())
            .min_by_key(|(stub, reasons)| {
                // Fewer failed parts first; on a tie, one whose path matched.
                (reasons.len(), !stub.path.matches(request.path))
            })
    }

    pub fn get(&self, id: Uuid) -> Option<Arc<Stub>> {
        let list = read(&self.list);
        list.iter()
            .find(|s| s.stub.id == id)
            .map(|s| s.stub.clone())
    }

    pub fn remove(&self, id: Uuid) -> Option<Arc<Stub>> {
        let mut list = write(&self.list);
        let at = list.iter().position(|s| s.stub.id == id)?;
        Some(list.remove(at).stub)
    }

    /// Every stub, or with a namespace those that belong to it.
    pub fn list(&self, namespace: Option<&str>) -> Vec<Arc<Stub>> {
        let list = read(&self.list);
        list.iter()
            .filter(|s| namespace.is_none() || s.stub.def.namespace.as_deref() == namespace)
            .map(|s| s.stub.clone())
            .collect()
    }

    /// Removes every stub, or those of one namespace.
    pub fn clear(&self, namespace: Option<&str>) {
        let mut list = write(&self.list);
        match namespace {
            None => list.clear(),
            Some(namespace) => list.retain(|s| s.stub.def.namespace.as_deref() != Some(namespace)),
        }
    }

    /// Removes every stub added at run time and brings back those loaded at start, uncalled.
    pub fn reset(&self) -> Result<(), StubError> {
        self.clear(None);
        self.ids.reset();
        for (index, def) in self.initial.iter().enumerate() {
            self.add(def.clone()).map_err(|e| {
                let name = def
                    .name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                StubError::Invalid(format!("stub {}{name}: {e}", index + 1))
            })?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        read(&self.list).is_empty()
    }

    /// A fresh id for a template's `uuid` (from the seed, with `--seed`).
    pub fn fresh_id(&self) -> Uuid {
        self.ids.uuid()
    }
}
