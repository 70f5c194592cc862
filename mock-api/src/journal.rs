//! The request journal: the last N requests outside the admin API, in a ring buffer, so a
//! long load run keeps memory flat. Stub call counts live on the stubs and never roll off.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::stubs::{PathMatcher, RequestView};

/// Entries kept unless `--journal-size` says otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Bytes of each request body kept; the rest is counted, not stored.
pub const BODY_KEPT: usize = 8 * 1024;

#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    ring: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Arc<Entry>>,
    next_id: u64,
    /// Entries pushed out by newer ones since the last clear.
    dropped: u64,
}

/// Who answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServedBy {
    Stub(Uuid),
    /// A built-in route.
    Api,
    /// Neither a stub nor a built-in route: the 404 or 405 of an unknown route.
    Unmatched,
}

impl ServedBy {
    fn name(self) -> &'static str {
        match self {
            ServedBy::Stub(_) => "stub",
            ServedBy::Api => "api",
            ServedBy::Unmatched => "unmatched",
        }
    }
}

#[derive(Debug)]
pub struct Entry {
    pub id: u64,
    pub at: OffsetDateTime,
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    /// The first [`BODY_KEPT`] bytes.
    pub body: Bytes,
    pub body_size: usize,
    pub namespace: Option<String>,
    pub served_by: ServedBy,
    pub status: u16,
    /// What was injected, as `delay=200 status=503`.
    pub injected: Option<String>,
    pub elapsed: Duration,
}

/// What `GET /__admin/requests` selects by.
#[derive(Debug, Default)]
pub struct Filter {
    pub method: Option<Method>,
    pub path: Option<PathMatcher>,
    pub namespace: Option<String>,
    pub stub: Option<Uuid>,
    pub served_by: Option<String>,
    /// Only entries with a greater id.
    pub since: Option<u64>,
    /// The newest this many of those selected.
    pub limit: Option<usize>,
}

impl Filter {
    fn selects(&self, entry: &Entry) -> bool {
        self.method.as_ref().is_none_or(|m| *m == entry.method)
            && self
                .path
                .as_ref()
                .is_none_or(|p| p.matches(entry.uri.path()))
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| entry.namespace.as_deref() == Some(n))
            && self
                .stub
                .is_none_or(|id| entry.served_by == ServedBy::Stub(id))
            && self
                .served_by
                .as_deref()
                .is_none_or(|s| s == entry.served_by.name())
            && self.since.is_none_or(|since| entry.id > since)
    }
}

/// A selection: the entries in arrival order, how many matched in all, how many are gone.
#[derive(Debug)]
pub struct Selection {
    pub entries: Vec<Arc<Entry>>,
    pub total: usize,
    pub dropped: u64,
}

impl Journal {
    /// A journal of `capacity` entries; 0 turns recording off.
    pub fn new(capacity: usize) -> Journal {
        Journal {
            capacity,
            ring: Mutex::new(Ring::default()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Records an entry; its `id` is assigned here.
    pub fn record(&self, mut entry: Entry) {
        if !self.enabled() {
            return;
        }
        // Copy a long body's head so the entry does not pin the whole buffer.
        if entry.body.len() > BODY_KEPT {
            entry.body = Bytes::copy_from_slice(&entry.body[..BODY_KEPT]);
        }
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        ring.next_id += 1;
        entry.id = ring.next_id;
        if ring.entries.len() == self.capacity {
            ring.entries.pop_front();
            ring.dropped += 1;
        }
        ring.entries.push_back(Arc::new(entry));
    }

    pub fn select(&self, filter: &Filter) -> Selection {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let selected: Vec<Arc<Entry>> = ring
            .entries
            .iter()
            .filter(|e| filter.selects(e))
            .cloned()
            .collect();
        let total = selected.len();
        let skip = filter.limit.map_or(0, |limit| total.saturating_sub(limit));
        Selection {
            entries: selected.into_iter().skip(skip).collect(),
            total,
            dropped: ring.dropped,
        }
    }

    /// Forgets every entry, or those of one namespace.
    pub fn clear(&self, namespace: Option<&str>) {
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        match namespace {
            None => {
                ring.entries.clear();
                ring.dropped = 0;
            }
            Some(namespace) => ring
                .entries
                .retain(|e| e.namespace.as_deref() != Some(namespace)),
        }
    }
}

impl Entry {
    /// What matching sees of the recorded request, to find its nearest stub.
    pub fn view(&self) -> RequestView<'_> {
        RequestView::new(
            &self.method,
            &self.uri,
            &self.headers,
            &self.body,
            self.namespace.as_deref(),
        )
    }

    pub fn to_json(&self) -> Value {
        let mut headers = Map::new();
        for (name, value) in &self.headers {
            let value = Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned());
            match headers.get_mut(name.as_str()) {
                // Repeated headers are joined, as HTTP allows for most of them.
                Some(Value::String(first)) => {
                    first.push_str(", ");
                    first.push_str(value.as_str().unwrap_or_default());
                }
                _ => {
                    headers.insert(name.as_str().to_owned(), value);
                }
            }
        }
        let stub = match self.served_by {
            ServedBy::Stub(id) => json!(id),
            _ => Value::Null,
        };
        json!({
            "id": self.id,
            "at": crate::store::format_timestamp(self.at),
            "method": self.method.as_str(),
            "path": self.uri.path(),
            "query": self.uri.query(),
            "headers": headers,
            "body": String::from_utf8_lossy(&self.body),
            "body_size": self.body_size,
            "namespace": self.namespace,
            "served_by": self.served_by.name(),
            "stub_id": stub,
            "status": self.status,
            "injected": self.injected,
            "elapsed_ms": (self.elapsed.as_secs_f64() * 1e6).round() / 1e3,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        Entry {
            id: 0,
            at: OffsetDateTime::UNIX_EPOCH,
            method: Method::GET,
            uri: path.parse().unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::from(vec![b'x'; BODY_KEPT + 10]),
            body_size: BODY_KEPT + 10,
            namespace: None,
            served_by: ServedBy::Api,
            status: 200,
            injected: None,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn the_ring_keeps_the_newest() {
        let journal = Journal::new(3);
        for i in 0..5 {
            journal.record(entry(&format!("/{i}")));
        }
        let all = journal.select(&Filter::default());
        let paths: Vec<&str> = all.entries.iter().map(|e| e.uri.path()).collect();
        assert_eq!(paths, ["/2", "/3", "/4"]);
        assert_eq!((all.total, all.dropped), (3, 2));
        assert_eq!(all.entries[0].id, 3);
        assert_eq!(all.entries[0].body.len(), BODY_KEPT);
        let filter = Filter {
            since: Some(3),
            limit: Some(1),
            ..Filter::default()
        };
        let newest = journal.select(&filter);
        assert_eq!((newest.entries[0].uri.path(), newest.total), ("/4", 2));
        let off = Journal::new(0);
        off.record(entry("/"));
        assert_eq!(off.select(&Filter::default()).total, 0);
    }
}
