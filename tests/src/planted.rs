//! A small API with its spec, correct unless told to carry planted defects, for showing that
//! `contract` finds each defect (and nothing on the correct version).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The contract the planted API claims to honour.
pub const SPEC: &str = r##"
openapi: 3.0.3
info: {title: planted, version: "1"}
paths:
  /items:
    post:
      operationId: createItem
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewItem"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Item"}
        "400":
          description: invalid
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "415":
          description: not JSON
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
  /items/{id}:
    get:
      operationId: getItem
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, minimum: 1, maximum: 1000000}}
      responses:
        "200":
          description: the item
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Item"}
        "404":
          description: no such item
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
components:
  schemas:
    NewItem:
      type: object
      additionalProperties: false
      required: [name, qty]
      properties:
        name: {type: string, minLength: 1, maxLength: 20}
        qty: {type: integer, minimum: 0, maximum: 100}
    Item:
      type: object
      additionalProperties: false
      required: [id, name, qty]
      properties:
        id: {type: integer}
        name: {type: string}
        qty: {type: integer}
    Error:
      type: object
      required: [error]
      properties:
        error: {type: string}
"##;

/// Defects to plant; all off is a correct server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defects {
    /// POST answers 500 when `qty` is above 50 and `name` longer than 5 characters: two
    /// conditions, so no single boundary case finds it and the random phase must, and shrink it.
    pub server_error: bool,
    /// GET answers 418 (undocumented) for ids from 501 to 1000.
    pub undocumented_status: bool,
    /// GET answers `qty` as a string for even ids.
    pub schema_break: bool,
    /// GET answers with `text/plain` for ids divisible by 3.
    pub wrong_content_type: bool,
    /// GET answers with a `password` field.
    pub leaked_password: bool,
    /// POST accepts any `qty`, even above the maximum of 100.
    pub accepts_bad_input: bool,
    /// GET takes 120 ms for the odd ids of the catalogue.
    pub slow: bool,
}

/// Items 1 to 1000 are a fixed catalogue; created items get ids from 1001 on.
const CATALOGUE: i64 = 1000;

impl Defects {
    /// Every defect but the slow one (which would only slow a run down).
    pub fn all_but_slow() -> Defects {
        Defects {
            server_error: true,
            undocumented_status: true,
            schema_break: true,
            wrong_content_type: true,
            leaked_password: true,
            accepts_bad_input: true,
            slow: false,
        }
    }
}

struct Planted {
    defects: Defects,
    next_id: AtomicU64,
    created: std::sync::Mutex<std::collections::BTreeMap<i64, Value>>,
}

pub fn app(defects: Defects) -> Router {
    let state = Arc::new(Planted {
        defects,
        next_id: AtomicU64::new(CATALOGUE as u64 + 1),
        created: Default::default(),
    });
    Router::new()
        .route("/items", post(create))
        .route("/items/{id}", get(fetch))
        .with_state(state)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

async fn create(
    State(state): State<Arc<Planted>>,
    body: Result<axum::Json<Value>, JsonRejection>,
) -> Response {
    let body = match body {
        Ok(axum::Json(body)) => body,
        Err(JsonRejection::MissingJsonContentType(_)) => {
            return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not JSON");
        }
        Err(_) => return error(StatusCode::BAD_REQUEST, "malformed JSON"),
    };
    let Some(object) = body.as_object() else {
        return error(StatusCode::BAD_REQUEST, "not an object");
    };
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| (1..=20).contains(&n.chars().count()));
    let max = if state.defects.accepts_bad_input {
        i64::MAX
    } else {
        100
    };
    let qty = object
        .get("qty")
        .and_then(Value::as_i64)
        .filter(|q| (0..=max).contains(q));
    let (Some(name), Some(qty)) = (name, qty) else {
        return error(StatusCode::BAD_REQUEST, "invalid item");
    };
    if object.keys().any(|k| k != "name" && k != "qty") {
        return error(StatusCode::BAD_REQUEST, "unknown field");
    }
    if state.defects.server_error && qty > 50 && name.chars().count() > 5 {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "boom");
    }
    let id = state.next_id.fetch_add(1, Ordering::Relaxed) as i64;
    let item = json!({"id": id, "name": name, "qty": qty});
    state.created.lock().unwrap().insert(id, item.clone());
    (StatusCode::CREATED, axum::Json(item)).into_response()
}

async fn fetch(
    State(state): State<Arc<Planted>>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return error(StatusCode::NOT_FOUND, "no such item");
    };
    let created = state.created.lock().unwrap().get(&id).cloned();
    if !(1..=CATALOGUE).contains(&id) && created.is_none() {
        return error(StatusCode::NOT_FOUND, "no such item");
    }
    let d = state.defects;
    if d.slow && (1..=CATALOGUE).contains(&id) && id % 2 == 1 {
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    if d.undocumented_status && (501..=CATALOGUE).contains(&id) {
        return (
            StatusCode::IM_A_TEAPOT,
            axum::Json(json!({"error": "teapot"})),
        )
            .into_response();
    }
    if d.wrong_content_type && id % 3 == 0 {
        return ([(header::CONTENT_TYPE, "text/plain")], format!("item {id}")).into_response();
    }
    let mut item = created.unwrap_or_else(|| json!({"id": id, "name": "widget", "qty": 1}));
    if d.schema_break && id % 2 == 0 {
        item["qty"] = json!("1");
    }
    if d.leaked_password {
        item["password"] = json!("hunter2");
    }
    axum::Json(item).into_response()
}

/// Serves a router on 127.0.0.1:0 on the current runtime; the task ends with the runtime.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A target that reads each request and closes the connection without answering.
pub async fn serve_dropping() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                if socket.readable().await.is_ok() {
                    let _ = socket.try_read(&mut buffer);
                }
                // Dropping the socket closes it with nothing sent.
            });
        }
    });
    addr
}

/// Serves a router over HTTPS on 127.0.0.1:0 with the test certificate of
/// `fixtures/tls/server.pem`; with `client_auth`, only clients presenting a certificate of the
/// test CA get in (mTLS).
pub async fn serve_tls(router: Router, client_auth: bool) -> SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let fixture = |name: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/tls")
            .join(name)
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.pem"))
        .expect("the server certificate")
        .collect::<Result<_, _>>()
        .expect("PEM certificates");
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).expect("the server key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("TLS versions");
    let builder = match client_auth {
        true => {
            let mut roots = rustls::RootCertStore::empty();
            for ca in CertificateDer::pem_file_iter(fixture("ca.pem")).expect("the CA") {
                roots
                    .add(ca.expect("a PEM certificate"))
                    .expect("a CA certificate");
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("a client verifier");
            builder.with_client_cert_verifier(verifier)
        }
        false => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .expect("a server certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, router) = (acceptor.clone(), router.clone());
            tokio::spawn(async move {
                // A client that fails the handshake is simply dropped.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}
