//! Hostile input, as an attacker, a long load run or a careless script sends it: every reply
//! is a 4xx with the JSON error body or a closed connection, every store has a bound in
//! bytes, every wait a deadline, and every start-up input a clear exit 2.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The `mock-api` binary, started with `args` on a free port; killed on drop.
struct Binary {
    child: Child,
    addr: String,
}

impl Binary {
    fn start(args: &[&str]) -> Binary {
        let (child, url) = tests::spawn_mock(args, Stdio::piped());
        let addr = url.trim_start_matches("http://").to_owned();
        Binary { child, addr }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([name, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The exit status, waiting at most `limit`.
    fn exit_within(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("mock-api did not stop within {limit:?}");
    }

    /// Resident memory in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends raw bytes and reads until the server closes (or `limit` passes): what came back
/// and how long the server took to close.
fn raw(addr: &str, bytes: &[u8], limit: Duration) -> (String, Duration) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(limit)).unwrap();
    let started = Instant::now();
    stream.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

/// Sends a request the server refuses before reading all of it, from another thread (the
/// write may fail once the server has closed), and reads what came back.
fn raw_past_the_limit(addr: &str, bytes: Vec<u8>) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&bytes);
    });
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let _ = sending.join();
    String::from_utf8_lossy(&out).into_owned()
}

async fn error_body(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON error body");
    assert!(
        body["error"].is_string() && body["code"].is_string(),
        "{body}"
    );
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_get_the_json_error_body() {
    let mock = mock_api::MockServer::start().unwrap();
    let client = reqwest::Client::new();
    let url = mock.url();
    let big = "a".repeat(40_000);
    let response = client
        .get(format!("{url}/health"))
        .header("x-big", &big)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 431).await["code"], "headers_too_large");
    let mut many = client.get(format!("{url}/health"));
    for i in 0..150 {
        many = many.header(format!("x-h{i}"), "v");
    }
    assert_eq!(
        error_body(many.send().await.unwrap(), 431).await["code"],
        "headers_too_large"
    );
    let long = format!("{url}/health?q={}", "a".repeat(9_000));
    assert_eq!(
        error_body(client.get(long).send().await.unwrap(), 414).await["code"],
        "uri_too_long"
    );
    // Past hyper's own limits (its 256 KiB buffer, its 64 KiB target), the same answers
    // with the same JSON body, and the connection closed.
    let addr = url.trim_start_matches("http://");
    for (request, status, code) in [
        (
            format!(
                "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "a".repeat(1_200_000)
            ),
            "431",
            "headers_too_large",
        ),
        (
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)),
            "414",
            "uri_too_long",
        ),
    ] {
        let answer = raw_past_the_limit(addr, request.into_bytes());
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{answer}"
        );
        assert!(
            answer.contains("content-type: application/json"),
            "{answer}"
        );
        let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["code"], code, "{answer}");
    }
    // The journal never holds a head past the limit: the largest allowed ones, many times,
    // stay within its byte budget (checked by the bench's memory rows); here, its listing.
    let head = "b".repeat(30_000);
    for _ in 0..150 {
        client
            .get(format!("{url}/health"))
            .header("x-fill", &head)
            .send()
            .await
            .unwrap();
    }
    let listing = client
        .get(format!("{url}/__admin/requests"))
        .send()
        .await
        .unwrap();
    let listing: Value = listing.json().await.unwrap();
    assert_eq!(
        listing["requests"].as_array().unwrap().len(),
        100,
        "a default limit"
    );
    let over = client
        .get(format!("{url}/__admin/requests?limit=5000"))
        .send()
        .await
        .unwrap();
    error_body(over, 400).await;
    let unmatched = client
        .get(format!("{url}/__admin/requests/unmatched?limit=101"))
        .send()
        .await
        .unwrap();
    error_body(unmatched, 400).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_have_byte_and_work_bounds() {
    let mock = mock_api::MockServer::start().unwrap();
    let client = reqwest::Client::new();
    let url = mock.url();
    let headers: serde_json::Map<String, Value> = (0..40)
        .map(|i| (format!("x-h{i}"), json!({"matches": "a+"})))
        .collect();
    let stub = json!({"request": {"method": "GET", "path": "/x", "headers": headers}, "response": {"status": 200}});
    let refused = client
        .post(format!("{url}/__admin/stubs"))
        .json(&stub)
        .send()
        .await
        .unwrap();
    assert!(
        error_body(refused, 400).await["error"]
            .as_str()
            .unwrap()
            .contains("at most 32")
    );
    let rule = json!({"method": "GET", "path": format!("/{}", "p".repeat(20_000)), "status": 503});
    let refused = client
        .post(format!("{url}/__admin/faults"))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert!(
        error_body(refused, 400).await["error"]
            .as_str()
            .unwrap()
            .contains("bytes")
    );
    // The rule cap answers 409, as the admin contract documents.
    let mut last = None;
    for i in 0..=mock_api::toolkit::faults::MAX_RULES {
        let rule = json!({"method": "GET", "path": format!("/r{i}"), "status": 503});
        last = Some(
            client
                .post(format!("{url}/__admin/faults"))
                .json(&rule)
                .send()
                .await
                .unwrap(),
        );
    }
    assert_eq!(error_body(last.unwrap(), 409).await["code"], "fault_limit");
}

/// A stub over the matcher cap is refused on its shape, before any of its patterns is
/// compiled (a bad one among them is not even read), and a pattern is compiled within a
/// bound: one that would take more memory than it is refused, not built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_are_checked_before_any_pattern_is_compiled() {
    let mock = mock_api::MockServer::start().unwrap();
    let client = reqwest::Client::new();
    let url = mock.url();
    let post = |stub: Value| {
        client
            .post(format!("{url}/__admin/stubs"))
            .json(&stub)
            .send()
    };
    let mut headers: serde_json::Map<String, Value> = (0..150)
        .map(|i| (format!("x-h{i:03}"), json!({"matches": "\\w{500}"})))
        .collect();
    headers.insert("x-h000".to_owned(), json!({"matches": "("}));
    let stub = json!({"request": {"method": "GET", "path": "/x", "headers": headers}, "response": {"status": 200}});
    let refused = error_body(post(stub).await.unwrap(), 400).await;
    let message = refused["error"].as_str().unwrap();
    assert!(message.contains("at most 32"), "{message}");
    let huge = json!({"request": {"method": "GET", "path": "/x", "headers": {"x-a": {"matches": "\\w{5000}"}}}, "response": {"status": 200}});
    let refused = error_body(post(huge).await.unwrap(), 400).await;
    let message = refused["error"].as_str().unwrap();
    assert!(message.contains("regular expression"), "{message}");
    let long = json!({"request": {"method": "GET", "path": "/x", "query": {"q": {"matches": "a".repeat(5000)}}}, "response": {"status": 200}});
    let refused = error_body(post(long).await.unwrap(), 400).await;
    assert!(refused["error"].as_str().unwrap().contains("bytes"));
    let fine = json!({"request": {"method": "GET", "path": "/x", "query": {"q": {"matches": "[a-z]+"}}}, "response": {"status": 200}});
    assert_eq!(post(fine).await.unwrap().status(), 201);
    // The stubs that were refused left nothing behind.
    let list: Value = client
        .get(format!("{url}/__admin/stubs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["stubs"].as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_refuses_web_pages_and_rebound_names() {
    let mock = mock_api::MockServer::start().unwrap();
    let client = reqwest::Client::new();
    let reset = format!("{}/__admin/reset", mock.url());
    let port = mock.addr().port();
    let cases: [(&str, String); 4] = [
        ("origin", "http://evil.example".to_owned()),
        ("origin", "null".to_owned()),
        ("sec-fetch-site", "cross-site".to_owned()),
        ("host", format!("rebind.evil.example:{port}")),
    ];
    for (name, value) in cases {
        let response = client
            .post(&reset)
            .header(name, &value)
            .header("content-type", "text/plain")
            .send()
            .await
            .unwrap();
        let body = error_body(response, 403).await;
        assert_eq!(body["code"], "admin_forbidden", "{name}: {value}");
    }
    for (name, value) in [
        ("origin", format!("http://localhost:{port}")),
        ("host", format!("localhost:{port}")),
        ("host", format!("127.0.0.1:{port}")),
        ("sec-fetch-site", "same-origin".to_owned()),
    ] {
        let response = client
            .post(&reset)
            .header(name, &value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "{name}: {value}");
    }
    // With a token, the token decides.
    let config = mock_api::Config {
        admin_token: Some("t0ken".to_owned()),
        ..mock_api::Config::default()
    };
    let guarded = mock_api::MockServer::start_with(&config).unwrap();
    let response = client
        .post(format!("{}/__admin/reset", guarded.url()))
        .header("origin", "http://tool.example")
        .bearer_auth("t0ken")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_at_the_end_of_the_calendar_changes_nothing_by_half() {
    let mock = mock_api::MockServer::start().unwrap();
    let client = reqwest::Client::new();
    let url = mock.url();
    let set = client
        .post(format!("{url}/__admin/clock"))
        .json(&json!({"now": "9999-12-31T23:59:59.999Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let users: Value = client
        .get(format!("{url}/api/users?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = users["items"][0]["id"].as_str().unwrap().to_owned();
    for name in ["First Rename", "Second Rename"] {
        let put = client
            .put(format!("{url}/api/users/{id}"))
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200, "an update at the last millisecond");
        let found: Value = client
            .get(format!(
                "{url}/api/users?search={}",
                name.replace(' ', "%20")
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found["total"], 1, "{found}");
    }
    let advance = client
        .post(format!("{url}/__admin/clock"))
        .json(&json!({"advance_ms": 1000}))
        .send()
        .await
        .unwrap();
    error_body(advance, 400).await;
    let offset = client
        .post(format!("{url}/__admin/clock"))
        .json(&json!({"now": "9999-12-31T23:00:00-05:00"}))
        .send()
        .await
        .unwrap();
    error_body(offset, 400).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_keep_to_http() {
    let mock = mock_api::MockServer::start().unwrap();
    let client = reqwest::Client::new();
    let url = mock.url();
    let users: Value = client
        .get(format!("{url}/api/users?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = users["items"][0]["id"].as_str().unwrap();
    let deleted = client
        .delete(format!("{url}/api/users/{id}"))
        .header("prefer", "fault=malformed")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(
        deleted.headers().get("preference-applied").is_none(),
        "nothing was applied"
    );
    assert_eq!(deleted.bytes().await.unwrap().len(), 0, "a 204 has no body");
    let head = client
        .head(format!("{url}/health"))
        .header("prefer", "fault=reset")
        .send()
        .await;
    assert!(head.is_err(), "a reset HEAD gets no answer: {head:?}");
}

#[test]
fn half_sent_and_idle_connections_are_closed() {
    let mock = Binary::start(&["--read-timeout", "1"]);
    let (reply, took) = raw(
        &mock.addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(5),
    );
    assert!(
        reply.is_empty() && took < Duration::from_secs(4),
        "{reply:?} after {took:?}"
    );
    let (reply, took) = raw(
        &mock.addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(
        reply.starts_with("HTTP/1.1 200") && took < Duration::from_secs(4),
        "{reply:?} after {took:?}"
    );
    let (reply, took) = raw(
        &mock.addr,
        b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em",
        Duration::from_secs(5),
    );
    assert!(
        reply.contains(" 408 ") && reply.contains("request_timeout"),
        "{reply:?}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

/// Connections that were opened and sent nothing fill the cap; a new client is still
/// answered, long before any of them reaches its idle deadline: the connection idle the
/// longest makes room for it.
#[test]
fn idle_connections_at_the_cap_make_room_for_a_new_client() {
    let mock = Binary::start(&["--max-connections", "8", "--read-timeout", "120"]);
    let idle: Vec<TcpStream> = (0..12)
        .map(|_| TcpStream::connect(&mock.addr).unwrap())
        .collect();
    // A client that waits well below the idle deadline (120 s): before eviction, it got
    // nothing until then.
    for _ in 0..3 {
        let (answer, _) = raw(
            &mock.addr,
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration::from_secs(30),
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    }
    drop(idle);
}

/// At the cap, a connection that sends nothing is closed after a short grace rather than
/// the whole `--read-timeout`, which makes room for the next client.
#[test]
fn a_full_server_closes_idle_connections_soon() {
    let mock = Binary::start(&["--max-connections", "4", "--read-timeout", "120"]);
    let mut idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(&mock.addr).unwrap())
        .collect();
    // Well below the idle deadline (120 s): before the grace, nothing came until then.
    let deadline = Instant::now() + Duration::from_secs(30);
    let closed = loop {
        let closed = idle.iter_mut().position(|stream| {
            stream
                .set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            let mut byte = [0u8; 1];
            match stream.read(&mut byte) {
                Ok(0) => true,
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
                Ok(_) => false,
            }
        });
        if closed.is_some() || Instant::now() > deadline {
            break closed;
        }
    };
    assert!(
        closed.is_some(),
        "no idle connection of the full server was closed"
    );
}

#[test]
fn a_slow_answer_is_not_an_idle_connection() {
    // The idle deadline counts only while no request is in flight, its answer included until
    // it is written out: a delay, or a body dribbled out with pauses, longer than the
    // deadline still arrives whole.
    let dir = tests::temp_dir("slow-answer");
    let stubs = dir.join("stubs.json");
    std::fs::write(
        &stubs,
        r#"[{"request": {"method": "GET", "path": "/tiny"}, "response": {"body": "ok"}}]"#,
    )
    .unwrap();
    let mock = Binary::start(&["--read-timeout", "1", "--stubs", stubs.to_str().unwrap()]);
    // `"ok"` is four bytes, so four chunks: a pause of a second and a half between them.
    for (path, prefer) in [
        ("/health", "delay=2500"),
        ("/tiny", "fault=slow, dribble=4500"),
    ] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nPrefer: {prefer}\r\nConnection: close\r\n\r\n"
        );
        let (reply, took) = raw(&mock.addr, request.as_bytes(), Duration::from_secs(10));
        assert!(reply.starts_with("HTTP/1.1 200"), "{prefer}: {reply:?}");
        let whole = reply.ends_with('}') || reply.ends_with("k\r\n0\r\n\r\n");
        assert!(whole, "{prefer}: the whole body: {reply:?}");
        assert!(took >= Duration::from_secs(2), "{prefer}: {took:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn shutdown_has_a_deadline_and_a_second_signal_forces_it() {
    let park = |mock: &Binary| {
        let mut stream = TcpStream::connect(&mock.addr).unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nPrefer: delay=60000\r\n\r\n")
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        stream
    };
    let mut mock = Binary::start(&["--shutdown-grace", "1"]);
    let _parked = park(&mock);
    mock.signal("-TERM");
    assert_eq!(mock.exit_within(Duration::from_secs(5)), Some(0));
    let mut mock = Binary::start(&["--shutdown-grace", "60"]);
    let _parked = park(&mock);
    mock.signal("-TERM");
    std::thread::sleep(Duration::from_millis(300));
    mock.signal("-TERM");
    assert_eq!(mock.exit_within(Duration::from_secs(5)), Some(1));
}

/// With 20,000 seed users, each namespace used to copy them all (11 MB) at its first
/// request, and each snapshot too. Now they share the seed: namespaces that read cost next
/// to nothing, one that writes copies the index of the users, not the users, and a snapshot
/// shares what did not change.
#[test]
fn namespaces_share_the_seed_data() {
    let mock = Binary::start(&["--extra-users", "20000"]);
    let mut stream = TcpStream::connect(&mock.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut send = |request: String, status: &str| {
        stream.write_all(request.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.contains(status), "{line}");
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            if header == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
    };
    let before = mock.rss_kib();
    for i in 0..40 {
        send(
            format!(
                "GET /api/users?limit=1 HTTP/1.1\r\nHost: x\r\nX-Mock-Namespace: read{i}\r\n\r\n"
            ),
            " 200 ",
        );
    }
    let reads_mib = mock.rss_kib().saturating_sub(before) / 1024;
    assert!(
        reads_mib < 16,
        "40 namespaces that read grew the resident set by {reads_mib} MiB"
    );
    let before = mock.rss_kib();
    for i in 0..20 {
        let body = format!(r#"{{"email":"n{i}@share.test","password":"pw-{i}","name":"N"}}"#);
        send(
            format!(
                "POST /api/users HTTP/1.1\r\nHost: x\r\nX-Mock-Namespace: write{i}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
            " 201 ",
        );
    }
    let writes_mib = mock.rss_kib().saturating_sub(before) / 1024;
    // 20 whole copies were 220 MB; 20 copies of the index are a fraction of that.
    assert!(
        writes_mib < 110,
        "20 namespaces that wrote grew the resident set by {writes_mib} MiB"
    );
    // Snapshots share what did not change: 20 of one namespace, a user created after each,
    // were 20 whole copies too.
    let before = mock.rss_kib();
    for i in 0..20 {
        send(
            format!(
                "POST /__admin/snapshots/s{i} HTTP/1.1\r\nHost: localhost\r\nX-Mock-Namespace: write0\r\nContent-Length: 0\r\n\r\n"
            ),
            " 201 ",
        );
        let body = format!(r#"{{"email":"s{i}@share.test","password":"pw-{i}","name":"S"}}"#);
        send(
            format!(
                "POST /api/users HTTP/1.1\r\nHost: x\r\nX-Mock-Namespace: write0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
            " 201 ",
        );
    }
    let snapshots_mib = mock.rss_kib().saturating_sub(before) / 1024;
    assert!(
        snapshots_mib < 110,
        "20 snapshots grew the resident set by {snapshots_mib} MiB"
    );
}

#[test]
fn memory_stays_flat_while_users_are_created() {
    let mock = Binary::start(&[]);
    let create = |i: usize, stream: &mut TcpStream| {
        let body = format!(r#"{{"email":"m{i}@flat.test","password":"pw-{i}","name":"M"}}"#);
        let request = format!(
            "POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.contains(" 201 "), "{status}");
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
    };
    let before = mock.rss_kib();
    // Four clients at once, as a load test would: each hash's work area used to be left
    // behind in the allocator's per-thread heaps.
    std::thread::scope(|scope| {
        for client in 0..4 {
            let addr = mock.addr.clone();
            scope.spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                for i in 0..200 {
                    create(client * 1000 + i, &mut stream);
                }
            });
        }
    });
    let grown_mib = mock.rss_kib().saturating_sub(before) / 1024;
    assert!(
        grown_mib < 48,
        "800 users grew the resident set by {grown_mib} MiB"
    );
}

#[test]
fn start_up_inputs_are_checked() {
    let dir = tests::temp_dir("hostile-start");
    let data = dir.join("users.json");
    std::fs::write(
        &data,
        r#"[{"email": "user2@load.test", "password": "p", "name": "Twin"}]"#,
    )
    .unwrap();
    let far = dir.join("far.json");
    std::fs::write(&far, r#"[{"email": "a@b.io", "password": "p", "name": "A", "created_at": "9999-12-31T23:59:59-01:00"}]"#).unwrap();
    let cases: [(Vec<&std::ffi::OsStr>, &str); 5] = [
        (
            vec!["--admin-token".as_ref(), "héllo".as_ref()],
            "visible ASCII",
        ),
        (
            vec!["--extra-users".as_ref(), "99999999999".as_ref()],
            "0..=1000000",
        ),
        (
            vec!["--clock".as_ref(), "9999-12-31T23:00:00-05:00".as_ref()],
            "out of range",
        ),
        (
            vec![
                "--data".as_ref(),
                data.as_os_str(),
                "--extra-users".as_ref(),
                "5".as_ref(),
            ],
            "user2@load.test",
        ),
        (vec!["--data".as_ref(), far.as_os_str()], "out of range"),
    ];
    for (args, expect) in cases {
        let stderr = tests::mock_api_refuses(&args);
        assert!(
            stderr.contains(expect) && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn merge_refuses_counts_past_u64_and_impossible_statuses() {
    let dir = tests::temp_dir("hostile-merge");
    let report = |name: &str, successes: u64, status: &str| {
        let path = dir.join(name);
        let text = json!({"raw_metrics": {"duration": 1, "requests": {"GET /x": {
            "method": "Get", "path": "/x", "success_count": successes, "fail_count": 0,
            "status_code_counts": {status: successes},
            "raw_data": {"times_us": {"1000": 1}, "minimum_time_us": 1000, "maximum_time_us": 1000,
                         "total_time_us": 1000, "counter": 1}}}}});
        std::fs::write(&path, text.to_string()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let huge = report("huge.json", u64::MAX, "200");
    let one = report("one.json", 1, "200");
    let odd = report("odd.json", 1, "70000");
    for (args, expect) in [
        (
            vec![huge.as_str(), one.as_str()],
            "past what can be counted",
        ),
        (vec![odd.as_str()], "70000"),
    ] {
        let output = Command::new(tests::binary("loadgen"))
            .arg("merge")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expect), "{stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_where_every_request_failed_exits_1() {
    let router = axum::Router::new()
        .fallback(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down") });
    let addr = tests::planted::serve(router).await;
    let host = format!("http://{addr}");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(tests::binary("loadgen"))
            .args([
                "--host",
                &host,
                "--users",
                "2",
                "--increase-rate",
                "2",
                "--run-time",
                "2",
                "--quiet",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("every one of the"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_fails_its_case_and_the_run_ends() {
    const SPEC: &str = r#"
openapi: 3.1.0
info: {title: endless, version: "1"}
paths:
  /endless:
    get:
      responses:
        "200": {description: all of it, content: {application/json: {schema: {type: array}}}}
"#;
    let chunk = axum::body::Bytes::from(vec![b' '; 64 * 1024]);
    let router = axum::Router::new().route(
        "/endless",
        axum::routing::get(move || {
            let chunk = chunk.clone();
            async move {
                let stream = futures_util::stream::repeat_with(move || {
                    Ok::<_, std::io::Error>(chunk.clone())
                });
                (
                    [("content-type", "application/json")],
                    axum::body::Body::from_stream(stream),
                )
            }
        }),
    );
    let addr = tests::planted::serve(router).await;
    let mut options = tests::contract_options(&format!("http://{addr}"), 3, 5);
    options.max_response_size = 1 << 20;
    let report = tests::run_contract(SPEC, options).await;
    over_the_limit(&report, "the endless body fails");
}

/// The failure of a body past the 1 MiB limit of the tests that set one.
fn over_the_limit<'r>(report: &'r contract::Report, what: &str) -> &'r contract::report::Failure {
    let failure = report
        .failures
        .iter()
        .find(|f| f.check == "not_a_server_error")
        .expect(what);
    assert!(
        failure
            .message
            .contains("larger than the limit of 1048576 bytes"),
        "{}",
        failure.message
    );
    failure
}

/// A server that answers gzip when asked (`Accept-Encoding: gzip`) and plain JSON otherwise;
/// what it compresses is `body`. The counter is of the requests that asked.
async fn serve_gzip(
    body: Vec<u8>,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&body).unwrap();
    let compressed = axum::body::Bytes::from(encoder.finish().unwrap());
    let plain = axum::body::Bytes::from(body);
    let asked = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let router = axum::Router::new().route(
        "/packed",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let (compressed, plain, asked) = (compressed.clone(), plain.clone(), asked.clone());
            async move {
                let gzip = headers
                    .get("accept-encoding")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("gzip"));
                if gzip {
                    asked.fetch_add(1, Ordering::Relaxed);
                    (
                        [
                            ("content-type", "application/json"),
                            ("content-encoding", "gzip"),
                        ],
                        compressed,
                    )
                } else {
                    (
                        [("content-type", "application/json"), ("x-plain", "yes")],
                        plain,
                    )
                }
            }
        }),
    );
    (tests::planted::serve(router).await, counter)
}

const PACKED: &str = r#"
openapi: 3.1.0
info: {title: packed, version: "1"}
paths:
  /packed:
    get:
      responses:
        "200": {description: numbers, content: {application/json: {schema: {type: array, items: {type: integer}}}}}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_body_is_inflated_only_when_the_request_accepted_it() {
    use std::sync::atomic::Ordering;
    let (addr, asked) = serve_gzip(b"[1, 2, 3]".to_vec()).await;
    // By default nothing asks for compression.
    let report = tests::run_contract(
        PACKED,
        tests::contract_options(&format!("http://{addr}"), 3, 5),
    )
    .await;
    assert!(report.failures.is_empty() && report.cases > 0);
    assert_eq!(asked.load(Ordering::Relaxed), 0);
    // Asked for, it is inflated and judged as JSON.
    let mut options = tests::contract_options(&format!("http://{addr}"), 3, 5);
    options.headers = vec![("Accept-Encoding".to_owned(), "gzip".to_owned())];
    let report = tests::run_contract(PACKED, options).await;
    assert!(
        report.failures.is_empty(),
        "{}",
        contract::report::terminal(&report)
    );
    assert!(asked.load(Ordering::Relaxed) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_fails_its_case_within_the_bound() {
    // 64 MiB of one byte packs into about 64 KiB; the bound is 1 MiB.
    let (addr, _) = serve_gzip(vec![b' '; 64 << 20]).await;
    let mut options = tests::contract_options(&format!("http://{addr}"), 3, 3);
    options.headers = vec![("Accept-Encoding".to_owned(), "gzip".to_owned())];
    options.max_response_size = 1 << 20;
    let report = tests::run_contract(PACKED, options).await;
    let failure = over_the_limit(&report, "the bomb fails its case");
    // The curl line shows exactly what was sent.
    assert!(
        failure.curl.contains("-H 'Accept-Encoding: gzip'"),
        "{}",
        failure.curl
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_that_never_answers_is_skipped_with_one_failure() {
    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: half, version: "1"}
paths:
  /hangs/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200": {description: never, content: {application/json: {schema: {type: object}}}}
  /fine:
    get:
      responses:
        "200": {description: yes, content: {application/json: {schema: {type: object}}}}
"#;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hung = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hung.clone();
    let router = axum::Router::new()
        .route(
            "/hangs/{id}",
            axum::routing::get(move || {
                counter.fetch_add(1, Ordering::Relaxed);
                std::future::pending::<axum::Json<Value>>()
            }),
        )
        .route(
            "/fine",
            axum::routing::get(|| async { axum::Json(json!({})) }),
        );
    let addr = tests::planted::serve(router).await;
    let mut options = tests::contract_options(&format!("http://{addr}"), 3, 50);
    options.request_timeout = Duration::from_millis(200);
    options.concurrency = 2;
    let report = tests::run_contract(SPEC, options).await;
    let stopped: Vec<_> = report
        .failures
        .iter()
        .filter(|f| f.message.contains("stopped answering"))
        .collect();
    assert_eq!(stopped.len(), 1, "{}", contract::report::terminal(&report));
    assert_eq!(stopped[0].operation, "GET /hangs/{id}");
    assert!(stopped[0].message.contains("remaining cases were skipped"));
    // The rest of its cases were not sent; the other operation was checked in full.
    assert!(hung.load(Ordering::Relaxed) < 20, "{hung:?} requests");
    let fine = report
        .operations
        .iter()
        .find(|o| o.operation == "GET /fine")
        .unwrap();
    assert!(fine.cases >= 50, "{} cases", fine.cases);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_operation_is_not_asked_the_same_twice() {
    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: slow, version: "1"}
paths:
  /slow:
    get:
      responses:
        "200": {description: late, content: {application/json: {schema: {type: object}}}}
"#;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let router = axum::Router::new().route(
        "/slow",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                axum::Json(json!({}))
            }
        }),
    );
    let addr = tests::planted::serve(router).await;
    let mut options = tests::contract_options(&format!("http://{addr}"), 3, 100);
    options.concurrency = 2;
    options
        .settings
        .enabled
        .insert(contract::checks::Check::MaxResponseTime);
    options.settings.max_response_time = Some(Duration::from_millis(10));
    let report = tests::run_contract(SPEC, options).await;
    assert_eq!(
        tests::found(&report),
        [("max_response_time".to_owned(), "GET /slow".to_owned())].into()
    );
    // Every case of GET /slow is the same request: once it was slow, the answer is known.
    let seen = seen.load(Ordering::Relaxed);
    assert!(seen < 20, "{seen} requests for 100 identical cases");
}

#[test]
fn an_encoding_the_checker_cannot_inflate_is_a_usage_error() {
    let output = Command::new(tests::binary("contract"))
        .args([
            "check",
            "--target",
            "http://127.0.0.1:9",
            "-H",
            "Accept-Encoding: gzip, br",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\"br\""), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_token_that_cannot_be_sent_stops_the_run_before_any_case() {
    let router = axum::Router::new().route(
        "/login",
        axum::routing::post(|| async { axum::Json(json!({"token": "line\nbreak"})) }),
    );
    let addr = tests::planted::serve(router).await;
    let login = contract::auth::Login::parse("POST /login", json!({}), "/token").unwrap();
    let api = openapi::parse(tests::planted::SPEC).unwrap();
    let options = tests::contract_options(&format!("http://{addr}"), 1, 5);
    let result = contract::run(
        std::sync::Arc::new(api),
        std::sync::Arc::new(options),
        std::sync::Arc::new(contract::auth::Auth::new(Some(login))),
        |_| {},
    )
    .await;
    let error = result.expect_err("the run does not start").to_string();
    assert!(error.contains("cannot be sent in a header"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_dies_halfway_ends_the_run_with_one_failure() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    // Thirty answers, then it hangs on everything, as a crashed upstream behind a proxy does.
    let router =
        tests::planted::app(tests::planted::Defects::default()).layer(axum::middleware::from_fn(
            |request: axum::extract::Request, next: axum::middleware::Next| async move {
                if SEEN.fetch_add(1, Ordering::Relaxed) >= 30 {
                    std::future::pending::<()>().await;
                }
                next.run(request).await
            },
        ));
    let addr = tests::planted::serve(router).await;
    let mut options = tests::contract_options(&format!("http://{addr}"), 2, 100);
    options.request_timeout = Duration::from_millis(300);
    // What may be unanswered: the requests in flight when it died, and the streak that
    // tells it is dead.
    let bound = (options.workers * options.concurrency + 8) as u64;
    let report = tests::run_contract(tests::planted::SPEC, options).await;
    let down: Vec<_> = report
        .failures
        .iter()
        .filter(|f| f.message.contains("stopped answering"))
        .collect();
    assert_eq!(down.len(), 1, "{}", contract::report::terminal(&report));
    let unanswered: u64 = report.operations.iter().map(|o| o.transport_errors).sum();
    assert!(
        unanswered <= bound,
        "{unanswered} requests were sent to a dead target"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_that_says_when_to_come_back_is_waited_out() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static REFUSED_ONCE: AtomicBool = AtomicBool::new(false);
    let router =
        tests::planted::app(tests::planted::Defects::default()).layer(axum::middleware::from_fn(
            |request: axum::extract::Request, next: axum::middleware::Next| async move {
                if !REFUSED_ONCE.swap(true, Ordering::Relaxed) {
                    let headers = [("retry-after", "1"), ("content-type", "application/json")];
                    return axum::response::IntoResponse::into_response((
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        headers,
                        r#"{"error": "slow down"}"#,
                    ));
                }
                next.run(request).await
            },
        ));
    let addr = tests::planted::serve(router).await;
    let report = tests::run_contract(
        tests::planted::SPEC,
        tests::contract_options(&format!("http://{addr}"), 4, 5),
    )
    .await;
    assert!(
        REFUSED_ONCE.load(Ordering::Relaxed),
        "the target refused one request"
    );
    let statuses: Vec<u16> = report
        .operations
        .iter()
        .flat_map(|o| o.statuses.keys().copied())
        .collect();
    assert!(
        !statuses.contains(&429),
        "the refused request was sent again: {statuses:?}"
    );
}
