//! The mock toolkit: a layer in front of an API engine. [`Mock`] is its state (the engine's
//! data through [`Control`], the stubs, the journal, the faults and the clock) and
//! [`Intercept`] the layer every request outside the admin API passes on its way to a stub
//! or the engine.
//!
//! - [`admin`]: the `/__admin` API and its guard;
//! - [`stubs`] (with [`template`]), [`faults`], [`journal`]: what the admin API controls;
//! - [`request`]: what stubs and fault rules match a request by;
//! - [`documented`]: the served document's responses, for `Prefer`.

pub mod admin;
pub mod documented;
pub mod faults;
pub mod journal;
pub mod registry;
pub mod request;
pub mod stubs;
pub mod template;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::{Service, ServiceExt};

use crate::core::clock::Clock;
use crate::core::engine::{Control, Unrouted};
use crate::core::error::{AppError, NearestStub, miss_response};
use crate::core::limits::{BODY_DEADLINE, BODY_LIMIT};
use crate::core::namespace::namespace_of;
use crate::core::peer::Peer;
use documented::Documented;
use faults::{FaultKind, Faults};
use journal::{Entry, Journal, Recorded, ServedBy};
use request::RequestView;
use stubs::{StubDef, Stubs};
use template::{Facts, Needs};

/// Why the toolkit cannot start: a stub of `--stubs` that is bad, or that the document does
/// not allow.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Stub(#[from] registry::RegistryError),
    #[error(transparent)]
    Mismatch(#[from] documented::Mismatch),
}

/// What the toolkit starts with, whatever the engine.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Repeatable ids (`--seed`) for stubs and fault rules.
    pub seed: Option<u64>,
    /// Requests kept in the journal; 0 turns it off (`--journal-size`).
    pub journal_size: usize,
    /// Stubs loaded at start (`--stubs`).
    pub stubs: Vec<StubDef>,
    /// When set, the admin API wants `Authorization: Bearer TOKEN` (`--admin-token`).
    pub admin_token: Option<String>,
    /// Every stub is checked against the served document (`--strict-stubs`).
    pub strict_stubs: bool,
}

/// The whole server's state as the toolkit sees it: the engine's data through [`Control`],
/// and the stubs, journal, faults and clock.
#[derive(Debug)]
pub struct Mock {
    /// The engine's data: reset, snapshots, namespaces.
    pub control: Arc<dyn Control>,
    pub clock: Arc<Clock>,
    pub stubs: Stubs,
    pub journal: Journal,
    pub faults: Faults,
    pub admin_token: Option<String>,
    /// The served document's responses, for `Prefer: code=` and `example=`, and what
    /// strict stubs are checked against.
    pub documented: Documented,
    /// Every stub is checked against the document, not only those that ask.
    pub strict_stubs: bool,
}

impl Mock {
    /// A mock in front of an engine; an error names the bad stub.
    pub fn new(
        settings: &Settings,
        control: Arc<dyn Control>,
        clock: Arc<Clock>,
        documented: Documented,
    ) -> Result<Mock, StartError> {
        for def in &settings.stubs {
            if settings.strict_stubs || def.strict {
                documented.check_stub(&def.parts())?;
            }
        }
        Ok(Mock {
            control,
            clock,
            stubs: Stubs::new(settings.stubs.clone(), settings.seed)?,
            journal: Journal::new(settings.journal_size),
            faults: Faults::new(settings.seed),
            admin_token: settings.admin_token.clone(),
            documented,
            strict_stubs: settings.strict_stubs,
        })
    }

    /// Everything back as it started: the default data, no namespaces, the stubs of
    /// `--stubs` only, an empty journal, no faults, the start's clock. Snapshots of the
    /// default namespace are kept.
    pub fn reset_all(&self) {
        self.control.reset_all();
        // The initial stubs compiled at start, so they compile again.
        let _ = self.stubs.reset();
        self.journal.clear(None);
        self.faults.reset();
        self.clock.reset();
    }

    /// One namespace back to the seed: its data, stubs, fault rules and journal entries.
    pub fn reset_namespace(&self, namespace: &str) {
        self.control.reset_namespace(namespace);
        self.stubs.clear(Some(namespace));
        self.faults.remove_rules(Some(namespace));
        self.journal.clear(Some(namespace));
    }
}

/// Whether reading a body failed because it stopped arriving (the server's per-frame
/// deadline), rather than because it was too large.
fn is_timeout(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = cause {
        if current.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The toolkit's layer around the whole router (the engine's routes and the admin API), as
/// one hand-written service: `middleware::from_fn` would wrap each route on its own and box
/// a `Next` for every request, which the users demo's reads paid for.
#[derive(Clone)]
pub struct Intercept {
    mock: Arc<Mock>,
    inner: Router,
    /// The client of the connection this copy serves; without one, a request's
    /// `ConnectInfo<Peer>` extension, if any.
    peer: Option<Peer>,
}

impl Intercept {
    pub fn new(mock: Arc<Mock>, inner: Router) -> Intercept {
        Intercept {
            mock,
            inner,
            peer: None,
        }
    }

    /// A copy for one connection: its peer is known once, not put into every request.
    pub fn on_connection(&self, peer: Peer) -> Intercept {
        Intercept {
            peer: Some(peer),
            ..self.clone()
        }
    }
}

impl Service<Request> for Intercept {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let path = request.uri().path();
        // The admin API is never stubbed, faulted or journaled; its guard reads the peer.
        if path == "/__admin" || path.starts_with("/__admin/") {
            if let Some(peer) = &self.peer {
                request.extensions_mut().insert(ConnectInfo(peer.clone()));
            }
            return Box::pin(self.inner.clone().oneshot(request));
        }
        let peer = self.peer.clone().or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<Peer>>()
                .map(|c| c.0.clone())
        });
        let (mock, inner) = (self.mock.clone(), self.inner.clone());
        Box::pin(async move { Ok(intercept(mock, inner, peer, request).await) })
    }
}

/// What the layer does to a request outside the admin API: reads the body, finds a stub,
/// gathers and carries out faults, and records the exchange in the journal.
async fn intercept(
    mock: Arc<Mock>,
    inner: Router,
    peer: Option<Peer>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let is_head = parts.method == axum::http::Method::HEAD;
    // Most requests have no body: no need to collect one, nor to box a new one.
    let (body, unread) = match axum::body::HttpBody::size_hint(&body).exact() {
        Some(0) => (Bytes::new(), Some(body)),
        _ => {
            match tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, BODY_LIMIT)).await
            {
                Ok(Ok(body)) => (body, None),
                Ok(Err(error)) if is_timeout(&error) => {
                    return AppError::RequestTimeout.into_response();
                }
                Ok(Err(_)) => return AppError::PayloadTooLarge.into_response(),
                Err(_) => return AppError::RequestTimeout.into_response(),
            }
        }
    };
    let namespace = match namespace_of(&parts.headers) {
        Ok(namespace) => namespace.map(str::to_owned),
        Err(error) => return error.into_response(),
    };
    let view = RequestView::new(
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        namespace.as_deref(),
    );
    let preferred = match faults::prefer(&parts.headers) {
        Ok(preferred) => preferred,
        Err(message) => return AppError::InvalidPrefer(message).into_response(),
    };
    let stub = if mock.stubs.is_empty() {
        None
    } else {
        mock.stubs.find(&view)
    };
    let mut injection = stub
        .as_ref()
        .map(|(s, turn)| s.injection(*turn))
        .unwrap_or_default();
    mock.faults.apply(&view, &mut injection);
    if let Some((asked, _)) = &preferred {
        injection.overlay(asked.clone());
    }
    drop(view);
    let recorded = mock.journal.enabled().then(|| {
        let at = mock.clock.now();
        Recorded::new(at, &parts.method, &parts.uri, &parts.headers, &body)
    });

    if let Some(delay) = injection.delay {
        tokio::time::sleep(mock.faults.delay(delay)).await;
    }
    let mut served_by = stub
        .as_ref()
        .map_or(ServedBy::Api, |(s, _)| ServedBy::Stub(s.id));
    let mut response = match (injection.fault, injection.status) {
        (Some(fault @ (FaultKind::Reset | FaultKind::Empty)), _) => {
            faults::abort(peer.as_ref(), fault)
        }
        (_, Some(status)) => faults::error_response(status),
        _ => match (&stub, &injection.documented) {
            (Some((stub, turn)), _) => stub.respond(*turn, |path, needs| {
                facts(&mock, needs, path, &parts.uri, &parts.headers, &body)
            }),
            (None, Some(choice)) => {
                match mock
                    .documented
                    .respond(&parts.method, parts.uri.path(), choice)
                {
                    Ok(response) => response,
                    Err(error) => AppError::InvalidPrefer(error.to_string()).into_response(),
                }
            }
            (None, None) => {
                // What a miss needs to name the nearest stub, kept only while there are stubs.
                let asked = (!mock.stubs.is_empty()).then(|| {
                    (
                        parts.method.clone(),
                        parts.uri.clone(),
                        parts.headers.clone(),
                        body.clone(),
                    )
                });
                let sent = unread.unwrap_or_else(|| Body::from(body.clone()));
                let Ok(mut response) = inner.oneshot(Request::from_parts(parts, sent)).await;
                if response.extensions().get::<Unrouted>().is_some() {
                    served_by = ServedBy::Unmatched;
                    if let (Some((method, uri, headers, body)), StatusCode::NOT_FOUND) =
                        (asked, response.status())
                    {
                        let view =
                            RequestView::new(&method, &uri, &headers, &body, namespace.as_deref());
                        if let Some((stub, reasons)) = mock.stubs.nearest(&view) {
                            // The engine's 404 made again with the stub in it: no round trip
                            // through its bytes.
                            let nearest = NearestStub {
                                id: stub.id,
                                name: stub.def.name.as_deref(),
                                reasons: &reasons,
                            };
                            response = miss_response(method.as_str(), uri.path(), nearest);
                            response.extensions_mut().insert(Unrouted);
                        }
                    }
                }
                response
            }
        },
    };
    // A response that has no body (to HEAD, a 204 or a 304) has nothing to mangle: the
    // fault is not carried out, and not claimed as applied.
    let bodiless = is_head || matches!(response.status().as_u16(), 204 | 304);
    let mut skipped_fault = false;
    if let Some(fault @ (FaultKind::Malformed | FaultKind::Truncated | FaultKind::Slow)) =
        injection.fault
    {
        match bodiless {
            true => skipped_fault = true,
            false => response = faults::mangle(response, fault, injection.dribble_ms).await,
        }
    }
    if let Some((_, applied)) = &preferred {
        let applied: String = match skipped_fault {
            true => applied
                .split(',')
                .map(str::trim)
                .filter(|p| !p.starts_with("fault="))
                .collect::<Vec<_>>()
                .join(", "),
            false => applied.clone(),
        };
        if let (false, Ok(value)) = (applied.is_empty(), HeaderValue::from_str(&applied)) {
            response.headers_mut().insert("preference-applied", value);
        }
    }
    if let Some(recorded) = recorded {
        mock.journal.record(Entry {
            id: 0,
            request: recorded,
            namespace,
            served_by,
            status: response.status().as_u16(),
            injected: injection.label(),
            elapsed: started.elapsed(),
        });
    }
    response
}

/// What a stub's templates see of a request: only what they name is gathered.
fn facts(
    mock: &Mock,
    needs: &Needs,
    path: &request::PathMatcher,
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
    body: &Bytes,
) -> Facts {
    let mut facts = Facts::default();
    if needs.path {
        facts.path = path
            .captures(uri.path())
            .into_iter()
            .map(|(name, value)| (name, value.to_owned()))
            .collect();
    }
    if needs.query {
        // The first value of a repeated name wins.
        for (name, value) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
            facts
                .query
                .entry(name.into_owned())
                .or_insert_with(|| value.into_owned());
        }
    }
    if needs.headers {
        facts.headers = headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
    }
    if needs.body {
        facts.body = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    }
    if needs.now {
        facts.now = mock
            .clock
            .now()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
    }
    if needs.uuid {
        facts.uuid = mock.stubs.fresh_id().to_string();
    }
    facts
}
