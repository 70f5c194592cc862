//! Conformance checking of any HTTP target against any OpenAPI 3.0 document, with
//! property-based generation (proptest), JSON Schema validation (jsonschema) and shrinking.
//!
//! Modules, in the order data flows through them:
//! - [`spec`]: parse the document (openapiv3) into operations, `$ref`s resolved;
//! - [`schema`]: OpenAPI 3.0 schemas as JSON Schema 2020-12, with compiled validators;
//! - [`generate`]: test cases: examples, boundaries, random valid data, single-constraint
//!   violations;
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
pub mod generate;
pub mod report;
pub mod runner;
pub mod schema;
pub mod spec;
pub mod stateful;

pub use checks::Check;
pub use runner::{Options, Report, RunError, run};
