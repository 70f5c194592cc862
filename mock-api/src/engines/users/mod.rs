//! The users demo: health, users CRUD with pagination and search, bearer-token auth, seed
//! data; `specs/mock-api.yaml` is its contract.
//!
//! - [`store`]: the users and tokens, with every rule that does not depend on HTTP;
//! - [`routes`]: the axum handlers, request validation and their routes;
//! - [`data`]: seed users from a file; [`validate`]: the field rules both share;
//! - [`document`]: the embedded document; [`error`]: the demo's own errors.

pub mod data;
pub mod document;
pub mod error;
pub mod routes;
pub mod store;
pub mod validate;

use std::sync::Arc;

use axum::Router;

use crate::core::clock::Clock;
use crate::core::engine::{Control, Namespaces, method_not_allowed, route_not_found};
use store::{Seed, Store};

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

    /// The routes, with their state attached.
    pub fn router(self: &Arc<Users>) -> Router {
        routes::router()
            .fallback(route_not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(self.clone())
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
