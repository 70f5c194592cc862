//! The admin API under `/__admin` (documented in `specs/mock-admin.yaml`): reset, stubs and
//! their verification, the request journal, faults and chaos, the clock, snapshots and
//! namespaces. It answers loopback clients only, or with `--admin-token` whoever has it.

mod clock;
mod common;
mod faults;
mod guard;
mod requests;
mod state;
mod stubs;

use std::sync::Arc;

use axum::Router;
use axum::middleware::{self};
use axum::routing::{get, post};

use crate::toolkit::Mock;
use clock::{get_clock, release_clock, set_clock};
use faults::{
    clear_chaos, create_rule, delete_rule, delete_rules, get_chaos, get_rule, list_rules, set_chaos,
};
use guard::guard;
use requests::{clear_requests, list_requests, unmatched_requests};
use state::{
    delete_snapshot, list_namespaces, list_snapshots, reset, restore_snapshot, save_snapshot,
};
use stubs::{
    create_stub, delete_stub, delete_stubs, get_stub, list_stubs, stub_requests, verify_stub,
};

/// `specs/mock-admin.yaml`: the admin API under `/__admin`.
pub const ADMIN_YAML: &str = include_str!("../../../../specs/mock-admin.yaml");

pub fn router(mock: Arc<Mock>) -> Router<Arc<Mock>> {
    Router::new()
        .route("/__admin/reset", post(reset))
        .route(
            "/__admin/stubs",
            get(list_stubs).post(create_stub).delete(delete_stubs),
        )
        .route("/__admin/stubs/{id}", get(get_stub).delete(delete_stub))
        .route("/__admin/stubs/{id}/requests", get(stub_requests))
        .route("/__admin/stubs/{id}/verify", post(verify_stub))
        .route(
            "/__admin/requests",
            get(list_requests).delete(clear_requests),
        )
        .route("/__admin/requests/unmatched", get(unmatched_requests))
        .route(
            "/__admin/faults",
            get(list_rules).post(create_rule).delete(delete_rules),
        )
        .route("/__admin/faults/{id}", get(get_rule).delete(delete_rule))
        .route(
            "/__admin/chaos",
            get(get_chaos).put(set_chaos).delete(clear_chaos),
        )
        .route(
            "/__admin/clock",
            get(get_clock).post(set_clock).delete(release_clock),
        )
        .route("/__admin/snapshots", get(list_snapshots))
        .route(
            "/__admin/snapshots/{name}",
            post(save_snapshot).delete(delete_snapshot),
        )
        .route("/__admin/snapshots/{name}/restore", post(restore_snapshot))
        .route("/__admin/namespaces", get(list_namespaces))
        .method_not_allowed_fallback(crate::core::engine::method_not_allowed)
        .route_layer(middleware::from_fn_with_state(mock, guard))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use crate::app::Config;
    use crate::core::peer::Peer;

    async fn status_from(addr: &str, config: &Config, token: Option<&str>) -> StatusCode {
        let app = crate::app::build(config).unwrap().service;
        let mut request = Request::get("/__admin/stubs");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let mut request = request.body(Body::empty()).unwrap();
        let addr: SocketAddr = addr.parse().unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(Peer::without_socket(addr)));
        app.oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn only_loopback_gets_in_without_a_token() {
        let open = Config::default();
        assert_eq!(
            status_from("127.0.0.1:5000", &open, None).await,
            StatusCode::OK
        );
        assert_eq!(status_from("[::1]:5000", &open, None).await, StatusCode::OK);
        assert_eq!(
            status_from("[::ffff:127.0.0.1]:5000", &open, None).await,
            StatusCode::OK
        );
        assert_eq!(
            status_from("10.1.2.3:5000", &open, None).await,
            StatusCode::FORBIDDEN
        );
        let guarded = Config {
            admin_token: Some("t".to_owned()),
            ..Config::default()
        };
        assert_eq!(
            status_from("10.1.2.3:5000", &guarded, Some("t")).await,
            StatusCode::OK
        );
        assert_eq!(
            status_from("127.0.0.1:5000", &guarded, None).await,
            StatusCode::UNAUTHORIZED
        );
    }
}
