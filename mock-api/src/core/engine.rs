//! What stands between the toolkit and an API engine. An engine (the users demo, or the
//! spec-driven one) keeps its data as a [`Dataset`] per namespace in [`Namespaces`], which
//! the toolkit drives through [`Control`] (reset, snapshots, the namespace listing) without
//! knowing what the data is.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use axum::http::{Method, Uri};
use serde::Serialize;
use time::OffsetDateTime;

use crate::core::clock::{Clock, format_timestamp};
use crate::core::error::AppError;
use crate::core::limits::MAX_NAMESPACES;
use crate::core::sync::{lock, read, write};

/// Snapshots kept per namespace: each is a whole copy of the data.
pub const MAX_SNAPSHOTS: usize = 100;

/// One namespace's data, as an engine keeps it.
pub trait Dataset: Send + Sync + Sized + std::fmt::Debug + 'static {
    /// A copy of the data (and of where its id generators were) for a snapshot.
    type State: Send + Sync + std::fmt::Debug + 'static;
    /// The seed data, fresh, for a new namespace of that name.
    fn fork(&self, namespace: &str) -> Self;
    /// Back to the seed data, ids from the start of their sequence.
    fn reset(&self);
    /// How many records it holds (users, or stored resources).
    fn items(&self) -> usize;
    fn capture(&self) -> Self::State;
    fn restore(&self, state: &Self::State);
}

/// Marks a response of an engine that no route answered (its 404 and 405), so the journal
/// lists the request as unmatched and a miss names the nearest stub.
#[derive(Debug, Clone, Copy)]
pub struct Unrouted;

/// The 404 of a request no route of an engine answers.
pub async fn route_not_found(method: Method, uri: Uri) -> (axum::Extension<Unrouted>, AppError) {
    let error = AppError::RouteNotFound {
        method: method.to_string(),
        path: uri.path().to_owned(),
    };
    (axum::Extension(Unrouted), error)
}

/// The 405 of a method no route of an engine answers on a path it has.
pub async fn method_not_allowed(method: Method, uri: Uri) -> (axum::Extension<Unrouted>, AppError) {
    let error = AppError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    };
    (axum::Extension(Unrouted), error)
}

/// What the admin API shows of a snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    pub name: String,
    /// The records the snapshot holds.
    pub items: usize,
    /// The same count under the users demo's older name, kept for its clients.
    pub users: usize,
    #[serde(serialize_with = "rfc3339")]
    pub taken_at: OffsetDateTime,
}

fn rfc3339<S: serde::Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_timestamp(*at))
}

/// A namespace's data and its snapshots.
#[derive(Debug)]
pub struct Space<D: Dataset> {
    pub data: D,
    snapshots: Mutex<BTreeMap<String, Snapshot<D::State>>>,
}

#[derive(Debug)]
struct Snapshot<S> {
    state: S,
    items: usize,
    taken_at: OffsetDateTime,
}

impl<D: Dataset> Space<D> {
    fn new(data: D) -> Space<D> {
        Space {
            data,
            snapshots: Mutex::new(BTreeMap::new()),
        }
    }
}

impl<D: Dataset> std::ops::Deref for Space<D> {
    type Target = D;

    fn deref(&self) -> &D {
        &self.data
    }
}

/// The default namespace's data and every named one's, forked from the same seed on first
/// use, at most [`MAX_NAMESPACES`] of them.
#[derive(Debug)]
pub struct Namespaces<D: Dataset> {
    default: Arc<Space<D>>,
    named: RwLock<HashMap<String, Arc<Space<D>>>>,
    clock: Arc<Clock>,
}

impl<D: Dataset> Namespaces<D> {
    pub fn new(seed: D, clock: Arc<Clock>) -> Namespaces<D> {
        Namespaces {
            default: Arc::new(Space::new(seed)),
            named: RwLock::new(HashMap::new()),
            clock,
        }
    }

    /// The data a request in `namespace` sees, created from the seed on first use.
    pub fn get(&self, namespace: Option<&str>) -> Result<Arc<Space<D>>, AppError> {
        let Some(namespace) = namespace else {
            return Ok(self.default.clone());
        };
        if let Some(space) = read(&self.named).get(namespace) {
            return Ok(space.clone());
        }
        let mut named = write(&self.named);
        if let Some(space) = named.get(namespace) {
            return Ok(space.clone());
        }
        if named.len() >= MAX_NAMESPACES {
            return Err(AppError::NamespaceLimit);
        }
        let space = Arc::new(Space::new(self.default.data.fork(namespace)));
        named.insert(namespace.to_owned(), space.clone());
        Ok(space)
    }

    /// The default namespace's data.
    pub fn default_data(&self) -> &D {
        &self.default.data
    }
}

/// What the toolkit does to an engine's data, whatever the engine.
pub trait Control: Send + Sync + std::fmt::Debug {
    /// The default data back to its seed and every namespace gone; snapshots of the
    /// default namespace are kept.
    fn reset_all(&self);
    /// One namespace's data back to its seed, if it exists.
    fn reset_namespace(&self, namespace: &str);
    fn save_snapshot(&self, namespace: Option<&str>, name: &str) -> Result<SnapshotInfo, AppError>;
    /// Puts the data back as it was when the snapshot was taken; the snapshot stays.
    fn restore_snapshot(
        &self,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<SnapshotInfo, AppError>;
    fn delete_snapshot(&self, namespace: Option<&str>, name: &str) -> Result<(), AppError>;
    fn snapshots(&self, namespace: Option<&str>) -> Result<Vec<SnapshotInfo>, AppError>;
    /// The namespaces in use, by name, with the records each holds.
    fn namespaces(&self) -> Vec<(String, usize)>;
    /// The records the default namespace holds.
    fn items(&self) -> usize;
}

fn info<S>(name: &str, snapshot: &Snapshot<S>) -> SnapshotInfo {
    SnapshotInfo {
        name: name.to_owned(),
        items: snapshot.items,
        users: snapshot.items,
        taken_at: snapshot.taken_at,
    }
}

fn not_found(name: &str) -> AppError {
    AppError::NotFound {
        code: "snapshot_not_found",
        message: format!("no snapshot named `{name}`"),
    }
}

impl<D: Dataset> Control for Namespaces<D> {
    fn reset_all(&self) {
        self.default.data.reset();
        write(&self.named).clear();
    }

    fn reset_namespace(&self, namespace: &str) {
        if let Some(space) = read(&self.named).get(namespace) {
            space.data.reset();
        }
    }

    fn save_snapshot(&self, namespace: Option<&str>, name: &str) -> Result<SnapshotInfo, AppError> {
        let space = self.get(namespace)?;
        let mut snapshots = lock(&space.snapshots);
        if snapshots.len() >= MAX_SNAPSHOTS && !snapshots.contains_key(name) {
            return Err(AppError::Conflict {
                code: "snapshot_limit",
                message: format!("too many snapshots (at most {MAX_SNAPSHOTS}); delete some first"),
            });
        }
        let snapshot = Snapshot {
            state: space.data.capture(),
            items: space.data.items(),
            taken_at: self.clock.now(),
        };
        let shown = info(name, &snapshot);
        snapshots.insert(name.to_owned(), snapshot);
        Ok(shown)
    }

    fn restore_snapshot(
        &self,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<SnapshotInfo, AppError> {
        let space = self.get(namespace)?;
        let snapshots = lock(&space.snapshots);
        let snapshot = snapshots.get(name).ok_or_else(|| not_found(name))?;
        space.data.restore(&snapshot.state);
        Ok(info(name, snapshot))
    }

    fn delete_snapshot(&self, namespace: Option<&str>, name: &str) -> Result<(), AppError> {
        let space = self.get(namespace)?;
        lock(&space.snapshots)
            .remove(name)
            .map(drop)
            .ok_or_else(|| not_found(name))
    }

    fn snapshots(&self, namespace: Option<&str>) -> Result<Vec<SnapshotInfo>, AppError> {
        let space = self.get(namespace)?;
        Ok(lock(&space.snapshots)
            .iter()
            .map(|(name, snapshot)| info(name, snapshot))
            .collect())
    }

    fn namespaces(&self) -> Vec<(String, usize)> {
        let mut all: Vec<_> = read(&self.named)
            .iter()
            .map(|(name, space)| (name.clone(), space.data.items()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    fn items(&self) -> usize {
        self.default.data.items()
    }
}
