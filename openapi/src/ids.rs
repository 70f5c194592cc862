//! Ids that exist on a target, by path template and parameter: what the links and feeds of
//! [`crate::links`] carry out of its answers, kept for the requests that need them. The
//! checker's later phases and the load generator's users draw from the same pool.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::generate::Case;
use crate::links::{Feed, evaluate};
use crate::model::{Api, LinkSpec, Location, Operation};

/// The most ids kept per parameter of a path: the newest stay.
pub const KEPT_IDS: usize = 64;

/// The longest id kept, in bytes of its JSON: an id is short, and the pool's size in bytes is
/// at most this times [`KEPT_IDS`] per parameter.
pub const ID_BYTES: usize = 1024;

/// Ids by path template, then parameter name; newest last, each once. Looked up by `&str`
/// without allocating: a load reads it on every request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdPool {
    ids: BTreeMap<String, BTreeMap<String, Vec<Value>>>,
}

impl IdPool {
    pub fn new() -> IdPool {
        IdPool::default()
    }

    /// Keeps an id of a path's parameter (the oldest goes when the parameter has
    /// [`KEPT_IDS`]); whether it was new. Nulls, empty strings (no path segment) and ids
    /// longer than [`ID_BYTES`] are not kept.
    pub fn keep(&mut self, path: &str, param: &str, id: &Value) -> bool {
        let usable = match id {
            Value::Null => false,
            Value::String(s) => !s.is_empty() && s.len() <= ID_BYTES,
            other => other.to_string().len() <= ID_BYTES,
        };
        if !usable {
            return false;
        }
        let kept = self
            .ids
            .entry(path.to_owned())
            .or_default()
            .entry(param.to_owned())
            .or_default();
        if kept.contains(id) {
            return false;
        }
        if kept.len() == KEPT_IDS {
            kept.remove(0);
        }
        kept.push(id.clone());
        true
    }

    /// Keeps what an answer's feeds give (the ids of a list's items); how many were new.
    pub fn take_feeds(&mut self, feeds: &[Feed], body: &Value) -> usize {
        let mut new = 0;
        for feed in feeds {
            for id in feed.ids(body) {
                new += usize::from(self.keep(&feed.target_path, &feed.param, id));
            }
        }
        new
    }

    /// Keeps what an answer's links give their targets' parameters; how many were new.
    pub fn take_links(
        &mut self,
        api: &Api,
        links: &[LinkSpec],
        case: &Case,
        header: &dyn Fn(&str) -> Option<String>,
        body: Option<&Value>,
    ) -> usize {
        let mut new = 0;
        for link in links {
            let target = &api.operations[link.target].path;
            for (param, expression) in &link.parameters {
                if let Some(value) = evaluate(expression, case, header, body) {
                    new += usize::from(self.keep(target, param, &value));
                }
            }
        }
        new
    }

    /// The ids kept for a path's own parameter.
    pub fn get(&self, path: &str, param: &str) -> Option<&[Value]> {
        self.ids
            .get(path)?
            .get(param)
            .map(Vec::as_slice)
            .filter(|ids| !ids.is_empty())
    }

    /// The ids of a path's parameter: its own, else those of an item above it (the
    /// `{cluster_id}` of `/clusters/{cluster_id}` for `/clusters/{cluster_id}/topics`).
    pub fn for_path(&self, path: &str, param: &str) -> Option<&[Value]> {
        self.get(path, param).or_else(|| {
            self.ids
                .iter()
                .filter(|(above, _)| is_below(path, above))
                .find_map(|(_, params)| params.get(param).filter(|ids| !ids.is_empty()))
                .map(Vec::as_slice)
        })
    }

    /// The ids kept for each of an operation's path parameters that has some.
    pub fn for_operation(&self, operation: &Operation) -> Vec<(String, Vec<Value>)> {
        operation
            .params
            .iter()
            .filter(|p| p.location == Location::Path)
            .filter_map(|p| {
                self.get(&operation.path, &p.name)
                    .map(|ids| (p.name.clone(), ids.to_vec()))
            })
            .collect()
    }

    /// Forgets an id (its item was deleted).
    pub fn forget(&mut self, path: &str, param: &str, id: &Value) {
        if let Some(kept) = self.ids.get_mut(path).and_then(|p| p.get_mut(param)) {
            kept.retain(|v| v != id);
        }
    }

    /// How many ids are kept in all.
    pub fn len(&self) -> usize {
        self.ids
            .values()
            .flat_map(|p| p.values())
            .map(Vec::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether `path` lies below the item path `above` (`/clusters/{cluster_id}/topics` below
/// `/clusters/{cluster_id}`).
pub fn is_below(path: &str, above: &str) -> bool {
    path.len() > above.len() && path.starts_with(above) && path.as_bytes()[above.len()] == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_the_newest_usable_ids_once_each() {
        let mut pool = IdPool::new();
        assert!(pool.keep("/things/{id}", "id", &json!(1)));
        assert!(!pool.keep("/things/{id}", "id", &json!(1)));
        for unusable in [json!(null), json!(""), json!("x".repeat(ID_BYTES + 1))] {
            assert!(!pool.keep("/things/{id}", "id", &unusable));
        }
        for id in 2..=(KEPT_IDS as u64 + 1) {
            pool.keep("/things/{id}", "id", &json!(id));
        }
        let kept = pool.get("/things/{id}", "id").unwrap();
        assert_eq!(kept.len(), KEPT_IDS);
        assert_eq!(
            (kept[0].clone(), kept[KEPT_IDS - 1].clone()),
            (json!(2), json!(65))
        );
        // An item's ids serve the paths below it; a path beside it gets none.
        assert!(pool.for_path("/things/{id}/parts", "id").is_some());
        assert!(pool.for_path("/things/{id}x", "id").is_none());
        pool.forget("/things/{id}", "id", &json!(65));
        assert_eq!(pool.len(), KEPT_IDS - 1);
    }
}
