//! `/__admin/faults` and `/__admin/chaos`: route fault rules and global chaos.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::common::{AppResult, JsonBody, created, not_found, parse_body, refused, uuid};
use crate::core::error::AppError;
use crate::core::namespace::namespace_of;
use crate::toolkit::Mock;
use crate::toolkit::faults::{Chaos, RuleDef};

/// `GET /__admin/faults`.
#[derive(Debug, Serialize)]
pub(super) struct RuleList {
    pub(super) faults: Vec<RuleDef>,
}

pub(super) fn rule_json(rule: &crate::toolkit::faults::Rule) -> Value {
    serde_json::to_value(&rule.def).unwrap_or_default()
}

pub(super) async fn create_rule(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    body: JsonBody,
) -> AppResult<Response> {
    let namespace = namespace_of(&headers)?;
    let mut def: RuleDef = parse_body(body)?;
    if def.namespace.is_none() {
        def.namespace = namespace.map(str::to_owned);
    }
    let rule = mock.faults.add_rule(def).map_err(refused)?;
    Ok(created(
        format!("/__admin/faults/{}", rule.id),
        rule_json(&rule),
    ))
}

pub(super) async fn list_rules(State(mock): State<Arc<Mock>>) -> Json<RuleList> {
    let faults = mock.faults.rules().iter().map(|r| r.def.clone()).collect();
    Json(RuleList { faults })
}

pub(super) async fn delete_rules(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    mock.faults.remove_rules(namespace_of(&headers)?);
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn get_rule(
    State(mock): State<Arc<Mock>>,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let uuid = uuid(&id, "fault rule", "fault_not_found")?;
    let rule = mock
        .faults
        .rule(uuid)
        .ok_or_else(|| not_found("fault rule", "fault_not_found", &id))?;
    Ok(Json(rule_json(&rule)))
}

pub(super) async fn delete_rule(
    State(mock): State<Arc<Mock>>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let uuid = uuid(&id, "fault rule", "fault_not_found")?;
    mock.faults
        .remove_rule(uuid)
        .ok_or_else(|| not_found("fault rule", "fault_not_found", &id))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn chaos_json(chaos: Option<Chaos>) -> Value {
    let chaos = chaos.unwrap_or(Chaos {
        error_rate: 0.0,
        error_status: 503,
        latency_rate: 0.0,
        latency_ms: None,
    });
    serde_json::to_value(chaos).unwrap_or_default()
}

pub(super) async fn get_chaos(State(mock): State<Arc<Mock>>) -> Json<Value> {
    Json(chaos_json(mock.faults.chaos()))
}

pub(super) async fn set_chaos(
    State(mock): State<Arc<Mock>>,
    body: JsonBody,
) -> AppResult<Json<Value>> {
    let chaos: Chaos = parse_body(body)?;
    mock.faults
        .set_chaos(Some(chaos))
        .map_err(AppError::Validation)?;
    Ok(Json(chaos_json(mock.faults.chaos())))
}

pub(super) async fn clear_chaos(State(mock): State<Arc<Mock>>) -> StatusCode {
    let _ = mock.faults.set_chaos(None);
    StatusCode::NO_CONTENT
}
