//! Login, registration, bearer tokens and logout.

use reqwest::Method;
use serde_json::json;
use tests::{ADMIN, Api, USER};

#[tokio::test]
async fn login_returns_a_fresh_unguessable_token() {
    let api = Api::start();
    let a = api
        .post(
            "/api/auth/login",
            json!({"email": "ADMIN@example.com", "password": "admin123"}),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["user"]["email"], "admin@example.com");
    assert_eq!(a.body["user"]["role"], "admin");
    let token = a.body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64, "256 bits, hex");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let b = api.login(ADMIN).await;
    assert_ne!(token, b, "each login issues a new token");
}

#[tokio::test]
async fn wrong_email_and_wrong_password_look_the_same() {
    let api = Api::start();
    let wrong_password = api
        .post(
            "/api/auth/login",
            json!({"email": "admin@example.com", "password": "nope"}),
        )
        .await;
    let unknown_email = api
        .post(
            "/api/auth/login",
            json!({"email": "who@example.com", "password": "admin123"}),
        )
        .await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.code(), "invalid_credentials");
    assert_eq!(unknown_email.status, 401);
}

#[tokio::test]
async fn login_validates_its_body() {
    let api = Api::start();
    for body in [
        json!({}),
        json!({"email": "admin@example.com"}),
        json!({"password": "x"}),
        json!({"email": 1, "password": "x"}),
        json!({"email": "", "password": "x"}),
    ] {
        let reply = api.post("/api/auth/login", body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "validation_error"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn register_forces_the_user_role_and_logs_in() {
    let api = Api::start();
    let reply = api
        .post(
            "/api/auth/register",
            json!({"email": "new@example.org", "password": "pw", "name": "New", "role": "admin"}),
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body["user"]["role"], "user");
    let bearer = format!("Bearer {}", reply.body["token"].as_str().unwrap());
    let me = api.me(&bearer).await;
    assert_eq!(me.body, reply.body["user"]);
    let again = api
        .post(
            "/api/auth/register",
            json!({"email": "NEW@example.org", "password": "pw", "name": "New"}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "email_taken"));
    let invalid = api
        .post(
            "/api/auth/register",
            json!({"email": "bad", "password": "pw", "name": "New"}),
        )
        .await;
    assert_eq!(invalid.status, 400);
}

#[tokio::test]
async fn me_and_logout_require_a_live_bearer_token() {
    let api = Api::start();
    for path in ["/api/auth/me", "/api/auth/logout"] {
        let method = if path.ends_with("me") {
            Method::GET
        } else {
            Method::POST
        };
        let missing = api.send(method.clone(), path, None, &[]).await;
        assert_eq!(
            (missing.status, missing.code()),
            (401, "missing_token"),
            "{path}"
        );
        assert_eq!(
            missing.header("www-authenticate"),
            Some(r#"Bearer realm="mock-api""#)
        );
        for value in [
            "Bearer",
            "Bearer ",
            "Token abc",
            "Basic dXNlcjpwYXNz",
            "abc",
            "Bearer 0000",
        ] {
            let reply = api
                .send(method.clone(), path, None, &[("authorization", value)])
                .await;
            assert_eq!(
                (reply.status, reply.code()),
                (401, "invalid_token"),
                "{path} with {value:?}"
            );
            assert!(
                reply
                    .header("www-authenticate")
                    .unwrap()
                    .contains("invalid_token")
            );
        }
    }
}

#[tokio::test]
async fn logout_revokes_only_that_token() {
    let api = Api::start();
    let first = format!("Bearer {}", api.login(USER).await);
    let second = format!("bearer {}", api.login(USER).await);
    let me = api.me(&first).await;
    assert_eq!(
        (me.status, me.body["email"].as_str()),
        (200, Some("user@example.com"))
    );
    let out = api.logout(&first).await;
    assert_eq!((out.status, out.text.as_str()), (204, ""));
    let revoked = api.me(&first).await;
    assert_eq!(revoked.status, 401);
    let again = api.logout(&first).await;
    assert_eq!(again.status, 401);
    let other = api.me(&second).await;
    assert_eq!(
        other.status, 200,
        "the scheme is case-insensitive and the other token lives"
    );
}

#[tokio::test]
async fn no_response_ever_carries_a_password() {
    let api = Api::start();
    let created = api
        .post(
            "/api/users",
            json!({"email": "leak@example.org", "password": "hunter2-secret", "name": "Leak"}),
        )
        .await;
    let login = api
        .post(
            "/api/auth/login",
            json!({"email": "leak@example.org", "password": "hunter2-secret"}),
        )
        .await;
    let list = api.get("/api/users?limit=100").await;
    // Every reply has also passed `sensitive_data_exposure` in the client; here, the raw text.
    for reply in [&created, &login, &list] {
        assert!(!reply.text.contains("hunter2-secret"), "{}", reply.text);
        assert!(!reply.text.contains("argon2"), "{}", reply.text);
    }
}
