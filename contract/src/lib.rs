//! Conformance checking of any HTTP target against any OpenAPI document (2.0, 3.0, 3.1), with
//! property-based generation (proptest), JSON Schema validation (jsonschema) and shrinking.
//! The document, its schemas and the generation of cases come from the `openapi` package.
//!
//! A one-way pipeline; each module knows only those above it in this list:
//! - [`tls`]: how HTTPS is spoken (the shared model's `openapi::tls`);
//! - [`transport`]: the client (TLS, no compression) and bounded reads;
//! - [`auth`]: the declarative login and its token;
//! - [`http`]: a case bound to the target as a request, sent, and what came back;
//! - [`checks`]: one file per check, judging exchanges and what sequences saw;
//! - [`report`]: what a run found, and its terminal, JSON and JUnit forms;
//! - [`engine`]: the phases in order (probes, sequences, per-operation cases), shrinking
//!   failures and reporting each distinct one once;
//! - [`setup`]: what the command line and a config file say, read into what a run needs.
//!
//! The target is a black box over HTTP: nothing here knows any particular API.

pub mod auth;
pub mod checks;
pub mod engine;
pub mod http;
pub mod report;
pub mod setup;
pub use openapi::tls;
pub mod transport;

pub use checks::Check;
pub use engine::{Options, RunError, run};
pub use report::Report;
