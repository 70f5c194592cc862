//! `/__admin/stubs`: create, list, read and delete stubs; the requests each matched, and
//! their verification.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{AppResult, JsonBody, created, not_found, parse_body, refused, uuid};
use super::requests::{Requests, selection};
use crate::core::error::AppError;
use crate::core::namespace::namespace_of;
use crate::toolkit::Mock;
use crate::toolkit::journal::Filter;
use crate::toolkit::stubs::StubDef;

/// `GET /__admin/stubs`: the stubs as they were given, with their ids.
#[derive(Debug, Serialize)]
pub(super) struct StubList {
    pub(super) stubs: Vec<Value>,
}

/// `POST /__admin/stubs/{id}/verify`.
#[derive(Debug, Serialize)]
pub(super) struct Verification {
    pub(super) pass: bool,
    pub(super) calls: u64,
    pub(super) expected: String,
    pub(super) message: String,
}

pub(super) async fn create_stub(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Response> {
    let namespace = namespace_of(&headers)?;
    // Read from the text, not a parsed value, so that bodies keep their key order.
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        });
    if !is_json {
        return Err(AppError::UnsupportedMediaType);
    }
    let bytes = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        _ => AppError::MalformedJson(rejection.body_text()),
    })?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| AppError::MalformedJson(e.to_string()))?;
    let mut def: StubDef = parse_body(Ok(Json(value)))?;
    if let Ok(text) = std::str::from_utf8(&bytes) {
        crate::toolkit::stubs::with_written_bodies(&mut def, text);
    }
    if def.namespace.is_none() {
        def.namespace = namespace.map(str::to_owned);
    }
    if mock.strict_stubs || def.strict {
        // A stub the admin document allows, at odds with the served one: a conflict with
        // the server's state (409), not bad input, so the admin API keeps its own contract.
        mock.documented
            .check_stub(&def.parts())
            .map_err(|mismatch| AppError::Conflict {
                code: "stub_not_in_document",
                message: mismatch.to_string(),
            })?;
    }
    let stub = mock.stubs.add(def).map_err(refused)?;
    Ok(created(
        format!("/__admin/stubs/{}", stub.id),
        stub.to_json(),
    ))
}

/// Every stub, or with `X-Mock-Namespace` those of that namespace, in the order tried.
pub(super) async fn list_stubs(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
) -> AppResult<Json<StubList>> {
    let stubs: Vec<Value> = mock
        .stubs
        .list(namespace_of(&headers)?)
        .iter()
        .map(|s| s.to_json())
        .collect();
    Ok(Json(StubList { stubs }))
}

pub(super) async fn delete_stubs(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    mock.stubs.clear(namespace_of(&headers)?);
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn stub_by_id(mock: &Mock, id: &str) -> AppResult<Arc<crate::toolkit::stubs::Stub>> {
    let uuid = uuid(id, "stub", "stub_not_found")?;
    mock.stubs
        .get(uuid)
        .ok_or_else(|| not_found("stub", "stub_not_found", id))
}

pub(super) async fn get_stub(
    State(mock): State<Arc<Mock>>,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    Ok(Json(stub_by_id(&mock, &id)?.to_json()))
}

pub(super) async fn delete_stub(
    State(mock): State<Arc<Mock>>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let stub = stub_by_id(&mock, &id)?;
    mock.stubs.remove(stub.id);
    Ok(StatusCode::NO_CONTENT)
}

/// The journal's entries of the requests a stub answered (those still in the journal).
pub(super) async fn stub_requests(
    State(mock): State<Arc<Mock>>,
    Path(id): Path<String>,
) -> AppResult<Json<Requests>> {
    let stub = stub_by_id(&mock, &id)?;
    let filter = Filter {
        stub: Some(stub.id),
        ..Filter::default()
    };
    Ok(Json(selection(&mock, mock.journal.select(&filter), false)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Expectation {
    pub(super) exactly: Option<u64>,
    pub(super) at_least: Option<u64>,
    pub(super) at_most: Option<u64>,
}

/// `POST /__admin/stubs/{id}/verify`: whether the stub was called as expected. The answer
/// is 200 either way; `pass` says which, and `message` says it as a test would.
pub(super) async fn verify_stub(
    State(mock): State<Arc<Mock>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> AppResult<Json<Verification>> {
    let stub = stub_by_id(&mock, &id)?;
    let expectation: Expectation = parse_body(body)?;
    let calls = stub.calls();
    let (pass, expected) = match expectation {
        Expectation {
            exactly: Some(n),
            at_least: None,
            at_most: None,
        } => (calls == n, format!("exactly {n}")),
        Expectation {
            exactly: None,
            at_least,
            at_most,
        } if at_least.is_some() || at_most.is_some() => {
            // at_least above at_most can never pass, and the message will say so.
            let low = at_least.unwrap_or(0);
            let high = at_most.unwrap_or(u64::MAX);
            let expected = match (at_least, at_most) {
                (Some(low), Some(high)) => format!("at least {low} and at most {high}"),
                (Some(low), None) => format!("at least {low}"),
                _ => format!("at most {high}"),
            };
            ((low..=high).contains(&calls), expected)
        }
        _ => {
            return Err(AppError::Validation(
                "give `exactly`, or `at_least` and/or `at_most`".to_owned(),
            ));
        }
    };
    let name = match &stub.def.name {
        Some(name) => format!("stub {name:?} ({})", stub.id),
        None => format!("stub {}", stub.id),
    };
    let times = |n: u64| {
        if n == 1 {
            "1 time".to_owned()
        } else {
            format!("{n} times")
        }
    };
    let message = if pass {
        format!(
            "{name} was called {}, as expected ({expected})",
            times(calls)
        )
    } else {
        format!("{name} was called {}, expected {expected}", times(calls))
    };
    Ok(Json(Verification {
        pass,
        calls,
        expected,
        message,
    }))
}
