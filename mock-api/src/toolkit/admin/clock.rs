//! `/__admin/clock`: the mock's clock, frozen, moved or released.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::Duration;

use super::common::{AppResult, JsonBody, parse_body};
use crate::core::error::AppError;
use crate::toolkit::Mock;

/// `GET /__admin/clock`.
#[derive(Debug, Serialize)]
pub(super) struct ClockState {
    pub(super) now: String,
    pub(super) frozen: bool,
}

pub(super) fn clock_json(mock: &Mock) -> Json<ClockState> {
    Json(ClockState {
        now: crate::core::clock::format_timestamp(mock.clock.now()),
        frozen: mock.clock.is_frozen(),
    })
}

pub(super) async fn get_clock(State(mock): State<Arc<Mock>>) -> Json<ClockState> {
    clock_json(&mock)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClockChange {
    pub(super) now: Option<String>,
    pub(super) advance_ms: Option<u64>,
}

/// `POST /__admin/clock`: `{"now": RFC3339}` freezes the clock there; `{"advance_ms": N}`
/// moves it on (freezing a running clock at now + N).
pub(super) async fn set_clock(
    State(mock): State<Arc<Mock>>,
    body: JsonBody,
) -> AppResult<Json<ClockState>> {
    let change: ClockChange = parse_body(body)?;
    match change {
        ClockChange {
            now: Some(now),
            advance_ms: None,
        } => mock.clock.set(Some(
            crate::core::clock::parse(&now).map_err(|e| AppError::Validation(e.to_string()))?,
        )),
        ClockChange {
            now: None,
            advance_ms: Some(ms),
        } => {
            let by = i64::try_from(ms)
                .ok()
                .map(Duration::milliseconds)
                .ok_or_else(|| AppError::Validation("advance_ms is too large".into()))?;
            mock.clock.advance(by).ok_or_else(|| {
                AppError::Validation("advance_ms moves the clock out of range".into())
            })?;
        }
        _ => {
            return Err(AppError::Validation(
                "give exactly one of `now` (RFC 3339) or `advance_ms`".into(),
            ));
        }
    }
    Ok(clock_json(&mock))
}

/// `DELETE /__admin/clock`: back to the system's time.
pub(super) async fn release_clock(State(mock): State<Arc<Mock>>) -> Json<ClockState> {
    mock.clock.set(None);
    clock_json(&mock)
}
