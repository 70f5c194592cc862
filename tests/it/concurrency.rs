//! The state stays whole under concurrent requests: no lost creates or updates, and no
//! duplicate email slipping through a race.

use std::sync::Arc;

use serde_json::json;
use tests::Api;
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_creates_make_two_hundred_users() {
    let api = Arc::new(Api::start());
    let mut tasks = JoinSet::new();
    for i in 0..200 {
        let api = api.clone();
        tasks.spawn(async move {
            let body = json!({"email": format!("c{i}@example.org"), "password": "pw", "name": format!("C {i}")});
            api.post("/api/users", body).await.status
        });
    }
    let statuses = tasks.join_all().await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let all = api.get("/api/users?search=@example.org&limit=100").await;
    assert_eq!(all.body["total"], 200);
    assert_eq!(api.server.items(), 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_of_one_email_make_exactly_one_user() {
    let api = Arc::new(Api::start());
    let mut tasks = JoinSet::new();
    for i in 0..100 {
        let api = api.clone();
        // The same address in different cases: still one user.
        let email = if i % 2 == 0 {
            "race@example.org"
        } else {
            "RACE@example.org"
        };
        tasks.spawn(async move {
            api.post(
                "/api/users",
                json!({"email": email, "password": "pw", "name": "Race"}),
            )
            .await
            .status
        });
    }
    let mut statuses = tasks.join_all().await;
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        99,
        "{statuses:?}"
    );
    assert_eq!(api.get("/api/users?search=race@").await.body["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_partial_updates_are_not_lost() {
    let api = Arc::new(Api::start());
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(
            api.create_user(&format!("p{i}@example.org"), "Before")
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut tasks = JoinSet::new();
    for id in &ids {
        for body in [
            json!({"name": "Renamed"}),
            json!({"role": "admin"}),
            json!({"email": format!("{id}@example.org")}),
        ] {
            let (api, path) = (api.clone(), format!("/api/users/{id}"));
            tasks.spawn(async move { api.put(&path, body).await.status });
        }
    }
    assert!(tasks.join_all().await.iter().all(|s| *s == 200));
    for id in &ids {
        let user = api.get(&format!("/api/users/{id}")).await.body;
        assert_eq!(
            (user["name"].as_str(), user["role"].as_str()),
            (Some("Renamed"), Some("admin")),
            "{id}"
        );
        assert_eq!(user["email"], format!("{id}@example.org"));
    }
}
