//! Users CRUD: creation, pagination, search, partial update, delete.

use serde_json::json;
use tests::Api;

#[tokio::test]
async fn create_defaults_the_role_to_user_and_accepts_admin() {
    let api = Api::start();
    let plain = api.create_user("plain@example.org", "Plain").await;
    assert_eq!(plain["role"], "user");
    assert_eq!(plain["created_at"], plain["updated_at"]);
    let admin = api
        .post(
            "/api/users",
            json!({"email": "boss@example.org", "password": "x", "name": "Boss", "role": "admin"}),
        )
        .await;
    assert_eq!(
        (admin.status, admin.body["role"].as_str()),
        (201, Some("admin"))
    );
    let fetched = api
        .get(&format!("/api/users/{}", plain["id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, plain);
}

#[tokio::test]
async fn create_rejects_every_invalid_field() {
    let api = Api::start();
    let valid = json!({"email": "v@example.org", "password": "pw", "name": "V"});
    let long_name = "n".repeat(101);
    let cases = [
        ("email", json!(null), "email must be a string"),
        ("email", json!(42), "email must be a string"),
        ("email", json!(""), "email must be at least 3 characters"),
        (
            "email",
            json!("not-an-email"),
            "email must be a valid email address",
        ),
        (
            "email",
            json!("a b@example.org"),
            "email must be a valid email address",
        ),
        ("password", json!(""), "password must not be empty"),
        ("password", json!(["pw"]), "password must be a string"),
        ("name", json!(""), "name must not be empty"),
        (
            "name",
            json!(long_name),
            "name must be at most 100 characters",
        ),
        ("role", json!("root"), "role must be one of: user, admin"),
        ("role", json!(true), "role must be a string"),
    ];
    for (field, value, message) in cases {
        let mut body = valid.clone();
        body[field] = value.clone();
        let reply = api.post("/api/users", body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "validation_error"),
            "{field} = {value}"
        );
        assert_eq!(reply.body["error"], message, "{field} = {value}");
    }
    for field in ["email", "password", "name"] {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(field);
        let reply = api.post("/api/users", body).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.body["error"], format!("{field} is required"));
    }
    for body in [json!([]), json!("text"), json!(null)] {
        let reply = api.post("/api/users", body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "validation_error"),
            "{body}"
        );
    }
    // Nothing invalid was stored.
    assert_eq!(api.server.items(), 2);
}

#[tokio::test]
async fn emails_are_unique_ignoring_case() {
    let api = Api::start();
    for email in [
        "admin@example.com",
        "ADMIN@EXAMPLE.COM",
        "Admin@Example.com",
    ] {
        let reply = api
            .post(
                "/api/users",
                json!({"email": email, "password": "p", "name": "N"}),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (409, "email_taken"),
            "{email}"
        );
    }
}

#[tokio::test]
async fn pages_follow_creation_order() {
    let api = Api::start();
    for i in 0..23 {
        api.create_user(&format!("u{i:02}@example.org"), &format!("User {i:02}"))
            .await;
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let reply = api.get(&format!("/api/users?page={page}&limit=10")).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["total"], 25);
        assert_eq!(reply.body["total_pages"], 3);
        assert_eq!(reply.body["page"], page);
        assert_eq!(reply.body["limit"], 10);
        seen.extend(
            reply.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].clone()),
        );
    }
    let mut expected = vec![json!("admin@example.com"), json!("user@example.com")];
    expected.extend((0..23).map(|i| json!(format!("u{i:02}@example.org"))));
    assert_eq!(seen, expected);
    let beyond = api.get("/api/users?page=4&limit=10").await;
    assert_eq!(
        (
            beyond.body["items"].as_array().unwrap().len(),
            &beyond.body["total"]
        ),
        (0, &json!(25))
    );
    let default = api.get("/api/users").await;
    assert_eq!(
        (&default.body["page"], &default.body["limit"]),
        (&json!(1), &json!(10))
    );
    let all = api.get("/api/users?limit=100").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 25);
}

#[tokio::test]
async fn search_matches_name_or_email_ignoring_case() {
    let api = Api::start();
    api.create_user("zed@example.org", "Alice Zimmer").await;
    api.create_user("alice.b@example.org", "Bob").await;
    let check = |query: &'static str, expect: &'static [&'static str]| {
        let api = &api;
        async move {
            let reply = api.get(&format!("/api/users?{query}")).await;
            assert_eq!(reply.status, 200, "{query}");
            let emails: Vec<&str> = reply.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap())
                .collect();
            assert_eq!(emails, expect, "{query}");
            assert_eq!(reply.body["total"], expect.len(), "{query}");
        }
    };
    check("search=ALICE", &["zed@example.org", "alice.b@example.org"]).await;
    check("search=zimmer", &["zed@example.org"]).await;
    check(
        "search=EXAMPLE.COM",
        &["admin@example.com", "user@example.com"],
    )
    .await;
    check("search=nobody-has-this", &[]).await;
    check(
        "search=",
        &[
            "admin@example.com",
            "user@example.com",
            "zed@example.org",
            "alice.b@example.org",
        ],
    )
    .await;
    let paged = api.get("/api/users?search=EXAMPLE&limit=1&page=2").await;
    assert_eq!(paged.body["items"][0]["email"], "user@example.com");
    assert_eq!(
        (
            paged.body["total"].as_u64(),
            paged.body["total_pages"].as_u64()
        ),
        (Some(4), Some(4))
    );
    let none = api.get("/api/users?search=nobody-has-this").await;
    assert_eq!(none.body["total_pages"], 0);
}

#[tokio::test]
async fn list_rejects_bad_paging() {
    let api = Api::start();
    for query in [
        "page=0",
        "page=-1",
        "page=abc",
        "page=1.5",
        "page=",
        "page=10000000000",
        "limit=0",
        "limit=101",
        "limit=-5",
        "limit=ten",
        "limit=99999999999999999999",
    ] {
        let reply = api.get(&format!("/api/users?{query}")).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "invalid_query"),
            "{query}"
        );
    }
    let long = "s".repeat(257);
    let reply = api.get(&format!("/api/users?search={long}")).await;
    assert_eq!((reply.status, reply.code()), (400, "invalid_query"));
    for query in ["page=1&limit=1", "limit=100", "page=1000000000"] {
        assert_eq!(
            api.get(&format!("/api/users?{query}")).await.status,
            200,
            "{query}"
        );
    }
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let api = Api::start();
    for id in ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "%20"] {
        let path = format!("/api/users/{id}");
        assert_eq!(api.get(&path).await.code(), "user_not_found", "{id}");
        assert_eq!(
            api.put(&path, json!({"name": "x"})).await.code(),
            "user_not_found",
            "{id}"
        );
        assert_eq!(api.delete(&path).await.code(), "user_not_found", "{id}");
    }
}

#[tokio::test]
async fn update_is_partial_and_bumps_updated_at() {
    let api = Api::start();
    let user = api.create_user("before@example.org", "Before").await;
    let path = format!("/api/users/{}", user["id"].as_str().unwrap());
    let renamed = api.put(&path, json!({"name": "After"})).await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.body["name"], "After");
    for kept in ["id", "email", "role", "created_at"] {
        assert_eq!(renamed.body[kept], user[kept], "{kept}");
    }
    assert!(renamed.body["updated_at"].as_str() > user["updated_at"].as_str());
    let again = api.put(&path, json!({})).await;
    for at in [
        &user["created_at"],
        &renamed.body["updated_at"],
        &again.body["updated_at"],
    ] {
        assert_eq!(
            at.as_str().unwrap().len(),
            "2026-01-01T00:00:00.000Z".len(),
            "{at}"
        );
    }
    assert!(again.body["updated_at"].as_str() > renamed.body["updated_at"].as_str());
    let promoted = api
        .put(
            &path,
            json!({"role": "admin", "email": "After@Example.org"}),
        )
        .await;
    assert_eq!(
        (
            promoted.body["role"].as_str(),
            promoted.body["email"].as_str()
        ),
        (Some("admin"), Some("After@Example.org"))
    );
    assert_eq!(api.get(&path).await.body, promoted.body);
    // The old email is free again, the new one is taken.
    assert_eq!(
        api.post(
            "/api/users",
            json!({"email": "before@example.org", "password": "p", "name": "B"})
        )
        .await
        .status,
        201
    );
    assert_eq!(
        api.post(
            "/api/users",
            json!({"email": "after@example.org", "password": "p", "name": "B"})
        )
        .await
        .status,
        409
    );
}

#[tokio::test]
async fn update_validates_and_refuses_a_taken_email() {
    let api = Api::start();
    let user = api.create_user("me@example.org", "Me").await;
    let path = format!("/api/users/{}", user["id"].as_str().unwrap());
    for body in [
        json!({"name": ""}),
        json!({"email": "nope"}),
        json!({"role": "owner"}),
        json!({"password": 5}),
        json!([1]),
    ] {
        let reply = api.put(&path, body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "validation_error"),
            "{body}"
        );
    }
    let taken = api.put(&path, json!({"email": "USER@example.com"})).await;
    assert_eq!((taken.status, taken.code()), (409, "email_taken"));
    // Changing only the case of one's own email is allowed.
    assert_eq!(
        api.put(&path, json!({"email": "ME@example.org"}))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get(&path).await.body["name"],
        "Me",
        "failed updates changed nothing"
    );
}

#[tokio::test]
async fn a_new_password_replaces_the_old_one() {
    let api = Api::start();
    let user = api.create_user("pw@example.org", "Pw").await;
    let path = format!("/api/users/{}", user["id"].as_str().unwrap());
    assert_eq!(
        api.put(&path, json!({"password": "new-secret"}))
            .await
            .status,
        200
    );
    let old = api
        .post(
            "/api/auth/login",
            json!({"email": "pw@example.org", "password": "pw-123456"}),
        )
        .await;
    assert_eq!(old.status, 401);
    api.login(("pw@example.org", "new-secret")).await;
}

#[tokio::test]
async fn delete_removes_the_user_and_revokes_its_tokens() {
    let api = Api::start();
    let user = api.create_user("gone@example.org", "Gone").await;
    let path = format!("/api/users/{}", user["id"].as_str().unwrap());
    let token = api.login(("gone@example.org", "pw-123456")).await;
    let bearer = format!("Bearer {token}");
    let me = api.me(&bearer).await;
    assert_eq!(me.status, 200);
    let deleted = api.delete(&path).await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    assert_eq!(api.get(&path).await.status, 404);
    assert_eq!(api.delete(&path).await.status, 404);
    let me = api.me(&bearer).await;
    assert_eq!((me.status, me.code()), (401, "invalid_token"));
    assert_eq!(api.get("/api/users?search=gone").await.body["total"], 0);
    // Its email is free again.
    api.create_user("gone@example.org", "Back").await;
}

#[tokio::test]
async fn reset_restores_the_seed_and_revokes_every_token() {
    let api = Api::start();
    let seed = api.get("/api/users").await.body;
    let token = api.login(tests::USER).await;
    api.create_user("extra@example.org", "Extra").await;
    let admin_id = seed["items"][0]["id"].as_str().unwrap().to_owned();
    api.delete(&format!("/api/users/{admin_id}")).await;
    api.put(
        &format!("/api/users/{}", seed["items"][1]["id"].as_str().unwrap()),
        json!({"name": "Renamed"}),
    )
    .await;
    let reset = api.post("/__admin/reset", json!({})).await;
    assert_eq!((reset.status, reset.text.as_str()), (204, ""));
    assert_eq!(
        api.get("/api/users").await.body,
        seed,
        "exactly the seed data, same ids"
    );
    let bearer = format!("Bearer {token}");
    let me = api.me(&bearer).await;
    assert_eq!(me.status, 401);
    api.login(tests::ADMIN).await;
}

#[tokio::test]
async fn extra_users_make_a_large_searchable_seed() {
    let api = Api::start_with(&mock_api::Config {
        extra_users: 5000,
        ..mock_api::Config::default()
    });
    let all = api.get("/api/users?limit=100&page=50").await;
    assert_eq!(
        (all.body["total"].as_u64(), all.body["total_pages"].as_u64()),
        (Some(5002), Some(51))
    );
    let found = api.get("/api/users?search=USER4999@").await;
    assert_eq!(found.body["items"][0]["name"], "Load User 4999");
    api.login((
        "user4999@load.test",
        mock_api::engines::users::store::EXTRA_USERS_PASSWORD,
    ))
    .await;
}
