//! The `mock-api` binary: `--port 0`, the listening line, graceful shutdown on SIGTERM, and
//! exit status 2 on bad usage.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn prints_the_address_serves_and_stops_on_sigterm() {
    let (mut child, url) = tests::spawn_mock(&[], Stdio::null());
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let health = reqwest::get(format!("{url}/health")).await.unwrap();
    assert_eq!(health.status(), 200);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "mock-api did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    assert!(
        reqwest::get(format!("{url}/health")).await.is_err(),
        "the port is closed"
    );
}

#[test]
fn bad_usage_exits_2_with_a_message() {
    for args in [
        &["--port", "notaport"][..],
        &["--bogus"],
        &["--host", "256.0.0.1", "--port", "0"],
    ] {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        let stderr = tests::mock_api_refuses(&args);
        assert!(
            !stderr.trim().is_empty() && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
}
