//! Insta snapshots pin the shapes of the responses; ids, timestamps and tokens are redacted.

use insta::assert_json_snapshot;
use reqwest::Method;
use serde_json::{Value, json};
use tests::Api;

/// Redacts what changes between runs, wherever it sits in the body.
fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let redacted = match key.as_str() {
                        "id" => json!("[id]"),
                        "token" => json!("[token]"),
                        "created_at" | "updated_at" | "timestamp" => json!("[timestamp]"),
                        _ => redact(value),
                    };
                    (key.clone(), redacted)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn success_shapes() {
    let api = Api::start();
    assert_json_snapshot!("health", redact(&api.get("/health").await.body));
    assert_json_snapshot!(
        "list_page",
        redact(&api.get("/api/users?limit=1").await.body)
    );
    let created = api
        .post(
            "/api/users",
            json!({"email": "snap@example.org", "password": "pw", "name": "Snap"}),
        )
        .await;
    assert_json_snapshot!("created_user", redact(&created.body));
    let registered = api
        .post(
            "/api/auth/register",
            json!({"email": "reg@example.org", "password": "pw", "name": "Reg"}),
        )
        .await;
    assert_json_snapshot!("register_session", redact(&registered.body));
    let login = api
        .post(
            "/api/auth/login",
            json!({"email": "admin@example.com", "password": "admin123"}),
        )
        .await;
    assert_json_snapshot!("login_session", redact(&login.body));
}

#[tokio::test]
async fn error_shapes() {
    let api = Api::start();
    let mut errors = Vec::new();
    let mut record = |name: &str, reply: tests::Reply| {
        errors.push(json!({"case": name, "status": reply.status, "body": reply.body}));
    };
    record("unknown route", api.get("/nowhere").await);
    record(
        "wrong method",
        api.send(Method::PATCH, "/api/users", None, &[]).await,
    );
    record("bad page", api.get("/api/users?page=0").await);
    record(
        "missing field",
        api.post("/api/users", json!({"email": "a@b.co", "name": "A"}))
            .await,
    );
    record(
        "bad email",
        api.post(
            "/api/users",
            json!({"email": "a", "password": "p", "name": "A"}),
        )
        .await,
    );
    record(
        "taken email",
        api.post(
            "/api/users",
            json!({"email": "user@example.com", "password": "p", "name": "A"}),
        )
        .await,
    );
    record(
        "unknown user",
        api.get("/api/users/00000000-0000-4000-8000-000000000000")
            .await,
    );
    record(
        "bad login",
        api.post(
            "/api/auth/login",
            json!({"email": "user@example.com", "password": "x"}),
        )
        .await,
    );
    record("missing token", api.get("/api/auth/me").await);
    record(
        "unknown token",
        api.send(
            Method::GET,
            "/api/auth/me",
            None,
            &[("authorization", "Bearer x")],
        )
        .await,
    );
    record(
        "not json",
        api.exchange(api.client.post(api.url("/api/users")).body("x"))
            .await,
    );
    assert_json_snapshot!("errors", errors);
}
