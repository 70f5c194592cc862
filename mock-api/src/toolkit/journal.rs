//! The request journal: the last N requests outside the admin API, in a ring buffer, so a
//! long load run keeps memory flat. Stub call counts live on the stubs and never roll off.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::core::sync::lock;
use crate::toolkit::request::PathMatcher;

/// Entries kept unless `--journal-size` says otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Bytes of each request body kept; the rest is counted, not stored.
pub const BODY_KEPT: usize = 8 * 1024;
/// Bytes the journal's entries may hold in all: past it the oldest go, whatever the count.
pub const MAX_BYTES: usize = 64 << 20;
/// Entries `GET /__admin/requests` answers when no `limit` is given, and at most.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1_000;

#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    ring: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Arc<Entry>>,
    /// What the entries hold, in bytes.
    bytes: usize,
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
    pub request: Recorded,
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
        self.method
            .as_ref()
            .is_none_or(|m| *m == entry.request.method)
            && self
                .path
                .as_ref()
                .is_none_or(|p| p.matches(entry.request.path()))
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
        let mut ring = lock(&self.ring);
        ring.next_id += 1;
        entry.id = ring.next_id;
        let size = entry.bytes();
        while ring.entries.len() >= self.capacity
            || (ring.bytes + size > MAX_BYTES && !ring.entries.is_empty())
        {
            if let Some(old) = ring.entries.pop_front() {
                ring.bytes -= old.bytes();
            }
            ring.dropped += 1;
        }
        ring.bytes += size;
        ring.entries.push_back(Arc::new(entry));
    }

    pub fn select(&self, filter: &Filter) -> Selection {
        let ring = lock(&self.ring);
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
        let mut ring = lock(&self.ring);
        match namespace {
            None => {
                ring.entries.clear();
                ring.dropped = 0;
            }
            Some(namespace) => ring
                .entries
                .retain(|e| e.namespace.as_deref() != Some(namespace)),
        }
        ring.bytes = ring.entries.iter().map(|e| e.bytes()).sum();
    }
}

/// What is recorded of a request before it is answered.
#[derive(Debug)]
pub struct Recorded {
    pub at: OffsetDateTime,
    pub method: Method,
    /// The target and the headers in one allocation: `path?query`, then `\nname: value` per
    /// header. Owned copies, not slices of hyper's read buffer, which an entry would pin.
    head: Box<str>,
    /// Where the path ends in `head`, and where the target does.
    path_end: usize,
    target_end: usize,
    /// The first [`BODY_KEPT`] bytes.
    pub body: Bytes,
    pub body_size: usize,
}

impl Recorded {
    pub fn new(
        at: OffsetDateTime,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Recorded {
        let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let mut head = String::with_capacity(target.len() + 32 * headers.len());
        head.push_str(target);
        for (name, value) in headers {
            head.push('\n');
            head.push_str(name.as_str());
            head.push_str(": ");
            // Line breaks cannot be in a header value, so the lines split back cleanly.
            head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        }
        // A copy, even when short: the body may be a slice of hyper's read buffer.
        let kept = match body.is_empty() {
            true => Bytes::new(),
            false => Bytes::copy_from_slice(&body[..body.len().min(BODY_KEPT)]),
        };
        Recorded {
            at,
            method: method.clone(),
            path_end: uri.path().len(),
            target_end: target.len(),
            head: head.into_boxed_str(),
            body_size: body.len(),
            body: kept,
        }
    }

    pub fn path(&self) -> &str {
        &self.head[..self.path_end]
    }

    pub fn query(&self) -> Option<&str> {
        self.head[self.path_end..self.target_end].strip_prefix('?')
    }

    fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.head[self.target_end..]
            .split('\n')
            .skip(1)
            .filter_map(|line| line.split_once(": "))
    }

    /// The recorded request as matching sees it, to find its nearest stub.
    pub fn parts(&self) -> (Uri, HeaderMap) {
        let uri = self.head[..self.target_end].parse().unwrap_or_default();
        let mut headers = HeaderMap::new();
        for (name, value) in self.headers() {
            if let (Ok(name), Ok(value)) = (
                axum::http::HeaderName::from_bytes(name.as_bytes()),
                axum::http::HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        (uri, headers)
    }
}

/// A journal entry as the admin API shows it (`specs/mock-admin.yaml`'s `JournalEntry`).
#[derive(Debug, Serialize)]
pub struct EntryView<'a> {
    pub id: u64,
    pub at: String,
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Each name once, repeated ones joined.
    pub headers: BTreeMap<&'a str, String>,
    pub body: std::borrow::Cow<'a, str>,
    pub body_size: usize,
    pub namespace: Option<&'a str>,
    pub served_by: &'static str,
    pub stub_id: Option<Uuid>,
    pub status: u16,
    pub injected: Option<&'a str>,
    pub elapsed_ms: f64,
}

impl Entry {
    /// What the entry holds on the heap, roughly: its head, body and strings.
    fn bytes(&self) -> usize {
        size_of::<Entry>()
            + self.request.head.len()
            + self.request.body.len()
            + self.namespace.as_ref().map_or(0, String::len)
            + self.injected.as_ref().map_or(0, String::len)
    }

    /// The entry as the admin API shows it.
    pub fn view(&self) -> EntryView<'_> {
        let request = &self.request;
        let mut headers: BTreeMap<&str, String> = BTreeMap::new();
        for (name, value) in request.headers() {
            headers
                .entry(name)
                // Repeated headers are joined, as HTTP allows for most of them.
                .and_modify(|first| {
                    first.push_str(", ");
                    first.push_str(value);
                })
                .or_insert_with(|| value.to_owned());
        }
        EntryView {
            id: self.id,
            at: crate::core::clock::format_timestamp(request.at),
            method: request.method.as_str(),
            path: request.path(),
            query: request.query(),
            headers,
            body: String::from_utf8_lossy(&request.body),
            body_size: request.body_size,
            namespace: self.namespace.as_deref(),
            served_by: self.served_by.name(),
            stub_id: match self.served_by {
                ServedBy::Stub(id) => Some(id),
                _ => None,
            },
            status: self.status,
            injected: self.injected.as_deref(),
            elapsed_ms: (self.elapsed.as_secs_f64() * 1e6).round() / 1e3,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(path: &str) -> Entry {
        let mut headers = HeaderMap::new();
        headers.insert("x-one", "1".parse().unwrap());
        headers.append("x-one", "2".parse().unwrap());
        let body = Bytes::from(vec![b'x'; BODY_KEPT + 10]);
        let recorded = Recorded::new(
            OffsetDateTime::UNIX_EPOCH,
            &Method::GET,
            &path.parse().unwrap(),
            &headers,
            &body,
        );
        Entry {
            id: 0,
            request: recorded,
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
        let paths: Vec<&str> = all.entries.iter().map(|e| e.request.path()).collect();
        assert_eq!(paths, ["/2", "/3", "/4"]);
        let json = all.entries[0].to_json();
        assert_eq!(json["headers"], json!({"x-one": "1, 2"}));
        let (uri, headers) = all.entries[0].request.parts();
        assert_eq!(
            (uri.path(), headers.get_all("x-one").iter().count()),
            ("/2", 2)
        );
        assert_eq!((all.total, all.dropped), (3, 2));
        assert_eq!(all.entries[0].id, 3);
        assert_eq!(all.entries[0].request.body.len(), BODY_KEPT);
        let filter = Filter {
            since: Some(3),
            limit: Some(1),
            ..Filter::default()
        };
        let newest = journal.select(&filter);
        assert_eq!((newest.entries[0].request.path(), newest.total), ("/4", 2));
        let with_query = entry("/q?a=1");
        assert_eq!(
            (with_query.request.path(), with_query.request.query()),
            ("/q", Some("a=1"))
        );
        let off = Journal::new(0);
        off.record(entry("/"));
        assert_eq!(off.select(&Filter::default()).total, 0);
    }
}
