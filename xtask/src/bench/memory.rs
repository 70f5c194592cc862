//! The memory half of `cargo xtask bench`: mock-api's resident set after ordinary use
//! (10,000 users created through the API) and after filling the journal with the largest
//! request heads the server accepts, each beside the resident set at start.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::harness::{Pins, Server};

const CREATES: usize = 10_000;
const CLIENTS: usize = 4;
/// The journal's default capacity, filled with heads just under the server's 32 KiB limit.
const FILLS: usize = 10_000;
const HEADER_BYTES: usize = 31 * 1024;
/// Connections opened and left silent, past the default cap of 512.
const IDLE: usize = 600;
/// The seed of the namespace and snapshot rows.
const SEED_USERS: &str = "20000";
const NAMESPACES: usize = 1_000;
const SNAPSHOTS: usize = 100;

/// Measures; returns the section for BENCHMARKS.md.
pub fn run(mock: &Path, pins: &Pins) -> Result<String> {
    let creates = {
        let server = Server::start(mock, &["--port", "0"], pins.server)?;
        let start = server.rss_kib()?.0;
        load(&server.addr, CREATES, |i| {
            let body = format!(
                r#"{{"email":"bench{i}@memory.test","password":"pw-{i}","name":"Bench {i}"}}"#
            );
            format!(
                "POST /api/users HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        })?;
        (start, server.rss_kib()?.0)
    };
    eprintln!(
        "memory: {} KiB at start, {} KiB after {CREATES} creates",
        creates.0, creates.1
    );
    let journal = {
        let server = Server::start(mock, &["--port", "0"], pins.server)?;
        let start = server.rss_kib()?.0;
        let filler = "j".repeat(HEADER_BYTES);
        load(&server.addr, FILLS, |_| {
            format!("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Fill: {filler}\r\n\r\n")
        })?;
        (start, server.rss_kib()?.0)
    };
    eprintln!(
        "memory: {} KiB at start, {} KiB with the journal full of {HEADER_BYTES}-byte heads",
        journal.0, journal.1
    );
    let idle = {
        let server = Server::start(mock, &["--port", "0"], pins.server)?;
        let start = server.rss_kib()?.0;
        let held = (0..IDLE)
            .map(|_| TcpStream::connect(&server.addr))
            .collect::<std::io::Result<Vec<_>>>()?;
        // The server accepts what it can before the new client comes.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let started = std::time::Instant::now();
        let mut stream = TcpStream::connect(&server.addr)?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let waited = started.elapsed();
        if !answer.starts_with("HTTP/1.1 200") {
            bail!("a new client got {answer:?} while {IDLE} connections were idle");
        }
        let after = server.rss_kib()?.0;
        drop(held);
        (start, after, waited)
    };
    eprintln!(
        "memory: a new request answered in {:?} with {IDLE} idle connections",
        idle.2
    );
    // One user created in each of 1,000 namespaces: each copies the seed's index, until the
    // namespaces' budget refuses (409).
    let namespaces = {
        let server = Server::start(
            mock,
            &["--port", "0", "--extra-users", SEED_USERS],
            pins.server,
        )?;
        let start = server.rss_kib()?.0;
        let statuses = statuses(&server.addr, NAMESPACES, |i| {
            let body = format!(r#"{{"email":"ns{i}@memory.test","password":"pw-{i}","name":"N"}}"#);
            format!(
                "POST /api/users HTTP/1.1\r\nHost: localhost\r\nX-Mock-Namespace: ns{i}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        })?;
        (start, server.rss_kib()?.0, statuses)
    };
    eprintln!("memory: namespaces {namespaces:?}");
    // 100 snapshots of one namespace, a user created between each: each snapshot shares
    // what did not change; every change after one copies the index, within the budget.
    let snapshots = {
        let server = Server::start(
            mock,
            &["--port", "0", "--extra-users", SEED_USERS],
            pins.server,
        )?;
        let start = server.rss_kib()?.0;
        let statuses = statuses(&server.addr, 2 * SNAPSHOTS, |i| match i % 2 {
            0 => format!(
                "POST /__admin/snapshots/s{i} HTTP/1.1\r\nHost: localhost\r\nX-Mock-Namespace: snap\r\nContent-Length: 0\r\n\r\n"
            ),
            _ => {
                let body =
                    format!(r#"{{"email":"snap{i}@memory.test","password":"pw-{i}","name":"N"}}"#);
                format!(
                    "POST /api/users HTTP/1.1\r\nHost: localhost\r\nX-Mock-Namespace: snap\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            }
        })?;
        (start, server.rss_kib()?.0, statuses)
    };
    eprintln!("memory: snapshots {snapshots:?}");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut out = String::new();
    let _ = writeln!(out, "## mock-api memory\n");
    let _ = writeln!(
        out,
        "Resident set (VmRSS) of a release `mock-api` with the default options, at start and after the load, {CLIENTS} keep-alive clients at once. The journal keeps at most 10,000 entries and 64 MiB.\n"
    );
    let _ = writeln!(out, "| load | at start (MiB) | after (MiB) |");
    let _ = writeln!(out, "| --- | ---: | ---: |");
    let _ = writeln!(
        out,
        "| {CREATES} `POST /api/users` (each a new user, password hashed) | {:.1} | {:.1} |",
        mib(creates.0),
        mib(creates.1)
    );
    let _ = writeln!(
        out,
        "| {FILLS} `GET /health` with a {HEADER_BYTES}-byte header (the journal full of the largest heads accepted) | {:.1} | {:.1} |",
        mib(journal.0),
        mib(journal.1)
    );
    let _ = writeln!(
        out,
        "| {IDLE} connections opened and left silent (the cap is 512), then a new `GET /health`, answered in {:.1} ms (the idlest connection closed for it) | {:.1} | {:.1} |",
        idle.2.as_secs_f64() * 1000.0,
        mib(idle.0),
        mib(idle.1)
    );
    let described = |statuses: &std::collections::BTreeMap<u16, usize>| {
        statuses
            .iter()
            .map(|(status, count)| format!("{count}×{status}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "| {NAMESPACES} namespaces over a seed of {SEED_USERS} users, one `POST /api/users` in each ({}: past the namespaces' 256 MiB budget, 409) | {:.1} | {:.1} |",
        described(&namespaces.2),
        mib(namespaces.0),
        mib(namespaces.1)
    );
    let _ = writeln!(
        out,
        "| {SNAPSHOTS} snapshots of one namespace over a seed of {SEED_USERS} users, a user created after each ({}) | {:.1} | {:.1} |",
        described(&snapshots.2),
        mib(snapshots.0),
        mib(snapshots.1)
    );
    Ok(out)
}

/// Sends `count` requests over [`CLIENTS`] keep-alive connections; every answer must be 2xx.
fn load(addr: &str, count: usize, request: impl Fn(usize) -> String + Sync) -> Result<()> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let request = &request;
                scope.spawn(move || -> Result<()> {
                    let stream = TcpStream::connect(addr)?;
                    let mut reader = BufReader::new(stream.try_clone()?);
                    let mut writer = stream;
                    for i in (client..count).step_by(CLIENTS) {
                        writer.write_all(request(i).as_bytes())?;
                        let status = read_response(&mut reader)?;
                        if !(200..300).contains(&status) {
                            bail!("request {i} answered {status}");
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("a client panicked"))??;
        }
        Ok(())
    })
}

/// Sends `count` requests in turn on one keep-alive connection; how many got each status.
fn statuses(
    addr: &str,
    count: usize,
    request: impl Fn(usize) -> String,
) -> Result<std::collections::BTreeMap<u16, usize>> {
    let stream = TcpStream::connect(addr)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut seen = std::collections::BTreeMap::new();
    for i in 0..count {
        writer.write_all(request(i).as_bytes())?;
        *seen.entry(read_response(&mut reader)?).or_default() += 1;
    }
    Ok(seen)
}

/// Reads one response with a Content-Length body; returns its status.
fn read_response(reader: &mut BufReader<TcpStream>) -> Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("a status line")?;
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header == "\r\n" || header.is_empty() {
            break;
        }
        if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().context("a Content-Length")?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(status)
}
