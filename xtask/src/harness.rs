//! What the benchmarks and CI share: processes pinned to cores, servers started from their
//! binaries (their address read from the first line they print), and the bundled mock's
//! first user.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Which cores the server and the load generator run on (`taskset -c`), when there are two.
pub struct Pins {
    pub server: Option<&'static str>,
    pub load: Option<&'static str>,
    pub cores: usize,
}

impl Pins {
    pub fn detect() -> Pins {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let taskset = Command::new("taskset").arg("--version").output().is_ok();
        match cores >= 2 && taskset {
            true => Pins {
                server: Some("0"),
                load: Some("1"),
                cores,
            },
            false => Pins {
                server: None,
                load: None,
                cores,
            },
        }
    }
}

pub fn pinned(program: &Path, core: Option<&str>) -> Command {
    match core {
        Some(core) => {
            let mut command = Command::new("taskset");
            command.args(["-c", core]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// A server started from its binary, reading its address from the first line it prints.
pub struct Server {
    child: Child,
    /// `HOST:PORT`.
    pub addr: String,
    /// The path its API is served under (`/api` for a document with that base), or `""`.
    pub base: String,
}

impl Server {
    pub fn start(program: &Path, args: &[&str], core: Option<&str>) -> Result<Server> {
        let mut child = pinned(program, core)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
        let printed = line.trim().rsplit("http://").next().unwrap_or_default();
        let (addr, base) = match printed.find('/') {
            Some(at) => (&printed[..at], &printed[at..]),
            None => (printed, ""),
        };
        if addr.is_empty() {
            bail!("{} printed no address: {line:?}", program.display());
        }
        Ok(Server {
            child,
            addr: addr.to_owned(),
            base: base.to_owned(),
        })
    }

    /// A URL of the server: `path` from its root, not under its base path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The URL of its API: the root and the base path it printed.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, self.base)
    }

    /// Resident and peak resident memory, in KiB, from /proc.
    pub fn rss_kib(&self) -> Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok((field("VmRSS:"), field("VmHWM:")))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The id of the first listed user, read with a bare HTTP/1.0 request.
pub fn first_user_id(addr: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET /api/users?limit=1 HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let start = response
        .find(r#""id":""#)
        .context("no user id in the list")?
        + 6;
    Ok(response[start..start + 36].to_owned())
}

/// Median and maximum of the time from spawning `mock-api --port 0 ARGS` to its first
/// accepted connection.
pub fn measure_startup(mock: &Path, args: &[&str], runs: usize) -> Result<(f64, f64)> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let server = Server::start(mock, &[&["--port", "0"], args].concat(), None)?;
        TcpStream::connect(&server.addr)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() - 1]))
}
