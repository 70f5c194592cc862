//! Runtime stubs, the request journal and verification, over real HTTP. Admin replies are
//! judged against `specs/mock-admin.yaml`; stubbed routes answer what they were told, so
//! they go through the unjudged `raw` client.

use reqwest::Method;
use serde_json::{Value, json};
use tests::Api;

async fn add_stub(api: &Api, stub: Value) -> String {
    let reply = api.post("/__admin/stubs", stub).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        reply.header("location"),
        Some(format!("/__admin/stubs/{id}").as_str())
    );
    id
}

async fn verify(api: &Api, id: &str, expectation: Value) -> Value {
    let reply = api
        .post(&format!("/__admin/stubs/{id}/verify"), expectation)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

#[tokio::test]
async fn a_stub_takes_priority_over_a_built_in_route_until_deleted() {
    let api = Api::start();
    let id = add_stub(
        &api,
        json!({
            "name": "teapot health",
            "request": {"method": "GET", "path": "/health"},
            "response": {"status": 418, "headers": {"x-stubbed": "yes"}, "body": {"short": "stout"}}
        }),
    )
    .await;
    let stubbed = api.raw(Method::GET, "/health").send().await.unwrap();
    assert_eq!(stubbed.status(), 418);
    assert_eq!(stubbed.headers()["x-stubbed"], "yes");
    assert_eq!(stubbed.headers()["content-type"], "application/json");
    assert_eq!(
        stubbed.json::<Value>().await.unwrap(),
        json!({"short": "stout"})
    );

    let listed = api.get("/__admin/stubs").await;
    assert_eq!(listed.body["stubs"][0]["id"], id.as_str());
    let one = api.get(&format!("/__admin/stubs/{id}")).await;
    assert_eq!(
        (one.body["calls"].as_u64(), one.body["name"].as_str()),
        (Some(1), Some("teapot health"))
    );

    assert_eq!(
        api.delete(&format!("/__admin/stubs/{id}")).await.status,
        204
    );
    assert_eq!(
        api.get("/health").await.status,
        200,
        "the built-in route is back"
    );
    let gone = api.get(&format!("/__admin/stubs/{id}")).await;
    assert_eq!((gone.status, gone.code()), (404, "stub_not_found"));
}

#[tokio::test]
async fn bad_stubs_get_a_clear_400_and_taken_ids_a_409() {
    let api = Api::start();
    for (stub, says) in [
        (json!({"request": {"path": "orders"}}), "must start with /"),
        (json!({"request": {"path": "/__admin/stubs"}}), "admin API"),
        (json!({"request": {"path": "/x", "method": "BREW"}}), "BREW"),
        (
            json!({"request": {"path": "/x", "headers": {"x": {"matches": "("}}}}),
            "regular expression",
        ),
        (
            json!({"request": {"path": "/x"}, "response": {"status": 700}}),
            "200 to 599",
        ),
        (
            json!({"request": {"path": "/x"}, "response": {"delay_ms": 90_000}}),
            "over the limit",
        ),
        (
            json!({"request": {"path": "/x"}, "response": {"fault": "explode"}}),
            "explode",
        ),
        (
            json!({"request": {"path": "/x"}, "reponse": {}}),
            "unknown field `reponse`",
        ),
        (
            json!({"request": {"path": "/x"}, "name": null}),
            "name must not be null",
        ),
    ] {
        let reply = api.post("/__admin/stubs", stub.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "validation_error"),
            "{stub}"
        );
        assert!(
            reply.body["error"].as_str().unwrap().contains(says),
            "{stub}: {}",
            reply.text
        );
    }
    let stub = json!({"id": "5b0a2a3e-7f0c-4e0a-9d5e-2a2b2c2d2e2f", "request": {"path": "/x"}});
    add_stub(&api, stub.clone()).await;
    let again = api.post("/__admin/stubs", stub).await;
    assert_eq!((again.status, again.code()), (409, "stub_exists"));
}

#[tokio::test]
async fn matchers_on_method_template_query_headers_and_body() {
    let api = Api::start();
    add_stub(
        &api,
        json!({
            "name": "euro payment",
            "request": {
                "method": "POST",
                "path": "/api/accounts/{id}/payments",
                "query": {"dry_run": {"absent": true}},
                "headers": {"x-tenant": {"matches": "acme-[0-9]+"}},
                "body": {"currency": "EUR"}
            },
            "response": {"status": 202, "body": "queued"}
        }),
    )
    .await;
    let pay = |path: &str, tenant: &str, currency: &str| {
        api.raw(Method::POST, path)
            .header("x-tenant", tenant)
            .json(&json!({"amount": 5, "currency": currency}))
            .send()
    };
    let hit = pay("/api/accounts/7/payments", "acme-1", "EUR")
        .await
        .unwrap();
    assert_eq!(hit.status(), 202);
    assert_eq!(hit.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(hit.text().await.unwrap(), "queued");
    for (path, tenant, currency) in [
        ("/api/accounts/7/payments?dry_run=1", "acme-1", "EUR"),
        ("/api/accounts/7/payments", "globex", "EUR"),
        ("/api/accounts/7/payments", "acme-1", "USD"),
        ("/api/accounts/7/refunds", "acme-1", "EUR"),
    ] {
        let missed = pay(path, tenant, currency).await.unwrap();
        assert_eq!(missed.status(), 404, "{path} {tenant} {currency}");
    }

    let unmatched = api.get("/__admin/requests/unmatched").await;
    let reasons: Vec<Value> = unmatched.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["nearest"]["reasons"].clone())
        .collect();
    assert_eq!(
        reasons,
        [
            json!([r#"query `dry_run`: expected absent, got ["1"]"#]),
            json!([r#"header `x-tenant`: expected matches "acme-[0-9]+", got ["globex"]"#]),
            json!([r#"body/currency: expected "EUR", got "USD""#]),
            json!(["path: expected /api/accounts/{id}/payments, got /api/accounts/7/refunds"]),
        ]
    );
    assert_eq!(
        unmatched.body["requests"][0]["nearest"]["name"],
        "euro payment"
    );
}

#[tokio::test]
async fn verification_counts_every_call() {
    let api = Api::start();
    let id = add_stub(&api, json!({"name": "ping", "request": {"path": "/ping"}})).await;
    let none = verify(&api, &id, json!({"exactly": 0})).await;
    assert_eq!(none["pass"], true);
    for _ in 0..3 {
        api.raw(Method::GET, "/ping").send().await.unwrap();
    }
    let exactly = verify(&api, &id, json!({"exactly": 1})).await;
    assert_eq!(exactly["pass"], false);
    assert_eq!(
        exactly["message"],
        format!("stub \"ping\" ({id}) was called 3 times, expected exactly 1")
    );
    assert_eq!(
        verify(&api, &id, json!({"at_least": 3})).await["pass"],
        true
    );
    assert_eq!(
        verify(&api, &id, json!({"at_most": 2})).await["pass"],
        false
    );
    assert_eq!(
        verify(&api, &id, json!({"at_least": 1, "at_most": 3})).await["calls"],
        3
    );
    for bad in [
        json!({}),
        json!({"exactly": 1, "at_least": 1}),
        json!({"exactly": -1}),
    ] {
        let reply = api
            .post(&format!("/__admin/stubs/{id}/verify"), bad.clone())
            .await;
        assert_eq!(reply.status, 400, "{bad}");
    }
    let invocations = api.get(&format!("/__admin/stubs/{id}/requests")).await;
    assert_eq!(invocations.body["total"], 3);
    assert_eq!(invocations.body["requests"][0]["stub_id"], id.as_str());
}

#[tokio::test]
async fn the_journal_is_a_bounded_filterable_ring() {
    let api = Api::start_with(&mock_api::Config {
        journal_size: 5,
        ..mock_api::Config::default()
    });
    for i in 0..6 {
        api.get(&format!("/api/users?page={}", i + 1)).await;
    }
    api.post(
        "/api/auth/login",
        json!({"email": "nobody@example.com", "password": "x"}),
    )
    .await;
    api.get("/nowhere").await;
    let all = api.get("/__admin/requests").await;
    assert_eq!(
        (all.body["total"].as_u64(), all.body["dropped"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(all.body["capacity"], 5);
    let queries: Vec<&str> = all.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["query"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(queries, ["page=4", "page=5", "page=6", "-", "-"]);

    let posts = api.get("/__admin/requests?method=POST").await;
    assert_eq!(posts.body["requests"][0]["status"], 401);
    assert_eq!(
        posts.body["requests"][0]["body"],
        r#"{"email":"nobody@example.com","password":"x"}"#
    );
    let newest = api.get("/__admin/requests?path=/api/users&limit=1").await;
    assert_eq!(
        (
            newest.body["total"].as_u64(),
            newest.body["requests"][0]["query"].as_str()
        ),
        (Some(3), Some("page=6"))
    );
    let since = all.body["requests"][3]["id"].as_u64().unwrap();
    let later = api.get(&format!("/__admin/requests?since={since}")).await;
    assert_eq!(later.body["requests"][0]["path"], "/nowhere");
    let unmatched = api.get("/__admin/requests?served_by=unmatched").await;
    assert_eq!(unmatched.body["total"], 1);
    assert_eq!(api.get("/__admin/requests?limit=lots").await.status, 400);

    assert_eq!(api.delete("/__admin/requests").await.status, 204);
    assert_eq!(api.get("/__admin/requests").await.body["total"], 0);
    // Admin requests are never recorded.
    assert_eq!(api.get("/__admin/requests").await.body["total"], 0);
}

#[tokio::test]
async fn stubs_load_from_a_yaml_file_at_start() {
    let dir = tests::temp_dir("mock-api-stubs");
    let good = dir.join("stubs.yaml");
    std::fs::write(
        &good,
        "stubs:\n  - request: {method: GET, path: /api/flags}\n    response: {body: {dark_mode: true}}\n",
    )
    .unwrap();
    let stubs = mock_api::toolkit::stubs::load(&good).unwrap();
    let api = Api::start_with(&mock_api::Config {
        stubs,
        ..mock_api::Config::default()
    });
    let flags = api.raw(Method::GET, "/api/flags").send().await.unwrap();
    assert_eq!(
        flags.json::<Value>().await.unwrap(),
        json!({"dark_mode": true})
    );
    // A reset of everything keeps the file's stubs.
    assert_eq!(api.post("/__admin/reset", json!({})).await.status, 204);
    assert_eq!(
        api.get("/__admin/stubs").await.body["stubs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"request": {"path": "/ok"}}, {"name": "broken", "request": {"path": "nope"}}]"#,
    )
    .unwrap();
    let stderr = tests::mock_api_refuses(&[
        "--port".as_ref(),
        "0".as_ref(),
        "--stubs".as_ref(),
        bad.as_ref(),
    ]);
    assert!(
        stderr.contains("bad.json: stub 2: path `nope` must start with /"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_sequence_answers_in_turn_then_repeats_or_cycles() {
    let api = Api::start();
    let flaky = add_stub(
        &api,
        json!({
            "request": {"method": "POST", "path": "/api/payments"},
            "responses": [
                {"status": 503, "body": {"error": "busy"}},
                {"status": 201, "body": {"id": "p-1"}}
            ]
        }),
    )
    .await;
    let cycling = add_stub(
        &api,
        json!({
            "request": {"method": "GET", "path": "/light"},
            "responses": [{"body": "red"}, {"body": "green"}],
            "then": "cycle"
        }),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let reply = api.raw(Method::POST, "/api/payments").send().await.unwrap();
        statuses.push(reply.status().as_u16());
    }
    assert_eq!(statuses, [503, 201, 201]);
    let mut colours = Vec::new();
    for _ in 0..3 {
        let reply = api.raw(Method::GET, "/light").send().await.unwrap();
        colours.push(reply.text().await.unwrap());
    }
    assert_eq!(colours, ["red", "green", "red"]);
    let listed = api.get(&format!("/__admin/stubs/{cycling}")).await;
    assert_eq!(
        (
            listed.body["calls"].as_u64(),
            listed.body["position"].as_u64()
        ),
        (Some(3), Some(1))
    );
    let listed = api.get(&format!("/__admin/stubs/{flaky}")).await;
    assert_eq!(listed.body["position"].as_u64(), Some(1));
    // Both, an empty sequence, and a bad response within one: 400 naming the field.
    for (stub, message) in [
        (
            json!({"request": {"path": "/a"}, "response": {}, "responses": [{}]}),
            "not both",
        ),
        (
            json!({"request": {"path": "/a"}, "responses": []}),
            "at least one response",
        ),
        (
            json!({"request": {"path": "/a"}, "responses": [{}, {"status": 99}]}),
            "responses/1: response status 99",
        ),
    ] {
        let reply = api.post("/__admin/stubs", stub).await;
        assert_eq!(reply.status, 400, "{}", reply.text);
        assert!(reply.text.contains(message), "{}", reply.text);
    }
}

#[tokio::test]
async fn a_miss_names_the_nearest_stub_in_its_404() {
    let api = Api::start();
    let id = add_stub(
        &api,
        json!({
            "name": "page two",
            "request": {"method": "GET", "path": "/api/orders", "query": {"page": "2"}},
            "response": {"body": {"orders": []}}
        }),
    )
    .await;
    let miss = api
        .raw(Method::GET, "/api/orders?page=1")
        .send()
        .await
        .unwrap();
    assert_eq!(miss.status(), 404);
    let body: Value = miss.json().await.unwrap();
    assert_eq!(body["code"], "not_found", "{body}");
    assert_eq!(body["nearest_stub"]["id"], id.as_str());
    assert_eq!(body["nearest_stub"]["name"], "page two");
    let reasons = body["nearest_stub"]["reasons"].to_string();
    assert!(reasons.contains("page"), "{reasons}");
    // Without stubs, a 404 is the plain error body.
    api.delete(&format!("/__admin/stubs/{id}")).await;
    let plain: Value = api
        .raw(Method::GET, "/api/orders")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(plain.get("nearest_stub").is_none(), "{plain}");
}

#[tokio::test]
async fn a_template_builds_the_answer_from_the_request() {
    let api = Api::start();
    add_stub(
        &api,
        json!({
            "request": {"method": "POST", "path": "/api/orders/{id}/notes"},
            "response": {
                "status": 201,
                "headers": {"location": "/api/orders/{{ path.id }}/notes/{{ uuid }}"},
                "body": {
                    "order": "{{ path.id }}",
                    "text": "{{ body.text }}",
                    "by": "{{ headers['x-user'] }}",
                    "sort": "{{ query.sort }}",
                    "missing": "{{ body.nope }}",
                    "fixed": 1
                }
            }
        }),
    )
    .await;
    let reply = api
        .raw(Method::POST, "/api/orders/o-7/notes?sort=asc&sort=desc")
        .header("x-user", "ann")
        .json(&json!({"text": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let location = reply.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/api/orders/o-7/notes/"), "{location}");
    assert!(
        location.len() > "/api/orders/o-7/notes/".len() + 30,
        "{location}"
    );
    let body: Value = reply.json().await.unwrap();
    assert_eq!(
        body,
        json!({"order": "o-7", "text": "hello", "by": "ann", "sort": "asc", "missing": "", "fixed": 1})
    );
    // A template that cannot be, at creation: 400 naming where.
    for (body, message) in [
        (json!({"a": "{{ path.nope }}"}), "body/a: the template"),
        (json!({"a": "{{ unclosed"}), "does not parse"),
        (json!({"a": "{{ secrets }}"}), "`secrets`"),
    ] {
        let reply = api
            .post(
                "/__admin/stubs",
                json!({"request": {"path": "/x/{id}"}, "response": {"body": body}}),
            )
            .await;
        assert_eq!(reply.status, 400, "{}", reply.text);
        assert!(reply.text.contains(message), "{}", reply.text);
    }
}

#[tokio::test]
async fn strict_stubs_are_checked_against_the_served_document() {
    let api = Api::start();
    let user = json!({"id": "8f14e45f-ceea-467f-a0e6-8b9e6a3c1d2b", "email": "a@b.io", "name": "A",
                      "role": "user", "created_at": "2026-01-01T00:00:00.000Z",
                      "updated_at": "2026-01-01T00:00:00.000Z"});
    let stub = |path: &str, status: u16, body: Value| {
        json!({"strict": true, "request": {"method": "GET", "path": path},
               "response": {"status": status, "body": body}})
    };
    let fits = api
        .post("/__admin/stubs", stub("/api/users/{id}", 200, user.clone()))
        .await;
    assert_eq!(fits.status, 201, "{}", fits.body);
    let refusals = [
        (
            stub("/api/users/{id}", 200, json!({"id": 5})),
            "does not fit",
        ),
        (
            stub("/api/users/{id}", 418, user.clone()),
            "documents no 418",
        ),
        (
            stub("/api/nothing", 200, user.clone()),
            "no operation of the document",
        ),
    ];
    for (definition, reason) in refusals {
        let refused = api.post("/__admin/stubs", definition).await;
        assert_eq!(refused.status, 409, "{}", refused.body);
        assert_eq!(refused.code(), "stub_not_in_document");
        let message = refused.body["error"].as_str().unwrap();
        assert!(message.contains(reason), "{message}");
    }
    // A stub that does not ask, on a mock that does not check them all, is not checked.
    let loose = json!({"request": {"method": "GET", "path": "/api/nothing"},
                       "response": {"status": 418}});
    assert_eq!(api.post("/__admin/stubs", loose.clone()).await.status, 201);
    // With --strict-stubs, every stub is, those loaded at start included.
    let strict = mock_api::Config {
        strict_stubs: true,
        stubs: vec![serde_json::from_value(loose).unwrap()],
        ..mock_api::Config::default()
    };
    let error = mock_api::MockServer::start_with(&strict).unwrap_err();
    assert!(error.to_string().contains("no operation"), "{error}");
}

#[tokio::test]
async fn a_stub_body_is_sent_in_the_key_order_it_was_written() {
    let api = Api::start();
    let written = r#"{"zeta": 1, "alpha": {"y": true, "b": [2, 1]}, "mid": "x"}"#;
    let definition = format!(
        r#"{{"request": {{"method": "GET", "path": "/ordered"}}, "response": {{"status": 200, "body": {written}}}}}"#
    );
    let created = api
        .raw(Method::POST, "/__admin/stubs")
        .header("content-type", "application/json")
        .body(definition)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let answer = reqwest::get(api.url("/ordered")).await.unwrap();
    assert_eq!(answer.text().await.unwrap(), written);
    // The same from a YAML file: the file's order.
    let dir = tests::temp_dir("ordered-stubs");
    let file = dir.join("stubs.yaml");
    std::fs::write(
        &file,
        "- request: {method: GET, path: /ordered}\n  response:\n    body: {zeta: 1, alpha: 2}\n",
    )
    .unwrap();
    let stubs = mock_api::toolkit::stubs::load(&file).unwrap();
    let api = Api::start_with(&mock_api::Config {
        stubs,
        ..mock_api::Config::default()
    });
    let answer = reqwest::get(api.url("/ordered")).await.unwrap();
    assert_eq!(answer.text().await.unwrap(), r#"{"zeta":1,"alpha":2}"#);
    std::fs::remove_dir_all(dir).unwrap();
}
