//! Framework-level errors: every one has the JSON error body.

use reqwest::Method;
use tests::Api;

#[tokio::test]
async fn unknown_routes_are_404_with_the_error_body() {
    let api = Api::start();
    for path in ["/", "/nope", "/api", "/api/users/1/extra", "/API/USERS"] {
        let reply = api.get(path).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found"), "{path}");
        assert_eq!(reply.body["error"], format!("no route for GET {path}"));
    }
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let api = Api::start();
    let cases = [
        (Method::PATCH, "/api/users", "GET,HEAD,POST"),
        (
            Method::POST,
            "/api/users/00000000-0000-4000-8000-000000000000",
            "GET,HEAD,PUT,DELETE",
        ),
        (Method::GET, "/api/auth/login", "POST"),
        (Method::DELETE, "/health", "GET,HEAD"),
        (Method::GET, "/__admin/reset", "POST"),
    ];
    for (method, path, allow) in cases {
        let reply = api.send(method.clone(), path, None, &[]).await;
        assert_eq!(
            (reply.status, reply.code()),
            (405, "method_not_allowed"),
            "{method} {path}"
        );
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn bodies_must_be_json_objects_of_at_most_one_mebibyte() {
    let api = Api::start();
    let raw = |content_type: Option<&str>, body: Vec<u8>| {
        let mut request = api.client.post(api.url("/api/users")).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        api.exchange(request)
    };
    let valid = br#"{"email":"j@example.org","password":"p","name":"J"}"#.to_vec();
    let reply = raw(None, valid.clone()).await;
    assert_eq!(
        (reply.status, reply.code()),
        (415, "unsupported_media_type")
    );
    let reply = raw(Some("text/plain"), valid.clone()).await;
    assert_eq!(
        (reply.status, reply.code()),
        (415, "unsupported_media_type")
    );
    for malformed in [&b"{"[..], b"", b"{\"email\":}", b"nul", b"{\"a\":1}x"] {
        let reply = raw(Some("application/json"), malformed.to_vec()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "malformed_json"),
            "{:?}",
            String::from_utf8_lossy(malformed)
        );
    }
    let mut big = br#"{"email":"big@example.org","password":"p","name":""#.to_vec();
    big.resize(mock_api::core::limits::BODY_LIMIT + 1, b'x');
    big.extend_from_slice(br#""}"#);
    let reply = raw(Some("application/json"), big).await;
    assert_eq!((reply.status, reply.code()), (413, "payload_too_large"));
    let reply = raw(Some("application/json; charset=utf-8"), valid).await;
    assert_eq!(reply.status, 201, "a charset parameter is fine");
    assert_eq!(api.server.items(), 3);
}
