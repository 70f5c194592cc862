//! A mock server for integration tests in any language: an API engine behind the mock
//! toolkit. The engine is the users demo (`specs/mock-api.yaml`: health, users CRUD with
//! pagination and search, bearer-token auth) or any OpenAPI document served as a stateful,
//! validating mock (`--spec`). The toolkit under `/__admin` (`specs/mock-admin.yaml`) works
//! the same on either: runtime stubs, a request journal and verification, faults and chaos,
//! namespaces, a controllable clock and snapshots.
//!
//! Layers, each using only those before it:
//! - [`core`]: what the toolkit and the engines share: the clock, ids, the JSON error
//!   body, bounds, namespaces, and [`core::engine`], the interface between them;
//! - [`engines`]: the users demo and the spec-driven engine;
//! - [`toolkit`]: the layer in front of an engine, and the admin API;
//! - [`app`]: picks the engine and puts the toolkit in front of it;
//! - [`server`]: `run` on a bound listener and [`MockServer`] for Rust tests.

pub mod app;
pub mod core;
pub mod engines;
pub mod server;
pub mod toolkit;

pub use app::{App, Config, build};
pub use server::{Driving, MockServer, run, shutdown_signal};
pub use toolkit::Mock;

/// The embedded documents of the users demo and of the admin API.
pub mod spec {
    pub use crate::engines::users::document::{YAML, json, json_text};
    pub use crate::toolkit::admin::ADMIN_YAML;
}
