//! Serving: [`run`] on an already-bound listener, and [`MockServer`], which runs the mock on
//! a thread of its own for tests (`127.0.0.1:0`, stopped on drop).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::mock::{Config, Mock};
use crate::peer::Peer;
use crate::store::Store;

/// Serves the mock API with the default configuration until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mock = Mock::new(&Config::default()).map_err(io::Error::other)?;
    serve(listener, crate::app(Arc::new(mock)), shutdown).await
}

/// Serves any router (the mock's, or one built around it) until `shutdown` completes, then
/// lets requests in flight finish. Each request carries its connection's [`Peer`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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

impl MockServer {
    /// Starts a mock with the seed data.
    pub fn start() -> io::Result<MockServer> {
        MockServer::start_with(&Config::default())
    }

    pub fn start_with(config: &Config) -> io::Result<MockServer> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let mock = Arc::new(Mock::new(config).map_err(io::Error::other)?);
        let router = crate::app(mock.clone());
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
                    if let Err(error) = serve(listener, router, shutdown).await {
                        tracing::error!(%error, "mock-api stopped");
                    }
                });
            })?;
        Ok(MockServer {
            addr,
            url: format!("http://{addr}"),
            mock,
            stop: Some(stop),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The default namespace's data, for assertions that HTTP cannot make.
    pub fn store(&self) -> &Store {
        &self.mock.store
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
