//! The users demo: health, users CRUD with pagination and search, bearer-token auth, seed
//! data; `specs/mock-api.yaml` is its contract.
//!
//! - [`store`]: the users and tokens, with every rule that does not depend on HTTP;
//! - [`routes`]: the axum handlers, request validation and their routes;
//! - [`data`]: seed users from a file; [`validate`]: the field rules both share;
//! - [`document`]: the embedded document; [`error`]: the demo's own errors;
//! - `engine`: the state every handler shares.

pub mod data;
pub mod document;
mod engine;
pub mod error;
pub mod routes;
pub mod store;
pub mod validate;

use std::sync::Arc;

use axum::Router;

use crate::core::engine::{method_not_allowed, route_not_found};
pub use engine::Users;

/// The routes, with their state attached.
pub fn router(users: &Arc<Users>) -> Router {
    routes::router()
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(users.clone())
}
