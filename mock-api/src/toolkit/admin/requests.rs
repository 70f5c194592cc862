//! `/__admin/requests`: the journal, filtered and paged, and the requests nothing answered
//! with the stub that came nearest.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::common::AppResult;
use crate::core::error::AppError;
use crate::core::namespace::{check_namespace, namespace_of};
use crate::toolkit::Mock;
use crate::toolkit::journal::{Filter, Selection};
use crate::toolkit::request::{PathMatcher, parse_method};

/// A page of the journal.
#[derive(Debug, Serialize)]
pub(super) struct Requests {
    pub(super) requests: Vec<Value>,
    pub(super) total: usize,
    pub(super) dropped: u64,
    pub(super) capacity: usize,
}

/// The stub that came nearest to a request nothing answered, and why it did not match.
#[derive(Debug, Serialize)]
pub(super) struct Nearest<'a> {
    pub(super) stub_id: Uuid,
    pub(super) name: Option<&'a str>,
    pub(super) reasons: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RequestQuery {
    pub(super) method: Option<String>,
    pub(super) path: Option<String>,
    pub(super) namespace: Option<String>,
    pub(super) stub: Option<String>,
    pub(super) served_by: Option<String>,
    pub(super) since: Option<String>,
    pub(super) limit: Option<String>,
}

/// `GET /__admin/requests`: the journal, oldest first, filtered.
pub(super) async fn list_requests(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    query: Result<Query<RequestQuery>, QueryRejection>,
) -> AppResult<Json<Requests>> {
    let filter = filter(&headers, query, REQUEST_LIMITS)?;
    Ok(Json(selection(&mock, mock.journal.select(&filter), false)))
}

/// `GET /__admin/requests/unmatched`: requests no stub and no route answered, each with
/// the stub that came nearest and why it did not match.
pub(super) async fn unmatched_requests(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    query: Result<Query<RequestQuery>, QueryRejection>,
) -> AppResult<Json<Requests>> {
    let mut filter = filter(&headers, query, UNMATCHED_LIMITS)?;
    filter.served_by = Some("unmatched".to_owned());
    // Finding the nearest stub is entries × stubs of work: it runs off the async workers.
    let answer =
        tokio::task::spawn_blocking(move || selection(&mock, mock.journal.select(&filter), true))
            .await
            .map_err(|_| AppError::Internal)?;
    Ok(Json(answer))
}

/// The default and the greatest `limit` of a journal listing.
pub(super) const REQUEST_LIMITS: (usize, usize) = (
    crate::toolkit::journal::DEFAULT_LIMIT,
    crate::toolkit::journal::MAX_LIMIT,
);
pub(super) const UNMATCHED_LIMITS: (usize, usize) = (20, 100);

pub(super) fn filter(
    headers: &HeaderMap,
    query: Result<Query<RequestQuery>, QueryRejection>,
    (default_limit, max_limit): (usize, usize),
) -> AppResult<Filter> {
    let Query(query) = query?;
    let invalid = |message: String| AppError::InvalidQuery(message);
    let number = |name: &str, value: Option<String>| {
        value
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| invalid(format!("{name} must be a whole number")))
            })
            .transpose()
    };
    // The header is checked even when the query names a namespace: bad input is an error.
    let from_header = namespace_of(headers)?.map(str::to_owned);
    let namespace = match query.namespace {
        Some(namespace) => {
            check_namespace(&namespace).map_err(|e| invalid(e.to_string()))?;
            Some(namespace)
        }
        None => from_header,
    };
    let served_by = query
        .served_by
        .map(|s| match s.as_str() {
            "stub" | "api" | "unmatched" => Ok(s),
            _ => Err(invalid(
                "served_by must be one of stub, api, unmatched".into(),
            )),
        })
        .transpose()?;
    let limit = match number("limit", query.limit)? {
        None => default_limit,
        Some(limit) if limit <= max_limit as u64 => limit as usize,
        Some(_) => return Err(invalid(format!("limit must be at most {max_limit}"))),
    };
    Ok(Filter {
        method: query
            .method
            .map(|m| parse_method(&m).map_err(invalid))
            .transpose()?
            .flatten(),
        path: query
            .path
            .map(|p| PathMatcher::parse(&p).map_err(invalid))
            .transpose()?,
        namespace,
        stub: query
            .stub
            .map(|s| Uuid::parse_str(&s).map_err(|_| invalid("stub must be a stub's id".into())))
            .transpose()?,
        served_by,
        since: number("since", query.since)?,
        limit: Some(limit),
    })
}

pub(super) fn selection(mock: &Mock, selection: Selection, nearest: bool) -> Requests {
    let requests: Vec<Value> = selection
        .entries
        .iter()
        .map(|entry| {
            let mut value = entry.to_json();
            if nearest && let Value::Object(object) = &mut value {
                let (uri, headers) = entry.request.parts();
                let view = crate::toolkit::request::RequestView::new(
                    &entry.request.method,
                    &uri,
                    &headers,
                    &entry.request.body,
                    entry.namespace.as_deref(),
                );
                let near = mock.stubs.nearest(&view).map(|(stub, reasons)| {
                    serde_json::to_value(Nearest {
                        stub_id: stub.id,
                        name: stub.def.name.as_deref(),
                        reasons,
                    })
                    .unwrap_or_default()
                });
                object.insert("nearest".to_owned(), near.unwrap_or(Value::Null));
            }
            value
        })
        .collect();
    Requests {
        requests,
        total: selection.total,
        dropped: selection.dropped,
        capacity: mock.journal.capacity(),
    }
}

/// `DELETE /__admin/requests`: forgets the journal (or a namespace's part of it).
pub(super) async fn clear_requests(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    mock.journal.clear(namespace_of(&headers)?);
    Ok(StatusCode::NO_CONTENT)
}
