//! The benchmark ceiling: a bare axum server that answers every `GET /api/users/{id}`,
//! `GET /api/users` and `GET /api/pets/{id}` with a fixed JSON body and does no other work. `cargo xtask bench`
//! compares mock-api against it on the same machine in the same run.
//!
//! Usage: `bare_axum [PORT]`; prints `bare_axum listening on http://127.0.0.1:PORT`.

use std::io::Write;

use axum::Router;
use axum::http::header;
use axum::routing::get;

const USER: &str = r#"{"id":"8f14e45f-ceea-467f-a0e6-8b9e6a3c1d2b","email":"user@example.com","name":"Test User","role":"user","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}"#;

const PET: &str = r#"{"id":1,"name":"rex","tag":"dog"}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let page: &'static str = Box::leak(
        format!(
            r#"{{"items":[{}],"total":10,"page":1,"limit":10,"total_pages":1}}"#,
            [USER; 10].join(",")
        )
        .into_boxed_str(),
    );
    const JSON: [(header::HeaderName, &str); 1] = [(header::CONTENT_TYPE, "application/json")];
    let app = Router::new()
        .route("/api/users/{id}", get(|| async { (JSON, USER) }))
        .route("/api/users", get(move || async move { (JSON, page) }))
        .route("/api/pets/{id}", get(|| async { (JSON, PET) }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "bare_axum listening on http://{}",
        listener.local_addr()?
    )?;
    stdout.flush()?;
    axum::serve(listener, app).await
}
