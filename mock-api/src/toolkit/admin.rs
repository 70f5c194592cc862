//! The admin API under `/__admin` (documented in `specs/mock-admin.yaml`): reset, stubs and
//! their verification, the request journal, faults and chaos, the clock, snapshots and
//! namespaces. It answers loopback clients only, or with `--admin-token` whoever has it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Duration;
use uuid::Uuid;

use crate::core::engine::SnapshotInfo;
use crate::core::error::AppError;
use crate::core::namespace::{check_name, check_namespace, namespace_of};
use crate::core::peer::Peer;
use crate::toolkit::Mock;
use crate::toolkit::faults::{Chaos, RuleDef, RuleError};
use crate::toolkit::journal::{Filter, Selection};
use crate::toolkit::request::{PathMatcher, parse_method};
use crate::toolkit::stubs::{StubDef, StubError};

/// `specs/mock-admin.yaml`: the admin API under `/__admin`.
pub const ADMIN_YAML: &str = include_str!("../../../specs/mock-admin.yaml");

type AppResult<T> = Result<T, AppError>;

/// `GET /__admin/stubs`: the stubs as they were given, with their ids.
#[derive(Debug, Serialize)]
struct StubList {
    stubs: Vec<Value>,
}

/// `POST /__admin/stubs/{id}/verify`.
#[derive(Debug, Serialize)]
struct Verification {
    pass: bool,
    calls: u64,
    expected: String,
    message: String,
}

/// A page of the journal.
#[derive(Debug, Serialize)]
struct Requests {
    requests: Vec<Value>,
    total: usize,
    dropped: u64,
    capacity: usize,
}

/// The stub that came nearest to a request nothing answered, and why it did not match.
#[derive(Debug, Serialize)]
struct Nearest<'a> {
    stub_id: Uuid,
    name: Option<&'a str>,
    reasons: Vec<String>,
}

/// `GET /__admin/faults`.
#[derive(Debug, Serialize)]
struct RuleList {
    faults: Vec<RuleDef>,
}

/// `GET /__admin/clock`.
#[derive(Debug, Serialize)]
struct ClockState {
    now: String,
    frozen: bool,
}

/// `GET /__admin/snapshots`.
#[derive(Debug, Serialize)]
struct SnapshotList {
    snapshots: Vec<SnapshotInfo>,
}

/// `GET /__admin/namespaces`.
#[derive(Debug, Serialize)]
struct NamespaceList {
    namespaces: Vec<NamespaceInfo>,
}

#[derive(Debug, Serialize)]
struct NamespaceInfo {
    name: String,
    /// The records it holds (users, or stored resources).
    items: usize,
    /// The same count under the users demo's older name.
    users: usize,
}
type JsonBody = Result<Json<Value>, JsonRejection>;

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

/// With `--admin-token`, the token is wanted from everyone; without it, only loopback
/// clients get in, so a server bound to a public address does not hand out its controls.
async fn guard(State(mock): State<Arc<Mock>>, request: Request, next: Next) -> Response {
    match &mock.admin_token {
        Some(token) => {
            let given = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, given)| given.trim());
            if !given.is_some_and(|given| same(given.as_bytes(), token.as_bytes())) {
                return AppError::AdminUnauthorized.into_response();
            }
        }
        None => {
            let peer = request.extensions().get::<ConnectInfo<Peer>>();
            if peer.is_some_and(|peer| !peer.0.is_loopback()) {
                return AppError::AdminForbidden.into_response();
            }
            // A loopback client may still be a web page the tester has open: refuse what a
            // browser sends for another site (CSRF) or for a name that resolves here (DNS
            // rebinding). Tools that are not browsers send none of these.
            if let Some(why) = browser_from_elsewhere(request.headers()) {
                return AppError::AdminCrossSite(why).into_response();
            }
        }
    }
    next.run(request).await
}

/// Why a request looks like a browser's on behalf of another site, if it does.
fn browser_from_elsewhere(headers: &HeaderMap) -> Option<&'static str> {
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    if let Some(site) = text("sec-fetch-site")
        && matches!(site, "cross-site" | "same-site")
    {
        return Some("a request a browser sent for another site (Sec-Fetch-Site)");
    }
    if let Some(origin) = text("origin") {
        let host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .filter(|_| origin.starts_with("http://") || origin.starts_with("https://"));
        if !host.is_some_and(is_local_host) {
            return Some("a request from a web page of another origin (Origin)");
        }
    }
    if let Some(host) = text("host")
        && !is_local_host(host)
    {
        return Some("a request for a host name other than localhost or an IP address (Host)");
    }
    None
}

/// `localhost`, a name under it, or an IP address, with or without a port: names a DNS
/// rebinding cannot borrow.
fn is_local_host(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        // `[::1]:8765`
        Some(rest) => {
            return rest
                .split_once(']')
                .is_some_and(|(ip, _)| ip.parse::<std::net::Ipv6Addr>().is_ok());
        }
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, port)| match port.parse::<u16>() {
                Ok(_) => host,
                Err(_) => authority,
            }),
    };
    let host = host.to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host.parse::<std::net::IpAddr>().is_ok()
}

/// Compares in time that depends only on the length, so the token cannot be guessed byte
/// by byte from response times.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn object(body: JsonBody) -> AppResult<Value> {
    let Json(value) = body?;
    match value {
        Value::Object(_) => Ok(value),
        _ => Err(AppError::Validation(
            "request body must be a JSON object".to_owned(),
        )),
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(body: JsonBody) -> AppResult<T> {
    let value = object(body)?;
    if let Some(field) = null_field(&value, "") {
        return Err(AppError::Validation(format!(
            "{field} must not be null: leave it out instead"
        )));
    }
    serde_json::from_value(value).map_err(|e| AppError::Validation(e.to_string()))
}

/// The first field set to null, outside `body` (whose JSON may hold anything): an optional
/// field is given or left out, never null, so a null is a mistake worth naming.
fn null_field(value: &Value, at: &str) -> Option<String> {
    let Value::Object(object) = value else {
        return None;
    };
    object.iter().find_map(|(key, value)| {
        let path = format!("{at}{key}");
        match value {
            Value::Null => Some(path),
            _ if key == "body" => None,
            _ => null_field(value, &format!("{path}.")),
        }
    })
}

/// An id in a path: anything but a UUID names nothing, so it is a 404.
fn uuid(id: &str, what: &'static str, code: &'static str) -> AppResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| not_found(what, code, id))
}

/// 201 with where the new thing lives.
fn created(location: String, body: Value) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

fn not_found(what: &str, code: &'static str, id: &str) -> AppError {
    AppError::NotFound {
        code,
        message: format!("no {what} with id {id}"),
    }
}

/// `POST /__admin/reset`: with `X-Mock-Namespace`, that namespace; without, everything.
async fn reset(State(mock): State<Arc<Mock>>, headers: HeaderMap) -> AppResult<StatusCode> {
    match namespace_of(&headers)? {
        Some(namespace) => mock.reset_namespace(namespace),
        None => mock.reset_all(),
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn create_stub(
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
    let stub = mock.stubs.add(def).map_err(|error| match error {
        StubError::Invalid(message) => AppError::Validation(message),
        StubError::Exists(_) => AppError::Conflict {
            code: "stub_exists",
            message: error.to_string(),
        },
        StubError::TooMany => AppError::Conflict {
            code: "stub_limit",
            message: error.to_string(),
        },
    })?;
    Ok(created(
        format!("/__admin/stubs/{}", stub.id),
        stub.to_json(),
    ))
}

/// Every stub, or with `X-Mock-Namespace` those of that namespace, in the order tried.
async fn list_stubs(
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

async fn delete_stubs(State(mock): State<Arc<Mock>>, headers: HeaderMap) -> AppResult<StatusCode> {
    mock.stubs.clear(namespace_of(&headers)?);
    Ok(StatusCode::NO_CONTENT)
}

fn stub_by_id(mock: &Mock, id: &str) -> AppResult<Arc<crate::toolkit::stubs::Stub>> {
    let uuid = uuid(id, "stub", "stub_not_found")?;
    mock.stubs
        .get(uuid)
        .ok_or_else(|| not_found("stub", "stub_not_found", id))
}

async fn get_stub(State(mock): State<Arc<Mock>>, Path(id): Path<String>) -> AppResult<Json<Value>> {
    Ok(Json(stub_by_id(&mock, &id)?.to_json()))
}

async fn delete_stub(
    State(mock): State<Arc<Mock>>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let stub = stub_by_id(&mock, &id)?;
    mock.stubs.remove(stub.id);
    Ok(StatusCode::NO_CONTENT)
}

/// The journal's entries of the requests a stub answered (those still in the journal).
async fn stub_requests(
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
struct Expectation {
    exactly: Option<u64>,
    at_least: Option<u64>,
    at_most: Option<u64>,
}

/// `POST /__admin/stubs/{id}/verify`: whether the stub was called as expected. The answer
/// is 200 either way; `pass` says which, and `message` says it as a test would.
async fn verify_stub(
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

#[derive(Debug, Deserialize)]
struct RequestQuery {
    method: Option<String>,
    path: Option<String>,
    namespace: Option<String>,
    stub: Option<String>,
    served_by: Option<String>,
    since: Option<String>,
    limit: Option<String>,
}

/// `GET /__admin/requests`: the journal, oldest first, filtered.
async fn list_requests(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    query: Result<Query<RequestQuery>, QueryRejection>,
) -> AppResult<Json<Requests>> {
    let filter = filter(&headers, query, REQUEST_LIMITS)?;
    Ok(Json(selection(&mock, mock.journal.select(&filter), false)))
}

/// `GET /__admin/requests/unmatched`: requests no stub and no route answered, each with
/// the stub that came nearest and why it did not match.
async fn unmatched_requests(
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
const REQUEST_LIMITS: (usize, usize) = (
    crate::toolkit::journal::DEFAULT_LIMIT,
    crate::toolkit::journal::MAX_LIMIT,
);
const UNMATCHED_LIMITS: (usize, usize) = (20, 100);

fn filter(
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
            check_namespace(&namespace).map_err(invalid)?;
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

fn selection(mock: &Mock, selection: Selection, nearest: bool) -> Requests {
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
async fn clear_requests(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    mock.journal.clear(namespace_of(&headers)?);
    Ok(StatusCode::NO_CONTENT)
}

fn rule_json(rule: &crate::toolkit::faults::Rule) -> Value {
    serde_json::to_value(&rule.def).unwrap_or_default()
}

async fn create_rule(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    body: JsonBody,
) -> AppResult<Response> {
    let namespace = namespace_of(&headers)?;
    let mut def: RuleDef = parse_body(body)?;
    if def.namespace.is_none() {
        def.namespace = namespace.map(str::to_owned);
    }
    if let Some(id) = def.id
        && mock.faults.rule(id).is_some()
    {
        return Err(AppError::Conflict {
            code: "fault_exists",
            message: format!("a fault rule with id {id} exists already"),
        });
    }
    let rule = mock.faults.add_rule(def).map_err(|error| match error {
        RuleError::Invalid(message) => AppError::Validation(message),
        RuleError::Exists(_) => AppError::Conflict {
            code: "fault_exists",
            message: error.to_string(),
        },
        RuleError::TooMany => AppError::Conflict {
            code: "fault_limit",
            message: error.to_string(),
        },
    })?;
    Ok(created(
        format!("/__admin/faults/{}", rule.id),
        rule_json(&rule),
    ))
}

async fn list_rules(State(mock): State<Arc<Mock>>) -> Json<RuleList> {
    let faults = mock.faults.rules().iter().map(|r| r.def.clone()).collect();
    Json(RuleList { faults })
}

async fn delete_rules(State(mock): State<Arc<Mock>>, headers: HeaderMap) -> AppResult<StatusCode> {
    mock.faults.remove_rules(namespace_of(&headers)?);
    Ok(StatusCode::NO_CONTENT)
}

async fn get_rule(State(mock): State<Arc<Mock>>, Path(id): Path<String>) -> AppResult<Json<Value>> {
    let uuid = uuid(&id, "fault rule", "fault_not_found")?;
    let rule = mock
        .faults
        .rule(uuid)
        .ok_or_else(|| not_found("fault rule", "fault_not_found", &id))?;
    Ok(Json(rule_json(&rule)))
}

async fn delete_rule(
    State(mock): State<Arc<Mock>>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let uuid = uuid(&id, "fault rule", "fault_not_found")?;
    mock.faults
        .remove_rule(uuid)
        .ok_or_else(|| not_found("fault rule", "fault_not_found", &id))?;
    Ok(StatusCode::NO_CONTENT)
}

fn chaos_json(chaos: Option<Chaos>) -> Value {
    let chaos = chaos.unwrap_or(Chaos {
        error_rate: 0.0,
        error_status: 503,
        latency_rate: 0.0,
        latency_ms: None,
    });
    serde_json::to_value(chaos).unwrap_or_default()
}

async fn get_chaos(State(mock): State<Arc<Mock>>) -> Json<Value> {
    Json(chaos_json(mock.faults.chaos()))
}

async fn set_chaos(State(mock): State<Arc<Mock>>, body: JsonBody) -> AppResult<Json<Value>> {
    let chaos: Chaos = parse_body(body)?;
    mock.faults
        .set_chaos(Some(chaos))
        .map_err(AppError::Validation)?;
    Ok(Json(chaos_json(mock.faults.chaos())))
}

async fn clear_chaos(State(mock): State<Arc<Mock>>) -> StatusCode {
    let _ = mock.faults.set_chaos(None);
    StatusCode::NO_CONTENT
}

fn clock_json(mock: &Mock) -> Json<ClockState> {
    Json(ClockState {
        now: crate::core::clock::format_timestamp(mock.clock.now()),
        frozen: mock.clock.is_frozen(),
    })
}

async fn get_clock(State(mock): State<Arc<Mock>>) -> Json<ClockState> {
    clock_json(&mock)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    now: Option<String>,
    advance_ms: Option<u64>,
}

/// `POST /__admin/clock`: `{"now": RFC3339}` freezes the clock there; `{"advance_ms": N}`
/// moves it on (freezing a running clock at now + N).
async fn set_clock(State(mock): State<Arc<Mock>>, body: JsonBody) -> AppResult<Json<ClockState>> {
    let change: ClockChange = parse_body(body)?;
    match change {
        ClockChange {
            now: Some(now),
            advance_ms: None,
        } => mock.clock.set(Some(
            crate::core::clock::parse(&now).map_err(AppError::Validation)?,
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
async fn release_clock(State(mock): State<Arc<Mock>>) -> Json<ClockState> {
    mock.clock.set(None);
    clock_json(&mock)
}

fn snapshot_name(name: &str) -> AppResult<()> {
    check_name("snapshot name", name).map_err(AppError::Validation)
}

async fn list_snapshots(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
) -> AppResult<Json<SnapshotList>> {
    let snapshots = mock.control.snapshots(namespace_of(&headers)?)?;
    Ok(Json(SnapshotList { snapshots }))
}

/// `POST /__admin/snapshots/{name}`: saves the data of the namespace (or the default).
async fn save_snapshot(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> AppResult<Response> {
    snapshot_name(&name)?;
    let info = mock.control.save_snapshot(namespace_of(&headers)?, &name)?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

async fn restore_snapshot(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> AppResult<Json<SnapshotInfo>> {
    Ok(Json(
        mock.control
            .restore_snapshot(namespace_of(&headers)?, &name)?,
    ))
}

async fn delete_snapshot(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> AppResult<StatusCode> {
    mock.control
        .delete_snapshot(namespace_of(&headers)?, &name)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_namespaces(State(mock): State<Arc<Mock>>) -> Json<NamespaceList> {
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
