//! Faults and latency over real HTTP: per request through `Prefer`, on stubs, on built-in
//! routes by path pattern, and as global chaos. Connection-level faults are read off a raw
//! socket, where a reset and a clean close can be told apart.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tests::Api;

/// Sends a raw HTTP/1.1 GET with a `Prefer` header and reads until the server is done.
fn raw_get(api: &Api, path: &str, prefer: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(api.server.addr())?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: mock\r\nPrefer: {prefer}\r\nConnection: close\r\n\r\n"
    )?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received)?;
    Ok(received)
}

#[tokio::test]
async fn prefer_asks_for_a_status_or_a_delay_without_an_admin_call() {
    let api = Api::start();
    let reply = api
        .raw(Method::GET, "/api/users")
        .header("prefer", "status=503")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 503);
    assert_eq!(reply.headers()["preference-applied"], "status=503");
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["code"], "injected_fault");

    let delayed = api
        .raw(Method::GET, "/health")
        .header("prefer", "delay=20-40, return=minimal")
        .send()
        .await
        .unwrap();
    assert_eq!(delayed.status(), 200);
    // Preferences the server does not know are ignored, as RFC 7240 asks.
    assert_eq!(delayed.headers()["preference-applied"], "delay=20-40");
    let journal = api.get("/__admin/requests?path=/health").await;
    assert_eq!(journal.body["requests"][0]["injected"], "delay=20-40");

    for bad in ["status=200", "fault=explode", "delay=soon", "delay=120000"] {
        let reply = api
            .raw(Method::GET, "/health")
            .header("prefer", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400, "{bad}");
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["code"], "invalid_prefer", "{bad}");
    }
}

#[tokio::test]
async fn connection_faults_reset_or_close_without_a_response() {
    let api = Api::start();
    let reset = raw_get(&api, "/health", "fault=reset").unwrap_err();
    assert_eq!(reset.kind(), ErrorKind::ConnectionReset, "{reset}");
    let empty = raw_get(&api, "/health", "fault=empty").unwrap();
    assert!(empty.is_empty(), "{}", String::from_utf8_lossy(&empty));
    // The server goes on serving.
    assert_eq!(api.get("/health").await.status, 200);
}

#[tokio::test]
async fn body_faults_garble_cut_or_dribble_the_real_response() {
    let api = Api::start();
    let whole = api.get("/api/users").await.text;

    let malformed = api
        .raw(Method::GET, "/api/users")
        .header("prefer", "fault=malformed")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 200);
    let text = malformed.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(whole.starts_with(text.split('\0').next().unwrap()));

    let truncated = api
        .raw(Method::GET, "/api/users")
        .header("prefer", "fault=truncated")
        .send()
        .await
        .unwrap();
    assert_eq!(truncated.content_length(), Some(whole.len() as u64));
    assert!(truncated.bytes().await.is_err(), "a short body is an error");

    let mut slow = api
        .raw(Method::GET, "/api/users")
        .header("prefer", "fault=slow, dribble=300")
        .send()
        .await
        .unwrap();
    let mut chunks = Vec::new();
    while let Some(chunk) = slow.chunk().await.unwrap() {
        chunks.push(chunk);
    }
    // Ten pieces 30 ms apart: even a busy reader sees several.
    assert!(chunks.len() >= 3, "dribbled in {} chunks", chunks.len());
    assert_eq!(chunks.concat(), whole.as_bytes());
}

#[tokio::test]
async fn fault_rules_hit_built_in_routes_by_path_pattern() {
    let api = Api::start();
    let id = api.get("/api/users").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rule = api
        .post(
            "/__admin/faults",
            json!({"method": "GET", "path": "/api/users/{id}", "status": 500}),
        )
        .await;
    assert_eq!(rule.status, 201, "{}", rule.text);
    let one = api
        .raw(Method::GET, &format!("/api/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 500);
    assert_eq!(
        api.get("/api/users").await.status,
        200,
        "other routes are untouched"
    );
    let rule_id = rule.body["id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/__admin/faults/{rule_id}")).await.body["status"],
        500
    );
    assert_eq!(
        api.delete(&format!("/__admin/faults/{rule_id}"))
            .await
            .status,
        204
    );
    assert_eq!(api.get(&format!("/api/users/{id}")).await.status, 200);

    // A rate of 0 never fires.
    api.post(
        "/__admin/faults",
        json!({"path": "/health", "status": 502, "rate": 0}),
    )
    .await;
    assert_eq!(api.get("/health").await.status, 200);
}

#[tokio::test]
async fn stubs_carry_their_own_faults() {
    let api = Api::start();
    let stub = json!({
        "request": {"path": "/api/report"},
        "response": {"body": {"rows": [1, 2, 3]}, "fault": "malformed", "delay_ms": {"min": 1, "max": 5}}
    });
    assert_eq!(api.post("/__admin/stubs", stub).await.status, 201);
    let reply = api.raw(Method::GET, "/api/report").send().await.unwrap();
    let text = reply.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    let journal = api.get("/__admin/requests").await;
    assert_eq!(
        journal.body["requests"][0]["injected"],
        "delay=1-5 fault=malformed"
    );
    assert_eq!(journal.body["requests"][0]["served_by"], "stub");
}

#[tokio::test]
async fn chaos_fails_a_share_of_requests_but_never_the_admin_api() {
    let api = Api::start_with(&mock_api::Config {
        seed: Some(3),
        ..mock_api::Config::default()
    });
    let set = api
        .send(
            Method::PUT,
            "/__admin/chaos",
            Some(json!({"error_rate": 0.5, "error_status": 502})),
            &[],
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    let mut failed = 0;
    for _ in 0..200 {
        let reply = api.raw(Method::GET, "/health").send().await.unwrap();
        match reply.status().as_u16() {
            502 => failed += 1,
            200 => {}
            other => panic!("unexpected {other}"),
        }
    }
    // A binomial(200, 0.5) falls outside 60..140 with a probability below 1e-8.
    assert!((60..140).contains(&failed), "{failed} of 200 failed");
    assert_eq!(api.get("/__admin/chaos").await.body["error_rate"], 0.5);
    assert_eq!(
        api.get("/__admin/stubs").await.status,
        200,
        "admin is exempt"
    );
    assert_eq!(api.delete("/__admin/chaos").await.status, 204);
    for _ in 0..20 {
        assert_eq!(api.get("/health").await.status, 200);
    }
}

#[tokio::test]
async fn prefer_code_answers_the_documented_response() {
    let api = Api::start();
    // A user that exists, answered with the operation's documented 404 and its example.
    let id = api.get("/api/users").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = api
        .raw(Method::GET, &format!("/api/users/{id}"))
        .header("prefer", "code=404")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 404);
    assert_eq!(reply.headers()["preference-applied"], "code=404");
    assert_eq!(reply.headers()["content-type"], "application/json");
    let body: Value = reply.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "user not found", "code": "user_not_found"})
    );
    // The documented success, from the schema when no example is given.
    let ok = api
        .raw(Method::GET, "/health")
        .header("prefer", "code=200")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let journal = api.get("/__admin/requests?path=/health").await;
    assert_eq!(journal.body["requests"][0]["injected"], "code=200");
    // What the document does not have is the client's mistake: 400 saying so.
    for (prefer, message) in [
        ("code=418", "documents no 418 response"),
        ("example=nope", "has no example named \"nope\""),
        ("code=99", "must be a status from 100 to 599"),
    ] {
        let reply = api
            .raw(Method::GET, "/health")
            .header("prefer", prefer)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400, "{prefer}");
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["code"], "invalid_prefer", "{prefer}");
        assert!(body["error"].as_str().unwrap().contains(message), "{body}");
    }
}
