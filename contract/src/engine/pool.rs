//! Real values for path parameters, captured from the target's answers by the sequences and
//! drawn from by every later phase, so `GET /things/{id}` also sees ids that exist: the one
//! pool of `openapi::ids`, which the load generator's users draw from too.

use openapi::model::{Location, Operation};

pub use openapi::ids::IdPool as Pool;

pub fn path_params(operation: &Operation) -> impl Iterator<Item = String> + '_ {
    operation
        .params
        .iter()
        .filter(|p| p.location == Location::Path)
        .map(|p| p.name.clone())
}
