//! Serving: [`run`] on an already-bound listener, with a deadline on every wait (a request's
//! head, its body, the shutdown) and a cap on connections; and [`MockServer`], which runs the
//! mock on a thread of its own for tests (`127.0.0.1:0`, stopped on drop).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::IntoResponse;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

use crate::app::Config;
use crate::core::error::AppError;
use crate::core::limits::{MAX_HEAD_BYTES, MAX_HEADERS, MAX_URI_BYTES};
use crate::core::peer::{Activity, InFlight, Peer};
use crate::toolkit::{Intercept, Mock};

/// How the server treats connections: every wait has a deadline, and their number a cap.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest wait between the frames of a request's body, and longest a connection may
    /// stay idle (no request in flight, an answer counting until it is written out: half a
    /// head, or nothing between requests) before it is closed, within a quarter more.
    pub read_timeout: Duration,
    /// After a shutdown signal, how long requests in flight may take before they are cut off.
    pub shutdown_grace: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// hyper's read buffer: a head past it is refused by hyper itself (a bare 431, given its
/// JSON body by the connection's IO, see `core::peer`).
const HYPER_BUFFER: usize = 256 * 1024;

/// Serves the mock API with the default configuration until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = crate::app::build(&Config::default()).map_err(io::Error::other)?;
    serve(listener, app.service, shutdown).await
}

/// Serves the mock with the default [`Limits`].
pub async fn serve(
    listener: TcpListener,
    service: Intercept,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, service, shutdown, &Limits::default()).await
}

/// Serves until `shutdown` completes, then lets requests in flight finish within the grace
/// period. Each connection's copy of the service knows its [`Peer`].
pub async fn serve_with(
    listener: TcpListener,
    service: Intercept,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: &Limits,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let open = Arc::new(Served::default());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut builder = http1::Builder::new();
    // No `header_read_timeout`: it arms a timer on every request, about a tenth of a short
    // read's cost; `idle` below keeps one timer per connection instead.
    builder
        .max_buf_size(HYPER_BUFFER)
        .max_headers(MAX_HEADERS * 2);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, or a connection gone before it was accepted: wait a
                    // little and go on, as axum's own loop does.
                    tracing::debug!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // At the cap, the connection idle the longest makes room (as servers that survive
        // slowloris do): clients that hold connections and send nothing cannot starve a new
        // one. With every connection busy, the new one waits for the first to end.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                open.close_idlest();
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.map_err(io::Error::other)?,
                    () = &mut shutdown => break,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let (peer, connection) = Peer::accept(stream, addr);
        let activity = connection.activity();
        let (served, read_timeout) = (service.on_connection(peer), limits.read_timeout);
        let watched = activity.clone();
        let connection_service =
            hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let served = served.clone();
                let in_flight = watched.request();
                async move {
                    // A body known to be empty needs no deadline, and keeps its size hint, which
                    // spares the layer collecting it.
                    let request =
                        request.map(|body| match hyper::body::Body::size_hint(&body).exact() {
                            Some(0) => Body::new(body),
                            _ => Body::new(TimeoutBody::new(read_timeout, body)),
                        });
                    let response = match oversized(&request) {
                        Some(error) => error.into_response(),
                        None => served.oneshot(request).await?,
                    };
                    Ok::<_, Infallible>(response.map(|body| Guarded {
                        body,
                        _in_flight: in_flight,
                    }))
                }
            });
        let connection =
            graceful.watch(builder.serve_connection(TokioIo::new(connection), connection_service));
        let (id, evicted) = open.add(activity.clone());
        let (open, slots) = (open.clone(), slots.clone());
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                ended = connection => if let Err(error) = ended {
                    tracing::debug!(%error, "connection ended");
                },
                () = idle(activity, read_timeout, slots) => tracing::debug!("idle connection closed"),
                () = evicted.notified() => tracing::debug!("idle connection closed for a new one"),
            }
            open.remove(id);
        });
    }
    drop(listener);
    // Requests in flight may finish, within the grace period; then they are cut off.
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the shutdown grace period were cut off");
    }
    Ok(())
}

/// The connections being served, each with its activity and a signal that closes it: at
/// the cap, the one idle the longest is closed to admit a new one.
#[derive(Default)]
struct Served {
    next: std::sync::atomic::AtomicU64,
    connections: std::sync::Mutex<std::collections::HashMap<u64, Connected>>,
}

type Connected = (Arc<Activity>, Arc<tokio::sync::Notify>);

impl Served {
    fn add(&self, activity: Arc<Activity>) -> (u64, Arc<tokio::sync::Notify>) {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let close = Arc::new(tokio::sync::Notify::new());
        crate::core::sync::lock(&self.connections).insert(id, (activity, close.clone()));
        (id, close)
    }

    fn remove(&self, id: u64) {
        crate::core::sync::lock(&self.connections).remove(&id);
    }

    /// Closes the connection with no request in flight that has been idle the longest; none
    /// when every one is busy. A linear scan: it runs only at the cap.
    fn close_idlest(&self) {
        let connections = crate::core::sync::lock(&self.connections);
        let idlest = connections
            .values()
            .filter_map(|(activity, close)| Some((activity.idle_for_ms()?, close)))
            .max_by_key(|(idle, _)| *idle);
        if let Some((_, close)) = idlest {
            // Stored if the task is not waiting yet: it closes as soon as it does.
            close.notify_one();
        }
    }
}

/// A response body that keeps its request in flight until it is written out (or dropped):
/// a slow answer, a body dribbled by a fault, is never taken for an idle connection.
struct Guarded {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// How long a connection may be idle while the server is at its connection cap.
const FULL_GRACE: Duration = Duration::from_secs(1);

/// Completes once a connection has been idle for `limit` (for [`FULL_GRACE`] while every
/// slot of the server is taken): no request in flight, none started and nothing written.
/// Checked four times per period (at most a quarter of a second apart), so it closes within
/// 1.25 times the limit.
async fn idle(activity: Arc<Activity>, limit: Duration, slots: Arc<Semaphore>) {
    let step = (limit / 4).clamp(Duration::from_millis(10), FULL_GRACE / 4);
    let mut seen = activity.progress();
    let mut quiet_since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(step).await;
        let now = activity.progress();
        let limit = match slots.available_permits() {
            0 => limit.min(FULL_GRACE),
            _ => limit,
        };
        if now != seen || activity.busy() {
            (seen, quiet_since) = (now, tokio::time::Instant::now());
        } else if quiet_since.elapsed() >= limit {
            return;
        }
    }
}

/// The JSON error for a request head past the server's limits, checked before any routing.
fn oversized<B>(request: &hyper::Request<B>) -> Option<AppError> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(AppError::UriTooLong(MAX_URI_BYTES));
    }
    let headers = request.headers();
    let head: usize = target
        + headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum::<usize>();
    (headers.len() > MAX_HEADERS || head > MAX_HEAD_BYTES).then_some(AppError::HeadersTooLarge {
        headers: MAX_HEADERS,
        bytes: MAX_HEAD_BYTES,
    })
}

/// Completes on ctrl-c or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, only SIGTERM stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// A mock API on `127.0.0.1` with a free port, on a thread and runtime of its own, so it
/// serves whatever the caller's runtime is doing (or whether it has one). Dropping it stops it.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    url: String,
    mock: Arc<Mock>,
    stop: Option<oneshot::Sender<()>>,
}

/// How a client that knows no route of the mock drives it, said by the mock itself: the
/// operation that resets its data, the header that names a namespace, and the users demo's
/// login with the credentials of its seed users.
#[derive(Debug, Clone, PartialEq)]
pub struct Driving {
    /// `POST /__admin/reset`, as `METHOD /path`.
    pub reset: String,
    /// The header whose value names a namespace of its own data.
    pub namespace_header: String,
    /// The users demo's login as `METHOD /path`, and its body for each seed user: a user
    /// first, then an admin (another identity, for checks of who may touch what).
    pub login: String,
    pub login_bodies: Vec<serde_json::Value>,
}

impl MockServer {
    /// How to reset the mock, name a namespace, and log in to the users demo.
    pub fn driving() -> Driving {
        use crate::engines::users::store::{Role, SEED_USERS};
        let mut seeds: Vec<_> = SEED_USERS.iter().collect();
        // A user first: the first identity is the ordinary one.
        seeds.sort_by_key(|(_, _, _, role)| *role == Role::Admin);
        Driving {
            reset: "POST /__admin/reset".to_owned(),
            namespace_header: crate::core::namespace::NAMESPACE_HEADER.as_str().to_owned(),
            login: "POST /api/auth/login".to_owned(),
            login_bodies: seeds
                .into_iter()
                .map(|(email, password, _, _)| {
                    serde_json::json!({"email": email, "password": password})
                })
                .collect(),
        }
    }

    /// Starts a mock with the seed data.
    pub fn start() -> io::Result<MockServer> {
        MockServer::start_with(&Config::default())
    }

    pub fn start_with(config: &Config) -> io::Result<MockServer> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let crate::app::App {
            mock,
            service,
            base,
            ..
        } = crate::app::build(config).map_err(io::Error::other)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mock-api")
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("mock-api".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => return tracing::error!(%error, "mock-api could not listen"),
                    };
                    let shutdown = async {
                        // A dropped sender means the handle is gone: stop as well.
                        let _ = stopped.await;
                    };
                    if let Err(error) = serve(listener, service, shutdown).await {
                        tracing::error!(%error, "mock-api stopped");
                    }
                });
            })?;
        Ok(MockServer {
            addr,
            url: format!("http://{addr}{base}"),
            mock,
            stop: Some(stop),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT` (with a served document's base path), without a
    /// trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The records the default namespace holds (users, or stored resources), for
    /// assertions that HTTP cannot make.
    pub fn items(&self) -> usize {
        self.mock.control.items()
    }

    /// The whole server's state.
    pub fn mock(&self) -> &Mock {
        &self.mock
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
