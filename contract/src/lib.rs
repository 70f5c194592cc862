//! Conformance checking of any HTTP target against any OpenAPI document (2.0, 3.0, 3.1), with
//! property-based generation (proptest), JSON Schema validation (jsonschema) and shrinking.
//! The document, its schemas and the generation of cases come from the `openapi` package.
//!
//! Modules, in the order data flows through them:
//! - [`checks`]: what is wrong with one exchange;
//! - [`auth`]: the declarative login and its token;
//! - [`stateful`]: sequences along the spec's links (or inferred ones), with the checks
//!   that need state;
//! - [`runner`]: the phases in order, sending cases, shrinking failures, deduplicating them;
//! - [`report`]: terminal, JSON and JUnit output.
//!
//! The target is a black box over HTTP: nothing here knows any particular API.

pub mod auth;
pub mod checks;
pub mod report;
pub mod runner;
pub mod stateful;

pub use checks::Check;
pub use runner::{Options, Report, RunError, run};
