//! A mock REST API for integration tests: health, users CRUD with pagination and search,
//! bearer-token auth, seed data and reset over HTTP. `specs/mock-api.yaml` is its contract.
//!
//! Modules:
//! - [`store`]: the users and tokens, with every rule that does not depend on HTTP;
//! - [`routes`]: the axum handlers, request validation and the router;
//! - [`error`]: the one JSON error body, framework rejections included;
//! - [`spec`]: the embedded OpenAPI document;
//! - [`server`]: `run` on a bound listener and [`MockServer`] for Rust tests.

pub mod error;
pub mod routes;
pub mod server;
pub mod spec;
pub mod store;

pub use routes::app;
pub use server::{MockServer, run, shutdown_signal};
pub use store::{Config, Store};
