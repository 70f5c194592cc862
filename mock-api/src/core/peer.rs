//! The client end of a connection, carried by every request: its address, for the admin
//! API's loopback rule, and a control over the connection, for the faults that reset or
//! close it. The control lives in the connection's own IO ([`Connection`]), so a connection
//! costs one descriptor, not a duplicate. The IO also counts what the connection does
//! ([`Activity`]), for the server's idle deadline.

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
#[derive(Debug, Default)]
pub struct Activity {
    progress: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    /// A request has started; it is in flight until the guard is dropped.
    pub fn request(self: &Arc<Activity>) -> InFlight {
        self.progress.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
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
}

impl Connection {
    pub fn activity(&self) -> Arc<Activity> {
        self.activity.clone()
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
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.fault()?;
        self.activity.progress.fetch_add(1, Ordering::Relaxed);
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
