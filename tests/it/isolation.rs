//! Isolation and determinism over real HTTP: namespaces, `--seed`, the clock, snapshots,
//! seed data from a file, and the admin API's guard.

use reqwest::Method;
use serde_json::{Value, json};
use tests::Api;

const NS: &str = "x-mock-namespace";

async fn users_in(api: &Api, namespace: &str) -> u64 {
    let reply = api
        .send(Method::GET, "/api/users", None, &[(NS, namespace)])
        .await;
    reply.body["total"].as_u64().unwrap()
}

#[tokio::test]
async fn each_namespace_has_its_own_data_and_resets_alone_or_with_all() {
    let api = Api::start();
    let new = json!({"email": "a@example.com", "password": "secret1", "name": "A"});
    for namespace in ["alpha", "beta"] {
        let reply = api
            .send(
                Method::POST,
                "/api/users",
                Some(new.clone()),
                &[(NS, namespace)],
            )
            .await;
        assert_eq!(
            reply.status, 201,
            "the same email is free in each namespace"
        );
    }
    assert_eq!(
        (users_in(&api, "alpha").await, users_in(&api, "beta").await),
        (3, 3)
    );
    assert_eq!(
        users_in(&api, "gamma").await,
        2,
        "a new namespace starts from the seed"
    );
    assert_eq!(
        api.get("/api/users").await.body["total"],
        2,
        "the default is untouched"
    );
    // The seed users are the same ones, with the same ids, everywhere.
    let default_admin = api.get("/api/users").await.body["items"][0]["id"].clone();
    let alpha_admin = api
        .send(Method::GET, "/api/users", None, &[(NS, "alpha")])
        .await
        .body["items"][0]["id"]
        .clone();
    assert_eq!(default_admin, alpha_admin);

    let reset = api
        .send(Method::POST, "/__admin/reset", None, &[(NS, "alpha")])
        .await;
    assert_eq!(reset.status, 204);
    assert_eq!(
        (users_in(&api, "alpha").await, users_in(&api, "beta").await),
        (2, 3)
    );
    let listed = api.get("/__admin/namespaces").await;
    assert_eq!(listed.body["namespaces"].as_array().unwrap().len(), 3);
    assert_eq!(api.post("/__admin/reset", json!({})).await.status, 204);
    assert_eq!(
        api.get("/__admin/namespaces").await.body["namespaces"],
        json!([])
    );
    assert_eq!(users_in(&api, "beta").await, 2);

    let bad = api
        .send(Method::GET, "/api/users", None, &[(NS, "no spaces")])
        .await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_namespace"));
}

#[tokio::test]
async fn a_namespace_has_its_own_stubs_and_journal() {
    let api = Api::start();
    let stub = json!({"request": {"path": "/api/feature"}, "response": {"body": "on"}});
    let created = api
        .send(Method::POST, "/__admin/stubs", Some(stub), &[(NS, "alpha")])
        .await;
    assert_eq!(created.body["namespace"], "alpha");
    let get = |namespace: Option<&'static str>| {
        let mut request = api.raw(Method::GET, "/api/feature");
        if let Some(namespace) = namespace {
            request = request.header(NS, namespace);
        }
        request.send()
    };
    assert_eq!(get(Some("alpha")).await.unwrap().status(), 200);
    assert_eq!(get(Some("beta")).await.unwrap().status(), 404);
    assert_eq!(get(None).await.unwrap().status(), 404);
    let alpha = api
        .send(Method::GET, "/__admin/requests", None, &[(NS, "alpha")])
        .await;
    assert_eq!(alpha.body["total"], 1);
    api.send(Method::POST, "/__admin/reset", None, &[(NS, "alpha")])
        .await;
    assert_eq!(
        api.get("/__admin/requests").await.body["total"],
        2,
        "reset took its journal"
    );
    assert_eq!(
        get(Some("alpha")).await.unwrap().status(),
        404,
        "and its stubs"
    );
}

async fn ids_of_a_run(seed: u64) -> (Value, Value, String, String) {
    let api = Api::start_with(&mock_api::Config {
        seed: Some(seed),
        ..mock_api::Config::default()
    });
    let seeded = api.get("/api/users").await.body["items"][0]["id"].clone();
    let created = api.create_user("new@example.com", "New").await["id"].clone();
    let token = api.login(tests::USER).await;
    let in_namespace = api
        .send(
            Method::POST,
            "/api/users",
            Some(json!({"email": "n@example.com", "password": "secret1", "name": "N"})),
            &[(NS, "worker-1")],
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (seeded, created, token, in_namespace)
}

#[tokio::test]
async fn a_seed_repeats_ids_and_tokens_run_to_run() {
    let first = ids_of_a_run(11).await;
    assert_eq!(first, ids_of_a_run(11).await);
    let other = ids_of_a_run(12).await;
    assert_ne!(first.0, other.0);
    assert_ne!(first.2, other.2);

    // A reset goes back to the start of the sequence.
    let api = Api::start_with(&mock_api::Config {
        seed: Some(11),
        ..mock_api::Config::default()
    });
    api.create_user("x@example.com", "X").await;
    api.post("/__admin/reset", json!({})).await;
    assert_eq!(
        api.create_user("new@example.com", "New").await["id"],
        first.1
    );
}

#[tokio::test]
async fn the_clock_is_frozen_moved_and_released() {
    let start = mock_api::core::clock::parse("2026-01-01T00:00:00Z").unwrap();
    let api = Api::start_with(&mock_api::Config {
        clock: Some(start),
        ..mock_api::Config::default()
    });
    assert_eq!(
        api.get("/health").await.body["timestamp"],
        "2026-01-01T00:00:00.000Z"
    );
    assert_eq!(
        api.get("/api/users").await.body["items"][0]["created_at"],
        "2026-01-01T00:00:00.000Z"
    );
    let moved = api
        .post("/__admin/clock", json!({"advance_ms": 90_000}))
        .await;
    assert_eq!(
        moved.body,
        json!({"now": "2026-01-01T00:01:30.000Z", "frozen": true})
    );
    let user = api.create_user("later@example.com", "Later").await;
    assert_eq!(user["created_at"], "2026-01-01T00:01:30.000Z");
    let set = api
        .post(
            "/__admin/clock",
            json!({"now": "2030-06-01T12:00:00+02:00"}),
        )
        .await;
    assert_eq!(set.body["now"], "2030-06-01T10:00:00.000Z");
    for bad in [
        json!({}),
        json!({"now": "soon"}),
        json!({"now": "2030-01-01T00:00:00Z", "advance_ms": 1}),
    ] {
        assert_eq!(
            api.post("/__admin/clock", bad.clone()).await.status,
            400,
            "{bad}"
        );
    }
    let released = api.delete("/__admin/clock").await;
    assert_eq!(released.body["frozen"], false);
    api.post("/__admin/reset", json!({})).await;
    assert_eq!(
        api.get("/__admin/clock").await.body["now"],
        "2026-01-01T00:00:00.000Z"
    );
}

#[tokio::test]
async fn snapshots_save_and_restore_the_data_by_name() {
    let api = Api::start_with(&mock_api::Config {
        seed: Some(5),
        ..mock_api::Config::default()
    });
    let kept = api.create_user("kept@example.com", "Kept").await;
    let saved = api.post("/__admin/snapshots/with-kept", json!({})).await;
    assert_eq!((saved.status, saved.body["users"].as_u64()), (201, Some(3)));
    let next_id = api.create_user("next@example.com", "Next").await["id"].clone();
    api.delete(&format!("/api/users/{}", kept["id"].as_str().unwrap()))
        .await;
    assert_eq!(api.get("/api/users").await.body["total"], 3);

    let restored = api
        .post("/__admin/snapshots/with-kept/restore", json!({}))
        .await;
    assert_eq!(restored.status, 200);
    let emails: Vec<Value> = api.get("/api/users").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].clone())
        .collect();
    assert_eq!(
        emails,
        ["admin@example.com", "user@example.com", "kept@example.com"]
    );
    // The id generator came back too: the same next id.
    assert_eq!(
        api.create_user("next@example.com", "Next").await["id"],
        next_id
    );
    // A reset keeps snapshots.
    api.post("/__admin/reset", json!({})).await;
    let listed = api.get("/__admin/snapshots").await;
    assert_eq!(listed.body["snapshots"][0]["name"], "with-kept");

    let missing = api.post("/__admin/snapshots/nope/restore", json!({})).await;
    assert_eq!(
        (missing.status, missing.code()),
        (404, "snapshot_not_found")
    );
    assert_eq!(
        api.post("/__admin/snapshots/.hidden", json!({}))
            .await
            .status,
        400
    );
    assert_eq!(api.delete("/__admin/snapshots/with-kept").await.status, 204);
    assert_eq!(
        api.get("/__admin/snapshots").await.body["snapshots"],
        json!([])
    );
}

#[tokio::test]
async fn seed_data_comes_from_a_file_checked_record_by_record() {
    let dir = tests::temp_dir("mock-api-data");
    let good = dir.join("users.json");
    std::fs::write(
        &good,
        r#"[{"id": "00000000-0000-4000-8000-000000000001", "email": "ops@example.com",
             "password": "ops-pass", "name": "Ops", "role": "admin",
             "created_at": "2025-05-05T05:05:05Z"}]"#,
    )
    .unwrap();
    let api = Api::start_with(&mock_api::Config {
        users: Some(mock_api::engines::users::data::load(&good).unwrap()),
        ..mock_api::Config::default()
    });
    let listed = api.get("/api/users").await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(
        listed.body["items"][0]["id"],
        "00000000-0000-4000-8000-000000000001"
    );
    assert_eq!(
        listed.body["items"][0]["created_at"],
        "2025-05-05T05:05:05.000Z"
    );
    assert!(!api.login(("ops@example.com", "ops-pass")).await.is_empty());

    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"email": "a@example.com", "password": "p", "name": "A"},
            {"email": "b@example.com", "password": "p", "name": "B", "role": "root"}]"#,
    )
    .unwrap();
    let stderr = tests::mock_api_refuses(&[
        "--port".as_ref(),
        "0".as_ref(),
        "--data".as_ref(),
        bad.as_ref(),
    ]);
    assert!(
        stderr.contains("bad.json: record 2 (b@example.com): role must be one of: user, admin"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_admin_token_guards_the_admin_api_only() {
    let api = Api::start_with(&mock_api::Config {
        admin_token: Some("s3cret".to_owned()),
        ..mock_api::Config::default()
    });
    let refused = api.post("/__admin/reset", json!({})).await;
    assert_eq!(
        (refused.status, refused.code()),
        (401, "admin_unauthorized")
    );
    assert!(
        refused
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    let wrong = api
        .send(
            Method::GET,
            "/__admin/stubs",
            None,
            &[("authorization", "Bearer s3cre7")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    let allowed = api
        .send(
            Method::GET,
            "/__admin/stubs",
            None,
            &[
                ("authorization", "Bearer s3cret"),
                ("origin", "https://evil.example"),
            ],
        )
        .await;
    assert_eq!(allowed.status, 200);
    assert!(
        allowed.header("access-control-allow-origin").is_none(),
        "no CORS on admin"
    );
    assert_eq!(
        api.get("/health").await.status,
        200,
        "the API wants no admin token"
    );
}
