//! Real values for path parameters, captured from the target's answers by the sequences and
//! drawn from by every later phase, so `GET /things/{id}` also sees ids that exist.

use std::collections::BTreeMap;

use serde_json::Value;

use openapi::model::{Location, Operation};

/// Values captured from responses, by (path template, parameter name); newest last.
pub type Pool = BTreeMap<(String, String), Vec<Value>>;

/// The pooled values for an operation's path parameters.
pub fn pool_for(pool: &Pool, operation: &Operation) -> Vec<(String, Vec<Value>)> {
    path_params(operation)
        .filter_map(|name| {
            pool.get(&(operation.path.clone(), name.clone()))
                .map(|values| (name, values.clone()))
        })
        .collect()
}

pub fn path_params(operation: &Operation) -> impl Iterator<Item = String> + '_ {
    operation
        .params
        .iter()
        .filter(|p| p.location == Location::Path)
        .map(|p| p.name.clone())
}
