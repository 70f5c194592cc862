//! The client end of a connection, carried by every request: its address, for the admin
//! API's loopback rule, and a control over the connection, for the faults that reset or
//! close it. The control lives in the connection's own IO ([`Connection`]), so a connection
//! costs one descriptor, not a duplicate. The IO also counts what the connection does
//! ([`Activity`]), for the server's idle deadline, and gives hyper's own bare answer to a
//! head past its buffer (414, 431) the JSON error body every other refusal has.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// What a fault asked of the connection.
const NOTHING: u8 = 0;
const RESET: u8 = 1;
const SHUT_DOWN: u8 = 2;

/// The client end of a connection.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    control: Option<Arc<AtomicU8>>,
}

impl Peer {
    /// A peer and the IO of its connection, for a freshly accepted stream.
    pub fn accept(stream: TcpStream, addr: SocketAddr) -> (Peer, Connection) {
        let control = Arc::new(AtomicU8::new(NOTHING));
        let peer = Peer {
            addr,
            control: Some(control.clone()),
        };
        let activity = Arc::new(Activity::default());
        (
            peer,
            Connection {
                stream,
                control,
                activity,
                rewriting: None,
            },
        )
    }

    /// A peer known by its address alone (connection faults then only end the response).
    pub fn without_socket(addr: SocketAddr) -> Peer {
        Peer {
            addr,
            control: None,
        }
    }

    pub fn is_loopback(&self) -> bool {
        match self.addr.ip() {
            IpAddr::V4(ip) => ip.is_loopback(),
            IpAddr::V6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|ip| ip.is_loopback())
            }
        }
    }

    /// The connection ends with a reset (RST) before anything more is written.
    pub fn reset_on_close(&self) {
        if let Some(control) = &self.control {
            control.store(RESET, Ordering::Release);
        }
    }

    /// The connection is shut down both ways before anything more is written, so the client
    /// reads an end with no reply.
    pub fn shut_down(&self) {
        if let Some(control) = &self.control {
            control.store(SHUT_DOWN, Ordering::Release);
        }
    }
}

/// What a connection has done: requests started and writes made (which only grow), and
/// requests in flight. The server closes a connection on which none of these moved for its
/// read deadline.
#[derive(Debug)]
pub struct Activity {
    progress: AtomicU64,
    in_flight: AtomicUsize,
    /// When a request last started or ended (or the connection was accepted), in
    /// milliseconds of [`now_ms`]: the server closes the connection idle the longest to
    /// admit a new one at its cap.
    last: AtomicU64,
}

impl Default for Activity {
    fn default() -> Activity {
        Activity {
            progress: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            last: AtomicU64::new(now_ms()),
        }
    }
}

/// Milliseconds since the process first asked: a clock for which connection was idle the
/// longest.
fn now_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let elapsed = START.get_or_init(std::time::Instant::now).elapsed();
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

impl Activity {
    /// A request has started; it is in flight until the guard is dropped.
    pub fn request(self: &Arc<Activity>) -> InFlight {
        self.progress.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.last.store(now_ms(), Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// How long no request has been in flight, in milliseconds; `None` while one is.
    pub fn idle_for_ms(&self) -> Option<u64> {
        (!self.busy()).then(|| now_ms().saturating_sub(self.last.load(Ordering::Relaxed)))
    }

    /// A count that moves whenever a request starts or a write is made.
    pub fn progress(&self) -> u64 {
        self.progress.load(Ordering::Relaxed)
    }

    pub fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) > 0
    }
}

/// A request in flight on a connection (see [`Activity::request`]).
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.last.store(now_ms(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's IO: the stream, what a fault asked of it, carried out at the next write
/// (the response's first byte never leaves), and its [`Activity`].
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    control: Arc<AtomicU8>,
    activity: Arc<Activity>,
    /// A bare error being written in its JSON form: the bytes, how many are out, and the
    /// length of what hyper asked to write.
    rewriting: Option<(Vec<u8>, usize, usize)>,
}

impl Connection {
    pub fn activity(&self) -> Arc<Activity> {
        self.activity.clone()
    }

    /// Writes `head` (hyper's whole write) in its JSON form if it is a bare 414 or 431;
    /// `None` when it is not one.
    fn poll_rewrite(
        &mut self,
        cx: &mut Context<'_>,
        head: &[u8],
    ) -> Option<Poll<io::Result<usize>>> {
        if self.rewriting.is_none() {
            let replacement = json_for_bare(head)?;
            self.rewriting = Some((replacement, 0, head.len()));
        }
        let (bytes, written, asked) = self.rewriting.as_mut()?;
        while *written < bytes.len() {
            match Pin::new(&mut self.stream).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => {
                    return Some(Poll::Ready(Err(io::ErrorKind::WriteZero.into())));
                }
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(error)) => return Some(Poll::Ready(Err(error))),
                Poll::Pending => return Some(Poll::Pending),
            }
        }
        let asked = *asked;
        self.rewriting = None;
        Some(Poll::Ready(Ok(asked)))
    }

    /// Carries out a fault's request, if any; the error ends the connection.
    fn fault(&self) -> io::Result<()> {
        let socket = socket2::SockRef::from(&self.stream);
        match self.control.load(Ordering::Acquire) {
            RESET => {
                // Lingering for zero seconds makes the close a reset.
                let _ = socket.set_linger(Some(std::time::Duration::ZERO));
                Err(io::ErrorKind::ConnectionReset.into())
            }
            SHUT_DOWN => {
                let _ = socket.shutdown(std::net::Shutdown::Both);
                Err(io::ErrorKind::BrokenPipe.into())
            }
            _ => Ok(()),
        }
    }
}

/// hyper's own answer to a head past its buffer or its URI limit (a 414 or 431 with no
/// body, closing the connection), as the same answer with the JSON error body: every limit
/// is answered alike, whatever the size. `None` for anything else.
fn json_for_bare(head: &[u8]) -> Option<Vec<u8>> {
    use crate::core::error::AppError;
    use crate::core::limits::{MAX_HEAD_BYTES, MAX_HEADERS, MAX_URI_BYTES};
    // Cheap enough for every write: most are not a 4xx head alone.
    if !(head.starts_with(b"HTTP/1.1 4") && head.ends_with(b"\r\n\r\n") && head.len() < 512) {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let bare = text.ends_with("\r\n\r\n")
        && text.contains("\r\nconnection: close\r\n")
        && text.contains("\r\ncontent-length: 0\r\n")
        && !text.contains("content-type");
    if !bare {
        return None;
    }
    let error = match text.get(..13)? {
        "HTTP/1.1 414 " => AppError::UriTooLong(MAX_URI_BYTES),
        "HTTP/1.1 431 " => AppError::HeadersTooLarge {
            headers: MAX_HEADERS,
            bytes: MAX_HEAD_BYTES,
        },
        _ => return None,
    };
    let body = error.json_body();
    let head = text.replacen(
        "\r\ncontent-length: 0\r\n",
        &format!(
            "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ),
        1,
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&body);
    Some(bytes)
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.control.load(Ordering::Acquire) == RESET {
            let _ =
                socket2::SockRef::from(&self.stream).set_linger(Some(std::time::Duration::ZERO));
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.fault()?;
        self.activity.progress.fetch_add(1, Ordering::Relaxed);
        if let Some(poll) = self.poll_rewrite(cx, buf) {
            return poll;
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.fault()?;
        self.activity.progress.fetch_add(1, Ordering::Relaxed);
        // hyper's bare error is its head alone, in one slice.
        if let [head] = bufs
            && let Some(poll) = self.poll_rewrite(cx, head)
        {
            return poll;
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.fault()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
