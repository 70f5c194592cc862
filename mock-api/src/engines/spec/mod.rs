//! The spec-driven engine: any OpenAPI document (2.0, 3.0, 3.1, through the shared model)
//! served as a stateful, validating mock.
//!
//! - [`routing`]: the document's path templates, matched;
//! - [`validate`]: a request judged against its operation;
//! - [`data`]: the stored items per namespace; [`values`]: values that conform;
//! - [`respond`]: documented responses and errors;
//! - [`handler`]: one request, from the route to the response;
//! - `engine`: the document, what was inferred from it, and the stored items.

pub mod data;
mod engine;
pub mod handler;
pub mod respond;
pub mod routing;
pub mod validate;
pub mod values;

use std::sync::Arc;

use axum::Router;

pub use engine::{Options, SpecEngine, SpecError, load, server_path};

/// The routes: every request goes to the one handler, which routes by the document.
pub fn router(engine: &Arc<SpecEngine>) -> Router {
    Router::new()
        .fallback(handler::handle)
        .with_state(engine.clone())
}
