//! A mock REST API for integration tests: health, users CRUD with pagination and search,
//! bearer-token auth, seed data and reset over HTTP. `specs/mock-api.yaml` is its contract.
//! Around it, a mock server toolkit under `/__admin` (`specs/mock-admin.yaml`): runtime
//! stubs, a request journal and verification, faults and chaos, namespaces, a controllable
//! clock and snapshots.
//!
//! Modules:
//! - [`store`]: the users and tokens, with every rule that does not depend on HTTP;
//! - [`routes`]: the axum handlers of the API, request validation and their routes;
//! - [`mock`]: the whole server's state and the layer that serves stubs, injects faults and
//!   keeps the journal;
//! - [`admin`]: the admin API;
//! - [`stubs`], [`faults`], [`journal`], [`clock`]: what the admin API controls;
//! - [`data`]: seed users (and the list files stubs share) from a file; [`validate`]: the
//!   field rules it shares with the API;
//! - `ids`: every generated id, token and random draw, seeded or not; `sync`: lock helpers;
//! - [`error`]: the one JSON error body, framework rejections included;
//! - [`spec`]: the embedded OpenAPI documents;
//! - [`request`]: what stubs and fault rules match a request by; [`peer`]: the connection a
//!   request came on; [`namespace`]: namespace names; [`limits`]: shared bounds;
//! - [`app`]: the routes and the admin API behind the layer, as one router;
//! - [`server`]: `run` on a bound listener and [`MockServer`] for Rust tests.

pub mod admin;
pub mod app;
pub mod clock;
pub mod data;
pub mod documented;
pub mod error;
pub mod faults;
mod ids;
pub mod journal;
pub mod limits;
pub mod mock;
pub mod namespace;
pub mod peer;
pub mod request;
pub mod routes;
pub mod server;
pub mod spec;
pub mod store;
pub mod stubs;
mod sync;
pub mod template;
pub mod validate;

pub use app::app;
pub use mock::{Config, Mock};
pub use server::{MockServer, run, shutdown_signal};
pub use store::Store;
