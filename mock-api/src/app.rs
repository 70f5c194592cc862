//! The whole application: the built-in routes and the admin API, behind the layer that
//! serves stubs, injects faults and keeps the journal.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;

use crate::limits::BODY_LIMIT;
use crate::mock::{Mock, intercept};
use crate::{admin, routes};

/// The mock API's router, ready to serve.
pub fn app(mock: Arc<Mock>) -> Router {
    routes::router()
        .merge(admin::router(mock.clone()))
        .fallback(routes::route_not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            mock.clone(),
            intercept,
        ))
        .with_state(mock)
}
