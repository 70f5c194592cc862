//! `/__admin/reset`, `/__admin/snapshots` and `/__admin/namespaces`: the data as a whole.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::common::AppResult;
use crate::core::engine::SnapshotInfo;
use crate::core::error::AppError;
use crate::core::namespace::{check_name, namespace_of};
use crate::toolkit::Mock;

/// `GET /__admin/snapshots`.
#[derive(Debug, Serialize)]
pub(super) struct SnapshotList {
    pub(super) snapshots: Vec<SnapshotInfo>,
}

/// `GET /__admin/namespaces`.
#[derive(Debug, Serialize)]
pub(super) struct NamespaceList {
    pub(super) namespaces: Vec<NamespaceInfo>,
}

#[derive(Debug, Serialize)]
pub(super) struct NamespaceInfo {
    pub(super) name: String,
    /// The records it holds (users, or stored resources).
    pub(super) items: usize,
    /// The same count under the users demo's older name.
    pub(super) users: usize,
}

/// `POST /__admin/reset`: with `X-Mock-Namespace`, that namespace; without, everything.
pub(super) async fn reset(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    match namespace_of(&headers)? {
        Some(namespace) => mock.reset_namespace(namespace),
        None => mock.reset_all(),
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn snapshot_name(name: &str) -> AppResult<()> {
    check_name("snapshot name", name).map_err(|e| AppError::Validation(e.to_string()))
}

pub(super) async fn list_snapshots(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
) -> AppResult<Json<SnapshotList>> {
    let snapshots = mock.control.snapshots(namespace_of(&headers)?)?;
    Ok(Json(SnapshotList { snapshots }))
}

/// `POST /__admin/snapshots/{name}`: saves the data of the namespace (or the default).
pub(super) async fn save_snapshot(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> AppResult<Response> {
    snapshot_name(&name)?;
    let info = mock.control.save_snapshot(namespace_of(&headers)?, &name)?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

pub(super) async fn restore_snapshot(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> AppResult<Json<SnapshotInfo>> {
    Ok(Json(
        mock.control
            .restore_snapshot(namespace_of(&headers)?, &name)?,
    ))
}

pub(super) async fn delete_snapshot(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> AppResult<StatusCode> {
    mock.control
        .delete_snapshot(namespace_of(&headers)?, &name)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn list_namespaces(State(mock): State<Arc<Mock>>) -> Json<NamespaceList> {
    let namespaces = mock
        .control
        .namespaces()
        .into_iter()
        .map(|(name, items)| NamespaceInfo {
            name,
            items,
            users: items,
        })
        .collect();
    Json(NamespaceList { namespaces })
}
