//! The demo's state: one store per namespace, and the clock it tells time by.

use std::sync::Arc;

use super::store::{Seed, Store};
use crate::core::clock::Clock;
use crate::core::engine::{Control, Namespaces};

/// The demo's state: one [`Store`] per namespace, and the clock it tells time by.
#[derive(Debug)]
pub struct Users {
    pub namespaces: Arc<Namespaces<Store>>,
    pub clock: Arc<Clock>,
}

impl Users {
    pub fn new(seed: &Seed, clock: Arc<Clock>) -> Arc<Users> {
        Arc::new(Users {
            namespaces: Arc::new(Namespaces::new(
                Store::new(seed, clock.clone()),
                clock.clone(),
            )),
            clock,
        })
    }

    /// What the toolkit resets and snapshots.
    pub fn control(self: &Arc<Users>) -> Arc<dyn Control> {
        self.namespaces.clone()
    }

    /// The default namespace's data, for assertions that HTTP cannot make.
    pub fn store(&self) -> &Store {
        self.namespaces.default_data()
    }
}
