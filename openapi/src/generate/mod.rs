//! Generation on the model, shared by the checker (valid and invalid cases), the mock
//! (responses) and the load generator (valid requests).
//!
//! - [`values`]: values of one schema: random, simplest, boundaries;
//! - [`wire`]: values as text on the wire, and what a server reads back from it;
//! - [`xml`]: XML bodies as a server bound by the schema reads them;
//! - [`cases`]: requests of one operation, each judged valid or invalid by the validator;
//! - [`render`]: a case as an HTTP request (path and query, headers, body).

pub mod cases;
pub mod render;
pub mod values;
pub mod wire;
pub mod xml;

pub use cases::{AuthMode, Case, Judges, Kind, Payload, Plan};
pub use render::{Rendered, render};
pub use values::canonical;
pub use wire::{encode_body, param_text};

#[cfg(test)]
mod tests;
